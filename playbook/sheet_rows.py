"""The account sheets' rows as worksheet XML, made a column at a time, and spliced into the
workbook XlsxWriter wrote around them.

XlsxWriter writes a cell through three Python calls (its ``write_*`` method, the row's
bookkeeping, then the cell's XML as the next row starts): at 100,000 accounts (2.6 million
cells) that was about 15 CPU seconds, most of the workbook's time. Here each column's cells
are made by one list comprehension from the column's values (:func:`column_xml`), a block
of rows at a time (:data:`BLOCK_ROWS`, so memory stays bounded), and written to a temporary
file (:func:`write_rows`: the cells of numbers and of plain text, and the rows, are put
together by Arrow, :func:`column_cells_arrow`, and written from its buffer); the workbook
(header, notes, widths, panes, filters, the summary sheet, styles) is still XlsxWriter's,
and :func:`splice_rows` puts each sheet's rows after its header row.

The XML is what XlsxWriter (pinned in requirements.txt) writes for the same call in
``constant_memory`` mode, cell kind by cell kind: a number ``<v>`` with 16 significant
digits (``nan_inf_to_errors``: infinity as the formula ``1/0``), a flag ``t="b"``, a date
as Excel's serial day number (1900 date system, with Excel's 29 February 1900), text as an
inline string (control characters as ``_xHHHH_``, a literal ``_xHHHH_`` escaped as
``_x005F_xHHHH_``, ``&<>`` escaped, ``xml:space="preserve"`` when it starts or ends with
white space, cut to Excel's 32,767 UTF-16 units), and a blank as a cell only when it has a
format. One difference, on purpose: XlsxWriter writes text that starts with ``<r>`` and ends
with ``</r>`` as raw rich-text XML, so a hostile account name could break the sheet; here
all text is escaped. Formats are XlsxWriter's :class:`~xlsxwriter.format.Format` objects; a
cell names a format by its index among the workbook's cell formats, which XlsxWriter
assigns when a format is first used (``Format._get_xf_index``, the one private call).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name

#: Rows made and written at a time (bounds the memory a large sheet takes).
BLOCK_ROWS = 10_000
#: Excel's limit on text in a cell, in UTF-16 units (a character above U+FFFF counts 2).
CELL_UTF16_MAX = 32767
#: First characters that make a spreadsheet read a text as a formula (as
#: :data:`playbook.workbook.FORMULA_STARTS`).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Text that needs more than being put between tags: XML's ``&<>``, control characters
#: (tab and line feed excepted), a literal ``_xHHHH_`` and the non-characters U+FFFE/U+FFFF.
_NEEDS_ESCAPE = re.compile("[&<>\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_ESCAPE_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile("([\x00-\x08\x0b-\x1f])")
#: Excel's day 0 of the 1900 date system (its day 1 is 1 January 1900).
_EPOCH = datetime(1899, 12, 31)
_SECONDS_A_DAY = 60 * 60 * 24
_PRESERVE = ' xml:space="preserve"'
_NONE = type(None)


@dataclass
class ColumnStyle:
    """The formats of one column's cells (None: no format): ``plain`` for numbers, text,
    flags and formatted blanks, ``dated`` for dates, ``quoted`` for formula-like text
    (Excel's quote prefix) and ``bands`` for a health band's text (by lower-case band
    name), as :func:`playbook.workbook.column_cells` picks them."""

    plain: Format | None
    dated: Format | None
    quoted: Format | None
    bands: dict[str, Format] = field(default_factory=dict)


def style_attribute(fmt: Format | None) -> str:
    """The ``s`` attribute of a cell of format ``fmt`` (empty without a format)."""
    return "" if fmt is None else f' s="{fmt._get_xf_index()}"'  # XlsxWriter's own index


def excel_serial(value: datetime | date) -> float:
    """A naive date or datetime as Excel's serial day number (days since 31 December 1899,
    the fraction the time of day), counting Excel's 29 February 1900 as XlsxWriter does."""
    moment = value if isinstance(value, datetime) else datetime(value.year, value.month,
                                                                  value.day)
    delta = moment - _EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) \
        / _SECONDS_A_DAY
    if isinstance(value, datetime) and moment.date() == date(1900, 1, 1):
        serial -= 1  # XlsxWriter's rule for a datetime on 1 January 1900
    return serial + 1 if serial > 59 else serial


def text_xml(value: str) -> tuple[str, bool]:
    """``value`` as the content of an inline string's ``<t>``, and whether it needs
    ``xml:space="preserve"`` (white space first or last)."""
    if len(value) > CELL_UTF16_MAX // 2:
        value = utf16_cut(value, CELL_UTF16_MAX)
    if _NEEDS_ESCAPE.search(value):
        value = _ESCAPE_ESCAPE.sub(r"_x005F\1", value)
        value = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", value)
        value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
        preserve = value[:1].isspace() or value[-1:].isspace()
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"), \
            preserve
    return value, value[:1].isspace() or value[-1:].isspace()


def utf16_cut(value: str, units: int) -> str:
    """``value`` cut to at most ``units`` UTF-16 units, never inside a character."""
    length = 0
    for index, char in enumerate(value):
        length += 2 if ord(char) > 0xFFFF else 1
        if length > units:
            return value[:index]
    return value


def cell_xml(ref: str, value: Any, style: ColumnStyle) -> str:
    """One cell (``ref`` such as ``B7``) of a value as :func:`playbook.workbook.column_values`
    makes it: None or empty text is a blank (a cell only with a format), a float or int a
    number, a bool a flag, a date or datetime a date, any other text an inline string."""
    if value is None or (type(value) is str and not value):
        return f'<c r="{ref}"{style_attribute(style.plain)}/>' if style.plain is not None \
            else ""
    kind = type(value)
    if kind is str:
        band = style.bands.get(value.lower()) if style.bands else None
        fmt = band or (style.quoted if value.startswith(FORMULA_STARTS) else style.plain)
        text, preserve = text_xml(value)
        return (f'<c r="{ref}"{style_attribute(fmt)} t="inlineStr"><is>'
                f'<t{_PRESERVE if preserve else ""}>{text}</t></is></c>')
    if kind is bool:
        return f'<c r="{ref}"{style_attribute(style.plain)} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime | date):
        return f'<c r="{ref}"{style_attribute(style.dated)}><v>{excel_serial(value):.16G}</v></c>'
    return number_xml(ref, value, style_attribute(style.plain))


def number_xml(ref: str, value: float, attribute: str) -> str:
    """A number cell; infinity as XlsxWriter's error formula (``1/0``, ``-1/0``)."""
    if isinstance(value, float) and math.isinf(value):
        formula = "1/0" if value > 0 else "-1/0"
        return f'<c r="{ref}"{attribute} t="e"><f>{formula}</f><v>#DIV/0!</v></c>'
    return f'<c r="{ref}"{attribute}><v>{value:.16G}</v></c>'


def column_xml(values: Sequence[Any], letter: str, rows: Sequence[str],
               style: ColumnStyle) -> list[str]:
    """The cells of one column (``letter``) in ``rows`` (row numbers as text), each as
    :func:`cell_xml` makes it ("" for no cell). A column of numbers, flags, dates or text
    needing no escaping takes one list comprehension; any other goes value by value."""
    kinds = set(map(type, values))
    plain = style_attribute(style.plain) if style.plain is not None else ""
    blank = (lambda r: f'<c r="{letter}{r}"{plain}/>') if style.plain is not None else None
    if kinds <= {_NONE, float, int} and math.inf not in values and -math.inf not in values:
        if blank is None:
            return ["" if v is None else f'<c r="{letter}{r}"{plain}><v>{v:.16G}</v></c>'
                    for r, v in zip(rows, values, strict=True)]
        return [blank(r) if v is None else f'<c r="{letter}{r}"{plain}><v>{v:.16G}</v></c>'
                for r, v in zip(rows, values, strict=True)]
    if kinds <= {_NONE, bool}:
        return [(blank(r) if blank else "") if v is None else
                f'<c r="{letter}{r}"{plain} t="b"><v>{1 if v else 0}</v></c>'
                for r, v in zip(rows, values, strict=True)]
    if kinds <= {_NONE, datetime}:
        dated = style_attribute(style.dated)
        # each distinct date's serial made once (a plan's dates repeat: renewal and due days)
        serials = {d: f"{excel_serial(d):.16G}" for d in set(values) if d is not None}
        return [(blank(r) if blank else "") if v is None else
                f'<c r="{letter}{r}"{dated}><v>{serials[v]}</v></c>'
                for r, v in zip(rows, values, strict=True)]
    if kinds <= {_NONE, str}:
        texts = [v for v in values if v]
        if not _NEEDS_ESCAPE.search("\n".join(texts)) and \
                max(map(len, texts), default=0) <= CELL_UTF16_MAX // 2:
            return _plain_text_cells(values, letter, rows, style, texts, blank)
    return [cell_xml(f"{letter}{r}", v, style) for r, v in zip(rows, values, strict=True)]


def _plain_text_cells(values: Sequence[Any], letter: str, rows: Sequence[str],
                      style: ColumnStyle, texts: Sequence[str],
                      blank: Callable[[str], str] | None) -> list[str]:
    """:func:`column_xml` of a column of text (or None) needing no escaping and no cut;
    ``texts``: its non-empty values. Each distinct text's cell (after the reference) is
    made once, as :func:`cell_xml` makes it: its format (a health band's fill, else the
    quote prefix of formula-like text, else ``plain``) and ``xml:space`` when it starts or
    ends with white space. The distinct texts are taken in the order they first appear,
    so that XlsxWriter numbers the formats in the order the cells first use them."""
    tails = {}
    for v in dict.fromkeys(texts):
        band = style.bands.get(v.lower()) if style.bands else None
        fmt = band or (style.quoted if v.startswith(FORMULA_STARTS) else style.plain)
        tails[v] = (f'{style_attribute(fmt)} t="inlineStr"><is>'
                    f'<t{_PRESERVE if v[0].isspace() or v[-1].isspace() else ""}>{v}</t></is></c>')
    if blank is None:
        return ["" if not v else f'<c r="{letter}{r}"{tails[v]}'
                for r, v in zip(rows, values, strict=True)]
    return [blank(r) if not v else f'<c r="{letter}{r}"{tails[v]}'
            for r, v in zip(rows, values, strict=True)]


def rows_xml(columns: Sequence[Sequence[str]], rows: Sequence[str]) -> tuple[str, int]:
    """The ``<row>`` elements of the cells of ``columns`` (each :func:`column_xml`), rows
    without a cell left out as XlsxWriter leaves them; and the index of the last row written
    (-1: none)."""
    out: list[str] = []
    last = -1
    for i, (r, cells) in enumerate(zip(rows, zip(*columns, strict=True), strict=True)):
        line = "".join(cells)
        if line:
            out.append(f'<row r="{r}">{line}</row>')
            last = i
    return "".join(out), last


def write_rows(out: IO[bytes], blocks: Iterable[Sequence[Sequence[Any]]],
               styles: Sequence[ColumnStyle], first_row: int) -> int:
    """Write the ``<row>`` elements of ``blocks`` (each a block of rows as a list of
    column values, the first block's first row at ``first_row``, from 0) to ``out`` as
    UTF-8; returns the last row written (from 0; ``first_row - 1`` when none was).

    Each column's cells are an Arrow text array (:func:`column_cells_arrow`), joined into
    rows and written from Arrow's buffer, without a Python string per row: the bytes are
    those of :func:`rows_xml` of :func:`column_xml`."""
    letters = [xl_col_to_name(j) for j in range(len(styles))]
    start, last = first_row, first_row - 1
    for block in blocks:
        size = len(block[0]) if block else 0
        if not size:
            continue
        numbers = pa.array(np.arange(start + 1, start + size + 1, dtype=np.int64))
        rows = numbers.cast(ARROW_TEXT)
        cells = [column_cells_arrow(values, letter, rows, style)
                 for values, letter, style in zip(block, letters, styles, strict=True)]
        line = pc.binary_join_element_wise(*cells, text_scalar("")) if len(cells) > 1 \
            else cells[0]
        written = pc.greater(pc.binary_length(line), 0)
        elements = pc.binary_join_element_wise(
            text_scalar('<row r="'), rows, text_scalar('">'), line, text_scalar("</row>"),
            text_scalar("")).filter(written)
        _write_text(out, elements)
        kept = np.flatnonzero(written.to_numpy(zero_copy_only=False))
        if len(kept):
            last = start + int(kept[-1])
        start += size
    return last


#: The Arrow type of the text the workbook's rows and CSV lines are joined from (64-bit
#: offsets: a column of a million cells may exceed 2 GB).
ARROW_TEXT = pa.large_string()


def text_scalar(value: str) -> pa.Scalar:
    """``value`` as an Arrow scalar of :data:`ARROW_TEXT`, to join with text arrays."""
    return pa.scalar(value, ARROW_TEXT)


def _write_text(out: IO[bytes], text: pa.Array) -> None:
    """Write the UTF-8 bytes of an Arrow text array (:data:`ARROW_TEXT`, no nulls) one after
    the other to ``out``, straight from its data buffer."""
    if not len(text):
        return
    _, offsets, data = text.buffers()
    ends = np.frombuffer(offsets, dtype=np.int64)[text.offset:text.offset + len(text) + 1]
    out.write(memoryview(data)[int(ends[0]):int(ends[-1])])


def column_cells_arrow(values: Sequence[Any], letter: str, rows: pa.Array,
                       style: ColumnStyle) -> pa.Array:
    """:func:`column_xml` as an Arrow text array of :data:`ARROW_TEXT` (``rows``: the row
    numbers as Arrow text), its formats numbered in the same order. A column of numbers
    (no infinity) has each value formatted in Python and the cells put together by Arrow;
    a column of text needing no escaping has each distinct text's cell made once
    (:func:`_plain_text_cells`' rule) and taken for each row by Arrow; any other column is
    :func:`column_xml`'s list."""
    kinds = set(map(type, values))
    plain = style_attribute(style.plain) if style.plain is not None else ""
    head = text_scalar(f'<c r="{letter}')
    blank = None if style.plain is None else pc.binary_join_element_wise(
        head, rows, text_scalar(f'"{plain}/>'), text_scalar(""))
    if kinds <= {_NONE, float, int} and math.inf not in values and -math.inf not in values:
        text = pa.array([None if v is None else format(v, ".16G") for v in values], ARROW_TEXT)
        cells = pc.binary_join_element_wise(head, rows, text_scalar(f'"{plain}><v>'), text,
                                            text_scalar("</v></c>"), text_scalar(""))
        return _blanks_filled(cells, blank)
    if kinds <= {_NONE, str}:
        texts = [v for v in values if v]
        if not _NEEDS_ESCAPE.search("\n".join(texts)) and \
                max(map(len, texts), default=0) <= CELL_UTF16_MAX // 2:
            codes = pa.array(values, ARROW_TEXT).dictionary_encode()
            tails = []
            for v in codes.dictionary.to_pylist():  # in the order each first appears
                if not v:
                    tails.append(None)
                    continue
                band = style.bands.get(v.lower()) if style.bands else None
                fmt = band or (style.quoted if v.startswith(FORMULA_STARTS) else style.plain)
                preserve = _PRESERVE if v[0].isspace() or v[-1].isspace() else ""
                tails.append(f'"{style_attribute(fmt)} t="inlineStr"><is>'
                             f'<t{preserve}>{v}</t></is></c>')
            tail = pa.array(tails, ARROW_TEXT).take(codes.indices)
            cells = pc.binary_join_element_wise(head, rows, tail, text_scalar(""))
            return _blanks_filled(cells, blank)
    rows_text = rows.to_pylist()
    return pa.array(column_xml(values, letter, rows_text, style), ARROW_TEXT)


def _blanks_filled(cells: pa.Array, blank: pa.Array | None) -> pa.Array:
    """``cells`` with each null (a blank) the formatted blank cell of its row, or no cell
    (empty text) when the column has no format."""
    if blank is None:
        return cells.fill_null(text_scalar(""))
    return pc.coalesce(cells, blank)


@dataclass
class SheetRows:
    """A sheet's rows written by :func:`write_rows`: the file holding them (the sheets of a
    workbook share one) with where they start and how many bytes they take, the last row
    written (from 0) and the last column of the sheet (from 0)."""

    rows: IO[bytes]
    start: int
    size: int
    last_row: int
    last_col: int


def worksheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """The part (path in the archive) of each worksheet of an XLSX, by sheet name."""
    rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    book = ET.fromstring(archive.read("xl/workbook.xml"))
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    parts = {}
    for sheet in book.iter(f"{main}sheet"):
        target = targets[sheet.get(rid)]
        parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") \
            else f"xl/{target}"
    return parts


#: Deflate level of the sheets holding the accounts' rows (zlib: 1 fastest, 9 smallest;
#: zipfile's default is 6). At 100,000 accounts (97 MB of sheet XML) level 1 compresses in
#: 0.5 CPU s to 16.5 MB, level 6 in 1.3 s to 12.4 MB (bench/results.md, 2026-12-05).
ROWS_ZIP_LEVEL = 1


def splice_rows(frame: IO[bytes], path: Any, sheets: dict[str, SheetRows]) -> None:
    """Write to ``path`` the XLSX ``frame`` (as XlsxWriter wrote it, each sheet of
    ``sheets`` with its header row only) with each sheet's rows after its header row and
    its dimension (the used range) widened to the last row written. Every other part is
    copied as it is."""
    with zipfile.ZipFile(frame) as source, \
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        parts = {part: sheets[name] for name, part in worksheet_parts(source).items()
                 if name in sheets}
        for info in source.infolist():
            data = source.read(info)
            entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            entry.compress_type, entry.external_attr = info.compress_type, info.external_attr
            if info.filename not in parts or parts[info.filename].last_row < 1:
                target.writestr(entry, data)
                continue
            spliced = parts[info.filename]
            head, tail = _split_sheet(data.decode("utf-8"), spliced)
            entry.file_size = len(head) + spliced.size + len(tail)  # ZIP64 if it needs it
            # ZipFile.open takes the level from the entry (Python 3.11's attribute; 3.13
            # keeps it as an alias of compress_level)
            entry._compresslevel = ROWS_ZIP_LEVEL
            spliced.rows.seek(spliced.start)
            with target.open(entry, "w") as out:
                out.write(head)
                left = spliced.size
                while left:
                    chunk = spliced.rows.read(min(left, 1 << 20))
                    if not chunk:
                        raise ValueError("the rows' file is shorter than written")
                    out.write(chunk)
                    left -= len(chunk)
                out.write(tail)


def _split_sheet(xml: str, spliced: SheetRows) -> tuple[bytes, bytes]:
    """The worksheet XML before and after where the rows go (before ``</sheetData>``), its
    dimension widened to ``spliced``'s last row and column."""
    dimensions = re.findall(r'<dimension ref="[^"]*"/>', xml)
    if len(dimensions) != 1 or xml.count("</sheetData>") != 1:
        raise ValueError("the worksheet XML is not as XlsxWriter writes it")
    last = f"{xl_col_to_name(spliced.last_col)}{spliced.last_row + 1}"
    xml = xml.replace(dimensions[0], f'<dimension ref="A1:{last}"/>')
    head, tail = xml.split("</sheetData>")
    return head.encode("utf-8"), ("</sheetData>" + tail).encode("utf-8")
