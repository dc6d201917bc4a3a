"""Read a client's raw exports and turn them into validated canonical tables.

This is the only module that touches raw files and client column names. Everything after it
speaks the canonical names of :mod:`playbook.contract`.

Policy for bad values
---------------------
* A problem that makes a whole table unusable (missing file, missing required column,
  conflicting duplicate keys, unreadable file) stops the run with a
  :class:`~playbook.errors.DataError` naming file, column, example lines, count and the fix.
* A row whose *required* value cannot be used (unparseable date, negative money, unknown
  account) is rejected and logged. If more than ``data.max_rejected_share`` of a table's rows
  are rejected, the run stops instead: at that point the input is wrong, not noisy.
* An unusable *optional* value becomes missing and is logged.

Line numbers in messages are the lines of the client's file (the header is line
``header_row``), so they can be found in a spreadsheet.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from playbook.config import Params, TableParams
from playbook.contract import TABLES, ColumnSpec, TableSpec
from playbook.errors import DataError, DataIssue
from playbook.quality import QualityLog, TableLoad

LINE = "_line"  # internal column: the row's line number in the client's file
TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}
EXCEL_EPOCH = pd.Timestamp("1899-12-30")


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
        return self.tables.get(name)

    def has(self, *names: str) -> bool:
        return all(n in self.tables and len(self.tables[n]) > 0 for n in names)

    def missing(self, *names: str) -> list[str]:
        return [n for n in names if not self.has(n)]


# --------------------------------------------------------------------------- reading


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _detect_encoding(path: Path) -> str:
    head = path.read_bytes()[: 1 << 20]
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            head.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _detect_delimiter(path: Path, encoding: str) -> str:
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(64 * 1024)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_raw(table: str, path: Path, tp: TableParams, log: QualityLog) -> pd.DataFrame:
    """Read a client file as text cells (no type guessing), with a ``_line`` column."""
    suffix = path.suffix.lower()
    skip = tp.header_row - 1
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            encoding = tp.encoding or _detect_encoding(path)
            if encoding != "utf-8-sig" and not tp.encoding:
                log.add(table, "info", f"{path.name} is not UTF-8; read as {encoding}.")
            sep = tp.delimiter or ("\t" if suffix == ".tsv" else _detect_delimiter(path, encoding))
            raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, skiprows=skip,
                              encoding=encoding, skipinitialspace=True)
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            raw = pd.read_excel(path, sheet_name=tp.sheet if tp.sheet is not None else 0,
                                header=skip, dtype=object)
            raw = raw.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                          else v)
        elif suffix == ".parquet":
            raw = pd.read_parquet(path)
        else:
            raise _fatal(table, path, None, f"file type '{suffix}' is not supported",
                         "a .csv, .xlsx or .parquet file",
                         "Export the table as CSV (UTF-8) or Excel and point "
                         f"tables.{table}.file at it.")
    except DataError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise _fatal(table, path, None, f"the file cannot be read: {exc}",
                     "a readable CSV, Excel or Parquet file",
                     "Open the file in a spreadsheet, check it is not corrupt or password-"
                     f"protected, and save it again; for an Excel sheet set tables.{table}.sheet "
                     "and tables.{table}.header_row.") from None
    raw.columns = [str(c).strip().lstrip("\ufeff") for c in raw.columns]
    raw[LINE] = np.arange(len(raw)) + tp.header_row + 1
    return raw


def _fatal(table: str, path: Path, column: str | None, problem: str, expected: str,
           fix: str, rows: Iterable[int] = (), examples: Iterable[object] = (),
           count: int = 0) -> DataError:
    return DataError([DataIssue(table, _rel(path), column, problem, expected, fix,
                                list(rows), list(examples), count)])


# --------------------------------------------------------------------------- columns


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def map_columns(table: str, spec: TableSpec, tp: TableParams, raw: pd.DataFrame, path: Path,
                log: QualityLog) -> tuple[pd.DataFrame, list[str], list[DataIssue]]:
    """Rename client headers to canonical names.

    Returns the renamed frame (canonical columns present + ``_line``), the client columns
    left unmapped, and issues for missing required columns.
    """
    headers = [c for c in raw.columns if c != LINE]
    by_norm = {_norm(h): h for h in headers}
    unknown = sorted(set(tp.columns) - set(spec.column_names))
    issues: list[DataIssue] = []
    if unknown:
        issues.append(DataIssue(
            table, _rel(path), None,
            f"params maps column(s) {unknown} that the data contract does not have",
            f"canonical columns of '{table}': {', '.join(spec.column_names)}",
            f"Fix the left-hand names under tables.{table}.columns in the params file."))
    rename: dict[str, str] = {}
    needed = _needed_columns(spec, tp)
    for col in spec.columns:
        wanted = tp.columns.get(col.name, col.name)
        found = wanted if wanted in headers else by_norm.get(_norm(wanted))
        if found is None and col.name not in tp.columns:
            found = by_norm.get(_norm(col.name))
        if found is None:
            if col.name in needed:
                close = difflib.get_close_matches(wanted, headers, n=3, cutoff=0.5)
                hint = f" Closest headers in the file: {close}." if close else ""
                issues.append(DataIssue(
                    table, _rel(path), wanted,
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


def _needed_columns(spec: TableSpec, tp: TableParams) -> set[str]:
    if spec.name == "mrr":
        return {"account_id", "mrr", "start_date"} if tp.layout == "lines" else {
            "account_id", "month", "mrr"}
    return {c.name for c in spec.columns if c.required}


# --------------------------------------------------------------------------- values


def _blank(series: pd.Series) -> pd.Series:
    text = series.astype(str).str.strip()
    return series.isna() | text.eq("") | text.str.lower().isin({"nan", "nat", "none", "null"})


def parse_text(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    out = series.astype(str).str.strip()
    out = out.where(~_blank(series), None).astype("str")
    return out, pd.Series(False, index=series.index)


def parse_number(series: pd.Series, tp: TableParams) -> tuple[pd.Series, pd.Series]:
    """Parse numbers written with the table's decimal mark; currency signs and spaces ignored."""
    if pd.api.types.is_numeric_dtype(series):
        out = pd.to_numeric(series, errors="coerce").astype(float)
        return out, pd.Series(False, index=series.index)
    text = series.astype(str).str.strip()
    text = text.str.replace(r"[\s$€£¥\u00a0]|USD|EUR|GBP", "", regex=True)
    thousands = tp.thousands if tp.thousands is not None else ("." if tp.decimal == "," else ",")
    text = text.str.replace(thousands, "", regex=False)
    if tp.decimal != ".":
        text = text.str.replace(tp.decimal, ".", regex=False)
    text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)  # accounting negatives
    blank = _blank(series)
    out = pd.to_numeric(text.where(~blank, None), errors="coerce").astype(float)
    bad = out.isna() & ~blank
    return out, bad


def parse_dates(series: pd.Series, tp: TableParams) -> tuple[pd.Series, pd.Series]:
    """Parse dates: the table's ``date_format`` if set, else ISO, then day-first or
    month-first text (``dayfirst``), then Excel serial numbers."""
    blank = _blank(series)
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("datetime64[ns]"), pd.Series(False, index=series.index)
    text = series.astype(str).str.strip().where(~blank, None)
    if tp.date_format:
        out = pd.to_datetime(text, format=tp.date_format, errors="coerce")
    else:
        out = pd.to_datetime(text, format="ISO8601", errors="coerce")
        rest = out.isna() & ~blank
        if rest.any():
            other = pd.to_datetime(text[rest], format="mixed", dayfirst=tp.dayfirst,
                                   errors="coerce")
            out = out.astype("datetime64[ns]")
            out[rest] = other.astype("datetime64[ns]")
        rest = out.isna() & ~blank
        if rest.any():
            serial = pd.to_numeric(text[rest], errors="coerce")
            ok = serial.between(20000, 80000)
            out[serial[ok].index] = EXCEL_EPOCH + pd.to_timedelta(serial[ok], unit="D")
    out = out.astype("datetime64[ns]")
    return out, out.isna() & ~blank


def parse_bool(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = series.astype(str).str.strip().str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(TRUE_WORDS)] = True
    out[text.isin(FALSE_WORDS)] = False
    return out, out.isna() & ~_blank(series)


def parse_code(series: pd.Series, col: ColumnSpec, mapping: dict[str, str]
               ) -> tuple[pd.Series, pd.Series]:
    """Map client codes onto canonical ones (params ``codes``), case-insensitively."""
    lookup = {str(k).strip().lower(): v for k, v in mapping.items()}
    lookup.update({c: c for c in col.codes})
    text = series.astype(str).str.strip().str.lower()
    blank = _blank(series)
    out = text.map(lookup).where(~blank, None).astype("str")
    return out, out.isna() & ~blank


def parse_column(frame: pd.DataFrame, col: ColumnSpec, tp: TableParams
                 ) -> tuple[pd.Series, pd.Series]:
    """Return (parsed values, mask of values present but unusable)."""
    s = frame[col.name]
    if col.kind in ("id", "text"):
        return parse_text(s)
    if col.kind in ("date", "month"):
        out, bad = parse_dates(s, tp)
        if col.kind == "month":
            out = out.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
        return out, bad
    if col.kind in ("money", "number", "count"):
        out, bad = parse_number(s, tp)
        if col.kind == "count":
            frac = out.notna() & (out != out.round())
            bad = bad | frac
            out = out.where(~frac).round().astype("Int64")
        return out, bad
    if col.kind == "bool":
        return parse_bool(s)
    if col.kind == "code":
        return parse_code(s, col, tp.codes.get(col.name, {}))
    raise ValueError(f"unknown column kind {col.kind}")


def _expected(col: ColumnSpec, tp: TableParams) -> str:
    return {
        "id": "an identifier",
        "text": "text",
        "date": f"a date ({tp.date_format or 'YYYY-MM-DD, DD/MM/YYYY or an Excel date'})",
        "month": f"a date in the month ({tp.date_format or 'YYYY-MM-DD or YYYY-MM'})",
        "money": f"an amount >= 0 with '{tp.decimal}' as decimal mark",
        "number": "a number" + (f" from {col.min:g} to {col.max:g}" if col.min is not None
                                and col.max is not None else ""),
        "count": "a whole number >= 0",
        "bool": "true/false, yes/no or 1/0",
        "code": f"one of {list(col.codes)} (or a client code mapped under codes)",
    }[col.kind]


def _fix(table: str, col: ColumnSpec) -> str:
    if col.kind == "code":
        return (f"Map the client's values under tables.{table}.codes.{col.name}, e.g. "
                f"{{\"Cancelled\": {col.codes[-1] if col.codes else 'x'}}}.")
    if col.kind in ("date", "month"):
        return (f"Set tables.{table}.date_format (e.g. \"%d-%m-%Y\") or tables.{table}."
                "dayfirst: true, or correct the listed lines.")
    if col.kind in ("money", "number", "count"):
        return (f"Check tables.{table}.decimal (\",\" for decimal commas) and the listed "
                "lines.")
    return "Correct the listed lines in the file."


def _value_checks(spec: TableSpec) -> pa.DataFrameSchema:
    """Range and code checks of parsed canonical values (pandera)."""
    cols = {}
    for c in spec.columns:
        checks = []
        if c.kind in ("money", "count"):
            checks.append(pa.Check.ge(0))
        if c.min is not None:
            checks.append(pa.Check.ge(c.min))
        if c.max is not None:
            checks.append(pa.Check.le(c.max))
        if checks:
            cols[c.name] = pa.Column(checks=checks, nullable=True, required=False,
                                     coerce=False)
    return pa.DataFrameSchema(cols, strict=False)


def _range_failures(frame: pd.DataFrame, spec: TableSpec) -> dict[str, pd.Index]:
    """Index labels per column whose values break the contract's range checks."""
    try:
        _value_checks(spec).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases.dropna(subset=["index"])
        return {col: pd.Index(g["index"].astype(int).unique())
                for col, g in fc.groupby("column")}
    return {}


def typed_table(table: str, spec: TableSpec, tp: TableParams, frame: pd.DataFrame,
                path: Path, log: QualityLog, max_rejected: float) -> pd.DataFrame:
    """Parse every canonical column, reject rows whose required values are unusable."""
    out = pd.DataFrame(index=frame.index)
    reject = pd.Series(False, index=frame.index)
    issues: list[DataIssue] = []
    needed = _needed_columns(spec, tp)
    rel = _rel(path)
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        values, bad = parse_column(frame, col, tp)
        out[col.name] = values
        if bad.any():
            lines = frame.loc[bad, LINE].tolist()
            examples = frame.loc[bad, col.name].tolist()
            issue = DataIssue(table, rel, tp.columns.get(col.name, col.name),
                              f"{int(bad.sum())} value(s) cannot be read as {col.kind}",
                              _expected(col, tp), _fix(table, col), lines, examples,
                              int(bad.sum()))
            if col.name in needed:
                reject |= bad
                issues.append(issue)
            log.add(table, "warning", f"{issue.column}: {issue.problem} "
                    f"({'rows rejected' if col.name in needed else 'set to blank'}); "
                    f"expected {issue.expected}", count=issue.count, examples=examples,
                    affects=list(spec.used_by))
        if col.name in needed:
            missing = values.isna() & ~bad
            if missing.any():
                reject |= missing
                log.add(table, "warning", f"{tp.columns.get(col.name, col.name)}: "
                        f"{int(missing.sum())} row(s) with a blank required value rejected",
                        count=int(missing.sum()), examples=frame.loc[missing, LINE].tolist(),
                        affects=list(spec.used_by))
                issues.append(DataIssue(table, rel, tp.columns.get(col.name, col.name),
                                        f"{int(missing.sum())} blank required value(s)",
                                        "a value in every row", "Fill in or remove the rows.",
                                        frame.loc[missing, LINE].tolist(), [],
                                        int(missing.sum())))
    for name, idx in _range_failures(out, spec).items():
        col = spec.column(name)
        bad = out.index.isin(idx)
        lines = frame.loc[bad, LINE].tolist()
        examples = out.loc[bad, name].tolist()
        message = (f"{tp.columns.get(name, name)}: {int(bad.sum())} value(s) out of range "
                   f"(expected {_expected(col, tp)})")
        if name in needed:
            reject |= bad
            issues.append(DataIssue(table, rel, tp.columns.get(name, name),
                                    f"{int(bad.sum())} value(s) out of range",
                                    _expected(col, tp), "Correct the listed lines.",
                                    lines, examples, int(bad.sum())))
            message += "; rows rejected"
        else:
            out.loc[bad, name] = np.nan
            message += "; set to blank"
        log.add(table, "warning", message, count=int(bad.sum()), examples=examples,
                affects=list(spec.used_by))
    out[LINE] = frame[LINE]
    if len(frame) and reject.mean() > max_rejected:
        raise DataError(issues or [DataIssue(table, rel, None, "too many rows rejected", "",
                                             "Correct the file.")])
    return out.loc[~reject]


def _rel(path: Path) -> str:
    from playbook import paths

    try:
        return str(path.resolve().relative_to(paths.project_root()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- tables


def dedupe_keys(table: str, spec: TableSpec, frame: pd.DataFrame, path: Path,
                log: QualityLog) -> pd.DataFrame:
    """Drop exact duplicate rows (logged); conflicting rows under one key stop the run."""
    if not spec.key or not set(spec.key) <= set(frame.columns):
        return frame
    value_cols = [c for c in frame.columns if c != LINE]
    exact = frame.duplicated(subset=value_cols, keep="first")
    if exact.any():
        log.add(table, "warning", f"{int(exact.sum())} exact duplicate row(s) dropped",
                count=int(exact.sum()), examples=frame.loc[exact, LINE].tolist())
        frame = frame.loc[~exact]
    if table == "mrr":
        return frame  # several lines in one month are summed later
    dup = frame.duplicated(subset=list(spec.key), keep=False)
    if dup.any():
        keys = frame.loc[dup, list(spec.key)].astype(str).agg("/".join, axis=1)
        raise _fatal(table, path, "/".join(spec.key),
                     f"{keys.nunique()} {'/'.join(spec.key)} value(s) appear on more than one "
                     "row with different contents", "one row per "
                     + "/".join(spec.key),
                     "Remove or merge the duplicates in the export (or ask the client which "
                     "row is current).", frame.loc[dup, LINE].tolist(), keys.unique().tolist(),
                     int(dup.sum()))
    return frame


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


def expand_lines(frame: pd.DataFrame, as_of: pd.Timestamp | None) -> pd.DataFrame:
    """Expand subscription lines (start, end, mrr) to one row per account and month.

    A line counts in every month from its start month to its end month inclusive; an open
    line (blank end) runs to ``as_of``. Lines of one account in one month are summed.
    """
    start = frame["start_date"].dt.to_period("M")
    last = as_of.to_period("M") if as_of is not None else start.max()
    end = frame["end_date"].dt.to_period("M") if "end_date" in frame else None
    end = end.fillna(last) if end is not None else pd.Series(last, index=frame.index)
    end = end.where(end <= last, last)
    n = (end - start).apply(lambda d: d.n if hasattr(d, "n") else int(d)) + 1
    n = n.clip(lower=0).astype(int)
    rep = frame.loc[frame.index.repeat(n)]
    offset = np.concatenate([np.arange(k) for k in n]) if len(n) else np.array([], int)
    months = (start.loc[rep.index].to_numpy() + offset) if len(rep) else []
    out = pd.DataFrame({
        "account_id": rep["account_id"].to_numpy(),
        "month": pd.PeriodIndex(months, freq="M").to_timestamp().astype("datetime64[ns]"),
        "mrr": rep["mrr"].to_numpy(),
        LINE: rep[LINE].to_numpy(),
    })
    return out


def monthly_mrr(frame: pd.DataFrame, tp: TableParams, as_of: pd.Timestamp | None,
                log: QualityLog) -> pd.DataFrame:
    """Canonical monthly MRR: one row per account and month, lines of a month summed."""
    if tp.layout == "lines":
        frame = expand_lines(frame, as_of)
    counts = frame.groupby(["account_id", "month"]).size()
    if (counts > 1).any() and tp.layout == "monthly":
        log.add("mrr", "info", f"{int((counts > 1).sum())} account-month(s) have several "
                "lines; summed", count=int((counts > 1).sum()))
    out = (frame.groupby(["account_id", "month"], as_index=False)
           .agg(mrr=("mrr", "sum"), **{LINE: (LINE, "min")}))
    if as_of is not None:
        out = out[out["month"] <= as_of]
    return out


def check_references(tables: dict[str, pd.DataFrame], files: dict[str, Path],
                     log: QualityLog, max_rejected: float) -> None:
    """Rows referencing accounts (or contacts) that the accounts table lacks are dropped."""
    known = set(tables["accounts"]["account_id"])
    for name, frame in list(tables.items()):
        spec = TABLES[name]
        if not spec.references_accounts or "account_id" not in frame:
            continue
        orphan = ~frame["account_id"].isin(known)
        if not orphan.any():
            continue
        share = orphan.mean()
        examples = frame.loc[orphan, "account_id"].unique().tolist()
        if share > max_rejected:
            raise _fatal(name, files[name], "account_id",
                         f"{int(orphan.sum())} row(s) ({share:.0%}) refer to accounts that "
                         "are not in the accounts table",
                         "every account_id to exist in the accounts table",
                         "Check that both files come from the same export (same ID format, no "
                         "leading zeros lost), or add the missing accounts.",
                         frame.loc[orphan, LINE].tolist(), examples, int(orphan.sum()))
        log.add(name, "warning", f"{int(orphan.sum())} row(s) refer to unknown accounts; "
                "dropped", count=int(orphan.sum()), examples=examples,
                affects=list(spec.used_by))
        tables[name] = frame.loc[~orphan]


def complete_accounts(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp | None,
                      log: QualityLog) -> None:
    """Fill derivable account fields and log contradictions between tables.

    * ``mrr`` from ``arr / 12`` (and the reverse) when only one is given;
    * ``churn_date`` from the latest churn event when blank, for accounts not flagged
      active (an active account with churn events came back; it is logged, not churned);
    * ``status`` from ``churn_date`` when blank.
    """
    acc = tables["accounts"]
    for col in ("arr", "mrr", "churn_date", "status", "products"):
        if col not in acc:
            acc[col] = pd.Series(dtype={"churn_date": "datetime64[ns]", "status": "str",
                                        "products": "Int64"}.get(col, "float"),
                                 index=acc.index)
    acc["mrr"] = acc["mrr"].fillna(acc["arr"] / 12)
    acc["arr"] = acc["arr"].fillna(acc["mrr"] * 12)
    events = tables.get("churn_events")
    if events is not None and len(events):
        last = events.groupby("account_id")["churn_date"].max()
        # Only accounts not flagged active take their churn date from the events: an
        # active account with churn events has come back (or carries a stale flag).
        fill = acc["churn_date"].isna() & ~acc["status"].eq("active")
        acc.loc[fill, "churn_date"] = acc.loc[fill, "account_id"].map(last)
        active_with_churn = acc["status"].eq("active") & acc["account_id"].isin(last.index)
        if active_with_churn.any():
            log.add("accounts", "warning", f"{int(active_with_churn.sum())} account(s) flagged "
                    "active have churn events (reactivated, or a stale flag)",
                    count=int(active_with_churn.sum()),
                    examples=acc.loc[active_with_churn, "account_id"].tolist(),
                    affects=["reasons", "drivers"])
        churned_without = acc["status"].eq("churned") & ~acc["account_id"].isin(last.index)
        if churned_without.any():
            log.add("accounts", "warning", f"{int(churned_without.sum())} churned account(s) "
                    "have no churn event (no reason recorded)",
                    count=int(churned_without.sum()),
                    examples=acc.loc[churned_without, "account_id"].tolist(),
                    affects=["reasons"])
    acc["status"] = acc["status"].fillna(
        pd.Series(np.where(acc["churn_date"].notna(), "churned", "active"), index=acc.index))
    before_start = acc["churn_date"].notna() & (acc["churn_date"] < acc["start_date"])
    if before_start.any():
        log.add("accounts", "warning", f"{int(before_start.sum())} account(s) churned before "
                "their start date", count=int(before_start.sum()),
                examples=acc.loc[before_start, "account_id"].tolist(),
                affects=["revenue", "drivers"])
    if as_of is not None and "renewal_date" in acc:
        stale = acc["status"].eq("active") & (acc["renewal_date"] < as_of - pd.Timedelta(
            days=31))
        if stale.any():
            log.add("accounts", "info", f"{int(stale.sum())} active account(s) have a renewal "
                    "date in the past (renewed without the date being updated?)",
                    count=int(stale.sum()), examples=acc.loc[stale, "account_id"].tolist(),
                    affects=["drivers"])
    tables["accounts"] = acc


def load_table(name: str, tp: TableParams, params: Params, log: QualityLog
               ) -> tuple[pd.DataFrame, Path]:
    """Read, map, parse and check one table; returns the canonical frame and its file."""
    spec = TABLES[name]
    path = params.data_path() / tp.file
    if not path.is_file():
        present = sorted(p.name for p in path.parent.glob("*")) if path.parent.is_dir() else []
        raise _fatal(name, path, None, "the file does not exist",
                     f"the '{name}' export at {_rel(path)}",
                     f"Put the file there, or correct tables.{name}.file in the params file. "
                     f"Files in {_rel(path.parent)}: {present or 'none (folder missing)'}.")
    raw = read_raw(name, path, tp, log)
    frame, unmapped, issues = map_columns(name, spec, tp, raw, path, log)
    if issues:
        raise DataError(issues)
    if unmapped:
        log.add(name, "info", f"{len(unmapped)} column(s) not used: {', '.join(unmapped[:12])}",
                count=len(unmapped))
    rows_read = len(frame)
    frame = typed_table(name, spec, tp, frame, path, log, params.data.max_rejected_share)
    frame = dedupe_keys(name, spec, frame, path, log)
    as_of = pd.Timestamp(params.as_of) if params.as_of else None
    if name == "mrr":
        frame = monthly_mrr(frame, tp, as_of, log)
    else:
        frame = with_all_columns(spec, frame)
    log.loads.append(TableLoad(name, _rel(path), file_sha256(path), rows_read, len(frame),
                               unmapped))
    return frame, path


def load_client(params: Params) -> ClientData:
    """Load every table configured in ``params.tables`` into canonical, validated frames.

    Raises
    ------
    DataError
        When a required table is not configured, a file is missing or unreadable, a required
        column is missing, keys conflict, or too many rows are unusable. All problems found
        in one table are reported together.
    """
    log = QualityLog()
    missing = [t for t in TABLES if TABLES[t].required and t not in params.tables]
    if missing:
        raise DataError([DataIssue(
            t, str(params.sources.get("client", "params")), None,
            f"required table '{t}' is not configured", f"a `tables: {t}:` entry",
            f"Add `tables: {{{t}: {{file: <file name>, columns: {{...}}}}}}` to the params "
            "file.") for t in missing])
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, Path] = {}
    errors: list[DataIssue] = []
    for name, tp in params.tables.items():
        try:
            tables[name], files[name] = load_table(name, tp, params, log)
        except DataError as exc:
            errors += exc.issues
    if errors:
        raise DataError(errors)
    if len(tables["accounts"]) == 0:
        raise _fatal("accounts", files["accounts"], None, "the accounts table has no rows",
                     "at least one account", "Export the account list again; it is empty.")
    check_references(tables, files, log, params.data.max_rejected_share)
    as_of = pd.Timestamp(params.as_of) if params.as_of else None
    complete_accounts(tables, as_of, log)
    for name in tables:
        tables[name] = tables[name].drop(columns=[LINE], errors="ignore").reset_index(drop=True)
    return ClientData(params.client_id, tables, log, files)
