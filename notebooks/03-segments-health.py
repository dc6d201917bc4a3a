# %% [markdown]
# # 4 Value, lifecycle and health
#
# Who matters most, where is each customer in its lifecycle, how healthy is it, and what is
# it worth? Accounts are tiered by a value score (contract value weighs most); where the data
# hold the measures, each is placed in a lifecycle stage and scored on a health scorecard
# whose parts are shown, and the score is checked against what actually happened at past
# renewals. A view the data cannot support says what would enable it.

# %% [markdown] tags=["remove_cell"]
# Data used (analysts' note, not in the report): `accounts` and `mrr`; `usage`, `surveys`,
# `tickets`, `csm_inputs`, `onboarding`, `contacts`, `touches` and `churn_events` add
# measures.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written
data_cache: str = ""  # folder of the validated tables of this run, set by the render step; empty means load the raw files

# %% tags=["remove_cell"]
import pandas as pd

from playbook import session
from playbook.analyses import backtest, clv, health, segments, variables
from playbook.analyses.drivers import flag_expected_losses
from playbook.analyses.segments.lifecycle import adopting_unmeasured
from playbook.evidence import need
from playbook.findings import drivers as driver_story
from playbook.findings import metrics as metrics_story
from playbook.findings import segments as story

nb = session.start("03-segments-health", client=client, period=period, as_of=as_of,
                   run_dir=run_dir, data_cache=data_cache)
p, d = nb.params, nb.data
accounts = nb.ctx.accounts  # customers as billed: the headline figures' accounts
t = p.thresholds
year_start = nb.as_of - nb.months(12)

# %% [markdown]
# ## Value pyramid

# %%
scores, tiers = nb.ctx.value_scores, nb.ctx.value_tiers
pyramid = segments.tier_concentration(accounts, tiers, mrr=scores["mrr"],
                                      small_group_n=t.small_group_n)
nb.record("tiers_now", pyramid.reset_index())
nb.show(story.value_pyramid(pyramid, method=p.value.tier_method))

# %%
if nb.has_mrr_history(1, quiet=True):  # the base of the trailing window (headline basis)
    window, base = nb.ctx.retention_window, nb.ctx.retention_cohort
    lost = base["mrr_then"] - base["capped"]  # churn + contraction: sums to 1 - GRR
else:  # no MRR history: the accounts table's start and churn dates give the base
    window = variables.accounts_window(nb.as_of, p.period.trailing_months)
    # the table as loaded: billing cannot date the churn of accounts it never billed
    base, lost = variables.cohort_from_accounts(d["accounts"], window), None
scores_base = segments.value_scores(accounts, as_of=variables.month_end(window.base_month),
                                    ids=base.index, weights=p.value.weights,
                                    usage=d.get("usage"), csm_inputs=d.get("csm_inputs"),
                                    mrr=d.get("mrr"))
leak = segments.tier_concentration(accounts, nb.ctx.value_tiers_of(scores_base),
                                   churned=base["churned"],
                                   mrr=base["mrr_then"].fillna(scores_base["mrr"]), lost=lost,
                                   small_group_n=t.small_group_n)
tier_basis = {**window.as_dict(), "from_mrr": lost is not None,
              "unscored": int(scores_base["value_score"].isna().sum())}
nb.record("tiers_churn", leak.reset_index())
nb.record("tiers_churn_basis", tier_basis)
unstated = (metrics_story.restates_withheld(nb.ctx.headline_metrics, ("grr", "logo_churn"),
                                            "churn and lost MRR by value tier")
            if tier_basis["from_mrr"] else "")
if unstated:  # the tiers' logo churn and lost MRR are the withheld rates, by tier
    nb.note(unstated)
else:
    nb.show(story.tier_table(leak, nb.currency, tier_basis), headline=True)

# %%
previous_end = nb.period_start - pd.Timedelta(days=1)
gaps = segments.value_history_gaps(previous_end, mrr=d.get("mrr"), usage=d.get("usage"),
                                   csm_inputs=d.get("csm_inputs"))
if d.has("mrr") and not gaps:
    tiers_before = nb.ctx.value_tiers_of(nb.ctx.value_scores_on(previous_end))
    stability = segments.tier_stability(tiers_before, tiers)
    nb.record("tier_stability", {k: v for k, v in stability.items() if k != "matrix"})
    nb.show(story.tier_stability(stability, p.value.stable_share, previous_end), detail=True)
else:
    nb.skip("tier stability", story.stability_unavailable(gaps or ["mrr"], previous_end),
            ["value inputs dated on or before the previous period's end"])

# %% [markdown]
# ## Lifecycle

# %% tags=["remove_cell"]
lc = p.lifecycle
# stages need measured use (depth = active users / licensed seats) and billing (expansion);
# the Onboarding stage needs onboarding milestones: no stage is placed from a default
stage_needs = (need("usage", "active_users", "licensed_seats"), need("mrr"))
onboarding_view = "onboarding progress (accounts stuck in onboarding, step completion)"
has_onboarding = d.has("onboarding")
key_steps = lc.onboarding_steps or segments.onboarding_step_order(accounts,
                                                                  d.get("onboarding"))
stage_rules = dict(onboarding=d.get("onboarding"), usage=d.get("usage"), mrr=d.get("mrr"),
                   onboarding_days=lc.onboarding_days if has_onboarding else None,
                   active_depth=lc.active_depth, expanding_growth=lc.expanding_growth,
                   transformational_depth=lc.transformational_depth,
                   transformational_products=lc.transformational_products,
                   steps=key_steps or None)
stages = segments.lifecycle_stage(accounts, as_of=nb.as_of, **stage_rules)

# %%
staged = nb.requires(*stage_needs, enables="the lifecycle stage of each account")
if staged:
    snapshots = segments.month_ends(nb.as_of, lc.history_months)
    history = segments.stage_history(accounts, dates=snapshots, **stage_rules)
    stage_table = segments.stage_summary(stages, segments.time_in_stage(history))
    nb.record("lifecycle", stage_table.reset_index())
    nb.show(story.lifecycle(stage_table, lc.history_months,
                            onboarding_measured=has_onboarding,
                            unmeasured=adopting_unmeasured(stages, d.get("usage"), nb.as_of)))

# %%
if staged:
    # the same base as logo churn: stages at the window's start, churned = not paying now
    stages_then = segments.lifecycle_stage(accounts, as_of=variables.month_end(
        window.base_month), **stage_rules).reindex(base.index).dropna()
    stage_leak = segments.tier_concentration(accounts, stages_then, churned=base["churned"],
                                             mrr=base["mrr_then"], lost=lost,
                                             small_group_n=t.small_group_n)
    nb.record("lifecycle_churn", stage_leak.reset_index())
    nb.show(story.stage_churn(stage_leak, window.label), detail=True)

# %%
if nb.requires("onboarding", enables=onboarding_view):
    stuck = segments.stuck_onboarding(accounts, stages, as_of=nb.as_of,
                                      days=lc.stuck_onboarding_days,
                                      onboarding=d.get("onboarding"), mrr=scores["mrr"],
                                      steps=key_steps or None)
    nb.record("stuck_onboarding", {"accounts": len(stuck), "mrr": stuck["mrr"].sum(),
                                   "days": lc.stuck_onboarding_days})
    # every account still onboarding is in the workbook with its next action
    nb.show(story.stuck_table(stuck, lc.stuck_onboarding_days, nb.currency), detail=True)

# %%
if nb.requires("onboarding", enables=onboarding_view):
    cohort = (nb.as_of - nb.months(lc.cohort_months),
              nb.as_of - pd.Timedelta(days=lc.stuck_onboarding_days))
    funnel = segments.onboarding_funnel(accounts, d["onboarding"], as_of=nb.as_of,
                                        started=cohort, steps=key_steps)
    nb.record("onboarding_steps", funnel.reset_index())
    nb.show(story.onboarding_steps(funnel, cohort), detail=True)

# %% [markdown]
# ## Health scorecard

# %%
scored = nb.ctx.health_scores
used = nb.ctx.health_measures
has_health = nb.ctx.has_health_score  # one measure alone is not a health score
health_source = story.measures_source(used)
if has_health:
    nb.record("health_bands", scored["health_band"].value_counts().to_dict())
    mix = health.band_mix(scored, by="segment", mrr=scores["mrr"])
    nb.record("health_bands_by_segment", mix.reset_index())
    nb.say(story.health_sentence(scored, used))
    nb.show(story.band_mix(mix, nb.currency, t.small_group_n, health_source), detail=True)
else:
    nb.skip("the health scorecard",
            story.too_few_measures_sentence(used, len(scored), health.MIN_MEASURES),
            [f"health measures (fewer than {health.MIN_MEASURES})"])

# %%
if has_health:
    examples = health.health_examples(scored, scores["mrr"], per_band=2)
    names = accounts.drop_duplicates("account_id").set_index("account_id").get("name")
    nb.show(story.health_examples(examples, used["effective_weight"].to_dict(), nb.currency,
                                  names, health_source), detail=True)

# %% [markdown]
# ## Does the score predict renewal?

# %%
decisions = nb.ctx.renewal_decisions
monthly = nb.ctx.month_to_month_accounts
backtest_source = story.measures_source(
    used, "renewals" if d.has("renewals") else "churn_events")
if len(monthly):
    nb.say(driver_story.month_to_month_sentence(len(monthly)))
nb.record("month_to_month_left_out", len(monthly))
recent = decisions[decisions["decision_date"].between(
    nb.as_of - nb.months(p.health.backtest_months), nb.as_of)]
past = nb.ctx.health_before(recent if has_health else recent.iloc[:0])
renewed = recent.loc[past.index, "renewed"].astype(float)
tested = len(past) > 0
if tested:
    outcomes = health.band_outcomes(past["health_band"], renewed == 1,
                                    small_group_n=t.small_group_n)
    auc = backtest.auc_interval(renewed, past["health_score"])
    nb.record("health_outcomes", outcomes.reset_index())
    nb.record("backtest", {**auc, "min_auc": p.health.backtest_min_auc,
                           "predicts": story.predicts(auc, p.health.backtest_min_auc)})
    nb.show(story.backtest_bands(outcomes, auc, p.health.backtest_min_auc,
                                 p.health.backtest_months, p.drivers.cutoff_days,
                                 backtest_source))
elif not has_health:
    nb.skip("the health-score backtest", "Not shown: with no health score (see the "
            "scorecard above) there is no score to test against past renewals.",
            [f"health measures (fewer than {health.MIN_MEASURES})"])
else:
    nb.say(story.no_backtest_sentence(len(recent), p.health.backtest_months))

# %%
if tested:
    signal = backtest.measure_signal(past, renewed, p.health.weights)
    signal = signal.loc[signal.index.isin(used.index)].assign(  # measures with data only
        weight=used["effective_weight"])
    reg = backtest.regression_weights(past, renewed)
    cv = (backtest.cross_validated_weights(past, renewed, p.health.weights,
                                           folds=p.health.backtest_folds,
                                           seed=p.drivers.random_seed)
          if reg["weights"] else None)
    nb.record("backtest_measures", signal.reset_index())
    nb.record("proposed_weights", {"weights": reg["weights"], "cross_validated": cv,
                                   "error": reg["error"]})
    nb.show(story.measure_signal(signal, reg, cv, backtest_source), detail=True)
    nb.say(story.weights_sentence(reg, cv, used["effective_weight"].to_dict(), auc,
                                  p.health.backtest_min_auc, p.health.reweight_min_gain))

# %% [markdown]
# ## Relationship risk

# %%
# who is an executive or a user, how strong each tie is, and which contact a touch reached:
# without them every account would be flagged by default
if nb.requires(need("contacts", "relationship_strength", any_of=("role", "seniority")),
               need("touches", "contact_id"), enables="relationship-risk flags"):
    flags = nb.ctx.relationship_flags
    # each flag's observed churn rate: of the accounts flagged a year ago, the share gone now
    flags_then = nb.ctx.relationship_flags_on(year_start)
    losses = flag_expected_losses(flags_then, flags, scores["mrr"], ["flag_single_threaded"])
    flag_summary = health.flag_summary(flags, accounts, scores["mrr"], top_owners=1)
    at_risk = health.accounts_at_risk(flags, accounts, scores["mrr"])
    nb.record("relationship_flags", flag_summary["accounts"].to_dict())
    nb.record("flags_summary", {flag: row | losses.get(flag, {})
                                for flag, row in flag_summary.to_dict(orient="index").items()})
    nb.record("flagged", {"accounts": len(at_risk), "mrr": at_risk["mrr"].sum(),
                          "two_or_more": int((at_risk["flags"] >= 2).sum())})
    nb.show(story.flags_table(flag_summary, flags, scores["mrr"], nb.currency))
    nb.show(story.at_risk_table(at_risk, nb.currency), detail=True)

# %% [markdown]
# ## Customer lifetime value

# %%
c = p.clv  # each tier's churn as in the tier churn exhibit above (the base, by tier then)
clv_blocked = clv.withheld_inputs(nb.ctx.headline_metrics["withheld"]
                                  if tier_basis["from_mrr"] else {})
if clv_blocked:  # MRR or logo churn withheld by the metrics' invariants: no lifetime either
    nb.note(story.clv_not_shown(clv_blocked))
else:
    clv_table = clv.clv_by_tier(pyramid, clv.tier_churn(leak, months=window.months),
                                gross_margin=c.gross_margin, discount_rate=c.discount_rate,
                                horizon_months=c.horizon_months, min_churned=c.min_churned,
                                max_lifetime_months=c.max_lifetime_months)
    nb.record("clv_by_tier", clv_table.reset_index())
    nb.show(story.clv_table(clv_table, nb.currency, c.horizon_months, c.max_lifetime_months),
            detail=True)
    nb.say(story.clv_assumptions(gross_margin=c.gross_margin, discount_rate=c.discount_rate,
                                 horizon_months=c.horizon_months,
                                 window=(window.base_month, window.end_month),
                                 months=window.months, min_churned=c.min_churned,
                                 total=clv.defensible_total(clv_table), currency=nb.currency))

# %% tags=["remove_cell"]
nb.save()
