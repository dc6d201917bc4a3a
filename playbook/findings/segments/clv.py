"""Exhibit and assumptions of customer lifetime value per value tier.

A tier's CLV is printed only when its churn is a figure
(:func:`playbook.analyses.clv.withheld_reason`); the book's total only when every tier's is
(:func:`playbook.analyses.clv.defensible_total`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec


def month_text(month: Any) -> str:
    """A month as written in the assumptions: ``Sep 2025``."""
    return pd.Timestamp(month).strftime("%b %Y")


def _withheld(table: pd.DataFrame) -> pd.DataFrame:
    held = table.loc[table["accounts"] > 0]
    return held.loc[held["withheld"].astype(str) != ""]


def withheld_text(table: pd.DataFrame) -> str:
    """The tiers whose CLV is withheld and why, as one clause ("" when none): "the high
    tier's CLV is withheld (no account of the tier churned, ...)". Plain text, for an
    exhibit's notes (escaped there)."""
    parts = [f"the {t} tier's CLV is withheld ({r['withheld']})"
             for t, r in _withheld(table).iterrows()]
    return "; ".join(parts)


def clv_title(table: pd.DataFrame, currency: str, horizon_months: int) -> str:
    """Rule: the top defensible tier's CLV per account, and how many times the bottom
    defensible tier's it is; a withheld tier is named as such, never valued."""
    ok = table.dropna(subset=["clv"])
    ok = ok.loc[ok["accounts"] > 0]
    held = _withheld(table)
    if ok.empty:
        return ("Lifetime value is not given for any tier: no tier's churn rests on enough "
                "churned accounts")
    top, bottom = ok.index[0], ok.index[-1]
    years = f"{horizon_months / 12:g} years"
    text = (f"A {top}-tier account is worth {tf.money(ok.loc[top, 'clv'], currency)} of "
            f"margin over {years}")
    if top != bottom and ok.loc[bottom, "clv"] > 0:
        ratio = ok.loc[top, "clv"] / ok.loc[bottom, "clv"]
        text += f", {ratio:,.0f} times a {bottom}-tier account"
    if len(held):
        names = " and ".join(str(t) for t in held.index)
        text += f"; the {names} {'tier is' if len(held) == 1 else 'tiers are'} not valued"
    return text


def clv_table(table: pd.DataFrame, currency: str, horizon_months: int,
              max_lifetime_months: int) -> ExhibitSpec:
    """CLV per tier beside the rule of thumb; a withheld CLV or an implausible rule of thumb
    prints a dash, explained in the notes."""
    t = table.reset_index()
    t = t.rename(columns={t.columns[0]: "tier"})
    out = pd.DataFrame({
        "tier": t["tier"].astype(str),
        "accounts": t["accounts"],
        f"ARPA ({currency}/month)": t["arpa"],
        "churned / base accounts": [f"{int(c):,} / {int(b):,}" for c, b in
                                    zip(t["churned"], t["base_accounts"], strict=True)],
        "annual logo churn": t["annual_churn"],
        f"still a customer after {horizon_months} months": t["survival_end"],
        f"CLV, NPV of margin ({currency})": t["clv"],
        f"ARPA ÷ monthly churn ({currency})": t["simple_clv"],
    })
    notes = ["Assumptions below the exhibit."]
    held = withheld_text(table)
    if held:
        notes.append(f"A dash in CLV: {held}.")
    implausible = table["clv"].notna() & table["simple_clv"].isna()
    if implausible.any():
        notes.append(f"A dash in the rule of thumb: the lifetime it implies (1 / monthly "
                     f"churn) exceeds {max_lifetime_months / 12:g} years "
                     "(clv.max_lifetime_months), a multiple of ARPA no one would bet on.")
    return ExhibitSpec(
        out, clv_title(table, currency, horizon_months),
        "Customer lifetime value per account by value tier: net present value of expected "
        "margin, beside the simple rule of thumb", "accounts, mrr",
        n=int(table["accounts"].sum()), notes=" ".join(notes),
        formats={f"ARPA ({currency}/month)": "{:,.0f}", "annual logo churn": "{:.1%}",
                 f"still a customer after {horizon_months} months": "{:.0%}",
                 f"CLV, NPV of margin ({currency})": "{:,.0f}",
                 f"ARPA ÷ monthly churn ({currency})": "{:,.0f}"})


def clv_assumptions(*, gross_margin: float, discount_rate: float, horizon_months: int,
                    window: tuple[Any, Any], months: int, min_churned: int,
                    total: float | None, currency: str) -> str:
    """The assumptions under the CLV exhibit; ``window`` = (base month, as-of month) of the
    headline metrics, ``total`` = :func:`playbook.analyses.clv.defensible_total`."""
    book = (" The active base's total value is not given: it needs every tier's CLV."
            if total is None or tf.is_missing(total) else
            f" On these assumptions the active base is worth {tf.money(total, currency)}.")
    scaled = "" if months == 12 else f", annualised from {months} months"
    return (f"Assumptions (clv.* parameters): CLV = MRR x gross margin "
            f"{tf.pct(gross_margin, 0)} x the chance the customer is still there each month, "
            f"discounted at {tf.pct(discount_rate, 0)} a year, over {horizon_months} months. "
            "The chance of staying is (1 - annual logo churn) ^ (months / 12), with each tier's "
            "logo churn on the report's metrics basis: the accounts paying in "
            f"{month_text(window[0])}, by their tier then, that no longer paid in "
            f"{month_text(window[1])}{scaled}. A tier with no churned account, or fewer than "
            f"{min_churned}, is not valued. Annual contracts really lose customers at "
            "renewal, so this smooths a step curve. The rule of thumb, monthly revenue / "
            "monthly churn, has no margin, discounting or horizon, so it overstates value, "
            "most where churn is low." + book)


def clv_not_shown(blocked: dict[str, str]) -> str:
    """One line instead of the CLV exhibit when the headline metrics withhold its inputs
    (:func:`playbook.analyses.clv.withheld_inputs`), each reason said once."""
    names = {"mrr": "MRR", "logo_churn": "logo churn"}
    by_reason: dict[str, list[str]] = {}
    for key, why in blocked.items():
        by_reason.setdefault(why, []).append(names.get(key, key))
    said = "; ".join(f"{' and '.join(n)} {'is' if len(n) == 1 else 'are'} withheld: {why}"
                     for why, n in by_reason.items())
    return (f"Not shown: lifetime value per tier, which rests on each tier's MRR and logo "
            f"churn; {said}. It returns when the headline figures can be trusted (see the "
            "summary and the data-quality appendix).")
