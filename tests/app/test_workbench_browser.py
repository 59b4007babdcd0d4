"""The real app in headless Chromium: a search's URL, opened in a second browser context (a new
session, no shared state), reruns the same search on the same catalog, which every page names."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from test_browser import CHROMIUM, FIRST_LOAD_MS, LAUNCH_ARGS, expect, server, sync_api

pytestmark = pytest.mark.browser
__all__ = ["server"]  # the module-scoped streamlit fixture of test_browser.py, used here
QUERY = "smooth jazz for a rainy evening"


def results(pg) -> list[str]:
    """The titles of the results shown ("**N. Title** · ..." -> "Title")."""
    first = pg.locator(".st-key-result_1")
    expect(first).to_contain_text("1. ", timeout=FIRST_LOAD_MS)
    rows = pg.locator("[class*='st-key-result_'] [data-testid=stMarkdownContainer] strong").all_inner_texts()
    return [row.split(". ", 1)[1] for row in rows if ". " in row]


def test_a_copied_search_url_reopens_the_same_search_in_a_new_context(server):
    url, _ = server
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(url)
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
