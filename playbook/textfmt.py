"""Number formatting for sentences, titles and tables. Never prints "nan".

Every function returns ``missing`` (default "n/a") for None/NaN, so a generated sentence can
not show a raw "nan". :func:`md_escape` makes a client's or a parameter's text literal inside
generated markdown.
"""

from __future__ import annotations

import math
import re
from typing import Any

#: Characters that start markup anywhere in a line: code spans, emphasis, links and
#: images, raw HTML and entities, strikethrough, math, table cells, headings.
MARKDOWN_INLINE = frozenset("\\`*_[]<>&!~$|#")
#: What starts a block only at the start of a line (list item, numbered item, setext
#: underline, definition): escaped there only, so "Mid-market" stays readable.
_LEADING_BLOCK = re.compile(r"^(\s*)([-+=:]|\d+(?=[.)]))")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "AUD": "A$", "CAD": "C$"}


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
    sign = "-" if v < 0 else ""
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
    ``950`` (``decimals`` for T/B/M)."""
    a = abs(float(value))
    for size, letter in ((1e12, "T"), (1e9, "B"), (1e6, "M")):
        if a >= size:
            return f"{value / size:.{decimals}f}{letter}"
    return f"{value / 1e3:.0f}K" if a >= 1e3 else f"{value:.0f}"


def pct(value: Any, digits: int = 1, *, signed: bool = False, missing: str = "n/a") -> str:
    """Format a share (0.123 -> ``12.3%``)."""
    if is_missing(value):
        return missing
    text = f"{float(value) * 100:.{digits}f}%"
    if signed and float(value) > 0:
        text = "+" + text
    return text


def points(value: Any, digits: int = 1, *, missing: str = "n/a") -> str:
    """Format a difference of two shares in percentage points (0.05 -> ``+5.0 pts``)."""
    if is_missing(value):
        return missing
    return f"{float(value) * 100:+.{digits}f} pts"


def count(value: Any, *, missing: str = "n/a") -> str:
    if is_missing(value):
        return missing
    return f"{int(round(float(value))):,}"


def number(value: Any, digits: int = 2, *, missing: str = "n/a") -> str:
    if is_missing(value):
        return missing
    return f"{float(value):,.{digits}f}"


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


def plural(n: int, word: str, plural_word: str | None = None) -> str:
    """``plural(1, "account")`` -> "1 account"; ``plural(3, "account")`` -> "3 accounts"."""
    return f"{n:,} {word if n == 1 else (plural_word or word + 's')}"


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
