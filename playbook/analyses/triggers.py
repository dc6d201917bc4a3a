"""Trigger events: which events come before churn or expansion, by how much, and who needs a call.

Pure functions (canonical frames and parameters in, frames and figures out; no I/O, no
printing, no plotting). Rates are shares (0-1); days are calendar days.

Definitions
-----------
* **Churn after a trigger** (:func:`churn_after_triggers`): the unit is a past renewal
  decision (``ctx.renewal_decisions``). It is *exposed* to a trigger type when the account
  recorded one of that type in the ``window_days`` days before the decision date
  (``[decision - window_days, decision)``), *unexposed* otherwise. Churn = not renewed.
  Rate ratio = churn rate exposed / unexposed, 95% interval on the log scale (Katz).
  The **odds ratio** of churn is adjusted for the renewal model's drivers: the type's flag
  added to ``ctx.model_features`` on ``ctx.modelling_table``
  (:func:`playbook.analyses.drivers.fit_renewal_model`, clustered by account), inverted
  (churn = 1 - renewal).
* **Expansion after a trigger** (:func:`expansion_after_triggers`): the unit is an account
  paying at a monthly cut-off ``c`` (the expansion model's outcome,
  :func:`playbook.analyses.expansion.expansion_outcomes`: MRR at least
  ``1 + min_rise_share`` times the cut-off's within ``horizon_months``). *Exposed* when the
  account recorded the type in the calendar month before ``c`` (so the whole horizon
  follows the event); *unexposed* when it recorded none of that type in the
  ``horizon_months`` months before ``c``; cut-offs between the two are left out for that
  type. Rate ratio as above; odds ratio from a logistic regression on the flag alone,
  clustered by account (an account appears at many cut-offs); on large tables from the
  flag's counts (:func:`playbook.analyses.triggers_logit.flag_logit`, the same fit).
* A type is **estimated** when it has at least ``min_exposed`` exposed units and at least
  one event among them; otherwise its figures are NaN and ``note`` says why.
* **Significant** (:func:`trigger_effects`): Holm-adjusted p-value (across the estimated
  types, per outcome) below 0.05. The unadjusted 95% interval is shown; a title says "not
  significant" whenever the interval crosses 1.
* **Survival from the event** (:func:`trigger_lifetimes`): months from an account's first
  trigger of a type to its churn (or the as-of date), against matched accounts without that
  type in the same segment, still customers on the same date; Kaplan-Meier curves by
  :func:`playbook.analyses.survival.kaplan_meier`.
* **Cox model** (:func:`trigger_cox`): hazard ratio of churn while a trigger of the type is
  at most ``window_days`` old (a time-varying covariate on the tenure time scale, counting-
  process entry times, robust variance by account), fitted where enough churns fall inside
  the windows.
* **Open triggers** (:func:`open_triggers`): active accounts with a trigger in the last
  ``days`` days (up to the as-of date) and no logged touch on or after its date: owner, MRR,
  type, date and days since (the account's latest trigger).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from playbook.analyses import drivers
from playbook.analyses.account_state import active_accounts, mrr_at
from playbook.analyses.drivers.leakage import LEAKAGE_AUC, leakage_screen
from playbook.analyses.drivers.model import SharedTerms
from playbook.analyses.expansion import expansion_cutoffs, expansion_outcomes
from playbook.analyses.phreg import ArrayPHReg
from playbook.analyses.reasons import holm_adjust
from playbook.analyses.survival import (
    DAYS_PER_MONTH,
    at_risk_at_a_churn,
    kaplan_meier,
    survival_at,
    tenure_months,
)
from playbook.analyses.triggers_logit import flag_logit
from playbook.contract import TRIGGER_TYPES
from playbook.membership import is_in

__all__ = ["COX_COLUMNS", "EFFECT_COLUMNS", "LIFETIME_COLUMNS", "OPEN_COLUMNS",
           "churn_after_triggers", "expansion_after_triggers", "open_triggers", "trigger_cox",
           "trigger_effects", "trigger_flags", "trigger_intervals", "trigger_lifetimes",
           "trigger_survival"]

#: Columns of the effect tables, in order (index: trigger ``type``).
EFFECT_COLUMNS = ["exposed", "exposed_events", "unexposed", "unexposed_events", "rate_exposed",
                  "rate_unexposed", "rate_ratio", "rr_low", "rr_high", "odds_ratio", "or_low",
                  "or_high", "p_value", "note"]
#: Columns of :func:`open_triggers`, in order (index: ``account_id``).
OPEN_COLUMNS = ["owner", "mrr", "type", "trigger_date", "days_since", "triggers"]
#: From this many account cut-offs, :func:`expansion_after_triggers` takes a type's odds
#: ratio from the flag's counts (:func:`playbook.analyses.triggers_logit.flag_logit`: the
#: same fit, equal to rounding, 20 times faster) rather than fitting the rows; smaller
#: tables (the demo's, about 23,000 rows a type, a few hundredths of a second a fit) keep
#: the row fit, whose last digits the golden results hold.
FLAG_FIT_FROM_ROWS = 100_000


def _types(triggers: pd.DataFrame) -> list[str]:
    seen = set(triggers["type"].dropna().astype(str).unique())  # the distinct, then a set
    return [t for t in TRIGGER_TYPES if t in seen] + sorted(seen - set(TRIGGER_TYPES))


def trigger_flags(units: pd.DataFrame, triggers: pd.DataFrame, *, date_col: str,
                  start_days: int, end_days: int, types: Sequence[str]) -> pd.DataFrame:
    """0/1 per unit (row of ``units``: ``account_id``, ``date_col``) and type: a trigger of
    that type dated in ``[date - start_days, date - end_days)``."""
    return _flags_within(units, triggers, date_col=date_col,
                         spans=[np.full(len(units), start_days)], end_days=end_days,
                         types=types)[0]


def _flags_within(units: pd.DataFrame, triggers: pd.DataFrame, *, date_col: str,
                  spans: Sequence[np.ndarray], types: Sequence[str], end_days: int = 0,
                  dtype: type = float) -> list[pd.DataFrame]:
    """:func:`trigger_flags` (as 0.0/1.0, or True/False with ``dtype=bool``: an eighth of
    the memory; index of ``units``) for each array of ``spans``,
    with a window of its own length per unit: ``[date - span, date - end_days)`` (whole
    days). Found by binary search, not a merge: per type, the triggers' keys (account,
    then date) sorted, and each window's triggers the keys between its two ends' keys; the
    dates and the windows' ends are ranked first (their day numbers when every one is a
    whole day, else their ranks among all of them: exact instants, in the finer of the two
    columns' units), so that one integer orders account and date at once. Units or
    triggers without a date flag nothing; a missing account matches a missing account, as
    a merge matches them."""
    t = triggers[["account_id", "date", "type"]].dropna(subset=["date"])
    n = len(units)
    dates = pd.to_datetime(units[date_col]).to_numpy()
    tdates = pd.to_datetime(t["date"]).to_numpy()
    unit = max((np.datetime_data(dates.dtype)[0], np.datetime_data(tdates.dtype)[0]),
               key=["s", "ms", "us", "ns"].index)
    valid = ~np.isnat(dates)
    d = dates.astype(f"datetime64[{unit}]").astype(np.int64)
    when = tdates.astype(f"datetime64[{unit}]").astype(np.int64)
    day = int(np.timedelta64(1, "D") / np.timedelta64(1, unit))
    hi = d - end_days * day
    los = [d - np.asarray(span, dtype=np.int64) * day for span in spans]
    ends = [hi[valid], *[lo[valid] for lo in los]]
    if all((x % day == 0).all() for x in (when, *ends)):  # whole days: their numbers rank
        first = min(int(x.min(initial=0)) for x in (when, *ends)) // day
        last = max(int(x.max(initial=0)) for x in (when, *ends)) // day
        width = last - first + 2

        def rank(x: np.ndarray) -> np.ndarray:
            return x // day - first
    else:
        instants = np.unique(np.concatenate([when, *ends]))
        width = len(instants) + 1

        def rank(x: np.ndarray) -> np.ndarray:
            return np.searchsorted(instants, x)
    # one number per account (only equal or not matters): the two ID columns stacked as
    # they are (text IDs factorised by Arrow, not as Python objects)
    codes, _ = pd.factorize(pd.concat([units["account_id"], t["account_id"]],
                                      ignore_index=True), use_na_sentinel=False)
    codes = np.asarray(codes)
    ucode, tcode = codes[:n], codes[n:]
    kinds = t["type"].to_numpy(dtype=object)
    out = [np.zeros((len(types), n), dtype=dtype) for _ in spans]  # a type's contiguous
    # the dated units in key order (account, then date): each type's searches then go up
    # the sorted keys in step instead of jumping about them (same answers, fewer misses)
    dated = np.flatnonzero(valid)
    dated = dated[np.lexsort((d[dated], ucode[dated]))]
    for j, kind in enumerate(types):
        mine = kinds == kind
        keys = np.sort(tcode[mine] * width + rank(when[mine]))
        has = np.zeros(int(codes.max(initial=-1)) + 1, dtype=bool)
        has[tcode[mine]] = True
        q = dated[has[ucode[dated]]]  # dated units of accounts with this type
        base = ucode[q] * width
        upper = np.searchsorted(keys, base + rank(hi[q]))
        for flags, lo in zip(out, los, strict=True):
            flags[j, q] = upper > np.searchsorted(keys, base + rank(lo[q]))
    return [pd.DataFrame(f.T, index=units.index, columns=pd.Index(list(types)), copy=False)
            for f in out]


def _rate_table(outcome: np.ndarray, flags: pd.DataFrame, keep: pd.DataFrame,
                min_exposed: int) -> pd.DataFrame:
    rows = {}
    for t in flags.columns:
        k = keep[t].to_numpy(dtype=bool)
        x = flags[t].to_numpy(dtype=bool)[k]
        y = outcome[k]
        n1, a = int(x.sum()), float(y[x].sum())
        n0, c = int((~x).sum()), float(y[~x].sum())
        r1 = a / n1 if n1 else np.nan
        r0 = c / n0 if n0 else np.nan
        note = ""
        if n1 < min_exposed:
            note = f"fewer than {min_exposed} exposed"
        elif a == 0 or c == 0:
            note = "no event among the exposed" if a == 0 else "no event among the unexposed"
        if note:
            rr = lo = hi = np.nan
        else:
            rr = r1 / r0
            se = np.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
            lo, hi = rr * np.exp(-1.96 * se), rr * np.exp(1.96 * se)
        rows[t] = {"exposed": n1, "exposed_events": int(a), "unexposed": n0,
                   "unexposed_events": int(c), "rate_exposed": r1, "rate_unexposed": r0,
                   "rate_ratio": rr, "rr_low": lo, "rr_high": hi, "odds_ratio": np.nan,
                   "or_low": np.nan, "or_high": np.nan, "p_value": np.nan, "note": note}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=EFFECT_COLUMNS)
    out.index.name = "type"
    return out


def churn_after_triggers(decisions: pd.DataFrame, triggers: pd.DataFrame, *, window_days: int,
                         min_exposed: int, table: pd.DataFrame | None,
                         features: Sequence[str], units: dict | None = None
                         ) -> pd.DataFrame:
    """Churn at renewal decisions after each trigger type (rules: module docstring).

    ``decisions``: ``ctx.renewal_decisions``; ``table``/``features``/``units``: the renewal
    model's modelling table, features and units for the adjusted odds ratio (``table=None``
    for the rate ratio only). Returns :data:`EFFECT_COLUMNS` indexed by type.
    """
    types = _types(triggers)
    flags = trigger_flags(decisions, triggers, date_col="decision_date",
                          start_days=window_days, end_days=0, types=types)
    churned = 1.0 - decisions["renewed"].to_numpy(dtype=float)
    out = _rate_table(churned, flags, pd.DataFrame(True, index=flags.index, columns=types),
                      min_exposed)
    if table is None or not len(features):
        return out
    tflags = trigger_flags(table, triggers, date_col="decision_date", start_days=window_days,
                           end_days=0, types=types)
    # the drivers' leakage screen is the same for every type: computed once
    screened = leakage_screen(table, list(features), outcome="renewed", recorded_after=None,
                              max_auc=LEAKAGE_AUC)["auc"]
    # and so are the drivers' terms and design columns (the fits' rows are the same: a flag
    # is never blank): made at the first fit, reused by the others
    shared = SharedTerms()
    # the columns a fit reads (outcome, cluster, features), not the whole table copied per type
    used = table[[c for c in dict.fromkeys(["renewed", "account_id", *features]) if c in table]]
    fitted: dict[Any, list[float]] = {}
    for t in out.index[out["note"] == ""]:
        col = f"trigger_{t}"
        if tflags[t].sum() < min_exposed:
            continue
        model = drivers.fit_renewal_model(
            used.assign(**{col: tflags[t].to_numpy()}), [*features, col],
            reduce_features=False, units={**(units or {}), col: (1.0, "trigger vs none")},
            marginal_effects=False, known_auc=screened, shared=shared)
        row = model.coefficients.set_index("feature").loc[col]
        fitted[t] = [1 / row["odds_ratio"], 1 / row["or_high"], 1 / row["or_low"],
                     row["p_value"]]
    return _with_odds_ratios(out, fitted)


def _with_odds_ratios(out: pd.DataFrame, fitted: dict[Any, list[float]]) -> pd.DataFrame:
    """``out`` (an effect table) with each fitted type's ``odds_ratio``, ``or_low``,
    ``or_high`` and ``p_value`` (``fitted``: type -> the four), set at once rather than one
    type at a time."""
    if fitted:
        out.loc[list(fitted), ["odds_ratio", "or_low", "or_high", "p_value"]] = list(
            fitted.values())
    return out


def expansion_after_triggers(mrr: pd.DataFrame, triggers: pd.DataFrame, *, as_of: pd.Timestamp,
                             horizon_months: int, min_rise_share: float, min_exposed: int
                             ) -> pd.DataFrame:
    """Expansion within ``horizon_months`` of monthly cut-offs after each trigger type
    (rules: module docstring). ``mrr``: ``ctx.counted_mrr``. Returns :data:`EFFECT_COLUMNS`
    indexed by type; ``attrs["cutoffs"]`` counts the cut-offs."""
    types = _types(triggers)
    cuts = expansion_cutoffs(mrr, as_of=as_of, horizon_months=horizon_months,
                             cutoff_every_months=1)
    rows = expansion_outcomes(mrr, cuts, horizon_months=horizon_months,
                              min_rise_share=min_rise_share)
    days_1, days_h = _days_back(rows["cutoff_date"], 1), _days_back(rows["cutoff_date"],
                                                                   horizon_months)
    # exposure windows vary in days with month lengths: each row's own length
    # as True/False (1.6M cut-offs x 9 types: 15 MB a table rather than 115 MB); each
    # type's flags made 0.0/1.0 where a fit reads them, as before
    exposed, any_h = _flags_within(rows, triggers, date_col="cutoff_date",
                                   spans=[days_1, days_h], types=types, dtype=bool)
    keep = exposed | ~any_h
    del any_h
    y = rows["expanded"].to_numpy(dtype=float)
    out = _rate_table(y, exposed, keep, min_exposed)
    accounts = pd.factorize(rows["account_id"].astype("string").fillna("(none)"))[0]
    fitted: dict[Any, list[float]] = {}
    for t in out.index[out["note"] == ""]:
        k = keep[t].to_numpy(dtype=bool)
        fast = (flag_logit(y[k], exposed[t].to_numpy(dtype=float)[k], accounts[k])
                if k.sum() >= FLAG_FIT_FROM_ROWS else None)
        if fast is not None:
            fitted[t] = [fast["odds_ratio"], fast["or_low"], fast["or_high"], fast["p_value"]]
            continue
        col = f"trigger_{t}"
        tab = rows.loc[k, ["account_id", "expanded"]].assign(
            **{col: exposed.loc[k, t].astype(float)})
        model = drivers.fit_renewal_model(tab, [col], outcome="expanded", reduce_features=False,
                                          units={col: (1.0, "trigger vs none")},
                                          marginal_effects=False)
        row = model.coefficients.set_index("feature").loc[col]
        fitted[t] = [row["odds_ratio"], row["or_low"], row["or_high"], row["p_value"]]
    out = _with_odds_ratios(out, fitted)
    out.attrs["cutoffs"] = len(cuts)
    return out


def _days_back(dates: pd.Series, months: int) -> np.ndarray:
    """Whole days from each date back to the same date ``months`` calendar months earlier
    (``pd.DateOffset``: the day clipped to the month's end), as ``(dates - (dates -
    DateOffset(months=months))).dt.days`` of the column (int64; float with NaN where a date
    is missing), worked out once per distinct date (the monthly cut-offs: a few dozen dates
    for 1.6M rows at 100,000 accounts)."""
    code, distinct = pd.factorize(dates, use_na_sentinel=False)
    each = pd.Series(distinct)
    days = (each - (each - pd.DateOffset(months=months))).dt.days.to_numpy()
    return days[code]


def trigger_effects(churn: pd.DataFrame | None, expansion: pd.DataFrame | None) -> pd.DataFrame:
    """The two effect tables stacked (``outcome`` = churn or expansion, ``type``) with
    ``p_adjusted`` (Holm across the estimated types of each outcome) and ``significant``
    (adjusted p below 0.05)."""
    parts = []
    for name, frame in (("churn", churn), ("expansion", expansion)):
        if frame is None:
            continue
        f = frame.reset_index().assign(outcome=name)
        ok = f["p_value"].notna()
        f["p_adjusted"] = np.nan
        if ok.any():
            f.loc[ok, "p_adjusted"] = holm_adjust(f.loc[ok, "p_value"].tolist())
        f["significant"] = (f["p_adjusted"] < 0.05).fillna(False).astype(bool)
        parts.append(f)
    if not parts:
        return pd.DataFrame(columns=["outcome", "type", *EFFECT_COLUMNS, "p_adjusted",
                                     "significant"])
    out = pd.concat(parts, ignore_index=True)
    return out[["outcome", "type", *EFFECT_COLUMNS, "p_adjusted", "significant"]]


def open_triggers(accounts: pd.DataFrame, triggers: pd.DataFrame, touches: pd.DataFrame | None,
                  *, as_of: pd.Timestamp, days: int, mrr: pd.DataFrame | None = None
                  ) -> pd.DataFrame:
    """Active accounts with a trigger in ``(as_of - days, as_of]`` and no touch dated on or
    after it (rules: module docstring), largest MRR first (ties by ``account_id``).

    Returns :data:`OPEN_COLUMNS` indexed by ``account_id``: ``mrr`` (money a month at
    ``as_of``), ``type`` and ``trigger_date`` of the latest trigger, ``days_since`` (days from
    it to ``as_of``), ``triggers`` (count in the window). Without ``touches`` every recent
    trigger counts as open (``attrs["touches"]`` False).
    """
    active = active_accounts(accounts, as_of)
    t = triggers[(triggers["date"] <= as_of)
                 & (triggers["date"] > as_of - pd.Timedelta(days=days))]
    t = t[is_in(t["account_id"], active.index)]  # Arrow's hash, not isin's Python loop
    t = t.sort_values(["account_id", "date"], kind="stable")
    latest = t.groupby("account_id").tail(1).set_index("account_id")
    count = t.groupby("account_id").size()
    if touches is not None and len(latest):
        # only touches dated from the earliest latest trigger on can be on or after one
        recent = (touches["date"] <= as_of) & (touches["date"] >= latest["date"].min())
        last_touch = touches[recent].groupby("account_id")["date"].max()
        touched = last_touch.reindex(latest.index) >= latest["date"]
        latest = latest[~touched.fillna(False).to_numpy(dtype=bool)]
    out = pd.DataFrame(index=latest.index)
    out["owner"] = active["owner"].reindex(out.index) if "owner" in active else pd.NA
    out["mrr"] = mrr_at(accounts, as_of, mrr).reindex(out.index).astype(float)
    out["type"] = latest["type"].astype(str)
    out["trigger_date"] = latest["date"]
    out["days_since"] = (as_of - latest["date"]).dt.days.astype(int)
    out["triggers"] = count.reindex(out.index).astype(int)
    out = out.reset_index().sort_values(["mrr", "account_id"], ascending=[False, True],
                                        kind="stable").set_index("account_id")
    out.attrs["touches"] = touches is not None
    return out[OPEN_COLUMNS]


# --------------------------------------------------------------------------- survival
#: Columns of :func:`trigger_lifetimes`, in order.
LIFETIME_COLUMNS = ["account_id", "group", "origin", "end_date", "months", "churned",
                    "entry_months"]
#: Columns of :func:`trigger_cox`, in order (index: trigger ``type``).
COX_COLUMNS = ["accounts", "events", "exposed_events", "hazard_ratio", "hr_low", "hr_high",
               "p_value", "note"]


def _first_seen(lifetimes: pd.DataFrame, data_start: pd.Timestamp | None) -> pd.Series:
    start = pd.to_datetime(lifetimes["start_date"])
    if data_start is None:
        return start
    return start.where(start > data_start, pd.Timestamp(data_start))


class _Counts:
    """0/1 flags over ``n`` places with the running total of their count over blocks of
    :attr:`BLOCK` places (set places in this block and all before it): set or clear many
    places at once (numpy), clear one, and find the ``i``-th set place (0-based, in place
    order) by a binary search of the running total, then inside one block. (The running
    total is kept rather than summed again at each search: one control is drawn, and one
    place cleared, per exposed account.)"""

    BLOCK = 256

    def __init__(self, n: int) -> None:
        self.n = n
        self.flags = np.zeros(n, dtype=bool)
        self.running = np.zeros(n // self.BLOCK + 1, dtype=np.int64)
        self.total = 0

    def add(self, places: np.ndarray, delta: int) -> None:
        """Set (``delta`` 1) or clear (-1) ``places``: distinct, each currently the other
        way."""
        if not len(places):
            return
        self.flags[places] = delta > 0
        per_block = np.bincount(places // self.BLOCK, minlength=len(self.running))
        self.running += per_block.cumsum() * delta
        self.total += delta * len(places)

    def clear(self, place: int) -> None:
        """Clear one set ``place``."""
        self.flags[place] = False
        self.running[place // self.BLOCK:] -= 1
        self.total -= 1

    def nth(self, i: int) -> int:
        """The place of the ``i``-th set flag (``i`` < :attr:`total`)."""
        running = self.running
        block = int(running.searchsorted(i, side="right"))
        before = int(running[block - 1]) if block else 0
        lo = block * self.BLOCK
        return lo + int(self.flags[lo:lo + self.BLOCK].nonzero()[0][i - before])


#: A date no account is seen or leaves on (stands for a missing date: never reached).
_NEVER = np.iinfo(np.int64).max


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Nanoseconds since 1970 of ``dates`` (int64), a missing date as :data:`_NEVER`."""
    values = dates.to_numpy(dtype="datetime64[ns]")
    out = values.astype(np.int64)
    out[np.isnat(values)] = _NEVER
    return out


class _MatchGroup:
    """One match group of :class:`_MatchPool`: its pool positions (``account_id`` order),
    its members' first-seen and end days in the order they enter and leave, how far the
    latest date asked has moved along each, and which members are candidates then
    (:class:`_Counts` over the group)."""

    def __init__(self, where: np.ndarray, first_seen: np.ndarray, ends: np.ndarray,
                 codes: np.ndarray) -> None:
        self.where = where
        self.codes = codes[where]
        seen, end = first_seen[where], ends[where]
        self.enter_order = np.argsort(seen, kind="stable")  # never seen: last
        self.leave_order = np.argsort(end, kind="stable")
        self.seen_sorted = seen[self.enter_order]
        self.ends_sorted = end[self.leave_order]
        self.left = end == _NEVER  # no end date: never a customer after a date
        self.entering = self.leaving = 0
        self.counts = _Counts(len(where))


class _MatchPool:
    """The accounts without a trigger that :func:`trigger_lifetimes` draws controls from
    (their first-seen and end days, match keys and ID numbers; in ``account_id`` order).
    The exposed accounts come in date order, so each match group's candidates (seen by the
    date, still customers after it, not drawn yet) are kept up to date as the date moves
    on, the accounts seen or leaving since the last date a group was asked about all at
    once, and the ``i``-th candidate in ``account_id`` order is found without listing them
    (:class:`_Counts`). How far each date moves each group's entering and leaving is found
    for all the dates at once (:meth:`steps`)."""

    def __init__(self, first_seen: np.ndarray, ends: np.ndarray, keys: np.ndarray,
                 codes: np.ndarray) -> None:
        """``first_seen``, ``ends``: the pool's days (:func:`_day_numbers`); ``keys``: its
        match keys; ``codes``: a number per ID (any numbering will do: only equal or not
        is asked)."""
        self.codes = codes
        self.used = np.zeros(int(codes.max()) + 1 if len(codes) else 0, dtype=bool)
        # positions sharing an ID (the same account twice in the lifetimes)
        repeated = pd.Series(codes).duplicated(keep=False).to_numpy()
        self.same_id: dict[int, list[int]] = {}
        for position in np.flatnonzero(repeated).tolist():
            self.same_id.setdefault(int(codes[position]), []).append(position)
        self.number: dict[Any, int] = {}
        self.group_of = np.zeros(len(codes), dtype=np.int64)
        self.local_of = np.zeros(len(codes), dtype=np.int64)
        self.by_number: list[_MatchGroup] = []
        for number, key in enumerate(pd.unique(keys)):
            where = np.flatnonzero(keys == key)
            self.number[key] = number
            self.by_number.append(_MatchGroup(where, first_seen, ends, codes))
            self.group_of[where] = number
            self.local_of[where] = np.arange(len(where))

    def steps(self, keys: np.ndarray, days: np.ndarray
              ) -> tuple[list[int], list[int], list[int]]:
        """For each (match ``key``, ``day`` as nanoseconds) asked in turn: its group's number
        (-1: no such group), and how many of the group's members are seen by the day and
        have ended by it (positions in its entering and leaving orders)."""
        group = np.array([self.number.get(k, -1) for k in keys], dtype=np.int64)
        seen = np.zeros(len(keys), dtype=np.int64)
        gone = np.zeros(len(keys), dtype=np.int64)
        for number, g in enumerate(self.by_number):
            mine = group == number
            seen[mine] = g.seen_sorted.searchsorted(days[mine], side="right")
            gone[mine] = g.ends_sorted.searchsorted(days[mine], side="right")
        return group.tolist(), seen.tolist(), gone.tolist()

    def move(self, group: _MatchGroup, seen: int, gone: int) -> int:
        """Bring ``group``'s candidates up to a day on which ``seen`` of its members are
        seen and ``gone`` have ended (days never go back); their number."""
        if seen > group.entering:  # seen by the day: candidates unless left or drawn
            entering = group.enter_order[group.entering:seen]
            group.entering = seen
            entering = entering[~group.left[entering] & ~self.used[group.codes[entering]]]
            group.counts.add(entering, 1)
        if gone > group.leaving:  # ended on or before the day: no longer candidates
            leaving = group.leave_order[group.leaving:gone]
            group.leaving = gone
            group.counts.add(leaving[group.counts.flags[leaving]], -1)
            group.left[leaving] = True
        return group.counts.total

    def take_from(self, group: _MatchGroup, local: int) -> int:
        """Draw ``group``'s member at ``local`` (a candidate): as :meth:`take` of its pool
        position, which it returns; an ID listed once is cleared in its group directly."""
        k = int(group.where[local])
        code = int(self.codes[k])
        if code in self.same_id:
            self.take(k)
        else:
            group.counts.clear(local)
            self.used[code] = True
        return k

    def take(self, k: int) -> None:
        """Draw the account at position ``k``: its ID is not drawn again."""
        code = int(self.codes[k])
        for position in self.same_id.get(code, [k]):
            counts = self.by_number[int(self.group_of[position])].counts
            local = int(self.local_of[position])
            if counts.flags[local]:
                counts.clear(local)
        self.used[code] = True


#: :class:`_IntegersBelow` draws below this bound (the 32-bit path of numpy's generator).
_BELOW_MAX = 1 << 32


class _IntegersBelow:
    """``rng.integers(0, n)`` (``n`` from 1 to 2**32 - 1) drawn one after another, each the
    number the generator's call would give, 10 times faster: numpy draws a bound below
    2**32 by Lemire's method from the generator's 32-bit stream (each 64-bit output's low
    half, then its high half, kept between calls), rejecting the rare products whose low
    half falls under ``2**32 % n``; ``n`` 1 takes nothing from the stream. The 64-bit
    outputs are read in blocks (``bit_generator.random_raw``), so the generator moves
    further than the draws: none other may be taken from it afterwards (the caller's own
    generator, used for nothing else). Tested against ``rng.integers``."""

    BLOCK = 1 << 13

    def __init__(self, rng: np.random.Generator) -> None:
        self.bits = rng.bit_generator
        self.stream: Any = iter(())

    def _refill(self) -> int:
        raw = self.bits.random_raw(self.BLOCK)
        halves = np.empty(2 * len(raw), dtype=np.uint64)
        halves[0::2] = raw & np.uint64(0xFFFFFFFF)
        halves[1::2] = raw >> np.uint64(32)
        self.stream = iter(halves.tolist())
        return next(self.stream)

    def __call__(self, n: int) -> int:
        """A whole number from 0 to ``n - 1``, as ``rng.integers(0, n)``."""
        if n == 1:
            return 0
        m = next(self.stream, -1)
        m = (m if m >= 0 else self._refill()) * n
        if (m & 0xFFFFFFFF) < n:
            threshold = _BELOW_MAX % n
            while (m & 0xFFFFFFFF) < threshold:
                m = next(self.stream, -1)
                m = (m if m >= 0 else self._refill()) * n
        return m >> 32


def trigger_lifetimes(lifetimes: pd.DataFrame, triggers: pd.DataFrame, trigger_type: str, *,
                      data_start: pd.Timestamp | None = None, controls: int = 1,
                      seed: int = 0) -> pd.DataFrame:
    """Lifetimes from a trigger of ``trigger_type`` against matched accounts without one.

    ``lifetimes``: :func:`playbook.analyses.survival.account_lifetimes` (``account_id``,
    ``start_date``, ``end_date``, ``churned``). **Exposed** (``group`` = "trigger"): an
    account's first trigger of the type dated on or after it is first seen (its start, or
    ``data_start`` when it started earlier) and before its end; time 0 is the trigger date.
    **Matched** (``group`` = "matched"): for each exposed account in date order, up to
    ``controls`` accounts with no trigger of the type at all, in the same ``group`` of
    ``lifetimes`` (its segment, when it has one) and still customers on that trigger date,
    drawn at random without replacement (``seed``); their time 0 is the same date (the
    comparable date). ``months`` = days from time 0 to the end (churn or the
    as-of date) / 30.44; ``churned`` as in ``lifetimes``; ``entry_months`` 0.
    Returns :data:`LIFETIME_COLUMNS` (exposed first).

    One control is drawn as ``rng.integers(0, n)``, which takes the same numbers from the
    generator as ``rng.choice(n, size=1, replace=False)`` (Floyd's draw of one), 5 times
    faster; several as ``rng.choice`` (both tested against the choice loop).
    """
    return _matched_lifetimes(_Lives(lifetimes, triggers, data_start), trigger_type,
                              controls=controls, seed=seed)


class _Lives:
    """What :func:`trigger_lifetimes` needs of the lifetimes and triggers whatever the type,
    made once for all the types of :func:`trigger_survival`: the lifetimes with
    ``first_seen``, ``end_date``, ``match_key`` and text IDs (``life``), the dated triggers
    with text IDs and types (``triggers``), and as arrays: a number per ID ordered as the IDs
    sort (a missing ID last, as a sort puts it) for the lifetimes' rows (``life_code``) and
    the triggers' (``trigger_code``), the rows' first-seen and end days and the triggers'
    (:func:`_day_numbers`); the lifetimes' rows sorted by ID (``by_id``: positions, stable;
    a type's pool is its rows without that type, which keeps this order) with their IDs,
    end dates, outcomes, match keys and days."""

    def __init__(self, lifetimes: pd.DataFrame, triggers: pd.DataFrame,
                 data_start: pd.Timestamp | None) -> None:
        life = lifetimes.assign(first_seen=_first_seen(lifetimes, data_start).to_numpy(),
                                end_date=pd.to_datetime(lifetimes["end_date"]),
                                match_key=(lifetimes["group"].astype(str).to_numpy()
                                           if "group" in lifetimes else ""))
        life["account_id"] = life["account_id"].astype(str)
        self.life = life
        t = triggers[triggers["date"].notna()]
        self.triggers = pd.DataFrame({"account_id": t["account_id"].astype(str),
                                      "date": t["date"], "type": t["type"].astype(str)})
        # one numbering of the lifetimes' and the triggers' IDs, in their sort order: equal
        # numbers where a merge on the text matches, and the order a sort by ID gives
        code, _ = pd.factorize(pd.concat([life["account_id"], self.triggers["account_id"]],
                                         ignore_index=True), sort=True, use_na_sentinel=False)
        code = np.asarray(code, dtype=np.int64)
        self.life_code, self.trigger_code = code[:len(life)], code[len(life):]
        self.seen_days = _day_numbers(life["first_seen"])
        self.end_days = _day_numbers(life["end_date"])
        self.trigger_days = _day_numbers(self.triggers["date"])
        self.trigger_dates = self.triggers["date"].to_numpy()
        self.types = self.triggers["type"].to_numpy()
        self.by_id = np.argsort(self.life_code, kind="stable")  # as a stable sort by ID
        self.ids = life["account_id"].to_numpy()
        self.ends = life["end_date"].to_numpy()
        self.churned = life["churned"].to_numpy()
        self.keys = life["match_key"].to_numpy()
        self.codes = self.life_code[self.by_id]


def _first_triggers(lives: _Lives, mine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each account's first trigger among the triggers ``mine`` (a mask) dated on or after
    its lifetime row's first-seen day and before its end: ``(rows, triggers)``, positions in
    the lifetimes and the triggers, ordered by date, then ID. As the merge of the lifetimes
    with the triggers on the ID (each lifetime row in order with its ID's triggers in
    theirs), kept within the dates, sorted stably by date and ID and cut to the first row
    per ID."""
    chosen = np.flatnonzero(mine)
    code = lives.trigger_code[chosen]
    order = np.argsort(code, kind="stable")
    chosen, code = chosen[order], code[order]
    lo = np.searchsorted(code, lives.life_code, side="left")
    many = np.searchsorted(code, lives.life_code, side="right") - lo
    rows = np.repeat(np.arange(len(lives.life_code)), many)
    pairs = np.arange(many.sum()) + np.repeat(lo - (np.cumsum(many) - many), many)
    found = chosen[pairs]
    day = lives.trigger_days[found]
    seen, end = lives.seen_days[rows], lives.end_days[rows]
    # a missing day (_NEVER) is never on or after a date, nor before one
    inside = (day >= seen) & (day < end) & (seen != _NEVER) & (end != _NEVER)
    rows, found = rows[inside], found[inside]
    order = np.lexsort((lives.life_code[rows], lives.trigger_days[found]))
    rows, found = rows[order], found[order]
    _, first = np.unique(lives.life_code[rows], return_index=True)
    first = np.sort(first)
    return rows[first], found[first]


def _matched_lifetimes(lives: _Lives, trigger_type: str, *, controls: int, seed: int
                       ) -> pd.DataFrame:
    """:func:`trigger_lifetimes` of one type from the prepared :class:`_Lives`."""
    mine = lives.types == trigger_type
    rows, found = _first_triggers(lives, mine)
    has = np.zeros(len(lives.life_code) + len(lives.trigger_code) + 1, dtype=bool)
    has[lives.trigger_code[mine]] = True
    pool = lives.by_id[~has[lives.codes]]  # lifetimes' rows of IDs without the type
    rng = np.random.default_rng(seed)
    candidates = _MatchPool(lives.seen_days[pool], lives.end_days[pool], lives.keys[pool],
                            lives.life_code[pool])
    dates = lives.trigger_dates[found]
    groups, seen, gone = candidates.steps(lives.keys[rows], lives.trigger_days[found])
    drawn_row: list[int] = []  # the exposed row each control is drawn for
    drawn_at: list[int] = []  # and its pool position
    if controls == 1 and len(pool) < _BELOW_MAX:  # one control each: the same draws, leaner
        below = _IntegersBelow(rng)
        by_number, move, take_from = candidates.by_number, candidates.move, candidates.take_from
        for r, number in enumerate(groups):
            if number < 0:
                continue
            group = by_number[number]
            n = move(group, seen[r], gone[r])
            if n:
                drawn_at.append(take_from(group, group.counts.nth(below(n))))
                drawn_row.append(r)
        groups = []  # all drawn
    for r, number in enumerate(groups):
        if number < 0:
            continue
        n = candidates.move(candidates.by_number[number], seen[r], gone[r])
        if not n:
            continue
        draws = ([int(rng.integers(0, n))] if controls == 1 else  # all found before any is drawn
                 np.sort(rng.choice(n, size=min(controls, n), replace=False)).tolist())
        group = candidates.by_number[number]
        picks = [int(group.where[group.counts.nth(i)]) for i in draws]
        for k in picks:
            candidates.take(k)
            drawn_row.append(r)
            drawn_at.append(k)
    exposed = pd.DataFrame({"account_id": lives.ids[rows], "group": "trigger",
                            "origin": dates, "end_date": lives.ends[rows],
                            "churned": lives.churned[rows]})
    drawn = pool[np.asarray(drawn_at, dtype=np.int64)]
    matched = pd.DataFrame({"account_id": lives.ids[drawn], "group": "matched",
                            "origin": dates[np.asarray(drawn_row, dtype=np.int64)],
                            "end_date": lives.ends[drawn], "churned": lives.churned[drawn]})
    out = pd.concat([exposed, matched], ignore_index=True)
    out["origin"] = pd.to_datetime(out["origin"])
    out["end_date"] = pd.to_datetime(out["end_date"])
    out["months"] = (out["end_date"] - out["origin"]).dt.days / DAYS_PER_MONTH
    out["churned"] = out["churned"].astype(int)
    out["entry_months"] = 0.0
    out = out.sort_values(["group", "origin", "account_id"], ascending=[False, True, True],
                          kind="stable").reset_index(drop=True)
    return out[LIFETIME_COLUMNS]


def trigger_intervals(lifetimes: pd.DataFrame, triggers: pd.DataFrame, trigger_type: str, *,
                      window_days: int) -> pd.DataFrame:
    """Counting-process rows for a Cox model with the trigger as a time-varying covariate.

    Each account's observed lifetime (``entry_months`` to ``months`` of
    :func:`playbook.analyses.survival.account_lifetimes`, tenure in months) is cut where
    ``exposed`` changes: 1 from each trigger of the type to ``window_days`` days after it
    (overlapping or touching windows merged), 0 otherwise; a change at or before the entry
    sets the first row's state, one at or after the end none. Columns ``account_id``,
    ``entry_months``, ``exit_months``, ``exposed``, ``churned`` (1 only on the account's last
    row when it left); rows in ``lifetimes`` order, each account's in time order (an ID
    listed twice gets every window of that ID, each time). Built with arrays: the windows
    merged per account by a running maximum of their ends, the cuts matched to the
    lifetimes' rows by position.
    """
    if lifetimes.empty:
        return pd.DataFrame([], columns=_INTERVAL_COLUMNS)
    if window_days < 0:
        raise ValueError(f"window_days must be 0 or more, not {window_days}")
    return _intervals(_Tenures(lifetimes, triggers), trigger_type, window_days=window_days)


#: Columns of :func:`trigger_intervals`, in order.
_INTERVAL_COLUMNS = ["account_id", "entry_months", "exit_months", "exposed", "churned"]


class _Tenures:
    """What :func:`trigger_intervals` needs of the lifetimes and triggers whatever the type,
    made once for all the types of :func:`trigger_cox`: the lifetimes with text IDs and
    start dates (``life``), a number per ID in order of first appearance (``codes``; the
    triggers' IDs are matched to these numbers, not merged as text), the dated triggers
    with text types (``triggers``) and the lifetimes' IDs, entry and exit months and
    outcomes as arrays."""

    def __init__(self, lifetimes: pd.DataFrame, triggers: pd.DataFrame) -> None:
        self.life = lifetimes.assign(account_id=lifetimes["account_id"].astype(str),
                                     start_date=pd.to_datetime(lifetimes["start_date"]))
        self.codes, uniques = pd.factorize(self.life["account_id"].to_numpy(dtype=object))
        t = triggers[triggers["date"].notna()]
        self.triggers = pd.DataFrame({
            "code": pd.Index(uniques).get_indexer(t["account_id"].astype(str).to_numpy()),
            "date": t["date"], "type": t["type"].astype(str)})
        self.starts = pd.DataFrame({"code": self.codes, "start_date": self.life["start_date"]})
        # the lifetimes' columns as arrays, taken once for all the types
        self.ids = self.life["account_id"].to_numpy()
        self.entry = self.life["entry_months"].to_numpy(dtype=float)
        self.months = self.life["months"].to_numpy(dtype=float)
        self.churned = self.life["churned"].to_numpy(dtype=np.int64)


def _intervals(tenures: _Tenures, trigger_type: str, *, window_days: int) -> pd.DataFrame:
    """:func:`trigger_intervals` of one type from the prepared :class:`_Tenures` (lifetimes
    not empty, ``window_days`` 0 or more)."""
    owner, start, stop, state, left = _interval_arrays(tenures, trigger_type,
                                                       window_days=window_days)
    return pd.DataFrame({"account_id": tenures.ids[owner],
                         "entry_months": start, "exit_months": stop, "exposed": state,
                         "churned": left})[_INTERVAL_COLUMNS]


def _interval_arrays(tenures: _Tenures, trigger_type: str, *, window_days: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The columns of :func:`_intervals` as arrays, each row's lifetime row (its position in
    the lifetimes) for its ID: ``(owner, entry, exit, exposed, churned)``."""
    t = tenures.triggers[(tenures.triggers["type"] == trigger_type)
                         & (tenures.triggers["code"] >= 0)]
    # each trigger with each lifetime row of its account (an ID listed twice: both)
    t = t[["code", "date"]].merge(tenures.starts, on="code")
    on = tenure_months(t["start_date"], t["date"]).to_numpy(dtype=float)
    off = tenure_months(t["start_date"], t["date"] + pd.Timedelta(days=window_days)
                        ).to_numpy(dtype=float)
    ids = tenures.ids
    life_code, win_code = tenures.codes, t["code"].to_numpy(dtype=np.int64)
    cut_code, cut_at, cut_new = _merged_cuts(win_code, on, off)
    entry, months, churned = tenures.entry, tenures.months, tenures.churned
    # each lifetime row against each cut of its account (ragged expansion)
    lo = np.searchsorted(cut_code, life_code, side="left")
    hi = np.searchsorted(cut_code, life_code, side="right")
    n_cuts = hi - lo
    row = np.repeat(np.arange(len(ids)), n_cuts)
    j = np.arange(n_cuts.sum()) + np.repeat(lo - (np.cumsum(n_cuts) - n_cuts), n_cuts)
    at, new = cut_at[j], cut_new[j]
    before = at <= entry[row]
    inside = ~before & (at < months[row])
    # the first row's state: the last change at or before the entry
    state0 = np.zeros(len(ids), dtype=np.int64)
    last_before = np.flatnonzero(before & _run_ends(row, before))
    state0[row[last_before]] = new[last_before]
    # boundaries inside the lifetime: one per distinct time, its state the last change then
    b = np.flatnonzero(inside)
    b_row, b_at, b_new = row[b], at[b], new[b]
    last = _run_ends(b_row, b_at)
    b_row, b_at, b_new = b_row[last], b_at[last], b_new[last]
    per_row = np.bincount(b_row, minlength=len(ids))
    first = np.arange(len(ids)) + np.cumsum(per_row) - per_row  # each lifetime's first row
    total = len(ids) + len(b_row)
    at_row = first[b_row] + (np.arange(len(b_row)) - (np.cumsum(per_row) - per_row)[b_row]) + 1
    owner = np.repeat(np.arange(len(ids)), per_row + 1)
    start, stop = np.empty(total), np.empty(total)
    state = np.empty(total, dtype=np.int64)
    start[first], state[first] = entry, state0
    start[at_row], state[at_row] = b_at, b_new
    stop[at_row - 1] = b_at
    ends = first + per_row
    stop[ends] = months
    left = np.zeros(total, dtype=np.int64)
    left[ends] = churned
    return owner, start, stop, state, left


def _run_ends(*keys: np.ndarray) -> np.ndarray:
    """True where the next place differs in any of ``keys`` (equal lengths), and at the
    last place: the ends of runs of equal keys."""
    n = len(keys[0])
    out = np.ones(n, dtype=bool)
    if n > 1:
        out[:-1] = np.logical_or.reduce([k[1:] != k[:-1] for k in keys])
    return out


def _merged_cuts(code: np.ndarray, on: np.ndarray, off: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each account's exposure windows ``[on, off]`` (``code`` its account) merged where one
    starts at or before the latest end so far (in the order of ``(on, off)``), as the
    changes of state: ``(code, time, new state)`` sorted by account, then time; a merged
    window gives a change to 1 at its start and to 0 at its latest end."""
    order = np.lexsort((off, on, code))
    code, on, off = code[order], on[order], off[order]
    new_account = np.r_[True, _run_ends(code)[:-1]][:len(code)]
    ends = pd.Series(off).groupby(code).cummax().to_numpy()  # running maximum per account
    before = np.r_[np.nan, ends[:-1]][:len(code)]
    opens = new_account | ~(on <= before)
    starts = np.flatnonzero(opens)
    merged_end = np.maximum.reduceat(off, starts) if len(starts) else off[:0]
    cut_code = np.repeat(code[starts], 2)
    cut_at = np.column_stack([on[starts], merged_end]).ravel()
    cut_new = np.tile(np.array([1, 0], dtype=np.int64), len(starts))
    return cut_code, cut_at, cut_new


def trigger_cox(lifetimes: pd.DataFrame, triggers: pd.DataFrame, *, window_days: int,
                min_events: int) -> pd.DataFrame:
    """Cox hazard ratio of churn while a trigger is recent, per type.

    Per type, ``PHReg`` (:class:`~playbook.analyses.phreg.ArrayPHReg`) on
    :func:`trigger_intervals` (tenure time scale, entry times for the counting process and
    left truncation, Breslow ties) with ``exposed`` as the only covariate, on the rows at risk
    at a churn time; robust (sandwich) variance clustered by account. HR > 1: more churn per
    month
    in the ``window_days`` after the trigger than at other times. A type is fitted only with
    at least ``min_events`` churns while exposed; otherwise NaN and ``note`` says why.
    Returns :data:`COX_COLUMNS` indexed by type.
    """
    rows = {}
    tenures = (_Tenures(lifetimes, triggers) if not lifetimes.empty and window_days >= 0
               else None)  # once for all the types
    # every lifetime row has a row of intervals whatever the type: the accounts are the
    # lifetimes' distinct IDs; the rows' IDs are taken as their numbers (``tenures.codes``,
    # one per text ID), not as text, to count them and number them for the clustering
    accounts = (int(pd.Series(tenures.ids).nunique()) if tenures is not None else None)
    for kind in _types(triggers):
        if tenures is not None:
            owner, start, stop, state, left = _interval_arrays(tenures, kind,
                                                               window_days=window_days)
            iv = pd.DataFrame({"entry_months": start, "exit_months": stop, "exposed": state,
                               "churned": left})
            code = tenures.codes[owner]
        else:
            iv = trigger_intervals(lifetimes, triggers, kind, window_days=window_days)
            code = iv["account_id"].to_numpy()
        exposed_events = int(iv.loc[iv["exposed"] == 1, "churned"].sum())
        row = {"accounts": (accounts if accounts is not None
                            else int(iv["account_id"].nunique())),
               "events": int(iv["churned"].sum()),
               "exposed_events": exposed_events, "hazard_ratio": np.nan, "hr_low": np.nan,
               "hr_high": np.nan, "p_value": np.nan, "note": ""}
        if exposed_events < min_events:
            row["note"] = f"fewer than {min_events} churns within {window_days} days of one"
        else:
            at_risk = at_risk_at_a_churn(iv)
            # numbered in order of appearance, a missing ID (number -1) left out as before
            at = code[at_risk.index.to_numpy()]
            groups = pd.factorize(at if tenures is None else np.where(at >= 0, at, np.nan))[0]
            iv = at_risk
            fit = ArrayPHReg(iv["exit_months"].to_numpy(dtype=float),
                        iv[["exposed"]].to_numpy(dtype=float),
                        status=iv["churned"].to_numpy(dtype=int),
                        entry=iv["entry_months"].to_numpy(dtype=float),
                        ties="breslow").fit(disp=0, groups=groups)
            ci = np.asarray(fit.conf_int(alpha=0.05))[0]
            row.update(hazard_ratio=float(np.exp(fit.params[0])), hr_low=float(np.exp(ci[0])),
                       hr_high=float(np.exp(ci[1])), p_value=float(fit.pvalues[0]))
        rows[kind] = row
    out = pd.DataFrame.from_dict(rows, orient="index", columns=COX_COLUMNS)
    out.index.name = "type"
    return out


def trigger_survival(lifetimes: pd.DataFrame, triggers: pd.DataFrame, *,
                     data_start: pd.Timestamp | None, min_exposed: int, seed: int = 0,
                     months: Sequence[float] = (6, 12)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier curves from the trigger, trigger vs matched (:func:`trigger_lifetimes`,
    one control each), for every type with at least ``min_exposed`` accounts exposed.

    Returns ``(curves, readings)``: :func:`playbook.analyses.survival.kaplan_meier` rows and
    :func:`playbook.analyses.survival.survival_at` readings at ``months``, each with a
    ``type`` column first (empty frames when no type qualifies).
    """
    curves, readings = [], []
    lives = _Lives(lifetimes, triggers, data_start)  # once for all the types
    for kind in _types(triggers):
        life = _matched_lifetimes(lives, kind, controls=1, seed=seed)
        if (life["group"] == "trigger").sum() < min_exposed:
            continue
        c = kaplan_meier(life, by="group", overall=None)
        curves.append(c.assign(type=kind))
        readings.append(survival_at(c, list(months)).assign(type=kind))
    if not curves:
        return pd.DataFrame(columns=["type"]), pd.DataFrame(columns=["type", "group"])
    c, r = pd.concat(curves, ignore_index=True), pd.concat(readings, ignore_index=True)
    return (c[["type", *[k for k in c.columns if k != "type"]]],
            r[["type", *[k for k in r.columns if k != "type"]]])
