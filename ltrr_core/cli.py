"""The ``ltrr`` command line. Every command takes ``--json`` for machine-readable stdout."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from ltrr_core.config import Settings

COMMANDS: dict[str, Callable[[argparse.Namespace], object]] = {}


class UserError(Exception):
    """A problem the user can fix; printed as one line, no traceback."""


def command(name: str):
    def wrap(fn):
        COMMANDS[name] = fn
        return fn

    return wrap


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(db_path=getattr(args, "db", None), cache_dir=getattr(args, "cache_dir", None),
                             model=getattr(args, "model", None))


def _engine(args: argparse.Namespace, policy=None):
    from ltrr_core.engine import Engine

    return Engine.open(args.source, _settings(args), policy)


def _progress_bar(enabled: bool):
    """A tqdm-backed ``progress(label, fraction)`` on stderr, or None."""
    if not enabled:
        return None
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(label: str, fraction: float) -> None:
        bar = bars.setdefault(label, tqdm(total=100, desc=label, file=sys.stderr, leave=False))
        bar.update(int(fraction * 100) - bar.n)

    return progress


@command("catalog")
def cmd_catalog(args):
    from ltrr_core.catalog.sources import load_catalog

    return load_catalog(args.source).summary()


@command("search")
def cmd_search(args):
    from ltrr_core.selection.context import Context

    engine = _engine(args)
    if args.queries_file:
        path = Path(args.queries_file)
        if not path.exists():
            raise UserError(f"{path}: no such queries file (one query per line)")
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            print(json.dumps(engine.search(line, Context(), k=args.k, source="human").to_json(), ensure_ascii=False))
        return None
    if args.query is None:
        raise UserError('give a query: ltrr search "QUERY" (or --queries-file FILE)')
    return engine.search(args.query, Context(), k=args.k).to_json()


@command("bench-search")
def cmd_bench_search(args):
    from ltrr_core.evaluation.latency import bench_search

    return bench_search(args.source, args.queries, _settings(args), seed=args.seed)


@command("simulate")
def cmd_simulate(args):
    from ltrr_core.simulation.runs import (
        COMPARE_POLICIES,
        SimulationConfig,
        SimulationRun,
        compare,
    )

    engine = _engine(args)
    config = SimulationConfig(rounds=args.rounds, seed=args.seed, policy=args.policy, noiseless=args.noiseless)
    progress = _progress_bar(not args.json)
    engine.warm_up(progress)  # indexes and model load before the clock starts (searches_per_s)
    if args.compare:
        runs = compare(engine, config, COMPARE_POLICIES + tuple(f"fixed:{s}" for s in engine.strategy_names), progress)
        return {name: run.summary() for name, run in runs.items()}
    run = SimulationRun(engine, config)
    for _ in run.iter_batches(50):
        if progress:
            progress(f"simulate {args.policy}", len(run.records) / args.rounds)
    return run.summary()


@command("eval")
def cmd_eval(args):
    from ltrr_core.evaluation.beir import evaluate_beir

    if args.dataset is None:
        table = _engine(args).evaluate_labels(judge=args.judge)
        return {"source": args.source, "labels": "store", "systems": table.set_index("system").to_dict("index")}
    if not args.dataset.startswith("beir:"):
        raise UserError(f"--dataset {args.dataset!r}: write beir:DIR")
    report = evaluate_beir(args.dataset.split(":", 1)[1], split=args.split, settings=_settings(args),
                           progress=_progress_bar(not args.json))
    return report.to_json()


@command("ope")
def cmd_ope(args):
    if args.obp:
        from ltrr_core.evaluation.ope import OffPolicyEvaluation, load_feedback

        feedback = load_feedback(args.obp)
        ope = OffPolicyEvaluation(feedback)
        return {"n": feedback["n_rounds"], "estimates": ope.summarize_off_policy_estimates(
            feedback["action_dist"], n_bootstrap_samples=args.bootstrap, random_state=args.seed).to_dict(orient="index")}
    if not args.target:
        raise UserError("give --target POLICY (estimate from this app's log) or --obp FILE.npz (logged bandit data)")
    return _engine(args).evaluate_policy(args.target, n_bootstrap=args.bootstrap, seed=args.seed)


@command("labels")
def cmd_labels(args):
    engine = _engine(args)
    if args.action == "import":
        return engine.import_labels(args.file, args.format, judge=args.judge).to_json() | {"file": args.file}
    fmt = args.format or "csv"
    text = engine.export_labels(fmt, judge=args.judge)
    Path(args.file).write_text(text, encoding="utf-8", newline="")
    return {"exported": len(engine.labels(args.judge)), "file": args.file, "format": fmt}


@command("train")
def cmd_train(args):
    decision = _engine(args).retrain(source=None if args.feedback == "all" else args.feedback)
    return {"accepted": decision.accepted, "reason": decision.reason,
            "candidate_ndcg@10": decision.candidate_ndcg10, "previous_ndcg@10": decision.previous_ndcg10,
            "previous_ranker": decision.previous_ranker, "train_groups": decision.train_groups,
            "holdout_groups": decision.holdout_groups}


@command("reset")
def cmd_reset(args):
    return {"deleted": _engine(args).reset_learning()}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ltrr", description="LTR&R Studio: learning to rank and retrieve.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str, source: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
        if source:
            p.add_argument("--source", default="default", help="catalog: default | csv:PATH#MAP.json | spotify:PATH | beir:DIR")
        p.add_argument("--db", help="feedback database path (default: LTRR_DB_PATH or .ltrr_cache/feedback.db)")
        p.add_argument("--cache-dir", help="index/model cache folder (default: LTRR_CACHE_DIR or .ltrr_cache)")
        p.add_argument("--model", help="embedding model: bundled:all-MiniLM-L6-v2 or a local folder")
        return p

    add("catalog", "summarize a catalog source")
    p = add("search", "run one query (or a file of queries) through the funnel")
    p.add_argument("query", nargs="?")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--queries-file")
    p = add("bench", "benchmarks")
    p.add_argument("what", choices=["search"])
    p.add_argument("--queries", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p = add("simulate", "simulated users teach the bandit (in a sandbox database beside --db)")
    p.add_argument("--rounds", type=int, default=1000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--policy", default="linucb")
    p.add_argument("--compare", action="store_true", help="every policy on the same seeded traffic")
    p.add_argument("--noiseless", action="store_true",
                   help="truthful engagement signal (engagement exactly on relevant clicks), for comparison")
    p = add("eval", "offline evaluation on a BEIR dataset, or on the stored labels (--db)")
    p.add_argument("--dataset", help="beir:DIR; without it, evaluate the labels stored in --db")
    p.add_argument("--split", default="test")
    p.add_argument("--judge", help="only this judge's labels (stored labels)")
    p = add("labels", "import or export graded relevance labels")
    p.add_argument("action", choices=["import", "export"])
    p.add_argument("file")
    p.add_argument("--format", choices=["trec", "beir", "csv"], help="default: detected (import) or csv (export)")
    p.add_argument("--judge", default="analyst")
    p = add("ope", "off-policy estimates of another policy from the logged searches")
    p.add_argument("--target", help="a policy name, e.g. random, fixed:semantic, fixed:lexical+semantic, linucb, all")
    p.add_argument("--obp", metavar="FILE.npz",
                   help="grade a policy on logged bandit data from another system instead: arrays action, reward, "
                        "pscore, action_dist (n, n_actions[, len_list]) and optionally position, context")
    p.add_argument("--bootstrap", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p = add("train", "retrain the LTR ranker from stored feedback and labels")
    p.add_argument("--feedback", choices=["human", "simulated", "all"], default="human",
                   help="which feedback to learn from (default: human; simulated feedback only when asked)")
    add("reset", "forget learning state and logs (labels are kept)")
    return parser


def _print_human(result: object) -> None:
    if isinstance(result, dict):
        for key, value in result.items():
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
            print(f"{key:>24}: {shown}")
    elif result is not None:
        print(result)


def main(argv: list[str] | None = None) -> int:
    from ltrr_core.catalog.schema import CatalogError
    from ltrr_core.feedback.labels import LabelFileError
    from ltrr_core.feedback.store import StoreError
    from ltrr_core.retrieval.indexes.embedder import ModelNotFoundError

    args = build_parser().parse_args(argv)
    name = "bench-search" if args.command == "bench" else args.command
    try:
        result = COMMANDS[name](args)
    except (UserError, CatalogError, StoreError, ModelNotFoundError, LabelFileError, ValueError, OSError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"ltrr {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ltrr {args.command}: interrupted", file=sys.stderr)
        return 130
    if args.json and result is not None:
        print(json.dumps(result, ensure_ascii=False, default=str))
    else:
        _print_human(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
