"""The account plan (playbook.account_plan): one row per active account, the joined columns,
and each next-action rule on a hand-built fixture (priority order, due dates)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from playbook import account_plan as ap
from playbook import textfmt as tf
from playbook.analyses import cost_to_serve, drivers
from playbook.analyses import expansion as expansion_analysis
from playbook.analyses.account_state import active_accounts
from playbook.config import load_params
from playbook.context import AnalysisContext
from playbook.errors import InsufficientDataError
from playbook.workbook import ALL_SHEET, write_workbook

AS_OF = pd.Timestamp("2025-06-30")
RULES = ap.PlanRules(save_play_within_days=90, at_risk_below=0.75, expansion_min_mrr=0.0,
                     expansion_min_share=0.10,
                     due_days={"save_play": 7, "executive_outreach": 14,
                               "onboarding_rescue": 21, "expansion_conversation": 30})


def day(n: int) -> pd.Timestamp:
    return AS_OF + pd.Timedelta(days=n)


def accounts() -> pd.DataFrame:
    ids = ["A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9"]
    return pd.DataFrame({
        "account_id": ids,
        "name": [f"Name {i}" for i in ids],
        "owner": ["Ann", "Ann", "Bob", "Bob", None, "Ann", "Bob", "Bob", "Ann"],
        "segment": ["SMB"] * 9,
        "start_date": pd.to_datetime(["2022-01-01"] * 9),
        "status": ["active"] * 6 + ["churned"] + ["active"] * 2,
        "churn_date": [pd.NaT] * 6 + [pd.Timestamp("2025-03-31")] + [pd.NaT] * 2,
        "mrr": [100.0, 200.0, 300.0, 400.0, 100.0, 100.0, 50.0, 80.0, 150.0],
    })


def book() -> pd.DataFrame:
    """The open book: A1 and A2 due inside 90 days below 0.75; A3 due after 90 days; A8
    above the threshold; A9's renewal is past (dated on the as-of date): not next."""
    rows = [("A1", day(30), 0.50, 100.0), ("A2", day(3), 0.40, 200.0),
            ("A3", day(120), 0.30, 300.0), ("A8", day(30), 0.80, 80.0),
            ("A9", AS_OF, 0.10, 90.0)]
    b = pd.DataFrame(rows, columns=["account_id", "decision_date", "p_renew", "mrr"])
    b["expected_loss"] = b["mrr"] * (1 - b["p_renew"])
    return b


def flags() -> pd.DataFrame:
    ids = ["A1", "A2", "A3", "A4", "A5", "A6", "A8", "A9"]
    f = pd.DataFrame(index=pd.Index(ids, name="account_id"))
    f["flag_renewal_no_exec"] = pd.array([False, False, True, False, False, pd.NA, False,
                                          False], dtype="boolean")
    f["flag_single_threaded"] = pd.array([True, False, False, False, False, pd.NA, False,
                                          False], dtype="boolean")
    f["flag_adoption_no_users"] = pd.array([pd.NA] * 8, dtype="boolean")
    f["flag_drop_no_user_contact"] = pd.array([True] + [False] * 7, dtype="boolean")
    return f


def expansion() -> pd.DataFrame:
    return pd.DataFrame({"account_id": ["A4", "A5", "A6"],
                         "potential_mrr": [100.0, 50.0, 5.0],
                         "reason": ["seats nearly full", "=HYPERLINK(\"x\")", "tier"]})


def cost() -> pd.DataFrame:
    return pd.DataFrame({"account_id": ["A1", "A5"], "cost_to_serve": [300.0, 20.0],
                         "margin": [-60.0, 1180.0]})


def health() -> pd.DataFrame:
    h = pd.DataFrame(index=pd.Index(["A1", "A2", "A3"], name="account_id"))
    h["score_usage"] = [10.0, 80.0, np.nan]
    h["score_nps"] = [50.0, 20.0, 40.0]
    h["score_tickets"] = [10.0, 90.0, np.nan]
    h["score_products"] = [0.0, 0.0, 0.0]  # weight 0 in this run: not a measure used
    h["health_score"] = [25.0, 60.0, 40.0]
    h["health_band"] = ["red", "yellow", "red"]
    return h


def plan(**changes) -> pd.DataFrame:
    args = dict(as_of=AS_OF, rules=RULES, mrr=None,
                value_tiers=pd.Series(["high", "low"], index=["A1", "A2"]),
                stages=None, health=health(), health_measures=["usage", "nps", "tickets"],
                next_renewals=None, book=book(), model_ranks=True, flags=flags(),
                stuck=["A4"], expansion=expansion(), cost=cost())
    args.update(changes)
    return ap.account_plan(accounts(), **args).set_index("account_id", drop=False)


def test_one_row_per_active_account_with_the_documented_columns():
    p = plan()
    assert list(p.columns) == list(ap.COLUMNS)
    assert sorted(p.index) == ["A1", "A2", "A3", "A4", "A5", "A6", "A8", "A9"]  # A7 churned


def test_each_rule_in_priority_order_with_its_due_date():
    p = plan()
    expected = {  # by hand: the first rule met, in the documented order
        "A1": ("save_play", day(7)),          # renewal in 30 days at 0.50 (also single-threaded)
        "A2": ("save_play", day(2)),          # renewal in 3 days: due the day before it
        "A3": ("executive_outreach", day(14)),  # renewal in 120 days: outside the save window
        "A4": ("onboarding_rescue", day(21)),   # stuck (also expansion potential)
        "A5": ("expansion_conversation", day(30)),  # 50 on 100 MRR
        "A6": ("no_action", pd.NaT),          # 5 on 100 MRR is 5% < 10%; flags undecided
        "A8": ("no_action", pd.NaT),          # 0.80 is not below 0.75
        "A9": ("no_action", pd.NaT),          # its renewal is past, not next
    }
    for account, (action, due) in expected.items():
        assert p.at[account, "next_action"] == action, account
        got = p.at[account, "next_action_due"]
        assert (pd.isna(got) and pd.isna(due)) or got == due, account
    assert p.at["A1", "other_actions"] == "executive_outreach"
    assert p.at["A4", "other_actions"] == "expansion_conversation"
    assert p.at["A6", "other_actions"] == ""
    assert "single-threaded" in p.at["A3", "next_action_reason"] or \
        "executive contact" in p.at["A3", "next_action_reason"]
    assert p.at["A1", "next_action_reason"].startswith("Renewal on 30 Jul 2025")
    assert p.at["A5", "next_action_reason"] == 'Expansion potential: =HYPERLINK("x")'
    assert p.at["A4", "next_action_reason"] == "Stuck in onboarding"


def test_no_save_play_when_the_model_ranks_no_better_than_chance():
    p = plan(model_ranks=False)
    assert p.at["A1", "next_action"] == "executive_outreach"  # the next rule it meets
    assert p.at["A2", "next_action"] == "no_action"
    assert (p["next_action"] != "save_play").all()


def test_save_window_and_threshold_are_parameters():
    wide = ap.PlanRules(**{**RULES.__dict__, "save_play_within_days": 120})
    assert plan(rules=wide).at["A3", "next_action"] == "save_play"
    strict = ap.PlanRules(**{**RULES.__dict__, "at_risk_below": 0.45})
    p = plan(rules=strict)
    assert p.at["A1", "next_action"] == "executive_outreach"  # 0.50 is not below 0.45
    assert p.at["A2", "next_action"] == "save_play"           # 0.40 is
    rich = ap.PlanRules(**{**RULES.__dict__, "expansion_min_mrr": 60.0})
    assert plan(rules=rich).at["A5", "next_action"] == "no_action"  # 50 is not above 60


def test_renewal_probability_and_expected_loss_come_from_the_book():
    p = plan()
    b = book().set_index("account_id")
    for account in ("A1", "A2", "A3", "A8"):
        assert p.at[account, "renewal_probability"] == b.at[account, "p_renew"]
        assert p.at[account, "expected_loss"] == pytest.approx(
            (1 - b.at[account, "p_renew"]) * b.at[account, "mrr"])
        assert p.at[account, "next_renewal_date"] == b.at[account, "decision_date"]
        assert p.at[account, "days_to_renewal"] == (b.at[account, "decision_date"] - AS_OF).days
    assert pd.isna(p.at["A9", "next_renewal_date"]) and pd.isna(p.at["A9", "expected_loss"])


def test_next_renewal_from_upcoming_renewals_where_the_book_has_none():
    ahead = pd.DataFrame({"account_id": ["A5", "A5", "A1"],
                          "decision_date": [day(400), day(200), day(31)]})
    p = plan(next_renewals=ahead)
    assert p.at["A5", "next_renewal_date"] == day(200)  # the first one after the as-of date
    assert pd.isna(p.at["A5", "renewal_probability"])  # not scored: no probability
    assert p.at["A1", "next_renewal_date"] == day(30)   # the book's date wins


def test_every_action_is_due_before_the_next_renewal():
    ahead = pd.DataFrame({"account_id": ["A5", "A4"], "decision_date": [day(10), day(100)]})
    p = plan(next_renewals=ahead)
    assert p.at["A5", "next_action"] == "expansion_conversation"
    assert p.at["A5", "next_action_due"] == day(9)   # not day(30): the renewal comes first
    assert p.at["A4", "next_action_due"] == day(21)  # renewal far off: the usual offset


def test_health_columns_name_the_two_weakest_measures_used():
    p = plan()
    # A1: usage 10, nps 50, tickets 10 -> tie at 10 goes to the measure listed first
    assert (p.at["A1", "health_weakest_1"], p.at["A1", "health_weakest_1_score"]) == ("usage", 10)
    assert (p.at["A1", "health_weakest_2"], p.at["A1", "health_weakest_2_score"]) == (
        "tickets", 10)
    # A2: products (0) is not a measure of this run; nps 20 then usage 80
    assert [p.at["A2", "health_weakest_1"], p.at["A2", "health_weakest_2"]] == ["nps", "usage"]
    # A3: one measure scored -> the second is blank
    assert p.at["A3", "health_weakest_1"] == "nps" and pd.isna(p.at["A3", "health_weakest_2"])
    assert p.at["A1", "health_band"] == "red" and p.at["A2", "health_score"] == 60
    assert pd.isna(p.at["A5", "health_band"])


def test_optional_inputs_join_or_stay_blank():
    p = plan()
    assert p.at["A1", "value_tier"] == "high" and pd.isna(p.at["A3", "value_tier"])
    assert p["lifecycle_stage"].isna().all()  # not computed: blank, not a default stage
    assert p.at["A1", "cost_to_serve"] == 300 and p.at["A1", "margin"] == -60
    assert pd.isna(p.at["A2", "cost_to_serve"])
    assert p.at["A5", "expansion_potential_mrr"] == 50
    assert p.at["A1", "relationship_flags"] == 2  # single-threaded and the usage drop
    bare = plan(flags=None, expansion=None, cost=None, health=None, book=None)
    assert bare["relationship_flags"].isna().all() and bare["expected_loss"].isna().all()
    assert set(bare["next_action"]) == {"onboarding_rescue", "no_action"}
    # the analyses' own frames are indexed by account_id: the same values
    indexed = plan(expansion=expansion().set_index("account_id"),
                   cost=cost().set_index("account_id"))
    pd.testing.assert_frame_equal(indexed, p)
    stages = pd.Series(["Adopting"], index=["A2"])
    assert plan(stages=stages).at["A2", "lifecycle_stage"] == "Adopting"


def test_mrr_defaults_to_the_accounts_table_and_a_given_series_wins():
    assert plan().at["A3", "mrr"] == 300
    given = pd.Series(1000.0, index=[f"A{i}" for i in range(1, 10)])
    # A5's potential 50 on 1,000 MRR is 5%: below the 10% share, no expansion conversation
    assert plan(mrr=given).at["A5", "next_action"] == "no_action"


def test_sorted_by_owner_then_due_date_then_expected_loss():
    p = plan().reset_index(drop=True)
    owners = p["owner"].fillna("").tolist()
    assert owners == sorted(owners)
    ann = p[p["owner"] == "Ann"]
    # due +2, then +7; then no action, both without an expected loss: by MRR (A9 150, A6 100)
    assert ann["account_id"].tolist() == ["A2", "A1", "A9", "A6"]
    # without save plays: A1 (outreach, +14), then no action: A2 (loss 120) before A9, A6
    p = plan(model_ranks=False).reset_index(drop=True)
    assert p.loc[p["owner"] == "Ann", "account_id"].tolist() == ["A1", "A2", "A9", "A6"]


def test_no_active_account_or_no_id_is_insufficient_data():
    with pytest.raises(InsufficientDataError, match="account_id"):
        ap.account_plan(accounts().drop(columns="account_id"), **_args())
    with pytest.raises(InsufficientDataError, match="no account active"):
        ap.account_plan(accounts(), **{**_args(), "as_of": pd.Timestamp("2020-01-01")})
    with pytest.raises(InsufficientDataError, match="potential_mrr"):
        ap.account_plan(accounts(), **{**_args(), "expansion": pd.DataFrame(
            {"account_id": ["A1"], "mrr": [1.0]})})


def _args() -> dict:
    return dict(as_of=AS_OF, rules=RULES, mrr=None, value_tiers=None, stages=None, health=None,
                health_measures=None, next_renewals=None, book=None, model_ranks=True,
                flags=None, stuck=None, expansion=None, cost=None)


def test_rules_come_from_the_parameters():
    params = load_params("demo")
    rules = ap.plan_rules(params)
    assert rules.at_risk_below == params.drivers.at_risk_probability
    assert rules.save_play_within_days == params.account_plan.save_play_within_days
    assert set(rules.due_days) == set(ap.ACTIONS[:-1])


def test_the_doc_defines_every_column():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "account-workbook.md").read_text(
        encoding="utf-8")
    missing = [c for c in ap.COLUMNS if f"`{c}`" not in doc]
    assert not missing


# --------------------------------------------------------------------------- on the demo
@pytest.fixture(scope="module")
def demo_ctx(small_demo_run):
    """A small demo client (300 accounts) as a run sees it (conftest)."""
    params, data = small_demo_run
    return AnalysisContext(params, data.tables)


def expansion_and_cost(ctx: AnalysisContext) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The expansion candidates and cost to serve of a run, as notebook 05 computes them."""
    p, d = ctx.params, ctx.tables
    candidates = expansion_analysis.expansion_candidates(
        ctx.accounts, as_of=ctx.as_of, health=ctx.health_scores, usage=d.get("usage"),
        mrr=ctx.counted_mrr, tiers=ctx.value_tiers, currency=p.client.currency,
        **p.expansion.candidate_options())
    costs = cost_to_serve.cost_to_serve(
        ctx.accounts, as_of=ctx.as_of, months=p.period.trailing_months,
        tickets=d.get("tickets"), touches=d.get("touches"), onboarding=d.get("onboarding"),
        touch_model=p.touch_model.model_dump(), tiers=ctx.value_tiers, mrr=ctx.counted_mrr,
        cost_params=p.cost_to_serve.model_dump())
    return candidates, costs


def test_the_plan_of_a_demo_run_covers_its_customers_and_writes_a_clean_workbook(
        demo_ctx, tmp_path):
    ctx = demo_ctx
    p = ctx.params
    model = ctx.renewal_model
    quality = drivers.cross_validated_quality(ctx.modelling_table, model.features,
                                              folds=p.drivers.cv_folds,
                                              seed=p.drivers.random_seed,
                                              units=ctx.features_built["units"])
    ranks = drivers.model_beats_chance(quality, p.drivers.chance_auc_margin)
    book = drivers.renewals_due_book(
        model, ctx.tables, ctx.as_of, horizon_days=p.thresholds.renewal_horizon_days,
        cutoff_days=p.drivers.cutoff_days, at_risk_below=p.drivers.at_risk_probability,
        renewal_options=p.renewal_options(), feature_options=p.feature_options())
    candidates, costs = expansion_and_cost(ctx)
    plan_ = ap.plan_from_context(ctx, book=book, model_ranks=ranks, stages=None, stuck=None,
                                 flags=None, expansion=candidates, cost=costs)
    joined = plan_.set_index("account_id")
    assert joined.loc[candidates.index, "expansion_potential_mrr"].tolist() == pytest.approx(
        candidates["potential_mrr"].tolist())
    assert joined.loc[costs.index, "margin"].tolist() == pytest.approx(costs["margin"].tolist())
    customers = active_accounts(ctx.accounts, ctx.as_of).index.astype(str)
    assert sorted(plan_["account_id"]) == sorted(customers)
    assert plan_["mrr"].sum() == pytest.approx(
        ctx.counted_mrr.loc[ctx.counted_mrr["month"].dt.to_period("M")
                            == ctx.as_of.to_period("M"), "mrr"].sum())
    scored = plan_.dropna(subset=["renewal_probability"])
    assert len(scored) == book["p_renew"].notna().sum()
    # every save play is a scored renewal below the threshold within the window
    saves = plan_[plan_["next_action"] == "save_play"]
    assert ranks or saves.empty
    assert (saves["renewal_probability"] < p.drivers.at_risk_probability).all()
    assert (saves["days_to_renewal"] <= p.account_plan.save_play_within_days).all()
    assert plan_["next_renewal_date"].notna().mean() > 0.5  # annual contracts renew
    assert plan_["health_band"].notna().any()
    xlsx, _ = write_workbook(plan_, tmp_path / "accounts.xlsx", tmp_path / "accounts.csv",
                             currency=p.client.currency, as_of=ctx.as_of, title="Demo")
    book_ = openpyxl.load_workbook(xlsx)
    assert all(c.data_type != "f" for s in book_.worksheets for r in s.iter_rows() for c in r)
    assert book_[ALL_SHEET].max_row == len(plan_) + 1


def test_executive_outreach_is_for_tiers_with_an_assigned_manager_only():
    plan = pd.DataFrame({
        "days_to_renewal": [200.0, 200.0, 200.0], "renewal_probability": [0.9, 0.9, 0.9],
        "flag_single_threaded": [True, True, True], "flag_renewal_no_exec": [False] * 3,
        "expansion_potential_mrr": [float("nan")] * 3, "mrr": [100.0] * 3,
        "value_tier": ["high", "low", None]}, index=pd.Index(["H", "L", "N"]))
    managed = ap.PlanRules(**{**RULES.__dict__, "outreach_tiers": frozenset({"high"})})
    met = ap.rules_met(plan, managed, model_ranks=True, stuck=None)
    assert met["executive_outreach"].tolist() == [True, False, False]
    every = ap.rules_met(plan, RULES, model_ranks=True, stuck=None)   # None: every tier
    assert every["executive_outreach"].tolist() == [True, True, True]


def test_the_run_s_outreach_tiers_are_the_touch_model_s_managed_tiers(client_factory):
    from playbook.config import load_params

    client_factory.write()
    p = load_params("t")
    managed = {n for n, t in p.touch_model.tiers.items() if max(t.accounts_per_csm) > 0}
    assert ap.plan_rules(p).outreach_tiers == frozenset(managed)
    assert managed and managed != set(p.touch_model.tiers)     # the default has a pooled tier


# --------------------------------------------------------------------------- reasons
def reference_reason(action: str, row, rules: ap.PlanRules) -> str:
    """The previous ``account_plan._reason`` (one row as a dict), kept as the reference for
    :func:`account_plan.reasons` (a column at a time, issue 22)."""
    if action == "save_play":
        return (f"Renewal on {tf.date(row['next_renewal_date'])}, renewal probability "
                f"{tf.pct(row['renewal_probability'], 0)} (below "
                f"{tf.pct(rules.at_risk_below, 0)})")
    if action == "executive_outreach":
        said = {"flag_single_threaded": "single-threaded (too few strong executive ties)",
                "flag_renewal_no_exec": "renewal due without a recent executive contact"}
        return "; ".join(text for col, text in said.items()
                         if pd.notna(row[col]) and bool(row[col])).capitalize()
    if action == "onboarding_rescue":
        return "Stuck in onboarding"
    if action == "expansion_conversation":
        reason = row["expansion_reason"]
        return "Expansion potential" + (f": {reason}" if isinstance(reason, str) and reason
                                        else "")
    return ""


def reference_next_action_texts(plan: pd.DataFrame, met: pd.DataFrame, chosen: pd.Series,
                                rules: ap.PlanRules) -> tuple[list[str], list[str]]:
    """The previous ``action_reasons`` (a dict per acting row) and ``other_actions`` (a
    join per row)."""
    inputs = ["next_renewal_date", "renewal_probability", *ap.EXEC_FLAGS, "expansion_reason"]
    why = [""] * len(plan)
    acting = np.flatnonzero(chosen.to_numpy() != "no_action")
    rows = plan.iloc[acting][inputs].to_dict("records")
    for k, row in zip(acting, rows, strict=True):
        why[k] = reference_reason(chosen.to_numpy()[k], row, rules)
    names = list(ap.ACTIONS[:-1])
    also = met[names].to_numpy(dtype=bool) & (
        chosen.to_numpy()[:, None] != np.array(names, dtype=object)[None, :])
    others = [", ".join(itertools.compress(names, row)) for row in also.tolist()]
    return why, others


def assert_texts_as_before(p: pd.DataFrame, rules: ap.PlanRules, **options) -> pd.DataFrame:
    got = ap.next_actions(p, rules, as_of=AS_OF, **options)
    met = ap.rules_met(p, rules, **options)
    why, others = reference_next_action_texts(p, met, got["next_action"], rules)
    assert got["next_action_reason"].tolist() == why
    assert got["other_actions"].tolist() == others
    return got


def test_reasons_and_other_actions_read_as_before_on_hand_made_plans():
    p = plan()
    got = assert_texts_as_before(p, RULES, model_ranks=True, stuck=["A4"])
    assert set(got["next_action"]) == set(ap.ACTIONS)  # every action (and its reason) met
    # every rule met at once, ties of flags, undecided flags, blank expansion reasons
    every = p.assign(flag_single_threaded=pd.array([True, pd.NA] * 4, dtype="boolean"),
                     flag_renewal_no_exec=pd.array([True, True, pd.NA, False] * 2,
                                                   dtype="boolean"),
                     value_tier="high", expansion_potential_mrr=1e6,
                     expansion_reason=["", None, "seats", "=1+1"] * 2)
    for ranks in (True, False):
        got = assert_texts_as_before(every, RULES, model_ranks=ranks, stuck=list(p.index))
        # by hand: A1 meets all four rules, so three others when the model ranks, else two
        assert got.at["A1", "other_actions"].count(", ") == (2 if ranks else 1)
    growing = every.assign(flag_single_threaded=False, flag_renewal_no_exec=pd.NA)
    got = assert_texts_as_before(growing, RULES, model_ranks=False, stuck=None)
    assert (got["next_action"] == "expansion_conversation").all()  # blank reasons included
    assert_texts_as_before(p.iloc[:1], RULES, model_ranks=True, stuck=None)  # one account
    assert_texts_as_before(p.iloc[:0], RULES, model_ranks=True, stuck=None)  # none


def test_reasons_and_other_actions_read_as_before_on_the_demo(demo_ctx):
    ctx = demo_ctx
    candidates, costs = expansion_and_cost(ctx)
    p = ap.plan_from_context(ctx, book=ctx.renewals_due_book, model_ranks=True, stages=None,
                             stuck=None, flags=None, expansion=candidates, cost=costs)
    p = p.set_index("account_id", drop=False)
    got = assert_texts_as_before(p, ap.plan_rules(ctx.params), model_ranks=True,
                                 stuck=list(p.index[::17]))
    assert (got["next_action"] != "no_action").sum() > 20 and got["other_actions"].ne("").any()
