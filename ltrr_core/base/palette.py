"""The one colour palette: every strategy, ranker, policy and estimator keeps its colour on every
page and in every report, in charts (:func:`color_for`) and in badges (:func:`badge`). Names the palette
does not know (configurations such as ``lexical+semantic``) take a fallback colour; a chart colours
its names with :func:`colors_for`, which keeps them distinct within the chart."""

from __future__ import annotations

from typing import Iterable

from ltrr_core.base.strategy_depths import base_strategy

# strategy -> (chart colour, its Streamlit badge colour; .streamlit/config.toml sets that theme colour to it)
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
FALLBACK = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#e7ba52", "#6b6ecf", "#ad494a",
            "#b5cf6b", "#de9ed6", "#00a6a6", "#ffb000")  # none close to a palette colour


def _fallback_slot(key: str) -> int:
    return sum(map(ord, key)) % len(FALLBACK)


def color_for(name: str) -> str:
    """The one colour for a strategy / arm / ranker / policy / estimator name; unknown names get a stable fallback."""
    key = base_strategy(str(name))
    if key in PALETTE:
        return PALETTE[key]
    return FALLBACK[_fallback_slot(key)]


def colors_for(names: Iterable[object]) -> dict[str, str]:
    """A colour per distinct name of one chart, distinct within it while the fallback colours last: palette
    names keep theirs; each other name (sorted, so the order it is drawn in does not matter) takes its
    :func:`color_for` colour when free, else the next free fallback colour. Names sharing a base name
    (``semantic@25``, ``semantic@100``) share a colour."""
    keys = {str(name): base_strategy(str(name)) for name in names}
    by_key: dict[str, str] = {}
    for key in sorted(set(keys.values()), key=lambda k: (k not in PALETTE, k)):
        taken = set(by_key.values())
        if key in PALETTE and PALETTE[key] not in taken:
            by_key[key] = PALETTE[key]
            continue
        start = _fallback_slot(key)
        free = [FALLBACK[(start + i) % len(FALLBACK)] for i in range(len(FALLBACK))]
        by_key[key] = next((c for c in free if c not in taken), FALLBACK[start])
    return {name: by_key[key] for name, key in keys.items()}


def badge(strategy: str) -> str:
    """The Streamlit badge colour of ``strategy`` (``gray`` for one the palette does not know)."""
    return STRATEGIES.get(base_strategy(strategy), ("", "gray"))[1]
