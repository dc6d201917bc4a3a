"""Headcount, owner coverage and revenue paths against hand-computed figures."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from playbook.analyses.capacity import (
    owner_coverage,
    path_gap,
    required_headcount,
    revenue_paths,
)
from playbook.errors import ParamsError

# the touch_model section of playbook/defaults.yaml, as the config layer passes it
TOUCH_MODEL = {
    "tiers": {
        "high": {"accounts_per_csm": [20, 30],
                 "touches": {"monthly_call": 12, "qbr": 4, "onsite": 1}},
        "medium": {"accounts_per_csm": [100, 150],
                   "touches": {"check_in": 2, "risk_outreach": 2}},
        "low": {"accounts_per_csm": [0, 0], "touches": {"webinar": 4, "email_campaign": 12}},
    },
    "hours_per_touch": {"monthly_call": 1.5, "qbr": 6.0, "onsite": 16.0, "check_in": 1.0,
                        "risk_outreach": 2.0, "webinar": 0.0, "email_campaign": 0.0},
    "csm_hours_per_year": 1600,
    "account_admin_hours_per_year": {"high": 20, "medium": 4, "low": 0},
    "loaded_cost_per_csm": 120000,
}


# ----------------------------------------------------------------------------- headcount
def test_headcount_by_ratio_and_effort():
    out = required_headcount({"high": 60, "medium": 300, "low": 640}, TOUCH_MODEL)
    high = out.loc["high"]
    # ratio 20-30:1 -> 60/30 = 2.0 to 60/20 = 3.0 FTE
    assert (high["fte_by_ratio_min"], high["fte_by_ratio_max"]) == pytest.approx((2.0, 3.0))
    # effort: 12*1.5 + 4*6 + 1*16 = 58 touch hours + 20 admin = 78 h per account
    assert high["hours_per_account"] == pytest.approx(78.0)
    # 60 * 78 = 4680 h / 1600 h = 2.925 FTE; x 120,000 = 351,000
    assert high["total_hours"] == pytest.approx(4680.0)
    assert high["fte_by_effort"] == pytest.approx(2.925)
    assert high["cost_by_effort"] == pytest.approx(351_000.0)
    # medium: 300 * (2*1 + 2*2 + 4) = 3000 h / 1600 = 1.875 FTE; ratio 300/150..300/100
    assert out.loc["medium", "fte_by_effort"] == pytest.approx(1.875)
    assert out.loc["medium", "fte_by_ratio_min"] == pytest.approx(2.0)
    assert out.loc["medium", "fte_by_ratio_max"] == pytest.approx(3.0)
    # low is pooled: nobody assigned
    assert bool(out.loc["low", "pooled"])
    assert out.loc["low", "fte_by_ratio_max"] == 0.0
    # total row: 2.925 + 1.875 + 0 = 4.8 FTE
    assert out.loc["total", "fte_by_effort"] == pytest.approx(4.8)
    assert out.loc["total", "accounts"] == 1000
    assert out.loc["high", "touches"] == "monthly_call 12x1.5h + qbr 4x6h + onsite 1x16h"


def test_headcount_single_ratio():
    model = copy.deepcopy(TOUCH_MODEL)
    model["tiers"]["high"]["accounts_per_csm"] = 25
    out = required_headcount({"high": 60}, model)
    # 60 accounts at 25:1 = 2.4 FTE, both ends of the "range"
    assert out.loc["high", "fte_by_ratio_min"] == pytest.approx(2.4)
    assert out.loc["high", "fte_by_ratio_max"] == pytest.approx(2.4)
    assert out.loc["medium", "accounts"] == 0  # tiers not counted get 0 accounts


def test_headcount_rejects_unknown_tier_and_unpriced_touch():
    with pytest.raises(ParamsError):
        required_headcount({"platinum": 5}, TOUCH_MODEL)
    model = copy.deepcopy(TOUCH_MODEL)
    model["tiers"]["high"]["touches"]["dinner"] = 1
    with pytest.raises(ParamsError, match="dinner"):
        required_headcount({"high": 1}, model)


# ----------------------------------------------------------------------------- coverage
def test_owner_coverage():
    owners = (["Ann"] * 35 + ["Bob"] * 15 + ["Cara"] * 120 + ["Dan"] * 50 + [None])
    tier = ["high"] * 35 + ["high"] * 10 + ["medium"] * 5 + ["medium"] * 120 + ["low"] * 51
    ids = [f"A{i:03d}" for i in range(len(owners))]
    accounts = pd.DataFrame({"account_id": ids, "owner": owners, "mrr": 100.0,
                             "arr": float("nan")})
    tiers = pd.Series(tier, index=ids)
    out = owner_coverage(accounts, tiers, touch_model=TOUCH_MODEL)
    assert out.loc["Ann", "coverage"] == "under-covered"  # 35 high accounts > 30
    assert out.loc["Bob", "main_tier"] == "high"
    assert out.loc["Bob", "coverage"] == "over-covered"   # 15 accounts < 20
    assert out.loc["Cara", "coverage"] == "within"        # 120 in 100-150
    assert out.loc["Dan", "coverage"] == "pooled"
    assert out.loc["(unassigned)", "accounts"] == 1
    # load: Ann 35/25 = 1.4 CSMs; Bob 10/25 + 5/125 = 0.44
    assert out.loc["Ann", "load"] == pytest.approx(1.4)
    assert out.loc["Bob", "load"] == pytest.approx(0.44)
    assert out.loc["Bob", "accounts_medium"] == 5
    assert out.loc["Ann", "mrr"] == pytest.approx(3500.0)


# ----------------------------------------------------------------------------- revenue paths
def test_zero_churn_yearly_compounding():
    paths = revenue_paths(compounding="yearly", churn_rates=(0.0,))
    # 1000 customers x 100/month x 1.5^3 = 337,500 at year 3; flat within each year
    assert paths.loc[36, 0.0] == pytest.approx(1000 * 100 * 1.5**3)
    assert paths.loc[11, 0.0] == pytest.approx(100_000.0)
    assert paths.loc[12, 0.0] == pytest.approx(150_000.0)
    assert list(paths.index) == list(range(37))


@pytest.mark.parametrize("compounding", ["monthly", "yearly"])
@pytest.mark.parametrize("churn_base", ["current", "starting"])
def test_more_churn_lower_path(compounding, churn_base):
    p = revenue_paths(compounding=compounding, churn_base=churn_base)
    later = p.loc[12:]
    assert (later[0.3] < later[0.1]).all()
    assert (later[0.1] < later[0.0]).all()
    # domain.md: after 3 years, 30% churn leaves MRR about half or less of no churn
    assert p.loc[36, 0.3] / p.loc[36, 0.0] < 0.52


def test_path_gap_yearly_by_hand():
    gap = path_gap(revenue_paths(compounding="yearly", churn_base="current"), 3)
    # no churn 337,500; 30%: 100,000 x (1.5 x 0.7)^3 = 100,000 x 1.157625 = 115,762.50
    assert gap.loc[0.3, "mrr"] == pytest.approx(115_762.5)
    assert gap.loc[0.3, "gap"] == pytest.approx(221_737.5)
    assert gap.loc[0.3, "gap_share"] == pytest.approx(221_737.5 / 337_500)  # 65.7%
    # 10%: 100,000 x (1.5 x 0.9)^3 = 100,000 x 2.460375 = 246,037.50; gap 91,462.50
    assert gap.loc[0.1, "gap"] == pytest.approx(91_462.5)
    assert gap.loc[0.0, "gap"] == 0.0

    additive = path_gap(revenue_paths(compounding="yearly", churn_base="starting"), 3)
    # 30%: 100,000 x 1.2^3 = 172,800; gap 164,700 = 48.8% of 337,500
    assert additive.loc[0.3, "gap"] == pytest.approx(164_700.0)
    assert additive.loc[0.3, "gap_share"] == pytest.approx(0.488, abs=1e-3)


def test_path_gap_monthly_by_hand():
    gap = path_gap(revenue_paths(compounding="monthly", churn_base="starting"), 3)
    # no churn: 100,000 x (1 + 0.5/12)^36 = 100,000 x e^(36 x 0.0408220) = ~434,746
    # 30%:      100,000 x (1 + 0.2/12)^36 = 100,000 x e^(36 x 0.0165293) = ~181,313
    assert gap.loc[0.0, "mrr"] == pytest.approx(434_746, rel=1e-5)
    assert gap.loc[0.3, "mrr"] == pytest.approx(181_313, rel=1e-5)
    assert gap.loc[0.3, "gap_share"] == pytest.approx(1 - 181_313 / 434_746, abs=1e-4)


def test_path_gap_needs_no_churn_path():
    with pytest.raises(ParamsError):
        path_gap(revenue_paths(churn_rates=(0.1, 0.3)), 3)
    with pytest.raises(ParamsError):
        path_gap(revenue_paths(years=2), 3)
