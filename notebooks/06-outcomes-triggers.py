# %% [markdown]
# # 7 Outcomes and trigger events
#
# Does the value customers set out to get (their own targets) predict renewal, and which
# events at the customer warn before churn or expansion, with the accounts not called since.

# %% [markdown] tags=["remove_cell"]
# Data used (analysts' note, not in the report): `outcomes` (success plans) with `renewals`
# for the outcome bands and the renewal model's features; `triggers` with `renewals` (churn),
# `mrr` (expansion) and `touches` (the open list).

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written
data_cache: str = ""  # folder of the validated tables of this run, set by the render step; empty means load the raw files

# %% tags=["remove_cell"]
import pandas as pd

from playbook import session
from playbook.analyses import drivers, outcomes, survival, triggers
from playbook.findings import outcomes as story

nb = session.start("06-outcomes-triggers", client=client, period=period, as_of=as_of,
                   run_dir=run_dir, data_cache=data_cache)
p, d, ctx = nb.params, nb.data, nb.ctx
as_of_ts = pd.Timestamp(nb.as_of)
names = ctx.accounts.drop_duplicates("account_id").set_index("account_id").get("name")

# %%
if nb.requires("outcomes", enables="customer outcomes and their effect on renewal"):
    coverage = outcomes.outcome_coverage(ctx.accounts, d["outcomes"], ctx.value_tiers,
                                         as_of=as_of_ts, lookback_days=p.outcomes.lookback_days)
    nb.record("outcome_coverage", coverage.reset_index())
    nb.say(story.coverage_sentence(coverage, lookback_days=p.outcomes.lookback_days))
    if nb.requires("renewals", enables="renewal by realised value of success outcomes"):
        bands = outcomes.renewal_by_band(ctx.renewal_decisions, d["outcomes"],
                                         cutoff_days=p.drivers.cutoff_days,
                                         lookback_days=p.outcomes.lookback_days)
        nb.record("outcome_bands", bands.reset_index())
        effect = nb.attempt(outcomes.outcome_effect, ctx.modelling_table, d["outcomes"],
                            ctx.model_features, cutoff_days=p.drivers.cutoff_days,
                            lookback_days=p.outcomes.lookback_days,
                            units=ctx.features_built["units"],
                            enables="met outcomes as a renewal driver")
        if effect is not None:
            nb.record("outcome_effect", vars(effect))
        nb.show(story.outcomes_exhibit(bands, effect, cutoff_days=p.drivers.cutoff_days,
                                       lookback_days=p.outcomes.lookback_days))
    if d.has("mrr"):
        e = p.expansion
        grown = outcomes.expansion_by_band(
            ctx.counted_mrr, d["outcomes"], as_of=as_of_ts, horizon_months=e.horizon_months,
            cutoff_every_months=e.cutoff_every_months, min_rise_share=e.min_rise_share,
            lookback_days=p.outcomes.lookback_days)
        nb.record("outcome_expansion_bands", grown.reset_index())
        said = story.expansion_band_sentence(grown, horizon_months=e.horizon_months)
        if said:
            nb.say(said)

# %%
tp = p.triggers
if nb.requires("triggers", enables="trigger events before churn and expansion"):
    churn = expansion_fx = None
    if d.has("renewals"):
        churn = triggers.churn_after_triggers(
            ctx.renewal_decisions, d["triggers"], window_days=tp.churn_window_days,
            min_exposed=tp.min_exposed, table=ctx.modelling_table,
            features=ctx.model_features, units=ctx.features_built["units"])
    if d.has("mrr"):
        expansion_fx = triggers.expansion_after_triggers(
            ctx.counted_mrr, d["triggers"], as_of=as_of_ts,
            horizon_months=p.expansion.horizon_months,
            min_rise_share=p.expansion.min_rise_share, min_exposed=tp.min_exposed)
    effects = triggers.trigger_effects(churn, expansion_fx)
    nb.record("trigger_effects", effects)
    nb.record("trigger_window_days", tp.churn_window_days)
    if len(effects):
        kw = dict(window_days=tp.churn_window_days, horizon_months=p.expansion.horizon_months)
        nb.show(story.triggers_exhibit(effects, **kw))
        nb.say(story.triggers_sentence(effects, **kw))
    if d.has("accounts"):
        start = drivers.data_start(d)
        lifetimes = survival.account_lifetimes(d["accounts"], d.get("churn_events"),
                                               as_of=nb.as_of, data_start=start)
        cox = triggers.trigger_cox(lifetimes, d["triggers"], window_days=tp.churn_window_days,
                                   min_events=tp.min_cox_events)
        nb.record("trigger_cox", cox.reset_index())
        if story.cox_sentence(cox, window_days=tp.churn_window_days):
            nb.say(story.cox_sentence(cox, window_days=tp.churn_window_days))
        curves, readings = triggers.trigger_survival(
            lifetimes, d["triggers"], data_start=start, min_exposed=tp.min_exposed,
            seed=p.drivers.random_seed)
        nb.record("trigger_survival", readings)
        if len(readings):
            nb.show(story.trigger_survival_exhibit(curves, readings, cox,
                                                   window_days=tp.churn_window_days),
                    detail=True)
    open_list = triggers.open_triggers(ctx.accounts, d["triggers"], d.get("touches"),
                                       as_of=as_of_ts, days=tp.open_days,
                                       mrr=ctx.counted_mrr if d.has("mrr") else None)
    nb.record("open_triggers", open_list.reset_index())
    nb.record("open_summary", {"accounts": len(open_list), "mrr": open_list["mrr"].sum(),
                               "days": tp.open_days, "touches": d.has("touches")})
    nb.show(story.open_exhibit(open_list, names, days=tp.open_days, rows=tp.open_rows,
                               currency=nb.currency, touches=d.has("touches")))

# %% tags=["remove_cell"]
nb.save()
