"""Expansion candidates, their potential and the expansion model (playbook.analyses.expansion):
potential worked out by hand on a small book of accounts, the expansion share read from the
metrics layer, outcomes by hand, and a planted effect (seats nearly full: odds ratio 3)
recovered inside its interval on a synthetic client."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from playbook import metrics
from playbook.analyses import drivers
from playbook.analyses import expansion as ex
from playbook.analyses.account_state import accounts_as_billed
from playbook.errors import InsufficientDataError

AS_OF = pd.Timestamp("2025-03-31")
TIERS = ["high", "medium", "low"]

#: account: (MRR in Mar 2025, products, value tier, health band, licensed seats, active users)
BOOK = {
    "A1": (9000, 2, "high", "green", 100, 96),
    "A2": (1000, 1, "low", "green", 50, 40),
    "A3": (2000, 1, "low", "green", 10, 5),
    "A4": (3000, 1, "medium", "yellow", 20, 19),
    "A6": (5000, 2, "medium", "green", 200, 184),
}

OPTIONS = {"healthy_bands": ["green"], "min_utilisation": 0.7, "activity_quantile": 0.5,
           "seats_full_share": 0.9, "seat_target_utilisation": 0.8, "max_products": 0,
           "min_group_accounts": 1, "currency": "USD"}


def _book() -> dict:
    """A hand-sized client: five accounts paying in March 2025 and A5, which left in
    February (paid January only)."""
    ids = [*BOOK, "A5"]
    accounts = pd.DataFrame({
        "account_id": ids, "start_date": pd.Timestamp("2023-01-01"),
        "owner": "Kim", "products": [BOOK[a][1] for a in BOOK] + [2]})
    months = pd.date_range("2025-01-01", "2025-03-01", freq="MS")
    mrr = pd.DataFrame([{"account_id": a, "month": m, "mrr": float(BOOK[a][0])}
                        for a in BOOK for m in months]
                       + [{"account_id": "A5", "month": months[0], "mrr": 8000.0}])
    usage = pd.DataFrame([{"account_id": a, "month": months[-1], "licensed_seats": BOOK[a][4],
                           "active_users": BOOK[a][5], "key_actions": 10 * BOOK[a][5]}
                          for a in BOOK])
    health = pd.DataFrame({"health_band": [BOOK[a][3] for a in BOOK],
                           "health_score": [80.0] * len(BOOK)},
                          index=pd.Index(list(BOOK), name="account_id"))
    tiers = pd.Series(pd.Categorical([BOOK[a][2] for a in BOOK], categories=TIERS,
                                     ordered=True), index=health.index, name="value_tier")
    return {"accounts": accounts_as_billed(accounts, mrr, AS_OF), "mrr": mrr, "usage": usage,
            "health": health, "tiers": tiers}


def _candidates(book: dict, **changes) -> pd.DataFrame:
    args = {"as_of": AS_OF, "health": book["health"], "usage": book["usage"],
            "mrr": book["mrr"], "tiers": book["tiers"], **OPTIONS, **changes}
    return ex.expansion_candidates(book["accounts"], **args)


def test_candidates_and_their_potential_worked_out_by_hand():
    out = _candidates(_book())
    # A3 is not adopting (5 of 10 seats used), A4 not healthy (yellow), A5 left in February.
    assert list(out.index) == ["A2", "A1", "A6"]
    # A1: 96 of 100 seats used; 96 / 0.8 = 120 seats, so +20 at 9,000 / 100 = 90 a seat.
    # A2: one product of two. Active accounts with 1 product pay 1,000, 2,000, 3,000 (median
    # 2,000), with 2 products 9,000 and 5,000 (median 7,000; A5 has left): 5,000 a month.
    # A6: 184 of 200 used; 184 / 0.8 = 230, so +30 seats at 5,000 / 200 = 25 a seat.
    assert out["potential_mrr"].tolist() == pytest.approx([5000.0, 1800.0, 750.0])
    assert out["route"].tolist() == ["products", "seats", "seats"]
    assert out.loc["A1", "seats_to_add"] == 20 and out.loc["A6", "seats_to_add"] == 30
    assert out.loc["A1", "reason"] == "seats 96% used: +20 seats at $90 a seat"
    assert out.loc["A6", "reason"] == "seats 92% used: +30 seats at $25 a seat"
    assert out.loc["A2", "reason"] == ("owns 1 of 2 products: accounts with 2 pay $5.0K a "
                                       "month more (median)")
    # tier medians: high 9,000; medium (3,000, 5,000) 4,000; low (1,000, 2,000) 1,500.
    assert out.loc["A2", "tier_potential"] == pytest.approx(4000 - 1500)
    assert out.loc["A6", "tier_potential"] == pytest.approx(9000 - 4000)
    assert math.isnan(out.loc["A1", "tier_potential"])  # the top tier has no tier headroom
    assert out.attrs["screen"] == {"active": 5, "healthy": 4, "adopting": 3, "candidates": 3}


def test_the_first_route_is_chosen_not_the_largest():
    # A6's tier step (5,000) is larger than its seats (750): its own price per seat wins
    out = _candidates(_book())
    assert out.loc["A6", "tier_potential"] > out.loc["A6", "seat_potential"]
    assert out.loc["A6", "route"] == "seats"
    assert out.loc["A6", "potential_mrr"] == pytest.approx(750.0)


def test_product_step_is_taken_within_the_segment_when_it_can_be():
    book = _book()
    book["accounts"]["segment"] = ["Big", "Small", "Small", "Big", "Big", "Small"]
    # A2 (Small, 1 product): Small 1-product accounts A2, A3 (median 1,500), Small
    # 2-product: A6 is Big, A5 has left -> no Small group: the step falls back to all (5,000)
    out = _candidates(book)
    assert out.loc["A2", "product_potential"] == pytest.approx(5000.0)
    book["accounts"]["segment"] = ["Big", "Small", "Small", "Big", "Big", "Small"]
    book["accounts"].loc[book["accounts"]["account_id"] == "A6", "segment"] = "Small"
    # now Small 2-product: A6 5,000; Small 1-product: A2 1,000, A3 2,000 -> 5,000 - 1,500
    out = _candidates(book)
    assert out.loc["A2", "product_potential"] == pytest.approx(3500.0)
    assert out.loc["A2", "reason"].endswith("(median of Small accounts)")


def test_products_route_needs_enough_accounts_in_each_group():
    out = _candidates(_book(), min_group_accounts=3)
    # only one product group has 3 accounts, no tier has 3: only seats are priced
    assert list(out.index) == ["A1", "A6"]
    assert out["route"].eq("seats").all()


def test_accounts_without_seats_adopt_by_activity():
    book = _book()
    book["usage"].loc[book["usage"]["account_id"] == "A3", "licensed_seats"] = np.nan
    book["usage"].loc[book["usage"]["account_id"] == "A3", "key_actions"] = 10_000
    out = _candidates(book)
    # A3: no seats, but its key actions per user (2,000) are above the median: adopting, and
    # its products step (5,000) is its potential
    assert "A3" in out.index and out.loc["A3", "route"] == "products"


def test_a_client_without_usage_is_told_to_send_usage():
    with pytest.raises(InsufficientDataError, match="usage"):
        _candidates(_book(), usage=None)


def test_a_client_without_a_health_score_is_told_so():
    with pytest.raises(InsufficientDataError, match="health score"):
        _candidates(_book(), health=None)


def test_potential_by_tier_adds_up_by_hand():
    book = _book()
    out = ex.expansion_by_tier(_candidates(book), book["tiers"])
    assert list(out.index) == TIERS
    assert out["candidates"].tolist() == [1, 1, 1]
    assert out["potential_mrr"].tolist() == pytest.approx([1800.0, 750.0, 5000.0])
    assert out["share_of_potential"].tolist() == pytest.approx(
        [1800 / 7550, 750 / 7550, 5000 / 7550])


def test_expansion_share_is_the_metrics_layers_nrr_minus_grr():
    mrr = pd.DataFrame({"account_id": ["X", "X", "Y", "Y", "Z"],
                        "month": pd.to_datetime(["2025-01-01", "2025-02-01"] * 2
                                                + ["2025-01-01"]),
                        "mrr": [100.0, 150.0, 100.0, 80.0, 100.0]})
    window = metrics.retention_window(mrr, pd.Timestamp("2025-02-28"), 1)
    head = metrics.headline_metrics(mrr, window)
    head["withheld"] = {}
    got = ex.expansion_share_of_nrr(head)
    # base 300; now 150 + 80 + 0 = 230 (NRR 230/300); capped 100 + 80 = 180 (GRR 180/300)
    assert got["expansion_share"] == pytest.approx(50 / 300)
    assert got["expansion_mrr"] == pytest.approx(50.0)
    assert got["nrr"] - got["grr"] == pytest.approx(got["expansion_share"])
    head["withheld"] = {"nrr": {"reason": "the export contradicts itself", "fix": "resend"}}
    with pytest.raises(InsufficientDataError, match="contradicts"):
        ex.expansion_share_of_nrr(head)


def test_outcomes_and_cutoffs_by_hand():
    months = pd.date_range("2024-01-01", "2024-12-01", freq="MS")
    rows = []
    for i, m in enumerate(months):
        rows.append(("up", m, 100.0 if i < 9 else 111.0))    # +11% in Oct
        rows.append(("flat", m, 100.0 if i < 9 else 109.0))  # +9%: below the 10% bar
        if i < 8:
            rows.append(("gone", m, 100.0))                   # last paid Aug
        if i >= 7:
            rows.append(("new", m, 50.0))                     # first paid Aug
    mrr = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    cuts = ex.expansion_cutoffs(mrr, as_of="2024-12-31", horizon_months=6,
                                cutoff_every_months=3)
    # latest: Jul (Jul-Dec is the window), then Apr; Jan has no month before it in the data
    assert cuts == [pd.Timestamp("2024-04-01"), pd.Timestamp("2024-07-01")]
    out = ex.expansion_outcomes(mrr, cuts, horizon_months=6, min_rise_share=0.10)
    got = {(r.account_id, r.cutoff_date.month): (r.mrr_at_cutoff, r.peak_mrr_after, r.expanded)
           for r in out.itertuples()}
    assert got == {
        ("up", 4): (100.0, 100.0, 0), ("flat", 4): (100.0, 100.0, 0),
        ("gone", 4): (100.0, 100.0, 0),
        ("up", 7): (100.0, 111.0, 1), ("flat", 7): (100.0, 109.0, 0),
        ("gone", 7): (100.0, 100.0, 0),
    }  # "new" paid nothing in June, the month before the July cut-off: not a row


FEATURE_OPTIONS = {"usage_drop_share": 0.25, "low_nps": 6, "contact_days_cap": 180,
                   "nps_lookback_days": 180, "nps_no_answer": "own_level",
                   "sponsor_roles": ("executive",), "exec_by_seniority": False,
                   "final_onboarding_step": None, "variables": None}
PLANTED_OR = 3.0


def _planted_client(n: int = 2000, seed: int = 11) -> dict:
    """Accounts billed Jan-Dec 2024; at the July cut-off 40% have their seats nearly full
    (at least 90% used in June), and the odds of expanding (MRR +25% in a month of Jul-Dec)
    are PLANTED_OR times higher for them. Expanders also add seats when they expand, so a
    feature read after the cut-off would see it."""
    rng = np.random.default_rng(seed)
    ids = [f"P{i:04d}" for i in range(n)]
    seats = rng.integers(20, 200, n)
    full = rng.random(n) < 0.4
    share = np.where(full, rng.uniform(0.9, 1.0, n), rng.uniform(0.4, 0.88, n))
    active = np.floor(share * seats).astype(int)
    full = active / seats >= 0.9
    p = 1 / (1 + np.exp(-(-2.0 + math.log(PLANTED_OR) * full)))
    expands = rng.random(n) < p
    when = rng.integers(6, 12, n)  # month index of the rise: Jul (6) to Dec (11)
    accounts = pd.DataFrame({
        "account_id": ids, "status": "active",
        "start_date": pd.Timestamp("2020-01-01")
        + pd.to_timedelta(rng.integers(0, 1400, n), unit="D"),
        "segment": rng.choice(["SMB", "Mid-market"], n), "products": 1})
    months = pd.date_range("2024-01-01", "2024-12-01", freq="MS")
    mrr_rows, usage_rows = [], []
    for i, a in enumerate(ids):
        for k, m in enumerate(months):
            up = expands[i] and k >= when[i]
            mrr_rows.append((a, m, 30.0 * seats[i] * (1.25 if up else 1.0)))
            usage_rows.append((a, m, int(seats[i] * (1.25 if up else 1.0)), int(active[i])))
    mrr = pd.DataFrame(mrr_rows, columns=["account_id", "month", "mrr"])
    usage = pd.DataFrame(usage_rows, columns=["account_id", "month", "licensed_seats",
                                              "active_users"])
    return {"accounts": accounts, "mrr": mrr, "usage": usage, "full": full,
            "expands": expands}


@pytest.fixture(scope="module")
def planted():
    client = _planted_client()
    tables = {k: client[k] for k in ("accounts", "mrr", "usage")}
    table, report = ex.expansion_table(client["mrr"], tables, as_of="2024-12-31",
                                       horizon_months=6, cutoff_every_months=6,
                                       min_rise_share=0.10, seats_full_share=0.9,
                                       feature_options=FEATURE_OPTIONS)
    return client, table, report


def test_the_table_measures_features_at_the_cutoff_only(planted):
    client, table, report = planted
    assert report["cutoffs"] == [pd.Timestamp("2024-07-01")]
    assert len(table) == len(client["accounts"])
    by_id = table.set_index("account_id")
    ids = client["accounts"]["account_id"]
    # seats added with an expansion (from July) are not seen at the July cut-off
    assert (by_id.loc[ids, "seats_nearly_full"].to_numpy() == client["full"]).all()
    assert (by_id.loc[ids, "expanded"].to_numpy() == client["expands"]).all()


def test_planted_expansion_effect_is_recovered_inside_its_interval(planted):
    client, table, report = planted
    model = ex.fit_expansion_model(
        table, ["seats_nearly_full", "tenure_years", "segment", "log2_mrr_at_cutoff",
                "products"],
        folds=5, seed=7, min_expansions=20, units=report["units"],
        recorded_after=report["recorded_after_cutoff"])
    row = model.odds_ratios.loc["seats_nearly_full"]
    assert row["or_low"] < PLANTED_OR < row["or_high"]
    assert row["or_low"] > 1
    assert row["unit"] == "seats nearly full vs not"
    # products is today's count: never a feature of an expansion model
    assert "products" not in model.features and "products" in model.skipped
    assert model.n == len(table) and model.expansions == int(client["expands"].sum())
    assert model.auc_low <= model.auc <= model.auc_high and model.auc > 0.55
    assert len(model.auc_by_fold) == 5
    assert model.lift.iloc[0]["lift"] > 1.2 > model.lift.iloc[-1]["lift"]


def test_the_fit_without_marginal_effects_has_the_odds_ratios_of_a_full_fit(planted):
    """The expansion model reads odds ratios only, so it skips the marginal effects (issue
    22); the reference is the renewal model's fit with them, as it was called before."""
    _, table, report = planted
    features = ["seats_nearly_full", "tenure_years", "segment", "log2_mrr_at_cutoff"]
    model = ex.fit_expansion_model(table, features, folds=5, seed=7, min_expansions=20,
                                   units=report["units"],
                                   recorded_after=report["recorded_after_cutoff"])
    full = drivers.fit_renewal_model(table, features, outcome="expanded",
                                     units={**ex.EXPANSION_UNITS, **report["units"]},
                                     recorded_after=report["recorded_after_cutoff"])
    cols = ["feature", "unit", "odds_ratio", "or_low", "or_high", "p_value"]
    pd.testing.assert_frame_equal(model.odds_ratios, full.coefficients[cols])
    assert full.coefficients["ame"].notna().any()
    assert model.model.coefficients["ame"].isna().all()
    # the fit keeps no copy of its design matrix and outcome (what the renewal fit keeps):
    # the same odds ratios above, without the rows
    assert full.result.model.exog.shape[0] == len(table)
    assert model.model.result.model.exog is None and model.model.result.model.endog is None


def test_too_few_expansions_give_insufficient_data(planted):
    _, table, report = planted
    five = table.index[table["expanded"] == 1][:5]
    few = table[(table["expanded"] == 0) | table.index.isin(five)]
    with pytest.raises(InsufficientDataError, match="5 expansions"):
        ex.fit_expansion_model(few, ["seats_nearly_full"], folds=5, seed=7,
                               min_expansions=20, units=report["units"], recorded_after=None)


def test_a_history_too_short_for_a_window_gives_insufficient_data():
    client = _planted_client(n=20)
    short = client["mrr"][client["mrr"]["month"] <= "2024-05-01"]
    tables = {"accounts": client["accounts"], "mrr": short, "usage": client["usage"]}
    with pytest.raises(InsufficientDataError, match="MRR history is too short"):
        ex.expansion_table(short, tables, as_of="2024-05-31", horizon_months=6,
                           cutoff_every_months=6, min_rise_share=0.1, seats_full_share=0.9,
                           feature_options=FEATURE_OPTIONS)


def _reference_steps(frame: pd.DataFrame, tiers: pd.Series, max_products: int, min_n: int
                     ) -> tuple[pd.Series, pd.Series]:
    """The previous per-account lambdas of ``_product_steps`` (the overall step) and
    ``_tier_steps``, kept as the reference for the per-value lookups (issue 22)."""
    overall = ex._group_medians(frame["mrr"], frame["products"], min_n)
    product = frame["products"].map(
        lambda v: overall.get(v + 1, np.nan) - overall.get(v, np.nan)
        if pd.notna(v) else np.nan).astype(float)
    product = product.where(frame["products"] < ex._max_products(frame, max_products))
    order = list(tiers.dtype.categories)
    medians = ex._group_medians(frame["mrr"], frame["value_tier"].astype(object), min_n)
    up = {t: order[i - 1] for i, t in enumerate(order) if i > 0}
    tier = frame["value_tier"].astype(object).map(
        lambda t: medians.get(up.get(t), np.nan) - medians.get(t, np.nan)
        if t in up else np.nan).astype(float)
    return product, tier


@pytest.mark.parametrize("min_n", [1, 3, 5])
def test_product_and_tier_steps_equal_the_per_account_lambdas(min_n):
    n = 60
    # 4 high-tier accounts of which 3 pay: with min_n 5 high has no median, medium no step
    tier = ["high"] * 4 + ["medium"] * 28 + ["low"] * 28
    tiers = pd.Series(pd.Categorical(tier, categories=TIERS))
    frame = pd.DataFrame({
        "mrr": [[100.0, 250.0, 400.0, 0.0, np.nan][i % 5] for i in range(n)],
        "products": [[1.0, 2.0, 3.0, 4.0, np.nan][i % 5 if i % 7 else 0] for i in range(n)],
        "segment": None,  # no segment: the overall step is the product step
        "value_tier": [None if i % 10 == 9 else t for i, t in enumerate(tier)],
    })
    frame.loc[0, "products"] = 9.0  # a count no other account has
    want_product, want_tier = _reference_steps(frame, tiers, 0, min_n)
    got_product, _ = ex._product_steps(frame, 0, min_n)
    got_tier = ex._tier_steps(frame, tiers, min_n)
    pd.testing.assert_series_equal(got_product, want_product, check_names=False)
    pd.testing.assert_series_equal(got_tier, want_tier, check_names=False)
    assert got_product.notna().any() and got_tier.notna().any()
    # by hand for one tier: medium's step is high's median paying MRR minus medium's, when
    # both tiers have at least min_n paying accounts
    paying = frame[frame["mrr"] > 0]
    medians = paying.groupby("value_tier")["mrr"].median()
    sizes = paying.groupby("value_tier").size()
    medium = frame.index[frame["value_tier"] == "medium"][0]
    enough = min(sizes.get("high", 0), sizes.get("medium", 0)) >= min_n
    expected = medians["high"] - medians["medium"] if enough else np.nan
    assert got_tier[medium] == pytest.approx(expected, nan_ok=True)
    assert enough == (min_n < 5)  # the case without a high-tier median is covered
