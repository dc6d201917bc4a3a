"""Why customers leave: churn reasons and churn rates across the variables of the business.

Pure functions on the canonical ``churn_events`` and ``accounts`` tables (see
:mod:`playbook.contract`). Amounts are in the client's currency; rates and shares are
0-1, never percentages.

Conventions
-----------
* Reason values are compared after *normalising* them: Unicode compatibility forms folded
  (NFKC), apostrophes dropped (straight, curly ’ ‘, modifier ʼ, backtick and acute accent),
  underscores read as spaces, surrounding and repeated whitespace collapsed, case ignored.
  "Don't know", "dont know", "Don’t know" and "DONT_KNOW" are one value.
* A reason value is *uninformative* when, normalised, it is blank, missing, has no letter
  or digit ("-", "?", "..."), or is one of ``uninformative`` (``churn.uninformative_reasons``
  in ``playbook/defaults.yaml``, the one home of the default list: every function here
  takes the list as a required argument). Blank, missing and letterless values are always
  uninformative, whatever the list says.
* Values equal once normalised are one reason, labelled with their most frequent trimmed
  spelling; blank and missing values are labelled ``"(blank)"``.
* One churn event is one logo lost; ``lost_mrr`` missing counts as 0 in sums and is
  reported as ``lost_mrr_missing``.

Two levels of reason
--------------------
An export may give a coarse ``reason_category`` ("Price", "Competitor", "Other") above the
finer ``reason_code`` (or the reason recovered from ``reason_text`` by
:func:`map_reasons`). :func:`reason_levels` says which levels carry any informative value;
with both, the Pareto ranks categories (:func:`reason_pareto` on the category column) and
:func:`reasons_within_categories` ranks the reasons inside each. An event has a usable
reason when *either* level is informative: an uninformative category ("Other", blank) with
an informative reason inside ("Moved abroad") counts as explained, because the reason is
the finer level; an informative category with an uninformative reason ("Price" / "Don't
know") is explained by its category. In the Pareto by category, a category row is flagged
uninformative by its own label: "Other" is never named as one of the top categories, even
when the reasons inside it are informative (they are shown inside it and count as
explained in :func:`uninformative_share`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from playbook.analyses.stats import wilson_interval

BLANK_LABEL = "(blank)"
MISSING_LABEL = "(missing)"


# --------------------------------------------------------------------------- reason codes


#: Apostrophes dropped before comparing reasons: straight, right and left single quotes,
#: modifier letter apostrophe, backtick, acute accent.
APOSTROPHES = "'\u2019\u2018\u02bc`\u00b4"


def _normalise(values: pd.Series) -> pd.Series:
    """Comparison key of each reason value (see the module's conventions); missing → ""."""
    quotes = f"[{APOSTROPHES}]"
    s = values.astype("string").str.replace(quotes, "", regex=True)  # before NFKC splits ´
    s = s.str.normalize("NFKC").str.replace(quotes, "", regex=True)  # and after: ＇ → '
    s = s.str.replace(r"[\s_]+", " ", regex=True).str.strip()
    return s.str.casefold().fillna("")


def is_uninformative(codes: pd.Series, uninformative: Iterable[str]) -> pd.Series:
    """Boolean Series: is each reason value blank, missing, without any letter or digit,
    or in ``uninformative`` (``churn.uninformative_reasons``)?

    Both sides are normalised (module conventions): " Other " = "other", "Don’t know" =
    "dont know".
    """
    norm = _normalise(codes)
    bad = set(_normalise(pd.Series(list(uninformative), dtype="string")))
    letterless = ~norm.str.contains(r"[^\W_]", regex=True)
    return (norm.eq("") | letterless | norm.isin(bad)).astype(bool)


def reason_labels(codes: pd.Series) -> pd.Series:
    """Display label of each reason code.

    Codes equal after trimming and ignoring case share one label: their most frequent
    trimmed spelling (ties: alphabetical). Blank and missing codes become ``"(blank)"``.
    """
    key = _normalise(codes)
    trimmed = codes.astype("string").str.strip()
    frame = pd.DataFrame({"key": key, "spelling": trimmed})
    frame = frame.loc[frame["key"] != ""]
    if frame.empty:
        return pd.Series(BLANK_LABEL, index=codes.index, dtype=object)
    counts = frame.groupby(["key", "spelling"]).size().reset_index(name="n")
    counts = counts.sort_values(["key", "n", "spelling"], ascending=[True, False, True])
    label_of = counts.drop_duplicates("key").set_index("key")["spelling"]
    out = key.map(label_of).astype(object)
    return out.where(key != "", BLANK_LABEL)


def _lost(events: pd.DataFrame) -> pd.Series:
    if "lost_mrr" not in events.columns:
        return pd.Series(np.nan, index=events.index, dtype=float)
    return pd.to_numeric(events["lost_mrr"], errors="coerce").astype(float)


def reason_pareto(
    churn_events: pd.DataFrame,
    *,
    uninformative: Iterable[str],
    code_col: str = "reason_code",
) -> pd.DataFrame:
    """Churn reasons ranked by lost MRR (a Pareto table).

    Parameters
    ----------
    churn_events : DataFrame
        Canonical ``churn_events`` table (``reason_code``, ``lost_mrr``).
    uninformative : iterable of str
        Codes that say nothing (``churn.uninformative_reasons``).
    code_col : str, default "reason_code"
        Column holding the reason; pass ``"reason"`` to rank the output of
        :func:`map_reasons`.

    Returns
    -------
    DataFrame
        One row per reason (blank and missing codes together as ``"(blank)"``), sorted by
        lost MRR, then logos, descending. Columns: ``reason``; ``logos`` (churn events);
        ``share_logos`` (logos / all events); ``lost_mrr`` (currency, missing as 0);
        ``share_lost_mrr`` (lost_mrr / total lost MRR of all events);
        ``cum_share_lost_mrr`` (running total of that share, top row first; 1 at the end);
        ``uninformative`` (bool); ``lost_mrr_missing`` (events without lost_mrr). Shares
        are ``NaN`` when the total is 0.
    """
    cols = ["reason", "logos", "share_logos", "lost_mrr", "share_lost_mrr",
            "cum_share_lost_mrr", "uninformative", "lost_mrr_missing"]
    if churn_events.empty:
        return pd.DataFrame(columns=cols)
    lost = _lost(churn_events)
    frame = pd.DataFrame(
        {
            "reason": reason_labels(churn_events[code_col]),
            "lost": lost.fillna(0.0),
            "missing": lost.isna(),
            "uninformative": is_uninformative(churn_events[code_col], uninformative),
        }
    )
    table = frame.groupby("reason", sort=False).agg(
        logos=("lost", "size"),
        lost_mrr=("lost", "sum"),
        uninformative=("uninformative", "first"),
        lost_mrr_missing=("missing", "sum"),
    ).reset_index()
    table = table.sort_values(
        ["lost_mrr", "logos", "reason"], ascending=[False, False, True], kind="mergesort"
    ).reset_index(drop=True)
    total_lost, total_logos = table["lost_mrr"].sum(), table["logos"].sum()
    table["share_logos"] = table["logos"] / total_logos
    table["share_lost_mrr"] = table["lost_mrr"] / total_lost if total_lost else np.nan
    table["cum_share_lost_mrr"] = table["share_lost_mrr"].cumsum()
    table["lost_mrr_missing"] = table["lost_mrr_missing"].astype(np.int64)
    return table[cols]


def uninformative_share(
    churn_events: pd.DataFrame,
    *,
    uninformative: Iterable[str],
    code_col: str = "reason_code",
    category_col: str | None = None,
) -> dict[str, Any]:
    """How much churn carries no usable reason (blank, missing, "Other", "Unknown", ...).

    Parameters
    ----------
    churn_events : DataFrame
        Canonical ``churn_events`` table.
    uninformative : iterable of str
        Values that say nothing (``churn.uninformative_reasons``).
    code_col : str, default "reason_code"
        The (finer) reason column.
    category_col : str, optional
        The coarser ``reason_category`` column, when the export has one. An event is then
        uninformative only when its category *and* its reason both are (module docstring:
        "Other" with "Moved abroad" inside is explained). Ignored when the column is absent.

    Returns
    -------
    dict
        ``events`` (all churn events), ``uninformative_events``, ``blank_events`` (blank or
        missing at every level given; part of uninformative), ``share_events`` =
        uninformative_events / events; ``lost_mrr`` (all, currency),
        ``uninformative_lost_mrr`` (the MRR whose reason is hidden), ``share_lost_mrr`` =
        uninformative_lost_mrr / lost_mrr; ``by_label`` ({label: events} of the
        uninformative events' ``code_col`` labels, as :func:`reason_pareto` labels them,
        largest first). Shares are ``NaN`` when
        the denominator is 0. Compare ``share_events`` with
        ``thresholds.uninformative_reason_share`` to flag reason capture.
    """
    empty = pd.Series([], dtype="string")
    codes = churn_events[code_col] if len(churn_events) else empty
    bad = is_uninformative(codes, uninformative)
    blank = _normalise(codes).eq("")
    if category_col is not None and category_col in churn_events.columns and len(codes):
        category = churn_events[category_col]
        bad &= is_uninformative(category, uninformative)
        blank &= _normalise(category).eq("")
    lost = _lost(churn_events).fillna(0.0) if len(churn_events) else pd.Series([], dtype=float)
    n, k = len(bad), int(bad.sum())
    total, hidden = float(lost.sum()), float(lost[bad].sum())
    labels = reason_labels(codes)[bad] if k else pd.Series([], dtype=object)
    return {
        "events": n,
        "uninformative_events": k,
        "blank_events": int(blank.sum()),
        "share_events": k / n if n else float("nan"),
        "lost_mrr": total,
        "uninformative_lost_mrr": hidden,
        "share_lost_mrr": hidden / total if total else float("nan"),
        "by_label": {str(lbl): int(c) for lbl, c in labels.value_counts().items()},
    }


def map_reasons(
    churn_events: pd.DataFrame,
    rules: dict[str, Sequence[str]],
    *,
    uninformative: Iterable[str],
    code_col: str = "reason_code",
    text_col: str = "reason_text",
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Recover a reason from the free text where the code is uninformative.

    Parameters
    ----------
    churn_events : DataFrame
        Canonical ``churn_events`` table.
    rules : dict of str to list of str
        ``{code: [keyword, ...]}``. A keyword matches when it occurs anywhere in
        ``reason_text``, ignoring case ("price" matches "Price too high", and also
        "priceless": choose keywords with care). Rules are tried in order; the first
        match wins. Only rows with an uninformative code are touched.
    uninformative, code_col, text_col
        As in :func:`reason_pareto`; the free-text column.

    Returns
    -------
    frame : DataFrame
        A copy of ``churn_events`` with ``reason`` (the trimmed code where it is
        informative, the rule's code where text matched, else the original code) and
        ``reason_source`` ("code", "text" or "unmapped").
    counts : dict
        ``events``, ``uninformative`` (events with an uninformative code), ``mapped``
        (recovered from text), ``still_unknown`` (= uninformative − mapped),
        ``share_mapped`` (mapped / uninformative, ``NaN`` if none) and ``by_code``
        ({code: events mapped to it}).
    """
    out = churn_events.copy()
    bad = is_uninformative(out[code_col], uninformative).to_numpy()
    if text_col in out.columns:
        text = out[text_col].astype("string").str.casefold().fillna("")
    else:
        text = pd.Series("", index=out.index, dtype="string")
    reason = out[code_col].astype("string").str.strip().astype(object).to_numpy(copy=True)
    source = np.where(bad, "unmapped", "code").astype(object)
    open_ = bad.copy()
    by_code: dict[str, int] = {}
    for code, keywords in rules.items():
        words = [re.escape(w.strip().casefold()) for w in keywords if w and w.strip()]
        if not words or not open_.any():
            continue
        hit = open_ & text.str.contains("|".join(words), regex=True).fillna(False).to_numpy(
            dtype=bool
        )
        reason[hit], source[hit] = code, "text"
        open_ &= ~hit
        if hit.any():
            by_code[code] = int(hit.sum())
    out["reason"] = pd.Series(reason, index=out.index, dtype="string")
    out["reason_source"] = source
    n_bad, mapped = int(bad.sum()), int((source == "text").sum())
    counts = {
        "events": len(out),
        "uninformative": n_bad,
        "mapped": mapped,
        "still_unknown": n_bad - mapped,
        "share_mapped": mapped / n_bad if n_bad else float("nan"),
        "by_code": by_code,
    }
    return out, counts


# --------------------------------------------------------------------------- two levels


def has_informative(churn_events: pd.DataFrame, column: str,
                    uninformative: Iterable[str]) -> bool:
    """Does ``column`` exist and hold at least one informative reason value?"""
    if column not in churn_events.columns or churn_events.empty:
        return False
    return not bool(is_uninformative(churn_events[column], uninformative).all())


def reason_levels(
    churn_events: pd.DataFrame,
    *,
    uninformative: Iterable[str],
    code_col: str = "reason_code",
    category_col: str = "reason_category",
) -> tuple[str, ...]:
    """The reason levels the events carry, coarse first.

    A level counts when its column holds at least one informative value (a category column
    that is all blank or all "Other" is no level). Returns ``(category_col, code_col)``
    with both levels, ``(category_col,)`` or ``(code_col,)`` with one, and ``(code_col,)``
    when neither says anything (the Pareto then shows only uninformative rows, as it always
    did). The first element is the level the Pareto and its headline read.
    """
    uninformative = list(uninformative)
    has_code = has_informative(churn_events, code_col, uninformative)
    if has_informative(churn_events, category_col, uninformative):
        return (category_col, code_col) if has_code else (category_col,)
    return (code_col,)


def reasons_within_categories(
    churn_events: pd.DataFrame,
    *,
    uninformative: Iterable[str],
    category_col: str = "reason_category",
    code_col: str = "reason_code",
) -> pd.DataFrame:
    """The reasons inside each reason category, ranked by lost MRR.

    Categories and reasons are labelled as in :func:`reason_pareto` (so the ``category``
    values are the ``reason`` values of ``reason_pareto(..., code_col=category_col)``); a
    reason spelled two ways in two categories has one label everywhere.

    Returns
    -------
    DataFrame
        One row per category and reason. Columns: ``category``; ``reason``; ``logos``
        (events); ``lost_mrr`` (currency, missing as 0); ``share_lost_mrr`` = lost_mrr /
        the category's lost MRR (``NaN`` when that is 0); ``share_logos`` = logos / the
        category's events; ``uninformative`` (the reason's own label says nothing);
        ``rank`` (1 = the category's largest reason by lost MRR, then logos, then name);
        ``informative_rank`` (the same rank among the category's informative reasons only,
        ``<NA>`` for an uninformative one: ``informative_rank <= 3`` are the "top reasons"
        the exhibit shows inside each category).
        Categories in the order of the Pareto by category (lost MRR, then logos,
        descending), reasons by rank inside each.
    """
    uninformative = list(uninformative)
    cols = ["category", "reason", "logos", "lost_mrr", "share_lost_mrr", "share_logos",
            "uninformative", "rank", "informative_rank"]
    if churn_events.empty:
        return pd.DataFrame(columns=cols)
    frame = pd.DataFrame({
        "category": reason_labels(churn_events[category_col]),
        "reason": reason_labels(churn_events[code_col]),
        "lost": _lost(churn_events).fillna(0.0),
        "uninformative": is_uninformative(churn_events[code_col], uninformative),
    })
    table = frame.groupby(["category", "reason"], sort=False).agg(
        logos=("lost", "size"), lost_mrr=("lost", "sum"),
        uninformative=("uninformative", "first"),
    ).reset_index()
    order = reason_pareto(churn_events, uninformative=uninformative, code_col=category_col)
    position = {c: i for i, c in enumerate(order["reason"])}
    table["_position"] = table["category"].map(position)
    table = table.sort_values(
        ["_position", "lost_mrr", "logos", "reason"], ascending=[True, False, False, True],
        kind="mergesort").reset_index(drop=True)
    totals = table.groupby("category", sort=False)[["logos", "lost_mrr"]].transform("sum")
    table["share_lost_mrr"] = table["lost_mrr"] / totals["lost_mrr"].where(
        totals["lost_mrr"] > 0)
    table["share_logos"] = table["logos"] / totals["logos"]
    table["rank"] = table.groupby("category", sort=False).cumcount().astype(np.int64) + 1
    informative = table.loc[~table["uninformative"].astype(bool)]
    table["informative_rank"] = pd.Series(pd.NA, index=table.index, dtype="Int64")
    table.loc[informative.index, "informative_rank"] = (
        informative.groupby("category", sort=False).cumcount() + 1).astype("Int64")
    table["logos"] = table["logos"].astype(np.int64)
    return table[cols]


# --------------------------------------------------------------------------- churn by variable


def band(
    series: pd.Series,
    edges: Sequence[float],
    labels: Sequence[str] | None = None,
) -> pd.Series:
    """Cut a numeric Series (tenure in months, ARR, employees, ...) into ordered bands.

    Each band includes its lower edge and excludes its upper edge: edges ``[0, 12, 24,
    inf]`` give ``"0-12"`` (0 ≤ x < 12), ``"12-24"``, ``"24+"``. Values outside the edges
    and missing values become ``NaN`` (shown as ``"(missing)"`` by
    :func:`churn_by_variable`).

    Parameters
    ----------
    series : Series
        Numbers to band.
    edges : sequence of float
        Increasing band edges; use ``float("inf")`` as the last edge for an open band.
    labels : sequence of str, optional
        One label per band (``len(edges) - 1``); generated as above if omitted.

    Returns
    -------
    Series
        Ordered categorical, same index as ``series``.
    """
    edges = list(edges)
    if labels is None:
        labels = [
            f"{lo:g}+" if np.isinf(hi) else f"{lo:g}-{hi:g}"
            for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        ]
    values = pd.to_numeric(series, errors="coerce").astype(float)
    return pd.cut(values, bins=edges, labels=list(labels), right=False, ordered=True)


def tenure_months(accounts: pd.DataFrame, as_of: Any) -> pd.Series:
    """Tenure of each account in months: from ``start_date`` to ``churn_date`` if the
    account churned on or before ``as_of``, else to ``as_of``.

    Months are days / 30.4375 (the average month), as floats; ``NaN`` without a start.
    """
    as_of = pd.Timestamp(as_of)
    start = pd.to_datetime(accounts["start_date"])
    end = pd.Series(as_of, index=accounts.index)
    if "churn_date" in accounts.columns:
        churn = pd.to_datetime(accounts["churn_date"])
        end = churn.where(churn.notna() & (churn <= as_of), end)
    return (end - start).dt.days / 30.4375


def _churned_flags(accounts: pd.DataFrame, churned: str | pd.Series | None) -> pd.Series:
    if churned is None:
        flag = accounts["status"].astype("string").str.strip().str.casefold().eq("churned")
    elif isinstance(churned, str):
        flag = accounts[churned]
    else:
        flag = pd.Series(churned).reindex(accounts.index)
    return flag.astype("boolean").fillna(False).astype(bool)


def _group_labels(values: pd.Series) -> pd.Series:
    """Groups with missing values labelled "(missing)" (kept, not dropped)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        if values.isna().any():
            values = values.cat.add_categories([MISSING_LABEL]).fillna(MISSING_LABEL)
        return values
    return values.astype(object).where(values.notna(), MISSING_LABEL)


def churn_by_variable(
    accounts: pd.DataFrame,
    variable: str,
    *,
    churned: str | pd.Series | None = None,
    small_n: int,
    z: float = 1.96,
) -> pd.DataFrame:
    """Churn rate of each group of a variable (industry, size band, owner, tenure band...).

    Parameters
    ----------
    accounts : DataFrame
        One row per account (canonical ``accounts``, possibly with added band columns).
    variable : str
        Column to group by. Missing values form a ``"(missing)"`` group.
    churned : str or boolean Series, optional
        Which accounts churned: a boolean column name, or a boolean Series aligned on
        ``accounts``' index (e.g. churned within the trailing 12 months). Default:
        ``status == "churned"``. Missing flags count as not churned.
    small_n : int
        ``thresholds.small_group_n``: groups with fewer accounts get ``too_small = True``.
        They are kept and shown, not hidden.
    z : float, default 1.96
        Normal quantile of the interval (1.96 = 95%).

    Returns
    -------
    DataFrame
        Indexed by the variable's groups, sorted by rate (then n) descending. Columns:
        ``n`` (accounts), ``churned`` (accounts), ``rate`` = churned / n, ``ci_low``,
        ``ci_high`` (Wilson interval of the rate), ``too_small`` (n < small_n).
    """
    flags = _churned_flags(accounts, churned)
    groups = _group_labels(accounts[variable])
    frame = pd.DataFrame({"group": groups.to_numpy(), "churned": flags.to_numpy()})
    table = frame.groupby("group", observed=True, sort=False)["churned"].agg(
        n="size", churned="sum"
    )
    table["churned"] = table["churned"].astype(np.int64)
    table["rate"] = table["churned"] / table["n"]
    low, high = wilson_interval(table["churned"].to_numpy(), table["n"].to_numpy(), z=z)
    table["ci_low"], table["ci_high"] = low, high
    table["too_small"] = table["n"] < small_n
    table.index.name = variable
    return table.sort_values(["rate", "n"], ascending=[False, False], kind="mergesort")


def _contingency(table: Any) -> np.ndarray:
    if isinstance(table, pd.DataFrame) and {"n", "churned"} <= set(table.columns):
        churned = table["churned"].to_numpy(dtype=np.int64)
        return np.column_stack([churned, table["n"].to_numpy(dtype=np.int64) - churned])
    return np.asarray(table, dtype=np.int64)


def association_test(
    table: Any, *, alpha: float = 0.05, seed: int = 7, n_resamples: int = 9999
) -> dict[str, Any]:
    """Is churn associated with the grouping? Chi-square or Fisher's exact test.

    Parameters
    ----------
    table : DataFrame or array-like
        Either the output of :func:`churn_by_variable` (uses ``n`` and ``churned``), or a
        contingency table of counts (rows: groups, columns: outcomes).
    alpha : float, default 0.05
        Significance level for ``significant``.
    seed, n_resamples : int
        Monte Carlo settings for Fisher's test on tables larger than 2×2 (reproducible).

    Returns
    -------
    dict
        ``test`` — which test gave ``p_value``:

        * ``"fisher_exact"`` for a 2×2 table (exact; ``odds_ratio`` given);
        * ``"fisher_exact_monte_carlo"`` for a larger table where any expected count is
          below 5 (chi-square unreliable); p-value from ``n_resamples`` random tables
          with the observed margins;
        * ``"chi_square"`` otherwise (test of independence, no continuity correction);
        * ``"none"`` when fewer than two groups or outcomes remain (p_value ``NaN``).

        Also ``p_value``, ``significant`` (p < alpha), ``n`` (accounts), ``rows``,
        ``cols`` (after dropping empty rows and columns), ``chi2``, ``dof``,
        ``chi2_p_value`` (always reported for reference), ``min_expected``,
        ``cramers_v`` (effect size, 0 = none, 1 = complete) and ``note``.
    """
    obs = _contingency(table)
    obs = obs[obs.sum(axis=1) > 0][:, obs.sum(axis=0) > 0] if obs.size else obs.reshape(0, 0)
    result: dict[str, Any] = {
        "test": "none", "p_value": float("nan"), "significant": False,
        "n": int(obs.sum()), "rows": obs.shape[0], "cols": obs.shape[1] if obs.ndim == 2 else 0,
        "chi2": float("nan"), "dof": 0, "chi2_p_value": float("nan"),
        "min_expected": float("nan"), "cramers_v": float("nan"), "odds_ratio": float("nan"),
        "note": "",
    }
    if obs.ndim != 2 or min(obs.shape) < 2:
        result["note"] = "Needs at least two groups with accounts and both outcomes present."
        return result
    chi = sps.chi2_contingency(obs, correction=False)
    n = obs.sum()
    result.update(
        chi2=float(chi.statistic), dof=int(chi.dof), chi2_p_value=float(chi.pvalue),
        min_expected=float(chi.expected_freq.min()),
        cramers_v=float(np.sqrt(chi.statistic / (n * (min(obs.shape) - 1)))),
    )
    if obs.shape == (2, 2):
        fe = sps.fisher_exact(obs)
        result.update(test="fisher_exact", p_value=float(fe.pvalue),
                      odds_ratio=float(fe.statistic),
                      note="2×2 table: Fisher's exact test.")
    elif result["min_expected"] < 5:
        method = sps.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
        fe = sps.fisher_exact(obs, method=method)
        result.update(test="fisher_exact_monte_carlo", p_value=float(fe.pvalue),
                      note="Some expected counts are below 5, so chi-square is unreliable: "
                      "Fisher's exact test (Monte Carlo p-value).")
    else:
        result.update(test="chi_square", p_value=float(chi.pvalue),
                      note="Chi-square test of independence (all expected counts >= 5).")
    result["significant"] = bool(result["p_value"] < alpha)
    return result


def holm_adjust(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values of a family of tests (same order as given).

    With the *m* p-values that are numbers sorted ascending, p₍₁₎ ≤ … ≤ p₍ₘ₎, the adjusted
    value of the i-th is ``max over j ≤ i of min(1, (m − j + 1) · p₍ⱼ₎)``. Rejecting where the
    adjusted value is below α keeps the chance of *any* false "differs" in the family at or
    below α, without assuming the tests independent (Holm 1979; uniformly more powerful than
    Bonferroni). A NaN p-value (no test) is not part of the family and stays NaN.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = len(tested)
    order = tested[np.argsort(p[tested], kind="mergesort")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def correct_for_multiple_tests(tests: Mapping[str, dict[str, Any]], *, alpha: float = 0.05
                               ) -> dict[str, dict[str, Any]]:
    """The tests of one family (e.g. churn by each variable, :func:`association_test`) with
    Holm's correction (:func:`holm_adjust`): each test gains ``p_adjusted``,
    ``family_size`` (tests with a p-value), ``correction`` ("holm") and
    ``significant_raw`` (raw p < alpha); ``significant`` becomes adjusted p < alpha.
    ``p_value`` stays the raw p-value. New dicts; the inputs are not changed."""
    labels = list(tests)
    raw = [float(tests[k].get("p_value", np.nan)) for k in labels]
    adjusted = holm_adjust(raw)
    size = int(np.count_nonzero(~np.isnan(np.asarray(raw, dtype=float))))
    out = {}
    for label, p, q in zip(labels, raw, adjusted, strict=True):
        out[label] = {**tests[label], "p_adjusted": float(q), "family_size": size,
                      "correction": "holm", "significant_raw": bool(p < alpha),
                      "significant": bool(q < alpha)}
    return out


# --------------------------------------------------------------------------- by segment


def reasons_by_segment(
    churn_events: pd.DataFrame,
    accounts: pd.DataFrame,
    segment_col: str,
    *,
    uninformative: Iterable[str],
    code_col: str = "reason_code",
    small_n: int,
) -> pd.DataFrame:
    """Share of lost MRR per churn reason within each segment.

    ``small_n`` is ``thresholds.small_group_n``.

    Each event takes the segment of its account (``accounts[segment_col]``; events of
    unknown accounts or with a missing segment go to ``"(missing)"``).

    Returns
    -------
    DataFrame
        Tidy: one row per segment and reason. Columns: ``<segment_col>``, ``reason``,
        ``logos`` (events), ``lost_mrr`` (currency), ``share_lost_mrr`` = lost_mrr /
        the segment's total lost MRR (``NaN`` if that is 0), ``share_logos`` = logos / the
        segment's events, ``segment_logos``, ``segment_lost_mrr``, ``too_small``
        (segment_logos < small_n) and ``uninformative`` (the reason says nothing:
        ``uninformative``, i.e. ``churn.uninformative_reasons``). Sorted by segment, then
        share of lost MRR descending.
        For a heatmap: ``.pivot(index="reason", columns=segment_col,
        values="share_lost_mrr")``.
    """
    seg = accounts.drop_duplicates("account_id").set_index("account_id")[segment_col]
    frame = pd.DataFrame(
        {
            segment_col: _group_labels(churn_events["account_id"].map(seg)).to_numpy(),
            "reason": reason_labels(churn_events[code_col]).to_numpy(),
            "lost": _lost(churn_events).fillna(0.0).to_numpy(),
            "uninformative": is_uninformative(churn_events[code_col],
                                              list(uninformative)).to_numpy(),
        }
    )
    out = frame.groupby([segment_col, "reason"], observed=True).agg(
        logos=("lost", "size"), lost_mrr=("lost", "sum"),
        uninformative=("uninformative", "first"),
    ).reset_index()
    totals = out.groupby(segment_col, observed=True)[["logos", "lost_mrr"]].transform("sum")
    out["segment_logos"] = totals["logos"].astype(np.int64)
    out["segment_lost_mrr"] = totals["lost_mrr"]
    out["share_lost_mrr"] = out["lost_mrr"] / out["segment_lost_mrr"].where(
        out["segment_lost_mrr"] > 0
    )
    out["share_logos"] = out["logos"] / out["segment_logos"]
    out["too_small"] = out["segment_logos"] < small_n
    out = out.sort_values(
        [segment_col, "share_lost_mrr", "logos", "reason"],
        ascending=[True, False, False, True], kind="mergesort",
    ).reset_index(drop=True)
    return out[[segment_col, "reason", "logos", "lost_mrr", "share_lost_mrr", "share_logos",
                "segment_logos", "segment_lost_mrr", "too_small", "uninformative"]]
