"""Revenue leakage: MRR movements, churn and retention rates, cohorts, renewal churn.

Pure functions on the canonical tables (``mrr``, ``churn_events``, ``renewals``,
``accounts``; see :mod:`playbook.contract`). Amounts are in the client's currency; rates are
shares (0.05 = 5%), never percentages.

Conventions shared by every function here
-----------------------------------------
* MRR is read per account and calendar month; a month with no row is 0 MRR. Several rows
  for one account and month are added up.
* Amounts are rounded to whole cents before any movement is computed and summed as
  integers, so the MRR bridge closes exactly (to the cent) however many accounts there are.
* The movement of month *m* is the change from the end of month *m-1* to the end of month
  *m*: ``start_mrr`` of *m* is the MRR billed in *m-1*, ``end_mrr`` is the MRR billed in *m*.
  The first month of the data therefore has no movement row: it is the opening balance.
* Churn is an account-level view: an account that drops one product line but keeps other
  MRR contracts; only an account going to 0 MRR churns.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from playbook.analyses.stats import annualise_rate, safe_ratio
from playbook.errors import PlaybookError
from playbook.membership import is_in

MOVEMENT_COLUMNS = [
    "start_mrr", "new", "expansion", "contraction", "churn", "reactivation", "end_mrr",
    "start_logos", "new_logos", "reactivated_logos", "churned_logos", "end_logos",
    "same_month_logos",
]


# --------------------------------------------------------------------------- helpers


def _month_ordinal(dates: pd.Series) -> np.ndarray:
    """Months since year 0 (``year*12 + month-1``) of each date, as int64."""
    d = pd.to_datetime(dates)
    return (d.dt.year.astype("int64") * 12 + d.dt.month.astype("int64") - 1).to_numpy()


def _ordinal_to_month(ordinal: int) -> pd.Timestamp:
    return pd.Timestamp(year=int(ordinal) // 12, month=int(ordinal) % 12 + 1, day=1)


def _to_month(value: Any) -> pd.Timestamp:
    """A date-like value normalised to the first day of its month."""
    ts = pd.Timestamp(value)
    return pd.Timestamp(year=ts.year, month=ts.month, day=1)


def _to_cents(values: pd.Series | np.ndarray) -> np.ndarray:
    """Money as whole cents (int64); missing amounts count as 0."""
    arr = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    return np.round(arr * 100.0).astype(np.int64)


def _mrr_matrix(mrr: pd.DataFrame) -> tuple[pd.Index, pd.DatetimeIndex, np.ndarray]:
    """MRR as an accounts × months matrix of cents.

    Returns
    -------
    accounts : Index
        Account ids, one per matrix row.
    months : DatetimeIndex
        Every calendar month (1st of month) from the first to the last month in ``mrr``,
        gaps included.
    cents : ndarray of int64, shape (len(accounts), len(months))
        MRR in cents; 0 where the account has no row for the month.
    """
    frame = mrr.loc[:, ["account_id", "month", "mrr"]].dropna(subset=["account_id", "month"])
    if frame.empty:
        return pd.Index([], name="account_id"), pd.DatetimeIndex([], name="month"), np.zeros(
            (0, 0), dtype=np.int64
        )
    ordinal = _month_ordinal(frame["month"])
    first, last = int(ordinal.min()), int(ordinal.max())
    codes, accounts = pd.factorize(frame["account_id"], sort=True)
    cents = np.zeros((len(accounts), last - first + 1), dtype=np.int64)
    np.add.at(cents, (codes, ordinal - first), _to_cents(frame["mrr"]))
    months = pd.date_range(_ordinal_to_month(first), periods=last - first + 1, freq="MS")
    return pd.Index(accounts, name="account_id"), months.rename("month"), cents


def _money(cents: np.ndarray) -> np.ndarray:
    return cents / 100.0


# --------------------------------------------------------------------------- movements


def mrr_movements(
    mrr: pd.DataFrame,
    *,
    reactivation_window_months: int,
    count_same_month_churn: bool,
    churn_events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Monthly MRR bridge: how the MRR at the start of each month became the MRR at its end.

    Each account's MRR in month *m* is compared with its MRR in month *m-1*:

    * **new**: 0 → > 0 and the account never had MRR before in the data, or its last month
      with MRR is more than ``reactivation_window_months`` before *m*. Amount: MRR in *m*.
    * **reactivation**: 0 → > 0 and the account's last month with MRR is at most
      ``reactivation_window_months`` before *m* (e.g. window 12: MRR in Jan 2024, none
      Feb-Dec, back in Jan 2025 → 12 months → reactivation; back in Feb 2025 → new).
    * **expansion** / **contraction**: > 0 → more / less but still > 0. Amount: the change.
    * **churn**: > 0 → 0. Amount: MRR in *m-1* (the MRR lost).

    Contraction and churn are positive amounts lost. The bridge closes exactly for every
    month: ``start_mrr + new + expansion + reactivation - contraction - churn = end_mrr``
    and ``end_mrr`` of *m* equals ``start_mrr`` of *m+1* (amounts are summed in whole cents).

    Parameters
    ----------
    mrr : DataFrame
        Canonical ``mrr`` table: ``account_id``, ``month`` (datetime), ``mrr`` (money >= 0).
        A missing month is 0 MRR.
    reactivation_window_months : int
        ``churn.reactivation_window_months``: longest gap, in months from the last month
        with MRR to the month of return, that still counts as a reactivation.
    count_same_month_churn : bool
        ``churn.count_same_month_churn``. An account that starts and cancels within one
        month never shows in monthly MRR. When this is true *and* ``churn_events`` is
        given, each such account (a churn event whose account has no MRR > 0 anywhere in
        ``mrr``) is counted in its churn month as one new logo and one churned logo, with
        its ``lost_mrr`` (0 if missing) as both new and churned MRR: it nets to zero in the
        bridge but shows in the gross flows and logo counts. Without ``churn_events`` the
        setting has no effect. Events outside the movement months are ignored.
    churn_events : DataFrame, optional
        Canonical ``churn_events`` table (``account_id``, ``churn_date``, ``lost_mrr``),
        used only for ``count_same_month_churn``.

    Returns
    -------
    DataFrame
        Indexed by ``month`` (1st of month), from the second month of the data to the last
        (the first month is the opening balance). Money columns (currency):
        ``start_mrr, new, expansion, contraction, churn, reactivation, end_mrr``. Logo
        columns (accounts): ``start_logos`` (MRR > 0 in *m-1*), ``new_logos``,
        ``reactivated_logos``, ``churned_logos``, ``end_logos`` (MRR > 0 in *m*), and
        ``same_month_logos`` (started and churned within *m*; already included in
        ``new_logos`` and ``churned_logos``).
        ``start_logos + new_logos + reactivated_logos - churned_logos = end_logos``.

    Notes
    -----
    History before the first month of the data is unknown: an account whose first MRR in
    the data follows a gap is classed as new even if it was a customer before. Vectorised
    over an accounts × months matrix; 100,000 accounts × 36 months take well under a second.
    """
    accounts, months, c = _mrr_matrix(mrr)
    if len(months) < 2:
        return pd.DataFrame(
            columns=MOVEMENT_COLUMNS, index=pd.DatetimeIndex([], name="month"), dtype=float
        )
    prev, now = c[:, :-1], c[:, 1:]
    n_months = c.shape[1]
    # Index of the last month with MRR > 0 at or before each month (-1 = never).
    last_pos = np.maximum.accumulate(np.where(c > 0, np.arange(n_months), -1), axis=1)
    last_before = last_pos[:, :-1]  # for month j (1..), last month with MRR up to j-1
    gap = np.arange(1, n_months)[None, :] - last_before

    starts = (prev == 0) & (now > 0)
    is_react = starts & (last_before >= 0) & (gap <= reactivation_window_months)
    is_new = starts & ~is_react
    is_churn = (prev > 0) & (now == 0)
    is_exp = (prev > 0) & (now > prev)
    is_con = (prev > 0) & (now > 0) & (now < prev)

    def total(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        return np.where(mask, values, 0).sum(axis=0)

    new_c = total(is_new, now)
    same_logos = np.zeros(n_months - 1, dtype=np.int64)
    same_c = np.zeros(n_months - 1, dtype=np.int64)
    if count_same_month_churn and churn_events is not None and len(churn_events):
        same_logos, same_c = _same_month_churn(churn_events, accounts, c, months)

    out = pd.DataFrame(
        {
            "start_mrr": _money(prev.sum(axis=0)),
            "new": _money(new_c + same_c),
            "expansion": _money(total(is_exp, now - prev)),
            "contraction": _money(total(is_con, prev - now)),
            "churn": _money(total(is_churn, prev) + same_c),
            "reactivation": _money(total(is_react, now)),
            "end_mrr": _money(now.sum(axis=0)),
            "start_logos": (prev > 0).sum(axis=0),
            "new_logos": is_new.sum(axis=0) + same_logos,
            "reactivated_logos": is_react.sum(axis=0),
            "churned_logos": is_churn.sum(axis=0) + same_logos,
            "end_logos": (now > 0).sum(axis=0),
            "same_month_logos": same_logos,
        },
        index=months[1:],
    )
    return out


def _same_month_churn(
    churn_events: pd.DataFrame, accounts: pd.Index, cents: np.ndarray, months: pd.DatetimeIndex
) -> tuple[np.ndarray, np.ndarray]:
    """Logos and MRR (cents) per movement month of accounts that churned without ever
    showing MRR (started and cancelled within one month)."""
    n = len(months) - 1
    ever = pd.Index(accounts[(cents > 0).any(axis=1)])
    ev = churn_events.dropna(subset=["account_id", "churn_date"])
    ev = ev.loc[~is_in(ev["account_id"], ever)]
    if ev.empty:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    lost = ev["lost_mrr"] if "lost_mrr" in ev else pd.Series(0.0, index=ev.index)
    pos = _month_ordinal(ev["churn_date"]) - _month_ordinal(pd.Series(months[:1]))[0] - 1
    per = (
        pd.DataFrame({"account_id": ev["account_id"].to_numpy(), "pos": pos,
                      "cents": _to_cents(lost)})
        .query("pos >= 0 and pos < @n")
        .groupby(["account_id", "pos"], as_index=False)["cents"].sum()
    )
    logos = np.bincount(per["pos"].to_numpy(), minlength=n).astype(np.int64)
    money = np.bincount(per["pos"].to_numpy(), weights=per["cents"].to_numpy(), minlength=n)
    return logos, np.round(money).astype(np.int64)


# --------------------------------------------------------------------------- rates


def recognise_churn(
    mrr: pd.DataFrame,
    churn_events: pd.DataFrame | None,
    *,
    recognise_at: Literal["cancellation", "end_of_paid_period"],
) -> pd.DataFrame:
    """Apply the churn-recognition policy to the monthly MRR before computing movements.

    * ``"end_of_paid_period"``: churn is recognised in the first month without MRR, i.e.
      when the paid period ends. The MRR table is returned unchanged.
    * ``"cancellation"``: churn is recognised in the month of the cancellation (the churn
      event's ``churn_date``) even if the customer is still paying out its term: MRR of
      that account from the cancellation month to the end of the same unbroken run of paid
      months is removed. Months after a gap (a return) are kept. A cancellation dated after
      the last paid month changes nothing.

    Parameters
    ----------
    mrr : DataFrame
        Canonical ``mrr`` table (``account_id``, ``month``, ``mrr``).
    churn_events : DataFrame or None
        Canonical ``churn_events``; without it the table is returned unchanged.
    recognise_at : {"cancellation", "end_of_paid_period"}
        ``churn.recognise_at``.

    Returns
    -------
    DataFrame
        The MRR rows that count under the policy (same columns).
    """
    if recognise_at == "end_of_paid_period" or churn_events is None or churn_events.empty:
        return mrr
    if recognise_at != "cancellation":
        raise ValueError(f"unknown churn recognition policy {recognise_at!r}")
    events = churn_events.dropna(subset=["churn_date"])[["account_id", "churn_date"]].copy()
    events["month"] = events["churn_date"].dt.to_period("M").dt.to_timestamp()
    # only the paid months of accounts with a cancellation can be cut (a run of paid
    # months never spans two accounts): the others are neither sorted nor matched
    paid = mrr[(mrr["mrr"] > 0) & is_in(mrr["account_id"], events["account_id"])]
    paid = paid.sort_values(["account_id", "month"]).copy()
    ordinal = _month_ordinal(paid["month"])
    new_run = (paid["account_id"] != paid["account_id"].shift()) | (
        np.diff(ordinal, prepend=ordinal[:1] - 2) != 1)
    paid["_run"] = new_run.cumsum().to_numpy()
    hit = events.merge(paid[["account_id", "month", "_run"]], on=["account_id", "month"])
    if hit.empty:
        return mrr
    cut = hit.groupby("_run")["month"].min()
    paid["_cut"] = paid["_run"].map(cut)
    drop = paid.index[paid["_cut"].notna() & (paid["month"] >= paid["_cut"])]
    return mrr.drop(index=drop)


def net_mrr_churn(start_mrr: float, lost: float, expansion: float) -> float:
    """Net MRR churn rate = (MRR lost to churn and contraction − expansion MRR) / start MRR.

    Parameters
    ----------
    start_mrr : float
        MRR at the start of the period (currency). The denominator.
    lost : float
        MRR lost in the period to churn and contraction (positive amount).
    expansion : float
        MRR gained from existing customers in the period (upsell; include reactivation if
        you treat it as a gain from the existing base).

    Returns
    -------
    float
        Share of start MRR; negative means the base grew on its own ("negative churn").
        domain.md: 700,000 start, 50,000 lost, 75,000 expansion → −0.0357 (−3.57%).
        ``NaN`` if ``start_mrr`` is 0.
    """
    return safe_ratio(lost - expansion, start_mrr)


def growth_target_new_sales(target_growth: float, churn_rate: float) -> float:
    """New sales needed in a year, as a share of last year's base, to hit a growth target.

    ``new sales = target growth + churn`` (additive, one-year view, churn measured on the
    opening base): to grow 50% while losing 20% to churn, new sales must reach 70%.

    Parameters
    ----------
    target_growth : float
        Wanted growth of the base over the year, share (0.5 = 50%).
    churn_rate : float
        Share of the opening base lost to churn over the year.

    Returns
    -------
    float
        New sales (ARR or MRR) as a share of the opening base.
    """
    return float(target_growth) + float(churn_rate)


def _window(movements: pd.DataFrame, start: Any, end: Any) -> pd.DataFrame:
    lo = movements.index.min() if start is None else _to_month(start)
    hi = movements.index.max() if end is None else _to_month(end)
    win = movements.loc[(movements.index >= lo) & (movements.index <= hi)]
    if win.empty:
        have = (
            f"{movements.index.min():%Y-%m} to {movements.index.max():%Y-%m}"
            if len(movements) else "no months"
        )
        raise PlaybookError(
            f"No MRR movements between {lo:%Y-%m} and {hi:%Y-%m}; the data has {have}.",
            fix="Choose a period inside the months covered by the MRR data.",
        )
    return win


def _quick_ratio(gains: float, losses: float) -> float:
    """Gains / losses; ``inf`` if only gains, ``NaN`` if neither."""
    if losses > 0:
        return gains / losses
    return float("inf") if gains > 0 else float("nan")


def retention_summary(
    movements: pd.DataFrame, start: Any = None, end: Any = None
) -> dict[str, Any]:
    """Churn and retention rates over a window of months, from :func:`mrr_movements`.

    The window is the movement months ``start`` to ``end`` inclusive (any date in a month
    selects it; ``None`` = first / last month available). Every MRR rate divides by
    ``start_mrr``, the MRR at the start of the window (end of the month before ``start``),
    so a 3-month window gives a quarterly rate and a 12-month window an annual one.

    Parameters
    ----------
    movements : DataFrame
        Output of :func:`mrr_movements`.
    start, end : date-like, optional
        First and last month of the window.

    Returns
    -------
    dict
        ``start_month``, ``end_month``, ``months`` (count); ``start_mrr``, ``end_mrr``;
        totals over the window of ``new``, ``expansion``, ``contraction``, ``churn``,
        ``reactivation`` and ``lost_mrr`` (= churn + contraction), in currency;
        ``gross_mrr_churn`` = (churn + contraction) / start_mrr;
        ``net_mrr_churn`` = (churn + contraction − expansion − reactivation) / start_mrr;
        ``grr`` = 1 − gross_mrr_churn; ``nrr`` = 1 − net_mrr_churn;
        ``quick_ratio`` = (new + expansion + reactivation) / (churn + contraction)
        (``inf`` if nothing was lost but something gained, ``NaN`` if neither);
        ``logo_churn_monthly`` = mean over the window's months of
        churned_logos / start_logos; ``logo_churn_annualised`` = 1 − (1 − monthly)^12;
        ``start_logos``, ``end_logos`` and totals of ``new_logos``, ``reactivated_logos``,
        ``churned_logos``.

    Raises
    ------
    PlaybookError
        If no movement month falls in the window.
    """
    win = _window(movements, start, end)
    tot = win[["new", "expansion", "contraction", "churn", "reactivation"]].sum()
    start_mrr = float(win["start_mrr"].iloc[0])
    lost = float(tot["churn"] + tot["contraction"])
    gains_base = float(tot["expansion"] + tot["reactivation"])
    gains_all = float(tot["new"]) + gains_base
    gross = safe_ratio(lost, start_mrr)
    net = safe_ratio(lost - gains_base, start_mrr)
    quick = _quick_ratio(gains_all, lost)
    with np.errstate(divide="ignore", invalid="ignore"):
        monthly_logo = win["churned_logos"] / win["start_logos"].where(win["start_logos"] > 0)
    logo_m = float(monthly_logo.mean()) if monthly_logo.notna().any() else float("nan")
    return {
        "start_month": win.index[0],
        "end_month": win.index[-1],
        "months": len(win),
        "start_mrr": start_mrr,
        "end_mrr": float(win["end_mrr"].iloc[-1]),
        **{k: float(v) for k, v in tot.items()},
        "lost_mrr": lost,
        "gross_mrr_churn": gross,
        "net_mrr_churn": net,
        "grr": 1.0 - gross,
        "nrr": 1.0 - net,
        "quick_ratio": quick,
        "logo_churn_monthly": logo_m,
        "logo_churn_annualised": annualise_rate(logo_m),
        "start_logos": int(win["start_logos"].iloc[0]),
        "end_logos": int(win["end_logos"].iloc[-1]),
        "new_logos": int(win["new_logos"].sum()),
        "reactivated_logos": int(win["reactivated_logos"].sum()),
        "churned_logos": int(win["churned_logos"].sum()),
    }


def trailing_retention(mrr: pd.DataFrame, *, months: int) -> pd.DataFrame:
    """Cohort-style trailing gross and net revenue retention (GRR, NRR) by month.

    For each month *m*, the base is the accounts with MRR > 0 in month *m − months*:

    * ``grr`` = Σ min(MRR in *m*, MRR in *m − months*) / Σ MRR in *m − months*
      (each account capped at its old MRR: expansion cannot hide losses);
    * ``nrr`` = Σ MRR in *m* / Σ MRR in *m − months* (uncapped: expansion counts).

    Accounts that joined after *m − months* are not in the base; an account of the base
    that left and came back by *m* counts with its MRR in *m*.

    Parameters
    ----------
    mrr : DataFrame
        Canonical ``mrr`` table.
    months : int
        Look-back (``period.trailing_months``).

    Returns
    -------
    DataFrame
        Indexed by ``month`` from the first month with a full look-back. Columns:
        ``base_mrr`` (currency, MRR *months* ago of the base), ``retained_mrr_capped``,
        ``retained_mrr`` (currency, now), ``grr``, ``nrr`` (shares), ``base_logos``,
        ``retained_logos`` (base accounts with MRR > 0 in *m*) and ``logo_retention``
        (retained_logos / base_logos). Rates are ``NaN`` where the base is empty.
    """
    _, idx, c = _mrr_matrix(mrr)
    cols = ["base_mrr", "retained_mrr_capped", "retained_mrr", "grr", "nrr",
            "base_logos", "retained_logos", "logo_retention"]
    if c.shape[1] <= months:
        return pd.DataFrame(columns=cols, index=pd.DatetimeIndex([], name="month"), dtype=float)
    old, now = c[:, :-months], c[:, months:]
    inbase = old > 0
    base = np.where(inbase, old, 0).sum(axis=0)
    capped = np.where(inbase, np.minimum(now, old), 0).sum(axis=0)
    uncapped = np.where(inbase, now, 0).sum(axis=0)
    base_logos = inbase.sum(axis=0)
    kept_logos = (inbase & (now > 0)).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.where(base > 0, base, np.nan)
        logo_denom = np.where(base_logos > 0, base_logos, np.nan)
        out = pd.DataFrame(
            {
                "base_mrr": _money(base),
                "retained_mrr_capped": _money(capped),
                "retained_mrr": _money(uncapped),
                "grr": capped / denom,
                "nrr": uncapped / denom,
                "base_logos": base_logos,
                "retained_logos": kept_logos,
                "logo_retention": kept_logos / logo_denom,
            },
            index=idx[months:],
        )
    return out


# --------------------------------------------------------------------------- cohorts


def cohort_retention(
    mrr: pd.DataFrame, *, by: Literal["quarter", "month"] = "quarter"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Logo and revenue retention of start cohorts, by months since each account's start.

    An account's start is its first month with MRR > 0 in the data; its cohort is that
    month (``by="month"``) or its calendar quarter (``by="quarter"``). Column *k* is *k*
    months after each account's own first month (0 = the first month, so logo share is 1).

    Parameters
    ----------
    mrr : DataFrame
        Canonical ``mrr`` table.
    by : {"quarter", "month"}, default "quarter"
        Cohort width.

    Returns
    -------
    logo_matrix : DataFrame
        Rows: cohort (``Period``), columns: months since start (0, 1, ...). Share of the
        cohort's accounts with MRR > 0 at that age.
    revenue_matrix : DataFrame
        Same shape: the cohort's MRR at that age / the cohort's starting MRR (sum of each
        account's MRR in its first month). Above 1 when expansion beats losses.
    cohort_sizes : DataFrame
        Per cohort: ``accounts``, ``start_mrr`` (currency) and ``left_censored`` (true for
        the cohort holding the first month of the data: it mixes true starts with every
        account already paying before the data began; read it with care).

    Notes
    -----
    A cell is ``NaN`` when the age lies beyond the data for *any* account of the cohort
    (so every shown value covers the whole cohort and the triangle is clean); with
    quarterly cohorts the last one to two observable ages of a cohort are therefore blank.
    """
    if by not in ("quarter", "month"):
        raise ValueError(f"by must be 'quarter' or 'month', not {by!r}")
    _, months, c = _mrr_matrix(mrr)
    has = (c > 0).any(axis=1) if c.size else np.zeros(0, dtype=bool)
    c = c[has]
    n_months = len(months)
    if not len(c):
        empty = pd.DataFrame(index=pd.PeriodIndex([], freq="M", name="cohort"))
        return empty, empty.copy(), empty.assign(accounts=[], start_mrr=[], left_censored=[])
    first = np.argmax(c > 0, axis=1)
    ages = np.arange(n_months - first.min())
    col = first[:, None] + ages[None, :]
    inside = col < n_months
    aligned = np.where(inside, c[np.arange(len(c))[:, None], np.minimum(col, n_months - 1)], 0)

    freq = "Q" if by == "quarter" else "M"
    cohort = pd.PeriodIndex(months[first], freq=freq, name="cohort")
    active = pd.DataFrame((aligned > 0).astype(np.int64), index=cohort, columns=ages)
    money = pd.DataFrame(aligned, index=cohort, columns=ages)
    n_acc = active.groupby(level=0).size()
    logos = active.groupby(level=0).sum()
    revenue = money.groupby(level=0).sum()
    start_cents = revenue[0]
    logo_m = logos.div(n_acc, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rev_m = revenue.div(start_cents.where(start_cents > 0), axis=0)
    # Last age observable for every account of the cohort.
    max_age = pd.Series(n_months - 1 - first, index=cohort).groupby(level=0).min()
    beyond = ages[None, :] > max_age.to_numpy()[:, None]
    logo_m = logo_m.mask(beyond)
    rev_m = rev_m.mask(beyond)
    logo_m.columns.name = rev_m.columns.name = "months_since_start"
    first_period = pd.Period(months[0], freq=freq)
    sizes = pd.DataFrame(
        {
            "accounts": n_acc.astype(np.int64),
            "start_mrr": _money(start_cents.to_numpy()),
            "left_censored": n_acc.index == first_period,
        },
        index=n_acc.index,
    )
    return logo_m, rev_m, sizes


# --------------------------------------------------------------------------- renewals


def renewal_churn(table: pd.DataFrame, start: Any, end: Any) -> dict[str, Any]:
    """Renewal churn: ARR lost at renewal / ARR that came up for renewal in a window.

    With the ``renewals`` table (preferred; has ``outcome``):

    * ``arr_up`` = Σ ``arr_before`` of every renewal with ``renewal_date`` in
      [start, end] (both dates inclusive);
    * ``renewal_churn_rate`` = Σ ``arr_before`` of outcome "churned" / ``arr_up``;
    * ``downgrade_rate`` = Σ (``arr_before`` − ``arr_after``) of outcome "downgraded"
      / ``arr_up`` (reported separately, not in the churn rate);
    * ``gross_renewal_retention`` = 1 − renewal_churn_rate − downgrade_rate.

    With the ``accounts`` table (fallback; has ``status`` but no ``outcome``): accounts with
    ``renewal_date`` in the window are up for renewal with their ``arr`` (``mrr`` × 12 where
    ``arr`` is missing); those with status "churned" count as churned. Downgrades cannot
    be seen, so the downgrade figures are ``NaN`` and ``gross_renewal_retention`` is
    1 − renewal_churn_rate. Churned accounts whose last renewal date was not updated, or
    which left mid-term, may fall outside the window: prefer the renewals table.

    Parameters
    ----------
    table : DataFrame
        Canonical ``renewals`` or ``accounts`` table.
    start, end : date-like
        First and last day of the window, inclusive (pass the period's last day as ``end``).

    Returns
    -------
    dict
        ``source`` ("renewals" / "accounts"), ``renewals`` (count up for renewal),
        ``churned``, ``downgraded`` (counts), ``arr_up``, ``churned_arr``,
        ``downgrade_arr`` (currency), ``renewal_churn_rate``, ``logo_renewal_churn_rate``
        (churned / renewals), ``downgrade_rate``, ``gross_renewal_retention`` (shares) and
        ``missing_arr`` (rows in the window without ARR: counted, not in the sums).
    """
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if "outcome" in table.columns:
        source, date_col = "renewals", "renewal_date"
        dates = pd.to_datetime(table[date_col]).dt.normalize()
        win = table.loc[(dates >= lo) & (dates <= hi)]
        arr = pd.to_numeric(win["arr_before"], errors="coerce")
        churned = win["outcome"].eq("churned").fillna(False).to_numpy(dtype=bool)
        down = win["outcome"].eq("downgraded").fillna(False).to_numpy(dtype=bool)
        after = (
            pd.to_numeric(win["arr_after"], errors="coerce")
            if "arr_after" in win.columns else pd.Series(np.nan, index=win.index)
        )
        down_loss = (arr - after).clip(lower=0)[down]
        downgrade_arr = float(down_loss.sum())
        downgraded = int(down.sum())
    elif "status" in table.columns:
        source = "accounts"
        dates = pd.to_datetime(table["renewal_date"]).dt.normalize()
        win = table.loc[(dates >= lo) & (dates <= hi)]
        arr = (
            pd.to_numeric(win["arr"], errors="coerce")
            if "arr" in win.columns else pd.Series(np.nan, index=win.index)
        )
        if "mrr" in win.columns:
            arr = arr.fillna(pd.to_numeric(win["mrr"], errors="coerce") * 12)
        churned = win["status"].eq("churned").fillna(False).to_numpy(dtype=bool)
        downgrade_arr, downgraded = float("nan"), 0
    else:
        raise ValueError("renewal_churn needs the renewals table (outcome) or accounts (status)")
    arr_up = float(arr.sum())
    churned_arr = float(arr[churned].sum())
    rate = safe_ratio(churned_arr, arr_up)
    down_rate = safe_ratio(downgrade_arr, arr_up) if source == "renewals" else float("nan")
    return {
        "source": source,
        "start": lo,
        "end": hi,
        "renewals": len(win),
        "churned": int(churned.sum()),
        "downgraded": downgraded,
        "arr_up": arr_up,
        "churned_arr": churned_arr,
        "downgrade_arr": downgrade_arr,
        "renewal_churn_rate": rate,
        "logo_renewal_churn_rate": safe_ratio(int(churned.sum()), len(win)),
        "downgrade_rate": down_rate,
        "gross_renewal_retention": 1.0 - rate - (down_rate if source == "renewals" else 0.0),
        "missing_arr": int(arr.isna().sum()),
    }
