"""Who matters most, and where each customer is: value scores, value tiers, lifecycle stages.

Pure functions on the canonical frames of :mod:`playbook.contract` (no I/O, no plotting).
Frames returned per account are indexed by ``account_id``.

Conventions shared with :mod:`playbook.analyses.health` and :mod:`.capacity`
------------------------------------------------------------------------------
* **Active at ``as_of``**: ``start_date <= as_of`` and the account had not churned by then
  (``churn_date`` blank or later than ``as_of``; an account with ``status == "churned"`` and
  no ``churn_date`` counts as churned). See :func:`active_accounts`.
* **Account MRR** (money per month): ``accounts.mrr``, or ``arr / 12`` where ``mrr`` is
  blank. See :func:`account_mrr`.
* **Only data dated on or before ``as_of`` is used**; undated ``csm_inputs`` rows count as
  the oldest entries.
* **Usage depth** = ``active_users / licensed_seats`` of the latest usage month on or before
  ``as_of``, capped at 1. See :func:`usage_snapshot`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from playbook.analyses.stats import wilson_interval
from playbook.errors import ParamsError

DateLike = str | pd.Timestamp

VALUE_COMPONENTS = ("contract_value", "growth", "beyond_revenue")
DEFAULT_VALUE_WEIGHTS = {"contract_value": 0.6, "growth": 0.2, "beyond_revenue": 0.2}
DEFAULT_TIER_SHARES = {"high": 0.10, "medium": 0.30, "low": 0.60}
LIFECYCLE_STAGES = (
    "Onboarding",
    "Adopting",
    "Actively using",
    "Expanding",
    "Transformational",
)


# --------------------------------------------------------------------------- shared helpers
def as_timestamp(value: DateLike) -> pd.Timestamp:
    """``as_of`` (ISO string or timestamp) as a ``pandas.Timestamp`` without time zone."""
    ts = pd.Timestamp(value)
    if ts.tz is not None:
        ts = ts.tz_localize(None)
    return ts


def active_accounts(accounts: pd.DataFrame, as_of: DateLike) -> pd.DataFrame:
    """Accounts that were paying customers on ``as_of``, indexed by ``account_id``.

    An account is active when ``start_date <= as_of`` (blank start dates are kept) and it had
    not churned by ``as_of``: ``churn_date`` is blank or later than ``as_of``, and an account
    whose ``status`` is ``"churned"`` without a ``churn_date`` counts as churned.
    """
    as_of = as_timestamp(as_of)
    acc = accounts.reset_index(drop=True)
    start = _dates(acc, "start_date")
    churn = _dates(acc, "churn_date")
    status = acc["status"].astype("string").str.lower() if "status" in acc else None
    started = start.isna() | (start <= as_of)
    not_churned = churn.isna() | (churn > as_of)
    if status is not None:
        not_churned &= ~(churn.isna() & (status == "churned")).fillna(False)
    keep = (started & not_churned).to_numpy(dtype=bool)
    return acc.loc[keep].set_index("account_id")


def account_mrr(accounts: pd.DataFrame) -> pd.Series:
    """Monthly recurring revenue per row: ``mrr``, or ``arr / 12`` where ``mrr`` is blank.

    Returns a float Series aligned with ``accounts`` (money per month, NaN when both are
    blank).
    """
    mrr = _numeric(accounts, "mrr")
    arr = _numeric(accounts, "arr")
    return mrr.fillna(arr / 12.0).rename("mrr")


def mrr_at(
    accounts: pd.DataFrame, as_of: DateLike, mrr: pd.DataFrame | None = None
) -> pd.Series:
    """MRR per account on ``as_of`` (money per month), indexed by ``account_id``.

    From the ``mrr`` table when given: the account's MRR in its latest month on or before
    ``as_of``. Accounts without such a row (or without an ``mrr`` table) fall back to
    :func:`account_mrr` (``accounts.mrr``, else ``arr / 12``), which is the *current*
    value: many CRMs blank or zero it for churned accounts, so pass the ``mrr`` table for
    any look-back.
    """
    acc = accounts.drop_duplicates("account_id")
    current = account_mrr(acc).set_axis(acc["account_id"]).rename_axis("account_id")
    if mrr is None or mrr.empty:
        return current.rename("mrr")
    as_of = as_timestamp(as_of)
    m = mrr.reset_index(drop=True)
    m = m.assign(month=_dates(m, "month"), mrr=_numeric(m, "mrr")).dropna(subset=["mrr"])
    m = m.loc[m["month"] <= as_of]
    monthly = m.groupby(["account_id", "month"], sort=True)["mrr"].sum()
    latest = monthly.groupby(level="account_id").tail(1).droplevel("month")
    return latest.reindex(current.index).fillna(current).rename("mrr")


def usage_snapshot(
    usage: pd.DataFrame | None, as_of: DateLike, *, trend_months: int = 3
) -> pd.DataFrame:
    """Latest usage per account on or before ``as_of`` and its change over ``trend_months``.

    Returns
    -------
    DataFrame indexed by ``account_id`` with ``month`` (latest usage month <= as_of),
    ``active_users``, ``licensed_seats``, ``depth`` (active / licensed, capped at 1, NaN
    without seats), ``active_users_before`` (active users exactly ``trend_months`` months
    earlier, NaN if that month is missing) and ``active_change`` (relative change of active
    users over those months: ``now / before - 1``; -0.25 is a fall of a quarter);
    ``key_actions`` (count of key actions in the latest month), ``actions_per_user``
    (key actions / active users, NaN without users) and ``actions_change`` (relative change
    of key actions over ``trend_months``, as ``active_change``). Empty when ``usage`` is
    None.
    """
    cols = ["month", "active_users", "licensed_seats", "depth", "active_users_before",
            "active_change", "key_actions", "actions_per_user", "actions_change"]
    if usage is None or usage.empty:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="account_id"), dtype=float)
    as_of = as_timestamp(as_of)
    usage = usage.reset_index(drop=True)
    u = usage.loc[_dates(usage, "month") <= as_of, ["account_id", "month"]].copy()
    measures = ["active_users", "licensed_seats", "key_actions"]
    for c in measures:
        u[c] = _numeric(usage, c).loc[u.index]
    u["month"] = _dates(u, "month").dt.to_period("M").dt.to_timestamp()
    monthly = u.groupby(["account_id", "month"], sort=True)[measures]
    monthly = monthly.sum(min_count=1).reset_index()
    latest = monthly.groupby("account_id").tail(1).set_index("account_id")
    # a left merge on (account, month - trend) keeps latest's order; no tuples of Python
    # objects (the old MultiIndex reindex was most of this function's time at 10k accounts)
    wanted = pd.DataFrame({"account_id": latest.index.to_numpy(),
                           "month": (latest["month"] - pd.DateOffset(months=trend_months)
                                     ).to_numpy()})
    before = wanted.merge(monthly[["account_id", "month", "active_users", "key_actions"]],
                          on=["account_id", "month"], how="left", validate="many_to_one")
    latest["active_users_before"] = before["active_users"].to_numpy(dtype=float)
    seats = latest["licensed_seats"].where(latest["licensed_seats"] > 0)
    latest["depth"] = (latest["active_users"] / seats).clip(upper=1.0)
    prev = latest["active_users_before"].where(latest["active_users_before"] > 0)
    latest["active_change"] = latest["active_users"] / prev - 1.0
    users = latest["active_users"].where(latest["active_users"] > 0)
    latest["actions_per_user"] = latest["key_actions"] / users
    actions_before = pd.Series(before["key_actions"].to_numpy(dtype=float), index=latest.index)
    latest["actions_change"] = latest["key_actions"] / actions_before.where(
        actions_before > 0) - 1.0
    return latest[cols]


def latest_on_or_before(
    frame: pd.DataFrame | None, columns: list[str], as_of: DateLike, date_col: str = "date"
) -> pd.DataFrame:
    """Per account, the latest non-blank value of each column dated on or before ``as_of``.

    Each column is taken separately (a blank entry does not hide an older value). Rows with a
    blank date count as the oldest entries; rows dated after ``as_of`` are ignored. Values on
    the same latest date are averaged.
    """
    out = pd.DataFrame(index=pd.Index([], name="account_id"), columns=columns, dtype=float)
    if frame is None or frame.empty:
        return out
    as_of = as_timestamp(as_of)
    frame = frame.reset_index(drop=True)
    dates = _dates(frame, date_col)
    f = frame.loc[dates.isna() | (dates <= as_of), ["account_id"]].copy()
    f["_date"] = dates.loc[f.index].fillna(pd.Timestamp.min)
    series = {}
    for c in columns:
        f[c] = _numeric(frame, c).loc[f.index]
        g = f.dropna(subset=[c])
        if g.empty:
            series[c] = pd.Series(dtype=float)
            continue
        last = g.groupby("account_id")["_date"].transform("max")
        series[c] = g.loc[g["_date"] == last].groupby("account_id")[c].mean()
    out = pd.DataFrame(series, columns=columns)
    out.index.name = "account_id"
    return out.astype(float)


def scale_1_5(values: pd.Series) -> pd.Series:
    """Map a 1-5 rating to 0-100: ``(v - 1) / 4 * 100`` (1 -> 0, 3 -> 50, 5 -> 100)."""
    return ((values.astype(float).clip(1, 5) - 1.0) / 4.0 * 100.0).astype(float)


def weighted_total(
    scores: pd.DataFrame, weights: Mapping[str, float]
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Weighted score per row with the weight of missing parts spread over the others.

    For each row, ``contribution_k = w_k * score_k / sum(w_j for available j)``, so the
    contributions sum to the total and the total stays on the 0-100 scale of the parts
    (equivalent to re-scaling the available weights to sum to 1). Parts with weight 0 are
    ignored.

    Returns
    -------
    (contributions, total, used)
        ``contributions`` has one column per weighted part (NaN where the part is missing);
        ``total`` is NaN when no part is available; ``used`` lists the parts used, comma
        separated, in the order of ``weights``.
    """
    names = [k for k, w in weights.items() if w and w > 0]
    w = pd.Series({k: float(weights[k]) for k in names}, dtype=float)
    part = scores.reindex(columns=names).astype(float)
    available = part.notna()
    denom = available.mul(w, axis=1).sum(axis=1)
    contrib = part.mul(w, axis=1).div(denom.where(denom > 0), axis=0)
    total = contrib.sum(axis=1, min_count=1)
    used = pd.Series("", index=scores.index, dtype=object)
    for k in names:
        used = used + np.where(available[k].to_numpy(dtype=bool), k + ",", "")
    return contrib, total, used.str.rstrip(",").astype(object)


def _dates(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[col], errors="coerce")


def _numeric(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[col], errors="coerce").astype(float)


def _check_keys(given: Mapping[str, object], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ParamsError(
            f"Unknown {what}: {', '.join(unknown)}.",
            fix=f"Use only {', '.join(allowed)}.",
        )


# --------------------------------------------------------------------------- value pyramid
def value_scores(
    accounts: pd.DataFrame,
    *,
    as_of: DateLike,
    weights: Mapping[str, float] | None = None,
    usage: pd.DataFrame | None = None,
    csm_inputs: pd.DataFrame | None = None,
    mrr: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Value score (0-100) of every account active on ``as_of``: who matters most.

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
    weights : mapping, optional
        ``value.weights`` from the params (default 0.6 / 0.2 / 0.2).
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
    weights = dict(DEFAULT_VALUE_WEIGHTS if weights is None else weights)
    _check_keys(weights, VALUE_COMPONENTS, "value weight(s)")
    acc = active_accounts(accounts, as_of)
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
    products = _numeric(acc, "products")
    top = products.max()
    prod_room = 1.0 - products / top if top and top > 0 else products * np.nan
    parts = pd.concat([seats.clip(0, 1), prod_room.clip(0, 1)], axis=1)
    return parts.mean(axis=1, skipna=True) * 100.0


def value_tiers(
    scores: pd.DataFrame | pd.Series,
    *,
    shares: Mapping[str, float] | None = None,
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
    shares : mapping, optional
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
    shares = dict(DEFAULT_TIER_SHARES if shares is None else shares)
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
    small_group_n: int = 30,
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
    small_group_n : int, default 30
        Tiers with fewer accounts get ``small_sample = True`` (rates too noisy to judge).

    Returns
    -------
    DataFrame indexed by tier (pyramid order): ``accounts``, ``share_accounts``, ``mrr``
    (money/month of the tier's accounts), ``share_mrr``, ``churned_accounts``, ``churn_rate``
    (churned / accounts) with a 95% Wilson interval ``churn_rate_low``/``churn_rate_high``,
    ``mrr_lost`` (``lost_mrr`` from the churn table when given, else the churned accounts'
    MRR), ``share_mrr_lost`` (of all MRR lost), ``mrr_churn_rate`` (mrr_lost / mrr) and
    ``small_sample``. Shares are of the tiered total.
    """
    t = tiers.dropna()
    acc = accounts.drop_duplicates("account_id").set_index("account_id")
    if mrr is None:
        mrr = account_mrr(acc.reset_index()).set_axis(acc.index)
    mrr = mrr.astype(float).reindex(t.index)
    is_churned, lost = _churn_of(acc, t.index, churned, window)
    lost = lost.where(lost.notna(), mrr.where(is_churned)).where(is_churned, 0.0)
    frame = pd.DataFrame({"tier": t.astype(object), "mrr": mrr, "churned": is_churned,
                          "lost": lost})
    order = list(tiers.cat.categories) if isinstance(tiers.dtype, pd.CategoricalDtype) else (
        sorted(frame["tier"].unique(), key=str))
    g = frame.groupby("tier", sort=False)
    out = pd.DataFrame({
        "accounts": g.size(),
        "mrr": g["mrr"].sum(min_count=1),
        "churned_accounts": g["churned"].sum(),
        "mrr_lost": g["lost"].sum(),
    }).reindex(order)
    out.index.name = "tier"
    out[["accounts", "churned_accounts"]] = out[["accounts", "churned_accounts"]].fillna(0)
    out = out.astype({"accounts": int, "churned_accounts": int})
    out["share_accounts"] = out["accounts"] / out["accounts"].sum()
    out["share_mrr"] = out["mrr"] / out["mrr"].sum()
    out["churn_rate"] = out["churned_accounts"] / out["accounts"].where(out["accounts"] > 0)
    low, high = wilson_interval(out["churned_accounts"].to_numpy(), out["accounts"].to_numpy())
    out["churn_rate_low"], out["churn_rate_high"] = low, high
    total_lost = out["mrr_lost"].sum()
    out["share_mrr_lost"] = out["mrr_lost"] / total_lost if total_lost > 0 else 0.0
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
        dates = _dates(events, "churn_date")
    else:
        events = acc.reset_index()
        dates = _dates(events, "churn_date")
        status = events.get("status", pd.Series("", index=events.index)).astype("string")
        mask = dates.notna() | (status.str.lower() == "churned").fillna(False)
        events, dates = events.loc[mask.to_numpy(dtype=bool)], dates.loc[mask.to_numpy(bool)]
    if window is not None:
        start, end = as_timestamp(window[0]), as_timestamp(window[1])
        keep = ((dates > start) & (dates <= end)).to_numpy(dtype=bool)
        events = events.loc[keep]
    flag = pd.Series(ids.isin(events["account_id"]), index=ids)
    if isinstance(churned, pd.DataFrame) and "lost_mrr" in events:
        lost = _numeric(events, "lost_mrr").groupby(events["account_id"]).sum(min_count=1)
        return flag, lost.reindex(ids).astype(float)
    return flag, nan


# --------------------------------------------------------------------------- lifecycle
def lifecycle_stage(
    accounts: pd.DataFrame,
    *,
    as_of: DateLike,
    onboarding: pd.DataFrame | None = None,
    usage: pd.DataFrame | None = None,
    mrr: pd.DataFrame | None = None,
    n_steps: int = 6,
    onboarding_days: int = 90,
    active_depth: float = 0.5,
    expanding_growth: float = 0.10,
    transformational_depth: float = 0.8,
    transformational_products: int = 3,
    steps: Sequence[str] | None = None,
) -> pd.Series:
    """Lifecycle stage of each account active on ``as_of`` by default rules.

    Rules, checked top down (the first that holds wins):

    1. **Onboarding**: fewer than ``n_steps`` distinct onboarding steps (or, when ``steps``
       is given, not every one of those named key steps) completed on or
       before ``as_of``. Without an ``onboarding`` table: tenure (``as_of - start_date``)
       under ``onboarding_days`` days.
    2. **Transformational**: usage depth (active / licensed seats, latest month) >=
       ``transformational_depth`` (0.8) and products >= ``transformational_products`` (3).
    3. **Expanding**: MRR grew by >= ``expanding_growth`` (10%) over the 12 months to
       ``as_of`` (latest month on or before ``as_of`` vs the month 12 months earlier, or the
       first month in that window for younger accounts). Needs the ``mrr`` table.
    4. **Actively using**: usage depth >= ``active_depth`` (0.5).
    5. **Adopting**: the rest (onboarded, but shallow use or no usage data: use is not
       shown, so it is not assumed).

    Returns
    -------
    Series (ordered categorical :data:`LIFECYCLE_STAGES`) named ``lifecycle_stage``,
    indexed by ``account_id``.
    """
    as_of = as_timestamp(as_of)
    acc = active_accounts(accounts, as_of)
    onboarded = _onboarded(acc, as_of, onboarding, n_steps, onboarding_days, steps)
    depth = usage_snapshot(usage, as_of)["depth"].reindex(acc.index)
    products = _numeric(acc, "products")
    growth = mrr_growth(mrr, as_of, months=12).reindex(acc.index)
    stage = pd.Series("Adopting", index=acc.index, dtype=object)
    stage[(depth >= active_depth).to_numpy()] = "Actively using"
    stage[(growth >= expanding_growth).to_numpy()] = "Expanding"
    deep = (depth >= transformational_depth) & (products >= transformational_products)
    stage[deep.to_numpy()] = "Transformational"
    stage[~onboarded.to_numpy(dtype=bool)] = "Onboarding"
    return stage.astype(pd.CategoricalDtype(LIFECYCLE_STAGES, ordered=True)).rename(
        "lifecycle_stage")


def _onboarded(
    acc: pd.DataFrame,
    as_of: pd.Timestamp,
    onboarding: pd.DataFrame | None,
    n_steps: int,
    onboarding_days: int,
    key_steps: Sequence[str] | None = None,
) -> pd.Series:
    if onboarding is None:
        tenure = (as_of - _dates(acc, "start_date")).dt.days
        return (tenure >= onboarding_days).fillna(True).astype(bool)
    onboarding = onboarding.reset_index(drop=True)
    done = onboarding.loc[_dates(onboarding, "completed_date") <= as_of]
    if key_steps:
        done = done.loc[done["step"].isin(list(key_steps))]
        n_steps = len(set(key_steps))
    steps = done.groupby("account_id")["step"].nunique().reindex(acc.index).fillna(0)
    return steps >= n_steps


def mrr_growth(mrr: pd.DataFrame | None, as_of: DateLike, *, months: int = 12) -> pd.Series:
    """Relative MRR change per account over the ``months`` up to ``as_of``.

    ``mrr_now / mrr_then - 1`` where ``mrr_now`` is the latest month on or before ``as_of``
    and ``mrr_then`` the month ``months`` earlier (or, for younger accounts, the first month
    in the window). NaN when the base is 0 or unknown. Empty Series without an ``mrr`` table.
    """
    if mrr is None or mrr.empty:
        return pd.Series(dtype=float, name="mrr_growth")
    as_of = as_timestamp(as_of)
    mrr = mrr.reset_index(drop=True)
    m = mrr.assign(month=_dates(mrr, "month"), mrr=_numeric(mrr, "mrr"))
    m = m.loc[m["month"] <= as_of]
    monthly = m.groupby(["account_id", "month"], sort=True)["mrr"].sum().reset_index()
    last = monthly.groupby("account_id")["month"].transform("max")
    window = monthly.loc[monthly["month"] >= last - pd.DateOffset(months=months)]
    g = window.groupby("account_id")["mrr"]
    then = g.first()
    growth = g.last() / then.where(then > 0) - 1.0
    return growth.rename("mrr_growth")


# --------------------------------------------------------------------------- lifecycle over time
def month_ends(as_of: DateLike, months: int) -> list[pd.Timestamp]:
    """``as_of`` and the ``months`` month-ends before it, oldest first.

    Example: ``month_ends("2025-06-15", 2)`` gives 2025-04-30, 2025-05-31, 2025-06-15.
    """
    as_of = as_timestamp(as_of)
    period = as_of.to_period("M")
    ends = [(period - k).to_timestamp(how="end").normalize() for k in range(months, 0, -1)]
    return [*ends, as_of]


def stage_history(accounts: pd.DataFrame, *, dates: Sequence[DateLike], **rules: object
                  ) -> pd.DataFrame:
    """Lifecycle stage of every account at each date (e.g. :func:`month_ends`).

    ``rules`` are passed to :func:`lifecycle_stage` (``onboarding``, ``usage``, ``mrr``,
    thresholds). Returns a DataFrame indexed by ``account_id`` with one column per date (in
    the order given) holding the stage name, NaN where the account was not active then.
    """
    cols = {as_timestamp(day): lifecycle_stage(accounts, as_of=day, **rules).astype(object)
            for day in dates}
    out = pd.DataFrame(cols)
    out.index.name = "account_id"
    return out


def time_in_stage(history: pd.DataFrame) -> pd.DataFrame:
    """How long each account has been in its current stage, from a :func:`stage_history`.

    For every account with a stage at the last date: the run of consecutive snapshots (no
    gap) ending at the last date with that same stage. ``months_in_stage`` = months from
    the first snapshot of the run to the last date (0 = entered since the previous
    snapshot); ``censored`` = the run starts at the first snapshot, so the true time is at
    least that. Snapshots are assumed one month apart.

    Returns
    -------
    DataFrame indexed by ``account_id``: ``stage``, ``months_in_stage`` (int), ``censored``
    (bool).
    """
    if history.empty:
        return pd.DataFrame(columns=["stage", "months_in_stage", "censored"],
                            index=pd.Index([], name="account_id"))
    last = history.iloc[:, -1].dropna()
    h = history.loc[last.index].to_numpy(dtype=object)
    same = h == last.to_numpy(dtype=object)[:, None]
    # length of the run of True values ending at the last column
    broken = ~same[:, ::-1]
    run = np.where(broken.any(axis=1), broken.argmax(axis=1), same.shape[1])
    out = pd.DataFrame({"stage": last.astype(object), "months_in_stage": run - 1,
                        "censored": run == same.shape[1]}, index=last.index)
    out.index.name = "account_id"
    return out


def stage_summary(stages: pd.Series, time: pd.DataFrame | None = None) -> pd.DataFrame:
    """Accounts per lifecycle stage now, and the typical time spent in it.

    Returns a DataFrame indexed by stage (the categories' order when categorical):
    ``accounts``, ``share`` (of all staged accounts), ``median_months`` (median
    ``months_in_stage`` of :func:`time_in_stage`, NaN without ``time``) and
    ``share_censored`` (share of those accounts in the stage for the whole history, whose
    time is only a lower bound).
    """
    order = (list(stages.cat.categories) if isinstance(stages.dtype, pd.CategoricalDtype)
             else sorted(stages.dropna().unique(), key=str))
    counts = stages.astype(object).value_counts().reindex(order).fillna(0).astype(int)
    out = pd.DataFrame({"accounts": counts})
    out.index.name = "stage"
    total = counts.sum()
    out["share"] = counts / total if total else np.nan
    if time is None or time.empty:
        out["median_months"] = np.nan
        out["share_censored"] = np.nan
        return out
    t = time.reindex(stages.index).dropna(subset=["stage"])
    g = t.groupby(t["stage"].astype(object))
    out["median_months"] = g["months_in_stage"].median().reindex(order).astype(float)
    out["share_censored"] = g["censored"].mean().reindex(order).astype(float)
    return out


# --------------------------------------------------------------------------- onboarding
def onboarding_step_order(accounts: pd.DataFrame, onboarding: pd.DataFrame | None
                          ) -> list[str]:
    """Onboarding steps seen in the data, ordered by median days from start to completion
    (ties by name). Empty without an ``onboarding`` table."""
    if onboarding is None or onboarding.empty:
        return []
    days = _step_days(accounts, onboarding)
    med = days.groupby("step")["days"].median()
    med = med.reindex(sorted(days["step"].dropna().unique(), key=str))
    return list(med.sort_values(kind="stable").index)


def _step_days(accounts: pd.DataFrame, onboarding: pd.DataFrame) -> pd.DataFrame:
    """One row per account and step (first completion): ``days`` from start to completion."""
    ob = onboarding.reset_index(drop=True)
    ob = ob.assign(completed_date=_dates(ob, "completed_date")).dropna(
        subset=["completed_date", "step"])
    first = ob.groupby(["account_id", "step"], as_index=False)["completed_date"].min()
    starts = accounts.drop_duplicates("account_id").set_index("account_id")["start_date"]
    first["start_date"] = pd.to_datetime(first["account_id"].map(starts), errors="coerce")
    first["days"] = (first["completed_date"] - first["start_date"]).dt.days.astype(float)
    return first


def onboarding_funnel(
    accounts: pd.DataFrame,
    onboarding: pd.DataFrame,
    *,
    as_of: DateLike,
    started: tuple[DateLike, DateLike],
    steps: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Share of a start cohort that completed each key onboarding step, and how fast.

    The cohort is every account (active or churned since) with ``started[0] < start_date
    <= started[1]``: choose the end early enough that every account had time to finish
    (e.g. ``as_of - lifecycle.stuck_onboarding_days``). Only completions on or before
    ``as_of`` count; an account listing a step twice counts its first completion.

    Parameters
    ----------
    steps : sequence of str, optional
        Key steps in order (``lifecycle.onboarding_steps``); default every step seen, ordered
        by :func:`onboarding_step_order`.

    Returns
    -------
    DataFrame indexed by step: ``accounts`` (cohort size), ``completed``,
    ``share_completed`` (completed / accounts, NaN for an empty cohort), ``median_days``
    and ``p75_days`` (days from ``start_date`` to completion, among those that completed).
    """
    as_of = as_timestamp(as_of)
    lo, hi = as_timestamp(started[0]), as_timestamp(started[1])
    acc = accounts.drop_duplicates("account_id")
    start = _dates(acc, "start_date")
    cohort = acc.loc[((start > lo) & (start <= hi)).to_numpy(dtype=bool), "account_id"]
    order = list(steps) if steps else onboarding_step_order(accounts, onboarding)
    days = _step_days(accounts, onboarding)
    days = days.loc[days["account_id"].isin(set(cohort)) & (days["completed_date"] <= as_of)]
    g = days.groupby("step")["days"]
    n = len(cohort)
    out = pd.DataFrame(index=pd.Index(order, name="step"))
    out["accounts"] = n
    out["completed"] = g.size().reindex(order).fillna(0).astype(int)
    out["share_completed"] = out["completed"] / n if n else np.nan
    out["median_days"] = g.median().reindex(order).astype(float)
    out["p75_days"] = g.quantile(0.75).reindex(order).astype(float)
    return out


def stuck_onboarding(
    accounts: pd.DataFrame,
    stages: pd.Series,
    *,
    as_of: DateLike,
    days: int = 120,
    onboarding: pd.DataFrame | None = None,
    mrr: pd.Series | None = None,
    steps: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Accounts still in the first lifecycle stage more than ``days`` after they started.

    Parameters
    ----------
    stages : Series
        :func:`lifecycle_stage` on ``as_of`` (the first category, or "Onboarding", is the
        first stage).
    days : int
        ``lifecycle.stuck_onboarding_days``: longer than this since ``start_date`` (strictly)
        is stuck.
    mrr : Series, optional
        MRR per account on ``as_of`` (default :func:`account_mrr`).
    steps : sequence of str, optional
        Key steps; ``steps_done`` then counts only those.

    Returns
    -------
    DataFrame indexed by ``account_id``, largest MRR first (then longest stuck): ``name``,
    ``owner``, ``segment`` (when in ``accounts``), ``mrr``, ``start_date``,
    ``days_since_start``, ``steps_done`` (distinct steps completed by ``as_of``) and
    ``last_step`` (the latest completed step, NaN when none).
    """
    as_of = as_timestamp(as_of)
    first = (stages.cat.categories[0] if isinstance(stages.dtype, pd.CategoricalDtype)
             else LIFECYCLE_STAGES[0])
    acc = accounts.drop_duplicates("account_id").set_index("account_id")
    ids = stages.index[(stages.astype(object) == first).to_numpy()]
    a = acc.reindex(ids)
    tenure = (as_of - pd.to_datetime(a["start_date"], errors="coerce")).dt.days
    ids = ids[(tenure > days).to_numpy(dtype=bool)]
    a = a.loc[ids]
    out = pd.DataFrame(index=pd.Index(ids, name="account_id"))
    for col in ("name", "owner", "segment"):
        if col in a:
            out[col] = a[col]
    if mrr is None:
        mrr = account_mrr(acc.reset_index()).set_axis(acc.index)
    out["mrr"] = mrr.reindex(ids).astype(float)
    out["start_date"] = pd.to_datetime(a["start_date"], errors="coerce")
    out["days_since_start"] = (as_of - out["start_date"]).dt.days.astype(int)
    out["steps_done"] = 0
    out["last_step"] = pd.Series(np.nan, index=ids, dtype=object)
    if onboarding is not None and not onboarding.empty:
        ob = onboarding.reset_index(drop=True)
        ob = ob.assign(completed_date=_dates(ob, "completed_date"))
        ob = ob.loc[(ob["completed_date"] <= as_of) & ob["account_id"].isin(set(ids))]
        if steps:
            ob = ob.loc[ob["step"].isin(list(steps))]
        out["steps_done"] = ob.groupby("account_id")["step"].nunique().reindex(ids).fillna(
            0).astype(int)
        latest = ob.sort_values(["completed_date", "step"]).groupby("account_id").tail(1)
        out["last_step"] = latest.set_index("account_id")["step"].reindex(ids).astype(object)
    return out.sort_values(["mrr", "days_since_start"], ascending=[False, False],
                           na_position="last")
