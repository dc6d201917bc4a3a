"""Fuzzing the loader: whatever bytes a client sends, the result is a clean PlaybookError or a
valid canonical table, never a traceback.

Bounded (a few dozen examples per property, ``deadline=None``) so the file runs in seconds.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from playbook.config import load_params, table_params
from playbook.contract import TABLES
from playbook.errors import PlaybookError
from playbook.loader import load_client
from playbook.values import (
    DATE_MAX,
    DATE_MIN,
    parse_bool,
    parse_code,
    parse_dates,
    parse_number,
    read_dates,
)

# No example database (nothing written into the checkout) and no shrinking (a failure
# prints its example at once instead of minutes later).
FUZZ = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

HEADER = "account_id,start_date,status,arr,employees"
MRR = "account_id,month,mrr\nA1,2024-01-01,10\n"

# Cells that look like what exports contain, plus anything at all.
cell = st.one_of(
    st.sampled_from(["", " ", "A1", "A2", "2024-01-15", "15/01/2024", "13-02-2024", "45000",
                     "1,000.50", "1.000,50", "(12)", "-5", "1e308", "nan", "NULL", "true",
                     "Active", "churned", "\"quoted, comma\"", "é", "\ufeff", "€12", ";",
                     # hostile and odd values (issue 15): zones, placeholders, thousands
                     "2024-01-31T23:30:00-05:00", "2024-02-10T10:00:00Z", "9999-12-31",
                     "1900-01-01", "0000-00-00", "2999-06-15", "€1.200", "1.200,50"]),
    st.text(max_size=12),
)
row = st.lists(cell, min_size=0, max_size=7).map(lambda cells: ",".join(cells))
csv_text = st.lists(row, min_size=0, max_size=12).map(lambda rows: "\n".join(rows))
encodings = st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"])


def params_for(root: Path, accounts: bytes, name: str = "accounts.csv", **table) -> None:
    data = root / "data" / "f"
    data.mkdir(parents=True, exist_ok=True)
    (data / name).write_bytes(accounts)
    (data / "mrr.csv").write_text(MRR, encoding="utf-8")
    (root / "params").mkdir(exist_ok=True)
    params = {"period": {"period": "2024-Q1"},
              "tables": {"accounts": {"file": name,
                                      "codes": {"status": {"Active": "active"}}, **table},
                         "mrr": {"file": "mrr.csv"}}}
    (root / "params" / "f.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")


def load_or_error(accounts: bytes, **table):
    """Load a client whose accounts file is ``accounts``: the ClientData or the error."""
    with tempfile.TemporaryDirectory() as tmp:
        old = os.environ.get("PLAYBOOK_ROOT")
        os.environ["PLAYBOOK_ROOT"] = tmp
        try:
            params_for(Path(tmp), accounts, **table)
            return load_client(load_params("f"))
        except PlaybookError as exc:
            assert str(exc).strip(), "an error must say something"
            return exc
        finally:
            if old is None:
                os.environ.pop("PLAYBOOK_ROOT", None)
            else:
                os.environ["PLAYBOOK_ROOT"] = old


def assert_valid(data) -> None:
    """A loaded client: canonical columns, typed, required values present, unique keys."""
    if isinstance(data, PlaybookError):
        return
    acc = data["accounts"]
    assert list(acc.columns) == TABLES["accounts"].column_names
    assert acc["account_id"].notna().all() and acc["account_id"].is_unique
    assert acc["start_date"].notna().all()
    assert acc["start_date"].dtype == "datetime64[ns]"
    assert set(acc["status"].dropna()) <= {"active", "churned"}
    arr = acc["arr"].dropna()
    assert (arr >= 0).all() and np.isfinite(arr).all()
    loads = data.quality.loads_frame()
    assert (loads["rows kept"] <= loads["rows read"]).all()


@FUZZ
@given(body=csv_text, encoding=encodings)
def test_any_accounts_csv_ends_in_a_table_or_a_clean_error(body: str, encoding: str):
    raw = (HEADER + "\n" + body).encode(encoding, errors="replace")
    assert_valid(load_or_error(raw))


@FUZZ
@given(blob=st.binary(max_size=300))
def test_any_bytes_end_in_a_table_or_a_clean_error(blob: bytes):
    assert_valid(load_or_error(blob))


@FUZZ
@given(magic=st.sampled_from([b"", b"PK\x03\x04", b"PAR1", b"\xd0\xcf\x11\xe0"]),
       blob=st.binary(max_size=300), name=st.sampled_from(["a.xlsx", "a.parquet", "a.xls"]))
def test_any_bytes_as_excel_or_parquet_end_in_a_table_or_a_clean_error(magic, blob, name):
    assert_valid(load_or_error(magic + blob + (b"PAR1" if magic == b"PAR1" else b""),
                               name=name))


@FUZZ
@given(body=csv_text, delimiter=st.sampled_from([None, ",", ";", "\t", "|"]),
       decimal=st.sampled_from([".", ","]), dayfirst=st.booleans(),
       header_row=st.integers(min_value=1, max_value=3))
def test_any_reader_settings_end_in_a_table_or_a_clean_error(body, delimiter, decimal,
                                                              dayfirst, header_row):
    raw = ("title\n" * (header_row - 1) + HEADER + "\n" + body).encode("utf-8")
    table = {"decimal": decimal, "dayfirst": dayfirst, "header_row": header_row}
    if delimiter:
        table["delimiter"] = delimiter
    assert_valid(load_or_error(raw, **table))


values = st.lists(st.one_of(cell, st.none()), max_size=20)


@FUZZ
@given(cells=values, decimal=st.sampled_from([".", ","]),
       thousands=st.sampled_from([None, "", ",", ".", " "]))
def test_number_validator_never_raises_and_flags_what_it_cannot_read(cells, decimal,
                                                                     thousands):
    series = pd.Series(cells, dtype=object)
    tp = table_params(file="x", decimal=decimal, thousands=thousands)
    out, bad = parse_number(series, tp)
    assert out.index.equals(series.index) and bad.dtype == bool
    assert np.isfinite(out.dropna()).all()
    assert not (bad & out.notna()).any()            # a value is either read or flagged


@FUZZ
@given(cells=values, dayfirst=st.booleans(),
       date_format=st.sampled_from([None, "%d-%m-%Y", "%Y-%m-%d"]))
def test_date_validator_never_raises_and_flags_what_it_cannot_read(cells, dayfirst,
                                                                   date_format):
    series = pd.Series(cells, dtype=object)
    tp = table_params(file="x", dayfirst=dayfirst, date_format=date_format)
    out, bad = parse_dates(series, tp)
    assert out.dtype == "datetime64[ns]" and out.index.equals(series.index)
    assert not (bad & out.notna()).any()


@FUZZ
@given(cells=values, dayfirst=st.booleans())
def test_every_date_is_read_in_range_or_said_to_be_blank_a_placeholder_or_wrong(cells,
                                                                                dayfirst):
    series = pd.Series(cells, dtype=object)
    dates = read_dates(series, table_params(file="x", dayfirst=dayfirst))
    read = dates.values.dropna()
    assert ((read >= DATE_MIN) & (read < DATE_MAX + pd.Timedelta(days=1))).all()
    masks = [dates.values.notna(), dates.bad, dates.implausible, dates.placeholder]
    assert (sum(m.astype(int) for m in masks) <= 1).all()          # one fate per value
    text = series.astype(str).str.strip()
    blank = series.isna() | text.eq("") | text.str.lower().isin({"nan", "nat", "none", "null"})
    assert (sum(m.astype(int) for m in masks) == (~blank).astype(int)).all()


@FUZZ
@given(cells=values)
def test_bool_and_code_validators_never_raise(cells):
    series = pd.Series(cells, dtype=object)
    flags, bad = parse_bool(series)
    assert not (bad & flags.notna()).any()
    col = TABLES["accounts"].column("status")
    codes, bad = parse_code(series, col, {"Active": "active", "Gone": "churned"})
    assert set(codes.dropna()) <= {"active", "churned"}
    assert not (bad & codes.notna()).any()


@pytest.mark.parametrize("blob", [b"", b"\x00\x00", b"\xef\xbb\xbf", b"\n\n\n",
                                  "account_id\n\u2028\n".encode(), b"\xff\xfe\x00A"])
def test_known_nasty_inputs(blob: bytes):
    assert_valid(load_or_error(blob))
