"""The start of a report run: params and notes checked, the data loading in a forked child,
the kernels starting, before the code that renders is imported.

:func:`started_run` is what :func:`playbook.render.render_report` begins with. The command
line (``make report``) calls it before importing :mod:`playbook.render`: that import (the
charts, the workbook, the slide deck, the PDF engine: about 4 CPU seconds) then runs on one
core while the data load on the other, instead of before the loading starts. The modules
here import only what loading needs; what drives the kernels is imported once the loading
child is forked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from playbook.config import Params, load_params
from playbook.loading import LoadingChild
from playbook.locks import report_dir
from playbook.notes import ClientNotes, load_notes
from playbook.paths import notebooks_dir

if TYPE_CHECKING:
    from playbook.kernels import KernelWorkers

#: Modules the report's kernels import while the data loads (what the notebooks use).
KERNEL_PRELOAD = ("playbook.session",)


@dataclass(frozen=True)
class StartedRun:
    """A report run begun by :func:`started_run`: its ``params``, the consultant's
    ``notes``, the ``notebooks`` it runs, the ``loading`` child and the kernels'
    ``workers``."""

    params: Params
    notes: ClientNotes | None
    notebooks: list[Path]
    loading: LoadingChild
    workers: KernelWorkers


def check_report_settings(params: Params) -> None:
    """Check the settings that only the analysis code can check: the executive summary's
    effort rules and benchmark set (:meth:`playbook.executive.ExecutiveSettings.of`) and the
    recommendations' limits. Run by the loading child, which imports that code anyway (the
    render process imports it once the notebooks are done); raises
    :class:`~playbook.errors.ParamsError`."""
    from playbook.executive import ExecutiveSettings
    from playbook.recommendations import Limits

    Limits.of(params)
    ExecutiveSettings.of(params)


@contextlib.contextmanager
def started_run(client: str, *, period: str | None = None,
                as_of: str | None = None) -> Iterator[StartedRun]:
    """Begin ``client``'s run: params (with the command line's ``period`` and ``as_of``)
    and notes validated (a mistake stops here, before anything starts), the data loaded
    and validated by a forked child (forked before any thread of this process starts:
    :class:`playbook.loading.LoadingChild`), the kernels ready to start and import what
    the notebooks use (:class:`playbook.kernels.KernelWorkers`; :func:`playbook.render.
    render_report` starts them). Leaving stops the kernels and the child and removes what
    the child left."""
    params = load_params(client, period=period, as_of=as_of)
    notes = load_notes(client)  # the consultant's notes, validated before anything runs
    notebooks = [notebooks_dir() / f"{name}.ipynb" for name in params.report.notebooks]
    # A bad export still fails in seconds with the file, column and rows named (the
    # kernels are then stopped), not inside the first notebook. The child stores the data
    # for the kernels and exits: this process does not keep the memory loading took.
    staging_parent = report_dir(client, params.period_label).parent
    with LoadingChild(params, staging_parent, check=check_report_settings) as loading:
        # what drives the kernels (jupyter_client, papermill: about 0.4 CPU s) is imported
        # once the child is forked, while it loads
        from playbook.kernels import KernelWorkers
        from playbook.render_execute import notebook_workers

        # started by render_report once the load runs in one process (its peak is then
        # behind it, and a core free), or by the first notebook
        with KernelWorkers(notebook_workers(notebooks), preload=KERNEL_PRELOAD,
                           start=False) as workers:
            yield StartedRun(params, notes, notebooks, loading, workers)
