"""Exhibits and sentences of the "where to act" section: expansion potential, cost to serve,
and the three levers joined by tier and by owner.

Every number comes from the analysis results passed in (:mod:`playbook.analyses.expansion`,
:mod:`playbook.analyses.cost_to_serve`, :func:`playbook.account_plan.where_to_act`); titles
are chosen by rules tested in ``tests/test_findings_account_plan.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec, table_html

#: How many candidates the expansion exhibit names.
TOP_CANDIDATES = 5
#: What the account plan needs, said where it cannot be built.
PLAN_NEEDS = ("An accounts export with account IDs and start dates, and the MRR history covering "
              "the as-of month, would enable it.")
#: How many owners the "where to act" exhibit lists (the rest are one "other owners" row).
TOP_OWNERS = 6
LEVER_WORDS = {"loss_saveable": "saving renewals at risk",
               "expansion": "expansion",
               "serving_saving": "a lighter touch for accounts that cost more than they earn"}


def _tiers(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(index="total", errors="ignore")


# --------------------------------------------------------------------------- expansion
def expansion_title(by_tier: pd.DataFrame, currency: str) -> str:
    """Rule: no candidate -> say so; else the count, the potential a month and the tier
    holding the largest share of it."""
    n = int(by_tier["candidates"].sum())
    if n == 0:
        return ("No account is at once healthy, adopting and short of seats, products or a "
                "higher tier")
    total = float(by_tier["potential_mrr"].sum())
    top = by_tier["potential_mrr"].idxmax()
    share = by_tier.loc[top, "potential_mrr"] / total if total else 0.0
    return (f"{tf.plural(n, 'healthy, adopting account')} could add "
            f"{tf.money(total, currency)} of MRR a month, {tf.pct(share, 0)} of it in the "
            f"{top} tier")


def expansion_table(by_tier: pd.DataFrame, screen: Mapping[str, int], currency: str,
                    share: Mapping[str, Any] | None) -> ExhibitSpec:
    """Expansion potential by value tier (:func:`playbook.analyses.expansion.
    expansion_by_tier`); ``screen``: the candidates' ``attrs["screen"]``; ``share``:
    :func:`playbook.analyses.expansion.expansion_share_of_nrr` or None when withheld."""
    t = by_tier.reset_index().rename(columns={
        "value_tier": "tier", "candidates": "candidates",
        "potential_mrr": f"potential MRR ({currency}/month)",
        "share_of_potential": "share of potential"})
    notes = (f"Of {tf.count(screen.get('active', 0))} active accounts, "
             f"{tf.count(screen.get('healthy', 0))} are healthy and "
             f"{tf.count(screen.get('adopting', 0))} of those adopting; candidates have "
             "headroom in seats, products or tier, priced from the client's own prices (one "
             "route per account: seats, else products, else tier). Every account's potential "
             "and reason is in accounts.xlsx.")
    if share is not None:
        notes += (f" Expansion added {tf.pct(share['expansion_share'], 1)} of the base's MRR "
                  f"over the {share['label'] or 'trailing window'} (NRR "
                  f"{tf.pct(share['nrr'], 1)} against GRR {tf.pct(share['grr'], 1)}).")
    return ExhibitSpec(
        t, expansion_title(by_tier, currency),
        "Expansion candidates and their MRR potential a month, by value tier",
        "accounts, mrr, usage, health score", n=int(screen.get("active", 0)),
        notes=notes, formats={"share of potential": "{:.0%}"})


def top_candidates_sentence(candidates: pd.DataFrame, names: pd.Series | None,
                            currency: str, top: int = TOP_CANDIDATES) -> str:
    """The largest candidates in one sentence: name, potential a month and route."""
    if candidates.empty:
        return ""
    parts = []
    for account, row in candidates.head(top).iterrows():
        name = names.get(account) if names is not None else None
        label = tf.md_escape(name if isinstance(name, str) and name else account)
        parts.append(f"{label} (+{tf.money(row['potential_mrr'], currency)} a month, "
                     f"{row['route']})")
    return f"The largest candidates: {', '.join(parts)}."


def expansion_model_sentence(model: Any, horizon_months: int, min_rise_share: float) -> str:
    """What predicts expansion, in one sentence (:class:`playbook.analyses.expansion.
    ExpansionModel`). Rule: the model "ranks accounts better than chance" only when every
    cross-validation fold's AUC is above 0.5, and then its top-decile lift is said; the
    features named (in words) are those whose odds-ratio interval excludes 1, largest effect
    first (none: said so)."""
    ranks = model.auc_low > 0.5
    folds = tf.span(model.auc_low, model.auc_high, lambda v: tf.number(v, 2))
    lift = float(model.lift["lift"].iloc[0])  # the top decile's rate over the average
    head = (f"A model of MRR rising {tf.pct(min_rise_share, 0)} or more within "
            f"{tf.plural(horizon_months, 'month')} of a cut-off "
            f"({tf.count(model.n)} account-periods, {tf.count(model.expansions)} expansions) "
            + (f"ranks accounts better than chance (cross-validated AUC "
               f"{tf.number(model.auc, 2)}, folds {folds}; the tenth it rates most likely "
               f"expanded at {tf.number(lift, 1)} times the average rate)" if ranks else
               f"ranks accounts no better than chance in every fold (AUC "
               f"{tf.number(model.auc, 2)}, folds {folds})"))
    odds = model.odds_ratios
    clear = odds[(odds["or_low"] > 1) | (odds["or_high"] < 1)].copy()
    if clear.empty:
        return f"{head}; no feature's odds ratio is clearly different from 1."
    clear["size"] = np.log(clear["odds_ratio"]).abs()
    parts = [f"{tf.md_escape(str(term).replace('[', ' ').rstrip(']').replace('_', ' '))} "
             f"(odds x{tf.number(row['odds_ratio'], 2)})"
             for term, row in clear.sort_values("size", ascending=False).head(3).iterrows()]
    return f"{head}; what goes with expanding: {', '.join(parts)}."


# --------------------------------------------------------------------------- cost to serve
def cost_title(by_tier: pd.DataFrame, savings: pd.DataFrame, currency: str, months: int
               ) -> str:
    """Rule: accounts costing more to serve than they earn -> their count, and what a
    lighter touch would have saved over the ``months`` measured; none -> the share of
    revenue serving takes."""
    total = by_tier.loc["total"]
    bad = int(total["unprofitable"])
    if bad == 0:
        return (f"Every account earns more than it costs to serve; serving takes "
                f"{tf.pct(total['cost_share'], 0)} of revenue")
    saved = float(savings["money_saved"].sum()) if len(savings) else 0.0
    head = (f"{tf.count(bad)} of {tf.count(total['accounts'])} accounts cost more to serve "
            "than they earn")
    if saved > 0:
        return (f"{head}; a lighter touch plan would save {tf.money(saved, currency)} over "
                f"{tf.plural(months, 'month')}")
    return f"{head}, and a lighter touch plan would not save on them"


def cost_table(by_tier: pd.DataFrame, savings: pd.DataFrame, currency: str, *,
               csm_hours: str, months: int) -> ExhibitSpec:
    """Cost to serve and margin by tier (:func:`playbook.analyses.cost_to_serve.
    cost_by_tier`) over the trailing ``months``; ``savings``: ``lighter_touch_savings``;
    ``csm_hours``: ``"logged"`` or ``"planned"``."""
    window = f"the trailing {tf.plural(months, 'month')}"
    t = by_tier.reset_index()[["tier", "accounts", "revenue", "cost_to_serve", "margin",
                               "margin_share", "unprofitable"]].rename(columns={
        "revenue": f"revenue ({currency})", "cost_to_serve": f"cost to serve ({currency})",
        "margin": f"margin after serving ({currency})", "margin_share": "margin share",
        "unprofitable": "unprofitable accounts"})
    moved = savings[savings["money_saved"] > 0] if len(savings) else savings
    notes = (f"Over {window}: support, CSM and onboarding hours priced "
             "per role against revenue x the gross margin before serving. ")
    if csm_hours == "planned":
        notes += "CSM hours planned, not logged: the touch model's plan per tier. "
    if len(moved):
        notes += (f"Moving {tf.plural(len(moved), 'unprofitable account')} to the next "
                  f"lighter touch plan would save {tf.money(moved['money_saved'].sum(), currency)}"
                  f"; {tf.count(int(moved['profitable_after'].sum()))} would then earn more "
                  "than they cost.")
    return ExhibitSpec(
        t, cost_title(by_tier, savings, currency, months),
        f"Revenue, cost to serve and margin after serving per value tier, {window}",
        "accounts, mrr, tickets, touches, onboarding, params cost_to_serve",
        n=int(by_tier.loc["total", "accounts"]), notes=notes.strip(),
        formats={"margin share": "{:.0%}"})


# --------------------------------------------------------------------------- where to act
def where_title(by_tier: pd.DataFrame, currency: str) -> str:
    """Rule: the largest lever measured, a year, and the tier holding most of it; when no
    lever measured shows money, say so and name the levers the data do not measure."""
    total = by_tier.loc["total"]
    measured = total[list(LEVER_WORDS)].dropna()
    unmeasured = [LEVER_WORDS[k] for k in LEVER_WORDS if k not in measured.index]
    positive = measured[measured > 0]
    if positive.empty:
        head = "No lever measured shows money to act on"
        if unmeasured:
            return f"{head}; {tf.and_list(unmeasured)} {'is' if len(unmeasured) == 1 else 'are'} " \
                   "not measured on this data"
        return head
    lever = positive.idxmax()
    tier = _tiers(by_tier)[lever].idxmax()
    return (f"{LEVER_WORDS[lever].capitalize()} is the largest lever at "
            f"{tf.money(positive[lever], currency)} a year, most of it in the {tier} tier")



def any_lever_measured(by_tier: pd.DataFrame) -> bool:
    """True when at least one lever has a figure (else the exhibit is not shown)."""
    return bool(by_tier.loc["total", list(LEVER_WORDS)].notna().any())


def where_table(by_tier: pd.DataFrame, by_owner: pd.DataFrame, currency: str, *,
                model_ranks: bool, model_fitted: bool,
                top_owners: int = TOP_OWNERS) -> ExhibitSpec:
    """The three levers a year by tier, then by owner (the largest ``top_owners``; the rest
    summed as one row; no owner rows when no account names an owner)."""
    owners = _tiers(by_owner)
    if list(owners.index) == ["(no owner)"]:
        owners = owners.iloc[:0]
    if len(owners) > top_owners:
        rest = owners.iloc[top_owners:].sum(min_count=1).to_frame("other owners").T
        owners = pd.concat([owners.iloc[:top_owners], rest])
    rows = pd.concat([_tiers(by_tier).rename(index=lambda t: f"{t} tier"), owners,
                      by_tier.loc[["total"]]])
    t = pd.DataFrame({
        "tier, then owner" if len(owners) else "tier": rows.index.astype(str),
        "accounts": rows["accounts"].astype(int),
        f"saveable loss ({currency}/year)": rows["loss_saveable"],
        f"expansion ({currency}/year)": rows["expansion"],
        f"serving saving ({currency}/year)": rows["serving_saving"],
        f"total ({currency}/year)": rows["total"],
    }).reset_index(drop=True)
    total = by_tier.loc["total"]
    if not (pd.notna(total["total"]) and total["total"] > 0):
        t = t.iloc[:0]  # nothing to act on: the title says it in one line, no table of $0
    notes = ("A year: expected loss of the renewals at risk in the open book x 12; expansion "
             "potential x 12; a lighter touch plan's saving on the accounts that cost more "
             "than they earn, annualised. Each account's next action is in accounts.xlsx. ")
    if not model_fitted:
        notes += "Saveable loss not measured: no renewal model on this data. "
    elif not model_ranks:
        notes += ("Saveable loss not shown: the renewal model ranks renewals no better than "
                  "chance. ")
    counts = [f"{tf.count(int(total[f'{k}_accounts']))} {what}" for k, what in (
        ("loss_saveable", "renewals at risk"), ("expansion", "expansion candidates"),
        ("serving_saving", "accounts to move")) if pd.notna(total[k])]
    if counts:
        notes += f"{tf.and_list(counts)}."
    return ExhibitSpec(
        t, where_title(by_tier, currency),
        "What acting is worth a year, by lever: per value tier"
        + (", then per owner" if len(owners) else ""),
        "accounts, mrr, renewals, usage, tickets, touches", n=int(total["accounts"]),
        notes=notes.strip())


def where_unavailable() -> str:
    """The one line when no lever can be measured."""
    return ("Not shown: what acting is worth, as no lever can be measured on this data. A "
            "renewal model (renewal decisions with outcomes), usage with a health score "
            "(expansion) or tickets or touches (cost to serve) would enable it.")


def not_enabled(what: str, send: str) -> str:
    """The one line of an exhibit the data cannot support: what is not shown and what data
    would enable it."""
    return f"Not shown: {what}. {send}"


# ------------------------------------------------------------------- appendix: top accounts
def top_accounts_title(top: pd.DataFrame, total_at_play: float, currency: str,
                       with_loss: bool) -> str:
    """Rule: the number of accounts listed, the expected renewal loss and the expansion
    potential they hold a month, and their share of the whole plan's money at play (the
    sum over every account); only the expansion side when the renewal model cannot rank."""
    n = len(top)
    if n == 0:
        return "No account has an expected renewal loss or expansion potential to act on"
    grow = tf.money(top["expansion_potential_mrr"].fillna(0).sum(), currency)
    held = (f"{tf.money(top['expected_loss'].fillna(0).sum(), currency)} of expected renewal "
            f"loss and {grow} of expansion potential a month" if with_loss
            else f"{grow} of expansion potential a month")
    share = top["money_at_play"].sum() / total_at_play if total_at_play else np.nan
    of_all = "" if tf.is_missing(share) else f", {tf.pct(share, 0)} of all the plan's"
    return f"{tf.count(n)} accounts hold {held}{of_all}"


def top_accounts_exhibit(top: pd.DataFrame, total_at_play: float, accounts_in_plan: int,
                         currency: str, *, with_loss: bool) -> ExhibitSpec:
    """The appendix's list of the accounts with the most money at play a month (expected
    renewal loss plus expansion potential, :func:`playbook.account_plan.money_at_play`),
    with each one's owner, next renewal, the two amounts and the next action (seven
    columns at most, so the list is set as a normal table, not a wide one; the tier and the
    renewal probability are in the workbook)."""
    t = pd.DataFrame({
        "#": np.arange(1, len(top) + 1),
        "account": top["account_name"].fillna(top["account_id"]).astype(str),
        "owner": top["owner"].fillna("").astype(str),
        "renewal": [tf.date(d).replace(" ", "\u00a0") if pd.notna(d) else ""
                    for d in pd.to_datetime(top["next_renewal_date"])],
        f"expected loss ({currency})": top["expected_loss"].astype(float),
        f"expansion ({currency})": top["expansion_potential_mrr"].astype(float),
        "next action": top["next_action"].fillna("").astype(str).str.replace("_", " "),
    })
    if not with_loss:
        t = t.drop(columns=[f"expected loss ({currency})"])
    blank = [c for c in ("owner", "renewal") if not t[c].astype(bool).any()]
    t = t.drop(columns=blank)
    notes = (f"Money at play a month = expected renewal loss (MRR x probability of not "
             f"renewing) + expansion potential (MRR); the first {tf.count(len(top))} of the "
             f"{tf.count(accounts_in_plan)} active accounts. Every account, with its tier, "
             "renewal probability, next action and due date, is in accounts.xlsx.")
    if not with_loss:
        notes += (" Expected loss left out: the renewal model ranks renewals no better than "
                  "chance.")
    table = table_html(t, formats={f"expected loss ({currency})": "{:,.0f}",
                                   f"expansion ({currency})": "{:,.0f}"},
                       max_rows=max(len(t), 1))  # every row: the list is the point
    return ExhibitSpec(
        table if len(t) else t,  # no row: an empty frame, said as its title in one line
        top_accounts_title(top, total_at_play, currency, with_loss),
        "Accounts by money at play a month (expected renewal loss plus expansion potential), "
        "largest first", "accounts, mrr, renewals, usage", n=len(top), notes=notes)
