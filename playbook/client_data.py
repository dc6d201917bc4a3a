"""What loading a client produces: the validated tables (:class:`ClientData`) and what
the raw rows showed on the way that the tables no longer do (:class:`LoadFacts`).

Made by :func:`playbook.loader.load_client` (and found there), kept by
:mod:`playbook.cache`, read by the session, the profile and the render step.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa

from playbook.quality import QualityLog
from playbook.read_only import mark_read_only
from playbook.table_files import SUFFIX, drop_pages, read_table_in_place


class StoredTables(Mapping[str, pd.DataFrame]):
    """Validated tables kept as Arrow IPC files (a run's data cache,
    :mod:`playbook.table_files`), each read when first used and then kept: a notebook
    holds in memory only the tables its sections read (their text in the mapped files,
    shared with the other kernels).

    Membership, iteration and :meth:`rows` come from the entry's record of tables and row
    counts, without reading a file. The tables are read-only (:mod:`playbook.read_only`):
    analyses keep results computed from them; with ``shared`` (the run's folder of
    intermediates) each table is marked under its name there, so that results kept
    ``across_kernels`` are computed once for all the run's kernels.
    """

    def __init__(self, folder: Path, rows: Mapping[str, int], *,
                 shared: Path | None = None) -> None:
        self._folder = folder
        self._rows = dict(rows)
        self._shared = shared
        self._read: dict[str, pd.DataFrame] = {}
        self._in_place: list[pa.Buffer] = []  # the mapped buffers the frames point into
        # a notebook's thread beside it (playbook.beside) may read the same table at once
        self._reading = threading.Lock()
        _STORES[id(self)] = self

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._rows:
            raise KeyError(name)
        with self._reading:
            if name not in self._read:
                frame, in_place = read_table_in_place(self._folder / f"{name}{SUFFIX}")
                self._read[name] = mark_read_only(
                    frame, shared_as=None if self._shared is None else (self._shared, name))
                self._in_place += in_place
            return self._read[name]

    def __contains__(self, name: object) -> bool:
        return name in self._rows

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self, name: str) -> int:
        """Rows of the table ``name`` (0 when absent), without reading it."""
        return self._rows.get(name, 0)

    def loaded(self) -> list[str]:
        """The tables read so far."""
        return list(self._read)


#: Every :class:`StoredTables` alive in this process (held weakly: one goes with its
#: notebook's session).
_STORES: weakref.WeakValueDictionary[int, StoredTables] = weakref.WeakValueDictionary()


def bytes_read_in_place() -> int:
    """Bytes of the mapped table files this process's stored tables point into: the most
    their pages can hold in its memory."""
    return sum(b.size for store in list(_STORES.values()) for b in store._in_place)


def drop_pages_read() -> None:
    """Hand back the pages of every mapped table file this process's stored tables read
    (:func:`playbook.table_files.drop_pages`); a later read maps them again from the
    system's file cache. A kernel calls it after each cell once its tables are large
    (:data:`playbook.kernel_state.DROP_PAGES_FROM`): at 1,000,000 accounts the pages its
    earlier cells had read stayed in its memory, 3.3-4.4 GB of the 9.3 GB peak of
    02-renewal-drivers, while its later cells read a few tables."""
    for store in list(_STORES.values()):
        drop_pages(store._in_place)


def table_rows(tables: Mapping[str, pd.DataFrame | None], name: str) -> int:
    """Rows of the table ``name`` in ``tables`` (0 when absent or None); a
    :class:`StoredTables` answers from its record, without reading the file."""
    if isinstance(tables, StoredTables):
        return tables.rows(name)
    frame = tables.get(name)
    return 0 if frame is None else len(frame)


@dataclass
class ClientData:
    """Validated canonical tables of one client plus the data-quality log.

    ``tables`` holds only the tables the client supplied; use :meth:`get` for optional
    ones (``None`` when absent). Read back from a run's data cache it is a
    :class:`StoredTables`: each table read from disk when first used.
    """

    client: str
    tables: Mapping[str, pd.DataFrame]
    quality: QualityLog
    files: dict[str, Path] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def get(self, name: str) -> pd.DataFrame | None:
        """The table ``name`` (None when absent)."""
        return self.tables.get(name)

    def rows(self, name: str) -> int:
        """Rows of the table ``name`` (0 when absent), without reading a stored table."""
        return table_rows(self.tables, name)

    def has(self, *names: str) -> bool:
        """True when every table named is present with at least one row."""
        return all(self.rows(n) > 0 for n in names)

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
