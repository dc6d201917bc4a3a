"""Values computed once for a whole report run, whichever kernel asks first.

The notebooks of a run each run in a kernel of their own; an intermediate several of them
use (the renewal model's table and fit, the value and health scores, results kept per
stored table: :mod:`playbook.read_only`) is computed by the first kernel that asks and
read back by the others, from a pickle in the run's folder of intermediates
(:func:`playbook.cache.shared_folder`). Standard library only, so that any module can use
it without importing the cache.
"""

from __future__ import annotations

import fcntl
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

__all__ = ["computed_once"]


def computed_once(folder: Path | None, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, computed once for the run that owns ``folder`` (the run's folder of
    intermediates, :func:`playbook.cache.shared_folder`).

    The first caller computes it under an exclusive lock on ``<folder>/<name>.lock`` and
    pickles it to ``<folder>/<name>.pickle`` (written whole, then renamed); a caller in
    another kernel meanwhile waits for the lock, then reads it. When ``compute`` raises,
    nothing is stored and the error goes to the caller (the next one computes again).
    Without a folder (interactive use, no run cache) it is just ``compute()``.
    """
    if folder is None:
        return compute()
    folder.mkdir(parents=True, exist_ok=True)
    stored = folder / f"{name}.pickle"
    with (folder / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if stored.is_file():
            with stored.open("rb") as handle:
                return pickle.load(handle)  # noqa: S301 - written by this run, in its folder
        value = compute()
        _hand_back_memory()
        tmp = folder / f".{name}.tmp-{os.getpid()}"
        with tmp.open("wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, stored)
        return value


def _hand_back_memory() -> None:
    """In a kernel (:mod:`playbook.kernel_state` loaded), hand back the pages of the tables
    the computation read, or, while they are small, the heap it freed
    (:func:`playbook.kernel_state.hand_back_memory`): the next step of the cell does not
    hold them too."""
    state = sys.modules.get("playbook.kernel_state")
    if state is not None:
        state.hand_back_memory()
