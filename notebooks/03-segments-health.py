# %% [markdown]
# # 4 Value, lifecycle and health
#
# Who matters most, where is each customer in its lifecycle, and how healthy is it? Accounts
# are tiered by a value score (contract value weighs most), placed in a lifecycle stage, and
# scored on a health scorecard whose parts are shown, then checked against what actually
# happened at renewal. Needs `accounts` and `mrr`; `usage`, `surveys`, `tickets`,
# `csm_inputs`, `onboarding`, `contacts` and `touches` add measures.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written

# %% tags=["remove_cell"]
from playbook import session
from playbook.analyses import backtest, drivers, health, segments
from playbook.findings import segments as story

nb = session.start("03-segments-health", client=client, period=period, as_of=as_of,
                   run_dir=run_dir)
p, d = nb.params, nb.data

# %% [markdown]
# ## Value pyramid

# %%
value_inputs = dict(weights=p.value.weights, usage=d.get("usage"),
                    csm_inputs=d.get("csm_inputs"), mrr=d.get("mrr"))
scores = segments.value_scores(d["accounts"], as_of=nb.as_of, **value_inputs)
tiers = segments.value_tiers(scores, shares=p.value.tier_shares)
pyramid = segments.tier_concentration(d["accounts"], tiers, mrr=scores["mrr"],
                                      small_group_n=p.thresholds.small_group_n)
nb.record("tiers_now", pyramid.reset_index())
nb.show(story.value_pyramid(pyramid))

# %%
year_start = nb.as_of - nb.months(12)
scores_then = segments.value_scores(d["accounts"], as_of=year_start, **value_inputs)
tiers_then = segments.value_tiers(scores_then, shares=p.value.tier_shares)
leak = segments.tier_concentration(d["accounts"], tiers_then, churned=d.get("churn_events"),
                                   window=(year_start, nb.as_of), mrr=scores_then["mrr"],
                                   small_group_n=p.thresholds.small_group_n)
nb.record("tiers_churn", leak.reset_index())
nb.show(story.tier_table(leak, nb.currency))

# %% [markdown]
# ## Lifecycle

# %%
stages = segments.lifecycle_stage(d["accounts"], as_of=nb.as_of, onboarding=d.get("onboarding"),
                                  usage=d.get("usage"), mrr=d.get("mrr"))
nb.record("lifecycle", stages.value_counts().to_dict())
nb.show(story.lifecycle(stages))

# %% [markdown]
# ## Health scorecard

# %%
scored = health.health_scores(d["accounts"], as_of=nb.as_of, weights=p.health.weights,
                              bands=p.health.bands, usage=d.get("usage"),
                              surveys=d.get("surveys"), tickets=d.get("tickets"),
                              csm_inputs=d.get("csm_inputs"))
nb.record("health_bands", scored["health_band"].value_counts().to_dict())
nb.say(story.health_sentence(scored))

# %%
decisions = drivers.renewal_decisions(d["accounts"], d.get("renewals"), d.get("churn_events"),
                                      as_of=nb.as_of)
recent = decisions[decisions["decision_date"].between(nb.as_of - nb.months(12), nb.as_of)]
past = backtest.health_at_cutoff(recent, d.tables, weights=p.health.weights,
                                 bands=p.health.bands, cutoff_days=p.drivers.cutoff_days)
outcomes = health.band_outcomes(past["health_band"], recent.loc[past.index, "renewed"] == 1,
                                small_group_n=p.thresholds.small_group_n)
nb.record("health_outcomes", outcomes.reset_index())
nb.show(story.health_outcomes(outcomes))

# %% [markdown]
# ## Relationship risk

# %%
if nb.requires("contacts", "touches", enables="relationship-risk flags"):
    t = p.thresholds
    flags = health.relationship_flags(
        d["accounts"], d["contacts"], d["touches"], d.get("usage"), as_of=nb.as_of,
        exec_days=t.exec_contact_days_before_renewal, user_days=t.user_contact_days_after_drop,
        renewal_horizon_days=t.renewal_horizon_days,
        strong_exec_enterprise=t.strong_exec_relationships_enterprise,
        strong_exec_smb=t.strong_exec_relationships_smb, usage_drop_share=t.usage_drop_share)
    mrr_now = scores["mrr"]
    nb.record("relationship_flags", {c: int(flags[c].fillna(False).sum())
                                     for c in story.FLAG_LABELS if c in flags})
    nb.show(story.flags_table(flags, mrr_now, nb.currency))

# %% tags=["remove_cell"]
nb.save()
