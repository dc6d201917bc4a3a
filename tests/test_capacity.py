"""Headcount, owner coverage and revenue paths against hand-computed figures; the notebook
on a snapshot client."""

from __future__ import annotations

import copy

import pandas as pd
import pytest
import yaml

from playbook.analyses.capacity import (
    REFERENCE_PATHS,
    current_capacity,
    headcount_gap,
    headcount_sensitivity,
    owner_coverage,
    path_gap,
    required_headcount,
    revenue_paths,
    tier_effort,
    touch_hours_per_account,
    touch_plan,
)
from playbook.errors import ParamsError

# the touch_model section of playbook/defaults.yaml, as the config layer passes it
TOUCH_MODEL = {
    "tiers": {
        "high": {"accounts_per_csm": [20, 30],
                 "touches": {"monthly_call": 12, "qbr": 4, "onsite": 1}},
        "medium": {"accounts_per_csm": [100, 150],
                   "touches": {"check_in": 2, "risk_outreach": 2}},
        "low": {"accounts_per_csm": [0, 0], "touches": {"webinar": 4, "email_campaign": 12}},
    },
    "hours_per_touch": {"monthly_call": 1.5, "qbr": 6.0, "onsite": 16.0, "check_in": 1.0,
                        "risk_outreach": 2.0, "webinar": 0.0, "email_campaign": 0.0},
    "csm_hours_per_year": 1600,
    "account_admin_hours_per_year": {"high": 20, "medium": 4, "low": 0},
    "loaded_cost_per_csm": 120000,
}


# ----------------------------------------------------------------------------- headcount
def test_headcount_by_ratio_and_effort():
    out = required_headcount({"high": 60, "medium": 300, "low": 640}, TOUCH_MODEL)
    high = out.loc["high"]
    # ratio 20-30:1 -> 60/30 = 2.0 to 60/20 = 3.0 FTE
    assert (high["fte_by_ratio_min"], high["fte_by_ratio_max"]) == pytest.approx((2.0, 3.0))
    # effort: 12*1.5 + 4*6 + 1*16 = 58 touch hours + 20 admin = 78 h per account
    assert high["hours_per_account"] == pytest.approx(78.0)
    # 60 * 78 = 4680 h / 1600 h = 2.925 FTE; x 120,000 = 351,000
    assert high["total_hours"] == pytest.approx(4680.0)
    assert high["fte_by_effort"] == pytest.approx(2.925)
    assert high["cost_by_effort"] == pytest.approx(351_000.0)
    # medium: 300 * (2*1 + 2*2 + 4) = 3000 h / 1600 = 1.875 FTE; ratio 300/150..300/100
    assert out.loc["medium", "fte_by_effort"] == pytest.approx(1.875)
    assert out.loc["medium", "fte_by_ratio_min"] == pytest.approx(2.0)
    assert out.loc["medium", "fte_by_ratio_max"] == pytest.approx(3.0)
    # low is pooled: nobody assigned
    assert bool(out.loc["low", "pooled"])
    assert out.loc["low", "fte_by_ratio_max"] == 0.0
    # total row: 2.925 + 1.875 + 0 = 4.8 FTE
    assert out.loc["total", "fte_by_effort"] == pytest.approx(4.8)
    assert out.loc["total", "accounts"] == 1000
    assert out.loc["high", "touches"] == "monthly_call 12x1.5h + qbr 4x6h + onsite 1x16h"


def test_headcount_single_ratio():
    model = copy.deepcopy(TOUCH_MODEL)
    model["tiers"]["high"]["accounts_per_csm"] = 25
    out = required_headcount({"high": 60}, model)
    # 60 accounts at 25:1 = 2.4 FTE, both ends of the "range"
    assert out.loc["high", "fte_by_ratio_min"] == pytest.approx(2.4)
    assert out.loc["high", "fte_by_ratio_max"] == pytest.approx(2.4)
    assert out.loc["medium", "accounts"] == 0  # tiers not counted get 0 accounts


def test_headcount_rejects_unknown_tier_and_unpriced_touch():
    with pytest.raises(ParamsError):
        required_headcount({"platinum": 5}, TOUCH_MODEL)
    model = copy.deepcopy(TOUCH_MODEL)
    model["tiers"]["high"]["touches"]["dinner"] = 1
    with pytest.raises(ParamsError, match="dinner"):
        required_headcount({"high": 1}, model)


# ----------------------------------------------------------------------------- coverage
def test_owner_coverage():
    owners = (["Ann"] * 35 + ["Bob"] * 15 + ["Cara"] * 120 + ["Dan"] * 50 + [None])
    tier = ["high"] * 35 + ["high"] * 10 + ["medium"] * 5 + ["medium"] * 120 + ["low"] * 51
    ids = [f"A{i:03d}" for i in range(len(owners))]
    accounts = pd.DataFrame({"account_id": ids, "owner": owners, "mrr": 100.0,
                             "arr": float("nan")})
    tiers = pd.Series(tier, index=ids)
    out = owner_coverage(accounts, tiers, touch_model=TOUCH_MODEL)
    assert out.loc["Ann", "coverage"] == "under-covered"  # 35 high accounts > 30
    assert out.loc["Bob", "main_tier"] == "high"
    assert out.loc["Bob", "coverage"] == "over-covered"   # 15 accounts < 20
    assert out.loc["Cara", "coverage"] == "within"        # 120 in 100-150
    assert out.loc["Dan", "coverage"] == "pooled"
    assert out.loc["(unassigned)", "accounts"] == 1
    # load: Ann 35/25 = 1.4 CSMs; Bob 10/25 + 5/125 = 0.44
    assert out.loc["Ann", "load"] == pytest.approx(1.4)
    assert out.loc["Bob", "load"] == pytest.approx(0.44)
    assert out.loc["Bob", "accounts_medium"] == 5
    assert out.loc["Ann", "mrr"] == pytest.approx(3500.0)


# ----------------------------------------------------------------------------- revenue paths
def test_zero_churn_yearly_compounding():
    paths = revenue_paths(**{**REFERENCE_PATHS, "churn_rates": (0.0,)}, years=3,
                          compounding="yearly", churn_base="current")
    # 1000 customers x 100/month x 1.5^3 = 337,500 at year 3; flat within each year
    assert paths.loc[36, 0.0] == pytest.approx(1000 * 100 * 1.5**3)
    assert paths.loc[11, 0.0] == pytest.approx(100_000.0)
    assert paths.loc[12, 0.0] == pytest.approx(150_000.0)
    assert list(paths.index) == list(range(37))


@pytest.mark.parametrize("compounding", ["monthly", "yearly"])
@pytest.mark.parametrize("churn_base", ["current", "starting"])
def test_more_churn_lower_path(compounding, churn_base):
    p = revenue_paths(**REFERENCE_PATHS, years=3, compounding=compounding, churn_base=churn_base)
    later = p.loc[12:]
    assert (later[0.3] < later[0.1]).all()
    assert (later[0.1] < later[0.0]).all()
    # domain.md: after 3 years, 30% churn leaves MRR about half or less of no churn
    assert p.loc[36, 0.3] / p.loc[36, 0.0] < 0.52


def test_path_gap_yearly_by_hand():
    gap = path_gap(revenue_paths(**REFERENCE_PATHS, years=3, compounding="yearly",
                                 churn_base="current"), 3)
    # no churn 337,500; 30%: 100,000 x (1.5 x 0.7)^3 = 100,000 x 1.157625 = 115,762.50
    assert gap.loc[0.3, "mrr"] == pytest.approx(115_762.5)
    assert gap.loc[0.3, "gap"] == pytest.approx(221_737.5)
    assert gap.loc[0.3, "gap_share"] == pytest.approx(221_737.5 / 337_500)  # 65.7%
    # 10%: 100,000 x (1.5 x 0.9)^3 = 100,000 x 2.460375 = 246,037.50; gap 91,462.50
    assert gap.loc[0.1, "gap"] == pytest.approx(91_462.5)
    assert gap.loc[0.0, "gap"] == 0.0

    additive = path_gap(revenue_paths(**REFERENCE_PATHS, years=3, compounding="yearly",
                                      churn_base="starting"), 3)
    # 30%: 100,000 x 1.2^3 = 172,800; gap 164,700 = 48.8% of 337,500
    assert additive.loc[0.3, "gap"] == pytest.approx(164_700.0)
    assert additive.loc[0.3, "gap_share"] == pytest.approx(0.488, abs=1e-3)


def test_path_gap_monthly_by_hand():
    gap = path_gap(revenue_paths(**REFERENCE_PATHS, years=3, compounding="monthly",
                                 churn_base="starting"), 3)
    # no churn: 100,000 x (1 + 0.5/12)^36 = 100,000 x e^(36 x 0.0408220) = ~434,746
    # 30%:      100,000 x (1 + 0.2/12)^36 = 100,000 x e^(36 x 0.0165293) = ~181,313
    assert gap.loc[0.0, "mrr"] == pytest.approx(434_746, rel=1e-5)
    assert gap.loc[0.3, "mrr"] == pytest.approx(181_313, rel=1e-5)
    assert gap.loc[0.3, "gap_share"] == pytest.approx(1 - 181_313 / 434_746, abs=1e-4)


def test_path_gap_needs_no_churn_path():
    with pytest.raises(ParamsError):
        path_gap(revenue_paths(**{**REFERENCE_PATHS, "churn_rates": (0.1, 0.3)}, years=3,
                               compounding="monthly", churn_base="current"), 3)
    with pytest.raises(ParamsError):
        path_gap(revenue_paths(**REFERENCE_PATHS, years=2, compounding="monthly",
                               churn_base="current"), 3)


# ----------------------------------------------------------------------------- full touch model
# As defaults.yaml: contact hours + preparation + travel per touch, one-to-many programmes
# for the pooled tier, a loaded cost per role.
FULL_MODEL = {
    "tiers": {
        "high": {"accounts_per_csm": [20, 30], "role": "enterprise CSM",
                 "touches": {"monthly_call": 12, "qbr": 4, "onsite": 1}},
        "medium": {"accounts_per_csm": [100, 150], "role": "CSM",
                   "touches": {"check_in": 2, "risk_outreach": 2}},
        "low": {"accounts_per_csm": [0, 0], "role": "scale CSM (pooled)",
                "touches": {"webinar": 4, "email_campaign": 12, "newsletter": 12}},
    },
    "hours_per_touch": {"monthly_call": 1.0, "qbr": 2.0, "onsite": 6.0, "check_in": 0.75,
                        "risk_outreach": 1.5, "webinar": 0.0, "email_campaign": 0.0},
    "prep_hours_per_touch": {"monthly_call": 0.5, "qbr": 4.0, "onsite": 4.0, "check_in": 0.25,
                             "risk_outreach": 0.5},
    "travel_hours_per_touch": {"onsite": 6.0},
    "program_hours_per_touch": {"webinar": 12.0, "email_campaign": 4.0, "newsletter": 3.0},
    "csm_hours_per_year": 1600,
    "account_admin_hours_per_year": {"high": 20, "medium": 4, "low": 0.5},
    "loaded_cost_per_csm": 120000,
    "loaded_cost_per_role": {"enterprise CSM": 150000, "CSM": 115000,
                             "scale CSM (pooled)": 90000},
}


def test_touch_plan_hours_with_prep_travel_and_programmes():
    plan = touch_plan(FULL_MODEL).set_index(["tier", "touch"])
    # onsite: 1 x (6 contact + 4 prep + 6 travel) = 16 h per account
    assert plan.loc[("high", "onsite"), "hours_per_account"] == pytest.approx(16.0)
    # qbr: 4 x (2 + 4) = 24 h; monthly call 12 x (1 + 0.5) = 18 h
    assert plan.loc[("high", "qbr"), "hours_per_account"] == pytest.approx(24.0)
    assert plan.loc[("high", "monthly_call"), "hours_per_account"] == pytest.approx(18.0)
    # webinar: one-to-many, 4 x 12 = 48 h for the whole tier, 0 per account
    assert bool(plan.loc[("low", "webinar"), "one_to_many"])
    assert plan.loc[("low", "webinar"), "program_hours"] == pytest.approx(48.0)
    assert plan.loc[("low", "webinar"), "hours_per_account"] == 0.0
    # newsletter has only programme hours: allowed
    assert plan.loc[("low", "newsletter"), "program_hours"] == pytest.approx(36.0)
    assert touch_hours_per_account("high", FULL_MODEL) == pytest.approx(58.0)
    assert touch_hours_per_account("medium", FULL_MODEL) == pytest.approx(6.0)


def test_a_client_drops_a_default_touch_by_setting_it_to_zero():
    from playbook.config import deep_merge

    model = deep_merge(FULL_MODEL, {"tiers": {"high": {"touches": {"onsite": 0}}}})
    plan = touch_plan(model)
    assert "onsite" not in set(plan.loc[plan["tier"] == "high", "touch"])
    assert touch_hours_per_account("high", model) == pytest.approx(58.0 - 16.0)  # no onsite


def test_tier_effort_split_and_implied_ratio():
    eff = tier_effort(FULL_MODEL)
    high = eff.loc["high"]
    # contact 12x1 + 4x2 + 6 = 26; prep 12x0.5 + 4x4 + 4 = 26; travel 6; admin 20 -> 78
    assert (high["contact_hours"], high["prep_hours"], high["travel_hours"]) == (26, 26, 6)
    assert high["hours_per_account"] == pytest.approx(78.0)
    assert high["implied_accounts_per_csm"] == pytest.approx(1600 / 78)  # 20.5 per CSM
    assert high["loaded_cost"] == 150000
    assert eff.loc["medium", "implied_accounts_per_csm"] == pytest.approx(160.0)  # 1600 / 10
    # low: 4x12 + 12x4 + 12x3 = 132 programme hours; 0.5 h admin per account
    assert eff.loc["low", "program_hours"] == pytest.approx(132.0)
    assert eff.loc["low", "hours_per_account"] == pytest.approx(0.5)


def test_headcount_with_programmes_and_role_costs():
    out = required_headcount({"high": 60, "medium": 300, "low": 640}, FULL_MODEL)
    # high 60 x 78 = 4680 h = 2.925 FTE x 150,000 = 438,750
    assert out.loc["high", "fte_by_effort"] == pytest.approx(2.925)
    assert out.loc["high", "cost_by_effort"] == pytest.approx(438_750)
    # medium 300 x 10 = 3000 h = 1.875 FTE x 115,000 = 215,625
    assert out.loc["medium", "cost_by_effort"] == pytest.approx(215_625)
    # low 640 x 0.5 + 132 = 452 h = 0.2825 FTE x 90,000 = 25,425 (pooled: 0 by ratio)
    assert out.loc["low", "total_hours"] == pytest.approx(452.0)
    assert out.loc["low", "fte_by_effort"] == pytest.approx(0.2825)
    assert out.loc["low", "cost_by_effort"] == pytest.approx(25_425)
    assert out.loc["low", "fte_by_ratio_max"] == 0.0
    assert out.loc["total", "fte_by_effort"] == pytest.approx(5.0825)
    assert out.loc["total", "cost_by_effort"] == pytest.approx(679_800)
    # ratio 20-30 vs 20.5 implied: inside; medium 160 > 150: the ratio leaves slack
    assert out.loc["high", "effort_vs_ratio"] == "inside"
    assert out.loc["medium", "effort_vs_ratio"] == "more"
    assert out.loc["low", "effort_vs_ratio"] == "pooled"
    # a tier with no accounts takes no programme hours
    empty = required_headcount({"high": 10}, FULL_MODEL)
    assert empty.loc["low", "total_hours"] == 0.0


def test_effort_needing_more_people_than_the_ratio():
    model = copy.deepcopy(FULL_MODEL)
    model["account_admin_hours_per_year"]["high"] = 60  # 118 h -> 13.6 accounts per CSM
    out = required_headcount({"high": 100}, model)
    assert out.loc["high", "effort_vs_ratio"] == "fewer"
    assert out.loc["high", "fte_by_effort"] > out.loc["high", "fte_by_ratio_max"]


def test_defaults_yaml_touch_model_matches_the_hand_figures():
    from playbook.config import TouchModelParams
    from playbook.paths import defaults_file

    raw = yaml.safe_load(defaults_file().read_text())["touch_model"]
    model = TouchModelParams.model_validate(raw).model_dump()
    eff = tier_effort(model)
    assert eff["hours_per_account"].to_dict() == pytest.approx(
        {"high": 78.0, "medium": 10.0, "low": 0.5})
    assert eff.loc["low", "program_hours"] == pytest.approx(132.0)


def test_touch_without_hours_names_both_keys():
    model = copy.deepcopy(FULL_MODEL)
    model["tiers"]["low"]["touches"]["podcast"] = 6
    with pytest.raises(ParamsError) as err:
        touch_plan(model)
    assert "podcast" in str(err.value)
    assert "program_hours_per_touch" in err.value.fix


# ----------------------------------------------------------------------------- sensitivity
def test_headcount_sensitivity_by_hand():
    sens = headcount_sensitivity({"high": 10, "medium": 30, "low": 60}, FULL_MODEL,
                                 account_growth=0.2, years=1, top_tier_shifts=[0.05])
    cell = sens.set_index(["year", "shift"])
    # today, no shift: (10 x 78 + 30 x 10 + 60 x 0.5 + 132) / 1600 = 1242 / 1600
    assert cell.loc[(0, 0.0), "fte_by_effort"] == pytest.approx(1242 / 1600)
    # year 1, +5 pts: 120 accounts -> 18 high, 30% x 0.85/0.90 x 120 = 34 medium, 68 low
    # (18 x 78 + 34 x 10 + 68 x 0.5 + 132) / 1600 = 1910 / 1600 = 1.19375
    assert cell.loc[(1, 0.05), "accounts"] == pytest.approx(120.0)
    assert cell.loc[(1, 0.05), "top_tier_accounts"] == pytest.approx(18.0)
    assert cell.loc[(1, 0.05), "fte_by_effort"] == pytest.approx(1.19375)
    assert len(sens) == 4  # 2 years x 2 mixes


# ----------------------------------------------------------------------------- current vs required
def test_current_capacity_splits_owners_by_model_hours():
    cov = pd.DataFrame({"accounts": [110, 120, 5], "accounts_high": [10, 0, 0],
                        "accounts_medium": [0, 0, 0], "accounts_low": [100, 120, 5]},
                       index=pd.Index(["Ann", "Bob", "(unassigned)"], name="owner"))
    cur = current_capacity(cov, FULL_MODEL)
    # Ann: 10 x 78 = 780 h high vs 100 x 0.5 = 50 h low -> 780/830 high; Bob all low
    assert cur["high"] == pytest.approx(780 / 830)
    assert cur["low"] == pytest.approx(50 / 830 + 1.0)
    assert cur.sum() == pytest.approx(2.0)  # two named owners; unassigned add nothing
    # a book with no model hours is split by accounts
    cur0 = current_capacity(cov.loc[["Bob"]], TOUCH_MODEL)
    assert cur0["low"] == pytest.approx(1.0)


def test_headcount_gap_by_hand():
    req = required_headcount({"high": 60, "medium": 300, "low": 640}, FULL_MODEL)
    gap = headcount_gap(req, pd.Series({"high": 2.0, "medium": 3.0, "low": 4.0}))
    assert gap.loc["high", "gap"] == pytest.approx(0.925)
    assert gap.loc["medium", "gap"] == pytest.approx(-1.125)
    assert gap.loc["low", "cost_current"] == pytest.approx(360_000)
    assert gap.loc["total", "current"] == pytest.approx(9.0)
    assert gap.loc["total", "gap"] == pytest.approx(5.0825 - 9.0)
    # cost now: 2 x 150,000 + 3 x 115,000 + 4 x 90,000 = 1,005,000
    assert gap.loc["total", "cost_current"] == pytest.approx(1_005_000)
    assert gap.loc["total", "cost_gap"] == pytest.approx(679_800 - 1_005_000)


def test_owner_coverage_effort_and_mrr_override():
    ids = ["A1", "A2", "A3"]
    accounts = pd.DataFrame({"account_id": ids, "owner": ["Ann", "Ann", "Bob"],
                             "mrr": [1.0, 1.0, 1.0], "arr": float("nan")})
    tiers = pd.Series(["high", "medium", "low"], index=ids)
    out = owner_coverage(accounts, tiers, touch_model=FULL_MODEL,
                         mrr=pd.Series([500.0, 300.0, 50.0], index=ids))
    assert out.loc["Ann", "mrr"] == pytest.approx(800.0)
    # Ann: (78 + 10) / 1600 FTE of work; Bob 0.5 / 1600
    assert out.loc["Ann", "effort_fte"] == pytest.approx(88 / 1600)
    assert out.loc["Bob", "effort_fte"] == pytest.approx(0.5 / 1600)


# ----------------------------------------------------------------------------- notebook
SNAPSHOT = """\
Account ID,Customer Since,ARR (USD),Status
""" + "".join(f"A{i},2024-0{1 + i % 9}-15,{1000 * (1 + i % 7)},Active\n" for i in range(40))


def test_notebook_on_a_snapshot_client_without_owner_or_mrr(client_factory, tmp_path):
    """No `owner`, no touch model in params, no MRR history: the coverage section is one
    line (#18: never sized on the default B2B touch model), the scenarios say which data
    would enable them, and no text reads "nan"."""
    import html
    import json

    import papermill as pm

    from playbook import paths

    params = {"client": {"name": "Snapshot Co"}, "period": {"period": "2026-Q3"},
              "tables": {"accounts": {
                  "file": "accounts.csv",
                  "columns": {"account_id": "Account ID", "start_date": "Customer Since",
                              "arr": "ARR (USD)", "status": "Status"},
                  "codes": {"status": {"Active": "active"}}}}}
    client_factory.write(files={"accounts.csv": SNAPSHOT}, params=params)
    out = tmp_path / "run"
    out.mkdir()
    notebooks = paths.PACKAGE_DIR.parent / "notebooks"
    pm.execute_notebook(str(notebooks / "04-capacity.ipynb"), str(out / "04.ipynb"),
                        parameters={"client": "t", "run_dir": str(out)},
                        progress_bar=False, cwd=str(notebooks))
    nb = json.loads((out / "04.ipynb").read_text())
    shown = html.unescape("".join(
        "".join(o.get("data", {}).get("text/html", "")) + "".join(
            o.get("data", {}).get("text/markdown", ""))
        for c in nb["cells"] for o in c.get("outputs", [])))
    assert "No account owners in the data and no touch model in params" in shown
    assert "CSMs by effort" not in shown
    assert "needs the 'mrr' table" in shown
    assert " nan " not in f" {shown.lower()} "
    findings = json.loads((out / "findings" / "04-capacity.json").read_text())["findings"]
    assert "current_owners" not in findings and "headcount_total" not in findings
    assert findings["capacity_evidence"]["sized"] is False
