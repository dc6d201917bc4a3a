"""A short data profile per loaded table, for ``playbook check`` (``make check``).

What a consultant needs to know before the first run, in seconds: rows and accounts per
table, the date range, blanks per supplied column, which contract columns the file does not
have, which of the client's columns are not used, and values that look wrong (placeholder
or future dates, tickets closed before they were opened, more active users than seats,
a column with one value only, amounts that are mostly zero). The loader's data-quality
notes (rejected rows, contradictions between tables) are printed beside it by the CLI; this
profile does not repeat them.

Everything works on the canonical frames :func:`playbook.loader.load_client` returns, so it
adds no second read of the data (only the header line of each file, to tell supplied
columns from empty ones).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from playbook import paths
from playbook.client_data import ClientData
from playbook.columns import header_key
from playbook.config import Params
from playbook.config_tables import TableParams
from playbook.contract import TABLES
from playbook.reading import check_header, text_format

#: The date that says when a row happened, per table (its range is the table's range).
MAIN_DATE = {"accounts": "start_date", "mrr": "month", "churn_events": "churn_date",
             "renewals": "renewal_date", "usage": "month", "tickets": "opened_at",
             "surveys": "date", "touches": "date", "csm_inputs": "date",
             "onboarding": "completed_date"}
#: Dates that may lie in the future (a renewal or contract end still to come).
FORWARD_DATES = {"renewal_date", "end_date"}
EARLIEST_PLAUSIBLE = pd.Timestamp("1990-01-01")
MOSTLY_ZERO = 0.2  # a money column with more zeros than this share is worth a question


@dataclass
class TableProfile:
    """The profile of one canonical table."""

    table: str
    file: str
    rows: int
    accounts: int | None = None
    date_column: str | None = None
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    blanks: dict[str, float] = field(default_factory=dict)  # supplied column -> blank share
    not_supplied: list[str] = field(default_factory=list)  # empty: the file lacks them
    derived: list[str] = field(default_factory=list)  # not in the file, filled by the loader
    unmapped: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)


def file_headers(path: Path, tp: TableParams, folder: Path | None = None) -> list[str]:
    """The header cells of a client file, read cheaply (empty when unreadable, over a limit
    of :mod:`playbook.reading`, or outside ``folder``, the client's folder)."""
    suffix = path.suffix.lower()
    if folder is not None and paths.inside_folder(path, folder) is None:
        return []
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            cols = check_header("profile", path, *text_format(path, tp), tp.header_row)
        elif suffix in (".xlsx", ".xlsm", ".xls"):
            cols = pd.read_excel(path, sheet_name=tp.sheet if tp.sheet is not None else 0,
                                 header=tp.header_row - 1, nrows=0).columns
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            cols = pq.read_schema(path).names
        else:
            return []
    except Exception:  # noqa: BLE001 - the profile must never stop a check
        return []
    return [str(c).strip().lstrip("\ufeff") for c in cols]


def supplied_columns(table: str, tp: TableParams, headers: list[str]) -> set[str]:
    """Contract columns the client's file holds (mapped in params or found by name)."""
    present = {header_key(h) for h in headers}
    out = set()
    for col in TABLES[table].columns:
        wanted = tp.columns.get(col.name, col.name)
        if wanted is not None and (wanted in headers or header_key(wanted) in present):
            out.add(col.name)
    return out


def _blank(series: pd.Series) -> pd.Series:
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        return series.isna() | series.astype(str).str.strip().isin(["", "nan", "None"])
    return series.isna()


def _fmt_date(ts: pd.Timestamp | None) -> str:
    return "n/a" if ts is None or pd.isna(ts) else f"{ts:%Y-%m-%d}"


def _wrong_values(table: str, frame: pd.DataFrame, supplied: set[str],
                  today: pd.Timestamp) -> list[str]:
    """Plain-language notes on values that look wrong (vectorised; no row loops)."""
    spec = TABLES[table]
    notes: list[str] = []
    n = len(frame)
    if not n:
        return notes
    for col in spec.columns:
        if col.name not in supplied or col.name not in frame:
            continue
        s = frame[col.name]
        if col.kind in ("date", "month"):
            s = pd.to_datetime(s, errors="coerce")
            early = s < EARLIEST_PLAUSIBLE
            if early.any():
                notes.append(f"{col.name}: {int(early.sum()):,} date(s) before 1990 (e.g. "
                             f"{_fmt_date(s[early].min())}): placeholders?")
            if col.name not in FORWARD_DATES:
                late = s > today
                if late.any():
                    notes.append(f"{col.name}: {int(late.sum()):,} date(s) in the future "
                                 f"(latest {_fmt_date(s[late].max())})")
        elif col.kind == "money":
            if table == "accounts" and "status" in frame:  # churned accounts pay nothing
                s = s[frame["status"].eq("active")]
            values = pd.to_numeric(s, errors="coerce").dropna()
            zeros = (values == 0).mean() if len(values) else 0
            if zeros > MOSTLY_ZERO:
                whose = " of active accounts" if table == "accounts" and "status" in frame else ""
                notes.append(f"{col.name}: {zeros:.0%} of values{whose} are 0 (trials, free "
                             "plans or a missing amount?)")
        elif col.kind in ("text", "code") and col.name not in ("name",):
            values = s[~_blank(s)]
            if len(values) >= 30 and values.nunique() == 1:
                notes.append(f"{col.name}: one value only ('{values.iloc[0]}') in "
                             f"{len(values):,} rows: nothing to compare")
    if {"opened_at", "closed_at"} <= supplied:
        bad = frame["closed_at"] < frame["opened_at"]
        if bad.any():
            notes.append(f"{int(bad.sum()):,} ticket(s) closed before they were opened")
    if {"active_users", "licensed_seats"} <= supplied:
        over = frame["active_users"] > frame["licensed_seats"]
        if over.fillna(False).any():
            notes.append(f"{int(over.fillna(False).sum()):,} month(s) with more active users "
                         "than licensed seats")
    if table == "renewals" and {"outcome", "arr_after"} <= supplied:
        odd = frame["outcome"].eq("renewed") & frame["arr_after"].eq(0)
        if odd.any():
            notes.append(f"{int(odd.sum()):,} renewal(s) marked renewed with ARR after 0")
    if table == "accounts" and "status" in frame:
        shares = frame["status"].value_counts(normalize=True)
        if len(shares) == 1:
            notes.append(f"status: every account is '{shares.index[0]}': check the status "
                         "codes (tables.accounts.codes.status)")
    if table == "tickets" and "hours_spent" in supplied:
        long = frame["hours_spent"] > 200
        if long.any():
            notes.append(f"hours_spent: {int(long.sum()):,} ticket(s) above 200 hours (minutes "
                         "or elapsed time?)")
    return notes


def profile_table(table: str, frame: pd.DataFrame, tp: TableParams, path: Path | None,
                  unmapped: list[str], rel_file: str = "",
                  today: pd.Timestamp | None = None, folder: Path | None = None
                  ) -> TableProfile:
    """Profile one canonical table (``frame`` as the loader returns it); ``folder``: the
    client's folder, the only place its header is read from."""
    today = today if today is not None else pd.Timestamp(dt.date.today())
    headers = file_headers(path, tp, folder) if path is not None else []
    supplied = (supplied_columns(table, tp, headers) if headers
                else {c for c in frame.columns if frame[c].notna().any()})
    if table == "mrr":  # subscription lines are expanded to months by the loader
        supplied |= {"month"}
    prof = TableProfile(table, rel_file or (path.name if path else ""), len(frame),
                        unmapped=list(unmapped))
    if "account_id" in frame and table != "accounts":
        prof.accounts = int(frame["account_id"].nunique())
    elif table == "accounts":
        prof.accounts = len(frame)
    date_col = MAIN_DATE.get(table)
    if date_col and date_col in frame and len(frame):
        dates = pd.to_datetime(frame[date_col], errors="coerce")
        if dates.notna().any():
            prof.date_column, prof.first, prof.last = date_col, dates.min(), dates.max()
    for col in TABLES[table].columns:
        if col.name not in frame:
            continue
        if col.name in supplied:
            prof.blanks[col.name] = float(_blank(frame[col.name]).mean()) if len(frame) else 0.0
        elif len(frame) and not _blank(frame[col.name]).all():
            prof.derived.append(col.name)
        else:
            prof.not_supplied.append(col.name)
    prof.wrong = _wrong_values(table, frame, supplied, today)
    return prof


def profile_client(data: ClientData, params: Params) -> list[TableProfile]:
    """The profile of every table the client supplied, in contract order."""
    out = []
    today = pd.Timestamp(dt.date.today())
    folder = params.data_path()
    for table in TABLES:
        if table not in data.tables or table not in params.tables:
            continue  # (a table derived by the loader, e.g. churn events from billing)
        load = data.quality.load_of(table)
        out.append(profile_table(table, data.tables[table], params.tables[table],
                                 data.files.get(table), load.unmapped_columns if load else [],
                                 load.file if load else "", today, folder))
    return out


def _pct(share: float) -> str:
    if share == 0:
        return "0%"
    return "<1%" if share < 0.01 else f"{share:.0%}"


#: Characters of one client column name, and of one note, the profile shows; names beyond
#: :data:`SHOWN_NAMES` are counted, not listed. A 50 MB header cell prints as one short line.
NAME_CHARS, NOTE_CHARS, SHOWN_NAMES = 60, 300, 30


def _short(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (the last one an ellipsis when cut)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _names(names: list[str]) -> str:
    shown = ", ".join(_short(str(n), NAME_CHARS) for n in names[:SHOWN_NAMES])
    more = len(names) - SHOWN_NAMES
    return shown + (f" and {more:,} more" if more > 0 else "")


def format_profile(profiles: list[TableProfile], *, accounts_total: int | None = None,
                   width: int = 100) -> str:
    """The profile as short plain text, one block per table (time linear in its length)."""
    lines = ["Data profile (after loading):"]
    for p in profiles:
        head = f"  {p.table:<13} {p.rows:>9,} rows"
        if p.accounts is not None and p.table != "accounts":
            cover = (f" ({p.accounts / accounts_total:.0%})" if accounts_total else "")
            head += f", {p.accounts:,} accounts{cover}"
        if p.date_column:
            head += f"; {p.date_column} {_fmt_date(p.first)} to {_fmt_date(p.last)}"
        lines.append(head)
        blanks = [f"{c} {_pct(s)}" for c, s in p.blanks.items() if s > 0]
        if blanks:
            lines += _wrap("blanks", ", ".join(blanks), width)
        if p.not_supplied:
            lines += _wrap("not in file", ", ".join(p.not_supplied), width)
        if p.derived:
            lines += _wrap("derived", ", ".join(p.derived) + " (not in the file; filled from "
                           "other columns or tables)", width)
        if p.unmapped:
            lines += _wrap("not mapped", _names(p.unmapped), width)
        for note in p.wrong:
            lines += _wrap("looks wrong", _short(note, NOTE_CHARS), width)
    return "\n".join(lines)


def _wrap(label: str, text: str, width: int) -> list[str]:
    """``text`` wrapped at spaces into lines of at most ``width`` characters after a label;
    a word longer than a line is cut. Linear in the text's length (``textwrap`` re-copies
    the rest of a long word for every line it cuts off: hours for a 50 MB word)."""
    prefix = f"      {label + ':':<13}"
    room = max(width - len(prefix), 10)
    rows: list[str] = []
    line = ""
    for word in text.split():
        for piece in (word[i:i + room] for i in range(0, len(word), room)):
            if line and len(line) + 1 + len(piece) > room:
                rows.append(line)
                line = piece
            else:
                line = f"{line} {piece}" if line else piece
    if line:
        rows.append(line)
    return [(prefix if i == 0 else " " * len(prefix)) + row
            for i, row in enumerate(rows)] or [prefix]
