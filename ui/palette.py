"""The one colour palette of the dashboard: every strategy, ranker, policy and estimator keeps its
colour on every page, in charts (:func:`color_for`) and in badges (:func:`badge`)."""

from __future__ import annotations

# strategy -> (chart colour, the Streamlit badge colour closest to it)
STRATEGIES = {
    "lexical": ("#1f77b4", "blue"),
    "semantic": ("#ff7f0e", "orange"),
    "structured": ("#2ca02c", "green"),
    "memory": ("#9467bd", "violet"),
    "popular": ("#7f7f7f", "gray"),
    "explore": ("#d62728", "red"),
}
SYSTEMS = {"fusion": "#17becf", "ltr": "#e377c2", "oracle": "#000000"}
POLICIES = {"linucb": "#1f77b4", "lints": "#2ca02c", "egreedy": "#ff7f0e", "random": "#8c564b", "all": "#bcbd22"}
ESTIMATORS = {"ips": "#4c78a8", "snips": "#72b7b2", "dm": "#f58518", "dr": "#e45756", "sndr": "#54a24b",
              "switch-dr": "#b279a2"}
STRATEGY_COLORS = {name: chart for name, (chart, _) in STRATEGIES.items()}
PALETTE = {**STRATEGY_COLORS, **SYSTEMS, **POLICIES, **ESTIMATORS}
FALLBACK = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#31a354", "#756bb1")


def base_name(name: str) -> str:
    """``semantic@100`` -> ``semantic``; ``fixed:lexical`` -> ``lexical``; ``lexical+semantic`` -> itself."""
    name = str(name).split("@", 1)[0]
    return name.split(":", 1)[1] if name.startswith("fixed:") else name


def color_for(name: str) -> str:
    """The one colour for a strategy / arm / ranker / policy / estimator name; unknown names get a stable fallback."""
    key = base_name(name)
    if key in PALETTE:
        return PALETTE[key]
    return FALLBACK[sum(map(ord, key)) % len(FALLBACK)]


def badge(strategy: str) -> str:
    """The Streamlit badge colour of ``strategy`` (``gray`` for one the palette does not know)."""
    return STRATEGIES.get(base_name(strategy), ("", "gray"))[1]
