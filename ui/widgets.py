"""Reusable widgets and renderers: the context picker, strategy badges, trace tables.

They render what the engine returned; none computes retrieval, SQL or learning.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd
import streamlit as st

from ltrr_core.services.simulation import SimulationService
from ltrr_core.vocabulary import Context, RetrainDecision, UserProfile, badge

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ANONYMOUS = "anonymous (no profile)"


@st.cache_resource(show_spinner=False)
def profiles(catalog_hash: str, _simulation: SimulationService) -> list[UserProfile]:
    """Simulated user profiles of the catalog with ``catalog_hash`` (deterministic, seed 0)."""
    return _simulation.user_profiles(n=12, seed=0)


def profile_label(profile: UserProfile) -> str:
    tastes = ", ".join(profile.favourite_genres) or "no genres"
    kinds = ", ".join(profile.preferred_types) or "any type"
    return f"{profile.id} — likes {tastes}; prefers {kinds}"


def context_picker(simulation: SimulationService, catalog_hash: str, key: str = "ctx") -> Context:
    """User / hour / weekday / holiday choosers; returns the Context they describe."""
    users = profiles(catalog_hash, simulation)
    by_label = {ANONYMOUS: UserProfile()} | {profile_label(p): p for p in users}
    cols = st.columns([3, 1, 1, 1])
    label = cols[0].selectbox("Simulated user", list(by_label), key=f"{key}_user")
    hour = cols[1].number_input("Hour", min_value=0, max_value=23, value=20, step=1, key=f"{key}_hour")
    weekday = cols[2].selectbox("Weekday", range(7), index=4, format_func=WEEKDAYS.__getitem__, key=f"{key}_weekday")
    holiday = cols[3].toggle("Holiday", value=False, key=f"{key}_holiday")
    return Context(user=by_label[label], weekday=int(weekday), hour=int(hour), holiday=bool(holiday))


def context_params(context: Context) -> dict[str, str]:
    """``context`` as URL query parameters (read back by :func:`restore_context`)."""
    return {"user": context.user.id, "hour": str(context.hour), "weekday": str(context.weekday),
            "holiday": "1" if context.holiday else "0"}


def restore_context(params, simulation: SimulationService, catalog_hash: str, key: str = "ctx") -> None:
    """Preset the :func:`context_picker` widgets from URL ``params`` (call before it is drawn);
    a missing or unreadable parameter leaves its widget as it is."""
    labels = {p.id: profile_label(p) for p in profiles(catalog_hash, simulation)} | {"anonymous": ANONYMOUS}
    if params.get("user") in labels:
        st.session_state[f"{key}_user"] = labels[params["user"]]
    for name, top in (("hour", 23), ("weekday", 6)):
        value = params.get(name, "")
        if value.isdigit() and int(value) <= top:
            st.session_state[f"{key}_{name}"] = int(value)
    if params.get("holiday") in ("0", "1"):
        st.session_state[f"{key}_holiday"] = params["holiday"] == "1"


def retrain_outcome(decision: RetrainDecision, groups: str) -> None:
    """Whether a trained ranker went live, with its held-out nDCG@10 against the previous one's."""
    (st.success if decision.accepted else st.warning)(
        f"{decision.reason} (held-out nDCG@10 {decision.candidate_ndcg10:.3f} vs {decision.previous_ndcg10:.3f}; "
        f"{decision.train_groups} {groups})")


def strategy_badges(found_by) -> str:
    """Markdown badges (``:color-badge[name]``) for the strategies that found a result."""
    return " ".join(f":{badge(s)}-badge[{s}]" for s in found_by)


def arm_frame(arms) -> pd.DataFrame:
    """The bandit's per-arm explanation (ArmScore records) as a display table in words, picked arms
    first: the expected reward with its uncertainty and pulls, the exploration bonus, the net score
    after the depth cost and the bandit's reason; ``expected`` and ``bonus`` stay numbers for the chart."""
    rows = [
        {
            "arm": a.arm,
            "picked": "yes" if a.picked else "no",
            "why": a.why,
            "expected reward (± uncertainty)": expected_words(a),
            "exploration bonus": f"{a.bonus:+.3f} ({a.bonus_why})",
            "net score after the depth cost": f"score {a.score:.3f} - depth cost {a.score - a.net:.3f} "
                                              f"({a.depth} candidates) = {a.net:.3f}",
            "strategy": a.strategy,
            "expected": round(a.expected, 4),
            "bonus": round(a.bonus, 4),
            "net": round(a.net, 4),
        }
        for a in arms
    ]
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    return df.sort_values(["picked", "net"], ascending=False, kind="stable").reset_index(drop=True)


def expected_words(arm) -> str:
    """An ArmScore's expected reward with its interval and where it comes from: the prior before any pull."""
    value = f"{arm.expected:.3f} ± {arm.uncertainty:.3f}"
    if not arm.pulls:
        return f"no pulls yet: expected reward is the prior, {value}"
    return f"{value} after {arm.pulls} pull{'s' if arm.pulls != 1 else ''} (mean reward {arm.mean_reward:.2f})"


class ChosenSubset(Protocol):
    """What :func:`propensity_sentence` reads of the bandit's Selection record."""

    propensity: float
    explored: bool
    exploration_rate: float


def percent(p: float) -> str:
    """A probability as a percentage that never rounds to a wrong 0% or 100%: 0.97 -> "97%",
    0.9973 -> "99.7%", 0.00042 -> "0.042%"."""
    if p <= 0 or p >= 1 or 0.01 <= p <= 0.99:
        return f"{p:.0%}"
    if p < 0.01:
        return f"{p * 100:.2g}%"
    return next((text for digits in range(1, 5) if not (text := f"{p:.{digits}%}").startswith("100")), "over 99.99%")


def propensity_sentence(selection: ChosenSubset) -> str:
    """The chosen subset's propensity and the policy's exploration rate in one sentence, e.g. "This
    subset had a 97% chance of being chosen; 3% of searches explore a random subset."
    """
    rate = selection.exploration_rate
    chance = f"This subset had a {percent(selection.propensity)} chance of being chosen"
    if rate >= 1:
        return f"{chance}; every search draws a random subset."
    if rate <= 0:
        return f"{chance}; this policy never explores a random subset."
    explore = f"{percent(rate)} of searches explore a random subset"
    return f"{chance}; {explore}, and this search was one of them." if selection.explored else f"{chance}; {explore}."
