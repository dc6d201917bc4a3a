"""The impact scenarios' starting point: the client's rates, whether they compound, and the
churn rates the paths compare (hand-computed answers)."""

from __future__ import annotations

import math

import pytest

from playbook.analyses.scenario_basis import scenario_basis

#: A trailing year: opening MRR 100,000, new 20,000 + reactivation 5,000, expansion 10,000,
#: churn 12,000 + contraction 3,000, closing 120,000.
YEAR = {"start_mrr": 100_000.0, "end_mrr": 120_000.0, "new": 20_000.0, "reactivation": 5_000.0,
        "expansion": 10_000.0, "churn": 12_000.0, "contraction": 3_000.0}
SCENARIOS = {"years": 3, "compounding": "monthly", "churn_base": "current", "growth": None,
             "churn_rates": [0.05, 0.1475, 0.3], "max_churn": 1.0, "max_growth": 2.0}


def test_plausible_rates_compound_with_the_clients_own_growth_and_churn():
    basis = scenario_basis(YEAR, **SCENARIOS)
    assert basis.compoundable and basis.implausible == []
    assert basis.churn == pytest.approx(0.15)          # (12,000 + 3,000) / 100,000
    assert basis.growth == pytest.approx(0.35)         # (20,000 + 5,000 + 10,000) / 100,000
    assert basis.mrr == 120_000.0                      # today's MRR, the base of the paths
    # 0, the client's 15% and the params' rates, less 14.75% (within half a point of 15%)
    assert basis.churn_rates == pytest.approx([0.0, 0.05, 0.15, 0.3])
    assert basis.model == {"years": 3, "compounding": "monthly", "churn_base": "current"}


def test_growth_from_params_replaces_the_clients():
    basis = scenario_basis(YEAR, **{**SCENARIOS, "growth": 0.2})
    assert basis.growth == 0.2 and basis.rates["growth"] == pytest.approx(0.35)


def test_churn_at_the_limit_is_not_compounded_and_says_why():
    year = {**YEAR, "churn": 97_000.0}                 # churn + contraction = 100% of opening
    basis = scenario_basis(year, **SCENARIOS)
    assert not basis.compoundable and basis.churn_rates == []
    assert basis.implausible == ["churn and contraction came to 100.0% of the opening MRR "
                                 "(limit 100%)"]
    assert basis.rates["churn"] == pytest.approx(1.0)  # still recorded as the client's rates


def test_a_year_without_opening_mrr_is_not_compounded():
    basis = scenario_basis({**YEAR, "start_mrr": 0.0}, **SCENARIOS)
    assert not basis.compoundable and math.isnan(basis.churn)
    assert basis.implausible == ["the opening MRR of the trailing twelve months is zero"]
