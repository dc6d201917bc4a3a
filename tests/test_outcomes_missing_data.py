"""A client without success plans or trigger events gets one line per view saying what data
would enable it, and the notebook records nothing else (papermill on a snapshot client)."""

from __future__ import annotations

import html
import json

import papermill as pm

from playbook import paths

ACCOUNTS = """\
Account ID,Customer Since,ARR (USD),Status,Renewal Date
""" + "".join(
    f"A{i},2024-0{1 + i % 9}-15,{1000 * (1 + i % 7)},{'Churned' if i % 6 == 0 else 'Active'},"
    f"2026-0{1 + i % 9}-15\n" for i in range(40))


def test_outcomes_notebook_without_its_tables_says_what_would_enable_each(client_factory,
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
    pm.execute_notebook(
        str(paths.PACKAGE_DIR.parent / "notebooks" / "06-outcomes-triggers.ipynb"),
        str(out / "06.ipynb"), parameters={"client": "t", "run_dir": str(out)},
        progress_bar=False, cwd=str(paths.PACKAGE_DIR.parent / "notebooks"))
    nb = json.loads((out / "06.ipynb").read_text())
    shown = html.unescape("".join("".join(o.get("data", {}).get("text/html", ""))
                                  for c in nb["cells"] for o in c.get("outputs", [])))
    assert ("Not shown: customer outcomes and their effect on renewal. It needs the "
            "'outcomes' table") in shown
    assert ("Not shown: trigger events before churn and expansion. It needs the 'triggers' "
            "table") in shown
    assert shown.count("Not shown:") == 2  # one line each, nothing else
    findings = json.loads((out / "findings" / "06-outcomes-triggers.json").read_text())
    f = findings["findings"]
    assert [s["section"] for s in f["sections_skipped"]] == [
        "customer outcomes and their effect on renewal",
        "trigger events before churn and expansion"]
    assert not {"outcome_coverage", "outcome_bands", "trigger_effects", "open_triggers"} & set(f)
