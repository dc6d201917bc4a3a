"""Renewal drivers: what differs between accounts that renew and accounts that do not.

Pure functions (canonical frames and parameters in, frames and figures out; no file I/O,
printing or plotting). The steps, in the order a notebook calls them:

1. :func:`renewal_decisions` - one row per renewal decision (renewed 1/0).
2. :func:`modelling_table` - features per decision, measured at a *cut-off* date
   (``decision_date - cutoff_days``) from records dated on or before the cut-off only, plus a
   report of which features were built and which were skipped (and why).
   :func:`drop_short_history` then leaves out decisions whose cut-off minus the longest
   feature look-back (:func:`history_days`) precedes the first month of data
   (:func:`data_start`): their features would count unseen history as "none".
3. :func:`fit_renewal_model` - logistic regression of renewal on the features, with odds ratios
   per stated unit, average marginal effects and checks (VIF, separation, class balance, events
   per feature) that run every time and are returned, never printed.
4. :func:`cross_validated_quality`, :func:`lift_by_decile`, :func:`calibration_table` - how well
   the model predicts on accounts it has not seen.
5. :func:`upcoming_renewals` and :func:`risk_scores` - predicted renewal probability for the
   renewals coming up; :func:`open_book` adds the MRR at stake (:func:`current_mrr`) and the
   features pulling each one down (:func:`contributions`), :func:`open_book_summary` the
   headline counts.

The survival cross-check (Kaplan-Meier, Cox) is in :mod:`playbook.analyses.survival`. A
model that cannot be fitted raises :class:`playbook.errors.DriverModelError`.

Modules (this package re-exports the analysts' entry points, ``drivers.X``)
---------------------------------------------------------------------------
* :mod:`~playbook.analyses.drivers.decisions` - past and upcoming renewal decisions,
  month-to-month accounts.
* :mod:`~playbook.analyses.drivers.table` - the modelling table and the history window.
* :mod:`~playbook.analyses.drivers.features` - the feature builders, one per source table
  (client variables included).
* :mod:`~playbook.analyses.drivers.prepared` - a table's records sorted by account and
  date once, kept per read-only table for every modelling table built from it.
* :mod:`~playbook.analyses.drivers.design` - default and chosen features, units, design
  columns.
* :mod:`~playbook.analyses.drivers.model` - the fit and its checks, coefficients, marginal
  effects.
* :mod:`~playbook.analyses.drivers.quality` - AUC, Brier score, cross-validation, lift,
  calibration.
* :mod:`~playbook.analyses.drivers.risk` - risk scores, current MRR, contributions, the
  open book.
* :mod:`~playbook.analyses.drivers.columns` - column coercions the modules share.

Definitions used throughout
---------------------------
*Renewed* is 1 when the customer stayed at the decision (a downgrade counts as renewed and is
flagged in ``downgraded``), 0 when it left. Probabilities are shares (0-1); "percentage points"
are 100 x a difference of probabilities. Money is in the client's currency.
"""

from __future__ import annotations

from playbook.analyses.drivers.decisions import (
    month_to_month_accounts,
    renewal_decisions,
    upcoming_renewals,
)
from playbook.analyses.drivers.design import (
    DEFAULT_MODEL_FEATURES,
    TENURE_WITH_DERIVED_DECISIONS,
    chosen_features,
    default_features,
    design_matrix,
)
from playbook.analyses.drivers.model import DriverModel, fit_renewal_model
from playbook.analyses.drivers.quality import (
    auc,
    brier_score,
    calibration_table,
    cross_validated_quality,
    lift_by_decile,
)
from playbook.analyses.drivers.risk import (
    contributions,
    current_mrr,
    flag_expected_losses,
    model_beats_chance,
    open_book,
    open_book_inputs,
    open_book_summary,
    renewals_due_book,
    risk_scores,
    top_expected_losses,
)
from playbook.analyses.drivers.table import (
    USAGE_LOOKBACK_DAYS,
    data_start,
    drop_short_history,
    history_days,
    modelling_table,
)

__all__ = [
    "DEFAULT_MODEL_FEATURES",
    "TENURE_WITH_DERIVED_DECISIONS",
    "USAGE_LOOKBACK_DAYS",
    "DriverModel",
    "auc",
    "brier_score",
    "calibration_table",
    "chosen_features",
    "contributions",
    "cross_validated_quality",
    "current_mrr",
    "data_start",
    "default_features",
    "flag_expected_losses",
    "design_matrix",
    "drop_short_history",
    "fit_renewal_model",
    "history_days",
    "lift_by_decile",
    "model_beats_chance",
    "modelling_table",
    "month_to_month_accounts",
    "open_book",
    "open_book_summary",
    "renewal_decisions",
    "renewals_due_book",
    "open_book_inputs",
    "risk_scores",
    "top_expected_losses",
    "upcoming_renewals",
]
