"""The AUC of a score against a 0/1 outcome (:func:`auc`), shared by the model's quality
(:mod:`playbook.analyses.drivers.quality`) and the leakage guard
(:mod:`playbook.analyses.drivers.leakage`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

__all__ = ["ArrayLike", "auc"]

ArrayLike = Sequence[float] | np.ndarray | pd.Series


def auc(y: ArrayLike, score: ArrayLike) -> float:
    """Area under the ROC curve by the Mann-Whitney rank formula.

    ``AUC = (R1 - n1 (n1 + 1) / 2) / (n1 n0)`` with ``R1`` the sum of the (average, for ties)
    ranks of the scores of the positives (``y == 1``). 1 = perfect ranking, 0.5 = no better
    than chance, 0 = perfectly reversed. NaN when one class is absent.
    """
    y_arr = np.asarray(y, dtype=float)
    s = np.asarray(score, dtype=float)
    n1 = int((y_arr == 1).sum())
    n0 = len(y_arr) - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = sps.rankdata(s)
    return float((ranks[y_arr == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
