"""ArrayPHReg (issue 22) is statsmodels' PHReg with its risk sets built with arrays instead
of a loop over rows, and its score residuals from running sums.

statsmodels' own ``PHSurvivalTime`` and ``PHReg`` are the reference: every index array of
the survival-time object equal (values, dtype, order), the fits' coefficients equal exactly,
their robust standard errors, p-values and intervals to 1e-12 (the score residuals add the
same terms in another order), on the demo's trigger Cox models and on hand-made
cases (ties, entry times, rows censored before the first failure or entering after the last,
strata, a stratum without failures, offsets, one failure).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg, PHSurvivalTime

from playbook.analyses import survival
from playbook.analyses import triggers as tr
from playbook.analyses.drivers import data_start as first_day
from playbook.analyses.phreg import ArrayPHReg, ArraySurvivalTime

FIELDS = ("stratum_rows", "time_s", "exog_s", "status_s", "entry_s", "ufailt", "ufailt_ix",
          "risk_enter", "risk_exit")


def assert_same_survival(got: PHSurvivalTime, want: PHSurvivalTime) -> None:
    assert (got.nstrat, got.nstrat_orig, got.n_obs) == (want.nstrat, want.nstrat_orig,
                                                        want.n_obs)
    assert list(got.stratum_names) == list(want.stratum_names)
    assert (got.offset_s is None) == (want.offset_s is None)
    pairs = [(getattr(got, f), getattr(want, f), f) for f in FIELDS]
    if want.offset_s is not None:
        pairs.append((got.offset_s, want.offset_s, "offset_s"))
    for g, w, name in pairs:
        assert len(g) == len(w), name
        for gs, ws in zip(g, w, strict=True):
            inner = zip(gs, ws, strict=True) if isinstance(ws, list) else [(gs, ws)]
            for a, b in inner:
                assert a.dtype == b.dtype and a.shape == b.shape, name
                assert np.array_equal(a, b), name


def assert_same_fit(args: tuple, kwargs: dict, groups: np.ndarray | None) -> None:
    want = PHReg(*args, **kwargs)
    got = ArrayPHReg(*args, **kwargs)
    assert_same_survival(got.surv, want.surv)
    assert (got.df_model, got.df_resid) == (want.df_model, want.df_resid)
    for by in {None, groups} if groups is None else (None, groups):
        fw, fg = want.fit(disp=0, groups=by), got.fit(disp=0, groups=by)
        assert np.isfinite(fw.params).all()
        np.testing.assert_array_equal(fg.params, fw.params, strict=True)
        for attr in ("bse", "pvalues"):  # NaN where both are (robust, see below)
            np.testing.assert_allclose(getattr(fg, attr), getattr(fw, attr), rtol=1e-12,
                                       atol=0, strict=True)
        np.testing.assert_allclose(fg.conf_int(), fw.conf_int(), rtol=1e-12, atol=1e-15,
                                   strict=True)


def hand_made(seed: int, n: int = 300, *, odd: bool = False) -> tuple[np.ndarray, ...]:
    """Times on a coarse grid (many ties), entries before them (some equal), a third
    censored, rows lying wholly between two failure times (statsmodels keeps them at risk
    from their failure time back to the first: reproduced, not corrected). ``odd``: also a
    row censored before the first failure and one entering after the last (left out of the
    risk sets, so their score residuals, and the robust variance, are NaN in both fits)."""
    rng = np.random.default_rng(seed)
    time = rng.integers(1, 40, n).astype(float)
    entry = np.floor(time * rng.uniform(0, 1, n))
    status = (rng.uniform(size=n) < 0.6).astype(int)
    exog = np.column_stack([rng.integers(0, 2, n), rng.normal(size=n)]).astype(float)
    between = np.arange(2, 8)
    entry[between], time[between], status[between] = 5.2, 5.8, 0  # in (5, 6)
    if odd:
        first = time[status == 1].min()
        time[0], status[0], entry[0] = first - 0.5, 0, 0.0  # censored before any failure
        last = time[status == 1].max()
        time[1], status[1], entry[1] = last + 3, 0, last + 1  # enters after the last one
    return time, status, entry, exog


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_survival_times_and_fits_are_statsmodels_on_hand_made_cases(seed):
    time, status, entry, exog = hand_made(seed)
    groups = np.arange(len(time)) // 3  # accounts of three rows
    assert np.isfinite(ArrayPHReg(time, exog, status=status, entry=entry).fit(
        disp=0, groups=groups).bse).all()
    odd = hand_made(seed, odd=True)
    assert_same_fit((odd[0], odd[3]), {"status": odd[1], "entry": odd[2]}, groups)
    assert_same_fit((time, exog), {"status": status, "entry": entry, "ties": "breslow"},
                    groups)
    assert_same_fit((time, exog), {"status": status, "ties": "efron"}, None)
    strata = np.where(np.arange(len(time)) % 4 == 0, "b", "a")
    strata[-3:] = "z"
    status_z = status.copy()
    status_z[-3:] = 0  # a stratum without failures: left out
    assert_same_fit((time, exog), {"status": status_z, "entry": entry, "strata": strata},
                    groups)
    offset = np.linspace(-0.5, 0.5, len(time))
    assert_same_fit((time, exog[:, :1]), {"status": status, "entry": entry,
                                          "offset": offset}, None)


@pytest.mark.parametrize(("seed", "n"), [(0, 300), (1, 300), (2, 5000), (3, 20_000)])
def test_score_residuals_are_statsmodels_to_rounding(seed, n):
    """Each row's score residuals, summed from running sums over the failure times, equal
    statsmodels' own loop's to 1e-13 of their size, with NaN for the same rows (never at
    risk); with strata, entries, an offset, rows left out, at parameters away from the
    estimate (where the terms do not cancel)."""
    time, status, entry, exog = hand_made(seed, n, odd=True)
    strata = np.arange(n) % 3 if seed % 2 else None
    offset = np.linspace(-0.3, 0.3, n) if seed >= 2 else None
    params = np.array([0.4, -0.7])
    want = PHReg(time, exog, status=status, entry=entry, strata=strata,
                 offset=offset).score_residuals(params)
    got = ArrayPHReg(time, exog, status=status, entry=entry, strata=strata,
                     offset=offset).score_residuals(params)
    assert got.shape == want.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    assert np.isnan(want).any() and not np.isnan(want).all()
    scale = np.nanmax(np.abs(want))
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-13 * scale)


def test_one_failure_and_no_failure():
    time = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    status = np.array([0, 1, 0, 0, 0])
    exog = np.array([[0.0], [1.0], [0.0], [1.0], [0.0]])
    entry = np.array([0.0, 0.0, 1.0, 2.0, 2.5])
    assert_same_survival(ArraySurvivalTime(time, status, exog, None, entry),
                         PHSurvivalTime(time, status, exog, None, entry))
    got = ArraySurvivalTime(time, status, exog, None, entry)
    # row 0 is censored before the only failure (time 2), row 4 enters after it: left out;
    # rows 1-3 all enter the risk set (going back in time) at that failure
    assert got.stratum_rows[0].tolist() == [1, 2, 3]
    assert [r.tolist() for r in got.risk_enter[0]] == [[0, 1, 2]]
    assert [r.tolist() for r in got.ufailt_ix[0]] == [[0]]
    none = ArraySurvivalTime(time, status * 0, exog, None, entry)
    assert none.nstrat == 0 and none.nstrat_orig == 1


def test_trigger_cox_fits_are_statsmodels_on_a_demo_run(small_demo_run):
    _, data = small_demo_run
    d = data.tables
    lifetimes = survival.account_lifetimes(d["accounts"], d.get("churn_events"),
                                           as_of=pd.Timestamp("2026-09-30"),
                                           data_start=first_day(d))
    fitted = 0
    for kind in tr._types(d["triggers"]):
        iv = survival.at_risk_at_a_churn(tr.trigger_intervals(lifetimes, d["triggers"], kind,
                                                              window_days=180))
        if iv["churned"].sum() == 0:
            continue
        groups = pd.factorize(iv["account_id"])[0]
        assert_same_fit((iv["exit_months"].to_numpy(dtype=float),
                         iv[["exposed"]].to_numpy(dtype=float)),
                        {"status": iv["churned"].to_numpy(dtype=int),
                         "entry": iv["entry_months"].to_numpy(dtype=float),
                         "ties": "breslow"}, groups)
        fitted += 1
    assert fitted >= 3


def reference_outer_sum(grads: np.ndarray) -> np.ndarray:
    """statsmodels 0.15's ``PHReg.robust_covariance`` middle term, as it was computed
    (before stop 34)."""
    mat = grads[None, :, :]
    mat = mat.T * mat
    return mat.sum(1)


@pytest.mark.parametrize("rows", [0, 1, 2, 17, 1000, 4097, 60_000])
def test_outer_sum_is_the_parents_sum_bit_for_bit(rows):
    from playbook.analyses.phreg import _outer_sum

    rng = np.random.default_rng(rows)
    for columns in (1, 2, 7, 13, 21):
        grads = rng.normal(size=(rows, columns)) * rng.uniform(1e-3, 1e3, size=(rows, 1))
        grads[rng.uniform(size=grads.shape) < 0.1] = 0.0
        got = _outer_sum(grads)
        np.testing.assert_array_equal(got, reference_outer_sum(grads), strict=True)


def test_hessian_kept_for_the_last_parameters_is_the_parents_and_a_fresh_copy():
    time, status, entry, exog = hand_made(5)
    model = ArrayPHReg(time, exog, status=status, entry=entry, ties="efron")
    parent = PHReg(time, exog, status=status, entry=entry, ties="efron")
    for params in (np.zeros(2), np.array([0.3, -0.2]), np.array([0.3, -0.2]), np.zeros(2)):
        got = model.hessian(params)
        np.testing.assert_array_equal(got, parent.hessian(params), strict=True)
        got[:] = 0.0  # the optimiser's ridge changes its copy in place: not the kept one
        np.testing.assert_array_equal(model.hessian(params), parent.hessian(params),
                                      strict=True)
    model = ArrayPHReg(time, exog, status=status, entry=entry, ties="breslow")
    parent = PHReg(time, exog, status=status, entry=entry, ties="breslow")
    np.testing.assert_array_equal(model.hessian(np.ones(2)), parent.hessian(np.ones(2)))


def designs(seed: int) -> dict[str, np.ndarray]:
    """Designs of every kind statsmodels' constant search tells apart."""
    rng = np.random.default_rng(seed)
    n = 200
    x = rng.normal(size=(n, 2))
    level = rng.integers(0, 3, n)
    dummies = np.column_stack([level == k for k in range(3)]).astype(float)  # sum to 1
    return {
        "plain": x,
        "ones": np.column_stack([x, np.ones(n)]),
        "zero column": np.column_stack([x, np.zeros(n)]),
        "a constant 2": np.column_stack([np.full(n, 2.0), x]),
        "constants 0 and 5": np.column_stack([np.zeros(n), x, np.full(n, 5.0)]),
        "constants 0, 3 and 1": np.column_stack([np.zeros(n), np.full(n, 3.0), x, np.ones(n)]),
        "constants 0 and 0": np.column_stack([np.zeros(n), x, np.zeros(n)]),
        "implicit constant": np.column_stack([x[:, :1], dummies]),
        "zero and implicit": np.column_stack([np.zeros(n), dummies]),
        "collinear": np.column_stack([x, x[:, 0] * 2 - x[:, 1]]),
        "one column": x[:, :1],
    }


@pytest.mark.parametrize("seed", [0, 1])
def test_constant_search_and_rank_are_statsmodels(seed):
    """ArrayPHReg works out the design's rank once for the constant search and the degrees
    of freedom (stop 34): k_constant, const_idx, the model's init keys and degrees of
    freedom are statsmodels' PHReg's on every kind of design, with or without a caller's
    hasconst."""
    time, status, entry, _ = hand_made(seed, n=200)
    for name, exog in designs(seed).items():
        for extra in ({}, {"hasconst": True}, {"hasconst": False}):
            want = PHReg(time, exog, status=status, entry=entry, **extra)
            got = ArrayPHReg(time, exog, status=status, entry=entry, **extra)
            assert got.k_constant == want.k_constant, (name, extra)
            assert got.data.k_constant == want.data.k_constant, (name, extra)
            assert got.data.const_idx == want.data.const_idx, (name, extra)
            assert got._init_keys == want._init_keys, (name, extra)
            assert (got.df_model, got.df_resid) == (want.df_model, want.df_resid), name
    found = {name: PHReg(time, exog, status=status, entry=entry).k_constant
             for name, exog in designs(seed).items()}
    assert found["plain"] == 0 and found["ones"] == found["implicit constant"] == 1
    bad = designs(seed)["plain"].copy()
    bad[0, 0] = np.inf
    with pytest.raises(Exception) as want_error:
        PHReg(time, bad, status=status, entry=entry, missing="none")
    with pytest.raises(type(want_error.value), match="inf or nans"):
        ArrayPHReg(time, bad, status=status, entry=entry, missing="none")
