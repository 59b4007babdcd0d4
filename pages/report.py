"""Report: a simulated run, a saved sweep, an experiment snapshot or an interleaving experiment told
for stakeholders — each finding in sentences beside its chart and intervals, the setup last — and
the same as one HTML file that opens offline (``ltrr report`` writes it from the command line)."""

from functools import partial
from pathlib import Path

import streamlit as st

from ui.resources import studio

st.title("Report")
faces = studio()
reports = faces.reports
st.caption("Findings in plain sentences from what is stored: a simulated run's record (written when `ltrr simulate` "
           "or a Live learning run ends), a saved sweep, an experiment snapshot or an interleaving experiment's logged "
           "clicks. Download the HTML to hand it on: the charts are embedded, so it opens without a network.")

snapshots = faces.experiments.experiment_snapshots()
snapshots = snapshots[snapshots["this_catalog"]] if len(snapshots) else snapshots
CHOICES = {  # what to report on -> (its stored items as {label: key}, the face's report method)
    "Simulated run": ({Path(db).stem: db for db in reports.simulation_runs()}, reports.of_run),
    "Sweep": ({name: name for name in faces.learning.saved_sweeps()}, reports.of_sweep),
    "Experiment snapshot": ({f"#{row.experiment_id} · {row.query_set} · {row.judgments}": int(row.experiment_id)
                             for row in snapshots.itertuples()}, reports.of_experiment),
    "Interleaving experiment": ({f"{e.id} · {e.searches:,} searches": e.id
                                 for e in faces.experiments.interleaving_experiments()}, reports.of_interleaving),
}
kind = st.radio("Report on", list(CHOICES), horizontal=True, key="report_kind")
items, build = CHOICES[kind]
if not items:
    st.info(f"No {kind.lower()} stored yet beside {faces.settings.db_path.name}: run `ltrr simulate` (or "
            "`--compare`), `ltrr sweep`, `ltrr experiment`, or an interleaving experiment first.")
    st.stop()
label = st.selectbox(kind, list(items), key=f"report_item_{kind}")
try:
    report = build(items[label])
except (ValueError, KeyError, OSError) as exc:
    st.error(str(exc.args[0] if isinstance(exc, KeyError) and exc.args else exc))
    st.stop()

st.header(report.title)
st.download_button("Download the report (HTML)", data=partial(reports.render_html, report), mime="text/html",
                   file_name=f"report-{report.kind}-{label.split(' ')[0].lstrip('#')}.html", icon=":material/download:",
                   on_click="ignore", key="report_download")
for i, section in enumerate(report.sections):
    st.subheader(section.title)
    left, right = st.columns([1, 2])
    for sentence in section.sentences:
        left.markdown(sentence.replace("$", "\\$"))
    for name, interval in section.intervals:
        left.caption(f"{name}: {reports.interval_text(interval)}")
    right.plotly_chart(section.figure, key=f"report_chart_{i}")
st.subheader("Setup")
st.table({"setting": [k for k, _ in report.setup], "value": [v for _, v in report.setup]}, hide_index=True)
