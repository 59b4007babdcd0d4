"""Sensitivity of team-draft interleaving against an A/B test, on the same simulated traffic.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_interleaving.py --cache-dir /tmp/ltrr_test_cache
[--configs A,B] [--seeds 20] [--pool 1500]``.

Traffic: ``--pool`` intents drawn once (1,000 simulated users); each seed streams intents
sampled from that pool with its own order and click randomness, so the truth is exact for the
stream: configuration A's and B's mean nDCG@10 over the pool, graded on each intent's relevant
items (the simulator's hidden truth, used for the verdict only). Both configurations' ranked
lists come from ``engine.runtime.run_configuration``; users answer through the simulator's
``ClickModel`` (position-based, rank r examined with probability 1 / sqrt(r)), 10 results a page.

- Interleaving: every search shows the team draft of A and B; the impression is a win for the
  team with more clicked results, a tie when equal.
- A/B: users are split between A and B by a salted hash of their id; the i-th A search and the
  i-th B search form a pair, won by the page with more clicked results.

Both use the same anytime-valid test (Beta-mixture SPRT, alpha 0.05, checked after every
search) and stop at its first rejection; a search counts one impression in either design. A
verdict is wrong when it names the configuration with the lower true nDCG@10. Prints the
searches each needed (median over seeds), the wrong and undecided shares, and their ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time

import numpy as np

from ltrr_core.base.config import Settings
from ltrr_core.engine import Engine
from ltrr_core.evaluation.configurations import parse_configurations
from ltrr_core.evaluation.interleaving import credit, team_draft
from ltrr_core.base.metrics import per_query
from ltrr_core.evaluation.sequential import MixtureSPRT
from ltrr_core.simulation.clicks import ClickModel
from ltrr_core.services.interleaving_runs import prefetch_query_vectors
from ltrr_core.simulation.profiles import make_profiles
from ltrr_core.simulation.traffic import TrafficGenerator

SHOWN = 10
CHUNK = 500  # searches simulated between two checks of the (vectorized) sequential test


def ranked_lists(engine: Engine, configs, intents) -> list[list[list[str]]]:
    """Per configuration, per intent: the configuration's ranked ids (top 3 pages)."""
    out = []
    for config in configs:
        lists = []
        for intent in intents:
            run = engine.runtime.run_configuration(config, intent.query, intent.context)
            lists.append([run.pool.ids[i] for i in run.ranked.order[:3 * SHOWN]])
        out.append(lists)
    return out


def true_ndcg(lists: list[list[str]], intents) -> np.ndarray:
    qrels = {str(q): {e: 1 for e in intent.relevant} for q, intent in enumerate(intents)}
    run = {str(q): {e: float(len(ids) - r) for r, e in enumerate(ids[:SHOWN])} for q, ids in enumerate(lists)}
    scores = per_query(qrels, run, "ndcg@10")
    return np.array([scores.get(str(q), 0.0) for q in range(len(intents))])


def interleaving_searches(lists, intents, seed: int, test: MixtureSPRT, cap: int, model: ClickModel):
    """Searches until the interleaving test rejects (or ``cap``) and the verdict (0: A, 1: B, None)."""
    rng = np.random.default_rng(seed)
    outcomes: list[int] = []
    while len(outcomes) < cap:
        for q in rng.integers(len(intents), size=CHUNK).tolist():
            page = team_draft([lists[0][q], lists[1][q]], SHOWN, rng)
            clicks = model.respond(page.ids, intents[q], rng).clicks
            a, b = credit(page.teams, [rank for _, rank in clicks], 2)
            outcomes.append(int(np.sign(a - b)))
        crossed = test.first_crossing(np.array(outcomes))
        if crossed is not None:
            return crossed, 0 if sum(outcomes[:crossed]) > 0 else 1
    return cap, None


def ab_searches(lists, intents, seed: int, test: MixtureSPRT, cap: int, model: ClickModel):
    """Searches until the A/B test rejects (or ``cap``) and the verdict; pairs are (i-th A, i-th B) searches."""
    rng = np.random.default_rng(seed)
    salt = f"ab-{seed}"
    arm_of = {}
    waiting: list[list[tuple[int, int]]] = [[], []]  # per arm: (search number, clicked results) not yet paired
    pairs: list[tuple[int, int]] = []  # (outcome for A, search number when the pair completed)
    searches = 0
    while searches < cap:
        for q in rng.integers(len(intents), size=CHUNK).tolist():
            searches += 1
            user = intents[q].context.user.id
            if user not in arm_of:
                arm_of[user] = hashlib.blake2b(f"{salt}:{user}".encode(), digest_size=2).digest()[0] % 2
            arm = arm_of[user]
            clicked = len({i for i, _ in model.respond(lists[arm][q][:SHOWN], intents[q], rng).clicks})
            waiting[arm].append((searches, clicked))
            if waiting[0] and waiting[1]:
                (_, a), (_, b) = waiting[0].pop(0), waiting[1].pop(0)
                pairs.append((int(np.sign(a - b)), searches))
        crossed = test.first_crossing(np.array([p[0] for p in pairs]))
        if crossed is not None:
            return pairs[crossed - 1][1], 0 if sum(p[0] for p in pairs[:crossed]) > 0 else 1
    return cap, None


def summarize(name: str, found: list[tuple[int, int | None]], correct: int) -> dict:
    needed = [n for n, _ in found]
    return {"method": name, "median_searches": float(np.median(needed)),
            "p25": float(np.percentile(needed, 25)), "p75": float(np.percentile(needed, 75)),
            "wrong": sum(v is not None and v != correct for _, v in found) / len(found),
            "undecided": sum(v is None for _, v in found) / len(found)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="lexical+semantic+structured/rrf,lexical+semantic/rrf")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--pool", type=int, default=1500)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--cap-interleaving", type=int, default=20_000)
    parser.add_argument("--cap-ab", type=int, default=200_000)
    parser.add_argument("--cache-dir", default=None)
    args = parser.parse_args()

    started = time.perf_counter()
    engine = Engine.open("default", Settings.from_env(cache_dir=args.cache_dir,
                                                      db_path="/tmp/ltrr_bench_interleaving/feedback.db"))
    engine.searching.warm_up()
    configs = parse_configurations(args.configs, engine.runtime.strategy_names)
    if len(configs) != 2:
        sys.exit("--configs: give exactly two configurations")
    catalog = engine.runtime.catalog
    traffic = TrafficGenerator(catalog, seed=0, profiles=make_profiles(catalog, n=1000, seed=0))
    intents = traffic.draw(args.pool)
    prefetch_query_vectors(engine, [i.query for i in intents])
    lists = ranked_lists(engine, configs, intents)
    truth = [true_ndcg(per_config, intents) for per_config in lists]
    correct = 0 if truth[0].mean() > truth[1].mean() else 1
    print(f"prepared {args.pool} intents in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    print(f"A = {configs[0].spec}: true nDCG@10 {truth[0].mean():.4f}")
    print(f"B = {configs[1].spec}: true nDCG@10 {truth[1].mean():.4f}")
    print(f"true difference A - B {truth[0].mean() - truth[1].mean():+.4f}; intents where A > B "
          f"{(truth[0] > truth[1]).mean():.1%}, B > A {(truth[1] > truth[0]).mean():.1%}")

    test, model = MixtureSPRT(args.alpha), ClickModel(eta=0.5)
    found = {"interleaving": [], "A/B": []}
    for seed in range(args.seeds):
        found["interleaving"].append(interleaving_searches(lists, intents, seed, test, args.cap_interleaving, model))
        found["A/B"].append(ab_searches(lists, intents, seed, test, args.cap_ab, model))
        print(f"seed {seed}: interleaving {found['interleaving'][-1]}, A/B {found['A/B'][-1]} "
              f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    rows = [summarize(name, runs, correct) for name, runs in found.items()]
    print(f"\n{args.seeds} seeds, alpha {args.alpha}, caps: interleaving {args.cap_interleaving:,}, A/B {args.cap_ab:,}")
    print("| design | median searches to a verdict | p25-p75 | wrong verdicts | no verdict by the cap |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['method']} | {row['median_searches']:,.0f} | {row['p25']:,.0f}-{row['p75']:,.0f} | "
              f"{row['wrong']:.0%} | {row['undecided']:.0%} |")
    print(f"A/B needed {rows[1]['median_searches'] / rows[0]['median_searches']:.1f}x the searches of interleaving "
          f"(median); total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
