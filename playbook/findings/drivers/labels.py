"""Names and numbers of the renewal-driver exhibits: the short label and the plain-words
subject of each design column, which coefficients are significant (95% odds-ratio interval
excludes 1), and percentage points and ratios as the titles print them."""

from __future__ import annotations

import pandas as pd

from playbook import textfmt as tf

#: Short labels (charts and tables), with the step each ratio is per.
LABELS = {
    "exec_sponsor": "Executive sponsor",
    "usage_decline": "Usage decline (3 months)",
    "seat_utilisation": "Seat utilisation (+10 pts)",
    "nps_detractor": "NPS detractor",
    "nps_detractor[detractor]": "NPS detractor",
    "nps_detractor[no answer]": "No NPS answer",
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
    "nps_detractor[detractor]": "A detractor answer to the last NPS survey (rather than "
                                "another answer)",
    "nps_detractor[no answer]": "No answer to the NPS survey in the look-back (rather than "
                                "a non-detractor answer)",
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

CHECK_NAMES = ("class balance", "events per model column", "collinearity", "separation",
               "leakage")


def label(term: str) -> str:
    """Short label of a design column: ``segment[Mid-market]`` -> "Segment: Mid-market".

    A client variable's feature is named by its label (params ``variables``), which is
    kept as written: "NPS band[Low]" -> "NPS band: Low". A level with its own label
    (the NPS levels: "No NPS answer") keeps it."""
    if term in LABELS:
        return LABELS[term]
    if "[" in term and term.endswith("]"):
        feature, level = term[:-1].split("[", 1)
        return f"{_capital(feature.replace('_', ' '))}: {level}"
    return LABELS.get(term, _capital(term.replace("_", " ")))


def _capital(text: str) -> str:
    """First letter in capitals, the rest as written (``capitalize`` would lower "NPS")."""
    return text[:1].upper() + text[1:]


def subject(term: str, unit: str = "") -> str:
    """Plain-words subject of a design column's effect sentence."""
    if term in SUBJECTS:
        return SUBJECTS[term]
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


def points(share: float) -> str:
    """An unsigned number of percentage points: 9.4 -> "9.4", 12.2 -> "12"."""
    v = abs(float(share)) * 100
    return f"{v:.0f}" if v >= 9.5 else f"{v:.1f}"


def signed_points(share: float) -> str:
    if tf.is_missing(share):
        return "n/a"
    v = float(share) * 100
    text = f"{abs(v):.0f}" if abs(v) >= 9.5 else f"{abs(v):.1f}"
    if text in ("0.0", "0"):
        return "0.0"
    return ("+" if v > 0 else "−") + text


def ratio_with_interval(est: float, low: float, high: float) -> str:
    if any(tf.is_missing(x) for x in (est, low, high)):
        return tf.number(est, 2) + " (no interval)"
    return f"{est:.2f} ({low:.2f}–{high:.2f})"
