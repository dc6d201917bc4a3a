"""End to end: an export that contradicts itself gets a summary that quotes none of the
figures its own data-quality appendix contradicts (issue 18: RavenStack's NRR 292% beside a
logo churn of 87%, stated as headline facts)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from tests.test_broken_clients import Client, base_frames, write

NOTEBOOKS = ["01-revenue", "90-data-quality"]


def billed_after_churn() -> Client:
    """The healthy base client, but every churned account is still billed to March 2024,
    months after its churn date: the billing contradicts the churn records."""
    f = base_frames(40)
    churned = f["accounts"].loc[f["accounts"]["Status"] == "Churned", "Account ID"]
    extra = [{"account_id": a, "month": m.date().isoformat(), "mrr": 100.0}
             for a in churned for m in pd.date_range("2024-02-01", "2024-03-01", freq="MS")]
    mrr = pd.concat([f["mrr"], pd.DataFrame(extra)]).drop_duplicates(
        ["account_id", "month"], keep="first")
    client = Client.base(40, mrr=mrr)
    client.params["report"] = {"notebooks": NOTEBOOKS}
    return client


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from playbook.render import render_report

    root = tmp_path_factory.mktemp("withheld")
    mp = pytest.MonkeyPatch()
    mp.setenv("PLAYBOOK_ROOT", str(root))
    mp.setenv("PLAYBOOK_REPORTS", str(root / "reports"))
    try:
        client = billed_after_churn()
        write(root, client)
        result = render_report(client.client, progress=False)
    finally:
        mp.undo()
    return json.loads(result.results.read_text(encoding="utf-8")), \
        result.html.read_text(encoding="utf-8")


def test_the_contradiction_is_recorded_about_the_mrr_table(report):
    results, _ = report
    notes = results["90-data-quality"]["findings"]["quality"]["notes"]
    assert any(n["severity"] == "problem" and "mrr" in n["tables"] for n in notes)


def test_the_summary_withholds_every_figure_built_on_the_contradicted_billing(report):
    results, page = report
    head = results["01-revenue"]["findings"]["headline_metrics"]
    assert set(head["withheld"]) == {"mrr", "grr", "nrr", "logo_churn"}
    summary = results["summary"]
    labels = {k["label"] for k in summary["key_figures"]}
    assert not labels & {"MRR", "Gross revenue retention", "Net revenue retention",
                         "Logo churn"}
    assert summary["withheld_figures"].startswith("Not shown: MRR, gross revenue retention")
    assert "billed" not in summary["sca"] and "kept" not in summary["sca"]
    tiles = re.findall(r'class="kf-label">([^<]*)<', page)
    assert "Gross revenue retention" not in tiles and "Logo churn" not in tiles
    # an exhibit built on the contradicted table is never a headline bullet
    caveated = {e["title"] for e in results["01-revenue"]["exhibits"]
                if "Data caveat" in (e.get("notes") or "")}
    assert caveated and not caveated & {h["title"] for h in summary["headlines"]}
    # the first recommendation is to resolve the contradiction, with no money on it
    first = summary["recommendations"][0]
    assert first["rule"] == "resolve-contradictions" and first["mrr_at_stake"] is None
