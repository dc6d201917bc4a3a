"""The one render path: execute → combine → export → records → publish.

:func:`render_report` renders a client's report for one period; :func:`render_notebooks`
is the same path for any list of notebooks. Each step is a module of its own:

1. :mod:`playbook.render_execute`: papermill runs the notebooks on warm kernels
   (:mod:`playbook.kernels`); a notebook that fails is kept under ``_failed/``;
2. :mod:`playbook.render_combine`: the executive summary and the executed notebooks
   become one notebook;
3. :mod:`playbook.render_export`: nbconvert with the template ``templates/playbook`` (its
   preprocessors, :mod:`playbook.render_preprocessors`, number the exhibits and anchor the
   contents) makes a self-contained HTML file, laid out as a paged PDF
   (:mod:`playbook.render_pdf`);
4. :mod:`playbook.render_manifest`: ``results.json`` and ``manifest.json``;
5. :mod:`playbook.render_publish`: everything is built in a staging folder and published
   at once:

``<out_dir>/``
    ``report.html``, ``report.pdf``, ``report.pptx`` (the editable deck, unless
    ``report.slides`` is off), ``results.json`` (the findings every notebook recorded),
    ``manifest.json`` (inputs, parameters, package versions, git commit, timings) and
    ``notebooks/<name>.ipynb`` (the executed notebooks) and ``findings/<stem>.json`` (as
    the notebooks wrote them).

A failed run leaves the previous report untouched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import importlib
import shutil
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

from playbook import beside
from playbook.comparison import previous_results
from playbook.config import Params
from playbook.errors import NotesWarning, RenderError
from playbook.forked import ForkedCall
from playbook.kernels import KernelWorkers
from playbook.locks import client_lock, report_dir
from playbook.memory import (
    kernels_start_during_load,
    kernels_that_fit,
    settle_garbage_collector,
)
from playbook.notes import ClientNotes
from playbook.render_execute import (
    Reporter,
    check_parameters,
    declared_parameters,
    execute_notebooks,
    notebook_workers,
)
from playbook.render_manifest import (
    ReportMeta,
    files_under,
    merged_findings,
    output_records,
    run_manifest,
    write_json,
)
from playbook.render_pdf import warm_up as warm_up_pdf
from playbook.render_publish import (
    PPTX_NAME,
    XLSX_NAME,
    ReportPaths,
    fresh_staging_dir,
    publish,
    report_storage_error,
)
from playbook.render_start import StartedRun, started_run
from playbook.workbook_pending import has_deferred, write_deferred

if TYPE_CHECKING:
    from playbook.loading import Loaded

#: Modules only the steps after the notebooks use (the executive summary, the consultant's
#: notes, combining, HTML and PDF, slides, workbook: pandas, matplotlib, nbconvert and the
#: rest, about 140 MB). The render process imports them once a kernel is left idle under
#: the last notebooks (:func:`_prepare_publishing`), or when it publishes: not while its
#: kernels hold the run's memory peak.
PUBLISHING_MODULES = ("playbook.executive", "playbook.findings.executive",
                      "playbook.notes_apply", "playbook.recommendations",
                      "playbook.render_combine", "playbook.render_export", "playbook.slides",
                      "playbook.summary", "playbook.workbook")

#: Parameter giving a notebook the folder of the run's validated tables
#: (:mod:`playbook.cache`, read by :func:`playbook.session.start`).
DATA_CACHE_PARAM = "data_cache"

#: The part name of the cells placed after the notebooks (the walk's assumptions), for the
#: consultant's notes (:func:`playbook.notes_apply.apply_to_notebook`).
BACK_MATTER = "executive-back-matter"
#: ``(results, notebook stems in order) -> (front, records, back)``: the notebook placed before
#: the notebooks, the records added to results.json (top-level key -> record) and the cells
#: placed after them (or None).
FrontMatter = Callable[[dict[str, Any], list[str]],
                       tuple[nbformat.NotebookNode, dict[str, Any],
                             nbformat.NotebookNode | None]]


def render_report(
    client: str,
    *,
    period: str | None = None,
    as_of: str | None = None,
    progress: bool = True,
    started: StartedRun | None = None,
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
    started : StartedRun, optional
        The run begun by :func:`playbook.render_start.started_run` (the command line
        begins it before importing this module, so that the data load meanwhile); its
        params then decide the period and the as-of date. None: begun here.

    Returns
    -------
    ReportPaths
        The published files in ``reports/<client>/<period>/``.
    """
    if started is None:
        with started_run(client, period=period, as_of=as_of) as run:
            return render_report(client, progress=progress, started=run)
    settle_garbage_collector()
    # The kernels start once the load runs in one process: their imports (about 190 MB
    # each) were otherwise held at the load's peak, and slowed it on cores it used. At
    # 100,000 accounts the load's peak fell by about 400 MB (bench/results.md). When not
    # all of them fit, they start after the load, as many as fit (at 1,000,000 accounts two
    # idle kernels held 250 MB at the load's end, the run's peak).
    if kernels_start_during_load(started.params.data_path(), started.workers.jobs):
        started.loading.wait_for_one_process()
        started.workers.start()
    loaded = started.loading.result()
    timings = {"load and validate": round(loaded.load_seconds + loaded.store_seconds, 2)}
    return _render_loaded(client, started.params, loaded, started.notebooks, started.workers,
                          timings, progress, started.notes)


def _render_loaded(client: str, params: Params, loaded: Loaded,
                   notebooks: list[Path], workers: KernelWorkers, timings: dict[str, float],
                   progress: bool, notes: ClientNotes | None = None) -> ReportPaths:
    """:func:`render_report` once the data is loaded and stored (``loaded``): render."""

    def data_cache(folder: Path) -> dict[str, str]:
        # The validated tables are cached for the run, so no notebook parses the raw files
        # again: the entry the loading child stored moves into the run's scratch folder.
        loaded.move_into(folder)
        # fewer notebooks at once when the memory free cannot hold a kernel each
        workers.limit(kernels_that_fit(loaded.table_bytes, workers.jobs))
        # a core the kernels leave idle computes intermediates beside each notebook
        beside.allow(folder, cores=workers.jobs, at_once=workers.at_once)
        return {DATA_CACHE_PARAM: str(folder)}

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
    with client_lock(client):  # one run per client; report_dir stays inside its folder
        return render_notebooks(
            notebooks,
            {"client": client, "period": params.period_label, "as_of": as_of_text},
            report_dir(client, params.period_label),
            meta,
            inputs=files_under(params.data_path()),
            settings=params.as_dict(),
            progress=progress,
            front_matter=functools.partial(_summary_front_matter,
                                           previous=previous_results(client, as_of_text),
                                           params=params),
            run_parameters=data_cache,
            timings=timings,
            workers=workers,
            notes=notes,
            slides=params.report.slides,
        )


def _timed_slides(html_path: Path, results: dict[str, Any], meta: ReportMeta,
                  out_path: Path) -> float:
    """:func:`playbook.slides.write_slides`; the seconds it took."""
    from playbook.slides import write_slides

    tick = time.perf_counter()
    write_slides(html_path, results, meta, out_path)
    return round(time.perf_counter() - tick, 2)


def _summary_front_matter(results: dict[str, Any], order: list[str], *,
                          previous: dict[str, Any] | None, params: Params
                          ) -> tuple[nbformat.NotebookNode, dict[str, Any],
                                     nbformat.NotebookNode]:
    """The "so what" and the executive summary before the sections, the walk's assumptions
    after them; results.json's ``summary`` and ``executive``. (The settings were checked
    before the data load: :func:`playbook.render_start.check_report_settings`.)"""
    from playbook.executive import ExecutiveSettings, executive_record
    from playbook.findings.executive import executive_notebooks
    from playbook.recommendations import Limits
    from playbook.summary import summary_notebook, summary_record

    limits, executive = Limits.of(params), ExecutiveSettings.of(params)
    summary = summary_notebook(results, order, previous, limits=limits)
    record = executive_record(results, order, limits=limits, settings=executive,
                              previous=previous)
    front, back = executive_notebooks(summary, record, results)
    return (front, {"summary": summary_record(results, order, previous, limits=limits),
                    "executive": record}, back)


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
    run_parameters: Callable[[Path], Mapping[str, Any]] | None = None,
    timings: Mapping[str, float] | None = None,
    workers: KernelWorkers | None = None,
    notes: ClientNotes | None = None,
    slides: bool = True,
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
        ``(results, notebook stems in order) -> (notebook, records, back)``: cells placed
        before the notebooks (the "so what" and the executive summary), records stored in
        results.json under their keys (``"summary"``, ``"executive"``) and cells placed
        after the notebooks (the walk's assumptions, at the end of the appendix) or None.
    run_parameters : callable, optional
        ``(folder) -> parameters``: called once before the notebooks run with an empty
        scratch folder inside the staging folder (removed before publishing); each
        notebook gets those of the parameters it declares (the data cache uses this:
        ``data_cache``).
    timings : mapping, optional
        Seconds of steps done before this call (e.g. loading the data), recorded in the
        manifest with the others.
    workers : KernelWorkers, optional
        Warm kernels to run the notebooks on (started by the caller, who closes them;
        they are stopped here once the notebooks are done). By default this call starts
        :func:`~playbook.render_execute.notebook_workers` kernels of ``kernel_name`` itself.
    notes : ClientNotes, optional
        The consultant's notes (:mod:`playbook.notes`), applied to results.json and the
        combined notebook (:mod:`playbook.notes_apply`).
    slides : bool
        Also write ``report.pptx``, the editable deck built from the finished HTML and the
        results (:func:`playbook.slides.write_slides`), published with the rest.

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
    reporter = Reporter(progress)
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
        book = _WorkbookWriter(staging)
        try:
            prepared: Mapping[str, Any] = {}
            if run_parameters is not None:
                tick = time.perf_counter()
                scratch.mkdir()
                prepared = run_parameters(scratch)
                timings["prepare"] = round(time.perf_counter() - tick, 2)
            # the account workbook is written as soon as its notebook left it, beside the
            # notebooks still running, when this process may fork (the kernels run in
            # worker processes): a core the last notebooks leave idle writes it; the PDF
            # engine is imported once a kernel is left idle under the last notebook
            executed = execute_notebooks(
                sources, declared, parameters, staging, out_dir, workers, reporter, timings,
                prepared, on_done=None if workers.in_this_process else book.start,
                on_idle=_prepare_publishing)
        except BaseException:
            book.stop()
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            workers.stop()  # the kernels' memory is free for the HTML and PDF steps
        return _publish_report(sources, parameters, out_dir, meta, staging, executed,
                               reporter, inputs=inputs, settings=settings,
                               front_matter=front_matter, started_at=started_at,
                               timings=timings, notes=notes, slides=slides, book=book)


def _prepare_publishing() -> None:
    """Import what the steps after the notebooks use (:data:`PUBLISHING_MODULES`) and the
    PDF engine: called once a kernel is left idle under the last notebooks, so that the
    import (about 2 CPU s) takes the idle core."""
    for module in PUBLISHING_MODULES:
        importlib.import_module(module)
    warm_up_pdf()


class _WorkbookWriter:
    """The forked child writing the account workbook a notebook deferred to the render
    step (:mod:`playbook.workbook_pending`), started once: as soon as the notebook is
    done, or when the report is assembled."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.call: ForkedCall | None = None

    def start(self, *_done: Path) -> None:
        """Start the child if a workbook is left to write and it is not started yet."""
        if self.call is None and has_deferred(self.staging):
            self.call = ForkedCall(write_deferred, self.staging,
                                   what="Writing the account workbook")

    def stop(self) -> None:
        """Stop the child (if it runs) and forget it."""
        if self.call is not None:
            self.call.stop()


def _publish_report(
    sources: Sequence[Path], parameters: Mapping[str, Any], out_dir: Path, meta: ReportMeta,
    staging: Path, executed: list[nbformat.NotebookNode], reporter: Reporter, *,
    inputs: Iterable[Path], settings: Mapping[str, Any] | None,
    front_matter: FrontMatter | None, started_at: dt.datetime, timings: dict[str, float],
    notes: ClientNotes | None = None,
    slides: bool = True,
    book: _WorkbookWriter | None = None,
) -> ReportPaths:
    """The steps of :func:`render_notebooks` after the notebooks ran: combine, export,
    records, then the atomic publish of ``staging`` as ``out_dir``."""
    from playbook.notes_apply import SUMMARY, apply_to_notebook, apply_to_results
    from playbook.render_combine import combine_notebooks
    from playbook.render_export import write_report_html, write_report_pdf

    book = book if book is not None else _WorkbookWriter(staging)
    try:
        shutil.rmtree(staging / ".scratch", ignore_errors=True)
        # the account workbook the plan's notebook left, written by a forked child (if not
        # started already) while this process assembles the HTML and lays out the PDF
        # (playbook.workbook_pending)
        book.start()
        results = merged_findings(staging / "findings", meta)
        names = [nb.stem for nb in sources]
        # The consultant's notes: titles shown, hidden exhibits, before the summary reads them.
        applied = apply_to_results(results, notes, names)
        for warning in applied.warnings if applied else []:
            warnings.warn(NotesWarning(warning), stacklevel=2)  # by name, on every run
        if front_matter is not None:
            front, records, back = front_matter(results, names)
            executed = [front, *executed, *([back] if back is not None else [])]
            names = [SUMMARY, *names, *([BACK_MATTER] if back is not None else [])]
            results.update(records)
        combined = apply_to_notebook(combine_notebooks(executed), applied, names)
        html_path = write_report_html(combined, meta, staging, timings, reporter.say)
        # the deck of the report as printed (titles, order, pages), written by a forked
        # child while this process lays out the PDF (the kernels have stopped)
        deck = ForkedCall(_timed_slides, html_path, results, meta, staging / PPTX_NAME,
                          what="Writing the slides") if slides else None
        # and results.json, by another: indented JSON is encoded in pure Python, about
        # 0.5 s at 100,000 accounts (the open book lists every renewal due)
        findings = ForkedCall(write_json, staging / "results.json", results,
                              what="Writing results.json")
        try:
            write_report_pdf(html_path, staging, timings, reporter.say)
            if deck is not None:
                timings["pptx"] = deck.result()
                reporter.say(f"  PPTX {timings['pptx']:.1f} s")
            findings.result()
        finally:
            if deck is not None:
                deck.stop()
            findings.stop()
        if book.call is not None:
            timings["workbook"] = book.call.result()
            reporter.say(f"  Workbook {timings['workbook']:.1f} s")
        write_json(
            staging / "manifest.json",
            run_manifest(sources, parameters, meta, inputs, settings, started_at, timings,
                         outputs=output_records(staging)),
        )
    except OSError as exc:  # disk full, quota, read-only: say so, keep nothing of it
        shutil.rmtree(staging, ignore_errors=True)
        raise report_storage_error(exc, out_dir) from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        book.stop()
    try:
        publish(staging, out_dir)
    except OSError as exc:  # (publish put the previous report back)
        shutil.rmtree(staging, ignore_errors=True)
        raise report_storage_error(exc, out_dir) from exc
    result = ReportPaths.in_folder(out_dir)
    reporter.say(f"Report ready in {reporter.elapsed():.1f} s:")
    for label in ("pdf", "html", "results", "manifest", "notebooks"):
        reporter.say(f"  {label:<9} {getattr(result, label)}")
    if result.pptx.is_file():
        reporter.say(f"  {'slides':<9} {result.pptx}")
    if (out_dir / XLSX_NAME).is_file():  # the account workbook (section "where to act")
        reporter.say(f"  {'workbook':<9} {out_dir / XLSX_NAME}")
    return result
