"""Query analytics: the log read back as a search team reads it every morning — top queries, queries with
no results, abandoned queries, where clicks land, each over time; what only one strategy found, recall at
depth per strategy on labelled queries, and the judgments clicks imply. Any query opens on Search."""

import plotly.graph_objects as go
import streamlit as st

from ltrr_core.vocabulary import color_for
from ui import charts
from ui.resources import studio

SOURCES = {"Every search": None, "Human searches": "human", "Simulated searches": "simulated"}
MEASURE_NAMES = {"searches": "searches", "zero_result": "no results", "no_click": "results, no click",
                 "no_positive": "results, no positive event", "clicks": "clicks"}
TRENDS = ["searches", "zero_result", "no_click", "no_positive"]
QUERY_COLUMNS = {"query": "query", "searches": "searches", "share": "share of searches", "zero_result": "no results",
                 "no_click": "no click", "no_click_rate": "no-click rate", "no_positive": "no positive event",
                 "no_positive_rate": "no-positive rate", "clicks": "clicks"}
PERCENT = st.column_config.NumberColumn(format="percent")
SEARCH_PAGE = "pages/search.py"

st.title("Query analytics")
faces = studio()
analytics = faces.analytics
source = SOURCES[st.selectbox("Searches", list(SOURCES), key="qa_source")]
summary = analytics.summary(source)
if not summary.searches:
    st.info("No searches logged yet: search on the Search page, or run a simulation on Live learning.")
    st.stop()


def open_on_search(query: str) -> None:
    """Run ``query`` on the Search page (its query box and its pending-search flag)."""
    st.session_state["query"] = query
    st.session_state["pending_search"] = True
    st.switch_page(SEARCH_PAGE)


def query_table(table, key: str) -> None:
    """A table of queries (labelled columns, rates as percentages) with a button opening one on Search."""
    shown = table[[c for c in QUERY_COLUMNS if c in table]].rename(columns=QUERY_COLUMNS)
    st.dataframe(shown, hide_index=True, width="stretch",
                 column_config={QUERY_COLUMNS[c]: PERCENT for c in ("share", "no_click_rate", "no_positive_rate")})
    left, right = st.columns([3, 1])
    picked = left.selectbox("Query", table["query"].tolist(), key=f"{key}_pick", label_visibility="collapsed")
    if right.button("Open on Search", key=f"{key}_open", disabled=picked is None, width="stretch"):
        open_on_search(picked)


def trend_figure(trend, title: str) -> go.Figure:
    """Measures per time bucket, one coloured line each."""
    long = trend.melt(id_vars="bucket", value_vars=TRENDS, var_name="measure", value_name="n")
    long["measure"] = long["measure"].map(MEASURE_NAMES)
    fig = charts.lines(long, "bucket", "n", "measure", title, f"{summary.bucket} (UTC)", "searches")
    return fig.update_traces(mode="lines+markers")


shown = summary.searches - summary.zero_result
cols = st.columns(5)
cols[0].metric("Searches", f"{summary.searches:,}")
cols[1].metric("Distinct queries", f"{summary.queries:,}")
cols[2].metric("No results", f"{summary.zero_result / summary.searches:.1%}")
cols[3].metric("Results, no click", f"{summary.no_click / shown:.1%}" if shown else "–")
cols[4].metric("Clicks", f"{summary.clicks:,}")
st.caption(f"From {summary.first:%Y-%m-%d %H:%M} to {summary.last:%Y-%m-%d %H:%M} UTC; trends per {summary.bucket}. "
           "A positive event is one that closes a search's reward window (engage or thumbs up).")
st.plotly_chart(trend_figure(analytics.trend(source=source), "The whole log over time"), key="qa_trend")

top, empty, abandoned, clicks, strategies, judged = st.tabs(
    ["Top queries", "No results", "Abandonment", "Click positions", "Strategies", "Judgments from clicks"])
with top:
    table = analytics.top_queries(50, source)
    query_table(table, "qa_top")
    picked = st.selectbox("Trend of one query", table["query"].tolist(), key="qa_trend_query")
    normalized = table.loc[table["query"] == picked, "normalized_query"].iloc[0]
    st.plotly_chart(trend_figure(analytics.trend([normalized], source), f"“{picked}” over time"),
                    key="qa_query_trend")
with empty:
    table = analytics.zero_result_queries(50, source)
    if table.empty:
        st.success("Every search showed results.")
    else:
        query_table(table, "qa_empty")
with abandoned:
    by = st.radio("Abandoned when the results got", ["no click", "no positive event"], horizontal=True, key="qa_by")
    table = analytics.abandoned_queries(50, "click" if by == "no click" else "positive", source)
    if table.empty:
        st.success(f"No search with results got {by}.")
    else:
        query_table(table, "qa_abandoned")
with clicks:
    positions = analytics.click_positions(source)
    if positions.empty:
        st.info("No clicks on shown results yet.")
    else:
        fig = charts.bar(positions, "rank", "clicks", "Where clicks land", "rank shown", "clicks")
        fig.update_traces(marker_color=color_for("clicks"), customdata=positions["share"],
                          hovertemplate="rank %{x}: %{y} clicks (%{customdata:.1%})")
        st.plotly_chart(fig, key="qa_positions")
        over_time = analytics.click_position_trend(source)
        over_time = over_time[over_time["rank"] <= 5].assign(rank=lambda t: "rank " + t["rank"].astype(str))
        fig = charts.lines(over_time, "bucket", "clicks", "rank", "Clicks at ranks 1-5 over time",
                           f"{summary.bucket} (UTC)", "clicks").update_traces(mode="lines+markers")
        st.plotly_chart(fig, key="qa_positions_trend")
with strategies:
    finds = analytics.strategy_finds(source)
    st.caption("Confirmed items: shown results clicked, engaged with or thumbed up (once per search). What only one "
               "strategy found is what the others would have missed.")
    if finds.empty:
        st.info("No confirmed items yet.")
    else:
        st.plotly_chart(charts.bar(finds, "strategy", "only_share", "Share of confirmed items only this strategy found",
                                   "strategy", "share", color_by="strategy").update_yaxes(tickformat=".0%"),
                        key="qa_only")
        st.dataframe(finds, hide_index=True, width="stretch",
                     column_config={"found_share": PERCENT, "only_share": PERCENT})
    st.markdown("**Recall at depth on labelled queries** (match-phase recall: can the ranker still see the item?)")
    left, right = st.columns(2)
    depth = left.number_input("Depth", min_value=1, max_value=1000, value=100, step=25, key="qa_depth")
    min_grade = right.number_input("Relevant from grade", min_value=1, max_value=3, value=1, key="qa_min_grade")
    if st.button("Compute recall", key="qa_recall"):
        recall = analytics.strategy_recall(int(depth), int(min_grade))
        if recall.empty:
            st.info("No labelled queries yet: label results on the Labelling page.")
        else:
            st.plotly_chart(charts.bar(recall, "strategy", "recall", f"Recall@{int(depth)} per strategy", "strategy",
                                       "recall", color_by="strategy"), key="qa_recall_chart")
with judged:
    st.caption("Clicks over expected clicks (COEC) under the examination curve in use; grades: COEC ≥ 2 → 3, ≥ 1 → 2, "
               "≥ 0.5 → 1, else 0. `ltrr experiment --judgments clicks[:MIN]` uses the same judgments.")
    minimum = st.number_input("Minimum impressions", min_value=1, max_value=1000, value=10,
                              key="qa_min_impressions")
    judgments = analytics.click_judgments(int(minimum))
    if judgments.empty:
        st.info(f"No result was shown {int(minimum)} times with a click in the log; lower the minimum.")
    else:
        st.dataframe(judgments, hide_index=True, width="stretch")
