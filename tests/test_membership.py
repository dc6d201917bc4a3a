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
