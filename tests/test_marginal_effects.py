"""Average marginal effects computed directly (issue 22) equal statsmodels' ``get_margeff``.

``_coefficient_table`` read the renewal model's average marginal effects and their intervals
from ``LogitResults.get_margeff(at="overall", method="dydx", dummy=True)``, whose numerical
Jacobian holds an observations x columns x columns array (about 500 MB and 2-4 CPU seconds on
100,000 decisions). :func:`playbook.analyses.drivers.margins.average_marginal_effects`
computes the same figures from the design; ``get_margeff`` is kept here as the reference, on
the demo's renewal model and on hand-made designs (yes/no columns, a numeric column that
happens to be 0/1, whole-number counts, clustered covariance, rare levels, a tiny table):
equal to the last digit (the golden demo results hold every digit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from playbook.analyses.drivers import fit_renewal_model
from playbook.analyses.drivers.margins import average_marginal_effects, dummy_columns
from playbook.context import AnalysisContext


def reference(result) -> dict[str, np.ndarray]:
    """The code replaced: statsmodels' average marginal effects, dummies as 0 -> 1."""
    mfx = result.get_margeff(at="overall", method="dydx", dummy=True)
    ci = mfx.conf_int(alpha=0.05)
    return {"ame": mfx.margeff, "se": mfx.margeff_se, "low": ci[:, 0], "high": ci[:, 1]}


def direct(result) -> dict[str, np.ndarray]:
    return average_marginal_effects(result.model.exog, np.asarray(result.params),
                                    np.asarray(result.cov_params()))


def assert_same(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    """Every figure equal, to the last digit."""
    for key in ("ame", "se", "low", "high"):
        np.testing.assert_array_equal(got[key], want[key], err_msg=key, strict=True)


def _design(seed: int, n: int) -> tuple[pd.Series, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "usage": rng.normal(size=n),
        "tickets": rng.poisson(1.5, n).astype(float),  # whole numbers, not 0/1: continuous
        "sponsor": (rng.uniform(size=n) < 0.4).astype(float),  # a yes/no column
        "products": rng.integers(0, 2, n).astype(float),  # numeric, but 0/1: a dummy to both
        "rare": (rng.uniform(size=n) < 0.03).astype(float),
        "share": np.r_[0.0, 1.0, rng.uniform(size=n - 2)],  # from 0 to 1, not whole: not one
    })
    X = sm.add_constant(X, has_constant="add")
    b = np.array([0.8, 0.5, -0.3, 0.9, 0.4, -1.0, 2.0])
    y = pd.Series((rng.uniform(size=n) < 1 / (1 + np.exp(-X.to_numpy() @ b))).astype(float))
    groups = rng.integers(0, n // 3, n)
    return y, X, groups


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("clustered", [False, True])
def test_hand_made_designs_match_get_margeff(seed, clustered):
    y, X, groups = _design(seed, 3000)
    cov = {"cov_type": "cluster", "cov_kwds": {"groups": groups}} if clustered else {}
    result = sm.Logit(y, X).fit(disp=0, **cov)
    got = direct(result)
    assert_same(got, reference(result))
    # the constant has no effect; the yes/no columns by their values, as statsmodels
    assert list(got["columns"]) == [1, 2, 3, 4, 5, 6]
    assert list(dummy_columns(result.model.exog)) == [3, 4, 5]



@pytest.mark.parametrize("rows_at_once", [64, 128, 1024, 2944])
def test_rows_taken_a_block_at_a_time_give_the_same_digits(monkeypatch, rows_at_once):
    """The design is worked on a block of rows at a time (margins.ROWS_AT_ONCE, 8,192 in a
    run): blocks of a multiple of 64 rows, the last one short (3,000 rows), give
    get_margeff's figures exactly."""
    from playbook.analyses.drivers import margins

    y, X, groups = _design(4, 3000)
    result = sm.Logit(y, X).fit(disp=0, cov_type="cluster", cov_kwds={"groups": groups})
    monkeypatch.setattr(margins, "ROWS_AT_ONCE", rows_at_once)
    assert_same(direct(result), reference(result))

def test_a_continuous_effect_is_the_mean_density_times_the_coefficient():
    """Independent check of the definition, by hand: AME = mean(p(1 - p)) * b for a
    continuous column; the mean discrete change for a yes/no column."""
    y, X, _ = _design(5, 2000)
    result = sm.Logit(y, X).fit(disp=0)
    b = np.asarray(result.params)
    p = 1 / (1 + np.exp(-X.to_numpy() @ b))
    got = direct(result)
    assert got["ame"][0] == pytest.approx(np.mean(p * (1 - p)) * b[1], rel=1e-12)
    x1, x0 = X.to_numpy().copy(), X.to_numpy().copy()
    x1[:, 3], x0[:, 3] = 1.0, 0.0
    change = np.mean(1 / (1 + np.exp(-x1 @ b)) - 1 / (1 + np.exp(-x0 @ b)))
    assert got["ame"][2] == pytest.approx(change, rel=1e-12)


def test_a_tiny_table_and_a_single_column():
    y, X, _ = _design(7, 40)
    result = sm.Logit(y, X[["const", "usage"]]).fit(disp=0)
    assert_same(direct(result), reference(result))


def test_the_demo_renewal_model_keeps_its_marginal_effects(small_demo_run):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    model = ctx.renewal_model
    assert model.method == "mle"
    want = reference(model.result)
    table = model.coefficients
    np.testing.assert_array_equal(table["ame"], want["ame"])
    np.testing.assert_array_equal(table["ame_low"], want["low"])
    np.testing.assert_array_equal(table["ame_high"], want["high"])
    assert_same(direct(model.result), want)


def test_clustered_fit_through_the_renewal_model():
    """fit_renewal_model with several decisions per account: cluster-robust intervals of the
    effects, as get_margeff on the same clustered result."""
    y, X, groups = _design(3, 2500)
    table = X.drop(columns="const").assign(renewed=y.to_numpy(),
                                            account_id=[f"a{g}" for g in groups])
    model = fit_renewal_model(table, ["usage", "tickets", "sponsor", "products"],
                              units={"usage": (1.0, "per unit"), "tickets": (1.0, "per")})
    assert model.checks["clustering"]["applied"]
    want = reference(model.result)
    np.testing.assert_array_equal(model.coefficients["ame_low"], want["low"])
    np.testing.assert_array_equal(model.coefficients["ame"], want["ame"])
