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
import io
import os
import re
import warnings
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from playbook import paths
from playbook.billing import (
    LINE,
    exclusive_end,
    lifecycle_from_billing,
    line_months,
    monthly_amounts,
)
from playbook.checksums import file_sha256
from playbook.config import Params
from playbook.config_tables import VARIABLE_PREFIX, TableParams
from playbook.contract import TABLES, ColumnSpec, TableSpec
from playbook.contracts import (
    renewal_dates_look_like_last,
    stale_renewal_dates,
    terms_from_types,
)
from playbook.errors import DataError, DataIssue
from playbook.quality import QualityLog, TableLoad
from playbook.sniff import detect_delimiter, detect_encoding

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


# Limits checked before a file is read, so that a hostile or broken file stops the run at
# once with a clear message instead of taking minutes and gigabytes (documented in the
# security notes of the README).
MAX_COLUMNS = 1_000  # columns of a table (CSV header, Excel sheet, Parquet schema)
MAX_HEADER_CHARS = 1 << 20  # characters of the header line and the lines above it (1 MiB)
MAX_SHEET_CELLS = 10_000_000  # rows x columns of an Excel sheet as a reader lays it out


def check_header(table: str, path: Path, encoding: str, sep: str, header_row: int
                 ) -> list[str]:
    """The header cells of a CSV file, read from its first MiB only.

    Raises
    ------
    DataError
        When the header (line ``header_row``) or a line above it is longer than
        :data:`MAX_HEADER_CHARS`, or the header has more than :data:`MAX_COLUMNS` cells.
    """
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(MAX_HEADER_CHARS)
        more = bool(fh.read(1))
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(sample), delimiter=sep):
            rows.append(row)
            if len(rows) > header_row:
                break
        # the header is whole when a row follows it in the sample, or the file ends there
        whole = len(rows) > header_row or not more
    except csv.Error as exc:
        if "field limit" not in str(exc):
            raise _fatal(table, path, None, f"the header (line {header_row}) cannot be read: "
                         f"{exc}", "a header line naming the columns", "Open the file in a "
                         "spreadsheet and save it again as CSV (UTF-8).") from None
        # a cell longer than csv.field_size_limit() (131,072 characters): too long for a
        # header when it is in the header or above; further down, the reader's business
        whole = len(rows) >= header_row
        rows.append([])
    if not whole:
        line = min(len(rows), header_row)
        raise _fatal(table, path, None, f"line {line} is too long for a header: over the "
                     f"limit of 1 MiB ({MAX_HEADER_CHARS:,} characters) for the header and the "
                     f"lines above it, or of {csv.field_size_limit():,} characters for one name",
                     f"a header line of at most {MAX_COLUMNS:,} column names",
                     "Check that this is the right file and that it is a table; if the header "
                     f"is further down, set tables.{table}.header_row.", [line], [], 1)
    header = rows[header_row - 1] if len(rows) >= header_row else []
    if len(header) > MAX_COLUMNS:
        raise _too_wide(table, path, len(header), f"the header (line {header_row})")
    return [str(c).strip().lstrip("\ufeff") for c in header]


def _too_wide(table: str, path: Path, columns: int, where: str) -> DataError:
    fix = "Export only the columns the data contract asks for (see the data request)"
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        fix = ("Delete stray cells to the right of the table (Ctrl+End shows the last cell "
               "in use), or e" + fix[1:])
    elif path.suffix.lower() in (".csv", ".txt", ".tsv"):
        fix += f"; if the delimiter is wrong, set tables.{table}.delimiter"
    return _fatal(table, path, None, f"{where} has {columns:,} columns, more than the limit of "
                  f"{MAX_COLUMNS:,}", f"at most {MAX_COLUMNS:,} columns", fix + ".")


def parquet_columns(table: str, path: Path) -> list[str]:
    """The column names of a Parquet file (its schema only); over :data:`MAX_COLUMNS` is a
    DataError."""
    import pyarrow.parquet as pq

    names = [str(n) for n in pq.read_schema(path).names]
    if len(names) > MAX_COLUMNS:
        raise _too_wide(table, path, len(names), "the file")
    return names


_ROW_TAG = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?row\b(?:[^>]*?\br="(\d+)")?')
_CELL_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c[\s/>]")
_CELL_REF = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?c\b[^>]*?\br="([A-Z]{1,3})\d+"')


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + char - 64
    return number


def _worksheet_parts(archive: zipfile.ZipFile, sheet: str | int | None
                     ) -> list[tuple[str, str]]:
    """(sheet name, zip member) of the sheet pandas would read (``None``: every sheet);
    every worksheet of the archive when the workbook cannot be mapped."""
    everything = [(n.rsplit("/", 1)[-1], n) for n in sorted(archive.namelist())
                  if re.fullmatch(r"xl/worksheets/[^/]+\.xml", n)]
    try:
        from openpyxl.packaging.manifest import Manifest
        from openpyxl.reader.excel import _find_workbook_part
        from openpyxl.reader.workbook import WorkbookParser
        from openpyxl.xml.functions import fromstring

        manifest = Manifest.from_tree(fromstring(archive.read("[Content_Types].xml")))
        parser = WorkbookParser(archive, _find_workbook_part(manifest).PartName[1:])
        parser.parse()
        found = [(str(s.name), str(r.target)) for s, r in parser.find_sheets()
                 if str(r.Type).endswith("/worksheet")]
    except Exception:  # noqa: BLE001 - an unusual workbook: check every sheet instead
        return everything
    if sheet is None:
        return found
    if isinstance(sheet, int):
        return [found[sheet]] if 0 <= sheet < len(found) else everything
    return [f for f in found if f[0] == sheet] or everything


def sheet_extent(stream: io.BufferedIOBase, stop: int) -> tuple[int, int]:
    """(rows, columns) of a worksheet's XML as a reader lays it out: up to the last row
    number and the widest row (cell references, or cells counted where a row has none).

    Streams the XML in 1 MiB pieces; stops early once rows x columns exceed ``stop``.
    """
    rows = cols = current = 0
    tail = b""
    while True:
        chunk = stream.read(1 << 20)
        buf = tail + chunk
        cut = buf.rfind(b"<") if chunk else len(buf)
        text, tail = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
        refs = _CELL_REF.findall(text)
        if refs:
            cols = max(cols, max(_column_number(r) for r in set(refs)))
        starts = list(_ROW_TAG.finditer(text))
        if len(_CELL_TAG.findall(text)) > len(refs):  # cells without a reference: count
            pos = 0
            for match in [*starts, None]:
                end = match.start() if match is not None else len(text)
                current += len(_CELL_TAG.findall(text, pos, end))
                cols = max(cols, current)
                if match is not None:
                    current, pos = 0, match.end()
        for match in starts:
            rows = int(match.group(1)) if match.group(1) else rows + 1
        if not chunk or rows * cols > stop or cols > MAX_COLUMNS:
            return rows, cols


def check_sheet_size(table: str, path: Path, sheet: str | int | None) -> None:
    """Refuse an Excel sheet wider than :data:`MAX_COLUMNS` or larger than
    :data:`MAX_SHEET_CELLS` (rows x columns, as pandas would lay it out), before reading it.

    One cell at XFD1 makes a reader build every row 16,384 cells wide: a 1 MB file becomes
    gigabytes. The sheet's ``<dimension>`` tag is not trusted; its XML is scanned instead
    (streamed, a fraction of the cost of reading it). ``sheet=None`` checks every sheet.
    Old ``.xls`` files (at most 65,536 x 256 cells) are not checked.
    """
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return  # not a workbook: the reader says so
    with archive:
        for name, part in _worksheet_parts(archive, sheet):
            try:
                with archive.open(part) as stream:
                    rows, cols = sheet_extent(stream, MAX_SHEET_CELLS)
            except Exception:  # noqa: BLE001 - a broken member: the reader will say so
                continue
            if cols > MAX_COLUMNS:
                raise _too_wide(table, path, cols, f"sheet '{name}'")
            if rows * cols > MAX_SHEET_CELLS:
                raise _fatal(table, path, None, f"sheet '{name}' spans at least {rows:,} rows "
                             f"x {cols:,} columns ({rows * cols:,} cells), more than the limit "
                             f"of {MAX_SHEET_CELLS:,} cells",
                             f"at most {MAX_SHEET_CELLS:,} cells (rows x columns, blank "
                             "cells between filled ones included)",
                             "Delete stray cells far below or to the right of the table (Ctrl+"
                             "End shows the last cell), or export the table as CSV.")


def read_raw(table: str, path: Path, tp: TableParams, log: QualityLog) -> pd.DataFrame:
    """Read a client file as text cells (no type guessing), with a ``_line`` column."""
    suffix = path.suffix.lower()
    skip = tp.header_row - 1
    encoding, sep = "utf-8", ","
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise _fatal(table, path, None, "the file is empty (no header, no rows)",
                     "a header line naming the columns, then one row per record",
                     "Export the table again; if the client has no such records, remove "
                     f"tables.{table} from the params file.")
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            encoding = tp.encoding or detect_encoding(path)
            if encoding != "utf-8-sig" and not tp.encoding:
                log.add(table, "info", f"{path.name} is not UTF-8; read as {encoding}.")
            sep = tp.delimiter or detect_delimiter(path, encoding)
            check_header(table, path, encoding, sep, tp.header_row)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pd.errors.ParserWarning)
                raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                                  skiprows=skip, encoding=encoding, skipinitialspace=True,
                                  skip_blank_lines=False, index_col=False)
            if any(issubclass(w.category, pd.errors.ParserWarning) for w in caught):
                # index_col=False drops the extra cells of a row longer than the header
                # (pandas only warns): find the row and stop instead of losing data.
                want, line, saw = _longest_row(path, encoding, sep, skip, len(raw.columns))
                raise _ragged(table, path, tp, want, line, saw, encoding, sep)
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            check_sheet_size(table, path, tp.sheet if tp.sheet is not None else 0)
            raw = _read_workbook(table, path, tp, skip)
            raw = raw.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v))
                          else v)
        elif suffix == ".parquet":
            parquet_columns(table, path)
            raw = pd.read_parquet(path)
        else:
            raise _fatal(table, path, None, f"file type '{suffix}' is not supported",
                         "a .csv, .xlsx or .parquet file",
                         "Export the table as CSV (UTF-8) or Excel and point "
                         f"tables.{table}.file at it.")
    except DataError:
        raise
    except pd.errors.ParserError as exc:
        shape = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if not shape:
            raise _fatal(table, path, None, f"the file cannot be read as a table: {exc}",
                         "one header line, then rows with as many cells as the header",
                         "Open the file in a spreadsheet and save it again as CSV (UTF-8); "
                         f"if it uses another delimiter set tables.{table}.delimiter.") from None
        want, line, saw = (int(g) for g in shape.groups())
        raise _ragged(table, path, tp, want, line + skip, saw, encoding, sep) from None
    except ImportError:  # .xls needs a reader that is not installed (python-calamine)
        raise _fatal(table, path, None, f"the old Excel format '{suffix}' cannot be read here",
                     "a .xlsx, .csv or .parquet file",
                     "Open the file in Excel or LibreOffice and save it as .xlsx (or CSV), "
                     f"then point tables.{table}.file at the new file.") from None
    except (ValueError, OSError, UnicodeDecodeError, csv.Error, KeyError, IndexError) as exc:
        raise _fatal(table, path, None, f"the file cannot be read: {exc}",
                     "a readable CSV, Excel or Parquet file",
                     "Open the file in a spreadsheet, check it is not corrupt or password-"
                     f"protected, and save it again; for an Excel sheet set tables.{table}.sheet "
                     f"and tables.{table}.header_row.") from None
    raw = raw.reset_index(drop=True)
    raw.columns = [str(c).strip().lstrip("\ufeff") for c in raw.columns]
    blank_rows = raw.astype(str).apply(lambda c: c.str.strip().isin(["", "nan", "None"])).all(
        axis=1) if len(raw.columns) else pd.Series(True, index=raw.index)
    raw[LINE] = np.arange(len(raw)) + tp.header_row + 1
    return raw.loc[~blank_rows]


def _read_workbook(table: str, path: Path, tp: TableParams, skip: int) -> pd.DataFrame:
    """One sheet of an Excel file as pandas reads it; a broken workbook (not a zip, broken
    XML: the reader may raise anything) is a DataError."""
    try:
        return pd.read_excel(path, sheet_name=tp.sheet if tp.sheet is not None else 0,
                             header=skip, dtype=object)
    except (ValueError, KeyError, IndexError, ImportError, OSError):
        raise  # read_raw words these (a missing sheet, an unreadable file, .xls)
    except Exception as exc:  # noqa: BLE001 - a broken workbook
        raise _fatal(table, path, None, "the file cannot be read as an Excel workbook "
                     f"({type(exc).__name__}: {exc})", "a workbook that Excel opens",
                     "Open the file in Excel or LibreOffice and save it again as .xlsx (or "
                     "export the table as CSV).") from None


def _ragged(table: str, path: Path, tp: TableParams, want: int, line: int, saw: int,
            encoding: str, sep: str) -> DataError:
    """The error for a row with more cells than the header (line = line of the file)."""
    header = _wide_line(path, encoding, sep, saw) if want < saw else None
    fix = ("Look for an unquoted delimiter inside a value (e.g. a comma in a company "
           "name) on that line and quote the value or remove the extra cell; set "
           f"tables.{table}.delimiter if the file is not comma-separated.")
    if header is not None and header > tp.header_row:
        fix = (f"The header seems to be on line {header} (title lines above it): set "
               f"tables.{table}.header_row: {header}. Otherwise: " + fix[0].lower() + fix[1:])
    return _fatal(table, path, None, f"line {line} has {saw} cells where the header "
                  f"(line {tp.header_row}) has {want}", f"{want} cells on every line", fix,
                  [line], [], 1)


def _longest_row(path: Path, encoding: str, sep: str, skip: int, want: int
                 ) -> tuple[int, int, int]:
    """(header cells, line, cells) of the first row longer than the header."""
    try:
        with path.open(encoding=encoding, errors="replace", newline="") as fh:
            for number, row in enumerate(csv.reader(fh, delimiter=sep), start=1):
                if number > skip + 1 and len(row) > want:
                    return want, number, len(row)
    except (csv.Error, OSError, LookupError):
        pass
    return want, skip + 2, want + 1


def _wide_line(path: Path, encoding: str, sep: str, cells: int) -> int | None:
    """1-based number of the first of the file's first 50 lines with ``cells`` cells, when
    the next line has as many (a header above a block of rows, not one long row)."""
    try:
        with path.open(encoding=encoding, errors="replace", newline="") as fh:
            rows = [len(r) for _, r in zip(range(51), csv.reader(fh, delimiter=sep),
                                           strict=False)]
    except (csv.Error, OSError, LookupError):
        return None
    for number, width in enumerate(rows[:-1], start=1):
        if width == cells:
            return number if rows[number] == cells else None
    return None


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
        if wanted is None:  # `columns: {name: null}`: left unmapped, not looked up by name
            continue
        found = wanted if wanted in headers else by_norm.get(_norm(wanted))
        if found is None and col.name not in tp.columns:
            found = by_norm.get(_norm(col.name))
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


def _header_guess(raw: pd.DataFrame, wanted: str) -> int | None:
    """Line of the file (among the first 30 rows) holding a cell equal to ``wanted``."""
    target = _norm(wanted)
    cells = raw.drop(columns=[LINE]).head(30).astype(str)
    for position, row in enumerate(cells.itertuples(index=False)):
        if target and any(_norm(v) == target for v in row):
            return int(raw[LINE].iloc[position])
    return None


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
    # A thousands separator groups exactly three digits: '1,000.5' is fine, '100,00' is a
    # decimal comma read with the wrong decimal mark (unusable, not 10000).
    misplaced = pd.Series(False, index=series.index)
    if thousands:
        t = re.escape(thousands)
        misplaced = text.str.contains(rf"{t}(?!\d{{3}}(?:\D|$))|^[-+(]?{t}", regex=True)
    text = text.str.replace(thousands, "", regex=False) if thousands else text
    if tp.decimal != ".":
        text = text.str.replace(tp.decimal, ".", regex=False)
    text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)  # accounting negatives
    blank = _blank(series)
    out = pd.to_numeric(text.where(~blank & ~misplaced, None), errors="coerce").astype(float)
    out = out.where(np.isfinite(out))
    bad = out.isna() & ~blank
    return out, bad


#: The plausible range of any date in a client's file. Outside it a date is a placeholder
#: (read as blank: 1 January or 31 December of a year outside the range, 1899-12-30 (Excel's
#: day 0) and 0000-00-00, which CRMs write for "no date") or a typo (0024 for 2024: the value
#: is unusable and named as out of range).
DATE_MIN, DATE_MAX = pd.Timestamp("1901-01-01"), pd.Timestamp("2199-12-31")
_ZERO_DATE = re.compile(r"^0+[-/.]0+[-/.]0+(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?$")
_ZONE = re.compile(r"\d:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)$",
                   re.IGNORECASE)


def _one_date(value: object, **kw) -> pd.Timestamp:
    try:
        ts = pd.to_datetime(value, errors="coerce", utc=True, **kw)
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        return pd.NaT
    return ts.tz_convert("UTC").tz_localize(None)


def _to_dates(values: pd.Series, **kw) -> pd.Series:
    """``pd.to_datetime`` that never raises: naive datetime64[us], a value with a time zone
    converted to UTC; no range check (see :func:`read_dates`)."""
    try:
        out = pd.to_datetime(values, errors="coerce", utc=True, **kw) if len(values) else None
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        out = None
    if out is not None and isinstance(out.dtype, pd.DatetimeTZDtype):
        return out.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    if out is not None and pd.api.types.is_datetime64_dtype(out):
        return out.astype("datetime64[us]")
    return pd.Series([_one_date(v, **kw) for v in values], index=values.index,
                     dtype="datetime64[us]")


@dataclass
class DateParse:
    """A date column read by :func:`read_dates` (masks on the column's index)."""

    values: pd.Series  #: datetime64[ns]; blank where unusable, blank or a placeholder
    bad: pd.Series  #: present, not a date
    implausible: pd.Series  #: a date outside DATE_MIN..DATE_MAX that is no placeholder
    placeholder: pd.Series  #: a placeholder date, read as blank
    zoned: pd.Series  #: carried a time zone: converted to UTC, the zone dropped


def read_dates(series: pd.Series, tp: TableParams) -> DateParse:
    """Parse dates: the table's ``date_format`` if set, else ISO, then day-first or
    month-first text (``dayfirst``), then Excel serial numbers.

    Conversions (logged by :func:`typed_table`): a time zone (``Z``, ``-05:00``) is converted
    to UTC and dropped, so ``2024-01-31T23:30:00-05:00`` is 2024-02-01 04:30; a placeholder
    date (see :data:`DATE_MIN`) is blank. A date outside the plausible range that is no
    placeholder is unusable (``implausible``).
    """
    blank = _blank(series)
    if pd.api.types.is_datetime64_any_dtype(series):
        zoned = (series.notna() if isinstance(series.dtype, pd.DatetimeTZDtype)
                 else pd.Series(False, index=series.index))
        out = _to_dates(series)
        text = None
    else:
        text = series.astype(str).str.strip().where(~blank, None)
        timed = text.str.contains(":", regex=False).fillna(False).astype(bool)
        zoned = timed & text.where(timed, "").str.contains(_ZONE).fillna(False).astype(bool)
        if tp.date_format:
            out = _to_dates(text, format=tp.date_format)
        else:
            out = _to_dates(text, format="ISO8601")
            rest = out.isna() & ~blank
            if rest.any():
                out[rest] = _to_dates(text[rest], format="mixed", dayfirst=tp.dayfirst)
            rest = out.isna() & ~blank
            if rest.any():
                serial = pd.to_numeric(text[rest], errors="coerce")
                ok = serial.between(20000, 80000)
                out[serial[ok].index] = EXCEL_EPOCH + pd.to_timedelta(serial[ok], unit="D")
    day = out.dt.normalize()
    outside = out.notna() & ((day < DATE_MIN) | (day > DATE_MAX))
    new_year = ((out.dt.month == 1) & (out.dt.day == 1)) | ((out.dt.month == 12)
                                                             & (out.dt.day == 31))
    placeholder = outside & (new_year | day.eq(EXCEL_EPOCH))
    if text is not None:
        placeholder |= out.isna() & text.str.fullmatch(_ZERO_DATE).fillna(False).astype(bool)
    implausible = outside & ~placeholder
    values = out.where(~outside).astype("datetime64[ns]")
    bad = values.isna() & ~blank & ~placeholder & ~implausible
    return DateParse(values, bad, implausible, placeholder, zoned & values.notna())


def parse_dates(series: pd.Series, tp: TableParams) -> tuple[pd.Series, pd.Series]:
    """(dates, mask of values present but unusable) of :func:`read_dates`; a placeholder
    date is blank, an implausible one unusable."""
    dates = read_dates(series, tp)
    return dates.values, dates.bad | dates.implausible


_DMY = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})\b")


def date_order_conflict(series: pd.Series, tp: TableParams) -> tuple[str, list[int]] | None:
    """Detect dates whose day/month order contradicts ``tp.dayfirst``.

    '13-02-2024' can only be day-first; with ``dayfirst: false`` it is still read as 13
    February, but '03-02-2024' in the same column is then read as 3 March: the column is
    silently inconsistent. Returns (what was found, positions of the tell-tale values) or
    None. Skipped when ``date_format`` is set (it decides).
    """
    if tp.date_format or pd.api.types.is_datetime64_any_dtype(series):
        return None
    parts = series.astype(str).str.extract(_DMY)
    parts = parts.dropna()
    if parts.empty:
        return None
    first, second = parts[0].astype(int), parts[1].astype(int)
    day_first = (first > 12) & (second <= 12)
    month_first = (second > 12) & (first <= 12)
    ambiguous = ((first <= 12) & (second <= 12) & (first != second)).any()
    positions = [series.index.get_loc(i) for i in parts.index]
    if day_first.any() and month_first.any():
        where = [positions[k] for k in np.flatnonzero((day_first | month_first).to_numpy())]
        return "mixes day-first (e.g. 31-01) and month-first (e.g. 01-31) dates", where
    if day_first.any() and not tp.dayfirst and ambiguous:
        where = [positions[k] for k in np.flatnonzero(day_first.to_numpy())]
        return ("has day-first dates (day above 12 in the first place) but dayfirst is off: "
                "dates such as 03-02 would be read as 2 March"), where
    if month_first.any() and tp.dayfirst and ambiguous:
        where = [positions[k] for k in np.flatnonzero(month_first.to_numpy())]
        return ("has month-first dates (day above 12 in the second place) but dayfirst is "
                "on: dates such as 03-02 would be read as 3 February"), where
    return None


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
            frac = out.notna() & ((out != out.round()) | (out.abs() > 2**53))
            bad = bad | frac
            out = out.where(~frac).round().astype("Int64")
        return out, bad
    if col.kind == "bool":
        return parse_bool(s)
    if col.kind == "code":
        return parse_code(s, col, tp.codes.get(col.name, {}))
    raise ValueError(f"unknown column kind {col.kind}")


Fault = tuple[pd.Series, str, str, str]  # (mask, problem, expected, fix)
_MONEY_MARKS = r"[\s$€£¥\u00a0]|USD|EUR|GBP"


def checked_column(table: str, frame: pd.DataFrame, col: ColumnSpec, tp: TableParams,
                   rel: str, log: QualityLog, fatal: list[DataIssue]
                   ) -> tuple[pd.Series, list[Fault]]:
    """Parse one column (:func:`parse_column`) and say what is wrong with it, fault by fault.

    Returns the parsed values and the faults: (mask of unusable values, problem, expected,
    fix). Conversions are logged: placeholder dates read as blank and time zones converted
    to UTC (:func:`read_dates`), amounts whose thousands separator could be a decimal mark
    (:func:`_ambiguous_thousands`). A column that cannot be meant (true/false values mapped
    to a number) is added to ``fatal``.
    """
    s = frame[col.name]
    header = tp.columns.get(col.name, col.name)
    if col.kind in ("date", "month"):
        dates = read_dates(s, tp)
        _log_date_conversions(table, header, s, frame[LINE], dates, log)
        values = dates.values
        if col.kind == "month":
            values = values.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
        odd = dates.implausible
        first = f" (e.g. '{s[odd].iloc[0]}')" if odd.any() else ""
        return values, [
            (dates.bad, f"{int(dates.bad.sum())} value(s) cannot be read as {col.kind}",
             _expected(col, tp), _fix(table, col)),
            (odd, f"{int(odd.sum())} value(s) are dates outside the plausible range "
             f"{DATE_MIN:%Y-%m-%d} to {DATE_MAX:%Y-%m-%d}{first}",
             f"a date from {DATE_MIN:%Y-%m-%d} to {DATE_MAX:%Y-%m-%d} (placeholders such as "
             "1900-01-01 or 9999-12-31 are read as blank)",
             "Correct the listed lines (a typo in the year?); leave the cell blank when there "
             "is no date.")]
    if col.kind in ("money", "number", "count"):
        if _holds_booleans(s):
            fatal.append(DataIssue(
                table, rel, header, f"the column holds true/false values, not numbers "
                f"(it is mapped to '{col.name}', {col.kind})", _expected(col, tp),
                f"Map tables.{table}.columns.{col.name} to the column holding the "
                f"{col.name.replace('_', ' ')}.", frame[LINE].head(5).tolist(),
                s.head(5).tolist(), len(s)))
        if col.kind != "count":
            _ambiguous_thousands(table, header, tp, s, frame[LINE], rel, log, fatal)
    values, bad = parse_column(frame, col, tp)
    return values, [(bad, f"{int(bad.sum())} value(s) cannot be read as {col.kind}",
                     _expected(col, tp), _fix(table, col))]


def _log_date_conversions(table: str, header: str, raw: pd.Series, lines: pd.Series,
                          dates: DateParse, log: QualityLog) -> None:
    """Log placeholder dates read as blank and time zones converted to UTC (info)."""
    if dates.placeholder.any():
        n = int(dates.placeholder.sum())
        shown = ", ".join(f"'{v}'" for v in raw[dates.placeholder].astype(str).unique()[:3])
        log.add(table, "info", f"{header}: {n} placeholder date(s) (e.g. {shown}) read as "
                "blank: no real date", count=n, examples=lines[dates.placeholder].tolist())
    if dates.zoned.any():
        n = int(dates.zoned.sum())
        first = dates.zoned.idxmax()
        log.add(table, "info", f"{header}: {n} value(s) carry a time zone (e.g. "
                f"'{raw[first]}'); converted to UTC ({dates.values[first]:%Y-%m-%d %H:%M}) "
                "and the zone dropped", count=n, examples=lines[dates.zoned].tolist())


def _holds_booleans(series: pd.Series) -> bool:
    """True when every value present is true/false typed as such (Parquet or Excel
    booleans): pandas would read them as 1.0 and 0.0."""
    if pd.api.types.is_bool_dtype(series):
        return True
    if series.dtype != object:
        return False
    present = series[~_blank(series)]
    return bool(len(present)) and bool(present.map(
        lambda v: isinstance(v, bool | np.bool_)).all())


def _ambiguous_thousands(table: str, header: str, tp: TableParams, series: pd.Series,
                         lines: pd.Series, rel: str, log: QualityLog,
                         fatal: list[DataIssue]) -> None:
    """Amounts such as '€1.200' with '.' as the decimal mark: 1.2, or 1,200 written with a
    thousands dot? Only when ``thousands`` is not declared. When other values of the column
    show the notation (a grouped '1,500' or a '9.50'), they are read with the declared decimal
    mark and logged (warning); otherwise the run stops (nothing tells which is meant)."""
    if tp.thousands is not None or pd.api.types.is_numeric_dtype(series):
        return
    text = series.astype(str).str.strip().str.replace(_MONEY_MARKS, "", regex=True)
    dec, grouping = re.escape(tp.decimal), re.escape("," if tp.decimal == "." else ".")
    ambiguous = text.str.fullmatch(rf"[-+(]?[1-9]\d{{0,2}}{dec}\d{{3}}\)?").fillna(False)
    if not ambiguous.any():
        return
    n = int(ambiguous.sum())
    example = str(series[ambiguous].iloc[0]).strip()
    as_decimal = float(parse_number(series[ambiguous].head(1), tp)[0].iloc[0])
    as_thousands = int(re.sub(r"\D", "", text[ambiguous].iloc[0]))
    shows = text.str.contains(rf"\d{grouping}\d{{3}}(?!\d)|{dec}\d{{1,2}}\)?$|{dec}\d{{4,}}",
                              regex=True).fillna(False) & ~ambiguous
    if shows.any():
        log.add(table, "warning", f"{header}: {n} value(s) such as '{example}' read as "
                f"{as_decimal:g} with '{tp.decimal}' as the decimal mark, as other values of "
                f"the column show (e.g. '{str(series[shows].iloc[0]).strip()}'); if they "
                f"mean {as_thousands:,} (a thousands separator), set tables.{table}.decimal "
                f"and tables.{table}.thousands", count=n, examples=lines[ambiguous].tolist(),
                affects=list(TABLES[table].used_by))
        return
    other = "," if tp.decimal == "." else "."
    fatal.append(DataIssue(
        table, rel, header, f"{n} value(s) such as '{example}' are ambiguous: "
        f"{as_decimal:g} with '{tp.decimal}' as the decimal mark, or {as_thousands:,} with "
        f"'{tp.decimal}' as a thousands separator, and no other value of the column tells "
        "which", "amounts whose decimal mark is clear, or a declared thousands separator",
        f"Declare the notation in the params file: tables.{table}.thousands: \"{other}\" if "
        f"'{example}' means {as_decimal:g}, or tables.{table}.decimal: \"{other}\" and "
        f"tables.{table}.thousands: \"{tp.decimal}\" if it means {as_thousands:,}.",
        lines[ambiguous].tolist(), series[ambiguous].tolist(), n))


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
    fatal: list[DataIssue] = []
    for col in spec.columns:
        if col.name not in frame.columns:
            continue
        if col.kind in ("date", "month"):
            conflict = date_order_conflict(frame[col.name], tp)
            if conflict is not None:
                found, where = conflict
                fatal.append(DataIssue(
                    table, rel, tp.columns.get(col.name, col.name), f"the column {found}",
                    "one date order for the whole column",
                    f"Set tables.{table}.dayfirst: true (DD-MM-YYYY) or false (MM-DD-YYYY), "
                    f"or tables.{table}.date_format (e.g. \"%d-%m-%Y\"); if the column "
                    "really mixes both orders, ask the client for ISO dates (YYYY-MM-DD).",
                    frame[LINE].iloc[where].tolist(), frame[col.name].iloc[where].tolist(),
                    len(where)))
        values, faults = checked_column(table, frame, col, tp, rel, log, fatal)
        out[col.name] = values
        bad = pd.Series(False, index=frame.index)
        for fault, problem, expected, fix in faults:
            if not fault.any():
                continue
            bad |= fault
            lines = frame.loc[fault, LINE].tolist()
            examples = frame.loc[fault, col.name].tolist()
            issue = DataIssue(table, rel, tp.columns.get(col.name, col.name), problem,
                              expected, fix, lines, examples, int(fault.sum()))
            if col.name in needed:
                reject |= fault
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
    # proration lines (credits are negative) are one-off, left out of MRR: not range-checked
    one_off = (out["proration"].fillna(False).astype(bool) if "proration" in out
               else pd.Series(False, index=out.index))
    for name, idx in _range_failures(out.loc[~one_off], spec).items():
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
    for col in spec.columns:
        if col.kind == "money" and col.name in out:
            _absurd_amounts(table, col, tp, out.loc[~reject, col.name],
                            frame.loc[~reject, LINE], spec, log)
    out[LINE] = frame[LINE]
    if fatal:
        raise DataError(fatal)
    if len(frame) and reject.mean() > max_rejected:
        raise DataError(issues or [DataIssue(table, rel, None, "too many rows rejected", "",
                                             "Correct the file.")])
    return out.loc[~reject]


ABSURD_FACTOR = 1000  # an amount this many times the median amount is suspect


def _absurd_amounts(table: str, col: ColumnSpec, tp: TableParams, values: pd.Series,
                    lines: pd.Series, spec: TableSpec, log: QualityLog) -> None:
    """Log amounts far above the rest (a unit, decimal-mark or typing error, usually).

    The rows are kept (a very large customer is possible) but the note is a ``problem``:
    totals built on the column may be dominated by a few wrong values.
    """
    positive = values[values > 0]
    if len(positive) < 5:
        return
    median = float(positive.median())
    absurd = values > ABSURD_FACTOR * median
    if not absurd.any():
        return
    header = tp.columns.get(col.name, col.name)
    shown = ", ".join(f"{v:,.0f} on line {ln}" for v, ln in
                      zip(values[absurd].head(3), lines[absurd].head(3), strict=False))
    log.add(table, "problem", f"{header}: {int(absurd.sum())} amount(s) above {ABSURD_FACTOR:,} "
            f"times the median ({median:,.0f}), e.g. {shown}; kept, but check for a unit or "
            "decimal-mark error", count=int(absurd.sum()),
            examples=lines[absurd].tolist(), affects=list(spec.used_by), tables=[table],
            caveat=f"{int(absurd.sum())} {header} amount(s) over {ABSURD_FACTOR:,} times the "
            "median")


def _rel(path: Path) -> str:
    """``path`` relative to the project root as the params name it (``..`` resolved, links
    not followed: a link is named where it is, not where it leads)."""
    root = paths.project_root()
    for candidate in (Path(os.path.abspath(path)), path.resolve()):
        if candidate.is_relative_to(root):
            return str(candidate.relative_to(root))
    return str(path)


# --------------------------------------------------------------------------- tables


def dedupe_keys(table: str, spec: TableSpec, frame: pd.DataFrame, path: Path,
                log: QualityLog, tp: TableParams | None = None) -> pd.DataFrame:
    """Drop exact duplicate rows (logged); conflicting rows under one key stop the run."""
    if not spec.key or not set(spec.key) <= set(frame.columns):
        return frame
    value_cols = [c for c in frame.columns if c != LINE]
    exact = frame.duplicated(subset=value_cols, keep="first")
    if exact.any():
        log.add(table, "warning", f"{int(exact.sum())} exact duplicate row(s) dropped",
                count=int(exact.sum()), examples=frame.loc[exact, LINE].tolist(),
                affects=list(spec.used_by))
        frame = frame.loc[~exact]
    if table == "mrr":
        return frame  # several lines in one month are summed later
    dup = frame.duplicated(subset=list(spec.key), keep=False)
    if dup.any():
        keys = frame.loc[dup, list(spec.key)].astype(str).agg("/".join, axis=1)
        header = "/".join(tp.columns.get(k, k) if tp else k for k in spec.key)
        raise _fatal(table, path, header,
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


def monthly_mrr(frame: pd.DataFrame, tp: TableParams, as_of: pd.Timestamp | None,
                log: QualityLog) -> pd.DataFrame:
    """Canonical monthly MRR: one row per account and month, lines of a month summed.

    Subscription lines (``layout: lines``) follow :mod:`playbook.billing`: half-open
    ``[start, end)`` periods, MRR of a month by ``tp.mrr_basis``, proration lines left out.
    """
    if tp.layout == "lines":
        if "proration" in frame and frame["proration"].fillna(False).astype(bool).any():
            flagged = frame["proration"].fillna(False).astype(bool)
            log.add("mrr", "info", f"{int(flagged.sum()):,} proration line(s) (one-off credits "
                    f"and charges, {float(frame.loc[flagged, 'mrr'].sum()):,.2f} in all) are "
                    "not recurring revenue; left out of MRR", count=int(flagged.sum()))
            frame = frame.loc[~flagged]
        if tp.amount_per == "period":
            frame = frame.assign(mrr=monthly_amounts(frame, tp.end_inclusive))
            unknown = frame["mrr"].isna()
            if unknown.any():
                log.add("mrr", "warning", f"{int(unknown.sum()):,} open line(s) bill an amount "
                        "for a period of unknown length (no end date, no period_months): "
                        "left out of MRR", count=int(unknown.sum()),
                        examples=frame.loc[unknown, "account_id"].tolist(),
                        affects=["revenue"])
                frame = frame.loc[~unknown]
        frame = line_months(frame, as_of, end_inclusive=tp.end_inclusive,
                            basis=tp.mrr_basis)
    counts = frame.groupby(["account_id", "month"]).size()
    if (counts > 1).any() and tp.layout == "monthly":
        log.add("mrr", "info", f"{int((counts > 1).sum())} account-month(s) have several "
                "lines; summed", count=int((counts > 1).sum()))
    out = (frame.groupby(["account_id", "month"], as_index=False)
           .agg(mrr=("mrr", "sum"), **{LINE: (LINE, "min")}))
    if as_of is not None:
        out = out[out["month"] <= as_of]
    return out


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


FILL_GAP_MONTHS = 1  # gaps: fill fills a hole of at most this many months


def _month_label(ordinal: int) -> str:
    return f"{ordinal // 12}-{ordinal % 12 + 1:02d}"


def _hole_label(account: object, first: int, size: int) -> str:
    last = f" to {_month_label(first + size - 1)}" if size > 1 else ""
    return f"{account} {_month_label(first)}{last}"


def mrr_gaps(frame: pd.DataFrame, tp: TableParams, path: Path, log: QualityLog
             ) -> pd.DataFrame:
    """Find months missing from monthly MRR (``layout: monthly``) and apply the policy
    ``tables.mrr.gaps``; returns the frame, holes filled where the policy says so.

    A *hole* is a run of months without any row for an account between two months in which
    it is billed (MRR above 0): left alone, it reads as a churn and a reactivation, and the
    MRR churn, GRR and NRR of that month move by the account's whole MRR.

    * A month with no row for any account between the file's first and last month is a
      month missing from the export: the run stops (with ``gaps: keep``, it is logged as a
      problem instead).
    * ``fill`` (default): a hole of at most :data:`FILL_GAP_MONTHS` month is a row lost from
      the export (a customer who cancels and is billed again the very next month is rare; a
      lost row is not): it is filled with the account's rows of the month before (forward
      fill, the MRR unchanged), and the log names accounts and months (warning). A longer
      hole is a pause (churn, then reactivation), an ordinary event the revenue analysis
      counts as such: kept, not logged.
    * ``keep``: every hole is kept (a pause); the short ones are logged (warning).
    * ``error``: a hole short enough to be a lost row stops the run, naming accounts and
      months.
    """
    if not len(frame):
        return frame
    ordinal = frame["month"].dt.year * 12 + frame["month"].dt.month - 1
    billed = (frame.assign(_m=ordinal).groupby(["account_id", "_m"], sort=True)
              .agg(mrr=("mrr", "sum"), line=(LINE, "min")).reset_index())
    present = set(billed["_m"].unique().tolist())
    absent = [m for m in range(min(present), max(present) + 1) if m not in present]
    used_by = list(TABLES["mrr"].used_by)
    if absent:
        months = ", ".join(_month_label(m) for m in absent[:12])
        span = max(present) - min(present) + 1
        problem = (f"the file has no row at all for {months} ({len(absent)} of the {span} "
                   f"months from {_month_label(min(present))} to {_month_label(max(present))})")
        if tp.gaps != "keep":
            raise _fatal("mrr", path, None, problem + ": the export is incomplete",
                         "one row per account and billed month, every month of the history",
                         "Export the MRR history again with every month. If nothing at all "
                         "was billed in those months, set tables.mrr.gaps: keep.")
        log.add("mrr", "problem", problem + " (kept, tables.mrr.gaps: keep): every account "
                "billed around them churns and comes back", count=len(absent),
                examples=[_month_label(m) for m in absent], affects=used_by, tables=["mrr"],
                caveat=f"the MRR export lacks {months}")
    following = billed.groupby("account_id", sort=False)[["_m", "mrr"]].shift(-1)
    size = following["_m"] - billed["_m"] - 1
    holes = billed.assign(size=size)[(size > 0) & (billed["mrr"] > 0) & (following["mrr"] > 0)]
    if holes.empty:
        return frame
    labels = [_hole_label(a, int(m) + 1, int(n))
              for a, m, n in zip(holes["account_id"], holes["_m"], holes["size"], strict=True)]
    short = holes["size"] <= FILL_GAP_MONTHS
    if tp.gaps == "error" and short.any():
        odd = holes[short]
        raise _fatal("mrr", path, tp.columns.get("month") or "month",
                     f"{odd['account_id'].nunique():,} account(s) have {len(odd):,} hole(s) "
                     f"of {FILL_GAP_MONTHS} month: no row between two months in which they "
                     "are billed (a lost export row, most likely)",
                     "a row for every month between an account's first and last billed month",
                     "Export the missing rows again, or set tables.mrr.gaps: fill (such a hole "
                     "is filled with the month before) or keep (a pause: churn, then "
                     "reactivation).", odd["line"].tolist(),
                     [label for label, k in zip(labels, short, strict=True) if k], len(odd))
    fill = short & (tp.gaps == "fill")
    kept = [label for label, k in zip(labels, short & ~fill, strict=True) if k]
    if kept:  # gaps: keep, and holes a lost row would explain
        log.add("mrr", "warning", f"{len(kept):,} hole(s) of at most {FILL_GAP_MONTHS} month in "
                f"the billing of {holes.loc[short, 'account_id'].nunique():,} account(s) kept "
                "as pauses (churn, then reactivation; tables.mrr.gaps: keep), though a lost "
                f"export row is likelier: {', '.join(kept[:5])}"
                + (", …" if len(kept) > 5 else ""), count=len(kept), examples=kept,
                affects=used_by)
    if not fill.any():
        return frame
    filled = [label for label, f in zip(labels, fill, strict=True) if f]
    log.add("mrr", "warning", f"{len(filled):,} hole(s) of at most {FILL_GAP_MONTHS} month in "
            f"the billing of {holes.loc[fill, 'account_id'].nunique():,} account(s), billed "
            "the month before and after, filled with the month before as lost export rows "
            f"(tables.mrr.gaps: fill): {', '.join(filled[:5])}"
            + (", …" if len(filled) > 5 else ""), count=len(filled), examples=filled,
            affects=used_by)
    copies = []
    source = frame.assign(_m=ordinal)
    for step in range(1, FILL_GAP_MONTHS + 1):
        wanted = holes.loc[fill & (holes["size"] >= step), ["account_id", "_m"]]
        rows = source.merge(wanted, on=["account_id", "_m"])
        rows["month"] = (rows["month"].dt.to_period("M") + step).dt.to_timestamp().astype(
            "datetime64[ns]")
        copies.append(rows.drop(columns="_m"))
    return pd.concat([frame, *copies], ignore_index=True)


def drop_orphans(name: str, frame: pd.DataFrame, known: set[str], path: Path, log: QualityLog,
                 max_rejected: float, header: str = "account_id") -> pd.DataFrame:
    """Drop rows referencing accounts the accounts table lacks (logged); too many stop the
    run."""
    spec = TABLES[name]
    if not spec.references_accounts or "account_id" not in frame or not len(frame):
        return frame
    orphan = ~frame["account_id"].isin(known)
    if not orphan.any():
        return frame
    share = orphan.mean()
    examples = frame.loc[orphan, "account_id"].unique().tolist()
    if share > max_rejected:
        raise _fatal(name, path, header,
                     f"{int(orphan.sum())} row(s) ({share:.0%}) refer to accounts that "
                     "are not in the accounts table",
                     "every account_id to exist in the accounts table",
                     "Check that both files come from the same export (same ID format, no "
                     "leading zeros lost), or add the missing accounts.",
                     frame.loc[orphan, LINE].tolist(), examples, int(orphan.sum()))
    log.add(name, "warning", f"{int(orphan.sum())} row(s) refer to unknown accounts; "
            "dropped", count=int(orphan.sum()), examples=examples,
            affects=list(spec.used_by))
    return frame.loc[~orphan]


def complete_accounts(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp | None,
                      log: QualityLog, facts: LoadFacts | None = None,
                      churn_date_rule: str = "first_unbilled_month",
                      renewal_date_means: str = "next") -> None:
    """Fill derivable account fields and log contradictions between tables.

    * start date, status, churn date and MRR from billing when the accounts file lacks
      them (:func:`lifecycle_from_accounts_billing`), and churn events with the reason
      "unknown" when there is no churn table;
    * ``mrr`` from ``arr / 12`` (and the reverse) when only one is given;
    * ``churn_date`` from the latest churn event when blank, for accounts not flagged
      active (an active account with churn events came back; it is logged, not churned);
    * ``status`` from ``churn_date`` when blank;
    * a warning on active accounts' past renewal dates, as ``renewal_date_means`` reads them
      (:func:`check_renewal_dates`).
    """
    acc = tables["accounts"]
    for col in ("arr", "mrr", "churn_date", "status", "products", "start_date"):
        if col not in acc:
            acc[col] = pd.Series(dtype={"churn_date": "datetime64[ns]", "status": "str",
                                        "start_date": "datetime64[ns]",
                                        "products": "Int64"}.get(col, "float"),
                                 index=acc.index)
    if facts is not None and as_of is not None:
        acc = lifecycle_from_accounts_billing(tables, acc, as_of, facts, log, churn_date_rule)
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
            n = int(active_with_churn.sum())
            ids = acc.loc[active_with_churn, "account_id"]
            back = came_back(ids, last, tables.get("mrr"))
            odd = ids[~ids.isin(back)]
            if len(odd):
                returned = (f"; {len(back):,} were billed again after a gap (reactivations)"
                            if back else "")
                log.add("accounts", "problem", f"{n} account(s) flagged active have churn "
                        f"events ({n / len(acc):.0%} of accounts): {len(odd):,} show no return "
                        "in the MRR history, so the churn flag or the churn events are wrong"
                        + returned, count=len(odd), examples=odd.tolist(),
                        affects=["revenue", "reasons", "drivers"],
                        tables=["accounts", "churn_events"],
                        caveat=f"{len(odd):,} accounts flagged active have churn events and "
                        "no return in billing")
            else:
                log.add("accounts", "info", f"{n} account(s) flagged active have churn events "
                        "and were billed again after a gap: reactivations, consistent",
                        count=n, examples=ids.tolist())
        churned_without = acc["status"].eq("churned") & ~acc["account_id"].isin(last.index)
        if churned_without.any():
            n = int(churned_without.sum())
            share = n / max(1, int(acc["status"].eq("churned").sum()))
            log.add("accounts", "problem", f"{n} churned account(s) have no churn event "
                    f"(no reason or date recorded for {share:.0%} of churned accounts)",
                    count=n,
                    examples=acc.loc[churned_without, "account_id"].tolist(),
                    affects=["reasons", "drivers"], tables=["accounts", "churn_events"],
                    caveat=f"{n:,} churned accounts have no churn event")
    acc["status"] = acc["status"].fillna(
        pd.Series(np.where(acc["churn_date"].notna(), "churned", "active"), index=acc.index))
    no_start = acc["start_date"].isna()
    if no_start.any():
        log.add("accounts", "warning", f"{int(no_start.sum()):,} account(s) have no start "
                "date and no billing to take it from: left out", count=int(no_start.sum()),
                examples=acc.loc[no_start, "account_id"].tolist(),
                affects=["revenue", "segments", "drivers"])
        acc = acc.loc[~no_start].copy()
    before_start = acc["churn_date"].notna() & (acc["churn_date"] < acc["start_date"])
    if before_start.any():
        log.add("accounts", "problem", f"{int(before_start.sum())} account(s) churned before "
                "their start date", count=int(before_start.sum()),
                examples=acc.loc[before_start, "account_id"].tolist(),
                affects=["revenue", "reasons", "drivers"], tables=["accounts"],
                caveat=f"{int(before_start.sum()):,} accounts churned before they started")
    if as_of is not None:
        check_renewal_dates(acc, as_of, renewal_date_means, log)
    tables["accounts"] = acc


def check_renewal_dates(acc: pd.DataFrame, as_of: pd.Timestamp, renewal_date_means: str,
                        log: QualityLog) -> None:
    """Warn about active accounts whose renewal date is in the past, as
    ``contracts.renewal_date_means`` reads it (:func:`playbook.contracts.stale_renewal_dates`).

    ``last``: past dates are what the column holds, nothing to say. ``next``: the date was
    not updated at the last renewal; when most active accounts' dates are past the column
    most likely holds the last renewal, and the warning says which parameter to set.
    ``contract_end``: the contract ended and the account is still active: taken as renewed.
    """
    if renewal_date_means == "last":
        return
    stale = stale_renewal_dates(acc, as_of)
    if not stale.any():
        return
    n = int(stale.sum())
    if renewal_date_means == "contract_end":
        message = (f"{n} active account(s) have a contract end date in the past (out of "
                   "contract, or renewed without the date being updated?): taken as renewed "
                   "on that date, their next renewal one contract term later")
    else:
        message = (f"{n} active account(s) have a renewal date in the past (renewed without "
                   "the date being updated?); renewals due and renewal timing are understated")
        if renewal_dates_look_like_last(acc, as_of):
            message += (". Most active accounts' renewal dates are past: if the column holds "
                        "the latest renewal, set `contracts: {renewal_date_means: last}` in "
                        "the params file")
    log.add("accounts", "warning", message, count=n,
            examples=acc.loc[stale, "account_id"].tolist(), affects=["revenue", "drivers"])


def resolve_contract_terms(tables: dict[str, pd.DataFrame], term_by_type: dict[str, int],
                           default_term: int, log: QualityLog) -> None:
    """Fill ``accounts.contract_term_months`` where blank from ``contract_type`` and
    ``contracts.term_by_type`` (:func:`playbook.contracts.terms_from_types`); log the
    contract types the mapping lacks (those accounts keep the default term)."""
    acc = tables["accounts"]
    if "contract_type" not in acc or acc["contract_type"].isna().all():
        return
    terms, unknown = terms_from_types(acc["contract_type"], term_by_type)
    if "contract_term_months" not in acc:
        acc["contract_term_months"] = pd.Series(pd.NA, index=acc.index, dtype="Int64")
    fill = acc["contract_term_months"].isna() & terms.notna()
    acc.loc[fill, "contract_term_months"] = terms[fill].round().astype("Int64")
    if unknown:
        lacking = acc["contract_type"].astype("string").str.strip().isin(unknown) & \
            acc["contract_term_months"].isna()
        shown = ", ".join(repr(u) for u in unknown[:8]) + (" ..." if len(unknown) > 8 else "")
        log.add("accounts", "warning", f"{int(lacking.sum())} account(s) have a contract type "
                f"with no term in contracts.term_by_type ({shown}): given the default term "
                f"of {default_term} month(s). Add each type's months to "
                "`contracts.term_by_type` in the params file (1 = month-to-month)",
                count=int(lacking.sum()), examples=acc.loc[lacking, "account_id"].tolist(),
                affects=["drivers"])


def lifecycle_from_accounts_billing(tables: dict[str, pd.DataFrame], acc: pd.DataFrame,
                                   as_of: pd.Timestamp, facts: LoadFacts, log: QualityLog,
                                   churn_date_rule: str) -> pd.DataFrame:
    """Derive the account fields the accounts file lacks from billing (logged).

    Only columns the file did not supply are derived (a supplied column with blanks keeps
    its blanks, except a blank start date, which takes the first billed month): start date
    (first billed month), status and churn date together (:mod:`playbook.billing`), and
    MRR (the last billed month's). Accounts never billed cannot have a lifecycle from
    billing and are left out when status is derived. Without a churn table, every churned
    account gets one churn event with the reason "unknown" and its last MRR as lost MRR.
    A supplied status that billing contradicts is logged as a problem.
    """
    mrr = tables.get("mrr")
    supplied = facts.supplied.get("accounts", set())
    if mrr is None or not len(mrr):
        return acc
    life = lifecycle_from_billing(mrr, as_of, line_ends=facts.line_ends,
                                  churn_date_rule=churn_date_rule)
    ids = acc["account_id"]
    derived = []
    blank_start = acc["start_date"].isna() & ids.isin(life.index)
    if blank_start.any():
        acc.loc[blank_start, "start_date"] = ids[blank_start].map(life["start_date"])
        derived.append("start date" if "start_date" not in supplied else
                       f"{int(blank_start.sum()):,} blank start dates")
    if not {"status", "churn_date"} & supplied:
        never = ~ids.isin(life.index)
        if never.any():
            log.add("accounts", "warning", f"{int(never.sum()):,} account(s) were never "
                    "billed: with no status in the accounts file they have no lifecycle and "
                    "are left out", count=int(never.sum()), examples=ids[never].tolist(),
                    affects=["revenue", "segments"])
            acc = acc.loc[~never].copy()
            ids = acc["account_id"]
        acc["status"] = ids.map(life["status"]).astype(object)
        acc["churn_date"] = ids.map(life["churn_date"]).astype("datetime64[ns]")
        derived.append("status and churn date (no MRR in the as-of month after earlier MRR "
                       "= churned; churn date = "
                       + ("first unbilled month)" if churn_date_rule == "first_unbilled_month"
                          else "end of the last paid period)"))
    elif "status" in supplied and mrr["month"].max() >= as_of.to_period("M").to_timestamp():
        # (accounts with churn events are judged against them in complete_accounts)
        said = acc.set_index("account_id")["status"]
        billed = life["status"].reindex(said.index)
        events = tables.get("churn_events")
        with_events = set(events["account_id"]) if events is not None else set()
        wrong = said.eq("active") & billed.eq("churned") & ~said.index.isin(with_events)
        if wrong.any():
            log.add("accounts", "problem", f"{int(wrong.sum()):,} account(s) flagged active "
                    f"have no MRR in the as-of month ({as_of:%b %Y}) after earlier billing",
                    count=int(wrong.sum()), examples=wrong[wrong].index.tolist(),
                    affects=["revenue", "reasons", "drivers"], tables=["accounts", "mrr"],
                    caveat=f"{int(wrong.sum()):,} accounts flagged active are no longer "
                    "billed")
    if not {"mrr", "arr"} & supplied:
        acc["mrr"] = ids.map(life["last_mrr"]).astype(float)
        derived.append("MRR (the last billed month's)")
    if derived:
        log.add("accounts", "info", "derived from billing: " + "; ".join(derived),
                count=len(acc))
    if "churn_events" not in tables:
        churned = acc[acc["status"].eq("churned") & acc["churn_date"].notna()]
        tables["churn_events"] = pd.DataFrame({
            "account_id": churned["account_id"].to_numpy(),
            "churn_date": churned["churn_date"].to_numpy(),
            "reason_code": "unknown", "reason_text": pd.Series([None] * len(churned),
                                                               dtype=object),
            "lost_mrr": churned["account_id"].map(life["last_mrr"]).to_numpy(dtype=float)})
        if len(churned):
            log.add("churn_events", "warning", f"no churn table: {len(churned):,} churn "
                    "event(s) synthesised from billing with the reason 'unknown' (date and "
                    "lost MRR from billing); why customers leave cannot be analysed",
                    count=len(churned), affects=["reasons"])
    return acc


def came_back(ids: pd.Series, last_event: pd.Series, mrr: pd.DataFrame | None) -> set[str]:
    """Accounts among ``ids`` billed again after a gap following their last churn event.

    ``last_event``: date of each account's last churn event. A return needs a month from
    the event's month on with no MRR, then MRR again; MRR that simply runs on is no return.
    """
    if mrr is None or not len(mrr):
        return set()
    paid = mrr.loc[(mrr["mrr"] > 0) & mrr["account_id"].isin(set(ids)), ["account_id", "month"]]
    paid = paid.assign(m=paid["month"].dt.to_period("M").map(lambda p: p.ordinal))
    event = last_event.dt.to_period("M").map(lambda p: p.ordinal)
    back: set[str] = set()
    for account, months in paid.groupby("account_id")["m"]:
        start = event.get(account)
        later = months[months > start] if start is not None else months.iloc[:0]
        if len(later) and len(set(range(start, int(later.max())))
                              - set(months.tolist())) > 0:
            back.add(str(account))
    return back


# --------------------------------------------------------------------------- consistency

ACCOUNT_CATEGORIES = ("segment", "industry", "region", "owner", "size_band")


def check_consistency(tables: dict[str, pd.DataFrame], facts: LoadFacts, params: Params,
                      log: QualityLog) -> None:
    """Log what weakens findings without stopping the run: contradictions between tables,
    a base too small or too uniform to compare, blank or one-sided fields."""
    acc = tables["accounts"]
    n_acc = len(acc)
    churned = acc["status"].eq("churned")
    _check_billing_after_churn(tables, facts, log)
    if n_acc and not churned.any():
        log.add("accounts", "warning", f"no account has churned (all {n_acc:,} active): churn "
                "reasons, churn by variable and renewal drivers have nothing to explain",
                count=n_acc, affects=["reasons", "drivers"])
    elif n_acc and churned.all():
        log.add("accounts", "warning", f"every account has churned (all {n_acc:,}): there is "
                "no current customer base; health, segments, capacity and risk describe "
                "former customers only", count=n_acc,
                affects=["health", "segments", "capacity", "risk"])
    small = params.thresholds.small_group_n
    if n_acc < small:
        log.add("accounts", "warning", f"only {n_acc:,} account(s), below the {small} needed "
                "to judge a rate: every churn rate and comparison is indicative only",
                count=n_acc, affects=["revenue", "reasons", "drivers", "segments"])
    for col in ACCOUNT_CATEGORIES:
        if col not in facts.supplied.get("accounts", set()):
            continue
        values = acc[col].dropna()
        if n_acc > 1 and len(values) == n_acc and values.nunique() == 1:
            log.add("accounts", "warning", f"{col} has one value ('{values.iloc[0]}') for all "
                    f"{n_acc:,} accounts: no comparison by {col} is possible", count=n_acc,
                    affects=["segments", "reasons"])
    events = tables.get("churn_events")
    if events is not None and len(events) and "churn_events" in params.tables:
        _check_churn_events(events, facts.supplied.get("churn_events", set()), params, log)
    for name in ("surveys", "csm_inputs"):
        frame = tables.get(name)
        if frame is not None and len(frame):
            _check_scales(name, frame, params.tables[name], log)


def _check_billing_after_churn(tables: dict[str, pd.DataFrame], facts: LoadFacts,
                               log: QualityLog) -> None:
    acc = tables["accounts"]
    churned = acc["status"].eq("churned")
    if facts.open_lines is not None:
        open_lines = facts.open_lines
        on_churned = open_lines.reindex(acc.loc[churned, "account_id"]).dropna()
        on_churned = on_churned[on_churned > 0]
        if len(on_churned):
            with_open = int(acc["account_id"].isin(open_lines[open_lines > 0].index).sum())
            every = (f"; {with_open:,} of {len(acc):,} accounts have an open line"
                     if with_open else "")
            log.add("mrr", "problem", f"{int(on_churned.sum()):,} subscription line(s) with no "
                    f"end date belong to {len(on_churned):,} churned account(s){every}: "
                    "their MRR runs on to the as-of date, so MRR is overstated and MRR churn "
                    "understated", count=int(on_churned.sum()),
                    examples=on_churned.index.tolist(),
                    affects=["revenue", "reasons", "segments", "scenarios"],
                    tables=["mrr"],
                    caveat=f"{int(on_churned.sum()):,} open subscription lines keep the MRR "
                    f"of {len(on_churned):,} churned accounts running")
        return
    mrr = tables.get("mrr")
    if mrr is None or not len(mrr):
        return
    churn_month = acc.set_index("account_id")["churn_date"].dropna().dt.to_period("M")
    if churn_month.empty:
        return
    billed = mrr[(mrr["mrr"] > 0) & mrr["account_id"].isin(churn_month.index)]
    status = acc.set_index("account_id")["status"]
    after = billed["month"].dt.to_period("M") > billed["account_id"].map(churn_month)
    still = billed.loc[after & billed["account_id"].map(status).eq("churned"), "account_id"]
    if len(still):
        log.add("mrr", "problem", f"{still.nunique():,} churned account(s) are still billed "
                f"after their churn month ({len(still):,} account-months of MRR)",
                count=int(still.nunique()), examples=still.unique().tolist(),
                affects=["revenue", "reasons"], tables=["mrr"],
                caveat=f"{still.nunique():,} churned accounts are still billed after churning")


def _check_churn_events(events: pd.DataFrame, supplied: set[str], params: Params,
                        log: QualityLog) -> None:
    tp = params.tables["churn_events"]
    n = len(events)
    used_by = list(TABLES["churn_events"].used_by)
    for col, words in (("reason_code", "coded reason"), ("reason_text", "free-text reason")):
        if col not in supplied:
            continue
        blank = events[col].isna() | events[col].astype(str).str.strip().eq("")
        header = tp.columns.get(col, col)
        if blank.all():
            log.add("churn_events", "warning", f"all {n:,} churn events have a blank {words} "
                    f"({header}): why customers leave cannot be read from the data",
                    count=n, affects=["reasons", "drivers"])
        elif blank.any():
            log.add("churn_events", "warning", f"{int(blank.sum()):,} of {n:,} churn events "
                    f"({blank.mean():.0%}) have a blank {words} ({header})",
                    count=int(blank.sum()), affects=["reasons"])
    if {"reason_code", "reason_text"} <= supplied:
        _check_code_text_agreement(events, tp, log, used_by)


def _check_code_text_agreement(events: pd.DataFrame, tp: TableParams, log: QualityLog,
                               used_by: list[str]) -> None:
    """Coded reasons and free-text reasons should tell the same story; when the text is a
    short list of phrases, test whether the two are related at all."""
    from scipy.stats import chi2_contingency

    both = events.dropna(subset=["reason_code", "reason_text"])
    both = both[both["reason_code"].astype(str).str.strip().ne("")
                & both["reason_text"].astype(str).str.strip().ne("")]
    texts = both["reason_text"].str.strip().str.lower()
    codes = both["reason_code"].str.strip().str.lower()
    if len(both) < 50 or not 2 <= texts.nunique() <= 30 or codes.nunique() < 2:
        return
    table = pd.crosstab(codes, texts)
    chi2, p_value, _, _ = chi2_contingency(table)
    v = float(np.sqrt(chi2 / (table.to_numpy().sum() * (min(table.shape) - 1))))
    if v >= 0.2 or p_value < 0.05:
        return
    code, text = max(((c, t) for c in table.index for t in table.columns if c not in t
                      and t not in c), key=lambda ct: table.loc[ct], default=(None, None))
    example = (f"; e.g. {table.loc[code, text]} events coded '{code}' say '{text}'"
               if code is not None else "")
    code_col = tp.columns.get("reason_code", "reason_code")
    text_col = tp.columns.get("reason_text", "reason_text")
    log.add("churn_events", "problem", f"coded reasons ({code_col}) "
            f"and free-text reasons ({text_col}) look "
            f"unrelated (Cramér's V {v:.2f}, p = {p_value:.2f}, {len(both):,} events with "
            f"both){example}: neither can be trusted alone", count=len(both),
            affects=used_by, tables=["churn_events"],
            caveat="coded and free-text churn reasons disagree")


def _check_scales(name: str, frame: pd.DataFrame, tp: TableParams, log: QualityLog) -> None:
    """A score whose low (or high) end is never used reads too kind (or too harsh)."""
    for col in TABLES[name].columns:
        if col.kind != "number" or col.min is None or col.max is None or col.name not in frame:
            continue
        values = frame[col.name].dropna()
        if len(values) < 30:
            continue
        low, high = float(values.min()), float(values.max())
        header = tp.columns.get(col.name, col.name)
        scale = f"the {col.min:g}-{col.max:g} scale"
        if low >= col.min + 2:
            end = "low end is never used, so scores read high and cannot single out unhappy "
            end += "customers"
        elif high <= col.max - 2:
            end = "high end is never used, so scores read low"
        else:
            continue
        log.add(name, "problem", f"{header}: only scores {low:g}-{high:g} occur on {scale} "
                f"({len(values):,} answers): the {end}", count=len(values),
                affects=list(TABLES[name].used_by), tables=[name],
                caveat=f"{header} uses only {low:g}-{high:g} of {scale}")


def _answered_surveys(frame: pd.DataFrame, tp: TableParams, log: QualityLog) -> pd.DataFrame:
    """A survey row without any score is not an answer: dropped, logged."""
    scores = [c for c in ("nps", "csat") if c in frame]
    if not scores or not len(frame):
        return frame
    empty = frame[scores].isna().all(axis=1)
    if empty.any():
        headers = " and ".join(tp.columns.get(c, c) for c in scores)
        log.add("surveys", "warning", f"{int(empty.sum()):,} of {len(frame):,} survey row(s) "
                f"({empty.mean():.0%}) carry no score ({headers} blank); not counted as "
                "answers", count=int(empty.sum()), examples=frame.loc[empty, LINE].tolist(),
                affects=list(TABLES["surveys"].used_by))
    return frame.loc[~empty]


def _check_period(tables: dict[str, pd.DataFrame], facts: LoadFacts, params: Params,
                  files: dict[str, Path]) -> None:
    """A period outside the data is a typo in PERIOD/AS_OF, not a finding: stop."""
    if facts.mrr_span is None or params.period_start is None or params.as_of is None:
        return
    first, last = facts.mrr_span
    start, as_of = pd.Timestamp(params.period_start), pd.Timestamp(params.as_of)
    if last.to_period("M") < start.to_period("M"):
        problem = (f"the period {params.period_label} starts after the MRR data end "
                   f"({last:%b %Y})")
    elif first.to_period("M") > as_of.to_period("M"):
        problem = (f"the period {params.period_label} ends before the MRR data start "
                   f"({first:%b %Y})")
    else:
        return
    raise _fatal("mrr", files["mrr"], None, problem,
                 f"a period between {first:%b %Y} and {last:%b %Y}",
                 f"Pass PERIOD (e.g. PERIOD={last.year}-Q{(last.month - 1) // 3 + 1}) or AS_OF "
                 "inside the data, or correct period.period in the params file.")


def _unused_files(params: Params, files: dict[str, Path], log: QualityLog) -> None:
    """Name every file in the client's folder that no table reads, and what that costs."""
    folder = params.data_path()
    if not folder.is_dir():
        return
    from playbook.assembly import joined_files

    used = {p.resolve() for p in files.values()} | joined_files(params)
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        real = paths.inside_folder(path, folder)
        if real is None:
            log.add("files", "info", f"{path.name} is a link leading outside the client's "
                    f"folder {_rel(folder)}; not read")
            continue
        if (not real.is_file() or real in used
                or path.suffix.lower() not in (".csv", ".txt", ".tsv", ".xlsx", ".xlsm",
                                               ".xls", ".parquet")):
            continue
        try:
            headers = _header_of(path)
        except DataError as exc:  # too wide or too long to read cheaply: say so, go on
            log.add("files", "info", f"{path.name} is not used by any table (its header was "
                    f"not read: {exc.issues[0].problem})")
            continue
        stem = _norm(path.stem)
        guess = next((t for t in TABLES if t not in params.tables
                      and (_norm(t) in stem or _norm(t.rstrip("s")) in stem)), None)
        text = f"{path.name} is not used by any table"
        if headers:
            text += f" (columns: {', '.join(headers[:5])}{', …' if len(headers) > 5 else ''})"
        has_account = any("account" in _norm(h) for h in headers)
        keys = [h for h in headers if _norm(h).endswith("id") and _norm(h) != "id"]
        if guess is None:
            log.add("files", "info", text + ".")
            continue
        text += f"; it looks like the '{guess}' table"
        if headers and not has_account:
            key = next((k for k in keys if not _norm(k).startswith(_norm(guess)[:4])),
                       keys[0] if keys else None)
            text += (", but it has no account column" + (f" (it is keyed by {key})" if key
                                                         else "")
                     + f" and the data contract's '{guess}' table is per account, so it "
                     "cannot be mapped without a join the contract does not support")
        else:
            text += f": map it under tables.{guess} in the params file"
        log.add("files", "warning", text + f"; findings that need '{guess}' go without it",
                affects=list(TABLES[guess].used_by))


def _header_of(path: Path) -> list[str]:
    """The header cells of a file (empty when it cannot be read).

    Raises
    ------
    DataError
        When the header is over a limit (:func:`check_header`): it is not read at all.
    """
    try:
        if path.suffix.lower() in (".csv", ".txt", ".tsv"):
            enc = detect_encoding(path)
            sep = detect_delimiter(path, enc)
            return check_header("files", path, enc, sep, 1)
        if path.suffix.lower() == ".parquet":
            return parquet_columns("files", path)
    except DataError:
        raise
    except Exception:  # noqa: BLE001 - a file we do not read must not stop the run
        return []
    return []


# --------------------------------------------------------------------------- tables


def client_file(name: str, tp: TableParams, params: Params) -> Path:
    """The table's file inside the client's folder; a path leading out of it is refused."""
    folder = params.data_path()
    path = folder / tp.file
    if Path(tp.file).is_absolute() or paths.inside_folder(path, folder) is None:
        link = _link_out(path, folder)
        how = (f": {link.relative_to(folder)} is a link to {os.readlink(link)}" if link
               else "")
        raise _fatal(name, path, None, f"tables.{name}.file ('{tp.file}') points outside the "
                     f"client's folder {_rel(folder)}{how}",
                     f"a file inside {_rel(folder)} (links are followed and must stay inside)",
                     "Copy the file into the client's folder (a copy, not a link) and give "
                     "its name only.")
    if not path.is_file():
        present = sorted(p.name for p in path.parent.glob("*")) if path.parent.is_dir() else []
        raise _fatal(name, path, None, "the file does not exist",
                     f"the '{name}' export at {_rel(path)}",
                     f"Put the file there, or correct tables.{name}.file in the params file. "
                     f"Files in {_rel(path.parent)}: {present or 'none (folder missing)'}.")
    return path


def _link_out(path: Path, folder: Path) -> Path | None:
    """The first link on the way from ``folder`` down to ``path`` that leads out of it."""
    rel = Path(os.path.relpath(os.path.normpath(path), os.path.normpath(folder)))
    step = folder
    for part in () if rel.parts[:1] == ("..",) else rel.parts:
        step = step / part
        if step.is_symlink() and paths.inside_folder(step, folder) is None:
            return step
    return None


def _usage_events(name: str, path: Path, tp: TableParams, params: Params, log: QualityLog
                  ) -> tuple[pd.DataFrame, list[str], tuple[int, int, int]]:
    """An event file (``layout: events``) aggregated to account-months (:mod:`playbook.events`).

    Returns the frame, the unmapped headers and (events read, events not counted,
    account-months made).
    """
    from playbook.events import aggregate_events

    if name != "usage":
        raise _fatal(name, path, None, f"tables.{name}.layout is 'events', which only the "
                     "usage table supports", "layout: monthly (or lines for mrr)",
                     f"Remove tables.{name}.layout from the params file.")
    try:
        frame, read, rejected, unmapped = aggregate_events(name, path, tp,
                                                           params.data.max_rejected_share)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyarrow, DuckDB or pandas on a broken file
        raise _fatal(name, path, None, f"the event file cannot be read ({type(exc).__name__}: "
                     f"{exc})", "a readable CSV, Excel or Parquet file",
                     "Export the events again (Parquet or CSV UTF-8) and check the file is "
                     "complete (not cut off by a download or a copy).") from None
    if rejected:
        log.add(name, "warning", f"{rejected:,} of {read:,} usage event(s) have no usable "
                "account or date; not counted", count=rejected, affects=list(
                    TABLES[name].used_by))
    log.add(name, "info", f"{read - rejected:,} usage event(s) aggregated to {len(frame):,} "
            "account-months (active users: " + ("distinct users" if "user_id" in tp.columns
                                                else "events") + "; key actions: events)",
            count=read - rejected)
    return frame, unmapped, (read, rejected, len(frame))


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
    by_norm = {_norm(h): h for h in headers}
    out = pd.DataFrame({LINE: raw[LINE]})
    issues: list[DataIssue] = []
    used: list[str] = []
    for key, var in wanted.items():
        found = var.column if var.column in headers else by_norm.get(_norm(var.column))
        if found is None:
            close = difflib.get_close_matches(var.column, headers, n=3, cutoff=0.5)
            issues.append(DataIssue(
                name, _rel(path), var.column, f"variables.{key}.column '{var.column}' is not "
                f"a column of {path.name}", f"one of its headers: {', '.join(headers[:20])}",
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
    if issues:
        raise DataError(issues)
    return out, used


def _numeric_variable(name: str, key: str, raw: pd.DataFrame, header: str, tp: TableParams,
                      params: Params, path: Path, log: QualityLog
                      ) -> tuple[pd.Series, DataIssue | None]:
    """A numeric variable's values; unreadable ones blank (logged), too many an issue."""
    values, bad = parse_number(raw[header], tp)
    filled = int((~_blank(raw[header])).sum())
    if bad.any() and int(bad.sum()) > params.data.max_rejected_share * max(filled, 1):
        return values, DataIssue(
            name, _rel(path), header, f"variables.{key} is declared numeric but "
            f"{int(bad.sum())} of {filled} value(s) are not numbers",
            f"numbers written with the decimal mark '{tp.decimal}'",
            f"Declare variables.{key}.kind: categorical if the column holds labels, or "
            f"set tables.{name}.decimal/thousands to the file's number format.",
            raw.loc[bad, LINE].tolist(), raw.loc[bad, header].tolist(), int(bad.sum()))
    if bad.any():
        log.add(name, "warning", f"{header} (variables.{key}): {int(bad.sum())} value(s) "
                "are not numbers; set to blank", count=int(bad.sum()),
                examples=raw.loc[bad, LINE].tolist(), affects=["reasons", "drivers"])
    return values, None


def _categorical_variable(name: str, key: str, reference: str | None, raw: pd.DataFrame,
                          header: str, path: Path) -> tuple[pd.Series, DataIssue | None]:
    """A categorical variable's levels (trimmed text), checked: not too many levels, and
    the declared reference level among them."""
    values, _ = parse_text(raw[header])
    levels = sorted(values.dropna().unique().tolist())
    if len(levels) > MAX_VARIABLE_LEVELS:
        return values, DataIssue(
            name, _rel(path), header, f"variables.{key} is declared categorical but the "
            f"column holds {len(levels):,} different values (at most "
            f"{MAX_VARIABLE_LEVELS} make groups that can be compared)",
            "a few groups, e.g. contract types or plans", f"Declare variables.{key}.kind: "
            "numeric if the column holds numbers, else group its values in the export, "
            "or remove the variable.", [], levels[:5], len(levels))
    if reference is not None and reference.strip() not in levels:
        close = [v for v in levels if v.lower() == reference.strip().lower()]
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return values, DataIssue(
            name, _rel(path), header, f"variables.{key}.reference is '{reference}', a value "
            f"the column never holds{hint}", f"one of the values found: {levels[:12]}",
            f"Set variables.{key}.reference to one of these values, written exactly, or "
            "remove it to compare with the most common value.", [], levels[:12], len(levels))
    return values, None


def _with_variables(frame: pd.DataFrame, extra: pd.DataFrame | None) -> pd.DataFrame:
    """``frame`` with the client variables of its rows (matched by file line)."""
    if extra is None:
        return frame
    return frame.join(extra.set_index(LINE), on=LINE)


def load_table(name: str, tp: TableParams, params: Params, log: QualityLog,
               known: set[str] | None = None, facts: LoadFacts | None = None
               ) -> tuple[pd.DataFrame, Path]:
    """Read, map, parse and check one table; returns the canonical frame and its file.

    ``known``: the account IDs of the accounts table; rows referring to others are dropped
    (or stop the run when too many). ``facts`` collects what later checks need.
    """
    spec = TABLES[name]
    facts = facts if facts is not None else LoadFacts()
    path = client_file(name, tp, params)
    events = None
    extra = None
    if tp.layout == "events":
        frame, unmapped, events = _usage_events(name, path, tp, params, log)
    else:
        raw = read_raw(name, path, tp, log)
        from playbook.assembly import assemble  # joins, filters, derived columns (params)

        raw, assembled = assemble(name, tp, raw, path, params, log)
        frame, unmapped, issues = map_columns(name, spec, tp, raw, path, log)
        if issues:
            raise DataError(issues)
        extra, used = client_variables(name, raw, tp, params, path, log)
        unmapped = [h for h in unmapped if h not in used]
        unmapped = [h for h in unmapped if h not in assembled]
    if unmapped:
        log.add(name, "info", f"{len(unmapped)} column(s) not used: {', '.join(unmapped[:12])}",
                count=len(unmapped))
    facts.supplied[name] = {c for c in frame.columns if c != LINE}
    rows_read = len(frame) if events is None else events[0]
    if rows_read == 0 and name != "accounts":
        log.add(name, "warning", f"{path.name} has a header but no rows: sections that need "
                f"'{name}' are left out", affects=list(spec.used_by))
    max_rejected = params.data.max_rejected_share
    frame = typed_table(name, spec, tp, frame, path, log, max_rejected)
    if known is not None:
        frame = drop_orphans(name, frame, known, path, log, max_rejected,
                             tp.columns.get("account_id", "account_id"))
    frame = dedupe_keys(name, spec, frame, path, log, tp)
    if name == "surveys":
        frame = _answered_surveys(frame, tp, log)
    rows_kept = len(frame)
    if events is not None:  # rows of the file are events: count the events kept
        rows_kept = int(frame["key_actions"].sum()) if len(frame) else 0
    as_of = pd.Timestamp(params.as_of) if params.as_of else None
    if name == "mrr":
        if len(frame):
            dates = (frame["month"] if tp.layout == "monthly" else
                     pd.concat([frame["start_date"], frame.get("end_date", frame["start_date"])]))
            facts.mrr_span = (dates.min(), dates.max())
        if tp.layout == "lines":
            ends = frame["end_date"] if "end_date" in frame else pd.Series(pd.NaT,
                                                                           index=frame.index)
            facts.open_lines = frame.loc[ends.isna()].groupby("account_id").size()
            facts.line_ends = (exclusive_end(frame, tp.end_inclusive)
                               .groupby(frame["account_id"]).max())
        if tp.layout == "monthly":
            frame = mrr_gaps(frame, tp, path, log)
        frame = monthly_mrr(frame, tp, as_of, log)
        if tp.layout == "lines":
            log.add("mrr", "info", f"{rows_kept:,} subscription line(s) expanded to "
                    f"{len(frame):,} account-months (open lines run to the as-of date)",
                    count=rows_kept)
    else:
        frame = _with_variables(with_all_columns(spec, frame), extra)
    log.loads.append(TableLoad(name, _rel(path), file_sha256(path), rows_read, rows_kept,
                               unmapped))
    return frame, path


def load_client(params: Params) -> ClientData:
    """Load every table configured in ``params.tables`` into canonical, validated frames.

    When ``$PLAYBOOK_DATA_CACHE`` names a folder (the render step sets it for the kernels
    of one run), the validated tables are read from there if an entry for these parameters
    and input files exists, and stored there otherwise (:mod:`playbook.cache`).

    The accounts table is read first; rows of other tables that refer to unknown accounts
    are dropped as they are read. Contradictions and thin data are logged in the
    :class:`~playbook.quality.QualityLog` (see :func:`check_consistency`).

    Raises
    ------
    DataError
        When a required table is not configured, a file is missing, unreadable or outside
        the client's folder, a required column is missing, keys conflict, dates mix day and
        month order, too many rows are unusable, or the period lies outside the data. All
        problems found are reported together.
    """
    from playbook import cache

    folder = cache.cache_dir()
    if folder is None:
        return _load_client(params)
    key = cache.cache_key(params)
    data = cache.lookup(params, folder, key)
    if data is None:
        data = _load_client(params)
        cache.store(params, data, folder, key)
    return data


def _load_client(params: Params) -> ClientData:
    """:func:`load_client` without the cache."""
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
    facts = LoadFacts()
    known: set[str] | None = None
    for name in sorted(params.tables, key=lambda t: t != "accounts"):
        try:
            tables[name], files[name] = load_table(name, params.tables[name], params, log,
                                                   known, facts)
        except DataError as exc:
            errors += exc.issues
            continue
        if name == "accounts":
            if len(tables[name]):
                known = set(tables[name]["account_id"])
            else:
                errors.append(_fatal(
                    "accounts", files["accounts"], None, "the accounts table has no rows",
                    "at least one account", "Export the account list again; it is empty."
                ).issues[0])
    if "start_date" not in facts.supplied.get("accounts", {"start_date"}) and "mrr" not in tables:
        errors.append(_fatal(
            "accounts", files["accounts"], None, "the accounts file has no start date and "
            "there is no mrr table to derive it from", "a start_date column, or billing",
            "Map `start_date` in `tables.accounts.columns`, or configure `tables.mrr` (MRR "
            "by month or subscription lines): the first billed month is then the start."
        ).issues[0])
    if errors:
        raise DataError(errors)
    _check_period(tables, facts, params, files)
    _unused_files(params, files, log)
    as_of = pd.Timestamp(params.as_of) if params.as_of else None
    complete_accounts(tables, as_of, log, facts, params.churn.churn_date_from_billing,
                      params.contracts.renewal_date_means)
    resolve_contract_terms(tables, params.contracts.term_by_type, params.contracts.term_months,
                           log)
    from playbook.assembly import values_from_accounts

    values_from_accounts(tables, params, log)  # derive: {x: {from_table: ...}} in params
    check_consistency(tables, facts, params, log)
    for name in tables:
        tables[name] = tables[name].drop(columns=[LINE], errors="ignore").reset_index(drop=True)
    return ClientData(params.client_id, tables, log, files)
