"""The account workbook: the account plan (:func:`playbook.account_plan.account_plan`) as an
Excel workbook a CS manager works from and a CSV a CRM imports (``docs/account-workbook.md``).

The XLSX holds a summary sheet (accounts and money by next action and by owner), every
account on one sheet, and one sheet per owner sorted as a to-do list (due date, then expected
loss and MRR, largest first). Each account sheet (columns :data:`SHEET_COLUMNS`: the action
right after the account) has a frozen header and name, filters, number formats (money in the
client's currency, shares as %, dates ``yyyy-mm-dd``), the health band coloured in the
report's palette (:data:`playbook.charts.RAG`) and a note on each header defining the column.

Client text is hostile: a text value a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return: :func:`is_formula_like`) is written as
text: in the XLSX the cell's type is string with Excel's quote prefix, in the CSV the value is
prefixed with a single quote. Characters XML cannot hold are dropped. Both files are written
atomically (:mod:`playbook.storage`).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from playbook import textfmt as tf
from playbook.account_plan import (
    ACTIONS,
    COLUMNS,
    DATE_COLUMNS,
    MONEY_COLUMNS,
    SHARE_COLUMNS,
)
from playbook.charts import ACCENT, RAG
from playbook.storage import atomic_path, write_text

#: First characters that make a spreadsheet read a text as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limits: sheet-name length, characters a sheet name cannot hold, text per cell.
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
CELL_TEXT_MAX = 32767
#: File names of the workbook and its CSV in the report folder (beside report.pdf).
XLSX_NAME = "accounts.xlsx"
CSV_NAME = "accounts.csv"
#: Sheet names the workbook uses itself (and Excel's reserved "History").
SUMMARY_SHEET = "Summary"
ALL_SHEET = "All accounts"
RESERVED_SHEETS = (SUMMARY_SHEET, ALL_SHEET, "History")
NO_OWNER = "(no owner)"
#: The account sheets' column order: a to-do list, so the action and its due date come right
#: after the account (the CSV keeps :data:`playbook.account_plan.COLUMNS`' order).
TO_DO_FIRST = ("account_id", "account_name", "next_action", "next_action_due",
               "next_action_reason")
SHEET_COLUMNS = TO_DO_FIRST + tuple(c for c in COLUMNS if c not in TO_DO_FIRST)
DATE_FORMAT = "yyyy-mm-dd"
SHARE_FORMAT = "0%"
SCORE_FORMAT = "0"
HEADER_FONT = Font(bold=True)
#: Health band fills: the report's palette (the band needing action in the accent).
BAND_FILLS = {band: PatternFill("solid", fgColor=colour.lstrip("#").upper())
              for band, colour in RAG.items()}
BAND_FONTS = {band: Font(color="FFFFFF" if colour == ACCENT else "000000")
              for band, colour in RAG.items()}


def is_formula_like(value: Any) -> bool:
    """True when ``value`` is text a spreadsheet would run as a formula: it starts with
    one of :data:`FORMULA_STARTS`."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def clean_text(value: str) -> str:
    """``value`` without the control characters XML cannot hold, cut to Excel's
    :data:`CELL_TEXT_MAX` characters a cell."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)[:CELL_TEXT_MAX]


def csv_text(value: str) -> str:
    """``value`` as a CSV cell: prefixed with a single quote when formula-like
    (:func:`is_formula_like`), so a spreadsheet opening the file shows it as text."""
    return "'" + value if is_formula_like(value) else value


def money_format(currency: str) -> str:
    """Excel number format of an amount in ``currency`` (ISO code): ``#,##0 "USD"``, negative
    amounts with a minus sign."""
    code = re.sub(r"[^A-Z]", "", currency.upper())[:3]
    return f'#,##0 "{code}";-#,##0 "{code}"'


def sheet_names(owners: Sequence[str]) -> dict[str, str]:
    """A valid, unique Excel sheet name for each owner: :data:`SHEET_NAME_FORBIDDEN`
    characters replaced by ``_``, no leading or trailing apostrophe or space, at most
    :data:`SHEET_NAME_MAX` characters, blank -> :data:`NO_OWNER`; a name already taken
    (compared without case, the workbook's own sheets included) gets `` (2)``, `` (3)``...
    cut to fit."""
    taken = {name.lower() for name in RESERVED_SHEETS}
    out: dict[str, str] = {}
    for owner in owners:
        base = SHEET_NAME_FORBIDDEN.sub("_", clean_text(str(owner)))
        base = base.strip(" '") or NO_OWNER
        base = base[:SHEET_NAME_MAX].rstrip(" '") or NO_OWNER
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            suffix = f" ({n})"
            name = base[:SHEET_NAME_MAX - len(suffix)].rstrip(" '") + suffix
        taken.add(name.lower())
        out[owner] = name
    return out


def owner_label(owner: Any) -> str:
    """The owner as shown and grouped on: :data:`NO_OWNER` when blank."""
    if owner is None or (isinstance(owner, float) and math.isnan(owner)) or owner is pd.NA:
        return NO_OWNER
    text = str(owner).strip()
    return text or NO_OWNER


def to_do_order(plan: pd.DataFrame) -> pd.DataFrame:
    """``plan`` as a to-do list: by ``next_action_due`` (soonest first, no action last),
    then ``expected_loss`` and ``mrr`` (largest first), then ``account_id``."""
    return plan.sort_values(["next_action_due", "expected_loss", "mrr", "account_id"],
                            ascending=[True, False, False, True], na_position="last",
                            kind="stable").reset_index(drop=True)


def summary_tables(plan: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The summary sheet's two tables.

    By action (every action of :data:`ACTIONS`, in priority order): ``next_action``,
    ``accounts``, ``mrr``, ``expected_loss``, ``expansion_potential_mrr`` (sums, money a
    month; blank when the plan has no value of that column at all). By owner
    (:func:`owner_label`, by name): ``owner``, ``accounts``, ``actions_due`` (accounts with an
    action other than ``no_action``), ``first_due`` (the earliest due date), ``mrr``,
    ``expected_loss``, ``expansion_potential_mrr``.
    """
    money = ["mrr", "expected_loss", "expansion_potential_mrr"]
    p = plan.assign(owner=plan["owner"].map(owner_label))
    by_action = p.groupby("next_action")
    actions = pd.DataFrame({"accounts": by_action.size()}).join(by_action[money].sum())
    actions = actions.reindex(list(ACTIONS)).fillna(0)
    actions["accounts"] = actions["accounts"].astype(int)
    unknown = [c for c in money if p[c].isna().all()]  # not measured: blank, not 0
    actions = actions.rename_axis("next_action").reset_index()
    by_owner = p.groupby("owner", sort=True)
    owners = pd.DataFrame({
        "accounts": by_owner.size(),
        "actions_due": by_owner["next_action"].agg(lambda a: int((a != "no_action").sum())),
        "first_due": by_owner["next_action_due"].min(),
    }).join(by_owner[money].sum()).rename_axis("owner").reset_index()
    actions[unknown] = np.nan
    owners[unknown] = np.nan
    return actions, owners


def write_workbook(plan: pd.DataFrame, path_xlsx: Path, path_csv: Path, *, currency: str,
                   as_of: Any, title: str) -> tuple[Path, Path]:
    """Write ``plan`` (:func:`playbook.account_plan.account_plan`) to ``path_xlsx`` and
    ``path_csv``, each atomically; returns both paths.

    ``currency``: ISO code of the money columns; ``as_of``: the plan's as-of date (on the
    summary sheet); ``title``: the summary sheet's first line (e.g. the client's name).
    """
    book = workbook(plan, currency=currency, as_of=as_of, title=title)
    with atomic_path(Path(path_xlsx), "the account workbook") as tmp:
        book.save(tmp)
    write_text(Path(path_csv), plan_csv(plan), "the account plan (CSV)")
    return Path(path_xlsx), Path(path_csv)


def workbook(plan: pd.DataFrame, *, currency: str, as_of: Any, title: str) -> Workbook:
    """The account workbook in memory (see the module docstring)."""
    missing = [c for c in COLUMNS if c not in plan]
    if missing:
        raise ValueError(f"the plan lacks column(s) {missing}")
    plan = plan[list(SHEET_COLUMNS)]
    book = Workbook()
    summary = book.active
    summary.title = SUMMARY_SHEET
    write_summary(summary, plan, currency=currency, as_of=as_of, title=title)
    write_accounts(book.create_sheet(ALL_SHEET), to_do_order(plan), currency=currency)
    labels = plan["owner"].map(owner_label)
    names = sheet_names(sorted(labels.unique()))
    for owner, name in names.items():
        write_accounts(book.create_sheet(name), to_do_order(plan[labels == owner]),
                       currency=currency)
    return book


def write_summary(sheet: Worksheet, plan: pd.DataFrame, *, currency: str, as_of: Any,
                  title: str) -> None:
    """The summary sheet: title, as-of date and currency, then the two tables of
    :func:`summary_tables` with headers in bold."""
    actions, owners = summary_tables(plan)
    money = money_format(currency)
    put(sheet, 1, 1, f"Account action plan: {title}" if title else "Account action plan")
    sheet.cell(1, 1).font = HEADER_FONT
    put(sheet, 2, 1, f"As of {tf.date(as_of)}; money in {currency} a month (MRR), "
                     f"{len(plan)} active accounts")
    row = 4
    for table in (actions, owners):
        for j, col in enumerate(table.columns, start=1):
            put(sheet, row, j, col).font = HEADER_FONT
        for values in table.itertuples(index=False):
            row += 1
            for j, (col, value) in enumerate(zip(table.columns, values, strict=True),
                                             start=1):
                cell = put(sheet, row, j, value)
                cell.number_format = (money if col in MONEY_COLUMNS else DATE_FORMAT
                                      if col == "first_due" else cell.number_format)
        row += 3
    for j in range(1, 8):
        sheet.column_dimensions[get_column_letter(j)].width = 22


def write_accounts(sheet: Worksheet, plan: pd.DataFrame, *, currency: str) -> None:
    """One account per row under a frozen header with filters, number formats, the health
    band coloured and a note defining each column (:data:`playbook.account_plan.COLUMNS`)."""
    columns = list(plan.columns)
    money = money_format(currency)
    formats = {c: money for c in MONEY_COLUMNS} | dict.fromkeys(SHARE_COLUMNS, SHARE_FORMAT) \
        | dict.fromkeys(DATE_COLUMNS, DATE_FORMAT) | {
            c: SCORE_FORMAT for c in columns if c.endswith("score")}
    for j, col in enumerate(columns, start=1):
        cell = put(sheet, 1, j, col)
        cell.font = HEADER_FONT
        cell.comment = Comment(COLUMNS.get(col, col), "cs-playbook", width=320, height=110)
        sheet.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(col) + 4))
    band_col = columns.index("health_band") + 1 if "health_band" in columns else None
    for i, values in enumerate(plan.itertuples(index=False), start=2):
        for j, (col, value) in enumerate(zip(columns, values, strict=True), start=1):
            cell = put(sheet, i, j, value)
            if col in formats:
                cell.number_format = formats[col]
        if band_col is not None:
            band = sheet.cell(i, band_col).value
            if isinstance(band, str) and band.lower() in BAND_FILLS:
                sheet.cell(i, band_col).fill = BAND_FILLS[band.lower()]
                sheet.cell(i, band_col).font = BAND_FONTS[band.lower()]
    sheet.freeze_panes = "C2"  # the header and the account's ID and name stay in view
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{max(len(plan) + 1, 1)}"


def put(sheet: Worksheet, row: int, col: int, value: Any) -> Cell:
    """Write one value as data, never as a formula: text is cleaned (:func:`clean_text`) and
    always stored as a string, a formula-like one (:func:`is_formula_like`) with Excel's
    quote prefix; blanks stay empty; dates are days; numpy scalars become Python numbers."""
    value = cell_value(value)
    cell = sheet.cell(row, col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store "=..." as a formula
        if is_formula_like(value):
            cell.quotePrefix = True
    return cell


def cell_value(value: Any) -> Any:
    """``value`` as a spreadsheet holds it: None for blanks (NaN, NaT, ``<NA>``), a
    ``datetime`` for a date, a bool, int or float for a number, otherwise cleaned text."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, datetime | date | bool | int | float):
        return value
    if hasattr(value, "item"):  # numpy scalar
        return cell_value(value.item())
    return clean_text(str(value))


def plan_csv(plan: pd.DataFrame) -> str:
    """``plan`` as CSV text (UTF-8, the columns of :data:`playbook.account_plan.COLUMNS`):
    text cells quoted, formula-like text prefixed with a single quote (:func:`csv_text`),
    dates ``YYYY-MM-DD``, flags ``TRUE``/``FALSE``, blanks empty, numbers as Python writes
    them."""
    plan = plan[list(COLUMNS)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(list(plan.columns))
    for values in plan.itertuples(index=False):
        writer.writerow(list(csv_row(values)))
    return buffer.getvalue()


def csv_row(values: Iterable[Any]) -> Iterable[Any]:
    """The CSV cells of one row: numbers stay numbers (unquoted), the rest is text."""
    for value in values:
        v = cell_value(value)
        if v is None:
            yield ""
        elif isinstance(v, bool):
            yield "TRUE" if v else "FALSE"
        elif isinstance(v, datetime | date):
            yield v.strftime("%Y-%m-%d")
        elif isinstance(v, int | float):
            yield v
        else:
            yield csv_text(v)
