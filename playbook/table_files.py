"""A validated table as a file of the run's data cache: Arrow IPC, uncompressed, read by
memory map.

Each notebook's kernel reads the tables it uses from the run's cache
(:class:`playbook.client_data.StoredTables`). Parquet had to be decompressed and decoded
by every kernel (1.8 CPU s for all of them at 100,000 accounts, each time). An
uncompressed Arrow IPC file is mapped instead: text columns (pandas ``str``, backed by
Arrow) point into the mapped file without a copy, so two kernels reading the same table
share its pages (the system keeps one copy in its page cache), and reading takes a tenth
of the time.

Numbers and dates are read in place too where numpy can use Arrow's bytes as they are: a
table is written as one chunk, floats keep a blank as NaN and dates as NaT (no Arrow
validity bitmap: :func:`write_table`), and pandas gets one block per column
(``split_blocks``), so a float, date or whole-number column points into the mapped file.
A kernel then holds only the pages of the columns it reads (a column no analysis touches
costs nothing), shared with the other kernels reading them, and nothing is copied. The
columns pandas must convert (whole numbers with blanks, yes/no, categories) are copied
out; their mapped pages, read once for that copy, are then handed back
(:func:`playbook.memory.drop_mapped_pages`), or the kernel would hold them twice. The
frame read back equals the one written (dtypes, blanks, the default row index), as
Parquet's did. The files are about ten times Parquet's size (600 MB at 100,000 accounts)
and live only as long as the run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pyarrow import feather

from playbook.memory import drop_mapped_pages

#: The extension of a table's file in a cache entry.
SUFFIX = ".arrow"


def write_table(frame: pd.DataFrame, path: Path, *, one_chunk: bool = True) -> None:
    """Write ``frame`` to ``path`` (its row index is not kept: read back, the rows are
    numbered from 0). ``one_chunk=False`` leaves a column parsed in pieces in its pieces
    (no copy of it): for a file read back with its numbers copied out (:func:`read_indexed`),
    where one chunk gains nothing."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for position, name in enumerate(table.column_names):
        values = _as_stored(frame.iloc[:, position])
        if values is not None:
            table = table.set_column(position, name, values)
    # one chunk (a column parsed in pieces is joined here, once): numpy can then read each
    # number and date column in place
    feather.write_feather(table.combine_chunks() if one_chunk else table, path,
                          compression="uncompressed", chunksize=max(table.num_rows, 1))


def _as_stored(column: pd.Series) -> pa.Array | None:
    """``column`` as an Arrow array pandas can read back without a copy (no validity
    bitmap: a blank number stays NaN, a blank date NaT, as in pandas), for a float or
    a (time-zone-naive) date column; None for any other (Arrow's own conversion)."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else ""
    if kind not in ("f", "M"):
        return None
    values = column.to_numpy()
    if kind == "f":
        return pa.array(values, from_pandas=False)
    unit = np.datetime_data(values.dtype)[0]
    raw = np.ascontiguousarray(values).view(np.int64)
    return pa.Array.from_buffers(pa.timestamp(unit), len(raw), [None, pa.py_buffer(raw)])


def read_table(path: Path, *, numbers_in_place: bool = True) -> pd.DataFrame:
    """The table written to ``path`` by :func:`write_table`, its text columns and the
    number and date columns numpy can share read in place from the mapped file: the
    frame's arrays are then read-only (a kernel's tables are, :mod:`playbook.read_only`;
    writing into one raises ``ValueError: assignment destination is read-only``).
    ``numbers_in_place=False`` copies the numbers and dates out (a frame the caller goes
    on changing in place); the text stays in the file either way."""
    return read_table_in_place(path, numbers_in_place=numbers_in_place)[0]


def read_table_in_place(path: Path, *, numbers_in_place: bool = True
                        ) -> tuple[pd.DataFrame, list[pa.Buffer]]:
    """:func:`read_table`, and the mapped buffers its frame points into (the columns read
    in place), for :func:`drop_pages`."""
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    frame = table.to_pandas(split_blocks=numbers_in_place)
    in_place = []
    for position, column in enumerate(table.columns):
        buffers = [b for chunk in column.chunks for b in chunk.buffers() if b is not None]
        if _copied(column, frame.iloc[:, position]):
            drop_pages(buffers)
        else:
            in_place += buffers
    return frame, in_place


def drop_pages(buffers: list[pa.Buffer]) -> None:
    """Hand back the pages of mapped table files under ``buffers``
    (:func:`playbook.memory.drop_mapped_pages`): they stay in the system's file cache, and
    a later read maps them again with the same bytes. The caller holds the buffers, so
    their mapping is still there."""
    for buffer in buffers:
        drop_mapped_pages(buffer.address, buffer.size)


def _copied(column: pa.ChunkedArray, read: pd.Series) -> bool:
    """Whether pandas copied ``column`` out of its mapped buffers into ``read``: text stays
    in them (pandas ``str`` is backed by Arrow), and so does a number or date column that
    pandas reads in place (one chunk, no blanks as Arrow nulls, a type numpy shares)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return False
    if column.num_chunks != 1 or not isinstance(read.dtype, np.dtype):
        return True
    data = read.to_numpy(copy=False).__array_interface__["data"]
    buffers = [b for b in column.chunk(0).buffers() if b is not None]
    return not any(b.address <= data[0] < b.address + max(b.size, 1) for b in buffers)


#: The column that carries a frame's row index through :func:`write_indexed`.
_INDEX = "\x00row"


def write_indexed(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` with its row index (integers: the rows a loader kept of
    its file), for :func:`read_indexed`; its text in the pieces it was parsed in (joining
    them copied the touches' text, 1.4 GB at 1,000,000 accounts, in the loading child at
    the load's peak)."""
    write_table(frame.assign(**{_INDEX: frame.index.to_numpy()}), path, one_chunk=False)


def read_indexed(path: Path) -> pd.DataFrame:
    """The frame :func:`write_indexed` wrote, its row index as it was (a range again when
    it was one), its text columns read in place from the mapped file, its numbers and
    dates copied out (the loader goes on completing the table in place)."""
    frame = read_table(path, numbers_in_place=False)
    index = frame.pop(_INDEX).to_numpy()
    start = int(index[0]) if len(index) and np.issubdtype(index.dtype, np.integer) else None
    if start is not None and (index == np.arange(start, start + len(index))).all():
        frame.index = pd.RangeIndex(start, start + len(index))
    elif len(index):
        frame.index = pd.Index(index)
    return frame
