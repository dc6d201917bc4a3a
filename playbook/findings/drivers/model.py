"""Exhibits and sentences of the renewal model: the forest of odds ratios, the average
marginal effects in words, the checks run on the fit, the history and month-to-month
sentences, and the model's records for results.json."""

from __future__ import annotations

from typing import Any

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec
from playbook.findings.drivers.labels import label, points, signed_points, significant, subject


def _magnitude_interval(low: float, high: float) -> tuple[float, float]:
    """The 95% interval of an effect's size |AME| (shares): both ends' absolute values when
    the interval stays on one side of zero, else from 0 to the larger end."""
    a, b = abs(float(low)), abs(float(high))
    if low > 0 or high < 0:
        return min(a, b), max(a, b)
    return 0.0, max(a, b)


def leading_drivers(coefs: pd.DataFrame) -> list[str]:
    """The significant drivers that could be the largest, largest first.

    Rule: among the significant drivers (95% odds-ratio interval excludes 1), take the one
    with the largest absolute average marginal effect (the scale the forest title quotes:
    percentage points of the probability of renewal, comparable across drivers whatever
    their unit); every other significant driver whose |AME| 95% interval reaches the
    leader's lower end overlaps it and joins the set. A single name means the leader's
    interval separates it from every other significant driver; several mean the data
    cannot rank them. Empty when nothing is significant or there are no AME intervals
    (a penalised fit)."""
    sig = significant(coefs)
    sig = sig[sig["ame_low"].notna() & sig["ame_high"].notna()]
    if sig.empty:
        return []
    order = sig["ame"].abs().sort_values(ascending=False, kind="stable").index
    lead_low = _magnitude_interval(sig.at[order[0], "ame_low"], sig.at[order[0], "ame_high"])[0]
    overlap = [t for t in order[1:]
               if _magnitude_interval(sig.at[t, "ame_low"], sig.at[t, "ame_high"])[1]
               >= lead_low]
    return [order[0], *overlap]


def forest_title(model: Any) -> str:
    """Rule: name the significant driver with the largest absolute average marginal effect
    (a warning sign when it lowers renewal) as *the strongest* only when its |AME| interval
    separates it from every other significant driver (:func:`leading_drivers`); otherwise
    name the leading set and say their intervals overlap. 'No driver is significant' when
    every interval crosses 1. Associations only: no causal verb."""
    coefs = model.coefficients
    if coefs[["or_low", "or_high"]].isna().all().all():
        return ("The penalised model gives no intervals: no driver can be called "
                "significant")
    sig = significant(coefs)
    if sig.empty:
        return "No driver is significant: every odds-ratio interval crosses 1"
    tail = f"{len(sig)} of {len(coefs)} drivers are significant"
    leaders = leading_drivers(coefs) or [sig["ame"].abs().idxmax()]
    if len(leaders) > 1:
        return _leaders_title(coefs.loc[leaders], tail)
    top = sig.loc[leaders[0]]
    name = label(top.name)
    if top["ame"] < 0:
        return (f"{name} is the strongest warning sign: renewal is {points(top['ame'])} "
                f"points less likely; {tail}")
    return (f"{name} goes with the largest lift in renewal, {points(top['ame'])} points; "
            f"{tail}")


def _leaders_title(rows: pd.DataFrame, tail: str) -> str:
    """The forest title when the leading drivers' intervals overlap."""
    names = tf.and_list([label(t) for t in rows.index])
    sizes = tf.and_list([signed_points(v) for v in rows["ame"]])
    if (rows["ame"] < 0).all():
        return (f"{names} are the strongest warning signs ({sizes} points); their intervals "
                f"overlap; {tail}")
    if (rows["ame"] > 0).all():
        return (f"{names} go with the largest lifts in renewal ({sizes} points); their "
                f"intervals overlap; {tail}")
    return (f"{names} go with the largest changes in renewal ({sizes} points); their "
            f"intervals overlap; {tail}")



def forest(model: Any, cutoff_days: int) -> ExhibitSpec:
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
        n=model.n, n_of="renewal decisions",
        notes=f"Logistic regression ({_method(model.method)}); {model.events:,} "
              "non-renewals. Accent: significant at 5%; grey: the interval crosses 1 "
              "(not significant). Segment levels are compared with the most common one."
              + _levels_note(model.coefficients))


def _levels_note(coefs: pd.DataFrame) -> str:
    """What the NPS levels are compared with, and the 'strongest' rule, for the notes."""
    note = (" 'Strongest' only when a driver's 95% interval of its effect in points clears "
            "every other significant driver's." if len(significant(coefs)) > 1 else "")
    if any(str(t).startswith("nps_detractor[") for t in coefs.index):
        note = (" NPS: a detractor answer, and no answer in the look-back, are each compared "
                "with a non-detractor answer (no answer is never counted as content)."
                + note)
    return note


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
            interval = (f" (95% interval {signed_points(row['ame_low'])} to "
                        f"{signed_points(row['ame_high'])} points)")
        who = tf.md_escape(subject(term, row["unit"]))
        lines.append(f"- **{who}** goes with a renewal probability "
                     f"{points(row['ame'])} points {direction}{interval}.")
    rest = c.drop(index=sig.index)
    if len(rest):
        items = "; ".join(f"{tf.md_escape(label(t))} ({signed_points(r['ame'])} pts)"
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
    if c.get("leakage") is not None:
        rows.append(_leakage_row(c["leakage"]))
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
        "found": (f"{tf.plural(missing, 'decision')} "
                  f"{tf.noun(missing, 'lacks', 'lack')} a feature value"),
        "action": "left out" if missing else "none needed",
        "flag": False,
    })
    if history and history.get("data_start") is not None:
        rows.append({
            "check": "History before the data",
            "found": (f"{tf.plural(history['excluded'], 'decision')} with a cut-off before "
                      f"{tf.date(history['first_cutoff'])} would need data "
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


def _leakage_row(leakage: dict) -> dict:
    """The leakage guard's row (:func:`playbook.analyses.drivers.leakage.leakage_screen`)."""
    excluded = leakage.get("excluded") or {}
    limit = tf.number(leakage.get("max_auc"), 2)
    if not excluded:
        return {"check": "Leakage",
                "found": f"none found: no feature recorded after its cut-off, none sorts "
                         f"renewals alone (univariate AUC at most {limit})",
                "action": "none needed", "flag": False}
    return {"check": "Leakage",
            "found": "; ".join(f"{label(f)}: {why}" for f, why in excluded.items()),
            "action": "left out of the model as possible leakage", "flag": True}


def leakage_sentence(model: Any) -> str:
    """Rule: name every feature the leakage guard left out, with why ("" when none was):
    "Left out as possible leakage: CSAT score (recorded after the cut-off for 80% of
    decisions)." Markdown: a client variable's label is escaped."""
    excluded = (model.checks.get("leakage") or {}).get("excluded") or {}
    if not excluded:
        return ""
    return ("Left out as possible leakage: "
            + "; ".join(f"{tf.md_escape(label(f))} ({why})" for f, why in excluded.items())
            + ". A feature written after the decision's cut-off, or one that alone sorts "
            "renewals from non-renewals almost perfectly, is most likely the outcome "
            "recorded another way, not a warning sign.")


#: The checks the title counts, as their rows begin, and what passing each says.
_CORE_CHECKS = {
    "class balance": "outcomes balanced enough",
    "events per": "enough events per feature",
    "collinearity": "no collinearity",
    "separation": "no perfect prediction",
    "leakage": "no sign of leakage",
}


def checks_title(rows: pd.DataFrame) -> str:
    """Rule: 'all five checks pass' when none of class balance, events per column,
    collinearity, separation and leakage is flagged; otherwise name the flagged ones."""
    core = rows[rows["check"].str.lower().str.startswith(tuple(_CORE_CHECKS))]
    flagged = core[core["flag"]]
    if flagged.empty:
        count = {4: "four", 5: "five"}.get(len(core), str(len(core)))
        passed = [text for start, text in _CORE_CHECKS.items()
                  if core["check"].str.lower().str.startswith(start).any()]
        return f"All {count} model checks pass: " + ", ".join(passed)
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
        "modelling table", n=model.n, n_of="renewal decisions",
        notes="VIF above 10 drops a feature; fewer than 10 decisions of the rarer outcome "
              "per model column reduce the features; separation switches to a penalised "
              "fit.")


def checks_sentence(model: Any, built: dict) -> str:
    """The checks in one paragraph (the first version's wording)."""
    rows = check_rows(model, built)
    return "Model checks: " + "; ".join(
        f"{r.check.lower()}: {r.found} ({r.action})" for r in rows.itertuples()) + "."


def history_sentence(history: dict, total: int) -> str:
    """The documented exclusion rule, with its count ("" when there is no decision: then
    there is nothing to exclude)."""
    if not total:
        return ""
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
            f"{tf.date(first)}). Counting that unseen history as 'no contact' or 'no answer' "
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
