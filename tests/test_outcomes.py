"""Customer outcomes: progress to target on hand-computed edge cases, realised value on a
date, coverage by tier and renewal by band (expected values computed by hand here)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import outcomes as oc


def _rows(*rows: tuple) -> pd.DataFrame:
    cols = ["account_id", "outcome", "baseline", "target", "value", "measured_at"]
    f = pd.DataFrame(list(rows), columns=cols)
    f["measured_at"] = pd.to_datetime(f["measured_at"])
    return f


def test_progress_edge_cases_by_hand() -> None:
    f = _rows(
        ("A", "grow reps", 100, 500, 300, "2026-01-01"),   # (300-100)/(500-100) = 0.5
        ("A", "cut days", 40, 28, 34, "2026-01-01"),       # reduce: (34-40)/(28-40) = 0.5
        ("A", "cut days", 40, 28, 25, "2026-02-01"),       # past target: 15/12 = 1.25 -> 1
        ("A", "grow reps", 100, 500, 80, "2026-02-01"),    # backwards: -20/400 -> 0
        ("B", "flat", 10, 10, 12, "2026-01-01"),           # target equals baseline
        ("B", "no base", np.nan, 10, 5, "2026-01-01"),     # missing baseline
        ("B", "no value", 0, 10, np.nan, "2026-01-01"),    # missing value
    )
    p = oc.outcome_progress(f)
    assert p["progress"].iloc[:4].tolist() == pytest.approx([0.5, 0.5, 1.25, -0.05])
    assert p["progress_capped"].iloc[:4].tolist() == pytest.approx([0.5, 0.5, 1.0, 0.0])
    assert p["progress"].iloc[4:].isna().all()
    assert p["why"].tolist() == ["", "", "", "", "target equals baseline", "no baseline",
                                 "no value"]


def test_realised_value_uses_each_outcomes_latest_measurement_in_the_lookback() -> None:
    f = _rows(
        ("A", "x", 0, 10, 10, "2025-01-01"),   # met, but too old for a 180-day lookback
        ("A", "x", 0, 10, 4, "2026-03-01"),    # latest in window: 0.4
        ("A", "y", 0, 10, 12, "2026-04-01"),   # 1.2 -> capped 1.0, met
        ("A", "y", 0, 10, 2, "2026-07-01"),    # after the date: ignored
        ("B", "z", 0, 10, 10, "2026-05-01"),   # met
        ("C", "w", 5, 5, 7, "2026-05-01"),     # undefined: not measured
    )
    q = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                      "date": pd.to_datetime(["2026-06-01"] * 4)})
    r = oc.realised_at(f, q, lookback_days=180)
    assert r["realised"].iloc[0] == pytest.approx((0.4 + 1.0) / 2)
    assert r["outcomes_measured"].tolist() == [2, 1, 0, 0]
    assert r["met"].tolist() == [False, True, False, False]
    assert r["band"].tolist() == ["50-99%", "met (100%)", "no outcome measured",
                                  "no outcome measured"]


def test_coverage_by_tier_counts_active_accounts_with_an_agreed_outcome() -> None:
    acc = pd.DataFrame({"account_id": list("ABCDE"),
                        "start_date": pd.to_datetime(["2025-01-01"] * 5),
                        "churn_date": pd.to_datetime([None, None, None, None, "2026-01-01"])})
    tiers = pd.Series(pd.Categorical(["high", "high", "low", "low", "low"],
                                     categories=["high", "low"]), index=list("ABCDE"))
    f = _rows(("A", "x", 0, 10, 5, "2026-05-01"), ("C", "x", 0, 10, 10, "2026-05-01"),
              ("E", "x", 0, 10, 10, "2026-05-01"))  # E churned: not active
    cov = oc.outcome_coverage(acc, f, tiers, as_of=pd.Timestamp("2026-06-30"),
                              lookback_days=180)
    assert cov.loc["high", ["accounts", "with_outcomes", "without"]].tolist() == [2, 1, 1]
    assert cov.loc["low", ["accounts", "with_outcomes", "without"]].tolist() == [2, 1, 1]
    assert cov.loc["total", "share"] == pytest.approx(2 / 4)
    assert cov.loc["total", "realised"] == pytest.approx((0.5 + 1.0) / 2)


def test_renewal_by_band_rates_and_wilson_interval() -> None:
    f = _rows(("A", "x", 0, 10, 10, "2026-01-01"), ("B", "x", 0, 10, 2, "2026-01-01"))
    dec = pd.DataFrame({"account_id": ["A", "A", "B", "C", "C", "C"],
                        "decision_date": pd.to_datetime(["2026-04-01", "2026-04-02",
                                                         "2026-04-01", "2026-04-01",
                                                         "2026-04-02", "2026-04-03"]),
                        "renewed": [1, 0, 1, 1, 1, 0]})
    b = oc.renewal_by_band(dec, f, cutoff_days=30, lookback_days=180)
    assert b.loc["met (100%)", ["decisions", "renewed"]].tolist() == [2, 1]
    assert b.loc["below 50%", ["decisions", "renewed"]].tolist() == [1, 1]
    assert b.loc["no outcome measured", ["decisions", "renewed"]].tolist() == [3, 2]
    assert b.loc["50-99%", "decisions"] == 0 and math.isnan(b.loc["50-99%", "rate"])
    # Wilson for 1 of 2 by the formula: centre 0.5, half = z*sqrt(.25/2 + z^2/16)/(1+z^2/2)
    z = 1.96
    half = z * math.sqrt(0.25 / 2 + z * z / 16) / (1 + z * z / 2)
    assert b.loc["met (100%)", "low"] == pytest.approx(0.5 - half)
    assert b.loc["met (100%)", "high"] == pytest.approx(0.5 + half)


def test_expansion_by_band_counts_cutoffs_by_the_band_at_each_cutoff() -> None:
    # three accounts paying Jan-Dec 2025; B rises 20% in Jul 2025; A's outcome is met
    months = pd.date_range("2025-01-01", "2025-12-01", freq="MS")
    mrr = pd.DataFrame([(a, m, 100.0 * (1.2 if a == "B" and m >= pd.Timestamp("2025-07-01")
                                        else 1.0))
                        for a in "ABC" for m in months], columns=["account_id", "month", "mrr"])
    f = _rows(("A", "x", 0, 10, 10, "2025-06-15"), ("B", "x", 0, 10, 2, "2025-06-15"))
    b = oc.expansion_by_band(mrr, f, as_of=pd.Timestamp("2025-12-31"), horizon_months=3,
                             cutoff_every_months=3, min_rise_share=0.1, lookback_days=180)
    # cut-offs 2025-10-01, 2025-07-01 and 2025-04-01 (each needs the month before it);
    # B rises from its Jun MRR in the Jul window only. Jul and Oct: A met, B below 50%;
    # Apr: nothing measured yet; C never: 3 + 2 unmeasured
    assert b.loc["met (100%)", ["units", "expanded"]].tolist() == [2, 0]
    assert b.loc["below 50%", ["units", "expanded"]].tolist() == [2, 1]
    assert b.loc["no outcome measured", ["units", "expanded"]].tolist() == [5, 0]
    assert b.loc["below 50%", "rate"] == pytest.approx(0.5)
