"""Parameters: shared defaults -> ``params/<client>.yaml`` -> command line, merged and validated.

Every key a client may set is declared by the models below; their default values live in
``playbook/defaults.yaml`` (one source for defaults). An unknown key or a wrong type is a
:class:`~playbook.errors.ParamsError` that names the key and the file that set it.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import difflib
import re
import typing
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from playbook import paths
from playbook.contract import TABLES
from playbook.errors import ClientNameError, ParamsError
from playbook.yamlsafe import load_yaml_file

CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class ClientParams(_Strict):
    name: str
    currency: str
    data_dir: str

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        """An ISO 4217 code: three capital letters (it is printed beside every amount)."""
        if not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError("the currency must be an ISO 4217 code of three capital "
                             "letters, e.g. USD, EUR, GBP, CHF")
        return value


class PeriodParams(_Strict):
    period: str
    as_of: str
    trailing_months: int = Field(ge=1, le=60)


# --------------------------------------------------------------------------- table assembly
# Declarative only (playbook.assembly): joins, row filters and derived columns are data read
# by fixed code; no client text is ever evaluated.


def _yaml_true_key(data: Any, key: str) -> Any:
    """YAML 1.1 reads an unquoted ``on`` key as the boolean true: take it back as ``key``."""
    if isinstance(data, dict) and True in data and key not in data:
        data = dict(data)
        data[key] = data.pop(True)
    return data


class JoinParams(_Strict):
    """One file joined onto a table's file (``tables.<table>.join[i]``).

    ``on``: the key column, one header in both files, or ``{header in the table's file:
    header in this file}``. The joined file must hold each key once (one-to-one or
    many-to-one). It is read with its own sheet, header row, delimiter and encoding; its
    values are parsed with the table's decimal mark and date settings.
    """

    file: str
    on: str | dict[str, str]
    how: Literal["left", "inner"] = "left"  # left: keep unmatched rows; inner: drop them
    columns: list[str] | dict[str, str] | None = None  # None: every column of the file
    sheet: str | int | None = None
    header_row: int = Field(default=1, ge=1)
    delimiter: str | None = None
    encoding: str | None = None

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


class RowFilter(_Strict):
    """One row filter (``tables.<table>.filter[i]``): exactly one of ``equals``, ``in``,
    ``not_in``, ``is_blank`` on one column of the file. Values are compared as text,
    ignoring case and surrounding spaces."""

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


class MonthsBefore(_Strict):
    """``date`` (a header, or ``as_of``) minus the whole number of months in ``months``."""

    date: str
    months: str


class FromTable(_Strict):
    """The value of ``column`` of the already loaded table, matched by ``account_id``."""

    table: Literal["accounts"]
    column: str


DERIVE_RULES = ("months_before", "constant_date", "copy", "from_table")


with warnings.catch_warnings():  # the field `copy` is the params word: it shadows the
    # deprecated BaseModel.copy on purpose (pydantic warns when the class is made)
    warnings.filterwarnings("ignore", 'Field name "copy"', UserWarning)

    class DeriveParams(_Strict):
        """How one canonical column is derived (``tables.<table>.derive.<column>``): exactly
        one of the rules in :data:`DERIVE_RULES` (see :mod:`playbook.assembly`)."""

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


class TableParams(_Strict):
    """Where one canonical table comes from and how the client's file maps onto it."""

    file: str
    sheet: str | int | None = None
    header_row: int = Field(default=1, ge=1)
    delimiter: str | None = None
    decimal: str = "."
    thousands: str | None = None
    encoding: str | None = None
    date_format: str | None = None
    dayfirst: bool = False
    layout: Literal["monthly", "lines", "events"] = "monthly"  # events: usage only
    end_inclusive: bool = False  # lines: the end date is the last day covered (else exclusive)
    mrr_basis: Literal["month_end", "prorated"] = "month_end"  # lines: see playbook.billing
    amount_per: Literal["month", "period"] = "month"  # lines: mrr holds a monthly amount, or
    # the amount billed for the line's whole period (divided by its months)
    gaps: Literal["fill", "keep", "error"] = "fill"  # mrr, monthly: a month missing inside
    # an account's billed series (policy: playbook.loader.mrr_gaps)
    columns: dict[str, str | None] = Field(default_factory=dict)  # None: left unmapped
    codes: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Table assembly (playbook.assembly), applied in this order: joins, filters, derive.
    join: list[JoinParams] = Field(default_factory=list)
    filter: list[RowFilter] = Field(default_factory=list)
    derive: dict[str, DeriveParams] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _assembly_fits(self) -> TableParams:
        both = sorted(set(self.derive) & set(self.columns))
        if both:
            raise ValueError(f"{both} set under both columns and derive: a column is mapped "
                             "from the file or derived, not both; remove one")
        if self.layout == "events" and (self.join or self.filter or self.derive
                                        or None in self.columns.values()):
            raise ValueError("join, filter, derive and null columns are not available with "
                             "layout: events (the event file is aggregated as it is read)")
        return self


class ReportParams(_Strict):
    title: str
    version: str
    paper: Literal["A4", "Letter"]
    detail: Literal["standard", "full"] = "standard"
    confidential: bool
    notebooks: list[str]


class Thresholds(_Strict):
    small_group_n: int = Field(ge=1)
    segmentation_min_accounts: int = Field(ge=1)
    segmentation_revisit_accounts: int = Field(ge=1)
    exec_contact_days_before_renewal: int = Field(ge=0)
    user_contact_days_after_drop: int = Field(ge=0)
    strong_exec_relationships_enterprise: int = Field(ge=0)
    strong_exec_relationships_smb: int = Field(ge=0)
    usage_drop_share: float = Field(gt=0, lt=1)
    low_nps: float = Field(ge=0, le=10)
    renewal_horizon_days: int = Field(ge=1)
    top3_concentrated_share: float = Field(gt=0, le=1)
    uninformative_reason_share: float = Field(gt=0, le=1)
    surprise_bands: list[str]
    growth_target: float = Field(ge=-1)
    strong_adoption_depth: float = Field(default=0.7, ge=0, le=1)
    enterprise_segments: list[str] = Field(default_factory=lambda: ["Enterprise"])


class HealthMeasureOptions(_Strict):
    usage_trend_weight: float = Field(default=0.25, ge=0, le=1)
    usage_fall_to_zero: float = Field(default=0.5, gt=0, le=1)
    ticket_window_days: int = Field(default=90, ge=1)
    tickets_to_zero: int = Field(default=5, ge=1)


class HealthParams(_Strict):
    scale_max: int
    bands: dict[str, float | dict[str, float]]  # one set, or per segment with a "default"
    weights: dict[str, float]
    measure_options: HealthMeasureOptions = Field(default_factory=HealthMeasureOptions)
    backtest_months: int = Field(default=24, ge=1)
    backtest_min_auc: float = Field(default=0.65, ge=0.5, le=1)
    backtest_folds: int = Field(default=5, ge=2)


class TouchTier(_Strict):
    accounts_per_csm: tuple[int, int]
    touches: dict[str, float]
    role: str = ""  # role that serves the tier (prices it via loaded_cost_per_role)


class TouchModelParams(_Strict):
    tiers: dict[str, TouchTier]
    hours_per_touch: dict[str, float]
    csm_hours_per_year: float = Field(gt=0)
    account_admin_hours_per_year: dict[str, float]
    loaded_cost_per_csm: float = Field(ge=0)
    prep_hours_per_touch: dict[str, float] = Field(default_factory=dict)
    travel_hours_per_touch: dict[str, float] = Field(default_factory=dict)
    program_hours_per_touch: dict[str, float] = Field(default_factory=dict)
    loaded_cost_per_role: dict[str, float] = Field(default_factory=dict)
    account_growth: float = Field(default=0.0, ge=-1)
    growth_years: int = Field(default=3, ge=0, le=10)
    top_tier_shifts: list[float] = Field(default_factory=list)


class ValueParams(_Strict):
    tier_shares: dict[str, float]
    weights: dict[str, float]
    tier_method: Literal["shares", "cutoffs"] = "shares"
    tier_cutoffs: dict[str, float] = Field(default_factory=dict)
    stable_share: float = Field(default=0.9, gt=0, le=1)


class LifecycleParams(_Strict):
    onboarding_steps: list[str] = Field(default_factory=list)
    onboarding_days: int = Field(default=90, ge=0)
    active_depth: float = Field(default=0.5, ge=0, le=1)
    expanding_growth: float = Field(default=0.10, ge=0)
    transformational_depth: float = Field(default=0.8, ge=0, le=1)
    transformational_products: int = Field(default=3, ge=0)
    stuck_onboarding_days: int = Field(default=120, ge=1)
    history_months: int = Field(default=24, ge=1, le=120)
    cohort_months: int = Field(default=24, ge=1)


class ClvParams(_Strict):
    gross_margin: float = Field(default=0.75, gt=0, le=1)
    discount_rate: float = Field(default=0.10, gt=-1)
    horizon_months: int = Field(default=60, ge=1, le=600)


class DriversParams(_Strict):
    cutoff_days: int = Field(ge=0)
    cv_folds: int = Field(ge=2)
    random_seed: int
    features: list[str]
    sponsor_roles: list[str]
    exec_by_seniority: bool
    nps_lookback_days: int = Field(ge=1)
    nps_no_answer: Literal["missing", "not_detractor", "detractor"]
    contact_days_cap: int = Field(ge=1)
    final_onboarding_step: str
    at_risk_probability: float = Field(default=0.75, gt=0, lt=1)
    open_book_rows: int = Field(default=12, ge=1)


class ChurnParams(_Strict):
    recognise_at: Literal["cancellation", "end_of_paid_period"]
    churn_date_from_billing: Literal["first_unbilled_month", "last_paid_day"]
    reactivation_window_months: int = Field(ge=0)
    count_same_month_churn: bool
    uninformative_reasons: list[str]
    reason_rules: dict[str, list[str]] = Field(default_factory=dict)


class ScenarioParams(_Strict):
    years: int = Field(ge=1, le=10)
    growth: float | None = Field(default=None, ge=-1)
    churn_rates: list[float]
    compounding: Literal["monthly", "yearly"]
    churn_base: Literal["current", "starting"]
    discount_rate: float = Field(default=0.1, ge=0)
    churn_point: float = Field(default=0.01, gt=0, lt=1)
    levers: dict[str, float] = Field(default_factory=dict)
    max_churn: float = Field(default=1.0, gt=0)
    max_growth: float = Field(default=2.0, gt=0)


class ContractsParams(_Strict):
    """What the accounts' renewal date means and how long each account's contract runs."""

    renewal_date_means: Literal["next", "last", "contract_end"] = "next"
    term_months: int = Field(default=12, ge=1, le=120)
    term_by_type: dict[str, int] = Field(default_factory=dict)

    @field_validator("term_by_type")
    @classmethod
    def _terms_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        """Every contract type's term is a whole number of months from 1 to 120."""
        bad = {k: v for k, v in value.items() if not 1 <= v <= 120}
        if bad:
            raise ValueError(f"contract terms must be 1 to 120 months; got {bad}")
        return value


class DataParams(_Strict):
    max_rejected_share: float = Field(ge=0, le=1)


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


class VariableParams(_Strict):
    """One of the client's own variables: a column of its accounts (or usage) export that is
    an attribute of the account at the as-of date (contract type, plan, referrals...).

    It enters churn-by-variable and the driver model beside the built-in features. A column
    recorded after the outcome (a churn category, a cancellation reason) must never be one.
    """

    table: Literal["accounts", "usage"] = "accounts"
    column: str = Field(min_length=1, max_length=200)  # header in the client's file
    kind: Literal["categorical", "numeric"]
    label: str = Field(default="", max_length=60)  # shown in exhibits; "" = from the key
    reference: str | None = Field(default=None, max_length=200)  # categorical: compared with
    unit: str = Field(default="", max_length=40)   # numeric: one unit, e.g. "referral"
    scale: float = Field(default=1.0, gt=0, lt=1e12)  # numeric: odds ratio per `scale` units

    @model_validator(mode="after")
    def _fields_of_kind(self) -> VariableParams:
        """``reference`` is for categorical variables, ``unit`` and ``scale`` for numeric."""
        if self.kind == "numeric" and self.reference is not None:
            raise ValueError("`reference` applies to kind: categorical only (a numeric "
                             "variable's odds ratio is per `scale` units)")
        if self.kind == "categorical" and ({"unit", "scale"} & self.model_fields_set):
            raise ValueError("`unit` and `scale` apply to kind: numeric only (a categorical "
                             "variable is compared with its `reference` level)")
        if any(c in self.label for c in "[]"):
            raise ValueError("a label cannot contain '[' or ']' (they mark a level)")
        return self


def variable_label(key: str, variable: VariableParams) -> str:
    """The name shown for a variable: its ``label``, else the key in words."""
    text = variable.label.strip() or key.replace("_", " ")
    return text[:1].upper() + text[1:]


def _check_variables(variables: dict[str, VariableParams],
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


class Params(_Strict):
    """The merged, validated parameters of one run."""

    client: ClientParams
    period: PeriodParams
    tables: dict[str, TableParams]
    report: ReportParams
    thresholds: Thresholds
    health: HealthParams
    touch_model: TouchModelParams
    value: ValueParams
    lifecycle: LifecycleParams = Field(default_factory=LifecycleParams)
    clv: ClvParams = Field(default_factory=ClvParams)
    drivers: DriversParams
    churn: ChurnParams
    contracts: ContractsParams = Field(default_factory=ContractsParams)
    scenarios: ScenarioParams
    data: DataParams
    variables: dict[str, VariableParams] = Field(default_factory=dict)

    # Derived after validation (not settable from files).
    client_id: str = Field(default="", exclude=True)
    period_label: str = Field(default="", exclude=True)
    period_start: dt.date | None = Field(default=None, exclude=True)
    as_of: dt.date | None = Field(default=None, exclude=True)
    sources: dict[str, str] = Field(default_factory=dict, exclude=True)

    @field_validator("tables")
    @classmethod
    def _known_tables(cls, value: dict[str, TableParams]) -> dict[str, TableParams]:
        unknown = sorted(set(value) - set(TABLES))
        if unknown:
            raise ValueError(f"unknown table(s) {unknown}; the data contract has {sorted(TABLES)}")
        return value

    @field_validator("variables")
    @classmethod
    def _valid_variables(cls, value: dict[str, VariableParams], info: ValidationInfo
                         ) -> dict[str, VariableParams]:
        _check_variables(value, info.data.get("tables") or {})
        return value

    def feature_options(self) -> dict[str, Any]:
        """Keyword arguments of ``drivers.modelling_table`` taken from these parameters."""
        d, t = self.drivers, self.thresholds
        return {"usage_drop_share": t.usage_drop_share, "low_nps": t.low_nps,
                "contact_days_cap": d.contact_days_cap, "nps_lookback_days": d.nps_lookback_days,
                "nps_no_answer": d.nps_no_answer, "sponsor_roles": tuple(d.sponsor_roles),
                "exec_by_seniority": d.exec_by_seniority,
                "final_onboarding_step": d.final_onboarding_step or None,
                "variables": dict(self.variables)}

    def renewal_options(self) -> dict[str, Any]:
        """Keyword arguments of ``drivers.renewal_decisions`` and ``drivers.upcoming_renewals``
        taken from these parameters (section ``contracts``)."""
        c = self.contracts
        return {"renewal_date_means": c.renewal_date_means, "term_months": c.term_months}

    @property
    def display_name(self) -> str:
        return self.client.name or self.client_id

    def data_path(self) -> Path:
        """Folder of the client's raw exports: data/<client>/ or ``client.data_dir`` inside
        it (:func:`playbook.paths.client_data_folder`; anything else is a ParamsError)."""
        return paths.client_data_folder(self.client_id, self.client.data_dir)

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-friendly dict of the merged parameters (for the manifest)."""
        out = self.model_dump(mode="json")
        out["derived"] = {
            "client_id": self.client_id,
            "period_label": self.period_label,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }
        return out


# --------------------------------------------------------------------------- layers


def check_client_name(client: str) -> str:
    """Return ``client`` if it is a safe folder name, else raise :class:`ClientNameError`."""
    if not isinstance(client, str) or not CLIENT_NAME.match(client):
        raise ClientNameError(
            f"CLIENT={client!r} cannot be used: a client name is the folder name under data/ "
            "and params/, made of letters, digits, '-' and '_' (no spaces, no '/', no '..').",
            fix="Rename the client, e.g. CLIENT=acme-corp, and its folder data/acme-corp/.",
        )
    return client


def read_yaml(path: Path) -> dict[str, Any]:
    """Read one parameters layer; an empty file is an empty layer.

    Goes through :func:`playbook.yamlsafe.load_yaml_file`: size, nesting and alias limits,
    and a key written twice is an error naming both lines.
    """
    try:
        data = load_yaml_file(path, _display(path))
    except FileNotFoundError:
        raise ParamsError(
            f"Parameters file {path} does not exist.",
            fix=f"Create it (copy params/demo.yaml as a start), or run `make client "
            f"CLIENT={path.stem}` to scaffold it from the files in data/{path.stem}/.",
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParamsError(
            f"{path} must hold a mapping of keys (e.g. `client:`), not a {type(data).__name__}.",
            fix="Start the file with top-level keys such as `client:`, `period:`, `tables:`.",
        )
    return data


def _field_type(model: type[BaseModel], key: str) -> Any:
    return model.model_fields[key].annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def unknown_keys(
    data: Any, model: type[BaseModel], prefix: str = ""
) -> list[tuple[str, list[str]]]:
    """Return ``(dotted key, allowed keys)`` for each key of ``data`` the model does not declare."""
    found: list[tuple[str, list[str]]] = []
    if not isinstance(data, dict):
        return found
    settable = [k for k, f in model.model_fields.items() if not f.exclude]
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in settable:
            found.append((dotted, settable))
            continue
        annotation = _field_type(model, key)
        sub = _model_in(annotation)
        if sub is not None:
            found += unknown_keys(value, sub, dotted + ".")
        elif typing.get_origin(annotation) is dict and isinstance(value, dict):
            inner = _model_in(typing.get_args(annotation)[1])
            if inner is not None:
                for k2, v2 in value.items():
                    found += unknown_keys(v2, inner, f"{dotted}.{k2}.")
    return found


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``; mappings merge key by key, others replace."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _provenance(layers: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """Map every dotted key to the name of the last layer that set it."""
    owner: dict[str, str] = {}

    def walk(d: dict[str, Any], prefix: str, name: str) -> None:
        for k, v in d.items():
            owner[f"{prefix}{k}"] = name
            if isinstance(v, dict):
                walk(v, f"{prefix}{k}.", name)

    for name, data in layers:
        walk(data, "", name)
    return owner


def _source_of(dotted: str, owner: dict[str, str]) -> str:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in owner:
            return owner[key]
    return "the merged parameters"


# --------------------------------------------------------------------------- period


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def parse_period(text: str) -> tuple[dt.date, dt.date, str]:
    """Return ``(first day, last day, label)`` of a period written as 2026-Q3, 2026-H2,
    2026-09 or 2026."""
    t = text.strip().upper()
    if m := re.fullmatch(r"(\d{4})-?Q([1-4])", t):
        y, q = int(m[1]), int(m[2])
        return dt.date(y, 3 * q - 2, 1), _month_end(y, 3 * q), f"{y}-Q{q}"
    if m := re.fullmatch(r"(\d{4})-?H([12])", t):
        y, h = int(m[1]), int(m[2])
        return dt.date(y, 6 * h - 5, 1), _month_end(y, 6 * h), f"{y}-H{h}"
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", t):
        y, mo = int(m[1]), int(m[2])
        if 1 <= mo <= 12:
            return dt.date(y, mo, 1), _month_end(y, mo), f"{y}-{mo:02d}"
    if m := re.fullmatch(r"(\d{4})", t):
        y = int(m[1])
        return dt.date(y, 1, 1), dt.date(y, 12, 31), f"{y}"
    raise ParamsError(
        f"Period {text!r} is not understood.",
        fix="Write a quarter (2026-Q3), a half (2026-H2), a month (2026-09) or a year (2026).",
    )


def parse_as_of(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ParamsError(
            f"AS_OF={text!r} is not a date.", fix="Write it as YYYY-MM-DD, e.g. AS_OF=2026-09-30."
        ) from None


def resolve_period(period: str, as_of: str) -> tuple[dt.date, dt.date, str]:
    """Return ``(period start, as-of date, label)`` from the period and/or as-of texts.

    * period only: the whole period, as of its last day;
    * as-of only: the quarter containing it, up to that day (label = the quarter if the
      date is the quarter's last day, else the date);
    * both: the period up to ``as_of``, which must fall inside it.
    """
    if period:
        start, end, label = parse_period(period)
        if not as_of:
            return start, end, label
        day = parse_as_of(as_of)
        if not start <= day <= end:
            raise ParamsError(
                f"AS_OF={day} is outside PERIOD={label} ({start} to {end}).",
                fix="Pass a date inside the period, or only one of PERIOD and AS_OF.",
            )
        return start, day, label if day == end else f"{label}-to-{day.isoformat()}"
    if as_of:
        day = parse_as_of(as_of)
        q = (day.month - 1) // 3 + 1
        start, end, label = parse_period(f"{day.year}-Q{q}")
        return start, day, label if day == end else day.isoformat()
    raise ParamsError(
        "No reporting period is set.",
        fix="Set `period: {period: 2026-Q3}` in params/<client>.yaml, or pass PERIOD=2026-Q3 "
        "or AS_OF=2026-09-30 on the command line.",
    )


# --------------------------------------------------------------------------- entry point


def _format_validation(exc: ValidationError, owner: dict[str, str]) -> str:
    lines = []
    for err in exc.errors():
        dotted = ".".join(str(p) for p in err["loc"])
        got = err.get("input")
        got_txt = f" (got {got!r})" if not isinstance(got, dict | list) else ""
        lines.append(f"  {_source_of(dotted, owner)}: key '{dotted}': {err['msg']}{got_txt}")
    return "\n".join(lines)


def load_params(
    client: str,
    *,
    period: str | None = None,
    as_of: str | None = None,
    overrides: dict[str, Any] | None = None,
    params_path: Path | None = None,
) -> Params:
    """Merge defaults, the client's params file and command-line values, and validate them.

    Parameters
    ----------
    client : folder name of the client under ``data/`` and ``params/``.
    period, as_of : command-line values (``PERIOD=2026-Q3``, ``AS_OF=2026-09-30``); they
        override the file's ``period`` section.
    overrides : further command-line values as a nested mapping (highest layer).
    params_path : read this file instead of ``params/<client>.yaml``.
    """
    check_client_name(client)
    defaults_path = paths.defaults_file()
    client_path = params_path or paths.params_file(client)
    cli: dict[str, Any] = copy.deepcopy(overrides or {})
    if period:
        cli.setdefault("period", {})["period"] = period
    if as_of:
        cli.setdefault("period", {})["as_of"] = as_of
    if period and not as_of:
        cli["period"]["as_of"] = ""  # a command-line period replaces the file's as-of date
    layers = [
        (str(defaults_path), read_yaml(defaults_path)),
        (_display(client_path), read_yaml(client_path)),
        ("the command line", cli),
    ]
    problems = []
    for name, data in layers[1:]:
        for dotted, allowed in unknown_keys(data, Params):
            leaf = dotted.rsplit(".", 1)[-1]
            close = difflib.get_close_matches(leaf, allowed, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed here: {', '.join(allowed)}"
            problems.append(f"  {name}: unknown key '{dotted}' ({hint})")
    if problems:
        raise ParamsError(
            "Unknown parameter key(s):\n" + "\n".join(problems),
            fix="Correct the spelling; every key and its default is listed in "
            "playbook/defaults.yaml.",
        )
    merged: dict[str, Any] = {}
    for _, data in layers:
        merged = deep_merge(merged, data)
    owner = _provenance(layers)
    try:
        params = Params.model_validate(merged)
    except ValidationError as exc:
        raise ParamsError(
            "Parameter value(s) of the wrong type or out of range:\n"
            + _format_validation(exc, owner),
            fix="Correct the value(s) in the file named; defaults and comments are in "
            "playbook/defaults.yaml.",
        ) from None
    start, day, label = resolve_period(params.period.period, params.period.as_of)
    params.client_id = client
    params.period_start, params.as_of, params.period_label = start, day, label
    params.sources = {"defaults": str(defaults_path), "client": str(client_path)}
    return params


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.project_root()))
    except ValueError:
        return str(path)
