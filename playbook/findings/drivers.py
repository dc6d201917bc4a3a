"""Exhibits and sentences of the renewal-driver section.

Every title and sentence is generated from the figures passed in, by rules that pick the
wording (tested in ``tests/test_findings_drivers.py``):

* a driver is *significant* when its 95% odds-ratio interval excludes 1; otherwise the text
  says "not significant";
* effects are stated as associations ("goes with", "renew ... less often"), never as causes:
  the model describes past renewals, it does not show that changing a driver changes the
  outcome;
* missing figures print "n/a" (``playbook.textfmt``) and change the wording, never "nan".
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec

#: Short labels (charts and tables), with the step each ratio is per.
LABELS = {
    "exec_sponsor": "Executive sponsor",
    "usage_decline": "Usage decline (3 months)",
    "seat_utilisation": "Seat utilisation (+10 pts)",
    "nps_detractor": "NPS detractor",
    "high_priority_tickets_90d": "High-priority tickets (each)",
    "days_since_exec_contact": "Days since exec contact (+30)",
    "days_since_user_contact": "Days since user contact (+30)",
    "strong_user_relationships": "Strong user relationships (each)",
    "exec_relationships": "Director+ relationships (each)",
    "tenure_years": "Tenure (per year)",
    "products": "Products owned (each)",
    "onboarding_steps": "Onboarding steps done (each)",
    "onboarding_incomplete": "Onboarding not finished",
    "contract_value": "Contract value (+1 SD)",
    "log2_contract_value": "Contract value (doubling)",
    "last_nps": "NPS score (per point)",
    "last_csat": "CSAT score (per point)",
    "tickets_90d": "Tickets (each)",
}

#: Plain-words subjects of the effect sentences ("... goes with ..."), per one step.
SUBJECTS = {
    "exec_sponsor": "Having an executive sponsor",
    "usage_decline": "A fall in active users over the three months before",
    "seat_utilisation": "Each 10 points more seat utilisation",
    "nps_detractor": "A detractor answer to the last NPS survey",
    "high_priority_tickets_90d": "Each high-priority ticket in the 90 days before",
    "days_since_exec_contact": "Every 30 days more since the last executive contact",
    "days_since_user_contact": "Every 30 days more since the last user contact",
    "strong_user_relationships": "Each strong user relationship",
    "tenure_years": "Each year of tenure",
    "products": "Each product owned",
    "onboarding_steps": "Each onboarding step completed",
    "onboarding_incomplete": "Onboarding not finished by the cut-off",
    "log2_contract_value": "A contract twice as large",
    "contract_value": "A contract value one standard deviation higher",
}

CHECK_NAMES = ("class balance", "events per model column", "collinearity", "separation")


# ----------------------------------------------------------------------------- helpers


def label(term: str) -> str:
    """Short label of a design column: ``segment[Mid-market]`` -> "Segment: Mid-market".

    A client variable's feature is named by its label (params ``variables``), which is
    kept as written: "NPS band[Low]" -> "NPS band: Low"."""
    if "[" in term and term.endswith("]"):
        feature, level = term[:-1].split("[", 1)
        return f"{_capital(feature.replace('_', ' '))}: {level}"
    return LABELS.get(term, _capital(term.replace("_", " ")))


def _capital(text: str) -> str:
    """First letter in capitals, the rest as written (``capitalize`` would lower "NPS")."""
    return text[:1].upper() + text[1:]


def subject(term: str, unit: str = "") -> str:
    """Plain-words subject of a design column's effect sentence."""
    if "[" in term and term.endswith("]"):
        feature, level = term[:-1].split("[", 1)
        ref = unit[3:] if unit.startswith("vs ") else "the most common group"
        return f"Being a {level} account rather than {ref}"
    if term in SUBJECTS:
        return SUBJECTS[term]
    return f"{label(term)} ({unit})" if unit else label(term)


def significant(coefs: pd.DataFrame, low: str = "or_low", high: str = "or_high"
                ) -> pd.DataFrame:
    """Rows whose 95% ratio interval excludes 1 (none for a penalised fit without
    intervals)."""
    return coefs[(coefs[low] > 1) | (coefs[high] < 1)]


def _pts(share: float) -> str:
    """An unsigned number of percentage points: 9.4 -> "9.4", 12.2 -> "12"."""
    v = abs(float(share)) * 100
    return f"{v:.0f}" if v >= 9.5 else f"{v:.1f}"


def _signed_pts(share: float) -> str:
    if tf.is_missing(share):
        return "n/a"
    v = float(share) * 100
    text = f"{abs(v):.0f}" if abs(v) >= 9.5 else f"{abs(v):.1f}"
    if text in ("0.0", "0"):
        return "0.0"
    return ("+" if v > 0 else "−") + text


def _ratio_ci(est: float, low: float, high: float) -> str:
    if any(tf.is_missing(x) for x in (est, low, high)):
        return tf.number(est, 2) + " (no interval)"
    return f"{est:.2f} ({low:.2f}–{high:.2f})"


# ----------------------------------------------------------------------------- the model


def forest_title(model: Any) -> str:
    """Rule: name the significant driver with the largest absolute average marginal effect
    (a warning sign when it lowers renewal); 'no driver is significant' when every interval
    crosses 1. Associations only: no causal verb."""
    coefs = model.coefficients
    if coefs[["or_low", "or_high"]].isna().all().all():
        return ("The penalised model gives no intervals: no driver can be called "
                "significant")
    sig = significant(coefs)
    if sig.empty:
        return "No driver is significant: every odds-ratio interval crosses 1"
    top = sig.loc[sig["ame"].abs().idxmax()]
    name = label(top.name)
    tail = f"{len(sig)} of {len(coefs)} drivers are significant"
    if top["ame"] < 0:
        return (f"{name} is the strongest warning sign: renewal is {_pts(top['ame'])} "
                f"points less likely; {tail}")
    return (f"{name} goes with the largest lift in renewal, {_pts(top['ame'])} points; "
            f"{tail}")


def forest(model: Any, cutoff_days: int = 90) -> ExhibitSpec:
    coefs = model.coefficients.copy()
    coefs["label"] = [label(t) for t in coefs.index]
    fig, ax = charts.new_figure(0.3 * len(coefs) + 0.9)
    if coefs[["or_low", "or_high"]].isna().all().all():
        coefs["or_low"] = coefs["or_high"] = coefs["odds_ratio"]
    charts.forest(coefs, ax, estimate="odds_ratio", low="or_low", high="or_high",
                  label_col="label")
    return ExhibitSpec(
        fig, forest_title(model),
        f"Odds ratio of renewal per step of each driver, with 95% intervals; drivers "
        f"measured {cutoff_days} days before each decision",
        "renewals, accounts, usage, surveys, tickets, contacts, touches, onboarding",
        n=model.n,
        notes=f"Logistic regression ({_method(model.method)}); {model.events:,} "
              "non-renewals. Accent: significant at 5%; grey: the interval crosses 1 "
              "(not significant). Segment levels are compared with the most common one.")


def _method(method: str) -> str:
    return ("maximum likelihood" if method == "mle"
            else "penalised L1 fit after perfect separation")


def effects_markdown(model: Any) -> str:
    """The average marginal effects in plain words, largest first, significant ones one by
    one, the rest in one 'not significant' line. Never causal. Markdown: driver names (a
    segment's name comes from the client's data) are escaped."""
    c = model.coefficients.copy()
    c["abs"] = c["ame"].abs()
    c = c.sort_values("abs", ascending=False)
    no_intervals = c[["or_low", "or_high"]].isna().all().all()
    sig = pd.DataFrame() if no_intervals else significant(c)
    lines = ["Average change in the probability of renewal that goes with each driver, "
             "the other drivers held equal, largest first. These are associations in past "
             "renewals, not proof that changing a driver would change the outcome."]
    for term, row in sig.iterrows():
        direction = "higher" if row["ame"] > 0 else "lower"
        interval = ""
        if not (tf.is_missing(row["ame_low"]) or tf.is_missing(row["ame_high"])):
            interval = (f" (95% interval {_signed_pts(row['ame_low'])} to "
                        f"{_signed_pts(row['ame_high'])} points)")
        who = tf.md_escape(subject(term, row["unit"]))
        lines.append(f"- **{who}** goes with a renewal probability "
                     f"{_pts(row['ame'])} points {direction}{interval}.")
    rest = c.drop(index=sig.index)
    if len(rest):
        items = "; ".join(f"{tf.md_escape(label(t))} ({_signed_pts(r['ame'])} pts)"
                          for t, r in rest.iterrows())
        why = ("no intervals: penalised fit" if no_intervals
               else "the 95% interval of the odds ratio crosses 1")
        lines.append(f"- Not significant ({why}): {items}.")
    if sig.empty and not no_intervals:
        lines.insert(1, "- No driver's effect on renewal is distinguishable from zero at the "
                        "5% level: the data do not show what goes with renewal.")
    return "\n".join(lines)


def effects_sentence(model: Any) -> str:
    """Kept for callers of the first version: the effects as markdown."""
    return effects_markdown(model)


# ----------------------------------------------------------------------------- checks


def check_rows(model: Any, built: dict, history: dict | None = None,
               left_out: dict | None = None) -> pd.DataFrame:
    """One row per model check: what was found and what was done (``flag`` True when the
    check found a problem). ``left_out``: feature -> why a rule kept it out of the model."""
    c = model.checks
    bal = c.get("class_balance", {})
    share = bal.get("share_renewed")
    unbalanced = not tf.is_missing(share) and (share < 0.05 or share > 0.95)
    rows = [{
        "check": "Class balance",
        "found": f"{tf.pct(share, 0)} renewed ({tf.count(bal.get('renewed'))} of "
                 f"{tf.count(bal.get('n'))})",
        "action": "warned: estimates rest on few events" if unbalanced else "none needed",
        "flag": unbalanced,
    }]
    epf = c.get("events_per_feature", {})
    low_epf = bool(epf.get("below_minimum"))
    removed = epf.get("removed") or []
    rows.append({
        "check": "Events per model column",
        "found": f"{tf.number(epf.get('value'), 1)} decisions of the rarer outcome per "
                 f"column (rule of thumb: at least {tf.number(epf.get('minimum'), 0)})",
        "action": (f"kept the {len(model.features)} strongest features, dropped "
                   f"{', '.join(label(f) for f in removed)}" if removed
                   else "warned: estimates may be unstable" if low_epf else "none needed"),
        "flag": low_epf,
    })
    vif = c.get("vif") or {}
    dropped = c.get("vif_dropped") or {}
    worst = max(vif, key=vif.get) if vif else None
    rows.append({
        "check": "Collinearity (VIF)",
        "found": (f"highest VIF {vif[worst]:.1f} ({label(worst)})" if worst
                  else "one feature: not applicable"),
        "action": ("dropped " + ", ".join(f"{label(f)} (VIF {v:.3g})"
                                          for f, v in dropped.items())
                   if dropped else "none dropped (all VIF at most 10)"),
        "flag": bool(dropped),
    })
    sep = c.get("separation", {})
    rows.append({
        "check": "Separation / perfect prediction",
        "found": ("detected: " + "; ".join(sep.get("reasons", [])) if sep.get("detected")
                  else "not detected"),
        "action": ("penalised (L1) fit, no intervals or p-values" if sep.get("detected")
                   else "ordinary maximum likelihood"),
        "flag": bool(sep.get("detected")),
    })
    cl = c.get("clustering") or {}
    if cl.get("by"):
        rows.append({
            "check": "Several decisions per account",
            "found": f"{tf.count(cl.get('decisions'))} decisions from "
                     f"{tf.count(cl.get('groups'))} accounts",
            "action": ("standard errors, intervals and p-values clustered by account"
                       if cl.get("applied") else "none needed: one decision per account"),
            "flag": False,
        })
    missing = int(c.get("rows_dropped_missing") or 0)
    rows.append({
        "check": "Missing feature values",
        "found": f"{tf.count(missing)} decision(s) lack a feature value",
        "action": "left out" if missing else "none needed",
        "flag": False,
    })
    if history and history.get("data_start") is not None:
        rows.append({
            "check": "History before the data",
            "found": (f"{tf.count(history['excluded'])} decision(s) with a cut-off before "
                      f"{pd.Timestamp(history['first_cutoff']):%d %b %Y} would need data "
                      f"from before {pd.Timestamp(history['data_start']):%b %Y}"),
            "action": "left out" if history["excluded"] else "none needed",
            "flag": False,
        })
    for feature, why in (left_out or {}).items():
        rows.append({"check": "Feature left out by rule", "found": label(feature),
                     "action": why, "flag": False})
    skipped = built.get("skipped") or {}
    if skipped:
        rows.append({
            "check": "Features not built",
            "found": ", ".join(label(f) for f in skipped),
            "action": "left out of the model (see the data-quality appendix)",
            "flag": False,
        })
    return pd.DataFrame(rows)


def checks_title(rows: pd.DataFrame) -> str:
    """Rule: 'all four checks pass' when none of class balance, events per column,
    collinearity and separation is flagged; otherwise name the flagged ones."""
    core = rows[rows["check"].str.lower().str.startswith(
        ("class balance", "events per", "collinearity", "separation"))]
    flagged = core[core["flag"]]
    if flagged.empty:
        return ("All four model checks pass: outcomes balanced enough, enough events per "
                "feature, no collinearity, no perfect prediction")
    names = ", ".join(flagged["check"].str.lower())
    return (f"{len(flagged)} of {len(core)} model checks flagged a problem ({names}); "
            "the action taken is listed")


def checks(model: Any, built: dict, history: dict | None = None,
           left_out: dict | None = None) -> ExhibitSpec:
    rows = check_rows(model, built, history, left_out)
    table = rows.drop(columns="flag").rename(columns={"check": "check", "found": "result",
                                                      "action": "action taken"})
    return ExhibitSpec(
        table, checks_title(rows),
        "Checks run on every fit of the renewal model",
        "modelling table", n=model.n,
        notes="VIF above 10 drops a feature; fewer than 10 decisions of the rarer outcome "
              "per model column reduce the features; separation switches to a penalised "
              "fit.")


def checks_sentence(model: Any, built: dict) -> str:
    """The checks in one paragraph (the first version's wording)."""
    rows = check_rows(model, built)
    return "Model checks: " + "; ".join(
        f"{r.check.lower()}: {r.found} ({r.action})" for r in rows.itertuples()) + "."


def history_sentence(history: dict, total: int) -> str:
    """The documented exclusion rule, with its count."""
    if history.get("data_start") is None:
        return "Every decision is used: the data carry no dated activity to bound them."
    n = history["excluded"]
    start = pd.Timestamp(history["data_start"])
    first = pd.Timestamp(history["first_cutoff"])
    if not n:
        return (f"Every one of the {tf.count(total)} decisions has its full "
                f"{history['lookback_days']}-day look-back inside the data (from "
                f"{start:%b %Y}).")
    return (f"{tf.count(n)} of {tf.count(total)} renewal decisions "
            f"({tf.count(history.get('excluded_not_renewed'))} of them non-renewals) are left "
            f"out: their features would look {history['lookback_days']} days back from the "
            f"cut-off to before {start:%b %Y}, when the data begin (cut-offs before "
            f"{first:%d %b %Y}). Counting that unseen history as 'no contact' or 'no answer' "
            "would bias the drivers.")


def month_to_month_sentence(n: int) -> str:
    """How many month-to-month accounts (contract term 1 month) are left out of renewal
    analysis, and where their churn is measured; "" when there are none (say nothing)."""
    if not n:
        return ""
    verb = "is" if n == 1 else "are"
    return (f"{tf.plural(int(n), 'month-to-month account')} (contract term of one month) "
            f"{verb} left out of renewal analysis: month-to-month customers make no renewal "
            "decisions, so they are measured by monthly churn (logo churn in the revenue "
            "section).")


# ----------------------------------------------------------------------------- quality


def lift_title(quality: dict, lift: pd.DataFrame | None = None) -> str:
    """Rule on the cross-validated AUC: >= 0.75 well, >= 0.65 moderately, >= 0.55 weakly,
    below that no better than chance; with the riskiest decile's lift when known."""
    auc = quality.get("auc")
    if tf.is_missing(auc):
        return "Too few decisions to cross-validate the model"
    if auc < 0.55:
        return (f"The model ranks renewal risk no better than chance on accounts it has not "
                f"seen (cross-validated AUC {auc:.2f})")
    strength = "well" if auc >= 0.75 else "moderately well" if auc >= 0.65 else "weakly"
    top = None
    if lift is not None and len(lift) and "lift" in lift:
        top = lift["lift"].iloc[0]
    if top is None or tf.is_missing(top):
        return (f"The model ranks renewal risk {strength} on accounts it has not seen: "
                f"cross-validated AUC {auc:.2f} against 0.50 for a coin toss")
    return (f"The model ranks renewal risk {strength} on unseen accounts: the riskiest "
            f"tenth churned at {top:.1f} times the average rate (AUC {auc:.2f})")


def lift(table: pd.DataFrame, quality: dict) -> ExhibitSpec:
    """Non-renewal rate by decile of out-of-fold predicted risk (``lift_by_decile`` of
    ``1 - renewed`` on ``1 - p``), riskiest first."""
    t = table.copy()
    overall = float(t["events"].sum() / t["n"].sum()) if t["n"].sum() else None
    labels = [f"{int(d)}" for d in t["decile"]]
    if labels:
        labels[0] = f"{labels[0]}\nriskiest"
        labels[-1] = f"{labels[-1]}\nsafest"
    fig, ax = charts.new_figure(2.1)
    charts.lift_bars(t, ax, rate="event_rate", overall=overall, labels=labels)
    ax.set_xlabel("Decile of predicted risk of not renewing (out-of-fold)")
    folds = quality.get("auc_by_fold") or []
    fold_range = (f"{min(folds):.2f}–{max(folds):.2f}" if folds and not any(
        tf.is_missing(f) for f in folds) else "n/a")
    return ExhibitSpec(
        fig, lift_title(quality, t),
        f"Share of decisions not renewed, by decile of predicted risk; "
        f"{quality.get('folds')}-fold cross-validation, each decision scored by a model "
        "that did not see it",
        "modelling table", n=int(quality.get("n") or 0),
        notes=f"AUC {tf.number(quality.get('auc'), 2)} (folds {fold_range}); 0.50 = chance, "
              "1.00 = perfect ranking.")


def calibration_title(cal: pd.DataFrame, quality: dict) -> str:
    """Rule: 'match' when at most one bin's observed rate misses its predicted rate (95%
    interval); otherwise say how many bins are off and in which direction."""
    if cal.empty:
        return "Too few decisions to check calibration"
    inside = (cal["ci_low"] <= cal["mean_predicted"]) & (cal["mean_predicted"] <= cal["ci_high"])
    off = int((~inside).sum())
    skill = quality.get("brier_skill")
    if tf.is_missing(skill):
        tail = ""
    elif abs(skill) < 0.005:
        tail = "; the Brier score is no better than the base rate's"
    else:
        tail = (f"; the Brier score is {tf.pct(abs(skill), 0)} "
                f"{'better' if skill > 0 else 'worse'} than the base rate's")
    if off <= 1:
        return (f"Predicted renewal probabilities match observed rates: "
                f"{len(cal) - off} of {len(cal)} bins within their 95% interval{tail}")
    over = int((cal.loc[~inside, "mean_predicted"] > cal.loc[~inside, "ci_high"]).sum())
    way = ("too optimistic" if over > off / 2 else "too pessimistic" if over < off / 2
           else "off in both directions")
    return (f"Predicted renewal probabilities are {way} in {off} of {len(cal)} bins{tail}")


def calibration(cal: pd.DataFrame, quality: dict) -> ExhibitSpec:
    fig, ax = charts.new_figure(2.9)
    charts.calibration(cal, ax)
    return ExhibitSpec(
        fig, calibration_title(cal, quality),
        "Observed renewal rate vs out-of-fold predicted probability, in ten bins of equal "
        "size, with 95% intervals",
        "modelling table", n=int(cal["n"].sum()) if len(cal) else 0,
        notes=f"Brier score (mean squared error of the probability; lower is better) "
              f"{tf.number(quality.get('brier'), 3)} vs "
              f"{tf.number(quality.get('brier_baseline'), 3)} for predicting the base rate. "
              "Red: the bin's interval misses the prediction.")


# ----------------------------------------------------------------------------- survival


def _km_horizon(summary: pd.DataFrame, horizons: list[float], min_at_risk: int
                ) -> float | None:
    """The longest tenure at which every group still has at least ``min_at_risk``
    accounts under observation."""
    best = None
    for t in horizons:
        col = f"at_risk_{t:g}m"
        if col in summary and (summary[col] >= min_at_risk).all():
            best = t
    return best


def survival_title(summary: pd.DataFrame, horizon: float | None, overall: str = "All accounts"
                   ) -> str:
    """Rule: at the horizon, name the group(s) with the lowest retention - the lowest and any
    group whose estimate lies inside its 95% interval - against the highest, when the
    highest lies outside that interval; otherwise say retention does not differ clearly."""
    groups = summary[summary["group"] != overall]
    if horizon is None or summary.empty:
        return "Too few accounts are observed long enough to compare retention by segment"
    key = f"{horizon:g}m"
    years = f"{horizon / 12:g} year{'s' if horizon != 12 else ''}"
    g = groups.dropna(subset=[f"survival_{key}"])
    if len(g) < 2:
        row = summary.dropna(subset=[f"survival_{key}"]).iloc[0]
        return (f"{tf.pct(row[f'survival_{key}'], 0)} of accounts are still customers after "
                f"{years}")
    g = g.sort_values(f"survival_{key}")
    worst, best = g.iloc[0], g.iloc[-1]
    low, high = worst[f"low_{key}"], worst[f"high_{key}"]
    tied = g[g[f"survival_{key}"].between(low, high)]
    if best[f"survival_{key}"] <= high:
        return (f"Retention after {years} does not differ clearly between segments: "
                f"{tf.pct(worst[f'survival_{key}'], 0)} to "
                f"{tf.pct(best[f'survival_{key}'], 0)} still customers")
    names = " and ".join(tied["group"]) if len(tied) <= 3 else f"{len(tied)} segments"
    verb = "keeps" if len(tied) == 1 else "keep"
    lo_txt = tf.pct(tied[f"survival_{key}"].min(), 0)
    hi_txt = tf.pct(tied[f"survival_{key}"].max(), 0)
    rates = lo_txt if lo_txt == hi_txt else f"{lo_txt}-{hi_txt}"
    return (f"{names} {verb} the fewest customers: {rates} are still customers after "
            f"{years}, against {tf.pct(best[f'survival_{key}'], 0)} in {best['group']}")


def survival(curves: pd.DataFrame, summary: pd.DataFrame, *, small_n: int = 30
             ) -> ExhibitSpec:
    """Kaplan-Meier curves by segment; the title compares the segments at the longest
    tenure (among those in ``summary``) at which every segment still has ``small_n``
    accounts at risk."""
    groups = summary[summary["group"] != "All accounts"]
    horizons = sorted(float(c[len("survival_"):-1]) for c in summary.columns
                      if c.startswith("survival_"))
    horizon = _km_horizon(groups if len(groups) else summary, horizons, small_n)
    worst = None
    if horizon is not None and len(groups):
        worst = groups.loc[groups[f"survival_{horizon:g}m"].idxmin(), "group"]
    shown = curves[curves["group"] != "All accounts"] if len(groups) else curves
    fig, ax = charts.new_figure(2.4)
    charts.survival_curves(shown, ax, highlight=worst, min_at_risk=small_n)
    small = groups[groups["n"] < small_n]["group"].tolist()
    per_group = "; ".join(f"{r.group} n={int(r.n):,}, {int(r.n_events):,} left"
                          for r in groups.itertuples()) if len(groups) else ""
    notes = (f"Kaplan-Meier estimates; each curve stops where fewer than {small_n} accounts "
             f"are still observed. {per_group}. Accounts that started before the data begin "
             "enter at their tenure then (left truncation); a churned account's return is "
             "not a new lifetime.")
    if small:
        notes += f" Too small to judge (n < {small_n}): {', '.join(small)}."
    return ExhibitSpec(
        fig, survival_title(summary, horizon),
        "Share of accounts still customers by months since they started, by segment; "
        "accent: the segment with the lowest retention, with its 95% band",
        "accounts, churn_events", n=int(summary["n"].max()) if len(summary) else 0,
        notes=notes)


def cox_title(compare: pd.DataFrame) -> str:
    """Rule: of the drivers significant in the logistic model, how many the Cox model
    confirms (significant, same direction); name any driver the two contradict."""
    logit_sig = compare[compare["logit_significant"]]
    contra = compare[compare["verdict"] == "both significant, opposite directions"]
    if len(contra):
        names = ", ".join(label(t) for t in contra.index)
        return (f"The survival model contradicts the logistic model on {len(contra)} "
                f"driver(s): {names}")
    if logit_sig.empty:
        return "Neither model finds a significant driver of churn"
    confirmed = int((logit_sig["verdict"] == "both significant, same direction").sum())
    same = int(logit_sig["same_direction"].sum())
    if confirmed == len(logit_sig):
        return (f"The survival model confirms all {confirmed} significant drivers, each in "
                "the same direction")
    return (f"The survival model confirms {confirmed} of the {len(logit_sig)} significant "
            f"drivers; {same} of {len(logit_sig)} point the same way")


def ph_sentence(ph: pd.DataFrame | None) -> str:
    """Rule: say the proportional-hazards check held, or name the drivers whose effect
    changes with tenure (their hazard ratio is then an average over time)."""
    if ph is None or ph.empty or ph["p_value"].isna().all():
        return "Proportional hazards could not be checked (too few churns)."
    bad = ph[ph["violates"]]
    if bad.empty:
        return ("Proportional hazards hold: no driver's effect drifts with tenure (Harrell's "
                "test on Schoenfeld residuals, all p >= 0.05).")
    names = "; ".join(f"{label(t)} ({'grows' if r.rho > 0 else 'fades'} with tenure, "
                      f"{tf.p_is(r.p_value)})" for t, r in bad.iterrows())
    return (f"Proportional hazards do not hold for {names}: read "
            f"{'its hazard ratio' if len(bad) == 1 else 'their hazard ratios'} as an average "
            "over tenure (Harrell's test on Schoenfeld residuals).")


def cox_table(compare: pd.DataFrame, cox: dict) -> ExhibitSpec:
    t = pd.DataFrame({
        "driver": [label(x) for x in compare.index],
        "odds ratio of renewal (95%)": [
            _ratio_ci(r.odds_ratio, r.or_low, r.or_high) for r in compare.itertuples()],
        "hazard ratio of churn (95%)": [
            _ratio_ci(r.hazard_ratio, r.hr_low, r.hr_high) for r in compare.itertuples()],
        "verdict": compare["verdict"].to_numpy(),
    })
    order = np.argsort(-np.abs(np.log(compare["odds_ratio"].astype(float).to_numpy())))
    sig_first = np.argsort(~compare["logit_significant"].to_numpy()[order], kind="stable")
    t = t.iloc[order[sig_first]].reset_index(drop=True)
    dropped = cox.get("dropped") or {}
    extra = (" Left out: " + "; ".join(f"{label(f)} ({why})" for f, why in dropped.items())
             + ".") if dropped else ""
    return ExhibitSpec(
        t, cox_title(compare),
        "Cox proportional-hazards model of churn on the same drivers, each contract year an "
        "interval at risk, vs the logistic model of renewal",
        "modelling table, accounts", n=int(cox.get("n") or 0),
        notes=f"{tf.count(cox.get('events'))} churns in {tf.count(cox.get('n'))} contract "
              f"years; tenure is the time scale; ties: {cox.get('ties')}. A hazard ratio "
              "below 1 (less churn) agrees with an odds ratio above 1 (more renewal)."
              + (" Standard errors robust by account." if cox.get("clustered") else "")
              + " " + ph_sentence(cox.get("ph_check")) + extra)


# ----------------------------------------------------------------------------- open book


def reason_text(item: dict, currency: str = "USD", contact_cap: int | None = None) -> str:
    """One reason an account's score is low, in plain words (from :func:`open_book`).

    ``contact_cap``: the cap of the days-since-contact features (a value at the cap reads
    "no ... contact in N+ days")."""
    f, v = item.get("feature"), item.get("value")
    missing = v is None or (isinstance(v, float) and math.isnan(v))
    if f == "segment" or item.get("column", "").startswith(f"{f}["):
        return str(v) if not missing else label(item.get("column", f))
    if missing:
        return label(f)
    flags = {
        "exec_sponsor": ("exec sponsor", "no exec sponsor"),
        "usage_decline": ("usage fell", "usage held up"),
        "nps_detractor": ("NPS detractor", "not an NPS detractor"),
        "onboarding_incomplete": ("onboarding not finished", "onboarding finished"),
    }
    if f in flags:
        yes, no = flags[f]
        return yes if bool(v) else no
    x = float(v)
    if f in ("days_since_exec_contact", "days_since_user_contact"):
        who = "exec" if f == "days_since_exec_contact" else "user"
        if contact_cap is not None and x >= contact_cap:
            return f"no {who} contact {contact_cap}+ days"
        return f"{tf.plural(int(round(x)), 'day')} since {who} contact"
    formats = {
        "products": tf.plural(int(round(x)), "product"),
        "seat_utilisation": f"{x:.0%} of seats used",
        "high_priority_tickets_90d": tf.plural(int(round(x)), "high-priority ticket"),
        "strong_user_relationships": tf.plural(int(round(x)), "strong user contact"),
        "tenure_years": f"{x:.1f} years a customer",
        "log2_contract_value": f"contract {tf.money(2 ** x, currency)}",
        "onboarding_steps": tf.plural(int(round(x)), "onboarding step") + " done",
    }
    return formats.get(f, f"{label(f)}: {tf.number(x, 1)}")


def open_book_title(summary: dict, horizon: int, currency: str) -> str:
    """Rule: count the renewals due and those at risk (below the at-risk probability), with
    their MRR; say 'none at risk' when none is."""
    due = summary.get("renewals_due", 0)
    if not due:
        return f"No renewal falls due in the next {horizon} days"
    risky = summary.get("accounts_at_risk", 0)
    if not risky:
        return (f"None of the {tf.count(due)} renewals due in the next {horizon} days is at "
                f"risk; together they hold {tf.money(summary.get('mrr_due'), currency)} of "
                "MRR")
    mrr = tf.money(summary.get("mrr_at_risk"), currency)
    return (f"{tf.count(risky)} of the {tf.count(due)} renewals due in the next {horizon} "
            f"days are at risk, holding {mrr} of MRR")


def open_book_caveat(coefficients: pd.DataFrame, base_rate: float, summary: dict,
                     at_risk_below: float) -> str:
    """Rule: when no driver is significant, the scores sit near the base renewal rate, so
    say what 'at risk' then means (empty when some driver is significant)."""
    if len(significant(coefficients)) or not summary.get("renewals_due"):
        return ""
    where = "below" if base_rate < at_risk_below else "above"
    return (f"Read this list with care: no driver is significant, so every score sits near "
            f"the base renewal rate ({tf.pct(base_rate, 0)}, {where} the "
            f"{tf.pct(at_risk_below, 0)} line). The list ranks renewals by MRR at stake; it "
            "does not single out accounts that look worse than the rest.")


def open_book(book: pd.DataFrame, summary: dict, accounts: pd.DataFrame, currency: str,
              horizon: int, at_risk_below: float, rows: int = 12,
              contact_cap: int | None = None) -> ExhibitSpec:
    """The renewals to act on: the accounts at risk, largest expected loss first (up to
    ``rows``); when none is at risk, the largest expected losses among all renewals due."""
    risky = book[book["at_risk"].fillna(False).astype(bool)] if "at_risk" in book else book
    pool = risky if len(risky) else book
    shown = pool.head(rows).copy()
    more = len(pool) - len(shown)
    acc = accounts.drop_duplicates("account_id").assign(
        account_id=lambda a: a["account_id"].astype("string")).set_index("account_id")
    names = acc["name"] if "name" in acc else pd.Series(dtype="string")
    owners = acc["owner"] if "owner" in acc else pd.Series(dtype="string")
    ids = shown["account_id"].astype("string")
    table = pd.DataFrame({
        "account": [names.get(i, i) if pd.notna(names.get(i, None)) else i for i in ids],
        "owner": [owners.get(i, None) for i in ids],
        "renews": shown["decision_date"].dt.strftime("%d %b"),
        "P(renew)": shown["p_renew"].to_numpy(),
        f"MRR ({currency})": shown["mrr"].to_numpy(),
        f"expected loss ({currency})": shown["expected_loss"].to_numpy(),
        "pulling it down": ["; ".join(reason_text(r, currency, contact_cap) for r in rs) or "–"
                            for rs in shown["reasons"]],
    })
    return ExhibitSpec(
        table, open_book_title(summary, horizon, currency),
        (f"Renewals due in the next {horizon} days at risk (predicted renewal probability "
         f"below {at_risk_below:.0%}), " if len(risky) else
         f"Renewals due in the next {horizon} days, ")
        + "largest expected loss first (MRR x predicted probability of not renewing)",
        "renewal model, accounts, mrr", n=summary.get("scored"),
        notes=(f"{tf.count(more)} more {'at risk ' if len(risky) else ''}not shown "
               "(all in results.json, open_book). " if more > 0 else "")
        + f"All {tf.count(summary.get('renewals_due'))} renewals due: "
              f"{tf.money(summary.get('mrr_due'), currency)} MRR, of which the model expects "
              f"{tf.money(summary.get('expected_mrr_loss'), currency)} to be lost "
              f"({tf.number(summary.get('expected_non_renewals'), 0)} non-renewals). Pulling it "
              "down: the significant drivers on which the account compares worst with an "
              "average decision (most negative coefficient x (value - average)). "
              "Associations, not causes: use them to choose whom to call first.",
        formats={"P(renew)": "{:.0%}", f"MRR ({currency})": "{:,.0f}",
                 f"expected loss ({currency})": "{:,.0f}"})


# ----------------------------------------------------------------------------- records


def model_record(model: Any, built: dict) -> dict:
    return {"method": model.method, "n": model.n, "events": model.events,
            "features": model.features, "coefficients": model.coefficients.reset_index(),
            "skipped_features": built.get("skipped"), "notes": built.get("notes"),
            "warnings": model.checks.get("warnings"),
            "checks": {k: v for k, v in model.checks.items() if k != "warnings"}}


def headline(model: Any, history: dict, quality: dict, summary: dict) -> dict:
    """Headline figures of the section for results.json."""
    sig = significant(model.coefficients)
    return {
        "decisions_used": model.n,
        "non_renewals": model.events,
        "decisions_left_out_short_history": history.get("excluded"),
        "significant_drivers": int(len(sig)),
        "drivers": int(len(model.coefficients)),
        "cv_auc": quality.get("auc"),
        "cv_brier": quality.get("brier"),
        "brier_baseline": quality.get("brier_baseline"),
        "renewals_due": summary.get("renewals_due"),
        "accounts_at_risk": summary.get("accounts_at_risk"),
        "mrr_at_risk": summary.get("mrr_at_risk"),
        "expected_mrr_loss": summary.get("expected_mrr_loss"),
        "mrr_due": summary.get("mrr_due"),
    }


def book_record(book: pd.DataFrame, summary: dict) -> dict:
    cols = ["account_id", "decision_date", "p_renew", "mrr", "expected_loss", "at_risk"]
    rows = book[cols].copy()
    rows["reasons"] = [[r["column"] for r in rs] for rs in book["reasons"]]
    return {**summary, "accounts": rows}


def risk_record(risk: pd.DataFrame) -> dict:
    """First version's summary of :func:`playbook.analyses.drivers.risk_scores`."""
    scored = risk.dropna(subset=["p_renew"])
    return {"scored": int(len(scored)),
            "expected_non_renewals": float(scored["p_not_renew"].sum()),
            "contract_value_at_risk": float(scored.get("contract_value_at_risk",
                                                       pd.Series(dtype=float)).sum())}
