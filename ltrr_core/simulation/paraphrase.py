"""The semantic sampler: a paraphrase of a podcast, playlist or episode description; same-topic items are relevant."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from ltrr_core.catalog.hard_cases import HARD_CASES
from ltrr_core.selection.context import Context
from ltrr_core.simulation.catalog_view import CatalogView, Urn
from ltrr_core.simulation.intents import Intent, TrafficConfig
from ltrr_core.understanding.text import STOPWORDS, analyze

PARAPHRASES: dict[str, tuple[str, ...]] = {
    # podcast topics
    "unsolved cases and courtroom drama": ("murder mysteries and trials", "detectives chasing killers"),
    "forgotten moments of world history": ("what happened centuries ago", "empires kings and ancient battles"),
    "software, startups and the future of computing": ("tech founders and coding", "silicon valley and programming"),
    "how records get made, promoted and streamed": ("behind the scenes of producing albums", "musicians earning royalties"),
    "improvised comedy and silly interviews": ("funny chats that make you laugh", "hilarious banter"),
    "experiments, discoveries and the scientists behind them": ("laboratory research explained", "curious facts about nature and physics"),
    "recipes, chefs and kitchen techniques": ("learning to cook meals", "food and culinary tips"),
    "matches, transfers and tactics": ("soccer analysis", "premier league talk"),
    "anxiety, therapy and everyday wellbeing": ("coping with stress", "psychology for feeling better"),
    "founders, markets and money decisions": ("entrepreneurship and finance", "investing and companies"),
    "movies, directors and what makes a scene work": ("cinema analysis", "hollywood filmmaking"),
    "slow travel and places off the map": ("backpacking adventures abroad", "exploring remote destinations"),
    "raising kids and keeping your sense of humour": ("mums and dads with toddlers", "advice for new parents"),
    "vegetable patches, houseplants and compost": ("growing tomatoes at home", "allotment and soil tips"),
    "learning languages as an adult": ("becoming fluent in spanish", "grammar and vocabulary practice"),
    "elections, policy and the people in power": ("government and voting", "parliament and campaigns news"),
    # playlist activities
    "tracks to push through your workout": ("gym motivation", "pump up for lifting weights"),
    "songs for long drives with the windows down": ("highway cruising", "car journey soundtrack"),
    "background tracks for reading and revision": ("concentration while doing homework", "focus for exams"),
    "songs for grey skies and warm tea": ("cozy drizzly afternoon", "cloudy weather comfort"),
    "easy listening for hosting friends": ("guests coming over for supper", "entertaining at home"),
    "after-hours listening": ("music at 2am", "when everyone is asleep"),
    "a gentle start to the working day": ("on the bus to the office", "calm early commute"),
    "slow songs for a lazy weekend": ("relaxed saturday brunch", "unhurried sunday"),
    # moods (playlists "the best {mood} {genre} tracks", stations "endless stream of {mood} music")
    "happy": ("cheerful", "joyful"),
    "sad": ("heartbreak", "tearjerkers"),
    "chill": ("laid back", "mellow"),
    "energetic": ("high energy", "upbeat"),
    "romantic": ("date night", "for couples"),
    "melancholic": ("bittersweet", "wistful"),
    "dreamy": ("ethereal", "floaty"),
    "angry": ("furious", "rage"),
    "uplifting": ("inspiring", "feel good"),
    "nostalgic": ("throwback", "memories of youth"),
    "dark": ("brooding", "gloomy"),
    "peaceful": ("calm", "serene"),
    # genres
    "hip hop": ("rap",),
    "rock": ("guitar bands",),
    "electronic": ("edm", "techno and house"),
    "classical": ("orchestral", "symphonies"),
    "r&b": ("rhythm and blues",),
    "latin": ("reggaeton and salsa",),
    "metal": ("headbanging", "heavy riffs"),
    "folk": ("acoustic singer songwriter",),
    "country": ("nashville", "cowboy"),
    "jazz": ("swing and bebop", "saxophone"),
    "ambient": ("drone soundscapes",),
    "k-pop": ("korean idols",),
    "j-pop": ("japanese idols",),
    "reggae": ("jamaican",),
    "punk": ("mosh pit",),
    "love songs": ("ballads about romance",),
    # common topic words (episode subjects, other catalogs)
    "sourdough": ("homemade loaves",),
    "fermentation": ("pickling and brewing",),
    "baking": ("making bread",),
    "nurses": ("hospital staff",),
    "paramedics": ("ambulance crews",),
    "runners": ("joggers",),
    "marathon": ("long distance races",),
    "budgeting": ("managing household spending",),
    "taxes": ("irs returns",),
    "astronomers": ("stargazers",),
    "space exploration": ("nasa missions",),
    "telescopes": ("observatories",),
    "planets": ("solar system worlds",),
    "dating": ("romance and relationships",),
    "breakups": ("getting dumped",),
    "vinyl": ("lp records",),
    "piano": ("keys and ivories",),
    "studying": ("revision for exams",),
    "cooking": ("preparing a meal",),
    "dinner": ("evening meal",),
    "robots": ("automation machines",),
    "immune system": ("how the body fights germs",),
    "volcano": ("lava and eruptions",),
    "burnout": ("exhaustion at work",),
    "loneliness": ("feeling isolated",),
    "composting": ("turning scraps into soil",),
    "toddler": ("little kids",),
    "football": ("soccer",),
    "goalkeeper": ("keeper between the posts",),
    "elections": ("voting",),
    "documentary": ("nonfiction filmmaking",),
    "omelette": ("eggs for breakfast",),
    "knife skills": ("chopping vegetables",),
    "startups": ("young companies",),
    "quantum computers": ("qubits",),
    "password managers": ("online account security",),
    "royalties": ("how artists get paid",),
    "seed round": ("early investors",),
    "panic attacks": ("sudden anxiety",),
    "therapist": ("counselling sessions",),
}
_PARAPHRASE_KEYS = re.compile(r"(?<![\w-])(" + "|".join(re.escape(k) for k in sorted(PARAPHRASES, key=len, reverse=True)) + r")(?![\w-])")
SEMANTIC_TYPES = ("podcast", "playlist", "episode")
SEMANTIC_TEMPLATES: dict[str, tuple[str, ...]] = {
    "podcast": ("{x}", "podcast about {x}", "a show on {x}", "{x} talk"),
    "playlist": ("{x}", "music for {x}", "{x} songs", "{x} mix"),
    "episode": ("{x}", "episode about {x}", "{x} interview"),
}
SEMANTIC_FALLBACK_TYPES = ("document",)  # non-music catalogs (BEIR): paraphrase documents instead
DESCRIPTION_LEAD = 600  # long descriptions (abstracts) are paraphrased from their first characters only


_WORDS = re.compile(r"[^\W\d_]+")  # fast word split for long descriptions (no accent folding needed there)


@lru_cache(maxsize=8192)
def _stems(text: str) -> frozenset[str]:
    return frozenset(analyze(text))


class SemanticSampler:
    """A paraphrase of a podcast / playlist / episode description, sharing no stem with its title.

    Uses the catalog's planted paraphrases (``HARD_CASES['description_only']``) when present,
    else the ``PARAPHRASES`` table over the description; falls back to description keywords
    that are not in the title (other catalogs).
    """

    def __init__(self, view: CatalogView, config: TrafficConfig) -> None:
        self.view = view
        self.broad_size = config.broad_size
        self.planted = {i: q for i, q in HARD_CASES.get("description_only", ()) if i in view.catalog}
        positions = view.positions_of_types(SEMANTIC_TYPES)
        use_table = bool(len(positions))  # the table speaks music/podcast English; documents get keywords
        if not use_table:
            positions = view.positions_of_types(SEMANTIC_FALLBACK_TYPES)
        self.keys: dict[int, list[str]] = {}
        keyworded = []
        for p in positions.tolist():
            entity = view.entities[p]
            if entity.id in self.planted:
                self.keys[p] = []
            elif entity.description:
                lead = entity.description[:DESCRIPTION_LEAD].lower() if use_table else ""
                found = list(dict.fromkeys(_PARAPHRASE_KEYS.findall(lead)))
                if found:
                    self.keys[p] = found
                elif len(entity.description) >= 20:
                    keyworded.append(p)
        chosen = np.array(sorted(self.keys) if self.keys else keyworded, dtype=np.int64)
        self.same_topic: dict[tuple[str, frozenset[str]], list[str]] = {}
        for p, keys in self.keys.items():
            if keys:
                entity = view.entities[p]
                self.same_topic.setdefault((entity.type, frozenset(keys)), []).append(entity.id)
        self._wording: dict[int, tuple[list[list[str]], list[str], list[str]]] = {}
        self.urn = Urn(chosen, 0.05 + view.popularity[chosen])
        self.unavailable = None if len(chosen) else "no podcast, playlist, episode or document with a description"

    def draw(self, rng: np.random.Generator, context: Context) -> Intent:
        for _ in range(10):
            position = self.urn.draw(rng)
            entity = self.view.entities[position]
            if entity.id in self.planted:
                query, how = self.planted[entity.id], "planted"
            else:
                query, how = self._paraphrase(position, rng)
            if query:
                return Intent("semantic", query, entity.id, self._relevant(position), context, attribute=f"paraphrase={how}")
        raise RuntimeError("semantic: no paraphrasable description after 10 draws")

    def _relevant(self, position: int) -> frozenset[str]:
        """The target plus up to ``broad_size`` same-type entities on exactly the same topics:
        whoever asks for 'how the body fights germs' is served by any immune-system episode."""
        entity = self.view.entities[position]
        peers = self.same_topic.get((entity.type, frozenset(self.keys.get(position, ()))), ())
        if not peers:
            return frozenset({entity.id})
        ranked = sorted(peers, key=lambda i: -self.view.popularity[self.view.catalog.position[i]])
        return frozenset({entity.id, *ranked[: self.broad_size]})

    def _wording_of(self, position: int) -> tuple[list[list[str]], list[str], list[str]]:
        """Per description key the paraphrases sharing no stem with the entity's text, the
        templates that share none either, and the description keywords not in the title (cached)."""
        if position not in self._wording:
            entity = self.view.entities[position]
            lead = entity.description[:DESCRIPTION_LEAD]
            per_key: list[list[str]] = []
            templates: list[str] = []
            if self.keys.get(position):
                taken = _stems(entity.title) | _stems(lead) | _stems(entity.creator)
                per_key = [[p for p in PARAPHRASES[k] if not _stems(p) & taken] for k in self.keys[position]]
                templates = [t for t in SEMANTIC_TEMPLATES[entity.type] if not _stems(t.format(x="")) & taken]
            # a cheap match, stricter than shared stems: no keyword starts like a title word
            heads = {w[:3] for w in _WORDS.findall(entity.title.lower()) if len(w) >= 3 and w not in STOPWORDS}
            words = [w for w in dict.fromkeys(_WORDS.findall(lead.lower())) if len(w) >= 4 and w not in STOPWORDS and w[:3] not in heads]
            self._wording[position] = ([o for o in per_key if o], templates, words)
        return self._wording[position]

    def _paraphrase(self, position: int, rng: np.random.Generator) -> tuple[str, str]:
        per_key, templates, words = self._wording_of(position)
        if per_key:
            order = rng.permutation(len(per_key))[: 1 + int(rng.random() < 0.3)]
            phrase = " and ".join(per_key[j][int(rng.integers(len(per_key[j])))] for j in order.tolist())
            return templates[int(rng.integers(len(templates)))].format(x=phrase), "table"
        if not words:
            return "", ""
        start = int(rng.integers(max(1, len(words) - 2)))
        return " ".join(words[start : start + 3]), "keywords"
