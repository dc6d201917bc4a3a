"""Period comparison: how the key figures moved since the client's previous report.

The previous report is the latest ``reports/<client>/<period>/results.json`` whose as-of
date is before this run's. Changes are stated with an arrow and in words ("surprise
non-renewals fell from 14 to 9"); "better" and "worse" depend on the figure's direction.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from playbook import paths
from playbook import textfmt as tf
from playbook.facts import Facts, facts_from_results, figure
from playbook.results import ReportResults

#: fact, label, kind (pct | count | money), True if higher is better
COMPARED = [
    ("grr", "gross revenue retention", "pct", True),
    ("nrr", "net revenue retention", "pct", True),
    ("logo_churn", "logo churn", "pct", False),
    ("at_risk_accounts", "renewals at risk", "count", False),
    ("mrr_at_risk", "MRR at risk", "money", False),
    ("surprises", "surprise non-renewals", "count", False),
    ("unknown_reason_share", "churn without a usable reason", "pct", False),
]


@dataclass
class Change:
    label: str
    before: float
    after: float
    text: str      # "fell from 14 to 9"
    arrow: str     # ▲ ▼ or ▶ (unchanged)
    verdict: str   # better | worse | unchanged


def previous_results(client: str, as_of: str) -> dict[str, Any] | None:
    """The latest earlier report's results for the client, or None."""
    folder = paths.reports_dir() / client
    best: tuple[str, dict[str, Any]] | None = None
    for file in folder.glob("*/results.json"):
        try:
            results = json.loads(file.read_text(encoding="utf-8"))
            other = ReportResults.from_json(results).meta.as_of or ""
        except (OSError, json.JSONDecodeError, ValidationError):
            continue
        if other and other < as_of and (best is None or other > best[0]):
            best = (other, results)
    return best[1] if best else None


def _fmt(value: float, kind: str, currency: str) -> str:
    if kind == "pct":
        return tf.pct(value, 1)
    if kind == "money":
        return tf.money(value, currency)
    return tf.count(value)


def changes(before: Facts, after: Facts) -> list[Change]:
    """Changes of the compared figures present in both runs."""
    out = []
    for name, label, kind, higher_better in COMPARED:
        a, b = getattr(before, name), getattr(after, name)
        if a is None or b is None:
            continue
        shown_a, shown_b = _fmt(a, kind, after.currency), _fmt(b, kind, after.currency)
        if shown_a == shown_b:
            out.append(Change(label, a, b, f"held at {shown_b}", "▶", "unchanged"))
            continue
        rose = b > a
        verb = "rose" if rose else "fell"
        verdict = "better" if rose == higher_better else "worse"
        out.append(Change(label, a, b, f"{verb} from {shown_a} to {shown_b}",
                          "▲" if rose else "▼", verdict))
    return out


def comparison_html(items: list[Change], previous_label: str) -> str:
    if not items:
        return ""
    rows = "".join(
        f'<li class="{c.verdict}"><span class="arrow">{c.arrow}</span> '
        f"{html.escape(c.label[0].upper() + c.label[1:])} {html.escape(c.text)}</li>"
        for c in items)
    return (f'<div class="comparison"><p class="comparison-title">Since '
            f"{html.escape(previous_label)}</p><ul>{rows}</ul></div>")


def previous_facts(previous: Mapping[str, Any] | ReportResults) -> Facts:
    """The headline facts of an earlier report, whichever version of the playbook wrote it.

    The one place an older results.json is read differently from the run's own: a report
    written by the first notebooks (before commit 4959d18, 23 Nov 2026) has no
    ``02-renewal-drivers.findings.open_book``; its renewals at risk are read from the
    ``at_risk.expected_non_renewals`` it recorded then. That is an expected count (the sum of
    the probabilities of not renewing), not today's count of renewals below
    ``drivers.at_risk_probability``; the comparison has always read it so. A value that does
    not fit today's models reads as absent (:class:`playbook.results.Findings`)."""
    report = ReportResults.from_json(previous)
    facts = facts_from_results(report)
    if facts.at_risk_accounts is not None:
        return facts
    first = (report.drivers.findings.model_extra or {}).get("at_risk")
    expected = first.get("expected_non_renewals") if isinstance(first, Mapping) else None
    return dataclasses.replace(facts, at_risk_accounts=figure(expected))


def compare(results: Mapping[str, Any] | ReportResults,
            previous: Mapping[str, Any] | ReportResults | None) -> tuple[list[Change], str]:
    """Changes since ``previous`` and the previous period's label ("" when none)."""
    if not previous:
        return [], ""
    before = previous_facts(previous)
    label = before.period_label or "the previous report"
    return changes(before, facts_from_results(results)), label


@dataclass
class KpiCheck:
    """A KPI the previous report set for this period, checked on this run's facts."""

    number: int              # the recommendation's number in the previous report
    short: str               # its action, in a few words
    label: str               # the KPI
    kind: str                # pct | count | money | number | fte
    before: float | None     # its value in the previous report
    target: float            # the target set then
    now: float | None        # this run's value (None: not measured this period)
    verdict: str             # met | not met | not measured


def kpi_checks(results: Mapping[str, Any] | ReportResults,
               previous: Mapping[str, Any] | ReportResults | None) -> list[KpiCheck]:
    """Each KPI target the previous report's business cases set
    (``executive.business_cases``: ``kpi_fact``, ``kpi_target``, ``kpi_higher_is_better``),
    checked on this run's facts: met when the figure reached its target (at or above it
    for a figure where higher is better, at or below it otherwise)."""
    if not previous:
        return []
    before = ReportResults.from_json(previous)
    cases = (before.executive or {}).get("business_cases") or []
    facts = facts_from_results(results)
    out = []
    for case in cases:
        fact, target = case.get("kpi_fact"), figure(case.get("kpi_target"))
        if not fact or target is None or not hasattr(facts, fact):
            continue
        now = figure(getattr(facts, fact))
        higher = bool(case.get("kpi_higher_is_better"))
        verdict = ("not measured" if now is None else
                   "met" if (now >= target if higher else now <= target) else "not met")
        out.append(KpiCheck(int(case.get("number") or 0), str(case.get("short") or ""),
                            str(case.get("kpi_label") or fact), str(case.get("kpi_kind") or ""),
                            figure(case.get("kpi_current")), target, now, verdict))
    return out
