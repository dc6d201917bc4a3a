"""The variables of the business that churn is cut by: bands and the churn flag of a window.

Pure functions: canonical frames in, frames out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from playbook.analyses.reasons import band
from playbook.contracts import MONTH_TO_MONTH, account_terms
from playbook.metrics import RetentionWindow

TENURE_EDGES = [0, 6, 12, 24, 36, np.inf]
TENURE_LABELS = ["< 6 months", "6-12 months", "1-2 years", "2-3 years", "3+ years"]
EMPLOYEE_EDGES = [0, 50, 200, 1000, np.inf]
EMPLOYEE_LABELS = ["1-49", "50-199", "200-999", "1,000+"]

#: label shown in titles -> column of :func:`base_accounts`
VARIABLES = {
    "industry": "industry",
    "company size": "size",
    "contract value": "value_band",
    "owner": "owner",
    "tenure": "tenure_band",
    "products owned": "products_band",
    "renewals done": "renewals_band",
    "region": "region",
    "segment": "segment",
}

#: The loader stores the client variable ``variables.<key>`` as the column ``var_<key>`` of
#: its canonical table (the same prefix as :data:`playbook.config.VARIABLE_PREFIX`).
VARIABLE_PREFIX = "var_"
#: A numeric variable with at most this many distinct values is cut by value, else in
#: quartiles (churn by variable).
NUMERIC_VALUE_GROUPS = 5


@dataclass(frozen=True)
class Variable:
    """One of the client's own variables (params ``variables.<key>``), as analyses use it.

    ``kind`` is ``"categorical"`` (compared with ``reference``, else its most common level)
    or ``"numeric"`` (odds ratio per ``scale`` units of ``unit``). ``table`` is ``accounts`` (an
    attribute of the account) or ``usage`` (a monthly value).
    """

    key: str
    label: str
    kind: str
    table: str = "accounts"
    reference: str | None = None
    unit: str = ""
    scale: float = 1.0

    @property
    def column(self) -> str:
        """Its column in the canonical table."""
        return VARIABLE_PREFIX + self.key

    @property
    def unit_text(self) -> str:
        """What one step of a numeric variable is: "per referral", "per 10 referrals"."""
        if self.scale == 1:
            return f"per {self.unit or 'unit'}"
        return f"per {self.scale:,g} {plural_unit(self.unit or 'unit')}"


def plural_unit(word: str) -> str:
    """``referral`` -> ``referrals``, ``day`` -> ``days``, ``company`` -> ``companies``; a
    word ending in s, a code in capitals (USD) or a symbol is kept as it is."""
    if not word or word.endswith("s") or word.isupper() or not word[-1].isalpha():
        return word
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def declared(specs: Mapping[str, Any] | None) -> tuple[Variable, ...]:
    """The declared variables from params ``variables`` (validated models or plain dicts),
    in declaration order. A blank label becomes the key in words."""
    out = []
    for key, spec in (specs or {}).items():
        if isinstance(spec, Variable):
            out.append(spec)
            continue
        get = spec.get if isinstance(spec, Mapping) else lambda k, d=None, s=spec: getattr(
            s, k, d)
        label = str(get("label", "") or "").strip() or key.replace("_", " ")
        out.append(Variable(
            key=key, label=label[:1].upper() + label[1:], kind=str(get("kind")),
            table=str(get("table", "accounts") or "accounts"), reference=get("reference"),
            unit=str(get("unit", "") or ""), scale=float(get("scale", 1.0) or 1.0)))
    return tuple(out)


def month_end(month: pd.Timestamp) -> pd.Timestamp:
    """The last day of ``month`` (any day of it), at midnight."""
    return pd.Timestamp(month).to_period("M").to_timestamp(how="end").normalize()


def first_renewal_after(accounts: pd.DataFrame, end: pd.Timestamp, *,
                        term_months: int | None) -> pd.Series:
    """True for the accounts whose first renewal falls after ``end``: they cannot leave at a
    renewal inside a window that ends then (an annual contract signed 3 months before the
    end cannot churn at renewal within it).

    The first renewal is ``start_date`` + the account's term (``contract_term_months``, else
    ``term_months``, :func:`playbook.contracts.account_terms`). A month-to-month account (term
    1) is never excluded, nor one whose start or term is unknown. Indexed like ``accounts``.
    """
    terms = account_terms(accounts, term_months)
    start = pd.to_datetime(accounts["start_date"])
    later = pd.Series(False, index=accounts.index)
    known = start.notna() & terms.notna() & (terms > MONTH_TO_MONTH)
    for term in terms[known].unique():
        rows = known & (terms == term)
        later[rows] = (start[rows] + pd.DateOffset(months=int(term))) > end
    return later


def accounts_window(as_of: pd.Timestamp, months: int) -> RetentionWindow:
    """The trailing window of ``months`` months up to the as-of month when there is no MRR
    history to shorten it to (:func:`cohort_from_accounts`)."""
    end = pd.Timestamp(as_of).to_period("M").to_timestamp()
    return RetentionWindow(base_month=end - pd.DateOffset(months=months), end_month=end,
                           months=int(months), requested=int(months))


def cohort_from_accounts(accounts: pd.DataFrame, window: RetentionWindow) -> pd.DataFrame:
    """The base of ``window`` when the client sent no MRR history: the accounts active at
    the end of its base month by the accounts table's own dates (started on or before it,
    not churned by it), ``churned`` when their ``churn_date`` falls on or before the end of
    its end month. Shaped like :func:`playbook.metrics.retention_cohort` (indexed by
    ``account_id``; ``mrr_then`` is blank: the table holds only today's MRR)."""
    base_day, end_day = month_end(window.base_month), month_end(window.end_month)
    acc = accounts.drop_duplicates("account_id")
    start = pd.to_datetime(acc["start_date"])
    churn = pd.to_datetime(acc["churn_date"])
    active = (start.isna() | (start <= base_day)) & ~(churn <= base_day)
    base = acc.loc[active.to_numpy(dtype=bool)]
    left = pd.to_datetime(base["churn_date"]) <= end_day
    out = pd.DataFrame({"mrr_then": np.nan, "churned": left.to_numpy(dtype=bool)},
                       index=pd.Index(base["account_id"], name="account_id"))
    out["retained"] = ~out["churned"]
    return out


def base_accounts(accounts: pd.DataFrame, cohort: pd.DataFrame, window: RetentionWindow, *,
                  term_months: int | None,
                  renewals: pd.DataFrame | None = None,
                  variables: Mapping[str, Any] | None,
                  usage: pd.DataFrame | None = None) -> pd.DataFrame:
    """The base of the trailing window with the variables churn is cut by, all measured at
    the base date (the last day of the window's base month), so no band depends on the
    outcome.

    ``cohort`` is :func:`playbook.metrics.retention_cohort` of ``window`` (one row per
    account paying in the base month: ``mrr_then``, ``churned`` = not paying in the end
    month), or :func:`cohort_from_accounts`. Every base account gets a row, indexed by
    ``account_id``, with ``churned``, ``mrr_then`` and ``not_yet_renewing`` (its first
    renewal falls after the end of the window's end month:
    :func:`first_renewal_after`; churn by variable leaves these out). Bands:

    * ``tenure_band`` – months from the account's start to the base date (days / 30.4375),
      for leavers and stayers alike (banding leavers at exit and stayers at the window's end
      makes young accounts look loyal: survivorship);
    * ``value_band`` – quartile of ``mrr_then`` among the accounts at their first renewal or
      later (Q1 = lowest);
    * ``size`` – ``size_band`` if given, else employee bands 1-49 / 50-199 / 200-999 /
      1,000+; ``products_band`` – 1, 2, 3+ products (the accounts table holds no history);
    * ``renewals_band`` – renewals done on or before the base date (renewals table, outcome
      renewed or downgraded), 0 / 1 / 2+;
    * one column per declared client variable (params ``variables``, :func:`variable_groups`);
      a usage variable takes the account's latest value on or before the base date.

    A base account missing from ``accounts`` keeps its row with blank attributes.
    """
    base_day, end_day = month_end(window.base_month), month_end(window.end_month)
    acc = accounts.drop_duplicates("account_id").set_index("account_id")
    acc = acc.reindex(cohort.index)
    acc.index.name = "account_id"
    acc["churned"] = cohort["churned"].astype(bool)
    acc["mrr_then"] = cohort["mrr_then"].astype(float)
    acc["not_yet_renewing"] = first_renewal_after(acc, end_day, term_months=term_months)
    start = pd.to_datetime(acc["start_date"])
    acc["tenure_band"] = band((base_day - start).dt.days / 30.4375, TENURE_EDGES,
                              TENURE_LABELS)
    acc["value_band"] = _value_quartiles(acc["mrr_then"].where(~acc["not_yet_renewing"]))
    if acc["size_band"].notna().any():
        acc["size"] = acc["size_band"]
    else:
        acc["size"] = band(acc["employees"].astype(float), EMPLOYEE_EDGES, EMPLOYEE_LABELS)
    products = acc["products"].astype("Float64").astype(float)  # NaN, not NA, for np.select
    acc["products_band"] = pd.Series(
        np.select([products.isna(), products <= 1, products == 2], ["", "1", "2"], "3+"),
        index=acc.index).replace("", pd.NA)
    acc["renewals_band"] = _renewals_done(acc.index, renewals, base_day)
    for var in declared(variables):
        values = _variable_values(acc, var, base_day, usage)
        acc[group_column(var)] = variable_groups(values, var)
    return acc


def _value_quartiles(mrr: pd.Series) -> pd.Series:
    """Quartile of MRR (Q1 = lowest; blank where MRR is); blank for all with fewer than
    four distinct values."""
    known = mrr.dropna()
    out = pd.Series(pd.NA, index=mrr.index, dtype="object")
    if len(known) >= 4 and known.nunique() >= 4:
        out[known.index] = pd.qcut(known.rank(method="first"), 4, labels=[
            "Q1 (lowest MRR)", "Q2", "Q3", "Q4 (highest MRR)"]).astype(str)
    return out


def _renewals_done(ids: pd.Index, renewals: pd.DataFrame | None, day: pd.Timestamp
                   ) -> pd.Series:
    """Renewals done on or before ``day`` (renewed or downgraded): "0", "1", "2+"."""
    if renewals is None or not len(renewals):
        return pd.Series(pd.NA, index=ids, dtype="object")
    done = renewals[(pd.to_datetime(renewals["renewal_date"]) <= day)
                    & renewals["outcome"].isin(["renewed", "downgraded"])]
    count = pd.Series(ids, index=ids).map(done.groupby("account_id").size()).fillna(0)
    return pd.Series(np.select([count == 0, count == 1], ["0", "1"], "2+"), index=ids)


def group_column(var: Variable) -> str:
    """Column of :func:`base_accounts` holding a client variable's groups."""
    return var.column + "_group"


def _variable_values(acc: pd.DataFrame, var: Variable, day: pd.Timestamp,
                     usage: pd.DataFrame | None) -> pd.Series:
    """The variable's value per account (``acc`` rows, indexed by ``account_id``): the
    accounts column, or the latest usage month on or before ``day`` that has a value."""
    if var.table == "accounts":
        return acc[var.column] if var.column in acc else pd.Series(pd.NA, index=acc.index)
    if usage is None or var.column not in usage:
        return pd.Series(pd.NA, index=acc.index)
    month = pd.to_datetime(usage["month"])
    known = usage[month <= day].dropna(subset=[var.column]).sort_values("month")
    latest = known.drop_duplicates("account_id", keep="last").set_index("account_id")
    return latest[var.column].reindex(acc.index)


def variable_groups(values: pd.Series, var: Variable) -> pd.Series:
    """Groups of a client variable for churn by variable (missing stays missing).

    Categorical: its levels as written. Numeric: each value when there are at most
    :data:`NUMERIC_VALUE_GROUPS` distinct values ("2 referrals"), else quartiles of the
    accounts given, named by the range of values they hold ("3-7 referrals").
    """
    if var.kind != "numeric":
        return values.astype("string")
    x = pd.to_numeric(values, errors="coerce").astype(float)
    unit = plural_unit(var.unit) if var.unit else ""
    distinct = np.sort(x.dropna().unique())
    if len(distinct) <= NUMERIC_VALUE_GROUPS:
        names = {v: f"{v:,g} {var.unit if v == 1 else unit}".strip() for v in distinct}
        return x.map(names).astype("string")
    bands = pd.qcut(x, 4, duplicates="drop")
    ranges = x.groupby(bands, observed=True).agg(["min", "max"])
    names = {b: f"{r['min']:,g}-{r['max']:,g} {unit}".strip() for b, r in ranges.iterrows()}
    return bands.map(names).astype("string")


def available_variables(frame: pd.DataFrame, min_groups: int = 2, *,
                        variables: Mapping[str, Any] | None) -> dict[str, str]:
    """The variables with at least ``min_groups`` non-blank groups in ``frame``: the
    built-in ones of :data:`VARIABLES`, then the declared client variables (params
    ``variables``), each under its label."""
    found = {label: col for label, col in VARIABLES.items()
             if col in frame and frame[col].dropna().nunique() >= min_groups}
    for var in declared(variables):
        col = group_column(var)
        if col in frame and frame[col].dropna().nunique() >= min_groups:
            found[var.label] = col
    return found


def churn_basis(window: RetentionWindow, base: pd.DataFrame, whole_base: float, *,
                from_mrr: bool) -> dict[str, Any]:
    """Who churn by variable counts (``base``: :func:`base_accounts`), for the record and
    the notes: the window (``label``, ``base_month``, ``end_month`` ISO, ``months``),
    ``base_accounts``, ``left_out`` (not yet at their first renewal), ``accounts`` and
    ``churned`` (counted), ``overall`` = churned / accounts, ``whole_base`` (logo churn of
    the whole base: the headline's when ``from_mrr``) and ``from_mrr`` (False: the base came
    from the accounts table's dates, :func:`cohort_from_accounts`)."""
    counted = base[~base["not_yet_renewing"]]
    return {
        "label": window.label, "months": window.months,
        "base_month": window.base_month.date().isoformat(),
        "end_month": window.end_month.date().isoformat(),
        "base_accounts": int(len(base)), "left_out": int(base["not_yet_renewing"].sum()),
        "accounts": int(len(counted)), "churned": int(counted["churned"].sum()),
        "overall": float(counted["churned"].mean()) if len(counted) else float("nan"),
        "whole_base": float(whole_base), "from_mrr": bool(from_mrr),
    }
