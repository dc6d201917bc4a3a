"""Value scores, value tiers, tier concentration and lifecycle stages on hand-made frames."""

from __future__ import annotations

import pandas as pd
import pytest

from playbook.analyses.segments.lifecycle import (
    LIFECYCLE_STAGES,
    lifecycle_stage,
    onboarding_funnel,
    onboarding_step_order,
    stage_history,
    stage_summary,
    stuck_onboarding,
    time_in_stage,
)
from playbook.analyses.segments.lifecycle import month_ends as segments_month_ends
from playbook.analyses.segments.value import (
    tier_concentration,
    tier_stability,
    value_scores,
    value_tiers,
)
from playbook.errors import ParamsError

AS_OF = "2025-06-30"
VALUE_WEIGHTS = {"contract_value": 0.6, "growth": 0.2, "beyond_revenue": 0.2}
TIER_SHARES = {"high": 0.10, "medium": 0.30, "low": 0.60}
#: lifecycle_stage thresholds (the shared defaults of params ``lifecycle``)
STAGE_RULES = {"onboarding_days": 90, "active_depth": 0.5, "expanding_growth": 0.10,
               "transformational_depth": 0.8, "transformational_products": 3}


def _accounts(rows: list[dict]) -> pd.DataFrame:
    base = {"start_date": "2023-01-01", "churn_date": None, "status": "active", "arr": None,
            "products": 1, "segment": "SMB", "owner": "Ann"}
    df = pd.DataFrame([{**base, **r} for r in rows])
    for c in ("start_date", "churn_date"):
        df[c] = pd.to_datetime(df[c])
    df["products"] = df["products"].astype("Int64")
    df["mrr"] = df["mrr"].astype(float)
    return df


@pytest.fixture
def ten_accounts() -> pd.DataFrame:
    # A01..A10 with MRR 100..1000: value rank follows the account number.
    return _accounts([{"account_id": f"A{i:02d}", "mrr": 100.0 * i} for i in range(1, 11)])


@pytest.fixture
def four_accounts() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    acc = _accounts([
        {"account_id": "A", "mrr": 100.0, "products": 1},
        {"account_id": "B", "mrr": None, "arr": 2400.0, "products": 2},  # 2400/12 = 200
        {"account_id": "C", "mrr": 300.0, "products": 1},
        {"account_id": "D", "mrr": 400.0, "products": 4},
        # churned before as_of and starting after as_of: both left out
        {"account_id": "E", "mrr": 999.0, "status": "churned", "churn_date": "2025-01-31"},
        {"account_id": "F", "mrr": 999.0, "start_date": "2025-08-01"},
    ])
    usage = pd.DataFrame({
        "account_id": ["A", "A", "B", "D"],
        "month": pd.to_datetime(["2025-05-01", "2025-06-01", "2025-06-01", "2025-06-01"]),
        "active_users": [9, 5, 10, 2],
        "licensed_seats": [10, 10, 10, 8],
        "key_actions": [0, 0, 0, 0],
    })
    csm = pd.DataFrame({
        "account_id": ["A", "A", "B", "D"],
        "date": pd.to_datetime(["2024-01-01", "2025-03-01", "2025-03-01", "2025-03-01"]),
        "executive_relationship": [3, 3, 3, 3],
        "champion_quality": [3, 3, 3, 3],
        "reference_value": [1, 5, 1, 3],
    })
    return acc, usage, csm


# ----------------------------------------------------------------------------- value scores
def test_value_scores_by_hand(four_accounts):
    acc, usage, csm = four_accounts
    s = value_scores(acc, as_of=AS_OF, usage=usage, csm_inputs=csm, weights=VALUE_WEIGHTS)
    assert sorted(s.index) == ["A", "B", "C", "D"]  # E churned, F not started
    # contract value = share of the 4 accounts with MRR at or below: 1/4, 2/4, 3/4, 4/4
    assert s["contract_value"].to_dict() == {"A": 25.0, "B": 50.0, "C": 75.0, "D": 100.0}
    # growth = mean(seat headroom, product headroom vs max 4 products) x 100
    # A: mean(1 - 5/10, 1 - 1/4) = mean(.5, .75) = 62.5 ; B: mean(0, .5) = 25
    # C: no usage -> product headroom only .75 -> 75 ; D: mean(1 - 2/8, 0) = 37.5
    assert s["growth"].to_dict() == pytest.approx({"A": 62.5, "B": 25.0, "C": 75.0, "D": 37.5})
    # beyond revenue: latest reference value 5 -> 100, 1 -> 0, 3 -> 50, C none
    assert s.loc["A", "beyond_revenue"] == 100.0
    assert pd.isna(s.loc["C", "beyond_revenue"])
    # A: 0.6*25 + 0.2*62.5 + 0.2*100 = 15 + 12.5 + 20 = 47.5
    assert s.loc["A", "value_score"] == pytest.approx(47.5)
    # C: beyond revenue missing -> (0.6*75 + 0.2*75) / 0.8 = 75
    assert s.loc["C", "value_score"] == pytest.approx(75.0)
    assert s.loc["C", "components_used"] == "contract_value,growth"
    assert s.loc["A", "components_used"] == "contract_value,growth,beyond_revenue"


def test_value_scores_redistribute_without_csm_inputs(four_accounts):
    acc, usage, _ = four_accounts
    s = value_scores(acc, as_of=AS_OF, usage=usage, csm_inputs=None, weights=VALUE_WEIGHTS)
    # A: (0.6*25 + 0.2*62.5) / 0.8 = 27.5 / 0.8 = 34.375
    assert s.loc["A", "value_score"] == pytest.approx(34.375)
    assert set(s["components_used"]) == {"contract_value,growth"}


def test_value_scores_ignore_records_after_as_of(four_accounts):
    acc, usage, csm = four_accounts
    before = value_scores(acc, as_of=AS_OF, usage=usage, csm_inputs=csm, weights=VALUE_WEIGHTS)
    late_usage = pd.concat([usage, pd.DataFrame({
        "account_id": ["A", "C"], "month": pd.to_datetime(["2025-07-01", "2025-07-01"]),
        "active_users": [10, 1], "licensed_seats": [10, 10], "key_actions": [0, 0]})])
    late_csm = pd.concat([csm, pd.DataFrame({
        "account_id": ["A", "C"], "date": pd.to_datetime(["2025-07-02", "2025-07-02"]),
        "executive_relationship": [1, 1], "champion_quality": [1, 1],
        "reference_value": [1, 5]})])
    after = value_scores(acc, as_of=AS_OF, usage=late_usage, csm_inputs=late_csm,
                         weights=VALUE_WEIGHTS)
    pd.testing.assert_frame_equal(before, after)


def test_look_back_uses_mrr_history_not_todays_mrr():
    # X churned after the look-back date; the CRM now shows its MRR as 0
    acc = _accounts([
        {"account_id": "X", "mrr": 0.0, "status": "churned", "churn_date": "2025-03-31"},
        {"account_id": "Y", "mrr": 200.0},
        {"account_id": "Z", "mrr": 300.0},
    ])
    history = pd.DataFrame({
        "account_id": ["X", "X", "Y", "Z"],
        "month": pd.to_datetime(["2024-05-01", "2024-06-01", "2024-06-01", "2024-06-01"]),
        "mrr": [900.0, 1000.0, 200.0, 300.0],
    })
    past = value_scores(acc, as_of="2024-06-30", mrr=history, weights=VALUE_WEIGHTS)
    assert past.loc["X", "mrr"] == 1000.0  # June 2024, not today's 0
    assert past["contract_value"].idxmax() == "X"
    naive = value_scores(acc, as_of="2024-06-30", weights=VALUE_WEIGHTS)
    assert naive["contract_value"].idxmin() == "X"  # what the history protects against


def test_unknown_value_weight_is_an_error(four_accounts):
    with pytest.raises(ParamsError):
        value_scores(four_accounts[0], as_of=AS_OF, weights={"brand": 1.0})


# ----------------------------------------------------------------------------- value tiers
def test_value_tiers_ten_accounts_give_1_3_6(ten_accounts):
    tiers = value_tiers(value_scores(ten_accounts, as_of=AS_OF, weights=VALUE_WEIGHTS),
                        shares=TIER_SHARES)
    assert tiers.value_counts().to_dict() == {"high": 1, "medium": 3, "low": 6}
    assert tiers["A10"] == "high"
    assert set(tiers[tiers == "medium"].index) == {"A07", "A08", "A09"}
    assert list(tiers.cat.categories) == ["high", "medium", "low"]


def test_value_tiers_tie_break_by_account_id():
    scores = pd.Series(50.0, index=pd.Index([f"X{i}" for i in range(9, -1, -1)],
                                            name="account_id"))
    tiers = value_tiers(scores, shares=TIER_SHARES)
    # all tied: account ids ascending take the top places
    assert tiers["X0"] == "high"
    assert set(tiers[tiers == "medium"].index) == {"X1", "X2", "X3"}
    assert value_tiers(scores.sample(frac=1, random_state=3),
                       shares=TIER_SHARES).sort_index().equals(
        tiers.sort_index())


def test_value_tiers_shares_must_sum_to_one():
    with pytest.raises(ParamsError):
        value_tiers(pd.Series([1.0, 2.0]), shares={"high": 0.5, "low": 0.3})


# ----------------------------------------------------------------------------- concentration
def test_tier_concentration_with_mask(ten_accounts):
    tiers = value_tiers(value_scores(ten_accounts, as_of=AS_OF, weights=VALUE_WEIGHTS),
                        shares=TIER_SHARES)
    churned = pd.Series(True, index=["A08", "A02", "A03"])
    out = tier_concentration(ten_accounts, tiers, churned=churned, small_group_n=30)
    assert list(out.index) == ["high", "medium", "low"]
    assert out["accounts"].tolist() == [1, 3, 6]
    # MRR: high 1000; medium 700+800+900 = 2400; low 100+..+600 = 2100; total 5500
    assert out["mrr"].tolist() == [1000.0, 2400.0, 2100.0]
    assert out.loc["medium", "share_mrr"] == pytest.approx(2400 / 5500)
    assert out["churned_accounts"].tolist() == [0, 1, 2]
    assert out.loc["medium", "churn_rate"] == pytest.approx(1 / 3)
    assert out.loc["low", "churn_rate"] == pytest.approx(2 / 6)
    # MRR lost: medium 800 (A08), low 200 + 300; the middle carries 800 / 1300
    assert out["mrr_lost"].tolist() == [0.0, 800.0, 500.0]
    assert out.loc["medium", "share_mrr_lost"] == pytest.approx(800 / 1300)
    assert out["small_sample"].all()  # < 30 accounts per tier


def test_tier_concentration_with_churn_table_and_window(ten_accounts):
    tiers = value_tiers(value_scores(ten_accounts, as_of=AS_OF, weights=VALUE_WEIGHTS),
                        shares=TIER_SHARES)
    events = pd.DataFrame({
        "account_id": ["A09", "A01", "A05"],
        "churn_date": pd.to_datetime(["2025-08-01", "2025-09-01", "2026-02-01"]),
        "lost_mrr": [850.0, 90.0, 500.0],
    })
    out = tier_concentration(ten_accounts, tiers, churned=events,
                             window=("2025-06-30", "2025-12-31"), small_group_n=30)
    # A05 churned outside the window; lost MRR comes from the table
    assert out["churned_accounts"].tolist() == [0, 1, 1]
    assert out["mrr_lost"].tolist() == [0.0, 850.0, 90.0]
    # MRR at tiering time can be passed in (here: everyone doubled)
    doubled = ten_accounts.set_index("account_id")["mrr"] * 2
    out2 = tier_concentration(ten_accounts, tiers, churned=events, mrr=doubled, small_group_n=30)
    assert out2["mrr"].tolist() == [2000.0, 4800.0, 4200.0]


# ----------------------------------------------------------------------------- lifecycle
def test_lifecycle_stages_by_rule():
    acc = _accounts([
        {"account_id": "L1", "mrr": 100.0},                  # 3 of 6 steps
        {"account_id": "L2", "mrr": 100.0},                  # onboarded, depth 0.3
        {"account_id": "L3", "mrr": 100.0},                  # depth 0.6
        {"account_id": "L4", "mrr": 120.0},                  # depth 0.6, MRR 100 -> 120
        {"account_id": "L5", "mrr": 100.0, "products": 3},   # depth 0.9, 3 products
        {"account_id": "L6", "mrr": 100.0},                  # 6th step after as_of
    ])
    steps = [f"s{i}" for i in range(1, 7)]
    rows = [("L1", s, "2025-01-15") for s in steps[:3]]
    for a in ("L2", "L3", "L4", "L5"):
        rows += [(a, s, "2023-03-01") for s in steps] + [(a, "s1", "2023-04-01")]  # dup step
    rows += [("L6", s, "2025-01-15") for s in steps[:5]] + [("L6", "s6", "2025-07-15")]
    onboarding = pd.DataFrame(rows, columns=["account_id", "step", "completed_date"])
    onboarding["completed_date"] = pd.to_datetime(onboarding["completed_date"])
    usage = pd.DataFrame({
        "account_id": ["L2", "L3", "L4", "L5"],
        "month": pd.Timestamp("2025-06-01"),
        "active_users": [3, 6, 6, 9],
        "licensed_seats": [10, 10, 10, 10],
        "key_actions": 0,
    })
    mrr = pd.DataFrame({
        "account_id": ["L3", "L3", "L4", "L4"],
        "month": pd.to_datetime(["2024-06-01", "2025-06-01", "2024-06-01", "2025-06-01"]),
        "mrr": [100.0, 105.0, 100.0, 120.0],  # L3 +5% (below 10%), L4 +20%
    })
    stages = lifecycle_stage(acc, as_of=AS_OF, onboarding=onboarding, usage=usage, mrr=mrr,
                             **STAGE_RULES)
    assert stages.astype(str).to_dict() == {
        "L1": "Onboarding", "L2": "Adopting", "L3": "Actively using", "L4": "Expanding",
        "L5": "Transformational", "L6": "Onboarding",
    }
    assert list(stages.cat.categories) == list(LIFECYCLE_STAGES)


def test_lifecycle_without_onboarding_uses_tenure():
    acc = _accounts([
        {"account_id": "new", "mrr": 100.0, "start_date": "2025-05-01"},  # 60 days
        {"account_id": "old", "mrr": 100.0, "start_date": "2024-01-01"},
    ])
    stages = lifecycle_stage(acc, as_of=AS_OF, **STAGE_RULES)
    assert stages.astype(str).to_dict() == {"new": "Onboarding", "old": "Adopting"}


# ----------------------------------------------------------------------------- tiers by cut-offs
def test_value_tiers_by_cutoffs():
    scores = pd.Series([70.0, 69.9, 40.0, 39.9, None],
                       index=pd.Index(list("abcde"), name="account_id"))
    tiers = value_tiers(scores, cutoffs={"high": 70, "medium": 40, "low": 0}, shares=TIER_SHARES)
    # minimums are inclusive; the last tier takes the rest, including no score
    assert tiers.astype(str).to_dict() == {"a": "high", "b": "medium", "c": "medium",
                                           "d": "low", "e": "low"}
    assert list(tiers.cat.categories) == ["high", "medium", "low"]
    # cut-offs override shares
    assert value_tiers(scores, shares={"high": 0.5, "low": 0.5},
                       cutoffs={"top": 50, "rest": 0}).astype(str).tolist() == [
        "top", "top", "rest", "rest", "rest"]


def test_value_tier_cutoffs_must_fall():
    with pytest.raises(ParamsError):
        value_tiers(pd.Series([1.0]), cutoffs={"high": 40, "medium": 70, "low": 0},
                    shares=TIER_SHARES)


def test_tier_stability_by_hand():
    cats = pd.CategoricalDtype(["high", "medium", "low"], ordered=True)
    before = pd.Series(["high", "medium", "low", "low", "medium"], index=list("abcde"),
                       dtype=cats)
    after = pd.Series(["high", "high", "low", "medium", "low"], index=list("abcdf"),
                      dtype=cats)
    out = tier_stability(before, after)
    # common accounts a-d: a and c stay; b medium -> high and d low -> medium move up
    assert (out["n"], out["stayed"], out["moved_up"], out["moved_down"]) == (4, 2, 2, 0)
    assert out["share_stayed"] == pytest.approx(0.5)
    m = out["matrix"]
    assert list(m.index) == list(m.columns) == ["high", "medium", "low"]
    assert m.loc["medium", "high"] == 1 and m.loc["low", "medium"] == 1
    assert m.to_numpy().sum() == 4


# ----------------------------------------------------------------------------- lifecycle over time
def test_month_ends():
    assert segments_month_ends("2025-06-15", 2) == [
        pd.Timestamp("2025-04-30"), pd.Timestamp("2025-05-31"), pd.Timestamp("2025-06-15")]


def test_time_in_stage_and_summary_by_hand():
    d = pd.to_datetime(["2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30"])
    history = pd.DataFrame({
        "A": ["Onboarding", "Onboarding", "Adopting", "Adopting"],
        "B": ["Actively using"] * 4,
        "C": [None, "Onboarding", "Onboarding", "Onboarding"],
        "D": ["Actively using", "Expanding", "Actively using", None],  # gone at the end
        "E": ["Expanding", "Actively using", None, "Actively using"],  # gap: back this month
    }, index=d).T
    t = time_in_stage(history)
    assert sorted(t.index) == ["A", "B", "C", "E"]
    assert t["months_in_stage"].to_dict() == {"A": 1, "B": 3, "C": 2, "E": 0}
    assert t["censored"].to_dict() == {"A": False, "B": True, "C": False, "E": False}
    stages = t["stage"].astype(pd.CategoricalDtype(LIFECYCLE_STAGES, ordered=True))
    s = stage_summary(stages, t)
    assert s["accounts"].tolist() == [1, 1, 2, 0, 0]
    assert s.loc["Actively using", "share"] == pytest.approx(0.5)
    assert s.loc["Actively using", "median_months"] == pytest.approx(1.5)  # median(3, 0)
    assert s.loc["Actively using", "share_censored"] == pytest.approx(0.5)
    assert pd.isna(s.loc["Expanding", "median_months"])


def test_stage_history_follows_the_rules_at_each_date():
    acc = _accounts([
        {"account_id": "N", "mrr": 100.0, "start_date": "2025-04-10"},
        {"account_id": "late", "mrr": 100.0, "start_date": "2025-06-01"},
    ])
    steps = [f"s{i}" for i in range(1, 7)]
    onboarding = pd.DataFrame({"account_id": "N", "step": steps,
                               "completed_date": pd.Timestamp("2025-05-20")})
    usage = pd.DataFrame({"account_id": "N", "month": pd.to_datetime(["2025-05-01",
                                                                     "2025-06-01"]),
                          "active_users": [6, 6], "licensed_seats": [10, 10],
                          "key_actions": 0})
    dates = segments_month_ends(AS_OF, 2)
    h = stage_history(acc, dates=dates, onboarding=onboarding, usage=usage, **STAGE_RULES)
    assert list(h.columns) == dates
    assert h.loc["N"].tolist() == ["Onboarding", "Actively using", "Actively using"]
    assert pd.isna(h.loc["late", dates[0]]) and h.loc["late", dates[-1]] == "Onboarding"
    assert time_in_stage(h).loc["N", "months_in_stage"] == 1


def test_key_steps_decide_onboarding():
    acc = _accounts([{"account_id": "K", "mrr": 100.0}])
    onboarding = pd.DataFrame({"account_id": "K", "step": [f"s{i}" for i in range(1, 7)],
                               "completed_date": pd.Timestamp("2024-01-01")})
    stage = lifecycle_stage(acc, as_of=AS_OF, onboarding=onboarding, **STAGE_RULES)
    assert stage.iloc[0] == "Adopting"
    # six steps done, but not the named key step "Go-live"
    stage = lifecycle_stage(acc, as_of=AS_OF, onboarding=onboarding,
                            steps=["s1", "s2", "Go-live"], **STAGE_RULES)
    assert stage.iloc[0] == "Onboarding"


# ----------------------------------------------------------------------------- onboarding
@pytest.fixture
def onboarding_cohort() -> tuple[pd.DataFrame, pd.DataFrame]:
    acc = _accounts([
        {"account_id": "X1", "mrr": 100.0, "start_date": "2025-01-01"},
        {"account_id": "X2", "mrr": 100.0, "start_date": "2025-02-01",
         "status": "churned", "churn_date": "2025-06-01"},   # churned: still in the cohort
        {"account_id": "X3", "mrr": 100.0, "start_date": "2025-03-01"},
        {"account_id": "X4", "mrr": 100.0, "start_date": "2024-06-01"},  # outside the cohort
    ])
    start = acc.set_index("account_id")["start_date"]
    rows = [("X1", "Kickoff", 5), ("X1", "Setup", 20), ("X1", "Setup", 45),  # repeat: first
            ("X1", "Live", 60), ("X2", "Kickoff", 10), ("X2", "Setup", 40),
            ("X3", "Kickoff", 7), ("X3", "Setup", 200),  # after as_of: not counted
            ("X4", "Kickoff", 3), ("X4", "Setup", 10), ("X4", "Live", 30)]
    onboarding = pd.DataFrame(
        [(a, s, start[a] + pd.Timedelta(days=n)) for a, s, n in rows],
        columns=["account_id", "step", "completed_date"])
    return acc, onboarding


def test_onboarding_step_order(onboarding_cohort):
    acc, onboarding = onboarding_cohort
    # median days: Kickoff (5,10,7,3) = 6; Setup (20,40,200,10) = 30; Live (60,30) = 45
    assert onboarding_step_order(acc, onboarding) == ["Kickoff", "Setup", "Live"]
    assert onboarding_step_order(acc, None) == []


def test_onboarding_funnel_by_hand(onboarding_cohort):
    acc, onboarding = onboarding_cohort
    f = onboarding_funnel(acc, onboarding, as_of=AS_OF, started=("2024-12-31", "2025-03-31"))
    assert list(f.index) == ["Kickoff", "Setup", "Live"]
    assert f["accounts"].tolist() == [3, 3, 3]          # X1, X2, X3
    assert f["completed"].tolist() == [3, 2, 1]
    assert f["share_completed"].tolist() == pytest.approx([1.0, 2 / 3, 1 / 3])
    assert f["median_days"].tolist() == pytest.approx([7.0, 30.0, 60.0])  # (5,7,10) (20,40)
    assert f["p75_days"].tolist() == pytest.approx([8.5, 35.0, 60.0])
    # the given order is kept; an unseen step is 0 of 3
    f2 = onboarding_funnel(acc, onboarding, as_of=AS_OF, started=("2024-12-31", "2025-03-31"),
                           steps=["Live", "Kickoff", "Training"])
    assert f2["completed"].tolist() == [1, 3, 0]


def test_stuck_onboarding_by_hand():
    acc = _accounts([
        {"account_id": "S1", "mrr": 100.0, "start_date": "2024-12-12", "name": "One"},  # 200 d
        {"account_id": "S2", "mrr": 900.0, "start_date": "2025-03-22", "name": "Two"},  # 100 d
        {"account_id": "S3", "mrr": 500.0, "start_date": "2025-02-28", "name": "Three"},  # 122
        {"account_id": "S4", "mrr": 800.0, "start_date": "2025-03-02", "name": "Four"},  # 120
        {"account_id": "S5", "mrr": 700.0, "start_date": "2024-01-01", "name": "Five"},
    ])
    stages = pd.Series(["Onboarding"] * 4 + ["Adopting"], index=acc["account_id"]).astype(
        pd.CategoricalDtype(LIFECYCLE_STAGES, ordered=True))
    onboarding = pd.DataFrame({
        "account_id": ["S1", "S1", "S3", "S3"],
        "step": ["Kickoff", "Setup", "Kickoff", "Kickoff"],
        "completed_date": pd.to_datetime(["2024-12-20", "2025-01-15", "2025-03-05",
                                          "2025-03-06"]),
    })
    out = stuck_onboarding(acc, stages, as_of=AS_OF, days=120, onboarding=onboarding)
    # strictly more than 120 days; S5 is past onboarding; largest MRR first
    assert list(out.index) == ["S3", "S1"]
    assert out["days_since_start"].tolist() == [122, 200]
    assert out["steps_done"].tolist() == [1, 2]
    assert out["last_step"].tolist() == ["Kickoff", "Setup"]
    assert out["name"].tolist() == ["Three", "One"]
