"""The DuckDB aggregation of an event file (issue 22: one scan, the account trimmed once,
a Parquet column of whole-number users counted as it is, a memory limit) gives the table
the query it replaced gave (copied below as the reference), on the demo's events and on
hand-made edge cases: blank and padded ids, blank words, missing dates, dates out of range,
text and whole-number users, one account, an empty file, a CSV file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from playbook import demo
from playbook.config import table_params
from playbook.events import (
    GLOB_CHARS,
    ROWS,
    _csv_source,
    _finish,
    _quoted,
    _with_duckdb,
    aggregate_events,
)
from playbook.values import BLANK_WORDS, DATE_MAX, DATE_MIN

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.events import write_usage_events  # noqa: E402


def old_with_duckdb(path, tp, columns, *, csv=False):
    """``events._with_duckdb`` before issue 22's evening session (the reference)."""
    def text(header):
        value = f"trim(CAST({_quoted(header)} AS VARCHAR))"
        blank = ", ".join(f"'{w}'" for w in BLANK_WORDS)
        return f"CASE WHEN {value} = '' OR lower({value}) IN ({blank}) THEN NULL ELSE {value} END"

    date = (f"TRY_CAST(NULLIF(trim({_quoted(columns['month'])}), '') AS TIMESTAMP)" if csv
            else f"CAST({_quoted(columns['month'])} AS TIMESTAMP)")
    date = (f"CASE WHEN {date} >= TIMESTAMP '{DATE_MIN:%Y-%m-%d}' AND {date} < "
            f"TIMESTAMP '{DATE_MAX:%Y-%m-%d}' + INTERVAL 1 DAY THEN {date} END")
    users = (f"count(DISTINCT {text(columns['user_id'])})" if "user_id" in columns
             else "CAST(NULL AS DOUBLE)" if "event_count" in columns else "count(*)")
    actions = "count(*)"
    if "event_count" in columns:
        n = f"TRY_CAST({_quoted(columns['event_count'])} AS DOUBLE)"
        actions = f"sum(CASE WHEN isfinite({n}) AND {n} > 0 THEN {n} ELSE 0 END)"
    seats = ""
    if "licensed_seats" in columns:
        number = f"TRY_CAST({_quoted(columns['licensed_seats'])} AS DOUBLE)"
        seats = f", max(CASE WHEN isfinite({number}) THEN {number} END) AS licensed_seats"
    real = str(path.resolve())
    assert not GLOB_CHARS & set(real)
    source = (f"(SELECT row_number() OVER () - 1 AS file_row_number, * FROM "
              f"{_csv_source(path, tp)})" if csv else
              f"read_parquet('{real.replace(chr(39), chr(39) * 2)}', file_row_number=true)")
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"""CREATE TEMP VIEW ev AS SELECT {text(columns['account_id'])} AS account,
                        {date} AS ts, file_row_number, * FROM {source}""")
        read, rejected = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE account IS NULL OR ts IS NULL) FROM ev"
        ).fetchone()
        out = con.execute(f"""
            SELECT account AS account_id, date_trunc('month', ts) AS month,
                   {users} AS active_users, {actions} AS key_actions,
                   min(file_row_number) + {tp.header_row + 1} AS _line,
                   count(*) AS {ROWS} {seats}
            FROM ev WHERE account IS NOT NULL AND ts IS NOT NULL
            GROUP BY 1, 2""").df()
    finally:
        con.close()
    out = out[["account_id", "month", "key_actions", "_line", ROWS, "active_users",
               *(["licensed_seats"] if seats else [])]]
    out["account_id"] = out["account_id"].astype("str")
    return _finish(out), int(read), int(rejected)


COLUMNS = {"account_id": "Account ID", "month": "Event Time", "user_id": "User ID",
           "licensed_seats": "Licensed Seats"}


def _same(path: Path, columns: dict[str, str], csv: bool = False) -> pd.DataFrame:
    """Both queries on ``path``; asserts equal tables (rows in account-month order) and
    counts; returns the new table in that order."""
    tp = table_params(file=path.name, layout="events", columns=columns)
    new, new_read, new_rejected = _with_duckdb(path, tp, columns, csv=csv)
    old, old_read, old_rejected = old_with_duckdb(path, tp, columns, csv=csv)
    order = ["account_id", "month"]
    new = new.sort_values(order).reset_index(drop=True)
    pd.testing.assert_frame_equal(new, old.sort_values(order).reset_index(drop=True),
                                  check_exact=True)
    assert (new_read, new_rejected) == (old_read, old_rejected)
    return new


@pytest.fixture(scope="module")
def demo_event_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ev")
    demo.generate_demo(folder, n_accounts=300)
    write_usage_events(folder, mean=4.0)
    return folder / "usage_events.parquet"


def test_the_demo_events_give_the_same_table(demo_event_file):
    new = _same(demo_event_file, COLUMNS)
    assert len(new) > 1000
    assert pq.read_schema(demo_event_file).field("User ID").type == pa.int32()
    # the demo's users as text (the text path of the user column) give the same too
    table = pq.read_table(demo_event_file)
    as_text = table.set_column(table.schema.get_field_index("User ID"), "User ID",
                               pa.compute.cast(table["User ID"], pa.string()))
    text_file = demo_event_file.with_name("text_users.parquet")
    pq.write_table(as_text, text_file)
    pd.testing.assert_frame_equal(_same(text_file, COLUMNS), new, check_exact=True)


def _edge_table(users: pa.Array) -> pa.Table:
    accounts = ["A", " A ", "", "  ", "nan", "NaN", " NULL ", "none", "NaT", "nano", "nulls",
                "B", None, "B", "C", "C", "C", "İ", "A"]
    when = pd.to_datetime(["2024-01-03", "2024-01-20", "2024-01-05", "2024-01-05",
                           "2024-01-06", "2024-01-06", "2024-01-06", "2024-01-06",
                           "2024-01-06", "2024-02-06", "2024-02-07", None, "2024-03-01",
                           "2024-03-02", "1850-01-01", "2024-03-09", "2250-05-01",
                           "2024-03-01", "2024-01-31 23:59"], format="ISO8601")
    seats = pa.array([5, 7, None, 1, 1, 1, 1, 1, 1, 3, 3, 2, 2, 4, 9, 8, 8, 1, None],
                     type=pa.int32())
    return pa.table({"Account ID": pa.array(accounts, type=pa.string()),
                     "Event Time": pa.array(when.to_numpy(dtype="datetime64[ms]")),
                     "User ID": users, "Licensed Seats": seats})


@pytest.mark.parametrize("users", [
    pa.array([1, 2, 1, 3, 4, 4, None, 5, 6, 7, 7, 8, 9, 9, 1, 2, 3, 1, 1], type=pa.int64()),
    pa.array(["u1", " u1", "", None, "nan", "x", "y", "NULL", "z", "u", "u", "v", "w",
              " w ", "a", "b", "c", "d", "u1"], type=pa.string()),
], ids=["whole-number users", "text users"])
def test_edge_cases_give_the_same_table(tmp_path, users):
    path = tmp_path / "edge.parquet"
    pq.write_table(_edge_table(users), path)
    new = _same(path, COLUMNS)
    # blank ids and blank words are not accounts; 'nano' and 'nulls' are; 'A' and ' A '
    # are one account; dates out of range or missing are not counted
    assert sorted(new["account_id"].unique()) == ["A", "B", "C", "nano", "nulls", "İ"]
    a_jan = new[(new["account_id"] == "A") & (new["month"] == "2024-01-01")].iloc[0]
    assert (a_jan["key_actions"], a_jan[ROWS], a_jan["_line"]) == (3, 3, 2)
    assert new[ROWS].sum() == 19 - 11  # 7 blank or blank-word ids, 1 None, 3 bad dates


def test_one_account_no_users_and_counted_rows(tmp_path):
    path = tmp_path / "one.parquet"
    pq.write_table(pa.table({"acct": ["Z"] * 4,
                             "when": pa.array(np.array(["2024-05-01", "2024-05-09",
                                                        "2024-06-01", "2024-06-30"],
                                                       dtype="datetime64[ms]")),
                             "n": pa.array([3.0, None, -1.0, float("nan")])}), path)
    new = _same(path, {"account_id": "acct", "month": "when"})
    assert new["key_actions"].tolist() == [2, 2]
    _same(path, {"account_id": "acct", "month": "when", "event_count": "n"})


def test_an_empty_file_gives_an_empty_table(tmp_path):
    path = tmp_path / "empty.parquet"
    pq.write_table(_edge_table(pa.array([1] * 19, type=pa.int64())).slice(0, 0), path)
    new = _same(path, COLUMNS)
    assert new.empty


def test_a_csv_file_gives_the_same_table(tmp_path, demo_event_file):
    events = pq.read_table(demo_event_file).slice(0, 5000).to_pandas()
    events.loc[3, "Account ID"] = " nan "
    events.loc[4, "Account ID"] = ""
    events.loc[7, "User ID"] = None
    path = tmp_path / "ev.csv"
    events.to_csv(path, index=False)
    tp = table_params(file=path.name, layout="events", columns=COLUMNS)
    assert aggregate_events("usage", path, tp, 0.5)[0].shape[0] > 100
    new = _same(path, COLUMNS, csv=True)
    assert new[ROWS].sum() == 5000 - 2
