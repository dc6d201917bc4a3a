"""What the impact scenarios start from: the client's trailing-year rates, whether they can
be compounded into revenue paths, and the growth and churn rates the paths compare.

One decision, made once (:func:`scenario_basis`): the impact section shows its revenue
paths, growth arithmetic and levers only when :attr:`ScenarioBasis.compoundable` is true.

Pure functions (no I/O, printing or plotting). Rates are annual shares of the trailing
year's opening MRR (0.12 = 12%); MRR is money per month in the client's currency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from playbook.analyses.scenarios import client_rates, implausible_rates

#: Churn rates of ``scenarios.churn_rates`` closer than this to the client's own churn are
#: not drawn as a path of their own (they would overlap the client's line).
SAME_RATE = 0.005


@dataclass(frozen=True)
class ScenarioBasis:
    """The client's starting point for the impact scenarios.

    Attributes
    ----------
    rates : dict
        :func:`playbook.analyses.scenarios.client_rates` of the trailing year
        (``start_mrr``, ``end_mrr``, ``new_sales``, ``expansion``, ``churn``, ``price``,
        ``growth``).
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
    """

    rates: dict[str, float]
    implausible: list[str]
    growth: float
    churn_rates: list[float]
    model: dict[str, Any]

    @property
    def compoundable(self) -> bool:
        """True when the rates can be compounded into paths (nothing implausible)."""
        return not self.implausible

    @property
    def churn(self) -> float:
        """The client's own annual churn (gross MRR churn of the trailing year)."""
        return self.rates["churn"]

    @property
    def mrr(self) -> float:
        """Today's MRR, the base of every projection (the trailing year's closing MRR)."""
        return self.rates["end_mrr"]


def scenario_basis(trailing_year: Mapping[str, Any], *, years: int,
                   compounding: Literal["monthly", "yearly"],
                   churn_base: Literal["current", "starting"], growth: float | None,
                   churn_rates: Sequence[float], max_churn: float, max_growth: float
                   ) -> ScenarioBasis:
    """The scenarios' starting point from a trailing-12-month retention summary.

    Parameters
    ----------
    trailing_year : mapping
        :func:`playbook.analyses.revenue.retention_summary` of the twelve months up to the
        as-of date.
    years, compounding, churn_base : int, str, str
        ``scenarios.years``, ``scenarios.compounding``, ``scenarios.churn_base``.
    growth : float or None
        ``scenarios.growth``: annual growth to apply; None takes the client's own.
    churn_rates : sequence of float
        ``scenarios.churn_rates``: churn rates to compare with the client's.
    max_churn, max_growth : float
        ``scenarios.max_churn`` and ``scenarios.max_growth``: at or above these shares of
        the opening MRR the rates are implausible.
    """
    rates = client_rates(trailing_year)
    implausible = implausible_rates(rates, max_churn=max_churn, max_growth=max_growth)
    own = rates["churn"]
    drawn = [] if implausible else sorted(
        {0.0, own, *[r for r in churn_rates if abs(r - own) > SAME_RATE]})
    return ScenarioBasis(rates=rates, implausible=implausible,
                         growth=rates["growth"] if growth is None else growth,
                         churn_rates=drawn,
                         model={"years": years, "compounding": compounding,
                                "churn_base": churn_base})
