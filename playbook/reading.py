"""Raw client files: which file holds a table, how it is written, and its cells as text.

The only module that opens a client's export. :func:`read_raw` reads a CSV, Excel or
Parquet file as text cells (no type guessing) with the line of the file each row came from.
The limits below are checked before the expensive read, so that a hostile or broken file
stops the run at once with a :class:`~playbook.errors.DataError` naming the file, the limit
and the fix. How a text file is written (encoding, delimiter) is decided by
:mod:`playbook.sniff` (:func:`text_format`), for the loader, ``make client`` and
``make check`` alike.

Line numbers in messages are the lines of the client's file (the header is line
``header_row``), so they can be found in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from playbook import paths
from playbook.arrow_text import trimmed
from playbook.billing import LINE
from playbook.config import Params
from playbook.config_tables import TableParams
from playbook.errors import DataError, DataIssue
from playbook.quality import QualityLog
from playbook.sniff import detect_delimiter, detect_encoding

# Limits checked before a file is read, so that a hostile or broken file stops the run at
# once with a clear message instead of taking minutes and gigabytes (documented in the
# security notes of the README).
MAX_COLUMNS = 1_000  # columns of a table (CSV header, Excel sheet, Parquet schema)
MAX_HEADER_CHARS = 1 << 20  # characters of the header line and the lines above it (1 MiB)
MAX_SHEET_CELLS = 10_000_000  # rows x columns of an Excel sheet as a reader lays it out


def file_error(table: str, path: Path, column: str | None, problem: str, expected: str,
               fix: str, rows: Iterable[int] = (), examples: Iterable[object] = (),
               count: int = 0) -> DataError:
    """The error that stops the run over ``table``'s file ``path`` (named relative to the
    project root): what is wrong, what was expected, the fix, and the lines of the file
    (``rows``), example values and their count when rows are at fault."""
    return DataError([DataIssue(table, relative_name(path), column, problem, expected, fix,
                                list(rows), list(examples), count)])


def relative_name(path: Path) -> str:
    """``path`` relative to the project root as the params name it (``..`` resolved, links
    not followed: a link is named where it is, not where it leads)."""
    root = paths.project_root()
    for candidate in (Path(os.path.abspath(path)), path.resolve()):
        if candidate.is_relative_to(root):
            return str(candidate.relative_to(root))
    return str(path)


def client_file(name: str, tp: TableParams, params: Params) -> Path:
    """The table's file inside the client's folder; a path leading out of it is refused."""
    folder = params.data_path()
    path = folder / tp.file
    if Path(tp.file).is_absolute() or paths.inside_folder(path, folder) is None:
        link = _link_out(path, folder)
        how = (f": {link.relative_to(folder)} is a link to {os.readlink(link)}" if link
               else "")
        where = relative_name(folder)
        raise file_error(name, path, None, f"tables.{name}.file ('{tp.file}') points outside "
                         f"the client's folder {where}{how}",
                         f"a file inside {where} (links are followed and must stay inside)",
                         "Copy the file into the client's folder (a copy, not a link) and give "
                         "its name only.")
    if not path.is_file():
        present = sorted(p.name for p in path.parent.glob("*")) if path.parent.is_dir() else []
        raise file_error(name, path, None, "the file does not exist",
                         f"the '{name}' export at {relative_name(path)}",
                         f"Put the file there, or correct tables.{name}.file in the params file. "
                         f"Files in {relative_name(path.parent)}: "
                         f"{present or 'none (folder missing)'}.")
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


def text_format(path: Path, tp: TableParams | None = None) -> tuple[str, str]:
    """(encoding, delimiter) of a text file: those the table's params declare
    (``tables.<table>.encoding``, ``.delimiter``), else detected (:mod:`playbook.sniff`)."""
    encoding = (tp.encoding if tp is not None else None) or detect_encoding(path)
    declared = tp.delimiter if tp is not None else None
    return encoding, declared or detect_delimiter(path, encoding)


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
            raise file_error(table, path, None, f"the header (line {header_row}) cannot be read: "
                             f"{exc}", "a header line naming the columns", "Open the file in a "
                             "spreadsheet and save it again as CSV (UTF-8).") from None
        # a cell longer than csv.field_size_limit() (131,072 characters): too long for a
        # header when it is in the header or above; further down, the reader's business
        whole = len(rows) >= header_row
        rows.append([])
    if not whole:
        line = min(len(rows), header_row)
        raise file_error(table, path, None, f"line {line} is too long for a header: over the "
                         f"limit of 1 MiB ({MAX_HEADER_CHARS:,} characters) for the header and "
                         f"the lines above it, or of {csv.field_size_limit():,} characters for "
                         "one name",
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
    return file_error(table, path, None, f"{where} has {columns:,} columns, more than the limit of "
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
                raise file_error(table, path, None, f"sheet '{name}' spans at least {rows:,} rows "
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
        raise file_error(table, path, None, "the file is empty (no header, no rows)",
                         "a header line naming the columns, then one row per record",
                         "Export the table again; if the client has no such records, remove "
                         f"tables.{table} from the params file.")
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            encoding, sep = text_format(path, tp)
            if encoding != "utf-8-sig" and not tp.encoding:
                log.add(table, "info", f"{path.name} is not UTF-8; read as {encoding}.")
            check_header(table, path, encoding, sep, tp.header_row)
            raw = read_plain_csv(path, encoding, sep, skip)
            caught = []
            if raw is None:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always", pd.errors.ParserWarning)
                    raw = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                                      skiprows=skip, encoding=encoding,
                                      skipinitialspace=True, skip_blank_lines=False,
                                      index_col=False)
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
            raise file_error(table, path, None, f"file type '{suffix}' is not supported",
                             "a .csv, .xlsx or .parquet file",
                             "Export the table as CSV (UTF-8) or Excel and point "
                             f"tables.{table}.file at it.")
    except DataError:
        raise
    except pd.errors.ParserError as exc:
        shape = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if not shape:
            raise file_error(table, path, None, f"the file cannot be read as a table: {exc}",
                             "one header line, then rows with as many cells as the header",
                             "Open the file in a spreadsheet and save it again as CSV (UTF-8); "
                             "if it uses another delimiter set "
                             f"tables.{table}.delimiter.") from None
        want, line, saw = (int(g) for g in shape.groups())
        raise _ragged(table, path, tp, want, line + skip, saw, encoding, sep) from None
    except ImportError:  # .xls needs a reader that is not installed (python-calamine)
        raise file_error(table, path, None, f"the old Excel format '{suffix}' cannot be read here",
                         "a .xlsx, .csv or .parquet file",
                         "Open the file in Excel or LibreOffice and save it as .xlsx (or CSV), "
                         f"then point tables.{table}.file at the new file.") from None
    except (ValueError, OSError, UnicodeDecodeError, csv.Error, KeyError, IndexError) as exc:
        raise file_error(table, path, None, f"the file cannot be read: {exc}",
                         "a readable CSV, Excel or Parquet file",
                         "Open the file in a spreadsheet, check it is not corrupt or password-"
                         "protected, and save it again; for an Excel sheet set "
                         f"tables.{table}.sheet and tables.{table}.header_row.") from None
    raw = raw.reset_index(drop=True)
    raw.columns = [str(c).strip().lstrip("\ufeff") for c in raw.columns]
    blank_rows = _blank_rows(raw)
    raw[LINE] = np.arange(len(raw)) + tp.header_row + 1
    return raw.loc[~blank_rows]


def _blank_rows(raw: pd.DataFrame) -> np.ndarray:
    """True for a row whose every cell is blank ('', 'nan', 'None' once trimmed; a frame
    without columns: every row). Column by column, stopping once no row is left blank
    (most files: after the first column)."""
    blank = np.ones(len(raw), dtype=bool)
    for position in range(len(raw.columns)):
        if not blank.any():
            break
        cells = trimmed(raw.iloc[:, position])
        blank &= cells.isin(["", "nan", "None"]).to_numpy(dtype=bool)
    return blank


_BOM = b"\xef\xbb\xbf"
#: Bytes :func:`_plain_bytes` reads at a time (16 MiB).
PLAIN_BLOCK = 1 << 24


def _plain_bytes(path: Path, sep: str) -> bool:
    """True when the file holds no quote, no NUL, no carriage return but before a line
    feed, no empty line and no cell starting with a space or a tab (pandas skips those:
    ``skipinitialspace``). Read in 16 MiB blocks, each with the last byte of the one
    before. Every byte a rule is about is a control byte or a space (at most 32): only
    those (one pass of numpy finds them: the line feeds, the spaces inside cells, a few
    more) are looked at, with the byte before them."""
    delimiter = sep.encode()[0]
    tail = b"\n"  # the file's start is a line's start
    with path.open("rb") as fh:
        first = True
        while block := fh.read(PLAIN_BLOCK):
            if first:
                block, first = block.removeprefix(_BOM), False
            if not block:
                continue
            if b'"' in block or b"\x00" in block:
                return False
            window = np.frombuffer(block, dtype=np.uint8)
            low = np.flatnonzero(window <= 32)
            byte = window[low]
            before = np.empty(len(low), dtype=np.uint8)
            inside = low > 0
            before[inside] = window[low[inside] - 1]
            before[~inside] = tail[0]
            space = (byte == 32) | (byte == 9)
            if (((before == 10) & (space | (byte == 10) | (byte == 13))).any()
                    or ((before == delimiter) & space).any()):
                return False
            if b"\r" in block:
                cr = low[byte == 13]
                if (tail == b"\r" and window[0] != 10) or (
                        cr[cr + 1 < len(window)].size
                        and (window[cr[cr + 1 < len(window)] + 1] != 10).any()):
                    return False
            elif tail == b"\r" and window[0] != 10:
                return False
            tail = block[-1:]
    return tail != b"\r"


def read_plain_csv(path: Path, encoding: str, sep: str, skip: int) -> pd.DataFrame | None:
    """A plain CSV file's cells as text, read by Arrow's CSV reader (in parallel, its
    strings never Python objects), or None when the file is not plain or Arrow cannot read
    it; then pandas reads it, as before.

    Plain: UTF-8, the header on the first line, a one-character delimiter, no quote
    character anywhere, no NUL, no empty line, no cell starting with a space or a tab, line
    ends ``\\n`` or ``\\r\\n``, unique and non-empty header names, at least one row, every
    row as wide as the header. On such a file pandas' reader (``dtype=str``,
    ``keep_default_na=False``, ``skipinitialspace=True``) gives the same cells: each line
    split at the delimiter (``tests/test_plain_csv.py`` compares both).
    """
    if (skip or encoding.lower().replace("_", "-") not in ("utf-8", "utf-8-sig")
            or len(sep) != 1 or sep in " \t\r\n\"" or not _plain_bytes(path, sep)):
        return None
    with path.open("rb") as fh:
        line = fh.readline(MAX_HEADER_CHARS * 4)
    try:
        names = line.removeprefix(_BOM).rstrip(b"\n").removesuffix(b"\r").decode(
            "utf-8").split(sep)
    except UnicodeDecodeError:
        return None
    if len(set(names)) != len(names) or "" in names:
        return None
    keys = [str(i) for i in range(len(names))]
    try:
        table = pa_csv.read_csv(
            path, read_options=pa_csv.ReadOptions(skip_rows=1, column_names=keys),
            parse_options=pa_csv.ParseOptions(delimiter=sep, quote_char=False,
                                              ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(keys, pa.large_string()), strings_can_be_null=False))
    except (pa.ArrowException, OSError):
        return None
    if table.num_rows == 0:
        return None
    frame = table.to_pandas(types_mapper={pa.large_string(): pd.StringDtype(
        "pyarrow", na_value=np.nan)}.get)
    frame.columns = names
    return frame


def _read_workbook(table: str, path: Path, tp: TableParams, skip: int) -> pd.DataFrame:
    """One sheet of an Excel file as pandas reads it; a broken workbook (not a zip, broken
    XML: the reader may raise anything) is a DataError."""
    try:
        return pd.read_excel(path, sheet_name=tp.sheet if tp.sheet is not None else 0,
                             header=skip, dtype=object)
    except (ValueError, KeyError, IndexError, ImportError, OSError):
        raise  # read_raw words these (a missing sheet, an unreadable file, .xls)
    except Exception as exc:  # noqa: BLE001 - a broken workbook
        raise file_error(table, path, None, "the file cannot be read as an Excel workbook "
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
    return file_error(table, path, None, f"line {line} has {saw} cells where the header "
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


def file_header(path: Path) -> list[str]:
    """The header cells of a CSV or Parquet file, a CSV file's first line taken as the
    header and its encoding and delimiter detected (empty for another kind of file, or when
    the file cannot be read).

    Raises
    ------
    DataError
        When the header is over a limit (:func:`check_header`): it is not read at all.
    """
    try:
        if path.suffix.lower() in (".csv", ".txt", ".tsv"):
            return check_header("files", path, *text_format(path), 1)
        if path.suffix.lower() == ".parquet":
            return parquet_columns("files", path)
    except DataError:
        raise
    except Exception:  # noqa: BLE001 - a file we do not read must not stop the run
        return []
    return []
