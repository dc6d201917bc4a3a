"""The renewal model's per-fit overheads cut (issue 22) without changing a fit.

Notebook 06 fits the renewal model once per trigger type on 123,000 decisions at 100,000
accounts. Each fit made the same features' terms and design three times (VIF check,
events-per-feature check, the fit) and looked for separating features with pandas masks
per column. ``_Designs`` makes a feature set's design once; ``_separating_features`` works
on one numpy array. The previous separation check is kept here as the reference.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from playbook.analyses.drivers import design as design_module
from playbook.analyses.drivers import model


def reference_separating(y: pd.Series, X: pd.DataFrame) -> list[str]:
    """The previous ``_separating_features``."""
    found = []
    for col in X.columns:
        x = X[col]
        x1, x0 = x[y == 1], x[y == 0]
        if x1.min() >= x0.max() or x0.min() >= x1.max():
            found.append(col)
    return found


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_separating_features_are_the_masks_s(seed):
    """Complete separation, separation with a tie at the edge, reversed, a dummy that is 1
    only among renewals, overlapping columns, missing values, one outcome absent."""
    rng = np.random.default_rng(seed)
    n = 200
    y = pd.Series((rng.uniform(size=n) < 0.4).astype(float), index=np.arange(n) * 3)
    X = pd.DataFrame({
        "apart": np.where(y == 1, rng.uniform(5, 9, n), rng.uniform(0, 5, n)),
        "tied": np.where(y == 1, rng.integers(3, 6, n), rng.integers(0, 4, n)).astype(float),
        "reversed": np.where(y == 1, -1.0, 1.0) * rng.uniform(1, 2, n),
        "dummy": np.where(y == 1, rng.integers(0, 2, n), 0).astype(float),
        "noise": rng.normal(size=n),
        "gappy": np.where(rng.uniform(size=n) < 0.2, np.nan,
                          np.where(y == 1, 2.0, 1.0)),
    }, index=y.index)
    got = model._separating_features(y, X)
    assert got == reference_separating(y, X)
    assert {"apart", "tied", "reversed", "dummy", "gappy"} <= set(got)
    assert "noise" not in got
    ones = pd.Series(1.0, index=y.index)
    assert model._separating_features(ones, X) == reference_separating(ones, X) == []


def counted_make_terms(monkeypatch) -> list[tuple[str, ...]]:
    """The features of each call of ``model.make_terms`` from now on (the list fills as
    the calls happen)."""
    calls: list[tuple[str, ...]] = []
    real = model.make_terms

    def counted(table, features, units):
        calls.append(tuple(features))
        return real(table, features, units)

    monkeypatch.setattr(model, "make_terms", counted)
    return calls


def test_designs_make_each_feature_set_once(monkeypatch):
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"a": rng.normal(size=50), "b": rng.integers(0, 3, 50),
                         "seg": rng.choice(["x", "y", "z"], 50)})
    real = model.make_terms
    calls = counted_make_terms(monkeypatch)
    designs = model._Designs(data, {"a": "sd"})
    terms, columns = designs(["a", "seg"])
    again = designs(["a", "seg"])
    assert designs.terms(["a", "seg"]) is terms and again[1] is columns
    pd.testing.assert_frame_equal(columns, design_module.apply_terms(
        data, real(data, ["a", "seg"], {"a": "sd"})))
    designs.terms(["b"])  # terms alone: not kept
    assert calls == [("a", "seg"), ("b",)]


@pytest.mark.parametrize("clustered", [False, True])
def test_logit_without_the_rank_check_is_the_same_fit(clustered):
    """``fit_logit`` skips statsmodels' rank check (a QR of the design): coefficients,
    standard errors and p-values equal a fit with the check, on a well-conditioned design
    and a nearly collinear one (VIF in the hundreds); only the unread degrees of freedom
    could differ."""
    rng = np.random.default_rng(9)
    n = 2000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.integers(0, 2, n).astype(float)})
    X["near"] = X["a"] + rng.normal(0, 0.05, n)
    y = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-0.5 - X["a"] + X["b"])))
                  .astype(float))
    groups = np.arange(n) // 4 if clustered else None
    cov = {"cov_type": "cluster", "cov_kwds": {"groups": groups}} if clustered else {}
    for cols in (["a", "b"], ["a", "b", "near"]):
        design = sm.add_constant(X[cols])
        got = model.fit_logit(y, design, [], 1.0, groups=groups)
        want = sm.Logit(y, design).fit(disp=0, maxiter=200, **cov)
        assert got["method"] == "mle"
        for attr in ("params", "bse", "pvalues"):
            pd.testing.assert_series_equal(getattr(got["result"], attr),
                                           getattr(want, attr), check_exact=True)


@pytest.mark.parametrize("seed", range(4))
def test_separating_features_agree_with_the_reference_on_small_random_designs(seed):
    """Tiny designs where columns go all-missing for one outcome, an outcome is absent or
    a value is infinite: the column-wise minimums and maximums name what the reference
    names."""
    rng = np.random.default_rng(seed)
    for _ in range(400):
        n, k = int(rng.integers(1, 12)), int(rng.integers(1, 5))
        X = pd.DataFrame(rng.integers(0, 4, (n, k)).astype(float),
                         columns=[f"c{i}" for i in range(k)])
        X = X.mask(rng.random((n, k)) < 0.3)
        if rng.random() < 0.1:
            X.iloc[0, 0] = np.inf
        y = pd.Series(rng.integers(0, 2, n).astype(float))
        assert model._separating_features(y, X) == reference_separating(y, X)


def test_a_fold_fit_skips_the_separation_scan_with_the_same_parameters(monkeypatch):
    """``diagnose=False`` (cross-validation folds, which read the parameters only) leaves
    out the scan of every column and nothing else."""
    rng = np.random.default_rng(5)
    n = 400
    x = rng.normal(size=n)
    y = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-x))).astype(float))
    X = sm.add_constant(pd.DataFrame({"x": x}))
    full = model.fit_logit(y, X, [], 1.0)
    scans = []
    monkeypatch.setattr(model, "_separating_features",
                        lambda *a: scans.append(1) or [])
    fold = model.fit_logit(y, X, [], 1.0, diagnose=False)
    assert scans == []
    assert fold["separation"]["separating_features"] is None
    assert full["separation"]["separating_features"] == []
    pd.testing.assert_series_equal(fold["params"], full["params"], check_exact=True)
