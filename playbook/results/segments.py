"""What ``03-segments-health`` records: value tiers, lifecycle, health score, relationship flags.

Money in the client's currency, MRR per month; shares and rates 0-1; "12 months earlier"
tables follow the accounts of then to the as-of date.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from playbook.results.base import Findings, NotebookResults, Record, Table


class TierStability(Record):
    """Value tiers at the previous period's end against now (``segments.tier_stability``)."""

    n: int | None = None
    """Accounts in both."""
    stayed: int | None = None
    """Accounts in the same tier."""
    moved_up: int | None = None
    """Accounts in a higher tier now."""
    moved_down: int | None = None
    """Accounts in a lower tier now."""
    share_stayed: float | None = None
    """stayed / n."""


class StuckOnboarding(Record):
    """Accounts still in the first lifecycle stage long after they started."""

    accounts: int | None = None
    """Accounts still onboarding more than ``days`` after they started."""
    mrr: float | None = None
    """Their MRR."""
    days: int | None = None
    """The limit, days (``lifecycle.stuck_onboarding_days``)."""


class HealthBacktest(Record):
    """AUC of the health score at the cut-off for renewal
    (:func:`playbook.analyses.backtest.auc_interval`)."""

    auc: float | None = None
    """AUC of the health score for renewal (0.5 is a coin toss)."""
    low: float | None = None
    """Lower bound of its 95% Hanley-McNeil interval."""
    high: float | None = None
    """Upper bound."""
    n: int | None = None
    """Renewal decisions scored."""
    positives: int | None = None
    """Renewed."""
    negatives: int | None = None
    """Not renewed."""
    min_auc: float | None = None
    """AUC below which the score is said not to predict (``health.backtest_min_auc``)."""
    predicts: bool | None = None
    """True when the AUC reaches ``min_auc`` and its interval excludes 0.5."""


class ProposedWeights(Record):
    """Health-score weights from the renewal regression on the measures."""

    weights: dict[str, float | None] = Field(default_factory=dict)
    """Proposed weight of each measure (sums to 1); empty when the regression failed."""
    cross_validated: dict[str, Any] | None = None
    """``auc_current`` and ``auc_proposed`` on held-out accounts, ``folds``,
    ``failed_folds``; None without proposed weights."""
    error: str | None = None
    """Why no weights could be proposed."""


class FlagSummary(Record):
    """One relationship-risk flag (``health.flag_summary``)."""

    accounts: int | None = None
    """Accounts with the flag set."""
    undecided: int | None = None
    """Accounts the flag cannot be decided for (data missing)."""
    mrr: float | None = None
    """MRR of the flagged accounts."""
    share_mrr: float | None = None
    """Of all MRR of the accounts checked."""
    owners: str | None = None
    """Owners holding most flagged accounts, e.g. "Jordan Blake (17)"."""
    churn_rate: float | None = None
    """Observed churn rate of the flag: of the accounts flagged at the start of the
    trailing window, the share that churned by the as-of date (0-1)."""
    flagged_then: int | None = None
    """Accounts flagged at the start of the trailing window (the rate's denominator)."""
    expected_loss: float | None = None
    """MRR of the accounts flagged now x ``churn_rate``: the MRR expected to be lost."""
    others_then: int | None = None
    """Accounts decided not flagged at the start of the trailing window."""
    churn_rate_others: float | None = None
    """Observed churn rate of ``others_then`` (0-1): the rate the flag's is compared with."""


class Flagged(Record):
    """Accounts with any relationship-risk flag."""

    accounts: int | None = None
    """Accounts with at least one flag."""
    mrr: float | None = None
    """Their MRR."""
    two_or_more: int | None = None
    """Accounts with two flags or more."""


class TiersChurnBasis(Record):
    """The population of ``tiers_churn``: the base of the trailing window (the headline
    logo churn's), tiered as of its base month."""

    label: str | None = None
    """The window in words ("trailing 11 months")."""
    months: int | None = None
    """Months the window covers."""
    requested: int | None = None
    """``period.trailing_months``."""
    base_month: str | None = None
    """Month (ISO, 1st) whose paying accounts form the base; tiers as of its end."""
    end_month: str | None = None
    """The as-of month: churned = not paying in it."""
    from_mrr: bool | None = None
    """False when the base came from the accounts table's dates (no MRR history)."""
    unscored: int | None = None
    """Base accounts without a value score then, placed in the bottom tier."""


class SegmentsFindings(Findings):
    """Findings of ``03-segments-health``."""

    tiers_now: Table = Field(default_factory=list)
    """Value pyramid at the as-of date, rows per tier ``{tier, accounts, share_accounts, mrr,
    share_mrr, ...}``."""
    tiers_churn: Table = Field(default_factory=list)
    """The trailing window's base by tier as of its base month (``tiers_churn_basis``):
    ``accounts``, ``mrr`` (MRR then; sums to the headline ``base_mrr``),
    ``churned_accounts``, ``churn_rate`` (with ``_low``/``_high``; accounts-weighted it is
    the headline logo churn), ``mrr_lost`` (MRR then of leavers + contraction of stayers:
    sums to base_mrr x (1 - GRR)), ``share_mrr_lost``, ``mrr_churn_rate``,
    ``small_sample``."""
    tiers_churn_basis: TiersChurnBasis = Field(default_factory=TiersChurnBasis)
    """Who ``tiers_churn`` counts."""
    tier_stability: TierStability = Field(default_factory=TierStability)
    """How many accounts kept their tier."""
    lifecycle: Table = Field(default_factory=list)
    """Rows per stage ``{stage, accounts, share, median_months, share_censored}`` (time in
    the current stage)."""
    lifecycle_churn: Table = Field(default_factory=list)
    """Stages 12 months earlier and churn since (the columns of ``tiers_churn``)."""
    stuck_onboarding: StuckOnboarding = Field(default_factory=StuckOnboarding)
    """Accounts stuck in onboarding."""
    onboarding_steps: Table = Field(default_factory=list)
    """Rows per key step ``{step, accounts, completed, share_completed, median_days,
    p75_days}``."""
    health_bands: dict[str, int] = Field(default_factory=dict)
    """Accounts per health band at the as-of date."""
    health_bands_by_segment: Table = Field(default_factory=list)
    """Rows per segment and "All": ``n_<band>``, ``share_<band>``, ``mrr_<band>``."""
    month_to_month_left_out: int | None = None
    """Month-to-month accounts (term 1), left out of the renewal analyses."""
    health_outcomes: Table = Field(default_factory=list)
    """Renewal decisions by band at the cut-off: ``{health_band, n, renewed, churned,
    renewal_rate, churn_rate, ...}``."""
    backtest: HealthBacktest = Field(default_factory=HealthBacktest)
    """Does the health score predict renewal?"""
    backtest_measures: Table = Field(default_factory=list)
    """Rows per measure ``{measure, weight, n, auc, auc_low, auc_high, mean_points}``."""
    proposed_weights: ProposedWeights = Field(default_factory=ProposedWeights)
    """Weights the renewal regression proposes."""
    relationship_flags: dict[str, int] = Field(default_factory=dict)
    """Accounts per relationship-risk flag (``flag_single_threaded``, ...)."""
    flags_summary: dict[str, FlagSummary] = Field(default_factory=dict)
    """Each relationship-risk flag: accounts, MRR, owners."""
    flagged: Flagged = Field(default_factory=Flagged)
    """Accounts with any flag."""
    clv_by_tier: Table = Field(default_factory=list)
    """Rows per tier ``{tier, accounts, arpa, annual_churn, monthly_churn, survival_end,
    factor, clv, clv_total, simple_clv}`` (``clv.*`` parameters)."""


class SegmentsResults(NotebookResults):
    """``results.json["03-segments-health"]``."""

    findings: SegmentsFindings = Field(default_factory=SegmentsFindings)
