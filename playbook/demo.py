"""Deterministic, seeded demo client: "Northwind Analytics (demo)", a fictional B2B SaaS.

:func:`generate_demo` writes the raw export files of a made-up customer base (CRM and
customer-success platform exports with human, non-canonical headers) into a folder; the
matching column mapping is ``params/demo.yaml``. Everything is drawn from one
``numpy.random.default_rng(seed)``, so the same arguments give byte-identical files.

The simulation runs on a monthly grid that starts ``PRE_MONTHS`` before the exported window
(so that renewals early in the window have a full feature history; those months are never
exported). Usage, touches, NPS answers and onboarding are drawn first as *latent* processes
that do not depend on renewal outcomes; the contract loop then walks the months, draws each
renewal decision from a logistic model on features measured from exactly those processes at
the cut-off (``CUTOFF_DAYS`` before the renewal date), and finally the latent processes are
exported only for months in which the account paid (MRR > 0). The features are therefore
rebuildable from the exported files with the rules in :data:`FEATURE_RULES`.

Every planted effect is declared once, in :data:`PLANTED_EFFECTS` (documented in
``docs/demo-data.md``).

Command line::

    python -m playbook.demo --out data/demo [--seed N] [--accounts N] [--force]

Nothing the generator writes can cost a consultant a file. It writes into ``data/demo``, or
into a folder that is empty or does not exist yet; never into another folder with files in
it (a client's exports), even with ``--force``. It leaves a marker, ``.generated``, that
records the generator's version, its settings and the SHA-256 of every file it wrote, and
regenerates ``data/demo`` only when every file there is still as generated: a file changed
since, or a file the generator did not write, stops it with a message naming them
(``--force`` regenerates anyway and leaves files it did not write alone). Files are written
to a temporary folder first and moved into place, so a full disk leaves the previous files.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from playbook.checksums import file_sha256
from playbook.errors import PlaybookError

# --------------------------------------------------------------------------------------
# Planted effects and the feature rules they act through (the single source of truth)
# --------------------------------------------------------------------------------------

SEGMENTS = ("SMB", "Mid-market", "Enterprise")

#: Churn reason codes as the client's CRM stores them, and their mix by segment.
REASONS = (
    "Price", "Missing features", "Switched to competitor", "Poor onboarding",
    "Budget cuts", "Champion left", "Acquired / merged", "Support quality",
)
REASON_MIX = {
    "SMB": (0.30, 0.10, 0.10, 0.12, 0.15, 0.08, 0.05, 0.10),
    "Mid-market": (0.15, 0.20, 0.18, 0.08, 0.10, 0.15, 0.05, 0.09),
    "Enterprise": (0.08, 0.28, 0.25, 0.03, 0.06, 0.15, 0.10, 0.05),
}

PLANTED_EFFECTS: dict[str, dict[str, object]] = {
    "renewal_intercept": {
        "value": 2.45,
        "description": "Intercept of the renewal model: log-odds that a renewal decision "
        "keeps the logo (renewed or downgraded) for an account with all features at 0.",
    },
    "exec_sponsor": {
        "value": 1.0,
        "description": "Log odds-ratio of renewal when the account has an executive sponsor: "
        "a contact with role executive, seniority director or above and a strong "
        "relationship (odds ratio ~2.7).",
    },
    "usage_decline": {
        "value": -1.2,
        "description": "Log odds-ratio of renewal when active users in the last full month "
        "before the cut-off are below 75% of active users three months earlier "
        "(a fall of more than 25%).",
    },
    "days_since_exec_contact_per_30d": {
        "value": -0.25,
        "description": "Log odds-ratio per 30 days since the last touch with an executive-role "
        "contact on or before the cut-off, capped at 180 days (none in 180 days = 180).",
    },
    "nps_detractor": {
        "value": -0.6,
        "description": "Log odds-ratio when the latest NPS answer in the 180 days up to the "
        "cut-off is 0-6 (accounts without an answer count as not detractors).",
    },
    "products_per_product": {
        "value": 0.3,
        "description": "Log odds-ratio per product owned (1-4, from the accounts table).",
    },
    "mid_market": {
        "value": -0.7,
        "description": "Log odds-ratio for Mid-market accounts (\"the middle of the base "
        "leaks most\"): Mid-market loses the most revenue to churn.",
    },
    "onboarding_incomplete": {
        "value": -0.5,
        "description": "Log odds-ratio when the onboarding step 'Go-live' has no completion "
        "date on or before the cut-off.",
    },
    "reason_blank_share": {
        "value": 0.12,
        "description": "Share of churn events with a blank reason code; 45% of them carry a "
        "free text that names the true reason.",
    },
    "reason_other_share": {
        "value": 0.06,
        "description": "Share of churn events coded 'Other' (half with a vague text, half with "
        "a text naming the true reason).",
    },
    "reason_unknown_share": {
        "value": 0.04,
        "description": "Share of churn events coded 'Unknown'. Blank + Other + Unknown = 22% "
        "uninformative (defaults flag above 20%).",
    },
    "reason_mix_by_segment": {
        "value": REASON_MIX,
        "description": "True churn reasons are drawn from a mix per segment (REASON_MIX): Price "
        "leads in SMB (30%), Missing features / Switched to competitor in Enterprise (28% / "
        "25%). 'Poor onboarding' is 4x as likely when onboarding was incomplete at the cut-off, "
        "'Missing features' 1.5x after a usage decline.",
    },
    "reactivation_probability": {
        "value": 0.12,
        "description": "Probability that a churned account comes back 2-11 months later "
        "(new annual contract from the return date; 'Customer Since' is unchanged).",
    },
    "downgrade_probability": {
        "value": 0.10,
        "description": "Probability that a kept renewal is a downgrade (ARR x 0.55-0.90).",
    },
    "downgrade_if_usage_declined": {
        "value": 0.20,
        "description": "Added to the downgrade probability when usage declined before the "
        "cut-off (so 30%).",
    },
}

#: How each renewal feature is measured; shared by the generator and its tests.
FEATURE_RULES: dict[str, float | int] = {
    "cutoff_days": 90,  # features are measured this many days before the renewal date
    "lookback_days": 180,  # window for the last exec touch and the latest NPS answer
    "usage_drop_share": 0.25,  # a fall of more than this share of active users is a decline
    "usage_drop_months": 3,  # ...between month(cut-off)-1-3 and month(cut-off)-1
    "detractor_max": 6,  # NPS at or below this is a detractor
}

#: Number of simulated months before the exported window (never exported).
PRE_MONTHS = 10

INDUSTRIES = (
    ("Software & Internet", 0.20),
    ("Financial Services", 0.14),
    ("Healthcare", 0.12),
    ("Retail & eCommerce", 0.13),
    ("Manufacturing", 0.12),
    ("Professional Services", 0.12),
    ("Education", 0.08),
    ("Media & Entertainment", 0.09),
)
REGIONS = (("North America", 0.50), ("EMEA", 0.30), ("APAC", 0.15), ("LATAM", 0.05))
OWNERS = {
    "SMB": ("Jordan Blake", "Aisha Bello", "Tom Novak", "Lena Fischer"),
    "Mid-market": ("Carlos Mendes", "Hannah Okafor", "Ravi Patel", "Sofia Rossi", "Ben Carter"),
    "Enterprise": ("Maria Gonzalez", "David Chen", "Priya Raman"),
}
ONBOARDING_STEPS = (
    "Kickoff", "Data import", "Integration", "Admin training", "First value", "Go-live",
)
REASON_TEXTS = {
    "Price": ("Too expensive for the value we get", "Price increase at renewal was too high",
              "Found a cheaper option"),
    "Missing features": ("Missing SSO and audit log features", "Product lacks the reporting "
                         "we need", "Needed an integration you don't offer"),
    "Switched to competitor": ("Moving to Contoso Insights", "Chose Fabrikam after an RFP",
                               "Consolidating on a competitor's platform"),
    "Poor onboarding": ("Never got the team onboarded", "Implementation took too long, no "
                        "go-live", "Setup was too hard for our admins"),
    "Budget cuts": ("Budget freeze for next year", "Company-wide cost cutting",
                    "Lost funding for the project"),
    "Champion left": ("Our main user left the company", "Sponsor moved to a new role, "
                      "nobody owns the tool now", "New manager doesn't see the value"),
    "Acquired / merged": ("We were acquired and the parent uses another tool",
                          "Merger: standardising on the acquirer's stack"),
    "Support quality": ("Support response times were too slow", "Tickets took weeks to "
                        "resolve", "Unhappy with support"),
}
OTHER_TEXTS = ("Decided not to renew", "No longer needed", "Customer did not say",
               "Internal decision")


@dataclass(frozen=True)
class _Calendar:
    """The simulation grid: ``k = 0 .. n_grid-1`` months, window = last ``months`` of it."""

    first_month: int  # numpy month number (months since 1970-01) of grid index 0
    n_grid: int
    window_start: int  # grid index of the first exported month

    def month_start_day(self, k: np.ndarray | int) -> np.ndarray:
        """Day number (days since 1970-01-01) of the 1st of grid month ``k``."""
        m = (np.asarray(k) + self.first_month).astype("datetime64[M]")
        return m.astype("datetime64[D]").astype(np.int64)

    def month_of_day(self, day: np.ndarray) -> np.ndarray:
        """Grid month index of day numbers."""
        m = np.asarray(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        return m - self.first_month

    @property
    def end_day(self) -> int:
        """Last day of the exported window (day number)."""
        return int(self.month_start_day(self.n_grid)) - 1

    @property
    def window_start_day(self) -> int:
        return int(self.month_start_day(self.window_start))


def _calendar(end_month: str, months: int) -> _Calendar:
    end = np.datetime64(end_month, "M").astype(np.int64)
    n_grid = months + PRE_MONTHS
    return _Calendar(first_month=int(end) - n_grid + 1, n_grid=n_grid, window_start=PRE_MONTHS)


def _coef(name: str) -> float:
    return float(PLANTED_EFFECTS[name]["value"])  # type: ignore[arg-type]


def _choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1): the chosen column index."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def _days_to_iso(days: np.ndarray | pd.Series) -> np.ndarray:
    """Day numbers -> ISO date strings (``YYYY-MM-DD``); negative sentinels -> ``""``."""
    days = np.asarray(days, dtype=np.int64)
    out = np.full(len(days), "", dtype=object)
    ok = days >= 0
    if ok.any():
        lo, hi = days[ok].min(), days[ok].max()
        lookup = np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]"))
        out[ok] = lookup.astype(object)[days[ok] - lo]
    return out


# --------------------------------------------------------------------------------------
# Accounts and people
# --------------------------------------------------------------------------------------


def _accounts(rng: np.random.Generator, n: int, cal: _Calendar) -> dict[str, np.ndarray]:
    """Static account attributes, sorted by start date (IDs are issued in that order)."""
    n_base = int(round(0.4 * n))
    n_new = n - n_base
    months = cal.n_grid - cal.window_start
    # existing base: started 1-60 months before the window; new: through the window with a
    # gently growing sales pace
    base_k = cal.window_start - rng.integers(1, 61, n_base)
    pace = np.linspace(1.0, 1.6, months)
    new_k = cal.window_start + rng.choice(months, n_new, p=pace / pace.sum())
    start_k = np.concatenate([base_k, new_k])
    start_dom = rng.integers(1, 29, n)  # day of month, 1-28: anniversaries always exist
    order = np.lexsort((start_dom, start_k))
    start_k, start_dom = start_k[order], start_dom[order]
    is_base = start_k < cal.window_start

    employees = np.clip(np.round(rng.lognormal(np.log(250), 1.6, n)), 5, 300_000).astype(int)
    seg = np.where(employees < 200, 0, np.where(employees < 2000, 1, 2))
    industry = _choice(rng, np.tile([p for _, p in INDUSTRIES], (n, 1)))
    region = _choice(rng, np.tile([p for _, p in REGIONS], (n, 1)))
    prod_p = np.array([[0.60, 0.30, 0.10, 0.00], [0.35, 0.40, 0.20, 0.05],
                       [0.10, 0.30, 0.35, 0.25]])
    products = _choice(rng, prod_p[seg]) + 1

    owner_names = np.array([o for s in SEGMENTS for o in OWNERS[s]], dtype=object)
    offsets = np.cumsum([0] + [len(OWNERS[s]) for s in SEGMENTS])
    counts = np.array([len(OWNERS[s]) for s in SEGMENTS])
    owner = owner_names[offsets[seg] + np.floor(rng.random(n) * counts[seg]).astype(int)]

    seats0 = np.maximum(3, np.round(employees**0.85 * rng.uniform(0.2, 0.6, n)))
    price = 45.0 * seats0**-0.12 * (1 + 0.6 * (products - 1))
    mrr0 = np.round(seats0 * price)
    mrr_start = np.where(is_base, np.round(mrr0 * rng.lognormal(0.1, 0.2, n)), mrr0)

    return {
        "start_k": start_k, "start_dom": start_dom, "is_base": is_base,
        "employees": employees, "seg": seg, "industry": industry, "region": region,
        "products": products, "owner": owner, "seats0": seats0, "mrr0": mrr0,
        "mrr_start": mrr_start, "name": _account_names(rng, n),
        "start_day": cal.month_start_day(start_k) + start_dom - 1,
    }


def _account_names(rng: np.random.Generator, n: int) -> np.ndarray:
    first = np.array(["Blue", "Cedar", "Crescent", "Harbor", "Summit", "Granite", "Maple",
                      "Silver", "North", "Oak", "River", "Falcon", "Aurora", "Beacon",
                      "Copper", "Evergreen", "Lumen", "Meridian", "Pioneer", "Quartz",
                      "Redwood", "Sterling", "Tidal", "Vertex", "Willow", "Zenith", "Atlas",
                      "Bright", "Coastal", "Delta"], dtype=object)
    second = np.array(["field", "stone", "bridge", "point", "wave", "peak", "light", "gate",
                       "works", "line", "path", "port", "view", "crest", "forge"], dtype=object)
    third = np.array([" Logistics", " Health", " Capital", " Labs", " Retail", " Systems",
                      " Group", " Partners", " Foods", " Media", " Learning", " Energy",
                      " Manufacturing", " Analytics", " Studios", " Holdings"], dtype=object)
    return (first[rng.integers(0, len(first), n)] + second[rng.integers(0, len(second), n)]
            + third[rng.integers(0, len(third), n)])


def _contacts(rng: np.random.Generator, acc: dict[str, np.ndarray]) -> pd.DataFrame:
    """People at each account: users, champions and executives (static over the window)."""
    seg = acc["seg"]
    n = len(seg)
    n_user = np.array([1, 2, 3])[seg] + rng.poisson(np.array([1.0, 2.0, 4.0])[seg])
    n_champ = np.where(seg == 0, rng.random(n) < 0.7, 1 + (rng.random(n) < 0.3)).astype(int)
    n_champ = np.where(seg == 2, 1 + rng.poisson(1.0, n), n_champ)
    n_exec = np.where(seg == 2, 1, 0) + rng.poisson(np.array([0.7, 1.3, 2.0])[seg])

    rows = []
    for role, cnt in (("user", n_user), ("champion", n_champ), ("executive", n_exec)):
        a = np.repeat(np.arange(n), cnt)
        rows.append(pd.DataFrame({"a": a, "role": role}))
    c = pd.concat(rows, ignore_index=True)
    m = len(c)
    role = c["role"].to_numpy()
    sen_levels = np.array(["c_level", "vp", "director", "manager", "individual"], dtype=object)
    sen_p = {
        "user": [0.0, 0.0, 0.03, 0.22, 0.75],
        "champion": [0.0, 0.03, 0.27, 0.50, 0.20],
        "executive": [0.35, 0.35, 0.25, 0.05, 0.0],
    }
    str_p = {"user": [0.25, 0.45, 0.30], "champion": [0.50, 0.35, 0.15],
             "executive": [0.40, 0.35, 0.25]}
    sen_probs = np.array([sen_p[r] for r in role])
    str_probs = np.array([str_p[r] for r in role])
    c["seniority"] = sen_levels[_choice(rng, sen_probs)]
    c["strength"] = np.array(["strong", "medium", "weak"], dtype=object)[_choice(rng, str_probs)]
    c["title"] = _titles(rng, c["seniority"].to_numpy())
    # contacts are listed account by account, IDs in that order
    c = c.sort_values(["a", "role"], kind="stable").reset_index(drop=True)
    c["contact_id"] = np.array([f"CT-{i:07d}" for i in range(1, m + 1)], dtype=object)
    return c


def _titles(rng: np.random.Generator, seniority: np.ndarray) -> np.ndarray:
    func = np.array(["Operations", "Finance", "IT", "Marketing", "Sales", "Data",
                     "Customer Service", "HR"], dtype=object)
    prefix = {"c_level": "Chief {0} Officer", "vp": "VP {0}", "director": "Director of {0}",
              "manager": "{0} Manager", "individual": "{0} Specialist"}
    f = func[rng.integers(0, len(func), len(seniority))]
    return np.array([prefix[s].format(x) for s, x in zip(seniority, f, strict=True)],
                    dtype=object)


def _account_relationships(contacts: pd.DataFrame, n: int) -> dict[str, np.ndarray]:
    """Per-account relationship facts used by the planted model and the CSM scores."""
    role = contacts["role"].to_numpy()
    a = contacts["a"].to_numpy()
    strong = contacts["strength"].to_numpy() == "strong"
    senior = np.isin(contacts["seniority"].to_numpy(), ["c_level", "vp", "director"])
    is_exec = role == "executive"
    return {
        "n_exec": np.bincount(a[is_exec], minlength=n),
        "sponsor": np.bincount(a[is_exec & senior & strong], minlength=n) > 0,
        "has_champion": np.bincount(a[role == "champion"], minlength=n) > 0,
        "strong_champion": np.bincount(a[(role == "champion") & strong], minlength=n) > 0,
    }


# --------------------------------------------------------------------------------------
# Latent processes (independent of renewal outcomes)
# --------------------------------------------------------------------------------------


def _latent_usage(rng: np.random.Generator, acc: dict[str, np.ndarray],
                  cal: _Calendar) -> tuple[np.ndarray, np.ndarray]:
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


def _latent_touches(rng: np.random.Generator, acc: dict[str, np.ndarray],
                    contacts: pd.DataFrame, rel: dict[str, np.ndarray],
                    cal: _Calendar) -> pd.DataFrame:
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
    ttype = np.array(types, dtype=object)[_choice(rng, np.tile(p, (len(a), 1)))]
    # half of webinar attendances are logged without a contact
    anon = (ttype == "webinar") & (rng.random(len(a)) < 0.5)
    contact = np.where(anon, "", contact).astype(object)
    return pd.DataFrame({"a": a, "day": day, "type": ttype, "contact_id": contact,
                         "exec": kind == "exec"})


def _latent_nps(rng: np.random.Generator, acc: dict[str, np.ndarray], level: np.ndarray,
                cal: _Calendar) -> pd.DataFrame:
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


def _onboarding_days(rng: np.random.Generator, acc: dict[str, np.ndarray]) -> np.ndarray:
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


# --------------------------------------------------------------------------------------
# Contracts: the monthly loop with renewal decisions
# --------------------------------------------------------------------------------------


@dataclass
class _Latent:
    users: np.ndarray  # A x K active users
    exec_keys: np.ndarray  # sorted a * 10**6 + day of executive touches
    nps: pd.DataFrame  # a, day, nps
    go_live: np.ndarray  # A, day or -1
    sponsor: np.ndarray  # A bool


def _renewal_features(lat: _Latent, acc: dict[str, np.ndarray], a: np.ndarray,
                      cutoff: np.ndarray, cal: _Calendar) -> dict[str, np.ndarray]:
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
    z = np.full(len(next(iter(feat.values()))), _coef("renewal_intercept"))
    for name, x in feat.items():
        z = z + _coef(name) * x
    return z


def _simulate_contracts(rng: np.random.Generator, acc: dict[str, np.ndarray], lat: _Latent,
                        cal: _Calendar) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
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
            comes_back = churned[rng.random(len(churned)) < _coef("reactivation_probability")]
            react_k[comes_back] = k + rng.integers(2, 12, len(comes_back))
            react_dom[comes_back] = rng.integers(1, 29, len(comes_back))
            kept = d["a"][d["outcome"] != "churned"]
            cur[kept] = d["arr_after"][d["outcome"] != "churned"] / 12
            ren_k[kept] += 12
        mid = alive & ~starting & ~back & (ren_k != k)
        mid[deciding] = False
        up = mid & (rng.random(n) < exp_p)
        down = mid & ~up & (rng.random(n) < 0.003)
        cur = np.where(up, np.round(cur * rng.uniform(1.1, 1.6, n)), cur)
        cur = np.where(down, np.round(cur * rng.uniform(0.7, 0.95, n)), cur)
        mrr[:, k] = np.where(alive, cur, 0.0)
    dec = pd.concat([pd.DataFrame(d) for d in decisions] or [_no_decisions()],
                    ignore_index=True)
    next_renewal = cal.month_start_day(ren_k) + ren_dom - 1
    return mrr, dec, next_renewal


def _no_decisions() -> pd.DataFrame:
    cols = ["a", "renewal_day", "outcome", "arr_before", "arr_after", "p_keep",
            *[k for k in PLANTED_EFFECTS if k in _FEATURES]]
    return pd.DataFrame({c: pd.Series(dtype=object if c == "outcome" else float) for c in cols}
                        ).astype({"a": np.int64, "renewal_day": np.int64})


def _decide(rng: np.random.Generator, a: np.ndarray, k: int, ren_dom: np.ndarray,
            cur: np.ndarray, acc: dict[str, np.ndarray], lat: _Latent,
            cal: _Calendar) -> dict[str, np.ndarray]:
    """Draw the renewal outcome of accounts ``a`` whose anniversary falls in month ``k``."""
    ren_day = cal.month_start_day(k) + ren_dom[a] - 1
    cutoff = ren_day - int(FEATURE_RULES["cutoff_days"])
    feat = _renewal_features(lat, acc, a, cutoff, cal)
    p_keep = 1 / (1 + np.exp(-_renewal_log_odds(feat)))
    keep = rng.random(len(a)) < p_keep
    p_down = (_coef("downgrade_probability")
              + _coef("downgrade_if_usage_declined") * feat["usage_decline"])
    down = keep & (rng.random(len(a)) < p_down)
    uplift = np.where(rng.random(len(a)) < 0.35, rng.uniform(1.03, 1.08, len(a)), 1.0)
    grow = np.where(rng.random(len(a)) < 0.08, rng.uniform(1.1, 1.4, len(a)), 1.0)
    arr_before = cur[a] * 12
    factor = np.where(down, rng.uniform(0.55, 0.90, len(a)), uplift * grow)
    arr_after = np.where(keep, np.round(arr_before * factor / 12) * 12, 0.0)
    outcome = np.where(~keep, "churned", np.where(down, "downgraded", "renewed"))
    return {"a": a, "renewal_day": ren_day, "outcome": outcome, "arr_before": arr_before,
            "arr_after": arr_after, "p_keep": p_keep, **feat}


# --------------------------------------------------------------------------------------
# Churn reasons, tickets, CSAT, CSM inputs
# --------------------------------------------------------------------------------------


def _churn_reasons(rng: np.random.Generator, churn: pd.DataFrame,
                   acc: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Coded reason (as recorded, possibly uninformative) and free text per churn event."""
    a = churn["a"].to_numpy()
    m = len(a)
    mix = np.array([REASON_MIX[s] for s in SEGMENTS])[acc["seg"][a]].copy()
    onb = churn["onboarding_incomplete"].to_numpy() > 0
    mix[onb, REASONS.index("Poor onboarding")] *= 4
    mix[churn["usage_decline"].to_numpy() > 0, REASONS.index("Missing features")] *= 1.5
    mix /= mix.sum(axis=1, keepdims=True)
    true = np.array(REASONS, dtype=object)[_choice(rng, mix)]
    u = rng.random(m)
    blank = _coef("reason_blank_share")
    other_cut = blank + _coef("reason_other_share")
    unknown_cut = other_cut + _coef("reason_unknown_share")
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


def _tickets(rng: np.random.Generator, acc: dict[str, np.ndarray], mrr: np.ndarray,
             cal: _Calendar) -> pd.DataFrame:
    """Support tickets in paid months: rate ~ 0.06 x sqrt(seats) a month."""
    w = slice(cal.window_start, cal.n_grid)
    seats = acc["seats0"][:, None] * mrr[:, w] / acc["mrr0"][:, None]
    counts = rng.poisson(0.06 * np.sqrt(seats) * (mrr[:, w] > 0))
    a_idx, k_idx = np.nonzero(counts)
    reps = counts[a_idx, k_idx]
    a = np.repeat(a_idx, reps)
    k = np.repeat(k_idx, reps) + cal.window_start
    opened = cal.month_start_day(k) + np.floor(rng.random(len(a)) * 28).astype(np.int64)
    prio = _choice(rng, np.tile([0.35, 0.35, 0.22, 0.08], (len(a), 1)))  # low..urgent
    close_med = np.array([7.0, 4.0, 2.0, 0.5])[prio]
    closed = opened + np.round(rng.lognormal(np.log(close_med), 1.0)).astype(np.int64)
    closed = np.where(closed > cal.end_day, -1, closed)
    hours = np.round(rng.lognormal(np.log(np.array([0.8, 1.5, 3.0, 6.0])[prio]), 0.6), 1)
    hours = np.maximum(hours, 0.1)
    t = pd.DataFrame({"a": a, "opened": opened, "closed": closed, "prio": prio,
                      "hours": hours})
    return t.sort_values(["opened", "a"], kind="stable").reset_index(drop=True)


def _csat(rng: np.random.Generator, tickets: pd.DataFrame, cal: _Calendar) -> pd.DataFrame:
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


def _csm_inputs(rng: np.random.Generator, acc: dict[str, np.ndarray],
                rel: dict[str, np.ndarray], mrr: np.ndarray, cal: _Calendar) -> pd.DataFrame:
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


# --------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------


def _paid(mrr: np.ndarray, cal: _Calendar, a: np.ndarray, day: np.ndarray) -> np.ndarray:
    """True where account ``a`` paid (MRR > 0) in the month of ``day`` inside the window."""
    k = cal.month_of_day(day)
    inside = (k >= cal.window_start) & (k < cal.n_grid) & (day <= cal.end_day)
    out = np.zeros(len(a), dtype=bool)
    out[inside] = mrr[a[inside], k[inside]] > 0
    return out


#: The file each table is written to, in the order they are written.
FILES = {
    "accounts": "accounts.csv", "mrr": "mrr_history.csv", "churn_events": "churn_events.csv",
    "renewals": "renewals.csv", "usage": "usage_monthly.csv", "tickets": "tickets.csv",
    "surveys": "surveys.csv", "contacts": "contacts.csv", "touches": "touches.csv",
    "csm_inputs": "csm_scores.csv", "onboarding": "onboarding_milestones.csv",
}


def generate_demo(out_dir: Path, *, seed: int = 20260930, n_accounts: int = 1500,
                  end_month: str = "2026-09", months: int = 36,
                  force: bool = False) -> dict[str, Path]:
    """Write the demo client's raw export files (CSV, UTF-8) into ``out_dir``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if missing): ``data/demo``, or a folder that is empty
        or does not exist. In ``data/demo``, files are replaced only when the marker shows
        them unedited (see :func:`check_writable`).
    seed
        Seed of ``numpy.random.default_rng``; the same arguments give byte-identical files.
    n_accounts
        Number of accounts ever seen (about 40% already customers before the window).
    end_month
        Last exported month, ``YYYY-MM``.
    months
        Length of the exported window in months (the MRR history has this many months).
    force
        Regenerate ``data/demo`` even when files were edited or added (added files stay).
        Never lets it write into another folder that has files.

    Returns
    -------
    dict
        Canonical table name -> path of the written file (accounts, mrr, churn_events,
        renewals, usage, tickets, surveys, contacts, touches, csm_inputs, onboarding).
        Money is in USD, whole dollars (MRR a month, ARR a year); dates are ISO
        ``YYYY-MM-DD``; months are written as the 1st of the month.

    Raises
    ------
    GeneratedFolderError
        The folder is not one the generator may write into (nothing is written).
    StorageError
        The disk is full or the folder cannot be written (the previous files stay).
    """
    settings = settings_of(seed, n_accounts, end_month, months)
    out_dir = Path(out_dir)
    state = check_writable(out_dir, force=force)
    tables = _demo_tables(seed, n_accounts, end_month, months)
    return _write_folder(out_dir, tables, settings, state, force=force)


def _demo_tables(seed: int, n_accounts: int, end_month: str, months: int
                 ) -> dict[str, pd.DataFrame]:
    """The demo client's tables, canonical name -> frame with the export's headers."""
    rng = np.random.default_rng(seed)
    cal = _calendar(end_month, months)
    acc = _accounts(rng, n_accounts, cal)
    contacts = _contacts(rng, acc)
    rel = _account_relationships(contacts, n_accounts)
    users, level = _latent_usage(rng, acc, cal)
    touches = _latent_touches(rng, acc, contacts, rel, cal)
    nps = _latent_nps(rng, acc, level, cal)
    onb_days = _onboarding_days(rng, acc)
    ex = touches[touches["exec"]]
    exec_keys = np.sort(ex["a"].to_numpy().astype(np.int64) * 10**6
                        + ex["day"].to_numpy() - cal.month_start_day(0))
    lat = _Latent(users=users, exec_keys=exec_keys, nps=nps, go_live=onb_days[:, 5],
                  sponsor=rel["sponsor"])
    mrr, dec, next_renewal = _simulate_contracts(rng, acc, lat, cal)
    churn = dec[dec["outcome"] == "churned"].reset_index(drop=True)
    code, text = _churn_reasons(rng, churn, acc)
    tickets = _tickets(rng, acc, mrr, cal)
    csat = _csat(rng, tickets, cal)
    csm = _csm_inputs(rng, acc, rel, mrr, cal)

    ids = np.array([f"NWA-{i:06d}" for i in range(1, n_accounts + 1)], dtype=object)
    tables = {
        "accounts": _accounts_table(acc, ids, mrr, dec, next_renewal),
        "mrr": _mrr_table(ids, mrr, cal),
        "churn_events": pd.DataFrame({
            "Account ID": ids[churn["a"]], "Cancellation Date": _days_to_iso(churn["renewal_day"]),
            "Reason Code": code, "Reason Details": text,
            "Lost MRR (USD)": np.round(churn["arr_before"].to_numpy() / 12).astype(np.int64)}),
        "renewals": pd.DataFrame({
            "Account ID": ids[dec["a"]], "Renewal Date": _days_to_iso(dec["renewal_day"]),
            "Outcome": dec["outcome"].map({"renewed": "Renewed", "downgraded": "Downgraded",
                                           "churned": "Cancelled"}).to_numpy(),
            "ARR Before (USD)": np.round(dec["arr_before"]).astype(np.int64),
            "ARR After (USD)": np.round(dec["arr_after"]).astype(np.int64)}),
        "usage": _usage_table(acc, ids, users, mrr, rng, cal),
        "tickets": _tickets_table(tickets, ids),
        "surveys": _surveys_table(nps, csat, ids, mrr, cal),
        "contacts": _contacts_table(contacts, ids),
        "touches": _touches_table(touches, ids, mrr, cal),
        "csm_inputs": pd.DataFrame({
            "Account ID": ids[csm["a"]], "Assessed On": _days_to_iso(csm["day"]),
            "Executive Relationship (1-5)": csm["exec"], "Champion Quality (1-5)": csm["champ"],
            "Reference Value (1-5)": csm["ref"]}),
        "onboarding": _onboarding_table(onb_days, ids, cal),
    }
    return tables


def _accounts_table(acc: dict[str, np.ndarray], ids: np.ndarray, mrr: np.ndarray,
                    dec: pd.DataFrame, next_renewal: np.ndarray) -> pd.DataFrame:
    """The CRM account list as at the end of the window.

    Active accounts show their next anniversary and current ARR; churned accounts show
    their last churn date as both renewal and churn date, and ARR 0.
    """
    n = len(ids)
    active = mrr[:, -1] > 0
    last_dec = dec.sort_values("renewal_day", kind="stable").groupby("a").last()
    churn_day = np.full(n, -1, dtype=np.int64)
    ch = last_dec[last_dec["outcome"] == "churned"]
    churn_day[ch.index.to_numpy()] = ch["renewal_day"].to_numpy()
    churn_day[active] = -1
    ren = np.where(active, next_renewal, churn_day)
    seg_names = np.array(SEGMENTS, dtype=object)
    return pd.DataFrame({
        "Account ID": ids,
        "Account Name": acc["name"],
        "Industry": np.array([i for i, _ in INDUSTRIES], dtype=object)[acc["industry"]],
        "Employees": acc["employees"],
        "Region": np.array([r for r, _ in REGIONS], dtype=object)[acc["region"]],
        "Account Owner": acc["owner"],
        "Segment": seg_names[acc["seg"]],
        "Customer Since": _days_to_iso(acc["start_day"]),
        "Renewal Date": _days_to_iso(ren),
        "ARR (USD)": np.round(mrr[:, -1] * 12).astype(np.int64),
        "Products": acc["products"],
        "Status": np.where(active, "Active", "Churned").astype(object),
        "Churn Date": _days_to_iso(churn_day),
    })


def _mrr_table(ids: np.ndarray, mrr: np.ndarray, cal: _Calendar) -> pd.DataFrame:
    """One row per account and paid month in the window (unpaid months are absent)."""
    w = mrr[:, cal.window_start:]
    k_idx, a_idx = np.nonzero(w.T > 0)  # month-major order, like a billing export
    month = _days_to_iso(cal.month_start_day(k_idx + cal.window_start))
    return pd.DataFrame({"Account ID": ids[a_idx], "Month": month,
                         "MRR (USD)": np.round(w[a_idx, k_idx]).astype(np.int64)})


def _usage_table(acc: dict[str, np.ndarray], ids: np.ndarray, users: np.ndarray,
                 mrr: np.ndarray, rng: np.random.Generator, cal: _Calendar) -> pd.DataFrame:
    """Monthly usage in paid months: active users, licensed seats, key actions."""
    w = slice(cal.window_start, cal.n_grid)
    paid = mrr[:, w] > 0
    k_idx, a_idx = np.nonzero(paid.T)
    k = k_idx + cal.window_start
    au = users[a_idx, k]
    seats = np.maximum(1, np.round(acc["seats0"][a_idx] * mrr[a_idx, k]
                                   / acc["mrr0"][a_idx])).astype(np.int64)
    actions = np.round(au * 22 * rng.lognormal(0, 0.3, len(au))
                       * (1 + 0.3 * (acc["products"][a_idx] - 1))).astype(np.int64)
    return pd.DataFrame({"Account ID": ids[a_idx],
                         "Month": _days_to_iso(cal.month_start_day(k)),
                         "Active Users": au, "Licensed Seats": seats, "Key Actions": actions})


def _tickets_table(t: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    prio = np.array(["P4", "P3", "P2", "P1"], dtype=object)  # P1 = urgent .. P4 = low
    return pd.DataFrame({
        "Ticket ID": np.array([f"TCK-{i:07d}" for i in range(1, len(t) + 1)], dtype=object),
        "Account ID": ids[t["a"]], "Created": _days_to_iso(t["opened"]),
        "Closed": _days_to_iso(t["closed"]), "Priority": prio[t["prio"]],
        "Hours Spent": t["hours"].map("{:.1f}".format).to_numpy(),
    })


def _surveys_table(nps: pd.DataFrame, csat: pd.DataFrame, ids: np.ndarray, mrr: np.ndarray,
                   cal: _Calendar) -> pd.DataFrame:
    n = nps[_paid(mrr, cal, nps["a"].to_numpy(), nps["day"].to_numpy())]
    c = csat[_paid(mrr, cal, csat["a"].to_numpy(), csat["day"].to_numpy())]
    both = pd.concat([
        pd.DataFrame({"a": n["a"], "day": n["day"], "Survey": "Relationship NPS",
                      "NPS Score": n["nps"].astype(str), "CSAT Score": ""}),
        pd.DataFrame({"a": c["a"], "day": c["day"], "Survey": "Support CSAT",
                      "NPS Score": "", "CSAT Score": c["csat"].astype(str)}),
    ], ignore_index=True).sort_values(["day", "a", "Survey"], kind="stable")
    return pd.DataFrame({"Account ID": ids[both["a"]], "Response Date": _days_to_iso(both["day"]),
                         "Survey": both["Survey"].to_numpy(),
                         "NPS Score": both["NPS Score"].to_numpy(),
                         "CSAT Score": both["CSAT Score"].to_numpy()})


def _contacts_table(c: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    persona = {"user": "End User", "champion": "Champion", "executive": "Executive"}
    seniority = {"c_level": "C-Level", "vp": "VP", "director": "Director", "manager": "Manager",
                 "individual": "Individual Contributor"}
    return pd.DataFrame({
        "Contact ID": c["contact_id"], "Account ID": ids[c["a"]], "Job Title": c["title"],
        "Persona": c["role"].map(persona), "Seniority": c["seniority"].map(seniority),
        "Relationship": c["strength"].str.capitalize(),
    })


def _touches_table(t: pd.DataFrame, ids: np.ndarray, mrr: np.ndarray,
                   cal: _Calendar) -> pd.DataFrame:
    keep = t[_paid(mrr, cal, t["a"].to_numpy(), t["day"].to_numpy())]
    label = {"call": "Call", "email": "Email", "meeting": "Meeting", "qbr": "QBR",
             "onsite": "Onsite Visit", "webinar": "Webinar"}
    return pd.DataFrame({"Account ID": ids[keep["a"]], "Contact ID": keep["contact_id"],
                         "Activity Date": _days_to_iso(keep["day"]),
                         "Activity Type": keep["type"].map(label)})


def _onboarding_table(days: np.ndarray, ids: np.ndarray, cal: _Calendar) -> pd.DataFrame:
    """Completed milestones only (steps not reached, or after the window end, are absent)."""
    done = (days >= 0) & (days <= cal.end_day)
    a_idx, s_idx = np.nonzero(done)
    return pd.DataFrame({"Account ID": ids[a_idx],
                         "Milestone": np.array(ONBOARDING_STEPS, dtype=object)[s_idx],
                         "Completed On": _days_to_iso(days[a_idx, s_idx])})


# --------------------------------------------------------------------------------------
# Writing the folder: only where nothing can be lost
# --------------------------------------------------------------------------------------

#: The marker the generator leaves in every folder it wrote (JSON, see :func:`_marker`).
MARKER = ".generated"
#: Bumped when the marker's layout changes (an older marker counts as none).
MARKER_FORMAT = 1
#: Prefix of the generator's own temporary folder inside the target.
_WORK = ".generating-"
#: Names listed in a refusal before "and N more".
_LISTED = 8


class GeneratedFolderError(PlaybookError):
    """The generator will not write into a folder: another folder that has files in it
    (``kind == "not-demo"``), or ``data/demo`` with files edited or added since it was
    generated (``kind == "edited"``)."""

    def __init__(self, message: str, *, fix: str, kind: str) -> None:
        super().__init__(message, fix=fix)
        self.kind = kind


@dataclass(frozen=True)
class FolderState:
    """What a folder holds, as the generator sees it.

    ``names``: every entry but the marker and the generator's temporary folders;
    ``marker``: the parsed marker (None when there is none, or an older one without
    checksums); ``edited``: entries the marker lists whose bytes changed since;
    ``unknown``: entries the marker does not list.
    """

    folder: Path
    names: list[str] = field(default_factory=list)
    marker: dict | None = None
    edited: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def unedited(self) -> bool:
        """Generated, and nothing changed or added since."""
        return self.marker is not None and not self.edited and not self.unknown


def generator_version() -> str:
    """SHA-256 of this module's source: another version may write other bytes."""
    return file_sha256(Path(__file__))


def read_marker(folder: Path) -> dict | None:
    """The marker in ``folder`` (None when missing, unreadable or of an older format)."""
    try:
        marker = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # (the older marker is one line, "seed=... accounts=...")
        return None
    if (not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT
            or not isinstance(marker.get("files"), dict)):
        return None
    return marker


def folder_state(folder: Path) -> FolderState:
    """Compare what ``folder`` holds with its marker (checksums of every recorded file)."""
    folder = Path(folder)
    if not folder.is_dir():
        return FolderState(folder)
    names = sorted(p.name for p in folder.iterdir()
                   if p.name != MARKER and not p.name.startswith(_WORK))
    marker = read_marker(folder)
    recorded = marker["files"] if marker else {}
    edited = [n for n in names if n in recorded and not _same_file(folder / n, recorded[n])]
    unknown = [n for n in names if n not in recorded]
    return FolderState(folder, names, marker, edited, unknown)


def _same_file(path: Path, sha256: object) -> bool:
    return path.is_file() and file_sha256(path) == sha256


def is_demo_folder(folder: Path) -> bool:
    """Whether ``folder`` is the demo client's ``data/demo`` (after resolving links)."""
    from playbook import paths

    return os.path.realpath(folder) == os.path.realpath(paths.data_dir("demo"))


def check_writable(folder: Path, *, force: bool = False) -> FolderState:
    """The state of ``folder`` if the generator may write into it, else raise.

    Allowed: a folder that does not exist or is empty; ``data/demo`` when every file in it
    is as generated (by its marker), or when ``force``. Files in ``data/demo`` without a
    checksum that carry a generator file name (no marker, an older marker, or a run
    interrupted while moving files) are compared with the new files before anything is
    replaced (:func:`_write_folder`).

    Raises
    ------
    GeneratedFolderError
        ``folder`` has files and is not ``data/demo`` (``--force`` does not change this), or
        ``data/demo`` has files the generator did not write, and not ``force``.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise GeneratedFolderError(
            f"{folder} is a file, not a folder: the demo data is not written there.",
            fix="Pass --out with a new or empty folder.", kind="not-demo")
    state = folder_state(folder)
    if not state.names:
        return state
    if not is_demo_folder(folder):
        listed = _names(state.names)
        raise GeneratedFolderError(
            f"Refusing to write the demo data into {folder}: it is not data/demo and it "
            f"already has {len(state.names)} file(s) ({listed}). The generator writes only "
            "into data/demo or into a new or empty folder, so that a client's files are "
            "never overwritten; --force does not change this.",
            fix="Pass --out with a new or empty folder (or delete this one yourself if it "
            "holds only demo data you generated), or leave --out out to write data/demo.",
            kind="not-demo")
    generated_names = set(FILES.values())
    foreign = [n for n in state.unknown if n not in generated_names]
    if foreign and not force:
        raise _edited_error(folder, state.edited, foreign)
    return state


def _write_folder(out_dir: Path, tables: dict[str, pd.DataFrame], settings: dict[str, object],
                  state: FolderState, *, force: bool) -> dict[str, Path]:
    """Write ``tables`` into a temporary folder inside ``out_dir``, check that nothing
    edited would be lost, move the files into place and write the marker last."""
    from playbook.storage import write_text, writing

    created = not out_dir.exists()
    work = out_dir / f"{_WORK}{os.getpid()}"
    unchecked = [n for n in state.edited + state.unknown if n in FILES.values()]
    try:
        with writing(out_dir, "the demo data",
                     hint="The files already in that folder were left as they were."):
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            for table, frame in tables.items():
                frame.to_csv(work / FILES[table], index=False, encoding="utf-8",
                             lineterminator="\n")
            checksums = {FILES[t]: file_sha256(work / FILES[t]) for t in tables}
            lost = [n for n in unchecked if not _same_file(out_dir / n, checksums.get(n))]
            if lost and not force:
                raise _edited_error(out_dir, lost, [])
            for name in checksums:
                os.replace(work / name, out_dir / name)
        write_text(out_dir / MARKER, _marker(settings, checksums), "the demo data's marker")
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {t: out_dir / FILES[t] for t in tables}


def _marker(settings: dict[str, object], checksums: dict[str, str]) -> str:
    """The marker's text: what wrote the folder, with which settings, and each file's
    SHA-256 (the generator replaces the files only while they still match)."""
    return json.dumps({
        "format": MARKER_FORMAT,
        "written_by": "playbook demo (playbook/demo.py); do not edit the files listed here "
                      "(copy them to another client folder to change them)",
        "generator": generator_version(),
        "settings": settings,
        "files": checksums,
    }, indent=2) + "\n"


def _edited_error(folder: Path, edited: list[str], foreign: list[str]) -> GeneratedFolderError:
    parts = []
    if edited:
        parts.append(f"files changed since they were generated (or with no checksum to tell): "
                     f"{_names(edited)}")
    if foreign:
        parts.append(f"files the generator did not write: {_names(foreign)}")
    return GeneratedFolderError(
        f"Refusing to regenerate the demo data in {folder}: " + "; ".join(parts) + ". The "
        "generator rewrites it only while every file there is as it wrote it, so that no "
        "edit is lost.",
        fix="To keep them, copy the folder to a new client (data/<name>/ with "
        "params/<name>.yaml) and edit there. To throw the edits away, run `playbook demo "
        "--force` (files the generator did not write are left as they are).",
        kind="edited")


def _names(names: list[str]) -> str:
    """Up to :data:`_LISTED` names, then "and N more"."""
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def settings_of(seed: int, n_accounts: int, end_month: str = "2026-09",
                months: int = 36) -> dict[str, object]:
    """The generator's settings as the marker records them."""
    return {"seed": seed, "n_accounts": n_accounts, "end_month": end_month, "months": months}


def up_to_date(folder: Path, settings: dict[str, object]) -> bool:
    """Whether ``folder`` holds, unedited, every file this generator writes for
    ``settings`` (then generating again would write the same bytes)."""
    state = folder_state(folder)
    marker = state.marker
    return (state.unedited and marker is not None and marker.get("settings") == settings
            and marker.get("generator") == generator_version()
            and set(marker["files"]) == set(FILES.values()) <= set(state.names))


def write_demo(out_dir: Path, *, seed: int = 20260930, n_accounts: int = 1500,
               end_month: str = "2026-09", months: int = 36,
               force: bool = False) -> dict[str, Path] | None:
    """:func:`generate_demo`, unless ``out_dir`` is :func:`up_to_date` (then its marker is
    touched, so that ``make`` sees it newer than the generator, and None is returned)."""
    settings = settings_of(seed, n_accounts, end_month, months)
    if not force and up_to_date(out_dir, settings):
        with contextlib.suppress(OSError):
            os.utime(Path(out_dir) / MARKER)
        return None
    return generate_demo(out_dir, seed=seed, n_accounts=n_accounts, end_month=end_month,
                         months=months, force=force)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m playbook.demo --out data/demo [--seed N] [--accounts N]
    [--force]`` (the same rules as ``playbook demo``)."""
    from playbook.terminal import safe

    p = argparse.ArgumentParser(prog="python -m playbook.demo",
                                description="Write the seeded demo client's raw export files.")
    p.add_argument("--out", type=Path, required=True, help="output folder (e.g. data/demo)")
    p.add_argument("--seed", type=int, default=20260930, help="random seed")
    p.add_argument("--accounts", type=int, default=1500, help="number of accounts")
    p.add_argument("--end-month", default="2026-09", help="last month, YYYY-MM")
    p.add_argument("--months", type=int, default=36, help="months of history")
    p.add_argument("--force", action="store_true",
                   help="regenerate data/demo even when its files were edited")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    try:
        paths = write_demo(args.out, seed=args.seed, n_accounts=args.accounts,
                           end_month=args.end_month, months=args.months, force=args.force)
    except PlaybookError as exc:
        print(safe(f"The demo data was not written:\n{exc}"), file=sys.stderr)
        return exc.exit_code
    if paths is None:
        print(safe(f"{args.out} already holds these demo files, unedited; nothing written."))
        return 0
    for table, path in paths.items():
        print(safe(f"{table:13s} {path}  ({path.stat().st_size / 1e6:.2f} MB)"))
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
