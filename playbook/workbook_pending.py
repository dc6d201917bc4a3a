"""The account workbook written beside the PDF, once the notebooks have run (issue 22).

Writing ``accounts.xlsx`` and ``accounts.csv`` (:func:`playbook.workbook.write_workbook`) took
about a fifth of the account-plan notebook at 100,000 accounts (4.5 of 22 CPU seconds), and
that notebook is the last to finish: one core sat idle while its kernel wrote the files.
Now the notebook leaves the plan and the workbook's settings in the run's staging folder
(:func:`defer_workbook`), and the render step writes the workbook from them in a forked
child while it assembles the HTML and lays out the PDF (:func:`write_deferred`), before
the report is published. The files, their bytes and the all-or-nothing publish are those
of a workbook written by the notebook itself: a workbook that cannot be written fails the
run and leaves the previous report as it was. Without a render step (an analyst's run in
JupyterLab has no run folder) the notebook writes nothing, as before.

The plan travels as a pickle (the frame exactly, every dtype and value) that this run wrote
into its own staging folder and reads back once; it is deleted once the files are written,
so it is never published.
"""

from __future__ import annotations

import pickle
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playbook.render_publish import CSV_NAME, XLSX_NAME
from playbook.storage import atomic_path

if TYPE_CHECKING:
    import pandas as pd

#: The plan and settings a notebook leaves for the render step, in the run's staging folder
#: (a dot-name: never one of the report's files).
PENDING_NAME = ".workbook-pending.pickle"


def defer_workbook(plan: pd.DataFrame, run_dir: Path, *, currency: str, as_of: Any,
                   title: str, owner_sheets_max_accounts: int | None = None) -> Path:
    """Leave ``plan`` and the workbook's settings (the keyword arguments of
    :func:`playbook.workbook.write_workbook`) in ``run_dir`` for :func:`write_deferred`;
    returns the file written. The plan's columns are checked now, so that a plan the
    workbook cannot take fails its notebook, as writing the workbook there did."""
    from playbook.workbook import check_plan_columns

    check_plan_columns(plan)
    settings = {"currency": currency, "as_of": as_of, "title": title,
                "owner_sheets_max_accounts": owner_sheets_max_accounts}
    path = Path(run_dir) / PENDING_NAME
    with atomic_path(path, "the account plan for the workbook") as tmp, open(tmp, "wb") as fh:
        pickle.dump((plan, settings), fh, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def has_deferred(run_dir: Path) -> bool:
    """True when a notebook left a workbook to write in ``run_dir``."""
    return (Path(run_dir) / PENDING_NAME).is_file()


def write_deferred(run_dir: Path) -> float | None:
    """Write ``accounts.xlsx`` and ``accounts.csv`` into ``run_dir`` from what
    :func:`defer_workbook` left there, then delete that; returns the seconds it took, or
    None when nothing was left. (The workbook's code is imported here: the render process
    that asks whether a workbook is left does not hold it while its kernels run.)"""
    from playbook.workbook import write_workbook

    path = Path(run_dir) / PENDING_NAME
    if not path.is_file():
        return None
    tick = time.perf_counter()
    with path.open("rb") as fh:
        plan, settings = pickle.load(fh)  # noqa: S301 (this run's own file, see the module)
    write_workbook(plan, Path(run_dir) / XLSX_NAME, Path(run_dir) / CSV_NAME, **settings)
    path.unlink()
    return round(time.perf_counter() - tick, 2)
