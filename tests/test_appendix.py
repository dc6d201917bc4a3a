"""The method appendix states the run's own policies and never turns a formula into a list."""

import re

from playbook import appendix
from playbook.config import load_params


def test_definitions_use_this_runs_parameters(client_factory):
    client_factory.write(params_text="""
period: {period: 2024-Q1}
churn: {reactivation_window_months: 6, recognise_at: end_of_paid_period}
thresholds: {small_group_n: 25}
""")
    text = appendix.definitions_markdown(load_params("t"))
    assert "more than 6 months away" in text and "within 6 months" in text
    assert "when the paid period ends" in text
    assert "Groups under 25 accounts" in text
    # No line may start with a markdown list or heading marker by accident.
    assert not re.search(r"^\s*[+*#-]\s", text, flags=re.M)


def test_parameter_overrides_lists_only_changed_values(client_factory):
    client_factory.write(params_text="period: {period: 2024-Q1}\nthresholds: {low_nps: 5}\n")
    table = appendix.parameter_overrides(load_params("t"))
    rows = dict(zip(table["parameter"], table["value"], strict=True))
    assert rows["thresholds.low_nps"] == "5"
    assert rows["period.period"] == "2024-Q1"  # as a person writes it, not JSON
    assert "thresholds.small_group_n" not in rows


def test_regression_table_prints_small_p_values_as_text():
    model = {"coefficients": [
        {"term": "exec_sponsor", "unit": "yes vs no", "coef": 0.86, "std_err": 0.2,
         "odds_ratio": 2.36, "or_low": 1.58, "or_high": 3.54, "p_value": 0.00001},
        {"term": "tenure", "unit": "per year", "coef": 0.01, "std_err": 0.03,
         "odds_ratio": 1.01, "or_low": 0.95, "or_high": 1.08, "p_value": 0.653}]}
    table = appendix.regression_table(model)
    assert table["p"].tolist() == ["<\u00a00.001", "0.653"]  # never broken across lines
    assert table["driver"].tolist() == ["Executive sponsor (yes vs no)", "Tenure (per year)"]
    assert table["95% interval"].tolist() == ["1.58-3.54", "0.95-1.08"]
    assert table["odds ratio"].tolist() == [2.36, 1.01]
    assert table.shape[1] <= 7  # readable widths: not a "wide" table


def test_the_health_method_names_the_measures_this_run_used(client_factory):
    import pandas as pd

    from playbook import appendix
    from playbook.config import load_params

    client_factory.write()
    p = load_params("t")
    two = pd.DataFrame({"effective_weight": [0.6, 0.4]}, index=["usage", "tickets"])
    text = appendix.definitions_markdown(p, health_measures=two)
    assert "usage 60%, tickets 40%" in text
    assert "Not used, for lack of data:" in text and "champion quality" in text
    one = pd.DataFrame({"effective_weight": [1.0]}, index=["tickets"])
    text = appendix.definitions_markdown(p, health_measures=one, capacity_sized=False)
    assert "**Health score.** Not computed" in text and "supply tickets" in text
    assert "**Headcount.**" not in text
    assert "**Headcount.**" in appendix.definitions_markdown(p)


def test_a_map_the_client_wrote_whole_is_one_row_of_the_parameters_table(client_factory):
    from playbook import appendix
    from playbook.config import load_params

    client_factory.write(params_text="""
period: {period: 2024-Q1}
churn:
  reason_rules: {Price: [cheap], Support: [slow], Product: [bug], Onboarding: [setup],
                 Budget: [cut]}
""")
    table = appendix.parameter_overrides(load_params("t")).set_index("parameter")
    assert "churn.reason_rules" in table.index
    assert table.loc["churn.reason_rules", "value"] == (
        "5 entries: Price, Support, Product, Onboarding, …")
    assert not any(k.startswith("churn.reason_rules.") for k in table.index)
    assert table.loc["period.period", "value"] == "2024-Q1"
