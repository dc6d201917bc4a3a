"""Reading one column of a canonical frame, as the driver modules all do: as floats
(booleans as 0/1, text coerced, unreadable values NaN), or whether it holds any value."""

from __future__ import annotations

import numpy as np
import pandas as pd


def numeric_or_nan(frame: pd.DataFrame, column: str) -> pd.Series:
    """``frame[column]`` as floats (unreadable values NaN); all NaN when the column is
    absent."""
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def has_values(frame: pd.DataFrame, column: str) -> bool:
    """Whether ``frame`` has ``column`` with at least one non-missing value."""
    return column in frame and frame[column].notna().any()


def as_numeric(s: pd.Series) -> pd.Series:
    """``s`` as floats: booleans and numbers as they are (True = 1.0), text coerced
    (unreadable values NaN)."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return s.astype(float)
    return pd.to_numeric(s, errors="coerce").astype(float)
