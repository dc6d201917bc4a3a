"""Grouped sums by an integer key (playbook.analyses.grouped): pandas' grouped sum, to the
last digit, whichever way they are computed (rows only sorted when no key repeats; sorted
and added by numpy when every value is a whole number; pandas otherwise)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import grouped
from playbook.analyses.grouped import sums_by_key


def _assert_pandas_sums(key: np.ndarray, values: pd.DataFrame, min_count: int) -> None:
    keys, sums = sums_by_key(key, values, min_count=min_count)
    want = values.groupby(key, sort=True).sum(min_count=min_count)
    np.testing.assert_array_equal(keys, want.index.to_numpy(dtype=np.int64))
    for c in values:
        assert sums[c].dtype == np.float64
        np.testing.assert_array_equal(sums[c], want[c].to_numpy(dtype=float))
        assert not np.signbit(sums[c][sums[c] == 0]).any()  # never -0.0


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("min_count", [0, 1])
def test_whole_numbers_with_repeated_keys(seed, min_count):
    rng = np.random.default_rng(seed)
    n = 5000
    key = rng.integers(0, 700, n) * 1000 + rng.integers(0, 30, n)
    values = pd.DataFrame({c: rng.integers(-40, 2_000_000, n).astype(float)
                           for c in ("a", "b", "c")})
    for c in values:
        values.loc[rng.uniform(size=n) < 0.2, c] = np.nan
    values.loc[rng.uniform(size=n) < 0.05, "a"] = -0.0
    values.loc[key == key[0], "b"] = np.nan  # a group with only blanks
    _assert_pandas_sums(key, values, min_count)


def test_the_whole_number_path_does_not_group_with_pandas(monkeypatch):
    key = np.array([5, 3, 5, 1, 3, 3, 9])
    values = pd.DataFrame({"x": [1.0, np.nan, 2.0, -0.0, 4.0, 7.0, np.nan]})
    want = values.groupby(key, sort=True).sum(min_count=1)

    def no_grouping(*_args, **_kwargs):
        raise AssertionError("pandas grouping used")

    monkeypatch.setattr(pd.DataFrame, "groupby", no_grouping)
    keys, sums = sums_by_key(key, values, min_count=1)
    np.testing.assert_array_equal(keys, want.index.to_numpy())
    np.testing.assert_array_equal(sums["x"], want["x"].to_numpy())  # 1: 0.0; 3: 11; 5: 3


@pytest.mark.parametrize("column", [
    [0.1, 0.2, 0.3, 1e16, -1e16, 0.7],  # fractions: the order of adding shows
    [2.0 ** 52, 2.0 ** 52, 1.0, 3.0, 5.0, 1.0],  # whole, but past 2**53 in all
    [1.0, np.inf, 2.0, -np.inf, 3.0, 4.0],  # not finite
])
def test_other_values_are_summed_by_pandas(column):
    key = np.array([1, 1, 1, 2, 1, 2])
    values = pd.DataFrame({"x": column})
    assert not grouped._add_exactly(values["x"].to_numpy())
    for min_count in (0, 1):
        _assert_pandas_sums(key, values, min_count)


def test_keys_without_repeats_and_empty():
    values = pd.DataFrame({"x": [1.5, np.nan, -0.0, 2.0]})
    for min_count in (0, 1):
        _assert_pandas_sums(np.array([7, 3, 9, 1]), values, min_count)
    keys, sums = sums_by_key(np.zeros(0, dtype=np.int64), values.iloc[:0], min_count=1)
    assert len(keys) == 0 and len(sums["x"]) == 0
