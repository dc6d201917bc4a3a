"""The data-quality log of one run: what was loaded, rejected, repaired or contradicted.

Problems that stop a run are :class:`~playbook.errors.DataError`. Everything else is
recorded here and reported in the report's appendix "data sources and quality", with the
findings each problem weakens.

Severities
----------
``problem``
    The data contradict themselves or a field is distorted (e.g. accounts flagged active
    that have churn events, a satisfaction scale whose low end is never used). Findings
    built on the tables named in ``QualityNote.tables`` may be wrong, not only noisy: every
    exhibit whose source names one of those tables carries a caveat (:meth:`QualityLog.caveat`).
``warning``
    Rows were rejected, values set to blank, or data are missing or thin; the findings
    listed in ``affects`` rest on less than the client sent.
``info``
    Worth knowing (columns or files not used, a file read as Windows-1252); no finding is
    weakened.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Literal

import pandas as pd

Severity = Literal["info", "warning", "problem"]
SEVERITY_ORDER = {"problem": 0, "warning": 1, "info": 2}

#: Analyses (``TableSpec.used_by``) in the words the report uses for their findings.
FINDINGS = {
    "revenue": "retention (MRR, GRR, NRR)",
    "reasons": "churn reasons",
    "drivers": "renewal drivers",
    "segments": "segments",
    "health": "health scores",
    "capacity": "capacity",
    "risk": "relationship risk",
    "scenarios": "scenarios",
}

APPENDIX = "Appendix: data sources and quality"


@dataclass
class QualityNote:
    """One observation about the input data.

    ``count`` is the number of rows (or accounts) concerned; ``affects`` names the analyses
    whose findings it weakens (see ``TableSpec.used_by``); ``tables`` names the canonical
    tables whose values are contradicted (only for severity ``problem``): exhibits built on
    them say so.
    """

    table: str
    severity: Severity
    message: str
    count: int = 0
    examples: list[str] = field(default_factory=list)
    affects: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    caveat: str = ""  # the short form exhibits quote (default: the message)

    @property
    def weakens(self) -> str:
        """The findings it weakens, in words ("" when none)."""
        return "; ".join(FINDINGS.get(a, a) for a in self.affects)


@dataclass
class TableLoad:
    """How one table was loaded: file, checksum, rows read, kept and rejected.

    ``rows_kept`` counts rows of the client's file that reached the canonical table (for
    subscription lines: lines, before they are expanded to months).
    """

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
            examples: list | None = None, affects: list[str] | None = None,
            tables: list[str] | None = None, caveat: str = "") -> None:
        self.notes.append(QualityNote(table, severity, message, int(count),
                                      [str(e) for e in (examples or [])][:5],
                                      list(affects or []), list(tables or []), caveat))

    def load_of(self, table: str) -> TableLoad | None:
        """The load record of a table (None when it was not loaded)."""
        return next((t for t in self.loads if t.table == table), None)

    def problems(self) -> list[QualityNote]:
        """The contradictions: notes of severity ``problem``."""
        return [n for n in self.notes if n.severity == "problem"]

    def loads_frame(self) -> pd.DataFrame:
        """One row per table: file, rows read, kept, rejected."""
        rows = [{"table": t.table, "file": t.file, "rows read": t.rows_read,
                 "rows kept": t.rows_kept, "rows rejected": t.rows_rejected} for t in self.loads]
        return pd.DataFrame(rows, columns=["table", "file", "rows read", "rows kept",
                                           "rows rejected"])

    def notes_frame(self, min_severity: Severity = "info") -> pd.DataFrame:
        """The notes as a table, most severe first."""
        keep = [n for n in self.notes
                if SEVERITY_ORDER[n.severity] <= SEVERITY_ORDER[min_severity]]
        frame = pd.DataFrame(
            [{"severity": n.severity, "table": n.table, "finding": n.message, "rows": n.count,
              "weakens": ", ".join(n.affects)} for n in keep],
            columns=["severity", "table", "finding", "rows", "weakens"],
        )
        return frame.sort_values("severity", key=lambda s: s.map(SEVERITY_ORDER),
                                 kind="stable")

    def caveat(self, source: str) -> str:
        """The caveat an exhibit built on ``source`` must carry ("" when none).

        ``source`` is the exhibit's source line, e.g. ``"accounts, churn_events"``; every
        contradiction (severity ``problem``) about one of the tables it names is quoted.
        """
        named = set(re.findall(r"[a-z_]+", source.lower()))
        hits = [n for n in self.problems() if named & set(n.tables)]
        if not hits:
            return ""
        said = "; ".join(_sentence(n.caveat or n.message) for n in hits)
        return f"Data caveat: {said}. See the appendix on data sources and quality."

    def to_dict(self) -> dict:
        return {"loads": [asdict(t) | {"rows_rejected": t.rows_rejected} for t in self.loads],
                "notes": [asdict(n) for n in self.notes]}


def _sentence(message: str) -> str:
    """A note's message without its trailing full stop."""
    return message.rstrip(". ")
