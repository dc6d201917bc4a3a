"""The data-quality log of one run: what was loaded, rejected, repaired or contradicted.

Problems that stop a run are :class:`~playbook.errors.DataError`. Everything else is
recorded here and reported in the report's data-quality section, with the findings each
problem weakens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import pandas as pd

Severity = Literal["info", "warning", "problem"]


@dataclass
class QualityNote:
    """One observation about the input data.

    ``count`` is the number of rows (or accounts) concerned; ``affects`` names the analyses
    whose findings it weakens (see ``TableSpec.used_by``).
    """

    table: str
    severity: Severity
    message: str
    count: int = 0
    examples: list[str] = field(default_factory=list)
    affects: list[str] = field(default_factory=list)


@dataclass
class TableLoad:
    """How one table was loaded: file, checksum, rows read, kept and rejected."""

    table: str
    file: str
    sha256: str
    rows_read: int
    rows_kept: int
    unmapped_columns: list[str] = field(default_factory=list)

    @property
    def rows_rejected(self) -> int:
        return self.rows_read - self.rows_kept


@dataclass
class QualityLog:
    notes: list[QualityNote] = field(default_factory=list)
    loads: list[TableLoad] = field(default_factory=list)

    def add(self, table: str, severity: Severity, message: str, *, count: int = 0,
            examples: list | None = None, affects: list[str] | None = None) -> None:
        self.notes.append(QualityNote(table, severity, message, count,
                                      [str(e) for e in (examples or [])][:5],
                                      list(affects or [])))

    def loads_frame(self) -> pd.DataFrame:
        """One row per table: file, rows read, kept, rejected."""
        rows = [{"table": t.table, "file": t.file, "rows read": t.rows_read,
                 "rows kept": t.rows_kept, "rows rejected": t.rows_rejected} for t in self.loads]
        return pd.DataFrame(rows)

    def notes_frame(self, min_severity: Severity = "info") -> pd.DataFrame:
        """The notes as a table, most severe first."""
        order = {"problem": 0, "warning": 1, "info": 2}
        keep = [n for n in self.notes if order[n.severity] <= order[min_severity]]
        frame = pd.DataFrame(
            [{"severity": n.severity, "table": n.table, "finding": n.message, "rows": n.count,
              "weakens": ", ".join(n.affects)} for n in keep],
            columns=["severity", "table", "finding", "rows", "weakens"],
        )
        return frame.sort_values("severity", key=lambda s: s.map(order), kind="stable")

    def to_dict(self) -> dict:
        return {"loads": [asdict(t) | {"rows_rejected": t.rows_rejected} for t in self.loads],
                "notes": [asdict(n) for n in self.notes]}
