"""Publish a report folder at once: built in a staging folder, then renamed into place.

Everything is built in a sibling staging folder (``<out_dir>.staging-<pid>``,
:func:`fresh_staging_dir`) and renamed into place only when every step succeeded
(:func:`publish`): a failed run leaves the previous report untouched.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from playbook.errors import StorageError
from playbook.storage import storage_error

#: File names in a report folder (beside report.pdf): the slide deck, and the account
#: workbook with its CSV (written when the account plan's section ran).
PPTX_NAME = "report.pptx"
XLSX_NAME = "accounts.xlsx"
CSV_NAME = "accounts.csv"
#: The end of every message about a report that could not be written.
PREVIOUS_KEPT = "Nothing of the new report was kept; the previous report (if any) is untouched."


@dataclass(frozen=True)
class ReportPaths:
    """Where a published report's files are."""

    out_dir: Path
    html: Path
    pdf: Path
    results: Path
    manifest: Path
    notebooks: Path
    pptx: Path

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
            pptx=folder / PPTX_NAME,
        )


def report_storage_error(exc: OSError, out_dir: Path) -> StorageError:
    """The :class:`StorageError` for a new report that could not be written to ``out_dir``
    (nothing of it is kept; the previous report is untouched)."""
    return storage_error(exc, out_dir, "the new report", hint=PREVIOUS_KEPT)


def fresh_staging_dir(out_dir: Path) -> Path:
    """An empty sibling folder of ``out_dir`` to build the report in, with the
    ``notebooks/`` and ``findings/`` folders the notebooks write to."""
    staging = out_dir.with_name(f"{out_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        (staging / "notebooks").mkdir(parents=True)
        (staging / "findings").mkdir()
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise report_storage_error(exc, out_dir) from exc
    return staging


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
