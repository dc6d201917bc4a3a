"""Renewal decisions: the past ones with their outcome (:func:`renewal_decisions`), the
ones coming up (:func:`upcoming_renewals`), and the month-to-month accounts that make none
(:func:`month_to_month_accounts`).

*Renewed* is 1 when the customer stayed at the decision (a downgrade counts as renewed and is
flagged in ``downgraded``), 0 when it left. Dates are days; terms are months.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook.analyses.drivers.columns import numeric_or_nan
from playbook.contracts import MONTH_TO_MONTH, account_terms, cycle_dates, next_on_cycle
from playbook.errors import DriverModelError
from playbook.membership import is_in

__all__ = [
    "RENEWAL_DATE_MEANINGS",
    "month_to_month_accounts",
    "renewal_decisions",
    "upcoming_renewals",
]

#: What ``accounts.renewal_date`` may hold (``contracts.renewal_date_means``).
RENEWAL_DATE_MEANINGS = ("next", "last", "contract_end")


def renewal_decisions(
    accounts: pd.DataFrame,
    renewals: pd.DataFrame | None = None,
    churn_events: pd.DataFrame | None = None,
    *,
    as_of: pd.Timestamp | str | None = None,
    term_months: int,
    renewal_date_means: str,
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
    return out[~is_in(out["account_id"], monthly)].reset_index(drop=True)


def month_to_month_accounts(accounts: pd.DataFrame, *, term_months: int) -> pd.Series:
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
    unknown = sorted(set(outcome.dropna().unique()) - {"renewed", "churned", "downgraded"})
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
            "arr_before": numeric_or_nan(renewals, "arr_before"),
            "arr_after": numeric_or_nan(renewals, "arr_after"),
        }
    )
    return _sorted_decisions(out[outcome.notna().to_numpy()])


def _decisions_derived(
    accounts: pd.DataFrame,
    churn_events: pd.DataFrame | None,
    *,
    as_of: pd.Timestamp | str | None,
    term_months: int,
    renewal_date_means: str,
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
    extra = acc.loc[acc["churn_date"].notna() & ~is_in(acc["account_id"], known)]
    frames.append(extra[["account_id", "churn_date"]])
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def _latest_observed_date(acc: pd.DataFrame, churns: pd.DataFrame) -> pd.Timestamp:
    """Latest start or churn date in the data (events that have happened; no clock)."""
    dates = pd.concat([acc["start_date"], churns["churn_date"]]).dropna()
    return dates.max() if len(dates) else pd.NaT


def _sorted_decisions(out: pd.DataFrame) -> pd.DataFrame:
    out = out.dropna(subset=["account_id", "decision_date"])
    return out.sort_values(["account_id", "decision_date"], kind="stable").reset_index(drop=True)


def upcoming_renewals(
    accounts: pd.DataFrame,
    as_of: pd.Timestamp | str,
    *,
    horizon_days: int,
    term_months: int | None,
    renewals: pd.DataFrame | None = None,
    renewal_date_means: str,
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
