"""Trigger events (champion left, funding, ...) and customer-defined success outcomes:
latent processes drawn as if every account were always a customer, independent of renewal
outcomes, and exported only for the months in which the account paid.

They are drawn from their own generator (``default_rng([seed, 20])``) so that adding them
left every earlier draw of the demo unchanged. Their planted effects act in the contract
loop (:mod:`playbook.demo.renewals`): ``champion_left_churn`` and ``outcomes_met_renewal``
on renewal decisions, ``funding_expansion`` and ``seats_full_expansion`` on mid-term upsell
(:data:`playbook.demo.effects.PLANTED_EFFECTS`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook.demo.effects import FEATURE_RULES, OUTCOME_SHARE, SEGMENTS, TRIGGER_TYPES
from playbook.demo.grid import Calendar

_SOURCES = np.array(["CRM field change", "LinkedIn alert", "CSM note", "News alert"],
                    dtype=object)
_NOTES = {
    "champion_left": "Main champion left the company",
    "exec_change": "New executive sponsor appointed",
    "reorg": "Department reorganised",
    "merger_acquisition": "Announced an acquisition",
    "budget_cut": "Budget cut announced for next year",
    "layoffs": "Announced layoffs",
    "funding": "Closed a funding round",
    "new_project": "Started a new project that could use the product",
    "other": "Noted by the CSM",
}

#: Outcome templates: outcome text, metric, baseline range, target as a factor of the
#: baseline (below 1: a "reduce" metric) or an absolute target when the baseline is 0.
_OUTCOMES = (
    ("Cut onboarding time for new hires", "days to onboard", (30, 60), 0.7),
    ("Grow active reps on the platform", "active reps", (20, 200), 2.0),
    ("Automate weekly reporting", "reports automated", (0, 0), 20.0),
    ("Reduce the support ticket backlog", "open tickets", (100, 400), 0.5),
    ("Raise forecast accuracy", "forecast accuracy %", (60, 75), 1.25),
)


def draw_triggers(rng: np.random.Generator, acc: dict[str, np.ndarray],
                  has_champion: np.ndarray, cal: Calendar) -> pd.DataFrame:
    """Trigger events over the whole grid: ``a``, ``day``, ``type`` (canonical code),
    ``source``, ``note``. Each type is a Bernoulli draw per account and month with the chance
    in :data:`~playbook.demo.effects.TRIGGER_TYPES`; events before the account's start are
    dropped (and those in unpaid months at export)."""
    n = len(acc["seg"])
    frames = []
    for code, (_, p) in TRIGGER_TYPES.items():
        chance = np.full(n, p) if code != "champion_left" else np.where(has_champion, p, 0.0)
        hit = rng.random((n, cal.n_grid)) < chance[:, None]
        a, k = np.nonzero(hit)
        day = cal.month_start_day(k) + rng.integers(0, 28, len(a))
        frames.append(pd.DataFrame({"a": a, "day": day, "type": code}))
    t = pd.concat(frames, ignore_index=True)
    t = t[t["day"] >= acc["start_day"][t["a"].to_numpy()]]
    t = t.sort_values(["day", "a", "type"], kind="stable").reset_index(drop=True)
    t["source"] = _SOURCES[rng.integers(0, len(_SOURCES), len(t))]
    t["note"] = t["type"].map(_NOTES)
    return t


def trigger_keys(triggers: pd.DataFrame, code: str, cal: Calendar) -> np.ndarray:
    """Sorted ``a * 10**6 + day offset`` of the triggers of type ``code`` (for range counts)."""
    t = triggers[triggers["type"] == code]
    return np.sort(t["a"].to_numpy().astype(np.int64) * 10**6
                   + t["day"].to_numpy() - cal.month_start_day(0))


def count_in(keys: np.ndarray, a: np.ndarray, lo_day: np.ndarray, hi_day: np.ndarray,
             cal: Calendar) -> np.ndarray:
    """Events in ``keys`` of account ``a`` dated in ``[lo_day, hi_day)`` (day numbers)."""
    base = a.astype(np.int64) * 10**6 - cal.month_start_day(0)
    return (np.searchsorted(keys, base + hi_day, side="left")
            - np.searchsorted(keys, base + lo_day, side="left"))


def funded_recently(triggers: pd.DataFrame, n: int, cal: Calendar) -> np.ndarray:
    """A x K bool: a funding trigger in one of the ``funding_months`` months before month k."""
    t = triggers[triggers["type"] == "funding"]
    month = np.zeros((n, cal.n_grid), dtype=bool)
    month[t["a"].to_numpy(), cal.month_of_day(t["day"].to_numpy())] = True
    out = np.zeros_like(month)
    for lag in range(1, int(FEATURE_RULES["funding_months"]) + 1):
        out[:, lag:] |= month[:, :-lag]
    return out


def draw_outcomes(rng: np.random.Generator, acc: dict[str, np.ndarray],
                  cal: Calendar) -> pd.DataFrame:
    """Success-plan measurements: one row per outcome and quarterly measurement.

    Columns ``a``, ``o`` (outcome number within the account), ``outcome``, ``metric``,
    ``baseline`` (NaN for 4% of outcomes: not recorded), ``target``, ``value``, ``day``
    (measured), ``agreed_day`` and ``progress`` (realised value from the rounded numbers:
    (value - baseline) / (target - baseline); NaN without a baseline). The true progress
    grows linearly from the agreed date at an outcome's own pace (a year's progress
    log-normal around 0.9 of the target) with noise, capped at 1.3.
    """
    seg = acc["seg"]
    n = len(seg)
    share = np.array([OUTCOME_SHARE[s] for s in SEGMENTS])[seg]
    has = rng.random(n) < share
    count = np.where(has, 1 + (rng.random(n) < 0.4), 0)
    a = np.repeat(np.arange(n), count)
    o = np.concatenate([np.arange(c) for c in count]) if len(a) else np.zeros(0, int)
    m = len(a)
    tpl = rng.integers(0, len(_OUTCOMES), m)
    lo = np.array([t[2][0] for t in _OUTCOMES])[tpl]
    hi = np.array([t[2][1] for t in _OUTCOMES])[tpl]
    factor = np.array([t[3] for t in _OUTCOMES])[tpl]
    baseline = np.round(rng.uniform(lo, hi + 1e-9))
    target = np.where(baseline > 0, np.round(baseline * factor), factor)
    pace = rng.lognormal(np.log(0.9), 0.5, m)
    agreed = acc["start_day"][a] + rng.integers(20, 91, m)
    no_baseline = rng.random(m) < 0.04
    rows = []
    for q in range(1, cal.n_grid // 3 + 2):
        day = agreed + 91 * q
        ok = day <= cal.end_day
        if not ok.any():
            break
        prog = np.minimum(pace * 91 * q / 365 + rng.normal(0, 0.05, m), 1.3)
        value = np.round(baseline + prog * (target - baseline), 1)
        rows.append(pd.DataFrame({"a": a, "o": o, "tpl": tpl, "baseline": baseline,
                                  "target": target, "value": value, "day": day,
                                  "agreed_day": agreed, "no_baseline": no_baseline})[ok])
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["a", "o", "tpl", "baseline", "target", "value", "day", "agreed_day",
                 "no_baseline"])
    out["outcome"] = np.array([t[0] for t in _OUTCOMES], dtype=object)[out["tpl"].astype(int)]
    out["metric"] = np.array([t[1] for t in _OUTCOMES], dtype=object)[out["tpl"].astype(int)]
    out["baseline"] = out["baseline"].where(~out["no_baseline"].astype(bool))
    out["progress"] = (out["value"] - out["baseline"]) / (out["target"] - out["baseline"])
    out = out.drop(columns=["tpl", "no_baseline"])
    return out.sort_values(["day", "a", "o"], kind="stable").reset_index(drop=True)


def outcomes_met(meas: pd.DataFrame, a: np.ndarray, cutoff: np.ndarray) -> np.ndarray:
    """True where every outcome of account ``a`` with a measurable progress in
    ``[cutoff - outcome_lookback_days, cutoff]`` has its latest such progress at least 1
    (and there is at least one); the rule :mod:`playbook.analyses.outcomes` applies."""
    look = int(FEATURE_RULES["outcome_lookback_days"])
    q = pd.DataFrame({"a": a, "cutoff": cutoff, "i": np.arange(len(a))})
    m = q.merge(meas[["a", "o", "day", "progress"]], on="a")
    m = m[(m["day"] <= m["cutoff"]) & (m["day"] >= m["cutoff"] - look) & m["progress"].notna()]
    last = m.sort_values(["i", "o", "day"], kind="stable").groupby(["i", "o"])["progress"].last()
    met = (last >= 1 - 1e-9).groupby(level="i").all()
    out = np.zeros(len(a), dtype=bool)
    out[met.index.to_numpy()] = met.to_numpy()
    return out
