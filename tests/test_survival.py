"""Tests of the survival view: lifetimes, Kaplan-Meier, Cox cross-check (known answers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import survival as sv
from playbook.errors import SurvivalError

ts = pd.to_datetime


def test_tenure_months_puts_anniversaries_on_whole_years() -> None:
    start = pd.Series(ts(["2020-02-29", "2021-01-15", "2021-01-15"]))
    end = pd.Series(ts(["2021-02-28", "2023-01-15", "2021-02-14"]))
    out = sv.tenure_months(start, end)
    assert out[1] == 24.0
    assert out[2] == pytest.approx(1 - 1 / sv.DAYS_PER_MONTH)
    assert out[0] == pytest.approx(12 - 1 / sv.DAYS_PER_MONTH)


# ----------------------------------------------------------------------------- lifetimes


def _accounts() -> tuple[pd.DataFrame, pd.DataFrame]:
    accounts = pd.DataFrame({
        "account_id": ["old", "gone_before", "new", "late", "censored", "back", "day_one"],
        "segment": ["SMB", "SMB", "Mid", "Mid", None, "SMB", "Mid"],
        "start_date": ts(["2021-01-01", "2021-06-01", "2023-11-01", "2025-02-01",
                          "2024-01-01", "2022-01-01", "2022-10-01"]),
        "churn_date": ts(["2024-01-01", "2023-06-01", "2024-11-01", None, "2025-06-01",
                          "2025-03-01", "2023-10-01"]),
    })
    churn_events = pd.DataFrame({
        "account_id": ["old", "gone_before", "new", "back", "back", "day_one", "censored"],
        "churn_date": ts(["2024-01-01", "2023-06-01", "2024-11-01", "2024-01-01",
                          "2025-03-01", "2023-10-01", "2025-06-01"]),
    })
    return accounts, churn_events


def test_lifetimes_enter_at_the_first_month_of_data() -> None:
    accounts, churn = _accounts()
    life = sv.account_lifetimes(accounts, churn, as_of="2025-01-31",
                                data_start="2023-10-01").set_index("account_id")
    # left before the data begin: not in the data's risk sets; starts after as_of: out
    assert set(life.index) == {"old", "new", "censored", "back", "day_one"}
    old = life.loc["old"]
    assert old["entry_months"] == 33.0 and old["months"] == 36.0 and old["churned"] == 1
    assert life.loc["new", "entry_months"] == 0.0 and life.loc["new", "months"] == 12.0
    # churn after as_of is censored at as_of; a missing segment is "Unknown"
    cen = life.loc["censored"]
    assert cen["churned"] == 0 and cen["end_date"] == pd.Timestamp("2025-01-31")
    assert cen["group"] == "Unknown"
    # a reactivated account ends at its first churn in the data
    assert life.loc["back", "months"] == 24.0 and life.loc["back", "churned"] == 1
    # left on the first day of data: at risk for an instant (entry just before the exit)
    d1 = life.loc["day_one"]
    assert d1["months"] == 12.0 and d1["churned"] == 1
    assert 11.99 < d1["entry_months"] < 12.0


def test_lifetimes_without_a_data_start_begin_at_zero() -> None:
    accounts, churn = _accounts()
    life = sv.account_lifetimes(accounts, churn, as_of="2025-12-31", by=None)
    assert "group" not in life
    assert (life["entry_months"] == 0).all()
    assert life.set_index("account_id").loc["gone_before", "months"] == 24.0


# ----------------------------------------------------------------------------- Kaplan-Meier


def test_kaplan_meier_by_hand() -> None:
    # times 1,2,2,3,4,5 with 2 (one of them), 4 censored
    life = pd.DataFrame({"group": ["a"] * 6, "months": [1.0, 2, 2, 3, 4, 5],
                         "churned": [1, 1, 0, 1, 0, 1], "entry_months": 0.0})
    km = sv.kaplan_meier(life, overall=None)
    steps = km.set_index("months")
    # S(1) = 5/6; S(2) = 5/6 * 4/5 = 2/3; S(3) = 2/3 * 2/3 = 4/9; S(5) = 0
    assert steps.loc[0.0, "survival"] == 1.0 and steps.loc[0.0, "at_risk"] == 6
    assert steps.loc[1.0, "survival"] == pytest.approx(5 / 6)
    assert steps.loc[2.0, "survival"] == pytest.approx(2 / 3)
    assert steps.loc[3.0, "survival"] == pytest.approx(4 / 9)
    assert steps.loc[5.0, "survival"] == pytest.approx(0.0)
    assert list(steps["at_risk"]) == [6, 6, 5, 3, 1]
    assert list(steps["events"]) == [0, 1, 1, 1, 1]
    # Greenwood: var S(1) = S^2 * 1/(6*5); the log(-log) interval holds the estimate
    inside = (km["ci_low"] <= km["survival"] + 1e-12) & (km["survival"] <= km["ci_high"] + 1e-12)
    assert inside.all()
    assert km["ci_low"].min() >= 0 and km["ci_high"].max() <= 1
    assert km["n"].iloc[0] == 6 and km["n_events"].iloc[0] == 4


def test_kaplan_meier_left_truncation_keeps_late_entries_out_of_early_risk_sets() -> None:
    # b enters at 10: it cannot be at risk at 1 or 5
    life = pd.DataFrame({"months": [1.0, 5, 12, 14], "churned": [1, 1, 1, 0],
                         "entry_months": [0.0, 0, 10, 0]})
    km = sv.kaplan_meier(life, by=None, overall="all").set_index("months")
    assert km.loc[1.0, "at_risk"] == 3  # a, the 5-month account and the 14-month account
    assert km.loc[1.0, "survival"] == pytest.approx(2 / 3)
    assert km.loc[5.0, "survival"] == pytest.approx(2 / 3 * 1 / 2)
    assert km.loc[12.0, "at_risk"] == 2
    assert km.loc[12.0, "survival"] == pytest.approx(1 / 3 * 1 / 2)


def test_survival_at_reads_the_step_function() -> None:
    life = pd.DataFrame({"group": ["a"] * 4 + ["b"] * 2, "months": [12.0, 12, 24, 30, 12, 20],
                         "churned": [1, 0, 1, 0, 0, 1], "entry_months": 0.0})
    km = sv.kaplan_meier(life)
    out = sv.survival_at(km, [6, 12, 24, 36]).set_index("group")
    assert out.loc["a", "survival_6m"] == 1.0
    assert out.loc["a", "survival_12m"] == pytest.approx(0.75)
    assert out.loc["a", "at_risk_12m"] == 4
    assert out.loc["a", "survival_24m"] == pytest.approx(0.75 * 0.5)
    assert np.isnan(out.loc["a", "survival_36m"]) and out.loc["a", "at_risk_36m"] == 0
    assert out.loc["b", "survival_24m"] == 0.0
    assert out.loc["All accounts", "n"] == 6


# ----------------------------------------------------------------------------- Cox


def test_decision_intervals_cover_each_contract_year() -> None:
    accounts = pd.DataFrame({"account_id": ["a", "b"],
                             "start_date": ts(["2021-03-01", "2022-06-15"])})
    table = pd.DataFrame({
        "account_id": ["a", "a", "b", "b"],
        "decision_date": ts(["2023-03-01", "2024-03-01", "2023-06-15", "2023-09-15"]),
        "renewed": [1, 0, 1, 0],
        "x": [1.0, 2.0, 3.0, 4.0],
    })
    out = sv.decision_intervals(table, accounts, term_months=12)
    assert list(out["exit_months"]) == [24.0, 36.0, 12.0, 15.0]
    # a's first row has no earlier decision: one contract year; the second starts where it ended
    assert list(out["entry_months"]) == [12.0, 24.0, 0.0, 12.0]
    assert list(out["churned"]) == [0.0, 1.0, 0.0, 1.0]


def _exponential_intervals(seed: int = 5, n: int = 3000) -> pd.DataFrame:
    """Churn times with hazard 0.02 x 2^x a month (x binary), censored at 36 months."""
    rng = np.random.default_rng(seed)
    x = rng.random(n) < 0.5
    z = rng.normal(size=n)
    t = rng.exponential(1 / (0.02 * np.where(x, 2.0, 1.0)))
    return pd.DataFrame({"entry_months": 0.0, "exit_months": np.minimum(t, 36.0),
                         "churned": (t <= 36).astype(float), "flag": x, "noise": z,
                         "tenure_years": rng.random(n), "account_id": np.arange(n)})


def test_cox_recovers_a_known_hazard_ratio() -> None:
    data = _exponential_intervals()
    cox = sv.cox_model(data, ["flag", "noise", "tenure_years"],
                       units={"flag": (1.0, "yes vs no")})
    c = cox["coefficients"]
    assert c.loc["flag", "hr_low"] <= 2.0 <= c.loc["flag", "hr_high"]
    assert c.loc["flag", "hr_low"] > 1
    assert c.loc["noise", "p_value"] > 0.05
    assert "tenure_years" not in c.index
    assert cox["dropped"] == {"tenure_years": "tenure is the time scale of the Cox model"}
    assert cox["events"] == int(data["churned"].sum()) and cox["n"] == len(data)
    assert cox["converged"]


def test_proportional_hazards_check_passes_proportional_and_flags_a_fading_effect() -> None:
    ph = sv.cox_model(_exponential_intervals(), ["flag", "noise"],
                      units={"flag": (1.0, "yes vs no")})["ph_check"]
    assert not ph["violates"].any()                  # constant hazard ratio 2: holds
    assert ph.loc["flag", "p_value"] > 0.05 and ph.loc["flag", "feature"] == "flag"
    # an effect that fades: flagged accounts churn 6x as fast in year one, then half as fast
    rng = np.random.default_rng(11)
    n = 3000
    x = rng.random(n) < 0.5
    early = rng.exponential(1 / np.where(x, 0.12, 0.02))
    late = 12 + rng.exponential(1 / np.where(x, 0.01, 0.02))
    t = np.where(early <= 12, early, late)
    data = pd.DataFrame({"entry_months": 0.0, "exit_months": np.minimum(t, 36.0),
                         "churned": (t <= 36).astype(float), "flag": x,
                         "account_id": np.arange(n)})
    ph = sv.cox_model(data, ["flag"], units={"flag": (1.0, "yes vs no")})["ph_check"]
    assert ph.loc["flag", "violates"] and ph.loc["flag", "p_value"] < 0.001
    assert ph.loc["flag", "rho"] < 0                 # the log hazard ratio falls with time


def test_cox_standard_errors_are_robust_by_account_with_several_intervals() -> None:
    data = _exponential_intervals()
    one_each = sv.cox_model(data, ["flag"], units={"flag": (1.0, "yes vs no")})
    assert one_each["clustered"] is False
    shared = data.assign(account_id=data["account_id"] // 3)  # three intervals per account
    assert sv.cox_model(shared, ["flag"], units={"flag": (1.0, "yes vs no")})["clustered"]


def test_cox_needs_events() -> None:
    data = _exponential_intervals(n=50).assign(churned=0.0)
    with pytest.raises(SurvivalError):
        sv.cox_model(data, ["flag"])


def test_compare_with_logit_verdicts() -> None:
    idx = ["a", "b", "c", "d", "e"]
    logit = pd.DataFrame({
        "feature": idx, "unit": "u",
        "odds_ratio": [2.0, 0.5, 1.1, 1.5, 1.3],
        "or_low": [1.5, 0.3, 0.9, 1.1, 0.9], "or_high": [2.6, 0.8, 1.3, 2.0, 1.8]},
        index=idx)
    cox = pd.DataFrame({
        "hazard_ratio": [0.5, 1.8, 0.95, 0.9, 1.6],
        "hr_low": [0.4, 1.2, 0.8, 0.7, 1.2], "hr_high": [0.7, 2.6, 1.2, 1.1, 2.1]},
        index=idx)
    out = sv.compare_with_logit(logit, cox)
    assert list(out["verdict"]) == [
        "both significant, same direction",
        "both significant, same direction",
        "neither significant",
        "only the logistic model",
        "only the Cox model",
    ]
    assert list(out["same_direction"]) == [True, True, True, True, False]
    opposite = sv.compare_with_logit(logit.iloc[:1], cox.iloc[:1].assign(
        hazard_ratio=2.0, hr_low=1.5, hr_high=2.5))
    assert opposite["verdict"].iloc[0] == "both significant, opposite directions"


def test_cox_ignores_intervals_at_risk_at_no_churn_time() -> None:
    """Rows wholly between two churn times add nothing to the partial likelihood or its
    score: coefficients and robust errors must not move when they are added (statsmodels
    0.15's score residuals credit them to the earlier churn time)."""
    rng = np.random.default_rng(3)
    rows = []
    for a in range(600):  # yearly contracts, churn on anniversaries, x doubles the odds
        x = float(rng.random() < 0.5)
        for year in (1, 2, 3):
            churned = rng.random() < (0.3 if x else 0.15)
            rows.append((a, 12.0 * (year - 1), 12.0 * year, float(churned), x))
            if churned:
                break
    base = pd.DataFrame(rows, columns=["account_id", "entry_months", "exit_months",
                                       "churned", "x"])
    # 200 accounts that joined mid-year and left the data before the next anniversary
    idle = pd.DataFrame({"account_id": np.arange(1000, 1200), "entry_months": 13.0,
                         "exit_months": 20.0, "churned": 0.0,
                         "x": (np.arange(200) % 2).astype(float)})
    units = {"x": (1.0, "yes vs no")}
    a = sv.cox_model(base, ["x"], units=units)
    b = sv.cox_model(pd.concat([base, idle], ignore_index=True), ["x"], units=units)
    assert a["clustered"] and b["clustered"]
    assert b["coefficients"].loc["x", "coef"] == pytest.approx(a["coefficients"].loc["x", "coef"])
    assert b["coefficients"].loc["x", "std_err"] == pytest.approx(
        a["coefficients"].loc["x", "std_err"])
    assert b["n"] == a["n"] == len(base)
    assert list(sv.at_risk_at_a_churn(pd.concat([base, idle]))["account_id"]) == list(
        base["account_id"])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lifetimes_match_pandas_isin_for_accounts_gone_before_the_data(seed, monkeypatch):
    """account_lifetimes tells the accounts with a churn on or after the data start by
    Arrow's is_in (stop 34): the lifetimes are those of pandas' isin (the previous code),
    on random accounts (blank IDs and statuses, churns before and after the data start,
    several churns of an account, churns of accounts not listed)."""
    rng = np.random.default_rng(seed)
    n = 400
    ids = pd.Series([f"A{i}" for i in range(n)], dtype="string")
    ids[rng.uniform(size=n) < 0.03] = pd.NA
    start = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    accounts = pd.DataFrame({
        "account_id": ids, "start_date": start,
        "status": rng.choice(["active", "Active", "churned", None], n),
        "segment": rng.choice(["SMB", "Ent", None], n)})
    m = 300
    churn = pd.DataFrame({
        "account_id": pd.Series([f"A{i}" for i in rng.integers(0, n + 20, m)], dtype="string"),
        "churn_date": pd.Timestamp("2019-01-01")
        + pd.to_timedelta(rng.integers(0, 2200, m), unit="D")})
    kw = {"as_of": "2024-12-31", "data_start": "2021-01-01"}
    got = [sv.account_lifetimes(accounts, churn, **kw),
           sv.account_lifetimes(accounts.assign(churn_date=churn["churn_date"].iloc[:n]
                                                .reindex(range(n)).to_numpy()), None, **kw)]
    monkeypatch.setattr(sv, "is_in", lambda values, wanted: values.isin(wanted).to_numpy())
    want = [sv.account_lifetimes(accounts, churn, **kw),
            sv.account_lifetimes(accounts.assign(churn_date=churn["churn_date"].iloc[:n]
                                                 .reindex(range(n)).to_numpy()), None, **kw)]
    for g, w in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(g, w, check_exact=True)
    assert len(got[0]) < n and got[0]["churned"].any()
