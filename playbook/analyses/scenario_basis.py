"""What the impact scenarios start from: the client's annual rates on the report's one
metrics basis, whether they can be compounded into revenue paths, and the churn rates the
paths compare.

One decision, made once (:func:`scenario_basis`): the impact section shows its revenue
paths, growth arithmetic and levers only when :attr:`ScenarioBasis.compoundable` is true,
i.e. when the headline metrics (:func:`playbook.metrics.headline_metrics`) cover a full
12-month window, none of the figures the rates rest on is withheld, and the rates are
plausible.

Pure functions (no I/O, printing or plotting). Rates are annual shares of the base MRR
(0.12 = 12%); MRR is money per month in the client's currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from playbook.analyses.scenarios import client_rates, implausible_rates
from playbook.metrics import HEADLINE_NAMES, withheld_groups
from playbook.textfmt import and_list

#: Churn rates of ``scenarios.churn_rates`` closer than this to the client's own churn are
#: not drawn as a path of their own (they would overlap the client's line).
SAME_RATE = 0.005
#: Months the window of the headline metrics must cover for its rates to be annual rates.
ANNUAL_MONTHS = 12
#: Headline figures the rates rest on (keys of ``headline_metrics["withheld"]``): MRR is
#: the base of every path, GRR gives the churn, NRR the expansion.
RATE_INPUTS = ("mrr", "grr", "nrr")


@dataclass(frozen=True)
class ScenarioBasis:
    """The client's starting point for the impact scenarios.

    Attributes
    ----------
    rates : dict
        :func:`playbook.analyses.scenarios.client_rates` of the 12-month window
        (``start_mrr``, ``end_mrr``, ``new_sales``, ``expansion``, ``churn``, ``price``,
        ``growth``); empty when :attr:`unavailable` (no defensible annual rate).
    unavailable : list of str
        Why the metrics give no annual rate to start from (a window shorter than 12 months,
        a headline figure withheld by the metrics' invariants); empty when they do.
    implausible : list of str
        Why the rates cannot be compounded
        (:func:`playbook.analyses.scenarios.implausible_rates`); empty when they can.
    growth : float
        Annual growth the paths apply: ``scenarios.growth`` when set, else the client's.
    churn_rates : list of float
        The churn rates drawn as paths, ascending: 0, the client's own and those of
        ``scenarios.churn_rates`` not within :data:`SAME_RATE` of it (empty when the rates
        cannot be compounded).
    model : dict
        ``years``, ``compounding`` and ``churn_base``: the keyword arguments every path and
        value of the section takes.
    accounts : int
        Accounts of the window's base (paying in its base month): what the rates rest on.
    """

    rates: dict[str, float]
    unavailable: list[str]
    implausible: list[str]
    growth: float
    churn_rates: list[float]
    model: dict[str, Any]
    accounts: int

    @property
    def compoundable(self) -> bool:
        """True when the rates exist and can be compounded into paths."""
        return not self.unavailable and not self.implausible

    @property
    def reasons(self) -> list[str]:
        """Every reason the section does not compound the rates (empty: it does)."""
        return [*self.unavailable, *self.implausible]

    @property
    def churn(self) -> float:
        """The client's annual gross revenue churn (1 − GRR of the 12-month window)."""
        return self.rates.get("churn", float("nan"))

    @property
    def mrr(self) -> float:
        """Today's MRR, the base of every projection (MRR at the window's end month)."""
        return self.rates.get("end_mrr", float("nan"))


def unavailable_reasons(metrics: Mapping[str, Any]) -> list[str]:
    """Why the headline metrics give no annual rate to compound (empty: they do).

    ``metrics`` is :attr:`playbook.context.AnalysisContext.headline_metrics`: the window's
    ``months`` and ``requested`` and ``withheld`` (``{figure: {"reason", "fix"}}``). A window
    of other than :data:`ANNUAL_MONTHS` months gives rates over another horizon; a withheld
    MRR, GRR or NRR (:data:`RATE_INPUTS`) gives rates nobody can defend.
    """
    reasons = []
    months, requested = int(metrics["months"]), int(metrics["requested"])
    if months != ANNUAL_MONTHS and requested != ANNUAL_MONTHS:
        reasons.append(f"the headline rates cover {months} months (period.trailing_months), "
                       f"and annual rates need {ANNUAL_MONTHS}")
    elif months != ANNUAL_MONTHS:
        reasons.append(f"the MRR history covers {months} "
                       f"{'month' if months == 1 else 'months'} before the as-of month, and "
                       f"annual rates need a full {ANNUAL_MONTHS}-month window")
    rates = {key: HEADLINE_NAMES[key] for key in RATE_INPUTS}  # one clause per reason
    for why, _, names in withheld_groups(metrics.get("withheld") or {}, rates):
        reasons.append(f"{and_list(names)} {'is' if len(names) == 1 else 'are'} withheld: "
                       f"{why}")
    return reasons


def scenario_basis(metrics: Mapping[str, Any], *, years: int,
                   compounding: Literal["monthly", "yearly"],
                   churn_base: Literal["current", "starting"], growth: float | None,
                   churn_rates: Sequence[float], max_churn: float, max_growth: float
                   ) -> ScenarioBasis:
    """The scenarios' starting point from the report's headline metrics.

    Parameters
    ----------
    metrics : mapping
        :attr:`playbook.context.AnalysisContext.headline_metrics`
        (:func:`playbook.metrics.headline_metrics` with ``withheld``) of the trailing window.
    years, compounding, churn_base : int, str, str
        ``scenarios.years``, ``scenarios.compounding``, ``scenarios.churn_base``.
    growth : float or None
        ``scenarios.growth``: annual growth to apply; None takes the client's own.
    churn_rates : sequence of float
        ``scenarios.churn_rates``: churn rates to compare with the client's.
    max_churn, max_growth : float
        ``scenarios.max_churn`` and ``scenarios.max_growth``: at or above these shares of
        the base MRR the rates are implausible.
    """
    model = {"years": years, "compounding": compounding, "churn_base": churn_base}
    accounts = int(metrics.get("base_accounts") or 0)
    unavailable = unavailable_reasons(metrics)
    if unavailable:
        return ScenarioBasis(rates={}, unavailable=unavailable, implausible=[],
                             growth=float("nan") if growth is None else growth,
                             churn_rates=[], model=model, accounts=accounts)
    rates = client_rates(metrics)
    implausible = implausible_rates(rates, max_churn=max_churn, max_growth=max_growth)
    own = rates["churn"]
    drawn = [] if implausible else sorted(
        {0.0, own, *[r for r in churn_rates if abs(r - own) > SAME_RATE]})
    return ScenarioBasis(rates=rates, unavailable=[], implausible=implausible,
                         growth=rates["growth"] if growth is None else growth,
                         churn_rates=drawn, model=model, accounts=accounts)
