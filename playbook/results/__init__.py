"""The declared model of results.json: the source of truth of its schema (docs/results.md).

Each shared notebook records its findings with ``nb.record(key, value)`` into
``<run_dir>/findings/<notebook>.json``; the render step merges them, with ``meta`` and the
executive summary, into ``results.json``. The models here declare every key a notebook
records, its type and what it means (unit, definition), one module per section:

=====================  ====================================  ==================================
notebook               findings model                        module
=====================  ====================================  ==================================
``01-revenue``         :class:`RevenueFindings`              :mod:`playbook.results.revenue`
``02-renewal-drivers`` :class:`DriversFindings`              :mod:`playbook.results.drivers`
``03-segments-health`` :class:`SegmentsFindings`             :mod:`playbook.results.segments`
``04-capacity``        :class:`CapacityFindings`             :mod:`playbook.results.capacity`
``05-account-plan``    :class:`AccountPlanFindings`          :mod:`playbook.results.account_plan`
``06-outcomes-trig..`` :class:`OutcomesFindings`             :mod:`playbook.results.outcomes`
``90-data-quality``    :class:`DataQualityFindings`          :mod:`playbook.results.appendices`
``95-appendix``        :class:`AppendixFindings`             :mod:`playbook.results.appendices`
=====================  ====================================  ==================================

Recording checks a key against its notebook's model (:func:`checked_finding`), so a typo is
an error, not a figure that silently vanishes; a custom notebook (``notebooks/custom/*``)
records freely under its own name. Reading parses a results.json into
:class:`ReportResults`, so the summary, recommendations and period comparison use typed
attributes (``results.revenue.findings.period.grr``), not string paths.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from playbook.errors import ResultsError
from playbook.results.account_plan import AccountPlanFindings, AccountPlanResults
from playbook.results.appendices import (
    AppendixFindings,
    AppendixResults,
    DataQualityFindings,
    DataQualityResults,
)
from playbook.results.base import ExhibitRecord, Findings, NotebookResults, Record
from playbook.results.capacity import CapacityFindings, CapacityResults
from playbook.results.drivers import DriversFindings, DriversResults
from playbook.results.outcomes import OutcomesFindings, OutcomesResults
from playbook.results.revenue import RevenueFindings, RevenueResults
from playbook.results.segments import SegmentsFindings, SegmentsResults

#: Shared notebook -> the model of its findings. A notebook not listed here (a custom one)
#: records freely.
NOTEBOOK_FINDINGS: dict[str, type[Findings]] = {
    "01-revenue": RevenueFindings,
    "02-renewal-drivers": DriversFindings,
    "03-segments-health": SegmentsFindings,
    "04-capacity": CapacityFindings,
    "05-account-plan": AccountPlanFindings,
    "06-outcomes-triggers": OutcomesFindings,
    "90-data-quality": DataQualityFindings,
    "95-appendix": AppendixFindings,
}


class Meta(Record):
    """What the cover, the running header and results.json say about the report (written by
    the render step from :class:`playbook.render.ReportMeta`)."""

    client: str | None = None
    """Client folder name (``data/<client>``)."""
    client_name: str | None = None
    """Display name on the cover."""
    period_label: str | None = None
    """Period of the assessment, e.g. "2026-Q3"."""
    as_of: str | None = None
    """As-of date, ISO."""
    title: str | None = None
    """Report title on the cover."""
    version: str | None = None
    """Version label on the cover."""
    paper: str | None = None
    """"A4" or "Letter"."""
    confidential: bool | None = None
    """True when the cover and footer say "Confidential"."""
    currency: str | None = None
    """ISO code of the client's currency: the unit of every amount in the results."""
    generated_at: str | None = None
    """When the report was produced (ISO timestamp, minutes)."""


class ReportResults(BaseModel):
    """A whole results.json: ``meta``, ``summary`` and one section per notebook (by its file
    stem, e.g. ``"01-revenue"``; a shared notebook switched off reads as an empty section).

    A custom notebook's section is kept as recorded (``model_extra``); :meth:`notebook` reads
    any section by its stem."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, serialize_by_alias=True)

    meta: Meta = Field(default_factory=Meta)
    summary: dict[str, Any] | None = None
    """What the executive summary says (:func:`playbook.summary.summary_record`): ``sca``,
    ``key_figures``, ``headlines``, ``recommendations``, ``facts``, ``compared_with``,
    ``changes``."""
    executive: dict[str, Any] | None = None
    """The "so what", opportunity walk, business cases and benchmarks
    (:func:`playbook.executive.executive_record`; docs/results.md)."""
    revenue: RevenueResults = Field(default_factory=RevenueResults, alias="01-revenue")
    drivers: DriversResults = Field(default_factory=DriversResults, alias="02-renewal-drivers")
    segments: SegmentsResults = Field(default_factory=SegmentsResults,
                                      alias="03-segments-health")
    capacity: CapacityResults = Field(default_factory=CapacityResults, alias="04-capacity")
    account_plan: AccountPlanResults = Field(default_factory=AccountPlanResults,
                                             alias="05-account-plan")
    outcomes: OutcomesResults = Field(default_factory=OutcomesResults,
                                      alias="06-outcomes-triggers")
    data_quality: DataQualityResults = Field(default_factory=DataQualityResults,
                                             alias="90-data-quality")
    appendix: AppendixResults = Field(default_factory=AppendixResults, alias="95-appendix")

    @classmethod
    def from_json(cls, results: Mapping[str, Any] | ReportResults) -> ReportResults:
        """The typed view of a results.json's content (a dict as ``json.load`` returns it)."""
        return results if isinstance(results, ReportResults) else cls.model_validate(results)

    def to_json(self) -> dict[str, Any]:
        """The results.json content again: the keys as read or set, under their stems."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def notebook(self, stem: str) -> NotebookResults:
        """The section of the notebook ``stem`` (shared or custom); empty when absent."""
        for name, field in type(self).model_fields.items():
            if field.alias == stem:
                return getattr(self, name)
        return NotebookResults.model_validate((self.model_extra or {}).get(stem) or {})

    def exhibits(self, stem: str) -> list[ExhibitRecord]:
        """The exhibits of the notebook ``stem``, in its order (none when absent)."""
        return self.notebook(stem).exhibits


@functools.cache
def _adapter(model: type[Findings], key: str) -> TypeAdapter[Any]:
    return TypeAdapter(model.model_fields[key].annotation)


def checked_finding(notebook: str, key: str, value: Any) -> Any:
    """``value`` unchanged, once it is known to fit what ``notebook``'s model declares for
    ``key`` (``value`` as it goes to JSON: :func:`playbook.session.jsonable`).

    A notebook without a model (a custom notebook) may record any key.

    Raises
    ------
    ResultsError
        The model does not declare ``key`` (a typo, or a new finding not declared yet), or
        ``value`` does not fit the declared type.
    """
    model = NOTEBOOK_FINDINGS.get(notebook)
    if model is None:
        return value
    where = f"{model.__module__}.{model.__name__}"
    if key not in model.model_fields:
        raise ResultsError(
            f"Notebook {notebook} records '{key}', which its results model {where} does not "
            f"declare (it declares: {', '.join(sorted(model.model_fields))}).",
            fix=f"Correct the key's spelling, or declare '{key}' in {where} with its type and a "
                "docstring (unit, definition) and list it in docs/results.md.")
    try:
        _adapter(model, key).validate_python(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = ".".join(str(p) for p in first["loc"])
        raise ResultsError(
            f"Notebook {notebook} records '{key}' with a value that does not fit "
            f"{where}.{key}" + (f" at '{at}'" if at else "") + f": {first['msg']}.",
            fix=f"Record the value {where} declares for '{key}', or change the declaration "
                "(and docs/results.md) if the finding itself changed.") from exc
    return value


__all__ = [
    "NOTEBOOK_FINDINGS", "Meta", "ReportResults", "checked_finding", "ExhibitRecord",
    "Findings", "NotebookResults", "RevenueFindings", "DriversFindings", "SegmentsFindings",
    "CapacityFindings", "AccountPlanFindings", "DataQualityFindings", "AppendixFindings",
]
