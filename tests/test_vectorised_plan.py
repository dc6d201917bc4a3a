"""The account plan's per-row work done a column at a time (issue 22) gives what the row
loops gave.

``playbook.account_plan.next_actions`` wrote each row's reason and other rules met with
``DataFrame.iterrows`` and ``DataFrame.at`` (15 s of 214 at 100,000 accounts), and
``playbook.analyses.drivers.open_book`` listed each renewal's reasons with one sorted
Series per row (11 s). The replacements (:func:`playbook.account_plan.action_reasons`,
:func:`playbook.account_plan.other_actions`, :func:`playbook.analyses.drivers.risk.
reason_lists`) are compared with those loops, kept here as the reference, on a small demo
run and on hand cases whose answers are written out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook import account_plan as ap
from playbook.analyses import drivers
from playbook.analyses.drivers import risk
from playbook.context import AnalysisContext
from tests.test_account_plan import RULES, reference_reason
from tests.test_account_plan import plan as hand_plan


# --------------------------------------------------------------------------- reference
def reference_reasons_and_others(plan: pd.DataFrame, rules: ap.PlanRules, *,
                                 model_ranks: bool, stuck) -> tuple[list[str], list[str]]:
    """The row loops of the previous ``next_actions``."""
    met = ap.rules_met(plan, rules, model_ranks=model_ranks, stuck=stuck)
    chosen = pd.Series("no_action", index=plan.index, dtype=object)
    for action in reversed(ap.ACTIONS[:-1]):
        chosen[met[action].to_numpy()] = action
    reasons = [reference_reason(action, row, rules) for action, (_, row) in
               zip(chosen, plan.iterrows(), strict=True)]
    others = [", ".join(a for a in ap.ACTIONS[:-1] if met.at[idx, a] and a != action)
              for idx, action in chosen.items()]
    return reasons, others


def reference_reason_lists(model, current_table: pd.DataFrame, contrib: pd.DataFrame,
                           reasons: int) -> list[list[dict]]:
    """The row loop of the previous ``open_book``."""
    owner = {c: t for t in model.terms for c in t.columns}
    lists = []
    for idx, row in contrib.iterrows():
        neg = row[row < 0].sort_values().head(reasons)
        items = []
        for col, value in neg.items():
            term = owner[col]
            raw = current_table.at[idx, term.feature]
            if term.reference is not None:
                raw = col[len(term.feature) + 1:-1]
            items.append({"column": col, "feature": term.feature, "value": risk._plain(raw),
                          "log_odds": float(value)})
        lists.append(items)
    return lists


# --------------------------------------------------------------------------- demo
@pytest.fixture(scope="module")
def demo(small_demo_run):
    params, data = small_demo_run
    return AnalysisContext(params, data.tables)


def upcoming_table(ctx: AnalysisContext) -> pd.DataFrame:
    """The renewals due in the next two years with their features (as the open book)."""
    p = ctx.params
    due = drivers.upcoming_renewals(ctx.tables["accounts"], ctx.as_of, horizon_days=730,
                                    renewals=ctx.tables.get("renewals"),
                                    **p.renewal_options())
    table, _ = drivers.modelling_table(due, ctx.tables, cutoff_days=p.drivers.cutoff_days,
                                       **p.feature_options())
    return table


@pytest.mark.parametrize("reasons", [1, 3, 50])
def test_reason_lists_are_the_row_loop_s_on_the_demo(demo, reasons):
    model = demo.renewal_model
    table = upcoming_table(demo)
    contrib = drivers.contributions(model, table)
    got = risk.reason_lists(model, table, contrib, reasons)
    assert got == reference_reason_lists(model, table, contrib, reasons)
    assert sum(map(bool, got)) > len(table) / 2  # most renewals have reasons
    assert any(len(items) == min(reasons, contrib.shape[1]) for items in got)


def test_reason_lists_on_a_subset_of_columns_and_a_shuffled_index(demo):
    model = demo.renewal_model
    table = upcoming_table(demo)
    table = table.iloc[::-1].set_axis(np.arange(len(table)) * 7 + 3)
    contrib = drivers.contributions(model, table)
    contrib = contrib[list(contrib.columns[::2])]
    assert risk.reason_lists(model, table, contrib, 2) == reference_reason_lists(
        model, table, contrib, 2)


def test_the_demo_plan_s_reasons_and_other_actions_are_the_row_loop_s(demo):
    ctx = demo
    p = ctx.params
    book = drivers.renewals_due_book(
        ctx.renewal_model, ctx.tables, ctx.as_of,
        horizon_days=p.thresholds.renewal_horizon_days, cutoff_days=p.drivers.cutoff_days,
        at_risk_below=0.9, renewal_options=p.renewal_options(),
        feature_options=p.feature_options())
    plan = ap.plan_from_context(ctx, book=book, model_ranks=True, stages=None,
                                stuck=list(ctx.accounts["account_id"][:40]), flags=None,
                                expansion=None, cost=None)
    rules = ap.plan_rules(p)
    body = plan.set_index("account_id", drop=False)
    want_reasons, want_others = reference_reasons_and_others(body, rules, model_ranks=True,
                                                             stuck=list(ctx.accounts[
                                                                 "account_id"][:40]))
    assert plan["next_action_reason"].tolist() == want_reasons
    assert plan["other_actions"].tolist() == want_others
    assert (plan["other_actions"] != "").any() and (plan["next_action"] == "save_play").any()


# --------------------------------------------------------------------------- by hand
def test_reasons_and_other_actions_on_the_hand_plan():
    out = hand_plan()  # every rule met by some account, flags undecided, hostile text
    want_reasons, want_others = reference_reasons_and_others(out, RULES, model_ranks=True,
                                                             stuck=["A4"])
    assert out["next_action_reason"].tolist() == want_reasons
    assert out["other_actions"].tolist() == want_others
    assert set(out["next_action"]) == set(ap.ACTIONS)
    assert out.at["A5", "next_action_reason"] == 'Expansion potential: =HYPERLINK("x")'


def test_other_actions_lists_the_rules_met_besides_the_chosen_in_priority_order():
    met = pd.DataFrame({"save_play": [True, False, True, False],
                        "executive_outreach": [True, True, False, False],
                        "onboarding_rescue": [False, True, True, False],
                        "expansion_conversation": [True, False, True, False]})
    chosen = pd.Series(["save_play", "executive_outreach", "save_play", "no_action"])
    assert ap.other_actions(met, chosen) == [
        "executive_outreach, expansion_conversation", "onboarding_rescue",
        "onboarding_rescue, expansion_conversation", ""]
