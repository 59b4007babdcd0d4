"""The retrain policy and its gate: when to retrain, and which model goes live.

A candidate is trained on some queries and judged on others it never saw (a seeded coin per
query; human-labelled queries judge first when any are held out). It replaces the live ranker
only if its held-out nDCG@10 (through ranx) is not lower, ranking equal scores *against* it
(the less relevant row first), so a model that scores a query's rows alike earns no credit
for the order the pool happened to hold. A model that scores most pairs of a held-out query's
top ten alike (constant, or one split that lifts a row or two above the rest) is refused
outright, whatever its nDCG; ties in a long pool's tail do not count.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ltrr_core.base.metrics import evaluate_run
from ltrr_core.ranking.ltr import LTRParams, LTRRanker, TrainingGroup, TrainReport
from ltrr_core.ranking.rankers import InterleaveRanker, Ranker


def tie_aware_order(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rows best first by score; equal scores put the lower grade first (the worst case of the tie)."""
    return np.lexsort((np.asarray(labels), -np.asarray(scores, dtype=np.float64)))


def evaluate_ndcg(ranker: Ranker, groups: Iterable[TrainingGroup], k: int = 10) -> float:
    """Mean nDCG@k of ``ranker`` over the groups with a relevant row (NaN if none), through ranx
    like every reported figure, ties ranked by :func:`tie_aware_order`."""
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for group in groups:
        if group.labels.max(initial=0) > 0:
            order = tie_aware_order(ranker.score(group.features), group.labels)
            rows = [f"{i:07d}" for i in order]
            qrels[group.group_id] = {r: int(g) for r, g in zip(rows, group.labels[order]) if g > 0}
            run[group.group_id] = {r: float(len(rows) - position) for position, r in enumerate(rows)}
    metric = f"ndcg@{k}"
    return evaluate_run(qrels, run, metric)[metric] if qrels else float("nan")


def tied_share(ranker: Ranker, groups: Sequence[TrainingGroup], tolerance: float, k: int = 10) -> float:
    """The mean over ``groups`` of the share of pairs among their ``k`` best-scored rows that
    ``ranker`` scores alike (within ``tolerance`` times the largest absolute score, at least 1):
    1 for a constant model, 0 for one that orders its top ``k``."""
    shares = []
    for group in groups:
        scores = np.sort(np.asarray(ranker.score(group.features), dtype=np.float64))[-k:]
        if len(scores) < 2:
            continue
        step = np.diff(scores) > tolerance * max(1.0, float(np.abs(scores).max()))
        runs = np.diff(np.flatnonzero(np.concatenate([[True], step, [True]])))  # sizes of runs of equal scores
        shares.append(float((runs * (runs - 1)).sum()) / (len(scores) * (len(scores) - 1)))
    return float(np.mean(shares)) if shares else 0.0


@dataclass(frozen=True)
class RetrainPolicy:
    """Retrain after every ``every`` new labelled searches; judge models on a stable held-out share
    of queries; refuse a model that scores more than ``max_tied_share`` of their top-10 pairs alike."""

    every: int = 50
    holdout_fraction: float = 0.2
    min_groups: int = 5
    seed: int = 0
    max_tied_share: float = 0.5
    tie_tolerance: float = 1e-6

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"every: {self.every} must be >= 1")
        if not 0 < self.holdout_fraction < 1:
            raise ValueError(f"holdout_fraction: {self.holdout_fraction} must be in (0, 1)")
        if self.min_groups < 2:
            raise ValueError(f"min_groups: {self.min_groups} must be >= 2")
        if not 0 <= self.max_tied_share < 1:
            raise ValueError(f"max_tied_share: {self.max_tied_share} must be in [0, 1)")
        if self.tie_tolerance < 0:
            raise ValueError(f"tie_tolerance: {self.tie_tolerance} must be >= 0")

    def held_out(self, key: str) -> bool:
        """A fixed, seeded coin per query (or search id): the held-out set only grows, never reshuffles."""
        digest = hashlib.sha256(f"{self.seed}:{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.holdout_fraction

    def split(self, groups: Iterable[TrainingGroup]) -> tuple[list[TrainingGroup], list[TrainingGroup]]:
        """(training, held-out) groups: the coin of each group's :attr:`~TrainingGroup.holdout_key`,
        so no query is on both sides. When a held-out group carries human labels, only those judge;
        the other held-out groups neither train nor judge."""
        groups = list(groups)
        train = [g for g in groups if not self.held_out(g.holdout_key)]
        holdout = [g for g in groups if self.held_out(g.holdout_key)]
        judged = [g for g in holdout if g.judged]
        return train, judged or holdout


@dataclass(frozen=True)
class RetrainDecision:
    """Outcome of one retrain: both models' held-out nDCG@10 and which one is live now."""

    accepted: bool
    candidate_ndcg10: float
    previous_ndcg10: float
    previous_ranker: str
    train_groups: int
    holdout_groups: int
    report: TrainReport | None = None
    reason: str = ""
    holdout_group_ids: tuple[str, ...] = ()
    holdout_judged: bool = False  # the held-out groups carry human labels
    candidate_tied_share: float = float("nan")  # of the held-out top-10 pairs, those the candidate scored alike

    def to_json(self) -> dict:
        record = asdict(self)
        record["report"] = self.report.to_json() if self.report else None
        record["holdout_group_ids"] = list(self.holdout_group_ids)
        return record


@dataclass
class RankerManager:
    """The live ranker, its labelled searches and the one retrain trigger. Interleaving until a
    trained model passes the gate."""

    policy: RetrainPolicy = field(default_factory=RetrainPolicy)
    params: LTRParams = field(default_factory=LTRParams)
    current: Ranker = field(default_factory=InterleaveRanker)
    groups: dict[str, TrainingGroup] = field(default_factory=dict)
    history: list[RetrainDecision] = field(default_factory=list)

    def due(self, labelled: int) -> bool:
        """Whether ``labelled`` new labelled searches since the last training call for a retrain."""
        return labelled >= self.policy.every

    def train(self, groups: Iterable[TrainingGroup]) -> RetrainDecision:
        """Replace the labelled searches with ``groups`` (e.g. all the store holds) and retrain now."""
        self.groups = {g.group_id: g for g in groups}
        return self.retrain()

    def reset(self) -> None:
        """Back to interleaving with no labelled searches (the retrain policy and params stay)."""
        self.current, self.groups, self.history = InterleaveRanker(), {}, []

    def retrain(self) -> RetrainDecision:
        """Train a candidate on the training queries; it goes live only if it is not degenerate and
        its held-out nDCG@10 is not lower than the live ranker's."""
        policy = self.policy
        train, holdout = policy.split(g for g in self.groups.values() if g.informative)
        previous = evaluate_ndcg(self.current, holdout)
        judging = dict(holdout_group_ids=tuple(g.group_id for g in holdout),
                       holdout_judged=any(g.judged for g in holdout))
        if len(train) < policy.min_groups or not holdout:
            decision = RetrainDecision(
                False, float("nan"), previous, self.current.name, len(train), len(holdout),
                reason=f"need >= {policy.min_groups} training and >= 1 held-out labelled searches "
                f"with two different grades (have {len(train)} and {len(holdout)})", **judging,
            )
        else:
            candidate = LTRRanker(self.params)
            report = candidate.train(train, seed=policy.seed)
            tied = tied_share(candidate, holdout, policy.tie_tolerance)
            score = evaluate_ndcg(candidate, holdout)
            degenerate = tied > policy.max_tied_share
            accepted = not degenerate and bool(np.isnan(previous) or score >= previous)
            on = "human-labelled held-out searches" if judging["holdout_judged"] else "held-out searches"
            if degenerate:
                reason = (f"refused a degenerate model: it scores {tied:.0%} of the pairs in the top 10 of the "
                          f"{len(holdout)} {on} alike (limit {policy.max_tied_share:.0%})")
            elif accepted:
                reason = f"new model is not worse on {on}"
            else:
                reason = f"kept the previous ranker: the new model is worse on {on}"
            decision = RetrainDecision(accepted, score, previous, self.current.name, len(train), len(holdout),
                                       report, reason, candidate_tied_share=tied, **judging)
            if accepted:
                self.current = candidate
        self.history.append(decision)
        return decision
