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


class Withheld(Record):
    """Why a headline figure is not printed, and what would fix it."""

    reason: str = ""
    """The broken invariant or the data contradiction, in words."""
    fix: str = ""
    """What data would let the figure be printed."""


class HeadlineMetrics(Record):
    """The headline retention rates on one basis (:func:`playbook.metrics.headline_metrics`):
    the accounts paying in ``base_month`` (the month before the trailing window), followed
    to the as-of month ``end_month``. Shares 0-1; money per month."""

    base_month: str | None = None
    """Month (ISO, 1st) whose paying accounts form the base."""
    end_month: str | None = None
    """The as-of month."""
    months: int | None = None
    """Months the window covers (fewer than ``requested`` when the history is shorter)."""
    requested: int | None = None
    """``period.trailing_months``."""
    label: str | None = None
    """The window in words, e.g. "trailing 12 months", "trailing 11 months"."""
    base_accounts: int | None = None
    """Accounts paying in the base month."""
    retained_accounts: int | None = None
    """Base accounts paying in the end month."""
    churned_accounts: int | None = None
    """Base accounts not paying in the end month (accounts, not churn events)."""
    end_accounts: int | None = None
    """All accounts paying in the end month."""
    base_mrr: float | None = None
    """MRR of the base in the base month."""
    retained_mrr: float | None = None
    """MRR of the base in the end month."""
    retained_mrr_capped: float | None = None
    """Σ min(MRR now, MRR then) over the base."""
    new_mrr: float | None = None
    """MRR in the end month of accounts outside the base (new and returned)."""
    end_mrr: float | None = None
    """MRR in the end month (= retained_mrr + new_mrr)."""
    grr: float | None = None
    """Gross revenue retention = retained_mrr_capped / base_mrr."""
    nrr: float | None = None
    """Net revenue retention = retained_mrr / base_mrr."""
    gross_revenue_churn: float | None = None
    """1 - grr."""
    net_revenue_churn: float | None = None
    """1 - nrr."""
    expansion_share: float | None = None
    """nrr - grr."""
    new_business_share: float | None = None
    """new_mrr / base_mrr."""
    logo_churn: float | None = None
    """churned_accounts / base_accounts, over the window."""
    logo_churn_annualised: float | None = None
    """1 - (1 - logo_churn)^(12 / months)."""
    logo_churn_monthly: float | None = None
    """1 - (1 - logo_churn)^(1 / months)."""
    withheld: dict[str, Withheld] = Field(default_factory=dict)
    """Headline figures (``mrr``, ``grr``, ``nrr``, ``logo_churn``) not to print: a broken
    invariant or contradicted input (:func:`playbook.metrics.withheld_figures`)."""


class GrowthTarget(Record):
    """New sales needed for the growth target, given last year's gross revenue churn (the
    impact scenarios' rates, :mod:`playbook.analyses.scenario_basis`; absent when they are
    not shown)."""

    target: float | None = None
    """Growth target a year (``thresholds.growth_target``)."""
    gross_revenue_churn: float | None = None
    """1 − GRR of the 12-month headline window (:mod:`playbook.metrics`), share of base MRR."""
    new_sales_needed: float | None = None
    """target + gross_revenue_churn: new MRR a year needed, share of the base MRR."""


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
    accounts: int | None = None
    """Distinct customers among the surprises (an account may fail several renewals)."""
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
    """Association test (chi-square or Fisher): ``test``, ``p_value`` (raw), ``p_adjusted``
    (Holm, across the ``family_size`` tests of the variables), ``correction`` ("holm"),
    ``significant`` (adjusted p < 0.05: the verdict), ``significant_raw``, ``cramers_v``,
    ..."""


class ChurnBasis(Record):
    """Who churn by variable counts (:func:`playbook.analyses.variables.churn_basis`): the
    base of the trailing window with every band measured at the base date."""

    label: str | None = None
    """The window in words ("trailing 11 months")."""
    months: int | None = None
    """Months the window covers."""
    base_month: str | None = None
    """Month (ISO, 1st) whose paying accounts form the base."""
    end_month: str | None = None
    """The as-of month: churned = not paying in it."""
    base_accounts: int | None = None
    """Accounts in the base."""
    left_out: int | None = None
    """Base accounts not yet at their first renewal (term ending after the window), left
    out of the cuts."""
    accounts: int | None = None
    """Accounts counted: base_accounts - left_out."""
    churned: int | None = None
    """Of them, not paying in the end month."""
    overall: float | None = None
    """churned / accounts (equals the headline logo churn when left_out is 0)."""
    whole_base: float | None = None
    """Logo churn of the whole base (the headline's, from_mrr)."""
    from_mrr: bool | None = None
    """False when the base came from the accounts table's dates (no MRR history)."""


class RevenueFindings(Findings):
    """Findings of ``01-revenue``."""

    period: MrrBridge = Field(default_factory=MrrBridge)
    """MRR bridge of the reporting period."""
    renewals_due: RenewalChurn = Field(default_factory=RenewalChurn)
    """Churn on the renewals due in the period."""
    trailing: MrrBridge = Field(default_factory=MrrBridge)
    """The MRR movements over the trailing window (``period.trailing_months``): flows and
    the quick ratio only; its rates are the headline metrics'."""
    headline_metrics: HeadlineMetrics = Field(default_factory=HeadlineMetrics)
    """The headline retention rates on one basis (GRR, NRR, logo churn...), read by every
    section, the summary, the scenarios and the recommendations."""
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
    """Logo churn of the trailing window's base by variable of the business (its label ->
    the cut), verdicts after Holm's correction."""
    churn_by_variable_basis: ChurnBasis = Field(default_factory=ChurnBasis)
    """Who churn by variable counts."""


class RevenueResults(NotebookResults):
    """``results.json["01-revenue"]``."""

    findings: RevenueFindings = Field(default_factory=RevenueFindings)
