"""Numbers for executives (issue 24, item 12) and nothing raw (item 11), at their causes.

Every expected string here is written by hand from the figures in the test: money in tables
with its symbol and one unit per column, the minus sign (U+2212) instead of a hyphen, dates
as "30 Sep 2026", whole counts, parameters as a person writes them, ranges with equal ends
as one figure, and an n in every exhibit footer.
"""

from __future__ import annotations

import dataclasses
import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from playbook import charts
from playbook import textfmt as tf
from playbook.errors import GeneratedTextError
from playbook.exhibits import ExhibitBook, ExhibitSpec, table_html
from playbook.findings import quality as quality_story
from playbook.findings import revenue as revenue_story
from playbook.findings.segments import value as value_story
from playbook.quality import QualityLog
from playbook.recommendations import Recommendation, recommendations_html
from playbook.summary import key_figures

MINUS = "\u2212"


# --------------------------------------------------------------------------- money
@pytest.mark.parametrize(("values", "expected"), [
    # millions: the column's top is $2.97M (< $10M: two decimals), every cell in M
    ([2_967_895, 153_291, 66_930, None, 0],
     ["$2.97M", "$0.15M", "$0.07M", "\u2013", "$0"]),
    # millions above $10M: one decimal
    ([14_370_000, 1_260_000], ["$14.4M", "$1.3M"]),
    # thousands from $100K; an amount too small for the unit is "<$1K", never "$0K"
    ([840_000, 27_705, 150], ["$840K", "$28K", "<$1K"]),
    # below $100K: whole amounts with separators
    ([8_886, 1_021, 64], ["$8,886", "$1,021", "$64"]),
    # negative amounts carry the minus sign
    ([-1_940_000, 2_240_000], [f"{MINUS}$1.94M", "$2.24M"]),
])
def test_money_column_has_one_unit_and_the_symbol(values, expected):
    assert tf.money_column(values, "USD") == expected


def test_money_column_without_a_symbol_names_the_currency():
    assert tf.money_column([1_500_000, 250_000], "CHF") == ["1.50M CHF", "0.25M CHF"]


def test_money_sign_is_a_minus_not_a_hyphen():
    assert tf.money(-2_500_000) == f"{MINUS}$2.5M"
    assert tf.money(-950) == f"{MINUS}$950"
    assert tf.short_amount(-1_940_000) == f"{MINUS}1.9M"   # chart labels
    assert tf.short_amount(-45_300) == f"{MINUS}45K" and tf.short_amount(950) == "950"


def test_money_header_names_the_currency_once():
    assert tf.money_header("MRR (USD)") == ("MRR", "USD")
    assert tf.money_header("ARPA (USD/month)") == ("ARPA a month", "USD")
    assert tf.money_header("expected loss (EUR)") == ("expected loss", "EUR")
    assert tf.money_header("share of the base") is None
    assert tf.money_header("churn (cum.)") is None


def test_table_money_columns_carry_the_symbol_and_drop_the_code_from_the_header():
    frame = pd.DataFrame({"tier": ["high", "medium", "low"],
                          "MRR (USD)": [2_372_782, 1_847_255, 569_229],
                          "ARPA (USD/month)": [27_705, 6_697, 1_021]})
    out = table_html(frame, formats={"MRR (USD)": "{:,.0f}"})
    heads = re.findall(r"<th>([^<]*)</th>", out)
    assert heads == ["tier", "MRR", "ARPA a month"]
    cells = re.findall(r'<td class="num">([^<]*)</td>', out)
    assert cells == ["$2.37M", "$27,705", "$1.85M", "$6,697", "$0.57M", "$1,021"]
    assert "2,372,782" not in out and "(USD)" not in out


def test_table_negative_figures_use_the_minus_sign():
    frame = pd.DataFrame({"driver": ["a", "b"], "log-odds": [-0.967, 0.86],
                          "gap": [-1.94, 0.8], "share": [-0.05, 0.1]})
    out = table_html(frame, formats={"gap": "{:+.1f}", "share": "{:.0%}"})
    cells = re.findall(r'<td class="num">([^<]*)</td>', out)
    assert cells == [f"{MINUS}0.97", f"{MINUS}1.9", f"{MINUS}5%", "0.86", "+0.8", "10%"]
    assert not re.search(r"(?<![\w.])-\d", out)


def test_table_whole_number_floats_print_as_counts():
    frame = pd.DataFrame({"owner": ["a", "b"], "accounts": [7.0, 1_234.0]})
    cells = re.findall(r'<td class="num">([^<]*)</td>', table_html(frame))
    assert cells == ["7", "1,234"]


def test_recommendation_table_money_in_one_unit_with_the_symbol():
    recs = [Recommendation(1, "Launch", "VP", "High", 2_967_895.0, "60 days", "r",
                           mrr_exposed=6_029_929.0),
            Recommendation(2, "Save", "AM", "High", 153_291.0, "30 days", "r",
                           mrr_exposed=840_000.0),
            Recommendation(3, "Re-weight", "Ops", "Medium", None, "60 days", "r")]
    out = recommendations_html(recs, "USD")
    assert re.findall(r'<td class="num">([^<]*)</td>', out) == [
        "1", "$2.97M", "$6.03M", "2", "$0.15M", "$0.84M", "3", "\u2013", "\u2013"]
    assert "2,967,895" not in out and "(USD)" not in out


# --------------------------------------------------------------------------- signs, counts
def test_shares_points_and_gaps_use_the_minus_sign():
    assert tf.pct(-0.11) == f"{MINUS}11.0%"
    assert tf.pct(-0.0001) == "0.0%"         # rounds to zero: no sign
    assert tf.pct(0.05, signed=True) == "+5.0%"
    assert tf.points(-0.05) == f"{MINUS}5.0 pts"
    assert tf.number(-0.967, 2) == f"{MINUS}0.97"
    assert tf.signed(-4.0, 1, "FTE") == f"{MINUS}4.0 FTE"
    assert tf.signed(0.8, 1, "FTE") == "+0.8 FTE"
    assert tf.signed(0.01, 1, "FTE") == "0.0 FTE"


def test_counts_of_people_are_whole_numbers():
    assert tf.count(7.0) == "7"
    assert tf.plural(7.0, "owner") == "7 owners"
    assert tf.plural(1, "warning") == "1 warning"
    assert tf.plural(1_234, "row") == "1,234 rows"
    assert tf.noun(2, "column") == "columns" and tf.noun(1, "column") == "column"


def test_csm_key_figure_says_which_way_the_gap_points():
    """A signed "CSM gap −4.0 FTE" read as a shortage: the label names the direction and
    the value carries no sign (required 8, current 12: 4 spare; 12 and 9.5: 2.5 short)."""
    from playbook.facts import Facts

    fields = {f.name: None for f in dataclasses.fields(Facts)
              if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    base = dataclasses.replace(Facts(**fields), currency="USD", as_of="2026-09-30",
                               mrr=6_200_000.0)

    def shown(required, current):
        facts = dataclasses.replace(base, csm_required=required, csm_current=current)
        return {k.label: (k.value, k.note) for k in key_figures(facts)}

    spare = shown(8.0, 12.0)
    assert spare["Spare CSM capacity"] == ("4.0 FTE", "fewer CSMs required than staffed")
    assert not any(label.startswith("CSM") for label in spare)
    assert spare["MRR"] == ("$6.2M", "at 30 Sep 2026")
    assert shown(12.0, 9.5)["CSM shortfall"] == ("2.5 FTE", "more CSMs required than staffed")
    assert shown(10.02, 10.0)["CSM capacity"][0] == "balanced"
    assert not any("CSM" in label for label in shown(None, 10.0))


# --------------------------------------------------------------------------- dates
def test_one_date_format():
    assert tf.date("2026-09-30") == "30 Sep 2026"
    assert tf.date(pd.Timestamp("2026-09-05")) == "5 Sep 2026"
    assert tf.date_time("2026-12-05 08:12") == "5 Dec 2026, 08:12"
    assert tf.month("2026-09-30") == "Sep 2026"
    assert tf.date(None) == "n/a" and tf.date(None, missing="") == ""


# --------------------------------------------------------------------------- raw values
@pytest.mark.parametrize(("value", "expected"), [
    (None, "none"), ("", "\u2013"), ([], "\u2013"),
    (["cheaper", "expensive", "price"], "cheaper, expensive, price"),
    ({"red": 50, "yellow": 75}, "red: 50; yellow: 75"),
    (True, "yes"), (False, "no"), (5.0, "5"), (0.25, "0.25"), (-3, f"{MINUS}3"),
    ("2026-09-30", "30 Sep 2026"), ("Go-live", "Go-live"),
])
def test_parameter_values_are_written_for_people(value, expected):
    assert tf.param_value(value) == expected


def test_a_range_with_equal_ends_is_one_figure():
    assert tf.span(1.0, 1.0) == "100.0%"
    assert tf.span(0.5, 1.0, lambda v: tf.pct(v, 0)) == "50%\u2013100%"


def test_cohort_title_with_equal_ends_states_one_figure():
    logo = pd.DataFrame({12: [1.0, 1.0]}, index=["2023Q1", "2023Q2"])
    sizes = pd.DataFrame({"accounts": [40, 40], "left_censored": [False, False]},
                         index=logo.index)
    title = revenue_story.cohort_title(logo, sizes)
    assert "Between" not in title
    assert title.startswith("100% of each quarter's new customers")


def test_surprises_title_without_lost_mrr_is_built_without_the_figure():
    title = revenue_story.surprises_title(
        {"surprises": 279, "scored_churns": 284, "lost_mrr": None}, "USD")
    assert title.startswith("279 of 284 ") and "n/a" not in title and "MRR" not in title
    with_mrr = revenue_story.surprises_title(
        {"surprises": 3, "scored_churns": 10, "lost_mrr": 45_300.0}, "USD")
    assert with_mrr.endswith(", $45K of MRR lost without warning")


def test_quality_titles_have_no_plural_placeholder():
    log = QualityLog()
    for i in range(2):
        log.add("churn_events", "warning", f"blank reason {i}", count=3,
                affects=["churn_reasons"])
    log.add("surveys", "info", "1 column not used: Survey", count=1)
    title = quality_story.notes_title(log)
    assert "(s)" not in title
    assert title.startswith("2 warnings about rows set aside")
    one = QualityLog()
    one.add("churn_events", "warning", "blank reason", count=3, affects=["churn_reasons"])
    assert quality_story.notes_title(one).startswith("1 warning about")
    assert " weakens the findings" in quality_story.notes_title(one)


# --------------------------------------------------------------------------- exhibit n
def test_every_exhibit_footer_carries_n_and_what_it_counts():
    book = ExhibitBook()
    out = book.html(pd.DataFrame({"a": [1]}), title="All 11 tables loaded", subtitle="s",
                    source="the loader", n=11, n_of="tables")
    foot = re.search(r'<figcaption class="source">(.*?)</figcaption>', out).group(1)
    assert foot == "Source: the loader; n = 11 tables"
    plain = book.html(pd.DataFrame({"a": [1]}), title="t", subtitle="s", source="mrr",
                      n=1_089)
    assert "Source: mrr; n = 1,089</figcaption>" in plain


def test_an_exhibit_without_n_is_refused():
    with pytest.raises(TypeError):
        ExhibitSpec(pd.DataFrame(), "title", "subtitle", "source")  # type: ignore[call-arg]
    with pytest.raises(GeneratedTextError, match="has no n"):
        ExhibitBook().html("<p>x</p>", title="t", subtitle="s", source="src",
                           n=None)  # type: ignore[arg-type]


def test_an_exhibit_title_with_n_a_is_refused():
    with pytest.raises(GeneratedTextError, match="n/a"):
        ExhibitBook().html("<p>x</p>", title="279 lost customers, n/a of MRR", subtitle="s",
                           source="src", n=3)


def test_quality_exhibits_have_their_n():
    log = QualityLog()
    log.add("accounts", "problem", "contradiction", count=4, affects=["retention"])
    log.add("churn_events", "warning", "blank", count=3, affects=["churn_reasons"])
    log.add("surveys", "info", "unused column", count=1)
    contradictions = quality_story.contradictions_exhibit(log)
    notes = quality_story.notes_exhibit(log)
    assert (contradictions.n, contradictions.n_of) == (1, "contradiction")
    assert (notes.n, notes.n_of) == (2, "notes")


def test_pyramid_title_without_mrr_shares_is_built_without_the_figure():
    conc = pd.DataFrame({"accounts": [11, 89], "share_accounts": [0.11, 0.89],
                         "share_mrr": [float("nan"), float("nan")]},
                        index=pd.Index(["high", "low"], name="tier"))
    title = value_story.pyramid_title(conc)
    assert "n/a" not in title
    assert title.startswith("The top 11% of accounts form the high tier")


def test_money_axis_puts_the_minus_sign_before_the_symbol():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [-2e6, 3e6])
    charts.money_axis(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)
    # round ticks are written exactly, without a decimal they do not need
    assert f"{MINUS}$2M" in labels and "$2M" in labels
    assert not any(t.startswith("$") and MINUS in t for t in labels)
