"""Intermediates a notebook's kernel computes on a second thread, beside the notebook.

When a client's tables are so large that the run gives its kernels one notebook at a
time (:func:`playbook.memory.kernels_that_fit`: 1,000,000 accounts on the bench's two
cores), one core idled through the notebooks, about 320 of a run's 470 seconds. Part of a
notebook's work is an intermediate of the run's analysis context
(:class:`playbook.context.AnalysisContext`), computed once for the whole run
(:func:`playbook.once.computed_once`) by the first notebook that reads it. A second
thread of the same kernel can compute such an intermediate while the notebook's first
cells run: most of that work is in NumPy, pandas and Arrow routines that let go of
Python's lock, so the two threads run on two cores (at 1,000,000 accounts the health
scores and the health at the cut-offs, 44.7 s one after the other, took 22.6 s side by
side, bench/results.md).

:data:`BESIDE` names, per notebook, the intermediates its thread computes: long ones the
notebook reads after cells that need none of them. The thread computes exactly what the
notebook's cells would (the same property of the same context object: a cell that reads
it meanwhile waits for it, :class:`functools.cached_property` holding a lock per property
in Python 3.11), so the figures are the same whichever thread computes them. Nothing
the thread computes prints, plots or records a finding; no model is fitted there (a fit
records the warnings it raises, and those of another thread would be caught with them).
A failure on the thread changes nothing: nothing is kept, and the cell that reads the
property computes it again and shows the error as it would have.

The render step allows the thread (:func:`allow`) when the machine has a core the run's
kernels leave idle; the kernel waits for its thread before it is reset for the next
notebook (:func:`wait`), so the thread never outlives its notebook's context.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: Notebook stem -> the analysis context's properties a second thread computes while the
#: notebook runs (in this order). 01-revenue's MRR bridge and headline cells run meanwhile
#: (at 1,000,000 accounts the notebook took 35 s rather than 50 s, its peak 6.4 GB rather
#: than 5.9, below the run's). Beside 02-renewal-drivers the value scores and the
#: relationships (read by the segments section) made that notebook 7 s slower, the next 3 s
#: faster and the run's peak 8.3 GB (bench/results.md, stop 47): the renewal modelling
#: table takes that notebook's memory and reads the same tables.
BESIDE: dict[str, tuple[str, ...]] = {
    "01-revenue": ("health_scores", "health_at_cutoff"),
}

#: The file in a run's data cache that allows the threads (written by :func:`allow`).
ALLOW_FILE = "beside-threads.json"
#: Set to ``1`` to run every intermediate on the notebook's own thread.
DISABLE_ENV = "PLAYBOOK_NO_BESIDE_THREAD"

_running: list[threading.Thread] = []


def allow(data_cache: Path, *, cores: int, at_once: int) -> bool:
    """Record in the run's ``data_cache`` folder whether its kernels start a thread beside
    their notebooks: when ``cores`` (usable by the run) exceed the notebooks run ``at_once``
    (one at a time, as :func:`playbook.memory.kernels_that_fit` decides for large clients).
    Returns the decision."""
    allowed = cores > at_once
    (data_cache / ALLOW_FILE).write_text(json.dumps({"allowed": allowed, "cores": cores,
                                                     "at_once": at_once}), encoding="utf-8")
    return allowed


def allowed(data_cache: str) -> bool:
    """Whether the run whose data cache is ``data_cache`` allows a thread beside each
    notebook (:func:`allow`); False without a data cache (interactive use) or its record."""
    if not data_cache:
        return False
    try:
        record = json.loads((Path(data_cache) / ALLOW_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(isinstance(record, dict) and record.get("allowed") is True
                and os.environ.get(DISABLE_ENV, "") != "1")


def start(context: Any, names: Sequence[str]) -> threading.Thread | None:
    """Start a thread reading each of ``context``'s properties ``names`` in turn (errors
    ignored: the notebook meets them itself); None when there is nothing to compute."""
    if not names:
        return None

    def compute() -> None:
        for name in names:
            try:
                getattr(context, name)
            except Exception:  # noqa: BLE001, S112 - the notebook computes it, and says why
                continue

    thread = threading.Thread(target=compute, name="playbook-beside", daemon=True)
    _running.append(thread)
    thread.start()
    return thread


def wait() -> None:
    """Wait for every thread :func:`start` started in this process (a kernel, before it is
    reset for the next notebook)."""
    while _running:
        _running.pop().join()
