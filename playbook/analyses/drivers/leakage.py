"""The leakage guard of the renewal model: features that may carry the outcome itself are
left out before the fit, and named (:func:`leakage_screen`).

Two rules, each enough on its own:

* **Recorded after the cut-off.** A feature whose value was recorded after the decision's
  cut-off (``drivers.cutoff_days`` before it) for some decisions may have been written
  because of the outcome (a satisfaction score taken at the cancellation call). The builders
  of :mod:`playbook.analyses.drivers.features` use only records dated on or before the
  cut-off; a feature whose dates say otherwise (a client variable with a recording date,
  ``report["recorded_after_cutoff"]`` of :func:`~playbook.analyses.drivers.modelling_table`)
  is left out when any decision's value was recorded after its cut-off.
* **Near-perfect separation.** A single feature that alone sorts renewals from
  non-renewals almost perfectly (univariate AUC above :data:`LEAKAGE_AUC`, either way) is
  not a warning sign but, almost always, the outcome written down another way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from playbook.analyses.drivers.columns import as_numeric
from playbook.analyses.drivers.scores import auc

__all__ = ["LEAKAGE_AUC", "leakage_screen", "univariate_auc"]

#: A single feature whose univariate AUC (or 1 - AUC) exceeds this separates renewals from
#: non-renewals too well to be a driver: it is left out as possible leakage.
LEAKAGE_AUC = 0.95


def univariate_auc(y: pd.Series, x: pd.Series) -> float:
    """How well one feature alone ranks renewals above non-renewals, as an AUC folded to
    0.5-1 (``max(AUC, 1 - AUC)``: the direction does not matter); NaN when either outcome
    is absent among the rows with a value.

    Numeric and yes/no features are scored by their value; a categorical one by the renewal
    rate of its level (so a level that only ever renews, or only ever leaves, counts)."""
    ok = x.notna() & y.notna()
    yy, xx = as_numeric(y[ok]), x[ok]
    if yy.nunique() < 2:
        return float("nan")
    if pd.api.types.is_bool_dtype(xx) or pd.api.types.is_numeric_dtype(xx):
        score = as_numeric(xx)
    else:
        text = xx.astype("string")
        score = text.map(yy.groupby(text).mean()).astype(float)
    a = auc(yy.to_numpy(), score.to_numpy())
    return float(max(a, 1 - a)) if np.isfinite(a) else float("nan")


def leakage_screen(
    table: pd.DataFrame,
    features: Sequence[str],
    *,
    outcome: str,
    recorded_after: Mapping[str, float] | None,
    max_auc: float,
    known_auc: Mapping[str, float | None] | None = None,
) -> dict[str, Any]:
    """Which of ``features`` to leave out as possible leakage, and why.

    Parameters
    ----------
    table : DataFrame
        The modelling table (the outcome and feature columns).
    features : sequence of str
        The candidate features.
    outcome : str
        The 0/1 outcome column (1 = renewed).
    recorded_after : mapping or None
        Feature -> share (0-1) of decisions whose value was recorded after their cut-off.
    max_auc : float
        The separation rule's threshold (:data:`LEAKAGE_AUC`).
    known_auc : mapping, optional
        Feature -> its univariate AUC on this same table and outcome, as an earlier
        screen's ``auc`` gave it (None for NaN): not computed again (a caller fitting many
        models that add one column to the same features screens those once).

    Returns
    -------
    dict
        ``excluded`` (feature -> the reason, in words), ``auc`` (feature -> univariate AUC,
        folded to 0.5-1), ``recorded_after`` (feature -> share, the features with a share
        above 0), ``max_auc``, and ``kept`` (the features left, in order).
    """
    after = {f: float(v) for f, v in (recorded_after or {}).items()
             if f in features and v and v > 0}
    known = {f: (float("nan") if v is None else float(v)) for f, v in (known_auc or {}).items()}
    aucs = {f: known[f] if f in known else univariate_auc(table[outcome], table[f])
            for f in features}
    excluded: dict[str, str] = {}
    for f in features:
        if f in after:
            excluded[f] = f"recorded after the cut-off for {after[f]:.0%} of decisions"
        elif np.isfinite(aucs[f]) and aucs[f] > max_auc:
            excluded[f] = (f"alone it sorts renewals from non-renewals almost perfectly "
                           f"(AUC {aucs[f]:.2f})")
    return {
        "excluded": excluded,
        "auc": {f: (None if not np.isfinite(v) else float(v)) for f, v in aucs.items()},
        "recorded_after": after,
        "max_auc": float(max_auc),
        "kept": [f for f in features if f not in excluded],
    }
