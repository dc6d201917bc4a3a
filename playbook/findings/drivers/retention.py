"""Exhibits of the survival cross-check: Kaplan-Meier retention by segment (share of
accounts still customers by months since they started) and the Cox model of churn against
the logistic model of renewal."""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec
from playbook.findings.drivers.labels import label, ratio_with_interval


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
    rates = tf.span(tied[f"survival_{key}"].min(), tied[f"survival_{key}"].max(),
                    lambda v: tf.pct(v, 0))
    return (f"{names} {verb} the fewest customers: {rates} are still customers after "
            f"{years}, against {tf.pct(best[f'survival_{key}'], 0)} in {best['group']}")


def survival(curves: pd.DataFrame, summary: pd.DataFrame, *, small_n: int) -> ExhibitSpec:
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


def cox_title(compare: pd.DataFrame, cox: dict | None = None) -> str:
    """Rule: a Cox fit that did not converge confirms nothing either way (say so, count
    nothing); a penalised logistic fit has no intervals to compare; otherwise, of the
    drivers significant in the logistic model, how many the Cox model confirms
    (significant, same direction), naming any driver the two contradict."""
    if cox is not None and cox.get("converged") is False:
        return "The Cox cross-check did not converge: it confirms nothing either way"
    if len(compare) and compare[["or_low", "or_high"]].isna().all().all():
        return ("The logistic model was penalised and has no intervals: the Cox model "
                "cannot confirm its drivers")
    logit_sig = compare[compare["logit_significant"]]
    contra = compare[compare["verdict"] == "both significant, opposite directions"]
    if len(contra):
        names = ", ".join(label(t) for t in contra.index)
        return (f"The survival model contradicts the logistic model on {len(contra)} "
                f"{tf.noun(len(contra), 'driver')}: {names}")
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
    """The Cox model beside the logistic one, driver by driver. A Cox fit that did not
    converge prints no hazard ratio and no verdict (its numbers cannot be defended); the
    notes say why."""
    converged = cox.get("converged") is not False
    t = pd.DataFrame({
        "driver": [label(x) for x in compare.index],
        "odds ratio of renewal (95%)": [
            ratio_with_interval(r.odds_ratio, r.or_low, r.or_high) for r in compare.itertuples()],
        "hazard ratio of churn (95%)": [
            ratio_with_interval(r.hazard_ratio, r.hr_low, r.hr_high) if converged
            else "not estimated" for r in compare.itertuples()],
        "verdict": (compare["verdict"].to_numpy() if converged
                    else ["no verdict: the Cox fit did not converge"] * len(compare)),
    })
    order = np.argsort(-np.abs(np.log(compare["odds_ratio"].astype(float).to_numpy())))
    sig_first = np.argsort(~compare["logit_significant"].to_numpy()[order], kind="stable")
    t = t.iloc[order[sig_first]].reset_index(drop=True)
    dropped = cox.get("dropped") or {}
    extra = (" Left out: " + "; ".join(f"{label(f)} ({why})" for f, why in dropped.items())
             + ".") if dropped else ""
    if not converged:
        extra += (" The Cox fit did not converge ("
                  + "; ".join(cox.get("convergence_problems") or ["no reason recorded"])
                  + "), so it neither confirms nor contradicts the logistic model.")
    return ExhibitSpec(
        t, cox_title(compare, cox),
        "Cox proportional-hazards model of churn on the same drivers, each contract year an "
        "interval at risk, vs the logistic model of renewal",
        "modelling table, accounts", n=int(cox.get("n") or 0),
        notes=f"{tf.count(cox.get('events'))} churns in {tf.count(cox.get('n'))} contract "
              f"years; tenure is the time scale; ties: {cox.get('ties')}. A hazard ratio "
              "below 1 (less churn) agrees with an odds ratio above 1 (more renewal)."
              + (" Standard errors robust by account." if cox.get("clustered") else "")
              + (" " + ph_sentence(cox.get("ph_check")) if converged else "") + extra)
