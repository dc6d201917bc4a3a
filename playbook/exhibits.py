"""Numbered exhibits: number, action title, subtitle, the chart or table, source and n.

One helper numbers and titles every exhibit, so numbering survives reordering notebooks,
switching sections off and adding custom notebooks: a notebook numbers its exhibits from 1
(what an analyst sees in JupyterLab) and the render step renumbers them across the whole
report by rewriting the ``<span class="exhibit-no">`` markers in document order.
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import asdict, dataclass

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from playbook.chart_fit import fit_to_report, nothing_to_show
from playbook.errors import GeneratedTextError

EXHIBIT_NO = re.compile(r'<span class="exhibit-no">\d+</span>')


@dataclass
class Exhibit:
    number: int
    title: str
    subtitle: str
    source: str
    n: int | None = None
    notes: str = ""
    headline: bool = False


def figure_svg(fig: Figure) -> str:
    """Inline SVG markup of a figure (text kept as text), then close the figure.

    The figure is sized for the page first (:func:`playbook.chart_fit.fit_to_report`) and
    the SVG keeps its width and height in points: the print CSS places it at that size, so
    its fonts print at the sizes the chart set (the screen CSS scales it to the column)."""
    fit_to_report(fig)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.find("<svg"):]
    return svg.replace("<svg", '<svg class="chart"', 1)


def table_html(frame: pd.DataFrame, *, formats: dict[str, str] | None = None,
               index: bool = False, max_rows: int = 40) -> str:
    """A plain HTML table (no pandas styling ids), numbers right-aligned by CSS class.

    ``formats`` maps column -> format spec ("{:,.0f}", "{:.1%}"); missing values print as
    an en dash, never "nan".
    """
    formats = formats or {}
    shown = frame.head(max_rows)
    cols = list(shown.columns)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in
                   ([shown.index.name or ""] if index else []) + cols)
    body = []
    for idx, row in shown.iterrows():
        cells = [f'<th class="row-label">{html.escape(str(idx))}</th>'] if index else []
        for c in cols:
            v = row[c]
            numeric = isinstance(v, int | float) and not isinstance(v, bool)
            if v is None or (numeric and pd.isna(v)) or v is pd.NA or v is pd.NaT:
                text = "–"
            elif c in formats:
                text = formats[c].format(v)
            elif isinstance(v, float):
                text = f"{v:,.2f}"
            elif isinstance(v, int) and not isinstance(v, bool):
                text = f"{v:,}"
            else:
                text = str(v)
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="table-note">Showing {max_rows} of {len(frame):,} rows.</p>'
            if len(frame) > max_rows else "")
    return (f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            f"</tbody></table>{more}")


def blank_columns(frame: pd.DataFrame) -> list:
    """The columns of a table with rows in which every value is missing (None, NaN, NA or
    blank text), unless that would leave no column: they would print as a column of dashes."""
    if frame.empty:
        return []
    def empty(v: object) -> bool:
        return (v is None or v is pd.NA or v is pd.NaT or tf.is_missing(v)
                or (isinstance(v, str) and not v.strip()))

    blank = [c for c in frame.columns if all(empty(v) for v in frame[c])]
    return blank if len(blank) < frame.shape[1] else []


@dataclass
class ExhibitSpec:
    """Everything an exhibit shows, built by :mod:`playbook.findings` from analysis results."""

    content: object
    title: str
    subtitle: str
    source: str
    n: int | None = None
    notes: str = ""
    formats: dict[str, str] | None = None
    headline: bool = False  # its title is a headline bullet of the executive summary


class ExhibitBook:
    """Numbers and renders the exhibits of one notebook and remembers their titles."""

    def __init__(self) -> None:
        self.exhibits: list[Exhibit] = []

    def html(self, content: Figure | pd.DataFrame | str, *, title: str, subtitle: str,
             source: str, n: int | None = None, notes: str = "",
             formats: dict[str, str] | None = None, headline: bool = False) -> str:
        """Return the exhibit's HTML and record it.

        ``content``: a matplotlib figure (inlined as SVG), a DataFrame (a plain table) or
        ready HTML.
        """
        if "nan" in title.lower().split():
            raise GeneratedTextError("exhibit title", title)
        number = len(self.exhibits) + 1
        ex = Exhibit(number, title, subtitle, source, n, notes, headline)
        self.exhibits.append(ex)
        if isinstance(content, Figure) and nothing_to_show(content):
            plt.close(content)
            body = ('<p class="exhibit-empty">None: every value of the chart is zero or '
                    'missing.</p>')
        elif isinstance(content, Figure):
            body = figure_svg(content)
        elif isinstance(content, pd.DataFrame) and content.empty:
            body = '<p class="exhibit-empty">None: no row meets the rule in the title.</p>'
        elif isinstance(content, pd.DataFrame):
            blank = blank_columns(content)  # a column of dashes is filler: say it in a line
            body = table_html(content.drop(columns=blank), formats=formats)
            if blank:
                left_out = f"Left out, no value to show: {', '.join(map(str, blank))}"
                notes = f"{notes.rstrip('. ')}. {left_out}" if notes else left_out
        else:
            body = str(content)
        foot = f"Source: {html.escape(source)}"
        if n is not None:
            foot += f"; n = {n:,}"
        if notes:
            foot += f". {html.escape(notes)}"
        return (
            '<figure class="exhibit">'
            f'<div class="exhibit-label">Exhibit <span class="exhibit-no">{number}</span></div>'
            f'<h3 class="action-title">{html.escape(title)}</h3>'
            f'<p class="subtitle">{html.escape(subtitle)}</p>'
            f'<div class="exhibit-body">{body}</div>'
            f'<figcaption class="source">{foot}</figcaption>'
            "</figure>"
        )

    def titles(self) -> list[dict]:
        return [asdict(e) for e in self.exhibits]


def note_html(text: str, kind: str = "note") -> str:
    """A boxed note (e.g. 'this section needs the usage table'), for the report."""
    return f'<div class="callout {kind}">{html.escape(text)}</div>'
