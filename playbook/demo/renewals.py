"""Contracts: the monthly loop with renewal decisions drawn from the planted
model on features measured at the cut-off (:data:`~playbook.demo.effects.FEATURE_RULES`),
and the churn reasons recorded for the accounts that left.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from playbook.demo.effects import (
    FEATURE_RULES,
    OTHER_TEXTS,
    PLANTED_EFFECTS,
    REASON_MIX,
    REASON_TEXTS,
    REASONS,
    SEGMENTS,
    coef,
)
from playbook.demo.grid import Calendar, choice
from playbook.demo.trigger_events import count_in, outcomes_met


@dataclass
class Latent:
    users: np.ndarray  # A x K active users
    exec_keys: np.ndarray  # sorted a * 10**6 + day of executive touches
    nps: pd.DataFrame  # a, day, nps
    go_live: np.ndarray  # A, day or -1
    sponsor: np.ndarray  # A bool
    champion_left: np.ndarray  # sorted a * 10**6 + day offset of champion_left triggers
    funded: np.ndarray  # A x K bool: a funding trigger in the 6 months before month k
    outcomes: pd.DataFrame  # success-outcome measurements (a, o, day, progress)


def _renewal_features(lat: Latent, acc: dict[str, np.ndarray], a: np.ndarray,
                      cutoff: np.ndarray, cal: Calendar) -> dict[str, np.ndarray]:
    """The planted model's features for accounts ``a`` at cut-off days ``cutoff``."""
    r = FEATURE_RULES
    cm = cal.month_of_day(cutoff)
    now = lat.users[a, cm - 1]
    then = lat.users[a, cm - 1 - int(r["usage_drop_months"])]
    decline = now < (1 - r["usage_drop_share"]) * then

    key = a.astype(np.int64) * 10**6 + (cutoff - cal.month_start_day(0))
    pos = np.searchsorted(lat.exec_keys, key, side="right") - 1
    prev = lat.exec_keys[np.maximum(pos, 0)]
    same = (pos >= 0) & (prev // 10**6 == a)
    days = np.where(same, key - prev, r["lookback_days"])
    days = np.minimum(days, r["lookback_days"])

    nps = lat.nps
    latest = pd.DataFrame({"a": a, "cutoff": cutoff, "i": np.arange(len(a))})
    m = latest.merge(nps, on="a")
    m = m[(m["day"] <= m["cutoff"]) & (m["day"] >= m["cutoff"] - r["lookback_days"])]
    last = m.sort_values(["i", "day"], kind="stable").groupby("i")["nps"].last()
    detractor = np.zeros(len(a), dtype=bool)
    detractor[last.index.to_numpy()] = last.to_numpy() <= r["detractor_max"]

    gl = lat.go_live[a]
    return {
        "exec_sponsor": lat.sponsor[a].astype(float),
        "usage_decline": decline.astype(float),
        "days_since_exec_contact_per_30d": days / 30.0,
        "nps_detractor": detractor.astype(float),
        "products_per_product": acc["products"][a].astype(float),
        "mid_market": (acc["seg"][a] == 1).astype(float),
        "onboarding_incomplete": ((gl < 0) | (gl > cutoff)).astype(float),
    }


_FEATURES = ("exec_sponsor", "usage_decline", "days_since_exec_contact_per_30d", "nps_detractor",
             "products_per_product", "mid_market", "onboarding_incomplete")


def _renewal_log_odds(feat: dict[str, np.ndarray]) -> np.ndarray:
    z = np.full(len(next(iter(feat.values()))), coef("renewal_intercept"))
    for name, x in feat.items():
        z = z + coef(name) * x
    return z


def simulate_contracts(rng: np.random.Generator, acc: dict[str, np.ndarray], lat: Latent,
                       cal: Calendar) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    """Walk the months: starts, renewals (planted model), churn, reactivation, up/downsell.

    Returns the MRR matrix (A x K, currency units a month; 0 = not a paying customer), one
    row per renewal decision in the window (with the features it was drawn from) and each
    account's next anniversary after the window (day number; meaningful for active ones).
    """
    n, k_n = len(acc["seg"]), cal.n_grid
    seg = acc["seg"]
    mrr = np.zeros((n, k_n))
    cur = acc["mrr_start"].astype(float).copy()
    alive = np.zeros(n, dtype=bool)
    ren_k = np.where(
        acc["is_base"],
        acc["start_k"] + 12 * np.maximum(1, -(-(cal.window_start - acc["start_k"]) // 12)),
        acc["start_k"] + 12,
    )
    ren_dom = acc["start_dom"].copy()
    react_k = np.full(n, -10**6)
    react_dom = np.ones(n, dtype=int)
    exp_p = np.array([0.008, 0.015, 0.025])[seg]
    decisions = []
    for k in range(cal.window_start, k_n):
        if k == cal.window_start:
            alive = acc["is_base"].copy()
        starting = acc["start_k"] == k
        alive |= starting
        back = react_k == k
        if back.any():
            alive |= back
            cur[back] = np.round(cur[back] * rng.uniform(0.6, 1.0, back.sum()))
            ren_k[back] = k + 12
            ren_dom[back] = react_dom[back]
        deciding = np.nonzero(alive & (ren_k == k) & ~starting & ~back)[0]
        if len(deciding):
            decisions.append(_decide(rng, deciding, k, ren_dom, cur, acc, lat, cal))
            d = decisions[-1]
            churned = d["a"][d["outcome"] == "churned"]
            alive[churned] = False
            comes_back = churned[rng.random(len(churned)) < coef("reactivation_probability")]
            react_k[comes_back] = k + rng.integers(2, 12, len(comes_back))
            react_dom[comes_back] = rng.integers(1, 29, len(comes_back))
            kept = d["a"][d["outcome"] != "churned"]
            cur[kept] = d["arr_after"][d["outcome"] != "churned"] / 12
            ren_k[kept] += 12
        mid = alive & ~starting & ~back & (ren_k != k)
        mid[deciding] = False
        up = mid & (rng.random(n) < exp_p * _upsell_factor(lat, acc, cur, k))
        down = mid & ~up & (rng.random(n) < 0.003)
        cur = np.where(up, np.round(cur * rng.uniform(1.1, 1.6, n)), cur)
        cur = np.where(down, np.round(cur * rng.uniform(0.7, 0.95, n)), cur)
        mrr[:, k] = np.where(alive, cur, 0.0)
    dec = pd.concat([pd.DataFrame(d) for d in decisions] or [_no_decisions()],
                    ignore_index=True)
    next_renewal = cal.month_start_day(ren_k) + ren_dom - 1
    return mrr, dec, next_renewal


def _upsell_factor(lat: Latent, acc: dict[str, np.ndarray], cur: np.ndarray,
                   k: int) -> np.ndarray:
    """Factor on month ``k``'s upsell probability: ``funding_expansion`` after a funding
    trigger, ``seats_full_expansion`` when last month's seats were nearly full (active users
    / licensed seats, seats priced as the export does: seats0 x MRR / MRR0)."""
    seats = np.maximum(1, np.round(acc["seats0"] * cur / acc["mrr0"]))
    full = lat.users[:, k - 1] >= FEATURE_RULES["seats_full_share"] * seats
    return (np.exp(coef("funding_expansion") * lat.funded[:, k])
            * np.exp(coef("seats_full_expansion") * full))


def _no_decisions() -> pd.DataFrame:
    cols = ["a", "renewal_day", "outcome", "arr_before", "arr_after", "p_keep",
            *[k for k in PLANTED_EFFECTS if k in _FEATURES], "champion_left", "outcomes_met"]
    return pd.DataFrame({c: pd.Series(dtype=object if c == "outcome" else float) for c in cols}
                        ).astype({"a": np.int64, "renewal_day": np.int64})


def _decide(rng: np.random.Generator, a: np.ndarray, k: int, ren_dom: np.ndarray,
            cur: np.ndarray, acc: dict[str, np.ndarray], lat: Latent,
            cal: Calendar) -> dict[str, np.ndarray]:
    """Draw the renewal outcome of accounts ``a`` whose anniversary falls in month ``k``."""
    ren_day = cal.month_start_day(k) + ren_dom[a] - 1
    cutoff = ren_day - int(FEATURE_RULES["cutoff_days"])
    feat = _renewal_features(lat, acc, a, cutoff, cal)
    window = int(FEATURE_RULES["trigger_window_days"])
    champion_left = count_in(lat.champion_left, a, ren_day - window, ren_day, cal) > 0
    met = outcomes_met(lat.outcomes, a, cutoff)
    z = (_renewal_log_odds(feat) - coef("champion_left_churn") * champion_left
         + coef("outcomes_met_renewal") * met)
    p_keep = 1 / (1 + np.exp(-z))
    keep = rng.random(len(a)) < p_keep
    p_down = (coef("downgrade_probability")
              + coef("downgrade_if_usage_declined") * feat["usage_decline"])
    down = keep & (rng.random(len(a)) < p_down)
    uplift = np.where(rng.random(len(a)) < 0.35, rng.uniform(1.03, 1.08, len(a)), 1.0)
    grow = np.where(rng.random(len(a)) < 0.08, rng.uniform(1.1, 1.4, len(a)), 1.0)
    arr_before = cur[a] * 12
    factor = np.where(down, rng.uniform(0.55, 0.90, len(a)), uplift * grow)
    arr_after = np.where(keep, np.round(arr_before * factor / 12) * 12, 0.0)
    outcome = np.where(~keep, "churned", np.where(down, "downgraded", "renewed"))
    return {"a": a, "renewal_day": ren_day, "outcome": outcome, "arr_before": arr_before,
            "arr_after": arr_after, "p_keep": p_keep, **feat,
            "champion_left": champion_left.astype(float), "outcomes_met": met.astype(float)}


def churn_reasons(rng: np.random.Generator, churn: pd.DataFrame,
                  acc: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Coded reason (as recorded, possibly uninformative) and free text per churn event."""
    a = churn["a"].to_numpy()
    m = len(a)
    mix = np.array([REASON_MIX[s] for s in SEGMENTS])[acc["seg"][a]].copy()
    onb = churn["onboarding_incomplete"].to_numpy() > 0
    mix[onb, REASONS.index("Poor onboarding")] *= 4
    mix[churn["usage_decline"].to_numpy() > 0, REASONS.index("Missing features")] *= 1.5
    mix[churn["champion_left"].to_numpy() > 0, REASONS.index("Champion left")] *= 4
    mix /= mix.sum(axis=1, keepdims=True)
    true = np.array(REASONS, dtype=object)[choice(rng, mix)]
    u = rng.random(m)
    blank = coef("reason_blank_share")
    other_cut = blank + coef("reason_other_share")
    unknown_cut = other_cut + coef("reason_unknown_share")
    code = np.where(u < blank, "", np.where(u < other_cut, "Other",
                                            np.where(u < unknown_cut, "Unknown", true)))
    code = code.astype(object)
    pick = rng.random(m)
    text = np.array([REASON_TEXTS[r][int(p * len(REASON_TEXTS[r]))]
                     for r, p in zip(true, pick, strict=True)], dtype=object)
    other = np.array(OTHER_TEXTS, dtype=object)[(pick * len(OTHER_TEXTS)).astype(int)]
    v = rng.random(m)
    text = np.where(code == "", np.where(v < 0.45, text, ""),
                    np.where(code == "Other", np.where(v < 0.5, other, text),
                             np.where(code == "Unknown", np.where(v < 0.3, other, ""),
                                      np.where(v < 0.6, text, ""))))
    return code, text.astype(object)
