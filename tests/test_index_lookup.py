"""pandas' lookups of Arrow text by Arrow (playbook.index_lookup, issue 22): the positions
pandas' own code gives, on random IDs with missing values, repeats in the target, chunked
arrays, both kinds of Arrow text and both missing markers; the operations that reach it
(reindex, map, loc) give pandas' own results; other lookups are left to pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from playbook import index_lookup


@pytest.fixture(autouse=True)
def _installed():
    """Arrow's lookups on, as in any process that imports ``playbook.analyses``."""
    index_lookup.install()


@pytest.fixture
def pandas_own():
    """pandas' own ``_get_indexer`` while the test runs, then Arrow's again."""
    def own(call):
        index_lookup.uninstall()
        try:
            return call()
        finally:
            index_lookup.install()
    return own


def _ids(rng: np.random.Generator, n: int, pool: int, blank: float) -> list[object]:
    out: list[object] = [f"A{int(i):04d}" for i in rng.integers(0, pool, n)]
    for i in np.flatnonzero(rng.random(n) < blank):
        out[i] = None
    return out


DTYPES = ["str", "string[pyarrow]"]


@pytest.mark.parametrize("index_dtype", DTYPES)
@pytest.mark.parametrize("target_dtype", DTYPES)
@pytest.mark.parametrize("seed", range(6))
def test_positions_are_pandas_own(index_dtype, target_dtype, seed, pandas_own):
    rng = np.random.default_rng(seed)
    n_index = int(rng.integers(0, 60))
    distinct = list(dict.fromkeys(_ids(rng, n_index, 80, 0.0)))
    if seed % 2:
        distinct.append(None)  # the index's one missing ID
    index = pd.Index(pd.array(distinct, dtype=index_dtype))
    target = pd.Index(pd.array(_ids(rng, int(rng.integers(0, 200)), 100, 0.1),
                               dtype=target_dtype))
    assert index.is_unique
    got = index.get_indexer(target)
    want = pandas_own(lambda: index.get_indexer(target))
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype == np.intp
    if index_dtype == target_dtype:  # (Arrow answered, not pandas)
        np.testing.assert_array_equal(got, index_lookup.index_positions(index, target))


def test_chunked_and_large_text_by_hand():
    """An index of two chunks, a target stored as ``large_string``: positions by hand."""
    chunked = pa.chunked_array([["b", "a"], [None, "c"]])
    index = pd.Index(pd.arrays.ArrowStringArray(chunked))
    target = pd.Index(pd.arrays.ArrowStringArray(
        pa.array(["c", None, "z", "b", "c"], type=pa.large_string())))
    assert index.get_indexer(target).tolist() == [3, 2, -1, 0, 3]


def test_reindex_map_and_loc_are_pandas_own(pandas_own):
    rng = np.random.default_rng(7)
    accounts = pd.Index(pd.array(list(dict.fromkeys(_ids(rng, 300, 400, 0.0))), dtype="str"))
    mrr = pd.Series(rng.random(len(accounts)), index=accounts)
    frame = pd.DataFrame({"mrr": mrr, "tier": rng.choice(["a", "b"], len(accounts))},
                         index=accounts)
    wanted = pd.Index(pd.array(_ids(rng, 500, 450, 0.05), dtype="str"))
    rows = pd.Series(pd.array(_ids(rng, 500, 450, 0.05), dtype="str"))
    present = [x for x in wanted if isinstance(x, str) and x in set(accounts)][:50]
    calls = [lambda: mrr.reindex(wanted), lambda: frame.reindex(wanted),
             lambda: rows.map(mrr), lambda: frame.loc[present]]
    for call in calls:
        got, want = call(), pandas_own(call)
        if isinstance(got, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want, check_exact=True)
        else:
            pd.testing.assert_series_equal(got, want, check_exact=True)


def test_other_lookups_stay_with_pandas(monkeypatch):
    """A non-unique index, a fill method, numbers and objects never reach Arrow."""
    reached = []
    real = index_lookup.index_positions
    monkeypatch.setattr(index_lookup, "index_positions",
                        lambda *a: reached.append(1) or real(*a))
    text = pd.Index(pd.array(["a", "c", "e"], dtype="str"))
    assert text.get_indexer(pd.Index(pd.array(["b", "e"], dtype="str")),
                            method="pad").tolist() == [0, 2]
    assert pd.Index([3, 1, 2]).get_indexer([2, 5]).tolist() == [2, -1]
    repeated = pd.Index(pd.array(["a", "a", "b"], dtype="str"))
    assert repeated.get_indexer_for(pd.Index(pd.array(["b"], dtype="str"))).tolist() == [2]
    assert reached == []
    assert text.get_indexer(pd.Index(pd.array(["e", "x"], dtype="str"))).tolist() == [2, -1]
    assert reached == [1]
