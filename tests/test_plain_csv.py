"""A plain CSV file is read by Arrow's CSV reader (issue 22, ``reading.read_plain_csv``)
with the cells, column names, dtypes and errors pandas' reader gave (the reference: the
same ``read_raw`` with the Arrow path switched off). On the demo's files, every CSV file of
the export shapes in tests/fixtures/exports, hand-made files at the edge of "plain", and
any bytes at all."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from playbook import demo, reading
from playbook.config import table_params
from playbook.errors import DataError
from playbook.quality import QualityLog
from playbook.reading import read_plain_csv, read_raw, text_format

REPO = Path(__file__).resolve().parents[1]
EXPORT_CSVS = sorted((REPO / "tests" / "fixtures" / "exports").glob("*/*.csv"))
CHECK = settings(max_examples=250, deadline=None, derandomize=True, database=None,
                 phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _outcome(path: Path, header_row: int = 1) -> tuple[pd.DataFrame | None, object]:
    """(frame, None) or (None, the error's issues) of read_raw."""
    tp = table_params(file=path.name, header_row=header_row)
    try:
        return read_raw("t", path, tp, QualityLog()), None
    except DataError as exc:
        return None, [i.__dict__ for i in exc.issues]


def _both(path: Path, monkeypatch: pytest.MonkeyPatch, header_row: int = 1) -> bool:
    """read_raw with and without the Arrow path: equal frames (dtypes included) or equal
    errors. Returns whether the Arrow path read the file."""
    new = _outcome(path, header_row)
    with monkeypatch.context() as m:
        m.setattr(reading, "read_plain_csv", lambda *a: None)
        old = _outcome(path, header_row)
    if new[0] is None or old[0] is None:
        assert new[1] == old[1]
    else:
        pd.testing.assert_frame_equal(new[0], old[0], check_exact=True)
    encoding, sep = text_format(path)
    return read_plain_csv(path, encoding, sep, header_row - 1) is not None


def test_the_demo_files_read_the_same(tmp_path, monkeypatch):
    demo.generate_demo(tmp_path, n_accounts=300)
    plain = {p.name: _both(p, monkeypatch) for p in sorted(tmp_path.glob("*.csv"))}
    assert plain["touches.csv"] and plain["mrr_history.csv"] and plain["accounts.csv"]
    assert not plain["churn_events.csv"]  # quoted cells: pandas reads it


@pytest.mark.parametrize("path", EXPORT_CSVS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_export_shapes_read_the_same(path, monkeypatch):
    _both(path, monkeypatch)


EDGES = {
    "plain": (b"a,b,c\n1,x,\n2,,z\n", True),
    "crlf": (b"a,b\r\n1,2\r\n3,4\r\n", True),
    "no final line end": (b"a,b\n1,2\n3,4", True),
    "bom": (b"\xef\xbb\xbfa,b\n1,2\n", True),
    "semicolons": (b"a;b\n1,5;2\n", True),
    "unicode": ("a,b\nÉ,日本\n".encode(), True),
    "trailing spaces": (b"a ,b\nx ,y \n", True),
    "a space after a delimiter": (b"a,b\n1, 2\n", False),
    "a line starting with a space": (b"a,b\n 1,2\n", False),
    "a tab after a delimiter": (b"a,b\n1,\t2\n", False),
    "blank line": (b"a,b\n1,2\n\n3,4\n", False),
    "blank crlf line": (b"a,b\r\n1,2\r\n\r\n3,4\r\n", False),
    "bare carriage return": (b"a,b\r1,2\r3,4\r", False),
    "carriage return at the end": (b"a,b\n1,2\r", False),
    "quotes": (b'a,b\n"1,5",2\n', False),
    "a quote inside a cell": (b'a,b\nx"y,2\n', False),
    "NUL": (b"a,b\n1\x00,2\n", False),
    "long row": (b"a,b\n1,2,3\n", False),
    "short row": (b"a,b,c\n1,2\n", False),
    "duplicate names": (b"a,a\n1,2\n", False),
    "empty name": (b"a,,c\n1,2,3\n", False),
    "header only": (b"a,b\n", False),
    "latin-1": ("a,b\nÉ,1\n".encode("latin-1"), False),
    "bad utf-8 later": (b"a,b\n" + b"x,y\n" * 400_000 + b"\xff,1\n", False),
}


@pytest.mark.parametrize("name", EDGES)
def test_edge_files_read_the_same(name, tmp_path, monkeypatch):
    data, plain = EDGES[name]
    path = tmp_path / "t.csv"
    path.write_bytes(data)
    assert _both(path, monkeypatch) is plain


def test_a_title_line_above_the_header_takes_pandas(tmp_path, monkeypatch):
    path = tmp_path / "t.csv"
    path.write_bytes(b"Export of 2024\na,b\n1,2\n")
    assert _both(path, monkeypatch, header_row=2) is False
    frame, _ = _outcome(path, header_row=2)
    assert frame is not None and frame["a"].tolist() == ["1"]


def test_the_plain_reader_by_hand(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,when,amount\nA1,2024-01-05,007\nA2,,1.5e3\n")
    frame = read_plain_csv(path, "utf-8-sig", ",", 0)
    assert list(frame.columns) == ["id", "when", "amount"]
    assert frame.to_dict("list") == {"id": ["A1", "A2"], "when": ["2024-01-05", ""],
                                     "amount": ["007", "1.5e3"]}
    assert all(str(t) == "str" for t in frame.dtypes)


piece = st.sampled_from([b"a", b"1", b"x y", b",", b";", b" ", b"\t", b"\n", b"\r", b"\r\n",
                         b'"', b'""', "é".encode(), b"\xff", b"\x00", b"nan", b"\xef\xbb\xbf"])


@CHECK
@given(header=st.sampled_from([b"a,b\n", b"a,b,c\n", b"a\n", b"a;b\n", b"a,b\r\n", b"a,a\n"]),
       body=st.lists(piece, max_size=40))
def test_any_bytes_read_the_same(header, body, tmp_path_factory):
    path = tmp_path_factory.mktemp("any") / "t.csv"
    path.write_bytes(header + b"".join(body))
    with pytest.MonkeyPatch.context() as monkeypatch:
        _both(path, monkeypatch)
