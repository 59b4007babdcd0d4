"""Search: type a query and see the results first, each with its explanation one click away; the trace
(which strategies the bandit picked and why, what each found, how the query was understood, timings)
sits in the tabs beside the results. Feedback on a result is what the engine learns from.

The query row and everything below it are one fragment (:func:`search_area`): Enter reruns that part
alone, not the page; the results and trace inside are a fragment of their own, so a grade or a tab
switch reruns only them. The context picker above is outside: changing it reruns the whole page."""

from functools import partial

import pandas as pd
import streamlit as st

from ltrr_core.vocabulary import HARD_CASES
from ui import charts
from ui.identity import judge, judge_field
from ui.keyboard import keyboard_grading
from ui.resources import SOURCE_KEY, active_source, studio, warming_banner
from ui.result_rows import result_row, row_style
from ui.widgets import arm_frame, context_params, context_picker, propensity_sentence, restore_context

RESULT = "last_result"
EXAMPLES = (
    (HARD_CASES["typo_artists"][0][2], "a misspelled artist: typo fixing + structured/memory strategies"),
    (HARD_CASES["description_only"][0][1], "a paraphrase of a podcast description: only the semantic strategy finds it"),
    (HARD_CASES["love_types"]["query"], "one word, five entity types: tracks, artists, the genre, playlists, a podcast"),
)

st.title("Search")
# A link (?q=…&catalog=…&user=…&hour=…&weekday=…&holiday=…) reproduces a search, once per session.
from_url = None if st.session_state.get("url_read") else st.query_params.to_dict()
st.session_state["url_read"] = True
if from_url and from_url.get("catalog") and from_url.get("q"):
    st.session_state[SOURCE_KEY] = from_url["catalog"]
faces = studio()
searching, catalog = faces.search, faces.catalog
warming_banner(searching)
if from_url and from_url.get("q"):
    restore_context(from_url, faces.simulation, catalog.content_hash, key="ctx")
    st.session_state["query"] = from_url["q"]
    st.session_state["pending_search"] = True
context = context_picker(faces.simulation, catalog.content_hash, key="ctx")


def request_search() -> None:
    st.session_state["pending_search"] = True


def use_example(query: str) -> None:
    st.session_state["query"] = query
    st.session_state["pending_search"] = True


def send_feedback(search_id: int, entity_id: str, kind: str) -> None:
    settlement = searching.feedback(search_id, entity_id, kind, source="human", user_id=judge())
    st.session_state.setdefault("feedback_given", {})[(search_id, entity_id)] = kind
    st.toast(f"{kind.replace('_', ' ')} recorded for {entity_id}" + settled_note(settlement))


def none_of_these(search_id: int) -> None:
    st.toast("None of these: the reward window closed" + settled_note(searching.close(search_id)))


def settled_note(settlement) -> str:
    if settlement is None:
        return ""
    hits = [arm for arm, reward in settlement.rewards.items() if reward > 0]
    return f" · search settled ({settlement.reason}): " + (f"rewarded {', '.join(hits)}" if hits else "every picked arm 0")


def send_label(query: str, entity_id: str, key: str) -> None:
    grade = st.session_state.get(key)
    if grade is not None:
        faces.labels.label(query, entity_id, int(grade), judge=judge())
        st.toast(f"label {grade} saved for {entity_id}")


def simulate_user() -> None:
    """A simulated user (the chosen profile, or any) searches with their own intent and answers
    through the click model; the engine learns from it as from an analyst (source "simulated")."""
    turn = st.session_state.get("sim_user_turn", 0) + 1
    st.session_state["sim_user_turn"] = turn
    profile = context.user if context.user.id != "anonymous" else None
    res, report = faces.simulation.simulate_user_turn(seed=turn, profile=profile, k=int(st.session_state.get("k", 10)))
    st.session_state["query"] = report.query
    st.session_state[RESULT] = res
    st.session_state["sim_user_report"] = report


def contributions(res) -> pd.DataFrame:
    """The ranker's feature contributions for the shown results, computed the first time they are asked for."""
    key = f"explain_{res.search_id}"
    if key not in st.session_state:
        st.session_state[key] = searching.explain(res, [item.id for item in res.items])
    return st.session_state[key]


def why_this_result(res, item) -> None:
    """The result's details and explanation: all its genres, moods and description, each strategy's rank
    and score for it, the ranker's score and top features."""
    rows = []
    for name in item.found_by:
        cands = res.candidates[name]
        at = cands.ids.index(item.id)
        rows.append({"strategy": name, "rank": int(cands.ranks[at]), "score": round(float(cands.scores[at]), 4)})
    about = [f"{name} {', '.join(values)}"
             for name, values in (("genres", item.genres), ("moods", item.moods)) if values]
    if about or item.description:
        st.caption(" · ".join(about) + (f"  \n{item.description}" if item.description else ""))
    st.markdown(f"Ranked **{item.rank}** by `{res.ranker}` (score {item.score:.4f}); found by:")
    st.table(pd.DataFrame(rows).set_index("strategy"))
    explained = contributions(res)
    if item.id in explained.index:
        row = explained.loc[item.id].drop(["bias", "score"])
        top = row.reindex(row.abs().sort_values(ascending=False).index[:6])
        st.caption(f"Largest feature contributions to its score (bias {explained.loc[item.id, 'bias']:.3f}):")
        st.table(top.round(4).rename("contribution").to_frame())
    elif explained.empty:
        st.caption(explained.attrs.get("note", "No feature contributions for this ranker."))


def results_view(res) -> None:
    """The results as compact rows with their feedback, grades and keyboard shortcuts."""
    given = st.session_state.get("feedback_given", {})
    is_open = res.search_id in searching.open_searches
    who, window, none = st.columns([1.4, 5, 1.2], vertical_alignment="bottom")
    with who:
        judge_field("search")
    with window:
        if res.search_id is not None:
            st.caption(
                f"Reward window **open** · closes at your next search, with *None of these*, or after "
                f"{searching.reward_window.wait_s / 60:g} minutes" if is_open
                else "Reward window **closed**: this search's reward is settled.",
                help="While the window is open, an engagement, a thumbs up or a label >= 2 rewards the strategies "
                     "that found the result; it closes with reward 0 otherwise.")
        keyboard_grading(res.search_id)
    if res.search_id is not None:
        none.button("None of these", key="none_of_these", disabled=not is_open, on_click=none_of_these,
                    args=(res.search_id,), width="stretch")
    with st.container(key="ranked_list", gap="xxsmall"):
        for item in res.items:
            result_row(item, res.search_id, res.understanding.raw, given.get((res.search_id, item.id)),
                       on_feedback=send_feedback, on_label=send_label, why=partial(why_this_result, res))
    if st.toggle("Show the ranker's feature contributions for every result", key="show_explain"):
        explained = contributions(res)
        if explained.empty:
            st.caption(explained.attrs.get("note", "No feature contributions for this ranker."))
        else:
            st.dataframe(explained, hide_index=True, key="explain_table")


def arms_view(res) -> None:
    """The bandit's choice: each arm's reason in a table and a chart, the subset's propensity in words."""
    arms = arm_frame(res.selection.arms)
    st.caption(propensity_sentence(res.selection))
    st.container(key="arm_table").table(arms)
    st.plotly_chart(charts.arm_scores(arms.assign(picked=arms["picked"].eq("yes"))), key="arm_chart")


def candidates_view(res) -> None:
    """What each strategy found, one tab each."""
    st.caption(f"{len(res.pool)} candidates in the merged pool; each strategy's own list:")
    tabs = st.tabs([f"{name} ({len(c)})" for name, c in res.candidates.items()])
    for tab, (name, cands) in zip(tabs, res.candidates.items()):
        rows = [
            {"rank": r, "id": i, "title": catalog.get(i).title, "type": catalog.get(i).type, "score": round(s, 4)}
            for i, s, r in zip(cands.ids, cands.scores.tolist(), cands.ranks.tolist())
        ]
        tab.caption(f"{cands.ms:.1f} ms")
        tab.dataframe(pd.DataFrame(rows), hide_index=True, key=f"cands_{name}")


def understanding_view(res) -> None:
    """How the query was understood: typo fixes, wanted entity types, structured interpretations."""
    trace = res.understanding.to_trace()
    left, right = st.columns(2)
    left.markdown(f"Normalized: `{trace['normalized']}`  \nCorrected: `{' '.join(trace['corrected'])}`")
    if trace["corrections"]:
        left.table(pd.DataFrame(trace["corrections"]))
    else:
        left.caption("No typo fixes.")
    if trace["entity_types"]:
        left.markdown("Wanted types: " + ", ".join(f"{t} ({p:.2f})" for t, p in trace["entity_types"].items()))
    interpretations = pd.DataFrame(trace["interpretations"])
    if interpretations.empty:
        right.caption("No interpretation beyond free text.")
    else:
        right.table(interpretations[["kind", "name", "value", "likelihood"]].round({"likelihood": 3}))


def timings_view(res) -> None:
    """Milliseconds per stage of this search."""
    st.table(pd.DataFrame(list(res.timings.items()), columns=["stage", "ms"]).round({"ms": 2}).set_index("stage"))


@st.fragment
def search_views(res) -> None:
    """The results and the trace, one tab each: only the open tab is built, and a click inside (a grade,
    a thumbs, a tab switch, a popover) reruns this fragment alone, never the search."""
    row_style()  # inside: a fragment rerun replaces the page's style elements too
    views = {"Results": results_view, "Strategies picked": arms_view, "Candidates": candidates_view,
             "Query understanding": understanding_view, "Timings": timings_view}
    for tab, view in zip(st.tabs(list(views), key="trace_view", on_change="rerun"), views.values()):
        if tab.open:
            with tab:
                view(res)


@st.fragment
def search_area() -> None:
    """The query row, the search and what it found. Enter or a click in here reruns this part alone:
    the title, the warming banner and the context picker above keep what the page's last full run drew."""
    cols = st.columns([5, 1, 1, 2])
    cols[0].text_input(
        "Query", key="query", placeholder="an artist, a song, a mood, a podcast topic…", on_change=request_search,
        label_visibility="collapsed",
    )
    cols[1].button("Search", key="search", type="primary", on_click=request_search, width="stretch")
    k = cols[2].number_input("Results", min_value=1, max_value=50, value=10, step=1, key="k", label_visibility="collapsed")
    cols[3].button("Simulate a user", key="simulate_user", on_click=simulate_user, width="stretch",
                   help="A simulated user with their own intent searches and clicks; the engine learns from it")

    if st.session_state.pop("pending_search", False):
        query = st.session_state.get("query", "")
        if not query.strip():
            st.session_state.pop(RESULT, None)
            st.info("Type a query first: an artist, a title, a genre or mood, or describe a podcast.")
        else:
            st.session_state[RESULT] = searching.search(query, context, k=int(k), source="human", user_id=judge())
            st.query_params.from_dict({"q": query, "catalog": active_source(), **context_params(context)})

    res = st.session_state.get(RESULT)
    if res is None:
        with st.container(border=True, key="intro"):
            st.markdown(
                "**What this dashboard shows.** Every search runs a *funnel*: the query is understood (typos fixed, "
                "entity types and attributes guessed), a contextual **bandit** picks a subset of retrieval strategies "
                "(lexical, semantic, structured, memory, popular, explore), their candidates are merged and **ranked**. "
                "Your thumbs and labels teach the bandit and the ranker. Try one of these:"
            )
            for i, (example, why) in enumerate(EXAMPLES):
                left, right = st.columns([2, 5])
                left.button(example, key=f"example_{i}", on_click=use_example, args=(example,), width="stretch")
                right.caption(why)
        return

    if res.message:
        st.info(res.message)
    report = st.session_state.pop("sim_user_report", None)
    if report:
        target = catalog.get(report.target)
        st.success(
            f"Simulated **{report.user}** ({report.kind} intent) wanted **{target.title}** ({target.type}) and typed "
            f"`{report.query}`. Events: {', '.join(report.events) or 'none'} · rewarded on: "
            f"{report.rewarded_on or 'nothing (default reward)'} · arm rewards: "
            + (", ".join(f"{arm} {r:.0f}" for arm, r in report.rewards.items()) or "none")
        )
    if res.selection is None:  # an empty query after normalization: nothing was searched
        return

    trace = res.understanding.to_trace()
    if not res.items:  # searched, found nothing: say what was understood
        st.info(f"Nothing found for `{res.query}`, understood as `{trace['normalized']}`: the strategies "
                f"{', '.join(res.selection.chosen)} found no match. Try words, or other symbols.")
    st.caption(
        f"`{res.ranker}` ranker · policy `{res.selection.policy}` · strategies {', '.join(res.selection.chosen)} · "
        f"{res.timings.get('total', 0.0):.0f} ms total · search #{res.search_id}"
    )
    search_views(res)


search_area()
