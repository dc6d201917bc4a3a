"""Freed memory handed back to the system inside each warm kernel (after every cell and
between notebooks); and how many kernels the memory free can hold
(:func:`kernels_that_fit`).

Light on purpose (the standard library and psutil only): the render process imports it
before its kernels start.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import mmap
import sys
from collections.abc import Callable
from pathlib import Path

import psutil

from playbook.paths import client_files

#: A warm kernel's memory before it reads any table (interpreter, pandas, statsmodels,
#: matplotlib, the playbook): about 290 MB measured, with room.
KERNEL_BASE_BYTES = 400 * 2**20
#: A notebook's peak memory beyond :data:`KERNEL_BASE_BYTES`, per byte of the client's
#: validated tables in memory: 3.8 measured at 100,000 accounts (05-account-plan, the
#: largest: 2.67 GB for 622 MB of tables, bench/results.md), with room.
TABLE_FACTOR = 4.5


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library this process runs with, loaded once (None where it cannot be)."""
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def malloc_trim() -> None:
    """glibc's ``malloc_trim(0)``: free pages of the heap back to the system (no-op where
    there is no glibc)."""
    libc = _libc()
    with contextlib.suppress(Exception):  # no malloc_trim outside glibc
        if libc is not None:
            libc.malloc_trim(0)


#: ``madvise``'s advice that the pages of a range are not needed (Linux).
_MADV_DONTNEED = 4


def drop_mapped_pages(address: int, size: int) -> bool:
    """Tell the system this process no longer needs the whole pages inside the
    ``size`` bytes at ``address`` of a read-only file mapping (``madvise(MADV_DONTNEED)``);
    False where that is not available.

    The pages leave this process's memory (they stay in the system's file cache), and a
    later read of them maps them again from the file, with the same bytes: safe for a
    mapping nothing writes to. Partial pages at either end are left alone."""
    start = -(-address // mmap.PAGESIZE) * mmap.PAGESIZE
    end = (address + size) // mmap.PAGESIZE * mmap.PAGESIZE
    madvise = _madvise()
    if end <= start or madvise is None:
        return False
    return madvise(start, end - start, _MADV_DONTNEED) == 0


@functools.cache
def _madvise() -> Callable[[int, int, int], int] | None:
    """The C library's ``madvise`` (None off Linux or where it cannot be found)."""
    libc = _libc()
    if not sys.platform.startswith("linux") or libc is None:
        return None
    try:
        function = libc.madvise
    except AttributeError:
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int
    return function


def release_memory(*, collect: bool = True) -> None:
    """Collect garbage (unless ``collect`` is False: what was freed by reference counting
    alone; a full collection scans every object, tenths of a second in a process that
    imported pandas) and hand freed memory back to the system (glibc, Arrow's pool)."""
    if collect:
        gc.collect()
    if "pyarrow" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["pyarrow"].default_memory_pool().release_unused()
    malloc_trim()


def settle_garbage_collector(young: int = 10_000) -> None:
    """Leave the objects alive now (the imported modules' hundreds of thousands) out of
    every later garbage collection (``gc.freeze``), and collect the youngest generation
    after ``young`` new container objects rather than Python's 700.

    Called once a process has imported what it needs. Python's collector scanned those
    imports again at every older-generation collection: at 100,000 accounts the collector
    took about 5.6 CPU s of the run (``perf record``, bench/results.md). Frozen objects are
    still freed when their reference count falls to zero; only reference cycles among
    them are left. Once per process: a process that renders several reports (``make
    reports``, a Dask worker) does not freeze what one report left alive.
    """
    if gc.get_freeze_count():
        return
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, old)


def kernel_bytes(table_bytes: int) -> int:
    """The memory one notebook may need (bytes) for ``table_bytes`` of validated tables:
    :data:`KERNEL_BASE_BYTES` plus :data:`TABLE_FACTOR` times the tables."""
    return int(KERNEL_BASE_BYTES + TABLE_FACTOR * table_bytes)


def input_bytes(folder: Path) -> int:
    """The bytes of the files the loader may read from a client's data folder
    (:func:`playbook.paths.client_files`; 0 when missing): what the render step knows of
    the data's size before it is loaded."""
    with contextlib.suppress(OSError):
        return sum(path.stat().st_size for path in client_files(folder))
    return 0


def kernels_start_during_load(folder: Path, jobs: int, available: int | None = None) -> bool:
    """Whether ``jobs`` kernels may start while the client's data (in ``folder``) still
    loads: True when all of them fit (:func:`kernels_that_fit`) even with tables the size of
    the raw files (:func:`input_bytes`; the tables take more: 5.9 GB for 4.5 GB of files
    at 1,000,000 accounts). Else the load's end is the run's peak, and idle kernels would
    add to it; they start after it."""
    return kernels_that_fit(input_bytes(folder), jobs, available) >= jobs


def kernels_that_fit(table_bytes: int, jobs: int, available: int | None = None) -> int:
    """How many notebooks may run at once (1 to ``jobs``) without the machine running out of
    memory: the memory available (``available`` bytes, default: the system's, psutil) over
    :func:`kernel_bytes`. At least 1, even when one does not fit: a kernel may still
    finish, and running none would end the run for sure."""
    free = psutil.virtual_memory().available if available is None else available
    return max(1, min(jobs, free // kernel_bytes(table_bytes)))
