"""The account sheets' rows made as XML a column at a time (issue 22) hold what XlsxWriter's
per-cell writes held.

:mod:`playbook.sheet_rows` replaced XlsxWriter's ``write_*`` call per cell for the rows of
the account sheets. The previous writer is kept here as the reference
(:func:`reference_xlsx`, the previous ``write_xlsx`` and ``write_accounts`` as they were),
and each workbook is written both ways and compared two ways: read back with openpyxl cell
by cell (value, type, number format, quote prefix, bold, fill, font colour, notes, panes,
filters, sheet names, column widths), and part by part, byte for byte, once the cell-format
indices are mapped (the same formats, numbered in another order: XlsxWriter numbers a format
when a cell first uses it, and the rows are now made column by column). The cases: the
demo's plan, the hostile plan, every kind of blank, formula-like text and HTML, dates
around Excel's 1900 leap-year day, times, infinities, very long text (emoji at the UTF-16
limit), control characters, literal ``_xHHHH_`` escapes, white space at either end, small
blocks of rows (block boundaries), and more rows than one sheet holds.
"""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from datetime import date, datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from playbook import account_plan as ap
from playbook import sheet_rows as sr
from playbook import workbook as wb
from playbook.context import AnalysisContext
from tests.test_account_plan import expansion_and_cost
from tests.test_workbook import AS_OF
from tests.test_workbook import plan as hostile_plan
from tests.test_workbook_streamed import assert_same_workbook


# --------------------------------------------------------------------------- reference
def reference_accounts(sheet, plan: pd.DataFrame, styles) -> None:
    """The previous ``playbook.workbook.write_accounts``: one XlsxWriter call per cell."""
    columns = list(plan.columns)
    formats = wb.column_formats(columns, styles.money)
    for j, col in enumerate(columns):
        wb.put(sheet, 0, j, col, styles, bold=True)
        sheet.write_comment(0, j, ap.COLUMNS.get(col, col), wb.COMMENT_OPTIONS)
        width = max(12, min(40, len(col) + 4))
        sheet.set_column(j, j, width)
    cells = [wb.column_cells(plan[col], styles, formats.get(col), banded=col == "health_band")
             for col in columns]
    writers = wb._writers(sheet)
    for i, row in enumerate(zip(*cells, strict=True), start=1):
        for j, (kind, value, fmt) in enumerate(row):
            if fmt is not None or kind != wb._BLANK:  # a blank without a format is no cell
                writers[kind](i, j, value, fmt)
    sheet.freeze_panes(1, 2)
    sheet.autofilter(0, 0, len(plan), len(columns) - 1)


def reference_xlsx(plan: pd.DataFrame, path, *, currency: str, as_of, title: str,
                   owner_sheets_max_accounts: int | None = None) -> None:
    """The previous ``playbook.workbook.write_xlsx``."""
    plan = wb.to_do_order(plan[list(wb.SHEET_COLUMNS)])
    by_owner = wb.owner_sheets(len(plan), owner_sheets_max_accounts)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                           "nan_inf_to_errors": True})
    styles = wb._Styles(book, currency)
    try:
        note = None if by_owner else wb.NO_OWNER_SHEETS.format(
            max=owner_sheets_max_accounts, sheet=wb.ALL_SHEET)
        wb.write_summary(book.add_worksheet(wb.SUMMARY_SHEET), plan, styles, as_of=as_of,
                         title=title, note=note)
        for name, part in wb.all_accounts_sheets(plan):
            reference_accounts(book.add_worksheet(name), part, styles)
        if by_owner:
            labels = plan["owner"].map(wb.owner_label)
            for owner, name in wb.sheet_names(sorted(labels.unique())).items():
                reference_accounts(book.add_worksheet(name),
                                   plan[(labels == owner).to_numpy()].reset_index(drop=True),
                                   styles)
    finally:
        book.close()


# --------------------------------------------------------------------------- comparing
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def cell_formats(archive: zipfile.ZipFile) -> list[tuple]:
    """Each cell format of an XLSX (by index) as what it is: its attributes with the number
    format's code, the font, fill and border written out in place of their indices (which
    XlsxWriter numbers in the order of first use too)."""
    styles = ET.fromstring(archive.read("xl/styles.xml"))
    codes = {n.get("numFmtId"): n.get("formatCode") for n in styles.iter(f"{MAIN}numFmt")}
    parts = {name: [ET.tostring(e) for e in styles.find(f"{MAIN}{name}s")]
             for name in ("font", "fill", "border")}
    out = []
    for xf in styles.find(f"{MAIN}cellXfs"):
        facts = dict(xf.attrib)
        facts["numFmtId"] = codes.get(facts["numFmtId"], "built-in " + facts["numFmtId"])
        for name in ("font", "fill", "border"):
            facts[f"{name}Id"] = parts[name][int(facts[f"{name}Id"])]
        out.append((tuple(sorted(facts.items())), tuple(ET.tostring(e) for e in xf)))
    return out


def same_bytes_but_creation_time(new_path, old_path) -> dict[str, bytes]:
    """Both workbooks have the same parts, each byte for byte the same but
    ``docProps/core.xml`` (the moment the file was made); returns the new file's parts."""
    with zipfile.ZipFile(new_path) as new, zipfile.ZipFile(old_path) as old:
        assert new.namelist() == old.namelist()
        parts = {name: new.read(name) for name in new.namelist()}
        for name in old.namelist():
            if name != "docProps/core.xml":  # its creation time
                assert parts[name] == old.read(name), name
    return parts


def assert_same_parts(new_path, old_path) -> int:
    """Every part of both files is the same byte for byte, the old file's cell-format
    indices mapped to the new file's (the same formats: only their order may differ), the
    document's creation time excepted; returns the bytes of worksheet XML compared."""
    new, old = zipfile.ZipFile(new_path), zipfile.ZipFile(old_path)
    assert new.namelist() == old.namelist()
    new_xfs, old_xfs = cell_formats(new), cell_formats(old)
    assert sorted(new_xfs) == sorted(old_xfs) and len(set(new_xfs)) == len(new_xfs)
    index = {str(i): str(new_xfs.index(xf)).encode() for i, xf in enumerate(old_xfs)}
    compared = 0
    for name in old.namelist():
        a, b = new.read(name), old.read(name)
        if name == "docProps/core.xml":  # the creation time
            continue
        if name == "xl/styles.xml":  # compared as cell formats above
            continue
        if name.startswith("xl/worksheets/sheet"):
            b = re.sub(rb' s="(\d+)"', lambda m: b' s="' + index[m.group(1).decode()] + b'"', b)
            compared += len(a)
        assert a == b, name
    return compared


def assert_same_widths(new_path, old_path) -> None:
    new, old = openpyxl.load_workbook(new_path), openpyxl.load_workbook(old_path)
    for name in old.sheetnames:
        widths = {k: d.width for k, d in old[name].column_dimensions.items()}
        assert {k: d.width for k, d in new[name].column_dimensions.items()} == widths, name


def both(plan: pd.DataFrame, tmp_path, *, currency="EUR", title="=Acme", **options):
    """The workbook of ``plan`` written by :func:`playbook.workbook.write_xlsx` and by the
    reference; the paths of both."""
    new, old = tmp_path / "new.xlsx", tmp_path / "old.xlsx"
    wb.write_xlsx(plan, new, currency=currency, as_of=AS_OF, title=title, **options)
    reference_xlsx(plan, old, currency=currency, as_of=AS_OF, title=title, **options)
    return new, old


def assert_same(plan: pd.DataFrame, tmp_path, **options) -> int:
    new, old = both(plan, tmp_path, **options)
    compared = assert_same_parts(new, old)
    assert_same_workbook(new, old)
    assert_same_widths(new, old)
    return compared


# --------------------------------------------------------------------------- cases
LONG = "long " * 8000 + "end"  # 40,003 characters: cut at Excel's limit
EMOJI = "\U0001F600" * 16383 + "ab"  # 32,768 UTF-16 units (2 an emoji): "b" cut
HOSTILE_TEXT = ["=cmd|' /C calc'!A0", "<script>alert(1)</script>", "a & b <c> \"d\"",
                " leading", "trailing ", "\ttab", "line\nfeed", "\rreturn", "_x0041_ literal",
                "bell\x07", "\ufffe\uffff", "", None, LONG, EMOJI, "x" * 16384, "x\n",
                "\u00a0no-break space", "ideographic space\u3000", "-"]


def odd_plan() -> pd.DataFrame:
    """The hostile plan (8 accounts) made 20 with odd values in every kind of column."""
    n = len(HOSTILE_TEXT)
    p = pd.concat([hostile_plan()] * 3, ignore_index=True).iloc[:n].copy()

    def cycle(values: list) -> list:
        return (values * n)[:n]

    p["account_id"] = [f"A{i:02d}" for i in range(n)]
    p["account_name"] = HOSTILE_TEXT
    p["segment"] = pd.array(HOSTILE_TEXT[::-1], dtype=object)
    p["lifecycle_stage"] = pd.array(cycle([
        1.5, 2, True, datetime(2025, 1, 2, 3, 4, 5), date(2025, 1, 3), "text", np.int64(7),
        np.float64(0.1), np.nan, pd.NaT, pd.NA, "=1+1", math.inf, -math.inf, 10**17, 1e-300,
        " padded ", "&amp;"]), dtype=object)
    p["mrr"] = cycle([1e20, -0.0, 1 / 3, 2.5e-7, 123456789.123456789, np.inf, -np.inf, np.nan])
    p["health_band"] = cycle(["Red", "YELLOW", "green", "=red", "", None, "blue", "red"])
    p["next_renewal_date"] = pd.to_datetime(cycle(
        ["1900-01-01", "1900-02-28", "1900-03-01", "1899-12-31", "1677-09-22", "2262-04-11",
         None, "2025-07-01 13:45:30.123456"]), format="ISO8601")
    p["next_action_due"] = pd.to_datetime(["2025-07-07 00:00:01"] * 8 + [None] * (n - 8))
    p["days_to_renewal"] = pd.array(cycle([-1, 0, None, 2**60]), dtype="Int64")
    p["flag_renewal_no_exec"] = cycle([True, False])
    p["expansion_reason"] = cycle(["plain", " lead", "trail ", "\u00a0no-break", "x\n", "\ttab",
                                   "=1", "", None, "ideographic\u3000"])  # nothing to escape
    return p


def demo_plan(small_demo_run) -> tuple[pd.DataFrame, AnalysisContext]:
    """The account plan of the small demo run (expansion and cost to serve measured) and
    its analysis context."""
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    candidates, costs = expansion_and_cost(ctx)
    plan = ap.plan_from_context(ctx, book=ctx.renewals_due_book, model_ranks=True,
                                stages=None, stuck=None, flags=None, expansion=candidates,
                                cost=costs)
    return plan, ctx


def test_the_demo_plan_is_the_same_workbook(small_demo_run, tmp_path):
    plan, ctx = demo_plan(small_demo_run)
    assert len(plan) > 200 and plan["health_band"].notna().any()
    compared = assert_same(plan, tmp_path, currency=ctx.params.client.currency, title="Demo")
    # each account is on two sheets (all accounts, its owner's), 500 bytes of XML or more
    assert compared > len(plan) * 2 * 500


def test_the_hostile_plan_is_the_same_workbook(tmp_path):
    assert assert_same(hostile_plan(), tmp_path) > 0


def test_odd_values_of_every_kind_are_the_same_workbook(tmp_path):
    assert_same(odd_plan(), tmp_path)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 16])
def test_blocks_of_rows_join_up(size, tmp_path, monkeypatch):
    monkeypatch.setattr(sr, "BLOCK_ROWS", size)
    assert_same(odd_plan(), tmp_path)


@pytest.mark.parametrize("value", [float("nan"), None, pd.NA, pd.NaT, ""])
def test_each_kind_of_blank_is_the_same(value, tmp_path):
    plan = hostile_plan()
    for col in ("margin", "account_name", "next_renewal_date", "health_band"):
        plan[col] = plan[col].astype(object)
        plan.loc[[0, 7], col] = value
    assert_same(plan, tmp_path)


def test_an_empty_plan_and_one_account_are_the_same(tmp_path):
    for size in (0, 1):
        (tmp_path / str(size)).mkdir()
        assert_same(hostile_plan().iloc[:size], tmp_path / str(size))


def test_beyond_the_rows_of_a_sheet_the_same_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(wb, "EXCEL_ROWS", 6)  # 5 accounts a sheet: 20 make 4 sheets
    monkeypatch.setattr(sr, "BLOCK_ROWS", 3)
    new, _ = both(odd_plan(), tmp_path, owner_sheets_max_accounts=4)
    assert openpyxl.load_workbook(new).sheetnames == [
        wb.SUMMARY_SHEET, wb.ALL_SHEET] + [f"{wb.ALL_SHEET} ({i})" for i in (2, 3, 4)]
    assert_same(odd_plan(), tmp_path, owner_sheets_max_accounts=4)


def test_rich_text_markup_is_text_not_xml(tmp_path):
    """XlsxWriter wrote text between ``<r>`` and ``</r>`` as raw XML (the one difference on
    purpose): now it is escaped and reads back as the text it is."""
    plan = hostile_plan()
    markup = ["<r><t>x</t></r>", "<r></r><script>y</script><r></r>", "<r>", "</r>"]
    plan.loc[:3, "account_name"] = markup
    path = tmp_path / "new.xlsx"
    wb.write_xlsx(plan, path, currency="EUR", as_of=AS_OF, title="t")
    sheet = openpyxl.load_workbook(path)[wb.ALL_SHEET]
    names = {sheet.cell(i, 1).value: sheet.cell(i, 2).value for i in range(2, 10)}
    assert [names[f"A{i}"] for i in range(4)] == markup


def test_excel_serial_days():
    """Serial days counted by hand: 1 January 1900 is day 1, 28 February day 59, Excel's
    29 February day 60, 1 March day 61; 1 January 2025 is day 45658."""
    assert sr.excel_serial(date(1900, 1, 1)) == 1
    assert sr.excel_serial(datetime(1900, 1, 1, 12)) == 0.5  # XlsxWriter's rule, kept
    assert sr.excel_serial(date(1900, 2, 28)) == 59
    assert sr.excel_serial(date(1900, 3, 1)) == 61
    assert sr.excel_serial(datetime(2025, 1, 1, 6)) == 45658.25
    assert sr.excel_serial(date(1899, 12, 30)) == -1


def test_text_is_escaped_as_xml_and_excel_want_it():
    assert sr.text_xml("a&b<c>\"d\"") == ("a&amp;b&lt;c&gt;\"d\"", False)
    assert sr.text_xml("\rx_x0041_\x07 ") == ("_x000D_x_x005F_x0041__x0007_ ", True)
    assert sr.text_xml("\tx") == ("\tx", True)
    assert sr.text_xml("\ufffe") == ("_xFFFE_", False)
    assert sr.text_xml(EMOJI) == ("\U0001F600" * 16383 + "a", False)
    assert sr.text_xml("\U0001F600" * 16384) == ("\U0001F600" * 16383, False)
    assert sr.utf16_cut("ab\U0001F600", 3) == "ab"


def test_a_row_without_cells_is_left_out():
    """As XlsxWriter leaves it out: no ``<row>``; the last row written is the last with a
    cell (rows from 0, the first block starting at row 1)."""
    plain = sr.ColumnStyle(None, None, None)
    out = io.BytesIO()
    block = [[None, 1.0, None], [None, "x", ""]]
    assert sr.write_rows(out, [block], [plain, plain], first_row=1) == 2
    assert out.getvalue() == (b'<row r="3"><c r="A3"><v>1</v></c>'
                              b'<c r="B3" t="inlineStr"><is><t>x</t></is></c></row>')
    assert sr.write_rows(io.BytesIO(), [[[None], [""]]], [plain, plain], first_row=1) == 0


def test_the_account_sheets_are_deflated_at_the_rows_level_and_the_rest_as_before(tmp_path):
    # the rows' sheets at ROWS_ZIP_LEVEL (1: about 2.5 times faster than zipfile's default
    # 6 at 100,000 accounts), checked against zlib's raw deflate of each part at that level;
    # the other parts as XlsxWriter wrote them (default level); every part's CRC checks
    plan = hostile_plan()
    path = tmp_path / "plan.xlsx"
    wb.write_xlsx(plan, path, currency="EUR", as_of=AS_OF, title="T")
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        rows_parts = set(sr.worksheet_parts(archive).values()) - {
            sr.worksheet_parts(archive)[wb.SUMMARY_SHEET]}
        assert len(rows_parts) >= 2
        for info in archive.infolist():
            data = archive.read(info)
            level = sr.ROWS_ZIP_LEVEL if info.filename in rows_parts else 6
            deflate = zlib.compressobj(level, zlib.DEFLATED, -15)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.compress_size == len(deflate.compress(data) + deflate.flush()), \
                info.filename


def reference_column_xml(values, letter, rows, style):
    """The previous ``sheet_rows.column_xml``: a banded column cell by cell, text with a
    check of each cell for the quote prefix and white space."""
    kinds = set(map(type, values))
    plain = sr.style_attribute(style.plain) if style.plain is not None else ""
    blank = (lambda r: f'<c r="{letter}{r}"{plain}/>') if style.plain is not None else None
    if kinds <= {type(None), float, int} and math.inf not in values and \
            -math.inf not in values:
        return [(blank(r) if blank else "") if v is None else
                f'<c r="{letter}{r}"{plain}><v>{v:.16G}</v></c>'
                for r, v in zip(rows, values, strict=True)]
    if kinds <= {type(None), bool}:
        return [(blank(r) if blank else "") if v is None else
                f'<c r="{letter}{r}"{plain} t="b"><v>{1 if v else 0}</v></c>'
                for r, v in zip(rows, values, strict=True)]
    if kinds <= {type(None), datetime}:
        dated = sr.style_attribute(style.dated)
        return [(blank(r) if blank else "") if v is None else
                f'<c r="{letter}{r}"{dated}><v>{sr.excel_serial(v):.16G}</v></c>'
                for r, v in zip(rows, values, strict=True)]
    if kinds <= {type(None), str} and not style.bands:
        texts = [v for v in values if v]
        if not sr._NEEDS_ESCAPE.search("\n".join(texts)) and \
                max(map(len, texts), default=0) <= sr.CELL_UTF16_MAX // 2:
            quoted = sr.style_attribute(style.quoted) if any(
                v.startswith(sr.FORMULA_STARTS) for v in texts) else ""
            return [(blank(r) if blank else "") if not v else
                    f'<c r="{letter}{r}"{quoted if v.startswith(sr.FORMULA_STARTS) else plain}'
                    f' t="inlineStr"><is><t'
                    f'{sr._PRESERVE if v[0].isspace() or v[-1].isspace() else ""}>{v}</t></is></c>'
                    for r, v in zip(rows, values, strict=True)]
    return [sr.cell_xml(f"{letter}{r}", v, style) for r, v in zip(rows, values, strict=True)]


def banded_plan() -> pd.DataFrame:
    """The hostile plan with bands in every case, formula-like bands and text, white space
    at either end and repeated values (each distinct text's cell is made once)."""
    p = hostile_plan()
    n = len(p)
    cycle = lambda values: [values[i % len(values)] for i in range(n)]  # noqa: E731
    p["health_band"] = cycle(["yellow", "Red", None, "GREEN", "=red", "red", "", " green",
                              "blue", "yellow"])
    p["owner"] = cycle(["Ann", "=Bob", "Ann", " Cy", "Dee ", None, "", "+1", "Ann"])
    p["segment"] = cycle(["SMB", "SMB", "\u3000wide", "Mid-market"])
    return p


@pytest.mark.parametrize("make", [hostile_plan, odd_plan, banded_plan])
def test_every_part_is_byte_for_byte_the_previous_column_xml_s(make, tmp_path, monkeypatch):
    # no mapping of format indices here: XlsxWriter numbers the formats in the order the
    # cells first use them, and the text cells made once per distinct text keep that order
    plan = make()
    wb.write_xlsx(plan, tmp_path / "new.xlsx", currency="EUR", as_of=AS_OF, title="T")
    monkeypatch.setattr(sr, "column_xml", reference_column_xml)
    wb.write_xlsx(plan, tmp_path / "old.xlsx", currency="EUR", as_of=AS_OF, title="T")
    parts = same_bytes_but_creation_time(tmp_path / "new.xlsx", tmp_path / "old.xlsx")
    with zipfile.ZipFile(tmp_path / "new.xlsx") as new:
        sheet = parts[sr.worksheet_parts(new)[wb.ALL_SHEET]].decode()
    assert "xml:space" in sheet and 't="inlineStr"' in sheet
