"""Labelling: grade (query, result) pairs 0-3, compare judges, import and export label files."""

import tempfile
from pathlib import Path

import streamlit as st

from ltrr_core.labelling import labelling_queue
from ltrr_core.labels import FORMATS, Judgment, LabelFileError, read_labels, write_labels
from ui.resources import engine

GRADES = {0: "0 · not relevant", 1: "1 · related", 2: "2 · relevant", 3: "3 · perfect"}

st.title("Labelling")
eng = engine()
judge = st.text_input("Judge name", value="analyst", key="judge_name").strip()
if not judge:
    st.error("Judge name: type a name so labels from different judges can be told apart.")
    st.stop()


# ------------------------------------------------------------------ queue + grading
st.subheader("Queue")
st.caption("Most informative first: results the picked strategies disagree on, searches where the bandit "
           "was least certain, and unlabelled first-page results.")
queue = labelling_queue(eng, judge=judge)
done = len(eng.store.labels(judge=judge))
st.progress(done / (done + len(queue)) if done + len(queue) else 0.0,
            text=f"{done} labelled by {judge} · {len(queue)} waiting")
if queue.empty:
    st.info("Nothing waiting: search on the **Search** page, then grade the results here (or import a label file).")
else:
    pair = queue.iloc[0]
    entity = eng.catalog.get(pair["entity_id"])
    with st.form("grade_form", clear_on_submit=True, border=True):
        st.markdown(f"Query: **{pair['query']}**")
        st.markdown(
            f"Result #{pair['rank']}: **{entity.title}** · *{entity.type}*" + (f" · {entity.creator}" if entity.creator else "")
        )
        st.caption(f"Why this pair now: **{pair['why']}** (score {pair['score']:.2f})")
        st.caption((entity.description or "")[:300] + f"  \nfound by: {pair['found_by']} · id `{entity.id}`")
        grade = st.radio("Relevance", list(GRADES), format_func=GRADES.get, horizontal=True, index=None, key="grade_choice")
        if st.form_submit_button("Save grade and next", key="grade_submit", type="primary"):
            if grade is None:
                st.error("Relevance: choose a grade from 0 to 3 first.")
            else:
                eng.label(pair["query"], entity.id, int(grade), judge=judge)
                st.rerun()
    st.dataframe(queue.drop(columns="search_id").head(20), hide_index=True, key="queue_table")

# ------------------------------------------------------------------ judges
st.subheader("Judges")
labels = eng.store.labels_frame()
if labels.empty:
    st.caption("No labels yet.")
else:
    table = labels.pivot_table(index=["normalized_query", "entity_id"], columns="judge", values="grade", aggfunc="first")
    st.dataframe(table.reset_index(), hide_index=True, key="judges_table")
    both = table.dropna()
    if table.shape[1] > 1 and not both.empty:
        agree = (both.nunique(axis=1) == 1).mean()
        spread = (both.max(axis=1) - both.min(axis=1)).mean()
        st.caption(f"{len(both)} pairs graded by every judge: exact agreement {agree:.0%}, mean grade spread {spread:.2f}")
    else:
        st.caption("Inter-judge agreement appears once two judges grade the same pairs.")

# ------------------------------------------------------------------ import / export
st.subheader("Import and export")
left, right = st.columns(2)
with left:
    upload = st.file_uploader("Label file (TREC qrels, BEIR tsv, query,docid,rating CSV)", key="labels_upload")
    fmt = st.selectbox("Format", ["detect"] + list(FORMATS), key="import_format")
    if st.button("Import labels", key="labels_import", disabled=upload is None):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / upload.name
            path.write_bytes(upload.getvalue())
            try:
                judgments = read_labels(path, None if fmt == "detect" else fmt)
            except LabelFileError as exc:
                st.error(str(exc).replace(str(path), upload.name))
                judgments = None
        if judgments is not None:
            unknown = [j for j in judgments if j.doc_id not in eng.catalog]
            too_high = [j for j in judgments if j.doc_id in eng.catalog and j.grade > 3]
            for j in judgments:
                if j.doc_id in eng.catalog and j.grade <= 3:
                    eng.label(j.query or j.query_id, j.doc_id, j.grade, judge=judge)
            st.success(f"Imported {len(judgments) - len(unknown) - len(too_high)} labels as judge {judge}.")
            if unknown:
                st.warning(f"Skipped {len(unknown)} labels whose document is not in this catalog (e.g. {unknown[0].doc_id}).")
            if too_high:
                st.warning(f"Skipped {len(too_high)} labels graded above 3 (the studio's scale is 0-3).")
with right:
    export_fmt = st.selectbox("Export format", list(FORMATS), key="export_format")
    mine = eng.store.labels(judge=judge)
    if mine:
        # csv carries the query text; trec/beir ids cannot hold whitespace, so words are joined by "_"
        query_id = (lambda q: q) if export_fmt == "csv" else (lambda q: "_".join(q.split()))
        judgments = [Judgment(query_id(label.normalized_query), label.entity_id, label.grade, label.query) for label in mine]
        try:
            with tempfile.TemporaryDirectory() as tmp:
                data = write_labels(judgments, Path(tmp) / f"labels.{export_fmt}", export_fmt).read_bytes()
            st.download_button(f"Download {len(mine)} labels of {judge}", data, file_name=f"labels-{judge}.{export_fmt}",
                               key="labels_download")
        except LabelFileError as exc:
            st.error(f"Export as {export_fmt}: {exc}")
    else:
        st.caption(f"{judge} has no labels to export yet.")
