"""The report's outline: sub-section headings that have nothing under them are dropped.

A notebook's sub-section (a markdown cell holding only a ``##`` or deeper heading) may end
up empty in a run: a section that skips its exhibits for want of data says so once, at its
top, and the sub-sections after it show nothing. A heading alone on the page, followed by
the next heading, is noise to a reader; the render step drops it (and its contents entry).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import nbformat

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+\S")


def heading_level(cell: nbformat.NotebookNode) -> int | None:
    """The level of a markdown cell that holds only headings (1 for ``#``), else None."""
    if cell.get("cell_type") != "markdown":
        return None
    lines = [line for line in str(cell.get("source", "")).splitlines() if line.strip()]
    levels = [_HEADING.match(line) for line in lines]
    if not lines or not all(levels):
        return None
    return min(len(m.group(1)) for m in levels if m)


def shows_something(cell: nbformat.NotebookNode) -> bool:
    """True for a markdown cell with text or a code cell with a visible output."""
    if cell.get("cell_type") == "markdown":
        return bool(str(cell.get("source", "")).strip())
    return any(not (o.get("output_type") == "stream" and o.get("name") == "stderr")
               for o in cell.get("outputs", []))


def drop_empty_subsections(cells: Sequence[nbformat.NotebookNode]
                           ) -> list[nbformat.NotebookNode]:
    """The cells without the sub-section headings (level 2 and deeper) under which nothing
    is shown before the next heading of the same or a higher level, or the end.

    Section headings (``#``) stay: a section always opens its page.
    """
    cells = list(cells)
    keep = [True] * len(cells)
    for i, cell in enumerate(cells):
        level = heading_level(cell)
        if level is None or level < 2:
            continue
        content = False
        for later in cells[i + 1:]:
            other = heading_level(later)
            if other is not None and other <= level:
                break
            if other is None and shows_something(later):
                content = True
                break
        keep[i] = content
    return [cell for cell, kept in zip(cells, keep, strict=True) if kept]
