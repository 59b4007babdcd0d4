"""The learning state as a fold over the feedback log, with snapshots that make the fold short.

The bandit (every arm's ridge model and pull counts) and the per-category hit history are a
function of the settled rounds in the store, in the order they settled. On start the engine
loads the snapshot (``state.npz`` arrays + ``state.json`` parameters), checks it against the
database, the arms and the log, and folds only the rounds settled after the snapshot's last one;
with no usable snapshot it folds the whole log. A snapshot names the exact prefix of the log it
holds (``seq``), its database (:meth:`FeedbackStore.database_id`) and the generation of its log
(:meth:`FeedbackStore.log_position`): one of another database, or of a log rewritten since (a
reset, a warm start), is ignored. A snapshot that does not load or check, or whose parameters have
the wrong shape, is moved aside as ``*.unreadable`` (the reason is kept in
:attr:`StateFiles.problem`) and the state is rebuilt. The policy it was folded under is recorded
to check it against the database's choice; the choice itself is the database's (a settings row).
Files are written atomically (temporary file, then rename; the parameters carry the
arrays' checksum, so a pair from two different saves is caught), and processes sharing the
database take turns on the pair (an advisory lock on its directory); nothing is pickled.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import math
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ltrr_core.base.records import REPLAYED, SettledRound
from ltrr_core.base.cache import write_atomic
from ltrr_core.selection.bandit import Bandit, PolicyConfig, split_arm
from ltrr_core.selection.context import HitHistory

# 2: the arms' shared / alone counts; 3: replayed rounds weighted; 4: the database's identity, and
# ``seq`` a prefix of the log (a format-3 snapshot may miss other processes' rounds); 5: the log's
# generation. Older: rebuilt.
SNAPSHOT_FORMAT = 5
_ARM_COUNTS = ("pulls", "reward", "shared", "alone")
_META_TYPES: dict[str, type] = {
    "format": int, "database": str, "generation": int, "seq": int, "updates": int, "arrays_sha256": str,
    "policy": dict, "strategies": list, "n_features": int, "arms": list, **{name: dict for name in _ARM_COUNTS},
    "rng": dict, "history": list, "labelled_since_train": list,
}


@dataclass
class LearningState:
    """Everything the engine learns online: a fold over the settled rounds up to ``seq``."""

    bandit: Bandit
    history: HitHistory
    seq: int = 0  # the last settled round folded in (its position in the reward log)
    updates: int = 0
    labelled_since_train: set[str] = field(default_factory=set)  # searches (or queries) with new labels

    @classmethod
    def fresh(cls, strategies: list[str], n_features: int, policy: PolicyConfig) -> "LearningState":
        return cls(Bandit(strategies, n_features, policy), HitHistory(strategies))

    def apply(self, x: np.ndarray, category: str, rewards: dict[str, float], seq: int | None = None,
              replayed: bool = False) -> None:
        """Learn one settled round: the bandit's picked arms and the category's hit history. A round
        ``replayed`` from an imported log counts the policy's ``replay_weight`` of a live one."""
        known = {arm: reward for arm, reward in rewards.items() if arm in self.bandit.arms}
        weight = self.bandit.config.replay_weight if replayed else 1.0
        if known and len(x) == self.bandit.n_features:  # rounds of another arm set or feature layout teach nothing
            self.bandit.update(x, known, weight)
            for arm, reward in known.items():
                self.history.add(category, split_arm(arm)[0], reward, weight)
        self.updates += 1
        if seq is not None:
            self.seq = seq

    def fold(self, rounds: Iterable[SettledRound]) -> int:
        """Apply settled rounds in order; returns how many."""
        count = 0
        for settled in rounds:
            self.apply(np.asarray(settled.features, dtype=float), settled.category, settled.rewards, settled.seq,
                       replayed=settled.reason == REPLAYED)
            count += 1
        return count


class StateFiles:
    """Snapshots of one database's learning state in ``directory`` (``state.npz`` + ``state.json``)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.problem: str | None = None

    @property
    def arrays_path(self) -> Path:
        return self.directory / "state.npz"

    @property
    def meta_path(self) -> Path:
        return self.directory / "state.json"

    @contextmanager
    def _turn(self) -> Iterator[None]:
        """One process at a time reads, writes or sets aside the pair (``flock`` on the directory)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:  # a file system without flock: the arrays' checksum still catches a mixed pair
                pass
            yield
        finally:
            os.close(fd)  # releases the lock

    def saved_policy(self, database: str) -> PolicyConfig | None:
        """The policy of this database's last snapshot, if readable: the choice of a database from
        before the choice was stored in it (an older format's, which names no database, counts)."""
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or meta.get("database", database) != database:
                return None
            return policy_from_record(meta["policy"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, state: LearningState, database: str, generation: int) -> None:
        """Write the snapshot of ``database``'s log atomically: the arrays, then the parameters that
        name the arrays' digest, the database, its log's ``generation`` and the prefix folded (``seq``)."""
        bandit = state.bandit
        buffer = io.BytesIO()
        np.savez(buffer, **bandit.arrays())
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        meta = {
            "format": SNAPSHOT_FORMAT, "database": database, "generation": generation, "seq": state.seq,
            "updates": state.updates, "arrays_sha256": digest, "policy": policy_record(bandit.config),
            "strategies": bandit.strategies, "n_features": bandit.n_features, "arms": bandit.arms,
            "pulls": bandit.stats.pulls, "reward": bandit.stats.reward,
            "shared": bandit.stats.shared, "alone": bandit.stats.alone,
            "rng": bandit.rng.bit_generator.state,
            "history": [[c, s, state.history.hits[(c, s)], state.history.pulls[(c, s)]] for c, s in state.history.pulls],
            "labelled_since_train": sorted(state.labelled_since_train),
        }
        with self._turn():
            write_atomic(self.arrays_path, lambda tmp: tmp.write_bytes(data))
            write_atomic(self.meta_path, lambda tmp: tmp.write_text(json.dumps(meta), encoding="utf-8"))

    def load(self, strategies: list[str], n_features: int, policy: PolicyConfig, last_seq: int,
             database: str, generation: int) -> LearningState | None:
        """The snapshot if it exists and checks out for ``database``, its log's ``generation``, these
        arms, this policy and a log that reaches ``last_seq``; otherwise None (a bad file is set
        aside, see :attr:`problem`)."""
        if not self.meta_path.exists():
            return None
        with self._turn():
            try:
                return self._read(strategies, n_features, policy, last_seq, database, generation)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.problem = (f"learning state snapshot in {self.directory} could not be used ({exc}); "
                                "set aside as *.unreadable and rebuilt from the feedback log")
                for path in (self.arrays_path, self.meta_path):
                    if path.exists():
                        path.replace(path.with_name(path.name + ".unreadable"))
                return None

    def _read(self, strategies: list[str], n_features: int, policy: PolicyConfig, last_seq: int,
              database: str, generation: int) -> LearningState | None:
        meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        if isinstance(meta, dict) and isinstance(meta.get("format"), int) and meta["format"] < SNAPSHOT_FORMAT:
            return None  # an older layout: a fresh fold of the log, the next save replaces it
        meta = _checked(meta)
        data = self.arrays_path.read_bytes()
        if meta["format"] != SNAPSHOT_FORMAT or hashlib.sha256(data).hexdigest() != meta["arrays_sha256"]:
            raise ValueError("format or checksum does not match its arrays")
        if meta["database"] != database:
            return None  # another database's (a copied or replaced file): a fresh fold of this one's log
        if meta["generation"] != generation:
            return None  # the log was reset or rewritten (a warm start) since: a fresh fold of it
        if (policy_from_record(meta["policy"]) != policy or meta["strategies"] != strategies
                or meta["n_features"] != n_features):
            return None  # another policy or feature layout: a fresh fold, the files stay valid for theirs
        if meta["seq"] > last_seq:
            return None  # a log that does not reach the snapshot: not the one it folded
        state = LearningState.fresh(strategies, n_features, policy)
        if meta["arms"] != state.bandit.arms:
            raise ValueError(f"field 'arms' is {meta['arms']!r}, expected {state.bandit.arms!r}")
        with np.load(io.BytesIO(data)) as arrays:
            state.bandit.load_arrays({name: arrays[name] for name in arrays.files})
        stats = state.bandit.stats
        stats.pulls = {a: int(n) for a, n in meta["pulls"].items()}
        stats.reward, stats.shared, stats.alone = ({a: float(n) for a, n in meta[name].items()}
                                                   for name in ("reward", "shared", "alone"))
        state.bandit.rng.bit_generator.state = meta["rng"]
        for category, strategy, hits, pulls in meta["history"]:
            state.history.hits[(category, strategy)] = float(hits)
            state.history.pulls[(category, strategy)] = float(pulls)
        state.seq, state.updates = meta["seq"], meta["updates"]
        state.labelled_since_train = set(meta["labelled_since_train"])
        return state

    def remove(self) -> None:
        for path in (self.arrays_path, self.meta_path):
            path.unlink(missing_ok=True)


def _checked(meta: object) -> dict:
    """The snapshot's parameters if every field is there with its type; ValueError naming the field."""
    if not isinstance(meta, dict):
        raise ValueError(f"state.json holds {type(meta).__name__}, expected an object")
    for name, kind in _META_TYPES.items():
        if name not in meta:
            raise ValueError(f"field {name!r} is missing")
        if not isinstance(meta[name], kind) or isinstance(meta[name], bool):
            raise ValueError(f"field {name!r} is {type(meta[name]).__name__}, expected {kind.__name__}")
    for name in ("seq", "updates"):
        if meta[name] < 0:
            raise ValueError(f"field {name!r} is {meta[name]}, expected >= 0")
    for name in _ARM_COUNTS:
        if not all(_is_count(n) for n in meta[name].values()) or not set(meta[name]) <= set(meta["arms"]):
            raise ValueError(f"field {name!r}: expected finite counts >= 0 of the snapshot's arms")
    for row in meta["history"]:
        if not (isinstance(row, list) and len(row) == 4 and all(isinstance(v, str) for v in row[:2])
                and all(_is_count(v) for v in row[2:])):
            raise ValueError(f"field 'history': {row!r} is not [category, strategy, hits, pulls]")
    if not all(isinstance(key, str) for key in meta["labelled_since_train"]):
        raise ValueError("field 'labelled_since_train': expected strings")
    return meta


def _is_count(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def policy_record(policy: PolicyConfig) -> dict:
    """A policy's fields as JSON values."""
    return {**asdict(policy), "depths": list(policy.depths)}


def policy_from_record(record: dict) -> PolicyConfig:
    """The policy :func:`policy_record` wrote (TypeError, ValueError or KeyError when it is not one)."""
    return PolicyConfig(**{**record, "depths": tuple(record["depths"])})
