"""Health scorecard, bands, relationship flags and band outcomes on hand-made frames."""

from __future__ import annotations

import pandas as pd
import pytest

from playbook.analyses.health import (
    FLAG_COLUMNS,
    HEALTH_MEASURES,
    accounts_at_risk,
    band_mix,
    band_of,
    band_outcomes,
    flag_summary,
    health_bands,
    health_examples,
    health_scores,
    relationship_flags,
)
from playbook.errors import ParamsError

AS_OF = "2025-06-30"
WEIGHTS = {"usage": 0.30, "nps": 0.20, "products": 0.10, "tickets": 0.10,
           "executive_relationship": 0.15, "champion_quality": 0.15}
BANDS = {"red": 50, "yellow": 75, "green": 100}
MEASURE_OPTIONS = {"usage_trend_weight": 0.25, "usage_fall_to_zero": 0.5,
                   "ticket_window_days": 90, "tickets_to_zero": 5}
#: relationship_flags thresholds (the shared defaults of params ``thresholds``)
FLAG_THRESHOLDS = {"exec_days": 15, "user_days": 30, "renewal_horizon_days": 90,
                   "strong_exec_enterprise": 2, "strong_exec_smb": 1,
                   "enterprise_segments": ("Enterprise",), "usage_drop_share": 0.25,
                   "strong_adoption_depth": 0.7}


def _accounts(rows: list[dict]) -> pd.DataFrame:
    base = {"start_date": "2023-01-01", "churn_date": None, "status": "active", "mrr": 100.0,
            "arr": None, "products": 1, "segment": "SMB", "renewal_date": None}
    df = pd.DataFrame([{**base, **r} for r in rows])
    for c in ("start_date", "churn_date", "renewal_date"):
        df[c] = pd.to_datetime(df[c])
    df["products"] = df["products"].astype("Int64")
    return df


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    """H1 has every measure (hand-computed below); H2 only products and tickets."""
    accounts = _accounts([
        {"account_id": "H1", "products": 2},
        {"account_id": "H2", "products": 4},  # max products = 4
    ])
    usage = pd.DataFrame({
        "account_id": ["H1", "H1", "H1"],
        "month": pd.to_datetime(["2025-03-01", "2025-05-01", "2025-06-01"]),
        "active_users": [10, 9, 8],
        "licensed_seats": [10, 10, 10],
        "key_actions": [0, 0, 0],
    })
    surveys = pd.DataFrame({
        "account_id": ["H1", "H1"],
        "date": pd.to_datetime(["2024-11-01", "2025-05-10"]),
        "nps": [3, 9],
        "csat": [2, 5],
    })
    tickets = pd.DataFrame({
        "account_id": ["H1", "H1", "H1", "H1"],
        "opened_at": pd.to_datetime(["2025-05-01", "2025-06-20", "2025-06-21", "2025-02-01"]),
        "closed_at": pd.NaT,
        "priority": ["high", "urgent", "low", "high"],  # the last is > 90 days old
        "hours_spent": [1.0, 1.0, 1.0, 1.0],
    })
    csm = pd.DataFrame({
        "account_id": ["H1"],
        "date": pd.to_datetime(["2025-04-01"]),
        "executive_relationship": [4],
        "champion_quality": [2],
        "reference_value": [3],
    })
    return {"accounts": accounts, "usage": usage, "surveys": surveys, "tickets": tickets,
            "csm_inputs": csm}


def _score(t: dict[str, pd.DataFrame], **kw) -> pd.DataFrame:
    args = {k: v for k, v in t.items() if k != "accounts"} | {"bands": BANDS} | MEASURE_OPTIONS | kw
    return health_scores(t["accounts"], as_of=AS_OF, weights=WEIGHTS, **args)


# ----------------------------------------------------------------------------- scorecard
def test_hand_computed_score(tables):
    s = _score(tables).loc["H1"]
    # usage: level 8/10 = 80; active 10 -> 8 over 3 months = -20%, trend 100*(1 - .2/.5) = 60;
    #        0.75*80 + 0.25*60 = 75
    # nps: latest 9 -> 90 ; products: 2 of max 4 -> 50
    # tickets: high + urgent in the 90 days (low and the Feb one don't count): 100*(1-2/5) = 60
    # executive relationship 4 -> (4-1)/4*100 = 75 ; champion 2 -> 25
    expected = {"usage": 75, "nps": 90, "products": 50, "tickets": 60,
                "executive_relationship": 75, "champion_quality": 25}
    for m, v in expected.items():
        assert s[f"score_{m}"] == pytest.approx(v), m
    # 0.3*75 + 0.2*90 + 0.1*50 + 0.1*60 + 0.15*75 + 0.15*25
    # = 22.5 + 18 + 5 + 6 + 11.25 + 3.75 = 66.5
    assert s["contrib_usage"] == pytest.approx(22.5)
    assert s["contrib_champion_quality"] == pytest.approx(3.75)
    assert s["health_score"] == pytest.approx(66.5)
    assert s["health_band"] == "yellow"
    assert s["measures_used"] == ",".join(m for m in HEALTH_MEASURES if m in WEIGHTS)


def test_contributions_sum_to_score(tables):
    out = _score(tables)
    contrib = out[[f"contrib_{m}" for m in HEALTH_MEASURES]].sum(axis=1)
    pd.testing.assert_series_equal(contrib, out["health_score"], check_names=False)
    # H2: only products (4/4 -> 100) and tickets (none -> 100) measured
    assert out.loc["H2", "measures_used"] == "products,tickets"
    assert out.loc["H2", "health_score"] == pytest.approx(100.0)


def test_weight_redistributed_without_csm_inputs(tables):
    out = _score(tables, csm_inputs=None).loc["H1"]
    # the 0.30 of subjective weight is gone: (22.5 + 18 + 5 + 6) / 0.70 = 73.5714...
    assert out["health_score"] == pytest.approx(51.5 / 0.7)
    assert out["contrib_usage"] == pytest.approx(22.5 / 0.7)  # usage weighs 0.3/0.7 = 42.9%
    assert pd.isna(out["contrib_executive_relationship"])
    assert out["measures_used"] == "usage,nps,products,tickets"


def test_records_after_as_of_are_ignored(tables):
    before = _score(tables)
    late = dict(tables)
    late["usage"] = pd.concat([tables["usage"], pd.DataFrame({
        "account_id": ["H1", "H2"], "month": pd.to_datetime(["2025-07-01", "2025-07-01"]),
        "active_users": [0, 5], "licensed_seats": [10, 10], "key_actions": [0, 0]})])
    late["surveys"] = pd.concat([tables["surveys"], pd.DataFrame({
        "account_id": ["H1", "H2"], "date": pd.to_datetime(["2025-07-01", "2025-07-05"]),
        "nps": [0, 0], "csat": [1, 1]})])
    late["tickets"] = pd.concat([tables["tickets"], pd.DataFrame({
        "account_id": ["H1", "H2"], "opened_at": pd.to_datetime(["2025-07-01", "2025-07-01"]),
        "closed_at": pd.NaT, "priority": ["urgent", "urgent"], "hours_spent": [1.0, 1.0]})])
    late["csm_inputs"] = pd.concat([tables["csm_inputs"], pd.DataFrame({
        "account_id": ["H1", "H2"], "date": pd.to_datetime(["2025-07-01", "2025-07-01"]),
        "executive_relationship": [1, 1], "champion_quality": [1, 1],
        "reference_value": [1, 1]})])
    pd.testing.assert_frame_equal(before, _score(late))


def test_unknown_weight_is_an_error(tables):
    with pytest.raises(ParamsError):
        health_scores(tables["accounts"], as_of=AS_OF, weights={"vibes": 1.0}, bands=BANDS,
                      **MEASURE_OPTIONS)


# ----------------------------------------------------------------------------- bands
@pytest.mark.parametrize(
    ("score", "band"),
    [(0, "red"), (50, "red"), (50.5, "yellow"), (51, "yellow"), (75, "yellow"),
     (76, "green"), (100, "green")],
)
def test_band_boundaries(score, band):
    assert band_of(score, BANDS) == band


def test_per_segment_bands():
    per_segment = {"default": BANDS, "Enterprise": {"red": 60, "yellow": 80, "green": 100}}
    scores = pd.Series([55.0, 55.0, 78.0, 78.0], index=["e1", "s1", "e2", "s2"])
    segments = pd.Series(["Enterprise", "SMB", "Enterprise", None],
                         index=["e1", "s1", "e2", "s2"])
    bands = health_bands(scores, per_segment, segments)
    assert bands.to_dict() == {"e1": "red", "s1": "yellow", "e2": "yellow", "s2": "green"}


def test_per_segment_bands_in_scorecard(tables):
    t = dict(tables)
    t["accounts"] = tables["accounts"].assign(segment=["Enterprise", "SMB"])
    strict = {"default": BANDS, "Enterprise": {"red": 70, "yellow": 85, "green": 100}}
    out = _score(t, bands=strict)
    assert out.loc["H1", "health_band"] == "red"  # 66.5 <= 70 for Enterprise
    assert out.loc["H2", "health_band"] == "green"


def test_per_segment_bands_need_default():
    with pytest.raises(ParamsError):
        health_bands(pd.Series([1.0]), {"Enterprise": BANDS})


# ----------------------------------------------------------------------------- flags
@pytest.fixture
def relationships() -> dict[str, pd.DataFrame]:
    accounts = _accounts([
        # renewal in 46 days, last exec touch 29 days ago, 1 strong exec (enterprise needs 2)
        {"account_id": "R1", "segment": "Enterprise", "renewal_date": "2025-08-15"},
        # renewal in 15 days, exec touched 10 days ago, 2 strong execs
        {"account_id": "R2", "segment": "Enterprise", "renewal_date": "2025-07-15"},
        # renewal far off; depth 9/10 but no user relationships
        {"account_id": "R3", "renewal_date": "2026-03-01"},
        # no exec at all; users fell 20 -> 10 and last user touch 60 days ago
        {"account_id": "R4", "renewal_date": "2026-03-01"},
        # renewal in 10 days, exec touched exactly 15 days ago; users fell, touched 10 days ago
        {"account_id": "R5", "renewal_date": "2025-07-10"},
        # no usage data at all
        {"account_id": "R6", "renewal_date": "2026-03-01"},
    ])
    contacts = pd.DataFrame(
        [("c1", "R1", "executive", "director", "strong"),
         ("c1b", "R1", "executive", "manager", "strong"),   # below director: not an exec
         ("c2", "R2", "executive", "vp", "strong"),
         ("c3", "R2", "executive", "c_level", "strong"),
         ("c2u", "R2", "user", "individual", "strong"),
         ("c4", "R3", "executive", "director", "strong"),
         ("c4u", "R3", "user", "individual", "weak"),
         ("c5", "R4", "user", "individual", "strong"),
         ("c6", "R5", "executive", "vp", "strong"),
         ("c6u", "R5", "champion", "manager", "strong"),
         ("c7", "R6", "executive", "director", "strong")],
        columns=["contact_id", "account_id", "role", "seniority", "relationship_strength"],
    )
    touches = pd.DataFrame(
        [("R1", "c1", "2025-06-01"),
         ("R1", "c1", "2025-07-05"),    # after as_of: ignored
         ("R1", None, "2025-06-29"),    # no contact: cannot be attributed
         ("R2", "c2", "2025-06-20"),
         ("R4", "c5", "2025-05-01"),
         ("R5", "c6", "2025-06-15"),
         ("R5", "c6u", "2025-06-20")],
        columns=["account_id", "contact_id", "date"],
    )
    touches["date"] = pd.to_datetime(touches["date"])
    touches["type"] = "call"
    months = pd.to_datetime(["2025-03-01", "2025-06-01"])
    usage = pd.DataFrame({
        "account_id": ["R1", "R1", "R2", "R2", "R3", "R3", "R4", "R4", "R5", "R5"],
        "month": list(months) * 5,
        "active_users": [5, 5, 5, 5, 9, 9, 20, 10, 20, 10],
        "licensed_seats": [10, 10, 10, 10, 10, 10, 40, 40, 40, 40],
        "key_actions": 0,
    })
    return {"accounts": accounts, "contacts": contacts, "touches": touches, "usage": usage}


def test_relationship_metrics(relationships):
    r = relationships
    out = relationship_flags(r["accounts"], r["contacts"], r["touches"], r["usage"], as_of=AS_OF,
                             **FLAG_THRESHOLDS)
    assert out.loc["R1", "strong_exec_relationships"] == 1
    assert out.loc["R2", "strong_exec_relationships"] == 2
    assert out.loc["R5", "strong_user_relationships"] == 1  # champion counts as a user
    assert out.loc["R3", "strong_user_relationships"] == 0
    assert out.loc["R1", "days_since_exec_contact"] == 29  # June 1 -> June 30
    assert out.loc["R2", "days_since_exec_contact"] == 10
    assert out.loc["R4", "days_since_user_contact"] == 60  # May 1 -> June 30
    assert pd.isna(out.loc["R3", "days_since_exec_contact"])


def test_each_relationship_flag(relationships):
    r = relationships
    out = relationship_flags(r["accounts"], r["contacts"], r["touches"], r["usage"], as_of=AS_OF,
                             **FLAG_THRESHOLDS)
    flagged = {c: sorted(out.index[out[c].fillna(False).astype(bool)])
               for c in out if c.startswith("flag_")}
    assert flagged == {
        "flag_renewal_no_exec": ["R1"],         # R2 10 days, R5 exactly 15 days: contacted
        "flag_single_threaded": ["R1", "R4"],  # R1 enterprise with 1; R4 SMB with 0
        "flag_adoption_no_users": ["R3"],
        "flag_drop_no_user_contact": ["R4"],   # R5 fell too but users touched 10 days ago
    }
    # without usage data the usage-based flags are unknown, not False
    assert pd.isna(out.loc["R6", "flag_adoption_no_users"])
    assert pd.isna(out.loc["R6", "flag_drop_no_user_contact"])
    assert out.loc["R1", "flags"] == 2


def test_flags_without_usage_table(relationships):
    r = relationships
    out = relationship_flags(r["accounts"], r["contacts"], r["touches"], None, as_of=AS_OF,
                             **FLAG_THRESHOLDS)
    # adoption unknown: unknown where there is no strong user relationship, else False
    adoption = out["flag_adoption_no_users"]
    assert sorted(out.index[adoption.isna()]) == ["R1", "R3", "R6"]
    assert not adoption.dropna().any()
    # the drop is unknown, but R5 (user touched 10 days ago) is decided: False
    assert out.loc["R5", "flag_drop_no_user_contact"] == False  # noqa: E712 (not NA)
    assert pd.isna(out.loc["R4", "flag_drop_no_user_contact"])
    assert sorted(out.index[out["flag_single_threaded"]]) == ["R1", "R4"]


# ----------------------------------------------------------------------------- outcomes
def test_band_outcomes_rates():
    bands = pd.Series(["red"] * 4 + ["yellow"] * 4 + ["green"] * 2,
                      index=[f"B{i}" for i in range(10)])
    outcomes = pd.Series(
        ["churned", "churned", "churned", "renewed",     # red: 3 of 4 churn
         "churned", "downgraded", "renewed", "renewed",  # yellow: 1 of 4
         "renewed", "renewed"],                         # green: 0 of 2
        index=bands.index)
    out = band_outcomes(bands, outcomes, small_group_n=30)
    assert list(out.index) == ["red", "yellow", "green", "total"]
    assert out["n"].tolist() == [4, 4, 2, 10]
    assert out["churn_rate"].tolist() == pytest.approx([0.75, 0.25, 0.0, 0.4])
    assert out["renewal_rate"].tolist() == pytest.approx([0.25, 0.75, 1.0, 0.6])
    assert out.loc["yellow", "downgraded"] == 1
    assert out["small_sample"].all()


def test_band_outcomes_accepts_booleans():
    bands = pd.Series(["red", "red", "green"], index=["a", "b", "c"])
    out = band_outcomes(bands, pd.Series([False, True, True], index=["a", "b", "c"]),
                        small_group_n=30)
    assert out.loc["red", "churn_rate"] == pytest.approx(0.5)
    assert out.loc["green", "renewal_rate"] == pytest.approx(1.0)


def test_mixed_bands_use_plain_bounds_as_default():
    # what layered params give when a client adds a segment to the shared default bounds
    mixed = {**BANDS, "Enterprise": {"red": 60, "yellow": 80, "green": 100}}
    scores = pd.Series([55.0, 55.0], index=["e", "s"])
    out = health_bands(scores, mixed, pd.Series(["Enterprise", "SMB"], index=["e", "s"]))
    assert out.to_dict() == {"e": "red", "s": "yellow"}


# ----------------------------------------------------------------------------- summaries
@pytest.fixture
def scored() -> pd.DataFrame:
    ids = ["s1", "s2", "s3", "e1", "e2", "x"]
    contrib = {f"contrib_{m}": 10.0 for m in HEALTH_MEASURES}
    out = pd.DataFrame({
        "segment": ["SMB", "SMB", "SMB", "Enterprise", "Enterprise", "SMB"],
        "health_score": [40.0, 60.0, 90.0, 30.0, 45.0, None],
        "health_band": ["red", "yellow", "green", "red", "red", None],
        "measures_used": ["usage,nps", "usage", "usage", "usage,nps,products", "usage", ""],
        **contrib,
    }, index=pd.Index(ids, name="account_id"))
    return out


def test_band_mix_by_hand(scored):
    mrr = pd.Series([100.0, 200.0, 300.0, 1000.0, 2000.0, 50.0], index=scored.index)
    mix = band_mix(scored, mrr=mrr)
    # the unscored account is left out; the largest group first, then All
    assert list(mix.index) == ["SMB", "Enterprise", "All"]
    assert mix["accounts"].tolist() == [3, 2, 5]
    assert mix[["n_red", "n_yellow", "n_green"]].to_numpy().tolist() == [
        [1, 1, 1], [2, 0, 0], [3, 1, 1]]
    assert mix.loc["Enterprise", "share_red"] == pytest.approx(1.0)
    assert mix.loc["All", "share_red"] == pytest.approx(0.6)
    assert mix.loc["All", "mrr_red"] == pytest.approx(100 + 1000 + 2000)
    assert mix.loc["SMB", "mrr_green"] == pytest.approx(300)


def test_health_examples_prefer_measures_then_segments(scored):
    mrr = pd.Series([100.0, 200.0, 300.0, 1000.0, 2000.0, 50.0], index=scored.index)
    ex = health_examples(scored, mrr, per_band=2)
    # red: e1 (3 measures) first, then the best other segment (s1, 2 measures) before e2;
    # shown by MRR within the band; yellow and green have one account each
    assert list(ex.index) == ["e1", "s1", "s2", "s3"]
    assert ex.loc["e1", "mrr"] == 1000.0


def test_flag_summary_and_accounts_at_risk(relationships):
    r = dict(relationships)
    r["accounts"] = r["accounts"].assign(owner=["Kim", "Kim", "Lee", "Lee", "Ann", None],
                                         name=[f"N{i}" for i in range(1, 7)])
    flags = relationship_flags(r["accounts"], r["contacts"], r["touches"], r["usage"],
                               as_of=AS_OF, **FLAG_THRESHOLDS)
    mrr = pd.Series([100.0, 200.0, 300.0, 400.0, 500.0, 600.0], index=list(flags.index))
    s = flag_summary(flags, r["accounts"], mrr)
    assert list(s.index) == [c for c in FLAG_COLUMNS if c in flags]  # no triggers: four
    # single-threaded: R1 (Kim, 100) and R4 (Lee, 400); ties by owner name
    assert s.loc["flag_single_threaded", "accounts"] == 2
    assert s.loc["flag_single_threaded", "mrr"] == pytest.approx(500.0)
    assert s.loc["flag_single_threaded", "share_mrr"] == pytest.approx(500 / 2100)
    assert s.loc["flag_single_threaded", "owners"] == "Kim (1), Lee (1)"
    assert s.loc["flag_adoption_no_users", "undecided"] == 1  # R6 has no usage
    one = flag_summary(flags, r["accounts"], mrr, top_owners=1)
    assert one.loc["flag_drop_no_user_contact", "owners"] == "Lee (1)"
    risk = accounts_at_risk(flags, r["accounts"], mrr)
    # flagged: R1 (2 flags), R3 (1), R4 (2): largest MRR first
    assert list(risk.index) == ["R4", "R3", "R1"]
    assert risk.loc["R4", "owner"] == "Lee" and risk.loc["R4", "name"] == "N4"
    assert list(accounts_at_risk(flags, r["accounts"], mrr, min_flags=2).index) == ["R4", "R1"]


def test_champion_left_without_executive_contact_flag(relationships):
    r = relationships
    trig = pd.DataFrame(
        [("R1", "2025-05-15", "champion_left"),   # exec touched 2025-06-01, after it: no flag
         ("R2", "2025-06-25", "champion_left"),   # last exec touch 2025-06-20, before: flag
         ("R3", "2024-06-01", "champion_left"),   # older than 180 days: no flag
         ("R4", AS_OF, "champion_left"),          # on the as-of date, no exec ever: flag
         ("R5", "2025-06-01", "funding"),         # another type: no flag
         ("R6", "2025-07-10", "champion_left")],  # after the as-of date: no flag
        columns=["account_id", "date", "type"])
    trig["date"] = pd.to_datetime(trig["date"])
    out = relationship_flags(r["accounts"], r["contacts"], r["touches"], r["usage"],
                             as_of=AS_OF, triggers=trig, champion_days=180, **FLAG_THRESHOLDS)
    flagged = sorted(out.index[out["flag_champion_left_no_exec"].fillna(False).astype(bool)])
    assert flagged == ["R2", "R4"]
    assert out.loc["R4", "flags"] == 3  # single-threaded, usage drop and champion left
    plain = relationship_flags(r["accounts"], r["contacts"], r["touches"], r["usage"],
                               as_of=AS_OF, **FLAG_THRESHOLDS)
    assert "flag_champion_left_no_exec" not in plain
