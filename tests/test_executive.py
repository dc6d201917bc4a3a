"""The executive layer: every number of the "so what" equals the run's record, the business
cases are the touch model's hours priced as the brief says, the decisions and the prize
follow their rules, a withheld MRR puts no amount anywhere, and the next period checks the
KPI targets. Expected values are computed here by hand."""

from __future__ import annotations

import copy
import html
import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from slides_checks import deck_problems

from playbook import textfmt as tf
from playbook.analyses.walk import Capture
from playbook.comparison import kpi_checks
from playbook.config import load_params
from playbook.errors import ParamsError
from playbook.executive import (
    ExecutiveSettings,
    executive_record,
    kpi_texts,
    lever_message,
)
from playbook.facts import facts_from_results
from playbook.findings.executive import (
    business_cases_html,
    decisions_html,
    executive_notebooks,
    so_what_html,
    walk_html,
)
from playbook.recommendations import Limits
from playbook.slides import rebuild_slides
from playbook.summary import summary_notebook
from tests.test_slides import publish, titles

GOLDEN = Path(__file__).parent / "fixtures" / "demo_results.json"
LIMITS = Limits(unknown_reason_share=0.20, health_auc_floor=0.65, reweight_min_gain=0.05)
SETTINGS = ExecutiveSettings(
    capture=Capture(0.25, 0.5, 0.75),
    effort={"save-renewals-at-risk": ("risk_outreach", 4.0),
            "executive-sponsor-programme": ("qbr", 2.0)},
    touch_hours={"risk_outreach": 2.0, "qbr": 6.0},
    csm_hours_per_year=1600.0, loaded_cost_per_csm=120_000.0, benchmarks=None)
ORDER = ["01-revenue", "02-renewal-drivers", "03-segments-health", "05-account-plan"]

RESULTS = {
    "meta": {"client_name": "Acme", "period_label": "2026-Q3", "as_of": "2026-09-30",
             "currency": "USD"},
    "01-revenue": {"findings": {
        "period": {"end_mrr": 500_000.0, "start_mrr": 480_000.0, "end_logos": 400},
        "headline_metrics": {"grr": 0.85, "nrr": 0.95, "logo_churn": 0.14,
                             "label": "trailing 12 months"},
        "uninformative_reasons": {"share_events": 0.30, "uninformative_lost_mrr": 9_000.0}}},
    "02-renewal-drivers": {"findings": {"open_book": {
        "renewals_due": 80, "accounts_at_risk": 12, "mrr_at_risk": 40_000.0,
        "model_ranks": True, "expected_loss_at_risk": 15_000.0}}},
    "03-segments-health": {"findings": {"flags_summary": {"flag_single_threaded": {
        "accounts": 90, "mrr": 100_000.0, "churn_rate": 0.30, "flagged_then": 100,
        "expected_loss": 30_000.0, "others_then": 300, "churn_rate_others": 0.10}}}},
    "05-account-plan": {"findings": {"expansion_screen": {"candidates": 10,
                                                          "potential_mrr": 2_000.0}}},
}


def record(results=RESULTS, settings=SETTINGS, previous=None):
    return executive_record(results, ORDER, limits=LIMITS, settings=settings,
                            previous=previous)


def at(rec: dict, key: str) -> float:
    """The value a message's ``figure_key`` names, looked up in the record."""
    head, _, rest = key.partition(".")
    if head == "facts":
        return getattr(facts_from_results(RESULTS_FOR[id(rec)]), rest)
    lever, field = rest.split(".")
    return next(b for b in rec["walk"] if b["key"] == lever)[field]


RESULTS_FOR: dict[int, dict] = {}

NUMBER = re.compile(r"[$]?\d[\d,.]*[KMB%]?")


def test_business_cases_price_the_touch_models_hours():
    rec = record()
    cases = {b["rule"]: b for b in rec["business_cases"]}
    save = cases["save-renewals-at-risk"]
    # 12 renewals at risk x 4 outreaches x 2 h = 96 h; / 1,600 h = 0.06 FTE; x 120,000
    assert save["accounts"] == 12 and save["fte"] == pytest.approx(96 / 1600)
    assert save["cost"] == pytest.approx(96 / 1600 * 120_000)
    # benefit: the walk's renewal lever, 15,000 a month x 12 x capture
    assert (save["benefit_low"], save["benefit_mid"], save["benefit_high"]) == \
        pytest.approx((180_000 * 0.25, 180_000 * 0.5, 180_000 * 0.75))
    assert save["payback_months"] == pytest.approx(save["cost"] / (90_000 / 12))
    # KPI: the expected loss of the renewals at risk, halved (the mid capture) next period
    assert (save["kpi_current"], save["kpi_target"]) == (15_000.0, 7_500.0)
    sponsor = cases["executive-sponsor-programme"]
    # 90 accounts x 2 QBRs x 6 h = 1,080 h
    assert sponsor["cost"] == pytest.approx(1080 / 1600 * 120_000)
    # benefit: ARR 1.2M x (30% - 10%) x 50%
    assert sponsor["benefit_mid"] == pytest.approx(1_200_000 * 0.20 * 0.5)
    reasons = cases["fix-churn-reason-capture"]
    assert reasons["cost"] is None and reasons["benefit_mid"] is None
    assert "not costed" in reasons["cost_basis"]
    assert (reasons["kpi_current"], reasons["kpi_target"]) == (0.30, 0.20)   # the limit
    expansion = cases["build-expansion-motion"]     # NRR 95% < 100%
    assert (expansion["kpi_fact"], expansion["kpi_target"]) == ("nrr", 1.0)
    assert expansion["cost"] is None                 # no effort entry in these settings


def test_the_settings_price_a_touch_with_its_preparation_and_travel():
    s = ExecutiveSettings.of(load_params("demo"))
    # defaults.yaml: a QBR is 2 h of contact + 4 h of preparation; an onsite 6 + 4 + 6 travel
    assert s.touch_hours["qbr"] == 6.0 and s.touch_hours["onsite"] == 16.0
    assert s.capture == Capture(0.25, 0.5, 0.75)
    assert s.effort["executive-sponsor-programme"] == ("qbr", 2.0)
    assert s.benchmarks is not None and s.benchmarks.year == 2023


def test_an_effort_for_an_unknown_rule_or_touch_is_refused():
    params = load_params("demo")
    params.executive.effort["save-the-world"] = params.executive.effort["review-renewals-due"]
    with pytest.raises(ParamsError, match="save-the-world"):
        ExecutiveSettings.of(params)
    params = load_params("demo")
    params.executive.effort["review-renewals-due"].touch = "carrier_pigeon"
    with pytest.raises(ParamsError, match="carrier_pigeon"):
        ExecutiveSettings.of(params)


def test_prize_is_the_sum_of_the_walks_levers():
    rec = record()
    levers = [b for b in rec["walk"] if b["kind"] == "lever"]
    prize = rec["so_what"]["prize"]
    for k in ("low", "mid", "high"):
        assert prize[k] == pytest.approx(sum(b[k] for b in levers))
    assert prize["unit"] == "USD a year"
    assert prize["text"] == f"{tf.money(prize['mid'])} a year"


def test_decisions_are_the_largest_net_benefits_first():
    rec = record()
    cases = {b["number"]: b for b in rec["business_cases"]}
    numbers = [d["number"] for d in rec["so_what"]["decisions"]]
    assert 2 <= len(numbers) <= 3
    net = [(cases[n]["benefit_mid"] or 0) - (cases[n]["cost"] or 0) for n in numbers]
    sized = [x for n, x in zip(numbers, net, strict=True) if cases[n]["benefit_mid"]]
    assert sized == sorted(sized, reverse=True) and sized


def test_every_number_of_the_so_what_equals_the_record():
    rec = record()
    RESULTS_FOR[id(rec)] = RESULTS
    sw = rec["so_what"]
    assert len(sw["messages"]) == 3
    for m in sw["messages"]:
        assert m["value"] == pytest.approx(at(rec, m["figure_key"]))
        if m["figure_key"].startswith("walk."):
            lever = next(b for b in rec["walk"] if b["key"] == m["figure_key"].split(".")[1])
            assert f"{tf.money(lever['mid'])} a year" in m["text"]
            b = lever["basis"]
            if "others_rate" in b:                    # its rate first, the others' second
                assert (f"{tf.pct(b['churn_rate'], 0)} against "
                        f"{tf.pct(b['others_rate'], 0)}") in m["text"]
        allowed = expected_figures(rec, m["figure_key"])
        for token in NUMBER.findall(m["text"]):
            assert token.rstrip(".,") in allowed, (token, m["text"])
    for d in sw["decisions"]:
        case = next(b for b in rec["business_cases"] if b["number"] == d["number"])
        assert (d["cost"], d["benefit"]) == (case["cost"], case["benefit_mid"])
        allowed = {str(case["number"]), tf.money(case["cost"]), tf.number(case["fte"], 1),
                   tf.money(case["benefit_mid"])}
        if case["payback_months"] is not None:
            allowed.add(str(round(case["payback_months"])))
        for token in NUMBER.findall(d["text"]):
            assert token.rstrip(".,") in allowed, (token, d["text"])


def expected_figures(rec: dict, key: str) -> set[str]:
    """The figures a message may print: its own, formatted as the report does, and the
    figures its lever's basis records."""
    value = at(rec, key)
    if key.startswith("facts."):
        return {tf.pct(value, 1), "12"}  # one decimal, as the key figures; "last 12 months"
    lever = next(b for b in rec["walk"] if b["key"] == key.split(".")[1])
    b = lever["basis"]
    out = {tf.money(lever["mid"]), tf.money(lever["low"]), tf.money(lever["high"]), "90"}
    out |= {tf.count(b.get("accounts")), tf.pct(b.get("churn_rate"), 0),
            tf.pct(b.get("others_rate"), 0), tf.money(b.get("expected_mrr_loss"))}
    return out


def test_the_golden_demo_so_what_quotes_its_own_record():
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert "executive" in golden, "regenerate the golden results (docs/developing.md)"
    rec = golden["executive"]
    RESULTS_FOR[id(rec)] = golden
    for m in rec["so_what"]["messages"]:
        head, _, rest = m["figure_key"].partition(".")
        want = (golden["summary"]["facts"][rest] if head == "facts" else
                next(b for b in rec["walk"] if b["key"] == rest.split(".")[0])["mid"])
        assert m["value"] == want
    levers = [b for b in rec["walk"] if b["kind"] == "lever"]
    assert rec["so_what"]["prize"]["mid"] == pytest.approx(sum(b["mid"] for b in levers))
    assert rec["walk"][0]["mid"] == pytest.approx(
        golden["summary"]["facts"]["mrr"] * 12 * golden["summary"]["facts"]["nrr"])
    page = so_what_html(rec, "USD") + decisions_html(rec)
    for m in rec["so_what"]["messages"]:                 # printed word for word
        assert html.escape(m["text"]) in page
        assert tf.money(m["value"]) in m["text"] or tf.pct(m["value"], 1) in m["text"]
    for d in rec["so_what"]["decisions"]:
        assert html.escape(d["text"]) in page
    assert f'{tf.money(rec["so_what"]["prize"]["mid"])} a year' in page


def test_a_withheld_mrr_puts_no_amount_anywhere():
    withheld = copy.deepcopy(RESULTS)
    withheld["01-revenue"]["findings"]["headline_metrics"]["withheld"] = {
        "mrr": {"reason": "the MRR history has negative rows", "fix": "fix it"}}
    rec = record(withheld)
    assert rec["so_what"]["prize"]["mid"] is None
    assert [b for b in rec["walk"] if b["kind"] == "lever"] == []
    assert "MRR" in rec["walk_notes"]["withheld_text"]
    assert all(b["benefit_mid"] is None for b in rec["business_cases"])
    money = [b for b in rec["business_cases"] if b["kpi_kind"] == "money"]
    assert money and all(b["kpi_current"] is None and b["kpi_target"] is None for b in money)
    assert not any("$" in m["text"] for m in rec["so_what"]["messages"])


def test_the_next_period_checks_the_kpi_targets():
    previous = copy.deepcopy(RESULTS)
    previous["executive"] = record()
    now = copy.deepcopy(RESULTS)
    now["02-renewal-drivers"]["findings"]["open_book"]["expected_loss_at_risk"] = 7_000.0
    now["01-revenue"]["findings"]["uninformative_reasons"]["share_events"] = None
    checks = {c.label: c for c in kpi_checks(now, previous)}
    save = checks["expected MRR loss of the renewals at risk"]
    assert (save.before, save.target, save.now, save.verdict) == (15_000.0, 7_500.0, 7_000.0,
                                                                  "met")
    assert checks["churn without a usable reason"].verdict == "not measured"
    assert checks["net revenue retention"].verdict == "not met"     # 95% < 100%
    assert kpi_checks(now, None) == []
    shown = executive_record(now, ORDER, limits=LIMITS, settings=SETTINGS,
                             previous=previous)["kpi_checks"]
    assert {c["verdict"] for c in shown} == {"met", "not met", "not measured"}


def spare_capacity(required: float, current: int) -> dict:
    """RESULTS with a touch model sizing ``required`` CSMs against ``current`` owners."""
    results = copy.deepcopy(RESULTS)
    results["04-capacity"] = {"findings": {"current_owners": current,
                                           "headcount_total": {"fte_by_effort": required}}}
    return results


def test_spare_capacity_is_tracked_as_spare_capacity_not_as_a_negative_gap():
    """Required 8 CSMs against 12 staffed: the scorecard reads "4.0 FTE -> <= 0.5 FTE spare
    CSM capacity" (it read "-4.0 FTE -> >= -0.5 FTE CSM gap"), as the key figure says "Spare
    CSM capacity 4.0 FTE"; next period, 11.6 required against 12 (0.4 spare) meets it and
    10 against 12 (2.0 spare) does not. A shortfall reads as one (12 against 9)."""
    previous = spare_capacity(8.0, 12)
    rec = executive_record(previous, ORDER + ["04-capacity"], limits=LIMITS,
                           settings=SETTINGS)
    case = next(b for b in rec["business_cases"] if b["rule"] == "redeploy-spare-capacity")
    assert (case["kpi_fact"], case["kpi_current"], case["kpi_target"]) == \
        ("spare_csm_capacity", 4.0, 0.5)
    table = business_cases_html(rec["business_cases"], "USD")
    row = next(r for r in re.findall(r"<tr>.*?</tr>", table) if "spare CSM capacity" in r)
    assert "4.0 FTE \u2192 \u2264 0.5 FTE spare CSM capacity" in html.unescape(row)
    assert "gap" not in row and "+" not in row
    previous["executive"] = rec
    met = {c.label: c for c in kpi_checks(spare_capacity(11.6, 12), previous)}
    assert met["spare CSM capacity"].verdict == "met"
    assert met["spare CSM capacity"].now == pytest.approx(0.4)
    missed = {c.label: c for c in kpi_checks(spare_capacity(10.0, 12), previous)}
    assert missed["spare CSM capacity"].verdict == "not met"
    short = executive_record(spare_capacity(12.0, 9), ORDER + ["04-capacity"],
                             limits=LIMITS, settings=SETTINGS)["business_cases"]
    case = next(b for b in short if b["rule"] == "close-coverage-gap")
    assert (case["kpi_fact"], case["kpi_label"], case["kpi_current"], case["kpi_target"]) == \
        ("csm_gap", "CSM shortfall", 3.0, 0.5)
    assert "3.0 FTE \u2192 \u2264 0.5 FTE CSM shortfall" in html.unescape(
        business_cases_html(short, "USD"))


def test_the_front_matter_puts_the_so_what_first_and_the_cases_before_the_roadmap():
    rec = record()
    summary = summary_notebook(RESULTS, ORDER, limits=LIMITS)
    front, back = executive_notebooks(summary, rec, RESULTS)
    heads = [c.source for c in front.cells if c.cell_type == "markdown"]
    assert heads[0] == "# So what" and heads.index("# Executive summary") > 0
    assert heads.index("### Business cases") < heads.index("## Roadmap")
    assert "Assumptions of the opportunity walk" in back.cells[0].source


def test_the_walk_is_drawn_without_a_start_when_the_nrr_is_withheld():
    no_nrr = copy.deepcopy(RESULTS)
    no_nrr["01-revenue"]["findings"]["headline_metrics"]["withheld"] = {
        "nrr": {"reason": "the base month is contradicted", "fix": "fix it"}}
    rec = record(no_nrr)
    assert rec["walk"][0]["kind"] == "lever" and rec["so_what"]["prize"]["mid"] > 0
    page = walk_html(rec, "USD", 400)
    assert "<svg" in page and "Today" not in page and "n = 400" in page
    assert "net revenue retention" in rec["walk_notes"]["withheld_text"]
    assert "without today's level" in html.unescape(page)
    none = copy.deepcopy(RESULTS)
    none["01-revenue"]["findings"]["headline_metrics"]["withheld"] = {
        "mrr": {"reason": "negative rows", "fix": "fix it"}}
    empty = walk_html(record(none), "USD", 400)
    assert "<svg" not in empty
    # said once, by the title (the page said it again under it: "None: no lever could be
    # sized."), the reasons left to the note
    assert html.unescape(empty).lower().count("can be sized") == 1
    assert "no lever of the walk can be sized" in html.unescape(empty).lower()
    assert "none:" not in empty.lower() and "exhibit-empty" not in empty
    # nothing drawn: no axis, source, capture assumption or overlap to speak of
    for absent in ("axis", "Source:", "overlap", "Assumption:"):
        assert absent not in empty, absent


def test_the_deck_follows_the_so_what_slide_with_the_walk(tmp_path):
    """The deck replaces the so-what page by its slide and keeps the page's walk as a slide
    of its own (a picture, no "Exhibit" label: the walk is not a numbered exhibit)."""
    rec = record()
    front = ('<h1 id="sec-0">So what</h1>' + so_what_html(rec, "USD")
             + walk_html(rec, "USD", 400))
    folder = publish(tmp_path / "r", {"executive": rec}, front=front)
    deck = rebuild_slides(folder)
    shown = titles(deck)
    walk_title = next(iter(re.findall(r'action-title">(.*?)</h3>', front)))
    assert shown[1:4] == ["The so what: the prize and the decisions asked",
                          html.unescape(walk_title), "Executive summary"]
    slide = list(Presentation(str(deck)).slides)[2]
    assert any(s.shape_type == MSO_SHAPE_TYPE.PICTURE for s in slide.shapes)
    assert not [s for s in slide.shapes if s.name == "exhibit-label"]
    assert deck_problems(folder) == []


def test_a_kpi_close_to_its_target_reads_differently_from_it():
    assert kpi_texts(0.999, 1.0, "pct") == ("99.9%", "100.0%")
    assert kpi_texts(0.95, 1.0, "pct") == ("95%", "100%")
    assert kpi_texts(0.9999, 1.0, "pct") == ("99.99%", "100.00%")
    assert kpi_texts(15_000.0, 7_500.0, "money") == ("$15K", "$7.5K")
    near = copy.deepcopy(RESULTS)
    near["01-revenue"]["findings"]["headline_metrics"]["nrr"] = 0.999
    page = html.unescape(business_cases_html(record(near)["business_cases"], "USD"))
    assert "99.9% \u2192 \u2265 100.0% net revenue retention" in page


def test_a_model_that_cannot_rank_sizes_the_renewals_due_not_at_risk():
    chance = copy.deepcopy(RESULTS)
    chance["02-renewal-drivers"]["findings"]["open_book"].update(
        model_ranks=False, expected_mrr_loss=900.0, renewals_due=14)
    rec = record(chance)
    [bar] = [b for b in rec["walk"] if b["key"] == "renewals"]
    assert bar["label"] == "Save renewals due" and bar["mid"] == pytest.approx(900 * 12 * 0.5)
    said = lever_message(SimpleNamespace(**bar), facts_from_results(chance), "USD")
    assert "Saving the renewals due is worth" in said.text and "at risk" not in said.text
    assert "Renewals\u00a0due" in walk_html(rec, "USD", 43)


def test_a_costed_effort_never_reads_zero_people():
    from playbook.executive import fte_text
    assert fte_text(0.02) == "<0.1" and fte_text(0.06) == "0.1" and fte_text(1.25) == "1.2"
    assert fte_text(None, "\u2013") == "\u2013"
