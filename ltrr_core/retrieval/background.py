"""The semantic parts of a catalog's resources (model, embeddings, dense index), built in a
background thread so every other strategy serves at once.

While it runs, :attr:`Resources.semantic_warming` is true: the engine leaves the semantic
arms out of the bandit's choice (they are neither picked nor rewarded, so a warming arm is
never counted as a miss) and the ranker's ``dense_sim`` feature is missing (NaN, which
LightGBM treats as unknown), until the index is ready and semantic joins.

A process interrupted while it embeds (Ctrl-C, SIGTERM) stops cleanly inside
:func:`signals_stop_encodings`: the encoder finishes and saves its current chunk, and the process
exits with 130 / 143 rather than being aborted ("terminate called without an active exception")
by native destructors running under a live encoder thread.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from ltrr_core.base.progress import Progress
from ltrr_core.retrieval.indexes.corpus_encoding import resume_encodings, stop_encodings

SEMANTIC_PARTS = ("embedder", "embeddings", "dense")
THREAD_NAME = "ltrr-semantic-build"
STOP_GRACE_SECONDS = 60.0  # how long a signalled process waits for the running chunks to be saved


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


class Terminated(SystemExit):
    """SIGTERM, as an exit with status 143 that unwinds the stack (``finally`` blocks run)."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


@contextmanager
def signals_stop_encodings(grace: float = STOP_GRACE_SECONDS) -> Iterator[None]:
    """Run the block with SIGINT raising KeyboardInterrupt and SIGTERM :class:`Terminated` (exit
    status 143). Either first asks running encodings to stop and, as the exception leaves the block,
    waits up to ``grace`` seconds for their current chunks to be saved. A second signal while
    waiting, or encodings still running after ``grace``, exits at once (``os._exit(128 + signal)``,
    no native destructors under a live encoder thread). Off the main thread (where signals cannot
    be handled) the block just runs; an ignored signal stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_signal(signum: int, frame: object) -> None:
        stop_encodings(timeout=0)  # ask now: they stop after their current chunk
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated()

    def leave_now(signum: int, frame: object = None) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)
                if signal.getsignal(s) is not signal.SIG_IGN}  # an ignored signal stays ignored
    try:
        yield
    except (KeyboardInterrupt, Terminated) as exc:
        signum = signal.SIGINT if isinstance(exc, KeyboardInterrupt) else signal.SIGTERM
        for s in previous:
            signal.signal(s, leave_now)
        if not stop_encodings(grace):
            leave_now(signum)
        raise
    finally:
        resume_encodings()
        for s, handler in previous.items():
            signal.signal(s, handler)
