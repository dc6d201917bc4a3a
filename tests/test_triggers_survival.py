"""Survival from a trigger event: matched lifetimes, the Kaplan-Meier table and the
counting-process rows of the Cox model, on hand-built fixtures (expected values by hand)."""

from __future__ import annotations

import pandas as pd
import pytest

from playbook.analyses import survival
from playbook.analyses import triggers as tr

DAYS = 365.25 / 12


def _trig(*rows: tuple) -> pd.DataFrame:
    f = pd.DataFrame(list(rows), columns=["account_id", "date", "type"])
    f["date"] = pd.to_datetime(f["date"])
    return f


def _life(*rows: tuple) -> pd.DataFrame:
    f = pd.DataFrame(list(rows), columns=["account_id", "start_date", "end_date", "churned"])
    f["start_date"] = pd.to_datetime(f["start_date"])
    f["end_date"] = pd.to_datetime(f["end_date"])
    return f


@pytest.fixture()
def matched() -> pd.DataFrame:
    life = _life(("X1", "2024-01-01", "2025-03-02", 1),   # 60 days after the trigger
                 ("X2", "2024-01-01", "2025-05-01", 0),   # 120 days, still a customer
                 ("X3", "2024-01-01", "2025-07-01", 1),   # 181 days
                 ("X4", "2024-01-01", "2026-01-01", 0),   # 365 days
                 ("X5", "2024-01-01", "2026-01-01", 0),   # trigger before data start: out
                 ("C1", "2024-01-01", "2026-01-01", 0),
                 ("C2", "2024-01-01", "2026-01-01", 0),
                 ("C3", "2024-01-01", "2026-01-01", 0),
                 ("C4", "2024-01-01", "2026-01-01", 0),
                 ("L1", "2025-06-01", "2026-01-01", 0),   # starts after the trigger date
                 ("G1", "2023-01-01", "2024-12-01", 1))   # gone before the trigger date
    trig = _trig(*[(a, "2025-01-01", "champion_left") for a in ("X1", "X2", "X3", "X4")],
                 ("X5", "2023-06-01", "champion_left"), ("C1", "2025-02-01", "funding"))
    return tr.trigger_lifetimes(life, trig, "champion_left",
                                data_start=pd.Timestamp("2024-01-01"), seed=3)


def test_exposed_start_at_their_trigger_and_controls_on_the_same_date(
        matched: pd.DataFrame) -> None:
    exposed = matched[matched["group"] == "trigger"].set_index("account_id")
    assert sorted(exposed.index) == ["X1", "X2", "X3", "X4"]
    assert exposed["months"].to_dict() == pytest.approx(
        {"X1": 60 / DAYS, "X2": 120 / DAYS, "X3": 181 / DAYS, "X4": 365 / DAYS})
    assert exposed["churned"].to_dict() == {"X1": 1, "X2": 0, "X3": 1, "X4": 0}
    ctrl = matched[matched["group"] == "matched"]
    # one control each, drawn without replacement from the four eligible accounts (C1 has
    # another type only; L1 had not started, G1 had left, X5 has the type)
    assert sorted(ctrl["account_id"]) == ["C1", "C2", "C3", "C4"]
    assert (ctrl["origin"] == pd.Timestamp("2025-01-01")).all()
    assert ctrl["months"].tolist() == pytest.approx([365 / DAYS] * 4)


def test_kaplan_meier_table_from_the_trigger_by_hand(matched: pd.DataFrame) -> None:
    curves = survival.kaplan_meier(matched, by="group", overall=None).set_index(
        ["group", "months"])
    hit = curves.loc["trigger"]
    # 4 at risk at 60 days (1 churn): 3/4; 2 at risk at 181 days (1 churn): 3/4 * 1/2
    assert hit["survival"].to_dict() == pytest.approx({0.0: 1.0, 60 / DAYS: 0.75,
                                                       181 / DAYS: 0.375})
    assert hit["at_risk"].tolist() == [4, 4, 2]
    assert curves.loc["matched", "survival"].tolist() == [1.0]


def test_intervals_switch_exposure_on_and_off() -> None:
    life = _life(("A", "2024-01-01", "2025-01-01", 1), ("B", "2024-01-01", "2025-01-01", 1),
                 ("C", "2024-01-01", "2025-01-01", 0)).assign(
        entry_months=[0.0, 0.0, 3.0], months=12.0)
    trig = _trig(("A", "2024-03-01", "reorg"), ("A", "2024-04-01", "reorg"),  # windows merge
                 ("B", "2024-11-15", "reorg"),                              # runs past the end
                 ("C", "2024-03-01", "reorg"))                              # before entry
    iv = tr.trigger_intervals(life, trig, "reorg", window_days=90)
    a, b, c = (iv[iv["account_id"] == k] for k in "ABC")
    off_a = 5 + 29 / DAYS  # 2024-04-01 + 90 days = 2024-06-30
    assert a[["entry_months", "exit_months"]].to_numpy().ravel().tolist() == pytest.approx(
        [0, 2, 2, off_a, off_a, 12])
    assert a["exposed"].tolist() == [0, 1, 0] and a["churned"].tolist() == [0, 0, 1]
    on_b = 10 + 14 / DAYS
    assert b[["entry_months", "exit_months"]].to_numpy().ravel().tolist() == pytest.approx(
        [0, on_b, on_b, 12])
    assert b["exposed"].tolist() == [0, 1] and b["churned"].tolist() == [0, 1]
    off_c = 4 + 29 / DAYS  # 2024-03-01 + 90 days = 2024-05-30
    assert c[["entry_months", "exit_months"]].to_numpy().ravel().tolist() == pytest.approx(
        [3, off_c, off_c, 12])
    assert c["exposed"].tolist() == [1, 0] and c["churned"].tolist() == [0, 0]


def test_cox_needs_enough_churns_inside_the_windows() -> None:
    life = _life(("A", "2024-01-01", "2025-01-01", 1), ("B", "2024-01-01", "2025-01-01", 0)
                 ).assign(entry_months=0.0, months=12.0)
    trig = _trig(("A", "2024-11-15", "reorg"))
    cox = tr.trigger_cox(life, trig, window_days=90, min_events=2)
    assert cox.loc["reorg", "exposed_events"] == 1
    assert pd.isna(cox.loc["reorg", "hazard_ratio"])
    assert cox.loc["reorg", "note"] == "fewer than 2 churns within 90 days of one"


def test_controls_come_from_the_same_segment() -> None:
    life = _life(("X1", "2024-01-01", "2026-01-01", 0), ("C1", "2024-01-01", "2026-01-01", 0),
                 ("C2", "2024-01-01", "2026-01-01", 0)).assign(group=["SMB", "Ent", "SMB"])
    trig = _trig(("X1", "2025-01-01", "layoffs"))
    for seed in range(5):  # whatever the draw, C1 (another segment) is never the control
        out = tr.trigger_lifetimes(life, trig, "layoffs", seed=seed)
        assert out.loc[out["group"] == "matched", "account_id"].tolist() == ["C2"]
