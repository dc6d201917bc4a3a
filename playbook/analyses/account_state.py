"""Each account on a date: whether it is active, its MRR, its latest usage and ratings.

Pure functions on the canonical frames of :mod:`playbook.contract` (no I/O, no plotting).
Frames returned per account are indexed by ``account_id``. The conventions below are shared
by :mod:`playbook.analyses.segments` (value tiers, lifecycle stages),
:mod:`playbook.analyses.health` and :mod:`playbook.analyses.capacity`:

* **Active at ``as_of``**: ``start_date <= as_of`` and the account had not churned by then
  (``churn_date`` blank or later than ``as_of``; an account with ``status == "churned"`` and
  no ``churn_date`` counts as churned). See :func:`active_accounts`.
* **Account MRR** (money per month): ``accounts.mrr``, or ``arr / 12`` where ``mrr`` is
  blank. See :func:`account_mrr`.
* **Only data dated on or before ``as_of`` is used**; undated ``csm_inputs`` rows count as
  the oldest entries.
* **Usage depth** = ``active_users / licensed_seats`` of the latest usage month on or before
  ``as_of``, capped at 1. See :func:`usage_snapshot`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from playbook.analyses.grouped import sums_by_key
from playbook.membership import is_in
from playbook.read_only import kept_result

DateLike = str | pd.Timestamp

#: Stand-in for a blank date that sorts before every real one: the oldest whole day that
#: ``datetime64[ns]`` holds (``pd.Timestamp.min`` has nanoseconds, which a microsecond
#: column cannot take without changing its unit).
OLDEST_DATE = pd.Timestamp("1677-09-22")


def as_timestamp(value: DateLike) -> pd.Timestamp:
    """``as_of`` (ISO string or timestamp) as a ``pandas.Timestamp`` without time zone."""
    ts = pd.Timestamp(value)
    if ts.tz is not None:
        ts = ts.tz_localize(None)
    return ts


def active_accounts(accounts: pd.DataFrame, as_of: DateLike) -> pd.DataFrame:
    """Accounts that were paying customers on ``as_of``, indexed by ``account_id``.

    An account is active when ``start_date <= as_of`` (blank start dates are kept) and it had
    not churned by ``as_of``: ``churn_date`` is blank or later than ``as_of``, and an account
    whose ``status`` is ``"churned"`` without a ``churn_date`` counts as churned.
    """
    as_of = as_timestamp(as_of)
    acc = accounts.reset_index(drop=True)
    start = date_column(acc, "start_date")
    churn = date_column(acc, "churn_date")
    status = acc["status"].astype("string").str.lower() if "status" in acc else None
    started = start.isna() | (start <= as_of)
    not_churned = churn.isna() | (churn > as_of)
    if status is not None:
        not_churned &= ~(churn.isna() & (status == "churned")).fillna(False)
    keep = (started & not_churned).to_numpy(dtype=bool)
    return acc.loc[keep].set_index("account_id")


def accounts_as_billed(accounts: pd.DataFrame, mrr: pd.DataFrame, as_of: DateLike
                       ) -> pd.DataFrame:
    """The accounts table with its status and churn date taken from billing, so that
    :func:`active_accounts` at ``as_of`` returns exactly the accounts paying (MRR > 0) in
    the as-of month of ``mrr`` (the churn-recognised MRR the headline figures count): one
    definition of a customer for every section.

    For each account: paying in the as-of month -> ``status`` "active", no ``churn_date``;
    paid before but not in the as-of month -> "churned", ``churn_date`` the first day of
    the month after its last paid month (kept when the CRM's date is earlier and after
    that last month's start); never paid up to ``as_of`` -> "churned" without a date (not a
    customer). Other columns are unchanged; a client without ``mrr`` rows keeps its table.
    """
    if mrr is None or mrr.empty:
        return accounts
    as_of = as_timestamp(as_of)
    paid = mrr[(mrr["mrr"] > 0) & (mrr["month"] <= as_of)]
    last = paid.groupby("account_id")["month"].max()
    month = as_of.to_period("M")
    now = set(paid.loc[paid["month"].dt.to_period("M") == month, "account_id"])
    out = accounts.copy()
    ids = out["account_id"]
    paying = pd.Series(is_in(ids, now), index=ids.index)
    ended = ids.map(last)
    after = (ended.dt.to_period("M") + 1).dt.to_timestamp()
    crm = date_column(out, "churn_date")
    keep_crm = crm.notna() & (crm >= ended) & (crm < after)
    churn = crm.where(keep_crm, after).where(~paying & ended.notna())
    out["churn_date"] = churn
    out["status"] = np.where(paying, "active", "churned")
    return out


def account_mrr(accounts: pd.DataFrame) -> pd.Series:
    """Monthly recurring revenue per row: ``mrr``, or ``arr / 12`` where ``mrr`` is blank.

    Returns a float Series aligned with ``accounts`` (money per month, NaN when both are
    blank).
    """
    mrr = number_column(accounts, "mrr")
    arr = number_column(accounts, "arr")
    return mrr.fillna(arr / 12.0).rename("mrr")


def mrr_at(
    accounts: pd.DataFrame, as_of: DateLike, mrr: pd.DataFrame | None = None
) -> pd.Series:
    """MRR per account on ``as_of`` (money per month), indexed by ``account_id``.

    From the ``mrr`` table when given: the account's MRR in its latest month on or before
    ``as_of``. Accounts without such a row (or without an ``mrr`` table) fall back to
    :func:`account_mrr` (``accounts.mrr``, else ``arr / 12``), which is the *current*
    value: many CRMs blank or zero it for churned accounts, so pass the ``mrr`` table for
    any look-back.
    """
    acc = accounts.drop_duplicates("account_id")
    current = account_mrr(acc).set_axis(acc["account_id"]).rename_axis("account_id")
    if mrr is None or mrr.empty:
        return current.rename("mrr")
    monthly, codes, _, _ = _mrr_sums(mrr)
    usable = (monthly.index.get_level_values("month") <= as_timestamp(as_of)) & monthly.notna()
    latest = monthly.iloc[_last_rows(codes, np.flatnonzero(np.asarray(usable)))]
    return latest.droplevel("month").reindex(current.index).fillna(current).rename("mrr")


def _last_rows(codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Of ``rows`` (ascending positions in a table sorted by account, then month, whose
    account codes are ``codes``), the last of each account: its latest month among them."""
    if not rows.size:
        return rows
    kept = codes[rows]
    return rows[np.append(kept[1:] != kept[:-1], True)]


def usage_snapshot(
    usage: pd.DataFrame | None, as_of: DateLike, *, trend_months: int = 3
) -> pd.DataFrame:
    """Latest usage per account on or before ``as_of`` and its change over ``trend_months``.

    Returns
    -------
    DataFrame indexed by ``account_id`` with ``month`` (latest usage month <= as_of),
    ``active_users``, ``licensed_seats``, ``depth`` (active / licensed, capped at 1, NaN
    without seats), ``active_users_before`` (active users exactly ``trend_months`` months
    earlier, NaN if that month is missing) and ``active_change`` (relative change of active
    users over those months: ``now / before - 1``; -0.25 is a fall of a quarter);
    ``key_actions`` (count of key actions in the latest month), ``actions_per_user``
    (key actions / active users, NaN without users) and ``actions_change`` (relative change
    of key actions over ``trend_months``, as ``active_change``). Empty when ``usage`` is
    None.

    Computed once per date for a table marked read-only (a run's stored tables:
    :mod:`playbook.read_only`; once for all the run's kernels); each call gets its own copy.
    """
    if usage is None or usage.empty:
        return pd.DataFrame(columns=SNAPSHOT_COLUMNS, index=pd.Index([], name="account_id"),
                            dtype=float)
    as_of = as_timestamp(as_of)
    return kept_result(usage, ("usage_snapshot", as_of, trend_months),
                       lambda: _usage_snapshot(usage, as_of, trend_months), across_kernels=True)


SNAPSHOT_COLUMNS = ["month", "active_users", "licensed_seats", "depth", "active_users_before",
                    "active_change", "key_actions", "actions_per_user", "actions_change"]


#: The usage measures summed per account and month.
USAGE_MEASURES = ["active_users", "licensed_seats", "key_actions"]


def _usage_snapshot(usage: pd.DataFrame, as_of: pd.Timestamp,
                    trend_months: int) -> pd.DataFrame:
    """:func:`usage_snapshot` of a non-empty ``usage``, computed: from the usage table's
    monthly sums (:func:`usage_monthly`, kept per read-only table) when every usage month
    is a month's first day, else from the rows dated on or before ``as_of``
    (:func:`_usage_snapshot_of_rows`)."""
    sums = usage_monthly(usage)
    if sums is None:
        return _usage_snapshot_of_rows(usage, as_of, trend_months)
    monthly, accounts, codes, ordinal = sums
    last = _last_rows(codes, np.flatnonzero((monthly["month"] <= as_of).to_numpy()))
    latest = monthly.iloc[last]
    latest.index = pd.Index(accounts.take(codes[last]), dtype=accounts.dtype, name="account_id")
    # the same account's month trend_months earlier, found by binary search over the
    # (account, month) keys, which ascend with the rows
    keys = codes * _MONTH_SPAN + ordinal
    wanted = codes[last] * _MONTH_SPAN + ordinal[last] - trend_months
    at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    found = keys[at] == wanted if len(keys) else np.zeros(0, dtype=bool)
    before = monthly.iloc[at]
    add_usage_measures(
        latest, np.where(found, before["active_users"].to_numpy(dtype=float), np.nan),
        np.where(found, before["key_actions"].to_numpy(dtype=float), np.nan))
    return latest[SNAPSHOT_COLUMNS]


#: Months apart two accounts' keys are in :func:`_usage_snapshot` (wider than any span of
#: usage months: 100,000 years).
_MONTH_SPAN = 1_200_000


def usage_monthly(usage: pd.DataFrame
                  ) -> tuple[pd.DataFrame, Any, np.ndarray, np.ndarray] | None:
    """The usage table's measures summed per account and month over all its rows (as
    :func:`_usage_snapshot_of_rows` sums the rows up to a date: ``sum(min_count=1)``,
    sorted by account then month; ``month`` and the measures, without the account), the
    accounts (the distinct ``account_id`` values, in the dtype of the sums' ``account_id``),
    each row's account code (its position among them, ascending) and month as a count of
    months (year x 12 + month); None when a usage month is not a month's first day at
    midnight (then a date inside a month decides which of that month's rows count, and the
    sums are taken per date). Kept per read-only table, once for all the run's kernels (each
    notebook's kernel computed it again: 0.5-0.7 CPU s at 100,000 accounts): the account of
    each row is kept as its code only (at 100,000 accounts the text column was about 40 MB
    of the kept sums)."""
    def compute() -> tuple[pd.DataFrame, Any, np.ndarray, np.ndarray] | None:
        usage_ = usage.reset_index(drop=True)
        dates = date_column(usage_, "month")
        raw = dates.to_numpy(dtype="datetime64[ns]")
        months = raw.astype("datetime64[M]")
        if not ((months.astype("datetime64[ns]") == raw) | np.isnat(raw)).all():
            return None
        return _monthly_sums(usage_, dates, months)
    return kept_result(usage, ("usage_monthly",), compute, copy=False, across_kernels=True)


def _monthly_sums(usage: pd.DataFrame, dates: pd.Series, months: np.ndarray
                  ) -> tuple[pd.DataFrame, Any, np.ndarray, np.ndarray]:
    """:func:`usage_monthly` of ``usage`` (index 0, 1, ...), whose ``month`` (``dates``,
    as ``datetime64[M]`` ``months``) is a month's first day or blank: the rows with a month
    and an account summed as pandas' grouped sum does, to the last digit
    (:func:`~playbook.analyses.grouped.sums_by_key`), over one integer per (account,
    month), the account's rank among the IDs sorted (:func:`pandas.factorize`, as a
    grouping by the text sorts them) times a span of months plus the month's count, rather
    than over the text and the dates; the same table as grouping by ``account_id`` and
    ``month`` (2.1M rows: about 0.32 CPU s rather than 0.43)."""
    dated = dates.notna().to_numpy()
    rank, ids = pd.factorize(usage["account_id"], sort=True)
    rank = np.asarray(rank, dtype=np.int64)
    keep = dated & (rank >= 0)  # a blank ID is no group, as in a grouping by it
    ordinal = months[keep].astype(np.int64)
    first = int(ordinal.min()) if len(ordinal) else 0
    span = int(ordinal.max()) - first + 1 if len(ordinal) else 1
    key = rank[keep] * span + (ordinal - first)
    values = pd.DataFrame({c: number_column(usage, c).to_numpy()[keep]
                           for c in USAGE_MEASURES})
    found, sums = sums_by_key(key, values, min_count=1)
    ranks, month = found // span, found % span + first
    # the month column as the grouping by dates gave it (a period's start, its unit)
    like = dates[dated].iloc[:1].dt.to_period("M").dt.to_timestamp()
    monthly = pd.DataFrame({"month": month.astype("datetime64[M]").astype(like.dtype)})
    for c in USAGE_MEASURES:
        monthly[c] = sums[c]
    # the accounts with a dated row, ascending, and each row's account as its position
    # among them: 0, 1, ... as the ranks ascend
    present = np.unique(ranks)
    # in the dtype a column of them takes (object text becomes pandas' text dtype), as the
    # account column of a grouping by the IDs had it
    accounts = pd.Index(pd.Series(ids.take(present).array))
    return monthly, accounts, np.searchsorted(present, ranks).astype(np.int64), month


def _usage_snapshot_of_rows(usage: pd.DataFrame, as_of: pd.Timestamp,
                            trend_months: int) -> pd.DataFrame:
    """:func:`usage_snapshot` of a non-empty ``usage`` from its rows dated on or before
    ``as_of``."""
    cols = SNAPSHOT_COLUMNS
    usage = usage.reset_index(drop=True)
    u = usage.loc[date_column(usage, "month") <= as_of, ["account_id", "month"]].copy()
    measures = ["active_users", "licensed_seats", "key_actions"]
    for c in measures:
        u[c] = number_column(usage, c).loc[u.index]
    u["month"] = date_column(u, "month").dt.to_period("M").dt.to_timestamp()
    monthly = u.groupby(["account_id", "month"], sort=True)[measures]
    monthly = monthly.sum(min_count=1).reset_index()
    latest = monthly.groupby("account_id").tail(1).set_index("account_id")
    # a left merge on (account, month - trend) keeps latest's order; no tuples of Python
    # objects (the old MultiIndex reindex was most of this function's time at 10k accounts)
    wanted = pd.DataFrame({"account_id": latest.index.to_numpy(),
                           "month": (latest["month"] - pd.DateOffset(months=trend_months)
                                     ).to_numpy()})
    before = wanted.merge(monthly[["account_id", "month", "active_users", "key_actions"]],
                          on=["account_id", "month"], how="left", validate="many_to_one")
    add_usage_measures(latest, before["active_users"].to_numpy(dtype=float),
                       before["key_actions"].to_numpy(dtype=float))
    return latest[cols]


def add_usage_measures(latest: pd.DataFrame, users_before: np.ndarray,
                       actions_before: np.ndarray) -> None:
    """Add the usage measures to ``latest`` (one row per account: its latest month's
    ``active_users``, ``licensed_seats``, ``key_actions``), in place, given each account's
    active users and key actions ``trend_months`` earlier (NaN when unknown):
    ``active_users_before``; ``depth`` = active users / licensed seats, capped at 1;
    ``active_change`` and ``actions_change`` = now / before − 1 (blank when before is 0);
    ``actions_per_user`` = key actions / active users (blank at 0 users)."""
    latest["active_users_before"] = users_before
    seats = latest["licensed_seats"].where(latest["licensed_seats"] > 0)
    latest["depth"] = (latest["active_users"] / seats).clip(upper=1.0)
    prev = latest["active_users_before"].where(latest["active_users_before"] > 0)
    latest["active_change"] = latest["active_users"] / prev - 1.0
    users = latest["active_users"].where(latest["active_users"] > 0)
    latest["actions_per_user"] = latest["key_actions"] / users
    before = pd.Series(actions_before, index=latest.index)
    latest["actions_change"] = latest["key_actions"] / before.where(before > 0) - 1.0


def latest_on_or_before(
    frame: pd.DataFrame | None, columns: list[str], as_of: DateLike, date_col: str = "date"
) -> pd.DataFrame:
    """Per account, the latest non-blank value of each column dated on or before ``as_of``.

    Each column is taken separately (a blank entry does not hide an older value). Rows with a
    blank date count as the oldest entries; rows dated after ``as_of`` are ignored. Values on
    the same latest date are averaged.
    """
    out = pd.DataFrame(index=pd.Index([], name="account_id"), columns=columns, dtype=float)
    if frame is None or frame.empty:
        return out
    as_of = as_timestamp(as_of)
    frame = frame.reset_index(drop=True)
    dates = date_column(frame, date_col)
    f = frame.loc[dates.isna() | (dates <= as_of), ["account_id"]].copy()
    f["_date"] = dates.loc[f.index].fillna(OLDEST_DATE)
    series = {}
    for c in columns:
        f[c] = number_column(frame, c).loc[f.index]
        g = f.dropna(subset=[c])
        if g.empty:
            series[c] = pd.Series(dtype=float)
            continue
        last = g.groupby("account_id")["_date"].transform("max")
        series[c] = g.loc[g["_date"] == last].groupby("account_id")[c].mean()
    out = pd.DataFrame(series, columns=columns)
    out.index.name = "account_id"
    return out.astype(float)


def date_column(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[col], errors="coerce")


def number_column(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)



def mrr_growth(mrr: pd.DataFrame | None, as_of: DateLike, *, months: int = 12) -> pd.Series:
    """Relative MRR change per account over the ``months`` up to ``as_of``.

    ``mrr_now / mrr_then - 1`` where ``mrr_now`` is the latest month on or before ``as_of``
    and ``mrr_then`` the month ``months`` earlier (or, for younger accounts, the first month
    in the window). NaN when the base is 0 or unknown. Empty Series without an ``mrr`` table.
    """
    if mrr is None or mrr.empty:
        return pd.Series(dtype=float, name="mrr_growth")
    as_of = as_timestamp(as_of)
    monthly, codes, month_rank, months_seen = _mrr_sums(mrr)
    last = _last_rows(codes, np.flatnonzero(
        np.asarray(monthly.index.get_level_values("month") <= as_of)))
    # the window's first month of each account: the first of its rows dated on or after
    # its latest month less ``months``, by binary search over (account, month rank) keys
    latest = monthly.index.get_level_values("month")[last]
    start = latest - pd.DateOffset(months=months)
    span = len(months_seen) + 1
    keys = codes * span + month_rank
    first = np.searchsorted(keys, codes[last] * span
                            + np.searchsorted(months_seen, start.to_numpy(), side="left"))
    values = monthly.to_numpy(dtype=float)
    values = np.where(np.isnan(values), 0.0, values)  # a month of blank amounts counts as 0
    then = values[first]
    then = np.where(then > 0, then, np.nan)
    growth = pd.Series(values[last] / then - 1.0,
                       index=monthly.index.get_level_values("account_id")[last])
    return growth.rename("mrr_growth")


def _mrr_sums(mrr: pd.DataFrame) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
    """The ``mrr`` table's MRR summed per account and month over all its rows (a Series on
    (``account_id``, ``month``), sorted; blank when every amount of the month is blank;
    undated rows left out), each row's account code (ascending), its month's rank among
    the distinct months and those months (sorted, ``datetime64``): what :func:`mrr_at`
    and :func:`mrr_growth` look up at each date. Kept per read-only table
    (:func:`kept_result`), once for all the run's kernels."""
    def compute() -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray]:
        m = mrr.reset_index(drop=True)
        m = m.assign(month=date_column(m, "month"), mrr=number_column(m, "mrr"))
        monthly = m.groupby(["account_id", "month"], sort=True)["mrr"].sum(min_count=1)
        month = monthly.index.get_level_values("month").to_numpy()
        months_seen, rank = np.unique(month, return_inverse=True)
        return (monthly, np.asarray(monthly.index.codes[0], dtype=np.int64),
                rank.astype(np.int64), months_seen)
    return kept_result(mrr, ("mrr_sums",), compute, copy=False, across_kernels=True)
