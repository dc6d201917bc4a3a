"""Churn by variable and by value tier on the headline's basis (issue 18).

The population is the base of the trailing window (accounts paying in the month before it),
churned = not paying in the as-of month, every band measured at the base date; accounts not
yet at their first renewal are left out and counted; the family of tests is Holm-corrected.
Expected values are computed here with plain pandas, scipy and by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from playbook import metrics
from playbook.analyses import reasons, segments
from playbook.analyses import variables as v
from playbook.findings import revenue as story
from playbook.findings import segments as segment_story

AS_OF = pd.Timestamp("2024-12-31")
BASE_DAY = pd.Timestamp("2023-12-31")  # end of the base month of the trailing 12 months


def accounts_frame(rows: list[dict]) -> pd.DataFrame:
    """Canonical accounts columns the cuts read, blank where a test does not set them."""
    acc = pd.DataFrame(rows)
    for col in ("size_band", "employees", "products", "industry", "owner", "region",
                "segment", "contract_term_months"):
        if col not in acc:
            acc[col] = None
    acc["start_date"] = pd.to_datetime(acc["start_date"])
    acc["churn_date"] = pd.to_datetime(acc.get("churn_date"))
    return acc


def mrr_rows(aid: str, start: pd.Timestamp, left: pd.Timestamp | None, fee: float,
             until: pd.Timestamp = AS_OF) -> list[dict]:
    """Monthly MRR from the start month up to the month before the churn month."""
    last = until if left is None else left.to_period("M").to_timestamp() - pd.DateOffset(days=1)
    months = pd.date_range(start.to_period("M").to_timestamp(), last, freq="MS")
    return [{"account_id": aid, "month": m, "mrr": fee} for m in months]


def annual_book(n_months: int = 72) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Annual contracts started every month from Jan 2019 to Dec 2024, 4 a month. Churn
    happens only at a renewal (an anniversary of the start): every account with an even
    number churns at its first anniversary in 2024. So churn does not depend on tenure;
    an account started in 2024 cannot churn before its first renewal, after the window."""
    accounts, mrr = [], []
    for m in range(n_months):
        start = pd.Timestamp("2019-01-10") + pd.DateOffset(months=m)
        for k in range(4):
            aid = f"A{m:02d}{k}"
            left = None
            anniversary = start + pd.DateOffset(years=2024 - start.year)
            if k % 2 == 0 and start.year < 2024:
                left = anniversary
            accounts.append({"account_id": aid, "start_date": start, "churn_date": left,
                             "products": 1 + k % 3})
            mrr += mrr_rows(aid, start, left, 100.0 + 10 * k)
    return accounts_frame(accounts), pd.DataFrame(mrr)


def base_of(accounts: pd.DataFrame, mrr: pd.DataFrame, months: int = 12,
            term_months: int = 12) -> tuple[pd.DataFrame, metrics.RetentionWindow]:
    window = metrics.retention_window(mrr, AS_OF, months)
    cohort = metrics.retention_cohort(mrr, window)
    return v.base_accounts(accounts, cohort, window, term_months=term_months,
                           variables=None), window


def tenure_band_by_hand(months: pd.Series) -> pd.Series:
    return pd.Series(np.select(
        [months < 6, months < 12, months < 24, months < 36], ["< 6 months", "6-12 months",
                                                             "1-2 years", "2-3 years"],
        "3+ years"), index=months.index)


# ----------------------------------------------------------------------------- tenure


def test_tenure_is_banded_at_the_base_date_so_young_accounts_do_not_look_loyal():
    accounts, mrr = annual_book()
    # the old grouping (issue 18): accounts started by the end and not churned before the
    # window, leavers banded at their exit and stayers at the end; "< 6 months" then holds
    # accounts signed in the last 6 months, which cannot churn before their first renewal
    at_risk = accounts[(accounts["start_date"] <= AS_OF)
                       & ~(accounts["churn_date"] < AS_OF - pd.DateOffset(months=12))].copy()
    exit_or_end = at_risk["churn_date"].fillna(AS_OF)
    old = tenure_band_by_hand((exit_or_end - at_risk["start_date"]).dt.days / 30.4375)
    churned_old = at_risk["churn_date"].notna()
    assert churned_old.groupby(old).mean()["< 6 months"] == 0.0  # the artefact

    base, _ = base_of(accounts, mrr)
    # independent: accounts paying in Dec 2023, tenure at 31 Dec 2023, churned in 2024
    paying = mrr[(mrr["month"] == "2023-12-01") & (mrr["mrr"] > 0)]["account_id"]
    expected = accounts[accounts["account_id"].isin(paying)].set_index("account_id")
    expected_band = tenure_band_by_hand((BASE_DAY - expected["start_date"]).dt.days / 30.4375)
    expected_rate = expected["churn_date"].notna().groupby(expected_band).mean()
    table = reasons.churn_by_variable(base, "tenure_band", churned="churned", small_n=5)
    assert table["rate"].to_dict() == pytest.approx(expected_rate.to_dict())
    assert table.loc["< 6 months", "rate"] == pytest.approx(0.5)  # every band churns half
    assert table["n"].sum() == len(expected)
    test = reasons.association_test(table)
    assert not test["significant"]  # no tenure effect was planted


# ----------------------------------------------------------------------------- first renewal


def test_accounts_not_yet_at_their_first_renewal_are_left_out_and_counted():
    """History from Jan 2024 only: the window shortens to 11 months (base Jan 2024). An
    annual account started in Jan 2024 renews in Jan 2025, a two-year one started in mid-2023
    in mid-2025: neither can leave at a renewal inside the window. A month-to-month account
    started in Jan 2024 and an annual one started in 2023 can."""
    until = pd.Timestamp("2024-01-01")
    rows = [
        ("annual_new", "2024-01-05", None, None, None),
        ("two_year", "2023-06-20", None, 24, None),
        ("monthly", "2024-01-03", "2024-05-03", 1, None),
        ("annual_old", "2023-02-01", "2024-02-01", None, None),
        ("annual_stays", "2023-03-01", None, None, None),
    ]
    accounts = accounts_frame([{"account_id": a, "start_date": s, "churn_date": c,
                                "contract_term_months": t} for a, s, c, t, _ in rows])
    mrr = pd.DataFrame([r for a, s, c, _, _ in rows
                        for r in mrr_rows(a, max(pd.Timestamp(s), until),
                                          None if c is None else pd.Timestamp(c), 100.0)])
    base, window = base_of(accounts, mrr)
    assert window.label == "trailing 11 months" and window.base_month == until
    assert base["not_yet_renewing"].to_dict() == {
        "annual_new": True, "two_year": True, "monthly": False, "annual_old": False,
        "annual_stays": False}
    basis = v.churn_basis(window, base, 2 / 5, from_mrr=True)
    assert (basis["base_accounts"], basis["left_out"], basis["accounts"],
            basis["churned"]) == (5, 2, 3, 2)
    assert basis["overall"] == pytest.approx(2 / 3)
    note = story.basis_note(basis)
    assert "2 accounts not yet at their first renewal" in note
    assert "66.7% against 40.0% logo churn for the whole base" in note
    cuts = {"tenure": {"table": reasons.churn_by_variable(
        base[~base["not_yet_renewing"]], "tenure_band", churned="churned", small_n=1),
        "test": {"p_value": 0.5, "p_adjusted": 0.5, "family_size": 1}}}
    spec = story.variables_table(cuts, basis)
    assert "trailing 11 months" in spec.subtitle and "12 months" not in spec.subtitle
    assert "2 accounts not yet at their first renewal" in spec.notes


def test_first_renewal_uses_the_params_term_where_the_account_has_none():
    acc = accounts_frame([{"account_id": "a", "start_date": "2024-03-01"},
                          {"account_id": "b", "start_date": "2024-03-01",
                           "contract_term_months": 6}])
    later = v.first_renewal_after(acc, AS_OF, term_months=12)
    assert later.tolist() == [True, False]  # Mar 2025 is after the end; Sep 2024 is not
    assert v.first_renewal_after(acc, AS_OF, term_months=1).tolist() == [False, False]


# ----------------------------------------------------------------------------- overall


def test_overall_rate_of_every_cut_is_the_cohort_logo_churn():
    accounts, mrr = annual_book()
    base, window = base_of(accounts, mrr)
    assert not base["not_yet_renewing"].any()  # annual terms, a 12-month window
    then = mrr[(mrr["month"] == "2023-12-01") & (mrr["mrr"] > 0)]["account_id"]
    now = mrr[(mrr["month"] == "2024-12-01") & (mrr["mrr"] > 0)]["account_id"]
    expected = (~then.isin(now)).mean()  # independent cohort logo churn
    assert expected == pytest.approx(0.5)  # the even-numbered half of the base
    head = metrics.headline_metrics(mrr, window)
    basis = v.churn_basis(window, base, head["logo_churn"], from_mrr=True)
    assert basis["overall"] == pytest.approx(expected) == head["logo_churn"]
    for column in ("tenure_band", "products_band", "value_band"):
        table = reasons.churn_by_variable(base, column, churned="churned", small_n=5)
        assert table["churned"].sum() / table["n"].sum() == pytest.approx(expected)


# ----------------------------------------------------------------------------- Holm


def test_holm_adjustment_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 (m = 4): 4 x 0.005 = 0.02, 3 x 0.01 = 0.03,
    # 2 x 0.03 = 0.06, 1 x 0.04 = 0.04 -> kept monotone: 0.06; NaN is not in the family
    got = reasons.holm_adjust([0.01, 0.04, float("nan"), 0.03, 0.005])
    assert got[[0, 1, 3, 4]].tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert np.isnan(got[2])
    # 2 x 0.2 = 0.4, then 1 x 0.3 = 0.3 -> 0.4 (never below an earlier step); 2 x 0.6 -> 1
    assert reasons.holm_adjust([0.3, 0.2]).tolist() == pytest.approx([0.4, 0.4])
    assert reasons.holm_adjust([0.6, 0.9]).tolist() == pytest.approx([1.0, 1.0])
    assert reasons.holm_adjust([]).tolist() == []


def planted_cuts(seed: int = 3, n: int = 1500) -> tuple[pd.DataFrame, dict]:
    """One real effect (churn 10% in A, 22% in B) and nine variables of pure noise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"real": rng.choice(["A", "B"], n)})
    frame["churned"] = rng.random(n) < np.where(frame["real"] == "A", 0.10, 0.22)
    for k in range(9):
        frame[f"noise {k}"] = rng.choice(["x", "y", "z"], n)
    tables = {c: reasons.churn_by_variable(frame, c, churned="churned", small_n=30)
              for c in frame.columns if c != "churned"}
    return frame, tables


def test_noise_is_not_called_a_difference_after_holm():
    frame, tables = planted_cuts()
    raw = {c: stats.chi2_contingency(pd.crosstab(frame[c], frame["churned"]).to_numpy(),
                                     correction=False).pvalue for c in tables if c != "real"}
    raw["real"] = stats.fisher_exact(pd.crosstab(frame["real"], frame["churned"])).pvalue
    noisy = [c for c in raw if c != "real" and raw[c] < 0.05]
    assert noisy == ["noise 8"]  # the fixture has one noise variable "significant" raw
    # Holm by hand: the i-th smallest p times (m - i + 1), running maximum
    order = sorted(raw, key=raw.get)
    by_hand, running = {}, 0.0
    for i, c in enumerate(order):
        running = max(running, min(1.0, (len(order) - i) * raw[c]))
        by_hand[c] = running

    tests = reasons.correct_for_multiple_tests(
        {c: reasons.association_test(t) for c, t in tables.items()})
    for c, test in tests.items():
        assert test["p_value"] == pytest.approx(raw[c])
        assert test["p_adjusted"] == pytest.approx(by_hand[c])
        assert test["family_size"] == 10 and test["correction"] == "holm"
    assert tests["noise 8"]["significant_raw"] and not tests["noise 8"]["significant"]
    assert [c for c, t in tests.items() if t["significant"]] == ["real"]

    cuts = {c: {"table": tables[c], "test": tests[c]} for c in tables}
    table, title = story.variables_summary(cuts)
    assert title == "Churn differs significantly by 1 of 10 variables: real"
    row = table.set_index("variable").loc["noise 8"]
    assert row["verdict"] == "no significant difference"
    assert float(row["p raw"]) < 0.05 <= float(row["p Holm"])
    assert [label for label, _ in story.strongest_differences(cuts)] == ["real"]
    basis = {"label": "trailing 12 months", "base_month": "2023-12-01",
             "end_month": "2024-12-01", "left_out": 0}
    assert "p-values adjusted for 10 tests (Holm)" in story.variables_table(cuts, basis).notes
    chart = story.churn_by_variable(tables["real"], "real", tests["real"],
                                    {**basis, "overall": frame["churned"].mean()})
    assert "adjusted for 10 tests (Holm)" in chart.notes


def test_a_lone_judged_group_is_not_both_highest_and_lowest():
    t = pd.DataFrame({"n": [50, 5], "churned": [10, 1], "rate": [0.2, 0.2],
                      "too_small": [False, True]}, index=pd.Index(["US", "CA"], name="region"))
    table, _ = story.variables_summary({"region": {"table": t, "test": {"p_value": 0.9}}})
    assert table.loc[0, "highest"] == "US (20%)" and table.loc[0, "lowest"] == "–"


# ----------------------------------------------------------------------------- value tiers


def tier_book() -> tuple[pd.DataFrame, pd.DataFrame]:
    """12 accounts paying in Dec 2023 at 100..1200 a month; the odd ones leave in 2024, two
    of the stayers shrink. ``A11`` contradicts itself: the accounts table says it churned in
    2022, yet it pays in Dec 2023 (it must still be tiered with the base). ``NEW`` starts in
    2024 (not in the base)."""
    accounts, mrr = [], []
    for i in range(12):
        aid, fee = f"A{i:02d}", 100.0 * (i + 1)
        left = pd.Timestamp("2024-06-15") if i % 2 else None
        start = pd.Timestamp("2022-01-01")
        accounts.append({"account_id": aid, "start_date": start,
                         "churn_date": pd.Timestamp("2022-05-01") if i == 11 else left,
                         "products": 1})
        rows = mrr_rows(aid, start, left, fee)
        if i in (2, 4):  # contraction: half the MRR from Jul 2024
            rows = [{**r, "mrr": fee / 2 if r["month"] >= pd.Timestamp("2024-07-01")
                     else fee} for r in rows]
        mrr += rows
    accounts.append({"account_id": "NEW", "start_date": pd.Timestamp("2024-03-01"),
                     "churn_date": None, "products": 1})
    mrr += mrr_rows("NEW", pd.Timestamp("2024-03-01"), None, 5000.0)
    return accounts_frame(accounts), pd.DataFrame(mrr)


def test_tier_churn_weights_to_the_headline_logo_churn_and_base_mrr():
    accounts, mrr = tier_book()
    window = metrics.retention_window(mrr, AS_OF, 12)
    base = metrics.retention_cohort(mrr, window)
    scores = segments.value_scores(accounts, as_of=BASE_DAY, ids=base.index,
                                   weights={"contract_value": 1.0}, mrr=mrr)
    assert scores["value_score"].notna().all()  # A11 scored though the table says churned
    tiers = segments.value_tiers(scores, shares={"high": 0.25, "medium": 0.25, "low": 0.5})
    out = segments.tier_concentration(accounts, tiers, churned=base["churned"],
                                      mrr=base["mrr_then"],
                                      lost=base["mrr_then"] - base["capped"], small_group_n=2)
    # independent figures of the base (Dec 2023 -> Dec 2024)
    then = mrr[mrr["month"] == "2023-12-01"].set_index("account_id")["mrr"]
    now = mrr[mrr["month"] == "2024-12-01"].set_index("account_id")["mrr"].reindex(
        then.index, fill_value=0.0)
    assert out["accounts"].sum() == len(then) == 12
    assert out["mrr"].sum() == pytest.approx(then.sum())  # 7,800: NEW is not in the base
    assert (out["churned_accounts"].sum() / out["accounts"].sum()
            == pytest.approx((now == 0).mean()) == pytest.approx(0.5))
    gross_lost = (then - np.minimum(now, then)).sum()  # 6 leavers + two halves (150 + 250)
    assert gross_lost == pytest.approx(sum(100.0 * (i + 1) for i in range(1, 12, 2)) + 400)
    assert out["mrr_lost"].sum() == pytest.approx(gross_lost)
    # top tier = the 3 largest of the base: A09 (1000, leaves), A10 (1100), A11 (1200, leaves)
    assert out.loc["high", "accounts"] == 3 and out.loc["high", "churned_accounts"] == 2
    assert out.loc["high", "mrr_lost"] == pytest.approx(2200.0)


def test_tier_table_says_its_basis_and_window():
    conc = pd.DataFrame({"accounts": [3, 9], "share_accounts": [0.25, 0.75],
                         "mrr": [3300.0, 4500.0], "share_mrr": [0.42, 0.58],
                         "churned_accounts": [2, 4], "churn_rate": [2 / 3, 4 / 9],
                         "mrr_lost": [2200.0, 1600.0],
                         "share_mrr_lost": [0.58, 0.42], "small_sample": [True, True]},
                        index=pd.Index(["high", "low"], name="tier"))
    basis = {"label": "trailing 11 months", "base_month": pd.Timestamp("2024-01-01"),
             "end_month": pd.Timestamp("2024-12-01"), "unscored": 0}
    spec = segment_story.tier_table(conc, "USD", basis)
    assert spec.subtitle == ("Accounts, MRR and churn per value tier (tiers as of Jan 2024), "
                             "trailing 11 months")
    assert "accounts paying in Jan 2024" in spec.notes and "1 - GRR" in spec.notes
    assert "churn events" not in spec.notes
    quiet = conc.assign(share_mrr_lost=0.0)
    assert segment_story.tier_leak_title(quiet, "trailing 11 months") == (
        "No MRR was lost in any value tier over the trailing 11 months")


# ----------------------------------------------------------------------------- stability


def test_tier_stability_needs_value_inputs_dated_at_the_comparison_date():
    day = pd.Timestamp("2024-06-30")
    mrr = pd.DataFrame({"account_id": ["a"], "month": [pd.Timestamp("2024-01-01")],
                        "mrr": [10.0]})
    late_usage = pd.DataFrame({"account_id": ["a"], "month": [pd.Timestamp("2024-08-01")]})
    inputs = pd.DataFrame({"account_id": ["a"], "date": [pd.Timestamp("2024-03-01")]})
    assert segments.value_history_gaps(day, mrr=mrr, usage=None, csm_inputs=inputs) == []
    assert segments.value_history_gaps(day, mrr=mrr, usage=late_usage,
                                       csm_inputs=inputs) == ["usage"]
    assert segments.value_history_gaps(day, mrr=mrr.iloc[:0], usage=late_usage) == [
        "mrr", "usage"]
    line = segment_story.stability_unavailable(["mrr", "usage"], day)
    assert line.startswith("Tier stability is not shown: the MRR history and usage start "
                           "after 30 Jun 2024")
    assert "stable" not in line.replace("stability", "")


def test_tier_leak_title_quotes_no_rate_for_a_tier_too_small_to_judge():
    conc = pd.DataFrame({"accounts": [28, 256], "churned_accounts": [13, 45],
                         "churn_rate": [13 / 28, 45 / 256], "share_mrr_lost": [0.42, 0.58],
                         "small_sample": [True, False]},
                        index=pd.Index(["high", "low"], name="tier"))
    assert segment_story.tier_leak_title(conc, "trailing 12 months") == (
        "Most lost MRR comes from the low tier: 58% of it, with 18% of those accounts churning")
    small = conc.assign(share_mrr_lost=[0.58, 0.42])
    assert segment_story.tier_leak_title(small, "trailing 12 months") == (
        "Most lost MRR comes from the high tier: 58% of it; 13 of its 28 accounts left")


def test_lost_mrr_of_churned_accounts_without_mrr_is_unknown_not_zero():
    """A CRM export without MRR (the HubSpot shape): six accounts left, none with an MRR.
    The tiers' lost MRR is unknown, not $0, and the title speaks of logo churn instead of
    saying no MRR was lost."""
    accounts = pd.DataFrame({"account_id": [f"H{i}" for i in range(8)],
                             "start_date": pd.Timestamp("2022-01-01"), "churn_date": pd.NaT,
                             "status": "active", "mrr": np.nan, "arr": np.nan})
    tiers = pd.Series(pd.Categorical(["high", "high", "low", "low", "low", "low", "low",
                                      "low"], categories=["high", "low"]),
                      index=pd.Index(accounts["account_id"], name="account_id"),
                      name="value_tier")
    churned = pd.Series([False, False, True, True, True, False, False, False],
                        index=tiers.index)
    out = segments.tier_concentration(accounts, tiers, churned=churned,
                                      mrr=pd.Series(np.nan, index=tiers.index),
                                      small_group_n=30)
    assert out.loc["low", "churned_accounts"] == 3 and np.isnan(out.loc["low", "mrr_lost"])
    assert out.loc["high", "mrr_lost"] == 0  # nobody left: nothing lost, known
    assert out["share_mrr_lost"].isna().all()
    assert segment_story.tier_leak_title(out, "trailing 12 months") == (
        "Logo churn is highest in the low tier: 3 of its 6 accounts left over the trailing "
        "12 months; the MRR they took is not recorded")
