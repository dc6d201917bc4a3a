"""The missing features of each renewal due, joined once per pattern (issue 22).

:func:`playbook.analyses.drivers.risk.missing_lists` replaced a list comprehension that
indexed the column names with each row's mask (``Index.__getitem__`` per row: 0.8 s at
100,000 accounts). The previous code is kept here as the reference and both are compared
exactly: on the small demo's open book and on hand-made frames (no row, no column, one
row, nothing missing, everything missing, repeated and interleaved patterns, Arrow-string
column names).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses.drivers.risk import missing_lists
from playbook.context import AnalysisContext


def reference_missing_lists(missing: pd.DataFrame) -> list[str]:
    """The previous code of open_book."""
    return [", ".join(missing.columns[r]) for r in missing.to_numpy()]


def test_the_demo_book_s_missing_features_are_the_same(small_demo_run):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    table = ctx.modelling_rows
    missing = table[ctx.renewal_model.features].isna()
    got = missing_lists(missing)
    assert got == reference_missing_lists(missing)
    assert any(got) and "" in got  # some rows lack a feature, some none
    book = ctx.renewals_due_book
    assert len(book) and book["missing_features"].map(type).eq(str).all()


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": [], "b": []}, dtype=bool),                       # no row
    pd.DataFrame(index=range(3)),                                       # no column
    pd.DataFrame({"a": [True], "b": [False]}),                          # one row
    pd.DataFrame({"a": [False, False], "b": [False, False]}),           # nothing missing
    pd.DataFrame({"a": [True, True], "b": [True, True], "c": [True, True]}),  # everything
    pd.DataFrame({"x y": [True, False, True, False, True],              # interleaved
                  "z": [False, True, True, False, False],
                  "w[v]": [True, True, False, False, True]}),
])
def test_hand_made_frames_have_the_same_lists(frame):
    assert missing_lists(frame) == reference_missing_lists(frame)


def test_arrow_string_column_names_and_many_rows_have_the_same_lists():
    rng = np.random.default_rng(4)
    flags = rng.random((500, 6)) < 0.3
    names = pd.Index([f"feature_{i}" for i in range(6)], dtype="string[pyarrow]")
    frame = pd.DataFrame(flags, columns=names)
    got = missing_lists(frame)
    assert got == reference_missing_lists(frame)
    assert len(set(got)) > 10
    by_hand = ", ".join(f"feature_{i}" for i in range(6) if flags[7, i])
    assert got[7] == by_hand
