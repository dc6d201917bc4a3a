"""Run the report's notebooks with papermill on warm kernels (:mod:`playbook.kernels`).

Contract with the notebooks
---------------------------
* One code cell tagged ``parameters`` declares every parameter a notebook accepts
  (``client``, ``period``, ``as_of`` and the run's own: ``run_dir`` to record findings,
  ``data_cache`` to read the run's validated tables). Passing a parameter a notebook does
  not declare is an error (papermill would only warn); the run's own parameters go to the
  notebooks that declare them.
* Findings go to ``<run_dir>/findings/<notebook-stem>.json``.
* Notebooks whose name starts with ``9`` (data quality, appendices) run after the others.

A notebook that fails is kept for diagnosis in ``<out_dir>/../_failed/<period>-<timestamp>/``
and named, with its failing cell, in a :class:`~playbook.errors.NotebookError`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import nbformat

from playbook.ahead import AHEAD, ahead_code, alone_order
from playbook.errors import NotebookError, StorageError, UnknownParameterError
from playbook.kernels import KernelWorkers, Task, WarmKernel, import_papermill
from playbook.storage import copy_file, writing
from playbook.terminal import safe

papermill = import_papermill()  # (without pyarrow: the render process does not need it yet)

#: Parameter the render path gives to every notebook that declares it: the staging folder.
RUN_DIR_PARAM = "run_dir"
#: Environment variable capping notebooks run at once (default: the usable cores).
JOBS_ENV = "PLAYBOOK_NOTEBOOK_JOBS"


class Reporter:
    """The only place the render path writes to the terminal (stderr; can be switched off);
    control characters (from a file or notebook name) are shown escaped, never obeyed."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.perf_counter() - self.started

    def say(self, text: str) -> None:
        """Write one line of progress."""
        if self.enabled:
            print(safe(text), file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- parameters


def declared_parameters(notebook: Path) -> set[str]:
    """Names declared in a notebook's cell tagged ``parameters`` (empty if it has none)."""
    return set(papermill.inspect_notebook(str(notebook)))


def check_parameters(declared: Mapping[Path, set[str]], parameters: Mapping[str, Any]) -> None:
    """Raise :class:`UnknownParameterError` if a notebook does not declare a passed parameter.

    ``run_dir`` is reserved: the render path sets it, so a caller may not pass it.
    """
    if RUN_DIR_PARAM in parameters:
        raise UnknownParameterError(
            f"'{RUN_DIR_PARAM}' is set by the render path and cannot be passed.",
            fix=f"Remove '{RUN_DIR_PARAM}' from the parameters.",
        )
    problems = [
        f"{nb.name} does not declare {', '.join(repr(p) for p in unknown)}"
        f" (it declares: {', '.join(sorted(names)) or 'nothing'})"
        for nb, names in declared.items()
        if (unknown := sorted(set(parameters) - names))
    ]
    if problems:
        raise UnknownParameterError(
            "Unknown notebook parameter(s): " + "; ".join(problems),
            fix="Declare the parameter in the notebook's cell tagged 'parameters' "
            "(name: type = default  # meaning), or stop passing it.",
        )


# --------------------------------------------------------------------------- scheduling


def notebook_jobs() -> int:
    """How many notebooks may run at once: ``$PLAYBOOK_NOTEBOOK_JOBS`` or the usable cores."""
    value = os.environ.get(JOBS_ENV, "")
    if value.strip().isdigit() and int(value) > 0:
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def notebook_phases(sources: Sequence[Path]) -> list[list[Path]]:
    """Groups of notebooks that can run at once, in order.

    Notebooks whose name starts with ``9`` (data quality, appendices) read the findings of
    the others, so they run after all of them; within a group the notebooks do not depend
    on each other.
    """
    first = [s for s in sources if not s.name.startswith("9")]
    later = [s for s in sources if s.name.startswith("9")]
    return [group for group in (first, later) if group]


def kernel_queue(stems: Sequence[str], at_once: int) -> list[tuple[str, str]]:
    """The order in which the kernels take the notebooks ``stems`` (one phase, report
    order) and the intermediates computed ahead for them (:data:`playbook.ahead.AHEAD`):
    ``("notebook", stem)`` or ``("ahead", stem)``.

    A notebook's ``("ahead", stem)`` goes just before the notebook that precedes it, so
    that a kernel computes it beside the notebooks before, and the notebook, which would
    otherwise run last and alone, only reads it. None with one notebook at a time
    (nothing runs beside), nor for a notebook among the first ``at_once``, which start
    at once. With one notebook at a time, the notebooks of
    :data:`playbook.ahead.EARLY_ALONE` run earlier (:func:`playbook.ahead.alone_order`)."""
    if at_once < 2:
        return [("notebook", stem) for stem in alone_order(stems)]
    queue = [("notebook", stem) for stem in stems]
    for index in reversed(range(at_once, len(stems))):
        if AHEAD.get(stems[index]):
            queue.insert(index - 1, ("ahead", stems[index]))
    return queue


def notebook_workers(sources: Sequence[Path]) -> int:
    """Kernels a run needs: :func:`notebook_jobs`, at most the largest phase's notebooks."""
    phases = notebook_phases(sources)
    return max(1, min(notebook_jobs(), max((len(g) for g in phases), default=1)))


# --------------------------------------------------------------------------- execution


def execute_notebooks(
    sources: Sequence[Path],
    declared: Mapping[Path, set[str]],
    parameters: Mapping[str, Any],
    staging: Path,
    out_dir: Path,
    workers: KernelWorkers,
    reporter: Reporter,
    timings: dict[str, float],
    run_values: Mapping[str, Any] | None = None,
    on_done: Callable[[Path], None] | None = None,
    on_idle: Callable[[], None] | None = None,
) -> list[nbformat.NotebookNode]:
    """Run the notebooks with papermill on warm kernels; return them executed.

    Each group of :func:`notebook_phases` runs on ``workers`` (several notebooks at once
    when it has several kernels), in the order of ``sources``: the report's order puts
    the sections that compute the run's shared intermediates (the renewal model, value and
    health scores: :class:`playbook.context.AnalysisContext`) before those that read them.
    Starting the longest notebooks first (by the previous report's seconds, as this did
    until issue 22) set the account plan and the outcomes off together, each computing or
    waiting for what the drivers and segments sections compute, with their memory peaks
    together: at 100,000 accounts the same wall time and a peak of 3.3 GB instead of
    2.8 GB (bench/results.md). Executed notebooks are written to ``<staging>/notebooks/``
    and returned in the order of ``sources``; per-notebook seconds are added to
    ``timings``. A notebook gets ``parameters``, and of the run's own values (``run_dir``:
    ``staging``, then ``run_values``) those it declares.

    If a notebook fails, the notebooks already running finish, none is started after it,
    and the :class:`NotebookError` of the first failed notebook (in report order) is raised.
    ``on_done(source)`` is called in this process as each notebook succeeds;
    ``on_idle()`` once, when a kernel is first left with no notebook to start while others
    still run (:meth:`~playbook.kernels.KernelWorkers.run`).
    """
    executed: dict[Path, nbformat.NotebookNode] = {}
    total, done = len(sources), 0
    failures: dict[Path, NotebookError] = {}
    own = {RUN_DIR_PARAM: str(staging), **(run_values or {})}

    def finished(task: Task, outcome: tuple | None, lost: str | None) -> bool:
        nonlocal done
        if task[0] is ahead_job:  # its failure is the notebook's to meet, not the run's
            seconds, error = outcome if outcome is not None else (0.0, lost)
            reporter.say(f"  {', '.join(task[1][1])} for {task[1][0]} computed ahead in"
                         f" {seconds:.1f} s" if error is None else
                         f"  (computing ahead for {task[1][0]} failed: {error}; the"
                         " notebook computes it itself)")
            return True
        source, target = task[1][0], task[1][1]
        if lost is not None:
            outcome = (None, 0.0, (source.name, None, f"The notebook did not finish: {lost}.",
                                   *keep_for_diagnosis(target, out_dir)))
        node, seconds, error = outcome
        done += 1
        timings[source.stem] = round(seconds, 2)
        if error is not None:  # (it travels as its fields: its arguments do not pickle)
            failures[source] = NotebookError(*error)
            reporter.say(f"[{done}/{total}] {source.name} FAILED after {seconds:.1f} s")
            return False
        executed[source] = node
        if on_done is not None:
            on_done(source)
        reporter.say(f"[{done}/{total}] {source.name} done in {seconds:.1f} s"
                     f" (total {reporter.elapsed():.1f} s)")
        return True

    def idle_once() -> None:  # once for the run, not once a phase
        nonlocal on_idle
        if on_idle is not None:
            on_idle, call = None, on_idle
            call()

    for group in notebook_phases(sources):
        reporter.say(f"Running {', '.join(s.name for s in group)}"
                     f" ({min(workers.at_once, len(group))} at a time) ...")
        tasks: list[Task] = []
        by_stem = {source.stem: source for source in group}
        for kind, stem in kernel_queue(list(by_stem), workers.at_once):
            source = by_stem[stem]
            values = {**parameters,
                      **{k: v for k, v in own.items() if k in declared[source]}}
            if kind == "notebook":
                tasks.append((execute_job, (source, staging / "notebooks" / source.name,
                                            values, out_dir)))
            elif values.get("data_cache"):  # without the run's cache there is no sharing
                tasks.append((ahead_job, (stem, AHEAD[stem], values)))
        workers.run(tasks, finished, on_idle=None if on_idle is None else idle_once)
        if failures:
            raise failures[next(s for s in sources if s in failures)]
    return [executed[source] for source in sources]


def ahead_job(kernel: WarmKernel, stem: str, names: Sequence[str],
              values: Mapping[str, Any]) -> tuple[float, str | None]:
    """Compute the analysis context's ``names`` ahead for the notebook ``stem`` on
    ``kernel`` (a :data:`~playbook.kernels.Task`, :func:`playbook.ahead.compute_ahead`),
    with the notebook's parameters ``values``. Returns the seconds it took and None, or
    why the kernel failed (never raised: the notebook computes what is missing itself)."""
    tick = time.perf_counter()
    code = ahead_code(names, client=values["client"], period=values.get("period", ""),
                      as_of=values.get("as_of", ""), data_cache=values["data_cache"])
    try:
        kernel.execute_code(code)
    except Exception as exc:  # noqa: BLE001 - any failure leaves the work to the notebook
        return time.perf_counter() - tick, f"{type(exc).__name__}: {exc}"
    return time.perf_counter() - tick, None


def execute_job(
    kernel: WarmKernel, source: Path, target: Path, values: Mapping[str, Any], out_dir: Path,
) -> tuple[nbformat.NotebookNode | None, float, tuple | None]:
    """Run one notebook on ``kernel`` (a :data:`~playbook.kernels.Task`: runs in a worker
    process, or in this one).

    Returns (executed notebook or None, seconds, None or the NotebookError's notebook,
    cell, error, kept_at, not_kept and fix): returned, not raised, so that it crosses a
    process boundary.
    """
    tick = time.perf_counter()
    try:
        node = execute_one(source, target, values, out_dir, kernel)
    except NotebookError as exc:
        return (None, time.perf_counter() - tick,
                (exc.notebook, exc.cell, exc.error, exc.kept_at, exc.not_kept, exc.fix or ""))
    return node, time.perf_counter() - tick, None


def execute_one(
    source: Path, target: Path, values: Mapping[str, Any], out_dir: Path, kernel: WarmKernel,
) -> nbformat.NotebookNode:
    """Execute one notebook on a warm kernel; on failure keep it and raise NotebookError."""
    try:
        return kernel.execute_notebook(source, target, values)
    except papermill.PapermillExecutionError as exc:
        kept = keep_for_diagnosis(target, out_dir)
        cell = source_cell_number(source, exc.cell_index, bool(values))
        raise NotebookError(
            source.name, cell, f"{exc.ename}: {exc.evalue} (In [{exc.exec_count}])", *kept
        ) from exc
    except Exception as exc:  # dead kernel, timeout, unreadable notebook, full disk ...
        kept = keep_for_diagnosis(target, out_dir)
        raise NotebookError(source.name, None, f"{type(exc).__name__}: {exc}", *kept) from exc


# --------------------------------------------------------------------------- failures


def keep_for_diagnosis(executed: Path, out_dir: Path) -> tuple[str, str, str]:
    """:func:`keep_failed`, as the last three fields of a :class:`NotebookError`: where the
    notebook is kept, or why it could not be (then also what to do about that)."""
    try:
        return str(keep_failed(executed, out_dir)), "", ""
    except StorageError as exc:
        return "", exc.message, exc.fix or ""


def keep_failed(executed: Path, out_dir: Path) -> Path:
    """Copy a partly executed notebook to ``<out_dir>/../_failed/<period>-<timestamp>/``.

    Returns the kept file (or the folder, when papermill wrote nothing). The copy is
    written to a temporary file and renamed: when the disk is full it raises
    :class:`StorageError` and leaves neither a partial copy nor an empty folder.
    """
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = out_dir.parent / "_failed" / f"{out_dir.name}-{stamp}"
    created = not folder.exists()
    try:
        with writing(folder, "the folder for the failed notebook"):
            folder.mkdir(parents=True, exist_ok=True)
        if not executed.is_file():
            return folder
        return copy_file(executed, folder / executed.name, "the partly executed notebook")
    except StorageError:
        if created:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when empty
        raise


def source_cell_number(source: Path, executed_index: int, injected: bool) -> int:
    """1-based position in the source notebook of the cell papermill reports as failing.

    papermill counts cells of the executed notebook, which holds the injected-parameters
    cell right after the cell tagged ``parameters`` (or first, when there is none).
    """
    nb = nbformat.read(source, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    injected_at = tagged[0] + 1 if tagged else 0
    shift = 1 if injected and executed_index > injected_at else 0
    return executed_index - shift + 1
