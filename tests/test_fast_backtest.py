"""The health backtest scores only the accounts of each month's decisions (issue 22), and its
regression weights skip the marginal effects they never read: the figures are those of the
code it replaces.

:func:`old_health_at_cutoff` is the previous implementation (every active account scored on
every scoring day, then the decisions' accounts looked up), kept here as the reference; the
new one must equal it exactly on the demo and on hand-made tables (an account not active on
its day, two decisions of one account in a month, one account, no decision, the products
scale set by an account without a decision).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import backtest, health
from playbook.analyses.drivers.model import fit_renewal_model
from playbook.analyses.health import HEALTH_MEASURES, health_scores_on
from playbook.analyses.outcomes import outcome_progress, realised_of
from playbook.config import load_params
from playbook.context import AnalysisContext
from playbook.loader import load_client

BANDS = {"red": 50, "yellow": 75, "green": 100}
OPTIONS = {"usage_trend_weight": 0.25, "usage_fall_to_zero": 0.5, "ticket_window_days": 90,
           "tickets_to_zero": 5}
WEIGHTS = {"usage": 0.3, "nps": 0.2, "products": 0.1, "tickets": 0.1,
           "executive_relationship": 0.15, "champion_quality": 0.15}


def old_health_at_cutoff(decisions, tables, *, weights, bands, cutoff_days, **measure_options):
    """The implementation before issue 22's subset scoring (verbatim but for the name)."""
    measure_cols = [f"{k}_{m}" for k in ("score", "contrib") for m in HEALTH_MEASURES]
    columns = [*backtest.BACKTEST_COLUMNS, "scored_on", *measure_cols]
    if decisions.empty:
        return pd.DataFrame(columns=columns)
    when = pd.to_datetime(decisions["decision_date"])
    cut = when - pd.Timedelta(days=cutoff_days)
    month_end = (cut.dt.to_period("M") - 1).dt.to_timestamp(how="end").dt.normalize()
    groups = list(decisions.groupby(month_end))
    scored_on = health_scores_on(
        tables["accounts"], [day for day, _ in groups], weights=weights, bands=bands,
        usage=tables.get("usage"), surveys=tables.get("surveys"),
        tickets=tables.get("tickets"), csm_inputs=tables.get("csm_inputs"),
        outcomes=tables.get("outcomes"), triggers=tables.get("triggers"), **measure_options)
    parts = []
    for day, group in groups:
        scored = scored_on[day]
        got = scored.reindex(group["account_id"])[["health_score", "health_band",
                                                   *measure_cols]]
        got.index = group.index
        got["account_id"] = group["account_id"]
        got["decision_date"] = when.loc[group.index]
        got["scored_on"] = day
        parts.append(got.dropna(subset=["health_score"]))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts)[columns].sort_index()


@pytest.fixture(scope="module")
def demo():
    params = load_params("demo")
    data = load_client(params)
    return AnalysisContext(params, data.tables)


def test_health_at_cutoff_equals_the_old_one_on_the_demo(demo):
    decisions = demo.renewal_decisions  # every decision, not only the last year's
    opts = dict(cutoff_days=demo.params.drivers.cutoff_days, **demo.health_options())
    new = backtest.health_at_cutoff(decisions, demo.tables, **opts)
    old = old_health_at_cutoff(decisions, demo.tables, **opts)
    assert len(new) > 1000 and new["scored_on"].nunique() > 12
    pd.testing.assert_frame_equal(new, old, check_exact=True)


def _hand():
    accounts = pd.DataFrame({
        "account_id": ["A", "B", "C", "D"], "products": [1, 2, 8, np.nan],
        "start_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-01", "2025-06-01"]),
        "churn_date": pd.to_datetime([None, None, None, None]),
        "segment": ["SMB", "SMB", "Enterprise", None]})
    tickets = pd.DataFrame({"account_id": ["A", "A", "B"],
                            "opened_at": pd.to_datetime(["2025-04-01", "2025-05-20",
                                                         "2024-01-01"]),
                            "priority": ["urgent", "High", "high"]})
    csm = pd.DataFrame({"account_id": ["A", "C", "B"],
                        "date": pd.to_datetime(["2025-01-01", None, "2025-05-02"]),
                        "executive_relationship": [5, 1, 3], "champion_quality": [3, np.nan, 4]})
    surveys = pd.DataFrame({"account_id": ["A", "B"],
                            "date": pd.to_datetime(["2025-03-01", "2025-05-01"]),
                            "nps": [9, np.nan]})
    return accounts, {"accounts": accounts, "tickets": tickets, "csm_inputs": csm,
                      "surveys": surveys}


@pytest.mark.parametrize("rows", [
    [("A", "2025-07-10"), ("A", "2025-07-20"), ("B", "2025-08-15"), ("D", "2025-07-05")],
    [("B", "2025-07-10")],          # one account
    [("D", "2025-07-01")],          # not active on its day (starts 1 June): left out
    [],                             # no decision
])
def test_health_at_cutoff_equals_the_old_one_on_hand_tables(rows):
    _, tables = _hand()
    decisions = pd.DataFrame(rows, columns=["account_id", "decision_date"]).astype(
        {"decision_date": "datetime64[ns]"})
    decisions.index = pd.Index(range(10, 10 + len(decisions)))
    opts = dict(weights=WEIGHTS, bands=BANDS, cutoff_days=30, **OPTIONS)
    new = backtest.health_at_cutoff(decisions, tables, **opts)
    old = old_health_at_cutoff(decisions, tables, **opts)
    pd.testing.assert_frame_equal(new, old, check_exact=True)


def test_the_products_scale_comes_from_every_active_account():
    """Only B is scored, but C (8 products, no decision) sets the scale: 100 * 2 / 8."""
    _, tables = _hand()
    decisions = pd.DataFrame({"account_id": ["B"],
                              "decision_date": pd.to_datetime(["2025-07-10"])})
    got = backtest.health_at_cutoff(decisions, tables, weights=WEIGHTS, bands=BANDS,
                                    cutoff_days=30, **OPTIONS)
    assert got["score_products"].tolist() == [25.0]
    assert got["scored_on"].tolist() == [pd.Timestamp("2025-05-31")]


def test_wanted_rows_are_the_rows_of_the_whole_frame():
    accounts, tables = _hand()
    days = [pd.Timestamp("2025-05-31"), pd.Timestamp("2025-06-30")]
    tables = {k: v for k, v in tables.items() if k != "accounts"}
    whole = health.health_scores_on(accounts, days, weights=WEIGHTS, bands=BANDS, **tables,
                                    **OPTIONS)
    some = health.health_scores_on(accounts, days, weights=WEIGHTS, bands=BANDS, **tables,
                                   wanted={days[0]: pd.Index(["C", "A", "X"])}, **OPTIONS)
    pd.testing.assert_frame_equal(some[days[0]], whole[days[0]].loc[["A", "C"]])
    pd.testing.assert_frame_equal(some[days[1]], whole[days[1]])  # not in wanted: all


def test_regression_weights_equal_those_of_the_fit_with_marginal_effects():
    rng = np.random.default_rng(3)
    n = 400
    past = pd.DataFrame({"account_id": [f"a{i % 150}" for i in range(n)],
                         "score_usage": rng.uniform(0, 100, n),
                         "score_nps": rng.uniform(0, 100, n),
                         "score_tickets": rng.uniform(0, 100, n)})
    past.loc[rng.random(n) < 0.2, "score_nps"] = np.nan
    eta = 0.5 + 0.04 * (past["score_usage"] - 50)
    renewed = pd.Series((rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float),
                        index=past.index)
    got = backtest.regression_weights(past, renewed)
    measures = ["usage", "nps", "tickets"]
    table = pd.DataFrame({m: past[f"score_{m}"] for m in measures})
    table = table.fillna(table.median()).assign(renewed=renewed)
    full = fit_renewal_model(table, measures, units={m: (10.0, "per 10 points")
                                                     for m in measures})
    assert full.coefficients["ame"].notna().all()  # the reference computed them
    want = full.coefficients.set_index("feature")[["coef", "odds_ratio", "or_low", "or_high",
                                                   "p_value"]]
    want.index.name = "measure"
    pd.testing.assert_frame_equal(got["coefficients"], want, check_exact=True)


# --------------------------------------------------------------------------- outcomes
def old_outcome_values_at(outcomes, lookback_days, accounts, as_of):
    """The previous ``OutcomeValues.at``: every measurement joined with the accounts."""
    queries = pd.DataFrame({"account_id": accounts.to_numpy(), "date": pd.Timestamp(as_of)})
    got = realised_of(outcome_progress(outcomes), queries, lookback_days=lookback_days)
    return pd.Series(got["realised"].to_numpy(dtype=float), index=accounts)


def test_outcome_values_equal_the_join_on_the_demo(demo):
    outcomes = demo.tables["outcomes"]
    values = health.OutcomeValues(outcomes, 180)
    ids = demo.accounts["account_id"].drop_duplicates()
    measured = 0
    for day in ("2024-06-30", "2025-12-31", "2026-09-30", "2020-01-01"):
        accounts = pd.Index(ids.sample(frac=0.6, random_state=1).to_numpy(), name="account_id")
        got = values.at(accounts, day)
        pd.testing.assert_series_equal(got, old_outcome_values_at(outcomes, 180, accounts, day),
                                       check_exact=True)
        measured += int(got.notna().sum())
    assert measured > 200


def test_outcome_values_equal_the_join_on_hand_tables():
    """Ties on one date (the later row wins), a measurement on the window's first day and
    one a day before it, no baseline, an account asked twice, one never measured, a row
    without an account, an outcome without a name."""
    rows = [("A", "cut", 100, 60, 80, "2025-05-01"), ("A", "cut", 100, 60, 50, "2025-05-01"),
            ("A", "grow", 10, 20, 15, "2025-01-01"), ("B", "grow", 10, 20, 12, "2024-12-31"),
            ("B", "grow", None, 20, 12, "2025-03-01"), (None, "grow", 10, 20, 20, "2025-03-01"),
            ("C", None, 10, 20, 20, "2025-03-01"), ("C", "x", 0, 10, 10, "2025-06-01")]
    outcomes = pd.DataFrame(rows, columns=["account_id", "outcome", "baseline", "target",
                                           "value", "measured_at"]).astype(
        {"measured_at": "datetime64[ns]", "account_id": "string"})
    values = health.OutcomeValues(outcomes, 180)
    accounts = pd.Index(["A", "B", "A", "Z", "C"], name="account_id")
    for day in ("2025-06-30", "2025-05-01", "2024-01-01"):
        got = values.at(accounts, day)
        pd.testing.assert_series_equal(got, old_outcome_values_at(outcomes, 180, accounts, day),
                                       check_exact=True)
    got = values.at(accounts, "2025-06-30")
    # A: cut's later row on 1 May (50: past the target, 1) and grow (0.5) -> 0.75; B's only
    # measurement with a baseline is 181 days old; C: the named outcome, met
    assert got.iloc[0] == 0.75 and pd.isna(got.iloc[1]) and got.iloc[2] == 0.75
    assert got.iloc[4] == 1.0
    assert values.at(accounts[:0], "2025-06-30").empty
    nobody = health.OutcomeValues(outcomes.assign(baseline=np.nan), 180)
    pd.testing.assert_series_equal(nobody.at(accounts, "2025-06-30"), old_outcome_values_at(
        outcomes.assign(baseline=np.nan), 180, accounts, "2025-06-30"), check_exact=True)
