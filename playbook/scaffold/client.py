"""The whole client: read ``data/<client>/`` (never writing to it), choose and settle its
tables, propose the currency, the reporting period and the contracts, and write
``params/<client>.yaml``.

The steps, in order: every table file read as text (:mod:`playbook.scaffold.sources`);
each file matched to a table (:mod:`playbook.scaffold.tables`); billing options
(:mod:`playbook.scaffold.lines`); the accounts' start date and lifecycle
(:mod:`playbook.scaffold.accounts`); snapshots, filters and joins
(:mod:`playbook.scaffold.shapes`); decimal marks, date formats and codes; then the currency
(from headers such as "ARR (USD)", a currency column's values or signs in amounts) and the
period (the last complete quarter in the subscription history, else in the table whose kept
rows run latest).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pandas as pd

from playbook import paths
from playbook.config import check_client_name
from playbook.contract import TABLES
from playbook.errors import DataError, ScaffoldError
from playbook.scaffold.accounts import propose_contracts, settle_accounts
from playbook.scaffold.headers import tokens
from playbook.scaffold.lines import billing_frame, settle_billing
from playbook.scaffold.proposal import Scaffold
from playbook.scaffold.shapes import propose_joins, settle_filters, settle_snapshot
from playbook.scaffold.sources import TABLE_SUFFIXES, Source, read_sources
from playbook.scaffold.tables import TableGuess, choose_tables, filtered_frame, settle_formats
from playbook.scaffold.values import nonblank, parse_dates_loosely
from playbook.storage import write_text

#: ISO codes of the currencies recognised in headers and currency columns.
CURRENCIES = ("USD", "EUR", "GBP", "CHF", "CAD", "AUD", "SEK", "NOK", "DKK", "JPY", "INR",
              "BRL", "MXN", "ZAR", "SGD", "NZD", "PLN")
#: Signs in amounts ("$1,200") and the currency each says.
CURRENCY_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP"}


def assign_tables(sources: list[Source]) -> tuple[dict[str, TableGuess], list[Source]]:
    """The tables proposed from ``sources`` (in the contract's order) and the sources left
    unused: the best file for each table (:func:`~playbook.scaffold.tables.choose_tables`),
    then billing options, the accounts' start date, snapshots, filters, joins, and each
    chosen file's decimal mark, date format and codes."""
    chosen, used = choose_tables(sources)
    mrr = chosen.get("mrr")
    bill = settle_billing(mrr) if mrr is not None and not mrr.missing else None
    if "accounts" in chosen:
        settle_accounts(chosen["accounts"], bill)
    settle_snapshot(chosen)
    settle_filters(chosen)
    propose_joins(chosen, sources, used)
    ordered = {t: settle_formats(chosen[t]) for t in TABLES if t in chosen}
    unused = [s for s in sources if id(s) not in used]
    return ordered, unused


def _date_span(name: str, t: TableGuess) -> tuple[pd.Timestamp, pd.Timestamp, str] | None:
    """(first, last, columns) of a table's dates up to today, over the rows its filters
    keep (renewal and line end dates left out: they may lie ahead)."""
    today = pd.Timestamp(dt.date.today())
    ahead = ("end_date",) if name == "mrr" else ("renewal_date",) if name == "accounts" else ()
    cols = [c for c in t.columns if TABLES[name].column(c).kind in ("date", "month")
            and c not in ahead and t.columns[c].header in t.source.frame]
    frame = filtered_frame(t)
    starts, ends = [], []
    for c in cols:
        d = parse_dates_loosely(frame[t.columns[c].header], bool(t.dayfirst))
        d = d[d <= today]
        if d.notna().any():
            last = d.max()
            if TABLES[name].column(c).kind == "month":
                last = last + pd.offsets.MonthEnd(0)
            starts.append(d.min())
            ends.append(last)
    if not ends:
        return None
    return min(starts), max(ends), ", ".join(t.columns[c].header for c in cols)


def _latest_period(tables: dict[str, TableGuess]) -> tuple[str, str]:
    """The last complete quarter of the subscription history; without one, of the table
    whose dates run latest (renewals, tickets, churn events... over the rows kept)."""
    spans = {name: span for name, t in tables.items() if (span := _date_span(name, t))}
    if not spans:
        return "", ""
    name = "mrr" if "mrr" in spans else max(spans, key=lambda n: spans[n][1])
    first, last, where = spans[name]
    q = last.to_period("Q")
    span = f"{name} ({where}) run from {first:%d %b %Y} to {last:%d %b %Y}"
    # monthly rows run to their month's end; dated rows (line starts, renewals, tickets)
    # are sparser: one in the quarter's last month says the quarter is covered
    if name == "mrr" and tables[name].layout == "monthly":
        covered = last >= q.end_time.normalize() - pd.Timedelta(days=10)
    else:
        covered = last.to_period("M") == q.end_time.to_period("M")
    if covered:
        return f"{q.year}-Q{q.quarter}", f"the last complete quarter: {span}"
    if (q - 1).end_time >= first:
        q = q - 1
        return f"{q.year}-Q{q.quarter}", f"the last complete quarter: {span}"
    return (f"{q.year}-Q{q.quarter}", f"a partial quarter (no complete one in the data): "
            f"{span}; or pass AS_OF={last:%Y-%m-%d}")


def _currency(sources: list[Source], tables: dict[str, TableGuess]) -> tuple[str, str]:
    """(ISO code, comment) of the client's currency: the most cited of the codes in headers
    ('ARR (USD)'), the values of a currency column (counted three times) and the signs in
    the amounts of mapped money columns (twice); USD with a TODO when none is found."""
    seen: Counter[str] = Counter()
    where: dict[str, str] = {}
    for s in sources:
        for h in s.headers:
            for w in tokens(h):
                if w.upper() in CURRENCIES:
                    seen[w.upper()] += 1
                    where.setdefault(w.upper(), h)
    for s in sources:  # a currency column ("Currency": usd, "Currency Code": EUR)
        for h in s.headers:
            if "currency" in tokens(h):
                values = nonblank(s.sample()[h]).str.upper()
                if len(values) and values.isin(CURRENCIES).mean() >= 0.9:
                    code = values.mode().iloc[0]
                    seen[code] += 3
                    where.setdefault(code, f"{h} ({s.label})")
    for t in tables.values():
        for c, g in t.columns.items():
            if TABLES[t.table].column(c).kind == "money":
                sample = nonblank(t.source.frame[g.header]).head(500)
                for sign, code in CURRENCY_SIGNS.items():
                    if sample.str.contains(re.escape(sign)).any():
                        seen[code] += 2
                        where.setdefault(code, f"{sign} in {g.header}")
    if not seen:
        return "USD", "TODO: no currency in headers or values; set the client's currency"
    code, _ = seen.most_common(1)[0]
    return code, f"likely: from '{where[code]}'"


def scaffold_client(client: str, folder: Path | None = None) -> Scaffold:
    """Read ``data/<client>/`` (only reads) and propose its params."""
    check_client_name(client)
    folder = folder or paths.data_dir(client)
    if not folder.is_dir():
        raise ScaffoldError(f"There is no folder {folder} with the client's exports.",
                            fix=f"Create data/{client}/ and put the client's CSV, Excel or "
                            "Parquet exports in it, then run this again.")
    sources: list[Source] = []
    skipped: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if paths.inside_folder(path, folder) is None:  # the loader's check of every file
            skipped.append(f"{path.name}: a link leading outside {folder.name}/; not read")
            continue
        if not path.is_file():
            continue
        if path.suffix.lower() not in TABLE_SUFFIXES:
            skipped.append(f"{path.name}: not a table file (CSV, Excel or Parquet)")
            continue
        try:
            found = read_sources(path)
        except DataError as exc:  # over a limit of the loader: say which
            skipped.append(f"{path.name}: not read ({exc.issues[0].problem})")
            continue
        except Exception as exc:  # noqa: BLE001 - one unreadable file must not stop the rest
            skipped.append(f"{path.name}: cannot be read ({type(exc).__name__}: {exc})")
            continue
        for src in found:
            if src.rows == 0:
                skipped.append(f"{src.label}: a header but no rows")
            else:
                sources.append(src)
        if not found:
            skipped.append(f"{path.name}: no rows")
    if not sources:
        raise ScaffoldError(f"No CSV, Excel or Parquet file in {folder}.",
                            fix=f"Put the client's exports in data/{client}/ (see the data "
                            "request: `make data-request`).")
    tables, unused = assign_tables(sources)
    currency, currency_note = _currency(sources, tables)
    period, period_note = _latest_period(tables)
    mrr = tables.get("mrr")
    bill = billing_frame(mrr) if mrr is not None and not mrr.filters else None
    contracts = propose_contracts(tables, period, bill)
    return Scaffold(client, folder, tables, unused, skipped, currency, currency_note, period,
                    period_note, contracts)


def write_params(client: str, *, force: bool = False, out: Path | None = None
                 ) -> tuple[Path, Scaffold]:
    """Scaffold the client and write the params file (``params/<client>.yaml``).

    Refuses to overwrite an existing file unless ``force``.
    """
    check_client_name(client)
    target = out or paths.params_file(client)
    if target.exists() and not force:
        raise ScaffoldError(
            f"{target} already exists; the scaffold does not overwrite it.",
            fix=f"Write the proposal elsewhere (playbook client {client} --out "
            f"/tmp/{client}.yaml) and compare, or pass --force (make client CLIENT={client} "
            "FORCE=1) to replace it.")
    proposal = scaffold_client(client)
    # atomic: a full disk leaves the previous file whole and is a clear error
    write_text(target, proposal.yaml_text(), "the params file")
    return target, proposal
