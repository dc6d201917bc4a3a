"""The analysis context: each shared intermediate equals the direct call to the analysis
function that defines it, is computed once, and the appendix's regression table is the
renewal-driver section's own."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from playbook import appendix
from playbook.analyses import backtest, drivers, health, revenue, segments
from playbook.context import AnalysisContext
from playbook.errors import DriverModelError
from playbook.findings import drivers as driver_story
from playbook.session import jsonable


@pytest.fixture(scope="module")
def run(small_demo_run):
    """A small demo client (300 accounts): its params and validated tables (conftest)."""
    return small_demo_run


@pytest.fixture
def ctx(run):
    params, data = run
    return AnalysisContext(params, data.tables)


def test_renewal_decisions_are_those_made_by_the_as_of_date(run, ctx):
    p, d = run
    made = drivers.renewal_decisions(d["accounts"], d.get("renewals"), d.get("churn_events"),
                                     as_of=ctx.as_of, **p.renewal_options())
    pd.testing.assert_frame_equal(ctx.renewal_decisions,
                                  made[made["decision_date"] <= ctx.as_of])
    pd.testing.assert_series_equal(ctx.month_to_month_accounts, drivers.month_to_month_accounts(
        d["accounts"], term_months=p.contracts.term_months))


def test_mrr_movements_recognise_churn_as_the_params_say(run, ctx):
    p, d = run
    counted = revenue.recognise_churn(d["mrr"], d.get("churn_events"),
                                      recognise_at=p.churn.recognise_at)
    moves = revenue.mrr_movements(counted,
                                  reactivation_window_months=p.churn.reactivation_window_months,
                                  count_same_month_churn=p.churn.count_same_month_churn,
                                  churn_events=d.get("churn_events"))
    pd.testing.assert_frame_equal(ctx.mrr_movements, moves)


def test_value_scores_and_tiers(run, ctx):
    p, d = run
    scores = segments.value_scores(d["accounts"], as_of=ctx.as_of, weights=p.value.weights,
                                   usage=d.get("usage"), csm_inputs=d.get("csm_inputs"),
                                   mrr=d.get("mrr"))
    pd.testing.assert_frame_equal(ctx.value_scores, scores)
    pd.testing.assert_series_equal(ctx.value_tiers,
                                   segments.value_tiers(scores, shares=p.value.tier_shares))
    day = ctx.as_of - pd.DateOffset(months=12)
    pd.testing.assert_frame_equal(ctx.value_scores_on(day), segments.value_scores(
        d["accounts"], as_of=day, weights=p.value.weights, usage=d.get("usage"),
        csm_inputs=d.get("csm_inputs"), mrr=d.get("mrr")))


def test_value_tiers_follow_the_tier_method(run):
    p, d = run
    by_cutoffs = p.model_copy(update={"value": p.value.model_copy(update={
        "tier_method": "cutoffs", "tier_cutoffs": {"high": 60.0, "medium": 30.0, "low": 0.0},
    })})
    ctx = AnalysisContext(by_cutoffs, d.tables)
    expected = segments.value_tiers(ctx.value_scores, shares=p.value.tier_shares,
                                    cutoffs={"high": 60.0, "medium": 30.0, "low": 0.0})
    pd.testing.assert_series_equal(ctx.value_tiers, expected)


def test_health_now_and_at_past_cutoffs_use_the_measure_options(run, ctx):
    p, d = run
    h = p.health
    options = {**h.measure_options.model_dump(),
               "outcome_lookback_days": p.outcomes.lookback_days,
               "trigger_window_days": p.triggers.churn_window_days}
    scored = health.health_scores(d["accounts"], as_of=ctx.as_of, weights=h.weights,
                                  bands=h.bands, usage=d.get("usage"),
                                  surveys=d.get("surveys"), tickets=d.get("tickets"),
                                  csm_inputs=d.get("csm_inputs"), outcomes=d.get("outcomes"),
                                  triggers=d.get("triggers"), **options)
    pd.testing.assert_frame_equal(ctx.health_scores, scored)
    decisions = ctx.renewal_decisions
    lost = decisions[(decisions["renewed"] == 0) & decisions["decision_date"].between(
        ctx.as_of - pd.DateOffset(months=12), ctx.as_of)]
    assert len(lost) > 0
    direct = backtest.health_at_cutoff(lost, d.tables, weights=h.weights, bands=h.bands,
                                       cutoff_days=p.drivers.cutoff_days, **options)
    pd.testing.assert_frame_equal(ctx.health_before(lost), direct)
    months = max(12, h.backtest_months)
    assert ctx.health_window_start == ctx.as_of - pd.DateOffset(months=months)
    early = decisions[decisions["decision_date"] < ctx.health_window_start]
    if len(early):
        with pytest.raises(ValueError, match="predate"):
            ctx.health_before(early)


def test_renewal_model_and_its_modelling_table(run, ctx):
    p, d = run
    options = p.feature_options()
    rows, built = drivers.modelling_table(ctx.renewal_decisions, d.tables,
                                          cutoff_days=p.drivers.cutoff_days, **options)
    pd.testing.assert_frame_equal(ctx.modelling_rows, rows)
    assert ctx.features_built == built
    lookback = drivers.history_days(contact_days_cap=options["contact_days_cap"],
                                    nps_lookback_days=options["nps_lookback_days"])
    table, history = drivers.drop_short_history(rows, drivers.data_start(d.tables), lookback)
    pd.testing.assert_frame_equal(ctx.modelling_table, table)
    assert ctx.modelling_history == history
    features = drivers.chosen_features(p.drivers.features, built, derived=False)
    assert ctx.model_features == features and ctx.features_left_out == {}
    model = drivers.fit_renewal_model(table, features, units=built["units"])
    pd.testing.assert_frame_equal(ctx.renewal_model.coefficients, model.coefficients)


def test_each_intermediate_is_computed_once(run, monkeypatch):
    p, d = run
    calls: dict[str, int] = {}

    def counted(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls[name] = calls.get(name, 0) + 1
            return real(*args, **kwargs)
        monkeypatch.setattr(module, name, wrapper)

    for module, name in ((drivers, "renewal_decisions"), (drivers, "modelling_table"),
                         (drivers, "fit_renewal_model"), (revenue, "recognise_churn"),
                         (revenue, "mrr_movements"), (segments, "value_scores"),
                         (health, "health_scores"), (backtest, "health_at_cutoff")):
        counted(module, name)
    ctx = AnalysisContext(p, d.tables)
    for _ in range(2):
        read = (ctx.renewal_decisions, ctx.mrr_movements, ctx.value_tiers, ctx.health_scores,
                ctx.health_before(ctx.renewal_decisions.iloc[-5:]), ctx.renewal_model,
                ctx.modelling_table, ctx.modelling_rows)
        assert all(x is not None for x in read)
    assert calls == {name: 1 for name in calls} and len(calls) == 8


def test_a_model_the_data_cannot_support_is_tried_once_and_raises_each_time(run,
                                                                          monkeypatch):
    p, d = run
    tries = []

    def cannot(*args, **kwargs):
        tries.append(1)
        raise DriverModelError("only one outcome")
    monkeypatch.setattr(drivers, "fit_renewal_model", cannot)
    ctx = AnalysisContext(p, d.tables)
    for _ in range(2):
        with pytest.raises(DriverModelError, match="only one outcome"):
            _ = ctx.renewal_model
    assert len(tries) == 1


def test_the_appendix_table_is_the_driver_sections_model_table(ctx):
    """The appendix builds its table from the context's model; the driver section records
    the same model in results.json: both give the same table, figure for figure."""
    record = driver_story.model_record(ctx.renewal_model, ctx.features_built)
    recorded = json.loads(json.dumps(jsonable(record)))   # as 02 writes and reads it back
    ours = appendix.regression_table(record)
    pd.testing.assert_frame_equal(ours, appendix.regression_table(recorded))
    assert appendix.regression_caption(record) == appendix.regression_caption(recorded)
    assert appendix.regression_note(record) == appendix.regression_note(recorded)
    assert len(ours) == len(ctx.renewal_model.coefficients) > 0


def test_retention_windows_are_one_computation_kept_per_length(ctx):
    """The revenue section's trailing window and the scenarios' trailing year read one
    computation (retention_summary on the context's movements), kept per window length."""
    want = revenue.retention_summary(ctx.mrr_movements, ctx.as_of - pd.DateOffset(months=11),
                                     ctx.as_of)
    assert ctx.retention_over(12) == want
    assert ctx.retention_over(12) is ctx.retention_over(12)
    assert ctx.retention_over(3)["months"] == 3
