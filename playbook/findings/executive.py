"""What the executive layer shows: the "so what" page (messages, prize, decisions, the
opportunity walk), the business cases and peer benchmarks under the summary's
recommendations, and the walk's assumptions in the appendix.

Everything is drawn from the run's ``executive`` record (:func:`playbook.executive.
executive_record`): a figure printed here is the record's, formatted by
:mod:`playbook.textfmt`. Client and parameter text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import nbformat
import pandas as pd
from matplotlib.figure import Figure

from playbook import charts
from playbook import textfmt as tf
from playbook.executive import fte_text, kpi_texts, payback_words
from playbook.exhibits import figure_svg, note_html
from playbook.facts import facts_from_results
from playbook.results import ReportResults

ABSENT = tf.ABSENT
NBSP = "\u00a0"
#: Labels of the walk's bars on the chart (the waterfall breaks a label at its spaces).
CHART_LABELS = {"start": f"Today's{NBSP}NRR", "renewals": f"Renewals at{NBSP}risk",
                "onboarding": "Onboarding", "single_threaded": "Single-threaded",
                "expansion": "Expansion", "end": "Achievable"}


def _chart_label(bar: Mapping[str, Any]) -> str:
    """A walk bar's short label under the chart (the renewal lever says "due" when the
    model cannot rank renewals, so none is at risk)."""
    if bar["key"] == "renewals" and not (bar.get("basis") or {}).get("ranked", True):
        return f"Renewals{NBSP}due"
    return CHART_LABELS.get(bar["key"], bar["label"])


def _money(value: Any, currency: str) -> str:
    return tf.money(value, currency, missing=ABSENT)


def _range(low: Any, high: Any, currency: str) -> str:
    return tf.span(low, high, lambda v: tf.money(v, currency))


def payback_text(months: float | None) -> str:
    """Payback in words: "within a month", "4 months" or a dash."""
    return ABSENT if months is None else payback_words(months).removeprefix("in ")


# --------------------------------------------------------------------------- the walk


def walk_figure(bars: Sequence[Mapping[str, Any]], currency: str) -> Figure:
    """The waterfall of the walk: today's level, a bar per lever (its mid, in the accent
    colour; its low-high range as a whisker beside it), the achievable level. Without a
    start level (NRR withheld) the levers are drawn side by side."""
    fig, ax = charts.new_figure(height=2.2)
    symbol = tf.CURRENCY_SYMBOLS.get(currency, "")
    levers = [b for b in bars if b["kind"] == "lever"]
    if bars and bars[0]["kind"] == "level":
        values = pd.Series([b["mid"] for b in bars],
                           index=[_chart_label(b) for b in bars])
        charts.waterfall(values, ax, symbol=symbol)
        for patch in ax.patches[1:-1]:
            patch.set_color(charts.ACCENT)
        level, top = float(bars[0]["mid"]), ax.get_ylim()[1]
        for i, b in enumerate(levers, start=1):
            ax.plot([i + 0.36] * 2, [level + b["low"], level + b["high"]], color=charts.TEXT,
                    lw=0.8)
            top = max(top, level + b["high"])
            level += b["mid"]
        ax.set_ylim(top=top)
    else:
        values = pd.Series([b["mid"] for b in levers], index=[b["label"] for b in levers])
        charts.sorted_bars(values, ax, symbol=symbol, highlight=list(values.index))
        for y, label in enumerate(values.sort_values().index):
            b = next(b for b in levers if b["label"] == label)
            ax.plot([b["low"], b["high"]], [y + 0.42] * 2, color=charts.TEXT, lw=0.8)
        ax.set_xlim(right=max(ax.get_xlim()[1], max(b["high"] for b in levers) * 1.05))
    return fig


def walk_title(record: Mapping[str, Any], currency: str) -> str:
    """The walk's action title: what the levers add, with its range."""
    total, levers = record["walk_notes"]["total"], [b for b in record["walk"]
                                                    if b["kind"] == "lever"]
    if not levers:
        return "No lever of the walk can be sized from this run's data"
    return (f"{tf.plural(len(levers), 'lever').capitalize()} could add "
            f"{_money(total['mid'], currency)} of ARR a year "
            f"({_range(total['low'], total['high'], currency)})")


def assumptions_text(record: Mapping[str, Any]) -> list[str]:
    """The walk's assumptions, one line each: capture, each lever's sizing, what is left
    out and what is not used."""
    notes = record["walk_notes"]
    c = notes.get("capture") or {}
    lines = []
    if c:
        lines.append(f"Each lever closes {tf.span(c['low'], c['high'], lambda v: tf.pct(v, 0))}"
                     f" (mid {tf.pct(c['mid'], 0)}) of the gap its analysis measured within "
                     "12 months: an assumption (executive.capture), not a measurement.")
    for b in record["walk"]:
        if b["kind"] == "lever":
            lines.append(f"{b['label']}: {b['assumption']} ({b['source']}).")
    for lo in notes.get("left_out", []):
        lines.append(f"Left out, {lo['label'].lower()}: {lo['reason']}.")
    if notes.get("withheld_text"):
        lines.append(notes["withheld_text"])
    lines.append("The levers overlap (an account can be both single-threaded and a renewal "
                 "at risk): their sum is before overlap.")
    return lines


def walk_html(record: Mapping[str, Any], currency: str, n: int | None) -> str:
    """The walk as a figure with its title, the chart and its assumptions under it."""
    bars = record["walk"]
    levers = [b for b in bars if b["kind"] == "lever"]
    if not levers:  # nothing drawn: the title says so, once; no subtitle, source or axis
        return ('<figure class="exhibit walk">'
                f'<h3 class="action-title">{html.escape(walk_title(record, currency))}</h3>'
                '</figure>'
                f'<p class="exhibit-notes">{html.escape(walk_note(record))}</p>')
    body = figure_svg(walk_figure(bars, currency))
    start = bars[0]["kind"] == "level" if bars else False
    subtitle = ("Opportunity walk: ARR in 12 months, " + currency + ", from today's net revenue "
                "retention to the achievable level, a bar per lever (mid; the line beside it: "
                "low to high)" if start else f"Opportunity walk: ARR a year, {currency}, a bar "
                "per lever (mid; the line: low to high)")
    sources = tf.and_list(list(dict.fromkeys(b["source"].split(":")[0] for b in levers)))
    foot = f"Source: {sources or 'none'}; n = {n or 0:,}"
    if start:
        foot += ". The axis does not start at zero"
    return ('<figure class="exhibit walk">'
            f'<h3 class="action-title">{html.escape(walk_title(record, currency))}</h3>'
            f'<p class="subtitle">{html.escape(subtitle)}</p>'
            f'<div class="exhibit-body">{body}</div>'
            f'<figcaption class="source">{html.escape(foot)}</figcaption></figure>'
            f'<p class="exhibit-notes">{html.escape(walk_note(record))}</p>')


def walk_note(record: Mapping[str, Any]) -> str:
    """The short note under the walk: the capture assumption, what is left out or not used,
    the overlap, and where each lever's sizing is written (the appendix)."""
    notes = record["walk_notes"]
    sized = any(b["kind"] == "lever" for b in record["walk"])
    c = (notes.get("capture") or {}) if sized else {}
    parts = []
    if c:
        parts.append(f"Assumption: each lever closes "
                     f"{tf.span(c['low'], c['high'], lambda v: tf.pct(v, 0))} (mid "
                     f"{tf.pct(c['mid'], 0)}) of the gap its analysis measured within 12 "
                     "months (executive.capture).")
    left = [lo["label"].lower() for lo in notes.get("left_out", [])]
    if left:
        parts.append(f"Left out: {tf.and_list(left)} (reasons in the appendix).")
    if notes.get("withheld_text"):
        parts.append(notes["withheld_text"])
    if sized:
        parts.append("The levers overlap: their sum is before overlap. How each lever is "
                     "sized: appendix, assumptions of the opportunity walk.")
    return " ".join(parts)


# --------------------------------------------------------------------------- the so what


def so_what_html(record: Mapping[str, Any], currency: str) -> str:
    """The three messages and the size of the prize."""
    sw = record["so_what"]
    items = "".join(f"<li>{html.escape(m['text'])}</li>" for m in sw["messages"])
    p = sw["prize"]
    if p["mid"] is None:
        prize = note_html("The size of the prize: not stated; " + p["basis"] + ".")
    else:
        prize = ('<div class="key-figures prize"><div class="kf">'
                 f'<div class="kf-value">{html.escape(_money(p["mid"], currency))} a year</div>'
                 '<div class="kf-label">The size of the prize</div>'
                 f'<div class="kf-note">{html.escape(_range(p["low"], p["high"], currency))}'
                 " a year: the levers of the opportunity walk below, summed before their "
                 "overlap</div></div></div>")
    return f'<ol class="messages">{items}</ol>{prize}'


def decisions_html(record: Mapping[str, Any]) -> str:
    """The decisions asked of the executive."""
    items = "".join(f"<li>{html.escape(d['text'])}</li>"
                    for d in record["so_what"]["decisions"])
    return (f'<ol class="decisions">{items}</ol>' if items else
            "<p>The data call for no decision this period.</p>")


# --------------------------------------------------------------------------- summary tables


def business_cases_html(cases: Sequence[Mapping[str, Any]], currency: str) -> str:
    """One compact table: per recommendation its cost a year (and people), the benefit a
    year (mid, then the walk's range), the payback and the KPI now and its target. Each
    money column in one unit (:func:`playbook.textfmt.money_column`)."""
    if not cases:
        return ""
    head = ("<tr><th>#</th><th>Action</th><th>Cost a year</th><th>FTE</th>"
            "<th>Benefit a year</th><th>Benefit range</th><th>Payback</th>"
            "<th>KPI: now \u2192 target next period</th></tr>")
    cost = tf.money_column([b["cost"] for b in cases], currency, missing=ABSENT)
    benefit = tf.money_column([b["benefit_mid"] or None for b in cases], currency,
                              missing=ABSENT)
    rows = []
    for i, b in enumerate(cases):
        span = ABSENT if not b["benefit_mid"] else _range(b["benefit_low"], b["benefit_high"],
                                                          currency)
        at_least = "\u2265" if b["kpi_higher_is_better"] else "\u2264"
        now, target = kpi_texts(b["kpi_current"], b["kpi_target"], b["kpi_kind"], currency)
        kpi = ABSENT if b["kpi_current"] is None else (
            f"{now} \u2192 {at_least} {target} {b['kpi_label']}")
        rows.append(
            f'<tr><td class="num">{b["number"]}</td><td>{html.escape(b["short"])}</td>'
            f'<td class="num">{html.escape(cost[i])}</td>'
            f'<td class="num">{fte_text(b["fte"], ABSENT)}</td>'
            f'<td class="num">{html.escape(benefit[i])}</td>'
            f"<td>{html.escape(span)}</td>"
            f'<td>{html.escape(payback_text(b["payback_months"]))}</td>'
            f"<td>{html.escape(kpi)}</td></tr>")
    note = ("Cost: the touches each action adds (executive.effort) in the touch model's hours, "
            "over a CSM's hours a year (FTE), x a CSM's loaded cost. Benefit: the action's "
            "lever of the opportunity walk. Payback: cost / monthly benefit. A dash: not "
            "costed (a process change) or no lever sized. The next report checks each KPI.")
    return (f'<table class="data business-cases" data-long="1"><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table>'
            f'<p class="exhibit-notes">{html.escape(note)}</p>')


def verdict_text(row: Mapping[str, Any]) -> str:
    """"−6.5 pts, worse", or a dash when the row is not compared."""
    return f"{tf.points(row['gap'], 1)}, {row['verdict']}" if row["verdict"] else ABSENT


def benchmarks_html(peers: Mapping[str, Any]) -> str:
    """The client's GRR, NRR and logo churn beside the peer figures, the source under it."""
    if not peers.get("rows"):
        return note_html("No peer benchmarks: " + str(peers.get("reason") or "none") + ".")
    band = peers.get("band")
    head = (f"<tr><th>Metric</th><th>Client</th><th>Peers ({html.escape(peers['statistic'])}"
            f", {html.escape(band or 'no band')})</th><th>Client vs peers</th></tr>")
    rows = "".join(
        f"<tr><td>{html.escape(r['label'])}</td>"
        f'<td class="num">{tf.pct(r["client"], 1, missing=ABSENT)}</td>'
        f'<td class="num">{tf.pct(r["peer"], 0, missing="not published")}</td>'
        f"<td>{html.escape(verdict_text(r))}</td></tr>" for r in peers["rows"])
    source = (f"Source: {peers['source']}, {peers['year']}; n = {peers['sample_size']:,} "
              f"companies; the band of the client's ARR per account. Sample and where the "
              "figures were read: appendix.")
    return (f'<table class="data benchmarks"><thead>{head}</thead><tbody>{rows}</tbody>'
            f'</table><p class="exhibit-notes">{html.escape(source)}</p>')


# --------------------------------------------------------------------------- cells


def _markdown(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text)


def _html(markup: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": markup})]
    return cell


def front_cells(record: Mapping[str, Any], currency: str, n: int | None
                ) -> list[nbformat.NotebookNode]:
    """The "so what" page: messages, prize, decisions and the walk (one page)."""
    return [_markdown("# So what"), _html(so_what_html(record, currency)),
            _markdown("### Decisions asked"), _html(decisions_html(record)),
            _html(walk_html(record, currency, n))]


def business_case_cells(record: Mapping[str, Any], currency: str
                        ) -> list[nbformat.NotebookNode]:
    """The business cases, placed under the summary's recommendations (none without)."""
    if not record["business_cases"]:
        return []
    return [_markdown("### Business cases"),
            _html(business_cases_html(record["business_cases"], currency))]


def benchmark_cells(record: Mapping[str, Any]) -> list[nbformat.NotebookNode]:
    """The peer benchmarks (none without a benchmark set)."""
    if not record["benchmarks"].get("rows"):
        return []
    return [_markdown("### Peer benchmarks"), _html(benchmarks_html(record["benchmarks"]))]


def back_cells(record: Mapping[str, Any]) -> list[nbformat.NotebookNode]:
    """The walk's assumptions and the benchmark source, for the appendix."""
    items = "".join(f"<li>{html.escape(t)}</li>" for t in assumptions_text(record))
    cells = [_markdown("### Assumptions of the opportunity walk"),
             _html(f'<ul class="assumptions">{items}</ul>')]
    peers = record["benchmarks"]
    if peers.get("rows"):
        text = (f"{peers['source']} ({peers['year']}): {peers['sample']}; the "
                f"{peers['statistic']} of each band of annual contract value. "
                f"{peers['note']} Quote: {peers['quote']} Read from: "
                f"{', '.join(peers['urls'])}.")
        cells += [_markdown("### Peer benchmark source"),
                  _html(f'<p class="exhibit-notes">{html.escape(text)}</p>')]
    return cells


def kpi_checks_html(checks: Sequence[Mapping[str, Any]], since: str, currency: str) -> str:
    """The KPI targets the previous report (``since``) set, against this period's figures,
    one short line each."""
    if not checks:
        return ""
    marks = {"met": ("better", "\u2714"), "not met": ("worse", "\u2718"),
             "not measured": ("unchanged", "\u2013")}
    rows = []
    for c in checks:
        cls, mark = marks[c["verdict"]]
        label = c["label"][0].upper() + c["label"][1:]
        now, target = kpi_texts(c["now"], c["target"], c["kind"], currency)
        rows.append(f'<li class="{cls}"><span class="arrow">{mark}</span> '
                    f"{html.escape(label)} {html.escape(now)}, target "
                    f"{html.escape(target)}: {c['verdict']}</li>")
    return (f'<div class="comparison kpi-checks"><p class="comparison-title">Targets set in '
            f'{html.escape(since)}</p><ul>{"".join(rows)}</ul></div>')


def executive_notebooks(summary: nbformat.NotebookNode, record: Mapping[str, Any],
                        results: Mapping[str, Any] | ReportResults
                        ) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """The front notebook (the "so what" page closed by last period's KPI checks, then the
    executive summary with the business cases before its roadmap and the peer benchmarks
    after it) and the back notebook (the walk's assumptions, closing the appendix)."""
    facts = facts_from_results(results)
    currency, n = facts.currency, None if facts.accounts is None else int(facts.accounts)
    cells = list(summary.cells)
    roadmap = next((i for i, c in enumerate(cells)
                    if c.cell_type == "markdown" and c.source.startswith("## Roadmap")),
                   len(cells))
    checks = ([_html(kpi_checks_html(record["kpi_checks"],
                                     record.get("kpi_checks_since") or "the last report",
                                     currency))]
              if record.get("kpi_checks") else [])
    front = nbformat.v4.new_notebook()
    front.cells = (front_cells(record, currency, n) + checks + cells[:roadmap]
                   + business_case_cells(record, currency) + cells[roadmap:]
                   + benchmark_cells(record))
    back = nbformat.v4.new_notebook()
    back.cells = back_cells(record)
    return front, back
