"""Experiments: compare configurations offline on a query set with judgments, per query too; BEIR folders below."""

from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from ltrr_core.services.experiments import BEIR_SYSTEMS
from ltrr_core.vocabulary import ConfigurationError, Experiment, p_value_text
from ui import charts, jobs
from ui.offline import bundled_scifact
from ui.resources import studio, warming_banner

QUERY_SOURCES = {
    "Simulated users (their relevant items are the truth)": "sim",
    "Most searched queries in the log": "log:top",
    "Sample of the log, stratified by query category": "log:sample",
    "Sample of the log, in proportion to how often each query was searched": "log:pps",
    "File (one query a line, or TREC topics)": "file",
}
JUDGMENT_SOURCES = {
    "Simulator's truth": "sim",
    "Stored labels (any judge)": "labels",
    "Stored labels of one judge": "labels:",
    "Qrels file (TREC, BEIR TSV or Quepid CSV)": "qrels",
    "Clicks over expected clicks in the log (COEC, shown 10+ times)": "clicks",
}

EXPERIMENT_JOB, EVAL_JOB = "exp_job", "eval_job"


def p_values_in_words(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``frame`` rounded, its p-value ``columns`` as text ("< 0.001", "0.042"; the baseline's blank)."""
    shown = frame.round(4)
    for column in columns:
        shown[column] = [("" if pd.isna(p) else p_value_text(float(p))) for p in frame[column]]
    return shown
Upload = jobs.Upload  # written to its job's own folder when the job runs

st.title("Experiments")
faces = studio()
experiments = faces.experiments
warming_banner(faces.search)  # experiments compare semantic configurations: they wait for its index

# ------------------------------------------------------------------ configurations on a query set
st.subheader("Compare configurations on a query set")
st.caption(
    "A configuration is `[name=]<retrieval>[/<ranker>]`: retrieval `bandit` (the learned policy, no exploration), "
    "`all` / `all@K`, or strategies joined by `+` with depths (`lexical@100+semantic@50`); ranker `rrf`, "
    "`interleave` or `ltr`. The first is the baseline; p-values are paired t-tests (ranx) adjusted by "
    "Holm-Bonferroni. Searches are not logged; each run is saved as a snapshot."
)
configs = st.text_input("Configurations (comma-separated)", value=experiments.default_configurations(), key="exp_configs")
cols = st.columns([3, 1, 3])
query_label = cols[0].selectbox("Query set", list(QUERY_SOURCES), key="exp_query_source")
query_kind = QUERY_SOURCES[query_label]
n_queries = cols[1].number_input("Queries", min_value=1, max_value=5000, value=300, step=50, key="exp_n",
                                 disabled=query_kind == "file")
judgment_label = cols[2].selectbox("Judgments", list(JUDGMENT_SOURCES), key="exp_judgment_source")
judgment_kind = JUDGMENT_SOURCES[judgment_label]
query_file = st.file_uploader("Query file", key="exp_query_file") if query_kind == "file" else None
judge = st.text_input("Judge", value="analyst", key="exp_judge") if judgment_kind == "labels:" else ""
qrels_file = st.file_uploader("Judgments file", key="exp_qrels_file") if judgment_kind == "qrels" else None
snapshots = experiments.experiment_snapshots()
here = snapshots[snapshots["this_catalog"]]
against_options = {"(none)": None} | {f"#{r.experiment_id} · {r.query_set} · {', '.join(r.configurations)}": int(r.experiment_id)
                                      for r in here.itertuples()}
against = against_options[st.selectbox("Compare with an earlier snapshot", list(against_options), key="exp_against")]


def query_spec() -> str | Upload | None:
    """``kind:N``, or the uploaded query file (None: the file is missing)."""
    if query_kind == "file":
        return (query_file.name, query_file.getvalue()) if query_file else None
    return f"{query_kind}:{int(n_queries)}"


def judgment_spec() -> str | Upload | None:
    """``sim`` / ``labels`` / ``labels:JUDGE``, or the uploaded qrels file (None: the file is missing)."""
    if judgment_kind == "qrels":
        return (qrels_file.name, qrels_file.getvalue()) if qrels_file else None
    return f"labels:{judge.strip()}" if judgment_kind == "labels:" else judgment_kind


def spec_key(spec: str | Upload) -> str:
    """What identifies a spec in a job's key: the spec, or an upload's name and content hash."""
    return spec if isinstance(spec, str) else jobs.upload_key(spec)


def run_experiment(ctx: jobs.JobContext, configurations: str, queries: str | Upload, judgments: str | Upload,
                   baseline_snapshot: int | None) -> Experiment:
    """The job (a worker thread: no Streamlit here): uploads go to the job's own folder, removed when it ends."""
    jobs.wait_for_semantic(faces.search, ctx)
    on_disk = [spec if isinstance(spec, str) else f"{prefix}:{ctx.keep_file(*spec)}"
               for prefix, spec in (("file", queries), ("qrels", judgments))]
    return experiments.run_experiment(configurations, *on_disk, against=baseline_snapshot, progress=ctx.step)


if st.button("Run experiment", key="exp_run", type="primary"):
    queries, judgments = query_spec(), judgment_spec()
    if queries is None:
        st.error("Query file: upload a file with one query a line (or TREC topics).")
    elif judgments is None:
        st.error("Judgments file: upload a qrels file (TREC, BEIR TSV or Quepid CSV).")
    else:
        try:
            experiments.configurations(configs)  # a bad configuration is a message now, not a failed job later
        except ConfigurationError as exc:
            st.error(str(exc))
        else:
            key = "|".join(["experiment", str(id(experiments)), configs, spec_key(queries), spec_key(judgments), str(against)])
            jobs.start(EXPERIMENT_JOB, "experiment", f"Experiment {configs}",
                       partial(run_experiment, configurations=configs, queries=queries, judgments=judgments,
                               baseline_snapshot=against), key=key)
jobs.follow(EXPERIMENT_JOB, into="experiment")

experiment = st.session_state.get("experiment")
if experiment is not None:
    st.caption(f"Snapshot #{experiment.snapshot_id} · {experiment.query_set} · judgments {experiment.judgments} · "
               f"{len(experiment.qrels)} judged queries · {experiment.seconds:.1f} s ({experiment.cpu_seconds:.1f} s CPU) · baseline {experiment.baseline}")
    table = experiment.table()
    p_columns = [f"p {metric}" for metric in experiment.metrics]
    st.dataframe(p_values_in_words(table, p_columns).set_index("configuration"), key="exp_table")
    tidy = table.melt(id_vars="configuration", value_vars=list(experiment.metrics), var_name="metric", value_name="value")
    st.plotly_chart(charts.grouped_bars(tidy, "metric", "value", "configuration", "Metrics per configuration",
                                        "metric", "score"), key="exp_chart")
    with st.expander("Paired tests against the baseline (wins, ties, losses per query)"):
        st.dataframe(p_values_in_words(experiment.significance(), ["p_value", "p_holm"]), key="exp_tests")

    st.markdown("**What changed per query**")
    names = experiment.names
    cols = st.columns([2, 2, 1])
    a = cols[0].selectbox("Configuration A", names, index=0, key="exp_a")
    b = cols[1].selectbox("Configuration B", names, index=min(1, len(names) - 1), key="exp_b")
    metric = cols[2].selectbox("Metric", list(experiment.metrics), key="exp_metric")
    changed = experiment.changed_queries(a, b, metric)
    st.caption("Biggest change in the metric first, then the lowest rank-biased overlap (p = 0.9) of the top 10.")
    st.dataframe(changed.round(3), key="exp_changed", hide_index=True)
    if len(changed):
        labels = {f"{r.query} ({r.delta:+.3f})": r.query_id for r in changed.itertuples()}
        chosen = labels[st.selectbox("Query", list(labels), key="exp_query")]
        catalog = faces.catalog
        st.table(experiment.side_by_side(a, b, chosen, lambda d: f"{catalog.get(d).title} ({d})").set_index("rank"))

with st.expander(f"Saved snapshots ({len(snapshots)})"):
    if len(snapshots):
        st.dataframe(snapshots.astype({"configurations": str}), hide_index=True, key="exp_snapshots")
        ids = [int(i) for i in here["experiment_id"]]
        if ids:
            pick = st.selectbox("Open snapshot", ids, key="exp_open_id")
            if st.button("Open", key="exp_open"):
                st.session_state["experiment"] = experiments.experiment_snapshot(pick)
                st.rerun()
    else:
        st.caption("None yet: run an experiment above.")

# ------------------------------------------------------------------ BEIR folders
st.subheader("Offline metrics on a BEIR folder")
st.caption(
    "Each strategy alone, their reciprocal-rank fusion, and LightGBM LTR trained on the train split only, "
    "scored with ranx on the chosen split (on the folder's own corpus, not the current catalog)."
)
cols = st.columns([3, 1, 2])
folder = cols[0].text_input("BEIR folder", value=bundled_scifact(), key="beir_eval_dir",
                            placeholder="/path/to/scifact (corpus.jsonl, queries.jsonl, qrels/)")
splits = sorted(p.stem for p in (Path(folder) / "qrels").glob("*.tsv")) if folder.strip() and Path(folder).is_dir() else []
split = cols[1].selectbox("Split", splits or ["test"], index=(splits.index("test") if "test" in splits else 0), key="beir_split")
systems = cols[2].multiselect("Systems", BEIR_SYSTEMS, default=list(BEIR_SYSTEMS), key="eval_systems")


def evaluate(ctx: jobs.JobContext, folder: str, split: str, systems: tuple[str, ...]):
    """The job (a worker thread: no Streamlit here): the chosen systems on the folder's split."""
    return experiments.evaluate_beir(folder, split, systems, progress=ctx.step)


if st.button("Run evaluation", key="eval_run"):
    if not folder.strip():
        st.error("BEIR folder: type the path of a BEIR dataset folder.")
    elif not Path(folder).is_dir():
        st.error(f"BEIR folder: {folder} is not a folder; check the path.")
    elif not systems:
        st.error("Systems: pick at least one system to evaluate.")
    else:
        jobs.start(EVAL_JOB, "evaluation", f"BEIR evaluation of {Path(folder).name} ({split})",
                   partial(evaluate, folder=folder, split=split, systems=tuple(systems)),
                   key="|".join(["beir", str(id(experiments)), folder, split, *systems]))
jobs.follow(EVAL_JOB, into="eval_report")

report = st.session_state.get("eval_report")
if report is not None:
    st.caption(f"{report.dataset} · split {report.split} · {report.queries} queries · {report.seconds:.1f} s")
    beir_table = report.table.round(4)
    st.table(beir_table)
    beir_tidy = beir_table.reset_index().melt(id_vars="system", var_name="metric", value_name="value")
    st.plotly_chart(
        charts.grouped_bars(beir_tidy, "metric", "value", "system", f"{report.dataset}: metrics per system", "metric", "score"),
        key="eval_chart",
    )
    with st.expander("Strategies left out on BEIR, and why"):
        st.table(pd.DataFrame(list(report.left_out.items()), columns=["strategy", "why"]).set_index("strategy"))
