"""Half of the tables loaded by a forked child while the loader loads the others (issue 22:
loading is the report's critical path): the same tables (rows, dtypes, row indexes), notes
and errors, in the same order, as loading every table in one process; the child really
does the work; no fork where another thread runs."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import yaml

from playbook import checksums, loader, paths
from playbook.config import load_params
from playbook.demo import generate_demo
from playbook.errors import DataError
from playbook.loader import beside_tables, load_client
from playbook.table_files import read_indexed, write_indexed
from tests.export_shapes import EXPORTS, copy_shape


@pytest.fixture
def demo_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small demo client (120 accounts) under a throw-away root."""
    generate_demo(tmp_path / "data" / "demo", n_accounts=120)
    (tmp_path / "params").mkdir()
    shutil.copy(paths.params_file("demo"), tmp_path / "params" / "demo.yaml")
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    return tmp_path


def _recording_pids(monkeypatch: pytest.MonkeyPatch, log: Path) -> None:
    """Each table's loading process, appended to ``log`` as ``name pid`` lines (the child
    is a fork, so it runs the patched function too)."""
    real = loader.load_table

    def load_table(name, *args, **kwargs):
        with log.open("a") as out:
            out.write(f"{name} {os.getpid()}\n")
        return real(name, *args, **kwargs)
    monkeypatch.setattr(loader, "load_table", load_table)


def _pids(log: Path) -> dict[str, int]:
    return {name: int(pid) for name, pid in (line.split() for line in
                                             log.read_text().splitlines())}


def assert_same_load(here, split) -> None:
    assert list(split.tables) == list(here.tables)
    for name in here.tables:
        pd.testing.assert_frame_equal(split.tables[name], here.tables[name],
                                      check_exact=True, check_index_type=True)
    assert split.quality.notes == here.quality.notes
    assert split.quality.loads == here.quality.loads
    assert split.files == here.files


def test_the_demo_loads_the_same_with_half_of_its_tables_in_a_child(demo_root, tmp_path,
                                                                     monkeypatch):
    params = load_params("demo")
    beside = beside_tables(params)
    touches = paths.data_dir("demo") / params.tables["touches"].file
    rows = touches.read_text().splitlines()  # a row of an unknown account, dropped: the
    rows.insert(len(rows) // 2, "NWA-999999,CT-0000018,2024-01-10,Email")  # index has a gap
    touches.write_text("\n".join(rows) + "\n")
    here = load_client(params)
    assert "touches" in beside and len(here.tables["touches"]) == len(rows) - 2
    log = tmp_path / "pids.txt"
    _recording_pids(monkeypatch, log)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    split = load_client(params, scratch=scratch)
    assert_same_load(here, split)
    pids = _pids(log)
    assert len(beside) >= 2 and "accounts" not in beside and "mrr" not in beside
    assert {pids[name] for name in beside} == {next(iter({pids[n] for n in beside}))}
    assert all(pids[name] != os.getpid() for name in beside)  # loaded by the child
    assert all(pids[name] == os.getpid() for name in pids if name not in beside)
    [folder] = scratch.iterdir()  # the child's tables, left for the caller to remove
    assert sorted(p.stem for p in folder.iterdir()) == sorted(beside)


def _shape_root(shape: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    copy_shape(shape, tmp_path)
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    return shape


@pytest.mark.parametrize("shape", sorted(p.name for p in EXPORTS.iterdir() if p.is_dir()))
def test_each_export_shape_loads_the_same_split_or_not(shape, tmp_path, monkeypatch):
    params = load_params(_shape_root(shape, tmp_path, monkeypatch))
    here = load_client(params)
    split = load_client(params, scratch=tmp_path)
    assert_same_load(here, split)


def _break(params, name: str) -> str:
    """The file of table ``name`` without its account ID column (a required column
    missing: the table cannot load); returns its file name."""
    path = paths.data_dir(params.client_id) / params.tables[name].file
    path.write_text(path.read_text().replace("Account ID", "Acct", 1))
    return path.name


def test_errors_in_tables_loaded_beside_are_reported_as_in_one_process(demo_root, tmp_path):
    params = load_params("demo")
    beside = beside_tables(params)
    there = next(n for n in ("touches", "contacts", "renewals") if n in beside)
    here = next(n for n in ("tickets", "surveys", "churn_events") if n not in beside)
    _break(params, there)
    _break(params, here)
    with pytest.raises(DataError) as one:
        load_client(params)
    with pytest.raises(DataError) as split:
        load_client(params, scratch=tmp_path)
    assert [i.describe() for i in split.value.issues] == [
        i.describe() for i in one.value.issues]
    assert {i.table for i in one.value.issues} == {there, here}


def test_no_child_where_another_thread_runs(demo_root, tmp_path, monkeypatch):
    log = tmp_path / "pids.txt"
    _recording_pids(monkeypatch, log)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        load_client(load_params("demo"), scratch=scratch)
    finally:
        stop.set()
        other.join()
    assert set(_pids(log).values()) == {os.getpid()}
    assert list(scratch.iterdir()) == []


def _sized(root: Path, sizes: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> object:
    """Params whose tables' files have the given sizes in bytes (content irrelevant:
    :func:`beside_tables` reads sizes only)."""
    monkeypatch.setenv("PLAYBOOK_ROOT", str(root))
    data = root / "data" / "s"
    data.mkdir(parents=True)
    tables = {}
    for name, size in sizes.items():
        (data / f"{name}.csv").write_bytes(b"x" * size)
        tables[name] = {"file": f"{name}.csv"}
    (root / "params").mkdir()
    (root / "params" / "s.yaml").write_text(yaml.safe_dump(
        {"client": {"name": "S"}, "period": {"period": "2024-Q1"}, "tables": tables}))
    return load_params("s")


def test_the_split_balances_file_bytes_with_mrr_counted_three_times(tmp_path, monkeypatch):
    params = _sized(tmp_path, {"accounts": 50, "mrr": 100, "touches": 300, "tickets": 150,
                               "surveys": 60, "contacts": 40}, monkeypatch)
    # by hand: here starts at 3 x 100 = 300; largest first: touches 300 beside (0 < 300),
    # tickets 150 here (300 >= 300) -> 450, surveys 60 beside (300 < 450) -> 360,
    # contacts 40 beside (360 < 450) -> 400
    assert beside_tables(params) == ["touches", "surveys", "contacts"]  # largest first
    few = _sized(tmp_path / "few", {"accounts": 50, "mrr": 100, "touches": 300}, monkeypatch)
    assert beside_tables(few) == []  # one table to move: nothing to gain


@pytest.mark.parametrize("index", [pd.RangeIndex(0, 4), pd.RangeIndex(3, 7),
                                   pd.Index([0, 2, 3, 9]), pd.Index([], dtype="int64")])
def test_a_table_written_beside_keeps_its_row_index(index, tmp_path):
    frame = pd.DataFrame({"account_id": pd.Series(["a", None, "c", "d"][:len(index)],
                                                  dtype="str", index=index),
                          "mrr": pd.Series([1.5, None, 3.0, 4.0][:len(index)], index=index)})
    write_indexed(frame, tmp_path / "t.arrow")
    back = read_indexed(tmp_path / "t.arrow")
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert list(back.index) == list(index)
    if len(index):  # (an empty one comes back as an empty range)
        assert isinstance(back.index, pd.RangeIndex) == isinstance(index, pd.RangeIndex)
        # the loader goes on completing the table in place: its numbers are its own
        back.loc[back.index[0], "mrr"] = -1.0
        assert back["mrr"].iloc[0] == -1.0
        assert read_indexed(tmp_path / "t.arrow")["mrr"].iloc[0] == frame["mrr"].iloc[0]


def test_the_files_hashed_beside_are_not_hashed_again(demo_root, tmp_path, monkeypatch):
    params = load_params("demo")
    checksums._DIGESTS.clear()
    hashed: list[str] = []
    real = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda handle, name: hashed.append(
        Path(handle.name).name) or real(handle, name))
    data = load_client(params, scratch=tmp_path)
    beside = {params.tables[n].file for n in beside_tables(params)}
    assert beside and not beside & set(hashed)  # hashed by the child only
    for _name, path in data.files.items():
        assert checksums.file_sha256(path) == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not beside & set(hashed)  # known from the child: not read again here


def test_a_table_written_beside_keeps_its_text_in_the_pieces_it_was_parsed_in(tmp_path):
    """The loading child writes its tables without joining a text column's pieces (a copy
    of the column); read back, the frame is the same, its numbers and dates its own."""
    pieces = pa.chunked_array([pa.array(["a", None, "c"], pa.large_string()),
                               pa.array(["d", "e"], pa.large_string())])
    frame = pd.DataFrame({"account_id": pd.Series(pd.arrays.ArrowStringArray(pieces)),
                          "mrr": [1.5, np.nan, 3.0, 4.0, 5.0],
                          "month": pd.to_datetime(["2026-01-01", None, "2026-03-01",
                                                   "2026-04-01", "2026-05-01"])})
    frame["account_id"] = frame["account_id"].astype("str")
    frame = frame.set_axis(pd.RangeIndex(2, 7))  # rows 2-6 of a file
    write_indexed(frame, tmp_path / "t.arrow")
    with pa.memory_map(str(tmp_path / "t.arrow")) as source:
        stored = pa.ipc.open_file(source).read_all()
    assert stored["account_id"].num_chunks == 2  # not joined
    back = read_indexed(tmp_path / "t.arrow")
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    back.loc[2, "mrr"] = -1.0  # the loader goes on completing the table in place
    assert back["mrr"].iloc[0] == -1.0
