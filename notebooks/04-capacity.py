# %% [markdown]
# # 5 Coverage and headcount
#
# How many people does it take to serve the base, and what does churn cost? The touch model
# per value tier (from params) gives the headcount two ways, by accounts-per-CSM ratio and by
# the hours the touches take; current coverage comes from the `owner` column.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written

# %% tags=["remove_cell"]
from playbook import session
from playbook.analyses import capacity, segments
from playbook.findings import capacity as story

nb = session.start("04-capacity", client=client, period=period, as_of=as_of, run_dir=run_dir)
p, d = nb.params, nb.data
touch_model = p.touch_model.model_dump()

# %%
scores = segments.value_scores(d["accounts"], as_of=nb.as_of, weights=p.value.weights,
                               usage=d.get("usage"), csm_inputs=d.get("csm_inputs"),
                               mrr=d.get("mrr"))
tiers = segments.value_tiers(scores, shares=p.value.tier_shares)
required = capacity.required_headcount(tiers.value_counts().to_dict(), touch_model)
coverage = capacity.owner_coverage(d["accounts"], tiers, touch_model=touch_model)
current = story.current_fte_by_tier(coverage)
nb.record("headcount", required.reset_index())
nb.record("current_owners", int(len(coverage)))
nb.show(story.headcount_table(required, nb.currency))
nb.show(story.headcount(required, current))
nb.say(story.coverage_sentence(coverage))

# %% [markdown]
# # 6 Impact scenarios
#
# What churn compounds to: MRR paths at different annual churn rates for the same growth,
# starting from the client's own base. The compounding assumptions are printed under the
# chart.

# %%
s = p.scenarios
active = scores.index.size
arpa = float(scores["mrr"].mean())
own = story.own_churn_rate(d["accounts"], nb.as_of)
rates = sorted(set(round(r, 3) for r in [*s.churn_rates, own]))
paths = capacity.revenue_paths(customers=active, arpa=arpa, growth=s.growth, churn_rates=rates,
                               years=s.years, compounding=s.compounding,
                               churn_base=s.churn_base)
gap = capacity.path_gap(paths, s.years)
nb.record("scenario_gap", gap.reset_index())
nb.show(story.revenue_paths(paths, gap, years=s.years, growth=s.growth, currency=nb.currency,
                            assumptions=story.assumptions_text(s)))
nb.say(story.scenario_sentence(gap, own, s.years, nb.currency))

# %% tags=["remove_cell"]
nb.save()
