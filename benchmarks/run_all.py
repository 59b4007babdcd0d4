"""Run every benchmark and print its figures (``make bench``). Asserts nothing.

Figures of record, with the commands that produced them, live in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LTRR = [sys.executable, "-m", "ltrr_core.cli"]
SCIFACT = ROOT.parent / "shared" / "datasets" / "scifact"

RUNS: list[tuple[str, list[str]]] = [
    ("end-to-end search, all six strategies", LTRR + ["bench", "search", "--source", "default", "--queries", "300", "--json"]),
    ("retrieval per strategy", [sys.executable, "benchmarks/bench_retrieval.py"]),
    ("ranking tier", [sys.executable, "benchmarks/bench_ranker.py"]),
    ("feedback store", [sys.executable, "benchmarks/bench_store.py"]),
    ("policies on the same seeded traffic", LTRR + ["simulate", "--rounds", "5000", "--seed", "7", "--compare", "--json",
                                                    "--db", ".ltrr_cache/bench-simulate.db"]),
    ("offline experiment, 300 simulated queries", LTRR + ["experiment", "--queries", "sim:300", "--judgments", "sim",
                                                          "--db", ".ltrr_cache/bench-experiment.db"]),
]
if SCIFACT.exists():
    RUNS.append(("SciFact (BEIR) test split", LTRR + ["eval", "--dataset", f"beir:{SCIFACT}", "--split", "test", "--json"]))


def main() -> int:
    failed = 0
    for title, command in RUNS:
        print(f"\n== {title}\n$ {' '.join(command)}", flush=True)
        failed += subprocess.run(command, cwd=ROOT).returncode != 0
    return int(failed > 0)


if __name__ == "__main__":
    sys.exit(main())
