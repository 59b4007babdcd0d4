"""The ``ltrr`` command line. Every command takes ``--json`` for machine-readable stdout."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Callable

from ltrr_core.vocabulary import ENCODER_BACKENDS, Settings, pace

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
                             model=getattr(args, "model", None), backend=getattr(args, "encoder", None))


def _studio(args: argparse.Namespace):
    """The faces over ``--source`` and the settings the arguments name."""
    from ltrr_core.studio import Studio

    return Studio.open(args.source, _settings(args))


def _progress_bar(enabled: bool):
    """A tqdm-backed ``progress(label, fraction)`` on stderr, or None. A label's part after `` · ``
    (e.g. the embedder's "412 docs/s · 1m 05s left") is shown beside its bar."""
    if not enabled:
        return None
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def progress(label: str, fraction: float) -> None:
        name, _, detail = label.partition(" · ")
        bar = bars.setdefault(name, tqdm(total=100, desc=name, file=sys.stderr, leave=False))
        if detail:
            bar.set_postfix_str(detail, refresh=False)
        bar.update(int(fraction * 100) - bar.n)

    return progress


@command("catalog")
def cmd_catalog(args):
    from ltrr_core.studio import catalog_summary

    return catalog_summary(args.source)


@command("search")
def cmd_search(args):
    from ltrr_core.vocabulary import Context

    search = _studio(args).search
    search.warm_up(_progress_bar(not args.json), background=True)  # the five other strategies serve at once
    if args.wait:
        search.wait_until_ready()
    _warming_note(search)
    if args.queries_file:
        path = Path(args.queries_file)
        if not path.exists():
            raise UserError(f"{path}: no such queries file (one query per line)")
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            print(json.dumps(search.search(line, Context(), k=args.k, source="human").to_json(), ensure_ascii=False))
        return None
    if args.query is None:
        raise UserError('give a query: ltrr search "QUERY" (or --queries-file FILE)')
    return search.search(args.query, Context(), k=args.k).to_json()


def _warming_note(search) -> None:
    """On stderr: semantic is left out while the catalog embeds (a later run resumes its chunks)."""
    status = search.semantic_status()
    if status.phase == "warming":
        print(f"semantic: warming up ({status.label}, {status.fraction:.0%}); these results come from the "
              "other strategies; its saved chunks resume on the next run (or pass --wait)", file=sys.stderr)
    elif status.phase == "failed":
        print(f"semantic: left out, its index could not be built: {status.error}", file=sys.stderr)


@command("bench-search")
def cmd_bench_search(args):
    from ltrr_core.services.simulation import bench_search

    return bench_search(args.source, args.queries, _settings(args), seed=args.seed)


@command("simulate")
def cmd_simulate(args):
    from ltrr_core.services.simulation import SimulationConfig

    studio = _studio(args)
    config = SimulationConfig(rounds=args.rounds, seed=args.seed, policy=args.policy, noiseless=args.noiseless)
    progress = _progress_bar(not args.json)
    studio.search.warm_up(progress)  # indexes and model load before the clock starts (searches_per_s)
    runs = (studio.simulation.compare(config, progress) if args.compare
            else {config.policy: studio.simulation.simulate(config, progress)})
    studio.reports.record_runs(runs)  # what `ltrr report --db RUN.db` reads
    if args.compare:
        return {name: run.summary().to_json() for name, run in runs.items()}
    return runs[config.policy].summary().to_json()


@command("report")
def cmd_report(args):
    from ltrr_core.studio import report_html, simulation_report

    picked = [kind for kind in ("experiment", "sweep", "interleaving") if getattr(args, kind) is not None]
    if len(picked) > 1 or not (picked or args.db):
        raise UserError("report on one thing: --db RUN.db (a simulated run), --experiment ID, --sweep NAME "
                        "or --interleaving NAME")
    report = (getattr(_studio(args).reports, f"of_{picked[0]}")(getattr(args, picked[0])) if picked
              else simulation_report(args.db))
    Path(args.out).write_text(report_html(report), encoding="utf-8")
    return {"report": report.title, "sentences": report.sentences, "file": args.out}


@command("interleave")
def cmd_interleave(args):
    from ltrr_core.services.experiments import parse_configurations
    from ltrr_core.services.simulation import InterleavingConfig

    parse_configurations(args.configs)  # a bad spec fails before the engine loads
    studio = _studio(args)
    configs = studio.experiments.configurations(args.configs)
    config = InterleavingConfig(rounds=args.rounds, seed=args.seed, alpha=args.alpha, stop_at_winner=not args.no_stop)
    progress = _progress_bar(not args.json)
    studio.search.warm_up(progress)
    return studio.simulation.interleave(configs, config, progress).to_json()


@command("sweep")
def cmd_sweep(args):
    from ltrr_core.services.simulation import SWEEP_ERRORS, SweepConfig, parse_seeds, run_sweep

    policies = tuple(p.strip() for p in args.policies.split(",") if p.strip())
    config = SweepConfig(policies, parse_seeds(args.seeds), args.rounds, args.source)
    try:
        sweep, path = run_sweep(config, _settings(args), args.backend, args.workers, args.ray_address, args.out,
                                _progress_bar(not args.json))
    except SWEEP_ERRORS as exc:
        raise UserError(str(exc)) from exc
    if args.json:
        return sweep.to_json() | {"file": str(path)}
    rows = {policy: " · ".join(f"{figure} {v.mean:.3f} [{v.low:.3f}, {v.high:.3f}]"
                               for figure, v in figures.intervals().items())
            for policy, figures in sweep.policies.items()}
    return rows | {"seconds": sweep.seconds, "backend": f"{sweep.backend} x {sweep.workers}", "file": str(path)}


@command("eval")
def cmd_eval(args):
    from ltrr_core.services.experiments import evaluate_folder

    if args.dataset is None:
        table = _studio(args).labels.evaluate_labels(judge=args.judge)
        return {"source": args.source, "labels": "store", "systems": table.set_index("system").to_dict("index")}
    if not args.dataset.startswith("beir:"):
        raise UserError(f"--dataset {args.dataset!r}: write beir:DIR")
    report = evaluate_folder(args.dataset.split(":", 1)[1], args.split, _settings(args),
                             progress=_progress_bar(not args.json))
    return report.to_json()


@command("ope")
def cmd_ope(args):
    if args.obp:
        from ltrr_core.services.learning import estimate_logged_data

        return estimate_logged_data(args.obp, n_bootstrap=args.bootstrap, seed=args.seed).to_json()
    if not args.target:
        raise UserError("give --target POLICY (estimate from this app's log) or --obp FILE.npz (logged bandit data)")
    return _studio(args).learning.evaluate_policy(args.target, n_bootstrap=args.bootstrap, seed=args.seed).to_json()


@command("labels")
def cmd_labels(args):
    labels = _studio(args).labels
    if args.action == "import":
        return labels.import_labels(args.file, args.format, judge=args.judge).to_json() | {"file": args.file}
    fmt = args.format or "csv"
    Path(args.file).write_text(labels.export_labels(fmt, judge=args.judge), encoding="utf-8", newline="")
    return {"exported": len(labels.labels(args.judge)), "file": args.file, "format": fmt}


@command("train")
def cmd_train(args):
    decision = _studio(args).labels.retrain(source=None if args.feedback == "all" else args.feedback)
    return _decision(decision) | {"previous_ranker": decision.previous_ranker}


def _decision(decision) -> dict:
    """A retraining decision as the CLI prints it."""
    return {"accepted": decision.accepted, "reason": decision.reason,
            "candidate_ndcg@10": decision.candidate_ndcg10, "previous_ndcg@10": decision.previous_ndcg10,
            "train_groups": decision.train_groups, "holdout_groups": decision.holdout_groups}


@command("experiment")
def cmd_experiment(args):
    studio = _studio(args)
    experiments = studio.experiments
    experiments.configurations(args.configs or experiments.default_configurations())  # before warming up
    if not args.json:
        print("warming up indexes and the model…", file=sys.stderr)
    studio.search.warm_up()
    experiment = experiments.run_experiment(args.configs or experiments.default_configurations(), args.queries,
                                            args.judgments, args.baseline, args.against, save=not args.no_save,
                                            progress=_progress_line)
    print(file=sys.stderr)
    if args.json:
        return experiment.to_json() | {"significance": experiment.significance().to_dict("records")}
    table = experiment.table().drop(columns="spec").set_index("configuration")
    return (f"{experiment.query_set} · judgments {experiment.judgments} · {len(experiment.qrels)} judged queries · "
            f"{experiment.seconds:.1f} s ({experiment.cpu_seconds:.1f} s CPU) · snapshot #{experiment.snapshot_id} (p: Holm-adjusted paired t-test "
            f"against {experiment.baseline})\n{table.round(4).to_string()}")


@command("experiments")
def cmd_experiments(args):
    frame = _studio(args).experiments.experiment_snapshots()
    if args.json:
        return frame.assign(created_at=frame["created_at"].astype(str)).to_dict("records")
    return frame.to_string(index=False) if len(frame) else "no experiment snapshots yet: run `ltrr experiment`"


@command("experiment-diff")
def cmd_experiment_diff(args):
    studio = _studio(args)
    experiment = studio.experiments.experiment_snapshot(args.snapshot)
    a, b = args.a or experiment.names[0], args.b or experiment.names[-1]
    if args.query:
        frame = experiment.side_by_side(a, b, args.query, lambda d: f"{studio.catalog.get(d).title} ({d})")
    else:
        frame = experiment.changed_queries(a, b, args.metric, limit=args.limit)
    return frame.to_dict("records") if args.json else frame.round(4).to_string(index=False)


def _progress_line(label: str, fraction: float) -> None:
    """One overwritten line on stderr: what runs, searches done, rate, time left."""
    print(f"\r{fraction:4.0%} {label}\033[K", end="", file=sys.stderr, flush=True)


@command("reset")
def cmd_reset(args):
    return {"deleted": _studio(args).learning.reset_learning()}


class _RateProgress:
    """What runs, its share done and the time left, on one line of stderr (``--json`` keeps stdout clean)."""

    def __init__(self, label: str) -> None:
        import time

        self.label, self.clock, self.start = label, time.perf_counter, time.perf_counter()

    def __call__(self, message: str, fraction: float) -> None:
        print(f"\r{self.label}: {message}, {fraction:.0%} done · {pace(self.clock() - self.start, fraction)} ",
              end="" if fraction < 1 else "\n", file=sys.stderr, flush=True)


@command("logs")
def cmd_logs(args):
    studio = _studio(args)
    logs = studio.logs
    if args.action == "import":
        if not args.file:
            raise UserError("give the log file: ltrr logs import FILE [--format csv|jsonl] [--skip-unknown]")
        return logs.import_log(args.file, args.format, args.skip_unknown, _RateProgress("import")).to_json()
    if args.action == "example":
        written = studio.simulation.write_example_log(args.file or "data/example_log.csv", args.rounds, args.seed)
        return written.to_json()
    if args.action == "bias":
        estimate = logs.estimate_position_bias(max_rank=args.max_rank)  # applied only when trustworthy
        return {"applied": estimate.usable, "not_applied_because": estimate.refusals} | estimate.to_json()
    if args.action == "warm-start":
        return logs.warm_start(_RateProgress("replay")).to_json()
    decision = studio.labels.train_from_logs(debias=not args.naive)
    return _decision(decision) | {"debiased": not args.naive}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ltrr", description="LTR&R Studio: learning to rank and retrieve.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, help: str, source: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
        if source:
            p.add_argument("--source", default=os.environ.get("LTRR_SOURCE") or "default",
                           help="catalog: default | csv:PATH#MAP.json | spotify:PATH | beir:DIR (LTRR_SOURCE sets the default)")
        p.add_argument("--db", help="feedback database path (default: LTRR_DB_PATH or .ltrr_cache/feedback.db)")
        p.add_argument("--cache-dir", help="index/model cache folder (default: LTRR_CACHE_DIR or .ltrr_cache)")
        p.add_argument("--model", help="embedding model: bundled:all-MiniLM-L6-v2 or a local folder")
        p.add_argument("--encoder", choices=ENCODER_BACKENDS,
                       help="the encoder backend: how the model runs (default: LTRR_BACKEND or the saved setting)")
        return p

    add("catalog", "summarize a catalog source")
    p = add("search", "run one query (or a file of queries) through the funnel")
    p.add_argument("query", nargs="?")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--queries-file")
    p.add_argument("--wait", action="store_true", help="wait for the semantic index instead of serving without it")
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
    p = add("interleave", "team-draft interleaving (two) or multileaving (more) on simulated users, in a sandbox")
    p.add_argument("--configs", required=True, help="comma-joined configurations, e.g. bandit/ltr,lexical+semantic/rrf")
    p.add_argument("--rounds", type=int, default=1000, help="most simulated searches (stops earlier at a winner)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--alpha", type=float, default=0.05, help="the sequential test's level (family of pairs)")
    p.add_argument("--no-stop", action="store_true", help="run every round even after a winner is significant")
    p = add("sweep", "many seeded simulations per policy in parallel: mean and 95%% interval")
    p.add_argument("--policies", default="linucb,lints,random", help="comma-separated, e.g. linucb,lints,random")
    p.add_argument("--seeds", default="1-8", help="a range and/or list: 1-8, 1,3,5")
    p.add_argument("--rounds", type=int, default=300)
    p.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="local: a process pool; ray: Ray tasks (the ray extra; RAY_ADDRESS or --ray-address)")
    p.add_argument("--workers", type=int, help="parallel runs (default: the cores)")
    p.add_argument("--ray-address", help="an existing Ray cluster (default: RAY_ADDRESS, else a local cluster)")
    p.add_argument("--out", help="report file (default: sweeps/<name>.json beside --db)")
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
    p = add("logs", "import interaction logs and learn from them (memory, bandit warm start, position bias, LTR)")
    p.add_argument("action", choices=["import", "example", "bias", "warm-start", "train"],
                   help="import FILE | example [FILE]: write a simulated log | bias: estimate the examination curve | "
                        "warm-start: replay imported pages into the bandit | train: LTR on imported clicks")
    p.add_argument("file", nargs="?")
    p.add_argument("--format", choices=["csv", "jsonl"], help="default: detected from the name or content")
    p.add_argument("--skip-unknown", action="store_true", help="skip events on ids the catalog lacks (counted)")
    p.add_argument("--rounds", type=int, default=150, help="example: simulated searches")
    p.add_argument("--seed", type=int, default=7, help="example: simulation seed")
    p.add_argument("--max-rank", type=int, default=20, help="bias: ranks to estimate")
    p.add_argument("--naive", action="store_true", help="train: clicks as labels without position debiasing")
    add("reset", "forget learning state and logs (labels are kept)")
    p = add("experiment", "compare configurations offline on a query set with judgments (saved as a snapshot)")
    p.add_argument("--configs", help="comma-joined [name=]<retrieval>[/<ranker>] specs (default: four that run)")
    p.add_argument("--queries", default="sim:300", help="sim:N[:SEED] | log:top:N | log:sample:N[:SEED] | log:pps:N[:SEED] | file:PATH")
    p.add_argument("--judgments", default="sim", help="sim | labels[:JUDGE|mean|min|max] | clicks[:MIN_IMPRESSIONS] | qrels:PATH")
    p.add_argument("--baseline", help="the configuration the others are tested against (default: the first)")
    p.add_argument("--against", type=int, help="an earlier snapshot id whose configurations join the comparison")
    p.add_argument("--no-save", action="store_true", help="do not store the run as a snapshot")
    add("experiments", "list saved experiment snapshots")
    p = add("report", "a report for stakeholders as one HTML file that opens offline (--db RUN.db: a simulated run)")
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--experiment", type=int, metavar="ID", help="an experiment snapshot of --db (`ltrr experiments`)")
    p.add_argument("--sweep", metavar="NAME", help="a saved sweep (sweeps/NAME.json beside --db)")
    p.add_argument("--interleaving", metavar="NAME", help="an interleaving experiment of --db")
    p = add("experiment-diff", "per-query detail of a snapshot: the queries that changed most, or one query side by side")
    p.add_argument("--snapshot", type=int, required=True)
    p.add_argument("--a", help="configuration name (default: the first)")
    p.add_argument("--b", help="configuration name (default: the last)")
    p.add_argument("--query", help="a query id: its two top-10 lists side by side, with judged grades")
    p.add_argument("--metric", default="ndcg@10")
    p.add_argument("--limit", type=int, default=20)
    return parser


def _print_human(result: object) -> None:
    if isinstance(result, dict):
        for key, value in result.items():
            shown = json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
            print(f"{key:>24}: {shown}")
    elif result is not None:
        print(result)


def main(argv: list[str] | None = None) -> int:
    from ltrr_core.services.search import signals_stop_encodings
    from ltrr_core.vocabulary import USER_ERRORS

    args = build_parser().parse_args(argv)
    name = "bench-search" if args.command == "bench" else args.command
    try:
        with signals_stop_encodings():  # Ctrl-C / SIGTERM: chunks saved, exit 130 / 143, no abort
            result = COMMANDS[name](args)
    except (UserError, *USER_ERRORS, ValueError, OSError, KeyError) as exc:
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
    if argv is None:  # the real command line (not a caller passing its own arguments)
        _exit_if_building()
    return 0


def _exit_if_building() -> None:
    """A background embedding still running: leave now (its finished chunks are on disk and the
    next run resumes them) rather than let interpreter shutdown abort the native encoder thread."""
    import os

    from ltrr_core.services.search import building_in_background

    if building_in_background():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
