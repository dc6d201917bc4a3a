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


# ----------------------------------------------------------- kept across a run's kernels
# Each kernel of a run reads the stored tables afresh: two frames marked under the same
# name in the same folder stand for one table in two kernels.


def test_a_result_kept_across_kernels_is_computed_once_for_the_run(tmp_path):
    calls, compute = _counting()
    first = read_only.mark_read_only(_frame(), shared_as=(tmp_path, "usage"))
    second = read_only.mark_read_only(_frame(), shared_as=(tmp_path, "usage"))  # 2nd kernel
    got_first = read_only.kept_result(first, ("sum", 1), compute, across_kernels=True)
    got_second = read_only.kept_result(second, ("sum", 1), compute, across_kernels=True)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(got_second, got_first)
    assert len(list(tmp_path.glob("kept-*.pickle"))) == 1
    # another key, another frame name: each computed once more, each its own file
    other = read_only.mark_read_only(_frame(), shared_as=(tmp_path, "mrr"))
    read_only.kept_result(second, ("sum", 2), compute, across_kernels=True)
    read_only.kept_result(other, ("sum", 1), compute, across_kernels=True)
    assert len(calls) == 3
    assert len(list(tmp_path.glob("kept-*.pickle"))) == 3


def test_without_a_shared_name_or_the_flag_a_result_stays_in_its_kernel(tmp_path):
    calls, compute = _counting()
    plain = [read_only.mark_read_only(_frame()) for _ in range(2)]
    for frame in plain:
        read_only.kept_result(frame, "k", compute, across_kernels=True)
    named = [read_only.mark_read_only(_frame(), shared_as=(tmp_path, "usage"))
             for _ in range(2)]
    for frame in named:
        read_only.kept_result(frame, "k", compute)  # across_kernels not asked
    assert len(calls) == 4
    assert not list(tmp_path.iterdir())
    assert read_only.shared_name(plain[0]) is None
    assert read_only.shared_name(named[0]) == (tmp_path, "usage")


def test_results_of_several_frames_are_shared_only_when_all_are_named_in_one_folder(
        tmp_path):
    calls, compute = _counting()
    usage = read_only.mark_read_only(_frame(), shared_as=(tmp_path, "usage"))
    elsewhere = read_only.mark_read_only(_frame(), shared_as=(tmp_path / "x", "contacts"))
    for _ in range(2):  # a new pair of frames each time, as in a new kernel
        usage_again = read_only.mark_read_only(_frame(), shared_as=(tmp_path, "usage"))
        contacts = read_only.mark_read_only(_frame(), shared_as=(tmp_path, "contacts"))
        read_only.kept_result(usage_again, "k", compute, also=(contacts,),
                              across_kernels=True)
    assert len(calls) == 1
    read_only.kept_result(usage, "k", compute, also=(elsewhere,), across_kernels=True)
    assert len(calls) == 2


def test_stored_tables_of_a_run_share_the_usage_sums_and_snapshots(small_demo_run,
                                                                   tmp_path, monkeypatch):
    _, data = small_demo_run
    usage = data["usage"]
    write_table(usage, tmp_path / "usage.arrow")
    shared = tmp_path / "shared"
    calls = []
    sums, snapshot = account_state._monthly_sums, account_state._usage_snapshot
    monkeypatch.setattr(account_state, "_monthly_sums",
                        lambda *a: calls.append("sums") or sums(*a))
    monkeypatch.setattr(account_state, "_usage_snapshot",
                        lambda *a: calls.append("snapshot") or snapshot(*a))
    as_of = pd.Timestamp(sorted(pd.to_datetime(usage["month"]).unique())[-2])
    expected = account_state.usage_snapshot(usage.copy(), as_of)
    calls.clear()
    for _ in range(3):  # three kernels of one run, each reading the table afresh
        stored = StoredTables(tmp_path, {"usage": len(usage)}, shared=shared)["usage"]
        pd.testing.assert_frame_equal(account_state.usage_snapshot(stored, as_of), expected)
    assert calls == ["snapshot", "sums"]  # the first kernel computed them, the others read
    # the sums read back from the run's folder equal those computed here
    fresh = read_only.mark_read_only(usage.copy())
    computed = account_state.usage_monthly(fresh)
    stored = StoredTables(tmp_path, {"usage": len(usage)}, shared=shared)["usage"]
    kept = account_state.usage_monthly(stored)
    pd.testing.assert_frame_equal(kept[0], computed[0])
    pd.testing.assert_index_equal(kept[1], computed[1])
    for k in (2, 3):
        assert (kept[k] == computed[k]).all() and kept[k].dtype == computed[k].dtype


def test_stored_tables_are_named_in_the_run_folder_only_when_given_one(tmp_path):
    from playbook import cache

    entry = tmp_path / "entry"
    entry.mkdir()
    write_table(_frame(), entry / "accounts.arrow")
    tables = StoredTables(entry, {"accounts": 2}, shared=cache.shared_folder(entry))
    assert read_only.shared_name(tables["accounts"]) == (cache.shared_folder(entry),
                                                         "accounts")
    assert read_only.shared_name(StoredTables(entry, {"accounts": 2})["accounts"]) is None
