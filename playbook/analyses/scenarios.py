"""What churn costs and which levers move revenue: growth arithmetic, the value of less
churn, and a tornado of levers on MRR N years out, from the client's own rates.

Pure functions (no I/O, printing or plotting).

The model
---------
MRR moves by four annual rates, each a share of the base (``rates`` is a mapping with
these keys, e.g. from :func:`client_rates`):

* ``new_sales``: MRR of accounts outside the base (new logos and win-backs):
  ``new_business_share`` of :mod:`playbook.metrics`;
* ``expansion``: MRR added by the base's own accounts (upsell, cross-sell, seats):
  ``expansion_share`` = NRR − GRR;
* ``churn``: MRR the base lost to cancellations and contractions:
  ``gross_revenue_churn`` = 1 − GRR;
* ``price``: list-price change applied to the whole base (0 = none).

The client's rates (:func:`client_rates`) read the one metrics basis of the report
(:func:`playbook.metrics.headline_metrics` of a 12-month window), so the scenarios' churn is
the headline GRR's complement, never a second churn figure.

Growth ``g = new_sales + expansion``. The rates apply once a year
(``compounding="yearly"``: MRR is flat within a year and steps at months 12, 24, ...) or
every month at ``rate / 12`` (``"monthly"``), and per step ``s``:

* ``churn_base="current"`` (multiplicative): ``M_{s+1} = M_s (1 + g_s)(1 - c_s)(1 + p_s)``;
* ``churn_base="starting"`` (additive): ``M_{s+1} = M_s (1 + g_s - c_s + p_s)``.

:func:`mrr_path` is the one implementation of this model; the revenue paths of the capacity
section (:func:`playbook.analyses.capacity.revenue_paths`) are ``mrr_path`` per churn rate.

Revenue over N years is the sum of the MRR of months 1 .. 12N (month 0 is today); its
present value discounts month ``m`` by ``(1 + discount_rate)^(m / 12)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from playbook.analyses.revenue import growth_target_new_sales
from playbook.errors import ParamsError

LEVERS = ("churn", "expansion", "new_sales", "price")
Compounding = Literal["monthly", "yearly"]
ChurnBase = Literal["current", "starting"]


def check_compounding(compounding: str, churn_base: str) -> None:
    """Raise :class:`ParamsError` unless ``compounding`` is monthly or yearly and
    ``churn_base`` current or starting (``scenarios.compounding`` and ``.churn_base``)."""
    if compounding not in ("monthly", "yearly"):
        raise ParamsError(f"compounding must be 'monthly' or 'yearly'; got {compounding!r}.")
    if churn_base not in ("current", "starting"):
        raise ParamsError(f"churn_base must be 'current' or 'starting'; got {churn_base!r}.")


def client_rates(metrics: Mapping[str, Any]) -> dict[str, float]:
    """The client's annual rates from the headline metrics of a 12-month trailing window
    (:func:`playbook.metrics.headline_metrics`), all shares of the base MRR (the MRR of the
    accounts paying in the month before the window):

    ``churn = gross_revenue_churn`` (1 − GRR: MRR lost to cancellations and contractions of
    the base), ``expansion = expansion_share`` (NRR − GRR: MRR the base added above its
    starting MRR), ``new_sales = new_business_share`` (MRR at the window's end of accounts
    not in the base: new logos and accounts back after the base month), ``price = 0``;
    ``growth = new_sales + expansion``. Also ``start_mrr = base_mrr`` and ``end_mrr`` (MRR
    at the as-of month, the base of every projection), so that
    ``start_mrr x (1 + growth - churn) = start_mrr x (NRR + new_sales) = end_mrr``.
    Rates are NaN when the base MRR is 0.
    """
    start = float(metrics["base_mrr"])

    def rate(key: str) -> float:
        value = metrics.get(key)
        return float(value) if start and value is not None else float("nan")

    new, exp = rate("new_business_share"), rate("expansion_share")
    return {"start_mrr": start, "end_mrr": float(metrics["end_mrr"]),
            "new_sales": new, "expansion": exp, "churn": rate("gross_revenue_churn"),
            "price": 0.0, "growth": new + exp}


def implausible_rates(rates: Mapping[str, float], *, max_churn: float,
                      max_growth: float) -> list[str]:
    """Why the client's trailing rates cannot be compounded into paths (empty: they can).

    ``rates`` as from :func:`client_rates` (shares of the base MRR). A yearly
    gross revenue churn of ``max_churn`` (``scenarios.max_churn``, e.g. 100%) or more,
    or growth of ``max_growth`` (``scenarios.max_growth``, e.g. 200%) or more,
    means the base changed so much within the year (or the MRR history contradicts itself)
    that compounding the rates for years would print meaningless paths.
    """
    reasons = []
    churn, growth = rates.get("churn", math.nan), rates.get("growth", math.nan)
    if not (math.isfinite(churn) and math.isfinite(growth)):
        reasons.append("no account paid in the base month, so the rates have no base MRR")
        return reasons
    if churn >= max_churn:
        reasons.append(f"gross revenue churn (1 − GRR) came to {churn:.1%} of the base MRR "
                       f"(limit {max_churn:.0%})")
    if growth >= max_growth:
        reasons.append(f"new business and expansion came to {growth:.1%} of the base MRR "
                       f"(limit {max_growth:.0%})")
    return reasons


def step_factor(growth: float, churn: float, price: float = 0.0, *,
                compounding: Compounding, churn_base: ChurnBase) -> float:
    """Growth of MRR in one step (a month or a year) for annual rates (see module doc)."""
    check_compounding(compounding, churn_base)
    per = 12.0 if compounding == "monthly" else 1.0
    g, c, p = growth / per, churn / per, price / per
    if churn_base == "current":
        return (1 + g) * (1 - c) * (1 + p)
    return 1 + g - c + p


def mrr_path(start_mrr: float, rates: Mapping[str, float], *, years: int,
             compounding: Compounding, churn_base: ChurnBase) -> pd.Series:
    """MRR per month, months 0 .. 12 x years, at constant annual ``rates`` (keys
    ``new_sales``, ``expansion``, ``churn``, optional ``price``).

    Example (yearly, current base): 100 MRR, new 0.3 + expansion 0.1, churn 0.2, price 0:
    after 2 years 100 x (1.4 x 0.8)^2 = 125.44.
    """
    f = step_factor(rates["new_sales"] + rates["expansion"], rates["churn"],
                    rates.get("price", 0.0), compounding=compounding, churn_base=churn_base)
    months = np.arange(12 * years + 1)
    steps = months if compounding == "monthly" else months // 12
    return pd.Series(start_mrr * f ** steps.astype(float), index=pd.Index(months, name="month"),
                     name="mrr")


def revenue_and_npv(path: pd.Series, discount_rate: float) -> tuple[float, float]:
    """Revenue of months 1 .. end of a monthly MRR path, and its present value at an annual
    ``discount_rate`` (month ``m`` divided by ``(1 + r)^(m / 12)``)."""
    later = path.loc[path.index > 0]
    disc = (1 + discount_rate) ** (later.index.to_numpy(dtype=float) / 12.0)
    return float(later.sum()), float((later.to_numpy() / disc).sum())


def churn_change_value(start_mrr: float, rates: Mapping[str, float], new_churn: float, *,
                       years: int, discount_rate: float, compounding: Compounding,
                       churn_base: ChurnBase) -> dict[str, float]:
    """What moving annual churn from ``rates["churn"]`` to ``new_churn`` is worth.

    Both paths run :func:`mrr_path` from ``start_mrr``; the result compares the lower-churn
    path with the current one. ``new_churn`` below 0 is taken as 0.

    Returns
    -------
    dict: ``churn_from``, ``churn_to``, ``years``, ``discount_rate``, ``mrr_year_n`` (MRR at
    month 12N on the current path), ``mrr_gain_year_n`` (money per month at month 12N),
    ``revenue_gain`` (extra revenue over months 1 .. 12N), ``npv_gain`` (its present value),
    ``revenue_gain_share`` (extra revenue / revenue on the current path).
    """
    to = max(float(new_churn), 0.0)
    opts = dict(years=years, compounding=compounding, churn_base=churn_base)
    base = mrr_path(start_mrr, rates, **opts)
    better = mrr_path(start_mrr, {**rates, "churn": to}, **opts)
    rev_base, _ = revenue_and_npv(base, discount_rate)
    rev_gain, npv_gain = revenue_and_npv(better - base, discount_rate)
    return {"churn_from": float(rates["churn"]), "churn_to": to, "years": years,
            "discount_rate": float(discount_rate), "mrr_year_n": float(base.iloc[-1]),
            "mrr_gain_year_n": float(better.iloc[-1] - base.iloc[-1]),
            "revenue_gain": rev_gain, "npv_gain": npv_gain,
            "revenue_gain_share": rev_gain / rev_base if rev_base else float("nan")}


def churn_point_value(start_mrr: float, rates: Mapping[str, float], *, point: float,
                      years: int, discount_rate: float, compounding: Compounding,
                      churn_base: ChurnBase) -> dict[str, float]:
    """Revenue and NPV of ``point`` (``scenarios.churn_point``; 0.01 = one percentage point)
    less annual churn over N years:
    :func:`churn_change_value` with ``new_churn = churn - point``.

    Example (yearly, current base, 1 year, r = 10%): 100 MRR, growth 0.5, churn 0.2 -> 0.19:
    months 1-11 are unchanged (100), month 12 gains 100 x 1.5 x (0.81 - 0.80) = 1.5, so the
    revenue gain is 1.5 and its NPV 1.5 / 1.1 = 1.364.
    """
    out = churn_change_value(start_mrr, rates, float(rates["churn"]) - point, years=years,
                             discount_rate=discount_rate, compounding=compounding,
                             churn_base=churn_base)
    out["point"] = float(point)
    return out


def growth_arithmetic(rates: Mapping[str, float], target_growth: float) -> dict[str, float]:
    """New MRR needed next year to hit ``target_growth``, against what last year delivered.

    ``needed = growth_target_new_sales(target, churn)`` = target + gross revenue churn
    (1 − GRR; domain.md: 50% growth while losing 20% needs new sales of 70% of the base);
    "new sales" here is all new MRR: new logos, win-backs and expansion. ``delivered =
    new_sales + expansion`` of the trailing 12 months; ``shortfall = needed - delivered``
    (negative: last year's pace already beats the target). Money figures apply the shares to
    today's MRR (``end_mrr``). On the metrics basis ``implied_growth = delivered - churn =
    NRR + new_business_share - 1 = end_mrr / start_mrr - 1``: last year's actual growth.

    Returns
    -------
    dict: ``target``, ``churn``, ``needed``, ``delivered``, ``new_sales``, ``expansion``,
    ``shortfall``, ``ratio`` (needed / delivered), ``start_mrr`` (the window's base MRR),
    ``base_mrr`` (today's MRR, the base of the money figures), ``needed_mrr``,
    ``delivered_mrr``, ``shortfall_mrr``, ``implied_growth`` (delivered - churn: the growth
    last year's pace gives).
    """
    churn = float(rates["churn"])
    needed = growth_target_new_sales(target_growth, churn)
    delivered = float(rates["new_sales"] + rates["expansion"])
    base = float(rates.get("end_mrr", float("nan")))
    return {"target": float(target_growth), "churn": churn, "needed": needed,
            "delivered": delivered, "new_sales": float(rates["new_sales"]),
            "expansion": float(rates["expansion"]), "shortfall": needed - delivered,
            "ratio": needed / delivered if delivered > 0 else float("nan"),
            "start_mrr": float(rates.get("start_mrr", float("nan"))),
            "base_mrr": base, "needed_mrr": needed * base, "delivered_mrr": delivered * base,
            "shortfall_mrr": (needed - delivered) * base,
            "implied_growth": delivered - churn}


def lever_tornado(start_mrr: float, rates: Mapping[str, float], swings: Mapping[str, float],
                  *, years: int, compounding: Compounding,
                  churn_base: ChurnBase) -> pd.DataFrame:
    """MRR at month 12N when one lever at a time moves by its swing either way.

    For each lever in ``swings`` (``churn``, ``expansion``, ``new_sales``, ``price``), the
    *worse* value is ``rate + swing`` for churn and ``rate - swing`` for the others, the
    *better* value the opposite; churn, expansion and new sales are floored at 0 (price may
    go negative: a cut). All other levers stay at the client's rates.

    Returns
    -------
    DataFrame indexed by ``lever``, largest ``range`` first: ``rate`` (base), ``swing``,
    ``worse_rate``, ``better_rate``, ``base_mrr``, ``worse_mrr``, ``better_mrr``,
    ``range`` (better - worse MRR), ``worse_change`` / ``better_change`` (vs base, money
    per month).
    """
    unknown = sorted(set(swings) - set(LEVERS))
    if unknown:
        raise ParamsError(f"Unknown lever(s) {unknown}; the levers are {list(LEVERS)}.",
                          fix="Correct scenarios.levers in the params file.")
    opts = dict(years=years, compounding=compounding, churn_base=churn_base)
    base_rates = {k: float(rates.get(k, 0.0)) for k in LEVERS}
    base = float(mrr_path(start_mrr, base_rates, **opts).iloc[-1])
    rows = {}
    for lever, swing in swings.items():
        r, s = base_rates[lever], abs(float(swing))
        sign = 1 if lever == "churn" else -1
        worse, better = r + sign * s, r - sign * s
        if lever != "price":
            worse, better = max(worse, 0.0), max(better, 0.0)
        w = float(mrr_path(start_mrr, {**base_rates, lever: worse}, **opts).iloc[-1])
        b = float(mrr_path(start_mrr, {**base_rates, lever: better}, **opts).iloc[-1])
        rows[lever] = {"rate": r, "swing": s, "worse_rate": worse, "better_rate": better,
                       "base_mrr": base, "worse_mrr": w, "better_mrr": b, "range": b - w,
                       "worse_change": w - base, "better_change": b - base}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "lever"
    return out.sort_values("range", ascending=False)
