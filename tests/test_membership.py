"""playbook.membership.is_in gives pandas' isin answer, for Arrow text and anything else."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.membership import is_in

IDS = pd.Series(["A", "B", None, "C", "", "A "], dtype="str")


@pytest.mark.parametrize("wanted", [
    {"A", "C"}, ["B", "A"], set(), ["Z"], {"A", None}, ["A", float("nan")], [""],
    pd.Index(["C", "B"], dtype="str"), pd.Series(["A", None], dtype="str"),
    pd.Series(["A", "C"], dtype=object), ["A", 1], [1, 2], np.array(["A", "B"], dtype=object),
])
def test_is_in_equals_pandas_isin_on_arrow_text(wanted):
    expected = IDS.isin(wanted).to_numpy(dtype=bool)
    got = is_in(IDS, wanted)
    assert got.dtype == bool and got.tolist() == expected.tolist()
    index = pd.Index(IDS)
    assert is_in(index, wanted).tolist() == index.isin(wanted).tolist()


@pytest.mark.parametrize("values", [
    pd.Series([1, 2, 3]), pd.Series(["A", "B", None], dtype=object),
    pd.Series(["A", "B", "A"], dtype="category"),
    pd.Series(pd.to_datetime(["2026-01-01", "2026-02-01"])),
])
def test_other_columns_go_to_pandas(values):
    wanted = [values.iloc[0]]
    assert is_in(values, wanted).tolist() == values.isin(wanted).tolist()


def test_a_column_read_in_several_chunks_is_answered_in_its_order():
    import pyarrow as pa

    chunked = pa.chunked_array([pa.array(["A", "B"]), pa.array([None, "C", "A"])])
    values = pd.Series(pd.arrays.ArrowStringArray(chunked))
    assert is_in(values, {"A", "C"}).tolist() == [True, False, False, True, True]
    assert is_in(values, {"A", None}).tolist() == [True, False, True, False, True]


@pytest.mark.parametrize("size", [1, 2, 3, 7, 100])
def test_positions_in_slices_are_positions_of_each_slice(size):
    import pyarrow as pa

    from playbook.membership import positions, positions_in_slices

    chunked = pa.chunked_array([pa.array(["C", "A", None]), pa.array(["B", "", "Z", "A"])])
    values = pd.Series(pd.arrays.ArrowStringArray(chunked))
    among = pd.Index(["A", "B", "C"], dtype="str")
    got = list(positions_in_slices(values, among, size))
    assert [start for start, _ in got] == list(range(0, len(values), size))
    # each slice's positions, computed here without the product's code: C=2, A=0, B=1
    expected = [2, 0, -1, 1, -1, -1, 0]
    assert np.concatenate([part for _, part in got]).tolist() == expected
    for start, part in got:
        assert part.tolist() == positions(values.iloc[start:start + size], among).tolist()
    # nothing to match against, and values Arrow cannot take as one type
    assert [p.tolist() for _, p in positions_in_slices(values, pd.Index([]), 4)] == [
        [-1] * 4, [-1] * 3]
    mixed = pd.Series(["A", 1, "B"], dtype=object)
    assert [p.tolist() for _, p in positions_in_slices(mixed, among, 2)] == [[0, -1], [1]]
