"""What a customer is worth: lifetime value as the net present value of expected margin.

A customer is valued like a bond whose coupons can default (``domain.md``): each month's
margin is paid only if the customer is still there, and money later is worth less.

``CLV = MRR x gross_margin x sum_{t=1..H} S(t) / (1 + r) ** (t / 12)``

* ``S(t) = (1 - c) ** (t / 12)``: the probability of still being a customer ``t`` months
  from now, from the annual logo churn ``c`` observed in the account's tier (geometric, i.e.
  churn spread evenly over the year; annual contracts really lose customers at renewal, so
  this is a smooth approximation of a step curve);
* ``r``: the annual discount rate (``clv.discount_rate``), compounded monthly as
  ``(1 + r) ** (1 / 12)``;
* ``H``: the horizon in months (``clv.horizon_months``); month 1 is the next month's payment.

Beside it, the simple rule of thumb ``ARPA / monthly churn`` (revenue, not margin; no
discounting; no horizon), with monthly churn ``1 - (1 - c) ** (1 / 12)``.

Pure functions: numbers and frames in, numbers and frames out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from playbook.errors import ParamsError


def monthly_churn(annual_churn: float) -> float:
    """Monthly churn equivalent to an annual one: ``1 - (1 - c) ** (1 / 12)``.

    Example: 0.20 a year is 1.842% a month. NaN stays NaN.
    """
    if annual_churn is None or pd.isna(annual_churn):
        return math.nan
    return 1.0 - (1.0 - float(annual_churn)) ** (1.0 / 12.0)


def survival(annual_churn: float, horizon_months: int) -> np.ndarray:
    """``S(t) = (1 - c) ** (t / 12)`` for ``t = 1 .. horizon_months`` (shares 0-1)."""
    t = np.arange(1, int(horizon_months) + 1, dtype=float)
    return (1.0 - float(annual_churn)) ** (t / 12.0)


def margin_factor(annual_churn: float, *, gross_margin: float, discount_rate: float,
                  horizon_months: int) -> float:
    """Present value of 1 of MRR: ``gross_margin x sum_t S(t) / (1 + r) ** (t / 12)``.

    Multiply by an account's MRR for its CLV. NaN when the churn is unknown.

    Example: monthly survival 0.9 (``c = 1 - 0.9 ** 12``), monthly discount 1.01
    (``r = 1.01 ** 12 - 1``), margin 0.8, 2 months: ``0.8 x (0.9 / 1.01 + 0.81 / 1.0201)
    = 1.348103``.
    """
    _check(gross_margin, discount_rate, horizon_months)
    if annual_churn is None or pd.isna(annual_churn):
        return math.nan
    t = np.arange(1, int(horizon_months) + 1, dtype=float)
    discount = (1.0 + float(discount_rate)) ** (t / 12.0)
    return float(gross_margin * np.sum(survival(annual_churn, horizon_months) / discount))


def _check(gross_margin: float, discount_rate: float, horizon_months: int) -> None:
    if not 0 < gross_margin <= 1 or discount_rate <= -1 or horizon_months < 1:
        raise ParamsError(
            f"CLV assumptions out of range: gross margin {gross_margin}, discount rate "
            f"{discount_rate}, horizon {horizon_months} months.",
            fix="Set clv.gross_margin in (0, 1], clv.discount_rate above -1 and "
                "clv.horizon_months >= 1 in the params file.",
        )


def clv_by_tier(
    current: pd.DataFrame,
    annual_churn: pd.Series | Mapping[str, float],
    *,
    gross_margin: float,
    discount_rate: float,
    horizon_months: int,
) -> pd.DataFrame:
    """CLV per account and for the whole book of each tier (or segment).

    Parameters
    ----------
    current : DataFrame
        Indexed by tier: ``accounts`` and ``mrr`` (total MRR of the tier's active accounts),
        e.g. :func:`playbook.analyses.segments.tier_concentration` as of today.
    annual_churn : Series or mapping
        Observed annual logo churn per tier (share 0-1), e.g. the ``churn_rate`` of the
        tiers as they stood 12 months ago.
    gross_margin, discount_rate, horizon_months
        ``clv.gross_margin``, ``clv.discount_rate`` (annual), ``clv.horizon_months``.

    Returns
    -------
    DataFrame indexed like ``current``: ``accounts``, ``arpa`` (MRR per account),
    ``annual_churn``, ``monthly_churn``, ``survival_end`` (S at the horizon),
    ``factor`` (:func:`margin_factor`), ``clv`` (per account: ``arpa x factor``),
    ``clv_total`` (``clv x accounts``) and ``simple_clv`` (``arpa / monthly_churn``; NaN
    when no account churned, as the rule of thumb is then infinite).
    """
    _check(gross_margin, discount_rate, horizon_months)
    churn = pd.Series(annual_churn, dtype=float).reindex(current.index)
    out = pd.DataFrame(index=current.index)
    out["accounts"] = current["accounts"].astype(int)
    out["arpa"] = current["mrr"].astype(float) / out["accounts"].where(out["accounts"] > 0)
    out["annual_churn"] = churn
    out["monthly_churn"] = churn.map(monthly_churn)
    out["survival_end"] = [(1.0 - c) ** (horizon_months / 12.0) if pd.notna(c) else np.nan
                           for c in churn]
    out["factor"] = [margin_factor(c, gross_margin=gross_margin, discount_rate=discount_rate,
                                   horizon_months=horizon_months) for c in churn]
    out["clv"] = out["arpa"] * out["factor"]
    out["clv_total"] = out["clv"] * out["accounts"]
    out["simple_clv"] = out["arpa"] / out["monthly_churn"].where(out["monthly_churn"] > 0)
    return out


def account_clv(mrr: pd.Series, tiers: pd.Series, table: pd.DataFrame) -> pd.Series:
    """CLV of each account: its MRR times the ``factor`` of its tier in ``table``
    (:func:`clv_by_tier`). NaN for accounts without a tier or MRR."""
    factor = tiers.astype(object).map(table["factor"])
    return (mrr.reindex(tiers.index).astype(float) * factor.astype(float)).rename("clv")
