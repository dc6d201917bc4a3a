"""The model's design: which features a renewal model starts from
(:func:`default_features`, :func:`chosen_features`), the unit each odds ratio is stated in
(:data:`DEFAULT_UNITS`), and how each feature enters as design columns (:class:`Term`,
:func:`make_terms`, :func:`apply_terms`, :func:`design_matrix`): numeric ``value / scale``,
text as dummies against a reference level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from playbook.analyses.drivers.columns import as_numeric

__all__ = [
    "DEFAULT_MODEL_FEATURES",
    "DEFAULT_UNITS",
    "TENURE_WITH_DERIVED_DECISIONS",
    "Term",
    "apply_terms",
    "chosen_features",
    "default_features",
    "design_matrix",
    "make_terms",
    "sigmoid",
]

#: Features a first model usually starts from (the caller keeps those that were built; see
#: :func:`default_features`). One feature per question in ``domain.md``: usage, surveys,
#: tickets, relationships, tenure, products, contract value, segment, onboarding.
DEFAULT_MODEL_FEATURES: tuple[str, ...] = (
    "exec_sponsor",
    "usage_decline",
    "seat_utilisation",
    "nps_detractor",
    "high_priority_tickets_90d",
    "days_since_exec_contact",
    "days_since_user_contact",
    "strong_user_relationships",
    "tenure_years",
    "products",
    "log2_contract_value",
    "segment",
    "onboarding_incomplete",
    "onboarding_steps",
)

#: Unit each feature's odds ratio is stated in: (scale, label). The model uses
#: ``value / scale``, so an odds ratio is "per <label>". ``"sd"`` = per 1 standard deviation.
DEFAULT_UNITS: dict[str, tuple[float, str] | str] = {
    "active_users": "sd",
    "active_users_change_3m": "sd",
    "usage_change_share_3m": (0.10, "per 10 percentage points of change in active users"),
    "usage_decline": (1.0, "active users fell vs did not"),
    "seat_utilisation": (0.10, "per 10 percentage points of seat utilisation"),
    "last_nps": (1.0, "per NPS point"),
    "nps_detractor": (1.0, "detractor vs not"),
    "last_csat": (1.0, "per CSAT point"),
    "tickets_90d": (1.0, "per ticket"),
    "high_priority_tickets_90d": (1.0, "per high/urgent ticket"),
    "ticket_hours_90d": (10.0, "per 10 support hours"),
    "strong_user_relationships": (1.0, "per strong user relationship"),
    "exec_relationships": (1.0, "per director-level-or-above relationship"),
    "strong_exec_relationships": (1.0, "per strong director-level-or-above relationship"),
    "exec_sponsor": (1.0, "has an executive sponsor vs not"),
    "days_since_user_contact": (30.0, "per 30 days since last user contact"),
    "days_since_exec_contact": (30.0, "per 30 days since last executive contact"),
    "tenure_years": (1.0, "per year of tenure"),
    "products": (1.0, "per product"),
    "contract_value": "sd",
    "log2_contract_value": (1.0, "per doubling of contract value"),
    "onboarding_steps": (1.0, "per onboarding step completed"),
    "onboarding_incomplete": (1.0, "onboarding not finished vs finished"),
}

#: Why a default feature is left out of the model (see :func:`default_features`).
TENURE_WITH_DERIVED_DECISIONS = (
    "left out: without a renewals table every renewal falls on an anniversary but a churn "
    "at any tenure, so tenure at the cut-off partly encodes the outcome"
)


def default_features(built: Sequence[str], *, derived: bool = False,
                     variables: Sequence[str]) -> list[str]:
    """The model features to start from: :data:`DEFAULT_MODEL_FEATURES` that were built,
    then the client's declared ``variables`` that were built (their feature names, the
    ``report["variables"]`` values of :func:`modelling_table`).

    Onboarding enters once: ``onboarding_incomplete`` when a final step is known (it was
    built), otherwise ``onboarding_steps`` (the two together are nearly collinear). With
    ``derived`` decisions (no renewals table, :func:`renewal_decisions`) ``tenure_years``
    is left out (:data:`TENURE_WITH_DERIVED_DECISIONS`).
    """
    have = set(built)
    feats = [f for f in DEFAULT_MODEL_FEATURES if f in have]
    if "onboarding_incomplete" in feats and "onboarding_steps" in feats:
        feats.remove("onboarding_steps")
    if derived and "tenure_years" in feats:
        feats.remove("tenure_years")
    return feats + [v for v in variables if v in have and v not in feats]


def chosen_features(requested: Sequence[str], report: Mapping[str, Any], *,
                    derived: bool = False) -> list[str]:
    """The model's features: the ``requested`` ones (params ``drivers.features``; a client
    variable may be named by its key or its label) that :func:`modelling_table` built, or
    when none is, :func:`default_features` with every declared variable built."""
    names = report.get("variables") or {}
    built = report.get("built") or []
    wanted = [names.get(f, f) for f in requested]
    return [f for f in dict.fromkeys(wanted) if f in built] or default_features(
        built, derived=derived, variables=list(names.values()))


@dataclass(frozen=True)
class Term:
    """How one feature enters the design: numeric (value / scale) or categorical dummies."""

    feature: str
    columns: tuple[str, ...]
    scale: float = 1.0
    unit: str = ""
    reference: str | None = None
    levels: tuple[str, ...] = ()
    binary: bool = False


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-x))``: log-odds to a probability (share 0-1)."""
    return 1.0 / (1.0 + np.exp(-x))


def _is_categorical(s: pd.Series) -> bool:
    return not (pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s))


def make_terms(
    table: pd.DataFrame,
    features: Sequence[str],
    units: Mapping[str, float | tuple[float, str] | str] | None,
) -> list[Term]:
    """Decide how each feature enters the model, from the (training) data."""
    units = {**DEFAULT_UNITS, **(units or {})}
    terms = []
    for f in features:
        s = table[f]
        if _is_categorical(s):
            counts = s.dropna().astype(str).value_counts()
            counts = counts.sort_index().sort_values(ascending=False, kind="stable")
            ref = _declared_reference(s, counts.index)
            others = tuple(lvl for lvl in counts.index if lvl != ref)
            cols = tuple(f"{f}[{lvl}]" for lvl in others)
            terms.append(Term(f, cols, 1.0, f"vs {ref}", ref, others, True))
            continue
        x = as_numeric(s).dropna()
        values = x.to_numpy()
        binary = bool(len(values)) and bool(np.all((values == 0.0) | (values == 1.0)))
        spec = units.get(f)
        if spec is None:
            spec = (1.0, "yes vs no") if binary else "sd"
        if spec == "sd":
            sd = float(x.std(ddof=1)) if len(x) > 1 else 0.0
            scale = sd if sd > 0 else 1.0
            terms.append(Term(f, (f,), scale, f"per 1 SD (= {_fmt(scale)})", binary=binary))
        elif isinstance(spec, tuple):
            terms.append(Term(f, (f,), float(spec[0]), spec[1], binary=binary))
        else:
            scale = float(spec)
            terms.append(Term(f, (f,), scale, f"per {_fmt(scale)}", binary=binary))
    return terms


def _declared_reference(s: pd.Series, observed: pd.Index) -> str:
    """The reference level of a categorical feature: the first category of a pandas
    categorical column that occurs (a client variable's declared reference, see
    :func:`modelling_table`), else the most common level (``observed`` is sorted by count)."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        for level in s.cat.categories.astype(str):
            if level in observed:
                return level
    return observed[0]


def _fmt(x: float) -> str:
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def apply_terms(table: pd.DataFrame, terms: Sequence[Term]) -> pd.DataFrame:
    """The design matrix (without constant) for ``table``; NaN where a value is missing."""
    cols: dict[str, pd.Series] = {}
    for t in terms:
        s = table[t.feature]
        if t.reference is not None:
            txt = s.astype("string")
            for lvl, col in zip(t.levels, t.columns, strict=True):
                cols[col] = (txt == lvl).astype(float).where(txt.notna())
        else:
            cols[t.columns[0]] = as_numeric(s) / t.scale
    return pd.DataFrame(cols, index=table.index)


def design_matrix(
    table: pd.DataFrame,
    features: Sequence[str],
    units: Mapping[str, float | tuple[float, str] | str] | None = None,
) -> tuple[pd.DataFrame, list[Term]]:
    """The model's design columns (no constant) for ``table``, scaled to the stated units.

    The same columns as :func:`fit_renewal_model` builds (numeric ``value / scale``, dummies
    for text features against their most frequent level), for other models on the same
    features (e.g. the Cox model in :mod:`playbook.analyses.survival`). Returns the matrix
    (NaN where a value is missing) and the terms (``feature``, ``columns``, ``unit``).
    """
    terms = make_terms(table, list(features), units)
    return apply_terms(table, terms), terms
