"""Exhibits of the relationship-risk flags: accounts, MRR and actions per flag, and
the largest accounts at risk (titles chosen by rules)."""

from __future__ import annotations

import pandas as pd

from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec
from playbook.findings.segments.phrases import more_note

FLAG_LABELS = {
    "flag_renewal_no_exec": "Renewal: due, no recent executive contact",
    "flag_single_threaded": "1-thread: too few strong executive ties",
    "flag_adoption_no_users": "Champions: strong adoption, no user ties",
    "flag_drop_no_user_contact": "Drop: usage fell, no recent user contact",
    "flag_champion_left_no_exec": "Champion left: no executive contact since",
}
FLAG_SHORT = {
    "flag_renewal_no_exec": "renewal",
    "flag_single_threaded": "1-thread",
    "flag_adoption_no_users": "champions",
    "flag_drop_no_user_contact": "drop",
    "flag_champion_left_no_exec": "champion left",
}
FLAG_ACTIONS = {
    "flag_renewal_no_exec": "Quick outreach: executive call before the renewal",
    "flag_single_threaded": "Multi-thread: add a strong executive relationship",
    "flag_adoption_no_users": "Build champions among the active users",
    "flag_drop_no_user_contact": "Emergency help: reach the users this week",
    "flag_champion_left_no_exec": "Executive call: find the new sponsor",
}


def flags_title(flags: pd.DataFrame, mrr: pd.Series, currency: str) -> str:
    flagged = flags["flags"] > 0
    return (f"{int(flagged.sum()):,} of {len(flags):,} active accounts carry a "
            f"relationship-risk flag, holding "
            f"{tf.money(mrr.reindex(flags.index[flagged]).sum(), currency)} of MRR")


def flags_table(summary: pd.DataFrame, flags: pd.DataFrame, mrr: pd.Series,
                currency: str) -> ExhibitSpec:
    t = pd.DataFrame({
        "flag": [FLAG_LABELS.get(f, f) for f in summary.index],
        "accounts": summary["accounts"].to_numpy(),
        f"MRR ({currency})": summary["mrr"].to_numpy(),
        "% of MRR": summary["share_mrr"].to_numpy(),
        "owner with most": summary["owners"].to_numpy(),
        "suggested action": [FLAG_ACTIONS.get(f, "") for f in summary.index],
    })
    notes = ("An account may carry several flags. Thresholds from params (thresholds.*)."
             + _undecided_note(summary))
    return ExhibitSpec(
        t, flags_title(flags, mrr, currency),
        "Relationship-risk flags of active accounts: accounts, MRR, owners and the action "
        "each calls for, as of the period end", "contacts, touches, usage, accounts",
        n=len(flags), notes=notes,
        formats={f"MRR ({currency})": "{:,.0f}", "% of MRR": "{:.0%}"})


def _undecided_note(summary: pd.DataFrame) -> str:
    """The flag checks left undecided, by the data they lacked: renewal dates for the
    renewal flag, usage data for the others ("" when every check was decided)."""
    if "undecided" not in summary:
        return ""
    undecided = summary["undecided"].fillna(0).astype(int)
    renewal = int(undecided.get("flag_renewal_no_exec", 0))
    usage = int(undecided.sum()) - renewal
    parts = []
    if usage:
        parts.append(f" {usage:,} flag checks could not be decided for lack of usage data.")
    if renewal:
        parts.append(" The renewal flag could not be decided: the accounts carry no renewal "
                     "date.")
    return "".join(parts)


def _flag_list(row: pd.Series) -> str:
    """Short names of the flags set on one row (``<NA>`` counts as not set)."""
    return ", ".join(FLAG_SHORT[c] for c in FLAG_SHORT
                     if c in row.index and not pd.isna(row[c]) and bool(row[c]))


def at_risk_title(at_risk: pd.DataFrame, currency: str) -> str:
    """Rule: the accounts with two or more flags, or, when there are none, the flagged
    accounts."""
    if at_risk.empty:
        return "No active account carries a relationship-risk flag"
    multi = at_risk.loc[at_risk["flags"] >= 2]
    if multi.empty:
        return (f"No account carries more than one relationship flag; the "
                f"{tf.plural(len(at_risk), 'flagged account')} hold "
                f"{tf.money(at_risk['mrr'].sum(), currency)} of MRR")
    return (f"{tf.plural(len(multi), 'account')} carry two or more relationship flags, "
            f"holding {tf.money(multi['mrr'].sum(), currency)} of MRR")


def at_risk_table(at_risk: pd.DataFrame, currency: str, top: int = 8) -> ExhibitSpec:
    """The largest accounts among those with two or more flags (or all flagged accounts
    when none has two)."""
    multi = at_risk.loc[at_risk["flags"] >= 2]
    pool = multi if len(multi) else at_risk
    shown = pool.sort_values("mrr", ascending=False, kind="stable").head(top)
    flag_text = shown.apply(_flag_list, axis=1)
    t = pd.DataFrame({
        "account": shown["name"] if "name" in shown else shown.index.to_series(),
        "owner": shown.get("owner", pd.Series("", index=shown.index)),
        f"MRR ({currency})": shown["mrr"],
        "flags": flag_text,
        "strong user rel.": shown["strong_user_relationships"],
        "exec rel. (strong)": [f"{int(e)} ({int(s)})" for e, s in zip(
            shown["exec_relationships"], shown["strong_exec_relationships"], strict=True)],
        "days since contact: user / exec": [
            f"{_days(u)} / {_days(e)}" for u, e in zip(
                shown["days_since_user_contact"], shown["days_since_exec_contact"],
                strict=True)],
    }).reset_index(drop=True)
    what = "accounts with two or more flags" if len(multi) else "flagged accounts"
    rest = pool.sort_values("mrr", ascending=False, kind="stable")["mrr"].iloc[top:].sum()
    note = more_note(len(shown), len(pool), what, rest if len(pool) > top else None,
                      currency)
    return ExhibitSpec(
        t, at_risk_title(at_risk, currency),
        f"Largest {what} and their relationship metrics, as of the period end",
        "contacts, touches, usage, accounts", n=len(pool),
        notes=(note + " " if note else "") + "Flags as in the exhibit before; exec = "
        "director level or above; 'never' = no contact of that kind logged.",
        formats={f"MRR ({currency})": "{:,.0f}", "strong user rel.": "{:,.0f}"})


def _days(value: float) -> str:
    return "never" if tf.is_missing(value) else f"{value:,.0f}"
