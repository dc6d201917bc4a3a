"""The canonical monthly MRR table from a client's billing rows.

Subscription lines (``tables.mrr.layout: lines``) are expanded to account-months by
:mod:`playbook.billing`; rows of one account and month are summed; holes in the monthly
history of an account are found and handled by the policy ``tables.mrr.gaps``
(:func:`mrr_gaps`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from playbook import textfmt as tf
from playbook.arrow_text import any_arrow_strings
from playbook.billing import LINE, line_months, monthly_amounts
from playbook.config_tables import TableParams
from playbook.contract import TABLES
from playbook.quality import QualityLog
from playbook.reading import file_error


def monthly_mrr(frame: pd.DataFrame, tp: TableParams, as_of: pd.Timestamp | None,
                log: QualityLog) -> pd.DataFrame:
    """Canonical monthly MRR: one row per account and month, lines of a month summed.

    Subscription lines (``layout: lines``) follow :mod:`playbook.billing`: half-open
    ``[start, end)`` periods, MRR of a month by ``tp.mrr_basis``, proration lines left out.
    """
    if tp.layout == "lines":
        if "proration" in frame and frame["proration"].fillna(False).astype(bool).any():
            flagged = frame["proration"].fillna(False).astype(bool)
            log.add("mrr", "info", f"{tf.plural(int(flagged.sum()), 'proration line')} (one-off "
                                   "credits "
                    f"and charges, {float(frame.loc[flagged, 'mrr'].sum()):,.2f} in all) "
                    f"{tf.noun(int(flagged.sum()), 'is', 'are')} "
                    "not recurring revenue; left out of MRR", count=int(flagged.sum()))
            frame = frame.loc[~flagged]
        if tp.amount_per == "period":
            frame = frame.assign(mrr=monthly_amounts(frame, tp.end_inclusive))
            unknown = frame["mrr"].isna()
            if unknown.any():
                log.add("mrr", "warning", f"{tf.plural(int(unknown.sum()), 'open line')} "
                        f"{tf.noun(int(unknown.sum()), 'bills', 'bill')} an amount "
                        "for a period of unknown length (no end date, no period_months): "
                        "left out of MRR", count=int(unknown.sum()),
                        examples=frame.loc[unknown, "account_id"].tolist(),
                        affects=["revenue"])
                frame = frame.loc[~unknown]
        frame = line_months(frame, as_of, end_inclusive=tp.end_inclusive,
                            basis=tp.mrr_basis)
    month_codes, months = pd.factorize(frame["month"], sort=True)
    accounts, month, sums, lines, rows = account_month_sums(frame, month_codes,
                                                            max(len(months), 1))
    several = int((rows > 1).sum())
    if several and tp.layout == "monthly":
        log.add("mrr", "info", f"{tf.plural(several, 'account-month')} "
                f"{tf.noun(several, 'has', 'have')} several "
                "lines; summed", count=several)
    out = pd.DataFrame({"account_id": accounts, "month": months.take(month), "mrr": sums,
                        LINE: lines})
    if as_of is not None:
        out = out[out["month"] <= as_of]
    return out


FILL_GAP_MONTHS = 1  # gaps: fill fills a hole of at most this many months


def _month_label(ordinal: int) -> str:
    return f"{ordinal // 12}-{ordinal % 12 + 1:02d}"


def _hole_label(account: object, first: int, size: int) -> str:
    last = f" to {_month_label(first + size - 1)}" if size > 1 else ""
    return f"{account} {_month_label(first)}{last}"


def mrr_gaps(frame: pd.DataFrame, tp: TableParams, path: Path, log: QualityLog
             ) -> pd.DataFrame:
    """Find months missing from monthly MRR (``layout: monthly``) and apply the policy
    ``tables.mrr.gaps``; returns the frame, holes filled where the policy says so.

    A *hole* is a run of months without any row for an account between two months in which
    it is billed (MRR above 0): left alone, it reads as a churn and a reactivation, and the
    MRR churn, GRR and NRR of that month move by the account's whole MRR.

    * A month with no row for any account between the file's first and last month is a
      month missing from the export: the run stops (with ``gaps: keep``, it is logged as a
      problem instead).
    * ``fill`` (default): a hole of at most :data:`FILL_GAP_MONTHS` month is a row lost from
      the export (a customer who cancels and is billed again the very next month is rare; a
      lost row is not): it is filled with the account's rows of the month before (forward
      fill, the MRR unchanged), and the log names accounts and months (warning). A longer
      hole is a pause (churn, then reactivation), an ordinary event the revenue analysis
      counts as such: kept, not logged.
    * ``keep``: every hole is kept (a pause); the short ones are logged (warning).
    * ``error``: a hole short enough to be a lost row stops the run, naming accounts and
      months.
    """
    if not len(frame):
        return frame
    billed = billed_months(frame)
    if not len(billed):
        return frame
    present = set(billed["_m"].unique().tolist())
    absent = [m for m in range(min(present), max(present) + 1) if m not in present]
    used_by = list(TABLES["mrr"].used_by)
    if absent:
        months = ", ".join(_month_label(m) for m in absent[:12])
        span = max(present) - min(present) + 1
        problem = (f"the file has no row at all for {months} ({len(absent)} of the {span} "
                   f"months from {_month_label(min(present))} to {_month_label(max(present))})")
        if tp.gaps != "keep":
            raise file_error("mrr", path, None, problem + ": the export is incomplete",
                             "one row per account and billed month, every month of the history",
                             "Export the MRR history again with every month. If nothing at all "
                             "was billed in those months, set tables.mrr.gaps: keep.")
        log.add("mrr", "problem", problem + " (kept, tables.mrr.gaps: keep): every account "
                "billed around them churns and comes back", count=len(absent),
                examples=[_month_label(m) for m in absent], affects=used_by, tables=["mrr"],
                caveat=f"the MRR export lacks {months}")
    holes = _holes(billed)
    if holes.empty:
        return frame
    labels = [_hole_label(a, int(m) + 1, int(n))
              for a, m, n in zip(holes["account_id"], holes["_m"], holes["size"], strict=True)]
    short = holes["size"] <= FILL_GAP_MONTHS
    if tp.gaps == "error" and short.any():
        odd = holes[short]
        raise file_error("mrr", path, tp.columns.get("month") or "month",
                         f"{tf.plural(odd['account_id'].nunique(), 'account')} "
                         f"{tf.noun(odd['account_id'].nunique(), 'has', 'have')} "
                         f"{tf.plural(len(odd), 'hole')} "
                         f"of {FILL_GAP_MONTHS} month: no row between two months in which they "
                         "are billed (a lost export row, most likely)",
                         "a row for every month between an account's first and last billed month",
                         "Export the missing rows again, or set tables.mrr.gaps: fill (such a hole "
                         "is filled with the month before) or keep (a pause: churn, then "
                         "reactivation).", odd["line"].tolist(),
                         [label for label, k in zip(labels, short, strict=True) if k], len(odd))
    fill = short & (tp.gaps == "fill")
    if (short & ~fill).any():  # gaps: keep, and holes a lost row would explain
        _log_short_holes(log, holes, labels, short & ~fill, " kept as pauses (churn, then "
                         "reactivation; tables.mrr.gaps: keep), though a lost export row is "
                         "likelier")
    if not fill.any():
        return frame
    _log_short_holes(log, holes, labels, fill, ", billed the month before and after, filled "
                     "with the month before as lost export rows (tables.mrr.gaps: fill)")
    copies = []
    source = frame.assign(_m=frame["month"].dt.year * 12 + frame["month"].dt.month - 1)
    for step in range(1, FILL_GAP_MONTHS + 1):
        wanted = holes.loc[fill & (holes["size"] >= step), ["account_id", "_m"]]
        rows = source.merge(wanted, on=["account_id", "_m"])
        rows["month"] = (rows["month"].dt.to_period("M") + step).dt.to_timestamp().astype(
            "datetime64[ns]")
        copies.append(rows.drop(columns="_m"))
    return pd.concat([frame, *copies], ignore_index=True)


def billed_months(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per account and month of ``frame`` (account_id, month, mrr, line): columns
    ``account_id``, ``_m`` (the month as year * 12 + month - 1), ``mrr`` (the month's sum,
    blank amounts as 0), ``line`` (its first line); sorted by account, then month; rows
    without an account or a month left out: ``frame.groupby(["account_id", "_m"])``'s sums
    and minimums (:func:`account_month_sums`)."""
    months = frame["month"].to_numpy(dtype="datetime64[ns]")
    ordinal = np.full(len(months), -1, dtype=np.int64)
    dated = ~np.isnat(months)
    ordinal[dated] = months[dated].astype("datetime64[M]").astype(np.int64) + 1970 * 12
    low = int(ordinal[dated].min()) if dated.any() else 0
    codes = np.where(dated, ordinal - low, -1)
    span = int(codes.max()) + 1 if dated.any() else 1
    accounts, month, sums, lines, _ = account_month_sums(frame, codes, span)
    return pd.DataFrame({"account_id": accounts, "_m": month + low, "mrr": sums,
                         "line": lines})


def account_month_sums(frame: pd.DataFrame, month_codes: np.ndarray, months: int
                       ) -> tuple[pd.Index, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per account and month of ``frame`` (account_id, mrr, line), in the order of
    ``frame.groupby(["account_id", month], sort=True)``: (the accounts, the month codes,
    the sums of ``mrr`` (blank amounts as 0, currency units), the first ``_line``, the
    rows). ``month_codes``: each row's month as a code from 0 to ``months - 1`` in the
    months' order, -1 for none; a row without an account or a month is left out, as the
    groupby leaves it. By numpy on sorted integer codes; the sums of account-months of
    several rows (rare) by pandas' groupby itself (its compensated sum, to the bit)."""
    codes, accounts = pd.factorize(frame["account_id"], sort=True)
    if accounts.dtype == object:  # (the groupby's accounts as text when all are text)
        accounts = pd.Index(accounts.to_numpy())
    amounts = frame["mrr"].to_numpy(dtype=float, na_value=np.nan)
    lines = frame[LINE].to_numpy()
    known = (codes >= 0) & (month_codes >= 0)
    everything = bool(known.all())
    if not everything:
        codes, month_codes, amounts, lines = (codes[known], month_codes[known],
                                              amounts[known], lines[known])
    key = codes.astype(np.int64) * months + month_codes
    order = np.argsort(key, kind="stable")
    key, amounts, lines = key[order], amounts[order], lines[order]
    first = (np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key)
             else np.zeros(0, dtype=np.int64))
    sizes = np.diff(np.r_[first, len(key)])
    if (sizes > 1).any():
        # several lines in one month: summed by pandas' groupby of the whole column, with
        # the groupby's own group numbers (and none for the rows it leaves out), so that it
        # sums as it did (pairwise or compensated: pandas chooses by the rows' order)
        group = np.empty(len(key), dtype=float)
        group[order] = np.repeat(np.arange(len(first), dtype=float), sizes)
        if not everything:
            group = np.where(known, 0.0, np.nan)
            group[known] = np.repeat(np.arange(len(first), dtype=float), sizes)[
                np.argsort(order, kind="stable")]
        sums = frame["mrr"].groupby(group, sort=True).sum().to_numpy(dtype=float)
    else:
        sums = amounts[first]
        sums = np.where(np.isnan(sums), 0.0, sums) + 0.0  # (a sum from 0: -0.0 is 0.0)
    first_lines = np.minimum.reduceat(lines, first) if len(first) else lines[:0]
    return (accounts.take(key[first] // months), key[first] % months, sums, first_lines,
            sizes)


def _holes(billed: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``billed`` (:func:`billed_months`) followed, for the same account, by a
    later month after a run of missing ones, both billed (MRR above 0); ``size``: the
    missing months."""
    month = billed["_m"].to_numpy()
    billed_ = billed["mrr"].to_numpy() > 0
    same = _same_as_next(billed["account_id"])
    size = np.r_[month[1:] - month[:-1] - 1, 0]
    found = same & (size > 0) & billed_ & np.r_[billed_[1:], False]
    return billed.assign(size=size.astype(float))[found]


def _same_as_next(ids: pd.Series) -> np.ndarray:
    """True where a row's ID equals the next row's (False for the last row; the IDs of
    :func:`billed_months`, none missing). Arrow text is compared by Arrow, a bit a row:
    numbering 20.6 million IDs to compare them took 1 GB at 1,000,000 accounts."""
    cells = any_arrow_strings(ids)
    if cells is None or len(ids) < 2:
        codes = pd.factorize(ids)[0]
        return np.r_[codes[1:] == codes[:-1], False]
    equal = pc.fill_null(pc.equal(cells.slice(1), cells.slice(0, len(ids) - 1)), False)
    return np.r_[np.asarray(equal.to_numpy(zero_copy_only=False), dtype=bool), False]


def _log_short_holes(log: QualityLog, holes: pd.DataFrame, labels: list[str],
                     which: pd.Series, what: str) -> None:
    """Log the holes ``which`` selects (a warning naming up to five), and ``what`` was done
    with them."""
    named = [label for label, k in zip(labels, which, strict=True) if k]
    log.add("mrr", "warning", f"{tf.plural(len(named), 'hole')} of at most {FILL_GAP_MONTHS} "
                              "month in "
            f"the billing of {tf.plural(holes.loc[which, 'account_id'].nunique(), 'account')}"
            f"{what}: "
            f"{', '.join(named[:5])}" + (", …" if len(named) > 5 else ""), count=len(named),
            examples=named, affects=list(TABLES["mrr"].used_by))
