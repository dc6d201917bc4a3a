"""How many people it takes, and what churn costs: the touch model, headcount, owner
coverage and compounding revenue paths.

Pure functions (no I/O, printing or plotting). ``touch_model`` is the ``touch_model:``
section of ``playbook/defaults.yaml`` as a plain dict::

    {"tiers": {"high": {"accounts_per_csm": [20, 30],
                        "touches": {"monthly_call": 12, "qbr": 4, "onsite": 1}}, ...},
     "hours_per_touch": {"monthly_call": 1.5, ...},
     "csm_hours_per_year": 1600,
     "account_admin_hours_per_year": {"high": 20, "medium": 4, "low": 0},
     "loaded_cost_per_csm": 120000}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from playbook.analyses.segments import account_mrr
from playbook.errors import ParamsError


# --------------------------------------------------------------------------- headcount
def _ratio_range(spec: Mapping[str, object]) -> tuple[float, float]:
    """(low, high) accounts per CSM; a single number means low == high; 0 means pooled."""
    r = spec.get("accounts_per_csm", 0)
    if isinstance(r, Sequence) and not isinstance(r, str):
        if len(r) != 2:
            raise ParamsError(f"accounts_per_csm must be [low, high]; got {r}.",
                              fix="Write e.g. accounts_per_csm: [20, 30].")
        low, high = float(r[0]), float(r[1])
    else:
        low = high = float(r)  # type: ignore[arg-type]
    return min(low, high), max(low, high)


def touch_hours_per_account(tier: str, touch_model: Mapping[str, object]) -> float:
    """Yearly touch hours per account of a tier: ``sum(count_per_year * hours_per_touch)``."""
    spec = touch_model["tiers"][tier]  # type: ignore[index]
    hours = touch_model.get("hours_per_touch", {})
    total = 0.0
    for touch, count in (spec.get("touches") or {}).items():
        if touch not in hours:  # type: ignore[operator]
            raise ParamsError(
                f"Touch '{touch}' of tier '{tier}' has no hours_per_touch.",
                fix=f"Add touch_model.hours_per_touch.{touch} (hours per account touched).",
            )
        total += float(count) * float(hours[touch])  # type: ignore[index]
    return total


def required_headcount(
    tier_counts: Mapping[str, int], touch_model: Mapping[str, object]
) -> pd.DataFrame:
    """CSM headcount and cost per tier, by ratio and by effort, with the inputs echoed.

    By ratio
        ``fte_by_ratio_max = accounts / accounts_per_csm_low`` (fewest accounts per CSM,
        most people) and ``fte_by_ratio_min = accounts / accounts_per_csm_high``. A tier
        whose ratio is 0 (``[0, 0]``) is *pooled*: no assigned manager, 0 FTE.
    By effort
        ``hours_per_account = touch_hours + admin_hours`` where ``touch_hours = sum over the
        tier's touches of count_per_year * hours_per_touch`` and ``admin_hours =
        account_admin_hours_per_year[tier]``; ``total_hours = accounts * hours_per_account``;
        ``fte_by_effort = total_hours / csm_hours_per_year``. ``hours_per_touch`` is hours
        per account touched (one-to-many touches such as webinars should carry ~0).
        Example: 60 high-touch accounts x (12 x 1.5 + 4 x 6 + 1 x 16 + 20) h / 1600 h =
        2.925 FTE.
    Cost
        ``cost_* = fte_* x loaded_cost_per_csm`` (money per year).

    Parameters
    ----------
    tier_counts : mapping
        Tier -> number of accounts (e.g. ``value_tiers(...).value_counts()``). Every tier
        must be in ``touch_model["tiers"]``; model tiers not counted get 0 accounts.
    touch_model : mapping
        The ``touch_model`` params section, as in ``defaults.yaml``.

    Returns
    -------
    DataFrame indexed by tier (model order) plus a ``total`` row: ``accounts``,
    ``accounts_per_csm_low``, ``accounts_per_csm_high``, ``pooled``, ``fte_by_ratio_min``,
    ``fte_by_ratio_max``, ``touches`` (the touch plan as text), ``touch_hours_per_account``,
    ``admin_hours_per_account``, ``hours_per_account``, ``total_hours``,
    ``csm_hours_per_year``, ``fte_by_effort``, ``loaded_cost_per_csm``,
    ``cost_by_ratio_min``, ``cost_by_ratio_max``, ``cost_by_effort``.
    """
    model_tiers: Mapping[str, Mapping[str, object]] = touch_model["tiers"]  # type: ignore
    unknown = sorted(set(tier_counts) - set(model_tiers), key=str)
    if unknown:
        raise ParamsError(
            f"Tier(s) {', '.join(map(str, unknown))} have no touch model.",
            fix="Add them under touch_model.tiers, or rename the value tiers to match.",
        )
    csm_hours = float(touch_model["csm_hours_per_year"])  # type: ignore[arg-type]
    cost = float(touch_model["loaded_cost_per_csm"])  # type: ignore[arg-type]
    admin = touch_model.get("account_admin_hours_per_year", {}) or {}
    hours = touch_model.get("hours_per_touch", {}) or {}
    rows = {}
    for tier, spec in model_tiers.items():
        n = int(tier_counts.get(tier, 0))
        low, high = _ratio_range(spec)
        touch_h = touch_hours_per_account(tier, touch_model)
        admin_h = float(admin.get(tier, 0.0))  # type: ignore[union-attr]
        plan = " + ".join(f"{t} {c}x{float(hours[t]):g}h"  # type: ignore[index]
                          for t, c in (spec.get("touches") or {}).items())  # type: ignore
        rows[tier] = {
            "accounts": n,
            "accounts_per_csm_low": low,
            "accounts_per_csm_high": high,
            "pooled": high == 0,
            "fte_by_ratio_min": n / high if high > 0 else 0.0,
            "fte_by_ratio_max": n / low if low > 0 else (n / high if high > 0 else 0.0),
            "touches": plan,
            "touch_hours_per_account": touch_h,
            "admin_hours_per_account": admin_h,
            "hours_per_account": touch_h + admin_h,
            "total_hours": n * (touch_h + admin_h),
            "csm_hours_per_year": csm_hours,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "tier"
    out["fte_by_effort"] = out["total_hours"] / csm_hours
    out["loaded_cost_per_csm"] = cost
    for k in ("ratio_min", "ratio_max", "effort"):
        out[f"cost_by_{k}"] = out[f"fte_by_{k}"] * cost
    sums = ["accounts", "fte_by_ratio_min", "fte_by_ratio_max", "total_hours",
            "fte_by_effort", "cost_by_ratio_min", "cost_by_ratio_max", "cost_by_effort"]
    total = {c: out[c].sum() for c in sums}
    total.update(csm_hours_per_year=csm_hours, loaded_cost_per_csm=cost, pooled=False)
    out.loc["total"] = pd.Series(total)
    return out.astype({"accounts": int, "pooled": bool})


# --------------------------------------------------------------------------- coverage
def owner_coverage(
    accounts: pd.DataFrame,
    tiers: pd.Series,
    *,
    touch_model: Mapping[str, object],
) -> pd.DataFrame:
    """Book of business per owner and whether it fits the touch model's ratio.

    Each owner's *main tier* is the tier holding most of their accounts (ties go to the
    tier listed first in ``touch_model["tiers"]``, i.e. the higher-touch one). Coverage
    compares the owner's number of accounts with that tier's ``accounts_per_csm`` range:
    ``under-covered`` when above the high end (too many accounts for the touch model),
    ``over-covered`` when below the low end (fewer accounts than one CSM can serve),
    ``within`` otherwise, ``pooled`` when the main tier has no assigned manager.
    ``load`` = ``sum over tiers of accounts_t / midpoint ratio_t`` (pooled tiers count 0)
    is the owner's book in CSM-equivalents: 1.0 is one full CSM by the model.

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts`` (``owner``; MRR from ``mrr`` else ``arr / 12``).
    tiers : Series
        Value tier per ``account_id`` (only these accounts are counted).
    touch_model : mapping
        The ``touch_model`` params section.

    Returns
    -------
    DataFrame indexed by ``owner`` (blank owner -> ``"(unassigned)"``), sorted by
    accounts descending: ``accounts``, ``mrr`` (money/month), ``accounts_<tier>`` per tier,
    ``main_tier``, ``accounts_per_csm_low``, ``accounts_per_csm_high``, ``load``,
    ``coverage``.
    """
    model_tiers: Mapping[str, Mapping[str, object]] = touch_model["tiers"]  # type: ignore
    t = tiers.dropna().astype(object).rename("tier")
    acc = accounts.drop_duplicates("account_id").set_index("account_id")
    df = t.to_frame().join(acc[["owner"]] if "owner" in acc else pd.DataFrame(index=acc.index))
    df["owner"] = df.get("owner", pd.Series(index=df.index, dtype=object))
    df["owner"] = df["owner"].astype(object).where(df["owner"].notna(), "(unassigned)")
    df["mrr"] = account_mrr(acc.reset_index()).set_axis(acc.index).reindex(df.index)
    order = list(model_tiers) + sorted(set(df["tier"]) - set(model_tiers), key=str)
    mix = pd.crosstab(df["owner"], df["tier"]).reindex(columns=order, fill_value=0)
    out = pd.DataFrame({"accounts": mix.sum(axis=1),
                        "mrr": df.groupby("owner")["mrr"].sum(min_count=1)})
    for tier in order:
        out[f"accounts_{tier}"] = mix[tier]
    out["main_tier"] = mix.idxmax(axis=1)  # first column wins ties: model order
    ranges = {k: _ratio_range(v) for k, v in model_tiers.items()}
    out["accounts_per_csm_low"] = out["main_tier"].map(lambda k: ranges.get(k, (np.nan,) * 2)[0])
    out["accounts_per_csm_high"] = out["main_tier"].map(lambda k: ranges.get(k, (np.nan,) * 2)[1])
    mid = pd.Series({k: (lo + hi) / 2 for k, (lo, hi) in ranges.items()}).reindex(order)
    out["load"] = (mix / mid.where(mid > 0)).fillna(0.0).sum(axis=1)
    out["coverage"] = [
        _coverage(n, lo, hi)
        for n, lo, hi in zip(out["accounts"], out["accounts_per_csm_low"],
                             out["accounts_per_csm_high"], strict=True)
    ]
    out.index.name = "owner"
    return out.sort_values(["accounts", "mrr"], ascending=False)


def _coverage(n: int, low: float, high: float) -> str:
    if pd.isna(high):
        return "unknown tier"
    if high == 0:
        return "pooled"
    if n > high:
        return "under-covered"
    if n < low:
        return "over-covered"
    return "within"


# --------------------------------------------------------------------------- revenue paths
def revenue_paths(
    *,
    customers: float = 1000,
    arpa: float = 100.0,
    growth: float = 0.5,
    churn_rates: Sequence[float] = (0.0, 0.1, 0.3),
    years: int = 3,
    compounding: Literal["monthly", "yearly"] = "monthly",
    churn_base: Literal["current", "starting"] = "current",
) -> pd.DataFrame:
    """MRR path per month under constant growth and churn rates: what churn compounds to.

    ``MRR_t = customers_t x arpa`` (money per month; ARPA held constant). With annual
    growth ``g`` and annual churn ``c`` applied per step:

    * ``compounding="yearly"``: one step a year; MRR is flat within a year and steps at
      months 12, 24, ...;
    * ``compounding="monthly"``: one step a month with nominal rates ``g/12`` and ``c/12``
      (so the no-churn path grows ``(1 + g/12)^12 - 1`` = 63.2% a year for g = 50%).

    and, per step with rates ``g_s``, ``c_s``:

    * ``churn_base="current"`` (multiplicative): churn is a share of the current base,
      including customers won in the step: ``C_{s+1} = C_s (1 + g_s)(1 - c_s)``;
    * ``churn_base="starting"`` (additive): churn is a share of the base at the start of
      the step: ``C_{s+1} = C_s (1 + g_s - c_s)``.

    Worked figures (1,000 customers at 100/month, g = 50%, c = 30%, year 3, vs no churn
    100,000 x 1.5^3 = 337,500 yearly or 100,000 x (1 + 0.5/12)^36 = 434,746 monthly):
    yearly/current 100,000 x (1.5 x 0.7)^3 = 115,763 (-65.7%); yearly/starting
    100,000 x 1.2^3 = 172,800 (-48.8%); monthly/current 100,000 x 1.015625^36 = 174,744
    (-59.8%); monthly/starting 100,000 x (1 + 0.2/12)^36 = 181,313 (-58.3%).
    Every variant leaves MRR about half or less of the no-churn path (the source quotes
    -56%).

    Returns
    -------
    DataFrame indexed by ``month`` (0 .. 12 x years; month 0 is today) with one float
    column per churn rate (column labels are the rates, ``columns.name = "annual_churn"``).
    """
    if compounding not in ("monthly", "yearly"):
        raise ParamsError(f"compounding must be 'monthly' or 'yearly'; got {compounding!r}.")
    if churn_base not in ("current", "starting"):
        raise ParamsError(f"churn_base must be 'current' or 'starting'; got {churn_base!r}.")
    months = np.arange(12 * years + 1)
    steps = months if compounding == "monthly" else months // 12
    per = 12.0 if compounding == "monthly" else 1.0
    paths = {}
    for c in churn_rates:
        g_s, c_s = growth / per, float(c) / per
        factor = (1 + g_s) * (1 - c_s) if churn_base == "current" else 1 + g_s - c_s
        paths[float(c)] = customers * arpa * factor ** steps.astype(float)
    out = pd.DataFrame(paths, index=pd.Index(months, name="month"))
    out.columns.name = "annual_churn"
    return out


def path_gap(paths: pd.DataFrame, year: int) -> pd.DataFrame:
    """MRR at the end of ``year`` per churn rate, and the gap to the no-churn path.

    ``gap = MRR(no churn) - MRR(churn c)`` in money per month and ``gap_share = gap /
    MRR(no churn)`` (0.5 = half the no-churn MRR is gone), at month ``12 x year``.
    ``paths`` must be :func:`revenue_paths` output with a 0.0 churn column.

    Returns
    -------
    DataFrame indexed by ``annual_churn``: ``mrr``, ``no_churn_mrr``, ``gap``, ``gap_share``.
    """
    if 0.0 not in paths.columns:
        raise ParamsError("path_gap needs the no-churn path (a 0.0 churn rate).",
                          fix="Include 0.0 in churn_rates when calling revenue_paths.")
    month = 12 * year
    if month not in paths.index:
        raise ParamsError(f"Year {year} is outside the simulated paths.",
                          fix="Call revenue_paths with more years.")
    row = paths.loc[month]
    base = float(row[0.0])
    out = pd.DataFrame({"mrr": row.astype(float), "no_churn_mrr": base})
    out["gap"] = base - out["mrr"]
    out["gap_share"] = out["gap"] / base if base else np.nan
    out.index.name = "annual_churn"
    return out
