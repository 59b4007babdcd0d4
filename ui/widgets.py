"""Reusable widgets and renderers: the context picker, strategy badges, trace tables.

They render what the engine returned; none computes retrieval, SQL or learning.
"""

from __future__ import annotations

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
    """The bandit's per-arm explanation (ArmScore records) as a display table, picked arms first."""
    rows = [
        {
            "arm": a.arm,
            "strategy": a.strategy,
            "depth": a.depth,
            "expected": round(a.expected, 4),
            "bonus": round(a.bonus, 4),
            "score": round(a.score, 4),
            "net": round(a.net, 4),
            "picked": "yes" if a.picked else "no",
            "why": a.why,
            "pulls": a.pulls,
            "mean reward": round(a.mean_reward, 3),
        }
        for a in arms
    ]
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    return df.sort_values(["picked", "score"], ascending=False, kind="stable").reset_index(drop=True)
