"""Text columns as pandas holds them backed by Arrow, read by their bytes: the strings
behind a column without a copy, each cell's UTF-8 bytes (:func:`string_buffers`),
trimming that copies a column only when a cell has something to trim (:func:`trimmed`) and
blank cells set missing over the same bytes (:func:`masked`).

The loader trims every text cell it reads; at 1,000,000 accounts trimming one of the
touches' ID columns (28.7 million cells, none with a space) allocated 1 GB, twice (the
blank-row check and the column's parse), at the loader's memory peak. Light on purpose
(numpy, pandas and pyarrow only): :mod:`playbook.reading` and :mod:`playbook.values` both
use it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow

#: pandas' text of Arrow strings, missing as NaN: what ``astype(str)`` gives.
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def arrow_strings(series: pd.Series) -> pyarrow.ChunkedArray | None:
    """The Arrow strings behind ``series`` (not copied) when its dtype is :data:`TEXT`,
    else None."""
    if series.dtype == TEXT:
        return series.array.__arrow_array__()
    return None


def any_arrow_strings(series: pd.Series) -> pyarrow.ChunkedArray | None:
    """The Arrow strings behind ``series`` (not copied), missing as NaN or as NA, else
    None."""
    if isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow":
        return series.array.__arrow_array__()
    return None


def string_buffers(chunk: pyarrow.Array) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, bytes) of an Arrow string chunk: the cell ``i`` is
    ``bytes[offsets[i]:offsets[i + 1]]``; ``offsets`` has ``len(chunk) + 1`` entries."""
    if chunk.type == pyarrow.large_string():
        wide = np.int64
    elif chunk.type == pyarrow.string():
        wide = np.int32
    else:
        raise TypeError(f"not Arrow strings: {chunk.type}")
    buffers = chunk.buffers()
    offsets = np.frombuffer(buffers[1], dtype=wide)[chunk.offset:chunk.offset + len(chunk) + 1]
    data = (np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None
            else np.zeros(0, dtype=np.uint8))
    return offsets.astype(np.int64, copy=False), data


def present(chunk: pyarrow.Array) -> np.ndarray:
    """True where a chunk's cell is not null."""
    if chunk.null_count == 0:
        return np.ones(len(chunk), dtype=bool)
    return np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def trimmed_already(cells: pyarrow.ChunkedArray) -> bool:
    """Whether no cell starts or ends with whitespace, so trimming would change none: no
    cell's first or last byte is an ASCII space or control character (every ASCII
    whitespace), DEL, or outside ASCII (a byte of a multi-byte character, which may be a
    space such as U+00A0 or U+3000: such a column is trimmed)."""
    for chunk in cells.chunks:
        offsets, data = string_buffers(chunk)
        filled = np.diff(offsets) > 0
        if not filled.any():
            continue
        ends = np.concatenate([data[offsets[:-1][filled]], data[offsets[1:][filled] - 1]])
        if ((ends <= np.uint8(32)) | (ends >= np.uint8(127))).any():
            return False
    return True


def trimmed(series: pd.Series) -> pd.Series:
    """``series.astype(str).str.strip()``: the cells as text, trimmed; a :data:`TEXT`
    column with nothing to trim is returned as it is, not copied."""
    cells = arrow_strings(series)
    if cells is not None and trimmed_already(cells):
        return series
    return series.astype(str).str.strip()


def masked(series: pd.Series, mask: np.ndarray) -> pd.Series:
    """``series.where(~mask, None)``: the cells where ``mask`` is True missing. A
    :data:`TEXT` column keeps its bytes where they are (a new validity bitmap over the same
    buffers, a bit a cell), where pandas' ``where`` rebuilt the column (1 GB for a touches
    column at 1,000,000 accounts with a few blank contacts)."""
    cells = arrow_strings(series)
    if cells is None:
        return series.where(~mask, None)
    pieces, start = [], 0
    for chunk in cells.chunks:
        n = len(chunk)
        keep = ~mask[start:start + n] & present(chunk)
        start += n
        bits = np.zeros(chunk.offset + n, dtype=bool)
        bits[chunk.offset:] = keep
        validity = pyarrow.py_buffer(np.packbits(bits, bitorder="little"))
        pieces.append(pyarrow.Array.from_buffers(
            chunk.type, n, [validity, *chunk.buffers()[1:]], null_count=n - int(keep.sum()),
            offset=chunk.offset))
    out = pyarrow.chunked_array(pieces, type=cells.type).to_pandas(
        types_mapper={cells.type: TEXT}.get)
    out.index, out.name = series.index, series.name
    return out
