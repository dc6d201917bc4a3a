"""Results kept per read-only frame (playbook.read_only) and usage_snapshot over them.

The expected snapshots are usage_snapshot of an unmarked copy of the same table: the memo
must change nothing but how often the work is done."""

from __future__ import annotations

import gc

import pandas as pd
import pytest

from playbook import read_only
from playbook.analyses import account_state
from playbook.client_data import StoredTables
from playbook.table_files import write_table


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"account_id": ["A", "B"], "x": [1.0, 2.0]})


def _counting():
    calls = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"total": [float(len(calls))]})

    return calls, compute


def test_a_marked_frame_keeps_each_result_and_each_caller_gets_its_own_copy():
    frame = read_only.mark_read_only(_frame())
    calls, compute = _counting()
    first = read_only.kept_result(frame, ("sum", 1), compute)
    first["total"] = 99.0  # a caller changing its copy
    second = read_only.kept_result(frame, ("sum", 1), compute)
    assert len(calls) == 1
    assert second["total"].tolist() == [1.0]
    read_only.kept_result(frame, ("sum", 2), compute)  # another key is computed
    assert len(calls) == 2


def test_an_unmarked_or_equal_copy_is_computed_every_time():
    frame = read_only.mark_read_only(_frame())
    calls, compute = _counting()
    copy = frame.copy()
    assert not read_only.is_read_only(copy)
    read_only.kept_result(copy, "k", compute)
    read_only.kept_result(copy, "k", compute)
    assert len(calls) == 2
    assert read_only.is_read_only(frame)


def test_the_least_recently_used_result_goes_beyond_the_limit():
    frame = read_only.mark_read_only(_frame())
    calls, compute = _counting()
    for key in range(read_only.RESULTS_PER_FRAME):
        read_only.kept_result(frame, key, compute)
    read_only.kept_result(frame, 0, compute)  # key 0 used again: key 1 is now the oldest
    read_only.kept_result(frame, "new", compute)
    assert len(calls) == read_only.RESULTS_PER_FRAME + 1
    read_only.kept_result(frame, 0, compute)
    assert len(calls) == read_only.RESULTS_PER_FRAME + 1
    read_only.kept_result(frame, 1, compute)
    assert len(calls) == read_only.RESULTS_PER_FRAME + 2


def test_a_collected_frame_is_forgotten():
    frame = read_only.mark_read_only(_frame())
    key = id(frame)
    assert key in read_only._MARKED
    del frame
    gc.collect()
    assert key not in read_only._MARKED


@pytest.fixture
def stored_usage(small_demo_run, tmp_path):
    _, data = small_demo_run
    usage = data["usage"]
    write_table(usage, tmp_path / "usage.arrow")  # as the run's cache stores it
    return StoredTables(tmp_path, {"usage": len(usage)})["usage"], usage


def test_usage_snapshot_of_a_stored_table_is_computed_once_per_date_and_unchanged(
        stored_usage, monkeypatch):
    stored, usage = stored_usage
    assert read_only.is_read_only(stored)
    calls = []
    compute = account_state._usage_snapshot
    monkeypatch.setattr(account_state, "_usage_snapshot",
                        lambda *a: calls.append(a[1]) or compute(*a))
    months = sorted(pd.to_datetime(usage["month"]).unique())
    for as_of in (months[-1], months[-1], months[-7], pd.Timestamp(months[-1]).isoformat()):
        expected = account_state.usage_snapshot(usage.copy(), as_of)
        got = account_state.usage_snapshot(stored, as_of)
        pd.testing.assert_frame_equal(got, expected)
        got["depth"] = -1.0  # a caller's change stays in its copy
    # the unmarked copies were computed each time (4), the stored table once per date (2)
    assert len(calls) == 4 + 2
