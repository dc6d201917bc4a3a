"""The odds ratio of an outcome for one 0/1 flag, from the flag's cell counts.

:func:`playbook.analyses.triggers.expansion_after_triggers` fits, per trigger type, a
logistic regression of expansion on the type's flag alone, clustered by account, on up to
1.6 million account cut-offs at 100,000 accounts (8 fits, 10 of notebook 06's 76 CPU
seconds). With one 0/1 covariate the maximum-likelihood fit needs no iterations: the
intercept is the log odds of the outcome without the flag, the slope the log odds ratio
``log(r1 / (1 - r1)) - log(r0 / (1 - r0))`` (``r1``, ``r0``: the outcome's rate with and
without the flag). Its cluster-robust covariance is statsmodels' ``Logit`` one,
``H^-1 S H^-1 x G / (G - 1) x (N - 1) / (N - 2)`` (``H`` the Hessian, ``S`` the sum over
the ``G`` accounts of the outer product of each account's summed scores, ``N`` rows), and
the scores of an account add up from its counts per flag and outcome, so neither needs a
row. :func:`flag_logit` gives the same odds ratio, 95% interval and p-value as
:func:`playbook.analyses.drivers.fit_renewal_model` on the rows (equal to rounding,
``tests/test_triggers_logit.py``), and None whenever that fit would not be the plain
maximum-likelihood one (its checks would drop the flag or fall back to a penalised fit):
the caller then fits the rows.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from playbook.analyses.drivers.leakage import LEAKAGE_AUC

__all__ = ["MAX_LOG_ODDS", "flag_logit"]

#: A slope beyond this (log odds per unit) makes the renewal model's fit fall back to a
#: penalised one (``playbook.analyses.drivers.model.fit_logit``): left to that fit.
MAX_LOG_ODDS = 10.0
_Z = stats.norm.ppf(0.975)


def _flag_auc(n_pos: float, n_neg: float, k_pos: float, k_neg: float) -> float:
    """The flag's univariate AUC for the outcome, folded to 0.5-1 (ties count half), from
    the counts of rows with the outcome (``n_pos``) and without (``n_neg``) and of those
    flagged among each (``k_pos``, ``k_neg``): the leakage screen's ``univariate_auc`` for
    a 0/1 feature."""
    above = k_pos * (n_neg - k_neg)
    tied = k_pos * k_neg + (n_pos - k_pos) * (n_neg - k_neg)
    a = (above + 0.5 * tied) / (n_pos * n_neg)
    return max(a, 1 - a)


def flag_logit(y: np.ndarray, x: np.ndarray, clusters: np.ndarray) -> dict[str, float] | None:
    """Logistic regression of ``y`` (0/1) on the flag ``x`` (0/1) with an intercept.

    ``clusters``: integer codes (0 or more) of who each row belongs to; the covariance is
    cluster-robust by them when some cluster has several rows and there are at least two,
    else the usual maximum-likelihood one (as the renewal model's ``_cluster_codes``).

    Returns ``odds_ratio`` (odds of ``y`` with the flag over without), ``or_low``,
    ``or_high`` (95%), ``p_value`` (two-sided Wald, normal), ``coef`` and ``std_err`` (log
    odds ratio); None when the renewal model's checks would not end in this fit: fewer than
    2 rows of either outcome, a constant flag, a flag whose AUC exceeds
    :data:`~playbook.analyses.drivers.leakage.LEAKAGE_AUC` (left out as leakage), a rate of
    0 or 1 on either side (separation: a penalised fit) or a slope beyond
    :data:`MAX_LOG_ODDS`.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    n = len(y)
    n1 = float(x.sum())
    n0 = n - n1
    events = float(y.sum())
    if min(events, n - events) < 2 or not n1 or not n0:
        return None
    a = float(y @ x)  # events with the flag (counts: exact)
    c = events - a  # and without
    if _flag_auc(events, n - events, a, n1 - a) > LEAKAGE_AUC:
        return None
    if a in (0, n1) or c in (0, n0):
        return None
    r1, r0 = a / n1, c / n0
    coef = math.log(r1 / (1 - r1)) - math.log(r0 / (1 - r0))
    if abs(coef) > MAX_LOG_ODDS:
        return None
    # Hessian of the log-likelihood (per intercept, slope) and its inverse
    w1, w0 = n1 * r1 * (1 - r1), n0 * r0 * (1 - r0)
    hess = -np.array([[w0 + w1, w1], [w1, w1]])
    h_inv = np.linalg.inv(hess)
    codes = np.asarray(clusters, dtype=np.int64)
    groups = int(np.count_nonzero(np.bincount(codes))) if n else 0
    if 1 < groups < n:
        resid = y - np.where(x == 1, r1, r0)  # each row's score: resid x (1, x)
        u0 = np.bincount(codes, weights=resid)
        u1 = np.bincount(codes, weights=resid * x)
        meat = np.array([[u0 @ u0, u0 @ u1], [u0 @ u1, u1 @ u1]])
        cov = h_inv @ meat @ h_inv * groups / (groups - 1) * (n - 1) / (n - 2)
    else:
        cov = -h_inv
    se = math.sqrt(cov[1, 1])
    return {"coef": coef, "std_err": se, "odds_ratio": math.exp(coef),
            "or_low": math.exp(coef - _Z * se), "or_high": math.exp(coef + _Z * se),
            "p_value": float(2 * stats.norm.sf(abs(coef / se)))}
