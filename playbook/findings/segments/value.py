"""Exhibits of the value tiers: the value pyramid, where lost MRR comes from, and
whether the tiers are stable (titles chosen by rules from the numbers passed in)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec
from playbook.findings.segments.phrases import day_text


def pyramid_title(conc: pd.DataFrame) -> str:
    """The top tier's share of accounts against its share of MRR."""
    if conc.empty or conc["accounts"].sum() == 0:
        return "No active accounts to tier"
    top = conc.index[conc["accounts"] > 0][0]  # the highest tier that has accounts
    accounts = tf.pct(conc.loc[top, "share_accounts"], 0)
    if tf.is_missing(conc.loc[top, "share_mrr"]):  # no MRR to share: say what is known
        return (f"The top {accounts} of accounts form the {top} tier; no MRR is recorded to "
                "compare their share of revenue")
    return f"The top {accounts} of accounts hold {tf.pct(conc.loc[top, 'share_mrr'], 0)} of MRR"


def value_pyramid(conc: pd.DataFrame, *, method: str) -> ExhibitSpec:
    fig, ax = charts.new_figure(1.7)
    charts.pyramid(conc[["share_accounts", "share_mrr"]].fillna(0.0), ax)
    how = ("tier cut-offs on the score" if method == "cutoffs"
           else "tier shares of accounts")
    return ExhibitSpec(
        fig, pyramid_title(conc),
        "Value tiers: share of active accounts vs share of MRR, as of the period end",
        "accounts, mrr, usage, csm_inputs", n=int(conc["accounts"].sum()),
        notes="Tiers by value score (contract value weighs most, then growth room and "
              f"value beyond revenue); weights and {how} from params.")


def tier_leak_title(conc: pd.DataFrame, window: str) -> str:
    """Rule: name the tier losing the largest share of MRR; call it 'the middle of the base'
    when it is neither the top nor the bottom tier (domain.md: the middle leaks most); its
    churn rate is quoted only when the tier is large enough to judge (else the counts).
    ``window`` is the window's label ("trailing 11 months")."""
    lost = conc["share_mrr_lost"] if "share_mrr_lost" in conc else pd.Series(dtype=float)
    if lost.isna().any() and "churn_rate" in conc:  # lost MRR unknown: say the logo churn
        rates = conc["churn_rate"].dropna()
        if rates.empty or rates.max() == 0:
            return f"No account left any value tier over the {window}"
        top = rates.idxmax()
        return (f"Logo churn is highest in the {top} tier: "
                f"{int(conc.loc[top, 'churned_accounts']):,} of its "
                f"{int(conc.loc[top, 'accounts']):,} accounts left over the {window}; the "
                "MRR they took is not recorded")
    if lost.dropna().empty or lost.fillna(0).sum() == 0:
        return f"No MRR was lost in any value tier over the {window}"
    leak = lost.idxmax()
    middle = leak not in (conc.index[0], conc.index[-1])
    where = f"the middle of the base ({leak} tier)" if middle else f"the {leak} tier"
    head = f"Most lost MRR comes from {where}: {tf.pct(lost[leak], 0)} of it"
    if bool(conc.get("small_sample", pd.Series(False, index=conc.index))[leak]):
        # too few accounts for a rate: the counts, not a percentage
        return (f"{head}; {int(conc.loc[leak, 'churned_accounts']):,} of its "
                f"{int(conc.loc[leak, 'accounts']):,} accounts left")
    return f"{head}, with {tf.pct(conc.loc[leak, 'churn_rate'], 0)} of those accounts churning"


def tier_table(conc: pd.DataFrame, currency: str, basis: Mapping[str, Any]) -> ExhibitSpec:
    """Accounts, MRR, logo churn and lost MRR per value tier of the trailing window's base.

    ``basis``: ``label`` (the window in words), ``base_month`` and ``end_month`` (dates) and
    ``unscored`` (base accounts without a value score then, placed in the bottom tier)."""
    t = conc[["accounts", "share_accounts", "mrr", "share_mrr", "churn_rate", "mrr_lost",
              "share_mrr_lost"]]
    t = t.reset_index().rename(columns={
        t.index.name or "index": "tier", "share_accounts": "% accounts",
        "mrr": f"MRR ({currency})", "share_mrr": "% MRR", "churn_rate": "logo churn",
        "mrr_lost": f"MRR lost ({currency})", "share_mrr_lost": "% of MRR lost"})
    base, end = tf.month(basis["base_month"]), tf.month(basis["end_month"])
    if basis.get("from_mrr", True):
        notes = (f"The base of the {basis['label']}: accounts paying in {base}, tiered as of "
                 f"then; MRR = their MRR in {base}; logo churn = not paying in {end}; MRR "
                 "lost = the MRR of those that left plus the contraction of those that "
                 "stayed, so lost MRR over MRR is the gross revenue churn (1 - GRR).")
    else:
        notes = (f"No MRR history: accounts active at the end of {base} by the accounts "
                 f"table's dates, tiered as of then; MRR = today's MRR in the accounts table; "
                 f"logo churn = a churn date by the end of {end}; MRR lost = the MRR of "
                 "those that left.")
    unscored = int(basis.get("unscored") or 0)
    if unscored:
        notes += (f" {tf.plural(unscored, 'account')} without a value score then "
                  f"{'is' if unscored == 1 else 'are'} placed in the bottom tier.")
    small = conc.index[conc.get("small_sample", pd.Series(False, index=conc.index))]
    if len(small):
        notes += f" Fewer than 30 accounts in: {', '.join(map(str, small))} (too small to judge)."
    return ExhibitSpec(
        t, tier_leak_title(conc, basis["label"]),
        f"Accounts, MRR and churn per value tier (tiers as of {base}), {basis['label']}",
        "accounts, mrr", n=int(conc["accounts"].sum()),
        notes=notes,
        formats={"% accounts": "{:.0%}", "% MRR": "{:.0%}", "logo churn": "{:.1%}",
                 f"MRR ({currency})": "{:,.0f}", f"MRR lost ({currency})": "{:,.0f}",
                 "% of MRR lost": "{:.0%}"})


def stability_unavailable(gaps: list[str], since: Any) -> str:
    """One line instead of the tier-stability exhibit when the value inputs ``gaps``
    (:func:`playbook.analyses.segments.value_history_gaps`) hold no record on or before
    ``since``: tiers then would be today's tiers, and 'stable' would be an artefact."""
    names = {"mrr": "the MRR history", "usage": "usage", "csm_inputs": "the CSM inputs"}
    listed = [names.get(g, g) for g in gaps]
    what = tf.and_list(listed)
    return (f"Tier stability is not shown: {what} start after {day_text(since)}, so tiers "
            "on that date cannot be measured. Value inputs dated on or before it (MRR, usage "
            "and CSM inputs as they were then) would show how many accounts keep their tier.")


def stability_title(stab: Mapping[str, Any], stable_share: float, since: Any) -> str:
    """Rule: 'stable' when at least ``stable_share`` of the accounts kept their tier."""
    n = stab.get("n", 0)
    if not n:
        return "No account was active at both dates, so tier stability cannot be judged"
    moved = n - stab["stayed"]
    share = stab["share_stayed"]
    if share >= stable_share:
        return (f"Tiers are stable: {tf.pct(share, 0)} of accounts kept their tier since "
                f"{day_text(since)}; {tf.plural(moved, 'account')} would move")
    return (f"Tiers are not stable: only {tf.pct(share, 0)} of accounts kept their tier since "
            f"{day_text(since)}; {stab['moved_down']:,} would move down and "
            f"{stab['moved_up']:,} up")


def tier_stability(stab: Mapping[str, Any], stable_share: float, since: Any) -> ExhibitSpec:
    m = stab["matrix"]
    t = m.copy()
    t.columns = [f"now {c}" for c in t.columns]
    total = m.sum(axis=1)
    kept = pd.Series([m.loc[i, i] if i in m.columns else 0 for i in m.index], index=m.index)
    t["kept tier"] = (kept / total.where(total > 0)).astype(float)
    t = t.reset_index().rename(columns={t.index.name or "index": f"tier on {day_text(since)}"})
    return ExhibitSpec(
        t, stability_title(stab, stable_share, since),
        f"Accounts active on both dates by value tier on {day_text(since)} (rows) and now "
        "(columns)", "accounts, mrr, usage, csm_inputs", n=int(stab.get("n", 0)),
        notes=f"Same value weights and tier rule at both dates. Called stable when at least "
              f"{tf.pct(stable_share, 0)} keep their tier (value.stable_share).",
        formats={"kept tier": "{:.0%}"})
