"""SciFact (BEIR) test-split semantic nDCG@10 per embedding backend: which backend may be the default.

    nice -n 10 python benchmarks/encoder_quality.py --dataset ../shared/datasets/scifact \
        --cache-dir /tmp/ltrr_test_cache [--backends torch,onnx,onnx-int8]

Prints one JSON line per backend (nDCG@10, recall@100, MRR@10, seconds) and the gap to torch fp32.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ltrr_core.base.config import ENCODER_BACKENDS, Settings
from ltrr_core.evaluation.beir import evaluate_beir

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("--dataset", default="../shared/datasets/scifact")
parser.add_argument("--cache-dir", default=None)
parser.add_argument("--backends", default=",".join(ENCODER_BACKENDS))
args = parser.parse_args()

scores = {}
for backend in args.backends.split(","):
    started = time.perf_counter()
    settings = Settings.from_env(cache_dir=args.cache_dir, backend=backend)
    report = evaluate_beir(args.dataset, split="test", systems=("semantic",), settings=settings)
    row = report.table.loc["semantic"].to_dict()
    scores[backend] = row
    print(json.dumps({"backend": backend, **{k: round(float(v), 4) for k, v in row.items()},
                      "seconds": round(time.perf_counter() - started, 1)}), flush=True)
if "torch" in scores:
    metric = next(iter(scores["torch"]))
    for backend, row in scores.items():
        print(f"{backend}: {metric} {row[metric]:.4f} (torch fp32 {scores['torch'][metric]:.4f}, "
              f"gap {row[metric] - scores['torch'][metric]:+.4f})", file=sys.stderr)
