"""Collection-wide BM25 statistics, so a shard scores its documents as the single index would.

A shard that computes idf and the average length from its own documents alone disagrees
with the single index (see ``benchmarks/bench_shards.py``: top-100 overlap well below 1).
Each shard therefore reports its :class:`CollectionStats` (document frequencies in order of
first occurrence, document count, total length); the merge, in shard order, is exactly the
single corpus's, and :meth:`CollectionStats.idf` is computed by rank-bm25's own Okapi idf
(:class:`_CollectionOkapi`) over the same terms in the same order, so it gives the same floats.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import scipy.sparse as sp
from rank_bm25 import BM25Okapi

from ltrr_core.retrieval.indexes.bm25 import BM25Index, BM25Params, bm25_weights


@dataclass(frozen=True)
class CollectionStats:
    """What BM25 needs from the whole collection: df per term (first-occurrence order), N, total length."""

    doc_freq: dict[str, int]
    n_docs: int
    total_length: int

    @classmethod
    def of(cls, corpus: Sequence[Sequence[str]]) -> "CollectionStats":
        """One shard's statistics."""
        doc_freq: dict[str, int] = {}
        for doc in corpus:
            for word in dict.fromkeys(doc):
                doc_freq[word] = doc_freq.get(word, 0) + 1
        return cls(doc_freq, len(corpus), sum(len(doc) for doc in corpus))

    @classmethod
    def merge(cls, parts: Sequence["CollectionStats"]) -> "CollectionStats":
        """The collection's statistics from its shards' (in shard order)."""
        doc_freq: dict[str, int] = {}
        for part in parts:
            for word, df in part.doc_freq.items():
                doc_freq[word] = doc_freq.get(word, 0) + df
        return cls(doc_freq, sum(p.n_docs for p in parts), sum(p.total_length for p in parts))

    @property
    def avgdl(self) -> float:
        return self.total_length / self.n_docs if self.n_docs else 0.0

    def idf(self, epsilon: float) -> dict[str, float]:
        """rank-bm25's Okapi idf of these statistics, negative ones floored at ``epsilon`` x the average."""
        return _CollectionOkapi(self, epsilon=epsilon).idf if self.doc_freq else {}


class _CollectionOkapi(BM25Okapi):
    """rank-bm25's Okapi built from :class:`CollectionStats` instead of a corpus: ``_initialize``
    (the step rank-bm25's BM25L and BM25Plus share) hands over N, avgdl and the document
    frequencies, and rank-bm25's own ``_calc_idf`` computes the idf from them."""

    def _initialize(self, corpus: CollectionStats) -> dict[str, int]:
        self.corpus_size, self.avgdl = corpus.n_docs, corpus.avgdl
        return dict(corpus.doc_freq)


def shard_bm25(corpus: Sequence[Sequence[str]], stats: CollectionStats, params: BM25Params = BM25Params()) -> BM25Index:
    """A BM25 index over one shard's documents scored with the collection's ``stats``
    (``BM25Index.from_okapi``'s weights, element for element)."""
    if stats.total_length == 0 or not any(corpus):
        return BM25Index(sp.csc_matrix((len(corpus), 0)), {}, params)
    doc_freqs = [Counter(words) for words in corpus]
    doc_len = [len(words) for words in corpus]
    return BM25Index(*bm25_weights(doc_freqs, stats.idf(params.epsilon), doc_len, stats.avgdl, params), params)
