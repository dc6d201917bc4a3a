"""What ``02-renewal-drivers`` records: the renewal model, its quality, survival, the open book.

A renewal decision is an account's renewal (or not) at a contract end; features are measured
at the cut-off (``drivers.cutoff_days`` before it). Money in the client's currency, MRR per
month; probabilities and shares 0-1.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from playbook.results.base import Findings, NotebookResults, Record, Table


class ShortHistory(Record):
    """The short-history rule (:func:`playbook.analyses.drivers.drop_short_history`): a
    decision whose cut-off minus the look-back precedes the data's start is left out."""

    data_start: str | None = None
    """First month of data."""
    lookback_days: int | None = None
    """Longest look-back of a feature, days."""
    first_cutoff: str | None = None
    """Earliest cut-off kept: data_start + lookback_days."""
    excluded: int | None = None
    """Decisions left out."""
    excluded_not_renewed: int | None = None
    """Non-renewals among them."""
    kept: int | None = None
    """Decisions kept."""


class RenewalModel(Record):
    """The logistic model of renewal (``drivers.fit_renewal_model``); the appendix prints
    its coefficients."""

    method: str | None = None
    """"mle", or "l1" (penalised) when the classes separate."""
    n: int | None = None
    """Decisions the model was fitted on."""
    events: int | None = None
    """Non-renewals among them."""
    features: list[str] = Field(default_factory=list)
    """Features kept."""
    coefficients: Table = Field(default_factory=list)
    """Rows ``{term, feature, unit, coef, std_err, odds_ratio, or_low, or_high, p_value, ame,
    ame_low, ame_high}``: log-odds of renewal per unit, odds ratios with 95% intervals,
    average marginal effects (``term`` names a segment level, e.g. ``segment[Mid-market]``)."""
    skipped_features: dict[str, Any] | None = None
    """Features asked for but not built, and why."""
    notes: list[str] | None = None
    """Notes on how the features were built."""
    warnings: list[str] | None = None
    """Warnings of the model checks."""
    checks: dict[str, Any] = Field(default_factory=dict)
    """Class balance, VIF, separation, events per feature, ``clustering`` (standard errors
    clustered by account when applied), ``leakage`` (``excluded``: feature -> why it was
    left out as possible leakage; ``auc``: univariate AUC per feature; ``recorded_after``;
    ``max_auc``; ``kept``)."""


class CvQuality(Record):
    """Out-of-sample quality (:func:`playbook.analyses.drivers.cross_validated_quality`)."""

    n: int | None = None
    """Decisions scored."""
    folds: int | None = None
    """Folds (``drivers.cv_folds``)."""
    seed: int | None = None
    """Seed of the fold split (``drivers.random_seed``)."""
    auc: float | None = None
    """Cross-validated AUC, mean over folds (0.5 is a coin toss)."""
    auc_by_fold: list[float | None] = Field(default_factory=list)
    """AUC of each fold."""
    auc_sd: float | None = None
    """Standard deviation of the folds' AUC."""
    auc_baseline: float | None = None
    """AUC of the naive baseline (0.5)."""
    brier: float | None = None
    """Mean Brier score over folds (lower is better)."""
    brier_by_fold: list[float | None] = Field(default_factory=list)
    """Brier score of each fold."""
    brier_baseline: float | None = None
    """Brier score of predicting the training folds' renewal rate."""
    brier_skill: float | None = None
    """1 - brier / brier_baseline (> 0 beats the baseline)."""


class CoxCheck(Record):
    """The Cox cross-check on contract years (:func:`playbook.analyses.survival.cox_model`)."""

    n: int | None = None
    """Contract years."""
    accounts: int | None = None
    """Accounts they belong to."""
    events: int | None = None
    """Non-renewals."""
    features: list[str] = Field(default_factory=list)
    """Features of the model."""
    dropped: dict[str, str] = Field(default_factory=dict)
    """Features left out, and why."""
    clustered: bool | None = None
    """True when standard errors are robust by account."""
    converged: bool | None = None
    """True when the fit converged (False: it confirms nothing either way)."""
    convergence_problems: list[str] = Field(default_factory=list)
    """Why the fit did not converge, in words (empty when it did)."""
    ties: str | None = None
    """Method for tied event times."""
    rows_dropped_missing: int | None = None
    """Contract years left out for a missing feature."""
    coefficients: Table = Field(default_factory=list)
    """Rows ``{term, feature, unit, coef, std_err, hazard_ratio, hr_low, hr_high, p_value}``."""
    ph_check: Table = Field(default_factory=list)
    """Harrell's proportional-hazards test per driver: ``{term, feature, rho, p_value, churns,
    violates}``."""
    comparison: Table = Field(default_factory=list)
    """Odds ratios against hazard ratios: ``{term, odds_ratio, hazard_ratio, ..., verdict}``."""


class OpenBook(Record):
    """Renewals due within ``thresholds.renewal_horizon_days`` of the as-of date, scored
    (:func:`playbook.analyses.drivers.open_book_summary`)."""

    renewals_due: int | None = None
    """Renewals due in the horizon."""
    scored: int | None = None
    """Of them, with a probability of renewal."""
    mrr_due: float | None = None
    """MRR of all the renewals due."""
    accounts_at_risk: int | None = None
    """Renewals with a probability of renewal below ``drivers.at_risk_probability``."""
    mrr_at_risk: float | None = None
    """MRR of the renewals at risk (the MRR exposed); None when the model ranks no better
    than chance."""
    expected_loss_at_risk: float | None = None
    """Sum over the renewals at risk of MRR x probability of not renewing (the MRR expected
    to be lost); None when the model ranks no better than chance."""
    expected_mrr_loss: float | None = None
    """Sum over the scored renewals of MRR x probability of not renewing."""
    expected_non_renewals: float | None = None
    """Sum of the probabilities of not renewing (an expected count)."""
    model_ranks: bool | None = None
    """True when the model's lowest cross-validated fold AUC is above 0.5 +
    ``drivers.chance_auc_margin`` (:func:`playbook.analyses.drivers.model_beats_chance`);
    False: no renewal is marked at risk."""
    as_of: str | None = None
    """The as-of date: every renewal listed is due strictly after it."""
    accounts: Table = Field(default_factory=list)
    """Rows ``{account_id, decision_date, p_renew, mrr, expected_loss, at_risk, reasons}``."""


class DriversHeadline(Record):
    """Headline figures of the section (``findings.drivers.headline``)."""

    decisions_used: int | None = None
    """Decisions the model was fitted on."""
    non_renewals: int | None = None
    """Non-renewals among them."""
    decisions_left_out_short_history: int | None = None
    """Decisions left out by the short-history rule."""
    significant_drivers: int | None = None
    """Terms significant at 5%."""
    drivers: int | None = None
    """Terms in the model."""
    cv_auc: float | None = None
    """Cross-validated AUC."""
    cv_brier: float | None = None
    """Cross-validated Brier score."""
    brier_baseline: float | None = None
    """Brier score of the naive baseline."""
    renewals_due: int | None = None
    """Renewals due in the horizon."""
    accounts_at_risk: int | None = None
    """Of them, at risk."""
    mrr_at_risk: float | None = None
    """MRR of the renewals at risk."""
    expected_mrr_loss: float | None = None
    """Expected MRR lost on the renewals due."""
    mrr_due: float | None = None
    """MRR of the renewals due."""


class DriversFindings(Findings):
    """Findings of ``02-renewal-drivers``."""

    month_to_month_left_out: int | None = None
    """Month-to-month accounts (term 1), left out of the renewal analyses."""
    history: ShortHistory = Field(default_factory=ShortHistory)
    """The short-history rule and what it left out."""
    model: RenewalModel = Field(default_factory=RenewalModel)
    """The logistic model of renewal."""
    quality: CvQuality = Field(default_factory=CvQuality)
    """Its cross-validated quality."""
    lift: Table = Field(default_factory=list)
    """Rows per decile of predicted risk of non-renewal: ``{decile, n, events, event_rate,
    mean_predicted, lift, cumulative_share_of_events}`` (event = non-renewal)."""
    calibration: Table = Field(default_factory=list)
    """Rows per bin of predicted renewal: ``{bin, p_min, p_max, n, mean_predicted,
    observed_rate, ci_low, ci_high}``."""
    retention: Table = Field(default_factory=list)
    """Kaplan-Meier per segment and "All accounts": ``{group, n, n_events, survival_<t>m,
    low_<t>m, high_<t>m, at_risk_<t>m}`` for t = 12 ... 84 months."""
    cox: CoxCheck = Field(default_factory=CoxCheck)
    """The Cox cross-check."""
    open_book: OpenBook = Field(default_factory=OpenBook)
    """Renewals due now and those at risk."""
    headline: DriversHeadline = Field(default_factory=DriversHeadline)
    """Headline figures of the section."""


class DriversResults(NotebookResults):
    """``results.json["02-renewal-drivers"]``."""

    findings: DriversFindings = Field(default_factory=DriversFindings)
