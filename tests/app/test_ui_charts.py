"""The dashboard's figure builders: one colour per strategy everywhere, correct running rewards."""

import pandas as pd
import pytest

from ltrr_core.evaluation.estimators import ESTIMATORS
from ltrr_core.retrieval.registry import REGISTRY
from ui import charts, palette


def test_one_colour_per_strategy_across_arm_and_policy_names():
    assert charts.color_for("semantic@100") == charts.color_for("semantic@25") == charts.color_for("fixed:semantic")
    assert len({charts.color_for(s) for s in palette.STRATEGY_COLORS}) == len(palette.STRATEGY_COLORS)
    assert charts.color_for("some-new-strategy") == charts.color_for("some-new-strategy@10")


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


def test_simulation_figures_title_axes_and_colour_lines_by_run():
    figures = charts.simulation_figures(history(), "linucb", log_x=True)
    assert set(figures) == {"rewards", "pulls", "regret", "hit_rate", "candidates"}
    regret = figures["regret"]
    assert regret.layout.xaxis.type == "log" and regret.layout.yaxis.title.text == "cumulative regret"
    assert regret.data[0].line.color == charts.color_for("linucb")
    assert list(figures["candidates"].data[0].y) == [25, 75, pytest.approx(200 / 3)]


def test_sweep_bands_draw_one_line_and_one_band_per_policy():
    sweep = {"curves": {p: {"round": [1, 2], "mean": [0.5, 1.0], "low": [0.0, 0.2], "high": [1.0, 1.8]}
                        for p in ("linucb", "random")}}
    curves = charts.sweep_curves(sweep)
    assert list(curves.columns) == ["round", "mean", "low", "high", "policy"] and len(curves) == 4
    fig = charts.bands(curves, "round", "mean", "low", "high", "policy", "t", "x", "y")
    lines = [t for t in fig.data if t.showlegend is not False]
    assert [t.name for t in lines] == ["linucb", "random"]
    assert [t.fill for t in fig.data].count("tonexty") == 2
    assert lines[0].line.color == charts.color_for("linucb")
