"""The job runner: work off the caller's thread, progress snapshots, cancel, shared keys, per-kind
queues, failures as messages, per-job temporary files, and the numba kernels two jobs run at once."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from ltrr_core.services.jobs import Job, JobContext, JobRunner

ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 20


def finished(runner: JobRunner, job: Job) -> Job:
    out = runner.wait(job.id, WAIT_S)
    assert out is not None and out.finished, out
    return out


def test_a_job_that_raises_fails_with_a_message_and_the_runner_goes_on():
    runner = JobRunner(workers=1)

    def broken(ctx: JobContext) -> None:
        raise ValueError("qrels: no judgments")

    failed = finished(runner, runner.submit("experiment", "broken", broken))
    assert failed.status == "failed" and failed.error == "ValueError: qrels: no judgments" and failed.result is None
    after = finished(runner, runner.submit("experiment", "fine", lambda ctx: 42))
    assert after.status == "done" and after.result == 42


def test_progress_snapshots_show_done_total_text_rate_and_time_left():
    runner = JobRunner(workers=1)
    reported, go_on = threading.Event(), threading.Event()

    def counting(ctx: JobContext) -> str:
        ctx.report(25, 100, "retrieving test")
        reported.set()
        go_on.wait(WAIT_S)
        return "ok"

    job = runner.submit("evaluation", "SciFact", counting)
    assert reported.wait(WAIT_S)
    snap = runner.get(job.id)
    assert (snap.status, snap.done, snap.total, snap.text, snap.fraction) == ("running", 25, 100, "retrieving test", 0.25)
    line = snap.describe(now=snap.started + 10)  # 25 units in 10 s: 2.5/s, 75 more take 30 s
    assert line == "retrieving test · 25% · 2.5/s · 00:10 elapsed · 00:30 left"
    go_on.set()
    done = finished(runner, job)
    assert done.status == "done" and done.result == "ok" and "left" not in done.describe()


def test_cancel_stops_a_running_job_at_its_next_check_and_a_queued_one_at_once():
    runner = JobRunner(workers=1)
    started = threading.Event()
    steps = []

    def looping(ctx: JobContext) -> None:
        started.set()
        while True:
            ctx.check()
            steps.append(1)
            threading.Event().wait(0.01)

    running = runner.submit("simulation", "long", looping)
    queued = runner.submit("experiment", "next", lambda ctx: "never")
    assert started.wait(WAIT_S)
    assert runner.get(queued.id).status == "queued"
    assert runner.cancel(queued.id).status == "cancelled"
    runner.cancel(running.id)
    assert finished(runner, running).status == "cancelled" and steps
    assert runner.get(queued.id).result is None


def test_two_submits_with_one_key_share_the_job_and_other_keys_queue_saying_why():
    runner = JobRunner(workers=1)
    started, go_on = threading.Event(), threading.Event()
    calls = []

    def heavy(ctx: JobContext) -> int:
        calls.append(1)
        started.set()
        go_on.wait(WAIT_S)
        return len(calls)

    first = runner.submit("experiment", "default experiment", heavy, key="exp:default")
    second = runner.submit("experiment", "default experiment", heavy, key="exp:default")
    other = runner.submit("evaluation", "SciFact", lambda ctx: "beir", key="beir:scifact")
    assert second.id == first.id and started.wait(WAIT_S)
    waiting = runner.get(other.id)
    assert waiting.status == "queued" and "a free worker (1 jobs running: default experiment)" in waiting.waiting_for
    go_on.set()
    assert finished(runner, first).result == 1 and calls == [1]
    assert finished(runner, other).result == "beir"
    again = runner.submit("experiment", "default experiment", lambda ctx: "rerun", key="exp:default")
    assert again.id != first.id and finished(runner, again).result == "rerun"  # a finished job is not reused


def test_a_follower_s_cancel_of_a_shared_job_detaches_it_and_the_last_one_s_cancel_stops_it():
    runner = JobRunner(workers=1)
    started, go_on = threading.Event(), threading.Event()

    def heavy(ctx: JobContext) -> str:
        started.set()
        while not go_on.wait(0.01):
            ctx.check()
        return "finished"

    first = runner.submit("simulation", "interleaving", heavy, key="il:a,b", follower="session-a")
    shared = runner.submit("simulation", "interleaving", heavy, key="il:a,b", follower="session-b")
    assert shared.id == first.id and shared.followers == {"session-a", "session-b"} and started.wait(WAIT_S)
    left = runner.cancel(first.id, "session-a")
    assert left.followers == {"session-b"}
    threading.Event().wait(0.1)  # a few of the job's cancel checks
    assert runner.get(first.id).status == "running"
    assert runner.cancel(first.id, "session-a").followers == {"session-b"}  # leaving twice changes nothing
    assert runner.cancel(first.id, "session-b").followers == frozenset()
    again = runner.submit("simulation", "interleaving", lambda ctx: "rerun", key="il:a,b", follower="session-b")
    assert again.id != first.id  # a job being cancelled is never shared, even before its next check
    assert finished(runner, first).status == "cancelled" and finished(runner, again).result == "rerun"


def test_a_shared_job_one_follower_left_finishes_for_the_other_and_a_queued_one_ends_with_its_last_follower():
    runner = JobRunner(workers=1)
    go_on = threading.Event()
    running = runner.submit("experiment", "default experiment", lambda ctx: go_on.wait(WAIT_S) and "table",
                            key="exp", follower="a")
    queued = runner.submit("evaluation", "SciFact", lambda ctx: "beir", key="beir", follower="a")
    runner.submit("evaluation", "SciFact", lambda ctx: "beir", key="beir", follower="b")
    runner.submit("experiment", "default experiment", lambda ctx: "never run", key="exp", follower="b")
    assert runner.cancel(queued.id, "a").status == "queued"  # b still waits for it
    assert runner.cancel(queued.id, "b").status == "cancelled"  # nobody does: it leaves the queue now
    runner.cancel(running.id, "a")
    go_on.set()
    done = finished(runner, running)
    assert (done.status, done.result, done.followers) == ("done", "table", {"b"})


def test_cancel_without_a_follower_stops_a_followed_job():
    runner = JobRunner(workers=1)
    go_on = threading.Event()
    job = runner.submit("simulation", "run", lambda ctx: ctx.wait_until(go_on.wait, lambda: "nothing"),
                        key="run", follower="a")
    runner.cancel(job.id)
    assert finished(runner, job).status == "cancelled"


def test_a_kind_limit_queues_the_second_simulation_and_names_the_one_it_waits_for():
    runner = JobRunner(workers=2, limits={"simulation": 1})
    go_on = threading.Event()
    first = runner.submit("simulation", "app-linucb", lambda ctx: go_on.wait(WAIT_S))
    second = runner.submit("simulation", "app-random", lambda ctx: "second")
    other = runner.submit("evaluation", "SciFact", lambda ctx: "beside")  # the free worker takes other kinds
    assert finished(runner, other).result == "beside"
    snap = runner.get(second.id)
    assert snap.status == "queued" and snap.waiting_for == "the running simulation (app-linucb) to finish"
    go_on.set()
    assert finished(runner, first).status == "done" and finished(runner, second).result == "second"


def test_a_job_says_what_it_waits_for_and_its_files_are_removed_when_it_ends():
    runner = JobRunner(workers=1)
    ready, seen = threading.Event(), {}

    def blocked(ctx: JobContext) -> Path:
        path = ctx.keep_file("../queries.txt", b"love\njazz\n")  # the name only: never outside its folder
        other = ctx.keep_file("queries.txt", b"rock\n")  # a second upload of that name keeps both
        seen["file"], seen["other"] = path.read_bytes(), other.name
        ctx.wait_until(ready.wait, lambda: "the semantic index (embedding 40%)")
        return path

    job = runner.submit("experiment", "uploads", blocked)
    for _ in range(100):
        if runner.get(job.id).status == "running" and runner.get(job.id).waiting_for:
            break
        threading.Event().wait(0.05)
    assert runner.get(job.id).waiting_for == "the semantic index (embedding 40%)"
    ready.set()
    path = finished(runner, job).result
    assert seen["file"] == b"love\njazz\n" and path.name == "queries.txt" and seen["other"] == "2-queries.txt"
    assert not path.exists() and not path.parent.exists()
    assert runner.get(job.id).waiting_for == ""


NUMBA_JOBS = textwrap.dedent("""
    import numpy as np
    from ltrr_core.base import metrics
    from ltrr_core.services.jobs import JobRunner

    rng = np.random.default_rng(0)
    qrels = {f"q{i}": {f"d{j}": int(rng.integers(0, 3)) for j in range(20)} for i in range(2000)}
    run = {f"q{i}": {f"d{j}": float(rng.random()) for j in range(60)} for i in range(2000)}
    other = {f"q{i}": {f"d{j}": float(rng.random()) for j in range(60)} for i in range(2000)}
    metrics.per_query_scores(qrels, run)  # compile once, alone

    def scores(ctx):  # what an experiment does: per-query scores, then paired tests (both build ranx Runs)
        for _ in range(6):
            metrics.per_query_scores(qrels, run, ["ndcg@10", "recall@100", "mrr@10", "map"])
            metrics.paired_tests(qrels, {"a": run, "b": other}, "a", ["ndcg@10"])
        return "finished"

    runner = JobRunner(workers=2)
    jobs = [runner.submit("experiment", f"experiment {i}", scores) for i in range(2)]
    print([runner.wait(job.id, 300).result for job in jobs])
""")


@pytest.mark.slow
def test_two_jobs_in_ranx_numba_kernels_at_once_both_finish_and_the_process_survives():
    done = subprocess.run([sys.executable, "-c", NUMBA_JOBS], cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert "Concurrent access has been detected" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 0 and done.stdout.strip() == "['finished', 'finished']", done.stderr[-2000:]
