"""The odds ratio of expansion after a trigger from the flag's counts (issue 22) is the
renewal model's logistic fit on the rows.

:func:`playbook.analyses.triggers_logit.flag_logit` replaces, on large tables,
:func:`playbook.analyses.drivers.fit_renewal_model` on one 0/1 flag clustered by account
(statsmodels' ``Logit``, Newton iterations, cluster-robust covariance). That fit stays the
reference here: the same odds ratio, interval and p-value to rounding (relative 1e-10) on
the demo's expansion rows of every trigger type and on hand-made cases (accounts of one or
several rows, a single account, unequal cluster sizes), and None exactly where the row fit
is not the plain maximum-likelihood one (a rate of 0 or 1: its penalised fallback; a flag
sorting the outcome: left out as leakage; too few events; a constant flag).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import drivers
from playbook.analyses import triggers as tr
from playbook.analyses.triggers_logit import flag_logit
from playbook.context import AnalysisContext
from playbook.errors import DriverModelError

COLUMNS = ["odds_ratio", "or_low", "or_high", "p_value"]


def row_fit(y: np.ndarray, x: np.ndarray, accounts: np.ndarray) -> pd.Series:
    """The previous code: the renewal model's fit on the rows (as
    ``expansion_after_triggers`` called it), its flag's row of coefficients."""
    tab = pd.DataFrame({"account_id": accounts, "expanded": y, "trigger": x})
    model = drivers.fit_renewal_model(tab, ["trigger"], outcome="expanded",
                                      reduce_features=False,
                                      units={"trigger": (1.0, "trigger vs none")},
                                      marginal_effects=False)
    row = model.coefficients.set_index("feature").loc["trigger"]
    return pd.concat([row, pd.Series({"method": model.method})])


def assert_close(fast: dict, want: pd.Series) -> None:
    for c in COLUMNS:
        assert fast[c] == pytest.approx(float(want[c]), rel=1e-10, abs=0), c


def random_case(seed: int, n: int, accounts: int, b: float = 0.8
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    who = rng.integers(0, accounts, n)
    x = (rng.uniform(size=n) < 0.2).astype(float)
    frailty = rng.normal(0, 0.7, accounts)[who]  # rows of one account move together
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(1.5 - b * x - frailty))).astype(float)
    return y, x, np.array([f"A{i:05d}" for i in who])


@pytest.mark.parametrize(("seed", "n", "accounts"), [(0, 3000, 400), (1, 800, 800),
                                                     (2, 5000, 60), (3, 400, 1)])
def test_counts_fit_is_the_row_fit_on_random_cases(seed, n, accounts):
    """Clusters of several rows (robust), one row each (no clustering: the usual
    covariance), a single account (likewise)."""
    y, x, ids = random_case(seed, n, accounts)
    fast = flag_logit(y, x, pd.factorize(ids)[0])
    want = row_fit(y, x, ids)
    assert want["method"] == "mle"
    assert_close(fast, want)
    assert fast["coef"] == pytest.approx(float(want["coef"]), rel=1e-10)
    assert fast["std_err"] == pytest.approx(float(want["std_err"]), rel=1e-10)


def test_by_hand_without_clusters():
    """Rates 3/10 with the flag, 2/10 without: log OR = log((3/7) / (2/8)), variance
    1/3 + 1/7 + 1/2 + 1/8 (Woolf's, the maximum-likelihood one for a 2x2 table)."""
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], dtype=float)
    x = np.r_[np.ones(10), np.zeros(10)]
    fast = flag_logit(y, x, np.arange(20))
    assert fast["coef"] == pytest.approx(np.log((3 / 7) / (2 / 8)), rel=1e-12)
    assert fast["std_err"] == pytest.approx(np.sqrt(1 / 3 + 1 / 7 + 1 / 2 + 1 / 8), rel=1e-12)
    assert_close(fast, row_fit(y, x, np.arange(20).astype(str)))


def test_none_where_the_row_fit_is_not_the_plain_fit():
    y, x, ids = random_case(5, 600, 100)
    codes = pd.factorize(ids)[0]
    every = y.copy()
    every[x == 1] = 1.0  # every flagged row has the outcome: separation, penalised fit
    assert flag_logit(every, x, codes) is None
    assert row_fit(every, x, ids)["method"] == "l1"
    assert flag_logit(y, np.zeros_like(x), codes) is None  # constant: dropped
    with pytest.raises(DriverModelError):
        row_fit(y, np.zeros_like(x), ids)
    # 480 of 500 events flagged, 15 of 500 others: AUC (1 + 0.96 - 0.03) / 2 = 0.965, left
    # out as leakage (the log odds ratio, log(32 x 24.25) = 6.7, is no separation)
    outcome = np.r_[np.ones(500), np.zeros(500)]
    nearly = np.r_[np.ones(480), np.zeros(20), np.ones(15), np.zeros(485)]
    many = np.r_[ids, ids[:400]]
    assert flag_logit(outcome, nearly, pd.factorize(many)[0]) is None
    with pytest.raises(DriverModelError):
        row_fit(outcome, nearly, many)
    halves = np.r_[np.ones(250), np.zeros(250), np.ones(250), np.zeros(250)]  # AUC 0.5
    assert flag_logit(outcome, halves, pd.factorize(many)[0])["odds_ratio"] == 1.0
    one = np.zeros(600)
    one[3] = 1.0  # a single event
    assert flag_logit(one, x, codes) is None
    with pytest.raises(DriverModelError):
        row_fit(one, x, ids)


def test_expansion_after_triggers_from_counts_is_the_row_fit_on_a_demo_run(
        small_demo_run, monkeypatch):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables, data.quality.problems())
    kw = dict(as_of=pd.Timestamp("2026-09-30"), horizon_months=6, min_rise_share=0.1,
              min_exposed=10)
    rows = tr.expansion_after_triggers(ctx.counted_mrr, data.tables["triggers"], **kw)
    monkeypatch.setattr(tr, "FLAG_FIT_FROM_ROWS", 0)
    counts = tr.expansion_after_triggers(ctx.counted_mrr, data.tables["triggers"], **kw)
    fitted = rows["odds_ratio"].notna()
    assert fitted.sum() >= 3
    pd.testing.assert_frame_equal(counts.drop(columns=COLUMNS), rows.drop(columns=COLUMNS))
    pd.testing.assert_frame_equal(counts[COLUMNS], rows[COLUMNS], check_exact=False,
                                  rtol=1e-10, atol=0)
