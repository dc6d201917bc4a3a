"""Exhibits of the open book: the renewals coming up, their probability of renewal, the MRR
at stake (money a month) and the reasons pulling each one down, in plain words; and their
records for results.json."""

from __future__ import annotations

import math

import pandas as pd

from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec
from playbook.findings.drivers.labels import label, significant


def reason_text(item: dict, currency: str, contact_cap: int | None) -> str:
    """One reason an account's score is low, in plain words (from :func:`open_book`).

    ``contact_cap``: the cap of the days-since-contact features, ``drivers.contact_days_cap``
    (a value at the cap reads "no ... contact in N+ days"; None: no cap)."""
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
              horizon: int, at_risk_below: float, rows: int,
              contact_cap: int | None) -> ExhibitSpec:
    """The renewals to act on: the accounts at risk, largest expected loss first (up to
    ``rows``, ``drivers.open_book_rows``); when none is at risk, the largest expected losses
    among all renewals due. ``contact_cap``: as in :func:`reason_text`."""
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
        "renewal model, accounts, mrr", n=int(summary.get("scored") or 0),
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
