"""Many analysts at once, in real Chromium: two sessions run the default experiment while a third
runs the BEIR evaluation on SciFact; the work runs as jobs (the two experiments share one), the
server stays up and every session gets its table. (Today the numba kernels abort the server, and
the evaluation's progress callback raises NoSessionContext on a worker thread.) Two sessions start
the same interleaving run: one job; one session cancels, the other still sees it finish."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
from test_browser import FIRST_LOAD_MS, browser, expect, no_exception, open_page, screenshot, server

from ui.offline import bundled_scifact

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]
__all__ = ["browser", "server"]  # the module-scoped fixtures of test_browser.py, used here
RESULT_MS = 1_500_000  # an experiment, and SciFact's test split, on a shared 2-core machine
TWINS = "a=lexical/rrf,b=lexical/rrf"  # equally good: no early winner, the run lasts its every search
TWIN_SEARCHES = 2000  # ~15 s in the app: time for the second session to join and the first to leave


def session_on(browser, url: str, page: str):
    """A new browser context (its own Streamlit session) on ``page``."""
    pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    pg.goto(url)
    expect(pg.get_by_test_id("stTextInput").locator("input").first).to_be_visible(timeout=FIRST_LOAD_MS)
    open_page(pg, page)
    no_exception(pg)
    return pg


def healthy(url: str) -> bool:
    try:
        return urllib.request.urlopen(f"{url}/_stcore/health", timeout=5).read() == b"ok"
    except OSError:
        return False


def test_two_experiments_and_a_beir_evaluation_at_once_keep_the_server_up(browser, server):
    if not bundled_scifact():
        pytest.skip("the SciFact folder (../shared/datasets/scifact) is not present")
    url, _ = server
    first, second, third = (session_on(browser, url, "Experiments") for _ in range(3))
    third.get_by_role("button", name="Remove ltr").click()  # ltr would add SciFact's train split to the run
    expect(third.get_by_role("button", name="Remove ltr")).to_have_count(0)
    started = time.perf_counter()
    for pg in (first, second):
        pg.get_by_role("button", name="Run experiment").click()
    third.get_by_role("button", name="Run evaluation").click()
    for pg in (first, second):
        expect(pg.get_by_text(re.compile(r"Snapshot #\d+ · sim:300 · judgments sim"))).to_be_visible(timeout=RESULT_MS)
        expect(pg.get_by_test_id("stDataFrame").first).to_be_visible(timeout=60_000)
        no_exception(pg)
    print(f"\ntwo sessions' default experiment (one shared job): {time.perf_counter() - started:.0f} s")
    beir = third.get_by_test_id("stTable").filter(has_text="fusion")
    expect(beir).to_be_visible(timeout=RESULT_MS)
    print(f"SciFact test split, lexical + semantic + fusion, beside it: {time.perf_counter() - started:.0f} s")
    for system in ("lexical", "semantic", "fusion"):
        expect(beir).to_contain_text(system)
    no_exception(third)
    assert healthy(url), "the server went down"
    screenshot(third, "experiments_jobs")


def test_two_sessions_share_one_interleaving_run_and_one_s_cancel_leaves_it_to_the_other(browser, server):
    url, _ = server
    sessions = [session_on(browser, url, "Interleaving") for _ in range(2)]
    started = time.perf_counter()
    for pg in sessions:
        pg.get_by_test_id("stTextInput").filter(has_text="Configurations").locator("input").fill(TWINS)
        pg.get_by_test_id("stNumberInput").filter(has_text="Most searches").locator("input").fill(str(TWIN_SEARCHES))
        pg.get_by_test_id("stNumberInput").filter(has_text="alpha").locator("input").fill("0.001")
        pg.keyboard.press("Enter")
        pg.get_by_role("button", name="Run on simulated users").click()
    leaving, staying = sessions
    for pg in sessions:  # one job, followed by both
        expect(pg.get_by_text("Shared: 2 sessions follow this job")).to_be_visible(timeout=120_000)
    print(f"\nboth sessions follow one interleaving job: {time.perf_counter() - started:.1f} s")
    expect(leaving.get_by_test_id("stProgress")).to_be_visible()
    leaving.get_by_role("button", name="Cancel").click()
    expect(leaving.get_by_text("goes on for 1 other session")).to_be_visible(timeout=30_000)
    expect(leaving.get_by_test_id("stProgress")).to_have_count(0)
    expect(staying.get_by_text("searches/s · sandbox database")).to_be_visible(timeout=300_000)  # the run's end
    print(f"the session that stayed sees the run finish: {time.perf_counter() - started:.1f} s")
    expect(staying.locator(".st-key-il_pairs")).to_contain_text("a")
    expect(leaving.get_by_text("sandbox database")).to_have_count(0)  # no result in the session that left
    for pg in sessions:
        no_exception(pg)
    assert healthy(url), "the server went down"
    screenshot(staying, "interleaving_shared_job")
