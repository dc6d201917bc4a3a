"""Subscription lines to monthly MRR (playbook.billing), against figures computed in the test.

The expected figures come from a plain day-by-day rule written here, independently of the
product: the MRR of a month is the sum of the lines in force on the month's last day (on the
as-of date in the as-of month), a line being in force from its start date up to, not
including, its end date.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import ACCOUNTS_CSV
from test_loader import load, params_with

from playbook.billing import lifecycle_from_billing, line_months, monthly_amounts


def expected_month_end(lines: list[tuple], as_of: str, months: list[str],
                       inclusive: bool = False) -> dict[tuple[str, str], float]:
    """(account, 'YYYY-MM') -> MRR, by the day rule above, for the given months."""
    stop = dt.date.fromisoformat(as_of)
    out: dict[tuple[str, str], float] = {}
    for ym in months:
        y, m = map(int, ym.split("-"))
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        day = min(nxt - dt.timedelta(days=1), stop)
        for account, start, end, mrr in lines:
            s = dt.date.fromisoformat(start)
            e = dt.date.fromisoformat(end) if end else None
            if e is not None and inclusive:
                e += dt.timedelta(days=1)
            if s <= day and (e is None or day < e):
                out[(account, ym)] = out.get((account, ym), 0.0) + mrr
    return out


def frame(lines: list[tuple]) -> pd.DataFrame:
    f = pd.DataFrame(lines, columns=["account_id", "start_date", "end_date", "mrr"])
    f["start_date"] = pd.to_datetime(f["start_date"])
    f["end_date"] = pd.to_datetime(f["end_date"])
    return f


def product(lines: list[tuple], as_of: str, **kw) -> dict[tuple[str, str], float]:
    got = line_months(frame(lines), pd.Timestamp(as_of), **kw)
    summed = got.groupby(["account_id", got["month"].dt.strftime("%Y-%m")])["mrr"].sum()
    return {k: v for k, v in summed.items() if v}


MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024) for m in range(1, 13)]

FIXTURES = {
    # one paid period per line, back to back on the 21st: never two lines in one month
    "back_to_back_monthly": [("A", f"2024-{m:02d}-21", f"2024-{m + 1:02d}-21", 100.0)
                             for m in range(1, 6)],
    # annual prepaid term then a renewal at a higher price
    "annual_lines": [("B", "2023-03-10", "2024-03-10", 1000.0),
                     ("B", "2024-03-10", "2025-03-10", 1200.0)],
    # mid-period upgrade: the old item ends on the 15th, the new one starts that day
    "mid_period_upgrade": [("C", "2024-01-01", "2024-02-01", 50.0),
                           ("C", "2024-02-01", "2024-02-15", 50.0),
                           ("C", "2024-02-15", "2024-03-01", 80.0),
                           ("C", "2024-03-01", "2024-04-01", 80.0)],
    # cancelled at the end of the paid period: last period ends 12 April
    "cancel_at_period_end": [("D", "2024-01-12", "2024-02-12", 70.0),
                             ("D", "2024-02-12", "2024-03-12", 70.0),
                             ("D", "2024-03-12", "2024-04-12", 70.0)],
    # an open line and an add-on product that overlaps it
    "open_line_with_add_on": [("E", "2024-05-20", None, 300.0),
                              ("E", "2024-07-01", "2024-10-01", 45.5)],
    # a line that starts and ends inside one month is never in force at a month end
    "inside_one_month": [("F", "2024-06-03", "2024-06-20", 999.0)],
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_month_end_mrr_equals_the_day_rule(name):
    lines = FIXTURES[name]
    as_of = "2024-09-30"
    expected = expected_month_end(lines, as_of, MONTHS[:21])
    assert product(lines, as_of) == pytest.approx(expected)


def test_back_to_back_lines_count_once_a_month_and_churn_in_the_month_after_the_last():
    got = product(FIXTURES["back_to_back_monthly"], "2024-09-30")
    # paid 21 Jan to 21 Jun: in force at the end of Jan..May, not at the end of June
    assert got == {("A", f"2024-{m:02d}"): 100.0 for m in range(1, 6)}


def test_cancel_at_period_end_has_no_mrr_at_the_end_of_april():
    got = product(FIXTURES["cancel_at_period_end"], "2024-09-30")
    assert ("D", "2024-03") in got and ("D", "2024-04") not in got


def test_inclusive_end_dates_move_the_end_one_day():
    # 1 Jan to 31 Jan inclusive is the whole of January
    lines = [("G", "2024-01-01", "2024-01-31", 10.0), ("G", "2024-02-01", "2024-02-29", 10.0)]
    exclusive = product(lines, "2024-03-31")
    inclusive = product(lines, "2024-03-31", end_inclusive=True)
    assert exclusive == {}  # as exclusive ends, neither line is in force on its last day
    assert inclusive == expected_month_end(lines, "2024-03-31", ["2024-01", "2024-02",
                                                                 "2024-03"], inclusive=True)
    assert inclusive == {("G", "2024-01"): 10.0, ("G", "2024-02"): 10.0}


def test_open_line_runs_to_a_mid_month_as_of_date():
    lines = [("H", "2024-01-05", None, 20.0), ("H", "2024-03-01", "2024-03-20", 5.0)]
    # as of 15 March: the March add-on is in force on the as-of date
    got = product(lines, "2024-03-15")
    assert got == expected_month_end(lines, "2024-03-15", ["2024-01", "2024-02", "2024-03"])
    assert got[("H", "2024-03")] == 25.0


def test_lines_starting_after_the_as_of_date_are_not_counted():
    assert product([("I", "2024-10-01", None, 5.0)], "2024-09-30") == {}


def test_prorated_basis_counts_days_in_force():
    lines = [("J", "2024-01-16", "2024-03-16", 31.0)]
    got = product(lines, "2024-03-31", basis="prorated")
    # Jan: 16 of 31 days; Feb: all 29 days; Mar: 15 of 31 days
    assert got[("J", "2024-01")] == pytest.approx(31.0 * 16 / 31)
    assert got[("J", "2024-02")] == pytest.approx(31.0)
    assert got[("J", "2024-03")] == pytest.approx(31.0 * 15 / 31)


def test_lifecycle_from_billing():
    monthly = pd.DataFrame({
        "account_id": ["A", "A", "A", "B", "B", "C"],
        "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-02-01",
                                 "2024-05-01", "2024-05-01"]),
        "mrr": [10.0, 10.0, 12.0, 5.0, 7.0, 3.0]})
    got = lifecycle_from_billing(monthly, pd.Timestamp("2024-05-31"))
    assert got.loc["A", "status"] == "churned"
    assert got.loc["A", "churn_date"] == pd.Timestamp("2024-04-01")
    assert got.loc["A", "start_date"] == pd.Timestamp("2024-01-01")
    assert got.loc["A", "last_mrr"] == 12.0
    assert got.loc["B", "status"] == "active" and pd.isna(got.loc["B", "churn_date"])
    assert got.loc["C", "start_date"] == pd.Timestamp("2024-05-01")


def test_loader_uses_the_billing_rules_and_leaves_proration_lines_out(client_factory):
    lines = ("account_id,start_date,end_date,mrr,proration\n"
             "A1,2024-01-10,2024-02-10,100,false\n"
             "A1,2024-02-10,2024-03-10,100,false\n"
             "A1,2024-02-20,2024-03-10,40,true\n"      # upgrade: prorated charge, one-off
             "A1,2024-03-10,,140,false\n"
             "A2,2024-02-15,2024-02-28,70,false\n")
    params = params_with(mrr={"file": "subs.csv", "layout": "lines"})
    data = load(client_factory, files={"accounts.csv": ACCOUNTS_CSV, "subs.csv": lines},
                params=params)
    m = data["mrr"].set_index(["account_id", "month"])["mrr"]
    # Period 2024-Q1, as of 31 March: A1 pays 100 at the end of Jan and Feb, 140 in March;
    # A2's line ends before the end of February and never counts.
    assert m.to_dict() == {("A1", pd.Timestamp("2024-01-01")): 100.0,
                           ("A1", pd.Timestamp("2024-02-01")): 100.0,
                           ("A1", pd.Timestamp("2024-03-01")): 140.0}
    assert any("proration line" in n.message for n in data.quality.notes)


def test_period_amounts_become_monthly_amounts():
    lines = frame([("K", "2024-03-10", "2025-03-10", 12000.0),   # annual: 12 months
                   ("K", "2024-03-10", "2024-09-10", 600.0),     # semi-annual: 6 months
                   ("K", "2024-03-10", "2024-04-10", 50.0),      # monthly
                   ("K", "2024-03-10", None, 90.0)])             # open: unknown period
    got = monthly_amounts(lines)
    assert got.iloc[:3].tolist() == [1000.0, 100.0, 50.0]
    assert pd.isna(got.iloc[3])
    with_months = lines.assign(period_months=[12, 6, 1, 3])
    assert monthly_amounts(with_months).tolist() == [1000.0, 100.0, 50.0, 30.0]
