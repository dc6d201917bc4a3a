"""The executive summary and recommendations, generated from the run's results by rules.

Answer first (report.md): a situation-complication-answer paragraph, the key figures, then
4-6 headline bullets that are, word for word and in order, the action titles of the
exhibits marked ``headline`` in the notebooks. No number is written by hand: each comes
from :mod:`playbook.facts`, which reads the run's results through their declared models
(:mod:`playbook.results`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from playbook import metrics
from playbook import textfmt as tf
from playbook.comparison import compare, comparison_html
from playbook.exhibits import note_html
from playbook.facts import FACT_NAMES, Facts, facts_from_results
from playbook.recommendations import (
    Limits,
    Recommendation,
    exhibit_index,
    model_ranks,
    not_advised,
    recommendations,
    recommendations_html,
)
from playbook.results import ReportResults

MAX_HEADLINES = 6


@dataclass
class Headline:
    number: int   # exhibit number in the whole report
    title: str
    notebook: str
    id: str = ""  # the exhibit's stable id (playbook.exhibits)


def headlines(results: Mapping[str, Any] | ReportResults, order: Sequence[str]
              ) -> list[Headline]:
    """Titles of the exhibits flagged ``headline``, in report order, with their report-wide
    numbers (notebooks are numbered in ``order``; the summary itself has no exhibits).

    At most :data:`MAX_HEADLINES`; an appendix's headline (a notebook whose name starts
    with 9, e.g. a data-quality warning) always keeps its place, the others fill the rest
    in order.

    The consultant's notes may pin bullets (``results["notes"]["headlines"]``, exhibit ids,
    :mod:`playbook.notes_apply`): those come first, in the notes' order, then the other
    headlines as above in the room left."""
    report = ReportResults.from_json(results)
    pinned = list(((report.model_extra or {}).get("notes") or {}).get("headlines") or [])
    out: list[Headline] = []
    offset = 0
    for stem in order:
        exhibits = report.exhibits(stem)
        out += [Headline(offset + ex.number, ex.title, stem, ex.id) for ex in exhibits
                if ex.headline or ex.id in pinned]
        offset += len(exhibits)
    first = sorted((h for h in out if h.id in pinned), key=lambda h: pinned.index(h.id))
    out = [h for h in out if h not in first]
    reserved = [h for h in out if Path(h.notebook).name.startswith("9")]
    room = MAX_HEADLINES - len(first[:MAX_HEADLINES]) - len(reserved[:MAX_HEADLINES])
    kept = [h for h in out if h not in reserved][:max(room, 0)] + reserved[:MAX_HEADLINES]
    return (first + sorted(kept, key=lambda h: h.number))[:MAX_HEADLINES]


@dataclass
class KeyFigure:
    label: str
    value: str
    note: str


def key_figures(f: Facts) -> list[KeyFigure]:
    """The key figures block: only figures the run produced."""
    c = f.currency
    window = f.window_label or "trailing window"
    churned = ("" if f.churned_accounts is None or f.base_accounts is None else
               f"{tf.count(f.churned_accounts)} of {tf.count(f.base_accounts)} accounts, ")
    rows = [
        ("MRR", tf.money(f.mrr, c), f"at {tf.date(f.as_of)}" if f.as_of else ""),
        ("Gross revenue retention", tf.pct(f.grr, 1), window),
        ("Net revenue retention", tf.pct(f.nrr, 1), window),
        ("Logo churn", tf.pct(f.logo_churn, 1), f"{churned}{window}"),
        # only when the model ranks better than chance (recommendations.model_ranks)
        ("Renewals at risk", tf.count(f.at_risk_accounts if model_ranks(f) else None),
         f"of {tf.count(f.renewals_due)} due in the next 90 days"),
        ("MRR at risk", tf.money(f.mrr_at_risk if model_ranks(f) else None, c),
         "held by the renewals at risk"),
        ("Churn without a reason", tf.pct(f.unknown_reason_share, 0), "blank or uninformative"),
        csm_capacity(f.csm_gap),
    ]
    return [KeyFigure(label, value, note) for label, value, note in rows if value != "n/a"]


def csm_capacity(gap: float | None) -> tuple[str, str, str]:
    """The CSM key figure as (label, value, note), named for the way the gap points.

    ``gap`` is required minus current CSMs (FTE). A signed "CSM gap" of −4.2 FTE read as a
    shortage to executives; the label now says shortfall or spare capacity and the value is
    unsigned. A gap that rounds to 0.0 is "balanced". ``None`` gives the value "n/a" (the
    figure is left out).
    """
    if tf.is_missing(gap):
        return ("CSM gap", "n/a", "")
    shown = tf.number(abs(gap), 1)
    if shown == tf.number(0.0, 1):
        return ("CSM capacity", "balanced", "required CSMs equal the current team")
    if gap > 0:
        return ("CSM shortfall", f"{shown} FTE", "more CSMs required than staffed")
    return ("Spare CSM capacity", f"{shown} FTE", "fewer CSMs required than staffed")


def situation(f: Facts) -> str:
    """The situation: MRR, accounts and the headline retention, only as far as they stand
    (withheld MRR is said so; an MRR the run did not compute is not mentioned)."""
    c, who = f.currency, f.client_name or "The client"
    when = f" at {tf.date(f.as_of)}" if f.as_of else ""
    if f.mrr is not None:
        text = (f"{who} billed {tf.money(f.mrr, c)} of MRR"
                + (f" across {tf.count(f.accounts)} accounts" if f.accounts is not None
                   else "") + when + ".")
    elif "mrr" in f.withheld:
        text = f"{who}'s MRR cannot be stated from this export."
    else:
        text = f"This assessment of {who} is as of {tf.date(f.as_of)}." if f.as_of else ""
    if f.grr is not None and f.nrr is not None:
        over = (f.window_label or "trailing window").replace("trailing", "last", 1)
        # one decimal, as the key figures print them: 99.9% must not read as 100%
        text += (f" Over the {over} its customers kept {tf.pct(f.grr, 1)} of their revenue "
                 f"before expansion and {tf.pct(f.nrr, 1)} after it.")
    return text


def withheld_text(f: Facts) -> str:
    """Which headline figures cannot be trusted, why, and what data would fix them (""
    when every figure stands): one clause per reason, the figures it withholds named."""
    groups = metrics.withheld_groups(f.withheld, {**metrics.HEADLINE_NAMES, **FACT_NAMES})
    if not groups:
        return ""
    clauses = [f"{tf.and_list(names)}, because {reason}" for reason, _, names in groups]
    fixes = list(dict.fromkeys(fix for _, fix, _ in groups if fix))
    return ("Not shown: " + "; ".join(clauses) + ". " + " ".join(fixes)).strip()


def complication(f: Facts) -> str:
    """The problems, most money first, as one sentence (rules: only figures that exist)."""
    parts: list[tuple[float, str]] = []
    c = f.currency
    money_stands = "mrr" not in f.withheld  # contradicted MRR: no amount is quoted
    if f.mrr_at_risk and model_ranks(f) and money_stands:
        loss = f.at_risk_expected_loss
        expected = ("" if loss is None else
                    f", {tf.money(loss, c)} of it expected to be lost")
        parts.append((loss if loss is not None else f.mrr_at_risk,
                      f"the renewals at high risk in the next 90 days hold "
                      f"{tf.money(f.mrr_at_risk, c)} of MRR{expected}"))
    if f.unknown_reason_share is not None and f.unknown_reason_share > 0:
        parts.append((f.unknown_reason_mrr or 0,
                      f"{tf.pct(f.unknown_reason_share, 0)} of churn has no usable reason"))
    if f.surprises:
        parts.append((f.surprise_mrr or 0, f"{tf.count(f.surprises)} customers left while "
                                           "their health looked green"))
    if f.single_threaded:
        parts.append((f.single_threaded_mrr or 0,
                      f"{tf.count(f.single_threaded)} accounts hang on too few executive "
                      "relationships"))
    caveat = ""
    if f.contradictions:
        caveat = (f" The export contradicts itself in "
                  f"{tf.plural(int(f.contradictions), 'way')} (see the data-quality "
                  "appendix): read the figures built on it with care.")
    if not parts and f.contradictions:
        ways = tf.plural(int(f.contradictions), "way")
        names = [n for group in metrics.withheld_groups(
            f.withheld, {**metrics.HEADLINE_NAMES, **FACT_NAMES}) for n in group[2]]
        held = (f"{tf.and_list(names)} cannot be stated until the client resolves "
                f"{'it' if int(f.contradictions) == 1 else 'them'}"
                if names else "read the figures built on it with care")
        return (f"But the export contradicts itself in {ways} (see the data-quality "
                f"appendix): {held}.")
    if not parts:
        return "No single problem dominates the data."
    parts.sort(key=lambda p: -p[0])
    texts = [p[1] for p in parts[:3]]
    joined = tf.and_list(texts)
    return "But " + joined + "." + caveat


def answer(recs: Sequence[Recommendation]) -> str:
    """The answer of the summary paragraph: the first three recommendations, or that the
    data call for none."""
    if not recs:
        return "The data shows no action beyond keeping the current course."
    first = [r.short for r in recs[:3]]
    joined = tf.and_list(first)
    numbers = "recommendation 1" if len(first) == 1 else f"recommendations 1-{len(first)}"
    return f"The answer: {joined} ({numbers})."


def sca_paragraph(f: Facts, recs: Sequence[Recommendation]) -> str:
    return " ".join([situation(f), complication(f), answer(recs)])


def _markdown(text: str, tags: Sequence[str] = ()) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _html(markup: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": markup})]
    return cell


def key_figures_html(figures: Sequence[KeyFigure]) -> str:
    items = "".join(
        f'<div class="kf"><div class="kf-value">{html.escape(k.value)}</div>'
        f'<div class="kf-label">{html.escape(k.label)}</div>'
        f'<div class="kf-note">{html.escape(k.note)}</div></div>' for k in figures)
    return f'<div class="key-figures">{items}</div>'


def withheld_html(f: Facts) -> str:
    """The boxed note under the key figures naming the withheld ones ("" when none)."""
    text = withheld_text(f)
    return note_html(text) if text else ""


def headlines_html(items: Sequence[Headline]) -> str:
    rows = "".join(f'<li>{html.escape(h.title)} <span class="ref">(Exhibit {h.number})</span>'
                   "</li>" for h in items)
    return f'<ol class="headlines">{rows}</ol>'


def roadmap_html(recs: Sequence[Recommendation]) -> str:
    """The 30/60/90-day roadmap: a column per horizon that holds an action (an empty
    horizon is left out rather than shown as a dash)."""
    cols = [c for c in ("30 days", "60 days", "90 days") if any(r.timing == c for r in recs)]
    cells = []
    for col in cols:
        items = "".join(f"<li>{r.number}. {html.escape(r.action.split(':')[0])}</li>"
                        for r in recs if r.timing == col)
        cells.append(f"<td><ul>{items}</ul></td>")
    head = "".join(f"<th>{c}</th>" for c in cols)
    return (f'<table class="data roadmap"><thead><tr>{head}</tr></thead>'
            f'<tbody><tr>{"".join(cells)}</tr></tbody></table>')


def summary_notebook(results: Mapping[str, Any] | ReportResults, order: Sequence[str],
                     previous: Mapping[str, Any] | None = None, *, limits: Limits
                     ) -> nbformat.NotebookNode:
    """The executive summary and recommendations as a notebook placed before the sections.

    ``previous``: results of the client's previous report, for the period comparison;
    ``limits``: the run's parameters the recommendation rules compare with
    (:meth:`Limits.of`)."""
    report = ReportResults.from_json(results)
    f = facts_from_results(report)
    exhibits = exhibit_index(report, order)
    recs = recommendations(f, limits, exhibits)
    heads = headlines(report, order)
    moved, label = compare(report, previous)
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        _markdown("# Executive summary"),
        _html(f'<p class="sca">{html.escape(sca_paragraph(f, recs))}</p>'),
        _html(key_figures_html(key_figures(f)) + withheld_html(f)
              + comparison_html(moved, label)),
        _markdown("## What the data says"),
        _html(headlines_html(heads)),
        _markdown("## Recommendations"),
        _html(recommendations_html(recs, f.currency, not_advised(f, limits, exhibits))),
        _markdown("## Roadmap"),
        _html(roadmap_html(recs)),
    ]
    return nb


def summary_record(results: Mapping[str, Any] | ReportResults, order: Sequence[str],
                   previous: Mapping[str, Any] | None = None, *, limits: Limits
                   ) -> dict[str, Any]:
    """What the summary says, for results.json (so tests and dashboards can check it)."""
    report = ReportResults.from_json(results)
    f = facts_from_results(report)
    exhibits = exhibit_index(report, order)
    recs = recommendations(f, limits, exhibits)
    moved, label = compare(report, previous)
    return {
        "compared_with": label or None,
        "changes": [vars(c) for c in moved],
        "sca": sca_paragraph(f, recs),
        "key_figures": [vars(k) for k in key_figures(f)],
        "withheld_figures": withheld_text(f),
        "headlines": [vars(h) for h in headlines(report, order)],
        "recommendations": [vars(r) for r in recs],
        "not_advised": [vars(w) for w in not_advised(f, limits, exhibits)],
        "facts": dict(vars(f)),
    }
