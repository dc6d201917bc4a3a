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
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import pandas as pd

#: Results kept per marked frame (least recently used dropped first): the dates a report
#: asks about are few (the as-of date, a cut-off, the start of a period), plus the
#: intermediates they share (the usage table's monthly sums, the records the modelling
#: features sort once: :mod:`playbook.analyses.drivers.prepared`).
RESULTS_PER_FRAME = 8

_MARKED: dict[int, tuple[weakref.ref[pd.DataFrame], OrderedDict[Hashable, Any]]] = {}


def mark_read_only(frame: pd.DataFrame) -> pd.DataFrame:
    """Record ``frame`` as read-only for the rest of its life; returns it."""
    key = id(frame)

    def forget(ref: weakref.ref[pd.DataFrame], key: int = key) -> None:
        if key in _MARKED and _MARKED[key][0] is ref:
            del _MARKED[key]

    if not is_read_only(frame):
        _MARKED[key] = (weakref.ref(frame, forget), OrderedDict())
    return frame


def is_read_only(frame: object) -> bool:
    """True when ``frame`` itself (not an equal copy) was passed to :func:`mark_read_only`."""
    entry = _MARKED.get(id(frame))
    return entry is not None and entry[0]() is frame


def kept_result(frame: pd.DataFrame, key: Hashable, compute: Callable[[], Any], *,
                copy: bool = True, also: tuple[pd.DataFrame | None, ...] = ()) -> Any:
    """``compute()``, kept for ``(frame, key)`` when ``frame`` is read-only.

    ``key`` names the computation and its arguments other than the frame (e.g.
    ``("usage_snapshot", as_of, trend_months)``). Each call returns its own deep copy, so a
    caller that adds columns to the result does not change what the next caller gets;
    ``copy=False`` returns the kept object itself, for a module's own intermediate that no
    caller changes. ``also``: the other frames ``compute`` reads (None allowed); the result
    is kept only while each of them is read-only too and still the same frame. Without
    the marks it is just ``compute()``.
    """
    others = tuple(f for f in also if f is not None)
    if not all(is_read_only(f) for f in (frame, *others)):
        return compute()
    results = _MARKED[id(frame)][1]
    full_key = (key, tuple(id(f) for f in others)) if others else key
    kept = results.get(full_key)
    if kept is not None and all(ref() is f for ref, f in zip(kept[0], others, strict=True)):
        results.move_to_end(full_key)
    else:
        results[full_key] = kept = (tuple(weakref.ref(f) for f in others), compute())
        while len(results) > RESULTS_PER_FRAME:
            results.popitem(last=False)
    return kept[1].copy() if copy else kept[1]
