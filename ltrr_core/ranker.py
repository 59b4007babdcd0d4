"""Rankers over a candidate pool: interleaving (before any model), reciprocal-rank fusion and LightGBM lambdarank.

Both follow :class:`Ranker`: ``score(features)`` -> one score per row, ``rank(pool, features)``
-> a :class:`RankedList`, ``explain(features_of_shown_rows)`` -> per-feature contributions.
:class:`RankerManager` owns the retrain policy (on demand, and after every N new labelled
searches; a new model replaces the current one only if it is not worse on held-out searches).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import lightgbm as lgb
import numpy as np
import pandas as pd

from ltrr_core.features import COLUMN, FEATURE_NAMES, STRATEGIES
from ltrr_core.pool import CandidatePool

MAX_GRADE = 3
GRADE_CLICK, GRADE_THUMBS_UP, GRADE_THUMBS_DOWN = 2, 3, 0
FORMAT_VERSION = 1


# -- records -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedList:
    """``order``: pool row indices best first; ``scores``: the ranker's score per pool row."""

    order: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_scores(cls, scores: np.ndarray) -> "RankedList":
        scores = np.asarray(scores, dtype=np.float64)
        return cls(np.lexsort((np.arange(len(scores)), -scores)), scores)  # ties keep pool order


@dataclass(frozen=True)
class Explanation:
    """Per-feature contributions for some rows; ``contributions.sum(1) + bias`` is each row's score."""

    feature_names: tuple[str, ...]
    contributions: np.ndarray
    bias: np.ndarray

    def frame(self, row_labels: Sequence[str] | None = None) -> pd.DataFrame:
        """Rows x features, plus ``bias`` and ``score`` columns."""
        table = pd.DataFrame(self.contributions, columns=list(self.feature_names), index=row_labels)
        table["bias"] = self.bias
        table["score"] = self.contributions.sum(axis=1) + self.bias
        return table


@dataclass(frozen=True)
class TrainingGroup:
    """One labelled search: pool feature rows with graded labels 0..3."""

    features: np.ndarray
    labels: np.ndarray
    group_id: str

    def __post_init__(self) -> None:
        features = np.asarray(self.features, dtype=np.float32)
        labels = np.asarray(self.labels)
        if features.ndim != 2:
            raise ValueError(f"features of group {self.group_id!r}: expected a 2-d array, got shape {features.shape}")
        if labels.shape != (features.shape[0],):
            raise ValueError(f"labels of group {self.group_id!r}: {labels.shape} does not match {features.shape[0]} rows")
        if len(labels) and (labels.min() < 0 or labels.max() > MAX_GRADE or not np.all(labels == np.round(labels))):
            raise ValueError(f"labels of group {self.group_id!r}: grades must be integers in 0..{MAX_GRADE}")
        object.__setattr__(self, "features", features)
        object.__setattr__(self, "labels", labels.astype(np.int32))

    @property
    def informative(self) -> bool:
        """Lambdarank learns only from groups with at least two different labels."""
        return len(self.labels) > 1 and self.labels.min() != self.labels.max()


@dataclass(frozen=True)
class LTRParams:
    """LightGBM lambdarank hyperparameters (validated; errors name the field)."""

    num_leaves: int = 15
    learning_rate: float = 0.05
    min_data_in_leaf: int = 20
    feature_fraction: float = 0.9
    lambda_l2: float = 1.0
    num_boost_round: int = 400
    early_stopping_rounds: int = 40
    train_threads: int = 2

    def __post_init__(self) -> None:
        for name in ("num_leaves", "min_data_in_leaf", "num_boost_round", "early_stopping_rounds", "train_threads"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name}: {getattr(self, name)} must be >= 1")
        if not 0 < self.learning_rate <= 1:
            raise ValueError(f"learning_rate: {self.learning_rate} must be in (0, 1]")
        if not 0 < self.feature_fraction <= 1:
            raise ValueError(f"feature_fraction: {self.feature_fraction} must be in (0, 1]")
        if self.lambda_l2 < 0:
            raise ValueError(f"lambda_l2: {self.lambda_l2} must be >= 0")


@dataclass(frozen=True)
class TrainReport:
    """What a training run used and reached (nDCG@10 on its own early-stopping split)."""

    groups_used: int
    groups_dropped: int
    train_group_ids: tuple[str, ...]
    valid_group_ids: tuple[str, ...]
    rows: int
    best_iteration: int
    valid_ndcg10: float | None
    seconds: float
    seed: int

    def to_json(self) -> dict:
        record = asdict(self)
        record["train_group_ids"], record["valid_group_ids"] = list(self.train_group_ids), list(self.valid_group_ids)
        return record


# -- metrics over groups -----------------------------------------------------------------------


def ndcg_at(labels: np.ndarray, scores: np.ndarray, k: int = 10) -> float:
    """nDCG@k of one group with exponential gains (2^grade - 1, as LightGBM's lambdarank); NaN if no relevant row."""
    gains = np.exp2(np.asarray(labels, dtype=np.float64)) - 1
    ideal = np.sort(gains)[::-1][:k]
    discounts = 1 / np.log2(np.arange(2, k + 2))
    idcg = float(ideal @ discounts[: len(ideal)])
    if idcg == 0:
        return float("nan")
    top = RankedList.from_scores(scores).order[:k]
    return float(gains[top] @ discounts[: len(top)]) / idcg


def evaluate_ndcg(ranker: "Ranker", groups: Iterable[TrainingGroup], k: int = 10) -> float:
    """Mean nDCG@k of ``ranker`` over the groups that have a relevant row (NaN if none)."""
    values = [ndcg_at(g.labels, ranker.score(g.features), k) for g in groups]
    values = [v for v in values if not np.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


# -- rankers -----------------------------------------------------------------------------------


class Ranker(Protocol):
    name: str

    def score(self, features: np.ndarray) -> np.ndarray: ...

    def rank(self, pool: CandidatePool, features: np.ndarray) -> RankedList: ...

    def explain(self, features: np.ndarray) -> Explanation: ...


def rrf_scores(ranks: Iterable[np.ndarray], k: int = 60) -> np.ndarray:
    """Reciprocal-rank fusion over aligned 1-based rank arrays (NaN = not retrieved): sum 1/(k + rank)."""
    stacked = np.vstack([np.asarray(r, dtype=np.float64) for r in ranks])
    return np.nansum(1.0 / (k + stacked), axis=0)


class FusionRanker:
    """Reciprocal-rank fusion of the strategies' lists (k=60)."""

    name = "fusion"

    def __init__(self, k: int = 60) -> None:
        if k < 1:
            raise ValueError(f"k: {k} must be >= 1")
        self.k = k
        self._rank_columns = [COLUMN[f"rank_{s}"] for s in STRATEGIES]

    def score(self, features: np.ndarray) -> np.ndarray:
        return rrf_scores(np.asarray(features)[:, self._rank_columns].T, self.k)

    def rank(self, pool: CandidatePool, features: np.ndarray) -> RankedList:
        if len(pool) == 0:
            return RankedList.from_scores(np.empty(0))
        return RankedList.from_scores(rrf_scores(pool.ranks.values(), self.k))

    def explain(self, features: np.ndarray) -> Explanation:
        """Each strategy's 1/(k + rank) lands on its ``rank_<strategy>`` feature; the rest is 0."""
        features = np.asarray(features, dtype=np.float64)
        contributions = np.zeros_like(features)
        for col in self._rank_columns:
            contributions[:, col] = np.nan_to_num(1.0 / (self.k + features[:, col]))
        return Explanation(FEATURE_NAMES, contributions, np.zeros(len(features)))


class InterleaveRanker(FusionRanker):
    """Round-robin blending of the strategies' lists: every picked strategy's top results reach
    the first page, whatever the others found. The ranker before a model exists.

    An item's score is 1 / (its best rank in any list), ties broken by how many strategies
    found it. RRF (:class:`FusionRanker`) instead buries an item only one strategy found
    below everything two near-duplicate strategies agree on, so a semantic-only hit never
    reaches the page and never earns its strategy a reward.
    """

    name = "interleave"

    def score(self, features: np.ndarray) -> np.ndarray:
        return _interleave_scores(np.asarray(features, dtype=np.float64)[:, self._rank_columns].T)

    def rank(self, pool: CandidatePool, features: np.ndarray) -> RankedList:
        if len(pool) == 0:
            return RankedList.from_scores(np.empty(0))
        return RankedList.from_scores(_interleave_scores(np.vstack(list(pool.ranks.values()))))

    def explain(self, features: np.ndarray) -> Explanation:
        """1 / best rank lands on the best list's ``rank_<strategy>``; each finder adds 1e-3 to its own."""
        ranks = np.asarray(features, dtype=np.float64)[:, self._rank_columns]
        found = ~np.isnan(ranks)
        contributions = np.zeros((len(ranks), len(FEATURE_NAMES)))
        contributions[:, self._rank_columns] = 1e-3 * found
        rows = np.flatnonzero(found.any(axis=1))
        best = np.argmin(np.where(found, ranks, np.inf), axis=1)
        cols = np.asarray(self._rank_columns)[best[rows]]
        contributions[rows, cols] += 1.0 / ranks[rows, best[rows]]
        return Explanation(FEATURE_NAMES, contributions, np.zeros(len(ranks)))


def _interleave_scores(ranks: np.ndarray) -> np.ndarray:
    """(n_strategies, n) rank arrays, NaN = not found -> 1 / best rank + 1e-3 * strategies found."""
    found = ~np.isnan(ranks)
    best = np.where(found, ranks, np.inf).min(axis=0)
    return 1.0 / best + 1e-3 * found.sum(axis=0)


class LTRRanker:
    """LightGBM lambdarank over ``FEATURE_NAMES``; deterministic for a seed, 1 thread at predict time."""

    name = "ltr"

    def __init__(self, params: LTRParams = LTRParams(), feature_names: Sequence[str] = FEATURE_NAMES) -> None:
        self.params = params
        self.feature_names = tuple(feature_names)
        self.booster: lgb.Booster | None = None
        self.report: TrainReport | None = None

    def _lgb_params(self, seed: int) -> dict:
        p = self.params
        return {
            "objective": "lambdarank",
            "metric": "ndcg",
            "ndcg_eval_at": [10],
            "label_gain": [float(2**g - 1) for g in range(MAX_GRADE + 1)],
            "num_leaves": p.num_leaves,
            "learning_rate": p.learning_rate,
            "min_data_in_leaf": p.min_data_in_leaf,
            "feature_fraction": p.feature_fraction,
            "lambda_l2": p.lambda_l2,
            "num_threads": p.train_threads,
            "deterministic": True,
            "force_row_wise": True,
            "seed": seed,
            "verbosity": -1,
        }

    def _dataset(self, groups: Sequence[TrainingGroup], reference: lgb.Dataset | None = None) -> lgb.Dataset:
        return lgb.Dataset(
            np.vstack([g.features for g in groups]),
            label=np.concatenate([g.labels for g in groups]),
            group=[len(g.labels) for g in groups],
            feature_name=list(self.feature_names),
            reference=reference,
            free_raw_data=False,
        )

    def train(self, groups: Sequence[TrainingGroup], valid_fraction: float = 0.2, seed: int = 0) -> TrainReport:
        """Fit on ``groups`` (uninformative ones dropped), early-stopping on a seeded held-out share of them."""
        if not 0 <= valid_fraction < 1:
            raise ValueError(f"valid_fraction: {valid_fraction} must be in [0, 1)")
        started = time.perf_counter()
        for g in groups:
            if g.features.shape[1] != len(self.feature_names):
                raise ValueError(
                    f"features of group {g.group_id!r}: {g.features.shape[1]} columns, expected {len(self.feature_names)}"
                )
        usable = [g for g in groups if g.informative]
        if not usable:
            raise ValueError("groups: no group has two different labels; label some results first")
        shuffled = [usable[i] for i in np.random.default_rng(seed).permutation(len(usable))]
        n_valid = int(round(valid_fraction * len(usable))) if len(usable) > 1 else 0
        valid, fit = shuffled[:n_valid], shuffled[n_valid:]
        train_set = self._dataset(fit)
        evals: dict = {}
        callbacks = [lgb.record_evaluation(evals)]
        valid_sets = []
        if valid:
            valid_sets = [self._dataset(valid, reference=train_set)]
            callbacks.append(lgb.early_stopping(self.params.early_stopping_rounds, verbose=False))
        self.booster = lgb.train(
            self._lgb_params(seed), train_set, num_boost_round=self.params.num_boost_round,
            valid_sets=valid_sets, valid_names=["valid"][: len(valid_sets)], callbacks=callbacks,
        )
        best = self.booster.best_iteration or self.booster.current_iteration()
        valid_ndcg = float(evals["valid"]["ndcg@10"][best - 1]) if valid else None
        self.report = TrainReport(
            groups_used=len(usable), groups_dropped=len(groups) - len(usable),
            train_group_ids=tuple(g.group_id for g in fit), valid_group_ids=tuple(g.group_id for g in valid),
            rows=sum(len(g.labels) for g in fit), best_iteration=best, valid_ndcg10=valid_ndcg,
            seconds=time.perf_counter() - started, seed=seed,
        )
        return self.report

    def _model(self) -> lgb.Booster:
        if self.booster is None:
            raise RuntimeError("LTRRanker: not trained; call train(groups) or LTRRanker.load(path) first")
        return self.booster

    def score(self, features: np.ndarray) -> np.ndarray:
        booster = self._model()
        features = np.asarray(features, dtype=np.float32)
        if len(features) == 0:
            return np.empty(0)
        return booster.predict(features, num_iteration=booster.best_iteration or None, num_threads=1)

    def rank(self, pool: CandidatePool, features: np.ndarray) -> RankedList:
        return RankedList.from_scores(self.score(features))

    def evaluate_ndcg(self, groups: Iterable[TrainingGroup], k: int = 10) -> float:
        return evaluate_ndcg(self, groups, k)

    def explain(self, features: np.ndarray) -> Explanation:
        """SHAP-style contributions (LightGBM ``pred_contrib``); pass only the rows shown (it is slow)."""
        booster = self._model()
        raw = booster.predict(
            np.asarray(features, dtype=np.float32), num_iteration=booster.best_iteration or None,
            pred_contrib=True, num_threads=1,
        )
        return Explanation(self.feature_names, raw[:, :-1], raw[:, -1])

    def save(self, path: Path) -> None:
        """One inspectable JSON file: model text, feature names, params and the training report."""
        record = {
            "format": FORMAT_VERSION,
            "feature_names": list(self.feature_names),
            "params": asdict(self.params),
            "report": self.report.to_json() if self.report else None,
            "model": self._model().model_to_string(),
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))

    @classmethod
    def load(cls, path: Path) -> "LTRRanker":
        path = Path(path)
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: cannot read a saved ranker ({exc}); retrain it with `ltrr train`") from exc
        if record.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: field 'format' is {record.get('format')!r}, expected {FORMAT_VERSION}; retrain")
        ranker = cls(LTRParams(**record["params"]), record["feature_names"])
        ranker.booster = lgb.Booster(model_str=record["model"])
        report = record.get("report")
        if report:
            report["train_group_ids"] = tuple(report["train_group_ids"])
            report["valid_group_ids"] = tuple(report["valid_group_ids"])
            ranker.report = TrainReport(**report)
        return ranker


# -- labels from feedback ------------------------------------------------------------------------


def labels_from_feedback(
    pool_ids: Sequence[str],
    clicks: Iterable[str] = (),
    thumbs_up: Iterable[str] = (),
    thumbs_down: Iterable[str] = (),
    graded: dict[str, int] | None = None,
) -> np.ndarray:
    """Grades 0..3 for the pool rows, strongest evidence first.

    An analyst's graded label wins; else thumbs down = 0; else thumbs up = 3; else click = 2;
    everything else (shown but skipped, or never shown) = 0. Clicks rank below thumbs up
    because a click only shows interest, a thumbs up confirms the result.
    """
    graded = graded or {}
    clicks, up, down = set(clicks), set(thumbs_up), set(thumbs_down)
    grades = np.zeros(len(pool_ids), dtype=np.int32)
    for row, entity_id in enumerate(pool_ids):
        if entity_id in graded:
            grade = graded[entity_id]
            if not 0 <= grade <= MAX_GRADE:
                raise ValueError(f"graded[{entity_id!r}]: {grade} is not in 0..{MAX_GRADE}")
            grades[row] = grade
        elif entity_id in down:
            grades[row] = GRADE_THUMBS_DOWN
        elif entity_id in up:
            grades[row] = GRADE_THUMBS_UP
        elif entity_id in clicks:
            grades[row] = GRADE_CLICK
    return grades


# -- retrain policy ------------------------------------------------------------------------------


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
