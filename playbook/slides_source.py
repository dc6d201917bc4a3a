"""What the deck shows, read from the finished report: ``report.html`` as printed.

The deck is built from the rendered report, not from the analyses, so whatever the report
says after every step of the render path (exhibit numbers, titles a consultant overrode,
exhibits hidden, sections switched off, pages added) the deck says the same, in the same
order. :func:`read_report` walks the report's ``<main>`` in document order and returns a
:class:`ReportContent`:

* the executive summary (``# Executive summary``): the situation-complication-answer
  paragraph, the key figures, the headline bullets, the recommendations and roadmap tables;
* the sections in order (``#`` headings), each with its exhibits (``figure.exhibit``: number,
  action title, subtitle, chart as SVG or table, the footer with source and n), its tables
  outside an exhibit (under their ``##`` heading), its boxed notes and its other prose;
* sections whose heading starts with "Appendix" are marked as backup.

Every text is the text as printed (entities decoded, whitespace collapsed); nothing here
formats a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

#: A ``#`` heading that opens the appendix (and every section after it is backup).
APPENDIX_PREFIX = "appendix"
SUMMARY_TITLE = "executive summary"
_SVG = re.compile(r"<svg\b.*?</svg>", re.S | re.I)
_SPACE = re.compile(r"\s+")
#: "Source: ...; n = 1,144 accounts" before the notes of an exhibit's footer.
_SOURCE_N = re.compile(r"^(Source: .*?; n = [^.]*?)(?:\.\s+(.*))?$", re.S)


def text_of(element: etree._Element | None) -> str:
    """The element's text as printed: entities decoded, whitespace collapsed."""
    if element is None:
        return ""
    return _SPACE.sub(" ", element.text_content()).strip()


def cell_text(cell: etree._Element) -> str:
    """A table cell's text; a cell holding a list gives one line per item."""
    items = cell.findall(".//li")
    if items:
        return "\n".join(text_of(li) for li in items)
    return text_of(cell)


def _classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").split())


@dataclass
class Table:
    """A table as printed: header texts, body rows of cell texts, which columns are numbers
    (cells of class ``num``), and the note under it ("Showing 40 of 50 rows.")."""

    header: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    note: str = ""


@dataclass
class Exhibit:
    """One numbered exhibit as printed.

    ``chart_svg``: the chart's SVG markup (``None`` for a table or a text exhibit);
    ``table``: the exhibit's table; ``text``: what the body says otherwise ("None: ...").
    ``source``: "Source: ...; n = ..." of the footer; ``notes``: the rest of the footer.
    """

    number: int
    title: str
    subtitle: str
    source: str
    notes: str = ""
    chart_svg: str | None = None
    table: Table | None = None
    text: str = ""


@dataclass
class TableBlock:
    """A table outside an exhibit, under the ``##`` (or ``#``) heading it follows."""

    heading: str
    table: Table


@dataclass
class Section:
    """A ``#`` section: its heading, exhibits and tables in order, boxed notes and prose."""

    title: str
    backup: bool
    items: list[Exhibit | TableBlock] = field(default_factory=list)
    callouts: list[str] = field(default_factory=list)
    prose: list[str] = field(default_factory=list)
    subheadings: list[str] = field(default_factory=list)


@dataclass
class KeyFigure:
    value: str
    label: str
    note: str


@dataclass
class Summary:
    """The executive summary as printed."""

    sca: str = ""
    key_figures: list[KeyFigure] = field(default_factory=list)
    headlines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # boxed notes (the withheld figures)
    changes: list[str] = field(default_factory=list)  # the change since the last report
    recommendations: Table | None = None
    recommendation_notes: list[str] = field(default_factory=list)
    roadmap: Table | None = None
    #: Other tables of the summary pages (business cases, peer benchmarks), each under the
    #: ``##`` heading it follows.
    tables: list[TableBlock] = field(default_factory=list)


@dataclass
class ReportContent:
    """The report's content in order: the sections, the summary placed after the first
    ``before_summary`` of them (a page printed before the executive summary stays there)."""

    summary: Summary | None
    sections: list[Section]
    before_summary: int = 0

    def exhibits(self) -> list[Exhibit]:
        """Every exhibit, in the report's order."""
        return [i for s in self.sections for i in s.items if isinstance(i, Exhibit)]


def read_table(element: etree._Element) -> Table:
    """A ``<table>`` as header texts, body rows and number columns; the
    ``p.table-note`` right after it, if any, as its note."""
    head = element.find(".//thead")
    header_row = head.find(".//tr") if head is not None else None
    body_rows = element.findall(".//tbody/tr") if head is not None else element.findall(".//tr")
    if header_row is None and body_rows:
        header_row, body_rows = body_rows[0], body_rows[1:]
    header = ([cell_text(c) for c in header_row.iterchildren("th", "td")]
              if header_row is not None else [])
    rows = [[cell_text(c) for c in r.iterchildren("th", "td")] for r in body_rows]
    width = max([len(header), *(len(r) for r in rows)], default=0)
    numeric = [False] * width
    for col in range(width):
        cells = [c for r in body_rows for i, c in enumerate(r.iterchildren("th", "td")) if i == col]
        numeric[col] = bool(cells) and all("num" in _classes(c) or not text_of(c)
                                           for c in cells)
    note = ""
    nxt = element.getnext()
    if nxt is not None and "table-note" in _classes(nxt):
        note = text_of(nxt)
    return Table(header, rows, numeric, note)


def split_footer(caption: str) -> tuple[str, str]:
    """("Source: ...; n = ...", the notes after it) of an exhibit's footer."""
    match = _SOURCE_N.match(caption)
    if not match:
        return caption, ""
    return match.group(1).strip(), (match.group(2) or "").strip()


def read_exhibit(figure: etree._Element, svgs: dict[etree._Element, str]) -> Exhibit:
    """One ``figure.exhibit`` (its SVG markup looked up in ``svgs``)."""
    number_el = figure.find(".//*[@class='exhibit-no']")
    number_text = text_of(number_el)
    number = int(number_text) if number_text.isdigit() else 0
    title = text_of(figure.find(".//*[@class='action-title']"))
    subtitle = text_of(figure.find(".//*[@class='subtitle']"))
    source, notes = split_footer(text_of(figure.find(".//figcaption")))
    ex = Exhibit(number, title, subtitle, source, notes)
    body = next((e for e in figure.iter() if "exhibit-body" in _classes(e)), None)
    if body is None:
        return ex
    svg = next((e for e in body.iter() if isinstance(e.tag, str) and e.tag.endswith("svg")), None)
    table = body.find(".//table")
    if svg is not None and svg in svgs:
        ex.chart_svg = svg_xml(svgs[svg])
    elif table is not None:
        ex.table = read_table(table)
    else:
        ex.text = text_of(body)
    return ex


def _summary_part(element: etree._Element, summary: Summary, heading: str = "") -> bool:
    """Record what ``element`` shows of the executive summary; False if nothing. A table
    other than the recommendations and the roadmap is kept under ``heading``."""
    classes = _classes(element)
    if element.tag == "p" and "sca" in classes:
        summary.sca = text_of(element)
    elif element.tag == "div" and "kf" in classes:
        parts = {c: text_of(next((e for e in element.iter() if c in _classes(e)), None))
                 for c in ("kf-value", "kf-label", "kf-note")}
        summary.key_figures.append(KeyFigure(parts["kf-value"], parts["kf-label"],
                                             parts["kf-note"]))
    elif element.tag == "ol" and "headlines" in classes:
        summary.headlines = [text_of(li) for li in element.iterchildren("li")]
    elif element.tag == "table" and "recommendations" in classes:
        summary.recommendations = read_table(element)
    elif element.tag == "table" and "roadmap" in classes:
        summary.roadmap = read_table(element)
    elif element.tag == "p" and "exhibit-notes" in classes:
        summary.recommendation_notes.append(text_of(element))
    elif element.tag == "div" and "callout" in classes:
        summary.notes.append(text_of(element))
    elif element.tag == "div" and "comparison" in classes:
        summary.changes.append(text_of(element))
    elif element.tag == "table":
        summary.tables.append(TableBlock(heading, read_table(element)))
    elif (element.tag == "p" and summary.tables and not summary.tables[-1].table.note
          and text_of(element).startswith("Source:")):  # the benchmarks' source line
        summary.tables[-1].table.note = text_of(element)
    else:
        return False
    return True


def read_report(document: str) -> ReportContent:
    """The report's content, in order, from its HTML (:class:`ReportContent`)."""
    root = lxml.html.fromstring(document)
    main = root.find(".//main")
    if main is None:
        main = root
    raw_svgs = _SVG.findall(document)
    svg_elements = [e for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith("svg")]
    # The markup of each chart as written (lxml would not give it back byte for byte).
    svgs = (dict(zip(svg_elements, raw_svgs, strict=True))
            if len(raw_svgs) == len(svg_elements) else {})
    summary: Summary | None = None
    sections: list[Section] = []
    current: Section | None = None
    heading = ""
    in_summary = False
    skip: set[etree._Element] = set()  # inside an element already read
    backup = False
    before_summary = 0
    for element in main.iter():
        if not isinstance(element.tag, str) or element in skip:
            continue
        if any(a in skip for a in element.iterancestors()):
            continue
        classes = _classes(element)
        if element.tag == "h1":
            title = text_of(element)
            in_summary = title.lower() == SUMMARY_TITLE
            if in_summary:
                summary = Summary()
                current = None
                before_summary = len(sections)
            else:
                backup = backup or title.lower().startswith(APPENDIX_PREFIX)
                current = Section(title, backup)
                sections.append(current)
            heading = title
            continue
        if element.tag == "h2":
            heading = text_of(element)
            if current is not None:
                current.subheadings.append(heading)
            continue
        if element.tag == "h3" and in_summary:  # "Business cases", "Peer benchmarks"
            heading = text_of(element)
            continue
        if in_summary and summary is not None:
            if _summary_part(element, summary, heading):
                skip.add(element)
            continue
        if current is None:
            continue
        if element.tag == "figure" and "exhibit" in classes:
            current.items.append(read_exhibit(element, svgs))
            skip.add(element)
        elif element.tag == "table":
            current.items.append(TableBlock(heading, read_table(element)))
            skip.add(element)
        elif element.tag == "div" and "callout" in classes:
            current.callouts.append(text_of(element))
            skip.add(element)
        elif element.tag in ("p", "li") and text_of(element) and "table-note" not in classes:
            current.prose.append(text_of(element))
            skip.add(element)
    return ReportContent(summary, sections, before_summary)


#: SVG names with capitals that an HTML serializer writes in lower case (the HTML parsing
#: rules put them back; an XML reader such as CairoSVG needs them as SVG spells them).
SVG_CASE = {n.lower(): n for n in (
    "viewBox", "preserveAspectRatio", "clipPath", "clipPathUnits", "gradientUnits",
    "gradientTransform", "patternUnits", "patternContentUnits", "patternTransform",
    "linearGradient", "radialGradient", "textLength", "lengthAdjust", "markerWidth",
    "markerHeight", "markerUnits", "refX", "refY", "maskUnits", "maskContentUnits",
    "spreadMethod", "startOffset", "stdDeviation", "textPath", "foreignObject",
    "primitiveUnits", "filterUnits", "baseFrequency", "numOctaves", "kernelMatrix",
    "pathLength", "feGaussianBlur", "feOffset", "feBlend", "feFlood", "feComposite",
    "feMerge", "feMergeNode", "feColorMatrix")}
_SVG_NAME = re.compile(r"(?<=[<\s/])(" + "|".join(SVG_CASE) + r")(?=[\s=>/])")


def svg_xml(svg: str) -> str:
    """SVG markup from an HTML page as SVG (XML) spells it: ``viewbox`` -> ``viewBox``,
    ``clippath`` -> ``clipPath`` ... (element and attribute names only)."""
    return _SVG_NAME.sub(lambda m: SVG_CASE[m.group(1)], svg)


def svg_size_pt(svg: str) -> tuple[float, float]:
    """The width and height an SVG declares, in points (matplotlib writes ``pt``; pixels
    and unit-less values count 0.75 pt; the ``viewBox`` when there is neither)."""

    def length(name: str) -> float | None:
        match = re.search(rf'\s{name}="([\d.]+)\s*(pt|px|in|cm|mm)?"', svg[:2000])
        if not match:
            return None
        value, unit = float(match.group(1)), match.group(2) or "px"
        return value * {"pt": 1, "px": 0.75, "in": 72, "cm": 72 / 2.54, "mm": 72 / 25.4}[unit]

    width, height = length("width"), length("height")
    if width and height:
        return width, height
    box = re.search(r'viewBox="[\d.\-]+ [\d.\-]+ ([\d.]+) ([\d.]+)"', svg[:2000])
    if box:
        return float(box.group(1)), float(box.group(2))
    return 432.0, 230.0
