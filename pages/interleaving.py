"""Interleaving: compare two configurations (team-draft interleaving) or more (multileaving) online, on
simulated users in a sandbox or on live searches, with an anytime-valid test that says when one wins."""

import streamlit as st

from ltrr_core.services.simulation import InterleavingConfig
from ltrr_core.vocabulary import ConfigurationError
from ui.identity import judge, judge_field
from ui.interleaving import pairs_frame
from ui.resources import studio
from ui.widgets import strategy_badges

DEFAULT_CONFIGS = "lexical+semantic/rrf,lexical/rrf"

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
                      help="retrieval: bandit, all, all:K or strategies joined by + (lexical:100+semantic:50); "
                           "ranker: interleave, rrf or ltr. Name one with name=spec.")
try:
    configs = experiments.configurations(specs)
    problem = None if len(configs) >= 2 else "give two or more configurations, separated by commas"
except ConfigurationError as exc:
    configs, problem = [], str(exc)
if problem:
    st.error(problem)

simulated, live = st.tabs(["Simulated users", "Live searches"])

with simulated:
    cols = st.columns(3)
    rounds = cols[0].number_input("Most searches", min_value=10, max_value=5000, value=300, step=50, key="il_rounds")
    seed = cols[1].number_input("Seed", min_value=0, value=7, step=1, key="il_seed")
    alpha = cols[2].number_input("alpha", min_value=0.001, max_value=0.5, value=0.05, step=0.01, format="%.3f",
                                 key="il_alpha")
    if st.button("Run on simulated users", key="il_run", type="primary", disabled=bool(problem)):
        bar = st.progress(0.0, text="Interleaving…")
        st.session_state["il_summary"] = faces.simulation.interleave(
            configs, InterleavingConfig(rounds=int(rounds), seed=int(seed), alpha=float(alpha)),
            lambda _, done: bar.progress(min(done, 1.0), text=f"{round(done * rounds)} / {rounds} searches"),
            batch=10)
        bar.empty()
    summary = st.session_state.get("il_summary")
    if summary:
        if summary["winner"]:
            st.success(f"**{summary['winner']}** wins: significant against every other configuration after "
                       f"{summary['searches']} searches (alpha {summary['alpha']:g}); the experiment stopped there.")
        else:
            st.info(f"No significant winner after {summary['searches']} searches (alpha {summary['alpha']:g}): the "
                    "configurations may be equally good, or need more searches.")
        st.container(key="il_pairs").table(pairs_frame(summary).set_index(["A", "B"]))
        st.caption(f"{summary['searches_per_s']:.1f} searches/s · sandbox database `{summary['database']}`")

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
        report = experiments.interleaving_report(chosen)
        st.caption(f"{report['impressions']} interleaved searches logged"
                   + (f" · winner: **{report['winner']}**" if report["winner"] else " · no significant winner yet"))
        st.container(key="il_live_pairs").table(pairs_frame(report).set_index(["A", "B"]))
    else:
        st.caption("No live experiment yet.")
