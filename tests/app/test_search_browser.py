"""The Search page in headless Chromium at 1400×1000: compact rows (at least 8 start above the fold),
keyboard grading that stores what a click stores, and a focus that belongs to one browser tab.

The README screenshot of the Search page (docs/screenshots/search.png) is written here."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import FIRST_LOAD_MS, browser, expect, idle, reached, screenshot, server

from ltrr_core.feedback.store.feedback_store import FeedbackStore

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # the module-scoped fixtures of test_browser.py, used here
VIEWPORT = {"width": 1400, "height": 1000}
ABOVE_THE_FOLD = 8


def open_search(browser, url: str):
    """A new browser context (its own Streamlit session) on the Search page."""
    pg = browser.new_context(viewport=VIEWPORT).new_page()
    pg.goto(url)
    expect(pg.get_by_test_id("stTextInput").locator("input").first).to_be_visible(timeout=FIRST_LOAD_MS)
    return pg


def search(pg, query: str) -> int:
    """Type ``query``, press Enter, wait for its results; returns the search id the page shows."""
    box = pg.get_by_test_id("stTextInput").locator("input").first
    box.fill(query)
    box.press("Enter")
    caption = pg.get_by_text("search #").first
    expect(caption).to_be_visible(timeout=60_000)
    expect(pg.locator(".st-key-result_1")).to_contain_text("1. ", timeout=60_000)
    idle(pg)
    pg.get_by_test_id("stHeading").first.click()  # leave the query box: keys typed there are not shortcuts
    return int(caption.inner_text().rsplit("#", 1)[1])


def focused(pg) -> list[str]:
    """The keys of the result rows that carry the keyboard focus."""
    return pg.evaluate("() => [...document.querySelectorAll('[data-ltrr-focus]')]"
                       ".map(el => el.className.match(/st-key-(result_\\d+)/)[1])")


def titles(pg) -> list[str]:
    return pg.locator("[class*='st-key-result_'] [data-testid=stMarkdownContainer] strong").all_inner_texts()


def shown(db: Path, search_id: int, rank: int) -> str:
    with FeedbackStore(db) as store:
        return store.impressions(search_id)[rank - 1].entity_id


def grades_of(db: Path, entity_id: str) -> list[int]:
    with FeedbackStore(db) as store:
        return [label.grade for label in store.labels() if label.entity_id == entity_id]


def feedback_kinds(db: Path, search_id: int, entity_id: str) -> list[str]:
    with FeedbackStore(db) as store:
        events = store.feedback_events(search_id=search_id)
    return list(events.loc[events["entity_id"] == entity_id, "kind"])


def test_at_least_eight_result_rows_start_above_the_fold(browser, server):
    pg = open_search(browser, server[0])
    search(pg, "love")
    tops = [box["y"] for rank in range(1, 11) if (box := pg.locator(f".st-key-result_{rank}").bounding_box())]
    assert sum(top < VIEWPORT["height"] for top in tops) >= ABOVE_THE_FOLD, tops
    row = pg.locator(".st-key-result_1")
    for grade_name in ("0 · not relevant", "1 · related", "2 · relevant", "3 · perfect"):  # the scale, named
        expect(row.get_by_role("radio", name=grade_name)).to_be_visible()
    expect(row.locator(".st-key-up_1 button").first).to_be_visible()
    expect(row.locator(".st-key-down_1 button").first).to_be_visible()
    row.get_by_role("button", name="Why?").click()  # the explanation, one click away
    expect(pg.get_by_text("Ranked 1 by").first).to_be_visible(timeout=30_000)
    pg.keyboard.press("Escape")
    expect(pg.get_by_test_id("stException")).to_have_count(0)
    screenshot(pg, "search", readme=True)
    pg.context.close()


def test_keys_move_the_focus_grade_and_thumb_the_focused_row(browser, server):
    url, db = server
    pg = open_search(browser, url)
    search_id = search(pg, "jazz")
    expect(pg.locator(".st-key-result_1[data-ltrr-focus]")).to_have_count(1)
    box = pg.get_by_test_id("stTextInput").locator("input").first
    box.press_sequentially("jd")  # typed into the query box: no shortcut fires
    assert focused(pg) == ["result_1"]
    box.fill("jazz")
    pg.get_by_test_id("stHeading").first.click()
    idle(pg)  # leaving the box may rerun the search: a key pressed meanwhile clicks a row about to be replaced
    search_id = int(pg.get_by_text("search #").first.inner_text().rsplit("#", 1)[1])
    pg.keyboard.press("j")
    expect(pg.locator(".st-key-result_2[data-ltrr-focus]")).to_have_count(1)
    second = shown(db, search_id, 2)
    pg.keyboard.press("2")
    assert reached(lambda: 2 in grades_of(db, second), 1, 30), "key 2 stored no grade 2 for the focused row"
    expect(pg.locator(".st-key-result_2").get_by_role("radio", name="2 · relevant")).to_be_checked(timeout=30_000)
    idle(pg)
    pg.keyboard.press("u")
    assert reached(lambda: feedback_kinds(db, search_id, second).count("thumbs_up"), 1, 30), "key u sent no thumbs up"
    assert feedback_kinds(db, search_id, shown(db, search_id, 1)) == [], "a key reached the first row"
    assert "thumbs_down" not in feedback_kinds(db, search_id, second)  # the "d" typed in the box did nothing
    pg.keyboard.press("ArrowDown")
    expect(pg.locator(".st-key-result_3[data-ltrr-focus]")).to_have_count(1)
    pg.keyboard.press("k")
    expect(pg.locator(".st-key-result_2[data-ltrr-focus]")).to_have_count(1)
    pg.context.close()


def test_a_grade_in_one_tab_leaves_another_tabs_focus_and_results_alone(browser, server):
    url, db = server
    one, other = open_search(browser, url), open_search(browser, url)
    first_id = search(one, "rock")
    search(other, "piano")
    other.keyboard.press("j")
    other.keyboard.press("j")
    expect(other.locator(".st-key-result_3[data-ltrr-focus]")).to_have_count(1)
    before = titles(other)
    one.keyboard.press("j")
    one.keyboard.press("3")
    assert reached(lambda: 3 in grades_of(db, shown(db, first_id, 2)), 1, 30), "the grade in the first tab was lost"
    idle(one)
    other.wait_for_timeout(1000)  # time for a stray rerun of the other session to show, if there were one
    assert focused(other) == ["result_3"]
    assert titles(other) == before
    assert other.locator("[data-testid=stButtonGroup] [aria-checked=true]").count() == 0  # nothing graded there
    one.context.close()
    other.context.close()


def test_the_strategies_tab_says_why_each_arm_was_picked_or_left_out_in_words(browser, server):
    pg = open_search(browser, server[0])
    search(pg, "sad songs")
    pg.get_by_role("tab", name="Strategies picked").click()
    expect(pg.get_by_text("chance of being chosen").first).to_be_visible(timeout=30_000)  # the propensity, in words
    table = pg.locator(".st-key-arm_table")
    expect(table).to_contain_text("net score after the depth cost")
    why = table.evaluate("""t => {  // the cells of the table's "why" column
        const at = [...t.querySelectorAll('thead th')].findIndex(th => th.innerText.trim() === 'why');
        return [...t.querySelectorAll('tbody tr')].map(tr => tr.children[at].innerText);
    }""")
    assert len(why) >= 6, why  # an arm a row: every strategy at each depth
    for reason in why:  # each in words, never a bare "picked"
        assert any(word in reason for word in ("cut", "depth", "best", "alone", "warming", "random", "policy")), reason
    expect(pg.get_by_test_id("stException")).to_have_count(0)
    pg.context.close()
