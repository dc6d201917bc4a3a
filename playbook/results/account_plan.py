"""What ``05-account-plan`` records: expansion potential, cost to serve, where to act, and the
account workbook written beside the report.

Money in the client's currency: MRR and potential a month, cost to serve and margin over the
cost window, the "where to act" levers a year; shares 0-1.
"""

from __future__ import annotations

from pydantic import Field

from playbook.results.base import Findings, NotebookResults, Record, Table


class ExpansionScreen(Record):
    """Accounts at each step of the expansion screen
    (:func:`playbook.analyses.expansion.expansion_candidates` ``attrs["screen"]``)."""

    active: int | None = None
    """Accounts active at the as-of date."""
    healthy: int | None = None
    """Of them, in a healthy band (``expansion.healthy_bands``)."""
    adopting: int | None = None
    """Of those, adopting (seat utilisation or activity)."""
    candidates: int | None = None
    """Of those, with headroom: the candidates."""
    potential_mrr: float | None = None
    """Their total potential, MRR a month."""


class ExpansionShare(Record):
    """The expansion part of net retention (:func:`playbook.analyses.expansion.
    expansion_share_of_nrr`, read from the headline metrics)."""

    expansion_share: float | None = None
    """NRR - GRR of the headline base."""
    expansion_mrr: float | None = None
    """The same in MRR a month."""
    nrr: float | None = None
    """Net revenue retention."""
    grr: float | None = None
    """Gross revenue retention."""
    base_mrr: float | None = None
    """MRR of the base."""
    label: str | None = None
    """The window in words."""


class ExpansionModelRecord(Record):
    """The expansion model (:func:`playbook.analyses.expansion.fit_expansion_model`): did an
    account's MRR rise by ``expansion.min_rise_share`` within ``expansion.horizon_months``
    of a cut-off, on features measured at the cut-off."""

    n: int | None = None
    """Account-periods fitted (account x cut-off)."""
    expansions: int | None = None
    """Of them, expanded."""
    auc: float | None = None
    """Mean cross-validated AUC (0.5 = chance)."""
    auc_low: float | None = None
    """Lowest fold's AUC."""
    auc_high: float | None = None
    """Highest fold's AUC."""
    top_decile_lift: float | None = None
    """Expansion rate of the top predicted decile / the overall rate."""
    features: list[str] = Field(default_factory=list)
    """Features kept by the fit's checks."""
    odds_ratios: Table = Field(default_factory=list)
    """Rows ``{term, feature, unit, odds_ratio, or_low, or_high, p_value}``."""


class CostBasis(Record):
    """What the cost to serve rests on (``cost_to_serve`` ``attrs``)."""

    window_start: str | None = None
    """First day of the cost window (ISO)."""
    window_end: str | None = None
    """Last day (the as-of date)."""
    months: int | None = None
    """Months of the window (``period.trailing_months``)."""
    csm_hours: str | None = None
    """``logged`` (touches) or ``planned`` (the touch model's plan: no touch logged)."""
    support_hours: str | None = None
    """``measured`` (tickets) or ``not measured``."""
    onboarding_hours: str | None = None
    """``measured`` (onboarding milestones) or ``not measured``."""


class Unprofitable(Record):
    """Accounts that cost more to serve than their margin before serving, and a lighter
    touch plan (:func:`playbook.analyses.cost_to_serve.lighter_touch_savings`)."""

    accounts: int | None = None
    """Accounts with ``margin < 0`` over the cost window."""
    loss: float | None = None
    """Their negative margin summed, as a positive amount (money over the window)."""
    moved: int | None = None
    """Of them, accounts a lighter plan saves on."""
    money_saved: float | None = None
    """What the lighter plans save (money over the window)."""
    profitable_after: int | None = None
    """Accounts whose margin is non-negative after the move."""


class ActionRow(Record):
    """One next action of the workbook's summary (:func:`playbook.workbook.summary_tables`)."""

    next_action: str | None = None
    """save_play, executive_outreach, onboarding_rescue, expansion_conversation, no_action."""
    accounts: int | None = None
    """Accounts with this next action."""
    mrr: float | None = None
    """Their MRR a month."""
    expected_loss: float | None = None
    """Their expected loss at the next renewal, MRR a month (None: not measured)."""
    expansion_potential_mrr: float | None = None
    """Their expansion potential, MRR a month (None: not measured)."""


class Workbook(Record):
    """The account workbook written beside the report (``accounts.xlsx``,
    ``accounts.csv``; docs/account-workbook.md)."""

    files: list[str] = Field(default_factory=list)
    """File names in the report folder."""
    accounts: int | None = None
    """Rows: accounts active at the as-of date."""
    owners: int | None = None
    """Owner sheets (a blank owner is one "(no owner)" sheet)."""
    model_ranks: bool | None = None
    """The renewal model ranks renewals better than chance (else no save play)."""
    by_action: list[ActionRow] = Field(default_factory=list)
    """The workbook's summary by next action, in priority order."""


class AccountPlanFindings(Findings):
    """Findings of ``05-account-plan``."""

    expansion_screen: ExpansionScreen = Field(default_factory=ExpansionScreen)
    """How many accounts pass each step of the expansion screen."""
    expansion_by_tier: Table = Field(default_factory=list)
    """Rows per value tier ``{value_tier, candidates, potential_mrr, share_of_potential}``
    (potential MRR a month)."""
    expansion_top: Table = Field(default_factory=list)
    """The largest candidates ``{account_id, value_tier, mrr, route, potential_mrr,
    reason}``."""
    expansion_share: ExpansionShare = Field(default_factory=ExpansionShare)
    """Expansion as a part of net retention."""
    expansion_model: ExpansionModelRecord = Field(default_factory=ExpansionModelRecord)
    """What predicts expansion, where the MRR history allows a model."""
    cost_basis: CostBasis = Field(default_factory=CostBasis)
    """The cost window and whether CSM hours were logged or planned."""
    cost_by_tier: Table = Field(default_factory=list)
    """Rows per tier and ``total`` ``{tier, accounts, revenue, support_cost, csm_cost,
    onboarding_cost, cost_to_serve, margin_before_serving, margin, hours, margin_share,
    cost_share, unprofitable}`` (money over the window)."""
    unprofitable: Unprofitable = Field(default_factory=Unprofitable)
    """Accounts costing more to serve than they earn, and the lighter-touch saving."""
    where_by_tier: Table = Field(default_factory=list)
    """Rows per value tier and ``total`` ``{value_tier, accounts, loss_saveable_accounts,
    loss_saveable, expansion_accounts, expansion, serving_saving_accounts, serving_saving,
    total}`` (money a year; :func:`playbook.account_plan.where_to_act`)."""
    where_by_owner: Table = Field(default_factory=list)
    """The same rows per owner and ``total``."""
    workbook: Workbook = Field(default_factory=Workbook)
    """The account workbook's rows and its summary by action."""
    top_accounts: Table = Field(default_factory=list)
    """The appendix's accounts with the most money at play a month, largest first
    ``{account_id, owner, value_tier, expected_loss, expansion_potential_mrr, money_at_play,
    next_action}`` (money a month; :func:`playbook.account_plan.top_accounts`)."""


class AccountPlanResults(NotebookResults):
    """``results.json["05-account-plan"]``."""

    findings: AccountPlanFindings = Field(default_factory=AccountPlanFindings)
