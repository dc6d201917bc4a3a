"""Usage events for benchmark clients: the demo's monthly usage turned into an event log.

Each account-month of ``usage_monthly.csv`` becomes ``Poisson(mean)`` events (at least
one) spread over the month, each by one of the month's active users, written as Parquet
(``usage_events.parquet``: Account ID, Event Time, User ID, Licensed Seats) in row groups,
or as CSV (``usage_events.csv``, the same columns, ISO date-times) in chunks, so the file can
be far larger than memory would allow as one pandas frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

SECONDS_A_DAY = 86_400
#: Columns of the event file (Parquet stores the times in milliseconds: read back, they are
#: cast to this schema).
SCHEMA = pa.schema([("Account ID", pa.string()), ("Event Time", pa.timestamp("s")),
                    ("User ID", pa.int32()), ("Licensed Seats", pa.int32())])


def write_usage_events(folder: Path, *, mean: float = 6.0, seed: int = 7,
                       chunk: int = 200_000, fmt: str = "parquet") -> tuple[Path, int]:
    """Write ``usage_events.parquet`` (``fmt="csv"``: ``usage_events.csv``) beside
    ``usage_monthly.csv``; returns (file, events). The same seed gives the same events in
    either format."""
    monthly = pd.read_csv(folder / "usage_monthly.csv", dtype={"Account ID": str})
    rng = np.random.default_rng(seed)
    out = folder / f"usage_events.{fmt}"
    schema = SCHEMA
    total = 0
    writer_type = (pq.ParquetWriter if fmt == "parquet" else pcsv.CSVWriter)
    options = {"compression": "zstd"} if fmt == "parquet" else {}
    with writer_type(out, schema, **options) as writer:
        for start in range(0, len(monthly), chunk):
            part = monthly.iloc[start:start + chunk]
            n = np.maximum(1, rng.poisson(mean, len(part)))
            users = np.maximum(1, part["Active Users"].to_numpy())
            month = pd.to_datetime(part["Month"]).to_numpy().astype("datetime64[s]")
            days = pd.to_datetime(part["Month"]).dt.days_in_month.to_numpy()
            idx = np.repeat(np.arange(len(part)), n)
            offset = (rng.random(len(idx)) * days[idx] * SECONDS_A_DAY).astype("int64")
            table = pa.table({
                "Account ID": part["Account ID"].to_numpy()[idx],
                "Event Time": month[idx] + offset.astype("timedelta64[s]"),
                "User ID": (rng.random(len(idx)) * users[idx]).astype("int32") + 1,
                "Licensed Seats": part["Licensed Seats"].to_numpy()[idx].astype("int32"),
            }, schema=schema)
            if fmt == "parquet":
                writer.write_table(table, row_group_size=1_000_000)
            else:
                writer.write_table(table)
            total += len(idx)
    return out, total


def parquet_events_as_csv(source: Path, target: Path) -> int:
    """Rewrite an event file written by :func:`write_usage_events` as CSV, a row group at a
    time (the file written with ``fmt="csv"`` and the same seed holds the same rows);
    returns the events written."""
    total = 0
    parquet = pq.ParquetFile(source)
    with pcsv.CSVWriter(target, SCHEMA) as writer:
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group).cast(SCHEMA)
            writer.write_table(table)
            total += table.num_rows
    return total
