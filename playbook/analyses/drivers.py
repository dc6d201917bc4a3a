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

The survival cross-check (Kaplan-Meier, Cox) is in :mod:`playbook.analyses.survival`.

Definitions used throughout
---------------------------
*Renewed* is 1 when the customer stayed at the decision (a downgrade counts as renewed and is
flagged in ``downgraded``), 0 when it left. Probabilities are shares (0-1); "percentage points"
are 100 x a difference of probabilities. Money is in the client's currency.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)

from playbook.analyses.variables import Variable, declared
from playbook.contracts import MONTH_TO_MONTH, account_terms, cycle_dates, next_on_cycle
from playbook.errors import InsufficientDataError

__all__ = [
    "DEFAULT_MODEL_FEATURES",
    "DriverModel",
    "DriverModelError",
    "auc",
    "brier_score",
    "calibration_table",
    "chosen_features",
    "contributions",
    "cross_validated_quality",
    "current_mrr",
    "data_start",
    "default_features",
    "design_matrix",
    "drop_short_history",
    "fit_renewal_model",
    "history_days",
    "lift_by_decile",
    "modelling_table",
    "month_to_month_accounts",
    "open_book",
    "open_book_summary",
    "renewal_decisions",
    "risk_scores",
    "upcoming_renewals",
]

DIRECTOR_PLUS = ("c_level", "vp", "director")
USER_ROLES = ("user", "champion")
SPONSOR_ROLES = ("executive", "champion")
HIGH_PRIORITIES = ("high", "urgent")

ArrayLike = Sequence[float] | np.ndarray | pd.Series

#: What ``accounts.renewal_date`` may hold (``contracts.renewal_date_means``).
RENEWAL_DATE_MEANINGS = ("next", "last", "contract_end")

#: Features a first model usually starts from (the caller keeps those that were built; see
#: :func:`default_features`). One feature per question in ``domain.md``: usage, surveys,
#: tickets, relationships, tenure, products, contract value, segment, onboarding.
DEFAULT_MODEL_FEATURES: tuple[str, ...] = (
    "exec_sponsor",
    "usage_decline",
    "seat_utilisation",
    "nps_detractor",
    "high_priority_tickets_90d",
    "days_since_exec_contact",
    "days_since_user_contact",
    "strong_user_relationships",
    "tenure_years",
    "products",
    "log2_contract_value",
    "segment",
    "onboarding_incomplete",
    "onboarding_steps",
)

#: Unit each feature's odds ratio is stated in: (scale, label). The model uses
#: ``value / scale``, so an odds ratio is "per <label>". ``"sd"`` = per 1 standard deviation.
DEFAULT_UNITS: dict[str, tuple[float, str] | str] = {
    "active_users": "sd",
    "active_users_change_3m": "sd",
    "usage_change_share_3m": (0.10, "per 10 percentage points of change in active users"),
    "usage_decline": (1.0, "active users fell vs did not"),
    "seat_utilisation": (0.10, "per 10 percentage points of seat utilisation"),
    "last_nps": (1.0, "per NPS point"),
    "nps_detractor": (1.0, "detractor vs not"),
    "last_csat": (1.0, "per CSAT point"),
    "tickets_90d": (1.0, "per ticket"),
    "high_priority_tickets_90d": (1.0, "per high/urgent ticket"),
    "ticket_hours_90d": (10.0, "per 10 support hours"),
    "strong_user_relationships": (1.0, "per strong user relationship"),
    "exec_relationships": (1.0, "per director-level-or-above relationship"),
    "strong_exec_relationships": (1.0, "per strong director-level-or-above relationship"),
    "exec_sponsor": (1.0, "has an executive sponsor vs not"),
    "days_since_user_contact": (30.0, "per 30 days since last user contact"),
    "days_since_exec_contact": (30.0, "per 30 days since last executive contact"),
    "tenure_years": (1.0, "per year of tenure"),
    "products": (1.0, "per product"),
    "contract_value": "sd",
    "log2_contract_value": (1.0, "per doubling of contract value"),
    "onboarding_steps": (1.0, "per onboarding step completed"),
    "onboarding_incomplete": (1.0, "onboarding not finished vs finished"),
}


class DriverModelError(InsufficientDataError):
    """The renewal model cannot be fitted on the data given (e.g. only one outcome)."""


#: Why a default feature is left out of the model (see :func:`default_features`).
TENURE_WITH_DERIVED_DECISIONS = (
    "left out: without a renewals table every renewal falls on an anniversary but a churn "
    "at any tenure, so tenure at the cut-off partly encodes the outcome"
)


def default_features(built: Sequence[str], *, derived: bool = False,
                     variables: Sequence[str] = ()) -> list[str]:
    """The model features to start from: :data:`DEFAULT_MODEL_FEATURES` that were built,
    then the client's declared ``variables`` that were built (their feature names, the
    ``report["variables"]`` values of :func:`modelling_table`).

    Onboarding enters once: ``onboarding_incomplete`` when a final step is known (it was
    built), otherwise ``onboarding_steps`` (the two together are nearly collinear). With
    ``derived`` decisions (no renewals table, :func:`renewal_decisions`) ``tenure_years``
    is left out (:data:`TENURE_WITH_DERIVED_DECISIONS`).
    """
    have = set(built)
    feats = [f for f in DEFAULT_MODEL_FEATURES if f in have]
    if "onboarding_incomplete" in feats and "onboarding_steps" in feats:
        feats.remove("onboarding_steps")
    if derived and "tenure_years" in feats:
        feats.remove("tenure_years")
    return feats + [v for v in variables if v in have and v not in feats]


def chosen_features(requested: Sequence[str], report: Mapping[str, Any], *,
                    derived: bool = False) -> list[str]:
    """The model's features: the ``requested`` ones (params ``drivers.features``; a client
    variable may be named by its key or its label) that :func:`modelling_table` built, or
    when none is, :func:`default_features` with every declared variable built."""
    names = report.get("variables") or {}
    built = report.get("built") or []
    wanted = [names.get(f, f) for f in requested]
    return [f for f in dict.fromkeys(wanted) if f in built] or default_features(
        built, derived=derived, variables=list(names.values()))


# --------------------------------------------------------------------------------------
# 1. Renewal decisions
# --------------------------------------------------------------------------------------


def renewal_decisions(
    accounts: pd.DataFrame,
    renewals: pd.DataFrame | None = None,
    churn_events: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
    term_months: int = 12,
    renewal_date_means: str = "next",
) -> pd.DataFrame:
    """One row per renewal decision, with its outcome.

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts`` (account_id, start_date, renewal_date, churn_date, status,
        and ``contract_term_months`` when known).
    renewals : DataFrame, optional
        Canonical ``renewals``. When given (and not empty) it is the only source: one
        decision per row, ``decision_date = renewal_date``.
    churn_events : DataFrame, optional
        Canonical ``churn_events``; used only when ``renewals`` is absent.
    as_of : date, optional
        Only for the derived rule: decisions after this date are not counted (pass
        ``period.as_of``). Default: the latest start or churn date in the data, used only for
        active accounts without a ``renewal_date`` (or with ``renewal_date_means`` other than
        ``next``); the result never depends on the clock.
    term_months : int
        Contract term in months of accounts without their own ``contract_term_months``
        (``contracts.term_months``). Accounts whose term is 1 month (month-to-month,
        :func:`month_to_month_accounts`) make no renewal decisions, from either source.
    renewal_date_means : {"next", "last", "contract_end"}
        Only for the derived rule: what ``accounts.renewal_date`` holds
        (``contracts.renewal_date_means``, see :mod:`playbook.contracts`).

    Returns
    -------
    DataFrame
        ``account_id``, ``decision_date`` (datetime64), ``renewed`` (int 1/0),
        ``downgraded`` (bool; a downgrade counts as renewed), ``source``
        (``"renewals"`` or ``"derived"``), and ``arr_before`` / ``arr_after`` (money, NaN when
        unknown). Sorted by account and date.

    Notes
    -----
    Derived rule (no renewals table). Each account's contract runs its term (months) and
    renews at the end of each term.

    * Non-renewal: every churn (a ``churn_events`` row, or ``accounts.churn_date`` for a churned
      account missing from ``churn_events``) is one decision with ``renewed = 0`` at the churn
      date - also when the customer cancelled mid-term.
    * Renewal, ``renewal_date_means="next"`` (or no renewal date): every anniversary
      ``start_date + k * term`` (k >= 1) that falls strictly before the account's first churn
      date is a decision with ``renewed = 1``. For an account that has not churned: the
      anniversaries strictly before its next ``renewal_date`` (and on or before ``as_of`` when
      given), or, without a renewal date, on or before ``as_of``.
    * Renewal, ``"last"`` or ``"contract_end"``: the decisions fall on the renewal date's
      cycle, ``renewal_date + k * term`` (k any whole number): every cycle date strictly after
      ``start_date`` and strictly before the first churn date, or, for an account that has not
      churned, on or before ``as_of``. With ``last`` that is the date itself and its earlier
      anniversaries (and later ones up to ``as_of`` when the CRM missed a renewal); with
      ``contract_end`` the date itself is a past decision only once it is on or before
      ``as_of``.
    * An account that churned and came back is not modelled separately (its renewals stop at
      the first churn).
    * Downgrades cannot be seen without the renewals table: ``downgraded`` is False.
    """
    _check_renewal_date_means(renewal_date_means)
    if renewals is not None and len(renewals):
        out = _decisions_from_renewals(renewals)
    else:
        out = _decisions_derived(accounts, churn_events, as_of=as_of, term_months=term_months,
                                 renewal_date_means=renewal_date_means)
    monthly = month_to_month_accounts(accounts, term_months=term_months)
    return out[~out["account_id"].isin(monthly)].reset_index(drop=True)


def month_to_month_accounts(accounts: pd.DataFrame, *, term_months: int = 12) -> pd.Series:
    """IDs of the month-to-month accounts: contract term 1 month (their own
    ``contract_term_months``, else ``term_months``).

    They are measured by monthly (logo) churn, not by renewal decisions: they are left out
    of :func:`renewal_decisions` and :func:`upcoming_renewals`.
    """
    if "account_id" not in accounts:
        return pd.Series([], dtype="string", name="account_id")
    terms = account_terms(accounts, term_months)
    ids = accounts.loc[terms.eq(MONTH_TO_MONTH), "account_id"].astype("string")
    return ids.drop_duplicates().reset_index(drop=True)


def _decisions_from_renewals(renewals: pd.DataFrame) -> pd.DataFrame:
    outcome = renewals["outcome"].astype("string").str.lower()
    unknown = sorted(set(outcome.dropna()) - {"renewed", "churned", "downgraded"})
    if unknown:
        raise DriverModelError(
            f"renewals.outcome has values outside renewed/churned/downgraded: {unknown}.",
            fix="Map the client's outcome codes in params (tables.renewals.codes.outcome).",
        )
    out = pd.DataFrame(
        {
            "account_id": renewals["account_id"].astype("string"),
            "decision_date": pd.to_datetime(renewals["renewal_date"]),
            "renewed": outcome.isin(["renewed", "downgraded"]).astype(int),
            "downgraded": (outcome == "downgraded").fillna(False).astype(bool),
            "source": "renewals",
            "arr_before": _numeric_or_nan(renewals, "arr_before"),
            "arr_after": _numeric_or_nan(renewals, "arr_after"),
        }
    )
    return _sorted_decisions(out[outcome.notna().to_numpy()])


def _decisions_derived(
    accounts: pd.DataFrame,
    churn_events: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp | str | None,
    term_months: int,
    renewal_date_means: str = "next",
) -> pd.DataFrame:
    acc = accounts.copy()
    acc["account_id"] = acc["account_id"].astype("string")
    for col in ("start_date", "renewal_date", "churn_date"):
        acc[col] = pd.to_datetime(acc[col]) if col in acc else pd.NaT
    acc["renewal_term"] = account_terms(acc, term_months)

    churns = _churn_dates(acc, churn_events)
    explicit = as_of is not None
    as_of_ts = pd.Timestamp(as_of) if explicit else _latest_observed_date(acc, churns)

    first_churn = churns.groupby("account_id")["churn_date"].min()
    rows: list[tuple[str, pd.Timestamp, int]] = []
    for rec in acc.itertuples(index=False):
        term = rec.renewal_term
        if pd.isna(rec.start_date) or pd.isna(term) or term <= MONTH_TO_MONTH:
            continue
        churn = first_churn.get(rec.account_id, pd.NaT)
        term = int(term)
        if renewal_date_means != "next" and pd.notna(rec.renewal_date):
            dates = _cycle_renewals(rec.renewal_date, term, rec.start_date, churn, as_of_ts)
        else:
            dates = _start_anniversaries(rec.start_date, term, churn, rec.renewal_date,
                                         as_of_ts, explicit)
        rows += [(rec.account_id, date, 1) for date in dates]
    rows += [(a, d, 0) for a, d in churns[["account_id", "churn_date"]].itertuples(index=False)]
    out = pd.DataFrame(rows, columns=["account_id", "decision_date", "renewed"])
    out["account_id"] = out["account_id"].astype("string")
    out["decision_date"] = pd.to_datetime(out["decision_date"])
    out["renewed"] = out["renewed"].astype(int)
    out["downgraded"] = False
    out["source"] = "derived"
    out["arr_before"] = np.nan
    out["arr_after"] = np.nan
    return _sorted_decisions(out)


def _check_renewal_date_means(renewal_date_means: str) -> None:
    if renewal_date_means not in RENEWAL_DATE_MEANINGS:
        raise ValueError(f"renewal_date_means must be one of {RENEWAL_DATE_MEANINGS}, "
                         f"not {renewal_date_means!r}")


def _start_anniversaries(start: pd.Timestamp, term: int, churn: pd.Timestamp,
                         renewal_date: pd.Timestamp, as_of: pd.Timestamp,
                         as_of_explicit: bool) -> list[pd.Timestamp]:
    """Past renewals on the anniversaries of the start date (``renewal_date_means: next``)."""
    dates = []
    k = 1
    while True:
        anniversary = start + pd.DateOffset(months=term * k)
        if not _anniversary_counts(anniversary, churn, renewal_date, as_of, as_of_explicit):
            return dates
        dates.append(anniversary)
        k += 1


def _cycle_renewals(anchor: pd.Timestamp, term: int, start: pd.Timestamp,
                    churn: pd.Timestamp, as_of: pd.Timestamp) -> list[pd.Timestamp]:
    """Past renewals on the renewal date's cycle (``last`` and ``contract_end``): after the
    start, before the first churn, or on or before ``as_of`` for an account still active."""
    if pd.notna(churn):
        return cycle_dates(anchor, term, after=start, until=churn, until_inclusive=False)
    return cycle_dates(anchor, term, after=start, until=as_of, until_inclusive=True)


def _anniversary_counts(
    anniversary: pd.Timestamp,
    churn: pd.Timestamp,
    renewal_date: pd.Timestamp,
    as_of: pd.Timestamp,
    as_of_explicit: bool,
) -> bool:
    """Whether a contract anniversary is a past renewal under the derived rule."""
    if pd.notna(churn):
        return anniversary < churn
    if pd.notna(renewal_date):
        return anniversary < renewal_date and (not as_of_explicit or anniversary <= as_of)
    return anniversary <= as_of


def _churn_dates(acc: pd.DataFrame, churn_events: pd.DataFrame | None) -> pd.DataFrame:
    """Churn decisions: churn_events rows, plus churned accounts missing from them."""
    frames = []
    if churn_events is not None and len(churn_events):
        ce = pd.DataFrame(
            {
                "account_id": churn_events["account_id"].astype("string"),
                "churn_date": pd.to_datetime(churn_events["churn_date"]),
            }
        )
        frames.append(ce.dropna())
    known = set(frames[0]["account_id"]) if frames else set()
    extra = acc.loc[acc["churn_date"].notna() & ~acc["account_id"].isin(known)]
    frames.append(extra[["account_id", "churn_date"]])
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def _latest_observed_date(acc: pd.DataFrame, churns: pd.DataFrame) -> pd.Timestamp:
    """Latest start or churn date in the data (events that have happened; no clock)."""
    dates = pd.concat([acc["start_date"], churns["churn_date"]]).dropna()
    return dates.max() if len(dates) else pd.NaT


def _sorted_decisions(out: pd.DataFrame) -> pd.DataFrame:
    out = out.dropna(subset=["account_id", "decision_date"])
    return out.sort_values(["account_id", "decision_date"], kind="stable").reset_index(drop=True)


def _numeric_or_nan(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def upcoming_renewals(
    accounts: pd.DataFrame,
    as_of: pd.Timestamp | str,
    *,
    horizon_days: int = 90,
    term_months: int | None = 12,
    renewals: pd.DataFrame | None = None,
    renewal_date_means: str = "next",
) -> pd.DataFrame:
    """Renewal decisions coming up: accounts active at ``as_of`` whose renewal is due soon.

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts``.
    as_of : date
        The day the scores are made for.
    horizon_days : int
        Renewals due in ``(as_of, as_of + horizon_days]`` count as coming up
        (``thresholds.renewal_horizon_days``).
    term_months : int, optional
        Contract term of accounts without their own ``contract_term_months``
        (``contracts.term_months``). For an active account without a ``renewal_date``: its
        next renewal is taken as the first anniversary of ``start_date`` (every term) after
        ``as_of``, as in the derived rule of :func:`renewal_decisions`. None: accounts
        without a term of their own have no fallback (left out without a renewal date, and
        without a next renewal under ``last`` / ``contract_end``). Month-to-month accounts
        (term 1, :func:`month_to_month_accounts`) are never coming up.
    renewals : DataFrame, optional
        Canonical ``renewals``. A decision it records in the horizon is coming up as seen
        from ``as_of`` (its outcome comes later): it wins over the accounts' snapshot
        ``renewal_date``, which is the next renewal after the export. This is what makes a
        run for an earlier period (``as_of`` before the export) list the renewals that were
        then ahead.
    renewal_date_means : {"next", "last", "contract_end"}
        What ``accounts.renewal_date`` holds (``contracts.renewal_date_means``). ``next``: the
        date is the next renewal. ``last`` and ``contract_end``: the next renewal is the first
        date of the renewal date's cycle (the date plus or minus whole terms) after
        ``as_of`` (:func:`playbook.contracts.next_on_cycle`).

    Returns
    -------
    DataFrame
        ``account_id``, ``decision_date`` (the renewal date), ``days_to_renewal`` (days),
        ``renewal_source`` ("renewals", "accounts" or "anniversary"), ``renewed`` (NaN: not
        known yet). Pass it to :func:`modelling_table` and then to :func:`open_book`.

    Notes
    -----
    An account counts as active at ``as_of`` when it had started by then and had not
    churned by then: its ``status`` is churned with a ``churn_date`` on or before ``as_of``
    (or no date); without a ``status`` column, it has a ``churn_date`` on or before
    ``as_of`` (a reactivated account is active with a past churn date, so the status
    decides when there is one).
    """
    _check_renewal_date_means(renewal_date_means)
    as_of_ts = pd.Timestamp(as_of)
    end = as_of_ts + pd.Timedelta(days=horizon_days)
    renewal = pd.to_datetime(accounts["renewal_date"]) if "renewal_date" in accounts else \
        pd.Series(pd.NaT, index=accounts.index, dtype="datetime64[ns]")
    terms = account_terms(accounts, term_months)
    if renewal_date_means != "next":
        renewal = _next_on_cycles(renewal, terms, as_of_ts)
    source = pd.Series("accounts", index=accounts.index, dtype=object)
    if "start_date" in accounts:
        start = pd.to_datetime(accounts["start_date"])
        fill = renewal.isna() & start.notna() & (start <= as_of_ts) & terms.notna()
        if fill.any():
            renewal = renewal.copy()
            renewal[fill] = [_next_anniversary(s, as_of_ts, int(t))
                             for s, t in zip(start[fill], terms[fill], strict=True)]
            source[fill] = "anniversary"
    if renewals is not None and len(renewals):
        dates = pd.to_datetime(renewals["renewal_date"])
        ahead = renewals.loc[(dates > as_of_ts) & (dates <= end), ["account_id"]].assign(
            renewal_date=dates).groupby("account_id")["renewal_date"].min()
        recorded = (accounts["account_id"].map(ahead) if len(ahead) else
                    pd.Series(pd.NaT, index=accounts.index, dtype="datetime64[ns]"))
        if recorded.notna().any():
            renewal = renewal.copy()
            renewal[recorded.notna()] = recorded[recorded.notna()]
            source[recorded.notna()] = "renewals"
    status = (accounts["status"].astype("string").str.lower() if "status" in accounts
              else None)
    churn_date = (pd.to_datetime(accounts["churn_date"]) if "churn_date" in accounts
                  else pd.Series(pd.NaT, index=accounts.index, dtype="datetime64[ns]"))
    churned_by_then = churn_date.isna() | (churn_date <= as_of_ts)  # an undated churn counts
    if status is not None and status.notna().any():
        churned = status.eq("churned").fillna(False).astype(bool) & churned_by_then
    else:
        churned = churn_date.notna() & (churn_date <= as_of_ts)
    started = (pd.to_datetime(accounts["start_date"]) <= as_of_ts).fillna(True) \
        if "start_date" in accounts else pd.Series(True, index=accounts.index)
    due = (renewal > as_of_ts) & (renewal <= end)
    monthly = terms.eq(MONTH_TO_MONTH)
    sel = accounts.loc[due & ~churned & started.astype(bool) & ~monthly]
    out = pd.DataFrame(
        {
            "account_id": sel["account_id"].astype("string"),
            "decision_date": renewal[sel.index],
            "days_to_renewal": (renewal[sel.index] - as_of_ts).dt.days,
            "renewal_source": source[sel.index],
            "renewed": np.nan,
        }
    )
    return out.sort_values("decision_date", kind="stable").reset_index(drop=True)


def _next_on_cycles(dates: pd.Series, terms: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    """The next date after ``as_of`` on each account's renewal-date cycle (NaT without a
    date or a term)."""
    out = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")
    known = dates.notna() & terms.notna()
    out[known] = [next_on_cycle(d, int(t), as_of)
                  for d, t in zip(dates[known], terms[known], strict=True)]
    return out


def _next_anniversary(start: pd.Timestamp, after: pd.Timestamp, term_months: int
                      ) -> pd.Timestamp:
    """First ``start + k * term_months`` (k >= 1) strictly after ``after``."""
    months = (after.year - start.year) * 12 + after.month - start.month
    k = max(1, months // term_months)
    date = start + pd.DateOffset(months=term_months * k)
    while date <= after:
        k += 1
        date = start + pd.DateOffset(months=term_months * k)
    return date


# --------------------------------------------------------------------------------------
# 2. Modelling table
# --------------------------------------------------------------------------------------


def modelling_table(
    decisions: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    *,
    cutoff_days: int = 90,
    usage_drop_share: float = 0.25,
    low_nps: float = 6,
    ticket_window_days: int = 90,
    contact_days_cap: int = 365,
    nps_lookback_days: int | None = None,
    nps_no_answer: str = "missing",
    sponsor_roles: Sequence[str] = SPONSOR_ROLES,
    exec_by_seniority: bool = True,
    final_onboarding_step: str | None = None,
    as_of: pd.Timestamp | str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Features per renewal decision, measured at the cut-off, without look-ahead.

    The cut-off of a decision is ``decision_date - cutoff_days`` (``drivers.cutoff_days``).
    Only records dated on or before the cut-off are used, so nothing that happened in the
    run-up to the decision (or after it) can leak into the features.

    Parameters
    ----------
    decisions : DataFrame
        From :func:`renewal_decisions` or :func:`upcoming_renewals` (account_id,
        decision_date; renewed, downgraded and arr_before are carried over when present).
    tables : mapping of str to DataFrame or None
        Canonical tables by name: ``accounts`` (required), and optionally ``usage``,
        ``tickets``, ``surveys``, ``contacts``, ``touches``, ``onboarding``. A missing or
        ``None`` table skips its features; the report says which and why.
    cutoff_days : int
        Days between the cut-off and the decision.
    usage_drop_share : float
        ``usage_decline`` is true when active users fell by more than this share over the 3
        months before the cut-off (``thresholds.usage_drop_share``).
    low_nps : float
        ``nps_detractor`` is true when the last NPS is at or below this (``thresholds.low_nps``).
    ticket_window_days : int
        Ticket features count tickets opened in the ``ticket_window_days`` up to the cut-off.
    contact_days_cap : int
        Days since last contact are capped here; no contact in that time (or never) = the cap.
    nps_no_answer : {"missing", "not_detractor", "detractor"}, default "missing"
        What ``nps_detractor`` is for a decision with no NPS answer in the window: missing
        (the row drops out of a model using it), or counted as not / as a detractor.
    nps_lookback_days : int, optional
        Only survey answers in the ``nps_lookback_days`` up to the cut-off count (None = any
        answer on or before the cut-off).
    sponsor_roles : sequence of str
        Contact roles that can be an executive sponsor (with a strong relationship at director
        level or above). Pass ``("executive",)`` for a stricter definition.
    exec_by_seniority : bool
        For ``days_since_exec_contact``: True counts touches with role-executive contacts and
        with any contact at director level or above; False only role-executive contacts.
    final_onboarding_step : str, optional
        Name of the step that ends onboarding (e.g. ``"Go-live"``); builds
        ``onboarding_incomplete``.
    as_of : date, optional
        For scoring renewals still to come: a cut-off later than ``as_of`` is moved back to
        ``as_of`` (nothing after the day the scores are made for is used). The report counts
        the decisions concerned in ``cutoff_capped_at_as_of``.
    variables : mapping, optional
        The client's own variables (params ``variables``: key -> table, kind, label,
        reference, unit, scale; see :func:`playbook.analyses.variables.declared`). Each is a
        feature named by its label: an accounts variable is the account's value (a current
        snapshot, like ``segment``), a usage variable its value in the last complete month on
        or before the cut-off. A categorical one enters as dummies against its
        ``reference`` level (the first category of the column), a numeric one per ``scale``
        units (``report["units"]``, to pass to :func:`fit_renewal_model`).

    Returns
    -------
    table : DataFrame
        One row per decision: ``account_id``, ``decision_date``, ``cutoff_date``, ``renewed``,
        ``downgraded`` and the built features:

        ===========================  ======================================================
        active_users                 active users in the last complete month on or before
                                     the cut-off (count)
        active_users_change_3m       that month's active users minus those 3 months
                                     earlier (count; NaN when either month is missing)
        usage_change_share_3m        the same change as a share of the earlier month
        usage_decline                usage_change_share_3m < -usage_drop_share (boolean)
        seat_utilisation             active users / licensed seats, same month (share)
        last_nps, last_csat          last survey answer on or before the cut-off
        nps_detractor                last_nps <= low_nps (boolean)
        tickets_90d                  tickets opened in the window (count)
        high_priority_tickets_90d    of which priority high or urgent (count)
        ticket_hours_90d             hours on tickets opened in the window *and* closed by
                                     the cut-off (hours on still-open tickets may include
                                     later work, so they are left out)
        strong_user_relationships    contacts with role user/champion and a strong
                                     relationship (count)
        exec_relationships           contacts at director level or above, any role (count)
        strong_exec_relationships    of which strong (count)
        exec_sponsor                 at least one strong executive or champion contact at
                                     director level or above (boolean)
        days_since_user_contact      days from the last touch with a user/champion contact
                                     to the cut-off, capped at contact_days_cap
        days_since_exec_contact      same for executive contacts (role executive or
                                     director level or above)
        tenure_years                 (cut-off - start_date) in years of 365.25 days
        products                     products owned (accounts snapshot)
        contract_value               ARR before the decision (renewals.arr_before), else
                                     the accounts' current ARR (money)
        log2_contract_value          log2(contract_value) (a step of 1 = double the contract
                                     value; NaN when the value is 0 or missing)
        segment                      the client's segment label (text)
        onboarding_steps             distinct onboarding steps completed by the cut-off
        onboarding_incomplete        final_onboarding_step not completed by the cut-off
                                     (boolean; only when final_onboarding_step is given)
        ===========================  ======================================================

    report : dict
        ``built`` (list of feature names), ``skipped`` (feature -> reason), ``notes`` (list of
        sentences about limitations), ``cutoff_days``, ``n_decisions``,
        ``cutoff_before_start`` (decisions whose cut-off precedes the account's start),
        ``variables`` (key -> feature name of each client variable built) and ``units``
        (feature -> (scale, unit) of the numeric client variables).

    Notes
    -----
    Contacts carry no dates: the contacts list is taken as known at every cut-off, i.e. a
    relationship built (or lost) after the cut-off is treated as if it existed before. This is
    a look-ahead the data cannot rule out; the report notes it. ``products``, ``segment`` and
    (without a renewals table) ``contract_value`` are current snapshots from ``accounts``, with
    the same limitation. A usage month counts only once it is complete (its last day is on or
    before the cut-off).
    """
    if tables.get("accounts") is None:
        raise DriverModelError(
            "modelling_table needs the accounts table.",
            fix="Pass tables={'accounts': accounts, ...}.",
        )
    base = _decision_frame(decisions, cutoff_days)
    report: dict[str, Any] = {
        "cutoff_days": cutoff_days,
        "built": [],
        "skipped": {},
        "notes": [],
        "n_decisions": len(base),
        "cutoff_capped_at_as_of": 0,
        "variables": {},
        "units": {},
    }
    if as_of is not None:
        late = base["cutoff_date"] > pd.Timestamp(as_of)
        base.loc[late, "cutoff_date"] = pd.Timestamp(as_of)
        report["cutoff_capped_at_as_of"] = int(late.sum())
        if late.any():
            report["notes"].append(
                f"{int(late.sum())} decision(s) are less than {cutoff_days} days away: their "
                "features are measured at the as-of date instead."
            )
    builders = [
        (_usage_features, {"usage_drop_share": usage_drop_share}),
        (_survey_features, {"low_nps": low_nps, "lookback_days": nps_lookback_days,
                             "no_answer": nps_no_answer}),
        (_ticket_features, {"window_days": ticket_window_days}),
        (_contact_features, {"sponsor_roles": tuple(sponsor_roles)}),
        (_touch_features, {"cap_days": contact_days_cap, "exec_by_seniority": exec_by_seniority}),
        (_onboarding_features, {"final_step": final_onboarding_step}),
        (_variable_features, {"variables": declared(variables)}),
    ]
    pieces = [_account_features(base, tables["accounts"], report)]
    for builder, kwargs in builders:
        pieces.append(builder(base, tables, report, **kwargs))
    table = base.drop(columns=["_row"]).join([p for p in pieces if p is not None and p.shape[1]])
    report["cutoff_before_start"] = int(
        (table["tenure_years"] < 0).sum() if "tenure_years" in table else 0
    )
    if report["cutoff_before_start"]:
        report["notes"].append(
            f"{report['cutoff_before_start']} decision(s) have a cut-off before the account "
            "started (tenure_years < 0): features there describe a customer not yet live."
        )
    return table.reset_index(drop=True), report


def _decision_frame(decisions: pd.DataFrame, cutoff_days: int) -> pd.DataFrame:
    base = pd.DataFrame(
        {
            "account_id": decisions["account_id"].astype("string").to_numpy(),
            "decision_date": pd.to_datetime(decisions["decision_date"]).to_numpy(),
        }
    )
    base["cutoff_date"] = base["decision_date"] - pd.Timedelta(days=cutoff_days)
    for col in ("renewed", "downgraded", "arr_before"):
        if col in decisions:
            base[col] = decisions[col].to_numpy()
    if "renewed" not in base:
        base["renewed"] = np.nan
    base["_row"] = np.arange(len(base))
    base.index = base["_row"].to_numpy()
    return base


def _skip(report: dict[str, Any], features: Sequence[str], reason: str) -> None:
    for f in features:
        report["skipped"][f] = reason


def _built(report: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    report["built"].extend(frame.columns)
    return frame


def _records_by_cutoff(
    base: pd.DataFrame, records: pd.DataFrame, date_col: str, *, window_days: int | None = None
) -> pd.DataFrame:
    """Join records to decisions by account; keep those dated on or before the cut-off.

    With ``window_days`` keep only records in ``(cutoff - window_days, cutoff]``.
    """
    recs = records.copy()
    recs["account_id"] = recs["account_id"].astype("string")
    recs[date_col] = pd.to_datetime(recs[date_col])
    joined = base[["_row", "account_id", "cutoff_date"]].merge(recs, on="account_id")
    keep = joined[date_col] <= joined["cutoff_date"]
    if window_days is not None:
        keep &= joined[date_col] > joined["cutoff_date"] - pd.Timedelta(days=window_days)
    return joined.loc[keep]


def _has_values(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and frame[column].notna().any()


def _account_features(
    base: pd.DataFrame, accounts: pd.DataFrame, report: dict[str, Any]
) -> pd.DataFrame:
    acc = accounts.drop_duplicates("account_id").copy()
    acc["account_id"] = acc["account_id"].astype("string")
    joined = base[["_row", "account_id", "cutoff_date"]].merge(acc, on="account_id", how="left")
    joined.index = joined["_row"].to_numpy()
    out = pd.DataFrame(index=base.index)
    if _has_values(joined, "start_date"):
        days = (joined["cutoff_date"] - pd.to_datetime(joined["start_date"])).dt.days
        out["tenure_years"] = days / 365.25
    else:
        _skip(report, ["tenure_years"], "accounts.start_date is empty")
    if _has_values(joined, "products"):
        out["products"] = pd.to_numeric(joined["products"], errors="coerce").astype(float)
    else:
        _skip(report, ["products"], "accounts.products is missing or empty")
    contract = _numeric_or_nan(base, "arr_before")
    if contract.notna().any():
        report["notes"].append("contract_value = renewals.arr_before (ARR before the decision).")
    if contract.isna().any() and _has_values(joined, "arr"):
        n_fill = int(contract.isna().sum())
        contract = contract.fillna(pd.to_numeric(joined["arr"], errors="coerce").astype(float))
        report["notes"].append(
            f"contract_value of {n_fill} decision(s) is accounts.arr, a current snapshot (for "
            "churned accounts possibly their last or zero ARR)."
        )
    if contract.notna().any():
        out["contract_value"] = contract
        out["log2_contract_value"] = np.log2(contract.where(contract > 0))
    else:
        _skip(report, ["contract_value", "log2_contract_value"],
              "neither renewals.arr_before nor accounts.arr given")
    if _has_values(joined, "segment"):
        out["segment"] = joined["segment"].astype("string")
    else:
        _skip(report, ["segment"], "accounts.segment is missing or empty")
    if {"products", "segment"} & set(out.columns):
        report["notes"].append(
            "products and segment are current snapshots from accounts, not values at the "
            "cut-off."
        )
    return _built(report, out)


USAGE_FEATURES = (
    "active_users",
    "active_users_change_3m",
    "usage_change_share_3m",
    "usage_decline",
    "seat_utilisation",
)


def _usage_features(
    base: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    report: dict[str, Any],
    *,
    usage_drop_share: float,
) -> pd.DataFrame | None:
    usage = tables.get("usage")
    if usage is None:
        _skip(report, USAGE_FEATURES, "table 'usage' not provided")
        return None
    if not _has_values(usage, "active_users"):
        _skip(report, USAGE_FEATURES, "usage.active_users is missing or empty")
        return None
    u = usage.copy()
    u["month"] = pd.to_datetime(u["month"]).dt.to_period("M").dt.to_timestamp()
    u["_month_end"] = u["month"] + pd.offsets.MonthEnd(0)
    u = u.groupby(["account_id", "month", "_month_end"], as_index=False).sum(
        numeric_only=True, min_count=1
    )
    recs = _records_by_cutoff(base, u, "_month_end")
    out = pd.DataFrame(index=base.index)
    if recs.empty:
        last = recs.assign(active_users=np.nan)
    else:
        last = recs.sort_values("month").groupby("_row").tail(1).set_index("_row")
    out["active_users"] = last["active_users"].astype(float)
    earlier = recs.assign(month=recs["month"] + pd.DateOffset(months=3))
    earlier = earlier.set_index(["_row", "month"])["active_users"].astype(float)
    key = pd.MultiIndex.from_arrays([last.index, last["month"]]) if len(last) else None
    before = pd.Series(earlier.reindex(key).to_numpy() if key is not None else [], index=last.index)
    out["active_users_change_3m"] = out["active_users"] - before
    share = out["active_users_change_3m"] / before.where(before > 0)
    out["usage_change_share_3m"] = share
    out["usage_decline"] = (share < -usage_drop_share).astype("boolean").mask(share.isna())
    if _has_values(usage, "licensed_seats"):
        seats = last["licensed_seats"].astype(float)
        out["seat_utilisation"] = out["active_users"] / seats.where(seats > 0)
    else:
        out = out.drop(columns=[c for c in ["seat_utilisation"] if c in out])
        _skip(report, ["seat_utilisation"], "usage.licensed_seats is missing or empty")
    return _built(report, out)


def _survey_features(
    base: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    report: dict[str, Any],
    *,
    low_nps: float,
    lookback_days: int | None,
    no_answer: str = "missing",
) -> pd.DataFrame | None:
    surveys = tables.get("surveys")
    names = {"nps": ["last_nps", "nps_detractor"], "csat": ["last_csat"]}
    if surveys is None:
        _skip(report, names["nps"] + names["csat"], "table 'surveys' not provided")
        return None
    out = pd.DataFrame(index=base.index)
    for col, feats in names.items():
        if not _has_values(surveys, col):
            _skip(report, feats, f"surveys.{col} is missing or empty")
            continue
        recs = _records_by_cutoff(
            base, surveys.dropna(subset=[col]), "date", window_days=lookback_days
        )
        last = recs.sort_values("date", kind="stable").groupby("_row")[col].last().astype(float)
        out[feats[0]] = last
        if col == "nps":
            detractor = (out["last_nps"] <= low_nps).astype("boolean")
            if no_answer == "missing":
                detractor = detractor.mask(out["last_nps"].isna())
            else:
                detractor = detractor.mask(out["last_nps"].isna(), no_answer == "detractor")
            out["nps_detractor"] = detractor
    return _built(report, out)


TICKET_FEATURES = ("tickets_90d", "high_priority_tickets_90d", "ticket_hours_90d")


def _ticket_features(
    base: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    report: dict[str, Any],
    *,
    window_days: int,
) -> pd.DataFrame | None:
    tickets = tables.get("tickets")
    if tickets is None:
        _skip(report, TICKET_FEATURES, "table 'tickets' not provided")
        return None
    recs = _records_by_cutoff(base, tickets, "opened_at", window_days=window_days)
    grouped = recs.groupby("_row")
    out = pd.DataFrame(index=base.index)
    out["tickets_90d"] = grouped.size().reindex(base.index, fill_value=0).astype(float)
    if _has_values(tickets, "priority"):
        high = recs["priority"].astype("string").str.lower().isin(HIGH_PRIORITIES)
        out["high_priority_tickets_90d"] = (
            high.groupby(recs["_row"]).sum().reindex(base.index, fill_value=0).astype(float)
        )
    else:
        _skip(report, ["high_priority_tickets_90d"], "tickets.priority is missing or empty")
    if _has_values(tickets, "hours_spent"):
        closed = pd.to_datetime(recs["closed_at"]) if "closed_at" in recs else None
        done = closed.notna() & (closed <= recs["cutoff_date"]) if closed is not None else True
        hours = pd.to_numeric(recs["hours_spent"], errors="coerce").fillna(0).where(done, 0)
        out["ticket_hours_90d"] = (
            hours.groupby(recs["_row"]).sum().reindex(base.index, fill_value=0).astype(float)
        )
    else:
        _skip(report, ["ticket_hours_90d"], "tickets.hours_spent is missing or empty")
    return _built(report, out)


CONTACT_FEATURES = (
    "strong_user_relationships",
    "exec_relationships",
    "strong_exec_relationships",
    "exec_sponsor",
)


def _classified_contacts(
    contacts: pd.DataFrame,
    *,
    sponsor_roles: Sequence[str] = SPONSOR_ROLES,
    exec_by_seniority: bool = True,
) -> pd.DataFrame:
    c = contacts.copy()
    c["account_id"] = c["account_id"].astype("string")
    role = c["role"].astype("string").str.lower() if "role" in c else pd.Series(pd.NA, c.index)
    seniority = (
        c["seniority"].astype("string").str.lower() if "seniority" in c
        else pd.Series(pd.NA, c.index)
    )
    strength = (
        c["relationship_strength"].astype("string").str.lower()
        if "relationship_strength" in c else pd.Series(pd.NA, c.index)
    )
    director_plus = seniority.isin(DIRECTOR_PLUS).fillna(False).astype(bool)
    strong = strength.eq("strong").fillna(False).astype(bool)
    c["_is_user"] = role.isin(USER_ROLES).fillna(False).astype(bool)
    is_exec_role = role.eq("executive").fillna(False).astype(bool)
    c["_is_exec"] = (director_plus | is_exec_role) if exec_by_seniority else is_exec_role
    c["_director_plus"] = director_plus
    c["_strong"] = strong
    c["_sponsor"] = strong & director_plus & role.isin(sponsor_roles).fillna(False).astype(bool)
    return c


def _contact_features(
    base: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    report: dict[str, Any],
    *,
    sponsor_roles: tuple[str, ...],
) -> pd.DataFrame | None:
    contacts = tables.get("contacts")
    if contacts is None:
        _skip(report, CONTACT_FEATURES, "table 'contacts' not provided")
        return None
    c = _classified_contacts(contacts, sponsor_roles=sponsor_roles)
    per_account = pd.DataFrame(
        {
            "strong_user_relationships": (c["_is_user"] & c["_strong"]),
            "exec_relationships": c["_director_plus"],
            "strong_exec_relationships": c["_director_plus"] & c["_strong"],
            "exec_sponsor": c["_sponsor"],
        }
    ).groupby(c["account_id"]).sum()
    out = (
        base[["account_id"]]
        .join(per_account, on="account_id")
        .drop(columns="account_id")
        .fillna(0)
        .astype(float)
    )
    out["exec_sponsor"] = (out["exec_sponsor"] > 0).astype("boolean")
    report["notes"].append(
        "Contacts carry no dates: the current contact list is taken as known at every "
        "cut-off (relationships built or lost later are treated as already there)."
    )
    return _built(report, out)


def _touch_features(
    base: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    report: dict[str, Any],
    *,
    cap_days: int,
    exec_by_seniority: bool,
) -> pd.DataFrame | None:
    names = ["days_since_user_contact", "days_since_exec_contact"]
    touches, contacts = tables.get("touches"), tables.get("contacts")
    if touches is None:
        _skip(report, names, "table 'touches' not provided")
        return None
    if contacts is None or "contact_id" not in touches:
        _skip(report, names, "touches need the contacts table (joined by contact_id) to tell "
              "user from executive contacts")
        return None
    c = _classified_contacts(contacts, exec_by_seniority=exec_by_seniority)
    c = c[["contact_id", "_is_user", "_is_exec"]]
    c = c.assign(contact_id=c["contact_id"].astype("string")).drop_duplicates("contact_id")
    t = touches.dropna(subset=["contact_id"]).copy()
    t["contact_id"] = t["contact_id"].astype("string")
    t = t.merge(c, on="contact_id", how="inner")
    unused = len(touches) - len(t)
    if unused:
        report["notes"].append(
            f"{unused} touch(es) without a contact_id found in contacts were not used for the "
            "days-since-contact features."
        )
    recs = _records_by_cutoff(base, t, "date")
    out = pd.DataFrame(index=base.index)
    for name, flag in zip(names, ["_is_user", "_is_exec"], strict=True):
        last = recs.loc[recs[flag]].groupby("_row")["date"].max()
        days = (base["cutoff_date"] - last.reindex(base.index)).dt.days
        out[name] = days.clip(upper=cap_days).fillna(cap_days).astype(float)
    report["notes"].append(
        f"Days since last contact are capped at {cap_days}; no logged contact in that time "
        f"(or ever) counts as {cap_days}."
    )
    return _built(report, out)


def _onboarding_features(
    base: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    report: dict[str, Any],
    *,
    final_step: str | None,
) -> pd.DataFrame | None:
    onboarding = tables.get("onboarding")
    if onboarding is None:
        _skip(report, ["onboarding_steps", "onboarding_incomplete"],
              "table 'onboarding' not provided")
        return None
    recs = _records_by_cutoff(base, onboarding.dropna(subset=["completed_date"]),
                              "completed_date")
    steps = recs.groupby("_row")["step"].nunique()
    out = pd.DataFrame({"onboarding_steps": steps.reindex(base.index, fill_value=0)})
    out = out.astype(float)
    if final_step is None:
        _skip(report, ["onboarding_incomplete"], "no final_onboarding_step given")
    else:
        done = recs.loc[recs["step"].astype("string") == final_step, "_row"].unique()
        out["onboarding_incomplete"] = pd.array(~base.index.isin(done), dtype="boolean")
    return _built(report, out)


def _variable_features(
    base: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    report: dict[str, Any],
    *,
    variables: Sequence[Variable],
) -> pd.DataFrame | None:
    """One feature per declared client variable, named by its label (see
    :func:`modelling_table`)."""
    if not variables:
        return None
    out = pd.DataFrame(index=base.index)
    snapshot = []
    for var in variables:
        source = tables.get(var.table)
        if source is None or not _has_values(source, var.column):
            why = (f"table '{var.table}' not provided" if source is None else
                   f"{var.table} has no value of variables.{var.key}")
            _skip(report, [var.label], why)
            continue
        if var.table == "usage":
            values = _usage_variable(base, source, var.column)
        else:
            acc = source.drop_duplicates("account_id")
            by_id = acc.set_index(acc["account_id"].astype("string"))[var.column]
            values = base["account_id"].map(by_id)
            snapshot.append(var.label)
        out[var.label] = _variable_feature(values, var)
        if var.kind != "numeric" and var.reference is not None and \
                not values.astype("string").eq(var.reference).any():
            report["notes"].append(
                f"{var.label}: no decision has the reference level '{var.reference}'; its "
                "levels are compared with the most common one instead.")
        report["variables"][var.key] = var.label
        if var.kind == "numeric":
            report["units"][var.label] = (var.scale, var.unit_text)
    if snapshot:
        report["notes"].append(
            f"{', '.join(snapshot)}: the accounts file's current value"
            f"{'s' if len(snapshot) > 1 else ''}, not the value at the cut-off.")
    return _built(report, out)


def _usage_variable(base: pd.DataFrame, usage: pd.DataFrame, column: str) -> pd.Series:
    """A usage variable's value in the last complete month on or before each cut-off."""
    u = usage.dropna(subset=[column])[["account_id", "month", column]].copy()
    u["_month_end"] = pd.to_datetime(u["month"]).dt.to_period("M").dt.to_timestamp() \
        + pd.offsets.MonthEnd(0)
    recs = _records_by_cutoff(base, u, "_month_end")
    last = recs.sort_values("_month_end", kind="stable").groupby("_row")[column].last()
    return last.reindex(base.index)


def _variable_feature(values: pd.Series, var: Variable) -> pd.Series:
    """Numeric: floats. Categorical: a pandas categorical whose first category is the
    declared reference level (present in the values), else plain text (the model then
    compares with the most common level)."""
    if var.kind == "numeric":
        return pd.to_numeric(values, errors="coerce").astype(float)
    text = values.astype("string")
    levels = sorted(text.dropna().unique())
    if var.reference is None or var.reference not in levels:
        return text
    order = [var.reference, *(lvl for lvl in levels if lvl != var.reference)]
    return pd.Series(pd.Categorical(text.astype(object).where(text.notna(), None),
                                    categories=order), index=values.index)


# --------------------------------------------------------------------------------------
# 3. Model
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    """How one feature enters the design: numeric (value / scale) or categorical dummies."""

    feature: str
    columns: tuple[str, ...]
    scale: float = 1.0
    unit: str = ""
    reference: str | None = None
    levels: tuple[str, ...] = ()
    binary: bool = False


@dataclass
class DriverModel:
    """A fitted renewal model and everything needed to read, check and reuse it.

    Attributes
    ----------
    outcome : str
        Name of the 0/1 outcome column (1 = renewed).
    features : list of str
        Features kept in the model (after the VIF and events-per-feature checks).
    coefficients : DataFrame
        One row per design column (a numeric feature, or a level of a categorical one):
        ``feature``, ``unit`` (what one step of the variable is), ``coef`` (log-odds of
        renewal per unit), ``std_err``, ``odds_ratio``, ``or_low``/``or_high`` (95% CI),
        ``p_value``, ``ame`` (average marginal effect: change in the probability of renewal,
        as a share 0-1, per unit; for yes/no features the average discrete change from no to
        yes), ``ame_low``/``ame_high`` (95% CI). Intervals and p-values are NaN for a
        penalised fit.
    n : int
        Decisions used (complete cases).
    events : int
        Non-renewals among them.
    events_per_feature : float
        Decisions in the rarer outcome class per design column.
    method : str
        ``"mle"`` (ordinary maximum likelihood) or ``"l1"`` (penalised fallback).
    checks : dict
        Results of the checks run on every fit; see :func:`fit_renewal_model`.
    result : object
        The statsmodels results object (for the appendix's full regression table).
    """

    outcome: str
    features: list[str]
    coefficients: pd.DataFrame
    n: int
    events: int
    events_per_feature: float
    method: str
    checks: dict[str, Any]
    result: Any = field(repr=False)
    terms: list[_Term] = field(default_factory=list, repr=False)
    params: pd.Series = field(default_factory=pd.Series, repr=False)
    design_means: pd.Series = field(default_factory=pd.Series, repr=False)

    def predict(self, table: pd.DataFrame) -> pd.Series:
        """Predicted probability of renewal (share 0-1) per row; NaN where a feature is missing.

        Features are scaled with the units learnt at fit time; a category level not seen in
        training is scored as the reference level.
        """
        X = _apply_terms(table, self.terms)
        complete = X.notna().all(axis=1)
        X = sm.add_constant(X, has_constant="add")
        eta = X.fillna(0).to_numpy(dtype=float) @ self.params.reindex(X.columns).to_numpy()
        return pd.Series(_sigmoid(eta), index=table.index).where(complete)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _as_numeric(s: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    return pd.to_numeric(s, errors="coerce").astype(float)


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s))


def _make_terms(
    table: pd.DataFrame,
    features: Sequence[str],
    units: Mapping[str, float | tuple[float, str] | str] | None,
) -> list[_Term]:
    """Decide how each feature enters the model, from the (training) data."""
    units = {**DEFAULT_UNITS, **(units or {})}
    terms = []
    for f in features:
        s = table[f]
        if _is_categorical(s):
            counts = s.dropna().astype(str).value_counts()
            counts = counts.sort_index().sort_values(ascending=False, kind="stable")
            ref = _declared_reference(s, counts.index)
            others = tuple(lvl for lvl in counts.index if lvl != ref)
            cols = tuple(f"{f}[{lvl}]" for lvl in others)
            terms.append(_Term(f, cols, 1.0, f"vs {ref}", ref, others, True))
            continue
        x = _as_numeric(s).dropna()
        binary = bool(len(x)) and set(np.unique(x)) <= {0.0, 1.0}
        spec = units.get(f)
        if spec is None:
            spec = (1.0, "yes vs no") if binary else "sd"
        if spec == "sd":
            sd = float(x.std(ddof=1)) if len(x) > 1 else 0.0
            scale = sd if sd > 0 else 1.0
            terms.append(_Term(f, (f,), scale, f"per 1 SD (= {_fmt(scale)})", binary=binary))
        elif isinstance(spec, tuple):
            terms.append(_Term(f, (f,), float(spec[0]), spec[1], binary=binary))
        else:
            scale = float(spec)
            terms.append(_Term(f, (f,), scale, f"per {_fmt(scale)}", binary=binary))
    return terms


def _declared_reference(s: pd.Series, observed: pd.Index) -> str:
    """The reference level of a categorical feature: the first category of a pandas
    categorical column that occurs (a client variable's declared reference, see
    :func:`modelling_table`), else the most common level (``observed`` is sorted by count)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        for level in s.cat.categories.astype(str):
            if level in observed:
                return level
    return observed[0]


def _fmt(x: float) -> str:
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def _apply_terms(table: pd.DataFrame, terms: Sequence[_Term]) -> pd.DataFrame:
    """The design matrix (without constant) for ``table``; NaN where a value is missing."""
    cols: dict[str, pd.Series] = {}
    for t in terms:
        s = table[t.feature]
        if t.reference is not None:
            txt = s.astype("string")
            for lvl, col in zip(t.levels, t.columns, strict=True):
                cols[col] = (txt == lvl).astype(float).where(txt.notna())
        else:
            cols[t.columns[0]] = _as_numeric(s) / t.scale
    return pd.DataFrame(cols, index=table.index)


def fit_renewal_model(
    table: pd.DataFrame,
    features: Sequence[str],
    *,
    outcome: str = "renewed",
    units: Mapping[str, float | tuple[float, str] | str] | None = None,
    vif_max: float = 10.0,
    min_events_per_feature: float = 10.0,
    reduce_features: bool = True,
    penalty: float = 1.0,
    cluster_by: str | None = "account_id",
) -> DriverModel:
    """Logistic regression of renewal on the features, with checks that run every time.

    Parameters
    ----------
    table : DataFrame
        From :func:`modelling_table` (or any frame with the outcome and feature columns).
    features : sequence of str
        Candidate features. Numeric and boolean columns enter as ``value / scale``; text
        columns (e.g. ``segment``) as dummies against their most frequent level.
    outcome : str
        0/1 column, 1 = renewed.
    units : mapping, optional
        Per feature: ``(scale, label)``, a scale, or ``"sd"`` (per 1 standard deviation).
        Overrides :data:`DEFAULT_UNITS`. Unlisted numeric features use "per 1 SD"; 0/1
        features "yes vs no".
    vif_max : float
        Features are dropped one at a time (the highest VIF first; ties: the one listed last)
        while any variance inflation factor exceeds this.
    min_events_per_feature : float
        Below this many decisions of the rarer outcome per design column the fit is flagged
        and, with ``reduce_features``, limited to the features with the smallest univariate
        likelihood-ratio p-values.
    reduce_features : bool
        Whether to reduce the features when events per feature are too few.
    penalty : float
        L1 weight (log-likelihood units, per coefficient; the intercept is not penalised) of
        the fallback fit used when the outcome is (quasi-)perfectly separated.
    cluster_by : str, optional
        Column of ``table`` naming who made each decision (default ``account_id``). When
        some account has several decisions, the standard errors, intervals and p-values are
        cluster-robust by that column (an account's decisions are not independent
        observations); otherwise, or when the column is absent or None, they are the usual
        maximum-likelihood ones.

    Returns
    -------
    DriverModel
        ``checks`` holds: ``clustering`` (by, groups, decisions, applied),
        ``rows_dropped_missing`` (decisions without a complete set of
        features), ``class_balance`` (n, renewed, not_renewed, share_renewed), ``constant``
        (features dropped for having one value), ``vif`` (feature -> VIF of the kept
        features), ``vif_dropped`` (feature -> VIF when dropped), ``events_per_feature``
        (value, minimum, below_minimum, removed features), ``separation`` (detected, reasons,
        separating_features, fallback) and ``warnings`` (sentences for the notebook).

    Raises
    ------
    DriverModelError
        When fewer than 2 decisions of either outcome remain or no feature is left.
    """
    data = table[[outcome, *features]].copy()
    complete = data.notna().all(axis=1)
    data = data.loc[complete]
    y = _as_numeric(data[outcome])
    checks: dict[str, Any] = {
        "rows_dropped_missing": int((~complete).sum()),
        "warnings": [],
    }
    if checks["rows_dropped_missing"]:
        checks["warnings"].append(
            f"{checks['rows_dropped_missing']} of {len(table)} decisions lack a feature value "
            "and were left out."
        )
    checks["class_balance"] = _class_balance(y)
    if min(checks["class_balance"]["renewed"], checks["class_balance"]["not_renewed"]) < 2:
        raise DriverModelError(
            f"Cannot fit a renewal model: {checks['class_balance']['renewed']} renewals and "
            f"{checks['class_balance']['not_renewed']} non-renewals among complete rows.",
            fix="Use more history, fewer features, or check the decision outcomes.",
        )
    share = checks["class_balance"]["share_renewed"]
    if share < 0.05 or share > 0.95:
        checks["warnings"].append(
            f"Outcomes are very unbalanced ({share:.0%} renewed): estimates rest on few events."
        )

    kept = _drop_constant(data, list(features), checks)
    kept = _drop_high_vif(data, kept, units, vif_max, checks)
    kept = _limit_to_events(data, y, kept, units, min_events_per_feature, reduce_features, checks)
    if not kept:
        raise DriverModelError("No usable feature left for the renewal model.",
                               fix="Check the feature report and the checks.")

    terms = _make_terms(data, kept, units)
    X = sm.add_constant(_apply_terms(data, terms), has_constant="add")
    groups = _cluster_codes(table, data.index, cluster_by, checks)
    fit = _fit_logit(y, X, terms, penalty, groups=groups)
    checks["separation"] = fit["separation"]
    if fit["separation"]["detected"]:
        checks["warnings"].append(
            "The outcome is (quasi-)perfectly separated ("
            + "; ".join(fit["separation"]["reasons"])
            + "): a penalised (L1) fit was used, so coefficients are shrunk and no intervals "
            "or p-values are reported."
        )
    n_cols = X.shape[1] - 1
    coefs = _coefficient_table(fit, X, terms)
    minority = min(checks["class_balance"]["renewed"], checks["class_balance"]["not_renewed"])
    return DriverModel(
        outcome=outcome,
        features=kept,
        coefficients=coefs,
        n=len(y),
        events=int((y == 0).sum()),
        events_per_feature=minority / n_cols,
        method=fit["method"],
        checks=checks,
        result=fit["result"],
        terms=terms,
        params=fit["params"],
        design_means=X.drop(columns="const").mean(),
    )


def _class_balance(y: pd.Series) -> dict[str, Any]:
    renewed = int((y == 1).sum())
    return {
        "n": len(y),
        "renewed": renewed,
        "not_renewed": len(y) - renewed,
        "share_renewed": renewed / len(y) if len(y) else math.nan,
    }


def _drop_constant(data: pd.DataFrame, features: list[str], checks: dict[str, Any]) -> list[str]:
    constant = [f for f in features if data[f].nunique(dropna=True) < 2]
    checks["constant"] = constant
    if constant:
        checks["warnings"].append(f"Dropped features with a single value: {', '.join(constant)}.")
    return [f for f in features if f not in constant]


def _vif_by_column(X: pd.DataFrame) -> pd.Series:
    """VIF of each column of X (no constant in X; one is added).

    ``VIF_j = 1 / (1 - R2_j)``, with ``R2_j`` from regressing column j on the others and a
    constant: the diagonal of the inverse correlation matrix when it is well conditioned,
    else one least-squares fit per column (as ``statsmodels``' ``variance_inflation_factor``,
    without its full SVD per column, which is slow on long tables). A column with no
    variance, or one the others reproduce exactly, has an infinite VIF.
    """
    A = X.to_numpy(dtype=float)
    A = A - A.mean(axis=0)
    sd = A.std(axis=0)
    values = np.full(A.shape[1], np.inf)
    ok = sd > 0
    if ok.sum() == 1:
        values[ok] = 1.0
    elif ok.sum() > 1:
        Z = A[:, ok] / sd[ok]
        R = Z.T @ Z / len(Z)
        if np.linalg.cond(R) < 1e10:
            values[ok] = np.diag(np.linalg.inv(R))
        else:
            values[ok] = [_vif_lstsq(Z, j) for j in range(Z.shape[1])]
    return pd.Series(values, index=X.columns)


def _vif_lstsq(Z: np.ndarray, j: int) -> float:
    """VIF of centred column j of Z from a least-squares fit on the other columns."""
    y, others = Z[:, j], np.delete(Z, j, axis=1)
    beta = np.linalg.lstsq(others, y, rcond=None)[0]
    ssr = float(np.sum((y - others @ beta) ** 2))
    sst = float(np.sum(y**2))
    return math.inf if ssr <= sst * 1e-12 else sst / ssr


def _drop_high_vif(
    data: pd.DataFrame,
    features: list[str],
    units: Mapping[str, Any] | None,
    vif_max: float,
    checks: dict[str, Any],
) -> list[str]:
    kept = list(features)
    dropped: dict[str, float] = {}
    vif_by_feature: dict[str, float] = {}
    while len(kept) > 1:
        terms = _make_terms(data, kept, units)
        vif = _vif_by_column(_apply_terms(data, terms))
        owner = {c: t.feature for t in terms for c in t.columns}
        vif_by_feature = vif.groupby(vif.index.map(owner)).max().reindex(kept).to_dict()
        worst = max(vif_by_feature.values())
        if worst <= vif_max:
            break
        tied = [f for f in kept if vif_by_feature[f] >= worst * (1 - 1e-6)]
        drop = tied[-1]
        dropped[drop] = float(worst)
        kept.remove(drop)
    if len(kept) <= 1:
        vif_by_feature = dict.fromkeys(kept, 1.0)
    checks["vif"] = {f: float(v) for f, v in vif_by_feature.items() if f in kept}
    checks["vif_dropped"] = dropped
    if dropped:
        checks["warnings"].append(
            f"Dropped for collinearity (VIF > {vif_max:g}): "
            + ", ".join(f"{f} (VIF {v:.3g})" for f, v in dropped.items())
            + "."
        )
    return kept


def _univariate_p_value(y: pd.Series, X: pd.DataFrame) -> float:
    """Likelihood-ratio p-value of one feature's columns against an intercept-only model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            full = sm.Logit(y, sm.add_constant(X, has_constant="add")).fit(disp=0, maxiter=100)
        except (PerfectSeparationError, np.linalg.LinAlgError):
            return 0.0
    p0 = y.mean()
    ll0 = float(len(y) * (p0 * np.log(p0) + (1 - p0) * np.log(1 - p0)))
    lr = max(2 * (full.llf - ll0), 0.0)
    return float(sps.chi2.sf(lr, X.shape[1]))


def _limit_to_events(
    data: pd.DataFrame,
    y: pd.Series,
    features: list[str],
    units: Mapping[str, Any] | None,
    minimum: float,
    reduce: bool,
    checks: dict[str, Any],
) -> list[str]:
    terms = _make_terms(data, features, units)
    n_cols = sum(len(t.columns) for t in terms)
    minority = min(int((y == 1).sum()), int((y == 0).sum()))
    epf = minority / max(n_cols, 1)
    info: dict[str, Any] = {
        "value": epf,
        "minimum": minimum,
        "below_minimum": epf < minimum,
        "removed": [],
        "univariate_p": {},
    }
    checks["events_per_feature"] = info
    if epf >= minimum:
        return features
    msg = (
        f"Only {epf:.1f} decisions of the rarer outcome per model column (rule of thumb: "
        f"at least {minimum:g})"
    )
    if not reduce:
        checks["warnings"].append(msg + ": estimates may be unstable.")
        return features
    p_values = {
        t.feature: _univariate_p_value(y, _apply_terms(data, [t])) for t in terms
    }
    info["univariate_p"] = p_values
    budget = max(1, int(minority // minimum))
    kept: list[str] = []
    used = 0
    for t in sorted(terms, key=lambda t: p_values[t.feature]):
        if used + len(t.columns) <= budget or not kept:
            kept.append(t.feature)
            used += len(t.columns)
    kept = [f for f in features if f in kept]
    info["removed"] = [f for f in features if f not in kept]
    info["value_after"] = minority / max(used, 1)
    checks["warnings"].append(
        msg + f": kept the {len(kept)} feature(s) with the smallest univariate p-values "
        f"({', '.join(kept)}); removed {', '.join(info['removed'])}. Intervals and p-values "
        "after this selection are optimistic."
    )
    return kept


def _separating_features(y: pd.Series, X: pd.DataFrame) -> list[str]:
    """Columns whose values alone split renewals from non-renewals (completely or with ties)."""
    found = []
    for col in X.columns:
        x = X[col]
        x1, x0 = x[y == 1], x[y == 0]
        if x1.min() >= x0.max() or x0.min() >= x1.max():
            found.append(col)
    return found


def _cluster_codes(table: pd.DataFrame, rows: pd.Index, cluster_by: str | None,
                   checks: dict[str, Any]) -> np.ndarray | None:
    """Integer group codes of the fitted rows when some group has several decisions (else
    None); records ``checks["clustering"]``."""
    if not cluster_by or cluster_by not in table:
        checks["clustering"] = {"by": None, "groups": None, "decisions": len(rows),
                                "applied": False}
        return None
    ids = table.loc[rows, cluster_by].astype("string").fillna("(none)")
    codes = pd.factorize(ids)[0]
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    applied = 1 < n_groups < len(codes)
    checks["clustering"] = {"by": cluster_by, "groups": n_groups, "decisions": len(codes),
                            "applied": applied}
    return codes if applied else None


def _fit_logit(
    y: pd.Series, X: pd.DataFrame, terms: Sequence[_Term], penalty: float,
    groups: np.ndarray | None = None,
) -> dict[str, Any]:
    """MLE logit (cluster-robust covariance by ``groups`` when given); on
    (quasi-)separation a penalised L1 fit. Returns params, result, method."""
    reasons: list[str] = []
    result = None
    cov = ({"cov_type": "cluster", "cov_kwds": {"groups": groups}} if groups is not None
           else {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = sm.Logit(y, X).fit(disp=0, maxiter=200, **cov)
        except (PerfectSeparationError, np.linalg.LinAlgError) as exc:
            reasons.append(f"{type(exc).__name__}: {exc}")
    kinds = {w.category for w in caught}
    if PerfectSeparationWarning in kinds:
        reasons.append("statsmodels reported perfect separation")
    if result is not None:
        if not result.mle_retvals.get("converged", True):
            reasons.append("the fit did not converge")
        slopes = result.params.drop("const")
        if (slopes.abs() > 10).any():
            big = ", ".join(slopes.index[slopes.abs() > 10])
            reasons.append(f"huge coefficients (|log-odds| > 10 per unit: {big})")
        if not np.isfinite(result.bse).all():
            reasons.append("standard errors are not finite")
    elif HessianInversionWarning in kinds or ConvergenceWarning in kinds:
        reasons.append("the fit did not converge")
    separation = {
        "detected": bool(reasons),
        "reasons": reasons,
        "separating_features": _separating_features(y, X.drop(columns="const")),
        "fallback": None,
    }
    if not reasons:
        return {"method": "mle", "result": result, "params": result.params,
                "separation": separation}
    alpha = np.full(X.shape[1], float(penalty))
    alpha[list(X.columns).index("const")] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        penalised = sm.Logit(y, X).fit_regularized(
            method="l1", alpha=alpha, disp=0, maxiter=1000, trim_mode="off"
        )
    separation["fallback"] = f"fit_regularized(method='l1', alpha={penalty:g})"
    return {"method": "l1", "result": penalised, "params": penalised.params,
            "separation": separation}


def _coefficient_table(
    fit: dict[str, Any], X: pd.DataFrame, terms: Sequence[_Term]
) -> pd.DataFrame:
    params: pd.Series = fit["params"]
    cols = [c for c in X.columns if c != "const"]
    feature = {c: t.feature for t in terms for c in t.columns}
    unit = {c: t.unit for t in terms for c in t.columns}
    out = pd.DataFrame(index=pd.Index(cols, name="term"))
    out["feature"] = [feature[c] for c in cols]
    out["unit"] = [unit[c] for c in cols]
    out["coef"] = params[cols].to_numpy()
    out["odds_ratio"] = np.exp(out["coef"])
    binary = [t.binary for t in terms for _ in t.columns]
    if fit["method"] == "mle":
        res = fit["result"]
        ci = res.conf_int(alpha=0.05).loc[cols]
        out["std_err"] = res.bse[cols].to_numpy()
        out["or_low"] = np.exp(ci[0].to_numpy())
        out["or_high"] = np.exp(ci[1].to_numpy())
        out["p_value"] = res.pvalues[cols].to_numpy()
        mfx = res.get_margeff(at="overall", method="dydx", dummy=True)
        mci = mfx.conf_int(alpha=0.05)
        out["ame"] = mfx.margeff
        out["ame_low"] = mci[:, 0]
        out["ame_high"] = mci[:, 1]
    else:
        for c in ("std_err", "or_low", "or_high", "p_value", "ame_low", "ame_high"):
            out[c] = np.nan
        out["ame"] = _average_marginal_effects(params, X, binary)
    order = ["feature", "unit", "coef", "std_err", "odds_ratio", "or_low", "or_high",
             "p_value", "ame", "ame_low", "ame_high"]
    return out[order]


def _average_marginal_effects(
    params: pd.Series, X: pd.DataFrame, binary: Sequence[bool]
) -> np.ndarray:
    """AME per column: mean discrete change 0 -> 1 for yes/no columns, else mean p(1-p)b."""
    Xv = X.to_numpy(dtype=float)
    b = params.reindex(X.columns).to_numpy()
    p = _sigmoid(Xv @ b)
    effects = []
    for j, col in enumerate(c for c in X.columns if c != "const"):
        k = list(X.columns).index(col)
        if binary[j]:
            x1, x0 = Xv.copy(), Xv.copy()
            x1[:, k], x0[:, k] = 1.0, 0.0
            effects.append(float(np.mean(_sigmoid(x1 @ b) - _sigmoid(x0 @ b))))
        else:
            effects.append(float(np.mean(p * (1 - p)) * b[k]))
    return np.array(effects)


# --------------------------------------------------------------------------------------
# 4. Quality: cross-validation, lift, calibration
# --------------------------------------------------------------------------------------


def auc(y: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve by the Mann-Whitney rank formula.

    ``AUC = (R1 - n1 (n1 + 1) / 2) / (n1 n0)`` with ``R1`` the sum of the (average, for ties)
    ranks of the scores of the positives (``y == 1``). 1 = perfect ranking, 0.5 = no better
    than chance, 0 = perfectly reversed. NaN when one class is absent.
    """
    y_arr = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    n1 = int((y_arr == 1).sum())
    n0 = len(y_arr) - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = sps.rankdata(s)
    return float((ranks[y_arr == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier_score(y: ArrayLike, p: ArrayLike) -> float:
    """Mean squared difference between outcome (0/1) and predicted probability (0-1)."""
    y_arr, p_arr = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    return float(np.mean((y_arr - p_arr) ** 2))


def _stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold number per row: each class is shuffled and dealt round-robin to the folds."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    start = 0
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        fold[idx] = (np.arange(len(idx)) + start) % folds
        start += len(idx)
    return fold


def cross_validated_quality(
    table: pd.DataFrame,
    features: Sequence[str],
    *,
    folds: int = 5,
    seed: int = 7,
    outcome: str = "renewed",
    units: Mapping[str, float | tuple[float, str] | str] | None = None,
    penalty: float = 1.0,
) -> dict[str, Any]:
    """k-fold cross-validated AUC and Brier score, against a naive baseline.

    Each fold is scored by a logit fitted on the other folds (same features; units and SD
    scales learnt on the training folds; the L1 fallback on separation). The baseline
    predicts every decision at the training folds' renewal rate. Folds are stratified by
    outcome (``drivers.cv_folds``, ``drivers.random_seed``).

    Pass the features the final model kept (``model.features``): the feature checks of
    :func:`fit_renewal_model` are not repeated inside the folds.

    Returns
    -------
    dict
        ``n``, ``folds``, ``auc`` (mean over folds), ``auc_by_fold``, ``auc_sd``,
        ``auc_baseline`` (0.5), ``brier``, ``brier_by_fold``, ``brier_baseline``,
        ``brier_skill`` (1 - brier / brier_baseline; > 0 beats the baseline),
        ``predictions`` (Series: out-of-fold probability of renewal, indexed like ``table``;
        NaN for rows with a missing feature - use it for :func:`lift_by_decile` and
        :func:`calibration_table`).
    """
    data = table[[outcome, *features]].dropna()
    y = _as_numeric(data[outcome]).to_numpy()
    minority = int(min((y == 1).sum(), (y == 0).sum()))
    if minority < folds:
        raise DriverModelError(
            f"Cannot cross-validate with {folds} folds: only {minority} decisions of the "
            "rarer outcome.",
            fix="Use fewer folds (drivers.cv_folds) or more history.",
        )
    fold = _stratified_folds(y, folds, seed)
    oof = np.full(len(y), np.nan)
    aucs, briers, base_briers = [], [], []
    for k in range(folds):
        train, test = fold != k, fold == k
        terms = _make_terms(data.iloc[train], list(features), units)
        X_train = sm.add_constant(_apply_terms(data.iloc[train], terms), has_constant="add")
        fit = _fit_logit(pd.Series(y[train], index=X_train.index), X_train, terms, penalty)
        X_test = sm.add_constant(_apply_terms(data.iloc[test], terms), has_constant="add")
        beta = fit["params"].reindex(X_test.columns).to_numpy()
        p = _sigmoid(X_test.to_numpy(dtype=float) @ beta)
        oof[test] = p
        aucs.append(auc(y[test], p))
        briers.append(brier_score(y[test], p))
        base_briers.append(brier_score(y[test], np.full(test.sum(), y[train].mean())))
    brier, base = float(np.mean(briers)), float(np.mean(base_briers))
    return {
        "n": len(y),
        "folds": folds,
        "seed": seed,
        "auc": float(np.nanmean(aucs)),
        "auc_by_fold": aucs,
        "auc_sd": float(np.nanstd(aucs, ddof=1)) if folds > 1 else math.nan,
        "auc_baseline": 0.5,
        "brier": brier,
        "brier_by_fold": briers,
        "brier_baseline": base,
        "brier_skill": 1 - brier / base if base > 0 else math.nan,
        "predictions": pd.Series(oof, index=data.index).reindex(table.index),
    }


def _equal_count_groups(p: np.ndarray, groups: int) -> np.ndarray:
    """Group number 1..groups per row, by descending p, in groups of (nearly) equal size."""
    order = np.argsort(-p, kind="stable")
    group = np.empty(len(p), dtype=int)
    for g, idx in enumerate(np.array_split(order, groups), start=1):
        group[idx] = g
    return group


def lift_by_decile(y: ArrayLike, p: ArrayLike) -> pd.DataFrame:
    """Observed event rate per decile of predicted probability, highest predicted first.

    Parameters
    ----------
    y : array of 0/1
        The event (1 = it happened).
    p : array of float
        Predicted probability of the event (0-1). To rank accounts by risk of *non-renewal*
        pass ``1 - renewed`` and ``1 - p_renew``.

    Returns
    -------
    DataFrame
        One row per decile (1 = highest predicted probability; equal-count groups, fewer
        than 10 when there are fewer than 10 rows): ``n``, ``events``, ``mean_predicted``,
        ``event_rate`` (share), ``lift`` (event_rate / overall rate),
        ``cumulative_share_of_events`` (share of all events in this and higher deciles).
        Rows with a missing y or p are left out.
    """
    y_arr, p_arr = _paired(y, p)
    groups = min(10, len(y_arr))
    g = _equal_count_groups(p_arr, groups)
    frame = pd.DataFrame({"decile": g, "y": y_arr, "p": p_arr})
    out = frame.groupby("decile").agg(
        n=("y", "size"), events=("y", "sum"), mean_predicted=("p", "mean"), event_rate=("y", "mean")
    )
    overall = y_arr.mean()
    out["events"] = out["events"].astype(int)
    out["lift"] = out["event_rate"] / overall if overall > 0 else np.nan
    total = out["events"].sum()
    out["cumulative_share_of_events"] = out["events"].cumsum() / total if total else np.nan
    return out.reset_index()


def calibration_table(
    y: ArrayLike, p: ArrayLike, bins: int = 10
) -> pd.DataFrame:
    """Predicted vs observed rates in equal-count bins of predicted probability.

    Returns
    -------
    DataFrame
        One row per bin, lowest predicted first: ``bin`` (1..bins), ``n``, ``p_min``,
        ``p_max``, ``mean_predicted``, ``observed_rate`` (share with y = 1) and
        ``ci_low``/``ci_high`` (95% Wilson interval of the observed rate). A well calibrated
        model has mean_predicted inside the interval in most bins.
    """
    y_arr, p_arr = _paired(y, p)
    bins = min(bins, len(y_arr))
    g = bins + 1 - _equal_count_groups(p_arr, bins)
    frame = pd.DataFrame({"bin": g, "y": y_arr, "p": p_arr})
    out = frame.groupby("bin").agg(
        n=("y", "size"),
        p_min=("p", "min"),
        p_max=("p", "max"),
        mean_predicted=("p", "mean"),
        observed_rate=("y", "mean"),
    )
    low, high = _wilson(out["observed_rate"].to_numpy() * out["n"].to_numpy(), out["n"].to_numpy())
    out["ci_low"], out["ci_high"] = low, high
    return out.reset_index()


def _paired(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=float)
    p_arr = np.asarray(p, dtype=float)
    ok = ~(np.isnan(y_arr) | np.isnan(p_arr))
    return y_arr[ok], p_arr[ok]


def _wilson(
    successes: np.ndarray, n: np.ndarray, z: float = 1.959964
) -> tuple[np.ndarray, np.ndarray]:
    phat = successes / n
    denom = 1 + z**2 / n
    centre = (phat + z**2 / (2 * n)) / denom
    half = z * np.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half


# --------------------------------------------------------------------------------------
# 5. Risk scores
# --------------------------------------------------------------------------------------


def risk_scores(model: DriverModel, current_table: pd.DataFrame) -> pd.DataFrame:
    """Predicted renewal probability for the renewals coming up.

    Parameters
    ----------
    model : DriverModel
        From :func:`fit_renewal_model`.
    current_table : DataFrame
        :func:`modelling_table` built on :func:`upcoming_renewals` with the *same*
        ``cutoff_days`` as the training table, so features are measured at the same lead time
        before the decision as in training (the cut-off is then on or before ``as_of`` for
        every renewal within ``cutoff_days``).

    Returns
    -------
    DataFrame
        ``account_id``, ``decision_date``, ``p_renew`` and ``p_not_renew`` (shares 0-1),
        ``contract_value_at_risk`` (contract_value x p_not_renew, money; when the table has
        contract_value), ``missing_features`` (comma-separated; no score when not empty).
        Sorted by p_renew, riskiest first.
    """
    p = model.predict(current_table)
    out = pd.DataFrame(
        {
            "account_id": current_table["account_id"],
            "decision_date": current_table["decision_date"],
            "p_renew": p,
            "p_not_renew": 1 - p,
        }
    )
    if "contract_value" in current_table:
        out["contract_value_at_risk"] = _as_numeric(current_table["contract_value"]) * (1 - p)
    missing = current_table[model.features].isna()
    out["missing_features"] = missing.apply(
        lambda row: ", ".join(row.index[row.to_numpy()]), axis=1
    ) if len(missing) else pd.Series(dtype="string")
    return out.sort_values("p_renew", kind="stable", na_position="last").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# 6. History window: decisions the data can describe
# --------------------------------------------------------------------------------------

#: Usage features compare the last complete month before the cut-off with the month three
#: months earlier; that month starts at most 5 months (5 x 31 days) before the cut-off.
USAGE_LOOKBACK_DAYS = 5 * 31


def data_start(tables: Mapping[str, pd.DataFrame | None]) -> pd.Timestamp:
    """First day of the first month of data: where the client's history begins.

    The first month of ``mrr`` (the subscription history); without it, of ``usage``;
    without either, the earliest date in ``touches``, ``tickets`` or ``surveys``. NaT when
    none of these is given. Tables that carry older records (onboarding milestones, account
    start dates) do not move it: the activity the features are built from starts here.
    """
    for name, col in (("mrr", "month"), ("usage", "month")):
        t = tables.get(name)
        if t is not None and _has_values(t, col):
            return pd.Timestamp(pd.to_datetime(t[col]).min()).to_period("M").to_timestamp()
    firsts = [
        pd.to_datetime(t[col]).min()
        for name, col in (("touches", "date"), ("tickets", "opened_at"), ("surveys", "date"))
        if (t := tables.get(name)) is not None and _has_values(t, col)
    ]
    return pd.Timestamp(min(firsts)).to_period("M").to_timestamp() if firsts else pd.NaT


def history_days(
    *,
    contact_days_cap: int = 365,
    nps_lookback_days: int | None = None,
    ticket_window_days: int = 90,
    usage_days: int = USAGE_LOOKBACK_DAYS,
) -> int:
    """The longest look-back any feature takes before its cut-off (days).

    ``max(contact_days_cap, nps_lookback_days, ticket_window_days, usage_days)``: days since
    the last contact count back up to the cap, the last NPS answer within its look-back,
    tickets within their window, usage over about 5 months. Without an NPS look-back (any
    answer counts) the NPS feature is left out of the maximum.
    """
    return int(max(contact_days_cap, nps_lookback_days or 0, ticket_window_days, usage_days))


def drop_short_history(
    table: pd.DataFrame, start: pd.Timestamp | str | None, lookback_days: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Leave out decisions whose features would rest on history the data does not hold.

    Rule: a decision is left out when its ``cutoff_date - lookback_days`` precedes ``start``
    (the first month of data, :func:`data_start`). Its features would otherwise count
    contacts, tickets or answers that happened before the export began as "none" (e.g. 180
    days without an executive contact for an account called every month).

    Returns
    -------
    kept : DataFrame
        The rows of ``table`` that have the full look-back inside the data (index kept).
    info : dict
        ``data_start`` (date), ``lookback_days``, ``first_cutoff`` (earliest cut-off kept:
        ``data_start + lookback_days``), ``excluded`` and ``kept`` (counts),
        ``excluded_not_renewed`` (non-renewals among the excluded).
    """
    if start is None or pd.isna(start):
        info = {"data_start": None, "lookback_days": lookback_days, "first_cutoff": None,
                "excluded": 0, "kept": len(table), "excluded_not_renewed": 0}
        return table, info
    start_ts = pd.Timestamp(start)
    first_cutoff = start_ts + pd.Timedelta(days=lookback_days)
    short = pd.to_datetime(table["cutoff_date"]) < first_cutoff
    renewed = _as_numeric(table["renewed"]) if "renewed" in table else pd.Series(np.nan)
    info = {
        "data_start": start_ts,
        "lookback_days": int(lookback_days),
        "first_cutoff": first_cutoff,
        "excluded": int(short.sum()),
        "kept": int((~short).sum()),
        "excluded_not_renewed": int((renewed[short] == 0).sum()) if "renewed" in table else 0,
    }
    return table.loc[~short], info


# --------------------------------------------------------------------------------------
# 7. Reading one account: contributions and the open book
# --------------------------------------------------------------------------------------


def design_matrix(
    table: pd.DataFrame,
    features: Sequence[str],
    units: Mapping[str, float | tuple[float, str] | str] | None = None,
) -> tuple[pd.DataFrame, list[_Term]]:
    """The model's design columns (no constant) for ``table``, scaled to the stated units.

    The same columns as :func:`fit_renewal_model` builds (numeric ``value / scale``, dummies
    for text features against their most frequent level), for other models on the same
    features (e.g. the Cox model in :mod:`playbook.analyses.survival`). Returns the matrix
    (NaN where a value is missing) and the terms (``feature``, ``columns``, ``unit``).
    """
    terms = _make_terms(table, list(features), units)
    return _apply_terms(table, terms), terms


def contributions(model: DriverModel, table: pd.DataFrame) -> pd.DataFrame:
    """Each design column's pull on each row's log-odds of renewal, against the average.

    ``coef x (x - mean)``, with the mean taken over the decisions the model was fitted on: a
    negative value pulls the row's renewal probability below that of an average decision, a
    positive one lifts it. The columns sum (with the constant and the mean) to the row's
    log-odds, so they rank what drives one account's score. NaN where a value is missing.
    """
    X = _apply_terms(table, model.terms)
    means = model.design_means.reindex(X.columns)
    coef = model.params.reindex(X.columns)
    return (X - means) * coef


def current_mrr(
    accounts: pd.DataFrame, mrr: pd.DataFrame | None = None, as_of: pd.Timestamp | str | None = None
) -> pd.Series:
    """MRR per account at ``as_of`` (money a month), indexed by ``account_id``.

    From the ``mrr`` table: the account's MRR in the month of ``as_of`` (or its latest month
    on or before it). Accounts missing there fall back to ``accounts.mrr``, then
    ``accounts.arr / 12``. NaN when none is known.
    """
    acc = accounts.drop_duplicates("account_id")
    index = pd.Index(acc["account_id"].astype("string"), name="account_id")
    out = pd.Series(np.nan, index=index, dtype=float)
    if mrr is not None and len(mrr):
        m = mrr.assign(account_id=mrr["account_id"].astype("string"),
                       month=pd.to_datetime(mrr["month"]))
        if as_of is not None:
            m = m[m["month"] <= pd.Timestamp(as_of)]
        latest = m.sort_values("month", kind="stable").groupby("account_id")["mrr"].last()
        out = pd.to_numeric(latest, errors="coerce").astype(float).reindex(index)
    for col, divisor in (("mrr", 1.0), ("arr", 12.0)):
        if col in acc:
            fallback = _numeric_or_nan(acc, col).to_numpy() / divisor
            out = out.fillna(pd.Series(fallback, index=index))
    return out


def open_book(
    model: DriverModel,
    current_table: pd.DataFrame,
    mrr: pd.Series,
    *,
    reasons: int = 3,
    reason_columns: Sequence[str] | None = None,
    at_risk_below: float = 0.75,
) -> pd.DataFrame:
    """The renewals coming up: probability, MRR at stake and what pulls each one down.

    Parameters
    ----------
    model : DriverModel
        From :func:`fit_renewal_model`.
    current_table : DataFrame
        :func:`modelling_table` built on :func:`upcoming_renewals` (same cut-off days).
    mrr : Series
        MRR per account (:func:`current_mrr`).
    reasons : int
        Up to this many features pulling each account down are listed.
    reason_columns : sequence of str, optional
        Design columns that may be named as reasons (e.g. only the significant ones); default
        all.
    at_risk_below : float
        An account is "at risk" when its renewal probability is below this share
        (``drivers.at_risk_probability``).

    Returns
    -------
    DataFrame
        One row per upcoming renewal, the most MRR at risk first: ``account_id``,
        ``decision_date``, ``days_to_renewal`` (when given), ``p_renew`` (share 0-1),
        ``mrr`` (money a month), ``expected_loss`` (``mrr x (1 - p_renew)``: the MRR at
        risk weighted by the chance of losing it; the sort key), ``at_risk``
        (bool), ``reasons`` (list of dicts ``column``, ``feature``, ``value``,
        ``log_odds``: the design columns with a negative :func:`contributions`, most
        negative first) and ``missing_features``. Rows without a score sort last.
    """
    absent = [f for f in model.features if f not in current_table]
    if absent:  # e.g. no renewal due: the table has no feature columns
        current_table = current_table.assign(**dict.fromkeys(absent, np.nan))
    p = model.predict(current_table)
    contrib = contributions(model, current_table)
    if reason_columns is not None:
        contrib = contrib[[c for c in contrib.columns if c in set(reason_columns)]]
    owner = {c: t for t in model.terms for c in t.columns}
    lists = []
    for idx, row in contrib.iterrows():
        neg = row[row < 0].sort_values().head(reasons)
        items = []
        for col, value in neg.items():
            term = owner[col]
            raw = current_table.at[idx, term.feature]
            if term.reference is not None:
                raw = col[len(term.feature) + 1:-1]
            items.append({"column": col, "feature": term.feature, "value": _plain(raw),
                          "log_odds": float(value)})
        lists.append(items)
    ids = current_table["account_id"].astype("string")
    m = pd.Series(mrr.reindex(ids).to_numpy(), index=current_table.index, dtype=float)
    out = pd.DataFrame(
        {
            "account_id": ids,
            "decision_date": pd.to_datetime(current_table["decision_date"]),
            "p_renew": p,
            "mrr": m,
            "expected_loss": m * (1 - p),
            "at_risk": (p < at_risk_below).where(p.notna(), False).astype(bool),
            "reasons": pd.Series(lists, index=current_table.index, dtype=object),
        }
    )
    if "days_to_renewal" in current_table:
        out.insert(2, "days_to_renewal", current_table["days_to_renewal"])
    missing = current_table[model.features].isna()
    out["missing_features"] = [", ".join(missing.columns[r]) for r in missing.to_numpy()]
    return out.sort_values(["expected_loss", "p_renew"], ascending=[False, True],
                           na_position="last", kind="stable").reset_index(drop=True)


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar (numpy / pandas scalars -> Python; NA -> None)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def open_book_summary(book: pd.DataFrame) -> dict[str, Any]:
    """Headline counts of :func:`open_book`.

    ``renewals_due``, ``scored`` (with a probability), ``mrr_due`` (MRR of all renewals
    due), ``accounts_at_risk`` and ``mrr_at_risk`` (count and MRR of the renewals below the
    at-risk probability), ``expected_mrr_loss`` (sum of MRR x probability of not renewing
    over the scored renewals) and ``expected_non_renewals`` (sum of the probabilities of not
    renewing).
    """
    scored = book.dropna(subset=["p_renew"])
    risky = book[book["at_risk"]]
    return {
        "renewals_due": int(len(book)),
        "scored": int(len(scored)),
        "mrr_due": float(book["mrr"].sum()),
        "accounts_at_risk": int(len(risky)),
        "mrr_at_risk": float(risky["mrr"].sum()),
        "expected_mrr_loss": float(scored["expected_loss"].sum()),
        "expected_non_renewals": float((1 - scored["p_renew"]).sum()),
    }
