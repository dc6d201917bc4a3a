# %% [markdown]
# # 5 Coverage and headcount
#
# How many people does it take to serve the base, and what does it cost? Where the client
# names account owners or sets its own touch model, the touch model per value tier gives the
# headcount two ways, by accounts-per-CSM ratio and by the hours the touches take, and the
# owners give today's coverage.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written
data_cache: str = ""  # folder of the validated tables of this run, set by the render step; empty means load the raw files

# %% tags=["remove_cell"]
from playbook import session
from playbook.analyses import capacity, scenarios
from playbook.analyses.scenario_basis import scenario_basis
from playbook.findings import capacity as story

nb = session.start("04-capacity", client=client, period=period, as_of=as_of, run_dir=run_dir,
                   data_cache=data_cache)
p, d = nb.params, nb.data
accounts = nb.ctx.accounts  # customers as billed: the headline figures' accounts
touch_model = p.touch_model.model_dump()
tier_names = list(touch_model["tiers"])
# sized only on the client's own evidence: named owners or a touch model in its params
evidence = capacity.capacity_evidence(accounts,
                                      touch_model_from_client=p.set_by_client("touch_model"))
nb.record("capacity_evidence", evidence)
sized, owners = evidence["sized"], evidence["owners"]

# %%
if not sized:
    nb.note(story.NO_CAPACITY_EVIDENCE)

# %% [markdown]
# ## Touch model

# %%
if sized:
    scores, tiers = nb.ctx.value_scores, nb.ctx.value_tiers
    counts = tiers.value_counts().to_dict()
    required = capacity.required_headcount(counts, touch_model)
    nb.record("touch_plan", capacity.touch_plan(touch_model))
    nb.show(story.touch_plan_table(required))

# %% [markdown]
# ## Headcount two ways

# %%
if sized:
    coverage = capacity.owner_coverage(accounts, tiers, touch_model=touch_model,
                                       mrr=scores["mrr"])
    current = capacity.current_capacity(coverage, touch_model)
    gap = capacity.headcount_gap(required, current)
    nb.record("headcount", required.reset_index())
    total = gap.loc["total"].drop(["role", "loaded_cost"]).to_dict()
    if not owners:  # today's coverage unknown, not zero: no current, gap or its cost
        total = {k: v for k, v in total.items()
                 if k not in ("current", "gap", "cost_current", "cost_gap")}
    nb.record("headcount_total", total)
    nb.record("csms_by_tier", {
        t: {"required_by_effort": gap.loc[t, "fte_by_effort"],
            "current": gap.loc[t, "current"] if owners else None,
            "required_by_ratio": [gap.loc[t, "fte_by_ratio_min"], gap.loc[t, "fte_by_ratio_max"]],
            "gap": gap.loc[t, "gap"] if owners else None} for t in gap.index})
    nb.record("csm_cost", {"required_by_effort": gap.loc["total", "cost_by_effort"],
                           "current": gap.loc["total", "cost_current"] if owners else None,
                           "difference": gap.loc["total", "cost_gap"] if owners else None})
    nb.show(story.headcount_table(gap, required, nb.currency, with_current=owners))
    nb.say(story.gap_explanation(required))
    if owners:
        nb.record("current_owners", int((coverage.index != "(unassigned)").sum()))
        nb.show(story.headcount(gap), headline=True)
    else:
        nb.say(story.NO_OWNERS)

# %% [markdown]
# ## Sensitivity to growth and tier mix

# %%
if sized:
    tm = p.touch_model
    sens = capacity.headcount_sensitivity(counts, touch_model, account_growth=tm.account_growth,
                                          years=tm.growth_years,
                                          top_tier_shifts=tm.top_tier_shifts)
    nb.record("headcount_sensitivity", sens)
    nb.show(story.sensitivity_table(sens, top_tier=tier_names[0],
                                    account_growth=tm.account_growth, currency=nb.currency),
            detail=True)

# %% [markdown]
# ## Coverage by owner

# %%
if owners:
    nb.record("owner_coverage", coverage.reset_index())
    nb.show(story.owner_table(coverage, tier_names, nb.currency), detail=True)  # the workbook has every owner
    nb.say(story.coverage_sentence(coverage))

# %% [markdown]
# # 6 Impact scenarios

# %% [markdown]
# What churn compounds to, and which levers move revenue most. Every figure starts from the
# client's own MRR and the trailing twelve months' rates on the report's one metrics basis
# (gross revenue churn 1 − GRR, expansion NRR − GRR, new business); the compounding
# assumptions are parameters and are printed under the charts.

# %% [markdown] tags=["remove_cell"]
# Data used (analysts' note, not in the report): 12 months of `mrr`, through the headline
# metrics (`nb.ctx.headline_metrics`). The path model's check against domain.md's textbook
# case (1,000 customers at $100, 50% growth) is a unit test
# (tests/test_scenarios.py::test_domain_churn_compounding_1000_customers_at_100).

# %%
s = p.scenarios
basis = None  # the client's annual rates on the metrics basis: what the scenarios compound
headline = (nb.attempt(lambda: nb.ctx.headline_metrics, enables="the impact scenarios")
            if nb.requires("mrr", enables="the impact scenarios") else None)
if headline is not None:
    basis = scenario_basis(headline, years=s.years, compounding=s.compounding,
                           churn_base=s.churn_base, growth=s.growth, churn_rates=s.churn_rates,
                           max_churn=s.max_churn, max_growth=s.max_growth)
    if basis.rates:
        nb.record("client_rates", basis.rates)
    if not basis.compoundable:  # nothing defensible to compound: say why, skip the exhibits
        nb.record("scenarios_skipped", basis.reasons)
        nb.note(story.scenarios_not_shown(basis, s.years))

# %%
if basis and basis.compoundable:
    own, model = basis.churn, basis.model
    paths = capacity.revenue_paths(customers=1, arpa=basis.mrr, growth=basis.growth,
                                   churn_rates=basis.churn_rates, **model)
    path_gap = capacity.path_gap(paths, s.years)
    at_stake = scenarios.churn_change_value(
        basis.mrr, {"new_sales": basis.growth, "expansion": 0.0, "churn": own}, 0.0,
        discount_rate=s.discount_rate, **model)
    nb.record("scenario_gap", path_gap.reset_index())
    nb.record("revenue_at_stake_from_churn", {
        "annual_churn": own, "years": s.years, "year_n_mrr_gap": path_gap.loc[own, "gap"],
        "year_n_gap_share": path_gap.loc[own, "gap_share"],
        "revenue_over_years": at_stake["revenue_gain"], "npv": at_stake["npv_gain"]})
    nb.show(story.revenue_paths(paths, path_gap, years=s.years, growth=basis.growth, own=own,
                                currency=nb.currency, n=basis.accounts,
                                assumptions=story.assumptions_text(
                                    s, growth_from_client=s.growth is None)))
    nb.say(story.scenario_sentence(path_gap, own, s.years, nb.currency, at_stake))

# %% [markdown]
# ## Growth arithmetic and the value of less churn

# %%
if basis and basis.compoundable:
    arithmetic = scenarios.growth_arithmetic(basis.rates, p.thresholds.growth_target)
    nb.record("growth_arithmetic_client", arithmetic)
    nb.show(story.growth_table(arithmetic, nb.currency, n=basis.accounts), detail=True)
    point = scenarios.churn_point_value(basis.mrr, basis.rates, point=s.churn_point,
                                        discount_rate=s.discount_rate, **basis.model)
    nb.record("churn_point_value", point)
    nb.say(story.churn_point_sentence(point, nb.currency))

# %% [markdown]
# ## Levers

# %%
if basis and basis.compoundable:
    levers = scenarios.lever_tornado(basis.mrr, basis.rates, s.levers, **basis.model)
    nb.record("levers", levers.reset_index())
    # the opportunity walk (before the summary) sizes the levers of action; this one is detail
    nb.show(story.tornado(levers, years=s.years, currency=nb.currency, n=basis.accounts),
            detail=True)

# %% tags=["remove_cell"]
nb.save()
