"""Where each customer is: lifecycle stages on a date and over time, the onboarding
funnel, and accounts stuck in onboarding.

Pure functions on the canonical frames of :mod:`playbook.contract`, with the conventions of
:mod:`playbook.analyses.account_state`. Frames per account are indexed by ``account_id``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from playbook.analyses.account_state import (
    DateLike,
    account_mrr,
    active_accounts,
    as_timestamp,
    date_column,
    mrr_growth,
    number_column,
    usage_snapshot,
)
from playbook.analyses.history import ActiveAccounts, MrrGrowth, StepsDone, UsageHistory

LIFECYCLE_STAGES = (
    "Onboarding",
    "Adopting",
    "Actively using",
    "Expanding",
    "Transformational",
)
STAGE_DTYPE = pd.CategoricalDtype(LIFECYCLE_STAGES, ordered=True)


def lifecycle_stage(
    accounts: pd.DataFrame,
    *,
    as_of: DateLike,
    onboarding: pd.DataFrame | None = None,
    usage: pd.DataFrame | None = None,
    mrr: pd.DataFrame | None = None,
    n_steps: int = 6,
    onboarding_days: int | None,
    active_depth: float,
    expanding_growth: float,
    transformational_depth: float,
    transformational_products: int,
    steps: Sequence[str] | None = None,
) -> pd.Series:
    """Lifecycle stage of each account active on ``as_of`` by default rules.

    The thresholds are the keys of params ``lifecycle`` of the same names. Rules, checked
    top down (the first that holds wins):

    1. **Onboarding**: fewer than ``n_steps`` distinct onboarding steps (or, when ``steps``
       is given, not every one of those named key steps) completed on or
       before ``as_of``. Without an ``onboarding`` table: tenure (``as_of - start_date``)
       under ``onboarding_days`` days; with ``onboarding_days=None`` no account is placed
       in Onboarding (the report's rule: the stage needs the onboarding table, a tenure
       default is not evidence).
    2. **Transformational**: usage depth (active / licensed seats, latest month) >=
       ``transformational_depth`` and products >= ``transformational_products``.
    3. **Expanding**: MRR grew by >= ``expanding_growth`` (0.10 = 10%) over the 12 months to
       ``as_of`` (latest month on or before ``as_of`` vs the month 12 months earlier, or the
       first month in that window for younger accounts). Needs the ``mrr`` table.
    4. **Actively using**: usage depth >= ``active_depth``.
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
    growth = mrr_growth(mrr, as_of, months=12).reindex(acc.index)
    return _stage(acc, onboarded, depth, growth, active_depth=active_depth,
                  expanding_growth=expanding_growth,
                  transformational_depth=transformational_depth,
                  transformational_products=transformational_products)


def lifecycle_stages_on(
    accounts: pd.DataFrame,
    dates: Sequence[DateLike],
    *,
    onboarding: pd.DataFrame | None = None,
    usage: pd.DataFrame | None = None,
    mrr: pd.DataFrame | None = None,
    n_steps: int = 6,
    onboarding_days: int | None,
    active_depth: float,
    expanding_growth: float,
    transformational_depth: float,
    transformational_products: int,
    steps: Sequence[str] | None = None,
) -> dict[pd.Timestamp, pd.Series]:
    """:func:`lifecycle_stage` on each of ``dates`` (same Series), the usage, billing and
    onboarding tables parsed once (:mod:`playbook.analyses.history`).

    Returns a dict: date (Timestamp) -> the :func:`lifecycle_stage` Series of that date.
    """
    ids, placed = _stage_codes(
        accounts, dates, onboarding=onboarding, usage=usage, mrr=mrr, n_steps=n_steps,
        onboarding_days=onboarding_days, active_depth=active_depth,
        expanding_growth=expanding_growth, transformational_depth=transformational_depth,
        transformational_products=transformational_products, steps=steps)
    return {day: _stage_series(ids[mask], code) for day, (mask, code) in placed.items()}


def _stage_codes(accounts: pd.DataFrame, dates: Sequence[DateLike], *,
                 onboarding: pd.DataFrame | None = None, usage: pd.DataFrame | None = None,
                 mrr: pd.DataFrame | None = None, n_steps: int = 6,
                 onboarding_days: int | None, active_depth: float, expanding_growth: float,
                 transformational_depth: float, transformational_products: int,
                 steps: Sequence[str] | None = None
                 ) -> tuple[pd.Index, dict[pd.Timestamp, tuple[np.ndarray, np.ndarray]]]:
    """The stage of each account active on each of ``dates`` as a position in
    :data:`LIFECYCLE_STAGES`: the account ID of each row of ``accounts``, and per date
    (first occurrence order) the rows active then (bool) and their stage codes (int8).

    Each account's measures are looked up by its integer code in each table (usage depth,
    MRR growth, onboarding steps done), parsed once for every date."""
    usage_history, growth_history = UsageHistory(usage), MrrGrowth(mrr)
    active = ActiveAccounts(accounts)
    ids = active.ids
    usage_codes, mrr_codes = usage_history.codes_of(ids), growth_history.codes_of(ids)
    products = number_column(active.rows(slice(None)), "products").to_numpy(dtype=float)
    done = StepsDone(onboarding, steps) if onboarding is not None else None
    step_codes = done.codes_of(ids) if done is not None else None
    need = len(set(steps)) if steps else n_steps
    out = {}
    for day in dates:
        as_of = as_timestamp(day)
        if as_of in out:
            continue
        mask = active.mask(as_of)
        if done is not None:
            onboarded = done.count_of(as_of, step_codes[mask]) >= need
        else:
            onboarded = _onboarded(active.rows(mask), as_of, None, n_steps,
                                   onboarding_days, steps).to_numpy(dtype=bool)
        depth = usage_history.depth_of(as_of, usage_codes[mask])
        growth = growth_history.growth_of(as_of, mrr_codes[mask], months=12)
        out[as_of] = mask, _stage_code(onboarded, depth, growth, products[mask],
                                       active_depth=active_depth,
                                       expanding_growth=expanding_growth,
                                       transformational_depth=transformational_depth,
                                       transformational_products=transformational_products)
    return ids, out


def _stage_code(onboarded: np.ndarray, depth: np.ndarray, growth: np.ndarray,
                products: np.ndarray, *, active_depth: float, expanding_growth: float,
                transformational_depth: float, transformational_products: int
                ) -> np.ndarray:
    """The stage rules of :func:`lifecycle_stage` on aligned arrays (blank measures fail
    their test): positions in :data:`LIFECYCLE_STAGES` (int8)."""
    code = np.full(len(onboarded), 1, dtype=np.int8)  # Adopting
    code[depth >= active_depth] = 2
    code[growth >= expanding_growth] = 3
    code[(depth >= transformational_depth) & (products >= transformational_products)] = 4
    code[~onboarded.astype(bool)] = 0
    return code


def _stage_series(ids: pd.Index, code: np.ndarray) -> pd.Series:
    """Stage codes as the ordered categorical Series :func:`lifecycle_stage` returns."""
    return pd.Series(pd.Categorical.from_codes(code, dtype=STAGE_DTYPE), index=ids,
                     name="lifecycle_stage")


def _stage(acc: pd.DataFrame, onboarded: pd.Series, depth: pd.Series, growth: pd.Series, *,
           active_depth: float, expanding_growth: float, transformational_depth: float,
           transformational_products: int) -> pd.Series:
    """The stage rules of :func:`lifecycle_stage` on the day's measures (aligned with
    ``acc``, the active accounts)."""
    code = _stage_code(onboarded.to_numpy(dtype=bool), depth.to_numpy(dtype=float),
                       growth.to_numpy(dtype=float),
                       number_column(acc, "products").to_numpy(dtype=float),
                       active_depth=active_depth, expanding_growth=expanding_growth,
                       transformational_depth=transformational_depth,
                       transformational_products=transformational_products)
    return _stage_series(acc.index, code)


def _onboarded(
    acc: pd.DataFrame,
    as_of: pd.Timestamp,
    onboarding: pd.DataFrame | None,
    n_steps: int,
    onboarding_days: int | None,
    key_steps: Sequence[str] | None = None,
) -> pd.Series:
    if onboarding is None and onboarding_days is None:
        return pd.Series(True, index=acc.index)
    if onboarding is None:
        tenure = (as_of - date_column(acc, "start_date")).dt.days
        return (tenure >= onboarding_days).fillna(True).astype(bool)
    onboarding = onboarding.reset_index(drop=True)
    done = onboarding.loc[date_column(onboarding, "completed_date") <= as_of]
    if key_steps:
        done = done.loc[done["step"].isin(list(key_steps))]
        n_steps = len(set(key_steps))
    steps = done.groupby("account_id")["step"].nunique().reindex(acc.index).fillna(0)
    return steps >= n_steps



def adopting_unmeasured(stages: pd.Series, usage: pd.DataFrame | None, as_of: DateLike
                        ) -> int:
    """Accounts in 'Adopting' with no usage depth on ``as_of`` (no usage row, or no active
    users or licensed seats in their latest month): placed there because their use is not
    measured, which an exhibit of the stages must say."""
    adopting = stages.index[(stages.astype(object) == LIFECYCLE_STAGES[1]).to_numpy()]
    depth = usage_snapshot(usage, as_of)["depth"].reindex(adopting)
    return int(depth.isna().sum())


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
    Its rows are the accounts active on some date: in the accounts table's order when the
    same accounts are active on every date, else sorted by ID (as pandas aligns the dates'
    Series).
    """
    ids, placed = _stage_codes(accounts, dates, **rules)
    if not placed:
        out = pd.DataFrame({})
        out.index.name = "account_id"
        return out
    masks = [mask for mask, _ in placed.values()]
    rows = np.flatnonzero(np.logical_or.reduce(masks))
    if any((m != masks[0]).any() for m in masks[1:]):  # the dates' union, sorted
        rows = rows[ids[rows].argsort(kind="stable")]
    names = np.array([*LIFECYCLE_STAGES, np.nan], dtype=object)
    where = np.full(len(ids), -1, dtype=np.int64)
    where[rows] = np.arange(len(rows))
    index = ids[rows]
    cols = {}
    for day, (mask, code) in placed.items():
        full = np.full(len(rows), len(LIFECYCLE_STAGES), dtype=np.int64)
        full[where[np.flatnonzero(mask)]] = code
        cols[day] = pd.Series(names[full], index=index, dtype=object)
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
    ob = ob.assign(completed_date=date_column(ob, "completed_date")).dropna(
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
    start = date_column(acc, "start_date")
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
    days: int,
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
        ob = ob.assign(completed_date=date_column(ob, "completed_date"))
        ob = ob.loc[(ob["completed_date"] <= as_of) & ob["account_id"].isin(set(ids))]
        if steps:
            ob = ob.loc[ob["step"].isin(list(steps))]
        out["steps_done"] = ob.groupby("account_id")["step"].nunique().reindex(ids).fillna(
            0).astype(int)
        latest = ob.sort_values(["completed_date", "step"]).groupby("account_id").tail(1)
        out["last_step"] = latest.set_index("account_id")["step"].reindex(ids).astype(object)
    return out.sort_values(["mrr", "days_since_start"], ascending=[False, False],
                           na_position="last")
