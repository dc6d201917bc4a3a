"""Average marginal effects of a fitted logit and their delta-method standard errors
(:func:`average_marginal_effects`): statsmodels' ``LogitResults.get_margeff(at="overall",
method="dydx", dummy=True)``, the same operations in the same order (so the same floating-point
figures, to the last digit), without the observations x columns x columns array its numerical
Jacobian stacks (about 500 MB on 100,000 decisions): the Jacobian is averaged one coefficient
at a time.

Definitions (``p_i`` the predicted probability of row ``i``, ``f_i = p_i (1 - p_i)`` the
logistic density at its linear predictor, means over the rows):

* continuous column ``k``: ``AME_k = mean(f b_k)`` (probability points per unit, as a share
  0-1);
* yes/no column ``k`` (every value a whole number, least 0 and largest 1: statsmodels' rule, by
  the values, not by the feature's kind): ``AME_k = mean(p(x_k = 1) - p(x_k = 0))``;
* the Jacobian ``J = d AME / d b`` by complex-step differentiation of the continuous effects
  (statsmodels' ``approx_fprime_cs``, steps ``eps * max(|b_l|, 0.1)``), its yes/no rows
  ``mean(f1 x1 - f0 x0)`` (``x1``/``x0`` the row with ``x_k`` set to 1/0); covariance
  ``J V J'`` with ``V`` the coefficients' covariance (cluster-robust when the fit was);
  standard error the square root of its diagonal; normal intervals.

Columns with no variance (the constant) get no effect, as in statsmodels.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

__all__ = ["average_marginal_effects", "dummy_columns"]

#: statsmodels' machine epsilon for the complex step (``statsmodels.tools.numdiff.EPS``).
_EPS = np.finfo(float).eps
#: Rows of the design worked on at a time: the per-row effects, their changed copies and the
#: complex-step products are a block of rows x columns each, not the whole design (at
#: 100,000 decisions they took about 135 MB at once, in the report's busiest moment). A
#: multiple of 64: BLAS works a matrix's rows out in small groups, and a row's last digit
#: can depend on its place in its group (a block of one row differs), so each row keeps
#: the place it has in the whole design.
ROWS_AT_ONCE = 8192


class _RowSums:
    """Sums over the rows of blocks given in turn, added as numpy adds the rows of one
    array (row after row: ``np.add.reduce`` along the first axis), so that the sum over all
    the blocks is the whole array's, to the last digit."""

    def __init__(self) -> None:
        self.total: np.ndarray | None = None

    def add(self, block: np.ndarray) -> None:
        """Add the rows of ``block`` (rows x columns)."""
        self.total = (block.sum(0) if self.total is None
                      else np.add.reduce(np.vstack([self.total[None], block]), axis=0))

    def mean(self, rows: int) -> np.ndarray:
        """The mean over ``rows`` rows (as ``ndarray.mean``: the sum divided by them)."""
        return self.total / rows


def _density(eta: np.ndarray) -> np.ndarray:
    """``exp(-eta) / (1 + exp(-eta))^2``: statsmodels' ``Logit.pdf``, the same formula (real
    or complex)."""
    return np.exp(-eta) / (1 + np.exp(-eta)) ** 2


def _probability(eta: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-eta))``: statsmodels' ``Logit.cdf``."""
    return 1 / (1 + np.exp(-eta))


def _continuous_effects(exog: np.ndarray, params: np.ndarray) -> np.ndarray:
    """Each row's ``f_i b`` (rows x columns), as statsmodels' ``_derivative_exog``."""
    linpred = np.dot(exog, params) + 0.0
    return np.dot(_density(linpred)[:, None], params[None, :])


def dummy_columns(exog: np.ndarray) -> np.ndarray:
    """Positions of the columns whose values are whole numbers with least 0 and largest 1
    (statsmodels' ``_isdummy``: these get the discrete change 0 -> 1)."""
    if not len(exog):
        return np.array([], dtype=int)
    whole = np.all(exog % 1.0 == 0, axis=0)
    return np.flatnonzero((np.max(exog, axis=0) == 1) & (np.min(exog, axis=0) == 0) & whole)


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
    X = np.ascontiguousarray(exog, dtype=float)  # (statsmodels' copy of the design)
    b = np.asarray(params, dtype=float)
    k, n = len(b), len(X)
    varying = X.var(0) != 0
    dummies = dummy_columns(X)
    steps = _EPS * np.maximum(np.abs(b), 0.1)  # the complex steps, one per coefficient
    increments = np.identity(k) * 1j * steps
    effects, by_step = _RowSums(), [_RowSums() for _ in range(k)]
    by_dummy = {j: _RowSums() for j in dummies}
    for start in range(0, max(n, 1), ROWS_AT_ONCE):  # each row's terms, a block at a time
        x = X[start:start + ROWS_AT_ONCE]
        block = _continuous_effects(x, b)
        for j in dummies:  # the discrete change, each row from 0 to 1
            changed = x.copy()
            changed[:, j] = 0
            at0 = _probability(np.dot(changed, b) + 0.0)
            changed[:, j] = 1
            block[:, j] = _probability(np.dot(changed, b) + 0.0) - at0
        effects.add(block)
        # the complex-step Jacobian of the continuous effects, a coefficient at a time
        complex_x = x.astype(complex)  # the complex copy numpy's dot would make each time
        for col in range(k):
            by_step[col].add(_continuous_effects(complex_x, b + increments[col]).imag
                             / steps[col])
        for j in dummies:
            at0, at1 = x.copy(), x.copy()
            at0[:, j], at1[:, j] = 0, 1
            d0 = _density(np.dot(at0, b) + 0.0)[:, None] * at0
            d1 = _density(np.dot(at1, b) + 0.0)[:, None] * at1
            by_dummy[j].add(d1 - d0)
    effects = effects.mean(n)
    jac = np.empty((k, k), order="F")  # statsmodels' averaged Jacobian is column-major:
    # the products below then take the same path, to the last digit
    for col in range(k):
        jac[:, col] = by_step[col].mean(n)
    for j in dummies:
        jac[j, :k] = by_dummy[j].mean(n)
    se = np.sqrt(np.diag(np.dot(np.dot(jac, np.asarray(cov, dtype=float)), jac.T)))
    q = sps.norm.ppf(1 - alpha / 2)
    ame, se = effects[varying], se[varying]
    return {"columns": np.flatnonzero(varying), "ame": ame, "se": se, "low": ame - q * se,
            "high": ame + q * se}
