"""What ``06-outcomes-triggers`` records: customer-defined success outcomes and trigger events.

Shares and rates 0-1; ratios are plain numbers (1 = no difference); MRR in the client's
currency a month; days are calendar days.
"""

from __future__ import annotations

from pydantic import Field

from playbook.results.base import Findings, NotebookResults, Record, Table


class OutcomeEffectRecord(Record):
    """Outcomes met at the cut-off as a renewal driver (:func:`playbook.analyses.outcomes.
    outcome_effect`): odds ratio of renewal, met vs not, adjusted for the renewal model's
    features."""

    odds_ratio: float | None = None
    """Odds ratio of renewal (above 1: met outcomes renew more)."""
    low: float | None = None
    """Lower bound of its 95% interval."""
    high: float | None = None
    """Upper bound of its 95% interval."""
    p_value: float | None = None
    """Its p-value (clustered by account)."""
    n: int | None = None
    """Renewal decisions in the model."""
    met: int | None = None
    """Of them, with every outcome met at the cut-off."""


class OpenTriggerSummary(Record):
    """The open trigger list in figures (:func:`playbook.analyses.triggers.open_triggers`)."""

    accounts: int | None = None
    """Active accounts with a trigger in the window and no touch since."""
    mrr: float | None = None
    """Their MRR a month."""
    days: int | None = None
    """The window: triggers in the last N days (``triggers.open_days``)."""
    touches: bool | None = None
    """False when no touches table was sent (every recent trigger counts as open)."""


class OutcomesFindings(Findings):
    """Findings of ``06-outcomes-triggers``."""

    outcome_coverage: Table = Field(default_factory=list)
    """Rows per value tier and ``total`` ``{value_tier, accounts, with_outcomes, share,
    without, realised}``: active accounts with an agreed outcome; ``realised`` the mean
    realised value (0-1) of those measured in the last ``outcomes.lookback_days`` days."""
    outcome_bands: Table = Field(default_factory=list)
    """Rows per realised-value band at the renewal cut-off ``{band, decisions, renewed, rate,
    low, high}`` (Wilson 95% interval)."""
    outcome_expansion_bands: Table = Field(default_factory=list)
    """Rows per realised-value band at the expansion model's cut-offs ``{band, units,
    expanded, rate, low, high}`` (units: account x cut-off; Wilson 95% interval)."""
    outcome_effect: OutcomeEffectRecord = Field(default_factory=OutcomeEffectRecord)
    """Met outcomes as a renewal driver."""
    trigger_effects: Table = Field(default_factory=list)
    """Rows per outcome (churn, expansion) and trigger type ``{outcome, type, exposed,
    exposed_events, unexposed, unexposed_events, rate_exposed, rate_unexposed, rate_ratio,
    rr_low, rr_high, odds_ratio, or_low, or_high, p_value, note, p_adjusted, significant}``
    (:func:`playbook.analyses.triggers.trigger_effects`)."""
    trigger_window_days: int | None = None
    """Churn counts at renewals in this many days after a trigger."""
    trigger_survival: Table = Field(default_factory=list)
    """Kaplan-Meier survival from the trigger, read at 6 and 12 months, rows per ``type`` and
    ``group`` (``trigger``: accounts from their first trigger of the type; ``matched``:
    accounts without one from the same date) ``{type, group, n, n_events, survival_6m,
    low_6m, high_6m, at_risk_6m, survival_12m, low_12m, high_12m, at_risk_12m}``
    (:func:`playbook.analyses.triggers.trigger_lifetimes`)."""
    trigger_cox: Table = Field(default_factory=list)
    """Cox model per trigger type with the trigger as a time-varying covariate (exposed in
    the ``trigger_window_days`` after it) ``{type, accounts, events, exposed_events,
    hazard_ratio, hr_low, hr_high, p_value, note}``; NaN (null) where too few churns fall in
    the windows (:func:`playbook.analyses.triggers.trigger_cox`)."""
    open_triggers: Table = Field(default_factory=list)
    """Every open trigger ``{account_id, owner, mrr, type, trigger_date, days_since,
    triggers}``, largest MRR first (the report lists the first few)."""
    open_summary: OpenTriggerSummary = Field(default_factory=OpenTriggerSummary)
    """The open list in figures."""


class OutcomesResults(NotebookResults):
    """``results.json["06-outcomes-triggers"]``."""

    findings: OutcomesFindings = Field(default_factory=OutcomesFindings)
