"""Long work as jobs: one process-wide runner runs it off the caller's thread; callers poll a snapshot.

A job is a function of a :class:`JobContext`. The worker reports through that context only
(progress, what it waits for, a cancel flag it checks, a temporary folder removed when the job
ends) and never touches a user interface; the runner keeps the latest :class:`Job` snapshot for
whoever polls (a Streamlit fragment, a CLI loop). An exception ends the job as ``failed`` with a
message naming it and is logged with its traceback; it never reaches the caller's thread.

Sharing and queues: two submits with the same ``key`` while the first is queued or running get
the same job (two sessions asking for one heavy run share it); at most :data:`WORKERS` jobs run
at once (two cores), and a kind with a limit in :data:`KIND_LIMITS` runs that many at a time; a
queued job's snapshot says what it waits for.

Followers: a session that submits (or shares) a job with a ``follower`` id follows it; its
:meth:`JobRunner.cancel` with that id only detaches it, and the job itself is cancelled once no
follower is left (two sessions on one shared job: one's Cancel never stops the other's run).

Libraries that are not safe on two threads at once: ranx pins numba to its ``workqueue``
threading layer, which aborts the whole process when two threads enter a parallel kernel.
:mod:`ltrr_core.base.metrics` holds the one process-wide lock around those kernels, at their only
call site, so every caller is covered: jobs here, but also a search whose feedback triggers the
ranker gate, and the CLI. LightGBM and faiss run OpenMP regions per calling thread (GNU libgomp
gives each its own team), which is safe; they are not serialized.
"""

from __future__ import annotations

import functools
import itertools
import logging
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from tqdm import tqdm

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
FINISHED: tuple[JobStatus, ...] = ("done", "failed", "cancelled")
WORKERS = 2  # the machine's cores: a third heavy job would only slow the other two
# A simulation takes a core for minutes: one at a time keeps searches responsive. Learning jobs (log
# imports, the replay warm start, ranker training) change the shared learning state: one at a time, in
# the order asked (a warm start asked after an import replays the imported pages).
KIND_LIMITS = {"simulation": 1, "learning": 1}
KEEP_FINISHED = 64  # finished jobs kept for late pollers; older ones are forgotten
WAIT_POLL_S = 0.5
log = logging.getLogger(__name__)


class JobCancelled(Exception):
    """Raised by :meth:`JobContext.check` in a job that was asked to stop."""


@dataclass(frozen=True)
class Job:
    """A snapshot of one job, safe to read from any thread. ``done`` / ``total`` are the worker's
    last report (``total`` 0: not reported yet); ``waiting_for`` says what a queued or blocked job
    waits for; ``result`` is the function's return value once ``done``."""

    id: str
    kind: str
    label: str
    key: str | None = None
    status: JobStatus = "queued"
    done: float = 0.0
    total: float = 0.0
    text: str = ""
    waiting_for: str = ""
    result: Any = None
    error: str = ""
    followers: frozenset[str] = frozenset()  # the sessions following it (see :meth:`JobRunner.cancel`)
    submitted: float = 0.0  # time.monotonic() of each step
    started: float | None = None
    ended: float | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def fraction(self) -> float:
        return min(max(self.done / self.total, 0.0), 1.0) if self.total else 0.0

    def describe(self, now: float | None = None) -> str:
        """The one progress line: the worker's text, percent, rate (counted units), elapsed and time left."""
        if self.started is None:
            return self.text or "queued"
        elapsed = (self.ended or now or time.monotonic()) - self.started
        parts = [self.text] if self.text else []
        if self.total:
            parts.append(f"{self.fraction:.0%}")
            if self.total > 1 and self.done and elapsed > 0:
                parts.append(f"{self.done / elapsed:,.1f}/s")
        parts.append(f"{tqdm.format_interval(elapsed)} elapsed")
        if self.total and 0 < self.done < self.total and not self.finished:
            parts.append(f"{tqdm.format_interval(elapsed * (self.total - self.done) / self.done)} left")
        return " · ".join(parts)


class JobContext:
    """What a running job sees: report progress, say what it waits for, check for cancel, keep files."""

    def __init__(self, runner: "JobRunner", job_id: str) -> None:
        self._runner, self.job_id = runner, job_id
        self._tmp: Path | None = None

    def report(self, done: float, total: float, text: str = "") -> None:
        """Progress: ``done`` of ``total`` units (``total`` 1 for a fraction), and what is being done."""
        self._runner._update(self.job_id, done=float(done), total=float(total), text=text, waiting_for="")

    def step(self, text: str, fraction: float) -> None:
        """The engine's ``progress(label, fraction)`` callback: a report of the fraction, then a cancel check."""
        self.report(min(max(fraction, 0.0), 1.0), 1, text)
        self.check()

    def waiting(self, what: str) -> None:
        """Say what the job waits for (``""``: no longer waiting)."""
        self._runner._update(self.job_id, waiting_for=what)

    @property
    def cancelled(self) -> bool:
        return self._runner._cancelled(self.job_id)

    def check(self) -> None:
        """Raise :class:`JobCancelled` if the job was asked to stop (call it between steps)."""
        if self.cancelled:
            raise JobCancelled(self.job_id)

    def wait_until(self, ready: Callable[[float], bool], what: Callable[[], str]) -> None:
        """Block until ``ready(timeout_s)`` is true, saying ``what()`` the job waits for; cancellable."""
        while not ready(WAIT_POLL_S):
            self.check()
            self.waiting(what())
        self.waiting("")

    def keep_file(self, name: str, data: bytes) -> Path:
        """``data`` written to this job's own temporary folder (removed when the job ends), under the
        last part of ``name`` (numbered when a file of the job already has it)."""
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix=f"ltrr-job-{self.job_id}-"))
        base = Path(name).name or "upload"
        path = next(p for n in itertools.count(1)
                    if not (p := self._tmp / (base if n == 1 else f"{n}-{base}")).exists())
        path.write_bytes(data)
        return path

    def _cleanup(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


class JobRunner:
    """Runs submitted jobs on ``workers`` daemon threads, FIFO within each kind's limit."""

    def __init__(self, workers: int = WORKERS, limits: Mapping[str, int] | None = None,
                 keep: int = KEEP_FINISHED) -> None:
        if workers < 1:
            raise ValueError(f"workers: {workers} must be >= 1")
        self.workers, self.limits, self.keep = workers, dict(KIND_LIMITS if limits is None else limits), keep
        self._lock = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._fns: dict[str, Callable[[JobContext], Any]] = {}
        self._cancel: set[str] = set()
        self._queue: list[str] = []
        self._ids = itertools.count(1)
        self._threads: list[threading.Thread] = []

    def submit(self, kind: str, label: str, fn: Callable[[JobContext], Any], key: str | None = None,
               follower: str | None = None) -> Job:
        """Queue ``fn(context)``; with ``key``, a queued or running job of that key (not being cancelled)
        is returned instead. ``follower`` (a session id) follows the job, new or shared."""
        following = frozenset() if follower is None else frozenset({follower})
        with self._lock:
            if key is not None:
                same = next((j for j in self._jobs.values()
                             if j.key == key and not j.finished and j.id not in self._cancel), None)
                if same is not None:
                    self._jobs[same.id] = same = replace(same, followers=same.followers | following)
                    return self._snapshot(same)
            job = Job(f"{kind}-{next(self._ids)}", kind, label, key, followers=following, submitted=time.monotonic())
            self._jobs[job.id], self._fns[job.id] = job, fn
            self._queue.append(job.id)
            while len(self._threads) < self.workers:
                thread = threading.Thread(target=self._work, name=f"ltrr-job-{len(self._threads) + 1}", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._lock.notify_all()
            return self._snapshot(job)

    def get(self, job_id: str) -> Job | None:
        """The job's latest snapshot (None: unknown, or finished long ago and forgotten)."""
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else self._snapshot(job)

    def jobs(self) -> list[Job]:
        """Every known job, oldest first."""
        with self._lock:
            return [self._snapshot(j) for j in self._jobs.values()]

    def cancel(self, job_id: str, follower: str | None = None) -> Job | None:
        """Ask the job to stop: a queued one ends now, a running one at its next :meth:`JobContext.check`.
        With ``follower``: that follower stops following, and the job stops only if nobody follows it."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job.finished:
                return None if job is None else self._snapshot(job)
            if follower is not None:
                self._jobs[job_id] = job = replace(job, followers=job.followers - {follower})
                if job.followers:
                    return self._snapshot(job)
            self._cancel.add(job_id)
            if job_id in self._queue:
                self._queue.remove(job_id)
                self._end(job_id, "cancelled")
            return self._snapshot(self._jobs[job_id])

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        """Block until the job finishes or ``timeout`` seconds pass; its snapshot then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while (job := self._jobs.get(job_id)) is not None and not job.finished:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._lock.wait(left)
            return None if job is None else self._snapshot(job)

    # -- inside the runner ------------------------------------------------------------
    def _snapshot(self, job: Job) -> Job:
        """``job`` with what a queued one waits for (caller holds the lock)."""
        if job.status != "queued":
            return job
        running = [j for j in self._jobs.values() if j.status == "running"]
        same_kind = [j for j in running if j.kind == job.kind]
        if job.kind in self.limits and len(same_kind) >= self.limits[job.kind]:
            reason = f"the running {job.kind} ({', '.join(j.label for j in same_kind)}) to finish"
        elif len(running) >= self.workers:
            reason = f"a free worker ({len(running)} jobs running: {', '.join(j.label for j in running)})"
        else:
            reason = "a worker to pick it up"
        ahead = self._queue.index(job.id) if job.id in self._queue else 0
        return replace(job, waiting_for=reason + (f"; {ahead} queued ahead of it" if ahead else ""))

    def _next(self) -> str | None:
        """The first queued job whose kind is under its limit (caller holds the lock)."""
        for job_id in self._queue:
            kind = self._jobs[job_id].kind
            if kind not in self.limits or sum(
                    j.kind == kind and j.status == "running" for j in self._jobs.values()) < self.limits[kind]:
                self._queue.remove(job_id)
                return job_id
        return None

    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _cancelled(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._cancel

    def _end(self, job_id: str, status: JobStatus, result: Any = None, error: str = "") -> None:
        """Mark the job finished and forget the oldest finished ones (caller holds the lock)."""
        self._jobs[job_id] = replace(self._jobs[job_id], status=status, result=result, error=error, waiting_for="",
                                     ended=time.monotonic())
        self._fns.pop(job_id, None)
        self._cancel.discard(job_id)
        finished = [j.id for j in self._jobs.values() if j.finished]
        for old in finished[:max(len(finished) - self.keep, 0)]:
            del self._jobs[old]
        self._lock.notify_all()

    def _work(self) -> None:
        while True:
            with self._lock:
                while (job_id := self._next()) is None:
                    self._lock.wait()
                self._jobs[job_id] = replace(self._jobs[job_id], status="running", started=time.monotonic())
                fn = self._fns[job_id]
            context = JobContext(self, job_id)
            try:
                context.check()
                outcome: tuple[JobStatus, Any, str] = ("done", fn(context), "")
            except JobCancelled:
                outcome = ("cancelled", None, "")
            except Exception as exc:  # the job fails with a message; the caller's thread never sees it
                log.exception("job %s failed", job_id)
                outcome = ("failed", None, f"{type(exc).__name__}: {exc}")
            finally:
                context._cleanup()
            with self._lock:
                self._end(job_id, *outcome)


@functools.cache
def job_runner() -> JobRunner:
    """The process-wide runner (every session of the app shares it)."""
    return JobRunner()
