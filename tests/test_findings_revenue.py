"""Action titles and sentences of the revenue section: the wording rules, and never "nan"."""

import math

import pandas as pd

from playbook.findings import metrics as metrics_story
from playbook.findings import revenue as story

SUMMARY = {"start_month": "2026-07-01", "end_month": "2026-09-01", "start_mrr": 700_000.0,
           "end_mrr": 760_000.0, "new": 35_000.0, "expansion": 75_000.0, "reactivation": 0.0,
           "contraction": 10_000.0, "churn": 40_000.0, "lost_mrr": 50_000.0,
           "gross_mrr_churn": 50_000 / 700_000, "net_mrr_churn": -25_000 / 700_000,
           "start_logos": 100}


def test_bridge_title_calls_negative_net_churn_good():
    title = story.bridge_title(SUMMARY, "USD")
    # a minus sign, never a hyphen
    assert title.startswith("Expansion outgrew losses in Jul to Sep 2026: net MRR churn was "
                            "\u22123.6%")
    assert "(negative is good)" in title and "$50K leaked" in title


def test_bridge_title_for_positive_and_missing_net_churn():
    worse = SUMMARY | {"expansion": 10_000.0, "net_mrr_churn": 40_000 / 700_000}
    assert story.bridge_title(worse, "USD") == (
        "$50K of MRR leaked to churn and contraction in Jul to Sep 2026, 7.1% of starting "
        "MRR; net MRR churn was 5.7%")
    unknown = SUMMARY | {"net_mrr_churn": math.nan}
    title = story.bridge_title(unknown, "USD")
    assert "nan" not in title.lower() and "$50K" in title
    assert title.startswith("In Jul to Sep 2026, ")


def test_bridge_title_names_months_across_a_year_end_and_a_single_month():
    winter = SUMMARY | {"start_month": "2025-11-01", "end_month": "2026-01-01"}
    assert "losses in Nov 2025 to Jan 2026:" in story.bridge_title(winter, "USD")
    one = SUMMARY | {"start_month": "2026-09-01", "end_month": "2026-09-01"}
    assert "losses in Sep 2026:" in story.bridge_title(one, "USD")


def test_bridge_sentence_says_negative_is_good():
    text = story.bridge_sentence(SUMMARY, "USD")
    assert "from $700K to $760K over Jul 2026 to Sep 2026" in text
    assert "negative, which is good" in text


def pareto(shares, uninformative=None):
    n = len(shares)
    return pd.DataFrame({"reason": [f"R{i}" for i in range(n)], "share_lost_mrr": shares,
                         "uninformative": uninformative or [False] * n,
                         "logos": [1] * n, "lost_mrr": shares})


def test_pareto_says_concentrated_only_above_the_threshold():
    assert story.pareto_title(pareto([0.4, 0.2, 0.1, 0.3]), 0.6).startswith(
        "Churn is concentrated: three reasons (R0, R1, R2) explain 70%")
    assert story.pareto_title(pareto([0.3, 0.15, 0.1, 0.45]), 0.6).startswith(
        "Churn is spread across reasons: the top three (R0, R1, R2) explain only 55%")


def test_pareto_skips_uninformative_reasons_and_handles_all_blank():
    p = pareto([0.5, 0.3, 0.1, 0.1], uninformative=[True, False, False, False])
    assert "(R1, R2, R3)" in story.pareto_title(p, 0.6)
    all_blank = pareto([1.0], uninformative=[True])
    assert story.pareto_title(all_blank, 0.6).startswith("No churn reason was recorded")


def test_uninformative_sentence_flags_capture_problem_above_threshold():
    share = {"events": 50, "uninformative_events": 15, "share_events": 0.3,
             "uninformative_lost_mrr": 12_000.0, "lost_mrr": 40_000.0}
    text = story.uninformative_sentence(share, "USD", 0.2)
    assert text.startswith("30% of churn events (15 of 50) carry no usable reason")
    assert "hiding $12K of lost MRR" in text and "data-capture problem" in text
    # churn events that record no lost MRR hide nothing we can count: no "$0"
    unrecorded = story.uninformative_sentence(share | {"lost_mrr": 0.0,
                                                       "uninformative_lost_mrr": 0.0}, "USD", 0.2)
    assert "hiding" not in unrecorded and "$0" not in unrecorded
    below = story.uninformative_sentence(share | {"share_events": 0.1}, "USD", 0.2)
    assert "data-capture problem" not in below
    assert story.uninformative_sentence({"events": 0}, "USD", 0.2).startswith("No churn")


def rate_table(rows, small=()):
    t = pd.DataFrame(rows, columns=["group", "n", "rate"]).set_index("group")
    t["too_small"] = [g in small for g in t.index]
    return t.sort_values("rate", ascending=False)


def test_churn_by_variable_title_wording_and_small_or_missing_groups():
    t = rate_table([("A", 100, 0.2), ("B", 10, 0.5), ("(missing)", 50, 0.0), ("C", 80, 0.05)],
                   small=("B",))
    sig = story.churn_by_variable_title(t, "industry", {"significant": True})
    assert sig == "Churn differs by industry: A churns at 20% against 5% for C"
    not_sig = story.churn_by_variable_title(t, "industry", {"significant": False})
    assert not_sig == "Churn does not differ significantly by industry (5% to 20%)"


def test_variables_summary_lists_the_variables_that_differ():
    cuts = {
        "industry": {"table": rate_table([("A", 100, 0.2), ("C", 80, 0.05)]),
                     "test": {"significant": True, "p_value": 0.01}},
        "region": {"table": rate_table([("X", 100, 0.1), ("Y", 90, 0.09)]),
                   "test": {"significant": False, "p_value": 0.8}},
    }
    table, title = story.variables_summary(cuts)
    assert title == "Churn differs significantly by 1 of 2 variables: industry"
    assert table.set_index("variable").loc["region", "verdict"] == "no significant difference"
    assert table.set_index("variable").loc["industry", "highest"] == "A (20%)"


def test_segment_reasons_title_groups_segments_sharing_a_reason():
    t = pd.DataFrame({"segment": ["Ent", "Ent", "SMB", "Mid", "Tiny"],
                      "reason": ["Champion left", "Price", "Price", "Price", "Support"],
                      "share_lost_mrr": [0.5, 0.2, 0.6, 0.4, 0.9],
                      "too_small": [False, False, False, False, True]})
    assert story.segment_reasons_title(t) == (
        "The leading reason differs by segment: price in SMB and Mid; champion left in Ent")


def test_segment_reasons_title_says_when_a_segment_was_too_small_to_judge():
    t = pd.DataFrame({"segment": ["Ent", "SMB", "Mid", "Mid"],
                      "reason": ["Champion left", "Price", "Price", "Other"],
                      "share_lost_mrr": [0.9, 0.6, 0.4, 0.5],
                      "too_small": [True, False, False, False]})
    assert story.segment_reasons_title(t) == (
        "Price is the top reason in every segment large enough to judge (2 of 3)")
    judged = t.assign(too_small=False).query("segment != 'Ent'")
    assert story.segment_reasons_title(judged) == "Price is the top reason in every segment"


def test_p_value_in_a_sentence():
    from playbook import textfmt as tf

    assert (tf.p_is(0.0004), tf.p_is(0.0321), tf.p_is(None)) == (
        "p < 0.001", "p = 0.032", "p n/a")


def test_surprises_title():
    assert story.surprises_title({"surprises": 3, "scored_churns": 40, "lost_mrr": 9000.0},
                                 "USD") == ("3 of 40 non-renewals looked healthy 90 days "
                                            "before, $9.0K of MRR lost without warning")
    # an account that failed several renewals is one customer: decisions and customers differ
    assert story.surprises_title({"surprises": 5, "accounts": 2, "scored_churns": 40,
                                  "lost_mrr": None}, "USD") == (
        "5 of 40 non-renewals (2 customers) looked healthy 90 days before")
    assert story.surprises_title({"surprises": 0, "scored_churns": 40, "lost_mrr": 0.0},
                                 "USD").startswith("No customer left while looking healthy")


def test_pvalue_format():
    from playbook import textfmt as tf

    assert (tf.pvalue(0.0321), tf.pvalue(0.0000004), tf.pvalue(math.nan)) == (
        "0.032", "< 0.001", "n/a")


def test_strongest_differences_orders_significant_cuts_by_effect_size():
    cuts = {"a": {"test": {"significant": True, "cramers_v": 0.1}},
            "b": {"test": {"significant": False, "cramers_v": 0.9}},
            "c": {"test": {"significant": True, "cramers_v": 0.3}}}
    assert [label for label, _ in story.strongest_differences(cuts)] == ["c", "a"]


def test_pareto_without_lost_mrr_ranks_by_logos_and_never_says_nan():
    p = pd.DataFrame({"reason": ["A", "B", "C", "D"], "logos": [5, 3, 1, 1],
                      "share_logos": [0.5, 0.3, 0.1, 0.1], "lost_mrr": [0.0] * 4,
                      "share_lost_mrr": [math.nan] * 4, "cum_share_lost_mrr": [math.nan] * 4,
                      "uninformative": [False] * 4})
    title = story.pareto_title(p, 0.6)
    assert title == ("No lost MRR is recorded with the churn events; by logos, the top three "
                     "reasons (A, B, C) account for 90%")
    spec = story.reason_pareto(p, "USD", 0.6)
    from playbook.exhibits import figure_svg
    assert "nan" not in figure_svg(spec.content).lower().replace("nanum", "")


def test_revenue_cohort_title_of_one_cohort_is_its_figure_not_a_range():
    rev = pd.DataFrame({0: [1.0], 12: [0.79]}, index=["2021Q2"])
    sizes = pd.DataFrame({"left_censored": [False]}, index=["2021Q2"])
    title = story.revenue_cohort_title(rev, sizes)
    assert title == ("The one cohort with a year of history kept 79% of its starting MRR "
                     "after 12 months")
    two = pd.DataFrame({0: [1.0, 1.0], 12: [0.79, 1.10]}, index=["2021Q2", "2021Q3"])
    sizes2 = pd.DataFrame({"left_censored": [False, False]}, index=["2021Q2", "2021Q3"])
    assert story.revenue_cohort_title(two, sizes2).startswith("1 of 2 cohorts kept")


def test_the_bridge_says_its_axis_is_cut_only_when_it_is():
    """A bridge whose movements are small against its levels zooms (the note says the axis
    starts above zero); one whose movements are large starts at zero and says nothing."""
    small = {"start_mrr": 1_000_000.0, "new": 20_000.0, "expansion": 10_000.0,
             "reactivation": 0.0, "contraction": 5_000.0, "churn": 15_000.0,
             "end_mrr": 1_010_000.0, "start_logos": 100}
    large = {**small, "new": 478_000.0, "expansion": 1_320_000.0, "churn": 932_000.0,
             "contraction": 121_000.0, "start_mrr": 2_460_000.0, "end_mrr": 3_205_000.0}
    for summary, zoomed in ((small, True), (large, False)):
        spec = story.mrr_bridge({**summary, "net_mrr_churn": 0.0, "lost_mrr": 0.0,
                                 "start_month": "2024-10-01", "end_month": "2024-12-01"},
                                "USD")
        bottom = spec.content.axes[0].get_ylim()[0]
        assert bool(bottom > 0) is zoomed
        assert ("axis starts above zero" in spec.notes) is zoomed
    assert metrics_story.restates_withheld({"withheld": {}}, ("mrr",), "the bridge") == ""
    said = metrics_story.restates_withheld({"withheld": {"mrr": {
        "reason": "the export contradicts itself: 3 open lines.", "fix": "Ask the client."}}},
        ("mrr",), "the MRR bridge of the period")
    assert said == ("Not shown: the MRR bridge of the period, because the export contradicts "
                    "itself: 3 open lines. It restates the MRR this report withholds. Ask the "
                    "client.")
    both = {"withheld": {k: {"reason": "r", "fix": ""} for k in ("nrr", "logo_churn")}}
    assert metrics_story.restates_withheld(both, ("logo_churn", "nrr"), "cohort retention") == (
        "Not shown: cohort retention, because r. It restates the logo churn and net revenue "
        "retention this report withholds.")
