"""The data profile `make check` prints per table: rows, date range, blanks, unmapped columns,
values that look wrong."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from playbook.cli import main
from playbook.config import load_params
from playbook.loader import load_client
from playbook.profile import format_profile, profile_client

ACCOUNTS = """\
Account ID,Customer Since,ARR (USD),Status,Segment,Owner,Favourite Colour
A1,2023-01-15,12000,Active,SMB,,red
A2,2023-02-01,0,Active,SMB,Kim,blue
A3,1985-03-01,6000,Churned,SMB,Lee,
A4,2023-03-10,0,Active,SMB,Kim,green
"""

MRR = """\
account_id,month,mrr
A1,2023-01-01,1000
A2,2023-02-01,2000
A3,2023-03-01,500
A4,2023-03-01,0
"""

TICKETS = """\
Ticket ID,Account ID,Created,Closed,Priority,Hours Spent
T1,A1,2023-02-01,2023-02-03,P1,2
T2,A1,2023-02-10,2023-02-05,P2,1
T3,A2,2023-03-01,,P3,450
T4,A4,2099-01-01,,P4,1
"""

PARAMS = {
    "period": {"period": "2023-Q1"},
    "tables": {
        "accounts": {
            "file": "accounts.csv",
            "columns": {"account_id": "Account ID", "start_date": "Customer Since",
                        "arr": "ARR (USD)", "status": "Status", "owner": "Owner"},
        },
        "mrr": {"file": "mrr.csv"},
        "tickets": {
            "file": "tickets.csv",
            "columns": {"ticket_id": "Ticket ID", "account_id": "Account ID",
                        "opened_at": "Created", "closed_at": "Closed",
                        "hours_spent": "Hours Spent"},
            "codes": {"priority": {"P1": "urgent", "P2": "high", "P3": "medium", "P4": "low"}},
        },
    },
}


def load(client_factory):
    client_factory.write("p", files={"accounts.csv": ACCOUNTS, "mrr.csv": MRR,
                                     "tickets.csv": TICKETS}, params=PARAMS)
    params = load_params("p")
    return load_client(params), params


def test_profile_counts_rows_dates_blanks_and_columns(client_factory):
    data, params = load(client_factory)
    profiles = {p.table: p for p in profile_client(data, params)}
    assert list(profiles) == ["accounts", "mrr", "tickets"]
    acc = profiles["accounts"]
    assert acc.rows == 4 and acc.date_column == "start_date"
    assert acc.first == pd.Timestamp("1985-03-01") and acc.last == pd.Timestamp("2023-03-10")
    assert acc.blanks["owner"] == 0.25 and acc.blanks["account_id"] == 0
    assert "segment" in acc.blanks  # found by its canonical name, not mapped
    assert "employees" in acc.not_supplied and "mrr" in acc.derived
    assert acc.unmapped == ["Favourite Colour"]
    tickets = profiles["tickets"]
    assert tickets.accounts == 3 and tickets.blanks["closed_at"] == 0.5
    assert "priority" in tickets.blanks  # 'Priority' matches by name; codes mapped in params


def test_profile_names_values_that_look_wrong(client_factory):
    data, params = load(client_factory)
    wrong = {p.table: " | ".join(p.wrong) for p in profile_client(data, params)}
    assert "start_date: 1 date(s) before 1990" in wrong["accounts"]
    assert "arr: 67% of values of active accounts are 0" in wrong["accounts"]
    assert "segment: one value only" not in wrong["accounts"]  # fewer than 30 rows: no claim
    assert "1 ticket(s) closed before they were opened" in wrong["tickets"]
    assert "opened_at: 1 date(s) in the future (latest 2099-01-01)" in wrong["tickets"]
    assert "hours_spent: 1 ticket(s) above 200 hours" in wrong["tickets"]


def test_profile_text_is_short_and_readable(client_factory):
    data, params = load(client_factory)
    text = format_profile(profile_client(data, params), accounts_total=4)
    assert text.startswith("Data profile")
    assert "tickets" in text and "3 accounts (75%)" in text
    assert "not mapped:  Favourite Colour" in text
    assert "looks wrong:" in text and "nan" not in text.lower()
    assert max(len(line) for line in text.splitlines()) <= 100


def test_check_prints_the_profile(client_factory):
    load(client_factory)
    result = CliRunner().invoke(main, ["check", "p"])
    assert result.exit_code == 0, result.output
    assert "Data profile (after loading):" in result.output
    assert "closed before they were opened" in result.output
