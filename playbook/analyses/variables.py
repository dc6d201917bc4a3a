"""The variables of the business that churn is cut by: bands and the churn flag of a window.

Pure functions: canonical frames in, frames out.
"""

from __future__ import annotations

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


def accounts_at_risk(accounts: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp,
                     renewals: pd.DataFrame | None = None, mrr: pd.DataFrame | None = None
                     ) -> pd.DataFrame:
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
      outcome renewed or downgraded), 0 / 1 / 2+.
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
    return acc.set_index("account_id")


def available_variables(frame: pd.DataFrame, min_groups: int = 2) -> dict[str, str]:
    """The variables with at least ``min_groups`` non-blank groups in ``frame``."""
    return {label: col for label, col in VARIABLES.items()
            if col in frame and frame[col].dropna().nunique() >= min_groups}
