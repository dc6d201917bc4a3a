"""The impact scenarios' starting point: the client's annual rates on the report's one
metrics basis (gross revenue churn = 1 − GRR, expansion = NRR − GRR, new business), whether
they compound, and the churn rates the paths compare (hand-computed answers, #18)."""

from __future__ import annotations

import pandas as pd
import pytest

from playbook.analyses.scenario_basis import scenario_basis
from playbook.findings import capacity as story
from playbook.metrics import headline_metrics, retention_window

SCENARIOS = {"years": 3, "compounding": "monthly", "churn_base": "current", "growth": None,
             "churn_rates": [0.05, 0.145, 0.3], "max_churn": 1.0, "max_growth": 2.0}
AS_OF = pd.Timestamp("2026-09-30")


def _mrr(rows: dict[str, dict[str, float]]) -> pd.DataFrame:
    """Canonical mrr rows from {account: {"YYYY-MM": mrr}}."""
    return pd.DataFrame([{"account_id": a, "month": pd.Timestamp(m + "-01"), "mrr": v}
                         for a, months in rows.items() for m, v in months.items()])


#: Base month Sep 2025 (a 100, b 200, c 300, d 400 = 1,000), as-of month Sep 2026:
#: a expands to 120, b contracts to 150, c leaves, d stays at 400, e is new at 250; every
#: month in between is billed so the history covers the full 12 months.
def _year() -> pd.DataFrame:
    months = pd.period_range("2025-09", "2026-09", freq="M").strftime("%Y-%m")
    rows: dict[str, dict[str, float]] = {k: {} for k in "abcde"}
    for m in months:
        end = m == "2026-09"
        rows["a"][m] = 120.0 if end else 100.0
        rows["b"][m] = 150.0 if end else 200.0
        if not end:
            rows["c"][m] = 300.0
        rows["d"][m] = 400.0
        if m >= "2026-03":
            rows["e"][m] = 250.0
    return _mrr(rows)


def _metrics(mrr: pd.DataFrame, months: int = 12, withheld: dict | None = None) -> dict:
    out = headline_metrics(mrr, retention_window(mrr, AS_OF, months))
    out["withheld"] = withheld or {}
    return out


def test_scenario_churn_is_one_minus_grr_computed_by_hand():
    mrr = _year()
    # independently: the base is who paid in Sep 2025, each capped at its MRR then
    then = mrr[mrr["month"] == "2025-09-01"].set_index("account_id")["mrr"]
    now = (mrr[mrr["month"] == "2026-09-01"].set_index("account_id")["mrr"]
           .reindex(then.index, fill_value=0.0))
    grr = pd.concat([then, now], axis=1).min(axis=1).sum() / then.sum()   # 650 / 1,000
    nrr = now.sum() / then.sum()                                          # 670 / 1,000
    assert grr == pytest.approx(0.65) and nrr == pytest.approx(0.67)
    basis = scenario_basis(_metrics(mrr), **SCENARIOS)
    assert basis.compoundable and basis.reasons == []
    assert basis.churn == pytest.approx(1 - grr)                  # 35%, not a flow rate
    assert basis.rates["expansion"] == pytest.approx(nrr - grr)   # 2%
    assert basis.rates["new_sales"] == pytest.approx(250 / 1000)  # e, not in the base
    assert basis.rates["start_mrr"] == 1000.0 and basis.mrr == 920.0
    assert basis.accounts == 4
    # the rates add up: base MRR x (NRR + new business) = today's MRR, to the cent
    r = basis.rates
    assert r["start_mrr"] * (1 + r["growth"] - r["churn"]) == pytest.approx(r["end_mrr"])
    # 0, the client's 35%, and the params' rates (14.5% and 30% are more than half a point
    # away; 5% too)
    assert basis.churn_rates == pytest.approx([0.0, 0.05, 0.145, 0.3, 0.35])
    assert basis.model == {"years": 3, "compounding": "monthly", "churn_base": "current"}


def test_growth_from_params_replaces_the_clients():
    basis = scenario_basis(_metrics(_year()), **{**SCENARIOS, "growth": 0.2})
    assert basis.growth == 0.2 and basis.rates["growth"] == pytest.approx(0.27)


def test_a_short_history_says_so_and_gives_no_rate():
    mrr = _year()
    mrr = mrr[mrr["month"] >= "2025-10-01"]            # 11 months before the as-of month
    basis = scenario_basis(_metrics(mrr), **SCENARIOS)
    assert not basis.compoundable and basis.rates == {} and basis.churn_rates == []
    assert basis.unavailable == ["the MRR history covers 11 months before the as-of month, "
                                 "and annual rates need a full 12-month window"]
    note = story.scenarios_not_shown(basis, 3)
    assert note.startswith("Not shown: revenue paths, growth arithmetic and levers: the MRR "
                           "history covers 11 months")
    assert note.endswith("Send at least 13 months of MRR history to enable them.")


def test_a_withheld_headline_figure_stops_the_scenarios_with_its_reason():
    why = {"reason": "gross revenue retention computes to -14.8%, outside 0-100%",
           "fix": "Check the MRR history."}
    basis = scenario_basis(_metrics(_year(), withheld={"grr": why}), **SCENARIOS)
    assert not basis.compoundable and basis.rates == {}
    assert basis.reasons == ["gross revenue retention is withheld: gross revenue retention "
                             "computes to -14.8%, outside 0-100%"]
    assert "-14.8%" in story.scenarios_not_shown(basis, 3)
    # one contradiction withholding MRR, GRR and NRR is said once, naming the three
    said = {"reason": "the export contradicts itself: 110 churned accounts keep MRR.",
            "fix": "Ask the client."}
    three = scenario_basis(_metrics(_year(), withheld={k: said for k in ("mrr", "grr", "nrr",
                                                                          "logo_churn")}),
                           **SCENARIOS)
    assert three.reasons == ["MRR, gross revenue retention and net revenue retention are "
                             "withheld: the export contradicts itself: 110 churned accounts "
                             "keep MRR"]
    # a withheld logo churn is not an input of the scenarios: they still run
    other = scenario_basis(_metrics(_year(), withheld={"logo_churn": why}), **SCENARIOS)
    assert other.compoundable


def test_implausible_growth_is_not_compounded_and_says_why():
    mrr = _year()
    big = mrr[mrr["account_id"] == "e"].assign(account_id="f", mrr=2500.0)
    basis = scenario_basis(_metrics(pd.concat([mrr, big])), **SCENARIOS)
    assert not basis.compoundable and basis.churn_rates == []
    assert basis.implausible == ["new business and expansion came to 277.0% of the base MRR "
                                 "(limit 200%)"]                  # (250 + 2,500) / 1,000 + 2%
    assert basis.rates["churn"] == pytest.approx(0.35)  # still recorded as the client's rates
    assert "compounding such rates for 3 years" in story.scenarios_not_shown(basis, 3)


def test_a_base_without_mrr_is_not_compounded():
    rates = {"base_mrr": 0.0, "end_mrr": 10.0, "months": 12, "requested": 12, "withheld": {},
             "base_accounts": 0, "gross_revenue_churn": float("nan"),
             "expansion_share": float("nan"), "new_business_share": float("nan")}
    basis = scenario_basis(rates, **SCENARIOS)
    assert not basis.compoundable
    assert basis.implausible == ["no account paid in the base month, so the rates have no "
                                 "base MRR"]
