"""``reading._blank_rows`` (issue 22: column by column, stopping once no row is left blank)
finds the rows the frame-wide test it replaced found (copied below as the reference), on
text, object (Excel), numeric and duplicate-named columns, and on frames without rows or
columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from playbook.reading import _blank_rows

CHECK = settings(max_examples=80, deadline=None, derandomize=True, database=None,
                 phases=[Phase.explicit, Phase.generate],
                 suppress_health_check=[HealthCheck.too_slow])


def old_blank_rows(raw: pd.DataFrame) -> pd.Series:
    """The blank-row mask of ``reading.read_raw`` before issue 22's evening session."""
    return raw.astype(str).apply(lambda c: c.str.strip().isin(["", "nan", "None"])).all(
        axis=1) if len(raw.columns) else pd.Series(True, index=raw.index)


cell = st.one_of(st.sampled_from(["", " ", "nan", "None", " None ", "NaN", "x", "0", "\t",
                                  "none", "null"]),
                 st.none(), st.just(float("nan")), st.integers(-3, 3), st.text(max_size=3))


@CHECK
@given(rows=st.integers(0, 8), columns=st.integers(0, 4), data=st.data(),
       dtype=st.sampled_from(["str", "object"]))
def test_blank_rows_are_the_rows_found_before(rows, columns, data, dtype):
    cells = [[data.draw(cell) for _ in range(columns)] for _ in range(rows)]
    frame = pd.DataFrame(cells, columns=[f"c{i % 2}" for i in range(columns)], dtype=object)
    if dtype == "str":
        frame = frame.map(lambda v: v if v is None or isinstance(v, str) else str(v)).astype(
            "str")
    got = _blank_rows(frame)
    assert got.dtype == bool and len(got) == rows
    assert got.tolist() == old_blank_rows(frame).tolist()


def test_blank_rows_by_hand():
    frame = pd.DataFrame({"a": ["x", " ", "nan", None, ""], "b": ["", "", " None", "y", ""],
                          "c": [np.nan, "nan", "", "", " "]}, dtype=object)
    assert _blank_rows(frame).tolist() == [False, True, True, False, True]
    assert _blank_rows(frame.iloc[:, :0]).tolist() == [True] * 5
    numbers = pd.DataFrame({"n": [1.0, np.nan, np.nan], "t": ["", "", "x"]})
    assert _blank_rows(numbers).tolist() == old_blank_rows(numbers).tolist()
