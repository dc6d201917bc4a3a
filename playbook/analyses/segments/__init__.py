"""Segments of the customer base: who matters most (value tiers) and where each customer is
(lifecycle stages).

The names the notebooks call as ``segments.<name>`` (``from playbook.analyses import
segments``); each lives in its module:

* :mod:`.value`: :func:`value_scores`, :func:`value_tiers`, :func:`tier_stability`,
  :func:`tier_concentration` (the value pyramid; also used for lifecycle stages),
  :func:`value_history_gaps`;
* :mod:`.lifecycle`: :func:`lifecycle_stage` (:func:`lifecycle_stages_on` for many dates),
  :func:`month_ends`, :func:`stage_history`,
  :func:`time_in_stage`, :func:`stage_summary`, :func:`onboarding_step_order`,
  :func:`onboarding_funnel`, :func:`stuck_onboarding`.

The conventions they share with health and capacity (active accounts, account MRR, "on or
before ``as_of``", usage depth) are in :mod:`playbook.analyses.account_state`.
"""

from playbook.analyses.segments.lifecycle import (
    LIFECYCLE_STAGES,
    lifecycle_stage,
    lifecycle_stages_on,
    month_ends,
    onboarding_funnel,
    onboarding_step_order,
    stage_history,
    stage_summary,
    stuck_onboarding,
    time_in_stage,
)
from playbook.analyses.segments.value import (
    VALUE_COMPONENTS,
    tier_concentration,
    tier_stability,
    value_history_gaps,
    value_scores,
    value_tiers,
)

__all__ = [
    "LIFECYCLE_STAGES", "VALUE_COMPONENTS",
    "lifecycle_stage", "lifecycle_stages_on", "month_ends", "onboarding_funnel",
    "onboarding_step_order",
    "stage_history", "stage_summary", "stuck_onboarding", "tier_concentration",
    "tier_stability", "time_in_stage", "value_history_gaps", "value_scores", "value_tiers",
]
