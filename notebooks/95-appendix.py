# %% [markdown]
# # Appendix: method and definitions
#
# How every figure in this report is defined, with the policies and thresholds this run used.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written
data_cache: str = ""  # folder of the validated tables of this run, set by the render step; empty means load the raw files

# %% tags=["remove_cell"]
from playbook import appendix, appendix_terms, paths, session
from playbook.analyses import capacity, drivers
from playbook.findings import drivers as driver_story

nb = session.start("95-appendix", client=client, period=period, as_of=as_of, run_dir=run_dir,
                   data_cache=data_cache)

# %%
sections = nb.params.report.notebooks  # define what the report's sections computed
measures = nb.ctx.health_measures if "03-segments-health" in sections else None
sized = ("04-capacity" in sections and capacity.capacity_evidence(
    nb.data["accounts"], touch_model_from_client=nb.params.set_by_client("touch_model"))["sized"])
nb.say(appendix.definitions_markdown(nb.params, health_measures=measures, capacity_sized=sized)
       + "\n\n" + appendix_terms.terms_markdown(nb.params), columns=True)

# %% [markdown]
# ## Full regression table
#
# The renewal model behind the driver exhibits: log-odds per unit, standard errors, odds
# ratios with 95% intervals and p-values.

# %%
in_report = "02-renewal-drivers" in nb.params.report.notebooks  # the model of section 3
fitted = (nb.attempt(lambda: nb.ctx.renewal_model, enables="the full regression table")
          if in_report else None)
if fitted is not None:
    model = driver_story.model_record(fitted, nb.ctx.features_built)
    nb.table(appendix.regression_table(model), caption=appendix.regression_caption(model),
             formats={"odds ratio": "{:.2f}", "log-odds": "{:.3f}", "std. error": "{:.3f}"})
    if appendix.regression_note(model):
        nb.say(appendix.regression_note(model))
elif not in_report:
    nb.say("The regression table is shown when the report includes the renewal-driver "
           "section.")

# %% [markdown]
# ## Renewals due by expected loss

# %%
plan_in_report = "05-account-plan" in nb.params.report.notebooks
if plan_in_report:  # its own appendix lists the accounts by expected loss plus expansion
    nb.say(appendix.WORKBOOK_POINTER + " " + appendix.TOP_ACCOUNTS_POINTER)
if "02-renewal-drivers" in nb.params.report.notebooks and not plan_in_report:
    nb.say("The renewals due after the as-of date with the largest expected loss (MRR x the "
           "renewal model's probability of not renewing): the longer list behind section 3's "
           "open book.")
    renewal_model = nb.attempt(lambda: nb.ctx.renewal_model, enables="the renewals due by "
                               "expected loss")
    if renewal_model is not None:
        dp = nb.params.drivers
        horizon = nb.params.thresholds.renewal_horizon_days
        quality = nb.attempt(lambda: nb.ctx.renewal_quality,
                             enables="the model's out-of-sample quality")
        book = nb.ctx.renewals_due_book
        ranks = drivers.model_beats_chance(quality, dp.chance_auc_margin)
        due = drivers.open_book_summary(book, model_ranks=ranks)
        top = drivers.top_expected_losses(book, appendix.TOP_LOSSES_ROWS)
        if not ranks:  # a chance-level model's probabilities rank nothing: no list by them
            nb.say("No list by expected loss: the renewal model ranks renewals no better "
                   "than chance, so its probabilities cannot order them; section 3 lists the "
                   "renewals due by MRR instead.")
        elif len(top):
            nb.show(appendix.top_losses_exhibit(top, due, nb.data["accounts"], nb.currency,
                                                horizon, nb.as_of))
        else:
            nb.say(f"No scored renewal falls due in the {horizon} days after the as-of date.")

# %% [markdown]
# ## Reproducibility
#
# The inputs, parameters and software that produced this report. Re-running the same commit
# on the same files with the same parameters reproduces it; the complete merged parameters,
# timings and checksums are in `manifest.json` beside the report.

# %%
nb.html(appendix.input_files_html(nb.data.quality), caption="Input files")

# %%
params_file = paths.params_file(client)
nb.say(f"Parameters: `{params_file.name}` (SHA-256 {appendix.params_sha256(params_file)[:16]}…) "
       f"over the shared defaults; code at commit {appendix.git_commit()}.")
nb.table(appendix.parameter_overrides(nb.params),
         caption="Parameters that differ from the shared defaults")

# %%
nb.say(appendix.software_line())

# %% tags=["remove_cell"]
nb.save()
