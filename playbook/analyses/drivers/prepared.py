"""Records of a source table sorted by account and date once, for every decision set.

A report builds the modelling table three times (the renewal model's past decisions, the
expansion model's cut-offs, the renewals due), each time with the same touches, surveys,
usage and onboarding records. What the feature builders do to those records before they
look at any decision (match IDs, sort by account and date) does not depend on the
decisions: :class:`SortedRecords` holds it, and the feature builders keep it per
read-only table (:func:`playbook.read_only.kept_result`: the run's stored tables) so that
it is done once a kernel. Each decision then finds its account's records by binary search.

A record's key is ``account code * size + the rank of its date`` among the records'
distinct dates (``size`` = number of distinct dates + 1), so records sorted by key are
sorted by account, then date. A decision's bound is its account's code * size + the rank
of the latest record date on or before its cut-off (-1 when none): the records of its
account dated on or before the cut-off are those with keys in ``[code * size, bound]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from playbook.analyses.history import ranks
from playbook.membership import positions

__all__ = ["SortedRecords", "search"]

#: Below this many values to look up, :func:`search` looks them up as given.
SORTED_SEARCH_FROM = 1024


def search(keys: np.ndarray, values: np.ndarray, side: str = "left") -> np.ndarray:
    """``np.searchsorted(keys, values, side=side)`` (``keys`` sorted), the same positions,
    with ``values`` looked up in their sorted order: consecutive binary searches then walk
    nearby parts of a long ``keys`` (millions of records) and the lookups take a quarter of
    the time of lookups in decision order, whose every step misses the CPU cache."""
    values = np.asarray(values)
    if len(values) < SORTED_SEARCH_FROM:
        return np.searchsorted(keys, values, side=side)
    order = np.argsort(values, kind="stable")
    out = np.empty(len(values), dtype=np.intp)
    out[order] = np.searchsorted(keys, values[order], side=side)
    return out


def _frozen(values: np.ndarray) -> np.ndarray:
    values.flags.writeable = False
    return values


@dataclass(frozen=True)
class SortedRecords:
    """Dated records of accounts sorted by account and date (module docstring).

    ``ids``: the distinct account IDs (text; a record's code is its position here);
    ``days``: the records' distinct dates, in order; ``size``: ``len(days) + 1``;
    ``keys``: the records' keys, sorted; ``order``: the position (in the records given to
    :meth:`of`) of the record of each sorted key. Records of one key keep their order
    (a stable sort): the last of them is the last in the records.
    """

    ids: pd.Index
    days: np.ndarray
    size: int
    keys: np.ndarray
    order: np.ndarray

    @classmethod
    def of(cls, accounts: pd.Series, dates: pd.Series) -> SortedRecords:
        """The records (``accounts``, ``dates``, aligned) with an account and a date."""
        return cls.by_kind(accounts, dates, {"all": None})["all"]

    @classmethod
    def by_kind(cls, accounts: pd.Series, dates: pd.Series,
                kinds: dict[str, np.ndarray | None]) -> dict[str, SortedRecords]:
        """Per kind (a boolean array over the records; None: every record), the records
        of that kind with an account and a date (positions in ``order`` are those in
        ``accounts``). The IDs are matched once for all kinds."""
        text = accounts if isinstance(accounts.dtype, pd.StringDtype) \
            else accounts.astype("string")
        codes, ids = pd.factorize(text)
        when = pd.to_datetime(dates)
        known = (codes >= 0) & when.notna().to_numpy()
        stamps = when.to_numpy()
        out = {}
        for name, kind in kinds.items():
            dated = np.flatnonzero(known if kind is None else known & np.asarray(kind))
            days, rank = ranks(stamps[dated])
            size = len(days) + 1
            key = codes[dated].astype(np.int64) * size + rank
            order = np.argsort(key, kind="stable")
            small = np.int32 if len(stamps) < np.iinfo(np.int32).max else np.int64
            out[name] = cls(ids=ids, days=_frozen(np.asarray(days, dtype=stamps.dtype)),
                            size=size, keys=_frozen(key[order]),
                            order=_frozen(dated[order].astype(small)))  # half the memory
        return out

    def bounds(self, base: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
        """The decisions of ``base`` (``account_id``, ``cutoff_date``) whose account has a
        record: their positions in ``base`` (``asked``), their account codes and bounds,
        and the finer of the cut-offs' and the records' date units."""
        cut = base["cutoff_date"]
        decided = (cut.notna() & base["account_id"].notna()).to_numpy()
        code = np.full(len(base), -1, dtype=np.int64)
        code[decided] = positions(base["account_id"].astype("string")[decided], self.ids)
        asked = np.flatnonzero(code >= 0)
        unit = np.promote_types(cut.dtype, self.days.dtype)
        rank = np.searchsorted(self.days.astype(unit), cut.to_numpy(dtype=unit)[asked],
                               side="right") - 1
        return asked, code[asked], code[asked] * self.size + rank, unit

    def _found(self, base: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, Any]:
        """The decisions of ``base`` with a record of their account on or before their
        cut-off (positions in ``base``), the sorted position of the latest such record
        (the last in the records among those of its date), and the date unit."""
        asked, code, bound, unit = self.bounds(base)
        pos = search(self.keys, bound, "right") - 1
        hit = pos >= 0
        hit[hit] = self.keys[pos[hit]] // self.size == code[hit]
        return asked[hit], pos[hit], unit

    def latest(self, base: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, Any]:
        """Each decision's latest record of its account on or before its cut-off (the last
        in the records among those of that date): the positions in ``base`` of the
        decisions that have one, the positions of those records, and the date unit."""
        rows, pos, unit = self._found(base)
        return rows, self.order[pos], unit

    def latest_dates(self, base: pd.DataFrame) -> pd.Series:
        """Each decision's latest record date on or before its cut-off (NaT without one),
        indexed like ``base``, in the finer of the two date units."""
        rows, pos, unit = self._found(base)
        when = np.full(len(base), np.datetime64("NaT"), dtype=unit)
        when[rows] = self.days.astype(unit)[self.keys[pos] % self.size]
        return pd.Series(when, index=base.index)

    def window(self, base: pd.DataFrame, days: int) -> tuple[np.ndarray, np.ndarray]:
        """Per decision of ``base``, the sorted positions ``[lo, hi)`` of its account's
        records dated in ``(cutoff - days, cutoff]`` (both 0 for a decision without a
        cut-off or whose account has no record): ``order[lo:hi]`` are those records."""
        asked, code, bound, unit = self.bounds(base)
        start = (base["cutoff_date"] - pd.Timedelta(days=days)).to_numpy(dtype=unit)[asked]
        first = code * self.size + np.searchsorted(self.days.astype(unit), start,
                                                   side="right") - 1
        lo = np.zeros(len(base), dtype=np.int64)
        hi = np.zeros(len(base), dtype=np.int64)
        lo[asked] = search(self.keys, first, "right")
        hi[asked] = search(self.keys, bound, "right")
        return lo, np.maximum(hi, lo)

    def counts(self, base: pd.DataFrame) -> np.ndarray:
        """How many records of each decision's account are dated on or before its cut-off
        (float, aligned with ``base``)."""
        asked, code, bound, _ = self.bounds(base)
        out = np.zeros(len(base))
        out[asked] = (search(self.keys, bound, "right")
                      - search(self.keys, code * self.size, "left"))
        return out
