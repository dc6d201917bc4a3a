"""Expansion: which active accounts could buy more, what it is worth, and what predicts it.

Pure functions (canonical frames and parameters in, frames and figures out; no I/O, no
printing, no plotting). Money is in the client's currency per month; shares are 0-1.

Candidates (:func:`expansion_candidates`)
-----------------------------------------
An account is a **candidate** when, at the as-of date, it is

* **active**: :func:`playbook.analyses.account_state.active_accounts` of the customers as
  billed (``ctx.accounts``: paying in the as-of month);
* **healthy**: its health band (``ctx.health_scores``) is one of ``expansion.healthy_bands``;
* **adopting**: seat utilisation = active users / licensed seats (latest usage month on or
  before the as-of date, not capped) at least ``expansion.min_utilisation``; an account
  without licensed seats is adopting when its key actions per active user reach the
  ``expansion.activity_quantile`` quantile of the active accounts' (its activity);
* **with headroom** on at least one route, each priced from the client's own prices:

  - **seats**: utilisation at least ``expansion.seats_full_share``. Seats to add = the
    fewest that bring utilisation down to ``expansion.seat_target_utilisation``:
    ``max(1, ceil(active_users / target - licensed_seats))``; price = the account's own MRR
    per licensed seat; potential = seats to add x price.
  - **products**: owns ``k`` products, fewer than ``expansion.max_products`` (0: the most any
    active account owns). Potential = median MRR of the active accounts owning ``k + 1``
    products - median MRR of those owning ``k`` (the step one more product is worth), among
    the accounts of its own segment when both groups there have at least
    ``expansion.min_group_accounts`` accounts (a large customer's step is not an SMB's),
    else among all active accounts under the same rule; only a positive step counts.
  - **tier**: not in the top value tier (``ctx.value_tiers``). Potential = median MRR of the
    next tier up - median MRR of its own tier, under the same group-size rule.

  An account's ``potential_mrr`` is its **first** route that applies, in the order seats,
  products, tier: the most specific evidence first (its own price per seat, then the
  client's step for one more product, then the coarse step between tier medians). Routes
  are not added (a move up a tier usually comes with the seats or products of the other
  routes); all three stay in the frame. ``reason`` says the chosen one in words ("seats 96%
  used: +12 seats at $45 a seat").

Expansion share of net retention (:func:`expansion_share_of_nrr`)
-----------------------------------------------------------------
Read from the metrics layer, never recomputed: ``expansion_share`` = NRR - GRR of the
headline base (:func:`playbook.metrics.headline_metrics`).

The expansion model (:func:`expansion_table`, :func:`fit_expansion_model`)
-------------------------------------------------------------------------
One row per account and **cut-off** (the first day of a month; one every
``expansion.cutoff_every_months`` back from the latest cut-off whose window the history
covers). For a cut-off ``c`` the account's MRR at the cut-off is its MRR in the month before
``c`` (churn-recognised: ``ctx.counted_mrr``); accounts paying then are the rows. The outcome
``expanded`` is 1 when its MRR in any month of the ``expansion.horizon_months`` months from
``c`` reaches ``(1 + expansion.min_rise_share)`` x its MRR at the cut-off. Features are
measured at the cut-off from records dated on or before it, by the renewal model's builders
(:func:`playbook.analyses.drivers.modelling_table` with a cut-off of 0 days before ``c``),
plus ``mrr_at_cutoff``, ``log2_mrr_at_cutoff`` and ``seats_nearly_full`` (seat utilisation at
or above ``expansion.seats_full_share``: the candidates' seat rule). The fit, checks,
cross-validated AUC and lift are the renewal model's (:mod:`playbook.analyses.drivers`),
with odds ratios of expanding. The accounts table's current snapshots that an expansion
itself changes (products, ARR) are never features: see :data:`LEFT_OUT_FEATURES`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from playbook import textfmt as tf
from playbook.analyses import drivers
from playbook.analyses.account_state import (
    active_accounts,
    as_timestamp,
    mrr_at,
    number_column,
    usage_snapshot,
)
from playbook.analyses.grouped import sums_by_key
from playbook.errors import InsufficientDataError

__all__ = [
    "CANDIDATE_COLUMNS",
    "EXPANSION_UNITS",
    "LEFT_OUT_FEATURES",
    "ExpansionModel",
    "expansion_by_tier",
    "expansion_candidates",
    "expansion_cutoffs",
    "expansion_outcomes",
    "expansion_share_of_nrr",
    "expansion_table",
    "fit_expansion_model",
]

#: Columns of :func:`expansion_candidates`, in order (index: ``account_id``).
CANDIDATE_COLUMNS = [
    "owner", "segment", "value_tier", "health_band", "health_score", "mrr", "active_users",
    "licensed_seats", "seat_utilisation", "products", "seats_to_add", "mrr_per_seat",
    "seat_potential", "product_potential", "tier_potential", "route", "potential_mrr",
    "reason",
]

#: Features an expansion model never uses, with why: the accounts table holds their value
#: *now*, and an expansion after the cut-off changes it (the outcome would be a feature).
LEFT_OUT_FEATURES = {
    "products": "accounts.products is today's count: a product bought after the cut-off "
                "would be both the outcome and the feature",
    "contract_value": "the accounts table's ARR is today's: an expansion after the cut-off "
                      "raises it",
    "log2_contract_value": "the accounts table's ARR is today's: an expansion after the "
                           "cut-off raises it",
}

#: Units of the features the expansion table adds (the others: the renewal model's
#: :data:`playbook.analyses.drivers.design.DEFAULT_UNITS`).
EXPANSION_UNITS: dict[str, tuple[float, str]] = {
    "seats_nearly_full": (1.0, "seats nearly full vs not"),
    "log2_mrr_at_cutoff": (1.0, "per doubling of MRR at the cut-off"),
    "mrr_at_cutoff": (1000.0, "per 1,000 of MRR at the cut-off"),
}

_USAGE_FIX = ("Send the usage table: active users and licensed seats per account and month "
              "(key actions where seats are not sold).")


# --------------------------------------------------------------------------- candidates
def expansion_candidates(
    accounts: pd.DataFrame,
    *,
    as_of: pd.Timestamp | str,
    health: pd.DataFrame | None,
    usage: pd.DataFrame | None,
    mrr: pd.DataFrame | None,
    tiers: pd.Series | None,
    healthy_bands: Sequence[str],
    min_utilisation: float,
    activity_quantile: float,
    seats_full_share: float,
    seat_target_utilisation: float,
    max_products: int,
    min_group_accounts: int,
    currency: str,
) -> pd.DataFrame:
    """Healthy, adopting active accounts with headroom, ranked by MRR potential.

    Rules: module docstring. Pass ``ctx.accounts`` (customers as billed), ``ctx.counted_mrr``,
    ``ctx.value_tiers`` and ``ctx.health_scores`` (``None`` when ``ctx.has_health_score`` is
    False), with ``**params.expansion.candidate_options()`` and ``params.client.currency``.

    Returns
    -------
    DataFrame indexed by ``account_id``, one row per candidate, largest ``potential_mrr``
    first (ties by ``account_id``), columns :data:`CANDIDATE_COLUMNS`: ``mrr`` (MRR at the
    as-of date, money per month), ``seat_utilisation`` (active / licensed, a share, may
    exceed 1), ``seats_to_add`` (count, seat route), ``mrr_per_seat`` (money per seat per
    month), ``seat_potential`` / ``product_potential`` / ``tier_potential`` (money per month
    per route, NaN when the route does not apply), ``route`` (seats, products or tier: the
    first that applies), ``potential_mrr`` (its potential) and ``reason`` (text).
    ``attrs["screen"]`` counts the accounts at each step: active, healthy, adopting,
    candidates.

    Raises
    ------
    InsufficientDataError
        Without usage (no ``usage`` table, or no active users in it) or without a health
        score (``health`` None or no band): both name the table to send.
    """
    if usage is None or usage.empty or number_column(usage, "active_users").isna().all():
        raise InsufficientDataError(
            "Expansion candidates need the usage table (active users per account and month): "
            "without it no account can be called adopting.", fix=_USAGE_FIX)
    if health is None or health.empty or health["health_band"].isna().all():
        raise InsufficientDataError(
            "Expansion candidates need a health score (at least two measures from usage, "
            "surveys, tickets or CSM scores): without it no account can be called healthy.",
            fix="Send NPS or CSAT surveys, support tickets or CSM scores besides usage.")
    as_of = as_timestamp(as_of)
    active = active_accounts(accounts, as_of)
    ids = active.index
    frame = pd.DataFrame(index=ids)
    for col in ("owner", "segment"):
        frame[col] = active.get(col, pd.NA)
    frame["value_tier"] = (tiers.reindex(ids) if tiers is not None
                           else pd.Series(np.nan, index=ids))
    frame["health_band"] = health["health_band"].reindex(ids)
    frame["health_score"] = (health["health_score"].reindex(ids) if "health_score" in health
                             else np.nan)
    frame["mrr"] = mrr_at(accounts, as_of, mrr).reindex(ids).astype(float)
    snap = usage_snapshot(usage, as_of).reindex(ids)
    frame["active_users"] = snap["active_users"].astype(float)
    frame["licensed_seats"] = snap["licensed_seats"].astype(float)
    seats = frame["licensed_seats"].where(frame["licensed_seats"] > 0)
    frame["seat_utilisation"] = frame["active_users"] / seats
    frame["products"] = number_column(active, "products").to_numpy()

    healthy = frame["health_band"].isin(list(healthy_bands))
    adopting = _adopting(frame["seat_utilisation"], snap["actions_per_user"].astype(float),
                         min_utilisation, activity_quantile)
    _seat_route(frame, seats_full_share, seat_target_utilisation)
    frame["product_potential"], product_basis = _product_steps(frame, max_products,
                                                               min_group_accounts)
    frame["tier_potential"] = _tier_steps(frame, tiers, min_group_accounts)

    routes = frame[["seat_potential", "product_potential", "tier_potential"]]
    routes = routes.where(routes > 0)
    frame["potential_mrr"] = routes.bfill(axis=1).iloc[:, 0]
    first = routes.notna().to_numpy().argmax(axis=1)
    frame["route"] = np.where(routes.notna().any(axis=1),
                              np.array(["seats", "products", "tier"])[first], None)
    keep = healthy & adopting & frame["potential_mrr"].notna()
    out = frame.loc[keep].copy()
    most = _max_products(frame, max_products)
    out["reason"] = [_reason(row, most, product_basis.get(i), currency)
                     for i, row in out.iterrows()]
    out = out.reset_index().sort_values(["potential_mrr", "account_id"],
                                        ascending=[False, True]).set_index("account_id")
    out = out[CANDIDATE_COLUMNS]
    out.attrs["screen"] = {"active": len(frame), "healthy": int(healthy.sum()),
                           "adopting": int((healthy & adopting).sum()),
                           "candidates": len(out)}
    return out


def _adopting(utilisation: pd.Series, actions_per_user: pd.Series, min_utilisation: float,
              activity_quantile: float) -> pd.Series:
    """Seat utilisation >= the threshold; without seats, key actions per active user at or
    above the ``activity_quantile`` quantile of the accounts that have a value."""
    by_seats = utilisation >= min_utilisation
    known = actions_per_user.dropna()
    bar = float(known.quantile(activity_quantile)) if len(known) else math.inf
    by_activity = utilisation.isna() & (actions_per_user >= bar)
    return (by_seats | by_activity).fillna(False).astype(bool)


def _seat_route(frame: pd.DataFrame, seats_full_share: float, target: float) -> None:
    """Adds ``seats_to_add``, ``mrr_per_seat`` and ``seat_potential`` to ``frame``."""
    full = frame["seat_utilisation"] >= seats_full_share
    needed = np.ceil(frame["active_users"] / target - frame["licensed_seats"] - 1e-9)
    frame["seats_to_add"] = needed.clip(lower=1).where(full)
    frame["mrr_per_seat"] = (frame["mrr"] / frame["licensed_seats"].where(
        frame["licensed_seats"] > 0)).where(frame["mrr"] > 0)
    frame["seat_potential"] = frame["seats_to_add"] * frame["mrr_per_seat"]


def _max_products(frame: pd.DataFrame, max_products: int) -> float:
    """The products the client sells: ``max_products``, or (0) the most any account of
    ``frame`` owns (NaN when no account says)."""
    if max_products:
        return float(max_products)
    most = frame["products"].max()
    return float(most) if pd.notna(most) else math.nan


def _group_medians(mrr: pd.Series, groups: pd.Series, min_n: int) -> pd.Series:
    """Median MRR (paying accounts) per group, only groups of at least ``min_n``."""
    paying = mrr.where(mrr > 0)
    g = pd.DataFrame({"g": groups, "mrr": paying}).dropna()
    stats = g.groupby("g", observed=True)["mrr"].agg(["median", "size"])
    return stats.loc[stats["size"] >= min_n, "median"]


def _product_steps(frame: pd.DataFrame, max_products: int, min_n: int
                   ) -> tuple[pd.Series, pd.Series]:
    """Per account owning k < the products sold: median MRR (k + 1) - median MRR (k), among
    the accounts of its segment when both groups there are large enough, else among all
    accounts. Returns the step and its basis (the segment's name, or "all")."""
    most = _max_products(frame, max_products)
    k = frame["products"]
    overall = _group_medians(frame["mrr"], k, min_n)
    # one step per count owned, then looked up per account
    steps = {v: overall.get(v + 1, np.nan) - overall.get(v, np.nan) for v in k.dropna().unique()}
    step = k.map(steps).astype(float)
    basis = pd.Series("all", index=frame.index, dtype=object)
    segment = frame["segment"].astype("string")
    if segment.notna().any():
        key = segment.fillna("") + "|" + k.astype("string").fillna("")
        by_segment = _group_medians(frame["mrr"], key, min_n)
        up = segment.fillna("") + "|" + (k + 1).astype("string").fillna("")
        own = key.map(by_segment).astype(float)
        nxt = up.map(by_segment).astype(float)
        seg_step = (nxt - own).where(segment.notna() & k.notna())
        basis = basis.where(seg_step.isna(), segment.astype(object))
        step = seg_step.fillna(step)
    inside = k < most
    return step.where(inside), basis.where(inside)


def _tier_steps(frame: pd.DataFrame, tiers: pd.Series | None, min_n: int) -> pd.Series:
    """Per account below the top tier: median MRR of the next tier up - of its own."""
    if tiers is None or not isinstance(tiers.dtype, pd.CategoricalDtype):
        return pd.Series(np.nan, index=frame.index)
    order = list(tiers.dtype.categories)  # top tier first
    medians = _group_medians(frame["mrr"], frame["value_tier"].astype(object), min_n)
    up = {t: order[i - 1] for i, t in enumerate(order) if i > 0}
    steps = {t: medians.get(above, np.nan) - medians.get(t, np.nan) for t, above in up.items()}
    return frame["value_tier"].astype(object).map(steps).astype(float)


def _reason(row: pd.Series, most: float, basis: Any, currency: str) -> str:
    """The candidate's chosen route in words."""
    if row["route"] == "seats":
        n = int(row["seats_to_add"])
        return (f"seats {tf.pct(row['seat_utilisation'], 0)} used: +{tf.plural(n, 'seat')} "
                f"at {tf.money(row['mrr_per_seat'], currency)} a seat")
    if row["route"] == "products":
        k = int(row["products"])
        among = "" if basis in (None, "all") else f" of {basis} accounts"
        return (f"owns {k} of {int(most)} products: accounts with {k + 1} pay "
                f"{tf.money(row['product_potential'], currency)} a month more (median"
                f"{among})")
    return (f"{row['value_tier']} value tier: the next tier's median MRR is "
            f"{tf.money(row['tier_potential'], currency)} higher")


def expansion_by_tier(candidates: pd.DataFrame, tiers: pd.Series) -> pd.DataFrame:
    """Total expansion potential by value tier.

    Parameters
    ----------
    candidates : DataFrame
        :func:`expansion_candidates` (indexed by ``account_id``, ``potential_mrr``).
    tiers : Series
        Value tier per ``account_id`` (``ctx.value_tiers``); its categories, when ordered,
        give the row order (top tier first).

    Returns
    -------
    DataFrame indexed by ``value_tier`` (every tier, zero where none): ``candidates``
    (count), ``potential_mrr`` (sum, money per month) and ``share_of_potential`` (share of
    the total; NaN when the total is 0).
    """
    tier = tiers.reindex(candidates.index).astype(object).fillna("(no tier)")
    order = (list(tiers.dtype.categories) if isinstance(tiers.dtype, pd.CategoricalDtype)
             else sorted(tiers.dropna().astype(str).unique()))
    order += [t for t in tier.unique() if t not in order]
    grouped = candidates.assign(value_tier=tier).groupby("value_tier")["potential_mrr"]
    out = pd.DataFrame({"candidates": grouped.size(), "potential_mrr": grouped.sum()})
    out = out.reindex(order).fillna(0.0)
    out["candidates"] = out["candidates"].astype(int)
    total = float(out["potential_mrr"].sum())
    out["share_of_potential"] = out["potential_mrr"] / total if total else np.nan
    out.index.name = "value_tier"
    return out


# --------------------------------------------------------------------------- net retention
def expansion_share_of_nrr(headline_metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The expansion part of net revenue retention, from the metrics layer
    (``ctx.headline_metrics``; nothing recomputed).

    Returns
    -------
    dict
        ``expansion_share`` (NRR - GRR: expansion of the base as a share of its MRR then),
        ``expansion_mrr`` (the same in money per month: retained MRR - retained MRR capped
        at each account's base MRR), ``nrr``, ``grr``, ``base_mrr``, ``label`` (the window,
        "trailing 12 months").

    Raises
    ------
    InsufficientDataError
        When NRR or GRR is withheld (``headline_metrics["withheld"]``: its reason is said)
        or not a number.
    """
    withheld = headline_metrics.get("withheld") or {}
    for key in ("nrr", "grr"):
        if key in withheld:
            raise InsufficientDataError(
                f"The expansion share of net retention is withheld: "
                f"{withheld[key]['reason']}.", fix=withheld[key].get("fix"))
    share = headline_metrics.get("expansion_share")
    if share is None or tf.is_missing(share):
        raise InsufficientDataError(
            "The expansion share of net retention cannot be computed: the headline base has "
            "no MRR.", fix="Send the MRR history up to the as-of date.")
    return {
        "expansion_share": float(share),
        "expansion_mrr": float(headline_metrics["retained_mrr"]
                               - headline_metrics["retained_mrr_capped"]),
        "nrr": float(headline_metrics["nrr"]),
        "grr": float(headline_metrics["grr"]),
        "base_mrr": float(headline_metrics["base_mrr"]),
        "label": headline_metrics.get("label", ""),
    }


# --------------------------------------------------------------------------- model table
def _monthly(mrr: pd.DataFrame) -> tuple[pd.Index, pd.DatetimeIndex, np.ndarray]:
    """MRR per account and month, 0 where not billed: the accounts (sorted), every month
    from the first to the last (1st of month) and the matrix (accounts x months). Rows
    without an account or a month are left out; an account's rows in one month are summed
    by pandas' grouped sum (row order, NaN skipped), as a pivot table sums them."""
    month = pd.to_datetime(mrr["month"]).to_numpy().astype("datetime64[M]")
    codes, accounts = pd.factorize(mrr["account_id"], sort=True)
    ok = ~np.isnat(month) & (codes >= 0)
    number = month[ok].astype(np.int64)  # months since January 1970
    if not len(number):
        return accounts[:0], pd.DatetimeIndex([]), np.zeros((0, 0))
    first = int(number.min())
    width = int(number.max()) - first + 1
    # pandas' grouped sum to the last digit, without its hash table when no account-month
    # repeats, as in a table of monthly MRR (a call at 1,000,000 accounts: 3.1 -> 1.3 s)
    found, sums = sums_by_key(codes[ok].astype(np.int64) * width + (number - first),
                              pd.DataFrame({"mrr": number_column(mrr, "mrr").to_numpy()[ok]}),
                              min_count=0)
    wide = np.zeros(len(accounts) * width)
    wide[found] = sums["mrr"]
    months = pd.date_range(pd.Timestamp(np.datetime64(first, "M")), periods=width, freq="MS")
    return accounts, months, wide.reshape(len(accounts), width)


def expansion_cutoffs(mrr: pd.DataFrame, *, as_of: pd.Timestamp | str, horizon_months: int,
                      cutoff_every_months: int) -> list[pd.Timestamp]:
    """Cut-offs (first days of months, oldest first) whose outcome window the history
    covers: the latest is ``horizon_months - 1`` months before the as-of month (its window
    ends in the as-of month), then one every ``cutoff_every_months`` back while the month
    before the cut-off is in ``mrr``. Empty when none fits."""
    if mrr is None or mrr.empty:
        return []
    end = as_timestamp(as_of).to_period("M").to_timestamp()
    first = pd.to_datetime(mrr["month"]).min().to_period("M").to_timestamp()
    cut = end - pd.DateOffset(months=horizon_months - 1)
    out = []
    while cut - pd.DateOffset(months=1) >= first:
        out.append(pd.Timestamp(cut))
        cut = cut - pd.DateOffset(months=cutoff_every_months)
    return sorted(out)


def expansion_outcomes(mrr: pd.DataFrame, cutoffs: Sequence[pd.Timestamp], *,
                       horizon_months: int, min_rise_share: float) -> pd.DataFrame:
    """Did each paying account expand after each cut-off?

    Parameters
    ----------
    mrr : DataFrame
        Churn-recognised MRR (``ctx.counted_mrr``: ``account_id``, ``month``, ``mrr``).
    cutoffs : sequence of Timestamp
        First days of months (:func:`expansion_cutoffs`).

    Returns
    -------
    DataFrame, one row per account paying (MRR > 0) in the month before a cut-off:
    ``account_id``, ``cutoff_date``, ``mrr_at_cutoff`` (MRR that month), ``peak_mrr_after``
    (highest MRR in the ``horizon_months`` months from the cut-off's month; 0 when not
    billed; months past the data count as not billed) and ``expanded`` (1 when the peak is
    at least ``(1 + min_rise_share) x mrr_at_cutoff``, else 0).
    """
    accounts, months, wide = _monthly(mrr)
    column = {m: j for j, m in enumerate(months)}
    rows = []
    for cut in cutoffs:
        before = cut - pd.DateOffset(months=1)
        if before not in column:
            continue
        base = wide[:, column[before]]
        window = [column[m] for m in pd.date_range(cut, periods=horizon_months, freq="MS")
                  if m in column]
        peak = wide[:, window].max(axis=1) if window else np.zeros(len(accounts))
        paying = base > 0
        rows.append(pd.DataFrame({
            "account_id": accounts[paying].astype(str),
            "cutoff_date": cut,
            "mrr_at_cutoff": base[paying],
            "peak_mrr_after": peak[paying],
        }))
    cols = ["account_id", "cutoff_date", "mrr_at_cutoff", "peak_mrr_after", "expanded"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.concat(rows, ignore_index=True)
    rise = out["peak_mrr_after"] >= (1 + min_rise_share) * out["mrr_at_cutoff"] - 1e-9
    out["expanded"] = rise.astype(int)
    return out[cols]


def expansion_table(
    mrr: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame | None],
    *,
    as_of: pd.Timestamp | str,
    horizon_months: int,
    cutoff_every_months: int,
    min_rise_share: float,
    seats_full_share: float,
    feature_options: Mapping[str, Any],
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The expansion model's table: one row per account and cut-off, the outcome
    ``expanded`` and the features measured at the cut-off (module docstring).

    Parameters
    ----------
    mrr : DataFrame
        Churn-recognised MRR (``ctx.counted_mrr``): the outcome and ``mrr_at_cutoff``.
    tables : mapping
        The validated tables (``ctx.tables``): the feature builders' sources (``accounts``
        required) and the start of the data (:func:`playbook.analyses.drivers.data_start`).
    feature_options : mapping
        ``params.feature_options()`` (the renewal model's feature settings).

    Returns
    -------
    table : DataFrame
        ``account_id``, ``cutoff_date``, ``mrr_at_cutoff``, ``peak_mrr_after``,
        ``expanded`` and the features: the renewal model's (``decision_date`` = the
        cut-off), ``log2_mrr_at_cutoff`` and ``seats_nearly_full`` (0/1; NaN without seat
        data). Rows whose cut-off leaves less look-back than the features need
        (:func:`playbook.analyses.drivers.drop_short_history`) are left out.
    report : dict
        The feature report of :func:`playbook.analyses.drivers.modelling_table` (``built``,
        ``skipped``, ``notes``, ``units``, ``recorded_after_cutoff``) with ``cutoffs``
        (dates kept), ``history`` (the short-history info) and ``horizon_months``.

    Raises
    ------
    InsufficientDataError
        When no cut-off has its outcome window inside the MRR history.
    """
    cutoffs = expansion_cutoffs(mrr, as_of=as_of, horizon_months=horizon_months,
                                cutoff_every_months=cutoff_every_months)
    outcomes = expansion_outcomes(mrr, cutoffs, horizon_months=horizon_months,
                                  min_rise_share=min_rise_share)
    if outcomes.empty:
        raise InsufficientDataError(
            f"The MRR history is too short for an expansion model: it needs a month before a "
            f"cut-off and the {horizon_months} months after it.",
            fix=f"Send at least {horizon_months + 7} months of MRR history (ideally two years).")
    decisions = outcomes.rename(columns={"cutoff_date": "decision_date"})
    feats, report = drivers.modelling_table(decisions, tables, cutoff_days=0,
                                            **dict(feature_options))
    feats = feats.drop(columns=["decision_date", "renewed", "downgraded"], errors="ignore")
    table = outcomes.join(feats.drop(columns=["account_id", "cutoff_date"]))
    table["log2_mrr_at_cutoff"] = np.log2(table["mrr_at_cutoff"])
    if "seat_utilisation" in table:
        util = table["seat_utilisation"].astype(float)
        table["seats_nearly_full"] = (util >= seats_full_share).astype(float).where(util.notna())
        report["built"] = [*report["built"], "seats_nearly_full"]
    else:
        report["skipped"]["seats_nearly_full"] = report["skipped"].get(
            "seat_utilisation", "no seat utilisation")
    report["built"] = [*report["built"], "mrr_at_cutoff", "log2_mrr_at_cutoff"]
    lookback = drivers.history_days(contact_days_cap=feature_options["contact_days_cap"],
                                    nps_lookback_days=feature_options["nps_lookback_days"])
    kept, history = drivers.drop_short_history(table, drivers.data_start(tables), lookback)
    report.update({"cutoffs": sorted(kept["cutoff_date"].unique()), "history": history,
                   "horizon_months": horizon_months, "min_rise_share": min_rise_share})
    return kept.reset_index(drop=True), report


# --------------------------------------------------------------------------- model fit
@dataclass
class ExpansionModel:
    """A fitted expansion model.

    Attributes
    ----------
    odds_ratios : DataFrame
        One row per design column: ``feature``, ``unit``, ``odds_ratio`` (odds of expanding
        per unit), ``or_low``/``or_high`` (95% interval; cluster-robust by account when an
        account has several cut-offs; NaN for a penalised fit), ``p_value``.
    auc : float
        Mean cross-validated AUC over the folds (0.5 = chance).
    auc_by_fold : list of float
        The AUC of each fold; ``auc_low``/``auc_high`` their range.
    lift : DataFrame
        :func:`playbook.analyses.drivers.lift_by_decile` of the out-of-fold predictions
        (decile 1 = highest predicted probability of expanding; event = expanded).
    n, expansions : int
        Rows (account x cut-off) fitted and the expansions among them.
    features : list of str
        Features kept by the fit's checks; ``skipped`` feature -> why not used.
    model : DriverModel
        The fit itself (checks, warnings, statsmodels result without its data:
        ``remove_data``, so no design matrix is kept).
    """

    odds_ratios: pd.DataFrame
    auc: float
    auc_by_fold: list[float]
    auc_low: float
    auc_high: float
    lift: pd.DataFrame
    n: int
    expansions: int
    features: list[str]
    skipped: dict[str, str]
    model: drivers.DriverModel = field(repr=False)
    quality: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def expansion_rate(self) -> float:
        """Share of the fitted rows that expanded."""
        return self.expansions / self.n if self.n else math.nan


def usable_features(table: pd.DataFrame, features: Sequence[str]) -> tuple[list[str],
                                                                           dict[str, str]]:
    """The requested features the table holds with values, and why each other one is not
    used (:data:`LEFT_OUT_FEATURES`, not built, no value)."""
    kept, skipped = [], {}
    for f in features:
        if f in LEFT_OUT_FEATURES:
            skipped[f] = LEFT_OUT_FEATURES[f]
        elif f not in table:
            skipped[f] = "not built from this client's data"
        elif table[f].isna().all():
            skipped[f] = "no value at any cut-off"
        else:
            kept.append(f)
    return kept, skipped


def fit_expansion_model(
    table: pd.DataFrame,
    features: Sequence[str],
    *,
    folds: int,
    seed: int,
    min_expansions: int,
    units: Mapping[str, Any] | None,
    recorded_after: Mapping[str, float] | None,
) -> ExpansionModel:
    """Logistic regression of ``expanded`` on the features of :func:`expansion_table`,
    fitted and checked like the renewal model (:func:`playbook.analyses.drivers.
    fit_renewal_model`: leakage screen, VIF, events per feature, separation, clustering by
    account), with its cross-validated AUC (``drivers.cv_folds`` folds, ``drivers.
    random_seed``) and lift by decile.

    ``units``: the table's ``report["units"]``; :data:`EXPANSION_UNITS` are added.
    ``recorded_after``: the report's ``recorded_after_cutoff``.

    Raises
    ------
    InsufficientDataError
        With fewer than ``min_expansions`` expansions (or non-expansions) among the rows
        with the outcome, or when no feature is usable (the drivers' error).
    """
    y = pd.to_numeric(table["expanded"], errors="coerce").dropna()
    expansions, others = int((y == 1).sum()), int((y == 0).sum())
    if min(expansions, others) < min_expansions:
        raise InsufficientDataError(
            f"{tf.plural(expansions, 'expansion')} in {tf.plural(len(y), 'account-period')}: "
            f"too few to learn what predicts expansion (at least {min_expansions} of each "
            "outcome are needed).",
            fix="A longer MRR history (more cut-offs) would enable it; or lower "
                "expansion.min_rise_share if smaller rises count as expansion.")
    kept, skipped = usable_features(table, features)
    if not kept:
        raise InsufficientDataError(
            "No feature of the expansion model can be built from this client's data.",
            fix="Send usage (active users, licensed seats), surveys or tickets.")
    all_units = {**EXPANSION_UNITS, **(units or {})}
    # odds ratios only: the average marginal effects (slower than the fit itself on a
    # 100,000-account book) are read by no one
    model = drivers.fit_renewal_model(table, kept, outcome="expanded", units=all_units,
                                      recorded_after=recorded_after, marginal_effects=False)
    # the statsmodels result keeps its design matrix and outcome (1.7 GB with what they
    # hold on to at 1,000,000 accounts, for the rest of the notebook and in the pickle the
    # run's kernels share); the model is read by its coefficients and checks only
    model.result.remove_data()
    quality = drivers.cross_validated_quality(table, model.features, folds=folds, seed=seed,
                                              outcome="expanded", units=all_units)
    scored = quality["predictions"].notna()
    lift = drivers.lift_by_decile(table.loc[scored, "expanded"].astype(float),
                                  quality["predictions"][scored])
    cols = ["feature", "unit", "odds_ratio", "or_low", "or_high", "p_value"]
    return ExpansionModel(
        odds_ratios=model.coefficients[cols].copy(),
        auc=quality["auc"],
        auc_by_fold=list(quality["auc_by_fold"]),
        auc_low=float(np.nanmin(quality["auc_by_fold"])),
        auc_high=float(np.nanmax(quality["auc_by_fold"])),
        lift=lift,
        n=model.n,
        expansions=int((table.loc[scored, "expanded"] == 1).sum()),
        features=list(model.features),
        skipped=skipped,
        model=model,
        quality=quality,
    )
