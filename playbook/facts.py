"""The run's headline facts, read from its results (``results.json``) in one place.

Everything the executive summary, the recommendations and the period comparison quote is
read here by a documented path, so they cannot disagree with the exhibits: each value is
the one a notebook recorded with ``nb.record``. A missing value is ``None`` (the section
was switched off or lacked data), never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


def lookup(results: Mapping[str, Any], path: str) -> Any:
    """Value at a dotted path (``"01-revenue.findings.period.end_mrr"``), or None."""
    node: Any = results
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, Sequence) and not isinstance(node, str) and part.isdigit() \
                and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _number(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out  # NaN -> None


def _row(rows: Any, key: str, value: str) -> Mapping[str, Any] | None:
    if not isinstance(rows, Sequence):
        return None
    for row in rows:
        if isinstance(row, Mapping) and str(row.get(key)) == value:
            return row
    return None


@dataclass
class Facts:
    """Headline facts of one run. Money in the client's currency per month (MRR) unless
    the name says ARR; shares 0-1; None when the run did not produce the figure."""

    currency: str = "USD"
    client_name: str = ""
    period_label: str = ""
    as_of: str = ""
    mrr: float | None = None                 # MRR at the end of the period
    start_mrr: float | None = None           # MRR at the start of the period
    accounts: float | None = None            # paying accounts at the end of the period
    grr: float | None = None                 # trailing-12-month gross revenue retention
    nrr: float | None = None                 # trailing-12-month net revenue retention
    net_mrr_churn: float | None = None       # of the period (quarter), share of start MRR
    logo_churn: float | None = None          # trailing 12 months, annualised
    unknown_reason_share: float | None = None
    unknown_reason_mrr: float | None = None
    surprises: float | None = None           # non-renewals that looked healthy
    surprise_mrr: float | None = None
    renewals_due: float | None = None        # renewals due in the horizon (scored)
    at_risk_accounts: float | None = None    # expected non-renewals among them
    mrr_at_risk: float | None = None
    single_threaded: float | None = None
    single_threaded_mrr: float | None = None
    csm_required: float | None = None        # FTE by effort
    csm_current: float | None = None         # owners today
    health_auc: float | None = None          # backtest of the health score
    driver_auc: float | None = None          # cross-validated AUC of the renewal model
    contradictions: float | None = None      # data contradictions found (problems)
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def csm_gap(self) -> float | None:
        if self.csm_required is None or self.csm_current is None:
            return None
        return self.csm_required - self.csm_current


#: fact name -> path in results.json (first one found wins). One readable map of where each
#: headline figure comes from; docs/results.md documents the paths.
PATHS: dict[str, tuple[str, ...]] = {
    "mrr": ("01-revenue.findings.period.end_mrr",),
    "start_mrr": ("01-revenue.findings.period.start_mrr",),
    "accounts": ("01-revenue.findings.period.end_logos",),
    "grr": ("01-revenue.findings.trailing_grr_nrr.grr",),
    "nrr": ("01-revenue.findings.trailing_grr_nrr.nrr",),
    "net_mrr_churn": ("01-revenue.findings.period.net_mrr_churn",),
    "logo_churn": ("01-revenue.findings.trailing.logo_churn_annualised",),
    "unknown_reason_share": ("01-revenue.findings.uninformative_reasons.share_events",),
    "unknown_reason_mrr": ("01-revenue.findings.uninformative_reasons.uninformative_lost_mrr",),
    "surprises": ("01-revenue.findings.surprise_non_renewals.surprises",),
    "surprise_mrr": ("01-revenue.findings.surprise_non_renewals.lost_mrr",),
    "renewals_due": ("02-renewal-drivers.findings.open_book.renewals_due",
                     "02-renewal-drivers.findings.at_risk.scored"),
    "at_risk_accounts": ("02-renewal-drivers.findings.open_book.accounts_at_risk",
                         "02-renewal-drivers.findings.at_risk.expected_non_renewals"),
    "mrr_at_risk": ("02-renewal-drivers.findings.open_book.mrr_at_risk",
                    "02-renewal-drivers.findings.at_risk.mrr_at_risk"),
    "driver_auc": ("02-renewal-drivers.findings.quality.auc",),
    "single_threaded": ("03-segments-health.findings.flags_summary.flag_single_threaded.accounts",
                        "03-segments-health.findings.relationship_flags.flag_single_threaded"),
    "single_threaded_mrr": ("03-segments-health.findings.flags_summary.flag_single_threaded.mrr",),
    "health_auc": ("03-segments-health.findings.backtest.auc",),
    "csm_required": ("04-capacity.findings.headcount_total.fte_by_effort",),
    "csm_current": ("04-capacity.findings.current_owners",),
}


def facts_from_results(results: Mapping[str, Any]) -> Facts:
    """Read the headline facts from a run's results."""
    meta = results.get("meta", {}) if isinstance(results, Mapping) else {}
    out = Facts(currency=str(meta.get("currency") or "USD"),
                client_name=str(meta.get("client_name") or ""),
                period_label=str(meta.get("period_label") or ""),
                as_of=str(meta.get("as_of") or ""))
    for name, candidates in PATHS.items():
        for path in candidates:
            value = _number(lookup(results, path))
            if value is not None:
                setattr(out, name, value)
                break
    found = lookup(results, "90-data-quality.findings.contradictions")
    if isinstance(found, Sequence) and not isinstance(found, str):
        out.contradictions = float(len(found))
    if out.csm_required is None:
        total = _row(lookup(results, "04-capacity.findings.headcount"), "tier", "total")
        if total is not None:
            out.csm_required = _number(total.get("fte_by_effort"))
    return out
