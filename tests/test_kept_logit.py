"""The logistic fits with the prediction kept per parameter vector (issue 22) give what
``sm.Logit`` gave, bit for bit.

:class:`playbook.analyses.drivers.logit.KeptLogit` hands back the prediction at the last
parameters instead of computing it again (three times per Newton step), and
:func:`playbook.analyses.drivers.model.fit_logit` passes the cluster codes to statsmodels
as floats (numpy lists distinct floats by sorting, integers by a slower hash). The previous
``fit_logit`` (``sm.Logit``, integer groups) is kept here as the reference and compared
with exact equality on hand-made data (clusters, no clusters, a separated outcome, one
column, every account its own cluster) and on the small demo (the renewal model, the
trigger odds ratios, the expansion model).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import PerfectSeparationError

from playbook.analyses import drivers, expansion, triggers
from playbook.analyses.drivers import model as driver_model
from playbook.analyses.drivers.logit import KeptLogit
from playbook.context import AnalysisContext


def reference_fit(y: pd.Series, X: pd.DataFrame, groups: np.ndarray | None):
    """The previous ``fit_logit``'s maximum-likelihood fit: ``sm.Logit``, integer groups."""
    cov = ({"cov_type": "cluster", "cov_kwds": {"groups": groups}} if groups is not None
           else {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm.Logit(y, X, check_rank=False).fit(disp=0, maxiter=200, **cov)


def hand_data(n: int = 400, seed: int = 3) -> tuple[pd.Series, pd.DataFrame, np.ndarray]:
    """Two features with known effects, a yes/no one, accounts of 1-4 decisions each."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"usage": rng.normal(size=n), "tickets": rng.poisson(2, size=n),
                      "sponsor": rng.integers(0, 2, size=n).astype(float)})
    eta = 0.8 + 0.9 * X["usage"] - 0.3 * X["tickets"] + 0.5 * X["sponsor"]
    y = pd.Series((rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float))
    groups = pd.factorize(rng.integers(0, n // 2, size=n))[0]
    return y, sm.add_constant(X), groups


def assert_same_fit(got, want) -> None:
    assert np.array_equal(np.asarray(got.params), np.asarray(want.params))
    assert np.array_equal(np.asarray(got.cov_params()), np.asarray(want.cov_params()))
    assert np.array_equal(np.asarray(got.bse), np.asarray(want.bse))
    assert np.array_equal(np.asarray(got.pvalues), np.asarray(want.pvalues))
    assert got.llf == want.llf
    assert got.mle_retvals["iterations"] == want.mle_retvals["iterations"]


# --------------------------------------------------------------------------- by hand
@pytest.mark.parametrize("clustered", [True, False])
def test_the_kept_fit_is_sm_logit_s_to_the_last_bit(clustered):
    y, X, groups = hand_data()
    want = reference_fit(y, X, groups if clustered else None)
    got = driver_model.fit_logit(y, X, [], 1.0, groups=groups if clustered else None)
    assert got["method"] == "mle"
    assert_same_fit(got["result"], want)
    assert isinstance(got["result"].model, KeptLogit)
    # the planted effects are there (so the comparison is of a real fit)
    assert got["result"].params["usage"] == pytest.approx(0.9, abs=0.35)
    if clustered:
        assert got["result"].cov_type == "cluster"
        assert got["result"].n_groups == len(np.unique(groups))


def test_one_column_and_every_account_its_own_cluster():
    y, X, _ = hand_data(n=150, seed=8)
    X = X[["const", "usage"]]
    own = np.arange(len(y))
    gaps = own * 3 + 5  # integer groups that are not 0, 1, ...: the same sums
    want = reference_fit(y, X, own)
    assert_same_fit(driver_model.fit_logit(y, X, [], 1.0, groups=own)["result"], want)
    assert_same_fit(driver_model.fit_logit(y, X, [], 1.0, groups=gaps)["result"],
                    reference_fit(y, X, gaps))


def test_a_separated_outcome_falls_back_to_the_same_penalised_fit():
    y, X, groups = hand_data(n=120, seed=5)
    y = pd.Series((X["usage"] > 0).astype(float))  # usage alone splits the outcome
    got = driver_model.fit_logit(y, X, [], 1.0, groups=groups)
    assert got["method"] == "l1" and got["separation"]["detected"]
    alpha = np.array([0.0, 1.0, 1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = sm.Logit(y, X).fit_regularized(method="l1", alpha=alpha, disp=0, maxiter=1000,
                                              trim_mode="off")
    assert np.array_equal(np.asarray(got["params"]), np.asarray(want.params))
    assert got["separation"]["separating_features"] == ["usage"]


def test_predict_is_recomputed_for_other_parameters_and_other_rows():
    y, X, _ = hand_data(n=50)
    model = KeptLogit(y, X)
    plain = sm.Logit(y, X)
    params = np.array([0.1, 0.5, -0.2, 0.3])
    first = model.predict(params)
    assert np.array_equal(first, plain.predict(params))
    assert model.predict(params) is first  # kept
    assert not first.flags.writeable  # a caller cannot change the kept copy
    params[1] = -1.0  # the same array changed in place: computed again
    assert np.array_equal(model.predict(params), plain.predict(params))
    assert np.array_equal(model.predict(params, which="linear"),
                          plain.predict(params, which="linear"))
    other = X.iloc[:7].to_numpy()
    assert np.array_equal(model.predict(params, exog=other), plain.predict(params, exog=other))
    assert np.array_equal(model.predict(params, which="var"), plain.predict(params, which="var"))
    assert np.array_equal(model.predict(list(params)), plain.predict(list(params)))
    assert np.array_equal(model.loglike(params), plain.loglike(params))
    assert np.array_equal(model.hessian(params), plain.hessian(params))


def test_the_kept_prediction_is_not_pickled_nor_kept_after_the_fit():
    y, X, groups = hand_data(n=80)
    result = driver_model.fit_logit(y, X, [], 1.0, groups=groups)["result"]
    assert result.model._kept is None  # fit_logit let it go
    assert np.array_equal(result.predict(), sm.Logit(y, X).predict(result.params.to_numpy()))
    assert result.model._kept is not None
    back = pickle.loads(pickle.dumps(result))
    assert back.model._kept is None
    assert np.array_equal(np.asarray(back.predict()), np.asarray(result.predict()))


def test_a_perfect_prediction_still_raises_or_warns_as_before():
    y = pd.Series([0.0, 0.0, 1.0, 1.0])
    X = sm.add_constant(pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]}))
    outcomes = []
    for cls in (sm.Logit, KeptLogit):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                cls(y, X).fit(disp=0, maxiter=200)
                outcomes.append(sorted({w.category.__name__ for w in caught}))
            except PerfectSeparationError as exc:
                outcomes.append(str(exc))
    assert outcomes[0] == outcomes[1]


# --------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo(small_demo_run):
    params, data = small_demo_run
    return AnalysisContext(params, data.tables)


class _PlainLogit(sm.Logit):
    """``sm.Logit`` as it is, with the no-op ``forget`` that ``fit_logit`` calls."""

    def forget(self) -> None:  # noqa: D102 - see the class
        pass


@pytest.fixture
def reference_code(monkeypatch):
    """The previous code: ``sm.Logit`` with the integer groups."""
    def fit_logit(y, X, terms, penalty, groups=None, diagnose=True):
        with monkeypatch.context() as mp:
            mp.setattr(driver_model, "KeptLogit", _PlainLogit)
            return original(y, X, terms, penalty, groups=None if groups is None else
                            _IntegerGroups(groups), diagnose=diagnose)

    original = driver_model.fit_logit
    return fit_logit


class _IntegerGroups(np.ndarray):
    """Cluster codes whose ``astype(float)`` stays integer: the previous call's groups."""

    def __new__(cls, codes: np.ndarray) -> _IntegerGroups:
        return np.asarray(codes).view(cls)

    def astype(self, *args, **kwargs) -> np.ndarray:  # noqa: D102 - see the class
        return np.asarray(self)


def test_the_demo_renewal_model_and_trigger_odds_are_the_previous_code_s(demo,
                                                                        reference_code,
                                                                        monkeypatch):
    ctx, p = demo, demo.params
    features, units = ctx.model_features, ctx.features_built["units"]

    def both(call):
        got = call()
        with monkeypatch.context() as mp:
            mp.setattr(driver_model, "fit_logit", reference_code)
            want = call()
        return got, want

    got, want = both(lambda: drivers.fit_renewal_model(ctx.modelling_table, features,
                                                       units=units))
    assert want.checks["clustering"]["applied"]
    pd.testing.assert_frame_equal(got.coefficients, want.coefficients, check_exact=True)
    assert_same_fit(got.result, want.result)
    got, want = both(lambda: triggers.churn_after_triggers(
        ctx.renewal_decisions, ctx.tables["triggers"], window_days=p.triggers.churn_window_days,
        min_exposed=p.triggers.min_exposed, table=ctx.modelling_table, features=features,
        units=units))
    assert got["odds_ratio"].notna().any()
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_the_demo_expansion_model_is_the_previous_code_s(demo, reference_code, monkeypatch):
    ctx, e = demo, demo.params.expansion
    table, report = expansion.expansion_table(
        ctx.counted_mrr, ctx.tables, as_of=ctx.as_of, horizon_months=e.horizon_months,
        cutoff_every_months=e.cutoff_every_months, min_rise_share=e.min_rise_share,
        seats_full_share=e.seats_full_share, feature_options=ctx.params.feature_options())

    def fit():
        return expansion.fit_expansion_model(
            table, e.features, folds=ctx.params.drivers.cv_folds,
            seed=ctx.params.drivers.random_seed, min_expansions=5, units=report["units"],
            recorded_after=report.get("recorded_after_cutoff"))

    got = fit()
    with monkeypatch.context() as mp:
        mp.setattr(driver_model, "fit_logit", reference_code)
        mp.setattr(drivers.quality, "fit_logit", reference_code)
        want = fit()
    pd.testing.assert_frame_equal(got.odds_ratios, want.odds_ratios, check_exact=True)
    assert got.auc_by_fold == want.auc_by_fold
    assert got.model.checks["clustering"]["applied"]
