"""Accounts and the people at them: static attributes, contacts and their
relationships (drawn first, before any process that depends on them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from playbook.demo.effects import INDUSTRIES, OWNERS, REGIONS, SEGMENTS
from playbook.demo.grid import Calendar, choice


def draw_accounts(rng: np.random.Generator, n: int, cal: Calendar) -> dict[str, np.ndarray]:
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
    industry = choice(rng, np.tile([p for _, p in INDUSTRIES], (n, 1)))
    region = choice(rng, np.tile([p for _, p in REGIONS], (n, 1)))
    prod_p = np.array([[0.60, 0.30, 0.10, 0.00], [0.35, 0.40, 0.20, 0.05],
                       [0.10, 0.30, 0.35, 0.25]])
    products = choice(rng, prod_p[seg]) + 1

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


def draw_contacts(rng: np.random.Generator, acc: dict[str, np.ndarray]) -> pd.DataFrame:
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
    c["seniority"] = sen_levels[choice(rng, sen_probs)]
    c["strength"] = np.array(["strong", "medium", "weak"], dtype=object)[choice(rng, str_probs)]
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


def account_relationships(contacts: pd.DataFrame, n: int) -> dict[str, np.ndarray]:
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
