"""The loader gives the same tables and the same quality log with issue 22's faster pieces (Arrow
CSV reading, number casts, code lookups, blank cells, the DuckDB event query, ...)
as with the code they replaced (evening and late-night sessions): each replaced function is
swapped back for its reference copy (kept in the tests named below) and the client loaded
again. On the demo, on the demo with usage as an event log, and on every export shape in
tests/fixtures/exports. Frames compared exactly, dtypes included."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from scipy.stats import chi2_contingency
from test_events_duckdb_reference import old_with_duckdb
from test_load_cpu_references import (
    old_blank,
    old_iso_dates,
    old_mrr_gaps,
    old_plain_iso,
    old_range_failures,
)
from test_load_speed_references import main_date_order_conflict as old_order_conflict
from test_load_speed_references import (
    old_came_back,
    old_dedupe_keys,
    old_month_start,
    old_monthly_mrr,
)
from test_vectorised_reading import old_blank_rows
from test_vectorised_values import (
    old_ambiguous_thousands,
    old_blank_mask,
    old_parse_code,
    old_parse_number,
    old_parse_text,
    old_read_dates,
)

from playbook import completion, consistency, demo, events, loader, reading, rows, values
from playbook.config import load_params
from playbook.loader import load_client
from tests.export_shapes import EXPORTS, copy_shape

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.events import write_usage_events  # noqa: E402

SHAPES = sorted(p.name for p in EXPORTS.iterdir() if p.is_dir() and (
    (p / "params.yaml").exists() or (REPO / "params" / f"{p.name}.yaml").exists()))


def _old_code(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(values, "parse_code", old_parse_code)
    monkeypatch.setattr(values, "parse_number", old_parse_number)
    monkeypatch.setattr(values, "_ambiguous_thousands", old_ambiguous_thousands)
    monkeypatch.setattr(values, "blank_mask", old_blank_mask)
    monkeypatch.setattr(values, "parse_text", old_parse_text)
    monkeypatch.setattr(values, "read_dates", old_read_dates)
    monkeypatch.setattr(values, "_plain_numbers", lambda text: pd.to_numeric(
        text, errors="coerce").astype(float).to_numpy())
    monkeypatch.setattr(reading, "read_plain_csv", lambda *a: None)
    monkeypatch.setattr(reading, "_blank_rows", old_blank_rows)
    monkeypatch.setattr(rows, "known_ids",
                        lambda ids, known: ids.isin(known).to_numpy(dtype=bool))
    monkeypatch.setattr(events, "_with_duckdb", old_with_duckdb)
    monkeypatch.setattr(values, "month_start", old_month_start)
    monkeypatch.setattr(completion, "came_back", old_came_back)
    monkeypatch.setattr(loader, "monthly_mrr", old_monthly_mrr)
    monkeypatch.setattr(loader, "dedupe_keys", old_dedupe_keys)
    monkeypatch.setattr(values, "date_order_conflict", old_order_conflict)
    monkeypatch.setattr(values, "_blank", old_blank)
    monkeypatch.setattr(values, "_plain_iso", old_plain_iso)
    monkeypatch.setattr(values, "_iso_dates", old_iso_dates)
    monkeypatch.setattr(values, "_range_failures", old_range_failures)
    monkeypatch.setattr(loader, "mrr_gaps", old_mrr_gaps)
    monkeypatch.setattr(consistency, "pearson_chi2",
                        lambda table: tuple(chi2_contingency(table))[:2])


def _same_load(root: Path, client: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.setenv("PLAYBOOK_ROOT", str(root))
    params = load_params(client)
    new = load_client(params)
    with monkeypatch.context() as m:
        _old_code(m)
        old = load_client(params)
    assert new.tables.keys() == old.tables.keys()
    for name in new.tables:
        pd.testing.assert_frame_equal(new[name], old[name], check_exact=True)
    assert new.quality.to_dict() == old.quality.to_dict()
    return new.tables


def test_the_demo_loads_the_same(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "d"
    demo.generate_demo(folder, n_accounts=400)
    (tmp_path / "params").mkdir()
    shutil.copy(REPO / "params" / "demo.yaml", tmp_path / "params" / "d.yaml")
    tables = _same_load(tmp_path, "d", monkeypatch)
    assert len(tables["accounts"]) == 400


def test_the_demo_with_an_event_log_loads_the_same(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "ev"
    demo.generate_demo(folder, n_accounts=300)
    write_usage_events(folder, mean=4.0)
    params = yaml.safe_load((REPO / "params" / "demo.yaml").read_text())
    params["tables"]["usage"] = {"file": "usage_events.parquet", "layout": "events",
                                 "columns": {"account_id": "Account ID",
                                             "month": "Event Time", "user_id": "User ID",
                                             "licensed_seats": "Licensed Seats"}}
    (tmp_path / "params").mkdir()
    (tmp_path / "params" / "ev.yaml").write_text(yaml.safe_dump(params))
    tables = _same_load(tmp_path, "ev", monkeypatch)
    assert len(tables["usage"]) > 1000


@pytest.mark.parametrize("shape", SHAPES)
def test_each_export_shape_loads_the_same(shape, tmp_path, monkeypatch):
    copy_shape(shape, tmp_path)
    tables = _same_load(tmp_path, shape, monkeypatch)
    assert len(tables["accounts"])
