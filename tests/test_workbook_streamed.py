"""The streamed account workbook (issue 22) holds what the openpyxl one it replaced held.

:func:`playbook.workbook.write_workbook` writes the XLSX with XlsxWriter row by row
(openpyxl kept every cell of a 100,000-account plan as an object: minutes and gigabytes).
The openpyxl writer it replaced is kept here as the reference (:func:`reference_workbook`,
the previous code as it was), and both files are read back with openpyxl and compared cell
by cell: value, type, number format, quote prefix, bold, fill and font colour, the note on
each header, frozen panes, filters and sheet names. Three differences are the file format's,
not the content's, and are normalised: openpyxl wrote empty text as an empty string cell,
now it is no cell (both read back as blank); XlsxWriter writes a carriage return in text as the
OOXML escape ``_x000D_`` (Excel reads it back as a carriage return), and writes colours
with an opaque alpha byte (``FF1F4E79`` for ``001F4E79``; Excel ignores a fill's alpha).
The CSV is compared byte for byte with the previous row-by-row writer.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from playbook import account_plan as ap
from playbook import workbook as wb
from playbook.charts import ACCENT, RAG
from playbook.context import AnalysisContext
from tests.test_account_plan import expansion_and_cost
from tests.test_workbook import AS_OF
from tests.test_workbook import plan as hostile_plan

# --------------------------------------------------------------------------- reference
HEADER_FONT = Font(bold=True)
BAND_FILLS = {band: PatternFill("solid", fgColor=colour.lstrip("#").upper())
              for band, colour in RAG.items()}
BAND_FONTS = {band: Font(color="FFFFFF" if colour == ACCENT else "000000")
              for band, colour in RAG.items()}


def reference_workbook(plan: pd.DataFrame, *, currency: str, as_of, title: str) -> Workbook:
    """The openpyxl workbook of the previous ``playbook.workbook.workbook``."""
    plan = plan[list(wb.SHEET_COLUMNS)]
    book = Workbook()
    summary = book.active
    summary.title = wb.SUMMARY_SHEET
    _summary(summary, plan, currency=currency, as_of=as_of, title=title)
    _accounts(book.create_sheet(wb.ALL_SHEET), wb.to_do_order(plan), currency=currency)
    labels = plan["owner"].map(wb.owner_label)
    for owner, name in wb.sheet_names(sorted(labels.unique())).items():
        _accounts(book.create_sheet(name), wb.to_do_order(plan[labels == owner]),
                  currency=currency)
    return book


def _summary(sheet, plan, *, currency, as_of, title) -> None:
    from playbook import textfmt as tf  # noqa: PLC0415 - as the reference had it

    actions, owners = wb.summary_tables(plan)
    money = wb.money_format(currency)
    _put(sheet, 1, 1, f"Account action plan: {title}" if title else "Account action plan")
    sheet.cell(1, 1).font = HEADER_FONT
    _put(sheet, 2, 1, f"As of {tf.date(as_of)}; money in {currency} a month (MRR), "
                      f"{len(plan):,} active accounts")
    row = 4
    for table in (actions, owners):
        for j, col in enumerate(table.columns, start=1):
            _put(sheet, row, j, col).font = HEADER_FONT
        for values in table.itertuples(index=False):
            row += 1
            for j, (col, value) in enumerate(zip(table.columns, values, strict=True),
                                             start=1):
                cell = _put(sheet, row, j, value)
                cell.number_format = (money if col in ap.MONEY_COLUMNS else wb.DATE_FORMAT
                                      if col == "first_due" else cell.number_format)
        row += 3
    for j in range(1, 8):
        sheet.column_dimensions[get_column_letter(j)].width = 22


def _accounts(sheet, plan, *, currency) -> None:
    columns = list(plan.columns)
    money = wb.money_format(currency)
    formats = {c: money for c in ap.MONEY_COLUMNS} | dict.fromkeys(
        ap.SHARE_COLUMNS, wb.SHARE_FORMAT) | dict.fromkeys(ap.DATE_COLUMNS, wb.DATE_FORMAT) \
        | {c: wb.SCORE_FORMAT for c in columns if c.endswith("score")}
    for j, col in enumerate(columns, start=1):
        cell = _put(sheet, 1, j, col)
        cell.font = HEADER_FONT
        cell.comment = Comment(ap.COLUMNS.get(col, col), "cs-playbook", width=320, height=110)
        sheet.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(col) + 4))
    band_col = columns.index("health_band") + 1 if "health_band" in columns else None
    for i, values in enumerate(plan.itertuples(index=False), start=2):
        for j, (col, value) in enumerate(zip(columns, values, strict=True), start=1):
            cell = _put(sheet, i, j, value)
            if col in formats:
                cell.number_format = formats[col]
        if band_col is not None:
            band = sheet.cell(i, band_col).value
            if isinstance(band, str) and band.lower() in BAND_FILLS:
                sheet.cell(i, band_col).fill = BAND_FILLS[band.lower()]
                sheet.cell(i, band_col).font = BAND_FONTS[band.lower()]
    sheet.freeze_panes = "C2"
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{max(len(plan) + 1, 1)}"


def _put(sheet, row, col, value):
    value = wb.cell_value(value)
    cell = sheet.cell(row, col)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if wb.is_formula_like(value):
            cell.quotePrefix = True
    return cell


def reference_csv(plan: pd.DataFrame) -> str:
    """The previous row-by-row ``playbook.workbook.plan_csv``."""
    plan = plan[list(ap.COLUMNS)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow(list(plan.columns))
    for values in plan.itertuples(index=False):
        row = []
        for value in values:
            v = wb.cell_value(value)
            if v is None:
                row.append("")
            elif isinstance(v, bool):
                row.append("TRUE" if v else "FALSE")
            elif isinstance(v, datetime):
                row.append(v.strftime("%Y-%m-%d"))
            elif isinstance(v, int | float):
                row.append(v)
            else:
                row.append(wb.csv_text(v))
        writer.writerow(row)
    return buffer.getvalue()


# --------------------------------------------------------------------------- comparing
def _text(value):
    """Text as Excel reads it: the OOXML escape of a carriage return decoded, and a
    carriage return as some XML parsers normalise it (a line feed)."""
    if isinstance(value, str):
        return value.replace("_x000D_", "\r").replace("\r", "\n")
    return value


def _colour(colour) -> str | None:
    rgb = colour.rgb if colour is not None else None
    return rgb[-6:] if isinstance(rgb, str) else None


def cell_facts(cell) -> tuple:
    """What a reader sees of one cell (see the module docstring)."""
    fill = cell.fill.fill_type
    kind = cell.data_type if cell.value is not None else None  # empty text is a blank
    return (_text(cell.value), kind, cell.number_format, bool(cell.quotePrefix),
            bool(cell.font.b), fill, _colour(cell.fill.fgColor) if fill else None,
            _colour(cell.font.color) if fill else None,
            (cell.comment.text, cell.comment.author) if cell.comment else None)


def assert_same_workbook(new_path, old_path) -> int:
    """Every cell of every sheet of both files reads the same; returns the cells compared."""
    new, old = openpyxl.load_workbook(new_path), openpyxl.load_workbook(old_path)
    assert new.sheetnames == old.sheetnames
    compared = 0
    for name in old.sheetnames:
        a, b = new[name], old[name]
        assert (a.freeze_panes, a.auto_filter.ref) == (b.freeze_panes, b.auto_filter.ref), name
        rows = max(a.max_row, b.max_row)
        cols = max(a.max_column, b.max_column)
        for i in range(1, rows + 1):
            for j in range(1, cols + 1):
                got, want = cell_facts(a.cell(i, j)), cell_facts(b.cell(i, j))
                if isinstance(got[0], float) and isinstance(want[0], float):
                    # a sum over the plan in to-do order (the streamed writer) against one
                    # in the plan's order (the reference): the same figure but for the
                    # last bits where the CPU adds in other groups (AMD EPYC: 1e-17)
                    assert got[0] == pytest.approx(want[0], rel=1e-12), (name, i, j)
                    got, want = got[1:], want[1:]
                assert got == want, (name, i, j)
                compared += 1
    return compared


def both(plan: pd.DataFrame, tmp_path, currency: str = "EUR", title: str = "=Acme"):
    new_xlsx, new_csv = wb.write_workbook(plan, tmp_path / "new.xlsx", tmp_path / "new.csv",
                                          currency=currency, as_of=AS_OF, title=title)
    reference_workbook(plan, currency=currency, as_of=AS_OF, title=title).save(
        tmp_path / "old.xlsx")
    return new_xlsx, tmp_path / "old.xlsx", new_csv


# --------------------------------------------------------------------------- tests
def test_the_hostile_plan_reads_the_same_as_with_openpyxl(tmp_path):
    plan = hostile_plan()
    new_xlsx, old_xlsx, new_csv = both(plan, tmp_path)
    assert assert_same_workbook(new_xlsx, old_xlsx) > 8 * len(ap.COLUMNS)
    assert new_csv.read_bytes() == reference_csv(plan).encode("utf-8")


def test_an_empty_plan_reads_the_same_as_with_openpyxl(tmp_path):
    plan = hostile_plan().iloc[:0]
    new_xlsx, old_xlsx, new_csv = both(plan, tmp_path, currency="USD", title="")
    assert_same_workbook(new_xlsx, old_xlsx)
    assert new_csv.read_bytes() == reference_csv(plan).encode("utf-8")


def test_a_demo_run_s_plan_reads_the_same_as_with_openpyxl(small_demo_run, tmp_path):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    p = ctx.params
    candidates, costs = expansion_and_cost(ctx)
    plan = ap.plan_from_context(ctx, book=ctx.renewals_due_book, model_ranks=True,
                                stages=None, stuck=None, flags=None, expansion=candidates,
                                cost=costs)
    assert plan["health_band"].notna().any() and plan["next_action_due"].notna().any()
    new_xlsx, old_xlsx, new_csv = both(plan, tmp_path, currency=p.client.currency,
                                       title="Demo")
    assert assert_same_workbook(new_xlsx, old_xlsx) > len(plan) * 2 * len(ap.COLUMNS)
    assert new_csv.read_bytes() == reference_csv(plan).encode("utf-8")


@pytest.mark.parametrize("value", [float("nan"), None, pd.NA, pd.NaT, ""])
def test_a_blank_in_a_money_column_stays_a_formatted_blank(value, tmp_path):
    plan = hostile_plan()
    plan["margin"] = plan["margin"].astype(object)
    plan.loc[0, "margin"] = value
    new_xlsx, old_xlsx, _ = both(plan, tmp_path)
    assert_same_workbook(new_xlsx, old_xlsx)
