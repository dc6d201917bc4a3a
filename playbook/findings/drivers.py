"""Exhibits and sentences of the renewal-driver section."""

from __future__ import annotations

from typing import Any

import pandas as pd

from playbook import charts
from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec

LABELS = {
    "exec_sponsor": "Executive sponsor",
    "usage_decline": "Usage decline (3 months)",
    "seat_utilisation": "Seat utilisation (+10 pts)",
    "nps_detractor": "NPS detractor",
    "high_priority_tickets_90d": "High-priority tickets (each)",
    "days_since_exec_contact": "Days since exec contact (+30)",
    "days_since_user_contact": "Days since user contact (+30)",
    "strong_user_relationships": "Strong user relationships (each)",
    "tenure_years": "Tenure (per year)",
    "products": "Products owned (each)",
    "onboarding_steps": "Onboarding steps done (each)",
    "contract_value": "Contract value (+1 SD)",
}


def label(feature: str) -> str:
    return LABELS.get(feature, feature.replace("_", " ").capitalize())


def significant(coefs: pd.DataFrame) -> pd.DataFrame:
    """Rows whose 95% odds-ratio interval excludes 1."""
    return coefs[(coefs["or_low"] > 1) | (coefs["or_high"] < 1)]


def forest_title(model: Any) -> str:
    """Rule: name the strongest significant driver by absolute average marginal effect; say
    'no driver is significant' when every interval crosses 1."""
    sig = significant(model.coefficients)
    if sig.empty:
        return "No driver is significant: every odds-ratio interval crosses 1"
    top = sig.loc[sig["ame"].abs().idxmax()]
    verb = "raises" if top["ame"] > 0 else "lowers"
    return (f"{label(top['feature'])} {verb} the chance of renewal most, by "
            f"{abs(top['ame']) * 100:.0f} points; {len(sig)} of {len(model.coefficients)} "
            "drivers are significant")


def forest(model: Any) -> ExhibitSpec:
    coefs = model.coefficients.copy()
    coefs["label"] = coefs["feature"].map(label)
    fig, ax = charts.new_figure(0.3 * len(coefs) + 0.9)
    charts.forest(coefs, ax, estimate="odds_ratio", low="or_low", high="or_high",
                  label_col="label")
    return ExhibitSpec(
        fig, forest_title(model),
        "Odds ratio of renewal per unit of each driver, with 95% intervals, measured "
        "90 days before each decision",
        "renewals, usage, surveys, tickets, contacts, touches, onboarding", n=model.n,
        notes=f"Logistic regression ({model.method}); {model.events:,} non-renewals. Grey: "
              "interval crosses 1 (not significant).")


def effects_sentence(model: Any) -> str:
    sig = significant(model.coefficients).sort_values("ame", key=abs, ascending=False)
    if sig.empty:
        return ("No feature's effect on renewal is distinguishable from zero at 95%; the "
                "data do not show what drives renewal.")
    parts = []
    for _, row in sig.head(4).iterrows():
        unit = row.get("unit") or "per unit"
        parts.append(f"{label(row['feature']).lower()} {tf.points(row['ame'], 0)} "
                     f"({unit})")
    return ("In probability of renewal, holding the other drivers fixed: "
            + "; ".join(parts) + ".")


def checks_sentence(model: Any, built: dict) -> str:
    c = model.checks
    bal = c.get("class_balance", {})
    text = (f"Model checks: {model.n:,} decisions with complete features, "
            f"{tf.pct(bal.get('share_renewed'), 0)} renewed; "
            f"{tf.number(model.events_per_feature, 0)} non-renewals per feature. ")
    dropped = c.get("vif_dropped") or {}
    text += (f"Dropped for collinearity (VIF > 10): {', '.join(map(label, dropped))}. "
             if dropped else "No feature was collinear (all VIF <= 10). ")
    sep = c.get("separation", {})
    if sep.get("detected"):
        text += "Perfect prediction was detected, so a penalised fit was used. "
    skipped = built.get("skipped") or {}
    if skipped:
        text += f"Features not built for lack of data: {', '.join(map(label, skipped))}. "
    for warning in c.get("warnings", []):
        text += warning.rstrip(".") + ". "
    return text.strip()


def lift_title(quality: dict) -> str:
    auc = quality.get("auc")
    if tf.is_missing(auc):
        return "Too few decisions to cross-validate the model"
    strength = ("predicts renewal well" if auc >= 0.75 else "predicts renewal moderately"
                if auc >= 0.65 else "predicts renewal weakly")
    return (f"The model {strength} on accounts it has not seen: cross-validated AUC "
            f"{auc:.2f} against 0.50 for a coin toss")


def lift(table: pd.DataFrame, quality: dict) -> ExhibitSpec:
    t = table.copy()
    keep = [c for c in t.columns if c in ("decile", "n", "mean_predicted", "observed_rate",
                                           "events", "lift")]
    t = (t[keep] if keep else t).rename(columns={
        "events": "renewed", "mean_predicted": "predicted renewal",
        "observed_rate": "observed renewal"})
    return ExhibitSpec(
        t, lift_title(quality),
        f"Renewal by decile of out-of-fold predicted probability, {quality.get('folds')}-fold "
        "cross-validation",
        "modelling table", n=int(quality.get("n") or 0),
        notes=f"Brier score {tf.number(quality.get('brier'), 3)} vs "
              f"{tf.number(quality.get('brier_baseline'), 3)} for the base rate "
              f"(skill {tf.pct(quality.get('brier_skill'), 0)}).",
        formats={"decile": "{:.0f}", "n": "{:,.0f}", "renewed": "{:,.0f}",
                 "predicted renewal": "{:.1%}", "observed renewal": "{:.1%}",
                 "lift": "{:.2f}"})


def model_record(model: Any, built: dict) -> dict:
    return {"method": model.method, "n": model.n, "events": model.events,
            "features": model.features, "coefficients": model.coefficients,
            "skipped_features": built.get("skipped"), "notes": built.get("notes"),
            "warnings": model.checks.get("warnings")}


def risk_record(risk: pd.DataFrame) -> dict:
    scored = risk.dropna(subset=["p_renew"])
    return {"scored": int(len(scored)),
            "expected_non_renewals": float(scored["p_not_renew"].sum()),
            "contract_value_at_risk": float(scored.get("contract_value_at_risk",
                                                       pd.Series(dtype=float)).sum())}


def at_risk(risk: pd.DataFrame, accounts: pd.DataFrame, currency: str, horizon: int,
            top: int = 12) -> ExhibitSpec:
    scored = risk.dropna(subset=["p_renew"]).copy()
    names = accounts.set_index("account_id")[["name", "owner"]]
    scored = scored.join(names, on="account_id")
    col = "contract_value_at_risk" if "contract_value_at_risk" in scored else "p_not_renew"
    shown = scored.sort_values(col, ascending=False).head(top)
    table = pd.DataFrame({
        "account": shown["name"].fillna(shown["account_id"]),
        "owner": shown["owner"],
        "renewal": shown["decision_date"].dt.strftime("%d %b %Y"),
        "P(renew)": shown["p_renew"],
        f"ARR at risk ({currency})": shown.get("contract_value_at_risk"),
    })
    total = scored.get("contract_value_at_risk", pd.Series(dtype=float)).sum()
    title = (f"{len(scored):,} renewals are due in the next {horizon} days; the model expects "
             f"{scored['p_not_renew'].sum():.0f} of them to be lost, "
             f"{tf.money(total, currency)} of ARR at risk")
    return ExhibitSpec(table, title,
                       f"Accounts with the most ARR at risk among renewals due within {horizon} "
                       "days, predicted probability of renewal", "model, accounts",
                       n=len(scored),
                       formats={"P(renew)": "{:.0%}", f"ARR at risk ({currency})": "{:,.0f}"})
