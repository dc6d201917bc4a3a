"""The coverage section sizes CSMs only on the client's own evidence (#18): named account
owners or a touch model written in the client's params. A consumer business without CSMs
gets one line, no headcount, no CSM gap; the scenarios need a full 12-month window."""

from __future__ import annotations

import html
import json

import numpy as np
import pandas as pd
import papermill as pm
import pytest

from playbook import paths
from playbook.analyses import capacity
from playbook.config import load_params
from playbook.findings import capacity as story
from tests.conftest import BASE_PARAMS

TOUCH_MODEL = {"tiers": {"high": {"accounts_per_csm": [20, 30], "role": "CSM",
                                  "touches": {"qbr": 4}}},
               "hours_per_touch": {"qbr": 2.0}}


@pytest.mark.parametrize(("owners", "expected"), [
    (None, False),                                  # no owner column at all
    ([np.nan, "", "  "], False),                    # a column with no name in it
    ([np.nan, "Kim", ""], True),                    # one name is an owner
])
def test_has_owners(owners, expected):
    accounts = pd.DataFrame({"account_id": ["a", "b", "c"]})
    if owners is not None:
        accounts["owner"] = owners
    assert capacity.has_owners(accounts) is expected


def test_capacity_evidence_needs_owners_or_the_clients_touch_model():
    no_owner = pd.DataFrame({"account_id": ["a"], "owner": [np.nan]})
    assert capacity.capacity_evidence(no_owner, touch_model_from_client=False) == {
        "owners": False, "touch_model": False, "sized": False}
    assert capacity.capacity_evidence(no_owner, touch_model_from_client=True)["sized"]
    named = no_owner.assign(owner="Kim")
    assert capacity.capacity_evidence(named, touch_model_from_client=False)["sized"]


def test_params_say_which_sections_the_client_set(client_factory):
    client_factory.write(params=BASE_PARAMS)
    assert not load_params("t").set_by_client("touch_model")   # defaults.yaml only
    assert load_params("t").set_by_client("tables")
    client_factory.write(params={**BASE_PARAMS, "touch_model": TOUCH_MODEL})
    assert load_params("t").set_by_client("touch_model")


def test_without_owners_the_headcount_prints_no_current_or_gap():
    required = capacity.required_headcount({"high": 10}, {
        **TOUCH_MODEL, "csm_hours_per_year": 1600, "account_admin_hours_per_year": {},
        "loaded_cost_per_csm": 100_000, "prep_hours_per_touch": {},
        "travel_hours_per_touch": {}, "program_hours_per_touch": {},
        "loaded_cost_per_role": {"CSM": 100_000}})
    gap = capacity.headcount_gap(required, pd.Series({"high": 0.0}))
    spec = story.headcount_table(gap, required, "USD", with_current=False)
    assert not {"current", "gap (effort - current)", "cost current (USD)"} & set(
        spec.content.columns)
    assert "today's owners" not in spec.subtitle
    assert "current" in story.headcount_table(gap, required, "USD").content.columns


# ----------------------------------------------------------------------------- notebook
ACCOUNTS = "Account ID,Customer Since,ARR (USD),Status\n" + "".join(
    f"S{i},2025-01-15,{120 * (1 + i % 5)},{'Churned' if i % 7 == 0 else 'Active'}\n"
    for i in range(40))
#: Six months of MRR (Apr-Sep 2026): a 5-month window, too short for annual rates.
MRR = "account_id,month,mrr\n" + "".join(
    f"S{i},2026-{m:02d}-01,{10 * (1 + i % 5)}\n" for i in range(40) for m in range(4, 10)
    if not (i % 7 == 0 and m > 6))


def test_a_consumer_client_without_owners_is_not_sized(client_factory, tmp_path):
    """No owner column, no touch model in params, six months of history: the capacity
    section is one line, nothing of it is recorded (so no CSM gap reaches the summary), and
    the scenarios say in one line that annual rates need 12 months."""
    params = {"client": {"name": "Consumer Co"}, "period": {"period": "2026-Q3"},
              "tables": {"accounts": {
                  "file": "accounts.csv",
                  "columns": {"account_id": "Account ID", "start_date": "Customer Since",
                              "arr": "ARR (USD)", "status": "Status"},
                  "codes": {"status": {"Active": "active", "Churned": "churned"}}},
                  "mrr": {"file": "mrr.csv"}}}
    client_factory.write(files={"accounts.csv": ACCOUNTS, "mrr.csv": MRR}, params=params)
    out = tmp_path / "run"
    out.mkdir()
    notebooks = paths.PACKAGE_DIR.parent / "notebooks"
    pm.execute_notebook(str(notebooks / "04-capacity.ipynb"), str(out / "04.ipynb"),
                        parameters={"client": "t", "run_dir": str(out)},
                        progress_bar=False, cwd=str(notebooks))
    nb = json.loads((out / "04.ipynb").read_text())
    shown = html.unescape("".join("".join(o.get("data", {}).get("text/html", ""))
                                  for c in nb["cells"] for o in c.get("outputs", [])))
    assert story.NO_CAPACITY_EVIDENCE in shown
    assert "CSMs by effort" not in shown and "Touch plan" not in shown
    assert "annual rates need a full 12-month window" in shown
    assert "Check against the textbook case" not in shown
    findings = json.loads((out / "findings" / "04-capacity.json").read_text())["findings"]
    assert findings["capacity_evidence"] == {"owners": False, "touch_model": False,
                                             "sized": False}
    for key in ("current_owners", "headcount_total", "headcount", "client_rates"):
        assert key not in findings, key
    assert findings["scenarios_skipped"][0].startswith("the MRR history covers 5 months")
