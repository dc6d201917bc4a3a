"""Title rules and sentences of the coverage, headcount and scenario exhibits."""

from __future__ import annotations

import copy

import matplotlib
import pandas as pd
import pytest

from playbook.analyses import capacity, scenarios
from playbook.findings import capacity as story

matplotlib.use("Agg")

MODEL = {
    "tiers": {
        "high": {"accounts_per_csm": [20, 30], "role": "enterprise CSM",
                 "touches": {"monthly_call": 12, "qbr": 4, "onsite": 1}},
        "medium": {"accounts_per_csm": [100, 150], "role": "CSM",
                   "touches": {"check_in": 2, "risk_outreach": 2}},
        "low": {"accounts_per_csm": [0, 0], "role": "scale CSM (pooled)",
                "touches": {"webinar": 4, "newsletter": 12}},
    },
    "hours_per_touch": {"monthly_call": 1.0, "qbr": 2.0, "onsite": 6.0, "check_in": 0.75,
                        "risk_outreach": 1.5, "webinar": 0.0},
    "prep_hours_per_touch": {"monthly_call": 0.5, "qbr": 4.0, "onsite": 4.0, "check_in": 0.25,
                             "risk_outreach": 0.5},
    "travel_hours_per_touch": {"onsite": 6.0},
    "program_hours_per_touch": {"webinar": 12.0, "newsletter": 3.0},
    "csm_hours_per_year": 1600,
    "account_admin_hours_per_year": {"high": 20, "medium": 4, "low": 0.5},
    "loaded_cost_per_csm": 120000,
    "loaded_cost_per_role": {"enterprise CSM": 150000, "CSM": 115000},
}
COUNTS = {"high": 60, "medium": 300, "low": 640}


def _gap(current: dict[str, float]) -> pd.DataFrame:
    req = capacity.required_headcount(COUNTS, MODEL)
    return capacity.headcount_gap(req, pd.Series(current))


def _no_nan(text: str) -> None:
    assert "nan" not in text.lower().split(), text


# ----------------------------------------------------------------------------- touch plan
def test_touch_plan_title_inside_fewer_more():
    req = capacity.required_headcount(COUNTS, MODEL)
    # 1600 / 78 = 20.5 accounts per CSM: inside 20-30
    assert story.touch_plan_title(req) == (
        "A high-tier account takes 78 hours a year, so one CSM can carry 21, inside the "
        "20-30 ratio")
    heavy = copy.deepcopy(MODEL)
    heavy["account_admin_hours_per_year"]["high"] = 60  # 118 h -> 14
    assert story.touch_plan_title(capacity.required_headcount(COUNTS, heavy)).endswith(
        "carry 14, fewer than the 20-30 the ratio assumes")
    light = copy.deepcopy(MODEL)
    light["account_admin_hours_per_year"]["high"] = 0  # 58 h -> 28: inside
    light["tiers"]["high"]["touches"]["onsite"] = 0  # 42 h -> 38: more
    assert story.touch_plan_title(capacity.required_headcount(COUNTS, light)).endswith(
        "carry 38, more than the 20-30 the ratio assumes")


def test_touch_plan_title_when_nothing_is_assigned():
    pooled = copy.deepcopy(MODEL)
    for t in pooled["tiers"].values():
        t["accounts_per_csm"] = [0, 0]
    assert story.touch_plan_title(capacity.required_headcount(COUNTS, pooled)) == (
        "No tier has assigned CSM time in the touch model")


def test_touch_plan_table_shows_counts_and_hours():
    spec = story.touch_plan_table(capacity.required_headcount(COUNTS, MODEL))
    t = spec.content.set_index("tier")
    assert t.loc["high", "touches a year"] == "monthly call 12, qbr 4, onsite 1"
    assert t.loc["low", "touches a year"] == "webinar 4*, newsletter 12*"
    assert t.loc["high", "hours / account / yr"] == "26 + 26 + 6 + 20 = 78"
    assert t.loc["low", "accounts / CSM: ratio"] == "pooled"
    assert t.loc["medium", "by effort"] == "160"
    _no_nan(spec.title)


# ----------------------------------------------------------------------------- headcount
def test_headcount_table_title_against_the_ratio_range():
    req = capacity.required_headcount(COUNTS, MODEL)
    # effort 2.925 + 1.875 + (320 + 84) / 1600 = 5.0525; ratio 4.0-6.0: inside. Cost
    # 2.925 x 150K + 1.875 x 115K + 0.2525 x 120K (pooled role unpriced: the default)
    # = 438,750 + 215,625 + 30,300 = 684,675
    assert story.headcount_table_title(req, currency="USD") == (
        "Serving the base takes 5.1 CSMs by effort ($685K a year), inside the 4.0-6.0 the "
        "ratios give")
    heavy = copy.deepcopy(MODEL)
    heavy["account_admin_hours_per_year"]["high"] = 120
    assert "more than the 4.0-6.0" in story.headcount_table_title(
        capacity.required_headcount(COUNTS, heavy), currency="USD")
    light = copy.deepcopy(MODEL)
    light["tiers"]["high"]["touches"] = {"monthly_call": 1}
    assert "fewer than the" in story.headcount_table_title(
        capacity.required_headcount(COUNTS, light), "EUR")


def test_headcount_title_rules():
    # high short by 0.9, low 3.7 spare: redeploy
    assert story.headcount_title(_gap({"high": 2.0, "medium": 2.0, "low": 4.0})) == (
        "The high tier is 0.9 CSMs short while the low tier has 3.7 more than it needs: "
        "redeploy before hiring")
    # totals within half an FTE and no tier far off: matches
    assert story.headcount_title(_gap({"high": 2.9, "medium": 1.9, "low": 0.2})).startswith(
        "Today's 5 owners match the 5.1 CSMs")  # people: a whole number
    # short overall
    assert story.headcount_title(_gap({"high": 1.0, "medium": 1.5, "low": 0.3})) == (
        "The touch model needs 5.1 CSMs, 2.3 more than the 2.8 owners today, most of them in "
        "the high tier")
    # spare overall, with no tier short
    assert story.headcount_title(_gap({"high": 3.0, "medium": 4.0, "low": 0.3})) == (
        "Today's 7.3 owners exceed the 5.1 CSMs the touch model needs by 2.2, most of the "
        "spare capacity in the medium tier")
    assert story.headcount_title(_gap({})).startswith("No owner is recorded")


def test_gap_explanation_in_words():
    text = story.gap_explanation(capacity.required_headcount(COUNTS, MODEL))
    assert text.startswith("Why the two methods differ: a high-tier account takes 78 hours")
    assert "inside the 20-30 ratio, so the two methods agree" in text
    assert "above the 100-150 ratio, so the ratio leaves time" in text
    assert "the low tier is pooled, so the ratio assigns nobody" in text
    assert "84 hours of one-to-many programmes" in text
    _no_nan(text)


def test_headcount_exhibits_build():
    req = capacity.required_headcount(COUNTS, MODEL)
    gap = _gap({"high": 2.0, "medium": 2.0, "low": 4.0})
    table = story.headcount_table(gap, req, "USD")
    assert list(table.content["by ratio"]) == ["2.0-3.0", "2.0-3.0", "pooled", "4.0-6.0"]
    assert "enterprise CSM $150K" in table.notes
    chart = story.headcount(gap)
    assert chart.n == 1000


# ----------------------------------------------------------------------------- coverage
def _coverage(labels: list[str], pooled: int = 0) -> pd.DataFrame:
    rows = labels + ["pooled"] * pooled
    return pd.DataFrame({
        "accounts": [25] * len(rows), "mrr": 100.0, "accounts_high": 25,
        "accounts_medium": 0, "accounts_low": 0,
        "main_tier": ["low" if c == "pooled" else "high" for c in rows],
        "effort_fte": [1.0 + i / 10 for i in range(len(rows))], "coverage": rows,
    }, index=pd.Index([f"O{i}" for i in range(len(rows))], name="owner"))


def test_coverage_title_rules():
    assert story.coverage_title(_coverage(["under-covered", "over-covered", "within"])) == (
        "1 of 3 owners carry more accounts than their tier's ratio allows, 1 fewer")
    assert story.coverage_title(_coverage(["under-covered", "within"])) == (
        "1 of 2 owners carry more accounts than their tier's ratio allows")
    assert story.coverage_title(_coverage(["over-covered"])).startswith("1 of 1 owners carry "
                                                                         "fewer")
    assert story.coverage_title(_coverage(["within"], pooled=2)) == (
        "No assigned owner's book breaks its tier's ratio; 2 of 3 work mainly on the pooled "
        "tier")
    assert story.coverage_title(_coverage(["within", "within"])) == (
        "All 2 owners' books fit the ratio of their main tier")
    empty = _coverage(["within"]).rename(index={"O0": "(unassigned)"})
    assert story.coverage_title(empty).startswith("No account has an owner")


def test_coverage_sentence_and_owner_table():
    cov = pd.concat([_coverage(["within"], pooled=1),
                     _coverage(["within"]).rename(index={"O0": "(unassigned)"})])
    text = story.coverage_sentence(cov)
    assert text.startswith("2 owners carry between 25 and 25 accounts.")
    assert "the 1 owners working mainly on the pooled tier" in text
    assert text.endswith("25 accounts have no owner.")
    spec = story.owner_table(cov, ["high", "medium", "low"], "USD")
    assert list(spec.content["high / medium / low"])[0] == "25 / 0 / 0"
    assert "\u00a0" not in spec.content.loc[0, "owner"]  # single-word names unchanged
    _no_nan(text)


# ----------------------------------------------------------------------------- sensitivity
def test_sensitivity_title_and_table():
    sens = capacity.headcount_sensitivity(COUNTS, MODEL, account_growth=0.2, years=2,
                                          top_tier_shifts=[0.05])
    title = story.sensitivity_title(sens, account_growth=0.2, currency="USD")
    assert title.startswith("With 20% more accounts a year, the touch model needs ")
    assert title.endswith("against 5.1 today")
    flat = capacity.headcount_sensitivity(COUNTS, MODEL, account_growth=0.0, years=2,
                                          top_tier_shifts=())
    assert story.sensitivity_title(flat, account_growth=0.0, currency="USD").endswith(
        "at today's account count")
    spec = story.sensitivity_table(sens, top_tier="high", account_growth=0.2, currency="USD")
    assert list(spec.content.columns) == ["year", "accounts", "high 6% (today)", "high 11%"]
    assert spec.content.loc[0, "high 6% (today)"] == "5.1 FTE, $685K"


# ----------------------------------------------------------------------------- scenarios
def test_paths_title_own_churn_or_worst():
    paths = capacity.revenue_paths(**{**capacity.REFERENCE_PATHS,
                                      "churn_rates": (0.0, 0.1, 0.128, 0.3)},
                                   years=3, compounding="yearly", churn_base="current")
    gap = capacity.path_gap(paths, 3)
    assert story.paths_title(gap, 3, own=None, currency="USD") == (
        "At 30% annual gross revenue churn, MRR after 3 years is 66% ($222K a month) below "
        "the no-churn path")
    own = story.paths_title(gap, 3, own=0.128, currency="USD")
    # the client's churn is named as its metric, never "annual churn" (#18)
    assert own.startswith("At today's gross revenue churn of 12.8% (1 − GRR), MRR after 3 "
                          "years is ")


def test_scenario_sentences():
    paths = capacity.revenue_paths(**capacity.REFERENCE_PATHS, years=3, compounding="yearly",
                                   churn_base="current")
    gap = capacity.path_gap(paths, 3)
    text = story.scenario_sentence(gap, 0.3, 3, "USD", {"revenue_gain": 2.5e6})
    assert "MRR after 3 years would be $116K instead of $338K" in text
    assert "gap of $222K a month (66%)" in text
    assert text.endswith("costs $2.5M of revenue against the no-churn path.")
    assert text.startswith("At today's gross revenue churn of 30.0% (1 − GRR), ")
    # the textbook check is a unit test of the path model (test_scenarios), not report text
    assert not hasattr(story, "reference_sentence")


def test_growth_title_rules():
    base = {"new_sales": 0.3, "expansion": 0.1, "end_mrr": 1e6}
    more = scenarios.growth_arithmetic({**base, "churn": 0.2}, 0.5)
    assert story.growth_title(more) == (
        "Growing MRR 50% next year at today's gross revenue churn of 20.0% (1 − GRR) needs "
        "new MRR of 70.0% of the base, 30.0 points more than last year's 40.0%")
    covered = scenarios.growth_arithmetic({**base, "churn": 0.05}, 0.2)
    assert story.growth_title(covered).endswith("last year's pace of 40.0% already covers it")
    same = scenarios.growth_arithmetic({**base, "churn": 0.1}, 0.3)
    assert story.growth_title(same).endswith("about last year's pace of 40.0%")
    one = scenarios.growth_arithmetic({**base, "churn": 0.11}, 0.3)
    assert "1.0 point more" in story.growth_title(one)
    spec = story.growth_table(more, "USD", n=100)
    assert spec.content["share of the base"].tolist() == pytest.approx(
        [0.5, 0.2, 0.7, 0.3, 0.1, 0.4, 0.3])


def test_churn_point_sentence():
    v = scenarios.churn_point_value(
        1e6, {"new_sales": 0.3, "expansion": 0.1, "churn": 0.12}, years=3, discount_rate=0.1,
        point=0.01, compounding="monthly", churn_base="current")
    text = story.churn_point_sentence(v, "USD")
    assert text.startswith("One percentage point less gross revenue churn (12.0% to 11.0% a "
                           "year) is worth ")
    assert "at a 10% discount rate" in text
    _no_nan(text)


def test_tornado_title_rules():
    rates = {"new_sales": 0.3, "expansion": 0.1, "churn": 0.15, "price": 0.0}
    tor = scenarios.lever_tornado(1e6, rates, {"churn": 0.03, "expansion": 0.03,
                                               "new_sales": 0.1, "price": 0.01}, years=3,
                                  compounding="monthly", churn_base="current")
    assert story.tornado_title(tor, 3, "USD").startswith(
        "New business is the biggest lever on MRR in 3 years: its range moves MRR by $")
    close = scenarios.lever_tornado(1e6, rates, {"churn": 0.05, "expansion": 0.05}, years=3,
                                    compounding="monthly", churn_base="current")
    assert story.tornado_title(close, 3, "USD").startswith(
        "Gross revenue churn and expansion are the biggest levers on MRR in 3 years")
    spec = story.tornado(tor, years=3, currency="USD", n=100)
    assert spec.title == story.tornado_title(tor, 3, "USD")

