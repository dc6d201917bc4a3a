"""One exception hierarchy. Library code raises these; only the CLI turns them into exit codes.

Every error carries what a consultant needs to act: where (file, key, column), what was
found (a few example rows and a count), what was expected, and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from playbook import textfmt as tf


class PlaybookError(Exception):
    """Base class of every error the playbook raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return self.message + (f"\n  How to fix: {self.fix}" if self.fix else "")


class ClientNameError(PlaybookError):
    """The CLIENT name cannot be used as a folder name."""


class ParamsError(PlaybookError):
    """A parameters file is missing, unreadable, has an unknown key or a wrong type."""


class UnsafePathError(PlaybookError):
    """A path built from CLIENT or PERIOD would leave the folder it belongs in
    (:func:`playbook.locks.inside`)."""


class RunInProgressError(PlaybookError):
    """Another run for the same client holds its lock (:func:`playbook.locks.run_lock`)."""


class ScaffoldError(PlaybookError):
    """The client's folder cannot be scaffolded (missing, empty, or params already there)
    (``make client``, :mod:`playbook.scaffold`)."""


class GeneratedFolderError(PlaybookError):
    """The demo generator will not write into a folder: another folder that has files in it
    (``kind == "not-demo"``), or ``data/demo`` with files edited or added since it was
    generated (``kind == "edited"``) (:mod:`playbook.demo`)."""

    def __init__(self, message: str, *, fix: str, kind: str) -> None:
        super().__init__(message, fix=fix)
        self.kind = kind


@dataclass
class DataIssue:
    """One problem found in one input table.

    ``rows`` are 1-based line numbers in the client's file (header = line of the header),
    so the consultant can find them in a spreadsheet.
    """

    table: str
    file: str
    column: str | None
    problem: str
    expected: str
    fix: str
    rows: Sequence[int] = field(default_factory=list)
    examples: Sequence[object] = field(default_factory=list)
    count: int = 0

    def describe(self) -> str:
        where = f"{self.file}" + (f", column '{self.column}'" if self.column else "")
        lines = [f"[{self.table}] {where}: {self.problem}"]
        if self.count:
            rows, examples = list(self.rows)[:5], list(self.examples)[:5]
            shown = ", ".join(str(r) for r in rows)
            ex = ", ".join(repr(e) for e in examples)
            lines.append(
                f"    {tf.plural(self.count, 'row')}"
                + (f", e.g. {tf.noun(len(rows), 'line')} {shown}" if shown else "")
                + (f" with {tf.noun(len(examples), 'value')} {ex}" if ex else "")
            )
        lines.append(f"    Expected: {self.expected}")
        lines.append(f"    How to fix: {self.fix}")
        return "\n".join(lines)


class EventsNotAlikeError(PlaybookError):
    """DuckDB's copy of a CSV usage event file found a row it reads otherwise than the
    loader, a row that does not take one line, or could not parse the file
    (:func:`playbook.events._csv_in_order`): never shown, the pandas path then reads the
    file (:func:`playbook.events.aggregate_events`)."""


class DataError(PlaybookError):
    """Input data cannot be used as it is; ``issues`` lists every blocking problem found."""

    def __init__(self, issues: Sequence[DataIssue]) -> None:
        self.issues = list(issues)
        head = f"{tf.plural(len(self.issues), 'problem')} in the input data:"
        super().__init__("\n".join([head, *(i.describe() for i in self.issues)]))

    def __str__(self) -> str:
        return self.message


class NotebookError(PlaybookError):
    """A notebook failed while the report was being produced."""

    def __init__(self, notebook: str, cell: int | None, error: str, kept_at: str,
                 not_kept: str = "", fix: str = "") -> None:
        """``not_kept``: why the partly executed notebook could not be kept (``kept_at`` is
        then empty), e.g. the disk is full; ``fix``: what to do, when not the default."""
        self.notebook, self.cell, self.error, self.kept_at = notebook, cell, error, kept_at
        self.not_kept = not_kept
        where = f"cell {cell}" if cell is not None else "an unknown cell"
        kept = (f"The partly executed notebook could not be kept: {not_kept}" if not_kept
                else f"The partly executed notebook is kept at {kept_at}")
        if not fix and any(mark in error for mark in DISK_FULL_MARKS):
            fix = ("The disk is full: free space on the disk that holds the reports folder "
                   "(old reports, reports/<client>/_failed/), then run again.")
        super().__init__(
            f"Notebook {notebook} failed in {where}: {error}\n"
            f"  {kept}; the previous report (if any) is untouched.",
            fix=fix or "Open the kept notebook in JupyterLab to see the failing cell and its "
            "traceback.",
        )


#: How a full disk or quota reads in an error that crossed a process boundary as text.
DISK_FULL_MARKS = ("[Errno 28]", "[Errno 122]", "No space left on device", "Disk quota exceeded")


class InsufficientDataError(PlaybookError):
    """An analysis cannot be computed on the data given (one outcome only, too few events or
    decisions for the folds, no usable feature). The report goes on: the section says why
    and what data would enable it (``NotebookSession.attempt``)."""


class DriverModelError(InsufficientDataError):
    """The renewal model cannot be fitted on the data given (e.g. only one outcome)
    (:mod:`playbook.analyses.drivers`)."""


class SurvivalError(InsufficientDataError):
    """A survival model cannot be fitted on the data given (e.g. no event at all)
    (:mod:`playbook.analyses.survival`)."""


class RenderError(PlaybookError):
    """HTML or PDF rendering failed."""


class KernelError(PlaybookError):
    """A notebook kernel died, did not answer in time, or its reset between two notebooks
    failed (:mod:`playbook.kernels`); the render step reports it as the notebook's
    :class:`NotebookError`."""


class StorageError(PlaybookError):
    """A file or folder could not be written: the disk is full, the quota is used up, the
    folder is read-only or not ours. Built by :func:`playbook.storage.storage_error`, which
    names what could not be written, where, the space free and what to do; nothing half
    written is left behind."""


class ResultsError(PlaybookError):
    """A notebook recorded a finding its results model does not declare, or a value that
    does not fit the declared type (:func:`playbook.results.checked_finding`)."""


class UnknownParameterError(PlaybookError):
    """A parameter was passed to a notebook that does not declare it (papermill only warns;
    the playbook refuses it)."""


class GeneratedTextError(PlaybookError):
    """A generated exhibit title, sentence or note contains 'nan': a figure it states is
    missing (a NaN was formatted into it). Raised before the text reaches the report by
    :class:`playbook.exhibits.ExhibitBook` and :class:`playbook.session.NotebookSession`."""

    def __init__(self, kind: str, text: str, what: str = "contains 'nan'") -> None:
        super().__init__(
            f"{kind} {what}: {text!r}",
            fix="A figure in this text is missing (NaN). In the code that writes it, say what "
            "is not known instead of printing the number, or leave the sentence out when the "
            "figure is missing.")


class NotesWarning(PlaybookError, UserWarning):
    """A consultant's note the run could not apply as written (:mod:`playbook.notes`): a
    stale edit (the data changed under an edited title), an id not in the report, a
    placeholder without a value. Issued with :func:`warnings.warn`, naming the exhibit; the
    run goes on."""


class UnresolvedPlaceholderError(PlaybookError):
    """A placeholder of a note (``{grr}``) has no value in this run: withheld, not computed
    or not a key of results.json; the generated text is shown instead."""


class ChildTraceback(PlaybookError):
    """The traceback of an error in a forked child process, as text: the cause of the
    error :meth:`playbook.forked.ForkedCall.result` raises in the parent."""
