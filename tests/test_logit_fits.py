"""The renewal model's fits made cheaper (issue 22) without changing a figure.

* ``_separating_features`` finds each outcome's least and largest value of every column in
  one pass over the design instead of a loop over columns with copies per column; the
  previous loop is kept here as the reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses.drivers import model


def reference_separating(y: pd.Series, X: pd.DataFrame) -> list[str]:
    """The previous ``_separating_features`` (one column at a time)."""
    values = X.to_numpy(dtype=float)
    yv = y.to_numpy(dtype=float)
    x1, x0 = values[yv == 1], values[yv == 0]
    found = []
    for j, col in enumerate(X.columns):
        a, b = x1[:, j], x0[:, j]
        a, b = a[~np.isnan(a)], b[~np.isnan(b)]
        if len(a) and len(b) and (a.min() >= b.max() or b.min() >= a.max()):
            found.append(col)
    return found


@pytest.mark.parametrize("seed", range(6))
def test_separating_features_as_the_column_loop(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 60))
    y = pd.Series((rng.uniform(size=n) < 0.5).astype(float))
    y.iloc[0], y.iloc[-1] = 1.0, 0.0
    X = pd.DataFrame({
        "noise": rng.normal(size=n),
        "apart": np.where(y == 1, 2.0, 1.0) + rng.uniform(0, 0.5, n),
        "tie": np.where(y == 1, rng.integers(2, 4, n), rng.integers(0, 3, n)).astype(float),
        "gaps": np.where(rng.uniform(size=n) < 0.5, np.nan, rng.normal(size=n)),
        "none_for_0": np.where(y == 0, np.nan, rng.normal(size=n)),
        "all_missing": np.nan,
        "infinite": np.where(y == 1, np.inf, rng.normal(size=n)),
        "minus_inf": np.where(y == 0, -np.inf, rng.normal(size=n)),
        "constant": 1.0,
    })
    assert model._separating_features(y, X) == reference_separating(y, X)
    half = X.iloc[: n // 2]
    assert model._separating_features(y.iloc[: n // 2], half) == reference_separating(
        y.iloc[: n // 2], half)


def test_separating_features_known_answers():
    y = pd.Series([1.0, 1.0, 0.0, 0.0])
    X = pd.DataFrame({"a": [3.0, 4.0, 1.0, 2.0], "b": [1.0, 2.0, 2.0, 1.0],
                      "c": [np.nan, 5.0, 5.0, np.nan], "d": [np.nan, np.nan, 1.0, 2.0]})
    assert model._separating_features(y, X) == ["a", "c"]
    assert model._separating_features(y.iloc[:0], X.iloc[:0]) == []
    assert model._separating_features(pd.Series([1.0, 1.0]), X.iloc[:2]) == []
