"""House-style charts. Every function takes ``ax`` (or draws on ``plt.gca()``) and returns it;
none saves files.

Style: one accent colour and greys (shades of the accent for heatmaps), no box or
gridlines, direct labels instead of legends, sorted bars, the same font family as the
report's text (DejaVu Sans, shipped with matplotlib, so it is available offline everywhere).

Size: a chart is drawn at the size it is printed (:mod:`playbook.chart_fit`), so a font size
set here is the size on paper; no text is smaller than 8 pt (legible at 100% zoom).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import Formatter, FuncFormatter, PercentFormatter

from playbook import textfmt as tf
from playbook.chart_fit import (
    LABEL_PT,
    MAX_HEIGHT_IN,
    REPORT_WIDTH_IN,
    dodge,
    line_gap,
    note_values,
)


def _seaborn():  # noqa: ANN202 (the seaborn module)
    """seaborn, imported when a heatmap is first drawn: its import (with scipy and
    statsmodels behind it) takes seconds and about 100 MB, which the render process, drawing
    only the summary's bars and waterfalls, does without (the kernels preload it)."""
    import seaborn

    return seaborn


ACCENT = "#1f4e79"
ACCENT_LIGHT = "#8fb3d9"
GREY = "#8c8c8c"
LIGHT_GREY = "#d0d0d0"
TEXT = "#333333"
FONT = "DejaVu Sans"
#: Health bands: the band that needs action in the accent, the others in greys (one accent
#: colour per chart; the band names are written on the chart).
RAG = {"red": ACCENT, "yellow": GREY, "green": LIGHT_GREY}


def apply_house_style() -> None:
    """Set matplotlib defaults to the house style (idempotent)."""
    mpl.rcParams.update({
        "font.family": FONT,
        "font.size": 9,
        "axes.titlesize": 9,
        "axes.labelsize": 9,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "axes.edgecolor": LIGHT_GREY,
        "axes.labelcolor": TEXT,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": False,
        "xtick.color": TEXT,
        "ytick.color": TEXT,
        "text.color": TEXT,
        "figure.dpi": 100,
        "figure.figsize": (REPORT_WIDTH_IN, 3.2),
        # The layout engine fits labels inside the figure, so the SVG keeps the figure's
        # size (no tight bounding box that would change the scale on the page).
        "figure.constrained_layout.use": True,
        "svg.fonttype": "none",  # keep text as text: selectable, searchable in the PDF
        # Labels are shown as typed: a client's "$5 to $10" or "$\alpha$" is never typeset as
        # math (no chart of ours uses mathtext).
        "text.parse_math": False,
        "legend.frameon": False,
    })


def _ax(ax: Axes | None) -> Axes:
    return ax if ax is not None else plt.gca()


class MoneyTicks(Formatter):
    """Money tick labels in one unit (K, M, B, T of the largest tick) with the fewest
    decimals (0 to 3) that write every tick exactly, so neighbouring ticks never read alike:
    $8.4K, $8.6K, $8.8K, not $8K, $9K, $9K. The minus sign goes before the symbol
    (−$1.2M)."""

    def __init__(self, symbol: str = "$") -> None:
        self.symbol = symbol
        self.digits, self.size, self.letter = 1, 1e6, "M"

    def _fit(self, values: Sequence[float]) -> None:
        top = max((abs(v) for v in values), default=0.0)
        self.size, self.letter = next(((s, u) for s, u in ((1e12, "T"), (1e9, "B"),
                                                           (1e6, "M"), (1e3, "K"))
                                       if top >= s), (1.0, ""))
        scaled = [v / self.size for v in values]
        for digits in range(4):  # ticks are round numbers: write each one exactly
            if all(abs(round(v, digits) - v) < 1e-9 * max(1.0, abs(v)) for v in scaled):
                break
        self.digits = digits

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        self._fit(list(values))
        return [self(v) for v in values]

    def __call__(self, x: float, pos: int | None = None) -> str:
        if x == 0:
            return f"{self.symbol}0"
        text = f"{abs(x) / self.size:.{self.digits}f}"
        sign = tf.MINUS if x < 0 and any(ch in "123456789" for ch in text) else ""
        return f"{sign}{self.symbol}{text}{self.letter}"


def money_axis(ax: Axes, axis: str = "y", symbol: str = "$") -> None:
    """Money tick labels on ``axis`` (:class:`MoneyTicks`)."""
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(MoneyTicks(symbol))


def waterfall(movements: pd.Series, ax: Axes | None = None, *, symbol: str = "$") -> Axes:
    """MRR bridge: start, movements (positive up, negative down), end.

    ``movements`` is ordered: first item the starting level, last the end level, the
    ones between signed changes. Bars float on an invisible base with connectors. The
    losses (the leak the bridge is read for) are in the accent colour, gains in light grey,
    the start and end levels in grey; the signed labels say which is which.
    """
    ax = _ax(ax)
    labels = list(movements.index)
    values = movements.to_numpy(dtype=float)
    steps = values[1:-1]
    base = np.concatenate([[0.0], values[0] + np.cumsum(np.concatenate([[0.0], steps]))[:-1],
                           [0.0]])
    heights = np.concatenate([[values[0]], steps, [values[-1]]])
    bottoms = base.copy()
    bottoms[1:-1] = np.where(steps >= 0, base[1:-1], base[1:-1] + steps)
    colors = [GREY] + [LIGHT_GREY if s >= 0 else ACCENT for s in steps] + [GREY]
    ax.bar(range(len(values)), np.abs(heights), bottom=bottoms, color=colors, width=0.6)
    level = values[0]
    for i, s in enumerate(steps, start=1):
        ax.plot([i - 1 + 0.3, i - 0.3], [level, level], color=LIGHT_GREY, lw=0.8)
        level += s
    ax.plot([len(values) - 2 + 0.3, len(values) - 1 - 0.3], [level, level], color=LIGHT_GREY,
            lw=0.8)
    top = max(values[0], values[-1])
    pad = max(np.abs(steps).sum(), top * 0.02) * 0.04
    for i, (h, b) in enumerate(zip(heights, bottoms, strict=True)):
        txt = _short_money(h, symbol, signed=0 < i < len(values) - 1)
        ax.text(i, b + abs(h) + pad, txt, ha="center", va="bottom", fontsize=LABEL_PT)
    ax.set_xticks(range(len(values)), [str(lb).replace(" ", "\n") for lb in labels],
                  fontsize=LABEL_PT)
    money_axis(ax, symbol=symbol)
    # Zoom on the movements: the axis starts below the lowest level reached, not at zero
    # (the start and end bars are then cut; the subtitle or notes must say so).
    levels = np.concatenate([[values[0]], values[0] + np.cumsum(steps), [values[-1]]])
    span = max(np.abs(steps).sum(), top * 0.02)
    lo = max(0.0, levels.min() - span * 1.5)
    ax.set_ylim(lo, levels.max() + span * 0.6)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    note_values(ax, values)
    return ax


def _short_money(v: float, symbol: str, signed: bool = False) -> str:
    """``v`` as short money (``$1.2M``); a negative amount with a minus sign, as the
    report's text writes it (``−$1.2M``), and a plus sign too when ``signed``."""
    text = tf.with_minus(f"{'-' if v < 0 else ''}{symbol}{tf.short_amount(abs(v), 2)}")
    return f"+{text}" if signed and not text.startswith(tf.MINUS) else text


def _value_label(v: float, percent: bool, symbol: str | None, digits: int = 0) -> str:
    """A direct label: ``12%`` (``digits`` decimals), ``$1.2M`` (with a currency symbol) or
    ``1,234``."""
    if percent:
        return tf.with_minus(f"{v:.{digits}%}")
    if symbol is not None:
        return _short_money(v, symbol)
    return tf.with_minus(f"{v:,.0f}")


def trend_lines(frame: pd.DataFrame, ax: Axes | None = None, *, highlight: str | None = None,
                percent: bool = True, reference: float | None = None,
                money_symbol: str | None = None) -> Axes:
    """Lines over time with direct labels at the right end (no legend).

    ``frame``: index = dates, one column per series. ``highlight`` is drawn in the accent
    colour, the others in grey. End labels of series that finish close together are moved
    apart (:func:`playbook.chart_fit.dodge`) so they never overlap.
    """
    ax = _ax(ax)
    ends = []
    for col in frame.columns:
        series = frame[col].dropna()
        if series.empty:
            continue
        color = ACCENT if (highlight is None or col == highlight) else GREY
        ax.plot(series.index, series.to_numpy(), color=color, lw=2 if color == ACCENT else 1.5)
        last = float(series.iloc[-1])
        # a rate's last value with the text's one decimal: rounded to a whole percent,
        # a net revenue retention of 99.9% read "100%" on the chart whose title says
        # "below the 100% line"
        ends.append((series.index[-1], last,
                     f"{col} {_value_label(last, percent, money_symbol, digits=1)}", color))
    note_values(ax, frame.to_numpy(dtype=float).ravel())
    if reference is not None:
        ax.axhline(reference, color=LIGHT_GREY, lw=0.8, ls="--")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi)  # frozen, so the labels' gap in data units stays one text line
    placed = dodge([e[1] for e in ends], line_gap(ax))
    for (x, _value, text, color), y_label in zip(ends, placed, strict=True):
        ax.annotate(text, (x, y_label), xytext=(4, 0), textcoords="offset points",
                    va="center", color=color, fontsize=LABEL_PT, annotation_clip=False)
    if isinstance(frame.index, pd.DatetimeIndex):  # "Oct / 2025 / Apr", not crowded dates
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    elif money_symbol is not None:
        money_axis(ax, symbol=money_symbol)
    ax.margins(x=0.12)
    return ax


def sorted_bars(values: pd.Series, ax: Axes | None = None, *,
                highlight: Sequence | None = None, percent: bool = False,
                symbol: str | None = None, annotations: pd.Series | None = None) -> Axes:
    """Horizontal bars, largest on top, value labels at the bar end, accent on ``highlight``
    (``None``: the largest bar; an empty sequence: no bar, e.g. when every reason is
    uninformative there is no finding to point at)."""
    ax = _ax(ax)
    values = values.sort_values()
    if highlight is None:
        hl = {values.index[-1]} if len(values) else set()
    else:
        hl = set(highlight)
    colors = [ACCENT if k in hl else LIGHT_GREY for k in values.index]
    ax.barh([str(i) for i in values.index], values.to_numpy(), color=colors, height=0.65)
    span = values.abs().max() if len(values) else 1
    for y, (k, v) in enumerate(values.items()):
        label = _value_label(v, percent, symbol)
        if annotations is not None and k in annotations.index:
            label += f"  {annotations[k]}"
        ax.text(v + span * 0.01, y, label, va="center", fontsize=LABEL_PT)
    ax.spines["bottom"].set_visible(False)
    ax.set_xticks([])
    ax.tick_params(axis="y", length=0)
    ax.set_xlim(0, span * 1.3 if span > 0 else 1)
    note_values(ax, values)
    return ax


def rates_with_intervals(table: pd.DataFrame, ax: Axes | None = None, *, label_col: str = "group",
                         rate: str = "rate", low: str = "low", high: str = "high",
                         n: str = "n", small: str | None = "too_small",
                         overall: float | None = None) -> Axes:
    """Dot-and-interval chart of rates by group, sorted, with n beside each label; groups
    flagged too small to judge are drawn hollow and grey."""
    ax = _ax(ax)
    t = table.sort_values(rate).reset_index(drop=True)
    for y, row in t.iterrows():
        tiny = bool(row[small]) if small and small in t else False
        color = LIGHT_GREY if tiny else ACCENT
        ax.plot([row[low], row[high]], [y, y], color=color, lw=2)
        ax.plot(row[rate], y, "o", color=color, mfc="white" if tiny else color, ms=5)
    labels = [f"{g} (n={int(k):,}{', too small' if (small in t and s) else ''})"
              for g, k, s in zip(t[label_col], t[n],
                                 t[small] if small in t else [False] * len(t), strict=True)]
    ax.set_yticks(range(len(t)), labels)
    if overall is not None:
        ax.axvline(overall, color=GREY, lw=0.8, ls="--")
        ax.text(overall, len(t) - 0.4, f" overall {overall:.0%}", color=GREY,
                fontsize=LABEL_PT)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    note_values(ax, t[n])
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    return ax


def cohort_heatmap(matrix: pd.DataFrame, ax: Axes | None = None, *,
                   sizes: pd.Series | None = None, vmax: float = 1.0) -> Axes:
    """Cohort retention heatmap (share of the cohort retained), cohort sizes on the right."""
    ax = _ax(ax)
    sns = _seaborn()
    cmap = sns.light_palette(ACCENT, as_cmap=True)
    sns.heatmap(matrix, ax=ax, mask=matrix.isna(), cmap=cmap, vmin=0, vmax=vmax, annot=True,
                fmt=".0%", annot_kws={"fontsize": LABEL_PT}, cbar=False, linewidths=0.5,
                linecolor="white")
    ax.set_xlabel("Months since start")
    ax.set_ylabel("")
    ax.tick_params(length=0)
    if sizes is not None:
        for y, n in enumerate(sizes.reindex(matrix.index).fillna(0)):
            ax.text(matrix.shape[1] + 0.2, y + 0.5, f"n={int(n):,}", va="center",
                    fontsize=LABEL_PT, color=GREY)
    note_values(ax, matrix.to_numpy(dtype=float).ravel())
    return ax


def share_heatmap(matrix: pd.DataFrame, ax: Axes | None = None, *,
                  column_labels: Sequence[str] | None = None,
                  muted: Sequence = ()) -> Axes:
    """Heatmap of shares (rows x columns, e.g. reasons x segments) in shades of the accent,
    labelled as percentages; the ``muted`` columns (groups too small to judge) are drawn in
    greys, so the accent never lands on a figure the reader is told not to trust."""
    ax = _ax(ax)
    sns = _seaborn()
    muted_mask = np.broadcast_to(np.isin(matrix.columns, list(muted)), matrix.shape)
    judged = matrix.to_numpy(dtype=float)[~muted_mask]  # the scale is the judged groups'
    vmax = float(np.nanmax(judged)) if judged.size else 1.0
    common = dict(ax=ax, vmin=0, vmax=vmax or 1.0, annot=True, fmt=".0%", cbar=False,
                  annot_kws={"fontsize": LABEL_PT}, linewidths=0.5, linecolor="white")
    sns.heatmap(matrix, mask=muted_mask | matrix.isna().to_numpy(),
                cmap=sns.light_palette(ACCENT, as_cmap=True), **common)
    if muted_mask.any():
        sns.heatmap(matrix, mask=~muted_mask | matrix.isna().to_numpy(),
                    cmap=sns.light_palette(GREY, as_cmap=True), **common)
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(length=0)
    labels = column_labels if column_labels is not None else [str(c) for c in matrix.columns]
    ax.set_xticks([i + 0.5 for i in range(len(matrix.columns))], list(labels))
    note_values(ax, matrix.to_numpy(dtype=float).ravel())
    return ax


def forest(table: pd.DataFrame, ax: Axes | None = None, *, estimate: str = "odds_ratio",
           low: str = "ci_low", high: str = "ci_high", label_col: str | None = None,
           xlabel: str = "Odds ratio of renewal (log scale; 1 = no effect)") -> Axes:
    """Forest plot of ratios with 95% intervals on a log axis, a line at 1; intervals that
    cross 1 are grey (not significant)."""
    ax = _ax(ax)
    t = table.sort_values(estimate).reset_index(drop=label_col is not None)
    labels = t[label_col] if label_col else t.index
    for y, (_, row) in enumerate(t.iterrows()):
        sig = row[low] > 1 or row[high] < 1
        color = ACCENT if sig else GREY
        ax.plot([row[low], row[high]], [y, y], color=color, lw=2)
        ax.plot(row[estimate], y, "s", color=color, ms=5)
        ax.text(row[high] * 1.05, y, f"{row[estimate]:.2f}", va="center", fontsize=LABEL_PT,
                color=color)
    ax.axvline(1, color=LIGHT_GREY, lw=1)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(mpl.ticker.FixedLocator([0.125, 0.25, 0.5, 1, 2, 4, 8]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    ax.xaxis.set_minor_locator(mpl.ticker.NullLocator())
    lo_all = float(np.nanmin(t[low])) if len(t) else 0.5
    hi_all = float(np.nanmax(t[high])) if len(t) else 2
    ax.set_xlim(min(lo_all, 0.8) * 0.8, max(hi_all, 1.25) * 1.5)
    ax.set_yticks(range(len(t)), [str(v) for v in labels])
    ax.tick_params(axis="y", length=0)
    ax.spines["left"].set_visible(False)
    ax.set_xlabel(xlabel)
    note_values(ax, t[estimate])
    return ax


def pyramid(shares: pd.DataFrame, ax: Axes | None = None, *, left: str = "share_accounts",
            right: str = "share_mrr") -> Axes:
    """Back-to-back bars centred on zero: share of accounts (left, grey) vs share of revenue
    (right, accent), one row per tier, top tier on top."""
    ax = _ax(ax)
    t = shares.iloc[::-1]
    y = np.arange(len(t))
    ax.barh(y, -t[left].to_numpy(), color=LIGHT_GREY, height=0.6)
    ax.barh(y, t[right].to_numpy(), color=ACCENT, height=0.6)
    for i, (a, r) in enumerate(zip(t[left], t[right], strict=True)):
        ax.text(-a - 0.01, i, f"{a:.0%}", ha="right", va="center", fontsize=LABEL_PT)
        ax.text(r + 0.01, i, f"{r:.0%}", ha="left", va="center", fontsize=LABEL_PT)
    ax.set_yticks(y, [str(i) for i in t.index])
    lim = max(t[left].max(), t[right].max()) * 1.3
    ax.set_xlim(-lim, lim)
    ax.set_xticks([])
    ax.axvline(0, color=TEXT, lw=0.8)
    ax.spines["bottom"].set_visible(False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.text(-lim * 0.5, len(t) - 0.3, "share of accounts", ha="center", color=GREY,
            fontsize=LABEL_PT)
    ax.text(lim * 0.5, len(t) - 0.3, "share of MRR", ha="center", color=ACCENT,
            fontsize=LABEL_PT)
    note_values(ax, np.concatenate([t[left].to_numpy(dtype=float),
                                    t[right].to_numpy(dtype=float)]))
    return ax


def paired_bars(frame: pd.DataFrame, ax: Axes | None = None, *, first: str, second: str,
                labels: tuple[str, str] | None = None) -> Axes:
    """Two bars per row (e.g. current vs required headcount), grey then accent, labelled."""
    ax = _ax(ax)
    y = np.arange(len(frame))
    ax.barh(y + 0.2, frame[first].to_numpy(), height=0.38, color=LIGHT_GREY)
    ax.barh(y - 0.2, frame[second].to_numpy(), height=0.38, color=ACCENT)
    span = float(np.nanmax(frame[[first, second]].to_numpy())) if len(frame) else 1.0
    names = labels or (first, second)
    for i, (a, b) in enumerate(zip(frame[first], frame[second], strict=True)):
        ax.text(a + span * 0.01, i + 0.2, f"{a:,.1f} {names[0]}", va="center", fontsize=LABEL_PT,
                color=GREY)
        ax.text(b + span * 0.01, i - 0.2, f"{b:,.1f} {names[1]}", va="center", fontsize=LABEL_PT,
                color=ACCENT)
    ax.set_yticks(y, [str(i) for i in frame.index])
    ax.set_xlim(0, span * 1.45 if span > 0 else 1)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    note_values(ax, frame[[first, second]].to_numpy(dtype=float).ravel())
    return ax


def new_figure(height: float = 3.2, width: float = REPORT_WIDTH_IN):
    """A figure in the house style at report width (inches; at most
    :data:`REPORT_WIDTH_IN` by :data:`MAX_HEIGHT_IN`, the size it is printed at)."""
    apply_house_style()
    return plt.subplots(figsize=(min(width, REPORT_WIDTH_IN), min(height, MAX_HEIGHT_IN)))


def survival_curves(curves: pd.DataFrame, ax: Axes | None = None, *,
                    highlight: str | None = None, min_at_risk: int = 0,
                    max_months: float | None = None, band: bool = True) -> Axes:
    """Kaplan-Meier retention curves (steps) by group, labelled at their right end.

    ``curves``: ``group``, ``months``, ``survival``, ``ci_low``, ``ci_high``, ``at_risk``
    (as from :func:`playbook.analyses.survival.kaplan_meier`). ``highlight`` is drawn in the
    accent colour with its 95% band; the others in grey. A curve stops where fewer than
    ``min_at_risk`` accounts are still observed (or at ``max_months``).
    """
    ax = _ax(ax)
    ends = []
    for group, c in curves.groupby("group", sort=False):
        c = c.sort_values("months")
        x_end = float(c["max_months"].iloc[0]) if "max_months" in c else float(c["months"].max())
        if min_at_risk:
            thin = c.index[(c["at_risk"] < min_at_risk) & (c["months"] > 0)]
            if len(thin):
                x_end = float(c.loc[thin[0], "months"])
                c = c.loc[c["months"] < x_end]
        if max_months is not None:
            c = c[c["months"] <= max_months]
            x_end = min(x_end, max_months)
        if c.empty:
            continue
        x = np.append(c["months"].to_numpy(dtype=float), x_end)
        y = np.append(c["survival"].to_numpy(dtype=float), c["survival"].iloc[-1])
        hl = group == highlight
        color = ACCENT if hl else GREY
        if hl and band:
            lo = np.append(c["ci_low"].to_numpy(dtype=float), c["ci_low"].iloc[-1])
            hi = np.append(c["ci_high"].to_numpy(dtype=float), c["ci_high"].iloc[-1])
            ax.fill_between(x, lo, hi, step="post", color=ACCENT_LIGHT, alpha=0.35, lw=0)
        ax.step(x, y, where="post", color=color, lw=2 if hl else 1.3, zorder=3 if hl else 2)
        ends.append([x[-1], float(y[-1]), f"{group} {y[-1]:.0%}", color])
    # direct labels, nudged apart by one 8 pt line (+ leading) so they do not overlap,
    # whatever the figure's height: the gap in data units of the 0-1.04 axis
    axes_pt = ax.get_position().height * ax.figure.get_figheight() * 72
    gap = 1.04 * 10.5 / max(axes_pt, 1.0)
    ends.sort(key=lambda e: e[1])
    for i in range(1, len(ends)):
        ends[i][1] = max(ends[i][1], ends[i - 1][1] + gap)
    for x_end, y_lab, text, color in ends:
        ax.annotate(text, (x_end, y_lab), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize=LABEL_PT, color=color)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    top = max((e[0] for e in ends), default=12.0)
    ax.set_xticks(np.arange(0, top + 1, 12))
    ax.set_xlabel("Months since the account started")
    ax.set_ylabel("Still a customer")
    ax.set_ylim(0, 1.04)
    ax.margins(x=0.02)
    ax.set_xlim(0, top * 1.16)
    note_values(ax, curves["survival"])
    return ax


def calibration(table: pd.DataFrame, ax: Axes | None = None, *,
                predicted: str = "mean_predicted", observed: str = "observed_rate",
                low: str = "ci_low", high: str = "ci_high") -> Axes:
    """Predicted vs observed rates per bin with 95% intervals, and the diagonal (perfect
    calibration) in grey. Bins whose interval misses the diagonal are drawn in the accent
    colour, the others in grey."""
    ax = _ax(ax)
    lo_all = float(np.nanmin([table[predicted].min(), table[low].min()]))
    lim_lo = max(0.0, np.floor(lo_all * 10) / 10)
    ax.plot([lim_lo, 1], [lim_lo, 1], color=LIGHT_GREY, lw=1, ls="--", zorder=1)
    ax.text(0.995, lim_lo + 0.01, "dashed line: predicted = observed", color=GREY,
            fontsize=LABEL_PT, ha="right", va="bottom")
    for _, row in table.iterrows():
        miss = row[predicted] < row[low] or row[predicted] > row[high]
        color = ACCENT if miss else GREY
        ax.plot([row[predicted], row[predicted]], [row[low], row[high]], color=color, lw=1.5,
                alpha=0.7)
        ax.plot(row[predicted], row[observed], "o", color=color, ms=5, zorder=3)
    pct_fmt = PercentFormatter(1.0, decimals=0)
    ax.xaxis.set_major_formatter(pct_fmt)
    ax.yaxis.set_major_formatter(pct_fmt)
    ax.set_xlim(lim_lo, 1.0)
    ax.set_ylim(lim_lo, 1.02)
    ax.set_xlabel("Predicted renewal probability (bin average)")
    ax.set_ylabel("Observed renewal rate")
    note_values(ax, table[observed])
    return ax


def lift_bars(table: pd.DataFrame, ax: Axes | None = None, *, group: str = "decile",
              rate: str = "event_rate", overall: float | None = None,
              labels: Sequence[str] | None = None) -> Axes:
    """Vertical bars of an event rate per group in the given order (e.g. deciles of
    predicted risk, riskiest first), accent on the first, value labels on top, the overall
    rate as a dashed line labelled beyond the last bar (never over the value labels)."""
    ax = _ax(ax)
    x = np.arange(len(table))
    values = table[rate].to_numpy(dtype=float)
    colors = [ACCENT] + [LIGHT_GREY] * (len(table) - 1)
    ax.bar(x, values, color=colors, width=0.7)
    top = float(np.nanmax(values)) if len(values) else 1.0
    for i, v in enumerate(values):  # on white, so the average line never strikes through
        ax.text(i, v + top * 0.02, f"{v:.0%}", ha="center", va="bottom", fontsize=LABEL_PT,
                zorder=3, bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6})
    if overall is not None:  # the line stops at the last bar, its label beyond it
        ax.plot([-0.5, len(table) - 0.5], [overall, overall], color=GREY, lw=0.8, ls="--",
                zorder=2)
        ax.text(len(table) - 0.4, overall, f"average {overall:.0%}", ha="left",
                va="center", color=GREY, fontsize=LABEL_PT)
    ax.set_xticks(x, list(labels) if labels is not None else [str(g) for g in table[group]],
                  fontsize=LABEL_PT)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.set_ylim(0, top * 1.18 if top > 0 else 1)
    note_values(ax, values)
    return ax


def tornado(frame: pd.DataFrame, ax: Axes | None = None, *, base: float, low: str = "worse",
            high: str = "better", symbol: str = "$") -> Axes:
    """Tornado of levers around a base value: per row, ``barh(..., left=base)`` to the
    ``low`` value (grey) and to the ``high`` value (accent), widest swing on top, the ends
    labelled in money and the base drawn as a line. Row labels come from the index."""
    ax = _ax(ax)
    t = frame.assign(_range=(frame[high] - frame[low]).abs()).sort_values("_range")
    y = np.arange(len(t))
    ax.barh(y, (t[low] - base).to_numpy(), left=base, color=LIGHT_GREY, height=0.6)
    ax.barh(y, (t[high] - base).to_numpy(), left=base, color=ACCENT, height=0.6)
    ends = np.concatenate([t[low].to_numpy(), t[high].to_numpy(), [base]])
    span = float(ends.max() - ends.min()) or abs(base) or 1.0
    pad = span * 0.015
    for i, (lo, hi) in enumerate(zip(t[low], t[high], strict=True)):
        for v, color in ((lo, GREY), (hi, ACCENT)):
            right = v >= base
            ax.text(v + (pad if right else -pad), i,
                    _short_money(v - base, symbol, signed=True), ha="left" if right else "right",
                    va="center", fontsize=LABEL_PT, color=color)
    ax.plot([base, base], [-0.5, len(t) - 0.5], color=TEXT, lw=0.8)
    ax.text(base, len(t) - 0.45, f"base {_short_money(base, symbol)}", ha="center",
            va="bottom", fontsize=LABEL_PT, color=TEXT)
    ax.set_yticks(y, [str(i) for i in t.index])
    ax.set_xlim(ends.min() - span * 0.3, ends.max() + span * 0.3)
    ax.set_ylim(-0.6, len(t) + 0.2)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    note_values(ax, np.concatenate([t[low].to_numpy(dtype=float) - base,
                                    t[high].to_numpy(dtype=float) - base]))
    return ax


def ordered_bars(values: pd.Series, ax: Axes | None = None, *,
                 annotations: pd.Series | None = None, highlight: Sequence = ()) -> Axes:
    """Horizontal bars in the given order (first on top, e.g. lifecycle stages), count
    labels at the bar end followed by an optional annotation; accent on ``highlight`` (all
    bars when none is given), grey for the others."""
    ax = _ax(ax)
    v = values.iloc[::-1]
    hl = set(highlight)
    colors = [ACCENT if (not hl or k in hl) else LIGHT_GREY for k in v.index]
    ax.barh([str(i) for i in v.index], v.to_numpy(dtype=float), color=colors, height=0.6)
    span = float(np.nanmax(v.to_numpy(dtype=float))) if len(v) else 1.0
    for y, (k, x) in enumerate(v.items()):
        label = f" {x:,.0f}"
        if annotations is not None and k in annotations.index and annotations[k]:
            label += f" · {annotations[k]}"
        ax.text(x, y, label, va="center", fontsize=LABEL_PT)
    ax.set_xlim(0, span * 1.55 if span > 0 else 1)
    ax.set_xticks([])
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    note_values(ax, v)
    return ax


def stacked_shares(shares: pd.DataFrame, ax: Axes | None = None, *,
                   colors: dict[str, str] | None = None,
                   row_labels: Sequence[str] | None = None) -> Axes:
    """100% horizontal bars, one per row (first on top), one segment per column in column
    order, share labels inside segments of 6% or more; column names are written above the
    first bar instead of a legend. Default colours: :data:`RAG` for red/yellow/green
    columns (the red band in the accent), greys otherwise; labels inside a light segment are
    dark."""
    ax = _ax(ax)
    t = shares.fillna(0.0).iloc[::-1]
    colors = colors or {}
    y = np.arange(len(t))
    left = np.zeros(len(t))
    greys = [GREY, LIGHT_GREY, TEXT]
    for j, col in enumerate(t.columns):
        c = colors.get(col) or RAG.get(str(col)) or greys[j % len(greys)]
        w = t[col].to_numpy(dtype=float)
        ax.barh(y, w, left=left, color=c, height=0.62, edgecolor="white", linewidth=0.8)
        for i, (lft, width) in enumerate(zip(left, w, strict=True)):
            if width >= 0.06:
                ax.text(lft + width / 2, i, f"{width:.0%}", ha="center", va="center",
                        fontsize=LABEL_PT, color=TEXT if c == LIGHT_GREY else "white")
        first = w[-1] if len(w) else 0
        if first > 0:
            ax.text(left[-1] + first / 2, len(t) - 0.45, str(col), ha="center", va="bottom",
                    fontsize=LABEL_PT, color=GREY if c == LIGHT_GREY else c)
        left = left + w
    labels = list(row_labels)[::-1] if row_labels is not None else [str(i) for i in t.index]
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.5, len(t) - 0.1)
    ax.set_xticks([])
    for side in ("bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)
    note_values(ax, t.to_numpy(dtype=float).ravel())
    return ax
