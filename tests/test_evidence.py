"""Evidence gating (#18 point 3): a section without its data says in one line what would
enable it, never computes from defaults, and source lines name only tables the client sent.

Unit tests of :mod:`playbook.evidence` and the health measures on hand-built frames, then
notebooks run through papermill on small clients written by the test: one with accounts,
billing and tickets only (no usage, surveys, csm_inputs, onboarding, contacts), one with a
single month of billing.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import papermill as pm
import pytest

from playbook import paths
from playbook.analyses import health
from playbook.analyses.segments.lifecycle import LIFECYCLE_STAGES, adopting_unmeasured
from playbook.evidence import check, need, source_line
from playbook.findings import segments as story

NOTEBOOKS = paths.PACKAGE_DIR.parent / "notebooks"


class Data:
    """The two attributes the checks read of :class:`playbook.client_data.ClientData`."""

    def __init__(self, tables: dict[str, pd.DataFrame], files: dict[str, Path] | None = None):
        self.tables = tables
        self.files = files if files is not None else {t: Path(f"{t}.csv") for t in tables}


USAGE = pd.DataFrame({"account_id": ["a", "b"], "month": pd.Timestamp("2024-01-01"),
                      "active_users": [3, 4], "licensed_seats": [np.nan, np.nan]})


# --------------------------------------------------------------------------- the check
def test_a_missing_table_is_named_with_what_to_send():
    data = Data({"accounts": pd.DataFrame({"account_id": ["a"]})})
    line = check(data, need("usage", "active_users"), enables="the lifecycle stages")
    assert line == ("Not shown: the lifecycle stages. It needs the 'usage' table, which the "
                    "client's data does not include. Add 'usage' to the data request: "
                    "product usage per account and month (or per event date; aggregated to "
                    "months).")
    assert check(data, "accounts", enables="x") is None


def test_blank_columns_and_short_tables_are_named():
    data = Data({"usage": USAGE})
    line = check(data, need("usage", "active_users", "licensed_seats"), enables="stages")
    assert "needs 'usage' with active_users and licensed_seats filled in" in line
    assert "leaves licensed_seats blank" in line and "active_users blank" not in line
    assert check(data, need("usage", "active_users", min_rows=3), enables="x") == (
        "Not shown: x. It needs at least 3 usable rows of 'usage'; the client's data has 2. Ask "
        "for a longer usage history.")
    assert line.endswith("leaves licensed_seats blank. Ask for licensed_seats in the usage "
                         "export.")
    contacts = pd.DataFrame({"contact_id": ["c"], "account_id": ["a"], "role": [None],
                             "seniority": [None], "relationship_strength": ["strong"]})
    line = check(Data({"contacts": contacts}),
                 need("contacts", "relationship_strength", any_of=("role", "seniority")),
                 enables="flags")
    assert "role or seniority filled in" in line and "leaves role and seniority blank" in line
    with pytest.raises(KeyError):
        need("usage", "seats")  # a typo in a declaration fails where it is written


def test_source_line_names_only_tables_the_client_sent():
    present = {t: pd.DataFrame({"account_id": ["a"]})
               for t in ("accounts", "mrr", "churn_events", "tickets")}
    sent = {t: Path(f"{t}.csv") for t in ("accounts", "mrr", "tickets")}  # churn synthesised
    data = Data(present, sent)
    assert source_line("accounts, mrr, usage, csm_inputs", data) == "accounts, mrr"
    assert source_line("churn_events", data) == "mrr (churn from billing)"
    assert source_line("accounts, mrr, churn_events", data) == "accounts, mrr"
    assert source_line("accounts (owner), params touch_model", data) == (
        "accounts (owner), params touch_model")


# --------------------------------------------------------------------------- health method
def _scored() -> pd.DataFrame:
    idx = pd.Index(["a", "b", "c", "d"], name="account_id")
    out = pd.DataFrame(index=idx)
    for m in health.HEALTH_MEASURES:
        out[f"score_{m}"] = np.nan
    out["score_usage"] = [50.0, 60.0, np.nan, 80.0]  # 3 of 4 accounts
    out["score_tickets"] = 100.0
    out["health_band"] = ["green", "yellow", "green", "red"]
    return out


WEIGHTS = {"usage": 0.30, "nps": 0.20, "products": 0.10, "tickets": 0.10,
           "executive_relationship": 0.15, "champion_quality": 0.15}


def test_measures_available_rescale_the_weights_of_the_measures_with_data():
    used = health.measures_available(_scored(), WEIGHTS)
    assert list(used.index) == ["usage", "tickets"]
    assert used["effective_weight"].tolist() == pytest.approx([0.30 / 0.40, 0.10 / 0.40])
    assert used["accounts"].tolist() == [3, 4]
    assert story.measures_source(used, "renewals") == "accounts, usage, tickets, renewals"


def test_health_method_names_only_the_measures_used_with_their_weights():
    scored = _scored()
    text = story.health_sentence(scored, health.measures_available(scored, WEIGHTS))
    assert "2 measures the data supplies, with these weights: usage 75%, ticket load 25%" in text
    assert "usage for 75% of accounts" in text
    for absent in ("NPS", "executive", "champion", "products"):
        assert absent not in text


def test_one_measure_is_not_called_a_health_score():
    scored = _scored().assign(score_usage=np.nan)
    used = health.measures_available(scored, WEIGHTS)
    text = story.too_few_measures_sentence(used, 4, health.MIN_MEASURES)
    assert text.startswith("Not shown: a health score needs at least 2 measures")
    assert "supplies only ticket load (for 100% of the 4 active accounts)" in text
    assert "Add usage (active users and licensed seats by month), NPS survey answers, " in text
    assert "support tickets" not in text  # ask only for what is missing


# --------------------------------------------------------------------------- notebooks
def _client_files(n: int = 60) -> dict[str, str]:
    """Accounts, monthly billing Jan 2023 - Dec 2024 (every 7th account stops in mid 2024)
    and a few tickets: no usage, surveys, csm_inputs, onboarding, contacts or touches."""
    acc = ["Account ID,Account Name,Industry,Customer Since,ARR (USD),Status,Owner"]
    mrr = ["account_id,month,mrr"]
    tickets = ["account_id,opened_at,priority"]
    months = pd.date_range("2023-01-01", "2024-12-01", freq="MS")
    for i in range(n):
        start = months[i % 12]
        churned = i % 7 == 0
        end = pd.Timestamp("2024-06-01") if churned else months[-1]
        value = 500 + 100 * (i % 9)
        acc.append(f"A{i},Co {i},{['Retail', 'Health'][i % 2]},{start:%Y-%m-%d},"
                   f"{value * 12},{'Churned' if churned else 'Active'},Kim")
        mrr += [f"A{i},{m:%Y-%m-%d},{value}" for m in months if start <= m <= end]
        tickets += [f"A{i},2024-{1 + k % 12:02d}-10,{['high', 'low'][k % 2]}"
                    for k in range(i % 4)]
    return {"accounts.csv": "\n".join(acc) + "\n", "mrr.csv": "\n".join(mrr) + "\n",
            "tickets.csv": "\n".join(tickets) + "\n"}


PARAMS = {
    "client": {"name": "Evidence Co"},
    "period": {"period": "2024-Q4"},
    "tables": {
        "accounts": {
            "file": "accounts.csv",
            "columns": {"account_id": "Account ID", "name": "Account Name",
                        "industry": "Industry", "start_date": "Customer Since",
                        "arr": "ARR (USD)", "owner": "Owner", "status": "Status"},
            "codes": {"status": {"Active": "active", "Churned": "churned"}},
        },
        "mrr": {"file": "mrr.csv"},
        "tickets": {"file": "tickets.csv"},
    },
}


def _run(notebook: str, tmp_path: Path) -> tuple[list[tuple[str, str]], dict]:
    """Run a notebook on client "t": (heading, html) of every output in order, findings."""
    out = tmp_path / "run"
    out.mkdir(exist_ok=True)
    pm.execute_notebook(str(NOTEBOOKS / f"{notebook}.ipynb"), str(out / f"{notebook}.ipynb"),
                        parameters={"client": "t", "run_dir": str(out)},
                        progress_bar=False, cwd=str(NOTEBOOKS))
    cells = json.loads((out / f"{notebook}.ipynb").read_text())["cells"]
    shown, heading = [], ""
    for c in cells:
        if c["cell_type"] == "markdown":
            found = re.findall(r"^#+ (.+)$", "".join(c["source"]), flags=re.M)
            heading = found[-1] if found else heading
            continue
        if "remove_cell" in c.get("metadata", {}).get("tags", []):
            continue
        for o in c.get("outputs", []):
            text = "".join(o.get("data", {}).get("text/html", ""))
            if text:
                shown.append((heading, html.unescape(text)))
    findings = json.loads((out / "findings" / f"{notebook}.json").read_text())["findings"]
    return shown, findings


def _boxes(shown: list[tuple[str, str]], heading: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t) for h, t in shown
            if h == heading and 'class="callout' in t]


def test_section_4_without_usage_or_csm_inputs_says_what_is_missing(client_factory, tmp_path):
    client_factory.write(files=_client_files(), params=PARAMS)
    shown, findings = _run("03-segments-health", tmp_path)
    everything = "\n".join(t for _, t in shown)
    # lifecycle: no stage distribution from defaults, one line naming usage
    [line] = _boxes(shown, "Lifecycle")[:1]
    assert "the lifecycle stage of each account. It needs the 'usage' table" in line
    assert not re.search(r"'Adopting' \(\d+%\)", everything)
    assert not findings.get("lifecycle")
    assert "the lifecycle stage of each account" in {
        s["section"] for s in findings["sections_skipped"]}
    # sources name only tables the client sent
    sources = re.findall(r"Source: ([^;<]*)", everything)
    assert sources, "no exhibit shown"
    for src in sources:
        for absent in ("usage", "csm_inputs", "surveys", "onboarding", "contacts"):
            assert absent not in src, src
    # one measure (ticket load) is not called a health score; its backtest is not shown
    [scorecard] = _boxes(shown, "Health scorecard")
    assert "a health score needs at least 2 measures" in scorecard
    assert "supplies only ticket load" in scorecard
    assert "score green" not in everything
    assert not findings.get("health_bands")
    # one box per missing section, never the same box twice
    boxes = [re.sub(r"<[^>]+>", "", t) for _, t in shown if 'class="callout' in t]
    assert len(boxes) == len(set(boxes))
    assert len(_boxes(shown, "Lifecycle")) == 2  # the stages; onboarding progress once


def test_a_one_month_snapshot_shows_one_box_under_cohort_retention(client_factory, tmp_path):
    files = _client_files(12)
    files["mrr.csv"] = "\n".join(line for line in files["mrr.csv"].splitlines()
                                 if "month" in line or "2024-12-01" in line) + "\n"
    client_factory.write(files=files, params=PARAMS)
    shown, findings = _run("01-revenue", tmp_path)
    [box] = _boxes(shown, "Cohort retention")
    assert box.startswith("Not shown: cohort retention needs 12 months of MRR history")
    boxes = [re.sub(r"<[^>]+>", "", t) for _, t in shown if 'class="callout' in t]
    assert len(boxes) == len(set(boxes))
    sections = [s["section"] for s in findings["sections_skipped"]]
    assert len(sections) == len(set(sections)) and "cohort retention" in sections


# --------------------------------------------------------------------------- said, not assumed
def test_adopting_accounts_without_usage_are_said_to_be_unmeasured():
    stages = pd.Series(pd.Categorical(["Adopting", "Adopting", "Adopting", "Expanding"],
                                      categories=LIFECYCLE_STAGES, ordered=True),
                       index=pd.Index(["a", "b", "c", "d"], name="account_id"))
    usage = pd.DataFrame({"account_id": ["a", "b", "d"], "month": pd.Timestamp("2024-11-01"),
                          "active_users": [2, 3, np.nan], "licensed_seats": [10, np.nan, 5]})
    # a is measured (depth 0.2); b has no seats, c no usage row: use not measured
    assert adopting_unmeasured(stages, usage, "2024-12-31") == 2
    summary = pd.DataFrame({"accounts": [0, 3, 0, 1, 0]},
                           index=pd.Index(LIFECYCLE_STAGES, name="stage"))
    spec = story.lifecycle(summary, 24, onboarding_measured=False, unmeasured=2)
    assert "2 accounts in 'Adopting' have no usage data" in spec.notes
    assert "'Onboarding' stage is not shown: it needs the onboarding table" in spec.notes
    assert spec.title == "Most accounts are 'Adopting' (75%)"
    labels = [t.get_text() for t in spec.content.axes[0].get_yticklabels()]
    assert "Onboarding" not in labels and "Adopting" in labels


def test_the_renewal_flag_is_undecided_without_renewal_dates():
    accounts = pd.DataFrame({"account_id": ["a", "b"], "start_date": pd.Timestamp("2023-01-01"),
                             "status": "active", "renewal_date": pd.NaT})
    contacts = pd.DataFrame({"contact_id": ["c1", "c2"], "account_id": ["a", "b"],
                             "role": "executive", "seniority": "vp",
                             "relationship_strength": "strong"})
    touches = pd.DataFrame({"account_id": ["a"], "contact_id": ["c1"],
                            "date": pd.Timestamp("2024-01-05"), "type": "call"})
    flags = health.relationship_flags(
        accounts, contacts, touches, None, as_of="2024-12-31", exec_days=90, user_days=30,
        renewal_horizon_days=90, strong_exec_enterprise=2, strong_exec_smb=1,
        enterprise_segments=("Enterprise",), usage_drop_share=0.3, strong_adoption_depth=0.7)
    assert flags["flag_renewal_no_exec"].isna().all()  # not False: no renewal date known
    summary = health.flag_summary(flags, accounts, pd.Series([100.0, 200.0], index=["a", "b"]))
    spec = story.flags_table(summary, flags, pd.Series([100.0, 200.0], index=["a", "b"]),
                             "USD")
    assert "The renewal flag could not be decided: the accounts carry no renewal date" in (
        spec.notes)
