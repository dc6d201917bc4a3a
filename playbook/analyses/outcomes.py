"""Customer-defined success outcomes: who has them, how much is realised, does it predict renewal.

Pure functions (canonical frames and parameters in, frames and figures out; no I/O, no
printing, no plotting). Shares are 0-1.

Definitions
-----------
* **Progress** of one measurement (:func:`outcome_progress`): realised value
  ``(value - baseline) / (target - baseline)``, a share of the way from the baseline to the
  target. A "reduce" metric (target below baseline: "cut onboarding time") works the same
  way: both differences are negative. Undefined (NaN, with ``why``) when the baseline, the
  target or the value is missing, or when the target equals the baseline (nothing to
  realise). ``progress_capped`` clips it to [0, 1]: going backwards counts as 0, overshooting
  the target as 1 (met), so one outcome far past its target cannot hide another not started.
* **Realised value of an account on a date** (:func:`realised_at`): for each of its
  outcomes, the latest measurement with a defined progress dated in
  ``[date - lookback_days, date]``; the mean of their capped progress. **Met** when every
  one of them has progress at least 1 (realised value 1). Accounts without such a
  measurement have no realised value (band "no outcome measured").
* **Bands** (:data:`BANDS`): no outcome measured; below 50%; 50-99%; met (100%).
* **Renewal by band** (:func:`renewal_by_band`): each past renewal decision's account's
  realised value at the decision's cut-off (``decision_date - cutoff_days``, the renewal
  model's: measured before the decision, leakage-safe), then the renewal rate per band with
  Wilson 95% intervals.
* **Expansion by band** (:func:`expansion_by_band`): the expansion model's rows (an account
  paying at a cut-off, expanded or not within the horizon:
  :func:`playbook.analyses.expansion.expansion_outcomes`) by the account's band at the
  cut-off, with Wilson 95% intervals.
* **Met as a driver** (:func:`outcome_effect`): ``outcomes_met`` (0/1) added to the renewal
  model's features on its modelling table (:func:`playbook.analyses.drivers.
  fit_renewal_model`): the odds ratio of renewal for met vs not, adjusted for usage,
  relationships and the other drivers, with its 95% interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from playbook.analyses import drivers
from playbook.analyses.account_state import active_accounts
from playbook.analyses.expansion import expansion_cutoffs, expansion_outcomes
from playbook.analyses.stats import wilson_interval
from playbook.errors import InsufficientDataError

__all__ = ["BANDS", "OutcomeEffect", "expansion_by_band", "outcome_coverage", "outcome_effect",
           "outcome_progress", "realised_at", "realised_in", "realised_of",
           "renewal_by_band"]

BANDS = ("no outcome measured", "below 50%", "50-99%", "met (100%)")

_FIX = ("Send the success plans: per account each agreed outcome with its metric, baseline, "
        "target and dated measurements (Gainsight Success Plans, ChurnZero Goals).")


def outcome_progress(outcomes: pd.DataFrame) -> pd.DataFrame:
    """``outcomes`` with ``progress`` (realised value, may be below 0 or above 1),
    ``progress_capped`` (clipped to [0, 1]) and ``why`` ("" when defined, else "no baseline",
    "no target", "no value" or "target equals baseline")."""
    out = outcomes.copy()
    base = pd.to_numeric(out.get("baseline", pd.Series(np.nan, index=out.index)),
                         errors="coerce").astype(float)
    target = pd.to_numeric(out["target"], errors="coerce").astype(float)
    value = pd.to_numeric(out["value"], errors="coerce").astype(float)
    span = target - base
    why = np.select([base.isna(), target.isna(), value.isna(), span == 0],
                    ["no baseline", "no target", "no value", "target equals baseline"], "")
    with np.errstate(divide="ignore", invalid="ignore"):
        progress = ((value - base) / span).where(why == "")
    out["progress"] = progress.astype(float)
    out["progress_capped"] = out["progress"].clip(0.0, 1.0)
    out["why"] = why
    return out


def realised_at(outcomes: pd.DataFrame, queries: pd.DataFrame, *,
                lookback_days: int) -> pd.DataFrame:
    """Realised value per row of ``queries`` (``account_id``, ``date``).

    Returns ``queries``' index with ``realised`` (mean capped progress, NaN without a
    measured outcome), ``outcomes_measured`` (count), ``met`` (bool: every measured outcome
    at or past its target) and ``band`` (:data:`BANDS`). Rule: module docstring.
    """
    return realised_of(outcome_progress(outcomes), queries, lookback_days=lookback_days)


def realised_of(progress: pd.DataFrame, queries: pd.DataFrame, *,
                lookback_days: int) -> pd.DataFrame:
    """:func:`realised_at` from measurements already given their progress
    (:func:`outcome_progress`), to score many dates without recomputing it."""
    prog = progress[progress["progress"].notna()]
    m = _measured_within(prog, queries, lookback_days=lookback_days)
    if m is None:  # IDs or dates not of one kind: the merge on the ID
        q = queries[["account_id", "date"]].copy()
        q["_i"] = np.arange(len(q))
        m = q.merge(prog[["account_id", "outcome", "measured_at", "progress",
                          "progress_capped"]], on="account_id")
    return realised_in(m, queries.index, lookback_days=lookback_days)


def _measured_within(prog: pd.DataFrame, queries: pd.DataFrame, *,
                     lookback_days: int) -> pd.DataFrame | None:
    """The rows of the merge of ``queries`` (``_i``: their positions) with the measurements
    ``prog`` on ``account_id`` that :func:`realised_in` keeps (measured in ``[date -
    lookback_days, date]``), in the merge's order (queries in order, each one's
    measurements in table order), found by binary search on the measurements' sorted ID
    numbers rather than merged (the merge pairs every query with every measurement of its
    account, most of them outside the window: 1M pairs for 190,000 kept at 100,000
    accounts). A missing ID matches a missing ID, as a merge matches them. None when the
    two ID columns differ in dtype or a date column is not a plain ``datetime64`` one (the
    caller merges)."""
    ids, pids = queries["account_id"], prog["account_id"]
    dates, measured = queries["date"], prog["measured_at"]
    if (ids.dtype != pids.dtype or not all(
            isinstance(x.dtype, np.dtype) and x.dtype.kind == "M" for x in (dates, measured))):
        return None
    n = len(queries)
    codes, _ = pd.factorize(pd.concat([ids, pids], ignore_index=True), use_na_sentinel=False)
    codes = np.asarray(codes, dtype=np.int64)
    qcode, pcode = codes[:n], codes[n:]
    order = np.argsort(pcode, kind="stable")  # the measurements by ID, table order within
    sorted_code = pcode[order]
    lo = np.searchsorted(sorted_code, qcode, side="left")
    many = np.searchsorted(sorted_code, qcode, side="right") - lo
    query = np.repeat(np.arange(n), many)
    pair = order[np.arange(many.sum()) + np.repeat(lo - (np.cumsum(many) - many), many)]
    when = dates.to_numpy()[query]
    at = measured.to_numpy()[pair]
    keep = (at <= when) & (at >= when - np.timedelta64(lookback_days, "D"))
    query, pair, when = query[keep], pair[keep], when[keep]
    m = prog[["outcome", "measured_at", "progress", "progress_capped"]].take(pair)
    m = m.reset_index(drop=True)
    m.insert(0, "_i", query)
    m.insert(1, "date", when)
    return m


def realised_in(m: pd.DataFrame, index: pd.Index, *, lookback_days: int) -> pd.DataFrame:
    """:func:`realised_of` from its queries' measurements: ``m`` holds, for each query
    ``_i`` (0 to ``len(index) - 1``), its ``date`` and its account's measurements with a
    defined progress (``outcome``, ``measured_at``, ``progress``, ``progress_capped``; any
    order of queries, each query's measurements in table order). Returns the frame of
    :func:`realised_of`, indexed by ``index``."""
    m = m[(m["measured_at"] <= m["date"])
          & (m["measured_at"] >= m["date"] - pd.Timedelta(days=lookback_days))]
    last = m.sort_values(["_i", "outcome", "measured_at"], kind="stable").groupby(
        ["_i", "outcome"]).last()
    g = last.groupby(level="_i")
    per = pd.DataFrame({"realised": g["progress_capped"].mean(),
                        "outcomes_measured": g.size(),
                        "met": g["progress"].min() >= 1 - 1e-9})
    per = per.reindex(np.arange(len(index)))
    out = pd.DataFrame(index=index)
    out["realised"] = per["realised"].to_numpy(dtype=float)
    out["outcomes_measured"] = per["outcomes_measured"].fillna(0).astype(int).to_numpy()
    out["met"] = per["met"].eq(True).to_numpy()
    r = out["realised"]
    out["band"] = np.select([r.isna(), out["met"], r >= 0.5, r < 0.5],
                            [BANDS[0], BANDS[3], BANDS[2], BANDS[1]], BANDS[0])
    return out


def outcome_coverage(accounts: pd.DataFrame, outcomes: pd.DataFrame, tiers: pd.Series, *,
                     as_of: pd.Timestamp, lookback_days: int) -> pd.DataFrame:
    """Share of the active accounts (``ctx.accounts``: paying at ``as_of``) with at least
    one outcome agreed on or before ``as_of`` (a measurement or ``agreed_at`` by then), by value
    tier (``ctx.value_tiers``) and in total.

    Returns a frame indexed by tier plus ``total``: ``accounts``, ``with_outcomes``, ``share``
    (0-1), ``without`` (count) and ``realised`` (mean realised value of those measured in the
    last ``lookback_days`` days, 0-1).
    """
    ids = active_accounts(accounts, as_of).index
    dated = outcomes["measured_at"]
    if "agreed_at" in outcomes:
        dated = outcomes["agreed_at"].fillna(dated)
    has = pd.Index(outcomes.loc[dated <= as_of, "account_id"].unique())
    real = realised_at(outcomes, pd.DataFrame({"account_id": ids, "date": as_of}),
                       lookback_days=lookback_days)
    frame = pd.DataFrame({"tier": tiers.reindex(ids).astype(object).fillna("(no tier)"),
                          "has": ids.isin(has), "realised": real["realised"].to_numpy()},
                         index=ids)
    order = (list(tiers.dtype.categories) if isinstance(tiers.dtype, pd.CategoricalDtype)
             else sorted(frame["tier"].unique()))
    order += [t for t in frame["tier"].unique() if t not in order]
    g = frame.groupby("tier", sort=False)
    out = pd.DataFrame({"accounts": g.size(), "with_outcomes": g["has"].sum(),
                        "realised": g["realised"].mean()}).reindex(order)
    out = out.dropna(subset=["accounts"])
    out.loc["total"] = [len(frame), frame["has"].sum(), frame["realised"].mean()]
    out["accounts"] = out["accounts"].astype(int)
    out["with_outcomes"] = out["with_outcomes"].astype(int)
    out["without"] = out["accounts"] - out["with_outcomes"]
    out["share"] = out["with_outcomes"] / out["accounts"].where(out["accounts"] > 0)
    out.index.name = "value_tier"
    return out[["accounts", "with_outcomes", "share", "without", "realised"]]


def _rates(band: np.ndarray, outcome: np.ndarray, label: str) -> pd.DataFrame:
    frame = pd.DataFrame({"band": band, "y": outcome.astype(float)})
    g = frame.groupby("band")["y"]
    out = pd.DataFrame({"n": g.size(), "k": g.sum()}).reindex(list(BANDS)).fillna(0)
    out = out.astype(int).rename(columns={"n": "decisions" if label == "renewed" else "units",
                                          "k": label})
    n, k = out.iloc[:, 0], out.iloc[:, 1]
    out["rate"] = k / n.where(n > 0)
    out["low"], out["high"] = wilson_interval(k.to_numpy(), n.to_numpy())
    out.index.name = "band"
    return out


def expansion_by_band(mrr: pd.DataFrame, outcomes: pd.DataFrame, *, as_of: pd.Timestamp,
                      horizon_months: int, cutoff_every_months: int, min_rise_share: float,
                      lookback_days: int) -> pd.DataFrame:
    """Expansion rate per realised-value band at the expansion model's cut-offs (``mrr``:
    ``ctx.counted_mrr``; the ``expansion.*`` parameters). Returns a frame indexed by band:
    ``units`` (account x cut-off), ``expanded``, ``rate``, ``low``/``high`` (Wilson 95%)."""
    cuts = expansion_cutoffs(mrr, as_of=as_of, horizon_months=horizon_months,
                             cutoff_every_months=cutoff_every_months)
    rows = expansion_outcomes(mrr, cuts, horizon_months=horizon_months,
                              min_rise_share=min_rise_share)
    q = pd.DataFrame({"account_id": rows["account_id"].to_numpy(),
                      "date": rows["cutoff_date"].to_numpy()})
    band = realised_at(outcomes, q, lookback_days=lookback_days)["band"].to_numpy()
    return _rates(band, rows["expanded"].to_numpy(), "expanded")


def renewal_by_band(decisions: pd.DataFrame, outcomes: pd.DataFrame, *, cutoff_days: int,
                    lookback_days: int) -> pd.DataFrame:
    """Renewal rate per realised-value band at the decisions' cut-offs.

    ``decisions``: ``account_id``, ``decision_date``, ``renewed`` (1/0; ``ctx.
    renewal_decisions``). Returns a frame indexed by band (:data:`BANDS`, every band):
    ``decisions``, ``renewed``, ``rate`` (share), ``low``/``high`` (Wilson 95%).
    """
    q = pd.DataFrame({"account_id": decisions["account_id"].to_numpy(),
                      "date": pd.to_datetime(decisions["decision_date"]).to_numpy()
                      - np.timedelta64(cutoff_days, "D")})
    band = realised_at(outcomes, q, lookback_days=lookback_days)["band"].to_numpy()
    return _rates(band, decisions["renewed"].to_numpy(dtype=float), "renewed")


@dataclass
class OutcomeEffect:
    """Odds ratio of renewal for accounts whose outcomes are met at the cut-off vs not,
    adjusted for the renewal model's features (95% interval, p-value); ``n`` decisions,
    ``met`` of them with outcomes met."""

    odds_ratio: float
    low: float
    high: float
    p_value: float
    n: int
    met: int

    @property
    def significant(self) -> bool:
        """The interval excludes 1."""
        return bool(self.low > 1 or self.high < 1)


def outcome_effect(table: pd.DataFrame, outcomes: pd.DataFrame, features: Sequence[str], *,
                   cutoff_days: int, lookback_days: int,
                   units: dict | None = None) -> OutcomeEffect:
    """``outcomes_met`` at the cut-off as a feature of the renewal model, beside
    ``features``, on the modelling table (``ctx.modelling_table``, ``ctx.model_features``).

    Raises
    ------
    InsufficientDataError
        Fewer than 10 decisions with outcomes met (or all met): no defensible odds ratio.
    """
    q = pd.DataFrame({"account_id": table["account_id"].to_numpy(),
                      "date": pd.to_datetime(table["decision_date"]).to_numpy()
                      - np.timedelta64(cutoff_days, "D")})
    met = realised_at(outcomes, q, lookback_days=lookback_days)["met"].to_numpy()
    if met.sum() < 10 or (~met).sum() < 10:
        raise InsufficientDataError(
            f"Only {int(met.sum())} renewal decisions had their outcomes met at the cut-off: "
            "too few to say whether met outcomes predict renewal.", fix=_FIX)
    t = table.assign(outcomes_met=met.astype(float))
    model = drivers.fit_renewal_model(
        t, [*features, "outcomes_met"], reduce_features=False,
        units={**(units or {}), "outcomes_met": (1.0, "outcomes met vs not")},
        marginal_effects=False)
    row = model.coefficients.set_index("feature").loc["outcomes_met"]
    return OutcomeEffect(float(row["odds_ratio"]), float(row["or_low"]), float(row["or_high"]),
                         float(row["p_value"]), int(model.n), int(met.sum()))
