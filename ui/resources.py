"""The studio (the service faces of one engine), opened once per process per (catalog source,
settings), and warmed with a visible progress bar.

Pages call :func:`studio` and never open catalogs, models or databases themselves. The chosen
catalog source is a per-session UI choice (``st.session_state["active_source"]``).
"""

from __future__ import annotations

import threading
import time

import streamlit as st

from ltrr_core.services.search import SearchService
from ltrr_core.studio import Studio
from ltrr_core.vocabulary import CatalogError, ModelNotFoundError, Settings, StoreError

DEFAULT_SOURCE = "default"
SOURCE_KEY = "active_source"


def active_source() -> str:
    return st.session_state.get(SOURCE_KEY, DEFAULT_SOURCE)


def settings() -> Settings:
    """Settings from the environment (``LTRR_DB_PATH``, ``LTRR_CACHE_DIR``, ...) with this session's overrides."""
    overrides = st.session_state.get("settings_overrides", {})
    return Settings.from_env(**overrides)


@st.cache_resource(show_spinner=False, max_entries=4)
def _open(source: str, settings: Settings) -> Studio:
    return Studio.open(source=source, settings=settings)


@st.cache_resource(show_spinner=False)
def _warm_states() -> dict:
    """Process-wide: studio id -> {"lock", "timings"} so one session warms a studio while others wait."""
    return {"lock": threading.Lock()}


def _warm(faces: Studio) -> dict[str, float]:
    states = _warm_states()
    with states["lock"]:
        state = states.setdefault(id(faces), {"lock": threading.Lock(), "timings": None, "opened_s": None})
    with state["lock"]:
        if state["timings"] is None:
            search = faces.search
            bar = st.progress(0.0, text="Preparing indexes…")
            live = [True]  # the engine keeps the callback: silence it once this page's bar is gone
            owner = threading.current_thread()  # the background embedding reports through warming_banner

            def progress(label: str, fraction: float) -> None:
                if live[0] and threading.current_thread() is owner:
                    bar.progress(min(max(float(fraction), 0.0), 1.0), text=f"{label} ({fraction:.0%})")

            try:
                state["timings"] = search.warm_up(progress=progress, background=True)
            finally:
                live[0] = False
            bar.empty()
    return state["timings"]


def studio() -> Studio:
    """The service faces of this session's catalog source; shows a spinner/progress on first load, stops the page
    on error."""
    source = active_source()
    try:
        started = time.perf_counter()
        with st.spinner(
            f"Loading catalog `{source}` and its indexes… the very first start embeds the catalog in the background"
            " (search works meanwhile); later starts read the cache.",
            show_time=True,
        ):
            faces = _open(source, settings())
        opened_s = time.perf_counter() - started
        timings = _warm(faces)
    except (StoreError, ModelNotFoundError) as exc:  # a corrupt/locked database, a missing model
        st.error(str(exc))
        st.stop()
    except (CatalogError, ValueError, FileNotFoundError) as exc:
        st.error(f"Could not open catalog `{source}`: {exc}")
        st.info("Pick another source on the **Catalog & settings** page.")
        st.session_state[SOURCE_KEY] = DEFAULT_SOURCE if source != DEFAULT_SOURCE else source
        st.stop()
    st.session_state.setdefault("load_report", {})[source] = {"open_s": opened_s, **timings}
    return faces


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


def try_open(source: str) -> str | None:
    """Open ``source`` (cached) and return None, or the user-facing error message."""
    try:
        with st.spinner(f"Opening `{source}`…", show_time=True):
            _open(source, settings())
    except (CatalogError, StoreError, ModelNotFoundError, ValueError, FileNotFoundError) as exc:
        return str(exc)
    return None
