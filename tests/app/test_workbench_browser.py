"""The real app in headless Chromium: a search's URL, opened in a second browser context (a new
session, no shared state), reruns the same search on the same catalog, which every page names."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
FIRST_LOAD_MS = 240_000
QUERY = "smooth jazz for a rainy evening"

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError("/usr/bin/chromium is missing: run scripts/browser-deps.sh")
    pytest.skip("/usr/bin/chromium is missing: run scripts/browser-deps.sh", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
expect = sync_api.expect


@pytest.fixture(scope="module")
def server(app_cache_dir, tmp_path_factory):
    """``streamlit run app.py`` on a free port with its own database; yields its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = tmp_path_factory.mktemp("workbench_browser_db") / "feedback.db"
    env = {k: v for k, v in os.environ.items() if k != "LTRR_SOURCE"}
    env |= {"LTRR_CACHE_DIR": str(app_cache_dir), "LTRR_DB_PATH": str(db)}
    log = (tmp_path_factory.mktemp("workbench_browser_log") / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not become healthy; see {log.name}")
        time.sleep(0.5)
    yield url
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def results(pg) -> list[str]:
    """The titles of the results shown ("**N. Title** · ..." -> "Title")."""
    first = pg.locator(".st-key-result_1")
    expect(first).to_contain_text("1. ", timeout=FIRST_LOAD_MS)
    rows = pg.locator("[class*='st-key-result_'] [data-testid=stMarkdownContainer] strong").all_inner_texts()
    return [row.split(". ", 1)[1] for row in rows if ". " in row]


def test_a_copied_search_url_reopens_the_same_search_in_a_new_context(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(server)
            box = page.get_by_test_id("stTextInput").locator("input").first
            expect(box).to_be_visible(timeout=FIRST_LOAD_MS)
            box.fill(QUERY)
            page.get_by_role("button", name="Search", exact=True).click()
            shown = results(page)
            page.wait_for_url(lambda url: "q=" in url, timeout=30_000)
            link = page.url
            assert parse_qs(urlparse(link).query)["q"] == [QUERY]

            other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()  # no shared session
            other.goto(link)
            again = results(other)
            expect(other.get_by_test_id("stTextInput").locator("input").first).to_have_value(QUERY)
            expect(other.get_by_test_id("stSidebar")).to_contain_text("Catalog: default")
            assert shown and shown[0] in again, (shown, again)  # the same search (the bandit may explore further down)
            expect(other.get_by_test_id("stException")).to_have_count(0)
        finally:
            browser.close()
