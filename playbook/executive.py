"""The executive layer, generated from the run's results by rules: the one-page "so what"
(three messages, the size of the prize, the decisions asked), the opportunity walk, a
business case per recommendation and the peer benchmarks.

Like the executive summary (:mod:`playbook.summary`), nothing here is written by hand: each
figure comes from :mod:`playbook.facts`, the opportunity walk
(:mod:`playbook.analyses.walk`), the recommendations (:mod:`playbook.recommendations`) or
the benchmark set (:mod:`playbook.executive_benchmarks`), and :func:`executive_record`
stores it in results.json under ``"executive"`` (docs/results.md), so a test can hold every
number of the page to the record.

Money: the walk, the prize, costs and benefits are money per year (ARR) in the client's
currency; the expected MRR losses they start from are money per month.

Business case of a recommendation (:func:`business_cases`):

* people: the touches ``executive.effort`` adds per account it covers, priced in hours by
  the touch model (``touch_model.hours_per_touch`` + prep + travel), over
  ``touch_model.csm_hours_per_year``: FTE; cost: FTE x ``touch_model.loaded_cost_per_csm``
  a year. A rule without an effort entry is "not costed" (a process change, no headcount);
* benefit: the walk's lever the recommendation moves (low, mid, high a year), none when it
  moves no lever the walk sized;
* payback: cost / (mid benefit / 12), in months (None without both);
* KPI: the fact the recommendation rests on, its value now and its target for the next
  period's report (:data:`KPIS`), which :func:`playbook.comparison.kpi_checks` checks then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from playbook import textfmt as tf
from playbook.analyses.walk import (
    LEVERS,
    Capture,
    Walk,
    WalkInputs,
    opportunity_walk,
    walk_bars,
    walk_notes,
)
from playbook.comparison import kpi_checks
from playbook.config import Params
from playbook.errors import ParamsError
from playbook.executive_benchmarks import BenchmarkSet, benchmarks_record, load_benchmarks
from playbook.facts import Facts, facts_from_results, figure
from playbook.metrics import HEADLINE_NAMES
from playbook.recommendations import (
    CSM_GAP_MIN,
    GRR_FLOOR,
    NRR_TARGET,
    RULES,
    Limits,
    Recommendation,
    exhibit_index,
    mrr_untrusted,
    recommendations,
)
from playbook.results import ReportResults

MAX_MESSAGES = 3
MAX_DECISIONS = 3

#: The walk lever each recommendation moves (its business case's benefit).
RULE_LEVER = {
    "save-renewals-at-risk": "renewals",
    "review-renewals-due": "renewals",
    "executive-sponsor-programme": "single_threaded",
    "build-expansion-motion": "expansion",
    "fix-churn-reason-capture": "unknown_reasons",
}


@dataclass(frozen=True)
class ExecutiveSettings:
    """The run's parameters the executive layer reads (:meth:`of`)."""

    capture: Capture
    effort: Mapping[str, tuple[str, float]]  # rule -> (touch, touches per account a year)
    touch_hours: Mapping[str, float]         # touch -> hours per touch (contact+prep+travel)
    csm_hours_per_year: float
    loaded_cost_per_csm: float               # money a year
    benchmarks: BenchmarkSet | None

    @classmethod
    def of(cls, params: Params) -> ExecutiveSettings:
        """The settings of a run's parameters (loads the benchmark set).

        Raises
        ------
        ParamsError
            ``executive.effort`` names a rule the recommendations do not have, or a touch
            the touch model does not price."""
        e, t = params.executive, params.touch_model
        touches = set(t.hours_per_touch) | set(t.prep_hours_per_touch) \
            | set(t.travel_hours_per_touch)
        rules = {r.id for r in RULES}
        for rule, x in e.effort.items():
            if rule not in rules:
                raise ParamsError(f"executive.effort names '{rule}', which is not a "
                                  "recommendation rule.",
                                  fix=f"Use one of: {', '.join(sorted(rules))}.")
            if x.touch not in touches:
                raise ParamsError(f"executive.effort.{rule}.touch is '{x.touch}', which the "
                                  "touch model does not price (touch_model.hours_per_touch).",
                                  fix=f"Use one of: {', '.join(sorted(touches))}.")
        hours = {k: t.hours_per_touch.get(k, 0.0) + t.prep_hours_per_touch.get(k, 0.0)
                 + t.travel_hours_per_touch.get(k, 0.0) for k in touches}
        return cls(Capture(e.capture.low_share, e.capture.mid_share, e.capture.high_share),
                   {rule: (x.touch, x.per_account) for rule, x in e.effort.items()},
                   hours, t.csm_hours_per_year, t.loaded_cost_per_csm,
                   load_benchmarks(e.benchmarks))


# --------------------------------------------------------------------------- the walk


def walk_inputs(report: ReportResults, f: Facts) -> WalkInputs:
    """What the walk reads from a run's results (docs/results.md names each key)."""
    single = report.segments.findings.flags_summary.get("flag_single_threaded")
    screen = report.account_plan.findings.expansion_screen
    return WalkInputs(
        mrr=f.mrr, nrr=f.nrr, withheld=tuple(f.withheld),
        model_ranks=f.model_ranks,
        at_risk_expected_loss=f.at_risk_expected_loss, at_risk_accounts=f.at_risk_accounts,
        expected_mrr_loss=f.expected_mrr_loss, renewals_due=f.renewals_due,
        lifecycle=list(report.segments.findings.lifecycle_churn),
        single_threaded_then=figure(single.flagged_then) if single else None,
        single_threaded_rate=figure(single.churn_rate) if single else None,
        # (None when the data-quality log contradicts the contacts: Facts withheld it)
        single_threaded_mrr=f.single_threaded_mrr,
        single_threaded_accounts=f.single_threaded,
        others_rate=figure(single.churn_rate_others) if single else None,
        expansion_potential=figure(screen.potential_mrr),
        expansion_candidates=figure(screen.candidates),
        unknown_reason_share=f.unknown_reason_share,
    )


# --------------------------------------------------------------------------- business cases


@dataclass(frozen=True)
class Kpi:
    """What a recommendation is tracked by: a :class:`Facts` field and its target rule."""

    fact: str
    label: str
    kind: str                  # pct | count | money | number | fte
    higher_is_better: bool
    target: Callable[[Facts, Limits, Capture], float | None]


def _cut(value: float | None, capture: Capture) -> float | None:
    """``value`` less the mid capture share (the lever's assumption) for the next period."""
    return None if value is None else value * (1 - capture.mid)


#: The KPI of each recommendation rule, with the target the next period's report checks.
KPIS: dict[str, Kpi] = {
    "resolve-contradictions": Kpi("contradictions", "contradictions in the export", "count",
                                  False, lambda f, t, c: 0.0),
    "save-renewals-at-risk": Kpi("at_risk_expected_loss",
                                 "expected MRR loss of the renewals at risk", "money", False,
                                 lambda f, t, c: _cut(f.at_risk_expected_loss, c)),
    "review-renewals-due": Kpi("expected_mrr_loss", "expected MRR loss of the renewals due",
                               "money", False, lambda f, t, c: _cut(f.expected_mrr_loss, c)),
    "fix-churn-reason-capture": Kpi("unknown_reason_share", "churn without a usable reason",
                                    "pct", False, lambda f, t, c: t.unknown_reason_share),
    "executive-sponsor-programme": Kpi("single_threaded", "single-threaded accounts", "count",
                                       False, lambda f, t, c: _cut(f.single_threaded, c)),
    "early-warning-signals": Kpi("surprises", "surprise non-renewals", "count", False,
                                 lambda f, t, c: _cut(f.surprises, c)),
    "reweight-health-score": Kpi("health_auc", "health score backtest AUC", "number", True,
                                 lambda f, t, c: f.health_auc_reweighted),
    "close-coverage-gap": Kpi("csm_gap", "CSM shortfall", "fte", False,
                              lambda f, t, c: CSM_GAP_MIN),
    "redeploy-spare-capacity": Kpi("spare_csm_capacity", "spare CSM capacity", "fte", False,
                                   lambda f, t, c: CSM_GAP_MIN),
    "build-expansion-motion": Kpi("nrr", "net revenue retention", "pct", True,
                                  lambda f, t, c: NRR_TARGET),
    "reduce-gross-losses": Kpi("grr", "gross revenue retention", "pct", True,
                               lambda f, t, c: GRR_FLOOR),
}


def fte_text(fte: float | None, missing: str = "n/a") -> str:
    """People as the business cases print them: one decimal, "<0.1" for an effort too small
    to round to a tenth of a person (a costed action never reads "0.0")."""
    if fte is None or tf.is_missing(fte):
        return missing
    return "<0.1" if 0 < fte < 0.05 else tf.number(fte, 1)


def kpi_texts(now: Any, target: Any, kind: str, currency: str = "USD") -> tuple[str, str]:
    """A KPI's value now and its target as the report prints them side by side: shares
    with as many decimals (0 to 2) as it takes for two different values to read differently
    (99.9% against a 100% target, not "100% -> 100%")."""
    if kind == "pct" and now is not None and target is not None and now != target:
        for digits in (0, 1, 2):
            pair = (tf.pct(now, digits), tf.pct(target, digits))
            if pair[0] != pair[1]:
                return pair
        return pair
    return kpi_text(now, kind, currency), kpi_text(target, kind, currency)


def kpi_text(value: Any, kind: str, currency: str = "USD") -> str:
    """A KPI value as the report prints it."""
    if kind == "pct":
        return tf.pct(value, 0)
    if kind == "money":
        return tf.money(value, currency)
    if kind == "count":
        return tf.count(value)
    if kind == "fte":  # a quantity named for its direction: no plus sign, a minus if it flips
        return "n/a" if tf.is_missing(value) else f"{tf.number(value, 1)} FTE"
    return tf.number(value, 2)


@dataclass
class BusinessCase:
    """The case for one recommendation. Money a year; FTE full-time people."""

    number: int
    rule: str
    short: str
    timing: str
    accounts: float | None          # accounts the action covers (costed ones)
    fte: float | None
    cost: float | None
    cost_basis: str
    lever: str | None               # the walk lever it moves
    benefit_low: float | None
    benefit_mid: float | None
    benefit_high: float | None
    payback_months: float | None
    kpi_fact: str | None
    kpi_label: str
    kpi_kind: str
    kpi_higher_is_better: bool | None
    kpi_current: float | None
    kpi_target: float | None


def _covered(rule: str, f: Facts, walk: Walk) -> float | None:
    """Accounts a recommendation's action covers (what its effort is counted on)."""
    lever = next((lv for lv in walk.levers if lv.key == RULE_LEVER.get(rule)), None)
    if lever is not None and lever.basis.get("accounts") is not None:
        return lever.basis["accounts"]
    return {"save-renewals-at-risk": f.at_risk_accounts,
            "review-renewals-due": f.renewals_due,
            "executive-sponsor-programme": f.single_threaded}.get(rule)


def business_case(rec: Recommendation, f: Facts, walk: Walk, limits: Limits,
                  s: ExecutiveSettings) -> BusinessCase:
    """The business case of one recommendation (module docstring)."""
    fte = cost = accounts = None
    basis = "not costed: a process change within today's team"
    if rec.rule in s.effort:
        touch, per_account = s.effort[rec.rule]
        accounts = _covered(rec.rule, f, walk)
        if touch not in s.touch_hours:
            basis = f"not costed: the touch '{touch}' is not in the touch model"
        elif accounts is not None:
            hours = accounts * per_account * s.touch_hours[touch]
            fte = hours / s.csm_hours_per_year
            cost = fte * s.loaded_cost_per_csm
            basis = (f"{tf.count(accounts)} accounts x {tf.number(per_account, 0)} "
                     f"{touch.replace('_', ' ')} a year x {tf.number(s.touch_hours[touch], 1)} h")
    lever = next((lv for lv in walk.levers if lv.key == RULE_LEVER.get(rec.rule)), None)
    low, mid, high = (lever.low, lever.mid, lever.high) if lever else (None, None, None)
    payback = cost / (mid / 12) if cost is not None and mid else None
    kpi = KPIS.get(rec.rule)
    current = None if kpi is None else figure(getattr(f, kpi.fact))
    if kpi is not None and kpi.kind == "money" and mrr_untrusted(f):
        current = None  # an amount of MRR the report withholds is no KPI either
    target = None if kpi is None or current is None else kpi.target(f, limits, s.capture)
    return BusinessCase(rec.number, rec.rule, rec.short, rec.timing, accounts, fte, cost,
                        basis, lever.key if lever else None, low, mid, high, payback,
                        kpi.fact if kpi else None, kpi.label if kpi else "",
                        kpi.kind if kpi else "", kpi.higher_is_better if kpi else None,
                        current, target)


def business_cases(recs: Sequence[Recommendation], f: Facts, walk: Walk, limits: Limits,
                   s: ExecutiveSettings) -> list[BusinessCase]:
    """A business case per recommendation, in the recommendations' order."""
    return [business_case(r, f, walk, limits, s) for r in recs]


# --------------------------------------------------------------------------- the so what


@dataclass
class Message:
    """One message of the "so what": a sentence and the figure it turns on.

    ``figure_key``: where the figure is in results.json: ``facts.<name>`` (the summary's
    facts) or ``walk.<lever>.mid`` (the walk's lever, money a year)."""

    text: str
    figure_key: str
    value: float


def _money_year(value: float | None, currency: str) -> str:
    return f"{tf.money(value, currency)} a year"


def lever_message(lv: Any, f: Facts, currency: str) -> Message:
    """The sentence of a walk lever: its mid, its range and why."""
    b, c = lv.basis, currency
    worth = (f"{_money_year(lv.mid, c)} ({tf.span(lv.low, lv.high, lambda v: tf.money(v, c))})")
    why = {
        "renewals": lambda: (f"Saving the renewals at risk is worth {worth}: "
                             f"{tf.count(b.get('accounts'))} renewals due in the next 90 days "
                             f"are expected to cost {tf.money(b.get('expected_mrr_loss'), c)} "
                             "of MRR." if b.get("ranked", True) else
                             f"Saving the renewals due is worth {worth}: the "
                             f"{tf.count(b.get('accounts'))} renewals due in the next 90 days "
                             f"are expected to cost {tf.money(b.get('expected_mrr_loss'), c)} "
                             "of MRR, and the model cannot say which, so each is reviewed."),
        "onboarding": lambda: (f"Fixing onboarding is worth {worth}: accounts in onboarding "
                               f"churn at {tf.pct(b.get('churn_rate'), 0)} against "
                               f"{tf.pct(b.get('others_rate'), 0)} once past it."),
        "single_threaded": lambda: (f"Closing single-threaded risk is worth {worth}: "
                                    f"{tf.count(b.get('accounts'))} accounts with too few "
                                    "executive relationships churn at "
                                    f"{tf.pct(b.get('churn_rate'), 0)} against "
                                    f"{tf.pct(b.get('others_rate'), 0)} for the others."),
        "expansion": lambda: (f"Expansion is worth {worth}: {tf.count(b.get('accounts'))} "
                              "healthy, adopting accounts have room to grow to their next "
                              "tier."),
    }[lv.key]
    return Message(why(), f"walk.{lv.key}.mid", lv.mid)


def retention_message(f: Facts, peers: Mapping[str, Any]) -> Message | None:
    """Net (else gross) revenue retention, beside the peers' figure when there is one."""
    key = "nrr" if f.nrr is not None else "grr" if f.grr is not None else None
    if key is None:
        return None
    value = getattr(f, key)
    over = (f.window_label or "trailing window").replace("trailing", "last", 1)
    what = "after expansion" if key == "nrr" else "before expansion"
    row = next((r for r in peers.get("rows", []) if r["metric"] == key), None)
    peer = ""
    if row and row["peer"] is not None and row["verdict"]:
        side = {"better": "above", "worse": "below", "in line": "in line with"}[row["verdict"]]
        peer = (f", {side} the {tf.pct(row['peer'], 0)} {peers['statistic']} of peers "
                f"with a similar contract value ({peers['source'].split(',')[0]}, "
                f"{peers['year']})")
    return Message(f"Over the {over} customers kept {tf.pct(value, 1)} of their revenue "
                   f"{what}{peer}.", f"facts.{key}", value)


def fallback_messages(f: Facts) -> list[Message]:
    """Messages from the summary's facts when the walk sizes fewer than two levers."""
    out = []
    if f.unknown_reason_share:
        out.append(Message(f"{tf.pct(f.unknown_reason_share, 0)} of churn has no usable "
                           "reason: the levers cannot all be sized until it does.",
                           "facts.unknown_reason_share", f.unknown_reason_share))
    if f.surprises:
        out.append(Message(f"{tf.count(f.surprises)} customers left while their health "
                           "looked green.", "facts.surprises", f.surprises))
    if f.contradictions:
        them = "it" if int(f.contradictions) == 1 else "them"
        out.append(Message(f"The export contradicts itself in "
                           f"{tf.plural(int(f.contradictions), 'way')}: resolve {them} before "
                           "acting on its figures.", "facts.contradictions", f.contradictions))
    return out


def messages(f: Facts, walk: Walk, peers: Mapping[str, Any]) -> list[Message]:
    """The three messages: retention (beside peers), then the largest levers of the walk
    by mid, then facts of the summary when the walk sizes too few."""
    out: list[Message] = []
    first = retention_message(f, peers)
    if first is not None:
        out.append(first)
    for lv in sorted(walk.levers, key=lambda lv: -lv.mid):
        if lv.mid > 0 and len(out) < MAX_MESSAGES:
            out.append(lever_message(lv, f, walk.currency))
    for m in fallback_messages(f):
        if len(out) < MAX_MESSAGES:
            out.append(m)
    return out


def prize(walk: Walk) -> dict[str, Any]:
    """The size of the prize: the walk's levers summed (money a year), or None each when
    the walk sizes none; ``text`` as the page and the deck print it."""
    names = tf.and_list([lv.label.lower() for lv in walk.levers])
    c = walk.capture
    sized = bool(walk.levers)
    return {
        "text": (f"{tf.money(walk.total('mid'), walk.currency)} a year" if sized else
                 "The prize cannot be sized from this run's data"),
        "low": walk.total("low") if sized else None,
        "mid": walk.total("mid") if sized else None,
        "high": walk.total("high") if sized else None,
        "unit": f"{walk.currency} a year",
        "basis": (f"the sum of the walk's {tf.plural(len(walk.levers), 'lever')} ({names}), "
                  f"each closing {tf.span(c.low, c.high, lambda v: tf.pct(v, 0))} (mid "
                  f"{tf.pct(c.mid, 0)}) of its measured gap in 12 months; the levers overlap "
                  "(an account can be single-threaded and at risk), so the sum is before "
                  "overlap" if sized and c is not None else
                  "no lever could be sized from this run's data"),
    }


def payback_words(months: float) -> str:
    """"within a month" or "in 6 months" (whole months)."""
    return "within a month" if months < 1 else f"in {tf.plural(int(round(months)), 'month')}"


def decisions(cases: Sequence[BusinessCase], currency: str) -> list[dict[str, Any]]:
    """The two or three decisions asked: the recommendations with a sized benefit, largest
    net benefit (mid benefit - cost) first, then the first others in the table's order."""
    sized = sorted((b for b in cases if b.benefit_mid),
                   key=lambda b: -((b.benefit_mid or 0) - (b.cost or 0)))
    rest = [b for b in cases if b not in sized]
    out = []
    for b in (sized + rest)[:MAX_DECISIONS]:
        cost = ("no added headcount" if b.cost is None else
                f"{_money_year(b.cost, currency)} ({fte_text(b.fte)} FTE)")
        text = f"Approve recommendation {b.number}, {b.short}: it costs {cost}"
        if b.benefit_mid:
            text += f" for {_money_year(b.benefit_mid, currency)}"
            if b.payback_months is not None:
                text += f", paid back {payback_words(b.payback_months)}"
        text += "."
        out.append({"number": b.number, "rule": b.rule, "text": text, "cost": b.cost,
                    "fte": b.fte, "benefit": b.benefit_mid,
                    "payback_months": b.payback_months})
    return out


def walk_withheld_text(walk: Walk) -> str:
    """What the walk does not use and why ("" when it uses every headline figure)."""
    if not walk.withheld:
        return ""
    names = tf.and_list([HEADLINE_NAMES.get(k, k) for k in walk.withheld])
    if "mrr" in walk.withheld:
        return (f"Not used: {names}, withheld from the summary; the walk puts no amount on "
                "any lever.")
    return (f"Not used: {names}, withheld from the summary; the walk shows the levers "
            "without today's level.")


# --------------------------------------------------------------------------- the record


def executive_record(results: Mapping[str, Any] | ReportResults, order: Sequence[str], *,
                     limits: Limits, settings: ExecutiveSettings,
                     previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The executive layer of a run for results.json (``"executive"``, docs/results.md);
    ``previous``: the previous report's results, whose KPI targets are checked."""
    report = ReportResults.from_json(results)
    f = facts_from_results(report)
    recs = recommendations(f, limits, exhibit_index(report, order))
    walk = opportunity_walk(walk_inputs(report, f), settings.capture, f.currency)
    peers = benchmarks_record(f, settings.benchmarks)
    cases = business_cases(recs, f, walk, limits, settings)
    return {
        "so_what": {"messages": [vars(m) for m in messages(f, walk, peers)],
                    "prize": prize(walk),
                    "decisions": decisions(cases, f.currency)},
        "walk": walk_bars(walk),
        "walk_notes": {**walk_notes(walk), "withheld_text": walk_withheld_text(walk)},
        "business_cases": [vars(b) for b in cases],
        "benchmarks": peers,
        "kpi_checks": [vars(k) for k in kpi_checks(report, previous)],
        "kpi_checks_since": (ReportResults.from_json(previous).meta.period_label or None
                             if previous else None),
        "levers": dict(LEVERS),
    }
