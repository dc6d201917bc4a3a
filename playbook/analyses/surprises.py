"""Surprise non-renewals: customers who churned while looking healthy before the decision.

Pure functions. "Looking healthy" is judged on what was known at the cut-off (by default
90 days before the decision), never on what happened after it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def surprise_non_renewals(churned: pd.DataFrame, health_at_cutoff: pd.DataFrame, *,
                          healthy_bands: Sequence[str],
                          churn_events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Churned decisions whose account was in a healthy band at the cut-off.

    Parameters
    ----------
    churned : DataFrame
        Non-renewal decisions (``account_id``, ``decision_date``), e.g. from
        ``drivers.renewal_decisions`` filtered on ``renewed == 0`` and the window.
    health_at_cutoff : DataFrame
        ``backtest.health_at_cutoff`` for those decisions (indexed like ``churned``; has
        ``health_score`` and ``health_band``).
    healthy_bands : sequence of str
        Bands that count as "looked healthy" (``thresholds.surprise_bands``).
    churn_events : DataFrame, optional
        Canonical ``churn_events``; ``lost_mrr`` of an account's events on or before the
        decision date (and after its cut-off) is the MRR lost (currency per month).

    Returns
    -------
    DataFrame
        One row per surprise: ``account_id``, ``decision_date``, ``health_score``,
        ``health_band``, ``lost_mrr`` (NaN when unknown), sorted by lost MRR descending.
        Decisions without a score at the cut-off are not counted either way.
    """
    scored = churned.join(health_at_cutoff[["health_score", "health_band"]], how="inner")
    out = scored[scored["health_band"].isin(list(healthy_bands))].copy()
    out["lost_mrr"] = lost_at_decision(out, churn_events)
    cols = ["account_id", "decision_date", "health_score", "health_band", "lost_mrr"]
    return out[cols].sort_values("lost_mrr", ascending=False, na_position="last")


def lost_at_decision(decisions: pd.DataFrame, churn_events: pd.DataFrame | None) -> pd.Series:
    """MRR lost at each decision: the sum of ``lost_mrr`` of the account's churn events
    dated within 90 days before to 31 days after the decision (NaN when none)."""
    if churn_events is None or churn_events.empty or decisions.empty:
        return pd.Series(float("nan"), index=decisions.index)
    pairs = decisions[["account_id", "decision_date"]].reset_index().merge(
        churn_events[["account_id", "churn_date", "lost_mrr"]], on="account_id")
    near = pairs[(pairs["churn_date"] >= pairs["decision_date"] - pd.Timedelta(days=90))
                 & (pairs["churn_date"] <= pairs["decision_date"] + pd.Timedelta(days=31))]
    index_name = decisions.index.name or "index"
    lost = near.groupby(index_name)["lost_mrr"].sum(min_count=1)
    return lost.reindex(decisions.index)


def surprise_summary(surprises: pd.DataFrame, churned_scored: int) -> dict:
    """Counts for the results file: ``surprises`` (non-renewal decisions that looked
    healthy), ``accounts`` (distinct customers among them: an account may fail several
    renewals), ``scored_churns`` (scored non-renewal decisions), ``share``, ``lost_mrr``."""
    n = len(surprises)
    return {"surprises": n, "accounts": int(surprises["account_id"].nunique()),
            "scored_churns": churned_scored,
            "share": n / churned_scored if churned_scored else float("nan"),
            "lost_mrr": float(surprises["lost_mrr"].sum(min_count=1))
            if n else 0.0}
