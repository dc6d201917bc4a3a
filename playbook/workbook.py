"""The account workbook: the account plan (:func:`playbook.account_plan.account_plan`) as an
Excel workbook a CS manager works from and a CSV a CRM imports (``docs/account-workbook.md``).

The XLSX holds a summary sheet (accounts and money by next action and by owner), every
account on one sheet, and one sheet per owner sorted as a to-do list (due date, then expected
loss and MRR, largest first). Above ``workbook.owner_sheets_max_accounts`` accounts (params)
the owner sheets are left out, a product choice for consumer-scale books: each account would
be written twice (at 100,000 accounts 2.6 million more cells, about 3 CPU seconds); the
summary sheet then says to filter the all-accounts sheet's owner column, which lists the
same rows in the same to-do order. Each account sheet (columns :data:`SHEET_COLUMNS`: the
action right after the account) has a frozen header and name, filters, number formats
(money in the client's currency, shares as %, dates ``yyyy-mm-dd``), the health band
coloured in the report's palette (:data:`playbook.charts.RAG`) and a note on each header
defining the column. The XLSX is written with XlsxWriter (openpyxl held each of a
100,000-account plan's 2.6M cells as an object, which took minutes and gigabytes), except
the account sheets' rows: each column's values are converted once (:func:`column_values`)
and made into worksheet XML a column at a time by :mod:`playbook.sheet_rows` (XlsxWriter's
per-cell calls took about 15 CPU seconds at 100,000 accounts), then spliced after each
sheet's header row.

Client text is hostile: a text value a spreadsheet would run as a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return: :func:`is_formula_like`) is written as
text: in the XLSX the cell's type is string with Excel's quote prefix, in the CSV the value is
prefixed with a single quote. Characters XML cannot hold are dropped. Both files are written
atomically (:mod:`playbook.storage`).
"""

from __future__ import annotations

import csv
import functools
import io
import math
import re
import tempfile
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from xlsxwriter.worksheet import Worksheet

from playbook import sheet_rows
from playbook import textfmt as tf
from playbook.charts import ACCENT, RAG
from playbook.plan_columns import (
    ACTIONS,
    COLUMNS,
    DATE_COLUMNS,
    MONEY_COLUMNS,
    SHARE_COLUMNS,
)
from playbook.render_publish import CSV_NAME, XLSX_NAME  # noqa: F401 - the file names
from playbook.sheet_rows import ARROW_TEXT, text_scalar
from playbook.storage import atomic_path, write_text

#: First characters that make a spreadsheet read a text as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Excel's limits: sheet-name length, characters a sheet name cannot hold, text per cell.
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
CELL_TEXT_MAX = 32767
#: Sheet names the workbook uses itself (and Excel's reserved "History").
SUMMARY_SHEET = "Summary"
ALL_SHEET = "All accounts"
RESERVED_SHEETS = (SUMMARY_SHEET, ALL_SHEET, "History")
NO_OWNER = "(no owner)"
#: The account sheets' column order: a to-do list, so the action and its due date come right
#: after the account (the CSV keeps :data:`playbook.plan_columns.COLUMNS`' order).
TO_DO_FIRST = ("account_id", "account_name", "next_action", "next_action_due",
               "next_action_reason")
SHEET_COLUMNS = TO_DO_FIRST + tuple(c for c in COLUMNS if c not in TO_DO_FIRST)
DATE_FORMAT = "yyyy-mm-dd"
SHARE_FORMAT = "0%"
SCORE_FORMAT = "0"
#: The format of a date in a column without a number format (openpyxl's default).
DEFAULT_DATE_FORMAT = "yyyy-mm-dd h:mm:ss"
#: Width of the summary sheet's columns (characters).
SUMMARY_WIDTH = 22
#: The note on each account-sheet header (its author and size in pixels).
COMMENT_OPTIONS = {"author": "cs-playbook", "width": 320, "height": 110}


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
                   as_of: Any, title: str,
                   owner_sheets_max_accounts: int | None = None) -> tuple[Path, Path]:
    """Write ``plan`` (:func:`playbook.account_plan.account_plan`) to ``path_xlsx`` and
    ``path_csv``, each atomically; returns both paths.

    ``currency``: ISO code of the money columns; ``as_of``: the plan's as-of date (on the
    summary sheet); ``title``: the summary sheet's first line (e.g. the client's name);
    ``owner_sheets_max_accounts`` (params ``workbook.owner_sheets_max_accounts``): with more
    accounts than this the workbook has no sheet per owner (:func:`owner_sheets`); None
    always writes them.
    """
    check_plan_columns(plan)
    with atomic_path(Path(path_xlsx), "the account workbook") as tmp:
        write_xlsx(plan, tmp, currency=currency, as_of=as_of, title=title,
                   owner_sheets_max_accounts=owner_sheets_max_accounts)
    write_text(Path(path_csv), plan_csv(plan), "the account plan (CSV)")
    return Path(path_xlsx), Path(path_csv)


def check_plan_columns(plan: pd.DataFrame) -> None:
    """Raise ValueError naming the columns of :data:`playbook.plan_columns.COLUMNS` that
    ``plan`` lacks (the workbook writes every one of them)."""
    missing = [c for c in COLUMNS if c not in plan]
    if missing:
        raise ValueError(f"the plan lacks column(s) {missing}")


def owner_sheets(accounts: int, max_accounts: int | None) -> bool:
    """Whether a workbook of ``accounts`` accounts has one sheet per owner: up to
    ``max_accounts`` accounts (None: always). Above it each account is on the all-accounts
    sheet only (written once rather than twice), and an owner finds theirs with its filter
    on the owner column, as the summary sheet says (:data:`NO_OWNER_SHEETS`)."""
    return max_accounts is None or accounts <= max_accounts


#: Rows of an Excel sheet (Excel 2007 and later, header included).
EXCEL_ROWS = 1_048_576


def all_accounts_sheets(plan: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """The all-accounts sheets of ``plan`` in to-do order: one, ``All accounts``, up to
    :data:`EXCEL_ROWS` - 1 accounts; beyond what one sheet holds, ``All accounts (2)``,
    ``(3)`` ... each continuing where the previous one stopped, so that no account is lost
    to Excel's row limit (XlsxWriter leaves out rows past it without an error)."""
    size = EXCEL_ROWS - 1
    return [(ALL_SHEET if i == 0 else f"{ALL_SHEET} ({i + 1})",
             plan.iloc[start:start + size].reset_index(drop=True))
            for i, start in enumerate(range(0, max(len(plan), 1), size))]


#: The summary sheet's line when the owner sheets are left out (:func:`owner_sheets`).
NO_OWNER_SHEETS = ("No sheet per owner above {max:,} accounts: filter the owner column of "
                   "'{sheet}' for an owner's accounts (already in to-do order).")


def write_xlsx(plan: pd.DataFrame, path: Path, *, currency: str, as_of: Any,
               title: str, owner_sheets_max_accounts: int | None = None) -> None:
    """The account workbook (see the module docstring) written to ``path``.

    XlsxWriter writes the workbook in memory (``constant_memory``: the summary's text as
    inline strings) with each account sheet's header row; the sheets' rows go to one
    temporary file, a sheet after the other, a block of rows at a time
    (:func:`write_accounts`), then into the file (:func:`playbook.sheet_rows.splice_rows`).
    Each account is written once on the all-accounts sheet and once on its owner's sheet
    (only on the all-accounts sheet above ``owner_sheets_max_accounts`` accounts:
    :func:`owner_sheets`)."""
    plan = to_do_order(plan[list(SHEET_COLUMNS)])  # one order: each owner's rows keep it
    by_owner = owner_sheets(len(plan), owner_sheets_max_accounts)
    frame = io.BytesIO()
    book = xlsxwriter.Workbook(frame, {"constant_memory": True, "nan_inf_to_errors": True})
    styles = _Styles(book, currency)
    with tempfile.TemporaryFile() as rows_file:  # every account sheet's rows, one by one
        rows: dict[str, sheet_rows.SheetRows] = {}
        try:
            note = None if by_owner else NO_OWNER_SHEETS.format(
                max=owner_sheets_max_accounts, sheet=ALL_SHEET)
            write_summary(book.add_worksheet(SUMMARY_SHEET), plan, styles, as_of=as_of,
                          title=title, note=note)
            parts = all_accounts_sheets(plan)
            if by_owner:
                labels = plan["owner"].map(owner_label)
                parts += [(name, plan[(labels == owner).to_numpy()].reset_index(drop=True))
                          for owner, name in sheet_names(sorted(labels.unique())).items()]
            for name, part in parts:
                rows[name] = write_accounts(book.add_worksheet(name), part, styles, rows_file)
        finally:
            book.close()
        sheet_rows.splice_rows(frame, path, rows)


class _Styles:
    """The workbook's cell formats, each made once: a number format, the quote prefix of
    formula-like text (:func:`is_formula_like`), bold headers and the health band fills
    and fonts (the report's palette, :data:`playbook.charts.RAG`)."""

    def __init__(self, book: xlsxwriter.Workbook, currency: str) -> None:
        self.book = book
        self.currency = currency
        self.money = money_format(currency)
        self._made: dict[tuple[str | None, bool, str | None, bool], Any] = {}

    def get(self, number_format: str | None = None, *, quote: bool = False,
            band: str | None = None, bold: bool = False) -> Any:
        """The format of these properties (None: the default, no format)."""
        key = (number_format, quote, band, bold)
        if key == (None, False, None, False):
            return None
        if key not in self._made:
            props: dict[str, Any] = {}
            if number_format is not None:
                props["num_format"] = number_format
            if quote:
                props["quote_prefix"] = True
            if band is not None:
                colour = RAG[band]
                props |= {"pattern": 1, "bg_color": colour,
                          "font_color": "#FFFFFF" if colour == ACCENT else "#000000"}
            if bold:
                props["bold"] = True
            self._made[key] = self.book.add_format(props)
        return self._made[key]


def write_summary(sheet: Worksheet, plan: pd.DataFrame, styles: _Styles, *, as_of: Any,
                  title: str, note: str | None = None) -> None:
    """The summary sheet: title, as-of date and currency, ``note`` (if any) on the third
    line, then the two tables of :func:`summary_tables` with headers in bold."""
    actions, owners = summary_tables(plan)
    put(sheet, 0, 0, f"Account action plan: {title}" if title else "Account action plan",
        styles, bold=True)
    put(sheet, 1, 0, f"As of {tf.date(as_of)}; money in {styles.currency} a month (MRR), "
        f"{len(plan):,} active accounts", styles)
    if note is not None:
        put(sheet, 2, 0, note, styles)
    sheet.set_column(0, 6, SUMMARY_WIDTH)
    row = 3
    for table in (actions, owners):
        for j, col in enumerate(table.columns):
            put(sheet, row, j, col, styles, bold=True)
        for values in table.itertuples(index=False):
            row += 1
            for j, (col, value) in enumerate(zip(table.columns, values, strict=True)):
                put(sheet, row, j, value, styles,
                    styles.money if col in MONEY_COLUMNS
                    else DATE_FORMAT if col == "first_due" else None)
        row += 3


def write_accounts(sheet: Worksheet, plan: pd.DataFrame, styles: _Styles,
                   rows: IO[bytes]) -> sheet_rows.SheetRows:
    """One account per row under a frozen header with filters, number formats, the health
    band coloured and a note defining each column (:data:`playbook.plan_columns.COLUMNS`).

    The header row, notes, widths, panes and filters go to ``sheet``; the accounts' rows,
    each column converted once a block of rows (:func:`column_values`), are added to
    ``rows`` as worksheet XML with the cells :func:`column_cells` would make
    (:func:`playbook.sheet_rows.write_rows`), for :func:`playbook.sheet_rows.splice_rows`."""
    columns = list(plan.columns)
    formats = column_formats(columns, styles.money)
    for j, col in enumerate(columns):
        put(sheet, 0, j, col, styles, bold=True)
        sheet.write_comment(0, j, COLUMNS.get(col, col), COMMENT_OPTIONS)
        width = max(12, min(40, len(col) + 4))
        sheet.set_column(j, j, width)
    looks = [column_style(styles, formats.get(col), banded=col == "health_band")
             for col in columns]
    size = sheet_rows.BLOCK_ROWS
    blocks = ([column_values(block[col]) for col in columns]
              for block in (plan.iloc[start:start + size]
                            for start in range(0, len(plan), size)))
    start = rows.seek(0, io.SEEK_END)
    last_row = sheet_rows.write_rows(rows, blocks, looks, first_row=1)
    sheet.freeze_panes(1, 2)  # the header and the account's ID and name stay in view
    sheet.autofilter(0, 0, len(plan), len(columns) - 1)
    return sheet_rows.SheetRows(rows, start, rows.tell() - start, last_row, len(columns) - 1)


def column_style(styles: _Styles, number_format: str | None, *,
                 banded: bool = False) -> sheet_rows.ColumnStyle:
    """The formats of a column's cells as :func:`column_cells` picks them: ``number_format``
    for numbers, text, flags and blanks, a date format for dates, the quote prefix for
    formula-like text and, with ``banded``, each health band's fill."""
    return sheet_rows.ColumnStyle(
        plain=styles.get(number_format),
        dated=styles.get(number_format or DEFAULT_DATE_FORMAT),
        quoted=styles.get(number_format, quote=True),
        bands={band: styles.get(number_format, band=band) for band in RAG} if banded else {})


def column_formats(columns: Sequence[str], money: str) -> dict[str, str]:
    """The number format of each account-sheet column that has one: money, shares as %,
    dates ``yyyy-mm-dd``, scores (columns ending ``score``) as whole numbers."""
    return ({c: money for c in MONEY_COLUMNS} | dict.fromkeys(SHARE_COLUMNS, SHARE_FORMAT)
            | dict.fromkeys(DATE_COLUMNS, DATE_FORMAT)
            | {c: SCORE_FORMAT for c in columns if c.endswith("score")})


#: Kinds of the cells of :func:`column_cells`.
_BLANK, _NUMBER, _TEXT, _DATE, _BOOL = range(5)


def column_cells(values: pd.Series, styles: _Styles, number_format: str | None, *,
                 banded: bool = False) -> list[tuple[int, Any, Any]]:
    """Each value of a column as a cell to write: (kind, value, format).

    Values as :func:`cell_value` makes them (:func:`column_values`): blanks (NaN, NaT,
    ``<NA>``, empty text) stay empty (formatted when the column has a number format), dates
    are datetimes, numbers are numbers, text is cleaned text, formula-like text gets Excel's
    quote prefix. With ``banded``, a health band (red / yellow / green, any case) is filled
    in its colour. Each kind's format is looked up once a column, not once a cell."""
    plain = styles.get(number_format)
    blank = (_BLANK, None, plain)
    dated = styles.get(number_format or DEFAULT_DATE_FORMAT)
    out: list[tuple[int, Any, Any]] = []
    add = out.append
    for value in column_values(values):
        kind = type(value)
        if value is None or value == "":
            add(blank)
        elif kind is float or kind is int:
            add((_NUMBER, value, plain))
        elif kind is str:
            if banded and value.lower() in RAG:
                add((_TEXT, value, styles.get(number_format, quote=is_formula_like(value),
                                              band=value.lower())))
            elif value.startswith(FORMULA_STARTS):
                add((_TEXT, value, styles.get(number_format, quote=True)))
            else:
                add((_TEXT, value, plain))
        elif kind is bool:
            add((_BOOL, value, plain))
        elif isinstance(value, datetime | date):
            add((_DATE, value, dated))
        else:
            add((_NUMBER, value, plain))
    return out


def column_values(values: pd.Series) -> list[Any]:
    """:func:`cell_value` of each value of a column, converted a column at a time where the
    dtype allows: floats (NaN is None), integers and flags of NumPy dtypes as they are, naive
    dates of a ``datetime64`` column as datetimes (NaT is None), a nullable boolean or
    integer column with ``<NA>`` as None, and text checked once a column for characters XML
    cannot hold and for Excel's cell limit (each value cleaned only when the column needs
    it). Any other value goes through :func:`cell_value`."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "f":
            return [None if v != v else v for v in values.to_numpy().tolist()]
        if dtype.kind in "iub":
            return values.to_numpy().tolist()
        if dtype.kind == "M":
            dates = values.to_numpy()
            missing = np.isnat(dates).tolist()
            stamps = pd.DatetimeIndex(dates).to_pydatetime().tolist()
            return [None if gone else d for d, gone in zip(stamps, missing, strict=True)]
    elif isinstance(values.array, pd.arrays.BooleanArray | pd.arrays.IntegerArray):
        return values.to_numpy(dtype=object, na_value=None).tolist()
    raw = values.tolist()
    texts = [v for v in raw if type(v) is str]
    joined = "\n".join(texts)  # a line feed is no illegal character
    needs_cleaning = (ILLEGAL_CHARACTERS_RE.search(joined) is not None
                      or max(map(len, texts), default=0) > CELL_TEXT_MAX)
    if needs_cleaning:
        return [clean_text(v) if type(v) is str else cell_value(v) for v in raw]
    # text as it is; the commonest blanks (None, NaN) without a call to cell_value
    return [v if type(v) is str else None if v is None or (type(v) is float and v != v)
            else cell_value(v) for v in raw]


def put(sheet: Worksheet, row: int, col: int, value: Any, styles: _Styles,
        number_format: str | None = None, *, bold: bool = False) -> None:
    """Write one value (row and column from 0) as data, never as a formula: as
    :func:`column_cells` writes a cell."""
    (kind, value, fmt), = column_cells(pd.Series([value], dtype=object), styles,
                                        number_format)
    if bold:
        fmt = styles.get(number_format, quote=is_formula_like(value), bold=True)
    if fmt is not None or kind != _BLANK:
        _writers(sheet)[kind](row, col, value, fmt)


def _writers(sheet: Worksheet) -> tuple[Callable[..., Any], ...]:
    """The sheet's write method of each cell kind (:data:`_BLANK`, ... :data:`_BOOL`)."""
    return (sheet.write_blank, sheet.write_number, sheet.write_string, sheet.write_datetime,
            sheet.write_boolean)


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
    """``plan`` as CSV text (UTF-8, the columns of :data:`playbook.plan_columns.COLUMNS`):
    text cells quoted, formula-like text prefixed with a single quote (:func:`csv_text`),
    dates ``YYYY-MM-DD``, flags ``TRUE``/``FALSE``, blanks empty, numbers as Python writes
    them: what :func:`csv.writer` (``QUOTE_NONNUMERIC``, ``\\r\\n``) writes of the cells
    of :func:`csv_cells`. The header goes through :func:`csv.writer`; the rows are made a
    column at a time (:func:`csv_fields`: each column's cells as CSV text) and joined into
    lines by Arrow, without a Python call per cell."""
    plan = plan[list(COLUMNS)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(list(plan.columns))
    if not len(plan):
        return buffer.getvalue()
    fields = [csv_fields(plan[col]) for col in plan.columns]
    if all(isinstance(f, pa.Array) for f in fields):
        lines = pc.binary_join_element_wise(*fields, text_scalar(","))
        buffer.write("\r\n".join(lines.to_pylist()))
    else:  # text Arrow cannot hold (a lone surrogate): the lines in Python
        columns = [f.to_pylist() if isinstance(f, pa.Array) else f for f in fields]
        buffer.write("\r\n".join(map(",".join, zip(*columns, strict=True))))
    buffer.write("\r\n")
    return buffer.getvalue()


_CSV_BLANK = text_scalar('""')
_CSV_QUOTE = text_scalar('"')
#: :data:`openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE` in Arrow's (RE2) syntax.
_ILLEGAL_RE2 = r"[\x00-\x08\x0B\x0C\x0E-\x1F]"


def csv_fields(values: pd.Series) -> pa.Array | list[str]:
    """The CSV text of each cell of one column, as :func:`csv.writer` (``QUOTE_NONNUMERIC``)
    writes the cells of :func:`csv_cells`: text between double quotes with a double quote
    doubled (a blank is ``""``), a float as its ``repr``, an integer as its digits. Made by
    Arrow a column at a time for numbers, flags, naive dates and text that needs no
    cleaning (:func:`column_values`); any other column goes cell by cell from
    :func:`csv_cells`. An Arrow array of :data:`playbook.sheet_rows.ARROW_TEXT` without
    nulls, or a list when the column holds text Arrow cannot hold."""
    dtype = values.dtype
    array = values.array
    if isinstance(dtype, np.dtype):
        data = values.to_numpy()
        if dtype.kind == "M":
            days = pa.array(np.datetime_as_string(data, unit="D"), ARROW_TEXT,
                            mask=np.isnat(data))
            return _csv_quoted(days)
        if dtype.kind == "f":
            text = pa.array(list(map(float.__repr__, data.tolist())), ARROW_TEXT)
            return pc.if_else(pa.array(np.isnan(data)), _CSV_BLANK, text)
        if dtype.kind in "iu":
            return pa.array(data).cast(ARROW_TEXT)
        if dtype.kind == "b":
            return pc.if_else(pa.array(data), text_scalar('"TRUE"'), text_scalar('"FALSE"'))
    elif isinstance(array, pd.arrays.BooleanArray):
        return pc.if_else(pa.array(array), text_scalar('"TRUE"'),
                          text_scalar('"FALSE"')).fill_null(_CSV_BLANK)
    elif isinstance(array, pd.arrays.IntegerArray):
        return pa.array(array).cast(ARROW_TEXT).fill_null(_CSV_BLANK)
    if (isinstance(dtype, np.dtype) and dtype.kind == "O") or isinstance(dtype, pd.StringDtype):
        text = _clean_text_array(values)
        if text is not None:
            formula = functools.reduce(pc.or_, (pc.starts_with(text, s) for s in FORMULA_STARTS))
            text = pc.if_else(formula, pc.binary_join_element_wise(
                text_scalar("'"), text, text_scalar("")), text)
            return _csv_quoted(text)
    cells = csv_cells(values)
    out = [_csv_field(cell) for cell in cells]
    try:
        return pa.array(out, ARROW_TEXT)
    except (pa.ArrowException, UnicodeError):
        return out


def _clean_text_array(values: pd.Series) -> pa.Array | None:
    """A column of text (blanks: None, NaN, ``<NA>``) as Arrow text with nulls for the
    blanks, when it needs no cleaning (no character of ``ILLEGAL_CHARACTERS_RE``, no text
    over :data:`CELL_TEXT_MAX` characters); None for any other column."""
    try:
        text = pa.array(values, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        return None
    if pa.types.is_null(text.type):
        return pa.nulls(len(text), ARROW_TEXT)
    if not (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        return None
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    text = text.cast(ARROW_TEXT)
    if pc.any(pc.match_substring_regex(text, _ILLEGAL_RE2)).as_py():
        return None
    longest = pc.max(pc.utf8_length(text)).as_py()
    return None if longest is not None and longest > CELL_TEXT_MAX else text


def _csv_quoted(text: pa.Array) -> pa.Array:
    """Arrow text as quoted CSV cells: a double quote doubled, between double quotes; a
    null is the blank ``""``."""
    doubled = pc.replace_substring(text, '"', '""')
    return pc.binary_join_element_wise(_CSV_QUOTE, doubled, _CSV_QUOTE,
                                       text_scalar("")).fill_null(_CSV_BLANK)


def _csv_field(cell: Any) -> str:
    """One cell of :func:`csv_cells` as :func:`csv.writer` (``QUOTE_NONNUMERIC``) writes
    it: text quoted, a float as its ``repr``, any other number as ``str``."""
    if isinstance(cell, str):
        return '"' + cell.replace('"', '""') + '"'
    if isinstance(cell, float):
        return float.__repr__(cell)
    line = io.StringIO()
    csv.writer(line, quoting=csv.QUOTE_NONNUMERIC, lineterminator="").writerow([cell])
    return line.getvalue()


def csv_cells(values: pd.Series) -> list[Any]:
    """The CSV cells of one column: :func:`csv_cell` of each value, from the values
    :func:`column_values` converts a column at a time (NaN is blank, any other float stays a
    number); a column of numbers, of text or of flags in one list comprehension; a column
    of naive dates (``datetime64``) as ``YYYY-MM-DD`` text made by NumPy (the day each
    falls on, as ``strftime`` gives it)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":
        stamps = values.to_numpy()
        days = np.datetime_as_string(stamps, unit="D").tolist()
        return ["" if gone else d for d, gone in zip(days, np.isnat(stamps).tolist(),
                                                       strict=True)]
    converted = column_values(values)
    kinds = set(map(type, converted))
    if kinds <= {type(None), float, int}:
        return ["" if v is None else v for v in converted]
    if kinds <= {type(None), str}:
        return ["" if v is None else "'" + v if v.startswith(FORMULA_STARTS) else v
                for v in converted]
    if kinds <= {type(None), bool}:
        return ["" if v is None else "TRUE" if v else "FALSE" for v in converted]
    out: list[Any] = []
    add = out.append
    for v in converted:
        kind = type(v)
        if v is None:
            add("")
        elif kind is float or kind is int:
            add(v)
        elif kind is str:
            add("'" + v if v.startswith(FORMULA_STARTS) else v)
        elif kind is bool:
            add("TRUE" if v else "FALSE")
        elif isinstance(v, datetime | date):
            add(v.strftime("%Y-%m-%d"))
        elif isinstance(v, int | float):
            add(v)
        else:
            add(csv_text(v))
    return out


def csv_cell(value: Any) -> Any:
    """One CSV cell: numbers stay numbers (unquoted), the rest is text."""
    v = cell_value(value)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, datetime | date):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, int | float):
        return v
    return csv_text(v)
