"""The client's own variables (params ``variables``): declared account or usage columns that
enter churn by variable and the driver model beside the built-in features.

The fixture plants the effects: 400 accounts, 160 on month-to-month contracts of which 64
(40%) churn in the trailing year, 240 on one-year contracts of which 24 (10%) churn; churners
have fewer referrals. Expected rates are computed here from the raw files with plain pandas.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from playbook import metrics
from playbook.analyses import drivers as d
from playbook.analyses import reasons
from playbook.analyses import variables as v
from playbook.config import load_params
from playbook.config_tables import VARIABLE_PREFIX
from playbook.errors import DataError, ParamsError
from playbook.findings import drivers as story
from playbook.loader import load_client

AS_OF = pd.Timestamp("2024-12-31")
WINDOW_START = AS_OF - pd.DateOffset(months=12)

CONTRACT = {"table": "accounts", "column": "Contract", "kind": "categorical",
            "reference": "Month-to-month", "label": "Contract type"}
REFERRALS = {"table": "accounts", "column": "Number of Referrals", "kind": "numeric",
             "unit": "referral", "scale": 10}
#: modelling_table's other options as these tests were written (the function has no defaults)
TABLE_OPTIONS = {"usage_drop_share": 0.25, "low_nps": 6, "contact_days_cap": 365,
                 "nps_lookback_days": None, "nps_no_answer": "missing",
                 "sponsor_roles": ("executive", "champion"), "exec_by_seniority": True,
                 "final_onboarding_step": None}

PARAMS = {
    "client": {"name": "Variables Co"},
    "period": {"period": "2024-Q4"},
    "tables": {
        "accounts": {
            "file": "accounts.csv",
            "columns": {"account_id": "Customer ID", "start_date": "Start", "arr": "ARR",
                        "status": "Status", "churn_date": "Churned On"},
            "codes": {"status": {"Active": "active", "Churned": "churned"}},
        },
        "mrr": {"file": "mrr.csv"},
        "churn_events": {"file": "churn.csv",
                         "columns": {"reason_code": "Churn Category"}},
    },
    "variables": {"contract_type": CONTRACT},
}


def raw_frames() -> dict[str, pd.DataFrame]:
    """400 accounts started 2021-2022; the churners leave during 2024."""
    rng = np.random.default_rng(16)
    n = 400
    contract = np.array(["Month-to-month"] * 160 + ["One year"] * 240)
    churned = np.zeros(n, dtype=bool)
    churned[rng.choice(np.arange(160), 64, replace=False)] = True
    churned[160 + rng.choice(np.arange(240), 24, replace=False)] = True
    referrals = np.where(churned, rng.integers(0, 15, n), rng.integers(5, 30, n))
    accounts, mrr, churn = [], [], []
    for i in range(n):
        aid = f"C{i:04d}"
        start = pd.Timestamp("2021-01-01") + pd.DateOffset(months=int(rng.integers(0, 24)))
        start += pd.Timedelta(days=int(rng.integers(0, 27)))
        fee = float(rng.choice([50, 80, 120, 200]))
        left = (pd.Timestamp("2024-01-15") + pd.Timedelta(days=int(rng.integers(0, 340)))
                if churned[i] else None)
        accounts.append({
            "Customer ID": aid, "Start": start.date().isoformat(), "ARR": fee * 12,
            "Status": "Churned" if churned[i] else "Active",
            "Churned On": left.date().isoformat() if left is not None else "",
            "Contract": contract[i], "Number of Referrals": int(referrals[i]),
            "Premium Support": ["Yes", "No"][i % 2]})
        last = left if left is not None else AS_OF
        for month in pd.date_range(start.to_period("M").to_timestamp(), last, freq="MS"):
            if left is None or month < left.to_period("M").to_timestamp():
                mrr.append({"account_id": aid, "month": month.date().isoformat(), "mrr": fee})
        if left is not None:
            churn.append({"account_id": aid, "churn_date": left.date().isoformat(),
                          "Churn Category": ["Price", "Competitor", "Support"][i % 3]})
    return {"accounts": pd.DataFrame(accounts), "mrr": pd.DataFrame(mrr),
            "churn": pd.DataFrame(churn)}


def write_client(factory, params: dict, accounts: pd.DataFrame | None = None) -> str:
    frames = raw_frames()
    if accounts is not None:
        frames["accounts"] = accounts
    return factory.write("vars", files={
        "accounts.csv": frames["accounts"].to_csv(index=False),
        "mrr.csv": frames["mrr"].to_csv(index=False),
        "churn.csv": frames["churn"].to_csv(index=False)}, params=params)


def params_with(**variables: dict) -> dict:
    p = copy.deepcopy(PARAMS)
    p["variables"] = variables
    return p


def load(factory, params: dict, accounts: pd.DataFrame | None = None):
    client = write_client(factory, params, accounts)
    p = load_params(client)
    return p, load_client(p)


def base_of(p, data, accounts: pd.DataFrame | None = None) -> pd.DataFrame:
    """The notebook's churn-by-variable population: the trailing year's base (accounts paying
    in Dec 2023), churned = not paying in Dec 2024, bands at the base date."""
    window = metrics.retention_window(data["mrr"], AS_OF, 12)
    cohort = metrics.retention_cohort(data["mrr"], window)
    return v.base_accounts(data["accounts"] if accounts is None else accounts, cohort, window,
                           term_months=p.contracts.term_months, variables=p.variables)


def driver_model(p, data, features: list[str] | None = None):
    """The notebook's steps: decisions, modelling table, features, fit."""
    decisions = d.renewal_decisions(data["accounts"], data.get("renewals"),
                                    data.get("churn_events"), as_of=AS_OF,
                                    **p.renewal_options())
    decisions = decisions[decisions["decision_date"] <= AS_OF]
    table, built = d.modelling_table(decisions, data.tables,
                                     cutoff_days=p.drivers.cutoff_days, **p.feature_options())
    derived = bool((decisions["source"] == "derived").any())
    chosen = features or d.chosen_features(p.drivers.features, built, derived=derived)
    return d.fit_renewal_model(table, chosen, units=built["units"]), table, built


# ----------------------------------------------------------------------------- planted effect


def test_planted_contract_effect_in_churn_by_variable_and_driver_model(client_factory):
    p, data = load(client_factory, PARAMS)
    # independent: churn rate per contract type over the trailing year, from the raw file
    raw = raw_frames()["accounts"]
    left = pd.to_datetime(raw["Churned On"].replace("", None))
    raw["churned"] = left.between(WINDOW_START, AS_OF)
    expected = raw.groupby("Contract")["churned"].mean()
    assert expected.to_dict() == {"Month-to-month": 0.4, "One year": 0.1}

    at_risk = base_of(p, data)  # every account paid in Dec 2023; churners left during 2024
    assert not at_risk["not_yet_renewing"].any()
    cuts = v.available_variables(at_risk, variables=p.variables)
    assert "Contract type" in cuts  # under its label
    table = reasons.churn_by_variable(at_risk, cuts["Contract type"], churned="churned", small_n=30)
    assert table["rate"].to_dict() == pytest.approx(expected.to_dict())
    assert table["n"].to_dict() == {"Month-to-month": 160, "One year": 240}
    assert reasons.association_test(table)["significant"]

    model, _, built = driver_model(p, data)
    assert built["variables"] == {"contract_type": "Contract type"}
    assert "Contract type" in model.features
    # the declared reference (the less common level) is the comparison, not "One year"
    row = model.coefficients.loc["Contract type[One year]"]
    assert row["unit"] == "vs Month-to-month"
    assert row["odds_ratio"] > 1 and row["or_low"] > 1  # annual contracts renew more
    assert "Contract type[Month-to-month]" not in model.coefficients.index
    assert story.label("Contract type[One year]") == "Contract type: One year"


def test_declared_variables_go_through_the_model_checks(client_factory):
    """The same column declared twice is perfectly collinear: VIF drops one, by its label;
    the kept one counts in the events per model column."""
    twice = {**REFERRALS, "label": "Referrals again"}
    p, data = load(client_factory, params_with(contract_type=CONTRACT, referrals=REFERRALS,
                                               referrals_again=twice))
    model, _, built = driver_model(p, data)
    assert set(built["variables"].values()) == {"Contract type", "Referrals", "Referrals again"}
    assert list(model.checks["vif_dropped"]) == ["Referrals again"]
    assert "Referrals" in model.checks["vif"] and "Contract type" in model.checks["vif"]
    columns = len(model.coefficients)  # log2 contract value, Contract type[One year], Referrals
    assert columns == 3
    minority = min(model.checks["class_balance"]["renewed"],
                   model.checks["class_balance"]["not_renewed"])
    assert model.checks["events_per_feature"]["value"] == pytest.approx(minority / columns)
    rows = story.check_rows(model, built)
    assert "Referrals again" in rows.loc[rows["check"] == "Collinearity (VIF)", "action"].item()


def test_numeric_variable_odds_ratio_is_per_scale_units(client_factory):
    p, data = load(client_factory, params_with(referrals=REFERRALS))
    model, table, built = driver_model(p, data, features=["Referrals"])
    assert built["units"] == {"Referrals": (10.0, "per 10 referrals")}
    row = model.coefficients.loc["Referrals"]
    assert row["unit"] == "per 10 referrals"
    # independent fit on the raw referral counts: OR per 10 referrals = exp(10 * beta)
    rows = table.dropna(subset=["Referrals"])
    raw = pd.DataFrame({"const": 1.0, "referrals": rows["Referrals"].astype(float)})
    beta = sm.Logit(rows["renewed"].astype(float), raw).fit(disp=0).params["referrals"]
    assert beta > 0  # planted: churners have fewer referrals
    assert row["odds_ratio"] == pytest.approx(np.exp(10 * beta), rel=1e-6)
    assert row["or_low"] > 1


def test_numeric_variable_is_cut_in_quartiles_named_by_their_range(client_factory):
    p, data = load(client_factory, params_with(referrals=REFERRALS))
    at_risk = base_of(p, data)
    cuts = v.available_variables(at_risk, variables=p.variables)
    groups = at_risk[cuts["Referrals"]]
    values = raw_frames()["accounts"].set_index("Customer ID")["Number of Referrals"]
    for name, members in groups.groupby(groups):
        lo, hi = values[members.index].min(), values[members.index].max()
        assert name == f"{lo}-{hi} referrals"
    assert groups.nunique() == 4 and groups.notna().all()


def test_few_distinct_values_are_groups_of_their_own() -> None:
    var = v.Variable("seats", "Seats", "numeric", unit="seat")
    groups = v.variable_groups(pd.Series([1.0, 2.0, 2.0, None, 3.0]), var)
    assert groups.tolist()[:3] == ["1 seat", "2 seats", "2 seats"]
    assert pd.isna(groups.iloc[3])
    assert v.Variable("c", "C", "numeric", unit="company", scale=5).unit_text == \
        "per 5 companies"
    assert v.Variable("r", "R", "numeric", unit="USD", scale=1000).unit_text == \
        "per 1,000 USD"


def test_undeclared_column_never_enters(client_factory):
    p, data = load(client_factory, PARAMS)  # declares Contract only
    acc = data["accounts"]
    assert [c for c in acc.columns if c.startswith(VARIABLE_PREFIX)] == ["var_contract_type"]
    assert acc["var_contract_type"].value_counts().to_dict() == {"One year": 240,
                                                                 "Month-to-month": 160}
    assert not {"Number of Referrals", "Premium Support"} & set(acc.columns)
    model, table, built = driver_model(p, data)
    assert not [c for c in table.columns if "eferral" in c or "remium" in c]
    at_risk = base_of(p, data)
    cut_by = set(v.available_variables(at_risk, variables=p.variables)) - set(v.VARIABLES)
    assert cut_by == {"Contract type"}
    # the declared column is no longer listed as "not used"; the undeclared ones are
    read = next(t for t in data.quality.loads if t.table == "accounts")
    assert "Contract" not in read.unmapped_columns
    assert {"Number of Referrals", "Premium Support"} <= set(read.unmapped_columns)


def test_a_variable_can_be_named_in_drivers_features_by_key_or_label(client_factory):
    params = params_with(contract_type=CONTRACT, referrals=REFERRALS)
    params["drivers"] = {"features": ["contract_type", "Referrals", "not_built"]}
    p, data = load(client_factory, params)
    model, _, _ = driver_model(p, data)
    assert model.features == ["Contract type", "Referrals"]


def test_usage_variable_is_its_value_in_the_last_complete_month_before_the_cutoff() -> None:
    decisions = pd.DataFrame({"account_id": ["A1", "A2"], "renewed": [1, 0],
                              "decision_date": pd.to_datetime(["2024-05-01", "2024-05-01"])})
    accounts = pd.DataFrame({"account_id": ["A1", "A2"], "start_date": pd.NaT})
    usage = pd.DataFrame({
        "account_id": ["A1", "A1", "A1", "A2"],
        "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-01-01"]),
        "var_logins": [10.0, 20.0, 99.0, 5.0]})
    spec = {"logins": {"table": "usage", "kind": "numeric", "unit": "login", "scale": 100}}
    table, built = d.modelling_table(decisions, {"accounts": accounts, "usage": usage},
                                     cutoff_days=60, variables=spec, **TABLE_OPTIONS)
    # cut-off 2 March 2024: February is the last complete month (March's 99 is later)
    assert table["Logins"].tolist() == [20.0, 5.0]
    assert built["units"] == {"Logins": (100.0, "per 100 logins")}


def test_usage_variable_in_churn_by_variable_is_its_value_at_the_base_date() -> None:
    """Measured at the base date (end of Dec 2023), like every band: a value recorded later
    could already reflect the way out."""
    accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"],
                             "start_date": pd.to_datetime(["2023-01-01"] * 3),
                             "churn_date": pd.to_datetime([None, "2024-06-10", None]),
                             "arr": 1200.0, "size_band": None, "employees": None,
                             "products": None})
    usage = pd.DataFrame({
        "account_id": ["A1", "A1", "A2", "A2", "A3"],
        "month": pd.to_datetime(["2023-11-01", "2023-12-01", "2023-10-01", "2024-01-01",
                                 "2024-02-01"]),
        "var_plan": ["Free", "Pro", "Pro", "Free", "Pro"]})
    spec = {"plan": {"table": "usage", "kind": "categorical"}}
    window = metrics.RetentionWindow(pd.Timestamp("2023-12-01"), pd.Timestamp("2024-12-01"),
                                     12, 12)
    cohort = pd.DataFrame({"mrr_then": 100.0, "churned": [False, True, False]},
                          index=pd.Index(["A1", "A2", "A3"], name="account_id"))
    base = v.base_accounts(accounts, cohort, window, term_months=12, variables=spec,
                           usage=usage)
    # A1: December (its latest on or before 31 Dec 2023); A2: October (January is later);
    # A3: no value by then
    assert base["var_plan_group"].tolist()[:2] == ["Pro", "Pro"]
    assert pd.isna(base["var_plan_group"].iloc[2])
    assert v.available_variables(base, variables=spec) == {}  # one group only


def test_a_reference_level_no_decision_has_is_said_not_silently_replaced() -> None:
    decisions = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "renewed": [1, 0, 1],
                              "decision_date": pd.to_datetime(["2024-05-01"] * 3)})
    accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "start_date": pd.NaT,
                             "var_contract_type": ["One year", "Two year", "One year"]})
    table, built = d.modelling_table(decisions, {"accounts": accounts}, cutoff_days=90,
                                     variables={"contract_type": CONTRACT}, **TABLE_OPTIONS)
    assert table["Contract type"].tolist() == ["One year", "Two year", "One year"]
    assert ("Contract type: no decision has the reference level 'Month-to-month'; its "
            "levels are compared with the most common one instead.") in built["notes"]


# ----------------------------------------------------------------------------- bad declarations


def test_unknown_reference_level_is_a_clear_error(client_factory):
    wrong = {**CONTRACT, "reference": "month-to-month "}
    with pytest.raises(DataError) as err:
        load(client_factory, params_with(contract_type=wrong))
    text = str(err.value)
    assert "variables.contract_type.reference is 'month-to-month '" in text
    assert "'Month-to-month', 'One year'" in text  # the values found
    assert "did you mean 'Month-to-month'?" in text
    assert "Set variables.contract_type.reference to one of these values" in text


def test_missing_column_names_the_params_key_and_the_closest_header(client_factory):
    with pytest.raises(DataError) as err:
        load(client_factory, params_with(contract_type={**CONTRACT, "column": "Contracts"}))
    text = str(err.value)
    assert "variables.contract_type.column 'Contracts' is not a column of accounts.csv" in text
    assert "(closest: ['Contract'" in text


def test_text_declared_numeric_and_identifier_declared_categorical_are_refused(
        client_factory):
    with pytest.raises(DataError) as err:
        load(client_factory, params_with(plan={"column": "Contract", "kind": "numeric"}))
    assert "variables.plan is declared numeric but 400 of 400 values are not numbers" in \
        str(err.value)
    with pytest.raises(DataError) as err:
        load(client_factory, params_with(who={"column": "Customer ID", "kind": "categorical"}))
    assert "variables.who is declared categorical but the column holds 400 different values" \
        in str(err.value)


@pytest.mark.parametrize(("column", "says"), [
    ("Churn Category", "is mapped to churn_events.reason_code"),
    ("Status", "is the outcome column accounts.status"),
    ("Churned On", "is the outcome column accounts.churn_date"),
    ("Churn Score", "names churn"),
])
def test_outcome_columns_cannot_be_variables(client_factory, column, says):
    with pytest.raises(ParamsError) as err:
        load(client_factory, params_with(leak={"column": column, "kind": "categorical"}))
    assert f"variables.leak.column '{column}' {says}" in str(err.value)


def test_declaration_mistakes_are_params_errors(client_factory):
    cases = [
        ({"x": {**CONTRACT, "refrence": "Month-to-month"}}, "did you mean 'reference'?"),
        ({"x": {**REFERRALS, "reference": "0"}}, "`reference` applies to kind: categorical"),
        ({"x": {**CONTRACT, "scale": 10}}, "`unit` and `scale` apply to kind: numeric"),
        ({"x": {**REFERRALS, "scale": 0}}, "greater than 0"),
        ({"Contract": CONTRACT}, "a variable's key is lower-case letters"),
        ({"x": {**CONTRACT, "label": "segment"}}, "is the name of a built-in feature"),
        ({"x": CONTRACT, "y": CONTRACT}, "labels must differ"),
        ({"x": {**REFERRALS, "table": "usage"}}, "not configured under `tables`"),
    ]
    for variables, says in cases:
        with pytest.raises(ParamsError) as err:
            load(client_factory, params_with(**variables))
        assert says in str(err.value), variables


# ----------------------------------------------------------------------------- demo unchanged

#: The demo's model features before client variables existed (it declares none).
DEMO_FEATURES = ["exec_sponsor", "usage_decline", "seat_utilisation", "nps_detractor",
                 "high_priority_tickets_90d", "days_since_exec_contact",
                 "days_since_user_contact", "strong_user_relationships", "tenure_years",
                 "products", "log2_contract_value", "segment", "onboarding_incomplete"]


def test_the_demo_gets_exactly_todays_features():
    from playbook import paths

    if not (paths.data_dir("demo") / "accounts.csv").is_file():
        pytest.skip("data/demo is missing: run `python -m playbook.cli demo`")
    p = load_params("demo")
    data = load_client(p)
    assert p.variables == {}
    assert not [c for c in data["accounts"].columns if c.startswith(VARIABLE_PREFIX)]
    as_of = pd.Timestamp(p.as_of)
    decisions = d.renewal_decisions(data["accounts"], data.get("renewals"),
                                    data.get("churn_events"), as_of=as_of,
                                    **p.renewal_options())
    decisions = decisions[decisions["decision_date"] <= as_of]
    _, built = d.modelling_table(decisions, data.tables, cutoff_days=p.drivers.cutoff_days,
                                 **p.feature_options())
    derived = bool((decisions["source"] == "derived").any())
    assert d.chosen_features(p.drivers.features, built, derived=derived) == DEMO_FEATURES
    assert built["variables"] == {} and built["units"] == {}


def test_a_variables_label_is_shown_as_written() -> None:
    assert story.label("NPS band[Low]") == "NPS band: Low"
    assert story.label("NPS band") == "NPS band"
    assert story.label("segment[Mid-market]") == "Segment: Mid-market"  # built-ins unchanged
    assert story.label("active_users") == "Active users"
