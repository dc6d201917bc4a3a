"""Usage, touch, ticket and survey features without joining every record to every decision (issue
22) equal the code they replaced.

:func:`playbook.analyses.drivers.features.usage_features` and :func:`touch_features` now find
each decision's latest record by ``pandas.merge_asof`` (``_latest_by_cutoff``), and
:func:`ticket_features` the tickets in each decision's window by binary search
(``_records_in_window``), instead of joining each record of an account to each of its
decisions (``_records_by_cutoff``: 14M rows for the expansion table at 100,000 accounts);
:func:`survey_features` takes each decision's latest answer by the same as-of join.
The previous code is kept here as the reference (``reference_*``, as it was) and both are
compared exactly: on the small demo's renewal and expansion decisions (the whole modelling
table, builders swapped) and on hand-made cases: accounts without records, records after
the cut-off or undated, ties, gaps and blanks in usage, duplicate usage rows, window
boundaries, mixed date units, one account, no decision, an undated decision.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import drivers
from playbook.analyses import expansion as ex
from playbook.analyses.drivers import features as f
from playbook.analyses.drivers import table as tbl
from playbook.context import AnalysisContext


# --------------------------------------------------------------------------- reference
def reference_records_by_cutoff(base, records, date_col, *, window_days=None):
    """The previous join: every record of an account with every decision of it."""
    recs = records.copy()
    recs["account_id"] = recs["account_id"].astype("string")
    recs[date_col] = pd.to_datetime(recs[date_col])
    joined = base[["_row", "account_id", "cutoff_date"]].merge(recs, on="account_id")
    keep = joined[date_col] <= joined["cutoff_date"]
    if window_days is not None:
        keep &= joined[date_col] > joined["cutoff_date"] - pd.Timedelta(days=window_days)
    return joined.loc[keep]


def reference_usage_features(base: pd.DataFrame, tables: f.Tables, report: f.Report, *,
                             usage_drop_share: float) -> pd.DataFrame | None:
    """The previous usage_features."""
    usage = f._provided(tables, "usage", report, f.USAGE_FEATURES)
    if usage is None:
        return None
    if not f.has_values(usage, "active_users"):
        f._skip(report, f.USAGE_FEATURES, "usage.active_users is missing or empty")
        return None
    u = usage.copy()
    u["month"] = pd.to_datetime(u["month"]).dt.to_period("M").dt.to_timestamp()
    u["_month_end"] = u["month"] + pd.offsets.MonthEnd(0)
    u = u.groupby(["account_id", "month", "_month_end"], as_index=False).sum(
        numeric_only=True, min_count=1
    )
    recs = reference_records_by_cutoff(base, u, "_month_end")
    out = pd.DataFrame(index=base.index)
    if recs.empty:
        last = recs.assign(active_users=np.nan)
    else:
        last = recs.sort_values("month").groupby("_row").tail(1).set_index("_row")
    out["active_users"] = last["active_users"].astype(float)
    earlier = recs.assign(month=recs["month"] + pd.DateOffset(months=3))
    earlier = earlier.set_index(["_row", "month"])["active_users"].astype(float)
    key = pd.MultiIndex.from_arrays([last.index, last["month"]]) if len(last) else None
    before = pd.Series(earlier.reindex(key).to_numpy() if key is not None else [], index=last.index)
    out["active_users_change_3m"] = out["active_users"] - before
    share = out["active_users_change_3m"] / before.where(before > 0)
    out["usage_change_share_3m"] = share
    out["usage_decline"] = (share < -usage_drop_share).astype("boolean").mask(share.isna())
    if f.has_values(usage, "licensed_seats"):
        seats = last["licensed_seats"].astype(float)
        out["seat_utilisation"] = out["active_users"] / seats.where(seats > 0)
    else:
        out = out.drop(columns=[c for c in ["seat_utilisation"] if c in out])
        f._skip(report, ["seat_utilisation"], "usage.licensed_seats is missing or empty")
    return f._built(report, out)


def reference_touch_features(base: pd.DataFrame, tables: f.Tables, report: f.Report, *,
                             cap_days: int, exec_by_seniority: bool) -> pd.DataFrame | None:
    """The previous touch_features."""
    names = ["days_since_user_contact", "days_since_exec_contact"]
    touches, contacts = f._provided(tables, "touches", report, names), tables.get("contacts")
    if touches is None:
        return None
    if contacts is None or "contact_id" not in touches:
        f._skip(report, names, "touches need the contacts table (joined by contact_id) to "
                "tell user from executive contacts")
        return None
    c = f._classified_contacts(contacts)
    c["_is_exec"] = ((c["_director_plus"] | c["_exec_role"]) if exec_by_seniority
                     else c["_exec_role"])
    c = c[["contact_id", "_is_user", "_is_exec"]]
    c = c.assign(contact_id=c["contact_id"].astype("string")).drop_duplicates("contact_id")
    t = touches.dropna(subset=["contact_id"]).copy()
    t["contact_id"] = t["contact_id"].astype("string")
    t = t.merge(c, on="contact_id", how="inner")
    unused = len(touches) - len(t)
    if unused:
        report["notes"].append(
            f"{unused} touch(es) without a contact_id found in contacts were not used for the "
            "days-since-contact features."
        )
    recs = reference_records_by_cutoff(base, t, "date")
    out = pd.DataFrame(index=base.index)
    for name, flag in zip(names, ["_is_user", "_is_exec"], strict=True):
        last = recs.loc[recs[flag]].groupby("_row")["date"].max()
        days = (base["cutoff_date"] - last.reindex(base.index)).dt.days
        out[name] = days.clip(upper=cap_days).fillna(cap_days).astype(float)
    report["notes"].append(
        f"Days since last contact are capped at {cap_days}; no logged contact in that time "
        f"(or ever) counts as {cap_days}."
    )
    return f._built(report, out)


def reference_ticket_features(base: pd.DataFrame, tables: f.Tables, report: f.Report, *,
                              window_days: int) -> pd.DataFrame | None:
    """The previous ticket_features."""
    tickets = f._provided(tables, "tickets", report, f.TICKET_FEATURES)
    if tickets is None:
        return None
    recs = reference_records_by_cutoff(base, tickets, "opened_at", window_days=window_days)
    grouped = recs.groupby("_row")
    out = pd.DataFrame(index=base.index)
    out["tickets_90d"] = grouped.size().reindex(base.index, fill_value=0).astype(float)
    if f.has_values(tickets, "priority"):
        high = recs["priority"].astype("string").str.lower().isin(f.HIGH_PRIORITIES)
        out["high_priority_tickets_90d"] = (
            high.groupby(recs["_row"]).sum().reindex(base.index, fill_value=0).astype(float)
        )
    else:
        f._skip(report, ["high_priority_tickets_90d"], "tickets.priority is missing or empty")
    if f.has_values(tickets, "hours_spent"):
        closed = pd.to_datetime(recs["closed_at"]) if "closed_at" in recs else None
        done = closed.notna() & (closed <= recs["cutoff_date"]) if closed is not None else True
        hours = pd.to_numeric(recs["hours_spent"], errors="coerce").fillna(0).where(done, 0)
        out["ticket_hours_90d"] = (
            hours.groupby(recs["_row"]).sum().reindex(base.index, fill_value=0).astype(float)
        )
    else:
        f._skip(report, ["ticket_hours_90d"], "tickets.hours_spent is missing or empty")
    return f._built(report, out)


def reference_survey_features(base: pd.DataFrame, tables: f.Tables, report: f.Report, *,
                              low_nps: float, lookback_days: int | None, no_answer: str
                              ) -> pd.DataFrame | None:
    """The previous survey_features."""
    names = {"nps": ["last_nps", "nps_detractor"], "csat": ["last_csat"]}
    surveys = f._provided(tables, "surveys", report, names["nps"] + names["csat"])
    if surveys is None:
        return None
    out = pd.DataFrame(index=base.index)
    for col, feats in names.items():
        if not f.has_values(surveys, col):
            f._skip(report, feats, f"surveys.{col} is missing or empty")
            continue
        recs = reference_records_by_cutoff(
            base, surveys.dropna(subset=[col]), "date", window_days=lookback_days
        )
        last = recs.sort_values("date", kind="stable").groupby("_row")[col].last().astype(float)
        out[feats[0]] = last
        if col == "nps":
            detractor = (out["last_nps"] <= low_nps).astype("boolean")
            if no_answer == "own_level":
                out["nps_detractor"] = f._nps_levels(detractor, out["last_nps"].isna())
                continue
            if no_answer == "missing":
                detractor = detractor.mask(out["last_nps"].isna())
            else:
                detractor = detractor.mask(out["last_nps"].isna(), no_answer == "detractor")
            out["nps_detractor"] = detractor
    return f._built(report, out)


# --------------------------------------------------------------------------- comparing
def reference_contact_features(base: pd.DataFrame, tables: f.Tables, report: f.Report, *,
                               sponsor_roles: tuple[str, ...]) -> pd.DataFrame | None:
    """The previous contact_features: per-account sums joined to the decisions by ID."""
    contacts = f._provided(tables, "contacts", report, f.CONTACT_FEATURES)
    if contacts is None:
        return None
    c = f._classified_contacts(contacts)
    sponsor = (c["_strong"] & c["_director_plus"]
               & c["_role"].isin(sponsor_roles).fillna(False).astype(bool))
    per_account = pd.DataFrame({
        "strong_user_relationships": (c["_is_user"] & c["_strong"]),
        "exec_relationships": c["_director_plus"],
        "strong_exec_relationships": c["_director_plus"] & c["_strong"],
        "exec_sponsor": sponsor,
    }).groupby(c["account_id"]).sum()
    out = (base[["account_id"]].join(per_account, on="account_id").drop(columns="account_id")
           .fillna(0).astype(float))
    out["exec_sponsor"] = (out["exec_sponsor"] > 0).astype("boolean")
    report["notes"].append(
        "Contacts carry no dates: the current contact list is taken as known at every "
        "cut-off (relationships built or lost later are treated as already there).")
    return f._built(report, out)


def reference_onboarding_features(base: pd.DataFrame, tables: f.Tables, report: f.Report, *,
                                  final_step: str | None) -> pd.DataFrame | None:
    """The previous onboarding_features: every step of an account joined to each of its
    decisions."""
    onboarding = f._provided(tables, "onboarding", report,
                             ["onboarding_steps", "onboarding_incomplete"])
    if onboarding is None:
        return None
    recs = reference_records_by_cutoff(base, onboarding.dropna(subset=["completed_date"]),
                                       "completed_date")
    steps = recs.groupby("_row")["step"].nunique()
    out = pd.DataFrame({"onboarding_steps": steps.reindex(base.index, fill_value=0)})
    out = out.astype(float)
    if final_step is None:
        f._skip(report, ["onboarding_incomplete"], "no final_onboarding_step given")
    else:
        done = recs.loc[recs["step"].astype("string") == final_step, "_row"].unique()
        out["onboarding_incomplete"] = pd.array(~base.index.isin(done), dtype="boolean")
    return f._built(report, out)


def _report() -> dict:
    return {"built": [], "skipped": {}, "notes": [], "units": {}, "variables": {},
            "recorded_after_cutoff": {}}


def _base(decisions: pd.DataFrame, cutoff_days: int = 0) -> pd.DataFrame:
    return tbl._decision_frame(decisions, cutoff_days)


def assert_same(base: pd.DataFrame, tables: dict, **options) -> pd.DataFrame:
    """New and reference usage, touch and ticket features of ``base`` are identical
    (values, dtypes, index, the report); returns the new ones side by side."""
    got = []
    for new, old, kwargs in (
            (f.usage_features, reference_usage_features, {"usage_drop_share": 0.2}),
            (f.ticket_features, reference_ticket_features, {"window_days": 90}),
            (f.survey_features, reference_survey_features,
             {"low_nps": 6, "lookback_days": options.get("lookback_days", 365),
              "no_answer": options.get("no_answer", "own_level")}),
            (f.touch_features, reference_touch_features,
             {"cap_days": 180, "exec_by_seniority": options.get("exec_by_seniority", True)}),
            (f.contact_features, reference_contact_features,
             {"sponsor_roles": options.get("sponsor_roles", ("executive", "champion"))}),
            (f.onboarding_features, reference_onboarding_features,
             {"final_step": options.get("final_step", "Go-live")})):
        report_new, report_old = _report(), _report()
        a = new(base, tables, report_new, **kwargs)
        b = old(base, tables, report_old, **kwargs)
        assert report_new == report_old
        if b is None:
            assert a is None
            continue
        # when no decision had a usage record the previous code made the change over 3
        # months a column of object dtype, all blank; now it is float, all blank
        blank = [c for c in b if b[c].dtype == object and b[c].isna().all()]
        assert all(a[c].dtype == float and a[c].isna().all() for c in blank)
        pd.testing.assert_frame_equal(a, b.astype(dict.fromkeys(blank, float)),
                                      check_exact=True)
        got.append(a)
    return pd.concat(got, axis=1) if got else pd.DataFrame()


def expansion_outcomes(ctx: AnalysisContext) -> pd.DataFrame:
    """The expansion model's decisions of a run (account and cut-off), as its table has
    them."""
    e = ctx.params.expansion
    cutoffs = ex.expansion_cutoffs(ctx.counted_mrr, as_of=ctx.as_of,
                                   horizon_months=e.horizon_months,
                                   cutoff_every_months=e.cutoff_every_months)
    return ex.expansion_outcomes(ctx.counted_mrr, cutoffs, horizon_months=e.horizon_months,
                                 min_rise_share=e.min_rise_share)


def test_a_demo_run_s_decisions_have_the_same_features(small_demo_run):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    renewals = ctx.renewal_decisions
    for days in (0, params.drivers.cutoff_days):
        out = assert_same(_base(renewals, days), ctx.tables)
        assert out["active_users"].notna().mean() > 0.5
        assert (out["days_since_user_contact"] < 180).mean() > 0.3
    outcomes = expansion_outcomes(ctx)
    assert outcomes["cutoff_date"].nunique() > 1
    assert_same(_base(outcomes.rename(columns={"cutoff_date": "decision_date"})), ctx.tables)
    assert_same(_base(renewals), ctx.tables, exec_by_seniority=False)


def test_a_demo_run_s_modelling_table_is_the_same(small_demo_run, monkeypatch):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    options = params.feature_options()
    new = drivers.modelling_table(ctx.renewal_decisions, ctx.tables,
                                  cutoff_days=params.drivers.cutoff_days, **options)
    monkeypatch.setattr(tbl, "usage_features", reference_usage_features)
    monkeypatch.setattr(tbl, "touch_features", reference_touch_features)
    monkeypatch.setattr(tbl, "ticket_features", reference_ticket_features)
    monkeypatch.setattr(tbl, "survey_features", reference_survey_features)
    monkeypatch.setattr(tbl, "contact_features", reference_contact_features)
    monkeypatch.setattr(tbl, "onboarding_features", reference_onboarding_features)
    old = drivers.modelling_table(ctx.renewal_decisions, ctx.tables,
                                  cutoff_days=params.drivers.cutoff_days, **options)
    pd.testing.assert_frame_equal(new[0], old[0], check_exact=True)
    assert new[1] == old[1]


# --------------------------------------------------------------------------- by hand
def _decisions(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["account_id", "decision_date"]).astype(
        {"decision_date": "datetime64[ns]"})


USAGE = pd.DataFrame({
    "account_id": ["A", "A", "A", "A", "A", "B", "B", "B", "C", "D", "D"],
    "month": pd.to_datetime(["2025-01-01", "2025-02-01", "2025-04-01", "2025-05-15",
                             "2025-05-20", "2025-01-01", "2025-04-01", "2025-07-01",
                             "2025-09-01", "2025-02-01", "2025-05-01"]).as_unit("us"),
    # A's May holds two rows (summed); B's April is blank; D's seats are 0
    "active_users": [10, 12, 8, 4, 2, 5, np.nan, 9, 3, 7, 7],
    "licensed_seats": [20, 20, 20, 10, 10, 10, 10, 10, 5, 0, 0],
})
TOUCHES = pd.DataFrame({
    "account_id": ["A", "A", "A", "A", "B", "B", "C", "A"],
    "contact_id": ["u1", "u1", "e1", "e1", "u2", "x9", "e3", None],
    # A's user touched twice on one day (a tie); C's touch is undated
    "date": pd.to_datetime(["2025-03-01", "2025-03-01", "2025-02-10", "2025-06-20",
                            "2025-04-04", "2025-04-05", None, "2025-05-01"]),
})
CONTACTS = pd.DataFrame({
    "account_id": ["A", "A", "B", "C"], "contact_id": ["u1", "e1", "u2", "e3"],
    "role": ["user", "executive", "champion", "other"],
    "seniority": [None, "vp", "director", None],
    "relationship_strength": ["strong", "weak", "strong", None],
})
TICKETS = pd.DataFrame({
    "account_id": ["A", "A", "A", "A", "A", "B", "B", "C"],
    # A: on the cut-off (in), 90 days before it (out), 89 days before (in), two on one day,
    # one undated; B: after the cut-off, and closed after it; C: no hours logged
    "opened_at": pd.to_datetime(["2025-05-31", "2025-03-02", "2025-03-03", "2025-04-10",
                                 "2025-04-10", "2025-06-01", "2025-07-01", None]).as_unit("s"),
    "closed_at": pd.to_datetime(["2025-05-31", "2025-03-05", None, "2025-04-11",
                                 "2025-06-02", "2025-06-03", "2025-08-01", None]),
    "priority": ["High", "urgent", "low", None, "HIGH", "normal", "high", "urgent"],
    "hours_spent": [1.5, 2.0, 4.0, 0.25, 0.5, 3.0, np.nan, 1.0],
})
SURVEYS = pd.DataFrame({
    "account_id": ["A", "A", "A", "A", "B", "B", "C"],
    # A: two answers on one day (the later row wins), one blank NPS, one after the cut-off;
    # B: 365 days before 31 May (out of a 365-day look-back) and 364 (in); C: no NPS at all
    "date": pd.to_datetime(["2025-05-01", "2025-05-01", "2025-05-20", "2025-06-15",
                            "2024-05-31", "2024-06-01", "2025-01-01"]),
    "nps": [9, 3, np.nan, 10, 2, 8, np.nan],
    "csat": [4.0, np.nan, 5.0, 1.0, 3.0, np.nan, 2.0],
})
ONBOARDING = pd.DataFrame({
    "account_id": ["A", "A", "A", "A", "B", "B", "C", "C"],
    # A: kickoff twice (counted once, from its first date), Go-live on 31 May; B: a blank
    # step and an undated Go-live; C: Go-live after every cut-off
    "step": ["Kickoff", "Kickoff", "Training", "Go-live", None, "Go-live", "Kickoff",
             "Go-live"],
    "completed_date": pd.to_datetime(["2025-01-05", "2024-12-01", "2025-06-10",
                                      "2025-05-31", "2025-01-01", None, "2025-01-01",
                                      "2026-01-01"]),
})
TABLES = {"usage": USAGE, "touches": TOUCHES, "contacts": CONTACTS, "tickets": TICKETS,
          "surveys": SURVEYS, "onboarding": ONBOARDING}


def test_hand_made_edge_cases_have_the_same_features():
    decisions = _decisions([
        ("A", "2025-05-31"),   # A's last complete month is May (two rows), 3 months back Feb
        ("A", "2025-05-30"),   # May not complete yet: April, 3 months back January
        ("A", "2025-06-30"),   # after the exec touch of 20 June? no: 20 June <= 30 June
        ("B", "2025-07-31"),   # three months back is April: blank
        ("B", "2024-12-31"),   # before any record
        ("C", "2025-12-31"),   # undated touch only
        ("D", "2025-05-31"),   # seats 0
        ("E", "2025-05-31"),   # no record at all
        ("A", None),           # no decision date
    ])
    out = assert_same(_base(decisions), TABLES)
    by_hand = {  # row: (active_users, change over 3 months, days since user contact)
        0: (6.0, 6.0 - 12.0, 91.0), 1: (8.0, 8.0 - 10.0, 90.0), 3: (9.0, np.nan, 118.0),
        4: (np.nan, np.nan, 180.0), 7: (np.nan, np.nan, 180.0), 8: (np.nan, np.nan, 180.0)}
    for row, (users, change, days) in by_hand.items():
        got = out.loc[row, ["active_users", "active_users_change_3m",
                            "days_since_user_contact"]].to_numpy(dtype=float)
        np.testing.assert_array_equal(got, [users, change, days], err_msg=str(row))
    assert out.loc[2, "days_since_exec_contact"] == 10.0
    # A on 31 May: Kickoff (first on 1 Dec) and Go-live (that day); on 30 May Kickoff only
    assert out.loc[[0, 1], "onboarding_steps"].tolist() == [2.0, 1.0]
    assert out.loc[[0, 1, 3, 5], "onboarding_incomplete"].tolist() == [False, True, True, True]
    # A: u1 is a strong user, e1 a weak executive (role executive, VP): the sponsor needs
    # a strong tie; B: u2 a strong champion at director level
    assert out.loc[0, ["strong_user_relationships", "exec_relationships"]].tolist() == [1.0,
                                                                                        1.0]
    assert out.loc[[0, 3, 7], "exec_sponsor"].tolist() == [False, True, False]
    # A on 31 May: tickets of 31 May, 3 Mar and the two of 10 Apr (2 Mar is 90 days back);
    # high: 31 May and one of 10 Apr; hours of those closed by then: 1.5 + 0.25 (3 Mar open)
    assert out.loc[0, ["tickets_90d", "high_priority_tickets_90d",
                       "ticket_hours_90d"]].tolist() == [4.0, 2.0, 1.75]
    assert out.loc[[4, 5, 7, 8], "tickets_90d"].tolist() == [0.0, 0.0, 0.0, 0.0]
    assert out.loc[0, ["last_nps", "last_csat"]].tolist() == [3.0, 5.0]
    assert str(out.loc[0, "nps_detractor"]) == "detractor"
    assert np.isnan(out.loc[6, "seat_utilisation"])
    assert_same(_base(decisions, 45), TABLES, exec_by_seniority=False)
    for no_answer in ("missing", "not_detractor", "detractor"):
        assert_same(_base(decisions), TABLES, lookback_days=None, no_answer=no_answer)
    b = _base(_decisions([("B", "2025-05-31"), ("B", "2025-05-30")]))
    assert assert_same(b, TABLES)["last_nps"].tolist() == [8.0, 8.0]
    assert assert_same(b, TABLES, lookback_days=364)["last_nps"].isna().tolist() == [True,
                                                                                   False]


@pytest.mark.parametrize("rows", [
    [("A", "2025-05-31")],                       # one account, one decision
    [],                                          # no decision
    [("Z", "2025-05-31"), ("Y", "2025-01-31")],  # no account with records
])
def test_one_account_and_empty_cases_have_the_same_features(rows):
    out = assert_same(_base(_decisions(rows)), TABLES)
    assert len(out) == len(rows)
    assert all(out[c].dtype == np.float64 for c in ["active_users", "active_users_change_3m"])


def test_records_that_match_no_decision_have_the_same_features():
    decisions = _decisions([("A", "2024-06-30"), ("B", "2024-07-31")])
    assert_same(_base(decisions), TABLES)  # every record after every cut-off
    no_touch = {**TABLES, "touches": TOUCHES.iloc[:0]}
    assert_same(_base(decisions), no_touch)


def test_records_in_a_window_are_those_of_the_full_join_in_its_order(small_demo_run):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    cases = [(_base(ctx.renewal_decisions, 90), ctx.tables["tickets"], "opened_at", 90),
             (_base(ctx.renewal_decisions), ctx.tables["touches"], "date", 30),
             (_base(_decisions([("A", "2025-05-31"), ("A", None), ("B", "2025-06-30")])),
              TICKETS, "opened_at", 90)]
    for base, records, date_col, days in cases:
        got = f._records_in_window(base, records, date_col, window_days=days)
        want = reference_records_by_cutoff(base, records, date_col, window_days=days)
        assert len(want) > 0
        pd.testing.assert_frame_equal(got.drop(columns="account_id"),
                                      want.drop(columns="account_id").reset_index(drop=True),
                                      check_exact=True)
        assert got["account_id"].astype(str).tolist() == \
            want["account_id"].astype(str).tolist()


def test_duplicate_contacts_and_many_answers_on_one_day_have_the_same_features():
    # u1 is listed twice: first as a user, then as an executive (the first row counts for
    # touches, as the inner merge on deduplicated contacts did); 40 NPS answers of A on one
    # day, in an order a non-stable sort would shuffle (the last row wins)
    contacts = pd.concat([CONTACTS, pd.DataFrame({
        "account_id": ["A"], "contact_id": ["u1"], "role": ["executive"],
        "seniority": ["c_level"], "relationship_strength": ["strong"]})], ignore_index=True)
    rng = np.random.default_rng(7)
    answers = pd.DataFrame({"account_id": ["A"] * 40 + ["B"] * 5,
                            "date": pd.to_datetime(["2025-05-01"] * 40 + ["2025-04-01"] * 5),
                            "nps": rng.integers(0, 11, 45).astype(float),
                            "csat": rng.integers(1, 6, 45).astype(float)})
    answers = answers.sample(frac=1.0, random_state=3).reset_index(drop=True)
    tables = {**TABLES, "contacts": contacts, "surveys": answers}
    decisions = _decisions([("A", "2025-05-31"), ("A", "2025-03-31"), ("B", "2025-05-31")])
    out = assert_same(_base(decisions), tables)
    last_a = answers.loc[answers["account_id"] == "A", "nps"].iloc[-1]
    assert out.loc[0, "last_nps"] == last_a
    # A's exec touches: e1 on 10 Feb and 20 June; u1 (a user by its first row) does not count
    assert out.loc[0, "days_since_exec_contact"] == (pd.Timestamp("2025-05-31")
                                                     - pd.Timestamp("2025-02-10")).days
