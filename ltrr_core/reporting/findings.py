"""The comparison every policy report makes, in words: how often the bandit found the wanted item
against running every strategy and against the best single strategy, at what cost."""

from __future__ import annotations

from dataclasses import dataclass

from ltrr_core.reporting.report import Interval, pct

LEARNERS = ("linucb", "lints", "egreedy")  # the bandit's policies, in the order one is picked to speak for it
EVERY = "all"
SINGLE = "fixed:"


@dataclass(frozen=True)
class PolicyFigures:
    """One policy's stored figures: the share of searches that found the wanted item and the
    candidates per search, each with its interval."""

    policy: str
    hit_rate: float
    hit_interval: Interval
    candidates: float
    candidates_interval: Interval


def the_bandit(policies: list[str], preferred: str | None = None) -> str:
    """The policy that speaks for the bandit: ``preferred`` when it is a learner, else the first learner run."""
    if preferred in policies and preferred.split(":")[0] in LEARNERS:
        return preferred
    return next((p for p in policies if p.split(":")[0] in LEARNERS), policies[0])


def best_single(figures: dict[str, PolicyFigures]) -> PolicyFigures | None:
    """The single-strategy policy (``fixed:<one strategy>``) with the highest hit rate, if any ran."""
    singles = [f for p, f in figures.items() if p.startswith(SINGLE) and "+" not in p]
    return max(singles, key=lambda f: f.hit_rate) if singles else None


def _as_often(hit: float, every: float) -> str:
    if abs(hit - every) < 0.005:
        return "as often as"
    if hit > every:
        return "more often than"
    return "almost as often as" if every - hit <= 0.05 else "less often than"


def _fewer(candidates: float, every: float) -> str:
    if every <= 0:
        return ""
    change = 1 - candidates / every
    return f", with {abs(change):.0%} {'fewer' if change >= 0 else 'more'} candidates"


def _gap(hit: float, every: float, single: float) -> str:
    if every <= single:
        return ""
    if hit <= single:
        return "; it did not beat the best single strategy"
    closed = min(1.0, (hit - single) / (every - single))
    return f"; it closed {closed:.0%} of the gap between the best single strategy and all of them"


def finding_sentence(bandit: PolicyFigures, every: PolicyFigures | None, single: PolicyFigures | None,
                     every_label: str = "running every strategy", found: str = "found") -> str:
    """E.g. "The bandit (linucb) found the wanted item in 91.7% of searches, almost as often as running
    every strategy (94.3%), with 45% fewer candidates; the best single strategy (fixed:lexical) found
    80.2%; it closed 80% of the gap between the best single strategy and all of them." ``every`` with
    no candidates (0) leaves the cost out."""
    text = f"The bandit ({bandit.policy}) {found} the wanted item in {pct(bandit.hit_rate)} of searches"
    if every is not None:
        text += f", {_as_often(bandit.hit_rate, every.hit_rate)} {every_label} ({pct(every.hit_rate)})"
        text += _fewer(bandit.candidates, every.candidates)
    if single is not None:
        text += f"; the best single strategy ({single.policy.removeprefix(SINGLE)}) {found} {pct(single.hit_rate)}"
        if every is not None:
            text += _gap(bandit.hit_rate, every.hit_rate, single.hit_rate)
    return text + "."


def truth_sentence(bandit: PolicyFigures, oracle: float, single_found: dict[str, float]) -> str:
    """One run, from its truth: "The bandit (linucb) found the wanted item in 91.7% of searches; some
    strategy at full depth could have found it in 94.3%; the best single strategy (lexical) alone in
    80.2%; it closed 80% of the gap ..."."""
    text = (f"The bandit ({bandit.policy}) found the wanted item in {pct(bandit.hit_rate)} of searches; some "
            f"strategy at full depth could have found it in {pct(oracle)}")
    if single_found:
        name, rate = max(single_found.items(), key=lambda kv: kv[1])
        text += f"; the best single strategy ({name}) alone in {pct(rate)}" + _gap(bandit.hit_rate, oracle, rate)
    return text + "."


def others_sentence(figures: dict[str, PolicyFigures], named: set[str]) -> str | None:
    """The policies the finding did not name, best first: "The others: lints 90.1%, random 70.3%."."""
    rest = sorted((f for p, f in figures.items() if p not in named), key=lambda f: -f.hit_rate)
    return f"The others: {', '.join(f'{f.policy} {pct(f.hit_rate)}' for f in rest)}." if rest else None


def cost_sentence(bandit: PolicyFigures, every: PolicyFigures | None, single: PolicyFigures | None) -> str:
    """Candidates pulled per search: "The bandit (linucb) pulled 99 candidates per search; every strategy 180."."""
    text = f"The bandit ({bandit.policy}) pulled {bandit.candidates:,.0f} candidates per search"
    if every is not None and every.candidates > 0:
        text += f"; running every strategy pulled {every.candidates:,.0f}"
    if single is not None:
        text += f"; the best single strategy ({single.policy.removeprefix(SINGLE)}) {single.candidates:,.0f}"
    return text + "."
