"""Title rules and exhibits of the value, lifecycle, health, relationship and CLV section."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from playbook.findings import segments as story

TIERS = ["high", "medium", "low"]


def _no_nan(text: str) -> None:
    assert "nan" not in text.lower().split(), text
    assert " nan" not in f" {text.lower()}", text


def _conc(lost_share, churn=(0.05, 0.15, 0.18), accounts=(10, 30, 60), small=False):
    return pd.DataFrame({
        "accounts": accounts, "share_accounts": np.array(accounts) / sum(accounts),
        "mrr": [500.0, 300.0, 200.0], "share_mrr": [0.5, 0.3, 0.2],
        "churned_accounts": [1, 4, 10], "churn_rate": churn,
        "churn_rate_low": [c - 0.03 for c in churn], "churn_rate_high": [c + 0.03 for c in churn],
        "mrr_lost": [10.0, 50.0, 40.0], "share_mrr_lost": lost_share,
        "mrr_churn_rate": [0.02, 0.16, 0.2], "small_sample": small,
    }, index=pd.Index(TIERS, name="tier"))


# ----------------------------------------------------------------------------- value
def test_pyramid_and_leak_titles():
    assert story.pyramid_title(_conc([0.1, 0.5, 0.4])) == \
        "The top 10% of accounts hold 50% of MRR"
    assert story.tier_leak_title(_conc([0.1, 0.5, 0.4]), "trailing 9 months").startswith(
        "Most lost MRR comes from the middle of the base (medium tier): 50% of it")
    assert story.tier_leak_title(_conc([0.1, 0.3, 0.6]), "trailing 9 months").startswith(
        "Most lost MRR comes from the low tier: 60%")
    assert story.tier_leak_title(_conc([0.0, 0.0, 0.0]), "trailing 9 months") == (
        "No MRR was lost in any value tier over the trailing 9 months")


def test_pyramid_title_skips_an_empty_top_tier():
    conc = _conc([0.0, 0.5, 0.5], accounts=(0, 1, 1)).assign(
        share_accounts=[0.0, 0.5, 0.5], share_mrr=[np.nan, 0.67, 0.33])
    assert story.pyramid_title(conc) == "The top 50% of accounts hold 67% of MRR"
    assert story.pyramid_title(conc.assign(accounts=0)) == "No active accounts to tier"


def test_stability_title_rule():
    stab = {"n": 100, "stayed": 95, "moved_up": 2, "moved_down": 3, "share_stayed": 0.95}
    assert story.stability_title(stab, 0.9, "2026-06-30") == (
        "Tiers are stable: 95% of accounts kept their tier since 30 Jun 2026; 5 accounts "
        "would move")
    stab = {"n": 100, "stayed": 80, "moved_up": 5, "moved_down": 15, "share_stayed": 0.8}
    assert story.stability_title(stab, 0.9, "2026-06-30") == (
        "Tiers are not stable: only 80% of accounts kept their tier since 30 Jun 2026; 15 "
        "would move down and 5 up")
    assert "cannot be judged" in story.stability_title({"n": 0}, 0.9, "2026-06-30")


def test_tier_stability_exhibit():
    m = pd.DataFrame([[9, 1], [2, 8]], index=["high", "low"], columns=["high", "low"])
    spec = story.tier_stability({"matrix": m, "n": 20, "stayed": 17, "moved_up": 2,
                                 "moved_down": 1, "share_stayed": 0.85}, 0.9, "2026-06-30")
    assert list(spec.content.columns) == ["tier on 30 Jun 2026", "now high", "now low",
                                          "kept tier"]
    assert spec.content["kept tier"].tolist() == pytest.approx([0.9, 0.8])


# ----------------------------------------------------------------------------- lifecycle
def _stages(rates, lows, highs, small=None, accounts=None):
    names = ["Onboarding", "Adopting", "Actively using"]
    return pd.DataFrame({"accounts": accounts or [100, 100, 100], "churned_accounts": 10,
                         "churn_rate": rates, "churn_rate_low": lows, "churn_rate_high": highs,
                         "small_sample": small or [False, False, False]},
                        index=pd.Index(names, name="tier"))


def test_stage_churn_title_rule():
    apart = _stages([0.30, 0.15, 0.08], [0.22, 0.10, 0.04], [0.38, 0.22, 0.12])
    assert story.stage_churn_title(apart) == (
        "Accounts in 'Onboarding' at the window's start churned most: 30% against 8% in "
        "'Actively using'")
    overlap = _stages([0.20, 0.15, 0.12], [0.12, 0.09, 0.07], [0.28, 0.22, 0.18])
    assert story.stage_churn_title(overlap).startswith("Churn differs little by lifecycle")
    # a small stage is ignored even when its rate is the highest
    small = _stages([0.60, 0.15, 0.08], [0.30, 0.13, 0.04], [0.85, 0.22, 0.12],
                    small=[True, False, False])
    assert "'Adopting' at the window's start churned most" in story.stage_churn_title(small)
    assert story.stage_churn_title(small.iloc[:2]).startswith("Too few accounts")


def test_lifecycle_title_and_exhibit():
    summary = pd.DataFrame({"accounts": [20, 30, 50], "share": [0.2, 0.3, 0.5],
                            "median_months": [0.6, np.nan, 8.0],
                            "share_censored": [0.0, np.nan, 0.9]},
                           index=pd.Index(["Onboarding", "Adopting", "Actively using"],
                                          name="stage"))
    assert story.lifecycle_title(summary) == (
        "The largest group of accounts is 'Actively using' (50%); 20% are still in "
        "'Onboarding'")
    spec = story.lifecycle(summary, 24)
    assert isinstance(spec.content, Figure)
    texts = [t.get_text() for t in spec.content.axes[0].texts]
    assert " 50 · median at least 8 months in stage" in texts
    assert " 30" in texts  # no time for Adopting: no "nan"
    assert " 20 · median 1 month in stage" in texts  # 0.6 rounds to 1: singular


def test_lifecycle_title_when_most_are_in_the_first_stage():
    summary = pd.DataFrame({"accounts": [8, 2]},
                           index=pd.Index(["Onboarding", "Adopting"], name="stage"))
    assert story.lifecycle_title(summary) == "Most accounts are still in 'Onboarding' (80%)"
    assert story.lifecycle_title(summary.assign(accounts=0)) == (
        "No active accounts to place in the lifecycle")


def test_missing_data_sentences():
    assert "None of the 3 active accounts could be scored" in story.no_health_sentence(3)
    assert story.no_backtest_sentence(0, 24).startswith(
        "No renewal decision in the last 24 months")
    assert "None of the 5 renewal decisions" in story.no_backtest_sentence(5, 24)


def test_stuck_title_and_table():
    assert story.stuck_title(pd.DataFrame({"mrr": []}), 120, "USD") == (
        "No account is still onboarding more than 120 days after it started")
    stuck = pd.DataFrame({"name": [f"N{i}" for i in range(12)], "owner": "Kim",
                          "segment": "SMB", "mrr": [100.0] * 12,
                          "days_since_start": 200, "steps_done": 2, "last_step": np.nan},
                         index=pd.Index([f"A{i}" for i in range(12)], name="account_id"))
    assert story.stuck_title(stuck, 120, "USD") == (
        "12 accounts are still onboarding more than 120 days after starting, holding $1.2K "
        "of MRR")
    spec = story.stuck_table(stuck, 120, "USD", top=10)
    assert len(spec.content) == 10
    assert "Showing 10 of 12 accounts; 2 more not shown ($200 of MRR)." in spec.notes


def test_onboarding_title_rule():
    funnel = pd.DataFrame({"accounts": 100, "completed": [98, 90, 88],
                           "share_completed": [0.98, 0.90, 0.88],
                           "median_days": [5.0, 40.0, 99.0], "p75_days": [8.0, 50.0, 120.0]},
                          index=pd.Index(["Kickoff", "Setup", "Go-live"], name="step"))
    assert story.onboarding_title(funnel) == (
        "88% of new accounts reach 'Go-live' (median 99 days); the largest drop-off "
        "(8 points) comes before 'Setup'")
    # the first step is measured against 100%
    funnel["share_completed"] = [0.80, 0.78, 0.77]
    assert story.onboarding_title(funnel).endswith("(20 points) comes before 'Kickoff'")
    funnel["share_completed"] = [1.0, 1.0, 1.0]
    funnel["median_days"] = np.nan
    title = story.onboarding_title(funnel)
    assert title == "100% of new accounts reach 'Go-live'; no step loses accounts"
    assert story.onboarding_title(funnel.assign(accounts=0)).startswith("No accounts started")


# ----------------------------------------------------------------------------- health
def _mix():
    return pd.DataFrame({"accounts": [100, 40, 10, 150],
                         "share_red": [0.10, 0.25, 0.50, 0.15],
                         "share_yellow": [0.7, 0.6, 0.5, 0.67],
                         "share_green": [0.2, 0.15, 0.0, 0.18],
                         "mrr_red": [1.0, 2.0, 3.0, 6.0]},
                        index=pd.Index(["SMB", "Mid-market", "Enterprise", "All"],
                                       name="segment"))


def test_band_mix_title_ignores_small_groups():
    # Enterprise has the highest red share but only 10 accounts
    assert story.band_mix_title(_mix(), 30) == (
        "Mid-market has the largest red share: 25% of its accounts against 15% overall")
    spec = story.band_mix(_mix(), "USD", 30)
    labels = [t.get_text() for t in spec.content.axes[0].get_yticklabels()]
    assert "Enterprise (n=10, too small)" in labels


def test_examples_title_and_table():
    ex = pd.DataFrame({
        "segment": ["SMB", "SMB"], "health_score": [40.0, 80.0],
        "health_band": ["red", "green"], "mrr": [10.0, 20.0],
        "contrib_usage": [20.0, 30.0], "contrib_nps": [20.0, np.nan],
        "contrib_products": [0.0, 50.0],
    }, index=pd.Index(["a", "b"], name="account_id"))
    names = pd.Series({"a": "Alpha", "b": "Beta"})
    spec = story.health_examples(ex, {"usage": 0.5, "nps": 0.25, "products": 0.25}, "USD",
                                 names)
    assert spec.title == ("Each score adds up from its measures: Beta scores 80 (green), 50 "
                          "points of it from products owned")
    t = spec.content
    assert list(t.columns) == ["account (segment)", "usage 50%", "NPS 25%", "products 25%",
                               "score", "band"]
    assert t["account (segment)"].tolist() == ["Alpha (SMB)", "Beta (SMB)"]
    assert np.isnan(t.loc[1, "NPS 25%"])


# ----------------------------------------------------------------------------- backtest
def _outcomes(red=0.72, green=0.94):
    return pd.DataFrame({"n": [150, 1300, 200, 1650], "renewal_rate": [red, 0.83, green, 0.84],
                         "churn_rate_low": [0.2, 0.15, 0.03, 0.15],
                         "churn_rate_high": [0.35, 0.19, 0.1, 0.18],
                         "small_sample": False},
                        index=pd.Index(["red", "yellow", "green", "total"]))


def test_backtest_title_rule():
    good = {"auc": 0.64, "low": 0.61, "high": 0.68}
    assert story.backtest_title(_outcomes(), good, 0.6) == (
        "The health score predicts renewal (AUC 0.64): red accounts renewed at 72% against "
        "94% for green")
    weak = {"auc": 0.56, "low": 0.52, "high": 0.60}
    assert story.backtest_title(_outcomes(), weak, 0.6).startswith(
        "The health score predicts renewal only weakly (AUC 0.56)")
    none = {"auc": 0.53, "low": 0.48, "high": 0.58}
    assert story.backtest_title(_outcomes(), none, 0.6) == (
        "The health score does not predict renewal: AUC 0.53, its interval includes 0.50 "
        "(a coin toss)")
    # a high AUC with an interval crossing 0.5 (few decisions) is not "predicts"
    assert not story.predicts({"auc": 0.7, "low": 0.45}, 0.6)
    missing = story.backtest_title(_outcomes(), {"auc": np.nan}, 0.6)
    assert missing == "Too few scored renewal decisions to test the health score"


def test_backtest_exhibit_shows_renewal_rates():
    spec = story.backtest_bands(_outcomes(), {"auc": 0.64, "low": 0.61, "high": 0.68}, 0.6,
                                24, 90)
    assert "AUC 0.64 (95% interval 0.61-0.68)" in spec.notes
    assert spec.n == 1650


def _signal():
    return pd.DataFrame({"weight": [0.5, 0.5], "n": [100, 80], "auc": [0.55, 0.65],
                         "auc_low": [0.5, 0.6], "auc_high": [0.6, 0.7],
                         "mean_points": [10.0, 10.0]},
                        index=pd.Index(["usage", "executive_relationship"], name="measure"))


def test_signal_title_rule():
    cv = {"auc_current": {"auc": 0.60}, "auc_proposed": {"auc": 0.66}}
    assert story.signal_title(_signal(), cv) == (
        "Executive relationship carried most of the signal (AUC 0.65 alone); regression "
        "weights would lift the AUC from 0.60 to 0.66")
    cv = {"auc_current": {"auc": 0.64}, "auc_proposed": {"auc": 0.65}}
    assert story.signal_title(_signal(), cv).endswith(
        "would not do much better (AUC 0.65 against 0.64)")
    assert story.signal_title(_signal(), None) == (
        "Executive relationship carried most of the signal (AUC 0.65 alone)")


def test_measure_table_and_weights_sentence():
    reg = {"weights": {"usage": 0.2, "executive_relationship": 0.8},
           "coefficients": pd.DataFrame({"odds_ratio": [1.1, 1.2], "or_low": [1.0, 1.1],
                                         "or_high": [1.2, 1.3]},
                                        index=["usage", "executive_relationship"]),
           "n": 180, "error": None}
    cv = {"folds": 5, "auc_current": {"auc": 0.60, "low": 0.55, "high": 0.65},
          "auc_proposed": {"auc": 0.66, "low": 0.61, "high": 0.71}}
    spec = story.measure_signal(_signal(), reg, cv)
    t = spec.content
    assert t["proposed weight"].tolist() == [0.2, 0.8]
    assert t["OR 95%"].tolist() == ["1.00-1.20", "1.10-1.30"]
    weights = {"usage": 0.5, "executive_relationship": 0.5}
    good = {"auc": 0.70, "low": 0.65}
    keep = story.weights_sentence(reg, cv, weights, good, 0.65, 0.05)
    assert keep.startswith("The score predicts renewal as weighted.")
    assert "usage 50% to 20%" in keep and "(AUC 0.60 to 0.66" in keep
    weak = {"auc": 0.60, "low": 0.55}
    change = story.weights_sentence(reg, cv, weights, weak, 0.65, 0.05)
    assert change.startswith("As weighted, the score predicts renewal only weakly (AUC 0.60, "
                             "below the 0.65")
    assert "We propose the regression's weights" in change
    small_gain = {**cv, "auc_proposed": {"auc": 0.61, "low": 0.56, "high": 0.66}}
    no_fix = story.weights_sentence(reg, small_gain, weights, weak, 0.65, 0.05)
    assert "Reweighting alone would not fix it" in no_fix
    # the gain needed is health.reweight_min_gain: 0.04 is enough at 0.02, not at 0.05
    # (the recommendations read the same parameter; the two must not disagree)
    mid_gain = {**cv, "auc_proposed": {"auc": 0.64, "low": 0.59, "high": 0.69}}
    assert "We propose" in story.weights_sentence(reg, mid_gain, weights, weak, 0.65, 0.02)
    assert "would not fix it" in story.weights_sentence(reg, mid_gain, weights, weak, 0.65,
                                                        0.05)
    # an AUC that rounds onto the threshold is written so that it reads below it
    edge = story.weights_sentence(reg, cv, weights, {"auc": 0.648, "low": 0.62}, 0.65, 0.05)
    assert "only weakly (AUC 0.648, below the 0.65" in edge
    chance = story.weights_sentence(reg, cv, weights, {"auc": 0.52, "low": 0.47}, 0.65,
                                    0.05)
    assert chance.startswith("As weighted, the score does not predict renewal (AUC 0.52).")
    failed = story.weights_sentence({"weights": {}, "error": "too few"}, None, weights,
                                    {"auc": np.nan}, 0.65, 0.05)
    assert "gave no usable weights (too few)" in failed
    for text in (keep, change, no_fix, chance, failed):
        _no_nan(text)


# ----------------------------------------------------------------------------- relationships
def _at_risk():
    return pd.DataFrame({
        "name": ["Big", "Mid", "Small"], "owner": ["Kim", "Lee", "Kim"],
        "mrr": [900.0, 500.0, 100.0], "flags": [1, 2, 3],
        "flag_renewal_no_exec": pd.array([False, True, True], dtype="boolean"),
        "flag_single_threaded": pd.array([True, True, True], dtype="boolean"),
        "flag_adoption_no_users": pd.array([False, False, pd.NA], dtype="boolean"),
        "flag_drop_no_user_contact": pd.array([False, False, True], dtype="boolean"),
        "strong_user_relationships": [1, 0, 2], "exec_relationships": [2, 1, 0],
        "strong_exec_relationships": [1, 0, 0],
        "days_since_user_contact": [3.0, np.nan, 40.0], "days_since_exec_contact": [5.0, 20.0,
                                                                                    np.nan],
    }, index=pd.Index(["a", "b", "c"], name="account_id"))


def test_at_risk_title_and_table():
    risk = _at_risk()
    assert story.at_risk_title(risk, "USD") == (
        "2 accounts carry two or more relationship flags, holding $600 of MRR")
    one = risk.assign(flags=1)
    assert story.at_risk_title(one, "USD").startswith(
        "No account carries more than one relationship flag; the 3 flagged accounts hold")
    assert story.at_risk_title(risk.iloc[:0], "USD") == (
        "No active account carries a relationship-risk flag")
    spec = story.at_risk_table(risk, "USD", top=1)
    t = spec.content
    # only accounts with two or more flags, largest MRR first; <NA> is not a flag
    assert t["account"].tolist() == ["Mid"]
    assert t["flags"].tolist() == ["renewal, 1-thread"]
    assert t["days since contact: user / exec"].tolist() == ["never / 20"]
    assert t["exec rel. (strong)"].tolist() == ["1 (0)"]
    assert "Showing 1 of 2 accounts with two or more flags; 1 more not shown ($100 of MRR)." \
        in spec.notes


def test_flags_table():
    summary = pd.DataFrame({"accounts": [3, 1], "undecided": [0, 2], "mrr": [1500.0, 100.0],
                            "share_mrr": [0.9, 0.1], "owners": ["Kim (2)", "Lee (1)"]},
                           index=["flag_single_threaded", "flag_adoption_no_users"])
    flags = _at_risk()
    spec = story.flags_table(summary, flags, flags["mrr"], "USD")
    assert spec.title == ("3 of 3 active accounts carry a relationship-risk flag, holding "
                          "$1.5K of MRR")
    assert spec.content["suggested action"].tolist() == [
        story.FLAG_ACTIONS["flag_single_threaded"], story.FLAG_ACTIONS["flag_adoption_no_users"]]
    assert "2 flag checks could not be decided" in spec.notes


# ----------------------------------------------------------------------------- CLV
def _clv(clv=(870_000.0, 170_000.0, 24_000.0), withheld=("", "", ""),
         simple=(np.nan, 500_000.0, 60_000.0)):
    return pd.DataFrame({"accounts": [10, 30, 60], "arpa": [27_000.0, 6_700.0, 1_000.0],
                         "base_accounts": [9, 28, 55], "churned": [0, 6, 10],
                         "annual_churn": [0.05, 0.14, 0.18], "survival_end": [0.8, 0.5, 0.4],
                         "withheld": list(withheld), "clv": clv,
                         "clv_total": np.array(clv) * [10, 30, 60], "simple_clv": simple},
                        index=pd.Index(TIERS, name="tier"))


def test_clv_title_rule():
    assert story.clv_title(_clv(), "USD", 60) == (
        "A high-tier account is worth $870K of margin over 5 years, 36 times a low-tier "
        "account")
    none = ("no account of the tier churned, and a lifetime from zero churn is infinite",) * 3
    assert story.clv_title(_clv((np.nan, np.nan, np.nan), withheld=none), "USD", 60) == (
        "Lifetime value is not given for any tier: no tier's churn rests on enough churned "
        "accounts")
    spec = story.clv_table(_clv(), "USD", 60, 120)
    assert "A dash in the rule of thumb: the lifetime it implies" in spec.notes
    assert spec.content["churned / base accounts"].tolist() == ["0 / 9", "6 / 28", "10 / 55"]
    text = story.clv_assumptions(gross_margin=0.75, discount_rate=0.1, horizon_months=60,
                                 window=("2025-09-01", "2026-09-01"), months=12, min_churned=5,
                                 total=None, currency="USD")
    assert "gross margin 75%" in text and "10% a year" in text and "60 months" in text
    assert "accounts paying in Sep 2025" in text and "no longer paid in Sep 2026" in text
    assert "not given: it needs every tier's CLV" in text and "worth $" not in text
    _no_nan(text)


def test_a_withheld_tier_is_named_never_valued():
    """A tier with zero churn (#18: a CLV of $27.6M from 0% churn) prints a dash and why."""
    why = "no account of the tier churned, and a lifetime from zero churn is infinite"
    table = _clv((np.nan, 170_000.0, 24_000.0), withheld=(why, "", ""),
                 simple=(np.nan, 500_000.0, 60_000.0))
    title = story.clv_title(table, "USD", 60)
    assert title == ("A medium-tier account is worth $170K of margin over 5 years, 7 times a "
                     "low-tier account; the high tier is not valued")
    spec = story.clv_table(table, "USD", 60, 120)
    assert f"A dash in CLV: the high tier's CLV is withheld ({why})." in spec.notes
    assert np.isnan(spec.content["CLV, NPV of margin (USD)"].iloc[0])
