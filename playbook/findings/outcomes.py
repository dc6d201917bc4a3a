"""Exhibits and sentences of the outcomes and trigger-events section.

Every number comes from the analysis results passed in (:mod:`playbook.analyses.outcomes`,
:mod:`playbook.analyses.triggers`); titles are chosen by rules tested in
``tests/test_outcomes_findings.py``: an effect is called a rise only when it is significant
(interval excluding 1; for triggers, also after Holm's correction across the types), else the
title says "not significant".
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.analyses.outcomes import BANDS, OutcomeEffect
from playbook.analyses.stats import wilson_interval
from playbook.exhibits import ExhibitSpec

#: Trigger type -> words in a table and after "after" in a sentence.
TYPE_LABELS = {
    "champion_left": ("champion left", "a champion leaves"),
    "exec_change": ("executive change", "an executive change"),
    "reorg": ("reorganisation", "a reorganisation"),
    "merger_acquisition": ("merger or acquisition", "a merger or acquisition"),
    "budget_cut": ("budget cut", "a budget cut"),
    "layoffs": ("layoffs", "layoffs"),
    "funding": ("funding", "a funding round"),
    "new_project": ("new project", "a new project"),
    "other": ("other", "another recorded event"),
}


def type_label(code: str) -> str:
    """A trigger code in words for a table ("champion left"); unknown codes as given."""
    return TYPE_LABELS.get(code, (str(code).replace("_", " "),))[0]


def _after(code: str) -> str:
    return TYPE_LABELS.get(code, ("", f"a {str(code).replace('_', ' ')} event"))[1]


def _times(x: float) -> str:
    return f"{x:.1f} times"


# --------------------------------------------------------------------------- outcomes
def outcomes_title(bands: pd.DataFrame, effect: OutcomeEffect | None) -> str:
    """Rule: the met band's renewal rate against every other decision's; the adjusted odds
    ratio only when its interval excludes 1, else "not significant"; without a model, the
    rates alone (no claim)."""
    met = bands.loc[BANDS[3]]
    rest = bands.drop(index=BANDS[3])
    rest_rate = rest["renewed"].sum() / rest["decisions"].sum() if rest["decisions"].sum() else None
    if not met["decisions"] or rest_rate is None:
        return "No renewal decision yet rests on a met success outcome"
    head = (f"Accounts that met their success outcomes renewed {tf.pct(met['rate'], 0)} of the "
            f"time, against {tf.pct(rest_rate, 0)} for the rest")
    if effect is None:
        return head
    if effect.significant and effect.odds_ratio > 1:
        return f"{head}: renewal odds {_times(effect.odds_ratio)} higher after the other drivers"
    if effect.significant:
        return f"{head}: renewal odds {_times(1 / effect.odds_ratio)} lower after the other drivers"
    return f"{head}, a difference that is not significant after the other drivers"


def outcomes_exhibit(bands: pd.DataFrame, effect: OutcomeEffect | None, *, cutoff_days: int,
                     lookback_days: int) -> ExhibitSpec:
    """Renewal rate by realised-value band with Wilson intervals (dot-and-interval chart)."""
    t = bands.reset_index().rename(columns={"band": "group"})
    t = t[t["decisions"] > 0].copy()
    t["too_small"] = t["decisions"] < 30
    fig, ax = charts.new_figure(height=1.45)
    charts.rates_with_intervals(t, ax, label_col="group", n="decisions")
    ax.set_xlabel("Renewal rate (95% interval)")
    notes = (f"Realised value = (value - baseline) / (target - baseline), capped at 0-100%, "
             f"latest measurement of each outcome in the {lookback_days} days to the cut-off "
             f"({cutoff_days} days before the renewal); met = every outcome at its target.")
    if effect is not None:
        notes += (f" Odds ratio met vs not, adjusted for the renewal drivers: "
                  f"{tf.number(effect.odds_ratio, 2)} (95% interval "
                  f"{tf.span(effect.low, effect.high, lambda v: tf.number(v, 2))}).")
    return ExhibitSpec(
        fig, outcomes_title(bands, effect),
        "Renewal rate by realised value of the account's success outcomes at the cut-off, "
        "past renewal decisions", "renewals, outcomes", n=int(bands["decisions"].sum()),
        n_of="renewal decisions", notes=notes)


def expansion_band_sentence(bands: pd.DataFrame, *, horizon_months: int) -> str:
    """Expansion of accounts with outcomes met against the rest, with Wilson intervals; a
    difference is claimed only when the intervals do not overlap."""
    met = bands.loc[BANDS[3]]
    rest = bands.drop(index=BANDS[3])
    n, k = int(rest["units"].sum()), int(rest["expanded"].sum())
    if not met["units"] or not n:
        return ""
    lo, hi = wilson_interval(k, n)
    rate = k / n
    text = (f"Within {horizon_months} months of a cut-off, {tf.pct(met['rate'], 0)} of accounts "
            f"with their outcomes met expanded "
            f"({tf.span(met['low'], met['high'], lambda v: tf.pct(v, 0))}), against "
            f"{tf.pct(rate, 0)} of the rest ({tf.span(lo, hi, lambda v: tf.pct(v, 0))})")
    apart = met["low"] > hi or met["high"] < lo
    return text + ("." if apart else ": the intervals overlap, so no difference is claimed.")


def coverage_sentence(coverage: pd.DataFrame, *, lookback_days: int) -> str:
    """How many active accounts have agreed outcomes, and the top tier's gap."""
    total = coverage.loc["total"]
    tiers = coverage.drop(index="total")
    text = (f"{tf.pct(total['share'], 0)} of active accounts ({tf.count(total['with_outcomes'])} "
            f"of {tf.count(total['accounts'])}) have agreed success outcomes")
    if len(tiers):
        top = tiers.index[0]
        row = tiers.iloc[0]
        text += (f"; {tf.count(row['without'])} of the {tf.count(row['accounts'])} "
                 f"{tf.md_escape(top)}-tier accounts have none")
    if not tf.is_missing(total["realised"]):
        text += (f". Those measured in the last {lookback_days} days have realised "
                 f"{tf.pct(total['realised'], 0)} of their targets on average")
    return text + "."


# --------------------------------------------------------------------------- triggers
def _significant(effects: pd.DataFrame, outcome: str) -> pd.DataFrame:
    e = effects[(effects["outcome"] == outcome) & effects["significant"]]
    return e.sort_values("odds_ratio", ascending=False)


def triggers_title(effects: pd.DataFrame, *, window_days: int, horizon_months: int) -> str:
    """Rule: the largest significant churn rise, else the largest significant expansion rise,
    else (a fall, or nothing) "no trigger significantly ..."."""
    churn = _significant(effects, "churn")
    churn = churn[churn["odds_ratio"] > 1]
    if len(churn):
        r = churn.iloc[0]
        return (f"Churn odds rise {_times(r['odds_ratio'])} at renewals in the {window_days} "
                f"days after {_after(r['type'])}")
    grow = _significant(effects, "expansion")
    grow = grow[grow["odds_ratio"] > 1]
    if len(grow):
        r = grow.iloc[0]
        return (f"Expansion odds rise {_times(r['odds_ratio'])} in the {horizon_months} months "
                f"after {_after(r['type'])}")
    return "No trigger event significantly raises the odds of churn or expansion"


def triggers_exhibit(effects: pd.DataFrame, *, window_days: int, horizon_months: int
                     ) -> ExhibitSpec:
    """Forest plots side by side: odds ratio of churn (adjusted) and of expansion per type."""
    charts.apply_house_style()
    fig, axes = plt.subplots(1, 2, figsize=(charts.REPORT_WIDTH_IN, 2.0))
    shown = 0
    for ax, (outcome, label) in zip(axes, (("churn", "Churn odds ratio"),
                                           ("expansion", "Expansion odds ratio")),
                                    strict=True):
        t = effects[(effects["outcome"] == outcome) & effects["odds_ratio"].notna()].copy()
        t["label"] = t["type"].map(type_label)
        shown += len(t)
        if len(t):
            charts.forest(t, ax, low="or_low", high="or_high", label_col="label",
                          xlabel=label)
        else:
            ax.set_axis_off()
    few = effects[effects["odds_ratio"].isna()]
    notes = (f"Churn: renewals with the trigger in the {window_days} days before vs without, "
             "adjusted for the renewal drivers. Expansion: the expansion model's rise within "
             f"{horizon_months} months of a monthly cut-off, trigger in the month before vs "
             "none. Grey: interval crosses 1; significance Holm-corrected across the types.")
    if len(few):
        notes += (" Too few to estimate: "
                  + tf.and_list(sorted({type_label(c) for c in few["type"]})) + ".")
    return ExhibitSpec(
        fig, triggers_title(effects, window_days=window_days, horizon_months=horizon_months),
        "Odds ratio of churn and of expansion after each trigger type, 95% intervals, log "
        "scale",
        "triggers, renewals, mrr", n=int(effects.groupby("outcome")["exposed"].sum().sum()),
        n_of="exposed renewals and cut-offs", notes=notes)


def triggers_sentence(effects: pd.DataFrame, *, window_days: int, horizon_months: int) -> str:
    """Every significant effect with its interval, then how many types are not significant."""
    parts = []
    for outcome, when in (("churn", f"in the {window_days} days"),
                          ("expansion", f"in the {horizon_months} months")):
        for _, r in _significant(effects, outcome).iterrows():
            verb = "rise" if r["odds_ratio"] > 1 else "fall"
            size = max(r["odds_ratio"], 1 / r["odds_ratio"])
            parts.append(f"{outcome} odds {verb} {_times(size)}"
                         f" {when} after {tf.md_escape(_after(r['type']))} (95% interval "
                         f"{tf.span(r['or_low'], r['or_high'], lambda v: tf.number(v, 2))})")
    tested = effects[effects["odds_ratio"].notna()]
    rest = int((~tested["significant"]).sum())
    text = (tf.and_list(parts)[0].upper() + tf.and_list(parts)[1:] + ". ") if parts else ""
    text += (f"The other {rest} estimates are not significant." if parts
             else f"None of the {len(tested)} estimates is significant.")
    return text


def open_title(open_list: pd.DataFrame, *, days: int, currency: str, touches: bool) -> str:
    """Rule: count and MRR of the open list, or that every recent trigger was followed up."""
    if not len(open_list):
        return f"Every account with a trigger in the last {days} days has been contacted since"
    n, mrr = len(open_list), open_list["mrr"].sum()
    since = "has had no logged touch since" if touches else "is listed (no touches sent)"
    noun = "account" if n == 1 else "accounts"
    verb = since if n == 1 else since.replace("has had", "have had").replace("is listed",
                                                                              "are listed")
    return (f"{tf.count(n)} {noun} with {tf.money(mrr, currency)} MRR had a trigger in the "
            f"last {days} days and {verb}")


def open_exhibit(open_list: pd.DataFrame, names: pd.Series | None, *, days: int, rows: int,
                 currency: str, touches: bool) -> ExhibitSpec:
    """The open trigger list, largest MRR first, capped at ``rows`` (all in results.json
    and the workbook)."""
    top = open_list.head(rows)
    label = [names.get(a, a) if names is not None and isinstance(names.get(a), str) else a
             for a in top.index]
    table = pd.DataFrame({
        "Account": label, "Owner": top["owner"].fillna("").to_numpy(),
        f"MRR ({currency})": top["mrr"].to_numpy(),
        "Trigger": [type_label(t) for t in top["type"]],
        "Date": [tf.date(d) for d in top["trigger_date"]],
        "Days since": top["days_since"].to_numpy()})
    shown = (f"The {len(top)} largest by MRR of {tf.count(len(open_list))}; every one is in "
             "results.json and the account workbook." if len(open_list) > rows else "")
    return ExhibitSpec(
        table, open_title(open_list, days=days, currency=currency, touches=touches),
        f"Active accounts with a trigger in the last {days} days and no touch on or after it",
        "triggers, touches, accounts", n=len(open_list), notes=shown)



# --------------------------------------------------------------------------- survival
def _cox_lead(cox: pd.DataFrame) -> pd.Series | None:
    """The fitted type to speak of: the largest hazard ratio among those whose interval
    excludes 1, else the smallest p-value; None when no type was fitted."""
    fitted = cox[cox["hazard_ratio"].notna()]
    if not len(fitted):
        return None
    apart = fitted[(fitted["hr_low"] > 1) | (fitted["hr_high"] < 1)]
    if len(apart):
        return apart.sort_values("hazard_ratio", ascending=False).iloc[0]
    return fitted.sort_values("p_value").iloc[0]


def cox_sentence(cox: pd.DataFrame, *, window_days: int) -> str:
    """One sentence: the Cox hazard ratio of churn while a trigger is recent, with its 95%
    interval (:func:`_cox_lead`'s type; "not significant" when the interval crosses 1);
    empty when no type has enough churns in its windows."""
    r = _cox_lead(cox)
    if r is None:
        return ""
    hr = r["hazard_ratio"]
    ci = tf.span(r["hr_low"], r["hr_high"], lambda v: tf.number(v, 2))
    text = (f"In a Cox model with the trigger as a time-varying covariate, the monthly churn "
            f"hazard in the {window_days} days after {tf.md_escape(_after(str(r.name)))} is "
            f"{tf.number(hr, 2)} times that at other times (95% interval {ci})")
    fitted = int(cox["hazard_ratio"].notna().sum())
    if r["hr_low"] <= 1 <= r["hr_high"]:
        return text + f": not significant, nor is any of the {fitted} types fitted."
    return text + "."


def trigger_survival_title(readings: pd.DataFrame, kind: str) -> str:
    """Rule: survival 12 months after the type's trigger against the matched accounts',
    read from the Kaplan-Meier curves (no claim of a difference: the Cox sentence makes
    it)."""
    r = readings[readings["type"] == kind].set_index("group")
    hit, base = r.loc["trigger", "survival_12m"], r.loc["matched", "survival_12m"]
    if tf.is_missing(hit) or tf.is_missing(base):
        return f"Survival after {_after(kind)} cannot yet be read at 12 months"
    return (f"12 months after {_after(kind)}, {tf.pct(hit, 0)} of accounts are still "
            f"customers, against {tf.pct(base, 0)} of matched accounts (same segment and date) "
            "without one")


def trigger_survival_exhibit(curves: pd.DataFrame, readings: pd.DataFrame,
                             cox: pd.DataFrame, *, window_days: int, panels: int = 3
                             ) -> ExhibitSpec:
    """Kaplan-Meier curves from the trigger date, trigger vs matched, one panel per type:
    the Cox lead type first, then the other fitted types by hazard ratio, up to ``panels``.
    ``curves``: :func:`playbook.analyses.survival.kaplan_meier` rows with a ``type`` column;
    ``readings``: :func:`playbook.analyses.survival.survival_at` rows with ``type``."""
    order = [t for t in cox.sort_values("hazard_ratio", ascending=False).index
             if t in set(curves["type"])]
    lead = _cox_lead(cox)
    if lead is not None:
        order = [lead.name, *[t for t in order if t != lead.name]]
    order = order[:panels]
    charts.apply_house_style()
    fig, axes = plt.subplots(1, len(order), figsize=(charts.REPORT_WIDTH_IN, 2.2),
                             squeeze=False)
    for ax, kind in zip(axes[0], order, strict=True):
        c = curves[curves["type"] == kind].copy()
        c["group"] = c["group"].map({"trigger": type_label(kind), "matched": "matched"})
        charts.survival_curves(c, ax, highlight=type_label(kind), min_at_risk=5)
        ax.set_xlabel("Months since the trigger")
        ax.set_ylabel("Still a customer" if ax is axes[0][0] else "")
    n = int(readings.loc[readings["group"] == "trigger", "n"].sum())
    notes = ("Kaplan-Meier, 95% band on the trigger curve; each account from its first trigger "
             "of the type, each matched account (none of the type, same segment) from the same "
             "date: matched on segment and date only. Curves stop below 5 accounts at risk. "
             f"Cox: trigger as a time-varying covariate, exposed {window_days} days.")
    return ExhibitSpec(
        fig, trigger_survival_title(readings, order[0]),
        "Share of accounts still customers by months since a trigger, against matched "
        "accounts without one", "triggers, accounts, churn_events", n=n,
        n_of="accounts with a trigger", notes=notes)
