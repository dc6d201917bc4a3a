"""The proposal for one client (:class:`Scaffold`) and the params file it writes, one
function per part of the file: the opening comments, ``client``, ``period``, ``contracts``,
each ``tables.<name>`` entry (how its file is read, its joins and filters, its columns, its
codes) and the tables and files not found or not used.

Every guess is written with a comment saying how sure it is (``sure``, ``likely``,
``guess``) and every gap with ``TODO``. Client text goes through the writers of
:mod:`playbook.scaffold.yaml_out` only, and :func:`render_yaml` refuses a proposal with a
line that is not one printable line.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from playbook.contract import TABLES
from playbook.contract_doc import ANALYSES
from playbook.errors import ScaffoldError
from playbook.scaffold.accounts import ContractsGuess
from playbook.scaffold.columns import ColumnGuess
from playbook.scaffold.headers import birth_like_header, norm, stem
from playbook.scaffold.sources import MAX_ROWS, Source
from playbook.scaffold.synonyms import NOT_THIS
from playbook.scaffold.tables import TableGuess, propose_table
from playbook.scaffold.yaml_out import (
    comment_line,
    flow,
    one_line,
    plain,
    q,
    row_count,
    short_list,
    unsafe_line,
    with_comment,
)


@dataclass
class Scaffold:
    """Everything proposed for one client, and how to write it as a params file."""

    client: str
    folder: Path
    tables: dict[str, TableGuess]
    unused: list[Source]
    skipped: list[str]
    currency: str
    currency_note: str
    period: str
    period_note: str
    contracts: ContractsGuess = field(default_factory=ContractsGuess)

    @property
    def snapshot(self) -> bool:
        """Whether a table is dated at the as-of date (a snapshot export)."""
        return any(rule.get("constant_date") == "as_of" for t in self.tables.values()
                   for rule, _ in t.derive.values())

    @property
    def todos(self) -> list[str]:
        """What the consultant must fill or check, one line each."""
        out = []
        for name, t in self.tables.items():
            for c in t.missing:
                out.append(f"{name}.{c}: required column not found in {t.source.label}")
            for c, g in t.columns.items():
                if g.confidence == "guess":
                    note = f", {g.note}" if g.note else ""
                    out.append(f"{name}.{c} <- '{g.header}': {g.how}{note}")
            for c, codes in t.codes.items():
                if codes.unmapped:
                    values = ", ".join(repr(v) for v in codes.unmapped[:6])
                    out.append(f"{name}.codes.{c}: map {values}")
            out += [f"{name}: {n[6:]}" for n in t.date_notes if n.startswith("TODO:")]
            if t.decimal is None and t.decimal_note:
                out.append(f"{name}: {t.decimal_note}")
            if t.secondary:
                out.append(f"{name}: read from {t.source.label}, which another table uses too")
        unknown = [v for v, m in self.contracts.terms.items() if m is None]
        if unknown:
            out.append(f"contracts.term_by_type: the term of {short_list(unknown, 6)}")
        if "accounts" not in self.tables:
            out.insert(0, "accounts: no file looks like the account list (required)")
        if not self.period:
            out.append("period: the snapshot's date (its as-of date): the file has no dates"
                       if self.snapshot else "period: no dates to propose a period from")
        return out

    def yaml_text(self) -> str:
        """The params file: :func:`render_yaml`."""
        return render_yaml(self)

    def summary(self) -> str:
        """What the command line prints: :func:`render_summary`."""
        return render_summary(self)


# --------------------------------------------------------------------------- the params file


def preamble_lines(s: Scaffold) -> list[str]:
    """The opening comments: where the proposal comes from, what the confidence words mean,
    what to run next."""
    return [
        f"# params/{s.client}.yaml: proposed by `make client CLIENT={s.client}` on "
        f"{dt.date.today().isoformat()}",
        f"# from the files in data/{s.client}/ (read, never changed).",
        "# Every guess says how sure it is; review them all before trusting a report:",
        "#   sure   = the contract's name (ignoring case and punctuation) and the values fit",
        "#   likely = a known header of CRM / CS-platform exports, or a known code",
        "#   guess  = a similar name, or the values alone suggest it: check it",
        "#   TODO   = left for you to fill in or to ask the client",
        f"# Next: `make check CLIENT={s.client}` validates the data and prints a profile per",
        f"# table; then `make report CLIENT={s.client}`. Canonical columns and codes:",
        "# docs/data-contract.md; every other parameter and its default: playbook/defaults.yaml.",
        "",
    ]


def client_lines(s: Scaffold) -> list[str]:
    """The ``client`` section: a name to fix and the currency found."""
    return [
        "client:",
        with_comment(f"  name: {q(s.client.replace('-', ' ').replace('_', ' ').title())}",
                     "TODO: the client's name as the cover should show it"),
        with_comment(f"  currency: {plain(s.currency)}", s.currency_note),
        "",
    ]


def period_lines(s: Scaffold) -> list[str]:
    """The ``period`` section: the proposed quarter, or a TODO saying what to set."""
    if s.period:
        period = with_comment(f"  period: {q(s.period)}", f"guess: {s.period_note}")
    elif s.snapshot:
        period = with_comment('  period: ""', "TODO: the snapshot's date is the as-of date: "
                              "the quarter it ends (e.g. 2026-Q2 for 30 June 2026), or pass "
                              "AS_OF=")
    else:
        period = with_comment('  period: ""', "TODO: e.g. 2026-Q3 (or pass PERIOD= / AS_OF=)")
    return ["period:", period, ""]


def contracts_lines(c: ContractsGuess) -> list[str]:
    """The ``contracts`` section's lines (none when there is nothing to propose)."""
    if c.empty:
        return []
    lines = ["contracts:"]
    if c.renewal_date_means:
        lines.append(with_comment(f"  renewal_date_means: {plain(c.renewal_date_means)}",
                                  c.renewal_note))
    if c.terms:
        lines.append(with_comment("  term_by_type:", f"values of '{c.type_header}' -> "
                                  "contract term in months (1 = month-to-month: no renewal "
                                  "decisions)"))
        for value, months in c.terms.items():
            n = row_count(c.counts[value])
            if months is None:
                lines.append(comment_line(4, f"{q(value)}: ?   # TODO {n}: its term in months"))
            else:
                lines.append(with_comment(f"    {q(value)}: {months}", f"likely: {n}"))
    return [*lines, ""]


def reading_lines(t: TableGuess) -> list[str]:
    """How a table's file is read: file, sheet, header line, delimiter, encoding, decimal
    mark, date format, layout and the further options (``end_inclusive``, ...)."""
    src = t.source
    lines = [f"    file: {q(src.path.name)}"]
    if src.truncated:
        lines.append(comment_line(4, f"proposed from the first {MAX_ROWS:,} rows of a larger "
                                  "file"))
    if src.sheet is not None:
        lines.append(with_comment(f"    sheet: {q(src.sheet)}", f"{src.sheets} sheets in the "
                                  "workbook" if src.sheets > 1 else ""))
    if src.header_row != 1:
        lines.append(with_comment(f"    header_row: {src.header_row}",
                                  f"likely: {src.header_row - 1} title line(s) above the "
                                  "header"))
    if src.delimiter and src.delimiter != ",":
        lines.append(with_comment(f"    delimiter: {q(src.delimiter)}", "sure: detected"))
    if src.encoding and src.encoding not in ("utf-8", "utf-8-sig"):
        lines.append(with_comment(f"    encoding: {plain(src.encoding)}",
                                  "likely: the file is not UTF-8"))
    if t.decimal == ",":
        lines.append(with_comment('    decimal: ","', f"likely: {t.decimal_note}"))
    elif t.decimal_note:
        lines.append(comment_line(4, f"TODO decimal: {t.decimal_note}; set decimal: \",\" if "
                                  "commas"))
    if t.date_format:
        lines.append(with_comment(f"    date_format: {q(t.date_format)}",
                                  "likely: every date column is written this way"))
    if t.dayfirst is not None and not (t.date_format and t.dayfirst is False):
        dnote = next((n for n in t.date_notes if "first" in n), "")
        lines.append(with_comment(f"    dayfirst: {'true' if t.dayfirst else 'false'}",
                                  dnote if dnote.startswith("TODO") else f"likely: {dnote}"))
    lines += [comment_line(4, n) for n in t.date_notes if "first" not in n]
    if t.layout:
        what = ("one row per subscription line (start, end, MRR)" if t.layout == "lines"
                else "one row per account and month")
        lines.append(with_comment(f"    layout: {plain(t.layout)}", f"likely: {what}"))
    lines += [with_comment(f"    {key}: {value}", comment)
              for key, (value, comment) in t.options.items()]
    return lines


def assembly_lines(t: TableGuess) -> list[str]:
    """A table's ``join`` and ``filter`` lists, one rule per line."""
    lines = []
    for key, items in (("join", t.joins), ("filter", t.filters)):
        if items:
            lines.append(f"    {key}:")
            lines += [with_comment(f"      - {flow(rule)}", comment) for rule, comment in items]
    return lines


def _column_comment(g: ColumnGuess) -> str:
    """A mapped column's comment: its confidence, how it was found and any note."""
    return f"{g.confidence}: {g.how}" + (f", {g.note}" if g.note else "")


def column_lines(t: TableGuess) -> list[str]:
    """A table's ``columns`` (mapped, left to the loader, notes), its ``derive`` rules and a
    TODO for each needed column not found."""
    spec = TABLES[t.table]
    lines = ["    columns:"]
    lines += [with_comment(f"      {col.name}: {q(g.header)}", _column_comment(g))
              for col in spec.columns if (g := t.columns.get(col.name)) is not None]
    for c, text in t.derived.items():  # left unmapped on purpose (null), or a note
        lines.append(with_comment(f"      {c}: null", text) if c in spec.column_names
                     and spec.column(c).required else comment_line(6, text))
    lines += [comment_line(6, text) for text in t.notes]
    if t.derive:
        lines.append("    derive:")
        lines += [with_comment(f"      {c}: {flow(rule)}", comment)
                  for c, (rule, comment) in t.derive.items()]
    for c in t.missing:
        desc = spec.column(c).description or c
        lines.append(comment_line(6, f"{c}: \"\"   # TODO required: {desc} No column found; "
                                  f"the file has: {short_list(t.unmapped(), 10)}"))
    return lines


def code_lines(t: TableGuess) -> list[str]:
    """A table's ``codes``: each client value -> canonical code with its confidence and row
    count, a TODO for each value not mapped."""
    if not t.codes:
        return []
    spec = TABLES[t.table]
    lines = ["    codes:"]
    for c, codes in t.codes.items():
        allowed = ", ".join(spec.column(c).codes)
        if not codes.counts:
            lines.append(comment_line(6, f"{c}: the column is empty"))
            continue
        if not codes.mapping:
            lines.append(comment_line(6, f"{c}: {{}}   # TODO: map the values of "
                                      f"'{codes.header}' onto {allowed}"))
        else:
            lines.append(with_comment(f"      {c}:", codes.note or f"values of "
                                      f"'{codes.header}' -> {allowed}"))
        for value, n in codes.counts.items():
            if value in codes.mapping:
                lines.append(with_comment(f"        {q(value)}: {plain(codes.mapping[value])}",
                                          f"{codes.how.get(value, 'guess')}: {row_count(n)}"))
            else:
                lines.append(comment_line(8, f"{q(value)}: ?   # TODO {row_count(n)}: one of "
                                          f"{allowed}"))
    return lines


def _not_mapped_note(header: str) -> str:
    """A header no column reads, with why it is not the column it looks like, if known."""
    reason = NOT_THIS.get(norm(header)) or NOT_THIS.get(stem(header)) or (
        "a birth date: never a start or churn date" if birth_like_header(header) else "")
    return f"{header} ({reason})" if reason else header


def table_lines(t: TableGuess) -> list[str]:
    """One ``tables.<name>`` entry: its confidence and reasons, how its file is read, its
    joins and filters, columns, codes, and the headers left unmapped."""
    lines = [with_comment(f"  {t.table}:", f"{t.confidence}: {'; '.join(t.reasons)}"),
             *reading_lines(t), *assembly_lines(t), *column_lines(t), *code_lines(t)]
    left = t.unmapped()
    if left:
        lines.append(comment_line(4, "not mapped: "
                                  + short_list([_not_mapped_note(h) for h in left], 12)))
    return [*lines, ""]


def _unused_reason(src: Source) -> str:
    """Why a file is not used: the table it is closest to and what it lacks (an account
    ID: ask for another export), and its columns."""
    best = max((propose_table(t, src) for t in TABLES), key=lambda g: g.score)
    headers = short_list(src.headers, 10)
    if best.score <= 0 or not best.columns:
        return f"Columns: {headers}."
    found = ", ".join(f"{g.header}->{c}" for c, g in best.columns.items())
    text = f"Closest to '{best.table}' ({found})"
    if best.missing:
        text += f" but it lacks {', '.join(best.missing)}"
        ids = [h for h in src.headers if norm(h).endswith("id") and "account" not in norm(h)]
        ids.sort(key=lambda h: src.frame[h].nunique() / max(len(src.frame), 1))  # foreign first
        if "account_id" in best.missing and ids:
            text += (f" (it is keyed by {ids[0]}; ask the client for an export with the "
                     "account ID)")
    return text + f". Columns: {headers}."


def not_found_lines(s: Scaffold) -> list[str]:
    """Comments closing the file: each table no file holds (and what it feeds), each file
    not used (and the table it is closest to), each file skipped."""
    missing = [n for n in TABLES if n not in s.tables]
    if not (missing or s.unused or s.skipped):
        return []
    lines = ["# ---------------------------------------------------------------- not found"]
    for n in missing:
        uses = "; ".join(ANALYSES[u] for u in TABLES[n].used_by if u in ANALYSES)
        req = "REQUIRED" if TABLES[n].required else "optional"
        lines.append(comment_line(0, f"{n} ({req}): no file found. It feeds: {uses}."))
    lines += [comment_line(0, f"{src.label}: not used. {_unused_reason(src)}")
              for src in s.unused]
    lines += [comment_line(0, text) for text in s.skipped]
    return lines


def render_yaml(s: Scaffold) -> str:
    """The params file text: valid YAML, every guess commented. Refused (ScaffoldError)
    when a line is not one printable line: client text written without the writers of
    :mod:`playbook.scaffold.yaml_out` could start a key."""
    lines = [*preamble_lines(s), *client_lines(s), *period_lines(s),
             *contracts_lines(s.contracts), "tables:"]
    for t in s.tables.values():
        lines += table_lines(t)
    lines += not_found_lines(s)
    broken = unsafe_line(lines)
    if broken is not None:  # a value or comment written without q/plain/one_line
        raise ScaffoldError(f"The proposal for {s.client} has a line that is not one "
                            f"printable line: {one_line(broken, 200)}",
                            fix="This is a bug in playbook/scaffold/proposal.py; please "
                            "report it.")
    return "\n".join(lines).rstrip() + "\n"


def render_summary(s: Scaffold) -> str:
    """What the CLI prints: table -> file with confidence, then what to fix."""
    out = [f"{s.client}: {len(s.tables)} table(s) proposed from "
           f"{len({t.source.path for t in s.tables.values()})} file(s) in data/{s.client}/"]
    for name, t in s.tables.items():
        counts = Counter(g.confidence for g in t.columns.values())
        conf = ", ".join(f"{counts[k]} {k}" for k in ("sure", "likely", "guess") if counts[k])
        layout = f", layout {t.layout}" if t.layout else ""
        for what, n in (("join", len(t.joins)), ("filter", len(t.filters)),
                        ("derived", len(t.derive))):
            layout += f", {n} {what}" + ("s" if n > 1 and what != "derived" else "") if n else ""
        out.append(f"  {name:<13} <- {t.source.label:<36} {t.confidence:<6} "
                   f"{len(t.columns)} columns ({conf}){layout}")
    missing = [n for n in TABLES if n not in s.tables]
    if missing:
        out.append(f"  not found: {', '.join(missing)}")
    for src in s.unused:
        out.append(f"  not used:  {src.label}")
    todos = s.todos
    if todos:
        out.append(f"To check or fill ({len(todos)}):")
        out += [f"  - {t}" for t in todos]
    return "\n".join(out)
