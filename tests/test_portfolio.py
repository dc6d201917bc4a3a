"""make reports: every client run, failures listed, and the portfolio page."""

from __future__ import annotations

import json

from playbook import portfolio
from playbook import textfmt as tf


def test_a_failing_client_is_reported_not_raised(client_factory):
    client_factory.write(files={"accounts.csv": "Account ID\nA1\n"})   # mrr.csv missing
    (runs_t,) = portfolio.run_reports(["t"], workers=1)
    assert not runs_t.ok and "in the input data" in runs_t.message


def test_index_links_latest_report_with_key_figures(client_factory, tmp_path):
    reports = tmp_path / "reports"
    for label, as_of, mrr in [("2026-Q2", "2026-06-30", 90_000.0),
                              ("2026-Q3", "2026-09-30", 100_000.0)]:
        folder = reports / "acme" / label
        folder.mkdir(parents=True)
        (folder / "results.json").write_text(json.dumps({
            "meta": {"as_of": as_of, "period_label": label, "client_name": "Acme Inc",
                     "currency": "USD"},
            "01-revenue": {"findings": {"period": {"end_mrr": mrr},
                                        "headline_metrics": {"grr": 0.9, "nrr": 1.05}}}}))
    client_factory.write(client="acme")
    client_factory.write(client="beta")
    assert portfolio.clients_with_params() == ["acme", "beta"]
    page = portfolio.write_index(["acme", "beta"],
                                 [portfolio.ClientRun("beta", False, "mrr.csv missing")])
    text = page.read_text()
    assert 'href="acme/2026-Q3/report.html"' in text and "Acme Inc" in text
    assert "as of 2026-09-30" in text and "report.pdf" not in text   # no PDF written
    assert "$100K" in text and "90.0%" in text and "105.0%" in text
    assert "mrr.csv missing" in text                    # the failed client says why
    assert "contradict" not in text                     # clean data: no caveat
    assert "<script" not in text and "http:" not in text and "https:" not in text


def test_index_flags_a_client_whose_data_contradict_themselves(client_factory, tmp_path):
    folder = tmp_path / "reports" / "raven" / "2024-Q4"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({
        "meta": {"as_of": "2024-12-31", "period_label": "2024-Q4", "client_name": "Raven"},
        "90-data-quality": {"findings": {"contradictions": [{"count": 265}, {"count": 35}]}}}))
    client_factory.write(client="raven")
    (folder / "report.pdf").write_bytes(b"%PDF-1.7")
    text = portfolio.index_html(["raven"])
    assert "contradict themselves in 2 ways" in text
    assert 'href="raven/2024-Q4/report.pdf"' in text
    assert "accounts.xlsx" not in text                   # no workbook written: no link
    (folder / "accounts.xlsx").write_bytes(b"PK")
    assert 'href="raven/2024-Q4/accounts.xlsx"' in portfolio.index_html(["raven"])


def test_index_shows_each_clients_prize_and_top_decision(client_factory, tmp_path):
    folder = tmp_path / "reports" / "acme" / "2026-Q3"
    folder.mkdir(parents=True)
    executive = {"so_what": {
        "prize": {"low": 1_000_000.0, "mid": 2_000_000.0, "high": 3_500_000.0},
        "decisions": [{"text": "Approve recommendation 2, <b>save</b> renewals."},
                      {"text": "Second decision."}]}}
    (folder / "results.json").write_text(json.dumps({
        "meta": {"as_of": "2026-09-30", "period_label": "2026-Q3", "currency": "EUR"},
        "executive": executive}))
    client_factory.write(client="acme")
    client_factory.write(client="old")
    old = tmp_path / "reports" / "old" / "2026-Q3"
    old.mkdir(parents=True)
    (old / "results.json").write_text(json.dumps({"meta": {"as_of": "2026-09-30"}}))
    text = portfolio.write_index(["acme", "old"]).read_text()
    row = text.split("<tr>")[2]
    assert "€2.0M" in row and "€1.0M\u2013€3.5M" in row
    assert "Approve recommendation 2" in row and "Second decision" not in row
    assert "<b>save</b>" not in row                      # a decision's text is escaped
    assert text.split("<tr>")[3].count(tf.ABSENT) >= 2   # an older report: dashes
