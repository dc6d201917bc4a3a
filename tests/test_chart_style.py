"""Chart style as printed: every chart helper, drawn at its report size and placed on the page
as the print CSS places it, prints no text under 8 pt and uses at most one colour besides
greys (the accent, in its shades)."""

from __future__ import annotations

import colorsys
import re
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from playbook import charts  # noqa: E402
from playbook.exhibits import figure_svg  # noqa: E402

CSS = Path(__file__).resolve().parents[1] / "templates" / "playbook" / "static" / "report.css"
A4_WIDTH_MM, A4_HEIGHT_MM = 210.0, 297.0
PT_PER_MM = 72 / 25.4
FLOOR_PT = 8.0


def _print_rule(css: str, selector: str) -> dict[str, str]:
    """Declarations of ``selector`` inside ``@media print`` (the last rule wins)."""
    media = css[css.index("@media print"):]
    decls: dict[str, str] = {}
    for body in re.findall(rf"(?m)^\s*{re.escape(selector)}\s*\{{([^}}]*)\}}", media):
        for decl in body.split(";"):
            if ":" in decl:
                key, value = decl.split(":", 1)
                decls[key.strip()] = value.strip()
    return decls


def _page_content_box(css: str) -> tuple[float, float]:
    """Width and height (pt) inside the ``@page`` margins of an A4 page."""
    margin = re.search(r"@page\s*\{[^@]*?margin:\s*([^;]+);", css).group(1).split()
    top, right, bottom, left = (float(m.removesuffix("mm")) for m in margin)
    return ((A4_WIDTH_MM - left - right) * PT_PER_MM,
            (A4_HEIGHT_MM - top - bottom) * PT_PER_MM)


def _length_pt(value: str, reference_pt: float) -> float:
    """A CSS length (``92%``, ``110mm``, ``none``/``auto``) in points."""
    if value.endswith("%"):
        return reference_pt * float(value[:-1]) / 100
    if value.endswith("mm"):
        return float(value[:-2]) * PT_PER_MM
    return float("inf")


def printed_scale(svg: str) -> float:
    """How much the print CSS scales this SVG on an A4 page: its own size in pt (width and
    height attributes) capped by the ``svg.chart`` rule's max-width / max-height."""
    css = CSS.read_text(encoding="utf-8")
    rule = _print_rule(css, "svg.chart")
    col_w, col_h = _page_content_box(css)
    root = re.search(r"<svg[^>]*>", svg).group(0)
    width = re.search(r'\swidth="([\d.]+)pt"', root)
    height = re.search(r'\sheight="([\d.]+)pt"', root)
    view = [float(v) for v in re.search(r'viewBox="([^"]+)"', root).group(1).split()]
    if width is None or rule.get("width", "auto") != "auto":
        # no natural size (or a forced CSS width): the SVG fills the column up to max-width
        shown_w = min(col_w, _length_pt(rule.get("max-width", "100%"), col_w))
        shown_h = shown_w * view[3] / view[2]
    else:
        shown_w, shown_h = float(width.group(1)), float(height.group(1))
        shown_w = min(shown_w, _length_pt(rule.get("max-width", "none"), col_w))
        shown_h = shown_w * view[3] / view[2]
    cap_h = _length_pt(rule.get("max-height", "none"), col_h)
    if shown_h > cap_h:
        shown_w *= cap_h / shown_h
    return shown_w / view[2]  # pt on paper per SVG user unit


def font_sizes(svg: str) -> list[float]:
    """The font size of every text element of the SVG, in SVG user units."""
    sizes = [float(s) for s in re.findall(r"font:\s*(?:[a-z]+\s+)*([\d.]+)px", svg)]
    sizes += [float(s) for s in re.findall(r"font-size[:=]\s*\"?([\d.]+)", svg)]
    return sizes


def _hue(hex_colour: str) -> float | None:
    """None for greys, black and white; else the hue in degrees."""
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    if s < 0.12 or v < 0.1:
        return None
    return h * 360


def colour_families(svg: str) -> list[list[float]]:
    """The non-grey colours of the SVG grouped by hue: shades of one colour (hues within
    25 degrees of the next) make one family."""
    body = svg[svg.find("</metadata>"):]
    colours = re.findall(r"(?:fill|stroke|color)[:=]\s*\"?(#[0-9a-fA-F]{6})", body)
    hues = sorted({h for c in colours if (h := _hue(c)) is not None})
    families: list[list[float]] = []
    for h in hues:
        if families and h - families[-1][-1] <= 25:
            families[-1].append(h)
        else:
            families.append([h])
    if len(families) > 1 and families[0][0] + 360 - families[-1][-1] <= 25:  # red wraps
        families[0] = families.pop() + families[0]
    return families


# --------------------------------------------------------------------------- charts


def _months(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2024-10-31", periods=n, freq="ME")


def _forest_table(rows: int) -> pd.DataFrame:
    est = np.linspace(0.4, 2.3, rows)
    return pd.DataFrame({"odds_ratio": est, "ci_low": est * 0.8, "ci_high": est * 1.25,
                         "label": [f"Driver number {i} (each)" for i in range(rows)]})


def _survival() -> pd.DataFrame:
    rows = []
    for group, end in (("SMB", 0.3), ("Mid-market", 0.29), ("Enterprise", 0.26)):
        for m, surv in ((0, 1.0), (6, (1 + end) / 2), (14, end)):
            rows.append({"group": group, "months": m, "survival": surv, "ci_low": surv - 0.05,
                         "ci_high": surv + 0.05, "at_risk": 100})
    return pd.DataFrame(rows)


def _reasons() -> pd.DataFrame:
    return pd.DataFrame({"Enterprise": [0.87, 0.0, 0.13], "Mid-market": [0.10, 0.24, 0.19],
                         "SMB": [0.06, 0.25, 0.17]},
                        index=["Champion left", "Price", "Missing features"])


#: (name, figure height in inches as the findings ask for it, drawing function)
CHARTS: list[tuple[str, float, Callable]] = [
    ("waterfall", 2.7, lambda ax: charts.waterfall(pd.Series(
        [5.78e6, 4.0e5, 1.33e5, 6e3, -3.4e4, -1.26e5, 6.16e6],
        index=["Start MRR", "New", "Expansion", "Reactivation", "Contraction", "Churn",
               "End MRR"]), ax)),
    ("trend_lines", 2.4, lambda ax: charts.trend_lines(pd.DataFrame(
        {"NRR": np.linspace(0.9, 0.985, 24), "GRR": np.linspace(0.84, 0.89, 24)},
        index=_months(24)), ax, highlight="NRR", reference=1.0)),
    ("sorted_bars", 3.6, lambda ax: charts.sorted_bars(pd.Series(
        [97e3, 93e3, 80e3, 63e3, 16e3, 3e3],
        index=["Champion left", "Price", "Missing features", "Competitor", "(blank)", "Other"]),
        ax, symbol="$")),
    ("rates_with_intervals", 0.28 * 5 + 0.9, lambda ax: charts.rates_with_intervals(
        pd.DataFrame({"group": ["< 6 months", "6-12 months", "1-2 years", "2-3 years", "3+"],
                      "rate": [0.0, 0.21, 0.07, 0.05, 0.14], "low": [0.0, 0.16, 0.05, 0.02, 0.11],
                      "high": [0.02, 0.27, 0.11, 0.09, 0.18], "n": [180, 204, 287, 184, 12],
                      "too_small": [False, False, False, False, True]}), ax, overall=0.10)),
    ("cohort_heatmap", 0.26 * 11 + 0.9, lambda ax: charts.cohort_heatmap(
        pd.DataFrame(np.triu(np.full((11, 12), 0.85))[:, ::-1].clip(0, 1),
                     index=[f"2024Q{i}" for i in range(11)], columns=range(0, 36, 3)).replace(
            0, np.nan), ax, sizes=pd.Series(90, index=[f"2024Q{i}" for i in range(11)]))),
    ("share_heatmap", 0.28 * 3 + 1.0, lambda ax: charts.share_heatmap(
        _reasons(), ax, column_labels=["Enterprise\n(n=3, too small)", "Mid-market\n(n=67)",
                                       "SMB\n(n=73)"], muted=["Enterprise"])),
    ("forest", 0.3 * 14 + 0.9, lambda ax: charts.forest(_forest_table(14), ax,
                                                        label_col="label")),
    ("pyramid", 1.7, lambda ax: charts.pyramid(pd.DataFrame(
        {"share_accounts": [0.1, 0.3, 0.6], "share_mrr": [0.5, 0.3, 0.2]},
        index=["high", "medium", "low"]), ax)),
    ("paired_bars", 1.6, lambda ax: charts.paired_bars(pd.DataFrame(
        {"current": [3.0, 2.0], "required": [3.8, 1.2]}, index=["high", "low"]), ax,
        first="current", second="required", labels=("now", "needed"))),
    ("survival_curves", 2.4, lambda ax: charts.survival_curves(_survival(), ax,
                                                                 highlight="Enterprise")),
    ("calibration", 2.9, lambda ax: charts.calibration(pd.DataFrame(
        {"mean_predicted": np.linspace(0.55, 0.95, 10),
         "observed_rate": np.linspace(0.5, 0.97, 10),
         "ci_low": np.linspace(0.45, 0.93, 10), "ci_high": np.linspace(0.52, 0.99, 10)}), ax)),
    ("lift_bars", 2.1, lambda ax: charts.lift_bars(pd.DataFrame(
        {"decile": range(1, 11),
         "event_rate": [0.91, 0.86, 0.79, 0.82, 0.83, 0.83, 0.85, 0.86, 0.92, 0.91]}), ax,
        overall=0.86)),
    ("tornado", 2.0, lambda ax: charts.tornado(pd.DataFrame(
        {"worse": [5.5e6, 5.9e6], "better": [6.8e6, 6.3e6]}, index=["Churn", "Expansion"]),
        ax, base=6.1e6)),
    ("ordered_bars", 0.3 * 5 + 0.6, lambda ax: charts.ordered_bars(pd.Series(
        [40, 300, 500, 200, 104],
        index=["Onboarding", "Adoption", "Mature", "Renewal due", "At risk"]), ax,
        annotations=pd.Series({"Onboarding": "12 over 120 days"}))),
    ("stacked_shares", 0.34 * 3 + 0.6, lambda ax: charts.stacked_shares(pd.DataFrame(
        {"red": [0.2, 0.1, 0.3], "yellow": [0.3, 0.4, 0.3], "green": [0.5, 0.5, 0.4]},
        index=["SMB", "Mid-market", "Enterprise"]), ax)),
]


@pytest.fixture(scope="module", params=CHARTS, ids=[c[0] for c in CHARTS])
def chart_svg(request) -> str:
    _name, height, draw = request.param
    fig, ax = charts.new_figure(height)
    draw(ax)
    return figure_svg(fig)


def test_every_text_prints_at_8pt_or_more(chart_svg):
    scale = printed_scale(chart_svg)
    sizes = font_sizes(chart_svg)
    assert sizes, "no text found in the SVG"
    assert min(sizes) * scale >= FLOOR_PT - 0.05, (
        f"smallest text prints at {min(sizes) * scale:.1f} pt (scale {scale:.2f})")


def test_one_accent_colour_and_greys(chart_svg):
    families = colour_families(chart_svg)
    assert len(families) <= 1, f"{len(families)} colours besides greys (hues): {families}"


def test_printed_scale_reads_the_css_and_the_svg_size():
    """The helper itself: a 468 pt wide SVG prints at its own size in a 493 pt column; a
    700 pt one is scaled down to the column (here by hand: A4 210 mm - 2 x 18 mm)."""
    column = (210 - 36) * 72 / 25.4
    small = '<svg class="chart" width="468pt" height="200pt" viewBox="0 0 468 200">'
    wide = '<svg class="chart" width="700pt" height="200pt" viewBox="0 0 700 200">'
    assert printed_scale(small) == pytest.approx(1.0)
    assert printed_scale(wide) == pytest.approx(column / 700, rel=1e-3)


def test_a_chart_of_only_zeros_has_nothing_to_show():
    """Six $0 bars say nothing: the figure is flagged, so the exhibit becomes one line."""
    from playbook.chart_fit import nothing_to_show
    from playbook.exhibits import ExhibitBook

    fig, ax = charts.new_figure(2.0)
    charts.sorted_bars(pd.Series(0.0, index=list("abcdef")), ax, symbol="$")
    assert nothing_to_show(fig)
    html = ExhibitBook().html(fig, title="No lost MRR is recorded", subtitle="s", source="x",
                              n=6)
    assert "<svg" not in html and "zero or missing" in html
    fig2, ax2 = charts.new_figure(2.0)
    charts.sorted_bars(pd.Series([0.0, 0.0, 5.0], index=list("abc")), ax2, symbol="$")
    assert not nothing_to_show(fig2)


@pytest.mark.parametrize("gap", [0.0, 0.002, 0.008])
def test_trend_end_labels_of_close_series_do_not_overlap(gap):
    """NRR and GRR ending within a point of each other: their end labels are moved apart
    (bounding boxes on the drawn figure do not intersect), the NRR label stays above."""
    months = _months(24)
    frame = pd.DataFrame({"NRR": np.linspace(0.95, 0.99 + gap, 24),
                          "GRR": np.linspace(0.93, 0.99, 24)}, index=months)
    fig, ax = charts.new_figure(2.4)
    charts.trend_lines(frame, ax, highlight="NRR", reference=1.0)
    fig.canvas.draw()
    boxes = {t.get_text().split()[0]: t.get_window_extent() for t in ax.texts}
    assert set(boxes) == {"NRR", "GRR"}
    assert not boxes["NRR"].overlaps(boxes["GRR"])
    if gap:
        assert boxes["NRR"].y0 >= boxes["GRR"].y1 - 0.5
    plt.close(fig)


def test_lift_chart_average_label_clear_of_the_value_labels():
    """The "average" label of the lift bars never sits on a bar's value label."""
    fig, ax = charts.new_figure(2.1)
    charts.lift_bars(pd.DataFrame({"decile": range(1, 11), "event_rate": [
        0.91, 0.86, 0.79, 0.82, 0.83, 0.83, 0.85, 0.86, 0.92, 0.91]}), ax, overall=0.86)
    fig.canvas.draw()
    average = next(t for t in ax.texts if "average" in t.get_text()).get_window_extent()
    for t in ax.texts:
        if "average" not in t.get_text():
            assert not average.overlaps(t.get_window_extent()), t.get_text()
            # a value label the average line crosses is on white: the line never strikes it
            patch = t.get_bbox_patch()
            assert patch is not None and patch.get_facecolor()[:3] == (1.0, 1.0, 1.0)
            assert t.get_zorder() > max(line.get_zorder() for line in ax.lines)
    line_end = max(ax.transData.transform(xy)[0] for line in ax.lines
                   for xy in line.get_xydata())
    assert line_end <= average.x0  # the dashed line stops before its label
    plt.close(fig)


def _events(lost_mrr: list[float | None]) -> pd.DataFrame:
    reasons_ = ["budget", "features", "features", "support", "unknown", "budget", "features"]
    return pd.DataFrame({"account_id": list("abcdefg"), "reason_code": reasons_,
                         "lost_mrr": lost_mrr, "churn_date": pd.Timestamp("2024-02-01"),
                         "reason_text": None})


def test_pareto_without_lost_mrr_draws_logos_only_and_no_red():
    """RavenStack records no lost MRR: the Pareto is the logo bars alone (no panel of six
    $0 bars), uninformative reasons muted in grey italics, never red."""
    from playbook.analyses import reasons
    from playbook.findings import revenue as story

    pareto = reasons.reason_pareto(_events([None] * 7), uninformative=["unknown"])
    spec = story.reason_pareto(pareto, "USD", 0.6)
    texts = [t.get_text() for ax in spec.content.axes for t in ax.texts]
    assert len(spec.content.axes) == 1
    assert not any("$0" in t for t in texts)
    assert sorted(texts) == sorted(f"{n:,}" for n in (3, 2, 1, 1))  # logos by hand
    ticks = {t.get_text(): t for t in spec.content.axes[0].get_yticklabels()}
    assert ticks["unknown"].get_fontstyle() == "italic"
    assert "red" not in spec.notes
    svg = figure_svg(spec.content)
    assert len(colour_families(svg)) <= 1


def test_segment_heatmap_keeps_the_accent_off_groups_too_small_to_judge():
    """The too-small segment's cells (87% in the demo) are shaded grey, not in the accent."""
    fig, ax = charts.new_figure(1.8)
    charts.share_heatmap(_reasons(), ax, muted=["Enterprise"])
    fig.canvas.draw()
    cells = [c for c in ax.collections if hasattr(c, "get_facecolors")]
    enterprise_colours = []
    for mesh in cells:
        faces = mesh.get_facecolors()
        arr = mesh.get_array()
        if arr is None or len(faces) != 9:
            continue
        mask = np.ma.getmaskarray(arr).reshape(3, 3)
        rgb = faces.reshape(3, 3, 4)[:, 0, :3]
        enterprise_colours += [tuple(c) for c, m in zip(rgb, mask[:, 0], strict=True) if not m]
    assert len(enterprise_colours) == 3
    for r, g, b in enterprise_colours:
        assert max(r, g, b) - min(r, g, b) < 0.06, (r, g, b)  # a grey, no hue
    plt.close(fig)


def test_a_table_column_with_no_value_is_left_out_and_said():
    """RavenStack's surprise table had an owner and a lost-MRR column of dashes only: the
    columns are left out of the table and named in the footer."""
    from playbook.exhibits import ExhibitBook

    frame = pd.DataFrame({"account": ["A", "B"], "owner": [None, "\u2013"],
                          "lost MRR (USD)": [np.nan, pd.NA], "health": [80, 100]})
    html = ExhibitBook().html(frame, title="Two surprises", subtitle="s", source="x", n=2,
                              notes="A note.")
    head = re.search(r"<thead>.*?</thead>", html, re.S).group(0)
    assert "account" in head and "health" in head
    assert "owner" not in head and "lost MRR" not in head
    assert "A note. Left out, no value to show: owner, lost MRR (USD)" in html
    assert "–" not in re.search(r"<tbody>.*?</tbody>", html, re.S).group(0)


def test_pareto_of_only_uninformative_reasons_puts_no_accent_on_them():
    """ChurnSim: every churn reason is 'unknown'. The accent marks findings; an
    uninformative reason is none, so no bar takes it (it used to fall on the largest)."""
    from playbook.analyses import reasons
    from playbook.findings import revenue as story

    events = _events([10.0] * 7).assign(reason_code="unknown")
    pareto = reasons.reason_pareto(events, uninformative=["unknown"])
    spec = story.reason_pareto(pareto, "USD", 0.6)
    assert colour_families(figure_svg(spec.content)) == []


def test_negative_chart_labels_use_the_minus_sign_of_the_text():
    """A chart's direct labels write a negative figure as the report's sentences do
    (U+2212, never a hyphen), and a figure that rounds to zero without a sign."""
    values = pd.Series({"gained": 0.12, "lost": -0.053, "flat": -0.001})
    ax = charts.sorted_bars(values, plt.subplots()[1], percent=True)
    labels = sorted(t.get_text() for t in ax.texts)
    assert labels == ["0%", "12%", "\u22125%"]
    plt.close(ax.figure)
    money = pd.Series({"up": 1200.0, "down": -3400.0, "none": -0.2})
    ax = charts.sorted_bars(money, plt.subplots()[1], symbol="$")
    assert sorted(t.get_text() for t in ax.texts) == ["$0", "$1K", "\u2212$3K"]
    plt.close(ax.figure)
    ax = charts.sorted_bars(pd.Series({"a": -1234.0, "b": 5.0}), plt.subplots()[1])
    assert sorted(t.get_text() for t in ax.texts) == ["5", "\u22121,234"]
    plt.close(ax.figure)
