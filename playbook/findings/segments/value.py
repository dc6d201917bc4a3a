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
    return (f"The top {tf.pct(conc.loc[top, 'share_accounts'], 0)} of accounts hold "
            f"{tf.pct(conc.loc[top, 'share_mrr'], 0)} of MRR")


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


def tier_leak_title(conc: pd.DataFrame) -> str:
    """Rule: name the tier losing the largest share of MRR; call it 'the middle of the base'
    when it is neither the top nor the bottom tier (domain.md: the middle leaks most)."""
    lost = conc["share_mrr_lost"] if "share_mrr_lost" in conc else pd.Series(dtype=float)
    if lost.dropna().empty or lost.fillna(0).sum() == 0:
        return "No MRR was lost to churn in any value tier over the last 12 months"
    leak = lost.idxmax()
    middle = leak not in (conc.index[0], conc.index[-1])
    where = f"the middle of the base ({leak} tier)" if middle else f"the {leak} tier"
    return (f"Most lost MRR comes from {where}: {tf.pct(lost[leak], 0)} of it, with "
            f"{tf.pct(conc.loc[leak, 'churn_rate'], 0)} of those accounts churning")


def tier_table(conc: pd.DataFrame, currency: str) -> ExhibitSpec:
    t = conc[["accounts", "share_accounts", "mrr", "share_mrr", "churn_rate", "mrr_lost",
              "share_mrr_lost"]]
    t = t.reset_index().rename(columns={
        t.index.name or "index": "tier", "share_accounts": "% accounts",
        "mrr": f"MRR ({currency})", "share_mrr": "% MRR", "churn_rate": "logo churn",
        "mrr_lost": f"MRR lost ({currency})", "share_mrr_lost": "% of MRR lost"})
    small = conc.index[conc.get("small_sample", pd.Series(False, index=conc.index))]
    notes = "MRR as of 12 months ago; MRR lost as recorded on the churn events."
    if len(small):
        notes += f" Fewer than 30 accounts in: {', '.join(map(str, small))} (too small to judge)."
    return ExhibitSpec(
        t, tier_leak_title(conc),
        "Accounts, MRR and churn per value tier (tiers as of 12 months ago), trailing 12 "
        "months", "accounts, mrr, churn_events", n=int(conc["accounts"].sum()),
        notes=notes,
        formats={"% accounts": "{:.0%}", "% MRR": "{:.0%}", "logo churn": "{:.1%}",
                 f"MRR ({currency})": "{:,.0f}", f"MRR lost ({currency})": "{:,.0f}",
                 "% of MRR lost": "{:.0%}"})


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
