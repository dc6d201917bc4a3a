"""The account sheets' rows are put together by Arrow (issue 22,
:func:`playbook.sheet_rows.write_rows` with :func:`~playbook.sheet_rows.column_cells_arrow`)
and every part of the workbook is byte for byte what the previous ``write_rows`` (kept here
as the reference: :func:`reference_write_rows`, :func:`~playbook.sheet_rows.column_xml` of
each column and :func:`~playbook.sheet_rows.rows_xml` of each block, a Python string a row)
wrote: on the demo's plan, the hostile, odd and banded plans (formula-like text, control
characters, unicode, NaN, infinities, huge numbers, dates around 1900), random text and
numbers, small blocks of rows, and an empty plan.
"""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
from xlsxwriter.utility import xl_col_to_name

from playbook import sheet_rows as sr
from playbook import workbook as wb
from tests.test_sheet_rows import (
    banded_plan,
    demo_plan,
    odd_plan,
    same_bytes_but_creation_time,
)
from tests.test_workbook import AS_OF
from tests.test_workbook import plan as hostile_plan


def reference_write_rows(out, blocks, styles, first_row):
    """The previous ``playbook.sheet_rows.write_rows``: a Python string a row."""
    letters = [xl_col_to_name(j) for j in range(len(styles))]
    start, last = first_row, first_row - 1
    for block in blocks:
        size = len(block[0]) if block else 0
        rows = [str(i) for i in range(start + 1, start + size + 1)]
        columns = [sr.column_xml(values, letter, rows, style)
                   for values, letter, style in zip(block, letters, styles, strict=True)]
        text, written = sr.rows_xml(columns, rows)
        out.write(text.encode("utf-8"))
        if written >= 0:
            last = start + written
        start += size
    return last


def assert_same_parts(plan: pd.DataFrame, tmp_path, monkeypatch, **options) -> int:
    """Write ``plan`` with the new and the previous ``write_rows``; every part equal (the
    creation time aside). Returns the bytes of the all-accounts sheet."""
    options = {"currency": "EUR", "as_of": AS_OF, "title": "T"} | options
    wb.write_xlsx(plan, tmp_path / "new.xlsx", **options)
    with monkeypatch.context() as m:
        m.setattr(sr, "write_rows", reference_write_rows)
        wb.write_xlsx(plan, tmp_path / "old.xlsx", **options)
    parts = same_bytes_but_creation_time(tmp_path / "new.xlsx", tmp_path / "old.xlsx")
    with zipfile.ZipFile(tmp_path / "new.xlsx") as new:
        return len(parts[sr.worksheet_parts(new)[wb.ALL_SHEET]])


@pytest.mark.parametrize("make", [hostile_plan, odd_plan, banded_plan])
def test_the_hostile_plans_are_byte_for_byte_the_same(make, tmp_path, monkeypatch):
    assert assert_same_parts(make(), tmp_path, monkeypatch) > 0


def test_the_demo_plan_is_byte_for_byte_the_same(small_demo_run, tmp_path, monkeypatch):
    plan, ctx = demo_plan(small_demo_run)
    assert len(plan) > 200
    assert assert_same_parts(plan, tmp_path, monkeypatch,
                             currency=ctx.params.client.currency) > len(plan) * 500


@pytest.mark.parametrize("size", [1, 3, 7])
def test_small_blocks_are_byte_for_byte_the_same(size, tmp_path, monkeypatch):
    monkeypatch.setattr(sr, "BLOCK_ROWS", size)
    assert_same_parts(odd_plan(), tmp_path, monkeypatch)


def test_an_empty_plan_and_one_account_are_byte_for_byte_the_same(tmp_path, monkeypatch):
    assert_same_parts(hostile_plan().iloc[:0], tmp_path, monkeypatch)
    assert_same_parts(hostile_plan().iloc[:1], tmp_path, monkeypatch)


def test_random_text_and_numbers_are_byte_for_byte_the_same(tmp_path, monkeypatch):
    rng = np.random.default_rng(22)
    alphabet = list("ab \"',;=+-@\t\n&<>_x0041é\u00a0\u3000") + ["\U0001F600", "\u0301"]
    plan = pd.concat([hostile_plan()] * 40, ignore_index=True)
    for col in ("account_name", "owner", "segment", "next_action_reason", "health_band"):
        plan[col] = pd.Series(["".join(rng.choice(alphabet, rng.integers(0, 6)))
                               for _ in range(len(plan))], dtype=object)
    plan.loc[::5, "health_band"] = pd.Series(["Red", "yellow", "GREEN"] * len(plan)).iloc[
        :len(plan[::5])].to_numpy()
    plan["mrr"] = rng.standard_normal(len(plan)) * 10.0 ** rng.integers(-20, 300, len(plan))
    plan.loc[::7, "mrr"] = np.nan
    plan["margin"] = np.round(rng.standard_normal(len(plan)) * 1e6, 2)
    plan["relationship_flags"] = pd.array(rng.integers(-2**62, 2**62, len(plan)), dtype="Int64")
    assert_same_parts(plan, tmp_path, monkeypatch, owner_sheets_max_accounts=None)
    # text needing no escaping and numbers go through Arrow, not column_xml's list
    clean = ["".join(rng.choice(list("ab =+\t\u3000é"), rng.integers(0, 6))) for _ in range(99)]
    rows = [str(i) for i in range(2, 101)]
    style = sr.ColumnStyle(None, None, None)
    money = [None if v != v else v for v in plan["mrr"][:99]]  # as column_values gives it
    want = [sr.column_xml(v, "B", rows, style) for v in (clean, money)]
    with monkeypatch.context() as m:
        m.setattr(sr, "column_xml", lambda *a: pytest.fail("column_xml called"))
        got = [sr.column_cells_arrow(v, "B", sr.pa.array(rows, sr.ARROW_TEXT), style).to_pylist()
               for v in (clean, money)]
    assert got == want
