"""How many notebooks run at once: as many kernels as the memory free can hold.

A kernel may need :data:`playbook.memory.KERNEL_BASE_BYTES` plus
:data:`~playbook.memory.TABLE_FACTOR` times the client's tables; the render step caps the
notebooks run at once (``KernelWorkers.limit``) by the memory free once the tables are
cached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat

from playbook import cache, loader, memory
from playbook.config import load_params
from playbook.kernels import KernelWorkers
from playbook.memory import kernels_that_fit
from playbook.render import render_notebooks
from playbook.render_manifest import ReportMeta

MIB = 2**20


def test_kernels_that_fit_divide_the_memory_free_by_what_one_needs():
    # one kernel: 400 MiB + 4.5 x 100 MiB of tables = 850 MiB
    assert kernels_that_fit(100 * MIB, 2, available=1700 * MIB) == 2
    assert kernels_that_fit(100 * MIB, 2, available=1699 * MIB) == 1
    assert kernels_that_fit(100 * MIB, 4, available=10_000 * MIB) == 4  # never above jobs
    assert kernels_that_fit(100 * MIB, 1, available=10_000 * MIB) == 1
    # when even one does not fit, one still runs (none would end the run for sure)
    assert kernels_that_fit(10_000 * MIB, 2, available=1_000 * MIB) == 1


def test_the_cache_records_what_its_tables_take_in_memory(client_factory, tmp_path):
    params = load_params(client_factory.write())
    data = loader.load_client(params)
    entry = cache.store(params, data, tmp_path / "cache")
    expected = sum(int(f.memory_usage(deep=True).sum()) for f in data.tables.values())
    assert cache.table_bytes(entry) == expected > 0


PARAMETERS = 'client: str = "x"  # client\nrun_dir: str = ""  # findings folder'
STAMP = """\
import json, pathlib, time
started = time.time()
time.sleep(1.5)
pathlib.Path(run_dir, "findings", "NAME.json").write_text(
    json.dumps({"started": started, "ended": time.time()}))
"""


def _notebook(folder: Path, name: str) -> Path:
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(STAMP.replace("NAME", name))]
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder / f"{name}.ipynb"


def _spans(tmp_path: Path, at_once: int) -> list[tuple[float, float]]:
    books = tmp_path / f"nb{at_once}"
    books.mkdir()
    sources = [_notebook(books, f"0{i}-nb") for i in (1, 2)]
    meta = ReportMeta(client="x", client_name="X", period_label="2026-Q3", as_of="2026-09-30")
    with KernelWorkers(2) as workers:
        workers.limit(at_once)
        out = render_notebooks(sources, {"client": "x"}, tmp_path / f"out{at_once}", meta,
                               progress=False, workers=workers)
    results = json.loads((out.out_dir / "results.json").read_text())
    return sorted((v["started"], v["ended"]) for k, v in results.items() if k != "meta")


def test_two_kernels_limited_to_one_run_the_notebooks_one_after_the_other(tmp_path):
    (first_start, first_end), (second_start, _) = _spans(tmp_path, 1)
    assert second_start >= first_end
    # the same two kernels unlimited run them side by side
    (first_start, first_end), (second_start, _) = _spans(tmp_path, 2)
    assert second_start < first_end


def test_a_limit_shuts_down_the_kernels_beyond_it_and_the_rest_run_every_task():
    ran = []
    with KernelWorkers(2) as workers:
        workers.start()
        extra = workers._workers[1]
        workers.limit(1)
        extra.process.join(30)
        assert not extra.process.is_alive()  # its kernel would only wait, holding memory
        workers.run([(_pid, ()), (_pid, ()), (_pid, ())],
                    lambda task, result, lost: ran.append((result, lost)) or True)
    assert [lost for _, lost in ran] == [None] * 3
    assert len({pid for pid, _ in ran}) == 1  # all on the one worker left


def _pid(_kernel: object) -> int:
    return os.getpid()


def _nap(_kernel: object) -> int:
    time.sleep(0.5)
    return os.getpid()


def test_a_limit_set_while_tasks_run_gives_the_stopped_kernel_no_further_task():
    ran = []
    with KernelWorkers(2) as workers:
        def done(task, result, lost):
            ran.append((result, lost))
            workers.limit(1)  # both kernels busy at the first result
            return True
        workers.run([(_nap, ())] * 4, done)
    assert [lost for _, lost in ran] == [None] * 4  # none sent to the kernel stopped


def test_kernels_start_during_the_load_only_when_all_fit_beside_tables_the_raw_files_size(
        tmp_path):
    folder = tmp_path / "client"
    folder.mkdir()
    (folder / "accounts.csv").write_bytes(b"x" * 3000)
    (folder / "mrr.csv").write_bytes(b"y" * 2000)
    (folder / ".hidden").write_bytes(b"z" * 10**6)  # not read by the loader: not counted
    (tmp_path / "elsewhere.csv").write_bytes(b"w" * 10**6)
    (folder / "out.csv").symlink_to(tmp_path / "elsewhere.csv")  # leads out: never read
    assert memory.input_bytes(folder) == 5000
    assert memory.input_bytes(tmp_path / "absent") == 0
    need = memory.kernel_bytes(5000)  # one kernel's budget for tables of 5,000 bytes
    assert memory.kernels_start_during_load(folder, 2, available=2 * need)
    assert not memory.kernels_start_during_load(folder, 2, available=2 * need - 1)
    assert memory.kernels_start_during_load(folder, 1, available=need)


def test_a_limit_stays_between_one_and_the_kernels_started():
    with KernelWorkers(1) as workers:
        workers.limit(0)
        assert workers.at_once == 1
        workers.limit(5)
        assert workers.at_once == 1


def test_settling_the_collector_freezes_what_is_alive_and_still_frees_new_cycles():
    # in a child interpreter: freezing is for the whole process
    code = textwrap.dedent("""
        import gc, weakref
        from playbook.memory import settle_garbage_collector
        class Node:
            pass
        import pandas  # imports: many objects
        tracked = len(gc.get_objects())
        settle_garbage_collector(young=5000)
        scanned = len(gc.get_objects())  # what a full collection still looks at
        new = Node(); new.me = new
        gone = weakref.ref(new)
        del new
        gc.collect()
        frozen = gc.get_freeze_count()
        later = [Node() for _ in range(1000)]  # alive at a second call: not frozen
        settle_garbage_collector(young=7000)
        print(scanned < tracked / 20, frozen > tracked / 2, gc.get_threshold()[0],
              gone() is None, gc.get_freeze_count() == frozen)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "True", "5000", "True", "True"]


def _sleep_then_say(_kernel, seconds: float, name: str) -> str:
    time.sleep(seconds)
    return name


def test_a_worker_left_without_a_task_is_reported_once_while_the_others_run():
    events: list[str] = []

    def done(_task, result, lost) -> bool:
        events.append(lost or result)
        return True

    tasks = [(_sleep_then_say, (0.2, "short")), (_sleep_then_say, (3.0, "long")),
             (_sleep_then_say, (0.2, "last short"))]
    with KernelWorkers(2) as workers:
        workers.run(tasks, done, on_idle=lambda: events.append("idle"))
    # the third task went to the first free worker; once it was done, that worker had
    # nothing left to start while the long task still ran: reported there, and only once
    assert events == ["short", "last short", "idle", "long"]


def test_papermill_is_imported_without_pyarrow_which_stays_importable():
    """A worker drives a kernel with papermill; papermill's optional HDFS handler would
    import pyarrow and numpy (about 40 MB in each worker): the worker leaves it out, and a
    task that needs pyarrow still imports it."""
    code = textwrap.dedent("""
        import sys
        from playbook.kernels import import_papermill
        import_papermill()
        print("papermill" in sys.modules,
              sorted(m for m in ("numpy", "pyarrow") if sys.modules.get(m) is not None))
        import pyarrow
        print(pyarrow.__name__)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["True []", "pyarrow"]


def test_the_render_process_holds_no_analysis_code_while_its_kernels_run():
    """Everything the render process imports before its notebooks are done (the command
    line, the run's start, the render path): none of pandas, pyarrow, numpy, matplotlib,
    nbconvert (about 140 MB, imported by the loading child, the kernels, and by the render
    process once a kernel is idle under the last notebooks: render.PUBLISHING_MODULES)."""
    code = textwrap.dedent("""
        import sys
        import playbook.cli, playbook.render_start, playbook.render
        print(sorted(m for m in ("pandas", "pyarrow", "numpy", "matplotlib", "nbconvert",
                                 "scipy", "duckdb") if sys.modules.get(m) is not None))
        for name in playbook.render.PUBLISHING_MODULES:
            __import__(name)
        print("pandas" in sys.modules and "nbconvert" in sys.modules)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == ["[]", "True"]


def test_handing_memory_back_collects_garbage_only_when_asked(monkeypatch):
    """The store and the loader hand memory back after each table without a full garbage
    collection (tenths of a second each in a process that imported pandas)."""
    calls, trims = [], []
    monkeypatch.setattr(memory.gc, "collect", lambda *a: calls.append(1) or 0)
    monkeypatch.setattr(memory, "malloc_trim", lambda: trims.append(1))
    memory.release_memory(collect=False)
    assert calls == [] and trims == [1]
    memory.release_memory()
    assert calls == [1] and trims == [1, 1]
