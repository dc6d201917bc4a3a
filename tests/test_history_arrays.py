"""The array look-ups of issue 22 (second pass) give exactly what the code they replaced gave.

:mod:`playbook.analyses.history` now answers each date by binary search over integer
account codes, for the accounts asked about only (``ids=`` / ``codes``), and the lifecycle
stages of every date are code arrays from which :func:`segments.stage_history` builds its
frame; :func:`relationships._days_since_contact` matches contacts and accounts as codes
(:func:`playbook.membership.positions`). The references are the one-date functions
(``usage_snapshot``, ``latest_on_or_before``, ``mrr_growth``, ``lifecycle_stage``), the
full frames filtered afterwards, and the replaced code kept here as it was
(``reference_*``). Compared exactly on the small demo and on hand tables with blanks, ties,
duplicate keys, accounts the tables do not hold, one account and empty tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import account_state as state
from playbook.analyses import health, relationships, segments
from playbook.analyses.grouped import means_by_key, sums_by_key
from playbook.analyses.history import (
    ActiveAccounts,
    HighTickets,
    LatestValues,
    MrrGrowth,
    StepsDone,
    UsageHistory,
    ranks,
)
from playbook.context import AnalysisContext
from playbook.membership import positions


# --------------------------------------------------------------------------- references
def reference_counts(frame, date_col, code_col, codes, as_of, ids, window_days):
    """RecentEvents.counts as it was: value counts of the window's rows, reindexed."""
    frame = frame.reset_index(drop=True)
    when = state.date_column(frame, date_col)
    code = frame.get(code_col, pd.Series("", index=frame.index)).astype("string")
    keep = code.str.lower().isin([c.lower() for c in codes]).fillna(False).to_numpy(
        dtype=bool)
    account, when = frame["account_id"].to_numpy()[keep], when.to_numpy()[keep]
    recent = (when <= as_of.to_datetime64()) & (
        when > (as_of - pd.Timedelta(days=window_days)).to_datetime64())
    n = pd.Series(account[recent]).value_counts()
    return n.reindex(ids).fillna(0).astype(float)


def reference_steps_done(onboarding, key_steps, as_of, ids):
    """StepsDone.at as it was."""
    onboarding = onboarding.reset_index(drop=True)
    done = pd.DataFrame({"account_id": onboarding["account_id"], "step": onboarding["step"],
                         "date": state.date_column(onboarding, "completed_date")})
    done = done.dropna(subset=["date", "step"])
    if key_steps:
        done = done.loc[done["step"].isin(list(key_steps))]
    first = done.groupby(["account_id", "step"], sort=False)["date"].min()
    codes, accounts = pd.factorize(first.index.get_level_values("account_id"))
    done_codes = codes[first.to_numpy() <= as_of.to_datetime64()]
    n = pd.Series(np.bincount(done_codes, minlength=len(accounts)).astype(float),
                  index=accounts)
    return n.reindex(ids).fillna(0).astype(float)


def reference_days_since_contact(touches, people, as_of):
    """relationships._days_since_contact as it was: a string join and a string groupby."""
    touches = touches.reset_index(drop=True)
    t = touches.assign(date=state.date_column(touches, "date"))
    t = t.loc[(t["date"] <= as_of) & t["contact_id"].notna()]
    kinds = people.set_index(people["contact_id"].astype(str))[["is_user", "is_exec"]]
    t = t.join(kinds, on=t["contact_id"].astype(str).rename("_cid"))
    out = {}
    for kind, col in (("user", "is_user"), ("exec", "is_exec")):
        last = t.loc[t[col].fillna(False).astype(bool)].groupby("account_id")["date"].max()
        out[kind] = (as_of - last).dt.days.astype(float)
    return pd.DataFrame(out)


def reference_stage_history(accounts, dates, **rules):
    """stage_history as it was: lifecycle_stage on each date, aligned by pandas."""
    out = pd.DataFrame({state.as_timestamp(day): segments.lifecycle_stage(
        accounts, as_of=day, **rules).astype(object) for day in dates})
    out.index.name = "account_id"
    return out


@pytest.fixture(scope="module")
def demo(small_demo_run):
    params, data = small_demo_run
    return AnalysisContext(params, data.tables)


def some_ids(index: pd.Index) -> pd.Index:
    """Every third ID, in reverse, with two the tables do not hold."""
    return pd.Index([*index[::3][::-1], "nobody", "also-nobody"], name="account_id")


# --------------------------------------------------------------------------- usage
USAGE = pd.DataFrame({
    "account_id": ["B", "A", "A", "A", "A", "A", "B", "B", "C", None, "D"],
    "month": pd.to_datetime(["2025-05-01", "2025-01-01", "2025-04-01", "2025-04-20",
                             "2025-05-10", "2025-05-25", "2025-02-01", "2025-05-01",
                             "2025-06-01", "2025-04-01", None]),
    # A's April and May hold two rows each (summed), B's May two (one blank), D undated
    "active_users": [np.nan, 10, 4, 2, np.nan, 3, 5, 6, 7, 1, 3],
    "licensed_seats": [10, 20, 20, 20, 20, 20, 0, 10, 7, 1, 3],
    "key_actions": [5, 100, 30, 10, 50, 20, 40, 80, 9, 1, 3],
})
USAGE_DAYS = ["2024-12-31", "2025-01-01", "2025-04-10", "2025-04-30", "2025-05-15",
              "2025-05-31", "2025-06-30 12:00"]


@pytest.mark.parametrize("day", USAGE_DAYS)
def test_usage_snapshot_of_some_accounts_is_the_full_snapshot_s_rows(day):
    history = UsageHistory(USAGE)
    full = state.usage_snapshot(USAGE, day)
    pd.testing.assert_frame_equal(history.snapshot(day), full)
    for ids in (pd.Index(["C", "A", "Z"]), pd.Index(["Z"]), pd.Index([], dtype=str)):
        pd.testing.assert_frame_equal(history.snapshot(day, ids=ids),
                                      full[full.index.isin(ids)])
    codes = history.codes_of(pd.Index(["B", "Z", "A", "C", "D"]))
    depth = full["depth"].reindex(["B", "Z", "A", "C", "D"]).to_numpy()
    np.testing.assert_array_equal(history.depth_of(day, codes), depth)


def test_usage_depth_by_hand():
    history = UsageHistory(USAGE)
    codes = history.codes_of(["A", "B"])
    # 31 May: A's May is 3 users of 40 seats (two rows); B's May 6 users of 20 seats
    np.testing.assert_allclose(history.depth_of("2025-05-31", codes), [3 / 40, 6 / 20])
    # 15 May: A's May holds only the 10 May row (no users): blank
    assert np.isnan(history.depth_of("2025-05-15", codes)[0])
    assert history.codes_of(["D"]).tolist() == [-1]  # undated: never counted


def test_usage_snapshots_are_the_per_date_function_on_the_demo(demo):
    usage = demo.tables["usage"]
    history = UsageHistory(usage)
    ids = some_ids(demo.tables["accounts"]["account_id"])
    for day in pd.date_range("2024-01-31", demo.as_of, freq="4ME"):
        full = state.usage_snapshot(usage, day)
        pd.testing.assert_frame_equal(history.snapshot(day), full)
        pd.testing.assert_frame_equal(history.snapshot(day, ids=ids),
                                      full[full.index.isin(ids)])
        assert len(full[full.index.isin(ids)]) > 10


def test_sums_by_key_are_the_grouped_sums():
    values = pd.DataFrame({"x": [1.5, np.nan, -0.0, 2.0, np.nan, 0.1],
                           "y": [1.0, 2.0, 3.0, np.nan, np.nan, 0.2]})
    for key in (np.array([5, 3, 9, 1, 7, 2]), np.array([5, 3, 5, 1, 3, 3]),
                np.array([1, 2, 3, 4, 5, 6])):
        for min_count in (0, 1):
            keys, sums = sums_by_key(key, values, min_count=min_count)
            want = values.groupby(key, sort=True).sum(min_count=min_count)
            np.testing.assert_array_equal(keys, want.index.to_numpy())
            for c in values:
                np.testing.assert_array_equal(sums[c], want[c].to_numpy())
                # -0.0 summed alone is 0.0
                assert not np.signbit(sums[c][~np.isnan(sums[c])]).any()
    keys, sums = sums_by_key(np.zeros(0, dtype=np.int64), values.iloc[:0], min_count=1)
    assert len(keys) == 0 and len(sums["x"]) == 0


def test_ranks_are_numpy_unique():
    dates = pd.to_datetime(["2025-03-01", "2024-01-01", "2025-03-01", "2025-01-31"]
                           ).to_numpy()
    got, rank = ranks(dates)
    want, inverse = np.unique(dates, return_inverse=True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(rank, inverse)


# --------------------------------------------------------------------------- ratings, MRR
SURVEYS = pd.DataFrame({
    "account_id": ["A", "A", "A", "B", "B", "C", None, "D"],
    "date": pd.to_datetime(["2025-01-10", "2025-03-05", "2025-03-05", None, "2025-06-01",
                            "2025-02-01", "2025-01-01", "2025-03-05"]),
    "nps": [2, 6, 9, 7, 10, np.nan, 5, 4],
})


def test_latest_values_of_some_accounts_are_the_full_frame_s_rows(demo):
    cases = [(SURVEYS, ["nps"], ["2024-01-01", "2025-01-10", "2025-04-01", "2025-06-30"],
              pd.Index(["D", "A", "Q"])),
             (demo.tables["csm_inputs"], ["executive_relationship", "champion_quality"],
              pd.date_range("2024-03-31", demo.as_of, freq="5ME"),
              some_ids(demo.tables["accounts"]["account_id"]))]
    for frame, columns, days, ids in cases:
        latest = LatestValues(frame, columns)
        for day in days:
            full = state.latest_on_or_before(frame, columns, day)
            pd.testing.assert_frame_equal(latest.at(day), full)
            pd.testing.assert_frame_equal(latest.at(day, ids=ids), full[full.index.isin(ids)])
    assert LatestValues(SURVEYS, ["nps"]).at("2025-04-01", ids=pd.Index(["A"])).loc[
        "A", "nps"] == 7.5  # 6 and 9 on 5 March


MRR = pd.DataFrame({
    "account_id": ["A", "A", "A", "A", "B", "B", "C", "C", "D", None, "E"],
    "month": pd.to_datetime(["2024-01-01", "2025-01-01", "2025-03-01", "2025-03-01",
                             "2025-01-31", "2025-02-28", "2025-01-01", "2025-02-01",
                             None, "2025-01-01", "2025-02-01"]),
    # A's March on two rows (summed); B's months are month-ends; C's base is 0; E's blank
    "mrr": [100.0, 120.0, 100.0, 50.0, 50.0, 60.0, 0.0, 30.0, 10.0, 5.0, np.nan],
})


def test_mrr_growth_on_many_dates_is_mrr_growth():
    growth = MrrGrowth(MRR)
    ids = pd.Index(["E", "A", "Z", "C", "B"])
    for day in ("2023-01-31", "2024-06-30", "2025-01-31", "2025-02-27", "2025-03-31"):
        want = state.mrr_growth(MRR, day)
        pd.testing.assert_series_equal(growth.at(day), want)
        np.testing.assert_array_equal(growth.growth_of(day, growth.codes_of(ids)),
                                      want.reindex(ids).to_numpy())
    assert growth.at("2025-03-31")["A"] == pytest.approx(150 / 120 - 1)
    pd.testing.assert_series_equal(MrrGrowth(MRR.iloc[:0]).at("2025-03-31"),
                                   state.mrr_growth(MRR.iloc[:0], "2025-03-31"))


def test_mrr_growth_is_mrr_growth_on_the_demo(demo):
    mrr = demo.tables["mrr"]
    growth = MrrGrowth(mrr)
    for day in pd.date_range("2024-01-31", demo.as_of, freq="4ME"):
        pd.testing.assert_series_equal(growth.at(day), state.mrr_growth(mrr, day))


# --------------------------------------------------------------------------- events, steps
TICKETS = pd.DataFrame({
    "account_id": ["A", "A", "A", "B", None, "C", "C"],
    "opened_at": pd.to_datetime(["2025-05-31", "2025-03-02", "2025-03-03", None,
                                 "2025-05-01", "2025-05-01", "2025-05-02"]),
    "priority": ["High", "urgent", "low", "high", "high", None, "URGENT"],
})


def test_high_tickets_are_the_value_counts_they_were(demo):
    cases = [(TICKETS, pd.Index(["C", "A", "B", "Z"], name="account_id"),
              ["2025-03-02", "2025-05-31", "2025-06-01"]),
             (demo.tables["tickets"], some_ids(demo.tables["accounts"]["account_id"]),
              pd.date_range("2024-06-30", demo.as_of, freq="6ME"))]
    for tickets, ids, days in cases:
        high = HighTickets(tickets, ("high", "urgent"))
        for day in map(pd.Timestamp, days):
            pd.testing.assert_series_equal(
                high.counts(day, ids, 90),
                reference_counts(tickets, "opened_at", "priority", ("high", "urgent"), day,
                                 ids, 90))
    got = HighTickets(TICKETS, ("high", "urgent")).counts(pd.Timestamp("2025-05-31"),
                                                           pd.Index(["A", "C"]), 90)
    # A: 31 May (high); 2 March is 90 days back (out), 3 March is low. C: 2 May (urgent)
    assert got.tolist() == [1.0, 1.0]
    empty = HighTickets(TICKETS.iloc[:0], ("high",)).counts(pd.Timestamp("2025-05-31"),
                                                            pd.Index(["A"]), 90)
    assert empty.tolist() == [0.0]


def test_steps_done_are_what_they_were(demo):
    onboarding = demo.tables["onboarding"]
    ids = some_ids(demo.tables["accounts"]["account_id"])
    steps = sorted(onboarding["step"].dropna().unique())[:3]
    for key_steps in (None, steps):
        done = StepsDone(onboarding, key_steps)
        for day in pd.date_range("2023-06-30", demo.as_of, freq="6ME"):
            pd.testing.assert_series_equal(done.at(day, ids),
                                           reference_steps_done(onboarding, key_steps, day,
                                                                ids))
    hand = pd.DataFrame({"account_id": ["A", "A", "A", "B", None],
                         "step": ["x", "x", "y", None, "x"],
                         "completed_date": pd.to_datetime(["2025-02-01", "2025-01-01",
                                                           "2025-03-01", "2025-01-01",
                                                           "2025-01-01"])})
    got = StepsDone(hand, None).at(pd.Timestamp("2025-02-15"), pd.Index(["A", "B", "C"]))
    assert got.tolist() == [1.0, 0.0, 0.0]  # x first done in January; y later; B blank


# --------------------------------------------------------------------------- lifecycle
ACCOUNTS = pd.DataFrame({
    # IDs not in sorted order, so that the frame's row order shows how it was built
    "account_id": ["C", "A", "B", "D"],
    "start_date": pd.to_datetime(["2024-01-01", "2024-01-01", None, "2025-05-20"]),
    "churn_date": pd.to_datetime([None, "2025-05-31", None, None]),
    "status": ["active", "churned", "active", "active"],
    "products": [1, 4, None, 2],
})
BANDS = {"red": 50, "yellow": 75, "green": 100}
RULES = {"active_depth": 0.2, "expanding_growth": 0.1, "transformational_depth": 0.1,
         "transformational_products": 3}


@pytest.mark.parametrize("dates", [
    ["2025-03-31", "2025-04-30", "2025-05-31", "2025-06-30"],  # accounts come and go
    ["2025-04-30"],                                            # one date
    ["2025-01-31", "2025-02-28"],                              # the same accounts each date
    ["2025-05-31", "2025-05-31", "2025-04-30"],                # a date twice, not in order
    [],                                                        # no date
])
def test_stage_history_on_hand_tables_is_lifecycle_stage_per_date(dates):
    onboarding = pd.DataFrame({"account_id": ["C", "A", "A"], "step": ["s1", "s1", "s2"],
                               "completed_date": pd.to_datetime(["2024-02-01", "2024-02-01",
                                                                 "2025-04-15"])})
    for rules in (dict(RULES, usage=USAGE, mrr=MRR, onboarding=onboarding, n_steps=2,
                       onboarding_days=30),
                  dict(RULES, usage=USAGE, mrr=MRR, onboarding_days=30),  # by tenure
                  dict(RULES, onboarding_days=None),                      # no table at all
                  dict(RULES, usage=USAGE.iloc[:1], mrr=MRR.iloc[:0], onboarding=onboarding,
                       steps=["s2"], onboarding_days=None)):
        got = segments.stage_history(ACCOUNTS, dates=dates, **rules)
        pd.testing.assert_frame_equal(got, reference_stage_history(ACCOUNTS, dates, **rules))
        many = segments.lifecycle_stages_on(ACCOUNTS, dates, **rules)
        assert list(many) == list(dict.fromkeys(map(pd.Timestamp, dates)))
        for day, stages in many.items():
            pd.testing.assert_series_equal(stages,
                                           segments.lifecycle_stage(ACCOUNTS, as_of=day,
                                                                    **rules))


def test_stage_history_keeps_the_table_s_order_when_the_accounts_do_not_change():
    rules = dict(RULES, usage=USAGE, mrr=MRR, onboarding_days=None)
    same = segments.stage_history(ACCOUNTS, dates=["2025-01-31", "2025-02-28"], **rules)
    assert same.index.tolist() == ["C", "A", "B"]  # D starts in May
    moving = segments.stage_history(ACCOUNTS, dates=["2025-04-30", "2025-06-30"], **rules)
    assert moving.index.tolist() == ["A", "B", "C", "D"]
    # A on 30 April: depth 6 / 40 = 0.15, 4 products -> Transformational (>= 0.1 and 3);
    # C's only usage is June's (7 of 7 seats, one product): Adopting in April (no use
    # measured), Actively using in June; A has churned by June: blank
    assert moving.loc["A"].tolist()[0] == "Transformational"
    assert moving.loc["C"].tolist() == ["Adopting", "Actively using"]
    assert pd.isna(moving.loc["A"].iloc[1]) and pd.isna(moving.loc["D"].iloc[0])


def test_stage_history_is_lifecycle_stage_per_date_on_the_demo(demo):
    t, lc = demo.tables, demo.params.lifecycle
    accounts = demo.accounts
    rules = dict(onboarding=t.get("onboarding"), usage=t.get("usage"), mrr=t.get("mrr"),
                 onboarding_days=lc.onboarding_days, active_depth=lc.active_depth,
                 expanding_growth=lc.expanding_growth,
                 transformational_depth=lc.transformational_depth,
                 transformational_products=lc.transformational_products)
    dates = segments.month_ends(demo.as_of, 6)
    got = segments.stage_history(accounts, dates=dates, **rules)
    pd.testing.assert_frame_equal(got, reference_stage_history(accounts, dates, **rules))
    assert got.iloc[:, -1].nunique() >= 3


def test_active_accounts_mask_and_rows_are_on():
    active = ActiveAccounts(ACCOUNTS)
    for day in ("2024-12-31", "2025-05-30", "2025-05-31", "2025-06-30"):
        mask = active.mask(day)
        pd.testing.assert_frame_equal(active.rows(mask), state.active_accounts(ACCOUNTS, day))
        assert active.ids[mask].tolist() == state.active_accounts(ACCOUNTS, day).index.tolist()


# --------------------------------------------------------------------------- relationships
CONTACTS = pd.DataFrame({
    "contact_id": ["u1", "e1", "u2", "d1", "d1", None],
    "account_id": ["A", "A", "B", "B", "B", "C"],
    # d1 is listed twice: once a user, once an executive (both count)
    "role": ["user", "executive", "champion", "user", "other", "user"],
    "seniority": [None, None, "manager", None, "vp", None],
    "relationship_strength": ["strong", "weak", "strong", None, "strong", "strong"],
})
TOUCHES = pd.DataFrame({
    "account_id": ["A", "A", "A", "B", "B", "B", "C", None, "A"],
    "contact_id": ["u1", "u1", "e1", "d1", "zz", None, "u9", "u1", "e1"],
    "date": pd.to_datetime(["2025-03-01 09:30", "2025-03-01 00:00", "2025-02-10 00:00",
                            "2025-04-04 00:00", "2025-04-05 00:00", "2025-04-06 00:00",
                            "2025-04-01 00:00", "2025-04-01 00:00", None]),
})


def test_days_since_contact_are_what_the_join_gave():
    people = relationships._classify_contacts(CONTACTS)
    ids = pd.Index(["C", "A", "B", "Z"], name="account_id")
    for day in ("2025-01-01", "2025-03-01", "2025-04-04 23:00", "2025-12-31"):
        as_of = pd.Timestamp(day)
        got = relationships._days_since_contact(TOUCHES, people, as_of, ids)
        want = reference_days_since_contact(TOUCHES, people, as_of)
        pd.testing.assert_frame_equal(got, want.reindex(ids), check_names=False)
    got = relationships._days_since_contact(TOUCHES, people, pd.Timestamp("2025-04-10"), ids)
    # A: user touch 1 March 09:30 -> 39 whole days (40 less 9.5 hours); B: d1 is both
    # kinds (listed twice), 4 April -> 6
    assert got.loc["A", "user"] == 39 and got.loc["B"].tolist() == [6.0, 6.0]
    assert got.loc[["C", "Z"]].isna().all().all()  # an unknown contact; no touch


def test_relationship_flags_are_unchanged_on_the_demo(demo, monkeypatch):
    days = [demo.as_of, demo.as_of - pd.DateOffset(months=12)]
    new = [demo.relationship_flags_on(day) for day in days]
    monkeypatch.setattr(relationships, "_days_since_contact",
                        lambda touches, people, as_of, ids, **_: reference_days_since_contact(
                            touches, people, as_of).reindex(ids))
    for day, got in zip(days, new, strict=True):
        pd.testing.assert_frame_equal(got, demo.relationship_flags_on(day), check_exact=True)
        assert got["days_since_user_contact"].notna().mean() > 0.5


# --------------------------------------------------------------------------- keys
@pytest.mark.parametrize("values, among", [
    (pd.Series(["b", None, "a", "c", "b"], dtype="string"), pd.Index(["a", "b"])),
    (pd.Series(["b", "a"], dtype=object), pd.Index(["a", "b"], dtype="str")),
    (np.array(["x", "y"], dtype=object), pd.Index(["y"], dtype=object)),
    (pd.Series([3, 1, 2]), pd.Index([1, 2])),
    (pd.Series([1.0, np.nan]), pd.Index([1.0])),
    (pd.Series(["a", 1], dtype=object), pd.Index(["a", "b"])),
    (pd.Series(["a", 1, None], dtype=object), pd.Index(["a", None], dtype=object)),
    (pd.Series([], dtype="string"), pd.Index(["a"])),
    (pd.Series(["a"]), pd.Index([], dtype="str")),
])
def test_positions_are_get_indexer_with_blanks_absent(values, among):
    got = positions(values, among)
    want = among.get_indexer(pd.Index(values)) if len(among) else np.full(len(values), -1)
    want = np.where(pd.isna(np.asarray(values, dtype=object)), -1, want)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int64


# --------------------------------------------------------------------------- health
def test_scores_of_some_accounts_are_the_full_scores_rows():
    accounts = pd.DataFrame({"account_id": ["C", "A", "B"], "products": [2, 1, 4],
                             "start_date": pd.to_datetime(["2024-01-01"] * 3),
                             "segment": ["SMB", "SMB", "Enterprise"]})
    weights = {"usage": 0.5, "nps": 0.3, "products": 0.2}
    options = {"usage_trend_weight": 0.25, "usage_fall_to_zero": 0.5,
               "ticket_window_days": 90, "tickets_to_zero": 5}
    tables = {"usage": USAGE, "surveys": SURVEYS, "tickets": TICKETS}
    days = [pd.Timestamp("2025-05-31"), pd.Timestamp("2025-06-30")]
    wanted = {days[0]: pd.Index(["A", "Z"]), days[1]: pd.Index(["C", "A"])}
    many = health.health_scores_on(accounts, days, weights=weights, bands=BANDS,
                                   wanted=wanted, **tables, **options)
    for day in days:
        full = health.health_scores(accounts, as_of=day, weights=weights, bands=BANDS,
                                    **tables, **options)
        pd.testing.assert_frame_equal(many[day], full[full.index.isin(wanted[day])])
    # the products scale is the most products of every active account (B's 4), not of A's
    assert many[days[0]].loc["A", "score_products"] == 25.0


def test_means_by_key_are_the_grouped_means():
    values = np.array([1.5, -0.0, 2.0, 7.25, 0.1, 3.0])
    for key in (np.array([5, 3, 9, 1, 7, 2]), np.array([5, 3, 5, 1, 3, 3])):
        keys, means = means_by_key(key, values)
        want = pd.Series(values).groupby(key, sort=True).mean()
        np.testing.assert_array_equal(keys, want.index.to_numpy())
        np.testing.assert_array_equal(means, want.to_numpy())
        assert not np.signbit(means).any()  # -0.0 averaged alone is 0.0


def test_tables_whose_rows_are_all_blank_give_what_the_per_date_functions_give():
    usage = USAGE.assign(month=pd.NaT)
    history = UsageHistory(usage)
    pd.testing.assert_frame_equal(history.snapshot("2025-05-31"),
                                  state.usage_snapshot(usage, "2025-05-31"))
    assert np.isnan(history.depth_of("2025-05-31", np.array([-1, 0]))).all()
    mrr = MRR.assign(month=pd.NaT)
    pd.testing.assert_series_equal(MrrGrowth(mrr).at("2025-03-31"),
                                   state.mrr_growth(mrr, "2025-03-31"))
    assert np.isnan(MrrGrowth(mrr).growth_of("2025-03-31", np.array([-1, 0]))).all()
    surveys = SURVEYS.assign(nps=np.nan)
    pd.testing.assert_frame_equal(LatestValues(surveys, ["nps"]).at("2025-04-01"),
                                  state.latest_on_or_before(surveys, ["nps"], "2025-04-01"))
    assert LatestValues(surveys, ["nps"]).at("2025-04-01", ids=pd.Index(["A"])).empty
