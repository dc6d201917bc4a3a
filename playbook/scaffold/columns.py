"""Column guesses: which client header holds each column of the contract, with a score
and the evidence.

A header scores by how it matches (:func:`header_score`): the contract's name (100); the
same ignoring case and punctuation (97); a known export header (90,
:mod:`playbook.scaffold.synonyms`), also once a unit such as "(USD)" (88) or a table's
prefix such as "Ticket" (86) is removed; a similar name (66). The file's values then move
the score (:func:`value_fit`): dates that are not dates, amounts that are text, scores out
of range mark it down below :data:`GUESS`. Scores of :data:`SURE` and :data:`LIKELY` and
above are written as ``sure`` and ``likely``; others as ``guess``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
from dataclasses import dataclass

import pandas as pd

from playbook.contract import TABLES, ColumnSpec
from playbook.scaffold.codes import guess_codes
from playbook.scaffold.headers import ID_WORDS, birth_like_header, norm, stem, tokens, unprefixed
from playbook.scaffold.sources import Source, column_dates
from playbook.scaffold.synonyms import WEAK_CODE_HEADERS, synonyms
from playbook.scaffold.values import (
    detect_dates,
    nonblank,
    numeric_share,
    parse_numbers_loosely,
)

SURE, LIKELY, GUESS = 95, 85, 60  # score thresholds of the confidence words
PERSON_AGE_YEARS = 20  # most dates of a "start" this many years before today: birth dates
IMPLAUSIBLE_SHARE = 0.5  # share of values (or accounts) past a limit that rules a column out


@dataclass
class ColumnGuess:
    """One proposed mapping: canonical column <- client header, with the evidence."""

    column: str
    header: str
    score: int
    how: str
    note: str = ""

    @property
    def confidence(self) -> str:
        """``sure``, ``likely`` or ``guess`` by the score (:data:`SURE`, :data:`LIKELY`)."""
        return "sure" if self.score >= SURE else "likely" if self.score >= LIKELY else "guess"


def value_fit(col: ColumnSpec, values: pd.Series, header: str = "") -> tuple[int, str]:
    """(score adjustment, note) for how well a column's values fit a contract column."""
    text = nonblank(values)
    if text.empty:
        return 0, "the column is empty"
    n = len(text)
    if col.kind in ("date", "month"):
        guess = detect_dates(text)
        if guess.share < 0.8:
            return -40, f"but its values do not look like dates (e.g. '{text.iloc[0]}')"
        return 3, ""
    if col.kind in ("money", "number", "count"):
        share = numeric_share(text)
        if share < 0.8:
            return -40, f"but its values are not numbers (e.g. '{text.iloc[0]}')"
        if col.kind in ("money", "number") and detect_dates(text.head(200)).style in (
                "iso", "dayfirst", "monthfirst", "mixed"):
            return -40, "but its values are dates"
        nums = parse_numbers_loosely(text)
        if nums.isna().mean() > 0.2:
            nums = parse_numbers_loosely(text, ",")
        nums = nums.dropna()
        if col.min is not None and col.max is not None and len(nums):
            inside = nums.between(col.min, col.max).mean()
            if inside < 0.9:
                return -35, (f"but its values run {nums.min():g}-{nums.max():g}, outside the "
                             f"{col.min:g}-{col.max:g} scale")
        if col.kind in ("money", "count") and len(nums) and (nums < 0).mean() > 0.2:
            return -20, "but many values are negative"
        return 3, ""
    if col.kind == "code":
        codes = guess_codes(col.name, header, text, allowed=col.codes)
        if norm(header) in WEAK_CODE_HEADERS.get(col.name, ()) and codes.unmapped:
            return -40, f"but '{header}' holds values that are not {col.name} codes"
        if codes.mapped_share >= 0.5:
            return 3, ""
        if text.nunique() > 40:
            return -30, f"but it has {text.nunique()} different values, not a short list"
        return -5, ""
    if col.kind == "id":
        if text.nunique() == 1 and n > 1:
            return -30, "but it holds one value only"
        return 0, ""
    if col.kind == "text" and n > 1 and text.nunique() == 1:
        return -25, "but it holds one value only"
    return 0, ""


def column_fit(source: Source, col: ColumnSpec, header: str) -> tuple[int, str]:
    """:func:`value_fit` of ``header``'s sampled values for ``col``; cached on the source."""
    key = ("fit", col.name, col.kind, header)
    if key not in source.cache:
        source.cache[key] = value_fit(col, source.sample()[header], header)
    return source.cache[key]


@functools.lru_cache(maxsize=256)
def _targets(table: str, column: str) -> frozenset[str]:
    """The normalised names a header of ``table.column`` may have: its own and its synonyms."""
    return frozenset({norm(column)} | {norm(x) for x in synonyms(table, column)})


@functools.lru_cache(maxsize=20_000)
def header_score(table: str, col: ColumnSpec, header: str) -> tuple[int, str]:
    """(score 0-100, how) of ``header`` as ``table``'s column ``col`` by its name alone:
    100 the same name ... 66 a similar name, 0 no match (see the module's docstring)."""
    if header == col.name:
        return 100, "same name"
    n, s, u = norm(header), stem(header), unprefixed(header, table)
    if n == norm(col.name):
        return 97, "same name ignoring case and punctuation"
    target = _targets(table, col.name)
    if n in target:
        return 90, "known export header"
    if s and s in target:
        return 88, "known header once the unit is removed"
    if u and u in target:
        return 86, f"known header without its '{tokens(header)[0]}' prefix"
    key = s or n
    if col.kind == "id" and not set(tokens(header)) & ID_WORDS:
        return 0, ""  # an identifier's header names it as one ('Company' is a name)
    best = 0.0
    for t in target:
        if 2 * min(len(key), len(t)) < 0.86 * (len(key) + len(t)):
            continue  # lengths alone rule it out
        m = difflib.SequenceMatcher(None, key, t)
        if m.real_quick_ratio() >= 0.86 and m.quick_ratio() >= 0.86:
            best = max(best, m.ratio())
    if best >= 0.86 and len(key) >= 4:
        return 66, "similar name"
    return 0, ""


def match_headers(table: str, headers: list[str], source: Source | None = None
                  ) -> dict[str, ColumnGuess]:
    """Propose the client header for each contract column of ``table``.

    Each header serves at most one column; the best-scoring pairs are taken first. With
    ``source`` (the file's values) a header whose values do not fit the column's kind is
    marked down, below the threshold when they clearly do not fit.
    """
    spec = TABLES[table]
    pairs: list[tuple[int, int, str, str, str, str]] = []
    for order, col in enumerate(spec.columns):
        for header in headers:
            score, how = header_score(table, col, header)
            if not score or (col.kind in ("date", "month") and birth_like_header(header)):
                continue  # a person's birth date is no date of the contract
            note = ""
            if source is not None:
                adjust, note = column_fit(source, col, header)
                score = min(100, score + adjust)
            if score >= GUESS:
                pairs.append((score, -order, col.name, header, how, note))
    pairs.sort(key=lambda p: (p[0], p[1]), reverse=True)
    out: dict[str, ColumnGuess] = {}
    used: set[str] = set()
    for score, _, column, header, how, note in pairs:
        if column in out or header in used:
            continue
        out[column] = ColumnGuess(column, header, score, how, note)
        used.add(header)
    return out


def value_only_guess(table: str, column: str, source: Source, used: set[str]
                     ) -> ColumnGuess | None:
    """For a required column no header matched: the one unused column whose values fit."""
    col = TABLES[table].column(column)
    if col.kind not in ("date", "month"):
        return None
    fits = [h for h in source.headers if h not in used and source.dates(h).share >= 0.9
            and not birth_like_header(h) and not birth_like_values(source, h)]
    if len(fits) != 1:
        return None
    return ColumnGuess(column, fits[0], 50, "the only unused date column",
                       "from the values only: confirm")


def birth_like_values(source: Source, header: str) -> str:
    """Why the dates of ``header`` are a person's birth dates ("" if they are not): most of
    them lie more than PERSON_AGE_YEARS years before today."""
    dates = column_dates(source, header).dropna()
    if dates.empty:
        return ""
    age = (pd.Timestamp(dt.date.today()) - dates).dt.days / 365.25
    if (age > PERSON_AGE_YEARS).mean() <= IMPLAUSIBLE_SHARE:
        return ""
    return (f"'{header}' holds dates a median {age.median():.0f} years before today: a "
            "person's birth date, not a customer's")
