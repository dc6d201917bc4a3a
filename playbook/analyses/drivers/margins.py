"""Average marginal effects of a fitted logit and their delta-method standard errors
(:func:`average_marginal_effects`), computed directly from the design: the same figures as
statsmodels' ``LogitResults.get_margeff(at="overall", method="dydx", dummy=True)`` without
its numerical Jacobian, which holds an observations x columns x columns array (about 500 MB
on 100,000 decisions) and costs more than the fit.

Definitions (``p_i`` the predicted probability of row ``i``, ``f_i = p_i (1 - p_i)`` the
logistic density at its linear predictor, means over the ``N`` rows):

* continuous column ``k``: ``AME_k = mean(f) * b_k`` (probability points per unit, as a
  share 0-1);
* yes/no column ``k`` (every value 0 or 1, both present: statsmodels' rule, by the values, not
  by the feature's kind): ``AME_k = mean(p_i(x_k = 1) - p_i(x_k = 0))``;
* the Jacobian ``J = d AME / d b`` (columns x columns): for a continuous row
  ``J_kl = mean(f) [k = l] + b_k mean(f (1 - 2p) x_l)``; for a yes/no row
  ``J_kl = mean(f1 x1_l - f0 x0_l)`` with ``x1``/``x0`` the row with ``x_k`` set to 1/0;
  covariance ``J V J'`` with ``V`` the coefficients' covariance (cluster-robust when the fit
  was); standard error the square root of its diagonal.

Columns with no variance (the constant) get no effect, as in statsmodels.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

__all__ = ["average_marginal_effects", "dummy_columns"]


def _logistic_density(eta: np.ndarray) -> np.ndarray:
    """``exp(-eta) / (1 + exp(-eta))^2`` (statsmodels' ``Logit.pdf``, the same formula)."""
    e = np.exp(-eta)
    return e / (1 + e) ** 2


def _logistic(eta: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-eta))


def dummy_columns(exog: np.ndarray) -> np.ndarray:
    """Positions of the columns whose values are whole numbers with minimum 0 and maximum 1
    (statsmodels' ``_isdummy``: these get the discrete change 0 -> 1)."""
    if not len(exog):
        return np.array([], dtype=int)
    whole = np.all(exog % 1.0 == 0, axis=0)
    return np.flatnonzero((exog.min(axis=0) == 0) & (exog.max(axis=0) == 1) & whole)


def average_marginal_effects(
    exog: np.ndarray, params: np.ndarray, cov: np.ndarray, *, alpha: float = 0.05
) -> dict[str, np.ndarray]:
    """Average marginal effects of a logit on the probability (share 0-1 per unit of each
    column), with delta-method standard errors and ``1 - alpha`` normal intervals.

    Parameters
    ----------
    exog : array (N x K)
        The design the model was fitted on, constant included.
    params : array (K)
        Log-odds coefficients, in the columns' order.
    cov : array (K x K)
        Covariance of ``params`` (the fit's ``cov_params()``).

    Returns
    -------
    dict
        ``columns`` (positions of the columns with variance, i.e. all but the constant),
        ``ame``, ``se``, ``low``, ``high`` (one value per such column, in that order).
    """
    X = np.asarray(exog, dtype=float)
    b = np.asarray(params, dtype=float)
    n, k = X.shape
    varying = np.flatnonzero(X.var(axis=0) != 0)
    eta = X @ b
    f = _logistic_density(eta)
    p = _logistic(eta)
    mean_f = f.mean()
    effects = mean_f * b
    jac = np.outer(b, (f * (1 - 2 * p)) @ X / n)
    jac[np.diag_indices(k)] += mean_f
    for j in dummy_columns(X):
        x = X[:, j]
        eta1, eta0 = eta + (1 - x) * b[j], eta - x * b[j]
        effects[j] = float(np.mean(_logistic(eta1) - _logistic(eta0)))
        f1, f0 = _logistic_density(eta1), _logistic_density(eta0)
        row = (f1 - f0) @ X / n  # x1 and x0 equal X outside column j
        row[j] = f1.mean()  # there x1 = 1 and x0 = 0
        jac[j] = row
    se = np.sqrt(np.diag(jac @ np.asarray(cov, dtype=float) @ jac.T))
    q = sps.norm.ppf(1 - alpha / 2)
    ame, se = effects[varying], se[varying]
    return {"columns": varying, "ame": ame, "se": se, "low": ame - q * se,
            "high": ame + q * se}
