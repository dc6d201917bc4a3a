"""A section whose table is missing says what data would enable it, and the notebook goes on.

Runs the revenue notebook through papermill on a client that only has an accounts snapshot
(no MRR history, no churn events): the kind of client a consultant meets in week one.
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


def test_revenue_notebook_on_a_snapshot_client_explains_what_is_missing(client_factory,
                                                                       tmp_path):
    params = {
        "client": {"name": "Snapshot Co"},
        "period": {"period": "2026-Q3"},
        "tables": {"accounts": {
            "file": "accounts.csv",
            "columns": {"account_id": "Account ID", "start_date": "Customer Since",
                        "arr": "ARR (USD)", "status": "Status", "renewal_date": "Renewal Date"},
            "codes": {"status": {"Active": "active", "Churned": "churned"}}}},
    }
    client_factory.write(files={"accounts.csv": ACCOUNTS}, params=params)
    out = tmp_path / "run"
    out.mkdir()
    pm.execute_notebook(str(paths.PACKAGE_DIR.parent / "notebooks" / "01-revenue.ipynb"),
                        str(out / "01.ipynb"), parameters={"client": "t", "run_dir": str(out)},
                        progress_bar=False, cwd=str(paths.PACKAGE_DIR.parent / "notebooks"))
    nb = json.loads((out / "01.ipynb").read_text())
    shown = html.unescape("".join("".join(o.get("data", {}).get("text/html", ""))
                                  for c in nb["cells"] for o in c.get("outputs", [])))
    assert "the MRR bridge. It needs the 'mrr' table" in shown
    assert "the churn-reason analysis. It needs the 'churn_events' table" in shown
    findings = json.loads((out / "findings" / "01-revenue.json").read_text())["findings"]
    skipped = [s["section"] for s in findings["sections_skipped"]]
    assert "the MRR bridge" in skipped and "the churn-reason analysis" in skipped
    assert findings["churn_by_variable"]          # the accounts snapshot still gives cuts
