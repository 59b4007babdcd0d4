"""Query understanding: typo correction and likelihood-weighted readings of a query.

``Understander(catalog).understand(raw)`` maps query spans onto entity types, catalog
fields (artist / title / album names) and attributes (genre, mood, decade, language).
Several readings may stand at once ("love" -> a title word, the genre "love songs", the
artist "Lovelace"); each carries a likelihood = match quality x prior of that reading.
It never raises, whatever the string.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from ltrr_core.catalog.schema import Catalog
from ltrr_core.base import snapshot
from ltrr_core.base.snapshot import pack_strings, unpack_strings
from ltrr_core.understanding.query import Correction, Interpretation, QueryUnderstanding
from ltrr_core.understanding.text import STOPWORDS, normalize
from ltrr_core.understanding.vocabulary import (
    DECADE_LONG,
    DECADE_SHORT,
    DECADE_WORDS,
    FILLERS,
    LANGUAGE_HINTS,
    LANGUAGE_NAMES,
    SCRIPT_LANGUAGES,
    TYPE_WORDS,
    YEAR,
    detect_script,
    english_words,
)

MAX_ANALYZED_TOKENS = 32  # tokens beyond this are kept as typed and not interpreted
MAX_SPAN = 4  # longest n-gram looked up as a catalog name
MAX_CORRECTED_TOKENS = 4  # typo correction looks at the first tokens only (bounded cost)
MAX_FUZZY_SPANS = 4  # fuzzy artist-name lookups per query (bounded cost)
MIN_FUZZY_LEN = 4
FUZZY_NAME_CUTOFF = 85.0  # fuzz.ratio cutoff for multi-token spans against artist names
MAX_ARTISTS_PER_TOKEN = 3
MAX_INTERPRETATIONS = 40
# query words too generic to read as a name or title word on their own
ARTIST_RANK_DECAY = 0.25  # "taylor" -> Taylor Swift before Teyana Taylor: a popularity prior over names
# reading -> prior likelihood
PRIORS = {
    "artist_exact": 0.95, "artist_token": 0.6, "artist_prefix": 0.2,
    "title_exact": 0.8, "title_exact_word": 0.5, "title_word": 0.35,
    "album_exact": 0.7, "album_exact_word": 0.45,
    "genre_exact": 0.9, "genre_token": 0.55, "mood_exact": 0.8, "mood_token": 0.5,
    "decade": 0.9, "year": 0.5, "language": 0.85, "script": 0.5, "type_in_name": 0.6, "nested": 0.6,
}


_normalize_word = lru_cache(maxsize=200_000)(lambda word: normalize(word, None))


@lru_cache(maxsize=200_000)
def normalize_name(text: str) -> str:
    """``normalize(text, None)`` computed word by word with a per-word cache (fast over a catalog)."""
    return " ".join(filter(None, map(_normalize_word, text.split())))


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


VOCABULARIES = ("artists", "titles", "albums", "genres", "moods")
SNAPSHOT_KIND, SNAPSHOT_VERSION = "understander", 1


@dataclass
class CatalogTables:
    """What the understander reads from a catalog (one pass over it; the rest derives from these):
    per vocabulary its keys, canonical spellings and weights (insertion order kept), word document
    frequencies, description words, entities per decade, languages and entity types present."""

    vocabularies: dict[str, _NameVocabulary]
    word_df: Counter[str]
    description_words: set[str]
    decades: Counter[int]
    languages: set[str]
    types_present: set[str]

    @classmethod
    def collect(cls, catalog: Catalog) -> "CatalogTables":
        vocab = {name: _NameVocabulary() for name in VOCABULARIES}
        artists, titles, albums = vocab["artists"], vocab["titles"], vocab["albums"]
        word_df: Counter[str] = Counter()
        known: set[str] = set()
        years: Counter[int] = Counter()
        languages: set[str] = set()
        for e in catalog:
            weight = e.popularity + 1e-6
            if e.creator:
                artists.add(e.creator, weight)
            if e.type == "artist":
                artists.add(e.title, weight + 1.0)
            else:
                titles.add(e.title, weight)
            if e.type == "album":
                albums.add(e.title, weight)
            if e.album:
                albums.add(e.album, weight)
            for genre in e.genres:
                vocab["genres"].add(genre, 1.0)
            for mood in e.moods:
                vocab["moods"].add(mood, 1.0)
            if e.language:
                languages.add(e.language)
            if e.year:
                years[e.year // 10 * 10] += 1
            named = " ".join((e.title, e.creator, e.album, " ".join(e.genres), " ".join(e.moods)))
            word_df.update(set(normalize_name(named).split()))
            if e.description:
                known.update(normalize_name(e.description).split())
        return cls(vocab, word_df, known, years, languages, {e.type for e in catalog})

    def save(self, directory: Path, n: int) -> None:
        """A snapshot (:mod:`ltrr_core.base.snapshot`) for a catalog of ``n`` entities."""
        arrays: dict[str, np.ndarray] = {}
        sizes: dict[str, int] = {}
        for name, vocab in self.vocabularies.items():
            keys = list(vocab.canonical)
            arrays[f"{name}.keys"] = pack_strings(keys)
            arrays[f"{name}.names"] = pack_strings([vocab.canonical[k] for k in keys])
            arrays[f"{name}.weights"] = np.array([vocab.weight[k] for k in keys], dtype=np.float64)
            sizes[name] = len(keys)
        words = list(self.word_df)
        arrays["word_df.words"] = pack_strings(words)
        arrays["word_df.counts"] = np.array([self.word_df[w] for w in words], dtype=np.int64)
        arrays["description_words"] = pack_strings(sorted(self.description_words))
        arrays["decades"] = np.array(sorted(self.decades.items()), dtype=np.int64).reshape(-1, 2)
        snapshot.save(directory, SNAPSHOT_KIND, SNAPSHOT_VERSION, n, arrays, sizes=sizes, words=len(words),
                      description_words=len(self.description_words), languages=sorted(self.languages),
                      types_present=sorted(self.types_present))

    @classmethod
    def load(cls, directory: Path, n: int) -> "CatalogTables | None":
        """The tables :meth:`save` wrote for a catalog of ``n`` entities, or None (absent, other
        version or size, corrupt)."""
        found = snapshot.load(directory, SNAPSHOT_KIND, SNAPSHOT_VERSION, n)
        if found is None:
            return None
        arrays, extra = found
        try:
            vocab = {}
            for name in VOCABULARIES:
                size = extra["sizes"][name]
                keys = unpack_strings(arrays[f"{name}.keys"], size)
                weights = arrays[f"{name}.weights"]
                if len(weights) != size:
                    return None
                vocab[name] = _NameVocabulary(dict(zip(keys, unpack_strings(arrays[f"{name}.names"], size))),
                                              dict(zip(keys, weights.tolist())))
            words = unpack_strings(arrays["word_df.words"], extra["words"])
            counts = arrays["word_df.counts"]
            if len(counts) != len(words):
                return None
            description = set(unpack_strings(arrays["description_words"], extra["description_words"]))
            decades = Counter({int(d): int(c) for d, c in arrays["decades"].tolist()})
            return cls(vocab, Counter(dict(zip(words, counts.tolist()))), description, decades,
                       set(extra["languages"]), set(extra["types_present"]))
        except (KeyError, ValueError, TypeError):
            return None


class Understander:
    """Vocabularies built once from a catalog (or its :class:`CatalogTables` snapshot);
    ``understand`` reads a query against them."""

    def __init__(self, catalog: Catalog, cache_size: int = 4096, tables: CatalogTables | None = None) -> None:
        tables = tables or CatalogTables.collect(catalog)
        vocab = tables.vocabularies
        self.artists, self.titles, self.albums = vocab["artists"], vocab["titles"], vocab["albums"]
        self.genres, self.moods = vocab["genres"], vocab["moods"]
        word_df, languages = tables.word_df, tables.languages
        self.artists.index_tokens(MAX_ARTISTS_PER_TOKEN)
        self.genres.index_tokens()
        self.moods.index_tokens()
        self.types_present = tables.types_present
        self.title_words = {w for key in self.titles.canonical for w in key.split()}
        self.decades_present = tables.decades
        self.languages = self._language_keys(languages)
        self.language_by_code = {
            code: value for value in sorted(languages) for code, names in LANGUAGE_NAMES.items()
            if value.strip().lower() == code or normalize(value) in names
        }
        self.word_df = word_df
        known = tables.description_words
        self.known = known | english_words() | set(word_df) | set(TYPE_WORDS) | set(DECADE_WORDS) | set(STOPWORDS)
        self.known |= {k for k in self.languages}
        self.word_source = self._word_sources()
        self._by_length: dict[int, list[str]] = defaultdict(list)
        for word in word_df:
            if word.isalpha() and len(word) >= MIN_FUZZY_LEN - 1:
                self._by_length[len(word)].append(word)
        self._artist_tokens = sorted(self.artists.by_token)
        self._artists_by_length = sorted(self.artists.canonical, key=len)  # a length range is one slice
        self._correct = lru_cache(maxsize=cache_size)(self._correct_token)
        self._fuzzy_artist = lru_cache(maxsize=cache_size)(self._fuzzy_artist_span)
        self._cached = lru_cache(maxsize=cache_size)(self._understand)

    @classmethod
    def load_or_build(cls, catalog: Catalog, directory: Path) -> "Understander":
        """From the catalog's snapshot in ``directory`` when it is readable, else built (and saved there)."""
        tables = CatalogTables.load(directory, len(catalog))
        if tables is None:
            tables = CatalogTables.collect(catalog)
            tables.save(directory, len(catalog))
        return cls(catalog, tables=tables)

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
        names = self._artists_by_length[bisect_left(self._artists_by_length, low, key=len):
                                        bisect_right(self._artists_by_length, high, key=len)]
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
        if m := DECADE_LONG.match(text):
            return [(f"{m.group(1)}s", PRIORS["decade"])]
        if m := YEAR.match(text):
            return [(f"{int(m.group(1)) // 10 * 10}s", PRIORS["year"])]
        short = int(m.group(1)) if (m := DECADE_SHORT.match(text)) else DECADE_WORDS.get(text)
        if short is None:
            return []
        options = [1900 + short, 2000 + short]
        present = [d for d in options if self.decades_present.get(d)]
        if not present:
            return [(f"{1900 + short if short >= 30 else 2000 + short}s", PRIORS["decade"])]
        total = sum(self.decades_present[d] for d in present)
        return [(f"{d}s", PRIORS["decade"] * (0.5 + 0.5 * self.decades_present[d] / total)) for d in present]
