"""A frame recorded for results.json, converted column by column (issue 22: the open book
has a row per renewal due, and converting it value by value took about a second at 100,000
accounts): the same plain values as converting each record's values one at a time, the
reference below (the previous implementation)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from playbook import session
from playbook.session import jsonable


def reference(value):
    """The previous :func:`playbook.session.jsonable`, frame by records."""
    if isinstance(value, dict):
        return {str(k): reference(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reference(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return reference(value.to_dict(orient="records"))
    if isinstance(value, pd.Series):
        return reference(value.to_dict())
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date().isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def every_kind() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": pd.Series(["A1", None, "A3", "A4"], dtype="str"),
        "mrr": [1.5, np.nan, np.inf, -0.0],
        "p": np.array([0.25, 0.5, -np.inf, 1e-300], dtype="float32"),
        "n": np.array([1, 2, 3, -4], dtype="int64"),
        "u": np.array([1, 2, 3, 4], dtype="uint8"),
        "flag": [True, False, True, False],
        "maybe": pd.array([True, None, False, True], dtype="boolean"),
        "count": pd.array([1, None, 3, 4], dtype="Int64"),
        "day": pd.to_datetime(["2024-01-31", None, "2023-12-01T13:00", "2026-09-30"],
                              format="ISO8601"),
        "zoned": pd.to_datetime(["2024-01-31", None, "2023-12-01", "2026-09-30"]).tz_localize(
            "Europe/Paris"),
        "gap": pd.to_timedelta([1, None, 3, 4], unit="D"),
        "reasons": [["usage", "tickets"], [], None, [np.float64(1.5), np.nan]],
        "mixed": [np.int64(3), "x", np.float64(np.nan), {"k": np.bool_(True)}],
        "band": pd.Categorical(["a", "b", None, "a"]),
        7: [1, 2, 3, 4],  # a column name that is not text
    })


def test_a_frame_of_every_kind_converts_as_record_by_record():
    frame = every_kind()
    got, want = jsonable(frame), reference(frame)
    assert got == want
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)  # same types
    assert got[1]["mrr"] is None and got[2]["mrr"] is None and got[2]["p"] is None
    assert got[0]["n"] == 1 and type(got[0]["n"]) is int and type(got[0]["flag"]) is bool


@pytest.mark.parametrize("frame", [pd.DataFrame(), pd.DataFrame(index=range(3)),
                                   pd.DataFrame({"a": pd.Series([], dtype=float)}),
                                   every_kind().iloc[[2]]])
def test_empty_and_odd_frames(frame):
    assert jsonable(frame) == reference(frame)


def test_a_frame_inside_a_record(small_demo_run):
    _, data = small_demo_run
    record = {"accounts": data.tables["accounts"], "as_of": pd.Timestamp("2026-09-30"),
              "rows": [data.tables["mrr"].head(50)]}
    assert jsonable(record) == reference(record)


def test_save_writes_recorded_values_as_recorded_and_converts_only_the_rest(
        client_factory, tmp_path, monkeypatch):
    client_factory.write()
    nb = session.start("t-nb", client="t", run_dir=str(tmp_path / "run"))
    frame = every_kind().drop(columns=[7])
    nb.record("book", frame)
    nb.skip("a section", "Not shown: no data.", [np.str_("usage")])  # not recorded
    seen: list[object] = []
    real = session.jsonable
    monkeypatch.setattr(session, "jsonable", lambda v: seen.append(v) or real(v))
    nb.save()
    saved = json.loads((tmp_path / "run" / "findings" / "t-nb.json").read_text())
    assert saved["findings"]["book"] == json.loads(json.dumps(reference(frame)))
    assert saved["findings"]["sections_skipped"] == [
        {"section": "a section", "missing": ["usage"]}]
    assert not any(isinstance(v, dict) and "book" in v for v in seen)  # not walked again
