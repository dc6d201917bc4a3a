"""Surprise non-renewals: churned while looking healthy at the cut-off."""

import pandas as pd

from playbook.analyses.surprises import surprise_non_renewals, surprise_summary


def test_only_churns_green_at_cutoff_are_surprises_with_their_lost_mrr():
    lost = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                         "decision_date": pd.to_datetime(["2026-03-01"] * 4)},
                        index=[10, 11, 12, 13])
    health = pd.DataFrame({"health_score": [90.0, 40.0, 80.0],
                           "health_band": ["green", "red", "green"]}, index=[10, 11, 12])
    events = pd.DataFrame({"account_id": ["A", "C", "C"],
                           "churn_date": pd.to_datetime(["2026-03-01", "2026-02-20",
                                                         "2024-01-01"]),
                           "lost_mrr": [100.0, 250.0, 999.0]})
    out = surprise_non_renewals(lost, health, churn_events=events, healthy_bands=("green",))
    # A and C were green; B red; D had no score at the cut-off (not counted either way).
    assert out["account_id"].tolist() == ["C", "A"]           # sorted by lost MRR
    assert out["lost_mrr"].tolist() == [250.0, 100.0]         # C's 2024 event is not this one
    summary = surprise_summary(out, churned_scored=len(health))
    assert summary == {"surprises": 2, "accounts": 2, "scored_churns": 3, "share": 2 / 3,
                       "lost_mrr": 350.0}


def test_bands_are_a_parameter():
    lost = pd.DataFrame({"account_id": ["A", "B"],
                         "decision_date": pd.to_datetime(["2026-03-01"] * 2)})
    health = pd.DataFrame({"health_score": [90.0, 60.0], "health_band": ["green", "yellow"]})
    out = surprise_non_renewals(lost, health, healthy_bands=("green", "yellow"))
    assert len(out) == 2 and out["lost_mrr"].isna().all()
