"""House-style chart helpers: what a reader sees on the axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from playbook import charts  # noqa: E402


def test_monthly_trend_has_few_short_date_labels_and_direct_labels():
    months = pd.date_range("2024-10-31", periods=24, freq="ME")
    frame = pd.DataFrame({"NRR": [0.9 + i / 400 for i in range(24)],
                          "GRR": [0.85 + i / 800 for i in range(24)]}, index=months)
    fig, ax = plt.subplots(figsize=(7.0, 2.4))
    charts.trend_lines(frame, ax, highlight="NRR", reference=1.0)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert 3 <= len(labels) <= 8                       # not one label per quarter, crowded
    assert all(len(text) <= 7 for text in labels)      # "Oct", "2025", not "2025-01"
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["NRR 95.8%", "GRR 87.9%"]         # last values, no legend
    assert ax.get_legend() is None
    plt.close(fig)


def test_survival_labels_do_not_overlap_on_a_short_chart():
    rows = []
    for group, end in (("SMB", 0.27), ("Mid-market", 0.23), ("Enterprise", 0.91)):
        for m, surv in ((0, 1.0), (48, (1 + end) / 2), (96, end)):
            rows.append({"group": group, "months": m, "survival": surv, "ci_low": surv - 0.03,
                         "ci_high": surv + 0.03, "at_risk": 100})
    fig, ax = plt.subplots(figsize=(7.0, 2.4))
    charts.survival_curves(pd.DataFrame(rows), ax, highlight="Mid-market")
    fig.canvas.draw()
    boxes = sorted((t.get_window_extent() for t in ax.texts), key=lambda b: b.y0)
    assert [t.get_text() for t in sorted(ax.texts, key=lambda t: t.xy[1])] == [
        "Mid-market 23%", "SMB 27%", "Enterprise 91%"]
    for lower, upper in zip(boxes, boxes[1:], strict=False):
        assert lower.y1 <= upper.y0 + 0.5  # stacked, not overlapping (display pixels)
    plt.close(fig)


def test_money_labels_scale_to_billions_and_trillions():
    from playbook import textfmt as tf

    assert [tf.money(v) for v in (950, 1_500, 45_300, 1.24e6, 3.4e9, 2.7324e12)] == [
        "$950", "$1.5K", "$45K", "$1.2M", "$3.4B", "$2.7T"]
    assert tf.money(-2.5e9, "EUR") == "\u2212€2.5B"  # the minus sign, not a hyphen
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 2.5e12])
    charts.money_axis(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "$2.5T" in labels and not any("000000" in text for text in labels)
    plt.close(fig)


def test_money_ticks_keep_neighbouring_ticks_apart():
    """A narrow range ($8.4K-$9.4K) needs a decimal; a wide one does not; zero is $0."""
    from playbook.charts import MoneyTicks

    f = MoneyTicks("$")
    assert f.format_ticks([8400, 8600, 8800, 9000, 9200]) == [
        "$8.4K", "$8.6K", "$8.8K", "$9.0K", "$9.2K"]
    assert f.format_ticks([0, 1e6, 2e6, 3e6]) == ["$0", "$1M", "$2M", "$3M"]
    assert f.format_ticks([2.45e6, 2.50e6, 2.55e6]) == ["$2.45M", "$2.50M", "$2.55M"]
    assert f.format_ticks([-5000, 0, 5000]) == ["\u2212$5K", "$0", "$5K"]
    assert f.format_ticks([500, 750, 1000]) == ["$0.50K", "$0.75K", "$1.00K"]


def test_a_trend_label_does_not_round_a_rate_across_its_reference_line():
    """99.94% net revenue retention is below the 100% line: its label says 99.9%."""
    months = pd.date_range("2025-10-31", periods=12, freq="ME")
    frame = pd.DataFrame({"NRR": [0.98] * 11 + [0.9994], "GRR": [0.88] * 11 + [0.8871]},
                         index=months)
    fig, ax = plt.subplots(figsize=(7.0, 2.4))
    charts.trend_lines(frame, ax, highlight="NRR", reference=1.0)
    assert sorted(t.get_text() for t in ax.texts) == ["GRR 88.7%", "NRR 99.9%"]
    plt.close(fig)
