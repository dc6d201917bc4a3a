# %% [markdown]
# # 1 Retention baseline
#
# How much revenue leaks, and where? This section bridges the period's MRR from start to end
# (new, expansion, reactivation, contraction, churn), measures gross and net revenue retention
# and logo churn over the trailing twelve months (or the history there is), and follows each
# start cohort.

# %% [markdown] tags=["remove_cell"]
# Data used (analysts' note, not in the report): the `mrr` table (monthly MRR per account);
# `churn_events` and `renewals` add detail.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written
data_cache: str = ""  # folder of the validated tables of this run, set by the render step; empty means load the raw files

# %% tags=["remove_cell"]
from playbook import session
from playbook.analyses import reasons, revenue, surprises, variables
from playbook.analyses.scenario_basis import scenario_basis
from playbook.findings import drivers as driver_story
from playbook.findings import metrics as metrics_story
from playbook.findings import revenue as story

nb = session.start("01-revenue", client=client, period=period, as_of=as_of, run_dir=run_dir,
                   data_cache=data_cache)
p = nb.params

# %% [markdown]
# ## MRR bridge of the period

# %%
summary = None  # the period's MRR bridge
if nb.requires("mrr", enables="the MRR bridge") and nb.has_mrr_history(1):
    moves = nb.ctx.mrr_movements
    summary = revenue.retention_summary(moves, nb.period_start, nb.as_of)
    nb.record("period", summary)
    unstated = metrics_story.restates_withheld(nb.ctx.headline_metrics, ("mrr",),
                                               "the MRR bridge of the period")
    if unstated:  # the export contradicts its MRR: the bridge would state it
        nb.note(unstated)
    else:
        nb.show(story.mrr_bridge(summary, nb.currency), headline=True)
        nb.say(story.bridge_sentence(summary, nb.currency))

# %% [markdown]
# ## Churn on renewals due

# %%
source = nb.data.get("renewals") if nb.data.has("renewals") else nb.data["accounts"]
due = revenue.renewal_churn(source, nb.period_start, nb.as_of)
nb.record("renewals_due", due)
nb.say(story.renewal_churn_sentence(due, nb.currency))

# %% [markdown]
# ## Gross and net revenue retention

# %%
head = None  # the headline rates: one basis for every retention figure of the report
if nb.has_mrr_history(1, quiet=True):
    head = nb.ctx.headline_metrics
    nb.record("headline_metrics", head)
    year = nb.ctx.retention_over(head["months"])
    nb.record("trailing", metrics_story.flows_record(year))
    trend = revenue.trailing_retention(nb.ctx.counted_mrr, months=head["months"])
    trend = trend[trend.index <= nb.as_of]
    if head["withheld"]:  # figures that break an invariant or rest on contradicted data
        nb.note(metrics_story.withheld_sentence(head))
    if not {"grr", "nrr"} & set(head["withheld"]):
        nb.show(story.retention_trend(trend, head["months"]))
    if metrics_story.retention_sentence(head, year):
        nb.say(metrics_story.retention_sentence(head, year))
    if metrics_story.has_stated_rates(head):
        nb.show(metrics_story.glossary(head, due, summary, nb.currency))

# %% [markdown]
# ## Cohort retention

# %%
if nb.has_mrr_history(12, enables="cohort retention"):
    unstated = metrics_story.restates_withheld(nb.ctx.headline_metrics,
                                               ("logo_churn", "nrr"), "cohort retention")
    if unstated:  # each cohort's paying accounts and MRR: the withheld rates, by cohort
        nb.note(unstated)
    else:
        logo, rev, sizes = revenue.cohort_retention(nb.ctx.counted_mrr, by="quarter")
        nb.show(story.cohort_heatmap(logo, sizes))
        nb.show(story.revenue_cohort_heatmap(rev, sizes), detail=True)

# %%
if nb.has_mrr_history(p.period.trailing_months, quiet=True):
    sc = p.scenarios  # the scenarios' rates (section 6): recorded only where they stand
    growth_basis = scenario_basis(
        nb.ctx.headline_metrics, years=sc.years, compounding=sc.compounding,
        churn_base=sc.churn_base, growth=sc.growth, churn_rates=sc.churn_rates,
        max_churn=sc.max_churn, max_growth=sc.max_growth)
    if growth_basis.compoundable:
        target = p.thresholds.growth_target
        nb.record("growth_arithmetic", {
            "target": target, "gross_revenue_churn": growth_basis.churn,
            "new_sales_needed": revenue.growth_target_new_sales(target, growth_basis.churn)})

# %% [markdown]
# # 2 Why customers leave
#
# Churn reasons ranked by lost MRR, the share of churn that carries no usable reason, and
# churn across the variables of the business (industry, size, contract value, owner, tenure,
# products, renewals done).

# %% [markdown] tags=["remove_cell"]
# Data used (analysts' note, not in the report): `churn_events`; the cuts use `accounts`.

# %%
if nb.requires("churn_events", enables="the churn-reason analysis"):
    events = nb.data["churn_events"]
    events = events[events["churn_date"].between(nb.as_of - nb.months(12), nb.as_of)]
    said_nothing = p.churn.uninformative_reasons
    unknown = reasons.uninformative_share(events, uninformative=said_nothing,
                                          category_col="reason_category")
    nb.record("uninformative_reasons", unknown)
    nb.say(story.uninformative_sentence(unknown, nb.currency,
                                        p.thresholds.uninformative_reason_share))
    code = "reason_code"
    if p.churn.reason_rules:
        events, mapping = reasons.map_reasons(events, p.churn.reason_rules,
                                              uninformative=said_nothing)
        code = "reason"
        nb.record("reason_mapping", mapping)
        nb.say(story.mapping_sentence(mapping))
    levels = reasons.reason_levels(events, uninformative=said_nothing, code_col=code)
    pareto = reasons.reason_pareto(events, uninformative=said_nothing, code_col=levels[0])
    nb.record("reason_pareto", pareto)
    inside = None
    if len(levels) == 2:  # categories above reasons: the Pareto reads the categories
        inside = reasons.reasons_within_categories(
            events, uninformative=said_nothing, category_col=levels[0], code_col=levels[1])
        nb.record("reasons_within_categories", inside)
    nb.show(story.reason_pareto(pareto, nb.currency, p.thresholds.top3_concentrated_share,
                                inside=inside), headline=True)

# %%
if nb.data.has("churn_events") and nb.data["accounts"]["segment"].notna().any():
    by_segment = reasons.reasons_by_segment(events, nb.data["accounts"], "segment",
                                            uninformative=said_nothing, code_col=levels[0],
                                            small_n=p.thresholds.small_group_n)
    nb.record("reasons_by_segment", by_segment)
    nb.show(story.reasons_by_segment(by_segment), detail=True)  # the Pareto is the exhibit

# %% [markdown]
# ## Surprise non-renewals
#
# Customers who left while looking healthy 90 days before: the losses the team's signals did
# not see coming.

# %%
decisions = nb.ctx.renewal_decisions
monthly = nb.ctx.month_to_month_accounts
if len(monthly) and nb.ctx.has_health_score:  # said where the surprises are shown
    nb.say(driver_story.month_to_month_sentence(len(monthly)))
nb.record("month_to_month_left_out", len(monthly))
lost = decisions[(decisions["renewed"] == 0)
                 & decisions["decision_date"].between(nb.as_of - nb.months(12), nb.as_of)]
if nb.ctx.has_health_score:  # "looked healthy" needs a health score (2+ measures)
    health_then = nb.ctx.health_before(lost)
    surprise = surprises.surprise_non_renewals(lost, health_then,
                                               churn_events=nb.data.get("churn_events"),
                                               healthy_bands=p.thresholds.surprise_bands)
    surprise_counts = surprises.surprise_summary(surprise, len(health_then))
    nb.record("surprise_non_renewals", surprise_counts)
    nb.show(story.surprises(surprise, nb.data["accounts"], surprise_counts, nb.currency),
            detail=True)  # the list of accounts is detail; its finding is said in one line
else:
    nb.skip("surprise non-renewals", story.no_health_for_surprises_sentence(
        list(nb.ctx.health_measures.index)), ["health measures"])

# %% [markdown]
# ## Churn across the variables of the business

# %%
from_mrr = nb.has_mrr_history(1, quiet=True)
if from_mrr:  # the headline's base: the accounts paying in the month before the window
    window, cohort = nb.ctx.retention_window, nb.ctx.retention_cohort
    whole_base = nb.ctx.headline_metrics["logo_churn"]
else:  # no MRR history: the accounts table's own start and churn dates give the base
    window = variables.accounts_window(nb.as_of, p.period.trailing_months)
    cohort = variables.cohort_from_accounts(nb.data["accounts"], window)
    whole_base = float(cohort["churned"].mean())
base = variables.base_accounts(nb.data["accounts"], cohort, window,
                               term_months=p.contracts.term_months,
                               renewals=nb.data.get("renewals"), variables=p.variables,
                               usage=nb.data.get("usage"))
counted = base[~base["not_yet_renewing"]]
tables, tests = {}, {}
for label, column in variables.available_variables(counted, variables=p.variables).items():
    tables[label] = reasons.churn_by_variable(counted, column, churned="churned",
                                              small_n=p.thresholds.small_group_n)
    tests[label] = reasons.association_test(tables[label])
tests = reasons.correct_for_multiple_tests(tests)
cuts = {label: {"table": tables[label], "test": tests[label]} for label in tables}
basis = variables.churn_basis(window, base, whole_base, from_mrr=from_mrr)
nb.record("churn_by_variable", story.cuts_record(cuts))
nb.record("churn_by_variable_basis", basis)
nb.show(story.variables_table(cuts, basis))

# %%
for rank, (label, cut) in enumerate(story.strongest_differences(cuts)):
    nb.show(story.churn_by_variable(cut["table"], label, cut["test"], basis),
            detail=rank >= 1, mention=False)

# %% tags=["remove_cell"]
nb.save()
