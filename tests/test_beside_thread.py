"""A notebook's kernel computes intermediates on a second thread (:mod:`playbook.beside`).

What the thread computes must be what the notebook would have computed (the same property
of the same context), computed once; an error there must reach the notebook as if the
thread had not run; a kernel must not be reset while its thread still runs.
"""

from __future__ import annotations

import threading
import time
from functools import cached_property

import pandas as pd
import pytest

from playbook import beside, cache, kernel_state
from playbook.context import AnalysisContext
from playbook.read_only import kept_result, mark_read_only


@pytest.fixture(autouse=True)
def _no_thread_left():
    yield
    beside.wait()


def test_the_run_allows_the_thread_only_when_a_core_is_left_idle(tmp_path, monkeypatch):
    monkeypatch.delenv(beside.DISABLE_ENV, raising=False)
    assert beside.allow(tmp_path, cores=2, at_once=1) is True
    assert beside.allowed(str(tmp_path)) is True
    assert beside.allow(tmp_path, cores=2, at_once=2) is False
    assert beside.allowed(str(tmp_path)) is False
    assert beside.allow(tmp_path, cores=1, at_once=1) is False
    assert beside.allowed(str(tmp_path)) is False
    # no run cache (interactive use), no record, a damaged record: no thread
    assert beside.allowed("") is False
    assert beside.allowed(str(tmp_path / "elsewhere")) is False
    (tmp_path / beside.ALLOW_FILE).write_text("{not json", encoding="utf-8")
    assert beside.allowed(str(tmp_path)) is False
    beside.allow(tmp_path, cores=4, at_once=1)
    monkeypatch.setenv(beside.DISABLE_ENV, "1")
    assert beside.allowed(str(tmp_path)) is False


def test_a_property_the_thread_is_computing_is_waited_for_not_computed_again(
        small_demo_run, monkeypatch):
    params, data = small_demo_run
    from playbook import context as context_module

    original = context_module.health.health_scores
    calls: list[str] = []
    started = threading.Event()

    def slow_scores(*args, **kwargs):
        calls.append(threading.current_thread().name)
        started.set()
        time.sleep(0.5)  # the notebook asks meanwhile
        return original(*args, **kwargs)

    monkeypatch.setattr(context_module.health, "health_scores", slow_scores)
    ctx = AnalysisContext(params, data.tables)
    thread = beside.start(ctx, ["health_scores"])
    assert thread is not None and started.wait(10)
    got = ctx.health_scores  # waits for the thread's
    assert calls == ["playbook-beside"]
    beside.wait()
    assert not thread.is_alive()
    monkeypatch.setattr(context_module.health, "health_scores", original)
    expected = AnalysisContext(params, data.tables).health_scores  # on this thread
    assert len(expected) > 0
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


class _Failing:
    def __init__(self) -> None:
        self.attempts: list[str] = []

    @cached_property
    def broken(self) -> int:
        self.attempts.append(threading.current_thread().name)
        raise ValueError("no renewals to score")

    @cached_property
    def fine(self) -> int:
        return 7


def test_an_error_on_the_thread_is_met_again_by_the_notebook():
    owner = _Failing()
    beside.start(owner, ["broken", "fine"])
    beside.wait()
    # the error kept nothing and stopped nothing: the next property was computed
    assert owner.__dict__.get("fine") == 7 and "broken" not in owner.__dict__
    with pytest.raises(ValueError, match="no renewals to score"):
        _ = owner.broken
    assert owner.attempts == ["playbook-beside", threading.current_thread().name]


def test_nothing_to_compute_starts_no_thread():
    assert beside.start(_Failing(), []) is None


def test_a_kernel_reset_waits_for_its_notebooks_thread():
    class Slow:
        @cached_property
        def value(self) -> int:
            time.sleep(0.4)
            return 1

    owner = Slow()
    thread = beside.start(owner, ["value"])
    kernel_state.kernel_reset(full=False)
    assert not thread.is_alive() and owner.__dict__["value"] == 1


def test_a_kept_result_two_threads_ask_for_is_computed_once():
    frame = mark_read_only(pd.DataFrame({"a": range(10)}))
    computed: list[str] = []
    barrier = threading.Barrier(2)
    results: dict[str, pd.Series] = {}

    def compute() -> pd.Series:
        computed.append(threading.current_thread().name)
        time.sleep(0.2)
        return frame["a"] * 2

    def ask() -> None:
        barrier.wait()
        results[threading.current_thread().name] = kept_result(frame, ("double",), compute)

    threads = [threading.Thread(target=ask, name=f"t{i}") for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(computed) == 1
    assert results["t0"].tolist() == results["t1"].tolist() == [2 * i for i in range(10)]


def test_two_threads_reading_a_stored_table_get_the_same_frame(small_demo_run, tmp_path):
    params, data = small_demo_run
    entry = cache.store(params, data, tmp_path / "cache")
    stored = cache.read_entry(entry)
    barrier = threading.Barrier(2)
    frames: list[pd.DataFrame] = []

    def read() -> None:
        barrier.wait()
        frames.append(stored.tables["accounts"])

    threads = [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert frames[0] is frames[1]
    assert len(frames[0]) == len(data.tables["accounts"]) > 0


def test_a_notebook_starts_its_thread_only_in_a_run_that_allows_it(small_demo_run, tmp_path,
                                                                   monkeypatch):
    from playbook import session

    params, data = small_demo_run
    monkeypatch.setenv("PLAYBOOK_ROOT", str(params.data_path().parent.parent))
    monkeypatch.delenv(beside.DISABLE_ENV, raising=False)
    folder = tmp_path / "cache"
    cache.store(params, data, folder)
    beside.allow(folder, cores=2, at_once=1)
    nb = session.start("01-revenue", client="demo", data_cache=str(folder))
    beside.wait()
    assert set(beside.BESIDE["01-revenue"]) <= set(nb.ctx.__dict__)
    beside.allow(folder, cores=2, at_once=2)  # no core left idle: no thread
    nb = session.start("01-revenue", client="demo", data_cache=str(folder))
    beside.wait()
    assert not set(beside.BESIDE["01-revenue"]) & set(nb.ctx.__dict__)
