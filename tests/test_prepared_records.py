"""Records sorted once per read-only table (playbook.analyses.drivers.prepared, issue 22)
give the features the full join gives, for every decision set built from the same tables.

The usage, survey, touch and onboarding features now take what does not depend on the
decisions (IDs matched, records sorted by account and date, usage summed by month) from
:func:`~playbook.read_only.kept_result`, computed once per read-only table and
shared by the three modelling tables a report builds. The reference is the full join of
every record with every decision of its account (``reference_*`` of
tests/test_features_asof.py, computed without any sorting or binary search): on the demo's
three decision sets built one after the other from the same read-only tables (so the
second and third reuse what the first kept), on hand-made edge cases (ties, blanks,
undated records, mixed date units, one account, no decision), and :class:`SortedRecords`
itself against plain pandas on random records.
"""

from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from playbook import read_only
from playbook.analyses import drivers
from playbook.analyses.drivers import table as tbl
from playbook.analyses.drivers.prepared import SortedRecords
from playbook.context import AnalysisContext
from playbook.read_only import kept_result, mark_read_only
from tests.test_features_asof import (
    TABLES,
    _base,
    _decisions,
    assert_same,
    expansion_outcomes,
    reference_onboarding_features,
    reference_survey_features,
    reference_ticket_features,
    reference_touch_features,
    reference_usage_features,
)

REFERENCES = {"usage_features": reference_usage_features,
              "survey_features": reference_survey_features,
              "touch_features": reference_touch_features,
              "ticket_features": reference_ticket_features,
              "onboarding_features": reference_onboarding_features}


def read_only_copies(tables) -> dict[str, pd.DataFrame]:
    """Deep copies of ``tables``, each marked read-only as a run's stored tables are."""
    return {name: mark_read_only(t.copy()) for name, t in tables.items() if t is not None}


def test_three_decision_sets_from_the_same_read_only_tables_match_the_full_join(
        small_demo_run, monkeypatch):
    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    tables = read_only_copies(ctx.tables)
    options = params.feature_options()
    outcomes = expansion_outcomes(ctx)
    upcoming = drivers.upcoming_renewals(tables["accounts"], ctx.as_of, horizon_days=180,
                                         renewals=tables.get("renewals"),
                                         **params.renewal_options())
    cases = [  # the renewal model's, the expansion model's and the renewals due
        (ctx.renewal_decisions, params.drivers.cutoff_days, None),
        (outcomes.rename(columns={"cutoff_date": "decision_date"}), 0, None),
        (upcoming, params.drivers.cutoff_days, ctx.as_of)]
    assert len(upcoming) > 10 and len(outcomes) > len(ctx.renewal_decisions)
    got = [drivers.modelling_table(d, tables, cutoff_days=days, as_of=as_of, **options)
           for d, days, as_of in cases]
    # the prepared records were kept once per table and reused
    assert {"touches", "surveys", "usage", "onboarding", "tickets"} <= {
        name for name, t in tables.items() if read_only._MARKED[id(t)][1]}
    for name, reference in REFERENCES.items():
        monkeypatch.setattr(tbl, name, reference)
    for (d, days, as_of), (table, report) in zip(cases, got, strict=True):
        want, want_report = drivers.modelling_table(d, ctx.tables, cutoff_days=days,
                                                    as_of=as_of, **options)
        pd.testing.assert_frame_equal(table, want, check_exact=True)
        assert report == want_report
        assert table["days_since_user_contact"].lt(options["contact_days_cap"]).any()
        assert table["last_nps"].notna().any() and table["onboarding_steps"].gt(0).any()
        assert table["tickets_90d"].gt(0).any()


def test_hand_made_cases_match_the_full_join_when_kept_and_reused():
    tables = read_only_copies(TABLES)
    sets = [_decisions([("A", "2025-05-31"), ("A", "2025-05-30"), ("A", "2025-06-30"),
                        ("B", "2025-07-31"), ("B", "2024-12-31"), ("C", "2025-12-31"),
                        ("D", "2025-05-31"), ("E", "2025-05-31"), ("A", None)]),
            _decisions([("A", "2025-05-31")]),       # one account
            _decisions([]),                          # no decision
            _decisions([("Z", "2025-05-31")]),       # an account without records
            _decisions([("B", "2025-05-31"), ("B", "2025-05-30"), ("A", "2025-03-01")])]
    for _ in range(2):  # the second round reuses every kept table
        for decisions in sets:
            for days in (0, 45):
                assert_same(_base(decisions, days), tables)
            assert_same(_base(decisions), tables, exec_by_seniority=False,
                        lookback_days=None, no_answer="missing", final_step=None)
    kept = read_only._MARKED[id(tables["touches"])][1]
    assert {key[0] for key in kept} == {("touch_records", True), ("touch_records", False),
                                        ("touch_contact_codes",)}  # both matched once


def test_a_changed_contacts_table_is_not_served_from_what_was_kept():
    tables = read_only_copies(TABLES)
    decisions = _base(_decisions([("A", "2025-05-31"), ("B", "2025-05-31")]))
    before = assert_same(decisions, tables)
    # B's u2 (a champion at director level: an executive contact by seniority) is no
    # longer at director level: B's last exec contact moves from 4 April to never (180)
    contacts = TABLES["contacts"].assign(seniority=[None, "vp", None, None])
    changed = {**tables, "contacts": mark_read_only(contacts)}
    after = assert_same(decisions, changed)
    assert before.loc[1, "days_since_exec_contact"] == (pd.Timestamp("2025-05-31")
                                                        - pd.Timestamp("2025-04-04")).days
    assert after.loc[1, "days_since_exec_contact"] == 180.0


def test_kept_results_shared_uncopied_keep_only_for_read_only_frames_and_forget_collected_ones():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    def kept_for(frame, key, compute, also=()):
        return kept_result(frame, key, compute, copy=False, also=also)

    plain = pd.DataFrame({"a": [1]})
    assert kept_for(plain, "k", compute) == 1 and kept_for(plain, "k", compute) == 2
    marked = mark_read_only(pd.DataFrame({"a": [1]}))
    assert kept_for(marked, "k", compute) == 3 and kept_for(marked, "k", compute) == 3
    assert kept_for(marked, "other", compute) == 4
    other = pd.DataFrame({"b": [1]})  # an unmarked input: computed afresh each time
    assert kept_for(marked, "k", compute, also=(other,)) == 5
    assert kept_for(marked, "k", compute, also=(other,)) == 6
    marked_other = mark_read_only(pd.DataFrame({"b": [2]}))  # a marked input: kept with it
    assert kept_for(marked, "k", compute, also=(marked_other,)) == 7
    assert kept_for(marked, "k", compute, also=(marked_other,)) == 7
    assert kept_for(marked, "k", compute, also=(None,)) == 3  # None: no other input
    at = id(marked)
    del marked
    gc.collect()
    assert at not in read_only._MARKED


def plain_latest(accounts, dates, cut_accounts, cutoffs):
    """Each decision's latest record date on or before its cut-off, by plain pandas."""
    recs = pd.DataFrame({"account_id": accounts, "date": pd.to_datetime(dates)}).dropna()
    dec = pd.DataFrame({"account_id": cut_accounts, "cutoff_date": cutoffs,
                        "_row": range(len(cutoffs))})
    joined = dec.merge(recs, on="account_id")
    joined = joined[joined["date"] <= joined["cutoff_date"]]
    return joined.groupby("_row")["date"].max().reindex(range(len(cutoffs)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sorted_records_find_the_latest_date_and_counts_as_plain_pandas(seed):
    rng = np.random.default_rng(seed)
    n, m = 400, 150
    ids = np.array(["a", "b", "c", "d", None], dtype=object)
    accounts = pd.Series(rng.choice(ids, n), dtype="string")
    dates = pd.Series(pd.Timestamp("2025-01-01")
                      + pd.to_timedelta(rng.integers(0, 60, n), unit="D")).astype(
        "datetime64[s]")  # few distinct dates: many ties; a coarser unit than the cut-offs
    dates[rng.random(n) < 0.1] = pd.NaT
    base = pd.DataFrame({"account_id": pd.Series(rng.choice(["a", "b", "e", "d"], m),
                                                 dtype="string"),
                         "cutoff_date": pd.Timestamp("2024-12-20") + pd.to_timedelta(
                             rng.integers(0, 80 * 24, m), unit="h")})
    base.loc[3, "cutoff_date"] = pd.NaT
    records = SortedRecords.of(accounts, dates)
    got = records.latest_dates(base)
    want = plain_latest(accounts, dates, base["account_id"], base["cutoff_date"])
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy(dtype="datetime64[ns]"))
    assert got.notna().sum() > m / 3 and got.isna().sum() > 0
    counts = pd.Series(records.counts(base))
    by_hand = [int(((accounts == a) & (dates <= c)).fillna(False).sum()) if pd.notna(c) else 0
               for a, c in zip(base["account_id"], base["cutoff_date"], strict=True)]
    assert counts.tolist() == by_hand
    for days in (1, 10, 45):  # records in (cut-off - days, cut-off], in sorted order
        lo, hi = records.window(base, days)
        for r in range(m):
            a, c = base.loc[r, "account_id"], base.loc[r, "cutoff_date"]
            inside = ((accounts == a) & (dates <= c) & (dates > c - pd.Timedelta(days=days))
                      ).fillna(False).to_numpy() if pd.notna(c) else np.zeros(n, dtype=bool)
            assert sorted(records.order[lo[r]:hi[r]].tolist()) == np.flatnonzero(
                inside).tolist(), (r, days)
        assert (hi - lo).sum() > 0
    rows, picked, _ = records.latest(base)  # the last record of the latest date
    for r, p in zip(rows, picked, strict=True):
        a, c = base.loc[r, "account_id"], base.loc[r, "cutoff_date"]
        mine = np.flatnonzero(((accounts == a) & (dates <= c)).fillna(False).to_numpy())
        last = mine[dates.to_numpy()[mine] == dates.to_numpy()[mine].max()][-1]
        assert p == last


def test_sorted_records_without_records_find_nothing():
    empty = SortedRecords.of(pd.Series([], dtype="string"),
                             pd.Series([], dtype="datetime64[ns]"))
    base = pd.DataFrame({"account_id": pd.Series(["a"], dtype="string"),
                         "cutoff_date": [pd.Timestamp("2025-01-01")]})
    assert empty.latest_dates(base).isna().all() and empty.counts(base).tolist() == [0.0]


def kernel_tables(tables, folder=None) -> dict[str, pd.DataFrame]:
    """Fresh read-only copies of ``tables`` as one kernel of a run reads them: marked
    under the run's shared ``folder`` by their names (None: this process only)."""
    return {name: mark_read_only(t.copy(), shared_as=None if folder is None
                                 else (folder, name))
            for name, t in tables.items() if t is not None}


def test_records_prepared_once_for_the_run_s_kernels_give_the_same_tables(
        small_demo_run, tmp_path, monkeypatch):
    """The feature builders' prepared records are kept across kernels (stop 34): the
    first kernel of a run prepares each source table's records and stores them in the
    run's shared folder; a later kernel (fresh tables, nothing kept in it) reads them back
    instead of preparing them, and its modelling tables (the renewal model's and the
    expansion model's) are those built without sharing, equal to the full join's."""
    from playbook.analyses import expansion
    from playbook.analyses.drivers import features

    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    options = params.feature_options()
    e = params.expansion
    shared = tmp_path / "shared"
    shared.mkdir()

    def both_tables(tables):
        renewal = drivers.modelling_table(ctx.renewal_decisions, tables,
                                          cutoff_days=params.drivers.cutoff_days, **options)
        grown = expansion.expansion_table(
            ctx.counted_mrr, tables, as_of=ctx.as_of, horizon_months=e.horizon_months,
            cutoff_every_months=e.cutoff_every_months, min_rise_share=e.min_rise_share,
            seats_full_share=e.seats_full_share, feature_options=options)
        return renewal, grown

    want = both_tables(kernel_tables(ctx.tables))  # kept in this process only
    assert not any(shared.iterdir())
    first = both_tables(kernel_tables(ctx.tables, shared))  # the first kernel stores
    assert len(list(shared.glob("*.pickle"))) == 6  # usage, surveys, tickets, touches,
    # onboarding, and the touches' contacts (read by the relationship flags too)
    for name in ("_usage_sums", "_touch_records", "_onboarding_records"):  # a later one reads
        monkeypatch.setattr(features, name, lambda *a, **k: pytest.fail("prepared again"))
    monkeypatch.setattr(features.SortedRecords, "by_kind",
                        lambda *a, **k: pytest.fail("sorted again"))
    later = both_tables(kernel_tables(ctx.tables, shared))
    monkeypatch.undo()
    for got in (first, later):
        for (table, report), (want_table, want_report) in zip(got, want, strict=True):
            pd.testing.assert_frame_equal(table, want_table, check_exact=True)
            assert repr(report) == repr(want_report)
    # and the renewal table is the full join's (the reference builders of test_features_asof)
    for name, reference in REFERENCES.items():
        monkeypatch.setattr(tbl, name, reference)
    joined, _ = drivers.modelling_table(ctx.renewal_decisions, ctx.tables,
                                        cutoff_days=params.drivers.cutoff_days, **options)
    pd.testing.assert_frame_equal(later[0][0], joined, check_exact=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_search_in_sorted_order_finds_the_positions_searchsorted_finds(seed):
    """prepared.search (stop 34) looks the values up in sorted order: the positions are
    np.searchsorted's, on both sides, with repeated keys and values, values outside the
    keys, below and above the size from which it sorts, and with no key."""
    from playbook.analyses.drivers.prepared import SORTED_SEARCH_FROM, search

    rng = np.random.default_rng(seed)
    keys = np.sort(rng.integers(0, 5000, 20_000))
    for n in (0, 1, SORTED_SEARCH_FROM - 1, SORTED_SEARCH_FROM, 50_000):
        values = rng.integers(-10, 5010, n)
        for side in ("left", "right"):
            for k in (keys, keys[:0], keys[:1]):
                got = search(k, values, side)
                want = np.searchsorted(k, values, side=side)
                np.testing.assert_array_equal(got, want, strict=True)


def test_account_features_join_only_what_they_read(small_demo_run, monkeypatch):
    """The accounts' features of the demo's decisions, and of hand-made accounts (extra
    columns, a duplicate ID, an account without a row, blank and text values, no products
    column), are those of the previous join of every column."""
    from playbook.analyses.drivers import features

    params, data = small_demo_run
    ctx = AnalysisContext(params, data.tables)
    base = tbl._decision_frame(ctx.renewal_decisions, params.drivers.cutoff_days)
    accounts = data.tables["accounts"]
    hand = pd.DataFrame({
        "account_id": ["A", "B", "B", "C", "D"], "start_date": ["2020-01-01", None,
                                                                 "2019-05-05", "2021-02-03",
                                                                 "2022-02-02"],
        "products": [1, 2, 3, None, 4], "arr": ["1200", None, 5.0, "x", 0],
        "segment": ["SMB", None, "Ent", "SMB", ""], "owner": ["o1", "o2", "o2", "o3", "o4"],
        "renewal_date": pd.to_datetime(["2025-01-01"] * 5)})
    hand_base = tbl._decision_frame(pd.DataFrame({
        "account_id": ["A", "B", "Z", "C", "A"],
        "decision_date": pd.to_datetime(["2025-06-30", "2025-01-31", "2025-03-03",
                                         "2025-06-30", "2024-06-30"]),
        "arr_before": [np.nan, 100.0, np.nan, np.nan, 50.0]}), 90)
    cases = [(base, accounts), (hand_base, hand), (hand_base, hand.drop(columns="products")),
             (hand_base, hand.drop(columns=["arr", "segment"]))]
    for b, acc in cases:
        got_report = {"built": [], "skipped": {}, "notes": []}
        want_report = {"built": [], "skipped": {}, "notes": []}
        got = features.account_features(b, acc, got_report)
        # the previous code: the full join, then the same feature rules
        acc_all = acc.drop_duplicates("account_id").copy()
        acc_all["account_id"] = acc_all["account_id"].astype("string")
        monkeypatch.setattr(features, "ACCOUNT_COLUMNS",
                            tuple(c for c in acc_all.columns if c != "account_id"))
        want = features.account_features(b, acc, want_report)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(got, want, check_exact=True)
        assert got_report == want_report
    assert got_report["skipped"] and "tenure_years" in got.columns
