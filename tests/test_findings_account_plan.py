"""The "where to act" section (#19): the levers joined by tier and owner, computed by hand on
a small plan; the titles' rules; the manifest's list of outputs; and the section on a client
with no usage, tickets or touches (each exhibit says what data would enable it, the workbook
is still written)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
import papermill as pm
import pytest

from playbook import account_plan as ap
from playbook import paths, workbook_pending
from playbook.errors import NotebookError
from playbook.findings import account_plan as story
from playbook.render import render_notebooks
from playbook.render_manifest import ReportMeta, output_records
from playbook.render_publish import CSV_NAME, XLSX_NAME

FAIL = Path(__file__).parent / "fixtures" / "render" / "03-fail.ipynb"


def small_plan() -> pd.DataFrame:
    """Four accounts, two tiers, two owners (one blank)."""
    return pd.DataFrame({
        "account_id": ["A", "B", "C", "D"],
        "owner": ["Kim", "Kim", None, "Lee"],
        "value_tier": ["high", "low", "low", "high"],
        "renewal_probability": [0.5, 0.9, 0.6, np.nan],
        "expected_loss": [100.0, 10.0, 40.0, np.nan],
        "expansion_potential_mrr": [np.nan, 5.0, np.nan, 20.0],
    })


def savings_frame() -> pd.DataFrame:
    return pd.DataFrame({"money_saved": [60.0, 0.0]}, index=pd.Index(["C", "B"],
                                                                     name="account_id"))


def test_where_to_act_by_tier_sums_the_three_levers_a_year_by_hand():
    out = ap.where_to_act(small_plan(), savings_frame(), by="value_tier", at_risk_below=0.75,
                          model_ranks=True, window_months=6, tier_order=["high", "low"])
    assert list(out.index) == ["high", "low", "total"]
    # at risk (p < 0.75): A (loss 100) and C (40); B (0.9) is not, D is unscored
    assert out.at["high", "loss_saveable"] == pytest.approx(100 * 12)
    assert out.at["low", "loss_saveable"] == pytest.approx(40 * 12)
    assert out.at["total", "loss_saveable_accounts"] == 2
    assert out.at["high", "expansion"] == pytest.approx(20 * 12)
    assert out.at["low", "expansion"] == pytest.approx(5 * 12)
    # C saves 60 over a 6-month window: 120 a year
    assert out.at["low", "serving_saving"] == pytest.approx(120)
    assert out.at["total", "serving_saving_accounts"] == 1
    assert out.at["total", "total"] == pytest.approx(1200 + 480 + 300 + 120)
    assert out.at["total", "accounts"] == 4


def test_where_to_act_leaves_a_lever_unmeasured_not_zero():
    plan = small_plan().assign(expansion_potential_mrr=np.nan)
    out = ap.where_to_act(plan, None, by="owner", at_risk_below=0.75, model_ranks=False,
                          window_months=12)
    assert out["loss_saveable"].isna().all()      # a chance-level model picks no one
    assert out["expansion"].isna().all() and out["serving_saving"].isna().all()
    assert out["total"].isna().all()
    assert "(no owner)" in out.index and out.at["Kim", "accounts"] == 2
    assert story.where_title(ap.where_to_act(plan, savings_frame(), by="value_tier",
                                             at_risk_below=0.75, model_ranks=False,
                                             window_months=12), "USD") == (
        "A lighter touch for accounts that cost more than they earn is the largest lever at "
        "$60 a year, most of it in the low tier")
    assert not story.any_lever_measured(out)


def test_where_title_names_the_largest_lever_and_says_what_is_not_measured():
    out = ap.where_to_act(small_plan(), savings_frame(), by="value_tier", at_risk_below=0.75,
                          model_ranks=True, window_months=6, tier_order=["high", "low"])
    assert story.where_title(out, "USD") == ("Saving renewals at risk is the largest lever at "
                                             "$1.7K a year, most of it in the high tier")
    nothing = small_plan().assign(expansion_potential_mrr=0.0)
    flat = ap.where_to_act(nothing, None, by="value_tier", at_risk_below=0.1,
                           model_ranks=False, window_months=12)
    assert story.where_title(flat, "USD") == (
        "No lever measured shows money to act on; saving renewals at risk and a lighter touch "
        "for accounts that cost more than they earn are not measured on this data")
    spec = story.where_table(out, ap.where_to_act(small_plan(), None, by="owner",
                                                  at_risk_below=0.75, model_ranks=True,
                                                  window_months=6),
                             "USD", model_ranks=True, model_fitted=True)
    assert list(spec.content.iloc[:, 0]) == ["high tier", "low tier", "Kim", "(no owner)",
                                             "Lee", "total"]
    assert spec.n == 4 and spec.source


def test_expansion_and_cost_titles_follow_their_rules():
    by_tier = pd.DataFrame({"candidates": [2, 3], "potential_mrr": [300.0, 100.0]},
                           index=pd.Index(["high", "low"], name="value_tier"))
    assert story.expansion_title(by_tier, "USD") == (
        "5 healthy, adopting accounts could add $400 of MRR a month, 75% of it in the high "
        "tier")
    assert story.expansion_title(by_tier * 0, "USD").startswith("No account is at once")
    cost = pd.DataFrame({"accounts": [10, 5, 15], "unprofitable": [0, 2, 2],
                         "cost_share": [0.1, 0.5, 0.2]}, index=["high", "low", "total"])
    saved = pd.DataFrame({"money_saved": [30.0, 0.0]})
    assert story.cost_title(cost, saved, "USD", 12) == (
        "2 of 15 accounts cost more to serve than they earn; a lighter touch plan would "
        "save $30 over 12 months")
    cost["unprofitable"] = 0
    assert story.cost_title(cost, saved.iloc[:0], "USD", 12) == (
        "Every account earns more than it costs to serve; serving takes 20% of revenue")


def test_the_manifest_lists_the_published_files_with_their_checksums(tmp_path):
    (tmp_path / "report.pdf").write_bytes(b"%PDF")
    (tmp_path / XLSX_NAME).write_bytes(b"xlsx")
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "notebooks").mkdir()
    records = output_records(tmp_path)
    assert [r["name"] for r in records] == [XLSX_NAME, "report.pdf"]
    assert records[0]["bytes"] == 4 and len(records[0]["sha256"]) == 64


def test_the_section_on_a_client_without_usage_tickets_or_touches_says_what_would_enable_it(
        client_factory, tmp_path):
    client_factory.write()            # accounts and MRR only
    out = tmp_path / "run"
    out.mkdir()
    pm.execute_notebook(str(paths.PACKAGE_DIR.parent / "notebooks" / "05-account-plan.ipynb"),
                        str(out / "05.ipynb"), parameters={"client": "t", "run_dir": str(out)},
                        progress_bar=False, cwd=str(paths.PACKAGE_DIR.parent / "notebooks"))
    nb = json.loads((out / "05.ipynb").read_text())
    shown = html.unescape("".join("".join(o.get("data", {}).get("text/html", ""))
                                  for c in nb["cells"] for o in c.get("outputs", [])))
    assert "Not shown: expansion potential by tier" in shown and "usage table" in shown
    assert "Not shown: cost to serve and margin by tier" in shown and "tickets" in shown
    assert "Not shown: what acting is worth" in shown
    findings = json.loads((out / "findings" / "05-account-plan.json").read_text())["findings"]
    skipped = {s["section"] for s in findings["sections_skipped"]}
    assert {"expansion potential by tier", "cost to serve and margin by tier",
            "where to act"} <= skipped
    # the workbook is still written (by the render step, from what the notebook left in its
    # run folder: playbook.workbook_pending): every customer as billed in the as-of month
    # (March 2024: A2 and A3 pay, A1's MRR stopped in February), the unmeasured columns blank
    assert not (out / XLSX_NAME).exists() and workbook_pending.has_deferred(out)
    workbook_pending.write_deferred(out)
    plan = pd.read_csv(out / CSV_NAME)
    assert sorted(plan["account_id"]) == ["A2", "A3"]
    assert findings["workbook"]["accounts"] == 2 and (out / XLSX_NAME).is_file()
    assert plan["expansion_potential_mrr"].isna().all() and plan["cost_to_serve"].isna().all()


def where_to_act_notebook(path: Path, code: str) -> Path:
    """A notebook at ``path`` with the report's parameters (``run_dir`` among them), a
    "Where to act" heading and one cell of ``code``: a stand-in for 05-account-plan."""
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [
        nbformat.v4.new_code_cell('client: str = "x"\nperiod: str = "p"\nas_of: str = ""\n'
                                  'run_dir: str = ""', metadata={"tags": ["parameters"]}),
        nbformat.v4.new_markdown_cell("# Where to act"),
        nbformat.v4.new_code_cell(code),
    ]
    nbformat.write(nb, path)
    return path


def workbook_writer(folder: Path, content: str) -> Path:
    """A notebook that writes ``accounts.xlsx`` into its run folder itself."""
    return where_to_act_notebook(folder / "05-writer.ipynb", (
        "from pathlib import Path\n"
        f"(Path(run_dir) / '{XLSX_NAME}').write_text({content!r})"))


def test_the_workbook_is_published_with_the_report_or_not_at_all(tmp_path):
    """Written into the staging folder, the workbook lands beside report.pdf (and in the
    manifest) when the run succeeds; a failed run leaves the previous one untouched."""
    out = tmp_path / "reports" / "acme" / "2026-Q3"
    meta = ReportMeta(client="acme", client_name="Acme", period_label="2026-Q3",
                      as_of="2026-09-30", title="t", version="v1", paper="A4",
                      confidential=False)
    params = {"client": "acme", "period": "2026-Q3", "as_of": "2026-09-30"}
    writer = workbook_writer(tmp_path, "first")
    paths_ = render_notebooks([writer], params, out, meta, progress=False)
    assert (out / XLSX_NAME).read_text() == "first" and paths_.pdf.parent == out
    manifest = json.loads(paths_.manifest.read_text())
    assert XLSX_NAME in [o["name"] for o in manifest["outputs"]]
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    writer = workbook_writer(tmp_path, "second")
    with pytest.raises(NotebookError):
        render_notebooks([writer, FAIL], params, out, meta, progress=False)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_the_expansion_model_sentence_says_chance_unless_every_fold_beats_it():
    odds = pd.DataFrame({"odds_ratio": [3.0, 2.0, 1.2], "or_low": [1.5, 1.1, 0.8],
                         "or_high": [6.0, 3.0, 1.8]},
                        index=pd.Index(["segment[Enterprise]", "seats_nearly_full",
                                        "tenure_years"], name="term"))
    lift = pd.DataFrame({"lift": [2.34, 1.5]})  # the top decile first
    model = SimpleNamespace(n=400, expansions=60, auc=0.61, auc_low=0.55, auc_high=0.66,
                            odds_ratios=odds, lift=lift)
    text = story.expansion_model_sentence(model, 6, 0.1)
    assert text == ("A model of MRR rising 10% or more within 6 months of a cut-off (400 "
                    "account-periods, 60 expansions) ranks accounts better than chance "
                    "(cross-validated AUC 0.61, folds 0.55\u20130.66; the tenth it rates most "
                    "likely expanded at 2.3 times the average rate); what goes with "
                    "expanding: segment Enterprise (odds x3.00), seats nearly full (odds "
                    "x2.00).")
    model.auc_low = 0.49
    chance = story.expansion_model_sentence(model, 6, 0.1)
    assert "no better than chance in every fold" in chance
    model.odds_ratios = odds.iloc[2:]  # only the unclear one left
    assert story.expansion_model_sentence(model, 6, 0.1).endswith(
        "no feature's odds ratio is clearly different from 1.")


def test_where_to_act_with_nothing_to_act_on_is_one_line_not_a_table_of_zeros():
    plan = small_plan().assign(expansion_potential_mrr=np.nan)
    zero = pd.DataFrame({"money_saved": [0.0]}, index=pd.Index(["C"], name="account_id"))
    by_tier = ap.where_to_act(plan, zero, by="value_tier", at_risk_below=0.75,
                              model_ranks=False, window_months=12)
    by_owner = ap.where_to_act(plan, zero, by="owner", at_risk_below=0.75,
                               model_ranks=False, window_months=12)
    assert by_tier.at["total", "total"] == 0
    spec = story.where_table(by_tier, by_owner, "USD", model_ranks=False, model_fitted=True)
    assert spec.content.empty          # the session says the title in one line
    with_money = ap.where_to_act(small_plan(), savings_frame(), by="value_tier",
                                 at_risk_below=0.75, model_ranks=True, window_months=6)
    assert not story.where_table(with_money, by_owner, "USD", model_ranks=True,
                                 model_fitted=True).content.empty
