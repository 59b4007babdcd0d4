"""The Q2E memory of the seed article: per (normalized query, entity) scores.

Cold start: each entity gets *predicted* queries from its metadata (its title, "creator title",
its creator, "genre songs"/"mood playlist" phrases, rare description keywords) with a predicted
score in [0.3, 0.6]. Feedback (impressions, clicks, thumbs) turns a pair into an *observed* one
whose score is Beta-smoothed clicks over expected clicks, with the prediction as the prior mean,
so observed evidence supersedes the prediction as it accumulates. An impression counts only as
far as the user likely examined its rank (:mod:`ltrr_core.base.examination`): a result
nobody scrolled to is no evidence against it. Observed statistics are the feedback store's
aggregate of the log (loaded at start, then the rows logged since added as they come, by whichever
process logged them); :meth:`MemoryIndex.fork` gives a sandboxed run the same
cold start without them. A pair that was never predicted and
only shown (or disliked), never clicked, is kept but not retrieved: the memory recalls what
users chose, not what other strategies happened to show.

Lookup: keys equal to the query text score similarity 1; other keys sharing tokens with it
(an inverted index from tokens to keys) score their token Jaccard similarity (stopwords aside,
capped at 0.9), kept when >= 0.5. An entity's score is the best ``similarity * pair score``.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from itertools import count
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ltrr_core.catalog.schema import Catalog, Entity
from ltrr_core.retrieval.candidates import top_k
from ltrr_core.base import snapshot
from ltrr_core.base.snapshot import KeyedRows, pack_strings, unpack_strings
from ltrr_core.understanding.text import STOPWORDS, normalize, tokenize
from ltrr_core.understanding.vocabulary import TYPES

TITLE_SCORE = 0.5
CREATOR_TITLE_SCORE = 0.5
TITLE_CREATOR_SCORE = 0.45
CREATOR_SCORE = 0.35
ALBUM_SCORE = 0.3
PHRASE_SCORE = 0.3
KEYWORD_SCORE = 0.3
POPULARITY_BONUS = 0.1  # predicted score += bonus * popularity (popular items get clicked more)
KEYWORDS_PER_ENTITY = 4
MAX_PREDICTED_PER_KEY = 200
PRIOR_STRENGTH = 2.0  # pseudo-observations behind the prior (the predicted score)
UNPREDICTED_PRIOR = 0.2
MIN_SIMILARITY = 0.5
PARTIAL_CAP = 0.9  # a partial key match never counts as much as the exact query
MAX_PARTIAL_KEYS = 20

SNAPSHOT_KIND, SNAPSHOT_VERSION = "memory", 1
NO_KEYS, NO_SCORES = np.empty(0, np.int64), np.empty(0, np.float64)

COUNTS = ("examined", "clicks", "thumbs_up", "thumbs_down")


@dataclass(frozen=True)
class PairStats:
    """Feedback totals for one (query, entity) pair, as the feedback store aggregates them.

    ``examined`` is the pair's expected number of examinations: each impression adds the
    examination probability of its rank (:func:`~ltrr_core.base.examination.examination`)."""

    query: str
    entity_id: str
    examined: float = 0.0
    clicks: int = 0
    thumbs_up: int = 0
    thumbs_down: int = 0

    def __post_init__(self) -> None:
        for name in COUNTS:
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: {getattr(self, name)} must be >= 0")

    def __add__(self, other: "PairStats") -> "PairStats":
        return PairStats(
            self.query, self.entity_id, self.examined + other.examined, self.clicks + other.clicks,
            self.thumbs_up + other.thumbs_up, self.thumbs_down + other.thumbs_down,
        )

    def score(self, prior: float) -> float:
        """Beta-smoothed clicks over expected clicks: clicks and thumbs up succeed; examinations
        without a click and thumbs down fail; thumbs count double; ``prior`` is the Beta prior's mean."""
        successes = self.clicks + 2 * self.thumbs_up
        failures = max(self.examined - self.clicks, 0.0) + 2 * self.thumbs_down
        return (prior * PRIOR_STRENGTH + successes) / (PRIOR_STRENGTH + successes + failures)


def _as_pair_stats(row: PairStats | Mapping[str, Any] | Any) -> PairStats:
    if isinstance(row, PairStats):
        return row
    get = row.get if isinstance(row, Mapping) else (lambda name, default=None: getattr(row, name, default))
    query = get("query") or get("normalized_query") or ""
    return PairStats(normalize(str(query)), str(get("entity_id") or ""), float(get("examined", 0.0) or 0.0),
                     *(int(get(name, 0) or 0) for name in COUNTS[1:]))


def predicted_queries(entity: Entity, keywords: Sequence[str] = ()) -> dict[str, float]:
    """Queries a user would likely type to find ``entity``, with predicted scores."""
    title, creator = normalize(entity.title, None), normalize(entity.creator, None)
    bonus = POPULARITY_BONUS * entity.popularity
    guesses: list[tuple[str, float]] = [(title, TITLE_SCORE)]
    if creator:
        guesses += [(f"{creator} {title}", CREATOR_TITLE_SCORE), (f"{title} {creator}", TITLE_CREATOR_SCORE),
                    (creator, CREATOR_SCORE)]
    if entity.album:
        guesses.append((normalize(entity.album, None), ALBUM_SCORE))
    for tag in [*(g for g, w in entity.genres.items() if w >= 0.5), *entity.moods]:
        tag = normalize(tag, None)
        guesses += [(f"{tag} {word}", PHRASE_SCORE) for word in (TYPES[entity.type].predicted if entity.type in TYPES else ())]
    guesses += [(word, KEYWORD_SCORE) for word in keywords]
    queries: dict[str, float] = {}
    for query, score in guesses:
        if query and query.strip():
            queries[query] = max(queries.get(query, 0.0), score + bonus)
    return queries


def _key_tokens(text: str) -> frozenset[str]:
    tokens = set(text.split())
    return frozenset(tokens - STOPWORDS or tokens)


@dataclass(frozen=True)
class _KeyPairs:
    positions: np.ndarray  # int64 catalog rows
    scores: np.ndarray  # pair scores
    observed: np.ndarray  # bool: the score comes from feedback (else predicted)


class _KeyTable:
    """The keys (distinct queries), their token postings and cold-start predictions: shared by forks.

    Columnar: the keys the catalog predicts (``n_predicted``, ids in first-seen order) own a CSR
    slice of predicted pairs (``pair_ptr`` -> ``pair_pos`` / ``pair_score``, ascending positions)
    and the token postings are a :class:`KeyedRows` table; keys first seen in feedback are
    appended after them (no predictions, postings in ``added_postings``)."""

    def __init__(self, keys: list[str], key_size: np.ndarray, token_keys: KeyedRows,
                 pair_ptr: np.ndarray, pair_pos: np.ndarray, pair_score: np.ndarray) -> None:
        self.keys = keys
        self.key_id: dict[str, int] = dict(zip(keys, range(len(keys))))
        self.key_size = key_size  # tokens per key (grown by doubling)
        self.token_keys = token_keys
        self.n_predicted = len(keys)
        self.pair_ptr, self.pair_pos, self.pair_score = pair_ptr, pair_pos, pair_score
        self.added_postings: dict[str, list[int]] = defaultdict(list)  # token -> keys added after the build
        self.posting_arrays: dict[str, np.ndarray] = {}  # token -> all its keys, until the token gets a new key

    @classmethod
    def from_predictions(cls, queries: list[str], key_of: np.ndarray, positions: np.ndarray, scores: np.ndarray) -> "_KeyTable":
        """Keys ``queries`` (ids by order) and pairs (``key_of`` -> position, score): at most
        ``MAX_PREDICTED_PER_KEY`` per key, the best scores (ties: lower positions) kept."""
        order = np.lexsort((positions, -scores, key_of))
        key_of, positions, scores = key_of[order], positions[order], scores[order]
        starts = np.searchsorted(key_of, np.arange(len(queries)))
        kept = np.arange(len(key_of)) - starts[key_of] < MAX_PREDICTED_PER_KEY
        key_of, positions, scores = key_of[kept], positions[kept], scores[kept]
        by_position = np.lexsort((positions, key_of))
        pair_ptr = np.concatenate([[0], np.cumsum(np.bincount(key_of, minlength=len(queries)))]).astype(np.int64)
        postings: dict[str, list[int]] = defaultdict(list)
        key_size = np.zeros(max(1024, len(queries)), dtype=np.int64)
        for key_id, query in enumerate(queries):
            tokens = _key_tokens(query)
            key_size[key_id] = len(tokens)
            for token in tokens:
                postings[token].append(key_id)
        return cls(queries, key_size, KeyedRows.from_lists(postings), pair_ptr,
                   positions[by_position].astype(np.int64), scores[by_position].astype(np.float64))

    def add_key(self, query: str) -> int:
        """The id of ``query``, appended (no predictions) when it is new."""
        key_id = self.key_id.get(query)
        if key_id is None:
            key_id = self.key_id[query] = len(self.keys)
            tokens = _key_tokens(query)
            self.keys.append(query)
            if key_id == len(self.key_size):
                self.key_size = np.concatenate([self.key_size, np.zeros_like(self.key_size)])
            self.key_size[key_id] = len(tokens)
            for token in tokens:
                self.added_postings[token].append(key_id)
                self.posting_arrays.pop(token, None)
        return key_id

    def posting_array(self, token: str) -> np.ndarray:
        """The keys holding ``token``, ascending."""
        found = self.posting_arrays.get(token)
        if found is None:
            base = self.token_keys.get(token, NO_KEYS)
            added = self.added_postings.get(token)
            found = np.concatenate([base, np.array(added, dtype=np.int64)]) if added else base
            self.posting_arrays[token] = found
        return found

    def predicted(self, key_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions, scores) predicted for a key (ascending positions; empty for a feedback key)."""
        if key_id >= self.n_predicted:
            return NO_KEYS, NO_SCORES
        span = slice(self.pair_ptr[key_id], self.pair_ptr[key_id + 1])
        return self.pair_pos[span], self.pair_score[span]

    def predicted_score(self, key_id: int, position: int) -> float | None:
        positions, scores = self.predicted(key_id)
        at = int(np.searchsorted(positions, position))
        return float(scores[at]) if at < len(positions) and positions[at] == position else None

    # -- snapshot ----------------------------------------------------------------------------

    def save(self, directory: Path, n: int) -> None:
        """The cold-start part (the predicted keys) as a snapshot for a catalog of ``n`` entities."""
        arrays = {"keys": pack_strings(self.keys[:self.n_predicted]), "key_size": self.key_size[:self.n_predicted],
                  "pair_ptr": self.pair_ptr, "pair_pos": self.pair_pos, "pair_score": self.pair_score,
                  **self.token_keys.to_arrays("tokens")}
        snapshot.save(directory, SNAPSHOT_KIND, SNAPSHOT_VERSION, n, arrays)

    @classmethod
    def load(cls, directory: Path, n: int) -> "_KeyTable | None":
        """The table :meth:`save` wrote for a catalog of ``n`` entities, or None (absent, other
        version or size, inconsistent, corrupt)."""
        found = snapshot.load(directory, SNAPSHOT_KIND, SNAPSHOT_VERSION, n)
        if found is None:
            return None
        arrays = found[0]
        try:
            pair_ptr, pair_pos, key_size = arrays["pair_ptr"], arrays["pair_pos"], arrays["key_size"]
            keys = unpack_strings(arrays["keys"], len(pair_ptr) - 1)
            token_keys = KeyedRows.from_arrays(arrays, "tokens")
            consistent = (len(key_size) == len(keys) and pair_ptr[0] == 0 and pair_ptr[-1] == len(pair_pos)
                          == len(arrays["pair_score"]) and not np.any(np.diff(pair_ptr) < 0)
                          and (len(pair_pos) == 0 or 0 <= pair_pos.min() <= pair_pos.max() < n)
                          and (len(token_keys.rows) == 0 or 0 <= token_keys.rows.min() <= token_keys.rows.max() < len(keys)))
            if not consistent:
                return None
            grown = np.zeros(max(1024, len(keys)), dtype=np.int64)
            grown[:len(keys)] = key_size
            return cls(keys, grown, token_keys, pair_ptr, pair_pos, arrays["pair_score"])
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class MemoryHit:
    """Why an entity was retrieved from memory: the best key, its similarity and the pair score."""

    entity_id: str
    position: int
    score: float
    key: str
    similarity: float
    source: str  # "observed" | "predicted"


class MemoryIndex:
    """Thread-safe Q2E memory over one catalog."""

    def __init__(self, catalog: Catalog, table: _KeyTable, lock: threading.RLock | None = None) -> None:
        self.catalog = catalog
        self._lock = lock or threading.RLock()
        self._table = table
        self._observed: dict[int, dict[int, PairStats]] = defaultdict(dict)  # key -> position -> stats
        self._n_observed = 0
        self._scored: dict[int, _KeyPairs] = {}  # key -> its retrievable pairs, until its feedback changes

    @classmethod
    def build(cls, catalog: Catalog) -> "MemoryIndex":
        """Cold-start memory from every entity's predicted queries (at most 200 entities per key)."""
        keywords = _description_keywords(catalog)
        key_id: dict[str, int] = {}
        key_of: list[int] = []
        positions: list[int] = []
        scores: list[float] = []
        for position, entity in enumerate(catalog):
            for query, score in predicted_queries(entity, keywords[position]).items():
                key_of.append(key_id.setdefault(query, len(key_id)))
                positions.append(position)
                scores.append(score)
        table = _KeyTable.from_predictions(list(key_id), np.array(key_of, dtype=np.int64),
                                           np.array(positions, dtype=np.int64), np.array(scores, dtype=np.float64))
        return cls(catalog, table)

    @classmethod
    def load_or_build(cls, catalog: Catalog, directory: Path) -> "MemoryIndex":
        """The cold-start memory from its snapshot in ``directory`` when readable, else built (and saved)."""
        table = _KeyTable.load(directory, len(catalog))
        if table is not None:
            return cls(catalog, table)
        memory = cls.build(catalog)
        memory._table.save(directory, len(catalog))
        return memory

    def fork(self) -> "MemoryIndex":
        """A memory with the same cold-start predictions and no observations (a sandboxed run's):
        the key table and its lock are shared, observed statistics are not."""
        return MemoryIndex(self.catalog, self._table, self._lock)

    def __len__(self) -> int:
        """Number of keys (distinct queries) in memory."""
        return len(self._table.keys)

    @property
    def n_observed(self) -> int:
        """Number of (query, entity) pairs with feedback."""
        return self._n_observed

    # -- updates -----------------------------------------------------------------------------

    def record(self, query: str, entity_id: str, examined: float = 0.0, clicks: int = 0,
               thumbs_up: int = 0, thumbs_down: int = 0) -> bool:
        """Add feedback counts to a pair; False (ignored) when the entity is not in the catalog."""
        return self._apply(PairStats(normalize(query), entity_id, examined, clicks, thumbs_up, thumbs_down), True)

    def record_shown(self, query: str, entity_ids: Iterable[str], curve: Callable[[int], float],
                     ranks: Iterable[int] | None = None) -> int:
        """A result page under ``query``: ``entity_ids`` best first, each examined with the probability
        of its rank (``ranks``, else 1, 2 ...) under ``curve`` (the store's curve in use, as the log's
        rebuild applies it); returns how many applied."""
        key = normalize(query)
        return sum(self._apply(PairStats(key, entity_id, curve(rank)), True)
                   for entity_id, rank in zip(entity_ids, count(1) if ranks is None else ranks))

    def load_stats(self, stats: Iterable[PairStats | Mapping[str, Any] | Any]) -> int:
        """Set pairs' totals from rows (PairStats, mappings or objects with PairStats' fields);
        returns how many rows applied (rows for entities not in the catalog are skipped)."""
        return sum(self._apply(_as_pair_stats(row), False) for row in stats)

    def reset_observed(self) -> None:
        """Forget all feedback: back to the cold-start predictions."""
        with self._lock:
            self._observed.clear()
            self._n_observed = 0
            self._scored.clear()

    def _apply(self, stats: PairStats, accumulate: bool) -> bool:
        position = self.catalog.position.get(stats.entity_id)
        if position is None or not stats.query:
            return False
        with self._lock:
            key_id = self._table.add_key(stats.query)
            self._scored.pop(key_id, None)
            pairs = self._observed[key_id]
            previous = pairs.get(position)
            self._n_observed += previous is None
            pairs[position] = previous + stats if accumulate and previous else stats
        return True

    # -- lookup ------------------------------------------------------------------------------

    def _pair_score(self, key_id: int, position: int) -> tuple[float | None, str]:
        """(score, source); score None for a pair never predicted nor chosen (only shown / disliked)."""
        predicted = self._table.predicted_score(key_id, position)
        observed = self._observed.get(key_id, {}).get(position)
        if observed is None:
            return predicted, "predicted"
        if predicted is None and observed.clicks + observed.thumbs_up == 0:
            return None, "observed"
        return observed.score(UNPREDICTED_PRIOR if predicted is None else predicted), "observed"

    def _matching_keys(self, texts: Iterable[str]) -> dict[int, float]:
        """Key -> similarity: 1 for the exact text, token Jaccard (capped) for the best partial keys.
        Only keys with something for this memory count: the key table is shared with forks, which
        add the keys of their own feedback, and those must not crowd this one's partial matches."""
        matches: dict[int, float] = {}
        for text in dict.fromkeys(t for t in texts if t):
            exact = self._table.key_id.get(text)
            if exact is not None and self._holds(np.array([exact]))[0]:
                matches[exact] = 1.0
            tokens = _key_tokens(text)
            if not tokens:
                continue
            keys, shared = np.unique(np.concatenate([self._table.posting_array(t) for t in tokens]), return_counts=True)
            similarity = np.minimum(PARTIAL_CAP, shared / (len(tokens) + self._table.key_size[keys] - shared))
            kept = (similarity >= MIN_SIMILARITY) & (keys != (-1 if exact is None else exact)) & self._holds(keys)
            keys, similarity = keys[kept], similarity[kept]
            for i in top_k(similarity, keys, MAX_PARTIAL_KEYS).tolist():
                key_id = int(keys[i])
                matches[key_id] = max(matches.get(key_id, 0.0), float(similarity[i]))
        return matches

    def _holds(self, keys: np.ndarray) -> np.ndarray:
        """Per key: predicted at cold start, or observed in this memory."""
        holds = keys < self._table.n_predicted
        feedback = np.flatnonzero(~holds)
        holds[feedback] = [int(key) in self._observed for key in keys[feedback]]
        return holds

    def _key_pairs(self, key_id: int) -> "_KeyPairs":
        """A key's retrievable pairs as arrays (positions, scores, observed?), cached per key."""
        pairs = self._scored.get(key_id)
        if pairs is None:
            positions, scores = self._table.predicted(key_id)
            observed_pairs = self._observed.get(key_id)
            if not observed_pairs:
                pairs = _KeyPairs(positions, scores, np.zeros(len(positions), dtype=bool))
            else:
                rows = []
                for position in sorted(set(positions.tolist()) | observed_pairs.keys()):
                    score, source = self._pair_score(key_id, position)
                    if score is not None:
                        rows.append((position, score, source == "observed"))
                at, values, observed = zip(*rows) if rows else ((), (), ())
                pairs = _KeyPairs(np.array(at, dtype=np.int64), np.array(values, dtype=np.float64),
                                  np.array(observed, dtype=bool))
            self._scored[key_id] = pairs
        return pairs

    def lookup(self, texts: Sequence[str], k: int) -> list[MemoryHit]:
        """Best ``k`` entities for any of ``texts`` (normalized query variants), best first.

        An entity's score is its best ``similarity * pair score`` over the matching keys (the
        first key in match order on ties); ties between entities go to the lower position."""
        with self._lock:
            matches = self._matching_keys(texts)
            parts = [(key_id, similarity, self._key_pairs(key_id)) for key_id, similarity in matches.items()]
        parts = [part for part in parts if len(part[2].positions)]
        if not parts:
            return []
        positions = np.concatenate([pairs.positions for _, _, pairs in parts])
        scores = np.concatenate([similarity * pairs.scores for _, similarity, pairs in parts])
        match = np.repeat(np.arange(len(parts)), [len(pairs.positions) for _, _, pairs in parts])
        within = np.concatenate([np.arange(len(pairs.positions)) for _, _, pairs in parts])
        by_entity = np.lexsort((match, -scores, positions))  # per entity: best score, then earliest key
        first = np.ones(len(by_entity), dtype=bool)
        first[1:] = positions[by_entity[1:]] != positions[by_entity[:-1]]
        best = by_entity[first]
        best = best[top_k(scores[best], positions[best], k)]
        hits, ids = [], self.catalog.column("id")  # ids by position: no entity built per hit
        for i in best.tolist():
            key_id, similarity, pairs = parts[match[i]]
            hits.append(MemoryHit(ids[positions[i]], int(positions[i]), float(scores[i]),
                                  self._table.keys[key_id], similarity,
                                  "observed" if pairs.observed[within[i]] else "predicted"))
        return hits

    def explain(self, query: str) -> list[dict]:
        """Every pair stored under ``query`` (normalized): predicted and observed parts, best first."""
        with self._lock:
            key_id = self._table.key_id.get(normalize(query))
            if key_id is None:
                return []
            observed_pairs = self._observed.get(key_id, {})
            rows = []
            for position in sorted(set(self._table.predicted(key_id)[0].tolist()) | observed_pairs.keys()):
                score, source = self._pair_score(key_id, position)
                observed = observed_pairs.get(position)
                rows.append({
                    "entity_id": self.catalog.column("id")[position], "score": round(score or 0.0, 6),
                    "source": source,
                    "predicted": self._table.predicted_score(key_id, position),
                    **({k: v for k, v in asdict(observed).items() if k not in ("query", "entity_id")}
                       if observed else {}),
                })
        return sorted(rows, key=lambda r: -r["score"])


def _description_keywords(catalog: Catalog) -> list[tuple[str, ...]]:
    """Per entity, its ``KEYWORDS_PER_ENTITY`` rarest description words (>= 4 letters, no
    stopwords; the longer word first on ties)."""
    words = [
        list(dict.fromkeys(t for t in tokenize(e.description, max_chars=None) if len(t) >= 4 and t not in STOPWORDS))
        for e in catalog
    ]
    df = Counter(t for ws in words for t in ws)
    return [tuple(sorted(ws, key=lambda t: (df[t], -len(t), t))[:KEYWORDS_PER_ENTITY]) for ws in words]
