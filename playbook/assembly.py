"""Table assembly in params: joins, row filters and derived columns, declarative only.

A canonical table sometimes has to be put together from a client's files: a snapshot export
(one row per customer: tenure in months, contract, monthly charge, churned flag, reason)
holds the accounts, the MRR of the snapshot month *and* the churn events; a CRM keeps the
churn reasons in a second file keyed by customer. ``tables.<table>`` in the params file says
how, with a small fixed vocabulary read by the code below. No client text is ever evaluated
as code: column names are looked up, values are compared as text, dates and numbers are
parsed by the loader's own parsers.

Order, between reading the table's file and mapping its columns (:func:`assemble`):

1. ``join``: each file is read like any input (same reader, limits and folder checks) and
   joined on a key; the joined file must hold each key once (one-to-one or many-to-one);
   rows that found no match are counted in the data-quality log.
2. ``filter``: rows kept by ``equals``, ``in``, ``not_in`` or ``is_blank`` on one column
   (text compared ignoring case and surrounding spaces); the rows kept are logged.
3. ``derive``: canonical columns computed by one rule each (every one logged as a
   conversion): ``months_before`` (a date, or the as-of date, minus a whole number of
   months held in a column), ``constant_date`` (a date, or ``as_of``, on every row),
   ``copy`` (a column of the file, so one header can feed two canonical columns).

``from_table`` (the value of a column of the accounts table, by ``account_id``) needs the
accounts as the loader completes them (MRR from ARR or billing), so it is filled after all
tables are loaded (:func:`values_from_accounts`); it fills optional columns only.

``columns: {segment: null}`` leaves a canonical column unmapped: it is not looked up by
name (``playbook.columns.map_columns``). A required column may be left unmapped only where
the loader can derive it (e.g. ``accounts.start_date`` from billing).
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np
import pandas as pd

from playbook import textfmt as tf
from playbook.billing import LINE
from playbook.columns import header_key, needed_columns
from playbook.config import Params
from playbook.config_tables import DeriveParams, JoinParams, RowFilter, TableParams
from playbook.contract import TABLES, ColumnSpec, TableSpec
from playbook.errors import DataError, DataIssue
from playbook.quality import QualityLog
from playbook.reading import client_file, read_raw, relative_name
from playbook.values import blank_mask, parse_dates, parse_number

#: Largest number of months ``months_before`` subtracts (100 years); more is not a tenure.
MAX_MONTHS = 1200
#: Kinds of columns a date rule may fill.
DATE_KINDS = ("date", "month")
#: Columns shown in an error that lists a file's headers.
SHOWN_HEADERS = 20


# --------------------------------------------------------------------------- entry points


def assemble(table: str, tp: TableParams, raw: pd.DataFrame, path: Path, params: Params,
             log: QualityLog) -> tuple[pd.DataFrame, set[str]]:
    """Apply ``tp.join``, ``tp.filter`` and ``tp.derive`` to the raw cells of a table's file.

    Returns the assembled frame (derived columns added under their canonical names, so the
    column mapping finds them) and the headers the assembly used (not "unused columns").

    Raises
    ------
    DataError
        A params key names a column the file lacks, a joined file is missing or holds a key
        twice, a derivation does not fit its column; each issue names the params key, the
        file, what was expected and the fix.
    """
    spec = TABLES[table]
    _check_unmapped(table, spec, tp, params)
    used: set[str] = set()
    for i, join in enumerate(tp.join):
        raw = join_file(table, tp, raw, path, i, join, params, log, used)
    for i, rule in enumerate(tp.filter):
        raw = filter_rows(table, spec, raw, path, i, rule, log, used)
    if tp.derive:
        raw = derive_columns(table, spec, tp, raw, path, params, log, used)
    return raw, used


def values_from_accounts(tables: dict[str, pd.DataFrame], params: Params,
                         log: QualityLog) -> None:
    """Fill every ``derive: {column: {from_table: {table: accounts, column: c}}}``.

    Runs once all tables are loaded and the accounts completed (MRR from ARR or billing), so
    the value is the one every analysis sees. Each row takes its account's value; a row
    whose account is not in the accounts table, or has a blank value there, stays blank
    (counted in the log).
    """
    acc = tables.get("accounts")
    for table, tp in params.tables.items():
        frame = tables.get(table)
        rules = {c: r for c, r in tp.derive.items() if r.from_table is not None}
        if frame is None or not rules or acc is None:
            continue
        for target, rule in rules.items():
            source = rule.from_table.column
            by_account = acc.drop_duplicates("account_id").set_index("account_id")[source]
            values = frame["account_id"].map(by_account)
            kind = TABLES[table].column(target).kind
            if kind == "month" and TABLES["accounts"].column(source).kind == "date":
                values = values.dt.to_period("M").dt.to_timestamp()
            frame[target] = values.astype(frame[target].dtype)
            found, n = int(values.notna().sum()), len(frame)
            message = (f"conversion: {target} = accounts.{source} of each row's account "
                       f"({found:,} of {n:,} rows)")
            if found < n:
                missing = frame.loc[values.isna(), "account_id"]
                log.add(table, "warning", message + f"; {tf.plural(n - found, 'row')} left "
                                                    "blank (the "
                        f"account is not in the accounts table or its {source} is blank)",
                        count=n - found, examples=missing.tolist(),
                        affects=list(TABLES[table].used_by))
            else:
                log.add(table, "info", message, count=n)


def joined_files(params: Params) -> set[Path]:
    """The files read by joins (resolved), so they are not reported as unused."""
    folder = params.data_path()
    return {(folder / j.file).resolve() for tp in params.tables.values() for j in tp.join}


# --------------------------------------------------------------------------- helpers


def _params_file(params: Params) -> str:
    return relative_name(Path(params.sources.get("client", "params/<client>.yaml")))


def _headers(raw: pd.DataFrame) -> list[str]:
    return [str(c) for c in raw.columns if c != LINE]


def _find(raw: pd.DataFrame, name: str) -> str | None:
    """The header ``name`` (exactly, else ignoring case and punctuation, as column mapping
    does), or None."""
    headers = _headers(raw)
    if name in headers:
        return name
    matches = [h for h in headers if header_key(h) == header_key(name)]
    return matches[0] if len(matches) == 1 else None


def _missing_header(table: str, raw: pd.DataFrame, path: Path, key: str, name: str,
                    joined: bool) -> DataIssue:
    """The issue for a params key naming a column the file does not have."""
    headers = _headers(raw)
    close = difflib.get_close_matches(name, headers, n=3, cutoff=0.5)
    where = path.name + (" or the files joined to it" if joined else "")
    return DataIssue(
        table, relative_name(path), name, f"{key} names '{name}', which is not a column of {where}",
        f"a header of the file: {', '.join(headers[:SHOWN_HEADERS])}"
        + (", …" if len(headers) > SHOWN_HEADERS else ""),
        f"Correct {key} in the params file" + (f" (closest headers: {close})." if close
                                                 else " to the header as the file writes it."))


def _cell_text(value: object) -> str:
    """A cell as comparable text: surrounding spaces dropped, 1001.0 written 1001."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def cell_text(values: pd.Series) -> pd.Series:
    """Cells as comparable text (:func:`_cell_text`); blank cells are missing."""
    if values.dtype == object and values.map(type).eq(str).all():
        text = values.str.strip()
    else:
        text = values.map(_cell_text)
    return text.astype(object).where(~blank_mask(values), None)


def _kind_family(kind: str) -> str:
    return "date" if kind in DATE_KINDS else kind


# --------------------------------------------------------------------------- null columns


def _check_unmapped(table: str, spec: TableSpec, tp: TableParams, params: Params) -> None:
    """A required column may be left unmapped (``null``) only when the loader can derive
    it without the file (e.g. ``accounts.start_date`` from billing)."""
    needed = needed_columns(spec, tp)
    issues = []
    for name, header in tp.columns.items():
        if header is not None or name not in needed or name in tp.derive:
            continue
        if name in spec.column_names and spec.column(name).derived_from:
            continue
        issues.append(DataIssue(
            table, _params_file(params), None,
            f"tables.{table}.columns.{name} is null (left unmapped), but the '{table}' table "
            f"needs {name} and the loader cannot derive it",
            f"the header of the column holding {name} in {tp.file}",
            f"Write the header under tables.{table}.columns.{name}, or derive it under "
            f"tables.{table}.derive.{name} (see docs/data-contract.md, table assembly)."))
    if issues:
        raise DataError(issues)


# --------------------------------------------------------------------------- joins


def join_file(table: str, tp: TableParams, raw: pd.DataFrame, path: Path, i: int,
              join: JoinParams, params: Params, log: QualityLog,
              used: set[str]) -> pd.DataFrame:
    """Bring the columns of another file onto ``raw`` by a key (``tables.<table>.join[i]``).

    The other file goes through the loader's own checks and reader (it must sit in the
    client's folder). Each key may appear once in it (exact duplicate rows are dropped and
    logged): a key on several rows would copy rows of the table (one-to-many), which stops
    the run. With ``how: left`` unmatched rows are kept with blank joined columns, with
    ``how: inner`` they are dropped; either way they are counted in the log.
    """
    key = f"tables.{table}.join[{i}]"
    label = f"{table}.join[{i}]"  # names tables.<table>.join[i].file in the reader's errors
    jtp = tp.model_copy(update={"file": join.file, "sheet": join.sheet,
                                "header_row": join.header_row, "delimiter": join.delimiter,
                                "encoding": join.encoding})
    other_path = client_file(label, jtp, params)
    scratch = QualityLog()
    other = read_raw(label, other_path, jtp, scratch)
    for note in scratch.notes:
        note.table = table
        log.notes.append(note)
    left, right = (join.on, join.on) if isinstance(join.on, str) else next(iter(
        join.on.items()))
    issues = []
    lh, rh = _find(raw, left), _find(other, right)
    if lh is None:
        issues.append(_missing_header(table, raw, path, f"{key}.on", left, i > 0))
    if rh is None:
        issues.append(_missing_header(table, other, other_path, f"{key}.on", right, False))
    wanted, skipped = _join_columns(join, other, rh, raw)
    brought: dict[str, str] = {}
    for source, target in wanted.items():
        found = _find(other, source)
        if found is None:
            issues.append(_missing_header(table, other, other_path, f"{key}.columns", source,
                                          False))
        elif target in _headers(raw):
            issues.append(DataIssue(
                table, relative_name(other_path), found, f"{key}.columns brings '{target}', which "
                f"{path.name} already has", "joined columns with names of their own",
                f"Rename it under {key}.columns, e.g. {{\"{found}\": \"{target} "
                f"({other_path.stem})\"}}."))
        else:
            brought[found] = target
    if issues:
        raise DataError(issues)
    used.add(lh)
    right_rows = _unique_keys(table, key, other, rh, brought, other_path, log)
    lkey = cell_text(raw[lh])
    matched = lkey.isin(right_rows.index) & lkey.notna()
    for source, target in brought.items():
        raw[target] = lkey.map(right_rows[source]).where(matched, "")
    unused_right = int((~right_rows.index.isin(lkey.dropna())).sum())
    _log_join(table, key, join, path, other_path, lh, rh, raw, lkey, matched, unused_right,
              skipped, log)
    if join.how == "inner":
        raw = raw.loc[matched]
    return raw


def _join_columns(join: JoinParams, other: pd.DataFrame, rh: str | None, raw: pd.DataFrame
                  ) -> tuple[dict[str, str], list[str]]:
    """{header in the joined file: name in the table} to bring, and the headers left out
    because the table's file already has them (when no ``columns`` are listed)."""
    if isinstance(join.columns, dict):
        return dict(join.columns), []
    if isinstance(join.columns, list):
        return {c: c for c in join.columns}, []
    have = set(_headers(raw))
    every = [h for h in _headers(other) if h != rh]
    return {h: h for h in every if h not in have}, [h for h in every if h in have]


def _unique_keys(table: str, key: str, other: pd.DataFrame, rh: str, brought: dict[str, str],
                 other_path: Path, log: QualityLog) -> pd.DataFrame:
    """The joined file's rows indexed by key; a key on two different rows stops the run."""
    rows = other[[*brought, LINE]].copy()
    rows.index = cell_text(other[rh])
    rows = rows.loc[rows.index.notna()]
    exact = _exact_dups(rows, brought)
    if exact.any():
        log.add(table, "info", f"{key}: {tf.plural(int(exact.sum()), 'exact duplicate row')} of "
                f"{other_path.name} dropped before joining", count=int(exact.sum()),
                examples=rows.loc[exact, LINE].tolist())
        rows = rows.loc[~exact]
    dup = rows.index.duplicated(keep=False)
    if dup.any():
        keys = rows.index[dup].unique().tolist()
        raise DataError([DataIssue(
            table, relative_name(other_path), rh,
            f"{tf.plural(len(keys), 'value')} of '{rh}' {tf.noun(len(keys), 'appears', 'appear')} "
            "on more than one row of "
            f"{other_path.name} with different contents: the join {key} would give a row of "
            f"the table several matches (one-to-many)",
            f"each '{rh}' once in {other_path.name} (a one-to-one or many-to-one join)",
            f"Remove or merge the duplicate rows in {other_path.name} (or ask the client "
            f"which is current), or join on a column that is unique there under {key}.on.",
            rows.loc[dup, LINE].tolist(), keys, int(dup.sum()))])
    return rows


def _exact_dups(rows: pd.DataFrame, brought: dict[str, str]) -> np.ndarray:
    """Rows repeating an earlier row's key and every joined value."""
    cells = rows[list(brought)].astype(str)
    cells.insert(0, "\x00key", rows.index.astype(str))
    return cells.duplicated(keep="first").to_numpy()


def _log_join(table: str, key: str, join: JoinParams, path: Path, other_path: Path, lh: str,
              rh: str, raw: pd.DataFrame, lkey: pd.Series, matched: pd.Series,
              unused_right: int, skipped: list[str], log: QualityLog) -> None:
    """One note per join: rows matched, rows unmatched (with examples), unused rows."""
    n, hits = len(raw), int(matched.sum())
    on = f"'{lh}'" if lh == rh else f"'{lh}' = '{rh}'"
    text = (f"{key}: {other_path.name} joined to {path.name} on {on}: {hits:,} of "
            f"{tf.plural(n, 'row')} matched")
    if n - hits:
        fate = ("kept with the joined columns blank" if join.how == "left" else
                "dropped (how: inner)")
        text += f"; {n - hits:,} did not and were {fate}"
    if unused_right:
        text += f"; {tf.plural(unused_right, 'row')} of {other_path.name} matched no row"
    if skipped:
        text += (f"; not brought (already in {path.name}): {', '.join(skipped[:8])}"
                 + (", …" if len(skipped) > 8 else ""))
    if n - hits:
        unmatched = lkey[~matched].fillna("(blank)")
        log.add(table, "warning", text, count=n - hits, examples=unmatched.tolist(),
                affects=list(TABLES[table].used_by))
    else:
        log.add(table, "info", text, count=hits)


# --------------------------------------------------------------------------- filters


def _rule_values(rule: RowFilter) -> tuple[str, list[str]]:
    """(operator, values as comparable lower-case text)."""
    for op, values in (("equals", [rule.equals]), ("in", rule.in_), ("not_in", rule.not_in)):
        if values is not None and values != [None]:
            return op, [_cell_text(v).casefold() for v in values]
    return "is_blank", []


def filter_rows(table: str, spec: TableSpec, raw: pd.DataFrame, path: Path, i: int,
                rule: RowFilter, log: QualityLog, used: set[str]) -> pd.DataFrame:
    """Keep the rows that pass ``tables.<table>.filter[i]`` (logged: rows kept of rows).

    ``equals`` and ``in`` never keep a blank cell; ``not_in`` keeps blank cells (add
    ``is_blank: false`` to drop them). A listed value that never occurs in the column is
    most likely a typo: the note is then a warning naming the values present.
    """
    key = f"tables.{table}.filter[{i}]"
    header = _find(raw, rule.column)
    if header is None:
        raise DataError([_missing_header(table, raw, path, f"{key}.column", rule.column,
                                         False)])
    used.add(header)
    text = cell_text(raw[header])
    lower = text.str.casefold()
    op, values = _rule_values(rule)
    if op == "is_blank":
        keep = text.isna() if rule.is_blank else text.notna()
        said = "is blank" if rule.is_blank else "is not blank"
    else:
        inside = lower.isin(values) & text.notna()
        keep = ~inside if op == "not_in" else inside
        shown = ", ".join(f"'{v}'" for v in ([rule.equals] if op == "equals" else
                                             (rule.in_ if op == "in" else rule.not_in)))
        said = {"equals": "equals", "in": "is one of", "not_in": "is not one of"}[op] + \
            f" {shown}"
    n, kept = len(raw), int(keep.sum())
    message = f"{key}: rows where '{header}' {said}: {kept:,} of {tf.plural(n, 'row')} kept"
    never = [v for v in values if not lower.eq(v).any()]
    if n and (never or kept == 0):
        present = text.dropna().value_counts().index[:10].tolist()
        detail = (f"; {tf.noun(len(never), 'value')} never found in the column: {never}"
                  if never else "")
        log.add(table, "warning", message + detail + f" (values present: {present})",
                count=n - kept, examples=present, affects=list(spec.used_by))
    else:
        log.add(table, "info", message, count=kept)
    return raw.loc[keep.to_numpy()]


# --------------------------------------------------------------------------- derivations


def derive_columns(table: str, spec: TableSpec, tp: TableParams, raw: pd.DataFrame,
                   path: Path, params: Params, log: QualityLog,
                   used: set[str]) -> pd.DataFrame:
    """Add each ``tables.<table>.derive`` column under its canonical name (logged).

    Sources are the file's columns as assembled so far (after joins and filters), never
    another derived column. ``from_table`` columns are reserved here (blank) and filled by
    :func:`values_from_accounts` once the accounts are complete.
    """
    issues: list[DataIssue] = []
    new: dict[str, pd.Series] = {}
    for target, rule in tp.derive.items():
        key = f"tables.{table}.derive.{target}"
        col = _target_column(table, spec, tp, target, rule, key, params, issues)
        if col is None:
            continue
        if rule.months_before is not None:
            values = _months_before(table, spec, tp, raw, path, rule, key, params, log,
                                    issues, used)
        elif rule.constant_date is not None:
            day = params.as_of if rule.constant_date == "as_of" else rule.constant_date
            values = pd.Series(pd.Timestamp(day), index=raw.index, dtype="datetime64[ns]")
            said = (f"the as-of date ({tf.date(day)})" if rule.constant_date == "as_of"
                    else tf.date(day))
            log.add(table, "info", f"conversion: {target} = {said} on every row "
                    f"({len(raw):,} rows)", count=len(raw))
        elif rule.copy is not None:
            header = _find(raw, rule.copy)
            if header is None:
                issues.append(_missing_header(table, raw, path, f"{key}.copy", rule.copy,
                                              bool(tp.join)))
                continue
            used.add(header)
            values = raw[header].copy()
            log.add(table, "info", f"conversion: {target} = a copy of '{header}' "
                    f"({len(raw):,} rows)", count=len(raw))
        else:  # from_table: filled once the accounts are complete
            values = pd.Series(None, index=raw.index, dtype=object)
        if values is not None:
            new[target] = values
    if issues:
        raise DataError(issues)
    for target, values in new.items():
        if target in raw.columns:
            log.add(table, "info", f"{path.name} has its own '{target}' column; the derived "
                    f"{target} (tables.{table}.derive.{target}) is used instead")
        raw[target] = values
    return raw


def _target_column(table: str, spec: TableSpec, tp: TableParams, target: str,
                   rule: DeriveParams, key: str, params: Params,
                   issues: list[DataIssue]) -> ColumnSpec | None:
    """The contract column a derivation fills, if the rule fits it (else an issue)."""
    where = _params_file(params)
    if target not in spec.column_names:
        close = difflib.get_close_matches(target, spec.column_names, n=1)
        issues.append(DataIssue(
            table, where, None, f"{key}: '{target}' is not a column of the data contract's "
            f"'{table}' table", f"one of: {', '.join(spec.column_names)}",
            f"Correct the name on the left under tables.{table}.derive"
            + (f" (did you mean '{close[0]}'?)." if close else ".")))
        return None
    col = spec.column(target)
    fits = True
    if rule.rule in ("months_before", "constant_date") and col.kind not in DATE_KINDS:
        fits = False
        why = f"{rule.rule} makes a date, and {target} is a {col.kind} column"
    elif rule.from_table is not None:
        source = rule.from_table.column
        accounts = TABLES["accounts"]
        if table == "accounts":
            fits, why = False, "from_table reads the accounts table, the table being read"
        elif source not in accounts.column_names:
            fits, why = False, (f"'{source}' is not a column of the accounts table (columns: "
                                f"{', '.join(accounts.column_names)})")
        elif _kind_family(accounts.column(source).kind) != _kind_family(col.kind):
            fits, why = False, (f"accounts.{source} is a {accounts.column(source).kind} "
                                f"column and {target} a {col.kind} column")
        elif target in needed_columns(spec, tp):
            fits, why = False, (f"{target} is required in '{table}' and must be known while "
                                "the table is read; from_table fills optional columns "
                                "(the accounts are completed after every table is read)")
    if not fits:
        issues.append(DataIssue(
            table, where, None, f"{key}: {why}", _RULE_HELP[rule.rule],
            f"Change the rule under {key} (the rules are in docs/data-contract.md, "
            "table assembly)."))
        return None
    return col


_RULE_HELP = {
    "months_before": "a date or month column, e.g. derive: {start_date: {months_before: "
                     "{date: as_of, months: \"Tenure Months\"}}}",
    "constant_date": "a date or month column, e.g. derive: {churn_date: {constant_date: "
                     "as_of}}",
    "copy": "any column, e.g. derive: {reason_text: {copy: \"Churn Reason\"}}",
    "from_table": "an optional column of the same kind as the accounts column, e.g. "
                  "derive: {lost_mrr: {from_table: {table: accounts, column: mrr}}}",
}


def _months_before(table: str, spec: TableSpec, tp: TableParams, raw: pd.DataFrame,
                   path: Path, rule: DeriveParams, key: str, params: Params, log: QualityLog,
                   issues: list[DataIssue], used: set[str]) -> pd.Series | None:
    """``date`` (a column, or the as-of date) minus the months in ``months`` (logged)."""
    spec_rule = rule.months_before
    target = key.rsplit(".", 1)[-1]
    month_header = _find(raw, spec_rule.months)
    if month_header is None:
        issues.append(_missing_header(table, raw, path, f"{key}.months_before.months",
                                      spec_rule.months, bool(tp.join)))
    if spec_rule.date == "as_of":
        dates = pd.Series(pd.Timestamp(params.as_of), index=raw.index, dtype="datetime64[ns]")
        date_said = f"the as-of date ({tf.date(params.as_of)})"
    else:
        date_header = _find(raw, spec_rule.date)
        if date_header is None:
            issues.append(_missing_header(table, raw, path, f"{key}.months_before.date",
                                          spec_rule.date, bool(tp.join)))
            return None
        used.add(date_header)
        dates, _ = parse_dates(raw[date_header], tp)
        date_said = f"'{date_header}'"
    if month_header is None:
        return None
    used.add(month_header)
    months, _ = parse_number(raw[month_header], tp)
    whole = months.notna() & (months == months.round()) & months.between(0, MAX_MONTHS)
    values = minus_months(dates, months.where(whole))
    n, ok = len(raw), int(values.notna().sum())
    message = (f"conversion: {target} = {date_said} minus the months in '{month_header}' "
               f"({ok:,} of {n:,} rows)")
    if ok < n:
        bad = values.isna()
        log.add(table, "warning", message + f"; {tf.plural(n - ok, 'row')} left blank "
                                            f"('{month_header}'"
                f" blank or not a whole number from 0 to {MAX_MONTHS}, or no date)",
                count=n - ok, examples=raw.loc[bad, LINE].tolist(),
                affects=list(spec.used_by))
    else:
        log.add(table, "info", message, count=n)
    return values


def minus_months(dates: pd.Series, months: pd.Series) -> pd.Series:
    """Each date minus a whole number of months, keeping the day (clipped to the month's
    last day: 2024-06-30 minus 4 months is 2024-02-29). Missing where either is missing."""
    out = pd.Series(pd.NaT, index=dates.index, dtype="datetime64[ns]")
    ok = dates.notna() & months.notna()
    if not ok.any():
        return out
    day, n = pd.to_datetime(dates[ok]), months[ok].astype("int64")
    total = day.dt.year * 12 + day.dt.month - 1 - n
    first = pd.to_datetime(pd.DataFrame({"year": total // 12, "month": total % 12 + 1,
                                         "day": 1}))
    keep_day = np.minimum(day.dt.day, first.dt.days_in_month)
    out[ok] = first + pd.to_timedelta(keep_day - 1, unit="D")
    return out
