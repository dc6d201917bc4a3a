"""The account plan's columns and next actions: what :mod:`playbook.account_plan` builds and
:mod:`playbook.workbook` writes.

Kept apart from :mod:`playbook.account_plan` so that the workbook writer, which the render
process imports, does not import the analyses behind the plan (statsmodels, scipy): about
a second of CPU and 40 MB in a process that only writes files (issue 22).
"""

from __future__ import annotations

#: The next actions, highest priority first (the rules of :mod:`playbook.account_plan`'s docstring).
ACTIONS = ("save_play", "executive_outreach", "onboarding_rescue", "expansion_conversation",
           "no_action")
#: The workbook's columns in order, each with its definition (the header notes of the
#: workbook and the table of ``docs/account-workbook.md``). Names are stable: a CRM import
#: maps them to custom fields.
COLUMNS: dict[str, str] = {
    "account_id": "The account's ID in the client's CRM (accounts.account_id).",
    "account_name": "The account's name (accounts.name).",
    "owner": "The account's owner in the CRM (accounts.owner); blank when none.",
    "segment": "The account's segment (accounts.segment).",
    "mrr": "Monthly recurring revenue at the as-of date (money a month).",
    "value_tier": "Value tier (high / medium / low) by the value score at the as-of date.",
    "lifecycle_stage": "Lifecycle stage at the as-of date; blank when the data do not place "
                       "accounts in stages.",
    "health_band": "Health band (red / yellow / green) of the health score.",
    "health_score": "Health score at the as-of date (0-100; the weighted measures).",
    "health_weakest_1": "The health measure with the lowest score: the one pulling the score "
                        "down most.",
    "health_weakest_1_score": "Score of health_weakest_1 (0-100).",
    "health_weakest_2": "The health measure with the second-lowest score.",
    "health_weakest_2_score": "Score of health_weakest_2 (0-100).",
    "next_renewal_date": "Date of the account's next renewal after the as-of date.",
    "days_to_renewal": "Days from the as-of date to next_renewal_date.",
    "renewal_probability": "Predicted probability that the next renewal is signed (0-1; the "
                           "renewal model, for renewals due within the scoring horizon).",
    "expected_loss": "MRR expected to be lost at the next renewal: (1 - renewal_probability) "
                     "x the renewal's MRR (money a month).",
    "flag_renewal_no_exec": "Renewal due soon and no executive contact recently (TRUE/FALSE; "
                            "blank: undecided for lack of data).",
    "flag_single_threaded": "Fewer strong executive relationships than the segment's rule "
                            "(TRUE/FALSE).",
    "flag_adoption_no_users": "Strong adoption but no strong user relationship (TRUE/FALSE; "
                              "blank: undecided).",
    "flag_drop_no_user_contact": "Active users fell and no user contact recently "
                                 "(TRUE/FALSE; blank: undecided).",
    "flag_champion_left_no_exec": "A champion left within triggers.churn_window_days days "
                                  "and no executive contact since (TRUE/FALSE; blank "
                                  "without a triggers table).",
    "relationship_flags": "How many of the relationship flags are set.",
    "open_trigger": "Latest trigger event (champion_left, funding, ...) in the last "
                    "triggers.open_days days with no logged touch on or after it; blank when "
                    "none (or no triggers table).",
    "open_trigger_date": "Date of open_trigger.",
    "outcome_progress": "Realised value of the account's success outcomes (0-1): mean "
                        "progress to target of each outcome's latest measurement in the last "
                        "outcomes.lookback_days days; blank without one.",
    "expansion_potential_mrr": "Additional MRR the account could reach (money a month), from "
                               "the expansion analysis.",
    "expansion_reason": "Why the account has expansion potential (seats, products, tier).",
    "cost_to_serve": "Cost of serving the account (support, CSM and onboarding hours priced "
                     "per role) over the cost analysis's trailing window: money, not a month.",
    "margin": "Margin after serving over the same window: revenue x gross margin before "
              "serving, less cost_to_serve (money).",
    "next_action": "The one next action, by the rules in priority order: save_play, "
                   "executive_outreach, onboarding_rescue, expansion_conversation, no_action.",
    "next_action_due": "Date by which the next action is due (blank for no_action).",
    "next_action_reason": "The facts that triggered the next action.",
    "other_actions": "Lower-priority rules the account also meets (comma separated).",
}
#: Columns holding money (a month unless stated), shares 0-1 and dates: the workbook's
#: number formats.
MONEY_COLUMNS = ("mrr", "expected_loss", "expansion_potential_mrr", "cost_to_serve", "margin")
SHARE_COLUMNS = ("renewal_probability", "outcome_progress")
DATE_COLUMNS = ("next_renewal_date", "next_action_due", "open_trigger_date")
