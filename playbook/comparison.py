"""Period comparison: how the key figures moved since the client's previous report.

The previous report is the latest ``reports/<client>/<period>/results.json`` whose as-of
date is before this run's. Changes are stated with an arrow and in words ("surprise
non-renewals fell from 14 to 9"); "better" and "worse" depend on the figure's direction.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from playbook import paths
from playbook import textfmt as tf
from playbook.facts import Facts, facts_from_results

#: fact, label, kind (pct | count | money), True if higher is better
COMPARED = [
    ("grr", "gross revenue retention", "pct", True),
    ("nrr", "net revenue retention", "pct", True),
    ("logo_churn", "annual logo churn", "pct", False),
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
        except (OSError, json.JSONDecodeError):
            continue
        other = str(results.get("meta", {}).get("as_of") or "")
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


def compare(results: Mapping[str, Any], previous: Mapping[str, Any] | None
            ) -> tuple[list[Change], str]:
    """Changes since ``previous`` and the previous period's label ("" when none)."""
    if not previous:
        return [], ""
    label = str(previous.get("meta", {}).get("period_label") or "the previous report")
    return changes(facts_from_results(previous), facts_from_results(results)), label
