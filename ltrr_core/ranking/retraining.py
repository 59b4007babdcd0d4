"""The retrain policy: on demand, and after every N new labelled searches; a new model replaces
the live ranker only if it is not worse on held-out searches (nDCG@10 through ranx)."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Iterable

import numpy as np

from ltrr_core.base.metrics import evaluate_run
from ltrr_core.ranking.ltr import LTRParams, LTRRanker, TrainingGroup, TrainReport
from ltrr_core.ranking.rankers import InterleaveRanker, Ranker


def evaluate_ndcg(ranker: Ranker, groups: Iterable[TrainingGroup], k: int = 10) -> float:
    """Mean nDCG@k of ``ranker`` over the groups with a relevant row (NaN if none), through ranx
    like every reported figure. Rows are named by zero-padded position, so ties keep pool order."""
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for group in groups:
        if group.labels.max(initial=0) > 0:
            rows = [f"{i:07d}" for i in range(len(group.labels))]
            qrels[group.group_id] = {r: int(g) for r, g in zip(rows, group.labels) if g > 0}
            run[group.group_id] = dict(zip(rows, ranker.score(group.features).tolist()))
    metric = f"ndcg@{k}"
    return evaluate_run(qrels, run, metric)[metric] if qrels else float("nan")


@dataclass(frozen=True)
class RetrainPolicy:
    """Retrain after every ``every`` new labelled searches; judge models on a stable held-out share."""

    every: int = 20
    holdout_fraction: float = 0.2
    min_groups: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.every < 1:
            raise ValueError(f"every: {self.every} must be >= 1")
        if not 0 < self.holdout_fraction < 1:
            raise ValueError(f"holdout_fraction: {self.holdout_fraction} must be in (0, 1)")
        if self.min_groups < 2:
            raise ValueError(f"min_groups: {self.min_groups} must be >= 2")

    def held_out(self, group_id: str) -> bool:
        """A fixed, seeded coin per search id: the held-out set only grows, never reshuffles."""
        digest = hashlib.sha256(f"{self.seed}:{group_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.holdout_fraction


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

    def to_json(self) -> dict:
        record = asdict(self)
        record["report"] = self.report.to_json() if self.report else None
        return record


@dataclass
class RankerManager:
    """The live ranker and its labelled searches. Interleaving until a trained model beats it."""

    policy: RetrainPolicy = field(default_factory=RetrainPolicy)
    params: LTRParams = field(default_factory=LTRParams)
    current: Ranker = field(default_factory=InterleaveRanker)
    groups: dict[str, TrainingGroup] = field(default_factory=dict)
    pending: int = 0
    history: list[RetrainDecision] = field(default_factory=list)

    def add(self, group: TrainingGroup) -> RetrainDecision | None:
        """Store (or replace) a labelled search; retrain when ``policy.every`` new ones arrived."""
        self.groups[group.group_id] = group
        self.pending += 1
        return self.retrain() if self.pending >= self.policy.every else None

    def train(self, groups: Iterable[TrainingGroup]) -> RetrainDecision:
        """Replace the labelled searches with ``groups`` (e.g. all the store holds) and retrain now."""
        self.groups = {g.group_id: g for g in groups}
        return self.retrain()

    def reset(self) -> None:
        """Back to interleaving with no labelled searches (the retrain policy and params stay)."""
        self.current, self.groups, self.pending, self.history = InterleaveRanker(), {}, 0, []

    def retrain(self) -> RetrainDecision:
        """Train a candidate on the non-held-out searches; keep it only if held-out nDCG@10 does not drop."""
        self.pending = 0
        usable = [g for g in self.groups.values() if g.informative]
        holdout = [g for g in usable if self.policy.held_out(g.group_id)]
        train = [g for g in usable if not self.policy.held_out(g.group_id)]
        previous = evaluate_ndcg(self.current, holdout)
        if len(train) < self.policy.min_groups or not holdout:
            decision = RetrainDecision(
                False, float("nan"), previous, self.current.name, len(train), len(holdout),
                reason=f"need >= {self.policy.min_groups} training and >= 1 held-out labelled searches "
                f"with two different grades (have {len(train)} and {len(holdout)})",
            )
        else:
            candidate = LTRRanker(self.params)
            report = candidate.train(train, seed=self.policy.seed)
            score = evaluate_ndcg(candidate, holdout)
            accepted = bool(np.isnan(previous) or score >= previous)
            decision = RetrainDecision(
                accepted, score, previous, self.current.name, len(train), len(holdout), report,
                reason="new model is not worse on held-out searches" if accepted
                else "kept the previous ranker: the new model is worse on held-out searches",
            )
            if accepted:
                self.current = candidate
        self.history.append(decision)
        return decision
