"""The success-outcomes recommendation: facts from 06-outcomes-triggers' coverage and the
rule's wording (expected values by hand)."""

from __future__ import annotations

from playbook import facts as fx
from playbook import recommendations as rec
from playbook.facts import Facts

LIMITS = rec.Limits(unknown_reason_share=0.2, health_auc_floor=0.6, reweight_min_gain=0.02)


def test_outcome_gap_is_the_first_tier_of_the_coverage() -> None:
    coverage = [{"value_tier": "Strategic", "accounts": 50, "with_outcomes": 30, "share": 0.6,
                 "without": 20, "realised": 0.5},
                {"value_tier": "Core", "accounts": 200, "with_outcomes": 20, "share": 0.1,
                 "without": 180, "realised": 0.4},
                {"value_tier": "total", "accounts": 250, "with_outcomes": 50, "share": 0.2,
                 "without": 200, "realised": 0.45}]
    assert fx._outcome_gap(coverage) == {"outcome_gap_tier": "Strategic",
                                         "outcome_gap_share": 0.4,
                                         "outcome_gap_accounts": 20.0}
    assert fx._outcome_gap([]) == {}


def test_agree_success_outcomes_recommendation() -> None:
    f = Facts(outcome_gap_tier="Strategic", outcome_gap_share=0.4, outcome_gap_accounts=20)
    (only,) = rec.recommendations(f, LIMITS)
    assert only.rule == "agree-success-outcomes"
    assert only.action == ("Agree success outcomes with the 40% of Strategic-tier accounts "
                           "that have none (20)")
    assert only.mrr_at_stake is None
    none_left = Facts(outcome_gap_tier="Strategic", outcome_gap_share=0.0,
                      outcome_gap_accounts=0)
    assert rec.recommendations(none_left, LIMITS) == []
    assert rec.recommendations(Facts(), LIMITS) == []  # no outcomes table: no figure
