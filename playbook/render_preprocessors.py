"""nbconvert preprocessors of the report's template: exhibit numbers, heading anchors and the
contents, number columns of tables.

The template ``templates/playbook/conf.json`` declares them, so nbconvert runs them on (a
copy of) the combined notebook before it renders the HTML; nothing patches the built
HTML afterwards. They work on the cells' markdown and on the ``text/html`` and
``text/markdown`` outputs:

* :class:`ExhibitNumbers`: exhibits are HTML outputs containing
  ``<span class="exhibit-no">N</span>`` with N the notebook-local number; they are
  renumbered 1..K in document order across the report. Markdown that cites
  ``<span class="exhibit-no">N</span>`` follows its own notebook's renumbering. Which
  notebook a cell came from is in its metadata (:data:`PART_KEY`, set by
  :func:`playbook.render_combine.combine_notebooks`).
* :class:`HeadingAnchors`: markdown headings ``#`` and ``##`` (in markdown cells and
  markdown outputs) become HTML headings with ids unique in the report, listed in
  ``resources["toc"]`` for the contents page; the executive summary and the first numbered
  section start a new page in the PDF; the sections and appendices after it follow on the
  same page (class ``continued``, :func:`follows_on`).
* :class:`NumberColumns`: table cells of columns whose body cells are all numbers get class
  ``num`` (right-aligned with tabular figures by the CSS); wide and long tables are marked.
"""

from __future__ import annotations

import html
import itertools
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import mistune
import nbformat
from nbconvert.preprocessors import Preprocessor

log = logging.getLogger(__name__)

#: Cell metadata key holding ``{"part": i}``: the cell came from the i-th combined notebook.
PART_KEY = "playbook"

_EXHIBIT_NO = re.compile(r"""(<span\s+class=["']exhibit-no["']\s*>)\s*(\d+)\s*(</span>)""")
_HEADING = re.compile(r"^(#{1,2})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)")


@dataclass(frozen=True)
class TocEntry:
    """One line of the table of contents: heading level (1 or 2), text and anchor id."""

    level: int
    title: str
    anchor: str


# --------------------------------------------------------------------------- cell texts


def rich_texts(cell: nbformat.NotebookNode) -> Iterable[tuple[dict[str, Any], str]]:
    """(container, key) of every text/html and text/markdown output of a code cell."""
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        for mime in ("text/html", "text/markdown"):
            if isinstance(data.get(mime), str):
                yield data, mime


def rewrite_cell_text(cell: nbformat.NotebookNode, rewrite: Callable[[str], str], *,
                      outputs: bool = True) -> None:
    """Apply ``rewrite(text) -> text`` to a markdown cell's source and to its rich outputs
    (``outputs=False``: to markdown outputs only)."""
    if cell.cell_type == "markdown":
        cell.source = rewrite(cell.source)
    for data, mime in rich_texts(cell):
        if outputs or mime == "text/markdown":
            data[mime] = rewrite(data[mime])


def source_part(cell: nbformat.NotebookNode) -> int:
    """Index of the combined notebook a cell came from (0 when not recorded)."""
    return int(cell.get("metadata", {}).get(PART_KEY, {}).get("part", 0))


# --------------------------------------------------------------------------- exhibits


def exhibit_numbers(cells: Sequence[nbformat.NotebookNode], start: int) -> dict[int, int]:
    """Map notebook-local exhibit numbers shown in outputs to report numbers from ``start``."""
    numbers: dict[int, int] = {}
    for cell in cells:
        for data, mime in rich_texts(cell):
            for match in _EXHIBIT_NO.finditer(data[mime]):
                local = int(match.group(2))
                if local not in numbers:
                    numbers[local] = start + len(numbers)
    return numbers


def renumber_exhibits(text: str, numbers: Mapping[int, int]) -> str:
    """Replace notebook-local exhibit numbers in ``text`` with report numbers."""

    def swap(match: re.Match[str]) -> str:
        local = int(match.group(2))
        if local not in numbers:
            log.warning("Exhibit %s is cited but not shown in the same notebook", local)
            return match.group(0)
        return f"{match.group(1)}{numbers[local]}{match.group(3)}"

    return _EXHIBIT_NO.sub(swap, text)


class ExhibitNumbers(Preprocessor):
    """Number the exhibits 1..K across the report, in document order; citations in each
    notebook's markdown follow that notebook's renumbering."""

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict[str, Any]
                   ) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        next_exhibit = 1
        for _, part in itertools.groupby(nb.cells, key=source_part):
            cells = list(part)
            numbers = exhibit_numbers(cells, start=next_exhibit)
            next_exhibit += len(numbers)
            for cell in cells:
                rewrite_cell_text(cell, lambda text, n=numbers: renumber_exhibits(text, n))
        return nb, resources


# --------------------------------------------------------------------------- headings


def anchor_headings(markdown: str, toc: list[TocEntry]) -> str:
    """Turn ``#`` and ``##`` headings into HTML headings with unique ids; append to ``toc``.

    nbconvert's own heading ids repeat when two notebooks share a heading, so the report
    makes its own (``sec-<n>-<slug>``) and the contents link to them.
    """
    lines, fenced = [], False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
        match = None if fenced else _HEADING.match(line)
        if not match:
            lines.append(line)
            continue
        level = len(match.group(1))
        inner = re.sub(r"^<p>|</p>\s*$", "", mistune.html(match.group(2)).strip())
        title = html.unescape(re.sub(r"<[^>]+>", "", inner)).strip()
        anchor = f"sec-{len(toc) + 1}-{slug(title)}"
        cls = ' class="continued"' if level == 1 and follows_on(title, toc) else ""
        toc.append(TocEntry(level, title, anchor))
        lines += ["", f'<h{level} id="{anchor}"{cls}>{inner}</h{level}>', ""]
    return "\n".join(lines)


def _section_kind(title: str) -> str:
    """"numbered" for a numbered section ("3 Renewal drivers"), "appendix" for an appendix,
    "" for any other top-level heading (the executive summary, a custom notebook's)."""
    if re.match(r"\d+\s", title):
        return "numbered"
    return "appendix" if title.lower().startswith("appendix") else ""


def follows_on(title: str, toc: Sequence[TocEntry]) -> bool:
    """Whether a ``#`` section follows on the page where the previous one ends (class
    ``continued``) rather than starting a new page in the PDF: what comes before section 1
    (the executive summary) and section 1 start a page; every section after it (numbered,
    a custom notebook's, "What we heard", the appendices) follows on under a rule, so a
    section's last half-empty page is not wasted (the demo report stays inside its 15-30
    pages). A report without numbered sections starts its appendices as it would its
    sections: the first on a page, the next following on."""
    earlier = [_section_kind(e.title) for e in toc if e.level == 1]
    if "numbered" in earlier:
        return True
    return _section_kind(title) == "appendix" and "appendix" in earlier


def slug(text: str) -> str:
    """Lower-case ASCII words of ``text`` joined by hyphens (at most 40 characters)."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "-".join(words)[:40].strip("-") or "section"


class HeadingAnchors(Preprocessor):
    """Anchor the ``#`` and ``##`` headings and list them in ``resources["toc"]`` (dicts of
    :class:`TocEntry`), which the template shows as the contents page."""

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict[str, Any]
                   ) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        toc: list[TocEntry] = []
        for cell in nb.cells:
            rewrite_cell_text(cell, lambda text: anchor_headings(text, toc), outputs=False)
        resources["toc"] = [asdict(entry) for entry in toc]
        return nb, resources


# --------------------------------------------------------------------------- tables


_TABLE = re.compile(r"<table\b.*?</table>", re.S | re.I)
_ROW = re.compile(r"<tr\b.*?</tr>", re.S | re.I)
_CELL = re.compile(r"<(td|th)\b([^>]*)>(.*?)</\1>", re.S | re.I)
WIDE_TABLE_COLUMNS = 7
LONG_TABLE_ROWS = 20
_NUMBER = re.compile(
    r"^[-+−(]?\s*[$€£]?\s*\d[\d,. ]*\s*(%|pp|x|k|K|M|bn|m)?\)?$"
)


def mark_numeric_cells(document: str) -> str:
    """Add class ``num`` to table cells of columns whose body cells are all numbers.

    The CSS right-aligns them with tabular figures; tables with ``colspan``/``rowspan`` are
    left as they are. Tables with more than ``WIDE_TABLE_COLUMNS`` columns get
    ``data-wide`` (fixed layout, smaller type: they fit the page width); tables with more
    than ``LONG_TABLE_ROWS`` rows get ``data-long`` (they may break across pages).
    """

    def is_number(cell_html: str) -> bool:
        text = html.unescape(re.sub(r"<[^>]+>", "", cell_html)).strip()
        return bool(_NUMBER.match(text))

    def fix_table(match: re.Match[str]) -> str:
        table = match.group(0)
        rows = _ROW.findall(table)
        if max((len(_CELL.findall(row)) for row in rows), default=0) > WIDE_TABLE_COLUMNS:
            table = re.sub(r"^<table\b", '<table data-wide="1"', table, flags=re.I)
        if len(rows) > LONG_TABLE_ROWS and "data-long" not in table.split(">", 1)[0]:
            table = re.sub(r"^<table\b", '<table data-long="1"', table, flags=re.I)
        if re.search(r"\b(colspan|rowspan)\s*=", table, re.I):
            return table
        numeric: dict[int, bool] = {}
        for row in _ROW.findall(table):
            for col, (kind, _, inner) in enumerate(_CELL.findall(row)):
                if kind.lower() == "td" and inner.strip():
                    numeric[col] = numeric.get(col, True) and is_number(inner)
        columns = {col for col, yes in numeric.items() if yes}
        return _ROW.sub(lambda r: mark_row(r.group(0), columns), table) if columns else table

    def mark_row(row: str, columns: set[int]) -> str:
        position = iter(range(10_000))

        def mark(cell: re.Match[str]) -> str:
            if next(position) not in columns:
                return cell.group(0)
            kind, attrs, inner = cell.groups()
            if re.search(r"\bclass\s*=\s*\"", attrs):
                attrs = re.sub(r"\bclass\s*=\s*\"", 'class="num ', attrs, count=1)
            else:
                attrs = f' class="num"{attrs}'
            return f"<{kind}{attrs}>{inner}</{kind}>"

        return _CELL.sub(mark, row)

    return _TABLE.sub(fix_table, document)


class NumberColumns(Preprocessor):
    """Mark the number columns, wide and long tables of every table the cells show
    (:func:`mark_numeric_cells`)."""

    def preprocess_cell(self, cell: nbformat.NotebookNode, resources: dict[str, Any],
                        index: int) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        rewrite_cell_text(cell, mark_numeric_cells)
        return cell, resources
