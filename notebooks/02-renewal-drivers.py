# %% [markdown]
# # 3 Renewal drivers
#
# What predicts renewal, and who is at risk now? One row per renewal decision, with every
# feature measured as of a cut-off before the decision (90 days by default) so nothing the
# decision caused leaks into the model. A logistic regression gives odds ratios with 95%
# intervals and effects in probability points; cross-validation says how well it predicts
# accounts it has not seen; a survival model cross-checks the drivers.

# %% [markdown] tags=["remove_cell"]
# Data used (analysts' note, not in the report): `accounts` and `renewals` or
# `churn_events`; `usage`, `surveys`, `tickets`, `contacts`, `touches` and `onboarding`
# supply the features.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written
data_cache: str = ""  # folder of the validated tables of this run, set by the render step; empty means load the raw files

# %% tags=["remove_cell"]
from playbook import session
from playbook import textfmt as tf
from playbook.analyses import drivers, survival
from playbook.findings import drivers as story

nb = session.start("02-renewal-drivers", client=client, period=period, as_of=as_of,
                   run_dir=run_dir, data_cache=data_cache)
p, d = nb.params, nb.data

# %% [markdown]
# ## What goes with renewal

# %%
monthly = nb.ctx.month_to_month_accounts
all_rows = nb.ctx.modelling_rows  # each decision's features at its cut-off
built = nb.ctx.features_built  # which features were built, their units, what was skipped
table, history = nb.ctx.modelling_table, nb.ctx.modelling_history  # enough history only
left_out = nb.ctx.features_left_out
model = nb.attempt(lambda: nb.ctx.renewal_model, enables="the renewal model")
if story.history_sentence(history, len(all_rows)):
    nb.say(story.history_sentence(history, len(all_rows)))
if len(monthly):
    nb.say(story.month_to_month_sentence(len(monthly)))
nb.record("month_to_month_left_out", len(monthly))
nb.record("history", history)
if model is not None:
    nb.show(story.forest(model, p.drivers.cutoff_days), headline=True)
    if story.leakage_sentence(model):
        nb.say(story.leakage_sentence(model))
    nb.say(story.effects_markdown(model))
    nb.record("model", story.model_record(model, built))

# %% [markdown]
# ## Model checks

# %%
if model is not None:
    nb.show(story.checks(model, built, history, left_out), detail=True)

# %% [markdown]
# ## How well the model predicts

# %%
quality = None
if model is not None:
    quality = nb.attempt(lambda: nb.ctx.renewal_quality,
                         enables="the model's out-of-sample quality")
if quality is not None:
    scored = quality["predictions"].dropna()
    renewed = table.loc[scored.index, "renewed"]
    lift = drivers.lift_by_decile(1 - renewed, 1 - scored)
    nb.show(story.lift(lift, quality))
    calibration = drivers.calibration_table(renewed, scored, bins=10)
    nb.show(story.calibration(calibration, quality), detail=True)
    nb.record("quality", {k: v for k, v in quality.items() if k != "predictions"})
    nb.record("lift", lift)
    nb.record("calibration", calibration)

# %% [markdown]
# ## How long customers stay

# %%
lifetimes = survival.account_lifetimes(d["accounts"], d.get("churn_events"), as_of=nb.as_of,
                                       data_start=history["data_start"])
curves = survival.kaplan_meier(lifetimes)
retention = survival.survival_at(curves, [12, 24, 36, 48, 60, 72, 84])
nb.show(story.survival(curves, retention, small_n=p.thresholds.small_group_n), detail=True)
nb.record("retention", retention)
cox = None
if model is not None:
    intervals = survival.decision_intervals(table, d["accounts"],
                                            term_months=p.contracts.term_months)
    cox = nb.attempt(survival.cox_model, intervals, model.features, units=built["units"],
                     enables="the Cox cross-check")
if cox is not None:
    compare = survival.compare_with_logit(model.coefficients, cox["coefficients"])
    nb.show(story.cox_table(compare, cox), detail=True)
    nb.record("cox", {k: v for k, v in cox.items() if k not in ("coefficients", "ph_check")}
              | {"coefficients": cox["coefficients"].reset_index(),
                 "ph_check": cox["ph_check"].reset_index(),
                 "comparison": compare.reset_index()})

# %% [markdown]
# ## Who is at risk now

# %%
if model is not None:
    horizon = p.thresholds.renewal_horizon_days
    significant_terms = story.significant(model.coefficients).index
    # the renewals due, scored by the model; reasons named only among significant drivers
    book = nb.ctx.open_book(reason_columns=significant_terms if len(significant_terms) else None)
    ranks = drivers.model_beats_chance(quality, p.drivers.chance_auc_margin)
    book["at_risk"] = book["at_risk"] & ranks  # a chance-level model singles out no one
    summary = drivers.open_book_summary(book, model_ranks=ranks)
    caveat = story.open_book_caveat(model.coefficients, float(table["renewed"].mean()), summary,
                                    p.drivers.at_risk_probability)
    if caveat:
        nb.note(caveat)
    if len(book):
        nb.show(story.open_book(book, summary, d["accounts"], nb.currency, horizon,
                                p.drivers.at_risk_probability, rows=p.drivers.open_book_rows,
                                contact_cap=p.drivers.contact_days_cap, as_of=nb.as_of),
                headline=True)
    else:
        nb.say(tf.md_escape(story.open_book_title(summary, horizon, nb.currency, nb.as_of))
               + ".")
    nb.record("open_book", story.book_record(book, summary, as_of=nb.as_of))
    nb.record("headline", story.headline(model, history, quality or {}, summary))

# %% tags=["remove_cell"]
nb.save()
