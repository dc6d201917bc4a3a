"""The run's headline facts, read from its results in one place.

Everything the executive summary, the recommendations and the period comparison quote is
read here, through the declared results models (:mod:`playbook.results`), so they cannot
disagree with the exhibits: each value is the one a notebook recorded with ``nb.record``.
A missing value is ``None`` (the section was switched off or lacked data), never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from playbook.results import ReportResults


def figure(value: Any) -> float | None:
    """``value`` as a float (a count too, as the summary quotes it), or None when it is
    missing, not a number, or NaN."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out


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

    @property
    def csm_gap(self) -> float | None:
        if self.csm_required is None or self.csm_current is None:
            return None
        return self.csm_required - self.csm_current


def facts_from_results(results: Mapping[str, Any] | ReportResults) -> Facts:
    """Read the headline facts from a run's results (results.json's content, or its typed
    view). Where each comes from is written out here; docs/results.md lists the keys."""
    report = ReportResults.from_json(results)
    meta = report.meta
    revenue = report.revenue.findings
    book = report.drivers.findings.open_book
    segments = report.segments.findings
    capacity = report.capacity.findings
    single = segments.flags_summary.get("flag_single_threaded")
    contradictions = report.data_quality.findings.contradictions
    return Facts(
        currency=meta.currency or "USD",
        client_name=meta.client_name or "",
        period_label=meta.period_label or "",
        as_of=meta.as_of or "",
        mrr=figure(revenue.period.end_mrr),
        start_mrr=figure(revenue.period.start_mrr),
        accounts=figure(revenue.period.end_logos),
        grr=figure(revenue.trailing_grr_nrr.grr),
        nrr=figure(revenue.trailing_grr_nrr.nrr),
        net_mrr_churn=figure(revenue.period.net_mrr_churn),
        logo_churn=figure(revenue.trailing.logo_churn_annualised),
        unknown_reason_share=figure(revenue.uninformative_reasons.share_events),
        unknown_reason_mrr=figure(revenue.uninformative_reasons.uninformative_lost_mrr),
        surprises=figure(revenue.surprise_non_renewals.surprises),
        surprise_mrr=figure(revenue.surprise_non_renewals.lost_mrr),
        renewals_due=figure(book.renewals_due),
        at_risk_accounts=figure(book.accounts_at_risk),
        mrr_at_risk=figure(book.mrr_at_risk),
        driver_auc=figure(report.drivers.findings.quality.auc),
        single_threaded=figure(single.accounts) if single else None,
        single_threaded_mrr=figure(single.mrr) if single else None,
        health_auc=figure(segments.backtest.auc),
        csm_required=figure(capacity.headcount_total.fte_by_effort),
        csm_current=figure(capacity.current_owners),
        contradictions=None if contradictions is None else float(len(contradictions)),
    )
