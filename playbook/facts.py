"""The run's headline facts, read from its results in one place.

Everything the executive summary, the recommendations and the period comparison quote is
read here, through the declared results models (:mod:`playbook.results`), so they cannot
disagree with the exhibits: each value is the one a notebook recorded with ``nb.record``.
A missing value is ``None`` (the section was switched off or lacked data), never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from playbook.results import ReportResults


def _outcome_gap(coverage: list[dict[str, Any]]) -> dict[str, Any]:
    """The top value tier's accounts without agreed success outcomes (the first tier row of
    ``outcome_coverage``, as its sentence says); empty without outcomes."""
    tiers = [r for r in coverage if r.get("value_tier") != "total"]
    if not tiers:
        return {}
    top = tiers[0]
    return {"outcome_gap_tier": str(top.get("value_tier") or ""),
            "outcome_gap_share": figure(top.get("without", 0) / top["accounts"])
            if figure(top.get("accounts")) else None,
            "outcome_gap_accounts": figure(top.get("without"))}


def figure(value: Any) -> float | None:
    """``value`` as a float (a count too, as the summary quotes it), or None when it is
    missing, not a number, or NaN."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if out != out else out


def _auc_of(cross_validated: Mapping[str, Any] | None, key: str) -> float | None:
    """The AUC of ``key`` ("auc_current" / "auc_proposed") in the health score's
    cross-validated re-weighting record, or None."""
    entry = (cross_validated or {}).get(key)
    return figure(entry.get("auc")) if isinstance(entry, Mapping) else None


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
    window_label: str = ""                   # the headline rates' window: "trailing 12 months"
    grr: float | None = None                 # gross revenue retention over the window
    nrr: float | None = None                 # net revenue retention over the window
    net_mrr_churn: float | None = None       # of the period (quarter), share of start MRR
    logo_churn: float | None = None          # share of the base's accounts lost, the window
    churned_accounts: float | None = None    # base accounts no longer paying (not events)
    base_accounts: float | None = None       # accounts paying at the window's start
    withheld: dict[str, dict[str, str]] = field(default_factory=dict)
    """Headline figures not printed (``mrr``, ``grr``, ``nrr``, ``logo_churn``): reason, fix."""
    unknown_reason_share: float | None = None
    unknown_reason_mrr: float | None = None
    surprises: float | None = None           # non-renewals that looked healthy
    surprise_mrr: float | None = None
    renewals_due: float | None = None        # renewals due in the horizon (scored)
    at_risk_accounts: float | None = None    # expected non-renewals among them
    mrr_at_risk: float | None = None
    at_risk_expected_loss: float | None = None  # MRR x P(not renew) over the renewals at risk
    mrr_due: float | None = None             # MRR of all renewals due in the horizon
    expected_mrr_loss: float | None = None   # MRR x P(not renew) over all renewals due
    model_ranks: bool | None = None          # the renewal model ranks better than chance
    single_threaded: float | None = None
    single_threaded_mrr: float | None = None
    single_threaded_expected_loss: float | None = None  # their MRR x observed churn rate
    csm_required: float | None = None        # FTE by effort
    csm_current: float | None = None         # owners today
    health_auc: float | None = None          # backtest of the health score
    health_auc_cv: float | None = None       # current weights, on the held-out decisions
    health_auc_reweighted: float | None = None  # regression weights, same decisions
    driver_auc: float | None = None          # cross-validated AUC of the renewal model
    contradictions: float | None = None      # data contradictions found (problems)
    open_triggers: float | None = None       # accounts: a recent trigger, no touch since
    open_trigger_mrr: float | None = None    # their MRR
    open_trigger_days: float | None = None   # "recent": within this many days
    outcome_gap_tier: str = ""               # the top value tier (first in the coverage)
    outcome_gap_share: float | None = None   # of its active accounts, share with no outcome
    outcome_gap_accounts: float | None = None  # how many those are

    @property
    def csm_gap(self) -> float | None:
        """Required minus current CSMs (FTE): positive a shortfall, negative spare capacity."""
        if self.csm_required is None or self.csm_current is None:
            return None
        return self.csm_required - self.csm_current

    @property
    def spare_csm_capacity(self) -> float | None:
        """Current minus required CSMs (FTE): the KPI of redeploying spare capacity, named
        for its direction (negative when the team is short)."""
        gap = self.csm_gap
        return None if gap is None else -gap


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
    head = revenue.headline_metrics
    withheld = {k: {"reason": w.reason, "fix": w.fix} for k, w in head.withheld.items()}

    def shown(key: str, value: Any) -> float | None:
        """A headline figure, or None when it is withheld (broken invariant or
        contradicted input)."""
        return None if key in withheld else figure(value)

    facts = Facts(
        currency=meta.currency or "USD",
        client_name=meta.client_name or "",
        period_label=meta.period_label or "",
        as_of=meta.as_of or "",
        mrr=shown("mrr", revenue.period.end_mrr),
        start_mrr=shown("mrr", revenue.period.start_mrr),
        accounts=shown("mrr", revenue.period.end_logos),
        window_label=head.label or "",
        grr=shown("grr", head.grr),
        nrr=shown("nrr", head.nrr),
        net_mrr_churn=shown("mrr", revenue.period.net_mrr_churn),
        logo_churn=shown("logo_churn", head.logo_churn),
        churned_accounts=shown("logo_churn", head.churned_accounts),
        base_accounts=shown("logo_churn", head.base_accounts),
        withheld=withheld,
        unknown_reason_share=figure(revenue.uninformative_reasons.share_events),
        unknown_reason_mrr=figure(revenue.uninformative_reasons.uninformative_lost_mrr),
        surprises=figure(revenue.surprise_non_renewals.accounts
                         if revenue.surprise_non_renewals.accounts is not None
                         else revenue.surprise_non_renewals.surprises),
        surprise_mrr=figure(revenue.surprise_non_renewals.lost_mrr),
        renewals_due=figure(book.renewals_due),
        at_risk_accounts=figure(book.accounts_at_risk),
        mrr_at_risk=figure(book.mrr_at_risk),
        at_risk_expected_loss=figure(book.expected_loss_at_risk),
        mrr_due=figure(book.mrr_due),
        expected_mrr_loss=figure(book.expected_mrr_loss),
        model_ranks=book.model_ranks,
        driver_auc=figure(report.drivers.findings.quality.auc),
        single_threaded=figure(single.accounts) if single else None,
        single_threaded_mrr=figure(single.mrr) if single else None,
        single_threaded_expected_loss=figure(single.expected_loss) if single else None,
        health_auc=figure(segments.backtest.auc),
        health_auc_cv=_auc_of(segments.proposed_weights.cross_validated, "auc_current"),
        health_auc_reweighted=_auc_of(segments.proposed_weights.cross_validated,
                                      "auc_proposed"),
        csm_required=figure(capacity.headcount_total.fte_by_effort),
        csm_current=figure(capacity.current_owners),
        contradictions=None if contradictions is None else float(len(contradictions)),
        open_triggers=figure(report.outcomes.findings.open_summary.accounts),
        open_trigger_mrr=figure(report.outcomes.findings.open_summary.mrr),
        open_trigger_days=figure(report.outcomes.findings.open_summary.days),
        **_outcome_gap(report.outcomes.findings.outcome_coverage),
    )
    return withhold_contradicted(facts, report.data_quality.findings.quality.notes)


#: The tables each summary fact rests on (beyond the headline rates, which
#: :func:`playbook.metrics.withheld_figures` judges): a contradiction the data-quality log
#: records about one of them keeps the fact out of the summary.
FACT_TABLES: dict[str, tuple[str, ...]] = {
    "unknown_reason_share": ("churn_events",),
    "unknown_reason_mrr": ("churn_events",),
    "surprises": ("churn_events", "renewals"),
    "surprise_mrr": ("churn_events", "renewals"),
    "renewals_due": ("renewals",),
    "at_risk_accounts": ("renewals",),
    "mrr_at_risk": ("renewals", "mrr"),
    "at_risk_expected_loss": ("renewals", "mrr"),
    "single_threaded": ("contacts",),
    "single_threaded_mrr": ("contacts", "mrr"),
    "single_threaded_expected_loss": ("contacts", "mrr"),
}

#: The facts :func:`withhold_contradicted` names in the summary, in its words.
FACT_NAMES = {"unknown_reason_share": "the share of churn without a reason",
              "surprises": "the surprise non-renewals",
              "at_risk_accounts": "the renewals at risk",
              "single_threaded": "the single-threaded accounts"}


def withhold_contradicted(facts: Facts, notes: list[dict[str, Any]]) -> Facts:
    """``facts`` with every fact of :data:`FACT_TABLES` that rests on a contradicted table
    set to None and named in ``withheld`` (reason: the contradiction's short form), so the
    summary quotes no figure its own data-quality appendix contradicts. ``notes``: the
    data-quality log's notes (``results["90-data-quality"].findings.quality.notes``)."""
    problems = [n for n in notes if n.get("severity") == "problem"]
    for key, tables in FACT_TABLES.items():
        if getattr(facts, key) is None:
            continue
        hit = next((n for n in problems if set(tables) & set(n.get("tables") or [])), None)
        if hit is None:
            continue
        setattr(facts, key, None)
        if key in FACT_NAMES:
            said = str(hit.get("caveat") or hit.get("message") or "").rstrip(".")
            facts.withheld.setdefault(key, {
                "reason": f"the export contradicts itself: {said}",
                "fix": "Ask the client for an export that resolves it (see the "
                       "data-quality appendix)."})
    return facts
