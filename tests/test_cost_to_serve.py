"""Cost to serve (issue 19, point 3): every hour and amount below is worked out by hand on a
small fixture, in the comments beside it, not by the code under test.

Fixture: as-of 30 Jun 2025, a 6-month window (1 Jan - 30 Jun 2025). Touch model: high = 12
monthly calls of 1.0 h + 0.5 h prep (18 h a year), medium = 4 check-ins of 0.5 h (2 h a
year), low = webinars only (0 h per account); CSM cost per hour = role's loaded cost / 1,000
h: high (enterprise CSM) 100,000 -> 100, medium (CSM) 90,000 -> 90, low (role not priced)
80,000 -> 80. Support 50 an hour, onboarding 60 an hour, 4 h per milestone, gross margin
before serving 80%.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import cost_to_serve as cts
from playbook.context import AnalysisContext
from playbook.errors import InsufficientDataError

AS_OF = "2025-06-30"
MONTHS = 6

TOUCH_MODEL = {
    "tiers": {
        "high": {"accounts_per_csm": [20, 30], "touches": {"monthly_call": 12},
                 "role": "enterprise CSM"},
        "medium": {"accounts_per_csm": [100, 150], "touches": {"check_in": 4}, "role": "CSM"},
        "low": {"accounts_per_csm": [0, 0], "touches": {"webinar": 4}, "role": "pooled"},
    },
    "hours_per_touch": {"monthly_call": 1.0, "check_in": 0.5, "webinar": 0.0},
    "prep_hours_per_touch": {"monthly_call": 0.5},
    "travel_hours_per_touch": {},
    "program_hours_per_touch": {"webinar": 10.0},
    "csm_hours_per_year": 1000,
    "account_admin_hours_per_year": {"high": 10},   # admin hours are not touch hours
    "loaded_cost_per_csm": 80000,
    "loaded_cost_per_role": {"enterprise CSM": 100000, "CSM": 90000},
}

COST = {
    "support_hourly_cost": 50.0,
    "onboarding_hourly_cost": 60.0,
    "csm_hourly_cost": None,
    "support_hours_per_ticket": {"low": 0.5, "high": 2.0},
    "support_hours_per_ticket_default": 1.0,
    "csm_hours_per_touch": {"call": 1.5, "email": 0.25, "qbr": 6.0},
    "csm_hours_per_touch_default": 0.5,
    "onboarding_hours_per_milestone": 4.0,
    "gross_margin_before_serving": 0.8,
}


def _d(values):
    return pd.to_datetime(pd.Series(values))


@pytest.fixture
def data():
    accounts = pd.DataFrame({
        "account_id": ["A", "B", "C", "F", "D", "E"],
        "start_date": _d(["2019-01-01", "2020-01-01", "2025-04-01", "2024-01-01",
                          "2020-01-01", "2025-08-01"]),
        "status": ["active", "active", "active", "active", "churned", "active"],
        "churn_date": _d([None, None, None, None, "2025-03-15", None]),
        "mrr": [1000.0, 30.0, 50.0, 10.0, 0.0, 500.0],
    })
    months = pd.date_range("2025-01-01", "2025-06-01", freq="MS")
    rows = [("A", "2024-12-01", 999.0)]                      # before the window
    rows += [("A", m, 1000.0) for m in months] + [("B", m, 30.0) for m in months]
    rows += [("C", m, 50.0) for m in months[3:]]             # Apr-Jun: 3 months billed
    rows += [("F", m, 10.0) for m in months] + [("D", m, 100.0) for m in months[:2]]
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    mrr["month"] = pd.to_datetime(mrr["month"])
    tickets = pd.DataFrame({
        "ticket_id": [f"t{i}" for i in range(1, 10)],
        "account_id": ["A", "A", "A", "B", "B", "B", "C", "C", "D"],
        "opened_at": _d(["2025-02-01", "2025-03-01", "2024-12-15", "2025-04-10",
                         "2025-05-10", "2025-05-20", "2025-06-30", "2025-07-01",
                         "2025-02-01"]),
        "priority": ["high", "high", "high", "low", None, "medium", "urgent", "low", "high"],
        "hours_spent": [3.0, None, 10.0, None, None, None, 4.0, 9.0, 5.0],
    })
    touches = pd.DataFrame({
        "account_id": ["A", "A", "A", "A", "B", "B", "B", "B", "B"],
        "date": _d(["2025-01-10", "2025-02-10", "2025-03-10", "2025-04-10", "2025-05-01",
                    "2025-06-01", "2025-06-15", "2025-06-20", "2024-11-01"]),
        "type": ["call", "call", "qbr", "email", "email", "email", "meeting", None, "call"],
    })
    onboarding = pd.DataFrame({
        "account_id": ["C", "C", "C", "A"],
        "step": ["Kickoff", "Import", "Live", "Kickoff"],
        "completed_date": _d(["2025-04-05", "2025-04-20", "2025-05-30", "2019-01-10"]),
    })
    tiers = pd.Series({"A": "high", "B": "medium", "C": "low", "F": "high", "D": "low"})
    return {"accounts": accounts, "mrr": mrr, "tickets": tickets, "touches": touches,
            "onboarding": onboarding, "tiers": tiers}


def run(data, **over):
    kw = {"as_of": AS_OF, "months": MONTHS, "tickets": data["tickets"],
          "touches": data["touches"], "onboarding": data["onboarding"],
          "touch_model": TOUCH_MODEL, "tiers": data["tiers"], "mrr": data["mrr"],
          "cost_params": COST}
    kw.update(over)
    return cts.cost_to_serve(data["accounts"], **kw)


def test_window_is_the_months_ending_with_the_as_of_month():
    assert cts.serving_window(AS_OF, MONTHS) == (pd.Timestamp("2025-01-01"),
                                                 pd.Timestamp("2025-06-30"))


def test_hours_and_money_per_account_with_logged_touches(data):
    out = run(data)
    # D churned in March and E starts after the as-of date: only A, B, C, F are served
    assert sorted(out.index) == ["A", "B", "C", "F"]
    expected = {
        # A: tickets 3.0 (logged) + 2.0 (high, no hours) = 5.0 h; the Dec ticket is outside.
        #    touches 2 calls x 1.5 + qbr 6 + email 0.25 = 9.25 h at 100/h = 925.
        #    revenue 6 x 1,000 = 6,000; margin before serving 4,800; cost 250 + 925 = 1,175
        "A": dict(tier="high", months_billed=6, revenue=6000.0, tickets=2, support_hours=5.0,
                  support_hours_source="logged and by priority", support_cost=250.0,
                  touches=4, csm_hours=9.25, csm_hourly_cost=100.0, csm_cost=925.0,
                  milestones=0, onboarding_hours=0.0, onboarding_cost=0.0, hours=14.25,
                  cost_to_serve=1175.0, margin_before_serving=4800.0, margin=3625.0),
        # B: tickets low 0.5 + no priority 1.0 + medium (not listed) 1.0 = 2.5 h.
        #    touches 2 emails 0.5 + meeting (not listed) 0.5 + blank 0.5 = 1.5 h at 90 = 135.
        #    revenue 6 x 30 = 180; 144 before serving; cost 125 + 135 = 260
        "B": dict(tier="medium", months_billed=6, revenue=180.0, tickets=3, support_hours=2.5,
                  support_hours_source="by priority", support_cost=125.0, touches=4,
                  csm_hours=1.5, csm_hourly_cost=90.0, csm_cost=135.0, milestones=0,
                  onboarding_hours=0.0, onboarding_cost=0.0, hours=4.0, cost_to_serve=260.0,
                  margin_before_serving=144.0, margin=-116.0),
        # C: ticket on the as-of day 4.0 h logged (July's is outside); no touches; 3
        #    milestones x 4 h = 12 h at 60 = 720; revenue 3 x 50 = 150; cost 200 + 720 = 920
        "C": dict(tier="low", months_billed=3, revenue=150.0, tickets=1, support_hours=4.0,
                  support_hours_source="logged", support_cost=200.0, touches=0,
                  csm_hours=0.0, csm_hourly_cost=80.0, csm_cost=0.0, milestones=3,
                  onboarding_hours=12.0, onboarding_cost=720.0, hours=16.0,
                  cost_to_serve=920.0, margin_before_serving=120.0, margin=-800.0),
        # F: nothing logged; revenue 6 x 10 = 60
        "F": dict(tier="high", months_billed=6, revenue=60.0, tickets=0, support_hours=0.0,
                  support_hours_source="no tickets", support_cost=0.0, touches=0,
                  csm_hours=0.0, csm_hourly_cost=100.0, csm_cost=0.0, milestones=0,
                  onboarding_hours=0.0, onboarding_cost=0.0, hours=0.0, cost_to_serve=0.0,
                  margin_before_serving=48.0, margin=48.0),
    }
    for account, values in expected.items():
        for column, value in values.items():
            got = out.loc[account, column]
            if isinstance(value, str):
                assert got == value, (account, column)
            else:
                assert got == pytest.approx(value), (account, column)
    assert (out["csm_hours_source"] == "logged").all()
    assert out.loc["A", "margin_share"] == pytest.approx(3625 / 6000)
    assert out.loc["C", "margin_share"] == pytest.approx(-800 / 150)
    assert out.attrs["csm_hours"] == "logged"


def test_touch_model_fallback_is_flagged_as_planned(data):
    out = run(data, touches=None)
    assert (out["csm_hours_source"] == "planned").all()
    assert out.attrs["csm_hours"] == "planned"
    assert out["touches"].isna().all()
    # planned hours = touch hours a year x months billed / 12 (admin hours left out):
    # A, F high 18 x 6/12 = 9; B medium 2 x 6/12 = 1; C low 0 x 3/12 = 0
    assert out["csm_hours"].to_dict() == pytest.approx({"A": 9.0, "B": 1.0, "C": 0.0,
                                                        "F": 9.0})
    assert out["csm_cost"].to_dict() == pytest.approx({"A": 900.0, "B": 90.0, "C": 0.0,
                                                       "F": 900.0})
    # support and onboarding do not change with the CSM source
    assert out["margin"].to_dict() == pytest.approx({"A": 4800 - 1150.0, "B": 144 - 215.0,
                                                     "C": -800.0, "F": 48 - 900.0})


def test_touches_outside_the_window_count_as_none_logged(data):
    old = data["touches"].assign(date=pd.Timestamp("2024-06-01"))
    assert (run(data, touches=old)["csm_hours_source"] == "planned").all()


def test_a_set_csm_hourly_cost_overrides_the_touch_model(data):
    out = run(data, cost_params={**COST, "csm_hourly_cost": 70.0})
    assert out.loc["A", "csm_cost"] == pytest.approx(9.25 * 70)
    assert out.loc["B", "csm_cost"] == pytest.approx(1.5 * 70)


def test_without_an_mrr_table_revenue_is_current_mrr_times_months(data):
    out = run(data, mrr=None)
    assert out["revenue"].to_dict() == pytest.approx({"A": 6000.0, "B": 180.0, "C": 300.0,
                                                      "F": 60.0})
    assert (out["revenue_source"] == "current MRR x months").all()


def test_without_onboarding_the_result_says_it_was_not_measured(data):
    out = run(data, onboarding=None)
    assert out["onboarding_cost"].sum() == 0
    assert out.attrs["onboarding_hours"] == "not measured"


def test_cost_by_tier_sums_the_accounts(data):
    by_tier = cts.cost_by_tier(run(data), list(TOUCH_MODEL["tiers"]))
    assert list(by_tier.index) == ["high", "medium", "low", "total"]
    # high = A + F; medium = B; low = C
    assert by_tier.loc["high", ["accounts", "revenue", "cost_to_serve", "margin"]].tolist() == \
        pytest.approx([2, 6060.0, 1175.0, 3673.0])
    assert by_tier.loc["medium", "unprofitable"] == 1
    assert by_tier.loc["low", "margin"] == pytest.approx(-800.0)
    total = by_tier.loc["total"]
    assert total["accounts"] == 4 and total["unprofitable"] == 2
    assert total["revenue"] == pytest.approx(6390.0)
    assert total["cost_to_serve"] == pytest.approx(2355.0)
    assert total["margin_share"] == pytest.approx(2757.0 / 6390.0)
    assert total["cost_share"] == pytest.approx(2355.0 / 6390.0)


def test_unprofitable_accounts_cost_more_than_their_margin_before_serving(data):
    bad = cts.unprofitable_accounts(run(data))
    assert list(bad.index) == ["C", "B"]          # losses 800, 116: largest first
    assert bad["loss"].tolist() == pytest.approx([800.0, 116.0])


def test_lighter_touch_savings_with_logged_touches(data):
    sav = cts.lighter_touch_savings(run(data), TOUCH_MODEL, csm_hourly_cost=None)
    # B medium -> low: the low plan takes 0 h; saves its 1.5 logged h = 135; -116 -> 19
    b = sav.loc["B"]
    assert (b["target_tier"], b["move"]) == ("low", "lighter tier")
    assert (b["hours_saved"], b["money_saved"], b["margin_after"]) == pytest.approx(
        (1.5, 135.0, 19.0))
    assert bool(b["profitable_after"])
    # C is already in the lightest tier with no CSM hours: its own plan saves nothing
    c = sav.loc["C"]
    assert (c["target_tier"], c["move"]) == ("low", "own tier's plan")
    assert (c["hours_saved"], c["money_saved"], c["margin_after"]) == pytest.approx(
        (0.0, 0.0, -800.0))
    assert not bool(c["profitable_after"])


def test_lighter_touch_savings_on_the_plan(data):
    sav = cts.lighter_touch_savings(run(data, touches=None), TOUCH_MODEL, csm_hourly_cost=None)
    assert list(sav.index) == ["F", "C", "B"]      # losses 852, 800, 71
    # F high -> medium: 9 h at 100 = 900 now; medium plan 2 x 6/12 = 1 h at 90 = 90;
    # saves 8 h and 810; margin -852 -> -42, still unprofitable
    f = sav.loc["F"]
    assert f["target_tier"] == "medium"
    assert (f["target_hours"], f["hours_saved"], f["target_cost"], f["money_saved"],
            f["margin_after"]) == pytest.approx((1.0, 8.0, 90.0, 810.0, -42.0))
    assert not bool(f["profitable_after"])
    # B medium -> low: 1 h at 90 = 90 saved; -71 -> 19
    assert (sav.loc["B", "hours_saved"], sav.loc["B", "money_saved"]) == pytest.approx(
        (1.0, 90.0))
    assert bool(sav.loc["B", "profitable_after"])


def test_a_logged_low_tier_account_over_its_plan_saves_the_excess(data):
    touches = pd.concat([data["touches"], pd.DataFrame({
        "account_id": ["C", "C"], "date": _d(["2025-05-01", "2025-06-01"]),
        "type": ["call", "call"]})], ignore_index=True)
    sav = cts.lighter_touch_savings(run(data, touches=touches), TOUCH_MODEL,
                                    csm_hourly_cost=None)
    # C: 2 calls x 1.5 h = 3 h at 80 = 240 logged; its own (low) plan takes 0 h
    assert (sav.loc["C", "hours_saved"], sav.loc["C", "money_saved"]) == pytest.approx(
        (3.0, 240.0))


def test_without_tickets_or_touches_the_error_names_both_tables(data):
    with pytest.raises(InsufficientDataError) as err:
        run(data, tickets=None, touches=None)
    text = str(err.value)
    assert "tickets" in text and "touches" in text and "not sent" in text
    assert "1 Jan 2025" in text and "30 Jun 2025" in text
    assert err.value.fix and "time spent per ticket" in err.value.fix


def test_tables_with_no_row_in_the_window_are_said_so(data):
    old = data["tickets"].assign(opened_at=pd.Timestamp("2023-01-01"))
    with pytest.raises(InsufficientDataError, match="tickets: none in the window, touches: "
                       "not sent"):
        run(data, tickets=old, touches=None)


def test_touches_alone_are_enough_and_support_is_said_unmeasured(data):
    out = run(data, tickets=None)
    assert (out["support_hours_source"] == "not measured").all()
    assert out.attrs["support_hours"] == "not measured"
    assert out.loc["A", "cost_to_serve"] == pytest.approx(925.0)
    assert not math.isnan(out.loc["A", "margin"])


def test_planned_hours_follow_the_months_billed_in_the_window(data):
    model = {**TOUCH_MODEL, "tiers": {**TOUCH_MODEL["tiers"], "low": {
        "accounts_per_csm": [0, 0], "touches": {"webinar": 4, "check_in": 4},
        "role": "pooled"}}}
    out = run(data, touches=None, touch_model=model)
    # C (low) was billed 3 months of the 6: 4 check-ins x 0.5 h = 2 h a year x 3/12 = 0.5 h
    assert out.loc["C", "csm_hours"] == pytest.approx(0.5)
    assert out.loc["C", "csm_cost"] == pytest.approx(0.5 * 80)


def test_a_lighter_plan_never_adds_cost(data):
    tickets = pd.concat([data["tickets"], pd.DataFrame({
        "ticket_id": ["t10"], "account_id": ["F"], "opened_at": _d(["2025-03-01"]),
        "priority": ["high"], "hours_spent": [2.0]})], ignore_index=True)
    sav = cts.lighter_touch_savings(run(data, tickets=tickets), TOUCH_MODEL,
                                    csm_hourly_cost=None)
    # F: 2 h of support = 100 against 48 before serving: -52, and no CSM hours logged; the
    # medium plan would take 1 h (90), more than now: it saves nothing, and adds nothing
    f = sav.loc["F"]
    assert f["margin"] == pytest.approx(-52.0)
    assert (f["target_tier"], f["target_hours"], f["target_cost"]) == ("medium", 1.0, 90.0)
    assert (f["hours_saved"], f["money_saved"], f["margin_after"]) == pytest.approx(
        (0.0, 0.0, -52.0))


def _reference_logged_csm_hours(t: pd.DataFrame, cost_params) -> pd.DataFrame:
    """The previous ``logged_csm_hours`` (a Python lambda per touch), kept as the reference
    for the mapping that replaced it (issue 22)."""
    per_type = cost_params["csm_hours_per_touch"]
    default = float(cost_params["csm_hours_per_touch_default"])
    kind = (t["type"].astype("string").str.lower() if "type" in t
            else pd.Series(pd.NA, index=t.index, dtype="string"))
    hours = kind.map(lambda k: float(per_type.get(k, default)) if pd.notna(k)
                     else default).astype(float)
    df = pd.DataFrame({"account_id": t["account_id"].to_numpy(), "hours": hours.to_numpy()})
    g = df.groupby("account_id")
    return pd.DataFrame({"touches": g.size().astype(float), "csm_hours": g["hours"].sum()})


@pytest.mark.parametrize("types", [
    ["qbr", "QBR", "email", None, "unlisted", "", "call", "Call"],  # case, blank, unknown
    [None, None],                                                    # no type at all
    ["qbr"],                                                         # one touch
])
def test_logged_csm_hours_equal_the_per_touch_lookup(types):
    params = {"csm_hours_per_touch": {"qbr": 3.0, "call": 0.5, "email": 0.0},
              "csm_hours_per_touch_default": 0.25}
    touches = pd.DataFrame({"account_id": [f"A{i % 3}" for i in range(len(types))],
                            "type": pd.Series(types, dtype=object)})
    got = cts.logged_csm_hours(touches, params)
    pd.testing.assert_frame_equal(got, _reference_logged_csm_hours(touches, params),
                                  check_exact=True)
    untyped = touches.drop(columns="type")
    pd.testing.assert_frame_equal(cts.logged_csm_hours(untyped, params),
                                  _reference_logged_csm_hours(untyped, params))
    if types[0] == "qbr" and len(types) > 1:  # by hand: A0 = qbr 3 + blank 0.25 + call 0.5
        assert got.loc["A0", "csm_hours"] == 3.75


def _reference_support_hours(t: pd.DataFrame, cost_params) -> pd.DataFrame:
    """The previous ``support_hours`` (a Python lambda per ticket), kept as the reference
    for the mapping that replaced it (issue 22)."""
    by_priority = cost_params["support_hours_per_ticket"]
    default = float(cost_params["support_hours_per_ticket_default"])
    logged = pd.to_numeric(t["hours_spent"], errors="coerce").astype(float) \
        if "hours_spent" in t else pd.Series(float("nan"), index=t.index)
    priority = (t["priority"].astype("string").str.lower() if "priority" in t
                else pd.Series(pd.NA, index=t.index, dtype="string"))
    estimated = priority.map(lambda p: float(by_priority.get(p, default)) if pd.notna(p)
                             else default).astype(float)
    df = pd.DataFrame({"account_id": t["account_id"].to_numpy(),
                       "hours": logged.fillna(estimated).to_numpy(),
                       "logged": logged.notna().to_numpy()})
    g = df.groupby("account_id")
    out = pd.DataFrame({"tickets": g.size().astype(float), "support_hours": g["hours"].sum(),
                        "n_logged": g["logged"].sum()})
    out["support_hours_source"] = np.where(
        out["n_logged"] == out["tickets"], "logged",
        np.where(out["n_logged"] == 0, "by priority", "logged and by priority"))
    return out.drop(columns="n_logged")


@pytest.mark.parametrize("priorities", [
    ["high", "HIGH", "low", None, "urgent", "", "Low", "medium"],  # case, blank, not listed
    [None, None],                                                  # no priority at all
    ["low"],                                                       # one ticket
])
def test_support_hours_equal_the_per_ticket_lookup(priorities):
    n = len(priorities)
    tickets = pd.DataFrame({"account_id": [f"A{i % 3}" for i in range(n)],
                            "priority": pd.Series(priorities, dtype=object),
                            "hours_spent": [None if i % 2 else 0.75 * i for i in range(n)]})
    for t in (tickets, tickets.drop(columns="priority"),
              tickets.assign(hours_spent=None), tickets.drop(columns="hours_spent")):
        pd.testing.assert_frame_equal(cts.support_hours(t, COST),
                                      _reference_support_hours(t, COST), check_exact=True)
    if n > 1 and priorities[0] == "high":  # by hand, A1: HIGH 2 + urgent's 3 logged +
        # medium (not listed) 1; A2: low's 1.5 logged + "" (blank) 1
        got = cts.support_hours(tickets, COST)["support_hours"]
        assert (got["A1"], got["A2"]) == (6.0, 2.5)


def test_the_window_keeps_the_columns_read_and_the_same_rows(data):
    """Only the columns the costing reads are kept, on the rows the previous (every
    column) window kept."""
    start, end = cts.serving_window(AS_OF, MONTHS)
    t = data["tickets"].assign(extra=1)
    full = t.reset_index(drop=True)
    dated = full["opened_at"]
    expected = full.loc[(dated >= start) & (dated <= end),
                        ["account_id", "opened_at", "priority", "hours_spent"]]
    got = cts._in_window(t, "opened_at", start, end, ("hours_spent", "priority", "absent"))
    pd.testing.assert_frame_equal(got, expected)
    assert list(cts._in_window(t, "opened_at", start, end).columns) == list(t.columns)
    assert len(got) == 7  # by hand: t1, t2, t4-t7, t9 (30 June is in; 1 July, Dec 2024 not)


def _reference_window_revenue(mrr, ids, *, accounts, start, end, months) -> pd.DataFrame:
    """The previous ``window_revenue`` with an MRR table (grouped by account text and
    month), kept as the reference for the one grouping by codes (stop 34)."""
    from playbook.analyses.account_state import date_column, number_column

    if mrr is None or mrr.empty:
        return cts.window_revenue(mrr, ids, accounts=accounts, start=start, end=end,
                                  months=months)
    m = mrr.reset_index(drop=True)
    month = date_column(m, "month").dt.to_period("M").dt.to_timestamp()
    value = number_column(m, "mrr").fillna(0.0)
    keep = (month >= start) & (month <= end)
    df = pd.DataFrame({"account_id": m.loc[keep, "account_id"].to_numpy(),
                       "month": month[keep].to_numpy(), "mrr": value[keep].to_numpy()})
    monthly = df.groupby(["account_id", "month"])["mrr"].sum()
    revenue = monthly.groupby(level="account_id").sum()
    billed = (monthly > 0).groupby(level="account_id").sum().astype(float)
    return pd.DataFrame({"months_billed": billed.reindex(ids).fillna(0.0),
                         "revenue": revenue.reindex(ids).fillna(0.0),
                         "revenue_source": "billed MRR"}, index=ids)


def random_mrr(seed: int, n: int = 4000) -> pd.DataFrame:
    """MRR rows of 60 accounts over 2024-2025: dates on any day of the month (several rows
    of an account in a month), blank, text and non-numeric amounts, blank accounts and
    months, amounts of very different sizes (the order of the sums matters)."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    amount = rng.choice([0.0, 1e-3, 0.1, 99.99, 1e6, -50.0], n) * rng.uniform(0.5, 2, n)
    amount = pd.Series(amount, dtype=object)
    amount[rng.uniform(size=n) < 0.05] = None
    amount[rng.uniform(size=n) < 0.02] = "n/a"
    accounts = pd.Series([f"A{i:02d}" for i in rng.integers(0, 60, n)], dtype="string")
    accounts[rng.uniform(size=n) < 0.02] = pd.NA
    month = pd.Series(days)
    month[rng.uniform(size=n) < 0.02] = pd.NaT
    return pd.DataFrame({"account_id": accounts, "month": month, "mrr": amount})


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_window_revenue_equals_the_previous_grouping(seed):
    mrr = random_mrr(seed)
    ids = pd.Index([f"A{i:02d}" for i in range(65)], name="account_id")  # 5 never billed
    accounts = pd.DataFrame({"account_id": list(ids), "mrr": 10.0})
    for as_of, months in (("2025-06-30", 6), ("2025-06-15", 12), ("2024-01-01", 1),
                          ("2027-01-31", 3)):  # mid-month, first day, past the data
        start, end = cts.serving_window(as_of, months)
        for frame in (mrr, mrr.assign(account_id=mrr["account_id"].astype(object)),
                      mrr.set_axis(np.arange(len(mrr)) * 7), mrr.iloc[:0]):
            got = cts.window_revenue(frame, ids, accounts=accounts, start=start, end=end,
                                     months=months)
            want = _reference_window_revenue(frame, ids, accounts=accounts, start=start,
                                             end=end, months=months)
            pd.testing.assert_frame_equal(got, want, check_exact=True)
    start, end = cts.serving_window("2025-06-30", 6)
    got = cts.window_revenue(mrr, ids, accounts=accounts, start=start, end=end, months=6)
    assert got["months_billed"].between(0, 6).all() and got["revenue"].abs().gt(0).any()


@pytest.mark.parametrize("seed", [0, 1])
def test_touch_and_ticket_hours_equal_the_previous_grouping_on_random_rows(seed):
    """Many accounts (some blank), labels in mixed case, blank and unknown, amounts whose
    sums depend on their order: the per-account sums by codes are the previous ones."""
    rng = np.random.default_rng(seed)
    n = 5000
    accounts = pd.Series([f"A{i}" for i in rng.integers(0, 700, n)], dtype="string")
    accounts[rng.uniform(size=n) < 0.03] = pd.NA
    labels = pd.Series(rng.choice(["qbr", "QBR", "call", "email", "", "other", "High",
                                   "low", "urgent"], n), dtype="string")
    labels[rng.uniform(size=n) < 0.05] = pd.NA
    hours = rng.choice([0.1, 1e5, 1e-7, 2.5], n)
    hours[rng.uniform(size=n) < 0.4] = np.nan
    params = {"csm_hours_per_touch": {"qbr": 3.0, "call": 0.1, "email": 1e-7},
              "csm_hours_per_touch_default": 0.25}
    touches = pd.DataFrame({"account_id": accounts, "type": labels})
    pd.testing.assert_frame_equal(cts.logged_csm_hours(touches, params),
                                  _reference_logged_csm_hours(touches, params),
                                  check_exact=True)
    tickets = pd.DataFrame({"account_id": accounts, "priority": labels, "hours_spent": hours})
    pd.testing.assert_frame_equal(cts.support_hours(tickets, COST),
                                  _reference_support_hours(tickets, COST), check_exact=True)


def _with_previous_windows(monkeypatch) -> None:
    """Every column kept in each window, the per-ticket and per-touch lookups and the
    revenue grouped by text: the previous code."""
    window = cts._in_window
    monkeypatch.setattr(cts, "_in_window", lambda f, c, s, e, columns=None: window(f, c, s, e))
    monkeypatch.setattr(cts, "support_hours", _reference_support_hours)
    monkeypatch.setattr(cts, "logged_csm_hours", _reference_logged_csm_hours)
    monkeypatch.setattr(cts, "window_revenue", _reference_window_revenue)


def test_cost_to_serve_equals_it_with_the_previous_windows(data, monkeypatch):
    got = run(data)
    _with_previous_windows(monkeypatch)
    pd.testing.assert_frame_equal(got, run(data), check_exact=True)


def test_cost_to_serve_of_the_demo_equals_it_with_the_previous_windows(small_demo_run,
                                                                       monkeypatch):
    params, tables = small_demo_run[0], small_demo_run[1].tables
    ctx = AnalysisContext(params, tables)
    kw = {"as_of": ctx.as_of, "months": params.period.trailing_months,
          "tickets": tables.get("tickets"), "touches": tables.get("touches"),
          "onboarding": tables.get("onboarding"),
          "touch_model": params.touch_model.model_dump(), "tiers": ctx.value_tiers,
          "mrr": ctx.counted_mrr, "cost_params": params.cost_to_serve.model_dump()}
    got = cts.cost_to_serve(ctx.accounts, **kw)
    _with_previous_windows(monkeypatch)
    pd.testing.assert_frame_equal(got, cts.cost_to_serve(ctx.accounts, **kw), check_exact=True)
    assert got["support_hours"].gt(0).any() and got["csm_hours"].gt(0).any()
