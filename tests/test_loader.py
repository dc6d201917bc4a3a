"""Loading raw client exports into canonical tables, and the messages bad input gets."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from conftest import ACCOUNTS_CSV, BASE_PARAMS, MRR_CSV

from playbook.config import load_params
from playbook.errors import DataError
from playbook.loader import load_client


def load(factory, files=None, params=None):
    factory.write(files=files, params=params)
    return load_client(load_params("t"))


def params_with(**tables):
    p = copy.deepcopy(BASE_PARAMS)
    for name, entry in tables.items():
        if entry is None:
            p["tables"].pop(name, None)
        else:
            p["tables"].setdefault(name, {}).update(entry)
    return p


def whole_year():
    p = copy.deepcopy(BASE_PARAMS)
    p["period"] = {"period": "2024"}
    return p


def test_canonical_tables_with_types(client_factory):
    data = load(client_factory)
    acc = data["accounts"]
    assert list(acc["account_id"]) == ["A1", "A2", "A3"]
    assert acc["start_date"].dtype == "datetime64[ns]"
    assert acc.loc[0, "start_date"] == pd.Timestamp("2024-01-15")
    assert list(acc["status"]) == ["active", "churned", "active"]      # codes mapped
    assert list(acc["mrr"]) == [1000.0, 2000.0, 500.0]                 # derived from ARR / 12
    assert acc["industry"].tolist() == ["Retail", "Retail", "Health"]  # matched by name
    assert "employees" in acc and acc["employees"].isna().all()        # absent column: blank
    mrr = data["mrr"]
    assert mrr["mrr"].sum() == 6500
    assert data.get("usage") is None and data.missing("usage") == ["usage"]


def test_missing_file_names_file_and_folder_contents(client_factory):
    with pytest.raises(DataError) as err:
        load(client_factory, files={"accounts.csv": ACCOUNTS_CSV})
    text = str(err.value)
    assert "data/t/mrr.csv" in text and "does not exist" in text
    assert "accounts.csv" in text                      # lists what is there


def test_missing_required_column_suggests_close_header(client_factory):
    bad = ACCOUNTS_CSV.replace("Customer Since", "Customer Since Date")
    with pytest.raises(DataError) as err:
        load(client_factory, files={"accounts.csv": bad, "mrr.csv": MRR_CSV})
    text = str(err.value)
    assert "required column 'Customer Since' (canonical 'start_date') is missing" in text
    assert "Customer Since Date" in text
    assert "tables.accounts.columns.start_date" in text


def test_semicolons_decimal_commas_and_bom(client_factory):
    accounts = ("\ufeffAccount ID;Customer Since;ARR (USD);Status\n"
                "A1;2024-01-15;12.000,50;Active\nA2;2024-02-01;1.200,00;Churned\n")
    mrr = "account_id;month;mrr\nA1;2024-01-01;1.000,04\nA2;2024-02-01;100,00\n"
    params = params_with(accounts={"decimal": ","}, mrr={"decimal": ","})
    params["tables"]["accounts"]["columns"] = {
        "account_id": "Account ID", "start_date": "Customer Since", "arr": "ARR (USD)",
        "status": "Status"}
    data = load(client_factory, files={"accounts.csv": accounts.encode("utf-8"),
                                       "mrr.csv": mrr}, params=params)
    assert data["accounts"]["arr"].tolist() == [12000.5, 1200.0]
    assert data["mrr"]["mrr"].tolist() == [1000.04, 100.0]


def test_non_utf8_file_is_read_and_noted(client_factory):
    text = ACCOUNTS_CSV.replace("Alpha", "Café Crème")
    data = load(client_factory, files={"accounts.csv": text.encode("cp1252"),
                                       "mrr.csv": MRR_CSV})
    assert data["accounts"].loc[0, "name"] == "Café Crème"
    assert any("not UTF-8" in n.message for n in data.quality.notes)


def test_mixed_date_formats_and_excel_serials(client_factory):
    accounts = ACCOUNTS_CSV.replace("2024-02-01", "45323").replace("2024-03-10", "10/03/2024")
    params = params_with(accounts={"dayfirst": True})
    data = load(client_factory, files={"accounts.csv": accounts, "mrr.csv": MRR_CSV},
                params=params)
    assert data["accounts"]["start_date"].tolist() == [
        pd.Timestamp("2024-01-15"), pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-10")]


def test_unparseable_required_dates_stop_when_too_many(client_factory):
    accounts = ACCOUNTS_CSV.replace("2024-02-01", "someday").replace("2024-03-10", "later")
    with pytest.raises(DataError) as err:
        load(client_factory, files={"accounts.csv": accounts, "mrr.csv": MRR_CSV})
    text = str(err.value)
    assert "column 'Customer Since'" in text
    assert "2 values cannot be read as date" in text
    assert "lines 3, 4" in text and "'someday'" in text
    assert "date_format" in text


def test_one_bad_row_in_many_is_rejected_and_logged(client_factory):
    rows = ["account_id,month,mrr"] + [f"A1,2024-{m:02d}-01,100" for m in range(1, 13)]
    rows += [f"A2,2024-{m:02d}-01,200" for m in range(1, 13)]
    rows[2] = "A1,2024-02-01,-100"
    data = load(client_factory, files={"accounts.csv": ACCOUNTS_CSV,
                                       "mrr.csv": "\n".join(rows) + "\n"}, params=whole_year())
    kept = data["mrr"].set_index(["account_id", "month"])["mrr"]
    # the rejected row leaves a one-month hole, filled with January (tables.mrr.gaps: fill)
    assert len(kept) == 24 and kept[("A1", pd.Timestamp("2024-02-01"))] == 100
    assert any("A1 2024-02" in n.message and "filled" in n.message
               for n in data.quality.notes)
    load_row = data.quality.loads_frame().set_index("table").loc["mrr"]
    assert (load_row["rows read"], load_row["rows rejected"]) == (24, 1)
    assert any("out of range" in n.message and n.count == 1 for n in data.quality.notes)


def test_conflicting_duplicate_accounts_stop_the_run(client_factory):
    accounts = ACCOUNTS_CSV + "A1,Alpha Two,Retail,2024-05-01,5000,Active,Kim\n"
    with pytest.raises(DataError) as err:
        load(client_factory, files={"accounts.csv": accounts, "mrr.csv": MRR_CSV})
    assert "account_id value" in str(err.value)
    assert "on more than one row" in str(err.value)
    assert "'A1'" in str(err.value) and "lines 2, 5" in str(err.value)


def test_exact_duplicate_rows_are_dropped(client_factory):
    accounts = ACCOUNTS_CSV + "A3,Gamma,Health,2024-03-10,6000,Active,Lee\n"
    data = load(client_factory, files={"accounts.csv": accounts, "mrr.csv": MRR_CSV})
    assert len(data["accounts"]) == 3
    assert any("exact duplicate" in n.message for n in data.quality.notes)


def test_rows_for_unknown_accounts(client_factory):
    few = MRR_CSV + "ZZ,2024-01-01,10\n"
    rows = ["account_id,month,mrr"] + [f"A1,2024-{m:02d}-01,100" for m in range(1, 13)]
    rows += [f"A2,2024-{m:02d}-01,1" for m in range(1, 13)] + ["ZZ,2024-01-01,10"]
    data = load(client_factory, files={"accounts.csv": ACCOUNTS_CSV,
                                       "mrr.csv": "\n".join(rows) + "\n"}, params=whole_year())
    assert "ZZ" not in set(data["mrr"]["account_id"])
    assert any("unknown accounts" in n.message for n in data.quality.notes)
    with pytest.raises(DataError,
                       match=r"1 row \(17%\) refers to accounts that are not in the accounts"):
        load(client_factory, files={"accounts.csv": ACCOUNTS_CSV, "mrr.csv": few})


def test_unknown_code_in_required_column(client_factory):
    renewals = ("account_id,renewal_date,outcome\n" + "A1,2024-06-01,Renewed\n" * 1
                + "A2,2024-06-01,maybe\n")
    params = params_with(renewals={"file": "renewals.csv",
                                   "codes": {"outcome": {"Renewed": "renewed"}}})
    with pytest.raises(DataError) as err:
        load(client_factory, files={"accounts.csv": ACCOUNTS_CSV, "mrr.csv": MRR_CSV,
                                    "renewals.csv": renewals}, params=params)
    assert "'maybe'" in str(err.value) and "codes.outcome" in str(err.value)


def test_subscription_lines_expand_to_months(client_factory):
    lines = ("account_id,start_date,end_date,mrr\n"
             "A1,2024-01-10,2024-03-20,100\n"
             "A1,2024-02-01,,50\n"
             "A2,2024-02-15,2024-02-28,70\n")
    params = params_with(mrr={"file": "subs.csv", "layout": "lines"})
    data = load(client_factory, files={"accounts.csv": ACCOUNTS_CSV, "subs.csv": lines},
                params=params)
    m = data["mrr"].set_index(["account_id", "month"])["mrr"]
    # Period is 2024-Q1, month-end MRR: the open line runs to March; the first line ends on
    # 20 March (not in force on 31 March); A2's line ends before the end of February.
    assert m[("A1", pd.Timestamp("2024-01-01"))] == 100
    assert m[("A1", pd.Timestamp("2024-02-01"))] == 150
    assert m[("A1", pd.Timestamp("2024-03-01"))] == 50
    assert len(m) == 3


def test_excel_with_header_below_title_rows(client_factory, tmp_path):
    frame = pd.DataFrame({"Account ID": ["A1", "A2"], "Customer Since": ["2024-01-15",
                                                                        "2024-02-01"],
                          "ARR (USD)": [1200, 2400], "Status": ["Active", "Active"]})
    path = tmp_path / "acc.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame([["CRM export"], ["generated 2024-04-01"]]).to_excel(
            xl, sheet_name="Accounts", index=False, header=False)
        frame.to_excel(xl, sheet_name="Accounts", index=False, startrow=3)
    params = params_with(accounts={"file": "acc.xlsx", "sheet": "Accounts", "header_row": 4})
    data = load(client_factory, files={"acc.xlsx": path.read_bytes(), "mrr.csv":
                                       "account_id,month,mrr\nA1,2024-01-01,100\n"},
                params=params)
    assert data["accounts"]["arr"].tolist() == [1200.0, 2400.0]


def test_unmapped_extra_columns_are_logged(client_factory):
    accounts = ACCOUNTS_CSV.replace("Owner\n", "Owner,Favourite Colour\n", 1)
    accounts = "\n".join(line + (",x" if i else "") for i, line in
                         enumerate(accounts.strip().split("\n"))) + "\n"
    data = load(client_factory, files={"accounts.csv": accounts, "mrr.csv": MRR_CSV})
    assert any("Favourite Colour" in n.message for n in data.quality.notes)


def test_contradictions_are_logged_not_fatal(client_factory):
    churn = "account_id,churn_date,reason_code\nA1,2024-02-20,price\n"
    params = params_with(churn_events={"file": "churn.csv"})
    data = load(client_factory, files={"accounts.csv": ACCOUNTS_CSV, "mrr.csv": MRR_CSV,
                                       "churn.csv": churn}, params=params)
    msgs = " | ".join(n.message for n in data.quality.notes)
    assert "1 account flagged active has churn events" in msgs
    assert "1 churned account has no churn event" in msgs


def test_empty_accounts_table_is_an_error(client_factory):
    with pytest.raises(DataError, match="no rows"):
        load(client_factory, files={"accounts.csv": ACCOUNTS_CSV.split("\n")[0] + "\n",
                                    "mrr.csv": "account_id,month,mrr\n"})


def test_required_table_not_configured(client_factory):
    params = params_with(accounts=None)
    with pytest.raises(DataError, match="required table 'accounts' is not configured"):
        load(client_factory, params=params)


def test_raw_files_are_never_modified(client_factory, tmp_path):
    load(client_factory)
    assert (tmp_path / "data" / "t" / "accounts.csv").read_text() == ACCOUNTS_CSV


def test_active_account_with_churn_event_keeps_no_churn_date(client_factory):
    # A1 is active but has a churn event (it came back); A2 is churned with an event.
    churn = "account_id,churn_date,reason_code\nA1,2024-02-20,price\nA2,2024-03-15,budget\n"
    params = params_with(churn_events={"file": "churn.csv"})
    data = load(client_factory, files={"accounts.csv": ACCOUNTS_CSV, "mrr.csv": MRR_CSV,
                                       "churn.csv": churn}, params=params)
    acc = data["accounts"].set_index("account_id")
    assert pd.isna(acc.loc["A1", "churn_date"])
    assert acc.loc["A2", "churn_date"] == pd.Timestamp("2024-03-15")
    assert acc.loc["A1", "status"] == "active"
