"""Plotly figure builders for the dashboard: tidy DataFrames in, figures out, coloured through the
one palette (:mod:`ui.palette`)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ltrr_core.services.simulation import SimulationSummary, SweepReport
from ltrr_core.vocabulary import base_strategy, color_for, colors_for

LAYOUT = dict(template="plotly_white", height=340, margin=dict(l=10, r=10, t=50, b=10), legend_title_text="")


def _finish(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, **LAYOUT)
    return fig


def bar(df: pd.DataFrame, x: str, y: str, title: str, x_title: str, y_title: str, color_by: str | None = None) -> go.Figure:
    """One bar per row of ``df``; bars coloured by ``color_by`` (names through the palette) when given."""
    colors = list(map(colors_for(df[color_by]).get, df[color_by].astype(str))) if color_by else None
    fig = go.Figure(go.Bar(x=df[x].astype(str), y=df[y], marker_color=colors, text=df[y], textposition="auto"))
    return _finish(fig, title, x_title, y_title)


def lines(
    df: pd.DataFrame, x: str, y: str, series: str, title: str, x_title: str, y_title: str, log_x: bool = False, dash: str | None = None
) -> go.Figure:
    """One line per value of ``series`` (long format: x, y, series); ``dash`` adds a dashed twin column."""
    fig = go.Figure()
    colors = colors_for(df[series].unique())
    for name, part in df.groupby(series, sort=True):
        color = colors[str(name)]
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
    colors = colors_for(df[group].unique())
    for name, part in df.groupby(group, sort=False):
        fig.add_trace(go.Bar(x=part[x].astype(str), y=part[y], name=str(name), marker_color=colors[str(name)]))
    fig.update_layout(barmode="group")
    return _finish(fig, title, x_title, y_title)


def intervals(
    df: pd.DataFrame, x: str, y: str, low: str, high: str, group: str, title: str, x_title: str, y_title: str,
    reference: float | None = None,
) -> go.Figure:
    """Point estimates with confidence-interval error bars, grouped bars per value of ``group``;
    ``reference`` draws a dashed horizontal line (e.g. the logged policy's value)."""
    fig = go.Figure()
    colors = colors_for(df[group].unique())
    for name, part in df.groupby(group, sort=False):
        fig.add_trace(
            go.Bar(
                x=part[x].astype(str), y=part[y], name=str(name), marker_color=colors[str(name)],
                error_y=dict(type="data", symmetric=False, array=part[high] - part[y], arrayminus=part[y] - part[low]),
            )
        )
    fig.update_layout(barmode="group")
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dash", annotation_text="logged policy")
    return _finish(fig, title, x_title, y_title)


def arm_scores(arms: pd.DataFrame) -> go.Figure:
    """Stacked expected reward + exploration bonus per arm (columns ``arm``, ``strategy``, ``expected``,
    ``bonus``, ``picked``), each bar in its strategy's palette colour, as the result badges;
    picked arms drawn solid, others faded."""
    opacity = [1.0 if p else 0.35 for p in arms["picked"]]
    colors = [color_for(s) for s in arms["strategy"]]
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
    for strategy in sorted({base_strategy(c.split(":", 1)[1]) for c in arms}):
        cols = [c for c in arms if base_strategy(c.split(":", 1)[1]) == strategy]
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


def summary_pulls(summary: SimulationSummary) -> pd.DataFrame:
    """Pull count and mean reward per arm (strategy@depth) of one run, as its summary reports them."""
    return pd.DataFrame({"arm": list(summary.per_arm), "pulls": [a.pulls for a in summary.per_arm.values()],
                         "mean reward": [a.mean_reward for a in summary.per_arm.values()]},
                        columns=["arm", "pulls", "mean reward"]).sort_values("pulls", ascending=False, kind="stable")


def summary_table(summaries: dict[str, SimulationSummary]) -> pd.DataFrame:
    """One row per run (its label as the index): rounds, hit rates, regret and candidates per search."""
    rows = {run: {"rounds": s.rounds, "hit_rate": s.hit_rate, "oracle_hit_rate": s.oracle_hit_rate,
                  "regret": s.cumulative_regret, "candidates": s.candidates_per_search} for run, s in summaries.items()}
    return pd.DataFrame.from_dict(rows, orient="index").round(3)


def mark_shift(fig: go.Figure, shift_at: int | None) -> go.Figure:
    """A dashed vertical line with a label at round ``shift_at`` (the traffic shift), when there is one."""
    if shift_at is not None:
        fig.add_vline(x=shift_at, line_dash="dash", line_color="#555555", annotation_text="traffic shift",
                      annotation_position="top left")
    return fig


def simulation_figures(history: pd.DataFrame, run: str, summary: SimulationSummary, log_x: bool = False,
                       window: int = 25, shift_at: int | None = None) -> dict[str, go.Figure]:
    """The live-learning charts: per-strategy reward (for ``run``) and pulls (its ``summary``'s); regret,
    hit rate and candidates (all runs); the round-based ones mark the traffic shift at ``shift_at``."""
    runs = history.assign(candidates_avg=history.groupby("run")["candidates"].transform(
        lambda s: s.rolling(window, min_periods=1).mean()))
    thin = _thin(runs, "run")
    rewards = _thin(strategy_rewards(history[history["run"] == run]), "strategy")
    pulls = summary_pulls(summary)
    figures = {
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
    return {name: fig if name == "pulls" else mark_shift(fig, shift_at) for name, fig in figures.items()}


def _rgba(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def bands(df: pd.DataFrame, x: str, y: str, low: str, high: str, series: str, title: str, x_title: str,
          y_title: str) -> go.Figure:
    """One line per value of ``series`` with its ``low``..``high`` interval as a shaded band
    (a finished sweep's mean cumulative regret and 95% interval per policy)."""
    fig = go.Figure()
    colors = colors_for(df[series].unique())
    for name, part in df.groupby(series, sort=False):
        color = colors[str(name)]
        fig.add_trace(go.Scatter(x=part[x], y=part[high], mode="lines", line=dict(width=0), showlegend=False,
                                 hoverinfo="skip", legendgroup=str(name)))
        fig.add_trace(go.Scatter(x=part[x], y=part[low], mode="lines", line=dict(width=0), fill="tonexty",
                                 fillcolor=_rgba(color, 0.18), showlegend=False, hoverinfo="skip", legendgroup=str(name)))
        fig.add_trace(go.Scatter(x=part[x], y=part[y], mode="lines", name=str(name), line=dict(color=color),
                                 legendgroup=str(name)))
    return _finish(fig, title, x_title, y_title)


def examination_curves(curve: pd.DataFrame, estimate: tuple[list[float], list[float], list[float]] | None) -> go.Figure:
    """P(examined) by rank: the prior, the curve in use and a fresh ``estimate`` (theta, low, high) with its
    interval as a band; a curve equal to another is drawn once, named for both (e.g. "prior (in use)")."""
    named = {"prior": curve["prior"].tolist()}
    if estimate is not None:
        named["estimate"] = list(estimate[0][:len(curve)])
    in_use = curve["in_use"].tolist()
    same = next((name for name, values in named.items() if _close(values, in_use)), None)
    frames = []
    for name, values in named.items():
        low, high = (estimate[1][:len(values)], estimate[2][:len(values)]) if name == "estimate" else (values, values)
        label = f"{name} (in use)" if name == same else name
        frames.append(pd.DataFrame({"rank": curve["rank"][:len(values)], "p": values, "low": low, "high": high,
                                    "series": label}))
    if same is None:
        frames.append(pd.DataFrame({"rank": curve["rank"], "p": in_use, "low": in_use, "high": in_use, "series": "in use"}))
    return bands(pd.concat(frames), "rank", "p", "low", "high", "series", "Examination curve", "rank", "P(examined)")


def _close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) < 1e-9 for x, y in zip(a, b))


def sweep_curves(sweep: SweepReport) -> pd.DataFrame:
    """A sweep report's per-round bands in long format: policy, round, mean, low, high."""
    return pd.concat([pd.DataFrame({"round": band.round, "mean": band.mean, "low": band.low, "high": band.high})
                      .assign(policy=policy) for policy, band in sweep.curves.items()], ignore_index=True)


def sweep_table(sweep: SweepReport) -> pd.DataFrame:
    """One row per policy: each figure as ``mean [low, high]`` over the sweep's seeds."""
    return pd.DataFrame([{"policy": policy, "seeds": len(figures.seeds),
                          **{figure: f"{v.mean:.3f} [{v.low:.3f}, {v.high:.3f}]"
                             for figure, v in figures.intervals().items()}}
                         for policy, figures in sweep.policies.items()])
