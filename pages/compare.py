"""Compare: the query you typed through two configurations side by side — which results moved up or
down, which are new or dropped, their judged grades, each side's nDCG@10 when the query is judged,
and how much the two lists agree. Offline: nothing is logged and nothing is learned."""

import streamlit as st

from ltrr_core.vocabulary import USER_ERRORS, badge, grade_label
from ui.resources import studio, warming_banner
from ui.widgets import context_picker, strategy_badges

QUERY, A, B, K = "cmp_query", "cmp_a", "cmp_b", "cmp_k"
RESULT, SEEN_SEARCH = "cmp_result", "cmp_seen_search_query"
DEFAULT_B = "all@100/rrf"
ROW_CSS = """<style>
[class*="st-key-cmp_a_"], [class*="st-key-cmp_b_"] { padding: 0.25rem 0.6rem; gap: 0; }
[class*="st-key-cmp_a_"] p, [class*="st-key-cmp_b_"] p { margin: 0; font-size: 0.88rem; }
</style>"""  # compact rows: ten a side above the fold at 1400x1000
MARKERS = {"new": ":blue-badge[:material/fiber_new: new]", "dropped": ":orange-badge[:material/close: dropped]",
           "same": ":gray[= same]"}

st.title("Compare")
st.html(ROW_CSS)
faces = studio()
experiments, catalog = faces.experiments, faces.catalog
warming_banner(faces.search)


def prefill() -> None:
    """The query box starts from the URL (``?q=``), else the Search page's latest query; the second
    configuration from ``?b=``, the first from ``?a=`` or the engine's bandit with its best ranker."""
    params = st.query_params.to_dict()
    searched = st.session_state.get("query", "")
    if QUERY not in st.session_state:
        st.session_state[QUERY] = params.get("q") or searched
    elif searched and searched != st.session_state.get(SEEN_SEARCH):  # a new search since: compare that one
        st.session_state[QUERY] = searched
    st.session_state[SEEN_SEARCH] = searched
    if A not in st.session_state:
        bandit = experiments.configurations(experiments.default_configurations())[0]
        st.session_state[A] = params.get("a") or f"{bandit.retrieval}/{bandit.ranker}"
    if B not in st.session_state:
        st.session_state[B] = params.get("b") or DEFAULT_B


def movement_marker(movement: str) -> str:
    """A coloured arrow for ``up N`` / ``down N``, a badge for new and dropped."""
    if movement.startswith("up"):
        return f":green[:material/arrow_upward: {movement}]"
    if movement.startswith("down"):
        return f":red[:material/arrow_downward: {movement}]"
    return MARKERS[movement]


def grade_text(grade: int | None) -> str:
    return f"grade {grade_label(grade)}" if grade is not None else ":gray[unjudged]"


def show_side(comparison, side: str, title: str) -> None:
    """One configuration's heading, strategies, nDCG@10 and its ranked rows (container ``cmp_<side>_<rank>``)."""
    ranked = comparison.side(side)
    st.markdown(f"**{title}: `{ranked.configuration.retrieval}/{ranked.configuration.ranker}`**")
    st.caption("Strategies (candidates found): " + " ".join(
        f":{badge(s)}-badge[{s} {n}]" for s, n in ranked.strategies.items()))
    score = comparison.ndcg(side)
    if score is None:
        st.caption("nDCG@10: not judged: grade results on Labelling or Case grading")
    else:
        other = comparison.ndcg("a")
        st.metric("nDCG@10", f"{score:.3f}", delta=None if side == "a" else f"{score - other:+.3f} vs A")
    rows = comparison.rows(side)
    if not rows:
        st.info("No results.")
    for row in rows:
        entity = catalog.get(row.id)
        with st.container(border=True, key=f"cmp_{side}_{row.rank}"):
            st.markdown(f"**{row.rank}. {entity.title}** · *{entity.type}* · {movement_marker(row.movement)}  \n"
                        f"{grade_text(row.grade)} · {strategy_badges(row.found_by)}")


prefill()
st.caption("Two configurations, in the grammar of Experiments: `[name=]<retrieval>[/<ranker>]` with retrieval "
           "`bandit`, `all@K` or strategies joined by `+` with depths (`lexical@100+semantic@25`) and ranker "
           "`rrf`, `interleave` or `ltr`. Movement reads from A to B within the top results shown.")
cols = st.columns([4, 3, 3, 1], vertical_alignment="bottom")
query = cols[0].text_input("Query", key=QUERY, placeholder="the query to compare")
spec_a = cols[1].text_input("Configuration A", key=A)
spec_b = cols[2].text_input("Configuration B", key=B)
k = int(cols[3].number_input("Results", min_value=1, max_value=50, value=10, step=1, key=K))
with st.expander("Context (the bandit picks per user and time)"):
    context = context_picker(faces.simulation, catalog.content_hash, key="cmp_ctx")
asked = st.button("Compare", key="cmp_run", type="primary")

inputs = (catalog.content_hash, query, spec_a, spec_b, k, context)
stored = st.session_state.get(RESULT)
if query.strip() and (asked or stored is None or stored[0] != inputs):
    if faces.search.warming:
        with st.spinner("Waiting for the semantic index to finish warming…"):
            faces.search.wait_until_ready()
    try:
        st.session_state[RESULT] = stored = (inputs, experiments.side_by_side(query, spec_a, spec_b, context, k))
    except USER_ERRORS as exc:
        st.session_state.pop(RESULT, None)
        st.error(str(exc))
        st.stop()
    st.query_params.from_dict({"q": query, "a": spec_a, "b": spec_b})
if not query.strip():
    st.info("Type a query to compare, or search one on the Search page first.")
    st.stop()
if stored is None or stored[0] != inputs:
    st.stop()

comparison = stored[1]
judged = f"{len(comparison.grades)} judged results" if comparison.judged else "not judged"
st.caption(f"`{comparison.query}` · rank-biased overlap (p = 0.9) of the top {comparison.k}: "
           f"**{comparison.rbo:.3f}** · Jaccard **{comparison.jaccard:.3f}** · {judged}")
left, right = st.columns(2)
with left:
    show_side(comparison, "a", "A")
with right:
    show_side(comparison, "b", "B")
