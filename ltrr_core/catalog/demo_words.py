"""The demo generator's vocabulary: genres, moods, languages, name syllables, title words, podcast topics."""

from __future__ import annotations

GENRES = (
    "pop", "rock", "hip hop", "country", "jazz", "classical", "electronic", "r&b", "latin",
    "metal", "folk", "indie", "k-pop", "j-pop", "blues", "reggae", "soul", "punk", "ambient",
    "love songs",
)
GENRE_WEIGHTS = (14, 12, 11, 7, 5, 4, 8, 6, 7, 4, 5, 7, 4, 2, 3, 2, 3, 3, 2, 4)
GENRE_LABEL = {"hip hop": "Hip Hop", "r&b": "R&B", "k-pop": "K-Pop", "j-pop": "J-Pop", "love songs": "Love Songs"}
MOODS = (
    "happy", "sad", "chill", "energetic", "romantic", "melancholic", "dreamy", "angry",
    "uplifting", "nostalgic", "dark", "peaceful",
)
GENRE_MOODS = {
    "pop": ("happy", "energetic", "romantic", "uplifting"), "rock": ("energetic", "angry", "nostalgic", "sad"),
    "hip hop": ("energetic", "dark", "angry", "happy"), "country": ("nostalgic", "sad", "happy", "romantic"),
    "jazz": ("chill", "romantic", "melancholic", "peaceful"), "classical": ("peaceful", "melancholic", "dreamy", "uplifting"),
    "electronic": ("energetic", "dreamy", "happy", "dark"), "r&b": ("romantic", "chill", "sad", "dreamy"),
    "latin": ("happy", "romantic", "energetic", "uplifting"), "metal": ("angry", "dark", "energetic", "melancholic"),
    "folk": ("nostalgic", "peaceful", "melancholic", "sad"), "indie": ("dreamy", "melancholic", "chill", "happy"),
    "k-pop": ("happy", "energetic", "romantic", "uplifting"), "j-pop": ("happy", "dreamy", "energetic", "nostalgic"),
    "blues": ("sad", "melancholic", "nostalgic", "chill"), "reggae": ("chill", "happy", "uplifting", "peaceful"),
    "soul": ("romantic", "uplifting", "sad", "nostalgic"), "punk": ("angry", "energetic", "happy", "dark"),
    "ambient": ("peaceful", "dreamy", "chill", "melancholic"), "love songs": ("romantic", "sad", "dreamy", "happy"),
}
GENRE_SOUND = {
    "pop": ("glossy synths and a big chorus", "handclaps and a bright hook"), "rock": ("distorted guitars", "pounding drums and a guitar solo"),
    "hip hop": ("a heavy 808 beat", "sampled soul loops and sharp verses"), "country": ("pedal steel and acoustic guitar", "fiddle and a storytelling verse"),
    "jazz": ("brushed drums and upright bass", "a muted trumpet solo"), "classical": ("a string quartet", "solo piano"),
    "electronic": ("pulsing synthesizers", "a four-on-the-floor groove"), "r&b": ("smooth vocals over a slow groove", "warm keys and layered harmonies"),
    "latin": ("reggaeton rhythms", "congas and bright brass"), "metal": ("double-kick drums and growled vocals", "down-tuned riffs"),
    "folk": ("fingerpicked guitar and banjo", "close harmonies"), "indie": ("jangly guitars", "lo-fi drums and hazy vocals"),
    "k-pop": ("slick choreography-ready beats", "a genre-hopping bridge"), "j-pop": ("sparkling synths and a soaring chorus", "city-pop bass lines"),
    "blues": ("slide guitar", "a shuffling twelve-bar groove"), "reggae": ("offbeat skanks and deep bass", "dub echoes"),
    "soul": ("a horn section and gospel backing vocals", "Hammond organ"), "punk": ("three chords at full speed", "shouted gang vocals"),
    "ambient": ("slow-evolving drones", "field recordings and soft pads"), "love songs": ("a tender piano ballad", "strings swelling under the vocal"),
}
GENRE_LANGUAGES = {"k-pop": (("ko", 1.0),), "j-pop": (("ja", 1.0),), "latin": (("es", 0.7), ("pt", 0.3))}
DEFAULT_LANGUAGES = (("en", 0.72), ("es", 0.07), ("pt", 0.04), ("fr", 0.06), ("de", 0.05), ("ko", 0.03), ("ja", 0.03))
LANGUAGE_NAME = {"en": "English", "es": "Spanish", "pt": "Portuguese", "fr": "French", "de": "German", "ko": "Korean", "ja": "Japanese"}

SYLLABLES = (
    "ka ma li ra no ve sa ti lo da mi ren jo el an ar bel cor dan fen gal har is jun kel lan mar "
    "nel or per quin ros sel tor ul val wen zan yor zel bri cal dor ev fin gra hel ivo"
).split()
FIRST_ENDINGS = ("a", "o", "e", "", "n", "ie", "el")
SURNAME_ENDINGS = ("son", "ley", "berg", "ton", "ez", "ova", "elli", "ard", "ford", "stein", "wood", "ski", "ani", "er")
ACCENTED_FIRST = ("Zoé", "Inès", "Björn", "Anaïs", "Mónica", "José", "Renée", "Jürgen", "Noémie", "Joaquín", "Ana Lúcia", "Søren")
ACCENTED_LAST = ("Lefèvre", "Muñoz", "Ström", "Gonçalves", "Dubé", "Fernández", "Núñez", "Östberg", "Jáuregui", "Brontë")
KOREAN_WORDS = ("하늘", "별빛", "소리", "바다", "달빛", "민준", "서연", "지우", "노을", "은하")
JAPANESE_WORDS = ("月光", "サクラ", "ミナ", "ハルカ", "夜空", "青い鳥", "ユウキ", "ひかり", "風街", "ソラ")
BAND_ADJ = ("Velvet", "Electric", "Silver", "Midnight", "Paper", "Neon", "Golden", "Wild", "Hollow", "Crimson", "Lucky", "Broken", "Quiet", "Distant", "Northern", "Copper")
BAND_NOUN = ("Foxes", "Engines", "Lanterns", "Ghosts", "Rivers", "Owls", "Satellites", "Harbors", "Tigers", "Mirrors", "Kites", "Echoes", "Pilots", "Wolves", "Roses", "Comets")
STAGE_PREFIX = ("DJ", "MC", "Lil", "Yung", "Big", "Kid")

TITLE_WORDS = {
    "en": {
        "adj": ("Midnight", "Golden", "Electric", "Broken", "Wild", "Silent", "Burning", "Neon", "Summer", "Lonely", "Sweet", "Cold", "Endless", "Paper", "Crystal", "Blue", "Faded", "Velvet", "Hidden", "Last", "Little", "Open", "Restless", "Slow"),
        "noun": ("Rain", "Hearts", "Fire", "Dreams", "Lights", "Roads", "Ocean", "Stars", "Love", "Shadows", "Heaven", "Thunder", "Sky", "Waves", "Letters", "Gold", "Mirror", "River", "Dance", "Echo", "Garden", "Highway", "Morning", "Night", "Promise", "Satellite", "Storm", "Window"),
        "verb": ("Hold", "Call", "Take", "Find", "Save", "Wake", "Show", "Meet", "Lead", "Tell", "Kiss", "Carry", "Chase", "Love"),
        "adv": ("Home", "Slowly", "Tonight", "Again", "Closer", "Back", "Away", "Forever", "Higher", "Down"),
    },
    "es": {"noun": ("Corazón", "Noche", "Fuego", "Luna", "Amor", "Sol", "Mar", "Calle", "Sueño", "Vida", "Cielo", "Baile", "Lluvia", "Verano"), "join": ("de", "sin", "y")},
    "pt": {"noun": ("Saudade", "Coração", "Mar", "Noite", "Lua", "Amor", "Cidade", "Sol", "Rio", "Sonho", "Janela", "Verão"), "join": ("de", "e", "sem")},
    "fr": {"noun": ("Nuit", "Cœur", "Ciel", "Rêve", "Amour", "Mer", "Ville", "Lumière", "Été", "Étoile", "Pluie", "Danse"), "join": ("et", "sans", "de")},
    "de": {"noun": ("Nacht", "Herz", "Himmel", "Traum", "Liebe", "Meer", "Stadt", "Licht", "Sommer", "Stern", "Regen", "Feuer"), "join": ("und", "ohne")},
    "ko": {"noun": ("사랑", "밤", "별", "꿈", "바다", "하늘", "눈물", "봄", "여름", "우리", "빛", "비"), "join": ("의",)},
    "ja": {"noun": ("夜", "桜", "夢", "空", "恋", "雨", "光", "星", "海", "心", "風", "月"), "join": ("の",)},
}
ALBUM_SUFFIXES = ("", "", "", "", " (Deluxe Edition)", " EP", " Vol. 2", " (Live)", " Sessions", " - Single")

PLAYLIST_SUFFIXES = ("", " Mix", " Essentials", " Vibes", " Evenings", " Hits", " Favorites")
ACTIVITIES = (
    ("Workout", "tracks to push through your workout"), ("Road Trip", "songs for long drives with the windows down"),
    ("Study", "background tracks for reading and revision"), ("Rainy Day", "songs for grey skies and warm tea"),
    ("Dinner Party", "easy listening for hosting friends"), ("Late Night", "after-hours listening"),
    ("Morning Commute", "a gentle start to the working day"), ("Sunday Morning", "slow songs for a lazy weekend"),
)
CURATORS = ("LTR&R Editors", "LTR&R Editors", "LTR&R Editors", "crate_digger", "mixtape_mara", "nightowl", "dj_pablo", "sofia.listens")

PODCAST_TOPICS = (
    ("true crime", "unsolved cases and courtroom drama", ("the missing heiress", "a forged painting", "the night train robbery", "a cold case reopened", "the jury's doubt", "an alibi that cracked")),
    ("history", "forgotten moments of world history", ("the fall of Constantinople", "the Silk Road traders", "the printing press", "Roman engineering", "the Hanseatic League", "the first census")),
    ("technology", "software, startups and the future of computing", ("open-source maintainers", "chip shortages", "the first web browser", "robots in warehouses", "quantum computers", "password managers")),
    ("music industry", "how records get made, promoted and streamed", ("royalties explained", "the producer's chair", "touring on a budget", "vinyl's comeback", "writing a hit chorus", "mastering engineers")),
    ("comedy", "improvised comedy and silly interviews", ("the worst job interview", "a wedding gone wrong", "pets with opinions", "bad first impressions", "holiday disasters", "the office fridge")),
    ("science", "experiments, discoveries and the scientists behind them", ("deep-sea creatures", "the immune system", "volcano forecasting", "the smell of rain", "CRISPR", "sleep research")),
    ("cooking", "recipes, chefs and kitchen techniques", ("knife skills", "the perfect omelette", "street food in Bangkok", "spice blends", "one-pot dinners", "pickling vegetables")),
    ("football", "matches, transfers and tactics", ("the pressing game", "transfer deadline day", "goalkeeper psychology", "derby nights", "youth academies", "the offside rule")),
    ("mental health", "anxiety, therapy and everyday wellbeing", ("panic attacks", "burnout", "journaling", "talking to a therapist", "loneliness", "digital detox")),
    ("business", "founders, markets and money decisions", ("raising a seed round", "pricing a product", "family businesses", "layoffs", "franchise economics", "negotiating a raise")),
    ("film", "movies, directors and what makes a scene work", ("practical effects", "film noir", "the montage", "documentary ethics", "sound design", "the opening shot")),
    ("travel", "slow travel and places off the map", ("night trains across Europe", "Patagonia on foot", "island hopping", "travelling solo", "street markets", "mountain huts")),
    ("parenting", "raising kids and keeping your sense of humour", ("toddler tantrums", "screen time", "bedtime routines", "teenagers and phones", "school choices", "sibling rivalry")),
    ("gardening", "vegetable patches, houseplants and compost", ("tomato blight", "balcony gardens", "composting", "seed saving", "pruning roses", "native wildflowers")),
    ("language learning", "learning languages as an adult", ("Spanish verbs", "immersion trips", "flashcards", "accents", "learning Korean", "bilingual kids")),
    ("politics", "elections, policy and the people in power", ("swing voters", "campaign finance", "local councils", "polling errors", "debate night", "housing policy")),
)
PODCAST_ON_TOPIC = ("{T} Weekly", "The {T} Hour", "{T} Unpacked", "All About {T}", "{T} Tonight", "Inside {T}")
PODCAST_OPAQUE_ADJ = ("Loose", "Open", "Hidden", "Late", "Bright", "Slow", "Second", "Little", "Common", "Parallel", "Tall", "Quiet")
PODCAST_OPAQUE_NOUN = ("Threads", "Window", "Compass", "Kettle", "Lantern", "Harbor", "Ladder", "Orchard", "Signal", "Porch", "Atlas", "Bench")
