"""Helpers for the AppTest page tests."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from ltrr_core.services.jobs import job_runner

TIMEOUT = 300  # the first run of a module opens the engine (model load, cached embeddings)


def settled(at: AppTest, slot: str, timeout: float = TIMEOUT) -> AppTest:
    """Wait (up to ``timeout`` seconds) for this session's job in ``slot`` (the page only polls it), then
    rerun the page."""
    job = job_runner().wait(at.session_state[slot], timeout)
    assert job is not None and job.finished, job
    at.run()
    assert not at.exception, at.exception
    return at
