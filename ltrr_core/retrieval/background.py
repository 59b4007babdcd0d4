"""The semantic parts of a catalog's resources (model, embeddings, dense index), built in a
background thread so every other strategy serves at once.

While it runs, :attr:`Resources.semantic_warming` is true: the engine leaves the semantic
arms out of the bandit's choice (they are neither picked nor rewarded, so a warming arm is
never counted as a miss) and the ranker's ``dense_sim`` feature is missing (NaN, which
LightGBM treats as unknown), until the index is ready and semantic joins.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

Progress = Callable[[str, float], None]
SEMANTIC_PARTS = ("embedder", "embeddings", "dense")
THREAD_NAME = "ltrr-semantic-build"


class BackgroundBuild:
    """One daemon thread building :data:`SEMANTIC_PARTS`; :meth:`status` for the UI and CLI."""

    def __init__(self, resources: object, progress: Progress | None = None) -> None:
        """``resources``: the :class:`~ltrr_core.retrieval.resources.Resources` whose parts to build."""
        self.resources = resources
        self.forward = progress
        self.label, self.fraction = "loading the embedding model", 0.0
        self.error: str | None = None
        self.seconds: dict[str, float] = {}
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)

    def start(self) -> "BackgroundBuild":
        """Start the thread (once; later calls do nothing)."""
        if not self._thread.is_alive() and not self.done.is_set():
            self._thread.start()
        return self

    def progress(self, label: str, fraction: float) -> None:
        self.label, self.fraction = label, fraction
        if self.forward:
            self.forward(label, fraction)

    def _run(self) -> None:
        try:
            for part in SEMANTIC_PARTS:
                start = time.perf_counter()
                getattr(self.resources, part)
                self.seconds[part] = time.perf_counter() - start
            self.label, self.fraction = "ready", 1.0
        except Exception as exc:  # reported through status(); semantic stays out of the arms
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the build has finished (ready or failed) within ``timeout`` seconds."""
        return self.done.wait(timeout)

    def status(self) -> dict:
        """``state`` (``warming``, ``ready`` or ``failed``), the current step's ``label`` and ``fraction``, ``error``."""
        state = "failed" if self.error else "ready" if self.done.is_set() else "warming"
        return {"state": state, "label": self.label, "fraction": float(self.fraction), "error": self.error,
                "seconds": dict(self.seconds)}
