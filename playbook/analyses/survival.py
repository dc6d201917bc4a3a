"""Survival view of renewal: how long customers stay, and a Cox cross-check of the drivers.

Pure functions (canonical frames and parameters in, frames and figures out; no file I/O,
printing or plotting), built on ``statsmodels.duration``:

1. :func:`account_lifetimes` - one row per account: months from its start to its first churn
   (or to the as-of date, censored), entering observation at the first month of data.
2. :func:`kaplan_meier` - Kaplan-Meier retention curves by group (e.g. segment) with 95%
   intervals (``SurvfuncRight``), and :func:`survival_at` to read them at set tenures.
3. :func:`decision_intervals` and :func:`cox_model` - a Cox proportional-hazards model
   (``PHReg``) of churn on the renewal model's features, each contract year one interval at
   risk on the tenure time scale; hazard ratios with 95% intervals.
4. :func:`compare_with_logit` - whether the Cox model and the logistic model of
   :mod:`playbook.analyses.drivers` point the same way for each driver.

Definitions
-----------
*Tenure* is counted in months since ``start_date`` (calendar months plus the fraction of a
month, so a contract anniversary falls at exactly 12, 24, ... months). *Survival* at t is the
share of accounts still customers t months after they started. A *hazard ratio* (HR) above 1
means a higher rate of churn per unit of the feature, below 1 a lower one: the opposite
direction from an odds ratio of renewal above 1.

Left truncation
---------------
Accounts that started before the data begin (``data_start``) are only seen because they were
still customers then: those that left earlier are not in the export. Each such account
enters the risk set at its tenure on ``data_start`` (``entry``), not at 0, so the curves are
not flattered by survivors.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from playbook.analyses.drivers.design import design_matrix
from playbook.analyses.phreg import ArrayPHReg
from playbook.errors import SurvivalError
from playbook.membership import is_in

__all__ = [
    "account_lifetimes",
    "at_risk_at_a_churn",
    "compare_with_logit",
    "cox_model",
    "decision_intervals",
    "kaplan_meier",
    "survival_at",
    "tenure_months",
]

DAYS_PER_MONTH = 365.25 / 12
Z95 = 1.959964
#: Entry is moved this many months before the exit when both fall on one day (an account
#: that left on the first day of data is at risk at that instant).
_TIE_EPSILON = 1e-3


def tenure_months(start: pd.Series, end: pd.Series) -> pd.Series:
    """Months from ``start`` to ``end``: whole calendar months plus the day difference / 30.44.

    Anniversaries come out as whole numbers (12, 24, ...): the same day of the month a year
    later is exactly 12.
    """
    s, e = pd.to_datetime(start), pd.to_datetime(end)
    whole = (e.dt.year - s.dt.year) * 12 + (e.dt.month - s.dt.month)
    return (whole + (e.dt.day - s.dt.day) / DAYS_PER_MONTH).astype(float)


# --------------------------------------------------------------------------------------
# 1. Lifetimes
# --------------------------------------------------------------------------------------


def account_lifetimes(
    accounts: pd.DataFrame,
    churn_events: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp | str,
    data_start: pd.Timestamp | str | None = None,
    by: str | None = "segment",
) -> pd.DataFrame:
    """One row per account: how long it has been (or was) a customer.

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts`` (account_id, start_date, churn_date, status; ``by`` when
        given).
    churn_events : DataFrame, optional
        Canonical ``churn_events``; the account's first churn on or after ``data_start``
        ends its lifetime (a reactivated account's later return is not a new lifetime).
        Without it, ``accounts.churn_date``.
    as_of : date
        Lifetimes still running are censored here; accounts starting after it are left out.
    data_start : date, optional
        First day of data (:func:`playbook.analyses.drivers.data_start`). Accounts that
        started earlier enter at their tenure on this day (left truncation); accounts that
        left before it (and are not active again) are left out. None: every account is
        observed from its start.
    by : str, optional
        Column of ``accounts`` to carry as ``group`` (missing values become "Unknown").

    Returns
    -------
    DataFrame
        ``account_id``, ``group`` (when ``by``), ``start_date``, ``end_date``,
        ``entry_months`` (0 for accounts observed from their start), ``months`` (tenure at
        the end, months), ``churned`` (1 = left, 0 = still a customer at ``as_of``).
    """
    as_of_ts = pd.Timestamp(as_of)
    acc = accounts.drop_duplicates("account_id").copy()
    acc["account_id"] = acc["account_id"].astype("string")
    acc["start_date"] = pd.to_datetime(acc["start_date"])
    acc = acc[acc["start_date"].notna() & (acc["start_date"] <= as_of_ts)]
    start_ts = pd.Timestamp(data_start) if data_start is not None else None

    churn = _first_churn(acc, churn_events, start_ts)
    if start_ts is not None:
        acc = acc[~_gone_before(acc, churn_events, churn, start_ts)]
    end = churn.reindex(acc["account_id"]).to_numpy()
    out = pd.DataFrame({"account_id": acc["account_id"].to_numpy()})
    if by:
        out["group"] = (acc[by].astype("string").fillna("Unknown").to_numpy() if by in acc
                        else "All accounts")
    out["start_date"] = acc["start_date"].to_numpy()
    ended = pd.notna(end) & (pd.to_datetime(end) <= as_of_ts)
    out["end_date"] = np.where(ended, end, np.datetime64(as_of_ts))
    out["end_date"] = pd.to_datetime(out["end_date"])
    out["churned"] = ended.astype(int)
    out["months"] = tenure_months(out["start_date"], out["end_date"])
    if start_ts is not None:
        first_seen = out["start_date"].where(out["start_date"] > start_ts, start_ts)
        out["entry_months"] = tenure_months(out["start_date"], first_seen).clip(lower=0)
        out = out[out["end_date"] >= start_ts]
    else:
        out["entry_months"] = 0.0
    same = out["entry_months"] >= out["months"]
    out.loc[same, "entry_months"] = (out.loc[same, "months"] - _TIE_EPSILON).clip(lower=0)
    out = out[out["months"] > 0]
    cols = ["account_id", *(["group"] if by else []), "start_date", "end_date",
            "entry_months", "months", "churned"]
    return out[cols].reset_index(drop=True)


def _gone_before(acc: pd.DataFrame, churn_events: pd.DataFrame | None, churn: pd.Series,
                 start: pd.Timestamp) -> pd.Series:
    """Accounts that had left before ``start`` and did not come back: a churn before it, no
    churn on or after it, and not active now."""
    earlier = _first_churn(acc, churn_events, None)
    left = acc["account_id"].map(earlier).lt(start).fillna(False).astype(bool)
    no_later = pd.Series(~is_in(acc["account_id"], churn.index), index=acc.index)
    status = acc["status"].astype("string").str.lower() if "status" in acc else None
    active = status.eq("active").fillna(False).astype(bool) if status is not None else False
    return left & no_later & ~active


def _first_churn(
    acc: pd.DataFrame, churn_events: pd.DataFrame | None, start: pd.Timestamp | None
) -> pd.Series:
    """First churn date per account on or after ``start`` (churn_events, else accounts)."""
    if churn_events is not None and len(churn_events):
        ce = pd.DataFrame({"account_id": churn_events["account_id"].astype("string"),
                           "date": pd.to_datetime(churn_events["churn_date"])}).dropna()
    else:
        ce = pd.DataFrame({"account_id": acc["account_id"],
                           "date": pd.to_datetime(acc.get("churn_date"))}).dropna()
    if start is not None:
        ce = ce[ce["date"] >= start]
    return ce.groupby("account_id")["date"].min()


# --------------------------------------------------------------------------------------
# 2. Kaplan-Meier
# --------------------------------------------------------------------------------------


def kaplan_meier(
    lifetimes: pd.DataFrame, *, by: str | None = "group", overall: str | None = "All accounts"
) -> pd.DataFrame:
    """Kaplan-Meier retention curves with 95% intervals, per group and overall.

    Parameters
    ----------
    lifetimes : DataFrame
        From :func:`account_lifetimes` (``months``, ``churned``, ``entry_months``).
    by : str, optional
        Group column; None for one curve.
    overall : str, optional
        Label of an extra curve over all rows (None: no overall curve).

    Returns
    -------
    DataFrame
        One row per group and time: ``group``, ``months`` (0, then each tenure at which an
        account left), ``survival`` (share still customers), ``ci_low``/``ci_high`` (95%,
        Greenwood variance on the log(-log) scale), ``at_risk`` (accounts observed just
        before that time), ``events`` (accounts that left then), ``n`` (accounts in the
        group), ``n_events`` (all churns in the group) and ``max_months`` (the longest
        tenure observed in the group).
    """
    groups: list[tuple[str, pd.DataFrame]] = []
    if by is not None and by in lifetimes:
        groups += [(str(g), f) for g, f in lifetimes.groupby(by, sort=True)]
    if overall is not None or not groups:
        groups.insert(0, (overall or "All accounts", lifetimes))
    frames = [_km_curve(label, frame) for label, frame in groups if len(frame)]
    return pd.concat(frames, ignore_index=True)


def _km_curve(label: str, frame: pd.DataFrame) -> pd.DataFrame:
    time = frame["months"].to_numpy(dtype=float)
    status = frame["churned"].to_numpy(dtype=int)
    entry = frame["entry_months"].to_numpy(dtype=float) if "entry_months" in frame else None
    if entry is not None and not (entry > 0).any():
        entry = None
    head = {"group": label, "months": 0.0, "survival": 1.0, "ci_low": 1.0, "ci_high": 1.0,
            "at_risk": int(((entry if entry is not None else np.zeros(len(time))) <= 0).sum()),
            "events": 0}
    rows = [head]
    if status.sum():
        sf = SurvfuncRight(time, status, entry=entry)
        surv, se = sf.surv_prob, sf.surv_prob_se
        low, high = _loglog_interval(surv, se)
        n_events = _events_at(time, status, sf.surv_times)
        for t, s, lo, hi, r, e in zip(sf.surv_times, surv, low, high, sf.n_risk, n_events,
                                      strict=True):
            rows.append({"group": label, "months": float(t), "survival": float(s),
                         "ci_low": float(lo), "ci_high": float(hi), "at_risk": int(r),
                         "events": int(e)})
    out = pd.DataFrame(rows)
    out["n"] = len(frame)
    out["n_events"] = int(status.sum())
    out["max_months"] = float(time.max())
    return out


def _events_at(time: np.ndarray, status: np.ndarray, times: np.ndarray) -> np.ndarray:
    ev = pd.Series(status, index=time).groupby(level=0).sum()
    return ev.reindex(times, fill_value=0).to_numpy()


def _loglog_interval(surv: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """95% interval of S(t) on the log(-log S) scale (stays inside 0-1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_s = np.log(surv)
        theta = np.log(-log_s)
        se_theta = se / np.abs(surv * log_s)
        low = np.exp(-np.exp(theta + Z95 * se_theta))
        high = np.exp(-np.exp(theta - Z95 * se_theta))
    one = surv >= 1
    low, high = np.where(one, 1.0, low), np.where(one, 1.0, high)
    zero = surv <= 0
    return np.where(zero, 0.0, low), np.where(zero, 0.0, high)


def survival_at(curves: pd.DataFrame, months: Sequence[float]) -> pd.DataFrame:
    """Read Kaplan-Meier curves at set tenures.

    Returns one row per group: ``group``, ``n``, ``n_events`` and per tenure t
    ``survival_<t>m``, ``low_<t>m``, ``high_<t>m`` (step function: the last value at or
    before t) and ``at_risk_<t>m`` (the accounts that last value rests on: those at risk at
    the last step at or before t). Past the longest observed tenure the values are NaN and
    the count 0 (unless every account has left: survival 0).
    """
    rows = []
    for group, c in curves.groupby("group", sort=False):
        c = c.sort_values("months")
        row: dict[str, Any] = {"group": group, "n": int(c["n"].iloc[0]),
                               "n_events": int(c["n_events"].iloc[0])}
        longest = float(c["max_months"].iloc[0]) if "max_months" in c else math.inf
        for t in months:
            key = f"{t:g}m"
            if t > longest and c["survival"].iloc[-1] > 0:
                row.update({f"survival_{key}": math.nan, f"low_{key}": math.nan,
                            f"high_{key}": math.nan, f"at_risk_{key}": 0})
                continue
            last = c[c["months"] <= t].iloc[-1]
            row[f"survival_{key}"] = float(last["survival"])
            row[f"low_{key}"] = float(last["ci_low"])
            row[f"high_{key}"] = float(last["ci_high"])
            row[f"at_risk_{key}"] = int(last["at_risk"])
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------
# 3. Cox proportional hazards on contract years
# --------------------------------------------------------------------------------------


def decision_intervals(
    table: pd.DataFrame, accounts: pd.DataFrame, *, term_months: int
) -> pd.DataFrame:
    """The renewal decisions as intervals at risk on the tenure time scale.

    Each decision (a row of :func:`playbook.analyses.drivers.modelling_table`) closes the
    contract year before it: the account is at risk of churn from ``entry_months`` (the
    previous decision of the same account in ``table``, or ``term_months``, the contract
    term of ``contracts.term_months``, before this one)
    to ``exit_months`` (tenure at the decision), and churns at the end when ``renewed`` is 0.
    The features were measured at the cut-off, inside the interval and before any event in
    it (churn only happens at a decision), so no interval sees its own future.

    Returns
    -------
    DataFrame
        ``table`` with ``entry_months``, ``exit_months`` and ``churned`` (1 = did not
        renew) added, index kept; rows with no time at risk (a decision at or before the
        account's start) are left out.
    """
    acc = accounts.drop_duplicates("account_id").copy()
    acc["account_id"] = acc["account_id"].astype("string")
    start = table["account_id"].astype("string").map(
        acc.set_index("account_id")["start_date"].pipe(pd.to_datetime))
    out = table.copy()
    out["exit_months"] = tenure_months(start, out["decision_date"]).to_numpy()
    order = out.assign(_start=start).sort_values(["account_id", "decision_date"], kind="stable")
    previous = order.groupby("account_id")["exit_months"].shift(1)
    floor = order["exit_months"] - term_months
    entry = np.fmax(previous.to_numpy(dtype=float), floor.to_numpy(dtype=float))
    out["entry_months"] = pd.Series(np.clip(entry, 0, None), index=order.index)
    out["churned"] = 1.0 - pd.to_numeric(out["renewed"], errors="coerce").astype(float)
    keep = out["exit_months"].notna() & (out["exit_months"] > out["entry_months"])
    return out.loc[keep]


def at_risk_at_a_churn(intervals: pd.DataFrame) -> pd.DataFrame:
    """The rows of counting-process ``intervals`` (``entry_months``, ``exit_months``,
    ``churned``) at risk at one churn time at least (``entry < t <= exit`` for a churn time
    ``t``). The others add nothing to the Cox partial likelihood or its score; dropping them
    sidesteps statsmodels 0.15's ``PHReg.score_residuals``, which credits a row lying wholly
    between two churn times to the earlier one, inflating the robust (clustered) variance
    and nudging the fit."""
    times = np.sort(intervals.loc[intervals["churned"] == 1, "exit_months"].unique())
    first = np.searchsorted(times, intervals["entry_months"].to_numpy(dtype=float),
                            side="right")
    last = np.searchsorted(times, intervals["exit_months"].to_numpy(dtype=float),
                           side="right")
    return intervals[last > first]


def cox_model(
    intervals: pd.DataFrame,
    features: Sequence[str],
    *,
    units: Mapping[str, float | tuple[float, str] | str] | None = None,
    ties: str = "efron",
) -> dict[str, Any]:
    """Cox proportional-hazards model of churn on the features, on contract-year intervals.

    Parameters
    ----------
    intervals : DataFrame
        From :func:`decision_intervals` (``entry_months``, ``exit_months``, ``churned`` and
        the feature columns).
    features : sequence of str
        The features (usually the logistic model's ``model.features``). ``tenure_years`` is
        left out: tenure is the time scale, so the baseline hazard absorbs it.
    units : mapping, optional
        As in :func:`playbook.analyses.drivers.fit_renewal_model` (same default units, so an
        HR and an OR are per the same step).
    ties : {"efron", "breslow"}
        Handling of tied churn times (renewals fall on anniversaries, so ties are many).

    Returns
    -------
    dict
        ``coefficients`` (DataFrame indexed by design column: ``feature``, ``unit``,
        ``coef`` (log hazard ratio of churn), ``std_err``, ``hazard_ratio``, ``hr_low``,
        ``hr_high`` (95%), ``p_value``; robust by account when accounts have several
        intervals), ``ph_check`` (:func:`proportional_hazards_check` per design column, with
        its ``feature``), ``clustered`` (bool), ``n`` (intervals used: complete and at risk
        at a churn time, :func:`at_risk_at_a_churn`), ``events`` (churns),
        ``accounts``, ``features`` (used), ``dropped`` (feature -> reason),
        ``rows_dropped_missing``, ``ties``, ``converged`` (False when
        ``convergence_problems``, the reasons in words, is not empty: the coefficients then
        confirm or contradict nothing).

    Raises
    ------
    SurvivalError
        When no churn (or no feature) is left to fit.
    """
    used = [f for f in features if f != "tenure_years" and f in intervals]
    dropped = {f: "tenure is the time scale of the Cox model" for f in features
               if f == "tenure_years"}
    dropped.update({f: "not in the data" for f in features
                    if f != "tenure_years" and f not in intervals})
    cols = ["entry_months", "exit_months", "churned", *used]
    data = intervals[cols + (["account_id"] if "account_id" in intervals else [])]
    complete = data[cols].notna().all(axis=1)
    data = at_risk_at_a_churn(data.loc[complete])
    constant = [f for f in used if data[f].nunique(dropna=True) < 2]
    for f in constant:
        dropped[f] = "a single value"
    used = [f for f in used if f not in constant]
    events = int(data["churned"].sum()) if len(data) else 0
    if not used or events == 0:
        raise SurvivalError(
            f"Cannot fit a Cox model: {events} churns and {len(used)} usable features.",
            fix="Use more history or check the decision outcomes.",
        )
    X, terms = design_matrix(data, used, units)
    groups = None  # an account's contract years are not independent: robust by account
    if "account_id" in data and data["account_id"].nunique() < len(data):
        groups = pd.factorize(data["account_id"].astype("string").fillna("(none)"))[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ArrayPHReg(data["exit_months"].to_numpy(dtype=float), X.to_numpy(dtype=float),
                      status=data["churned"].to_numpy(dtype=int),
                      entry=data["entry_months"].to_numpy(dtype=float), ties=ties)
        result = model.fit(disp=0, groups=groups)
        ci = np.asarray(result.conf_int(alpha=0.05))
    not_converged = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    owner = {c: t for t in terms for c in t.columns}
    coefs = pd.DataFrame(index=pd.Index(X.columns, name="term"))
    coefs["feature"] = [owner[c].feature for c in X.columns]
    coefs["unit"] = [owner[c].unit for c in X.columns]
    coefs["coef"] = np.asarray(result.params)
    coefs["std_err"] = np.asarray(result.bse)
    with np.errstate(over="ignore"):  # a fit that ran off: its ratios are inf, said below
        coefs["hazard_ratio"] = np.exp(coefs["coef"])
        coefs["hr_low"] = np.exp(ci[:, 0])
        coefs["hr_high"] = np.exp(ci[:, 1])
    coefs["p_value"] = np.asarray(result.pvalues)
    problems = _convergence_problems(coefs, not_converged)
    ph = proportional_hazards_check(result, data["exit_months"].to_numpy(dtype=float),
                                    data["churned"].to_numpy(dtype=int), list(X.columns))
    ph["feature"] = [owner[c].feature for c in ph.index]
    return {
        "coefficients": coefs,
        "ph_check": ph,
        "clustered": groups is not None,
        "n": int(len(data)),
        "events": events,
        "accounts": int(data["account_id"].nunique()) if "account_id" in data else None,
        "features": used,
        "dropped": dropped,
        "rows_dropped_missing": int((~complete).sum()),
        "ties": ties,
        "converged": not problems,
        "convergence_problems": problems,
    }


#: A Cox coefficient larger than this (log hazard ratio per unit; a hazard ratio beyond
#: about 22,000 or below 1/22,000) is a fit running off to infinity, not an estimate.
MAX_LOG_HAZARD_RATIO = 10.0


def _convergence_problems(coefs: pd.DataFrame, warned: bool) -> list[str]:
    """Why the Cox fit cannot be read, in words (empty when it converged): the optimiser
    said it did not converge, a standard error is not finite, or a coefficient ran off
    (|log hazard ratio| above :data:`MAX_LOG_HAZARD_RATIO`: a driver that separates churn,
    whose maximum-likelihood estimate is infinite)."""
    problems = []
    if warned:
        problems.append("the optimiser did not converge")
    if not np.isfinite(coefs["std_err"]).all():
        problems.append("standard errors are not finite")
    huge = coefs.index[coefs["coef"].abs() > MAX_LOG_HAZARD_RATIO]
    if len(huge):
        problems.append("hazard ratios run off to infinity (" + ", ".join(huge) + ")")
    return problems


def proportional_hazards_check(result: Any, exit_months: np.ndarray, churned: np.ndarray,
                               columns: Sequence[str], *, alpha: float = 0.05
                               ) -> pd.DataFrame:
    """Does each driver's hazard ratio hold over time? Harrell's (1986) test.

    For each design column, the Pearson correlation between its Schoenfeld residuals and the
    rank of the churn time, over the churns only. Under proportional hazards the residuals
    do not drift with time (correlation 0); a significant correlation means the effect
    grows or fades with tenure, so its hazard ratio is an average over time.

    Parameters
    ----------
    result : PHRegResults
        A fitted :class:`statsmodels.duration.hazard_regression.PHReg`.
    exit_months, churned : array
        The fit's exit times (months) and 0/1 status, row for row.
    columns : sequence of str
        The design columns, in the fit's order.
    alpha : float
        Significance level of ``violates``.

    Returns
    -------
    DataFrame
        Indexed by design column: ``rho`` (correlation with the rank of time; positive =
        the log hazard ratio grows with tenure), ``p_value`` (two-sided t test of the
        correlation on the churns), ``churns`` (n) and ``violates`` (p < ``alpha``).
    """
    resid = np.asarray(result.schoenfeld_residuals, dtype=float)
    events = (np.asarray(churned) == 1) & np.isfinite(resid).all(axis=1)
    times = stats.rankdata(np.asarray(exit_months, dtype=float)[events])
    rows = []
    for j, column in enumerate(columns):
        r = resid[events, j]
        if events.sum() < 3 or np.std(r) == 0 or np.std(times) == 0:
            rho, p = math.nan, math.nan
        else:
            rho, p = stats.pearsonr(r, times)
        rows.append({"term": column, "rho": float(rho), "p_value": float(p),
                     "churns": int(events.sum()),
                     "violates": bool(np.isfinite(p) and p < alpha)})
    return pd.DataFrame(rows).set_index("term")


# --------------------------------------------------------------------------------------
# 4. Cross-check
# --------------------------------------------------------------------------------------


def compare_with_logit(logit: pd.DataFrame, cox: pd.DataFrame) -> pd.DataFrame:
    """Driver by driver: does the Cox model tell the same story as the logistic model?

    Parameters
    ----------
    logit : DataFrame
        ``DriverModel.coefficients`` (``odds_ratio``, ``or_low``, ``or_high``: odds of
        renewal).
    cox : DataFrame
        ``cox_model(...)["coefficients"]`` (``hazard_ratio``, ``hr_low``, ``hr_high``: rate
        of churn).

    Returns
    -------
    DataFrame
        One row per design column in both models (logit order): ``feature``, ``unit``, the
        two ratios with intervals, ``logit_significant``, ``cox_significant`` (95% interval
        excludes 1), ``same_direction`` (OR > 1 with HR < 1, or OR < 1 with HR > 1) and
        ``verdict``: "both significant, same direction", "neither significant",
        "only the logistic model", "only the Cox model" or "both significant, opposite
        directions".
    """
    common = [c for c in logit.index if c in cox.index]
    out = pd.DataFrame(index=pd.Index(common, name="term"))
    out["feature"] = logit.loc[common, "feature"]
    out["unit"] = logit.loc[common, "unit"]
    for col in ("odds_ratio", "or_low", "or_high"):
        out[col] = logit.loc[common, col]
    for col in ("hazard_ratio", "hr_low", "hr_high"):
        out[col] = cox.loc[common, col]
    out["logit_significant"] = (out["or_low"] > 1) | (out["or_high"] < 1)
    out["cox_significant"] = (out["hr_low"] > 1) | (out["hr_high"] < 1)
    log_or = np.log(out["odds_ratio"].astype(float))
    log_hr = np.log(out["hazard_ratio"].astype(float))
    out["same_direction"] = np.sign(log_or) == -np.sign(log_hr)
    out["verdict"] = [_verdict(lg, cx, same) for lg, cx, same in zip(
        out["logit_significant"], out["cox_significant"], out["same_direction"], strict=True)]
    return out


def _verdict(logit_sig: bool, cox_sig: bool, same: bool) -> str:
    if logit_sig and cox_sig:
        return ("both significant, same direction" if same
                else "both significant, opposite directions")
    if logit_sig:
        return "only the logistic model"
    if cox_sig:
        return "only the Cox model"
    return "neither significant"
