"""Usage events (one row per event) aggregated to the canonical account-month usage table.

A client may send product usage as an event log instead of monthly figures::

    usage:
      file: usage_events.parquet
      layout: events
      columns:
        account_id: "Account ID"
        month: "Event Time"          # the event's date or timestamp
        user_id: "User ID"           # optional: who did it
        licensed_seats: "Seats"      # optional: seats on the plan at the time
        event_count: "Events"        # optional: the row counts that many events

Each account and month becomes one row: ``active_users`` is the number of distinct users
(the number of events when there is no user column; blank when the rows are counts of
events and there is no user column), ``key_actions`` the number of events (the sum of
``event_count`` when it is mapped: an export already aggregated by account, month and event
type, such as ``account, month, event_type, events``; a blank, negative or unreadable count
counts none) and ``licensed_seats`` the largest value seen. Events without a usable account
or date are not counted (logged; too many stop the run like any rejected rows).

Event logs are large (tens of millions of rows), so a Parquet file with a native date or
timestamp column, and a plain CSV file (UTF-8, comma-delimited, ISO dates, plain numbers,
one line per row: a CSV file is copied in its order to a temporary Parquet file, which
checks its rows, :class:`~playbook.errors.EventsNotAlikeError` otherwise), are aggregated
by DuckDB straight from the file, out of core, without loading them into pandas
(:func:`_with_duckdb`).
Everything else (Excel, other CSV dialects, dates written otherwise, joins and filters)
goes through pandas and the loader's own reader and parsers (:mod:`playbook.reading`,
:mod:`playbook.values`). The engines give identical tables (``tests/test_events.py``).
``$PLAYBOOK_EVENTS_ENGINE=pandas`` forces the pandas path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from playbook import textfmt as tf
from playbook.assembly import assemble
from playbook.billing import LINE
from playbook.columns import header_key
from playbook.config import Params
from playbook.config_tables import TableParams
from playbook.contract import TABLES
from playbook.errors import DataError, DataIssue, EventsNotAlikeError
from playbook.quality import QualityLog
from playbook.reading import (
    client_file,
    file_error,
    file_header,
    parquet_columns,
    read_raw,
    relative_name,
    text_format,
)
from playbook.values import (
    BLANK_WORDS,
    DATE_MAX,
    DATE_MIN,
    parse_dates,
    parse_number,
    parse_text,
)

if TYPE_CHECKING:
    import duckdb

#: Canonical columns an event file may map, besides ``user_id``. ``event_count``: a row
#: holding a count of events (an export aggregated by account, month and event type, such
#: as ``account, month, event_type, events``) counts that many key actions, not one.
EVENT_COLUMNS = ("account_id", "month", "licensed_seats", "event_count")
ENGINE_ENV = "PLAYBOOK_EVENTS_ENGINE"
#: Column of the aggregated table: the event rows of the file counted in the account-month
#: (not its key actions, which sum ``event_count``); the loader counts the rows it keeps
#: with it, then drops it.
ROWS = "_rows"


def event_headers(path: Path, tp: TableParams) -> list[str]:
    """The column names of an event file (without reading its rows)."""
    if path.suffix.lower() == ".parquet":
        return parquet_columns("usage", path)
    return file_header(path)


def resolve_columns(table: str, path: Path, tp: TableParams,
                    headers: list[str] | None = None) -> dict[str, str]:
    """Canonical name -> header of the event file, for the mapped event columns.
    ``headers``: the columns after the table's joins and filters (default: the file's)."""
    headers = event_headers(path, tp) if headers is None else headers
    by_norm = {header_key(h): h for h in headers}
    wrong = sorted(set(tp.columns) - {*EVENT_COLUMNS, "user_id"})
    issues = []
    if wrong:
        issues.append(DataIssue(
            table, relative_name(path), None, f"params maps column(s) {wrong}, which an event file "
            "(layout: events) cannot have", "account_id, month (the event date), and "
            "optionally user_id, licensed_seats and event_count",
            f"Remove them under tables.{table}.columns: active users and key actions are "
            "counted from the events."))
    found: dict[str, str] = {}
    for name in (*EVENT_COLUMNS, "user_id"):
        wanted = tp.columns.get(name, name)
        header = wanted if wanted in headers else by_norm.get(header_key(wanted))
        if header is not None:
            found[name] = header
        elif name in ("account_id", "month") or name in tp.columns:
            issues.append(DataIssue(
                table, relative_name(path), wanted, f"column '{wanted}' (canonical '{name}') is "
                "missing from the event file", f"the file has: {', '.join(headers[:20])}",
                f"Map it in the params file: tables.{table}.columns.{name}."))
    seats = found.get("licensed_seats")
    if seats is not None and path.suffix.lower() == ".parquet" and seats in event_headers(
            path, tp):
        import pyarrow as pa
        import pyarrow.parquet as pq

        if pa.types.is_boolean(pq.read_schema(path).field(seats).type):
            issues.append(DataIssue(
                table, relative_name(path), seats, "the column holds true/false values, not a "
                "number of seats (it is mapped to 'licensed_seats')", "a whole number >= 0",
                f"Map tables.{table}.columns.licensed_seats to the column holding the seats."))
    if issues:
        raise DataError(issues)
    return found


#: Characters DuckDB reads as a pattern in a file name ('ev[1].parquet' would read
#: 'ev1.parquet'): such a file goes through pandas, which reads the name as it is.
GLOB_CHARS = frozenset("*?[]{}")


def engine_for(path: Path, tp: TableParams, columns: dict[str, str]) -> str:
    """``"duckdb"`` for a Parquet file with a native (time-zone-free) date column, or
    ``"duckdb-csv"`` for a CSV file whose format DuckDB reads as the loader does
    (:func:`csv_format_fits`), when DuckDB is installed and not switched off and the file's
    path has no pattern character (:data:`GLOB_CHARS`); ``"pandas"`` otherwise. A CSV
    file's rows are checked where DuckDB copies them (:func:`_csv_in_order`):
    :class:`~playbook.errors.EventsNotAlikeError` when one would be read otherwise, and
    pandas reads the file."""
    suffix = path.suffix.lower()
    if (os.environ.get(ENGINE_ENV, "").lower() == "pandas" or suffix not in (".parquet", ".csv")
            or GLOB_CHARS & set(str(path.resolve()))):
        return "pandas"
    try:
        import duckdb  # noqa: F401
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return "pandas"
    if suffix == ".csv":  # its rows are checked where DuckDB reads them
        return "duckdb-csv" if csv_format_fits(path, tp) else "pandas"
    kind = pq.read_schema(path).field(columns["month"]).type
    native = pa.types.is_date(kind) or (pa.types.is_timestamp(kind) and kind.tz is None)
    return "duckdb" if native else "pandas"


#: A number the loader's plain-number path and DuckDB's cast read alike.
PLAIN_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
#: Whitespace Python's strip removes and DuckDB's trim keeps.
OTHER_SPACE = "[\t\r\n\x0b\x0c\u00a0\u2000-\u200b\u3000]"
#: A date or date-time the loader and DuckDB read alike: ISO, no time zone (trimmed), a
#: time of day from 00:00 to 23:59:59 (DuckDB reads 24:00 as the next day's midnight, the
#: loader not at all).
ISO_DATE = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
            r"([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?)?$")


def _padded(pattern: str) -> str:
    """``pattern`` (anchored, starting and ending with neither a space nor a pattern that
    could match one) as a pattern of the whole untrimmed cell: spaces, then the pattern or
    nothing, then spaces. ``regexp_matches(cell, _padded(p))`` is ``trim(cell) = '' OR
    regexp_matches(trim(cell), p)`` without trimming each cell first (DuckDB's ``trim``
    cost about 1.5 CPU s per 20M cells where there was nothing to trim)."""
    return f"^ *({pattern.removeprefix('^').removesuffix('$')})? *$"


def _trimmed(value: str) -> str:
    """The SQL text ``value`` trimmed of spaces, as ``trim(value)``, trimming only the
    cells that start or end with a space (most have none, and DuckDB's ``trim`` costs as
    much on a cell with nothing to trim: about 1.5 CPU s per 20M cells)."""
    return (f"CASE WHEN prefix({value}, ' ') OR suffix({value}, ' ') THEN trim({value}) "
            f"ELSE {value} END")


def csv_format_fits(path: Path, tp: TableParams) -> bool:
    """Whether DuckDB may read a CSV event file as the loader would, as far as can be told
    without reading a row: UTF-8 without a byte-order mark, comma-delimited, plain
    decimal points (the rows are checked as they are copied, :func:`_csv_in_order`)."""
    with path.open("rb") as fh:
        if fh.read(3) == b"\xef\xbb\xbf":
            return False
    encoding, sep = text_format(path, tp)
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf-8-sig", "ascii") or sep != ",":
        return False
    return tp.decimal == "." and tp.thousands != "."


def odd_cells(columns: dict[str, str]) -> str:
    """The SQL condition true on a CSV row DuckDB would read otherwise than the loader: a
    date neither blank nor ISO (:data:`ISO_DATE`), a count or seats cell neither blank nor
    a plain number (no marks, no 1,234), a user with whitespace other than spaces (which
    Python's strip removes and DuckDB's trim keeps). Blank means spaces only
    (:func:`_padded`). An account with such whitespace is looked for among the counted
    accounts instead (:func:`_other_space`): its trimmed text keeps it, and a row not
    counted (no date) is not counted by the loader either."""
    odd = [f"NOT regexp_matches({_quoted(columns['month'])}, '{_padded(ISO_DATE)}')"]
    for name in ("event_count", "licensed_seats"):
        if name in columns:
            c = _quoted(columns[name])
            odd.append(f"NOT regexp_matches({c}, '{_padded(PLAIN_NUMBER)}')")
    if "user_id" in columns:
        odd.append(f"regexp_matches({_quoted(columns['user_id'])}, '{OTHER_SPACE}')")
    return " OR ".join(odd)


def _blank(value: str) -> str:
    """The SQL condition true when the trimmed text ``value`` is blank, as the loader reads
    it: empty, or one of :data:`~playbook.values.BLANK_WORDS` in any case (a NULL cell is
    neither). ``lower()`` runs only on cells short enough to be a blank word: the words
    are at most 4 characters and ``lower()`` maps each character to one, so it skips
    nearly every account and user ID."""
    words = ", ".join(f"'{w}'" for w in BLANK_WORDS)
    short = max(len(w) for w in BLANK_WORDS)
    return f"(length({value}) <= {short} AND ({value} = '' OR lower({value}) IN ({words})))"


def _bucket(account: str, passes: int) -> str:
    """The SQL expression of an event's hash bucket (0 to ``passes`` - 1) of its
    ``account``: the pass that counts it, whether the buckets are written apart or held
    by a CSV file's copy."""
    return f"hash({account}) % {passes}"


def _other_space(accounts: pa.ChunkedArray) -> bool:
    """Whether a counted account's text holds whitespace other than spaces
    (:data:`OTHER_SPACE`), which the loader would trim or read as blank: each account's
    text is looked at once."""
    import pyarrow.compute as pc

    names = pc.unique(accounts)
    return bool(pc.any(pc.match_substring_regex(names, OTHER_SPACE)).as_py())


def data_lines(path: Path, tp: TableParams) -> int:
    """The lines of the CSV file after its header (``tp.header_row`` lines): its rows when
    each takes one line (no blank line, no line break inside a quoted cell), so that a
    row's number gives its line; :func:`_csv_in_order` checks that DuckDB read as many."""
    return _line_breaks(path) - _ends_with_break(path) - tp.header_row


def _line_breaks(path: Path) -> int:
    """Line feeds in the file (read in 16 MiB blocks)."""
    n = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 24):
            n += block.count(b"\n")
    return n + 1


def _ends_with_break(path: Path) -> int:
    """1 when the file's last byte is a line feed (its last line is then empty), else 0."""
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() == 0:
            return 0
        fh.seek(-1, os.SEEK_END)
        return int(fh.read(1) == b"\n")


def _quoted(header: str) -> str:
    return '"' + header.replace('"', '""') + '"'


def _sql_text(value: str) -> str:
    """``value`` inside a single-quoted SQL string literal."""
    return value.replace(chr(39), chr(39) * 2)


#: DuckDB's memory for aggregating an event file; beyond it, its hash tables spill to a
#: temporary folder (at 100,000 accounts and 12.4M events it held about 1 GB unbounded).
#: The aggregation runs in the loading process while other tables load, at the run's
#: memory peak: with 400 MB rather than 1 GB the 12.4M events took the same time (3.2 s,
#: 5.6 CPU s) and the process 720 MB rather than 935 MB at most, and the run's peak during
#: the load fell by about 450 MB (bench/results.md). It still works at 100 MB (slower). At
#: 1,000,000 accounts (123.8M events, 8 passes): 62.8 s and 2,710 MB at most, against 63.9 s
#: and 2,974 MB with 1 GB (the buckets written with :data:`BUCKETING_MEMORY_LIMIT`).
MEMORY_LIMIT = "400MB"
#: DuckDB's memory while a large event file is written into hash buckets of its accounts
#: (:data:`EVENTS_PER_PASS`), before the passes: the earlier limit of 1 GB.
BUCKETING_MEMORY_LIMIT = "1GB"
#: Events aggregated in one pass: a larger file is split into hash buckets of its accounts
#: (every account-month falls in exactly one) and aggregated a bucket at a time, because
#: counting distinct users does not spill to disk. 123.8M events in one pass took 10.4 GB
#: (1,000,000 accounts); in 8 buckets of about 15.5M, at most 2 GB each. (One query
#: grouping the events by account, month and user, which spills, then by account and
#: month took 32-49 s there, against 55 s in buckets, but 3-4 GB: more than the load's
#: peak leaves beside the other tables, and alone, before them, the load took longer.)
EVENTS_PER_PASS = 15_000_000
#: Passes at most over the one copy of a CSV event file (:func:`_csv_in_order`), each
#: reading the rows of its bucket, which the copy holds: a pass reads the whole copy, so
#: beyond this many the buckets are written apart first, as for a Parquet file, and the
#: cost stays linear in the events. At 1,000,000 accounts (123.8M events, 9 passes) the
#: passes over the copy took 40.2 s (76 CPU s) against 48.7 s for writing the buckets
#: (25.7 s) and reading them (23 s); a pass's scan of the copy cost about 1.9 s there, the
#: buckets' writing about 2.9 s per pass's events: even at about 13 passes.
PASSES_OVER_COPY = 12
#: Bytes of a CSV event row, to estimate a CSV file's events before reading it (the
#: benchmark's rows take 39; fewer bytes per row means more passes, never fewer).
CSV_BYTES_PER_EVENT = 30


def _in_date_range(date: str) -> str:
    """The SQL timestamp ``date`` where the loader reads dates (:data:`DATE_MIN` to
    :data:`DATE_MAX`, that day included), else NULL."""
    return (f"CASE WHEN {date} >= TIMESTAMP '{DATE_MIN:%Y-%m-%d}' AND {date} < "
            f"TIMESTAMP '{DATE_MAX:%Y-%m-%d}' + INTERVAL 1 DAY THEN {date} END")


def _user_key(path: Path, header: str, csv: bool, text: Callable[[str], str]) -> str:
    """The SQL expression whose distinct values count a month's active users: a Parquet
    column of whole numbers as it is (its text is its digits: never blank, never padded, one
    text per number, so the count is the same), anything else as trimmed text, blank words
    missing (``text``)."""
    if not csv and pa.types.is_integer(pq.read_schema(path).field(header).type):
        return _quoted(header)
    return text(header)


def _account_key(con: duckdb.DuckDBPyConnection, source: str, header: str, csv: bool) -> str:
    """The SQL expression of an event's account: its text trimmed, or untrimmed when no
    cell of a Parquet file has spaces to trim (one cheap scan of the column: the same
    values, and grouping the events by the column's own strings is faster). A CSV file is
    not scanned twice for it."""
    value = f"CAST({_quoted(header)} AS VARCHAR)"
    if not csv and not con.execute(f"SELECT count(*) FROM {source} WHERE {value} <> "
                                   f"trim({value})").fetchone()[0]:
        return value
    return _trimmed(value)


def _csv_source(path: Path, tp: TableParams) -> str:
    """DuckDB's reader of a CSV event file: every cell as text, the header on line
    ``tp.header_row``."""
    real = _sql_text(str(path.resolve()))
    return (f"read_csv('{real}', header=true, all_varchar=true, delim=',', quote='\"', "
            f"skip={tp.header_row - 1})")


Aggregated = tuple[pd.DataFrame, int, int, list[str]]


def aggregate_ahead(params: Params, pool: Executor) -> Future[Aggregated | None] | None:
    """Start aggregating the usage event file in ``pool`` while the other tables load.

    DuckDB works outside Python's global lock, so the events (most of the loading time of
    a large client) are counted on one core while the loader validates the other tables
    on the other. Only a plain event file DuckDB reads (:func:`engine_for`; no joins or
    filters, which need the loader's log) is started; the future's result is then
    :func:`aggregate_events`'s, or None when the file is not one (the loader then
    aggregates it in turn, as without this). An error is raised where the loader reads the
    result (:func:`usage_from_events`), so it is reported as it would be without this.
    Returns None when there is no usage event file.
    """
    tp = params.tables.get("usage")
    if tp is None or tp.layout != "events" or tp.join or tp.filter:
        return None
    return pool.submit(_aggregate_if_duckdb, tp, params)


def events_take_passes(params: Params) -> bool:
    """Whether the usage event file is aggregated in more than one pass
    (:func:`event_passes`): its aggregation is then the longest part of the load. False
    without an event file, or when the file cannot be read (reported where it is loaded)."""
    tp = params.tables.get("usage")
    if tp is None or tp.layout != "events":
        return False
    try:
        path = client_file("usage", tp, params)
        return event_passes(path, path.suffix.lower() == ".csv") > 1
    except Exception:  # noqa: BLE001 - reported when the loader reads the file in turn
        return False


def _aggregate_if_duckdb(tp: TableParams, params: Params) -> Aggregated | None:
    try:
        path = client_file("usage", tp, params)
        engine = engine_for(path, tp, resolve_columns("usage", path, tp))
    except Exception:  # noqa: BLE001 - reported when the loader reads the file in turn
        return None
    if not engine.startswith("duckdb"):
        return None
    try:
        return aggregate_events("usage", path, tp, params.data.max_rejected_share, engine,
                                params=params, fall_back=False)
    except EventsNotAlikeError:  # pandas reads it where the loader reads it in turn
        return None


def usage_from_events(name: str, path: Path, tp: TableParams, max_rejected: float,
                      log: QualityLog, params: Params | None = None,
                      ahead: Future[Aggregated | None] | None = None
                      ) -> tuple[pd.DataFrame, list[str], tuple[int, int, int]]:
    """The usage table from an event file (``layout: events``): :func:`aggregate_events`
    (or its result started by :func:`aggregate_ahead`: ``ahead``), a broken file a
    DataError naming it, the events counted logged.

    Returns the frame, the unmapped headers and (events read, events not counted,
    account-months made).
    """
    if name != "usage":
        raise file_error(name, path, None, f"tables.{name}.layout is 'events', which only the "
                         "usage table supports", "layout: monthly (or lines for mrr)",
                         f"Remove tables.{name}.layout from the params file.")
    try:
        done = ahead.result() if ahead is not None else None
        frame, read, rejected, unmapped = done if done is not None else aggregate_events(
            name, path, tp, max_rejected, params=params, log=log)
    except DataError:
        raise
    except MemoryError:
        raise _out_of_memory(name, path) from None
    except Exception as exc:  # noqa: BLE001 - pyarrow, DuckDB or pandas on a broken file
        if type(exc).__name__ == "OutOfMemoryException":  # DuckDB's
            raise _out_of_memory(name, path) from None
        raise file_error(name, path, None, "the event file cannot be read "
                         f"({type(exc).__name__}: {exc})", "a readable CSV, Excel or Parquet file",
                         "Export the events again (Parquet or CSV UTF-8) and check the file is "
                         "complete (not cut off by a download or a copy).") from None
    if rejected:
        log.add(name, "warning", f"{rejected:,} of {tf.plural(read, 'usage event')} "
                f"{tf.noun(rejected, 'has', 'have')} no usable "
                "account or date; not counted", count=rejected, affects=list(
                    TABLES[name].used_by))
    log.add(name, "info", f"{tf.plural(read - rejected, 'usage event')} aggregated to "
                          f"{len(frame):,} "
            "account-months (active users: " + ("distinct users" if "user_id" in tp.columns
                                                else "events") + "; key actions: events)",
            count=read - rejected)
    return frame, unmapped, (read, rejected, len(frame))


def _out_of_memory(name: str, path: Path) -> DataError:
    """The error when aggregating an event file runs out of memory: the machine, not the
    file, is the problem."""
    size = path.stat().st_size / 2**20
    return file_error(name, path, None, f"aggregating the event file ({size:,.0f} MB) ran "
                      "out of memory", "memory enough to aggregate the events "
                      f"({EVENTS_PER_PASS:,} events a pass)",
                      "Close other programs or run on a machine with more memory; the file "
                      "itself may be fine.")


def aggregate_events(table: str, path: Path, tp: TableParams, max_rejected: float,
                     engine: str | None = None, *, params: Params | None = None,
                     log: QualityLog | None = None, fall_back: bool = True
                     ) -> tuple[pd.DataFrame, int, int, list[str]]:
    """Aggregate an event file to account-months.

    ``engine``: :func:`engine_for`'s when not given. A CSV file DuckDB turns out to read
    otherwise than the loader (:class:`~playbook.errors.EventsNotAlikeError`) goes through
    pandas, or, without ``fall_back``, raises it.

    ``path`` is the file :func:`playbook.reading.client_file` resolved and checked to lie
    inside the client's folder (:func:`playbook.paths.inside_folder`); DuckDB reads it by its
    resolved name, and a name DuckDB would take for a pattern goes through pandas.

    With ``tp.join`` or ``tp.filter`` (an event log keyed by subscription or workspace,
    joined to the file that names each one's account: :mod:`playbook.assembly`, which needs
    ``params`` and ``log``) the file goes through pandas, the joins and filters applied to
    its rows before they are counted; a filtered-out row is not an event.

    Returns (frame with ``account_id``, ``month``, ``active_users``, ``key_actions``,
    ``licensed_seats`` when mapped and ``_line`` (first line of the file counted in it),
    sorted by account and month; events read; events not counted; unmapped headers).
    """
    if tp.join or tp.filter:
        if params is None or log is None:
            raise ValueError("joins and filters of an event file need params and the log")
        raw, assembled = assemble(table, tp, _raw_events(path, tp), path, params, log)
        headers = [h for h in raw.columns if h != LINE]
        columns = resolve_columns(table, path, tp, headers)
        frame, read, rejected = _with_pandas(path, tp, columns, raw)
        used = set(columns.values()) | assembled
        unmapped = [h for h in headers if h not in used]
        frame = frame.sort_values(["account_id", "month"], kind="stable").reset_index(drop=True)
        _check_rejected(table, path, tp, read, rejected, max_rejected)
        return frame, read, rejected, unmapped
    columns = resolve_columns(table, path, tp)
    engine = engine or engine_for(path, tp, columns)
    done = None
    if engine.startswith("duckdb"):
        try:
            done = _with_duckdb(path, tp, columns, csv=engine == "duckdb-csv")
        except EventsNotAlikeError:
            if not fall_back:
                raise
    frame, read, rejected = done if done is not None else _with_pandas(path, tp, columns)
    _check_rejected(table, path, tp, read, rejected, max_rejected)
    used = set(columns.values())
    unmapped = [h for h in event_headers(path, tp) if h not in used]
    frame = frame.sort_values(["account_id", "month"], kind="stable").reset_index(drop=True)
    return frame, read, rejected, unmapped


def _check_rejected(table: str, path: Path, tp: TableParams, read: int, rejected: int,
                    max_rejected: float) -> None:
    """Too many events without a usable account or date stop the run."""
    if read and rejected / read > max_rejected:
        raise DataError([DataIssue(
            table, relative_name(path), tp.columns.get("month", "month"),
            f"{rejected:,} of {read:,} events ({rejected / read:.0%}) have no usable account "
            "or date", "an account and a date on every event",
            "Check the account and date columns mapped under tables.usage.columns.",
            count=rejected)])


def _raw_events(path: Path, tp: TableParams, columns: list[str] | None = None
                ) -> pd.DataFrame:
    """The event file's cells as read for the pandas engine, with each row's line
    (:data:`playbook.billing.LINE`); ``columns``: the only ones a Parquet file needs read
    (a CSV or Excel file is read whole)."""
    if path.suffix.lower() == ".parquet":
        raw = pd.read_parquet(path, columns=columns)
        raw[LINE] = range(tp.header_row + 1, tp.header_row + 1 + len(raw))
        return raw
    return read_raw("usage", path, tp, QualityLog())


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types of the aggregated usage table. ``active_users`` is blank (NaN) when the
    rows are counts of events without a user column: a count says nothing of users."""
    frame["month"] = frame["month"].astype("datetime64[ns]")
    for col in ("key_actions", "_line", ROWS):
        frame[col] = frame[col].astype("int64")
    frame["active_users"] = frame["active_users"].astype("float64")
    if frame["active_users"].notna().all():
        frame["active_users"] = frame["active_users"].astype("int64")
    if "licensed_seats" in frame:
        frame["licensed_seats"] = frame["licensed_seats"].astype("float64")
    return frame


def _with_pandas(path: Path, tp: TableParams, columns: dict[str, str],
                 raw: pd.DataFrame | None = None) -> tuple[pd.DataFrame, int, int]:
    """Aggregate with pandas; ``raw``: the rows already read (and assembled)."""
    if raw is None:
        raw = _raw_events(path, tp, list(dict.fromkeys(columns.values())))
    account, _ = parse_text(raw[columns["account_id"]])
    dates, _ = parse_dates(raw[columns["month"]], tp)
    ok = account.notna() & dates.notna()
    events = pd.DataFrame({
        "account_id": account[ok],
        "month": dates[ok].dt.to_period("M").dt.to_timestamp(),
        "_line": raw.loc[ok, LINE],
    })
    agg = {"key_actions": ("_line", "size"), "_line": ("_line", "min"),
           ROWS: ("_line", "size")}
    if "event_count" in columns:
        counts = parse_number(raw.loc[ok, columns["event_count"]], tp)[0]
        events["events"] = counts.where(counts > 0, 0).fillna(0)
        agg["key_actions"] = ("events", "sum")
    if "user_id" in columns:
        events["user"] = parse_text(raw.loc[ok, columns["user_id"]])[0]
        agg["active_users"] = ("user", "nunique")
    elif "event_count" in columns:
        events["no_users"] = float("nan")
        agg["active_users"] = ("no_users", "first")
    else:
        agg["active_users"] = ("_line", "size")
    if "licensed_seats" in columns:
        events["licensed_seats"] = parse_number(raw.loc[ok, columns["licensed_seats"]], tp)[0]
        agg["licensed_seats"] = ("licensed_seats", "max")
    out = events.groupby(["account_id", "month"], as_index=False, sort=False).agg(**agg)
    return _finish(out), len(raw), int((~ok).sum())


def event_passes(path: Path, csv: bool) -> int:
    """Passes DuckDB makes over an event file (:data:`EVENTS_PER_PASS` events each): the
    events a Parquet file's metadata counts, or a CSV file's size over
    :data:`CSV_BYTES_PER_EVENT` (the CSV copy's rows then decide, :func:`_with_duckdb`)."""
    events = (path.stat().st_size // CSV_BYTES_PER_EVENT if csv
              else pq.ParquetFile(path).metadata.num_rows)
    return _passes(events)


def _passes(events: int) -> int:
    """Passes of at most :data:`EVENTS_PER_PASS` events for ``events`` (at least one)."""
    return max(1, -(-events // EVENTS_PER_PASS))


def _with_duckdb(path: Path, tp: TableParams, columns: dict[str, str], *,
                 csv: bool = False) -> tuple[pd.DataFrame, int, int]:
    """Aggregate with DuckDB, straight from the file: a Parquet file with native dates, or a
    CSV file whose format :func:`csv_format_fits` admits (``csv``: first copied in its
    order to a Parquet file, :func:`_csv_in_order`; a row DuckDB would read otherwise than
    the loader raises :class:`~playbook.errors.EventsNotAlikeError`). Up to
    :data:`EVENTS_PER_PASS` events in one query; a larger file is read once into hash
    buckets of its accounts (Parquet files in a temporary folder), then aggregated a bucket
    at a time, so memory stays bounded whatever the file's size."""
    import duckdb
    import pyarrow.compute as pc

    def text(header: str) -> str:
        value = _trimmed(f"CAST({_quoted(header)} AS VARCHAR)")
        return f"CASE WHEN {_blank(value)} THEN NULL ELSE {value} END"

    real = str(path.resolve())  # checked inside the client's folder by the loader
    if GLOB_CHARS & set(real):
        raise ValueError(f"{real}: DuckDB would read the name as a pattern")
    con = duckdb.connect()
    spill = tempfile.TemporaryDirectory(prefix="playbook-events-")
    try:
        # no progress bar on stdout (a report run, a notebook, the bench's JSON line); the
        # distinct users of each account-month spill to disk beyond MEMORY_LIMIT
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = '{_sql_text(spill.name)}'")
        over_copy = 0  # passes that each read their bucket's rows of the CSV's copy
        if csv:
            source, columns, read, over_copy = _csv_in_order(con, path, tp, columns, text,
                                                             spill.name)
            account, date = "_account", "_ts"
            user = "_user_id"  # blank words already missing
        else:
            source = f"read_parquet('{_sql_text(real)}', file_row_number=true)"
            account = _account_key(con, source, columns["account_id"], csv=False)
            date = _in_date_range(f"CAST({_quoted(columns['month'])} AS TIMESTAMP)")
            read = pq.ParquetFile(path).metadata.num_rows
            user = (_user_key(path, columns["user_id"], False, text) if "user_id" in columns
                    else "")
        users = (f"count(DISTINCT {user})" if "user_id" in columns
                 else "CAST(NULL AS DOUBLE)" if "event_count" in columns else "count(*)")
        # a Parquet file's text user with whitespace Python's strip removes and DuckDB's
        # trim keeps (a CSV copy's users were checked as it was written, a whole number has
        # none): looked for in the rows each pass groups, where the text is read anyway
        odd_users = (f", bool_or(regexp_matches({user}, '{OTHER_SPACE}')) AS _odd_user"
                     if not csv and "user_id" in columns and user != _quoted(columns["user_id"])
                     else "")
        actions = "count(*)"
        if "event_count" in columns:
            n = f"TRY_CAST({_quoted(columns['event_count'])} AS DOUBLE)"
            actions = f"sum(CASE WHEN isfinite({n}) AND {n} > 0 THEN {n} ELSE 0 END)"
        seats = ""
        if "licensed_seats" in columns:
            number = f"TRY_CAST({_quoted(columns['licensed_seats'])} AS DOUBLE)"
            seats = f", max(CASE WHEN isfinite({number}) THEN {number} END) AS licensed_seats"
        passes = _passes(read)
        sources = [source]
        if over_copy:
            sources = [f"(SELECT * FROM {source} WHERE _bucket = {k})"
                       for k in range(over_copy)]
        elif passes > 1:  # one read of the file into hash buckets of accounts, then a pass each
            buckets = Path(spill.name) / "buckets"
            # (writing the buckets holds a buffer per bucket: with the aggregation's limit
            # it spilled, 7 s more at 1,000,000 accounts)
            con.execute(f"SET memory_limit = '{BUCKETING_MEMORY_LIMIT}'")
            con.execute(f"""COPY (SELECT *, {_bucket(account, passes)} AS _bucket
                            FROM {source}) TO '{_sql_text(str(buckets))}'
                            (FORMAT parquet, PARTITION_BY (_bucket))""")
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            sources = [f"read_parquet('{_sql_text(str(folder))}/*.parquet', "
                       "hive_partitioning = false)" for folder in sorted(buckets.iterdir())]
        parts = []
        for part in sources:
            # the account trimmed once
            con.execute(f"""CREATE OR REPLACE TEMP VIEW ev AS SELECT {account} AS account,
                            {date} AS ts, file_row_number, * FROM {part}""")
            # (as Arrow, then pandas: the account IDs stay Arrow text; DuckDB's own
            # DataFrame made each one a Python string first, 0.4 s of 3.7 s at 100,000
            # accounts, at the load's end)
            counted = con.sql(f"""
                SELECT account AS account_id, date_trunc('month', ts) AS month,
                       {users} AS active_users, {actions} AS key_actions,
                       min(file_row_number) + {tp.header_row + 1} AS _line,
                       count(*) AS {ROWS} {seats} {odd_users}
                FROM ev WHERE NOT {_blank("account")} AND ts IS NOT NULL
                GROUP BY 1, 2""").to_arrow_table()
            if _other_space(counted.column("account_id")) or (
                    odd_users and pc.any(counted.column("_odd_user")).as_py()):
                raise EventsNotAlikeError(relative_name(path))
            if odd_users:
                counted = counted.drop_columns(["_odd_user"])
            parts.append(counted.to_pandas())
        out = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        del parts
        # every event with an account and a date is counted in one account-month
        rejected = read - int(out[ROWS].sum())
    finally:
        con.close()
        spill.cleanup()
    out = out[["account_id", "month", "key_actions", "_line", ROWS, "active_users",
               *(["licensed_seats"] if seats else [])]]
    return _finish(out), int(read), int(rejected)


def _csv_in_order(con: duckdb.DuckDBPyConnection, path: Path, tp: TableParams,
                  columns: dict[str, str], text: Callable[[str], str], folder: str
                  ) -> tuple[str, dict[str, str], int, int]:
    """A CSV event file written, in its order, to a Parquet file in ``folder``, checked.

    The copy holds each row's account (trimmed text, ``_account``), date (``_ts``, blank
    outside the loader's range), user (``_user_id``, trimmed, blank words missing) and the
    other mapped columns' text (``_licensed_seats``, ``_event_count``). DuckDB numbers a
    CSV file's rows in one thread only (``row_number()`` over the whole file, and
    everything read through it: at 1,000,000 accounts the 11 hash buckets took 86 s); it
    writes the copy in parallel and, keeping the insertion order, row by row in the CSV's
    order, so the copy's row numbers are the CSV rows' (36 s). The same scan checks each
    row (:func:`odd_cells`); a row found odd, or rows other than the file's lines after
    its header (:func:`data_lines`: a blank line, a line break in a quoted cell), raise
    :class:`~playbook.errors.EventsNotAlikeError`; so does a file DuckDB cannot parse (the
    loader's reader then says why).

    When the file's lines take more than one pass (:data:`EVENTS_PER_PASS`) and at most
    :data:`PASSES_OVER_COPY`, the copy also holds each row's hash bucket of its account
    (``_bucket``, 0 to passes - 1, as the buckets written apart would be): each pass then
    reads its rows of the copy (DuckDB skips the others' cells) rather than buckets written
    apart first.

    Returns the copy as a DuckDB source (with ``file_row_number``), the columns it names,
    its rows (the events read) and the passes over the copy (0: its buckets, if any, are to
    be written apart)."""
    import duckdb

    copy = Path(folder) / "events.parquet"
    original = _csv_source(path, tp)
    account = _account_key(con, original, columns["account_id"], csv=True)  # trimmed, no scan
    date = _in_date_range(
        f"TRY_CAST({_trimmed(_quoted(columns['month']))} AS TIMESTAMP)")  # (blank: NULL)
    inner = {name: f"_{name}" for name in columns if name not in ("account_id", "month")}
    # the user as the key its distinct values are counted by (trimmed, blank words
    # missing); the counts and seats as their text, cast where they are summed
    cells = "".join(f", {_user_key(path, columns[name], True, text)} AS {inner[name]}"
                    if name == "user_id" else f", {_quoted(columns[name])} AS {inner[name]}"
                    for name in inner)
    lines = data_lines(path, tp)
    passes = _passes(lines)
    over_copy = passes if 1 < passes <= PASSES_OVER_COPY else 0
    if over_copy:
        cells += f", CAST({_bucket(account, over_copy)} AS USMALLINT) AS _bucket"
    con.execute(f"SET memory_limit = '{BUCKETING_MEMORY_LIMIT}'")
    con.execute("SET preserve_insertion_order = true")  # (the default; the rows' order)
    try:
        con.execute(f"""COPY (SELECT {account} AS _account, {date} AS _ts,
                        ({odd_cells(columns)}) AS _odd {cells} FROM {original})
                        TO '{_sql_text(str(copy))}' (FORMAT parquet)""")
    except duckdb.OutOfMemoryException:
        raise
    except duckdb.Error:  # DuckDB cannot parse the file: the loader's reader says why
        raise EventsNotAlikeError(relative_name(path)) from None
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    source = f"read_parquet('{_sql_text(str(copy))}', file_row_number=true)"
    rows, odd = con.execute(f"SELECT count(*), count(*) FILTER (WHERE _odd) "
                            f"FROM {source}").fetchone()
    if odd or rows != lines:
        raise EventsNotAlikeError(relative_name(path))
    return source, {**columns, **inner}, int(rows), over_copy
