"""Expansion outcomes from an MRR matrix in numpy (issue 22) are the pivot table's.

:func:`playbook.analyses.expansion.expansion_outcomes` read MRR from a pandas pivot table
(accounts x months), 1.4 of its 2.6 CPU seconds at 100,000 accounts, and notebook 06 calls
it twice. It now sums the same rows with pandas' grouped sum into a numpy matrix. The
previous code is kept here as the reference and compared exactly on a demo run and on
hand-made MRR: an account billed twice in a month, a month without a value, rows without a
month or an account, gaps, months with times of day, cut-offs outside the data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import expansion as ex
from playbook.analyses.account_state import number_column
from playbook.context import AnalysisContext


def reference_outcomes(mrr, cutoffs, *, horizon_months, min_rise_share) -> pd.DataFrame:
    """The previous ``expansion_outcomes`` (with its pivot-table ``_monthly``)."""
    m = mrr.assign(month=pd.to_datetime(mrr["month"]).dt.to_period("M").dt.to_timestamp(),
                   mrr=number_column(mrr, "mrr"))
    wide = m.pivot_table(index="account_id", columns="month", values="mrr", aggfunc="sum",
                         fill_value=0.0)
    wide = wide.reindex(columns=pd.date_range(wide.columns.min(), wide.columns.max(),
                                              freq="MS"), fill_value=0.0)
    rows = []
    for cut in cutoffs:
        before = cut - pd.DateOffset(months=1)
        if before not in wide.columns:
            continue
        base = wide[before]
        window = [m for m in pd.date_range(cut, periods=horizon_months, freq="MS")
                  if m in wide.columns]
        peak = wide[window].max(axis=1) if window else pd.Series(0.0, index=wide.index)
        paying = base > 0
        rows.append(pd.DataFrame({
            "account_id": wide.index[paying].astype(str),
            "cutoff_date": cut,
            "mrr_at_cutoff": base[paying].to_numpy(dtype=float),
            "peak_mrr_after": peak[paying].to_numpy(dtype=float),
        }))
    cols = ["account_id", "cutoff_date", "mrr_at_cutoff", "peak_mrr_after", "expanded"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True)
    rise = out["peak_mrr_after"] >= (1 + min_rise_share) * out["mrr_at_cutoff"] - 1e-9
    out["expanded"] = rise.astype(int)
    return out[cols]


def hand_made(order: str = "none") -> pd.DataFrame:
    """MRR of 40 accounts over two years, gaps, an account billed several times in a month,
    rows without a value, month or account; ``order``: the rows in no order, or sorted by
    account and month (pandas then sums each account-month by another route, which the
    pivot table takes too)."""
    rng = np.random.default_rng(3)
    months = pd.date_range("2024-01-01", "2025-12-01", freq="MS")
    ids = [f"A{i:03d}" for i in range(40)]
    rows = [(a, m, float(rng.choice([0.0, 100.0, 110.0, 250.0, 99.99])))
            for a in ids for m in months if rng.uniform() < 0.8]
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    extra = pd.DataFrame({"account_id": ["A001", "A001", "A002", None, "A003", "A004"],
                          "month": pd.to_datetime(["2024-05-01", "2024-05-17", "2024-06-01",
                                                   "2024-06-01", None, "2025-03-09T10:30"],
                                                  format="ISO8601"),
                          "mrr": [0.1, 0.2, np.nan, 500.0, 300.0, 40.0]})
    thrice = pd.DataFrame({"account_id": "A005", "month": pd.Timestamp("2024-09-01"),
                           "mrr": [1e16, 1.0, 1.0, -1e16]})  # the route shows: 0 or 2
    both = pd.concat([mrr, extra], ignore_index=True)
    if order == "sorted":
        both = pd.concat([both, thrice], ignore_index=True)
        return both.sort_values(["account_id", "month"], kind="stable")
    return pd.concat([both.iloc[rng.permutation(len(both))], thrice], ignore_index=True)


@pytest.mark.parametrize("order", ["none", "sorted"])
@pytest.mark.parametrize("horizon", [1, 6])
def test_outcomes_from_the_matrix_are_the_pivot_s_on_hand_made_mrr(horizon, order):
    mrr = hand_made(order)
    cutoffs = list(pd.date_range("2023-11-01", "2026-03-01", freq="MS"))  # some outside
    got = ex.expansion_outcomes(mrr, cutoffs, horizon_months=horizon, min_rise_share=0.1)
    want = reference_outcomes(mrr, cutoffs, horizon_months=horizon, min_rise_share=0.1)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["expanded"].sum() > 20 and len(got) > 500
    a001 = got[(got["account_id"] == "A001")
               & (got["cutoff_date"] == pd.Timestamp("2024-06-01"))]
    may = mrr.loc[(mrr["account_id"] == "A001")
                  & (mrr["month"].dt.to_period("M") == "2024-05"), "mrr"]
    assert len(may) >= 2  # billed twice in May 2024 (or more): summed
    assert a001["mrr_at_cutoff"].tolist() == [may.sum()]


def test_outcomes_from_the_matrix_are_the_pivot_s_on_a_demo_run(small_demo_run):
    params, data = small_demo_run
    mrr = AnalysisContext(params, data.tables, data.quality.problems()).counted_mrr
    cutoffs = ex.expansion_cutoffs(mrr, as_of="2026-09-30", horizon_months=6,
                                   cutoff_every_months=1)
    got = ex.expansion_outcomes(mrr, cutoffs, horizon_months=6, min_rise_share=0.1)
    pd.testing.assert_frame_equal(got, reference_outcomes(
        mrr, cutoffs, horizon_months=6, min_rise_share=0.1), check_exact=True)
    assert got["expanded"].sum() > 50


def test_no_cutoff_inside_the_data():
    mrr = hand_made()
    got = ex.expansion_outcomes(mrr, [pd.Timestamp("2030-01-01")], horizon_months=3,
                                min_rise_share=0.1)
    assert got.empty and list(got.columns) == ["account_id", "cutoff_date", "mrr_at_cutoff",
                                               "peak_mrr_after", "expanded"]
