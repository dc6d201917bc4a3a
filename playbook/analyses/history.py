"""Account state on many dates at once: the health backtest and the lifecycle history.

The health backtest scores every account as of the month-end before each past decision's
cut-off, and the lifecycle history places every account in a stage at each of the last
months: the same per-date functions of :mod:`playbook.analyses.account_state` run on 20-40
dates. Run one date at a time, each call parses the whole usage, survey and billing tables
again (dates, numbers, groupings of strings); at 100,000 accounts that was most of section
03's time.

The classes here parse a table once, keep it sorted by account and date as integer
arrays, and answer each date with array look-ups. Each method returns exactly what its
per-date counterpart returns (same rows, order, columns, dtypes and values; proved by
``tests/test_vectorised_history.py`` on the demo and on hand fixtures):

* :class:`UsageHistory` ``.snapshot(as_of)`` = :func:`~playbook.analyses.account_state.
  usage_snapshot`;
* :class:`LatestValues` ``.at(as_of)`` = :func:`~playbook.analyses.account_state.
  latest_on_or_before`;
* :class:`MrrGrowth` ``.at(as_of)`` = :func:`~playbook.analyses.account_state.mrr_growth`;
* :class:`HighTickets` ``.counts(as_of, ids)``: high-priority tickets of the window, as
  the health score's ticket measure counts them;
* :class:`StepsDone` ``.at(as_of, ids)``: distinct onboarding steps completed, as the
  lifecycle's Onboarding rule counts them;
* :class:`ActiveAccounts` ``.on(as_of)`` = :func:`~playbook.analyses.account_state.
  active_accounts`.
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
    usage_snapshot,
)

USAGE_MEASURES = ["active_users", "licensed_seats", "key_actions"]
SNAPSHOT_COLUMNS = ["month", "active_users", "licensed_seats", "depth",
                    "active_users_before", "active_change", "key_actions",
                    "actions_per_user", "actions_change"]


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


class UsageHistory:
    """The usage table aggregated by account and month once, snapshotted on any date.

    ``usage``: canonical ``usage`` (``account_id``, ``month``, measures). Rows without an
    account or a readable date are never counted (as in :func:`usage_snapshot`).
    """

    def __init__(self, usage: pd.DataFrame | None) -> None:
        self.usage = usage
        self.empty = usage is None or usage.empty
        if self.empty:
            return
        usage = usage.reset_index(drop=True)
        dates = date_column(usage, "month")
        rows = pd.DataFrame({"account_id": usage["account_id"], "date": dates})
        for c in USAGE_MEASURES:
            rows[c] = number_column(usage, c)
        rows = rows.loc[rows["date"].notna() & rows["account_id"].notna()]
        rows["month"] = rows["date"].dt.to_period("M").dt.to_timestamp()
        self._rows = rows
        monthly = (rows.groupby(["account_id", "month"], sort=True)[USAGE_MEASURES]
                   .sum(min_count=1).reset_index())
        self._monthly = monthly
        self._codes, self._ids = pd.factorize(monthly["account_id"], sort=True)
        self._months = _month_number(monthly["month"])
        # the newest raw date of each month: a snapshot inside a month must leave out the
        # month's rows dated after it (then the month is aggregated again, for that date)
        self._month_last = rows.groupby("month")["date"].max()

    def _tables(self, as_of: pd.Timestamp
                ) -> tuple[pd.DataFrame, np.ndarray, pd.Index, np.ndarray]:
        """The account-months as aggregated on ``as_of``, their account codes and ids, and
        their months since year 0."""
        month = as_of.to_period("M").to_timestamp()
        monthly = self._monthly
        if month in self._month_last.index and self._month_last[month] > as_of:
            part = self._rows.loc[(self._rows["month"] == month) & (self._rows["date"] <= as_of)]
            redo = (part.groupby(["account_id", "month"], sort=True)[USAGE_MEASURES]
                    .sum(min_count=1).reset_index())
            monthly = pd.concat([monthly.loc[monthly["month"] != month], redo])
            monthly = monthly.sort_values(["account_id", "month"], kind="stable")
            monthly = monthly.loc[monthly["month"] <= as_of].reset_index(drop=True)
            codes, ids = pd.factorize(monthly["account_id"], sort=True)
            return monthly, codes, ids, _month_number(monthly["month"])
        keep = (self._monthly["month"] <= as_of).to_numpy()
        return (self._monthly.loc[keep].reset_index(drop=True), self._codes[keep], self._ids,
                self._months[keep])

    def snapshot(self, as_of: DateLike, *, trend_months: int = 3) -> pd.DataFrame:
        """:func:`playbook.analyses.account_state.usage_snapshot` of the table on
        ``as_of`` (same frame)."""
        if self.empty:
            return usage_snapshot(self.usage, as_of, trend_months=trend_months)
        as_of = as_timestamp(as_of)
        monthly, codes, ids, months = self._tables(as_of)
        if monthly.empty:  # nothing dated on or before as_of: the per-date result
            return usage_snapshot(self.usage, as_of, trend_months=trend_months)
        last = _last_per_group(codes)
        latest = monthly.iloc[last].set_index("account_id")
        # the month trend_months before each latest month, looked up by (account, month)
        # as one sorted integer key: account code * 10^6 + months since year 0
        key = codes.astype(np.int64) * 1_000_000 + months
        want = key[last] - trend_months
        pos = np.minimum(np.searchsorted(key, want), len(key) - 1)
        found = key[pos] == want
        before_users = np.full(len(last), np.nan)
        before_actions = np.full(len(last), np.nan)
        before_users[found] = monthly["active_users"].to_numpy(dtype=float)[pos[found]]
        before_actions[found] = monthly["key_actions"].to_numpy(dtype=float)[pos[found]]
        add_usage_measures(latest, before_users, before_actions)
        return latest[SNAPSHOT_COLUMNS]


def _month_number(month: pd.Series) -> np.ndarray:
    """Months since year 0 of month-start dates (int64)."""
    return (month.dt.year * 12 + month.dt.month - 1).to_numpy(dtype=np.int64)


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
        dates = date_column(frame, date_col).fillna(OLDEST_DATE)
        self._per_column = {}
        for c in columns:
            f = pd.DataFrame({"account_id": frame["account_id"], "_date": dates,
                              c: number_column(frame, c)}).dropna(subset=[c])
            # mean of each account's values on each date, sorted by account then date
            by_day = f.groupby(["account_id", "_date"], sort=True)[c].mean().reset_index()
            codes = pd.factorize(by_day["account_id"], sort=True)[0]
            self._per_column[c] = (by_day["_date"].to_numpy(), codes,
                                   by_day["account_id"], by_day[c].to_numpy())

    def at(self, as_of: DateLike) -> pd.DataFrame:
        """The per-account frame of :func:`latest_on_or_before` on ``as_of``."""
        if self.empty:
            return latest_on_or_before(self.frame, self.columns, as_of, self.date_col)
        as_of = as_timestamp(as_of)
        series = {}
        for c in self.columns:
            dates, codes, ids, values = self._per_column[c]
            rows = np.flatnonzero(dates <= as_of.to_datetime64())
            if not len(rows):
                series[c] = pd.Series(dtype=float)
                continue
            last = rows[_last_per_group(codes[rows])]
            series[c] = pd.Series(values[last], index=pd.Index(
                ids.iloc[last].to_numpy(), name="account_id"), name=c)
        out = pd.DataFrame(series, columns=self.columns)
        out.index.name = "account_id"
        return out.astype(float)


class MrrGrowth:
    """:func:`~playbook.analyses.account_state.mrr_growth` on many dates: the monthly MRR
    per account summed once."""

    def __init__(self, mrr: pd.DataFrame | None) -> None:
        self.mrr = mrr
        self.empty = mrr is None or mrr.empty
        if self.empty:
            return
        mrr = mrr.reset_index(drop=True)
        m = mrr.assign(month=date_column(mrr, "month"), mrr=number_column(mrr, "mrr"))
        self._monthly = m.groupby(["account_id", "month"], sort=True)["mrr"].sum().reset_index()
        self._codes, self._ids = pd.factorize(self._monthly["account_id"], sort=True)

    def at(self, as_of: DateLike, *, months: int = 12) -> pd.Series:
        """The Series of :func:`mrr_growth` on ``as_of``."""
        if self.empty:
            return pd.Series(dtype=float, name="mrr_growth")
        as_of = as_timestamp(as_of)
        keep = (self._monthly["month"] <= as_of).to_numpy()
        monthly = self._monthly.loc[keep].reset_index(drop=True)
        kept = self._codes[keep]  # ascending: the table is sorted by account
        codes = np.cumsum(np.r_[False, kept[1:] != kept[:-1]]) if len(kept) else kept
        ids = self._ids[kept[_first_per_group(kept)]]  # accounts with a month by then
        last = _last_per_group(codes)
        month = monthly["month"]
        last_month = pd.Series(month.to_numpy()[last][codes], index=monthly.index)
        in_window = (month >= last_month - pd.DateOffset(months=months)).to_numpy()
        # first row in each account's window: rows are sorted by month within an account
        window_codes = codes[in_window]
        then_pos = np.flatnonzero(in_window)[_first_per_group(window_codes)]
        values = monthly["mrr"].to_numpy(dtype=float)
        then = pd.Series(values[then_pos], index=pd.Index(ids, name="account_id"))
        now = pd.Series(values[last], index=then.index)
        return (now / then.where(then > 0) - 1.0).rename("mrr_growth")


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
        self._ids = frame["account_id"].to_numpy()[keep]
        self._when = when.to_numpy()[keep]

    def counts(self, as_of: pd.Timestamp, ids: pd.Index, window_days: int) -> pd.Series:
        """Events per account of ``ids`` (0 without any), float."""
        start = (as_of - pd.Timedelta(days=window_days)).to_datetime64()
        recent = (self._when <= as_of.to_datetime64()) & (self._when > start)
        n = pd.Series(self._ids[recent]).value_counts()
        return n.reindex(ids).fillna(0).astype(float)


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
        self._first = first.to_numpy()

    def at(self, as_of: pd.Timestamp, ids: pd.Index) -> pd.Series:
        """Steps done per account of ``ids`` (0 without any), float."""
        done = self._codes[self._first <= as_of.to_datetime64()]
        n = pd.Series(np.bincount(done, minlength=len(self._accounts)).astype(float),
                      index=self._accounts)
        return n.reindex(ids).fillna(0).astype(float)


class ActiveAccounts:
    """:func:`~playbook.analyses.account_state.active_accounts` on many dates: start and
    churn dates and the status read once."""

    def __init__(self, accounts: pd.DataFrame) -> None:
        acc = accounts.reset_index(drop=True)
        self._accounts = acc
        self._start = date_column(acc, "start_date").to_numpy()
        self._churn = date_column(acc, "churn_date").to_numpy()
        churned = pd.Series(False, index=acc.index)
        if "status" in acc:
            status = acc["status"].astype("string").str.lower()
            churned = (np.isnat(self._churn) & (status == "churned")).fillna(False)
        self._churned_undated = churned.to_numpy(dtype=bool)

    def on(self, as_of: pd.Timestamp) -> pd.DataFrame:
        """The active accounts on ``as_of``, indexed by ``account_id`` (same frame)."""
        day = as_timestamp(as_of).to_datetime64()
        started = np.isnat(self._start) | (self._start <= day)
        not_churned = (np.isnat(self._churn) | (self._churn > day)) & ~self._churned_undated
        return self._accounts.loc[started & not_churned].set_index("account_id")
