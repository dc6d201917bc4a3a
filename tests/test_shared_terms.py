"""The renewal model's terms shared across the trigger types' fits (issue 22, stop 33).

``churn_after_triggers`` fits the renewal model once per trigger type: the drivers plus the
type's flag, on the same decisions. Each fit made every driver's term and design columns
and counted its values again; with a :class:`~playbook.analyses.drivers.model.SharedTerms`
the first fit makes them and the others reuse them, where a feature's column is the same.
The fit without sharing (``shared=None``) is the reference: the models must be equal, on
the demo and on random tables whose features change between fits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import drivers, triggers
from playbook.analyses.drivers import model
from tests.test_model_overheads import counted_make_terms


def reference_churn_after_triggers(decisions, trig, **kw) -> pd.DataFrame:
    """``churn_after_triggers`` before stop 33: every type's fit makes its own terms."""
    real = triggers.SharedTerms
    triggers.SharedTerms = lambda: None  # the fits' ``shared=None``
    try:
        return triggers.churn_after_triggers(decisions, trig, **kw)
    finally:
        triggers.SharedTerms = real


def assert_same_model(got: model.DriverModel, want: model.DriverModel) -> None:
    pd.testing.assert_frame_equal(got.coefficients, want.coefficients, check_exact=True)
    pd.testing.assert_series_equal(got.params, want.params, check_exact=True)
    pd.testing.assert_series_equal(got.design_means, want.design_means, check_exact=True)
    assert got.features == want.features
    assert got.terms == want.terms
    assert (got.n, got.events, got.events_per_feature, got.method) == (
        want.n, want.events, want.events_per_feature, want.method)
    assert got.checks == want.checks


@pytest.fixture(scope="module")
def demo(demo_context):
    return demo_context  # (tests/conftest.py)


def churn_trigger_arguments(demo) -> tuple[tuple, dict]:
    """The demo's arguments of ``triggers.churn_after_triggers`` as notebook 06 passes them:
    (decisions, triggers) and the keywords."""
    p = demo.params
    return (demo.renewal_decisions, demo.tables["triggers"]), dict(
        window_days=p.triggers.churn_window_days, min_exposed=p.triggers.min_exposed,
        table=demo.modelling_table, features=demo.model_features,
        units=demo.features_built["units"])


def test_churn_after_triggers_equals_the_unshared_fits_on_the_demo(demo):
    args, kw = churn_trigger_arguments(demo)
    got = triggers.churn_after_triggers(*args, **kw)
    want = reference_churn_after_triggers(*args, **kw)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert got["odds_ratio"].notna().sum() >= 3  # several types fitted


def test_shared_fits_equal_the_unshared_ones_on_the_demo(demo):
    """The drivers with one extra 0/1 column after another, through one SharedTerms."""
    table, features = demo.modelling_table, list(demo.model_features)
    units = demo.features_built["units"]
    rng = np.random.default_rng(3)
    shared = model.SharedTerms()
    for k in range(3):
        extra = table.assign(flag=(rng.uniform(size=len(table)) < 0.2).astype(float))
        kw = dict(units={**units, "flag": (1.0, "yes vs no")}, reduce_features=False,
                  marginal_effects=k == 0)
        assert_same_model(
            drivers.fit_renewal_model(extra, [*features, "flag"], shared=shared, **kw),
            drivers.fit_renewal_model(extra, [*features, "flag"], **kw))


def _table(rng: np.random.Generator, n: int) -> pd.DataFrame:
    x = rng.normal(size=n)
    t = pd.DataFrame({
        "account_id": [f"A{i % (n // 3)}" for i in range(n)],
        "x": x,
        "near": x + rng.normal(0, 0.02, n),  # collinear with x: the VIF check drops one
        "count": rng.integers(0, 5, n).astype(float),
        "flag": (rng.uniform(size=n) < 0.3).astype(float),
        "same": np.ones(n),  # constant: dropped
        "seg": pd.array(rng.choice(["a", "b", "c"], n), dtype="string"),
        "cat": pd.Categorical(rng.choice(["lo", "mid", "hi"], n),
                              categories=["mid", "lo", "hi"]),
        "gappy": np.where(rng.uniform(size=n) < 0.05, np.nan, rng.normal(size=n)),
    })
    eta = 0.8 + 0.6 * x - 0.5 * t["flag"] + 0.2 * t["count"]
    t["renewed"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    return t


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shared_terms_follow_changed_columns(seed):
    """A feature whose values, blanks, dtype, rows or unit change between fits is made
    again: each shared fit equals the unshared one."""
    rng = np.random.default_rng(seed)
    base = _table(rng, 600)
    base["obj"] = pd.Series(np.where(base["count"] > 2, "hi", "lo"), dtype=object)
    small = rng.integers(0, 3, len(base))  # whole numbers as Python objects below
    feats = ["x", "near", "count", "flag", "same", "seg", "cat", "gappy", "obj"]
    variants = [
        (base, {}),
        (base, {}),  # all reused
        (base.assign(count=base["count"] * 2), {}),  # new values, unit "sd"
        (base, {"count": (2.0, "per 2")}),  # same values, another unit
        (base, {"count": (2, "per 2")}),  # the same unit as an int
        (base.assign(gappy=base["gappy"].fillna(0.0)), {}),  # blanks filled: more rows
        (base.assign(seg=base["seg"].astype(object)), {}),  # another dtype
        (base.assign(seg=base["seg"].replace({"a": "b"})), {}),  # a level gone
        (base.assign(cat=base["cat"].cat.reorder_categories(["hi", "mid", "lo"])), {}),
        (base.iloc[::-1], {}),  # the rows in another order
        (base.iloc[50:], {}),  # fewer rows
        (base.set_axis(base.index + 1000), {}),  # other labels
        (base.assign(flag=1.0 - base["flag"]), {"flag": "sd"}),
        (base.assign(obj=pd.Series(small.tolist(), dtype=object)), {}),
        # the same values as Python objects, printed otherwise (levels "1.0", not "1")
        (base.assign(obj=pd.Series(small.astype(float).tolist(), dtype=object)), {}),
    ]
    shared = model.SharedTerms()
    for table, units in variants:
        kw = dict(units=units, reduce_features=False, marginal_effects=True)
        assert_same_model(drivers.fit_renewal_model(table, feats, shared=shared, **kw),
                          drivers.fit_renewal_model(table, feats, **kw))


def test_shared_terms_reuse_an_unchanged_feature(monkeypatch):
    """The second fit on the same column makes no term for it (the sharing happens)."""
    rng = np.random.default_rng(5)
    t = _table(rng, 300)
    calls = counted_make_terms(monkeypatch)
    shared = model.SharedTerms()
    for k in range(3):
        t = t.assign(extra=(rng.uniform(size=len(t)) < 0.5).astype(float))
        drivers.fit_renewal_model(t, ["x", "seg", "extra"], shared=shared,
                                  marginal_effects=False)
        assert calls.count(("x",)) == 1 and calls.count(("seg",)) == 1
        assert calls.count(("extra",)) == k + 1
