"""Report builders on hand-made stored results: the finding's wording, a sweep, an interleaving
tally (its sentence is the verdict's), and the HTML's structure."""

from __future__ import annotations

from ltrr_core.evaluation.interleaving import InterleavingTally
from ltrr_core.evaluation.verdicts import interleaving_verdict
from ltrr_core.reporting.findings import PolicyFigures, finding_sentence
from ltrr_core.reporting.html import render_html
from ltrr_core.reporting.interleaving import interleaving_report
from ltrr_core.base.intervals import mean_interval, share_interval
from ltrr_core.reporting.report import Interval
from ltrr_core.reporting.sweeps import sweep_report
from ltrr_core.simulation.sweep_reports import Interval as SweepInterval
from ltrr_core.simulation.sweep_reports import PolicySweep, RegretBand, SweepFigures, SweepReport

ANY = Interval(0.0, 1.0, "test")


def figures(policy: str, hit: float, candidates: float) -> PolicyFigures:
    return PolicyFigures(policy, hit, ANY, candidates, ANY)


def test_the_issue_example_reads_as_written():
    sentence = finding_sentence(figures("linucb", 0.917, 110), figures("all", 0.943, 200),
                                figures("fixed:lexical", 0.802, 100))
    assert sentence == ("The bandit (linucb) found the wanted item in 91.7% of searches, almost as often as running "
                        "every strategy (94.3%), with 45% fewer candidates; the best single strategy (lexical) found "
                        "80.2%; it closed 82% of the gap between the best single strategy and all of them.")


def test_a_bandit_below_the_best_single_strategy_says_so():
    sentence = finding_sentence(figures("linucb", 0.70, 120), figures("all", 0.90, 100), figures("fixed:semantic", 0.8, 50))
    assert "less often than running every strategy (90.0%), with 20% more candidates" in sentence
    assert sentence.endswith("it did not beat the best single strategy.")


def test_the_intervals_are_the_textbook_ones():
    low, high = share_interval(45, 50)  # Wilson, z = 1.96: 0.7864 .. 0.9565
    assert (round(low, 4), round(high, 4)) == (0.7864, 0.9565) and share_interval(0, 0) == (0.0, 1.0)
    mean, low, high = mean_interval([1.0, 2.0, 3.0, 4.0])  # t(0.975, 3) = 3.1824, s = 1.2910
    assert mean == 2.5 and (round(low, 3), round(high, 3)) == (0.446, 4.554)
    assert mean_interval([7.0]) == (7.0, 7.0, 7.0)


def _sweep() -> SweepReport:
    def policy(hit: float, candidates: float, regret: float) -> PolicySweep:
        return PolicySweep(SweepInterval(regret, regret - 2, regret + 2), SweepInterval(hit, hit - 0.02, hit + 0.02),
                           SweepInterval(candidates, candidates - 5, candidates + 5),
                           {1: SweepFigures(regret, hit, candidates), 2: SweepFigures(regret, hit, candidates)})
    band = RegretBand((1, 2, 3), (0.0, 1.0, 2.0), (0.0, 0.5, 1.0), (0.0, 1.5, 3.0))
    return SweepReport("nightly", (1, 2), 300, "default", "local", 2, 12.0, 0.95,
                       {"linucb": policy(0.9, 100, 20), "all": policy(0.95, 200, 5), "fixed:lexical": policy(0.8, 90, 50),
                        "random": policy(0.7, 120, 80)},
                       {"linucb": band, "all": band})


def test_a_sweep_report_quotes_the_means_and_their_intervals():
    report = sweep_report(_sweep())
    assert report.sentences[0].startswith("Averaged over 2 seeds of 300 searches each: the bandit (linucb) found the "
                                          "wanted item in 90.0% of searches, almost as often as running every strategy "
                                          "(95.0%), with 50% fewer candidates; the best single strategy (lexical) found 80.0%")
    assert "random 70.0%" in report.sentences[1]
    assert dict(report.sections[0].intervals)["linucb hit rate"] == Interval(0.88, 0.92, "95% Student-t interval over 2 seeds")
    assert dict(report.setup)["seeds"] == "1, 2"


def test_an_interleaving_report_says_the_verdict():
    tally = InterleavingTally(("good", "bad"))
    for i in range(200):
        tally.add([1, 0] if i % 4 else [0, 1])
    report = interleaving_report("exp1", ("lexical+semantic/rrf", "lexical/rrf"), tally.report())
    assert report.sentences == [interleaving_verdict(tally.report()).sentence]
    assert report.sentences[0].startswith("good wins")
    page = render_html(report)
    assert page.count('class="plotly-graph-div"') == 1 and "exp1" in page and "<script src=" not in page
