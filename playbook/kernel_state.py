"""Inside a warm kernel: its state recorded after the warm-up imports, and put back between
two notebooks (:mod:`playbook.kernels` runs these functions in the kernel).

Between two notebooks the kernel is put back into the state it had right after the
warm-up imports (:func:`kernel_reset`):

* the user namespace, the input/output history and the execution counter (IPython's
  ``reset(new_session=True)``: a notebook cannot see another's variables and its cells
  are numbered from 1, as in a fresh kernel);
* open figures closed, matplotlib ``rcParams``, pandas options, warning filters (so "show
  once" warnings show again) and ``warnings.showwarning`` as recorded after the imports;
* ``os.environ`` as at kernel start (a notebook that sets a variable does not pass it on),
  and the working folder the notebook expects;
* the freed memory handed back to the system (garbage collection, ``malloc_trim``, Arrow's
  pool), so a kernel's resident memory does not grow from notebook to notebook.

This module is light on purpose (the standard library, matplotlib and pandas, which every
kernel imports anyway): the kernel imports it, never the parent side.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import matplotlib as mpl
import pandas as pd
from IPython import get_ipython

from playbook.memory import malloc_trim, release_memory, settle_garbage_collector

_PRISTINE: dict[str, Any] = {}
#: rcParams the reset leaves alone (setting the backend would switch it).
_RC_KEPT = frozenset({"backend", "backend_fallback", "interactive"})


def kernel_snapshot() -> None:
    """Record the kernel's settings after the warm-up imports (runs in the kernel, once),
    and hand freed memory back after every cell from now on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # reading deprecated rcParams warns
        rc = {key: mpl.rcParams[key] for key in mpl.rcParams if key not in _RC_KEPT}
    shell = get_ipython()
    if shell is not None:
        shell.events.register("post_run_cell", _trim_after_cell)
    _PRISTINE.update(rc=rc, pandas=pandas_options(), environ=dict(os.environ),
                     warnings=_warning_scope())
    settle_garbage_collector()


def kernel_reset(cwd: str | None = None, full: bool = True) -> None:
    """Put the kernel back into its state after :func:`kernel_snapshot` (runs in the kernel).

    Parameters
    ----------
    cwd : str, optional
        Working folder for the next notebook (default: leave it).
    full : bool
        Also clear the namespace, figures and settings and free memory (about 0.15 s);
        False only sets the environment and folder of a kernel that nothing ran in since
        its last full reset.
    """
    beside = sys.modules.get("playbook.beside")
    if beside is not None:  # the notebook's thread reads its context: it goes first
        beside.wait()
    if full:
        shell = get_ipython()
        if shell is not None:
            shell.reset(new_session=True)  # namespace, history, Out cache, count = 1
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")
        if _PRISTINE:
            _restore_settings(_PRISTINE)
    if _PRISTINE:
        # Not a channel into the kernel: this undoes what the last notebook set (nothing
        # is added), and a process has no other way to put its environment back.
        os.environ.clear()
        os.environ.update(_PRISTINE["environ"])
    if cwd:
        os.chdir(cwd)
    if full:
        release_memory()


def _warning_scope() -> contextlib.ExitStack:
    """A ``warnings.catch_warnings()`` entered now and left at the next reset: leaving it
    puts back the filters and ``showwarning`` of the moment it was entered and forgets
    which warnings were already shown, through the public API."""
    scope = contextlib.ExitStack()
    scope.enter_context(warnings.catch_warnings())
    return scope


def _restore_settings(pristine: dict[str, Any]) -> None:
    """matplotlib rcParams, pandas options and warning filters as recorded."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated keys warn when set
        changed = {k: v for k, v in pristine["rc"].items() if mpl.rcParams.get(k) != v}
        mpl.rcParams.update(changed)
        for key, value in pristine["pandas"].items():
            if pd.get_option(key) != value:
                pd.set_option(key, value)
    pristine["warnings"].close()
    pristine["warnings"] = _warning_scope()


def pandas_options() -> dict[str, Any]:
    """Every current pandas option that is not deprecated (key -> value).

    Read through the public ``pd.options`` tree; an option whose reading warns is a
    deprecated one and is left out."""
    return dict(_options_below(pd.options, ""))


def _options_below(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    for name in dir(node):
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            value = getattr(node, name)
        if isinstance(value, type(pd.options)):  # a group of options (``display``)
            yield from _options_below(value, f"{prefix}{name}.")
        elif not warned:
            yield f"{prefix}{name}", value


#: Tables read in place (bytes of their mapped files) from which a kernel hands back their
#: pages after each cell (:func:`playbook.client_data.drop_pages_read`). Below it (100,000
#: accounts: about 400 MB) the pages stay, and a later cell reading them again pays no
#: page faults.
DROP_PAGES_FROM = 1 << 30


def _trim_after_cell(_result: Any = None) -> None:
    """After each cell, :func:`hand_back_memory`."""
    hand_back_memory()


def hand_back_memory() -> None:
    """Hand back what the tables read or the work freed. After each cell, and after each
    intermediate a kernel computes for the run (:func:`playbook.once.computed_once`: at
    1,000,000 accounts the renewal model's features read 3.3 GB of table pages, still held
    while the model was fitted in the same cell).

    While the tables read in place are small (below :data:`DROP_PAGES_FROM`), the freed heap
    goes back (glibc's ``malloc_trim``, about a millisecond), so a later cell's peak does
    not stack on an earlier cell's leftovers (at 100,000 accounts the run's peak fell by
    about 170 MB with no change in time, bench/results.md). Once they are large, the pages
    of their mapped files go back (what comes next holds only the pages it reads) and the
    freed heap stays for what comes next: each kernel of a large client is given a
    notebook's whole peak of the memory free (:func:`playbook.memory.kernels_that_fit`:
    one at a time on the bench's machine), so freed heap held between two cells stays
    within it. Given back, each cell of a 1,000,000-account run faulted its gigabytes in
    again, zeroed page by page by the system (``clear_page_erms``, a fifth of a kernel's
    CPU in ``perf``): with the heap kept (and every allocation served from it,
    :data:`playbook.kernels.KERNEL_ENV_DEFAULTS`) the notebooks took 332-344 s against
    373 s (bench/results.md, stop 45). Between two notebooks the kernel's reset still
    hands everything back (:func:`kernel_reset`)."""
    stored = sys.modules.get("playbook.client_data")
    if stored is not None and stored.bytes_read_in_place() >= DROP_PAGES_FROM:
        stored.drop_pages_read()
    else:
        malloc_trim()
