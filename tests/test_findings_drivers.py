"""Title and sentence rules of the renewal-driver section (playbook.findings.drivers)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest

from playbook.findings import drivers as story

matplotlib.use("Agg")

#: Verbs that would claim a cause (comparatives such as "lower" are fine).
CAUSAL = re.compile(r"\b(causes?|caused|drives|raises|lowers|adds|increases|reduces|"
                    r"improves|leads? to|because of|makes?)\b", re.I)


def _coefs(rows: dict[str, tuple[float, float, float, float, str]]) -> pd.DataFrame:
    """term -> (odds ratio, low, high, ame, unit)."""
    out = pd.DataFrame(
        [(t.split("[")[0], u, np.log(o), o, lo, hi, a, a - 0.03, a + 0.03)
         for t, (o, lo, hi, a, u) in rows.items()],
        columns=["feature", "unit", "coef", "odds_ratio", "or_low", "or_high", "ame",
                 "ame_low", "ame_high"],
        index=pd.Index(list(rows), name="term"))
    out["p_value"] = 0.5
    return out


def _model(coefs: pd.DataFrame, **checks) -> SimpleNamespace:
    base = {
        "class_balance": {"n": 1000, "renewed": 840, "not_renewed": 160, "share_renewed": 0.84},
        "events_per_feature": {"value": 20.0, "minimum": 10.0, "below_minimum": False,
                               "removed": []},
        "vif": {"exec_sponsor": 1.4, "products": 2.1},
        "vif_dropped": {},
        "separation": {"detected": False, "reasons": []},
        "rows_dropped_missing": 0,
        "warnings": [],
    }
    base.update(checks)
    return SimpleNamespace(coefficients=coefs, checks=base, n=1000, events=160,
                           events_per_feature=20.0, method="mle",
                           features=list(dict.fromkeys(coefs["feature"])))


MIXED = _coefs({
    "exec_sponsor": (2.4, 1.6, 3.5, 0.094, "has an executive sponsor vs not"),
    "usage_decline": (0.38, 0.26, 0.57, -0.143, "active users fell vs did not"),
    "segment[Mid-market]": (0.53, 0.33, 0.85, -0.08, "vs SMB"),
    "seat_utilisation": (1.0, 0.93, 1.07, -0.0001, "per 10 percentage points"),
    "nps_detractor": (0.77, 0.54, 1.08, -0.034, "detractor vs not"),
})


def _no_nan(text: str) -> None:
    assert "nan" not in text.lower().split(), text
    assert " nan" not in f" {text.lower()}", text


# ----------------------------------------------------------------------------- forest


def test_forest_title_names_the_strongest_significant_driver_without_causal_words() -> None:
    # issue 18: "strongest" only when the leader's |AME| interval (here +-3 points) clears
    # every other significant driver's: exec sponsor's 9.4 +- 3 reaches usage decline's
    # 14.3 - 3, so in MIXED the two are named together; at 5 +- 3 usage decline stands alone
    title = story.forest_title(_model(MIXED))
    assert title.startswith("Usage decline (3 months) and Executive sponsor go with the "
                            "largest changes in renewal (−14 and +9.4 points); their "
                            "intervals overlap")
    assert not CAUSAL.search(title)
    apart = MIXED.copy()
    apart.loc["exec_sponsor", ["ame", "ame_low", "ame_high"]] = [0.05, 0.02, 0.08]
    title = story.forest_title(_model(apart))
    assert title.startswith("Usage decline (3 months) is the strongest warning sign")
    assert "14 points" in title and "3 of 5 drivers are significant" in title
    assert not CAUSAL.search(title)
    positive = MIXED.drop(index=["usage_decline", "segment[Mid-market]"])
    title = story.forest_title(_model(positive))
    assert title.startswith("Executive sponsor goes with the largest lift in renewal, 9.4 "
                            "points")
    assert not CAUSAL.search(title)


def test_forest_title_when_nothing_is_significant() -> None:
    flat = MIXED.assign(or_low=0.8, or_high=1.25)
    assert story.forest_title(_model(flat)) == (
        "No driver is significant: every odds-ratio interval crosses 1")
    penalised = MIXED.assign(or_low=np.nan, or_high=np.nan)
    assert "no intervals" in story.forest_title(_model(penalised))


def test_forest_exhibit_builds_also_for_a_penalised_fit() -> None:
    spec = story.forest(_model(MIXED), cutoff_days=90)
    _no_nan(spec.title)
    spec = story.forest(_model(MIXED.assign(or_low=np.nan, or_high=np.nan)), cutoff_days=90)
    _no_nan(spec.title)


def test_effects_in_plain_words_ranked_with_not_significant_wording() -> None:
    text = story.effects_markdown(_model(MIXED))
    lines = text.splitlines()
    assert "not proof that changing a driver would change the outcome" in lines[0]
    bullets = [ln for ln in lines if ln.startswith("- **")]
    # significant drivers one by one, largest absolute effect first
    assert [b.split("**")[1] for b in bullets] == [
        "A fall in active users over the three months before",
        "Having an executive sponsor",
        "Being a Mid-market account rather than SMB",
    ]
    assert "14 points lower" in bullets[0] and "9.4 points higher" in bullets[1]
    last = lines[-1]
    assert last.startswith("- Not significant (the 95% interval of the odds ratio crosses 1)")
    assert last.index("NPS detractor") < last.index("Seat utilisation")
    assert "(0.0 pts)" in last  # a tiny effect is not printed as "-0.0"
    body = "\n".join(lines[1:])
    assert not CAUSAL.search(body)
    _no_nan(text)


def test_effects_when_nothing_is_significant() -> None:
    text = story.effects_markdown(_model(MIXED.assign(or_low=0.5, or_high=2.0)))
    assert "distinguishable from zero" in text
    assert "- **" not in text


# ----------------------------------------------------------------------------- checks


def test_checks_title_all_pass_or_names_the_problems() -> None:
    # issue 18: the leakage guard is the fifth check of the title (a record from before
    # the guard has no leakage entry: its title still counts four)
    ok = story.check_rows(_model(MIXED), {"skipped": {}})
    assert story.checks_title(ok).startswith("All four model checks pass")
    clean = {"excluded": {}, "auc": {}, "recorded_after": {}, "max_auc": 0.95, "kept": []}
    ok = story.check_rows(_model(MIXED, leakage=clean), {"skipped": {}})
    assert story.checks_title(ok) == (
        "All five model checks pass: outcomes balanced enough, enough events per feature, "
        "no collinearity, no perfect prediction, no sign of leakage")
    bad = _model(MIXED, vif_dropped={"contract_value": 14.2},
                 separation={"detected": True, "reasons": ["huge coefficients"]})
    rows = story.check_rows(bad, {"skipped": {"last_csat": "no surveys"}})
    title = story.checks_title(rows)
    assert title.startswith("2 of 4 model checks flagged a problem")
    assert "collinearity (vif)" in title and "separation / perfect prediction" in title
    action = rows.set_index("check")["action"]
    assert action["Collinearity (VIF)"].startswith("dropped Contract value (+1 SD) (VIF 14.2)")
    assert action["Separation / perfect prediction"].startswith("penalised (L1) fit")
    assert "Features not built" in set(rows["check"])
    left = story.check_rows(_model(MIXED), {}, None, {"tenure_years": "left out: why"})
    row = left.set_index("check").loc["Feature left out by rule"]
    assert (row["found"], row["action"]) == ("Tenure (per year)", "left out: why")


def test_checks_report_the_short_history_rule() -> None:
    history = {"data_start": pd.Timestamp("2023-10-01"), "first_cutoff":
               pd.Timestamp("2024-03-29"), "lookback_days": 180, "excluded": 463,
               "kept": 1803, "excluded_not_renewed": 91}
    rows = story.check_rows(_model(MIXED), {}, history).set_index("check")
    assert rows.loc["History before the data", "found"].startswith("463 decisions")
    sentence = story.history_sentence(history, 2266)
    assert sentence.startswith("463 of 2,266 renewal decisions (91 of them non-renewals) "
                               "are left out")
    assert "Oct 2023" in sentence and "29 Mar 2024" in sentence
    none = story.history_sentence({**history, "excluded": 0}, 1803)
    assert none.startswith("Every one of the 1,803 decisions")


# ----------------------------------------------------------------------------- quality


@pytest.mark.parametrize(("auc", "words"), [
    (0.80, "ranks renewal risk well"),
    (0.70, "moderately well"),
    (0.60, "weakly"),
    (0.52, "no better than chance"),
])
def test_lift_title_follows_the_auc(auc: float, words: str) -> None:
    lift = pd.DataFrame({"decile": [1, 2], "lift": [2.3, 0.5]})
    title = story.lift_title({"auc": auc}, lift)
    assert words in title
    if auc >= 0.55:
        assert "churned at 2.3 times the average rate" in title


def test_lift_title_without_auc() -> None:
    assert story.lift_title({"auc": float("nan")}) == (
        "Too few decisions to cross-validate the model")


def _cal(pred: list[float], low: list[float], high: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"bin": range(1, len(pred) + 1), "n": 100, "mean_predicted": pred,
                         "observed_rate": pred, "ci_low": low, "ci_high": high})


def test_calibration_title_match_or_direction() -> None:
    good = _cal([0.6, 0.8, 0.9], [0.5, 0.7, 0.85], [0.7, 0.9, 0.95])
    title = story.calibration_title(good, {"brier_skill": 0.08})
    assert title.startswith("Predicted renewal probabilities match observed rates: 3 of 3")
    assert "8% better than the base rate" in title
    optimistic = _cal([0.6, 0.8, 0.9], [0.4, 0.6, 0.7], [0.5, 0.7, 0.85])
    assert "too optimistic in 3 of 3 bins" in story.calibration_title(optimistic, {})
    pessimistic = _cal([0.6, 0.8, 0.9], [0.7, 0.85, 0.92], [0.8, 0.9, 0.99])
    assert "too pessimistic" in story.calibration_title(pessimistic, {"brier_skill": None})
    assert story.calibration_title(good, {"brier_skill": -0.001}).endswith(
        "the Brier score is no better than the base rate's")
    assert "3% worse" in story.calibration_title(good, {"brier_skill": -0.03})


# ----------------------------------------------------------------------------- survival


def _summary(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"group": g, "n": 200, "n_events": 50, "survival_24m": s,
                          "low_24m": lo, "high_24m": hi, "at_risk_24m": 60}
                         for g, s, lo, hi in rows])


def test_survival_title_names_the_lowest_segments_or_says_no_clear_difference() -> None:
    clear = _summary([("All accounts", 0.7, 0.65, 0.75), ("SMB", 0.66, 0.6, 0.72),
                      ("Mid-market", 0.67, 0.6, 0.72), ("Enterprise", 0.91, 0.8, 0.96)])
    assert story.survival_title(clear, 24) == (
        "SMB and Mid-market keep the fewest customers: 66%–67% are still customers after 2 "
        "years, against 91% in Enterprise")
    single = _summary([("SMB", 0.5, 0.45, 0.55), ("Enterprise", 0.9, 0.8, 0.95)])
    assert story.survival_title(single, 24).startswith("SMB keeps the fewest customers: 50%")
    close = _summary([("SMB", 0.66, 0.6, 0.72), ("Enterprise", 0.7, 0.6, 0.8)])
    assert story.survival_title(close, 24).startswith(
        "Retention after 2 years does not differ clearly between segments")
    assert story.survival_title(close, None).startswith("Too few accounts")


# ----------------------------------------------------------------------------- Cox


def _compare(verdicts: list[str], logit_sig: list[bool], same: list[bool]) -> pd.DataFrame:
    idx = [f"f{i}" for i in range(len(verdicts))]
    return pd.DataFrame({"verdict": verdicts, "logit_significant": logit_sig,
                         "same_direction": same, "odds_ratio": 1.5, "or_low": 1.1,
                         "or_high": 2.0, "hazard_ratio": 0.7, "hr_low": 0.5, "hr_high": 0.9},
                        index=idx)


def test_cox_title_rules() -> None:
    both = "both significant, same direction"
    all_ok = _compare([both, both, "neither significant"], [True, True, False],
                      [True, True, True])
    assert story.cox_title(all_ok) == (
        "The survival model confirms all 2 significant drivers, each in the same direction")
    some = _compare([both, "only the logistic model"], [True, True], [True, True])
    assert story.cox_title(some) == (
        "The survival model confirms 1 of the 2 significant drivers; 2 of 2 point the same "
        "way")
    contra = _compare([both, "both significant, opposite directions"], [True, True],
                      [True, False])
    assert story.cox_title(contra).startswith(
        "The survival model contradicts the logistic model on 1 driver: F1")
    none = _compare(["neither significant"], [False], [True])
    assert story.cox_title(none) == "Neither model finds a significant driver of churn"


# ----------------------------------------------------------------------------- open book


def test_open_book_title_rules() -> None:
    assert story.open_book_title({"renewals_due": 0}, 90, "USD") == (
        "No renewal falls due in the next 90 days")
    calm = {"renewals_due": 40, "accounts_at_risk": 0, "mrr_due": 250000.0}
    assert story.open_book_title(calm, 90, "USD") == (
        "None of the 40 renewals due in the next 90 days is at risk; together they hold "
        "$250K of MRR")
    risky = {"renewals_due": 291, "accounts_at_risk": 57, "mrr_at_risk": 153291.0}
    assert story.open_book_title(risky, 90, "USD") == (
        "57 of the 291 renewals due in the next 90 days are at risk, holding $153K of MRR")
    missing = {**risky, "mrr_at_risk": float("nan")}
    _no_nan(story.open_book_title(missing, 90, "USD"))


def test_reason_text_in_plain_words() -> None:
    assert story.reason_text({"feature": "exec_sponsor", "value": False},
                             currency="USD", contact_cap=None) == "no exec sponsor"
    assert story.reason_text({"feature": "usage_decline", "value": True},
                             currency="USD", contact_cap=None) == "usage fell"
    assert story.reason_text({"feature": "days_since_exec_contact", "value": 180.0},
                             contact_cap=180, currency="USD") == "no exec contact 180+ days"
    assert story.reason_text({"feature": "days_since_user_contact", "value": 45.0},
                             contact_cap=180, currency="USD") == "45 days since user contact"
    assert story.reason_text({"feature": "segment", "column": "segment[Mid-market]",
                              "value": "Mid-market"},
                             currency="USD", contact_cap=None) == "Mid-market"
    assert story.reason_text({"feature": "products", "value": 1},
                             currency="USD", contact_cap=None) == "1 product"
    assert story.reason_text({"feature": "log2_contract_value", "value": 13.0},
                             currency="USD", contact_cap=None) == (
        "contract $8.2K")
    assert story.reason_text({"feature": "seat_utilisation", "value": None},
                             currency="USD", contact_cap=None) == (
        "Seat utilisation (+10 pts)")


def test_open_book_exhibit_lists_accounts_and_reasons() -> None:
    book = pd.DataFrame({
        "account_id": ["a", "b"],
        "decision_date": pd.to_datetime(["2026-10-05", "2026-11-20"]),
        "p_renew": [0.52, np.nan], "mrr": [10000.0, 500.0], "expected_loss": [4800.0, np.nan],
        "at_risk": [False, False],  # none below the line: the largest expected losses
        "reasons": [[{"column": "usage_decline", "feature": "usage_decline", "value": True,
                      "log_odds": -0.8}], []],
        "missing_features": ["", "nps_detractor"],
    })
    accounts = pd.DataFrame({"account_id": ["a", "b"], "name": ["Alpha", None],
                             "owner": ["Kim", "Lee"]})
    summary = {"renewals_due": 2, "scored": 1, "accounts_at_risk": 1, "mrr_due": 10500.0,
               "mrr_at_risk": 10000.0, "expected_mrr_loss": 4800.0,
               "expected_non_renewals": 0.48}
    spec = story.open_book(book, summary, accounts, "USD", 90, 0.75, rows=12, contact_cap=None)
    table = spec.content
    assert list(table["account"]) == ["Alpha", "b"]
    assert list(table["pulling it down"]) == ["usage fell", "–"]
    assert spec.title == "1 of the 2 renewals due in the next 90 days are at risk, holding " \
                         "$10K of MRR"
    _no_nan(spec.notes)


def test_open_book_lists_the_accounts_at_risk_first_and_counts_the_rest() -> None:
    book = pd.DataFrame({
        "account_id": list("abcde"),
        "decision_date": pd.to_datetime(["2026-10-05"] * 5),
        "p_renew": [0.9, 0.6, 0.95, 0.5, 0.7],
        "mrr": [90000.0, 1000.0, 80000.0, 2000.0, 500.0],
        "at_risk": [False, True, False, True, True],
        "reasons": [[]] * 5, "missing_features": [""] * 5,
    }).assign(expected_loss=lambda b: b["mrr"] * (1 - b["p_renew"]))
    book = book.sort_values("expected_loss", ascending=False)
    accounts = pd.DataFrame({"account_id": list("abcde"), "name": list("ABCDE"),
                             "owner": ["Kim"] * 5})
    summary = {"renewals_due": 5, "scored": 5, "accounts_at_risk": 3, "mrr_due": 173500.0,
               "mrr_at_risk": 3500.0, "expected_mrr_loss": 14000.0,
               "expected_non_renewals": 1.35}
    spec = story.open_book(book, summary, accounts, "USD", 90, 0.75, rows=2, contact_cap=None)
    assert list(spec.content["account"]) == ["D", "B"]   # at risk, largest expected loss
    assert spec.notes.startswith("1 more at risk not shown")
    assert "at risk (predicted renewal probability below 75%)" in spec.subtitle
    calm = book.assign(at_risk=False)
    spec = story.open_book(calm, {**summary, "accounts_at_risk": 0}, accounts, "USD", 90,
                           0.75, rows=2, contact_cap=None)
    assert list(spec.content["account"]) == ["A", "C"]   # none at risk: largest losses


def test_ph_sentence_rules() -> None:
    ok = pd.DataFrame({"rho": [0.01], "p_value": [0.6], "violates": [False]},
                      index=["exec_sponsor"])
    assert story.ph_sentence(ok).startswith("Proportional hazards hold")
    bad = pd.DataFrame({"rho": [-0.3, 0.02], "p_value": [0.0001, 0.7],
                        "violates": [True, False]}, index=["usage_decline", "products"])
    assert story.ph_sentence(bad) == (
        "Proportional hazards do not hold for Usage decline (3 months) (fades with tenure, "
        "p < 0.001): read its hazard ratio as an average over tenure (Harrell's test on "
        "Schoenfeld residuals).")
    assert "could not be checked" in story.ph_sentence(None)


def test_open_book_caveat_only_without_a_significant_driver() -> None:
    none = pd.DataFrame({"or_low": [0.6, 0.9], "or_high": [1.4, 1.2]}, index=["a", "b"])
    some = pd.DataFrame({"or_low": [1.2, 0.9], "or_high": [2.4, 1.2]}, index=["a", "b"])
    due = {"renewals_due": 84}
    text = story.open_book_caveat(none, 0.55, due, 0.75)
    assert "no driver is significant" in text and "(55%, below the 75% line)" in text
    assert story.open_book_caveat(some, 0.55, due, 0.75) == ""
    assert story.open_book_caveat(none, 0.55, {"renewals_due": 0}, 0.75) == ""
