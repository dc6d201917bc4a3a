"""A section whose table is missing says what data would enable it, and the notebook goes on.

Runs the revenue notebook, and the outcomes-and-triggers notebook, through papermill on a
client that only has an accounts snapshot (no MRR history, no churn events, no success plans or
trigger events): the kind of client a consultant meets in week one.
"""

from __future__ import annotations

import html
import json

import papermill as pm

from playbook import paths

ACCOUNTS = """\
Account ID,Customer Since,ARR (USD),Status,Renewal Date,Industry
""" + "".join(
    f"A{i},2024-0{1 + i % 9}-15,{1000 * (1 + i % 7)},{'Churned' if i % 6 == 0 else 'Active'},"
    f"2026-0{1 + i % 9}-15,{['Retail', 'Health', 'Media'][i % 3]}\n" for i in range(60))


PARAMS = {
    "client": {"name": "Snapshot Co"},
    "period": {"period": "2026-Q3"},
    "tables": {"accounts": {
        "file": "accounts.csv",
        "columns": {"account_id": "Account ID", "start_date": "Customer Since",
                    "arr": "ARR (USD)", "status": "Status", "renewal_date": "Renewal Date"},
        "codes": {"status": {"Active": "active", "Churned": "churned"}}}},
}
#: The outcomes notebook's snapshot: 40 accounts, no industry column.
OUTCOMES_ACCOUNTS = """\
Account ID,Customer Since,ARR (USD),Status,Renewal Date
""" + "".join(
    f"A{i},2024-0{1 + i % 9}-15,{1000 * (1 + i % 7)},{'Churned' if i % 6 == 0 else 'Active'},"
    f"2026-0{1 + i % 9}-15\n" for i in range(40))


def run_on_snapshot(client_factory, tmp_path, notebook: str, accounts: str
                    ) -> tuple[str, dict]:
    """Run ``notebook`` through papermill on the snapshot client (``accounts`` its only
    file); the HTML it shows (unescaped) and the findings it recorded."""
    client_factory.write(files={"accounts.csv": accounts}, params=PARAMS)
    out = tmp_path / "run"
    out.mkdir()
    pm.execute_notebook(str(paths.PACKAGE_DIR.parent / "notebooks" / f"{notebook}.ipynb"),
                        str(out / "run.ipynb"), parameters={"client": "t", "run_dir": str(out)},
                        progress_bar=False, cwd=str(paths.PACKAGE_DIR.parent / "notebooks"))
    nb = json.loads((out / "run.ipynb").read_text())
    shown = html.unescape("".join("".join(o.get("data", {}).get("text/html", ""))
                                  for c in nb["cells"] for o in c.get("outputs", [])))
    return shown, json.loads((out / "findings" / f"{notebook}.json").read_text())


def test_revenue_notebook_on_a_snapshot_client_explains_what_is_missing(client_factory,
                                                                       tmp_path):
    shown, recorded = run_on_snapshot(client_factory, tmp_path, "01-revenue", ACCOUNTS)
    assert "the MRR bridge. It needs the 'mrr' table" in shown
    assert "the churn-reason analysis. It needs the 'churn_events' table" in shown
    findings = recorded["findings"]
    skipped = [s["section"] for s in findings["sections_skipped"]]
    assert "the MRR bridge" in skipped and "the churn-reason analysis" in skipped
    assert findings["churn_by_variable"]          # the accounts snapshot still gives cuts


def test_outcomes_notebook_without_its_tables_says_what_would_enable_each(client_factory,
                                                                         tmp_path):
    """Without success plans or trigger events: one line per view saying what data would
    enable it, and nothing else recorded."""
    shown, findings = run_on_snapshot(client_factory, tmp_path, "06-outcomes-triggers",
                                      OUTCOMES_ACCOUNTS)
    assert ("Not shown: customer outcomes and their effect on renewal. It needs the "
            "'outcomes' table") in shown
    assert ("Not shown: trigger events before churn and expansion. It needs the 'triggers' "
            "table") in shown
    assert shown.count("Not shown:") == 2  # one line each, nothing else
    f = findings["findings"]
    assert [s["section"] for s in f["sections_skipped"]] == [
        "customer outcomes and their effect on renewal",
        "trigger events before churn and expansion"]
    assert not {"outcome_coverage", "outcome_bands", "trigger_effects", "open_triggers"} & set(f)
