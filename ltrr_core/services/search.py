"""The search face: serve a query through the funnel, take the user's feedback on it, and say how
far the semantic index's background build is.

A search is: understand, featurize the context, let the bandit select arms, run the funnel, log.
Every stage reports into the :class:`~ltrr_core.results.SearchResult` trace; the UI and CLI render
it and never recompute. Feedback flows back through :meth:`SearchService.respond` to the store, the
bandit (per-arm hit) and the memory index.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass, field

import pandas as pd

from ltrr_core.base.progress import Progress
from ltrr_core.feedback.settlement import NONE_OF_THESE, RewardWindow, Settlement
from ltrr_core.pipeline import timed
from ltrr_core.results import ResultItem, SearchResult
from ltrr_core.retrieval.background import THREAD_NAME, signals_stop_encodings  # noqa: F401 (the CLI's clean exit)
from ltrr_core.retrieval.candidates import Candidates
from ltrr_core.selection.bandit import arm_depths
from ltrr_core.selection.context import Context
from ltrr_core.services.labels import LabelService
from ltrr_core.services.runtime import Runtime


@dataclass(frozen=True)
class WarmingStatus:
    """The semantic index's background build: its ``phase`` (``not started``, ``warming``, ``ready`` or
    ``failed``), the step's ``label`` (rate and time left while embedding), ``fraction`` done, ``error``."""

    phase: str
    label: str = ""
    fraction: float = 0.0
    error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def building_in_background() -> bool:
    """True while a background build of a semantic index runs in this process."""
    return any(t.name == THREAD_NAME and t.is_alive() for t in threading.enumerate())


class SearchService:
    """Searching and the feedback that teaches the bandit, over one :class:`Runtime`."""

    def __init__(self, runtime: Runtime, labels: LabelService) -> None:
        self._rt = runtime
        self._labels = labels

    def warm_up(self, progress: Progress | None = None,
                background: bool = False) -> dict[str, float]:
        """Build every index and model now (seconds per part); ``progress(label, fraction)``.
        ``background``: when the catalog's embeddings are not cached yet, build the semantic parts
        in a background thread and serve at once with the other strategies (see
        :meth:`semantic_status`); with cached embeddings everything loads now (a few seconds)."""
        resources = self._rt.pipeline.resources
        if progress:
            resources.progress = progress
        background = background and not resources.embeddings_file.exists()
        seconds = self._rt.pipeline.warm_up(background)
        build = resources.warm_in_background(progress, start=False) if background else None
        start = time.perf_counter()
        self.search("warm up", Context(), log=False)
        seconds["first_search"] = time.perf_counter() - start
        if build is not None:
            build.start()  # after the first search: the model export and load would compete with it
        # The indexes just built live as long as the process: move their ~0.5 M objects out of
        # the cyclic collector's reach, or every full collection rescans them (~12% of a
        # simulated search's time).
        gc.freeze()
        return seconds

    def search(self, query: str, context: Context | None = None, k: int = 10, source: str = "human",
               log: bool = True, user_id: str | None = None,
               retrieved: dict[str, Candidates] | None = None) -> SearchResult:
        """Run the funnel for one query. ``retrieved`` (full-depth lists per strategy) lets the
        simulator reuse retrieval it already ran; picked depths are prefixes of those lists."""
        rt = self._rt
        context = context or Context()
        if log:
            rt.loop.close_expired()
        timings: dict[str, float] = {}
        u, message = rt.understand_timed(query, timings)
        if u.is_empty:
            return rt.empty_result(query, context, u, timings, message)
        x, key = timed(timings, "featurize", rt.context_vector, u, context)
        warming = rt.warming_for(rt.policy)
        with rt.lock:
            selection = timed(timings, "select", rt.state.bandit.select, x, warming)
        ranker = rt.rankers.current
        funnel = rt.pipeline.run(u, context, arm_depths(selection.chosen), ranker, retrieved, timings)
        pool, ranked = funnel.pool, funnel.ranked
        items = tuple(
            ResultItem.of(r + 1, rt.catalog.entities[pool.positions[i]], ranked.scores[i], pool.found_by[i])
            for r, i in enumerate(ranked.order[:k])
        )
        timings["total"] = sum(timings.values())
        result = SearchResult(query=query, context=context, understanding=u, x=x, selection=selection,
                              candidates=funnel.candidates, pool=pool, features=funnel.features, items=items,
                              ranker=ranker.name, timings=timings, message=message)
        if log:
            result = rt.log(result, key, source, user_id or context.user.id)
        return result

    def feedback(self, search_id: int, entity_id: str, kind: str, source: str = "human",
                 user_id: str = "analyst") -> Settlement | None:
        """One event on a shown result (``click``, ``engage``, ``thumbs_up``, ``thumbs_down``); see :meth:`respond`."""
        return self.respond(search_id, [(entity_id, kind)], source, user_id)

    def respond(self, search_id: int, events: list[tuple[str, str]], source: str = "human",
                user_id: str = "analyst", then_close: str | None = None) -> Settlement | None:
        """A user's ``(entity_id, kind)`` events on a logged search, stored in one transaction. The
        first positive one (engage, thumbs up) on a shown result closes the search's reward window:
        the returned settlement rewards the picked arms whose candidates held that result.
        ``then_close`` (e.g. ``"next_search"``) closes the window with the default reward otherwise."""
        settlement = self._rt.loop.respond(search_id, events, source, user_id, then_close)
        if events and source == "human":
            self._labels.labelled(f"search:{search_id}")
        return settlement

    def close(self, search_id: int, reason: str = NONE_OF_THESE) -> Settlement | None:
        """Close a search's reward window without a positive event ("none of these"): every picked
        arm gets the default reward. None if the window was closed already."""
        return self._rt.loop.close(search_id, reason)

    def close_expired(self) -> list[Settlement]:
        """Close every reward window open longer than the window's wait (also done before each logged search)."""
        return self._rt.loop.close_expired()

    @property
    def reward_window(self) -> RewardWindow:
        return self._rt.loop.window

    @property
    def open_searches(self) -> list[int]:
        """Searches whose reward window is still open."""
        return self._rt.loop.open_searches

    def explain(self, result: SearchResult, entity_ids: list[str]) -> pd.DataFrame:
        """Per-feature contributions of the live ranker for the named (shown) results."""
        rows = [result.pool.ids.index(e) for e in entity_ids if e in result.pool.ids]
        if not rows:
            return pd.DataFrame()
        return self._rt.rankers.current.explain(result.features[rows]).frame([result.pool.ids[r] for r in rows])

    @property
    def warming(self) -> tuple[str, ...]:
        """Strategies whose indexes are still being built in the background (left out of the arms)."""
        return self._rt.warming

    def semantic_status(self) -> WarmingStatus:
        """How far the semantic index's background build is (see :class:`WarmingStatus`)."""
        resources = self._rt.pipeline.resources
        if resources.background is None:
            ready = resources.has_built("dense")
            return WarmingStatus("ready" if ready else "not started", fraction=float(ready))
        status = resources.background.status()
        return WarmingStatus(status.pop("state"), **status)

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Block until the background build finished (True) or ``timeout`` seconds passed (False)."""
        return self._rt.wait_until_ready(timeout)

    @property
    def embeddings_source(self) -> str:
        """``"cache"`` or ``"computed"`` once the catalog's embeddings exist (``""`` before)."""
        return self._rt.pipeline.resources.embeddings_source
