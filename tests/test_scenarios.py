"""Churn impact and growth arithmetic against hand computations, including domain.md's."""

from __future__ import annotations

import pytest

from playbook.analyses.capacity import REFERENCE_PATHS, path_gap, revenue_paths
from playbook.analyses.scenarios import (
    churn_change_value,
    churn_point_value,
    client_rates,
    growth_arithmetic,
    lever_tornado,
    mrr_path,
    revenue_and_npv,
    step_factor,
)
from playbook.errors import ParamsError

YEARLY = {"compounding": "yearly", "churn_base": "current"}


# ----------------------------------------------------------------------------- domain.md
def test_domain_growth_target_50_plus_20_churn_needs_70():
    a = growth_arithmetic({"new_sales": 0.4, "expansion": 0.1, "churn": 0.2,
                           "end_mrr": 1000.0}, 0.5)
    assert a["needed"] == pytest.approx(0.7)
    assert a["delivered"] == pytest.approx(0.5)
    assert a["shortfall"] == pytest.approx(0.2)
    assert a["needed_mrr"] == pytest.approx(700.0)
    assert a["shortfall_mrr"] == pytest.approx(200.0)
    assert a["ratio"] == pytest.approx(1.4)
    assert a["implied_growth"] == pytest.approx(0.3)  # last year's pace: 50% - 20%


def test_domain_churn_compounding_1000_customers_at_100():
    """1,000 x $100 growing 50% a year, 0 / 10 / 30% churn, 3 years (domain.md)."""
    start = 1000 * 100.0
    for churn, yearly in ((0.0, 337_500.0), (0.1, 246_037.5), (0.3, 115_762.5)):
        path = mrr_path(start, {"new_sales": 0.5, "expansion": 0.0, "churn": churn},
                        years=3, **YEARLY)
        assert path.iloc[-1] == pytest.approx(yearly)  # 100,000 x (1.5 x (1 - c))^3
    # the same through revenue_paths / path_gap: 30% churn leaves 65.7% less (yearly)
    gap = path_gap(revenue_paths(**REFERENCE_PATHS, years=3, **YEARLY), 3)
    assert gap.loc[0.3, "gap_share"] == pytest.approx(1 - 115_762.5 / 337_500)
    # every convention leaves MRR about half or less of the no-churn path
    for comp in ("monthly", "yearly"):
        for base in ("current", "starting"):
            g = path_gap(revenue_paths(**REFERENCE_PATHS, years=3, compounding=comp,
                                       churn_base=base), 3)
            assert g.loc[0.3, "gap_share"] > 0.48


@pytest.mark.parametrize("compounding", ["monthly", "yearly"])
@pytest.mark.parametrize("churn_base", ["current", "starting"])
def test_mrr_path_matches_revenue_paths(compounding, churn_base):
    paths = revenue_paths(customers=50, arpa=20.0, growth=0.4, churn_rates=(0.15,), years=2,
                          compounding=compounding, churn_base=churn_base)
    path = mrr_path(1000.0, {"new_sales": 0.3, "expansion": 0.1, "churn": 0.15}, years=2,
                    compounding=compounding, churn_base=churn_base)
    assert path.to_numpy() == pytest.approx(paths[0.15].to_numpy())


# ----------------------------------------------------------------------------- the model
def test_step_factor_conventions():
    # yearly: multiplicative (1.4)(0.8)(1.02) and additive 1 + 0.4 - 0.2 + 0.02
    assert step_factor(0.4, 0.2, 0.02, compounding="yearly",
                       churn_base="current") == pytest.approx(1.4 * 0.8 * 1.02)
    assert step_factor(0.4, 0.2, 0.02, compounding="yearly",
                       churn_base="starting") == pytest.approx(1.22)
    # monthly: rates / 12
    assert step_factor(0.6, 0.12, compounding="monthly",
                       churn_base="current") == pytest.approx(1.05 * 0.99)
    with pytest.raises(ParamsError):
        step_factor(0.1, 0.1, compounding="daily", churn_base="current")  # type: ignore[arg-type]


def test_mrr_path_docstring_example():
    path = mrr_path(100.0, {"new_sales": 0.3, "expansion": 0.1, "churn": 0.2}, years=2,
                    **YEARLY)
    assert path.loc[24] == pytest.approx(125.44)  # 100 x (1.4 x 0.8)^2
    assert path.loc[11] == pytest.approx(100.0)  # flat within the first year
    assert path.loc[12] == pytest.approx(112.0)


def test_client_rates_read_the_metrics_basis():
    """The rates are the headline metrics' (#18): churn = 1 − GRR, expansion = NRR − GRR,
    new sales = new business share; no second churn definition from MRR flows."""
    metrics = {"base_mrr": 1000.0, "end_mrr": 1250.0, "grr": 0.9, "nrr": 1.0,
               "gross_revenue_churn": 0.1, "expansion_share": 0.1,
               "new_business_share": 0.25}
    r = client_rates(metrics)
    assert r["new_sales"] == pytest.approx(0.25)
    assert r["expansion"] == pytest.approx(0.10)   # 1.0 - 0.9
    assert r["churn"] == pytest.approx(0.10)       # 1 - 0.9
    assert r["growth"] == pytest.approx(0.35)
    assert r["price"] == 0.0
    assert r["start_mrr"] == 1000.0 and r["end_mrr"] == 1250.0
    # 1,000 x (NRR 1.0 + new business 0.25) = 1,250 = today's MRR
    assert r["start_mrr"] * (1 + r["growth"] - r["churn"]) == pytest.approx(r["end_mrr"])


def test_revenue_and_npv_by_hand():
    path = mrr_path(100.0, {"new_sales": 0.0, "expansion": 0.0, "churn": 0.0}, years=1,
                    compounding="monthly", churn_base="current")
    revenue, npv = revenue_and_npv(path, 0.0)
    assert revenue == pytest.approx(1200.0)  # months 1..12 at 100
    assert npv == pytest.approx(1200.0)
    _, npv10 = revenue_and_npv(path, 0.1)
    assert npv10 == pytest.approx(sum(100 / 1.1 ** (m / 12) for m in range(1, 13)))


# ----------------------------------------------------------------------------- value of less churn
def test_one_point_less_churn_yearly_by_hand():
    rates = {"new_sales": 0.5, "expansion": 0.0, "churn": 0.2}
    v = churn_point_value(100.0, rates, point=0.01, years=1, discount_rate=0.1, **YEARLY)
    # months 1-11 unchanged; month 12: 100 x 1.5 x (0.81 - 0.80) = 1.5
    assert v["churn_to"] == pytest.approx(0.19)
    assert v["mrr_gain_year_n"] == pytest.approx(1.5)
    assert v["revenue_gain"] == pytest.approx(1.5)
    assert v["npv_gain"] == pytest.approx(1.5 / 1.1)
    # revenue on the current path: 11 x 100 + 120 = 1220
    assert v["revenue_gain_share"] == pytest.approx(1.5 / 1220)
    assert v["mrr_year_n"] == pytest.approx(120.0)


def test_one_point_less_churn_two_years_by_hand():
    rates = {"new_sales": 0.5, "expansion": 0.0, "churn": 0.2}
    v = churn_point_value(100.0, rates, point=0.01, years=2, discount_rate=0.0, **YEARLY)
    # months 12-23: 100 x 1.5 x 0.81 = 121.5 vs 120 -> +1.5 x 12 = 18
    # month 24: 100 x (1.215^2 - 1.2^2) = 100 x 0.036225 = 3.6225
    assert v["revenue_gain"] == pytest.approx(18 + 3.6225)
    assert v["mrr_gain_year_n"] == pytest.approx(3.6225)


def test_churn_change_floors_at_zero():
    rates = {"new_sales": 0.5, "expansion": 0.0, "churn": 0.005}
    v = churn_change_value(100.0, rates, -0.01, years=1, discount_rate=0.0, **YEARLY)
    assert v["churn_to"] == 0.0
    assert v["mrr_gain_year_n"] == pytest.approx(150 - 150 * 0.995)


# ----------------------------------------------------------------------------- tornado
def test_lever_tornado_by_hand():
    rates = {"new_sales": 0.3, "expansion": 0.1, "churn": 0.2, "price": 0.0}
    tor = lever_tornado(100.0, rates, {"churn": 0.05, "new_sales": 0.1, "price": 0.02,
                                        "expansion": 0.2}, years=1, **YEARLY)
    # base: 100 x 1.4 x 0.8 = 112
    assert list(tor["base_mrr"]) == pytest.approx([112.0] * 4)
    # churn 0.25 -> 100 x 1.4 x 0.75 = 105; 0.15 -> 119
    assert tor.loc["churn", "worse_mrr"] == pytest.approx(105.0)
    assert tor.loc["churn", "better_mrr"] == pytest.approx(119.0)
    # new sales 0.2 -> 104; 0.4 -> 120: range 16
    assert tor.loc["new_sales", "range"] == pytest.approx(16.0)
    # price -2% -> 112 x 0.98 = 109.76; +2% -> 114.24
    assert tor.loc["price", "worse_mrr"] == pytest.approx(109.76)
    assert tor.loc["price", "better_mrr"] == pytest.approx(114.24)
    # expansion floored at 0: 100 x 1.3 x 0.8 = 104; 0.3 -> 100 x 1.6 x 0.8 = 128: the widest
    assert tor.loc["expansion", "worse_rate"] == 0.0
    assert tor.loc["expansion", "worse_mrr"] == pytest.approx(104.0)
    assert tor.loc["expansion", "better_mrr"] == pytest.approx(128.0)
    assert list(tor.index) == ["expansion", "new_sales", "churn", "price"]
    assert list(tor["range"]) == sorted(tor["range"], reverse=True)


def test_lever_tornado_rejects_unknown_lever():
    with pytest.raises(ParamsError, match="marketing"):
        lever_tornado(100.0, {"new_sales": 0.1, "expansion": 0.0, "churn": 0.1},
                      {"marketing": 0.1}, years=1, compounding="monthly", churn_base="current")


def test_implausible_rates_are_not_compounded():
    from playbook.analyses.scenarios import implausible_rates

    # domain.md's textbook case: 50% growth, 10% churn -> fine
    assert implausible_rates({"churn": 0.10, "growth": 0.50}, max_churn=1.0, max_growth=2.0) == []
    # a base that grew 5.5x in a year (RavenStack's trailing rates)
    reasons = implausible_rates({"churn": 2.727, "growth": 5.507}, max_churn=1.0, max_growth=2.0)
    assert reasons == ["gross revenue churn (1 − GRR) came to 272.7% of the base MRR "
                       "(limit 100%)",
                       "new business and expansion came to 550.7% of the base MRR "
                       "(limit 200%)"]
    assert implausible_rates({"churn": 1.2, "growth": 0.5}, max_churn=1.5, max_growth=2.0) == []
    assert implausible_rates({"churn": float("nan"), "growth": float("nan")},
                             max_churn=1.0, max_growth=2.0) == [
        "no account paid in the base month, so the rates have no base MRR"]
