"""Contract semantics: what an account's renewal date means, and how long its contract runs.

Pure functions on canonical frames (no file I/O), shared by the loader (contract terms from
contract types, the stale-renewal-date check), the renewal analyses
(:mod:`playbook.analyses.drivers`) and the scaffold.

Renewal date (``contracts.renewal_date_means``)
-----------------------------------------------
``next`` (default)
    ``accounts.renewal_date`` is the account's next renewal. Past renewals fall on the
    anniversaries of ``start_date`` (every term) before it.
``last``
    the date is the latest renewal (a CRM that writes the date it last renewed). The account
    renews on the *renewal cycle* of that date: the date plus or minus whole terms. The next
    renewal is the first cycle date after the as-of date (the date plus one term, rolled
    forward while it is not after the as-of date); past renewals are the date and its
    earlier anniversaries after the start date.
``contract_end``
    the date is the end of the current contract, and the renewal is decided on it. The
    decisions fall on the same cycle (the date plus or minus whole terms): the next one is the
    date itself while it lies ahead; an active account whose contract ended earlier renewed
    then, and its next decision is a term later.

Contract term
-------------
An account's term in months is ``accounts.contract_term_months`` when given, else the term
of its ``accounts.contract_type`` in ``contracts.term_by_type`` (matched ignoring case and
surrounding spaces), else ``contracts.term_months`` (12 by default). A term of 1 month is a
month-to-month contract (:data:`MONTH_TO_MONTH`): such accounts make no renewal decisions;
their churn is measured month by month (logo churn in the revenue section).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

__all__ = [
    "MONTH_TO_MONTH",
    "STALE_RENEWAL_GRACE_DAYS",
    "account_terms",
    "cycle_dates",
    "next_on_cycle",
    "renewal_dates_look_like_last",
    "stale_renewal_dates",
    "terms_from_types",
]

#: Contract term (months) of a month-to-month account.
MONTH_TO_MONTH = 1

#: An active account's renewal date this many days before the as-of date is "in the past"
#: (a renewal a few weeks ago may not be in the CRM yet).
STALE_RENEWAL_GRACE_DAYS = 31


def terms_from_types(types: pd.Series, term_by_type: Mapping[str, int]
                     ) -> tuple[pd.Series, list[str]]:
    """Terms in months of contract types (``contracts.term_by_type``).

    Returns the terms (float, NaN for a blank type or one not in the mapping) and the
    distinct non-blank types not in the mapping, as written in the data. Types match
    ignoring case and surrounding spaces.
    """
    lookup = {str(k).strip().lower(): float(v) for k, v in term_by_type.items()}
    text = types.astype("string").str.strip()
    terms = text.str.lower().map(lookup).astype(float)
    unknown = text.notna() & text.ne("") & terms.isna()
    return terms, sorted(text[unknown].unique().tolist())


def account_terms(accounts: pd.DataFrame, default: int | None) -> pd.Series:
    """Each account's contract term in months: ``contract_term_months``, else ``default``
    (NaN where neither is known, and for a term under one month). Indexed like
    ``accounts``."""
    own = (pd.to_numeric(accounts["contract_term_months"], errors="coerce").astype(float)
           if "contract_term_months" in accounts
           else pd.Series(float("nan"), index=accounts.index))
    terms = own.fillna(float("nan") if default is None else float(default))
    return terms.where(terms >= MONTH_TO_MONTH)


def _months_between(earlier: pd.Timestamp, later: pd.Timestamp) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _on_cycle(anchor: pd.Timestamp, term: int, k: int) -> pd.Timestamp:
    """The ``k``-th date of the cycle (negative k: before the anchor), from the anchor
    directly, so that month ends do not drift (31 Jan, 28 Feb, 31 Mar...)."""
    return anchor + pd.DateOffset(months=term * k)


def _first_k_after(anchor: pd.Timestamp, term: int, after: pd.Timestamp) -> int:
    """Smallest k with ``anchor + k * term`` months strictly after ``after``."""
    k = _months_between(anchor, after) // term - 1  # a cycle date in an earlier month
    while _on_cycle(anchor, term, k) <= after:
        k += 1
    return k


def next_on_cycle(anchor: pd.Timestamp, term: int, after: pd.Timestamp) -> pd.Timestamp:
    """First ``anchor + k * term`` months (k any whole number) strictly after ``after``."""
    return _on_cycle(anchor, term, _first_k_after(anchor, term, after))


def cycle_dates(anchor: pd.Timestamp, term: int, *, after: pd.Timestamp,
                until: pd.Timestamp, until_inclusive: bool) -> list[pd.Timestamp]:
    """The dates ``anchor + k * term`` months (k any whole number) strictly after ``after``
    and before ``until`` (or on it, with ``until_inclusive``), oldest first."""
    dates: list[pd.Timestamp] = []
    if pd.isna(after) or pd.isna(until):
        return dates
    k = _first_k_after(anchor, term, after)
    date = _on_cycle(anchor, term, k)
    while date < until or (until_inclusive and date == until):
        dates.append(date)
        k += 1
        date = _on_cycle(anchor, term, k)
    return dates


def _active(accounts: pd.DataFrame) -> pd.Series:
    """Active accounts: status ``active`` (when a status is given), else no churn date."""
    if "status" in accounts and accounts["status"].notna().any():
        return accounts["status"].astype("string").str.lower().eq("active").fillna(False)
    if "churn_date" in accounts:
        return accounts["churn_date"].isna()
    return pd.Series(True, index=accounts.index)


def stale_renewal_dates(accounts: pd.DataFrame, as_of: pd.Timestamp | str) -> pd.Series:
    """Active accounts whose renewal date lies more than
    :data:`STALE_RENEWAL_GRACE_DAYS` before ``as_of`` (a boolean mask like ``accounts``)."""
    if "renewal_date" not in accounts:
        return pd.Series(False, index=accounts.index)
    limit = pd.Timestamp(as_of) - pd.Timedelta(days=STALE_RENEWAL_GRACE_DAYS)
    dates = pd.to_datetime(accounts["renewal_date"], errors="coerce")
    return (_active(accounts) & (dates < limit)).astype(bool)


def renewal_dates_look_like_last(accounts: pd.DataFrame, as_of: pd.Timestamp | str) -> bool:
    """True when most active accounts with a renewal date have it in the past
    (:func:`stale_renewal_dates`): the column then most likely holds the *last* renewal
    (``contracts.renewal_date_means: last``), not the next one. False without any active
    account with a renewal date."""
    if "renewal_date" not in accounts:
        return False
    dated = _active(accounts) & pd.to_datetime(accounts["renewal_date"],
                                                errors="coerce").notna()
    if not dated.any():
        return False
    stale = stale_renewal_dates(accounts, as_of)
    return bool(stale[dated].sum() * 2 > dated.sum())
