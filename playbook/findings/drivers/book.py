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


def day_text(value: object) -> str:
    """A day as the report writes it, "30 Sep 2026" ("n/a" when missing)."""
    if tf.is_missing(value):
        return "n/a"
    day = pd.Timestamp(value)
    return "n/a" if pd.isna(day) else f"{day.day} {day:%b %Y}"


def renewal_window(horizon: int, as_of: object) -> str:
    """'the next 90 days' or, with the as-of date, 'the 90 days after 30 Sep 2026'."""
    if as_of is None or tf.is_missing(as_of):
        return f"the next {horizon} days"
    return f"the {horizon} days after {day_text(as_of)}"


def open_book_title(summary: dict, horizon: int, currency: str, as_of: object = None) -> str:
    """Rule: count the renewals due after the as-of date and those at risk (below the
    at-risk probability), with the MRR they hold (exposed) and the MRR expected to be lost
    (MRR x probability of not renewing); say 'none at risk' when none is; when the model
    ranks no better than chance (``model_ranks`` False), say it cannot pick the renewals at
    risk, so each one needs a review."""
    window = renewal_window(horizon, as_of)
    due = summary.get("renewals_due", 0)
    if not due:
        return f"No renewal falls due in {window}"
    if summary.get("model_ranks") is False:
        return (f"The renewal model cannot tell which of the {tf.count(due)} renewals due in "
                f"{window} are at risk (no better than chance): review each; together they "
                f"hold {tf.money(summary.get('mrr_due'), currency)} of MRR")
    risky = summary.get("accounts_at_risk", 0)
    if not risky:
        return (f"None of the {tf.count(due)} renewals due in {window} is at risk; together "
                f"they hold {tf.money(summary.get('mrr_due'), currency)} of MRR")
    mrr = tf.money(summary.get("mrr_at_risk"), currency)
    expected = summary.get("expected_loss_at_risk")
    loss = ("" if tf.is_missing(expected) else
            f", {tf.money(expected, currency)} of it expected to be lost")
    return (f"{tf.count(risky)} of the {tf.count(due)} renewals due in {window} are at "
            f"risk, holding {mrr} of MRR{loss}")


def open_book_caveat(coefficients: pd.DataFrame, base_rate: float, summary: dict,
                     at_risk_below: float) -> str:
    """Rule: when no driver is significant, the scores sit near the base renewal rate, so
    say what 'at risk' then means (empty when some driver is significant, or when the model
    ranks no better than chance: the title already says so)."""
    if (len(significant(coefficients)) or not summary.get("renewals_due")
            or summary.get("model_ranks") is False):
        return ""
    where = "below" if base_rate < at_risk_below else "above"
    return (f"Read this list with care: no driver is significant, so every score sits near "
            f"the base renewal rate ({tf.pct(base_rate, 0)}, {where} the "
            f"{tf.pct(at_risk_below, 0)} line). The list ranks renewals by MRR at stake; it "
            "does not single out accounts that look worse than the rest.")


def account_names(accounts: pd.DataFrame, ids: pd.Series) -> tuple[list, list]:
    """Account names (the id when unnamed) and owners of ``ids``."""
    acc = accounts.drop_duplicates("account_id").assign(
        account_id=lambda a: a["account_id"].astype("string")).set_index("account_id")
    names = acc["name"] if "name" in acc else pd.Series(dtype="string")
    owners = acc["owner"] if "owner" in acc else pd.Series(dtype="string")
    ids = ids.astype("string")
    return ([names.get(i, i) if pd.notna(names.get(i, None)) else i for i in ids],
            [owners.get(i, None) for i in ids])


def renewal_dates(dates: pd.Series) -> list[str]:
    """Renewal dates with their year ("9 Dec 2026", no-break spaces so a cell never wraps
    it): a list that crosses a year end must not read as past."""
    return [day_text(d).replace(" ", "\u00a0") for d in pd.to_datetime(dates)]  # one line


def _unranked_book(book: pd.DataFrame, summary: dict, accounts: pd.DataFrame,
                   currency: str, horizon: int, rows: int, as_of: object) -> ExhibitSpec:
    """The renewals due when the model ranks no better than chance: largest MRR first,
    without probabilities or reasons (they would pretend to a ranking the model lacks)."""
    shown = book.sort_values("mrr", ascending=False, kind="stable").head(rows)
    names, owners = account_names(accounts, shown["account_id"])
    table = pd.DataFrame({"account": names, "owner": owners,
                          "renews": renewal_dates(shown["decision_date"]),
                          f"MRR ({currency})": shown["mrr"].to_numpy()})
    more = len(book) - len(shown)
    return ExhibitSpec(
        table, open_book_title(summary, horizon, currency, as_of),
        f"Renewals due in {renewal_window(horizon, as_of)}, largest MRR first",
        "renewal model, accounts, mrr", n=int(summary.get("renewals_due") or 0),
        n_of="renewals due",
        notes=(f"{tf.count(more)} more not shown (all in results.json, open_book). "
               if more > 0 else "")
        + "The model's cross-validated AUC does not clear chance by the margin "
          "drivers.chance_auc_margin (see the exhibit on how well the model predicts): its "
          "scores cannot say which renewal is likelier to be lost, so none is marked at risk "
          "and each needs a review, largest MRR first.",
        formats={f"MRR ({currency})": "{:,.0f}"})


def renewal_rows(renewals: pd.DataFrame, accounts: pd.DataFrame, currency: str
                 ) -> pd.DataFrame:
    """Scored renewals (rows of the open book: ``account_id``, ``decision_date``,
    ``p_renew``, ``mrr``, ``expected_loss``) as the report's tables print them: account,
    owner, renewal date with its year, P(renew), MRR and expected loss (MRR x probability of
    not renewing), money in ``currency`` a month."""
    names, owners = account_names(accounts, renewals["account_id"])
    return pd.DataFrame({
        "account": names,
        "owner": owners,
        "renews": renewal_dates(renewals["decision_date"]),
        "P(renew)": renewals["p_renew"].to_numpy(),
        f"MRR ({currency})": renewals["mrr"].to_numpy(),
        f"expected loss ({currency})": renewals["expected_loss"].to_numpy(),
    })


def open_book(book: pd.DataFrame, summary: dict, accounts: pd.DataFrame, currency: str,
              horizon: int, at_risk_below: float, rows: int,
              contact_cap: int | None, as_of: object = None) -> ExhibitSpec:
    """The renewals to act on: the accounts at risk, largest expected loss first (up to
    ``rows``, ``drivers.open_book_rows``); when none is at risk, the largest expected losses
    among all renewals due; when the model ranks no better than chance, the renewals due by
    MRR (:func:`_unranked_book`). ``contact_cap``: as in :func:`reason_text`; ``as_of``: the
    report's as-of date, said in the subtitle (the book holds renewals after it only)."""
    if summary.get("model_ranks") is False:
        return _unranked_book(book, summary, accounts, currency, horizon, rows, as_of)
    risky = book[book["at_risk"].fillna(False).astype(bool)] if "at_risk" in book else book
    pool = risky if len(risky) else book
    shown = pool.head(rows).copy()
    more = len(pool) - len(shown)
    table = renewal_rows(shown, accounts, currency).assign(**{
        "pulling it down": ["; ".join(reason_text(r, currency, contact_cap) for r in rs) or "–"
                            for rs in shown["reasons"]]})
    window = renewal_window(horizon, as_of)
    return ExhibitSpec(
        table, open_book_title(summary, horizon, currency, as_of),
        (f"Renewals due in {window} at risk (predicted renewal probability "
         f"below {at_risk_below:.0%}), " if len(risky) else
         f"Renewals due in {window}, ")
        + "largest expected loss first (MRR x predicted probability of not renewing)",
        "renewal model, accounts, mrr", n=int(summary.get("scored") or 0),
        n_of="renewals scored",
        notes=(f"{tf.count(more)} more {'at risk ' if len(risky) else ''}not shown "
               "(every account's expected loss is in accounts.xlsx). " if more > 0 else "")
        + f"All {tf.count(summary.get('renewals_due'))} renewals due: "
              f"{tf.money(summary.get('mrr_due'), currency)} MRR exposed, of which the model "
              f"expects {tf.money(summary.get('expected_mrr_loss'), currency)} to be lost "
              f"({tf.number(summary.get('expected_non_renewals'), 0)} non-renewals). Pulling it "
              "down: the significant drivers on which the account compares worst with an "
              "average decision (most negative coefficient x (value - average)). "
              "Associations, not causes: use them to choose whom to call first.",
        formats={"P(renew)": "{:.0%}", f"MRR ({currency})": "{:,.0f}",
                 f"expected loss ({currency})": "{:,.0f}"})


def book_record(book: pd.DataFrame, summary: dict, as_of: object = None) -> dict:
    """The open book for results.json: its summary, the as-of date (ISO; every renewal is
    due after it) and one row per renewal."""
    cols = ["account_id", "decision_date", "p_renew", "mrr", "expected_loss", "at_risk"]
    rows = book[cols].copy()
    rows["reasons"] = [[r["column"] for r in rs] for rs in book["reasons"]]
    day = None if as_of is None else pd.Timestamp(as_of).date().isoformat()
    return {**summary, "as_of": day, "accounts": rows}


def risk_record(risk: pd.DataFrame) -> dict:
    """First version's summary of :func:`playbook.analyses.drivers.risk_scores`."""
    scored = risk.dropna(subset=["p_renew"])
    return {"scored": int(len(scored)),
            "expected_non_renewals": float(scored["p_not_renew"].sum()),
            "contract_value_at_risk": float(scored.get("contract_value_at_risk",
                                                       pd.Series(dtype=float)).sum())}
