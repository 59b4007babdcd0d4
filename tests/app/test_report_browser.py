"""The exported report opened offline: a file:// URL in headless Chromium with every http(s) request
aborted still draws every chart (plotly is inlined) and shows every sentence."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

import pytest

from ltrr_core.cli import main

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
MISSING = "/usr/bin/chromium is missing: run scripts/browser-deps.sh (apt-get install chromium)"
if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError(MISSING)
    pytest.skip(MISSING, allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


@pytest.fixture(scope="module")
def exported(app_cache_dir, tmp_path_factory) -> tuple[Path, list[str]]:
    """A compared simulation's report, written by `ltrr report --db`: the file and its sentences."""
    folder = tmp_path_factory.mktemp("report_browser")
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(printed):
        mp.setenv("LTRR_CACHE_DIR", str(app_cache_dir))
        mp.setenv("LTRR_DB_PATH", str(folder / "live.db"))
        assert main(["simulate", "--compare", "--rounds", "15", "--seed", "5", "--json"]) == 0
        database = json.loads(printed.getvalue())["linucb"]["database"]
        printed.seek(0)
        printed.truncate()
        assert main(["report", "--db", database, "--out", str(folder / "report.html"), "--json"]) == 0
    return folder / "report.html", json.loads(printed.getvalue())["sentences"]


def test_the_exported_report_opens_offline_with_every_chart(exported):
    path, sentences = exported
    blocked: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_page()
            page.route("http://**/*", lambda route: (blocked.append(route.request.url), route.abort()))
            page.route("https://**/*", lambda route: (blocked.append(route.request.url), route.abort()))
            page.goto(path.as_uri())
            charts = page.locator(".plotly-graph-div")
            sync_api.expect(charts).to_have_count(3)
            for i in range(3):  # drawn: plotly rendered each one's SVG with its data traces
                sync_api.expect(charts.nth(i).locator("svg.main-svg").first).to_be_visible(timeout=30_000)
                assert charts.nth(i).locator("g.trace").count() >= 1
            shown = page.locator("p.sentence").all_inner_texts()
            assert shown == sentences and len(sentences) == 4
            assert "Setup" in page.locator("footer").inner_text()
            page.screenshot(path=str(path.with_suffix(".png")), full_page=True)
        finally:
            browser.close()
    assert blocked == []  # nothing asked for the network
