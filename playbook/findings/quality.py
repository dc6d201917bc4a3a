"""Exhibits and sentences of the appendix "data sources and quality".

Built from the run's :class:`~playbook.quality.QualityLog` only: the loads (file, rows read,
kept, rejected) and every note (severity, count, the findings it weakens). Titles are chosen
by rules from the figures.
"""

from __future__ import annotations

import pandas as pd

from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec
from playbook.quality import FINDINGS, SEVERITY_ORDER, QualityLog

SOURCE = "the loader's record of this run (files in the client's data folder)"


def loads_table(log: QualityLog) -> pd.DataFrame:
    """One row per table: table, file, rows read, kept, rejected."""
    return log.loads_frame()


def loads_title(log: QualityLog) -> str:
    """'Loaded in full' only when no row was set aside; else name the worst table."""
    frame = log.loads_frame()
    if frame.empty:
        return "No table was loaded"
    read, rejected = int(frame["rows read"].sum()), int(frame["rows rejected"].sum())
    if rejected <= 0:
        return (f"All {len(frame)} tables were loaded in full: {read:,} rows, none set "
                "aside")
    worst = frame.sort_values("rows rejected", ascending=False).iloc[0]
    return (f"{rejected:,} of {read:,} rows ({tf.pct(rejected / read, 1)}) were set aside, "
            f"most of them in '{worst['table']}' ({int(worst['rows rejected']):,})")


def loads_exhibit(log: QualityLog) -> ExhibitSpec:
    frame = loads_table(log)
    return ExhibitSpec(
        frame, loads_title(log),
        "Each table of the data contract: the client's file, rows read, kept and set aside",
        SOURCE, n=len(frame), n_of=tf.noun(len(frame), "table"),
        notes="Set aside = rejected (unusable required value, unknown account), exact "
              "duplicates, or survey rows without a score; each reason is a note below. "
              "Subscription lines count as read before they are expanded to months.",
        formats={"rows read": "{:,}", "rows kept": "{:,}", "rows rejected": "{:,}"})


def weakened(log: QualityLog, severity: str = "problem") -> list[str]:
    """The findings weakened by notes of ``severity``, in report order, in words."""
    keys = {a for n in log.notes if n.severity == severity for a in n.affects}
    return [FINDINGS[k] for k in FINDINGS if k in keys] + sorted(keys - set(FINDINGS))


def notes_table(log: QualityLog, severities: tuple[str, ...] = ("problem", "warning", "info")
                ) -> pd.DataFrame:
    """Every note of the given severities, most severe first: severity, table, what was
    found, count, findings weakened."""
    rows = [{"severity": n.severity, "table": n.table, "what was found": n.message,
             "count": n.count if n.count else None, "weakens": n.weakens or "–"}
            for n in log.notes if n.severity in severities]
    frame = pd.DataFrame(rows, columns=["severity", "table", "what was found", "count",
                                        "weakens"])
    return frame.sort_values("severity", key=lambda s: s.map(SEVERITY_ORDER),
                             kind="stable").reset_index(drop=True)


def contradictions_title(log: QualityLog) -> str:
    problems = log.problems()
    if not problems:
        return "The data do not contradict themselves in any way the checks look for"
    hit = weakened(log)
    return (f"The data contradict themselves in {len(problems)} "
            f"way{'s' if len(problems) != 1 else ''}, weakening the findings on "
            + tf.and_list(hit))


def contradictions_exhibit(log: QualityLog) -> ExhibitSpec:
    frame = notes_table(log, ("problem",)).drop(columns=["severity"])
    return ExhibitSpec(
        frame, contradictions_title(log),
        "Contradictions between tables and distorted fields, with the rows or accounts "
        "concerned and the findings they weaken",
        SOURCE, n=len(frame), n_of=tf.noun(len(frame), "contradiction"),
        notes="Every exhibit built on a table named here repeats the caveat in its notes. "
              "The report does not decide which side of a contradiction is right: ask the "
              "client.",
        formats={"count": "{:,.0f}"}, headline=bool(log.problems()))


def notes_title(log: QualityLog) -> str:
    """Title of the other notes (warnings and remarks)."""
    warnings = [n for n in log.notes if n.severity == "warning"]
    infos = [n for n in log.notes if n.severity == "info"]
    if not warnings and not infos:
        return "No rows were set aside and no field is blank or thin"
    if not warnings:
        return f"No warnings; {tf.plural(len(infos), 'remark')} that weaken no finding"
    hit = weakened(log, "warning")
    return (f"{tf.plural(len(warnings), 'warning')} about rows set aside, blank or thin data"
            + (f" {'weakens' if len(warnings) == 1 else 'weaken'} the findings on "
               f"{', '.join(hit)}" if hit else ""))


def notes_exhibit(log: QualityLog) -> ExhibitSpec:
    frame = notes_table(log, ("warning", "info"))
    return ExhibitSpec(
        frame, notes_title(log),
        "The other notes of the data-quality log (the contradictions are in the exhibit "
        "above): severity, table, what was found, count and the findings it weakens",
        SOURCE, n=len(frame), n_of=tf.noun(len(frame), "note"),
        notes="warning = rows set aside, values blank or data thin: the findings named rest "
              "on less than the client sent; info = worth knowing, weakens nothing.",
        formats={"count": "{:,.0f}"})


def summary_sentence(log: QualityLog) -> str:
    """What the appendix means for the reader of the report."""
    problems, warnings = log.problems(), [n for n in log.notes if n.severity == "warning"]
    if not problems and not warnings:
        return ("The data passed every check: no contradictions, no rows set aside, no thin "
                "or blank fields that weaken a finding.")
    text = ""
    if problems:
        text += (f"The data contradict themselves in {len(problems)} "
                 f"way{'s' if len(problems) != 1 else ''}. The findings on "
                 f"{', '.join(weakened(log))} rest on contradicted fields: read them as "
                 "indicative until the client confirms which side is right. ")
    if warnings:
        hit = weakened(log, "warning")
        text += (f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''} "
                 "(rows set aside, blank or thin data)"
                 + (f" weaken the findings on {', '.join(hit)}." if hit else "."))
    return text.strip()
