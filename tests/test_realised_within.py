"""The realised value's measurements found by binary search (issue 22, stop 34).

:func:`playbook.analyses.outcomes.realised_of` merged every query (account, date) with every
measurement of its account, then kept those in the lookback window (1M pairs for 190,000
kept at 100,000 accounts). It now finds each query's measurements on the measurements'
sorted ID numbers and keeps the window's before making a frame
(:func:`playbook.analyses.outcomes._measured_within`). The merge is the reference: equal
results on the demo's four uses and on random and edge tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import outcomes as oc


def reference_realised_of(progress: pd.DataFrame, queries: pd.DataFrame, *,
                          lookback_days: int) -> pd.DataFrame:
    """``realised_of`` before stop 34: the queries merged with the measurements."""
    prog = progress[progress["progress"].notna()]
    q = queries[["account_id", "date"]].copy()
    q["_i"] = np.arange(len(q))
    m = q.merge(prog[["account_id", "outcome", "measured_at", "progress", "progress_capped"]],
                on="account_id")
    return oc.realised_in(m, queries.index, lookback_days=lookback_days)


def assert_same(progress: pd.DataFrame, queries: pd.DataFrame, lookback_days: int) -> None:
    got = oc.realised_of(progress, queries, lookback_days=lookback_days)
    want = reference_realised_of(progress, queries, lookback_days=lookback_days)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def random_case(seed: int, *, id_kind: str = "str", unit: str = "ns",
                query_unit: str = "us") -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(0, 300)), int(rng.integers(0, 200))
    names = [f"a{i}" for i in range(25)]
    day0 = np.datetime64("2025-01-01")

    def ids(size: int) -> pd.Series:
        raw = rng.choice(names, size=size).astype(object)
        raw[rng.random(size) < 0.05] = None
        if id_kind == "int":
            return pd.Series([int(x[1:]) if x else 99 for x in raw], dtype=np.int64)
        if id_kind == "object":
            return pd.Series(raw, dtype=object)
        return pd.Series(raw, dtype="str")

    def dates(size: int, dtype: str) -> np.ndarray:
        d = (day0 + rng.integers(0, 400, size=size).astype("timedelta64[D]")).astype(dtype)
        d[rng.random(size) < 0.05] = np.datetime64("NaT")
        return d

    outcomes = pd.DataFrame({
        "account_id": ids(n),
        "outcome": pd.Series(rng.choice(["x", "y", "z", None], size=n), dtype="str"),
        "baseline": rng.choice([0.0, 10.0, np.nan], size=n),
        "target": rng.choice([10.0, 0.0, 20.0], size=n),
        "value": np.round(rng.normal(8, 6, size=n), 1),
        "measured_at": dates(n, f"datetime64[{unit}]"),
    })
    queries = pd.DataFrame({"account_id": ids(k), "date": dates(k, f"datetime64[{query_unit}]")},
                           index=pd.Index(rng.permutation(k) * 3, name="row"))
    return oc.outcome_progress(outcomes), queries


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_equal_the_merge(seed: int) -> None:
    kind = ["str", "object", "int"][seed % 3]
    unit, query_unit = [("ns", "us"), ("us", "ns"), ("ns", "ns"), ("s", "D")][seed % 4]
    progress, queries = random_case(seed, id_kind=kind, unit=unit, query_unit=query_unit)
    for lookback in (1, 30, 180, 1000):
        assert_same(progress, queries, lookback)


def test_edges_equal_the_merge() -> None:
    progress, queries = random_case(7)
    assert_same(progress.iloc[:0], queries, 180)  # no measurement
    assert_same(progress, queries.iloc[:0], 180)  # no query
    assert_same(progress.iloc[:0], queries.iloc[:0], 180)
    # the window's two ends exactly, ties on a date (the later row wins), one account
    m = pd.DataFrame({"account_id": ["A"] * 5, "outcome": ["x", "x", "y", "y", "z"],
                      "baseline": 0.0, "target": 10.0, "value": [2.0, 9.0, 12.0, 1.0, 5.0],
                      "measured_at": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-06-30",
                                                     "2026-07-01", "2025-12-31"])})
    q = pd.DataFrame({"account_id": ["A", "A", "B"],
                      "date": pd.to_datetime(["2026-06-29", "2026-06-30", "2026-06-30"])})
    assert_same(oc.outcome_progress(m), q, 180)
    assert_same(oc.outcome_progress(m), q, 0)
    # IDs of two dtypes, and dates with a time zone: the merge itself
    q2 = q.assign(account_id=q["account_id"].astype(object))
    assert oc._measured_within(oc.outcome_progress(m), q2, lookback_days=180) is None
    assert_same(oc.outcome_progress(m), q2, 180)
    q3 = q.assign(date=q["date"].dt.tz_localize("UTC"))
    m3 = m.assign(measured_at=m["measured_at"].dt.tz_localize("UTC"))
    assert oc._measured_within(oc.outcome_progress(m3), q3, lookback_days=180) is None
    assert_same(oc.outcome_progress(m3), q3, 180)


def test_the_fast_path_is_taken_for_the_notebooks_tables() -> None:
    progress, queries = random_case(3)
    assert oc._measured_within(progress, queries, lookback_days=180) is not None


@pytest.fixture(scope="module")
def demo(demo_context):
    return demo_context  # (tests/conftest.py)


def test_the_demos_four_uses_equal_the_merge(demo) -> None:
    p = demo.params
    outcomes = demo.tables["outcomes"]
    progress = oc.outcome_progress(outcomes)
    lookback = p.outcomes.lookback_days
    cut = np.timedelta64(p.drivers.cutoff_days, "D")
    as_of = pd.Timestamp(p.as_of)
    decisions, table = demo.renewal_decisions, demo.modelling_table
    from playbook.analyses.expansion import expansion_cutoffs, expansion_outcomes
    cuts = expansion_cutoffs(demo.counted_mrr, as_of=as_of,
                             horizon_months=p.expansion.horizon_months,
                             cutoff_every_months=p.expansion.cutoff_every_months)
    rows = expansion_outcomes(demo.counted_mrr, cuts, horizon_months=p.expansion.horizon_months,
                              min_rise_share=p.expansion.min_rise_share)
    uses = [
        pd.DataFrame({"account_id": demo.accounts["account_id"].drop_duplicates(),
                      "date": as_of}),
        pd.DataFrame({"account_id": decisions["account_id"].to_numpy(),
                      "date": pd.to_datetime(decisions["decision_date"]).to_numpy() - cut}),
        pd.DataFrame({"account_id": table["account_id"].to_numpy(),
                      "date": pd.to_datetime(table["decision_date"]).to_numpy() - cut}),
        pd.DataFrame({"account_id": rows["account_id"].to_numpy(),
                      "date": rows["cutoff_date"].to_numpy()}),
    ]
    for q in uses:
        assert oc._measured_within(progress[progress["progress"].notna()], q,
                                   lookback_days=lookback) is not None
        got = oc.realised_of(progress, q, lookback_days=lookback)
        assert got["outcomes_measured"].sum() > 0
        assert_same(progress, q, lookback)
