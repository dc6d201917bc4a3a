"""Frames this process treats as read-only, and results kept per such frame.

A run's validated tables (:class:`playbook.client_data.StoredTables`, read from the run
cache by each notebook's kernel) are never changed after they are read: every analysis
takes them as input and returns new frames. :func:`mark_read_only` records such a frame;
an analysis that several sections call with the same table and arguments (for instance
:func:`playbook.analyses.account_state.usage_snapshot`, five or six times per notebook)
keeps its result for a marked frame with :func:`kept_result`, and computes it afresh for
any other frame (hand-made frames in tests, frames an analyst edits in JupyterLab).

The record holds the frame's ``id`` with a weak reference to it: once the frame is
garbage-collected its entry and its kept results go, so a new frame at the same address is
not mistaken for it. Changing a marked frame in place is not supported (results kept from
it would be stale): copy it first.

Kept across a run's kernels
---------------------------
Each notebook of a report runs in a kernel that reads the run's tables afresh, so a result
kept per frame was computed again by every notebook that asked for it (at 100,000 accounts
the usage table's monthly sums three times, 1.7 CPU s in all). A frame marked with
``shared_as`` (the run's folder of intermediates, :func:`playbook.cache.shared_folder`,
and a name the frame has in every kernel of the run: a stored table's name) lets a call
with ``across_kernels=True`` compute its result once for the whole run
(:func:`playbook.once.computed_once`: a pickle the other kernels read back). The
result's name there is the frames' names and the ``repr`` of ``key``, so a key must
``repr`` the same in every process (text, numbers, dates, tuples of them).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from playbook.once import computed_once

#: Results kept per marked frame (least recently used dropped first): the dates a report
#: asks about are few (the as-of date, a cut-off, the start of a period), plus the
#: intermediates they share (the usage table's monthly sums, the records the modelling
#: features sort once: :mod:`playbook.analyses.drivers.prepared`).
RESULTS_PER_FRAME = 8

#: Where a marked frame's results may be shared with the run's other kernels: (the run's
#: folder of intermediates, the frame's name in every kernel of the run).
SharedAs = tuple[Path, str]

_MARKED: dict[int, tuple[weakref.ref[pd.DataFrame], OrderedDict[Hashable, Any],
                         SharedAs | None]] = {}


def mark_read_only(frame: pd.DataFrame, *, shared_as: SharedAs | None = None
                   ) -> pd.DataFrame:
    """Record ``frame`` as read-only for the rest of its life; returns it.

    ``shared_as``: (the run's folder of intermediates, the frame's name in the run), for
    results kept ``across_kernels`` (:func:`kept_result`); None: kept in this process only.
    """
    key = id(frame)

    def forget(ref: weakref.ref[pd.DataFrame], key: int = key) -> None:
        if key in _MARKED and _MARKED[key][0] is ref:
            del _MARKED[key]

    if not is_read_only(frame):
        _MARKED[key] = (weakref.ref(frame, forget), OrderedDict(), shared_as)
    return frame


def shared_name(frame: pd.DataFrame) -> SharedAs | None:
    """The ``shared_as`` ``frame`` was marked with (None when unmarked or marked without
    one)."""
    return _MARKED[id(frame)][2] if is_read_only(frame) else None


def _across_kernels(frames: tuple[pd.DataFrame, ...], key: Hashable) -> tuple[Path, str] | None:
    """(folder, file name) of the result ``key`` of ``frames`` shared by the run's kernels,
    or None when a frame has no ``shared_as`` or the frames' folders differ."""
    places = [shared_name(f) for f in frames]
    if any(p is None for p in places) or len({p[0] for p in places}) != 1:
        return None
    names = "+".join(p[1] for p in places)
    digest = hashlib.sha256(f"{names}|{key!r}".encode()).hexdigest()[:20]
    return places[0][0], f"kept-{digest}"


def is_read_only(frame: object) -> bool:
    """True when ``frame`` itself (not an equal copy) was passed to :func:`mark_read_only`."""
    entry = _MARKED.get(id(frame))
    return entry is not None and entry[0]() is frame


def kept_result(frame: pd.DataFrame, key: Hashable, compute: Callable[[], Any], *,
                copy: bool = True, also: tuple[pd.DataFrame | None, ...] = (),
                across_kernels: bool = False) -> Any:
    """``compute()``, kept for ``(frame, key)`` when ``frame`` is read-only.

    ``key`` names the computation and its arguments other than the frame (e.g.
    ``("usage_snapshot", as_of, trend_months)``). Each call returns its own deep copy, so a
    caller that adds columns to the result does not change what the next caller gets;
    ``copy=False`` returns the kept object itself, for a module's own intermediate that no
    caller changes. ``also``: the other frames ``compute`` reads (None allowed); the result
    is kept only while each of them is read-only too and still the same frame. Without
    the marks it is just ``compute()``. ``across_kernels``: computed once for the run when
    every frame was marked ``shared_as`` the same run's folder (see the module), for a
    result that costs much more to compute than to read back from a pickle.
    """
    others = tuple(f for f in also if f is not None)
    if not all(is_read_only(f) for f in (frame, *others)):
        return compute()
    place = _across_kernels((frame, *others), key) if across_kernels else None
    if place is not None:
        compute = partial(computed_once, place[0], place[1], compute)
    results = _MARKED[id(frame)][1]
    full_key = (key, tuple(id(f) for f in others)) if others else key
    with _lock_for((id(frame), full_key)):  # one thread computes it, another waits
        kept = results.get(full_key)
        if kept is not None and all(ref() is f for ref, f in zip(kept[0], others,
                                                                  strict=True)):
            results.move_to_end(full_key)
        else:
            results[full_key] = kept = (tuple(weakref.ref(f) for f in others), compute())
            while len(results) > RESULTS_PER_FRAME:
                results.popitem(last=False)
    return kept[1].copy() if copy else kept[1]


#: A lock per kept result being computed or read (a notebook's thread beside it,
#: :mod:`playbook.beside`, may ask for the same result as the notebook). Never removed: a
#: kernel keeps a few dozen (a lock is a few dozen bytes). A kept result's computation
#: reads frames only, never a context's property, so no lock here waits for one there.
_LOCKS: dict[Hashable, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock_for(key: Hashable) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())
