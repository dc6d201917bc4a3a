"""The account workbook (playbook.workbook): hostile text is never a formula, owner sheets
are valid and unique, the sheets are filterable to-do lists, values equal the plan, and the
files are written atomically."""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import openpyxl
import pandas as pd
import pytest

from playbook import account_plan as ap
from playbook import workbook as wb
from playbook.errors import StorageError

AS_OF = pd.Timestamp("2025-06-30")
HOSTILE = ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3",
           "@SUM(A1:A2)", "\tTabbed", "\rReturn"]
LONG_OWNER = "Maximilian Alexander Featherstonehaugh-Cholmondeley III"


def plan() -> pd.DataFrame:
    """A plan frame as :func:`account_plan` returns it, with hostile names and owners."""
    n = 8
    owners = ["Ann", "Ann", "=cmd|calc", "a/b:c*d?[e]\\", "Ann", None, LONG_OWNER,
              LONG_OWNER[:31] + " twin"]
    names = HOSTILE + ["Bell\x07 Co", "Plain Ltd"]
    p = pd.DataFrame({c: [None] * n for c in ap.COLUMNS}, dtype=object)
    p["account_id"] = [f"A{i}" for i in range(n)]
    p["account_name"] = names
    p["owner"] = owners
    p["segment"] = ["SMB"] * n
    p["mrr"] = [100.0, 250.5, 300.0, 400.0, 50.0, 60.0, 70.0, 80.0]
    p["value_tier"] = ["high", "low"] * 4
    p["lifecycle_stage"] = None
    p["health_band"] = ["red", "yellow", "green", None, "red", "green", "yellow", "red"]
    p["health_score"] = [20.0, 60.0, 90.0, np.nan, 10.0, 80.0, 55.0, 30.0]
    p["health_weakest_1"] = ["usage"] * n
    p["health_weakest_1_score"] = [5.0] * n
    p["next_renewal_date"] = pd.to_datetime(["2025-07-30", "2025-07-03", None, None,
                                             "2025-08-01", None, None, None])
    p["days_to_renewal"] = pd.array([30, 3, None, None, 32, None, None, None], dtype="Int64")
    p["renewal_probability"] = [0.5, 0.4, np.nan, np.nan, 0.9, np.nan, np.nan, np.nan]
    p["expected_loss"] = [50.0, 150.3, np.nan, np.nan, 5.0, np.nan, np.nan, np.nan]
    for col in ap.COLUMNS:
        if col.startswith("flag_"):
            p[col] = pd.array([True, False, pd.NA, False, False, True, False, False],
                              dtype="boolean")
    p["relationship_flags"] = pd.array([2, 0, 0, 0, 0, 1, 0, 0], dtype="Int64")
    p["expansion_potential_mrr"] = [np.nan, np.nan, np.nan, 100.0, np.nan, np.nan, 10.0,
                                    np.nan]
    p["expansion_reason"] = [None, None, None, "-seats", None, None, "@tier", None]
    p["cost_to_serve"] = [10.0] * n
    p["margin"] = [-5.0] * n
    p["next_action"] = ["save_play", "save_play", "executive_outreach", "expansion_conversation",
                        "no_action", "executive_outreach", "no_action", "no_action"]
    p["next_action_due"] = pd.to_datetime(["2025-07-07", "2025-07-02", "2025-07-14",
                                           "2025-07-30", None, "2025-07-14", None, None])
    p["next_action_reason"] = ["=1+1", "", "x", "y", "", "z", "", ""]
    p["other_actions"] = [""] * n
    for col in ap.MONEY_COLUMNS + ("health_score", "renewal_probability",
                                   "health_weakest_1_score", "health_weakest_2_score"):
        p[col] = p[col].astype(float)
    return p


@pytest.fixture
def written(tmp_path):
    xlsx, path_csv = wb.write_workbook(plan(), tmp_path / "accounts.xlsx",
                                       tmp_path / "accounts.csv", currency="EUR",
                                       as_of=AS_OF, title="=Acme")
    return openpyxl.load_workbook(xlsx), path_csv


def cells(book):
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            yield from row


def test_no_cell_holds_a_formula_and_hostile_text_is_text(written):
    book, _ = written
    all_cells = list(cells(book))
    assert all(c.data_type != "f" for c in all_cells)
    texts = {c.value: c for c in all_cells if isinstance(c.value, str)}
    for name in ['=HYPERLINK("http://evil.example","click")', "+cmd|' /C calc'!A0", "-2+3",
                 "@SUM(A1:A2)", "\tTabbed", "=1+1", "-seats", "@tier"]:
        assert texts[name].data_type == "s" and texts[name].quotePrefix, name
    # a leading carriage return is written as the OOXML escape _x000D_ (Excel reads it back
    # as a carriage return; openpyxl leaves the escape as written): still text, written with
    # the quote prefix; the bell character dropped (XML cannot hold it)
    ret = texts["_x000D_Return"]
    assert ret.data_type == "s" and ret.quotePrefix
    assert "Bell Co" in texts
    assert texts["Plain Ltd"].quotePrefix is False
    assert book[wb.SUMMARY_SHEET]["A1"].value == "Account action plan: =Acme"


def test_the_csv_quotes_text_and_prefixes_formula_like_values(written):
    _, path_csv = written
    raw = path_csv.read_bytes().decode("utf-8")  # no newline translation: "\r" is data
    rows = list(csv.reader(io.StringIO(raw)))
    header, body = rows[0], rows[1:]
    assert header == list(ap.COLUMNS)
    names = [r[header.index("account_name")] for r in body]
    assert names == ["'" + h for h in HOSTILE] + ["Bell Co", "Plain Ltd"]
    assert not any(cell.startswith(wb.FORMULA_STARTS) for r in body for cell in r
                   if not _number(cell))
    assert '"Plain Ltd"' in raw and '"A0"' in raw  # text cells are quoted
    first = dict(zip(header, body[0], strict=True))
    assert first["mrr"] == "100.0" and first["next_renewal_date"] == "2025-07-30"
    assert first["flag_single_threaded"] == "TRUE" and first["lifecycle_stage"] == ""
    assert first["margin"] == "-5.0"  # a negative number stays a number
    assert first["days_to_renewal"] == "30" and body[2][header.index("days_to_renewal")] == ""


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_one_valid_unique_sheet_per_owner(written):
    book, _ = written
    names = book.sheetnames
    assert names[:2] == [wb.SUMMARY_SHEET, wb.ALL_SHEET]
    owners = names[2:]
    assert len(owners) == 6  # Ann, =cmd|calc, the forbidden one, (no owner), two long ones
    assert all(len(n) <= 31 and not wb.SHEET_NAME_FORBIDDEN.search(n) for n in owners)
    assert len({n.lower() for n in names}) == len(names)
    assert "a_b_c_d__e__" in owners and "=cmd|calc" in owners and wb.NO_OWNER in owners
    long_ones = [n for n in owners if n.startswith(LONG_OWNER[:20])]
    assert sorted(long_ones) == sorted([LONG_OWNER[:31], LONG_OWNER[:27] + " (2)"])
    # each account is on its owner's sheet exactly once
    listed = [v for n in owners for v in _column(book[n], "account_id")]
    assert sorted(listed) == sorted(plan()["account_id"])


def test_sheet_names_are_made_valid():
    got = wb.sheet_names(["Summary", "'quoted'", "", "x" * 40, "x" * 40, "X" * 40, "History"])
    assert got["Summary"] == "Summary (2)" and got["History"] == "History (2)"
    assert got["'quoted'"] == "quoted" and got[""] == wb.NO_OWNER
    assert got["x" * 40] == "x" * 27 + " (2)"  # the first "x" * 40 is overwritten: same key
    assert got["X" * 40] == "X" * 27 + " (3)"
    assert len(set(map(str.lower, got.values()))) == len(got)


def test_account_sheets_are_filterable_to_do_lists(written):
    book, _ = written
    for name in book.sheetnames[1:]:
        sheet = book[name]
        assert sheet.freeze_panes == "C2"
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}" \
            f"{sheet.max_row}"
        header = [c.value for c in sheet[1]]
        assert header[:4] == ["account_id", "account_name", "next_action", "next_action_due"]
        assert sorted(header) == sorted(ap.COLUMNS)
        assert all(c.comment is not None and c.comment.text == ap.COLUMNS[c.value]
                   for c in sheet[1])
    ann = book["Ann"]
    assert _column(ann, "account_id") == ["A1", "A0", "A4"]  # due 2 Jul, 7 Jul, then none


def test_number_formats_and_band_colours(written):
    book, _ = written
    sheet = book[wb.ALL_SHEET]
    header = [c.value for c in sheet[1]]
    row = {h: sheet.cell(2, j + 1) for j, h in enumerate(header)}  # A1: due first
    assert row["mrr"].number_format == wb.money_format("EUR") == '#,##0 "EUR";-#,##0 "EUR"'
    assert row["renewal_probability"].number_format == "0%"
    assert row["next_action_due"].number_format == "yyyy-mm-dd"
    assert row["next_action_due"].is_date
    bands = {}
    for i in range(2, sheet.max_row + 1):
        cell = sheet.cell(i, header.index("health_band") + 1)
        bands.setdefault(cell.value, set()).add((cell.fill.fill_type, cell.fill.fgColor.rgb))
    # ARGB: the alpha byte (first two digits) of a cell fill is ignored by Excel
    assert bands["red"] == {("solid", "FF" + "1F4E79")}        # the report's accent
    assert bands["yellow"] == {("solid", "FF" + "8C8C8C")}
    assert bands["green"] == {("solid", "FF" + "D0D0D0")}
    assert bands[None] == {(None, "00000000")}                 # no band: no fill


def test_values_equal_the_plan(written):
    book, _ = written
    sheet = book[wb.ALL_SHEET]
    header = [c.value for c in sheet[1]]
    got = pd.DataFrame([[c.value for c in r] for r in sheet.iter_rows(min_row=2)],
                       columns=header).set_index("account_id")
    want = plan().set_index("account_id", drop=False)
    for account, row in got.iterrows():
        for col in header[1:]:
            expected = want.at[account, col]
            value = row[col]
            if pd.isna(expected) or expected == "":
                assert value is None or value == "" or pd.isna(value), (account, col)
            elif isinstance(expected, float):
                assert value == pytest.approx(expected), (account, col)
            elif isinstance(expected, pd.Timestamp):
                assert pd.Timestamp(value) == expected, (account, col)
            elif col == "account_name" and account == "A6":
                assert value == "Bell Co"
            elif isinstance(expected, str):  # "\r" is written as its OOXML escape
                assert value == expected.replace("\r", "_x000D_"), (account, col)
            else:
                assert value == expected, (account, col)


def test_summary_counts_and_money_by_action_and_owner():
    p = plan()
    actions, owners = wb.summary_tables(p)
    assert actions["next_action"].tolist() == list(ap.ACTIONS)
    by = actions.set_index("next_action")
    assert by.at["save_play", "accounts"] == 2
    assert by.at["save_play", "expected_loss"] == pytest.approx(50.0 + 150.3)
    assert by.at["onboarding_rescue", "accounts"] == 0
    assert by["mrr"].sum() == pytest.approx(p["mrr"].sum())
    ann = owners.set_index("owner").loc["Ann"]
    assert (ann["accounts"], ann["actions_due"]) == (3, 2)
    assert ann["first_due"] == pd.Timestamp("2025-07-02")
    assert ann["mrr"] == pytest.approx(100.0 + 250.5 + 50.0)
    assert wb.NO_OWNER in set(owners["owner"])
    # a column the plan has no value of (no expansion analysis) is blank, not 0
    none = p.assign(expansion_potential_mrr=np.nan)
    for table in wb.summary_tables(none):
        assert table["expansion_potential_mrr"].isna().all()
        assert table["mrr"].notna().all()


def test_written_atomically_and_a_failure_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "accounts.xlsx"
    target.write_bytes(b"old")
    monkeypatch.setattr(os, "replace", _raise_enospc)
    with pytest.raises(StorageError):
        wb.write_workbook(plan(), target, tmp_path / "accounts.csv", currency="USD",
                          as_of=AS_OF, title="t")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accounts.xlsx"]  # no temp left


def _raise_enospc(*_args):
    raise OSError(28, "No space left on device")


def _column(sheet, name: str) -> list:
    header = [c.value for c in sheet[1]]
    j = header.index(name)
    return [r[j].value for r in sheet.iter_rows(min_row=2)]
