"""The page side of jobs: submit work to the process-wide runner, keep its id in this session, and
poll it in a fragment that draws queued / running (with what it waits for) / failed / cancelled,
with a Cancel button; a finished job's result lands in ``st.session_state`` for the page to draw.

Every job a session starts (or shares: same ``key``) is followed by its :func:`~ui.identity.session_id`;
its Cancel detaches this session only (the page stops showing the job), and the job itself stops
once no session follows it, so one analyst's Cancel never ends another's shared run.

Workers never call Streamlit: what they report reaches the page only through the job snapshot.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

import streamlit as st

from ltrr_core.services.jobs import Job, JobContext, job_runner
from ltrr_core.services.search import SearchService
from ui.identity import session_id

POLL_S = 0.5
Upload = tuple[str, bytes]  # an uploaded file's name and content, handed to a job as they are


def upload_key(upload: Upload) -> str:
    """What identifies an upload in a job's ``key``: its name and a hash of its content."""
    return f"{upload[0]}#{hashlib.sha256(upload[1]).hexdigest()[:16]}"


def start(slot: str, kind: str, label: str, fn: Callable[[JobContext], Any], key: str | None = None) -> Job:
    """Submit ``fn``, followed by this session, and remember the job in ``st.session_state[slot]`` (a
    same-``key`` job is shared); the slot's earlier job is left (cancelled if nobody else follows it)."""
    me, previous = session_id(), st.session_state.get(slot)
    job = job_runner().submit(kind, label, fn, key, follower=me)
    if previous is not None and previous != job.id:
        job_runner().cancel(previous, me)
    st.session_state[slot] = job.id
    st.session_state.pop(_settled(slot), None)
    return job


def current(slot: str) -> Job | None:
    """This session's job in ``slot`` (None: none, or forgotten by the runner)."""
    job_id = st.session_state.get(slot)
    return None if job_id is None else job_runner().get(job_id)


def follow(slot: str, into: str) -> Job | None:
    """Draw this session's job in ``slot``; once it is done, its result goes to ``st.session_state[into]``
    (once per job). While it runs, a fragment polls it and reruns the page when it ends. After this
    session's Cancel, a note says whether the job stopped or goes on for other sessions."""
    note = st.session_state.pop(_note(slot), None)
    if note:
        st.info(note, icon=":material/cancel:")
    job = current(slot)
    if job is None:
        st.session_state.pop(slot, None)
        return None
    if not job.finished:
        _poll(slot)
        return job
    if job.status == "done" and st.session_state.get(_settled(slot)) != job.id:
        st.session_state[into] = job.result
        st.session_state[_settled(slot)] = job.id
    draw(job, slot)
    return job


def draw(job: Job, slot: str) -> None:
    """One job's state: queued and what it waits for, a progress bar with rate and time left, or how it ended."""
    if job.status == "queued":
        st.info(f"**{job.label}** is queued: waiting for {job.waiting_for}.", icon=":material/schedule:")
    elif job.status == "running":
        st.progress(job.fraction, text=job.describe())
        if job.waiting_for:
            st.info(f"**{job.label}** is waiting for {job.waiting_for}.", icon=":material/hourglass_top:")
    elif job.status == "failed":
        st.error(f"{job.label} failed: {job.error}")
    elif job.status == "cancelled":
        st.warning(f"{job.label} was cancelled.")
    if job.finished:
        return
    if len(job.followers) > 1:
        st.caption(f"Shared: {len(job.followers)} sessions follow this job; Cancel leaves it to the others.")
    st.button("Cancel", key=f"{slot}_cancel", on_click=_leave, args=(slot, job))


def _leave(slot: str, job: Job) -> None:
    """This session's Cancel: it stops following ``job``, which stops only if no other session follows it."""
    left = job_runner().cancel(job.id, session_id())
    if left is not None and left.finished:
        return  # it ended meanwhile: the page shows how
    st.session_state.pop(slot, None)
    others = len(left.followers) if left is not None else 0
    st.session_state[_note(slot)] = (f"You left **{job.label}**; it goes on for {others} other session(s)." if others
                                     else f"**{job.label}** was cancelled.")


@st.fragment(run_every=POLL_S)
def _poll(slot: str) -> None:
    job = current(slot)
    if job is None or job.finished:
        st.rerun()  # the whole page: it settles the result and draws it
    draw(job, slot)


def wait_for_semantic(search: SearchService, ctx: JobContext) -> None:
    """In a job (no Streamlit here): block, cancellably, until the catalog's semantic index is built,
    saying how far along it is; runs that need semantic would otherwise block without a word."""
    def status() -> str:
        now = search.semantic_status()
        return f"the semantic index to finish warming: {now.label} ({now.fraction:.0%})"

    ctx.wait_until(search.wait_until_ready, status)


def _settled(slot: str) -> str:
    return f"{slot}_settled"


def _note(slot: str) -> str:
    return f"{slot}_note"
