"""statsmodels' Cox model (``PHReg``) with its risk sets built with arrays.

``PHReg`` builds, when it is created, which rows fail, enter and leave the risk set at each
distinct failure time (``PHSurvivalTime``) with a Python loop and a ``searchsorted`` call
per row: 5 of the 12 CPU seconds of the trigger Cox models at 100,000 accounts.
:class:`ArrayPHReg` is ``PHReg`` with the same structures built by whole-array
``searchsorted`` and a stable sort (:class:`ArraySurvivalTime`): the same index arrays in
the same order, so the fit, its robust covariance and every figure are the ones ``PHReg``
gives, bit for bit (``tests/test_phreg.py`` compares them with statsmodels' own classes).
Written against statsmodels 0.15 (pinned): the constructor repeats ``PHReg.__init__``
apart from the survival-time object.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from statsmodels.base.model import LikelihoodModel
from statsmodels.duration.hazard_regression import PHReg, PHSurvivalTime
from statsmodels.tools.validation import string_like

__all__ = ["ArrayPHReg", "ArraySurvivalTime"]


def _grouped(keys: np.ndarray, n_groups: int) -> list[np.ndarray]:
    """Positions ``0..len(keys)-1`` split by ``keys`` (each in ``0..n_groups-1``), each
    group's positions ascending, as int32 arrays (a list of ``n_groups``)."""
    order = np.argsort(keys, kind="stable").astype(np.int32)
    counts = np.bincount(keys, minlength=n_groups)
    return np.split(order, np.cumsum(counts)[:-1])


class ArraySurvivalTime(PHSurvivalTime):
    """``PHSurvivalTime`` (statsmodels 0.15) built without a loop over rows: the strata's
    rows, the rows left out (entering after the stratum's last failure, censored before
    its first), the time order, and per distinct failure time the rows failing, entering
    and leaving the risk set, all equal to the parent's (same values, same order)."""

    def __init__(self, time: np.ndarray, status: np.ndarray, exog: np.ndarray,
                 strata: np.ndarray | None = None, entry: np.ndarray | None = None,
                 offset: np.ndarray | None = None) -> None:
        if strata is None:
            strata = np.zeros(len(time), dtype=np.int32)
        if entry is None:
            entry = np.zeros(len(time))
        self._check(time, status, strata, entry)
        stu = np.unique(strata)
        stratum_rows = [np.flatnonzero(strata == k).astype(np.int32) for k in stu]
        keep = [i for i, ix in enumerate(stratum_rows) if status[ix].sum() > 0]
        self.nstrat_orig = len(stratum_rows)
        stratum_rows = [stratum_rows[i] for i in keep]
        self.stratum_names = [stu[i] for i in keep]
        self.nstrat = len(stratum_rows)
        for stx, ix in enumerate(stratum_rows):
            last_failure = max(time[ix][status[ix] == 1])
            stratum_rows[stx] = ix[np.flatnonzero(entry[ix] <= last_failure)]
        for stx, ix in enumerate(stratum_rows):
            first_failure = min(time[ix][status[ix] == 1])
            stratum_rows[stx] = ix[np.flatnonzero(time[ix] >= first_failure)]
        for stx, ix in enumerate(stratum_rows):
            stratum_rows[stx] = ix[np.argsort(time[ix])]  # the parent's (unstable) sort
        self.offset_s = (None if offset is None
                         else [offset[stratum_rows[stx]] for stx in range(self.nstrat)])
        self.n_obs = sum(len(ix) for ix in stratum_rows)
        self.stratum_rows = stratum_rows
        self.time_s = self._split(time)
        self.exog_s = self._split(exog)
        self.status_s = self._split(status)
        self.entry_s = self._split(entry)
        self.ufailt_ix, self.risk_enter, self.risk_exit, self.ufailt = [], [], [], []
        for stx in range(self.nstrat):
            ift = np.flatnonzero(self.status_s[stx] == 1)
            ft = self.time_s[stx][ift]
            uft = np.unique(ft)
            nuft = len(uft)
            # rows failing at each distinct failure time, in row order
            fails = _grouped(np.searchsorted(uft, ft), nuft)
            self.ufailt_ix.append([ift[f].astype(np.int32) for f in fails])
            # rows entering the risk set (going back in time) at the last failure time at
            # or before their own time; rows before the first failure time never do
            at = np.searchsorted(uft, self.time_s[stx], "right") - 1
            rows = np.flatnonzero(at >= 0)
            self.risk_enter.append([rows[g].astype(np.int32)
                                    for g in _grouped(at[rows], nuft)])
            # rows leaving it at the first failure time at or after their entry
            out = np.searchsorted(uft, self.entry_s[stx])
            if len(out) and out.max() >= nuft:  # the parent fails here: let it say how
                raise IndexError("an entry time falls after the last failure time")
            self.risk_exit.append(_grouped(out, nuft))
            self.ufailt.append(uft)


class ArrayPHReg(PHReg):
    """``PHReg`` whose survival times are :class:`ArraySurvivalTime`; same arguments, same
    fit."""

    def __init__(self, endog: Any, exog: Any, status: Any = None, entry: Any = None,
                 strata: Any = None, offset: Any = None, ties: str = "breslow",
                 missing: str = "drop", **kwargs: Any) -> None:
        if status is None:
            status = np.ones(len(endog))
        LikelihoodModel.__init__(self, endog, exog, status=status, entry=entry,
                                 strata=strata, offset=offset, missing=missing, **kwargs)
        for name in ("status", "entry", "strata", "offset"):
            if getattr(self, name) is not None:
                setattr(self, name, np.asarray(getattr(self, name)))
        self.surv = ArraySurvivalTime(self.endog, self.status, self.exog, self.strata,
                                      self.entry, self.offset)
        self.nobs = len(self.endog)
        self.groups = None
        self.missing = missing
        self.df_resid = float(self.exog.shape[0] - np.linalg.matrix_rank(self.exog))
        self.df_model = float(np.linalg.matrix_rank(self.exog))
        self.ties = string_like(ties, "ties", options=("efron", "breslow"))
