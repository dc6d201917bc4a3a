"""Trigger events: exposure windows, rate ratios and the open list on hand-built fixtures
(expected values computed by hand or plain pandas here)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import triggers as tr
from playbook.analyses.reasons import holm_adjust


def _trig(*rows: tuple) -> pd.DataFrame:
    f = pd.DataFrame(list(rows), columns=["account_id", "date", "type"])
    f["date"] = pd.to_datetime(f["date"])
    return f


def test_exposure_window_is_half_open_before_the_date() -> None:
    units = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                          "decision_date": pd.to_datetime(["2026-07-01"] * 4)})
    t = _trig(("A", "2026-01-02", "champion_left"),   # 180 days before: inside
              ("B", "2026-01-01", "champion_left"),   # 181 days before: outside
              ("C", "2026-07-01", "champion_left"),   # on the date: outside
              ("D", "2026-06-30", "funding"))
    f = tr.trigger_flags(units, t, date_col="decision_date", start_days=180, end_days=0,
                         types=["champion_left", "funding"])
    assert f["champion_left"].tolist() == [1.0, 0.0, 0.0, 0.0]
    assert f["funding"].tolist() == [0.0, 0.0, 0.0, 1.0]


def test_churn_rate_ratio_and_katz_interval_by_hand() -> None:
    # 30 exposed decisions (12 churned), 100 unexposed (20 churned)
    n1, a, n0, c = 30, 12, 100, 20
    ids = [f"E{i}" for i in range(n1)] + [f"U{i}" for i in range(n0)]
    renewed = [0] * a + [1] * (n1 - a) + [0] * c + [1] * (n0 - c)
    dec = pd.DataFrame({"account_id": ids, "decision_date": pd.Timestamp("2026-07-01"),
                        "renewed": renewed})
    t = _trig(*[(i, "2026-05-01", "champion_left") for i in ids[:n1]])
    out = tr.churn_after_triggers(dec, t, window_days=180, min_exposed=20, table=None,
                                  features=[])
    row = out.loc["champion_left"]
    rr = (a / n1) / (c / n0)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    assert row["rate_ratio"] == pytest.approx(rr)  # 2.0
    assert row["rr_low"] == pytest.approx(rr * math.exp(-1.96 * se))
    assert row["rr_high"] == pytest.approx(rr * math.exp(1.96 * se))
    assert (row["exposed"], row["exposed_events"], row["unexposed"],
            row["unexposed_events"]) == (n1, a, n0, c)
    assert row["note"] == ""


def test_too_few_exposed_is_not_estimated() -> None:
    dec = pd.DataFrame({"account_id": ["A", "B", "C"], "decision_date": pd.Timestamp("2026-07-01"),
                        "renewed": [0, 1, 1]})
    out = tr.churn_after_triggers(dec, _trig(("A", "2026-06-01", "reorg")), window_days=180,
                                  min_exposed=20, table=None, features=[])
    assert math.isnan(out.loc["reorg", "rate_ratio"])
    assert out.loc["reorg", "note"] == "fewer than 20 exposed"


def test_trigger_effects_holm_per_outcome() -> None:
    def frame(ps: list[float]) -> pd.DataFrame:
        f = pd.DataFrame({c: np.nan for c in tr.EFFECT_COLUMNS}, index=["x", "y", "z"])
        f["p_value"] = ps
        f["note"] = ""
        f.index.name = "type"
        return f

    churn, grow = frame([0.01, 0.02, 0.5]), frame([0.04, np.nan, 0.9])
    out = tr.trigger_effects(churn, grow)
    expected = [*holm_adjust([0.01, 0.02, 0.5]), *holm_adjust([0.04, np.nan, 0.9])]
    np.testing.assert_allclose(out["p_adjusted"].to_numpy(dtype=float), expected)
    # churn: 0.03, 0.04, 0.5 -> x and y significant; expansion: 0.08 -> nothing
    assert out["significant"].tolist() == [True, True, False, False, False, False]


def test_open_list_needs_a_recent_trigger_and_no_touch_since() -> None:
    as_of = pd.Timestamp("2026-09-30")
    acc = pd.DataFrame({"account_id": list("ABCDE"), "owner": ["o1", "o2", "o3", "o4", "o5"],
                        "start_date": pd.Timestamp("2025-01-01"),
                        "churn_date": pd.to_datetime([None, None, None, None, "2026-09-01"]),
                        "mrr": [100.0, 300.0, 200.0, 50.0, 999.0]})
    t = _trig(("A", "2026-09-01", "champion_left"),  # touched on 2026-09-01: followed up
              ("B", "2026-08-01", "reorg"),          # touched before only: open
              ("B", "2026-09-10", "layoffs"),        # its latest trigger
              ("C", "2026-05-01", "funding"),        # too old for 90 days
              ("D", "2026-09-20", "funding"),        # never touched: open
              ("E", "2026-09-20", "funding"))        # churned: not active
    touches = pd.DataFrame({"account_id": ["A", "B"],
                            "date": pd.to_datetime(["2026-09-01", "2026-07-15"])})
    out = tr.open_triggers(acc, t, touches, as_of=as_of, days=90)
    assert out.index.tolist() == ["B", "D"]  # largest MRR first
    assert out.loc["B", "type"] == "layoffs" and out.loc["B", "triggers"] == 2
    assert out.loc["B", "days_since"] == (as_of - pd.Timestamp("2026-09-10")).days
    assert out.loc["D", "owner"] == "o4" and out.loc["D", "mrr"] == 50.0
    without = tr.open_triggers(acc, t, None, as_of=as_of, days=90)
    assert set(without.index) == {"A", "B", "D"}
