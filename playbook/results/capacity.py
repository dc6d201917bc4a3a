"""What ``04-capacity`` records: touch model, CSM headcount two ways, impact scenarios.

FTE are full-time CSMs; costs are loaded money a year; MRR per month in the client's
currency; rates are annual shares of the opening MRR (0-1).
"""

from __future__ import annotations

from pydantic import Field

from playbook.results.base import Findings, NotebookResults, Record, Table


class CapacityEvidence(Record):
    """What the coverage and headcount section rests on
    (:func:`playbook.analyses.capacity.capacity_evidence`)."""

    owners: bool | None = None
    """The accounts name at least one owner: current coverage is measured."""
    touch_model: bool | None = None
    """The client's params set ``touch_model`` (not only defaults.yaml)."""
    sized: bool | None = None
    """owners or touch_model: the section runs; else it says in one line why not."""


class HeadcountTotal(Record):
    """CSMs needed for all tiers, against the owners today (``headcount`` row "total")."""

    accounts: int | None = None
    """Accounts covered."""
    fte_by_ratio_min: float | None = None
    """FTE at the touch model's highest accounts-per-CSM ratio."""
    fte_by_ratio_max: float | None = None
    """FTE at its lowest ratio."""
    fte_by_effort: float | None = None
    """FTE the touch plan's hours need."""
    current: float | None = None
    """FTE today: named account owners."""
    gap: float | None = None
    """fte_by_effort - current (positive: too few CSMs)."""
    cost_by_effort: float | None = None
    """Loaded cost a year of fte_by_effort."""
    cost_current: float | None = None
    """Loaded cost a year of the current CSMs."""
    cost_gap: float | None = None
    """cost_by_effort - cost_current."""


class TierCsms(Record):
    """CSMs of one tier (or ``total``)."""

    required_by_effort: float | None = None
    """FTE the tier's touch plan needs."""
    required_by_ratio: list[float | None] = Field(default_factory=list)
    """FTE at the tier's ratio range, ``[min, max]``."""
    current: float | None = None
    """FTE today (owners' time on the tier's accounts)."""
    gap: float | None = None
    """required_by_effort - current."""


class CsmCost(Record):
    """Loaded CSM cost a year."""

    required_by_effort: float | None = None
    """Of the FTE the touch plan needs."""
    current: float | None = None
    """Of the current owners."""
    difference: float | None = None
    """required_by_effort - current."""


class ClientRates(Record):
    """The client's annual rates on the metrics basis of a 12-month window
    (:func:`playbook.analyses.scenarios.client_rates` of :mod:`playbook.metrics`'s headline
    metrics); start_mrr x (1 + growth − churn) = end_mrr."""

    start_mrr: float | None = None
    """base_mrr: MRR of the accounts paying in the window's base month."""
    end_mrr: float | None = None
    """MRR in the as-of month: the base of every projection."""
    new_sales: float | None = None
    """new_business_share: as-of MRR of accounts not in the base / start_mrr."""
    expansion: float | None = None
    """expansion_share: NRR − GRR."""
    churn: float | None = None
    """gross_revenue_churn: 1 − GRR."""
    price: float | None = None
    """Price change a year (0: not measured)."""
    growth: float | None = None
    """new_sales + expansion."""


class RevenueAtStake(Record):
    """Today's churn against none, over ``scenarios.years``."""

    annual_churn: float | None = None
    """The client's annual gross revenue churn (1 − GRR)."""
    years: int | None = None
    """Years projected."""
    year_n_mrr_gap: float | None = None
    """MRR in year N without churn minus MRR with today's churn."""
    year_n_gap_share: float | None = None
    """year_n_mrr_gap / the MRR without churn."""
    revenue_over_years: float | None = None
    """Revenue gained over the years without churn."""
    npv: float | None = None
    """Its net present value (``scenarios.discount_rate``)."""


class ClientGrowthArithmetic(Record):
    """New MRR next year needs for the growth target
    (:func:`playbook.analyses.scenarios.growth_arithmetic`)."""

    target: float | None = None
    """Growth target a year (``thresholds.growth_target``)."""
    churn: float | None = None
    """Annual gross revenue churn (1 − GRR)."""
    needed: float | None = None
    """New sales and expansion needed: target + churn."""
    delivered: float | None = None
    """New sales and expansion last year."""
    new_sales: float | None = None
    """New sales last year."""
    expansion: float | None = None
    """Expansion last year."""
    shortfall: float | None = None
    """needed - delivered."""
    ratio: float | None = None
    """needed / delivered."""
    start_mrr: float | None = None
    """Base MRR of the 12-month window (the shares' denominator)."""
    base_mrr: float | None = None
    """MRR today, the base of the money figures."""
    needed_mrr: float | None = None
    """needed x base_mrr."""
    delivered_mrr: float | None = None
    """delivered x base_mrr."""
    shortfall_mrr: float | None = None
    """shortfall x base_mrr."""
    implied_growth: float | None = None
    """delivered - churn: the growth last year's pace gives."""


class ChurnPointValue(Record):
    """What one point less annual churn is worth
    (:func:`playbook.analyses.scenarios.churn_point_value`)."""

    point: float | None = None
    """The change of annual churn (0.01 = one point)."""
    churn_from: float | None = None
    """Annual churn today."""
    churn_to: float | None = None
    """churn_from - point."""
    revenue_gain: float | None = None
    """Revenue gained over the years."""
    revenue_gain_share: float | None = None
    """revenue_gain / revenue over the years at today's churn."""
    npv_gain: float | None = None
    """Net present value of revenue_gain."""
    mrr_gain_year_n: float | None = None
    """MRR gained in year N."""
    mrr_year_n: float | None = None
    """MRR in year N at today's churn."""
    discount_rate: float | None = None
    """Discount rate a year."""
    years: int | None = None
    """Years projected."""


class CapacityFindings(Findings):
    """Findings of ``04-capacity``."""

    capacity_evidence: CapacityEvidence = Field(default_factory=CapacityEvidence)
    """What the coverage section rests on; without ``sized`` it sizes nothing."""
    touch_plan: Table = Field(default_factory=list)
    """Rows ``{tier, touch, count, contact_hours, prep_hours, travel_hours, one_to_many,
    hours_per_account, program_hours}``: the touch model, hours per account a year."""
    headcount: Table = Field(default_factory=list)
    """Rows per tier and "total": accounts, role, ratio range, hours per account,
    ``fte_by_ratio_min``/``max``, ``fte_by_effort``, ``effort_vs_ratio``, costs."""
    current_owners: int | None = None
    """Named account owners (each counts as one current FTE)."""
    headcount_total: HeadcountTotal = Field(default_factory=HeadcountTotal)
    """Required against current CSMs, all tiers."""
    csms_by_tier: dict[str, TierCsms] = Field(default_factory=dict)
    """CSMs per tier, and "total"."""
    csm_cost: CsmCost = Field(default_factory=CsmCost)
    """Loaded CSM cost a year."""
    headcount_sensitivity: Table = Field(default_factory=list)
    """Rows ``{year, shift, accounts, top_tier_accounts, fte_by_effort, cost_by_effort,
    fte_by_ratio_min, fte_by_ratio_max}``: headcount under growth and tier-mix shifts."""
    owner_coverage: Table = Field(default_factory=list)
    """Rows ``{owner, accounts, mrr, accounts_<tier>, main_tier, load, effort_fte,
    coverage}``."""
    client_rates: ClientRates = Field(default_factory=ClientRates)
    """Trailing-12-month rates the scenarios start from."""
    scenarios_skipped: list[str] = Field(default_factory=list)
    """Why the scenarios are left out: a window short of 12 months, a withheld headline
    figure, or rates too implausible to compound."""
    scenario_gap: Table = Field(default_factory=list)
    """Rows ``{annual_churn, mrr, no_churn_mrr, gap, gap_share}`` at year N."""
    revenue_at_stake_from_churn: RevenueAtStake = Field(default_factory=RevenueAtStake)
    """Today's churn against none."""
    growth_arithmetic_client: ClientGrowthArithmetic = Field(
        default_factory=ClientGrowthArithmetic)
    """New MRR the growth target needs against last year's."""
    churn_point_value: ChurnPointValue = Field(default_factory=ChurnPointValue)
    """Value of one point less churn."""
    levers: Table = Field(default_factory=list)
    """Rows ``{lever, rate, swing, worse_rate, better_rate, base_mrr, worse_mrr, better_mrr,
    range}``: year-N MRR when each rate moves by its swing."""


class CapacityResults(NotebookResults):
    """``results.json["04-capacity"]``."""

    findings: CapacityFindings = Field(default_factory=CapacityFindings)
