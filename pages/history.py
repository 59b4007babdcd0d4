"""Logs & position bias: import another system's interaction logs, learn the examination curve
from randomized traffic, warm-start the bandit by replay and train the ranker on the clicks."""

from pathlib import Path

import streamlit as st

from ltrr_core.vocabulary import LOG_FORMATS, LogFileError
from ui.resources import studio

EXAMPLE_LOG = Path(__file__).resolve().parents[1] / "data" / "example_log.csv"

st.title("Logs & position bias")
faces = studio()
logs = faces.logs

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
    try:
        report = logs.import_log(source, None if fmt == "detect" else fmt, skip_unknown)
    except LogFileError as exc:
        st.error(f"Nothing imported: {exc}")
    else:
        (st.warning if report.skipped else st.success)(
            report.message() + f" ({report.events_per_s:,.0f} events/s)")

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
if estimate is not None and estimate.pairs:
    n = min(len(curve), len(estimate.theta))
    curve = curve.iloc[:n].assign(estimate=estimate.theta[:n], interval_low=estimate.lower[:n],
                                  interval_high=estimate.upper[:n])
    st.line_chart(curve.set_index("rank")[["prior", "in_use", "estimate", "interval_low", "interval_high"]],
                  x_label="rank", y_label="P(examined)")
else:
    st.line_chart(curve.set_index("rank")[["prior", "in_use"]], x_label="rank", y_label="P(examined)")
st.caption(f"Curve in use: **{curve['source'].iloc[0]}**.")

# ------------------------------------------------------------------ learning from the log
st.subheader("Learn from the imported log")
warm_col, train_col = st.columns(2)
with warm_col:
    st.caption("Replay every imported page through every strategy: a page grades the arms it exposed, and a "
               "replayed round counts the policy's replayed round weight (Catalog & settings) of a live one; "
               "`memory` is replayed against its own past (what the log held before that page).")
    if st.button("Warm-start the bandit by replay", key="warm_start", disabled=imports.empty):
        with st.spinner("Replaying imported pages…"):
            try:
                summary = logs.warm_start()
            except ValueError as exc:
                st.error(str(exc))
            else:
                st.success(f"Replayed {summary['pages']:,} pages ({summary['rewarded_pages']:,} with a positive event), "
                           f"each round counting {summary['replay_weight']:g} of a live one.")
                st.dataframe([{"arm": a, "mean_reward": m} for a, m in summary["arm_means"].items()],
                             hide_index=True, key="warm_start_arms")
with train_col:
    debias = st.checkbox("Debias clicks by position (inverse examination weights)", value=True, key="train_debias")
    if st.button("Train the ranker on imported clicks", key="train_from_logs", disabled=imports.empty):
        with st.spinner("Training LambdaMART on imported clicks…"):
            decision = faces.labels.train_from_logs(debias=debias)
        (st.success if decision.accepted else st.warning)(
            f"{decision.reason} (held-out nDCG@10 {decision.candidate_ndcg10:.3f} vs {decision.previous_ndcg10:.3f}; "
            f"{decision.train_groups} training pages)")
