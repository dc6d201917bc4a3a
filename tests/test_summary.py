"""Executive summary, facts and recommendation rules, on hand-built results."""

from __future__ import annotations

import copy

from playbook import recommendations as rec
from playbook.facts import Facts, facts_from_results
from playbook.results import ReportResults
from playbook.summary import headlines, key_figures, sca_paragraph, summary_record

#: The rules' limits that are parameters, at the shared defaults.
LIMITS = rec.Limits(unknown_reason_share=0.20, health_auc_floor=0.65, reweight_min_gain=0.05)

RESULTS = {
    "meta": {"client_name": "Acme", "period_label": "2026-Q3", "as_of": "2026-09-30",
             "currency": "USD"},
    "01-revenue": {
        "findings": {
            "period": {"end_mrr": 500_000.0, "start_mrr": 480_000.0, "end_logos": 400,
                       "net_mrr_churn": 0.01},
            "headline_metrics": {"grr": 0.85, "nrr": 0.95, "logo_churn": 0.14,
                                 "label": "trailing 12 months"},
            "uninformative_reasons": {"share_events": 0.30, "uninformative_lost_mrr": 9_000.0},
            "surprise_non_renewals": {"surprises": 4, "lost_mrr": 3_000.0},
        },
        "exhibits": [
            {"number": 1, "title": "Bridge title", "headline": True},
            {"number": 2, "title": "Trend title", "headline": False},
            {"number": 3, "title": "Pareto title", "headline": True},
        ],
    },
    "02-renewal-drivers": {
        "findings": {"open_book": {"renewals_due": 80, "accounts_at_risk": 12,
                                   "mrr_at_risk": 40_000.0, "model_ranks": True,
                                   "expected_loss_at_risk": 15_000.0}},
        "exhibits": [{"number": 1, "title": "Forest title", "headline": True}],
    },
}


def test_typed_results_and_facts():
    report = ReportResults.from_json(RESULTS)
    assert report.revenue.findings.period.end_mrr == 500_000.0
    assert report.exhibits("01-revenue")[2].title == "Pareto title"
    assert report.exhibits("nope") == [] and report.capacity.findings.current_owners is None
    f = facts_from_results(RESULTS)
    assert (f.mrr, f.grr, f.nrr, f.logo_churn) == (500_000.0, 0.85, 0.95, 0.14)
    assert (f.mrr_at_risk, f.at_risk_accounts, f.csm_gap) == (40_000.0, 12.0, None)


def test_headlines_are_flagged_titles_in_order_with_report_numbers():
    heads = headlines(RESULTS, ["01-revenue", "02-renewal-drivers"])
    assert [h.title for h in heads] == ["Bridge title", "Pareto title", "Forest title"]
    assert [h.number for h in heads] == [1, 3, 4]       # 02's exhibit 1 follows 01's three
    swapped = headlines(RESULTS, ["02-renewal-drivers", "01-revenue"])
    assert [h.number for h in swapped] == [1, 2, 4]


def test_key_figures_skip_what_the_run_did_not_produce():
    labels = [k.label for k in key_figures(facts_from_results(RESULTS))]
    assert "CSM gap" not in labels and "MRR" in labels and "MRR at risk" in labels
    values = {k.label: k.value for k in key_figures(facts_from_results(RESULTS))}
    assert values["MRR"] == "$500K" and values["Net revenue retention"] == "95.0%"


def test_rules_fire_on_their_thresholds():
    f = Facts(unknown_reason_share=LIMITS.unknown_reason_share + 0.01, unknown_reason_mrr=10.0)
    assert [r.rule for r in rec.recommendations(f, LIMITS)] == ["fix-churn-reason-capture"]
    f = Facts(unknown_reason_share=LIMITS.unknown_reason_share)          # at the line: no
    assert rec.recommendations(f, LIMITS) == []
    f = Facts(nrr=0.99, grr=0.95, mrr=100_000.0)
    (only,) = rec.recommendations(f, LIMITS)
    assert only.rule == "build-expansion-motion"
    assert only.mrr_at_stake == 100_000.0 * (1.0 - 0.99)
    assert only.action.startswith("Build")                            # verb first
    f = Facts(csm_required=10.0, csm_current=12.0)
    assert [r.rule for r in rec.recommendations(f, LIMITS)] == ["redeploy-spare-capacity"]
    f = Facts(csm_required=12.4, csm_current=12.0)                    # gap 0.4: rounding
    assert rec.recommendations(f, LIMITS) == []


def test_a_client_override_of_a_limit_changes_the_advice():
    f = Facts(unknown_reason_share=0.25, unknown_reason_mrr=10.0, health_auc=0.68,
              health_auc_cv=0.68, health_auc_reweighted=0.76)
    assert [r.rule for r in rec.recommendations(f, LIMITS)] == ["fix-churn-reason-capture"]
    stricter = rec.Limits(unknown_reason_share=0.30, health_auc_floor=0.70,
                          reweight_min_gain=0.05)
    assert [r.rule for r in rec.recommendations(f, stricter)] == ["reweight-health-score"]


def test_recommendations_are_ranked_and_numbered():
    recs = rec.recommendations(facts_from_results(RESULTS), LIMITS)
    assert [r.number for r in recs] == list(range(1, len(recs) + 1))
    priorities = [rec.PRIORITY_ORDER[r.priority] for r in recs]
    assert priorities == sorted(priorities)
    assert recs[0].rule == "save-renewals-at-risk"                     # High, most MRR
    assert all(r.timing in ("30 days", "60 days", "90 days") for r in recs)


def test_sca_paragraph_quotes_the_facts():
    f = facts_from_results(RESULTS)
    text = sca_paragraph(f, rec.recommendations(f, LIMITS))
    assert text.startswith("Acme billed $500K of MRR across 400 accounts at 30 Sep 2026.")
    assert ("Over the last 12 months its customers kept 85.0% of their revenue before "
            "expansion and 95.0% after it") in text  # one decimal, as the key figures
    assert ("But the renewals at high risk in the next 90 days hold $40K of MRR, $15K of it "
            "expected to be lost") in text
    assert "The answer: run save plans on the renewals at risk" in text
    assert "nan" not in text.lower()


def test_summary_record_with_missing_sections_never_says_nan():
    sparse = copy.deepcopy(RESULTS)
    del sparse["02-renewal-drivers"]
    sparse["01-revenue"]["findings"]["headline_metrics"] = {"grr": None, "nrr": None}
    record = summary_record(sparse, ["01-revenue"], limits=LIMITS)
    assert "nan" not in str(record).lower().replace("'nan'", "")
    assert "Renewals at risk" not in [k["label"] for k in record["key_figures"]]


def test_period_comparison_words_and_direction():
    from playbook.comparison import changes

    before = Facts(grr=0.85, surprises=14, at_risk_accounts=20, nrr=0.95)
    after = Facts(grr=0.88, surprises=9, at_risk_accounts=20, nrr=0.94)
    by_label = {c.label: c for c in changes(before, after)}
    assert by_label["surprise non-renewals"].text == "fell from 14 to 9"
    assert by_label["surprise non-renewals"].verdict == "better"      # fewer is better
    assert by_label["gross revenue retention"].text == "rose from 85.0% to 88.0%"
    assert by_label["gross revenue retention"].verdict == "better"
    assert by_label["net revenue retention"].verdict == "worse"
    assert by_label["renewals at risk"].text == "held at 20"
    assert "logo churn" not in " ".join(by_label)                     # absent in both


def test_previous_results_picks_latest_earlier_report(tmp_path, monkeypatch):
    import json

    from playbook.comparison import previous_results

    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path))
    for label, as_of in [("2026-Q1", "2026-03-31"), ("2026-Q2", "2026-06-30"),
                         ("2026-Q4", "2026-12-31")]:
        folder = tmp_path / "acme" / label
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps(
            {"meta": {"as_of": as_of, "period_label": label}}))
    assert previous_results("acme", "2026-09-30")["meta"]["period_label"] == "2026-Q2"
    assert previous_results("acme", "2026-03-31") is None
    assert previous_results("nobody", "2026-09-30") is None


def test_an_appendix_headline_keeps_its_place_when_there_are_too_many():
    many = {"01-x": {"exhibits": [{"number": i, "title": f"T{i}", "headline": True}
                                  for i in range(1, 8)]},
            "90-data-quality": {"exhibits": [{"number": 1, "title": "Data warning",
                                              "headline": True}]}}
    heads = headlines(many, ["01-x", "90-data-quality"])
    assert [h.title for h in heads] == ["T1", "T2", "T3", "T4", "T5", "Data warning"]
    assert heads[-1].number == 8


def test_contradicted_data_is_named_in_the_summary():
    flawed = copy.deepcopy(RESULTS)
    flawed["90-data-quality"] = {"findings": {"contradictions": [{"count": 3}, {"count": 1}]}}
    f = facts_from_results(flawed)
    assert f.contradictions == 2
    assert "contradicts itself in 2 ways" in sca_paragraph(f, rec.recommendations(f, LIMITS))
    assert "contradicts" not in sca_paragraph(facts_from_results(RESULTS), [])


def test_the_roadmap_has_a_column_only_for_horizons_with_an_action():
    from playbook.summary import roadmap_html

    recs = [rec.Recommendation(number=1, action="Do this: now", owner="o", priority="High",
                               mrr_at_stake=None, timing="30 days", rule="r", short="s"),
            rec.Recommendation(number=2, action="Do that", owner="o", priority="Low",
                               mrr_at_stake=None, timing="90 days", rule="r", short="s")]
    page = roadmap_html(recs)
    assert "<th>30 days</th>" in page and "<th>90 days</th>" in page
    assert "60 days" not in page and "–" not in page
    assert "<li>1. Do this</li>" in page


def test_a_contradicted_export_without_other_problems_says_so_once():
    from playbook.summary import complication

    f = Facts(contradictions=5.0, withheld={"grr": {"reason": "r", "fix": "x"}})
    assert complication(f) == ("But the export contradicts itself in 5 ways (see the "
                               "data-quality appendix): gross revenue retention cannot be "
                               "stated until the client resolves them.")
    # it names what is withheld (the Salesforce shape withheld one figure, not "its headline
    # figures"), and one way is resolved as "it"
    one = Facts(contradictions=1.0, withheld={"unknown_reason_share": {"reason": "r",
                                                                       "fix": "x"}})
    assert complication(one) == ("But the export contradicts itself in 1 way (see the "
                                 "data-quality appendix): the share of churn without a reason "
                                 "cannot be stated until the client resolves it.")
    assert complication(Facts()) == "No single problem dominates the data."


def test_the_situation_never_quotes_a_missing_mrr():
    from playbook.summary import situation

    assert situation(Facts(client_name="Acme", as_of="2026-09-30")) == (
        "This assessment of Acme is as of 30 Sep 2026.")
    assert situation(Facts(client_name="Acme", withheld={"mrr": {"reason": "r", "fix": ""}})
                     ) == "Acme's MRR cannot be stated from this export."
    assert "n/a" not in situation(Facts(client_name="Acme"))
