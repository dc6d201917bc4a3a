"""Churn reasons at two levels: a category above the reason (issue 16, point 6).

The fixture's expected figures are computed by hand in the comments and, where a sum is
involved, independently in the test with plain Python (never with the product's functions).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from test_broken_clients import Client, base_frames, csv, write

from playbook import paths
from playbook.analyses import reasons
from playbook.config import load_params, read_yaml
from playbook.findings import revenue as story
from playbook.loader import load_client

#: The default list, read from its one home (playbook/defaults.yaml).
SAID_NOTHING = read_yaml(paths.defaults_file())["churn"]["uninformative_reasons"]

#: (account, category, reason, lost MRR). Categories: Price 290, Competitor 170, Other 135,
#: Service 95, blank 50 = 740. Reasons: Better features 110, Too expensive 100,
#: Price increase 90, Cheaper rival 80, Don't know (3 spellings) 75, Moved abroad 65, ...
ROWS = [
    ("a", "Price", "Too expensive", 100.0),
    ("b", "Price", "Price increase", 90.0),
    ("c", " price", "Cheaper rival", 80.0),
    ("d", "Price", "Don't know", 20.0),          # informative category, no reason inside
    ("e", "Competitor", "Better features", 70.0),
    ("f", "Competitor", "Better offer", 60.0),
    ("g", "Competitor", "better features ", 40.0),
    ("h", "Service", "Slow support", 50.0),
    ("i", "Service", "Bad onboarding", 45.0),
    ("j", "Other", "Moved abroad", 65.0),        # "Other" with an informative reason inside
    ("k", "Other", "Dont know", 30.0),
    ("l", "Other", "Don\u2019t know", 25.0),      # curly apostrophe
    ("m", "Other", "Closed business", 15.0),
    ("n", "", "N/A", 20.0),
    ("o", None, "Budget cut", 30.0),
]


def two_levels() -> pd.DataFrame:
    return pd.DataFrame(ROWS, columns=["account_id", "reason_category", "reason_code",
                                       "lost_mrr"]).assign(
        churn_date=pd.Timestamp("2024-02-01"), reason_text=None)


def by_hand(key: int) -> dict[str, float]:
    """Lost MRR summed per trimmed, case-folded value of ROWS[*][key] (plain Python)."""
    out: dict[str, float] = {}
    for row in ROWS:
        name = (row[key] or "").strip().casefold()
        out[name] = out.get(name, 0.0) + row[3]
    return out


TOTAL = sum(r[3] for r in ROWS)


# --------------------------------------------------------------------------- the figures


def test_pareto_by_category_with_counts_lost_mrr_and_top_reasons_inside():
    events = two_levels()
    levels = reasons.reason_levels(events, uninformative=SAID_NOTHING)
    assert levels == ("reason_category", "reason_code")
    pareto = reasons.reason_pareto(events, uninformative=SAID_NOTHING, code_col=levels[0])
    cat = by_hand(1)
    assert TOTAL == 740
    assert pareto["reason"].tolist() == ["Price", "Competitor", "Other", "Service", "(blank)"]
    assert pareto["lost_mrr"].tolist() == [cat["price"], cat["competitor"], cat["other"],
                                           cat["service"], cat[""]] == [290, 170, 135, 95, 50]
    assert pareto["logos"].tolist() == [4, 3, 4, 2, 2]
    assert pareto["uninformative"].tolist() == [False, False, True, False, True]
    assert pareto["cum_share_lost_mrr"].tolist() == pytest.approx(
        [290 / 740, 460 / 740, 595 / 740, 690 / 740, 1.0])

    inside = reasons.reasons_within_categories(events, uninformative=SAID_NOTHING)
    price = inside[inside["category"] == "Price"]
    assert price["reason"].tolist() == ["Too expensive", "Price increase", "Cheaper rival",
                                        "Don't know"]
    assert price["lost_mrr"].tolist() == [100, 90, 80, 20]
    assert price["share_lost_mrr"].tolist() == pytest.approx([100 / 290, 90 / 290, 80 / 290,
                                                              20 / 290])
    assert price["rank"].tolist() == [1, 2, 3, 4]
    assert price["informative_rank"].tolist()[:3] == [1, 2, 3]
    assert price["informative_rank"].isna().tolist() == [False, False, False, True]
    competitor = inside[inside["category"] == "Competitor"].set_index("reason")
    assert competitor["lost_mrr"].to_dict() == {"Better features": 110, "Better offer": 60}
    assert competitor["logos"].to_dict() == {"Better features": 2, "Better offer": 1}
    # The three spellings of "Don't know" are one uninformative reason inside "Other".
    other = inside[inside["category"] == "Other"]
    assert other["reason"].tolist() == ["Moved abroad", "Don't know", "Closed business"]
    assert other["lost_mrr"].tolist() == [65, 55, 15]
    assert other["uninformative"].tolist() == [False, True, False]
    # Categories come in the order of the Pareto.
    assert inside["category"].drop_duplicates().tolist() == pareto["reason"].tolist()

    rows = story.category_rows(pareto, inside, top_reasons=3)
    assert rows["label"].tolist() == [
        "Price", "Too expensive", "Price increase", "Cheaper rival",
        "Competitor", "Better features", "Better offer",
        "Other", "Moved abroad", "Closed business",
        "Service", "Slow support", "Bad onboarding",
        "(blank)", "Budget cut"]
    assert rows.loc[rows["kind"] == "category", "top"].tolist() == [True, True, False, True,
                                                                    False]


def test_headline_reads_the_category_level_where_the_two_levels_disagree():
    events = two_levels()
    levels = reasons.reason_levels(events, uninformative=SAID_NOTHING)
    pareto = reasons.reason_pareto(events, uninformative=SAID_NOTHING, code_col=levels[0])
    inside = reasons.reasons_within_categories(events, uninformative=SAID_NOTHING)
    spec = story.reason_pareto(pareto, "USD", 0.6, inside=inside)
    # Informative categories Price + Competitor + Service = 555 of 740 = 75%: concentrated.
    assert (290 + 170 + 95) / TOTAL == 0.75
    assert spec.title == ("Churn is concentrated: three reason categories (Price, Competitor, "
                          "Service) explain 75% of lost MRR")
    assert "by reason category, with the top 3 reasons inside each" in spec.subtitle
    # The reason level alone says the opposite: 110 + 100 + 90 = 300 of 740 = 41%.
    by_reason = reasons.reason_pareto(events, uninformative=SAID_NOTHING)
    assert story.pareto_title(by_reason, 0.6) == (
        "Churn is spread across reasons: the top three (Better features, Too expensive, "
        "Price increase) explain only 41% of lost MRR")
    # The chart shows the rows of category_rows, uninformative categories in grey italics
    # (one accent colour per chart: no red).
    ax = spec.content.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == story.category_rows(pareto, inside)["label"].tolist()
    muted = [t.get_text() for t in ax.get_yticklabels() if t.get_fontstyle() == "italic"]
    assert muted == ["Other", "(blank)"]


def test_two_levels_without_lost_mrr_rank_by_logos_and_show_no_missing_share():
    events = two_levels().assign(lost_mrr=None)
    pareto = reasons.reason_pareto(events, uninformative=SAID_NOTHING,
                                   code_col="reason_category")
    inside = reasons.reasons_within_categories(events, uninformative=SAID_NOTHING)
    spec = story.reason_pareto(pareto, "USD", 0.6, inside=inside)
    # Logos: Price 4, Competitor 3, Service 2 of 15 informative-category events -> 9 / 15.
    assert spec.title == ("No lost MRR is recorded with the churn events; by logos, the top "
                          "three reason categories (Price, Competitor, Service) account for "
                          "60%")
    labels = [t.get_text() for t in spec.content.axes[0].texts]
    assert labels and not any("n/a" in t or "nan" in t.lower() for t in labels)


def test_other_category_with_informative_reasons_counts_as_explained():
    u = reasons.uninformative_share(two_levels(), uninformative=SAID_NOTHING,
                                    category_col="reason_category")
    # No usable reason at either level: k (Other / Dont know), l (Other / Don't know),
    # n (blank / N/A). d (Price / Don't know), j and m (Other / a real reason) and
    # o (blank / Budget cut) are explained.
    assert u["events"] == 15
    assert u["uninformative_events"] == 3
    assert u["uninformative_lost_mrr"] == 30 + 25 + 20
    assert u["share_lost_mrr"] == pytest.approx(75 / 740)
    assert u["blank_events"] == 0
    assert u["by_label"] == {"Don't know": 2, "N/A": 1}
    sentence = story.uninformative_sentence(u, "USD", 0.2)
    assert 'carry no usable reason (such as "Don\'t know" and "N/A")' in sentence


# --------------------------------------------------------------------------- "Don't know"


DONT_KNOW = ["Don't know", "dont know", "Don\u2019t know", "DONT_KNOW", " don't   know ",
             "Don\u02bct know"]


def test_default_list_says_nothing_for_dont_know_and_its_variants_only():
    nothing = [*DONT_KNOW, "No reason", "NO_REASON", "not specified", "Not  Specified", "-",
               "?", "...", "N/A", "Unknown", "OTHER", "none", "", None]
    something = ["Price", "No reason to stay", "Known issue", "Otherwise", "N/A in our region",
                 "Unknown competitor", "Don't know the product well", "1"]
    flags = reasons.is_uninformative(pd.Series(nothing + something, dtype=object),
                                     SAID_NOTHING)
    assert flags.tolist() == [True] * len(nothing) + [False] * len(something)


def test_dont_know_spellings_are_one_reason_in_the_pareto():
    events = pd.DataFrame({"reason_code": [*DONT_KNOW, "Price"],
                           "lost_mrr": [10.0] * len(DONT_KNOW) + [5.0]})
    pareto = reasons.reason_pareto(events, uninformative=SAID_NOTHING)
    assert len(pareto) == 2
    top = pareto.iloc[0]
    assert (top["logos"], top["lost_mrr"], bool(top["uninformative"])) == (6, 60.0, True)
    assert story.pareto_title(pareto, 0.6) == ("Churn is spread across reasons: the top "
                                               "reason (Price) explains only 8% of lost MRR")


def test_the_default_list_has_one_home():
    assert {"don't know", "no reason", "n/a", "not specified", "unknown", "other", "none",
            ""} <= set(SAID_NOTHING)
    assert not hasattr(reasons, "DEFAULT_UNINFORMATIVE")
    with pytest.raises(TypeError):
        reasons.reason_pareto(two_levels())  # the list must come from params


def test_segment_heatmap_title_skips_dont_know():
    events = pd.DataFrame({"account_id": ["a", "b", "c", "d"],
                           "reason_code": ["Don't know", "Don't know", "Price", "Support"],
                           "lost_mrr": [50.0, 40.0, 20.0, 10.0]})
    accounts = pd.DataFrame({"account_id": list("abcd"), "segment": ["SMB"] * 4})
    table = reasons.reasons_by_segment(events, accounts, "segment",
                                       uninformative=SAID_NOTHING, small_n=1)
    assert table.set_index("reason")["uninformative"].to_dict() == {
        "Don't know": True, "Price": False, "Support": False}
    assert story.segment_reasons_title(table) == "Price is the top reason in every segment"


# --------------------------------------------------------------------------- one level


def test_one_level_export_gives_exactly_the_one_level_result():
    """A file without categories (the loader adds the column, empty) or whose categories
    say nothing gives the same tables and exhibit as the v1 call on the reason codes."""
    one = two_levels().drop(columns="reason_category")
    v1_pareto = reasons.reason_pareto(one, uninformative=SAID_NOTHING)
    v1 = story.reason_pareto(v1_pareto, "USD", 0.6)
    v1_share = reasons.uninformative_share(one, uninformative=SAID_NOTHING)
    for category in (None, "", "Other"):
        events = one.assign(reason_category=category)
        levels = reasons.reason_levels(events, uninformative=SAID_NOTHING)
        assert levels == ("reason_code",)
        pareto = reasons.reason_pareto(events, uninformative=SAID_NOTHING, code_col=levels[0])
        pd.testing.assert_frame_equal(pareto, v1_pareto)
        spec = story.reason_pareto(pareto, "USD", 0.6, inside=None)
        assert (spec.title, spec.subtitle, spec.notes, spec.n) == (
            v1.title, v1.subtitle, v1.notes, v1.n)
        got = [(t.get_text(), t.get_color()) for t in spec.content.axes[0].get_yticklabels()]
        want = [(t.get_text(), t.get_color()) for t in v1.content.axes[0].get_yticklabels()]
        assert got == want
        if category is None or category == "":
            share = reasons.uninformative_share(events, uninformative=SAID_NOTHING,
                                                category_col="reason_category")
            assert share == v1_share


def test_category_only_export_is_the_one_level_pareto_of_its_categories():
    events = two_levels().assign(reason_code=None)
    levels = reasons.reason_levels(events, uninformative=SAID_NOTHING)
    assert levels == ("reason_category",)
    pareto = reasons.reason_pareto(events, uninformative=SAID_NOTHING, code_col=levels[0])
    as_codes = reasons.reason_pareto(
        events.assign(reason_code=events["reason_category"]), uninformative=SAID_NOTHING)
    pd.testing.assert_frame_equal(pareto, as_codes)


def test_fewer_than_three_informative_categories_are_counted_as_they_are():
    pareto = pd.DataFrame({"reason": ["Price", "Other", "Service"], "logos": [3, 2, 1],
                           "share_logos": [0.5, 1 / 3, 1 / 6], "lost_mrr": [50.0, 30.0, 20.0],
                           "share_lost_mrr": [0.5, 0.3, 0.2],
                           "cum_share_lost_mrr": [0.5, 0.8, 1.0],
                           "uninformative": [False, True, False]})
    assert story.pareto_title(pareto, 0.6, level="reason category") == (
        "Churn is concentrated: two reason categories (Price, Service) explain 70% of lost "
        "MRR")
    no_mrr = pareto.assign(lost_mrr=0.0, share_lost_mrr=math.nan)
    assert story.pareto_title(no_mrr, 0.6, level="reason category") == (
        "No lost MRR is recorded with the churn events; by logos, the top two reason "
        "categories (Price, Service) account for 67%")


# --------------------------------------------------------------------------- loading




def test_a_mapped_churn_category_column_is_loaded_as_reason_category(root):
    f = base_frames()
    churn = f["churn"]
    churn["Churn Category"] = ["Price", "Competitor", "Other"] * (len(churn) // 3) + \
        ["Price"] * (len(churn) % 3)
    client = Client.base(**f)
    client.files["churn.csv"] = csv(churn)
    client.table("churn_events", columns={"reason_category": "Churn Category"})
    write(root, client)
    data = load_client(load_params("t"))
    events = data["churn_events"]
    assert events["reason_category"].tolist() == churn["Churn Category"].tolist()
    assert reasons.reason_levels(events, uninformative=SAID_NOTHING) == (
        "reason_category", "reason_code")
