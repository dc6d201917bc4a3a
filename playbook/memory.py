"""Freed memory handed back to the system, by the render process (after caching the data)
and inside each warm kernel (after every cell and between notebooks).

Light on purpose (the standard library only): the render process imports it before its
kernels start.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import sys


def malloc_trim() -> None:
    """glibc's ``malloc_trim(0)``: free pages of the heap back to the system (no-op where
    there is no glibc)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).malloc_trim(0)


def release_memory() -> None:
    """Collect garbage and hand freed memory back to the system (glibc, Arrow's pool)."""
    gc.collect()
    if "pyarrow" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["pyarrow"].default_memory_pool().release_unused()
    malloc_trim()
