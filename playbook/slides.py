"""The report as an editable slide deck: ``report.pptx`` (python-pptx), 16:9, house style.

Built from the finished report (:func:`playbook.slides_source.read_report` on
``report.html``) and ``results.json``, so the deck has the report's titles, order and pages:

1. a title slide (client, title, period, as-of date, version, Confidential);
2. the "so what" page when ``results["executive"]["so_what"]`` exists (messages, the size of
   the prize, the decisions asked); left out cleanly otherwise;
3. the executive summary (situation-complication-answer and the key figures), the headline
   bullets, the recommendations as a native, editable table, the roadmap;
4. per section a divider (its exhibits' titles as the storyline, its boxed notes), then one
   slide per exhibit: "Exhibit N", the action title as the slide title (the layout's title
   placeholder), the subtitle, the chart as a picture (its SVG rasterised by CairoSVG, which
   loads nothing but inline images) or the table as a native table, and a footer with the
   source and n (the exhibit's notes go to the speaker notes);
5. a "Backup" divider, then the appendix's exhibits and tables as backup slides.

Client text is hostile: every text reaches the deck as a plain text run (control characters
removed, :func:`plain`); no field, link, formula or embedded object is made from it, and
the file is a macro-free ``.pptx``. Slide numbers are PowerPoint fields, so they follow a
partner's reordering.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cairosvg.surface import PNGSurface
from lxml import etree
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from playbook import slides_style as st
from playbook import textfmt as tf
from playbook.errors import RenderError
from playbook.render_manifest import ReportMeta, output_records, write_json
from playbook.render_publish import PPTX_NAME
from playbook.slides_source import (
    Exhibit,
    ReportContent,
    Section,
    Summary,
    Table,
    TableBlock,
    read_report,
    svg_size_pt,
)

#: Shape names a reader (or a test) finds the parts of a slide by.
LABEL_SHAPE = "exhibit-label"  # "Exhibit 4" (an exhibit's slide only)
SOURCE_SHAPE = "source"
CHART_SHAPE = "chart"
TABLE_SHAPE = "table"
BACKUP_TITLE = "Backup"
#: Characters a text run may hold: XML 1.0 allows no other control character.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SAFE_IMAGE = re.compile(r"data:image/(png|jpeg);base64,", re.I)
MAX_TEXT = 4000


def plain(value: object) -> str:
    """``value`` as plain slide text: control characters removed, at most
    :data:`MAX_TEXT` characters; tabs and carriage returns become spaces (a line feed
    stays: the caller makes it a new paragraph)."""
    text = _CONTROL.sub("", str(value)).replace("\t", " ").replace("\r", " ")
    return text[:MAX_TEXT]


def _rgb(hex_: str) -> RGBColor:
    return RGBColor.from_string(hex_)


# --------------------------------------------------------------------------- text


def _text_box(slide: Slide, box: st.Box, paragraphs: Sequence[str], *, size: float,
              color: str = st.INK_HEX, bold: bool = False, name: str = "",
              align: PP_ALIGN = PP_ALIGN.LEFT, anchor: MSO_ANCHOR = MSO_ANCHOR.TOP,
              space_after: float = 0, numbered: bool = False) -> Any:
    """A text box of plain runs, one paragraph per item (``numbered``: "1. ", "2. " ...)."""
    shape = slide.shapes.add_textbox(Inches(box.left), Inches(box.top), Inches(box.width),
                                     Inches(box.height))
    if name:
        shape.name = name
    frame = shape.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    frame.margin_left = frame.margin_right = Inches(0.02)
    for i, text in enumerate(paragraphs):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        paragraph.alignment = align
        if space_after:
            paragraph.space_after = Pt(space_after)
        run = paragraph.add_run()
        run.text = (f"{i + 1}. " if numbered else "") + plain(text).replace("\n", " ")
        _font(run.font, size, color, bold)
    return shape


def _font(font: Any, size: float, color: str, bold: bool = False) -> None:
    font.name = st.FONT_FAMILY
    font.size = Pt(size)
    font.bold = bold
    font.color.rgb = _rgb(color)


def _set_title(slide: Slide, text: str, *, size: float | None = None) -> None:
    """The slide's title placeholder holds ``text`` (one plain run, house font)."""
    title = slide.shapes.title
    if title is None:  # a firm's template without a title placeholder on the layout
        title = _text_box(slide, st.TITLE_BOX, [], size=st.TITLE_PT)
    frame = title.text_frame
    frame.clear()
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = Inches(0.02)
    frame.vertical_anchor = MSO_ANCHOR.TOP
    run = frame.paragraphs[0].add_run()
    run.text = plain(text).replace("\n", " ")
    if size is None:
        size = title_size(text)
    _font(run.font, size, st.ACCENT_HEX, bold=True)
    frame.paragraphs[0].alignment = PP_ALIGN.LEFT


def title_size(text: str) -> float:
    """An action title's type size: smaller when it is long, so it fits in three lines."""
    return st.TITLE_PT if len(text) <= st.LONG_TITLE_CHARS else st.TITLE_LONG_PT


def _lines(text: str, width_in: float, size_pt: float, em: float) -> int:
    """Lines ``text`` takes at ``size_pt`` in ``width_in`` inches (``em``: average character
    width as a share of the size)."""
    per_line = max(int(width_in * 72 / (size_pt * em)), 1)
    return max(-(-len(text) // per_line), 1) if text else 0


def subtitle_top(title: str) -> float:
    """Where the subtitle starts: under the title, as many lines as it takes (inches)."""
    size = title_size(title)
    title_end = (st.TITLE_BOX.top + 0.1
                 + _lines(title, st.CONTENT_WIDTH_IN, size, 0.62) * size * 1.2 / 72)
    return max(st.SUBTITLE_BOX.top, title_end + 0.05)


def body_box(title: str, subtitle: str) -> st.Box:
    """Where a content slide's chart, table or text goes: under the title and the subtitle
    as many lines as they take, down to the footer."""
    top = subtitle_top(title)
    top += _lines(subtitle, st.CONTENT_WIDTH_IN, st.SUBTITLE_PT, 0.5) * st.SUBTITLE_PT * 1.3 / 72
    top = max(top + 0.15, st.BODY_BOX.top)
    return st.Box(st.BODY_BOX.left, top, st.BODY_BOX.width,
                  st.BODY_BOX.top + st.BODY_BOX.height - top)


def _notes(slide: Slide, texts: Sequence[str]) -> None:
    """Speaker notes: what the slide leaves out (the exhibit's notes, prose)."""
    texts = [t for t in texts if t]
    if texts:
        slide.notes_slide.notes_text_frame.text = plain("\n\n".join(texts))


def _slide_number(slide: Slide, meta: ReportMeta) -> None:
    """Bottom right: "Confidential · <n>", the number a PowerPoint slide-number field."""
    shape = slide.shapes.add_textbox(Inches(st.PAGE_BOX.left), Inches(st.PAGE_BOX.top),
                                     Inches(st.PAGE_BOX.width), Inches(st.PAGE_BOX.height))
    shape.name = "slide-number"
    paragraph = shape.text_frame.paragraphs[0]
    paragraph.alignment = PP_ALIGN.RIGHT
    if meta.confidential:
        run = paragraph.add_run()
        run.text = "Confidential  ·  "
        _font(run.font, st.FOOTER_PT, st.LIGHT_GREY_HEX)
    field = etree.SubElement(paragraph._p, qn("a:fld"), id="{" + str(uuid.uuid4()).upper() + "}",
                             type="slidenum")
    rpr = etree.SubElement(field, qn("a:rPr"), lang="en-GB", sz=str(st.FOOTER_PT * 100))
    fill = etree.SubElement(rpr, qn("a:solidFill"))
    etree.SubElement(fill, qn("a:srgbClr"), val=st.LIGHT_GREY_HEX)
    etree.SubElement(rpr, qn("a:latin"), typeface=st.FONT_FAMILY)
    etree.SubElement(field, qn("a:t")).text = str(len(slide.part.package.presentation_part
                                                        .presentation.slides))


def _band(slide: Slide) -> None:
    """The accent band across the top (the report cover's)."""
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, Inches(st.SLIDE_WIDTH_IN),
                                  Inches(st.BAND_HEIGHT_IN))
    band.name = "band"
    band.fill.solid()
    band.fill.fore_color.rgb = _rgb(st.ACCENT_HEX)
    band.line.fill.background()
    band.shadow.inherit = False


def _tile(slide: Slide, box: st.Box, name: str = "tile") -> Any:
    """A flat rectangle in the accent's tint (no outline, no shadow)."""
    tile = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(box.left), Inches(box.top),
                                  Inches(box.width), Inches(box.height))
    tile.name = name
    tile.fill.solid()
    tile.fill.fore_color.rgb = _rgb(st.TINT_HEX)
    tile.line.fill.background()
    tile.shadow.inherit = False
    return tile


def _content_slide(prs: PresentationType, meta: ReportMeta, title: str, *,
                   label: str = "", subtitle: str = "", title_size: float | None = None,
                   label_name: str = LABEL_SHAPE) -> Slide:
    """A slide of the content layout: band, label, title, subtitle, slide number."""
    slide = prs.slides.add_slide(_layout(prs, st.CONTENT_LAYOUT))
    _band(slide)
    _set_title(slide, title, size=title_size)
    if label:
        _text_box(slide, st.LABEL_BOX, [label], size=st.LABEL_PT, color=st.GREY_HEX,
                  bold=True, name=label_name)
    if subtitle:
        top = subtitle_top(title)
        _text_box(slide, st.Box(st.SUBTITLE_BOX.left, top, st.SUBTITLE_BOX.width,
                                body_box(title, subtitle).top - top), [subtitle],
                  size=st.SUBTITLE_PT, color=st.GREY_HEX, name="subtitle")
    _slide_number(slide, meta)
    return slide


def _layout(prs: PresentationType, name: str) -> Any:
    for layout in prs.slide_layouts:
        if layout.name == name:
            return layout
    return prs.slide_layouts[5 if name == st.CONTENT_LAYOUT else 0]


# --------------------------------------------------------------------------- tables


def _cell_rule(cell: Any, hex_: str, width_pt: float = 0.75) -> None:
    """A rule under a table cell (the other borders none)."""
    tc_pr = cell._tc.get_or_add_tcPr()
    for tag in ("a:lnL", "a:lnR", "a:lnT", "a:lnB"):
        line = etree.SubElement(tc_pr, qn(tag), w=str(int(width_pt * 12700)) if tag == "a:lnB"
                                else "0")
        if tag == "a:lnB":
            fill = etree.SubElement(line, qn("a:solidFill"))
            etree.SubElement(fill, qn("a:srgbClr"), val=hex_)
        else:
            etree.SubElement(line, qn("a:noFill"))
    # the fill goes after the borders (schema order: lnL lnR lnT lnB ... fill)
    for fill in tc_pr.findall(qn("a:solidFill")) + tc_pr.findall(qn("a:noFill")):
        tc_pr.remove(fill)
        tc_pr.append(fill)


#: Width of a character of the house font (bold, wide letters: a safe upper bound), as a
#: share of its point size; and a table cell's left plus right margin, inches.
CHAR_EM = 0.62
CELL_MARGINS_IN = 0.12
#: A body cell of at most this many characters is kept on one line ("24 Oct 2026").
SHORT_CELL = 12
#: The average width of a character in running text (regular weight), for line counts.
TEXT_EM = 0.52


def _chars(width_in: float, size_pt: float) -> float:
    """How many characters of ``size_pt`` fit in ``width_in`` inches."""
    return width_in * 72 / (size_pt * CHAR_EM)


def _column_chars(table: Table) -> tuple[list[int], list[int]]:
    """Per column: the longest word (it must fit on a line; a short cell such as a date,
    "24 Oct 2026", counts as one word) and the longest text (a column gets no wider than
    that), in characters."""
    words, texts = [], []
    for col in range(len(table.numeric)):
        cells = [table.header[col] if col < len(table.header) else ""]
        cells += [r[col] for r in table.rows if col < len(r)]
        words.append(max((len(w) for c in cells[1:] for w in
                          ([c] if len(c) <= SHORT_CELL else c.split())), default=1)
                     if len(cells) > 1 else 1)
        words[-1] = max(words[-1], *(len(w) for w in cells[0].split()), 1) + 1
        texts.append(max((len(line) for c in cells for line in c.split("\n")), default=1) + 1)
    return words, texts


def column_widths(table: Table, total_in: float, size_pt: float) -> list[float]:
    """Column widths in inches that add up to ``total_in``: every column at least as wide as
    its longest word; the room left shared by how much more each column's text needs."""
    words, texts = _column_chars(table)
    if not words:  # a table with no column (an empty roadmap): one blank column
        return [total_in]
    margins = CELL_MARGINS_IN * len(words)
    room = _chars(total_in - margins, size_pt)
    # every column at least one character wide: a column of blank cells still gets room
    words = [max(w, 1) for w in words]
    need = [max(w, min(t, 100)) for w, t in zip(words, texts, strict=True)]
    if sum(need) <= room:
        chars = [n * room / sum(need) for n in need]
    else:
        spare = max(room - sum(words), 0)
        extra = [n - w for n, w in zip(need, words, strict=True)]
        chars = [w + (e * spare / sum(extra) if sum(extra) else 0)
                 for w, e in zip(words, extra, strict=True)]
    scale = (total_in - margins) / sum(chars)
    return [c * scale + CELL_MARGINS_IN for c in chars]


def table_height(table: Table, widths: Sequence[float], size_pt: float, rows: int) -> float:
    """About how tall the table prints (inches): each row as many lines as its fullest cell
    wraps to in its column."""
    total = 0.0
    for row in [table.header, *table.rows[:rows]]:
        lines = max((sum(_lines(part, w - CELL_MARGINS_IN, size_pt, TEXT_EM)
                         for part in text.split("\n"))
                     for text, w in zip(row, widths, strict=False)), default=1)
        total += max(lines, 1) * size_pt * 1.2 / 72 + 0.08
    return total


def table_font(table: Table, box: st.Box, rows: int) -> float:
    """The table's type size: the largest of the house sizes
    (:data:`~playbook.slides_style.TABLE_SIZES`) at which its longest words fit across,
    its rows are not too many and it fits down ``box`` (else the smallest)."""
    words, _ = _column_chars(table)
    for size, max_rows in st.TABLE_SIZES:
        if rows > max_rows:
            continue
        if sum(words) > _chars(box.width - CELL_MARGINS_IN * len(words), size):
            continue
        if table_height(table, column_widths(table, box.width, size), size, rows) <= box.height:
            return size
    return st.TABLE_SIZES[-1][0]


def _cell_text(cell: Any, text: str, size: float, bold: bool, right: bool) -> None:
    """A cell's text as plain runs, one paragraph per line."""
    frame = cell.text_frame
    frame.word_wrap = True
    for i, line in enumerate(plain(text).split("\n")):
        paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
        run = paragraph.add_run()
        run.text = line
        _font(run.font, size, st.INK_HEX, bold=bold)
        if right:
            paragraph.alignment = PP_ALIGN.RIGHT


def add_table(slide: Slide, table: Table, box: st.Box, *, max_rows: int = st.TABLE_MAX_ROWS
              ) -> tuple[Any, str]:
    """A native, editable table of ``table`` in ``box`` (header band in the accent's tint,
    number columns right-aligned, a rule under each row); at most ``max_rows`` body rows.
    Returns the shape and the note on what was left out ("" when nothing)."""
    rows = table.rows[:max_rows]
    n_cols = max(len(table.numeric), 1)
    size = table_font(table, box, len(rows))
    row_h = Pt(size * 2.0)
    height = Emu(row_h * (len(rows) + 1))
    shape = slide.shapes.add_table(len(rows) + 1, n_cols, Inches(box.left), Inches(box.top),
                                   Inches(box.width), height)
    shape.name = TABLE_SHAPE
    grid = shape.table
    grid.first_row = True
    grid.horz_banding = False
    # "No Style, No Grid": the house rules below are the only lines.
    style = shape._element.graphic.graphicData.tbl.tblPr
    style_id = style.find(qn("a:tableStyleId"))
    if style_id is None:
        style_id = etree.SubElement(style, qn("a:tableStyleId"))
    style_id.text = "{2D5ABB26-0587-4C30-8999-92F81FD0307C}"
    for col, width in enumerate(column_widths(table, box.width, size)):
        grid.columns[col].width = Inches(width)
    for r in range(len(rows) + 1):
        grid.rows[r].height = row_h
        values = table.header if r == 0 else rows[r - 1]
        for c in range(n_cols):
            cell = grid.cell(r, c)
            cell.margin_left = cell.margin_right = Inches(0.05)
            cell.margin_top = cell.margin_bottom = Inches(0.03)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            _cell_text(cell, values[c] if c < len(values) else "", size, r == 0,
                       c < len(table.numeric) and table.numeric[c])
            cell.fill.solid()
            cell.fill.fore_color.rgb = _rgb(st.TINT_HEX if r == 0 else st.WHITE_HEX)
            _cell_rule(cell, st.ACCENT_HEX if r == 0 else st.RULE_HEX)
    notes = []
    if len(table.rows) > max_rows:
        notes.append(f"Showing {max_rows} of {tf.count(len(table.rows))} rows; every row is "
                     "in the report.")
    if table.note:
        notes.append(table.note)
    return shape, " ".join(notes)


# --------------------------------------------------------------------------- charts


def _only_inline_images(url: str, resource_type: str) -> bytes:
    """CairoSVG's URL fetcher: inline PNG or JPEG images only; nothing is ever loaded
    from a file or the network (anything else is an empty image)."""
    match = _SAFE_IMAGE.match(url or "")
    if match:
        return base64.b64decode(url[match.end():])
    return b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'


def chart_png(svg: str, width_in: float, dpi: int = st.CHART_DPI) -> bytes:
    """A chart's SVG as PNG bytes for a picture ``width_in`` inches wide, at ``dpi`` pixels
    per inch of the slide.

    Raises
    ------
    RenderError
        When the SVG cannot be drawn.
    """
    width_pt, _ = svg_size_pt(svg)
    try:
        # CairoSVG draws the SVG's own size (points) at ``dpi`` pixels per inch; scaled so
        # the picture has ``dpi`` pixels per inch at the width it is placed.
        return PNGSurface.convert(bytestring=svg.encode("utf-8"),
                                  dpi=dpi * width_in * 72 / width_pt,
                                  url_fetcher=_only_inline_images, unsafe=False,
                                  background_color="white")
    except Exception as exc:  # CairoSVG raises what its parsers raise
        raise RenderError(f"A chart could not be drawn for the slides: {type(exc).__name__}: "
                          f"{exc}", fix="Check the chart's SVG in report.html.") from exc


def fit(width_pt: float, height_pt: float, box: st.Box) -> st.Box:
    """The largest box of the chart's aspect ratio inside ``box``, centred across it and
    at its top (inches)."""
    scale = min(box.width * 72 / width_pt, box.height * 72 / height_pt)
    width, height = width_pt * scale / 72, height_pt * scale / 72
    return st.Box(box.left + (box.width - width) / 2, box.top, width, height)


def add_chart(slide: Slide, svg: str, box: st.Box) -> Any:
    """The chart as a picture fitted into ``box``."""
    placed = fit(*svg_size_pt(svg), box)
    picture = slide.shapes.add_picture(io.BytesIO(chart_png(svg, placed.width)),
                                       Inches(placed.left), Inches(placed.top),
                                       Inches(placed.width), Inches(placed.height))
    picture.name = CHART_SHAPE
    return picture


# --------------------------------------------------------------------------- slides


def title_slide(prs: PresentationType, meta: ReportMeta) -> Slide:
    """Client, title, period, as-of date, version; Confidential."""
    slide = prs.slides.add_slide(_layout(prs, st.TITLE_LAYOUT))
    _band(slide)
    _set_title(slide, meta.title, size=32)
    as_of = tf.date(meta.as_of, missing="") if meta.as_of else ""
    facts = [meta.client_name, f"{meta.period_label} · as of {as_of}" if as_of
             else meta.period_label]
    if meta.version:
        facts.append(meta.version)
    placeholders = [p for p in slide.placeholders if p.placeholder_format.idx == 1]
    if placeholders:
        frame = placeholders[0].text_frame
        frame.clear()
        for i, text in enumerate(facts):
            paragraph = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            paragraph.alignment = PP_ALIGN.LEFT
            run = paragraph.add_run()
            run.text = plain(text)
            _font(run.font, 18 if i == 0 else 14, st.INK_HEX if i == 0 else st.GREY_HEX,
                  bold=i == 0)
    if meta.confidential:
        _text_box(slide, st.Box(1.0, 6.4, 4.0, 0.4), ["CONFIDENTIAL"], size=11,
                  color=st.ACCENT_HEX, bold=True, name="confidential")
    return slide


def _texts(value: Any) -> list[str]:
    """The sentences in a so-what record's entry: a string, a list of them, or records
    holding one under "text" / "sentence" / "message" / "decision" / "title"."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, Mapping):
        for key in ("text", "sentence", "message", "decision", "title", "headline"):
            if isinstance(value.get(key), str) and value[key].strip():
                return [value[key]]
        return []
    if isinstance(value, Sequence):
        return [t for v in value for t in _texts(v)]
    return []


def so_what_slide(prs: PresentationType, meta: ReportMeta, so_what: Mapping[str, Any]
                  ) -> Slide | None:
    """The one-page "so what": the messages (numbered), the size of the prize, the decisions
    asked; ``None`` (no slide) when the record holds no message."""
    messages = _texts(so_what.get("messages"))
    if not messages:
        return None
    prize = _texts(so_what.get("prize"))
    decisions = _texts(so_what.get("decisions"))
    title = _texts(so_what.get("title")) or ["The so what: the prize and the decisions asked"]
    slide = _content_slide(prs, meta, title[0])
    top = st.SUBTITLE_BOX.top
    left_w = st.CONTENT_WIDTH_IN * (0.62 if prize else 1.0)
    _text_box(slide, st.Box(st.MARGIN_IN, top, left_w, 0.35), ["What the data says"],
              size=st.LABEL_PT, color=st.GREY_HEX, bold=True)
    _text_box(slide, st.Box(st.MARGIN_IN, top + 0.4, left_w - 0.3, 2.5), messages,
              size=st.BODY_PT, numbered=True, space_after=8, name="messages")
    if prize:
        prize_box = st.Box(st.MARGIN_IN + left_w, top, st.CONTENT_WIDTH_IN - left_w, 2.9)
        _tile(slide, prize_box)
        inner = st.Box(prize_box.left + 0.2, prize_box.top + 0.15, prize_box.width - 0.4, 0.35)
        _text_box(slide, inner, ["The size of the prize"], size=st.LABEL_PT,
                  color=st.GREY_HEX, bold=True)
        _text_box(slide, st.Box(inner.left, inner.top + 0.4, inner.width,
                                prize_box.height - 0.7), prize[:1], size=24,
                  color=st.ACCENT_HEX, bold=True, name="prize", space_after=6)
        if prize[1:]:
            _text_box(slide, st.Box(inner.left, inner.top + 1.45, inner.width,
                                    prize_box.height - 1.75), prize[1:], size=st.LABEL_PT,
                      color=st.INK_HEX)
    if decisions:
        _text_box(slide, st.Box(st.MARGIN_IN, 4.75, st.CONTENT_WIDTH_IN, 0.35),
                  ["Decisions asked of you"], size=st.LABEL_PT, color=st.GREY_HEX, bold=True)
        _text_box(slide, st.Box(st.MARGIN_IN, 5.1, st.CONTENT_WIDTH_IN, 1.6), decisions,
                  size=st.BODY_PT, numbered=True, space_after=4, name="decisions")
    return slide


def summary_slides(prs: PresentationType, meta: ReportMeta, summary: Summary) -> None:
    """Executive summary (SCA and key figures), headlines, recommendations, roadmap."""
    slide = _content_slide(prs, meta, "Executive summary")
    _text_box(slide, st.Box(st.MARGIN_IN, st.SUBTITLE_BOX.top, st.CONTENT_WIDTH_IN, 2.2),
              [summary.sca], size=15, name="sca")
    figures = summary.key_figures[:8]
    if figures:
        per_row = min(len(figures), 4)
        rows = (len(figures) + per_row - 1) // per_row
        gap = 0.15
        width = (st.CONTENT_WIDTH_IN - gap * (per_row - 1)) / per_row
        height = 1.05 if rows > 1 else 1.3
        for i, k in enumerate(figures):
            left = st.MARGIN_IN + (i % per_row) * (width + gap)
            top = 4.0 + (i // per_row) * (height + gap)
            tile = _tile(slide, st.Box(left, top, width, height), name="key-figure")
            frame = tile.text_frame
            frame.word_wrap = True
            frame.vertical_anchor = MSO_ANCHOR.MIDDLE
            for j, (text, size, color, bold) in enumerate((
                    (k.value, 22, st.ACCENT_HEX, True), (k.label, 11, st.INK_HEX, True),
                    (k.note, 9, st.GREY_HEX, False))):
                paragraph = frame.paragraphs[0] if j == 0 else frame.add_paragraph()
                paragraph.alignment = PP_ALIGN.LEFT
                run = paragraph.add_run()
                run.text = plain(text)
                _font(run.font, size, color, bold)
    _notes(slide, [*summary.notes, *summary.changes])
    if summary.notes:
        _text_box(slide, st.FOOTER_BOX, summary.notes, size=st.FOOTER_PT,
                  color=st.GREY_HEX, name=SOURCE_SHAPE)
    if summary.headlines:
        slide = _content_slide(prs, meta, "What the data says")
        _text_box(slide, st.Box(st.MARGIN_IN, st.SUBTITLE_BOX.top, st.CONTENT_WIDTH_IN, 4.9),
                  summary.headlines, size=16, numbered=True, space_after=12,
                  name="headlines")
    if summary.recommendations is not None:
        slide = _content_slide(prs, meta, "Recommendations")
        _, left_out = add_table(slide, summary.recommendations,
                                st.Box(st.MARGIN_IN, st.SUBTITLE_BOX.top, st.CONTENT_WIDTH_IN,
                                       4.5))
        notes = [n for n in (left_out, *summary.recommendation_notes[:1]) if n]
        if notes:
            _text_box(slide, st.FOOTER_BOX, notes, size=st.FOOTER_PT, color=st.GREY_HEX,
                      name=SOURCE_SHAPE)
        _notes(slide, summary.recommendation_notes)
    if summary.roadmap is not None:
        slide = _content_slide(prs, meta, "Roadmap: the next 90 days")
        add_table(slide, summary.roadmap, st.Box(st.MARGIN_IN, st.SUBTITLE_BOX.top,
                                                 st.CONTENT_WIDTH_IN, 3.0))
    for block in summary.tables:  # business cases, peer benchmarks: a native table each
        slide = _content_slide(prs, meta, block.heading or "Executive summary")
        _, left_out = add_table(slide, block.table, st.Box(
            st.MARGIN_IN, st.SUBTITLE_BOX.top, st.CONTENT_WIDTH_IN, 4.5))
        if left_out:  # the rows left out and the table's own note (its source)
            _text_box(slide, st.FOOTER_BOX, [left_out], size=st.FOOTER_PT, color=st.GREY_HEX,
                      name=SOURCE_SHAPE)


def divider_slide(prs: PresentationType, meta: ReportMeta, title: str,
                  lines: Sequence[str], notes: Sequence[str] = ()) -> Slide:
    """A section divider: the section's title, then its storyline or notes."""
    slide = _content_slide(prs, meta, title, title_size=28)
    if lines:
        _text_box(slide, st.Box(st.MARGIN_IN, 2.0, st.CONTENT_WIDTH_IN, 4.7), lines,
                  size=14, color=st.GREY_HEX, space_after=8, name="storyline")
    _notes(slide, notes)
    return slide


def exhibit_slide(prs: PresentationType, meta: ReportMeta, ex: Exhibit, *,
                  backup: bool = False) -> Slide:
    """One exhibit: label, action title, subtitle, chart or table, source and n. An
    unnumbered figure (the so-what page's opportunity walk) has no "Exhibit" label."""
    label = (f"Exhibit {ex.number}" if ex.number else "") + ("  ·  Backup" if backup else "")
    slide = _content_slide(prs, meta, ex.title, label=label, subtitle=ex.subtitle)
    footer = [ex.source]
    body = body_box(ex.title, ex.subtitle)
    if ex.chart_svg is not None:
        add_chart(slide, ex.chart_svg, body)
    elif ex.table is not None:
        _, left_out = add_table(slide, ex.table, body)
        if left_out:
            footer.append(left_out)
    elif ex.text:
        _text_box(slide, body, [ex.text], size=st.BODY_PT, name="body")
    if ex.notes and len(ex.notes) <= 140:
        footer.append(ex.notes)
    _text_box(slide, st.FOOTER_BOX, [". ".join(f.rstrip(". ") for f in footer if f)],
              size=st.FOOTER_PT, color=st.GREY_HEX, name=SOURCE_SHAPE)
    _notes(slide, [ex.source, ex.notes])
    return slide


def table_slide(prs: PresentationType, meta: ReportMeta, block: TableBlock, *,
                backup: bool = False) -> Slide:
    """A table outside an exhibit, titled by its heading."""
    slide = _content_slide(prs, meta, block.heading,
                           label=BACKUP_TITLE if backup else "", label_name="section-label")
    _, left_out = add_table(slide, block.table, st.Box(st.MARGIN_IN, st.SUBTITLE_BOX.top,
                                                       st.CONTENT_WIDTH_IN, 4.9))
    if left_out:
        _text_box(slide, st.FOOTER_BOX, [left_out], size=st.FOOTER_PT, color=st.GREY_HEX,
                  name=SOURCE_SHAPE)
    return slide


def _section_slides(prs: PresentationType, meta: ReportMeta, section: Section) -> None:
    for item in section.items:
        if isinstance(item, Exhibit):
            exhibit_slide(prs, meta, item, backup=section.backup)
        else:
            table_slide(prs, meta, item, backup=section.backup)


def _main_section(prs: PresentationType, meta: ReportMeta, section: Section) -> None:
    """A section's divider (its exhibits' titles as the storyline), then its slides."""
    exhibits = [i for i in section.items if isinstance(i, Exhibit)]
    # a section without exhibits (What we heard) shows its own text, its callouts first
    storyline = ([f"Exhibit {e.number}: {e.title}" for e in exhibits] or section.callouts
                 or section.prose)
    divider_slide(prs, meta, section.title, storyline[:8], section.prose)
    _section_slides(prs, meta, section)


def _is_so_what(section: Section) -> bool:
    return "so what" in section.title.lower()


def build_deck(content: ReportContent, results: Mapping[str, Any], meta: ReportMeta,
               template: Path | None = None) -> PresentationType:
    """The deck of a report's content (:func:`playbook.slides_source.read_report`) and
    its results (for the "so what"), on the house template."""
    prs = Presentation(str(template or st.template_path()))
    prs.core_properties.title = plain(f"{meta.title} · {meta.client_name} · {meta.period_label}")
    prs.core_properties.author = "cs-playbook"
    title_slide(prs, meta)
    executive = results.get("executive") if isinstance(results, Mapping) else None
    so_what = executive.get("so_what") if isinstance(executive, Mapping) else None
    made_so_what = isinstance(so_what, Mapping) and so_what_slide(prs, meta, so_what) is not None
    if made_so_what:  # the so-what page's own figure (the opportunity walk) follows its slide
        for section in (s for s in content.sections if not s.backup and _is_so_what(s)):
            for item in (i for i in section.items if isinstance(i, Exhibit)):
                exhibit_slide(prs, meta, item)
    main = [(i, s) for i, s in enumerate(content.sections) if not s.backup
            and not (made_so_what and _is_so_what(s))]
    backup = [s for s in content.sections if s.backup]
    # pages the report prints before its executive summary come before it here too
    for section in [s for i, s in main if i < content.before_summary]:
        _main_section(prs, meta, section)
    if content.summary is not None:
        summary_slides(prs, meta, content.summary)
    for section in [s for i, s in main if i >= content.before_summary]:
        _main_section(prs, meta, section)
    if backup:
        divider_slide(prs, meta, BACKUP_TITLE, [s.title for s in backup],
                      [p for s in backup for p in s.callouts])
        for section in backup:
            _section_slides(prs, meta, section)
    if is_draft(results):
        for slide in prs.slides:
            _text_box(slide, st.DRAFT_BOX, [DRAFT_MARK], size=st.FOOTER_PT + 2,
                      color=st.ACCENT_HEX, bold=True, name="draft", align=PP_ALIGN.RIGHT)
    return prs


#: The stamp on every slide of a draft report, as on every page of its PDF.
DRAFT_MARK = "DRAFT"


def is_draft(results: Mapping[str, Any]) -> bool:
    """Whether the consultant's notes mark the report a draft (``results["notes"]["status"]``
    is "draft", :mod:`playbook.notes`): then every slide carries :data:`DRAFT_MARK`, as every
    PDF page does. Without notes there is no sign-off, and no stamp."""
    notes = results.get("notes") if isinstance(results, Mapping) else None
    return isinstance(notes, Mapping) and notes.get("status") == "draft"


def write_slides(html_path: Path, results: Mapping[str, Any], meta: ReportMeta,
                 out_path: Path, template: Path | None = None) -> Path:
    """Write the deck of the report at ``html_path`` to ``out_path`` atomically (a
    temporary file beside it, renamed into place). Returns ``out_path``."""
    content = read_report(Path(html_path).read_text(encoding="utf-8"))
    prs = build_deck(content, results, meta, template)
    out_path = Path(out_path)
    partial = out_path.with_name(f".{out_path.name}.partial-{os.getpid()}")
    try:
        prs.save(str(partial))
        os.replace(partial, out_path)
    finally:
        partial.unlink(missing_ok=True)
    return out_path


def rebuild_slides(folder: Path, template: Path | None = None) -> Path:
    """Write ``report.pptx`` again for the published report in ``folder`` (from its
    ``report.html`` and ``results.json``) and list it in ``manifest.json``'s outputs; the
    other files are untouched. Returns the deck's path.

    Raises
    ------
    RenderError
        When ``folder`` holds no published report.
    """
    folder = Path(folder)
    html_path, results_path = folder / "report.html", folder / "results.json"
    if not (html_path.is_file() and results_path.is_file()):
        raise RenderError(f"No published report in {folder} (report.html and results.json).",
                          fix="Run the report first: make report CLIENT=<client>.")
    results = json.loads(results_path.read_text(encoding="utf-8"))
    known = {f.name for f in dataclasses.fields(ReportMeta)}
    meta = ReportMeta(**{k: v for k, v in results.get("meta", {}).items() if k in known})
    out = write_slides(html_path, results, meta, folder / PPTX_NAME, template)
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["outputs"] = output_records(folder)
        partial = folder / f".manifest.json.partial-{os.getpid()}"
        write_json(partial, manifest)
        os.replace(partial, manifest_path)
    return out
