"""The parts each weighted total used, written once per distinct set of parts (issue 22,
stop 33): ``weighted_total`` added each part's name to every row's text in turn, then
stripped the last comma (most of its time on 100,000 accounts, called for every value and
health score). The previous function is kept here as the reference: the same
contributions, totals and texts, exactly, on random scores with gaps, rows without any
part, weights of 0, one part, no part, and on the demo's health and value scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import backtest, health, scoring
from playbook.analyses.segments import value as value_module
from playbook.context import AnalysisContext


def reference_weighted_total(scores, weights):
    """``weighted_total`` before stop 33."""
    names = [k for k, w in weights.items() if w and w > 0]
    w = pd.Series({k: float(weights[k]) for k in names}, dtype=float)
    part = scores.reindex(columns=names).astype(float)
    available = part.notna()
    denom = available.mul(w, axis=1).sum(axis=1)
    contrib = part.mul(w, axis=1).div(denom.where(denom > 0), axis=0)
    total = contrib.sum(axis=1, min_count=1)
    used = pd.Series("", index=scores.index, dtype=object)
    for k in names:
        used = used + np.where(available[k].to_numpy(dtype=bool), k + ",", "")
    return contrib, total, used.str.rstrip(",").astype(object)


def assert_same(scores, weights):
    got = scoring.weighted_total(scores, weights)
    want = reference_weighted_total(scores, weights)
    pd.testing.assert_frame_equal(got[0], want[0], check_exact=True)
    pd.testing.assert_series_equal(got[1], want[1], check_exact=True)
    pd.testing.assert_series_equal(got[2], want[2], check_exact=True)
    assert got[2].dtype == object
    assert all(type(v) is str for v in got[2])


@pytest.mark.parametrize("seed", range(5))
def test_random_scores(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    names = ["usage", "nps", "products", "tickets", "champion_quality", "outcomes", "x,y"]
    scores = pd.DataFrame({k: np.where(rng.uniform(size=n) < rng.uniform(0.1, 0.9), np.nan,
                                       rng.uniform(0, 100, n)) for k in names},
                          index=pd.Index([f"A{i}" for i in rng.permutation(n)],
                                         name="account_id"))
    scores.iloc[: n // 5] = np.nan  # rows without any part
    weights = {k: float(rng.choice([0.0, 1.0, 2.5])) for k in names}
    weights["absent"] = 1.0  # a weighted part the scores lack: never available
    assert_same(scores, weights)
    assert_same(scores, {names[0]: 1.0})  # one part
    assert_same(scores, {k: 0.0 for k in names})  # no weighted part
    assert_same(scores.iloc[:0], weights)  # no row
    assert_same(scores, {k: 1.0 for k in reversed(names)})  # the weights' order


def test_many_parts():
    rng = np.random.default_rng(7)
    names = [f"m{j}" for j in range(70)]  # more parts than bits in an int64
    scores = pd.DataFrame({k: np.where(rng.uniform(size=50) < 0.5, np.nan, 1.0)
                           for k in names})
    assert_same(scores, dict.fromkeys(names, 1.0))
    assert_same(scores.iloc[:0], dict.fromkeys(names, 1.0))


@pytest.fixture(scope="module")
def demo(demo_context):
    return demo_context  # (tests/conftest.py)


def _scores(ctx: AnalysisContext) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The demo's health scores (now and at the renewal decisions' cut-offs) and value
    scores, computed afresh (no kept property)."""
    fresh = AnalysisContext(ctx.params, ctx.tables)
    return (fresh.health_scores, fresh.health_at_cutoff, fresh.value_scores_on(ctx.as_of))


def test_the_demo_scores(demo, monkeypatch):
    """The demo's health and value scores equal those of the reference."""
    got = _scores(demo)
    for module in (scoring, health, value_module, backtest):
        monkeypatch.setattr(module, "weighted_total", reference_weighted_total)
    want = _scores(demo)
    for g, w in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(g, w, check_exact=True)
    assert got[0]["measures_used"].str.contains(",").any()
    assert got[2]["components_used"].str.contains(",").any()
