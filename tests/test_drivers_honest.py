"""Issue 18: renewal-driver statistics that survive a sceptical analyst. Each test plants a
known answer in a small fixture built to trigger one failure of the first version: a missing
NPS answer coded as "not a detractor", "strongest" claimed where intervals overlap, a leaked
feature, a Cox fit that did not converge, a penalised fit, a client where everyone renewed.
Expected values are computed here (numpy/pandas, or by hand), never with the product."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import drivers as d

#: modelling_table's options for these fixtures (the run passes the params' values).
OPTIONS = {"cutoff_days": 90, "usage_drop_share": 0.25, "low_nps": 6,
           "contact_days_cap": 180, "nps_lookback_days": 365, "nps_no_answer": "own_level",
           "sponsor_roles": ("executive",), "exec_by_seniority": False,
           "final_onboarding_step": None, "variables": None}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


# ----------------------------------------------------------------------------- 1. no answer

#: Planted log-odds of renewal: a detractor answer halves the odds (OR 0.5); accounts that
#: did not answer renew more often than answered non-detractors (OR e^1.2 = 3.3), and are
#: mostly in segment "Self-serve" (which itself renews less, OR e^-0.7).
NPS_TRUTH = {"const": 0.8, "detractor": np.log(0.5), "no_answer": 1.2, "self_serve": -0.7}


@pytest.fixture(scope="module")
def nps_client() -> tuple[pd.DataFrame, dict]:
    """6,000 accounts, one renewal decision each on 1 Jul 2025; survey answers dated 30-200
    days before the cut-off; non-response 70% in Self-serve and 15% elsewhere."""
    rng = np.random.default_rng(18)
    n = 6000
    ids = [f"A{i}" for i in range(n)]
    self_serve = rng.random(n) < 0.5
    silent = rng.random(n) < np.where(self_serve, 0.7, 0.15)
    detractor = ~silent & (rng.random(n) < 0.35)
    eta = (NPS_TRUTH["const"] + NPS_TRUTH["detractor"] * detractor
           + NPS_TRUTH["no_answer"] * silent + NPS_TRUTH["self_serve"] * self_serve)
    renewed = (rng.random(n) < _sigmoid(eta)).astype(int)
    decision = pd.Timestamp("2025-07-01")
    cutoff = decision - pd.Timedelta(days=90)
    accounts = pd.DataFrame({"account_id": ids, "start_date": pd.Timestamp("2022-01-01"),
                             "segment": np.where(self_serve, "Self-serve", "Sales-led")})
    answered = np.flatnonzero(~silent)
    score = np.where(detractor[answered], rng.integers(0, 7, len(answered)),
                     rng.integers(7, 11, len(answered)))
    surveys = pd.DataFrame({
        "account_id": [ids[i] for i in answered],
        "date": cutoff - pd.to_timedelta(rng.integers(30, 200, len(answered)), unit="D"),
        "nps": score.astype(float), "csat": np.nan})
    decisions = pd.DataFrame({"account_id": ids, "decision_date": decision,
                              "renewed": renewed})
    return decisions, {"accounts": accounts, "surveys": surveys}


def _detractor_row(coefs: pd.DataFrame) -> pd.Series:
    return coefs.loc[[t for t in coefs.index if t.startswith("nps_detractor")
                      and "no answer" not in t][0]]


def test_no_nps_answer_is_its_own_level_and_the_detractor_ratio_is_recovered(nps_client):
    decisions, tables = nps_client
    table, _ = d.modelling_table(decisions, tables, **OPTIONS)
    levels = table["nps_detractor"].astype("string")
    # by hand: accounts without a survey row are "no answer", never "not a detractor"
    silent = ~decisions["account_id"].isin(tables["surveys"]["account_id"])
    assert (levels[silent.to_numpy()] == "no answer").all()
    assert not (levels[~silent.to_numpy()] == "no answer").any()
    model = d.fit_renewal_model(table, ["nps_detractor", "segment"])
    det = _detractor_row(model.coefficients)
    assert det["or_low"] <= 0.5 <= det["or_high"], det
    silent_row = model.coefficients.loc["nps_detractor[no answer]"]
    assert silent_row["or_low"] <= np.exp(NPS_TRUTH["no_answer"]) <= silent_row["or_high"]


def test_the_old_coding_of_no_answer_as_not_a_detractor_misses_the_planted_ratio(nps_client):
    """The fixture does trigger the bug: coded as the first version did, the interval of
    the detractor odds ratio excludes the planted 0.5 (it overstates the effect)."""
    decisions, tables = nps_client
    table, _ = d.modelling_table(decisions, tables, **{**OPTIONS,
                                                       "nps_no_answer": "not_detractor"})
    model = d.fit_renewal_model(table, ["nps_detractor", "segment"])
    det = _detractor_row(model.coefficients)
    assert det["or_high"] < 0.5


def test_a_blank_categorical_client_variable_is_its_own_level(nps_client):
    decisions, tables = nps_client
    accounts = tables["accounts"].assign(var_plan=np.where(np.arange(6000) % 3 == 0, None,
                                                           np.where(np.arange(6000) % 2, "Pro",
                                                                    "Basic")))
    variables = {"plan": {"table": "accounts", "kind": "categorical", "label": "Plan",
                          "reference": "Basic"}}
    table, _ = d.modelling_table(decisions, {**tables, "accounts": accounts},
                                 **{**OPTIONS, "variables": variables})
    blank = (np.arange(6000) % 3 == 0)
    assert (table.loc[blank, "Plan"].astype("string") == "not recorded").all()
    model = d.fit_renewal_model(table, ["Plan"])
    assert model.checks["rows_dropped_missing"] == 0
    assert "Plan[not recorded]" in model.coefficients.index


# ----------------------------------------------------------------------------- 2. strongest


def _two_driver_fit(effect_a: float, effect_b: float, seed: int) -> d.DriverModel:
    """4,000 decisions; two yes/no drivers (each present in 40%) with planted log-odds."""
    rng = np.random.default_rng(seed)
    n = 4000
    t = pd.DataFrame({"account_id": [f"A{i}" for i in range(n)],
                      "usage_decline": (rng.random(n) < 0.4).astype(float),
                      "onboarding_incomplete": (rng.random(n) < 0.4).astype(float)})
    eta = 1.5 + effect_a * t["usage_decline"] + effect_b * t["onboarding_incomplete"]
    t["renewed"] = (rng.random(n) < _sigmoid(eta.to_numpy())).astype(int)
    return d.fit_renewal_model(t, ["usage_decline", "onboarding_incomplete"])


def test_strongest_is_not_claimed_for_two_drivers_of_close_effect() -> None:
    from playbook.findings import drivers as story

    model = _two_driver_fit(-1.2, -1.1, seed=1)
    c = model.coefficients
    # the fixture: both significant, AME intervals overlap (checked by hand)
    assert (c["or_high"] < 1).all()
    lead = c["ame"].abs().idxmax()
    other = c.index.drop(lead)[0]
    assert abs(c.at[lead, "ame_high"]) <= abs(c.at[other, "ame_low"])
    title = story.forest_title(model)
    assert "strongest warning sign:" not in title
    assert title.startswith("Usage decline (3 months) and Onboarding not finished are the "
                            "strongest warning signs") or title.startswith(
        "Onboarding not finished and Usage decline (3 months) are the strongest warning signs")
    assert "their intervals overlap" in title


def test_strongest_is_named_when_its_interval_separates_it() -> None:
    from playbook.findings import drivers as story

    model = _two_driver_fit(-2.0, -0.5, seed=2)
    c = model.coefficients
    lead, other = c.loc["usage_decline"], c.loc["onboarding_incomplete"]
    assert abs(lead["ame_high"]) > abs(other["ame_low"])  # separated, by hand
    title = story.forest_title(model)
    assert title.startswith("Usage decline (3 months) is the strongest warning sign: "
                            "renewal is ")


# ----------------------------------------------------------------------------- 3. leakage


@pytest.fixture(scope="module")
def leaky_client() -> tuple[pd.DataFrame, dict]:
    """3,000 accounts, one decision each on 1 Jul 2025 (cut-off 2 Apr); a real driver (a
    usage decline: log-odds -1.0) and two leaked scores on the accounts:
    ``var_exit_score`` = 3 + 2 x renewed + noise (the outcome written down again), and
    ``var_csat`` = 3 + 1.4 x renewed + noise (univariate AUC about 0.84), recorded on the
    decision day for 80% of the accounts (``var_csat_recorded``), 200 days earlier for the
    rest."""
    rng = np.random.default_rng(1818)
    n = 3000
    ids = [f"A{i}" for i in range(n)]
    decline = rng.random(n) < 0.3
    renewed = (rng.random(n) < _sigmoid(1.2 - 1.0 * decline)).astype(int)
    decision = pd.Timestamp("2025-07-01")
    late = np.arange(n) % 5 != 0  # 80% recorded at the decision
    accounts = pd.DataFrame({
        "account_id": ids, "start_date": pd.Timestamp("2022-01-01"),
        "var_exit_score": 3 + 2 * renewed + rng.normal(0, 0.4, n),
        "var_csat": 3 + 1.4 * renewed + rng.normal(0, 1.0, n),
        "var_csat_recorded": np.where(late, decision, decision - pd.Timedelta(days=200)),
        "var_decline": np.where(decline, "fell", "held")})
    decisions = pd.DataFrame({"account_id": ids, "decision_date": decision,
                              "renewed": renewed})
    return decisions, {"accounts": accounts}


LEAKY_VARIABLES = {
    "exit_score": {"table": "accounts", "kind": "numeric", "label": "Exit score",
                   "unit": "point"},
    "csat": {"table": "accounts", "kind": "numeric", "label": "CSAT", "unit": "point"},
    "decline": {"table": "accounts", "kind": "categorical", "label": "Usage",
                "reference": "held"},
}


def _leaky_table(leaky_client):
    decisions, tables = leaky_client
    return d.modelling_table(decisions, tables, **{**OPTIONS, "variables": LEAKY_VARIABLES})


def test_leaked_features_are_left_out_and_named(leaky_client) -> None:
    from playbook.findings import drivers as story

    table, report = _leaky_table(leaky_client)
    assert report["recorded_after_cutoff"]["CSAT"] == pytest.approx(0.8)
    model = d.fit_renewal_model(table, ["Exit score", "CSAT", "Usage"],
                                recorded_after=report["recorded_after_cutoff"])
    assert model.features == ["Usage"]
    fell = model.coefficients.loc["Usage[fell]"]
    assert fell["or_low"] <= np.exp(-1.0) <= fell["or_high"]
    excluded = model.checks["leakage"]["excluded"]
    assert excluded["CSAT"] == "recorded after the cut-off for 80% of decisions"
    assert "almost perfectly" in excluded["Exit score"]
    sentence = story.leakage_sentence(model)
    assert sentence.startswith("Left out as possible leakage: Exit score (alone it sorts")
    assert "CSAT (recorded after the cut-off for 80% of decisions)" in sentence
    rows = story.check_rows(model, report)
    title = story.checks_title(rows)
    assert title.startswith("1 of 5 model checks flagged a problem (leakage)"), title
    found = rows.set_index("check").loc["Leakage", "found"]
    assert "Exit score" in found and "CSAT" in found


def test_without_the_guard_the_leaked_score_looked_like_a_huge_driver(leaky_client) -> None:
    """The fixture triggers the first version's failure: unguarded, the score recorded at
    the outcome gets an odds ratio of several per point and every check passes."""
    from playbook.findings import drivers as story

    table, report = _leaky_table(leaky_client)
    model = d.fit_renewal_model(table, ["CSAT", "Usage"], max_auc=1.0)
    assert model.coefficients.at["CSAT", "odds_ratio"] > 3
    assert story.checks_title(story.check_rows(model, report)).startswith(
        "All five model checks pass")


def test_univariate_auc_by_hand() -> None:
    from playbook.analyses.drivers.leakage import univariate_auc

    y = pd.Series([1, 1, 0, 0])
    # scores 4, 3 for renewals; 2, 3 for non-renewals: pairs (4>2, 4>3, 3>2, 3=3 half) = 3.5/4
    assert univariate_auc(y, pd.Series([4.0, 3.0, 2.0, 3.0])) == pytest.approx(0.875)
    assert univariate_auc(y, pd.Series([1.0, 2.0, 3.0, 4.0])) == pytest.approx(1.0)  # folded
    # a categorical: level a renews 2/2, level b 0/2 -> perfect
    assert univariate_auc(y, pd.Series(["a", "a", "b", "b"])) == pytest.approx(1.0)


# ----------------------------------------------------------------------------- 4. Cox


def _separated_intervals() -> pd.DataFrame:
    """300 contract years; every churn (20%) has ``x`` = 1 and no renewal has: the Cox
    maximum-likelihood estimate of x's hazard ratio is infinite (the fit cannot converge)."""
    rng = np.random.default_rng(3)
    n = 300
    churn = (rng.random(n) < 0.2).astype(int)
    return pd.DataFrame({
        "account_id": [f"A{i}" for i in range(n)], "entry_months": 0.0,
        "exit_months": np.where(churn == 1, rng.integers(1, 12, n), 12).astype(float),
        "churned": churn, "x": churn.astype(float), "z": rng.normal(size=n)})


def test_a_cox_fit_that_runs_off_is_reported_as_not_converged() -> None:
    from playbook.analyses import survival

    cox = survival.cox_model(_separated_intervals(), ["x", "z"])
    assert cox["converged"] is False
    assert any("x" in p for p in cox["convergence_problems"])


def test_a_cox_cross_check_that_did_not_converge_confirms_nothing() -> None:
    from playbook.analyses import survival
    from playbook.findings import drivers as story

    cox = survival.cox_model(_separated_intervals(), ["x", "z"])
    logit = pd.DataFrame({"feature": ["x", "z"], "unit": ["yes vs no", "per 1 SD"],
                          "odds_ratio": [0.2, 1.0], "or_low": [0.1, 0.8],
                          "or_high": [0.4, 1.25]}, index=pd.Index(["x", "z"], name="term"))
    compare = survival.compare_with_logit(logit, cox["coefficients"])
    spec = story.cox_table(compare, cox)
    assert spec.title == "The Cox cross-check did not converge: it confirms nothing either way"
    assert "confirms 0" not in spec.title
    assert set(spec.content["hazard ratio of churn (95%)"]) == {"not estimated"}
    assert "did not converge" in spec.notes and "inf" not in spec.notes.split()


# ----------------------------------------------------------------------------- 4. penalised


def _penalised_model() -> d.DriverModel:
    """Two features that together separate the outcome (neither alone passes the leakage
    guard's AUC 0.95): the fit falls back to the penalised L1 fit, without intervals."""
    rng = np.random.default_rng(7)
    n = 400
    a, b = rng.normal(size=n), rng.normal(size=n)
    y = (a + b > 0).astype(int)
    t = pd.DataFrame({"renewed": y, "a": a, "b": b})
    return d.fit_renewal_model(t, ["a", "b"])


def test_a_penalised_fit_is_said_in_words_everywhere_downstream() -> None:
    from playbook import appendix
    from playbook.exhibits import table_html
    from playbook.findings import drivers as story

    model = _penalised_model()
    assert model.method == "l1" and not model.checks["leakage"]["excluded"]
    assert "no intervals" in story.forest_title(model)
    assert "no intervals: penalised fit" in story.effects_markdown(model)
    record = story.model_record(model, {"skipped": {}})
    # the appendix cell's table, with the notebook's formats: "–" for what a penalised fit
    # does not give, and a sentence saying why
    html = table_html(appendix.regression_table(record),
                      formats={"odds ratio": "{:.2f}", "log-odds": "{:.3f}",
                               "std. error": "{:.3f}"})
    assert html.count("<td>–</td>") == 3 * len(model.coefficients)
    assert "penalty (L1)" in appendix.regression_note(record)
    logit = model.coefficients
    cox = pd.DataFrame({"hazard_ratio": [0.5, 0.6], "hr_low": [0.3, 0.4],
                        "hr_high": [0.8, 0.9]}, index=logit.index)
    from playbook.analyses import survival

    compare = survival.compare_with_logit(logit, cox)
    assert story.cox_title(compare, {"converged": True}) == (
        "The logistic model was penalised and has no intervals: the Cox model cannot "
        "confirm its drivers")


# ----------------------------------------------------------------------------- 4. one outcome


def test_a_client_where_every_decision_renewed_gets_an_explanation() -> None:
    from playbook.errors import DriverModelError

    t = pd.DataFrame({"renewed": [1] * 40, "x": np.arange(40.0)})
    with pytest.raises(DriverModelError) as err:
        d.fit_renewal_model(t, ["x"])
    assert err.value.message == ("All 40 decisions renewed: there is nothing to learn about "
                                 "which accounts leave")


def test_every_decision_renewed_end_to_end_the_report_renders(tmp_path) -> None:
    """The Salesforce-shaped export with every lost renewal won and every former customer
    active, through `playbook report`: section 3 explains why there is no model, the
    appendix says the same, and every other section renders (about a minute)."""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    source = Path(__file__).resolve().parent / "fixtures" / "exports" / "salesforce"
    data = tmp_path / "data" / "sf"
    data.mkdir(parents=True)
    (tmp_path / "params").mkdir()
    accounts = pd.read_csv(source / "Account.csv", dtype=str)
    accounts["Type"] = accounts["Type"].replace({"Former Customer": "Customer - Direct"})
    opps = pd.read_csv(source / "Opportunity.csv", dtype=str)
    opps["Stage"] = opps["Stage"].replace({"Closed Lost": "Closed Won"})
    accounts.to_csv(data / "Account.csv", index=False)
    opps.to_csv(data / "Opportunity.csv", index=False)
    shutil.copy(source / "params.yaml", tmp_path / "params" / "sf.yaml")
    closed = opps[(opps["Opportunity Type"] == "Renewal") & (opps["Stage"] == "Closed Won")]
    n = int((pd.to_datetime(closed["Close Date"], format="%m/%d/%Y")
             <= pd.Timestamp("2024-12-31")).sum())  # the period's last day (2024-Q4)
    env = {**os.environ, "PLAYBOOK_ROOT": str(tmp_path),
           "PLAYBOOK_REPORTS": str(tmp_path / "reports")}
    run = subprocess.run([sys.executable, "-m", "playbook.cli", "report", "sf"], env=env,
                         text=True, capture_output=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    [folder] = [p for p in (tmp_path / "reports" / "sf").iterdir() if p.name[0].isdigit()]
    html = (folder / "report.html").read_text(encoding="utf-8")
    why = f"All {n} decisions renewed: there is nothing to learn about which accounts leave"
    assert html.count(why) >= 2  # section 3 and the appendix's regression table (at least)
    section3 = html[html.index("3 Renewal drivers</h1>"):]
    assert why in section3[:section3.index("How long customers stay")]
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    for name in ("01-revenue", "02-renewal-drivers", "03-segments-health", "04-capacity",
                 "90-data-quality", "95-appendix"):
        assert name in results, name
    skipped = results["02-renewal-drivers"]["findings"]["sections_skipped"]
    assert skipped[0]["reason"] == why


# ----------------------------------------------------------------------------- 3. dated variable


def test_a_dated_accounts_variable_recorded_after_the_cut_off_is_left_out(client_factory):
    """``variables.<key>.recorded`` names the date each value was recorded: the loader keeps
    it as ``var_<key>_recorded`` and the run's model leaves the variable out, named."""
    import copy

    from test_client_variables import PARAMS, raw_frames

    from playbook.config import load_params
    from playbook.context import AnalysisContext
    from playbook.loader import load_client

    frames = raw_frames()
    accounts = frames["accounts"]
    churned = accounts["Status"].eq("Churned")
    accounts["CSAT"] = np.where(churned, 2, 4) + np.arange(len(accounts)) % 2
    accounts["CSAT taken"] = "2024-12-01"  # the exit survey, after every cut-off but a few
    params = copy.deepcopy(PARAMS)
    params["variables"] = {"csat": {"table": "accounts", "column": "CSAT", "kind": "numeric",
                                    "label": "CSAT", "unit": "point",
                                    "recorded": "CSAT taken"}}
    client = client_factory.write("dated", files={
        "accounts.csv": accounts.to_csv(index=False), "mrr.csv": frames["mrr"].to_csv(
            index=False), "churn.csv": frames["churn"].to_csv(index=False)}, params=params)
    p = load_params(client)
    data = load_client(p)
    assert (data["accounts"]["var_csat_recorded"] == pd.Timestamp("2024-12-01")).all()
    ctx = AnalysisContext(p, data.tables)
    rows = ctx.modelling_rows
    late = float((rows["cutoff_date"] < pd.Timestamp("2024-12-01")).mean())  # by hand
    assert late > 0.5
    assert ctx.features_built["recorded_after_cutoff"]["CSAT"] == pytest.approx(late)
    model = ctx.renewal_model
    assert "CSAT" not in model.features
    assert model.checks["leakage"]["excluded"]["CSAT"] == (
        f"recorded after the cut-off for {late:.0%} of decisions")


def test_no_decision_at_all_says_so_once_without_counting_zero() -> None:
    """A month-to-month client (ChurnSim) has no renewal decision: one plain reason, no
    "0 renewals and 0 non-renewals", no "every one of the 0 decisions"."""
    from playbook.errors import DriverModelError
    from playbook.findings import drivers as story

    with pytest.raises(DriverModelError) as err:
        d.fit_renewal_model(pd.DataFrame({"renewed": [], "x": []}), ["x"])
    assert err.value.message == "No renewal decision to learn from: the data hold none"
    assert "contracts longer than a month" in err.value.fix
    history = {"data_start": pd.Timestamp("2021-01-01"), "excluded": 0, "lookback_days": 180,
               "first_cutoff": pd.Timestamp("2021-06-30"), "excluded_not_renewed": 0}
    assert story.history_sentence(history, 0) == ""
