"""`make client`: recognise the tables in a client's folder and propose the params file."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from playbook import paths
from playbook.cli import main
from playbook.config import load_params
from playbook.loader import load_client
from playbook.scaffold import (
    detect_dates,
    detect_decimal,
    guess_codes,
    match_headers,
    scaffold_client,
    write_params,
)

REPO = paths.PACKAGE_DIR.parent
RAVENSTACK = REPO.parent / "shared" / "data" / "ravenstack"


def mapping(table: str, headers: list[str]) -> dict[str, str]:
    return {c: g.header for c, g in match_headers(table, headers).items()}


def checksums(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- headers


def test_crm_and_cs_platform_headers_map_onto_the_contract():
    assert mapping("accounts", ["Account ID", "ARR (USD)", "Account Owner", "Customer Since",
                                "Annual Revenue", "Billing Country"]) == {
        "account_id": "Account ID", "arr": "ARR (USD)", "owner": "Account Owner",
        "start_date": "Customer Since", "region": "Billing Country"}
    assert mapping("surveys", ["Company ID", "Response Date", "NPS Score"]) == {
        "account_id": "Company ID", "date": "Response Date", "nps": "NPS Score"}
    assert mapping("churn_events", ["Account ID", "Close Date", "Closed Lost Reason"]) == {
        "account_id": "Account ID", "churn_date": "Close Date",
        "reason_code": "Closed Lost Reason"}
    assert mapping("tickets", ["Ticket ID", "Organization ID", "Created At", "Solved At",
                               "Ticket Priority"]) == {
        "ticket_id": "Ticket ID", "account_id": "Organization ID", "opened_at": "Created At",
        "closed_at": "Solved At", "priority": "Ticket Priority"}


def test_case_and_punctuation_do_not_matter_and_confidence_says_how():
    guesses = match_headers("accounts", ["account_id", "START-DATE", "Customer Since",
                                         "Acount Owner"])
    assert guesses["account_id"].confidence == "sure" and guesses["account_id"].score == 100
    assert guesses["start_date"].header == "START-DATE"  # the contract's name wins
    assert guesses["start_date"].confidence == "sure"
    assert guesses["owner"].confidence == "guess"  # a typo: similar name only
    assert "Customer Since" not in {g.header for g in guesses.values()}  # one header per column


def test_values_that_do_not_fit_the_column_mark_a_header_down():
    from playbook.scaffold import Source

    frame = pd.DataFrame({"Account ID": ["A1", "A2"], "Customer Since": ["yes", "no"],
                          "Signup Date": ["2024-01-05", "2024-02-01"]})
    source = Source(Path("accounts.csv"), frame, rows=2)
    guesses = match_headers("accounts", list(frame.columns), source)
    assert guesses["start_date"].header == "Signup Date"


def test_the_demo_headers_give_the_committed_demo_mapping():
    demo = yaml.safe_load((REPO / "params" / "demo.yaml").read_text())
    for table, spec in demo["tables"].items():
        assert mapping(table, list(spec["columns"].values())) == spec["columns"], table


# --------------------------------------------------------------------------- values


@pytest.mark.parametrize(("values", "style", "fmt"), [
    (["2024-01-31", "2024-02-29", "2024-03-01 14:00"], "iso", None),
    (["31-01-2024", "05-02-2024", "12-03-2024"], "dayfirst", "%d-%m-%Y"),
    (["01/31/2024", "02/05/2024", "03/12/2024"], "monthfirst", "%m/%d/%Y"),
    (["01-02-2024", "05-06-2024"], "ambiguous", None),
    (["31-01-2024", "01-31-2024"], "mixed", None),
    (["45292", "45323", "45352"], "excel", None),
    (["Acme", "Beta", "Gamma"], "none", None),
])
def test_date_formats_are_told_apart_by_value_ranges(values, style, fmt):
    guess = detect_dates(pd.Series(values))
    assert guess.style == style
    assert guess.date_format == fmt


def test_decimal_comma_is_detected():
    assert detect_decimal(pd.Series(["1.234,56", "99,5", "12"]))[0] == ","
    assert detect_decimal(pd.Series(["1,234.56", "99.5"]))[0] == "."
    assert detect_decimal(pd.Series(["100", "200"]))[0] is None


def test_status_values_and_flags_become_codes():
    codes = guess_codes("status", "Status", pd.Series(["Active", "Cancelled", "Active",
                                                       "Pending"]))
    assert codes.mapping == {"Active": "active", "Cancelled": "churned"}
    assert codes.unmapped == ["Pending"]
    flag = guess_codes("status", "churn_flag", pd.Series(["TRUE", "FALSE", "FALSE"]))
    assert flag.mapping == {"TRUE": "churned", "FALSE": "active"}
    active = guess_codes("status", "Is Active", pd.Series(["yes", "no"]))
    assert active.mapping == {"yes": "active", "no": "churned"}
    prio = guess_codes("priority", "Priority", pd.Series(["P1", "Sev 2 - Major", "Normal",
                                                         "Low"]))
    assert prio.mapping == {"P1": "urgent", "Sev 2 - Major": "high", "Normal": "medium",
                            "Low": "low"}


# --------------------------------------------------------------------------- whole clients


def test_ravenstack_exports_are_recognised_and_the_proposal_loads(tmp_path, monkeypatch):
    if not RAVENSTACK.is_dir():
        pytest.skip(f"the RavenStack sample is not at {RAVENSTACK} (../shared/data/ravenstack)")
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    folder = tmp_path / "data" / "newclient"
    folder.mkdir(parents=True)
    for csv in RAVENSTACK.glob("*.csv"):
        shutil.copy(csv, folder)
    before = checksums(folder)

    result = CliRunner().invoke(main, ["client", "newclient"])
    assert result.exit_code == 0, result.output
    assert "accounts      <- ravenstack_accounts.csv" in result.output
    assert checksums(folder) == before  # data/ is never modified

    params = yaml.safe_load((tmp_path / "params" / "newclient.yaml").read_text())
    tables = params["tables"]
    assert tables["accounts"]["file"] == "ravenstack_accounts.csv"
    assert tables["accounts"]["columns"] == {
        "account_id": "account_id", "name": "account_name", "industry": "industry",
        "region": "country", "segment": "plan_tier", "start_date": "signup_date",
        "status": "churn_flag"}
    assert tables["accounts"]["codes"]["status"] == {"TRUE": "churned", "FALSE": "active"}
    assert tables["mrr"]["file"] == "ravenstack_subscriptions.csv"
    assert tables["mrr"]["layout"] == "lines"
    assert tables["mrr"]["columns"]["mrr"] == "mrr_amount"
    assert tables["churn_events"]["columns"]["reason_text"] == "feedback_text"
    assert "lost_mrr" not in tables["churn_events"]["columns"]  # a refund is not lost MRR
    assert tables["tickets"]["columns"]["opened_at"] == "submitted_at"
    assert "hours_spent" not in tables["tickets"]["columns"]  # resolution time is elapsed
    assert "usage" not in tables  # feature usage has no account column
    assert params["period"]["period"] == "2024-Q4"
    assert params["client"]["currency"] == "USD"
    text = (tmp_path / "params" / "newclient.yaml").read_text()
    assert "ravenstack_feature_usage.csv: not used" in text and "subscription_id" in text

    data = load_client(load_params("newclient"))  # `make check` passes as proposed
    assert len(data["accounts"]) == 500 and data.has("mrr", "churn_events", "tickets")

    again = CliRunner().invoke(main, ["client", "newclient"])
    assert again.exit_code == 2 and "already exists" in again.output


def test_generated_demo_folder_gives_the_demo_params(tmp_path, monkeypatch):
    from playbook.demo import generate_demo

    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    generate_demo(tmp_path / "data" / "demo2", n_accounts=300)
    proposal = scaffold_client("demo2")
    demo = yaml.safe_load((REPO / "params" / "demo.yaml").read_text())
    for table, spec in demo["tables"].items():
        guess = proposal.tables[table]
        assert guess.source.path.name == spec["file"], table
        assert {c: g.header for c, g in guess.columns.items()} == spec["columns"], table
        for column, codes in spec.get("codes", {}).items():
            assert guess.codes[column].mapping == codes, (table, column)
    assert proposal.period == "2026-Q3"
    assert proposal.todos == []


def test_a_messy_export_is_read_as_it_is_written(tmp_path, monkeypatch):
    """Semicolons, a title line, decimal commas, day-first dates, Windows-1252, Excel serial
    dates in a workbook: the proposal says so and the loader reads the values right."""
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    folder = tmp_path / "data" / "acme"
    folder.mkdir(parents=True)
    accounts = ("Export CRM Kunden 2024\n"
                "Kundennummer;Firma;Customer Since;ARR (EUR);Account Status;Branche\n"
                "K-1;Müller GmbH;31-01-2023;1.234,50;Aktiv;Handel\n"
                "K-2;Bäcker AG;15-03-2023;99,90;Gekündigt;Handel\n"
                "K-3;Zeta KG;02-04-2023;12.000,00;Active;Industrie\n")
    (folder / "Kunden accounts.csv").write_bytes(accounts.encode("cp1252"))
    with pd.ExcelWriter(folder / "subscriptions.xlsx") as xl:
        pd.DataFrame({"Account": ["K-1", "K-2", "K-3"], "Period": [45292, 45292, 45323],
                      "MRR": [102.9, 8.3, 1000.0]}).to_excel(xl, sheet_name="MRR", index=False)
        pd.DataFrame({"note": ["export of 2024-02"]}).to_excel(xl, sheet_name="Info",
                                                               index=False)
    before = checksums(folder)
    path, proposal = write_params("acme")
    assert checksums(folder) == before
    acc = proposal.tables["accounts"]
    assert acc.source.header_row == 2 and acc.source.delimiter == ";"
    assert acc.source.encoding == "cp1252"
    assert acc.decimal == "," and acc.dayfirst is True and acc.date_format == "%d-%m-%Y"
    assert {c: g.header for c, g in acc.columns.items()} == {
        "account_id": "Kundennummer", "name": "Firma", "start_date": "Customer Since",
        "arr": "ARR (EUR)", "status": "Account Status"}
    assert acc.codes["status"].mapping == {"Active": "active"}
    assert set(acc.codes["status"].unmapped) == {"Aktiv", "Gekündigt"}
    assert proposal.currency == "EUR"
    mrr = proposal.tables["mrr"]
    assert mrr.source.sheet == "MRR" and mrr.layout == "monthly"
    assert mrr.dates["month"].style == "excel"
    text = path.read_text(encoding="utf-8")
    assert '# "Aktiv": ?' in text and "TODO" in text
    # The consultant maps the German codes; then the file loads with the right values.
    text = text.replace('# "Aktiv": ?', '"Aktiv": active  #').replace(
        '# "Gekündigt": ?', '"Gekündigt": churned  #')
    path.write_text(text, encoding="utf-8")
    data = load_client(load_params("acme"))
    acc_frame = data["accounts"].set_index("account_id")
    assert acc_frame.loc["K-1", "arr"] == pytest.approx(1234.5)
    assert acc_frame.loc["K-2", "start_date"] == pd.Timestamp("2023-03-15")
    assert acc_frame.loc["K-2", "status"] == "churned"
    assert sorted(data["mrr"]["month"].dt.strftime("%Y-%m").unique()) == ["2024-01", "2024-02"]


def test_no_folder_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    result = CliRunner().invoke(main, ["client", "nobody"])
    assert result.exit_code == 2
    assert "data/nobody/" in result.output and "Traceback" not in result.output


def test_a_required_column_not_found_is_flagged_and_check_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    folder = tmp_path / "data" / "acme"
    folder.mkdir(parents=True)
    (folder / "accounts.csv").write_text("Client Ref,Company,Region\nX1,Acme,EMEA\n"
                                         "X2,Beta,APAC\n")
    path, proposal = write_params("acme")
    assert proposal.tables["accounts"].missing == ["account_id", "start_date"]
    assert any("accounts.account_id: required column not found" in t for t in proposal.todos)
    text = path.read_text()
    assert "# account_id: \"\"   # TODO required" in text and "Client Ref" in text
    result = CliRunner().invoke(main, ["check", "acme", "--period", "2024-Q1"])
    assert result.exit_code == 2
    assert "required column 'account_id'" in result.output
