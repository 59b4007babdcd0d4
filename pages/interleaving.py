"""Interleaving: compare two configurations (team-draft interleaving) or more (multileaving) online, on
simulated users in a sandbox or on live searches, with an anytime-valid test that says when one wins."""

from functools import partial

import streamlit as st

from ltrr_core.services.simulation import InterleavingConfig, InterleavingSummary
from ltrr_core.vocabulary import Configuration, ConfigurationError, interleaving_verdict
from ui import jobs
from ui.identity import judge, judge_field
from ui.interleaving import pairs_frame
from ui.resources import studio
from ui.widgets import strategy_badges

DEFAULT_CONFIGS = "lexical+semantic/rrf,lexical/rrf"
IL_JOB = "il_job"

st.title("Interleaving")
faces = studio()
experiments = faces.experiments
st.caption(
    "Each search shows one page drafted from every configuration's ranking (team draft: in each round the "
    "configurations pick in random order, each adding its best result not yet shown). A click counts for the "
    "configuration that placed the result; per search the configuration with more clicked results wins. Each pair "
    "is tested with a Beta-mixture sequential probability ratio test: valid at every search, so the experiment "
    "stops as soon as a winner is significant. Interleaved searches never teach the bandit."
)
specs = st.text_input("Configurations (comma-separated: retrieval/ranker)", DEFAULT_CONFIGS, key="il_configs",
                      help="retrieval: bandit, all, all@K or strategies joined by + (lexical@100+semantic@50); "
                           "ranker: interleave, rrf or ltr. Name one with name=spec.")
try:
    configs = experiments.configurations(specs)
    problem = None if len(configs) >= 2 else "give two or more configurations, separated by commas"
except ConfigurationError as exc:
    configs, problem = [], str(exc)
if problem:
    st.error(problem)


def interleave(ctx: jobs.JobContext, configs: list[Configuration], config: InterleavingConfig) -> InterleavingSummary:
    """The job (a worker thread: no Streamlit here): the run on simulated users, cancellable between batches."""
    jobs.wait_for_semantic(faces.search, ctx)  # the sandbox shares the semantic index: it must exist first
    return faces.simulation.interleave(
        configs, config, lambda _, done: ctx.step(f"{round(done * config.rounds):,} / {config.rounds:,} searches", done),
        batch=10)


simulated, live = st.tabs(["Simulated users", "Live searches"])

with simulated:
    cols = st.columns(3)
    rounds = cols[0].number_input("Most searches", min_value=10, max_value=5000, value=300, step=50, key="il_rounds")
    seed = cols[1].number_input("Seed", min_value=0, value=7, step=1, key="il_seed")
    alpha = cols[2].number_input("alpha", min_value=0.001, max_value=0.5, value=0.05, step=0.01, format="%.3f",
                                 key="il_alpha")
    if st.button("Run on simulated users", key="il_run", type="primary", disabled=bool(problem)):
        config = InterleavingConfig(rounds=int(rounds), seed=int(seed), alpha=float(alpha))
        jobs.start(IL_JOB, "simulation", f"Interleaving {', '.join(c.name for c in configs)} ({config.rounds:,} searches)",
                   partial(interleave, configs=configs, config=config),
                   key="|".join(["interleave", str(id(faces.simulation)), *(c.spec for c in configs),
                                 *(c.name for c in configs), str(config)]))
    jobs.follow(IL_JOB, into="il_summary")
    summary = st.session_state.get("il_summary")
    if summary:
        verdict = interleaving_verdict(summary.tally)
        (st.success if verdict.winner else st.info)(verdict.sentence)
        if verdict.winner:
            st.caption("The experiment stopped at the verdict: the test is valid at every search.")
        st.container(key="il_pairs").table(pairs_frame(summary.tally).set_index(["A", "B"]))
        st.caption(f"{summary.searches_per_s:.1f} searches/s · sandbox database `{summary.database}`")

with live:
    st.caption("Register the configurations as a live experiment, then search through it: every result shows the "
               "configuration that placed it, and Open logs a click credited to it.")
    name = st.text_input("Experiment name", "", key="il_live_name", placeholder="default: the configurations' names")
    if st.button("Start live experiment", key="il_live_start", disabled=bool(problem)):
        try:
            st.session_state["il_live"] = experiments.start_interleaving(configs, name or None)
        except ValueError as exc:
            st.error(str(exc))
    registered = experiments.interleaving_experiments()
    if registered:
        ids = [e.id for e in registered]
        current = st.session_state.get("il_live")
        chosen = st.selectbox("Experiment", ids, index=ids.index(current) if current in ids else 0, key="il_live_pick")
        judge_field("interleaving")
        query = st.text_input("Query", key="il_live_query", placeholder="search through the experiment")
        if st.button("Search", key="il_live_search") and query.strip():
            st.session_state["il_live_result"] = experiments.search_interleaved(query, chosen, k=10, user_id=judge())
        res = st.session_state.get("il_live_result")
        if res is not None and res.experiment == chosen:
            for item in res.items:
                with st.container(border=True, key=f"il_result_{item.rank}"):
                    left, right = st.columns([6, 1])
                    left.markdown(f"**{item.rank}. {item.title}** · *{item.type}* · team **{item.team}**  \n"
                                  f"{strategy_badges(item.found_by)}")
                    right.button("Open", key=f"il_open_{item.rank}",
                                 on_click=lambda sid=res.search_id, e=item.id: faces.search.feedback(
                                     sid, e, "click", user_id=judge()))
        tally = experiments.interleaving_report(chosen).tally
        st.caption(f"{tally.impressions} interleaved searches logged")
        live_verdict = interleaving_verdict(tally)
        (st.success if live_verdict.winner else st.info)(live_verdict.sentence)
        st.container(key="il_live_pairs").table(pairs_frame(tally).set_index(["A", "B"]))
    else:
        st.caption("No live experiment yet.")
