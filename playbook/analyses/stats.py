"""Small statistical helpers shared by the analyses.

Everything here is pure and vectorised where it helps: scalars in give scalars out,
arrays (or Series) in give arrays out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

ArrayLike = float | int | npt.ArrayLike


def wilson_interval(k: ArrayLike, n: ArrayLike, z: float = 1.96):
    """Wilson score interval for a binomial proportion ``k / n``.

    Parameters
    ----------
    k : int or array-like
        Number of "successes" (e.g. churned accounts), ``0 <= k <= n``.
    n : int or array-like
        Number of trials (e.g. accounts in the group).
    z : float, default 1.96
        Standard-normal quantile; 1.96 gives a two-sided 95% interval.

    Returns
    -------
    (low, high) : tuple of float, or tuple of numpy arrays
        Bounds of the interval as shares (0-1). ``NaN`` where ``n == 0`` (no data is not
        an error). Unlike the normal ("Wald") interval it stays inside [0, 1] and does not
        collapse to zero width at ``k = 0`` or ``k = n``.

    Notes
    -----
    ``centre = (p + z²/2n) / (1 + z²/n)``, ``half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)``
    with ``p = k / n``. Example: ``k=10, n=100`` gives (0.0552, 0.1744).
    """
    scalar = np.ndim(k) == 0 and np.ndim(n) == 0
    k_arr = np.asarray(k, dtype=float)
    n_arr = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k_arr / n_arr
        z2 = z * z
        denom = 1.0 + z2 / n_arr
        centre = (p + z2 / (2.0 * n_arr)) / denom
        half = z * np.sqrt(p * (1.0 - p) / n_arr + z2 / (4.0 * n_arr * n_arr)) / denom
    empty = ~(n_arr > 0)
    low = np.where(empty, np.nan, np.clip(centre - half, 0.0, 1.0))
    high = np.where(empty, np.nan, np.clip(centre + half, 0.0, 1.0))
    if scalar:
        return float(low), float(high)
    return low, high


def annualise_rate(monthly: ArrayLike, periods: int = 12):
    """Compound a per-period rate to a yearly one: ``1 - (1 - monthly) ** periods``.

    Parameters
    ----------
    monthly : float or array-like
        Rate per period as a share (0.01 = 1% a month).
    periods : int, default 12
        Periods per year.

    Returns
    -------
    float or numpy array
        Share lost over a year if the per-period rate held all year (1% a month → 11.36%).
    """
    out = 1.0 - (1.0 - np.asarray(monthly, dtype=float)) ** periods
    return float(out) if np.ndim(out) == 0 else out


def safe_ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` as a float; ``NaN`` when the denominator is 0 or missing."""
    if denominator is None or not np.isfinite(denominator) or denominator == 0:
        return float("nan")
    return float(numerator) / float(denominator)
