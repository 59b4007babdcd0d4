"""A cold ``make run`` to first results, as a new user sees it: the app on a fresh cache dir, a real
browser (the system Chromium) types ``love`` and waits for the first result. Prints seconds to a
healthy server, to the search box and to the first results; asserts nothing.

    .venv/bin/python benchmarks/bench_cold_start.py [--cache-dir /tmp/ltrr_cold] [--query love]

The cache dir is emptied first, so nothing is cached: the catalog's indexes are built and the
embedding model is exported and starts embedding in the background (``semantic`` warms up while
the other five strategies serve). Needs ``scripts/browser-deps.sh`` (Chromium) and playwright.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from playwright import sync_api

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 600_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(port: int) -> None:
    while True:
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache-dir", default="/tmp/ltrr_cold")
    parser.add_argument("--query", default="love")
    args = parser.parse_args()
    cache = Path(args.cache_dir)
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    port = free_port()
    env = {**os.environ, "LTRR_CACHE_DIR": str(cache), "LTRR_DB_PATH": str(cache / "feedback.db")}
    started = time.perf_counter()
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/streamlit"), "run", "app.py", "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=(cache / "server.log").open("w"), stderr=subprocess.STDOUT)
    try:
        wait_healthy(port)
        print(f"server healthy: {time.perf_counter() - started:.1f} s")
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}")
            box = page.get_by_test_id("stTextInput").locator("input").first
            sync_api.expect(box).to_be_visible(timeout=TIMEOUT_MS)
            print(f"search box: {time.perf_counter() - started:.1f} s")
            box.fill(args.query)
            page.get_by_role("button", name="Search", exact=True).click()
            sync_api.expect(page.locator(".st-key-result_1")).to_contain_text("1. ", timeout=TIMEOUT_MS)
            print(f"first results: {time.perf_counter() - started:.1f} s")
            browser.close()
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
