"""The run's data cache as Arrow IPC files read by memory map (issue 22): a table read back
equals the one written and what the Parquet files it replaced gave back (the previous
format, kept here as the reference), for every dtype the loader produces and a few more;
its text is read in place from the mapped file (shared by the kernels), not copied."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from playbook.memory import drop_mapped_pages
from playbook.table_files import read_table, write_table


def reference_round_trip(frame: pd.DataFrame, folder) -> pd.DataFrame:
    """What the cache gave back before: Parquet without the index, read by pandas."""
    path = folder / "reference.parquet"
    frame.to_parquet(path, index=False)
    return pd.read_parquet(path)


def hand_table() -> pd.DataFrame:
    frame = pd.DataFrame({
        "account_id": pd.array(["A1", "A2", None, "Ä4 \"quoted\"", ""], dtype="str"),
        "mrr": [10.5, np.nan, 0.0, -3.25, 1e12],
        "seats": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        "month": pd.to_datetime(["2026-01-01", None, "2025-12-31", "1999-02-28",
                                 "2026-09-30"]),
        "flag": [True, False, True, True, False],
        "tier": pd.Categorical(["High", "Low", None, "High", "Mid"],
                               categories=["High", "Mid", "Low"]),
        "count": np.arange(5, dtype=np.int64),
    })
    return frame.set_axis([7, 3, 9, 1, 0])  # an index the file does not keep


def test_a_hand_table_reads_back_as_parquet_gave_it(tmp_path):
    frame = hand_table()
    write_table(frame, tmp_path / "t.arrow")
    back = read_table(tmp_path / "t.arrow")
    pd.testing.assert_frame_equal(back, reference_round_trip(frame, tmp_path),
                                  check_exact=True)
    pd.testing.assert_frame_equal(back, frame.reset_index(drop=True), check_exact=True)
    assert isinstance(back.index, pd.RangeIndex) and back["seats"].isna().tolist() == [
        False, True, False, False, False]


def test_an_empty_table_keeps_its_columns_and_dtypes(tmp_path):
    frame = hand_table().iloc[:0]
    write_table(frame, tmp_path / "e.arrow")
    back = read_table(tmp_path / "e.arrow")
    pd.testing.assert_frame_equal(back, reference_round_trip(frame, tmp_path),
                                  check_exact=True)
    assert list(back.columns) == list(frame.columns) and back.empty


def test_the_demo_tables_read_back_as_parquet_gave_them(small_demo_run, tmp_path):
    _params, data = small_demo_run
    assert len(data.tables) >= 10
    for name, frame in data.tables.items():
        write_table(frame, tmp_path / f"{name}.arrow")
        pd.testing.assert_frame_equal(read_table(tmp_path / f"{name}.arrow"),
                                      reference_round_trip(frame, tmp_path), check_exact=True)


def test_text_is_read_in_place_not_copied(tmp_path):
    n = 200_000
    ids = pd.Series([f"ACCOUNT-{i:09d}-with-a-long-name" for i in range(n)], dtype="str")
    frame = pd.DataFrame({"account_id": ids})
    write_table(frame, tmp_path / "big.arrow")
    text_bytes = int(ids.str.len().sum())  # about 6.6 MB of characters
    before = pa.total_allocated_bytes()
    back = read_table(tmp_path / "big.arrow")
    grown = pa.total_allocated_bytes() - before
    assert back["account_id"].iloc[n - 1] == ids.iloc[n - 1]
    assert grown < text_bytes / 10  # the characters stay in the mapped file
    copied = pd.read_parquet(reference_parquet(frame, tmp_path))
    assert copied["account_id"].equals(back["account_id"])


def reference_parquet(frame: pd.DataFrame, folder):
    path = folder / "big.parquet"
    frame.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_dates_keep_their_unit(tmp_path, unit):
    frame = pd.DataFrame({"day": pd.to_datetime(["2026-01-31", None]).astype(
        f"datetime64[{unit}]")})
    write_table(frame, tmp_path / "d.arrow")
    back = read_table(tmp_path / "d.arrow")
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    if unit != "s":  # Parquet has no seconds unit (it gave milliseconds back)
        pd.testing.assert_frame_equal(back, reference_round_trip(frame, tmp_path),
                                      check_exact=True)


def mapped_resident_kb(path) -> int:
    """Kilobytes of ``path``'s mappings resident in this process (Linux smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()
            if "-" in head[0] and len(head) >= 5:  # a mapping's first line
                inside = line.rstrip().endswith(str(path))
            elif inside and head[0] == "Rss:":
                total += int(head[1])
    return total


def mapped_range(path) -> tuple[int, int]:
    """The lowest and highest address of ``path``'s mappings in this process (Linux maps)."""
    starts, ends = [], []
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith(str(path)):
                start, end = line.split()[0].split("-")
                starts.append(int(start, 16))
                ends.append(int(end, 16))
    assert starts, f"{path} is not mapped"
    return min(starts), max(ends)


def points_into(column: pd.Series, where: tuple[int, int]) -> bool:
    address = column.to_numpy(copy=False).__array_interface__["data"][0]
    return where[0] <= address < where[1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
def test_numbers_and_dates_are_read_in_place_and_cost_only_when_read(tmp_path):
    n = 1_000_000
    blanks = np.arange(n) % 9 == 0
    frame = pd.DataFrame({
        "account_id": pd.Series([f"ACCOUNT-{i:09d}" for i in range(n)], dtype="str"),
        "mrr": np.where(blanks, np.nan, np.arange(n, dtype=np.float64) / 7),
        "month": pd.Series(pd.date_range("2000-01-01", periods=n, freq="min")).mask(blanks),
        "count": np.arange(n, dtype=np.int64),
        "seats": pd.array(np.where(blanks, None, np.arange(n)), dtype="Int64"),
    })
    path = tmp_path / "n.arrow"
    write_table(frame, path)
    back = read_table(path)
    text_bytes = int(frame["account_id"].str.len().sum())  # 17 MB
    column_bytes = 8 * n  # 8 MB per number or date column; the text, 17 MB, is not read
    where = mapped_range(path)
    # floats with NaN, dates with NaT and whole numbers point into the file (not copied);
    # the whole numbers with blanks (Int64) are converted, so copied
    assert points_into(back["mrr"], where) and points_into(back["month"], where)
    assert points_into(back["count"], where) and not points_into(back["seats"], where)
    assert not back["mrr"].to_numpy(copy=False).flags.writeable
    # nothing of the file is resident yet: the copied column's pages were handed back,
    # and neither the text nor an in-place column was read
    assert mapped_resident_kb(path) * 1024 < column_bytes / 4
    total = back["mrr"].sum()  # reading a column maps its pages: 8 MB, no more
    resident = mapped_resident_kb(path) * 1024
    assert column_bytes * 0.9 < resident < column_bytes * 1.25
    assert back["account_id"].iloc[-1] == frame["account_id"].iloc[-1]
    assert mapped_resident_kb(path) * 1024 < column_bytes * 1.25 + text_bytes / 4
    assert total == pytest.approx(frame["mrr"].sum(), rel=1e-12)
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    pd.testing.assert_frame_equal(back, reference_round_trip(frame, tmp_path),
                                  check_exact=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise")
def test_dropped_pages_read_back_the_same_bytes(tmp_path):
    data = np.random.default_rng(3).integers(0, 2**62, 2_000_000)
    path = tmp_path / "raw.bin"
    data.tofile(path)
    with pa.memory_map(str(path)) as source:
        buffer = source.read_buffer()
        view = np.frombuffer(buffer, dtype=data.dtype)
        assert int(view.sum()) == int(data.sum())  # every page read in
        assert drop_mapped_pages(buffer.address, buffer.size)
        assert mapped_resident_kb(path) < 8  # at most the partial pages at the ends
        np.testing.assert_array_equal(view, data)  # read again from the file, unchanged


def test_a_table_parsed_in_pieces_is_read_in_place_too(tmp_path):
    pieces = pa.chunked_array([pa.array(["a", "b"], pa.large_string()),
                               pa.array(["c"], pa.large_string())])
    frame = pd.DataFrame({"account_id": pd.Series(pd.arrays.ArrowStringArray(pieces)),
                          "mrr": [1.0, np.nan, 3.0]})
    frame["account_id"] = frame["account_id"].astype("str")
    write_table(frame, tmp_path / "p.arrow")
    with pa.memory_map(str(tmp_path / "p.arrow")) as source:
        stored = pa.ipc.open_file(source).read_all()
    assert {stored[name].num_chunks for name in stored.column_names} == {1}
    back = read_table(tmp_path / "p.arrow")
    if sys.platform.startswith("linux"):  # (reads /proc/self/maps)
        assert points_into(back["mrr"], mapped_range(tmp_path / "p.arrow"))  # not copied
    pd.testing.assert_frame_equal(back, frame, check_exact=True)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/smaps")
def test_a_kernel_hands_back_the_pages_of_large_tables_after_each_cell(tmp_path, monkeypatch):
    """A kernel's stored tables keep the buffers their frames point into: once they are
    large (kernel_state.DROP_PAGES_FROM) the hook after each cell hands their pages back
    (the values read again are the same), below it the pages stay; a store that is gone
    (its notebook reset) is forgotten."""
    import gc

    from playbook import client_data, kernel_state
    from playbook.client_data import StoredTables

    n = 1_000_000
    frame = pd.DataFrame({
        "account_id": pd.Series([f"ACCOUNT-{i:09d}" for i in range(n)], dtype="str"),
        "mrr": np.arange(n, dtype=np.float64) / 7})
    path = tmp_path / "t.arrow"
    write_table(frame, path)
    before = client_data.bytes_read_in_place()
    store = StoredTables(tmp_path, {"t": n})
    back = store["t"]
    text_bytes = int(frame["account_id"].str.len().sum())  # 17 MB, 8 MB of floats
    assert client_data.bytes_read_in_place() - before >= 8 * n + text_bytes
    total, longest = back["mrr"].sum(), back["account_id"].str.len().max()  # every page read
    resident = mapped_resident_kb(path) * 1024
    assert resident > 0.9 * (8 * n + text_bytes)
    kernel_state._trim_after_cell()  # 25 MB read: below the limit, the pages stay
    assert mapped_resident_kb(path) * 1024 > 0.9 * resident
    monkeypatch.setattr(kernel_state, "DROP_PAGES_FROM", 8 * n)
    kernel_state._trim_after_cell()
    assert mapped_resident_kb(path) < 64  # at most the partial pages at the buffers' ends
    assert back["mrr"].sum() == total and back["account_id"].str.len().max() == longest
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    del store, back
    gc.collect()
    assert client_data.bytes_read_in_place() <= before


def test_after_each_cell_a_kernel_keeps_its_freed_heap_once_the_tables_are_large(monkeypatch):
    """Small tables: the freed heap goes back after each cell, the table pages stay. Large
    ones (kernel_state.DROP_PAGES_FROM): the table pages go back, the freed heap stays for
    the next cell (given back, a 1,000,000-account run faulted it in again cell by cell),
    every allocation served from that heap in a kernel."""
    from playbook import client_data, kernel_state, kernels

    trimmed, dropped = [], []
    monkeypatch.setattr(kernel_state, "malloc_trim", lambda: trimmed.append(1))
    monkeypatch.setattr(client_data, "drop_pages_read", lambda: dropped.append(1))
    monkeypatch.setattr(kernel_state, "DROP_PAGES_FROM", 100)
    monkeypatch.setattr(client_data, "bytes_read_in_place", lambda: 99)
    kernel_state._trim_after_cell()
    assert (trimmed, dropped) == ([1], [])
    monkeypatch.setattr(client_data, "bytes_read_in_place", lambda: 100)
    kernel_state._trim_after_cell()
    assert (trimmed, dropped) == ([1], [1])
    monkeypatch.delenv("MALLOC_MMAP_MAX_", raising=False)
    assert kernels.kernel_environment()["MALLOC_MMAP_MAX_"] == "0"
