"""Case grading in headless Chromium: two judges (two browser contexts: two sessions) grade the same
query's results, one in the engine's order, the other in a seeded random order that stays put while
grading; the query's nDCG@10 moves with a grade, and the Cohen's kappa shown equals scikit-learn's on
the labels stored. The case-grading view goes to docs/screenshots/case-grading.png."""

from __future__ import annotations

import re

import pytest
from sklearn.metrics import cohen_kappa_score
from test_browser import (CHROMIUM, FIRST_LOAD_MS, LAUNCH_ARGS, expect, idle, open_page, reached, screenshot, server,
                          sync_api)

from ltrr_core.base.grades import grade_label
from ltrr_core.feedback.store.feedback_store import FeedbackStore

pytestmark = pytest.mark.browser
__all__ = ["server"]  # the module-scoped streamlit fixture of test_browser.py, used here
QUERY = "love songs"
ANA = [0, 3, 2, 1, 3, 0, 2, 1, 0, 3]  # ana's grades, by the row shown (the engine's order)
BO = [1, 3, 2, 0, 3, 0, 1, 1, 0, 2]  # bo's grades, by the row shown (a random order)
LOAD_MS = 180_000  # the first load of a query set searches each query
RANKED = re.compile(r"\d+\. ")  # "3. Title": a row in the engine's order (a shuffled row hides its rank)


def open_case(browser, url: str, judge: str, spec: str):
    """A new session on Case grading as ``judge``, with the query set ``spec`` loaded."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url)
    expect(page.get_by_test_id("stSidebarNavLink").filter(has_text="Case grading")).to_be_visible(timeout=FIRST_LOAD_MS)
    open_page(page, "Case grading")
    name = page.get_by_role("textbox", name="Judge name")
    expect(name).to_be_visible(timeout=FIRST_LOAD_MS)
    expect(page.locator(".st-key-case_row_1")).to_be_visible(timeout=LOAD_MS)  # the default set's first case
    name.fill(judge)
    name.press("Enter")
    expect(page.get_by_text(f"Your grades are stored as judge {judge}.")).to_be_visible(timeout=30_000)
    idle(page)
    box = page.get_by_role("textbox", name="Query set")
    box.fill(spec)
    box.press("Enter")
    expect(page.get_by_test_id("stHeading").filter(has_text=f"“{QUERY}”")).to_be_visible(timeout=LOAD_MS)
    idle(page)  # the rows of the case before are gone, not only overdrawn
    return page


def grade_rows(page, grades: list[int]) -> None:
    """Click each row's grade and wait until the page shows it as this judge's grade."""
    for place, grade in enumerate(grades, start=1):
        row = page.locator(f".st-key-case_row_{place}")
        row.get_by_role("button", name=grade_label(grade), exact=True).click()
        expect(row.get_by_test_id("stBaseButton-primary")).to_have_text(grade_label(grade), timeout=30_000)
        idle(page)


def titles(page) -> list[str]:
    rows = page.locator("[class*='st-key-case_row_'] [data-testid=stMarkdownContainer] strong")
    return rows.all_inner_texts()


def ndcg_shown(page):
    return page.locator(".st-key-case_ndcg").get_by_test_id("stMetricValue")


def test_two_judges_grade_a_case_and_the_page_shows_their_kappa(server, tmp_path):
    url, db = server
    queries = tmp_path / "queries.txt"
    queries.write_text(f"{QUERY}\nrainy day\n")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            ana = open_case(browser, url, "ana", f"file:{queries}")
            expect(ndcg_shown(ana)).to_have_text("—")  # nothing graded yet
            shown = [t.split(". ", 1)[1] for t in titles(ana)]
            assert len(shown) == len(ANA), shown
            grade_rows(ana, ANA[:1])
            expect(ndcg_shown(ana)).to_have_text("0.000")  # one result, graded not relevant
            grade_rows(ana, ANA[1:2])
            expect(ndcg_shown(ana)).not_to_have_text("0.000")  # a perfect result at rank 2 moves it
            grade_rows(ana, ANA[2:])

            bo = open_case(browser, url, "bo", f"file:{queries}")
            in_order = [t.split(". ", 1)[1] for t in titles(bo)]
            bo.get_by_text("Random order (against position bias)").click()
            expect(bo.get_by_role("spinbutton", name="Shuffle seed")).to_be_visible(timeout=30_000)
            idle(bo)
            assert reached(lambda: sum(not RANKED.match(t) for t in titles(bo)), len(in_order), 30), titles(bo)
            shuffled = titles(bo)
            assert sorted(shuffled) == sorted(in_order) and shuffled != in_order, (shuffled, in_order)
            grade_rows(bo, BO[:len(shuffled)])
            assert titles(bo) == shuffled  # the order stays while grading

            by_pair: dict[tuple[str, str], dict[str, int]] = {}
            for label in FeedbackStore(db).labels():
                by_pair.setdefault((label.normalized_query, label.entity_id), {})[label.judge] = label.grade
            both = [g for g in by_pair.values() if {"ana", "bo"} <= set(g)]
            assert len(both) >= len(ANA) // 2, by_pair  # the same results, but for what ana's grades taught the memory
            expected = cohen_kappa_score([g["ana"] for g in both], [g["bo"] for g in both])
            pairs = bo.locator(".st-key-case_agreement").get_by_test_id("stTable").first
            expect(pairs.locator("tr").filter(has_text="ana").filter(has_text="bo")).to_contain_text(f"{expected:.3f}")
            expect(bo.get_by_test_id("stException")).to_have_count(0)
            screenshot(bo, "case-grading", readme=True)
        finally:
            browser.close()
