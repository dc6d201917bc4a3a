"""Customer lifetime value: NPV of expected margin, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import clv
from playbook.errors import ParamsError
from playbook.findings.segments import clv_not_shown


def test_monthly_churn():
    assert clv.monthly_churn(0.2) == pytest.approx(1 - 0.8 ** (1 / 12))  # 1.842% a month
    assert clv.monthly_churn(0.2) == pytest.approx(0.018423, abs=1e-6)
    assert clv.monthly_churn(1 - 0.9**12) == pytest.approx(0.1)
    assert np.isnan(clv.monthly_churn(np.nan))


def test_survival_curve():
    s = clv.survival(1 - 0.9**12, 3)  # 10% a month
    assert s.tolist() == pytest.approx([0.9, 0.81, 0.729])
    assert clv.survival(0.0, 2).tolist() == [1.0, 1.0]


def test_margin_factor_by_hand():
    # monthly survival 0.9, monthly discount 1.01, margin 0.8, two months:
    # 0.8 x (0.9 / 1.01 + 0.81 / 1.0201) = 0.8 x (0.891089 + 0.794040) = 1.348103
    f = clv.margin_factor(1 - 0.9**12, gross_margin=0.8, discount_rate=1.01**12 - 1,
                          horizon_months=2)
    assert f == pytest.approx(1.348103, abs=1e-6)
    # no churn, no discounting: margin x months
    assert clv.margin_factor(0.0, gross_margin=0.75, discount_rate=0.0,
                             horizon_months=60) == pytest.approx(45.0)
    assert np.isnan(clv.margin_factor(np.nan, gross_margin=0.75, discount_rate=0.1,
                                      horizon_months=12))


KW = dict(gross_margin=0.5, discount_rate=0.0, horizon_months=12, min_churned=1,
          max_lifetime_months=120)


def _churn(base: dict[str, int], churned: dict[str, int], annual: dict[str, float]
           ) -> pd.DataFrame:
    return pd.DataFrame({"base_accounts": base, "churned": churned, "annual_churn": annual})


def test_clv_by_tier_by_hand():
    current = pd.DataFrame({"accounts": [2, 4], "mrr": [2000.0, 400.0]},
                           index=pd.Index(["high", "low"], name="tier"))
    churn = _churn({"high": 10, "low": 20}, {"high": 1, "low": 5},
                   {"high": 1 - 0.99**12, "low": 1 - 0.9**12})
    out = clv.clv_by_tier(current, churn, **KW)
    assert out["arpa"].tolist() == [1000.0, 100.0]
    assert out["withheld"].tolist() == ["", ""]
    # low: 0.5 x sum 0.9^t, t = 1..12 = 0.5 x 0.9 (1 - 0.9^12) / 0.1 = 4.5 x 0.7175705 = 3.229067
    assert out.loc["low", "factor"] == pytest.approx(3.229067, abs=1e-6)
    assert out.loc["low", "clv"] == pytest.approx(322.9067, abs=1e-3)
    assert out.loc["low", "clv_total"] == pytest.approx(4 * 322.9067, abs=1e-2)
    assert out.loc["low", "monthly_churn"] == pytest.approx(0.1)
    assert out.loc["low", "lifetime_months"] == pytest.approx(10.0)
    assert out.loc["low", "simple_clv"] == pytest.approx(1000.0)  # ARPA 100 / 10% a month
    assert out.loc["low", "survival_end"] == pytest.approx(0.9**12)
    # high: 1% a month is a 100-month lifetime, within 120: ARPA 1,000 x 100
    assert out.loc["high", "simple_clv"] == pytest.approx(100_000.0)
    assert clv.defensible_total(out) == pytest.approx(out["clv_total"].sum())


def test_tier_churn_reads_the_tier_exhibit_and_annualises_by_hand():
    """The tier churn exhibit's base accounts and churned accounts per tier (metrics
    basis); a 6-month window's churn of 50% is 75% a year."""
    exhibit = pd.DataFrame({"accounts": [2, 4, 0], "churned_accounts": [1, 2, 0],
                            "churn_rate": [0.5, 0.5, np.nan]},
                           index=pd.Index(["high", "mid", "low"], name="tier"))
    out = clv.tier_churn(exhibit, months=6)
    assert out["base_accounts"].tolist() == [2, 4, 0] and out["churned"].tolist() == [1, 2, 0]
    assert out["churn"].iloc[:2].tolist() == pytest.approx([0.5, 0.5])
    assert out["annual_churn"].iloc[:2].tolist() == pytest.approx([1 - 0.5**2] * 2)
    assert np.isnan(out.loc["low", "annual_churn"])
    assert clv.tier_churn(exhibit, months=12)["annual_churn"].iloc[0] == pytest.approx(0.5)


def test_a_zero_churn_tier_is_withheld_not_valued_at_an_infinite_lifetime():
    """#18: a CLV of $27.6M came from a 0% churn rate."""
    current = pd.DataFrame({"accounts": [3, 5], "mrr": [3000.0, 500.0]},
                           index=pd.Index(["high", "low"], name="tier"))
    churn = _churn({"high": 40, "low": 50}, {"high": 0, "low": 10}, {"high": 0.0, "low": 0.2})
    out = clv.clv_by_tier(current, churn, **{**KW, "min_churned": 5})
    assert np.isnan(out.loc["high", "clv"]) and np.isnan(out.loc["high", "simple_clv"])
    assert np.isnan(out.loc["high", "annual_churn"])
    assert out.loc["high", "withheld"] == ("no account of the tier churned, and a lifetime "
                                           "from zero churn is infinite")
    assert out.loc["low", "withheld"] == "" and out.loc["low", "clv"] > 0
    assert clv.defensible_total(out) is None   # no total while a tier is withheld


def test_a_tier_with_too_few_churned_accounts_is_withheld():
    current = pd.DataFrame({"accounts": [3], "mrr": [300.0]}, index=["mid"])
    out = clv.clv_by_tier(current, _churn({"mid": 30}, {"mid": 4}, {"mid": 4 / 30}),
                          **{**KW, "min_churned": 5})
    assert out.loc["mid", "withheld"] == "its churn rests on 4 churned accounts, fewer than 5"
    assert np.isnan(out.loc["mid", "clv"])


def test_the_rule_of_thumb_is_blank_beyond_the_lifetime_limit():
    # 5.4% a year is 0.4617% a month: a 217-month lifetime, 217 x ARPA (demo's "6,029,929")
    current = pd.DataFrame({"accounts": [1], "mrr": [27_705.0]}, index=["high"])
    out = clv.clv_by_tier(current, _churn({"high": 111}, {"high": 6}, {"high": 0.054}),
                          **{**KW, "max_lifetime_months": 120})
    assert out.loc["high", "lifetime_months"] == pytest.approx(1 / (1 - 0.946 ** (1 / 12)))
    assert out.loc["high", "lifetime_months"] > 200
    assert np.isnan(out.loc["high", "simple_clv"])
    assert out.loc["high", "clv"] > 0            # the NPV stays: it has a horizon


def test_discounting_lowers_value_and_longer_horizons_raise_it():
    kw = dict(gross_margin=0.75)
    base = clv.margin_factor(0.15, discount_rate=0.10, horizon_months=60, **kw)
    assert clv.margin_factor(0.15, discount_rate=0.0, horizon_months=60, **kw) > base
    assert clv.margin_factor(0.15, discount_rate=0.10, horizon_months=120, **kw) > base
    assert clv.margin_factor(0.30, discount_rate=0.10, horizon_months=60, **kw) < base


def test_missing_churn_gives_missing_clv_and_account_clv():
    current = pd.DataFrame({"accounts": [1, 1], "mrr": [50.0, 80.0]}, index=["a", "b"])
    out = clv.clv_by_tier(current, _churn({"a": 10}, {"a": 5}, {"a": 0.5}),
                          **{**KW, "gross_margin": 1.0, "horizon_months": 1})
    assert out.loc["a", "clv"] == pytest.approx(50 * 0.5 ** (1 / 12))
    assert np.isnan(out.loc["b", "clv"])
    assert out.loc["b", "withheld"] == "no account of the tier was in the base"
    per_account = clv.account_clv(pd.Series({"x": 10.0, "y": 20.0}),
                                  pd.Series({"x": "a", "y": "b"}), out)
    assert per_account["x"] == pytest.approx(10 * 0.5 ** (1 / 12))
    assert np.isnan(per_account["y"])


@pytest.mark.parametrize("kw", [dict(gross_margin=0.0), dict(gross_margin=1.2),
                                dict(discount_rate=-1.0), dict(horizon_months=0)])
def test_assumptions_out_of_range_are_errors(kw):
    args = dict(gross_margin=0.75, discount_rate=0.1, horizon_months=12) | kw
    with pytest.raises(ParamsError):
        clv.margin_factor(0.1, **args)


def test_clv_stops_when_the_headline_withholds_its_inputs():
    """A contradicted MRR history withholds MRR and logo churn (#18, RavenStack): no
    lifetime value is built on them; the line names both once, with the reason."""
    why = {"reason": "the export contradicts itself: 110 churned accounts keep MRR.",
           "fix": "Ask the client."}
    assert clv.withheld_inputs({}) == {}
    assert clv.withheld_inputs({"grr": why}) == {}          # GRR is not a CLV input
    blocked = clv.withheld_inputs({"nrr": why, "logo_churn": why, "mrr": why})
    assert blocked == {"mrr": "the export contradicts itself: 110 churned accounts keep MRR",
                       "logo_churn": "the export contradicts itself: 110 churned accounts "
                                     "keep MRR"}
    assert clv_not_shown(blocked) == (
        "Not shown: lifetime value per tier, which rests on each tier's MRR and logo churn; "
        "MRR and logo churn are withheld: the export contradicts itself: 110 churned accounts "
        "keep MRR. It returns when the headline figures can be trusted (see the summary and "
        "the data-quality appendix).")
