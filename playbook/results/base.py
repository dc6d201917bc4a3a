"""Building blocks of the results models: a recorded record, a table, a notebook's section.

A notebook records each finding with ``nb.record(key, value)``; the value is made plain JSON
(:func:`playbook.session.jsonable`: numpy and pandas scalars to numbers, NaN and infinity to
``null``, dates to ISO strings, a frame to a list of row objects). The models here describe
those JSON values. Units: money in the client's currency (``meta.currency``), MRR per month
unless a name says ARR or a year; shares and rates 0-1 (not percent); dates ISO
``YYYY-MM-DD``; a figure the run could not compute is ``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    ValidationError,
    model_validator,
)

#: One row of a recorded table: ``DataFrame.to_dict(orient="records")``, column -> value.
Row = dict[str, Any]
#: A recorded table (a frame's rows, its index reset into a column when it names the rows).
Table = list[Row]


class Record(BaseModel):
    """A dict a notebook records, e.g. the MRR bridge of the period.

    The keys the report reads are declared with their type; keys an analysis returns
    beyond those are kept as they are (``extra="allow"``), so a results.json written by an
    older or newer version still reads, and a value is never dropped on the way."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)


class SkippedSection(Record):
    """A section, or part of one, left out of the report."""

    section: str
    """What is not shown, e.g. "the MRR bridge"."""
    missing: list[str] = Field(default_factory=list)
    """The tables (or "mrr history") whose absence left it out; empty when the data were
    there but could not support it (then ``reason`` says why)."""
    reason: str | None = None
    """Why the data cannot support it (one outcome only, too few events for the folds)."""


class Findings(BaseModel):
    """The findings of one notebook (``results.json["<notebook>"]["findings"]``).

    Every notebook's findings may hold the keys declared here, written by the session
    itself; each notebook's model adds the keys its ``nb.record`` calls write. Reading keeps
    a key no model declares (an older report's, a custom notebook's); recording refuses it
    (:func:`playbook.results.checked_finding`).

    A recorded value that does not fit today's model (a report written by an older version:
    the first notebooks recorded ``lifecycle`` as ``{stage: accounts}``, not rows) reads as
    not recorded and is kept in :attr:`misfits`, so an older report still opens for the
    period comparison and the portfolio page. A run's own findings always fit: recording
    checks each value."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)
    _misfits: dict[str, Any] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _set_aside_misfits(cls, data: Any, handler: ModelWrapValidatorHandler[Findings]
                           ) -> Findings:
        try:
            return handler(data)
        except ValidationError as exc:
            if not isinstance(data, Mapping):
                raise
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            found = handler({k: v for k, v in data.items() if k not in bad})
            found._misfits = {k: data[k] for k in bad if k in data}
            return found

    @property
    def misfits(self) -> dict[str, Any]:
        """Recorded values that do not fit the model, by key (read from an older report)."""
        return dict(self._misfits)

    sections_skipped: list[SkippedSection] = Field(default_factory=list)
    """Sections left out because a table they need is absent or the data cannot support
    them (``nb.requires``, ``nb.has_mrr_history``, ``nb.attempt``)."""
    omitted_detail_exhibits: list[str] = Field(default_factory=list)
    """Titles of supporting exhibits left to the full report (``report.detail: full``), each
    said in one line in the standard report."""
    empty_exhibits: list[str] = Field(default_factory=list)
    """Titles of tables with no rows, said in one line instead of an empty exhibit."""


class ExhibitRecord(Record):
    """An exhibit as the notebook numbered it (:class:`playbook.exhibits.Exhibit`)."""

    number: int
    """Number within its notebook (1, 2, ...); the report renumbers across notebooks."""
    title: str
    """Action title: the finding in one sentence."""
    subtitle: str = ""
    """What is measured, over which population and period, in which unit."""
    source: str = ""
    """The tables the exhibit is built on."""
    n: int | None = None
    """What it rests on: accounts unless :attr:`n_of` says otherwise (every exhibit of this
    version has one; None only in results written before n was required)."""
    notes: str = ""
    """Notes printed under it (definitions, caveats)."""
    headline: bool = False
    """True when its title is a bullet of the executive summary."""
    n_of: str = ""
    """What n counts when it is not accounts ("tables", "notes", "contradictions")."""
    id: str = ""
    """Stable id ``<notebook>.<key>`` (:mod:`playbook.exhibits`); the consultant's notes
    (:mod:`playbook.notes`) are keyed by it. "" in results written before ids."""
    generated_title: str | None = None
    """The title the run generated, when the consultant's notes replaced it (``title`` is
    then the title shown); None when the title shown is the generated one."""


class NotebookResults(BaseModel):
    """One notebook's section of results.json: its findings and its exhibits' titles.

    A custom notebook (``notebooks/custom/*``) reads as this model: its findings are its
    own (kept as recorded)."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    findings: Findings = Field(default_factory=Findings)
    """What the notebook recorded (``nb.record``) and what the session noted."""
    exhibits: list[ExhibitRecord] = Field(default_factory=list)
    """Its exhibits, in order."""
