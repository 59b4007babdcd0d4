"""The dashboard's figure builders: one colour per strategy everywhere, correct running rewards."""

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from ltrr_core.evaluation.estimators import ESTIMATORS
from ltrr_core.retrieval.registry import REGISTRY
from ltrr_core.services.simulation_runs import ArmFigures, RewardSignal, SimulationSummary
from ltrr_core.simulation.sweep_reports import RegretBand, SweepReport
from ltrr_core.base import palette
from ui import charts

ROOT = Path(__file__).resolve().parents[2]


def test_one_colour_per_strategy_across_arm_and_policy_names():
    assert palette.color_for("semantic@100") == palette.color_for("semantic@25") == palette.color_for("fixed:semantic")
    assert len({palette.color_for(s) for s in palette.STRATEGY_COLORS}) == len(palette.STRATEGY_COLORS)
    assert palette.color_for("some-new-strategy") == palette.color_for("some-new-strategy@10")


def test_the_one_palette_covers_every_strategy_and_estimator_with_distinct_colours():
    assert set(palette.STRATEGIES) == set(REGISTRY)
    assert set(ESTIMATORS) <= set(palette.ESTIMATORS)  # sndr and switch-dr included
    assert len(set(palette.ESTIMATORS.values())) == len(palette.ESTIMATORS)
    badges = [palette.badge(s) for s in palette.STRATEGIES]
    assert len(set(badges)) == len(badges) and palette.badge("semantic@25") == palette.badge("semantic")


def history() -> pd.DataFrame:
    # lexical picked at depth 25 then 100 (rewards 1, 0, 1); semantic picked in rounds 2 and 3 (0, 1)
    return pd.DataFrame({
        "round": [1, 2, 3],
        "run": ["linucb"] * 3,
        "reward:lexical@25": [1.0, None, 1.0],
        "reward:lexical@100": [None, 0.0, None],
        "reward:semantic@25": [None, 0.0, 1.0],
        "candidates": [25, 125, 50],
        "cum_regret": [0, 1, 1],
        "hit_rate": [1.0, 0.5, 2 / 3],
        "oracle_hit_rate": [1.0, 1.0, 1.0],
    })


def test_strategy_rewards_merge_depths_and_average_only_pulled_rounds():
    frame = charts.strategy_rewards(history()).set_index(["strategy", "round"])
    assert frame.loc[("lexical", 3), "reward"] == pytest.approx(2 / 3)
    assert frame.loc[("lexical", 3), "pulls"] == 3
    assert ("semantic", 1) not in frame.index  # not pulled yet: no point
    assert frame.loc[("semantic", 3), "reward"] == pytest.approx(0.5)


def test_arm_pulls_count_each_depth_separately():
    pulls = charts.arm_pulls(history()).set_index("arm")
    assert pulls.loc["lexical@25", "pulls"] == 2 and pulls.loc["lexical@100", "pulls"] == 1
    assert pulls.loc["semantic@25", "mean reward"] == 0.5


def summary() -> SimulationSummary:
    """The summary of :func:`history`'s run."""
    per_arm = {"lexical@100": ArmFigures(1, 0.0), "lexical@25": ArmFigures(2, 1.0), "semantic@25": ArmFigures(2, 0.5)}
    return SimulationSummary(3, "linucb", 7, 2 / 3, 1.0, 1, 200 / 3, RewardSignal(1.0, 1.0, 1.0), per_arm, 10.0, 0.1,
                             False, "sim.db")


def test_simulation_figures_title_axes_and_colour_lines_by_run():
    figures = charts.simulation_figures(history(), "linucb", summary(), log_x=True)
    assert set(figures) == {"rewards", "pulls", "regret", "hit_rate", "candidates"}
    assert list(figures["pulls"].data[0].x) == ["lexical@25", "semantic@25", "lexical@100"]  # the summary's pulls
    assert list(figures["pulls"].data[0].y) == [2, 2, 1]
    regret = figures["regret"]
    assert regret.layout.xaxis.type == "log" and regret.layout.yaxis.title.text == "cumulative regret"
    assert regret.data[0].line.color == palette.color_for("linucb")
    assert list(figures["candidates"].data[0].y) == [25, 75, pytest.approx(200 / 3)]


def test_the_summary_table_has_a_row_per_run():
    table = charts.summary_table({"linucb": summary()})
    assert table.loc["linucb"].to_dict() == {"rounds": 3, "hit_rate": 0.667, "oracle_hit_rate": 1.0, "regret": 1,
                                             "candidates": 66.667}


def test_sweep_bands_draw_one_line_and_one_band_per_policy():
    sweep = SweepReport("s", (1, 2), 2, "default", "local", 2, 1.0, 0.95, {},
                        {p: RegretBand((1, 2), (0.5, 1.0), (0.0, 0.2), (1.0, 1.8)) for p in ("linucb", "random")})
    curves = charts.sweep_curves(sweep)
    assert list(curves.columns) == ["round", "mean", "low", "high", "policy"] and len(curves) == 4
    fig = charts.bands(curves, "round", "mean", "low", "high", "policy", "t", "x", "y")
    lines = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in lines] == ["linucb", "random"]
    assert [t.fill for t in fig.data].count("tonexty") == 2
    assert lines[0].line.color == palette.color_for("linucb")


def test_configurations_outside_the_palette_get_distinct_colours_in_one_chart():
    names = ["lexical+semantic", "all-interleaved", "lexical", "bandit", "all@100", "semantic+memory"]
    colours = palette.colors_for(names)
    assert len(set(colours.values())) == len(names)
    assert colours["lexical"] == palette.color_for("lexical")  # palette names keep their colour
    assert palette.colors_for(reversed(names)) == colours  # the drawing order does not matter
    tidy = pd.DataFrame({"metric": ["ndcg@10"] * 2, "value": [0.5, 0.6],
                         "configuration": ["lexical+semantic", "all-interleaved"]})
    fig = charts.grouped_bars(tidy, "metric", "value", "configuration", "t", "x", "y")
    assert fig.data[0].marker.color != fig.data[1].marker.color


def test_the_traffic_shift_is_marked_on_the_round_charts():
    figures = charts.simulation_figures(history(), "linucb", summary(), shift_at=2)
    for name in ("rewards", "regret", "hit_rate", "candidates"):
        (line,) = figures[name].layout.shapes
        assert line.x0 == line.x1 == 2 and line.line.dash == "dash"
        assert figures[name].layout.annotations[0].text == "traffic shift"
    assert not figures["pulls"].layout.shapes
    assert not charts.simulation_figures(history(), "linucb", summary())["regret"].layout.shapes


def test_the_examination_chart_draws_every_series_it_names_and_a_curve_equal_to_another_once():
    import numpy as np

    ranks = np.arange(1, 6)
    prior = (1 / np.log2(ranks + 1)).tolist()
    estimate = ([1.0, 0.6, 0.45, 0.35, 0.3], [1.0, 0.5, 0.4, 0.3, 0.25], [1.0, 0.7, 0.5, 0.4, 0.35])
    curve = pd.DataFrame({"rank": ranks, "prior": prior, "in_use": prior, "source": "prior"})

    def drawn(fig) -> list[str]:
        return [t.name for t in fig.data if t.showlegend is not False]

    assert drawn(charts.examination_curves(curve, None)) == ["prior (in use)"]
    assert drawn(charts.examination_curves(curve, estimate)) == ["prior (in use)", "estimate"]
    applied = curve.assign(in_use=estimate[0], source="estimated")
    fig = charts.examination_curves(applied, estimate)
    assert drawn(fig) == ["prior", "estimate (in use)"]
    band = [t for t in fig.data if t.fill == "tonexty"]
    assert len(band) == 2 and list(band[1].y) == estimate[1]  # the estimate's lower bound closes its band


def test_the_arm_chart_colours_each_bar_as_its_strategys_result_badge():
    import numpy as np

    from ltrr_core.selection.bandit import Bandit, PolicyConfig
    from ui.widgets import arm_frame

    strategies = list(palette.STRATEGIES)
    selection = Bandit(strategies, 3, PolicyConfig(max_arms=2)).select(np.ones(3))
    arms = arm_frame(selection.arms)
    fig = charts.arm_scores(arms.assign(picked=arms["picked"].eq("yes")))
    strategies_drawn = [arm.split("@")[0] for arm in fig.data[0].x]
    assert set(strategies_drawn) == set(strategies)
    for bars in fig.data:  # expected reward and exploration bonus: the chart colour paired with the badge's
        assert list(bars.marker.color) == [palette.STRATEGIES[s][0] for s in strategies_drawn]
    assert list(fig.data[0].marker.opacity) == [1.0 if p == "yes" else 0.35 for p in arms["picked"]]


def test_the_app_theme_draws_each_strategy_badge_in_its_chart_colour():
    theme = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["theme"]
    for strategy, (chart, badge) in palette.STRATEGIES.items():
        assert theme[f"{badge}Color"].lower() == chart.lower(), strategy
