"""What a customer is worth: lifetime value as the net present value of expected margin.

A customer is valued like a bond whose coupons can default (``domain.md``): each month's
margin is paid only if the customer is still there, and money later is worth less.

``CLV = MRR x gross_margin x sum_{t=1..H} S(t) / (1 + r) ** (t / 12)``

* ``S(t) = (1 - c) ** (t / 12)``: the probability of still being a customer ``t`` months
  from now, from the annual logo churn ``c`` of the account's tier on the report's metrics
  basis (:func:`tier_churn`: the base accounts of the trailing window, by their tier as of
  the base month, as in the tier churn exhibit; geometric, i.e. churn spread evenly over
  the year; annual contracts really lose customers at renewal, so this is a smooth
  approximation of a step curve);
* ``r``: the annual discount rate (``clv.discount_rate``), compounded monthly as
  ``(1 + r) ** (1 / 12)``;
* ``H``: the horizon in months (``clv.horizon_months``); month 1 is the next month's payment.

Beside it, the simple rule of thumb ``ARPA / monthly churn`` (revenue, not margin; no
discounting; no horizon), with monthly churn ``1 - (1 - c) ** (1 / 12)``.

A tier's CLV is a figure only when its churn is: it is withheld (NaN, with the reason in
``withheld``) when no base account of the tier churned (a lifetime from zero churn is
infinite) or fewer than ``clv.min_churned`` did (a rate on so few leavers is noise). The
rule of thumb is shown only when the lifetime it implies, ``1 / monthly churn`` months, is at
most ``clv.max_lifetime_months``; beyond, its multiple of ARPA is not a figure anyone would
bet on. The book's total (:func:`defensible_total`) exists only when every tier's CLV does.

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


def tier_churn(tiers_churn: pd.DataFrame, *, months: int) -> pd.DataFrame:
    """Each tier's annual logo churn from the tier churn exhibit's table, so that CLV and
    the exhibit quote one rate.

    Parameters
    ----------
    tiers_churn : DataFrame
        :func:`playbook.analyses.segments.tier_concentration` of the window's base (the
        accounts paying in its base month, by their tier then): ``accounts`` and
        ``churned_accounts`` per tier.
    months : int
        Months of the window (``RetentionWindow.months``).

    Returns
    -------
    DataFrame indexed like ``tiers_churn``: ``base_accounts``, ``churned`` (accounts),
    ``churn`` (churned / base accounts over the window) and ``annual_churn``
    (``1 - (1 - churn) ** (12 / months)``).
    """
    out = pd.DataFrame(index=tiers_churn.index)
    out["base_accounts"] = tiers_churn["accounts"].fillna(0).astype(int)
    out["churned"] = tiers_churn["churned_accounts"].fillna(0).astype(int)
    out["churn"] = out["churned"] / out["base_accounts"].where(out["base_accounts"] > 0)
    out["annual_churn"] = [1.0 - (1.0 - c) ** (12.0 / months) if pd.notna(c) else np.nan
                           for c in out["churn"]]
    return out


#: Headline figures (keys of ``headline_metrics["withheld"]``) the CLV rests on: ARPA is MRR,
#: the survival curve each tier's logo churn on the same basis.
CLV_INPUTS = ("mrr", "logo_churn")


def withheld_inputs(withheld: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """The CLV's inputs that the headline metrics withhold (``{figure key: reason}``, in
    :data:`CLV_INPUTS` order; empty when none is): a lifetime value built on an MRR history
    the data contradict, or on a logo churn outside 0-100%, is not a figure either."""
    return {k: str(withheld[k].get("reason", "")).rstrip(".") for k in CLV_INPUTS
            if k in withheld}


def withheld_reason(base_accounts: int, churned: int, *, min_churned: int) -> str:
    """Why a tier's CLV is not a figure ("" when it is): no base account, no churn (an
    infinite lifetime), or fewer churned accounts than ``min_churned`` (``clv.min_churned``)."""
    if base_accounts <= 0:
        return "no account of the tier was in the base"
    if churned == 0:
        return "no account of the tier churned, and a lifetime from zero churn is infinite"
    if churned < min_churned:
        return (f"its churn rests on {churned} churned "
                f"{'account' if churned == 1 else 'accounts'}, fewer than {min_churned}")
    return ""


def clv_by_tier(
    current: pd.DataFrame,
    churn: pd.DataFrame,
    *,
    gross_margin: float,
    discount_rate: float,
    horizon_months: int,
    min_churned: int,
    max_lifetime_months: int,
) -> pd.DataFrame:
    """CLV per account and for the whole book of each tier (or segment).

    Parameters
    ----------
    current : DataFrame
        Indexed by tier: ``accounts`` and ``mrr`` (total MRR of the tier's active accounts),
        e.g. :func:`playbook.analyses.segments.tier_concentration` as of today.
    churn : DataFrame
        :func:`tier_churn`: ``base_accounts``, ``churned`` and ``annual_churn`` per tier.
    gross_margin, discount_rate, horizon_months
        ``clv.gross_margin``, ``clv.discount_rate`` (annual), ``clv.horizon_months``.
    min_churned, max_lifetime_months
        ``clv.min_churned`` (fewer churned accounts: CLV withheld) and
        ``clv.max_lifetime_months`` (a longer implied lifetime: no rule of thumb).

    Returns
    -------
    DataFrame indexed like ``current``: ``accounts``, ``arpa`` (MRR per account),
    ``base_accounts``, ``churned``, ``annual_churn``, ``withheld`` (the reason, "" when the
    CLV is a figure), ``monthly_churn``, ``survival_end`` (S at the horizon), ``factor``
    (:func:`margin_factor`), ``clv`` (per account: ``arpa x factor``), ``clv_total``
    (``clv x accounts``), ``lifetime_months`` (``1 / monthly_churn``) and ``simple_clv``
    (``arpa / monthly_churn``, NaN when withheld or the lifetime exceeds
    ``max_lifetime_months``). ``annual_churn`` onwards are NaN for a withheld tier.
    """
    _check(gross_margin, discount_rate, horizon_months)
    basis = churn.reindex(current.index)
    counts = basis[["base_accounts", "churned"]].fillna(0).astype(int)
    out = pd.DataFrame(index=current.index)
    out["accounts"] = current["accounts"].astype(int)
    out["arpa"] = current["mrr"].astype(float) / out["accounts"].where(out["accounts"] > 0)
    out["base_accounts"] = counts["base_accounts"]
    out["churned"] = counts["churned"]
    out["withheld"] = [withheld_reason(b, c, min_churned=min_churned)
                       for b, c in zip(counts["base_accounts"], counts["churned"], strict=True)]
    rate = basis["annual_churn"].astype(float).where(out["withheld"] == "")
    out["annual_churn"] = rate
    out["monthly_churn"] = rate.map(monthly_churn)
    out["survival_end"] = [(1.0 - c) ** (horizon_months / 12.0) if pd.notna(c) else np.nan
                           for c in rate]
    out["factor"] = [margin_factor(c, gross_margin=gross_margin, discount_rate=discount_rate,
                                   horizon_months=horizon_months) for c in rate]
    out["clv"] = out["arpa"] * out["factor"]
    out["clv_total"] = out["clv"] * out["accounts"]
    out["lifetime_months"] = 1.0 / out["monthly_churn"].where(out["monthly_churn"] > 0)
    plausible = out["lifetime_months"] <= max_lifetime_months
    out["simple_clv"] = (out["arpa"] * out["lifetime_months"]).where(plausible)
    return out


def defensible_total(table: pd.DataFrame) -> float | None:
    """The active base's CLV (sum of ``clv_total``), or None unless every tier holding
    accounts has a CLV: a total with a withheld tier left out would understate the book,
    and one with it in would print a number nobody can defend."""
    held = table.loc[table["accounts"] > 0]
    if held.empty or held["clv"].isna().any():
        return None
    return float(held["clv_total"].sum())


def account_clv(mrr: pd.Series, tiers: pd.Series, table: pd.DataFrame) -> pd.Series:
    """CLV of each account: its MRR times the ``factor`` of its tier in ``table``
    (:func:`clv_by_tier`). NaN for accounts without a tier or MRR."""
    factor = tiers.astype(object).map(table["factor"])
    return (mrr.reindex(tiers.index).astype(float) * factor.astype(float)).rename("clv")
