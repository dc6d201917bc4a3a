"""Table assembly in params (issue 16, point 4): joins, row filters, derived columns and
``null`` to leave a column unmapped, declarative only.

The snapshot test runs a B2C subscriber snapshot (tests/fixtures/exports/snapshot: one row
per customer, no dates, shaped like the public IBM Telco customer churn export) through
``playbook check`` with the params a consultant would write and no preparation script; its
figures are compared with a plain pandas computation on the raw file written here, never with
the product's functions. The other tests build small clients from the broken-client corpus's
healthy base client and change one thing.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_broken_clients import Client, base_frames, csv, write
from test_hostile_files import check
from test_hostile_files import stopped as hostile_stopped

from playbook.analyses.reasons import churn_by_variable, reason_pareto
from playbook.config import load_params
from playbook.errors import ParamsError
from playbook.loader import load_client

SNAPSHOT = Path(__file__).resolve().parent / "fixtures" / "exports" / "snapshot"
AS_OF = pd.Timestamp("2024-06-30")




def stopped(client: str = "t") -> str:
    """The message of a check that must stop with a clear error, on one line."""
    return " ".join(hostile_stopped(client).split())  # messages wrap


def loaded(client: str = "t"):
    return load_client(load_params(client))


def note(data, *fragments: str):
    """The one quality note holding every fragment."""
    hits = [n for n in data.quality.notes if all(f in n.message for f in fragments)]
    assert len(hits) == 1, "\n".join(n.message for n in data.quality.notes)
    return hits[0]


def unquote_on(root: Path, client: str = "t") -> None:
    """Write `on:` unquoted in the params file, as a consultant would (YAML 1.1 reads it as
    the boolean true)."""
    path = root / "params" / f"{client}.yaml"
    text = path.read_text(encoding="utf-8")
    assert "'on':" in text
    path.write_text(text.replace("'on':", "on:"), encoding="utf-8")


# --------------------------------------------------------------------------- the snapshot


@pytest.fixture
def snapshot(root: Path) -> Path:
    (root / "data" / "snap").mkdir(parents=True)
    shutil.copy(SNAPSHOT / "telco_customers.csv", root / "data" / "snap")
    (root / "params").mkdir()
    shutil.copy(SNAPSHOT / "params.yaml", root / "params" / "snap.yaml")
    return root


def test_a_snapshot_export_runs_from_raw_files_and_params_alone(snapshot: Path):
    code, out = check("snap")
    assert code == 0, out
    data = loaded("snap")
    raw = pd.read_csv(SNAPSHOT / "telco_customers.csv", dtype=str, keep_default_na=False)
    churned = raw[raw["Churn Label"] == "Yes"]
    active = raw[raw["Churn Label"] == "No"]
    acc = data["accounts"].set_index("account_id")

    # churned logos: the rows flagged Yes, each with one churn event on the snapshot date
    assert sorted(acc.index[acc["status"] == "churned"]) == sorted(churned["CustomerID"])
    events = data["churn_events"]
    assert sorted(events["account_id"]) == sorted(churned["CustomerID"])
    assert (events["churn_date"] == AS_OF).all()
    assert (acc.loc[churned["CustomerID"], "churn_date"] == AS_OF).all()

    # start date = the snapshot date minus the tenure in months, row by row
    want_start = {r["CustomerID"]: AS_OF - pd.DateOffset(months=int(r["Tenure Months"]))
                  for _, r in raw.iterrows()}
    assert acc["start_date"].to_dict() == want_start

    # churn by contract (the product's churn-by-variable on the loaded accounts)
    got = churn_by_variable(data["accounts"], "segment", small_n=30)
    want = raw.assign(churned=raw["Churn Label"].eq("Yes")).groupby("Contract")["churned"]
    assert got["n"].to_dict() == want.size().to_dict()
    assert got["churned"].to_dict() == want.sum().astype(int).to_dict()

    # reasons: logos and lost MRR (the account's monthly charge) by churn category
    pareto = reason_pareto(events, uninformative=()).set_index("reason")
    charges = churned.assign(mrr=churned["Monthly Charges"].astype(float))
    by_category = charges.groupby("Churn Category")["mrr"]
    assert pareto["logos"].to_dict() == by_category.size().to_dict()
    assert pareto["lost_mrr"].round(2).to_dict() == by_category.sum().round(2).to_dict()
    assert (events.set_index("account_id")["reason_text"].sort_index().to_dict()
            == churned.set_index("CustomerID")["Churn Reason"].sort_index().to_dict())

    # the MRR of a snapshot: the snapshot month, active customers only
    mrr = data["mrr"]
    assert set(mrr["month"]) == {pd.Timestamp("2024-06-01")}
    assert sorted(mrr["account_id"]) == sorted(active["CustomerID"])
    assert round(mrr["mrr"].sum(), 2) == round(active["Monthly Charges"].astype(float).sum(), 2)

    # every derivation and filter is in the quality log
    for fragments in (("conversion: start_date", "'Tenure Months'", "40 of 40"),
                      ("conversion: month = the as-of date (30 Jun 2024)",),
                      ("conversion: churn_date = the as-of date",),
                      ("conversion: lost_mrr = accounts.mrr", "13 of 13"),
                      ("tables.mrr.filter[0]", "27 of 40 rows kept"),
                      ("tables.churn_events.filter[0]", "13 of 40 rows kept")):
        assert note(data, *fragments).severity == "info"
    # the columns the assembly used are not reported as unused
    unused = data.quality.load_of("accounts").unmapped_columns
    assert "Tenure Months" not in unused and "Churn Value" in unused


# --------------------------------------------------------------------------- joins


def regions_csv(rows: list[tuple[str, str, str]]) -> str:
    return csv(pd.DataFrame(rows, columns=["acct", "Region Name", "Plan"]))


def with_regions(rows: list[tuple[str, str, str]], **join) -> Client:
    client = Client.base()
    client.files["regions.csv"] = regions_csv(rows)
    spec = {"file": "regions.csv", "on": {"Account ID": "acct"}, **join}
    client.table("accounts", join=[spec])
    client.params["tables"]["accounts"]["columns"]["region"] = "Region Name"
    return client


REGIONS = [(f"A{i:03d}", ["North", "South", "East"][i % 3], f"P{i % 2}") for i in range(1, 41)]


def test_a_one_to_one_join_brings_the_other_files_columns(root: Path):
    write(root, with_regions([*REGIONS, REGIONS[6]]))  # A007 twice, same contents
    unquote_on(root)
    data = loaded()
    acc = data["accounts"].set_index("account_id")
    assert acc["region"].to_dict() == {a: r for a, r, _ in REGIONS}
    assert note(data, "tables.accounts.join[0]", "regions.csv joined to accounts.csv on "
                "'Account ID' = 'acct'", "40 of 40 rows matched").severity == "info"
    assert note(data, "1 exact duplicate row of regions.csv dropped").severity == "info"
    assert not [n for n in data.quality.notes if "regions.csv is not used" in n.message]
    assert "Plan" in data.quality.load_of("accounts").unmapped_columns


def test_a_many_to_one_join_looks_up_each_rows_key(root: Path):
    client = Client.base()
    churn = base_frames()["churn"].drop(columns=["reason_text"])
    client.files["churn.csv"] = csv(churn)
    client.files["reason_codes.csv"] = ("code,description\nprice,Too expensive\n"
                                        "product,Missing features\nservice,Slow support\n"
                                        "legal,Contract terms\n")
    client.table("churn_events", join=[{"file": "reason_codes.csv",
                                        "on": {"reason_code": "code"},
                                        "columns": {"description": "Reason Description"}}],
                 columns={"reason_text": "Reason Description"})
    write(root, client)
    data = loaded()
    events = data["churn_events"].set_index("account_id")
    words = {"price": "Too expensive", "product": "Missing features",
             "service": "Slow support"}
    want = churn.set_index("account_id")["reason_code"].map(words)
    assert events["reason_text"].sort_index().to_dict() == want.sort_index().to_dict()
    assert len(churn) == 10 and churn["reason_code"].nunique() == 3  # many rows per code
    n = note(data, "reason_codes.csv joined", "10 of 10 rows matched",
             "1 row of reason_codes.csv matched no row")
    assert n.severity == "info"


def test_a_one_to_many_join_stops_the_run_naming_file_key_and_values(root: Path):
    rows = [*REGIONS, ("A005", "West", "P9"), ("A012", "West", "P9")]
    write(root, with_regions(rows))
    out = stopped()
    for fragment in ("data/t/regions.csv", "column 'acct'", "2 values of 'acct' appear on "
                     "more than one row of regions.csv", "tables.accounts.join[0]",
                     "one-to-many", "'A005'", "'A012'", "Remove or merge the duplicate rows"):
        assert fragment in out, out


def test_unmatched_rows_are_counted_and_kept_or_dropped(root: Path):
    rows = [r for r in REGIONS if r[0] not in ("A001", "A002", "A003")]
    write(root, with_regions([*rows, ("X1", "North", "P0"), ("X2", "North", "P0")]))
    data = loaded()
    acc = data["accounts"].set_index("account_id")
    assert acc.loc[["A001", "A002", "A003"], "region"].isna().all()
    assert len(acc) == 40
    n = note(data, "37 of 40 rows matched", "3 did not and were kept with the joined "
             "columns blank", "2 rows of regions.csv matched no row")
    assert n.severity == "warning" and n.count == 3
    assert n.examples == ["A001", "A002", "A003"] and "segments" in n.affects

    client = Client.base()  # how: inner drops the unmatched rows
    client.files["reason_codes.csv"] = "code,group\nprice,Commercial\nproduct,Product\n"
    client.table("churn_events", join=[{"file": "reason_codes.csv", "how": "inner",
                                        "on": {"reason_code": "code"}}])
    write(root, client)
    data = loaded()
    churn = base_frames()["churn"]
    assert sorted(data["churn_events"]["account_id"]) == sorted(
        churn.loc[churn["reason_code"] != "service", "account_id"])
    assert note(data, "reason_codes.csv joined", "did not and were dropped (how: inner)"
                ).severity == "warning"


def test_a_joined_file_gets_the_checks_of_any_input(root: Path):
    write(root, with_regions(REGIONS, file="../other/regions.csv"))
    out = stopped()
    assert "tables.accounts.join[0].file ('../other/regions.csv') points outside" in out
    write(root, with_regions(REGIONS, file="region.csv"))
    out = stopped()
    assert "data/t/region.csv" in out and "correct tables.accounts.join[0].file" in out
    write(root, with_regions(REGIONS, on={"Account ID": "account"}))
    out = stopped()
    assert "tables.accounts.join[0].on names 'account', which is not a column of " \
        "regions.csv" in out and "acct" in out


# --------------------------------------------------------------------------- filters


KINDS = ["Cancelled", " cancelled ", "Downgrade", "", "Paused", "CANCELLED", "Downgrade",
         "", "Paused", "Cancelled"]


def with_kind(*filters: dict) -> Client:
    churn = base_frames()["churn"].assign(Kind=KINDS)
    client = Client.base(churn=churn)
    client.table("churn_events", filter=list(filters))
    return client


@pytest.mark.parametrize(("filters", "keep"), [
    ([{"column": "Kind", "equals": "cancelled"}],
     lambda k: k.str.strip().str.lower() == "cancelled"),
    ([{"column": "kind", "in": ["Cancelled", "Paused"]}],
     lambda k: k.str.strip().str.lower().isin(["cancelled", "paused"])),
    ([{"column": "Kind", "not_in": ["Downgrade"]}], lambda k: k != "Downgrade"),
    ([{"column": "Kind", "is_blank": True}], lambda k: k.str.strip() == ""),
    ([{"column": "Kind", "is_blank": False}], lambda k: k.str.strip() != ""),
    ([{"column": "Kind", "not_in": ["Downgrade"]}, {"column": "Kind", "is_blank": False}],
     lambda k: (k != "Downgrade") & (k.str.strip() != "")),
], ids=["equals", "in", "not_in_keeps_blanks", "is_blank", "is_not_blank", "two_filters"])
def test_filters_keep_the_rows_the_vocabulary_says(root: Path, filters, keep):
    write(root, with_kind(*filters))
    data = loaded()
    churn = base_frames()["churn"].assign(Kind=KINDS)
    want = churn.loc[keep(churn["Kind"]), "account_id"]
    assert 0 < len(want) < len(churn)
    assert sorted(data["churn_events"]["account_id"]) == sorted(want)
    n = note(data, f"tables.churn_events.filter[{len(filters) - 1}]", "rows kept")
    assert n.severity == "info" and n.count == len(want)


def test_a_filter_value_that_never_occurs_is_a_warning_naming_the_values(root: Path):
    write(root, with_kind({"column": "Kind", "equals": "Canceled"}))
    data = loaded()
    assert len(data["churn_events"]) == 0
    n = note(data, "tables.churn_events.filter[0]", "0 of 10 rows kept",
             "never found in the column: ['canceled']", "Cancelled", "Paused")
    assert n.severity == "warning" and "reasons" in n.affects


def test_filter_mistakes_are_clear_errors(root: Path):
    write(root, with_kind({"column": "Knd", "equals": "Cancelled"}))
    out = stopped()
    assert "tables.churn_events.filter[0].column names 'Knd', which is not a column of " \
        "churn.csv" in out and "data/t/churn.csv" in out and "Kind" in out
    client = with_kind({"column": "Kind", "equals": "Yes"})
    write(root, client)  # YAML reads an unquoted Yes as true
    path = root / "params" / "t.yaml"
    path.write_text(path.read_text().replace("equals: 'Yes'", "equals: Yes"))
    out = stopped()
    assert "tables.churn_events.filter.0.equals" in out and "write the value in quotes" in out
    write(root, with_kind({"column": "Kind", "equals": "a", "in": ["b"]}))
    assert "give exactly one of equals, in, not_in, is_blank" in stopped()


# --------------------------------------------------------------------------- derivations


def test_months_before_counts_back_from_a_date_column(root: Path):
    acc = base_frames()["accounts"].drop(columns=["Customer Since"])
    snap = ["2024-03-31"] * 20 + ["2024-02-29"] * 20
    tenure = [str(i % 13) for i in range(40)]
    tenure[4], tenure[9], tenure[14] = "", "1.5", "-2"
    client = Client.base(accounts=acc.assign(Snapshot=snap, Tenure=tenure))
    del client.params["tables"]["accounts"]["columns"]["start_date"]
    client.table("accounts", derive={"start_date": {"months_before": {
        "date": "Snapshot", "months": "Tenure"}}})
    client.params["data"] = {"max_rejected_share": 0.2}
    write(root, client)
    data = loaded()
    got = data["accounts"].set_index("account_id")["start_date"]
    want = {f"A{i + 1:03d}": pd.Timestamp(snap[i]) - pd.DateOffset(months=int(tenure[i]))
            for i in range(40) if i not in (4, 9, 14)}
    assert got.to_dict() == want
    assert got["A002"] == pd.Timestamp("2024-02-29")  # 31 March minus a month
    n = note(data, "conversion: start_date = 'Snapshot' minus the months in 'Tenure'",
             "37 of 40 rows", "3 rows left blank")
    assert n.severity == "warning" and n.examples == ["6", "11", "16"]


def test_constant_date_copy_and_from_table(root: Path):
    churn = base_frames()["churn"].rename(columns={"reason_code": "Reason"}).drop(
        columns=["reason_text"])
    client = Client.base(churn=churn)
    client.table("churn_events", columns={"reason_code": "Reason"}, derive={
        "churn_date": {"constant_date": dt.date(2024, 2, 15)},   # unquoted in the YAML
        "reason_text": {"copy": "Reason"},                        # one header, two columns
        "lost_mrr": {"from_table": {"table": "accounts", "column": "mrr"}}})
    write(root, client)
    assert "constant_date: 2024-02-15" in (root / "params" / "t.yaml").read_text()
    data = loaded()
    events = data["churn_events"].set_index("account_id").sort_index()
    raw = churn.set_index("account_id").sort_index()
    assert (events["churn_date"] == pd.Timestamp("2024-02-15")).all()
    assert events["reason_code"].tolist() == events["reason_text"].tolist() == \
        raw["Reason"].tolist()
    # accounts.mrr as the loader completes it: this accounts file gives ARR only
    arr = base_frames()["accounts"].set_index("Account ID")["ARR (USD)"]
    assert events["lost_mrr"].round(2).to_dict() == (arr[raw.index] / 12).round(2).to_dict()
    for fragments in (("conversion: churn_date = 15 Feb 2024 on every row (10 rows)",),
                      ("conversion: reason_text = a copy of 'Reason'",),
                      ("conversion: lost_mrr = accounts.mrr of each row's account",
                       "10 of 10 rows")):
        assert note(data, *fragments).severity == "info"
    assert note(data, "churn.csv has its own 'churn_date' column; the derived churn_date")


@pytest.mark.parametrize(("derive", "fragments"), [
    ({"lost_mrr": {"from_tabel": {"table": "accounts", "column": "mrr"}}},
     ("unknown key 'tables.churn_events.derive.lost_mrr.from_tabel'",
      "did you mean 'from_table'?")),
    ({"lost_mrr": {"copy": "reason_code", "constant_date": "as_of"}},
     ("tables.churn_events.derive.lost_mrr", "give exactly one of months_before, "
      "constant_date, copy, from_table (got constant_date, copy)")),
    ({"lost_revenue": {"copy": "reason_code"}},
     ("tables.churn_events.derive.lost_revenue: 'lost_revenue' is not a column of the data "
      "contract's 'churn_events' table",)),
    ({"lost_mrr": {"constant_date": "as_of"}},
     ("tables.churn_events.derive.lost_mrr: constant_date makes a date, and lost_mrr is a "
      "money column",)),
    ({"churn_date": {"from_table": {"table": "accounts", "column": "churn_date"}}},
     ("churn_date is required in 'churn_events'", "from_table fills optional columns")),
    ({"lost_mrr": {"from_table": {"table": "renewals", "column": "arr_before"}}},
     ("tables.churn_events.derive.lost_mrr.from_table.table", "'accounts'")),
    ({"lost_mrr": {"copy": "Reason Txt"}},
     ("tables.churn_events.derive.lost_mrr.copy names 'Reason Txt', which is not a column "
      "of churn.csv", "reason_text")),
], ids=["unknown_rule", "two_rules", "not_a_contract_column", "date_into_money",
        "from_table_into_a_required_column", "from_another_table", "copy_of_a_missing_column"])
def test_derivation_mistakes_are_clear_errors(root: Path, derive, fragments):
    client = Client.base()
    client.table("churn_events", derive=derive)
    write(root, client)
    out = stopped()
    for fragment in fragments:
        assert fragment in out, out


def test_a_column_both_mapped_and_derived_is_a_params_error(root: Path):
    client = Client.base()
    client.table("accounts", derive={"segment": {"copy": "Industry"}})
    write(root, client)
    with pytest.raises(ParamsError, match="set under both columns and derive"):
        load_params("t")


# --------------------------------------------------------------------------- null


def test_null_leaves_a_column_unmapped_that_would_match_by_name(root: Path):
    client = Client.base()
    del client.params["tables"]["accounts"]["columns"]["segment"]
    write(root, client)
    segments = loaded()["accounts"].set_index("account_id")["segment"]
    assert segments.notna().all()  # the file's "Segment" is matched by name...
    client.params["tables"]["accounts"]["columns"]["segment"] = None
    write(root, client)
    assert "segment: null" in (root / "params" / "t.yaml").read_text()
    data = loaded()
    assert data["accounts"]["segment"].isna().all()  # ...unless left unmapped
    assert "Segment" in data.quality.load_of("accounts").unmapped_columns


def test_null_start_date_takes_the_first_billed_month(root: Path):
    acc = base_frames()["accounts"].rename(columns={"Customer Since": "Start Date"})
    acc["Start Date"] = "1984-05-17"  # a birth date, as some CRMs name it
    client = Client.base(accounts=acc)
    client.params["tables"]["accounts"]["columns"]["start_date"] = None
    write(root, client)
    data = loaded()
    first = pd.to_datetime(base_frames()["mrr"]["month"]).groupby(
        base_frames()["mrr"]["account_id"]).min()
    assert data["accounts"].set_index("account_id")["start_date"].sort_index().to_dict() == \
        first.sort_index().to_dict()


def test_null_on_a_required_column_the_loader_cannot_derive_is_an_error(root: Path):
    client = Client.base()
    client.params["tables"]["accounts"]["columns"]["account_id"] = None
    write(root, client)
    out = stopped()
    assert "tables.accounts.columns.account_id is null (left unmapped), but the 'accounts' " \
        "table needs account_id" in out and "params/t.yaml" in out
