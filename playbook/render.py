"""The one render path: papermill → one combined notebook → nbconvert → HTML → PDF.

:func:`render_notebooks` runs the report's notebooks with papermill, merges the executed
notebooks into one (numbering exhibits across the whole report and collecting the contents),
exports it with the template ``templates/playbook`` to a self-contained HTML file, lays that
out as a paged PDF (:func:`playbook.render_pdf.html_to_pdf`) and publishes everything at once:

``<out_dir>/``
    ``report.html``, ``report.pdf``, ``results.json`` (the findings every notebook recorded),
    ``manifest.json`` (inputs, parameters, package versions, git commit, timings) and
    ``notebooks/<name>.ipynb`` (the executed notebooks) and ``findings/<stem>.json`` (as
    the notebooks wrote them).

Everything is built in a sibling staging folder (``<out_dir>.staging-<pid>``) and renamed
into place only when every step succeeded: a failed run leaves the previous report untouched.
A notebook that fails is kept for diagnosis in ``<out_dir>/../_failed/<period>-<timestamp>/``.

Contract with the notebooks
---------------------------
* One code cell tagged ``parameters`` declares every parameter a notebook accepts
  (``client``, ``period``, ``as_of`` and, to record findings, ``run_dir``). Passing a
  parameter a notebook does not declare is an error (papermill would only warn).
* Findings go to ``<run_dir>/findings/<notebook-stem>.json``; they are merged into
  ``results.json`` under the notebook's stem.
* Cells tagged ``remove_cell`` are dropped from the report, cells tagged ``remove_output``
  keep no output; code is never shown; stderr output (warnings) is dropped.
* Exhibits are HTML outputs containing ``<span class="exhibit-no">N</span>`` with N the
  notebook-local number; they are renumbered 1..K in document order across the report.
  Markdown that cites ``<span class="exhibit-no">N</span>`` follows the renumbering.
* Markdown headings ``#`` and ``##`` (in markdown cells and markdown outputs) make the table
  of contents; every ``#`` section starts on a new page in the PDF.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from playbook import paths
from playbook.checksums import file_sha256
from playbook.errors import (
    NotebookError,
    RenderError,
    StorageError,
    UnknownParameterError,
)
from playbook.kernels import KernelWorkers, Task, WarmKernel, release_memory
from playbook.outline import drop_empty_subsections
from playbook.render_pdf import html_to_pdf
from playbook.sanitize import sanitize_html
from playbook.storage import copy_file, storage_error, writing
from playbook.terminal import safe

if TYPE_CHECKING:
    from playbook.config import Params
    from playbook.loader import ClientData

log = logging.getLogger(__name__)

TEMPLATE_NAME = "playbook"
#: Cells with these tags never reach the report.
DROP_TAGS = frozenset({"parameters", "injected-parameters", "remove_cell"})
#: Cells with this tag reach the report without their outputs.
NO_OUTPUT_TAG = "remove_output"
#: Parameter the render path gives to every notebook that declares it.
RUN_DIR_PARAM = "run_dir"
PAPERS = ("A4", "Letter")
#: Modules the report's kernels import while the data loads (what the notebooks use).
KERNEL_PRELOAD = ("playbook.session",)
PACKAGES = (
    "pandas", "numpy", "statsmodels", "scipy", "matplotlib", "seaborn",
    "papermill", "nbconvert", "nbformat", "weasyprint",
)

_EXHIBIT_NO = re.compile(r"""(<span\s+class=["']exhibit-no["']\s*>)\s*(\d+)\s*(</span>)""")
_HEADING = re.compile(r"^(#{1,2})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class ReportMeta:
    """What the cover page, the running header and ``results.json`` say about the report.

    Attributes
    ----------
    client : str
        Client folder name (``data/<client>``).
    client_name : str
        Display name on the cover and in the running header.
    period_label : str
        Period of the assessment, e.g. ``2026-Q3``.
    as_of : str
        As-of date, ``YYYY-MM-DD``.
    title : str
        Report title on the cover.
    version : str
        Version label on the cover, e.g. ``v1.0 draft``.
    paper : str
        ``"A4"`` or ``"Letter"``.
    confidential : bool
        Print "Confidential" on the cover and in the footer.
    generated_at : str
        When the report was produced (ISO timestamp, minutes); defaults to now.
    currency : str
        ISO code of the client's currency (money in results and the summary).
    """

    client: str
    client_name: str
    period_label: str
    as_of: str
    title: str = "Customer-success assessment"
    version: str = ""
    paper: str = "A4"
    confidential: bool = True
    currency: str = "USD"
    generated_at: str = field(
        default_factory=lambda: dt.datetime.now().isoformat(sep=" ", timespec="minutes")
    )

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise RenderError(
                f"Unknown paper size {self.paper!r}.", fix=f"Use one of {', '.join(PAPERS)}."
            )


@dataclass(frozen=True)
class ReportPaths:
    """Where a published report's files are."""

    out_dir: Path
    html: Path
    pdf: Path
    results: Path
    manifest: Path
    notebooks: Path

    @classmethod
    def in_folder(cls, folder: Path) -> ReportPaths:
        """The standard file names inside a report folder."""
        return cls(
            out_dir=folder,
            html=folder / "report.html",
            pdf=folder / "report.pdf",
            results=folder / "results.json",
            manifest=folder / "manifest.json",
            notebooks=folder / "notebooks",
        )


@dataclass(frozen=True)
class TocEntry:
    """One line of the table of contents: heading level (1 or 2), text and anchor id."""

    level: int
    title: str
    anchor: str


# --------------------------------------------------------------------------- progress


class _Reporter:
    """The only place the render path writes to the terminal (stderr; can be switched off);
    control characters (from a file or notebook name) are shown escaped, never obeyed."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def say(self, text: str) -> None:
        if self.enabled:
            print(safe(text), file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- entry points


def render_report(
    client: str,
    *,
    period: str | None = None,
    as_of: str | None = None,
    progress: bool = True,
) -> ReportPaths:
    """Render and publish a client's report for one period.

    Parameters
    ----------
    client : str
        Client folder name; parameters come from ``params/<client>.yaml`` over the defaults.
    period, as_of : str, optional
        Command-line overrides (``2026-Q3``, ``2026-09-30``).
    progress : bool
        Report each notebook's progress and the output paths on stderr.

    Returns
    -------
    ReportPaths
        The published files in ``reports/<client>/<period>/``.
    """
    from playbook.config import load_params
    from playbook.loader import load_client

    paths.make_environment_absolute()  # the kernels run in another folder
    params = load_params(client, period=period, as_of=as_of)
    notebooks = [paths.notebooks_dir() / f"{name}.ipynb" for name in params.report.notebooks]
    # The kernels start now and import what the notebooks use while this process loads and
    # validates the data. A bad export still fails in seconds with the file, column and
    # rows named (the kernels are then stopped), not inside the first notebook.
    with KernelWorkers(notebook_workers(notebooks), preload=KERNEL_PRELOAD) as workers:
        tick = time.perf_counter()
        held = {"data": load_client(params)}  # (held: dropped once cached, see below)
        loaded = {"load and validate": round(time.perf_counter() - tick, 2)}
        return _render_loaded(client, params, held, notebooks, workers, loaded, progress)


def _render_loaded(client: str, params: Params, held: dict[str, ClientData],
                   notebooks: list[Path], workers: KernelWorkers, timings: dict[str, float],
                   progress: bool) -> ReportPaths:
    """:func:`render_report` once the data is loaded (``held["data"]``): cache, render."""
    from playbook import cache
    from playbook.comparison import previous_results

    def data_cache(folder: Path) -> dict[str, str]:
        # The validated tables are cached for the run, so no notebook parses the raw files
        # again; pop: this process does not keep them in memory while the kernels run.
        cache.store(params, held.pop("data"), folder)
        release_memory()
        return {cache.ENV_VAR: str(folder)}

    as_of_text = params.as_of.isoformat() if params.as_of else ""
    meta = ReportMeta(
        client=client,
        client_name=params.display_name,
        period_label=params.period_label,
        as_of=as_of_text,
        title=params.report.title,
        version=params.report.version,
        paper=params.report.paper,
        confidential=params.report.confidential,
        currency=params.client.currency,
    )
    from playbook.locks import client_lock, report_dir  # one run per client; stays inside

    with client_lock(client):
        return render_notebooks(
            notebooks,
            {"client": client, "period": params.period_label, "as_of": as_of_text},
            report_dir(client, params.period_label),
            meta,
            inputs=_files_under(params.data_path()),
            settings=params.as_dict(),
            progress=progress,
            front_matter=functools.partial(_summary_front_matter,
                                           previous=previous_results(client, as_of_text)),
            kernel_env=data_cache,
            timings=timings,
            workers=workers,
        )


def _summary_front_matter(results: dict[str, Any], order: list[str], *,
                          previous: dict[str, Any] | None = None
                          ) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    from playbook.summary import summary_notebook, summary_record

    return (summary_notebook(results, order, previous),
            summary_record(results, order, previous))


FrontMatter = Callable[[dict[str, Any], list[str]],
                       tuple[nbformat.NotebookNode, dict[str, Any] | None]]


def render_notebooks(
    notebooks: Sequence[Path],
    parameters: Mapping[str, Any],
    out_dir: Path,
    meta: ReportMeta,
    *,
    inputs: Iterable[Path] = (),
    settings: Mapping[str, Any] | None = None,
    progress: bool = True,
    kernel_name: str = "python3",
    front_matter: FrontMatter | None = None,
    kernel_env: Callable[[Path], Mapping[str, str]] | None = None,
    timings: Mapping[str, float] | None = None,
    workers: KernelWorkers | None = None,
) -> ReportPaths:
    """Execute notebooks, combine them into one report and publish HTML, PDF and records.

    Parameters
    ----------
    notebooks : sequence of Path
        Notebooks in report order.
    parameters : mapping
        Values for the notebooks' ``parameters`` cells, passed to every notebook; each must be
        declared by every notebook. ``run_dir`` is added for notebooks that declare it.
    out_dir : Path
        Folder to publish to (replaced atomically; created with its parents).
    meta : ReportMeta
        Cover and header information.
    inputs : iterable of Path
        Input files to record in the manifest (name, bytes, sha256).
    settings : mapping, optional
        The run's merged settings, recorded in the manifest as they are.
    progress : bool
        Report progress and the output paths on stderr.
    kernel_name : str
        Jupyter kernel to run the notebooks with.
    front_matter : callable, optional
        ``(results, notebook stems in order) -> (notebook, record)``: cells placed before
        the notebooks (the executive summary); ``record`` is stored in results.json under
        ``"summary"``.
    kernel_env : callable, optional
        ``(folder) -> environment variables``: called once before the notebooks run with
        an empty scratch folder inside the staging folder (removed before publishing); the
        variables are added to every kernel's environment (the data cache uses this).
    timings : mapping, optional
        Seconds of steps done before this call (e.g. loading the data), recorded in the
        manifest with the others.
    workers : KernelWorkers, optional
        Warm kernels to run the notebooks on (started by the caller, who closes them;
        they are stopped here once the notebooks are done). By default this call starts
        :func:`notebook_workers` kernels of ``kernel_name`` itself.

    Returns
    -------
    ReportPaths
        The published files.

    Raises
    ------
    UnknownParameterError
        A parameter is not declared by a notebook (nothing is run).
    NotebookError
        A notebook failed; it is kept for diagnosis and ``out_dir`` is untouched.
    RenderError
        A notebook is missing, a findings file is not JSON, or HTML/PDF rendering failed.
    """
    reporter = _Reporter(progress)
    started_at = dt.datetime.now().astimezone()
    earlier = sum((timings or {}).values())  # e.g. loading the data: part of the run's time
    reporter.started -= earlier
    started_at -= dt.timedelta(seconds=earlier)
    sources = [Path(nb).resolve() for nb in notebooks]
    missing = [str(nb) for nb in sources if not nb.is_file()]
    if missing:
        raise RenderError(f"Notebook(s) not found: {', '.join(missing)}",
                          fix="Check report.notebooks in the parameters file.")
    declared = {nb: declared_parameters(nb) for nb in sources}
    check_parameters(declared, parameters)

    out_dir = Path(out_dir).resolve()
    with contextlib.ExitStack() as stack:
        if workers is None:
            workers = stack.enter_context(KernelWorkers(notebook_workers(sources), kernel_name))
        staging = fresh_staging_dir(out_dir)
        timings = dict(timings or {})
        scratch = staging / ".scratch"
        try:
            env: Mapping[str, str] = {}
            if kernel_env is not None:
                tick = time.perf_counter()
                scratch.mkdir()
                env = kernel_env(scratch)
                timings["prepare"] = round(time.perf_counter() - tick, 2)
            executed = execute_notebooks(sources, declared, parameters, staging, out_dir,
                                         workers, reporter, timings, env)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            workers.stop()  # the kernels' memory is free for the HTML and PDF steps
        return _publish_report(sources, parameters, out_dir, meta, staging, executed,
                               reporter, inputs=inputs, settings=settings,
                               front_matter=front_matter, started_at=started_at,
                               timings=timings)


def _publish_report(
    sources: Sequence[Path], parameters: Mapping[str, Any], out_dir: Path, meta: ReportMeta,
    staging: Path, executed: list[nbformat.NotebookNode], reporter: _Reporter, *,
    inputs: Iterable[Path], settings: Mapping[str, Any] | None,
    front_matter: FrontMatter | None, started_at: dt.datetime, timings: dict[str, float],
) -> ReportPaths:
    """The steps of :func:`render_notebooks` after the notebooks ran: records, HTML, PDF,
    manifest, then the atomic publish of ``staging`` as ``out_dir``."""
    try:
        shutil.rmtree(staging / ".scratch", ignore_errors=True)
        results = merged_findings(staging / "findings", meta)
        if front_matter is not None:
            front, record = front_matter(results, [nb.stem for nb in sources])
            executed = [front, *executed]
            if record is not None:
                results["summary"] = record
        combined, toc = combine_notebooks(executed)
        tick = time.perf_counter()
        html_path = staging / "report.html"
        html_path.write_text(sanitize_html(notebook_to_html(combined, toc, meta)),
                             encoding="utf-8")  # nothing in it can run (playbook.sanitize)
        timings["html"] = round(time.perf_counter() - tick, 2)
        reporter.say(f"  HTML {timings['html']:.1f} s")
        tick = time.perf_counter()
        html_to_pdf(html_path, staging / "report.pdf")
        timings["pdf"] = round(time.perf_counter() - tick, 2)
        reporter.say(f"  PDF {timings['pdf']:.1f} s")
        write_json(staging / "results.json", results)
        write_json(
            staging / "manifest.json",
            run_manifest(sources, parameters, meta, inputs, settings, started_at, timings),
        )
    except OSError as exc:  # disk full, quota, read-only: say so, keep nothing of it
        shutil.rmtree(staging, ignore_errors=True)
        raise storage_error(exc, out_dir, "the new report", hint=_PREVIOUS_KEPT) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        publish(staging, out_dir)
    except OSError as exc:  # (publish put the previous report back)
        shutil.rmtree(staging, ignore_errors=True)
        raise storage_error(exc, out_dir, "the new report", hint=_PREVIOUS_KEPT) from exc
    result = ReportPaths.in_folder(out_dir)
    reporter.say(f"Report ready in {reporter.elapsed():.1f} s:")
    for label in ("pdf", "html", "results", "manifest", "notebooks"):
        reporter.say(f"  {label:<9} {getattr(result, label)}")
    return result


# --------------------------------------------------------------------------- parameters


def declared_parameters(notebook: Path) -> set[str]:
    """Names declared in a notebook's cell tagged ``parameters`` (empty if it has none)."""
    import papermill

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


# --------------------------------------------------------------------------- execution


#: The end of every message about a report that could not be written.
_PREVIOUS_KEPT = "Nothing of the new report was kept; the previous report (if any) is untouched."


def fresh_staging_dir(out_dir: Path) -> Path:
    """An empty sibling folder of ``out_dir`` to build the report in."""
    staging = out_dir.with_name(f"{out_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "notebooks").mkdir(parents=True)
        (staging / "findings").mkdir()
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise storage_error(exc, out_dir, "the new report", hint=_PREVIOUS_KEPT) from exc
    return staging


#: Environment variable capping notebooks run at once (default: the usable cores).
JOBS_ENV = "PLAYBOOK_NOTEBOOK_JOBS"


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


def notebook_workers(sources: Sequence[Path]) -> int:
    """Kernels a run needs: :func:`notebook_jobs`, at most the largest phase's notebooks."""
    phases = notebook_phases(sources)
    return max(1, min(notebook_jobs(), max((len(g) for g in phases), default=1)))


def previous_seconds(out_dir: Path) -> dict[str, float]:
    """Seconds per step of the latest published report (empty if there is none).

    Read from ``manifest.json`` in ``out_dir`` (``reports/<client>/<period>``) or, failing
    that, the client's newest other period or, for a client's first run, the newest report
    of any other client (notebooks cost about the same relative to each other whatever
    the client); used only to start the longest notebooks first.
    """
    def newest_first(found: Iterable[Path]) -> list[Path]:
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    candidates = [out_dir / "manifest.json"]
    if out_dir.parent.is_dir():
        candidates += newest_first(p for p in out_dir.parent.glob("*/manifest.json")
                                   if p not in candidates)
    if out_dir.parent.parent.is_dir():
        candidates += newest_first(p for p in out_dir.parent.parent.glob("*/*/manifest.json")
                                   if p.parent.parent != out_dir.parent)
    for file in candidates:
        try:
            seconds = json.loads(file.read_text(encoding="utf-8"))["run"]["seconds"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        return {str(k): float(v) for k, v in seconds.items() if isinstance(v, int | float)}
    return {}


def longest_first(group: Sequence[Path], expected: Mapping[str, float]) -> list[Path]:
    """``group`` ordered by expected seconds, longest first (unknown ones last, in order).

    With two workers and notebooks of 11, 4, 4 and 2 s, starting the 11 s one first lets
    both workers finish at about the same time (11 s and 10 s) instead of 15 s and 6 s.
    """
    return sorted(group, key=lambda s: -expected.get(s.stem, -1.0))


def execute_notebooks(
    sources: Sequence[Path],
    declared: Mapping[Path, set[str]],
    parameters: Mapping[str, Any],
    staging: Path,
    out_dir: Path,
    workers: KernelWorkers,
    reporter: _Reporter,
    timings: dict[str, float],
    env: Mapping[str, str] | None = None,
) -> list[nbformat.NotebookNode]:
    """Run the notebooks with papermill on warm kernels; return them executed.

    Each group of :func:`notebook_phases` runs on ``workers`` (several notebooks at once
    when it has several kernels), longest first by the client's previous report
    (:func:`previous_seconds`). Executed notebooks are written to ``<staging>/notebooks/``
    and returned in the order of ``sources``; per-notebook seconds are added to
    ``timings``. ``env`` is added to each kernel's environment while a notebook runs.

    If a notebook fails, the notebooks already running finish, none is started after it,
    and the :class:`NotebookError` of the first failed notebook (in report order) is raised.
    """
    executed: dict[Path, nbformat.NotebookNode] = {}
    total, done = len(sources), 0
    failures: dict[Path, NotebookError] = {}
    expected = previous_seconds(out_dir)

    def finished(task: Task, outcome: tuple | None, lost: str | None) -> bool:
        nonlocal done
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
        reporter.say(f"[{done}/{total}] {source.name} done in {seconds:.1f} s"
                     f" (total {reporter.elapsed():.1f} s)")
        return True

    for group in notebook_phases(sources):
        group = longest_first(group, expected)
        reporter.say(f"Running {', '.join(s.name for s in group)}"
                     f" ({min(workers.jobs, len(group))} at a time) ...")
        tasks: list[Task] = []
        for source in group:
            values = dict(parameters)
            if RUN_DIR_PARAM in declared[source]:
                values[RUN_DIR_PARAM] = str(staging)
            tasks.append((_execute_job, (source, staging / "notebooks" / source.name, values,
                                         out_dir, dict(env or {}))))
        workers.run(tasks, finished)
        if failures:
            raise failures[next(s for s in sources if s in failures)]
    return [executed[source] for source in sources]


def _execute_job(
    kernel: WarmKernel, source: Path, target: Path, values: Mapping[str, Any], out_dir: Path,
    env: Mapping[str, str],
) -> tuple[nbformat.NotebookNode | None, float, tuple | None]:
    """Run one notebook on ``kernel`` (runs in a worker process, or in this one).

    Returns (executed notebook or None, seconds, None or the NotebookError's notebook,
    cell, error and kept_at): returned, not raised, so that it crosses a process boundary.
    """
    tick = time.perf_counter()
    try:
        node = execute_one(source, target, values, out_dir, kernel, env)
    except NotebookError as exc:
        return (None, time.perf_counter() - tick,
                (exc.notebook, exc.cell, exc.error, exc.kept_at, exc.not_kept, exc.fix or ""))
    return node, time.perf_counter() - tick, None


def execute_one(
    source: Path, target: Path, values: Mapping[str, Any], out_dir: Path, kernel: WarmKernel,
    env: Mapping[str, str] | None = None,
) -> nbformat.NotebookNode:
    """Execute one notebook on a warm kernel; on failure keep it and raise NotebookError."""
    import papermill

    try:
        return kernel.execute_notebook(source, target, values, env)
    except papermill.PapermillExecutionError as exc:
        kept = keep_for_diagnosis(target, out_dir)
        cell = source_cell_number(source, exc.cell_index, bool(values))
        raise NotebookError(
            source.name, cell, f"{exc.ename}: {exc.evalue} (In [{exc.exec_count}])", *kept
        ) from exc
    except Exception as exc:  # dead kernel, timeout, unreadable notebook, full disk ...
        kept = keep_for_diagnosis(target, out_dir)
        raise NotebookError(source.name, None, f"{type(exc).__name__}: {exc}", *kept) from exc


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


# --------------------------------------------------------------------------- combine


def combine_notebooks(
    executed: Sequence[nbformat.NotebookNode],
) -> tuple[nbformat.NotebookNode, list[TocEntry]]:
    """Merge executed notebooks into one notebook for the report.

    Drops parameter and ``remove_cell`` cells and sub-section headings with nothing under
    them (:func:`playbook.outline.drop_empty_subsections`), gives every cell a fresh id,
    renumbers exhibits across the report and turns ``#``/``##`` headings into anchored
    HTML headings.

    Returns
    -------
    (NotebookNode, list of TocEntry)
        The combined notebook and its table of contents, in document order.
    """
    combined = nbformat.v4.new_notebook()
    if executed:
        for key in ("kernelspec", "language_info"):
            if key in executed[0].metadata:
                combined.metadata[key] = executed[0].metadata[key]
    toc: list[TocEntry] = []
    next_exhibit = 1
    for nb in executed:
        cells = drop_empty_subsections(
            [report_cell(c) for c in nb.cells if not DROP_TAGS & set(cell_tags(c))])
        numbers = exhibit_numbers(cells, start=next_exhibit)
        next_exhibit += len(numbers)
        for cell in cells:
            rewrite_cell_text(cell, lambda text, n=numbers: renumber_exhibits(text, n))
            rewrite_cell_text(cell, lambda text: anchor_headings(text, toc), outputs=False)
            combined.cells.append(cell)
    for index, cell in enumerate(combined.cells, start=1):
        cell["id"] = f"cell-{index:04d}"
    return combined, toc


def cell_tags(cell: nbformat.NotebookNode) -> list[str]:
    """A cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))


def report_cell(cell: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of a cell as the report shows it: no stderr, no outputs if so tagged."""
    cell = nbformat.from_dict(json.loads(json.dumps(cell)))
    cell.metadata.pop("papermill", None)
    cell.metadata.pop("execution", None)
    if cell.cell_type == "code":
        if NO_OUTPUT_TAG in cell_tags(cell):
            cell.outputs = []
        cell.outputs = [
            o for o in cell.outputs
            if not (o.output_type == "stream" and o.get("name") == "stderr")
        ]
    return cell


def rich_texts(cell: nbformat.NotebookNode) -> Iterable[tuple[Mapping[str, Any], str]]:
    """(container, key) of every text/html and text/markdown output of a code cell."""
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        for mime in ("text/html", "text/markdown"):
            if isinstance(data.get(mime), str):
                yield data, mime


def exhibit_numbers(cells: Sequence[nbformat.NotebookNode], start: int) -> dict[int, int]:
    """Map notebook-local exhibit numbers shown in outputs to report numbers from ``start``."""
    numbers: dict[int, int] = {}
    for cell in cells:
        for data, mime in rich_texts(cell):
            for match in _EXHIBIT_NO.finditer(data[mime]):
                local = int(match.group(2))
                if local not in numbers:
                    numbers[local] = start + len(numbers)
    return numbers


def renumber_exhibits(text: str, numbers: Mapping[int, int]) -> str:
    """Replace notebook-local exhibit numbers in ``text`` with report numbers."""

    def swap(match: re.Match[str]) -> str:
        local = int(match.group(2))
        if local not in numbers:
            log.warning("Exhibit %s is cited but not shown in the same notebook", local)
            return match.group(0)
        return f"{match.group(1)}{numbers[local]}{match.group(3)}"

    return _EXHIBIT_NO.sub(swap, text)


def rewrite_cell_text(cell: nbformat.NotebookNode, rewrite: Any, *, outputs: bool = True) -> None:
    """Apply ``rewrite(text) -> text`` to a markdown cell's source and to rich outputs."""
    if cell.cell_type == "markdown":
        cell.source = rewrite(cell.source)
    for data, mime in rich_texts(cell):
        if outputs or mime == "text/markdown":
            data[mime] = rewrite(data[mime])


def anchor_headings(markdown: str, toc: list[TocEntry]) -> str:
    """Turn ``#`` and ``##`` headings into HTML headings with unique ids; append to ``toc``.

    nbconvert's own heading ids repeat when two notebooks share a heading, so the report
    makes its own (``sec-<n>-<slug>``) and the contents link to them.
    """
    import mistune

    lines, fenced = [], False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if not match:
            lines.append(line)
            continue
        level = len(match.group(1))
        inner = re.sub(r"^<p>|</p>\s*$", "", mistune.html(match.group(2)).strip())
        title = html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        anchor = f"sec-{len(toc) + 1}-{slug(title)}"
        # Appendices after the first one follow on the same page (class "continued").
        earlier = any(e.level == 1 and e.title.lower().startswith("appendix") for e in toc)
        cls = (' class="continued"' if level == 1 and earlier
               and title.lower().startswith("appendix") else "")
        toc.append(TocEntry(level, title, anchor))
        lines += ["", f'<h{level} id="{anchor}"{cls}>{inner}</h{level}>', ""]
    return "\n".join(lines)


def slug(text: str) -> str:
    """Lower-case ASCII words of ``text`` joined by hyphens (at most 40 characters)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:40].strip("-") or "section"


# --------------------------------------------------------------------------- HTML


def template_base_dir() -> Path:
    """Folder holding ``playbook/`` (the nbconvert template): the project's ``templates/``.

    Falls back to the checkout the package lives in when ``$PLAYBOOK_ROOT`` points at a
    folder without templates (a temporary data root in tests).
    """
    base = paths.templates_dir()
    if (base / TEMPLATE_NAME / "conf.json").is_file():
        return base
    return paths.PACKAGE_DIR.parent / "templates"


def notebook_to_html(
    nb: nbformat.NotebookNode, toc: Sequence[TocEntry], meta: ReportMeta
) -> str:
    """The report as one self-contained HTML document (cover, contents, sections)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        extra_template_basedirs=[str(template_base_dir())],
        template_name=TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        # embed_images re-parses each inline HTML tag alone and breaks <span>..</span> in
        # markdown; images in markdown cells must be attachments or outputs.
        embed_images=False,
    )
    resources = {
        "metadata": {"name": meta.title, "path": str(paths.notebooks_dir())},
        "report": asdict(meta),
        "toc": [asdict(entry) for entry in toc],
    }
    try:
        body, _ = exporter.from_notebook_node(nb, resources=resources)
    except Exception as exc:
        raise RenderError(f"nbconvert could not export the report: {type(exc).__name__}: {exc}",
                          fix="Check the template in templates/playbook.") from exc
    return mark_numeric_cells(body)


_TABLE = re.compile(r"<table\b.*?</table>", re.S | re.I)
_ROW = re.compile(r"<tr\b.*?</tr>", re.S | re.I)
_CELL = re.compile(r"<(td|th)\b([^>]*)>(.*?)</\1>", re.S | re.I)
WIDE_TABLE_COLUMNS = 7
LONG_TABLE_ROWS = 20
_NUMBER = re.compile(
    r"^[-+−(]?\s*[$€£]?\s*\d[\d,. ]*\s*(%|pp|x|k|K|M|bn|m)?\)?$"
)


def mark_numeric_cells(document: str) -> str:
    """Add class ``num`` to table cells of columns whose body cells are all numbers.

    The CSS right-aligns them with tabular figures; tables with ``colspan``/``rowspan`` are
    left as they are. Tables with more than ``WIDE_TABLE_COLUMNS`` columns get
    ``data-wide`` (fixed layout, smaller type: they fit the page width); tables with more
    than ``LONG_TABLE_ROWS`` rows get ``data-long`` (they may break across pages).
    """

    def is_number(cell_html: str) -> bool:
        text = html.unescape(re.sub(r"<[^>]+>", "", cell_html)).strip()
        return bool(_NUMBER.match(text))

    def fix_table(match: re.Match[str]) -> str:
        table = match.group(0)
        rows = _ROW.findall(table)
        if max((len(_CELL.findall(row)) for row in rows), default=0) > WIDE_TABLE_COLUMNS:
            table = re.sub(r"^<table\b", '<table data-wide="1"', table, flags=re.I)
        if len(rows) > LONG_TABLE_ROWS:
            table = re.sub(r"^<table\b", '<table data-long="1"', table, flags=re.I)
        if re.search(r"\b(colspan|rowspan)\s*=", table, re.I):
            return table
        numeric: dict[int, bool] = {}
        for row in _ROW.findall(table):
            for col, (kind, _, inner) in enumerate(_CELL.findall(row)):
                if kind.lower() == "td" and inner.strip():
                    numeric[col] = numeric.get(col, True) and is_number(inner)
        columns = {col for col, yes in numeric.items() if yes}
        return _ROW.sub(lambda r: mark_row(r.group(0), columns), table) if columns else table

    def mark_row(row: str, columns: set[int]) -> str:
        position = iter(range(10_000))

        def mark(cell: re.Match[str]) -> str:
            if next(position) not in columns:
                return cell.group(0)
            kind, attrs, inner = cell.groups()
            if re.search(r"\bclass\s*=\s*\"", attrs):
                attrs = re.sub(r"\bclass\s*=\s*\"", 'class="num ', attrs, count=1)
            else:
                attrs = f' class="num"{attrs}'
            return f"<{kind}{attrs}>{inner}</{kind}>"

        return _CELL.sub(mark, row)

    return _TABLE.sub(fix_table, document)


# --------------------------------------------------------------------------- records


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
    return path


def merged_findings(folder: Path, meta: ReportMeta) -> dict[str, Any]:
    """``{"meta": ..., "<notebook-stem>": findings}`` from ``<folder>/*.json``."""
    results: dict[str, Any] = {"meta": asdict(meta)}
    for file in sorted(folder.glob("*.json")):
        try:
            results[file.stem] = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RenderError(f"Findings file {file.name} is not valid JSON: {exc}",
                              fix="Record findings with json.dumps in the notebook.") from exc
    return results


def file_record(path: Path) -> dict[str, Any]:
    """Name, path, size in bytes and sha256 of one input file."""
    return {"name": path.name, "path": str(path), "bytes": path.stat().st_size,
            "sha256": file_sha256(path)}


def package_versions(names: Iterable[str] = PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (``None`` when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(folder: Path) -> dict[str, Any]:
    """Commit of the checkout and whether it has uncommitted changes (``None`` if unknown)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=folder, capture_output=True, text=True,
                                  timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def run_manifest(
    sources: Sequence[Path],
    parameters: Mapping[str, Any],
    meta: ReportMeta,
    inputs: Iterable[Path],
    settings: Mapping[str, Any] | None,
    started_at: dt.datetime,
    timings: Mapping[str, float],
) -> dict[str, Any]:
    """What went into the run, so a reader can reproduce or check it."""
    finished_at = dt.datetime.now().astimezone()
    return {
        "report": asdict(meta),
        "run": {
            "started": started_at.isoformat(timespec="seconds"),
            "finished": finished_at.isoformat(timespec="seconds"),
            "duration_seconds": round((finished_at - started_at).total_seconds(), 2),
            "seconds": dict(timings),
        },
        "parameters": dict(parameters),
        "settings": dict(settings) if settings is not None else None,
        "notebooks": [file_record(nb) for nb in sources],
        "inputs": [file_record(Path(p)) for p in inputs],
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "git": git_state(paths.PACKAGE_DIR.parent),
    }


def _files_under(folder: Path) -> list[Path]:
    """Every file below ``folder`` in name order (none when it does not exist); a link
    leading out of ``folder`` is left out (never read: :func:`playbook.paths.inside_folder`)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if not p.name.startswith(".")
                  and paths.inside_folder(p, folder) is not None and p.is_file())


# --------------------------------------------------------------------------- publish


def publish(staging: Path, out_dir: Path) -> Path:
    """Replace ``out_dir`` with ``staging`` by renames; the old report is deleted last.

    If the second rename fails the previous report is put back.
    """
    backup = out_dir.with_name(f"{out_dir.name}.previous-{os.getpid()}")
    shutil.rmtree(backup, ignore_errors=True)
    if out_dir.exists():
        os.replace(out_dir, backup)
    try:
        os.replace(staging, out_dir)
    except BaseException:
        if backup.exists() and not out_dir.exists():
            os.replace(backup, out_dir)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(backup, ignore_errors=True)
    return out_dir
