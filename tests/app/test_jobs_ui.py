"""Two sessions following one shared job through ui/jobs.py (AppTest, no browser): a session's Cancel
detaches it alone (its page stops showing the job and says it goes on for the other), the other
session still gets the result, and the job stops only when its last follower cancels."""

from __future__ import annotations

import threading
import uuid

import pytest
from streamlit.testing.v1 import AppTest

from ltrr_core.services.jobs import JobContext, job_runner

WAIT_S = 20


def follower_page(key: str) -> None:
    """A page that starts (or shares) the job of ``key`` and follows it."""
    import streamlit as st

    from ui import jobs

    if st.button("Start", key="start"):
        jobs.start("slot", "test", "shared run", lambda ctx: "a second run", key=key)
    jobs.follow("slot", into="result")


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.fixture()
def shared():
    """A running job of a fresh key, which returns "finished" once ``go_on`` is set; (key, job id, go_on)."""
    key, started, go_on = f"test-{uuid.uuid4().hex}", threading.Event(), threading.Event()

    def gated(ctx: JobContext) -> str:
        started.set()
        while not go_on.wait(0.01):
            ctx.check()
        return "finished"

    job = job_runner().submit("test", "shared run", gated, key=key)
    assert started.wait(WAIT_S)
    yield key, job.id, go_on
    go_on.set()


def session(key: str) -> AppTest:
    at = AppTest.from_function(follower_page, args=(key,), default_timeout=WAIT_S).run()
    at.button(key="start").click().run()
    assert not at.exception, at.exception
    return at


def test_one_session_s_cancel_leaves_the_shared_job_to_the_other_which_gets_its_result(shared):
    key, job_id, go_on = shared
    first, second = session(key), session(key)
    assert first.session_state["slot"] == second.session_state["slot"] == job_id
    assert "Shared: 2 sessions follow this job" in texts(first.run().caption)
    first.button(key="slot_cancel").click().run()
    assert not first.exception, first.exception
    assert "slot" not in first.session_state and not first.get("progress")  # the page no longer shows the job
    assert "You left **shared run**; it goes on for 1 other session(s)." in texts(first.info)
    assert job_runner().get(job_id).status == "running"
    second.run()
    assert second.get("progress") and "Shared" not in texts(second.caption)
    go_on.set()
    assert job_runner().wait(job_id, WAIT_S).status == "done"
    second.run()
    assert second.session_state["result"] == "finished" and "result" not in first.run().session_state


def test_the_last_follower_s_cancel_stops_the_job(shared):
    key, job_id, _ = shared
    first, second = session(key), session(key)
    first.button(key="slot_cancel").click().run()
    second.button(key="slot_cancel").click().run()
    assert "**shared run** was cancelled." in texts(second.info)
    assert job_runner().wait(job_id, WAIT_S).status == "cancelled"
