"""Grouped sums and means of float columns by one integer key per row, as arrays.

The usage and MRR histories group rows by an integer that encodes (account, month), not by
the text IDs and dates: :func:`sums_by_key` is ``values.groupby(key, sort=True).sum()``
with the same figures, to the last digit, in less memory and time where it can:

* no key repeats (a table already one row per account and month): the rows are only
  sorted (the sum of one value is the value plus 0.0);
* every value a whole number and the column's absolute total below 2**53: the sums are
  exact whatever the order of adding, so the rows are sorted and each group added by
  ``numpy.add.reduceat`` (at 2.1M rows about 100 MB less at its peak than pandas' hash
  grouping, which the usage table's monthly sums took in the report's busiest moment);
* otherwise pandas' grouped sum (its order of rows and compensated summation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["means_by_key", "sums_by_key"]

#: Whole numbers below this add exactly in float64, in any order.
EXACT_WHOLE = 2.0 ** 53


def sums_by_key(key: np.ndarray, values: pd.DataFrame, *, min_count: int
                ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``values.groupby(key, sort=True).sum(min_count=min_count)`` as arrays: the distinct
    keys in order and each float column's sums (blank when a group has fewer than
    ``min_count`` values, 0.0 for an empty group with ``min_count=0``; a sum is never
    -0.0, as pandas starts each sum at 0.0). See the module for how."""
    if len(key) and not (key[1:] >= key[:-1]).all():
        order = np.argsort(key, kind="stable")
    else:
        order = np.arange(len(key))
    ordered = key[order]
    new = ordered[1:] != ordered[:-1]  # where a key differs from the one before
    if len(ordered) and new.all():
        out = {}
        for c in values:
            v = values[c].to_numpy(dtype=float)[order] + 0.0
            out[c] = v if min_count else np.where(np.isnan(v), 0.0, v)
        return ordered, out
    columns = {c: values[c].to_numpy(dtype=float) for c in values}
    if len(ordered) and all(_add_exactly(v) for v in columns.values()):
        starts = np.flatnonzero(np.concatenate(([True], new)))
        out = {}
        for c, v in columns.items():
            v = v[order]
            blank = np.isnan(v)
            sums = np.add.reduceat(np.where(blank, 0.0, v), starts) + 0.0
            if min_count:
                counts = np.add.reduceat(~blank, starts, dtype=np.int64)
                sums[counts < min_count] = np.nan
            out[c] = sums
        return ordered[starts], out
    sums = values.groupby(key, sort=True).sum(min_count=min_count)
    return (sums.index.to_numpy(dtype=np.int64),
            {c: sums[c].to_numpy(dtype=float) for c in values})


def _add_exactly(values: np.ndarray) -> bool:
    """Whether the values (blanks aside) are finite whole numbers whose absolute total is
    below 2**53: every partial sum is then exact, in any order."""
    v = values[~np.isnan(values)]
    return bool(np.isfinite(v).all() and (v == np.floor(v)).all()
                and np.abs(v).sum() < EXACT_WHOLE)


def means_by_key(key: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pd.Series(values).groupby(key, sort=True).mean()`` as arrays (the distinct keys in
    order, each one's mean) for values without blanks; when no key repeats, the values
    sorted by key plus 0.0 (what a mean of one value is)."""
    keys, sums = sums_by_key(key, pd.DataFrame({"v": values}), min_count=1)
    if len(keys) == len(key):
        return keys, sums["v"]
    means = pd.Series(values).groupby(key, sort=True).mean()
    return means.index.to_numpy(dtype=np.int64), means.to_numpy(dtype=float)
