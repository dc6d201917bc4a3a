"""The renewal model: a logistic regression of renewal on the features
(:func:`fit_renewal_model`, returning a :class:`DriverModel`), with the checks that run on
every fit (class balance, constant features, VIF, events per feature, separation, several
decisions per account), the coefficient table (odds ratios per stated unit, 95% intervals)
and average marginal effects (probability points, as shares 0-1).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationError,
    PerfectSeparationWarning,
)
from statsmodels.tools.tools import add_constant

from playbook import textfmt as tf
from playbook.analyses.drivers.columns import as_numeric
from playbook.analyses.drivers.design import (
    DEFAULT_UNITS,
    Term,
    apply_terms,
    make_terms,
    sigmoid,
)
from playbook.analyses.drivers.leakage import LEAKAGE_AUC, leakage_screen
from playbook.analyses.drivers.logit import KeptLogit
from playbook.analyses.drivers.margins import average_marginal_effects
from playbook.errors import DriverModelError

__all__ = ["DriverModel", "SharedTerms", "fit_logit", "fit_renewal_model"]


@dataclass
class DriverModel:
    """A fitted renewal model and everything needed to read, check and reuse it.

    Attributes
    ----------
    outcome : str
        Name of the 0/1 outcome column (1 = renewed).
    features : list of str
        Features kept in the model (after the VIF and events-per-feature checks).
    coefficients : DataFrame
        One row per design column (a numeric feature, or a level of a categorical one):
        ``feature``, ``unit`` (what one step of the variable is), ``coef`` (log-odds of
        renewal per unit), ``std_err``, ``odds_ratio``, ``or_low``/``or_high`` (95% CI),
        ``p_value``, ``ame`` (average marginal effect: change in the probability of renewal,
        as a share 0-1, per unit; for yes/no features the average discrete change from no to
        yes), ``ame_low``/``ame_high`` (95% CI). Intervals and p-values are NaN for a
        penalised fit.
    n : int
        Decisions used (complete cases).
    events : int
        Non-renewals among them.
    events_per_feature : float
        Decisions in the rarer outcome class per design column.
    method : str
        ``"mle"`` (ordinary maximum likelihood) or ``"l1"`` (penalised fallback).
    checks : dict
        Results of the checks run on every fit; see :func:`fit_renewal_model`.
    result : object
        The statsmodels results object (for the appendix's full regression table).
    """

    outcome: str
    features: list[str]
    coefficients: pd.DataFrame
    n: int
    events: int
    events_per_feature: float
    method: str
    checks: dict[str, Any]
    result: Any = field(repr=False)
    terms: list[Term] = field(default_factory=list, repr=False)
    params: pd.Series = field(default_factory=pd.Series, repr=False)
    design_means: pd.Series = field(default_factory=pd.Series, repr=False)

    def predict(self, table: pd.DataFrame) -> pd.Series:
        """Predicted probability of renewal (share 0-1) per row; NaN where a feature is missing.

        Features are scaled with the units learnt at fit time; a category level not seen in
        training is scored as the reference level.
        """
        X = apply_terms(table, self.terms)
        complete = X.notna().all(axis=1)
        X = add_constant(X, has_constant="add")
        eta = X.fillna(0).to_numpy(dtype=float) @ self.params.reindex(X.columns).to_numpy()
        return pd.Series(sigmoid(eta), index=table.index).where(complete)


def fit_renewal_model(
    table: pd.DataFrame,
    features: Sequence[str],
    *,
    outcome: str = "renewed",
    units: Mapping[str, float | tuple[float, str] | str] | None = None,
    vif_max: float = 10.0,
    min_events_per_feature: float = 10.0,
    reduce_features: bool = True,
    penalty: float = 1.0,
    cluster_by: str | None = "account_id",
    recorded_after: Mapping[str, float] | None = None,
    max_auc: float = LEAKAGE_AUC,
    marginal_effects: bool = True,
    known_auc: Mapping[str, float | None] | None = None,
    shared: SharedTerms | None = None,
) -> DriverModel:
    """Logistic regression of renewal on the features, with checks that run every time.

    Parameters
    ----------
    table : DataFrame
        From :func:`modelling_table` (or any frame with the outcome and feature columns).
    features : sequence of str
        Candidate features. Numeric and boolean columns enter as ``value / scale``; text
        columns (e.g. ``segment``) as dummies against their most frequent level.
    outcome : str
        0/1 column, 1 = renewed.
    units : mapping, optional
        Per feature: ``(scale, label)``, a scale, or ``"sd"`` (per 1 standard deviation).
        Overrides :data:`DEFAULT_UNITS`. Unlisted numeric features use "per 1 SD"; 0/1
        features "yes vs no".
    vif_max : float
        Features are dropped one at a time (the highest VIF first; ties: the one listed last)
        while any variance inflation factor exceeds this.
    min_events_per_feature : float
        Below this many decisions of the rarer outcome per design column the fit is flagged
        and, with ``reduce_features``, limited to the features with the smallest univariate
        likelihood-ratio p-values.
    reduce_features : bool
        Whether to reduce the features when events per feature are too few.
    penalty : float
        L1 weight (log-likelihood units, per coefficient; the intercept is not penalised) of
        the fallback fit used when the outcome is (quasi-)perfectly separated.
    cluster_by : str, optional
        Column of ``table`` naming who made each decision (default ``account_id``). When
        some account has several decisions, the standard errors, intervals and p-values are
        cluster-robust by that column (an account's decisions are not independent
        observations); otherwise, or when the column is absent or None, they are the usual
        maximum-likelihood ones.
    recorded_after : mapping, optional
        Feature -> share of decisions whose value was recorded after their cut-off
        (``report["recorded_after_cutoff"]`` of :func:`modelling_table`): any share above 0
        leaves the feature out as possible leakage.
    max_auc : float
        A feature whose univariate AUC exceeds this is left out as possible leakage
        (:func:`playbook.analyses.drivers.leakage.leakage_screen`, run first, on each
        feature's own non-missing rows).
    marginal_effects : bool
        Whether to compute the average marginal effects and their delta-method intervals
        (``ame``, ``ame_low``, ``ame_high``; NaN when False). A caller that reads only odds
        ratios (the trigger and outcome effects) skips them: on 100,000 decisions they cost
        more than the fit.
    known_auc : mapping, optional
        Univariate AUCs of some features on this same table and outcome (the ``auc`` of an
        earlier :func:`~playbook.analyses.drivers.leakage.leakage_screen`), not computed
        again by the leakage screen.
    shared : SharedTerms, optional
        Each feature's term, design columns and constancy kept from earlier fits given the
        same :class:`SharedTerms` and reused where the feature's values on this fit's rows
        are the same (fits that differ by one feature, as the trigger types' in
        :func:`playbook.analyses.triggers.churn_after_triggers`, make the common ones
        once); the same model as without.

    Returns
    -------
    DriverModel
        ``checks`` holds: ``clustering`` (by, groups, decisions, applied),
        ``rows_dropped_missing`` (decisions without a complete set of
        features), ``class_balance`` (n, renewed, not_renewed, share_renewed), ``constant``
        (features dropped for having one value), ``vif`` (feature -> VIF of the kept
        features), ``vif_dropped`` (feature -> VIF when dropped), ``events_per_feature``
        (value, minimum, below_minimum, removed features), ``separation`` (detected, reasons,
        separating_features, fallback), ``leakage`` (excluded: feature -> why, auc,
        recorded_after, max_auc, kept) and ``warnings`` (sentences for the notebook).

    Raises
    ------
    DriverModelError
        When fewer than 2 decisions of either outcome remain or no feature is left.
    """
    leakage = leakage_screen(table, list(features), outcome=outcome,
                             recorded_after=recorded_after, max_auc=max_auc,
                             known_auc=known_auc)
    features = leakage["kept"]
    data = table[[outcome, *features]].copy()
    complete = data.notna().all(axis=1)
    data = data.loc[complete]
    y = as_numeric(data[outcome])
    checks: dict[str, Any] = {
        "rows_dropped_missing": int((~complete).sum()),
        "leakage": leakage,
        "warnings": [],
    }
    if leakage["excluded"]:
        checks["warnings"].append(leakage_sentence(leakage["excluded"]))
    if checks["rows_dropped_missing"]:
        checks["warnings"].append(
            f"{checks['rows_dropped_missing']} of {len(table)} decisions lack a feature value "
            "and were left out."
        )
    checks["class_balance"] = _class_balance(y)
    if min(checks["class_balance"]["renewed"], checks["class_balance"]["not_renewed"]) < 2:
        raise _one_outcome_error(checks["class_balance"])
    share = checks["class_balance"]["share_renewed"]
    if share < 0.05 or share > 0.95:
        checks["warnings"].append(
            f"Outcomes are very unbalanced ({share:.0%} renewed): estimates rest on few events."
        )

    kept = _drop_constant(data, list(features), checks, shared=shared, units=units)
    design = _Designs(data, units, shared)
    kept = _drop_high_vif(design, kept, vif_max, checks)
    kept = _limit_to_events(design, y, kept, min_events_per_feature, reduce_features, checks)
    if not kept:
        raise DriverModelError("No usable feature left for the renewal model.",
                               fix="Check the feature report and the checks.")

    terms, columns = design(kept)
    X = add_constant(columns, has_constant="add")
    groups = _cluster_codes(table, data.index, cluster_by, checks)
    fit = fit_logit(y, X, terms, penalty, groups=groups)
    checks["separation"] = fit["separation"]
    if fit["separation"]["detected"]:
        checks["warnings"].append(
            "The outcome is (quasi-)perfectly separated ("
            + "; ".join(fit["separation"]["reasons"])
            + "): a penalised (L1) fit was used, so coefficients are shrunk and no intervals "
            "or p-values are reported."
        )
    n_cols = X.shape[1] - 1
    coefs = _coefficient_table(fit, X, terms, marginal_effects=marginal_effects)
    minority = min(checks["class_balance"]["renewed"], checks["class_balance"]["not_renewed"])
    return DriverModel(
        outcome=outcome,
        features=kept,
        coefficients=coefs,
        n=len(y),
        events=int((y == 0).sum()),
        events_per_feature=minority / n_cols,
        method=fit["method"],
        checks=checks,
        result=fit["result"],
        terms=terms,
        params=fit["params"],
        design_means=X.drop(columns="const").mean(),
    )


def one_outcome_text(renewed: int, not_renewed: int) -> str:
    """Why no model can be fitted when (almost) every decision went one way, in words:
    "All 58 decisions renewed: there is nothing to learn about which accounts leave." ("" when
    both outcomes have at least 2 decisions)."""
    n = renewed + not_renewed
    if n == 0:
        return "No renewal decision to learn from: the data hold none."
    if not_renewed == 0:
        return (f"All {n:,} decision{'s' if n != 1 else ''} renewed: there is nothing to "
                "learn about which accounts leave.")
    if renewed == 0:
        return (f"None of the {n:,} decision{'s' if n != 1 else ''} renewed: there is nothing "
                "to learn about which accounts stay.")
    if min(renewed, not_renewed) < 2:
        return (f"{renewed:,} renewal{'s' if renewed != 1 else ''} and {not_renewed:,} "
                f"non-renewal{'s' if not_renewed != 1 else ''}: too few of one outcome to "
                "learn what separates them.")
    return ""


def _one_outcome_error(balance: dict[str, Any]) -> DriverModelError:
    fix = ("The model needs renewal decisions: contracts longer than a month (a renewals "
           "table, or contract terms) would enable it." if not balance["n"] else
           "The model needs decisions of both outcomes: a longer history, or the renewals "
           "that were lost, would enable it.")
    return DriverModelError(
        one_outcome_text(balance["renewed"], balance["not_renewed"]).rstrip("."), fix=fix)


def leakage_sentence(excluded: Mapping[str, str]) -> str:
    """"Left out as possible leakage: last_csat (recorded after the cut-off for 80% of
    decisions)." (feature names as in the table; the findings use the labels)."""
    return ("Left out as possible leakage: "
            + "; ".join(f"{f} ({why})" for f, why in excluded.items()) + ".")


def _class_balance(y: pd.Series) -> dict[str, Any]:
    renewed = int((y == 1).sum())
    return {
        "n": len(y),
        "renewed": renewed,
        "not_renewed": len(y) - renewed,
        "share_renewed": renewed / len(y) if len(y) else math.nan,
    }


def _drop_constant(data: pd.DataFrame, features: list[str], checks: dict[str, Any], *,
                   shared: SharedTerms | None = None,
                   units: Mapping[str, Any] | None = None) -> list[str]:
    if shared is None:
        constant = [f for f in features if data[f].nunique(dropna=True) < 2]
    else:
        constant = [f for f in features if shared.made(data, f, units).constant]
    checks["constant"] = constant
    if constant:
        checks["warnings"].append(f"Dropped features with a single value: {', '.join(constant)}.")
    return [f for f in features if f not in constant]


def _vif_by_column(X: pd.DataFrame) -> pd.Series:
    """VIF of each column of X (no constant in X; one is added).

    ``VIF_j = 1 / (1 - R2_j)``, with ``R2_j`` from regressing column j on the others and a
    constant: the diagonal of the inverse correlation matrix when it is well conditioned,
    else one least-squares fit per column (as ``statsmodels``' ``variance_inflation_factor``,
    without its full SVD per column, which is slow on long tables). A column with no
    variance, or one the others reproduce exactly, has an infinite VIF.
    """
    A = X.to_numpy(dtype=float)
    A = A - A.mean(axis=0)
    sd = A.std(axis=0)
    values = np.full(A.shape[1], np.inf)
    ok = sd > 0
    if ok.sum() == 1:
        values[ok] = 1.0
    elif ok.sum() > 1:
        Z = A[:, ok] / sd[ok]
        R = Z.T @ Z / len(Z)
        if np.linalg.cond(R) < 1e10:
            values[ok] = np.diag(np.linalg.inv(R))
        else:
            values[ok] = [_vif_lstsq(Z, j) for j in range(Z.shape[1])]
    return pd.Series(values, index=X.columns)


def _vif_lstsq(Z: np.ndarray, j: int) -> float:
    """VIF of centred column j of Z from a least-squares fit on the other columns."""
    y, others = Z[:, j], np.delete(Z, j, axis=1)
    beta = np.linalg.lstsq(others, y, rcond=None)[0]
    ssr = float(np.sum((y - others @ beta) ** 2))
    sst = float(np.sum(y**2))
    return math.inf if ssr <= sst * 1e-12 else sst / ssr


@dataclass(frozen=True)
class _Made:
    """One feature's pieces of a design, made from ``values`` (its column on the fit's
    rows) with the unit ``spec``."""

    values: pd.Series
    spec: Any
    term: Term
    columns: dict[str, pd.Series]
    constant: bool


class SharedTerms:
    """Each feature's term (:func:`make_terms`), design columns (:func:`apply_terms`) and
    whether it has fewer than two values, kept across the fits of
    :func:`fit_renewal_model` given this object, so that fits on the same decisions that
    differ by a feature or two make the common features' pieces once.

    A feature's pieces depend only on its own column on the fit's rows (complete cases)
    and its unit (``units`` over :data:`DEFAULT_UNITS`): they are reused when both are the
    same as when they were made (the column's index, dtype and values, blanks in the same
    places), and made again otherwise, so a fit gives the same model with or without.
    """

    def __init__(self) -> None:
        self._made: dict[str, _Made] = {}

    def made(self, data: pd.DataFrame, feature: str,
             units: Mapping[str, Any] | None) -> _Made:
        """The pieces of ``feature`` on ``data`` (a fit's complete rows) with ``units``."""
        values = data[feature]
        spec = {**DEFAULT_UNITS, **(units or {})}.get(feature)
        kept = self._made.get(feature)
        if kept is not None and _same_values(kept.values, values) and _same_spec(kept.spec,
                                                                                 spec):
            return kept
        term = make_terms(data, [feature], units)[0]
        columns = apply_terms(data, [term])
        kept = _Made(values, spec, term, {c: columns[c] for c in columns.columns},
                     bool(values.nunique(dropna=True) < 2))
        self._made[feature] = kept
        return kept


def _same_values(a: pd.Series, b: pd.Series) -> bool:
    """Whether two columns are the same: the same object, or equal index, dtype and
    values (blanks in the same places; Python objects also printed alike); categories in
    the same order (which decides a declared reference level: unordered categoricals'
    dtypes are equal in any order)."""
    if a is b:
        return True
    if isinstance(a.dtype, pd.CategoricalDtype) and not (
            isinstance(b.dtype, pd.CategoricalDtype)
            and list(a.cat.categories) == list(b.cat.categories)):
        return False
    same = (a.dtype == b.dtype and len(a) == len(b) and a.index.equals(b.index)
            and a.index.dtype == b.index.dtype and a.equals(b))
    # Python objects equal as values may print differently (1 and 1.0), and text levels
    # are their printed forms
    return same and (a.dtype != object or a.astype(str).equals(b.astype(str)))


def _same_spec(a: Any, b: Any) -> bool:
    """Whether two unit specs (None, ``"sd"``, a scale or ``(scale, label)``) are the
    same, of the same types (``1`` and ``1.0`` make the same term, but are kept apart)."""
    return type(a) is type(b) and a == b


class _Designs:
    """The terms and design columns (no constant) of a set of features on one fit's data,
    made once per set: the VIF check, the events-per-feature check and the fit ask for the
    same set in turn. With ``shared`` (:class:`SharedTerms`) each feature's pieces come
    from there."""

    def __init__(self, data: pd.DataFrame, units: Mapping[str, Any] | None,
                 shared: SharedTerms | None = None) -> None:
        self.data, self.units, self.shared = data, units, shared
        self.made: dict[tuple[str, ...], tuple[list[Term], pd.DataFrame]] = {}

    def terms(self, features: Sequence[str]) -> list[Term]:
        """The terms alone (:func:`make_terms`), kept for a later design of the set."""
        key = tuple(features)
        if key in self.made:
            return self.made[key][0]
        if self.shared is not None:
            return [self.shared.made(self.data, f, self.units).term for f in key]
        return make_terms(self.data, key, self.units)

    def __call__(self, features: Sequence[str]) -> tuple[list[Term], pd.DataFrame]:
        key = tuple(features)
        if key not in self.made:
            if self.shared is None:
                terms = make_terms(self.data, key, self.units)
                self.made[key] = (terms, apply_terms(self.data, terms))
            else:
                pieces = [self.shared.made(self.data, f, self.units) for f in key]
                columns = {c: s for m in pieces for c, s in m.columns.items()}
                self.made[key] = ([m.term for m in pieces],
                                  pd.DataFrame(columns, index=self.data.index))
        return self.made[key]


def _drop_high_vif(
    design: _Designs,
    features: list[str],
    vif_max: float,
    checks: dict[str, Any],
) -> list[str]:
    kept = list(features)
    dropped: dict[str, float] = {}
    vif_by_feature: dict[str, float] = {}
    while len(kept) > 1:
        terms, columns = design(kept)
        vif = _vif_by_column(columns)
        owner = {c: t.feature for t in terms for c in t.columns}
        vif_by_feature = vif.groupby(vif.index.map(owner)).max().reindex(kept).to_dict()
        worst = max(vif_by_feature.values())
        if worst <= vif_max:
            break
        tied = [f for f in kept if vif_by_feature[f] >= worst * (1 - 1e-6)]
        drop = tied[-1]
        dropped[drop] = float(worst)
        kept.remove(drop)
    if len(kept) <= 1:
        vif_by_feature = dict.fromkeys(kept, 1.0)
    checks["vif"] = {f: float(v) for f, v in vif_by_feature.items() if f in kept}
    checks["vif_dropped"] = dropped
    if dropped:
        checks["warnings"].append(
            f"Dropped for collinearity (VIF > {vif_max:g}): "
            + ", ".join(f"{f} (VIF {v:.3g})" for f, v in dropped.items())
            + "."
        )
    return kept


def _univariate_p_value(y: pd.Series, X: pd.DataFrame) -> float:
    """Likelihood-ratio p-value of one feature's columns against an intercept-only model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            full = KeptLogit(y, add_constant(X, has_constant="add")).fit(disp=0, maxiter=100)
        except (PerfectSeparationError, np.linalg.LinAlgError):
            return 0.0
    p0 = y.mean()
    ll0 = float(len(y) * (p0 * np.log(p0) + (1 - p0) * np.log(1 - p0)))
    lr = max(2 * (full.llf - ll0), 0.0)
    return float(sps.chi2.sf(lr, X.shape[1]))


def _limit_to_events(
    design: _Designs,
    y: pd.Series,
    features: list[str],
    minimum: float,
    reduce: bool,
    checks: dict[str, Any],
) -> list[str]:
    data = design.data
    terms = design.terms(features)
    n_cols = sum(len(t.columns) for t in terms)
    minority = min(int((y == 1).sum()), int((y == 0).sum()))
    epf = minority / max(n_cols, 1)
    info: dict[str, Any] = {
        "value": epf,
        "minimum": minimum,
        "below_minimum": epf < minimum,
        "removed": [],
        "univariate_p": {},
    }
    checks["events_per_feature"] = info
    if epf >= minimum:
        return features
    msg = (
        f"Only {epf:.1f} decisions of the rarer outcome per model column (rule of thumb: "
        f"at least {minimum:g})"
    )
    if not reduce:
        checks["warnings"].append(msg + ": estimates may be unstable.")
        return features
    p_values = {
        t.feature: _univariate_p_value(y, apply_terms(data, [t])) for t in terms
    }
    info["univariate_p"] = p_values
    budget = max(1, int(minority // minimum))
    kept: list[str] = []
    used = 0
    for t in sorted(terms, key=lambda t: p_values[t.feature]):
        if used + len(t.columns) <= budget or not kept:
            kept.append(t.feature)
            used += len(t.columns)
    kept = [f for f in features if f in kept]
    info["removed"] = [f for f in features if f not in kept]
    info["value_after"] = minority / max(used, 1)
    checks["warnings"].append(
        msg + f": kept the {tf.plural(len(kept), 'feature')} with the smallest univariate "
        "p-values "
        f"({', '.join(kept)}); removed {', '.join(info['removed'])}. Intervals and p-values "
        "after this selection are optimistic."
    )
    return kept


def _separating_features(y: pd.Series, X: pd.DataFrame) -> list[str]:
    """Columns whose values alone split renewals from non-renewals (completely or with ties;
    missing values skipped; none when either outcome has no value)."""
    values = X.to_numpy(dtype=float)
    yv = y.to_numpy(dtype=float)
    x1, x0 = values[yv == 1], values[yv == 0]
    # each column's least and greatest value of either outcome at once (missing skipped;
    # a column without a value of one outcome is not separating)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column: NaN
        lo1, hi1 = np.nanmin(x1, axis=0, initial=np.inf), np.nanmax(x1, axis=0, initial=-np.inf)
        lo0, hi0 = np.nanmin(x0, axis=0, initial=np.inf), np.nanmax(x0, axis=0, initial=-np.inf)
    seen = (~np.isnan(x1)).any(axis=0) & (~np.isnan(x0)).any(axis=0)
    return [col for col, s, a, b, c, d in zip(X.columns, seen, lo1, hi0, lo0, hi1, strict=True)
            if s and (a >= b or c >= d)]


def _cluster_codes(table: pd.DataFrame, rows: pd.Index, cluster_by: str | None,
                   checks: dict[str, Any]) -> np.ndarray | None:
    """Integer group codes of the fitted rows when some group has several decisions (else
    None); records ``checks["clustering"]``."""
    if not cluster_by or cluster_by not in table:
        checks["clustering"] = {"by": None, "groups": None, "decisions": len(rows),
                                "applied": False}
        return None
    ids = table.loc[rows, cluster_by].astype("string").fillna("(none)")
    codes = pd.factorize(ids)[0]
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    applied = 1 < n_groups < len(codes)
    checks["clustering"] = {"by": cluster_by, "groups": n_groups, "decisions": len(codes),
                            "applied": applied}
    return codes if applied else None


def fit_logit(
    y: pd.Series, X: pd.DataFrame, terms: Sequence[Term], penalty: float,
    groups: np.ndarray | None = None, *, diagnose: bool = True,
) -> dict[str, Any]:
    """MLE logit (cluster-robust covariance by ``groups`` when given); on
    (quasi-)separation a penalised L1 fit. Returns params, result, method and separation
    (its ``separating_features`` None when not ``diagnose``: a fit whose parameters alone
    are read, such as a cross-validation fold's, skips that scan of every column)."""
    reasons: list[str] = []
    result = None
    # the groups as floats: statsmodels lists the distinct groups twice (np.unique), which
    # numpy does by hashing for integers and by sorting, ten times faster, for floats; the
    # codes (0, 1, ..., as pd.factorize numbers them) are whole numbers a float holds
    # exactly, and statsmodels numbers the sorted distinct values 0, 1, ... again: the same
    # group of every row, the same sums
    cov = ({"cov_type": "cluster", "cov_kwds": {"groups": groups.astype(float)}}
           if groups is not None else {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # the design's rank (a QR of it, a tenth of a fit on 100,000 rows) only sets
            # the degrees of freedom, which no figure reads (the intervals are normal):
            # not checked; a design without full rank fails the fit or its checks anyway
            result = KeptLogit(y, X, check_rank=False).fit(disp=0, maxiter=200, **cov)
        except (PerfectSeparationError, np.linalg.LinAlgError) as exc:
            reasons.append(f"{type(exc).__name__}: {exc}")
    if result is not None:
        result.model.forget()
    kinds = {w.category for w in caught}
    if PerfectSeparationWarning in kinds:
        reasons.append("statsmodels reported perfect separation")
    if result is not None:
        if not result.mle_retvals.get("converged", True):
            reasons.append("the fit did not converge")
        slopes = result.params.drop("const")
        if (slopes.abs() > 10).any():
            big = ", ".join(slopes.index[slopes.abs() > 10])
            reasons.append(f"huge coefficients (|log-odds| > 10 per unit: {big})")
        if not np.isfinite(result.bse).all():
            reasons.append("standard errors are not finite")
    elif HessianInversionWarning in kinds or ConvergenceWarning in kinds:
        reasons.append("the fit did not converge")
    separation = {
        "detected": bool(reasons),
        "reasons": reasons,
        "separating_features": (_separating_features(y, X.drop(columns="const"))
                                if diagnose else None),
        "fallback": None,
    }
    if not reasons:
        return {"method": "mle", "result": result, "params": result.params,
                "separation": separation}
    alpha = np.full(X.shape[1], float(penalty))
    alpha[list(X.columns).index("const")] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        penalised = KeptLogit(y, X).fit_regularized(
            method="l1", alpha=alpha, disp=0, maxiter=1000, trim_mode="off"
        )
    penalised.model.forget()
    separation["fallback"] = f"fit_regularized(method='l1', alpha={penalty:g})"
    return {"method": "l1", "result": penalised, "params": penalised.params,
            "separation": separation}


def _coefficient_table(
    fit: dict[str, Any], X: pd.DataFrame, terms: Sequence[Term], *,
    marginal_effects: bool = True
) -> pd.DataFrame:
    params: pd.Series = fit["params"]
    cols = [c for c in X.columns if c != "const"]
    feature = {c: t.feature for t in terms for c in t.columns}
    unit = {c: t.unit for t in terms for c in t.columns}
    out = pd.DataFrame(index=pd.Index(cols, name="term"))
    out["feature"] = [feature[c] for c in cols]
    out["unit"] = [unit[c] for c in cols]
    out["coef"] = params[cols].to_numpy()
    out["odds_ratio"] = np.exp(out["coef"])
    binary = [t.binary for t in terms for _ in t.columns]
    if fit["method"] == "mle":
        res = fit["result"]
        ci = res.conf_int(alpha=0.05).loc[cols]
        out["std_err"] = res.bse[cols].to_numpy()
        out["or_low"] = np.exp(ci[0].to_numpy())
        out["or_high"] = np.exp(ci[1].to_numpy())
        out["p_value"] = res.pvalues[cols].to_numpy()
        if marginal_effects:  # as get_margeff(at="overall", dummy=True), computed directly
            mfx = average_marginal_effects(X.to_numpy(dtype=float),
                                           params.reindex(X.columns).to_numpy(),
                                           np.asarray(res.cov_params()), alpha=0.05)
            out["ame"] = mfx["ame"]
            out["ame_low"] = mfx["low"]
            out["ame_high"] = mfx["high"]
        else:
            out["ame"] = out["ame_low"] = out["ame_high"] = np.nan
    else:
        for c in ("std_err", "or_low", "or_high", "p_value", "ame_low", "ame_high"):
            out[c] = np.nan
        out["ame"] = (_average_marginal_effects(params, X, binary) if marginal_effects
                      else np.nan)
    order = ["feature", "unit", "coef", "std_err", "odds_ratio", "or_low", "or_high",
             "p_value", "ame", "ame_low", "ame_high"]
    return out[order]


def _average_marginal_effects(
    params: pd.Series, X: pd.DataFrame, binary: Sequence[bool]
) -> np.ndarray:
    """AME per column: mean discrete change 0 -> 1 for yes/no columns, else mean p(1-p)b."""
    Xv = X.to_numpy(dtype=float)
    b = params.reindex(X.columns).to_numpy()
    p = sigmoid(Xv @ b)
    effects = []
    for j, col in enumerate(c for c in X.columns if c != "const"):
        k = list(X.columns).index(col)
        if binary[j]:
            x1, x0 = Xv.copy(), Xv.copy()
            x1[:, k], x0[:, k] = 1.0, 0.0
            effects.append(float(np.mean(sigmoid(x1 @ b) - sigmoid(x0 @ b))))
        else:
            effects.append(float(np.mean(p * (1 - p)) * b[k]))
    return np.array(effects)
