"""The simulation's month grid, its categorical draws and its date strings.

The grid starts :data:`PRE_MONTHS` before the exported window, so that renewals early in
the window have a full feature history; those months are never exported. Days are day
numbers (days since 1970-01-01) and months grid indices ``k = 0 .. n_grid - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Number of simulated months before the exported window (never exported).
PRE_MONTHS = 10


@dataclass(frozen=True)
class Calendar:
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


def make_calendar(end_month: str, months: int) -> Calendar:
    end = np.datetime64(end_month, "M").astype(np.int64)
    n_grid = months + PRE_MONTHS
    return Calendar(first_month=int(end) - n_grid + 1, n_grid=n_grid, window_start=PRE_MONTHS)



def choice(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows sum to 1): the chosen column index."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs))[:, None]
    return np.minimum((u > cum).sum(axis=1), probs.shape[1] - 1)


def days_to_iso(days: np.ndarray | pd.Series) -> np.ndarray:
    """Day numbers -> ISO date strings (``YYYY-MM-DD``); negative sentinels -> ``""``."""
    days = np.asarray(days, dtype=np.int64)
    out = np.full(len(days), "", dtype=object)
    ok = days >= 0
    if ok.any():
        lo, hi = days[ok].min(), days[ok].max()
        lookup = np.datetime_as_string(np.arange(lo, hi + 1).astype("datetime64[D]"))
        out[ok] = lookup.astype(object)[days[ok] - lo]
    return out
