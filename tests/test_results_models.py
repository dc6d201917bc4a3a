"""The declared results models (playbook.results): what a notebook may record, and the
summary's facts read through them, on the demo's golden results.json."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from playbook import paths, session
from playbook.comparison import compare, previous_facts
from playbook.config import load_params
from playbook.errors import ResultsError
from playbook.facts import facts_from_results
from playbook.recommendations import Limits
from playbook.results import NOTEBOOK_FINDINGS, Findings, ReportResults, checked_finding
from playbook.summary import summary_record

GOLDEN = Path(__file__).parent / "fixtures" / "demo_results.json"


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_a_key_the_model_does_not_declare_is_refused_by_name(client_factory):
    client_factory.write()
    nb = session.start("01-revenue", client="t")
    with pytest.raises(ResultsError) as caught:
        nb.record("perod", {"end_mrr": 1.0})                  # a typo of "period"
    message = str(caught.value)
    assert "'perod'" in message and "RevenueFindings" in message and "period" in message
    assert "perod" not in nb.findings
    nb.record("period", {"end_mrr": 1.0})
    assert nb.findings["period"] == {"end_mrr": 1.0}


def test_a_value_of_the_wrong_type_is_refused():
    with pytest.raises(ResultsError, match=r"'period'.*end_mrr"):
        checked_finding("01-revenue", "period", {"end_mrr": "a lot"})
    with pytest.raises(ResultsError, match="reason_pareto"):
        checked_finding("01-revenue", "reason_pareto", {"Price": 3})   # rows, not a dict


def test_a_custom_notebook_records_freely():
    assert checked_finding("acme-onboarding", "go_live_days", 41) == 41
    assert checked_finding("custom/acme-onboarding", "anything", [1]) == [1]


def test_every_key_the_demo_records_is_declared_and_fits(golden):
    for stem, model in NOTEBOOK_FINDINGS.items():
        recorded = golden[stem]["findings"]
        assert not set(recorded) - set(model.model_fields), stem
        for key, value in recorded.items():
            assert checked_finding(stem, key, value) is value
    report = ReportResults.from_json(golden)
    for stem in NOTEBOOK_FINDINGS:
        assert report.notebook(stem).findings.misfits == {}, stem
        assert not report.notebook(stem).findings.model_extra, stem


def test_the_models_serialise_to_the_documented_results_json(golden):
    assert ReportResults.from_json(golden).to_json() == golden


def test_every_key_a_notebook_records_is_declared():
    """The notebooks' own ``nb.record("key", ...)`` calls, read from their scripts, so a
    section the demo does not reach (reason rules, skipped scenarios) is checked too."""
    for stem, model in NOTEBOOK_FINDINGS.items():
        script = (paths.notebooks_dir() / f"{stem}.py").read_text(encoding="utf-8")
        keys = set(re.findall(r"""nb\.record\(\s*["']([^"']+)["']""", script))
        assert not keys - set(model.model_fields), (stem, keys - set(model.model_fields))


def test_the_registry_matches_the_sections_of_results_json():
    sections = {f.alias: f.annotation.model_fields["findings"].annotation
                for f in ReportResults.model_fields.values() if f.alias}
    assert sections == NOTEBOOK_FINDINGS


def test_facts_equal_the_values_in_the_demo_results(golden):
    facts = vars(facts_from_results(golden))
    assert facts == golden["summary"]["facts"]
    assert {k: type(v) for k, v in facts.items()} == \
        {k: type(v) for k, v in golden["summary"]["facts"].items()}
    findings = {stem: golden[stem]["findings"] for stem in NOTEBOOK_FINDINGS}
    assert facts["grr"] == findings["01-revenue"]["headline_metrics"]["grr"]
    assert facts["mrr_at_risk"] == findings["02-renewal-drivers"]["open_book"]["mrr_at_risk"]
    assert facts["single_threaded"] == \
        findings["03-segments-health"]["flags_summary"]["flag_single_threaded"]["accounts"]
    assert facts["csm_required"] == findings["04-capacity"]["headcount_total"]["fte_by_effort"]


def test_the_summary_of_the_demo_is_rebuilt_from_its_findings(golden):
    """The summary read back through the models says, word for word, what the run said
    (the comparison with 2026-Q2 aside: that report is not in the fixture)."""
    sections = {k: v for k, v in golden.items() if k != "summary"}
    order = list(load_params("demo").report.notebooks)  # the report's order numbers exhibits
    again = summary_record(sections, order, limits=Limits.of(load_params("demo")))
    for key in ("sca", "key_figures", "headlines", "recommendations", "facts"):
        assert json.loads(json.dumps(again[key])) == golden["summary"][key], key


def test_an_older_report_still_compares(golden):
    """A report of the first notebooks: renewals at risk under ``at_risk``, the lifecycle as
    ``{stage: accounts}``. The figures it has compare; what no longer fits reads as absent."""
    first = copy.deepcopy(golden)
    drivers = first["02-renewal-drivers"]["findings"]
    del drivers["open_book"]
    drivers["at_risk"] = {"scored": 80, "expected_non_renewals": 21.0,
                          "contract_value_at_risk": 9.0}
    first["03-segments-health"]["findings"]["lifecycle"] = {"Onboarding": 3}
    first["meta"]["period_label"] = "2026-Q2"
    before = previous_facts(first)
    assert before.at_risk_accounts == 21.0 and before.mrr_at_risk is None
    assert ReportResults.from_json(first).segments.findings.misfits == {
        "lifecycle": {"Onboarding": 3}}
    moved, label = compare(golden, first)
    assert label == "2026-Q2"
    assert {c.label: c.before for c in moved}["renewals at risk"] == 21.0
    assert facts_from_results(first).at_risk_accounts is None   # only the comparison reads it


def test_docs_list_every_declared_key_and_no_other():
    """docs/results.md summarises the models: each notebook's table names its keys."""
    text = (paths.PACKAGE_DIR.parent / "docs" / "results.md").read_text(encoding="utf-8")
    common = set(Findings.model_fields)
    assert all(f"`{key}`" in text for key in common)
    for stem, model in NOTEBOOK_FINDINGS.items():
        section = text.split(f"## `{stem}.findings`", 1)[1].split("\n## ", 1)[0]
        first_cells = re.findall(r"^\| ([^|]+) \|", section, flags=re.M)
        documented = {k for cell in first_cells for k in re.findall(r"`([^`]+)`", cell)}
        declared = set(model.model_fields) - common
        assert declared <= documented <= declared | common, (stem, documented ^ declared)
