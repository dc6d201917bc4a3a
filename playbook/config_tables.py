"""Parameters of one table (``tables.<table>``) and of the client's variables (``variables``).

Where a canonical table comes from and how the client's file maps onto it, the declarative
table assembly (joins, row filters, derived columns: :mod:`playbook.assembly`) and the
client's own variables. Loading, merging and validating the layers is :mod:`playbook.config`.

A key an entry leaves out (a table, a join, a variable, a touch tier) takes its value from
the section ``entry_defaults`` of ``playbook/defaults.yaml``, the one home of defaults: the
entry models declare no default of their own, and :class:`EntryModel` merges that section
in while validating (:func:`playbook.config.load_params` hands it over as the validation
context). The only defaults written here are ``None`` for the keys of a rule that names
exactly one of several keys (:class:`RowFilter`, :class:`DeriveParams`): there ``None``
means "not this one", not a value.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from copy import deepcopy
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator


class ParamsModel(BaseModel):
    """Base of every parameters model: a key the model does not declare is an error."""

    model_config = ConfigDict(extra="forbid", frozen=False)


class EntryModel(ParamsModel):
    """One entry of a mapping or list of parameters (a table, a join, a variable, a tier).

    The keys the entry leaves out come from ``entry_defaults.<entry_section>`` of
    ``playbook/defaults.yaml``, given as the validation context
    (``model_validate(data, context=entry_defaults())``). Without that context every key is
    required.
    """

    #: The section of ``entry_defaults`` in ``playbook/defaults.yaml`` for this model.
    entry_section: ClassVar[str]

    @model_validator(mode="before")
    @classmethod
    def _entry_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        defaults = (info.context or {}).get(cls.entry_section)
        if not isinstance(data, dict) or defaults is None:
            return data
        cls._check_given(data)
        return {**deepcopy(defaults), **data}

    @classmethod
    def _check_given(cls, data: dict[str, Any]) -> None:
        """Checks on the keys the entry itself gives, before the defaults are merged in
        (raise ValueError); none by default."""


# --------------------------------------------------------------------------- table assembly
# Declarative only (playbook.assembly): joins, row filters and derived columns are data read
# by fixed code; no client text is ever evaluated.


def _yaml_true_key(data: Any, key: str) -> Any:
    """YAML 1.1 reads an unquoted ``on`` key as the boolean true: take it back as ``key``."""
    if isinstance(data, dict) and True in data and key not in data:
        data = dict(data)
        data[key] = data.pop(True)
    return data


class JoinParams(EntryModel):
    """One file joined onto a table's file (``tables.<table>.join[i]``).

    ``on``: the key column, one header in both files, or ``{header in the table's file:
    header in this file}``. The joined file must hold each key once (one-to-one or
    many-to-one). It is read with its own sheet, header row, delimiter and encoding; its
    values are parsed with the table's decimal mark and date settings.
    """

    entry_section: ClassVar[str] = "join"

    file: str
    on: str | dict[str, str]
    how: Literal["left", "inner"]  # left: keep unmatched rows; inner: drop them
    columns: list[str] | dict[str, str] | None  # None: every column of the file
    sheet: str | int | None
    header_row: int = Field(ge=1)
    delimiter: str | None
    encoding: str | None

    @model_validator(mode="before")
    @classmethod
    def _unquoted_on(cls, data: Any) -> Any:
        return _yaml_true_key(data, "on")

    @field_validator("on")
    @classmethod
    def _one_key(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(value, dict) and len(value) != 1:
            raise ValueError("give one key column, or one pair {header in the table's file: "
                             "header in the joined file}")
        return value


FilterValue = str | int | float


def _no_yaml_bool(value: Any) -> Any:
    """A filter value YAML read as true/false was an unquoted Yes/No/On/Off in the file."""
    values = value if isinstance(value, list) else [value]
    if any(isinstance(v, bool) for v in values):
        raise ValueError("YAML reads unquoted yes/no/on/off/true/false as true or false; "
                         "write the value in quotes as the file writes it, e.g. "
                         "equals: \"Yes\"")
    return value


class RowFilter(ParamsModel):
    """One row filter (``tables.<table>.filter[i]``): exactly one of ``equals``, ``in``,
    ``not_in``, ``is_blank`` on one column of the file. Values are compared as text,
    ignoring case and surrounding spaces. ``None``: the test not given (not a default)."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    column: str
    equals: FilterValue | None = None
    in_: list[FilterValue] | None = Field(default=None, alias="in")
    not_in: list[FilterValue] | None = None
    is_blank: bool | None = None

    @field_validator("equals", "in_", "not_in", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        return _no_yaml_bool(value)

    @model_validator(mode="after")
    def _one_test(self) -> RowFilter:
        given = [k for k, v in (("equals", self.equals), ("in", self.in_),
                                ("not_in", self.not_in), ("is_blank", self.is_blank))
                 if v is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of equals, in, not_in, is_blank beside column"
                             + (f" (got {', '.join(given)})" if given else ""))
        return self


class MonthsBefore(ParamsModel):
    """``date`` (a header, or ``as_of``) minus the whole number of months in ``months``."""

    date: str
    months: str


class FromTable(ParamsModel):
    """The value of ``column`` of the already loaded table, matched by ``account_id``."""

    table: Literal["accounts"]
    column: str


DERIVE_RULES = ("months_before", "constant_date", "copy", "from_table")


with warnings.catch_warnings():  # the field `copy` is the params word: it shadows the
    # deprecated BaseModel.copy on purpose (pydantic warns when the class is made)
    warnings.filterwarnings("ignore", 'Field name "copy"', UserWarning)

    class DeriveParams(ParamsModel):
        """How one canonical column is derived (``tables.<table>.derive.<column>``): exactly
        one of the rules in :data:`DERIVE_RULES` (see :mod:`playbook.assembly`).
        ``None``: the rule not given (not a default)."""

        months_before: MonthsBefore | None = None
        constant_date: dt.date | Literal["as_of"] | None = None
        copy: str | None = None
        from_table: FromTable | None = None

        @model_validator(mode="after")
        def _one_rule(self) -> DeriveParams:
            given = [k for k in DERIVE_RULES if getattr(self, k) is not None]
            if len(given) != 1:
                raise ValueError(f"give exactly one of {', '.join(DERIVE_RULES)}"
                                 + (f" (got {', '.join(given)})" if given else ""))
            return self

        @property
        def rule(self) -> str:
            """The name of the rule given."""
            return next(k for k in DERIVE_RULES if getattr(self, k) is not None)


class TableParams(EntryModel):
    """Where one canonical table comes from and how the client's file maps onto it
    (what each key means, and its default: ``entry_defaults.tables`` in defaults.yaml)."""

    entry_section: ClassVar[str] = "tables"

    file: str
    sheet: str | int | None
    header_row: int = Field(ge=1)
    delimiter: str | None
    decimal: str
    thousands: str | None
    encoding: str | None
    date_format: str | None
    dayfirst: bool
    layout: Literal["monthly", "lines", "events"]  # events: usage only
    end_inclusive: bool
    mrr_basis: Literal["month_end", "prorated"]  # lines: see playbook.billing
    amount_per: Literal["month", "period"]
    gaps: Literal["fill", "keep", "error"]  # policy: playbook.mrr_history.mrr_gaps
    columns: dict[str, str | None]  # None: left unmapped
    codes: dict[str, dict[str, str]]
    # Table assembly (playbook.assembly), applied in this order: joins, filters, derive.
    join: list[JoinParams]
    filter: list[RowFilter]
    derive: dict[str, DeriveParams]

    @model_validator(mode="after")
    def _assembly_fits(self) -> TableParams:
        both = sorted(set(self.derive) & set(self.columns))
        if both:
            raise ValueError(f"{both} set under both columns and derive: a column is mapped "
                             "from the file or derived, not both; remove one")
        if self.layout == "events" and (self.derive or None in self.columns.values()):
            raise ValueError("derive and null columns are not available with layout: events "
                             "(the event file's rows are counted, not mapped; join and "
                             "filter are)")
        return self


#: Canonical columns that record the outcome (churn or renewal): a client variable taken from
#: one of them (or any churn_events column) would let the model see the answer.
OUTCOME_COLUMNS = {"accounts": ("status", "churn_date"), "renewals": ("outcome",)}
VARIABLE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: The loader keeps variable ``<key>`` as the column ``var_<key>`` of its canonical table.
VARIABLE_PREFIX = "var_"
#: Names a variable's label cannot take: columns of the driver modelling table.
RESERVED_FEATURE_NAMES = frozenset({
    "account_id", "decision_date", "cutoff_date", "renewed", "downgraded", "arr_before",
    "source", "churned", "active_users", "active_users_change_3m", "usage_change_share_3m",
    "usage_decline", "seat_utilisation", "last_nps", "last_csat", "nps_detractor",
    "tickets_90d", "high_priority_tickets_90d", "ticket_hours_90d",
    "strong_user_relationships", "exec_relationships", "strong_exec_relationships",
    "exec_sponsor", "days_since_user_contact", "days_since_exec_contact", "tenure_years",
    "products", "contract_value", "log2_contract_value", "segment", "onboarding_steps",
    "onboarding_incomplete"})


class VariableParams(EntryModel):
    """One of the client's own variables: a column of its accounts (or usage) export that is
    an attribute of the account at the as-of date (contract type, plan, referrals...).

    It enters churn-by-variable and the driver model beside the built-in features. A column
    recorded after the outcome (a churn category, a cancellation reason) must never be one.
    """

    entry_section: ClassVar[str] = "variables"

    table: Literal["accounts", "usage"]
    column: str = Field(min_length=1, max_length=200)  # header in the client's file
    kind: Literal["categorical", "numeric"]
    label: str = Field(max_length=60)  # shown in exhibits; "" = from the key
    reference: str | None = Field(max_length=200)  # categorical: compared with
    unit: str = Field(max_length=40)   # numeric: one unit, e.g. "referral"
    scale: float = Field(gt=0, lt=1e12)  # numeric: odds ratio per `scale` units
    recorded: str | None = Field(max_length=200)  # accounts: header of the date each value
    # was recorded; a value recorded after a decision's cut-off leaves the variable out of
    # the renewal model as possible leakage

    @classmethod
    def _check_given(cls, data: dict[str, Any]) -> None:
        """``unit`` and ``scale`` are given for numeric variables only."""
        if data.get("kind") == "categorical" and {"unit", "scale"} & set(data):
            raise ValueError("`unit` and `scale` apply to kind: numeric only (a categorical "
                             "variable is compared with its `reference` level)")

    @model_validator(mode="after")
    def _fields_of_kind(self) -> VariableParams:
        """``reference`` is for categorical variables; a label has no brackets."""
        if self.kind == "numeric" and self.reference is not None:
            raise ValueError("`reference` applies to kind: categorical only (a numeric "
                             "variable's odds ratio is per `scale` units)")
        if any(c in self.label for c in "[]"):
            raise ValueError("a label cannot contain '[' or ']' (they mark a level)")
        if self.recorded is not None and self.table != "accounts":
            raise ValueError("`recorded` applies to table: accounts only (a usage variable "
                             "is dated by its month)")
        return self


def variable_label(key: str, variable: VariableParams) -> str:
    """The name shown for a variable: its ``label``, else the key in words."""
    text = variable.label.strip() or key.replace("_", " ")
    return text[:1].upper() + text[1:]


def check_variables(variables: dict[str, VariableParams],
                    tables: dict[str, TableParams]) -> None:
    """Keys, labels and leakage of the declared variables (ValueError naming the key)."""
    labels: dict[str, str] = {}
    for key, var in variables.items():
        where = f"variables.{key}"
        if not VARIABLE_KEY.match(key):
            raise ValueError(f"{where}: a variable's key is lower-case letters, digits and "
                             "'_', starting with a letter (at most 40), e.g. contract_type")
        name = variable_label(key, var)
        if name.lower() in RESERVED_FEATURE_NAMES or name.replace(" ", "_").lower() in \
                RESERVED_FEATURE_NAMES:
            raise ValueError(f"{where}: the label '{name}' is the name of a built-in "
                             "feature; give the variable another label")
        if name.lower() in labels:
            raise ValueError(f"{where}: the label '{name}' is also the label of "
                             f"variables.{labels[name.lower()]}; labels must differ")
        labels[name.lower()] = key
        var.label = name  # resolved once: every exhibit shows this name
        if var.table not in tables:
            raise ValueError(f"{where}.table is '{var.table}', which is not configured under "
                             f"`tables`; declare the variable on a table that is")
        if var.table == "usage" and tables["usage"].layout == "events":
            raise ValueError(f"{where}: a usage variable needs tables.usage.layout: monthly "
                             "(an event file is aggregated, its other columns are not kept)")
        _check_leakage(where, var, tables)


def _check_leakage(where: str, var: VariableParams, tables: dict[str, TableParams]) -> None:
    """Refuse a column that records the outcome: mapped to churn_events, or to a canonical
    outcome column, or named like one, or naming churn."""
    header = _normalised(var.column)
    events = tables["churn_events"].columns if "churn_events" in tables else {}
    for column, mapped in events.items():
        if isinstance(mapped, str) and _normalised(mapped) == header:
            raise ValueError(
                f"{where}.column '{var.column}' is mapped to churn_events.{column}: it is "
                "recorded when the customer leaves, so as a variable it would give the model "
                "the answer. Remove the variable")
    for table, columns in OUTCOME_COLUMNS.items():
        mapping = tables[table].columns if table in tables else {}
        for column in columns:
            mapped = mapping.get(column) or column
            if header in (_normalised(mapped), _normalised(column)):
                raise ValueError(
                    f"{where}.column '{var.column}' is the outcome column {table}.{column}: "
                    "a variable must be known before the outcome. Remove the variable")
    if "churn" in header:
        raise ValueError(
            f"{where}.column '{var.column}' names churn: a churn category, reason, flag or "
            "score is recorded with (or after) the outcome and must not be a variable. "
            "Remove the variable")


def _normalised(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())
