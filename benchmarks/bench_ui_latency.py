"""Search page latency as the analyst feels it: Enter pressed in the query box -> the new results painted,
in headless Chromium, next to the same measurement on a minimal Streamlit page (a text box and ten
lines of Markdown: the framework's floor) and next to the engine's own time (the ``total`` the page
shows), all in one run.

    python benchmarks/bench_ui_latency.py [--root /work/before25] [--queries 20] [--cache-dir DIR] [--json]

``--root`` is the checkout whose ``app.py`` is measured (default: this one), run with this Python on its
own temporary database and the default catalog; ``--cache-dir`` (default ``$LTRR_TEST_CACHE_DIR``) is a
warm embedding cache. Times are taken inside the page: from the Enter keydown event to the animation
frame in which the new search's caption and every result row of that search (the rows' grade widgets
are keyed ``grade_<search id>_<rank>``) are in the document. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
QUERIES = ("love", "jazz", "rock ballads", "sad songs", "tayla mcalister", "chill", "piano", "80s", "workout", "latin",
           "hip hop", "acoustic", "hold on", "golden", "summer hits", "k-pop", "blues", "new releases",
           "space podcast", "running podcast")
MINIMAL_PAGE = '''import streamlit as st

query = st.text_input("Query")
for line in range(1, 11):
    st.markdown(f"{line}. **{query}** - line {line} of ten")
'''
START_TIMEOUT_S = 180
FIRST_LOAD_MS = 300_000
PAINT_TIMEOUT_MS = 60_000
WARMUP_SEARCHES = 3
WARMING_WAIT_S = 180

RECORD_ENTER = """() => {
  window.__enterAt = null;
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter') window.__enterAt = performance.now(); }, true);
}"""
# The app: the caption names a search id other than the previous one, and every result row shows that
# search's grade widget (stale rows of the previous search are gone).
APP_PAINTED = """(previous) => {
  const caption = [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
    .map((el) => el.innerText.match(/search #(\\d+)/)).find((m) => m);
  if (!caption || caption[1] === previous) return false;
  const rows = document.querySelectorAll('[class*="st-key-result_"]').length;
  const graded = document.querySelectorAll('[class*="st-key-grade_' + caption[1] + '_"]').length;
  if (!rows || graded < rows) return false;
  const total = [...document.querySelectorAll('[data-testid=stCaptionContainer]')]
    .map((el) => el.innerText.match(/([\\d.]+) ms total/)).find((m) => m);
  return {ms: performance.now() - window.__enterAt, search: caption[1], engine: total ? Number(total[1]) : null};
}"""
MINIMAL_PAINTED = """(query) => {
  const lines = [...document.querySelectorAll('[data-testid=stMarkdownContainer] strong')];
  if (lines.length < 10 || !lines.every((el) => el.innerText === query)) return false;
  return {ms: performance.now() - window.__enterAt};
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit(script: str, cwd: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """``streamlit run script`` (headless, its own port) until healthy; yields its URL."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"{script} in {cwd} did not start; see {log}")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def enter(page, query: str, painted: str, arg: str | None) -> dict:
    """Type ``query``, press Enter, and wait (every animation frame) until ``painted(arg)`` holds."""
    box = page.get_by_test_id("stTextInput").locator("input").first
    box.fill(query)
    box.press("Enter")
    return page.wait_for_function(painted, arg=arg, polling="raf", timeout=PAINT_TIMEOUT_MS).json_value()


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(url)
    page.get_by_test_id("stTextInput").locator("input").first.wait_for(timeout=FIRST_LOAD_MS)
    page.evaluate(RECORD_ENTER)
    return page


def warm_up(page) -> str:
    """Searches until the engine has warmed (no "warming up" banner); returns the last search id."""
    search, deadline = "", time.monotonic() + WARMING_WAIT_S
    for i in range(1000):
        search = enter(page, QUERIES[i % len(QUERIES)] + " warm", APP_PAINTED, search)["search"]
        if i + 1 >= WARMUP_SEARCHES and (not page.get_by_text("warming up").count() or time.monotonic() > deadline):
            return search
        time.sleep(1)
    return search


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": float(np.percentile(values, 50)), "p95": float(np.percentile(values, 95)),
            "mean": statistics.fmean(values), "n": len(values)}


def measure(root: Path, queries: int, cache_dir: Path) -> dict:
    from playwright.sync_api import sync_playwright

    app_ms, minimal_ms, engine_ms = [], [], []
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench_ui_")))
        env = {k: v for k, v in os.environ.items() if k != "LTRR_SOURCE"}
        env |= {"LTRR_CACHE_DIR": str(cache_dir), "LTRR_DB_PATH": str(tmp / "feedback.db"), "PYTHONPATH": str(root)}
        (tmp / "minimal.py").write_text(MINIMAL_PAGE)
        app_url = stack.enter_context(streamlit("app.py", root, env, tmp / "app.log"))
        minimal_url = stack.enter_context(streamlit(str(tmp / "minimal.py"), tmp, env, tmp / "minimal.log"))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        stack.callback(browser.close)
        app, minimal = open_page(browser, app_url), open_page(browser, minimal_url)
        search = warm_up(app)
        enter(minimal, "warm", MINIMAL_PAINTED, "warm")
        for i in range(queries):  # alternate the two pages so both see the same machine load
            query = QUERIES[i % len(QUERIES)] + ("" if i < len(QUERIES) else f" {i}")
            painted = enter(app, query, APP_PAINTED, search)
            search = painted["search"]
            app_ms.append(painted["ms"])
            if painted["engine"] is not None:
                engine_ms.append(painted["engine"])
            minimal_ms.append(enter(minimal, f"{query} {i}", MINIMAL_PAINTED, f"{query} {i}")["ms"])
            time.sleep(0.3)  # let the app's rerun finish before the next Enter
    return {"root": str(root), "queries": queries, "app": summary(app_ms), "minimal": summary(minimal_ms),
            "engine": summary(engine_ms) if engine_ms else None,
            "load_average": os.getloadavg()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose app.py is measured")
    parser.add_argument("--queries", type=int, default=20, help="searches measured (default 20)")
    parser.add_argument("--cache-dir", type=Path, default=os.environ.get("LTRR_TEST_CACHE_DIR"),
                        help="warm embedding cache (LTRR_CACHE_DIR; default $LTRR_TEST_CACHE_DIR)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.cache_dir is None:
        parser.error("--cache-dir: give a warm cache directory or set LTRR_TEST_CACHE_DIR")
    if not (args.root / "app.py").exists():
        parser.error(f"--root {args.root}: no app.py there")
    if args.queries < 1:
        parser.error("--queries: at least 1")
    figures = measure(args.root.resolve(), args.queries, args.cache_dir)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"{figures['root']}: {args.queries} searches, load average {figures['load_average'][0]:.2f}")
    for name in ("app", "minimal", "engine"):
        if figures[name]:
            print(f"  {name:8s} p50 {figures[name]['p50']:7.1f} ms   p95 {figures[name]['p95']:7.1f} ms")
    print(f"  app p50 - minimal p50: {figures['app']['p50'] - figures['minimal']['p50']:.1f} ms;"
          f" app p95/p50 {figures['app']['p95'] / figures['app']['p50']:.2f}")


if __name__ == "__main__":
    main()
