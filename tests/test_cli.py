"""The command line turns playbook errors into a short message and exit code 2, never a
traceback."""

from __future__ import annotations

from click.testing import CliRunner

from playbook.cli import main


def test_unsafe_client_name_is_a_clear_error():
    result = CliRunner().invoke(main, ["report", "../x"])
    assert result.exit_code == 2
    assert "cannot be used" in result.output
    assert "Traceback" not in result.output


def test_check_reports_missing_column_with_fix(client_factory):
    client_factory.write(files={"accounts.csv": "Account ID,Status\nA1,Active\n",
                                "mrr.csv": "account_id,month,mrr\nA1,2024-01-01,10\n"})
    result = CliRunner().invoke(main, ["check", "t"])
    assert result.exit_code == 2
    assert "required column 'Customer Since' (canonical 'start_date') is missing" in result.output
    assert "How to fix" in result.output and "Traceback" not in result.output


def test_check_prints_profile_of_a_good_client(client_factory):
    client_factory.write()
    result = CliRunner().invoke(main, ["check", "t"])
    assert result.exit_code == 0, result.output
    assert "parameters valid; period 2024-Q1" in result.output
    assert "accounts" in result.output and "data/t/accounts.csv" in result.output


def test_params_typo_is_reported_by_the_cli(client_factory):
    client_factory.write(params_text="period: {period: 2024-Q1}\nthreshold: {}\n")
    result = CliRunner().invoke(main, ["check", "t"])
    assert result.exit_code == 2
    assert "unknown key 'threshold'" in result.output and "thresholds" in result.output
