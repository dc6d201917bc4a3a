# %% [markdown]
# # Appendix: data sources and quality
#
# What this report was built from and how far the data can be trusted: every table of the
# data contract with the client's file and the rows read, kept and set aside; the ways the
# data contradict themselves, with counts; and every other note of the data-quality log,
# with the findings it weakens. Exhibits built on a contradicted table repeat the caveat in
# their notes.

# %% tags=["parameters"]
client: str = "demo"  # client folder under data/ and params/
period: str = ""  # reporting period, e.g. 2026-Q3; empty means the one in params/<client>.yaml
as_of: str = ""  # as-of date YYYY-MM-DD; empty means the last day of the period
run_dir: str = ""  # folder for the findings of this run; empty means interactive use, nothing written
data_cache: str = ""  # folder of the validated tables of this run, set by the render step; empty means load the raw files

# %% tags=["remove_cell"]
from playbook import session
from playbook import textfmt as tf
from playbook.findings import quality as story

nb = session.start("90-data-quality", client=client, period=period, as_of=as_of,
                   run_dir=run_dir, data_cache=data_cache)
log = nb.data.quality

# %%
nb.say(story.summary_sentence(log))

# %% [markdown]
# ## Sources loaded

# %%
nb.show(story.loads_exhibit(log))
nb.record("loads", log.loads_frame())

# %% [markdown]
# ## Contradictions in the data

# %%
if log.problems():
    nb.show(story.contradictions_exhibit(log))
else:  # nothing to tabulate: the finding in one sentence
    nb.say(f"{tf.md_escape(story.contradictions_title(log))}.")
nb.record("contradictions", story.notes_table(log, ("problem",)))

# %% [markdown]
# ## Other data-quality notes

# %%
nb.show(story.notes_exhibit(log))
nb.record("quality", log.to_dict())

# %% tags=["remove_cell"]
nb.save()
