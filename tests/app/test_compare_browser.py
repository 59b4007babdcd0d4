"""The real app in headless Chromium at 1400x1000: Compare shows a typed query through two
configurations side by side and marks the results that moved and the new ones."""

from __future__ import annotations

import pytest
from test_browser import FIRST_LOAD_MS, browser, expect, open_page, screenshot, server

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # the module-scoped fixtures of test_browser.py, used here
QUERY = "smooth jazz for a rainy evening"
A, B = "lexical@100+semantic@25/rrf", "all@100/rrf"  # on the default catalog: some results move, some are new


def fill(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")


def test_compare_marks_moved_and_new_results_of_the_typed_query(browser, server):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(server[0])
    expect(page.get_by_test_id("stTextInput").first).to_be_visible(timeout=FIRST_LOAD_MS)  # Search is up
    open_page(page, "Compare")
    expect(page.get_by_label("Configuration B", exact=True)).to_be_visible(timeout=FIRST_LOAD_MS)
    fill(page, "Configuration A", A)
    fill(page, "Configuration B", B)
    fill(page, "Query", QUERY)
    b_rows = page.locator("[class*='st-key-cmp_b_']")
    expect(b_rows.first).to_contain_text("1. ", timeout=60_000)
    expect(page.locator(".st-key-cmp_b_10")).to_be_visible(timeout=30_000)
    expect(page.get_by_text(f"A: {A}", exact=False)).to_be_visible()
    texts = b_rows.all_inner_texts()
    assert any("new" in t for t in texts), texts
    assert any(("up " in t or "down " in t) for t in texts), texts
    assert any("dropped" in t for t in page.locator("[class*='st-key-cmp_a_']").all_inner_texts())
    expect(page.get_by_text("rank-biased overlap", exact=False)).to_be_visible()
    expect(page.get_by_text("not judged: grade results on Labelling or Case grading").first).to_be_visible()
    screenshot(page, "compare")

    fill(page, "Configuration B", "all@100/nonsense")
    expect(page.get_by_text("unknown ranker 'nonsense'", exact=False)).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    page.context.close()
