"""Warm kernels: several notebooks run in one kernel and still cannot see each other.

The render path starts one kernel per worker and resets it between notebooks
(playbook/kernels.py). These tests write small notebooks that change what a notebook can
change (variables, matplotlib and pandas settings, environment, working folder) and check
that the next notebook in the same kernel sees none of it, and that failures still name
the notebook and cell and keep the partial notebook.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from playbook.errors import NotebookError
from playbook.kernel_zygote import KERNEL_PROCESS_NAME
from playbook.kernels import KernelWorkers
from playbook.render import render_notebooks
from playbook.render_execute import Reporter, execute_job, execute_notebooks
from playbook.render_manifest import ReportMeta

FAIL = Path(__file__).parent / "fixtures" / "render" / "03-fail.ipynb"
PARAMETERS = ('client: str = "x"  # client\nrun_dir: str = ""  # findings folder\n'
              'run_value: str = ""  # a value of the run (render_notebooks run_parameters)')

#: Records what a notebook can see of the kernel's state into its findings file.
RECORD_STATE = """\
import gc, json, os, pathlib
import matplotlib as mpl, matplotlib.pyplot as plt, pandas as pd
state = {
    "pid": os.getpid(),
    "leaked": sorted(k for k in globals() if k.startswith("marker_")),
    "font_size": mpl.rcParams["font.size"],
    "max_columns": pd.get_option("display.max_columns"),
    "leak_env": os.environ.get("LEAK_ENV"),
    "run_value": run_value,
    "cwd": os.getcwd(),
    "figures": len(plt.get_fignums()),
    "frozen": gc.get_freeze_count(),
    "young": gc.get_threshold()[0],
    "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
    "after_cell": [getattr(f, "__name__", "?")
                   for f in get_ipython().events.callbacks["post_run_cell"]],
}
if run_dir:
    out = pathlib.Path(run_dir, "findings", "NAME.json")
    out.write_text(json.dumps(state))
"""

#: Changes everything a reset must undo.
CHANGE_STATE = """\
marker_IDENT = "visible only in NAME"
mpl.rcParams["font.size"] = 31
pd.set_option("display.max_columns", 3)
os.environ["LEAK_ENV"] = "from NAME"
fig = plt.figure()  # left open
os.chdir("/")
"""


def notebook(folder: Path, name: str, *cells: str) -> Path:
    """Write ``<folder>/<name>.ipynb``: a parameters cell, then ``cells`` (NAME is replaced
    by ``name``, IDENT by ``name`` as an identifier)."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(PARAMETERS, metadata={"tags": ["parameters"]})]
    ident = name.replace("-", "_")
    nb.cells += [nbformat.v4.new_code_cell(c.replace("NAME", name).replace("IDENT", ident))
                 for c in cells]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def meta() -> ReportMeta:
    return ReportMeta(client="x", client_name="X", period_label="2026-Q3", as_of="2026-09-30")


def findings(out_dir: Path) -> dict[str, dict]:
    results = json.loads((out_dir / "results.json").read_text())
    return {k: v for k, v in results.items() if k != "meta"}


@pytest.fixture
def one_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYBOOK_NOTEBOOK_JOBS", "1")


def test_next_notebook_in_the_same_kernel_sees_nothing_of_the_previous(tmp_path, one_kernel,
                                                                       monkeypatch):
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    books = tmp_path / "notebooks"
    books.mkdir()
    first = notebook(books, "01-first", RECORD_STATE, CHANGE_STATE)
    second = notebook(books, "02-second", RECORD_STATE)
    out = render_notebooks([first, second], {"client": "x"}, tmp_path / "out", meta(),
                           progress=False, run_parameters=lambda _folder: {"run_value": "run"})

    seen = findings(out.out_dir)
    assert seen["01-first"]["pid"] == seen["02-second"]["pid"]  # one kernel for both
    fresh = seen["01-first"]  # what the first notebook saw of a new kernel
    after = seen["02-second"]
    assert after["leaked"] == [] and after["leak_env"] is None and after["figures"] == 0
    assert after["font_size"] == fresh["font_size"] != 31
    # the warm-up imports are left out of garbage collections (tens of thousands of
    # objects), the youngest generation is collected less often than Python's 700, and
    # OpenBLAS gets one thread (two kernels share the bench's two cores)
    assert fresh["frozen"] > 50_000 and after["frozen"] > 50_000
    assert fresh["young"] > 700 and after["young"] == fresh["young"]
    assert fresh["blas_threads"] == "1"
    assert after["max_columns"] == fresh["max_columns"] != 3
    assert after["cwd"] == fresh["cwd"] == str(books)  # each notebook's own folder
    assert after["run_value"] == fresh["run_value"] == "run"  # the run's values, each time
    # freed memory is handed back after every cell, by one hook that survives the reset
    assert fresh["after_cell"].count("_trim_after_cell") == 1
    assert after["after_cell"].count("_trim_after_cell") == 1
    executed = nbformat.read(out.notebooks / "02-second.ipynb", as_version=4)
    counts = [c.execution_count for c in executed.cells if c.cell_type == "code"]
    assert counts == list(range(1, len(counts) + 1))  # numbered as in a fresh kernel


def test_two_kernels_run_four_notebooks_without_leaks(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYBOOK_NOTEBOOK_JOBS", "2")
    books = tmp_path / "notebooks"
    books.mkdir()
    sources = [notebook(books, f"0{i}-nb", RECORD_STATE, CHANGE_STATE) for i in range(1, 5)]
    out = render_notebooks(sources, {"client": "x"}, tmp_path / "out", meta(), progress=False)

    seen = findings(out.out_dir)
    assert len(seen) == 4 and len({s["pid"] for s in seen.values()}) <= 2  # a kernel ran 2+
    assert all(s["leaked"] == [] and s["leak_env"] is None for s in seen.values())
    assert {s["font_size"] for s in seen.values()} != {31}


def test_failure_after_another_notebook_names_notebook_and_cell(tmp_path, one_kernel):
    books = tmp_path / "notebooks"
    books.mkdir()
    first = notebook(books, "01-first", RECORD_STATE, CHANGE_STATE)
    later = notebook(books, "04-later", RECORD_STATE)
    out = tmp_path / "reports" / "x" / "2026-Q3"

    with pytest.raises(NotebookError) as caught:
        render_notebooks([first, FAIL, later], {"client": "x"}, out, meta(), progress=False)

    error = caught.value
    assert error.notebook == "03-fail.ipynb" and error.cell == 3
    assert "ValueError: fixture failure in cell three" in error.error
    kept = Path(error.kept_at)
    assert kept.is_file() and kept.parent.parent == out.parent / "_failed"
    assert "fixture failure in cell three" in kept.read_text()
    assert not out.exists()


def test_kernel_that_dies_is_named_and_replaced_for_the_next_notebook(tmp_path):
    books = tmp_path / "notebooks"
    books.mkdir()
    dies = notebook(books, "01-dies", "import os\nos._exit(3)")
    after = notebook(books, "02-after", RECORD_STATE)
    results: list = []
    out_dir = tmp_path / "reports" / "x" / "2026-Q3"
    (tmp_path / "run" / "findings").mkdir(parents=True)
    tasks = [(execute_job, (source, tmp_path / "run" / source.name,
                            {"client": "x", "run_dir": str(tmp_path / "run")}, out_dir))
             for source in (dies, after)]
    with KernelWorkers(1) as workers:
        workers.run(tasks, lambda task, result, lost: results.append(result) or True)

    (node, _, error), (node_after, _, error_after) = results
    assert node is None and error[0] == "01-dies.ipynb" and error[1] is None
    assert "DeadKernelError" in error[2] or "died" in error[2]
    assert Path(error[3]).is_file()  # the partial notebook is kept
    assert error_after is None and node_after is not None  # on a new kernel
    assert json.loads((tmp_path / "run" / "findings" / "02-after.json").read_text())["leaked"] == []


def test_worker_process_that_dies_fails_the_run_with_the_notebook_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYBOOK_NOTEBOOK_JOBS", "2")
    runtime = tmp_path / "jupyter-runtime"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    books = tmp_path / "notebooks"
    books.mkdir()
    kills = notebook(books, "01-kills-worker", "import os, signal\n"
                     "os.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(30)")
    fine = notebook(books, "02-fine", RECORD_STATE)
    out = tmp_path / "reports" / "x" / "2026-Q3"

    with pytest.raises(NotebookError) as caught:
        render_notebooks([kills, fine], {"client": "x"}, out, meta(), progress=False)

    assert caught.value.notebook == "01-kills-worker.ipynb"
    assert "worker process ended" in caught.value.error
    assert Path(caught.value.kept_at).exists()
    # both kernels used the runtime folder, and neither left a socket file there,
    # not even the one whose worker was killed
    assert runtime.is_dir() and sorted(p.name for p in runtime.iterdir()) == []


class _RecordingWorkers:
    """Stands in for KernelWorkers: records the order tasks are handed out, runs none."""

    at_once = 2

    def __init__(self) -> None:
        self.order: list[str] = []

    def run(self, tasks, done, on_idle=None) -> None:
        for task in tasks:
            self.order.append(task[1][0].stem)
            done(task, (nbformat.v4.new_notebook(), 0.1, None), None)


def test_notebooks_start_in_the_report_s_order_whatever_the_previous_report_took(tmp_path):
    """The report's order puts the sections that compute shared intermediates first; a
    previous report where the last notebooks took longest does not reorder them."""
    out = tmp_path / "reports" / "x" / "2026-Q3"
    out.mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps(
        {"run": {"seconds": {"01-a": 1.0, "02-b": 2.0, "05-e": 40.0, "06-f": 30.0}}}))
    sources = [Path(f"/n/{s}.ipynb") for s in ("01-a", "02-b", "06-f", "05-e", "95-z")]
    workers = _RecordingWorkers()
    staging = tmp_path / "staging"
    (staging / "notebooks").mkdir(parents=True)
    executed = execute_notebooks(sources, {s: set() for s in sources}, {}, staging, out,
                                 workers, Reporter(False), {})
    assert workers.order == ["01-a", "02-b", "06-f", "05-e", "95-z"]  # 9x after the others
    assert len(executed) == 5


def kernels() -> list[psutil.Process]:
    """This process's kernel processes (psutil), at any depth: launched, or forked by a
    zygote (named so). A child that exits while it is looked at (gone, or a zombie not yet
    reaped: its command line cannot be read) is no running kernel."""
    return [p for p in psutil.Process(os.getpid()).children(recursive=True) if _is_kernel(p)]


def _is_kernel(process: psutil.Process) -> bool:
    try:
        return ("ipykernel_launcher" in " ".join(process.cmdline())
                or process.name() == KERNEL_PROCESS_NAME)
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return False


def earlier_kernels_gone() -> None:
    """Wait (10 s at most) for the kernels of an earlier test to end: a kernel stopping
    is still this process's descendant while it exits (a fresh clone's make test once
    counted three kernels of two, the third in disk sleep, most likely one of an earlier
    test ending), so a test that counts kernels starts once there are none."""
    psutil.wait_procs(kernels(), timeout=10)
    assert kernels() == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_kernels_stop_with_their_workers(jobs):
    earlier_kernels_gone()
    with KernelWorkers(jobs):
        deadline = time.monotonic() + 60
        while len(kernels()) < jobs and time.monotonic() < deadline:
            time.sleep(0.2)
        started = kernels()
        assert len(started) == jobs
    _, alive = psutil.wait_procs(started, timeout=10)
    assert alive == []


def test_sockets_left_by_a_killed_run_are_removed_live_ones_kept(tmp_path, monkeypatch):
    import socket

    from playbook.kernels import remove_stale_sockets

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    live = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    live.bind(str(tmp_path / "kernel-0123456789abcdef-ipc-1"))
    live.listen()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(tmp_path / "kernel-fedcba9876543210-ipc-1"))  # bound, never listened,
    dead.close()                                                # its file left behind
    (tmp_path / "kernel-1234.json").write_text("{}")            # not ours: left alone
    try:
        assert remove_stale_sockets(min_age=60) == []           # too young to judge
        removed = remove_stale_sockets(min_age=0)
        assert [Path(p).name for p in removed] == ["kernel-fedcba9876543210-ipc-1"]
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "kernel-0123456789abcdef-ipc-1", "kernel-1234.json"]
    finally:
        live.close()


@pytest.mark.parametrize("jobs", [1, 2])
def test_kernels_asked_to_wait_start_only_when_told(jobs):
    earlier_kernels_gone()
    with KernelWorkers(jobs, start=False) as workers:
        time.sleep(1.5)
        assert kernels() == [] and not workers.started
        assert workers.in_this_process == (jobs == 1)
        workers.start()
        deadline = time.monotonic() + 60
        while len(kernels()) < jobs and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(kernels()) == jobs
