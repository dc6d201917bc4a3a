"""Numbered exhibits: number, action title, subtitle, the chart or table, source and n.

One helper numbers and titles every exhibit, so numbering survives reordering notebooks,
switching sections off and adding custom notebooks: a notebook numbers its exhibits from 1
(what an analyst sees in JupyterLab) and the render step renumbers them across the whole
report by rewriting the ``<span class="exhibit-no">`` markers in document order.

Every exhibit also has a stable id, ``<notebook>.<key>`` (``revenue.retention_bridge``):
the notebook's name without its order prefix and the name of the findings function that
built its :class:`ExhibitSpec` (a second exhibit from the same function in the notebook is
``<key>-2``). Numbers move when an exhibit is added or hidden; the id does not, so the
consultant's notes (:mod:`playbook.notes`) are keyed by it. It is recorded in results.json
and on the exhibit's ``<figure data-exhibit-id="...">``.
"""

from __future__ import annotations

import html
import io
import numbers
import re
import sys
from dataclasses import asdict, dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from playbook import textfmt as tf
from playbook.chart_fit import fit_to_report, nothing_to_show
from playbook.errors import GeneratedTextError
from playbook.exhibit_ids import EXHIBIT_KEY

EXHIBIT_NO = re.compile(r'<span class="exhibit-no">\d+</span>')
_ORDER_PREFIX = re.compile(r"^\d+[-_]")


def notebook_id(stem: str) -> str:
    """A notebook's part of an exhibit id: its file name without folders and without the
    order prefix ("01-revenue" -> "revenue", "custom/90-extra" -> "extra")."""
    return _ORDER_PREFIX.sub("", stem.replace("\\", "/").rsplit("/", 1)[-1])


@dataclass
class Exhibit:
    number: int
    title: str
    subtitle: str
    source: str
    n: int
    notes: str = ""
    headline: bool = False
    n_of: str = ""
    #: Stable id ``<notebook>.<key>`` (see the module docstring); "" outside a notebook.
    id: str = ""


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


def _is_number(value: object) -> bool:
    """A real number (Python or numpy), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _cell_text(value: object, spec: str | None) -> str:
    """One cell: missing -> en dash, a format spec if given, floats with two decimals,
    ints with separators; a negative figure with the minus sign, never a hyphen."""
    numeric = _is_number(value)
    if value is None or (numeric and pd.isna(value)) or value is pd.NA or value is pd.NaT:
        return tf.ABSENT
    if spec is not None:
        text = spec.format(value)
    elif isinstance(value, float):
        text = f"{value:,.2f}"
    elif numeric:
        text = f"{value:,}"
    else:
        return str(value)
    return tf.with_minus(text) if numeric else text


def _column_cells(column: pd.Series, spec: str | None) -> tuple[str, list[str]]:
    """A column's header and cell texts. A money column (its header names the currency,
    "MRR (USD)") is formatted by :func:`playbook.textfmt.money_column`, one unit for the
    whole column, and its header drops the code the cells now carry ("MRR")."""
    header = str(column.name)
    money = tf.money_header(header)
    values = list(column)
    if money and all(tf.is_missing(v) or _is_number(v) for v in values):
        label, currency = money
        return label, tf.money_column(values, currency)
    present = [v for v in values if not tf.is_missing(v)]
    if spec is None and present and all(isinstance(v, float) and float(v).is_integer()
                                        for v in present):
        spec = "{:,.0f}"  # whole figures (counts) print as whole numbers: 7, not 7.00
    return header, [_cell_text(v, spec) for v in values]


def table_html(frame: pd.DataFrame, *, formats: dict[str, str] | None = None,
               index: bool = False, max_rows: int = 40) -> str:
    """A plain HTML table (no pandas styling ids), numbers right-aligned by CSS class.

    ``formats`` maps column -> format spec ("{:,.0f}", "{:.1%}"); a column whose header
    names its currency ("MRR (USD)") is money, shown with the symbol in one unit per column
    ($1.2M / $840K / $8,886: :func:`playbook.textfmt.money_column`); a negative figure
    carries the minus sign; missing values print as an en dash, never "nan".
    """
    formats = formats or {}
    shown = frame.head(max_rows)
    cols = list(shown.columns)
    texts = [_column_cells(shown.iloc[:, i].rename(c), formats.get(c))
             for i, c in enumerate(cols)]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in
                   ([shown.index.name or ""] if index else []) + [t[0] for t in texts])
    body = []
    for r, idx in enumerate(shown.index):
        cells = [f'<th class="row-label">{html.escape(str(idx))}</th>'] if index else []
        for i in range(len(cols)):
            v = shown.iat[r, i]
            cls = ' class="num"' if _is_number(v) else ""
            cells.append(f"<td{cls}>{html.escape(texts[i][1][r])}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f'<p class="table-note">Showing {max_rows} of {len(frame):,} rows.</p>'
            if len(frame) > max_rows else "")
    return (f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}'
            f"</tbody></table>{more}")


def blank_columns(frame: pd.DataFrame) -> list:
    """The columns of a table with rows in which every value is missing (None, NaN, NA,
    blank text or an already printed dash), unless that would leave no column: they would
    print as a column of dashes."""
    if frame.empty:
        return []

    def empty(v: object) -> bool:
        return (v is None or v is pd.NA or v is pd.NaT or tf.is_missing(v)
                or (isinstance(v, str) and v.strip() in ("", "-", tf.ABSENT)))

    blank = [c for c in frame.columns if all(empty(v) for v in frame[c])]
    return blank if len(blank) < frame.shape[1] else []


@dataclass
class ExhibitSpec:
    """Everything an exhibit shows, built by :mod:`playbook.findings` from analysis results."""

    content: object
    title: str
    subtitle: str
    source: str
    #: How many units the exhibit rests on: every exhibit has one (printed "n = 1,144" in
    #: its footer); ``n_of`` names the unit when it is not accounts ("tables", "months").
    n: int
    notes: str = ""
    formats: dict[str, str] | None = None
    headline: bool = False  # its title is a headline bullet of the executive summary
    n_of: str = ""
    #: The exhibit's key within its notebook (its stable id is ``<notebook>.<key>``); by
    #: default the name of the function that built the spec (``retention_bridge``).
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:  # frame 0: here, 1: __init__, 2: the findings function
            self.key = sys._getframe(2).f_code.co_name.lstrip("_") or "exhibit"


class ExhibitBook:
    """Numbers and renders the exhibits of one notebook and remembers their titles.

    ``prefix`` is the notebook's part of the exhibit ids (:func:`notebook_id`)."""

    def __init__(self, prefix: str = "") -> None:
        self.exhibits: list[Exhibit] = []
        self.prefix = prefix

    def exhibit_id(self, key: str) -> str:
        """The stable id of the next exhibit with ``key``: ``<prefix>.<key>``, and
        ``<key>-2``, ``<key>-3`` ... when the notebook already shows one with that key."""
        key = key if EXHIBIT_KEY.match(key or "") else "exhibit"
        base = f"{self.prefix}.{key}" if self.prefix else key
        taken = {e.id for e in self.exhibits}
        found, k = base, 1
        while found in taken:
            k += 1
            found = f"{base}-{k}"
        return found

    def html(self, content: Figure | pd.DataFrame | str, *, title: str, subtitle: str,
             source: str, n: int, notes: str = "",
             formats: dict[str, str] | None = None, headline: bool = False,
             n_of: str = "", key: str = "exhibit") -> str:
        """Return the exhibit's HTML and record it.

        ``content``: a matplotlib figure (inlined as SVG), a DataFrame (a plain table) or
        ready HTML. ``n`` (required): what the exhibit rests on, printed in the footer as
        "n = 1,144" followed by ``n_of`` when the unit is not accounts ("n = 11 tables").
        ``key`` makes its stable id (:meth:`exhibit_id`).
        A title with a raw "nan" or "n/a", or an exhibit without its n, is refused
        (:class:`~playbook.errors.GeneratedTextError`).
        """
        words = title.lower().split()
        if "nan" in words:
            raise GeneratedTextError("exhibit title", title)
        if any(w.startswith("n/a") for w in words):
            raise GeneratedTextError("exhibit title", title, "says 'n/a' (build the sentence "
                                     "without the missing figure)")
        if n is None or tf.is_missing(n):
            raise GeneratedTextError("exhibit", title, "has no n (pass the count it rests "
                                     "on, and n_of when it does not count accounts)")
        number = len(self.exhibits) + 1
        ex = Exhibit(number, title, subtitle, source, int(n), notes, headline, n_of,
                     self.exhibit_id(key))
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
        foot = f"Source: {html.escape(source)}; n = {int(n):,}"
        if n_of:
            foot += f" {html.escape(n_of)}"
        if notes:
            foot += f". {html.escape(notes)}"
        return (
            f'<figure class="exhibit" data-exhibit-id="{html.escape(ex.id)}">'
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
