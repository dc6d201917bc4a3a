"""Account state on many dates at once: the health backtest and the lifecycle history.

The health backtest scores every account as of the month-end before each past decision's
cut-off, and the lifecycle history places every account in a stage at each of the last
months: the same per-date functions of :mod:`playbook.analyses.account_state` run on 20-40
dates. Run one date at a time, each call parses the whole usage, survey and billing tables
again (dates, numbers, groupings of strings); at 100,000 accounts that was most of section
03's time.

The classes here parse a table once: its accounts become integer codes (``codes_of`` maps
account IDs to them), its rows are kept sorted by account and date, and each date is
answered by binary search (``numpy.searchsorted``) for the accounts asked about, not by
filtering and regrouping the whole table. Each method returns exactly what its per-date
counterpart returns (same rows, order, columns, dtypes and values; proved by
``tests/test_vectorised_history.py`` and ``tests/test_history_arrays.py`` on the demo and
on hand fixtures):

* :class:`UsageHistory` ``.snapshot(as_of)`` = :func:`~playbook.analyses.account_state.
  usage_snapshot` (``ids=``: its rows of those accounts); ``.depth_of(as_of, codes)``: its
  ``depth`` per code;
* :class:`LatestValues` ``.at(as_of)`` = :func:`~playbook.analyses.account_state.
  latest_on_or_before` (``ids=``: its rows of those accounts);
* :class:`MrrGrowth` ``.at(as_of)`` = :func:`~playbook.analyses.account_state.mrr_growth`;
  ``.growth_of(as_of, codes)``: its values per code;
* :class:`HighTickets` ``.counts(as_of, ids)``: high-priority tickets of the window, as
  the health score's ticket measure counts them;
* :class:`StepsDone` ``.at(as_of, ids)``: distinct onboarding steps completed, as the
  lifecycle's Onboarding rule counts them (``.count_of(as_of, codes)`` per code);
* :class:`ActiveAccounts` ``.on(as_of)`` = :func:`~playbook.analyses.account_state.
  active_accounts` (``.mask(as_of)``: which rows of the accounts table).

A code array holds, for each account asked about, its position in the class's own sorted
account IDs, -1 for an account the table does not hold (it then has no value).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from playbook.analyses.account_state import (
    OLDEST_DATE,
    DateLike,
    add_usage_measures,
    as_timestamp,
    date_column,
    latest_on_or_before,
    number_column,
    usage_monthly,
    usage_snapshot,
)
from playbook.analyses.grouped import means_by_key, sums_by_key
from playbook.membership import positions

USAGE_MEASURES = ["active_users", "licensed_seats", "key_actions"]
SNAPSHOT_COLUMNS = ["month", "active_users", "licensed_seats", "depth",
                    "active_users_before", "active_change", "key_actions",
                    "actions_per_user", "actions_change"]
#: Months since year 0 fit below this, so ``account code * MONTHS + month`` is one sortable
#: int64 key per account-month.
MONTHS = 1_000_000


def _last_per_group(codes: np.ndarray) -> np.ndarray:
    """Positions of the last row of each run of equal ``codes`` (codes sorted)."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[codes[1:] != codes[:-1], True])


def _first_per_group(codes: np.ndarray) -> np.ndarray:
    """Positions of the first row of each run of equal ``codes`` (codes sorted)."""
    if not len(codes):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])


def _codes_in(index: pd.Index, ids: pd.Index | Sequence) -> np.ndarray:
    """Position of each of ``ids`` in ``index`` (distinct, no blank), -1 where absent
    (int64)."""
    return positions(ids, index)


def _wanted(codes: np.ndarray) -> np.ndarray:
    """The distinct codes of ``codes`` held by the table (>= 0), ascending."""
    codes = np.unique(np.asarray(codes, dtype=np.int64))
    return codes[codes >= 0]


def _last_before(keys: np.ndarray, row_codes: np.ndarray, codes: np.ndarray,
                 bound: np.ndarray | int, size: int) -> np.ndarray:
    """For each of ``codes`` (-1: none), the position of its last row whose key is below
    ``code * size + bound`` in ``keys`` (sorted ``code * size + rank`` of each row, the
    rows' codes ``row_codes``); -1 without such a row."""
    codes = np.asarray(codes, dtype=np.int64)
    pos = np.searchsorted(keys, codes * size + bound, side="left") - 1
    found = (codes >= 0) & (pos >= 0)
    found[found] = row_codes[pos[found]] == codes[found]
    return np.where(found, pos, -1)


def as_of_ns(as_of: DateLike) -> np.datetime64:
    """``as_of`` as a ``datetime64[ns]`` scalar."""
    return np.datetime64(as_timestamp(as_of).to_datetime64(), "ns")


def ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``values`` (no blanks) in order, and each value's position
    among them (int64): ``numpy.unique(values, return_inverse=True)``, by hashing."""
    rank, distinct = pd.factorize(values, sort=True)
    return np.asarray(distinct), rank.astype(np.int64)


def _month_number(month: pd.Series) -> np.ndarray:
    """Months since year 0 of dates (int64)."""
    return (month.dt.year * 12 + month.dt.month - 1).to_numpy(dtype=np.int64)


def _month_starts(numbers: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The first day of each month (months since year 0), as ``dtype`` (datetime64)."""
    return (np.asarray(numbers, dtype=np.int64) - 1970 * 12).astype("datetime64[M]").astype(
        dtype)


class UsageHistory:
    """The usage table aggregated by account and month once, snapshotted on any date.

    ``usage``: canonical ``usage`` (``account_id``, ``month``, measures). Rows without an
    account or a readable date are never counted (as in :func:`usage_snapshot`).
    """

    def __init__(self, usage: pd.DataFrame | None) -> None:
        self.usage = usage
        self.empty = usage is None or usage.empty
        self._ids = pd.Index([])
        if self.empty:
            return
        if self._from_monthly_sums(usage):
            return
        usage = usage.reset_index(drop=True)
        dates = date_column(usage, "month")
        ok = (dates.notna() & usage["account_id"].notna()).to_numpy()
        dates = dates[ok]
        codes, self._ids = pd.factorize(usage["account_id"][ok], sort=True)
        self._ids = self._ids.rename("account_id")
        self._month_dtype = dates.iloc[:0].dt.to_period("M").dt.to_timestamp().dtype
        rows = pd.DataFrame({c: number_column(usage, c)[ok] for c in USAGE_MEASURES})
        rows["_code"] = codes.astype(np.int64)
        rows["_month"] = _month_number(dates)
        rows["_date"] = dates.to_numpy(dtype="datetime64[ns]")
        rows = rows.reset_index(drop=True)
        self._monthly = self._aggregate(rows)
        # the newest raw date of each month: a snapshot inside a month must leave out the
        # month's rows dated after it (then the month is aggregated again, for that date)
        self._month_last = rows.groupby("_month")["_date"].max()
        self._first_date = rows["_date"].min()
        # only the rows of months dated after their first day can be aggregated again; a
        # monthly export (every row on its month's first day) keeps none (at 1,000,000
        # accounts the rows were about 1 GB beside the aggregate)
        later = self._month_last.index[self._month_last.to_numpy()
                                       > _month_starts(self._month_last.index,
                                                       "datetime64[ns]")]
        self._rows = rows.loc[rows["_month"].isin(later).to_numpy()].reset_index(drop=True)
        self._depth: np.ndarray | None = None

    def _from_monthly_sums(self, usage: pd.DataFrame) -> bool:
        """Take the account-months from the usage table's monthly sums, when every usage
        month is a month's first day (``account_state.usage_monthly``: kept per read-only
        table, once for all the run's kernels); False, with nothing set, otherwise (or
        when no row has both an account and a month).

        The same accounts (sorted), months and sums as :meth:`_aggregate` of the rows
        (both sum by :func:`~playbook.analyses.grouped.sums_by_key`, blank when all
        blank), without a copy of the rows: at 1,000,000 accounts the rows and a second
        aggregate were about 2 GB. No month is then aggregated again for a date inside it:
        its rows are all dated on its first day."""
        sums = usage_monthly(usage)
        if sums is None or not len(sums[0]):
            return False
        monthly, accounts, codes, ordinal = sums
        self._ids = accounts.rename("account_id")
        self._month_dtype = monthly["month"].dtype
        month = np.asarray(ordinal, dtype=np.int64) + 1970 * 12  # months since year 0
        self._monthly = {"key": codes * MONTHS + month, "code": codes, "month": month,
                         **{c: monthly[c].to_numpy(dtype=float) for c in USAGE_MEASURES}}
        self._month_last = pd.Series(dtype="datetime64[ns]")  # no month to aggregate again
        self._first_date = (pd.Timestamp(monthly["month"].min()) if len(monthly)
                            else pd.Timestamp.max)
        self._rows = pd.DataFrame()
        self._depth = None
        return True

    @staticmethod
    def _aggregate(rows: pd.DataFrame) -> dict[str, np.ndarray]:
        """The account-months of ``rows`` (measures summed, blank when all blank), sorted
        by account code then month: ``key`` (code * MONTHS + month), ``code``, ``month``
        and one array per measure."""
        key = rows["_code"].to_numpy() * MONTHS + rows["_month"].to_numpy()
        keys, sums = sums_by_key(key, rows[USAGE_MEASURES], min_count=1)
        return {"key": keys, "code": keys // MONTHS, "month": keys % MONTHS, **sums}

    def codes_of(self, ids: pd.Index | Sequence) -> np.ndarray:
        """Each account of ``ids``' code here (-1: no usage row)."""
        return _codes_in(self._ids, ids)

    def _table_on(self, as_of: pd.Timestamp) -> dict[str, np.ndarray] | None:
        """The account-months as aggregated on ``as_of`` (rows of later months may remain:
        look-ups stop at ``as_of``'s month); None when nothing is dated on or before it."""
        day = as_of_ns(as_of)
        if self._first_date > day:
            return None
        month = int(as_of.year * 12 + as_of.month - 1)
        last = self._month_last.get(month)
        if last is None or last <= day:
            return self._monthly
        rows = self._rows
        part = rows.loc[(rows["_month"] == month).to_numpy()
                        & (rows["_date"] <= day).to_numpy()]
        redo = self._aggregate(part)
        before = self._monthly["month"] < month
        merged = {k: np.concatenate([v[before], redo[k]]) for k, v in self._monthly.items()}
        order = np.argsort(merged["key"], kind="stable")
        return {k: v[order] for k, v in merged.items()}

    def _latest(self, table: dict[str, np.ndarray], as_of: pd.Timestamp,
                codes: np.ndarray) -> np.ndarray:
        """Position in ``table`` of each code's latest month on or before ``as_of``
        (-1 without one)."""
        month = int(as_of.year * 12 + as_of.month - 1)
        return _last_before(table["key"], table["code"], codes, month + 1, MONTHS)

    def snapshot(self, as_of: DateLike, *, trend_months: int = 3,
                 ids: pd.Index | None = None, codes: np.ndarray | None = None
                 ) -> pd.DataFrame:
        """:func:`playbook.analyses.account_state.usage_snapshot` of the table on
        ``as_of`` (same frame); with ``ids`` (or their ``codes``, :meth:`codes_of`), its
        rows of those accounts only (same order)."""
        as_of = as_timestamp(as_of)
        if codes is None and ids is not None:
            codes = self.codes_of(ids)
        table = None if self.empty else self._table_on(as_of)
        if table is None:  # nothing dated on or before as_of: the per-date result
            full = usage_snapshot(self.usage, as_of, trend_months=trend_months)
            return full if codes is None else full[full.index.isin(self._ids[_wanted(codes)])]
        codes = np.arange(len(self._ids), dtype=np.int64) if codes is None else _wanted(codes)
        pos = self._latest(table, as_of, codes)
        found = pos >= 0
        last, codes = pos[found], codes[found]
        latest = pd.DataFrame(
            {"month": _month_starts(table["month"][last], self._month_dtype),
             **{c: table[c][last] for c in USAGE_MEASURES}},
            index=self._ids[codes])
        # the month trend_months before each latest month, looked up by (account, month)
        want = table["key"][last] - trend_months
        at = np.minimum(np.searchsorted(table["key"], want), len(table["key"]) - 1)
        hit = table["key"][at] == want if len(at) else np.zeros(0, dtype=bool)
        before_users = np.where(hit, table["active_users"][at], np.nan) if len(at) else at
        before_actions = np.where(hit, table["key_actions"][at], np.nan) if len(at) else at
        add_usage_measures(latest, np.asarray(before_users, dtype=float),
                           np.asarray(before_actions, dtype=float))
        return latest[SNAPSHOT_COLUMNS]

    def depth_of(self, as_of: DateLike, codes: np.ndarray) -> np.ndarray:
        """The ``depth`` of :meth:`snapshot` on ``as_of`` of each code (NaN for -1 or no
        month by then), float."""
        as_of = as_timestamp(as_of)
        table = None if self.empty else self._table_on(as_of)
        if table is None:
            return np.full(len(codes), np.nan)
        if table is self._monthly and self._depth is not None:
            depth = self._depth
        else:
            seats = table["licensed_seats"]
            with np.errstate(divide="ignore", invalid="ignore"):
                depth = np.minimum(table["active_users"] / np.where(seats > 0, seats, np.nan),
                                   1.0)
            if table is self._monthly:
                self._depth = depth
        pos = self._latest(table, as_of, codes)
        out = np.full(len(pos), np.nan)
        out[pos >= 0] = depth[pos[pos >= 0]]
        return out


class LatestValues:
    """:func:`~playbook.analyses.account_state.latest_on_or_before` of one table on many
    dates: per account and column, the mean of the values on the latest date on or before
    each date (blank dates count as the oldest)."""

    def __init__(self, frame: pd.DataFrame | None, columns: list[str],
                 date_col: str = "date") -> None:
        self.frame, self.columns, self.date_col = frame, columns, date_col
        self.empty = frame is None or frame.empty
        if self.empty:
            return
        frame = frame.reset_index(drop=True)
        dates = date_column(frame, date_col).fillna(OLDEST_DATE).to_numpy(
            dtype="datetime64[ns]")
        codes, ids = pd.factorize(frame["account_id"], sort=True)
        self._ids = ids.rename("account_id")
        self._per_column = {}
        for c in columns:
            values = number_column(frame, c).to_numpy(dtype=float)
            keep = ~np.isnan(values) & (codes >= 0)
            # mean of each account's values on each date, sorted by account then date
            days, rank = ranks(dates[keep])
            size = len(days) + 1
            keys, means = means_by_key(codes[keep].astype(np.int64) * size + rank,
                                       values[keep])
            self._per_column[c] = (days, keys, keys // size, size, means)

    def codes_of(self, ids: pd.Index | Sequence) -> np.ndarray:
        """Each account of ``ids``' code here (-1: no row)."""
        return _codes_in(self._ids, ids) if not self.empty else np.full(len(ids), -1)

    def at(self, as_of: DateLike, *, ids: pd.Index | None = None,
           codes: np.ndarray | None = None) -> pd.DataFrame:
        """The per-account frame of :func:`latest_on_or_before` on ``as_of``; with
        ``ids`` (or their ``codes``, :meth:`codes_of`), its rows of those accounts only
        (same order)."""
        if self.empty:
            full = latest_on_or_before(self.frame, self.columns, as_of, self.date_col)
            return full if ids is None and codes is None else full.iloc[:0]
        as_of = as_timestamp(as_of)
        if codes is None and ids is not None:
            codes = self.codes_of(ids)
        wanted = np.arange(len(self._ids), dtype=np.int64) if codes is None else _wanted(codes)
        series = {}
        for c in self.columns:
            days, keys, code, size, values = self._per_column[c]
            bound = int(np.searchsorted(days, as_of_ns(as_of), side="right"))
            if not bound:  # nothing dated on or before as_of
                series[c] = pd.Series(dtype=float)
                continue
            pos = _last_before(keys, code, wanted, bound, size)
            found = pos >= 0
            series[c] = pd.Series(values[pos[found]], index=self._ids[wanted[found]], name=c)
        out = pd.DataFrame(series, columns=self.columns)
        out.index.name = "account_id"
        return out.astype(float)


class MrrGrowth:
    """:func:`~playbook.analyses.account_state.mrr_growth` on many dates: the monthly MRR
    per account summed once."""

    def __init__(self, mrr: pd.DataFrame | None) -> None:
        self.mrr = mrr
        self.empty = mrr is None or mrr.empty
        self._ids = pd.Index([])
        if self.empty:
            return
        mrr = mrr.reset_index(drop=True)
        month = date_column(mrr, "month")
        ok = (month.notna() & mrr["account_id"].notna()).to_numpy()
        codes, self._ids = pd.factorize(mrr["account_id"][ok], sort=True)
        self._ids = self._ids.rename("account_id")
        days, rank = ranks(month[ok].to_numpy(dtype="datetime64[ns]"))
        size = len(days) + 1
        # MRR summed per account and month (sorted by both; blanks count 0)
        keys, sums = sums_by_key(codes.astype(np.int64) * size + rank,
                                  pd.DataFrame({"mrr": number_column(mrr, "mrr")[ok]}),
                                  min_count=0)
        self._codes = keys // size
        self._month = pd.Series(days[keys % size])
        self._values = sums["mrr"]
        self._windows: dict[int, tuple] = {}

    def _window(self, months: int) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """The months as ranks among every month and window start (``month - months``
        calendar months) of the table: the distinct dates, each row's sort key (code *
        size + rank of its month), the size, and each row's window start's rank."""
        if months not in self._windows:
            starts = (self._month - pd.DateOffset(months=months)).to_numpy(
                dtype="datetime64[ns]")
            month = self._month.to_numpy(dtype="datetime64[ns]")
            days, rank = ranks(np.concatenate([month, starts]))
            size = len(days) + 1
            row_rank, start_rank = np.split(rank.astype(np.int64), 2)
            self._windows[months] = (days, self._codes * size + row_rank, size, start_rank)
        return self._windows[months]

    def codes_of(self, ids: pd.Index | Sequence) -> np.ndarray:
        """Each account of ``ids``' code here (-1: no MRR row)."""
        return _codes_in(self._ids, ids)

    def growth_of(self, as_of: DateLike, codes: np.ndarray, *, months: int = 12
                  ) -> np.ndarray:
        """The :meth:`at` value of each code (NaN for -1, no month by then or a base of 0),
        float."""
        if self.empty:
            return np.full(len(codes), np.nan)
        days, keys, size, start_rank = self._window(months)
        bound = int(np.searchsorted(days, as_of_ns(as_of), side="right"))
        last = _last_before(keys, self._codes, codes, bound, size)
        found = last >= 0
        # the first row of the account on or after the window start of its latest month
        first = np.searchsorted(keys, np.asarray(codes, dtype=np.int64)[found] * size
                                + start_rank[last[found]], side="left")
        now = self._values[last[found]]
        then = self._values[first]
        out = np.full(len(codes), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[found] = now / np.where(then > 0, then, np.nan) - 1.0
        return out

    def at(self, as_of: DateLike, *, months: int = 12) -> pd.Series:
        """The Series of :func:`mrr_growth` on ``as_of``."""
        if self.empty:
            return pd.Series(dtype=float, name="mrr_growth")
        codes = np.arange(len(self._ids), dtype=np.int64)
        days, keys, size, _ = self._window(months)
        bound = int(np.searchsorted(days, as_of_ns(as_of), side="right"))
        has = _last_before(keys, self._codes, codes, bound, size) >= 0
        return pd.Series(self.growth_of(as_of, codes[has], months=months),
                         index=self._ids[codes[has]], name="mrr_growth")


class RecentEvents:
    """Rows of an event table whose code (``code_col``, any case) is one of ``codes``,
    counted per account over the ``window_days`` days up to a date (``date_col`` in
    ``(as_of - window_days, as_of]``)."""

    def __init__(self, frame: pd.DataFrame | None, date_col: str, code_col: str,
                 codes: Sequence[str]) -> None:
        self.empty = frame is None
        if self.empty:
            return
        frame = frame.reset_index(drop=True)
        when = date_column(frame, date_col)
        code = frame.get(code_col, pd.Series("", index=frame.index)).astype("string")
        keep = code.str.lower().isin([c.lower() for c in codes]).fillna(False).to_numpy(
            dtype=bool)
        keep = keep & frame["account_id"].notna().to_numpy() & when.notna().to_numpy()
        account, self._ids = pd.factorize(frame["account_id"][keep])
        self._account = account.astype(np.int64)
        self._when = when.to_numpy(dtype="datetime64[ns]")[keep]

    def codes_of(self, ids: pd.Index | Sequence) -> np.ndarray:
        """Each account of ``ids``' code here (-1: no event)."""
        return _codes_in(self._ids, ids) if not self.empty else np.full(len(ids), -1)

    def counts(self, as_of: pd.Timestamp, ids: pd.Index, window_days: int, *,
               codes: np.ndarray | None = None) -> pd.Series:
        """Events per account of ``ids`` (0 without any), float; ``codes``: theirs
        (:meth:`codes_of`), when known."""
        day = as_of_ns(as_of)
        start = day - np.timedelta64(pd.Timedelta(days=window_days).value, "ns")
        recent = (self._when <= day) & (self._when > start)
        n = np.bincount(self._account[recent], minlength=len(self._ids)).astype(float)
        code = self.codes_of(ids) if codes is None else np.asarray(codes)
        values = np.zeros(len(code))
        values[code >= 0] = n[code[code >= 0]]
        return pd.Series(values, index=ids, name="count")


class HighTickets(RecentEvents):
    """High-priority tickets (``priorities``) per account opened in the ``window_days``
    days up to a date, as the health score's ticket measure counts them."""

    def __init__(self, tickets: pd.DataFrame | None, priorities: Sequence[str]) -> None:
        super().__init__(tickets, "opened_at", "priority", priorities)


class StepsDone:
    """Distinct onboarding steps each account completed on or before a date (the
    lifecycle's Onboarding rule): each (account, step) counts from its first completion."""

    def __init__(self, onboarding: pd.DataFrame, key_steps: Sequence[str] | None) -> None:
        onboarding = onboarding.reset_index(drop=True)
        done = pd.DataFrame({"account_id": onboarding["account_id"],
                             "step": onboarding["step"],
                             "date": date_column(onboarding, "completed_date")})
        done = done.dropna(subset=["date", "step"])
        if key_steps:
            done = done.loc[done["step"].isin(list(key_steps))]
        first = done.groupby(["account_id", "step"], sort=False)["date"].min()
        self._codes, self._accounts = pd.factorize(first.index.get_level_values("account_id"))
        self._first = first.to_numpy(dtype="datetime64[ns]")

    def codes_of(self, ids: pd.Index | Sequence) -> np.ndarray:
        """Each account of ``ids``' code here (-1: no step done)."""
        return _codes_in(self._accounts, ids)

    def count_of(self, as_of: pd.Timestamp, codes: np.ndarray) -> np.ndarray:
        """Steps done of each code (0 for -1), float."""
        done = self._codes[self._first <= as_of_ns(as_of)]
        n = np.bincount(done, minlength=len(self._accounts)).astype(float)
        return np.where(codes >= 0, n[codes], 0.0) if len(n) else np.zeros(len(codes))

    def at(self, as_of: pd.Timestamp, ids: pd.Index) -> pd.Series:
        """Steps done per account of ``ids`` (0 without any), float."""
        return pd.Series(self.count_of(as_of, self.codes_of(ids)), index=ids)


class ActiveAccounts:
    """:func:`~playbook.analyses.account_state.active_accounts` on many dates: start and
    churn dates and the status read once."""

    def __init__(self, accounts: pd.DataFrame) -> None:
        acc = accounts.reset_index(drop=True)
        self._accounts = acc
        #: the account ID of each row of the table (the rows :meth:`mask` selects)
        self.ids = pd.Index(acc["account_id"])
        self._start = date_column(acc, "start_date").to_numpy()
        self._churn = date_column(acc, "churn_date").to_numpy()
        churned = pd.Series(False, index=acc.index)
        if "status" in acc:
            status = acc["status"].astype("string").str.lower()
            churned = (np.isnat(self._churn) & (status == "churned")).fillna(False)
        self._churned_undated = churned.to_numpy(dtype=bool)

    def mask(self, as_of: DateLike) -> np.ndarray:
        """Which rows of the accounts table are active on ``as_of`` (bool array)."""
        day = as_of_ns(as_of)
        started = np.isnat(self._start) | (self._start <= day)
        not_churned = (np.isnat(self._churn) | (self._churn > day)) & ~self._churned_undated
        return started & not_churned

    def rows(self, mask: np.ndarray) -> pd.DataFrame:
        """The rows of ``mask``, indexed by ``account_id`` (as :meth:`on` returns them)."""
        return self._accounts.loc[mask].set_index("account_id")

    def on(self, as_of: DateLike) -> pd.DataFrame:
        """The active accounts on ``as_of``, indexed by ``account_id`` (same frame)."""
        return self.rows(self.mask(as_of))
