"""BM25 as a sparse term-weight matrix: rank-bm25's Okapi statistics, bm25s-style scoring.

rank-bm25 computes the statistics (document frequencies, idf with its epsilon floor,
document lengths); we turn them into a CSC matrix ``W`` (docs x vocabulary) with
``W[d, t] = idf(t) * tf(t, d) * (k1 + 1) / (tf(t, d) + k1 * (1 - b + b * len(d) / avgdl))``.
A query's scores are the sum of its tokens' columns (a repeated query token counts twice,
as in ``BM25Okapi.get_scores``), which costs O(postings of the query terms), not O(docs).

Field weighting: a document's tokens are its fields' tokens, each field repeated
``FIELD_WEIGHTS[field]`` times (title x3, creator x2, the rest x1), so a title or creator
match weighs more than a description match while staying one plain BM25 index.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import scipy.sparse as sp
from rank_bm25 import BM25Okapi

from ltrr_core.catalog.schema import Entity
from ltrr_core.retrieval.candidates import top_k
from ltrr_core.base.cache import read_or_set_aside, write_atomic
from ltrr_core.understanding.text import tokenize

FORMAT_VERSION = 1
DENSE_SUM_RATIO = 16  # search sums postings over a slot per document when they exceed n_docs / this
PRUNE_POSTINGS = 32_768  # a top-k search over more postings reads the terms' best-weighted heads first
IMPACT_CACHE_ENTRIES = 16_000_000  # postings whose weight order is kept (int32 each), least recently used out
FIELD_WEIGHTS: dict[str, int] = {"title": 3, "creator": 2, "album": 1, "tags": 1, "description": 1}


@dataclass(frozen=True)
class BM25Params:
    """Okapi parameters, as in ``rank_bm25.BM25Okapi``."""

    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25

    def __post_init__(self) -> None:
        if self.k1 < 0:
            raise ValueError(f"k1: {self.k1} must be >= 0")
        if not 0.0 <= self.b <= 1.0:
            raise ValueError(f"b: {self.b} must be in [0, 1]")


def entity_tokens(entity: Entity) -> list[str]:
    """The weighted token list BM25 indexes for one entity (see ``FIELD_WEIGHTS``)."""
    fields = {
        "title": entity.title,
        "creator": entity.creator,
        "album": entity.album,
        "tags": " ".join([*entity.genres, *entity.moods]),
        "description": entity.description,
    }
    tokens: list[str] = []
    for name, text in fields.items():
        tokens.extend(tokenize(text, max_chars=None) * FIELD_WEIGHTS[name])
    return tokens


def build_okapi(corpus: Sequence[Sequence[str]], params: BM25Params = BM25Params()) -> BM25Okapi:
    """rank-bm25's index (used to compute the statistics, and as the reference in tests)."""
    return BM25Okapi([list(doc) for doc in corpus], k1=params.k1, b=params.b, epsilon=params.epsilon)


def bm25_weights(doc_freqs: Sequence[Mapping[str, int]], idf: Mapping[str, float], doc_len: Sequence[int],
                 avgdl: float, params: BM25Params) -> tuple[sp.csc_matrix, dict[str, int]]:
    """The (docs, terms) BM25 weight matrix and its vocabulary from per-document term counts and the
    collection's idf and average length (one index's own, or merged over shards)."""
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    tfs: list[int] = []
    for doc, freqs in enumerate(doc_freqs):
        for word, tf in freqs.items():
            rows.append(doc)
            cols.append(vocab.setdefault(word, len(vocab)))
            tfs.append(tf)
    row = np.asarray(rows, dtype=np.int64)
    col = np.asarray(cols, dtype=np.int64)
    tf = np.asarray(tfs, dtype=np.float64)
    term_idf = np.zeros(len(vocab))
    for word, j in vocab.items():
        term_idf[j] = idf[word]
    norm = params.k1 * (1 - params.b + params.b * np.asarray(doc_len, dtype=np.float64) / avgdl)
    data = term_idf[col] * tf * (params.k1 + 1) / (tf + norm[row])
    return sp.csc_matrix((data, (row, col)), shape=(len(doc_freqs), len(vocab))), vocab


class BM25Index:
    """Sparse BM25: ``scores(tokens)`` over all documents, ``search(tokens, k)`` for the top k."""

    def __init__(self, weights: sp.csc_matrix, vocab: dict[str, int], params: BM25Params) -> None:
        self.weights = weights.tocsc()
        if not self.weights.has_sorted_indices:  # each term's postings ascending: callers binary-search them
            self.weights.sort_indices()
        self.vocab = vocab
        self.params = params
        # The last query's matches: ``lexical`` and ``popular`` search the same terms in one
        # funnel (often in two threads), so the second is served the first's sums.
        self._last: tuple[tuple[str, ...], np.ndarray, np.ndarray] | None = None
        self._last_lock = threading.Lock()
        self._impact: OrderedDict[int, np.ndarray] = OrderedDict()  # column -> its postings by weight desc
        self._impact_entries = 0
        self._impact_lock = threading.Lock()

    @property
    def n_docs(self) -> int:
        return self.weights.shape[0]

    @classmethod
    def from_okapi(cls, okapi: BM25Okapi) -> "BM25Index":
        """Convert rank-bm25's statistics into the term-weight matrix (vectorized over postings)."""
        params = BM25Params(okapi.k1, okapi.b, okapi.epsilon)
        return cls(*bm25_weights(okapi.doc_freqs, okapi.idf, okapi.doc_len, okapi.avgdl, params), params)

    @classmethod
    def build(cls, corpus: Iterable[Sequence[str]], params: BM25Params = BM25Params()) -> "BM25Index":
        corpus = [list(doc) for doc in corpus]
        if not any(corpus):  # rank-bm25 divides by the total length: an all-empty corpus has no terms
            return cls(sp.csc_matrix((len(corpus), 0)), {}, params)
        return cls.from_okapi(build_okapi(corpus, params))

    @classmethod
    def from_entities(cls, entities: Iterable[Entity], params: BM25Params = BM25Params()) -> "BM25Index":
        return cls.build((entity_tokens(e) for e in entities), params)

    def _columns(self, tokens: Iterable[str]) -> list[int]:
        return [j for j in (self.vocab.get(t) for t in tokens) if j is not None]

    def _postings(self, tokens: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        cols = self._columns(tokens)
        if not cols:
            return np.empty(0, np.int64), np.empty(0)
        ptr, idx, data = self.weights.indptr, self.weights.indices, self.weights.data
        docs = np.concatenate([idx[ptr[j] : ptr[j + 1]] for j in cols])
        weights = np.concatenate([data[ptr[j] : ptr[j + 1]] for j in cols])
        return docs, weights

    def scores(self, tokens: Iterable[str]) -> np.ndarray:
        """BM25 score of every document (equal to ``BM25Okapi.get_scores``)."""
        docs, weights = self._postings(tokens)
        return np.bincount(docs, weights=weights, minlength=self.n_docs).astype(np.float64)

    def matches(self, tokens: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
        """The documents that contain at least one of ``tokens`` (ascending) and their BM25 scores;
        the last query's are kept, so a second search for the same terms does not sum again."""
        key = tuple(tokens)
        with self._last_lock:
            if self._last is not None and self._last[0] == key:
                return self._last[1], self._last[2]
            docs, weights = self._postings(key)
            if len(docs) * DENSE_SUM_RATIO < self.n_docs:  # few postings: sort them
                matched, inverse = np.unique(docs, return_inverse=True)
                totals = np.bincount(inverse, weights=weights)
            else:  # many (a common word in a large catalog): one pass over a slot per document beats sorting
                matched = np.flatnonzero(np.bincount(docs, minlength=self.n_docs))
                totals = np.bincount(docs, weights=weights, minlength=self.n_docs)[matched]
            matched.setflags(write=False)
            totals.setflags(write=False)
            self._last = (key, matched, totals)
            return matched, totals

    def search(self, tokens: Iterable[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` documents that contain at least one query token: (positions, scores), best first
        (ties by position, :func:`~ltrr_core.retrieval.candidates.top_k`). Over more than
        ``PRUNE_POSTINGS`` postings, :meth:`_search_heads` finds the same list without summing them all."""
        tokens = tuple(tokens)
        cols = self._columns(tokens)
        if k > 0 and sum(self._length(j) for j in cols) > PRUNE_POSTINGS:
            found = self._search_heads(cols, k)
            if found is not None:
                return found
        matched, totals = self.matches(tokens)
        if len(matched) == 0 or k <= 0:
            return np.empty(0, np.int64), np.empty(0)
        best = top_k(totals, matched, k)
        return matched[best].astype(np.int64), totals[best]

    def _length(self, column: int) -> int:
        return int(self.weights.indptr[column + 1] - self.weights.indptr[column])

    def _impact_order(self, column: int) -> np.ndarray:
        """Offsets into ``column``'s postings, weight descending (ties: lower document first);
        sorted on first use, then kept (up to ``IMPACT_CACHE_ENTRIES`` postings over all columns)."""
        with self._impact_lock:
            order = self._impact.get(column)
            if order is not None:
                self._impact.move_to_end(column)
                return order
        span = slice(self.weights.indptr[column], self.weights.indptr[column + 1])
        order = np.lexsort((self.weights.indices[span], -self.weights.data[span])).astype(np.int32)
        order.setflags(write=False)
        with self._impact_lock:
            if column not in self._impact:
                self._impact[column] = order
                self._impact_entries += len(order)
                while self._impact_entries > IMPACT_CACHE_ENTRIES and len(self._impact) > 1:
                    self._impact_entries -= len(self._impact.popitem(last=False)[1])
        return order

    def _search_heads(self, cols: list[int], k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """:meth:`search`'s exact answer from the heads of the query columns' postings by weight
        (Fagin's threshold algorithm): score every document in the first ``depth`` of any column
        by binary search in each column; a document outside every head scores at most the sum of
        the columns' next weights, so once the k-th best scored beats that bound strictly, no other
        document can enter or tie. The depth grows 4x a round; None (sum everything instead) once
        the heads would hold an eighth of the postings. Sums run in ``cols`` order, as in
        :meth:`matches`, so the scores are bit-identical."""
        ptr, idx, data = self.weights.indptr, self.weights.indices, self.weights.data
        distinct = list(dict.fromkeys(cols))
        orders = {j: self._impact_order(j) for j in distinct}
        total = sum(len(o) for o in orders.values())
        depth = max(k, 16)
        while depth * len(distinct) * 8 <= total:
            heads = [idx[ptr[j]:ptr[j + 1]][orders[j][:depth]] for j in distinct]
            rows = np.unique(np.concatenate(heads)).astype(np.int64)
            totals, bound = np.zeros(len(rows)), 0.0
            for j in cols:  # a repeated token adds its column again, as in the full sum
                postings, weights = idx[ptr[j]:ptr[j + 1]], data[ptr[j]:ptr[j + 1]]
                at = np.minimum(np.searchsorted(postings, rows), len(postings) - 1)
                hit = postings[at] == rows
                totals[hit] += weights[at[hit]]
                bound += float(weights[orders[j][depth]]) if depth < len(postings) else 0.0
            if len(rows) >= k and np.partition(totals, len(rows) - k)[len(rows) - k] > bound:
                best = top_k(totals, rows, k)
                return rows[best], totals[best]
            depth *= 4
        return None

    # -- persistence: inspectable .npz + JSON, as bm25s does ---------------------------------

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        write_atomic(directory / "weights.npz", lambda p: sp.save_npz(p, self.weights))
        meta = {"format": FORMAT_VERSION, "params": asdict(self.params), "field_weights": FIELD_WEIGHTS}
        write_atomic(directory / "vocab.json", lambda p: p.write_text(json.dumps(self.vocab, ensure_ascii=False)))
        write_atomic(directory / "meta.json", lambda p: p.write_text(json.dumps(meta, indent=1)))

    @classmethod
    def load(cls, directory: Path, params: BM25Params = BM25Params()) -> "BM25Index | None":
        """The saved index, or None when absent or built with other parameters/format; an unreadable
        one (truncated, corrupt, its parts disagreeing) is set aside (:func:`~ltrr_core.base.cache.set_aside`)."""
        if not (directory / "meta.json").exists():
            return None
        return read_or_set_aside(directory, lambda: cls._read(directory, params))

    @classmethod
    def _read(cls, directory: Path, params: BM25Params) -> "BM25Index | None":
        meta = json.loads((directory / "meta.json").read_text())
        if meta != {"format": FORMAT_VERSION, "params": asdict(params), "field_weights": FIELD_WEIGHTS}:
            return None
        vocab = json.loads((directory / "vocab.json").read_text())
        weights = sp.load_npz(directory / "weights.npz").tocsc()
        if not isinstance(vocab, dict):
            raise ValueError(f"vocab.json holds a JSON {type(vocab).__name__}, not an object {{term: column}}")
        columns = np.sort(np.fromiter(vocab.values(), dtype=np.int64, count=len(vocab)))
        if not np.array_equal(columns, np.arange(weights.shape[1])):
            raise ValueError(f"vocab.json's {len(vocab):,} columns are not the {weights.shape[1]:,} of weights.npz")
        return cls(weights, vocab, params)

    @classmethod
    def load_or_build(cls, directory: Path, n_docs: int, build: Callable[[], "BM25Index"]) -> "BM25Index":
        """The index saved in ``directory`` when it covers ``n_docs`` documents, else ``build()`` (saved there)."""
        index = cls.load(directory)
        if index is None or index.n_docs != n_docs:
            index = build()
            index.save(directory)
        return index
