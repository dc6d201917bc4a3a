"""The opportunity walk: from the ARR today's customers will bill in 12 months at today's
net revenue retention to the ARR they could bill, one lever at a time.

Every amount is money per year (ARR: MRR x 12). Each lever starts from a gap an analysis
measured (its *measured* value, with a low and a high from that analysis' interval where
it has one) and closes a share of it in the next 12 months: the *capture* share, an
assumption of the run (``executive.capture``: low, mid, high), printed with the walk. So a
lever's low is ``measured_low x capture.low``, its mid ``measured x capture.mid`` and its high
``measured_high x capture.high``.

Levers (:func:`opportunity_walk`):

* ``renewals``: save the renewals due in the next 90 days. Measured: their expected MRR
  loss (MRR x the renewal model's probability of not renewing), over the renewals the model
  rates at risk when it ranks better than chance, else over every renewal due.
* ``onboarding``: bring the churn of accounts in onboarding down to the churn of the
  accounts past it. Measured: (onboarding churn rate - churn rate of the other stages) x
  the onboarding accounts' MRR; low/high from the onboarding rate's 95% interval.
* ``single_threaded``: bring the churn of single-threaded accounts down to that of the
  other accounts. Measured: (their observed churn rate - the others') x their MRR now;
  low/high from the flagged rate's 95% Wilson interval.
* ``expansion``: the expansion potential of the account plan's candidates (MRR they would
  add reaching their next tier's median).
* ``unknown_reasons``: never sized: a coded churn reason saves no revenue by itself (it lets
  the next report size the other levers). Named as left out when reasons are missing.

A lever whose evidence is missing (section off, no data, no gap) is left out and named with
the reason; none is ever sized from a withheld headline figure
(:func:`playbook.metrics.withheld_figures`): with the MRR withheld there is no walk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from playbook.analyses.stats import wilson_interval

MONTHS = 12  # ARR = MRR x 12

#: The levers in the order the walk shows them, with their labels.
LEVERS: dict[str, str] = {
    "renewals": "Save renewals at risk",
    "onboarding": "Fix onboarding",
    "single_threaded": "Close single-threaded risk",
    "expansion": "Expansion potential",
    "unknown_reasons": "Fewer unknown churn reasons",
}


@dataclass(frozen=True)
class Capture:
    """Share (0-1) of a lever's measured gap closed in the next 12 months: an assumption."""

    low: float
    mid: float
    high: float


@dataclass
class Lever:
    """One bar of the walk. Money per year (ARR) in the client's currency."""

    key: str
    label: str
    low: float
    mid: float
    high: float
    measured: float          # the gap the analysis measured (ARR a year), before capture
    source: str              # the section and finding it rests on
    assumption: str          # how it was sized, in words (printed under the chart)
    basis: dict[str, float | bool] = field(default_factory=dict)  # what the sizing used


@dataclass
class LeftOut:
    key: str
    label: str
    reason: str


@dataclass
class Walk:
    """The walk: ``start`` (ARR of today's customers in 12 months at today's NRR; None when
    the MRR or the NRR is withheld or missing), the levers, their sum and the end."""

    currency: str
    start: float | None
    levers: list[Lever] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # headline figures not used, by key
    capture: Capture | None = None

    def total(self, which: str = "mid") -> float:
        """Sum of the levers' ``which`` (low | mid | high), money per year."""
        return float(sum(getattr(lv, which) for lv in self.levers))

    @property
    def end(self) -> float | None:
        """The achievable ARR in 12 months (start + the levers' mids), or None."""
        return None if self.start is None else self.start + self.total("mid")


@dataclass(frozen=True)
class WalkInputs:
    """What the walk reads, each from the analysis that measured it (None: not measured).

    MRR amounts are money per month; rates are shares 0-1 over the headline window."""

    mrr: float | None = None
    nrr: float | None = None
    withheld: tuple[str, ...] = ()
    model_ranks: bool | None = None
    at_risk_expected_loss: float | None = None
    at_risk_accounts: float | None = None
    expected_mrr_loss: float | None = None
    renewals_due: float | None = None
    lifecycle: Sequence[Mapping[str, Any]] = ()
    onboarding_stage: str = "Onboarding"
    single_threaded_then: float | None = None
    single_threaded_rate: float | None = None
    single_threaded_mrr: float | None = None
    single_threaded_accounts: float | None = None
    others_rate: float | None = None
    expansion_potential: float | None = None
    expansion_candidates: float | None = None
    unknown_reason_share: float | None = None


#: The renewal lever's label when the model cannot rank renewals: none is "at risk", each
#: renewal due is reviewed (the recommendation "review every renewal due").
RENEWALS_DUE_LABEL = "Save renewals due"


def _label(key: str, x: WalkInputs) -> str:
    """A lever's label: the renewal lever of a model that cannot rank renewals is
    :data:`RENEWALS_DUE_LABEL` (none of them is "at risk")."""
    return RENEWALS_DUE_LABEL if key == "renewals" and x.model_ranks is False else LEVERS[key]


def _lever(key: str, measured: tuple[float, float, float], capture: Capture, source: str,
           assumption: str, basis: dict[str, float | bool], label: str | None = None
           ) -> Lever:
    low, mid, high = (max(v, 0.0) for v in measured)
    return Lever(key, label or LEVERS[key], low * capture.low, mid * capture.mid,
                 high * capture.high, mid, source, assumption, basis)


def renewal_lever(x: WalkInputs, capture: Capture) -> Lever | LeftOut:
    """Save the renewals due in the next 90 days (module docstring)."""
    if x.model_ranks is True and x.at_risk_expected_loss:
        loss, which = x.at_risk_expected_loss, "the renewals the model rates at risk"
        accounts = x.at_risk_accounts
    elif x.model_ranks is False and x.expected_mrr_loss:
        loss, which = x.expected_mrr_loss, "every renewal due (the model cannot rank them)"
        accounts = x.renewals_due
    else:
        return LeftOut("renewals", _label("renewals", x),
                       "no renewal due in the next 90 days was scored")
    arr = loss * MONTHS
    ranked = x.model_ranks is True
    return _lever("renewals", (arr, arr, arr), capture,
                  "Renewal drivers: open book of renewals due in 90 days",
                  f"expected MRR loss of {which} in the next 90 days, x 12 (the renewals of "
                  "later quarters are not counted)",
                  {"expected_mrr_loss": loss, "accounts": accounts, "ranked": ranked},
                  label=_label("renewals", x))


def onboarding_lever(x: WalkInputs, capture: Capture) -> Lever | LeftOut:
    """Churn of the onboarding stage brought to that of the other stages."""
    rows = [r for r in x.lifecycle if r.get("accounts")]
    onb = next((r for r in rows if r.get("tier") == x.onboarding_stage), None)
    rest = [r for r in rows if r is not onb]
    if onb is None or not rest or onb.get("churn_rate") is None or onb.get("small_sample"):
        return LeftOut("onboarding", LEVERS["onboarding"],
                       "no onboarding stage with enough accounts in the lifecycle analysis")
    others = (sum(r.get("churned_accounts") or 0 for r in rest)
              / sum(r["accounts"] for r in rest))
    excess = [float(onb.get(k, onb["churn_rate"]) or 0) - others
              for k in ("churn_rate_low", "churn_rate", "churn_rate_high")]
    if excess[1] <= 0:
        return LeftOut("onboarding", LEVERS["onboarding"],
                       "accounts in onboarding churn no more than the others")
    mrr = float(onb.get("mrr") or 0) * MONTHS
    return _lever("onboarding", tuple(e * mrr for e in excess), capture,
                  "Segments and health: churn by lifecycle stage",
                  "onboarding accounts' ARR x (their churn rate - the other stages'), low and "
                  "high from the onboarding rate's 95% interval",
                  {"churn_rate": float(onb["churn_rate"]), "others_rate": others,
                   "accounts": float(onb["accounts"]), "mrr": float(onb.get("mrr") or 0)})


def single_threaded_lever(x: WalkInputs, capture: Capture) -> Lever | LeftOut:
    """Churn of single-threaded accounts brought to that of the others."""
    if (x.single_threaded_rate is None or x.others_rate is None or not x.single_threaded_then
            or not x.single_threaded_mrr):
        return LeftOut("single_threaded", LEVERS["single_threaded"],
                       "the churn of single-threaded accounts and of the others was not "
                       "measured")
    if x.single_threaded_rate <= x.others_rate:
        return LeftOut("single_threaded", LEVERS["single_threaded"],
                       "single-threaded accounts churn no more than the others")
    n = float(x.single_threaded_then)
    lo, hi = wilson_interval(round(x.single_threaded_rate * n), n)
    mrr = x.single_threaded_mrr * MONTHS
    excess = (float(lo) - x.others_rate, x.single_threaded_rate - x.others_rate,
              float(hi) - x.others_rate)
    return _lever("single_threaded", tuple(e * mrr for e in excess), capture,
                  "Segments and health: relationship-risk flags",
                  "single-threaded accounts' ARR x (their observed churn rate - the other "
                  "accounts'), low and high from their rate's 95% interval",
                  {"churn_rate": x.single_threaded_rate, "others_rate": x.others_rate,
                   "accounts": x.single_threaded_accounts, "mrr": x.single_threaded_mrr})


def expansion_lever(x: WalkInputs, capture: Capture) -> Lever | LeftOut:
    """The account plan's expansion potential."""
    if not x.expansion_potential:
        return LeftOut("expansion", LEVERS["expansion"],
                       "the account plan found no expansion candidate")
    arr = x.expansion_potential * MONTHS
    return _lever("expansion", (arr, arr, arr), capture,
                  "Account plan: expansion screen",
                  "MRR the expansion candidates would add reaching their next tier's median, "
                  "x 12",
                  {"potential_mrr": x.expansion_potential,
                   "accounts": x.expansion_candidates})


def opportunity_walk(x: WalkInputs, capture: Capture, currency: str) -> Walk:
    """The walk of a run (module docstring); ``x`` from :func:`walk_inputs`."""
    walk = Walk(currency, None, capture=capture,
                withheld=[k for k in ("mrr", "nrr") if k in x.withheld])
    if "mrr" in x.withheld or x.mrr is None:
        walk.left_out = [LeftOut(k, _label(k, x), "the MRR is withheld or missing: no amount "
                                 "is put on any lever") for k in LEVERS]
        return walk
    if x.nrr is not None and "nrr" not in x.withheld:
        walk.start = x.mrr * MONTHS * x.nrr
    for make in (renewal_lever, onboarding_lever, single_threaded_lever, expansion_lever):
        out = make(x, capture)
        (walk.levers if isinstance(out, Lever) else walk.left_out).append(out)
    if x.unknown_reason_share:
        walk.left_out.append(LeftOut(
            "unknown_reasons", LEVERS["unknown_reasons"],
            "not sized: a coded churn reason saves no revenue by itself; it lets the next "
            "report size the levers"))
    return walk


def walk_bars(walk: Walk) -> list[dict[str, Any]]:
    """The walk's bars in order, for results.json (``executive.walk``): the start level
    (when there is one), one bar per lever, the end level. Each ``{key, label, kind (level |
    lever), low, mid, high}`` in money a year, a lever also with ``measured``, ``source``,
    ``assumption`` and ``basis``."""
    bars: list[dict[str, Any]] = []
    if walk.start is not None:
        bars.append({"key": "start", "label": "ARR in 12 months at today's NRR",
                     "kind": "level", "low": walk.start, "mid": walk.start,
                     "high": walk.start})
    bars += [{**vars(lv), "kind": "lever"} for lv in walk.levers]
    if walk.end is not None:
        bars.append({"key": "end", "label": "Achievable ARR in 12 months", "kind": "level",
                     "low": walk.start + walk.total("low"), "mid": walk.end,
                     "high": walk.start + walk.total("high")})
    return bars


def walk_notes(walk: Walk) -> dict[str, Any]:
    """What the walk leaves out and assumes, for results.json (``executive.walk_notes``)."""
    return {
        "unit": f"{walk.currency} a year (ARR)",
        "total": {k: walk.total(k) for k in ("low", "mid", "high")},
        "left_out": [vars(lo) for lo in walk.left_out],
        "withheld": list(walk.withheld),
        "capture": None if walk.capture is None else vars(walk.capture),
    }
