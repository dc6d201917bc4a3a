"""The MRR at stake of each renewal due, from codes and one sort (issue 22).

:func:`playbook.analyses.drivers.risk.current_mrr` took each account's latest MRR by
sorting the whole MRR table by month and grouping it by account ID text (1 s at 100,000
accounts); :func:`~playbook.analyses.drivers.risk.latest_mrr` now matches the IDs as codes
and orders the rows by one stable sort. The previous code is kept here as the reference
(:func:`reference_current_mrr`) and both are compared exactly: on the small demo (every
as-of date of interest and none) and on hand-made tables (ties in a month, blank values,
months without a date, IDs not among the accounts or blank, text values, one account, an
empty table).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses.drivers.columns import numeric_or_nan
from playbook.analyses.drivers.risk import current_mrr
from playbook.context import AnalysisContext


def reference_current_mrr(accounts, mrr=None, as_of=None) -> pd.Series:
    """The previous current_mrr."""
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
            fallback = numeric_or_nan(acc, col).to_numpy() / divisor
            out = out.fillna(pd.Series(fallback, index=index))
    return out


def test_the_demo_s_current_mrr_is_the_same(small_demo_run):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    accounts, mrr = ctx.tables["accounts"], ctx.tables["mrr"]
    for as_of in (ctx.as_of, None, "2024-01-15", "1990-01-01"):
        got = current_mrr(accounts, mrr, as_of)
        pd.testing.assert_series_equal(got, reference_current_mrr(accounts, mrr, as_of),
                                       check_exact=True)
    # most accounts' MRR comes from the table, not the fallback
    assert current_mrr(accounts, mrr, ctx.as_of).notna().mean() > 0.9


ACCOUNTS = pd.DataFrame({"account_id": ["A", "B", "C", "D", "E", None, "A"],
                         "mrr": [1.0, np.nan, 3.0, np.nan, np.nan, 6.0, 99.0],
                         "arr": [12.0, 24.0, np.nan, np.nan, 60.0, 72.0, 0.0]})
MRR = pd.DataFrame({
    # A: two rows in March (the later row wins) and a later blank; B: a row without a
    # month (sorted after every dated one) and one after the as-of date; C: only blank
    # values; Z: not an account; a blank ID
    "account_id": ["A", "A", "A", "A", "B", "B", "B", "C", "Z", None],
    "month": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-03-01", "2024-04-01",
                             "2024-01-01", None, "2024-06-01", "2024-01-01", "2024-01-01",
                             "2024-01-01"]),
    "mrr": [10.0, 20.0, 30.0, np.nan, 40.0, 50.0, 60.0, np.nan, 70.0, 80.0],
})


@pytest.mark.parametrize("as_of", [None, "2024-03-31", "2024-06-30", "2023-12-31"])
def test_hand_made_tables_have_the_same_current_mrr(as_of):
    got = current_mrr(ACCOUNTS, MRR, as_of)
    pd.testing.assert_series_equal(got, reference_current_mrr(ACCOUNTS, MRR, as_of),
                                   check_exact=True)
    if as_of == "2024-03-31":
        assert got["A"] == 30.0 and got["B"] == 40.0 and got["C"] == 3.0
    if as_of is None:
        assert got["B"] == 50.0  # the undated row sorts last


def test_text_values_one_account_and_an_empty_table_are_the_same():
    text = MRR.assign(mrr=["10", "x", "30", None, "40", "50", "60", None, "70", "80"])
    cases = [(ACCOUNTS, text, "2024-03-31"), (ACCOUNTS.iloc[:1], MRR, None),
             (ACCOUNTS, MRR.iloc[:0], None), (ACCOUNTS.iloc[:0], MRR, "2024-06-30"),
             (ACCOUNTS.assign(account_id=[1, 2, 3, 4, 5, None, 1]),
              MRR.assign(account_id=[1, 1, 1, 1, 2, 2, 2, 3, 26, None]), None)]
    for accounts, mrr, as_of in cases:
        pd.testing.assert_series_equal(current_mrr(accounts, mrr, as_of),
                                       reference_current_mrr(accounts, mrr, as_of),
                                       check_exact=True)
