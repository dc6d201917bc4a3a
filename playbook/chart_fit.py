"""The size of charts on the page, direct-label placement and empty-chart detection.

A chart is drawn at the size it is printed: figures are at most :data:`REPORT_WIDTH_IN` wide
and :data:`MAX_HEIGHT_IN` high (:func:`fit_to_report`) and the report's CSS places the SVG at
its own size (``templates/playbook/static/report.css``: ``svg.chart`` in print), so a font
size set in :mod:`playbook.charts` is the size on paper; no text is smaller than
:data:`MIN_FONT_PT`.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Widest and tallest figure (inches): the report prints a chart at its own size, never
#: wider than the text column (A4 or Letter, 18 mm margins: 174 mm = 6.85 in).
REPORT_WIDTH_IN = 6.5
MAX_HEIGHT_IN = 4.3
#: Smallest text on a chart, in points as printed.
MIN_FONT_PT = 8.0
#: Size of direct labels (values at bar ends, end-of-line labels), points.
LABEL_PT = 8
#: Axes whose helper drew only zeros or missing values: nothing to show.
_EMPTY_AXES: weakref.WeakSet[Axes] = weakref.WeakSet()
_DRAWN_AXES: weakref.WeakSet[Axes] = weakref.WeakSet()


def fit_to_report(fig: Figure) -> Figure:
    """Size ``fig`` for the page: at most :data:`REPORT_WIDTH_IN` by :data:`MAX_HEIGHT_IN`
    inches (fonts keep their point size), with a layout engine that keeps every label
    inside the figure."""
    width, height = fig.get_size_inches()
    fig.set_size_inches(min(width, REPORT_WIDTH_IN), min(height, MAX_HEIGHT_IN))
    if fig.get_layout_engine() is None:
        fig.set_layout_engine("constrained")
    return fig


def note_values(ax: Axes, values: Iterable[float]) -> None:
    """Record whether a helper drew anything on ``ax``: all values zero or missing means
    the panel has nothing to show (:func:`nothing_to_show`)."""
    arr = pd.to_numeric(pd.Series(list(values), dtype=object), errors="coerce").to_numpy(
        dtype=float)
    _DRAWN_AXES.add(ax)
    if not np.any(np.isfinite(arr) & (arr != 0)):
        _EMPTY_AXES.add(ax)
    else:
        _EMPTY_AXES.discard(ax)


def nothing_to_show(fig: Figure) -> bool:
    """True when every panel of ``fig`` was drawn by a helper of this module from values
    that are all zero or missing (six $0 bars say nothing: the exhibit becomes one line).
    A panel drawn otherwise counts as content."""
    axes = fig.get_axes()
    return bool(axes) and all(ax in _DRAWN_AXES and ax in _EMPTY_AXES for ax in axes)


def line_gap(ax: Axes) -> float:
    """One label line (8 pt text and its leading, with a margin for the layout engine
    shrinking the axes) in the data units of ``ax``'s y axis."""
    lo, hi = ax.get_ylim()
    axes_pt = ax.get_position().height * ax.figure.get_figheight() * 72
    return abs(hi - lo) * LABEL_PT * 1.5 / max(axes_pt * 0.85, 1.0)


def dodge(positions: Sequence[float], gap: float) -> list[float]:
    """Label positions at least ``gap`` apart, each as close to its own value as allowed
    (order kept: the label of the lower value stays below). Labels are stacked upwards from
    the lowest; each run of stacked labels is then moved down to centre on its values, as
    far as the label below it allows."""
    values = np.asarray(positions, dtype=float)
    order = np.argsort(values, kind="stable")
    want = values[order]
    placed = want.copy()
    for i in range(1, len(placed)):
        placed[i] = max(placed[i], placed[i - 1] + gap)
    start = 0
    for i in range(1, len(placed) + 1):
        if i < len(placed) and placed[i] <= placed[i - 1] + gap * 1.0001:
            continue  # still in the run of stacked labels
        shift = float(np.mean(placed[start:i]) - np.mean(want[start:i]))
        floor = placed[start - 1] + gap if start else -np.inf
        placed[start:i] -= max(0.0, min(shift, placed[start] - floor))
        start = i
    result = np.empty(len(placed))
    result[order] = placed
    return result.tolist()
