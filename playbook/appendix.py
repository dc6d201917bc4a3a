"""The appendix: method and definitions, model specifications, reproducibility.

Definitions are written once here, with the run's own parameter values filled in, so the
report states exactly the policies it applied.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any

import pandas as pd

from playbook import paths
from playbook import textfmt as tf
from playbook.analyses.health import MIN_MEASURES as HEALTH_MIN_MEASURES
from playbook.checksums import file_sha256
from playbook.config import Params, read_yaml
from playbook.exhibits import ExhibitSpec, blank_columns, table_html
from playbook.findings.drivers import label
from playbook.findings.drivers.book import renewal_rows, renewal_window
from playbook.provenance import provenance
from playbook.quality import QualityLog


def _rules_text(has_rules: bool) -> str:
    if has_rules:
        return "Keyword rules on the free text recover a reason where the code is uninformative."
    return "No keyword rules were set for the free text."


def _reason_list(reasons: list[str]) -> str:
    """The uninformative reasons as a reader reads them: “other”, “unknown” (typographic
    quotes, escaped; the blank one is said in words)."""
    return ", ".join(f"\u201c{tf.md_escape(r)}\u201d" for r in reasons if r.strip())


def _health_method(p: Params, used: pd.DataFrame | None) -> str:
    """The health score's method as this run computed it: the measures used with their
    effective weights (missing measures' weights spread over them), or why there is no
    score; every params weight when the measures used are not known."""
    esc = tf.md_escape
    bands = (f"Bands: red up to {p.health.bands.get('red', 50):g}, yellow up to "
             f"{p.health.bands.get('yellow', 75):g}, green above. A *surprise non-renewal* is "
             f"a churn whose health band was "
             f"{' or '.join(esc(b) for b in p.thresholds.surprise_bands)} at the cut-off.")
    if used is None:
        weights = ", ".join(f"{esc(k)} {v:g}" for k, v in p.health.weights.items())
        return (f"**Health score.** Measures scored 0-100 and weighted ({weights}); a missing "
                f"measure's weight is spread over the others. {bands}")
    if len(used) < HEALTH_MIN_MEASURES:
        only = ", ".join(esc(m.replace("_", " ")) for m in used.index) or "none"
        return (f"**Health score.** Not computed: a score needs at least "
                f"{HEALTH_MIN_MEASURES} measures with data, and this client's data supply "
                f"{only}.")
    weights = ", ".join(f"{esc(m.replace('_', ' '))} {w:.0%}"
                        for m, w in used["effective_weight"].items())
    unused = [m for m, w in p.health.weights.items() if w and m not in used.index]
    names = ", ".join(esc(m.replace("_", " ")) for m in unused)
    left = f" Not used, for lack of data: {names}." if unused else ""
    return (f"**Health score.** Measures scored 0-100 and weighted as this run used them "
            f"({weights}; params' weights re-spread over the measures with data).{left} "
            f"An account missing a measure has its weight spread over its other measures. "
            f"{bands}")


def _headcount_method(p: Params) -> str:
    return f"""**Headcount.** By ratio: accounts / accounts per CSM of the tier. By effort:
(accounts × per-account hours (touches per year × (contact + preparation + travel hours)) + admin
hours + one-to-many programme hours once per tier) / {p.touch_model.csm_hours_per_year:g}
available hours per CSM per year."""


def definitions_markdown(p: Params, *, health_measures: pd.DataFrame | None = None,
                         capacity_sized: bool = True) -> str:
    """Every headline metric's formula and the edge-case policies this run used (markdown;
    the parameters' own texts in it are escaped, :func:`playbook.textfmt.md_escape`).

    ``health_measures``: the measures the health score actually used, with their effective
    weights (:func:`playbook.analyses.health.measures_available`); the method then names
    those, not every weight of params. ``capacity_sized``: False when the coverage section
    sized nothing (no owners, no client touch model): headcount is then not defined."""
    c = p.churn
    recognise = ("in the month of the cancellation, even when the customer pays out its "
                 "term" if c.recognise_at == "cancellation"
                 else "in the first month without MRR, when the paid period ends")
    return f"""
**MRR movements.** Each account's MRR in a month is compared with the month before: *new*
(0 → paid, first time or after more than {c.reactivation_window_months} months away),
*reactivation* (0 → paid within {c.reactivation_window_months} months of its last paid
month), *expansion* and *contraction* (paid → more / less), *churn* (paid → 0). A
cancellation of one subscription while others stay active is contraction, not churn.
Churn is recognised {recognise}. Accounts that start and cancel within one month are
{"counted as one new and one churned logo" if c.count_same_month_churn else "not counted"}.
Start MRR + new + expansion + reactivation − contraction − churn = end MRR, to the cent.

**Headline rates: one basis.** Every trailing rate of the report follows the same accounts:
those paying in the month before the trailing window ({p.period.trailing_months} months, or
the history there is; the window's length is printed with each figure), followed to the
as-of month. **GRR** (gross revenue retention) = Σ min(MRR now, MRR then) / Σ MRR then over
those accounts (each capped at its earlier MRR: expansion cannot hide losses); **NRR** (net
revenue retention) = Σ MRR now / Σ MRR then; **gross revenue churn** = 1 − GRR; **net
revenue churn** = 1 − NRR. **Logo churn** = those accounts no longer paying in the as-of
month / those accounts (customers, not churn events; one that left and came back counts as
kept); monthly logo churn = 1 − (1 − logo churn)^(1 / months), the same loss spread over
the months. A headline figure outside its range (GRR or logo churn outside 0-100%, NRR below
GRR) or built on an MRR history the data-quality checks found contradictory is withheld,
with the reason.
**Gross MRR churn of the period** (the bridge) = (churn + contraction) / MRR at the start of
the period; **net MRR churn** = (churn + contraction − expansion − reactivation) / MRR at
the start of the period; negative is good (the base grew on its own). These count every
account paying at the period's start, over the period only.
**Quick ratio** = (new + expansion + reactivation) / (churn + contraction).
**Churn on renewals due** = ARR of contracts that churned at renewal / ARR of contracts that
came up for renewal in the period (downgrades shown separately).

**Churn reasons.** Blank reasons and the reasons {_reason_list(c.uninformative_reasons)}
(any case) are uninformative. {_rules_text(bool(c.reason_rules))}

**Churn by variable and by tier.** The same accounts as logo churn (paying at the start of
the trailing window), each variable measured then (tenure at the window's start, not at
exit, so leavers and stayers are compared at the same point); accounts whose first renewal
falls after the window's end (contract term of {p.contracts.term_months} months unless the
account says otherwise) cannot churn in it and are left out. Rate = churned / accounts with
a 95% Wilson interval; a chi-square test of independence (Fisher's exact test when expected
counts are small), p-values adjusted across the variables tested (Holm); a variable
"differs" only when its adjusted p-value is below 5%.
Groups under {p.thresholds.small_group_n} accounts are marked too small to judge.

**Renewal drivers.** One row per renewal decision; every feature is measured
{p.drivers.cutoff_days} days before the decision from records dated on or before that
cut-off. Logistic regression (statsmodels) of renewal on the features; odds ratios with 95%
intervals; standard errors clustered by account when accounts have several decisions (an
account's renewals are not independent); average marginal effects in probability points;
variance inflation factors above 10 drop a feature; perfect separation falls back to a
penalised fit; {p.drivers.cv_folds}-fold cross-validated AUC and Brier score against the
base rate. Decisions whose cut-off minus the longest look-back of a feature falls before the
first month of data are left out (their features cannot be measured). As a cross-check,
Kaplan-Meier retention curves by segment and a Cox proportional-hazards model (statsmodels
PHReg) give hazard ratios for the same drivers (robust by account; the proportional-hazards
assumption checked per driver with Harrell's test: Schoenfeld residuals against the rank of
churn time). An account is *at risk* when its predicted
renewal probability is below {p.drivers.at_risk_probability:.0%}.

{_health_method(p, health_measures)}

{_headcount_method(p) if capacity_sized else ""}

**Scenarios.** Revenue paths start from today's active accounts at today's average MRR and
apply the growth and churn rates with the compounding convention printed under the chart;
the value of one point less churn is the extra revenue over the horizon, discounted at
{p.scenarios.discount_rate:.0%} a year for the NPV.
""".strip()


def input_files_table(quality: QualityLog) -> pd.DataFrame:
    """Each input table's file, rows read and kept, and SHA-256."""
    return pd.DataFrame([{"table": t.table, "file": t.file, "rows read": t.rows_read,
                          "rows kept": t.rows_kept, "sha256": t.sha256}
                         for t in quality.loads])


#: How the appendix shows a figure that does not exist (a penalised fit has no standard
#: error, interval or p-value): the en dash the report's tables use for a missing value.
ABSENT = "–"


def _figure(value: Any) -> float | None:
    """``value`` as a float, or None when it is absent (None, NaN, infinite, not a number):
    every figure of the appendix's tables goes through here, so none is formatted raw."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _figures(coefs: pd.DataFrame, key: str) -> list[float | None]:
    """A recorded column as :func:`_figure` values (all absent when it was not recorded)."""
    return [_figure(v) for v in coefs[key]] if key in coefs else [None] * len(coefs)


def regression_table(model: dict[str, Any]) -> pd.DataFrame:
    """The renewal model's coefficients as the appendix prints them.

    ``model`` is the model's record (:func:`playbook.findings.drivers.model_record` of
    ``nb.ctx.renewal_model``, or the ``model`` that section recorded in results.json).

    One row per term: ``driver`` (the label the exhibits use, with the term's unit, e.g.
    "Executive sponsor (has an executive sponsor vs not)"), ``odds ratio`` with its 95%
    interval as text ("1.58-3.54"), ``log-odds`` (the coefficient, per unit), its
    ``std. error`` and ``p`` (as text, "< 0.001" below 0.001, with a no-break space).
    Six columns, so the table keeps readable column widths on the page. A figure the fit
    does not give (a penalised fit has no standard error, interval or p-value) is None,
    which the table shows as :data:`ABSENT`; :func:`regression_note` says why.
    """
    coefs = pd.DataFrame(model["coefficients"])
    name = coefs["term"] if "term" in coefs else coefs["feature"]
    unit = coefs["unit"].fillna("") if "unit" in coefs else pd.Series("", index=coefs.index)
    low, high = _figures(coefs, "or_low"), _figures(coefs, "or_high")
    return pd.DataFrame({
        "driver": [f"{label(t)} ({u})" if u else label(t)
                   for t, u in zip(name, unit, strict=True)],
        "odds ratio": _figures(coefs, "odds_ratio"),
        "95% interval": [None if lo is None or hi is None else f"{lo:.2f}-{hi:.2f}"
                         for lo, hi in zip(low, high, strict=True)],
        "log-odds": _figures(coefs, "coef"),
        "std. error": _figures(coefs, "std_err"),
        "p": [None if v is None else tf.pvalue(v).replace(" ", "\u00a0")  # no wrap
              for v in _figures(coefs, "p_value")],
    }, dtype=object)


def regression_caption(model: dict[str, Any]) -> str:
    """The regression table's caption: method, decisions and non-renewals (a count that
    was not recorded reads "n/a")."""
    method = {"mle": "maximum likelihood", "l1": "penalised L1 fit"}.get(
        str(model.get("method")), str(model.get("method") or "method not recorded"))
    return (f"Logistic regression ({method}), n = {tf.count(model.get('n'))} decisions, "
            f"{tf.count(model.get('events'))} non-renewals.")


def regression_note(model: dict[str, Any]) -> str:
    """A sentence on the figures the regression table leaves out ("" when none is)."""
    table = regression_table(model)
    absent = [c for c in table.columns if table[c].isna().any()]
    if model.get("method") == "l1":
        return (f"The outcome was perfectly or almost perfectly separated, so the model was "
                f"fitted with a penalty (L1): its coefficients are shrunk toward zero, and a "
                f"penalised fit has no standard errors, intervals or p-values ({ABSENT} in "
                f"the table).")
    if absent:
        return (f"{ABSENT} marks a figure the fit could not estimate "
                f"({', '.join(absent)}).")
    return ""


def input_files_html(quality: QualityLog) -> str:
    """The input files table: table, file, rows read and the full SHA-256 checksum (one
    line, small monospace). Rows kept and set aside are in the data-sources exhibit."""
    rows = "".join(
        f"<tr><td>{html.escape(t.table)}</td><td>{html.escape(t.file)}</td>"
        f'<td class="num">{t.rows_read:,}</td><td class="hash">{t.sha256}</td></tr>'
        for t in quality.loads)
    return ('<table class="data inputs"><thead><tr><th>table</th><th>file</th>'
            "<th>rows</th><th>SHA-256</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def software_line() -> str:
    """The software versions as one line of markdown: "**Software:** Python 3.11.7,
    pandas 3.1.1, ..." (a table of a dozen two-word rows would take half a page); from
    :func:`playbook.provenance.provenance`, as the manifest records them."""
    found = provenance()
    items = [f"Python {found.python}"] + [f"{name} {version or 'not installed'}"
                                          for name, version in found.packages.items()]
    return "**Software:** " + ", ".join(items) + "."


def git_commit() -> str:
    """The checkout's commit (with '+ uncommitted changes' when tracked files differ from
    it), or 'unknown' (:func:`playbook.provenance.provenance`)."""
    found = provenance()
    if not found.short_commit:
        return "unknown"
    return found.short_commit + (" + uncommitted changes" if found.dirty else "")


def _flatten(d: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
    else:
        out[prefix[:-1]] = d
    return out


def parameter_overrides(p: Params) -> pd.DataFrame:
    """Parameters whose value differs from the shared defaults (the client's and the
    command line's choices), excluding the table mappings; the full merged set is in
    manifest.json. Values are written for people (:func:`playbook.textfmt.param_value`:
    "none", "–", "cheaper, expensive, price"), never as JSON."""
    defaults = _flatten(read_yaml(paths.defaults_file()))
    merged = _flatten({k: v for k, v in p.as_dict().items() if k not in ("tables", "derived")})
    rows = [{"parameter": k, "value": tf.param_value(v),
             "default": tf.param_value(defaults.get(k))}
            for k, v in merged.items() if defaults.get(k) != v]
    return _one_row_per_client_map(pd.DataFrame(rows, columns=["parameter", "value",
                                                               "default"]), defaults)


def _one_row_per_client_map(frame: pd.DataFrame, defaults: dict[str, Any]) -> pd.DataFrame:
    """Rows of a map the client wrote whole (e.g. ``churn.reason_rules``: its keys have no
    default of their own) folded into one row, "8 entries: Price, Missing features, …": the
    table stays short and the full map is in manifest.json."""
    def parent(name: str) -> str:
        head = name.rsplit(".", 1)[0]
        return head if "." in name and not any(d.startswith(head + ".")
                                                for d in defaults) else name
    keys = frame["parameter"].map(parent)
    rows = []
    for key, group in frame.groupby(keys, sort=False):
        if len(group) == 1 and group["parameter"].iloc[0] == key:
            rows.append(group.iloc[0].to_dict())
            continue
        names = [n.rsplit(".", 1)[1] for n in group["parameter"]]
        shown = ", ".join(names[:4]) + (", …" if len(names) > 4 else "")
        rows.append({"parameter": key, "value": f"{len(names)} entries: {shown}",
                     "default": tf.param_value(defaults.get(key))})
    return pd.DataFrame(rows, columns=["parameter", "value", "default"])


def params_sha256(path: Path) -> str:
    """SHA-256 of the params file, or "missing" (a run from defaults only)."""
    return file_sha256(path) if path.is_file() else "missing"


#: Renewals the appendix lists by expected loss (the open book in section 3 shows the first
#: ``drivers.open_book_rows`` of them).
TOP_LOSSES_ROWS = 50
#: The appendix's line in place of the top-50 list when the report writes the account
#: workbook (section "where to act"): the workbook lists every account.
WORKBOOK_POINTER = (
    "Every active account's renewal probability, expected loss, expansion potential, cost "
    "to serve and next action are in `accounts.xlsx` beside this report.")
#: ... and where the report lists the accounts to act on first (the renewals with the
#: largest expected loss are among them, with the largest expansion potentials).
TOP_ACCOUNTS_POINTER = (
    "The accounts with the largest expected renewal loss plus expansion potential are listed "
    "in the appendix \"Accounts to act on first\".")


def top_losses_table(top: pd.DataFrame, accounts: pd.DataFrame, currency: str) -> pd.DataFrame:
    """The renewals with the largest expected loss (:func:`playbook.analyses.drivers.
    top_expected_losses`) as the appendix prints them: rank, account, owner, renewal date
    (with its year), P(renew), MRR and expected loss (MRR x probability of not renewing)."""
    table = renewal_rows(top, accounts, currency)
    table.insert(0, "#", range(1, len(top) + 1))
    return table


def top_losses_exhibit(top: pd.DataFrame, summary: dict[str, Any], accounts: pd.DataFrame,
                       currency: str, horizon: int, as_of: object) -> ExhibitSpec:
    """The appendix's list of the renewals due after ``as_of`` with the largest expected
    loss (up to :data:`TOP_LOSSES_ROWS`), with n and its source; when the model ranks no
    better than chance (``summary["model_ranks"]`` False) the note says the order is then
    close to the order of MRR, a list to review rather than a list at risk."""
    window = renewal_window(horizon, as_of)
    total = float(top["expected_loss"].sum()) if len(top) else 0.0
    title = (f"The {tf.count(len(top))} renewals due in {window} with the largest expected "
             f"loss are expected to cost {tf.money(total, currency)} of MRR"
             if len(top) else f"No scored renewal falls due in {window}")
    caveat = ("" if summary.get("model_ranks") is not False else
              " The renewal model ranks renewals no better than chance, so its probabilities "
              "sit near the base rate and this order is close to the order of MRR: a list to "
              "review, not a list of accounts at risk.")
    frame = top_losses_table(top, accounts, currency)
    blank = blank_columns(frame)  # e.g. no owner recorded: said in the note, not as dashes
    table = table_html(frame.drop(columns=blank),
                       formats={"P(renew)": "{:.0%}", f"MRR ({currency})": "{:,.0f}",
                                f"expected loss ({currency})": "{:,.0f}"},
                       max_rows=TOP_LOSSES_ROWS)  # every row: the list is the point
    return ExhibitSpec(
        table, title,
        f"Renewals due in {window} by expected loss (MRR x predicted probability of not "
        "renewing), largest first",
        "renewal model, accounts, mrr", n=len(top), n_of="renewals",
        notes=(f"The first {tf.count(len(top))} of {tf.count(summary.get('scored'))} scored "
               "renewals due; all are in results.json (02-renewal-drivers, open_book)."
               + caveat
               + (f" Left out, no value to show: {', '.join(map(str, blank))}." if blank
                  else "")))
