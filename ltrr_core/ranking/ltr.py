"""LightGBM lambdarank over the pool's features: its training records, parameters and the ranker."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import lightgbm as lgb
import numpy as np

from ltrr_core.base.grades import MAX_GRADE
from ltrr_core.ranking.features import FEATURE_NAMES
from ltrr_core.ranking.pool import CandidatePool
from ltrr_core.ranking.rankers import Explanation, RankedList

FORMAT_VERSION = 1


@dataclass(frozen=True)
class TrainingGroup:
    """One labelled search: pool feature rows with graded labels 0..3."""

    features: np.ndarray
    labels: np.ndarray
    group_id: str
    weights: np.ndarray | None = None  # per-row training weights (e.g. inverse examination propensities)
    positions: np.ndarray | None = None  # 1-based rank each row was shown at (position-aware training)
    query: str = ""  # the normalized query: every group of one query is held out together ("": the group id)
    judged: bool = False  # its grades include human labels (these judge a retrained model first)

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
        if self.weights is not None:
            weights = np.asarray(self.weights, dtype=np.float64)
            if weights.shape != labels.shape or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
                raise ValueError(f"weights of group {self.group_id!r}: expected {labels.shape[0]} positive finite values")
            object.__setattr__(self, "weights", weights)
        if self.positions is not None:
            positions = np.asarray(self.positions)
            if positions.shape != labels.shape or not np.all(positions == np.round(positions)) or np.any(positions < 1):
                raise ValueError(f"positions of group {self.group_id!r}: expected {labels.shape[0]} ranks >= 1")
            object.__setattr__(self, "positions", positions.astype(np.int32))

    @property
    def holdout_key(self) -> str:
        """What the retrain gate holds out by: the query, so no query is both trained on and judged."""
        return self.query or self.group_id

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
    # Unbiased LambdaMART (LightGBM's ``position`` in the training Dataset): the objective learns a bias
    # factor per shown rank alongside the ranker, instead of inverse-propensity weights from a curve
    position_aware: bool = False

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
        position = None
        if self.params.position_aware and reference is None:  # the training set only: metrics need no positions
            missing = [g.group_id for g in groups if g.positions is None]
            if missing:
                raise ValueError(f"positions of group {missing[0]!r}: position-aware training needs every group's ranks")
            position = np.concatenate([g.positions - 1 for g in groups])
        return lgb.Dataset(
            np.vstack([g.features for g in groups]),
            label=np.concatenate([g.labels for g in groups]),
            group=[len(g.labels) for g in groups],
            weight=(np.concatenate([g.weights if g.weights is not None else np.ones(len(g.labels)) for g in groups])
                    if any(g.weights is not None for g in groups) else None),
            feature_name=list(self.feature_names),
            reference=reference,
            free_raw_data=False,
            position=position,
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
        """The ranker :meth:`save` wrote; ValueError naming the file and what is wrong with it."""
        path = Path(path)
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: cannot read a saved ranker ({exc}); retrain it with `ltrr train`") from exc
        try:
            return cls._from_record(record)
        except (ValueError, TypeError, KeyError, lgb.basic.LightGBMError) as exc:
            raise ValueError(f"{path}: not a usable saved ranker ({exc}); retrain it with `ltrr train`") from exc

    @classmethod
    def _from_record(cls, record: object) -> "LTRRanker":
        if not isinstance(record, dict):
            raise ValueError(f"the file holds {type(record).__name__}, expected an object")
        if record.get("format") != FORMAT_VERSION:
            raise ValueError(f"field 'format' is {record.get('format')!r}, expected {FORMAT_VERSION}")
        for name, kind in (("params", dict), ("feature_names", list), ("model", str)):
            if not isinstance(record.get(name), kind):
                raise ValueError(f"field {name!r} is {type(record.get(name)).__name__}, expected {kind.__name__}")
        if tuple(record["feature_names"]) != FEATURE_NAMES:
            raise ValueError("field 'feature_names' differs from the features the pool computes")
        ranker = cls(LTRParams(**record["params"]), record["feature_names"])
        ranker.booster = lgb.Booster(model_str=record["model"])
        if ranker.booster.num_feature() != len(FEATURE_NAMES):
            raise ValueError(f"field 'model' takes {ranker.booster.num_feature()} features, "
                             f"expected {len(FEATURE_NAMES)}")
        report = record.get("report")
        if report is not None:
            if not isinstance(report, dict):
                raise ValueError(f"field 'report' is {type(report).__name__}, expected an object or null")
            ranker.report = TrainReport(**{**report, "train_group_ids": tuple(report["train_group_ids"]),
                                           "valid_group_ids": tuple(report["valid_group_ids"])})
        return ranker
