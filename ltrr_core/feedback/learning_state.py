"""The learning state as a fold over the feedback log, with snapshots that make the fold short.

The bandit (every arm's ridge model and pull counts) and the per-category hit history are a
function of the settled rounds in the store, in the order they settled. On start the engine
loads the snapshot (``state.npz`` arrays + ``state.json`` parameters), checks it against the
arms and the log, and folds only the rounds settled after the snapshot's last one; with no
usable snapshot it folds the whole log. A snapshot that does not load or check is moved aside as
``*.unreadable`` (the reason is kept in :attr:`StateFiles.problem`) and the state is rebuilt.
Files are written atomically (temporary file, then rename; the parameters carry the arrays'
checksum, so a pair from two different saves is caught); nothing is pickled.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from ltrr_core.base.records import REPLAYED, SettledRound
from ltrr_core.base.cache import write_atomic
from ltrr_core.selection.bandit import Bandit, PolicyConfig, split_arm
from ltrr_core.selection.context import HitHistory

SNAPSHOT_FORMAT = 3  # 2: the arms' shared / alone counts; 3: replayed rounds weighted (older: rebuilt from the log)


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

    def saved_policy(self) -> PolicyConfig | None:
        """The policy of the last snapshot (the one chosen on the settings page), if readable."""
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            return _policy(meta["policy"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, state: LearningState) -> None:
        """Write the snapshot atomically: the arrays, then the parameters that name the arrays' digest."""
        bandit = state.bandit
        buffer = io.BytesIO()
        np.savez(buffer, **bandit.arrays())
        data = buffer.getvalue()
        digest = hashlib.sha256(data).hexdigest()
        meta = {
            "format": SNAPSHOT_FORMAT, "seq": state.seq, "updates": state.updates, "arrays_sha256": digest,
            "policy": {**asdict(bandit.config), "depths": list(bandit.config.depths)},
            "strategies": bandit.strategies, "n_features": bandit.n_features, "arms": bandit.arms,
            "pulls": bandit.stats.pulls, "reward": bandit.stats.reward,
            "shared": bandit.stats.shared, "alone": bandit.stats.alone,
            "rng": bandit.rng.bit_generator.state,
            "history": [[c, s, state.history.hits[(c, s)], state.history.pulls[(c, s)]] for c, s in state.history.pulls],
            "labelled_since_train": sorted(state.labelled_since_train),
        }
        write_atomic(self.arrays_path, lambda tmp: tmp.write_bytes(data))
        write_atomic(self.meta_path, lambda tmp: tmp.write_text(json.dumps(meta), encoding="utf-8"))

    def load(self, strategies: list[str], n_features: int, policy: PolicyConfig, last_seq: int) -> LearningState | None:
        """The snapshot if it exists and checks out for these arms, this policy and a log that
        reaches ``last_seq``; otherwise None (a bad file is set aside, see :attr:`problem`)."""
        if not self.meta_path.exists():
            return None
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
            data = self.arrays_path.read_bytes()
            if isinstance(meta.get("format"), int) and meta["format"] < SNAPSHOT_FORMAT:
                return None  # an older layout: a fresh fold of the log, the next save replaces it
            if meta.get("format") != SNAPSHOT_FORMAT or hashlib.sha256(data).hexdigest() != meta.get("arrays_sha256"):
                raise ValueError("format or checksum does not match its arrays")
            if _policy(meta["policy"]) != policy or meta["strategies"] != strategies or meta["n_features"] != n_features:
                return None  # another policy or feature layout: a fresh fold, the files stay valid for theirs
            if meta["seq"] > last_seq:
                return None  # the log was reset or replaced under the snapshot
            state = LearningState.fresh(strategies, n_features, policy)
            with np.load(io.BytesIO(data)) as arrays:
                state.bandit.load_arrays({name: arrays[name] for name in arrays.files})
            state.bandit.stats.pulls = {a: int(n) for a, n in meta["pulls"].items()}
            state.bandit.stats.reward = {a: float(r) for a, r in meta["reward"].items()}
            state.bandit.stats.shared = {a: float(n) for a, n in meta["shared"].items()}
            state.bandit.stats.alone = {a: float(n) for a, n in meta["alone"].items()}
            state.bandit.rng.bit_generator.state = meta["rng"]
            for category, strategy, hits, pulls in meta["history"]:
                state.history.hits[(category, strategy)] = float(hits)
                state.history.pulls[(category, strategy)] = float(pulls)
            state.seq, state.updates = int(meta["seq"]), int(meta["updates"])
            state.labelled_since_train = set(meta["labelled_since_train"])
            return state
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.problem = (f"learning state snapshot in {self.directory} could not be used ({exc}); "
                            "set aside as *.unreadable and rebuilt from the feedback log")
            for path in (self.arrays_path, self.meta_path):
                if path.exists():
                    path.replace(path.with_name(path.name + ".unreadable"))
            return None

    def remove(self) -> None:
        for path in (self.arrays_path, self.meta_path):
            path.unlink(missing_ok=True)


def _policy(record: dict) -> PolicyConfig:
    return PolicyConfig(**{**record, "depths": tuple(record["depths"])})
