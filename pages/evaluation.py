"""Evaluation: off-policy "what if" estimates from the logs (offline experiments and BEIR folders: the Experiments page)."""

from functools import partial

import pandas as pd
import streamlit as st

from ltrr_core.services.learning import PolicyEstimate
from ui import charts, jobs
from ui.resources import studio

OPE_JOB = "ope_job"

st.title("Evaluation")
learning = studio().learning


def estimate(ctx: jobs.JobContext, targets: list[str], n_bootstrap: int) -> dict[str, PolicyEstimate]:
    """The job (a worker thread: no Streamlit here): replay the log, refit the reward model in the bootstrap."""
    return learning.evaluate_policies(targets, n_bootstrap=n_bootstrap)


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
        jobs.start(OPE_JOB, "evaluation", f"Off-policy estimates of {', '.join(targets)}",
                   partial(estimate, targets=list(targets), n_bootstrap=int(n_bootstrap)),
                   key="|".join(["ope", str(id(learning)), *targets, str(n_bootstrap)]))
jobs.follow(OPE_JOB, into="ope_result")

results = st.session_state.get("ope_result")
if results:
    first = next(iter(results.values()))
    logged = first.logged_policy_value
    st.caption(f"{first.n:,} logged searches by {', '.join(first.logged_policies)} · "
               f"logged policy's hit rate {logged:.3f}")
    advice = first.recommendation
    if advice:
        (st.success if advice.estimator else st.info)(f"{advice.advice} (Validation on the simulator: {advice.setup}.)")
    for target, out in results.items():
        if out.no_support:
            st.warning(f"{target}: {out.no_support}")
    rows = [{"policy": target, "estimator": name, "value": e.value, "ci_low": e.ci_low, "ci_high": e.ci_high,
             "n": out.n, "effective sample": round(out.support.effective_sample_size, 1)}
            for target, out in results.items() for name, e in out.estimates.items()]
    if rows:
        frame = pd.DataFrame(rows)
        st.table(frame.pivot_table(index="policy", columns="estimator", values="value", sort=False).round(3))
        st.plotly_chart(
            charts.intervals(frame, "policy", "value", "ci_low", "ci_high", "estimator",
                             "Estimated hit rate per policy (95% CI)", "policy", "estimated hit rate", reference=logged),
            key="ope_chart",
        )
