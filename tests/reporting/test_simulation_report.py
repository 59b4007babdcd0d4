"""The report of a real simulated comparison (`ltrr simulate --compare`): its sentences quote the
stored runs' summaries, and the HTML holds every sentence and chart."""

from __future__ import annotations

import contextlib
import html
import io
import json

import pytest

from ltrr_core.cli import main
from ltrr_core.reporting.report import pct
from ltrr_core.studio import report_html, simulation_report

pytestmark = pytest.mark.slow
ROUNDS = 20


@pytest.fixture(scope="module")
def compared(app_cache_dir, tmp_path_factory):
    """The summaries `ltrr simulate --compare --json` printed, by policy."""
    folder = tmp_path_factory.mktemp("report_sim")
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setenv("LTRR_CACHE_DIR", str(app_cache_dir))
        mp.setenv("LTRR_DB_PATH", str(folder / "live.db"))
        assert main(["simulate", "--compare", "--rounds", str(ROUNDS), "--seed", "3", "--json"]) == 0
    return json.loads(printed.getvalue())


def test_sentences_quote_the_stored_summaries(compared):
    report = simulation_report(compared["linucb"]["database"])
    bandit, every = compared["linucb"], compared["all"]
    singles = {p: s for p, s in compared.items() if p.startswith("fixed:")}
    best = max(singles, key=lambda p: singles[p]["hit_rate"])
    finding = report.sentences[0]
    assert finding.startswith(f"The bandit (linucb) found the wanted item in {pct(bandit['hit_rate'])} of searches")
    assert f"running every strategy ({pct(every['hit_rate'])})" in finding
    fewer = 1 - bandit["candidates_per_search"] / every["candidates_per_search"]
    assert f"{abs(fewer):.0%} {'fewer' if fewer >= 0 else 'more'} candidates" in finding
    assert f"the best single strategy ({best.removeprefix('fixed:')}) found {pct(singles[best]['hit_rate'])}" in finding
    if bandit["hit_rate"] > singles[best]["hit_rate"] and every["hit_rate"] > singles[best]["hit_rate"]:
        closed = (bandit["hit_rate"] - singles[best]["hit_rate"]) / (every["hit_rate"] - singles[best]["hit_rate"])
        assert f"closed {min(1.0, closed):.0%} of the gap" in finding
    others = report.sentences[1]
    for policy in ("lints", "egreedy", "random"):
        assert f"{policy} {pct(compared[policy]['hit_rate'])}" in others
    assert f"pulled {bandit['candidates_per_search']:,.0f} candidates per search" in report.sentences[2]
    assert f"found {bandit['cumulative_regret']:,} time" in report.sentences[3]
    setup = dict(report.setup)
    assert setup["seed"] == "3" and setup["rounds"] == str(ROUNDS) and setup["catalog"] == "default"
    intervals = dict(report.sections[0].intervals)
    low, high = intervals["linucb hit rate"].low, intervals["linucb hit rate"].high
    assert low <= bandit["hit_rate"] <= high


def test_every_run_of_the_comparison_reports_the_same(compared):
    assert simulation_report(compared["random"]["database"]).sentences == \
        simulation_report(compared["linucb"]["database"]).sentences


def test_html_holds_every_sentence_and_chart(compared):
    report = simulation_report(compared["linucb"]["database"])
    page = report_html(report)
    assert all(html.escape(s) in page for s in report.sentences)
    assert page.count('class="plotly-graph-div"') == len(report.sections) == 3
    assert '<script src="http' not in page and "Plotly.newPlot" in page  # plotly inlined: no network needed
