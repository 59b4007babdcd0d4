"""Evaluation: off-policy "what if" estimates from the logs (offline experiments and BEIR folders: the Experiments page)."""

import pandas as pd
import streamlit as st

from ltrr_core.engine import POLICIES
from ui import charts
from ui.resources import engine

st.title("Evaluation")
eng = engine()

# ------------------------------------------------------------------ off-policy
st.subheader("What if another policy had chosen? (off-policy estimates)")
st.caption(
    "IPS, SNIPS, direct method and doubly robust estimates of each policy's hit rate from the logged searches "
    "(propensities recorded at search time), with 95% bootstrap intervals."
)
targets = st.multiselect(
    "Policies to estimate", [p for p in POLICIES if p not in ("fixed",)] + [f"fixed:{s}" for s in eng.strategy_names],
    default=["linucb", "random", "all"], key="ope_targets",
)
n_bootstrap = st.number_input("Bootstrap samples", min_value=20, max_value=2000, value=200, step=20, key="ope_bootstrap")
if st.button("Estimate", key="ope_run"):
    if not targets:
        st.error("Policies to estimate: pick at least one.")
    else:
        rows, logged = [], None
        with st.spinner("Replaying the log…", show_time=True):
            try:
                for target in targets:
                    out = eng.evaluate_policy(target, n_bootstrap=int(n_bootstrap))
                    logged = out["logged_policy_value"]
                    rows += [{"policy": target, "estimator": name, **values, "n": out["n"]}
                             for name, values in out["estimates"].items()]
            except ValueError as exc:
                st.info(f"Nothing to estimate yet: {exc}")
        if rows:
            st.session_state["ope_result"] = (pd.DataFrame(rows), logged)

ope = st.session_state.get("ope_result")
if ope is not None:
    frame, logged = ope
    st.caption(f"{int(frame['n'].iloc[0])} logged searches · logged policy's hit rate {logged:.3f}")
    st.table(frame.pivot_table(index="policy", columns="estimator", values="value", sort=False).round(3))
    st.plotly_chart(
        charts.intervals(frame, "policy", "value", "ci_low", "ci_high", "estimator",
                         "Estimated hit rate per policy (95% CI)", "policy", "estimated hit rate", reference=logged),
        key="ope_chart",
    )
