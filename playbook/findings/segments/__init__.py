"""Findings of the value, lifecycle, health, relationship and CLV section (notebook
03-segments-health): exhibits and sentences whose every number comes from the analysis
results passed in; titles are chosen by rules from those numbers (tested in
``tests/test_findings_segments.py``).

The notebook calls these as ``story.<name>`` (``from playbook.findings import segments as
story``); each lives in its module: :mod:`.value` (value pyramid, tiers, stability),
:mod:`.lifecycle` (stages, stage churn, stuck onboarding, onboarding funnel), :mod:`.health`
(scorecard and backtest), :mod:`.relationships` (relationship-risk flags) and :mod:`.clv`
(lifetime value); :mod:`.phrases` holds the phrases they share.
"""

from playbook.findings.segments.clv import (
    clv_assumptions,
    clv_not_shown,
    clv_table,
    clv_title,
)
from playbook.findings.segments.health import (
    MEASURE_LABELS,
    MEASURE_SHORT,
    backtest_bands,
    backtest_title,
    band_mix,
    band_mix_title,
    examples_title,
    health_examples,
    health_sentence,
    measure_label,
    measure_signal,
    measures_source,
    no_backtest_sentence,
    no_health_sentence,
    predicts,
    signal_title,
    too_few_measures_sentence,
    weights_sentence,
)
from playbook.findings.segments.lifecycle import (
    lifecycle,
    lifecycle_title,
    onboarding_steps,
    onboarding_title,
    stage_churn,
    stage_churn_title,
    stuck_table,
    stuck_title,
)
from playbook.findings.segments.relationships import (
    FLAG_ACTIONS,
    FLAG_LABELS,
    FLAG_SHORT,
    at_risk_table,
    at_risk_title,
    flags_table,
    flags_title,
)
from playbook.findings.segments.value import (
    pyramid_title,
    stability_title,
    stability_unavailable,
    tier_leak_title,
    tier_stability,
    tier_table,
    value_pyramid,
)

__all__ = [
    "FLAG_ACTIONS", "FLAG_LABELS", "FLAG_SHORT", "MEASURE_LABELS", "MEASURE_SHORT",
    "at_risk_table", "at_risk_title", "backtest_bands", "backtest_title", "band_mix",
    "band_mix_title", "clv_assumptions", "clv_not_shown", "clv_table", "clv_title",
    "examples_title",
    "flags_table", "flags_title", "health_examples", "health_sentence", "lifecycle",
    "lifecycle_title", "measure_label", "measure_signal", "measures_source",
    "no_backtest_sentence",
    "no_health_sentence", "onboarding_steps", "onboarding_title", "predicts", "pyramid_title",
    "signal_title", "stability_title", "stage_churn", "stage_churn_title", "stuck_table",
    "stuck_title", "tier_leak_title", "tier_stability", "tier_table",
    "too_few_measures_sentence", "value_pyramid", "weights_sentence",
    "stability_unavailable",
]
