"""Soak: browser sessions search and give thumbs while the CLI simulates, imports and searches on
the same database; afterwards, did anything crash, was any acknowledged event lost, and does the
learning state a restart restores equal a fresh fold of the log?

    .venv/bin/python benchmarks/bench_soak.py [--minutes 10] [--sessions 4] [--cache-dir .ltrr_cache]

One ``streamlit run app.py`` serves every session (each a separate Chromium context in its own
process). First one session runs ``--idle-searches`` searches alone (the idle latency); then, for
``--minutes``, every session searches (a thumbs up on the first result every third search) while
beside it, in turn, ``ltrr simulate``, ``ltrr logs import`` and ``ltrr search --queries-file`` run
on the same database. A search is *acknowledged* when its page shows the new ``search #N``; a
thumbs up when the page says ``sent: thumbs up``. Latency is Enter pressed -> the new search's page
painted. Then the database is opened as a restart would and its
learning state compared with a fresh fold of the log. Prints one JSON object; asserts nothing. Use a warmed cache dir (``make run`` once), or the
first minutes measure embedding, not serving.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
QUERIES = ["love", "jazz", "rock", "sad songs", "chill", "piano", "80s", "workout", "latin", "hip hop", "acoustic",
           "hold on", "golden", "summer hits", "k-pop", "blues", "new releases", "space podcast", "running podcast",
           "podcast about making bread", "taylor", "midnight", "road trip", "focus music", "rain sounds"]
SEARCH_ID = re.compile(r"search #(\d+)")
FIRST_LOAD_MS = 300_000
SEARCH_TIMEOUT_MS = 120_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the app did not become healthy within {timeout_s:g} s")


def shown_search_id(page) -> int:
    found = SEARCH_ID.findall(page.locator("[data-testid=stMain]").inner_text())
    return int(found[-1]) if found else 0


def session(url: str, seconds: float, max_searches: int, seed: int, thumbs_every: int, out: mp.Queue) -> None:
    """One analyst: search, sometimes thumbs up result 1, until ``seconds`` pass or ``max_searches``
    were made; reports what it saw."""
    from playwright.sync_api import sync_playwright

    rng = random.Random(seed)
    latencies, searches, thumbs, errors = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(url)
        box = page.get_by_test_id("stTextInput").locator("input").first
        box.wait_for(timeout=FIRST_LOAD_MS)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(latencies) + len(errors) < max_searches:
            before = shown_search_id(page)
            box.fill(rng.choice(QUERIES))
            started = time.perf_counter()
            box.press("Enter")
            try:
                page.wait_for_function(
                    "prev => { const m = [...document.querySelector('[data-testid=stMain]').innerText"
                    ".matchAll(/search #(\\d+)/g)]; return m.length && Number(m[m.length - 1][1]) !== prev; }",
                    arg=before, timeout=SEARCH_TIMEOUT_MS)
            except Exception as exc:  # a timeout or a closed page: counted, the session goes on
                errors.append(f"search: {type(exc).__name__}")
                continue
            latencies.append(time.perf_counter() - started)
            search_id = shown_search_id(page)
            searches.append(search_id)
            if thumbs_every and len(searches) % thumbs_every == 0:
                first = page.locator(".st-key-result_1")
                try:
                    first.get_by_role("button", name="Thumbs up").click(timeout=30_000)
                    first.get_by_text("sent: thumbs up").wait_for(timeout=30_000)
                    thumbs.append(search_id)
                except Exception as exc:
                    errors.append(f"thumbs: {type(exc).__name__}")
            if page.get_by_test_id("stException").count():
                errors.append("stException on the page")
        browser.close()
    out.put({"latencies": latencies, "searches": searches, "thumbs": thumbs, "errors": errors})


def run_sessions(url: str, count: int, seconds: float, thumbs_every: int, seed: int,
                 max_searches: int = 10**9) -> list[dict]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=session, args=(url, seconds, max_searches, seed + i, thumbs_every, out))
             for i in range(count)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=seconds + 900) for _ in procs]
    for proc in procs:
        proc.join()
    return results


def cli_beside(db: Path, cache: Path, seconds: float, work: Path) -> dict[str, list[int]]:
    """The CLI on the same database until ``seconds`` pass: simulate, import a log, search; exit codes."""
    queries = work / "queries.txt"
    queries.write_text("\n".join(QUERIES) + "\n", encoding="utf-8")
    common = ["--db", str(db), "--cache-dir", str(cache)]
    commands = {
        "simulate": ["simulate", "--rounds", "300", "--seed", "7", *common],
        "logs import": ["logs", "import", str(ROOT / "data" / "example_log.csv"), *common],
        "search": ["search", "--queries-file", str(queries), *common],
    }
    codes: dict[str, list[int]] = {name: [] for name in commands}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for name, args in commands.items():
            if time.monotonic() >= deadline:
                break
            done = subprocess.run([sys.executable, "-m", "ltrr_core.cli", *args], cwd=ROOT, capture_output=True)
            codes[name].append(done.returncode)
            if done.returncode:
                (work / f"cli-{name.replace(' ', '_')}-{len(codes[name])}.log").write_bytes(done.stdout + done.stderr)
    return codes


def stored(db: Path) -> tuple[set[int], set[int]]:
    """Search ids and thumbs-up search ids in the database."""
    from ltrr_core.feedback.store.feedback_store import FeedbackStore

    with FeedbackStore(db) as store:
        searches = set(store.searches()["search_id"].astype(int))
        thumbs = set(store.feedback_events(kind="thumbs_up")["search_id"].astype(int))
    return searches, thumbs


def restart_equals_fold(db: Path, cache: Path) -> dict[str, object]:
    """Open the database as a restarted process would (snapshot + the rounds after it) and compare its
    learning state with a fresh fold of the whole log: pulls and hit history exactly, ridge arrays to rounding."""
    from ltrr_core.base.config import Settings
    from ltrr_core.engine import Engine
    from ltrr_core.feedback.learning_state import LearningState

    engine = Engine.open("default", Settings.from_env(cache_dir=cache, db_path=db))
    fresh = LearningState.fresh(engine.runtime.strategy_names, engine.runtime.n_features, engine.learning.policy)
    fresh.fold(engine.runtime.store.replayed_rounds())
    fresh.fold(engine.runtime.store.settled_rounds())
    restored, folded = engine.runtime.state.bandit, fresh.bandit
    arrays = restored.arrays(), folded.arrays()
    same = (restored.stats.pulls == folded.stats.pulls
            and engine.runtime.state.history.pulls == fresh.history.pulls
            and all(np.allclose(arrays[0][name], arrays[1][name], rtol=1e-9, atol=1e-12) for name in arrays[1]))
    return {"settled_rounds": len(engine.runtime.store.settled_rounds()), "restart_equals_fold": bool(same)}


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    ms = np.asarray(values) * 1000
    return {"n": len(values), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--idle-searches", type=int, default=20)
    parser.add_argument("--cache-dir", default=str(ROOT / ".ltrr_cache"))
    parser.add_argument("--thumbs-every", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ltrr_soak_"))
    db, cache = work / "feedback.db", Path(args.cache_dir).resolve()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "LTRR_CACHE_DIR": str(cache), "LTRR_DB_PATH": str(db)}
    log = (work / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, server)
        run_sessions(url, 1, 3600, 0, seed=100, max_searches=3)  # the first page view opens the engine
        (idle_run,) = run_sessions(url, 1, 3600, 0, seed=101, max_searches=args.idle_searches)
        seconds = args.minutes * 60
        load_avg_before = os.getloadavg()
        ctx = mp.get_context("spawn")
        with ctx.Pool(1) as pool:
            beside = pool.apply_async(cli_beside, (db, cache, seconds, work))
            sessions = run_sessions(url, args.sessions, seconds, args.thumbs_every, seed=1)
            codes = beside.get(timeout=seconds + 1800)
        crashed = server.poll() is not None
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    searches, thumbs = stored(db)
    state = restart_equals_fold(db, cache)
    acked_searches = {s for r in sessions + [idle_run] for s in r["searches"]}
    acked_thumbs = {s for r in sessions for s in r["thumbs"]}
    server_log = (work / "server.log").read_text(encoding="utf-8", errors="replace")
    print(json.dumps({
        "minutes": args.minutes, "sessions": args.sessions, "load_average_at_start": [round(v, 2) for v in load_avg_before],
        "server_crashed": crashed, "tracebacks_in_server_log": server_log.count("Traceback"),
        "searches_acknowledged": len(acked_searches), "searches_lost": len(acked_searches - searches),
        "thumbs_acknowledged": len(acked_thumbs), "thumbs_lost": len(acked_thumbs - thumbs),
        "session_errors": [e for r in sessions for e in r["errors"]],
        "cli_runs": {name: len(c) for name, c in codes.items()},
        "cli_failures": {name: sum(1 for c in cs if c) for name, cs in codes.items()}, **state,
        "idle": percentiles(idle_run["latencies"]), "under_load": percentiles([x for r in sessions for x in r["latencies"]]),
        "work_dir": str(work),
    }, indent=1))


if __name__ == "__main__":
    main()
