"""The many-dates implementations (issue 22) give exactly what the one-date functions give.

The health backtest (:func:`playbook.analyses.backtest.health_at_cutoff`) and the lifecycle
history (:func:`playbook.analyses.segments.stage_history`) now parse their tables once
(:mod:`playbook.analyses.history`). Each new function is compared with its per-date
counterpart, which stays the reference (``usage_snapshot``, ``latest_on_or_before``,
``mrr_growth``, ``health_scores``, ``lifecycle_stage``), on the demo client and on small
hand fixtures whose awkward cases (a snapshot inside a month, undated ratings, two answers
on one day, a young account, a zero base) are also checked against values worked out here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import account_state as state
from playbook.analyses import backtest, health, segments
from playbook.analyses.history import ActiveAccounts, LatestValues, MrrGrowth, UsageHistory
from playbook.config import load_params
from playbook.context import AnalysisContext
from playbook.loader import load_client

BANDS = {"red": 50, "yellow": 75, "green": 100}
OPTIONS = {"usage_trend_weight": 0.25, "usage_fall_to_zero": 0.5, "ticket_window_days": 90,
           "tickets_to_zero": 5}
WEIGHTS = {"usage": 0.3, "nps": 0.2, "products": 0.1, "tickets": 0.1,
           "executive_relationship": 0.15, "champion_quality": 0.15}


@pytest.fixture(scope="module")
def demo():
    params = load_params("demo")
    data = load_client(params)
    return AnalysisContext(params, data.tables)


def demo_dates(ctx: AnalysisContext) -> list[pd.Timestamp]:
    """Month-ends over the demo's history, two days inside a month and one before it."""
    ends = list(pd.date_range("2023-09-30", ctx.as_of, freq="ME"))
    return [*ends, pd.Timestamp("2024-05-14"), pd.Timestamp("2026-09-17 13:00"),
            pd.Timestamp("2020-01-31")]


# --------------------------------------------------------------------------- demo
def test_usage_history_is_usage_snapshot_on_the_demo(demo):
    usage = demo.tables["usage"]
    history = UsageHistory(usage)
    for day in demo_dates(demo):
        pd.testing.assert_frame_equal(history.snapshot(day), state.usage_snapshot(usage, day))


def test_active_accounts_on_many_dates_are_active_accounts_on_the_demo(demo):
    accounts = demo.tables["accounts"]
    active = ActiveAccounts(accounts)
    sizes = []
    for day in demo_dates(demo):
        got = active.on(day)
        pd.testing.assert_frame_equal(got, state.active_accounts(accounts, day))
        sizes.append(len(got))
    assert min(sizes) < max(sizes)  # accounts start and leave over the dates


def test_active_accounts_count_an_undated_churn_as_churned():
    accounts = pd.DataFrame({"account_id": ["A", "B", "C", "D"],
                             "start_date": pd.to_datetime(["2024-01-01", None, "2025-01-01",
                                                           "2024-01-01"]),
                             "churn_date": pd.to_datetime([None, "2024-06-30", None, None]),
                             "status": ["active", "churned", "active", "Churned"]})
    got = ActiveAccounts(accounts).on(pd.Timestamp("2024-06-29"))
    assert got.index.tolist() == ["A", "B"]  # C not started, D churned without a date
    for day in ("2023-12-31", "2024-06-29", "2024-06-30", "2025-01-01"):
        pd.testing.assert_frame_equal(ActiveAccounts(accounts).on(pd.Timestamp(day)),
                                      state.active_accounts(accounts, day))


def test_latest_values_and_mrr_growth_are_the_per_date_functions_on_the_demo(demo):
    t = demo.tables
    csm = ["executive_relationship", "champion_quality"]
    nps, ratings, growth = (LatestValues(t["surveys"], ["nps"]),
                            LatestValues(t["csm_inputs"], csm), MrrGrowth(t["mrr"]))
    for day in demo_dates(demo):
        pd.testing.assert_frame_equal(nps.at(day),
                                      state.latest_on_or_before(t["surveys"], ["nps"], day))
        pd.testing.assert_frame_equal(ratings.at(day),
                                      state.latest_on_or_before(t["csm_inputs"], csm, day))
        pd.testing.assert_series_equal(growth.at(day), state.mrr_growth(t["mrr"], day))


def test_health_scores_on_many_dates_equal_one_date_at_a_time_on_the_demo(demo):
    t, h = demo.tables, demo.params.health
    options = {"weights": h.weights, "bands": h.bands, **h.measure_options.model_dump(),
               "outcome_lookback_days": demo.params.outcomes.lookback_days,
               "trigger_window_days": demo.params.triggers.churn_window_days}
    tables = {k: t.get(k) for k in ("usage", "surveys", "tickets", "csm_inputs", "outcomes",
                                    "triggers")}
    dates = demo_dates(demo)[-15:]
    many = health.health_scores_on(t["accounts"], dates, **tables, **options)
    assert list(many) == dates
    for day in dates:
        one = health.health_scores(t["accounts"], as_of=day, **tables, **options)
        pd.testing.assert_frame_equal(many[day], one)
        assert many[day]["health_score"].notna().sum() > 100  # the demo scores its accounts


def reference_health_at_cutoff(decisions, tables, *, weights, bands, cutoff_days, **options):
    """The backtest as it was before issue 22: :func:`health.health_scores` once per
    scoring month (the code removed from ``backtest.health_at_cutoff``)."""
    measure_cols = [f"{k}_{m}" for k in ("score", "contrib") for m in health.HEALTH_MEASURES]
    columns = [*backtest.BACKTEST_COLUMNS, "scored_on", *measure_cols]
    when = pd.to_datetime(decisions["decision_date"])
    cut = when - pd.Timedelta(days=cutoff_days)
    month_end = (cut.dt.to_period("M") - 1).dt.to_timestamp(how="end").dt.normalize()
    parts = []
    for day, group in decisions.groupby(month_end):
        scored = health.health_scores(
            tables["accounts"], as_of=day, weights=weights, bands=bands,
            usage=tables.get("usage"), surveys=tables.get("surveys"),
            tickets=tables.get("tickets"), csm_inputs=tables.get("csm_inputs"),
            outcomes=tables.get("outcomes"), triggers=tables.get("triggers"), **options)
        got = scored.reindex(group["account_id"])[["health_score", "health_band",
                                                   *measure_cols]]
        got.index = group.index
        got["account_id"] = group["account_id"]
        got["decision_date"] = when.loc[group.index]
        got["scored_on"] = day
        parts.append(got.dropna(subset=["health_score"]))
    return pd.concat([p for p in parts if not p.empty])[columns].sort_index()


def test_health_backtest_is_unchanged_on_the_demo(demo):
    h = demo.params.health
    options = {"weights": h.weights, "bands": h.bands, **h.measure_options.model_dump(),
               "outcome_lookback_days": demo.params.outcomes.lookback_days,
               "trigger_window_days": demo.params.triggers.churn_window_days}
    decisions = demo.renewal_decisions
    recent = decisions[decisions["decision_date"] >= demo.health_window_start]
    cutoff = demo.params.drivers.cutoff_days
    new = backtest.health_at_cutoff(recent, demo.tables, cutoff_days=cutoff, **options)
    old = reference_health_at_cutoff(recent, demo.tables, cutoff_days=cutoff, **options)
    assert len(new) > 300 and new["scored_on"].nunique() > 12
    pd.testing.assert_frame_equal(new, old)
    pd.testing.assert_frame_equal(demo.health_at_cutoff, old)


def test_stage_history_is_lifecycle_stage_per_date_on_the_demo(demo):
    t, lc = demo.tables, demo.params.lifecycle
    steps = segments.onboarding_step_order(t["accounts"], t.get("onboarding"))
    rules = dict(onboarding=t.get("onboarding"), usage=t.get("usage"), mrr=t.get("mrr"),
                 onboarding_days=lc.onboarding_days, active_depth=lc.active_depth,
                 expanding_growth=lc.expanding_growth,
                 transformational_depth=lc.transformational_depth,
                 transformational_products=lc.transformational_products,
                 steps=steps or None)
    dates = segments.month_ends(demo.as_of, 12)
    history = segments.stage_history(t["accounts"], dates=dates, **rules)
    expected = pd.DataFrame({day: segments.lifecycle_stage(t["accounts"], as_of=day, **rules)
                             .astype(object) for day in dates})
    expected.index.name = "account_id"
    pd.testing.assert_frame_equal(history, expected)
    assert history.iloc[:, -1].nunique() >= 4  # several stages are placed
    for rule in (dict(rules, steps=None), dict(rules, onboarding=None, onboarding_days=60)):
        many = segments.lifecycle_stages_on(t["accounts"], dates[-3:], **rule)
        for day in dates[-3:]:
            pd.testing.assert_series_equal(
                many[day], segments.lifecycle_stage(t["accounts"], as_of=day, **rule))


# --------------------------------------------------------------------------- hand fixtures
USAGE = pd.DataFrame({
    "account_id": ["A", "A", "A", "A", "A", "B", "B", "C", None],
    "month": pd.to_datetime(["2025-01-01", "2025-04-01", "2025-04-20", "2025-05-10",
                             "2025-05-25", "2025-02-01", "2025-05-01", "2025-06-01",
                             "2025-04-01"]),
    "active_users": [10, 4, 2, np.nan, 3, 5, np.nan, 7, 1],
    "licensed_seats": [20, 20, 20, 20, 20, 0, 10, 7, 1],
    "key_actions": [100, 30, 10, 50, 20, 40, 80, 9, 1],
})


def test_usage_snapshot_inside_a_month_counts_only_rows_dated_by_then():
    history = UsageHistory(USAGE)
    got = history.snapshot("2025-05-15")
    # A: May holds only the 10 May row (users blank, 50 actions), April sums 4 + 2 users
    assert got.loc["A", "month"] == pd.Timestamp("2025-05-01")
    assert np.isnan(got.loc["A", "active_users"]) and got.loc["A", "key_actions"] == 50
    # B: its May row; 3 months before is Feb (5 users, 40 actions): actions 80 / 40 - 1
    assert got.loc["B", "actions_change"] == pytest.approx(1.0)
    assert np.isnan(got.loc["B", "depth"])  # no users in May
    assert "C" not in got.index  # June is after the day
    end = history.snapshot("2025-05-31")
    assert end.loc["A", "active_users"] == 3 and end.loc["A", "key_actions"] == 70
    assert end.loc["A", "depth"] == pytest.approx(3 / 40)  # a month's rows are summed, seats too
    april = history.snapshot("2025-04-30")
    assert april.loc["A", "active_users"] == 6  # both April rows summed
    assert april.loc["A", "active_users_before"] == 10  # January
    assert april.loc["A", "active_change"] == pytest.approx(6 / 10 - 1)
    for day in ("2024-12-31", "2025-01-01", "2025-04-10", "2025-04-30", "2025-05-15",
                "2025-05-31", "2025-06-30"):
        pd.testing.assert_frame_equal(history.snapshot(day), state.usage_snapshot(USAGE, day))
    assert UsageHistory(None).snapshot("2025-05-31").empty


SURVEYS = pd.DataFrame({
    "account_id": ["A", "A", "A", "B", "B", "C"],
    "date": pd.to_datetime(["2025-01-10", "2025-03-05", "2025-03-05", None, "2025-06-01",
                            "2025-02-01"]),
    "nps": [2, 6, 9, 7, 10, np.nan],
})


def test_latest_values_average_one_day_and_count_undated_rows_as_oldest():
    latest = LatestValues(SURVEYS, ["nps"])
    got = latest.at("2025-04-01")
    assert got.loc["A", "nps"] == pytest.approx(7.5)  # 6 and 9 on 5 March
    assert got.loc["B", "nps"] == 7  # the undated answer; June is later
    assert "C" not in got.index  # blank score
    assert latest.at("2025-06-30").loc["B", "nps"] == 10
    for day in ("2024-01-01", "2025-01-10", "2025-03-05", "2025-06-30"):
        pd.testing.assert_frame_equal(latest.at(day),
                                      state.latest_on_or_before(SURVEYS, ["nps"], day))



@pytest.mark.filterwarnings("error")
def test_undated_rows_in_a_microsecond_date_column_count_as_oldest_without_a_warning():
    # Arrow-read dates arrive as datetime64[us]; the blank date's stand-in must fit that unit
    # (pd.Timestamp.min has nanoseconds: pandas warns now and will raise later).
    surveys = SURVEYS.assign(date=pd.to_datetime(SURVEYS["date"]).astype("datetime64[us]"))
    assert str(surveys["date"].dtype) == "datetime64[us]"
    assert LatestValues(surveys, ["nps"]).at("2025-04-01").loc["B", "nps"] == 7
    assert state.latest_on_or_before(surveys, ["nps"], "2025-04-01").loc["B", "nps"] == 7

MRR = pd.DataFrame({
    "account_id": ["A", "A", "A", "B", "B", "C", "C"],
    "month": pd.to_datetime(["2024-01-01", "2025-01-01", "2025-03-01", "2025-01-01",
                             "2025-02-01", "2025-01-01", "2025-02-01"]),
    "mrr": [100.0, 120.0, 150.0, 50.0, 60.0, 0.0, 30.0],
})


def test_mrr_growth_over_twelve_months_and_for_young_accounts():
    growth = MrrGrowth(MRR).at("2025-03-31")
    assert growth["A"] == pytest.approx(150 / 120 - 1)  # Jan 2024 is 14 months back
    assert growth["B"] == pytest.approx(60 / 50 - 1)  # young: first month in the window
    assert np.isnan(growth["C"])  # base of 0
    assert MrrGrowth(MRR).at("2025-01-31")["A"] == pytest.approx(120 / 100 - 1)
    for day in ("2023-01-31", "2024-06-30", "2025-01-31", "2025-03-31"):
        pd.testing.assert_series_equal(MrrGrowth(MRR).at(day), state.mrr_growth(MRR, day))


def test_health_scores_on_hand_tables_equal_one_date_at_a_time():
    accounts = pd.DataFrame({"account_id": ["A", "B", "C"], "products": [1, 2, 4],
                             "start_date": pd.to_datetime(["2024-01-01"] * 3),
                             "segment": ["SMB", "SMB", "Enterprise"]})
    tickets = pd.DataFrame({"account_id": ["A", "A", "B"],
                            "opened_at": pd.to_datetime(["2025-04-01", "2025-05-20",
                                                         "2024-01-01"]),
                            "priority": ["urgent", "High", "high"]})
    csm = pd.DataFrame({"account_id": ["A", "C"], "date": pd.to_datetime(["2025-01-01", None]),
                        "executive_relationship": [5, 1], "champion_quality": [3, np.nan]})
    tables = {"usage": USAGE, "surveys": SURVEYS, "tickets": tickets, "csm_inputs": csm}
    dates = [pd.Timestamp(d) for d in ("2025-05-15", "2025-05-31", "2025-06-30")]
    many = health.health_scores_on(accounts, dates, weights=WEIGHTS, bands=BANDS,
                                   **tables, **OPTIONS)
    for day in dates:
        pd.testing.assert_frame_equal(
            many[day], health.health_scores(accounts, as_of=day, weights=WEIGHTS, bands=BANDS,
                                            **tables, **OPTIONS))
    # A on 31 May: 2 high tickets in 90 days -> 100 * (1 - 2/5) = 60
    assert many[dates[1]].loc["A", "score_tickets"] == pytest.approx(60.0)
    assert many[dates[1]].loc["C", "score_executive_relationship"] == 0.0  # undated 1 of 5


# --------------------------------------------------------------------------- bands
@pytest.mark.parametrize("bounds", [BANDS, {"red": 40, "amber": 40, "green": 90}])
def test_vectorised_bands_equal_band_of_each_score(bounds):
    scores = pd.Series([0.0, 39.9, 40.0, 40.01, 50.0, 50.5, 75.0, 75.01, 90.0, 100.0, 130.0,
                        np.nan], index=pd.Index([f"a{i}" for i in range(12)],
                                                name="account_id"))
    got = health.health_bands(scores, bounds)
    assert got.tolist()[:-1] == [health.band_of(s, bounds) for s in scores.iloc[:-1]]
    assert pd.isna(got.iloc[-1]) and got.name == "health_band"
    assert health.health_bands(scores.iloc[[2]], bounds).iloc[0] == "red"  # first of a tie


def test_vectorised_bands_per_segment_equal_band_of_each_score():
    bands = {"default": BANDS, "Enterprise": {"red": 60, "yellow": 85, "green": 100}}
    scores = pd.Series([55.0, 55.0, 80.0, np.nan, 90.0])
    segs = pd.Series(["SMB", "Enterprise", "Enterprise", "Enterprise", None])
    got = health.health_bands(scores, bands, segs)
    assert got.tolist() == ["yellow", "red", "yellow", None, "green"]
    assert got.dtype == object


def test_usage_history_keeps_only_the_rows_it_may_aggregate_again():
    monthly = pd.DataFrame({
        "account_id": ["A", "A", "B", "B"],
        "month": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-01-01", "2025-02-01"]),
        "active_users": [1.0, 2.0, 3.0, 4.0], "licensed_seats": [5.0] * 4,
        "key_actions": [10.0, 20.0, 30.0, 40.0]})
    assert len(UsageHistory(monthly)._rows) == 0  # a monthly export: the aggregate suffices
    late = monthly.assign(month=pd.to_datetime(["2025-01-01", "2025-02-01", "2025-01-01",
                                                "2025-02-14"]))
    history = UsageHistory(late)
    assert sorted(history._rows["_code"]) == [0, 1]  # February's two rows, January's none
    # on 10 February B's row dated the 14th is left out (its January value), A's is in
    feb_10 = history.snapshot("2025-02-10")
    assert feb_10.loc["A", "active_users"] == 2.0 and feb_10.loc["B", "active_users"] == 3.0
    assert history.snapshot("2025-02-28").loc["B", "active_users"] == 4.0


MONTHLY_USAGE = pd.DataFrame({  # first days only; A's March twice (summed), blanks, no account
    "account_id": pd.array(["B", "A", "A", "A", "A", "B", None, "C", "B"], dtype="str"),
    "month": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-03-01", "2025-03-01",
                             "2025-04-01", "2025-04-01", "2025-04-01", None, "2025-02-01"]),
    "active_users": [5, 10, 4, 2, np.nan, 3, 9, 7, np.nan],
    "licensed_seats": [8, 20, 20, 20, 20, 0, 9, 7, np.nan],
    "key_actions": [40, 100, 30, 10, 50, 20, 9, 9, np.nan],
})


@pytest.mark.parametrize("usage", ["hand", "demo"])
def test_usage_history_from_the_monthly_sums_is_the_one_from_the_rows(usage, demo,
                                                                     monkeypatch):
    table = MONTHLY_USAGE if usage == "hand" else demo.tables["usage"]
    days = (["2024-12-31", "2025-01-31", "2025-03-15", "2025-04-30", "2025-06-30"]
            if usage == "hand" else demo_dates(demo))
    kept = UsageHistory(table)
    assert len(kept._rows) == 0 and len(kept._month_last) == 0  # from the monthly sums
    monkeypatch.setattr("playbook.analyses.history.usage_monthly", lambda _usage: None)
    rows = UsageHistory(table)  # the rows aggregated here, as before
    assert len(rows._month_last)
    for key in rows._monthly:
        np.testing.assert_array_equal(kept._monthly[key], rows._monthly[key])
    codes = rows.codes_of(rows._ids)
    for day in days:
        pd.testing.assert_frame_equal(kept.snapshot(day), rows.snapshot(day))
        np.testing.assert_array_equal(kept.depth_of(day, codes), rows.depth_of(day, codes))
    if usage == "hand":  # by hand: A's March is 4 + 2 users, 30 + 10 actions
        april = kept.snapshot("2025-04-30")
        assert april.loc["A", "active_users_before"] == 10  # January, three months before
        assert kept.snapshot("2025-03-31").loc["A", "key_actions"] == 40
        assert np.isnan(april.loc["A", "active_users"]) and "C" not in april.index
