"""The data request sent to a client: generated from the contract as HTML, PDF and a blank
workbook; a workbook filled in and dropped into data/<client>/ is recognised by the scaffold."""

from __future__ import annotations

import openpyxl
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from playbook.cli import main
from playbook.contract import TABLES
from playbook.data_request import request_html, write_data_request


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_data_request("acme", out=tmp_path_factory.mktemp("request"))


def test_html_lists_every_table_and_column_with_what_it_enables():
    text = request_html("Acme Analytics")
    assert "Data request: Acme Analytics" in text
    for name, spec in TABLES.items():
        assert f"<code>{name}</code>" in text
        for col in spec.columns:
            assert f"<td><code>{col.name}</code></td>" in text
    accounts_row = text.split("<tr><td><code>accounts</code></td>")[1].split("</tr>")[0]
    assert "required" in accounts_row
    usage_row = text.split("<tr><td><code>usage</code></td>")[1].split("</tr>")[0]
    assert "optional" in usage_row and "health score" in usage_row
    assert "Customer Since" in text  # typical CRM field names help the client's admin
    assert "How do your customers define success" in text
    assert "http:" not in text.lower() and "https:" not in text.lower()  # self-contained


def test_pdf_is_rendered_by_the_report_engine(files):
    pages = [p.extract_text() for p in PdfReader(files["pdf"]).pages]
    assert len(pages) >= 3
    assert "Data request: Acme" in pages[0]
    joined = "\n".join(pages)
    assert "onboarding" in joined and "Questions that come with the data" in joined


def test_workbook_has_one_sheet_per_table_with_contract_headers(files):
    book = openpyxl.load_workbook(files["xlsx"])
    assert book.sheetnames == ["Read me", *TABLES]
    for name, spec in TABLES.items():
        sheet = book[name]
        headers = [c.value for c in sheet[1]]
        assert headers == spec.column_names
        assert sheet.max_row == 1  # blank
        for idx, col in enumerate(spec.columns, start=1):
            comment = sheet.cell(row=1, column=idx).comment
            assert comment is not None
            assert comment.text.startswith("Required" if col.required else "Optional")
    status = [v for v in book["accounts"].data_validations.dataValidation
              if "active,churned" in (v.formula1 or "")]
    assert status, "code columns offer their codes as a drop-down"


def test_a_filled_workbook_is_recognised_without_mapping(tmp_path, monkeypatch, files):
    from playbook.scaffold import scaffold_client

    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    book = openpyxl.load_workbook(files["xlsx"])
    book["accounts"].append(["A1", "Acme", None, None, None, None, None, None, "2024-01-15"])
    book["accounts"].append(["A2", "Beta", None, None, None, None, None, None, "2024-02-01"])
    book["mrr"].append(["A1", "2024-01-01", 100])
    book["mrr"].append(["A2", "2024-02-01", 50])
    folder = tmp_path / "data" / "acme"
    folder.mkdir(parents=True)
    book.save(folder / "acme-data.xlsx")
    proposal = scaffold_client("acme")
    assert set(proposal.tables) == {"accounts", "mrr"}
    acc = proposal.tables["accounts"]
    assert acc.source.sheet == "accounts" and acc.confidence == "sure"
    assert all(g.confidence == "sure" for g in acc.columns.values())
    assert proposal.tables["mrr"].source.sheet == "mrr"
    assert "acme-data.xlsx [tickets]: a header but no rows" in proposal.skipped


def test_cli_writes_the_three_files(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path / "reports"))
    result = CliRunner().invoke(main, ["data-request", "--no-pdf"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "reports" / "template" / "data-request"
    assert sorted(p.name for p in folder.iterdir()) == ["data-request-template.html",
                                                       "data-request-template.xlsx"]
