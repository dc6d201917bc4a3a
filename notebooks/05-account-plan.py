# %% [markdown]
# # 8 Where to act
#
# Which accounts to act on, and what acting is worth: the healthy, adopting accounts that
# could buy more, what each tier costs to serve against what it earns, and the three levers
# (renewals that can be saved, expansion, a lighter touch) in money by tier and by owner.
# Every account, its owner and its one next action are in the workbook `accounts.xlsx`
# beside this report. A view the data cannot support says what would enable it.

# %% [markdown] tags=["remove_cell"]
# Data used (analysts' note, not in the report): `accounts` and `mrr`; `usage` and a health
# score for expansion; `tickets` or `touches` (and `onboarding`) for the cost to serve;
# `renewals`, `contacts` and `touches` add renewal risk and relationship flags to the plan.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written
data_cache: str = ""  # folder of the validated tables of this run, set by the render step; empty means load the raw files

# %% tags=["remove_cell"]
from pathlib import Path

from playbook import account_plan as plan_rules
from playbook import evidence, session, workbook, workbook_pending
from playbook.analyses import cost_to_serve, drivers, expansion, segments
from playbook.evidence import need
from playbook.findings import account_plan as story

nb = session.start("05-account-plan", client=client, period=period, as_of=as_of,
                   run_dir=run_dir, data_cache=data_cache)
p, d = nb.params, nb.data
accounts = nb.ctx.accounts  # customers as billed: the headline figures' accounts
tiers = nb.ctx.value_tiers
touch_model = p.touch_model.model_dump()
names = accounts.drop_duplicates("account_id").set_index("account_id").get("name")
counted = nb.ctx.counted_mrr if d.has("mrr") else None  # without an MRR history: accounts' MRR

# %% [markdown]
# ## Expansion potential

# %%
candidates = nb.attempt(
    expansion.expansion_candidates, accounts, as_of=nb.as_of,
    health=nb.ctx.health_scores if nb.ctx.has_health_score else None, usage=d.get("usage"),
    mrr=counted, tiers=tiers, currency=nb.currency,
    **p.expansion.candidate_options(), enables="expansion potential by tier")
if candidates is not None:
    screen = candidates.attrs["screen"]
    by_tier = expansion.expansion_by_tier(candidates, tiers)
    share = (nb.attempt(expansion.expansion_share_of_nrr, nb.ctx.headline_metrics,
                        enables="the expansion share of net retention")
             if counted is not None else None)
    top = candidates.head(story.TOP_CANDIDATES)
    nb.record("expansion_screen", {**screen, "potential_mrr": candidates["potential_mrr"].sum()})
    nb.record("expansion_by_tier", by_tier.reset_index())
    nb.record("expansion_top", top.reset_index()[["account_id", "value_tier", "mrr", "route",
                                                  "potential_mrr", "reason"]])
    if share is not None:
        nb.record("expansion_share", share)
    nb.show(story.expansion_table(by_tier, screen, nb.currency, share))
    if len(candidates):
        nb.say(story.top_candidates_sentence(candidates, names, nb.currency))

# %%
e = p.expansion
if counted is not None and candidates is not None:  # what predicts expansion, where history allows
    fitted = nb.attempt(lambda: nb.ctx.expansion_model, enables="the expansion model")
    if fitted:
        nb.record("expansion_model", {
            "n": fitted.n, "expansions": fitted.expansions, "auc": fitted.auc,
            "auc_low": fitted.auc_low, "auc_high": fitted.auc_high,
            "top_decile_lift": float(fitted.lift["lift"].iloc[0]),
            "features": fitted.features, "odds_ratios": fitted.odds_ratios.reset_index()})
        nb.say(story.expansion_model_sentence(fitted, e.horizon_months, e.min_rise_share))

# %% [markdown]
# ## Cost to serve

# %%
costs = nb.attempt(
    cost_to_serve.cost_to_serve, accounts, as_of=nb.as_of, months=p.period.trailing_months,
    tickets=d.get("tickets"), touches=d.get("touches"), onboarding=d.get("onboarding"),
    touch_model=touch_model, tiers=tiers, mrr=counted,
    cost_params=p.cost_to_serve.model_dump(), enables="cost to serve and margin by tier")
savings = None
if costs is not None:
    cost_tiers = cost_to_serve.cost_by_tier(costs, list(touch_model["tiers"]))
    savings = cost_to_serve.lighter_touch_savings(costs, touch_model,
                                                  csm_hourly_cost=p.cost_to_serve.csm_hourly_cost)
    moved = savings[savings["money_saved"] > 0]
    nb.record("cost_basis", {"window_start": costs.attrs["window_start"],
                             "window_end": costs.attrs["window_end"],
                             "months": p.period.trailing_months,
                             "csm_hours": costs.attrs["csm_hours"],
                             "support_hours": costs.attrs["support_hours"],
                             "onboarding_hours": costs.attrs["onboarding_hours"]})
    nb.record("cost_by_tier", cost_tiers.reset_index())
    nb.record("unprofitable", {"accounts": len(savings), "loss": -savings["margin"].sum(),
                               "moved": len(moved), "money_saved": moved["money_saved"].sum(),
                               "profitable_after": int(savings["profitable_after"].sum())})
    nb.show(story.cost_table(cost_tiers, savings, nb.currency,
                             csm_hours=costs.attrs["csm_hours"],
                             months=p.period.trailing_months))

# %% [markdown]
# ## Where to act

# %% tags=["remove_cell"]
# the plan's inputs: the open book (section 3's model), lifecycle stages, stuck onboarding and
# relationship flags (section 4's rules), as those sections compute them
dp, t, lc = p.drivers, p.thresholds, p.lifecycle
book, ranks = None, False
model = nb.attempt(lambda: nb.ctx.renewal_model, enables="renewals at risk in the open book")
if model is not None:
    quality = nb.attempt(lambda: nb.ctx.renewal_quality,
                         enables="the renewal model's out-of-sample quality")
    ranks = drivers.model_beats_chance(quality, dp.chance_auc_margin)
    book = nb.ctx.renewals_due_book
stages = stuck = flags = None
# workbook columns only: without their data they stay blank (docs/account-workbook.md)
if not evidence.shortfalls(d, need("usage", "active_users", "licensed_seats"), need("mrr")):
    steps = lc.onboarding_steps or segments.onboarding_step_order(accounts,
                                                                  d.get("onboarding"))
    stages = segments.lifecycle_stage(
        accounts, as_of=nb.as_of, onboarding=d.get("onboarding"), usage=d.get("usage"),
        mrr=d.get("mrr"), onboarding_days=lc.onboarding_days if d.has("onboarding") else None,
        active_depth=lc.active_depth, expanding_growth=lc.expanding_growth,
        transformational_depth=lc.transformational_depth,
        transformational_products=lc.transformational_products, steps=steps or None)
    if d.has("onboarding"):
        stuck = segments.stuck_onboarding(
            accounts, stages, as_of=nb.as_of, days=lc.stuck_onboarding_days,
            onboarding=d.get("onboarding"), mrr=nb.ctx.value_scores["mrr"],
            steps=steps or None).index
if not evidence.shortfalls(d, need("contacts", "relationship_strength",
                                  any_of=("role", "seniority")), need("touches", "contact_id")):
    flags = nb.ctx.relationship_flags
plan = nb.attempt(plan_rules.plan_from_context, nb.ctx, book=book, model_ranks=ranks,
                  stages=stages, stuck=stuck, flags=flags, expansion=candidates, cost=costs,
                  enables="the account plan")

# %%
if plan is not None:
    levers = dict(savings=savings, at_risk_below=dp.at_risk_probability, model_ranks=ranks,
                  window_months=p.period.trailing_months)
    where_tier = plan_rules.where_to_act(plan, by="value_tier",
                                         tier_order=list(touch_model["tiers"]), **levers)
    where_owner = plan_rules.where_to_act(plan, by="owner", **levers)
    nb.record("where_by_tier", where_tier.reset_index())
    nb.record("where_by_owner", where_owner.reset_index())
    if story.any_lever_measured(where_tier):
        nb.show(story.where_table(where_tier, where_owner, nb.currency, model_ranks=ranks,
                                  model_fitted=model is not None))
    else:
        nb.skip("where to act", story.where_unavailable(), ["renewals", "usage", "tickets"])

# %% tags=["remove_cell"]
if plan is not None:
    actions, owners = workbook.summary_tables(plan)
    files = [workbook.XLSX_NAME, workbook.CSV_NAME]
    nb.record("workbook", {"files": files, "accounts": len(plan), "owners": len(owners),
                           "model_ranks": ranks, "by_action": actions})
    if nb.run_dir is not None:  # the render step's staging folder: the render step writes
        # the workbook there beside the PDF, and publishes it with the report
        workbook_pending.defer_workbook(
            plan, Path(nb.run_dir), currency=nb.currency, as_of=nb.as_of, title=p.display_name,
            owner_sheets_max_accounts=p.workbook.owner_sheets_max_accounts)

# %% [markdown]
# # Appendix: accounts to act on first
#
# The accounts where acting is worth the most a month: the renewal's expected loss (MRR x the
# model's probability of not renewing) plus the expansion potential, largest first, each with
# its owner and next action. The workbook `accounts.xlsx` has every account.

# %%
if plan is not None:
    top_plan = plan_rules.top_accounts(plan, plan_rules.TOP_ACCOUNTS, with_loss=ranks)
    at_play = plan_rules.money_at_play(plan, with_loss=ranks).sum()
    nb.record("top_accounts", top_plan[["account_id", "owner", "value_tier", "expected_loss",
                                        "expansion_potential_mrr", "money_at_play",
                                        "next_action"]])
    nb.show(story.top_accounts_exhibit(top_plan, at_play, len(plan), nb.currency,
                                       with_loss=ranks))
else:
    nb.say(story.not_enabled("the accounts to act on first", story.PLAN_NEEDS))

# %% tags=["remove_cell"]
nb.save()
