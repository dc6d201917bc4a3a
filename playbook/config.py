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
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from playbook import paths
from playbook.config_tables import (
    EntryModel,
    ParamsModel,
    TableParams,
    VariableParams,
    check_variables,
)
from playbook.contract import TABLES
from playbook.errors import ClientNameError, ParamsError
from playbook.yamlsafe import load_yaml_file

CLIENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class ClientParams(ParamsModel):
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


class PeriodParams(ParamsModel):
    period: str
    as_of: str
    trailing_months: int = Field(ge=1, le=60)


class ReportParams(ParamsModel):
    title: str
    version: str
    paper: Literal["A4", "Letter"]
    detail: Literal["standard", "full"]
    confidential: bool
    notebooks: list[str]
    slides: bool  # also write report.pptx, the editable deck (playbook.slides)


class Thresholds(ParamsModel):
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
    strong_adoption_depth: float = Field(ge=0, le=1)
    enterprise_segments: list[str]


class HealthMeasureOptions(ParamsModel):
    usage_trend_weight: float = Field(ge=0, le=1)
    usage_fall_to_zero: float = Field(gt=0, le=1)
    ticket_window_days: int = Field(ge=1)
    tickets_to_zero: int = Field(ge=1)


class HealthParams(ParamsModel):
    scale_max: int
    bands: dict[str, float | dict[str, float]]  # one set, or per segment with a "default"
    weights: dict[str, float]
    measure_options: HealthMeasureOptions
    backtest_months: int = Field(ge=1)
    backtest_min_auc: float = Field(ge=0.5, le=1)
    backtest_folds: int = Field(ge=2)
    reweight_min_gain: float = Field(ge=0, le=0.5)


class TouchTier(EntryModel):
    """One tier of the touch model (``touch_model.tiers.<tier>``); its default role is
    ``entry_defaults.tiers`` in defaults.yaml."""

    entry_section: ClassVar[str] = "tiers"

    accounts_per_csm: tuple[int, int]
    touches: dict[str, float]
    role: str  # role that serves the tier (prices it via loaded_cost_per_role)


class TouchModelParams(ParamsModel):
    tiers: dict[str, TouchTier]
    hours_per_touch: dict[str, float]
    csm_hours_per_year: float = Field(gt=0)
    account_admin_hours_per_year: dict[str, float]
    loaded_cost_per_csm: float = Field(ge=0)
    prep_hours_per_touch: dict[str, float]
    travel_hours_per_touch: dict[str, float]
    program_hours_per_touch: dict[str, float]
    loaded_cost_per_role: dict[str, float]
    account_growth: float = Field(ge=-1)
    growth_years: int = Field(ge=0, le=10)
    top_tier_shifts: list[float]


class ValueParams(ParamsModel):
    tier_shares: dict[str, float]
    weights: dict[str, float]
    tier_method: Literal["shares", "cutoffs"]
    tier_cutoffs: dict[str, float]
    stable_share: float = Field(gt=0, le=1)


class LifecycleParams(ParamsModel):
    onboarding_steps: list[str]
    onboarding_days: int = Field(ge=0)
    active_depth: float = Field(ge=0, le=1)
    expanding_growth: float = Field(ge=0)
    transformational_depth: float = Field(ge=0, le=1)
    transformational_products: int = Field(ge=0)
    stuck_onboarding_days: int = Field(ge=1)
    history_months: int = Field(ge=1, le=120)
    cohort_months: int = Field(ge=1)


class ClvParams(ParamsModel):
    gross_margin: float = Field(gt=0, le=1)
    discount_rate: float = Field(gt=-1)
    horizon_months: int = Field(ge=1, le=600)
    min_churned: int = Field(ge=1)
    max_lifetime_months: int = Field(ge=1)


class CostToServeParams(ParamsModel):
    """Hours and loaded hourly costs of serving an account, and the margin before serving
    (:mod:`playbook.analyses.cost_to_serve`). ``csm_hourly_cost`` None: the touch model's
    cost of the tier's role per CSM hour."""

    support_hourly_cost: float = Field(ge=0)
    onboarding_hourly_cost: float = Field(ge=0)
    csm_hourly_cost: float | None = Field(ge=0)
    support_hours_per_ticket: dict[str, float]
    support_hours_per_ticket_default: float = Field(ge=0)
    csm_hours_per_touch: dict[str, float]
    csm_hours_per_touch_default: float = Field(ge=0)
    onboarding_hours_per_milestone: float = Field(ge=0)
    gross_margin_before_serving: float = Field(gt=0, le=1)

    @field_validator("support_hours_per_ticket", "csm_hours_per_touch")
    @classmethod
    def _canonical_codes(cls, value: dict[str, float], info: ValidationInfo
                         ) -> dict[str, float]:
        """Keys are the contract's canonical codes (tickets.priority, touches.type), hours
        are >= 0."""
        table, column = (("tickets", "priority") if info.field_name.startswith("support")
                         else ("touches", "type"))
        codes = TABLES[table].column(column).codes
        unknown = sorted(set(value) - set(codes))
        if unknown:
            raise ValueError(f"unknown {table}.{column} code(s) {unknown}; the contract has "
                             f"{list(codes)}")
        negative = {k: v for k, v in value.items() if v < 0}
        if negative:
            raise ValueError(f"hours must be >= 0; got {negative}")
        return value


class DriversParams(ParamsModel):
    cutoff_days: int = Field(ge=0)
    cv_folds: int = Field(ge=2)
    random_seed: int
    features: list[str]
    sponsor_roles: list[str]
    exec_by_seniority: bool
    nps_lookback_days: int = Field(ge=1)
    nps_no_answer: Literal["own_level", "missing", "not_detractor", "detractor"]
    contact_days_cap: int = Field(ge=1)
    final_onboarding_step: str
    at_risk_probability: float = Field(gt=0, lt=1)
    open_book_rows: int = Field(ge=1)
    chance_auc_margin: float = Field(ge=0, lt=0.5)


class ExpansionParams(ParamsModel):
    """Expansion candidates and the expansion model (:mod:`playbook.analyses.expansion`)."""

    healthy_bands: list[str]
    min_utilisation: float = Field(ge=0, le=1)
    activity_quantile: float = Field(ge=0, le=1)
    seats_full_share: float = Field(gt=0, le=1)
    seat_target_utilisation: float = Field(gt=0, le=1)
    max_products: int = Field(ge=0)  # 0: the most any active account owns
    min_group_accounts: int = Field(ge=1)
    horizon_months: int = Field(ge=1, le=36)
    min_rise_share: float = Field(gt=0)
    cutoff_every_months: int = Field(ge=1, le=36)
    min_expansions: int = Field(ge=2)
    features: list[str]

    def candidate_options(self) -> dict[str, Any]:
        """Keyword arguments of ``expansion.expansion_candidates`` taken from these
        parameters."""
        return {k: getattr(self, k) for k in (
            "healthy_bands", "min_utilisation", "activity_quantile", "seats_full_share",
            "seat_target_utilisation", "max_products", "min_group_accounts")}


class OutcomesParams(ParamsModel):
    """Customer-defined success outcomes (:mod:`playbook.analyses.outcomes`)."""

    lookback_days: int = Field(ge=1)  # an outcome counts with its latest measurement this recent


class TriggersParams(ParamsModel):
    """Trigger events (:mod:`playbook.analyses.triggers`)."""

    churn_window_days: int = Field(ge=1)  # churn at a renewal this many days after a trigger
    min_exposed: int = Field(ge=1)  # a type is estimated with at least this many exposed units
    open_days: int = Field(ge=1)  # open list: a trigger in the last N days, no touch since
    open_rows: int = Field(ge=1)  # open triggers listed in the report (all in results.json)
    min_cox_events: int = Field(ge=1)  # Cox model of a type: at least N churns in its windows


class ChurnParams(ParamsModel):
    recognise_at: Literal["cancellation", "end_of_paid_period"]
    churn_date_from_billing: Literal["first_unbilled_month", "last_paid_day"]
    reactivation_window_months: int = Field(ge=0)
    count_same_month_churn: bool
    uninformative_reasons: list[str]
    reason_rules: dict[str, list[str]]


class ScenarioParams(ParamsModel):
    years: int = Field(ge=1, le=10)
    growth: float | None = Field(ge=-1)  # None: the client's trailing growth
    churn_rates: list[float]
    compounding: Literal["monthly", "yearly"]
    churn_base: Literal["current", "starting"]
    discount_rate: float = Field(ge=0)
    churn_point: float = Field(gt=0, lt=1)
    levers: dict[str, float]
    max_churn: float = Field(gt=0)
    max_growth: float = Field(gt=0)


class ContractsParams(ParamsModel):
    """What the accounts' renewal date means and how long each account's contract runs."""

    renewal_date_means: Literal["next", "last", "contract_end"]
    term_months: int = Field(ge=1, le=120)
    term_by_type: dict[str, int]

    @field_validator("term_by_type")
    @classmethod
    def _terms_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        """Every contract type's term is a whole number of months from 1 to 120."""
        bad = {k: v for k, v in value.items() if not 1 <= v <= 120}
        if bad:
            raise ValueError(f"contract terms must be 1 to 120 months; got {bad}")
        return value


class ActionDueDays(ParamsModel):
    """Days after the as-of date by which each next action of the account plan is due."""

    save_play: int = Field(ge=0)
    executive_outreach: int = Field(ge=0)
    onboarding_rescue: int = Field(ge=0)
    expansion_conversation: int = Field(ge=0)


class AccountPlanParams(ParamsModel):
    """The next-action rules of the account workbook (:mod:`playbook.account_plan`)."""

    save_play_within_days: int = Field(ge=1)
    expansion_min_mrr: float = Field(ge=0)
    expansion_min_share: float = Field(ge=0)
    due_days: ActionDueDays


class WorkbookParams(ParamsModel):
    """The account workbook's layout (:mod:`playbook.workbook`).

    ``owner_sheets_max_accounts``: above this many accounts the workbook has no sheet per
    owner (each account would be written twice: at 100,000 accounts 2.6 million more cells,
    about 3 CPU seconds and a file twice the size); an owner filters the all-accounts sheet on the
    owner column instead, as the summary sheet says."""

    owner_sheets_max_accounts: int = Field(ge=0)


class CaptureParams(ParamsModel):
    """Share (0-1) of each lever's measured gap closed in the next 12 months (an assumption,
    printed under the opportunity walk): low_share <= mid_share <= high_share."""

    low_share: float = Field(ge=0, le=1)
    mid_share: float = Field(ge=0, le=1)
    high_share: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> CaptureParams:
        if not self.low_share <= self.mid_share <= self.high_share:
            raise ValueError("needs low_share <= mid_share <= high_share; got "
                             f"{self.low_share}, {self.mid_share}, {self.high_share}")
        return self


class EffortParams(ParamsModel):
    """Touches of the touch model a recommendation adds per account it covers, a year."""

    touch: str
    per_account: float = Field(ge=0)


class ExecutiveParams(ParamsModel):
    """The "so what", the opportunity walk and the business cases (:mod:`playbook.executive`).

    ``benchmarks``: the peer benchmark set, a file stem of ``playbook/benchmarks`` or a path
    to a firm's own file (relative to the project root); None shows no benchmarks."""

    capture: CaptureParams
    effort: dict[str, EffortParams]
    benchmarks: str | None


class DataParams(ParamsModel):
    max_rejected_share: float = Field(ge=0, le=1)


class Params(ParamsModel):
    """The merged, validated parameters of one run."""

    client: ClientParams
    period: PeriodParams
    tables: dict[str, TableParams]
    report: ReportParams
    thresholds: Thresholds
    health: HealthParams
    touch_model: TouchModelParams
    value: ValueParams
    lifecycle: LifecycleParams
    clv: ClvParams
    cost_to_serve: CostToServeParams
    drivers: DriversParams
    expansion: ExpansionParams
    outcomes: OutcomesParams
    triggers: TriggersParams
    churn: ChurnParams
    contracts: ContractsParams
    scenarios: ScenarioParams
    account_plan: AccountPlanParams
    workbook: WorkbookParams
    executive: ExecutiveParams
    data: DataParams
    variables: dict[str, VariableParams]

    # Derived after validation by load_params (not settable from files, so not parameters:
    # their placeholders are not defaults).
    client_id: str = Field(default="", exclude=True)
    period_label: str = Field(default="", exclude=True)
    period_start: dt.date | None = Field(default=None, exclude=True)
    as_of: dt.date | None = Field(default=None, exclude=True)
    sources: dict[str, str] = Field(default_factory=dict, exclude=True)
    client_sections: frozenset[str] = Field(default_factory=frozenset, exclude=True)

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
        check_variables(value, info.data.get("tables") or {})
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

    def set_by_client(self, section: str) -> bool:
        """True when the client's params file (or the command line) set top-level
        ``section`` (e.g. ``touch_model``), False when it comes only from defaults.yaml: a
        section that needs the client's own evidence runs only on what the client wrote."""
        return section in self.client_sections

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

#: The section of defaults.yaml holding the keys an entry leaves out, by the entry model's
#: ``entry_section`` (:class:`playbook.config_tables.EntryModel`); not a client section.
ENTRY_DEFAULTS = "entry_defaults"


def entry_defaults() -> dict[str, dict[str, Any]]:
    """The entry defaults of ``playbook/defaults.yaml``: ``{entry section: {key: value}}``
    (the validation context of :meth:`Params.model_validate` and of any entry model)."""
    return read_yaml(paths.defaults_file())[ENTRY_DEFAULTS]


def table_params(**given: Any) -> TableParams:
    """One table's parameters as a client file's ``tables.<table>`` entry ``given`` is read:
    the keys it leaves out from ``entry_defaults.tables`` of defaults.yaml."""
    return TableParams.model_validate(given, context=entry_defaults())



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
    defaults = read_yaml(defaults_path)
    entries = defaults.pop(ENTRY_DEFAULTS, {})
    layers = [
        (str(defaults_path), defaults),
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
        params = Params.model_validate(merged, context=entries)
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
    params.client_sections = frozenset(k for _, data in layers[1:] for k in data)
    return params


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.project_root()))
    except ValueError:
        return str(path)
