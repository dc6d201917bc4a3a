"""Parameters: layering, validation messages, periods, client names."""

from __future__ import annotations

import datetime as dt

import pytest

from playbook.config import load_params, parse_period, resolve_period
from playbook.errors import ClientNameError, ParamsError


def test_layers_override_in_order(client_factory):
    client_factory.write(params_text="""
period: {period: 2025-Q4}
thresholds: {small_group_n: 12}
""")
    p = load_params("t")
    assert p.thresholds.small_group_n == 12            # client file beats defaults
    assert p.thresholds.low_nps == 6                   # untouched default stays
    assert p.period_label == "2025-Q4"
    p2 = load_params("t", period="2026-Q1")            # command line beats the file
    assert (p2.period_label, p2.period_start, p2.as_of) == (
        "2026-Q1", dt.date(2026, 1, 1), dt.date(2026, 3, 31))
    p3 = load_params("t", overrides={"thresholds": {"small_group_n": 5}})
    assert p3.thresholds.small_group_n == 5


def test_unknown_key_names_key_file_and_suggestion(client_factory):
    client_factory.write(params_text="period: {period: 2026-Q3}\nthresholds: {smal_group_n: 3}\n")
    with pytest.raises(ParamsError) as err:
        load_params("t")
    text = str(err.value)
    assert "params/t.yaml" in text
    assert "thresholds.smal_group_n" in text
    assert "did you mean 'small_group_n'" in text


def test_unknown_key_inside_a_table_entry(client_factory):
    client_factory.write(params_text="""
period: {period: 2026-Q3}
tables: {accounts: {file: a.csv, colums: {account_id: ID}}}
""")
    with pytest.raises(ParamsError, match=r"tables\.accounts\.colums.*did you mean 'columns'"):
        load_params("t")


def test_wrong_type_names_key_and_file(client_factory):
    client_factory.write(params_text="period: {period: 2026-Q3}\nthresholds: {low_nps: high}\n")
    with pytest.raises(ParamsError) as err:
        load_params("t")
    assert "params/t.yaml: key 'thresholds.low_nps'" in str(err.value)
    assert "'high'" in str(err.value)


def test_out_of_range_value_is_rejected(client_factory):
    client_factory.write(params_text="period: {period: 2026-Q3}\nreport: {paper: A3}\n")
    with pytest.raises(ParamsError, match="report.paper"):
        load_params("t")


def test_unknown_table_is_rejected(client_factory):
    client_factory.write(params_text="period: {period: 2026-Q3}\ntables: {invoices: {file: x}}\n")
    with pytest.raises(ParamsError, match="invoices"):
        load_params("t")


def test_invalid_yaml_reports_line(client_factory):
    client_factory.write(params_text="period:\n  period: 2026-Q3\n bad: [\n")
    with pytest.raises(ParamsError, match=r"not valid YAML at line \d+"):
        load_params("t")


def test_missing_params_file_says_how_to_create_it(client_factory):
    with pytest.raises(ParamsError, match="does not exist") as err:
        load_params("nobody")
    assert "make client CLIENT=nobody" in str(err.value)


@pytest.mark.parametrize("name", ["../x", "a b", "", "x/y", ".hidden", "a" * 80])
def test_unsafe_client_names_are_refused(name):
    with pytest.raises(ClientNameError, match="cannot be used"):
        load_params(name)


@pytest.mark.parametrize("text,expected", [
    ("2026-Q3", (dt.date(2026, 7, 1), dt.date(2026, 9, 30), "2026-Q3")),
    ("2026q1", (dt.date(2026, 1, 1), dt.date(2026, 3, 31), "2026-Q1")),
    ("2024-02", (dt.date(2024, 2, 1), dt.date(2024, 2, 29), "2024-02")),
    ("2026-H2", (dt.date(2026, 7, 1), dt.date(2026, 12, 31), "2026-H2")),
    ("2025", (dt.date(2025, 1, 1), dt.date(2025, 12, 31), "2025")),
])
def test_parse_period(text, expected):
    assert parse_period(text) == expected


def test_bad_period_and_as_of_messages():
    with pytest.raises(ParamsError, match="2026-Q3"):
        parse_period("Q3 2026")
    with pytest.raises(ParamsError, match="YYYY-MM-DD"):
        resolve_period("", "30/09/2026")
    with pytest.raises(ParamsError, match="outside PERIOD"):
        resolve_period("2026-Q3", "2026-12-31")
    with pytest.raises(ParamsError, match="No reporting period"):
        resolve_period("", "")


def test_as_of_alone_gives_its_quarter():
    assert resolve_period("", "2026-09-30") == (dt.date(2026, 7, 1), dt.date(2026, 9, 30),
                                                "2026-Q3")
    assert resolve_period("", "2026-08-15") == (dt.date(2026, 7, 1), dt.date(2026, 8, 15),
                                                "2026-08-15")


def test_cli_period_replaces_file_as_of(client_factory):
    client_factory.write(params_text="period: {period: 2026-Q3, as_of: '2026-08-31'}\n")
    assert load_params("t").as_of == dt.date(2026, 8, 31)
    assert load_params("t", period="2026-Q2").as_of == dt.date(2026, 6, 30)


def test_every_domain_threshold_has_its_default(client_factory):
    client_factory.write(params_text="period: {period: 2026-Q3}\n")
    p = load_params("t")
    assert p.thresholds.small_group_n == 30
    assert p.thresholds.exec_contact_days_before_renewal == 15
    assert p.thresholds.user_contact_days_after_drop == 30
    assert p.thresholds.strong_exec_relationships_enterprise == 2
    assert p.thresholds.strong_exec_relationships_smb == 1
    assert p.touch_model.tiers["high"].accounts_per_csm == (20, 30)
    assert p.touch_model.tiers["medium"].accounts_per_csm == (100, 150)
    assert (p.health.bands["red"], p.health.bands["yellow"], p.health.bands["green"]) == (
        50, 75, 100)
