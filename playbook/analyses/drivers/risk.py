"""The renewals coming up, scored: predicted renewal probability (:func:`risk_scores`), the
MRR at stake (:func:`current_mrr`, money a month) and the features pulling each account
down (:func:`contributions`), together in the open book (:func:`open_book`,
:func:`open_book_summary`); whether the model ranks renewals better than chance
(:func:`model_beats_chance`), and the top expected losses (:func:`top_expected_losses`).

Expected loss is the MRR a renewal holds times its probability of not renewing (money a
month); the MRR exposed is all the MRR of the renewals concerned, lost or not.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from playbook.analyses.drivers.columns import as_numeric, numeric_or_nan
from playbook.analyses.drivers.decisions import upcoming_renewals
from playbook.analyses.drivers.design import apply_terms
from playbook.analyses.drivers.model import DriverModel
from playbook.analyses.drivers.table import modelling_table
from playbook.membership import positions

__all__ = [
    "contributions",
    "current_mrr",
    "flag_expected_losses",
    "latest_mrr",
    "missing_lists",
    "model_beats_chance",
    "open_book",
    "open_book_summary",
    "reason_lists",
    "renewals_due_book",
    "open_book_inputs",
    "risk_scores",
    "top_expected_losses",
]


def risk_scores(model: DriverModel, current_table: pd.DataFrame) -> pd.DataFrame:
    """Predicted renewal probability for the renewals coming up.

    Parameters
    ----------
    model : DriverModel
        From :func:`fit_renewal_model`.
    current_table : DataFrame
        :func:`modelling_table` built on :func:`upcoming_renewals` with the *same*
        ``cutoff_days`` as the training table, so features are measured at the same lead time
        before the decision as in training (the cut-off is then on or before ``as_of`` for
        every renewal within ``cutoff_days``).

    Returns
    -------
    DataFrame
        ``account_id``, ``decision_date``, ``p_renew`` and ``p_not_renew`` (shares 0-1),
        ``contract_value_at_risk`` (contract_value x p_not_renew, money; when the table has
        contract_value), ``missing_features`` (comma-separated; no score when not empty).
        Sorted by p_renew, riskiest first.
    """
    p = model.predict(current_table)
    out = pd.DataFrame(
        {
            "account_id": current_table["account_id"],
            "decision_date": current_table["decision_date"],
            "p_renew": p,
            "p_not_renew": 1 - p,
        }
    )
    if "contract_value" in current_table:
        out["contract_value_at_risk"] = as_numeric(current_table["contract_value"]) * (1 - p)
    missing = current_table[model.features].isna()
    out["missing_features"] = missing.apply(
        lambda row: ", ".join(row.index[row.to_numpy()]), axis=1
    ) if len(missing) else pd.Series(dtype="string")
    return out.sort_values("p_renew", kind="stable", na_position="last").reset_index(drop=True)


def contributions(model: DriverModel, table: pd.DataFrame) -> pd.DataFrame:
    """Each design column's pull on each row's log-odds of renewal, against the average.

    ``coef x (x - mean)``, with the mean taken over the decisions the model was fitted on: a
    negative value pulls the row's renewal probability below that of an average decision, a
    positive one lifts it. The columns sum (with the constant and the mean) to the row's
    log-odds, so they rank what drives one account's score. NaN where a value is missing.
    """
    X = apply_terms(table, model.terms)
    means = model.design_means.reindex(X.columns)
    coef = model.params.reindex(X.columns)
    return (X - means) * coef


def current_mrr(
    accounts: pd.DataFrame, mrr: pd.DataFrame | None = None, as_of: pd.Timestamp | str | None = None
) -> pd.Series:
    """MRR per account at ``as_of`` (money a month), indexed by ``account_id``.

    From the ``mrr`` table: the account's MRR in the month of ``as_of`` (or its latest month
    on or before it). Accounts missing there fall back to ``accounts.mrr``, then
    ``accounts.arr / 12``. NaN when none is known.
    """
    acc = accounts.drop_duplicates("account_id")
    index = pd.Index(acc["account_id"].astype("string"), name="account_id")
    out = pd.Series(np.nan, index=index, dtype=float)
    if mrr is not None and len(mrr):
        out = latest_mrr(mrr, index, as_of)
    for col, divisor in (("mrr", 1.0), ("arr", 12.0)):
        if col in acc:
            fallback = numeric_or_nan(acc, col).to_numpy() / divisor
            out = out.fillna(pd.Series(fallback, index=index))
    return out


def latest_mrr(mrr: pd.DataFrame, ids: pd.Index, as_of: pd.Timestamp | str | None
               ) -> pd.Series:
    """Each account of ``ids``'s (distinct, text) last ``mrr`` value given in the ``mrr``
    table (money a month): of its rows with a value, dated on or before ``as_of`` when
    given, the one of the latest month (the last row among those of that month; a row
    without a month counts after every dated one, as sorting by month puts it), indexed
    by ``ids``; NaN for an account without one. Accounts matched as codes
    (:func:`playbook.membership.positions`) and the rows ordered by one stable sort of
    (account, month), not grouped by text."""
    month = pd.to_datetime(mrr["month"])
    code = positions(mrr["account_id"].astype("string"), ids)
    keep = (code >= 0) & mrr["mrr"].notna().to_numpy()
    if as_of is not None:
        keep &= (month <= pd.Timestamp(as_of)).to_numpy()
    rows = np.flatnonzero(keep)
    stamps = month.to_numpy()[rows].astype("datetime64[ns]").view(np.int64)
    stamps = np.where(np.isnat(month.to_numpy()[rows]), np.iinfo(np.int64).max, stamps)
    order = rows[np.lexsort((stamps, code[rows]))]  # stable: ties keep the rows' order
    last = np.ones(len(order), dtype=bool)
    last[:-1] = code[order][1:] != code[order][:-1]
    out = np.full(len(ids), np.nan)
    chosen = order[last]
    out[code[chosen]] = pd.to_numeric(mrr["mrr"].iloc[chosen], errors="coerce").to_numpy(
        dtype=float)
    return pd.Series(out, index=ids, dtype=float, name="mrr")


def open_book(
    model: DriverModel,
    current_table: pd.DataFrame,
    mrr: pd.Series,
    *,
    reasons: int = 3,
    reason_columns: Sequence[str] | None = None,
    at_risk_below: float,
    as_of: pd.Timestamp | str | None = None,
) -> pd.DataFrame:
    """The renewals coming up: probability, MRR at stake and what pulls each one down.

    Parameters
    ----------
    model : DriverModel
        From :func:`fit_renewal_model`.
    current_table : DataFrame
        :func:`modelling_table` built on :func:`upcoming_renewals` (same cut-off days).
    mrr : Series
        MRR per account (:func:`current_mrr`).
    reasons : int
        Up to this many features pulling each account down are listed.
    reason_columns : sequence of str, optional
        Design columns that may be named as reasons (e.g. only the significant ones); default
        all.
    at_risk_below : float
        An account is "at risk" when its renewal probability is below this share
        (``drivers.at_risk_probability``).
    as_of : date, optional
        The report's as-of date: a renewal dated on or before it is past (its outcome is
        history, not a call to make) and is left out; only renewals strictly after it stay.

    Returns
    -------
    DataFrame
        One row per upcoming renewal, the most MRR at risk first: ``account_id``,
        ``decision_date``, ``days_to_renewal`` (when given), ``p_renew`` (share 0-1),
        ``mrr`` (money a month), ``expected_loss`` (``mrr x (1 - p_renew)``: the MRR at
        risk weighted by the chance of losing it; the sort key), ``at_risk``
        (bool), ``reasons`` (list of dicts ``column``, ``feature``, ``value``,
        ``log_odds``: the design columns with a negative :func:`contributions`, most
        negative first) and ``missing_features``. Rows without a score sort last.
    """
    if as_of is not None and len(current_table):
        ahead = pd.to_datetime(current_table["decision_date"]) > pd.Timestamp(as_of)
        current_table = current_table.loc[ahead.to_numpy()]
    absent = [f for f in model.features if f not in current_table]
    if absent:  # e.g. no renewal due: the table has no feature columns
        current_table = current_table.assign(**dict.fromkeys(absent, np.nan))
    p = model.predict(current_table)
    contrib = contributions(model, current_table)
    if reason_columns is not None:
        contrib = contrib[[c for c in contrib.columns if c in set(reason_columns)]]
    lists = reason_lists(model, current_table, contrib, reasons)
    ids = current_table["account_id"].astype("string")
    m = pd.Series(mrr.reindex(ids).to_numpy(), index=current_table.index, dtype=float)
    out = pd.DataFrame(
        {
            "account_id": ids,
            "decision_date": pd.to_datetime(current_table["decision_date"]),
            "p_renew": p,
            "mrr": m,
            "expected_loss": m * (1 - p),
            "at_risk": (p < at_risk_below).where(p.notna(), False).astype(bool),
            "reasons": pd.Series(lists, index=current_table.index, dtype=object),
        }
    )
    if "days_to_renewal" in current_table:
        out.insert(2, "days_to_renewal", current_table["days_to_renewal"])
    out["missing_features"] = missing_lists(current_table[model.features].isna())
    return out.sort_values(["expected_loss", "p_renew"], ascending=[False, True],
                           na_position="last", kind="stable").reset_index(drop=True)


def missing_lists(missing: pd.DataFrame) -> list[str]:
    """Per row of ``missing`` (a boolean frame: which features a row lacks), the names of
    its true columns joined by ", " ("" for none). Joined once per distinct pattern of
    missing features (a handful), not once per row."""
    flags = missing.to_numpy(dtype=bool)
    if not flags.size:
        return [""] * len(missing)
    patterns, which = np.unique(flags, axis=0, return_inverse=True)
    names = [str(c) for c in missing.columns]
    texts = [", ".join(n for n, f in zip(names, p, strict=True) if f)
             for p in patterns.tolist()]
    return [texts[i] for i in np.ravel(which).tolist()]


def reason_lists(model: DriverModel, table: pd.DataFrame, contrib: pd.DataFrame,
                 reasons: int) -> list[list[dict[str, Any]]]:
    """Per row of ``table``, the design columns of ``contrib`` (:func:`contributions` of the
    rows, same order) pulling its log-odds down: the ``reasons`` most negative, most
    negative first (ties in column order), each a dict ``column``, ``feature``, ``value``
    (the feature's value in the row; a category's level for a dummy column) and
    ``log_odds``. Ranked for all rows at once (one sort of the matrix)."""
    values = contrib.to_numpy(dtype=float)
    negative = values < 0  # NaN is not negative
    ranked = np.argsort(np.where(negative, values, np.inf), axis=1, kind="stable")
    counts = np.minimum(negative.sum(axis=1), reasons)
    owner = {c: t for t in model.terms for c in t.columns}
    columns = list(contrib.columns)
    raw_values = {owner[c].feature: table[owner[c].feature].tolist() for c in columns
                  if owner[c].reference is None}
    lists = []
    for r, (order, count) in enumerate(zip(ranked.tolist(), counts.tolist(), strict=True)):
        items = []
        for k in order[:count]:
            col = columns[k]
            term = owner[col]
            raw = (col[len(term.feature) + 1:-1] if term.reference is not None
                   else raw_values[term.feature][r])
            items.append({"column": col, "feature": term.feature, "value": _plain(raw),
                          "log_odds": float(values[r, k])})
        lists.append(items)
    return lists


def _plain(value: Any) -> Any:
    """A JSON-friendly scalar (numpy / pandas scalars -> Python; NA -> None)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def open_book_summary(book: pd.DataFrame, *, model_ranks: bool = True) -> dict[str, Any]:
    """Headline counts of :func:`open_book`.

    ``renewals_due``, ``scored`` (with a probability), ``mrr_due`` (MRR of all renewals
    due), ``accounts_at_risk`` and ``mrr_at_risk`` (count and MRR of the renewals below the
    at-risk probability: the MRR exposed), ``expected_loss_at_risk`` (sum of MRR x
    probability of not renewing over those renewals: the MRR expected to be lost),
    ``expected_mrr_loss`` (the same sum over all the scored renewals),
    ``expected_non_renewals`` (sum of the probabilities of not renewing) and
    ``model_ranks`` (``model_ranks``).

    ``model_ranks``: False when the model ranks renewals no better than chance
    (:func:`model_beats_chance`); then no renewal is singled out as at risk, and the
    three at-risk figures are None (a list picked by a coin toss is not a finding).
    """
    scored = book.dropna(subset=["p_renew"])
    risky = book[book["at_risk"]]
    return {
        "renewals_due": int(len(book)),
        "scored": int(len(scored)),
        "mrr_due": float(book["mrr"].sum()),
        "accounts_at_risk": int(len(risky)) if model_ranks else None,
        "mrr_at_risk": float(risky["mrr"].sum()) if model_ranks else None,
        "expected_loss_at_risk": (float(risky["expected_loss"].sum()) if model_ranks
                                  else None),
        "expected_mrr_loss": float(scored["expected_loss"].sum()),
        "expected_non_renewals": float((1 - scored["p_renew"]).sum()),
        "model_ranks": bool(model_ranks),
    }


def model_beats_chance(quality: Mapping[str, Any] | None, margin: float) -> bool:
    """True when the renewal model ranks renewals better than chance on decisions it has
    not seen: its *lowest* cross-validated fold AUC is above ``0.5 + margin``
    (``drivers.chance_auc_margin``).

    ``quality`` is :func:`cross_validated_quality`'s result (``auc_by_fold``; ``auc`` when
    no fold AUC was recorded). No quality (the model could not be cross-validated) or no
    finite AUC: False, since the ranking cannot be shown to beat a coin toss.
    """
    if not quality:
        return False
    folds = [float(a) for a in quality.get("auc_by_fold") or []
             if a is not None and math.isfinite(float(a))]
    if not folds and quality.get("auc") is not None:
        folds = [float(quality["auc"])]
    finite = [a for a in folds if math.isfinite(a)]
    return bool(finite) and min(finite) > 0.5 + margin


def top_expected_losses(book: pd.DataFrame, rows: int) -> pd.DataFrame:
    """The ``rows`` scored renewals of :func:`open_book` with the largest expected loss
    (MRR x probability of not renewing), largest first; ties by lower probability."""
    scored = book.dropna(subset=["p_renew", "expected_loss"])
    return scored.sort_values(["expected_loss", "p_renew"], ascending=[False, True],
                              kind="stable").head(rows).reset_index(drop=True)


def flag_expected_losses(flags_then: pd.DataFrame, flags_now: pd.DataFrame, mrr: pd.Series,
                         columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The MRR each relationship-risk flag is expected to cost, from its observed churn rate.

    Parameters
    ----------
    flags_then : DataFrame
        Flags of the accounts active at the start of the window (one row per account,
        indexed by ``account_id``; nullable bool columns, ``<NA>`` undecided).
    flags_now : DataFrame
        Flags of the accounts active at the as-of date, same layout: an account of
        ``flags_then`` missing here has churned in the window.
    mrr : Series
        MRR per ``account_id`` now (money a month).
    columns : sequence of str
        The flags to measure.

    Returns
    -------
    dict
        Per flag: ``flagged_then`` (accounts flagged at the start), ``churn_rate`` (the share
        of them no longer active now; None when none was flagged) and ``expected_loss``
        (``churn_rate`` x the MRR of the accounts flagged now: the MRR expected to be lost
        over a window as long, if the flag churns as it did); ``others_then`` and
        ``churn_rate_others``: the same for the accounts decided *not* flagged at the start
        (the comparison the opportunity walk sizes the flag's excess churn against).
    """
    active_now = set(flags_now.index.astype(str))
    ids_now = flags_now.index.astype(str)
    now_mrr = pd.to_numeric(mrr.reindex(ids_now), errors="coerce").fillna(0.0).to_numpy()
    out: dict[str, dict[str, Any]] = {}
    for col in columns:
        if col not in flags_then or col not in flags_now:
            continue
        was = flags_then[col].fillna(False).astype(bool)
        flagged = flags_then.index[was.to_numpy()].astype(str)
        churned = sum(1 for a in flagged if a not in active_now)
        rate = churned / len(flagged) if len(flagged) else None
        clear = flags_then.index[flags_then[col].eq(False).fillna(False).to_numpy(
            dtype=bool)].astype(str)
        gone = sum(1 for a in clear if a not in active_now)
        exposed = float(now_mrr[flags_now[col].fillna(False).astype(bool).to_numpy()].sum())
        out[col] = {"flagged_then": int(len(flagged)), "churn_rate": rate,
                    "expected_loss": None if rate is None else rate * exposed,
                    "others_then": int(len(clear)),
                    "churn_rate_others": gone / len(clear) if len(clear) else None}
    return out


def renewals_due_book(
    model: DriverModel,
    tables: Mapping[str, pd.DataFrame | None],
    as_of: pd.Timestamp | str,
    *,
    horizon_days: int,
    cutoff_days: int,
    at_risk_below: float,
    renewal_options: Mapping[str, Any],
    feature_options: Mapping[str, Any],
    reason_columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The open book of the renewals due in ``(as_of, as_of + horizon_days]``, in one call:
    :func:`open_book_inputs`, then :func:`open_book` (renewals dated on or before ``as_of``
    are never in it)."""
    current, mrr = open_book_inputs(tables, as_of, horizon_days=horizon_days,
                                    cutoff_days=cutoff_days, renewal_options=renewal_options,
                                    feature_options=feature_options)
    return open_book(model, current, mrr, reason_columns=reason_columns,
                     at_risk_below=at_risk_below, as_of=as_of)


def open_book_inputs(
    tables: Mapping[str, pd.DataFrame | None],
    as_of: pd.Timestamp | str,
    *,
    horizon_days: int,
    cutoff_days: int,
    renewal_options: Mapping[str, Any],
    feature_options: Mapping[str, Any],
) -> tuple[pd.DataFrame, pd.Series]:
    """What :func:`open_book` scores, whatever the model: the renewals due in ``(as_of,
    as_of + horizon_days]`` (:func:`upcoming_renewals`, ``renewal_options``:
    ``Params.renewal_options()``) with their features at the training cut-off
    (:func:`modelling_table`, ``feature_options``: ``Params.feature_options()``), and MRR
    at ``as_of`` per account (:func:`current_mrr`, money a month)."""
    accounts = tables["accounts"]
    upcoming = upcoming_renewals(accounts, as_of, horizon_days=horizon_days,
                                 renewals=tables.get("renewals"), **renewal_options)
    current, _ = modelling_table(upcoming, tables, cutoff_days=cutoff_days, as_of=as_of,
                                 **feature_options)
    return current, current_mrr(accounts, tables.get("mrr"), as_of)
