"""What the customer-success team records once contracts are known: support
tickets, post-ticket CSAT and the owners' quarterly CSM scores (paid months only).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook.demo.grid import Calendar, choice


def draw_tickets(rng: np.random.Generator, acc: dict[str, np.ndarray], mrr: np.ndarray,
                 cal: Calendar) -> pd.DataFrame:
    """Support tickets in paid months: rate ~ 0.06 x sqrt(seats) a month."""
    w = slice(cal.window_start, cal.n_grid)
    seats = acc["seats0"][:, None] * mrr[:, w] / acc["mrr0"][:, None]
    counts = rng.poisson(0.06 * np.sqrt(seats) * (mrr[:, w] > 0))
    a_idx, k_idx = np.nonzero(counts)
    reps = counts[a_idx, k_idx]
    a = np.repeat(a_idx, reps)
    k = np.repeat(k_idx, reps) + cal.window_start
    opened = cal.month_start_day(k) + np.floor(rng.random(len(a)) * 28).astype(np.int64)
    prio = choice(rng, np.tile([0.35, 0.35, 0.22, 0.08], (len(a), 1)))  # low..urgent
    close_med = np.array([7.0, 4.0, 2.0, 0.5])[prio]
    closed = opened + np.round(rng.lognormal(np.log(close_med), 1.0)).astype(np.int64)
    closed = np.where(closed > cal.end_day, -1, closed)
    hours = np.round(rng.lognormal(np.log(np.array([0.8, 1.5, 3.0, 6.0])[prio]), 0.6), 1)
    hours = np.maximum(hours, 0.1)
    t = pd.DataFrame({"a": a, "opened": opened, "closed": closed, "prio": prio,
                      "hours": hours})
    return t.sort_values(["opened", "a"], kind="stable").reset_index(drop=True)


def draw_csat(rng: np.random.Generator, tickets: pd.DataFrame, cal: Calendar) -> pd.DataFrame:
    """Post-ticket CSAT (1-5) for 30% of closed tickets, sent 0-3 days after closing."""
    closed = tickets[tickets["closed"] >= 0]
    take = rng.random(len(closed)) < 0.30
    t = closed[take]
    day = t["closed"].to_numpy() + rng.integers(0, 4, len(t))
    score = (4.3 - 0.5 * (t["prio"].to_numpy() == 3) - 0.3 * np.log1p(t["hours"].to_numpy())
             + rng.normal(0, 0.8, len(t)))
    out = pd.DataFrame({"a": t["a"].to_numpy(), "day": day,
                        "csat": np.clip(np.round(score), 1, 5).astype(int)})
    return out[out["day"] <= cal.end_day]


def draw_csm_inputs(rng: np.random.Generator, acc: dict[str, np.ndarray],
                    rel: dict[str, np.ndarray], mrr: np.ndarray, cal: Calendar) -> pd.DataFrame:
    """Quarter-end scores (1-5) by the owner: all Mid-market/Enterprise, 30% of SMB."""
    n = len(acc["seg"])
    exec_base = 1.8 + 1.8 * rel["sponsor"] + 0.5 * (rel["n_exec"] > 0) + rng.normal(0, 0.5, n)
    champ_base = 2.0 + 0.6 * rel["has_champion"] + 1.2 * rel["strong_champion"] \
        + rng.normal(0, 0.5, n)
    ref_base = 1.8 + 0.8 * (acc["seg"] == 2) + 0.3 * (acc["products"] - 1) \
        + rng.normal(0, 0.7, n)
    frames = []
    for k in range(cal.window_start, cal.n_grid):
        if (cal.first_month + k) % 12 not in (2, 5, 8, 11):
            continue
        a = np.nonzero((mrr[:, k] > 0) & ((acc["seg"] > 0) | (rng.random(n) < 0.3)))[0]
        day = cal.month_start_day(k) + rng.integers(17, 28, len(a))
        scores = [np.clip(np.round(b[a] + rng.normal(0, 0.4, len(a))), 1, 5).astype(int)
                  for b in (exec_base, champ_base, ref_base)]
        frames.append(pd.DataFrame({"a": a, "day": day, "exec": scores[0],
                                    "champ": scores[1], "ref": scores[2]}))
    return pd.concat(frames, ignore_index=True)
