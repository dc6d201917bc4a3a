"""Cell values read against the data contract: text, numbers, dates, true/false and codes,
then each table typed and its unusable rows rejected (:func:`typed_table`).

Policy for bad values
---------------------
* A row whose *required* value cannot be used (unparseable date, negative money) is
  rejected and logged. If more than ``data.max_rejected_share`` of a table's rows are
  rejected, the run stops instead: at that point the input is wrong, not noisy.
* An unusable *optional* value becomes missing and is logged.
* A column that cannot be meant as mapped (true/false values in an amount, dates mixing
  day-first and month-first order, amounts whose decimal mark nothing tells) stops the run
  with a :class:`~playbook.errors.DataError` naming the params key to set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from playbook import textfmt as tf
from playbook.arrow_text import (
    TEXT,
    any_arrow_strings,
    arrow_strings,
    masked,
    present,
    string_buffers,
    trimmed,
)
from playbook.billing import LINE
from playbook.columns import needed_columns
from playbook.config_tables import TableParams
from playbook.contract import TABLES, ColumnSpec, TableSpec
from playbook.errors import DataError, DataIssue
from playbook.quality import QualityLog
from playbook.reading import relative_name

TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}
#: Cells that mean "no value" (case ignored), besides empty ones and spaces.
BLANK_WORDS = ("nan", "nat", "none", "null")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
#: Currency signs, codes and spaces an amount may carry (ignored when it is read).
MONEY_MARKS = r"[\s$€£¥\u00a0]|USD|EUR|GBP"


def blank_mask(series: pd.Series) -> pd.Series:
    """True where a cell is blank: missing, empty, spaces only, or one of
    :data:`BLANK_WORDS`.

    A column of numbers, dates or true/false values has no text: only its missing cells
    are blank (their text, 'nan' or 'NaT', is a blank word; no other value's is), found
    without writing each value as text (2 million dates took 0.5 CPU s)."""
    if _typed(series.dtype):
        return series.isna()
    return _blank(series, trimmed(series))


def _typed(dtype: object) -> bool:
    """True for a dtype of numbers, dates, durations or true/false values (numpy's or
    pandas' nullable ones), whose values are never text."""
    return (pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype)
            or pd.api.types.is_timedelta64_dtype(dtype))



#: The longest of :data:`BLANK_WORDS`: a longer cell is none of them (lowering text never
#: makes it shorter), so only shorter cells are lowered and looked up.
_WORD_CHARS = max(len(w) for w in BLANK_WORDS)


def _blank(series: pd.Series, text: pd.Series) -> pd.Series:
    """:func:`blank_mask` of ``series`` given ``text``, its cells as text trimmed."""
    cells = arrow_strings(text)
    if cells is not None:  # (by Arrow: no pandas string method, no copy of the column)
        empty = np.asarray(pc.fill_null(pc.equal(cells, ""), False).to_numpy(
            zero_copy_only=False), dtype=bool)
        blank = series.isna().to_numpy(dtype=bool) | empty | _blank_words(cells)
        return pd.Series(blank, index=series.index, name=series.name)
    short = text.str.len().le(_WORD_CHARS).fillna(False).to_numpy(dtype=bool)
    words = np.zeros(len(text), dtype=bool)
    if short.any():
        words[short] = text[short].str.lower().isin(BLANK_WORDS).to_numpy(dtype=bool)
    return (series.isna() | text.eq("")
            | pd.Series(words, index=series.index, name=series.name))


# ----------------------------------------------------------------- cells read as bytes
# Checks of a text column's shape by its UTF-8 bytes (numpy over Arrow's buffers: no
# Python strings, no regular expression, no copy of the column); each equals a pattern it
# replaces (tests/test_load_cpu_references.py keeps the patterns as the references).


def _digit(byte: np.ndarray) -> np.ndarray:
    """True where a byte is an ASCII digit 0-9."""
    return (byte - np.uint8(48)) < np.uint8(10)


def _iso_shaped(cells: pyarrow.ChunkedArray) -> np.ndarray:
    """True where a cell matches :data:`_PLAIN_ISO` (``^\\d{4}-\\d{2}-\\d{2}$``, ``\\d``
    ASCII digits as in Arrow's RE2): exactly ten bytes, digits but the dashes at the
    fifth and eighth; False for a null cell."""
    out = []
    for chunk in cells.chunks:
        offsets, data = string_buffers(chunk)
        shaped = (np.diff(offsets) == 10) & present(chunk)
        if shaped.all() and len(chunk):  # (ten bytes each, one after the other: a view)
            chars = data[offsets[0]:offsets[-1]].reshape(len(chunk), 10)
            nth = [chars[:, k] for k in range(10)]
        else:
            starts = offsets[:-1][shaped]
            nth = [data[starts + k] for k in range(10)]
        ok = np.ones(int(shaped.sum()), dtype=bool)
        for k, byte in enumerate(nth):
            ok &= (byte == 45) if k in (4, 7) else _digit(byte)
        shaped[shaped] = ok
        out.append(shaped)
    return np.concatenate(out) if out else np.zeros(0, dtype=bool)


def _blank_words(cells: pyarrow.ChunkedArray) -> np.ndarray:
    """True where a cell (trimmed) is one of :data:`BLANK_WORDS`, case ignored. Only cells
    that could be one are lowered and looked up, by Arrow: each word starts with 'n' and
    has 3 or 4 letters, so a cell starting with a byte other than 'n', 'N' or one outside
    ASCII (a character that might lower to 'n') is none, nor is a cell of more than 16
    bytes (4 characters of at most 4 bytes), nor of other than 3 or 4 bytes when the chunk
    is ASCII."""
    first = []
    for chunk in cells.chunks:
        offsets, data = string_buffers(chunk)
        size = np.diff(offsets)
        ascii_only = not len(data) or data[offsets[0]:offsets[-1]].max(initial=0) < 128
        filled = ((size >= 3) & (size <= (4 if ascii_only else 16))) & present(chunk)
        byte = np.zeros(len(chunk), dtype=np.uint8)
        byte[filled] = data[offsets[:-1][filled]]
        first.append(filled & (((byte | np.uint8(32)) == 110) | (byte >= 128)))
    where = np.concatenate(first) if first else np.zeros(0, dtype=bool)
    words = np.zeros(len(cells), dtype=bool)
    if where.any():
        found = pc.is_in(pc.utf8_lower(pc.filter(cells, pyarrow.array(where))),
                         value_set=pyarrow.array(BLANK_WORDS, type=cells.type))
        words[where] = np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
    return words


def parse_text(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(text trimmed, blank cells missing; a mask of unusable values: none is).

    Arrow text with nothing to trim and no blank cell (an ID column, most of an export's
    text) is returned as it is: trimming and masking each copied the column (at 1,000,000
    accounts 1 GB each for one of the touches' ID columns, the loader's peak)."""
    out = trimmed(series)
    blank = _blank(series, out)
    if blank.any():
        out = masked(out, blank.to_numpy(dtype=bool))
    return out.astype("str"), pd.Series(False, index=series.index)


def parse_number(series: pd.Series, tp: TableParams) -> tuple[pd.Series, pd.Series]:
    """Parse numbers written with the table's decimal mark; currency signs and spaces ignored."""
    if pd.api.types.is_numeric_dtype(series):
        out = pd.to_numeric(series, errors="coerce").astype(float)
        return out, pd.Series(False, index=series.index)
    text = trimmed(series)
    thousands = tp.thousands if tp.thousands is not None else ("." if tp.decimal == "," else ",")
    # Most cells are plain numbers ('6777', '-12.5'): read them at once; only the others go
    # through the regular expressions below (slow on millions of cells), with the same result
    plain = text.str.fullmatch(r"-?\d+(?:\.\d+)?" if tp.decimal == "." and thousands != "."
                               else r"-?\d+").fillna(False).to_numpy(dtype=bool)
    # an empty cell (spaces only) is blank: missing, not unusable, as the marked path says
    empty = text.eq("").fillna(False).to_numpy(dtype=bool) & ~plain
    if not plain.any() and not empty.any():
        return _parse_marked_number(series, text, tp, thousands)
    values = np.full(len(text), np.nan)
    bad = np.zeros(len(text), dtype=bool)
    fast = _plain_numbers(text[plain])
    values[plain] = np.where(np.isfinite(fast), fast, np.nan)
    bad[plain] = np.isnan(values[plain])
    rest = ~plain & ~empty
    if rest.any():
        marked, marked_bad = _parse_marked_number(series[rest], text[rest], tp, thousands)
        values[rest] = marked.to_numpy(dtype=float)
        bad[rest] = marked_bad.to_numpy(dtype=bool)
    return (pd.Series(values, index=series.index, name=series.name),
            pd.Series(bad, index=series.index, name=series.name))


def _plain_numbers(text: pd.Series) -> np.ndarray:
    """Floats of cells that are plain numbers ('6777', '-12.5'): Arrow's cast of its
    strings (correctly rounded, as pandas' reading; a tenth of the time), or
    ``pd.to_numeric`` when the cells are not Arrow strings or Arrow refuses one (a digit
    outside ASCII, a number beyond the float range)."""
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        try:
            return pc.cast(text.array.__arrow_array__(), pyarrow.float64()).to_numpy(
                zero_copy_only=False)
        except (pyarrow.ArrowInvalid, pyarrow.ArrowNotImplementedError):
            pass
    return pd.to_numeric(text, errors="coerce").astype(float).to_numpy()


def _parse_marked_number(series: pd.Series, text: pd.Series, tp: TableParams,
                         thousands: str) -> tuple[pd.Series, pd.Series]:
    """:func:`parse_number` of cells that may carry currency marks, separators, brackets."""
    text = text.str.replace(MONEY_MARKS, "", regex=True)
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
    blank = blank_mask(series)
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


#: A plain ISO date ('2024-01-31'): read by Arrow (:func:`_iso_dates`).
_PLAIN_ISO = r"^\d{4}-\d{2}-\d{2}$"


def _plain_iso(text: pd.Series) -> np.ndarray:
    """True where a cell of Arrow strings is a plain ISO date (:data:`_PLAIN_ISO`); all
    False for other cells (then nothing is taken for granted)."""
    cells = any_arrow_strings(text)
    return _iso_shaped(cells) if cells is not None else np.zeros(len(text), dtype=bool)


def _iso_dates(text: pd.Series) -> pd.Series:
    """``_to_dates(text, format="ISO8601")``, a fifth of the time on Arrow strings: the
    cells that are plain ISO dates ('2024-01-31', most of a column) cast by Arrow to
    microseconds (it checks the calendar as pandas does: '2023-02-29' is no date), the other
    cells by pandas; all by pandas when Arrow refuses one of the plain cells (then pandas
    reads it as missing), the cells are not Arrow strings or there is none."""
    if not (len(text) and isinstance(text.dtype, pd.StringDtype)
            and text.dtype.storage == "pyarrow"):
        return _to_dates(text, format="ISO8601")
    cells = text.array.__arrow_array__()
    where = _iso_shaped(cells)
    every = bool(where.all())  # (the usual column: cast as it is, no filtered copy of it)
    try:
        read = pc.cast(cells if every else pc.filter(cells, pyarrow.array(where)),
                       pyarrow.timestamp("us"))
    except pyarrow.ArrowInvalid:
        return _to_dates(text, format="ISO8601")
    if every:
        values = read.to_numpy(zero_copy_only=False)
    else:
        values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[us]")
        values[where] = read.to_numpy(zero_copy_only=False)
    out = pd.Series(values, index=text.index, name=text.name, dtype="datetime64[us]")
    rest = ~where & text.notna().to_numpy(dtype=bool)
    if rest.any():
        out[rest] = _to_dates(text[rest], format="ISO8601")
    return out


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
    if pd.api.types.is_datetime64_any_dtype(series):
        blank = blank_mask(series)
        zoned = (series.notna() if isinstance(series.dtype, pd.DatetimeTZDtype)
                 else pd.Series(False, index=series.index))
        out = _to_dates(series)
        text = None
    else:
        text = trimmed(series)
        blank = _blank(series, text)
        text = masked(text, blank.to_numpy(dtype=bool)) if blank.any() else text
        timed = text.str.contains(":", regex=False).fillna(False).astype(bool)
        zoned = pd.Series(False, index=series.index)
        if timed.any():  # (the pattern runs in Python: only on cells with a time)
            zoned[timed] = text[timed].str.contains(_ZONE).fillna(False).astype(bool)
        if tp.date_format:
            out = _to_dates(text, format=tp.date_format)
        else:
            out = _iso_dates(text)
            rest = out.isna() & ~blank
            if rest.any():
                out[rest] = _to_dates(text[rest], format="mixed", dayfirst=tp.dayfirst)
            rest = out.isna() & ~blank
            if rest.any():
                serial = pd.to_numeric(text[rest], errors="coerce")
                ok = serial.between(20000, 80000)
                out[serial[ok].index] = EXCEL_EPOCH + pd.to_timedelta(serial[ok], unit="D")
    # (a day before DATE_MIN or after DATE_MAX is a time before DATE_MIN or from the day
    # after DATE_MAX on; the calendar of the few dates outside is read only for them)
    outside = out.notna() & ((out < DATE_MIN) | (out >= DATE_MAX + pd.Timedelta(days=1)))
    where = outside.to_numpy(dtype=bool)
    marks = np.zeros(len(out), dtype=bool)
    if where.any():
        far = out[where]
        new_year = (((far.dt.month == 1) & (far.dt.day == 1))
                    | ((far.dt.month == 12) & (far.dt.day == 31)))
        marks[where] = (new_year | far.dt.normalize().eq(EXCEL_EPOCH)).to_numpy(dtype=bool)
    placeholder = pd.Series(marks, index=out.index, name=outside.name)
    if text is not None:  # (the pattern runs only on the cells present and not read)
        unread = (out.isna() & ~blank).to_numpy(dtype=bool)
        if unread.any():
            zero = np.zeros(len(out), dtype=bool)
            zero[unread] = text[unread].str.fullmatch(_ZERO_DATE).fillna(False).to_numpy(
                dtype=bool)
            placeholder |= pd.Series(zero, index=out.index)
    implausible = outside & ~placeholder
    values = out.where(~outside).astype("datetime64[ns]")
    bad = values.isna() & ~blank & ~placeholder & ~implausible
    return DateParse(values, bad, implausible, placeholder, zoned & values.notna())


def month_start(dates: pd.Series) -> pd.Series:
    """The first day of each date's month at midnight, datetime64[ns] (missing stays
    missing): ``dates.dt.to_period("M").dt.to_timestamp()`` by numpy's month unit."""
    months = dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[M]")
    return pd.Series(months.astype("datetime64[ns]"), index=dates.index, name=dates.name)


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
    text = series.astype(str)
    # (extracting groups runs in Python; ISO dates, most of a column, start with 4 digits
    # and cannot match: only cells with a separator in their first 3 characters are read;
    # plain ISO dates, found by one Arrow pattern, are not looked at further)
    rest = ~_plain_iso(text)
    maybe = np.zeros(len(text), dtype=bool)
    if rest.any():
        maybe[rest] = (text[rest].str.lstrip().str.slice(0, 3)
                       .str.contains(r"[-/.]", regex=True).fillna(False).to_numpy(dtype=bool))
    parts = text[maybe].str.extract(_DMY)
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
    """(true/false by :data:`TRUE_WORDS` and :data:`FALSE_WORDS`, a mask of values present
    but neither)."""
    text = trimmed(series).str.lower()
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(TRUE_WORDS)] = True
    out[text.isin(FALSE_WORDS)] = False
    return out, out.isna() & ~blank_mask(series)


def parse_code(series: pd.Series, col: ColumnSpec, mapping: dict[str, str]
               ) -> tuple[pd.Series, pd.Series]:
    """Map client codes onto canonical ones (params ``codes``), case-insensitively."""
    lookup = {str(k).strip().lower(): v for k, v in mapping.items()}
    lookup.update({c: c for c in col.codes})
    blank = blank_mask(series)
    out = _mapped_codes(series, lookup)
    if blank.any():
        out = masked(out, blank.to_numpy(dtype=bool))
    out = out.astype("str")
    return out, out.isna() & ~blank


def _mapped_codes(series: pd.Series, lookup: dict[str, str]) -> pd.Series:
    """Each cell trimmed, lowered and looked up in ``lookup`` (missing where not found).
    Arrow text is looked up once per distinct cell (a code column holds a handful among
    millions of cells), each cell then taking its value by position: no lowered copy of
    the column (at 1,000,000 accounts the touches' type column took 1 GB each for the
    lowered text, the looked-up codes cast to pandas' strings and the blanks masked)."""
    cells = arrow_strings(series)
    if cells is None or not all(isinstance(v, str) for v in lookup.values()):
        return _mapped_text(trimmed(series).str.lower(), lookup)
    distinct = pc.drop_null(pc.unique(cells))
    keys = pd.Series(distinct, dtype=TEXT)  # (the same trimming and lowering, by Arrow)
    found = _mapped_text(keys.str.strip().str.lower(), lookup)
    codes = pyarrow.array(found.to_numpy(dtype=object, na_value=None),
                          type=pyarrow.large_string())
    out = codes.take(pc.index_in(cells, value_set=distinct)).to_pandas(
        types_mapper={pyarrow.large_string(): TEXT}.get)
    out.index, out.name = series.index, series.name
    return out


def _mapped_text(text: pd.Series, lookup: dict[str, str]) -> pd.Series:
    """``text.map(lookup)``: Arrow strings looked up in Arrow's hash table when every key
    and value is text (pandas' map goes through an index of the keys, 5% of loading 100,000
    accounts), else by ``Series.map``. Missing where the key is not found."""
    arrow = (isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow"
             and lookup and all(isinstance(v, str) for v in (*lookup, *lookup.values())))
    if not arrow:
        return text.map(lookup)
    keys = pyarrow.array(list(lookup), type=pyarrow.string())
    values = pyarrow.array(list(lookup.values()), type=pyarrow.string())
    found = values.take(pc.index_in(text.array.__arrow_array__(), value_set=keys))
    out = found.to_pandas(types_mapper={pyarrow.string(): pd.StringDtype(
        "pyarrow", na_value=np.nan)}.get)
    out.index, out.name = text.index, text.name
    return out


def parse_column(frame: pd.DataFrame, col: ColumnSpec, tp: TableParams
                 ) -> tuple[pd.Series, pd.Series]:
    """Return (parsed values, mask of values present but unusable)."""
    s = frame[col.name]
    if col.kind in ("id", "text"):
        return parse_text(s)
    if col.kind in ("date", "month"):
        out, bad = parse_dates(s, tp)
        return (month_start(out) if col.kind == "month" else out), bad
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
        values = month_start(dates.values) if col.kind == "month" else dates.values
        odd = dates.implausible
        first = f" (e.g. '{s[odd].iloc[0]}')" if odd.any() else ""
        return values, [
            (dates.bad, f"{tf.plural(int(dates.bad.sum()), 'value')} cannot be read as {col.kind}",
             _expected(col, tp), _fix(table, col)),
            (odd, f"{tf.plural(int(odd.sum()), 'value')} "
                  f"{tf.noun(int(odd.sum()), 'is a date', 'are dates')} "
             "outside the plausible range "
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
    return values, [(bad, f"{tf.plural(int(bad.sum()), 'value')} cannot be read as {col.kind}",
                     _expected(col, tp), _fix(table, col))]


def _log_date_conversions(table: str, header: str, raw: pd.Series, lines: pd.Series,
                          dates: DateParse, log: QualityLog) -> None:
    """Log placeholder dates read as blank and time zones converted to UTC (info)."""
    if dates.placeholder.any():
        n = int(dates.placeholder.sum())
        shown = ", ".join(f"'{v}'" for v in raw[dates.placeholder].astype(str).unique()[:3])
        log.add(table, "info", f"{header}: {tf.plural(n, 'placeholder date')} (e.g. {shown}) "
                               "read as "
                "blank: no real date", count=n, examples=lines[dates.placeholder].tolist())
    if dates.zoned.any():
        n = int(dates.zoned.sum())
        first = dates.zoned.idxmax()
        log.add(table, "info", f"{header}: {tf.plural(n, 'value')} "
                               f"{tf.noun(n, 'carries', 'carry')} a time zone (e.g. "
                f"'{raw[first]}'); converted to UTC ({tf.date_time(dates.values[first])}) "
                "and the zone dropped", count=n, examples=lines[dates.zoned].tolist())


def _holds_booleans(series: pd.Series) -> bool:
    """True when every value present is true/false typed as such (Parquet or Excel
    booleans): pandas would read them as 1.0 and 0.0."""
    if pd.api.types.is_bool_dtype(series):
        return True
    if series.dtype != object:
        return False
    present = series[~blank_mask(series)]
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
    text = trimmed(series)
    # whole numbers ('6777'), most cells, have no mark: neither ambiguous nor telling; the
    # patterns below (slow on millions of cells) read only the other cells
    marked = ~text.str.fullmatch(r"-?\d+").fillna(False).to_numpy(dtype=bool)
    text = text[marked]
    # cells of digits, signs, points and commas only ('12.50', '1,000': most of the rest)
    # hold nothing MONEY_MARKS removes; the pattern (in Python) reads only the others
    marks = ~text.str.fullmatch(r"[-\d.,]*").fillna(False).to_numpy(dtype=bool)
    if marks.any():
        where = np.flatnonzero(marks)
        text = text.copy()
        text.iloc[where] = text.iloc[where].str.replace(MONEY_MARKS, "", regex=True).to_numpy()
    dec, grouping = re.escape(tp.decimal), re.escape("," if tp.decimal == "." else ".")
    found = text.str.fullmatch(rf"[-+(]?[1-9]\d{{0,2}}{dec}\d{{3}}\)?").fillna(False)
    if not found.any():
        return
    ambiguous = np.zeros(len(series), dtype=bool)
    ambiguous[marked] = found.to_numpy(dtype=bool)
    n = int(ambiguous.sum())
    example = str(series[ambiguous].iloc[0]).strip()
    as_decimal = float(parse_number(series[ambiguous].head(1), tp)[0].iloc[0])
    as_thousands = int(re.sub(r"\D", "", text[found.to_numpy(dtype=bool)].iloc[0]))
    telling = text.str.contains(rf"\d{grouping}\d{{3}}(?!\d)|{dec}\d{{1,2}}\)?$|{dec}\d{{4,}}",
                                regex=True).fillna(False).to_numpy(dtype=bool)
    shows = np.zeros(len(series), dtype=bool)
    shows[marked] = telling
    shows &= ~ambiguous
    if shows.any():
        log.add(table, "warning", f"{header}: {tf.plural(n, 'value')} such as '{example}' read as "
                f"{as_decimal:g} with '{tp.decimal}' as the decimal mark, as other values of "
                f"the column show (e.g. '{str(series[shows].iloc[0]).strip()}'); if they "
                f"mean {as_thousands:,} (a thousands separator), set tables.{table}.decimal "
                f"and tables.{table}.thousands", count=n, examples=lines[ambiguous].tolist(),
                affects=list(TABLES[table].used_by))
        return
    other = "," if tp.decimal == "." else "."
    fatal.append(DataIssue(
        table, rel, header, f"{tf.plural(n, 'value')} such as '{example}' "
                            f"{tf.noun(n, 'is', 'are')} ambiguous: "
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
    """Index labels per column whose values break the contract's range checks (money and
    counts >= 0, a column's ``min`` and ``max``; a missing value breaks none), by column
    name: numpy comparisons of numeric columns, the pandera schema
    (:func:`_value_checks`) when a checked column is not numeric."""
    found: dict[str, pd.Index] = {}
    for col in spec.columns:
        ranged = col.kind in ("money", "count") or col.min is not None or col.max is not None
        if not ranged or col.name not in frame:
            continue
        if not pd.api.types.is_numeric_dtype(frame[col.name]) or pd.api.types.is_bool_dtype(
                frame[col.name]):
            return _schema_range_failures(frame, spec)
        values = frame[col.name].to_numpy(dtype=float, na_value=np.nan)
        low = max(0.0 if col.kind in ("money", "count") else -np.inf,
                  -np.inf if col.min is None else col.min)
        high = np.inf if col.max is None else col.max
        broken = (values < low) | (values > high)  # (False where missing)
        if broken.any():
            found[col.name] = frame.index[broken]
    return dict(sorted(found.items()))


def _schema_range_failures(frame: pd.DataFrame, spec: TableSpec) -> dict[str, pd.Index]:
    """:func:`_range_failures` by the pandera schema."""
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
    needed = needed_columns(spec, tp)
    rel = relative_name(path)
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
                        f"{tf.plural(int(missing.sum()), 'row')} with a blank required value "
                        "rejected",
                        count=int(missing.sum()), examples=frame.loc[missing, LINE].tolist(),
                        affects=list(spec.used_by))
                issues.append(DataIssue(table, rel, tp.columns.get(col.name, col.name),
                                        f"{tf.plural(int(missing.sum()), 'blank required value')}",
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
        message = (f"{tp.columns.get(name, name)}: {tf.plural(int(bad.sum()), 'value')} out of "
                   "range "
                   f"(expected {_expected(col, tp)})")
        if name in needed:
            reject |= bad
            issues.append(DataIssue(table, rel, tp.columns.get(name, name),
                                    f"{tf.plural(int(bad.sum()), 'value')} out of range",
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
    log.add(table, "problem", f"{header}: {tf.plural(int(absurd.sum()), 'amount')} above "
                              f"{ABSURD_FACTOR:,} "
            f"times the median ({median:,.0f}), e.g. {shown}; kept, but check for a unit or "
            "decimal-mark error", count=int(absurd.sum()),
            examples=lines[absurd].tolist(), affects=list(spec.used_by), tables=[table],
            caveat=f"{int(absurd.sum())} {header} {tf.noun(int(absurd.sum()), 'amount')} over "
            f"{ABSURD_FACTOR:,} times the "
            "median")
