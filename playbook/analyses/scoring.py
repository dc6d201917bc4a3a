"""Scores from measures: a 1-5 rating on the 0-100 scale, a weighted total that
spreads the weight of a missing measure over the others, and a check of weight keys.

Shared by value scores (:mod:`playbook.analyses.segments.value`), the health score
(:mod:`playbook.analyses.health`) and its backtest.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from playbook.errors import ParamsError


def scale_1_5(values: pd.Series) -> pd.Series:
    """Map a 1-5 rating to 0-100: ``(v - 1) / 4 * 100`` (1 -> 0, 3 -> 50, 5 -> 100)."""
    return ((values.astype(float).clip(1, 5) - 1.0) / 4.0 * 100.0).astype(float)


def weighted_total(
    scores: pd.DataFrame, weights: Mapping[str, float]
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Weighted score per row with the weight of missing parts spread over the others.

    For each row, ``contribution_k = w_k * score_k / sum(w_j for available j)``, so the
    contributions sum to the total and the total stays on the 0-100 scale of the parts
    (equivalent to re-scaling the available weights to sum to 1). Parts with weight 0 are
    ignored.

    Returns
    -------
    (contributions, total, used)
        ``contributions`` has one column per weighted part (NaN where the part is missing);
        ``total`` is NaN when no part is available; ``used`` lists the parts used, comma
        separated, in the order of ``weights``.
    """
    names = [k for k, w in weights.items() if w and w > 0]
    w = pd.Series({k: float(weights[k]) for k in names}, dtype=float)
    part = scores.reindex(columns=names).astype(float)
    available = part.notna()
    denom = available.mul(w, axis=1).sum(axis=1)
    contrib = part.mul(w, axis=1).div(denom.where(denom > 0), axis=0)
    total = contrib.sum(axis=1, min_count=1)
    return contrib, total, _used(available.to_numpy(dtype=bool), names, scores.index)


def _used(available: np.ndarray, names: list[str], index: pd.Index) -> pd.Series:
    """The parts available in each row (``available``: rows x ``names``), comma separated
    in the order of ``names`` (object Series on ``index``): each distinct set of parts
    (a number, bit ``j`` for ``names[j]``; a row of ``available`` beyond 62 parts) has its
    text written once, rather than every row's added up part by part (a tenth of the time
    at 100,000 rows)."""
    if not names:  # no weighted part: nothing used
        return pd.Series("", index=index, dtype=object)
    if len(names) <= 62:
        bits = np.left_shift(1, np.arange(len(names), dtype=np.int64))
        sets, which = np.unique(available.astype(np.int64) @ bits, return_inverse=True)
        rows = [[bool(int(s) >> j & 1) for j in range(len(names))] for s in sets.tolist()]
    else:
        sets, which = np.unique(available, axis=0, return_inverse=True)
        rows = sets.tolist()
    texts = np.empty(len(rows), dtype=object)
    texts[:] = ["".join(k + "," for k, on in zip(names, row, strict=True) if on).rstrip(",")
                for row in rows]
    return pd.Series(texts[which.reshape(-1)], index=index, dtype=object)


def check_keys(given: Mapping[str, object], allowed: tuple[str, ...], what: str) -> None:
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise ParamsError(
            f"Unknown {what}: {', '.join(unknown)}.",
            fix=f"Use only {', '.join(allowed)}.",
        )
