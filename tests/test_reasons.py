"""Churn reasons, churn by variable and the shared statistics helpers: known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from playbook import paths
from playbook.analyses.reasons import (
    association_test,
    band,
    churn_by_variable,
    is_uninformative,
    map_reasons,
    reason_pareto,
    reasons_by_segment,
    tenure_months,
    uninformative_share,
)
from playbook.analyses.stats import wilson_interval
from playbook.config import read_yaml

#: churn.uninformative_reasons as playbook/defaults.yaml sets it (its one home).
SAID_NOTHING = read_yaml(paths.defaults_file())["churn"]["uninformative_reasons"]


@pytest.fixture
def events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
            "churn_date": pd.to_datetime(["2024-01-15"] * 10),
            "reason_code": ["Price", "price ", " Other ", None, "", "UNKNOWN", "Support",
                            "Price", "n/a", "Product gap"],
            "reason_text": ["", "", "Too expensive for us", "went to a competitor", None,
                            "price hike", "", "", "no idea", "missing SSO"],
            "lost_mrr": [100.0, 50.0, 30.0, 20.0, np.nan, 40.0, 200.0, 10.0, 5.0, 45.0],
        }
    )


# --------------------------------------------------------------------------- stats


def test_wilson_known_value():
    low, high = wilson_interval(10, 100)
    assert (round(low, 4), round(high, 4)) == (0.0552, 0.1744)


def test_wilson_edges():
    z2 = 1.96**2
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(z2 / (10 + z2))  # closed form at k = 0
    low, high = wilson_interval(10, 10)
    assert high == 1.0 and low == pytest.approx(10 / (10 + z2))  # closed form at k = n
    low, high = wilson_interval(0, 0)
    assert math.isnan(low) and math.isnan(high)


def test_wilson_vectorised_matches_scalar():
    low, high = wilson_interval(np.array([10, 0, 3]), np.array([100, 0, 4]))
    assert low[0] == pytest.approx(wilson_interval(10, 100)[0])
    assert math.isnan(low[1]) and math.isnan(high[1])
    assert high[2] == pytest.approx(wilson_interval(3, 4)[1])


# --------------------------------------------------------------------------- reasons


def test_is_uninformative_ignores_case_and_whitespace():
    codes = pd.Series(["", None, " Other ", "UNKNOWN", "n/a", "None ", "Price", "Others"])
    assert is_uninformative(codes, SAID_NOTHING).tolist() == [True, True, True, True, True, True,
                                                False, False]


def test_reason_pareto_order_and_cumulative_share(events):
    p = reason_pareto(events, uninformative=SAID_NOTHING)
    # Lost MRR per reason (case/space merged): Support 200; Price 100+50+10 = 160;
    # Product gap 45; UNKNOWN 40; Other 30; (blank) 20 (+ one missing); n/a 5. Total 500.
    assert p["reason"].tolist() == ["Support", "Price", "Product gap", "UNKNOWN", "Other",
                                    "(blank)", "n/a"]
    assert p["lost_mrr"].tolist() == [200, 160, 45, 40, 30, 20, 5]
    assert p["logos"].tolist() == [1, 3, 1, 1, 1, 2, 1]
    np.testing.assert_allclose(p["share_lost_mrr"], [0.4, 0.32, 0.09, 0.08, 0.06, 0.04, 0.01])
    np.testing.assert_allclose(p["cum_share_lost_mrr"],
                               [0.4, 0.72, 0.81, 0.89, 0.95, 0.99, 1.0])
    np.testing.assert_allclose(p["share_logos"], [0.1, 0.3, 0.1, 0.1, 0.1, 0.2, 0.1])
    assert p["uninformative"].tolist() == [False, False, False, True, True, True, True]
    assert p.loc[p["reason"] == "(blank)", "lost_mrr_missing"].item() == 1


def test_uninformative_share_counts_blank_na_other_unknown(events):
    u = uninformative_share(events, uninformative=SAID_NOTHING)
    # Uninformative: " Other " (30), None (20), "" (NaN -> 0), "UNKNOWN" (40), "n/a" (5)
    assert u["events"] == 10
    assert u["uninformative_events"] == 5
    assert u["blank_events"] == 2
    assert u["share_events"] == pytest.approx(0.5)
    assert u["lost_mrr"] == pytest.approx(500)
    assert u["uninformative_lost_mrr"] == pytest.approx(95)
    assert u["share_lost_mrr"] == pytest.approx(95 / 500)
    assert u["by_label"] == {"(blank)": 2, "UNKNOWN": 1, "Other": 1, "n/a": 1}


def test_uninformative_list_is_a_parameter(events):
    # With only "other" listed, UNKNOWN and n/a become real reasons; blanks stay uninformative.
    u = uninformative_share(events, uninformative=["other"])
    assert u["uninformative_events"] == 3


def test_map_reasons_counts(events):
    rules = {"Price": ["expensive", "PRICE"], "Competitor": ["competitor"], "Empty": []}
    mapped, counts = map_reasons(events, rules, uninformative=SAID_NOTHING)
    # Uninformative rows: c " Other " (Too expensive -> Price), d None (competitor ->
    # Competitor), e "" (no text -> unknown), f "UNKNOWN" (price hike -> Price),
    # i "n/a" (no idea -> unknown). Informative rows keep their code.
    assert counts["uninformative"] == 5
    assert counts["mapped"] == 3
    assert counts["still_unknown"] == 2
    assert counts["share_mapped"] == pytest.approx(3 / 5)
    assert counts["by_code"] == {"Price": 2, "Competitor": 1}
    by_id = mapped.set_index("account_id")
    assert by_id.loc["c", "reason"] == "Price" and by_id.loc["c", "reason_source"] == "text"
    assert by_id.loc["d", "reason"] == "Competitor"
    assert by_id.loc["a", "reason"] == "Price" and by_id.loc["a", "reason_source"] == "code"
    assert by_id.loc["i", "reason_source"] == "unmapped"
    # Informative codes are never overwritten, even when their text matches a rule.
    assert by_id.loc["j", "reason"] == "Product gap"
    # The mapped column feeds the Pareto: Price now 100+50+10+30+40 = 230.
    p = reason_pareto(mapped, uninformative=SAID_NOTHING, code_col="reason")
    assert p.iloc[0]["reason"] == "Price" and p.iloc[0]["lost_mrr"] == pytest.approx(230)
    assert len(events.columns) + 2 == len(mapped.columns)  # input untouched, copy returned
    assert "reason" not in events.columns


def test_reasons_by_segment_shares(events):
    accounts = pd.DataFrame(
        {"account_id": list("abcdefghij"),
         "segment": ["SMB", "SMB", "SMB", "SMB", "SMB", "Ent", "Ent", "Ent", None, "Ent"]}
    )
    r = reasons_by_segment(events, accounts, "segment", uninformative=SAID_NOTHING, small_n=30)
    ent = r[r["segment"] == "Ent"].set_index("reason")
    # Ent lost MRR: UNKNOWN 40, Support 200, Price 10, Product gap 45 = 295
    assert ent["share_lost_mrr"].to_dict() == pytest.approx(
        {"Support": 200 / 295, "Product gap": 45 / 295, "UNKNOWN": 40 / 295, "Price": 10 / 295}
    )
    assert list(ent.index) == ["Support", "Product gap", "UNKNOWN", "Price"]
    smb = r[r["segment"] == "SMB"].set_index("reason")
    # SMB: Price 150, Other 30, (blank) 20 -> 200
    assert smb.loc["Price", "share_lost_mrr"] == pytest.approx(0.75)
    assert smb.loc["Price", "logos"] == 2
    assert r.loc[r["segment"] == "(missing)", "reason"].tolist() == ["n/a"]
    for _, grp in r.groupby("segment"):
        assert grp["share_lost_mrr"].sum() == pytest.approx(1.0)
    assert r["too_small"].all()


# --------------------------------------------------------------------------- by variable


def planted_accounts() -> pd.DataFrame:
    # Retail 100 accounts, 40 churned; Health 50, 10 churned; Media 10, 5 churned;
    # 4 accounts without industry, 1 churned.
    rows = (
        [("Retail", i < 40) for i in range(100)]
        + [("Health", i < 10) for i in range(50)]
        + [("Media", i < 5) for i in range(10)]
        + [(None, i < 1) for i in range(4)]
    )
    return pd.DataFrame(
        {
            "account_id": [f"x{i}" for i in range(len(rows))],
            "industry": [r[0] for r in rows],
            "status": ["churned" if r[1] else "active" for r in rows],
        }
    )


def test_churn_by_variable_rates_intervals_and_small_groups():
    t = churn_by_variable(planted_accounts(), "industry", small_n=30)
    assert list(t.index) == ["Media", "Retail", "(missing)", "Health"]  # by rate desc
    assert t.loc["Retail", ["n", "churned"]].tolist() == [100, 40]
    assert t.loc["Media", "rate"] == pytest.approx(0.5)
    assert t.loc["(missing)", "rate"] == pytest.approx(0.25)
    assert t.loc["Health", "rate"] == pytest.approx(0.2)
    low, high = wilson_interval(40, 100)
    assert t.loc["Retail", "ci_low"] == pytest.approx(low)
    assert t.loc["Retail", "ci_high"] == pytest.approx(high)
    # Small groups are flagged and kept.
    assert t["too_small"].to_dict() == {"Media": True, "Retail": False, "(missing)": True,
                                        "Health": False}


def test_churn_by_variable_with_boolean_series():
    acc = planted_accounts()
    flag = pd.Series(False, index=acc.index)
    flag.iloc[:3] = True  # three Retail accounts churned in the window
    t = churn_by_variable(acc, "industry", churned=flag, small_n=30)
    assert t.loc["Retail", "churned"] == 3 and t.loc["Health", "churned"] == 0


def test_chi_square_planted_difference_by_hand():
    # Row totals 100, column totals 150/150: every expected count is 50.
    # chi2 = 4 * 20^2 / 50 = 32 with 2 dof; p = exp(-32/2) for 2 dof.
    table = [[30, 70], [50, 50], [70, 30]]
    r = association_test(table)
    assert r["test"] == "chi_square"
    assert r["chi2"] == pytest.approx(32.0) and r["dof"] == 2
    assert r["p_value"] == pytest.approx(math.exp(-16))
    expected = sps.chi2_contingency(np.array(table), correction=False)
    assert r["p_value"] == pytest.approx(expected.pvalue)
    assert r["significant"]


def test_chi_square_no_difference_not_significant():
    # chi2 = 4 * 2^2 / 50 = 0.32, p = exp(-0.16) = 0.852
    r = association_test([[48, 52], [50, 50], [52, 48]])
    assert r["test"] == "chi_square"
    assert r["p_value"] == pytest.approx(math.exp(-0.16))
    assert not r["significant"]


def test_fisher_exact_on_2x2_known_value():
    # Lady tasting tea: two-sided p = (16 + 1 + 16 + 1) / 70 = 34/70
    r = association_test([[3, 1], [1, 3]])
    assert r["test"] == "fisher_exact"
    assert r["p_value"] == pytest.approx(34 / 70)
    assert r["odds_ratio"] == pytest.approx(9.0)
    assert not r["significant"]


def test_low_expected_counts_switch_to_fisher():
    r = association_test([[3, 0], [1, 4], [0, 5]])
    assert r["min_expected"] < 5
    assert r["test"] == "fisher_exact_monte_carlo"
    assert 0 <= r["p_value"] <= 1
    assert r["p_value"] == association_test([[3, 0], [1, 4], [0, 5]])["p_value"]  # seeded


def test_association_test_accepts_churn_by_variable_output():
    acc = planted_accounts()
    acc = acc[acc["industry"].isin(["Retail", "Health"])]
    r = association_test(churn_by_variable(acc, "industry", small_n=30))
    # 2x2: Retail 40/100 vs Health 10/50 -> Fisher on [[40, 60], [10, 40]]
    assert r["test"] == "fisher_exact"
    assert r["p_value"] == pytest.approx(sps.fisher_exact([[40, 60], [10, 40]]).pvalue)
    assert r["significant"]


def test_association_test_degenerate_table():
    r = association_test([[0, 10], [0, 20]])  # nobody churned: one outcome only
    assert r["test"] == "none" and math.isnan(r["p_value"])


# --------------------------------------------------------------------------- bands


def test_band_edges_are_lower_inclusive():
    b = band(pd.Series([0, 11.9, 12, 30, None, -1]), [0, 12, 24, float("inf")])
    assert b.astype(object).where(b.notna(), None).tolist() == [
        "0-12", "0-12", "12-24", "24+", None, None
    ]
    assert list(b.cat.categories) == ["0-12", "12-24", "24+"] and b.cat.ordered
    named = band(pd.Series([5, 50]), [0, 10, 100], labels=["small", "large"])
    assert named.tolist() == ["small", "large"]


def test_tenure_months_uses_churn_date_when_churned():
    acc = pd.DataFrame(
        {
            "start_date": pd.to_datetime(["2023-01-01", "2023-01-01", "2023-01-01"]),
            "churn_date": pd.to_datetime([None, "2023-07-02", "2025-01-01"]),
        }
    )
    t = tenure_months(acc, "2024-01-01")
    # 365 days to as_of; 182 days to churn; churn after as_of -> as_of
    assert t.tolist() == pytest.approx([365 / 30.4375, 182 / 30.4375, 365 / 30.4375])
