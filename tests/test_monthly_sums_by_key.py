"""The usage table's monthly sums grouped by one integer per (account, month) (issue 22,
stop 33): ``usage_monthly`` grouped the rows by the text IDs and the dates (most of its
time hashing and sorting them); it now groups by the account's rank among the sorted IDs
times a span of months plus the month's count, with pandas' same grouped sum. The previous
computation is kept here as the reference: the same table, codes and months, exactly, on
the demo and on random tables with blanks, repeated months, unsorted rows, fractional
amounts and other dtypes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import account_state as state


def referenceusage_monthly(usage: pd.DataFrame):
    """``usage_monthly``'s computation before stop 33 (no kept result)."""
    usage_ = usage.reset_index(drop=True)
    dates = state.date_column(usage_, "month")
    raw = dates.to_numpy(dtype="datetime64[ns]")
    starts = raw.astype("datetime64[M]").astype("datetime64[ns]")
    if not ((starts == raw) | np.isnat(raw)).all():
        return None
    u = usage_.loc[dates.notna(), ["account_id", "month"]].copy()
    for c in state.USAGE_MEASURES:
        u[c] = state.number_column(usage_, c).loc[u.index]
    u["month"] = state.date_column(u, "month").dt.to_period("M").dt.to_timestamp()
    monthly = u.groupby(["account_id", "month"], sort=True)[state.USAGE_MEASURES]
    monthly = monthly.sum(min_count=1).reset_index()
    codes = pd.factorize(monthly["account_id"], sort=False)[0].astype(np.int64)
    month = monthly["month"].to_numpy(dtype="datetime64[M]").astype(np.int64)
    return monthly, codes, month


def assert_same(usage: pd.DataFrame) -> None:
    want = referenceusage_monthly(usage)
    got = state.usage_monthly(usage)  # a plain frame: computed, not kept
    if want is None:
        assert got is None
        return
    # the kept sums hold each row's account as its code among the distinct accounts (the
    # text once per account): the account column is those accounts taken by the codes
    monthly, accounts, codes = got[0], got[1], got[2]
    assert accounts.is_unique and accounts.dtype == want[0]["account_id"].dtype
    monthly = monthly.copy()
    monthly.insert(0, "account_id", accounts.take(codes).array)
    pd.testing.assert_frame_equal(monthly, want[0], check_exact=True)
    for g, w in zip(got[2:], want[1:], strict=True):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def _usage(rng: np.random.Generator, n: int, *, ids: str = "str", unit: str = "ns",
           measures: str = "Int64") -> pd.DataFrame:
    accounts = [f"A{i:03d}" for i in rng.permutation(40)] + ["b7", "B7", "é", "a10", "a9"]
    months = pd.date_range("2023-01-01", periods=30, freq="MS")
    u = pd.DataFrame({
        "account_id": rng.choice(accounts, n),
        "month": rng.choice(months, n),
    })
    u.loc[rng.uniform(size=n) < 0.05, "account_id"] = None
    u.loc[rng.uniform(size=n) < 0.05, "month"] = pd.NaT
    u["account_id"] = u["account_id"].astype(ids)
    u["month"] = u["month"].astype(f"datetime64[{unit}]")
    for c in state.USAGE_MEASURES:
        if measures == "Int64":
            v = pd.array(rng.integers(0, 50, n), dtype="Int64")
            v[rng.uniform(size=n) < 0.1] = pd.NA
        else:  # fractional amounts: the order of summing shows in the last digits
            v = rng.normal(10, 5, n) * 1.1
            v[rng.uniform(size=n) < 0.1] = np.nan
        u[c] = v
    return u


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("ids,unit,measures", [
    ("str", "ns", "Int64"), ("str", "us", "float"), ("object", "s", "float"),
    ("string", "ns", "Int64")])
def test_random_tables(seed, ids, unit, measures):
    rng = np.random.default_rng(seed)
    u = _usage(rng, 3000, ids=ids, unit=unit, measures=measures)
    assert_same(u)
    assert_same(u.sort_values(["account_id", "month"]))  # sorted rows (pandas' reduceat)
    assert_same(u.set_axis(np.arange(len(u)) * 7 + 3))  # other labels
    assert_same(u.iloc[:1])


def test_edge_tables():
    rng = np.random.default_rng(11)
    u = _usage(rng, 200)
    assert_same(u.assign(month=pd.NaT))  # no dated row
    assert_same(u.assign(account_id=pd.array([None] * len(u), dtype="str")))  # no ID
    one = u.dropna(subset=["account_id", "month"]).iloc[:5].assign(account_id="X")
    assert_same(one)  # one account
    # every measure of a month blank: a blank sum; one ID whose every month is blank
    blank = u.copy()
    blank.loc[blank["account_id"] == "b7", state.USAGE_MEASURES] = pd.NA
    blank.loc[blank["account_id"] == "B7", "month"] = pd.NaT
    assert_same(blank)
    assert_same(u.assign(month=u["month"] + pd.Timedelta(days=3)))  # not month starts: None
    # months far apart (the span of months is wide)
    far = u.copy()
    far.loc[far.index[:10], "month"] = pd.Timestamp("1700-01-01")
    far.loc[far.index[10:20], "month"] = pd.Timestamp("2200-12-01")
    assert_same(far)


def test_the_demo(small_demo_run):
    _, data = small_demo_run
    usage = data.tables["usage"]
    assert_same(usage)
    assert_same(usage.sample(frac=1.0, random_state=3))
