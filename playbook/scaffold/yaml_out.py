"""Writing client text into the params file safely: every line one printable line.

The scaffold writes its proposal as text, line by line, so that every guess carries its
comment. Client text (headers, values, file and sheet names) can hold anything, so it is
only ever written through three functions:

* :func:`q`: a value, as one YAML double-quoted scalar that reads back exactly;
* :func:`plain`: a word of the vocabulary (``active``, ``EUR``), unquoted only when YAML
  reads it back as the same string, else :func:`q`;
* :func:`one_line`: comment text, control and format characters shown as escapes.

:func:`flow` writes a join, filter or derivation on one line with those rules, and
:func:`unsafe_line` is the final check: the proposal is refused when any line is not one
printable line (a bug: some text bypassed the three functions).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Iterable

import yaml
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

#: Unicode categories never written raw into the params file: control characters (line
#: breaks, tabs, ANSI escapes, U+0085), format characters (BOM, bidi overrides), surrogates,
#: private-use and unassigned code points, and the line/paragraph separators U+2028/U+2029.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
COMMENT_LIMIT = 1000  # characters of client text shown in one comment line


def _escape_char(ch: str) -> str:
    """``ch`` as a visible escape: ``\\n``, ``\\x1b``, ``\\u202e``."""
    code = ord(ch)
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    return f"\\x{code:02x}" if code < 0x100 else (
        f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


def one_line(text: object, limit: int = COMMENT_LIMIT) -> str:
    """``text`` made safe for a YAML comment: one line of printable characters.

    Line breaks (``\\n``, ``\\r``, U+0085, U+2028, U+2029) and every other control or
    format character are shown as escapes, so a header cannot end the comment and start a
    key; text longer than ``limit`` characters is cut with an ellipsis.
    """
    shown = "".join(_escape_char(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES
                    else ch for ch in str(text))
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def q(value: object) -> str:
    """``value`` as one YAML double-quoted scalar on one line, read back exactly.

    PyYAML's emitter writes it: quotes, backslashes, line breaks (U+0085, U+2028, U+2029
    too) and every character YAML cannot hold raw are escaped (``\\n``, ``\\L``,
    ``\\x7F``), so client text (headers, values, file and sheet names) stays a value.
    Format characters it would keep raw (bidi overrides such as U+202E) are escaped too,
    so the file shows what the value holds.
    """
    text = yaml.safe_dump(str(value), default_style='"', allow_unicode=True,
                          width=sys.maxsize).removesuffix("\n")
    return one_line(text, sys.maxsize)  # its escapes are YAML escapes inside double quotes


def plain(value: object) -> str:
    """``value`` unquoted when YAML reads it back as the same word (``active``, ``EUR``,
    ``cp1252``), else :func:`q` of it (``"yes"``, ``"null"``, anything with punctuation)."""
    text = str(value)
    as_str = Resolver().resolve(ScalarNode, text, (True, False)) == "tag:yaml.org,2002:str"
    return text if as_str and re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", text) else q(text)


class Word(str):
    """A word of the params vocabulary (``as_of``, ``accounts``, ``mrr``): written plain,
    never client text."""


#: Keys of joins, filters and derivations (playbook.config_tables): written plain; any other key
#: (a header in a join's ``on``) is client text, written by q().
VOCABULARY = {"file", "on", "how", "columns", "sheet", "header_row", "delimiter", "encoding",
              "column", "equals", "in", "not_in", "is_blank", "months_before", "date",
              "months", "constant_date", "copy", "from_table", "table"}


def flow(value: object) -> str:
    """A join, filter or derivation as one YAML flow collection on one line: keys and
    :class:`Word` values plain, every other text (the client's headers and values) by
    :func:`q`."""
    if isinstance(value, Word):
        return plain(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{plain(k) if k in VOCABULARY else q(k)}: {flow(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return q(value)


def with_comment(text: str, comment: str = "", width: int = 44) -> str:
    """A YAML line (written by the caller with :func:`q`/:func:`plain`) and its comment,
    made one safe line, starting at column ``width`` (or two spaces after a longer line)."""
    if not comment:
        return text
    comment = one_line(comment)
    return f"{text.ljust(width)} # {comment}" if len(text) < width else f"{text}  # {comment}"


def comment_line(indent: int, text: str) -> str:
    """A comment line of its own: ``text`` (client text included) made one safe line."""
    return f"{' ' * indent}# {one_line(text)}"


def short_list(values: list[str], n: int = 8) -> str:
    """The first ``n`` of ``values`` joined by commas, with how many there are in all when
    some are left out."""
    shown = ", ".join(values[:n])
    return shown + (f", … ({len(values)} in all)" if len(values) > n else "")


def row_count(n: int) -> str:
    """``n`` rows in words: '1 row', '1,200 rows'."""
    return f"{n:,} row" + ("" if n == 1 else "s")


def unsafe_line(lines: Iterable[str]) -> str | None:
    """The first of ``lines`` that is not one printable line (a value or comment written
    without :func:`q`/:func:`plain`/:func:`one_line`), or None when every line is safe."""
    return next((ln for ln in lines if one_line(ln, sys.maxsize) != ln), None)
