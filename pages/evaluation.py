"""Evaluation: off-policy "what if" estimates from the logs (offline experiments and BEIR folders: the Experiments page)."""

import pandas as pd
import streamlit as st

from ui import charts
from ui.resources import studio

st.title("Evaluation")
learning = studio().learning

# ------------------------------------------------------------------ off-policy
st.subheader("What if another policy had chosen? (off-policy estimates)")
st.caption(
    "IPS, SNIPS, direct method, doubly robust, self-normalised DR and Switch-DR estimates of each policy's hit rate "
    "from the logged searches (propensities recorded at search time). The reward model is cross-fitted and refitted "
    "inside the bootstrap, so the 95% intervals carry its error. A policy that picks what the logging policy never "
    "could (all six strategies when it picks at most five) is reported without support."
)
targets = st.multiselect(
    "Policies to estimate", learning.policy_names(),
    default=["linucb", "random", "all"], key="ope_targets",
)
n_bootstrap = st.number_input("Bootstrap samples", min_value=20, max_value=2000, value=100, step=20, key="ope_bootstrap")
if st.button("Estimate", key="ope_run"):
    if not targets:
        st.error("Policies to estimate: pick at least one.")
    else:
        with st.spinner("Replaying the log and refitting the reward model…", show_time=True):
            try:
                st.session_state["ope_result"] = learning.evaluate_policies(targets, n_bootstrap=int(n_bootstrap))
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
