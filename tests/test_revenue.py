"""Revenue leakage analyses: hand-computed answers on small frames, invariants on random ones."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from playbook.analyses.revenue import (
    cohort_retention,
    growth_target_new_sales,
    mrr_movements,
    net_mrr_churn,
    renewal_churn,
    retention_summary,
    trailing_retention,
)
from playbook.analyses.stats import annualise_rate

MONTHS = pd.date_range("2024-01-01", periods=6, freq="MS")  # Jan..Jun 2024

# MRR by account, Jan..Jun 2024. None = no row at all (counts as 0).
#   A: expands in Mar (+50), contracts in May (-30)
#   B: churns in Mar (200 lost)
#   C: new in Mar (300), no rows before
#   D: churns in Feb (50), comes back in Apr at 80 -> reactivation (last MRR Jan, 3 months)
#   E: new in May (40), explicit 0 row in Jun -> churn 40
#   F: cents: 10.10 for five months, 25.55 in Jun -> expansion 15.45
FIXTURE = {
    "A": [100, 100, 150, 150, 120, 120],
    "B": [200, 200, 0, 0, 0, 0],
    "C": [None, None, 300, 300, 300, 300],
    "D": [50, 0, 0, 80, 80, 80],
    "E": [None, None, None, None, 40, 0],
    "F": [10.10, 10.10, 10.10, 10.10, 10.10, 25.55],
}

# Hand-computed bridge, one row per movement month (Jan is the opening balance):
#   start = sum of the previous month: Jan = 100+200+50+10.10 = 360.10
#   Feb: D churns 50                                   -> end 310.10
#   Mar: A +50 expansion, B churns 200, C new 300      -> end 460.10
#   Apr: D reactivates 80                              -> end 540.10
#   May: A -30 contraction, E new 40                   -> end 550.10
#   Jun: E churns 40, F +15.45 expansion               -> end 525.55
EXPECTED = pd.DataFrame(
    {
        #            start    new  exp   contr churn react end
        "start_mrr": [360.10, 310.10, 460.10, 540.10, 550.10],
        "new": [0, 300, 0, 40, 0],
        "expansion": [0, 50, 0, 0, 15.45],
        "contraction": [0, 0, 0, 30, 0],
        "churn": [50, 200, 0, 0, 40],
        "reactivation": [0, 0, 80, 0, 0],
        "end_mrr": [310.10, 460.10, 540.10, 550.10, 525.55],
        # logos with MRR > 0: Jan A,B,D,F=4; Feb A,B,F=3; Mar A,C,F=3; Apr A,C,D,F=4;
        # May A,C,D,E,F=5; Jun A,C,D,F=4
        "start_logos": [4, 3, 3, 4, 5],
        "new_logos": [0, 1, 0, 1, 0],
        "reactivated_logos": [0, 0, 1, 0, 0],
        "churned_logos": [1, 1, 0, 0, 1],
        "end_logos": [3, 3, 4, 5, 4],
    },
    index=MONTHS[1:],
)

MONEY = ["start_mrr", "new", "expansion", "contraction", "churn", "reactivation", "end_mrr"]


def frame_from(table: dict[str, list], months: pd.DatetimeIndex = MONTHS) -> pd.DataFrame:
    rows = [
        (acc, m, float(v))
        for acc, values in table.items()
        for m, v in zip(months, values, strict=True)
        if v is not None
    ]
    return pd.DataFrame(rows, columns=["account_id", "month", "mrr"])


@pytest.fixture
def mrr() -> pd.DataFrame:
    return frame_from(FIXTURE)


def bridge_gap(mv: pd.DataFrame) -> pd.Series:
    return (
        mv["start_mrr"] + mv["new"] + mv["expansion"] + mv["reactivation"]
        - mv["contraction"] - mv["churn"] - mv["end_mrr"]
    )


# --------------------------------------------------------------------------- movements


def test_movements_match_hand_computed_bridge(mrr):
    mv = mrr_movements(mrr, reactivation_window_months=12, count_same_month_churn=True)
    assert list(mv.index) == list(MONTHS[1:])
    for col in EXPECTED.columns:
        np.testing.assert_allclose(
            mv[col].to_numpy(dtype=float), EXPECTED[col].to_numpy(dtype=float),
            atol=0.001, err_msg=col,
        )
    assert (mv["same_month_logos"] == 0).all()


def test_bridge_closes_to_the_cent_on_fixture(mrr):
    mv = mrr_movements(mrr, reactivation_window_months=12, count_same_month_churn=True)
    assert bridge_gap(mv).abs().max() < 0.005
    np.testing.assert_allclose(mv["end_mrr"].iloc[:-1].to_numpy(),
                               mv["start_mrr"].iloc[1:].to_numpy(), atol=0.005)


def test_short_reactivation_window_makes_return_new(mrr):
    # D's last MRR is Jan, return in Apr: 3 months. Window 2 -> new, not reactivation.
    mv = mrr_movements(mrr, reactivation_window_months=2, count_same_month_churn=True)
    apr = mv.loc["2024-04-01"]
    assert apr["new"] == pytest.approx(80)
    assert apr["reactivation"] == 0
    assert apr["new_logos"] == 1 and apr["reactivated_logos"] == 0
    # Window 3 is still a reactivation ("at most N months since the last MRR").
    apr3 = mrr_movements(mrr, reactivation_window_months=3,
                         count_same_month_churn=True).loc["2024-04-01"]
    assert apr3["reactivation"] == pytest.approx(80) and apr3["new"] == 0


def test_same_month_churn_counted_from_churn_events(mrr):
    events = pd.DataFrame(
        {
            # G never shows in MRR: started and cancelled in Apr with 60 MRR.
            # B has MRR history: already counted by the bridge, must be ignored here.
            # H cancels in 2023, before the movement months: ignored.
            "account_id": ["G", "B", "H"],
            "churn_date": pd.to_datetime(["2024-04-20", "2024-03-01", "2023-05-01"]),
            "lost_mrr": [60.0, 200.0, 10.0],
        }
    )
    mv = mrr_movements(mrr, churn_events=events,
                       reactivation_window_months=12, count_same_month_churn=True)
    apr = mv.loc["2024-04-01"]
    assert apr["new"] == pytest.approx(60) and apr["churn"] == pytest.approx(60)
    assert apr["new_logos"] == 1 and apr["churned_logos"] == 1 and apr["same_month_logos"] == 1
    assert apr["end_mrr"] == pytest.approx(540.10)  # nets to zero in the bridge
    assert mv["same_month_logos"].sum() == 1
    assert bridge_gap(mv).abs().max() < 0.005
    off = mrr_movements(mrr, churn_events=events, count_same_month_churn=False,
                        reactivation_window_months=12)
    assert off["same_month_logos"].sum() == 0
    assert off.loc["2024-04-01", "new"] == 0


def test_duplicate_rows_are_added_and_missing_months_are_zero():
    mrr = pd.DataFrame(
        {
            "account_id": ["X", "X", "X"],
            "month": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-03-01"]),
            "mrr": [10.0, 5.0, 15.0],
        }
    )
    mv = mrr_movements(mrr, reactivation_window_months=12, count_same_month_churn=True)
    # Jan 15 (10 + 5), Feb no row -> churn 15, Mar back at 15 -> reactivation 15.
    assert list(mv.index) == list(pd.date_range("2024-02-01", periods=2, freq="MS"))
    assert mv.loc["2024-02-01", "churn"] == pytest.approx(15)
    assert mv.loc["2024-03-01", "reactivation"] == pytest.approx(15)


def naive_classification(values: np.ndarray, window: int) -> dict[str, int]:
    """Reference: a plain loop over accounts and months (independent of the code)."""
    counts = {"new": 0, "reactivated": 0, "churned": 0}
    for row in values:
        last = None
        for j in range(1, len(row)):
            if row[j - 1] > 0:
                last = j - 1
            if row[j - 1] == 0 and row[j] > 0:
                if last is not None and j - last <= window:
                    counts["reactivated"] += 1
                else:
                    counts["new"] += 1
            elif row[j - 1] > 0 and row[j] == 0:
                counts["churned"] += 1
    return counts


def test_bridge_invariant_on_random_fixture():
    rng = np.random.default_rng(20240601)
    n_acc, n_months = 200, 24
    months = pd.date_range("2022-01-01", periods=n_months, freq="MS")
    values = rng.gamma(2.0, 300.0, size=(n_acc, n_months)) * (rng.random((n_acc, n_months)) < 0.6)
    values = np.round(values, 2)
    acc = np.repeat([f"acc{i:03d}" for i in range(n_acc)], n_months)
    frame = pd.DataFrame({"account_id": acc, "month": np.tile(months, n_acc),
                          "mrr": values.ravel()})
    frame = frame.loc[frame["mrr"] > 0].sample(frac=1.0, random_state=1)  # unordered, gaps
    mv = mrr_movements(frame, reactivation_window_months=4, count_same_month_churn=True)

    assert bridge_gap(mv).abs().max() < 0.005
    np.testing.assert_allclose(mv["end_mrr"].iloc[:-1].to_numpy(),
                               mv["start_mrr"].iloc[1:].to_numpy(), atol=0.005)
    # end_mrr is the billed MRR of the month, computed independently.
    billed = frame.groupby("month")["mrr"].sum().reindex(months, fill_value=0.0)
    np.testing.assert_allclose(mv["end_mrr"].to_numpy(), billed.iloc[1:].to_numpy(), atol=0.005)
    logos = (mv["start_logos"] + mv["new_logos"] + mv["reactivated_logos"]
             - mv["churned_logos"] - mv["end_logos"])
    assert (logos == 0).all()
    ref = naive_classification(values, window=4)
    assert mv["new_logos"].sum() == ref["new"]
    assert mv["reactivated_logos"].sum() == ref["reactivated"]
    assert mv["churned_logos"].sum() == ref["churned"]


# --------------------------------------------------------------------------- rates


def test_domain_worked_example_net_mrr_churn():
    # domain.md: (50,000 - 75,000) / 700,000 = -3.57%
    value = net_mrr_churn(700_000, 50_000, 75_000)
    assert value == pytest.approx(-0.0357142857, abs=1e-10)
    assert round(value * 100, 2) == -3.57


def test_retention_summary_reproduces_domain_example():
    # One month: 700,000 start; 30,000 churn + 20,000 contraction = 50,000 lost; 75,000 upsell.
    mv = pd.DataFrame(
        {"start_mrr": [700_000.0], "new": [0.0], "expansion": [75_000.0],
         "contraction": [20_000.0], "churn": [30_000.0], "reactivation": [0.0],
         "end_mrr": [725_000.0], "start_logos": [100], "new_logos": [0],
         "reactivated_logos": [0], "churned_logos": [1], "end_logos": [99]},
        index=pd.DatetimeIndex(["2024-01-01"], name="month"),
    )
    s = retention_summary(mv)
    assert s["net_mrr_churn"] == pytest.approx(-0.0357142857, abs=1e-10)
    assert s["nrr"] == pytest.approx(1.0357142857, abs=1e-10)
    assert s["gross_mrr_churn"] == pytest.approx(50_000 / 700_000)
    assert s["grr"] == pytest.approx(1 - 50_000 / 700_000)
    assert s["quick_ratio"] == pytest.approx(75_000 / 50_000)
    assert s["logo_churn_monthly"] == pytest.approx(0.01)
    assert s["logo_churn_annualised"] == pytest.approx(0.1136151, abs=1e-6)


def test_logo_churn_annualisation():
    # 1% a month compounds to 1 - 0.99^12 = 11.36% a year, not 12%.
    assert annualise_rate(0.01) == pytest.approx(0.113615128, abs=1e-8)
    assert round(annualise_rate(0.01), 4) == 0.1136
    assert annualise_rate(0.0) == 0.0


def test_retention_summary_window_on_fixture(mrr):
    moves = mrr_movements(mrr, reactivation_window_months=12, count_same_month_churn=True)
    s = retention_summary(moves, "2024-03-15", "2024-06-01")
    # Window Mar..Jun; start = end of Feb = 310.10.
    # lost = churn (200 + 40) + contraction 30 = 270; expansion 50 + 15.45; reactivation 80
    assert s["months"] == 4 and s["start_mrr"] == pytest.approx(310.10)
    assert s["end_mrr"] == pytest.approx(525.55)
    assert s["new"] == pytest.approx(340) and s["lost_mrr"] == pytest.approx(270)
    assert s["gross_mrr_churn"] == pytest.approx(270 / 310.10)
    assert s["net_mrr_churn"] == pytest.approx((270 - 65.45 - 80) / 310.10)
    assert s["nrr"] == pytest.approx(1 - (270 - 65.45 - 80) / 310.10)
    assert s["quick_ratio"] == pytest.approx((340 + 65.45 + 80) / 270)
    # churned/start logos: Mar 1/3, Apr 0/3, May 0/4, Jun 1/5
    assert s["logo_churn_monthly"] == pytest.approx((1 / 3 + 0 + 0 + 1 / 5) / 4)
    assert s["churned_logos"] == 2 and s["start_logos"] == 3 and s["end_logos"] == 4


def test_retention_summary_rejects_empty_window(mrr):
    from playbook.errors import PlaybookError

    with pytest.raises(PlaybookError, match="No MRR movements"):
        retention_summary(mrr_movements(mrr, reactivation_window_months=12,
                                        count_same_month_churn=True),
                          "2025-01-01", "2025-03-01")


def test_quick_ratio_without_losses_is_infinite():
    mv = pd.DataFrame(
        {"start_mrr": [100.0], "new": [10.0], "expansion": [0.0], "contraction": [0.0],
         "churn": [0.0], "reactivation": [0.0], "end_mrr": [110.0], "start_logos": [1],
         "new_logos": [1], "reactivated_logos": [0], "churned_logos": [0], "end_logos": [2]},
        index=pd.DatetimeIndex(["2024-01-01"]),
    )
    assert math.isinf(retention_summary(mv)["quick_ratio"])


def test_trailing_retention_by_hand(mrr):
    tr = trailing_retention(mrr, months=3)
    assert list(tr.index) == list(MONTHS[3:])  # Apr, May, Jun
    # Apr vs Jan: base A100 B200 D50 F10.10 = 360.10 (C had no MRR in Jan: not in base)
    #   capped: min(150,100) + 0 + min(80,50) + 10.10 = 160.10; uncapped 150+0+80+10.10
    apr = tr.loc["2024-04-01"]
    assert apr["base_mrr"] == pytest.approx(360.10)
    assert apr["grr"] == pytest.approx(160.10 / 360.10)
    assert apr["nrr"] == pytest.approx(240.10 / 360.10)
    assert apr["base_logos"] == 4 and apr["retained_logos"] == 3
    # Jun vs Mar: base A150 C300 F10.10 = 460.10; Jun A120 C300 F25.55
    jun = tr.loc["2024-06-01"]
    assert jun["grr"] == pytest.approx((120 + 300 + 10.10) / 460.10)
    assert jun["nrr"] == pytest.approx((120 + 300 + 25.55) / 460.10)
    assert (tr["grr"] <= tr["nrr"] + 1e-12).all()


def test_trailing_retention_needs_enough_history(mrr):
    assert trailing_retention(mrr, months=12).empty


# --------------------------------------------------------------------------- cohorts


def test_monthly_cohorts_by_hand(mrr):
    logos, revenue, sizes = cohort_retention(mrr, by="month")
    jan, mar, may = (pd.Period(p, freq="M") for p in ("2024-01", "2024-03", "2024-05"))
    assert list(logos.index) == [jan, mar, may]
    # Jan cohort = A, B, D, F. Active: Feb A,B,F; Mar A,F; Apr..Jun A,D,F
    np.testing.assert_allclose(logos.loc[jan, 0:5].to_numpy(dtype=float),
                               [1, 3 / 4, 2 / 4, 3 / 4, 3 / 4, 3 / 4])
    # Jan cohort MRR: 360.10, 310.10, 160.10, 240.10, 210.10, 225.55
    np.testing.assert_allclose(
        revenue.loc[jan, 0:5].to_numpy(dtype=float),
        np.array([360.10, 310.10, 160.10, 240.10, 210.10, 225.55]) / 360.10,
    )
    # Mar cohort = C, observable for ages 0..3 only.
    assert logos.loc[mar, 0:3].tolist() == [1.0, 1.0, 1.0, 1.0]
    assert logos.loc[mar, 4:5].isna().all()
    # May cohort = E: active in May, gone in Jun, unknown beyond.
    assert logos.loc[may, 0] == 1.0 and logos.loc[may, 1] == 0.0
    assert revenue.loc[may, 1] == 0.0 and logos.loc[may, 2:5].isna().all()
    assert sizes["accounts"].tolist() == [4, 1, 1]
    np.testing.assert_allclose(sizes["start_mrr"].to_numpy(), [360.10, 300.0, 40.0])
    assert sizes["left_censored"].tolist() == [True, False, False]


def test_quarterly_cohorts_by_hand(mrr):
    logos, revenue, sizes = cohort_retention(mrr, by="quarter")
    q1, q2 = pd.Period("2024Q1", freq="Q"), pd.Period("2024Q2", freq="Q")
    # Q1 = A, B, D, F (start Jan) + C (start Mar); ages counted from each account's start.
    # C can be seen only to age 3 (Jun), so the cohort stops at age 3.
    # age 1: A,B,F (Feb) + C (Apr) = 4/5; age 2: A,F (Mar) + C (May) = 3/5;
    # age 3: A,D,F (Apr) + C (Jun) = 4/5
    np.testing.assert_allclose(logos.loc[q1, 0:3].to_numpy(dtype=float),
                               [1, 4 / 5, 3 / 5, 4 / 5])
    assert logos.loc[q1, 4:5].isna().all()
    # revenue age 1: A100 + B200 + F10.10 + C300 = 610.10 over 360.10 + 300
    assert revenue.loc[q1, 1] == pytest.approx(610.10 / 660.10)
    assert logos.loc[q2, 0] == 1.0 and logos.loc[q2, 1] == 0.0
    assert sizes.loc[q1, "accounts"] == 5 and sizes.loc[q2, "accounts"] == 1


# --------------------------------------------------------------------------- renewals


def test_renewal_churn_from_renewals_table():
    renewals = pd.DataFrame(
        {
            "account_id": ["A", "B", "C", "D", "E"],
            "renewal_date": pd.to_datetime(
                ["2024-01-01", "2024-03-31", "2024-02-10", "2024-04-01", "2024-02-01"]
            ),
            "outcome": ["renewed", "churned", "downgraded", "churned", "renewed"],
            "arr_before": [1000.0, 2000.0, 3000.0, 500.0, np.nan],
            "arr_after": [1000.0, 0.0, 1800.0, 0.0, 700.0],
        }
    )
    r = renewal_churn(renewals, "2024-01-01", "2024-03-31")
    # In window (both ends inclusive): A, B, C, E. D (Apr 1) is outside.
    # ARR up = 1000 + 2000 + 3000 (E has no ARR) = 6000; churned = B 2000; downgrade 1200
    assert r["source"] == "renewals"
    assert r["renewals"] == 4 and r["churned"] == 1 and r["downgraded"] == 1
    assert r["arr_up"] == pytest.approx(6000)
    assert r["renewal_churn_rate"] == pytest.approx(2000 / 6000)
    assert r["downgrade_arr"] == pytest.approx(1200)
    assert r["downgrade_rate"] == pytest.approx(0.2)
    assert r["gross_renewal_retention"] == pytest.approx(1 - 2000 / 6000 - 0.2)
    assert r["logo_renewal_churn_rate"] == pytest.approx(0.25)
    assert r["missing_arr"] == 1


def test_renewal_churn_from_accounts_fallback():
    accounts = pd.DataFrame(
        {
            "account_id": ["A", "B", "C"],
            "renewal_date": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-09-01"]),
            "status": ["active", "churned", "churned"],
            "arr": [1000.0, np.nan, 5000.0],
            "mrr": [np.nan, 250.0, np.nan],
        }
    )
    r = renewal_churn(accounts, "2024-01-01", "2024-06-30")
    # A 1000 up, B 250*12 = 3000 up and churned; C outside the window.
    assert r["source"] == "accounts"
    assert r["arr_up"] == pytest.approx(4000)
    assert r["renewal_churn_rate"] == pytest.approx(0.75)
    assert math.isnan(r["downgrade_rate"])


def test_growth_target_new_sales():
    # domain.md: grow 50% while losing 20% -> new sales = 70% of last year's base
    assert growth_target_new_sales(0.5, 0.2) == pytest.approx(0.7)


def test_churn_recognised_at_cancellation_moves_churn_to_the_cancellation_month():
    from playbook.analyses.revenue import recognise_churn

    months = pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01",
                             "2024-07-01"])
    # A pays Jan-Apr, cancels in Feb (pays out the term), comes back in July.
    # B pays Jan-Apr and cancels in June, after its last paid month: nothing changes.
    mrr = pd.DataFrame({
        "account_id": ["A"] * 5 + ["B"] * 4,
        "month": list(months) + list(months[:4]),
        "mrr": [100.0] * 5 + [50.0] * 4,
    })
    events = pd.DataFrame({"account_id": ["A", "B"],
                           "churn_date": pd.to_datetime(["2024-02-14", "2024-06-03"])})
    at_cancel = recognise_churn(mrr, events, recognise_at="cancellation")
    kept_a = at_cancel[at_cancel["account_id"] == "A"]["month"].dt.strftime("%Y-%m").tolist()
    assert kept_a == ["2024-01", "2024-07"]           # Feb-Apr removed, the return kept
    assert (at_cancel["account_id"] == "B").sum() == 4
    at_end = recognise_churn(mrr, events, recognise_at="end_of_paid_period")
    assert at_end.equals(mrr)
    moves = mrr_movements(at_cancel, reactivation_window_months=12, count_same_month_churn=True)
    assert moves.loc[pd.Timestamp("2024-02-01"), "churn"] == 100.0    # churn in February
    moves_end = mrr_movements(mrr, reactivation_window_months=12, count_same_month_churn=True)
    assert moves_end.loc[pd.Timestamp("2024-05-01"), "churn"] == 150.0  # A and B in May
