"""The learning face: which policy the bandit follows (and the one list of policies to choose from),
what it has learnt (arm statistics, the settled rounds), forgetting it, and off-policy estimates of
what another policy would have done on the logged searches (or on another system's bandit data),
and what saved sweeps of seeded simulations say of each policy."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Sequence

import pandas as pd

from ltrr_core.base.records import BanditLogRecord
from ltrr_core.evaluation.offpolicy import PolicyEstimate, evaluate_policies, evaluate_policy
from ltrr_core.evaluation.ope import Estimate, OffPolicyEvaluation, load_feedback
from ltrr_core.selection.bandit import POLICIES, PolicyConfig
from ltrr_core.services.runtime import Runtime
from ltrr_core.simulation.sweep_reports import SweepReport, load_report, saved_reports, sweeps_dir


def policy_names(strategies: Sequence[str], fixed: bool = True) -> list[str]:
    """Every policy one can choose over ``strategies``, in :data:`POLICIES` order: the named ones,
    then (``fixed``) ``fixed:<strategy>`` for each strategy. The one list pages and the CLI offer."""
    named = [name for name in POLICIES if name != "fixed"]
    return named + ([f"fixed:{s}" for s in strategies] if fixed else [])


@dataclass(frozen=True)
class LoggedDataEstimate:
    """Off-policy estimates from another system's logged bandit data: its ``n`` rounds and the
    estimate per estimator."""

    n: int
    estimates: dict[str, Estimate]

    def to_json(self) -> dict:
        """As JSON (``ltrr ope --obp --json``)."""
        return asdict(self)


def estimate_logged_data(path: str, n_bootstrap: int = 200, seed: int = 7) -> LoggedDataEstimate:
    """Off-policy estimates from another system's logged bandit data (an ``.npz`` of ``action``,
    ``reward``, ``pscore``, ``action_dist`` ...)."""
    feedback = load_feedback(path)
    table = OffPolicyEvaluation(feedback).summarize_off_policy_estimates(
        feedback["action_dist"], n_bootstrap_samples=n_bootstrap, random_state=seed)
    rows = table.to_dict(orient="index")
    return LoggedDataEstimate(feedback["n_rounds"], {name: Estimate(**row) for name, row in rows.items()})


class LearningService:
    """The bandit's policy, its learnt state and off-policy estimates over one :class:`Runtime`."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    @property
    def policy(self) -> PolicyConfig:
        """The policy chosen for this database: the one every process sharing it follows."""
        return self._rt.loop.chosen_policy()

    def policy_names(self) -> list[str]:
        """:func:`policy_names` over this catalog's strategies."""
        return policy_names(self._rt.strategy_names)

    def set_policy(self, policy: PolicyConfig) -> None:
        """Choose the policy for this database (stored in it: every process sharing it refolds under
        it at its next catch-up); this process's state becomes its fold of the log, saved."""
        self._rt.loop.set_policy(policy)

    def tune_policy(self, **changes) -> PolicyConfig:
        """Switch to the chosen policy with ``changes`` (e.g. ``name``, ``alpha``); every field not
        named keeps its value. The new policy, or ValueError naming the field."""
        policy = replace(self.policy, **changes)
        self.set_policy(policy)
        return policy

    def save_state(self) -> None:
        """Write a snapshot of the learning state now (the log already holds every settled round)."""
        self._rt.loop.save()

    def reset_learning(self) -> dict[str, int]:
        """Forget this database's log, learning state and memory feedback (graded labels are kept)."""
        rt = self._rt
        with rt.lock:
            rt.rankers.reset()
            rt.ranker_path.unlink(missing_ok=True)
            return rt.loop.reset()

    def learning_history(self) -> pd.DataFrame:
        """One row per settled search, in the order the reward windows closed: ``round``,
        ``search_id``, ``reason``, ``rewarded`` (any arm earned 1) and ``reward:<arm>`` per picked arm."""
        rows = [{"round": i, "search_id": r.search_id, "reason": r.reason, "rewarded": max(r.rewards.values()) > 0,
                 **{f"reward:{arm}": reward for arm, reward in r.rewards.items()}}
                for i, r in enumerate(self._rt.store.settled_rounds(), start=1)]
        return pd.DataFrame(rows, columns=None if rows else ["round", "search_id", "reason", "rewarded"])

    def arm_stats(self) -> pd.DataFrame:
        """Per arm: its pulls and mean reward so far."""
        bandit = self._rt.state.bandit
        return pd.DataFrame([{"arm": a, "pulls": bandit.stats.pulls.get(a, 0), "mean_reward": bandit.stats.mean(a)}
                             for a in bandit.arms])

    def bandit_log(self, source: str | None = None) -> list[BanditLogRecord]:
        """Every settled search as a typed bandit-log record (context, chosen subset, propensity, rewards)."""
        return self._rt.store.bandit_log(source=source)

    def evaluate_policy(self, target: str, n_bootstrap: int = 200, seed: int = 7,
                        source: str | None = None) -> PolicyEstimate:
        """Off-policy estimates (IPS, SNIPS, DM, DR, SNDR, Switch-DR) of ``target`` from the logged
        searches, its support, and which estimator the validation table says to trust."""
        return evaluate_policy(self._rt.state.bandit, self.bandit_log(source), target, n_bootstrap, seed)

    def evaluate_policies(self, targets: list[str], n_bootstrap: int = 200, seed: int = 7,
                          source: str | None = None) -> dict[str, PolicyEstimate]:
        """:meth:`evaluate_policy` for several targets sharing one reward model and its bootstrap refits."""
        return evaluate_policies(self._rt.state.bandit, self.bandit_log(source), targets, n_bootstrap, seed)

    def saved_sweeps(self) -> list[str]:
        """Names of the finished sweeps (``ltrr sweep``) saved beside this database, newest first."""
        return [path.stem for path in saved_reports(self._rt.settings)]

    def load_sweep(self, name: str) -> SweepReport:
        """A saved sweep report: per policy the mean and 95% interval of regret, hit rate and
        candidates, and the per-round regret band (:mod:`ltrr_core.services.sweeps`)."""
        if name not in self.saved_sweeps():
            raise KeyError(f"sweep {name!r}: not saved beside {self._rt.settings.db_path}; run `ltrr sweep` first")
        return load_report(sweeps_dir(self._rt.settings) / f"{name}.json")
