"""Exhibit and assumptions of customer lifetime value per value tier."""

from __future__ import annotations

from typing import Any

import pandas as pd

from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec
from playbook.findings.segments.phrases import day_text


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
            f"logo churn over the 12 months from {day_text(window[0])} to {day_text(window[1])} "
            "(tiers as they stood then); annual contracts really lose customers at renewal, "
            "so this smooths a step curve. The rule of thumb, monthly revenue / monthly "
            "churn, has no margin, discounting or horizon, so it overstates value, most "
            "where churn is low." + book)
