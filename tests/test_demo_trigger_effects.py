"""The demo's planted outcome, trigger and expansion effects are recovered by the product's
own analyses inside their 95% intervals; with those effects off, nothing is significant.

Planted (``playbook.demo.effects.PLANTED_EFFECTS``): champion left -> churn odds x2.5 at
renewals within 180 days; every outcome met at the cut-off -> renewal odds x2; funding ->
upsell x2 in the 6 months after (expansion odds about x2); seats nearly full -> upsell x2
(the expansion model's ``seats_nearly_full`` odds ratio about 2).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from playbook import paths
from playbook.analyses import drivers, outcomes, survival, triggers
from playbook.config import load_params
from playbook.context import AnalysisContext
from playbook.demo import PLANTED_EFFECTS, generate_demo
from playbook.loader import load_client

_EFFECTS = ("champion_left_churn", "outcomes_met_renewal", "funding_expansion",
            "seats_full_expansion")


def _context(root: Path) -> AnalysisContext:
    """Load ``root``/data/demo as a run does (a project root of its own)."""
    (root / "params").mkdir()
    (root / "params" / "demo.yaml").write_bytes(paths.params_file("demo").read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLAYBOOK_ROOT", str(root))
        params = load_params("demo")
        data = load_client(params)
    return AnalysisContext(params, data.tables, data.quality.problems())


def _effects(ctx: AnalysisContext) -> pd.DataFrame:
    p, t = ctx.params, ctx.tables
    churn = triggers.churn_after_triggers(
        ctx.renewal_decisions, t["triggers"], window_days=p.triggers.churn_window_days,
        min_exposed=p.triggers.min_exposed, table=ctx.modelling_table,
        features=ctx.model_features, units=ctx.features_built["units"])
    grow = triggers.expansion_after_triggers(
        ctx.counted_mrr, t["triggers"], as_of=pd.Timestamp(p.as_of),
        horizon_months=p.expansion.horizon_months, min_rise_share=p.expansion.min_rise_share,
        min_exposed=p.triggers.min_exposed)
    return triggers.trigger_effects(churn, grow).set_index(["outcome", "type"])


def _outcome_effect(ctx: AnalysisContext) -> outcomes.OutcomeEffect:
    p = ctx.params
    return outcomes.outcome_effect(ctx.modelling_table, ctx.tables["outcomes"],
                                   ctx.model_features, cutoff_days=p.drivers.cutoff_days,
                                   lookback_days=p.outcomes.lookback_days,
                                   units=ctx.features_built["units"])


def _cox(ctx: AnalysisContext) -> pd.DataFrame:
    p, t = ctx.params, ctx.tables
    life = survival.account_lifetimes(t["accounts"], t.get("churn_events"), as_of=p.as_of,
                                      data_start=drivers.data_start(t))
    return triggers.trigger_cox(life, t["triggers"], window_days=p.triggers.churn_window_days,
                                min_events=p.triggers.min_cox_events)


def _seats_full(ctx: AnalysisContext) -> pd.Series:
    """The expansion model's row for seats nearly full, as section 5 fits it."""
    return ctx.expansion_model.odds_ratios.set_index("feature").loc["seats_nearly_full"]


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> AnalysisContext:
    root = tmp_path_factory.mktemp("demo_planted")
    generate_demo(root / "data" / "demo")
    return _context(root)


@pytest.fixture(scope="module")
def null(tmp_path_factory: pytest.TempPathFactory) -> AnalysisContext:
    root = tmp_path_factory.mktemp("demo_null")
    with pytest.MonkeyPatch.context() as mp:
        for name in _EFFECTS:
            mp.setitem(PLANTED_EFFECTS[name], "value", 0.0)
        generate_demo(root / "data" / "demo")
    return _context(root)


def _inside(value: float, low: float, high: float) -> bool:
    return low <= value <= high


def test_planted_values_are_the_documented_ratios() -> None:
    assert math.exp(PLANTED_EFFECTS["champion_left_churn"]["value"]) == pytest.approx(2.5, 1e-3)
    for name in ("outcomes_met_renewal", "funding_expansion", "seats_full_expansion"):
        assert math.exp(PLANTED_EFFECTS[name]["value"]) == pytest.approx(2.0, 1e-3)


def test_champion_left_churn_is_recovered(planted: AnalysisContext) -> None:
    row = _effects(planted).loc[("churn", "champion_left")]
    assert _inside(2.5, row["or_low"], row["or_high"]), row
    assert row["or_low"] > 1 and row["significant"]
    # the crude rate ratio points the same way: churn is more frequent after the trigger
    assert row["rate_exposed"] > row["rate_unexposed"]


def test_only_the_planted_triggers_are_significant(planted: AnalysisContext) -> None:
    fx = _effects(planted)
    significant = set(fx.index[fx["significant"]])
    assert significant == {("churn", "champion_left"), ("expansion", "funding")}


def test_funding_expansion_is_recovered(planted: AnalysisContext) -> None:
    row = _effects(planted).loc[("expansion", "funding")]
    assert _inside(2.0, row["or_low"], row["or_high"]), row
    assert row["or_low"] > 1


def test_outcomes_met_renewal_is_recovered(planted: AnalysisContext) -> None:
    fx = _outcome_effect(planted)
    assert _inside(2.0, fx.low, fx.high), fx
    assert fx.significant and fx.met >= 100


def test_seats_nearly_full_expansion_is_recovered(planted: AnalysisContext) -> None:
    row = _seats_full(planted)
    assert _inside(2.0, row["or_low"], row["or_high"]), row
    assert row["or_low"] > 1


def test_null_dataset_shows_no_significant_trigger(null: AnalysisContext) -> None:
    fx = _effects(null)
    assert not fx["significant"].any(), fx[fx["significant"]]
    assert fx.loc[("churn", "champion_left"), "or_low"] < 1 < fx.loc[
        ("churn", "champion_left"), "or_high"]


def test_null_dataset_shows_no_outcome_effect(null: AnalysisContext) -> None:
    fx = _outcome_effect(null)
    assert fx.low < 1 < fx.high, fx


def test_cox_hazard_ratio_of_champion_left_is_above_one(planted: AnalysisContext) -> None:
    # planted: churn odds x2.5 at a renewal within 180 days of the trigger; the hazard ratio
    # (churn per month while the trigger is recent) is on another scale: above 1 is the claim
    row = _cox(planted).loc["champion_left"]
    assert row["hazard_ratio"] > 1 and row["hr_low"] > 1, row


def test_null_dataset_cox_interval_includes_one(null: AnalysisContext) -> None:
    cox = _cox(null)
    row = cox.loc["champion_left"]
    assert row["hr_low"] < 1 < row["hr_high"], row
    fitted = cox[cox["hazard_ratio"].notna()]
    assert len(fitted) >= 3
    assert ((fitted["hr_low"] < 1) & (fitted["hr_high"] > 1)).all(), fitted
