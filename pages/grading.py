"""Case grading (Quepid's way of working): a query set listed with each query's nDCG@10 as the grades
come in, every result of one query on one screen (in a seeded random order when asked, against
position bias), a note per query, and the judges' agreement with the merge rule experiments use."""

import math
import random

import streamlit as st

from ltrr_core.services.labels import CASE_METRIC, KAPPA_WEIGHTS, MERGE_RULES
from ltrr_core.vocabulary import GRADES, grade_label
from ui.identity import judge, judge_field
from ui.resources import studio

CASE_K = 10  # results graded per query: the page's nDCG@10 reads them
MAX_CASES = 50  # queries of a set listed at once: each one is a search when the set is loaded
CASES_KEY, SEED_KEY = "grading_cases", "grading_seed"

st.title("Case grading")
st.caption("Grade every result of a query on one screen; each query's nDCG@10 follows your grades. "
           "Several judges may grade the same queries: their agreement is below.")
faces = studio()
labels_face = faces.labels
st.caption(f"Your grades are stored as judge **{judge_field('grading')}**.")


def fmt(value: float, digits: int = 3) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def load_cases(spec: str) -> None:
    """The query set's cases (unlogged searches) into session state: the rankings stay as they were
    while the session grades them."""
    query_set = faces.experiments.query_set(spec)
    queries = query_set.queries[:MAX_CASES]
    with st.spinner(f"Searching {len(queries)} queries of {spec} (unlogged)…"):
        cases = [labels_face.case(q.text, CASE_K) for q in queries]
    st.session_state[CASES_KEY] = {"spec": spec, "faces": id(labels_face), "query_set": query_set, "cases": cases}
    st.session_state["grading_query"] = 0


def grade(query: str, entity_id: str, value: int) -> None:
    """A grade button's callback: runs before the page redraws, so the scores shown include it."""
    labels_face.label(query, entity_id, value, judge())


def save_note(query: str, field: str) -> None:
    labels_face.set_note(query, st.session_state.get(field, ""), judge())


def adopt_seed() -> None:
    st.session_state[SEED_KEY] = int(st.session_state["grading_seed_field"])


def next_query(total: int) -> None:
    st.session_state["grading_query"] = (st.session_state.get("grading_query", 0) + 1) % total


# ------------------------------------------------------------------ the query set
left, right = st.columns([4, 1], vertical_alignment="bottom")
loaded = st.session_state.get(CASES_KEY)
st.session_state.setdefault("grading_spec", loaded["spec"] if loaded else "sim:10")  # kept across pages
spec = left.text_input("Query set", key="grading_spec",
                       help="file:PATH (one query a line, or TREC topics), log:top:N (the most searched), "
                            "log:sample:N, sim:N (simulated users' queries)").strip()
rerun = right.button("Search them again", key="grading_reload", help="New rankings from the engine as it is now")
if rerun or loaded is None or loaded["spec"] != spec or loaded["faces"] != id(labels_face):
    try:
        load_cases(spec)
    except ValueError as exc:  # a bad spec, an empty log, a query without words: the message says what to do
        st.error(str(exc))
        st.stop()
loaded = st.session_state[CASES_KEY]
query_set, cases = loaded["query_set"], loaded["cases"]
if len(query_set) > len(cases):
    st.caption(f"The first {len(cases)} of the set's {len(query_set):,} queries.")

rule = st.radio("Merge rule for several judges", MERGE_RULES, horizontal=True, key="grading_rule",
                help="One grade per result from every judge's grades (mean: rounded half up)")
st.caption(f"Experiments use the same merged grades with judgments `labels:{rule}`.")
scores = labels_face.case_scores(cases, rule)

# ------------------------------------------------------------------ the list and the case
st.subheader("Queries")
table = scores.drop(columns="normalized_query").rename(columns={CASE_METRIC: "nDCG@10"})
st.dataframe(table.round(3), hide_index=True, key="grading_list")
pick, step = st.columns([4, 1], vertical_alignment="bottom")
position = pick.selectbox("Query to grade", range(len(cases)), key="grading_query",
                          format_func=lambda i: f"{cases[i].query} · nDCG@10 {fmt(scores[CASE_METRIC][i])}")
step.button("Next query", key="grading_next", on_click=next_query, args=(len(cases),), width="stretch")

case, row = cases[position], scores.iloc[position]
st.subheader(f"“{case.query}”")
with st.container(key="case_ndcg"):
    st.metric(f"nDCG@10 ({rule} of the judges)", fmt(row[CASE_METRIC]),
              help="Gain = grade; empty until a result of this query is graded")
st.caption(f"{row['graded']} of {len(case.results)} results graded · {row['judges']} judge(s) · "
           f"ranked by the engine's {case.ranker} ranker, without exploring")
shuffled = st.toggle("Random order (against position bias)", key="grading_random")
order = list(range(len(case.results)))
if shuffled:
    seed = st.session_state.setdefault(SEED_KEY, random.SystemRandom().randrange(10_000))  # once a session
    st.session_state["grading_seed_field"] = seed  # the widget's own state is gone after the toggle is off
    st.number_input("Shuffle seed", min_value=0, step=1, key="grading_seed_field", on_change=adopt_seed,
                    help="The same seed gives the same order: it stays while you grade")
    random.Random(f"{seed}|{case.normalized_query}").shuffle(order)
mine = {label.entity_id: label.grade for label in labels_face.labels(judge=judge())
        if label.normalized_query == case.normalized_query}
if not case.results:
    st.info("The engine found nothing for this query.")
for place, index in enumerate(order, start=1):
    result = case.results[index]
    with st.container(key=f"case_row_{place}", border=True):
        rank = "" if shuffled else f"{result.rank}. "
        byline = " · ".join(part for part in (result.type, result.creator) if part)
        st.markdown(f"**{rank}{result.title}** · {byline}")
        if result.description:
            st.caption(result.description[:200])
        for column, value in zip(st.columns(len(GRADES)), GRADES):  # keyed by what it grades, even if stale
            column.button(grade_label(value), key=f"case_grade_{case.normalized_query}_{result.id}_{value}",
                          width="stretch", type="primary" if mine.get(result.id) == value else "secondary",
                          on_click=grade, args=(case.query, result.id, value))
note_field = f"grading_note_{case.normalized_query}"
st.session_state.setdefault(note_field, row["note"])
st.text_area("Note on this query (shared with every judge)", key=note_field, height=80)
st.button("Save note", key="grading_save_note", on_click=save_note, args=(case.query, note_field))

# ------------------------------------------------------------------ the judges
st.subheader("Judges' agreement on this query set")
weighting = st.radio("Cohen's kappa", KAPPA_WEIGHTS, horizontal=True, key="grading_weights",
                     format_func=lambda w: w or "unweighted",
                     help="Unweighted: grades as categories; linear / quadratic: a near miss counts as partly agreeing")
agreement = labels_face.agreement(query_set, weighting)
with st.container(key="case_agreement"):
    if len(agreement.judges) < 2:
        st.info("Agreement appears once two judges grade results of these queries (set your judge name above).")
    else:
        pairs = agreement.table()
        pairs["exact"] = pairs["exact"].map(lambda v: "—" if math.isnan(v) else f"{v:.0%}")
        pairs["kappa"] = pairs["kappa"].map(fmt)
        st.table(pairs.rename(columns={"judge_a": "judge", "judge_b": "other judge", "shared": "pairs both graded",
                                       "exact": "same grade", "kappa": "Cohen's kappa"}))
        st.markdown("**Cohen's kappa, every two judges**")
        st.table(agreement.matrix().map(fmt))
        st.caption("Kappa: 1 full agreement, 0 what chance alone gives; — undefined (under two shared pairs, or "
                   "one grade throughout). " + ", ".join(f"{j}: {n} graded" for j, n in agreement.graded.items()))
