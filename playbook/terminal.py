"""Text for the terminal: control characters from client files are shown, never obeyed.

Headers, values, file names and error messages can carry bytes a terminal acts on: ANSI
colour and cursor sequences (``ESC [ 31 m``), OSC titles and hyperlinks (``ESC ] 0 ; … BEL``,
``ESC ] 8 ; ; url BEL``), carriage returns and backspaces that overwrite what was printed,
C1 controls (``U+0080``-``U+009F``, e.g. the one-character CSI ``U+009B``) and the Unicode
bidirectional overrides that reorder a line on screen. :func:`safe` replaces each of them
with a visible escape (``\\x1b``, ``\\x07``, ``\\r``, ``\\u202e``), so what a consultant reads
is what the file holds. Line feeds and tabs are kept. Every line the command line or the
render step prints goes through :func:`safe`; warnings shown while a command runs go
through :func:`safe_warnings`.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterator

#: Characters a terminal may act on: C0 controls except tab and line feed, DEL, C1
#: controls, the Unicode line and paragraph separators, and the bidirectional marks,
#: embeddings, overrides and isolates.
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
_NAMED = {"\r": "\\r", "\x0b": "\\v", "\x0c": "\\f", "\x08": "\\b", "\x00": "\\0"}


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: object) -> str:
    """``str(text)`` with every terminal control character replaced by a visible escape.

    >>> safe("\\x1b[31mred\\x1b[0m\\tok\\n")
    '\\\\x1b[31mred\\\\x1b[0m\\tok\\n'
    """
    return UNSAFE.sub(_visible, str(text))


@contextlib.contextmanager
def safe_warnings() -> Iterator[None]:
    """Show Python warnings with :func:`safe` applied to their message while the block runs
    (a library's warning can quote a value or a header from a client file)."""
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        shown(safe(message), category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = shown
