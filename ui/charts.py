"""Plotly figure builders for the dashboard: tidy DataFrames in, figures out, coloured through the
one palette (:mod:`ui.palette`)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ui.palette import base_name, color_for

LAYOUT = dict(template="plotly_white", height=340, margin=dict(l=10, r=10, t=50, b=10), legend_title_text="")


def _finish(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, **LAYOUT)
    return fig


def bar(df: pd.DataFrame, x: str, y: str, title: str, x_title: str, y_title: str, color_by: str | None = None) -> go.Figure:
    """One bar per row of ``df``; bars coloured by ``color_by`` (names through the palette) when given."""
    colors = [color_for(v) for v in df[color_by]] if color_by else None
    fig = go.Figure(go.Bar(x=df[x].astype(str), y=df[y], marker_color=colors, text=df[y], textposition="auto"))
    return _finish(fig, title, x_title, y_title)


def lines(
    df: pd.DataFrame, x: str, y: str, series: str, title: str, x_title: str, y_title: str, log_x: bool = False, dash: str | None = None
) -> go.Figure:
    """One line per value of ``series`` (long format: x, y, series); ``dash`` adds a dashed twin column."""
    fig = go.Figure()
    for name, part in df.groupby(series, sort=True):
        color = color_for(name)
        fig.add_trace(go.Scatter(x=part[x], y=part[y], mode="lines", name=str(name), line=dict(color=color)))
        if dash:
            fig.add_trace(
                go.Scatter(x=part[x], y=part[dash], mode="lines", name=f"{name} ({dash})", line=dict(color=color, dash="dot"))
            )
    fig = _finish(fig, title, x_title, y_title)
    if log_x:
        fig.update_xaxes(type="log")
    return fig


def grouped_bars(df: pd.DataFrame, x: str, y: str, group: str, title: str, x_title: str, y_title: str) -> go.Figure:
    """Bars of ``y`` per ``x``, one coloured group per value of ``group`` (e.g. measure x system)."""
    fig = go.Figure()
    for name, part in df.groupby(group, sort=False):
        fig.add_trace(go.Bar(x=part[x].astype(str), y=part[y], name=str(name), marker_color=color_for(name)))
    fig.update_layout(barmode="group")
    return _finish(fig, title, x_title, y_title)


def intervals(
    df: pd.DataFrame, x: str, y: str, low: str, high: str, group: str, title: str, x_title: str, y_title: str,
    reference: float | None = None,
) -> go.Figure:
    """Point estimates with confidence-interval error bars, grouped bars per value of ``group``;
    ``reference`` draws a dashed horizontal line (e.g. the logged policy's value)."""
    fig = go.Figure()
    for name, part in df.groupby(group, sort=False):
        fig.add_trace(
            go.Bar(
                x=part[x].astype(str), y=part[y], name=str(name), marker_color=color_for(name),
                error_y=dict(type="data", symmetric=False, array=part[high] - part[y], arrayminus=part[y] - part[low]),
            )
        )
    fig.update_layout(barmode="group")
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dash", annotation_text="logged policy")
    return _finish(fig, title, x_title, y_title)


def arm_scores(arms: pd.DataFrame) -> go.Figure:
    """Stacked expected reward + exploration bonus per arm; picked arms drawn solid, others faded."""
    opacity = [1.0 if p else 0.35 for p in arms["picked"]]
    colors = [color_for(a) for a in arms["arm"]]
    fig = go.Figure(
        [
            go.Bar(x=arms["arm"], y=arms["expected"], name="expected reward", marker=dict(color=colors, opacity=opacity)),
            go.Bar(
                x=arms["arm"],
                y=arms["bonus"],
                name="exploration bonus",
                marker=dict(color=colors, opacity=[o * 0.5 for o in opacity], pattern_shape="/"),
            ),
        ]
    )
    fig.update_layout(barmode="stack")
    return _finish(fig, "Bandit arm scores (solid = picked)", "arm (strategy@depth)", "score")


# ---------------------------------------------------------------- simulation history -> figures
MAX_POINTS = 400


def _thin(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """At most MAX_POINTS rows per ``by`` group (evenly spaced, last row kept) so live redraws stay cheap."""
    parts = []
    for _, part in df.groupby(by, sort=False):
        step = max(1, len(part) // MAX_POINTS)
        parts.append(pd.concat([part.iloc[::step], part.iloc[[-1]]]).drop_duplicates("round"))
    return pd.concat(parts, ignore_index=True) if parts else df


def strategy_rewards(history: pd.DataFrame) -> pd.DataFrame:
    """Long frame (round, strategy, running mean reward, pulls) from the ``reward:<arm>`` columns of one run."""
    arms = [c for c in history.columns if c.startswith("reward:")]
    rows = []
    for strategy in sorted({base_name(c.split(":", 1)[1]) for c in arms}):
        cols = [c for c in arms if base_name(c.split(":", 1)[1]) == strategy]
        reward = history[cols].bfill(axis=1).iloc[:, 0]  # an arm is one strategy at one depth; one depth per search
        pulled = reward.notna()
        running = reward.fillna(0).cumsum() / pulled.cumsum().where(pulled.cumsum() > 0)
        rows.append(pd.DataFrame({"round": history["round"], "strategy": strategy, "reward": running, "pulls": pulled.cumsum()}))
    return pd.concat(rows, ignore_index=True).dropna(subset=["reward"]) if rows else pd.DataFrame(
        columns=["round", "strategy", "reward", "pulls"])


def arm_pulls(history: pd.DataFrame) -> pd.DataFrame:
    """Pull count and mean reward per arm (strategy@depth) over one run."""
    arms = [c for c in history.columns if c.startswith("reward:")]
    return pd.DataFrame(
        {
            "arm": [c.split(":", 1)[1] for c in arms],
            "pulls": [int(history[c].notna().sum()) for c in arms],
            "mean reward": [round(float(history[c].mean()), 3) if history[c].notna().any() else 0.0 for c in arms],
        }
    ).sort_values("pulls", ascending=False)


def simulation_figures(history: pd.DataFrame, run: str, log_x: bool = False, window: int = 25) -> dict[str, go.Figure]:
    """The live-learning charts: per-strategy reward and pulls (for ``run``), regret, hit rate, candidates (all runs)."""
    runs = history.assign(candidates_avg=history.groupby("run")["candidates"].transform(
        lambda s: s.rolling(window, min_periods=1).mean()))
    thin = _thin(runs, "run")
    one = history[history["run"] == run]
    rewards = _thin(strategy_rewards(one), "strategy")
    pulls = arm_pulls(one)
    return {
        "rewards": lines(rewards, "round", "reward", "strategy", f"Running reward per strategy ({run})", "round",
                         "mean reward when picked"),
        "pulls": bar(pulls, "arm", "pulls", f"Pulls per arm ({run})", "arm (strategy@depth)", "times picked", color_by="arm"),
        "regret": lines(thin, "round", "cum_regret", "run", "Cumulative regret vs the oracle (all strategies)", "round",
                        "cumulative regret", log_x=log_x),
        "hit_rate": lines(thin, "round", "hit_rate", "run", "Hit rate (dotted: oracle hit rate)", "round",
                          "share of searches with the target in the candidates", dash="oracle_hit_rate"),
        "candidates": lines(thin, "round", "candidates_avg", "run", f"Candidates per search (rolling mean of {window})",
                            "round", "candidates"),
    }


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def bands(df: pd.DataFrame, x: str, y: str, low: str, high: str, series: str, title: str, x_title: str,
          y_title: str) -> go.Figure:
    """One line per value of ``series`` with its ``low``..``high`` interval as a shaded band
    (a finished sweep's mean cumulative regret and 95% interval per policy)."""
    fig = go.Figure()
    for name, part in df.groupby(series, sort=False):
        color = color_for(name)
        fig.add_trace(go.Scatter(x=part[x], y=part[high], mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip", legendgroup=str(name)))
        fig.add_trace(go.Scatter(x=part[x], y=part[low], mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor=_rgba(color, 0.18), showlegend=False, hoverinfo="skip", legendgroup=str(name)))
        fig.add_trace(go.Scatter(x=part[x], y=part[y], mode="lines", name=str(name), line=dict(color=color),
                                 legendgroup=str(name)))
    return _finish(fig, title, x_title, y_title)


def sweep_curves(sweep: dict) -> pd.DataFrame:
    """A sweep report's per-round bands in long format: policy, round, mean, low, high."""
    return pd.concat([pd.DataFrame(curve).assign(policy=policy) for policy, curve in sweep["curves"].items()],
                     ignore_index=True)


def sweep_table(sweep: dict) -> pd.DataFrame:
    """One row per policy: each figure as ``mean [low, high]`` over the sweep's seeds."""
    rows = []
    for policy, figures in sweep["policies"].items():
        row = {"policy": policy, "seeds": len(figures["seeds"])}
        for figure, value in figures.items():
            if figure != "seeds":
                row[figure] = f"{value['mean']:.3f} [{value['low']:.3f}, {value['high']:.3f}]"
        rows.append(row)
    return pd.DataFrame(rows)
