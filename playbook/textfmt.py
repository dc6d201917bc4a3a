"""Number formatting for sentences, titles and tables. Never prints "nan".

Every function returns ``missing`` (default "n/a") for None/NaN, so a generated sentence can
not show a raw "nan". :func:`md_escape` makes a client's or a parameter's text literal inside
generated markdown.

The report's conventions, written once here: a negative figure carries the minus sign
(U+2212, :data:`MINUS`), never a hyphen; money is compact with its symbol (``$1.2M``,
``$840K``, ``$8,886``), one unit per table column (:func:`money_column`); dates read
``30 Sep 2026`` (:func:`date`); counts of people or things are whole numbers
(:func:`count`, :func:`plural`); a range whose ends are equal is one figure
(:func:`span`); a parameter's value is shown as a person writes it (:func:`param_value`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

#: Characters that start markup anywhere in a line: code spans, emphasis, links and
#: images, raw HTML and entities, strikethrough, math, table cells, headings.
MARKDOWN_INLINE = frozenset("\\`*_[]<>&!~$|#")
#: What starts a block only at the start of a line (list item, numbered item, setext
#: underline, definition): escaped there only, so "Mid-market" stays readable.
_LEADING_BLOCK = re.compile(r"^(\s*)([-+=:]|\d+(?=[.)]))")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$"}
#: The minus sign of every negative figure the report prints (a hyphen reads as a dash).
MINUS = "\u2212"
#: What a table cell shows for a figure that does not exist (en dash).
ABSENT = "\u2013"


def is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(float(value)))
    except (TypeError, ValueError):
        return False


def money(value: Any, currency: str = "USD", *, compact: bool = True,
          missing: str = "n/a") -> str:
    """Format an amount: ``$2.7T``, ``$3.4B``, ``$1.2M``, ``$45K``, ``$1.5K``, ``$950``
    (compact) or ``$1,234,567``."""
    if is_missing(value):
        return missing
    v = float(value)
    sign = MINUS if v < 0 else ""
    v = abs(v)
    sym = CURRENCY_SYMBOLS.get(currency, "")
    suffix = "" if sym else f" {currency}"
    if compact and v >= 1e12:
        body = f"{v / 1e12:.1f}T"
    elif compact and v >= 1e9:
        body = f"{v / 1e9:.1f}B"
    elif compact and v >= 1e6:
        body = f"{v / 1e6:.1f}M"
    elif compact and v >= 1e4:
        body = f"{v / 1e3:.0f}K"
    elif compact and v >= 1e3:
        body = f"{v / 1e3:.1f}K"
    else:
        body = f"{v:,.0f}"
    return f"{sign}{sym}{body}{suffix}"


def short_amount(value: float, decimals: int = 1) -> str:
    """An amount without currency for chart labels: ``2.73T``, ``3.4B``, ``1.2M``, ``45K``,
    ``950``, ``−1.9M`` (``decimals`` for T/B/M; the minus sign, never a hyphen)."""
    a = abs(float(value))
    for size, letter in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if a >= size:
            return with_minus(f"{value / size:.{decimals}f}{letter}")
    return with_minus(f"{value / 1e3:.0f}K" if a >= 1e3 else f"{value:.0f}")


def with_minus(text: str) -> str:
    """A formatted number with its leading hyphen made a minus sign; a figure that rounds
    to zero loses its sign ("-0.0%" -> "0.0%")."""
    if not text.startswith("-"):
        return text
    if not any(ch in "123456789" for ch in text):
        return text[1:]
    return MINUS + text[1:]


def pct(value: Any, digits: int = 1, *, signed: bool = False, missing: str = "n/a") -> str:
    """Format a share (0.123 -> ``12.3%``, -0.11 -> ``−11.0%``)."""
    if is_missing(value):
        return missing
    text = with_minus(f"{float(value) * 100:.{digits}f}%")
    if signed and not text.startswith(MINUS) and any(ch in "123456789" for ch in text):
        text = "+" + text
    return text


def points(value: Any, digits: int = 1, *, missing: str = "n/a") -> str:
    """Format a difference of two shares in percentage points (0.05 -> ``+5.0 pts``,
    -0.05 -> ``−5.0 pts``)."""
    if is_missing(value):
        return missing
    return with_minus(f"{float(value) * 100:+.{digits}f} pts")


def count(value: Any, *, missing: str = "n/a") -> str:
    """A count of people or things as a whole number (7.0 -> ``7``, 1234 -> ``1,234``)."""
    if is_missing(value):
        return missing
    return with_minus(f"{int(round(float(value))):,}")


def number(value: Any, digits: int = 2, *, missing: str = "n/a") -> str:
    """A plain figure with ``digits`` decimals and a minus sign (-0.967 -> ``−0.97``)."""
    if is_missing(value):
        return missing
    return with_minus(f"{float(value):,.{digits}f}")


def signed(value: Any, digits: int = 1, unit: str = "", *, missing: str = "n/a") -> str:
    """A change or gap with its sign and unit: ``+0.8 FTE``, ``−4.0 FTE``, ``0.0 FTE``."""
    if is_missing(value):
        return missing
    text = with_minus(f"{float(value):+,.{digits}f}")
    if not any(ch in "123456789" for ch in text):
        text = text.lstrip("+")
    return f"{text} {unit}".strip()


def _timestamp(value: Any) -> Any:
    """``pandas.Timestamp(value)``. pandas is imported when a date is first written, not
    with this module: the processes that drive the kernels import this module (through
    :mod:`playbook.errors`) and never write a date, and pandas would cost each of them about
    0.5 CPU s and 35 MB (issue 22)."""
    import pandas as pd

    return pd.Timestamp(value)


def date(value: Any, *, missing: str = "n/a") -> str:
    """A day as the report writes it: ``30 Sep 2026`` (from a date, a timestamp or an ISO
    string)."""
    if is_missing(value) or value == "":
        return missing
    import pandas as pd  # (see _timestamp)

    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    if pd.isna(day):
        return missing
    return f"{day.day} {day:%b %Y}"


def date_time(value: Any, *, missing: str = "n/a") -> str:
    """A moment to the minute: ``5 Dec 2026, 08:12``."""
    if is_missing(value) or value == "":
        return missing
    try:
        moment = _timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{date(moment)}, {moment:%H:%M}"


def month(value: Any, *, missing: str = "n/a") -> str:
    """A month: ``Sep 2026``."""
    if is_missing(value) or value == "":
        return missing
    return f"{_timestamp(value):%b %Y}"


def span(low: Any, high: Any, fmt: Callable[[Any], str] = pct) -> str:
    """A range of two figures as text: ``12%-18%`` with an en dash, or one figure when both
    ends print the same (``100%``, never "between 100% and 100%")."""
    lo, hi = fmt(low), fmt(high)
    return lo if lo == hi else f"{lo}\u2013{hi}"


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def param_value(value: Any) -> str:
    """A parameter's value as a person writes it: ``none`` for null, an en dash for an
    empty text or list, a list as ``cheaper, expensive, price``, a mapping as
    ``key: value; ...``, true/false as ``yes``/``no``, a date as ``30 Sep 2026``; never
    JSON quotes or brackets."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        if _ISO_DAY.match(value.strip()):
            return date(value.strip())
        return value if value.strip() else ABSENT
    if isinstance(value, dict):
        return "; ".join(f"{k}: {param_value(v)}" for k, v in value.items()) or ABSENT
    if isinstance(value, list | tuple | set):
        return ", ".join(param_value(v) for v in value) or ABSENT
    if hasattr(value, "isoformat"):
        return date(value)
    if isinstance(value, float):
        return with_minus(f"{value:g}")
    return with_minus(str(value))


#: A table header that names its currency: "MRR (USD)", "ARPA (USD/month)",
#: "cost required (USD per year)". The currency goes into each cell instead.
_MONEY_HEADER = re.compile(r"^(?P<label>.*?)\s*\((?P<cur>[A-Z]{3})(?P<per>\s*(?:/|per)\s*\w+)?\)$")


def money_header(header: str) -> tuple[str, str] | None:
    """``(label, currency)`` of a money column's header (``"MRR (USD)"`` -> ``("MRR",
    "USD")``; ``"ARPA (USD/month)"`` -> ``("ARPA a month", "USD")``), or None when the
    header names no currency code."""
    found = _MONEY_HEADER.match(str(header))
    if not found:
        return None
    label = found["label"]
    if found["per"]:
        label += " a " + found["per"].replace("/", " ").replace("per", " ").split()[-1]
    return label, found["cur"]


def money_column(values: Sequence[Any] | Iterable[Any], currency: str = "USD", *,
                 missing: str = ABSENT) -> list[str]:
    """Money cells of one table column, all in one unit chosen by the column's largest
    amount: millions (``$1.85M``, two decimals below $10M, else one) from $1M, thousands
    (``$840K``) from $100K, whole amounts (``$8,886``) below. An amount too small for the
    unit reads ``<$1K`` / ``<$0.01M`` (never a misleading $0K); zero is ``$0``; a
    negative amount ``−$1.9M``; a missing one ``missing``."""
    values = list(values)
    present = [abs(float(v)) for v in values if not is_missing(v)]
    top = max(present, default=0.0)
    sym = CURRENCY_SYMBOLS.get(currency, "")
    suffix = "" if sym else f" {currency}"
    if top >= 1e6:
        size, letter, digits = 1e6, "M", 2 if top < 1e7 else 1
    elif top >= 1e5:
        size, letter, digits = 1e3, "K", 0
    else:
        size, letter, digits = 1.0, "", 0
    smallest = 10.0 ** -digits
    cells = []
    for v in values:
        if is_missing(v):
            cells.append(missing)
            continue
        amount = float(v)
        scaled = abs(amount) / size
        sign = MINUS if amount < 0 else ""
        if amount == 0:
            body = "0"
        elif round(scaled, digits) < smallest:
            sign, body = "<" + sign, f"{smallest:.{digits}f}{letter}"
        else:
            body = f"{scaled:,.{digits}f}{letter}"
        cells.append(f"{sign}{sym}{body}{suffix}")
    return cells


def pvalue(value: Any, *, missing: str = "n/a") -> str:
    """Format a p-value: ``0.032``, ``< 0.001``."""
    if is_missing(value):
        return missing
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.3f}"


def p_is(value: Any, *, missing: str = "p n/a") -> str:
    """A p-value in a sentence: ``p = 0.032``, ``p < 0.001`` (never ``p = < 0.001``)."""
    if is_missing(value):
        return missing
    text = pvalue(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def and_list(items: Sequence[str]) -> str:
    """Items joined in words: "a", "a and b", "a, b and c" ("" for none)."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def noun(n: int, word: str, plural_word: str | None = None) -> str:
    """The word for ``n`` things: ``noun(1, "table")`` -> "table", ``noun(3, "table")`` ->
    "tables" (never "table(s)")."""
    return word if n == 1 else (plural_word or word + "s")


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    """``plural(1, "account")`` -> "1 account"; ``plural(3, "account")`` -> "3 accounts";
    a count, so a whole number (``7.0`` -> "7 owners")."""
    n = int(round(float(n)))
    return f"{count(n)} {noun(n, word, plural_word)}"


def md_escape(value: Any) -> str:
    """``value`` as literal text inside markdown: no markup, no HTML, no link, no math.

    Every character of :data:`MARKDOWN_INLINE` gets a backslash (``<img src=x>`` ->
    ``\\<img src=x\\>``, ``[x](javascript:...)`` -> ``\\[x\\](javascript:...)``, ``$5`` ->
    ``\\$5``), and so does a list or numbered-item marker at the start (``1. x`` ->
    ``1\\. x``); line breaks become spaces, so the value cannot start a heading, a list or a
    code block of its own. Any CommonMark renderer, raw HTML allowed or not, then shows the
    value as typed. Use it for every client or parameter value put into a sentence that is
    shown as markdown (:meth:`playbook.session.NotebookSession.say`); exhibit titles and
    tables are HTML-escaped where they are rendered and take the value as it is.
    """
    text = _LINE_BREAKS.sub(" ", str(value))
    text = "".join("\\" + ch if ch in MARKDOWN_INLINE else ch for ch in text)
    return _LEADING_BLOCK.sub(_escape_marker, text, count=1)


def _escape_marker(match: re.Match[str]) -> str:
    """A leading block marker made literal: ``-`` -> ``\\-``, ``12.`` -> ``12\\.``."""
    indent, marker = match.groups()
    if marker[0].isdigit():  # the "." or ")" that follows gets the backslash
        return f"{indent}{marker}\\"
    return f"{indent}\\{marker}"
