"""Billing lines: the ``mrr`` table read as account, start, end and amount, and the options
its values decide.

Billing systems (Stripe invoice line items, Chargebee invoice lines, ChurnSim
subscriptions) export one row per line with a start and an end (``layout: lines``). Two
things the loader must be told are read off consecutive lines of one subscription:

* ``end_inclusive`` (:func:`detect_end_inclusive`): the next line starting the day after
  the end says the end is the last day paid for (true); on the end day, the first day no
  longer paid for (false);
* ``amount_per: period`` (:func:`detect_amount_per`): lines of several months billing
  about that many times a one-month line carry the amount of the whole period.
"""

from __future__ import annotations

import pandas as pd

from playbook.scaffold.headers import norm, tokens
from playbook.scaffold.sources import Source, column_dates
from playbook.scaffold.tables import TableGuess
from playbook.scaffold.values import TRUE_WORDS, detect_decimal, parse_numbers_loosely

#: Billing interval words -> months ("Plan Interval": month / year).
INTERVAL_MONTHS = {"day": 1 / 30, "daily": 1 / 30, "week": 12 / 52, "weekly": 12 / 52,
                   "month": 1, "monthly": 1, "mthly": 1, "mo": 1, "quarter": 3, "quarterly": 3,
                   "semiannual": 6, "semiannually": 6, "biannual": 6, "halfyear": 6,
                   "halfyearly": 6, "sixmonths": 6, "year": 12, "yearly": 12, "annual": 12,
                   "annually": 12, "yr": 12, "twoyears": 24, "biennial": 24}


def _amounts(source: Source, header: str) -> pd.Series:
    """The amounts of ``header`` (every row), read with the decimal mark its values use."""
    values = source.frame[header]
    decimal, _ = detect_decimal(source.sample()[header])
    return parse_numbers_loosely(values, decimal or ".")


def billing_frame(t: TableGuess) -> pd.DataFrame | None:
    """The proposed ``mrr`` table's rows as account, start, end, amount and proration
    (every row read; the start of a monthly row is its month). None without the columns."""
    cols, src = t.columns, t.source
    start = "start_date" if t.layout == "lines" else "month"
    if not {"account_id", "mrr", start} <= set(cols):
        return None
    frame = pd.DataFrame({
        "account_id": src.frame[cols["account_id"].header].astype(str).str.strip(),
        "start": column_dates(src, cols[start].header),
        "amount": _amounts(src, cols["mrr"].header)}, index=src.frame.index)
    frame["end"] = (column_dates(src, cols["end_date"].header)
                    if t.layout == "lines" and "end_date" in cols else pd.NaT)
    frame["proration"] = (src.frame[cols["proration"].header].astype(str).str.strip()
                          .str.lower().isin(TRUE_WORDS) if "proration" in cols else False)
    return frame


def first_billed(bill: pd.DataFrame) -> pd.Series:
    """Each account's first billed day (recurring lines with a positive amount)."""
    paid = bill[(bill["amount"] > 0) & ~bill["proration"] & bill["start"].notna()]
    return paid.groupby("account_id")["start"].min()


def _line_key(t: TableGuess) -> str | None:
    """The header that tells one subscription (or product) of an account from another."""
    used = {g.header for g in t.columns.values()}
    free = [h for h in t.source.headers if h not in used]
    for words in (("subscription",), ("product", "plan", "sku", "item", "addon", "price")):
        for h in free:
            if set(tokens(h)) & set(words) and not set(tokens(h)) & {
                    "amount", "interval", "start", "end", "date", "quantity"}:
                return h
    return None


def detect_end_inclusive(t: TableGuess, bill: pd.DataFrame) -> tuple[bool | None, str]:
    """Whether the lines' end date is the last day paid for, from consecutive lines of one
    subscription: the next starting the day after the end says inclusive; on the end day
    says exclusive. (None, why) when the lines cannot tell."""
    if t.layout != "lines" or "end_date" not in t.columns:
        return None, ""
    key = _line_key(t)
    lines = bill[~bill["proration"] & bill["start"].notna() & bill["end"].notna()].copy()
    lines["_key"] = lines["account_id"] + ("\x00" + t.source.frame.loc[lines.index, key]
                                           .astype(str) if key else "")
    lines = lines.sort_values(["_key", "start"])
    gap = (lines.groupby("_key")["start"].shift(-1) - lines["end"]).dt.days
    same, next_day = int((gap == 0).sum()), int((gap == 1).sum())
    n = same + next_day
    what = f"one '{key}'" if key else "one account"
    end = t.columns["end_date"].header
    if n < 3:
        return None, ""
    if next_day >= 0.8 * n:
        return True, (f"likely: in {next_day:,} of {n:,} pairs of consecutive lines of {what} "
                      f"the next starts the day after '{end}': it is the last day paid for")
    if same >= 0.8 * n:
        return False, (f"likely: in {same:,} of {n:,} pairs of consecutive lines of {what} the "
                       f"next starts on '{end}': it is the first day no longer paid for")
    return None, (f"TODO end_inclusive: of {n:,} pairs of consecutive lines of {what}, {same:,} "
                  f"start on the previous '{end}' and {next_day:,} the day after: ask the client "
                  "whether the end date is the last day paid for (then end_inclusive: true)")


def _interval_header(t: TableGuess) -> str | None:
    """A header holding each line's billing interval ('Plan Interval', 'bill_period_months')."""
    used = {g.header for c, g in t.columns.items() if c != "period_months"}
    for h in t.source.headers:
        words = set(tokens(h))
        if h in used:
            continue
        if "interval" in words or "frequency" in words or {"period", "months"} <= words or (
                {"billing", "cycle"} <= words) or {"term", "months"} <= words:
            return h
    return None


def interval_months(values: pd.Series, header: str) -> pd.Series:
    """Months of each value of an interval column: words ('year' -> 12) or, when the header
    says months, numbers; NaN otherwise."""
    text = values.astype(str).str.strip()
    words = text.map(lambda v: INTERVAL_MONTHS.get(norm(v).removesuffix("s")))
    if "months" in tokens(header) or "month" in tokens(header):
        words = words.fillna(pd.to_numeric(text, errors="coerce"))
    return pd.to_numeric(words, errors="coerce")


def detect_amount_per(t: TableGuess, bill: pd.DataFrame) -> tuple[str | None, str]:
    """``period`` when the lines' amount is billed per period (annual lines carry about
    twelve times a monthly line's amount), with the evidence; (None, note) otherwise. A
    header that says monthly ('mrr', 'Monthly Amount') is monthly."""
    if t.layout != "lines":
        return None, ""
    header = t.columns["mrr"].header
    if "mrr" in norm(header) or {"monthly", "month", "mrr"} & set(tokens(header)):
        return None, ""
    interval = _interval_header(t)
    if interval is not None:
        months = interval_months(t.source.frame[interval], interval)
        where = f"'{interval}'"
    else:
        months = ((bill["end"] - bill["start"]).dt.days / (365.25 / 12)).round()
        where = "their dates"
    lines = bill.assign(months=months)
    lines = lines[~lines["proration"] & (lines["amount"] > 0) & lines["months"].notna()]
    long, short = lines[lines["months"] > 1.5], lines[lines["months"].between(0.5, 1.5)]
    if long.empty:
        return None, ""
    span = f"{long['months'].median():g}"
    if len(long) < 3 or len(short) < 3:
        return None, (f"TODO amount_per: {len(long):,} lines pay for {span} months (by {where}) "
                      f"and too few for one month to compare: if '{header}' is the amount of the "
                      "whole period, set amount_per: period")
    ratio = long["amount"].median() / short["amount"].median()
    if ratio >= float(long["months"].median()) ** 0.5:
        return "period", (f"likely: lines of {span} months (by {where}) bill a median {ratio:.1f} "
                          f"times a one-month line: '{header}' is the amount of the whole period")
    return None, ""


def settle_billing(t: TableGuess) -> pd.DataFrame | None:
    """Propose the billing options of the ``mrr`` table (end_inclusive, amount_per and the
    period_months column) from its values; returns its rows (see :func:`billing_frame`)."""
    bill = billing_frame(t)
    if bill is None:
        return None
    inclusive, note = detect_end_inclusive(t, bill)
    if inclusive is not None:
        t.options["end_inclusive"] = ("true" if inclusive else "false", note)
    elif note:
        t.notes.append(note)
    per, note = detect_amount_per(t, bill)
    if per == "period":
        t.options["amount_per"] = ("period", note)
    else:
        t.columns.pop("period_months", None)  # only read with amount_per: period
        if note:
            t.notes.append(note)
    return bill
