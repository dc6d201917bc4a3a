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

from playbook import textfmt as tf
from playbook.billing import LINE, line_months, monthly_amounts
from playbook.config_tables import TableParams
from playbook.contract import TABLES
from playbook.quality import QualityLog
from playbook.reading import file_error
from playbook.rows import account_codes


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
    ids, accounts, month, sums, lines, several = account_month_sums(frame, month_codes,
                                                                    max(len(months), 1))
    del month_codes
    if several and tp.layout == "monthly":
        log.add("mrr", "info", f"{tf.plural(several, 'account-month')} "
                f"{tf.noun(several, 'has', 'have')} several "
                "lines; summed", count=several)
    out = pd.DataFrame({"account_id": accounts.take(ids), "month": months.take(month),
                        "mrr": sums, LINE: lines}, copy=False)
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
    ``account_id`` (categorical: the frame's IDs as categories), ``_m`` (the month as year
    * 12 + month - 1), ``mrr`` (the month's sum, blank amounts as 0), ``line`` (its first
    line); sorted by account, then month; rows without an account or a month left out:
    ``frame.groupby(["account_id", "_m"])``'s sums and minimums (:func:`account_month_sums`).
    """
    months = frame["month"].to_numpy(dtype="datetime64[ns]")
    dated = ~np.isnat(months)
    # each row's month as months since the first one, -1 for none (one array, in place)
    codes = months.astype("datetime64[M]").view(np.int64)
    first = int(codes.min(where=dated, initial=np.iinfo(np.int64).max)) if dated.any() else 0
    np.subtract(codes, first, out=codes, where=dated)
    codes[~dated] = -1
    span = int(codes.max()) + 1 if dated.any() else 1
    ids, accounts, month, sums, lines, _ = account_month_sums(frame, codes, span)
    del codes
    month += first + 1970 * 12
    return pd.DataFrame({"account_id": pd.Categorical.from_codes(ids, dtype=pd.CategoricalDtype(
                             accounts)),
                         "_m": month, "mrr": sums, "line": lines}, copy=False)


def account_month_sums(frame: pd.DataFrame, month_codes: np.ndarray, months: int
                       ) -> tuple[np.ndarray, pd.Index, np.ndarray, np.ndarray, np.ndarray,
                                  int]:
    """Per account and month of ``frame`` (account_id, mrr, line), in the order of
    ``frame.groupby(["account_id", month], sort=True)``: (each account-month's account as
    its position in the accounts, the accounts (sorted), the month codes, the sums of
    ``mrr`` (blank amounts as 0, currency units), the first ``_line``, the number of
    account-months of several rows). ``month_codes``: each row's month as a code from 0 to
    ``months - 1`` in the months' order, -1 for none; a row without an account or a month
    is left out, as the groupby leaves it. By numpy on sorted integer codes; the sums of
    account-months of several rows (rare) by pandas' groupby itself (its compensated sum,
    to the bit). Written for memory: at 1,000,000 accounts (20.6M rows) it held 2.1 GB of
    row-long arrays at once, the peak of loading mrr; it now holds about half."""
    key, accounts = account_codes(frame)  # (factorized once when the table was checked)
    amounts = frame["mrr"].to_numpy(dtype=float, na_value=np.nan)
    lines = frame[LINE].to_numpy()
    known = (key >= 0) & (month_codes >= 0)
    everything = bool(known.all())
    key = key.astype(np.int64, copy=False)
    key *= months  # each row's account and month as one number, in place
    key += month_codes
    if not everything:
        key, amounts, lines = key[known], amounts[known], lines[known]
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = (np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key)
             else np.zeros(0, dtype=np.int64))
    several = len(key) - len(first)  # rows beyond an account-month's first
    if several:
        sizes = np.diff(np.r_[first, len(key)])
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
        first_lines = np.minimum.reduceat(lines[order], first)
        key = key[first]
        several = int((sizes > 1).sum())
    else:  # one row each (the usual export): the rows in their order, nothing to group
        sums = amounts[order]
        sums[np.isnan(sums)] = 0.0
        sums += 0.0  # (a sum from 0: -0.0 is 0.0)
        first_lines = lines[order]
    del order
    month = key % months
    key //= months
    return key, accounts, month, sums, first_lines, several


def _holes(billed: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``billed`` (:func:`billed_months`) followed, for the same account, by a
    later month after a run of missing ones, both billed (MRR above 0); ``size``: the
    missing months; ``account_id`` as text (not categorical)."""
    month = billed["_m"].to_numpy()
    billed_ = billed["mrr"].to_numpy() > 0
    accounts = billed["account_id"].cat.codes.to_numpy()
    same = np.r_[accounts[1:] == accounts[:-1], False]  # the next row is the same account's
    size = np.r_[month[1:] - month[:-1] - 1, 0]
    found = same & (size > 0) & billed_ & np.r_[billed_[1:], False]
    holes = billed[found]
    return holes.assign(size=size[found].astype(float), account_id=holes["account_id"].astype(
        billed["account_id"].cat.categories.dtype))  # the IDs as the frame's text again


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
