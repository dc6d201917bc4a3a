"""Read a client's raw exports and turn them into validated canonical tables.

The orchestrator of loading: :func:`load_client` runs, for every table the params
configure, the steps below (accounts first), then the checks across tables, and returns
the :class:`~playbook.client_data.ClientData` every notebook works on. The steps live in
the modules that own them; this is the only module that calls them all:

1. :mod:`playbook.reading`: the table's file inside the client's folder, read as text
   cells (limits, CSV/Excel/Parquet; usage event logs: :mod:`playbook.events`);
2. :mod:`playbook.assembly`: joins, row filters and derived columns declared in params;
3. :mod:`playbook.columns`: client headers to canonical columns
   (:mod:`playbook.client_variables`: the extra columns declared under ``variables``);
4. :mod:`playbook.values`: every value parsed against the data contract, unusable rows
   rejected; :mod:`playbook.rows`: duplicates and rows of unknown accounts dropped;
5. :mod:`playbook.mrr_history`: the monthly MRR table (subscription lines, gaps);
6. :mod:`playbook.completion`: the accounts table completed from billing and churn events;
7. :mod:`playbook.consistency`: the period against the data, unused files, contradictions
   and thin data between tables.

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

import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from playbook import checksums
from playbook import textfmt as tf
from playbook.assembly import assemble, values_from_accounts
from playbook.billing import LINE, exclusive_end
from playbook.checksums import file_sha256
from playbook.client_data import ClientData, LoadFacts
from playbook.client_variables import client_variables, with_variables
from playbook.columns import map_columns, with_all_columns
from playbook.completion import complete_accounts, resolve_contract_terms
from playbook.config import Params
from playbook.config_tables import TableParams
from playbook.consistency import check_consistency, check_period, check_unused_files
from playbook.contract import TABLES
from playbook.errors import DataError, DataIssue
from playbook.events import ROWS as EVENT_ROWS
from playbook.events import (
    Aggregated,
    aggregate_ahead,
    events_take_passes,
    usage_from_events,
)
from playbook.forked import ForkedCall, can_fork_safely
from playbook.memory import release_memory
from playbook.mrr_history import monthly_mrr, mrr_gaps
from playbook.quality import QualityLog, TableLoad
from playbook.reading import client_file, file_error, read_raw, relative_name
from playbook.rows import answered_surveys, dedupe_keys, drop_orphans, with_account_codes
from playbook.table_files import SUFFIX, read_indexed, write_indexed
from playbook.values import typed_table

__all__ = ["ClientData", "LoadFacts", "beside_tables", "load_client", "load_table"]


def _digest_meanwhile(path: Path) -> Future[str]:
    """:func:`~playbook.checksums.file_sha256` of ``path`` on a thread of its own, while the
    caller goes on (hashlib lets go of Python's lock as it hashes). An event file's digest
    is taken while its events are counted and its table is checked: at 1,000,000 accounts
    the 4.8 GB CSV file took 4 s to hash, after its events, with a core idle."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="digest")
    try:
        return pool.submit(file_sha256, path)
    finally:
        pool.shutdown(wait=False)  # its thread ends with the digest


def load_table(name: str, tp: TableParams, params: Params, log: QualityLog,
               known: set[str] | None = None, facts: LoadFacts | None = None,
               ahead: Future[Aggregated | None] | None = None
               ) -> tuple[pd.DataFrame, Path]:
    """Read, map, parse and check one table; returns the canonical frame and its file.

    ``known``: the account IDs of the accounts table; rows referring to others are dropped
    (or stop the run when too many). ``facts`` collects what later checks need. ``ahead``:
    the event file's aggregation started earlier (:func:`playbook.events.aggregate_ahead`).
    """
    spec = TABLES[name]
    facts = facts if facts is not None else LoadFacts()
    path = client_file(name, tp, params)
    events = None
    extra = None
    digest = None
    if tp.layout == "events":
        digest = _digest_meanwhile(path)
        frame, unmapped, events = usage_from_events(name, path, tp,
                                                    params.data.max_rejected_share, log,
                                                    params, ahead)
        event_rows = frame.set_index(["account_id", "month"])[EVENT_ROWS]
        frame = frame.drop(columns=EVENT_ROWS)
    else:
        raw = read_raw(name, path, tp, log)
        raw, assembled = assemble(name, tp, raw, path, params, log)  # joins, filters, derive
        frame, unmapped, issues = map_columns(name, spec, tp, raw, path, log)
        if issues:
            raise DataError(issues)
        extra, used = client_variables(name, raw, tp, params, path, log)
        unmapped = [h for h in unmapped if h not in used]
        unmapped = [h for h in unmapped if h not in assembled]
    if unmapped:
        log.add(name, "info", f"{tf.plural(len(unmapped), 'column')} not used: "
                              f"{', '.join(unmapped[:12])}",
                count=len(unmapped))
    facts.supplied[name] = {c for c in frame.columns if c != LINE}
    rows_read = len(frame) if events is None else events[0]
    if rows_read == 0 and name != "accounts":
        log.add(name, "warning", f"{path.name} has a header but no rows: sections that need "
                f"'{name}' are left out", affects=list(spec.used_by))
    max_rejected = params.data.max_rejected_share
    frame = typed_table(name, spec, tp, frame, path, log, max_rejected)
    if name == "mrr" and tp.layout == "monthly" and "account_id" in frame:
        frame = with_account_codes(frame)  # hashed once for the checks and sums below
    if known is not None:
        frame = drop_orphans(name, frame, known, path, log, max_rejected,
                             tp.columns.get("account_id", "account_id"))
    frame = dedupe_keys(name, spec, frame, path, log, tp)
    if name == "surveys":
        frame = answered_surveys(frame, tp, log)
    rows_kept = len(frame)
    if events is not None:  # rows of the file are events: count the event rows kept
        kept = pd.MultiIndex.from_frame(frame[["account_id", "month"]])
        rows_kept = int(event_rows[event_rows.index.isin(kept)].sum()) if len(frame) else 0
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
            log.add("mrr", "info", f"{tf.plural(rows_kept, 'subscription line')} expanded to "
                    f"{len(frame):,} account-months (open lines run to the as-of date)",
                    count=rows_kept)
    else:
        frame = with_variables(with_all_columns(spec, frame), extra)
    log.loads.append(TableLoad(name, relative_name(path),
                               digest.result() if digest else file_sha256(path), rows_read,
                               rows_kept, unmapped))
    return frame, path


def load_client(params: Params, *, scratch: Path | None = None,
                beside_done: Callable[[], None] | None = None) -> ClientData:
    """Load every table configured in ``params.tables`` into canonical, validated frames.

    The render step stores the result once per run in its data cache
    (:mod:`playbook.cache`) and passes the cache's folder to each notebook as the papermill
    parameter ``data_cache`` (:func:`playbook.session.start` reads it): no environment
    variable carries data.

    The accounts table is read first; rows of other tables that refer to unknown accounts
    are dropped as they are read. Contradictions and thin data are logged in the
    :class:`~playbook.quality.QualityLog` (see
    :func:`playbook.consistency.check_consistency`).

    ``scratch``: a folder of the caller's for the tables loaded beside. With it, where this
    process may fork and runs no other thread, the tables after the accounts are split in
    two by file size and a forked child loads one half at the same time as this process
    loads the other (:func:`beside_tables`): the child leaves its tables in ``scratch`` as
    Arrow files, read back here by memory map (the caller removes ``scratch`` when done
    with the data). The result is the same either way (same tables, rows, dtypes, row
    indexes, notes and errors, in the same order). Without it every table loads here.

    ``beside_done()`` is called once, as soon as the load runs in one process only: by the
    child, when its tables are written, or here at once when no child loads beside. The
    render step then starts its kernels (:meth:`playbook.loading.LoadingChild.
    wait_for_one_process`), whose imports were otherwise held during the load's peak.

    Raises
    ------
    DataError
        When a required table is not configured, a file is missing, unreadable or outside
        the client's folder, a required column is missing, keys conflict, dates mix day and
        month order, too many rows are unusable, or the period lies outside the data. All
        problems found are reported together.
    """
    return _load_client(params, scratch, beside_done)


@dataclass
class _Loads:
    """What loading tables gave so far: frames, files, each table's own notes, errors."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    parts: dict[str, QualityLog] = field(default_factory=dict)
    issues: dict[str, list[DataIssue]] = field(default_factory=dict)

    def load(self, name: str, params: Params, known: set[str] | None, facts: LoadFacts,
             ahead: Future[Aggregated | None] | None = None) -> None:
        """Load ``name`` (:func:`load_table`), its errors kept for the report of all."""
        self.parts[name] = QualityLog()
        try:
            frame, self.files[name] = load_table(
                name, params.tables[name], params, self.parts[name], known, facts, ahead)
        except DataError as exc:
            self.issues[name] = exc.issues
        else:
            # each row's line in its file names rows in the table's own checks only: the
            # checks across tables do not read it (0.9 GB at 1,000,000 accounts)
            self.tables[name] = frame.drop(columns=[LINE], errors="ignore")
            del frame
        # what parsing and checking it freed goes back now, not at the next table's peak
        # (at 1,000,000 accounts the touches left 2 GB while the child wrote them, beside
        # the other process loading the contacts: the load's peak)
        release_memory(collect=False)


def _known_accounts(loads: _Loads) -> set[str] | None:
    """The accounts table's IDs (None when it failed to load; an error when empty)."""
    if "accounts" not in loads.tables:
        return None
    if len(loads.tables["accounts"]):
        return set(loads.tables["accounts"]["account_id"])
    loads.issues["accounts"] = [file_error(
        "accounts", loads.files["accounts"], None, "the accounts table has no rows",
        "at least one account", "Export the account list again; it is empty.").issues[0]]
    return None


def beside_tables(params: Params) -> list[str]:
    """The tables a forked child loads while this process loads the others: of the tables
    that need nothing but the accounts (not the accounts, not mrr, whose loading records
    facts the checks across tables use, not a usage event log, counted by DuckDB here),
    the share that balances the two processes' file bytes, largest files first, with mrr's
    bytes counted three times on this side (its gaps and monthly table are extra work: at
    100,000 accounts mrr took 6.4 s of the 17 s load, for 55 of the 450 MB). Empty when
    there are fewer than two such tables. In the order the child loads them: the largest
    file first, so that its peak meets this process in the middle of mrr rather than at
    mrr's or the contacts' end (at 1,000,000 accounts the touches' peak met those, the
    load's peak)."""
    def size(name: str) -> int:
        try:
            return client_file(name, params.tables[name], params).stat().st_size
        except (DataError, OSError):
            return 0  # reported where the table is loaded
    movable = [n for n in params.tables if n not in ("accounts", "mrr")
               and not (n == "usage" and params.tables[n].layout == "events")]
    if len(movable) < 2:
        return []
    sizes = {name: size(name) for name in movable}  # each file looked at once
    here = 3 * size("mrr") if "mrr" in params.tables else 0
    there = 0
    beside = []
    for name in sorted(movable, key=lambda n: (-sizes[n], n)):
        if there < here:
            there += sizes[name]
            beside.append(name)
        else:
            here += sizes[name]
    return beside


def _load_beside(params: Params, names: list[str], known: set[str] | None, folder: Path,
                 done: Callable[[], None] | None = None
                 ) -> tuple[_Loads, dict[str, set[str]], dict[tuple[int, ...], str]]:
    """In the forked child: load ``names``, write each frame to ``folder`` (its row index
    kept), call ``done()``, return the rest of the loads (frames left out), the columns
    each supplied and the files' checksums (not computed twice)."""
    loads, facts = _Loads(), LoadFacts()
    for name in names:
        loads.load(name, params, known, facts)
        if name in loads.tables:
            write_indexed(loads.tables.pop(name), folder / f"{name}{SUFFIX}")
    if done is not None:
        done()
    return loads, facts.supplied, checksums.known_digests()


def _load_client(params: Params, scratch: Path | None = None,
                 beside_done: Callable[[], None] | None = None) -> ClientData:
    """:func:`load_client` without the cache."""
    log = QualityLog()
    missing = [t for t in TABLES if TABLES[t].required and t not in params.tables]
    if missing:
        raise DataError([DataIssue(
            t, str(params.sources.get("client", "params")), None,
            f"required table '{t}' is not configured", f"a `tables: {t}:` entry",
            f"Add `tables: {{{t}: {{file: <file name>, columns: {{...}}}}}}` to the params "
            "file.") for t in missing])
    errors: list[DataIssue] = []
    facts = LoadFacts()
    order = sorted(params.tables, key=lambda t: t != "accounts")
    loads = _Loads()
    loads.load("accounts", params, None, facts)
    known = _known_accounts(loads)
    split = scratch is not None and can_fork_safely()
    beside = beside_tables(params) if split else []
    if beside:
        folder = Path(tempfile.mkdtemp(prefix="beside-", dir=scratch))
        child = ForkedCall(_load_beside, params, beside, known, folder, beside_done,
                           what="Loading tables beside", fork=True)
    elif beside_done is not None:
        beside_done()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="events") as pool:
            rest = [n for n in order if n != "accounts" and n not in beside]
            # mrr before the usage events start, when DuckDB counts them in one pass: its
            # parsing and checks take several times its file's size, handed back before
            # DuckDB takes its own memory (it does not reuse what this process freed). At
            # 100,000 accounts the load's peak 1,625-1,695 -> 1,395-1,431 MB, in less CPU
            # time; at 1,000,000 (8 passes, the load's longest task) 10.8 -> 9.9 GB but
            # 18 s longer, so there the events start at once (bench/results.md)
            if "mrr" in rest and not events_take_passes(params):
                rest.remove("mrr")
                loads.load("mrr", params, known, facts)  # (its memory handed back there)
            ahead = aggregate_ahead(params, pool)  # the usage events, counted meanwhile
            # usage counted ahead is read last, so the other tables load meanwhile; each
            # table's notes go to its own log, joined in ``order`` below (as read in turn)
            for name in sorted(rest, key=lambda t: ahead is not None and t == "usage"):
                loads.load(name, params, known, facts, ahead if name == "usage" else None)
        if beside:
            there, supplied, digests = child.result()
            checksums.remember(digests)
            facts.supplied.update(supplied)
            loads.parts.update(there.parts)
            loads.issues.update(there.issues)
            loads.files.update(there.files)
            for name in there.files:
                loads.tables[name] = read_indexed(folder / f"{name}{SUFFIX}")
    finally:
        if beside:
            child.stop()
    tables, files, parts, issues = loads.tables, loads.files, loads.parts, loads.issues
    for name in order:
        log.notes += parts[name].notes
        log.loads += parts[name].loads
        errors += issues.get(name, [])
    tables = {name: tables[name] for name in order if name in tables}
    files = {name: files[name] for name in order if name in files}
    facts.supplied = {name: facts.supplied[name] for name in order if name in facts.supplied}
    if "start_date" not in facts.supplied.get("accounts", {"start_date"}) and "mrr" not in tables:
        errors.append(file_error(
            "accounts", files["accounts"], None, "the accounts file has no start date and "
            "there is no mrr table to derive it from", "a start_date column, or billing",
            "Map `start_date` in `tables.accounts.columns`, or configure `tables.mrr` (MRR "
            "by month or subscription lines): the first billed month is then the start."
        ).issues[0])
    if errors:
        raise DataError(errors)
    # what joining the tables loaded beside and DuckDB's passes freed goes back before the
    # checks across tables add their own (each table's own leftovers went as it was loaded)
    release_memory(collect=False)
    check_period(facts, params, files)
    check_unused_files(params, files, log)
    as_of = pd.Timestamp(params.as_of) if params.as_of else None
    complete_accounts(tables, as_of, log, facts, params.churn.churn_date_from_billing,
                      params.contracts.renewal_date_means)
    resolve_contract_terms(tables, params.contracts.term_by_type, params.contracts.term_months,
                           log)
    values_from_accounts(tables, params, log)  # derive: {x: {from_table: ...}} in params
    check_consistency(tables, facts, params, log)
    for name in tables:
        tables[name] = tables[name].reset_index(drop=True)
    return ClientData(params.client_id, tables, log, files)
