"""Reading the client's files as text tables: one :class:`Source` per CSV, TSV or Parquet
file and per Excel sheet, every cell as text, the header line found below any title lines.

Only reads: the client's folder is never written. Limits and the delimiter and encoding
come from the loader (its file checks and :mod:`playbook.sniff`), so a file is read as
the report will read it.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from playbook.reading import check_header, check_sheet_size, parquet_columns
from playbook.scaffold.values import DateGuess, detect_dates, nonblank, parse_dates_loosely
from playbook.sniff import detect_delimiter, detect_encoding

TABLE_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet")
MAX_ROWS = 200_000  # rows read per file: enough to judge values, quick on big exports
SAMPLE_ROWS = 3_000  # rows whose values are checked against a column's kind


@dataclass
class Source:
    """One table-shaped thing in the client's folder: a CSV/Parquet file or an Excel sheet."""

    path: Path
    frame: pd.DataFrame  # every cell as text, header applied
    sheet: str | None = None
    sheets: int = 1
    header_row: int = 1
    delimiter: str | None = None
    encoding: str | None = None
    rows: int = 0
    truncated: bool = False
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def sample(self) -> pd.DataFrame:
        """Up to SAMPLE_ROWS rows drawn evenly (fixed seed): what value checks look at."""
        if "sample" not in self.cache:
            f = self.frame
            self.cache["sample"] = (f.sample(n=SAMPLE_ROWS, random_state=0)
                                    if len(f) > SAMPLE_ROWS else f)
        return self.cache["sample"]

    def dates(self, header: str) -> DateGuess:
        """How ``header`` writes its dates, judged on the sample; cached."""
        key = ("dates", header)
        if key not in self.cache:
            self.cache[key] = detect_dates(self.sample()[header])
        return self.cache[key]

    @property
    def label(self) -> str:
        """The file name, with the sheet in brackets for an Excel sheet."""
        return self.path.name + (f" [{self.sheet}]" if self.sheet is not None else "")

    @property
    def headers(self) -> list[str]:
        """The column headers, as read (duplicates numbered: 'Name', 'Name.1')."""
        return list(self.frame.columns)


def column_dates(source: Source, header: str) -> pd.Series:
    """Every row's date in ``header`` (NaT where blank or unreadable), read as the
    column's detected style (day-first when it is); cached on the source."""
    key = ("parsed", header)
    if key not in source.cache:
        guess = source.dates(header)
        values = source.frame[header].astype(str).str.strip()
        if guess.date_format:
            out = pd.to_datetime(values, format=guess.date_format, errors="coerce")
        else:
            out = parse_dates_loosely(values, dayfirst=guess.style == "dayfirst")
        source.cache[key] = pd.Series(out, index=source.frame.index).dt.normalize()
    return source.cache[key]


def _looks_like_header(cells: list[str], width: int) -> bool:
    """Whether a row of ``cells`` is a header: most of the ``width`` cells filled, few
    of them numbers or dates."""
    filled = [c for c in cells if str(c).strip()]
    if len(filled) < max(2, 0.8 * width):
        return False
    valueish = sum(bool(re.match(r"^[-+]?[\d.,/: -]+$", str(c).strip())) for c in filled)
    return valueish <= 0.2 * len(filled)


def _header_line(rows: list[list[str]]) -> int:
    """1-based line of the header among the first rows (title lines above it skipped)."""
    if not rows:
        return 1
    width = Counter(sum(1 for c in r if str(c).strip()) for r in rows[1:] or rows)
    modal = max(width.items(), key=lambda kv: (kv[1], kv[0]))[0] if width else 0
    for number, row in enumerate(rows[:30], start=1):
        if _looks_like_header(row, max(modal, 2)):
            return number
    return 1


def _text_cell(value: object) -> str:
    """A cell of a workbook or Parquet file as the text a CSV export would hold: dates
    ISO (with the time when there is one), whole floats without '.0', blanks empty."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            return ""
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _frame_from_rows(raw: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The text table of an Excel sheet read without a header, and the 1-based line of
    its header among the sheet's non-empty rows; blank unnamed columns dropped."""
    rows = [[_text_cell(v) for v in r] for r in raw.head(30).itertuples(index=False)]
    line = _header_line(rows)
    header = [str(c).strip() for c in rows[line - 1]] if rows else []
    body = raw.iloc[line:].map(_text_cell) if len(raw) > line else raw.iloc[0:0]
    names, seen = [], Counter()
    for i, h in enumerate(header):
        h = h or f"Unnamed: {i}"
        seen[h] += 1
        names.append(h if seen[h] == 1 else f"{h}.{seen[h] - 1}")
    body.columns = names
    keep = [c for c in body.columns if not (c.startswith("Unnamed: ")
                                            and nonblank(body[c]).empty)]
    return body[keep].reset_index(drop=True), line


def read_sources(path: Path) -> list[Source]:
    """Read a file of the client's folder as text tables (one per Excel sheet)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        encoding = detect_encoding(path)
        with path.open(encoding=encoding, errors="replace", newline="") as fh:
            sample = fh.read(64 * 1024)
        sep = detect_delimiter(path, encoding)
        rows = list(csv.reader(sample.splitlines()[:30], delimiter=sep))
        line = _header_line(rows)
        check_header("scaffold", path, encoding, sep, line)  # the loader's limits
        frame = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False,
                            skiprows=line - 1, encoding=encoding, skipinitialspace=True,
                            nrows=MAX_ROWS, on_bad_lines="skip", engine="c")
        frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
        frame = frame.loc[~frame.apply(lambda c: c.str.strip().eq("")).all(axis=1)]
        return [Source(path, frame.reset_index(drop=True), header_row=line, delimiter=sep,
                       encoding=encoding, rows=len(frame), truncated=len(frame) >= MAX_ROWS)]
    if suffix in (".xlsx", ".xlsm", ".xls"):
        check_sheet_size("scaffold", path, None)
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, nrows=MAX_ROWS)
        out = []
        for name, raw in book.items():
            raw = raw.dropna(how="all")
            if raw.empty:
                continue
            frame, line = _frame_from_rows(raw.reset_index(drop=True))
            out.append(Source(path, frame, sheet=str(name), sheets=len(book),
                              header_row=int(raw.index[line - 1]) + 1, rows=len(frame)))
        return out
    if suffix == ".parquet":
        parquet_columns("scaffold", path)
        raw = pd.read_parquet(path)
        frame = raw.head(MAX_ROWS).map(_text_cell)
        frame.columns = [str(c) for c in frame.columns]
        return [Source(path, frame, rows=len(raw), truncated=len(raw) > MAX_ROWS)]
    return []
