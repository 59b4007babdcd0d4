"""The studio (the service faces of one engine), opened once per process per (catalog source,
settings) by a job, and warmed with a visible progress bar.

Pages call :func:`studio` and never open catalogs, models or databases themselves. The chosen
catalog source is a per-session UI choice (``st.session_state["active_source"]``), which starts from
``LTRR_SOURCE``, else the choice saved on Catalog & settings (:func:`choose_source`). Opening and
warming run as one ``catalog`` job on the process-wide runner (two sessions opening one catalog
share it; the worker never calls Streamlit), which files the studio in a process-wide registry;
the catalog page follows such a job with a Cancel button (:func:`open_catalog`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import partial

import streamlit as st

from ltrr_core.services.jobs import Job, JobContext, job_runner
from ltrr_core.services.search import SearchService
from ltrr_core.studio import Studio, save_catalog_choice, startup_source
from ltrr_core.vocabulary import Settings
from ui import jobs
from ui.identity import session_id

DEFAULT_SOURCE = "default"
SOURCE_KEY = "active_source"
KEEP_OPEN = 4  # studios kept open in the process; an older one reopens (from its caches) when asked again


@dataclass(frozen=True)
class Opened:
    """One opened and warmed studio and its seconds per load step."""

    studio: Studio
    timings: dict[str, float]


@dataclass
class _Registry:
    """Process-wide: the opened studios by (source, settings), newest last; filled by the opening jobs."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    opened: dict[tuple[str, Settings], Opened] = field(default_factory=dict)

    def get(self, source: str, settings: Settings) -> Opened | None:
        with self.lock:
            return self.opened.get((source, settings))

    def add(self, source: str, settings: Settings, opened: Opened) -> None:
        with self.lock:
            self.opened[(source, settings)] = opened
            for old in list(self.opened)[:-KEEP_OPEN]:
                del self.opened[old]


def active_source() -> str:
    """This session's catalog source; a new session starts from ``LTRR_SOURCE`` or the saved choice."""
    if SOURCE_KEY not in st.session_state:
        try:
            st.session_state[SOURCE_KEY] = startup_source(settings())
        except ValueError:  # a bad LTRR_* variable: studio() says so
            return DEFAULT_SOURCE
    return st.session_state[SOURCE_KEY]


def choose_source(source: str) -> None:
    """Make ``source`` (already opened) this session's catalog and the one new sessions and restarts open."""
    st.session_state[SOURCE_KEY] = source
    save_catalog_choice(settings(), source)


def settings() -> Settings:
    """Settings from the environment (``LTRR_DB_PATH``, ``LTRR_CACHE_DIR``, ...) with this session's overrides."""
    overrides = st.session_state.get("settings_overrides", {})
    return Settings.from_env(**overrides)


@st.cache_resource(show_spinner=False)
def _registry() -> _Registry:
    return _Registry()


def _open(ctx: JobContext, source: str, settings: Settings, registry: _Registry) -> str:
    """The job (a worker thread: no Streamlit here): open the engine, build its indexes (the semantic
    ones in the background when its embeddings are not cached yet), file it in ``registry``; the source.
    (The studio stays out of the job's result: a finished job is kept a while, a closed studio should not be.)"""
    if registry.get(source, settings) is not None:
        return source
    ctx.report(0, 1, f"loading catalog {source}")
    started = time.perf_counter()
    faces = Studio.open(source=source, settings=settings)
    timings = {"open_s": time.perf_counter() - started}
    ctx.check()
    live, owner = [True], threading.current_thread()  # the engine keeps the callback; the embedding thread
    # reports through warming_banner, and this worker's later jobs must not report into this one

    def progress(label: str, fraction: float) -> None:
        if live[0] and threading.current_thread() is owner:
            ctx.step(label, fraction)

    try:
        timings |= faces.search.warm_up(progress=progress, background=True)
    finally:
        live[0] = False
    registry.add(source, settings, Opened(faces, timings))
    return source


def _submit(source: str, settings: Settings, slot: str | None = None) -> Job:
    """The job opening ``source`` with ``settings`` (shared by every session asking for it), followed by this session."""
    label, fn = f"Opening catalog `{source}`", partial(_open, source=source, settings=settings, registry=_registry())
    key = f"studio|{source}|{settings!r}"
    if slot is not None:
        return jobs.start(slot, "catalog", label, fn, key=key)
    return job_runner().submit("catalog", label, fn, key=key, follower=session_id())


def open_catalog(slot: str, source: str) -> Job:
    """Open and warm ``source`` as this session's job in ``slot`` (followed by :func:`ui.jobs.follow`: its
    result is ``source``, then open)."""
    return _submit(source, settings(), slot)


def studio() -> Studio:
    """The service faces of this session's catalog source. The first time, the page waits for the opening job
    (a progress bar); a source that cannot be opened is a message and the page stops (back to the default)."""
    source = active_source()
    try:
        current = settings()
    except ValueError as exc:  # a bad LTRR_* variable
        st.error(f"Settings: {exc}")
        st.stop()
    opened = _registry().get(source, current)
    if opened is None:
        job = _submit(source, current)
        bar = st.progress(0.0, text=f"Opening catalog `{source}`… the very first start embeds the catalog in the "
                                    "background (search works meanwhile); later starts read the cache.")
        while (job := job_runner().wait(job.id, jobs.POLL_S)) is not None and not job.finished:
            bar.progress(job.fraction, text=job.describe() if job.status == "running" else
                         f"{job.label} is queued: waiting for {job.waiting_for}.")
        bar.empty()
        opened = _registry().get(source, current)
        if opened is None:  # the job failed (or was cancelled)
            st.error(f"Could not open catalog `{source}`: {job.error if job and job.error else 'the opening stopped'}")
            if source != DEFAULT_SOURCE:
                st.info("Pick another source on the **Catalog & settings** page.")
                st.session_state[SOURCE_KEY] = DEFAULT_SOURCE
            st.stop()
    st.session_state.setdefault("load_report", {})[source] = opened.timings
    st.sidebar.caption(f"Catalog: `{source}` · {len(opened.studio.catalog):,} entities")
    return opened.studio


@st.fragment(run_every=2)
def warming_banner(search: SearchService) -> None:
    """While the catalog embeds in the background: what is left out, the step, rate and time left."""
    status = search.semantic_status()
    if status.phase == "warming":
        st.info(f"**semantic is warming up**: {status.label} ({status.fraction:.0%}). Searches use the other "
                "strategies meanwhile; semantic joins the bandit's arms when its index is ready.",
                icon=":material/hourglass_top:")
    elif status.phase == "failed":
        st.warning(f"semantic is left out: its index could not be built ({status.error}).")
