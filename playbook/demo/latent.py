"""Latent processes, drawn as if every account were always a customer and
independent of renewal outcomes: usage, touches, NPS answers and onboarding. They are
exported only for the months in which the account paid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook.demo.grid import Calendar, choice


def latent_usage(rng: np.random.Generator, acc: dict[str, np.ndarray],
                 cal: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Active users per account and grid month (A x K, ints) and the usage level (floats).

    The level is 1 in steady state; a decline episode (5.5% chance a month) multiplies it by
    0.35-0.70 and it recovers by 12% of the gap a month. New accounts ramp up over 4 months.
    """
    n, k_n = len(acc["seg"]), cal.n_grid
    base_users = acc["seats0"] * rng.uniform(0.55, 0.95, n)
    level = np.ones((n, k_n))
    cur = np.ones(n)
    onset = rng.random((n, k_n)) < 0.055
    depth = rng.uniform(0.35, 0.70, (n, k_n))
    for k in range(k_n):
        cur = cur + 0.12 * (1 - cur)
        cur = np.where(onset[:, k], cur * depth[:, k], cur)
        level[:, k] = cur
    since = np.arange(k_n)[None, :] - acc["start_k"][:, None]
    ramp = np.clip(0.35 + 0.65 * since / 4, 0.35, 1.0)
    noise = rng.lognormal(0.0, 0.05, (n, k_n))
    users = np.round(base_users[:, None] * level * ramp * noise).astype(np.int64)
    return users, level


def latent_touches(rng: np.random.Generator, acc: dict[str, np.ndarray],
                   contacts: pd.DataFrame, rel: dict[str, np.ndarray],
                   cal: Calendar) -> pd.DataFrame:
    """Touches over the whole grid as if every account were always a customer.

    Executive touches (with an executive-role contact) and other touches (users and
    champions, or no contact for some webinars) are separate Poisson processes per month.
    Touches before the account's start date are dropped here; touches in unpaid months are
    dropped at export.
    """
    seg = acc["seg"]
    n = len(seg)
    exec_rate = np.array([0.25, 0.40, 0.90])[seg] * np.where(rel["sponsor"], 1.6, 1.0)
    exec_rate = np.where(rel["n_exec"] > 0, exec_rate, 0.0)
    other_rate = np.array([0.45, 1.10, 2.80])[seg]
    frames = []
    for kind, rate in (("exec", exec_rate), ("other", other_rate)):
        counts = rng.poisson(np.repeat(rate[:, None], cal.n_grid, axis=1))
        a_idx, k_idx = np.nonzero(counts)
        reps = counts[a_idx, k_idx]
        a = np.repeat(a_idx, reps)
        k = np.repeat(k_idx, reps)
        day = cal.month_start_day(k) + np.floor(rng.random(len(a)) * 28).astype(np.int64)
        frames.append(_assign_touch_contacts(rng, kind, a, day, contacts, n))
    t = pd.concat(frames, ignore_index=True)
    t = t[t["day"] >= acc["start_day"][t["a"].to_numpy()]]
    return t.sort_values(["day", "a"], kind="stable").reset_index(drop=True)


def _assign_touch_contacts(rng: np.random.Generator, kind: str, a: np.ndarray,
                           day: np.ndarray, contacts: pd.DataFrame, n: int) -> pd.DataFrame:
    is_exec = contacts["role"].to_numpy() == "executive"
    pool = contacts[is_exec] if kind == "exec" else contacts[~is_exec]
    pa = pool["a"].to_numpy()
    cnt = np.bincount(pa, minlength=n)
    first = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    ids = pool["contact_id"].to_numpy()
    has = cnt[a] > 0
    pick = first[a] + np.floor(rng.random(len(a)) * np.maximum(cnt[a], 1)).astype(int)
    ids = np.append(ids, "")  # sentinel for accounts without a contact in the pool
    contact = np.where(has, ids[np.minimum(pick, len(ids) - 1)], "")
    if kind == "exec":
        types, p = ["meeting", "call", "qbr", "email", "onsite"], [0.35, 0.25, 0.22, 0.13, 0.05]
    else:
        types = ["email", "call", "meeting", "webinar", "qbr", "onsite"]
        p = [0.45, 0.25, 0.12, 0.12, 0.03, 0.03]
    ttype = np.array(types, dtype=object)[choice(rng, np.tile(p, (len(a), 1)))]
    # half of webinar attendances are logged without a contact
    anon = (ttype == "webinar") & (rng.random(len(a)) < 0.5)
    contact = np.where(anon, "", contact).astype(object)
    return pd.DataFrame({"a": a, "day": day, "type": ttype, "contact_id": contact,
                         "exec": kind == "exec"})


def latent_nps(rng: np.random.Generator, acc: dict[str, np.ndarray], level: np.ndarray,
               cal: Calendar) -> pd.DataFrame:
    """Quarterly relationship-NPS waves (Jan/Apr/Jul/Oct): answers as if always a customer."""
    n = len(acc["seg"])
    ks = np.array([k for k in range(cal.n_grid) if (cal.first_month + k) % 12 in (0, 3, 6, 9)])
    sat = rng.normal(8.2, 1.3, n)
    resp_p = np.array([0.35, 0.40, 0.50])[acc["seg"]]
    answered = rng.random((n, len(ks))) < resp_p[:, None]
    day = cal.month_start_day(ks)[None, :] + rng.integers(0, 25, (n, len(ks)))
    score = sat[:, None] + rng.normal(0, 1.2, (n, len(ks))) - 3.0 * (1 - level[:, ks])
    score = np.clip(np.round(score), 0, 10).astype(int)
    a_idx, w_idx = np.nonzero(answered)
    out = pd.DataFrame({"a": a_idx, "day": day[a_idx, w_idx], "nps": score[a_idx, w_idx]})
    out = out[out["day"] >= acc["start_day"][out["a"].to_numpy()]]
    return out.sort_values(["day", "a"], kind="stable").reset_index(drop=True)


def onboarding_days(rng: np.random.Generator, acc: dict[str, np.ndarray]) -> np.ndarray:
    """Completion day of each of the 6 steps per account (A x 6; -1 = never completed).

    Steps follow each other with segment-scaled lags; 12% of SMB, 10% of Mid-market and 7%
    of Enterprise accounts stall before one of steps 2-6 and never finish.
    """
    seg = acc["seg"]
    n = len(seg)
    lo = np.array([3, 7, 7, 3, 10, 7])
    hi = np.array([10, 30, 45, 20, 45, 30])
    scale = np.array([0.8, 1.0, 1.5])[seg][:, None]
    lags = np.round(rng.uniform(lo, hi, (n, 6)) * scale).astype(np.int64)
    days = acc["start_day"][:, None] + np.cumsum(lags, axis=1)
    stall = rng.random(n) < np.array([0.12, 0.10, 0.07])[seg]
    stall_at = rng.integers(1, 6, n)  # index of the first step never reached
    never = stall[:, None] & (np.arange(6)[None, :] >= stall_at[:, None])
    return np.where(never, -1, days)
