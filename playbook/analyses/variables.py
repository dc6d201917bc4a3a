"""The variables of the business that churn is cut by: bands and the churn flag of a window.

Pure functions: canonical frames in, frames out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from playbook.analyses.reasons import band, tenure_months

TENURE_EDGES = [0, 6, 12, 24, 36, np.inf]
TENURE_LABELS = ["< 6 months", "6-12 months", "1-2 years", "2-3 years", "3+ years"]
EMPLOYEE_EDGES = [0, 50, 200, 1000, np.inf]
EMPLOYEE_LABELS = ["1-49", "50-199", "200-999", "1,000+"]

#: label shown in titles -> column of :func:`accounts_at_risk`
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


def accounts_at_risk(accounts: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                     renewals: pd.DataFrame | None = None, mrr: pd.DataFrame | None = None,
                     *, variables: Mapping[str, Any] | None,
                     usage: pd.DataFrame | None = None) -> pd.DataFrame:
    """Accounts that could churn in the window ``[start, end]`` with their variables.

    An account is *at risk* if it started on or before ``end`` and had not churned before
    ``start``. ``churned`` is true when its churn date falls in the window. Bands:

    * ``tenure_band`` – months from the account's start to its churn date, or to ``end``
      if it did not churn (so churners are banded at the tenure they left with);
    * ``value_band`` – quartile of contract value among the accounts at risk (Q1 =
      lowest), measured *before* any churn: MRR x 12 in the account's first month of the
      window from the ``mrr`` table when given (the accounts table's current ARR is often
      0 for churned accounts), else ``arr``;
    * ``size`` – ``size_band`` if given, else employee bands 1-49 / 50-199 / 200-999 /
      1,000+;
    * ``products_band`` – 1, 2, 3+ products;
    * ``renewals_band`` – renewals already done before the window (renewals table with
      outcome renewed or downgraded), 0 / 1 / 2+;
    * one column per declared client variable (params ``variables``), named as
      :func:`variable_groups` says: a categorical one by its levels, a numeric one by value
      (at most :data:`NUMERIC_VALUE_GROUPS` values) or in quartiles; a usage variable takes
      the account's value in the first month of the window that has one (``usage``).
    """
    acc = accounts.copy()
    at_risk = (acc["start_date"] <= end) & ~(acc["churn_date"] < start)
    acc = acc.loc[at_risk].copy()
    acc["churned"] = acc["churn_date"].between(start, end)
    acc["tenure_band"] = band(tenure_months(acc, end), TENURE_EDGES, TENURE_LABELS)
    arr = acc["arr"]
    if mrr is not None and len(mrr):
        window = mrr[(mrr["month"] >= start.to_period("M").to_timestamp())
                     & (mrr["month"] <= end) & (mrr["mrr"] > 0)]
        first = window.sort_values("month").drop_duplicates("account_id")
        arr = acc["account_id"].map(first.set_index("account_id")["mrr"] * 12).fillna(arr)
    if arr.notna().sum() >= 4 and arr.nunique() >= 4:
        acc["value_band"] = pd.qcut(arr.rank(method="first"), 4,
                                    labels=["Q1 (lowest ARR)", "Q2", "Q3", "Q4 (highest ARR)"]
                                    ).astype("str")
    else:
        acc["value_band"] = pd.Series(pd.NA, index=acc.index, dtype="str")
    if acc["size_band"].notna().any():
        acc["size"] = acc["size_band"]
    else:
        acc["size"] = band(acc["employees"].astype(float), EMPLOYEE_EDGES, EMPLOYEE_LABELS)
    products = acc["products"].astype("Float64").astype(float)  # NaN, not NA, for np.select
    acc["products_band"] = pd.Series(
        np.select([products.isna(), products <= 1, products == 2], ["", "1", "2"], "3+"),
        index=acc.index).replace("", pd.NA)
    if renewals is not None and len(renewals):
        done = renewals[(renewals["renewal_date"] < start)
                        & renewals["outcome"].isin(["renewed", "downgraded"])]
        count = acc["account_id"].map(done.groupby("account_id").size()).fillna(0)
        acc["renewals_band"] = np.select([count == 0, count == 1], ["0", "1"], "2+")
    else:
        acc["renewals_band"] = pd.Series(pd.NA, index=acc.index, dtype="str")
    for var in declared(variables):
        values = _variable_values(acc, var, start, end, usage)
        acc[group_column(var)] = variable_groups(values, var)
    return acc.set_index("account_id")


def group_column(var: Variable) -> str:
    """Column of :func:`accounts_at_risk` holding a client variable's groups."""
    return var.column + "_group"


def _variable_values(acc: pd.DataFrame, var: Variable, start: pd.Timestamp,
                     end: pd.Timestamp, usage: pd.DataFrame | None) -> pd.Series:
    """The variable's value per account at risk (``acc`` rows): the accounts column, or the
    first usage month of the window ``[start, end]`` that has a value."""
    if var.table == "accounts":
        return acc[var.column] if var.column in acc else pd.Series(pd.NA, index=acc.index)
    if usage is None or var.column not in usage:
        return pd.Series(pd.NA, index=acc.index)
    month = pd.to_datetime(usage["month"])
    window = usage[(month >= start.to_period("M").to_timestamp()) & (month <= end)]
    window = window.dropna(subset=[var.column]).sort_values("month")
    first = window.drop_duplicates("account_id").set_index("account_id")[var.column]
    return acc["account_id"].map(first)


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
