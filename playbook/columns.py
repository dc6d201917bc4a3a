"""Client headers to canonical columns: matching, the columns a table requires, and the
contract columns a client did not supply.

A header matches a canonical column (or the header params map it to) exactly, else by
:func:`header_key` (case, spaces and punctuation ignored: 'Account ID' is 'account_id').
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd

from playbook.billing import LINE
from playbook.config_tables import TableParams
from playbook.contract import TableSpec
from playbook.errors import DataIssue
from playbook.quality import QualityLog
from playbook.reading import relative_name


def header_key(name: object) -> str:
    """A header as it is matched: lower-case letters and digits only ('ARR (USD)' ->
    'arrusd')."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def map_columns(table: str, spec: TableSpec, tp: TableParams, raw: pd.DataFrame, path: Path,
                log: QualityLog) -> tuple[pd.DataFrame, list[str], list[DataIssue]]:
    """Rename client headers to canonical names.

    Returns the renamed frame (canonical columns present + ``_line``), the client columns
    left unmapped, and issues for missing required columns.
    """
    headers = [c for c in raw.columns if c != LINE]
    by_norm = {header_key(h): h for h in headers}
    unknown = sorted(set(tp.columns) - set(spec.column_names))
    issues: list[DataIssue] = []
    if unknown:
        issues.append(DataIssue(
            table, relative_name(path), None,
            f"params maps column(s) {unknown} that the data contract does not have",
            f"canonical columns of '{table}': {', '.join(spec.column_names)}",
            f"Fix the left-hand names under tables.{table}.columns in the params file."))
    rename: dict[str, str] = {}
    needed = needed_columns(spec, tp)
    for col in spec.columns:
        wanted = tp.columns.get(col.name, col.name)
        if wanted is None:  # `columns: {name: null}`: left unmapped, not looked up by name
            continue
        found = wanted if wanted in headers else by_norm.get(header_key(wanted))
        if found is None and col.name not in tp.columns:
            found = by_norm.get(header_key(col.name))
        if found is None:
            derive = col.derived_from and col.name not in tp.columns
            if col.name in needed and not derive:
                close = difflib.get_close_matches(wanted, headers, n=3, cutoff=0.5)
                hint = f" Closest headers in the file: {close}." if close else ""
                line = _header_guess(raw, wanted)
                if line is not None:
                    hint = (f" '{wanted}' appears on line {line}: if the header is there, set "
                            f"tables.{table}.header_row: {line}.") + hint
                issues.append(DataIssue(
                    table, relative_name(path), wanted,
                    f"required column '{wanted}' (canonical '{col.name}') is missing",
                    f"a column holding {col.description or col.name}; the file has: "
                    f"{', '.join(headers[:20])}",
                    f"Map it in the params file: tables.{table}.columns.{col.name}: "
                    f"\"<header in your file>\".{hint}"))
            elif col.name in tp.columns:
                log.add(table, "warning",
                        f"column '{wanted}' (mapped to '{col.name}') is not in {path.name}; "
                        "treated as empty", affects=list(spec.used_by))
            continue
        rename[found] = col.name
    unmapped = [h for h in headers if h not in rename]
    frame = raw[[*rename, LINE]].rename(columns=rename)
    return frame, unmapped, issues


def _header_guess(raw: pd.DataFrame, wanted: str) -> int | None:
    """Line of the file (among the first 30 rows) holding a cell equal to ``wanted``."""
    target = header_key(wanted)
    cells = raw.drop(columns=[LINE]).head(30).astype(str)
    for position, row in enumerate(cells.itertuples(index=False)):
        if target and any(header_key(v) == target for v in row):
            return int(raw[LINE].iloc[position])
    return None


def needed_columns(spec: TableSpec, tp: TableParams) -> set[str]:
    """The canonical columns a row of the table cannot do without: a missing one stops the
    run, a blank or unusable value rejects the row (for ``mrr``, by ``tables.mrr.layout``)."""
    if spec.name == "mrr":
        return {"account_id", "mrr", "start_date"} if tp.layout == "lines" else {
            "account_id", "month", "mrr"}
    return {c.name for c in spec.columns if c.required}


EMPTY_DTYPES = {"id": "str", "text": "str", "code": "str", "date": "datetime64[ns]",
                "month": "datetime64[ns]", "money": "float", "number": "float",
                "count": "Int64", "bool": "boolean"}


def with_all_columns(spec: TableSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Add every contract column the client did not supply, empty and correctly typed, so
    analyses can rely on the columns existing (and test for blanks instead)."""
    for col in spec.columns:
        if col.name not in frame.columns:
            frame[col.name] = pd.Series(dtype=EMPTY_DTYPES[col.kind], index=frame.index)
    return frame[[*spec.column_names, LINE]]
