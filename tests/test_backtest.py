"""The health backtest: scores at the cut-off, AUC with an interval, which measures carry the
signal, regression weights; and the demo's planted signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook import paths
from playbook.analyses import backtest
from playbook.analyses.health import HEALTH_MEASURES

WEIGHTS = {"usage": 0.30, "nps": 0.20, "products": 0.10, "tickets": 0.10,
           "executive_relationship": 0.15, "champion_quality": 0.15}
BANDS = {"red": 50, "yellow": 75, "green": 100}
MEASURE_OPTIONS = {"usage_trend_weight": 0.25, "usage_fall_to_zero": 0.5,
                   "ticket_window_days": 90, "tickets_to_zero": 5}


def _tables() -> dict[str, pd.DataFrame]:
    """The account H1 of tests/test_health.py (score 66.5 on 2025-06-30), plus later data."""
    accounts = pd.DataFrame({
        "account_id": ["H1", "H2"], "start_date": pd.to_datetime(["2023-01-01", "2025-08-01"]),
        "churn_date": pd.NaT, "status": "active", "mrr": 100.0, "arr": np.nan,
        "products": pd.array([2, 4], dtype="Int64"), "segment": "SMB",
        "renewal_date": pd.NaT})
    usage = pd.DataFrame({
        "account_id": "H1",
        "month": pd.to_datetime(["2025-03-01", "2025-05-01", "2025-06-01", "2025-07-01"]),
        "active_users": [10, 9, 8, 0], "licensed_seats": 10, "key_actions": 0})
    surveys = pd.DataFrame({"account_id": "H1",
                            "date": pd.to_datetime(["2024-11-01", "2025-05-10", "2025-07-01"]),
                            "nps": [3, 9, 0], "csat": [2, 5, 1]})
    tickets = pd.DataFrame({
        "account_id": "H1",
        "opened_at": pd.to_datetime(["2025-05-01", "2025-06-20", "2025-06-21", "2025-02-01",
                                     "2025-07-02"]),
        "closed_at": pd.NaT, "priority": ["high", "urgent", "low", "high", "urgent"],
        "hours_spent": 1.0})
    csm = pd.DataFrame({"account_id": "H1", "date": pd.to_datetime(["2025-04-01"]),
                        "executive_relationship": [4], "champion_quality": [2],
                        "reference_value": [3]})
    return {"accounts": accounts, "usage": usage, "surveys": surveys, "tickets": tickets,
            "csm_inputs": csm}


def test_health_at_cutoff_uses_only_data_before_the_cutoff():
    # decision 2025-10-13 -> cut-off 2025-07-15 -> scored on 2025-06-30 (end of the month
    # before the cut-off's month): July's usage collapse, NPS 0 and urgent ticket are unseen
    decisions = pd.DataFrame({
        "account_id": ["H1", "H2", "H1"],
        "decision_date": pd.to_datetime(["2025-10-13", "2025-10-13", "2025-08-01"]),
    }, index=[10, 11, 12])
    past = backtest.health_at_cutoff(decisions, _tables(), weights=WEIGHTS, bands=BANDS,
                                     cutoff_days=90, **MEASURE_OPTIONS)
    # H2 had not started on the scoring day; row 12 is scored on 2025-04-30
    assert list(past.index) == [10, 12]
    row = past.loc[10]
    assert row["scored_on"] == pd.Timestamp("2025-06-30")
    # 66.5 as hand-computed in test_health.py, except products: H2 (4 products) was not yet
    # a customer, so H1's 2 are the most (100 instead of 50): 66.5 + 0.10 x 50 = 71.5
    assert row["health_score"] == pytest.approx(71.5)
    assert row["score_products"] == pytest.approx(100.0)
    assert row["health_band"] == "yellow"
    assert row["score_nps"] == pytest.approx(90.0) and row["contrib_usage"] == pytest.approx(
        22.5)
    assert past.loc[12, "scored_on"] == pd.Timestamp("2025-04-30")
    assert {f"score_{m}" for m in HEALTH_MEASURES} <= set(past.columns)


def test_health_at_cutoff_empty():
    out = backtest.health_at_cutoff(pd.DataFrame(columns=["account_id", "decision_date"]),
                                    _tables(), weights=WEIGHTS, bands=BANDS, cutoff_days=90,
                                    **MEASURE_OPTIONS)
    assert out.empty and "health_score" in out


def test_auc_interval_by_hand():
    # pairs (renewed, not): (.9,.5) yes (.9,.1) yes (.4,.5) no (.4,.1) yes -> 3/4
    out = backtest.auc_interval([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1])
    assert out["auc"] == pytest.approx(0.75)
    # Hanley-McNeil: Q1 = .75/1.25 = .6, Q2 = 2(.5625)/1.75 = .642857
    # var = (.1875 + (.6 - .5625) + (.642857 - .5625)) / 4 = .0763393 ; se = .276296
    assert out["low"] == pytest.approx(0.75 - 1.96 * 0.276296, abs=1e-5)
    assert out["high"] == 1.0
    assert (out["n"], out["positives"], out["negatives"]) == (4, 2, 2)
    one_class = backtest.auc_interval([1, 1], [0.2, 0.3])
    assert np.isnan(one_class["auc"])
    # missing scores are left out
    assert backtest.auc_interval([1, 0, 1], [0.9, 0.1, None])["n"] == 2


def _simulated(n: int = 3000, seed: int = 3) -> tuple[pd.DataFrame, pd.Series]:
    """Measure scores at the cut-off with a known effect on renewal: usage +0.4 per 10
    points, tickets -0.3 per 10 points, the others none; NPS missing for a quarter."""
    rng = np.random.default_rng(seed)
    past = pd.DataFrame({f"score_{m}": rng.uniform(0, 100, n) for m in HEALTH_MEASURES})
    past["account_id"] = [f"A{i % (n // 2)}" for i in range(n)]  # two decisions an account
    past.loc[rng.random(n) < 0.25, "score_nps"] = np.nan
    eta = 0.5 + 0.04 * (past["score_usage"] - 50) - 0.03 * (past["score_tickets"] - 50)
    renewed = pd.Series((rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float),
                        index=past.index)
    return past, renewed


def test_measure_signal_finds_the_measure_that_predicts():
    past, renewed = _simulated()
    sig = backtest.measure_signal(past, renewed, WEIGHTS)
    assert list(sig.index) == list(HEALTH_MEASURES)
    assert sig["auc"].idxmax() == "usage"
    assert sig.loc["usage", "auc_low"] > 0.6
    assert sig.loc["tickets", "auc"] < 0.5        # more ticket points, less renewal here
    assert sig.loc["nps", "n"] < sig.loc["usage", "n"]
    assert sig["weight"].sum() == pytest.approx(1.0)
    assert np.isnan(sig.loc["usage", "mean_points"])  # no contributions in this frame


def test_regression_weights_follow_positive_coefficients():
    past, renewed = _simulated()
    reg = backtest.regression_weights(past, renewed)
    w = reg["weights"]
    assert reg["error"] is None
    assert sum(w.values()) == pytest.approx(1.0)
    assert w["tickets"] == 0.0               # negative coefficient: weight 0
    assert w["usage"] > 0.75                 # the only real positive effect
    coefs = reg["coefficients"]
    assert coefs.loc["usage", "odds_ratio"] == pytest.approx(np.exp(0.4), rel=0.15)
    # weights are the positive coefficients, normalised
    pos = coefs["coef"].clip(lower=0)
    assert w["usage"] == pytest.approx(pos["usage"] / pos.sum())


def test_regression_weights_without_measures():
    past = pd.DataFrame({"account_id": ["a", "b"], "score_usage": [np.nan, np.nan]})
    reg = backtest.regression_weights(past, pd.Series([1.0, 0.0]))
    assert reg["weights"] == {} and reg["error"]


def test_cross_validated_weights_beat_a_score_on_noise():
    past, renewed = _simulated()
    noise_only = {"champion_quality": 1.0}
    cv = backtest.cross_validated_weights(past, renewed, noise_only, folds=4, seed=1)
    assert cv["failed_folds"] == []
    assert cv["auc_current"]["n"] == len(past)
    assert cv["auc_current"]["high"] > 0.45 and cv["auc_current"]["low"] < 0.55
    assert cv["auc_proposed"]["auc"] > cv["auc_current"]["auc"] + 0.1


def test_demo_health_backtest_finds_the_planted_signal(tmp_path, monkeypatch):
    """The demo plants usage decline, NPS detractors, executive sponsors and products
    into renewal; the health score at the cut-off must rank renewals clearly better than a
    coin toss."""
    from playbook.analyses import drivers
    from playbook.config import load_params
    from playbook.loader import load_client

    if (paths.data_dir("demo") / "accounts.csv").exists():
        params = load_params("demo")
    else:  # data/demo is generated, not committed: a project root under tmp_path
        from playbook.demo import generate_demo
        generate_demo(tmp_path / "data" / "demo")
        (tmp_path / "params").mkdir()
        (tmp_path / "params" / "demo.yaml").write_bytes(paths.params_file("demo").read_bytes())
        monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))  # data_dir stays in data/demo/
        params = load_params("demo")
    data = load_client(params)
    as_of = pd.Timestamp(params.as_of)
    decisions = drivers.renewal_decisions(data["accounts"], data.get("renewals"),
                                          data.get("churn_events"), as_of=as_of,
                                          **params.renewal_options())
    recent = decisions[decisions["decision_date"].between(
        as_of - pd.DateOffset(months=params.health.backtest_months), as_of)]
    past = backtest.health_at_cutoff(recent, data.tables, weights=params.health.weights,
                                     bands=params.health.bands,
                                     cutoff_days=params.drivers.cutoff_days,
                                     **params.health.measure_options.model_dump(),
                                     outcome_lookback_days=params.outcomes.lookback_days,
                                     trigger_window_days=params.triggers.churn_window_days)
    renewed = recent.loc[past.index, "renewed"].astype(float)
    auc = backtest.auc_interval(renewed, past["health_score"])
    assert auc["n"] > 1000
    assert auc["auc"] > 0.6 and auc["low"] > 0.55
    # the planted executive-sponsor effect shows in the executive-relationship measure
    sig = backtest.measure_signal(past, renewed, params.health.weights)
    assert sig.loc["executive_relationship", "auc_low"] > 0.55
    # so does the planted "outcomes met -> renewal odds x 2" in the optional outcomes measure
    # (weight 0 by default: measured, not scored), and the regression gives it a weight
    assert sig.loc["outcomes", "weight"] == 0 and sig.loc["outcomes", "auc_low"] > 0.5
    reg = backtest.regression_weights(past, renewed)
    assert reg["coefficients"].loc["outcomes", "or_low"] > 1
    assert reg["weights"]["outcomes"] > 0
