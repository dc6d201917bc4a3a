"""The appendix "Accounts to act on first" (#19): accounts ranked by money at play a month,
expected renewal loss plus expansion potential, on a hand-made plan whose order and sums are
worked out by hand below."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook import account_plan as plan_rules
from playbook.findings import account_plan as story


@pytest.fixture
def plan() -> pd.DataFrame:
    # at play (loss + potential): A 100+0=100, B 0+250=250, C 30+70=100 (MRR 900 > A's 500),
    # D nothing (blank, blank) -> left out, E 400+blank=400, F blank+20=20
    return pd.DataFrame({
        "account_id": ["A", "B", "C", "D", "E", "F"],
        "account_name": ["Alpha", "Beta", None, "Delta", "Echo <b>", "Fox"],
        "owner": ["Ann", "Bo", "Ann", None, "Bo", "Cy"],
        "value_tier": ["high", "low", "medium", "low", "high", "low"],
        "mrr": [500.0, 300.0, 900.0, 50.0, 2000.0, 100.0],
        "next_renewal_date": pd.to_datetime(["2026-11-01", None, "2026-12-24", None,
                                             "2026-10-15", None]),
        "renewal_probability": [0.8, np.nan, 0.9667, np.nan, 0.8, np.nan],
        "expected_loss": [100.0, np.nan, 30.0, np.nan, 400.0, np.nan],
        "expansion_potential_mrr": [np.nan, 250.0, 70.0, np.nan, np.nan, 20.0],
        "next_action": ["save_play", "expansion_conversation", "executive_outreach",
                        "no_action", "save_play", "expansion_conversation"],
    })


def test_accounts_rank_by_expected_loss_plus_expansion_potential(plan):
    top = plan_rules.top_accounts(plan, 10)
    assert list(top["account_id"]) == ["E", "B", "C", "A", "F"]  # D has nothing at play
    assert list(top["money_at_play"]) == [400.0, 250.0, 100.0, 100.0, 20.0]
    assert list(plan_rules.top_accounts(plan, 2)["account_id"]) == ["E", "B"]
    assert plan_rules.money_at_play(plan).sum() == 870.0


def test_a_model_that_cannot_rank_leaves_expected_loss_out(plan):
    top = plan_rules.top_accounts(plan, 10, with_loss=False)
    assert list(top["account_id"]) == ["B", "C", "F"]  # expansion only: 250, 70, 20
    assert plan_rules.money_at_play(plan, with_loss=False).sum() == 340.0


def test_exhibit_title_sums_and_share_of_the_whole_plan(plan):
    top = plan_rules.top_accounts(plan, 3)  # E, B, C: loss 430, potential 320, at play 750
    spec = story.top_accounts_exhibit(top, plan_rules.money_at_play(plan).sum(), len(plan),
                                      "USD", with_loss=True)
    assert spec.title == ("3 accounts hold $430 of expected renewal loss and $320 of "
                          "expansion potential a month, 86% of all the plan's")  # 750 / 870
    assert spec.n == 3
    html = spec.content
    assert html.index("Echo &lt;b&gt;") < html.index("Beta") < html.index(">C<")  # no name: id
    assert "<b>" not in html  # client text escaped
    assert "expansion conversation" in html and "24\u00a0Dec\u00a02026" in html
    assert "of the 6 active accounts" in spec.notes


def test_exhibit_without_a_ranking_model_names_no_expected_loss(plan):
    top = plan_rules.top_accounts(plan, 50, with_loss=False)
    spec = story.top_accounts_exhibit(top, plan_rules.money_at_play(plan, with_loss=False)
                                      .sum(), len(plan), "USD", with_loss=False)
    assert spec.title == ("3 accounts hold $340 of expansion potential a month, 100% of all "
                          "the plan's")
    assert "expected loss" not in spec.content
    assert "no better than chance" in spec.notes


def test_nothing_at_play_is_said_in_one_line(plan):
    empty = plan.assign(expected_loss=np.nan, expansion_potential_mrr=np.nan)
    top = plan_rules.top_accounts(empty, 50)
    assert top.empty
    spec = story.top_accounts_exhibit(top, 0.0, len(plan), "USD", with_loss=True)
    assert spec.title.startswith("No account has an expected renewal loss")
    assert isinstance(spec.content, pd.DataFrame) and spec.content.empty  # one line, no table
