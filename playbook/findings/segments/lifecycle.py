"""Exhibits of the lifecycle stages: accounts per stage, churn by stage, accounts
stuck in onboarding and the onboarding funnel (titles chosen by rules)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.analyses.segments.lifecycle import LIFECYCLE_STAGES
from playbook.exhibits import ExhibitSpec
from playbook.findings.segments.phrases import day_text, more_note


def lifecycle_title(summary: pd.DataFrame) -> str:
    """Rule: the largest stage and its share ("most" only above half the accounts); the
    share still in the first stage when that stage is shown (it is left out when the data
    cannot measure it, see :func:`lifecycle`)."""
    counts = summary["accounts"]
    if counts.sum() == 0:
        return "No active accounts to place in the lifecycle"
    top = counts.idxmax()
    first = summary.index[0]
    largest = counts.max() / counts.sum()
    share = tf.pct(largest, 0)
    where = "still in " if top == first == LIFECYCLE_STAGES[0] else ""
    lead = (f"Most accounts are {where}'{top}' ({share})" if largest > 0.5
            else f"The largest group of accounts is {where}'{top}' ({share})")
    if first != LIFECYCLE_STAGES[0] or top == first:
        return lead
    return f"{lead}; {tf.pct(counts.iloc[0] / counts.sum(), 0)} are still in '{first}'"


def _months_text(row: pd.Series) -> str:
    med = row.get("median_months")
    if tf.is_missing(med):
        return ""
    lower = "at least " if row.get("share_censored", 0) > 0.5 else ""
    return f"median {lower}{tf.plural(int(round(med)), 'month')} in stage"


def lifecycle(summary: pd.DataFrame, history_months: int, *,
              onboarding_measured: bool = True, unmeasured: int = 0) -> ExhibitSpec:
    """Accounts per lifecycle stage. Without onboarding data (``onboarding_measured``
    False) the Onboarding stage is left out and the notes say what would measure it;
    ``unmeasured`` accounts in 'Adopting' have no usage data
    (:func:`playbook.analyses.segments.lifecycle.adopting_unmeasured`): the notes say so."""
    extra = ""
    if unmeasured:
        extra += (f" {tf.plural(unmeasured, 'account')} in '{LIFECYCLE_STAGES[1]}' "
                  f"{'has' if unmeasured == 1 else 'have'} no usage data: "
                  f"{'it is' if unmeasured == 1 else 'they are'} there because use is not "
                  "measured, not because it is shallow.")
    if not onboarding_measured:
        summary = summary.drop(index=LIFECYCLE_STAGES[0], errors="ignore")
        extra += (f" The '{LIFECYCLE_STAGES[0]}' stage is not shown: it needs the onboarding "
                  "table (onboarding milestones reached per account).")
    notes = summary.apply(_months_text, axis=1)
    fig, ax = charts.new_figure(0.3 * len(summary) + 0.6)
    charts.ordered_bars(summary["accounts"], ax, annotations=notes)
    return ExhibitSpec(
        fig, lifecycle_title(summary),
        "Active accounts by lifecycle stage, and how long they have been in it, as of the "
        "period end", "accounts, onboarding, usage, mrr", n=int(summary["accounts"].sum()),
        notes=f"Time in stage from monthly stage snapshots over {history_months} months; "
              "'at least' where most accounts of the stage were in it the whole time."
              + extra)


def stage_churn_title(conc: pd.DataFrame) -> str:
    """Rule: the stage that churned most 'churned most' only when its interval lies above
    the interval of the stage that churned least; small stages (n < 30) are ignored."""
    ok = conc.loc[~conc["small_sample"] & conc["churn_rate"].notna()]
    if len(ok) < 2:
        return "Too few accounts per lifecycle stage to compare churn"
    hi, lo = ok["churn_rate"].idxmax(), ok["churn_rate"].idxmin()
    if ok.loc[hi, "churn_rate_low"] > ok.loc[lo, "churn_rate_high"]:
        return (f"Accounts in '{hi}' at the window's start churned most: "
                f"{tf.pct(ok.loc[hi, 'churn_rate'], 0)} against "
                f"{tf.pct(ok.loc[lo, 'churn_rate'], 0)} in '{lo}'")
    return (f"Churn differs little by lifecycle stage: from {tf.pct(ok['churn_rate'].min(), 0)}"
            f" to {tf.pct(ok['churn_rate'].max(), 0)}, with overlapping intervals")


def stage_churn(conc: pd.DataFrame, window_label: str = "trailing 12 months") -> ExhibitSpec:
    """Logo churn by lifecycle stage of the headline base: the accounts paying at the start
    of the trailing window, by their stage then; churned = not paying at its end."""
    rows = conc.loc[conc["accounts"] > 0].reset_index()
    rows = rows.rename(columns={rows.columns[0]: "group", "accounts": "n"})
    total = conc["churned_accounts"].sum() / max(conc["accounts"].sum(), 1)
    fig, ax = charts.new_figure(0.32 * len(rows) + 0.7)
    charts.rates_with_intervals(rows, ax, label_col="group", rate="churn_rate",
                                low="churn_rate_low", high="churn_rate_high", n="n",
                                small="small_sample", overall=total)
    return ExhibitSpec(
        fig, stage_churn_title(conc),
        f"Logo churn over the {window_label} by lifecycle stage at the window's start, with "
        "95% intervals", "accounts, onboarding, usage, mrr",
        n=int(conc["accounts"].sum()),
        notes="The accounts paying at the window's start (the base of logo churn), by their "
              "stage then; churned = not paying at its end. Hollow grey: fewer than 30 "
              "accounts, too small to judge.")


def stuck_title(stuck: pd.DataFrame, days: int, currency: str) -> str:
    if stuck.empty:
        return f"No account is still onboarding more than {days} days after it started"
    return (f"{tf.plural(len(stuck), 'account')} {'is' if len(stuck) == 1 else 'are'} still "
            f"onboarding more than {days} days after starting, holding "
            f"{tf.money(stuck['mrr'].sum(), currency)} of MRR")


def stuck_table(stuck: pd.DataFrame, days: int, currency: str, top: int = 8) -> ExhibitSpec:
    shown = stuck.head(top).reset_index()
    cols = {"name": "account", "owner": "owner", "segment": "segment",
            "mrr": f"MRR ({currency})", "days_since_start": "days since start",
            "steps_done": "steps done", "last_step": "last step done"}
    if "name" not in shown:
        cols = {"account_id": "account", **cols}
    t = shown[[c for c in cols if c in shown]].rename(columns=cols)
    note = more_note(len(shown), len(stuck), "accounts", stuck["mrr"].iloc[top:].sum()
                      if len(stuck) > top else None, currency)
    return ExhibitSpec(
        t, stuck_title(stuck, days, currency),
        f"Accounts still in the first lifecycle stage more than {days} days after their "
        "start, largest MRR first", "accounts, onboarding, mrr", n=len(stuck),
        notes=(note + " " if note else "") + "At risk: long stays in the first stage signal "
        "churn (lifecycle.stuck_onboarding_days).",
        formats={f"MRR ({currency})": "{:,.0f}"})


def onboarding_title(funnel: pd.DataFrame) -> str:
    """Rule: the share reaching the last key step, its median time, and the step before
    which the most accounts drop off (the largest fall in completion from one step to the
    next, the first step measured against 100%)."""
    if funnel.empty or not funnel["accounts"].max():
        return "No accounts started in the window to measure onboarding"
    share = funnel["share_completed"].fillna(0)
    drops = -(share.diff().fillna(share.iloc[0] - 1.0))
    last = funnel.index[-1]
    text = (f"{tf.pct(share.iloc[-1], 0)} of new accounts reach '{last}'"
            f"{_median_days(funnel.loc[last, 'median_days'])}")
    if drops.max() <= 0:
        return text + "; no step loses accounts"
    return (text + f"; the largest drop-off ({drops.max() * 100:.0f} points) comes before "
            f"'{drops.idxmax()}'")


def _median_days(days: float) -> str:
    return "" if tf.is_missing(days) else f" (median {tf.plural(int(round(days)), 'day')})"


def onboarding_steps(funnel: pd.DataFrame, cohort: tuple[Any, Any]) -> ExhibitSpec:
    t = funnel.reset_index().rename(columns={
        "step": "key step", "completed": "accounts completed",
        "share_completed": "% completed", "median_days": "median days from start",
        "p75_days": "75th percentile days"}).drop(columns=["accounts"])
    n = int(funnel["accounts"].max()) if len(funnel) else 0
    return ExhibitSpec(
        t, onboarding_title(funnel),
        f"Accounts that started {day_text(cohort[0])} to {day_text(cohort[1])}: share completing "
        "each key onboarding step, and days from start", "accounts, onboarding", n=n,
        notes="Cohort ends early enough for every account to have had time to finish; "
              "churned accounts are included.",
        formats={"% completed": "{:.0%}", "median days from start": "{:,.0f}",
                 "75th percentile days": "{:,.0f}"})
