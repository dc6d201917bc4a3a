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
from report_scan import report_defects

REPO = Path(__file__).resolve().parents[1]
EXPORTS = REPO / "tests" / "fixtures" / "exports"
CHURNSIM = REPO / "tests" / "fixtures" / "exports" / "churnsim"  # ../shared/data/churnsim's files


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
    defects = report_defects((folder / "report.html").read_text(encoding="utf-8"))
    assert defects == [], "\n".join(defects)  # read as a reader would: tests/report_scan.py
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
    # churn by contract counts the base of the trailing year: the customers of a year before
    # the snapshot (tenure of 12 months or more: the accounts' start dates are derived from
    # the tenure), churned = marked churned on the snapshot date
    by_contract = found["churn_by_variable"]["segment"]["table"]
    base = raw[raw["Tenure Months"] >= 12]
    counts = base.groupby("Contract")["Churn Label"].agg(
        n="size", churned=lambda s: int((s == "Yes").sum()))
    assert {r["group"]: (r["n"], r["churned"]) for r in by_contract} == {
        k: (int(v["n"]), int(v["churned"])) for k, v in counts.iterrows()}
    # the value tiers' churn counts the same base and churn (it counted none: the accounts
    # as billed had lost the churn of accounts a one-month MRR snapshot never billed)
    tiers = results["03-segments-health"]["findings"]["tiers_churn"]
    assert sum(t["accounts"] for t in tiers) == len(base)
    assert sum(t["churned_accounts"] for t in tiers) == int((base["Churn Label"] == "Yes").sum())
    assert "period" not in found and "trailing" not in found  # one month: no movements
    skipped = {s["section"] for s in found["sections_skipped"]}
    assert "1-month history" in skipped   # one box for the bridge, retention and cohorts
    assert "headline_metrics" not in found   # no rate without a month to follow
    drivers = results["02-renewal-drivers"]["findings"]
    assert "model" not in drivers
    assert "the renewal model" in {s["section"] for s in drivers["sections_skipped"]}


TRAILING_2024 = (pd.Timestamp("2023-12-31"), pd.Timestamp("2024-12-31"))  # both ends in
QUARTER_2024Q4 = (pd.Timestamp("2024-10-01"), pd.Timestamp("2024-12-31"))


def check_reasons(results: dict, dates: pd.Series, reasons: pd.Series) -> None:
    """Churn events of the trailing twelve months, counted by reason."""
    inside = dates.between(*TRAILING_2024)
    want = reasons[inside].value_counts().to_dict()
    got = {r["reason"]: r["logos"] for r in results["01-revenue"]["findings"]["reason_pareto"]}
    assert got == want


def chargebee_matrix() -> pd.DataFrame:
    raw = pd.read_csv(EXPORTS / "chargebee" / "invoices.csv", sep=";", dtype=str)
    amount = raw["Line Item Amount"].str.replace(".", "").str.replace(",", ".").astype(float)
    lines = pd.DataFrame({
        "account_id": raw["Customer Id"],
        "start": pd.to_datetime(raw["Line Item Date From"], format="%d/%m/%Y"),
        "end": pd.to_datetime(raw["Line Item Date To"], format="%d/%m/%Y")
        + pd.Timedelta(days=1), "monthly": amount})
    return month_end_matrix(lines, pd.date_range("2023-01-01", "2024-12-01", freq="MS"))


def check_chargebee(results: dict) -> None:
    check_revenue(results, chargebee_matrix(), "2024-12-31")
    subs = pd.read_csv(EXPORTS / "chargebee" / "subscriptions.csv", sep=";", dtype=str)
    gone = subs[subs["Status"] == "cancelled"]
    check_reasons(results, pd.to_datetime(gone["Cancelled At"], format="%d/%m/%Y"),
                  gone["Cancel Reason Code"])


def check_crm_renewals(results: dict, deals: pd.DataFrame, date: str, stage: str,
                       won: str, lost: str, amount: str, reason: str) -> None:
    """Renewal decisions due in the quarter and lost renewals by reason, from the closed
    renewal opportunities (``deals``: already only the renewal pipeline or type)."""
    closed = deals[deals[stage].isin([won, lost])].copy()
    closed["date"] = pd.to_datetime(closed[date])
    due = closed[closed["date"].dt.normalize().between(*QUARTER_2024Q4)]
    got = results["01-revenue"]["findings"]["renewals_due"]
    assert got["renewals"] == len(due)
    assert got["churned"] == int((due[stage] == lost).sum())
    assert got["churned_arr"] == pytest.approx(float(due.loc[due[stage] == lost, amount].sum()))
    gone = closed[closed[stage] == lost]
    check_reasons(results, gone["date"].dt.normalize(), gone[reason])


def check_salesforce(results: dict) -> None:
    opps = pd.read_csv(EXPORTS / "salesforce" / "Opportunity.csv")
    check_crm_renewals(results, opps[opps["Opportunity Type"] == "Renewal"], "Close Date",
                       "Stage", "Closed Won", "Closed Lost", "Amount", "Loss Reason")


def check_hubspot(results: dict) -> None:
    deals = pd.read_csv(EXPORTS / "hubspot" / "deals.csv")
    check_crm_renewals(results, deals[deals["Pipeline"] == "Renewals"], "Close Date",
                       "Deal Stage", "Closed won", "Closed lost", "Amount",
                       "Closed Lost Reason")


def check_zendesk(results: dict) -> None:
    mrr = pd.read_csv(EXPORTS / "zendesk" / "mrr.csv", parse_dates=["Month"])
    matrix = mrr.pivot_table(index="Customer ID", columns="Month", values="MRR",
                             aggfunc="sum").reindex(
        columns=pd.date_range("2023-01-01", "2024-12-01", freq="MS")).fillna(0.0)
    check_revenue(results, matrix, "2024-12-31")
    tickets = pd.read_csv(EXPORTS / "zendesk" / "tickets.csv")
    orgs = pd.read_csv(EXPORTS / "zendesk" / "organizations.csv")
    matched = tickets["Organization"].isin(orgs["Name"])
    [load] = [x for x in results["90-data-quality"]["findings"]["loads"]
              if x["table"] == "tickets"]
    assert (load["rows read"], load["rows kept"]) == (len(tickets), int(matched.sum()))


SHAPES: dict[str, tuple[Callable[[], Path], Callable[[dict], None]]] = {
    "chargebee": (lambda: EXPORTS / "chargebee", check_chargebee),
    "salesforce": (lambda: EXPORTS / "salesforce", check_salesforce),
    "hubspot": (lambda: EXPORTS / "hubspot", check_hubspot),
    "zendesk": (lambda: EXPORTS / "zendesk", check_zendesk),
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
