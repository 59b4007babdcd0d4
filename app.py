"""LTR&R Studio analyst dashboard: a router over the pages in ``pages/`` (no logic here)."""

import streamlit as st

st.set_page_config(page_title="LTR&R Studio", page_icon=":material/manage_search:", layout="wide")

st.navigation(
    [
        st.Page("pages/search.py", title="Search", icon=":material/search:", default=True),
        st.Page("pages/compare.py", title="Compare", icon=":material/difference:"),
        st.Page("pages/live.py", title="Live learning", icon=":material/monitoring:"),
        st.Page("pages/labelling.py", title="Labelling", icon=":material/label:"),
        st.Page("pages/grading.py", title="Case grading", icon=":material/grading:"),
        st.Page("pages/experiments.py", title="Experiments", icon=":material/science:"),
        st.Page("pages/interleaving.py", title="Interleaving", icon=":material/compare_arrows:"),
        st.Page("pages/evaluation.py", title="Evaluation", icon=":material/leaderboard:"),
        st.Page("pages/history.py", title="Logs & position bias", icon=":material/history:"),
        st.Page("pages/analytics.py", title="Query analytics", icon=":material/query_stats:"),
        st.Page("pages/report.py", title="Report", icon=":material/summarize:"),
        st.Page("pages/catalog.py", title="Catalog & settings", icon=":material/settings:"),
    ]
).run()
