"""Logs & position bias: import another system's interaction logs, learn the examination curve
from randomized traffic, warm-start the bandit by replay and train the ranker on the clicks."""

from functools import partial
from pathlib import Path

import streamlit as st

from ltrr_core.services.logs import LogImport, ReplaySummary
from ltrr_core.vocabulary import LOG_FORMATS, RetrainDecision
from ui import charts, jobs
from ui.resources import studio
from ui.widgets import retrain_outcome

EXAMPLE_LOG = Path(__file__).resolve().parents[1] / "data" / "example_log.csv"
IMPORT_JOB, WARM_JOB, TRAIN_JOB = "log_import_job", "warm_start_job", "train_logs_job"

st.title("Logs & position bias")
faces = studio()
logs = faces.logs


# The jobs (worker threads: no Streamlit in them); the learning kind runs one at a time, in order.
def import_log(ctx: jobs.JobContext, source: Path | jobs.Upload, fmt: str | None, skip_unknown: bool) -> LogImport:
    """All or nothing: a cancel, like a bad row, stores nothing."""
    return logs.import_log(source, fmt, skip_unknown, progress=ctx.step)


def warm_start(ctx: jobs.JobContext) -> ReplaySummary:
    """The replay, cancellable between pages (nothing is stored until every page is replayed)."""
    return logs.warm_start(progress=ctx.step)


def train_from_logs(ctx: jobs.JobContext, debias: bool) -> RetrainDecision:
    return faces.labels.train_from_logs(debias=debias)


# ------------------------------------------------------------------ import
st.subheader("Import an interaction log")
st.caption("CSV with a header, or JSON lines: `timestamp, session, query, entity_id, event, position, propensity, "
           "policy` — events are impression (with its position), click, engage, thumbs_up, thumbs_down. "
           "All or nothing: a bad row names its line and field and nothing is stored. "
           "Generate a simulated one with `ltrr logs example FILE`.")
left, right = st.columns([3, 1])
with left:
    upload = st.file_uploader("Log file", type=["csv", "jsonl", "ndjson", "json"], key="log_upload")
with right:
    fmt = st.selectbox("Format", ["detect", *LOG_FORMATS], key="log_format")
    skip_unknown = st.checkbox("Skip unknown ids", key="log_skip_unknown",
                               help="Events on ids the catalog lacks are skipped and counted instead of refusing the file.")
clicked_import = st.button("Import log", key="log_import", disabled=upload is None, type="primary")
clicked_example = st.button("Import the example log", key="log_import_example", disabled=not EXAMPLE_LOG.exists(),
                            help="data/example_log.csv: 150 simulated searches under random strategy subsets")
if clicked_import or clicked_example:
    source = (upload.name, upload.getvalue()) if clicked_import else EXAMPLE_LOG
    fmt_or_none = None if fmt == "detect" else fmt
    name, what = (source[0], jobs.upload_key(source)) if isinstance(source, tuple) else (source.name, str(source))
    jobs.start(IMPORT_JOB, "learning", f"Import of {name}",
               partial(import_log, source=source, fmt=fmt_or_none, skip_unknown=skip_unknown),
               key="|".join(["log-import", str(id(logs)), what, str(fmt_or_none), str(skip_unknown)]))
jobs.follow(IMPORT_JOB, into="log_import_report")
imported = st.session_state.get("log_import_report")
if imported is not None:
    (st.warning if imported.skipped else st.success)(imported.message() + f" ({imported.events_per_s:,.0f} events/s)")

imports = logs.log_imports()
if imports.empty:
    st.info("No log imported yet: upload one, or import the example log.")
else:
    st.dataframe(imports, hide_index=True, key="log_imports_table")
    counts = logs.log_event_counts()
    st.caption(" · ".join(f"{n:,} {kind}" for kind, n in counts.items()))

# ------------------------------------------------------------------ position bias
st.subheader("Position bias")
st.caption("How likely users examine each rank, estimated by intervention harvesting: the same result shown at "
           "different ranks (random strategy subsets, other rankers) reveals how clicks fall with rank. Searches the "
           "`memory` strategy helped rank are left out: it moves a result *because* it was clicked, which is no "
           "random intervention and flattens the curve. The estimate replaces the prior 1/log2(rank+1) for the "
           "memory index and the ranker's IPS weights only when it is trustworthy: enough pairs, a narrow 95% "
           "bootstrap interval at every rank, and ranks that do not follow clicks.")
if st.button("Estimate from randomized traffic", key="bias_estimate"):
    st.session_state["bias_estimate_result"] = logs.estimate_position_bias()
estimate = st.session_state.get("bias_estimate_result")
if estimate is not None:
    support = (f"{estimate.pairs:,} (query, result) pairs seen at two or more ranks on {estimate.pages:,} pages "
               f"({estimate.pages_left_out:,} pages left out: ranked with `memory`)")
    if estimate.usable:
        st.success(f"Estimated examination ~ 1/rank^{estimate.eta:.2f} (95% interval {estimate.eta_interval[0]:.2f}–"
                   f"{estimate.eta_interval[1]:.2f}) from {support}; now in use.")
    else:
        st.warning("Not applied; the curve in use is unchanged:\n\n" + "\n".join(f"- {r}" for r in estimate.refusals)
                   + f"\n\nHarvested: {support}.")
curve = logs.examination_curve()
shown = (list(estimate.theta), list(estimate.lower), list(estimate.upper)) if estimate is not None and estimate.pairs else None
st.plotly_chart(charts.examination_curves(curve, shown), key="curve_chart")
st.caption(f"Curve in use: **{curve['source'].iloc[0]}**.")

# ------------------------------------------------------------------ learning from the log
st.subheader("Learn from the imported log")
warm_col, train_col = st.columns(2)
with warm_col:
    st.caption("Replay every imported page through every strategy: a page grades the arms it exposed, and a "
               "replayed round counts the policy's replayed round weight (Catalog & settings) of a live one; "
               "`memory` is replayed against its own past (what the log held before that page).")
    if st.button("Warm-start the bandit by replay", key="warm_start", disabled=imports.empty):
        jobs.start(WARM_JOB, "learning", "Warm start by replay", warm_start, key=f"warm-start|{id(logs)}")
    jobs.follow(WARM_JOB, into="warm_start_summary")
    summary = st.session_state.get("warm_start_summary")
    if summary is not None:
        st.success(f"Replayed {summary.pages:,} pages ({summary.rewarded:,} with a positive event), "
                   f"each round counting {summary.weight:g} of a live one.")
        st.dataframe([{"arm": a, "mean_reward": round(m, 4)} for a, m in summary.arm_means.items()],
                     hide_index=True, key="warm_start_arms")
with train_col:
    debias = st.checkbox("Debias clicks by position (inverse examination weights)", value=True, key="train_debias")
    if st.button("Train the ranker on imported clicks", key="train_from_logs", disabled=imports.empty):
        jobs.start(TRAIN_JOB, "learning", "LambdaMART on imported clicks" + (" (debiased)" if debias else ""),
                   partial(train_from_logs, debias=debias), key=f"train-from-logs|{id(logs)}|{debias}")
    jobs.follow(TRAIN_JOB, into="train_from_logs_decision")
    decision = st.session_state.get("train_from_logs_decision")
    if decision is not None:
        retrain_outcome(decision, "training pages")
