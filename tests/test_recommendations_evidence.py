"""Recommendations follow their evidence (#18, point 5): expected loss beside exposure, no
advice that its own exhibit contradicts, exhibits cited, renewals after the as-of date only,
money as executives read it. Each fixture is built to trigger one rule."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from playbook import appendix
from playbook import recommendations as rec
from playbook.analyses import drivers as d
from playbook.facts import Facts, facts_from_results
from playbook.findings import drivers as story
from playbook.summary import key_figures

LIMITS = rec.Limits(unknown_reason_share=0.20, health_auc_floor=0.65, reweight_min_gain=0.05)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _table(signal: float, n: int = 1500, seed: int = 11) -> pd.DataFrame:
    """Renewal decisions whose log-odds move by ``signal`` per unit of ``x`` (0: pure
    noise, the outcome is independent of every feature)."""
    rng = np.random.default_rng(seed)
    t = pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n)})
    t["renewed"] = (rng.random(n) < _sigmoid(1.0 + signal * t["x"])).astype(int)
    return t


# ------------------------------------------------------------------ model versus chance
@pytest.mark.parametrize(("signal", "ranks"), [(0.0, False), (1.5, True)])
def test_the_model_beats_chance_only_with_a_planted_signal(signal: float, ranks: bool) -> None:
    t = _table(signal)
    quality = d.cross_validated_quality(t, ["x", "z"], folds=5, seed=7)
    assert d.model_beats_chance(quality, margin=0.05) is ranks


def test_the_lowest_fold_decides_and_no_quality_is_no_ranking() -> None:
    assert d.model_beats_chance({"auc": 0.49, "auc_by_fold": [0.41, 0.57, 0.50]}, 0.05) is False
    assert d.model_beats_chance({"auc": 0.62, "auc_by_fold": [0.54, 0.70]}, 0.05) is False
    assert d.model_beats_chance({"auc": 0.72, "auc_by_fold": [0.68, 0.76]}, 0.05) is True
    assert d.model_beats_chance(None, 0.05) is False


def _chance_facts() -> Facts:
    # RavenStack's case: every renewal due "at risk" under a model at chance
    return Facts(model_ranks=False, driver_auc=0.49, renewals_due=84, at_risk_accounts=84,
                 mrr_at_risk=1_666_202.0, mrr_due=1_666_202.0, expected_mrr_loss=1_400_000.0)


def test_a_model_at_chance_gets_no_save_plans_but_a_review_of_every_renewal() -> None:
    recs = rec.recommendations(_chance_facts(), LIMITS)
    rules = [r.rule for r in recs]
    assert "save-renewals-at-risk" not in rules
    (review,) = [r for r in recs if r.rule == "review-renewals-due"]
    assert review.action.startswith("Review every renewal due in the next 90 days (84)")
    assert "cannot rank" in review.action and "0.49" in review.action
    assert review.mrr_exposed == 1_666_202.0 and review.mrr_at_stake == 1_400_000.0
    (why,) = [w for w in rec.not_advised(_chance_facts(), LIMITS)
              if w.rule == "save-renewals-at-risk"]
    assert "no better than chance" in why.reason


def test_a_model_at_chance_shows_no_renewals_at_risk_among_the_key_figures() -> None:
    labels = [k.label for k in key_figures(_chance_facts())]
    assert "Renewals at risk" not in labels and "MRR at risk" not in labels
    ranking = Facts(model_ranks=True, renewals_due=84, at_risk_accounts=9, mrr_at_risk=5e4)
    labels = [k.label for k in key_figures(ranking)]
    assert "Renewals at risk" in labels and "MRR at risk" in labels


def test_save_plans_when_the_model_ranks() -> None:
    f = Facts(model_ranks=True, renewals_due=291, at_risk_accounts=57, mrr_at_risk=153_291.0,
              at_risk_expected_loss=48_000.0)
    (only,) = rec.recommendations(f, LIMITS)
    assert only.rule == "save-renewals-at-risk"
    assert (only.mrr_at_stake, only.mrr_exposed) == (48_000.0, 153_291.0)


# ------------------------------------------------------------------ re-weighting
def test_no_reweighting_when_the_backtest_shows_it_does_not_help() -> None:
    # the demo's exhibit: regression weights 0.66 against 0.64 now on held-out decisions
    f = Facts(health_auc=0.644, health_auc_cv=0.644, health_auc_reweighted=0.664)
    assert [r.rule for r in rec.recommendations(f, LIMITS)] == []
    (why,) = rec.not_advised(f, LIMITS)
    assert why.rule == "reweight-health-score"
    assert "0.66 against 0.64" in why.reason and "health.reweight_min_gain" in why.reason
    untested = Facts(health_auc=0.60)                      # no cross-validated weights
    assert rec.recommendations(untested, LIMITS) == []
    assert "could not test" in rec.not_advised(untested, LIMITS)[0].reason


def test_reweighting_when_the_gain_reaches_the_minimum() -> None:
    f = Facts(health_auc=0.60, health_auc_cv=0.60, health_auc_reweighted=0.70)
    (only,) = rec.recommendations(f, LIMITS)
    assert only.rule == "reweight-health-score"
    assert "from 0.60 to 0.70" in only.action
    assert rec.not_advised(f, LIMITS) == []
    good = Facts(health_auc=0.80, health_auc_cv=0.80, health_auc_reweighted=0.95)
    assert rec.recommendations(good, LIMITS) == []         # the score predicts already


# ------------------------------------------------------------------ expected loss
def _model() -> d.DriverModel:
    rng = np.random.default_rng(5)
    n = 1500
    t = pd.DataFrame({"exec_sponsor": rng.random(n) < 0.5,
                      "days_since_exec_contact": rng.uniform(0, 180, n).round()})
    eta = 1.0 + 1.2 * t["exec_sponsor"] - 0.3 * t["days_since_exec_contact"] / 30
    t["renewed"] = (rng.random(n) < _sigmoid(eta.to_numpy())).astype(int)
    return d.fit_renewal_model(t, ["exec_sponsor", "days_since_exec_contact"])


def _current() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["past", "today", "a", "b", "c"],
        "decision_date": pd.to_datetime(["2026-09-15", "2026-09-30", "2026-10-05",
                                         "2026-11-20", "2027-01-04"]),
        "exec_sponsor": [False, False, False, True, False],
        "days_since_exec_contact": [180.0, 180.0, 170.0, 10.0, 90.0],
    })


MRR = pd.Series({"past": 9e5, "today": 8e5, "a": 1_000.0, "b": 4_000.0, "c": 2_500.0})


def test_a_renewal_dated_on_or_before_the_as_of_date_is_not_in_the_book() -> None:
    book = d.open_book(_model(), _current(), MRR, at_risk_below=0.75, as_of="2026-09-30")
    assert sorted(book["account_id"]) == ["a", "b", "c"]
    assert (book["decision_date"] > pd.Timestamp("2026-09-30")).all()
    summary = d.open_book_summary(book)
    spec = story.open_book(book, summary, pd.DataFrame({"account_id": ["a", "b", "c"]}),
                           "USD", 90, 0.75, rows=12, contact_cap=None, as_of="2026-09-30")
    assert "after 30 Sep 2026" in spec.title + spec.subtitle
    assert "4\u00a0Jan\u00a02027" in set(spec.content["renews"])  # the year, across a year end


def test_mrr_at_stake_is_the_sum_of_p_times_mrr_of_the_renewals_at_risk() -> None:
    model = _model()
    current = _current().iloc[2:].reset_index(drop=True)
    book = d.open_book(model, current, MRR, at_risk_below=0.75)
    summary = d.open_book_summary(book)
    p_renew = model.predict(current).to_numpy()  # the model's probabilities, by account
    mrr = MRR[current["account_id"]].to_numpy()
    risky = p_renew < 0.75
    assert risky.any() and not risky.all()
    assert summary["expected_loss_at_risk"] == pytest.approx(
        float((mrr[risky] * (1 - p_renew[risky])).sum()))
    assert summary["mrr_at_risk"] == pytest.approx(float(mrr[risky].sum()))
    results = {"02-renewal-drivers": {"findings": {"open_book": {**summary}}}}
    f = facts_from_results(results)
    (save,) = [r for r in rec.recommendations(f, LIMITS) if r.rule == "save-renewals-at-risk"]
    assert save.mrr_at_stake == pytest.approx(float((mrr[risky] * (1 - p_renew[risky])).sum()))
    assert save.mrr_exposed == pytest.approx(float(mrr[risky].sum()))


def test_a_chance_model_marks_no_renewal_at_risk() -> None:
    book = d.open_book(_model(), _current().iloc[2:], MRR, at_risk_below=0.75)
    summary = d.open_book_summary(book, model_ranks=False)
    assert summary["accounts_at_risk"] is None and summary["mrr_at_risk"] is None
    assert summary["mrr_due"] == 7_500.0
    spec = story.open_book(book, summary, pd.DataFrame({"account_id": ["a", "b", "c"]}),
                           "USD", 90, 0.75, rows=12, contact_cap=None, as_of="2026-09-30")
    assert "cannot tell" in spec.title and "review each" in spec.title
    assert "P(renew)" not in spec.content.columns
    assert list(spec.content["MRR (USD)"]) == [4_000.0, 2_500.0, 1_000.0]


def test_a_flag_costs_its_observed_churn_rate_times_the_mrr_flagged_now() -> None:
    flag = "flag_single_threaded"
    then = pd.DataFrame({flag: pd.array([True, True, True, True, False, pd.NA],
                                        dtype="boolean")},
                        index=pd.Index(["a", "b", "c", "d", "e", "f"], name="account_id"))
    now = pd.DataFrame({flag: pd.array([True, False, True, True], dtype="boolean")},
                       index=pd.Index(["a", "c", "e", "g"], name="account_id"))
    mrr = pd.Series({"a": 100.0, "c": 999.0, "e": 300.0, "g": 50.0})
    out = d.flag_expected_losses(then, now, mrr, [flag])[flag]
    # flagged then: a, b, c, d; gone now: b, d -> 2 of 4; flagged now: a, e, g = 450;
    # not flagged then: e (f unknown: not counted), still here -> 0 of 1
    assert out == {"flagged_then": 4, "churn_rate": 0.5, "expected_loss": 225.0,
                   "others_then": 1, "churn_rate_others": 0.0}
    results = {"03-segments-health": {"findings": {"flags_summary": {flag: {
        "accounts": 3, "mrr": 450.0, **out}}}}}
    (sponsor,) = rec.recommendations(facts_from_results(results), LIMITS)
    assert (sponsor.mrr_at_stake, sponsor.mrr_exposed) == (225.0, 450.0)


# ------------------------------------------------------------------ citations and money
EXHIBITS = {
    "01-revenue": {"exhibits": [
        {"number": 1, "title": "t", "subtitle": "MRR bridge"},
        {"number": 2, "title": "t", "subtitle": "Lost MRR and churned logos by reason"}]},
    "02-renewal-drivers": {"exhibits": [
        {"number": 1, "title": "t", "subtitle": "Odds ratio of renewal"},
        {"number": 2, "title": "t", "subtitle": "Share not renewed, by decile of predicted risk"},
        {"number": 3, "title": "t", "subtitle": "Renewals due in the 90 days after 30 Sep"}]},
    "03-segments-health": {"exhibits": [
        {"number": 1, "title": "t", "subtitle": "Relationship-risk flags of active accounts"}]},
}


def test_each_recommendation_cites_its_exhibit_by_report_number() -> None:
    order = ["01-revenue", "02-renewal-drivers", "03-segments-health"]
    index = rec.exhibit_index(EXHIBITS, order)
    f = Facts(unknown_reason_share=0.3, unknown_reason_mrr=10.0, single_threaded=610,
              single_threaded_mrr=2_967_895.0, single_threaded_expected_loss=400_000.0,
              **{k: v for k, v in vars(_chance_facts()).items()
                 if k in ("model_ranks", "driver_auc", "renewals_due", "mrr_due",
                          "expected_mrr_loss")})
    cited = {r.rule: r.cited for r in rec.recommendations(f, LIMITS, index)}
    assert cited == {"review-renewals-due": "Exhibits 4, 5", "fix-churn-reason-capture":
                     "Exhibit 2", "executive-sponsor-programme": "Exhibit 6"}
    assert rec.recommendations(Facts(csm_required=9, csm_current=5), LIMITS, index)[0].cited \
        == ""                                                # no capacity exhibit: no citation


def test_the_table_shows_money_as_executives_read_it_and_the_advice_left_out() -> None:
    f = Facts(single_threaded=610, single_threaded_mrr=2_967_895.0,
              single_threaded_expected_loss=412_345.0, health_auc=0.645, health_auc_cv=0.645,
              health_auc_reweighted=0.664)
    index = rec.exhibit_index(EXHIBITS, ["01-revenue", "02-renewal-drivers",
                                         "03-segments-health"])
    markup = rec.recommendations_html(rec.recommendations(f, LIMITS, index), "USD",
                                      rec.not_advised(f, LIMITS, index))
    assert "$412K" in markup and "2,967,895" not in markup
    assert re.search(r"\$(3\.0|2\.97)M", markup)               # textfmt.money
    assert "(Exhibit 6)" in markup
    assert "Expected MRR loss" in markup and "MRR exposed" in markup
    assert "Re-weighting the health score is not advised" in markup


def test_the_appendix_lists_the_top_expected_losses_with_n_and_source() -> None:
    rng = np.random.default_rng(2)
    n = 80
    book = pd.DataFrame({"account_id": [f"x{i}" for i in range(n)],
                         "decision_date": pd.Timestamp("2026-10-01")
                         + pd.to_timedelta(rng.integers(1, 90, n), unit="D"),
                         "p_renew": rng.uniform(0.2, 0.95, n),
                         "mrr": rng.uniform(100, 9000, n)})
    book["expected_loss"] = book["mrr"] * (1 - book["p_renew"])
    top = d.top_expected_losses(book, appendix.TOP_LOSSES_ROWS)
    assert len(top) == 50
    expected = np.sort(book["mrr"].to_numpy() * (1 - book["p_renew"].to_numpy()))[::-1][:50]
    assert np.allclose(top["expected_loss"].to_numpy(), expected)
    spec = appendix.top_losses_exhibit(top, {"scored": n, "model_ranks": True},
                                       pd.DataFrame({"account_id": book["account_id"]}),
                                       "USD", 90, "2026-09-30")
    assert spec.n == 50 and spec.source and "of 80 scored" in spec.notes
    assert spec.content.count("<tr") == 51 and "Showing" not in spec.content  # all 50 rows


def test_no_amount_of_mrr_when_the_export_contradicts_its_mrr() -> None:
    # RavenStack: open subscription lines keep churned accounts' MRR running
    reason = "the export contradicts itself: 1,016 open subscription lines keep MRR running"
    f = _chance_facts()
    f.withheld = {"mrr": {"reason": reason, "fix": "Ask for a clean export."}}
    recs = rec.recommendations(f, LIMITS)
    assert [r.rule for r in recs] == ["review-renewals-due"]
    assert recs[0].mrr_at_stake is None and recs[0].mrr_exposed is None
    (why,) = [w for w in rec.not_advised(f, LIMITS) if w.rule == "mrr-amounts"]
    assert "1,016 open subscription lines" in why.reason


def test_the_appendix_list_leaves_out_a_column_without_values() -> None:
    book = pd.DataFrame({"account_id": ["a", "b"], "p_renew": [0.2, 0.5],
                         "decision_date": pd.to_datetime(["2025-01-01", "2025-02-01"]),
                         "mrr": [100.0, 50.0]})
    book["expected_loss"] = book["mrr"] * (1 - book["p_renew"])
    accounts = pd.DataFrame({"account_id": ["a", "b"], "owner": [None, None]})
    spec = appendix.top_losses_exhibit(book, {"scored": 2}, accounts, "USD", 90, "2024-12-31")
    assert ">owner<" not in spec.content and "no value to show: owner" in spec.notes
    assert "1\u00a0Jan\u00a02025" in spec.content                 # after 31 Dec 2024


def test_a_contradicted_export_is_resolved_first_and_an_empty_table_is_a_sentence():
    from playbook import recommendations as rec
    from playbook.facts import Facts

    limits = rec.Limits(unknown_reason_share=0.2, health_auc_floor=0.65,
                        reweight_min_gain=0.05)
    f = Facts(contradictions=5.0, withheld={
        "grr": {"reason": "r", "fix": "x"}, "unknown_reason_share": {"reason": "r", "fix": "x"}})
    recs = rec.recommendations(f, limits)
    assert [r.rule for r in recs] == ["resolve-contradictions"]
    assert recs[0].action == ("Resolve the 5 contradictions of the export with the client's "
                              "data owners and re-run the assessment, so that gross revenue "
                              "retention and the share of churn without a reason can be "
                              "stated")
    assert rec.recommendations(Facts(contradictions=5.0), limits) == []   # nothing withheld
    page = rec.recommendations_html([], "USD")
    assert "<table" not in page and "no recommendation" in page
