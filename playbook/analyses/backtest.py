"""Scores as they stood before past decisions: does a score computed at the cut-off predict
what happened at renewal?

The health score is recomputed as of the cut-off before each past renewal decision (only
data dated on or before that day), then compared with the outcome: renewal rate by band
(:func:`playbook.analyses.health.band_outcomes`), the AUC of the score with a 95% interval
(:func:`auc_interval`), each measure's own AUC (:func:`measure_signal`), and weights that a
renewal regression on the measures would give (:func:`regression_weights`), checked on
decisions the regression has not seen (:func:`cross_validated_weights`).

Pure functions: frames and parameters in, frames and dicts out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from playbook.analyses.drivers.model import fit_renewal_model
from playbook.analyses.drivers.quality import auc
from playbook.analyses.health import HEALTH_MEASURES, health_scores_on
from playbook.analyses.scoring import weighted_total
from playbook.errors import DriverModelError

BACKTEST_COLUMNS = ["account_id", "decision_date", "health_score", "health_band"]


def health_at_cutoff(decisions: pd.DataFrame, tables: Mapping[str, pd.DataFrame | None], *,
                     weights: Mapping[str, float], bands: Mapping[str, Any],
                     cutoff_days: int, **measure_options: float) -> pd.DataFrame:
    """Health score, band and measure scores of each decision's account before the decision.

    The cut-off of a decision is ``decision_date - cutoff_days``. Cut-offs are grouped by
    calendar month: the score is computed as of the last day of the month *before* the
    cut-off's month (always on or before the cut-off), so there is at most one scoring run
    per month and nothing dated after the cut-off is used.

    Parameters
    ----------
    decisions : DataFrame
        ``account_id``, ``decision_date`` (e.g. :func:`playbook.analyses.drivers.
        renewal_decisions`); other columns are ignored.
    tables : mapping
        Canonical tables by name (``accounts`` required; ``usage``, ``surveys``,
        ``tickets``, ``csm_inputs``, ``outcomes``, ``triggers`` optional).
    weights, bands : mapping
        ``health.weights`` and ``health.bands``.
    cutoff_days : int
        ``drivers.cutoff_days``.
    **measure_options
        ``health.measure_options``, all four (see
        :func:`playbook.analyses.health.measure_scores`), and ``outcome_lookback_days``
        (``outcomes.lookback_days``) when ``tables`` has ``outcomes``, and
        ``trigger_window_days`` (``triggers.churn_window_days``) when it has ``triggers``.

    Returns
    -------
    DataFrame indexed like ``decisions`` (one row per decision, so an account with two
    decisions appears twice): ``account_id``, ``decision_date``, ``health_score``,
    ``health_band``, ``scored_on`` and ``score_<m>`` / ``contrib_<m>`` per measure of
    :data:`playbook.analyses.health.HEALTH_MEASURES`. Decisions whose account was not
    active on the scoring day, or had no measure, are left out.
    """
    measure_cols = [f"{k}_{m}" for k in ("score", "contrib") for m in HEALTH_MEASURES]
    columns = [*BACKTEST_COLUMNS, "scored_on", *measure_cols]
    if decisions.empty:
        return pd.DataFrame(columns=columns)
    when = pd.to_datetime(decisions["decision_date"])
    cut = when - pd.Timedelta(days=cutoff_days)
    month_end = (cut.dt.to_period("M") - 1).dt.to_timestamp(how="end").dt.normalize()
    groups = list(decisions.groupby(month_end))
    # every scoring day at once: the tables are parsed once, not once a day; each day
    # scores only the accounts of its decisions
    scored_on = health_scores_on(
        tables["accounts"], [day for day, _ in groups], weights=weights, bands=bands,
        wanted={day: pd.Index(group["account_id"].unique()) for day, group in groups},
        usage=tables.get("usage"), surveys=tables.get("surveys"),
        tickets=tables.get("tickets"), csm_inputs=tables.get("csm_inputs"),
        outcomes=tables.get("outcomes"), triggers=tables.get("triggers"), **measure_options)
    parts = []
    for day, group in groups:
        scored = scored_on[day]
        got = scored.reindex(group["account_id"])[["health_score", "health_band",
                                                   *measure_cols]]
        got.index = group.index
        got["account_id"] = group["account_id"]
        got["decision_date"] = when.loc[group.index]
        got["scored_on"] = day
        parts.append(got.dropna(subset=["health_score"]))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts)[columns].sort_index()


# --------------------------------------------------------------------------- how well
def auc_interval(y: Sequence[float] | pd.Series, score: Sequence[float] | pd.Series,
                 z: float = 1.96) -> dict[str, float]:
    """AUC of ``score`` for ``y == 1`` with a Hanley-McNeil (1982) 95% interval.

    ``SE = sqrt((A(1-A) + (n1-1)(Q1-A²) + (n0-1)(Q2-A²)) / (n1 n0))`` with
    ``Q1 = A / (2 - A)``, ``Q2 = 2A² / (1 + A)``, ``n1`` positives and ``n0`` negatives;
    the interval ``A ± z SE`` is clipped to [0, 1]. Rows where either value is missing are
    left out. Returns ``auc``, ``low``, ``high``, ``n``, ``positives``, ``negatives``
    (NaN AUC and bounds when a class is absent).
    """
    frame = pd.DataFrame({"y": np.asarray(y, dtype=float),
                          "s": np.asarray(score, dtype=float)}).dropna()
    n1 = int((frame["y"] == 1).sum())
    n0 = len(frame) - n1
    out = {"auc": math.nan, "low": math.nan, "high": math.nan, "n": len(frame),
           "positives": n1, "negatives": n0}
    if n1 == 0 or n0 == 0:
        return out
    a = auc(frame["y"], frame["s"])
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se = math.sqrt(max(a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a), 0.0)
                   / (n1 * n0))
    out.update(auc=a, low=max(0.0, a - z * se), high=min(1.0, a + z * se))
    return out


def measure_signal(past: pd.DataFrame, renewed: pd.Series,
                   weights: Mapping[str, float]) -> pd.DataFrame:
    """Which measures carried the signal: each measure's own AUC at the cut-off.

    Parameters
    ----------
    past : DataFrame
        :func:`health_at_cutoff` output.
    renewed : Series
        1 = renewed (a downgrade counts as renewed), 0 = left; aligned with ``past``.
    weights : mapping
        The current ``health.weights``.

    Returns
    -------
    DataFrame indexed by measure (order of :data:`HEALTH_MEASURES`): ``weight`` (current
    weight as a share of all weights), ``n`` (decisions where the measure was available),
    ``auc``, ``auc_low``, ``auc_high`` (95% Hanley-McNeil), and ``mean_points`` (average
    contribution to the score, points).
    """
    total = sum(float(w) for w in weights.values() if w and w > 0)
    rows = {}
    y = renewed.reindex(past.index).astype(float)
    for m in HEALTH_MEASURES:
        col = f"score_{m}"
        s = past[col].astype(float) if col in past else pd.Series(np.nan, index=past.index)
        res = auc_interval(y, s)
        w = float(weights.get(m, 0) or 0)
        contrib = past.get(f"contrib_{m}")
        rows[m] = {"weight": w / total if total > 0 else math.nan, "n": res["n"],
                   "auc": res["auc"], "auc_low": res["low"], "auc_high": res["high"],
                   "mean_points": float(contrib.mean()) if contrib is not None
                   and contrib.notna().any() else math.nan}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "measure"
    return out


# --------------------------------------------------------------------------- better weights
def regression_weights(past: pd.DataFrame, renewed: pd.Series,
                       measures: Sequence[str] | None = None) -> dict[str, Any]:
    """Weights for the health measures from a renewal regression on them (the driver model).

    Fits :func:`playbook.analyses.drivers.fit_renewal_model` of ``renewed`` on the measure
    scores at the cut-off, each per 10 points of its 0-100 scale. A missing measure score is
    filled with that measure's median (so a decision is not lost for one blank survey; the
    median carries no signal). Measures never available are left out.

    Because every measure is on the same 0-100 scale, a score weighted by the regression's
    coefficients ranks accounts like the fitted model; so the proposed weight of measure
    ``k`` is ``max(b_k, 0) / sum_j max(b_j, 0)`` (``b`` = log-odds of renewal per 10
    points): a measure whose coefficient is zero or negative gets weight 0.

    Returns
    -------
    dict with ``weights`` (measure -> proposed weight, summing to 1; empty when no
    coefficient is positive or the fit failed), ``coefficients`` (DataFrame indexed by
    measure: ``coef``, ``odds_ratio``, ``or_low``, ``or_high``, ``p_value`` per 10 points),
    ``n``, ``events`` (non-renewals), ``method`` and ``error`` (None, or why the fit failed).
    """
    measures = [m for m in (measures or HEALTH_MEASURES)
                if f"score_{m}" in past and past[f"score_{m}"].notna().any()]
    empty = {"weights": {}, "coefficients": pd.DataFrame(
        columns=["coef", "odds_ratio", "or_low", "or_high", "p_value"]),
        "n": 0, "events": 0, "method": None, "error": None}
    if not measures:
        return {**empty, "error": "no health measure was available at the cut-offs"}
    table = pd.DataFrame({m: past[f"score_{m}"].astype(float) for m in measures},
                         index=past.index)
    table = table.fillna(table.median())
    table["renewed"] = renewed.reindex(past.index).astype(float)
    table = table.dropna(subset=["renewed"])
    units = {m: (10.0, "per 10 points") for m in measures}
    try:
        # the weights read odds ratios only: no average marginal effects (on 100,000
        # decisions they cost more than the fit)
        model = fit_renewal_model(table, measures, units=units, marginal_effects=False)
    except DriverModelError as exc:
        return {**empty, "error": str(exc)}
    coefs = model.coefficients.set_index("feature")[["coef", "odds_ratio", "or_low",
                                                     "or_high", "p_value"]]
    coefs = coefs.reindex(measures)
    positive = coefs["coef"].clip(lower=0).fillna(0.0)
    weights = (positive / positive.sum()).to_dict() if positive.sum() > 0 else {}
    coefs.index.name = "measure"
    return {"weights": weights, "coefficients": coefs, "n": model.n, "events": model.events,
            "method": model.method, "error": None}


def cross_validated_weights(past: pd.DataFrame, renewed: pd.Series,
                            weights: Mapping[str, float], *, folds: int,
                            seed: int) -> dict[str, Any]:
    """AUC of the current weights and of regression weights on decisions not used to fit.

    Decisions are split into ``folds`` groups *by account* (an account's decisions stay
    together; accounts are shuffled with ``seed``). For each group,
    :func:`regression_weights` is fitted on the other groups and the held-out decisions are
    scored with those weights (:func:`playbook.analyses.scoring.weighted_total`: a missing
    measure's weight is spread over the available ones, as in the scorecard). The pooled
    held-out scores give ``auc_proposed``; ``auc_current`` is the AUC of the same decisions
    scored with the current ``weights``.

    Returns
    -------
    dict with ``auc_current``, ``auc_proposed`` (Hanley-McNeil dicts, see
    :func:`auc_interval`), ``folds`` and ``failed_folds`` (folds whose fit failed; their
    decisions are left out of both AUCs).
    """
    measures = [m for m in HEALTH_MEASURES if f"score_{m}" in past]
    scores = past[[f"score_{m}" for m in measures]].set_axis(measures, axis=1).astype(float)
    y = renewed.reindex(past.index).astype(float)
    accounts = np.array(sorted(past["account_id"].astype(str).unique()))
    rng = np.random.default_rng(seed)
    group_of = dict(zip(rng.permutation(accounts), np.arange(len(accounts)) % folds,
                        strict=True))
    group = past["account_id"].astype(str).map(group_of)
    proposed = pd.Series(np.nan, index=past.index)
    failed = []
    for k in range(folds):
        test = (group == k).to_numpy()
        if not test.any():
            continue
        fit = regression_weights(past.loc[~test], y.loc[~test])
        if not fit["weights"]:
            failed.append(k)
            continue
        _, total, _ = weighted_total(scores.loc[test], fit["weights"])
        proposed.loc[test] = total
    keep = proposed.notna()
    _, current, _ = weighted_total(scores, weights)
    return {"auc_current": auc_interval(y[keep], current[keep]),
            "auc_proposed": auc_interval(y[keep], proposed[keep]),
            "folds": folds, "failed_folds": failed}
