"""`make client` on exports shaped like real systems (issue 16, point 8): billing lines
(Stripe, Chargebee, ChurnSim), birth dates that are not start dates, profile files that are
not churn events, snapshot exports, renewal opportunities.

Each proposal is compared with what a consultant writes (the hand-written params.yaml beside
each export under tests/fixtures/exports/) and must pass `playbook check` as proposed.
"""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from test_external_shapes import month_end_matrix

from playbook.cli import main
from playbook.config import load_params
from playbook.loader import load_client
from playbook.scaffold import write_params

REPO = Path(__file__).resolve().parents[1]
EXPORTS = REPO / "tests" / "fixtures" / "exports"
CHURNSIM = REPO / "tests" / "fixtures" / "exports" / "churnsim"  # ../shared/data/churnsim's files


# --------------------------------------------------------------------------- helpers


def folder_with(tmp: Path, client: str, files: dict[str, str]) -> Path:
    """data/<client>/ under a throw-away root holding ``files`` (name -> CSV text)."""
    folder = tmp / "data" / client
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def copy_export(tmp: Path, client: str, source: Path) -> Path:
    folder = tmp / "data" / client
    folder.mkdir(parents=True)
    for f in source.glob("*.csv"):
        shutil.copy(f, folder / f.name)
    return folder


def proposed(tmp: Path, client: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, str]:
    """Write params/<client>.yaml with `make client`; returns (params, text)."""
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp))
    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp / "reports"))
    path, _ = write_params(client)
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text), text


def consultant(shape: str) -> dict:
    """The params a consultant wrote for the shape (ChurnSim ships as params/churnsim.yaml)."""
    path = EXPORTS / shape / "params.yaml"
    if not path.exists():
        path = REPO / "params" / f"{shape}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def without(csv_text: str, header: str) -> str:
    """The CSV text with one column left out."""
    lines = [ln.split(",") for ln in csv_text.strip().splitlines()]
    drop = lines[0].index(header)
    return "".join(",".join(c for i, c in enumerate(ln) if i != drop) + "\n" for ln in lines)


def first_billed_month(matrix: pd.DataFrame) -> pd.Series:
    paid = matrix.gt(0)
    return paid.idxmax(axis=1)[paid.any(axis=1)]


# --------------------------------------------------------------------------- start dates


def test_churnsim_date_of_birth_is_never_the_start_date_which_comes_from_billing(
        tmp_path, monkeypatch):
    if not (CHURNSIM / "account.csv").exists():
        pytest.fail(f"the ChurnSim sample is not at {CHURNSIM}")
    copy_export(tmp_path, "churnsim", CHURNSIM)
    params, text = proposed(tmp_path, "churnsim", monkeypatch)
    accounts = params["tables"]["accounts"]
    assert accounts["file"] == "account.csv"
    assert accounts["columns"]["start_date"] is None  # left unmapped on purpose
    assert "date_of_birth" not in accounts["columns"].values()
    assert re.search(r"start_date: null +# derived by the loader from the first billed month",
                     text)
    assert "date_of_birth (a birth date: never a start or churn date)" in text

    data = load_client(load_params("churnsim"))
    raw = pd.read_csv(CHURNSIM / "subscription.csv", parse_dates=["start_date", "end_date"])
    lines = pd.DataFrame({"account_id": raw["account_id"].astype(str),
                          "start": raw["start_date"], "end": raw["end_date"],
                          "monthly": raw["mrr"].astype(float)})
    first = first_billed_month(month_end_matrix(lines, pd.date_range("2021-01-01", "2022-06-01",
                                                                  freq="MS")))
    starts = data["accounts"].set_index("account_id")["start_date"]
    assert starts.reindex(first.index).tolist() == first.tolist()
    assert starts.min() >= pd.Timestamp("2021-01-01")  # date_of_birth runs from 2011


ACCOUNTS_BIRTH = """\
Customer ID,Company,Customer Since,Signup Date
C1,Alpha,1961-03-02,2023-01-20
C2,Beta,1975-07-14,2023-03-03
C3,Gamma,1988-11-30,2023-04-28
C4,Delta,1969-02-11,2023-06-10
C5,Epsilon,1992-05-05,2023-07-01
C6,Zeta,1958-09-19,2023-08-15
"""

ACCOUNTS_EARLY = """\
Customer ID,Company,Customer Since,Signup Date
C1,Alpha,2012-03-02,2023-01-20
C2,Beta,2015-07-14,2023-03-03
C3,Gamma,2018-11-30,2023-04-28
C4,Delta,2013-02-11,2023-06-10
C5,Epsilon,2016-05-05,2023-07-01
C6,Zeta,2014-09-19,2023-08-15
"""

MRR_2023 = """\
Customer ID,Month,MRR
C1,2023-01-01,100
C1,2023-02-01,100
C2,2023-03-01,200
C2,2023-04-01,200
C3,2023-05-01,300
C4,2023-06-01,100
C5,2023-07-01,50
C6,2023-08-01,80
C6,2023-09-01,80
"""


def test_a_start_named_column_holding_dates_decades_before_billing_gives_way(
        tmp_path, monkeypatch):
    """'Customer Since' is a known start header, but its dates are decades before each
    account's first invoice: the next start-like header whose dates fit ('Signup Date') is
    proposed, and the file loads as proposed."""
    folder_with(tmp_path, "acme", {"accounts.csv": ACCOUNTS_EARLY, "mrr.csv": MRR_2023})
    params, text = proposed(tmp_path, "acme", monkeypatch)
    assert params["tables"]["accounts"]["columns"]["start_date"] == "Signup Date"
    assert "'Customer Since' is not" in text and "years before" in text
    data = load_client(load_params("acme", period="2023-Q3"))
    assert data["accounts"]["start_date"].min() == pd.Timestamp("2023-01-20")


def test_without_another_start_column_billing_gives_the_start(tmp_path, monkeypatch):
    folder_with(tmp_path, "acme", {"accounts.csv": without(ACCOUNTS_EARLY, "Signup Date"),
                                   "mrr.csv": MRR_2023})
    params, text = proposed(tmp_path, "acme", monkeypatch)
    assert params["tables"]["accounts"]["columns"]["start_date"] is None
    assert "derived by the loader from the first billed month" in text
    assert "'Customer Since' is a median" in text and "years before each account" in text
    data = load_client(load_params("acme", period="2023-Q3"))
    starts = data["accounts"].set_index("account_id")["start_date"]
    assert starts["C3"] == pd.Timestamp("2023-05-01") and starts["C1"] == pd.Timestamp(
        "2023-01-01")


def test_a_start_after_the_first_billed_month_is_not_the_start(tmp_path, monkeypatch):
    """A 'Start Date' two years after billing began (a renewal, not the start)."""
    late = ("Customer ID,Company,Start Date\n" + "".join(
        f"C{i},Co {i},2025-0{i}-15\n" for i in range(1, 7)))
    folder_with(tmp_path, "acme", {"accounts.csv": late, "mrr.csv": MRR_2023})
    params, text = proposed(tmp_path, "acme", monkeypatch)
    # null: the loader would otherwise find 'Start Date' by its name
    assert params["tables"]["accounts"]["columns"]["start_date"] is None
    data = load_client(load_params("acme", period="2023-Q3"))
    assert data["accounts"]["start_date"].max() < pd.Timestamp("2024-01-01")
    assert "months after each account's first billed month" in text


@pytest.mark.parametrize("header", ["Date of Birth", "DOB", "Birthday", "born_on",
                                    "Geburtsdatum"])
def test_a_birth_date_header_is_never_a_start_even_without_billing(header, tmp_path,
                                                                    monkeypatch):
    folder_with(tmp_path, "acme", {"accounts.csv": f"""\
        Customer ID,Company,{header}
        C1,Alpha,2019-03-02
        C2,Beta,2020-07-14
        """})
    params, text = proposed(tmp_path, "acme", monkeypatch)
    assert "start_date" not in params["tables"]["accounts"]["columns"]
    assert '# start_date: ""   # TODO required' in text


def test_person_ages_are_not_start_dates_without_billing(tmp_path, monkeypatch):
    """No billing to compare with: dates mostly decades old are a person's, not a start."""
    folder_with(tmp_path, "acme", {"accounts.csv": without(ACCOUNTS_BIRTH, "Signup Date")})
    params, text = proposed(tmp_path, "acme", monkeypatch)
    assert "start_date" not in params["tables"]["accounts"]["columns"]
    assert "a person's birth date" in text


# --------------------------------------------------------------------------- profile files


def test_a_profile_file_is_not_proposed_as_churn_events(tmp_path, monkeypatch):
    """A file named for churn holding who the customers are (birth date, gender, country,
    channel) and no churn date or reason is left unused, not read as cancellations."""
    folder_with(tmp_path, "acme", {
        "customers.csv": """\
            Customer ID,Company,Start Date
            C1,Alpha,2023-01-05
            C2,Beta,2023-02-11
            C3,Gamma,2023-03-20
            """,
        "churn_model_customers.csv": """\
            Customer ID,date_of_birth,gender,country,channel
            C1,1980-02-01,F,DE,web
            C2,1975-06-21,M,FR,partner
            C3,1990-12-03,F,US,web
            """})
    params, text = proposed(tmp_path, "acme", monkeypatch)
    assert "churn_events" not in params["tables"]
    assert "# churn_model_customers.csv: not used." in text


# --------------------------------------------------------------------------- billing lines


def test_stripe_invoice_lines_are_proposed_as_the_consultant_writes_them(tmp_path,
                                                                         monkeypatch):
    copy_export(tmp_path, "stripe", EXPORTS / "stripe")
    params, text = proposed(tmp_path, "stripe", monkeypatch)
    want = consultant("stripe")
    mrr = params["tables"]["mrr"]
    assert mrr["file"] == want["tables"]["mrr"]["file"] == "invoice_line_items.csv"
    assert mrr["layout"] == "lines" and mrr["amount_per"] == "period"
    assert mrr["end_inclusive"] is False
    assert mrr["columns"] == want["tables"]["mrr"]["columns"]
    mapped = {c: h for c, h in params["tables"]["accounts"]["columns"].items() if h}
    assert mapped == {c: h for c, h in want["tables"]["accounts"]["columns"].items() if h}
    assert params["tables"]["accounts"]["columns"]["start_date"] is None
    assert params["period"] == want["period"]
    assert params["client"]["currency"] == "USD"
    assert "'Created (UTC)' (the only other date column) is not named as a start" in text
    # the proposal loads to the same tables as the consultant's params
    mine = load_client(load_params("stripe"))
    shutil.copy(EXPORTS / "stripe" / "params.yaml", tmp_path / "params" / "stripe.yaml")
    theirs = load_client(load_params("stripe"))
    for table in ("accounts", "mrr", "churn_events"):
        pd.testing.assert_frame_equal(mine[table], theirs[table])


def test_chargebee_invoice_lines_with_last_paid_days_are_inclusive(tmp_path, monkeypatch):
    copy_export(tmp_path, "chargebee", EXPORTS / "chargebee")
    params, _ = proposed(tmp_path, "chargebee", monkeypatch)
    mrr = params["tables"]["mrr"]
    assert mrr["file"] == "invoices.csv" and mrr["layout"] == "lines"
    assert mrr["end_inclusive"] is True
    assert mrr["decimal"] == "," and mrr["delimiter"] == ";" and mrr["dayfirst"] is True
    assert mrr["columns"] == {"account_id": "Customer Id", "mrr": "Line Item Amount",
                              "start_date": "Line Item Date From",
                              "end_date": "Line Item Date To"}
    assert "amount_per" not in mrr  # every line is one month
    assert params["client"]["currency"] == "EUR"
    # month-end MRR as loaded equals the raw lines read by hand: end + 1 day = exclusive end
    data = load_client(load_params("chargebee", period="2024-Q4"))
    raw = pd.read_csv(EXPORTS / "chargebee" / "invoices.csv", sep=";", dtype=str)
    lines = pd.DataFrame({
        "account_id": raw["Customer Id"],
        "start": pd.to_datetime(raw["Line Item Date From"], format="%d/%m/%Y"),
        "end": pd.to_datetime(raw["Line Item Date To"], format="%d/%m/%Y") + pd.Timedelta(
            days=1),
        "monthly": raw["Line Item Amount"].str.replace(".", "").str.replace(",", ".")
        .astype(float)})
    months = pd.date_range("2023-01-01", "2024-12-01", freq="MS")
    want = month_end_matrix(lines, months).sum()
    got = data["mrr"].groupby("month")["mrr"].sum().reindex(months, fill_value=0.0)
    assert got.round(2).tolist() == want.round(2).tolist()


def test_lines_whose_next_starts_on_the_end_day_are_exclusive(tmp_path, monkeypatch):
    """The same Chargebee shape with exclusive ends: end_inclusive is proposed false."""
    raw = pd.read_csv(EXPORTS / "chargebee" / "invoices.csv", sep=";", dtype=str)
    end = pd.to_datetime(raw["Line Item Date To"], format="%d/%m/%Y") + pd.Timedelta(days=1)
    raw["Line Item Date To"] = end.dt.strftime("%d/%m/%Y")
    folder = tmp_path / "data" / "cb"
    folder.mkdir(parents=True)
    raw.to_csv(folder / "invoices.csv", sep=";", index=False)
    shutil.copy(EXPORTS / "chargebee" / "customers.csv", folder / "customers.csv")
    params, text = proposed(tmp_path, "cb", monkeypatch)
    assert params["tables"]["mrr"]["end_inclusive"] is False
    assert "the next starts on 'Line Item Date To'" in text


def test_churnsim_lines_are_monthly_amounts_and_exclusive(tmp_path, monkeypatch):
    """ChurnSim's 'mrr' is monthly even on 12-month lines (bill_period_months): no
    amount_per, and bill_period_months is not mapped."""
    copy_export(tmp_path, "churnsim", CHURNSIM)
    params, _ = proposed(tmp_path, "churnsim", monkeypatch)
    mrr = params["tables"]["mrr"]
    want = consultant("churnsim")["tables"]["mrr"]
    assert mrr["file"] == want["file"] and mrr["layout"] == want["layout"] == "lines"
    assert mrr["columns"] == want["columns"]
    assert mrr["end_inclusive"] is False and "amount_per" not in mrr


def test_an_amount_per_period_is_told_from_its_values(tmp_path, monkeypatch):
    """'Amount' on 12-month lines is about twelve times a monthly line's: amount_per period,
    and the months column is mapped so each line is divided by its own period."""
    rows = ["Customer Id,Product,Start,End,Amount,Billing Period Months"]
    for i in range(6):
        rows.append(f"A{i},basic,2024-01-10,2024-02-10,{100 + i},1")
        rows.append(f"A{i},basic,2024-02-10,2024-03-10,{100 + i},1")
        rows.append(f"B{i},basic,2024-01-05,2025-01-05,{12 * (100 + i)},12")
    folder_with(tmp_path, "acme", {
        "customers.csv": "Customer Id,Name\n" + "".join(f"{k}{i},Co\n" for k in "AB"
                                                       for i in range(6)),
        "subscription_lines.csv": "\n".join(rows) + "\n"})
    params, text = proposed(tmp_path, "acme", monkeypatch)
    mrr = params["tables"]["mrr"]
    assert mrr["amount_per"] == "period"
    assert mrr["columns"]["period_months"] == "Billing Period Months"
    assert "bill a median 12.0 times a one-month line" in text
    data = load_client(load_params("acme", as_of="2024-02-29"))
    feb = data["mrr"][data["mrr"]["month"] == pd.Timestamp("2024-02-01")]
    assert feb.set_index("account_id")["mrr"].to_dict() == {
        **{f"A{i}": 100.0 + i for i in range(6)}, **{f"B{i}": 100.0 + i for i in range(6)}}


# --------------------------------------------------------------------------- snapshots


def test_a_snapshot_export_gets_the_consultants_filters_and_derivations(tmp_path,
                                                                        monkeypatch):
    """One row per customer, tenure in months, a churn label, reasons and no dates: the
    accounts' start is the tenure counted back from the as-of date; the same file read again
    gives the churn events (churned rows, dated at the snapshot, lost MRR = the account's)
    and the snapshot month's MRR (active rows); contract terms come from the types' words."""
    copy_export(tmp_path, "snapshot", EXPORTS / "snapshot")
    params, text = proposed(tmp_path, "snapshot", monkeypatch)
    want = consultant("snapshot")["tables"]
    acc, mrr, ev = (params["tables"][t] for t in ("accounts", "mrr", "churn_events"))
    assert acc["file"] == mrr["file"] == ev["file"] == "telco_customers.csv"
    assert acc["derive"] == want["accounts"]["derive"] == {
        "start_date": {"months_before": {"date": "as_of", "months": "Tenure Months"}}}
    assert acc["codes"]["status"] == want["accounts"]["codes"]["status"]
    for column in ("account_id", "status", "mrr", "region"):
        assert acc["columns"][column] == want["accounts"]["columns"][column], column
    assert acc["columns"]["contract_type"] == "Contract"
    assert params["contracts"]["term_by_type"] == {"Month-to-month": 1, "One year": 12,
                                                   "Two year": 24}
    for key in ("filter", "columns", "derive"):
        assert mrr[key] == want["mrr"][key], key
    assert ev["filter"] == want["churn_events"]["filter"]
    assert ev["derive"] == want["churn_events"]["derive"]
    # two reason levels (reason_category above reason_code), where the consultant used one
    assert ev["columns"] == {"account_id": "CustomerID", "reason_category": "Churn Category",
                             "reason_code": "Churn Reason"}
    assert params["period"]["period"] == ""
    assert "TODO: the snapshot's date is the as-of date" in text

    result = CliRunner().invoke(main, ["check", "snapshot", "--period", "2024-Q2"])
    assert result.exit_code == 0, result.output
    mine = load_client(load_params("snapshot", period="2024-Q2"))
    shutil.copy(EXPORTS / "snapshot" / "params.yaml", tmp_path / "params" / "snapshot.yaml")
    theirs = load_client(load_params("snapshot", period="2024-Q2"))
    same = ["account_id", "start_date", "status", "churn_date", "mrr"]
    pd.testing.assert_frame_equal(mine["accounts"][same], theirs["accounts"][same])
    pd.testing.assert_frame_equal(mine["mrr"], theirs["mrr"])
    same = ["account_id", "churn_date", "lost_mrr"]
    pd.testing.assert_frame_equal(mine["churn_events"][same], theirs["churn_events"][same])


# --------------------------------------------------------------------------- renewals


def test_salesforce_renewal_opportunities_are_closed_renewals_with_outcome_codes(
        tmp_path, monkeypatch):
    copy_export(tmp_path, "sf", EXPORTS / "salesforce")
    params, _ = proposed(tmp_path, "sf", monkeypatch)
    ren, ev = params["tables"]["renewals"], params["tables"]["churn_events"]
    assert ren["file"] == ev["file"] == "Opportunity.csv"
    assert ren["filter"] == [{"column": "Opportunity Type", "equals": "Renewal"},
                             {"column": "Stage", "in": ["Closed Won", "Closed Lost"]}]
    assert ren["codes"]["outcome"] == {"Closed Won": "renewed", "Closed Lost": "churned"}
    assert ev["filter"] == [{"column": "Opportunity Type", "equals": "Renewal"},
                            {"column": "Stage", "equals": "Closed Lost"}]
    assert ev["columns"]["reason_code"] == "Loss Reason"
    assert params["period"]["period"] == "2024-Q4"  # the closed renewals run to December

    raw = pd.read_csv(EXPORTS / "salesforce" / "Opportunity.csv", dtype=str)
    renewal = raw[raw["Opportunity Type"] == "Renewal"]
    closed = renewal[renewal["Stage"].isin(["Closed Won", "Closed Lost"])]
    data = load_client(load_params("sf", period="2024-Q4"))
    got = data["renewals"]["outcome"].value_counts().to_dict()
    assert got == closed["Stage"].map({"Closed Won": "renewed", "Closed Lost": "churned"}
                                      ).value_counts().to_dict()
    lost = closed[closed["Stage"] == "Closed Lost"]
    assert sorted(data["churn_events"]["account_id"]) == sorted(lost["Account ID"])
    assert sorted(data["churn_events"]["reason_code"]) == sorted(lost["Loss Reason"])


def test_hubspot_renewals_pipeline_gives_renewals_and_its_lost_deals_the_churn(tmp_path,
                                                                              monkeypatch):
    copy_export(tmp_path, "hs", EXPORTS / "hubspot")
    params, _ = proposed(tmp_path, "hs", monkeypatch)
    ren, ev = params["tables"]["renewals"], params["tables"]["churn_events"]
    assert ren["file"] == ev["file"] == "deals.csv"
    assert ren["columns"]["account_id"] == "Associated Company IDs (Primary)"
    assert ren["columns"]["outcome"] == "Deal Stage"
    assert ren["filter"] == [{"column": "Pipeline", "equals": "Renewals"}]
    assert ren["codes"]["outcome"] == {"Closed won": "renewed", "Closed lost": "churned"}
    assert ev["filter"] == [{"column": "Pipeline", "equals": "Renewals"},
                            {"column": "Deal Stage", "equals": "Closed lost"}]
    assert params["period"]["period"] == "2024-Q4"
    raw = pd.read_csv(EXPORTS / "hubspot" / "deals.csv", dtype=str)
    lost = raw[(raw["Pipeline"] == "Renewals") & (raw["Deal Stage"] == "Closed lost")]
    data = load_client(load_params("hs", period="2024-Q4"))
    assert len(data["renewals"]) == int((raw["Pipeline"] == "Renewals").sum())
    assert sorted(data["churn_events"]["account_id"]) == sorted(
        lost["Associated Company IDs (Primary)"])


def test_renewal_dates_mostly_past_for_active_accounts_mean_the_last_renewal(tmp_path,
                                                                           monkeypatch):
    """Active accounts whose 'Renewal Date' lies before the period's end: the CRM holds the
    last renewal (renewal_date_means: last). Dates ahead keep the default (next)."""
    accounts = ("Customer ID,Company,Start Date,Renewal Date,Status\n"
                "C1,Alpha,2022-02-01,2024-02-01,Active\n"
                "C2,Beta,2022-05-10,2024-05-10,Active\n"
                "C3,Gamma,2023-03-01,2024-03-01,Active\n"
                "C4,Delta,2023-09-01,2025-09-01,Active\n"
                "C5,Eps,2022-01-01,2023-01-01,Churned\n")
    mrr = "Customer ID,Month,MRR\n" + "".join(
        f"C{i},2024-{m:02d}-01,100\n" for i in range(1, 5) for m in range(1, 13))
    folder_with(tmp_path, "acme", {"accounts.csv": accounts, "mrr.csv": mrr})
    params, text = proposed(tmp_path, "acme", monkeypatch)
    assert params["period"]["period"] == "2024-Q4"
    assert params["contracts"]["renewal_date_means"] == "last"
    assert "3 of 4 active accounts' 'Renewal Date' lie before 31 Dec 2024" in text
    assert load_client(load_params("acme")).has("accounts")

    ahead = accounts.replace(",2024-", ",2025-")
    (tmp_path / "data" / "acme" / "accounts.csv").write_text(ahead, encoding="utf-8")
    (tmp_path / "params" / "acme.yaml").unlink()
    params, _ = proposed(tmp_path, "acme", monkeypatch)
    assert "renewal_date_means" not in params.get("contracts", {})


def test_without_a_status_billing_says_which_accounts_are_active(tmp_path, monkeypatch):
    """No status column: an account is active when a line is in force in the as-of month,
    an annual line begun in March included. Three of five active accounts have their
    renewal date in the past: the last renewal."""
    accounts = ("Customer ID,Company,Renewal Date\n"
                "A1,Alpha,2024-03-01\nA2,Beta,2024-04-01\nA3,Gamma,2024-05-01\n"
                "M1,Delta,2025-06-01\nM2,Eps,2025-07-01\n")
    lines = ["Customer ID,Start Date,End Date,MRR"]
    lines += [f"A{i},2024-0{i + 2}-01,2025-0{i + 2}-01,500" for i in (1, 2, 3)]
    lines += [f"M{i},2024-{m:02d}-01,{'2024' if m < 12 else '2025'}-{m % 12 + 1:02d}-01,50"
              for i in (1, 2) for m in range(1, 13)]
    folder_with(tmp_path, "acme", {"accounts.csv": accounts,
                                   "subscriptions.csv": "\n".join(lines) + "\n"})
    params, text = proposed(tmp_path, "acme", monkeypatch)
    assert params["period"]["period"] == "2024-Q4"
    assert params["contracts"]["renewal_date_means"] == "last"
    assert "3 of 5 active accounts' 'Renewal Date'" in text


# --------------------------------------------------------------------------- joins


def test_zendesk_tickets_get_the_account_id_by_joining_the_organisations(tmp_path,
                                                                         monkeypatch):
    """Tickets name the organisation; organizations.csv maps its name to the CRM id."""
    copy_export(tmp_path, "zd", EXPORTS / "zendesk")
    params, text = proposed(tmp_path, "zd", monkeypatch)
    tickets = params["tables"]["tickets"]
    assert tickets["join"] == [{"file": "organizations.csv", "on": {"Organization": "Name"},
                                "columns": ["External ID"]}]
    assert tickets["columns"]["account_id"] == "External ID"
    assert "organizations.csv: not used" not in text
    raw = pd.read_csv(EXPORTS / "zendesk" / "tickets.csv", dtype=str)
    orgs = pd.read_csv(EXPORTS / "zendesk" / "organizations.csv", dtype=str)
    want = raw["Organization"].map(orgs.set_index("Name")["External ID"]).dropna()
    data = load_client(load_params("zd"))
    assert sorted(data["tickets"]["account_id"]) == sorted(want)


# --------------------------------------------------------------------------- as a consultant

#: Per corpus shape: the tables (and columns; None = all) the proposal must load exactly as
#: the consultant's params (tests/fixtures/exports/<shape>/params.yaml) load them. Left out:
#: what only the client can say (HubSpot's lifecycle stage "Other" means churned).
AS_CONSULTANT = {
    "chargebee": {"accounts": ["account_id", "start_date", "status", "churn_date", "mrr"],
                  "mrr": None, "churn_events": ["account_id", "churn_date", "reason_code"]},
    "salesforce": {"accounts": None, "renewals": None, "churn_events": None},
    "hubspot": {"accounts": ["account_id", "name", "industry", "employees", "owner",
                             "start_date"], "renewals": None, "churn_events": None},
    "zendesk": {"accounts": None, "mrr": None, "tickets": None},
}


@pytest.mark.parametrize("shape", sorted(AS_CONSULTANT))
def test_the_proposal_loads_the_tables_the_consultants_params_load(shape, tmp_path,
                                                                    monkeypatch):
    copy_export(tmp_path, shape, EXPORTS / shape)
    params, _ = proposed(tmp_path, shape, monkeypatch)
    want = consultant(shape)
    assert params["period"] == want["period"]
    assert params["client"]["currency"] == want["client"]["currency"]
    mine = load_client(load_params(shape))
    shutil.copy(EXPORTS / shape / "params.yaml", tmp_path / "params" / f"{shape}.yaml")
    theirs = load_client(load_params(shape))
    for table, columns in AS_CONSULTANT[shape].items():
        a, b = mine[table], theirs[table]
        columns = columns or sorted(set(b.columns) - {"_line"})
        pd.testing.assert_frame_equal(a[columns].reset_index(drop=True),
                                      b[columns].reset_index(drop=True), obj=table)


# --------------------------------------------------------------------------- make check


#: Each corpus shape: its folder and the tables its proposal loads (file of each).
CORPUS = {
    "stripe": (EXPORTS / "stripe", {"accounts": "customers.csv",
                                    "mrr": "invoice_line_items.csv"}),
    "chargebee": (EXPORTS / "chargebee", {"accounts": "customers.csv", "mrr": "invoices.csv",
                                          "churn_events": "subscriptions.csv"}),
    "churnsim": (CHURNSIM, {"accounts": "account.csv", "mrr": "subscription.csv",
                            "usage": "active_users_by_month.csv"}),
    "salesforce": (EXPORTS / "salesforce", {"accounts": "Account.csv",
                                            "churn_events": "Opportunity.csv",
                                            "renewals": "Opportunity.csv"}),
    "hubspot": (EXPORTS / "hubspot", {"accounts": "companies.csv", "churn_events": "deals.csv",
                                      "renewals": "deals.csv"}),
    "zendesk": (EXPORTS / "zendesk", {"accounts": "customers.csv", "mrr": "mrr.csv",
                                      "tickets": "tickets.csv"}),
}


@pytest.mark.parametrize("shape", sorted(CORPUS))
def test_the_proposal_for_each_corpus_shape_passes_check(shape, tmp_path, monkeypatch):
    """`make client` then `make check` as proposed: exit 0, and each table read from the
    file the shape keeps it in."""
    source, tables = CORPUS[shape]
    copy_export(tmp_path, shape, source)
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path / "reports"))
    made = CliRunner().invoke(main, ["client", shape])
    assert made.exit_code == 0, made.output
    result = CliRunner().invoke(main, ["check", shape])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    loaded = dict(re.findall(rf"^\s*(\w+) +data/{shape}/(\S+)", result.output, re.M))
    assert loaded == tables
    if shape == "churnsim":  # start dates from billing (2021 on), not date_of_birth (2011 on)
        assert re.search(r"accounts +556 rows; start_date 2021-01-01 to", result.output)
