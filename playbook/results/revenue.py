"""What ``01-revenue`` records: retention, churn on renewals, churn reasons and cuts.

Money in the client's currency, MRR per month; shares 0-1; months and dates ISO.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from playbook.results.base import Findings, NotebookResults, Record, Table


class MrrBridge(Record):
    """Movements and retention over a window of months
    (:func:`playbook.analyses.revenue.retention_summary`). Every MRR rate divides by
    ``start_mrr``, so a 3-month window gives quarterly rates and 12 months annual ones."""

    start_month: str | None = None
    """First month of the window (ISO date of the month)."""
    end_month: str | None = None
    """Last month of the window."""
    months: int | None = None
    """Months in the window."""
    start_mrr: float | None = None
    """MRR at the start of the window (end of the month before it)."""
    end_mrr: float | None = None
    """MRR at the end of the window."""
    new: float | None = None
    """MRR of new accounts over the window."""
    expansion: float | None = None
    """MRR added by existing accounts."""
    reactivation: float | None = None
    """MRR of accounts that came back."""
    contraction: float | None = None
    """MRR lost by accounts that stayed."""
    churn: float | None = None
    """MRR of accounts that left."""
    lost_mrr: float | None = None
    """churn + contraction."""
    gross_mrr_churn: float | None = None
    """(churn + contraction) / start_mrr."""
    net_mrr_churn: float | None = None
    """(churn + contraction - expansion - reactivation) / start_mrr."""
    grr: float | None = None
    """Gross revenue retention: 1 - gross_mrr_churn."""
    nrr: float | None = None
    """Net revenue retention: 1 - net_mrr_churn."""
    quick_ratio: float | None = None
    """(new + expansion + reactivation) / (churn + contraction); None when nothing was
    lost."""
    logo_churn_monthly: float | None = None
    """Mean over the window's months of churned logos / logos at the month's start."""
    logo_churn_annualised: float | None = None
    """1 - (1 - logo_churn_monthly)^12."""
    start_logos: int | None = None
    """Paying accounts at the start of the window."""
    end_logos: int | None = None
    """Paying accounts at the end of the window."""
    new_logos: int | None = None
    """Accounts that started paying in the window."""
    reactivated_logos: int | None = None
    """Accounts that came back in the window."""
    churned_logos: int | None = None
    """Accounts that left in the window."""


class RenewalChurn(Record):
    """Churn on the renewals due in the period (:func:`playbook.analyses.revenue.renewal_churn`)."""

    source: str | None = None
    """Where the renewals come from: "renewals" (the table) or "accounts" (renewal dates)."""
    start: str | None = None
    """First day of the period."""
    end: str | None = None
    """Last day of the period (the as-of date)."""
    renewals: int | None = None
    """Renewals due in the period."""
    churned: int | None = None
    """Of them, not renewed."""
    downgraded: int | None = None
    """Of them, renewed for less."""
    arr_up: float | None = None
    """ARR up for renewal (a year's money)."""
    churned_arr: float | None = None
    """ARR of the renewals not renewed."""
    downgrade_arr: float | None = None
    """ARR lost by downgrades."""
    renewal_churn_rate: float | None = None
    """churned_arr / arr_up."""
    logo_renewal_churn_rate: float | None = None
    """churned / renewals."""
    downgrade_rate: float | None = None
    """downgrade_arr / arr_up."""
    gross_renewal_retention: float | None = None
    """1 - (churned_arr + downgrade_arr) / arr_up."""
    missing_arr: int | None = None
    """Renewals in the window without ARR: counted, not in the sums."""


class TrailingRetention(Record):
    """Cohort-style retention over the trailing 12 months at the as-of month
    (:func:`playbook.analyses.revenue.trailing_retention`, its last row)."""

    grr: float | None = None
    """Gross revenue retention of the accounts paying 12 months earlier."""
    nrr: float | None = None
    """Net revenue retention of the same accounts (expansion included)."""
    base_logos: float | None = None
    """Accounts paying 12 months earlier (the base of both rates)."""


class GrowthTarget(Record):
    """New sales needed for the growth target, given last year's gross MRR churn."""

    target: float | None = None
    """Growth target a year (``thresholds.growth_target``)."""
    gross_mrr_churn: float | None = None
    """Gross MRR churn of the trailing 12 months, share of the opening MRR."""
    new_sales_needed: float | None = None
    """target + gross_mrr_churn: new MRR a year needed, share of the opening MRR."""


class UninformativeReasons(Record):
    """Churn that carries no usable reason, trailing 12 months
    (:func:`playbook.analyses.reasons.uninformative_share`)."""

    events: int | None = None
    """Churn events in the window."""
    uninformative_events: int | None = None
    """Of them, with a blank, "Other" or "Unknown" reason (``churn.uninformative_reasons``)."""
    blank_events: int | None = None
    """Of them, blank at every level given (part of uninformative_events)."""
    share_events: float | None = None
    """uninformative_events / events."""
    lost_mrr: float | None = None
    """MRR lost by all the events."""
    uninformative_lost_mrr: float | None = None
    """MRR lost by the uninformative events."""
    share_lost_mrr: float | None = None
    """uninformative_lost_mrr / lost_mrr."""
    by_label: dict[str, int] = Field(default_factory=dict)
    """Uninformative events by their label, largest first."""


class ReasonMapping(Record):
    """Reasons recovered from free text by the keyword rules (``churn.reason_rules``)."""

    events: int | None = None
    """Churn events."""
    uninformative: int | None = None
    """Events with an uninformative code."""
    mapped: int | None = None
    """Of them, recovered from the text."""
    still_unknown: int | None = None
    """uninformative - mapped."""
    share_mapped: float | None = None
    """mapped / uninformative."""
    by_code: dict[str, int] = Field(default_factory=dict)
    """Events mapped to each code."""


class SurpriseCounts(Record):
    """Non-renewals that looked healthy before the decision
    (:func:`playbook.analyses.surprises.surprise_summary`)."""

    surprises: int | None = None
    """Non-renewals of the last 12 months in a healthy band at the cut-off."""
    scored_churns: int | None = None
    """Non-renewals with a health score at the cut-off."""
    share: float | None = None
    """surprises / scored_churns."""
    lost_mrr: float | None = None
    """MRR the surprises took with them."""


class VariableCut(Record):
    """Logo churn across the groups of one variable of the business."""

    table: Table = Field(default_factory=list)
    """Rows ``{group, n, churned, rate, ci_low, ci_high, too_small}`` (rate 0-1, 95%
    interval; too_small below ``thresholds.small_group_n``)."""
    test: dict[str, Any] = Field(default_factory=dict)
    """Association test (chi-square or Fisher): ``test``, ``p_value``, ``significant``,
    ``cramers_v``, ..."""


class RevenueFindings(Findings):
    """Findings of ``01-revenue``."""

    period: MrrBridge = Field(default_factory=MrrBridge)
    """MRR bridge of the reporting period."""
    renewals_due: RenewalChurn = Field(default_factory=RenewalChurn)
    """Churn on the renewals due in the period."""
    trailing: MrrBridge = Field(default_factory=MrrBridge)
    """The MRR bridge over the trailing 12 months (``period.trailing_months``)."""
    trailing_grr_nrr: TrailingRetention = Field(default_factory=TrailingRetention)
    """Cohort-style trailing-12-month GRR and NRR at the as-of month."""
    growth_arithmetic: GrowthTarget = Field(default_factory=GrowthTarget)
    """New sales the growth target needs."""
    uninformative_reasons: UninformativeReasons = Field(default_factory=UninformativeReasons)
    """Share of churn without a usable reason."""
    reason_mapping: ReasonMapping = Field(default_factory=ReasonMapping)
    """Keyword rules on free text (only with ``churn.reason_rules``)."""
    reason_pareto: Table = Field(default_factory=list)
    """Rows ``{reason, logos, share_logos, lost_mrr, share_lost_mrr, cum_share_lost_mrr,
    uninformative}``: reason categories when the export gives informative ones."""
    reasons_within_categories: Table = Field(default_factory=list)
    """With categories and reasons: rows ``{category, reason, logos, lost_mrr,
    share_lost_mrr, share_logos, uninformative, rank, informative_rank}`` (shares of the
    category's)."""
    reasons_by_segment: Table = Field(default_factory=list)
    """Rows ``{segment, reason, logos, lost_mrr, share_lost_mrr, too_small, uninformative}``."""
    month_to_month_left_out: int | None = None
    """Month-to-month accounts (term 1), left out of the renewal analyses."""
    surprise_non_renewals: SurpriseCounts = Field(default_factory=SurpriseCounts)
    """Non-renewals that looked healthy."""
    churn_by_variable: dict[str, VariableCut] = Field(default_factory=dict)
    """Trailing-12-month logo churn by variable of the business (its label -> the cut)."""


class RevenueResults(NotebookResults):
    """``results.json["01-revenue"]``."""

    findings: RevenueFindings = Field(default_factory=RevenueFindings)
