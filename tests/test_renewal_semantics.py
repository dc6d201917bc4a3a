"""Renewal-date semantics (next | last | contract_end), contract terms and month-to-month.

Every expected decision is written out by hand from the fixture's dates (the comments show
the arithmetic), never computed with the product's functions.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from conftest import BASE_PARAMS
from test_loader import load

from playbook.analyses import drivers as d
from playbook.completion import check_renewal_dates, resolve_contract_terms
from playbook.config import load_params
from playbook.contracts import renewal_dates_look_like_last
from playbook.errors import ParamsError
from playbook.findings import drivers as story
from playbook.quality import QualityLog

AS_OF = "2024-09-30"


def frame(rows: list[dict]) -> pd.DataFrame:
    """Canonical accounts from rows of account_id, start, renewal, churn, status, term."""
    out = pd.DataFrame(rows)
    for col in ("start_date", "renewal_date", "churn_date"):
        out[col] = pd.to_datetime(out.get(col, pd.Series([None] * len(out))))
    if "status" not in out:
        out["status"] = ["churned" if pd.notna(c) else "active" for c in out["churn_date"]]
    return out


def got(decisions: pd.DataFrame) -> set[tuple[str, str, int]]:
    return {(r.account_id, r.decision_date.strftime("%Y-%m-%d"), int(r.renewed))
            for r in decisions.itertuples()}


def churn_events(accounts: pd.DataFrame) -> pd.DataFrame:
    dated = accounts.loc[accounts["churn_date"].notna(), ["account_id", "churn_date"]]
    return dated.reset_index(drop=True)


# --------------------------------------------------------------------------- last

LAST = frame([
    # renewed 2023-03-15 and 2024-03-15 (the date the CRM holds); next 2025-03-15
    {"account_id": "A", "start_date": "2022-03-15", "renewal_date": "2024-03-15"},
    # the CRM missed the 2024 renewal: cycle 2022-06-01, 2023-06-01, 2024-06-01 (<= as-of)
    {"account_id": "B", "start_date": "2021-06-01", "renewal_date": "2023-06-01"},
    # renewed 2021-01-10, 2022-01-10, 2023-01-10 (last), left 2023-11-30
    {"account_id": "C", "start_date": "2020-01-10", "renewal_date": "2023-01-10",
     "churn_date": "2023-11-30"},
    # no renewal date: start anniversaries, 2024-02-01 only (2025-02-01 is after as-of)
    {"account_id": "E", "start_date": "2023-02-01"},
])


def test_last_renewal_date_gives_the_date_and_its_earlier_anniversaries() -> None:
    out = d.renewal_decisions(LAST, None, churn_events(LAST), as_of=AS_OF,
                              renewal_date_means="last", term_months=12)
    assert got(out) == {
        ("A", "2023-03-15", 1), ("A", "2024-03-15", 1),
        ("B", "2022-06-01", 1), ("B", "2023-06-01", 1), ("B", "2024-06-01", 1),
        ("C", "2021-01-10", 1), ("C", "2022-01-10", 1), ("C", "2023-01-10", 1),
        ("C", "2023-11-30", 0),
        ("E", "2024-02-01", 1),
    }


def test_last_renewal_date_puts_the_next_renewal_a_term_later() -> None:
    out = d.upcoming_renewals(LAST, AS_OF, horizon_days=250, renewal_date_means="last",
                              term_months=12)
    due = dict(zip(out["account_id"], out["decision_date"].dt.strftime("%Y-%m-%d"),
                   strict=True))
    # A: 2024-03-15 + 12 months; B: 2023-06-01 rolled forward past 2024-09-30;
    # E: first start anniversary after as-of; C churned. Horizon ends 2025-06-07.
    assert due == {"A": "2025-03-15", "B": "2025-06-01", "E": "2025-02-01"}
    assert out.set_index("account_id").loc["A", "days_to_renewal"] == 166  # 2024-09-30 ->


def test_the_same_dates_read_as_next_lose_the_decisions() -> None:
    """Why the parameter exists: read as next renewals the past dates lose decisions and
    no renewal is due (today's behaviour, kept as the default)."""
    out = d.renewal_decisions(LAST, None, churn_events(LAST), as_of=AS_OF,
                              renewal_date_means="next", term_months=12)
    assert got(out) == {
        ("A", "2023-03-15", 1),                          # < 2024-03-15 only
        ("B", "2022-06-01", 1),                          # < 2023-06-01 only
        ("C", "2021-01-10", 1), ("C", "2022-01-10", 1), ("C", "2023-01-10", 1),
        ("C", "2023-11-30", 0),
        ("E", "2024-02-01", 1),
    }
    due = d.upcoming_renewals(LAST, AS_OF, horizon_days=250, renewal_date_means="next",
                              term_months=12)
    assert list(due["account_id"]) == ["E"]


# --------------------------------------------------------------------------- contract_end

ENDS = frame([
    # contract ends 2024-11-30 (ahead): earlier decisions 2022-11-30, 2023-11-30
    {"account_id": "F", "start_date": "2022-05-10", "renewal_date": "2024-11-30"},
    # contract ended 2024-06-30 and the account is still active: renewed then
    {"account_id": "G", "start_date": "2021-06-30", "renewal_date": "2024-06-30"},
    # contract ended 2023-04-01, the day it left: renewed 2022-04-01 only
    {"account_id": "H", "start_date": "2021-04-01", "renewal_date": "2023-04-01",
     "churn_date": "2023-04-01"},
])


def test_contract_end_decides_on_the_end_date() -> None:
    out = d.renewal_decisions(ENDS, None, churn_events(ENDS), as_of=AS_OF,
                              renewal_date_means="contract_end", term_months=12)
    assert got(out) == {
        ("F", "2022-11-30", 1), ("F", "2023-11-30", 1),
        ("G", "2022-06-30", 1), ("G", "2023-06-30", 1), ("G", "2024-06-30", 1),
        ("H", "2022-04-01", 1), ("H", "2023-04-01", 0),
    }
    due = d.upcoming_renewals(ENDS, AS_OF, horizon_days=365,
                              renewal_date_means="contract_end", term_months=12)
    assert dict(zip(due["account_id"], due["decision_date"].dt.strftime("%Y-%m-%d"),
                    strict=True)) == {"F": "2024-11-30", "G": "2025-06-30"}
    # read as "next", F's decisions fall on its start anniversaries instead
    as_next = d.renewal_decisions(ENDS, None, churn_events(ENDS), as_of=AS_OF,
                                  term_months=12, renewal_date_means="next")
    assert {x for x in got(as_next) if x[0] == "F"} == {("F", "2023-05-10", 1),
                                                         ("F", "2024-05-10", 1)}


def test_an_earlier_period_sees_the_contract_end_then_ahead() -> None:
    """As of 2023-09-30 F's contract (ending 2024-11-30 at the export) ended 2023-11-30."""
    due = d.upcoming_renewals(ENDS, "2023-09-30", horizon_days=90,
                              renewal_date_means="contract_end", term_months=12)
    assert list(due["decision_date"].dt.strftime("%Y-%m-%d")) == ["2023-11-30"]
    assert list(due["account_id"]) == ["F"]


# --------------------------------------------------------------------------- terms

TERMS = frame([
    # 24 months, renewal date = the last renewal: 2022-07-01 and 2024-07-01; next 2026-07-01
    {"account_id": "T24", "start_date": "2020-07-01", "renewal_date": "2024-07-01",
     "contract_term_months": 24},
    # 36 months, no renewal date: start anniversaries 2022-01-15; next 2025-01-15
    {"account_id": "T36", "start_date": "2019-01-15", "contract_term_months": 36},
    # 3 months (quarterly), last renewal 2024-08-20: 2023-11-20 ... 2024-08-20; next 2024-11-20
    {"account_id": "T3", "start_date": "2023-08-20", "renewal_date": "2024-08-20",
     "contract_term_months": 3},
    # no term of its own: the default (12): 2024-04-05
    {"account_id": "TD", "start_date": "2023-04-05", "renewal_date": "2024-04-05"},
])


def test_per_account_terms_from_a_column() -> None:
    out = d.renewal_decisions(TERMS, None, None, as_of=AS_OF, renewal_date_means="last",
                              term_months=12)
    assert got(out) == {
        ("T24", "2022-07-01", 1), ("T24", "2024-07-01", 1),
        ("T36", "2022-01-15", 1),
        ("T3", "2023-11-20", 1), ("T3", "2024-02-20", 1), ("T3", "2024-05-20", 1),
        ("T3", "2024-08-20", 1),
        ("TD", "2024-04-05", 1),
    }
    due = d.upcoming_renewals(TERMS, AS_OF, horizon_days=120, renewal_date_means="last",
                              term_months=12)
    # horizon ends 2025-01-28: T24's 2026-07-01 and TD's 2025-04-05 are beyond it
    assert dict(zip(due["account_id"], due["decision_date"].dt.strftime("%Y-%m-%d"),
                    strict=True)) == {"T3": "2024-11-20", "T36": "2025-01-15"}


def test_a_term_under_one_month_is_no_term() -> None:
    """A zero default (possible from Python, not from params) means "no default term", as
    None does: accounts without a renewal date have no anniversary to fall back on."""
    accounts = frame([{"account_id": "Z", "start_date": "2023-01-10"}])
    for term in (0, None):
        assert d.upcoming_renewals(accounts, AS_OF, horizon_days=400, term_months=term,
                                   renewal_date_means="next").empty
    assert len(d.upcoming_renewals(accounts, AS_OF, horizon_days=400,
                                   term_months=12, renewal_date_means="next")) == 1  # 2025-01-10


def test_a_two_year_account_read_as_next_renews_every_24_months() -> None:
    accounts = frame([{"account_id": "T24", "start_date": "2020-07-01",
                       "renewal_date": "2026-07-01", "contract_term_months": 24}])
    out = d.renewal_decisions(accounts, None, None, as_of=AS_OF,
                              term_months=12, renewal_date_means="next")
    assert got(out) == {("T24", "2022-07-01", 1), ("T24", "2024-07-01", 1)}


CONTRACT_ACCOUNTS = """\
Account ID,Account Name,Customer Since,ARR (USD),Status,Owner,Contract,Renewal Date
A1,Alpha,2021-01-15,12000,Active,Kim,Two year,2025-01-15
A2,Beta,2023-02-01,24000,Active,Kim,Month-to-month,2024-04-01
A3,Gamma,2023-03-10,6000,Active,Lee, one YEAR ,2025-03-10
A4,Delta,2022-03-01,6000,Active,Lee,Weekly,2025-03-01
"""

CONTRACT_MRR = "account_id,month,mrr\n" + "".join(
    f"{a},2024-{m:02d}-01,100\n" for a in ("A1", "A2", "A3", "A4") for m in (1, 2, 3))


def contract_params(**contracts) -> dict:
    p = copy.deepcopy(BASE_PARAMS)
    p["tables"]["accounts"]["columns"].update(contract_type="Contract",
                                              renewal_date="Renewal Date")
    p["contracts"] = contracts
    return p


def test_terms_from_contract_type_codes(client_factory) -> None:
    """Types match ignoring case and spaces; a type the mapping lacks keeps the default
    term, and the quality log names it with the fix."""
    params = contract_params(term_by_type={"Month-to-month": 1, "One year": 12,
                                           "Two year": 24})
    data = load(client_factory, files={"accounts.csv": CONTRACT_ACCOUNTS,
                                       "mrr.csv": CONTRACT_MRR}, params=params)
    terms = data["accounts"].set_index("account_id")["contract_term_months"]
    assert terms["A1"] == 24 and terms["A2"] == 1 and terms["A3"] == 12
    assert pd.isna(terms["A4"])
    notes = [n for n in data.quality.notes if "term_by_type" in n.message]
    assert len(notes) == 1 and notes[0].severity == "warning"
    assert "'Weekly'" in notes[0].message and notes[0].examples == ["A4"]
    assert "default term of 12 months" in notes[0].message
    # the 24-month account's decisions (as of 2024-03-31): 2023-01-15 only; A2 makes none
    p = load_params("t")
    out = d.renewal_decisions(data["accounts"], None, data.get("churn_events"),
                              as_of=p.as_of, **p.renewal_options())
    assert got(out) == {("A1", "2023-01-15", 1),                          # every 24 months
                        ("A3", "2024-03-10", 1),
                        ("A4", "2023-03-01", 1), ("A4", "2024-03-01", 1)}  # default 12


def test_an_explicit_term_column_wins_over_the_contract_type(client_factory) -> None:
    accounts = "".join(line + ("," + term if term else ",") + "\n" for line, term in zip(
        CONTRACT_ACCOUNTS.splitlines(), ["Term", "36", "", "", ""], strict=True))
    params = contract_params(term_by_type={"Month-to-month": 1, "One year": 12,
                                           "Two year": 24, "Weekly": 1})
    params["tables"]["accounts"]["columns"]["contract_term_months"] = "Term"
    data = load(client_factory, files={"accounts.csv": accounts, "mrr.csv": CONTRACT_MRR},
                params=params)
    terms = data["accounts"].set_index("account_id")["contract_term_months"]
    assert terms.to_dict() == {"A1": 36, "A2": 1, "A3": 12, "A4": 1}
    assert not [n for n in data.quality.notes if "term_by_type" in n.message]


def test_resolve_contract_terms_leaves_accounts_without_a_type_alone() -> None:
    acc = pd.DataFrame({"account_id": ["X", "Y"], "contract_type": [None, None],
                        "contract_term_months": pd.array([6, pd.NA], dtype="Int64")})
    log = QualityLog()
    resolve_contract_terms({"accounts": acc}, {"One year": 12}, 12, log)
    assert acc["contract_term_months"].tolist()[0] == 6
    assert pd.isna(acc["contract_term_months"].tolist()[1]) and not log.notes


@pytest.mark.parametrize(("contracts", "key"), [
    ({"term_by_type": {"Month-to-month": 0}}, "contracts.term_by_type"),
    ({"term_months": 0}, "contracts.term_months"),
    ({"renewal_date_means": "previous"}, "contracts.renewal_date_means"),
])
def test_bad_contract_params_name_the_key(client_factory, contracts, key) -> None:
    client_factory.write(params=contract_params(**contracts))
    with pytest.raises(ParamsError) as err:
        load_params("t")
    assert f"'{key}" in str(err.value)


# --------------------------------------------------------------------------- month-to-month

MONTHLY = frame([
    # month-to-month: churned, and active; no renewal decisions either way
    {"account_id": "M1", "start_date": "2023-01-10", "churn_date": "2024-05-10",
     "contract_term_months": 1},
    {"account_id": "M2", "start_date": "2022-10-03", "renewal_date": "2024-10-03",
     "contract_term_months": 1},
    # annual: 2024-02-01 renewed, churned 2024-08-15
    {"account_id": "Y1", "start_date": "2023-02-01", "churn_date": "2024-08-15",
     "contract_term_months": 12},
    {"account_id": "Y2", "start_date": "2023-10-20", "renewal_date": "2024-10-20"},
])


def test_month_to_month_accounts_make_no_renewal_decisions() -> None:
    out = d.renewal_decisions(MONTHLY, None, churn_events(MONTHLY), as_of=AS_OF,
                              term_months=12, renewal_date_means="next")
    assert got(out) == {("Y1", "2024-02-01", 1), ("Y1", "2024-08-15", 0)}
    due = d.upcoming_renewals(MONTHLY, AS_OF, horizon_days=60,
                              term_months=12, renewal_date_means="next")
    assert list(due["account_id"]) == ["Y2"]       # M2's 2024-10-03 is not a renewal
    assert sorted(d.month_to_month_accounts(MONTHLY, term_months=12)) == ["M1", "M2"]


def test_month_to_month_decisions_from_a_renewals_table_are_left_out() -> None:
    renewals = pd.DataFrame({"account_id": ["M2", "Y2"],
                             "renewal_date": pd.to_datetime(["2024-09-03", "2024-09-20"]),
                             "outcome": ["renewed", "churned"]})
    out = d.renewal_decisions(MONTHLY, renewals, None, as_of=AS_OF,
                              term_months=12, renewal_date_means="next")
    assert got(out) == {("Y2", "2024-09-20", 0)}


def test_a_default_term_of_one_month_makes_every_account_month_to_month() -> None:
    accounts = MONTHLY.drop(columns="contract_term_months")
    assert len(d.month_to_month_accounts(accounts, term_months=1)) == 4
    assert d.renewal_decisions(accounts, None, churn_events(accounts), as_of=AS_OF,
                               term_months=1, renewal_date_means="next").empty


def test_month_to_month_sentence_counts_the_accounts_left_out() -> None:
    assert story.month_to_month_sentence(0) == ""
    one = story.month_to_month_sentence(1)
    assert one.startswith("1 month-to-month account (contract term of one month) is left "
                          "out of renewal analysis")
    many = story.month_to_month_sentence(1234)
    assert many.startswith("1,234 month-to-month accounts (contract term of one month) are")
    assert "monthly churn" in many


# --------------------------------------------------------------------------- next = today

NEXT = frame([
    {"account_id": "A", "start_date": "2021-03-01", "renewal_date": "2024-03-01",
     "status": "active"},
    {"account_id": "B", "start_date": "2021-01-15", "renewal_date": "2023-01-15",
     "churn_date": "2023-06-30", "status": "churned"},
    {"account_id": "C", "start_date": "2023-05-01", "status": "active"},
    {"account_id": "D", "start_date": "2021-02-01", "renewal_date": "2022-02-01",
     "churn_date": "2022-02-01", "status": "churned"},
    # came back after a churn: active, with a past churn date
    {"account_id": "R", "start_date": "2021-02-10", "churn_date": "2023-02-10",
     "status": "active"},
])


def test_next_is_todays_rule_with_default_parameters_and_empty_contract_columns() -> None:
    """Defaults (and blank contract columns, as the loader adds them) change nothing."""
    accounts = NEXT.assign(contract_type=pd.Series([None] * 5, dtype="string"),
                           contract_term_months=pd.array([pd.NA] * 5, dtype="Int64"))
    for frame_ in (NEXT, accounts):
        out = d.renewal_decisions(frame_, None, churn_events(NEXT), as_of="2023-12-31",
                                  renewal_date_means="next", term_months=12)
        assert got(out) == {
            ("A", "2022-03-01", 1), ("A", "2023-03-01", 1),   # < 2024-03-01, <= as-of
            ("B", "2022-01-15", 1), ("B", "2023-01-15", 1),   # < churn 2023-06-30
            ("B", "2023-06-30", 0),
            ("D", "2022-02-01", 0),                           # churned at its anniversary
            ("R", "2022-02-10", 1), ("R", "2023-02-10", 0),   # stops at the first churn
        }
        due = d.upcoming_renewals(frame_, "2024-01-01", horizon_days=90,
                                  renewal_date_means="next", term_months=12)
        # A's 2024-03-01 (accounts); C: start anniversary 2024-05-01 is beyond 2024-03-31;
        # R came back: its next start anniversary 2024-02-10
        assert dict(zip(due["account_id"], due["renewal_source"], strict=True)) == {
            "R": "anniversary", "A": "accounts"}
        assert list(due["decision_date"].dt.strftime("%Y-%m-%d")) == ["2024-02-10",
                                                                       "2024-03-01"]


# --------------------------------------------------------------------------- the check

def stale_fixture(past: int, ahead: int) -> pd.DataFrame:
    rows = [{"account_id": f"P{i}", "start_date": "2020-01-01",
             "renewal_date": "2024-03-01"} for i in range(past)]
    rows += [{"account_id": f"N{i}", "start_date": "2020-01-01",
              "renewal_date": "2025-03-01"} for i in range(ahead)]
    # churned accounts with past dates do not count either way
    rows += [{"account_id": f"C{i}", "start_date": "2020-01-01", "renewal_date": "2023-01-01",
              "churn_date": "2023-01-01"} for i in range(5)]
    return frame(rows)


def test_renewal_dates_look_like_last() -> None:
    assert renewal_dates_look_like_last(stale_fixture(3, 2), AS_OF)
    assert not renewal_dates_look_like_last(stale_fixture(2, 2), AS_OF)   # half, not most
    assert not renewal_dates_look_like_last(stale_fixture(0, 0), AS_OF)   # none dated
    # a renewal 20 days ago is recent, not past (the CRM may not be updated yet)
    recent = frame([{"account_id": "X", "start_date": "2020-01-01",
                     "renewal_date": "2024-09-10"}])
    assert not renewal_dates_look_like_last(recent, AS_OF)
    # without a status column, an account with no churn date is active
    assert renewal_dates_look_like_last(stale_fixture(3, 2).drop(columns="status"), AS_OF)


def warnings_for(accounts: pd.DataFrame, means: str) -> list[str]:
    log = QualityLog()
    check_renewal_dates(accounts, pd.Timestamp(AS_OF), means, log)
    return [n.message for n in log.notes if n.severity == "warning"]


def test_stale_renewal_warning_follows_the_meaning_of_the_date() -> None:
    mostly_past = stale_fixture(3, 2)
    (next_,) = warnings_for(mostly_past, "next")
    assert next_.startswith("3 active accounts have a renewal date in the past")
    assert "renewal_date_means: last" in next_
    (few,) = warnings_for(stale_fixture(1, 4), "next")
    assert few.startswith("1 active account has") and "renewal_date_means" not in few
    assert warnings_for(mostly_past, "last") == []
    (ended,) = warnings_for(mostly_past, "contract_end")
    assert ended.startswith("3 active accounts have a contract end date in the past")
    assert "renewal_date_means" not in ended
