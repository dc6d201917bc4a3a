"""Billing semantics: subscription lines to monthly MRR, and the lifecycle billing implies.

Subscription lines
------------------
A line (account_id, start_date, end_date, mrr) is one paid period or one open subscription,
as Stripe subscription items, Chargebee and Recurly invoices and the "Fighting Churn with
Data" simulator write them. ``mrr`` is the line's *monthly* amount.

* A line covers the half-open interval ``[start_date, end_date)``: a monthly line from
  21 Jan to 21 Feb and the next from 21 Feb to 21 Mar never overlap. Systems that write the
  last day covered (21 Jan to 20 Feb) set ``tables.mrr.end_inclusive: true``; the end is then
  moved one day later.
* A line with no end (open) runs to the as-of date. A line starting after the as-of date is
  not counted.
* Lines that overlap (several products, seats added) add up.
* Lines flagged ``proration`` (one-off credits and charges of a mid-period change) are not
  recurring revenue and are left out.

The MRR of a month (``tables.mrr.mrr_basis``):

``month_end`` (default)
    the sum of the lines active on the month's last day (for the month of the as-of date:
    on the as-of date). This is the run-rate view every SaaS metric (MRR, GRR, NRR, logo
    churn) is defined on: a customer whose last paid period ends on 12 March has no MRR at the
    end of March and churns in March.
``prorated``
    each line contributes its monthly amount times the share of the month's days it covers
    (recognised revenue). A mid-month start or end gives a partial month, so churn and new
    business show as two partial steps. Use it only to reconcile with finance.

Lifecycle from billing
----------------------
When the accounts table lacks a start date, status or churn date (billing systems know them,
CRMs often do not), :func:`lifecycle_from_billing` derives them from the monthly MRR:
start = first day of the first billed month (or the first line's start date), churned = no
MRR in the as-of month after earlier MRR, churn date = the first day of the first unbilled
month after the last billed one (``churn.churn_date_from_billing: first_unbilled_month``) or
the end of the last line (``last_paid_day``, lines only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LINE = "_line"
DAY = pd.Timedelta(days=1)


def _months(values: pd.Series) -> np.ndarray:
    """Month ordinals (months since 1970-01) of datetimes; NaT gives a very large number."""
    stamps = pd.to_datetime(values)
    out = (stamps.dt.year * 12 + stamps.dt.month - 1 - 1970 * 12).astype("float")
    return out.fillna(np.inf).to_numpy()


def exclusive_end(lines: pd.DataFrame, end_inclusive: bool) -> pd.Series:
    """The day after the last covered day of each line (NaT for an open line)."""
    end = lines["end_date"] if "end_date" in lines else pd.Series(pd.NaT, index=lines.index)
    end = pd.to_datetime(end)
    return end + DAY if end_inclusive else end


def line_months(lines: pd.DataFrame, as_of: pd.Timestamp | None, *, end_inclusive: bool = False,
                basis: str = "month_end") -> pd.DataFrame:
    """Expand subscription lines to one row per line and month it counts in.

    Returns columns ``account_id``, ``month`` (first day), ``mrr`` (the line's contribution
    to that month's MRR, in the client's currency) and ``_line`` (the source line number).
    See the module docstring for the rules. ``as_of`` None evaluates up to the last day any
    line covers.
    """
    empty = pd.DataFrame({"account_id": pd.Series(dtype=object),
                          "month": pd.Series(dtype="datetime64[ns]"),
                          "mrr": pd.Series(dtype=float), LINE: pd.Series(dtype="int64")})
    if not len(lines):
        return empty
    start = pd.to_datetime(lines["start_date"]).dt.normalize()
    end = exclusive_end(lines, end_inclusive).dt.normalize()
    if as_of is None:
        last_day = max(start.max(), (end - DAY).max() if end.notna().any() else start.max())
        as_of = pd.Timestamp(last_day)
    as_of = pd.Timestamp(as_of).normalize()
    # the last day a line is in force, capped at the as-of date
    stop = (end - DAY).where(end.notna(), as_of).where(lambda s: s <= as_of, as_of)
    keep = (start <= as_of) & (stop >= start)
    first = _months(start)
    as_of_month = as_of.year * 12 + as_of.month - 1 - 1970 * 12
    if basis == "month_end":
        # active on the month's last day (on the as-of date in the as-of month):
        # months before the month of the exclusive end, or the as-of month when the line
        # is still in force on the as-of date.
        last = _months(end) - 1
        in_force_at_as_of = (end.isna() | (end > as_of)).to_numpy()
        last = np.where(in_force_at_as_of, as_of_month, np.minimum(last, as_of_month))
    elif basis == "prorated":
        last = _months(stop)
    else:
        raise ValueError(f"unknown MRR basis {basis!r}: month_end or prorated")
    n = np.where(keep.to_numpy(), last - first + 1, 0)
    n = np.clip(np.nan_to_num(n, nan=0, posinf=0), 0, None).astype(int)
    if not n.sum():
        return empty
    idx = np.repeat(np.arange(len(lines)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    month_ord = first[idx].astype(int) + offset
    month = pd.to_datetime({"year": 1970 + month_ord // 12, "month": month_ord % 12 + 1,
                            "day": 1})
    amount = lines["mrr"].to_numpy(dtype=float)[idx]
    if basis == "prorated":
        m_first = month.to_numpy()
        m_next = (month + pd.offsets.MonthBegin(1)).to_numpy()
        lo = np.maximum(start.to_numpy()[idx], m_first)
        hi = np.minimum((stop + DAY).to_numpy()[idx], m_next)
        days = (hi - lo) / np.timedelta64(1, "D")
        amount = amount * np.clip(days, 0, None) / ((m_next - m_first) / np.timedelta64(1, "D"))
    return pd.DataFrame({
        "account_id": lines["account_id"].to_numpy()[idx],
        "month": month.astype("datetime64[ns]").to_numpy(),
        "mrr": amount,
        LINE: (lines[LINE].to_numpy()[idx] if LINE in lines else idx + 1),
    })


def monthly_amounts(lines: pd.DataFrame, end_inclusive: bool = False) -> pd.Series:
    """The monthly amount of lines whose ``mrr`` column holds the amount billed for the whole
    period (``tables.mrr.amount_per: period``, e.g. invoice lines of annual plans).

    Divides by ``period_months`` where the line has it, else by the whole number of months
    the line's dates span (``[start, end)``, rounded to the nearest month, at least 1): a
    line from 10 Mar 2024 to 10 Mar 2025 paying 12,000 is 1,000 a month. An open line with
    no ``period_months`` gives NaN (its period is unknown).
    """
    start = pd.to_datetime(lines["start_date"])
    days = (exclusive_end(lines, end_inclusive) - start).dt.days
    months = (days / (365.25 / 12)).round().clip(lower=1)
    if "period_months" in lines:
        given = pd.to_numeric(lines["period_months"], errors="coerce")
        months = given.where(given > 0, months)
    return lines["mrr"].astype(float) / months


def first_billed(monthly: pd.DataFrame) -> pd.Series:
    """First day of each account's first month with MRR > 0 (index: account_id)."""
    paid = monthly[monthly["mrr"] > 0]
    return paid.groupby("account_id")["month"].min()


def lifecycle_from_billing(monthly: pd.DataFrame, as_of: pd.Timestamp, *,
                           line_ends: pd.Series | None = None,
                           churn_date_rule: str = "first_unbilled_month") -> pd.DataFrame:
    """Start date, status, churn date and current MRR of each billed account.

    ``monthly``: canonical monthly MRR (account_id, month, mrr), months up to the as-of date.
    Returns one row per account with any MRR > 0: ``start_date`` (first billed month),
    ``status`` (``churned`` when the as-of month has no MRR, else ``active``),
    ``churn_date`` (for churned accounts: the first day of the month after the last billed
    month, or with ``churn_date_rule="last_paid_day"`` the exclusive end of the account's
    last line from ``line_ends``), ``last_mrr`` (MRR of the last billed month) and
    ``last_billed`` (that month).
    """
    paid = monthly[monthly["mrr"] > 0].sort_values(["account_id", "month"])
    if not len(paid):
        return pd.DataFrame(columns=["start_date", "status", "churn_date", "last_mrr",
                                     "last_billed"])
    as_of_month = pd.Timestamp(as_of).to_period("M").to_timestamp()
    by = paid.groupby("account_id")
    out = pd.DataFrame({"start_date": by["month"].min(), "last_billed": by["month"].max(),
                        "last_mrr": by["mrr"].last()})
    churned = out["last_billed"] < as_of_month
    out["status"] = np.where(churned, "churned", "active")
    churn_date = out["last_billed"] + pd.offsets.MonthBegin(1)
    if churn_date_rule == "last_paid_day" and line_ends is not None:
        churn_date = line_ends.reindex(out.index).fillna(churn_date)
    elif churn_date_rule not in ("first_unbilled_month", "last_paid_day"):
        raise ValueError(f"unknown churn date rule {churn_date_rule!r}")
    out["churn_date"] = pd.to_datetime(churn_date.where(churned)).astype("datetime64[ns]")
    return out
