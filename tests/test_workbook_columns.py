"""The account workbook converts each column once (issue 22) and leaves out the owner sheets
of a large plan.

:func:`playbook.workbook.column_values` (and :func:`column_cells` / :func:`csv_cells` on it)
replaced a conversion of each value through :func:`playbook.workbook.cell_value`. The
per-value code is kept here as the reference (:func:`reference_column_cells`,
:func:`reference_csv_cells`, the previous code as it was) and both are compared on columns
of every dtype a plan holds, with blanks of each kind, formula-like, illegal and over-long
text, dates before and after 1900, and empty columns. Above
``workbook.owner_sheets_max_accounts`` accounts the workbook has no owner sheets: the
all-accounts sheet reads the same cell by cell as with them, and the CSV is byte-identical.
"""

from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter

from playbook import account_plan as ap
from playbook import workbook as wb
from playbook.charts import RAG
from playbook.config import load_params
from tests.test_workbook import AS_OF
from tests.test_workbook import plan as hostile_plan
from tests.test_workbook_streamed import cell_facts


# --------------------------------------------------------------------------- reference
def reference_column_cells(values: pd.Series, styles, number_format, *, banded=False):
    """The previous ``playbook.workbook.column_cells``: :func:`cell_value` of each value."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
        fmt = styles.get(number_format)
        blank = (wb._BLANK, None, fmt)
        return [blank if v != v else (wb._NUMBER, v, fmt) for v in values.to_numpy().tolist()]
    out = []
    for raw in values.tolist():
        value = wb.cell_value(raw)
        if value is None or value == "":
            out.append((wb._BLANK, None, styles.get(number_format)))
        elif isinstance(value, str):
            band = value.lower() if banded and value.lower() in RAG else None
            out.append((wb._TEXT, value, styles.get(number_format,
                                                    quote=wb.is_formula_like(value),
                                                    band=band)))
        elif isinstance(value, bool):
            out.append((wb._BOOL, value, styles.get(number_format)))
        elif isinstance(value, datetime | date):
            out.append((wb._DATE, value, styles.get(number_format or wb.DEFAULT_DATE_FORMAT)))
        else:
            out.append((wb._NUMBER, value, styles.get(number_format)))
    return out


def reference_csv_cells(values: pd.Series) -> list:
    """The previous ``playbook.workbook.csv_cells``: :func:`csv_cell` of each value."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind == "f":
        return ["" if v != v else v for v in values.to_numpy().tolist()]
    return [wb.csv_cell(v) for v in values.tolist()]


# --------------------------------------------------------------------------- columns
TEXTS = ["Plain", "=1+1", "+x", "-2", "@a", "\tTab", "\rRet", "", "Bell\x07", "x" * 40000,
         "red", "RED", "Green", "=red"]


def columns() -> dict[str, pd.Series]:
    """Columns of every dtype a plan holds, each with its kinds of blank."""
    stamps = pd.to_datetime(["2025-06-30", None, "1900-01-15", "2026-01-02 13:45:10.25"],
                            format="ISO8601")
    return {
        "float": pd.Series([1.5, np.nan, -0.0, math.inf, 1e300]),
        "int64": pd.Series([3, -1, 0], dtype="int64"),
        "uint8": pd.Series([3, 255], dtype="uint8"),
        "bool": pd.Series([True, False]),
        "datetime64": pd.Series(stamps),
        "datetime64[s]": pd.Series(stamps.as_unit("s")),
        "datetime_tz": pd.Series(stamps.tz_localize("UTC")),
        "Int64": pd.Series([30, None, 0], dtype="Int64"),
        "boolean": pd.Series([True, None, False], dtype="boolean"),
        "Float64": pd.Series([1.25, None, np.nan], dtype="Float64"),
        "text": pd.Series(TEXTS, dtype=object),
        "text_clean": pd.Series(["a", "=b", "", "c"], dtype=object),
        "string": pd.Series(["a", None, "=b", ""], dtype="string"),
        "str": pd.Series(["a", None, "-b"], dtype="str"),
        "category": pd.Series(pd.Categorical(["red", None, "green"])),
        "mixed": pd.Series([None, np.nan, pd.NA, pd.NaT, pd.Timestamp("2025-01-02"),
                            date(2024, 2, 29), np.int64(7), np.float64(2.5), np.bool_(True),
                            True, 4, "=x", "ok", "", math.nan], dtype=object),
        "empty_float": pd.Series([], dtype=float),
        "empty_object": pd.Series([], dtype=object),
    }


@pytest.fixture
def styles(tmp_path):
    book = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"), {"constant_memory": True})
    yield wb._Styles(book, "EUR")
    book.close()


@pytest.mark.parametrize("name", list(columns()))
@pytest.mark.parametrize("number_format", [None, wb.DATE_FORMAT, wb.SHARE_FORMAT])
@pytest.mark.parametrize("banded", [False, True])
def test_each_column_converts_as_value_by_value(name, number_format, banded, styles):
    values = columns()[name]
    got = wb.column_cells(values, styles, number_format, banded=banded)
    want = reference_column_cells(values, styles, number_format, banded=banded)
    assert len(got) == len(want) == len(values)
    for g, w in zip(got, want, strict=True):
        # same kind, same format object, same value of the same type (NaN as NaN)
        assert (g[0], g[2]) == (w[0], w[2]), (name, g, w)
        assert type(g[1]) is type(w[1]), (name, g, w)
        assert g[1] == w[1] or (g[1] != g[1] and w[1] != w[1]), (name, g, w)


@pytest.mark.parametrize("name", list(columns()))
def test_each_csv_column_converts_as_value_by_value(name):
    values = columns()[name]
    got, want = wb.csv_cells(values), reference_csv_cells(values)
    assert [type(v) for v in got] == [type(v) for v in want], name
    assert [repr(v) for v in got] == [repr(v) for v in want], name


def test_text_is_cleaned_only_where_needed():
    text = wb.column_values(pd.Series(TEXTS, dtype=object))
    assert text[TEXTS.index("Bell\x07")] == "Bell"  # the bell dropped
    assert len(text[TEXTS.index("x" * 40000)]) == wb.CELL_TEXT_MAX
    assert wb.column_values(pd.Series(["a\nb", "c"], dtype=object)) == ["a\nb", "c"]


def test_the_demo_like_plan_converts_as_value_by_value(styles):
    plan = hostile_plan()
    formats = wb.column_formats(list(plan.columns), styles.money)
    for col in plan.columns:
        got = wb.column_cells(plan[col], styles, formats.get(col),
                              banded=col == "health_band")
        want = reference_column_cells(plan[col], styles, formats.get(col),
                                      banded=col == "health_band")
        assert got == want, col
        assert wb.csv_cells(plan[col]) == reference_csv_cells(plan[col]), col


# --------------------------------------------------------------------------- owner sheets
def test_the_default_leaves_owner_sheets_out_above_25000_accounts():
    assert load_params("demo").workbook.owner_sheets_max_accounts == 25000
    assert wb.owner_sheets(25000, 25000) and not wb.owner_sheets(25001, 25000)
    assert wb.owner_sheets(10**7, None)


def _write(plan, path, max_accounts):
    return wb.write_workbook(plan, path / "accounts.xlsx", path / "accounts.csv",
                             currency="EUR", as_of=AS_OF, title="=Acme",
                             owner_sheets_max_accounts=max_accounts)


def test_above_the_limit_only_the_all_accounts_sheet_and_a_note(tmp_path):
    plan = hostile_plan()
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    with_xlsx, with_csv = _write(plan, tmp_path / "with", len(plan))  # at the limit: kept
    without_xlsx, without_csv = _write(plan, tmp_path / "without", len(plan) - 1)
    full, lean = openpyxl.load_workbook(with_xlsx), openpyxl.load_workbook(without_xlsx)
    assert len(full.sheetnames) == 2 + plan["owner"].map(wb.owner_label).nunique()
    assert lean.sheetnames == [wb.SUMMARY_SHEET, wb.ALL_SHEET]
    a, b = full[wb.ALL_SHEET], lean[wb.ALL_SHEET]
    assert (a.max_row, a.max_column) == (b.max_row, b.max_column) == (len(plan) + 1,
                                                                       len(ap.COLUMNS))
    assert (a.freeze_panes, a.auto_filter.ref) == (b.freeze_panes, b.auto_filter.ref)
    for i in range(1, a.max_row + 1):
        for j in range(1, a.max_column + 1):
            assert cell_facts(a.cell(i, j)) == cell_facts(b.cell(i, j)), (i, j)
    assert full[wb.SUMMARY_SHEET]["A3"].value is None
    note = lean[wb.SUMMARY_SHEET]["A3"].value
    assert note == (f"No sheet per owner above {len(plan) - 1:,} accounts: filter the owner "
                    f"column of '{wb.ALL_SHEET}' for an owner's accounts (already in to-do "
                    "order).")
    # the summary's tables are where they were
    for i in range(4, full[wb.SUMMARY_SHEET].max_row + 1):
        for j in range(1, 8):
            assert cell_facts(full[wb.SUMMARY_SHEET].cell(i, j)) == \
                cell_facts(lean[wb.SUMMARY_SHEET].cell(i, j)), (i, j)
    assert with_csv.read_bytes() == without_csv.read_bytes()


def test_an_owner_filter_on_all_accounts_lists_what_the_owner_sheet_did(tmp_path):
    plan = hostile_plan()
    xlsx, _ = _write(plan, tmp_path, None)
    book = openpyxl.load_workbook(xlsx)
    rows = list(book[wb.ALL_SHEET].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    owner_at, id_at = header.index("owner"), header.index("account_id")
    names = wb.sheet_names(sorted(plan["owner"].map(wb.owner_label).unique()))
    for owner, sheet in names.items():
        filtered = [r[id_at] for r in body if wb.owner_label(r[owner_at]) == owner]
        listed = [r[id_at] for r in book[sheet].iter_rows(min_row=2, values_only=True)]
        assert filtered == listed, owner


def test_beyond_the_rows_of_a_sheet_all_accounts_continue_on_the_next(tmp_path, monkeypatch):
    """Excel holds 1,048,576 rows a sheet (XlsxWriter drops rows past it silently): a
    larger plan continues on "All accounts (2)", every account once, in to-do order."""
    plan = hostile_plan()
    xlsx, _ = _write(plan, tmp_path, None)
    whole = [r for r in openpyxl.load_workbook(xlsx)[wb.ALL_SHEET].iter_rows(values_only=True)]
    monkeypatch.setattr(wb, "EXCEL_ROWS", 4)  # a header and 3 accounts a sheet
    (tmp_path / "split").mkdir()
    xlsx, _ = _write(plan, tmp_path / "split", 0)
    book = openpyxl.load_workbook(xlsx)
    parts = -(-len(plan) // 3)
    names = [wb.ALL_SHEET] + [f"{wb.ALL_SHEET} ({i})" for i in range(2, parts + 1)]
    assert book.sheetnames == [wb.SUMMARY_SHEET, *names]
    rows = []
    for name in names:
        sheet = list(book[name].iter_rows(values_only=True))
        assert sheet[0] == whole[0] and 1 <= len(sheet) - 1 <= 3
        rows += sheet[1:]
    assert rows == whole[1:]


@pytest.mark.parametrize("unit", ["ns", "us", "s"])
def test_csv_dates_are_the_day_strftime_gives_around_the_epoch_and_the_ends(unit):
    # csv_cells writes a datetime64 column's days with NumPy: the day a time falls on,
    # before 1970 as after it, as the previous value-by-value strftime did
    stamps = pd.to_datetime(["1969-12-31 23:59:59.999999", "1970-01-01", None,
                             "1677-09-22 00:00:01", "2262-04-11 23:47:16", "1900-02-28 12:00",
                             "1900-03-01", "2024-02-29 00:00:00.000001"],
                            format="ISO8601").as_unit(unit)
    values = pd.Series(stamps)
    got = wb.csv_cells(values)
    assert got == reference_csv_cells(values)
    assert got[:3] == ["1969-12-31", "1970-01-01", ""]
    assert wb.csv_cells(values.iloc[:0]) == []
