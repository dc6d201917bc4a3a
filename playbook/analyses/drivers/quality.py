"""How well the renewal model predicts: AUC and Brier score, k-fold cross-validation against
a base-rate baseline (:func:`cross_validated_quality`), lift by decile and calibration of
predicted probabilities (shares 0-1) against observed rates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tools.tools import add_constant

from playbook.analyses.drivers.columns import as_numeric
from playbook.analyses.drivers.design import apply_terms, make_terms, sigmoid
from playbook.analyses.drivers.model import fit_logit
from playbook.analyses.drivers.scores import ArrayLike, auc
from playbook.errors import DriverModelError

__all__ = [
    "auc",
    "brier_score",
    "calibration_table",
    "cross_validated_quality",
    "lift_by_decile",
]

def brier_score(y: ArrayLike, p: ArrayLike) -> float:
    """Mean squared difference between outcome (0/1) and predicted probability (0-1)."""
    y_arr, p_arr = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    return float(np.mean((y_arr - p_arr) ** 2))


def _stratified_folds(y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold number per row: each class is shuffled and dealt round-robin to the folds."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    start = 0
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        fold[idx] = (np.arange(len(idx)) + start) % folds
        start += len(idx)
    return fold


def cross_validated_quality(
    table: pd.DataFrame,
    features: Sequence[str],
    *,
    folds: int,
    seed: int,
    outcome: str = "renewed",
    units: Mapping[str, float | tuple[float, str] | str] | None = None,
    penalty: float = 1.0,
) -> dict[str, Any]:
    """k-fold cross-validated AUC and Brier score, against a naive baseline.

    Each fold is scored by a logit fitted on the other folds (same features; units and SD
    scales learnt on the training folds; the L1 fallback on separation). The baseline
    predicts every decision at the training folds' renewal rate. Folds are stratified by
    outcome (``drivers.cv_folds``, ``drivers.random_seed``).

    Pass the features the final model kept (``model.features``): the feature checks of
    :func:`fit_renewal_model` are not repeated inside the folds.

    Returns
    -------
    dict
        ``n``, ``folds``, ``auc`` (mean over folds), ``auc_by_fold``, ``auc_sd``,
        ``auc_baseline`` (0.5), ``brier``, ``brier_by_fold``, ``brier_baseline``,
        ``brier_skill`` (1 - brier / brier_baseline; > 0 beats the baseline),
        ``predictions`` (Series: out-of-fold probability of renewal, indexed like ``table``;
        NaN for rows with a missing feature - use it for :func:`lift_by_decile` and
        :func:`calibration_table`).
    """
    data = table[[outcome, *features]].dropna()
    y = as_numeric(data[outcome]).to_numpy()
    minority = int(min((y == 1).sum(), (y == 0).sum()))
    if minority < folds:
        raise DriverModelError(
            f"Cannot cross-validate with {folds} folds: only {minority} decisions of the "
            "rarer outcome.",
            fix="Use fewer folds (drivers.cv_folds) or more history.",
        )
    fold = _stratified_folds(y, folds, seed)
    oof = np.full(len(y), np.nan)
    aucs, briers, base_briers = [], [], []
    for k in range(folds):
        train, test = fold != k, fold == k
        terms = make_terms(data.iloc[train], list(features), units)
        X_train = add_constant(apply_terms(data.iloc[train], terms), has_constant="add")
        fit = fit_logit(pd.Series(y[train], index=X_train.index), X_train, terms, penalty,
                        diagnose=False)
        X_test = add_constant(apply_terms(data.iloc[test], terms), has_constant="add")
        beta = fit["params"].reindex(X_test.columns).to_numpy()
        p = sigmoid(X_test.to_numpy(dtype=float) @ beta)
        oof[test] = p
        aucs.append(auc(y[test], p))
        briers.append(brier_score(y[test], p))
        base_briers.append(brier_score(y[test], np.full(test.sum(), y[train].mean())))
    brier, base = float(np.mean(briers)), float(np.mean(base_briers))
    return {
        "n": len(y),
        "folds": folds,
        "seed": seed,
        "auc": float(np.nanmean(aucs)),
        "auc_by_fold": aucs,
        "auc_sd": float(np.nanstd(aucs, ddof=1)) if folds > 1 else math.nan,
        "auc_baseline": 0.5,
        "brier": brier,
        "brier_by_fold": briers,
        "brier_baseline": base,
        "brier_skill": 1 - brier / base if base > 0 else math.nan,
        "predictions": pd.Series(oof, index=data.index).reindex(table.index),
    }


def _equal_count_groups(p: np.ndarray, groups: int) -> np.ndarray:
    """Group number 1..groups per row, by descending p, in groups of (nearly) equal size."""
    order = np.argsort(-p, kind="stable")
    group = np.empty(len(p), dtype=int)
    for g, idx in enumerate(np.array_split(order, groups), start=1):
        group[idx] = g
    return group


def lift_by_decile(y: ArrayLike, p: ArrayLike) -> pd.DataFrame:
    """Observed event rate per decile of predicted probability, highest predicted first.

    Parameters
    ----------
    y : array of 0/1
        The event (1 = it happened).
    p : array of float
        Predicted probability of the event (0-1). To rank accounts by risk of *non-renewal*
        pass ``1 - renewed`` and ``1 - p_renew``.

    Returns
    -------
    DataFrame
        One row per decile (1 = highest predicted probability; equal-count groups, fewer
        than 10 when there are fewer than 10 rows): ``n``, ``events``, ``mean_predicted``,
        ``event_rate`` (share), ``lift`` (event_rate / overall rate),
        ``cumulative_share_of_events`` (share of all events in this and higher deciles).
        Rows with a missing y or p are left out.
    """
    y_arr, p_arr = _paired(y, p)
    groups = min(10, len(y_arr))
    g = _equal_count_groups(p_arr, groups)
    frame = pd.DataFrame({"decile": g, "y": y_arr, "p": p_arr})
    out = frame.groupby("decile").agg(
        n=("y", "size"), events=("y", "sum"), mean_predicted=("p", "mean"), event_rate=("y", "mean")
    )
    overall = y_arr.mean()
    out["events"] = out["events"].astype(int)
    out["lift"] = out["event_rate"] / overall if overall > 0 else np.nan
    total = out["events"].sum()
    out["cumulative_share_of_events"] = out["events"].cumsum() / total if total else np.nan
    return out.reset_index()


def calibration_table(
    y: ArrayLike, p: ArrayLike, bins: int = 10
) -> pd.DataFrame:
    """Predicted vs observed rates in equal-count bins of predicted probability.

    Returns
    -------
    DataFrame
        One row per bin, lowest predicted first: ``bin`` (1..bins), ``n``, ``p_min``,
        ``p_max``, ``mean_predicted``, ``observed_rate`` (share with y = 1) and
        ``ci_low``/``ci_high`` (95% Wilson interval of the observed rate). A well calibrated
        model has mean_predicted inside the interval in most bins.
    """
    y_arr, p_arr = _paired(y, p)
    bins = min(bins, len(y_arr))
    g = bins + 1 - _equal_count_groups(p_arr, bins)
    frame = pd.DataFrame({"bin": g, "y": y_arr, "p": p_arr})
    out = frame.groupby("bin").agg(
        n=("y", "size"),
        p_min=("p", "min"),
        p_max=("p", "max"),
        mean_predicted=("p", "mean"),
        observed_rate=("y", "mean"),
    )
    low, high = _wilson(out["observed_rate"].to_numpy() * out["n"].to_numpy(), out["n"].to_numpy())
    out["ci_low"], out["ci_high"] = low, high
    return out.reset_index()


def _paired(y: ArrayLike, p: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=float)
    p_arr = np.asarray(p, dtype=float)
    ok = ~(np.isnan(y_arr) | np.isnan(p_arr))
    return y_arr[ok], p_arr[ok]


def _wilson(
    successes: np.ndarray, n: np.ndarray, z: float = 1.959964
) -> tuple[np.ndarray, np.ndarray]:
    phat = successes / n
    denom = 1 + z**2 / n
    centre = (phat + z**2 / (2 * n)) / denom
    half = z * np.sqrt(phat * (1 - phat) / n + z**2 / (4 * n**2)) / denom
    return centre - half, centre + half
