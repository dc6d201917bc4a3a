"""Exhibits and sentences of the renewal-driver section.

Every title and sentence is generated from the figures passed in, by rules that pick the
wording (tested in ``tests/test_findings_drivers.py``):

* a driver is *significant* when its 95% odds-ratio interval excludes 1; otherwise the text
  says "not significant";
* effects are stated as associations ("goes with", "renew ... less often"), never as causes:
  the model describes past renewals, it does not show that changing a driver changes the
  outcome;
* missing figures print "n/a" (``playbook.textfmt``) and change the wording, never "nan".

Notebooks call ``story.X`` (``from playbook.findings import drivers as story``); this package
re-exports those names from its modules:

* :mod:`~playbook.findings.drivers.labels` - labels and subjects of the drivers, which are
  significant, points and ratios as printed;
* :mod:`~playbook.findings.drivers.model` - the forest, the effects, the model checks, the
  history and month-to-month sentences, the model's records;
* :mod:`~playbook.findings.drivers.quality` - lift and calibration;
* :mod:`~playbook.findings.drivers.retention` - Kaplan-Meier retention and the Cox
  cross-check;
* :mod:`~playbook.findings.drivers.book` - the open book of renewals coming up and its
  records.
"""

from __future__ import annotations

from playbook.findings.drivers.book import (
    book_record,
    open_book,
    open_book_caveat,
    open_book_title,
    reason_text,
    risk_record,
)
from playbook.findings.drivers.labels import (
    CHECK_NAMES,
    LABELS,
    SUBJECTS,
    label,
    significant,
    subject,
)
from playbook.findings.drivers.model import (
    check_rows,
    checks,
    checks_sentence,
    checks_title,
    effects_markdown,
    effects_sentence,
    forest,
    forest_title,
    headline,
    history_sentence,
    leading_drivers,
    leakage_sentence,
    model_record,
    month_to_month_sentence,
)
from playbook.findings.drivers.quality import (
    calibration,
    calibration_title,
    lift,
    lift_title,
)
from playbook.findings.drivers.retention import (
    cox_table,
    cox_title,
    ph_sentence,
    survival,
    survival_title,
)

__all__ = [
    "CHECK_NAMES",
    "LABELS",
    "SUBJECTS",
    "book_record",
    "calibration",
    "calibration_title",
    "check_rows",
    "checks",
    "checks_sentence",
    "checks_title",
    "cox_table",
    "cox_title",
    "effects_markdown",
    "effects_sentence",
    "forest",
    "forest_title",
    "headline",
    "history_sentence",
    "label",
    "leading_drivers",
    "leakage_sentence",
    "lift",
    "lift_title",
    "model_record",
    "month_to_month_sentence",
    "open_book",
    "open_book_caveat",
    "open_book_title",
    "ph_sentence",
    "reason_text",
    "risk_record",
    "significant",
    "subject",
    "survival",
    "survival_title",
]
