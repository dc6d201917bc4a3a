"""Client variables: extra columns of a client's table, declared under ``variables`` in
the params (a contract type, a plan, a score the contract does not know), typed and checked
so that churn by variable and the renewal drivers can use them.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from playbook import textfmt as tf
from playbook.billing import LINE
from playbook.columns import header_key
from playbook.config import Params
from playbook.config_tables import VARIABLE_PREFIX, TableParams
from playbook.errors import DataError, DataIssue
from playbook.quality import QualityLog
from playbook.reading import relative_name
from playbook.values import blank_mask, parse_dates, parse_number, parse_text

#: A categorical client variable with more distinct values than this is refused (an
#: identifier or free text, not a grouping).
MAX_VARIABLE_LEVELS = 30


def client_variables(name: str, raw: pd.DataFrame, tp: TableParams, params: Params,
                     path: Path, log: QualityLog) -> tuple[pd.DataFrame | None, list[str]]:
    """The client variables declared on table ``name`` (params ``variables``), typed.

    Returns a frame of ``_line`` and one column ``var_<key>`` per variable (categorical: text
    as written, trimmed; numeric: the table's number parsing, an unreadable value blank and
    logged) and the headers used. A missing column, a reference level the column never
    holds, a categorical with more than :data:`MAX_VARIABLE_LEVELS` values, or a numeric
    column mostly unreadable stops the run with the params key to correct.
    """
    wanted = {k: v for k, v in params.variables.items() if v.table == name}
    if not wanted:
        return None, []
    headers = [c for c in raw.columns if c != LINE]
    by_norm = {header_key(h): h for h in headers}
    out = pd.DataFrame({LINE: raw[LINE]})
    issues: list[DataIssue] = []
    used: list[str] = []
    for key, var in wanted.items():
        found = var.column if var.column in headers else by_norm.get(header_key(var.column))
        if found is None:
            close = difflib.get_close_matches(var.column, headers, n=3, cutoff=0.5)
            issues.append(DataIssue(
                name, relative_name(path), var.column, f"variables.{key}.column "
                f"'{var.column}' is not a column of {path.name}",
                f"one of its headers: {', '.join(headers[:20])}",
                f"Set variables.{key}.column to the header as written in the file"
                + (f" (closest: {close})" if close else "") + ", or remove the variable."))
            continue
        used.append(found)
        if var.kind == "numeric":
            values, problem = _numeric_variable(name, key, raw, found, tp, params, path, log)
        else:
            values, problem = _categorical_variable(name, key, var.reference, raw, found, path)
        if problem is not None:
            issues.append(problem)
        out[VARIABLE_PREFIX + key] = values
        if var.recorded is not None:
            dates, problem = _recorded_dates(name, key, raw, var.recorded, tp, path)
            if problem is not None:
                issues.append(problem)
                continue
            out[VARIABLE_PREFIX + key + RECORDED_SUFFIX] = dates
            used.append(var.recorded)
    if issues:
        raise DataError(issues)
    return out, used


def _numeric_variable(name: str, key: str, raw: pd.DataFrame, header: str, tp: TableParams,
                      params: Params, path: Path, log: QualityLog
                      ) -> tuple[pd.Series, DataIssue | None]:
    """A numeric variable's values; unreadable ones blank (logged), too many an issue."""
    values, bad = parse_number(raw[header], tp)
    filled = int((~blank_mask(raw[header])).sum())
    if bad.any() and int(bad.sum()) > params.data.max_rejected_share * max(filled, 1):
        return values, DataIssue(
            name, relative_name(path), header, f"variables.{key} is declared numeric but "
            f"{int(bad.sum())} of {tf.plural(filled, 'value')} "
            f"{tf.noun(int(bad.sum()), 'is not a number', 'are not numbers')}",
            f"numbers written with the decimal mark '{tp.decimal}'",
            f"Declare variables.{key}.kind: categorical if the column holds labels, or "
            f"set tables.{name}.decimal/thousands to the file's number format.",
            raw.loc[bad, LINE].tolist(), raw.loc[bad, header].tolist(), int(bad.sum()))
    if bad.any():
        log.add(name, "warning", f"{header} (variables.{key}): "
                f"{tf.plural(int(bad.sum()), 'value')} "
                f"{tf.noun(int(bad.sum()), 'is not a number', 'are not numbers')}; set to blank",
                count=int(bad.sum()),
                examples=raw.loc[bad, LINE].tolist(), affects=["reasons", "drivers"])
    return values, None


#: The column of a variable's recording date: ``var_<key>_recorded`` (the renewal drivers
#: read it by this name, :data:`playbook.analyses.drivers.features.RECORDED_SUFFIX`).
RECORDED_SUFFIX = "_recorded"


def _recorded_dates(name: str, key: str, raw: pd.DataFrame, header: str, tp: TableParams,
                    path: Path) -> tuple[pd.Series, DataIssue | None]:
    """The dates a variable's values were recorded (``variables.<key>.recorded``): a
    missing column or unreadable dates are an issue naming the key."""
    headers = [c for c in raw.columns if c != LINE]
    found = header if header in headers else {header_key(h): h for h in headers}.get(
        header_key(header))
    if found is None:
        return pd.Series(dtype="datetime64[ns]"), DataIssue(
            name, relative_name(path), header, f"variables.{key}.recorded '{header}' is not "
            f"a column of {path.name}", f"one of its headers: {', '.join(headers[:20])}",
            f"Set variables.{key}.recorded to the header of the date column as written, or "
            "remove it.")
    dates, bad = parse_dates(raw[found], tp)
    if bad.any():
        return dates, DataIssue(
            name, relative_name(path), found, f"variables.{key}.recorded: {int(bad.sum())} "
            "value(s) are not dates", "dates in the table's date format",
            f"Correct the dates, or set tables.{name}.date_format.",
            raw.loc[bad, LINE].tolist(), raw.loc[bad, found].tolist(), int(bad.sum()))
    return dates, None


def _categorical_variable(name: str, key: str, reference: str | None, raw: pd.DataFrame,
                          header: str, path: Path) -> tuple[pd.Series, DataIssue | None]:
    """A categorical variable's levels (trimmed text), checked: not too many levels, and
    the declared reference level among them."""
    values, _ = parse_text(raw[header])
    levels = sorted(values.dropna().unique().tolist())
    if len(levels) > MAX_VARIABLE_LEVELS:
        return values, DataIssue(
            name, relative_name(path), header, f"variables.{key} is declared categorical but the "
            f"column holds {len(levels):,} different values (at most "
            f"{MAX_VARIABLE_LEVELS} make groups that can be compared)",
            "a few groups, e.g. contract types or plans", f"Declare variables.{key}.kind: "
            "numeric if the column holds numbers, else group its values in the export, "
            "or remove the variable.", [], levels[:5], len(levels))
    if reference is not None and reference.strip() not in levels:
        close = [v for v in levels if v.lower() == reference.strip().lower()]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return values, DataIssue(
            name, relative_name(path), header, f"variables.{key}.reference is '{reference}', "
            f"a value the column never holds{hint}", f"one of the values found: {levels[:12]}",
            f"Set variables.{key}.reference to one of these values, written exactly, or "
            "remove it to compare with the most common value.", [], levels[:12], len(levels))
    return values, None


def with_variables(frame: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
    """``frame`` with the client variables of its rows (matched by file line)."""
    if extra is None:
        return frame
    return frame.join(extra.set_index(LINE), on=LINE)
