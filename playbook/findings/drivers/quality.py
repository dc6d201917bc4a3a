"""Exhibits of the renewal model's predictive quality: lift by decile of predicted risk and
calibration of predicted renewal probabilities, titled from the cross-validated AUC and
Brier score."""

from __future__ import annotations

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec


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
        "modelling table", n=int(quality.get("n") or 0), n_of="renewal decisions",
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
        n_of="renewal decisions",
        notes=f"Brier score (mean squared error of the probability; lower is better) "
              f"{tf.number(quality.get('brier'), 3)} vs "
              f"{tf.number(quality.get('brier_baseline'), 3)} for predicting the base rate. "
              "Red: the bin's interval misses the prediction.")
