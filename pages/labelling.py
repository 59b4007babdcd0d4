"""Labelling: grade (query, result) pairs, compare judges, import and export label files."""

from functools import partial

import streamlit as st

from ltrr_core.services.labels import LabelImport
from ltrr_core.vocabulary import GRADES, LABEL_FORMATS, MAX_GRADE, LabelFileError, RetrainDecision, grade_label
from ui import jobs
from ui.identity import judge_field
from ui.resources import studio
from ui.widgets import retrain_outcome

IMPORT_JOB, TRAIN_JOB = "labels_import_job", "labels_train_job"

st.title("Labelling")
faces = studio()
labels_face, catalog = faces.labels, faces.catalog
judge = judge_field("labelling")


# The jobs (worker threads: no Streamlit in them); the learning kind runs one at a time, in order.
def import_labels(ctx: jobs.JobContext, source: jobs.Upload, fmt: str | None, judge: str,
                  topics: jobs.Upload | None) -> LabelImport:
    """All or nothing; the ranker retrains after it when enough new searches are labelled."""
    return labels_face.import_labels(source, fmt, judge=judge, topics=topics)


def train(ctx: jobs.JobContext) -> RetrainDecision:
    return labels_face.retrain()


# ------------------------------------------------------------------ queue + grading
st.subheader("Queue")
st.caption("Most informative first: results the picked strategies disagree on, searches where the bandit "
           "was least certain, and unlabelled first-page results.")
queue = labels_face.labelling_queue(judge=judge)
done = len(labels_face.labels(judge=judge))
st.progress(done / (done + len(queue)) if done + len(queue) else 0.0,
            text=f"{done} labelled by {judge} · {len(queue):,} waiting")
if queue.empty:
    st.info("Nothing waiting: search on the **Search** page, then grade the results here (or import a label file).")
else:
    pair = queue.iloc[0]
    entity = catalog.get(pair["entity_id"])
    with st.form("grade_form", clear_on_submit=True, border=True):
        st.markdown(f"Query: **{pair['query']}**")
        st.markdown(
            f"Result #{pair['rank']}: **{entity.title}** · *{entity.type}*" + (f" · {entity.creator}" if entity.creator else "")
        )
        st.caption(f"Why this pair now: **{pair['why']}** (score {pair['score']:.2f})")
        st.caption((entity.description or "")[:300] + f"  \nfound by: {pair['found_by']} · id `{entity.id}`")
        grade = st.radio("Relevance", GRADES, format_func=grade_label, horizontal=True, index=None, key="grade_choice")
        if st.form_submit_button("Save grade and next", key="grade_submit", type="primary"):
            if grade is None:
                st.error(f"Relevance: choose a grade from 0 to {MAX_GRADE} first.")
            else:
                labels_face.label(pair["query"], entity.id, int(grade), judge=judge)
                st.rerun()
    st.dataframe(queue.drop(columns="search_id").head(20), hide_index=True, key="queue_table")

# ------------------------------------------------------------------ judges
st.subheader("Judges")
labels = labels_face.labels_frame()
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

# ------------------------------------------------------------------ training
st.subheader("Ranker")
st.caption("The ranker retrains by itself once enough new searches are labelled. Train it now on every label and "
           "the human feedback: LambdaMART, kept only if it is not worse on held-out searches.")
if st.button("Train the ranker now", key="labels_train"):
    jobs.start(TRAIN_JOB, "learning", "LambdaMART on labels and feedback", train, key=f"train-labels|{id(labels_face)}")
jobs.follow(TRAIN_JOB, into="labels_train_decision")
decision = st.session_state.get("labels_train_decision")
if decision is not None:
    retrain_outcome(decision, "training searches")

# ------------------------------------------------------------------ import / export
st.subheader("Import and export")
left, right = st.columns(2)
with left:
    upload = st.file_uploader("Label file (TREC qrels, BEIR tsv, query,docid,rating CSV)", key="labels_upload")
    topics_file = st.file_uploader("Topics file for TREC/BEIR query ids (TREC topics, queries.jsonl, id<TAB>text)",
                                   key="labels_topics", help="Gives each query id its text; without it the id "
                                   "stands for the query")
    fmt = st.selectbox("Format", ["detect"] + list(LABEL_FORMATS), key="import_format")
    if upload is not None and topics_file is None and not upload.name.lower().endswith(".csv"):
        st.caption("TREC and BEIR files name queries by id: without a topics file each id (e.g. `q1`) is stored "
                   "as its query.")
    if st.button("Import labels", key="labels_import", disabled=upload is None):
        source = (upload.name, upload.getvalue())  # read from memory: the browser's file name is only shown
        topics = (topics_file.name, topics_file.getvalue()) if topics_file is not None else None
        fmt_or_none = None if fmt == "detect" else fmt
        jobs.start(IMPORT_JOB, "learning", f"Import of {upload.name} (labels of {judge})",
                   partial(import_labels, source=source, fmt=fmt_or_none, judge=judge, topics=topics),
                   key="|".join(["labels", str(id(labels_face)), jobs.upload_key(source), str(fmt_or_none), judge,
                                 jobs.upload_key(topics) if topics else ""]))
    jobs.follow(IMPORT_JOB, into="labels_import_report")
    imported = st.session_state.get("labels_import_report")
    if imported is not None and st.session_state.get("labels_import_drawn") is not imported:
        st.session_state["labels_import_drawn"] = imported  # counts and queue above predate it: draw them again
        st.rerun()
    if imported is not None:
        (st.warning if imported.unknown else st.success)(imported.message())
with right:
    export_fmt = st.selectbox("Export format", list(LABEL_FORMATS), key="export_format")
    mine = labels_face.labels(judge=judge)
    if mine:
        try:
            data = labels_face.export_labels(export_fmt, judge=judge).encode("utf-8")
            st.download_button(f"Download {len(mine)} labels of {judge}", data, file_name=f"labels-{judge}.{export_fmt}",
                               key="labels_download")
        except LabelFileError as exc:
            st.error(f"Export as {export_fmt}: {exc}")
    else:
        st.caption(f"{judge} has no labels to export yet.")
