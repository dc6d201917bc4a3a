"""Which file holds which table: every source scored against every table of the contract,
at most one source per table, and how the chosen file writes its numbers, dates and codes.

A source's score for a table (:func:`propose_table`) counts the needed columns found, the
likely optional ones, a file or sheet name that says the table (:data:`FILE_WORDS`) and, for
a table whose key must be unique, whether it is. :func:`choose_tables` takes the best pairs
first; a table no file holds may borrow a file already used when that file has its own
columns (a ticket export's satisfaction score read as ``surveys``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from playbook.contract import TABLES
from playbook.scaffold.codes import CodeGuess, guess_codes
from playbook.scaffold.columns import (
    GUESS,
    LIKELY,
    ColumnGuess,
    match_headers,
    value_only_guess,
)
from playbook.scaffold.headers import demographic_header, tokens
from playbook.scaffold.sources import Source
from playbook.scaffold.values import DateGuess, blank_mask, detect_decimal
from playbook.scaffold.yaml_out import Word

#: Words in a file name that say which table it holds.
FILE_WORDS: dict[str, tuple[str, ...]] = {
    "accounts": ("account", "accounts", "company", "companies", "customer", "customers",
                 "client", "clients", "organization", "organizations", "organisations", "orgs"),
    "mrr": ("mrr", "subscription", "subscriptions", "billing", "invoice", "invoices",
            "revenue", "arr", "charges", "recurring"),
    "churn_events": ("churn", "churns", "cancellation", "cancellations", "cancel", "churned"),
    "renewals": ("renewal", "renewals", "opportunities", "opportunity", "opps", "deals",
                 "deal"),
    "usage": ("usage", "analytics", "adoption", "logins", "telemetry"),
    "tickets": ("ticket", "tickets", "support", "cases", "case", "zendesk", "helpdesk",
                "incidents"),
    "surveys": ("survey", "surveys", "nps", "csat", "responses"),
    "contacts": ("contact", "contacts", "people", "persons", "stakeholders"),
    "touches": ("touch", "touches", "activities", "activity", "interactions", "engagements",
                "meetings", "calls", "timeline", "tasks"),
    "csm_inputs": ("csm", "scores", "scorecard", "scorecards", "health", "assessments"),
    "onboarding": ("onboarding", "milestones", "milestone", "implementation"),
    "outcomes": ("outcomes", "outcome", "success_plans", "goals", "objectives"),
    "triggers": ("triggers", "trigger", "trigger_events", "alerts", "signals"),
}


def needed_columns(table: str, layout: str | None) -> list[str]:
    """The columns ``table`` needs to be read: its required ones; for ``mrr``, account,
    month and MRR (monthly rows) or account, MRR and start date (``layout: lines``)."""
    spec = TABLES[table]
    if table == "mrr":
        return ["account_id", "mrr", "start_date"] if layout == "lines" else [
            "account_id", "month", "mrr"]
    return [c.name for c in spec.columns if c.required]


@dataclass
class TableGuess:
    """One proposed ``tables.<name>`` entry."""

    table: str
    source: Source
    columns: dict[str, ColumnGuess]
    layout: str | None = None
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    secondary: bool = False
    decimal: str | None = None
    decimal_note: str = ""
    dates: dict[str, DateGuess] = field(default_factory=dict)
    dayfirst: bool | None = None
    date_format: str | None = None
    date_notes: list[str] = field(default_factory=list)
    codes: dict[str, CodeGuess] = field(default_factory=dict)
    #: further ``tables.<name>`` options: key -> (YAML value, written by q/plain, comment)
    options: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: canonical columns the loader derives (not mapped): column -> how, for the comment;
    #: a required one is written ``null`` (left unmapped on purpose, never matched by name)
    derived: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # comment lines under the columns
    #: table assembly (playbook.assembly): joins, row filters and derivations, each with
    #: its comment; values of the client are written by q(), the vocabulary's words plain
    joins: list[tuple[dict, str]] = field(default_factory=list)
    filters: list[tuple[dict, str]] = field(default_factory=list)
    derive: dict[str, tuple[dict, str]] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        """Needed columns neither mapped nor derived."""
        return [c for c in needed_columns(self.table, self.layout)
                if c not in self.columns and c not in self.derived and c not in self.derive]

    @property
    def confidence(self) -> str:
        """``sure`` (a strong fit, every column likely or better), ``likely`` or ``guess``
        (a needed column missing, or a file another table reads too)."""
        if self.missing or self.secondary:
            return "guess"
        low = min((g.score for g in self.columns.values()), default=0)
        return "sure" if self.score >= 150 and low >= LIKELY else "likely"

    def unmapped(self) -> list[str]:
        """Headers of the file that no column, join, filter or derivation reads."""
        used = {g.header for g in self.columns.values()} | self.assembly_headers()
        return [h for h in self.source.headers if h not in used]

    def assembly_headers(self) -> set[str]:
        """Headers of the file the joins, filters and derivations read."""
        out = {rule["column"] for rule, _ in self.filters}
        out |= {left for join, _ in self.joins for left in join["on"]}
        for rule, _ in self.derive.values():
            inner = next(iter(rule.values()))
            if isinstance(inner, dict):
                out |= {v for k, v in inner.items() if k in ("date", "months")
                        and not isinstance(v, Word)}
            elif isinstance(inner, str) and not isinstance(inner, Word):
                out.add(inner)
        return out


def file_hint(table: str, source: Source) -> str:
    """The word of the file (or sheet) name that says it holds ``table`` ("" if none)."""
    words = [*tokens(source.path.stem), *tokens(source.sheet or "")]
    return next((w for w in words if w in FILE_WORDS[table]), "")


def key_unique(table: str, source: Source, columns: dict[str, ColumnGuess]) -> bool | None:
    """Whether ``table``'s key is unique in the file's rows where it is filled; None for a
    table without a key (or ``mrr``) or when a key column is not mapped."""
    key = TABLES[table].key
    if table == "mrr" or not key or not all(k in columns for k in key):
        return None
    frame = source.frame[[columns[k].header for k in key]]
    frame = frame.loc[~frame.apply(lambda c: blank_mask(c)).any(axis=1)]
    return bool(len(frame)) and not frame.duplicated().any()


def propose_table(table: str, source: Source) -> TableGuess:
    """Match one source against one table and score the fit."""
    cols = match_headers(table, source.headers, source)
    layout = None
    if table == "mrr":
        layout = "lines" if "month" not in cols and "start_date" in cols else "monthly"
        if layout == "monthly":
            cols.pop("start_date", None)
            cols.pop("end_date", None)
    guess = TableGuess(table, source, cols, layout)
    needed = needed_columns(table, layout)
    for column in guess.missing if file_hint(table, source) else ():
        extra = value_only_guess(table, column, source, {g.header for g in cols.values()})
        if extra is not None:
            cols[column] = extra
    found = [c for c in needed if c in cols]
    coverage = len(found) / len(needed)
    optional = [c for c, g in cols.items() if c not in needed and g.score >= LIKELY]
    hint = file_hint(table, source)
    unique = key_unique(table, source, cols)
    score = 100 * coverage + 12 * len(optional) + (45 if hint else 0)
    score += sum(cols[c].score for c in found) / max(len(needed), 1) / 10
    if unique is True:
        score += 15
        guess.reasons.append(f"{'/'.join(TABLES[table].key)} unique in {source.rows:,} rows")
    elif unique is False:
        score -= 120
        guess.reasons.append(f"{'/'.join(TABLES[table].key)} repeats")
    if hint:
        where = "sheet" if hint in tokens(source.sheet or "") else "file"
        guess.reasons.insert(0, f"the {where} name says '{hint}'")
    guess.reasons.append(f"{len(cols)} of {len(TABLES[table].columns)} columns found")
    guess.score = score
    return guess


def _usable(guess: TableGuess) -> bool:
    """Whether a source may be proposed for the table at all: tied to accounts, named for
    the table or holding its content, and not a profile read as churn events."""
    needed = needed_columns(guess.table, guess.layout)
    coverage = 1 - len(guess.missing) / len(needed)
    hint = file_hint(guess.table, guess.source)
    if TABLES[guess.table].references_accounts and "account_id" in guess.missing:
        return False  # cannot be tied to accounts: listed as not used, with the reason
    if hint and TABLES[guess.table].required:
        return True  # the file name says it is the required table: propose it, flag the gaps
    spec = TABLES[guess.table]
    content = [c for c, g in guess.columns.items()
               if spec.column(c).kind != "id" and g.score >= LIKELY]
    if not hint and not content:
        return False  # an account column alone does not say which table a file is
    if guess.table == "churn_events" and _profile_file(guess):
        return False  # who the customers are, not when and why they left
    return guess.score > 0 and (coverage == 1 or (bool(hint) and coverage >= 0.5))


def _profile_file(guess: TableGuess) -> bool:
    """Whether a file proposed as churn events is a profile of the customers instead:
    demographic columns (birth date, gender, country, channel) and no churn date, reason or
    lost MRR named as such."""
    named = [c for c, g in guess.columns.items() if c != "account_id" and g.score >= GUESS]
    return not named and any(demographic_header(h) for h in guess.source.headers)


def choose_tables(sources: list[Source]) -> tuple[dict[str, TableGuess], set[int]]:
    """Choose at most one source per table (and one table per source), best fit first;
    then let a table no file holds borrow a source already used when that source has the
    table's columns and a distinctive one the first table does not use (e.g. a ticket
    export's satisfaction score read as ``surveys``). Returns the chosen tables and the
    ``id()`` of every source used."""
    candidates = [propose_table(t, s) for s in sources for t in TABLES]
    chosen: dict[str, TableGuess] = {}
    used: set[int] = set()
    for guess in sorted((g for g in candidates if _usable(g)), key=lambda g: -g.score):
        if guess.table in chosen or id(guess.source) in used:
            continue
        chosen[guess.table] = guess
        used.add(id(guess.source))
    for guess in sorted(candidates, key=lambda g: -g.score):
        if guess.table in chosen or id(guess.source) not in used or guess.missing:
            continue
        needed = needed_columns(guess.table, guess.layout)
        if any(guess.columns[c].score < LIKELY for c in needed):
            continue
        if key_unique(guess.table, guess.source, guess.columns) is False:
            continue
        taken = {g.header for t in chosen.values() if t.source is guess.source
                 for g in t.columns.values()}
        spec = TABLES[guess.table]
        own = [g for c, g in guess.columns.items() if spec.column(c).kind not in
               ("id", "date", "month") and g.score >= LIKELY and g.header not in taken]
        if own:
            guess.secondary = True
            guess.reasons.insert(0, f"{', '.join(g.header for g in own)} in a file "
                                 "already used: read it a second time")
            chosen[guess.table] = guess
    return chosen, used


def filtered_frame(t: TableGuess) -> pd.DataFrame:
    """The rows of the guess's file its proposed filters keep (compared as the loader
    does: text ignoring case and surrounding spaces)."""
    frame = t.source.frame
    for rule, _ in t.filters:
        text = frame[rule["column"]].astype(str).str.strip()
        lower = text.str.casefold()
        blank = blank_mask(text)
        if "is_blank" in rule:
            keep = blank if rule["is_blank"] else ~blank
        else:
            values = [rule["equals"]] if "equals" in rule else rule.get("in", rule.get(
                "not_in", []))
            inside = lower.isin([str(v).strip().casefold() for v in values]) & ~blank
            keep = ~inside if "not_in" in rule else inside
        frame = frame.loc[keep]
    return frame


def settle_formats(guess: TableGuess) -> TableGuess:
    """Detect decimal mark, date format and codes of the columns of a chosen table (its
    codes over the rows its filters keep); returns the same guess."""
    spec = TABLES[guess.table]
    numeric = [g.header for c, g in guess.columns.items()
               if spec.column(c).kind in ("money", "number", "count")]
    if numeric:
        sample = guess.source.sample()
        decimal, note = detect_decimal(pd.concat([sample[h] for h in numeric]))
        if decimal == "," or (decimal is None and note):
            guess.decimal, guess.decimal_note = decimal, note
    styles: dict[str, DateGuess] = {}
    for c, g in guess.columns.items():
        if spec.column(c).kind in ("date", "month"):
            styles[c] = guess.source.dates(g.header)
    guess.dates = styles
    kinds = {d.style for d in styles.values() if d.style != "none"}
    headers = {c: guess.columns[c].header for c in styles}
    if "mixed" in kinds or ("dayfirst" in kinds and "monthfirst" in kinds):
        bad = [headers[c] for c, d in styles.items() if d.style in ("mixed", "dayfirst",
                                                                     "monthfirst")]
        guess.date_notes.append(
            "TODO: " + ", ".join(bad) + " mix day-first and month-first dates: ask the client "
            "for ISO dates (YYYY-MM-DD); " + "; ".join(d.evidence for d in styles.values()
                                                        if d.evidence and d.style == "mixed"))
    elif "dayfirst" in kinds or "monthfirst" in kinds:
        first = "dayfirst" in kinds
        guess.dayfirst = first
        which = "dayfirst" if first else "monthfirst"
        ev = next(d for d in styles.values() if d.style == which)
        cols = [headers[c] for c, d in styles.items() if d.style in (which, "ambiguous")]
        guess.date_notes.append(f"{'day' if first else 'month'}-first dates in "
                                f"{', '.join(cols)}: {ev.evidence}")
        fmts = {d.date_format for d in styles.values() if d.style != "none"}
        if len(fmts) == 1 and None not in fmts:
            guess.date_format = fmts.pop()
    elif "ambiguous" in kinds:
        amb = [headers[c] for c, d in styles.items() if d.style == "ambiguous"]
        guess.dayfirst = False
        ev = next(d for d in styles.values() if d.style == "ambiguous")
        guess.date_notes.append(
            f"TODO: {', '.join(amb)}: {ev.evidence}; ask the client whether their system "
            "writes day or month first (read as month first until then)")
    for c, d in styles.items():
        if d.style == "excel":
            guess.date_notes.append(f"{headers[c]}: Excel serial numbers (read as dates)")
        elif d.style == "text":
            guess.date_notes.append(f"{headers[c]}: {d.evidence}; check a few in the profile")
    kept = filtered_frame(guess)  # codes of the rows the proposed filters keep
    for col in spec.columns:
        g = guess.columns.get(col.name)
        if g is not None and col.kind == "code":
            guess.codes[col.name] = guess_codes(col.name, g.header, kept[g.header],
                                                allowed=col.codes)
    return guess
