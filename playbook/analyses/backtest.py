"""Scores as they stood before past decisions: does a score computed at the cut-off predict
what happened at renewal?"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from playbook.analyses.health import health_scores


def health_at_cutoff(decisions: pd.DataFrame, tables: Mapping[str, pd.DataFrame | None], *,
                     weights: Mapping[str, float], bands: Mapping[str, float],
                     cutoff_days: int = 90) -> pd.DataFrame:
    """Health score and band of each decision's account as of ``cutoff_days`` before it.

    Cut-offs are grouped by calendar month (the score is computed as of the month's last
    day on or before the cut-off), so at most one scoring run per month. Returns a frame
    indexed like ``decisions`` (one row per decision, so an account with two decisions
    appears twice) with ``account_id``, ``decision_date``, ``health_score`` and
    ``health_band``. Decisions whose account was not active at the cut-off are left out.
    """
    if decisions.empty:
        return pd.DataFrame(columns=["account_id", "decision_date", "health_score",
                                     "health_band"])
    cut = decisions["decision_date"] - pd.Timedelta(days=cutoff_days)
    month_end = (cut.dt.to_period("M") - 1).dt.to_timestamp(how="end").dt.normalize()
    parts = []
    for day, group in decisions.groupby(month_end):
        scored = health_scores(
            tables["accounts"], as_of=day, weights=weights, bands=bands,
            usage=tables.get("usage"), surveys=tables.get("surveys"),
            tickets=tables.get("tickets"), csm_inputs=tables.get("csm_inputs"))
        got = scored.reindex(group["account_id"])[["health_score", "health_band"]]
        got.index = group.index
        got["account_id"] = group["account_id"]
        got["decision_date"] = group["decision_date"]
        parts.append(got.dropna(subset=["health_score"]))
    return pd.concat(parts) if parts else pd.DataFrame()
