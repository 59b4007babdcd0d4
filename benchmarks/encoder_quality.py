"""SciFact (BEIR) test-split nDCG@10 per embedding backend through the product's own path
(``ltrr eval --dataset beir:DIR``: semantic, fusion and the LTR ranker): which backend may be the default.

    nice -n 10 python benchmarks/encoder_quality.py --dataset ../shared/datasets/scifact \
        --cache-dir /tmp/ltrr_test_cache [--backends torch,onnx,onnx-int8]

Prints one JSON line per backend (every system's nDCG@10, seconds) and, when torch is among the
backends, each one's gap to torch fp32 on semantic and LTR and whether both stay within
``MAX_GAP`` (the rule the default backend keeps; ``Settings.backend``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ltrr_core.base.config import ENCODER_BACKENDS, Settings
from ltrr_core.services.experiments import evaluate_folder

MAX_GAP = 0.005
METRIC = "ndcg@10"
RULED = ("semantic", "ltr")  # the systems the rule covers

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--dataset", default="../shared/datasets/scifact")
parser.add_argument("--split", default="test")
parser.add_argument("--cache-dir", default=None)
parser.add_argument("--backends", default=",".join(ENCODER_BACKENDS))
args = parser.parse_args()

scores: dict[str, dict[str, float]] = {}
for backend in args.backends.split(","):
    started = time.perf_counter()
    settings = Settings.from_env(cache_dir=args.cache_dir, backend=backend)
    table = evaluate_folder(args.dataset, args.split, settings).table
    scores[backend] = {system: round(float(table.loc[system, METRIC]), 4) for system in table.index}
    print(json.dumps({"backend": backend, METRIC: scores[backend], "seconds": round(time.perf_counter() - started, 1)}),
          flush=True)
if "torch" in scores:
    for backend, row in scores.items():
        gaps = {s: round(row[s] - scores["torch"][s], 4) for s in RULED}
        verdict = "keeps" if all(abs(g) <= MAX_GAP for g in gaps.values()) else "breaks"
        print(f"{backend}: {METRIC} gap to torch fp32 {gaps} -> {verdict} the {MAX_GAP} rule", file=sys.stderr)
