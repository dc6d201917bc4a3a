# %% [markdown]
# # 3 Renewal drivers
#
# What predicts renewal, and who is at risk now? One row per renewal decision, with every
# feature measured as of a cut-off before the decision (90 days by default) so nothing the
# decision caused leaks into the model. A logistic regression gives odds ratios with 95%
# intervals and effects in probability points; cross-validation says how well it predicts
# accounts it has not seen. Needs `accounts` and `renewals` or `churn_events`; `usage`,
# `surveys`, `tickets`, `contacts`, `touches` and `onboarding` supply the features.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written

# %% tags=["remove_cell"]
from playbook import session
from playbook.analyses import drivers
from playbook.findings import drivers as story

nb = session.start("02-renewal-drivers", client=client, period=period, as_of=as_of,
                   run_dir=run_dir)
p, d = nb.params, nb.data

# %% [markdown]
# ## What predicts renewal

# %%
decisions = drivers.renewal_decisions(d["accounts"], d.get("renewals"), d.get("churn_events"),
                                      as_of=nb.as_of)
decisions = decisions[decisions["decision_date"] <= nb.as_of]
table, built = drivers.modelling_table(decisions, d.tables, cutoff_days=p.drivers.cutoff_days,
                                       **p.feature_options())
wanted = p.drivers.features or drivers.DEFAULT_MODEL_FEATURES
features = [f for f in wanted if f in built["built"]]
model = drivers.fit_renewal_model(table, features)
nb.record("model", story.model_record(model, built))
nb.show(story.forest(model))
nb.say(story.effects_sentence(model))

# %%
nb.say(story.checks_sentence(model, built))

# %% [markdown]
# ## How well the model predicts

# %%
quality = drivers.cross_validated_quality(table, model.features, folds=p.drivers.cv_folds,
                                          seed=p.drivers.random_seed)
nb.record("quality", {k: v for k, v in quality.items() if k != "predictions"})
lift = drivers.lift_by_decile(table.loc[quality["predictions"].dropna().index, "renewed"],
                              quality["predictions"].dropna())
nb.show(story.lift(lift, quality))

# %% [markdown]
# ## Who is at risk now

# %%
upcoming = drivers.upcoming_renewals(d["accounts"], nb.as_of,
                                     horizon_days=p.thresholds.renewal_horizon_days)
current, _ = drivers.modelling_table(upcoming, d.tables, cutoff_days=p.drivers.cutoff_days,
                                     **p.feature_options())
risk = drivers.risk_scores(model, current)
nb.record("at_risk", story.risk_record(risk))
nb.show(story.at_risk(risk, d["accounts"], nb.currency, p.thresholds.renewal_horizon_days))

# %% tags=["remove_cell"]
nb.save()
