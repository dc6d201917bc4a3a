"""Data contract v1: the canonical tables and columns every analysis speaks.

This module only *declares* the contract (it is the single source for the loader, the
documentation in ``docs/data-contract.md`` and the demo generator). Reading and validating
client files is ``playbook.loader``.

Column kinds
------------
``id``      text key (kept as text even if it looks like a number)
``text``    free text or a category label
``date``    calendar date (parsed from ISO, DD-MM-YYYY or MM/DD/YYYY by params, Excel serials)
``month``   a date normalised to the first day of its month
``money``   amount in the client's currency (``params.client.currency``), >= 0
``number``  real number
``count``   whole number >= 0
``bool``    true/false (accepts true/false, yes/no, 1/0, y/n)
``code``    one of a fixed set of canonical codes (``codes``); client codes are mapped in params
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str
    required: bool = False
    description: str = ""
    codes: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    #: how the loader derives the column when the file lacks it (a required column mapped
    #: in the params but absent from the file is still an error: the mapping says it is
    #: there; when the file has it, its values must be usable as for any required column)
    derived_from: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[ColumnSpec, ...]
    required: bool = False
    key: tuple[str, ...] = ()
    references_accounts: bool = True
    used_by: tuple[str, ...] = ()
    alternatives: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, kind: str, required: bool = False, description: str = "", **kw) -> ColumnSpec:
    return ColumnSpec(name, kind, required, description, **kw)


ACCOUNT_STATUS = ("active", "churned")
RENEWAL_OUTCOMES = ("renewed", "churned", "downgraded")
CONTACT_ROLES = ("user", "champion", "executive")
SENIORITY = ("c_level", "vp", "director", "manager", "individual")
RELATIONSHIP = ("strong", "medium", "weak")
TOUCH_TYPES = ("call", "email", "meeting", "qbr", "onsite", "webinar")
PRIORITIES = ("low", "medium", "high", "urgent")
TRIGGER_TYPES = ("champion_left", "exec_change", "reorg", "merger_acquisition", "budget_cut",
                 "layoffs", "funding", "new_project", "other")
#: Trigger types that put a renewal at risk (the rest are expansion signals or unknown): the
#: health measure ``risk_events`` counts these.
RISK_TRIGGER_TYPES = ("champion_left", "exec_change", "reorg", "merger_acquisition",
                      "budget_cut", "layoffs")

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        TableSpec(
            "accounts",
            "One row per customer account (the CRM account list).",
            (
                _c("account_id", "id", True, "Unique account identifier."),
                _c("name", "text", description="Account name."),
                _c("industry", "text", description="Industry or vertical."),
                _c("employees", "count", description="Company size in employees."),
                _c("size_band", "text", description="Company size band, if given instead "
                   "of (or beside) employees, e.g. '1-50', 'SMB', 'Enterprise'."),
                _c("region", "text", description="Region or country."),
                _c("owner", "text", description="CSM or account manager who owns the account."),
                _c("segment", "text", description="The client's own segment, if it has one."),
                _c("start_date", "date", True, "Date the account became a paying "
                   "customer.", derived_from="the first billed month of the mrr table"),
                _c("renewal_date", "date", description="Next (or last, if churned) renewal "
                   "date; or the latest renewal, or the end of the current contract, as "
                   "contracts.renewal_date_means says."),
                _c("contract_type", "text", description="Contract type as the client writes "
                   "it, e.g. 'Month-to-month', 'One year'; its term in months comes from "
                   "contracts.term_by_type."),
                _c("contract_term_months", "count", description="Contract term in months "
                   "(1 = month-to-month: no renewal decisions); blank = the term of its "
                   "contract_type, else contracts.term_months.", min=1, max=120,
                   derived_from="contracts.term_by_type applied to contract_type"),
                _c("arr", "money", description="Current annual contract value (ARR)."),
                _c("mrr", "money", description="Current monthly recurring revenue.",
                   derived_from="the last billed month of the mrr table (without mrr and arr)"),
                _c("products", "count", description="Number of products the account owns."),
                _c("status", "code", description="Current status.", codes=ACCOUNT_STATUS,
                   derived_from="billing: no MRR in the as-of month after earlier MRR"),
                _c("churn_date", "date", description="Date the account churned, if it did.",
                   derived_from="billing: the first unbilled month "
                   "(churn.churn_date_from_billing)"),
            ),
            required=True,
            key=("account_id",),
            references_accounts=False,
            used_by=("revenue", "reasons", "drivers", "segments", "health", "capacity"),
        ),
        TableSpec(
            "mrr",
            "Subscription history: MRR per account and month. Either one row per account and "
            "month (account_id, month, mrr) or subscription lines (account_id, start_date, "
            "end_date, mrr) that the loader expands to months (params: tables.mrr.layout).",
            (
                _c("account_id", "id", True, "Account the revenue belongs to."),
                _c("month", "month", True, "Month (any date in it; stored as the 1st)."),
                _c("mrr", "money", True, "Monthly recurring revenue billed in that month."),
                _c("start_date", "date", description="Subscription line start (lines layout)."),
                _c("end_date", "date", description="Subscription line end, blank if open "
                   "(lines layout). Exclusive: the first day no longer paid for (set "
                   "tables.mrr.end_inclusive when the export writes the last paid day)."),
                _c("period_months", "count", description="Months the line's amount pays "
                   "for (lines layout with amount_per: period; default: from its dates)."),
                _c("proration", "bool", description="True for a one-off proration credit or "
                   "charge of a mid-period change (lines layout): left out of MRR."),
            ),
            key=("account_id", "month"),
            used_by=("revenue", "reasons", "segments", "scenarios"),
            alternatives={"lines": ("account_id", "start_date", "end_date", "mrr")},
        ),
        TableSpec(
            "churn_events",
            "One row per cancellation, with the reason the customer gave.",
            (
                _c("account_id", "id", True, "Account that churned."),
                _c("churn_date", "date", True, "Date the cancellation took effect."),
                _c("reason_category", "text", description="Coarse reason category above "
                   "the reason, e.g. 'Price', 'Competitor', 'Other': the churn-reason "
                   "Pareto and its headline read this level when given, with the top "
                   "reasons inside each category."),
                _c("reason_code", "text", description="Coded reason (client codes are kept; "
                   "blank, 'Other', 'Unknown', 'Don't know', 'N/A' and the rest of "
                   "churn.uninformative_reasons count as uninformative)."),
                _c("reason_text", "text", description="Free-text reason."),
                _c("lost_mrr", "money", description="MRR lost with this cancellation."),
            ),
            used_by=("revenue", "reasons", "drivers"),
        ),
        TableSpec(
            "renewals",
            "One row per renewal decision.",
            (
                _c("account_id", "id", True),
                _c("renewal_date", "date", True),
                _c("outcome", "code", True, codes=RENEWAL_OUTCOMES),
                _c("arr_before", "money"),
                _c("arr_after", "money"),
            ),
            used_by=("revenue", "drivers"),
        ),
        TableSpec(
            "usage",
            "Product usage per account and month (or per event date; aggregated to months).",
            (
                _c("account_id", "id", True),
                _c("month", "month", True),
                _c("active_users", "count"),
                _c("licensed_seats", "count"),
                _c("key_actions", "count", description="Count of the product's key actions."),
            ),
            used_by=("drivers", "health", "segments"),
        ),
        TableSpec(
            "tickets",
            "Support tickets.",
            (
                _c("ticket_id", "id"),
                _c("account_id", "id", True),
                _c("opened_at", "date", True),
                _c("closed_at", "date"),
                _c("priority", "code", codes=PRIORITIES),
                _c("hours_spent", "number", min=0),
            ),
            used_by=("drivers", "health"),
        ),
        TableSpec(
            "surveys",
            "Survey answers (NPS 0-10 and/or CSAT 1-5).",
            (
                _c("account_id", "id", True),
                _c("date", "date", True),
                _c("nps", "number", min=0, max=10),
                _c("csat", "number", min=1, max=5),
            ),
            used_by=("drivers", "health"),
        ),
        TableSpec(
            "contacts",
            "People at the customer that the client knows.",
            (
                _c("contact_id", "id", True),
                _c("account_id", "id", True),
                _c("role", "code", codes=CONTACT_ROLES),
                _c("seniority", "code", codes=SENIORITY),
                _c("relationship_strength", "code", codes=RELATIONSHIP),
            ),
            key=("contact_id",),
            used_by=("drivers", "health", "risk"),
        ),
        TableSpec(
            "touches",
            "Logged interactions with the customer.",
            (
                _c("account_id", "id", True),
                _c("contact_id", "id"),
                _c("date", "date", True),
                _c("type", "code", codes=TOUCH_TYPES),
            ),
            used_by=("drivers", "risk", "capacity"),
        ),
        TableSpec(
            "csm_inputs",
            "Subjective scores entered by people (1 = poor, 5 = excellent).",
            (
                _c("account_id", "id", True),
                _c("date", "date"),
                _c("executive_relationship", "number", min=1, max=5),
                _c("champion_quality", "number", min=1, max=5),
                _c("reference_value", "number", min=1, max=5),
            ),
            used_by=("health", "segments"),
        ),
        TableSpec(
            "onboarding",
            "Onboarding milestones reached.",
            (
                _c("account_id", "id", True),
                _c("step", "text", True),
                _c("completed_date", "date", True),
            ),
            used_by=("segments", "drivers"),
        ),
        TableSpec(
            "outcomes",
            "Customer-defined success outcomes (success plans): one row per outcome and "
            "measurement, with its baseline, target and measured value.",
            (
                _c("account_id", "id", True),
                _c("outcome", "text", True, "The outcome the customer wants, e.g. 'Cut "
                   "onboarding time 30%'."),
                _c("metric", "text", description="What is measured, e.g. 'days to onboard'."),
                _c("baseline", "number", description="The metric's value when the outcome "
                   "was agreed (blank: progress cannot be computed)."),
                _c("target", "number", True, "The value that means the outcome is met; "
                   "realised value = (value - baseline) / (target - baseline), so a 'reduce' "
                   "metric (target below baseline) works the same way."),
                _c("value", "number", True, "The metric's measured value."),
                _c("measured_at", "date", True, "Date of the measurement."),
                _c("agreed_at", "date", description="Date the outcome was agreed."),
                _c("owner", "text", description="Who owns the outcome at the vendor."),
            ),
            used_by=("outcomes",),
        ),
        TableSpec(
            "triggers",
            "Trigger events at the customer (the CRM or CS platform timeline): champion or "
            "executive changes, reorganisations, mergers, budget cuts, layoffs, funding, "
            "new projects.",
            (
                _c("account_id", "id", True),
                _c("date", "date", True, "Date of the event (or when it became known)."),
                _c("type", "code", True, "Kind of event; client codes are mapped in params.",
                   codes=TRIGGER_TYPES),
                _c("source", "text", description="Where the event was recorded."),
                _c("note", "text", description="Free text."),
            ),
            used_by=("triggers",),
        ),
    ]
}


def required_tables() -> list[str]:
    return [name for name, t in TABLES.items() if t.required]
