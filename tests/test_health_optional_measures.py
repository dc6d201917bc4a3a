"""The optional health measures "outcomes realised" and "no recent risk event": hand-computed
on small frames, dated before the scoring day only, off at weight 0, and the same on many
dates as on one."""

from __future__ import annotations

import pandas as pd
import pytest

from playbook.analyses import backtest
from playbook.analyses.health import health_scores, health_scores_on, measure_scores
from playbook.errors import ParamsError

AS_OF = pd.Timestamp("2025-06-30")
BANDS = {"red": 50, "yellow": 75, "green": 100}
OPTIONS = {"usage_trend_weight": 0.25, "usage_fall_to_zero": 0.5, "ticket_window_days": 90,
           "tickets_to_zero": 5, "outcome_lookback_days": 180, "trigger_window_days": 180}


def _accounts(ids: list[str], products: list[int]) -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ids, "start_date": pd.Timestamp("2023-01-01"), "churn_date": pd.NaT,
        "status": "active", "mrr": 100.0, "arr": None,
        "products": pd.array(products, dtype="Int64"), "segment": "SMB",
        "renewal_date": pd.NaT})


def _outcomes() -> pd.DataFrame:
    rows = [
        # O1: one outcome, half way (10 -> 20, at 15): realised 0.5
        ("O1", "adoption", 10, 20, 15, "2025-05-01"),
        # O2: two outcomes; "cut time" overshoots (100 -> 60, at 50: progress 1.25, capped 1);
        #     "reps" at 12 of 10 -> 20 (0.2); a later reps value, dated after the day, is unseen
        ("O2", "cut time", 100, 60, 50, "2025-06-01"),
        ("O2", "reps", 10, 20, 12, "2025-06-15"),
        ("O2", "reps", 10, 20, 20, "2025-07-15"),
        # O3: measured only 200 days before the day (lookback 180): no outcome measured
        ("O3", "adoption", 0, 10, 10, "2024-12-12"),
        # O4: target equals baseline: progress undefined, so nothing measured
        ("O4", "adoption", 5, 5, 9, "2025-06-01"),
    ]
    out = pd.DataFrame(rows, columns=["account_id", "outcome", "baseline", "target", "value",
                                      "measured_at"])
    out["measured_at"] = pd.to_datetime(out["measured_at"])
    return out


def test_outcome_measure_hand_computed():
    acc = _accounts(["O1", "O2", "O3", "O4", "O5"], [1, 1, 1, 1, 1])
    got = measure_scores(acc, as_of=AS_OF, outcomes=_outcomes(), **OPTIONS)["outcomes"]
    assert got["O1"] == pytest.approx(50.0)
    assert got["O2"] == pytest.approx(100 * (1.0 + 0.2) / 2)  # 60: the July value unseen
    assert got[["O3", "O4", "O5"]].isna().all()  # missing is missing, not a score of 0


def test_without_outcomes_table_the_measure_is_missing():
    acc = _accounts(["O1"], [1])
    got = measure_scores(acc, as_of=AS_OF, **OPTIONS)["outcomes"]
    assert got.isna().all()


def test_outcomes_table_needs_the_lookback():
    acc = _accounts(["O1"], [1])
    options = {k: v for k, v in OPTIONS.items() if k != "outcome_lookback_days"}
    with pytest.raises(ParamsError, match="lookback"):
        measure_scores(acc, as_of=AS_OF, outcomes=_outcomes(), **options)


def test_weight_zero_leaves_the_score_unchanged_and_a_weight_counts_it():
    acc = _accounts(["O1", "O2", "O5"], [1, 2, 4])  # products 25, 50, 100
    off = {"products": 1.0, "outcomes": 0.0}
    without = health_scores(acc, as_of=AS_OF, weights={"products": 1.0}, bands=BANDS,
                            **OPTIONS)
    zero = health_scores(acc, as_of=AS_OF, weights=off, bands=BANDS, outcomes=_outcomes(),
                         **OPTIONS)
    pd.testing.assert_series_equal(zero["health_score"], without["health_score"])
    assert zero.loc["O1", "score_outcomes"] == pytest.approx(50.0)  # measured all the same
    assert "outcomes" not in zero.loc["O1", "measures_used"]
    on = health_scores(acc, as_of=AS_OF, weights={"products": 1.0, "outcomes": 1.0},
                       bands=BANDS, outcomes=_outcomes(), **OPTIONS)
    assert on.loc["O1", "health_score"] == pytest.approx((25 + 50) / 2)
    assert on.loc["O2", "health_score"] == pytest.approx((50 + 60) / 2)
    assert on.loc["O5", "health_score"] == pytest.approx(100.0)  # no outcome: products alone
    assert on.loc["O5", "measures_used"] == "products"


def test_many_dates_equal_one_date_at_a_time():
    acc = _accounts(["O1", "O2", "O3", "O4", "O5"], [1, 2, 3, 4, 1])
    weights = {"products": 1.0, "outcomes": 2.0}
    days = [pd.Timestamp(d) for d in ("2025-01-31", "2025-05-31", "2025-06-30", "2025-07-31")]
    many = health_scores_on(acc, days, weights=weights, bands=BANDS, outcomes=_outcomes(),
                            **OPTIONS)
    for day in days:
        one = health_scores(acc, as_of=day, weights=weights, bands=BANDS,
                            outcomes=_outcomes(), **OPTIONS)
        pd.testing.assert_frame_equal(many[day], one, check_like=False)
    # O2's reps reached its target in July: realised (1 + 1) / 2 on 31 July
    assert many[days[3]].loc["O2", "score_outcomes"] == pytest.approx(100.0)


def test_backtest_scores_outcomes_before_the_cutoff_only():
    acc = _accounts(["O2"], [1])
    tables = {"accounts": acc, "outcomes": _outcomes()}
    decisions = pd.DataFrame({"account_id": ["O2", "O2"],
                              "decision_date": pd.to_datetime(["2025-08-10", "2025-09-20"])})
    # cutoff 30 days: 2025-07-11 -> scored on 30 June; 2025-08-21 -> scored on 31 July
    past = backtest.health_at_cutoff(decisions, tables, weights={"products": 1.0,
                                     "outcomes": 1.0}, bands=BANDS, cutoff_days=30, **OPTIONS)
    assert past["scored_on"].tolist() == [pd.Timestamp("2025-06-30"),
                                          pd.Timestamp("2025-07-31")]
    assert past["score_outcomes"].tolist() == pytest.approx([60.0, 100.0])


def _triggers() -> pd.DataFrame:
    rows = [
        ("T1", "2025-06-01", "champion_left"),   # risk, 29 days before: scores 0
        ("T2", "2025-05-01", "funding"),         # an expansion signal, not a risk: 100
        ("T3", "2024-12-01", "Budget_Cut"),      # risk, but 211 days before (window 180): 100
        ("T4", "2025-07-05", "layoffs"),         # risk, after the day: unseen on 30 June
        ("T5", "2025-01-02", "reorg"),           # risk, 179 days before: scores 0
    ]
    out = pd.DataFrame(rows, columns=["account_id", "date", "type"])
    out["date"] = pd.to_datetime(out["date"])
    return out


def test_risk_events_measure_hand_computed():
    acc = _accounts(["T1", "T2", "T3", "T4", "T5", "T6"], [1] * 6)
    got = measure_scores(acc, as_of=AS_OF, triggers=_triggers(), **OPTIONS)["risk_events"]
    assert got.to_dict() == {"T1": 0.0, "T2": 100.0, "T3": 100.0, "T4": 100.0, "T5": 0.0,
                             "T6": 100.0}  # T6: no trigger at all, with a triggers table
    without = measure_scores(acc, as_of=AS_OF, **OPTIONS)["risk_events"]
    assert without.isna().all()  # no triggers table: unknown, not "no risk"
    later = measure_scores(acc, as_of="2025-07-31", triggers=_triggers(), **OPTIONS)
    assert later.loc["T4", "risk_events"] == 0.0 and later.loc["T5", "risk_events"] == 100.0


def test_risk_events_many_dates_equal_one_date_at_a_time():
    acc = _accounts(["T1", "T2", "T3", "T4", "T5", "T6"], [1, 2, 3, 4, 1, 2])
    weights = {"products": 1.0, "risk_events": 1.0}
    days = [pd.Timestamp(d) for d in ("2025-01-31", "2025-06-30", "2025-07-31")]
    many = health_scores_on(acc, days, weights=weights, bands=BANDS, triggers=_triggers(),
                            **OPTIONS)
    for day in days:
        one = health_scores(acc, as_of=day, weights=weights, bands=BANDS,
                            triggers=_triggers(), **OPTIONS)
        pd.testing.assert_frame_equal(many[day], one)
    # T1 on 30 June: products 25, risk events 0 -> 12.5
    assert many[days[1]].loc["T1", "health_score"] == pytest.approx(12.5)
