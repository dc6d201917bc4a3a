"""Exhibits and sentences of the value, lifecycle, health, relationship and CLV section.

Every number comes from the analysis results passed in; titles are chosen by rules from
those numbers (tested in ``tests/test_findings_segments.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec

FLAG_LABELS = {
    "flag_renewal_no_exec": "Renewal: due, no recent executive contact",
    "flag_single_threaded": "1-thread: too few strong executive ties",
    "flag_adoption_no_users": "Champions: strong adoption, no user ties",
    "flag_drop_no_user_contact": "Drop: usage fell, no recent user contact",
}
FLAG_SHORT = {
    "flag_renewal_no_exec": "renewal",
    "flag_single_threaded": "1-thread",
    "flag_adoption_no_users": "champions",
    "flag_drop_no_user_contact": "drop",
}
FLAG_ACTIONS = {
    "flag_renewal_no_exec": "Quick outreach: executive call before the renewal",
    "flag_single_threaded": "Multi-thread: add a strong executive relationship",
    "flag_adoption_no_users": "Build champions among the active users",
    "flag_drop_no_user_contact": "Emergency help: reach the users this week",
}
MEASURE_LABELS = {
    "usage": "Usage",
    "nps": "NPS",
    "products": "Products owned",
    "tickets": "Ticket load",
    "executive_relationship": "Executive relationship",
    "champion_quality": "Champion quality",
}
MEASURE_SHORT = {
    "usage": "usage", "nps": "NPS", "products": "products", "tickets": "tickets",
    "executive_relationship": "exec rel.", "champion_quality": "champion",
}


def measure_label(m: str) -> str:
    return MEASURE_LABELS.get(m, m.replace("_", " ").capitalize())


def _day(ts: Any) -> str:
    return pd.Timestamp(ts).strftime("%d %b %Y").lstrip("0")


def _more_note(shown: int, total: int, what: str, mrr_rest: float | None = None,
               currency: str = "USD") -> str:
    rest = total - shown
    if rest <= 0:
        return ""
    text = f"Showing {shown} of {total:,} {what}; {rest:,} more not shown"
    if mrr_rest is not None:
        text += f" ({tf.money(mrr_rest, currency)} of MRR)"
    return text + "."


# --------------------------------------------------------------------------- value pyramid
def pyramid_title(conc: pd.DataFrame) -> str:
    """The top tier's share of accounts against its share of MRR."""
    if conc.empty or conc["accounts"].sum() == 0:
        return "No active accounts to tier"
    top = conc.index[conc["accounts"] > 0][0]  # the highest tier that has accounts
    return (f"The top {tf.pct(conc.loc[top, 'share_accounts'], 0)} of accounts hold "
            f"{tf.pct(conc.loc[top, 'share_mrr'], 0)} of MRR")


def value_pyramid(conc: pd.DataFrame, *, method: str = "shares") -> ExhibitSpec:
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
                f"{_day(since)}; {tf.plural(moved, 'account')} would move")
    return (f"Tiers are not stable: only {tf.pct(share, 0)} of accounts kept their tier since "
            f"{_day(since)}; {stab['moved_down']:,} would move down and "
            f"{stab['moved_up']:,} up")


def tier_stability(stab: Mapping[str, Any], stable_share: float, since: Any) -> ExhibitSpec:
    m = stab["matrix"]
    t = m.copy()
    t.columns = [f"now {c}" for c in t.columns]
    total = m.sum(axis=1)
    kept = pd.Series([m.loc[i, i] if i in m.columns else 0 for i in m.index], index=m.index)
    t["kept tier"] = (kept / total.where(total > 0)).astype(float)
    t = t.reset_index().rename(columns={t.index.name or "index": f"tier on {_day(since)}"})
    return ExhibitSpec(
        t, stability_title(stab, stable_share, since),
        f"Accounts active on both dates by value tier on {_day(since)} (rows) and now "
        "(columns)", "accounts, mrr, usage, csm_inputs", n=int(stab.get("n", 0)),
        notes=f"Same value weights and tier rule at both dates. Called stable when at least "
              f"{tf.pct(stable_share, 0)} keep their tier (value.stable_share).",
        formats={"kept tier": "{:.0%}"})


# --------------------------------------------------------------------------- lifecycle
def lifecycle_title(summary: pd.DataFrame) -> str:
    counts = summary["accounts"]
    if counts.sum() == 0:
        return "No active accounts to place in the lifecycle"
    top = counts.idxmax()
    first = summary.index[0]
    if top == first:
        return (f"Most accounts are still in '{first}': "
                f"{tf.pct(counts.max() / counts.sum(), 0)} of them")
    return (f"Most accounts are '{top}' ({tf.pct(counts.max() / counts.sum(), 0)}); "
            f"{tf.pct(counts.iloc[0] / counts.sum(), 0)} are still in '{first}'")


def _months_text(row: pd.Series) -> str:
    med = row.get("median_months")
    if tf.is_missing(med):
        return ""
    lower = "at least " if row.get("share_censored", 0) > 0.5 else ""
    return f"median {lower}{tf.plural(int(round(med)), 'month')} in stage"


def lifecycle(summary: pd.DataFrame, history_months: int) -> ExhibitSpec:
    notes = summary.apply(_months_text, axis=1)
    fig, ax = charts.new_figure(0.3 * len(summary) + 0.6)
    charts.ordered_bars(summary["accounts"], ax, annotations=notes)
    return ExhibitSpec(
        fig, lifecycle_title(summary),
        "Active accounts by lifecycle stage, and how long they have been in it, as of the "
        "period end", "accounts, onboarding, usage, mrr", n=int(summary["accounts"].sum()),
        notes=f"Time in stage from monthly stage snapshots over {history_months} months; "
              "'at least' where most accounts of the stage were in it the whole time.")


def stage_churn_title(conc: pd.DataFrame) -> str:
    """Rule: the stage that churned most 'churned most' only when its interval lies above
    the interval of the stage that churned least; small stages (n < 30) are ignored."""
    ok = conc.loc[~conc["small_sample"] & conc["churn_rate"].notna()]
    if len(ok) < 2:
        return "Too few accounts per lifecycle stage to compare churn"
    hi, lo = ok["churn_rate"].idxmax(), ok["churn_rate"].idxmin()
    if ok.loc[hi, "churn_rate_low"] > ok.loc[lo, "churn_rate_high"]:
        return (f"Accounts in '{hi}' a year ago churned most: "
                f"{tf.pct(ok.loc[hi, 'churn_rate'], 0)} against "
                f"{tf.pct(ok.loc[lo, 'churn_rate'], 0)} in '{lo}'")
    return (f"Churn differs little by lifecycle stage: from {tf.pct(ok['churn_rate'].min(), 0)}"
            f" to {tf.pct(ok['churn_rate'].max(), 0)}, with overlapping intervals")


def stage_churn(conc: pd.DataFrame) -> ExhibitSpec:
    rows = conc.loc[conc["accounts"] > 0].reset_index()
    rows = rows.rename(columns={rows.columns[0]: "group", "accounts": "n"})
    total = conc["churned_accounts"].sum() / max(conc["accounts"].sum(), 1)
    fig, ax = charts.new_figure(0.32 * len(rows) + 0.7)
    charts.rates_with_intervals(rows, ax, label_col="group", rate="churn_rate",
                                low="churn_rate_low", high="churn_rate_high", n="n",
                                small="small_sample", overall=total)
    return ExhibitSpec(
        fig, stage_churn_title(conc),
        "Logo churn over the trailing 12 months by lifecycle stage 12 months ago, with 95% "
        "intervals", "accounts, onboarding, usage, mrr, churn_events",
        n=int(conc["accounts"].sum()),
        notes="Hollow grey: fewer than 30 accounts, too small to judge.")


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
    note = _more_note(len(shown), len(stuck), "accounts", stuck["mrr"].iloc[top:].sum()
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
        f"Accounts that started {_day(cohort[0])} to {_day(cohort[1])}: share completing "
        "each key onboarding step, and days from start", "accounts, onboarding", n=n,
        notes="Cohort ends early enough for every account to have had time to finish; "
              "churned accounts are included.",
        formats={"% completed": "{:.0%}", "median days from start": "{:,.0f}",
                 "75th percentile days": "{:,.0f}"})


# --------------------------------------------------------------------------- health
def no_health_sentence(n_accounts: int) -> str:
    """Said instead of the scorecard when no active account has any health measure."""
    return (f"None of the {n_accounts:,} active accounts could be scored on health: the "
            "scorecard needs at least one of usage, surveys (NPS), tickets, products owned "
            "or CSM inputs (executive relationship, champion quality). Add them to the data "
            "request.")


def no_backtest_sentence(decisions: int, months: int) -> str:
    """Said instead of the backtest when no past decision could be scored."""
    if not decisions:
        return (f"No renewal decision in the last {months} months to test the health score "
                "against: the backtest needs the renewals or churn_events table and a year "
                "of history.")
    return (f"None of the {decisions:,} renewal decisions of the last {months} months could "
            "be scored at its cut-off (no health measure dated before it), so the score "
            "cannot be tested yet.")


def health_sentence(scored: pd.DataFrame) -> str:
    bands = scored["health_band"].value_counts(normalize=True)
    measures = scored["measures_used"].dropna()
    used = ", ".join(tf.md_escape(measure_label(m).lower()) if m != "nps" else "NPS"
                     for m in measures.mode().iloc[0].split(",")) if len(
        measures) and measures.mode().iloc[0] else "no measures"
    return (f"Of {len(scored):,} active accounts, {tf.pct(bands.get('green', 0), 0)} score "
            f"green, {tf.pct(bands.get('yellow', 0), 0)} yellow and "
            f"{tf.pct(bands.get('red', 0), 0)} red. Each score is the weighted sum of its "
            f"measures ({used}); a missing measure's weight is spread over the others. "
            "Weights and bands are parameters (health.weights, health.bands).")


def band_mix_title(mix: pd.DataFrame, small_n: int = 30) -> str:
    """Rule: name the group (of at least ``small_n`` scored accounts) with the largest red
    share, against the overall red share."""
    if "share_red" not in mix or mix.loc["All", "accounts"] == 0:
        return "No account scores in the red band"
    groups = mix.drop(index="All")
    groups = groups.loc[groups["accounts"] >= small_n]
    if groups.empty or groups["share_red"].max() == 0:
        return (f"{tf.pct(mix.loc['All', 'share_red'], 0)} of scored accounts are red; no "
                "group is large enough to compare")
    top = groups["share_red"].idxmax()
    return (f"{top} has the largest red share: {tf.pct(groups.loc[top, 'share_red'], 0)} of "
            f"its accounts against {tf.pct(mix.loc['All', 'share_red'], 0)} overall")


def band_mix(mix: pd.DataFrame, currency: str, small_n: int = 30) -> ExhibitSpec:
    share_cols = [c for c in mix.columns if c.startswith("share_")]
    shares = mix[share_cols].rename(columns=lambda c: c.removeprefix("share_"))
    labels = [f"{g} (n={int(n):,}{', too small' if n < small_n else ''})"
              for g, n in zip(mix.index, mix["accounts"], strict=True)]
    fig, ax = charts.new_figure(0.34 * len(mix) + 0.6)
    charts.stacked_shares(shares, ax, row_labels=labels)
    red_mrr = mix.loc["All", "mrr_red"] if "mrr_red" in mix else None
    notes = "Bands from params (health.bands; they may differ by segment)."
    if red_mrr is not None:
        notes += f" Red accounts hold {tf.money(red_mrr, currency)} of MRR."
    return ExhibitSpec(
        fig, band_mix_title(mix, small_n),
        "Share of active accounts per health band, by segment, as of the period end",
        "accounts, usage, surveys, tickets, csm_inputs", n=int(mix.loc["All", "accounts"]),
        notes=notes)


def examples_title(examples: pd.DataFrame) -> str:
    """An example from the table: its score, band and largest contribution."""
    if examples.empty:
        return "No account could be scored"
    green = examples.loc[examples["health_band"] == "green"]
    row = (green if len(green) else examples).iloc[0]
    contrib = row[[c for c in row.index if c.startswith("contrib_")]].astype(float).dropna()
    who = row.get("name") if isinstance(row.get("name"), str) else row.name
    if contrib.empty:
        return f"{who} scores {row['health_score']:.0f} ({row['health_band']})"
    top = contrib.idxmax().removeprefix("contrib_")
    return (f"Each score adds up from its measures: {who} scores {row['health_score']:.0f} "
            f"({row['health_band']}), {contrib.max():.0f} points of it from "
            f"{measure_label(top).lower() if top != 'nps' else 'NPS'}")


def health_examples(examples: pd.DataFrame, weights: Mapping[str, float], currency: str,
                    names: pd.Series | None = None) -> ExhibitSpec:
    ex = examples.copy()
    if names is not None:
        ex["name"] = names.reindex(ex.index)
    total_w = sum(w for w in weights.values() if w and w > 0)
    who = ex["name"].fillna(pd.Series(ex.index, index=ex.index)) if "name" in ex else (
        pd.Series(ex.index, index=ex.index))
    if "segment" in ex:
        who = [f"{a} ({s})" if isinstance(s, str) and s else str(a)
               for a, s in zip(who, ex["segment"], strict=True)]
    t = pd.DataFrame({"account (segment)": list(who)})
    formats = {"score": "{:.0f}"}
    for m, w in weights.items():
        if not w or w <= 0:
            continue
        head = f"{MEASURE_SHORT.get(m, m)} {w / total_w:.0%}"
        t[head] = ex[f"contrib_{m}"].to_numpy(dtype=float)
        formats[head] = "{:.1f}"
    t["score"] = ex["health_score"].to_numpy(dtype=float)
    t["band"] = ex["health_band"].to_numpy()
    return ExhibitSpec(
        t, examples_title(ex),
        "Points each measure adds to the 0-100 health score, for example accounts per band "
        "(column headers: measure and weight)", "usage, surveys, tickets, csm_inputs, "
        "accounts", n=len(t),
        notes="Points = weight x the measure's own 0-100 score; the points add up to the "
              "score. A dash: measure missing, its weight spread over the others. Examples: "
              "per band, the largest accounts measured on the most measures, one per segment "
              "first.",
        formats=formats)


# --------------------------------------------------------------------------- backtest
def predicts(auc: Mapping[str, float], min_auc: float) -> bool:
    """The score predicts when its AUC reaches ``min_auc`` and its interval excludes 0.5."""
    a = auc.get("auc")
    return not tf.is_missing(a) and a >= min_auc and auc.get("low", 0) > 0.5


def backtest_title(outcomes: pd.DataFrame, auc: Mapping[str, float], min_auc: float) -> str:
    """Rule: 'predicts' when the AUC reaches ``health.backtest_min_auc`` and its 95%
    interval lies above 0.5; 'only weakly' when the interval lies above 0.5 but the AUC is
    below the minimum; otherwise 'does not predict'."""
    a = auc.get("auc")
    bands = [b for b in outcomes.index if b != "total"]
    if tf.is_missing(a) or len(bands) < 2:
        return "Too few scored renewal decisions to test the health score"
    lo, hi = outcomes.loc[bands[0]], outcomes.loc[bands[-1]]
    rates = (f"{bands[0]} accounts renewed at {tf.pct(lo['renewal_rate'], 0)} against "
             f"{tf.pct(hi['renewal_rate'], 0)} for {bands[-1]}")
    if predicts(auc, min_auc):
        return f"The health score predicts renewal (AUC {a:.2f}): {rates}"
    if auc.get("low", 0) > 0.5:
        return f"The health score predicts renewal only weakly (AUC {a:.2f}): {rates}"
    return (f"The health score does not predict renewal: AUC {a:.2f}, its interval includes "
            "0.50 (a coin toss)")


def backtest_bands(outcomes: pd.DataFrame, auc: Mapping[str, float], min_auc: float,
                   months: int, cutoff_days: int) -> ExhibitSpec:
    rows = outcomes.drop(index="total", errors="ignore").reset_index()
    rows = rows.rename(columns={rows.columns[0]: "group"})
    rows["low"] = 1 - rows["churn_rate_high"]
    rows["high"] = 1 - rows["churn_rate_low"]
    fig, ax = charts.new_figure(0.36 * len(rows) + 0.6)
    overall = outcomes.loc["total", "renewal_rate"] if "total" in outcomes.index else None
    charts.rates_with_intervals(rows, ax, label_col="group", rate="renewal_rate", low="low",
                                high="high", n="n", small="small_sample", overall=overall)
    a = auc.get("auc")
    auc_text = ("AUC n/a" if tf.is_missing(a) else
                f"AUC {a:.2f} (95% interval {auc['low']:.2f}-{auc['high']:.2f})")
    return ExhibitSpec(
        fig, backtest_title(outcomes, auc, min_auc),
        f"Renewal rate of the decisions of the last {months} months by health band "
        f"{cutoff_days} days before the decision, with 95% intervals",
        "accounts, usage, surveys, tickets, csm_inputs, renewals",
        n=int(outcomes.loc["total", "n"]) if "total" in outcomes.index else None,
        notes=f"Score recomputed from data dated on or before each cut-off. {auc_text}; "
              "0.50 = a coin toss, 1 = perfect ranking. Downgrades count as renewed.")


def signal_title(signal: pd.DataFrame, cv: Mapping[str, Any] | None) -> str:
    """Rule: name the measure with the highest AUC of its own; add what regression weights
    would score on decisions they were not fitted on, against the current weights."""
    ok = signal.dropna(subset=["auc"])
    if ok.empty:
        return "No health measure could be tested against renewals"
    top = ok["auc"].idxmax()
    text = f"{measure_label(top)} carried most of the signal (AUC {ok.loc[top, 'auc']:.2f} alone)"
    prop = (cv or {}).get("auc_proposed", {}).get("auc")
    cur = (cv or {}).get("auc_current", {}).get("auc")
    if tf.is_missing(prop) or tf.is_missing(cur):
        return text
    if prop - cur >= 0.02:
        return text + f"; regression weights would lift the AUC from {cur:.2f} to {prop:.2f}"
    return text + (f"; regression weights would not do much better (AUC {prop:.2f} against "
                   f"{cur:.2f})")


def _interval(est: float, lo: float, hi: float) -> str:
    if tf.is_missing(est):
        return "n/a"
    if tf.is_missing(lo) or tf.is_missing(hi):
        return f"{est:.2f}"
    return f"{est:.2f} ({lo:.2f}-{hi:.2f})"


def measure_signal(signal: pd.DataFrame, reg: Mapping[str, Any],
                   cv: Mapping[str, Any] | None) -> ExhibitSpec:
    coefs = reg.get("coefficients", pd.DataFrame())
    proposed = reg.get("weights") or {}
    rows = []
    for m, r in signal.iterrows():
        c = coefs.loc[m] if m in coefs.index else None
        rows.append({
            "measure": measure_label(m),
            "weight now": r["weight"],
            "AUC alone": r["auc"],
            "AUC 95%": _range(r["auc_low"], r["auc_high"]),
            "odds ratio per 10 pts": None if c is None else c["odds_ratio"],
            "OR 95%": "not fitted" if c is None else _range(c["or_low"], c["or_high"]),
            "proposed weight": proposed.get(m, 0.0) if proposed else None,
        })
    t = pd.DataFrame(rows)
    fewest = signal["n"].idxmin() if len(signal) else None
    notes = ("AUC alone: how well the measure by itself ranks renewals. Odds ratios from a "
             "logistic regression of renewal on all measures (missing scores set to the "
             "measure's median); proposed weight = positive coefficient / sum of positive "
             "coefficients.")
    if fewest is not None and signal["n"].min() < signal["n"].max():
        notes += (f" Measures were available for {int(signal['n'].min()):,} "
                  f"({measure_label(fewest).lower() if fewest != 'nps' else 'NPS'}) to "
                  f"{int(signal['n'].max()):,} decisions.")
    if reg.get("error"):
        notes += f" The regression could not be fitted: {reg['error']}"
    if cv:
        cur, prop = cv["auc_current"], cv["auc_proposed"]
        notes += (f" On decisions held out by account ({cv['folds']} folds): AUC "
                  f"{_interval(cur['auc'], cur['low'], cur['high'])} with current weights, "
                  f"{_interval(prop['auc'], prop['low'], prop['high'])} with regression "
                  "weights.")
    return ExhibitSpec(
        t, signal_title(signal, cv),
        "Each health measure at the cut-off against the renewal outcome",
        "accounts, usage, surveys, tickets, csm_inputs, renewals",
        n=int(reg.get("n") or signal["n"].max()), notes=notes,
        formats={"weight now": "{:.0%}", "proposed weight": "{:.0%}", "AUC alone": "{:.2f}",
                 "odds ratio per 10 pts": "{:.2f}"})


def _range(lo: float, hi: float) -> str:
    return "n/a" if tf.is_missing(lo) or tf.is_missing(hi) else f"{lo:.2f}-{hi:.2f}"


def weights_sentence(reg: Mapping[str, Any], cv: Mapping[str, Any] | None,
                     weights: Mapping[str, float], auc: Mapping[str, float],
                     min_auc: float, min_gain: float = 0.02) -> str:
    """What to do with the weights. Rules: keep them when the score predicts (and name the
    regression's shifts for the next revision); when it does not, propose the regression's
    weights if they lift the held-out AUC by at least ``min_gain``, else say reweighting
    alone will not fix the score. Markdown: measure names (parameter keys) and the
    regression's error are escaped."""
    proposed = reg.get("weights") or {}
    a = auc.get("auc")
    if predicts(auc, min_auc):
        verdict = "The score predicts renewal as weighted."
    elif not tf.is_missing(a) and auc.get("low", 0) > 0.5:
        verdict = (f"As weighted, the score predicts renewal only weakly (AUC {a:.2f}, below "
                   f"the {min_auc:.2f} set in health.backtest_min_auc).")
    else:
        verdict = (f"As weighted, the score does not predict renewal (AUC "
                   f"{tf.number(a, 2)}).")
    if not proposed:
        return (f"{verdict} The renewal regression on the measures gave no usable weights"
                + (f" ({tf.md_escape(reg['error'])})" if reg.get("error") else "")
                + "; revisit them with more renewal history.")
    total = sum(w for w in weights.values() if w and w > 0)
    changes = sorted(proposed, key=lambda m: abs(proposed[m] - weights.get(m, 0) / total),
                     reverse=True)
    parts = "; ".join(f"{tf.md_escape(measure_label(m).lower()) if m != 'nps' else 'NPS'} "
                      f"{tf.pct(weights.get(m, 0) / total, 0)} to {tf.pct(proposed[m], 0)}"
                      for m in changes[:3])
    prop = (cv or {}).get("auc_proposed", {}).get("auc")
    cur = (cv or {}).get("auc_current", {}).get("auc")
    known = not (tf.is_missing(prop) or tf.is_missing(cur))
    gain = f" (AUC {cur:.2f} to {prop:.2f} on decisions not used to fit)" if known else ""
    if predicts(auc, min_auc):
        return (f"{verdict} The driver regression on the same measures would move most "
                f"weight as follows: {parts}{gain}. Consider it at the next scorecard "
                "revision.")
    if known and prop - cur < min_gain:
        return (f"{verdict} Reweighting alone would not fix it: the regression's weights "
                f"({parts}) reach AUC {prop:.2f} on decisions not used to fit, against "
                f"{cur:.2f} now. The scorecard needs measures closer to what drives renewal "
                "(the renewal drivers section), beside the weight shift.")
    return (f"{verdict} We propose the regression's weights: {parts}{gain}; set them in "
            "health.weights and rerun the backtest.")


# --------------------------------------------------------------------------- relationships
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
    undecided = summary["undecided"].sum() if "undecided" in summary else 0
    notes = "An account may carry several flags. Thresholds from params (thresholds.*)."
    if undecided:
        notes += (f" {undecided:,} flag checks could not be decided for lack of usage data.")
    return ExhibitSpec(
        t, flags_title(flags, mrr, currency),
        "Relationship-risk flags of active accounts: accounts, MRR, owners and the action "
        "each calls for, as of the period end", "contacts, touches, usage, accounts",
        n=len(flags), notes=notes,
        formats={f"MRR ({currency})": "{:,.0f}", "% of MRR": "{:.0%}"})


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
    note = _more_note(len(shown), len(pool), what, rest if len(pool) > top else None,
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


# --------------------------------------------------------------------------- CLV
def clv_title(table: pd.DataFrame, currency: str, horizon_months: int) -> str:
    """Rule: the top tier's CLV per account, and how many times the bottom tier's it is."""
    ok = table.dropna(subset=["clv"])
    ok = ok.loc[ok["accounts"] > 0]
    if ok.empty:
        return "Lifetime value cannot be computed: no tier has both accounts and observed churn"
    top, bottom = ok.index[0], ok.index[-1]
    years = f"{horizon_months / 12:g} years"
    text = (f"A {top}-tier account is worth {tf.money(ok.loc[top, 'clv'], currency)} of "
            f"margin over {years}")
    if top != bottom and ok.loc[bottom, "clv"] > 0:
        ratio = ok.loc[top, "clv"] / ok.loc[bottom, "clv"]
        text += f", {ratio:,.0f} times a {bottom}-tier account"
    return text


def clv_table(table: pd.DataFrame, currency: str, horizon_months: int) -> ExhibitSpec:
    t = table.reset_index()
    t = t.rename(columns={t.columns[0]: "tier"})
    out = pd.DataFrame({
        "tier": t["tier"].astype(str),
        "accounts": t["accounts"],
        f"ARPA ({currency}/month)": t["arpa"],
        "annual logo churn": t["annual_churn"],
        f"still a customer after {horizon_months} months": t["survival_end"],
        f"CLV, NPV of margin ({currency})": t["clv"],
        f"ARPA ÷ monthly churn ({currency})": t["simple_clv"],
    })
    return ExhibitSpec(
        out, clv_title(table, currency, horizon_months),
        "Customer lifetime value per account by value tier: net present value of expected "
        "margin, beside the simple rule of thumb", "accounts, mrr, churn_events",
        n=int(table["accounts"].sum()),
        notes="Assumptions below the exhibit." + (
            " A dash: no churn observed, so the rule of thumb is unbounded."
            if table["simple_clv"].isna().any() else ""),
        formats={f"ARPA ({currency}/month)": "{:,.0f}", "annual logo churn": "{:.1%}",
                 f"still a customer after {horizon_months} months": "{:.0%}",
                 f"CLV, NPV of margin ({currency})": "{:,.0f}",
                 f"ARPA ÷ monthly churn ({currency})": "{:,.0f}"})


def clv_assumptions(*, gross_margin: float, discount_rate: float, horizon_months: int,
                    window: tuple[Any, Any], total: float | None, currency: str) -> str:
    book = ("" if total is None or tf.is_missing(total) else
            f" On these assumptions the active base is worth {tf.money(total, currency)}.")
    return (f"Assumptions (clv.* parameters): CLV = MRR x gross margin "
            f"{tf.pct(gross_margin, 0)} x the chance the customer is still there each month, "
            f"discounted at {tf.pct(discount_rate, 0)} a year, over {horizon_months} months. "
            "The chance of staying is (1 - annual churn) ^ (months / 12), with each tier's "
            f"logo churn over the 12 months from {_day(window[0])} to {_day(window[1])} "
            "(tiers as they stood then); annual contracts really lose customers at renewal, "
            "so this smooths a step curve. The rule of thumb, monthly revenue / monthly "
            "churn, has no margin, discounting or horizon, so it overstates value, most "
            "where churn is low." + book)
