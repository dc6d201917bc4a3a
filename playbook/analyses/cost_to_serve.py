"""What each account costs to serve, against what it earns: support, CSM and onboarding hours
priced at a loaded hourly cost per role, and the margin left after serving.

Pure functions (no I/O, printing or plotting). ``cost_params`` is the ``cost_to_serve:``
section of ``playbook/defaults.yaml`` as a plain dict (``params.cost_to_serve.model_dump()``);
``touch_model`` is the ``touch_model:`` section (see :mod:`playbook.analyses.capacity`).

The window
    The ``months`` calendar months ending with the as-of month, up to ``as_of``: with
    ``as_of`` = 30 Sep 2025 and 12 months, 1 Oct 2024 to 30 Sep 2025. Tickets (by
    ``opened_at``), touches (by ``date``) and onboarding milestones (by ``completed_date``)
    dated in it are counted; revenue is the counted MRR of its months.
Units
    Hours are hours of people's time over the window; money is in the client's currency
    (``client.currency``) over the window, not per month or per year.
Hours, by role
    * support: ``hours_spent`` of each ticket where the export gives it, else
      ``support_hours_per_ticket[priority]`` (``support_hours_per_ticket_default`` for a
      ticket without a priority);
    * CSM: logged touches x ``csm_hours_per_touch[type]`` (``csm_hours_per_touch_default``
      for a blank type). When no touch is logged in the window (no ``touches`` table, or
      none of its rows in the window) the hours are the touch model's *plan* instead: the
      tier's per-account touch hours a year (contact + preparation + travel,
      :func:`playbook.analyses.capacity.touch_hours_per_account`; account admin and
      one-to-many programme hours are not in it, as they are not in a touch log) x the
      months the account was billed in the window / 12. ``csm_hours_source`` says which;
    * onboarding: milestones completed in the window x ``onboarding_hours_per_milestone``.
Cost per hour
    ``support_hourly_cost`` and ``onboarding_hourly_cost``; for CSM time
    ``csm_hourly_cost``, or when it is null the touch model's loaded cost of the role serving
    the account's tier (``loaded_cost_per_role[role]``, else ``loaded_cost_per_csm``) /
    ``csm_hours_per_year``: one home for what a CSM costs.
Margin
    ``margin_before_serving = revenue x gross_margin_before_serving`` (revenue less hosting,
    payment and third-party costs, before any people serve the account);
    ``margin = margin_before_serving - cost_to_serve``; ``margin_share = margin / revenue``.
    An account is *unprofitable to serve* when ``cost_to_serve > margin_before_serving``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from playbook import textfmt as tf
from playbook.analyses.account_state import (
    DateLike,
    account_mrr,
    active_accounts,
    as_timestamp,
    date_column,
    number_column,
)
from playbook.analyses.capacity import TouchModel, tier_effort
from playbook.errors import InsufficientDataError

CostParams = Mapping[str, object]

#: Label of accounts that have no value tier.
NO_TIER = "(no tier)"

PER_ACCOUNT_COLUMNS = [
    "tier", "months_billed", "revenue", "revenue_source",
    "tickets", "support_hours", "support_hours_source", "support_cost",
    "touches", "csm_hours", "csm_hours_source", "csm_hourly_cost", "csm_cost",
    "milestones", "onboarding_hours", "onboarding_cost",
    "hours", "cost_to_serve", "margin_before_serving", "margin", "margin_share",
]


# --------------------------------------------------------------------------- window
def serving_window(as_of: DateLike, months: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``(start, end)`` of the window: the first day of the month ``months - 1`` months
    before the as-of month, and ``as_of`` itself (both inclusive)."""
    end = as_timestamp(as_of)
    if int(months) < 1:
        raise ValueError(f"months must be at least 1; got {months}")
    start = (end.to_period("M") - (int(months) - 1)).to_timestamp()
    return start, end


def _in_window(frame: pd.DataFrame | None, date_col: str, start: pd.Timestamp,
               end: pd.Timestamp, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows of ``frame`` dated in ``[start, end]`` (empty frame when ``frame`` is None):
    ``account_id``, ``date_col`` and those of ``columns`` it has (None: every column)."""
    if frame is None or frame.empty or "account_id" not in frame:
        return pd.DataFrame(columns=["account_id", date_col])
    if columns is not None:  # only what is read: fewer columns to filter
        keep = {"account_id", date_col, *columns}
        frame = frame[[c for c in frame.columns if c in keep]]
    f = frame.reset_index(drop=True)
    d = date_column(f, date_col)
    return f.loc[(d >= start) & (d <= end)]


# --------------------------------------------------------------------------- evidence
def require_serving_evidence(tickets_in_window: pd.DataFrame, touches_in_window: pd.DataFrame,
                             *, tickets_sent: bool, touches_sent: bool, start: pd.Timestamp,
                             end: pd.Timestamp) -> None:
    """Raise :class:`InsufficientDataError` when neither tickets nor touches have a row in
    the window: without either, the cost of serving rests on nothing the client logged."""
    if len(tickets_in_window) or len(touches_in_window):
        return
    state = {True: "none in the window", False: "not sent"}
    raise InsufficientDataError(
        "Cost to serve needs support tickets (table tickets: account_id, opened_at, priority "
        "or hours_spent) or logged touches (table touches: account_id, date, type) dated from "
        f"{tf.date(start)} to {tf.date(end)}; tickets: {state[tickets_sent]}, touches: "
        f"{state[touches_sent]}.",
        fix="Send the support-desk ticket export with the time spent per ticket (Zendesk, "
        "Freshdesk, Intercom) and/or the CRM's activity log of calls, emails and meetings "
        "per account, covering the last months up to the as-of date.")


# --------------------------------------------------------------------------- hours
def support_hours(tickets_in_window: pd.DataFrame, cost_params: CostParams) -> pd.DataFrame:
    """Support tickets and hours per account over the window.

    A ticket's hours are its ``hours_spent`` when given, else
    ``support_hours_per_ticket[priority]`` (``support_hours_per_ticket_default`` without a
    priority or for a priority not listed).

    Returns
    -------
    DataFrame indexed by ``account_id``: ``tickets`` (count), ``support_hours`` (hours),
    ``support_hours_source`` (``"logged"``: every ticket had hours_spent; ``"by priority"``:
    none had; ``"logged and by priority"``).
    """
    t = tickets_in_window
    if t.empty:
        return pd.DataFrame({"tickets": pd.Series(dtype=float),
                             "support_hours": pd.Series(dtype=float),
                             "support_hours_source": pd.Series(dtype=object)}
                            ).rename_axis("account_id")
    by_priority: Mapping[str, float] = cost_params["support_hours_per_ticket"]  # type: ignore
    default = float(cost_params["support_hours_per_ticket_default"])  # type: ignore[arg-type]
    logged = number_column(t, "hours_spent").to_numpy()
    # a priority not listed, or blank, maps to nothing, then to the default
    estimated = _hours_by_label(t, "priority", by_priority, default)
    out = _per_account(t["account_id"], {
        "tickets": None, "support_hours": np.where(np.isnan(logged), estimated, logged),
        "n_logged": (~np.isnan(logged)).astype(float)})
    out["support_hours_source"] = np.where(
        out["n_logged"] == out["tickets"], "logged",
        np.where(out["n_logged"] == 0, "by priority", "logged and by priority"))
    return out.drop(columns="n_logged")


def logged_csm_hours(touches_in_window: pd.DataFrame, cost_params: CostParams) -> pd.DataFrame:
    """Logged touches and CSM hours per account over the window: each touch counts
    ``csm_hours_per_touch[type]`` hours (``csm_hours_per_touch_default`` for a blank type or
    one not listed).

    Returns
    -------
    DataFrame indexed by ``account_id``: ``touches`` (count), ``csm_hours`` (hours).
    """
    t = touches_in_window
    if t.empty:
        return pd.DataFrame({"touches": pd.Series(dtype=float),
                             "csm_hours": pd.Series(dtype=float)}).rename_axis("account_id")
    per_type: Mapping[str, float] = cost_params["csm_hours_per_touch"]  # type: ignore
    default = float(cost_params["csm_hours_per_touch_default"])  # type: ignore[arg-type]
    # a type not listed, or blank, maps to nothing, then to the default
    hours = _hours_by_label(t, "type", per_type, default)
    return _per_account(t["account_id"], {"touches": None, "csm_hours": hours})


def _hours_by_label(frame: pd.DataFrame, col: str, hours: Mapping[str, float],
                    default: float) -> np.ndarray:
    """Each row's hours by its ``col`` label, lower case (``hours``; ``default`` for a
    blank label or one not listed, or without the column): looked up once per distinct
    label, not per row."""
    out = np.full(len(frame), float(default))
    if col in frame:
        code, labels = pd.factorize(frame[col].astype("string"))
        lowered = pd.Series(labels, dtype="string").str.lower()
        per_label = lowered.map({k: float(v) for k, v in hours.items()}).astype(float)
        per_label = per_label.fillna(float(default)).to_numpy(dtype=float)
        out[code >= 0] = per_label[code[code >= 0]]
    return out


def _per_account(account_id: pd.Series, values: Mapping[str, np.ndarray | None]
                 ) -> pd.DataFrame:
    """Per account (rows without one left out), for each name a row count (None) or the
    grouped sum of the values given (pandas' grouped sum: each account's rows in their
    order), indexed by ``account_id`` sorted, as ``DataFrame.groupby("account_id")`` gives
    them; the accounts grouped by integer codes rather than by text."""
    code, ids = pd.factorize(account_id, sort=True)
    known = code >= 0
    key = code[known]
    out = {}
    for name, value in values.items():
        if value is None:
            out[name] = np.bincount(key, minlength=len(ids)).astype(float)
        else:
            out[name] = pd.Series(np.asarray(value)[known]).groupby(key).sum().reindex(
                np.arange(len(ids)), fill_value=0.0).to_numpy()
    present = np.bincount(key, minlength=len(ids)) > 0
    index = pd.Index(ids[present].to_numpy(), name="account_id")  # as the text grouping has it
    return pd.DataFrame({name: v[present] for name, v in out.items()}, index=index)


def planned_touch_hours_per_year(touch_model: TouchModel) -> pd.Series:
    """Per tier: the touch model's per-account touch hours a year (contact + preparation +
    travel of its per-account touches; admin and one-to-many programme hours excluded),
    indexed by tier in model order (:func:`playbook.analyses.capacity.tier_effort`)."""
    return tier_effort(touch_model)["touch_hours_per_account"].astype(float)


def csm_rate_per_tier(touch_model: TouchModel, csm_hourly_cost: float | None) -> pd.Series:
    """Loaded cost of an hour of CSM time per tier (money per hour), plus :data:`NO_TIER`.

    ``csm_hourly_cost`` when given; else the tier's role's ``loaded_cost_per_role`` (or
    ``loaded_cost_per_csm``) / ``csm_hours_per_year``, and ``loaded_cost_per_csm /
    csm_hours_per_year`` for accounts without a tier. Example: 150,000 a year / 1,600 hours
    = 93.75 an hour.
    """
    effort = tier_effort(touch_model)
    hours = float(touch_model["csm_hours_per_year"])  # type: ignore[arg-type]
    if csm_hourly_cost is not None:
        rate = pd.Series(float(csm_hourly_cost), index=effort.index)
        fallback = float(csm_hourly_cost)
    else:
        rate = effort["loaded_cost"].astype(float) / hours
        fallback = float(touch_model["loaded_cost_per_csm"]) / hours  # type: ignore[arg-type]
    return pd.concat([rate, pd.Series({NO_TIER: fallback})]).rename("csm_hourly_cost")


def window_revenue(mrr: pd.DataFrame | None, ids: pd.Index, *, accounts: pd.DataFrame,
                   start: pd.Timestamp, end: pd.Timestamp, months: int) -> pd.DataFrame:
    """Revenue per account over the window (money over the window).

    With an ``mrr`` table (pass the counted MRR): the sum of the account's MRR over the
    window's months (= MRR x months when it did not change), and ``months_billed`` = the
    months with MRR > 0. Without one: the accounts' MRR (``mrr``, else ``arr / 12``) x
    ``months``, every month counted as billed.

    Returns
    -------
    DataFrame indexed like ``ids``: ``months_billed``, ``revenue``, ``revenue_source``
    (``"billed MRR"`` or ``"current MRR x months"``).
    """
    if mrr is None or mrr.empty:
        acc = accounts.reset_index(drop=True).drop_duplicates("account_id")
        current = account_mrr(acc).set_axis(acc["account_id"]).reindex(ids).fillna(0.0)
        return pd.DataFrame({"months_billed": float(months), "revenue": current * months,
                             "revenue_source": "current MRR x months"}, index=ids)
    # a row's month (its date's month) is in the window when its date is from ``start`` (a
    # first of a month) to before the first of the month after ``end``
    when = date_column(mrr, "month").to_numpy(dtype="datetime64[ns]")
    after = (end.to_period("M") + 1).to_timestamp().to_datetime64()
    rows = np.flatnonzero((when >= start.to_datetime64()) & (when < after))
    code, accounts = pd.factorize(mrr["account_id"].iloc[rows])
    known = code >= 0
    rows, code = rows[known], code[known].astype(np.int64)
    month = when[rows].astype("datetime64[M]").astype(np.int64)
    first = int(month.min()) if len(month) else 0
    width = int(month.max()) - first + 1 if len(month) else 1
    value = number_column(mrr, "mrr").fillna(0.0).to_numpy()[rows]
    # each account-month's MRR, then the account's months added in month order: pandas'
    # grouped sums over the same rows in the same order as by (account_id, month)
    monthly = pd.Series(value).groupby(code * width + (month - first)).sum()
    account = monthly.index.to_numpy() // width
    revenue = monthly.groupby(account).sum()
    billed = (monthly > 0).groupby(account).sum().astype(float)
    by_id = pd.Index(accounts[revenue.index.to_numpy()], name="account_id")
    return pd.DataFrame({"months_billed": billed.set_axis(by_id).reindex(ids).fillna(0.0),
                         "revenue": revenue.set_axis(by_id).reindex(ids).fillna(0.0),
                         "revenue_source": "billed MRR"}, index=ids)


# --------------------------------------------------------------------------- per account
def cost_to_serve(
    accounts: pd.DataFrame,
    *,
    as_of: DateLike,
    months: int,
    tickets: pd.DataFrame | None,
    touches: pd.DataFrame | None,
    onboarding: pd.DataFrame | None,
    touch_model: TouchModel,
    tiers: pd.Series,
    mrr: pd.DataFrame | None,
    cost_params: CostParams,
) -> pd.DataFrame:
    """Cost to serve and margin of each account active on ``as_of``, over the trailing
    ``months`` (the module docstring defines the window, hours, rates and margin).

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts`` as billed (``ctx.accounts``); the active ones on ``as_of``
        (:func:`playbook.analyses.account_state.active_accounts`) are served.
    as_of : date
        End of the window.
    months : int
        Length of the window in calendar months (e.g. ``period.trailing_months``).
    tickets, touches, onboarding : DataFrame or None
        Canonical tables; None when the client did not send them.
    touch_model : mapping
        The ``touch_model`` params section (planned CSM hours, CSM cost per hour).
    tiers : Series
        Value tier per ``account_id`` (``ctx.value_tiers``); a tier missing or not in
        ``touch_model["tiers"]`` -> :data:`NO_TIER` (no plan; CSM cost per hour
        ``loaded_cost_per_csm / csm_hours_per_year``).
    mrr : DataFrame or None
        The counted MRR (``ctx.counted_mrr``): revenue of the window's months.
    cost_params : mapping
        The ``cost_to_serve`` params section.

    Returns
    -------
    DataFrame indexed by ``account_id`` with :data:`PER_ACCOUNT_COLUMNS`: ``tier``;
    ``months_billed`` (months of the window with MRR); ``revenue`` (money over the
    window) and ``revenue_source``; ``tickets``, ``support_hours`` (hours),
    ``support_hours_source`` (``"logged"``, ``"by priority"``, ``"logged and by
    priority"``, ``"no tickets"`` in the window, ``"not measured"`` without a tickets
    table), ``support_cost``; ``touches`` (logged; NaN when planned), ``csm_hours``,
    ``csm_hours_source`` (``"logged"``, or ``"planned"``: the touch model's plan, no
    touches logged in the window), ``csm_hourly_cost``, ``csm_cost``; ``milestones``,
    ``onboarding_hours``, ``onboarding_cost``; ``hours`` (all roles), ``cost_to_serve``,
    ``margin_before_serving``, ``margin``, ``margin_share`` (margin / revenue, NaN
    without revenue). Money over the window. ``attrs``: ``window_start``, ``window_end``,
    ``csm_hours`` (``"logged"`` or ``"planned"``), ``support_hours`` (``"measured"`` or
    ``"not measured"``), ``onboarding_hours`` (likewise).

    Raises
    ------
    InsufficientDataError
        Neither ``tickets`` nor ``touches`` has a row dated in the window: the message
        names both tables and what to send.
    """
    start, end = serving_window(as_of, months)
    t_win = _in_window(tickets, "opened_at", start, end, ("hours_spent", "priority"))
    c_win = _in_window(touches, "date", start, end, ("type",))
    o_win = _in_window(onboarding, "completed_date", start, end, ())
    tickets_sent = tickets is not None and not tickets.empty
    require_serving_evidence(t_win, c_win, tickets_sent=tickets_sent,
                             touches_sent=touches is not None and not touches.empty,
                             start=start, end=end)
    active = active_accounts(accounts, end)
    ids = pd.Index(active.index.unique(), name="account_id")
    out = pd.DataFrame(index=ids)
    model_tiers = list(touch_model["tiers"])  # type: ignore[arg-type]
    tier = tiers.reindex(ids).astype(object)
    out["tier"] = tier.where(tier.isin(model_tiers), NO_TIER)
    out = out.join(window_revenue(mrr, ids, accounts=accounts, start=start, end=end,
                                  months=months))

    sup = support_hours(t_win, cost_params).reindex(ids)
    out["tickets"] = sup["tickets"].fillna(0.0)
    out["support_hours"] = sup["support_hours"].fillna(0.0)
    out["support_hours_source"] = sup["support_hours_source"].fillna(
        "no tickets" if tickets_sent else "not measured")
    out["support_cost"] = out["support_hours"] * float(
        cost_params["support_hourly_cost"])  # type: ignore[arg-type]

    planned = c_win.empty
    if planned:
        per_year = planned_touch_hours_per_year(touch_model)
        out["touches"] = np.nan
        out["csm_hours"] = out["tier"].map(per_year).fillna(0.0) * out["months_billed"] / 12
        out["csm_hours_source"] = "planned"
    else:
        logged = logged_csm_hours(c_win, cost_params).reindex(ids)
        out["touches"] = logged["touches"].fillna(0.0)
        out["csm_hours"] = logged["csm_hours"].fillna(0.0)
        out["csm_hours_source"] = "logged"
    rate = csm_rate_per_tier(touch_model, cost_params["csm_hourly_cost"])  # type: ignore
    out["csm_hourly_cost"] = out["tier"].map(rate).astype(float)
    out["csm_cost"] = out["csm_hours"] * out["csm_hourly_cost"]

    milestones = o_win.groupby("account_id").size().astype(float) if len(o_win) else None
    out["milestones"] = (milestones.reindex(ids).fillna(0.0) if milestones is not None
                         else 0.0)
    out["onboarding_hours"] = out["milestones"] * float(
        cost_params["onboarding_hours_per_milestone"])  # type: ignore[arg-type]
    out["onboarding_cost"] = out["onboarding_hours"] * float(
        cost_params["onboarding_hourly_cost"])  # type: ignore[arg-type]

    out["hours"] = out["support_hours"] + out["csm_hours"] + out["onboarding_hours"]
    out["cost_to_serve"] = out["support_cost"] + out["csm_cost"] + out["onboarding_cost"]
    out["margin_before_serving"] = out["revenue"] * float(
        cost_params["gross_margin_before_serving"])  # type: ignore[arg-type]
    out["margin"] = out["margin_before_serving"] - out["cost_to_serve"]
    out["margin_share"] = out["margin"] / out["revenue"].where(out["revenue"] > 0)
    out = out[PER_ACCOUNT_COLUMNS]
    out.attrs.update({
        "window_start": start, "window_end": end,
        "csm_hours": "planned" if planned else "logged",
        "support_hours": "measured" if tickets_sent else "not measured",
        "onboarding_hours": ("measured" if onboarding is not None and not onboarding.empty
                             else "not measured")})
    return out


# --------------------------------------------------------------------------- summaries
def cost_by_tier(per_account: pd.DataFrame, tier_order: Sequence[str] | None = None
                 ) -> pd.DataFrame:
    """Accounts, revenue, cost to serve and margin per tier, with a ``total`` row.

    Parameters
    ----------
    per_account : DataFrame
        :func:`cost_to_serve` output.
    tier_order : sequence, optional
        Tier order of the rows (e.g. ``list(touch_model["tiers"])``); other tiers follow in
        name order, :data:`NO_TIER` last.

    Returns
    -------
    DataFrame indexed by tier plus ``total``: ``accounts``, ``revenue``, ``support_cost``,
    ``csm_cost``, ``onboarding_cost``, ``cost_to_serve``, ``margin_before_serving``,
    ``margin`` (money over the window), ``hours``, ``margin_share`` (margin / revenue),
    ``cost_share`` (cost to serve / revenue), ``unprofitable`` (accounts costing more to
    serve than their margin before serving).
    """
    sums = ["revenue", "support_cost", "csm_cost", "onboarding_cost", "cost_to_serve",
            "margin_before_serving", "margin", "hours"]
    df = per_account.assign(unprofitable=per_account["margin"] < 0)
    g = df.groupby("tier", sort=False)
    out = g[sums].sum()
    out.insert(0, "accounts", g.size())
    out["unprofitable"] = g["unprofitable"].sum()
    present = list(out.index)
    first = [t for t in (tier_order or []) if t in present]
    rest = sorted((t for t in present if t not in first and t != NO_TIER), key=str)
    out = out.reindex(first + rest + ([NO_TIER] if NO_TIER in present else []))
    out.loc["total"] = out.sum()
    revenue = out["revenue"].where(out["revenue"] > 0)
    out["margin_share"] = out["margin"] / revenue
    out["cost_share"] = out["cost_to_serve"] / revenue
    out[["accounts", "unprofitable"]] = out[["accounts", "unprofitable"]].astype(int)
    out.index.name = "tier"
    return out


def unprofitable_accounts(per_account: pd.DataFrame) -> pd.DataFrame:
    """Accounts whose cost to serve exceeds their margin before serving (``margin < 0``),
    the largest loss first, with ``loss = -margin`` (money over the window)."""
    out = per_account.loc[per_account["cost_to_serve"] > per_account["margin_before_serving"]]
    return out.assign(loss=-out["margin"]).sort_values("loss", ascending=False)


def lighter_touch_savings(per_account: pd.DataFrame, touch_model: TouchModel, *,
                          csm_hourly_cost: float | None) -> pd.DataFrame:
    """What moving each unprofitable account to a lighter touch plan would save over a window
    like the one measured.

    Rule: the *target* plan is the next lighter tier's, the tier listed after the account's
    own in ``touch_model["tiers"]`` (the model lists tiers from most to least touch:
    ``move = "lighter tier"``). An account of the lightest tier has no lighter tier: its
    target is its own tier's plan (``move = "own tier's plan"``), which saves what its
    logged CSM hours exceed that plan by (nothing when its hours are the plan). Accounts
    without a tier are not moved (``move = "none"``). The target plan would take
    ``target_hours = touch hours a year of the target tier x months_billed / 12`` (as
    :func:`cost_to_serve` plans CSM hours) at the target tier's CSM cost per hour (its
    role's, or ``csm_hourly_cost`` when set). Then ``hours_saved = max(csm_hours -
    target_hours, 0)`` and ``money_saved = max(csm_cost - target_cost, 0)``: the account's
    CSM time now (logged or planned) against the target plan; a plan never adds cost.
    Support and onboarding are unchanged. ``margin_after = margin + money_saved``;
    ``profitable_after``: ``margin_after >= 0``.

    Parameters
    ----------
    per_account : DataFrame
        :func:`cost_to_serve` output (only its unprofitable accounts are moved).
    touch_model : mapping
        The ``touch_model`` params section.
    csm_hourly_cost : float or None
        ``cost_to_serve.csm_hourly_cost`` (None: from the touch model per role).

    Returns
    -------
    DataFrame indexed by ``account_id`` (:func:`unprofitable_accounts` order): ``tier``,
    ``target_tier`` (None when not moved), ``move``, ``csm_hours``, ``target_hours``,
    ``hours_saved`` (hours), ``csm_cost``, ``target_cost``, ``money_saved``, ``margin``,
    ``margin_after`` (money over the window), ``profitable_after``.
    """
    bad = unprofitable_accounts(per_account)
    order = list(touch_model["tiers"])  # type: ignore[arg-type]
    target = {t: order[min(i + 1, len(order) - 1)] for i, t in enumerate(order)}
    per_year = planned_touch_hours_per_year(touch_model)
    rate = csm_rate_per_tier(touch_model, csm_hourly_cost)
    out = bad[["tier", "csm_hours", "csm_cost", "margin"]].copy()
    out["target_tier"] = bad["tier"].map(target).astype(object)
    has = out["target_tier"].notna()
    out["move"] = np.where(~has, "none", np.where(out["target_tier"] == out["tier"],
                                                  "own tier's plan", "lighter tier"))
    out["target_hours"] = (out["target_tier"].map(per_year) * bad["months_billed"] / 12
                           ).where(has, out["csm_hours"]).astype(float)
    target_cost = out["target_hours"] * out["target_tier"].map(rate).astype(float)
    out["target_cost"] = target_cost.where(has, out["csm_cost"])
    out["hours_saved"] = (out["csm_hours"] - out["target_hours"]).clip(lower=0.0)
    out["money_saved"] = (out["csm_cost"] - out["target_cost"]).clip(lower=0.0)
    out["margin_after"] = out["margin"] + out["money_saved"]
    out["profitable_after"] = out["margin_after"] >= 0
    out["target_tier"] = out["target_tier"].where(has, None)
    return out[["tier", "target_tier", "move", "csm_hours", "target_hours", "hours_saved",
                "csm_cost", "target_cost", "money_saved", "margin", "margin_after",
                "profitable_after"]]
