"""Customer lifetime value: NPV of expected margin, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import clv
from playbook.errors import ParamsError


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


def test_clv_by_tier_by_hand():
    current = pd.DataFrame({"accounts": [2, 4], "mrr": [2000.0, 400.0]},
                           index=pd.Index(["high", "low"], name="tier"))
    churn = pd.Series({"high": 0.0, "low": 1 - 0.9**12})
    out = clv.clv_by_tier(current, churn, gross_margin=0.5, discount_rate=0.0,
                          horizon_months=12)
    assert out["arpa"].tolist() == [1000.0, 100.0]
    # high: no churn, 0.5 x 12 months = 6 -> 1000 x 6 = 6,000; rule of thumb unbounded
    assert out.loc["high", "factor"] == pytest.approx(6.0)
    assert out.loc["high", "clv"] == pytest.approx(6000.0)
    assert np.isnan(out.loc["high", "simple_clv"])
    assert out.loc["high", "survival_end"] == pytest.approx(1.0)
    # low: 0.5 x sum 0.9^t, t = 1..12 = 0.5 x 0.9 (1 - 0.9^12) / 0.1 = 4.5 x 0.7175705 = 3.229067
    assert out.loc["low", "factor"] == pytest.approx(3.229067, abs=1e-6)
    assert out.loc["low", "clv"] == pytest.approx(322.9067, abs=1e-3)
    assert out.loc["low", "clv_total"] == pytest.approx(4 * 322.9067, abs=1e-2)
    assert out.loc["low", "monthly_churn"] == pytest.approx(0.1)
    assert out.loc["low", "simple_clv"] == pytest.approx(1000.0)  # ARPA 100 / 10% a month
    assert out.loc["low", "survival_end"] == pytest.approx(0.9**12)


def test_discounting_lowers_value_and_longer_horizons_raise_it():
    kw = dict(gross_margin=0.75)
    base = clv.margin_factor(0.15, discount_rate=0.10, horizon_months=60, **kw)
    assert clv.margin_factor(0.15, discount_rate=0.0, horizon_months=60, **kw) > base
    assert clv.margin_factor(0.15, discount_rate=0.10, horizon_months=120, **kw) > base
    assert clv.margin_factor(0.30, discount_rate=0.10, horizon_months=60, **kw) < base


def test_missing_churn_gives_missing_clv_and_account_clv():
    current = pd.DataFrame({"accounts": [1, 1], "mrr": [50.0, 80.0]}, index=["a", "b"])
    out = clv.clv_by_tier(current, {"a": 0.5}, gross_margin=1.0, discount_rate=0.0,
                          horizon_months=1)
    assert out.loc["a", "clv"] == pytest.approx(50 * 0.5 ** (1 / 12))
    assert np.isnan(out.loc["b", "clv"])
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
