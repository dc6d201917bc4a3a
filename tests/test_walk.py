"""The opportunity walk: each lever from the figure its analysis measured, low/high from
its interval, capture applied; levers without evidence left out and named; withheld
headline figures never used. Expected values are worked out by hand here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from playbook.analyses.drivers.risk import flag_expected_losses
from playbook.analyses.walk import Capture, WalkInputs, opportunity_walk, walk_bars, walk_notes

CAPTURE = Capture(0.25, 0.5, 0.75)
LIFECYCLE = [
    {"tier": "Onboarding", "accounts": 100, "churned_accounts": 20, "churn_rate": 0.20,
     "churn_rate_low": 0.13, "churn_rate_high": 0.29, "mrr": 50_000.0,
     "small_sample": False},
    {"tier": "Adopting", "accounts": 200, "churned_accounts": 20, "churn_rate": 0.10,
     "churn_rate_low": 0.07, "churn_rate_high": 0.15, "mrr": 100_000.0,
     "small_sample": False},
    {"tier": "Actively using", "accounts": 300, "churned_accounts": 60, "churn_rate": 0.20,
     "churn_rate_low": 0.16, "churn_rate_high": 0.25, "mrr": 300_000.0,
     "small_sample": False},
]
INPUTS = WalkInputs(
    mrr=1_000_000.0, nrr=0.95, model_ranks=True, at_risk_expected_loss=10_000.0,
    at_risk_accounts=12, lifecycle=LIFECYCLE, single_threaded_then=100,
    single_threaded_rate=0.30, single_threaded_mrr=200_000.0, single_threaded_accounts=110,
    others_rate=0.10, expansion_potential=5_000.0, expansion_candidates=20,
    unknown_reason_share=0.25)


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson interval written out (not the package's function)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def lever(walk, key):
    return next(lv for lv in walk.levers if lv.key == key)


def test_each_lever_is_its_measured_gap_times_the_capture():
    walk = opportunity_walk(INPUTS, CAPTURE, "USD")
    assert walk.start == pytest.approx(1_000_000 * 12 * 0.95)
    # renewals: expected loss a month x 12, no interval of its own
    r = lever(walk, "renewals")
    assert (r.low, r.mid, r.high) == pytest.approx((120_000 * 0.25, 120_000 * 0.5,
                                                    120_000 * 0.75))
    # onboarding: the other stages churn (20 + 60) / (200 + 300) = 16% (pooled, not the
    # 15% mean of their rates); onboarding ARR 600,000; its low (13%) is under 16%: 0
    o = lever(walk, "onboarding")
    assert o.measured == pytest.approx(600_000 * 0.04)
    assert (o.low, o.mid, o.high) == pytest.approx((0.0, 600_000 * 0.04 * 0.5,
                                                    600_000 * 0.13 * 0.75))
    # single-threaded: 30 of 100 churned; ARR 2.4M x (rate - 10%)
    lo, hi = wilson(30, 100)
    s = lever(walk, "single_threaded")
    assert (s.low, s.mid, s.high) == pytest.approx((2_400_000 * (lo - 0.10) * 0.25,
                                                    2_400_000 * 0.20 * 0.5,
                                                    2_400_000 * (hi - 0.10) * 0.75))
    e = lever(walk, "expansion")
    assert e.mid == pytest.approx(60_000 * 0.5)
    assert walk.total("mid") == pytest.approx(r.mid + o.mid + s.mid + e.mid)
    assert walk.end == pytest.approx(walk.start + walk.total("mid"))
    assert [lv.key for lv in walk.left_out] == ["unknown_reasons"]


def test_the_bars_run_from_start_through_the_levers_to_the_end():
    walk = opportunity_walk(INPUTS, CAPTURE, "USD")
    bars = walk_bars(walk)
    assert [b["key"] for b in bars] == ["start", "renewals", "onboarding", "single_threaded",
                                        "expansion", "end"]
    assert bars[-1]["mid"] == pytest.approx(bars[0]["mid"] + sum(b["mid"] for b in bars[1:-1]))
    assert bars[-1]["low"] == pytest.approx(bars[0]["mid"] + sum(b["low"] for b in bars[1:-1]))
    notes = walk_notes(walk)
    assert notes["total"]["high"] == pytest.approx(sum(b["high"] for b in bars[1:-1]))
    assert notes["capture"] == {"low": 0.25, "mid": 0.5, "high": 0.75}


def test_a_lever_without_evidence_is_left_out_and_named():
    quiet = WalkInputs(mrr=1_000_000.0, nrr=1.02, model_ranks=True,
                       lifecycle=[{**LIFECYCLE[0], "churned_accounts": 5, "churn_rate": 0.05},
                                  LIFECYCLE[1]],
                       single_threaded_then=100, single_threaded_rate=0.05,
                       single_threaded_mrr=10.0, others_rate=0.10)
    walk = opportunity_walk(quiet, CAPTURE, "USD")
    assert walk.levers == []
    reasons = {lo.key: lo.reason for lo in walk.left_out}
    assert set(reasons) == {"renewals", "onboarding", "single_threaded", "expansion"}
    assert "no more than" in reasons["onboarding"]
    assert "no more than" in reasons["single_threaded"]
    # a model that cannot rank: every renewal due is the base, not the at-risk list
    ranked_not = WalkInputs(mrr=1.0, nrr=1.0, model_ranks=False, at_risk_expected_loss=9.0,
                            expected_mrr_loss=100.0, renewals_due=40)
    r = lever(opportunity_walk(ranked_not, CAPTURE, "USD"), "renewals")
    assert r.measured == pytest.approx(1200.0) and r.basis["accounts"] == 40
    # ... and none of them is "at risk": the lever is named for the renewals due
    assert r.label == "Save renewals due" and r.basis["ranked"] is False
    no_mrr = opportunity_walk(WalkInputs(**{**vars(ranked_not), "mrr": None}), CAPTURE, "USD")
    assert {lo.key: lo.label for lo in no_mrr.left_out}["renewals"] == "Save renewals due"
    ranked = lever(opportunity_walk(INPUTS, CAPTURE, "USD"), "renewals")
    assert ranked.label == "Save renewals at risk" and ranked.basis["ranked"] is True


def test_withheld_headline_figures_are_never_used():
    no_nrr = opportunity_walk(WalkInputs(**{**vars(INPUTS), "withheld": ("nrr",)}), CAPTURE, "USD")
    assert no_nrr.start is None and no_nrr.end is None and no_nrr.withheld == ["nrr"]
    assert no_nrr.levers and walk_bars(no_nrr)[0]["kind"] == "lever"
    no_mrr = opportunity_walk(WalkInputs(**{**vars(INPUTS), "withheld": ("mrr",)}), CAPTURE, "USD")
    assert no_mrr.levers == [] and no_mrr.start is None
    assert {lo.key for lo in no_mrr.left_out} >= {"renewals", "single_threaded", "expansion"}
    assert all("withheld" in lo.reason for lo in no_mrr.left_out)


def test_a_planted_excess_churn_is_recovered_inside_the_levers_interval():
    """Flagged accounts churn at 30%, the others at 10% (planted): the flag's measured
    excess, through flag_expected_losses and the walk, holds the true 20 points."""
    rng = np.random.default_rng(7)
    n = 2000
    ids = [f"A{i}" for i in range(n)]
    flagged = rng.random(n) < 0.4
    churned = rng.random(n) < np.where(flagged, 0.30, 0.10)
    then = pd.DataFrame({"flag_single_threaded": pd.array(flagged, dtype="boolean")},
                        index=ids)
    alive = [i for i, c in zip(ids, churned, strict=True) if not c]
    now = then.loc[alive]
    mrr = pd.Series(1000.0, index=ids)
    rec = flag_expected_losses(then, now, mrr, ["flag_single_threaded"])["flag_single_threaded"]
    assert rec["others_then"] == int((~flagged).sum())
    assert rec["churn_rate_others"] == pytest.approx(churned[~flagged].mean())
    x = WalkInputs(mrr=1e6, nrr=1.0, single_threaded_then=rec["flagged_then"],
                   single_threaded_rate=rec["churn_rate"], single_threaded_mrr=1000.0,
                   others_rate=rec["churn_rate_others"])
    s = lever(opportunity_walk(x, Capture(1.0, 1.0, 1.0), "USD"), "single_threaded")
    true_excess_arr = 0.20 * 1000.0 * 12
    assert s.low < true_excess_arr < s.high
