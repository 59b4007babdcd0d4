"""Many analysts at once, in real Chromium: two sessions run the default experiment while a third
runs the BEIR evaluation on SciFact; the work runs as jobs (the two experiments share one), the
server stays up and every session gets its table. (Today the numba kernels abort the server, and
the evaluation's progress callback raises NoSessionContext on a worker thread.)"""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
from test_browser import CHROMIUM, FIRST_LOAD_MS, LAUNCH_ARGS, expect, no_exception, open_page, screenshot, server, sync_api

from ui.offline import bundled_scifact

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1800)]
__all__ = ["server"]  # the module-scoped streamlit fixture of test_browser.py, used here
RESULT_MS = 1_500_000  # an experiment, and SciFact's test split, on a shared 2-core machine


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def experiments_session(browser, url: str):
    """A new browser context (its own Streamlit session) on the Experiments page."""
    pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    pg.goto(url)
    expect(pg.get_by_test_id("stTextInput").locator("input").first).to_be_visible(timeout=FIRST_LOAD_MS)
    open_page(pg, "Experiments")
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
    first, second, third = (experiments_session(browser, url) for _ in range(3))
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
