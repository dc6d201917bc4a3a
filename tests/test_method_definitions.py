"""The method appendix defines every term the segment, lifecycle and risk sections use
(cohort retention, lifecycle stages, the value score and tiers, the relationship-risk flags,
expected loss, "pulling it down"), quoting this run's thresholds from params: the test sets
unusual values and expects exactly those, in words a reader can check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from playbook.config import load_params

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "95-appendix.py"

PARAMS = """
period: {period: 2024-Q1}
lifecycle: {active_depth: 0.55, expanding_growth: 0.12, transformational_depth: 0.85,
            transformational_products: 4, stuck_onboarding_days: 130,
            onboarding_steps: [Kick-off, Go live]}
value: {tier_shares: {high: 0.15, medium: 0.35, low: 0.5},
        weights: {contract_value: 0.5, growth: 0.3, beyond_revenue: 0.2}, stable_share: 0.85}
thresholds: {exec_contact_days_before_renewal: 21, user_contact_days_after_drop: 45,
             renewal_horizon_days: 60, strong_exec_relationships_enterprise: 3,
             strong_exec_relationships_smb: 2, usage_drop_share: 0.33,
             strong_adoption_depth: 0.65, enterprise_segments: [Strategic, Large]}
drivers: {at_risk_probability: 0.7, cutoff_days: 60}
"""


@pytest.fixture
def text(client_factory) -> str:
    from playbook import appendix_terms

    client_factory.write(params_text=PARAMS)
    return appendix_terms.terms_markdown(load_params("t"))


def paragraph(text: str, term: str) -> str:
    """The paragraph whose bold lead is ``term``."""
    match = re.search(rf"\*\*{re.escape(term)}\.\*\*(.*?)(?:\n\n|$)", text, re.S)
    assert match, f"no definition of {term!r} in:\n{text}"
    return match.group(1)


def test_the_method_cell_of_the_appendix_says_the_terms():
    source = NOTEBOOK.read_text(encoding="utf-8")
    assert "appendix_terms.terms_markdown(nb.params)" in source  # said with the definitions


def test_cohort_retention_is_defined(text):
    body = paragraph(text, "Cohort retention")
    for words in ("first month with MRR above zero", "Logo retention", "revenue retention",
                  "left out", "same age"):
        assert words in body


def test_lifecycle_stages_quote_the_lifecycle_thresholds(text):
    body = paragraph(text, "Lifecycle stages")
    for stage in ("Onboarding", "Adopting", "Actively using", "Expanding", "Transformational"):
        assert f"*{stage}*" in body
    assert "Kick-off and Go live" in body
    assert re.search(r"\*Transformational\*: usage depth .*at least 85% and at least 4 products",
                     body)
    assert re.search(r"\*Expanding\*: MRR grew by at least 12%", body)
    assert re.search(r"\*Actively using\*: usage depth at least 55%", body)
    assert "more than 130 days" in body


def test_value_score_and_tiers_quote_the_value_parameters(text):
    body = paragraph(text, "Value score and tiers")
    assert "contract value 0.5, growth 0.3, beyond revenue 0.2" in body
    assert "high: the top 15% of accounts" in body
    assert "medium: the next 35%" in body
    assert "low: the rest (50%)" in body
    assert "at least 85% of accounts keep their tier" in body


def test_relationship_flags_quote_the_thresholds(text):
    body = paragraph(text, "Relationship-risk flags")
    assert "within 60 days and no executive was touched in the last 21 days" in body
    assert "fewer than 3 strong executive relationships" in body
    assert "(Strategic and Large)" in body and "fewer than 2 in the others" in body
    assert "usage depth at least 65%" in body
    assert "at least 33% over 3 months" in body and "in the last 45 days" in body


def test_expected_loss_and_pulling_it_down_are_defined(text):
    loss = paragraph(text, "Expected loss")
    assert "MRR × (1 − its renewal probability" in loss
    assert "in the 60 days after the as-of date" in loss
    assert "below 70%" in loss
    pull = paragraph(text, "Pulling it down")
    assert "coefficient × (the account's value − the average" in pull
    assert "60 days before the renewal" in pull


def test_tiers_by_cutoffs_and_client_names_are_escaped(client_factory):
    from playbook import appendix_terms

    client_factory.write(params_text="""
period: {period: 2024-Q1}
value: {tier_method: cutoffs, tier_cutoffs: {high: 72, medium: 45, low: 0}}
thresholds: {strong_exec_relationships_smb: 1, enterprise_segments: ["*Key*"]}
""")
    text = appendix_terms.terms_markdown(load_params("t"))
    tiers = paragraph(text, "Value score and tiers")
    assert "high from a score of 72; medium from a score of 45; low for every other" in tiers
    flags = paragraph(text, "Relationship-risk flags")
    assert "none in the others" in flags
    assert r"(\*Key\*)" in flags  # a client's segment name is text, never markup
