"""The external-shapes corpus (issue 16): exports shaped like real systems go through
`playbook client` -> `playbook check` -> `playbook report` with the params a consultant would
write (committed beside each export under tests/fixtures/exports/<shape>/params.yaml) and no
preparation script; their headline figures equal a plain pandas computation written here,
never with the product's functions.

Independent rules used below: the MRR of a month is the sum of the recurring lines in force
on its last day (start <= day < end); a movement compares each account's MRR at the end of a
month with the end of the month before (new: from nothing and never billed before;
reactivation: from nothing after earlier billing; churn: to nothing; expansion and
contraction: up or down).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
EXPORTS = REPO / "tests" / "fixtures" / "exports"
CHURNSIM = REPO.parent / "shared" / "data" / "churnsim"


# --------------------------------------------------------------------------- independent rules


def month_end_matrix(lines: pd.DataFrame, months: pd.DatetimeIndex) -> pd.DataFrame:
    """accounts x months: MRR in force on each month's last day. ``lines``: account_id,
    start, end (exclusive, NaT = open), monthly."""
    cols = {}
    for month in months:
        day = month + pd.offsets.MonthEnd(0)
        live = lines[(lines["start"] <= day) & (lines["end"].isna() | (lines["end"] > day))]
        cols[month] = live.groupby("account_id")["monthly"].sum()
    return pd.DataFrame(cols).fillna(0.0)


def movements(matrix: pd.DataFrame, months: pd.DatetimeIndex) -> dict[str, float]:
    out = dict.fromkeys(("new", "expansion", "contraction", "churn", "reactivation"), 0.0)
    out["churned_logos"] = 0
    for month in months:
        prev_month = month - pd.DateOffset(months=1)
        prev, cur = matrix[prev_month], matrix[month]
        earlier = matrix.loc[:, matrix.columns < prev_month]
        ever = (earlier > 0).any(axis=1)
        up, down = (prev > 0) & (cur > prev), (cur > 0) & (cur < prev)
        gone, came = (prev > 0) & (cur == 0), (prev == 0) & (cur > 0)
        out["expansion"] += float((cur - prev)[up].sum())
        out["contraction"] += float((prev - cur)[down].sum())
        out["churn"] += float(prev[gone].sum())
        out["churned_logos"] += int(gone.sum())
        out["new"] += float(cur[came & ~ever].sum())
        out["reactivation"] += float(cur[came & ever].sum())
    return out


def check_revenue(results: dict, matrix: pd.DataFrame, as_of: str) -> None:
    """Month-end MRR, the quarter's and the trailing year's movements, to the cent."""
    end = pd.Timestamp(as_of).to_period("M").to_timestamp()
    quarter = pd.date_range(end - pd.DateOffset(months=2), end, freq="MS")
    year = pd.date_range(end - pd.DateOffset(months=11), end, freq="MS")
    found = results["01-revenue"]["findings"]
    for key, months in (("period", quarter), ("trailing", year)):
        got = found[key]
        want = movements(matrix, months)
        assert got["end_mrr"] == pytest.approx(matrix[end].sum(), abs=0.005)
        assert got["start_mrr"] == pytest.approx(
            matrix[months[0] - pd.DateOffset(months=1)].sum(), abs=0.005)
        for k in ("new", "expansion", "contraction", "churn", "reactivation"):
            assert got[k] == pytest.approx(want[k], abs=0.005), (key, k)
        assert got["churned_logos"] == want["churned_logos"], key
        assert got["end_logos"] == int((matrix[end] > 0).sum())


# --------------------------------------------------------------------------- the run


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PLAYBOOK_ROOT": str(root), "PLAYBOOK_REPORTS": str(root / "reports")}
    return subprocess.run([sys.executable, "-m", "playbook.cli", *args], env=env, text=True,
                          capture_output=True, timeout=900)


def params_of(shape: str) -> Path:
    """The committed params: beside the export, or a shipped example client's."""
    beside = EXPORTS / shape / "params.yaml"
    return beside if beside.exists() else REPO / "params" / f"{shape}.yaml"


def report_of(shape: str, source: Path, tmp: Path) -> dict:
    """Copy the raw exports, scaffold params (must work), then check and report with the
    committed params; returns results.json."""
    data = tmp / "data" / shape
    data.mkdir(parents=True)
    for f in source.iterdir():
        if f.suffix in (".csv", ".xlsx", ".parquet"):
            shutil.copy(f, data / f.name)
    scaffold = run(tmp, "client", shape)
    assert scaffold.returncode == 0, scaffold.stdout + scaffold.stderr
    assert (tmp / "params" / f"{shape}.yaml").exists()
    shutil.copy(params_of(shape), tmp / "params" / f"{shape}.yaml")
    check = run(tmp, "check", shape)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "Traceback" not in check.stdout + check.stderr
    report = run(tmp, "report", shape)
    assert report.returncode == 0, report.stdout + report.stderr
    [folder] = [p for p in (tmp / "reports" / shape).iterdir() if p.name[0].isdigit()]
    assert (folder / "report.pdf").stat().st_size > 10_000
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the shapes


def stripe_matrix() -> pd.DataFrame:
    raw = pd.read_csv(EXPORTS / "stripe" / "invoice_line_items.csv")
    raw = raw[raw["Proration"].astype(str).str.lower() != "true"]
    lines = pd.DataFrame({
        "account_id": raw["Customer"],
        "start": pd.to_datetime(raw["Period Start (UTC)"]).dt.normalize(),
        "end": pd.to_datetime(raw["Period End (UTC)"]).dt.normalize(),
        "monthly": raw["Amount"] / raw["Plan Interval"].map({"month": 1, "year": 12})})
    return month_end_matrix(lines, pd.date_range("2023-01-01", "2024-12-01", freq="MS"))


def churnsim_matrix() -> pd.DataFrame:
    raw = pd.read_csv(CHURNSIM / "subscription.csv", parse_dates=["start_date", "end_date"])
    lines = pd.DataFrame({"account_id": raw["account_id"].astype(str),
                          "start": raw["start_date"], "end": raw["end_date"],
                          "monthly": raw["mrr"].astype(float)})
    return month_end_matrix(lines, pd.date_range("2021-01-01", "2022-06-01", freq="MS"))


def check_unknown_reasons(results: dict, matrix: pd.DataFrame, as_of: str) -> None:
    """Without a churn table every churn event is synthesised with the reason 'unknown'."""
    end = pd.Timestamp(as_of).to_period("M").to_timestamp()
    year = pd.date_range(end - pd.DateOffset(months=11), end, freq="MS")
    pareto = results["01-revenue"]["findings"]["reason_pareto"]
    assert [r["reason"] for r in pareto] == ["unknown"]
    assert pareto[0]["logos"] == movements(matrix, year)["churned_logos"]


def check_snapshot(results: dict) -> None:
    """A snapshot: churned logos and lost MRR by reason, churn by contract, no history, no
    renewal model (said, not crashed)."""
    raw = pd.read_csv(EXPORTS / "snapshot" / "telco_customers.csv")
    churned = raw[raw["Churn Label"] == "Yes"]
    found = results["01-revenue"]["findings"]
    pareto = {r["reason"]: (r["logos"], r["lost_mrr"]) for r in found["reason_pareto"]}
    want = churned.groupby(churned["Churn Category"].fillna("(blank)"))["Monthly Charges"]
    assert pareto == {k: (int(v.count()), pytest.approx(float(v.sum()), abs=0.005))
                      for k, v in want}
    by_contract = found["churn_by_variable"]["segment"]["table"]
    counts = raw.groupby("Contract")["Churn Label"].agg(
        n="size", churned=lambda s: int((s == "Yes").sum()))
    assert {r["group"]: (r["n"], r["churned"]) for r in by_contract} == {
        k: (int(v["n"]), int(v["churned"])) for k, v in counts.iterrows()}
    assert "period" not in found and "trailing" not in found  # one month: no movements
    skipped = {s["section"] for s in found["sections_skipped"]}
    assert {"1-month history", "12-month history"} <= skipped
    drivers = results["02-renewal-drivers"]["findings"]
    assert "model" not in drivers and drivers["unfitted"]


SHAPES: dict[str, tuple[Callable[[], Path], Callable[[dict], None]]] = {
    "snapshot": (lambda: EXPORTS / "snapshot", check_snapshot),
    "stripe": (lambda: EXPORTS / "stripe", lambda r: (
        check_revenue(r, stripe_matrix(), "2024-12-31"),
        check_unknown_reasons(r, stripe_matrix(), "2024-12-31"))),
    "churnsim": (lambda: CHURNSIM, lambda r: (
        check_revenue(r, churnsim_matrix(), "2022-06-30"),
        check_unknown_reasons(r, churnsim_matrix(), "2022-06-30"))),
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_export_shape_reports_its_figures_from_raw_files_and_params(shape, tmp_path):
    source, check = SHAPES[shape]
    if not source().exists():
        pytest.fail(f"{source()} is missing")
    results = report_of(shape, source(), tmp_path)
    check(results)
