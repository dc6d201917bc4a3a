"""Matching ID columns (account and contact IDs) with Arrow's hash kernels.

At 100,000 accounts and millions of rows, matching one column of IDs against another is
most of a join's time: pandas' string index hashes each value in Python-level objects, and
pandas' ``isin`` on Arrow text builds one Arrow scalar per *wanted* value in Python (2.4
million usage rows against 100,000 account IDs: about a second, most of it that loop).
Arrow's ``index_in`` and ``is_in`` hash the columns' buffers (about seven times faster on
the benchmark client's 2.9M touches; ``isin`` 1 s -> 0.2 s).

:func:`positions` gives each value's position in a set of distinct IDs (blanks never
match), :func:`positions_in_slices` the same a slice of a long column at a time, the set
hashed once; :func:`is_in` gives pandas' ``isin`` answer (a blank is in the set when the set
holds a blank). Both fall back to pandas when the values do not convert to one Arrow type.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def positions(values: pd.Series | pd.Index | np.ndarray | Sequence,
              among: pd.Index) -> np.ndarray:
    """Position in ``among`` (distinct values) of each of ``values``, -1 where a value is
    absent or blank (int64, aligned with ``values``).

    The result equals ``among.get_indexer(values)`` but for blanks, which never match.
    """
    n = len(values)
    if not len(among) or not n:
        return np.full(n, -1, dtype=np.int64)
    try:
        found = pc.index_in(_arrow(values), value_set=_arrow(among), skip_nulls=True)
    except (pa.ArrowException, TypeError, ValueError):  # mixed or unmatched types
        blank = pd.isna(np.asarray(values, dtype=object))
        out = among.get_indexer(pd.Index(values)).astype(np.int64)
        out[blank] = -1
        return out
    return _codes(found)


def positions_in_slices(values: pd.Series, among: pd.Index, size: int
                        ) -> Iterator[tuple[int, np.ndarray]]:
    """``(start, positions(values[start:start + size], among))`` for each slice of ``size``
    values in turn (:func:`positions`).

    ``among`` is hashed once for the whole column and each slice's positions are made
    only when it is reached, so memory stays bounded by a slice (about 5 bytes a value
    besides). Calling :func:`positions` slice by slice hashed ``among`` again for each:
    at 1,000,000 accounts, 5.7 million contact IDs for each of 29 slices of the touches,
    41 of the 56 s the relationship flags took (bench/results.md).
    """
    n = len(values)
    if not len(among):
        for start in range(0, n, size):
            yield start, np.full(min(size, n - start), -1, dtype=np.int64)
        return
    try:
        found = pc.index_in(_arrow(values, combine=False), value_set=_arrow(among),
                            skip_nulls=True)
    except (pa.ArrowException, TypeError, ValueError):  # mixed or unmatched types
        for start in range(0, n, size):
            yield start, positions(values.iloc[start:start + size], among)
        return
    for start in range(0, n, size):
        yield start, _codes(found.slice(start, size))


def index_positions(index: pd.Index, target: pd.Index) -> np.ndarray:
    """``index.get_indexer(target)`` for a unique ``index``, by Arrow: as :func:`positions`,
    but a missing value finds the index's missing value, as in pandas (-1 where nothing
    matches). Raises Arrow's error (or ``TypeError``/``ValueError``) on values it cannot
    match as one type, and never falls back to pandas: :mod:`playbook.index_lookup` calls
    it from inside pandas' lookup, which does."""
    found = pc.index_in(_arrow(target, combine=False), value_set=_arrow(index),
                        skip_nulls=False)
    return _codes(found)


def _codes(found: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Arrow ``index_in`` positions as int64, -1 where nothing matched."""
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


def is_in(values: pd.Series | pd.Index, wanted: Iterable[object]) -> np.ndarray:
    """Whether each of ``values`` is one of ``wanted``, as a boolean numpy array in the
    order of ``values``: ``values.isin(wanted)``, by Arrow for Arrow text. A wanted value
    that is not text matches nothing there; a column that is not Arrow text (numbers,
    dates, Python objects, categories) goes to pandas' own ``isin``."""
    if not isinstance(wanted, pd.Series | pd.Index | np.ndarray):
        wanted = list(wanted)
    if not isinstance(values.array, pd.arrays.ArrowStringArray):
        return np.asarray(values.isin(wanted), dtype=bool)
    if not len(wanted):
        return np.zeros(len(values), dtype=bool)
    try:
        found = pc.is_in(_arrow(values), value_set=_arrow(wanted))
    except (pa.ArrowException, TypeError, ValueError):  # mixed or unmatched types
        return np.asarray(values.isin(wanted), dtype=bool)
    return np.asarray(found, dtype=bool)


def _arrow(values: pd.Series | pd.Index | np.ndarray | Sequence, *, combine: bool = True
           ) -> pa.Array | pa.ChunkedArray:
    """``values`` as one Arrow array (chunks combined unless ``combine`` is False), blanks
    as nulls; strings as ``large_string`` so that columns stored either way compare."""
    arr = pa.array(pd.Series(values) if not isinstance(values, pd.Series) else values,
                   from_pandas=True)
    if isinstance(arr, pa.ChunkedArray) and combine:
        arr = arr.combine_chunks()
    if pa.types.is_string(arr.type):
        arr = arr.cast(pa.large_string())
    return arr
