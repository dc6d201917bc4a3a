"""Tests of the renewal-driver analysis: planted effects with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import drivers as d

TRUE = {"const": 1.0, "exec_sponsor": 1.0, "usage_decline": -1.2, "tenure_years": 0.3}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _true_eta(t: pd.DataFrame) -> np.ndarray:
    return (
        TRUE["const"]
        + TRUE["exec_sponsor"] * t["exec_sponsor"].astype(float)
        + TRUE["usage_decline"] * t["usage_decline"].astype(float)
        + TRUE["tenure_years"] * t["tenure_years"]
    ).to_numpy()


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    """n = 3,000 decisions with known log-odds of renewal (TRUE) and one null feature."""
    rng = np.random.default_rng(2024)
    n = 3000
    t = pd.DataFrame(
        {
            "exec_sponsor": pd.array(rng.random(n) < 0.4, dtype="boolean"),
            "usage_decline": pd.array(rng.random(n) < 0.3, dtype="boolean"),
            "tenure_years": rng.uniform(0, 5, n),
            "noise": rng.normal(50, 10, n),
        }
    )
    t["renewed"] = (rng.random(n) < _sigmoid(_true_eta(t))).astype(int)
    return t


FEATURES = ["exec_sponsor", "usage_decline", "tenure_years", "noise"]


@pytest.fixture(scope="module")
def model(simulated: pd.DataFrame) -> d.DriverModel:
    return d.fit_renewal_model(simulated, FEATURES)


# ----------------------------------------------------------------------------- model


def test_fitted_log_odds_recover_planted_effects(model: d.DriverModel) -> None:
    c = model.coefficients
    assert model.method == "mle"
    for feature in ("exec_sponsor", "usage_decline", "tenure_years"):
        low, high = np.log(c.loc[feature, "or_low"]), np.log(c.loc[feature, "or_high"])
        assert low <= TRUE[feature] <= high, feature
        assert not low <= 0 <= high, f"{feature} should be significant"
    assert c.loc["noise", "p_value"] > 0.05
    assert c.loc["noise", "unit"].startswith("per 1 SD")
    assert c.loc["tenure_years", "unit"] == "per year of tenure"


def test_average_marginal_effects_match_finite_differences(
    simulated: pd.DataFrame, model: d.DriverModel
) -> None:
    ame = model.coefficients["ame"]
    on = simulated.assign(exec_sponsor=True)
    off = simulated.assign(exec_sponsor=False)
    truth_sponsor = np.mean(_sigmoid(_true_eta(on)) - _sigmoid(_true_eta(off)))
    assert ame["exec_sponsor"] > 0
    assert ame["exec_sponsor"] == pytest.approx(truth_sponsor, abs=0.03)

    down = simulated.assign(usage_decline=True)
    up = simulated.assign(usage_decline=False)
    truth_decline = np.mean(_sigmoid(_true_eta(down)) - _sigmoid(_true_eta(up)))
    assert ame["usage_decline"] < 0
    assert ame["usage_decline"] == pytest.approx(truth_decline, abs=0.03)

    h = 1e-3
    longer = simulated.assign(tenure_years=simulated["tenure_years"] + h)
    truth_tenure = np.mean((_sigmoid(_true_eta(longer)) - _sigmoid(_true_eta(simulated))) / h)
    assert ame["tenure_years"] == pytest.approx(truth_tenure, abs=0.01)


def test_model_reports_counts_and_checks(simulated: pd.DataFrame, model: d.DriverModel) -> None:
    assert model.n == len(simulated)
    assert model.events == int((simulated["renewed"] == 0).sum())
    minority = min(model.events, model.n - model.events)
    assert model.events_per_feature == pytest.approx(minority / 4)
    checks = model.checks
    assert checks["class_balance"]["share_renewed"] == pytest.approx(simulated["renewed"].mean())
    assert not checks["separation"]["detected"]
    assert checks["vif_dropped"] == {}
    assert set(checks["vif"]) == set(FEATURES)
    assert not checks["events_per_feature"]["below_minimum"]


def test_units_can_be_overridden(simulated: pd.DataFrame) -> None:
    half_year = {"tenure_years": (0.5, "per half year")}
    m = d.fit_renewal_model(simulated, ["tenure_years"], units=half_year)
    base = d.fit_renewal_model(simulated, ["tenure_years"])
    assert m.coefficients.loc["tenure_years", "unit"] == "per half year"
    assert m.coefficients.loc["tenure_years", "coef"] == pytest.approx(
        base.coefficients.loc["tenure_years", "coef"] / 2, rel=1e-5
    )


def test_categorical_feature_enters_as_dummies_against_most_common_level() -> None:
    rng = np.random.default_rng(0)  # fixed seed; a 95% interval misses for ~1 seed in 20
    n = 2000
    seg = rng.choice(["SMB", "Mid", "Enterprise"], size=n, p=[0.5, 0.3, 0.2])
    eta = 0.5 + np.where(seg == "Enterprise", 1.5, 0.0)
    t = pd.DataFrame({"segment": seg, "renewed": (rng.random(n) < _sigmoid(eta)).astype(int)})
    m = d.fit_renewal_model(t, ["segment"])
    assert list(m.coefficients.index) == ["segment[Mid]", "segment[Enterprise]"]
    assert m.coefficients.loc["segment[Enterprise]", "unit"] == "vs SMB"
    low = np.log(m.coefficients.loc["segment[Enterprise]", "or_low"])
    high = np.log(m.coefficients.loc["segment[Enterprise]", "or_high"])
    assert low <= 1.5 <= high


def test_perfect_separation_falls_back_to_penalised_fit() -> None:
    rng = np.random.default_rng(11)
    n = 200
    y = (rng.random(n) < 0.6).astype(int)
    x = np.where(y == 1, rng.uniform(1, 3, n), rng.uniform(-3, -1, n))
    t = pd.DataFrame({"renewed": y, "x": x, "z": rng.normal(size=n)})
    m = d.fit_renewal_model(t, ["x", "z"], units={"x": (1.0, "per unit")})
    sep = m.checks["separation"]
    assert sep["detected"]
    assert sep["separating_features"] == ["x"]
    assert sep["fallback"].startswith("fit_regularized(method='l1'")
    assert m.method == "l1"
    assert np.isfinite(m.coefficients["coef"]).all()
    assert m.coefficients.loc["x", "coef"] > 0
    assert m.coefficients["p_value"].isna().all()
    assert any("separated" in w for w in m.checks["warnings"])
    p = m.predict(t)
    assert d.auc(y, p) == 1.0


def test_collinear_duplicate_is_dropped_by_vif() -> None:
    rng = np.random.default_rng(5)
    n = 1000
    x1 = rng.normal(size=n)
    t = pd.DataFrame(
        {
            "x1": x1,
            "x1_copy": 2 * x1 + rng.normal(scale=0.01, size=n),
            "x3": rng.normal(size=n),
        }
    )
    t["renewed"] = (rng.random(n) < _sigmoid(0.5 + x1)).astype(int)
    m = d.fit_renewal_model(t, ["x1", "x1_copy", "x3"])
    assert list(m.checks["vif_dropped"]) == ["x1_copy"]
    assert m.checks["vif_dropped"]["x1_copy"] > 10
    assert m.features == ["x1", "x3"]
    assert all(v < 10 for v in m.checks["vif"].values())
    assert any("collinearity" in w for w in m.checks["warnings"])


def test_exact_duplicate_is_dropped_too() -> None:
    rng = np.random.default_rng(6)
    n = 500
    x = rng.normal(size=n)
    t = pd.DataFrame({"a": x, "b": x, "renewed": (rng.random(n) < _sigmoid(x)).astype(int)})
    m = d.fit_renewal_model(t, ["a", "b"])
    assert m.features == ["a"]
    assert m.checks["vif_dropped"]["b"] > 1e6


def test_few_events_per_feature_reduce_to_strongest_features() -> None:
    rng = np.random.default_rng(8)
    n = 120
    t = pd.DataFrame({f"n{i}": rng.normal(size=n) for i in range(5)})
    t["signal"] = rng.normal(size=n)
    t["renewed"] = (t["signal"] + rng.normal(scale=0.5, size=n) > -0.9).astype(int)
    minority = int(min(t["renewed"].sum(), n - t["renewed"].sum()))
    assert minority < 60  # 6 features need at least 60 decisions of the rarer outcome
    m = d.fit_renewal_model(t, [f"n{i}" for i in range(5)] + ["signal"])
    epf = m.checks["events_per_feature"]
    assert epf["below_minimum"]
    assert epf["value"] == pytest.approx(minority / 6)
    assert "signal" in m.features
    assert len(m.features) == max(1, minority // 10)
    assert sorted(epf["removed"] + m.features) == sorted([f"n{i}" for i in range(5)] + ["signal"])
    assert min(epf["univariate_p"], key=epf["univariate_p"].get) == "signal"
    assert any("smallest univariate p-values" in w for w in m.checks["warnings"])


def test_single_outcome_raises() -> None:
    t = pd.DataFrame({"x": [1.0, 2.0, 3.0], "renewed": [1, 1, 1]})
    with pytest.raises(d.DriverModelError):
        d.fit_renewal_model(t, ["x"])


def test_rows_with_missing_features_are_counted(simulated: pd.DataFrame) -> None:
    t = simulated.copy()
    t.loc[:9, "tenure_years"] = np.nan
    m = d.fit_renewal_model(t, ["tenure_years", "exec_sponsor"])
    assert m.checks["rows_dropped_missing"] == 10
    assert m.n == len(t) - 10


# ----------------------------------------------------------------------------- quality


def test_auc_known_answers() -> None:
    y = np.array([0, 0, 1, 1, 0, 1])
    score = np.array([0.1, 0.2, 0.8, 0.9, 0.3, 0.7])
    assert d.auc(y, score) == 1.0
    assert d.auc(y, -score) == 0.0
    assert d.auc(y, np.zeros(6)) == 0.5
    rng = np.random.default_rng(1)
    y_r = rng.integers(0, 2, 20000)
    assert d.auc(y_r, rng.random(20000)) == pytest.approx(0.5, abs=0.02)
    # one of the 2 x 2 pairs misordered -> 3/4
    assert d.auc([0, 0, 1, 1], [0.1, 0.6, 0.5, 0.9]) == pytest.approx(0.75)


def test_brier_of_constant_prediction_is_p_times_one_minus_p() -> None:
    y = np.array([1] * 3 + [0] * 7)
    assert d.brier_score(y, np.full(10, 0.3)) == pytest.approx(0.3 * 0.7)
    assert d.brier_score(y, y) == 0.0


def test_stratified_folds_keep_the_renewal_rate() -> None:
    y = np.array([1] * 800 + [0] * 200)
    folds = d._stratified_folds(y, 5, seed=7)
    for k in range(5):
        assert (folds == k).sum() == 200
        assert y[folds == k].mean() == pytest.approx(0.8)


def test_cross_validated_quality_beats_baseline(simulated: pd.DataFrame) -> None:
    q = d.cross_validated_quality(simulated, FEATURES, folds=5, seed=7)
    assert q["n"] == len(simulated)
    assert len(q["auc_by_fold"]) == 5
    assert 0.6 < q["auc"] < 0.85
    assert q["brier"] < q["brier_baseline"]
    assert q["brier_skill"] > 0
    assert q["predictions"].notna().all()
    again = d.cross_validated_quality(simulated, FEATURES, folds=5, seed=7)
    assert again["auc_by_fold"] == q["auc_by_fold"]


def test_lift_by_decile() -> None:
    rng = np.random.default_rng(4)
    p = rng.random(1000)
    y = (rng.random(1000) < p).astype(int)
    lift = d.lift_by_decile(y, p)
    assert list(lift["decile"]) == list(range(1, 11))
    assert lift["n"].sum() == 1000
    assert (lift["n"] == 100).all()
    assert lift["mean_predicted"].is_monotonic_decreasing
    assert lift.loc[0, "lift"] > 1.5
    assert lift["cumulative_share_of_events"].iloc[-1] == pytest.approx(1.0)
    assert lift.loc[0, "event_rate"] == pytest.approx(y[np.argsort(-p)[:100]].mean())


def test_calibration_table_of_true_probabilities_is_calibrated() -> None:
    rng = np.random.default_rng(9)
    p = rng.uniform(0.05, 0.95, 20000)
    y = (rng.random(20000) < p).astype(int)
    cal = d.calibration_table(y, p, bins=10)
    assert list(cal["bin"]) == list(range(1, 11))
    assert cal["mean_predicted"].is_monotonic_increasing
    inside = (cal["ci_low"] <= cal["mean_predicted"]) & (cal["mean_predicted"] <= cal["ci_high"])
    assert inside.sum() >= 8
    assert (cal["observed_rate"] - cal["mean_predicted"]).abs().max() < 0.05


def test_risk_scores_use_the_model(simulated: pd.DataFrame, model: d.DriverModel) -> None:
    current = simulated.head(20).drop(columns="renewed").copy()
    current["account_id"] = [f"A{i}" for i in range(20)]
    current["decision_date"] = pd.Timestamp("2025-03-01")
    current["contract_value"] = 1000.0
    current.loc[3, "tenure_years"] = np.nan
    scores = d.risk_scores(model, current)
    assert scores["p_renew"].dropna().is_monotonic_increasing
    expected = model.predict(current)
    got = scores.set_index("account_id")["p_renew"]
    for i, acc in enumerate(current["account_id"]):
        if i == 3:
            assert np.isnan(got[acc])
        else:
            assert got[acc] == pytest.approx(expected.iloc[i])
    row = scores.set_index("account_id").loc["A3"]
    assert row["missing_features"] == "tenure_years"
    a0 = scores.set_index("account_id").loc["A0"]
    assert a0["contract_value_at_risk"] == pytest.approx(1000 * (1 - a0["p_renew"]))


# ----------------------------------------------------------------------------- decisions


def test_decisions_from_renewals_table() -> None:
    renewals = pd.DataFrame(
        {
            "account_id": ["a", "b", "c"],
            "renewal_date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
            "outcome": ["renewed", "churned", "downgraded"],
            "arr_before": [100.0, 200.0, 300.0],
            "arr_after": [100.0, 0.0, 150.0],
        }
    )
    out = d.renewal_decisions(pd.DataFrame({"account_id": []}), renewals)
    assert list(out["renewed"]) == [1, 0, 1]
    assert list(out["downgraded"]) == [False, False, True]
    assert (out["source"] == "renewals").all()
    assert list(out["arr_before"]) == [100.0, 200.0, 300.0]


def test_decisions_derived_from_accounts_and_churn_events() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["A", "B", "C", "D"],
            "start_date": pd.to_datetime(["2021-03-01", "2021-01-15", "2023-05-01", "2021-02-01"]),
            "renewal_date": pd.to_datetime(["2024-03-01", "2023-01-15", pd.NaT, "2022-02-01"]),
            "churn_date": pd.to_datetime([pd.NaT, "2023-06-30", pd.NaT, "2022-02-01"]),
            "status": ["active", "churned", "active", "churned"],
        }
    )
    churn_events = pd.DataFrame(
        {"account_id": ["B"], "churn_date": pd.to_datetime(["2023-06-30"])}
    )
    out = d.renewal_decisions(accounts, None, churn_events, as_of="2023-12-31")
    got = {(r.account_id, str(r.decision_date.date()), r.renewed) for r in out.itertuples()}
    assert got == {
        ("A", "2022-03-01", 1),
        ("A", "2023-03-01", 1),
        ("B", "2022-01-15", 1),
        ("B", "2023-01-15", 1),
        ("B", "2023-06-30", 0),
        ("D", "2022-02-01", 0),
    }
    assert (out["source"] == "derived").all()
    assert not out["downgraded"].any()


def test_upcoming_renewals() -> None:
    accounts = pd.DataFrame(
        {
            "account_id": ["A", "B", "C", "D"],
            "renewal_date": pd.to_datetime(
                ["2025-01-20", "2025-05-01", "2025-02-01", "2024-12-01"]
            ),
            "churn_date": pd.to_datetime([pd.NaT, pd.NaT, "2024-12-15", pd.NaT]),
            "status": ["active", "active", "churned", "active"],
        }
    )
    out = d.upcoming_renewals(accounts, "2025-01-01", horizon_days=90)
    assert list(out["account_id"]) == ["A"]
    assert out.loc[0, "days_to_renewal"] == 19


# ----------------------------------------------------------------------------- features


def _one_account_tables() -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """One decision on 2024-04-30; with cutoff_days = 90 the cut-off is 2024-01-31."""
    ts = pd.to_datetime
    accounts = pd.DataFrame(
        {
            "account_id": ["X"],
            "start_date": ts(["2022-01-31"]),
            "arr": [12000.0],
            "products": pd.array([2], dtype="Int64"),
            "segment": ["SMB"],
        }
    )
    usage = pd.DataFrame(
        {
            "account_id": "X",
            "month": ts(["2023-10-01", "2023-11-01", "2023-12-01", "2024-01-01", "2024-02-01"]),
            "active_users": [100, 90, 80, 60, 0],
            "licensed_seats": [100, 100, 100, 100, 100],
        }
    )
    tickets = pd.DataFrame(
        {
            "ticket_id": ["t1", "t2", "t3", "t4"],
            "account_id": "X",
            "opened_at": ts(["2023-11-02", "2023-11-03", "2024-01-31", "2024-02-01"]),
            "closed_at": ts(["2023-11-05", "2023-11-10", pd.NaT, "2024-02-02"]),
            "priority": ["urgent", "low", "high", "urgent"],
            "hours_spent": [7.0, 5.0, 3.0, 50.0],
        }
    )
    surveys = pd.DataFrame(
        {
            "account_id": "X",
            "date": ts(["2023-12-01", "2024-01-15", "2024-02-10"]),
            "nps": [9.0, 4.0, 10.0],
            "csat": [5.0, np.nan, 1.0],
        }
    )
    contacts = pd.DataFrame(
        {
            "contact_id": ["c1", "c2", "c3", "c4"],
            "account_id": "X",
            "role": ["user", "executive", "champion", "user"],
            "seniority": ["manager", "vp", "director", "individual"],
            "relationship_strength": ["strong", "strong", "medium", "weak"],
        }
    )
    touches = pd.DataFrame(
        {
            "account_id": "X",
            "contact_id": ["c1", "c2", "c2", "c3", None],
            "date": ts(["2024-01-01", "2023-12-22", "2024-02-01", "2024-01-11", "2024-01-30"]),
            "type": ["call", "meeting", "qbr", "email", "email"],
        }
    )
    onboarding = pd.DataFrame(
        {
            "account_id": "X",
            "step": ["kickoff", "setup", "setup", "training"],
            "completed_date": ts(["2023-01-01", "2023-02-01", "2023-02-03", "2024-03-01"]),
        }
    )
    decisions = pd.DataFrame(
        {"account_id": ["X"], "decision_date": ts(["2024-04-30"]), "renewed": [0]}
    )
    tables = {
        "accounts": accounts,
        "usage": usage,
        "tickets": tickets,
        "surveys": surveys,
        "contacts": contacts,
        "touches": touches,
        "onboarding": onboarding,
    }
    return decisions, tables


def test_features_hand_computed() -> None:
    decisions, tables = _one_account_tables()
    table, report = d.modelling_table(
        decisions, tables, cutoff_days=90, final_onboarding_step="training"
    )
    row = table.iloc[0]
    assert row["cutoff_date"] == pd.Timestamp("2024-01-31")
    # usage: January is complete on the cut-off; 3 months earlier is October
    assert row["active_users"] == 60
    assert row["active_users_change_3m"] == -40
    assert row["usage_change_share_3m"] == pytest.approx(-0.4)
    assert bool(row["usage_decline"]) is True
    assert row["seat_utilisation"] == pytest.approx(0.6)
    # tickets in (2023-11-02, 2024-01-31]; hours only from tickets closed by the cut-off
    assert row["tickets_90d"] == 2
    assert row["high_priority_tickets_90d"] == 1
    assert row["ticket_hours_90d"] == 5
    # surveys: last answer on or before the cut-off
    assert row["last_nps"] == 4
    assert bool(row["nps_detractor"]) is True
    assert row["last_csat"] == 5
    # contacts
    assert row["strong_user_relationships"] == 1
    assert row["exec_relationships"] == 2
    assert row["strong_exec_relationships"] == 1
    assert bool(row["exec_sponsor"]) is True
    # touches: champion c3 (a director: user and executive) on 2024-01-11 (20 days)
    assert row["days_since_user_contact"] == 20
    assert row["days_since_exec_contact"] == 20
    assert row["onboarding_steps"] == 2
    assert bool(row["onboarding_incomplete"]) is True  # "training" completed after the cut-off
    assert row["tenure_years"] == pytest.approx(730 / 365.25)
    assert row["products"] == 2
    assert row["contract_value"] == 12000
    assert row["segment"] == "SMB"
    assert report["skipped"] == {}
    assert any("Contacts carry no dates" in n for n in report["notes"])
    assert any("1 touch(es) without a contact_id" in n for n in report["notes"])


def test_feature_definitions_can_be_tightened() -> None:
    decisions, tables = _one_account_tables()
    table, _ = d.modelling_table(
        decisions,
        tables,
        sponsor_roles=("champion",),  # the director champion c3 is only a medium relationship
        exec_by_seniority=False,  # executive touches = role executive only: c2 on 2023-12-22
        nps_lookback_days=10,  # no answer in (2024-01-21, 2024-01-31]
        final_onboarding_step="setup",
    )
    row = table.iloc[0]
    assert bool(row["exec_sponsor"]) is False
    assert row["days_since_exec_contact"] == 40
    assert np.isnan(row["last_nps"])
    assert pd.isna(row["nps_detractor"])
    assert bool(row["onboarding_incomplete"]) is False


def _random_tables(seed: int = 0, n_accounts: int = 80):
    """Accounts with one decision each and random activity before and after the cut-off."""
    rng = np.random.default_rng(seed)
    ids = [f"A{i:03d}" for i in range(n_accounts)]
    start = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n_accounts), "D")
    decision = pd.Timestamp("2023-06-01") + pd.to_timedelta(rng.integers(0, 365, n_accounts), "D")
    renewed = (rng.random(n_accounts) < 0.7).astype(int)
    accounts = pd.DataFrame(
        {
            "account_id": ids,
            "start_date": start,
            "arr": rng.uniform(1000, 50000, n_accounts).round(),
            "products": pd.array(rng.integers(1, 4, n_accounts), dtype="Int64"),
            "segment": rng.choice(["SMB", "Enterprise"], n_accounts),
        }
    )
    decisions = pd.DataFrame({"account_id": ids, "decision_date": decision, "renewed": renewed})
    months = pd.date_range("2021-01-01", "2024-12-01", freq="MS")
    usage = pd.DataFrame(
        [(a, m, int(rng.integers(5, 50)), 50) for a in ids for m in months],
        columns=["account_id", "month", "active_users", "licensed_seats"],
    )

    def dated(n: int) -> pd.Series:
        return pd.Timestamp("2022-06-01") + pd.to_timedelta(rng.integers(0, 900, n), "D")

    n_t = 1500
    opened = dated(n_t)
    tickets = pd.DataFrame(
        {
            "ticket_id": [f"t{i}" for i in range(n_t)],
            "account_id": rng.choice(ids, n_t),
            "opened_at": opened,
            "closed_at": opened + pd.to_timedelta(rng.integers(0, 20, n_t), "D"),
            "priority": rng.choice(["low", "medium", "high", "urgent"], n_t),
            "hours_spent": rng.uniform(0, 10, n_t).round(1),
        }
    )
    surveys = pd.DataFrame(
        {"account_id": rng.choice(ids, 600), "date": dated(600),
         "nps": rng.integers(0, 11, 600).astype(float), "csat": rng.integers(1, 6, 600)}
    )
    contacts = pd.DataFrame(
        {
            "contact_id": [f"c{i}" for i in range(240)],
            "account_id": np.repeat(ids, 3),
            "role": rng.choice(["user", "champion", "executive"], 240),
            "seniority": rng.choice(["c_level", "vp", "director", "manager", "individual"], 240),
            "relationship_strength": rng.choice(["strong", "medium", "weak"], 240),
        }
    )
    pick = rng.integers(0, 240, 1200)
    touches = pd.DataFrame(
        {"account_id": contacts["account_id"].to_numpy()[pick],
         "contact_id": contacts["contact_id"].to_numpy()[pick],
         "date": dated(1200), "type": "call"}
    )
    onboarding = pd.DataFrame(
        {"account_id": rng.choice(ids, 300), "step": rng.choice(list("abcdef"), 300),
         "completed_date": dated(300)}
    )
    tables = {"accounts": accounts, "usage": usage, "tickets": tickets, "surveys": surveys,
              "contacts": contacts, "touches": touches, "onboarding": onboarding}
    return decisions, tables


def _with_late_perfect_signal(decisions: pd.DataFrame, tables: dict, cutoff_days: int) -> dict:
    """Records dated after each churner's cut-off that give its outcome away."""
    late = dict(tables)
    churners = decisions.loc[decisions["renewed"] == 0]
    cutoff = churners["decision_date"] - pd.Timedelta(days=cutoff_days)
    after = cutoff + pd.Timedelta(days=1)
    ids = churners["account_id"].to_numpy()
    late["tickets"] = pd.concat([tables["tickets"], pd.DataFrame(
        {"ticket_id": [f"late{i}" for i in range(len(ids))], "account_id": ids,
         "opened_at": after.to_numpy(), "closed_at": after.to_numpy(), "priority": "urgent",
         "hours_spent": 99.0})], ignore_index=True)
    late["surveys"] = pd.concat([tables["surveys"], pd.DataFrame(
        {"account_id": ids, "date": after.to_numpy(), "nps": 0.0, "csat": 1})],
        ignore_index=True)
    exec_contact = tables["contacts"].groupby("account_id")["contact_id"].first()
    late["touches"] = pd.concat([tables["touches"], pd.DataFrame(
        {"account_id": ids, "contact_id": exec_contact.reindex(ids).to_numpy(),
         "date": after.to_numpy(), "type": "onsite"})], ignore_index=True)
    late["onboarding"] = pd.concat([tables["onboarding"], pd.DataFrame(
        {"account_id": ids, "step": "zzz_late", "completed_date": after.to_numpy()})],
        ignore_index=True)
    usage = tables["usage"].copy()
    month_end = usage["month"] + pd.offsets.MonthEnd(0)
    cut = usage["account_id"].map(dict(zip(ids, cutoff, strict=True)))
    usage.loc[cut.notna() & (month_end > cut), "active_users"] = 0  # incl. the cut-off month
    late["usage"] = usage
    return late


def test_no_leakage_from_records_after_the_cutoff() -> None:
    decisions, tables = _random_tables()
    late = _with_late_perfect_signal(decisions, tables, cutoff_days=90)
    options = {"final_onboarding_step": "zzz_late", "nps_lookback_days": 180}
    clean, report = d.modelling_table(decisions, tables, cutoff_days=90, **options)
    leaky_input, _ = d.modelling_table(decisions, late, cutoff_days=90, **options)
    assert report["skipped"] == {}
    pd.testing.assert_frame_equal(clean, leaky_input)
    # the planted signal is real: measured at the decision itself it changes the features
    at_decision, _ = d.modelling_table(decisions, tables, cutoff_days=0)
    at_decision_late, _ = d.modelling_table(decisions, late, cutoff_days=0)
    churn = decisions["renewed"].to_numpy() == 0
    extra = at_decision_late["high_priority_tickets_90d"] - at_decision["high_priority_tickets_90d"]
    assert (extra[churn] == 1).all()
    assert (extra[~churn] == 0).all()


def test_missing_optional_tables_skip_features_and_say_why() -> None:
    decisions, tables = _one_account_tables()
    table, report = d.modelling_table(decisions, {"accounts": tables["accounts"], "usage": None})
    for f in ("active_users", "usage_decline", "seat_utilisation"):
        assert report["skipped"][f] == "table 'usage' not provided"
        assert f not in table
    assert report["skipped"]["tickets_90d"] == "table 'tickets' not provided"
    assert report["skipped"]["last_nps"] == "table 'surveys' not provided"
    assert report["skipped"]["exec_sponsor"] == "table 'contacts' not provided"
    assert report["skipped"]["onboarding_steps"] == "table 'onboarding' not provided"
    assert set(report["built"]) == {"tenure_years", "products", "contract_value", "segment"}

    _, report2 = d.modelling_table(
        decisions, {"accounts": tables["accounts"], "touches": tables["touches"]}
    )
    assert "contacts" in report2["skipped"]["days_since_exec_contact"]

    no_seats = tables["usage"].drop(columns="licensed_seats")
    _, report3 = d.modelling_table(decisions, {**tables, "usage": no_seats})
    assert report3["skipped"] == {
        "seat_utilisation": "usage.licensed_seats is missing or empty",
        "onboarding_incomplete": "no final_onboarding_step given",
    }


def test_accounts_table_is_required() -> None:
    decisions, _ = _one_account_tables()
    with pytest.raises(d.DriverModelError):
        d.modelling_table(decisions, {"usage": None})


def test_end_to_end_on_built_table_runs() -> None:
    decisions, tables = _random_tables(seed=1, n_accounts=80)
    table, report = d.modelling_table(decisions, tables, cutoff_days=90)
    features = [f for f in d.DEFAULT_MODEL_FEATURES if f in report["built"]]
    m = d.fit_renewal_model(table, features)
    assert m.n + m.checks["rows_dropped_missing"] == len(table)
    assert m.checks["events_per_feature"]["below_minimum"]  # 80 decisions: too few events
    q = d.cross_validated_quality(table, m.features, folds=5, seed=7)
    assert 0 <= q["auc"] <= 1
    scores = d.risk_scores(m, table)
    assert scores["p_renew"].between(0, 1).all()
