"""Compact result rows for the Search page: one bordered row per result (container key ``result_<rank>``)
with rank, title, type, creator/album, strategy badges and a short meta line on the left; the named
grade scale, Open, thumbs up/down and a "Why this result?" popover on the right.

The row only renders and wires buttons to the callbacks it is given; the page owns what they do.
"""

from __future__ import annotations

from typing import Callable

import streamlit as st

from ltrr_core.vocabulary import GRADES, grade_label
from ui.widgets import strategy_badges

ROW_CSS = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 1.5rem; }
.st-key-ranked_list [class*="st-key-result_"] { padding: 0.2rem 0.6rem; gap: 0.1rem; }
[class*="st-key-result_"] [data-testid="stMarkdownContainer"] p { margin: 0; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
[class*="st-key-result_"] [data-testid="stMarkdownContainer"] { font-size: 0.9rem; }
[class*="st-key-result_"] [data-testid="stCaptionContainer"], [class*="st-key-result_"] [data-testid="stCaptionContainer"] * {
  font-size: 0.78rem; white-space: nowrap !important; }
[class*="st-key-result_"] [data-testid="stCaptionContainer"] { overflow: hidden; text-overflow: ellipsis; }
[class*="st-key-result_"] button { min-height: 1.8rem; height: 1.8rem; padding: 0 0.45rem; font-size: 0.78rem; }
[class*="st-key-result_"] button p { font-size: 0.78rem; }
[class*="st-key-row_text_"] { min-width: 0; }
[data-ltrr-focus] { outline: 3px solid #ff4b4b; outline-offset: 1px; }
</style>"""
META_LISTED = 2  # genres and moods shown per row; the popover holds the rest


def row_style() -> None:
    """The compact rows' CSS and the keyboard focus outline (style only: takes no room on the page)."""
    st.html(ROW_CSS)


def title_line(item) -> str:
    """``**3. Title** · *track* · Creator · Album``: one Markdown line."""
    parts = [f"**{item.rank}. {item.title}**", f"*{item.type}*"]
    parts += [part for part in (item.creator, item.album) if part]
    return " · ".join(parts)


def meta_line(item, sent: str | None) -> str:
    """The feedback already sent, the strategy badges, score, popularity, release date, a few genres
    and moods."""
    meta = [f"**sent: {sent.replace('_', ' ')}**"] if sent else []
    meta += [strategy_badges(item.found_by), f"score {item.score:.3f}", f"popularity {item.popularity:.2f}"]
    if item.release_date:
        meta.append(f"released {item.release_date}")
    if item.genres:
        meta.append(", ".join(item.genres[:META_LISTED]))
    if item.moods:
        meta.append(", ".join(item.moods[:META_LISTED]))
    return " · ".join(meta)


def result_row(
    item,
    search_id: int | None,
    query: str,
    sent: str | None,
    on_feedback: Callable[[int | None, str, str], None],
    on_label: Callable[[str, str, str], None],
    why: Callable[[object], None],
) -> None:
    """One result as a compact row. ``on_feedback(search_id, entity_id, kind)`` runs on Open/thumbs,
    ``on_label(query, entity_id, widget_key)`` on a grade, and ``why(item)`` fills the popover when it
    is opened (its content is built only then)."""
    with st.container(border=True, key=f"result_{item.rank}", horizontal=True, vertical_alignment="center",
                      gap="small"):
        text = st.container(gap="xsmall", key=f"row_text_{item.rank}")  # takes the room the controls leave
        text.markdown(title_line(item))
        text.caption(meta_line(item, sent))
        grade_key = f"grade_{search_id}_{item.rank}"
        st.segmented_control(
            "Relevance", GRADES, format_func=grade_label, key=grade_key, on_change=on_label,
            args=(query, item.id, grade_key), label_visibility="collapsed", width="content",
            help="Relevance label (keys 0-3 on the focused row): " + ", ".join(grade_label(g) for g in GRADES),
        )
        buttons = st.container(horizontal=True, gap="xxsmall", vertical_alignment="center", width="content")
        buttons.button("Open", key=f"open_{item.rank}", on_click=on_feedback, args=(search_id, item.id, "click"),
                       help="Opening a result logs a click: interest, not yet satisfaction (key o)")
        buttons.button("", icon=":material/thumb_up:", key=f"up_{item.rank}", on_click=on_feedback,
                       args=(search_id, item.id, "thumbs_up"), help="Thumbs up: this is what I wanted (key u)")
        buttons.button("", icon=":material/thumb_down:", key=f"down_{item.rank}", on_click=on_feedback,
                       args=(search_id, item.id, "thumbs_down"), help="Thumbs down: not what I wanted (key d)")
        popover = buttons.popover("Why?", icon=":material/help:", key=f"why_{item.rank}", on_change="rerun",
                                  help="Why this result? Each strategy's rank and score for it, the ranker's features")
        if popover.open:
            with popover:
                why(item)
