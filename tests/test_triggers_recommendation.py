"""The trigger follow-up recommendation and the workbook's event columns."""

from __future__ import annotations

import pandas as pd

from playbook import account_plan as ap
from playbook import recommendations as rec
from playbook.facts import Facts

LIMITS = rec.Limits(unknown_reason_share=0.2, health_auc_floor=0.6, reweight_min_gain=0.02)


def test_open_triggers_give_a_call_list_recommendation() -> None:
    f = Facts(open_triggers=48, open_trigger_mrr=105_000.0, open_trigger_days=90)
    (only,) = rec.recommendations(f, LIMITS)
    assert only.rule == "follow-up-triggers"
    assert only.action == ("Call the 48 accounts with a trigger event (champion left, "
                           "reorganisation, funding) in the last 90 days and no touch since")
    assert (only.mrr_at_stake, only.mrr_exposed) == (None, 105_000.0)
    assert rec.recommendations(Facts(open_triggers=0, open_trigger_days=90), LIMITS) == []
    assert rec.recommendations(Facts(), LIMITS) == []  # no triggers table: no figure


def test_workbook_event_columns_follow_the_events_frame() -> None:
    acc = pd.DataFrame({"account_id": ["A", "B"], "start_date": pd.Timestamp("2025-01-01"),
                        "mrr": [100.0, 200.0]})
    events = pd.DataFrame({"open_trigger": ["champion_left", None],
                           "open_trigger_date": pd.to_datetime(["2026-09-01", None]),
                           "outcome_progress": [None, 0.75]},
                          index=pd.Index(["A", "B"], name="account_id"))
    rules = ap.PlanRules(save_play_within_days=90, at_risk_below=0.75, expansion_min_mrr=0.0,
                         expansion_min_share=0.1,
                         due_days={"save_play": 7, "executive_outreach": 14,
                                   "onboarding_rescue": 14, "expansion_conversation": 30})
    args = dict(as_of=pd.Timestamp("2026-09-30"), rules=rules, mrr=None, value_tiers=None,
                stages=None, health=None, health_measures=None, next_renewals=None, book=None,
                model_ranks=False, flags=None, stuck=None, expansion=None, cost=None)
    plan = ap.account_plan(acc, events=events, **args).set_index("account_id")
    assert plan.loc["A", "open_trigger"] == "champion_left"
    assert plan.loc["A", "open_trigger_date"] == pd.Timestamp("2026-09-01")
    assert pd.isna(plan.loc["A", "outcome_progress"])
    assert plan.loc["B", "outcome_progress"] == 0.75 and pd.isna(plan.loc["B", "open_trigger"])
    blank = ap.account_plan(acc, events=None, **args)
    assert blank[["open_trigger", "open_trigger_date", "outcome_progress"]].isna().all().all()


def test_a_rate_just_below_the_target_never_reads_as_the_target() -> None:
    (only,) = rec.recommendations(Facts(nrr=0.9993, mrr=1000.0), LIMITS)
    assert only.action.endswith("from 99.9% to above 100%")
    (only,) = rec.recommendations(Facts(nrr=0.985, mrr=1000.0), LIMITS)
    assert only.action.endswith("from 98% to above 100%")  # whole percent when it reads below
