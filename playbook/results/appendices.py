"""What the appendices record: ``90-data-quality`` (the loads and the data-quality log) and
``95-appendix`` (method and definitions: nothing beyond the session's own keys)."""

from __future__ import annotations

from pydantic import Field

from playbook.results.base import Findings, NotebookResults, Record, Table


class QualityLogRecord(Record):
    """The data-quality log of the run (:meth:`playbook.quality.QualityLog.to_dict`)."""

    loads: Table = Field(default_factory=list)
    """Rows per table loaded ``{table, file, rows_read, rows_kept, rows_rejected, sha256,
    unmapped_columns}``."""
    notes: Table = Field(default_factory=list)
    """Rows per note ``{severity, table, tables, message, count, examples, affects,
    caveat}``; severity "problem" (a contradiction), "warning" or "info"."""


class DataQualityFindings(Findings):
    """Findings of ``90-data-quality``."""

    loads: Table = Field(default_factory=list)
    """Rows per table ``{table, file, "rows read", "rows kept", "rows rejected"}``, as the
    exhibit shows them."""
    contradictions: Table | None = None
    """Rows per contradiction found (severity "problem"): ``{severity, table, "what was
    found", count, weakens}``; an empty list when the data contradict themselves in no way
    the checks look for, None when the notebook did not run."""
    quality: QualityLogRecord = Field(default_factory=QualityLogRecord)
    """The whole data-quality log."""


class DataQualityResults(NotebookResults):
    """``results.json["90-data-quality"]``."""

    findings: DataQualityFindings = Field(default_factory=DataQualityFindings)


class AppendixFindings(Findings):
    """Findings of ``95-appendix``: only the session's own keys; the appendix prints the
    renewal model that ``02-renewal-drivers`` records (:class:`~playbook.results.drivers.
    RenewalModel`)."""


class AppendixResults(NotebookResults):
    """``results.json["95-appendix"]``."""

    findings: AppendixFindings = Field(default_factory=AppendixFindings)
