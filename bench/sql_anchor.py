"""The second anchor of the benchmark: the analyst's plain DuckDB script, timed by stage.

``bench/headline.sql`` computes the report's headline figures (month-end MRR and its
movements, the trailing window, logo churn, churn by industry, usage per account-month)
from a benchmark client's raw files. :func:`run_script` runs it on a client's folder with
the client's period and parameters set, one stage (``-- stage: NAME`` in the script) at a
time, and returns its result tables and the seconds of each stage; :func:`shared_stages`
pairs them with the report's stages for the bench table (report / SQL script).

``python bench/sql_anchor.py CLIENT`` runs it on ``bench/out/root/data/CLIENT`` and prints
the seconds and the headline.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "bench" / "headline.sql"
RESULTS = ("movements", "trailing_window", "headline", "churn_by_industry", "usage_monthly")
#: The report's stage (bench table row) that does the work of each stage of the script:
#: loading the raw files (the report also aggregates the usage events while loading).
SHARED = {"load and validate": ("load", "usage"), "01-revenue": ("revenue",)}


def stages(script: str) -> dict[str, str]:
    """The script's statements by stage, in order (``-- stage: NAME`` starts one)."""
    parts = re.split(r"^-- stage: (\w+)\s*$", script, flags=re.MULTILINE)
    return {name: body for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def run_script(folder: Path, *, as_of: pd.Timestamp, trailing_months: int,
               reactivation_months: int, term_months: int, usage_file: str,
               ) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """Run ``bench/headline.sql`` on the raw files in ``folder``.

    ``usage_file``: the event log's file name in ``folder`` (``usage_events.parquet`` or
    ``usage_events.csv``; the script names the Parquet file). Returns the result tables
    (:data:`RESULTS`) as DataFrames and the wall seconds of each stage.
    """
    script = SCRIPT.read_text(encoding="utf-8").replace("'usage_events.parquet'",
                                                          "'" + usage_file + "'")
    con = duckdb.connect()
    seconds: dict[str, float] = {}
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET file_search_path = '{str(folder).replace(chr(39), chr(39) * 2)}'")
        con.execute(f"SET VARIABLE as_of = DATE '{as_of:%Y-%m-%d}'")
        for name, value in (("trailing_months", trailing_months),
                            ("reactivation_months", reactivation_months),
                            ("term_months", term_months)):
            con.execute(f"SET VARIABLE {name} = {int(value)}")
        for name, body in stages(script).items():
            tick = time.perf_counter()
            con.execute(body)
            seconds[name] = time.perf_counter() - tick
        tables = {name: con.execute(f"SELECT * FROM {name}").df() for name in RESULTS}
    finally:
        con.close()
    return tables, seconds


def run_for_client(client: str, root: Path) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """:func:`run_script` on a client of the project root ``root`` (its params file gives
    the period, the trailing months, the reactivation window, the term and the event
    file)."""
    import os

    from playbook.config import load_params

    old = os.environ.get("PLAYBOOK_ROOT")
    os.environ["PLAYBOOK_ROOT"] = str(root)
    try:
        params = load_params(client)
    finally:
        if old is None:
            os.environ.pop("PLAYBOOK_ROOT")
        else:
            os.environ["PLAYBOOK_ROOT"] = old
    return run_script(root / "data" / client, as_of=pd.Timestamp(params.as_of),
                      trailing_months=params.period.trailing_months,
                      reactivation_months=params.churn.reactivation_window_months,
                      term_months=params.contracts.term_months or 1,
                      usage_file=params.tables["usage"].file)


def shared_stages(report: dict[str, float], sql: dict[str, float]) -> list[tuple[str, float,
                                                                                  float]]:
    """(report stage, report seconds, SQL script seconds) of each stage both do."""
    return [(stage, report[stage], sum(sql.get(s, 0.0) for s in parts))
            for stage, parts in SHARED.items() if stage in report]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    name = sys.argv[1]
    results, secs = run_for_client(name, ROOT / "bench" / "out" / "root")
    print(json.dumps({k: round(v, 2) for k, v in secs.items()}))
    print(results["headline"].to_string())
    print(results["trailing_window"].T.to_string())
