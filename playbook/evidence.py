"""Evidence gating: the data each section or exhibit needs, and the line said without it.

A section declares what it needs with :func:`need` (a table of the data contract,
:mod:`playbook.contract`, the columns that must hold values, the fewest usable rows) and asks
the session (``nb.requires(need("usage", "active_users", "licensed_seats"), enables=...)``).
:func:`shortfalls` compares the declaration with the run's loaded data and
:func:`explanation` turns what is missing into one line naming the missing data and what to
send, so a section without its evidence is never computed from defaults.

:func:`source_line` keeps an exhibit's source line honest: it names only tables the client
supplied (a table the loader synthesised, such as churn events from billing, is named by the
table it came from).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from playbook.client_data import table_rows
from playbook.contract import TABLES
from playbook.textfmt import and_list

#: Tables the loader can synthesise when the client sends none, and the table they come from.
DERIVED_FROM = {"churn_events": "mrr"}


class LoadedData(Protocol):
    """What the checks read of the run's data (:class:`playbook.client_data.ClientData`)."""

    tables: Mapping[str, pd.DataFrame]
    files: dict[str, Path]


@dataclass(frozen=True)
class Need:
    """One table a section needs: ``columns`` must hold values, at least one of ``any_of``
    must (e.g. a contact's role or seniority), ``min_rows`` rows at least (counted among
    rows where every column of ``columns`` holds a value)."""

    table: str
    columns: tuple[str, ...] = ()
    min_rows: int = 1
    any_of: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        spec = TABLES.get(self.table)
        if spec is None:
            raise KeyError(f"unknown table {self.table!r}; the data contract has "
                           f"{sorted(TABLES)}")
        unknown = [c for c in (*self.columns, *self.any_of) if c not in spec.column_names]
        if unknown:
            raise KeyError(f"unknown column(s) {unknown} of {self.table!r}")


def need(table: str, *columns: str, min_rows: int = 1, any_of: tuple[str, ...] = ()
         ) -> Need:
    """Declare a need: ``need("usage", "active_users", "licensed_seats")``,
    ``need("contacts", any_of=("role", "seniority"))``."""
    return Need(table, tuple(columns), min_rows, tuple(any_of))


def as_need(item: str | Need) -> Need:
    """A table name as a :class:`Need` of at least one row; a Need as it is."""
    return item if isinstance(item, Need) else Need(item)


@dataclass(frozen=True)
class Shortfall:
    """How the data falls short of a :class:`Need`: ``kind`` is ``"table"`` (absent or
    empty), ``"columns"`` (``blank`` columns hold no value) or ``"rows"`` (``rows`` usable
    rows, fewer than the need's ``min_rows``)."""

    need: Need
    kind: str
    blank: tuple[str, ...] = ()
    rows: int = 0

    @property
    def missing(self) -> list[str]:
        """What is missing, as recorded under ``sections_skipped``: the table name, or
        ``table.column`` for blank columns, or ``"table (rows)"``."""
        if self.kind == "table":
            return [self.need.table]
        if self.kind == "columns":
            return [f"{self.need.table}.{c}" for c in self.blank]
        return [f"{self.need.table} (rows)"]


def blank_columns(frame: pd.DataFrame, columns: Iterable[str]) -> tuple[str, ...]:
    """The columns of ``columns`` that ``frame`` lacks or that hold no value at all."""
    return tuple(c for c in columns if c not in frame or not frame[c].notna().any())


def usable_rows(frame: pd.DataFrame, columns: Iterable[str]) -> int:
    """Rows of ``frame`` where every column of ``columns`` holds a value."""
    cols = [c for c in columns if c in frame]
    return int(frame[cols].notna().all(axis=1).sum()) if cols else len(frame)


def shortfall(data: LoadedData, item: str | Need) -> Shortfall | None:
    """How the run's data falls short of one need (None: the need is met)."""
    n = as_need(item)
    frame = data.tables.get(n.table)
    if frame is None or frame.empty:
        return Shortfall(n, "table")
    blank = blank_columns(frame, n.columns)
    if n.any_of and len(blank_columns(frame, n.any_of)) == len(n.any_of):
        blank = (*blank, *n.any_of)
    if blank:
        return Shortfall(n, "columns", blank=blank)
    rows = usable_rows(frame, n.columns)
    if rows < n.min_rows:
        return Shortfall(n, "rows", rows=rows)
    return None


def shortfalls(data: LoadedData, *needs: str | Need) -> list[Shortfall]:
    """Every need the run's data does not meet, in the order declared."""
    return [s for s in (shortfall(data, n) for n in needs) if s is not None]



def _quoted(names: Iterable[str]) -> str:
    return and_list([f"'{n}'" for n in names])


def explanation(enables: str, gaps: list[Shortfall]) -> str:
    """One line: what is not shown, the data it needs, what the client's data holds and
    what to ask for. Table names and descriptions come from the contract.

    E.g. "Not shown: relationship-risk flags. It needs the 'contacts' and 'touches' tables,
    which the client's data does not include. Add 'contacts' and 'touches' to the data
    request: people at the customer ...; logged interactions with the customer." or "...
    It needs 'usage' with active_users and licensed_seats filled in; the client's usage data
    leaves licensed_seats blank. Ask for licensed_seats in the usage export."
    """
    tables = [g.need.table for g in gaps if g.kind == "table"]
    needs: list[str] = []
    have: list[str] = []
    asks: list[str] = []
    if tables:
        noun = "table" if len(tables) == 1 else "tables"
        needs.append(f"the {_quoted(tables)} {noun}")
        have.append(", which the client's data does not include")
        about = "; ".join(TABLES[t].description[0].lower() + TABLES[t].description[1:]
                          .rstrip(".") for t in tables)
        asks.append(f"Add {_quoted(tables)} to the data request: {about}.")
    for g in gaps:
        t = g.need.table
        if g.kind == "columns":
            wanted = [*g.need.columns, *([" or ".join(g.need.any_of)] if g.need.any_of
                                         else [])]
            needs.append(f"'{t}' with {and_list(wanted)} filled in")
            have.append(f"; the client's {t} data leaves {and_list(list(g.blank))} blank")
            asks.append(f"Ask for {and_list(list(g.blank))} in the {t} export.")
        elif g.kind == "rows":
            needs.append(f"at least {g.need.min_rows:,} usable rows of '{t}'")
            have.append(f"; the client's data has {g.rows:,}")
            asks.append(f"Ask for a longer {t} history.")
    return (f"Not shown: {enables}. It needs {and_list(needs)}{''.join(have)}. "
            f"{' '.join(asks)}")


def check(data: LoadedData, *needs: str | Need, enables: str) -> str | None:
    """None when the data meets every need, else the one-line :func:`explanation`."""
    gaps = shortfalls(data, *needs)
    return explanation(enables, gaps) if gaps else None


# --------------------------------------------------------------------------- source lines
def supplied(data: LoadedData) -> set[str]:
    """Tables the client supplied, with at least one row. A table the loader synthesised
    (not read from a file, e.g. churn events from billing) is not supplied; without any file
    record (a test's hand-built data) every table present counts."""
    present = {t for t in data.tables if table_rows(data.tables, t) > 0}
    files: Mapping[str, Path] = data.files or {}
    return present & set(files) if files else present


def _items(source: str) -> list[str]:
    """The comma-separated items of a source line (commas inside parentheses kept)."""
    return [s.strip() for s in re.split(r",\s*(?![^()]*\))", source) if s.strip()]


def source_line(source: str, data: LoadedData) -> str:
    """``source`` with the tables the client did not supply left out.

    Items are comma separated; an item whose first word is a table of the contract ("mrr",
    "accounts (owner)") is kept only when the client supplied that table; a synthesised table
    is named by the table it came from (:data:`DERIVED_FROM`), once. Other items ("params
    touch_model", "modelling table") are kept as they are."""
    sent = supplied(data)
    out: list[str] = []
    for item in _items(source):
        word = re.match(r"[a-z_]+", item)
        table = word.group(0) if word else ""
        if table not in TABLES or table in sent:
            out.append(item)
            continue
        origin = DERIVED_FROM.get(table)
        if origin in sent and table in data.tables:
            out.append(f"{origin} (churn from billing)" if table == "churn_events"
                       else origin)
    seen: set[str] = set()
    kept = []
    for item in out:
        first = re.match(r"[a-z_]+", item)
        key = first.group(0) if first and first.group(0) in TABLES else item
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return ", ".join(kept)
