"""A validated table as a file of the run's data cache: Arrow IPC, uncompressed, read by
memory map.

Each notebook's kernel reads the tables it uses from the run's cache
(:class:`playbook.client_data.StoredTables`). Parquet had to be decompressed and decoded
by every kernel (1.8 CPU s for all of them at 100,000 accounts, each time). An
uncompressed Arrow IPC file is mapped instead: text columns (pandas ``str``, backed by
Arrow) point into the mapped file without a copy, so two kernels reading the same table
share its pages (the system keeps one copy in its page cache), and reading takes a tenth
of the time. Number and date columns are copied out as pandas builds its blocks; their
mapped pages, read once for that copy, are then handed back
(:func:`playbook.memory.drop_mapped_pages`), or each kernel would hold every number
twice (at 100,000 accounts about 190 MB of a kernel that reads all the tables). The
frame read back equals the one written (dtypes, blanks, the default row index): both
directions go through Arrow's pandas conversion, as Parquet's did. The files are about
ten times Parquet's size (600 MB at 100,000 accounts) and live only as long as the run.
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


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` (its row index is not kept: read back, the rows are
    numbered from 0)."""
    feather.write_feather(pa.Table.from_pandas(frame, preserve_index=False), path,
                          compression="uncompressed")


def read_table(path: Path) -> pd.DataFrame:
    """The table written to ``path`` by :func:`write_table`, its text columns read in place
    from the mapped file."""
    with pa.memory_map(str(path)) as source:
        table = pa.ipc.open_file(source).read_all()
    frame = table.to_pandas()
    for column in _copied_columns(table):
        for chunk in column.chunks:
            for buffer in chunk.buffers():
                if buffer is not None:
                    drop_mapped_pages(buffer.address, buffer.size)
    return frame


def _copied_columns(table: pa.Table) -> list[pa.ChunkedArray]:
    """The columns of ``table`` that pandas copies out of its buffers: all but text
    (pandas ``str`` keeps text in the Arrow buffers)."""
    return [column for column in table.columns
            if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type))]


#: The column that carries a frame's row index through :func:`write_indexed`.
_INDEX = "\x00row"


def write_indexed(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` with its row index (integers: the rows a loader kept of
    its file), for :func:`read_indexed`."""
    write_table(frame.assign(**{_INDEX: frame.index.to_numpy()}), path)


def read_indexed(path: Path) -> pd.DataFrame:
    """The frame :func:`write_indexed` wrote, its row index as it was (a range again when
    it was one), its text columns read in place from the mapped file."""
    frame = read_table(path)
    index = frame.pop(_INDEX).to_numpy()
    start = int(index[0]) if len(index) and np.issubdtype(index.dtype, np.integer) else None
    if start is not None and (index == np.arange(start, start + len(index))).all():
        frame.index = pd.RangeIndex(start, start + len(index))
    elif len(index):
        frame.index = pd.Index(index)
    return frame
