"""Who this browser session is: its judge (who grades), set once and kept across pages, and the
session id that follows jobs (:func:`session_id`).

The name lives under :data:`JUDGE_KEY` in ``st.session_state`` (never in a widget's own key, which
Streamlit drops when its page is left); every page that grades shows the field through
:func:`judge_field`, and every label and feedback event of the session names :func:`judge`.
"""

from __future__ import annotations

import uuid

import streamlit as st

JUDGE_KEY = "judge"
SESSION_KEY = "session_id"
DEFAULT_JUDGE = "analyst"  # a new session's judge until its analyst types a name


def judge() -> str:
    """This session's judge."""
    return st.session_state.setdefault(JUDGE_KEY, DEFAULT_JUDGE)


def session_id() -> str:
    """This session's id: what follows its jobs (another session's Cancel never stops this one's run)."""
    return st.session_state.setdefault(SESSION_KEY, uuid.uuid4().hex)


def _adopt(field: str) -> None:
    name = str(st.session_state.get(field, "")).strip()
    if name:
        st.session_state[JUDGE_KEY] = name
    else:
        st.session_state["judge_refused"] = True


def judge_field(page: str) -> str:
    """The judge name field of ``page`` (its widget key: ``judge_<page>``), showing this session's
    judge; a new name becomes the session's judge on every page. An empty name is refused."""
    field = f"judge_{page}"
    st.session_state[field] = judge()  # re-seeded each run: the widget's own state is gone after navigation
    st.text_input("Judge name", key=field, on_change=_adopt, args=(field,),
                  help="Your name on every grade and feedback of this session, on every page.")
    if st.session_state.pop("judge_refused", False):
        st.error(f"Judge name: type a name so labels from different judges can be told apart (kept: {judge()}).")
    return judge()
