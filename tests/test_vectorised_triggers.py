"""Trigger survival's matched controls drawn with array masks (issue 22) are the ones the
row-filtering loop drew.

:func:`playbook.analyses.triggers.trigger_lifetimes` filtered the whole pool of untriggered
accounts (a pandas frame, with ``isin`` on a growing set of drawn IDs) once per exposed
account: quadratic, 113 s of CPU for notebook 06 at 10,000 accounts and hours at 100,000.
It now keeps the pool as arrays per match group (``_MatchPool``) and makes the same random
draws in the same order. The previous loop is kept here as the reference and compared on
random lifetimes (segments, duplicate IDs, accounts that start late or leave early, several
controls) and on a small demo run, for several seeds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from playbook.analyses import survival
from playbook.analyses import triggers as tr
from playbook.analyses.drivers import data_start as first_day


def reference_lifetimes(lifetimes, triggers, trigger_type, *, data_start=None, controls=1,
                        seed=0) -> pd.DataFrame:
    """The previous ``trigger_lifetimes`` (its matching loop filtered the frame per row)."""
    life = lifetimes.assign(first_seen=tr._first_seen(lifetimes, data_start).to_numpy(),
                            end_date=pd.to_datetime(lifetimes["end_date"]),
                            match_key=(lifetimes["group"].astype(str).to_numpy()
                                       if "group" in lifetimes else ""))
    life["account_id"] = life["account_id"].astype(str)
    t = triggers[(triggers["type"].astype(str) == trigger_type) & triggers["date"].notna()]
    t = t.assign(account_id=t["account_id"].astype(str))
    m = life.merge(t[["account_id", "date"]], on="account_id")
    m = m[(m["date"] >= m["first_seen"]) & (m["date"] < m["end_date"])]
    first = (m.sort_values(["date", "account_id"], kind="stable")
             .drop_duplicates("account_id"))
    pool = life[~life["account_id"].isin(set(t["account_id"]))].sort_values(
        "account_id", kind="stable")
    rng = np.random.default_rng(seed)
    used: set[str] = set()
    rows = []
    for r in first.itertuples(index=False):
        rows.append((r.account_id, "trigger", r.date, r.end_date, r.churned))
        ok = pool[(pool["first_seen"] <= r.date) & (pool["end_date"] > r.date)
                  & (pool["match_key"] == r.match_key) & ~pool["account_id"].isin(used)]
        if not len(ok):
            continue
        pick = ok.iloc[np.sort(rng.choice(len(ok), size=min(controls, len(ok)),
                                          replace=False))]
        for c in pick.itertuples(index=False):
            used.add(c.account_id)
            rows.append((c.account_id, "matched", r.date, c.end_date, c.churned))
    return lifetimes_frame(pd.DataFrame(
        rows, columns=["account_id", "group", "origin", "end_date", "churned"]))


def lifetimes_frame(out: pd.DataFrame) -> pd.DataFrame:
    """The matched lifetimes' frame of the references (exposed and matched rows with
    ``account_id``, ``group``, ``origin``, ``end_date``, ``churned``), as
    ``trigger_lifetimes`` returns it: months, entry, order and columns."""
    out["origin"] = pd.to_datetime(out["origin"])
    out["end_date"] = pd.to_datetime(out["end_date"])
    out["months"] = (out["end_date"] - out["origin"]).dt.days / tr.DAYS_PER_MONTH
    out["churned"] = out["churned"].astype(int)
    out["entry_months"] = 0.0
    out = out.sort_values(["group", "origin", "account_id"], ascending=[False, True, True],
                          kind="stable").reset_index(drop=True)
    return out[tr.LIFETIME_COLUMNS]


def random_case(seed: int, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lifetimes in three segments (a few IDs twice) and triggers of two types."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D")
    end = start + pd.to_timedelta(rng.integers(30, 1200, n), unit="D")
    ids = [f"A{i:04d}" for i in range(n)]
    ids[5], ids[9] = ids[4], ids[8]  # the same account twice
    life = pd.DataFrame({"account_id": ids, "start_date": start, "end_date": end,
                         "churned": rng.integers(0, 2, n),
                         "group": rng.choice(["SMB", "Mid", "Ent"], n)})
    life.loc[[2, 12], "end_date"] = pd.NaT  # never a customer after a date
    life.loc[[3, 13], "start_date"] = pd.NaT  # seen from the data start, or never
    k = n // 3
    trig = pd.DataFrame({"account_id": rng.choice(ids, k),
                         "date": pd.Timestamp("2022-06-01")
                         + pd.to_timedelta(rng.integers(0, 1100, k), unit="D"),
                         "type": rng.choice(["champion_left", "funding"], k)})
    trig.loc[0, "date"] = pd.NaT
    return life, trig


@pytest.mark.parametrize(("seed", "n"), [(0, 400), (1, 400), (7, 2500)])
@pytest.mark.parametrize("controls", [1, 3])
def test_matched_lifetimes_are_the_loop_s_on_random_cases(seed, n, controls):
    life, trig = random_case(seed, n)
    for kind in ("champion_left", "funding"):
        for grouped in (True, False):
            for start in (pd.Timestamp("2022-03-01"), None):
                lives = life if grouped else life.drop(columns="group")
                got = tr.trigger_lifetimes(lives, trig, kind, data_start=start,
                                           controls=controls, seed=seed)
                want = reference_lifetimes(lives, trig, kind, data_start=start,
                                           controls=controls, seed=seed)
                pd.testing.assert_frame_equal(got, want, check_exact=True)
                assert (got["group"] == "matched").sum() > 10


@pytest.mark.parametrize("n", [0, 1, 2, 5, 16, 17, 100, 255, 256, 257, 1000])
def test_counts_find_the_i_th_set_place(n):
    rng = np.random.default_rng(n)
    counts = tr._Counts(n)
    flags = np.zeros(n, dtype=bool)
    order = rng.permutation(n)
    batches = np.split(order, np.sort(rng.integers(0, n + 1, size=min(n, 12))))
    for batch in [*batches, *batches]:  # set, then clear, a few places at a time
        delta = -1 if len(batch) and flags[batch[0]] else 1
        counts.add(batch, delta)
        flags[batch] = delta > 0
        assert counts.total == flags.sum()
        assert [counts.nth(i) for i in range(counts.total)] == np.flatnonzero(flags).tolist()


def test_no_control_left_and_no_trigger_of_the_type():
    life, trig = random_case(3, n=30)
    everyone = trig.assign(type="funding")  # every account with a trigger has one
    pd.testing.assert_frame_equal(tr.trigger_lifetimes(life, everyone, "funding"),
                                  reference_lifetimes(life, everyone, "funding"))
    none = tr.trigger_lifetimes(life, trig, "layoffs")
    assert none.empty and list(none.columns) == tr.LIFETIME_COLUMNS


def demo_lifetimes(small_demo_run) -> tuple[dict, pd.Timestamp, pd.DataFrame]:
    """The small demo's tables, its data start and its accounts' lifetimes at 30 Sep 2026."""
    _, data = small_demo_run
    d = data.tables
    start = first_day(d)
    return d, start, survival.account_lifetimes(d["accounts"], d.get("churn_events"),
                                                as_of=pd.Timestamp("2026-09-30"),
                                                data_start=start)


def test_matched_lifetimes_are_the_loop_s_on_a_demo_run(small_demo_run):
    d, start, lifetimes = demo_lifetimes(small_demo_run)
    compared = 0
    for kind in tr._types(d["triggers"]):
        got = tr.trigger_lifetimes(lifetimes, d["triggers"], kind, data_start=start, seed=5)
        pd.testing.assert_frame_equal(got, reference_lifetimes(
            lifetimes, d["triggers"], kind, data_start=start, seed=5), check_exact=True)
        compared += int((got["group"] == "matched").sum())
    assert compared > 20


def reference_intervals(lifetimes, triggers, trigger_type, *, window_days) -> pd.DataFrame:
    """The previous ``trigger_intervals`` (a sub-frame per account for its windows)."""
    life = lifetimes.assign(account_id=lifetimes["account_id"].astype(str),
                            start_date=pd.to_datetime(lifetimes["start_date"]))
    t = triggers[(triggers["type"].astype(str) == trigger_type) & triggers["date"].notna()]
    t = t.assign(account_id=t["account_id"].astype(str))
    t = t.merge(life[["account_id", "start_date"]], on="account_id")
    t = t.assign(on=survival.tenure_months(t["start_date"], t["date"]),
                 off=survival.tenure_months(t["start_date"],
                                            t["date"] + pd.Timedelta(days=window_days)))
    windows = {a: sorted(zip(g["on"], g["off"], strict=True))
               for a, g in t.groupby("account_id")}
    rows = []
    for r in life.itertuples(index=False):
        cuts: list[tuple[float, int]] = []
        for on, off in windows.get(r.account_id, []):
            if cuts and on <= cuts[-1][0]:
                cuts[-1] = (max(cuts[-1][0], off), 0)
                continue
            cuts += [(on, 1), (off, 0)]
        lo, state = float(r.entry_months), 0
        for at, new in cuts:
            if at <= lo:
                state = new
                continue
            if at >= r.months:
                break
            rows.append((r.account_id, lo, at, state, 0))
            lo, state = at, new
        rows.append((r.account_id, lo, float(r.months), state, int(r.churned)))
    return pd.DataFrame(rows, columns=["account_id", "entry_months", "exit_months", "exposed",
                                       "churned"])


def test_cox_intervals_are_the_per_account_loop_s_on_a_demo_run(small_demo_run):
    _, data = small_demo_run
    d = data.tables
    lifetimes = survival.account_lifetimes(d["accounts"], d.get("churn_events"),
                                           as_of=pd.Timestamp("2026-09-30"),
                                           data_start=first_day(d))
    exposed = 0
    for kind in tr._types(d["triggers"]):
        for days in (30, 180):
            got = tr.trigger_intervals(lifetimes, d["triggers"], kind, window_days=days)
            pd.testing.assert_frame_equal(got, reference_intervals(
                lifetimes, d["triggers"], kind, window_days=days), check_exact=True)
            exposed += int(got["exposed"].sum())
    assert exposed > 20


@pytest.mark.parametrize("seed", [0, 4])
def test_cox_intervals_are_the_per_account_loop_s_on_random_cases(seed):
    """Overlapping windows, undated starts, duplicate IDs; a type nobody has, a type every
    account has, one account, no account."""
    life, trig = random_case(seed, n=300)
    life = life.assign(start_date=life["start_date"].fillna(pd.Timestamp("2022-01-01")))
    lifetimes = survival.account_lifetimes(
        life.rename(columns={"end_date": "churn_date"}).assign(
            churn_date=lambda f: f["churn_date"].where(f["churned"] == 1)),
        None, as_of=pd.Timestamp("2026-01-01"), data_start=pd.Timestamp("2022-03-01"))
    everyone = pd.DataFrame({"account_id": lifetimes["account_id"], "type": "funding",
                             "date": pd.Timestamp("2023-01-01")})
    cases = [(lifetimes, trig), (lifetimes, everyone), (lifetimes.iloc[:1], trig),
             (lifetimes.iloc[:0], trig)]
    for lives, t in cases:
        for kind in ("champion_left", "funding", "layoffs"):
            got = tr.trigger_intervals(lives, t, kind, window_days=90)
            pd.testing.assert_frame_equal(got, reference_intervals(
                lives, t, kind, window_days=90), check_exact=True)
    assert tr.trigger_intervals(lifetimes, trig, "funding", window_days=90)["exposed"].sum() > 20


def reference_trigger_flags(units, triggers, *, date_col, start_days, end_days, types):
    """The previous ``playbook.analyses.triggers.trigger_flags`` (one window for every
    unit), as it was before it called ``_flags_within``."""
    u = pd.DataFrame({"account_id": units["account_id"].to_numpy(),
                      "d": pd.to_datetime(units[date_col]).to_numpy(),
                      "_i": np.arange(len(units))})
    t = triggers[["account_id", "date", "type"]].dropna(subset=["date"])
    m = u.merge(t, on="account_id")
    lo = m["d"] - pd.Timedelta(days=start_days)
    hi = m["d"] - pd.Timedelta(days=end_days)
    m = m[(m["date"] >= lo) & (m["date"] < hi)]
    hit = m.groupby(["_i", "type"]).size().unstack(fill_value=0).reindex(
        index=np.arange(len(units)), columns=list(types), fill_value=0)
    out = (hit.fillna(0) > 0).astype(float)
    out.index = units.index
    return out


def reference_expansion_flags(rows, triggers, spans, types):
    """The previous exposure flags of ``expansion_after_triggers``: the previous
    ``trigger_flags`` once per distinct window length, written into a frame of zeros."""
    units = rows.assign(d=rows["cutoff_date"])
    out = []
    for span in spans:
        span = pd.Series(span, index=rows.index)
        target = pd.DataFrame(0.0, index=rows.index, columns=types)
        for days in sorted(span.unique()):
            sel = span == days
            f = reference_trigger_flags(units[sel], triggers, date_col="d",
                                        start_days=int(days), end_days=0, types=types)
            target.loc[sel] = f.to_numpy()
        out.append(target)
    return out


def test_flags_with_a_window_per_row_are_trigger_flags_per_window_length():
    """Windows of 28-31 and 181-184 days; a trigger on the cut-off (outside), on the
    window's first day (inside), undated; an account without triggers; a type nobody has."""
    life, trig = random_case(2, n=200)
    cutoffs = pd.to_datetime(["2023-03-01", "2023-05-01", "2024-03-01", "2024-08-01"])
    rows = pd.DataFrame({"account_id": np.repeat(life["account_id"].to_numpy()[:60], 4),
                         "cutoff_date": np.tile(cutoffs, 60)}, index=np.arange(240) * 3)
    edge = pd.DataFrame({"account_id": [rows["account_id"].iloc[0]] * 2,
                         "date": [cutoffs[0], cutoffs[0] - pd.Timedelta(days=28)],
                         "type": ["champion_left", "funding"]})
    trig = pd.concat([trig, edge], ignore_index=True)
    spans = [(rows["cutoff_date"] - (rows["cutoff_date"] - pd.DateOffset(months=m))).dt.days
             .to_numpy() for m in (1, 6)]
    types = ["champion_left", "funding", "layoffs"]
    got = tr._flags_within(rows, trig, date_col="cutoff_date", spans=spans, types=types)
    for g, want in zip(got, reference_expansion_flags(rows, trig, spans, types), strict=True):
        pd.testing.assert_frame_equal(g, want, check_exact=True)
    assert got[0].iloc[0].tolist() == [0.0, 1.0, 0.0]  # 28 days in Feb 2023; not the cut-off
    assert 0 < got[0].to_numpy().sum() < got[1].to_numpy().sum()
    # as True/False (expansion_after_triggers, issue 22: an eighth of the memory)
    flags = tr._flags_within(rows, trig, date_col="cutoff_date", spans=spans, types=types,
                             dtype=bool)
    for g, want in zip(flags, reference_expansion_flags(rows, trig, spans, types),
                       strict=True):
        assert all(t == np.dtype(bool) for t in g.dtypes)
        pd.testing.assert_frame_equal(g.astype(float), want, check_exact=True)
    empty = tr._flags_within(rows.iloc[:0], trig, date_col="cutoff_date",
                             spans=[s[:0] for s in spans], types=types)
    pd.testing.assert_frame_equal(empty[0], reference_expansion_flags(
        rows.iloc[:0], trig, [s[:0] for s in spans], types)[0], check_exact=True)


def test_trigger_flags_are_the_previous_flags_for_any_window():
    """``trigger_flags`` (now ``_flags_within`` with one span for every unit) against its
    previous code: windows ending before the date (``end_days`` > 0), a trigger on each
    edge, an undated trigger, an account without triggers, a type nobody has, no units."""
    units = pd.DataFrame({"account_id": ["A", "A", "B", "C", "D"],
                          "decision_date": pd.to_datetime(["2026-07-01", "2026-03-01",
                                                           "2026-07-01", "2026-07-01",
                                                           "2026-07-01"])},
                         index=[10, 11, 12, 13, 14])
    trig = pd.DataFrame({"account_id": ["A", "A", "B", "B", "C"],
                         "date": pd.to_datetime(["2026-01-02", "2026-06-01", "2026-06-21",
                                                 "2026-06-20", None]),
                         "type": ["champion_left", "funding", "champion_left", "funding",
                                  "funding"]})
    types = ["champion_left", "funding", "layoffs"]
    seen = 0.0
    for start, end in ((180, 0), (90, 10), (11, 10), (1, 0)):
        for rows in (units, units.iloc[:0]):
            got = tr.trigger_flags(rows, trig, date_col="decision_date", start_days=start,
                                   end_days=end, types=types)
            want = reference_trigger_flags(rows, trig, date_col="decision_date",
                                           start_days=start, end_days=end, types=types)
            pd.testing.assert_frame_equal(got, want, check_exact=True, check_names=False)
            seen += got.to_numpy().sum()
    assert seen > 0


def test_cox_intervals_from_arrays_are_the_loop_s_on_edge_cases():
    """Intervals built with arrays (merged windows by a running maximum, cuts matched to
    the lifetimes by position) against the loop: windows of 0 days (a change on and off at
    one time), windows touching (merged) or one day apart, a trigger before the entry, on
    the entry, on the end and after it, a window nested in another, an ID listed twice with
    two start dates, an account without triggers, one lifetime."""
    life = pd.DataFrame({
        "account_id": ["A", "B", "C", "C", "D", "E"],
        "start_date": pd.to_datetime(["2022-01-15", "2022-03-01", "2021-06-30", "2022-02-28",
                                      "2022-01-01", "2023-05-31"]),
        "entry_months": [0.0, 3.0, 6.0, 0.0, 0.0, 0.0],
        "months": [30.0, 20.0, 40.0, 28.5, 12.0, 15.0],
        "churned": [1, 0, 1, 0, 1, 1]})
    dates = {"A": ["2022-03-01", "2022-05-30", "2022-06-01", "2022-07-01", "2024-07-15"],
             "B": ["2022-04-01", "2022-06-01", "2023-11-01", "2025-01-01"],
             "C": ["2022-01-01", "2022-08-01", "2022-09-01"],
             "E": ["2023-05-31", "2024-08-31"]}
    trig = pd.DataFrame([(a, pd.Timestamp(d), "funding") for a, ds in dates.items()
                         for d in ds], columns=["account_id", "date", "type"])
    cuts = 0
    for days in (0, 1, 30, 60, 90, 365):
        for lives in (life, life.iloc[:1], life.iloc[4:5]):
            got = tr.trigger_intervals(lives, trig, "funding", window_days=days)
            want = reference_intervals(lives, trig, "funding", window_days=days)
            pd.testing.assert_frame_equal(got, want, check_exact=True)
            cuts += len(got) - len(lives)
    assert cuts > 30
    with pytest.raises(ValueError):
        tr.trigger_intervals(life, trig, "funding", window_days=-1)


def reference_flags_within(units, triggers, *, date_col, spans, types, end_days=0):
    """The previous ``_flags_within``: one merge of the units with the triggers, the flags
    grouped by unit and type."""
    u = pd.DataFrame({"account_id": units["account_id"].to_numpy(),
                      "d": pd.to_datetime(units[date_col]).to_numpy(),
                      "_i": np.arange(len(units))})
    t = triggers[["account_id", "date", "type"]].dropna(subset=["date"])
    m = u.merge(t, on="account_id")
    hit = m["date"] < m["d"] - pd.Timedelta(days=end_days)
    at = m["_i"].to_numpy()
    out = []
    for span in spans:
        lo = m["d"] - pd.to_timedelta(np.asarray(span, dtype=np.int64)[at], unit="D")
        inside = m[(hit & (m["date"] >= lo)).to_numpy()]
        flags = (inside.groupby(["_i", "type"]).size().unstack(fill_value=0)
                 .reindex(index=np.arange(len(units)), columns=list(types), fill_value=0))
        flags = (flags.fillna(0) > 0).astype(float)
        flags.index, flags.columns = units.index, pd.Index(list(types))
        out.append(flags)
    return out


@pytest.mark.parametrize("ids", [("object", "object"), ("string", "object"),
                                 ("string", "string")])
@pytest.mark.parametrize("times", [False, True])
def test_flags_by_binary_search_are_the_merge_s(times, ids):
    """Keys sorted per type and searched (day numbers, or ranks when a time of day is
    given) against the merge: windows per unit, an end before the date, a unit without a
    date, a missing account on both sides (a merge matches them), a type not asked for,
    triggers on each edge, no units, no triggers."""
    life, trig = random_case(6, n=150)
    rng = np.random.default_rng(6)
    units = pd.DataFrame({"account_id": rng.choice(life["account_id"], 400),
                          "when": pd.Timestamp("2023-01-01")
                          + pd.to_timedelta(rng.integers(0, 700, 400), unit="D")},
                         index=np.arange(400) * 2 + 5)
    units.loc[units.index[:3], "when"] = pd.NaT
    units.loc[units.index[3:5], "account_id"] = None
    edge = pd.DataFrame({"account_id": [units["account_id"].iloc[10]] * 3 + [None],
                         "date": [units["when"].iloc[10] - pd.Timedelta(days=k)
                                  for k in (0, 30, 31)]
                         + [units["when"].iloc[3] - pd.Timedelta(days=1)],
                         "type": ["funding", "funding", "champion_left", "funding"]})
    trig = pd.concat([trig, edge], ignore_index=True)
    # the IDs as Python objects or Arrow text, alike or not on the two sides (the accounts
    # are numbered from the two columns stacked as they are)
    units["account_id"] = units["account_id"].astype(ids[0])
    trig["account_id"] = trig["account_id"].astype(ids[1])
    if times:  # times of day on both sides: ranked instants, not day numbers
        trig["date"] = trig["date"] + pd.to_timedelta(rng.integers(0, 86_400, len(trig)),
                                                      unit="s")
        units["when"] = units["when"] + pd.to_timedelta(rng.integers(0, 86_400, 400),
                                                        unit="s")
    spans = [np.full(400, 30), rng.integers(1, 400, 400)]
    types = ["champion_left", "funding", "layoffs"]
    found = 0.0
    missing = tr._flags_within(units, trig, date_col="when", spans=spans[:1], types=types)[0]
    assert missing.loc[units.index[3], "funding"] == 1.0  # missing account, as merged
    for end in (0, 5):
        for u, t in ((units, trig), (units.iloc[:0], trig), (units, trig.iloc[:0])):
            s = [x[:len(u)] for x in spans]
            got = tr._flags_within(u, t, date_col="when", spans=s, types=types,
                                   end_days=end)
            want = reference_flags_within(u, t, date_col="when", spans=s, types=types,
                                          end_days=end)
            for g, w in zip(got, want, strict=True):
                pd.testing.assert_frame_equal(g, w, check_exact=True)
                found += g.to_numpy().sum()
    assert found > 40


def test_one_draw_by_integers_takes_choice_s_numbers():
    """``trigger_lifetimes`` draws one control as ``rng.integers(0, n)``: the same number,
    and the same state after it, as ``rng.choice(n, size=1, replace=False)`` (numpy's
    Floyd draw of one), for pools of 1 to beyond 2**32 in any order."""
    sizes = np.r_[np.random.default_rng(1).integers(1, 300_000, 2000), 1, 2, 10_000,
                  10_001, 2**31, 2**32 - 1, 2**32, 2**33]
    for seed in (0, 7):
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        for n in sizes.tolist():
            assert int(a.integers(0, n)) == int(b.choice(n, size=1, replace=False)[0])
        assert a.integers(0, 2**40) == b.integers(0, 2**40)


def test_the_types_share_one_preparation():
    """trigger_survival prepares the lifetimes, the ID order and the triggers once for all
    the types (``_Lives``, issue 22): each type's matched lifetimes, and the curves made
    from them, are still the loop's, whichever type came before."""
    life, trig = random_case(11, 600)
    start = pd.Timestamp("2022-03-01")
    lives = tr._Lives(life, trig, start)
    for kind in ("funding", "layoffs", "champion_left", "funding"):
        got = tr._matched_lifetimes(lives, kind, controls=1, seed=3)
        if kind == "layoffs":  # no trigger of the type: nothing, and nothing carried on
            assert got.empty and list(got.columns) == tr.LIFETIME_COLUMNS
            continue
        pd.testing.assert_frame_equal(got, reference_lifetimes(life, trig, kind,
                                                               data_start=start, seed=3),
                                      check_exact=True)
    curves, readings = tr.trigger_survival(life, trig, data_start=start, min_exposed=5,
                                           seed=3)
    for kind in ("champion_left", "funding"):
        want = survival.kaplan_meier(reference_lifetimes(life, trig, kind, data_start=start,
                                                         seed=3), by="group", overall=None)
        got = curves[curves["type"] == kind].drop(columns="type").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_exact=True)
    assert set(readings["type"]) == {"champion_left", "funding"}


def test_the_cox_types_share_one_preparation():
    """trigger_cox prepares the lifetimes' IDs and start dates and the dated triggers once
    for all the types (``_Tenures``, issue 22), matching the triggers' IDs to the
    lifetimes' by number rather than merging text: each type's intervals are still the
    per-account loop's, whichever type came before (duplicate IDs, a type nobody has, a
    trigger of an account without a lifetime)."""
    life, trig = random_case(2, n=300)
    life = life.assign(start_date=life["start_date"].fillna(pd.Timestamp("2022-01-01")))
    lifetimes = survival.account_lifetimes(
        life.rename(columns={"end_date": "churn_date"}).assign(
            churn_date=lambda f: f["churn_date"].where(f["churned"] == 1)),
        None, as_of=pd.Timestamp("2026-01-01"), data_start=pd.Timestamp("2022-03-01"))
    stranger = pd.DataFrame({"account_id": ["nobody"], "type": ["funding"],
                             "date": [pd.Timestamp("2023-05-01")]})
    trig = pd.concat([trig, stranger], ignore_index=True)
    tenures = tr._Tenures(lifetimes, trig)
    for kind in ("funding", "layoffs", "champion_left", "funding"):
        got = tr._intervals(tenures, kind, window_days=60)
        pd.testing.assert_frame_equal(got, reference_intervals(
            lifetimes, trig, kind, window_days=60), check_exact=True)
    assert tr._intervals(tenures, "funding", window_days=60)["exposed"].sum() > 20


def test_first_triggers_by_number_on_edge_cases():
    """The first trigger per account found by number (``_first_triggers``, issue 22: it was
    a merge of the lifetimes with the triggers on the text ID, sorted and cut per ID) on
    no lifetimes, one account, triggers of IDs without a lifetime or without an ID, ties
    on one day and triggers on the first-seen and end days."""
    life, trig = random_case(5, n=40)
    one = life.iloc[[7]]
    own = trig.iloc[:6].assign(account_id=one["account_id"].iloc[0])
    own.loc[own.index[:2], "date"] = one["start_date"].iloc[0]  # on its first-seen day
    own.loc[own.index[2], "date"] = one["end_date"].iloc[0]  # on its end day: not inside
    others = pd.concat([trig, own, trig.iloc[:3].assign(account_id="nobody"),
                        trig.iloc[3:5].assign(account_id=None)], ignore_index=True)
    compared = 0
    for lives, triggers in ((life.iloc[:0], trig), (one, own), (one, others),
                            (life, others), (life, others.iloc[:0])):
        for kind in ("champion_left", "funding"):
            got = tr.trigger_lifetimes(lives, triggers, kind, seed=2)
            want = reference_lifetimes(lives, triggers, kind, seed=2)
            if want.empty:  # the reference's empty frame has object columns
                assert got.empty and list(got.columns) == tr.LIFETIME_COLUMNS
                continue
            # values exactly; not the ID column's type: for a single exposed account the
            # function gives object IDs, before this change as after it, the loop text
            pd.testing.assert_frame_equal(got, want, check_exact=True,
                                          check_dtype=len(want) > 2)
            compared += 1
    assert compared >= 4
