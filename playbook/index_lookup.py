"""pandas' index lookups of Arrow text by Arrow's hash kernel (issue 22).

Every ID column (accounts, contacts, owners) is Arrow-backed text (pandas' ``str`` dtype).
pandas 3 looks such a target up in such an index (``reindex``, ``Series.map`` with a
Series, ``loc`` with a list) through Python strings: the index's values become Python
objects once per Index object (its engine), the target's at every call, each hashed in
Python. At 1,000,000 accounts these lookups took about 35 s of the notebooks' 390
(py-spy inside a report run, bench/results.md), spread over some 40 call sites, most of
it ``reindex`` by account. Arrow's ``index_in`` hashes the text's buffers instead: 1M
targets in a new index of 1M IDs took 0.29 s against 1.16 s (0.24 s against 0.59 s when
pandas' engine for the index was already built).

:func:`install` (idempotent; done when :mod:`playbook.analyses` or the notebooks' session
is imported) wraps ``pandas.Index._get_indexer``, the step behind ``Index.get_indexer``
once it has checked the index is unique: an exact lookup (no ``method``, ``limit`` or
``tolerance``) of Arrow text in an index of Arrow text goes to Arrow; anything else, and
anything Arrow refuses, to pandas' own. The positions are pandas' own (a missing ID
matches the index's missing ID, as in pandas; -1 where nothing matches):
``tests/test_index_lookup.py`` compares them with pandas' on random IDs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from playbook.membership import index_positions

#: pandas' own ``Index._get_indexer``, kept by :func:`install`.
_PANDAS_GET_INDEXER: Any = None


def _arrow_text(index: pd.Index) -> bool:
    """Whether ``index`` holds Arrow-backed text (``str`` or ``string[pyarrow]``)."""
    dtype = index.dtype
    return (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
            and type(index) is pd.Index)


def _get_indexer(self: pd.Index, target: pd.Index, method: str | None = None,
                 limit: int | None = None, tolerance: Any = None) -> np.ndarray:
    """``Index._get_indexer`` by Arrow for an exact lookup of Arrow text (see the module)."""
    if (method is None and limit is None and tolerance is None and _arrow_text(self)
            and isinstance(target, pd.Index) and _arrow_text(target)
            and self._index_as_unique):
        try:
            return index_positions(self, target).astype(np.intp, copy=False)
        except (pa.ArrowException, TypeError, ValueError):
            pass  # anything Arrow refuses: pandas' own
    return _PANDAS_GET_INDEXER(self, target, method=method, limit=limit,
                               tolerance=tolerance)


def install() -> None:
    """Route pandas' exact lookups of Arrow text to Arrow (once per process)."""
    global _PANDAS_GET_INDEXER
    if _PANDAS_GET_INDEXER is None:
        _PANDAS_GET_INDEXER = pd.Index._get_indexer
        pd.Index._get_indexer = _get_indexer


def uninstall() -> None:
    """pandas' own lookups again (tests compare the two)."""
    global _PANDAS_GET_INDEXER
    if _PANDAS_GET_INDEXER is not None:
        pd.Index._get_indexer = _PANDAS_GET_INDEXER
        _PANDAS_GET_INDEXER = None
