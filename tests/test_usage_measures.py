"""Health's usage measure uses what exists: seats give a level, active users or key actions a
trend (issue 16, point 7). Expected scores are computed by hand in each test."""

from __future__ import annotations

import pandas as pd
import pytest

from playbook.analyses.account_state import usage_snapshot
from playbook.analyses.health import measure_scores

AS_OF = pd.Timestamp("2024-06-30")
MEASURE_OPTIONS = {"usage_trend_weight": 0.25, "usage_fall_to_zero": 0.5,
                   "ticket_window_days": 90, "tickets_to_zero": 5}


def accounts(*ids: str) -> pd.DataFrame:
    return pd.DataFrame({"account_id": list(ids), "start_date": pd.Timestamp("2023-01-01"),
                         "status": "active"})


def usage(rows: list[tuple]) -> pd.DataFrame:
    f = pd.DataFrame(rows, columns=["account_id", "month", "active_users", "licensed_seats",
                                    "key_actions"])
    f["month"] = pd.to_datetime(f["month"])
    return f


def test_active_users_without_seats_still_give_a_usage_trend():
    u = usage([("A", "2024-03-01", 40, None, None), ("A", "2024-06-01", 30, None, None),
               ("B", "2024-03-01", 10, None, None), ("B", "2024-06-01", 12, None, None)])
    got = measure_scores(accounts("A", "B"), as_of=AS_OF, usage=u, **MEASURE_OPTIONS)["usage"]
    # A fell 25% over 3 months: trend = 100 * (1 - 0.25 / 0.5) = 50; B rose: 100
    assert got["A"] == pytest.approx(50.0)
    assert got["B"] == pytest.approx(100.0)


def test_key_actions_give_the_trend_when_active_users_are_absent():
    u = usage([("A", "2024-03-01", None, None, 200), ("A", "2024-06-01", None, None, 140)])
    got = measure_scores(accounts("A"), as_of=AS_OF, usage=u, **MEASURE_OPTIONS)["usage"]
    # key actions fell 30%: trend = 100 * (1 - 0.3 / 0.5) = 40
    assert got["A"] == pytest.approx(40.0)


def test_seats_and_users_blend_level_and_trend_as_before():
    u = usage([("A", "2024-03-01", 50, 100, 900), ("A", "2024-06-01", 40, 100, 1000)])
    got = measure_scores(accounts("A"), as_of=AS_OF, usage=u, **MEASURE_OPTIONS)["usage"]
    # level 40; active users fell 20%: trend 60; blend 0.75 * 40 + 0.25 * 60 = 45
    # (key actions rose, but active users are present and give the trend)
    assert got["A"] == pytest.approx(45.0)


def test_activity_per_user_and_its_change():
    u = usage([("A", "2024-03-01", 10, 20, 100), ("A", "2024-06-01", 8, 20, 120)])
    snap = usage_snapshot(u, AS_OF)
    assert snap.loc["A", "key_actions"] == 120
    assert snap.loc["A", "actions_per_user"] == pytest.approx(15.0)
    assert snap.loc["A", "actions_change"] == pytest.approx(0.2)
