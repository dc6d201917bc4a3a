"""Who matters most: value scores, value tiers, how stable the tiers are, and the
value pyramid (accounts, MRR and churn per tier).

Pure functions on the canonical frames of :mod:`playbook.contract`, with the conventions of
:mod:`playbook.analyses.account_state` (active accounts, account MRR, "on or before
``as_of``"). Frames per account are indexed by ``account_id``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from playbook.analyses.account_state import (
    DateLike,
    account_mrr,
    active_accounts,
    as_timestamp,
    date_column,
    latest_on_or_before,
    mrr_at,
    number_column,
    usage_snapshot,
)
from playbook.analyses.scoring import check_keys, scale_1_5, weighted_total
from playbook.analyses.stats import wilson_interval
from playbook.errors import ParamsError

VALUE_COMPONENTS = ("contract_value", "growth", "beyond_revenue")


def value_scores(
    accounts: pd.DataFrame,
    *,
    as_of: DateLike,
    weights: Mapping[str, float],
    usage: pd.DataFrame | None = None,
    csm_inputs: pd.DataFrame | None = None,
    mrr: pd.DataFrame | None = None,
    ids: pd.Index | None = None,
) -> pd.DataFrame:
    """Value score (0-100) of every account active on ``as_of`` (or of the accounts
    ``ids``): who matters most.

    Components, each on a 0-100 scale:

    ``contract_value``
        Percentile rank of the account's MRR among active accounts: the share of active
        accounts whose MRR is at or below this one's, x 100 (the largest account gets 100).
    ``growth``
        Room to grow: the mean of the available parts of (a) seat headroom
        ``1 - active_users / licensed_seats`` in the latest usage month on or before
        ``as_of`` (clipped to 0-1) and (b) product headroom ``1 - products / max products of
        any active account``; x 100.
    ``beyond_revenue``
        Latest ``csm_inputs.reference_value`` (1-5) on or before ``as_of`` mapped to 0-100
        by ``(v - 1) / 4 * 100``.

    ``value_score = sum(w_k * component_k) / sum(w_k)`` over the components available for
    that account: a missing component's weight is redistributed pro rata over the others
    (e.g. without ``csm_inputs`` and default weights, contract value weighs 0.6 / 0.8 = 75%
    and growth 25%). ``components_used`` records which ones counted.

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts``.
    as_of : str or Timestamp
        Reference date; later records are ignored.
    weights : mapping
        ``value.weights``: component -> relative weight.
    usage, csm_inputs : DataFrame, optional
        Canonical ``usage`` and ``csm_inputs``.
    mrr : DataFrame, optional
        Canonical ``mrr`` history. Pass it whenever ``as_of`` is in the past: the account's
        MRR is then its MRR on ``as_of`` (see :func:`mrr_at`), not today's ``accounts.mrr``
        (which is often 0 for accounts that churned since, and would push every later
        churner into the bottom tier).

    Returns
    -------
    DataFrame indexed by ``account_id``: ``mrr`` (money/month), ``contract_value``,
    ``growth``, ``beyond_revenue`` (0-100 or NaN), ``value_score`` (0-100),
    ``components_used`` (comma-separated names).
    """
    weights = dict(weights)
    check_keys(weights, VALUE_COMPONENTS, "value weight(s)")
    if ids is None:
        acc = active_accounts(accounts, as_of)
    else:
        acc = accounts.drop_duplicates("account_id").set_index("account_id").reindex(ids)
    out = pd.DataFrame(index=acc.index)
    out["mrr"] = mrr_at(accounts, as_of, mrr).reindex(out.index)
    out["contract_value"] = out["mrr"].rank(method="max", pct=True) * 100.0
    out["growth"] = _growth_room(acc, as_of, usage)
    refs = latest_on_or_before(csm_inputs, ["reference_value"], as_of)["reference_value"]
    out["beyond_revenue"] = scale_1_5(refs.reindex(out.index))
    _, out["value_score"], out["components_used"] = weighted_total(out, weights)
    return out


def _growth_room(acc: pd.DataFrame, as_of: DateLike, usage: pd.DataFrame | None) -> pd.Series:
    """Growth component (0-100): mean of seat headroom and product headroom, where known."""
    seats = 1.0 - usage_snapshot(usage, as_of)["depth"].reindex(acc.index)
    products = number_column(acc, "products")
    top = products.max()
    prod_room = 1.0 - products / top if top and top > 0 else products * np.nan
    parts = pd.concat([seats.clip(0, 1), prod_room.clip(0, 1)], axis=1)
    return parts.mean(axis=1, skipna=True) * 100.0


def value_tiers(
    scores: pd.DataFrame | pd.Series,
    *,
    shares: Mapping[str, float],
    cutoffs: Mapping[str, float] | None = None,
) -> pd.Series:
    """Assign value tiers by shares of accounts (default) or by score cut-offs.

    **By cut-offs** (when ``cutoffs`` is given, ``value.tier_method: cutoffs``): tier name ->
    minimum value score (inclusive), top tier first, minimums falling. An account gets the
    first tier whose minimum its score reaches; the last tier takes every other account
    (its minimum is not checked), including accounts without a score. Example: high 70 /
    medium 40 / low 0 puts 70 in high, 69.9 and 40 in medium, 39.9 in low.

    **By shares** (``value.tier_method: shares``): with ``n`` accounts ranked by
    ``value_score`` (highest first; ties broken by ``account_id`` ascending, so the result
    is deterministic), the first
    ``round(n * s_1)`` accounts get the first tier, the accounts up to
    ``round(n * (s_1 + s_2))`` the second, and so on; the last tier takes the rest (rounding
    half up on the cumulative shares, so counts always add to ``n``). Accounts with no score
    rank last. Example: 10 accounts and 0.10 / 0.30 / 0.60 give 1 / 3 / 6.

    Parameters
    ----------
    scores : DataFrame or Series
        Output of :func:`value_scores` (its ``value_score`` column is used) or a Series of
        scores, indexed by ``account_id``.
    shares : mapping
        ``value.tier_shares``: tier name -> share of accounts, top tier first; must sum to 1.
    cutoffs : mapping, optional
        ``value.tier_cutoffs``: tier name -> minimum score; when given, ``shares`` is
        ignored.

    Returns
    -------
    Series (ordered categorical, categories top tier first) named ``value_tier``.
    """
    if cutoffs is not None:
        return _tiers_by_cutoffs(scores, cutoffs)
    shares = dict(shares)
    if not shares or abs(sum(shares.values()) - 1.0) > 1e-6 or min(shares.values()) < 0:
        raise ParamsError(
            f"Value tier shares must be non-negative and sum to 1; got {shares}.",
            fix="Fix value.tier_shares in the params file (e.g. high 0.1, medium 0.3, low 0.6).",
        )
    s = scores["value_score"] if isinstance(scores, pd.DataFrame) else scores
    names = list(shares)
    order = pd.DataFrame({"score": s.astype(float).to_numpy(), "id": s.index.astype(str)},
                         index=s.index)
    order = order.sort_values(["score", "id"], ascending=[False, True], na_position="last")
    n = len(order)
    cuts = [math.floor(n * c + 0.5 + 1e-9) for c in np.cumsum(list(shares.values()))]
    cuts[-1] = n
    labels = np.empty(n, dtype=object)
    start = 0
    for name, cut in zip(names, cuts, strict=True):
        labels[start:cut] = name
        start = max(start, cut)
    tiers = pd.Series(labels, index=order.index, name="value_tier")
    tiers = tiers.reindex(s.index)
    return tiers.astype(pd.CategoricalDtype(names, ordered=True))


def _tiers_by_cutoffs(scores: pd.DataFrame | pd.Series, cutoffs: Mapping[str, float]
                      ) -> pd.Series:
    names = list(cutoffs)
    mins = [float(v) for v in cutoffs.values()]
    if not names or any(b > a for a, b in zip(mins[:-1], mins[1:], strict=True)):
        raise ParamsError(
            f"Value tier cut-offs must be minimum scores falling from the top tier; got "
            f"{dict(cutoffs)}.",
            fix="Fix value.tier_cutoffs in the params file (e.g. high 70, medium 40, low 0).",
        )
    s = scores["value_score"] if isinstance(scores, pd.DataFrame) else scores
    s = s.astype(float)
    labels = pd.Series(names[-1], index=s.index, dtype=object)
    for name, low in zip(names[-2::-1], mins[-2::-1], strict=True):
        labels[(s >= low).to_numpy()] = name
    return labels.rename("value_tier").astype(pd.CategoricalDtype(names, ordered=True))


def tier_stability(before: pd.Series, after: pd.Series) -> dict[str, object]:
    """How many accounts keep, gain or lose a tier between two tierings.

    Only accounts tiered in both (active at both dates) count. Tiers are ordered top tier
    first (the categories of ``after`` when categorical, else of ``before``); moving *up*
    means to a tier listed earlier.

    Returns
    -------
    dict with ``matrix`` (DataFrame of counts: rows = tier before, columns = tier after,
    both in tier order), ``n`` (accounts in both), ``stayed``, ``moved_up``, ``moved_down``
    (counts) and ``share_stayed`` (stayed / n, NaN when n is 0).
    """
    cat = after if isinstance(after.dtype, pd.CategoricalDtype) else before
    order = (list(cat.cat.categories) if isinstance(cat.dtype, pd.CategoricalDtype)
             else sorted(set(before.dropna()) | set(after.dropna()), key=str))
    both = pd.DataFrame({"before": before.astype(object), "after": after.astype(object)}
                        ).dropna()
    matrix = pd.crosstab(both["before"], both["after"]).reindex(
        index=order, columns=order, fill_value=0).astype(int)
    matrix.index.name, matrix.columns.name = "tier before", "tier now"
    rank = {t: i for i, t in enumerate(order)}
    rb, ra = both["before"].map(rank), both["after"].map(rank)
    n = len(both)
    stayed = int((rb == ra).sum())
    return {"matrix": matrix, "n": n, "stayed": stayed, "moved_up": int((ra < rb).sum()),
            "moved_down": int((ra > rb).sum()),
            "share_stayed": stayed / n if n else math.nan}


def tier_concentration(
    accounts: pd.DataFrame,
    tiers: pd.Series,
    *,
    churned: pd.Series | pd.DataFrame | None = None,
    window: tuple[DateLike, DateLike] | None = None,
    mrr: pd.Series | None = None,
    lost: pd.Series | None = None,
    small_group_n: int,
) -> pd.DataFrame:
    """Accounts, MRR and churn per value tier: the pyramid, and whether its middle leaks.

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts``.
    tiers : Series
        Tier per ``account_id`` (e.g. :func:`value_tiers` at the start of the window). Only
        accounts that have a tier are counted.
    churned : Series of bool, DataFrame or None
        Which tiered accounts churned. A boolean Series indexed by ``account_id``; or a
        churn table (``churn_events``: ``account_id``, ``churn_date``, optional
        ``lost_mrr``); or None to use ``accounts`` (``churn_date`` set or ``status ==
        "churned"``).
    window : (start, end), optional
        With a table (or None), count only churn dated ``start < churn_date <= end``.
    mrr : Series, optional
        MRR per ``account_id`` when the tiers were set, e.g. ``value_scores(...)["mrr"]``.
        Default: today's account MRR (``accounts.mrr``, else ``arr / 12``), which is often
        0 for accounts that have churned since: pass this for a look-back.
    small_group_n : int
        ``thresholds.small_group_n``: tiers with fewer accounts get ``small_sample = True``
        (rates too noisy to judge).
    lost : Series, optional
        MRR lost per ``account_id``, used as given (0 where missing) for every tiered
        account, churned or not: e.g. MRR then − min(MRR now, MRR then) over a retention
        base (churn plus contraction, so the tiers' total over their MRR is 1 − GRR).

    Returns
    -------
    DataFrame indexed by tier (pyramid order): ``accounts``, ``share_accounts``, ``mrr``
    (money/month of the tier's accounts), ``share_mrr``, ``churned_accounts``, ``churn_rate``
    (churned / accounts) with a 95% Wilson interval ``churn_rate_low``/``churn_rate_high``,
    ``mrr_lost`` (``lost`` when given, else ``lost_mrr`` from the churn table when given,
    else the churned accounts' MRR; NaN when a churned account's is unknown),
    ``share_mrr_lost`` (of all MRR lost; NaN when a tier's is unknown),
    ``mrr_churn_rate`` (mrr_lost / mrr) and
    ``small_sample``. Shares are of the tiered total.
    """
    t = tiers.dropna()
    acc = accounts.drop_duplicates("account_id").set_index("account_id")
    if mrr is None:
        mrr = account_mrr(acc.reset_index()).set_axis(acc.index)
    mrr = mrr.astype(float).reindex(t.index)
    is_churned, recorded = _churn_of(acc, t.index, churned, window)
    if lost is None:
        lost = recorded.where(recorded.notna(), mrr.where(is_churned)).where(is_churned, 0.0)
    else:
        lost = lost.astype(float).reindex(t.index).fillna(0.0)
    frame = pd.DataFrame({"tier": t.astype(object), "mrr": mrr, "churned": is_churned,
                          "lost": lost})
    order = list(tiers.cat.categories) if isinstance(tiers.dtype, pd.CategoricalDtype) else (
        sorted(frame["tier"].unique(), key=str))
    g = frame.groupby("tier", sort=False)
    out = pd.DataFrame({
        "accounts": g.size(),
        "mrr": g["mrr"].sum(min_count=1),
        "churned_accounts": g["churned"].sum(),
        # missing is missing: a churned account whose MRR is unknown leaves its tier's lost
        # MRR unknown, not lower
        "mrr_lost": g["lost"].sum().where(g["lost"].count() == g.size()),
    }).reindex(order)
    out.index.name = "tier"
    out[["accounts", "churned_accounts"]] = out[["accounts", "churned_accounts"]].fillna(0)
    out = out.astype({"accounts": int, "churned_accounts": int})
    out["share_accounts"] = out["accounts"] / out["accounts"].sum()
    out["share_mrr"] = out["mrr"] / out["mrr"].sum()
    out["churn_rate"] = out["churned_accounts"] / out["accounts"].where(out["accounts"] > 0)
    low, high = wilson_interval(out["churned_accounts"].to_numpy(), out["accounts"].to_numpy())
    out["churn_rate_low"], out["churn_rate_high"] = low, high
    total_lost = out["mrr_lost"].sum(min_count=len(out))  # unknown when a tier's is
    out["share_mrr_lost"] = (out["mrr_lost"] / total_lost if total_lost > 0
                             else 0.0 if total_lost == 0 else np.nan)
    out["mrr_churn_rate"] = out["mrr_lost"] / out["mrr"].where(out["mrr"] > 0)
    out["small_sample"] = out["accounts"] < small_group_n
    return out[["accounts", "share_accounts", "mrr", "share_mrr", "churned_accounts",
                "churn_rate", "churn_rate_low", "churn_rate_high", "mrr_lost",
                "share_mrr_lost", "mrr_churn_rate", "small_sample"]]


def _churn_of(
    acc: pd.DataFrame,
    ids: pd.Index,
    churned: pd.Series | pd.DataFrame | None,
    window: tuple[DateLike, DateLike] | None,
) -> tuple[pd.Series, pd.Series]:
    """(churned flag, lost MRR or NaN) per id in ``ids``."""
    nan = pd.Series(np.nan, index=ids, dtype=float)
    if isinstance(churned, pd.Series):
        return churned.reindex(ids).fillna(False).astype(bool), nan
    if isinstance(churned, pd.DataFrame):
        events = churned.reset_index(drop=True)
        dates = date_column(events, "churn_date")
    else:
        events = acc.reset_index()
        dates = date_column(events, "churn_date")
        status = events.get("status", pd.Series("", index=events.index)).astype("string")
        mask = dates.notna() | (status.str.lower() == "churned").fillna(False)
        events, dates = events.loc[mask.to_numpy(dtype=bool)], dates.loc[mask.to_numpy(bool)]
    if window is not None:
        start, end = as_timestamp(window[0]), as_timestamp(window[1])
        keep = ((dates > start) & (dates <= end)).to_numpy(dtype=bool)
        events = events.loc[keep]
    flag = pd.Series(ids.isin(events["account_id"]), index=ids)
    if isinstance(churned, pd.DataFrame) and "lost_mrr" in events:
        lost = number_column(events, "lost_mrr").groupby(events["account_id"]).sum(min_count=1)
        return flag, lost.reindex(ids).astype(float)
    return flag, nan


def value_history_gaps(day: DateLike, **inputs: pd.DataFrame | None) -> list[str]:
    """The value inputs supplied (``mrr=``, ``usage=``, ``csm_inputs=``: canonical tables,
    None when not sent) with no record on or before ``day``: tiers computed for that day
    would take today's values for them, so a tier comparison with ``day`` would show
    stability the data cannot support. An empty list means each input has history then.
    Dates are ``month`` (``mrr``, ``usage``) or ``date`` (``csm_inputs``)."""
    day = as_timestamp(day)
    gaps = []
    for name, table in inputs.items():
        if table is None:
            continue
        column = "month" if "month" in table else "date"
        dates = date_column(table, column) if len(table) else pd.Series(dtype="datetime64[ns]")
        if not (dates <= day).any():
            gaps.append(name)
    return gaps
