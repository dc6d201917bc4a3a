"""The client's data loaded and stored by a forked child (issue 22: the render process does
not keep the memory loading took while the kernels run): the same cache entry as loading
here, the child's errors raised in the parent as they were, nothing left behind."""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from playbook import cache, checksums, loader, loading
from playbook.config import load_params
from playbook.errors import ChildTraceback, DataError, RenderError
from playbook.loader import beside_tables, load_client
from tests.conftest import ACCOUNTS_CSV, MRR_CSV


def _tables(entry: Path) -> dict[str, pd.DataFrame]:
    data = cache.read_entry(entry)
    return {name: data.tables[name] for name in data.tables}


@pytest.mark.parametrize("fork", [True, False])
def test_the_stored_entry_is_what_loading_here_stores(client_factory, tmp_path, fork):
    params = load_params(client_factory.write())
    here = cache.store(params, load_client(params), tmp_path / "here")
    with loading.LoadingChild(params, tmp_path / "reports", fork=fork) as child:
        got = child.result()
        assert got.entry.parent == child.tmp and got.load_seconds >= 0
        assert got.table_bytes == cache.table_bytes(got.entry) > 0
        moved = got.move_into(tmp_path / "scratch")
    assert moved == tmp_path / "scratch" / here.name  # the same key: same params and files
    want, have = _tables(here), _tables(moved)
    assert sorted(have) == sorted(want) and {"accounts", "mrr"} <= set(have)
    for name in want:
        pd.testing.assert_frame_equal(have[name], want[name], check_exact=True)
    assert have["mrr"]["mrr"].sum() == 6500  # the fixture's rows, by hand
    assert cache.read_entry(moved).quality.notes == cache.read_entry(here).quality.notes
    assert list((tmp_path / "reports").iterdir()) == []  # its temporary folder went


def _record_pid(log: Path):
    real = loader.load_client

    def load(params, **how):
        log.write_text(str(os.getpid()))
        return real(params, **how)
    return load


def test_the_work_happens_in_another_process(client_factory, tmp_path, monkeypatch):
    params = load_params(client_factory.write())
    log = tmp_path / "pid.txt"
    monkeypatch.setattr(loader, "load_client", _record_pid(log))
    with loading.LoadingChild(params, tmp_path / "reports") as child:
        child.result()
    assert int(log.read_text()) != os.getpid()
    with loading.LoadingChild(params, tmp_path / "reports", fork=False) as child:
        child.result()
    assert int(log.read_text()) == os.getpid()


@pytest.mark.parametrize("fork", [True, False])
def test_a_data_error_reaches_the_caller_as_it_was(client_factory, tmp_path, fork):
    bad = ACCOUNTS_CSV.replace("Customer Since", "Customer Since Date")
    params = load_params(client_factory.write(files={"accounts.csv": bad, "mrr.csv": MRR_CSV}))
    with pytest.raises(DataError) as here:
        load_client(params)
    with (loading.LoadingChild(params, tmp_path / "reports", fork=fork) as child,
          pytest.raises(DataError) as there):
        child.result()
    assert str(there.value) == str(here.value)
    assert "required column 'Customer Since' (canonical 'start_date') is missing" in str(
        there.value)
    assert [i.describe() for i in there.value.issues] == [
        i.describe() for i in here.value.issues]
    assert list((tmp_path / "reports").iterdir()) == []


def test_an_unexpected_error_keeps_its_type_and_the_child_s_traceback(
        client_factory, tmp_path, monkeypatch):
    params = load_params(client_factory.write())

    def broken(_params, **_how):
        raise ValueError("boom in the loader")

    monkeypatch.setattr(loader, "load_client", broken)
    with (loading.LoadingChild(params, tmp_path / "reports") as child,
          pytest.raises(ValueError, match="boom in the loader") as err):
        child.result()
    cause = err.value.__cause__
    assert isinstance(cause, ChildTraceback)
    assert "in broken" in str(cause) and "boom in the loader" in str(cause)


def test_a_child_killed_says_so(client_factory, tmp_path, monkeypatch):
    params = load_params(client_factory.write())

    def killed(_params, **_how):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(loader, "load_client", killed)
    with (loading.LoadingChild(params, tmp_path / "reports") as child,
          pytest.raises(RenderError, match="exit code -9")):
        child.result()
    assert list((tmp_path / "reports").iterdir()) == []


def test_leaving_without_the_result_stops_the_child_and_removes_its_folder(
        client_factory, tmp_path, monkeypatch):
    params = load_params(client_factory.write())
    started = tmp_path / "started"

    def slow(_params, **_how):
        started.write_text("yes")
        signal.pause()  # until stopped

    monkeypatch.setattr(loader, "load_client", slow)
    with loading.LoadingChild(params, tmp_path / "reports") as child:
        while not started.exists():
            os.sched_yield()
        process = child.process
    assert not process.is_alive() and process.exitcode == -signal.SIGTERM
    assert list((tmp_path / "reports").iterdir()) == []


def test_a_folder_that_cannot_be_made_is_a_storage_error(client_factory, tmp_path):
    params = load_params(client_factory.write())
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(Exception) as err:
        loading.LoadingChild(params, tmp_path / "file" / "reports")
    assert type(err.value).__name__ == "StorageError"
    assert "file" in str(err.value)


def test_a_run_that_stops_before_caching_leaves_no_entry_behind(client_factory, tmp_path):
    params = load_params(client_factory.write())
    with loading.LoadingChild(params, tmp_path / "reports") as child:
        got = child.result()
        assert got.entry.is_dir()  # loaded and stored, then e.g. another run holds the lock
    assert not got.entry.exists() and list((tmp_path / "reports").iterdir()) == []


def test_a_moved_entry_outlives_the_child(client_factory, tmp_path):
    params = load_params(client_factory.write())
    with loading.LoadingChild(params, tmp_path / "reports") as child:
        moved = child.result().move_into(tmp_path / "scratch")
    assert (moved / "meta.pickle").is_file() and cache.read_entry(moved) is not None


def test_the_render_process_does_not_hash_the_inputs_the_child_hashed(client_factory,
                                                                      tmp_path, monkeypatch):
    params = load_params(client_factory.write())
    files = sorted((client_factory.root / "data" / params.client_id).glob("*.csv"))
    checksums._DIGESTS.clear()  # nothing known here yet
    hashed: list[str] = []
    real = hashlib.file_digest
    monkeypatch.setattr(hashlib, "file_digest", lambda handle, name: hashed.append(
        handle.name) or real(handle, name))
    with loading.LoadingChild(params, tmp_path / "reports") as child:
        child.result()
    assert hashed == []  # the child hashed them (its own copy of the patch, not this list)
    want = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert {f.name: checksums.file_sha256(f) for f in files} == want
    assert hashed == []  # known from the child: not read again here


def _pids_written(read: int) -> list[int]:
    """The process ids written on a pipe (space-separated), read to its end."""
    text = b""
    while chunk := os.read(read, 4096):
        text += chunk
    return [int(pid) for pid in text.split()]


def test_the_child_loading_beside_says_once_when_it_is_done(tmp_path):
    params = load_params("demo")
    assert len(beside_tables(params)) >= 2  # the demo has tables a second process loads
    read, write = os.pipe()
    try:
        load_client(params, scratch=tmp_path,
                    beside_done=lambda: os.write(write, f"{os.getpid()} ".encode()))
    finally:
        os.close(write)
    pids = _pids_written(read)
    os.close(read)
    assert len(pids) == 1 and pids[0] != os.getpid()  # the child that loaded beside


def test_without_a_second_process_it_is_said_at_once_here(client_factory):
    params = load_params(client_factory.write())
    read, write = os.pipe()
    try:
        load_client(params, beside_done=lambda: os.write(write, f"{os.getpid()} ".encode()))
    finally:
        os.close(write)
    assert _pids_written(read) == [os.getpid()]
    os.close(read)


def test_the_render_process_learns_it_before_the_load_ends(tmp_path, monkeypatch):
    """The kernels start when the load is down to one process, not once it is over: the
    store (after every table) is held back here, and the wait still returns."""
    params = load_params("demo")
    release = tmp_path / "release"
    real = cache.store

    def held(*args, **kwargs):
        while not release.exists():
            time.sleep(0.05)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, "store", held)
    with loading.LoadingChild(params, tmp_path / "reports") as child:
        assert child.wait_for_one_process(timeout=120)
        assert child.process.is_alive()  # still loading: held before the store
        release.write_text("go")
        assert child.result().entry.is_dir()


def test_the_wait_ends_when_the_load_fails_before_saying_it(client_factory, tmp_path,
                                                            monkeypatch):
    params = load_params(client_factory.write())

    def broken(_params, **_how):  # fails before any table: nothing is written on the pipe
        raise ValueError("boom in the loader")

    monkeypatch.setattr(loader, "load_client", broken)
    with loading.LoadingChild(params, tmp_path / "reports") as child:
        assert child.wait_for_one_process(timeout=60)  # the pipe's end: no process left
        with pytest.raises(ValueError, match="boom"):
            child.result()
    with loading.LoadingChild(params, tmp_path / "reports", fork=False) as child:
        assert child.wait_for_one_process(timeout=0)  # no child: the load runs at result()
        with pytest.raises(ValueError, match="boom"):
            child.result()


def test_settings_only_the_analysis_code_checks_stop_the_run_before_the_load(
        client_factory, tmp_path, monkeypatch):
    """The executive summary's effort rules are checked by the loading child (the render
    process does not import that code until its notebooks are done), before any table."""
    from playbook.errors import ParamsError
    from playbook.render_start import check_report_settings

    params = load_params(client_factory.write())
    effort = params.executive.effort
    effort["save-the-world"] = next(iter(effort.values()))
    log = tmp_path / "pid.txt"
    monkeypatch.setattr(loader, "load_client", _record_pid(log))
    for fork in (True, False):
        with (loading.LoadingChild(params, tmp_path / "reports", fork=fork,
                                   check=check_report_settings) as child,
              pytest.raises(ParamsError, match="save-the-world")):
            child.result()
    assert not log.exists()  # no table was loaded
