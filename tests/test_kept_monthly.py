"""``mrr_at`` and ``usage_snapshot`` from monthly sums kept per read-only table (issue 22):
the same answers as the code they replaced (kept here as ``reference_*``), for tables marked
read-only (the run's stored tables: the sums are kept and reused across dates) and for
plain frames (computed each time), exactly, on the small demo at several dates and on hand
tables with blanks, duplicate rows in a month, gaps, months not on the 1st, accounts
without rows, one account, dates before any row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import account_state as state
from playbook.read_only import mark_read_only


# --------------------------------------------------------------------------- references
def reference_mrr_at(accounts, as_of, mrr=None):
    """mrr_at as it was: a groupby of the rows dated on or before ``as_of``."""
    acc = accounts.drop_duplicates("account_id")
    current = state.account_mrr(acc).set_axis(acc["account_id"]).rename_axis("account_id")
    if mrr is None or mrr.empty:
        return current.rename("mrr")
    as_of = state.as_timestamp(as_of)
    m = mrr.reset_index(drop=True)
    m = m.assign(month=state.date_column(m, "month"),
                 mrr=state.number_column(m, "mrr")).dropna(subset=["mrr"])
    m = m.loc[m["month"] <= as_of]
    monthly = m.groupby(["account_id", "month"], sort=True)["mrr"].sum()
    latest = monthly.groupby(level="account_id").tail(1).droplevel("month")
    return latest.reindex(current.index).fillna(current).rename("mrr")


def reference_usage_snapshot(usage, as_of, trend_months=3):
    """usage_snapshot's computation as it was (rows up to ``as_of``, then sums)."""
    cols = state.SNAPSHOT_COLUMNS
    as_of = state.as_timestamp(as_of)
    usage = usage.reset_index(drop=True)
    u = usage.loc[state.date_column(usage, "month") <= as_of, ["account_id", "month"]].copy()
    measures = ["active_users", "licensed_seats", "key_actions"]
    for c in measures:
        u[c] = state.number_column(usage, c).loc[u.index]
    u["month"] = state.date_column(u, "month").dt.to_period("M").dt.to_timestamp()
    monthly = u.groupby(["account_id", "month"], sort=True)[measures]
    monthly = monthly.sum(min_count=1).reset_index()
    latest = monthly.groupby("account_id").tail(1).set_index("account_id")
    wanted = pd.DataFrame({"account_id": latest.index.to_numpy(),
                           "month": (latest["month"] - pd.DateOffset(months=trend_months)
                                     ).to_numpy()})
    before = wanted.merge(monthly[["account_id", "month", "active_users", "key_actions"]],
                          on=["account_id", "month"], how="left", validate="many_to_one")
    state.add_usage_measures(latest, before["active_users"].to_numpy(dtype=float),
                             before["key_actions"].to_numpy(dtype=float))
    return latest[cols]


# --------------------------------------------------------------------------- hand tables
ACCOUNTS = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                         "mrr": [100.0, np.nan, 30.0, np.nan],
                         "arr": [np.nan, 2400.0, np.nan, np.nan]})

MRR = pd.DataFrame({
    "account_id": ["A", "A", "A", "B", "B", "B", "C", "A", "B", None],
    "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01", "2026-01-01",
                             "2026-01-01", "2026-03-01", None, "2026-02-01", "2026-05-01",
                             "2026-02-01"]),
    "mrr": [10.0, 20.0, 40.0, 1.5, 2.25, np.nan, 7.0, 0.1, 9.0, 5.0],
})

USAGE = pd.DataFrame({
    "account_id": ["A", "A", "A", "A", "B", "B", "B", "C", "C", "A"],
    "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-04-01", "2026-05-01",
                             "2026-02-01", "2026-02-01", "2026-05-01", "2026-03-01", None,
                             "2026-02-01"]),
    "active_users": [5, 6, np.nan, 8, 1, 2, 0, 4, 9, 1],
    "licensed_seats": [10, 10, 10, np.nan, 2, 2, 2, 0, 9, 0],
    "key_actions": [50, 60, 70, np.nan, 0, 3, 4, 8, 1, 5],
})

DATES = ["2025-12-31", "2026-01-01", "2026-02-15", "2026-04-01", "2026-05-01", "2026-12-31"]


def _both(frame: pd.DataFrame) -> list[pd.DataFrame]:
    """The frame as a plain one and as a read-only-marked copy (sums kept)."""
    return [frame, mark_read_only(frame.copy())]


@pytest.mark.parametrize("day", DATES)
def test_mrr_at_on_hand_tables(day):
    want = reference_mrr_at(ACCOUNTS, day, MRR)
    for mrr in _both(MRR):
        for _ in range(2):  # the second call reads the kept sums
            pd.testing.assert_series_equal(state.mrr_at(ACCOUNTS, day, mrr), want,
                                           check_exact=True)


def test_mrr_at_by_hand():
    got = state.mrr_at(ACCOUNTS, "2026-02-15", mark_read_only(MRR.copy()))
    # A: Feb's two rows 20 + 0.1; B: Jan's two rows; C only undated (current 30); D none
    assert got.to_dict() == pytest.approx({"A": 20.1, "B": 3.75, "C": 30.0, "D": np.nan},
                                          nan_ok=True)
    assert state.mrr_at(ACCOUNTS, "2026-06-30", MRR)["B"] == 9.0  # March's blank skipped


@pytest.mark.parametrize("day", DATES)
@pytest.mark.parametrize("trend", [1, 3])
def test_usage_snapshot_on_hand_tables(day, trend):
    want = reference_usage_snapshot(USAGE, day, trend)
    for usage in _both(USAGE):
        for _ in range(2):
            pd.testing.assert_frame_equal(state.usage_snapshot(usage, day, trend_months=trend),
                                          want, check_exact=True)


def test_usage_snapshot_by_hand():
    got = state.usage_snapshot(mark_read_only(USAGE.copy()), "2026-05-31", trend_months=3)
    # A: May's 8 users; three months before is Feb, whose two rows sum to 7 users
    assert got.loc["A", "active_users"] == 8 and got.loc["A", "active_users_before"] == 7
    assert got.loc["A", "actions_change"] != got.loc["A", "actions_change"]  # May blank
    # B: May after Feb (2 rows: 3 users): 0 users now, a fall to nothing
    assert got.loc["B", "active_change"] == -1.0
    assert np.isnan(got.loc["C", "active_users_before"])  # no December row


def test_months_inside_a_month_are_taken_per_date():
    usage = USAGE.copy()
    usage.loc[1, "month"] = pd.Timestamp("2026-02-20")  # A's February row, late in Feb
    marked = mark_read_only(usage.copy())
    for day in ["2026-02-10", "2026-02-25", "2026-04-30"]:
        want = reference_usage_snapshot(usage, day)
        pd.testing.assert_frame_equal(state.usage_snapshot(marked, day), want,
                                      check_exact=True)
    # on the 10th the row of the 20th does not count yet: A's February is its other row
    assert state.usage_snapshot(marked, "2026-02-10").loc["A", "active_users"] == 1


def test_one_account_and_nothing_before_the_date():
    one = USAGE[USAGE["account_id"] == "B"]
    for usage in _both(one):
        pd.testing.assert_frame_equal(state.usage_snapshot(usage, "2026-05-01"),
                                      reference_usage_snapshot(one, "2026-05-01"),
                                      check_exact=True)
        early = state.usage_snapshot(usage, "2025-01-01")
        assert early.empty and list(early.columns) == state.SNAPSHOT_COLUMNS
    mrr = MRR[MRR["account_id"] == "A"]
    for frame in _both(mrr):
        pd.testing.assert_series_equal(state.mrr_at(ACCOUNTS, "2025-01-01", frame),
                                       reference_mrr_at(ACCOUNTS, "2025-01-01", mrr),
                                       check_exact=True)


# --------------------------------------------------------------------------- the demo
@pytest.fixture(scope="module")
def demo(small_demo_run):
    return small_demo_run


def test_the_demo_at_several_dates(demo):
    params, data = demo
    usage, mrr, accounts = data.tables["usage"], data.tables["mrr"], data.tables["accounts"]
    marked_usage, marked_mrr = mark_read_only(usage.copy()), mark_read_only(mrr.copy())
    as_of = pd.Timestamp(params.as_of)
    days = [as_of, as_of - pd.DateOffset(months=6), as_of - pd.Timedelta(days=400),
            pd.Timestamp("2020-01-01")]
    for day in days:
        want_usage = reference_usage_snapshot(usage, day)
        want_mrr = reference_mrr_at(accounts, day, mrr)
        for frame in (usage, marked_usage):
            pd.testing.assert_frame_equal(state.usage_snapshot(frame, day), want_usage,
                                          check_exact=True)
        for frame in (mrr, marked_mrr):
            pd.testing.assert_series_equal(state.mrr_at(accounts, day, frame), want_mrr,
                                           check_exact=True)
    assert len(reference_usage_snapshot(usage, as_of)) > 100
    assert reference_mrr_at(accounts, as_of, mrr).gt(0).sum() > 100


# --------------------------------------------------------------------------- mrr_growth
def reference_mrr_growth(mrr, as_of, *, months=12):
    """mrr_growth as it was: a groupby of the rows dated on or before ``as_of``."""
    if mrr is None or mrr.empty:
        return pd.Series(dtype=float, name="mrr_growth")
    as_of = state.as_timestamp(as_of)
    mrr = mrr.reset_index(drop=True)
    m = mrr.assign(month=state.date_column(mrr, "month"), mrr=state.number_column(mrr, "mrr"))
    m = m.loc[m["month"] <= as_of]
    monthly = m.groupby(["account_id", "month"], sort=True)["mrr"].sum().reset_index()
    last = monthly.groupby("account_id")["month"].transform("max")
    window = monthly.loc[monthly["month"] >= last - pd.DateOffset(months=months)]
    g = window.groupby("account_id")["mrr"]
    then = g.first()
    growth = g.last() / then.where(then > 0) - 1.0
    return growth.rename("mrr_growth")


GROWTH_MRR = pd.DataFrame({
    "account_id": ["A", "A", "A", "A", "B", "B", "B", "C", "C", "D", "E", "E", "F"],
    # month ends and a leap day: "a month earlier" of the 31st is the 30th or 28th/29th
    "month": pd.to_datetime(["2025-03-31", "2025-04-30", "2026-02-28", "2026-03-31",
                             "2024-02-29", "2025-02-28", "2025-03-31", "2026-01-01",
                             "2026-03-01", None, "2025-06-01", "2025-06-01", "2026-03-01"]),
    "mrr": [0.0, 10.0, 15.0, 30.0, 8.0, np.nan, 12.0, 5.0, 7.5, 3.0, np.nan, np.nan, 4.0],
})


@pytest.mark.parametrize("day", ["2024-01-01", "2025-03-31", "2025-04-30", "2026-02-28",
                                 "2026-03-31", "2027-01-01"])
@pytest.mark.parametrize("months", [1, 12])
def test_mrr_growth_on_hand_tables(day, months):
    want = reference_mrr_growth(GROWTH_MRR, day, months=months)
    for frame in _both(GROWTH_MRR):
        for _ in range(2):
            pd.testing.assert_series_equal(state.mrr_growth(frame, day, months=months), want,
                                           check_exact=True)


def test_mrr_growth_by_hand():
    got = state.mrr_growth(mark_read_only(GROWTH_MRR.copy()), "2026-03-31", months=12)
    # A: 31 Mar 2026 back to 31 Mar 2025, whose MRR is 0: no base; one month: 15 -> 30
    assert np.isnan(got["A"])
    assert state.mrr_growth(GROWTH_MRR, "2026-03-31", months=1)["A"] == pytest.approx(1.0)
    assert got["C"] == pytest.approx(0.5) and np.isnan(got["E"])  # E: blank sums to 0
    assert "D" not in got.index  # undated only


def test_mrr_growth_on_the_demo(demo):
    params, data = demo
    mrr = data.tables["mrr"]
    marked = mark_read_only(mrr.copy())
    as_of = pd.Timestamp(params.as_of)
    for day in [as_of, as_of - pd.DateOffset(months=7), pd.Timestamp("2019-01-01")]:
        want = reference_mrr_growth(mrr, day)
        for frame in (mrr, marked):
            pd.testing.assert_series_equal(state.mrr_growth(frame, day), want,
                                           check_exact=True)
    assert reference_mrr_growth(mrr, as_of).notna().sum() > 100
