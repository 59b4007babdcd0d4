"""A report for stakeholders as a value: sections, each with its sentences, its chart and its
interval, and the setup the figures came from. Builders for each kind of stored result live beside
this module; :mod:`ltrr_core.reporting.html` renders a report as one self-contained HTML file."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from ltrr_core.base import intervals
from ltrr_core.base.palette import colors_for

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    """A figure's confidence interval, what it is (e.g. ``"95% Wilson interval, 300 searches"``) and
    whether it bounds a share (shown as percentages)."""

    low: float
    high: float
    how: str
    share: bool = True


@dataclass(frozen=True)
class Section:
    """One finding: the sentences a product manager reads, the chart that shows it, and the
    intervals of the figures the sentences quote (by what they measure)."""

    title: str
    sentences: tuple[str, ...]
    figure: go.Figure
    intervals: tuple[tuple[str, Interval], ...] = ()


@dataclass(frozen=True)
class Report:
    """A report: its ``kind`` (simulation, sweep, experiment, interleaving), title, sections and
    the setup behind them (label, value), shown last."""

    kind: str
    title: str
    sections: tuple[Section, ...]
    setup: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def sentences(self) -> list[str]:
        """Every section's sentences, in order."""
        return [s for section in self.sections for s in section.sentences]


def pct(x: float) -> str:
    """A share as a percentage with one decimal: ``0.9174 -> "91.7%"``."""
    return f"{100 * x:.1f}%"


def share_interval(successes: int, n: int, unit: str) -> Interval:
    """The 95% Wilson interval of ``successes`` out of ``n`` ``unit``."""
    low, high = intervals.share_interval(successes, n, LEVEL)
    return Interval(low, high, f"95% Wilson interval, {n:,} {unit}")


def mean_interval(values: np.ndarray, unit: str) -> Interval:
    """The 95% Student-t interval of a mean over ``len(values)`` ``unit``."""
    _, low, high = intervals.mean_interval(values, LEVEL)
    return Interval(low, high, f"95% interval of the mean, {len(values):,} {unit}", share=False)


def interval_text(interval: Interval) -> str:
    """``"88.1% to 94.3% (95% Wilson interval, 300 searches)"``."""
    show = pct if interval.share else (lambda v: f"{v:,.3g}")
    return f"{show(interval.low)} to {show(interval.high)} ({interval.how})"


def bar_chart(title: str, names: list[str], values: list[float], intervals: list[Interval], axis: str,
              percent: bool = True) -> go.Figure:
    """Bars with their intervals as error bars."""
    figure = go.Figure(go.Bar(
        x=names, y=values, marker_color=list(colors_for(names).values()), text=[pct(v) if percent else f"{v:,.3g}" for v in values], textposition="outside",
        error_y=dict(type="data", symmetric=False, array=[i.high - v for v, i in zip(values, intervals)],
                     arrayminus=[v - i.low for v, i in zip(values, intervals)])))
    figure.update_layout(title=title, yaxis_title=axis, yaxis_tickformat=".0%" if percent else None,
                         margin=dict(t=50, b=40, l=60, r=20), height=380, template="plotly_white")
    return figure


def line_chart(title: str, curves: dict[str, tuple[list[float], list[float]]], axis: str, x_axis: str,
               bands: dict[str, tuple[list[float], list[float]]] | None = None) -> go.Figure:
    """One line per name (x, y), with an optional shaded band (low, high) under each."""
    figure, colors = go.Figure(), colors_for(curves)
    for name, (x, y) in curves.items():
        if bands and name in bands:
            low, high = bands[name]
            figure.add_trace(go.Scatter(x=list(x) + list(x)[::-1], y=list(high) + list(low)[::-1], fill="toself",
                                        line=dict(width=0), fillcolor=colors[name], opacity=0.2, showlegend=False, hoverinfo="skip",
                                        name=f"{name} interval"))
        figure.add_trace(go.Scatter(x=list(x), y=list(y), mode="lines", name=name, line=dict(color=colors[name])))
    figure.update_layout(title=title, yaxis_title=axis, xaxis_title=x_axis, height=380,
                         margin=dict(t=50, b=40, l=60, r=20), template="plotly_white")
    return figure
