"""Evaluation: offline metrics per system on a BEIR folder, and off-policy "what if" estimates from the logs."""

from pathlib import Path

import pandas as pd
import streamlit as st

from ltrr_core.engine import POLICIES, CatalogError
from ui import charts
from ui.offline import BEIR_SYSTEMS, evaluate_beir
from ui.resources import engine

st.title("Evaluation")
eng = engine()

# ------------------------------------------------------------------ offline metrics
st.subheader("Offline metrics on a BEIR folder")
st.caption(
    "Each strategy alone, their reciprocal-rank fusion, and LightGBM LTR trained on the train split only, "
    "scored with ranx on the chosen split."
)
cols = st.columns([3, 1, 2])
folder = cols[0].text_input("BEIR folder", key="beir_eval_dir", placeholder="/path/to/scifact (corpus.jsonl, queries.jsonl, qrels/)")
splits = sorted(p.stem for p in (Path(folder) / "qrels").glob("*.tsv")) if folder.strip() and Path(folder).is_dir() else []
split = cols[1].selectbox("Split", splits or ["test"], index=(splits.index("test") if "test" in splits else 0), key="beir_split")
systems = cols[2].multiselect("Systems", BEIR_SYSTEMS, default=list(BEIR_SYSTEMS), key="eval_systems")
if st.button("Run evaluation", key="eval_run", type="primary"):
    if not folder.strip():
        st.error("BEIR folder: type the path of a BEIR dataset folder.")
    elif not Path(folder).is_dir():
        st.error(f"BEIR folder: {folder} is not a folder; check the path.")
    elif not systems:
        st.error("Systems: pick at least one system to evaluate.")
    else:
        bar = st.progress(0.0, text="Loading the dataset…")
        try:
            report = evaluate_beir(
                folder, split=split, systems=systems,
                progress=lambda label, fraction: bar.progress(min(max(fraction, 0.0), 1.0), text=label),
            )
            st.session_state["eval_report"] = report
        except (CatalogError, ValueError, FileNotFoundError) as exc:
            st.error(f"Evaluation: {exc}")
        bar.empty()

report = st.session_state.get("eval_report")
if report is not None:
    st.caption(f"{report.dataset} · split {report.split} · {report.queries} queries · {report.seconds:.1f} s")
    table = report.table.round(4)
    st.table(table)
    tidy = table.reset_index().melt(id_vars="system", var_name="metric", value_name="value")
    st.plotly_chart(
        charts.grouped_bars(tidy, "metric", "value", "system", f"{report.dataset}: metrics per system", "metric", "score"),
        key="eval_chart",
    )
    with st.expander("Strategies left out on BEIR, and why"):
        st.table(pd.DataFrame(list(report.left_out.items()), columns=["strategy", "why"]).set_index("strategy"))

# ------------------------------------------------------------------ off-policy
st.subheader("What if another policy had chosen? (off-policy estimates)")
st.caption(
    "IPS, SNIPS, direct method, doubly robust, self-normalised DR and Switch-DR estimates of each policy's hit rate "
    "from the logged searches (propensities recorded at search time). The reward model is cross-fitted and refitted "
    "inside the bootstrap, so the 95% intervals carry its error. A policy that picks what the logging policy never "
    "could (all six strategies when it picks at most five) is reported without support."
)
targets = st.multiselect(
    "Policies to estimate", [p for p in POLICIES if p not in ("fixed",)] + [f"fixed:{s}" for s in eng.strategy_names],
    default=["linucb", "random", "all"], key="ope_targets",
)
n_bootstrap = st.number_input("Bootstrap samples", min_value=20, max_value=2000, value=100, step=20, key="ope_bootstrap")
if st.button("Estimate", key="ope_run"):
    if not targets:
        st.error("Policies to estimate: pick at least one.")
    else:
        with st.spinner("Replaying the log and refitting the reward model…", show_time=True):
            try:
                st.session_state["ope_result"] = eng.evaluate_policies(targets, n_bootstrap=int(n_bootstrap))
            except ValueError as exc:
                st.session_state.pop("ope_result", None)
                st.info(f"Nothing to estimate yet: {exc}")

results = st.session_state.get("ope_result")
if results:
    first = next(iter(results.values()))
    logged = first["logged_policy_value"]
    st.caption(f"{first['n']:,} logged searches by {', '.join(first['logged_policies'])} · "
               f"logged policy's hit rate {logged:.3f}")
    advice = first["recommendation"]
    if advice:
        st.success(f"Trust **{advice['estimator']}** for logs of this size: {advice['why']} "
                   f"(validation on the simulator: {advice['setup']}).")
    for target, out in results.items():
        if out["no_support"]:
            st.warning(f"{target}: {out['no_support']}")
    rows = [{"policy": target, "estimator": name, **values, "n": out["n"],
             "effective sample": round(out["support"]["effective_sample_size"], 1)}
            for target, out in results.items() for name, values in out["estimates"].items()]
    if rows:
        frame = pd.DataFrame(rows)
        st.table(frame.pivot_table(index="policy", columns="estimator", values="value", sort=False).round(3))
        st.plotly_chart(
            charts.intervals(frame, "policy", "value", "ci_low", "ci_high", "estimator",
                             "Estimated hit rate per policy (95% CI)", "policy", "estimated hit rate", reference=logged),
            key="ope_chart",
        )
