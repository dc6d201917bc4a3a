"""The account action plan: one row per active account, with what is known about it and ONE
next action with a due date (the table behind ``accounts.xlsx`` / ``accounts.csv``,
:mod:`playbook.workbook`; columns and CRM field names in ``docs/account-workbook.md``).

:func:`account_plan` is pure (frames in, frame out) so that each rule can be tested on a
hand-built fixture; :func:`plan_from_context` is the thin call a notebook makes, taking the
shared intermediates from the run's :class:`~playbook.context.AnalysisContext`.

The next action is the first rule, in this priority order, that an account meets
(:data:`ACTIONS`):

1. ``save_play``: its next renewal is due within ``account_plan.save_play_within_days``
   days of the as-of date, its predicted renewal probability is below
   ``drivers.at_risk_probability``, and the renewal model ranks renewals better than chance
   (:func:`playbook.analyses.drivers.model_beats_chance`; a chance-level model picks no one);
2. ``executive_outreach``: relationship flag ``flag_single_threaded`` or
   ``flag_renewal_no_exec`` is set (:func:`playbook.analyses.relationships.
   relationship_flags`; an undecided flag does not count) and the account's value tier has an
   assigned manager in the touch model (a pooled tier is served one to many:
   :attr:`PlanRules.outreach_tiers`);
3. ``onboarding_rescue``: the account is stuck in onboarding (:func:`playbook.analyses.
   segments.stuck_onboarding`: still onboarding more than ``lifecycle.stuck_onboarding_days``
   after its start);
4. ``expansion_conversation``: its expansion potential (MRR a month) is above
   ``account_plan.expansion_min_mrr`` and at least ``account_plan.expansion_min_share`` of its
   MRR (any share when its MRR is zero or unknown);
5. ``no_action``.

Due date: the as-of date plus ``account_plan.due_days[action]`` days, and no later than the
day before the account's next renewal. ``no_action`` has no due date. The rules met below the
chosen one are listed in ``other_actions``.

Money is in the client's currency, a month (MRR); probabilities are shares 0-1; dates are days.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from playbook import textfmt as tf
from playbook.analyses import outcomes, triggers
from playbook.analyses.account_state import (
    DateLike,
    account_mrr,
    active_accounts,
    as_timestamp,
    mrr_at,
)
from playbook.analyses.drivers import upcoming_renewals
from playbook.analyses.relationships import FLAG_COLUMNS
from playbook.config import Params
from playbook.context import AnalysisContext
from playbook.errors import InsufficientDataError
from playbook.plan_columns import (  # the workbook's columns, defined apart (see there)
    ACTIONS,
    COLUMNS,
    DATE_COLUMNS,  # noqa: F401 (ap.DATE_COLUMNS, as before)
    MONEY_COLUMNS,  # noqa: F401
    SHARE_COLUMNS,  # noqa: F401
)

#: The relationship flags that call for executive outreach.
EXEC_FLAGS = ("flag_single_threaded", "flag_renewal_no_exec")
#: How far ahead :func:`plan_from_context` looks for each account's next renewal: ten years
#: (the longest contract term parameters allow is 120 months), so every account with a
#: renewal cycle has its next date.
NEXT_RENEWAL_LOOKAHEAD_DAYS = 3660



@dataclass(frozen=True)
class PlanRules:
    """The thresholds of the next-action rules (see the module docstring).

    ``save_play_within_days`` (days), ``at_risk_below`` (renewal probability 0-1),
    ``expansion_min_mrr`` (money a month), ``expansion_min_share`` (share of the account's
    MRR) and ``due_days`` (action -> days after the as-of date).
    """

    save_play_within_days: int
    at_risk_below: float
    expansion_min_mrr: float
    expansion_min_share: float
    due_days: Mapping[str, int]
    outreach_tiers: frozenset[str] | None = None
    """Value tiers whose accounts get an individual executive outreach (the touch model's
    tiers with an assigned manager); a pooled tier is served one to many, so its flags call
    for no individual action. None: every tier."""


def plan_rules(params: Params) -> PlanRules:
    """The :class:`PlanRules` of a run: the ``account_plan`` parameters, with
    ``drivers.at_risk_probability`` as the save play's probability threshold."""
    a = params.account_plan
    return PlanRules(save_play_within_days=a.save_play_within_days,
                     at_risk_below=params.drivers.at_risk_probability,
                     expansion_min_mrr=a.expansion_min_mrr,
                     expansion_min_share=a.expansion_min_share,
                     due_days=a.due_days.model_dump(),
                     outreach_tiers=frozenset(
                         name for name, tier in params.touch_model.tiers.items()
                         if max(tier.accounts_per_csm) > 0))


def account_plan(
    accounts: pd.DataFrame,
    *,
    as_of: DateLike,
    rules: PlanRules,
    mrr: pd.Series | None,
    value_tiers: pd.Series | None,
    stages: pd.Series | None,
    health: pd.DataFrame | None,
    health_measures: Sequence[str] | None,
    next_renewals: pd.DataFrame | None,
    book: pd.DataFrame | None,
    model_ranks: bool,
    flags: pd.DataFrame | None,
    stuck: Collection[str] | None,
    expansion: pd.DataFrame | None,
    cost: pd.DataFrame | None,
    events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The account plan: one row per account active at ``as_of``, the columns of
    :data:`COLUMNS` in order, sorted by owner, then due date, then expected loss and MRR
    (largest first).

    Parameters
    ----------
    accounts : DataFrame
        Canonical ``accounts`` (the customers as billed: ``AnalysisContext.accounts``);
        active by :func:`playbook.analyses.account_state.active_accounts`.
    as_of : date
        The run's as-of date.
    rules : PlanRules
        :func:`plan_rules`.
    mrr : Series, optional
        MRR per ``account_id`` at ``as_of`` (money a month); None: ``accounts.mrr`` (or
        ``arr / 12``).
    value_tiers : Series, optional
        Value tier per ``account_id`` (``AnalysisContext.value_tiers``).
    stages : Series, optional
        Lifecycle stage per ``account_id``; None leaves ``lifecycle_stage`` blank.
    health : DataFrame, optional
        ``AnalysisContext.health_scores`` (``health_score``, ``health_band``,
        ``score_<measure>``); None leaves the health columns blank.
    health_measures : sequence of str, optional
        The measures the score uses (``AnalysisContext.health_measures.index``): the weakest
        two are chosen among them; None: every ``score_<measure>`` column.
    next_renewals : DataFrame, optional
        ``account_id``, ``decision_date``: renewals ahead
        (:func:`playbook.analyses.drivers.upcoming_renewals`); the first dated after
        ``as_of`` is the account's next renewal.
    book : DataFrame, optional
        The open book (:func:`playbook.analyses.drivers.renewals_due_book`): ``account_id``,
        ``decision_date``, ``p_renew``, ``expected_loss``. Its renewal date wins over
        ``next_renewals``.
    model_ranks : bool
        True when the renewal model ranks renewals better than chance
        (:func:`playbook.analyses.drivers.model_beats_chance`); False: no save play.
    flags : DataFrame, optional
        :func:`playbook.analyses.relationships.relationship_flags` (indexed by account).
    stuck : collection of str, optional
        IDs of the accounts stuck in onboarding (the index of
        :func:`playbook.analyses.segments.stuck_onboarding`).
    expansion : DataFrame, optional
        ``account_id`` (column or index), ``potential_mrr`` (money a month), ``reason``
        (:func:`playbook.analyses.expansion.expansion_candidates`).
    cost : DataFrame, optional
        ``account_id`` (column or index), ``cost_to_serve``, ``margin`` (money over the
        cost analysis's window: :func:`playbook.analyses.cost_to_serve.cost_to_serve`).
    events : DataFrame, optional
        Indexed by ``account_id``: ``open_trigger``, ``open_trigger_date``,
        ``outcome_progress`` (:func:`account_events`); None leaves them blank.

    Raises
    ------
    InsufficientDataError
        When ``accounts`` has no ``account_id`` column or no account is active at ``as_of``.
    """
    as_of = as_timestamp(as_of)
    if "account_id" not in accounts:
        raise InsufficientDataError(
            "The account plan needs the accounts table's account_id column.",
            fix="Send the accounts export with one ID per account (accounts.account_id).")
    acc = active_accounts(accounts.drop_duplicates("account_id"), as_of)
    if acc.empty:
        raise InsufficientDataError(
            f"The account plan has no account active on {tf.date(as_of)} in the accounts "
            "table.", fix="Send the accounts export with start dates and the MRR history "
            "covering the as-of month.")
    ids = pd.Index(acc.index.astype(str), name="account_id")
    acc.index = ids
    out = pd.DataFrame(index=ids)
    out["account_id"] = ids
    out["account_name"] = _text(acc, "name")
    out["owner"] = _text(acc, "owner")
    out["segment"] = _text(acc, "segment")
    if mrr is None:
        mrr = account_mrr(acc.reset_index()).set_axis(ids)
    out["mrr"] = _by_id(mrr, ids).astype(float)
    out["value_tier"] = _by_id(value_tiers, ids).astype(object)
    out["lifecycle_stage"] = _by_id(stages, ids).astype(object)
    out = out.join(weakest_measures(health, health_measures, ids))
    out = out.join(renewal_columns(next_renewals, book, ids, as_of))
    out = out.join(flag_columns(flags, ids))
    out["expansion_potential_mrr"] = _column(expansion, "potential_mrr", ids).astype(float)
    out["expansion_reason"] = _column(expansion, "reason", ids).astype(object)
    out["cost_to_serve"] = _column(cost, "cost_to_serve", ids).astype(float)
    out["margin"] = _column(cost, "margin", ids).astype(float)
    for col, kind in (("open_trigger", object), ("open_trigger_date", "datetime64[ns]"),
                      ("outcome_progress", float)):
        out[col] = _column(events, col, ids).astype(kind)
    out = out.join(next_actions(out, rules, as_of=as_of, model_ranks=model_ranks,
                                stuck=stuck))
    out = out[list(COLUMNS)].reset_index(drop=True)
    order = out.assign(_owner=out["owner"].fillna("").astype(str))
    order = order.sort_values(["_owner", "next_action_due", "expected_loss", "mrr",
                               "account_id"], ascending=[True, True, False, False, True],
                              na_position="last",
                              kind="stable")
    return order.drop(columns="_owner").reset_index(drop=True)


def weakest_measures(health: pd.DataFrame | None, measures: Sequence[str] | None,
                     ids: pd.Index) -> pd.DataFrame:
    """``health_band``, ``health_score`` and the two measures with the lowest scores
    (``health_weakest_1`` / ``_2`` and their scores 0-100) per account of ``ids``.

    Only measures with a score count; ties go to the measure listed first (``measures``
    order, else the ``score_<measure>`` columns' order). Blank where unknown.
    """
    cols = ["health_band", "health_score", "health_weakest_1", "health_weakest_1_score",
            "health_weakest_2", "health_weakest_2_score"]
    out = pd.DataFrame(index=ids, columns=cols, dtype=object)
    if health is None or health.empty:
        return out.astype({"health_score": float, "health_weakest_1_score": float,
                           "health_weakest_2_score": float})
    h = health.set_axis(health.index.astype(str)).reindex(ids)
    names = list(measures) if measures is not None else [
        c[len("score_"):] for c in h.columns if c.startswith("score_")]
    names = [m for m in names if f"score_{m}" in h]
    scores = h[[f"score_{m}" for m in names]].astype(float).set_axis(names, axis=1)
    if "health_band" in h:
        out["health_band"] = h["health_band"].astype(object)
    if "health_score" in h:
        out["health_score"] = pd.to_numeric(h["health_score"], errors="coerce")
    values = scores.to_numpy(dtype=float)
    filled = np.where(np.isnan(values), np.inf, values)
    order = np.argsort(filled, axis=1, kind="stable")  # stable: ties to the measure first listed
    rows = np.arange(len(values))
    for rank in (1, 2):
        if rank > len(names):
            out[f"health_weakest_{rank}"] = None
            out[f"health_weakest_{rank}_score"] = np.nan
            continue
        pick = order[:, rank - 1]
        value = values[rows, pick]
        out[f"health_weakest_{rank}"] = np.where(np.isnan(value), None,
                                                 np.asarray(names, dtype=object)[pick])
        out[f"health_weakest_{rank}_score"] = value
    return out.astype({"health_score": float, "health_weakest_1_score": float,
                       "health_weakest_2_score": float})


def renewal_columns(next_renewals: pd.DataFrame | None, book: pd.DataFrame | None,
                    ids: pd.Index, as_of: pd.Timestamp) -> pd.DataFrame:
    """``next_renewal_date`` (first renewal dated after ``as_of``; the open book's date wins),
    ``days_to_renewal``, ``renewal_probability`` and ``expected_loss`` (from the open book:
    money a month; blank for a renewal the book does not score) per account of ``ids``."""
    out = pd.DataFrame(index=ids)
    dates = _first_renewal(next_renewals, as_of).reindex(ids)
    dates = _first_renewal(book, as_of).reindex(ids).combine_first(dates)  # the book wins
    out["next_renewal_date"] = dates.astype("datetime64[ns]")
    out["days_to_renewal"] = (out["next_renewal_date"] - as_of).dt.days.astype("Int64")
    p = pd.Series(np.nan, index=ids)
    loss = pd.Series(np.nan, index=ids)
    if book is not None and not book.empty:
        b = book.assign(account_id=book["account_id"].astype(str),
                        decision_date=pd.to_datetime(book["decision_date"]))
        b = b[b["decision_date"] > as_of].sort_values("decision_date", kind="stable")
        b = b.groupby("account_id").first()
        p = pd.to_numeric(b["p_renew"], errors="coerce").reindex(ids)
        loss = pd.to_numeric(b["expected_loss"], errors="coerce").reindex(ids)
    out["renewal_probability"] = p.astype(float)
    out["expected_loss"] = loss.astype(float)
    return out


def _first_renewal(frame: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.Series:
    """The first ``decision_date`` after ``as_of`` per ``account_id`` of ``frame`` (empty
    without it)."""
    if frame is None or frame.empty:
        return pd.Series(dtype="datetime64[ns]")
    dates = pd.to_datetime(frame["decision_date"])
    f = pd.DataFrame({"account_id": frame["account_id"].astype(str).to_numpy(),
                      "decision_date": dates.to_numpy()})
    return f[f["decision_date"] > as_of].groupby("account_id")["decision_date"].min()


def flag_columns(flags: pd.DataFrame | None, ids: pd.Index) -> pd.DataFrame:
    """The relationship flags (nullable bool: ``<NA>`` undecided or not measured) and
    ``relationship_flags`` (how many are set; blank without ``flags``) per account."""
    out = pd.DataFrame(index=ids)
    f = None if flags is None else flags.set_axis(flags.index.astype(str)).reindex(ids)
    for col in FLAG_COLUMNS:
        values = f[col] if f is not None and col in f else pd.Series(pd.NA, index=ids)
        out[col] = values.astype("boolean")
    out["relationship_flags"] = (out[list(FLAG_COLUMNS)].fillna(False).astype(int).sum(axis=1)
                                 if f is not None else pd.Series(pd.NA, index=ids)
                                 ).astype("Int64")
    return out


def next_actions(plan: pd.DataFrame, rules: PlanRules, *, as_of: DateLike, model_ranks: bool,
                 stuck: Collection[str] | None) -> pd.DataFrame:
    """``next_action``, ``next_action_due``, ``next_action_reason`` and ``other_actions`` of
    each row of ``plan`` (indexed by account ID; needs ``days_to_renewal``,
    ``next_renewal_date``, ``renewal_probability``, the flags of :data:`EXEC_FLAGS`, ``mrr``
    and ``expansion_potential_mrr``), by the rules of the module docstring."""
    as_of = as_timestamp(as_of)
    met = rules_met(plan, rules, model_ranks=model_ranks, stuck=stuck)
    chosen = pd.Series("no_action", index=plan.index, dtype=object)
    for action in reversed(ACTIONS[:-1]):  # the highest priority is applied last and wins
        chosen[met[action].to_numpy()] = action
    offsets = pd.to_timedelta(chosen.map(lambda a: rules.due_days.get(a, np.nan)), unit="D")
    due = (as_of + offsets).where(chosen != "no_action")
    before_renewal = plan["next_renewal_date"] - pd.Timedelta(days=1)
    due = due.mask(before_renewal < due, before_renewal)  # NaT never wins a comparison
    return pd.DataFrame({"next_action": chosen, "next_action_due": due.astype("datetime64[ns]"),
                         "next_action_reason": action_reasons(plan, chosen, rules),
                         "other_actions": other_actions(met, chosen)},
                        index=plan.index)


def action_reasons(plan: pd.DataFrame, chosen: pd.Series, rules: PlanRules) -> list[str]:
    """The facts behind each row's chosen action (:func:`reasons`), in row order: empty for
    ``no_action``; the rows of each action are read a column at a time."""
    out = [""] * len(plan)
    actions = chosen.to_numpy()
    for action in ACTIONS[:-1]:
        rows = np.flatnonzero(actions == action)
        if len(rows):
            for k, text in zip(rows.tolist(), reasons(action, plan.iloc[rows], rules),
                               strict=True):
                out[k] = text
    return out


def other_actions(met: pd.DataFrame, chosen: pd.Series) -> list[str]:
    """Per row, the rules of :data:`ACTIONS` it meets besides the chosen one, in priority
    order, comma separated (empty when none): each row's set of rules is a number (one bit
    a rule) that picks its text from the texts of every set, made once."""
    names = list(ACTIONS[:-1])
    also = met[names].to_numpy(dtype=bool) & (
        chosen.to_numpy()[:, None] != np.array(names, dtype=object)[None, :])
    sets = also.astype(np.int64) @ (1 << np.arange(len(names), dtype=np.int64))
    texts = np.array([", ".join(itertools.compress(names, ((s >> k) & 1 for k in
                                                         range(len(names)))))
                      for s in range(1 << len(names))], dtype=object)
    return texts[sets].tolist()


def rules_met(plan: pd.DataFrame, rules: PlanRules, *, model_ranks: bool,
              stuck: Collection[str] | None) -> pd.DataFrame:
    """One boolean column per action of :data:`ACTIONS` but ``no_action``: whether each row of
    ``plan`` meets that rule (whatever the priority). Unknown values never meet a rule."""
    days = plan["days_to_renewal"]
    p = plan["renewal_probability"]
    save = ((days <= rules.save_play_within_days) & (days > 0)
            & (p < rules.at_risk_below)).fillna(False).astype(bool) & bool(model_ranks)
    exec_flag = pd.Series(False, index=plan.index)
    for col in EXEC_FLAGS:
        exec_flag |= plan[col].fillna(False).astype(bool)
    if rules.outreach_tiers is not None:  # pooled tiers: one-to-many, no individual call
        exec_flag &= plan["value_tier"].astype(str).isin(rules.outreach_tiers)
    stuck_ids = {str(a) for a in stuck} if stuck is not None else set()
    onboarding = pd.Series(plan.index.astype(str).isin(stuck_ids), index=plan.index)
    potential = plan["expansion_potential_mrr"]
    share = potential / plan["mrr"].where(plan["mrr"] > 0)
    expand = ((potential > rules.expansion_min_mrr)
              & ((share >= rules.expansion_min_share) | (plan["mrr"].fillna(0) <= 0))
              ).fillna(False).astype(bool)
    return pd.DataFrame({"save_play": save, "executive_outreach": exec_flag,
                         "onboarding_rescue": onboarding, "expansion_conversation": expand},
                        index=plan.index)


#: What each relationship flag of :data:`EXEC_FLAGS` says in an outreach's reason.
EXEC_FLAG_WORDS = {"flag_single_threaded": "single-threaded (too few strong executive ties)",
                   "flag_renewal_no_exec": "renewal due without a recent executive contact"}


def reasons(action: str, rows: pd.DataFrame, rules: PlanRules) -> list[str]:
    """The facts behind ``action`` for each of ``rows`` (plan rows that chose it), in words:
    a save play's renewal date and probability against the threshold, an outreach's flags
    set (:data:`EXEC_FLAG_WORDS`, ``; `` between), a stuck onboarding, an expansion's reason
    (its amount is in ``expansion_potential_mrr``)."""
    if action == "save_play":
        below = tf.pct(rules.at_risk_below, 0)
        return [f"Renewal on {tf.date(when)}, renewal probability {tf.pct(p, 0)} (below "
                f"{below})" for when, p in zip(rows["next_renewal_date"].tolist(),
                                               rows["renewal_probability"].tolist(),
                                               strict=True)]
    if action == "executive_outreach":
        flags = [rows[col].fillna(False).astype(bool).tolist() for col in EXEC_FLAG_WORDS]
        return ["; ".join(text for text, on in zip(EXEC_FLAG_WORDS.values(), row, strict=True)
                          if on).capitalize() for row in zip(*flags, strict=True)]
    if action == "onboarding_rescue":
        return ["Stuck in onboarding"] * len(rows)
    if action == "expansion_conversation":
        return ["Expansion potential" + (f": {why}" if isinstance(why, str) and why else "")
                for why in rows["expansion_reason"].tolist()]
    return [""] * len(rows)


def _text(frame: pd.DataFrame, col: str) -> pd.Series:
    """``frame[col]`` as text (object; None where blank), or all None without the column."""
    if col not in frame:
        return pd.Series(None, index=frame.index, dtype=object)
    values = frame[col].astype(object)
    return values.where(values.notna(), None)


def _by_id(values: pd.Series | None, ids: pd.Index) -> pd.Series:
    """``values`` (indexed by account ID) on ``ids``; NaN without ``values``."""
    if values is None:
        return pd.Series(np.nan, index=ids, dtype=object)
    return values.set_axis(values.index.astype(str)).reindex(ids)


def _column(frame: pd.DataFrame | None, col: str, ids: pd.Index) -> pd.Series:
    """``frame[col]`` per ``account_id`` on ``ids`` (first row per account); NaN without
    ``frame``. A frame without ``col`` is an error naming it."""
    if frame is None:
        return pd.Series(np.nan, index=ids, dtype=object)
    if "account_id" not in frame and frame.index.name == "account_id":
        frame = frame.reset_index()  # the analyses index their frames by account
    if col not in frame or "account_id" not in frame:
        raise InsufficientDataError(
            f"The account plan's input lacks column '{col}' (with account_id).",
            fix=f"Pass a frame with account_id and {col}.")
    f = frame.assign(account_id=frame["account_id"].astype(str)).drop_duplicates("account_id")
    return f.set_index("account_id")[col].reindex(ids)


def plan_from_context(
    ctx: AnalysisContext,
    *,
    book: pd.DataFrame | None,
    model_ranks: bool,
    stages: pd.Series | None,
    stuck: Collection[str] | None,
    flags: pd.DataFrame | None,
    expansion: pd.DataFrame | None,
    cost: pd.DataFrame | None,
) -> pd.DataFrame:
    """:func:`account_plan` of a run: the customers as billed (``ctx.accounts``), their MRR at
    the as-of date (churn-recognised), value tiers, the health score (only when it rests on
    ``health.MIN_MEASURES`` measures or more), the next renewal of each account
    (:func:`playbook.analyses.drivers.upcoming_renewals` over
    :data:`NEXT_RENEWAL_LOOKAHEAD_DAYS`) and the rules of :func:`plan_rules`. The
    notebook's own results are passed as they are: the open book and whether the model
    ranks (section 2), the lifecycle stages, stuck accounts and relationship flags
    (section 3), expansion and cost frames."""
    p = ctx.params
    accounts = ctx.accounts
    mrr = (mrr_at(accounts, ctx.as_of, ctx.counted_mrr) if ctx.tables.get("mrr") is not None
           else None)
    ahead = upcoming_renewals(accounts, ctx.as_of, horizon_days=NEXT_RENEWAL_LOOKAHEAD_DAYS,
                              renewals=ctx.tables.get("renewals"), **p.renewal_options())
    scored = ctx.has_health_score
    events = account_events(ctx)
    return account_plan(accounts, as_of=ctx.as_of, rules=plan_rules(p), mrr=mrr,
                        value_tiers=ctx.value_tiers, stages=stages,
                        health=ctx.health_scores if scored else None,
                        health_measures=list(ctx.health_measures.index) if scored else None,
                        next_renewals=ahead, book=book, model_ranks=model_ranks,
                        flags=flags, stuck=stuck, expansion=expansion, cost=cost,
                        events=events)


def account_events(ctx: AnalysisContext) -> pd.DataFrame | None:
    """Per active account: ``open_trigger`` / ``open_trigger_date`` (the open list of
    :func:`playbook.analyses.triggers.open_triggers`, section 8) and ``outcome_progress``
    (:func:`playbook.analyses.outcomes.realised_at` at the as-of date); None without the
    triggers and outcomes tables."""
    t, o = ctx.tables.get("triggers"), ctx.tables.get("outcomes")
    if t is None and o is None:
        return None
    as_of = as_timestamp(ctx.as_of)
    ids = active_accounts(ctx.accounts.drop_duplicates("account_id"), as_of).index
    out = pd.DataFrame(index=pd.Index(ids.astype(str), name="account_id"),
                       columns=["open_trigger", "open_trigger_date", "outcome_progress"],
                       dtype=object)
    if t is not None:
        open_list = triggers.open_triggers(
            ctx.accounts, t, ctx.tables.get("touches"), as_of=as_of,
            days=ctx.params.triggers.open_days)
        out["open_trigger"] = open_list["type"].reindex(out.index)
        out["open_trigger_date"] = open_list["trigger_date"].reindex(out.index)
    if o is not None:
        real = outcomes.realised_at(o, pd.DataFrame({"account_id": out.index, "date": as_of}),
                                    lookback_days=ctx.params.outcomes.lookback_days)
        out["outcome_progress"] = real["realised"].to_numpy()
    return out


#: The three levers of :func:`where_to_act`, in the order the exhibit shows them.
LEVERS = ("loss_saveable", "expansion", "serving_saving")


#: How many accounts the report's appendix lists by money at play (the workbook has all).
TOP_ACCOUNTS = 50


def money_at_play(plan: pd.DataFrame, *, with_loss: bool = True) -> pd.Series:
    """Money at play per account, a month: expected renewal loss (MRR x probability of not
    renewing, blank when no renewal is scored: counted 0) plus expansion potential (MRR a
    month, blank when the account is not a candidate: counted 0). Both are monthly MRR, so
    they add up; it ranks where acting is worth the most, saving or growing.
    ``with_loss=False`` (a renewal model that ranks no better than chance) counts the
    expansion potential only: such a model's probabilities order nothing."""
    loss = plan["expected_loss"].astype(float).fillna(0.0).clip(lower=0.0) * with_loss
    grow = plan["expansion_potential_mrr"].astype(float).fillna(0.0).clip(lower=0.0)
    return loss + grow


def top_accounts(plan: pd.DataFrame, n: int, *, with_loss: bool = True) -> pd.DataFrame:
    """The ``n`` accounts of the plan with the most money at play (:func:`money_at_play`),
    largest first (ties: larger MRR, then account id); accounts with nothing at play are
    left out. The plan's columns plus ``money_at_play``."""
    ranked = plan.assign(money_at_play=money_at_play(plan, with_loss=with_loss))
    ranked = ranked[ranked["money_at_play"] > 0]
    ranked = ranked.sort_values(["money_at_play", "mrr", "account_id"],
                                ascending=[False, False, True], kind="stable")
    return ranked.head(n).reset_index(drop=True)


def where_to_act(plan: pd.DataFrame, savings: pd.DataFrame | None, *, by: str,
                 at_risk_below: float, model_ranks: bool, window_months: int,
                 tier_order: Sequence[str] = ()) -> pd.DataFrame:
    """What acting on the accounts of each group is worth, a year, in three levers.

    ``loss_saveable``: expected loss (:data:`COLUMNS` ``expected_loss``, MRR a month) of the
    renewals at risk in the open book (``renewal_probability`` below ``at_risk_below``),
    x 12; NaN for every group when the model does not rank better than chance
    (``model_ranks`` False: its probabilities pick no one). ``expansion``: expansion
    potential (``expansion_potential_mrr``, a month) x 12. ``serving_saving``: what a
    lighter touch plan would save on the accounts that cost more to serve than they earn
    (:func:`playbook.analyses.cost_to_serve.lighter_touch_savings` ``money_saved``, over a
    window of ``window_months``) x 12 / ``window_months``; NaN without ``savings``.
    ``total``: the sum of the levers measured. A lever the plan does not measure at all is
    NaN, not 0.

    Parameters
    ----------
    plan : DataFrame
        :func:`account_plan`.
    savings : DataFrame or None
        ``lighter_touch_savings`` (indexed by ``account_id``).
    by : str
        ``"value_tier"`` or ``"owner"`` (blank owner: ``"(no owner)"``).
    tier_order : sequence of str
        Row order of the tiers (top tier first); others follow by name.

    Returns
    -------
    DataFrame indexed by the group (in the plan's tier order for tiers, by total largest
    first for owners) with ``accounts``, ``loss_saveable_accounts`` (renewals at risk),
    ``loss_saveable``, ``expansion_accounts`` (with potential), ``expansion``,
    ``serving_saving_accounts`` (moved with a saving), ``serving_saving``, ``total``
    (money a year), and a ``total`` row.
    """
    p = plan.set_index("account_id")
    group = p[by].astype(object).where(p[by].notna(), "(no owner)" if by == "owner"
                                       else "(no tier)")
    at_risk = (p["renewal_probability"] < at_risk_below) & p["expected_loss"].notna()
    frame = pd.DataFrame(index=p.index)
    frame["group"] = group
    frame["loss_saveable_accounts"] = at_risk & model_ranks
    frame["loss_saveable"] = (p["expected_loss"].where(at_risk, 0.0) * 12
                              if model_ranks else np.nan)
    frame["expansion_accounts"] = p["expansion_potential_mrr"].fillna(0) > 0
    frame["expansion"] = p["expansion_potential_mrr"] * 12
    saved = (savings["money_saved"] if savings is not None
             else pd.Series(dtype=float)).rename(index=str)
    saved = saved.groupby(level=0).sum().reindex(p.index)
    frame["serving_saving_accounts"] = saved.fillna(0) > 0
    frame["serving_saving"] = (saved.fillna(0.0) * 12 / window_months if savings is not None
                               else np.nan)
    g = frame.groupby("group", sort=False)
    out = pd.DataFrame({"accounts": g.size()})
    for lever in LEVERS:
        measured = frame[lever].notna().any()
        out[f"{lever}_accounts"] = g[f"{lever}_accounts"].sum().astype(int)
        out[lever] = g[lever].sum() if measured else np.nan
    if by == "value_tier":
        order = [t for t in tier_order if t in out.index]
        order += sorted((t for t in out.index if t not in order), key=str)
    else:
        order = list(out[list(LEVERS)].sum(axis=1, min_count=1).fillna(0)
                     .sort_values(ascending=False, kind="stable").index)
    out = out.reindex(order + [i for i in out.index if i not in order])
    out.loc["total"] = out.sum(min_count=1)
    out["total"] = out[list(LEVERS)].sum(axis=1, min_count=1)
    counts = [c for c in out if c == "accounts" or c.endswith("_accounts")]
    out[counts] = out[counts].astype(int)
    out.index.name = by
    return out
