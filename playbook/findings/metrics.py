"""The words and the glossary exhibit of the headline retention rates (:mod:`playbook.metrics`).

Every sentence here quotes a figure of :func:`playbook.metrics.headline_metrics` (recorded
as ``headline_metrics``), labelled with the metric's one name, and the window's label from
the data ("trailing 11 months" when the history is shorter than asked for). A withheld
figure is never quoted: the text says why and what would fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from playbook import textfmt as tf
from playbook.exhibits import ExhibitSpec
from playbook.metrics import HEADLINE_NAMES, withheld_groups

#: The flow keys of a trailing retention summary kept in results (``trailing``): its rates
#: are the headline metrics', so its own differently-based rates are not recorded.
FLOW_KEYS = ("start_month", "end_month", "months", "start_mrr", "end_mrr", "new", "expansion",
             "reactivation", "contraction", "churn", "lost_mrr", "quick_ratio", "start_logos",
             "end_logos", "new_logos", "reactivated_logos", "churned_logos")


def flows_record(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The trailing window's MRR flows and quick ratio (``trailing`` in results), without the
    flow-based rates that would be a second definition of GRR, NRR or logo churn."""
    return {k: summary[k] for k in FLOW_KEYS if k in summary}


def _month(value: Any) -> str:
    return f"{pd.Timestamp(value):%b %Y}"


def withheld_sentence(head: Mapping[str, Any]) -> str:
    """One sentence naming the withheld headline figures, why (one clause per reason), and
    the fix ("" when none)."""
    groups = withheld_groups(head.get("withheld") or {})
    if not groups:
        return ""
    clauses = [f"{tf.and_list(names)}, because {reason}" for reason, _, names in groups]
    fixes = list(dict.fromkeys(fix for _, fix, _ in groups if fix))
    return ("Not shown as headline figures: " + "; ".join(clauses) + ". "
            + " ".join(fixes)).strip()


def restates_withheld(head: Mapping[str, Any], keys: tuple[str, ...], what: str) -> str:
    """Said instead of an exhibit that restates a withheld headline figure (``keys`` of
    ``head["withheld"]``, e.g. ``("mrr",)`` for the MRR bridge, which starts and ends on
    MRR); "" when none of them is withheld."""
    withheld = head.get("withheld") or {}
    key = next((k for k in keys if k in withheld), None)
    if key is None:
        return ""
    entry = withheld[key]
    reason = str(entry.get("reason") or "the figure is withheld").rstrip(".")
    fix = str(entry.get("fix") or "").strip()
    names = tf.and_list([HEADLINE_NAMES[k] for k in keys if k in withheld])
    return (f"Not shown: {what}, because {reason}. It restates the {names} this report "
            f"withholds.{' ' + fix if fix else ''}")


def _field(entry: Any, key: str) -> str:
    if isinstance(entry, Mapping):
        return str(entry.get(key, "") or "")
    return str(getattr(entry, key, "") or "")


def retention_sentence(head: Mapping[str, Any], flows: Mapping[str, Any]) -> str:
    """What the headline rates say, on their one basis, with the quick ratio of the same
    window; figures withheld are left out (:func:`withheld_sentence` says why, once, in
    its own box). "" when every figure is withheld. The rates carry the headline's one
    decimal: rounded to whole percents, a net revenue retention of 99.9% read "100%", net
    expansion where the accounts shrank."""
    withheld = head.get("withheld") or {}
    parts = []
    base = (f"Of the {tf.count(head['base_accounts'])} accounts paying in "
            f"{_month(head['base_month'])}")
    if "grr" not in withheld and "nrr" not in withheld:
        parts.append(f"{base}, {tf.pct(head['grr'], 1)} of their MRR is still paid "
                     f"{tf.plural(head['months'], 'month')} later without counting expansion "
                     f"(gross revenue retention) and {tf.pct(head['nrr'], 1)} with it (net "
                     "revenue retention).")
    if "logo_churn" not in withheld:
        lead = (f"{tf.count(head['churned_accounts'])} of them no longer pay"
                if parts else f"{base}, {tf.count(head['churned_accounts'])} no longer pay")
        annual = ("" if head["months"] == 12 else
                  f", {tf.pct(head['logo_churn_annualised'], 1)} a year at that pace")
        parts.append(f"{lead[0].upper()}{lead[1:]}: logo churn of "
                     f"{tf.pct(head['logo_churn'], 1)} over the {head['label']}{annual}.")
    quick = flows.get("quick_ratio") if flows else None
    if not tf.is_missing(quick) and quick != float("inf") and "mrr" not in withheld:
        parts.append(f"Over the same months the quick ratio (MRR gained / MRR lost) was "
                     f"{tf.number(quick, 1)}.")
    return " ".join(parts)


def has_stated_rates(head: Mapping[str, Any]) -> bool:
    """True when at least one headline rate (GRR, NRR, logo churn) stands: the glossary
    then has something to reconcile (a table of "withheld" alone is filler)."""
    return bool({"grr", "nrr", "logo_churn"} - set(head.get("withheld") or {}))


def glossary(head: Mapping[str, Any], due: Mapping[str, Any] | None,
             period: Mapping[str, Any] | None, currency: str) -> ExhibitSpec:
    """The rates of the report reconciled in one table: each with its figure, what it
    counts and its denominator, so that no two rates are mistaken for one another.
    Withheld figures show "withheld" and why."""
    withheld = head.get("withheld") or {}
    rows: list[dict[str, str]] = []

    def add(name: str, key: str | None, value: str, meaning: str) -> None:
        if key and key in withheld:
            value, meaning = "withheld", f"{meaning} Withheld: {_field(withheld[key], 'reason')}."
        rows.append({"metric": name, "figure": value, "what it says": meaning})

    base, then = tf.count(head["base_accounts"]), _month(head["base_month"])
    months = tf.plural(head["months"], "month")
    add(f"Logo churn ({head['label']})", "logo_churn", tf.pct(head["logo_churn"], 1),
        f"{tf.count(head['churned_accounts'])} of the {base} accounts paying in {then} no "
        f"longer pay {months} later.")
    add("Monthly logo churn", "logo_churn", tf.pct(head["logo_churn_monthly"], 1),
        "The same loss spread evenly over the months: 1 − (1 − logo churn)^(1 / months).")
    add(f"Gross revenue retention ({head['label']})", "grr", tf.pct(head["grr"], 1),
        f"Of {tf.money(head['base_mrr'], currency)} MRR paying in {then}, "
        f"{tf.money(head['retained_mrr_capped'], currency)} is still paid, each account capped "
        "at its MRR then.")
    add("Gross revenue churn", "grr", tf.pct(head["gross_revenue_churn"], 1),
        "1 − gross revenue retention: MRR of the same accounts lost to churn and downgrades.")
    add(f"Net revenue retention ({head['label']})", "nrr", tf.pct(head["nrr"], 1),
        f"The same accounts now pay {tf.money(head['retained_mrr'], currency)}, expansion "
        "included.")
    add("Net revenue churn", "nrr", tf.pct(head["net_revenue_churn"], 1),
        "1 − net revenue retention; negative when expansion outgrew losses.")
    if due and due.get("renewals"):
        add("Churn on renewals due (the period)", None, tf.pct(due.get("renewal_churn_rate"), 1),
            f"ARR of the {tf.count(due['renewals'])} contracts that came up for renewal and "
            "churned / their ARR: only accounts with a decision due.")
    if period and not tf.is_missing(period.get("gross_mrr_churn")):
        add("Gross MRR churn of the period", "mrr", tf.pct(period["gross_mrr_churn"], 1),
            f"Churn and contraction over {_month(period['start_month'])} to "
            f"{_month(period['end_month'])} / MRR at its start: a quarter, not a year, and "
            "every account paying then, new ones included.")
    if "logo_churn" in withheld:
        title = "The headline rates cannot be stated: the MRR history contradicts itself"
    elif "grr" in withheld:
        title = (f"{tf.pct(head['logo_churn'], 1)} of accounts left over the "
                 f"{head['label']}; each churn rate of this report has its own basis")
    else:
        title = (f"{tf.pct(head['logo_churn'], 1)} of accounts but "
                 f"{tf.pct(head['gross_revenue_churn'], 1)} of their revenue were lost over "
                 f"the {head['label']}: each churn rate of this report has its own basis")
    return ExhibitSpec(
        pd.DataFrame(rows, columns=["metric", "figure", "what it says"]), title,
        f"The rates quoted in this report, each with its basis, {head['label']} to "
        f"{_month(head['end_month'])}",
        "mrr" + (", renewals" if due and due.get("renewals") else ""),
        n=int(head["base_accounts"]),
        notes=f"n = accounts paying in {then}, the base of every trailing rate. Rates with "
              "another basis say so in their name.")
