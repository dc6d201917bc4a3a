"""What loading a client produces: the validated tables (:class:`ClientData`) and what
the raw rows showed on the way that the tables no longer do (:class:`LoadFacts`).

Made by :func:`playbook.loader.load_client` (and found there), kept by
:mod:`playbook.cache`, read by the session, the profile and the render step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from playbook.quality import QualityLog


@dataclass
class ClientData:
    """Validated canonical tables of one client plus the data-quality log.

    ``tables`` holds only the tables the client supplied; use :meth:`get` for optional
    ones (``None`` when absent).
    """

    client: str
    tables: dict[str, pd.DataFrame]
    quality: QualityLog
    files: dict[str, Path] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def get(self, name: str) -> pd.DataFrame | None:
        """The table ``name`` (None when absent)."""
        return self.tables.get(name)

    def has(self, *names: str) -> bool:
        """True when every table named is present with at least one row."""
        return all(n in self.tables and len(self.tables[n]) > 0 for n in names)

    def missing(self, *names: str) -> list[str]:
        """The tables among ``names`` that are absent or empty."""
        return [n for n in names if not self.has(n)]


@dataclass
class LoadFacts:
    """What the loader learns from raw rows that the canonical tables no longer show."""

    #: canonical columns each table's file supplied (before blank ones were added)
    supplied: dict[str, set[str]] = field(default_factory=dict)
    #: subscription lines with no end date, per account (mrr with ``layout: lines``)
    open_lines: pd.Series | None = None
    #: first and last month the mrr file covers, before the as-of cut
    mrr_span: tuple[pd.Timestamp, pd.Timestamp] | None = None
    #: the day after each account's last paid day (mrr with ``layout: lines``; NaT = open)
    line_ends: pd.Series | None = None
