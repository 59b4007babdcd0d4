"""A report as one self-contained HTML file: the sentences beside their charts and intervals, the
setup last; plotly's JavaScript is inlined once, so the file opens offline."""

from __future__ import annotations

from html import escape

from ltrr_core.reporting.report import Report, Section, interval_text

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2rem auto;
       padding: 0 1rem; color: #1f2328; line-height: 1.5; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.5rem; }
.section { display: grid; grid-template-columns: minmax(260px, 1fr) 2fr; gap: 1.5rem; align-items: start; }
.finding p { font-size: 1.05rem; margin: 0 0 .8rem; }
.intervals { font-size: .85rem; color: #57606a; padding-left: 1.1rem; }
table.setup { border-collapse: collapse; font-size: .9rem; margin-top: .5rem; }
table.setup td { padding: .25rem .8rem .25rem 0; border-bottom: 1px solid #d0d7de; vertical-align: top; }
footer { margin-top: 3rem; }
@media (max-width: 800px) { .section { grid-template-columns: 1fr; } }
"""


def _section(section: Section, first: bool) -> str:
    sentences = "".join(f'<p class="sentence">{escape(s)}</p>' for s in section.sentences)
    intervals = "".join(f"<li>{escape(label)}: {escape(interval_text(interval))}</li>"
                        for label, interval in section.intervals)
    chart = section.figure.to_html(full_html=False, include_plotlyjs=first, config={"displaylogo": False,
                                                                                    "responsive": True})
    return (f'<section><h2>{escape(section.title)}</h2><div class="section"><div class="finding">{sentences}'
            f'<ul class="intervals">{intervals}</ul></div><div class="chart">{chart}</div></div></section>')


def render_html(report: Report) -> str:
    """``report`` as one HTML document with every chart embedded (plotly JS inlined in the first)."""
    sections = "".join(_section(s, i == 0) for i, s in enumerate(report.sections))
    setup = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in report.setup)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(report.title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f'<body><h1>{escape(report.title)}</h1>{sections}<footer><h2>Setup</h2><table class="setup">{setup}'
            f'</table></footer></body></html>')
