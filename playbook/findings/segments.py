"""Exhibits and sentences of the value, lifecycle and health section."""

from __future__ import annotations

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec

FLAG_LABELS = {
    "flag_renewal_no_exec": "Renewal due, no executive contact recently",
    "flag_single_threaded": "Single-threaded: too few strong executive relationships",
    "flag_adoption_no_users": "Strong adoption but no user relationships",
    "flag_drop_no_user_contact": "Usage fell and no recent user contact",
}


def pyramid_title(conc: pd.DataFrame) -> str:
    """Rule: name the tier that loses the largest share of MRR; call it 'the middle' when it
    is neither the top nor the bottom tier."""
    if conc.empty:
        return "No active accounts to tier"
    top = conc.index[0]
    share_top_accounts = conc.loc[top, "share_accounts"]
    share_top_mrr = conc.loc[top, "share_mrr"]
    return (f"The top {tf.pct(share_top_accounts, 0)} of accounts hold "
            f"{tf.pct(share_top_mrr, 0)} of MRR")


def value_pyramid(conc: pd.DataFrame) -> ExhibitSpec:
    fig, ax = charts.new_figure(1.9)
    charts.pyramid(conc[["share_accounts", "share_mrr"]], ax)
    return ExhibitSpec(
        fig, pyramid_title(conc),
        "Value tiers: share of active accounts vs share of MRR, as of the period end",
        "accounts, mrr, usage, csm_inputs", n=int(conc["accounts"].sum()),
        notes="Tiers by value score (contract value weighs most, then growth room and "
              "value beyond revenue); tier shares of accounts from params.")


def tier_table(conc: pd.DataFrame, currency: str) -> ExhibitSpec:
    t = conc[["accounts", "share_accounts", "mrr", "share_mrr", "churn_rate", "mrr_lost"]]
    t = t.reset_index().rename(columns={
        t.index.name or "index": "tier", "accounts": "accounts",
        "share_accounts": "% accounts", "mrr": f"MRR ({currency})", "share_mrr": "% MRR",
        "churn_rate": "churn rate", "mrr_lost": f"MRR lost ({currency})"})
    title = tier_leak_title(conc)
    return ExhibitSpec(
        t, title, "Accounts, MRR and churn per value tier (tiers as of 12 months ago), "
        "trailing 12 months",
        "accounts, churn_events", n=int(conc["accounts"].sum()),
        formats={"% accounts": "{:.0%}", "% MRR": "{:.0%}", "churn rate": "{:.1%}",
                 f"MRR ({currency})": "{:,.0f}", f"MRR lost ({currency})": "{:,.0f}"})


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


def lifecycle_title(stages: pd.Series) -> str:
    counts = stages.value_counts()
    if counts.empty:
        return "No active accounts to place in the lifecycle"
    top = counts.idxmax()
    return (f"Most accounts are '{top}' ({tf.pct(counts.max() / counts.sum(), 0)}); "
            f"{tf.pct(counts.get('Onboarding', 0) / counts.sum(), 0)} are still onboarding")


def lifecycle(stages: pd.Series) -> ExhibitSpec:
    counts = stages.value_counts().reindex(stages.cat.categories
                                           if hasattr(stages, "cat") else None).fillna(0)
    fig, ax = charts.new_figure(0.3 * len(counts) + 0.8)
    ordered = counts.iloc[::-1]
    ax.barh([str(i) for i in ordered.index], ordered.to_numpy(), color=charts.ACCENT,
            height=0.6)
    for y, v in enumerate(ordered.to_numpy()):
        ax.text(v, y, f" {int(v):,}", va="center", fontsize=8)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ExhibitSpec(fig, lifecycle_title(stages),
                       "Active accounts by lifecycle stage, as of the period end",
                       "accounts, onboarding, usage, mrr", n=int(counts.sum()))


def health_title(outcomes: pd.DataFrame) -> str:
    """Rule: the score 'predicts' when churn falls from red to green with non-overlapping
    intervals; otherwise say the separation is weak."""
    bands = [b for b in ("red", "yellow", "green") if b in outcomes.index]
    if len(bands) < 2:
        return "Too few scored renewals to test the health score"
    red, green = outcomes.loc[bands[0]], outcomes.loc[bands[-1]]
    if red["churn_rate_low"] > green["churn_rate_high"]:
        return (f"The health score predicts churn: {bands[0]} accounts churned at "
                f"{tf.pct(red['churn_rate'], 0)} against {tf.pct(green['churn_rate'], 0)} "
                f"for {bands[-1]}")
    return (f"The health score separates churners weakly: {tf.pct(red['churn_rate'], 0)} "
            f"churn in {bands[0]} vs {tf.pct(green['churn_rate'], 0)} in {bands[-1]}")


def health_outcomes(outcomes: pd.DataFrame) -> ExhibitSpec:
    rows = outcomes.drop(index="total", errors="ignore").reset_index()
    rows = rows.rename(columns={rows.columns[0]: "group"})
    rows["low"], rows["high"] = rows["churn_rate_low"], rows["churn_rate_high"]
    rows["too_small"] = rows.get("small_sample", False)
    fig, ax = charts.new_figure(1.6)
    charts.rates_with_intervals(rows, ax, label_col="group", rate="churn_rate", low="low",
                                high="high", n="n", small="too_small")
    return ExhibitSpec(
        fig, health_title(outcomes),
        "Churn rate of renewal decisions by health band at the cut-off, with 95% intervals",
        "usage, surveys, tickets, csm_inputs, renewals", n=int(rows["n"].sum()),
        notes="Health scored as of 90 days before each decision of the trailing 12 months.")


def flags_title(flags: pd.DataFrame, mrr: pd.Series, currency: str) -> str:
    flagged = flags["flags"] > 0
    return (f"{int(flagged.sum()):,} active accounts carry a relationship-risk flag, "
            f"holding {tf.money(mrr.reindex(flags.index[flagged]).sum(), currency)} of MRR")


def flags_table(flags: pd.DataFrame, mrr: pd.Series, currency: str) -> ExhibitSpec:
    rows = []
    for col, label in FLAG_LABELS.items():
        if col not in flags:
            continue
        hit = flags[col].fillna(False).astype(bool)
        rows.append({"flag": label, "accounts": int(hit.sum()),
                     f"MRR ({currency})": float(mrr.reindex(flags.index[hit]).sum())})
    table = pd.DataFrame(rows)
    return ExhibitSpec(table, flags_title(flags, mrr, currency),
                       "Relationship-risk flags of active accounts, as of the period end",
                       "contacts, touches, usage, accounts", n=len(flags),
                       formats={f"MRR ({currency})": "{:,.0f}"})


def health_sentence(scored: pd.DataFrame) -> str:
    bands = scored["health_band"].value_counts(normalize=True)
    measures = scored["measures_used"].dropna()
    used = measures.mode().iloc[0].replace(",", ", ").replace("_", " ") if len(
        measures) else "no measures"
    return (f"Of {len(scored):,} active accounts, {tf.pct(bands.get('green', 0), 0)} score "
            f"green, {tf.pct(bands.get('yellow', 0), 0)} yellow and "
            f"{tf.pct(bands.get('red', 0), 0)} red. Each score is the weighted sum of its "
            f"measures ({used}); the weights and bands are parameters.")
