"""End to end (issue 23): the consultant's notes survive a re-run after the client corrects
the data, and the one edit whose generated title changed is warned about by name.

The demo data are copied to a client of a throw-away project root and rendered with the
revenue section only (run 1, no notes). Notes are written against run 1's generated titles
(as `make notes` pre-fills them). Then every money amount of the data is raised by 10%
(MRR history, ARR, lost MRR): every share and count stays, every amount changes, so the
edit of the exhibit whose title quotes an amount goes stale and the other does not.
"""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest
import yaml

from playbook import paths
from playbook import textfmt as tf
from playbook.errors import NotesWarning

DEMO = paths.PACKAGE_DIR.parent / "data" / "demo"
CLIENT = "notes-t"
MONEY_COLUMNS = {"mrr_history.csv": "MRR (USD)", "accounts.csv": "ARR (USD)",
                 "churn_events.csv": "Lost MRR (USD)"}
AMOUNT = "revenue.mrr_bridge"      # its title quotes an amount ("$160K of MRR leaked")
SHARES = "revenue.reason_pareto"   # its title quotes shares only ("explain 60%")
HIDDEN = "revenue.glossary"


def _exhibits(result) -> dict[str, dict]:
    results = json.loads(result.results.read_text(encoding="utf-8"))
    return {e["id"]: e for e in results["01-revenue"]["exhibits"]}, results


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    from playbook.render import render_report

    if not (DEMO / "accounts.csv").is_file():
        pytest.fail("data/demo is missing: run `make demo`")
    root = tmp_path_factory.mktemp("notes-rerun")
    data = root / "data" / CLIENT
    shutil.copytree(DEMO, data)
    params = yaml.safe_load(paths.params_file("demo").read_text(encoding="utf-8"))
    params["report"] = {"notebooks": ["01-revenue"]}
    (root / "params").mkdir()
    (root / "params" / f"{CLIENT}.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("PLAYBOOK_ROOT", str(root))
    mp.setenv("PLAYBOOK_REPORTS", str(root / "reports"))
    try:
        first = render_report(CLIENT, progress=False)
        before, _ = _exhibits(first)
        notes = {
            "status": "reviewed", "reviewer": "A. Partner", "date": "2026-10-01",
            "exhibits": {
                AMOUNT: {"generated": before[AMOUNT]["title"],
                         "title": "Customers kept {grr} of their revenue before expansion"},
                SHARES: {"generated": before[SHARES]["title"],
                         "title": "Three reasons explain most of the MRR lost to churn"},
                HIDDEN: {"hide": True},
            },
        }
        (root / "params" / f"{CLIENT}.notes.yaml").write_text(yaml.safe_dump(notes),
                                                              encoding="utf-8")
        for name, column in MONEY_COLUMNS.items():  # the client's corrected export
            frame = pd.read_csv(data / name, dtype=str, keep_default_na=False)
            amounts = pd.to_numeric(frame[column], errors="coerce")
            frame[column] = (amounts * 1.1).round().astype("Int64").astype(str).where(
                amounts.notna(), frame[column])
            frame.to_csv(data / name, index=False)
        with pytest.warns(NotesWarning) as caught:
            second = render_report(CLIENT, progress=False)
    finally:
        mp.undo()
    after, results = _exhibits(second)
    return before, after, results, second.html.read_text(encoding="utf-8"), \
        [str(w.message) for w in caught]


def test_the_edits_survive_the_rerun_with_changed_data(runs):
    before, after, results, page, _ = runs
    grr = results["01-revenue"]["findings"]["headline_metrics"]["grr"]
    shown = f"Customers kept {grr * 100:.1f}% of their revenue before expansion"
    assert after[AMOUNT]["title"] == shown == f"Customers kept {tf.pct(grr, 1)} of " \
                                              "their revenue before expansion"
    assert f'<h3 class="action-title">{shown}</h3>' in page
    assert after[SHARES]["title"] == "Three reasons explain most of the MRR lost to churn"
    assert HIDDEN in before and HIDDEN not in after
    assert f'data-exhibit-id="{HIDDEN}"' not in page
    numbers = [int(n) for n in re.findall(r'class="exhibit-no">(\d+)<', page)]
    assert numbers == list(range(1, len(before)))  # one fewer, no gap


def test_the_one_stale_edit_is_warned_about_by_name(runs):
    before, after, results, page, caught = runs
    # the premise: the amounts changed the one title and not the other
    assert after[AMOUNT]["generated_title"] != before[AMOUNT]["title"]
    assert after[SHARES]["generated_title"] == before[SHARES]["title"]
    stale = [w for w in caught if w.startswith("Stale edit")]
    assert len(stale) == 1 and AMOUNT in stale[0]
    assert before[AMOUNT]["title"] in stale[0] and after[AMOUNT]["generated_title"] in stale[0]
    assert results["notes"]["warnings"] == caught
    assert [(e["id"], e["stale"]) for e in results["notes"]["edited"]] == [
        (AMOUNT, True), (SHARES, False)]
    # listed for the consultant in the appendix-style list (no appendix notebook here)
    assert "Edited by the consultant" in page and "(stale)" in page


def test_the_bridge_quoting_the_trailing_grr_is_warned_about(runs):
    # the bridge shows the quarter's movements; the trailing 12-month GRR its edited title
    # quotes is in the retention trend's title, not in the bridge's own text
    *_, results, _, caught = runs
    grr = tf.pct(results["01-revenue"]["findings"]["headline_metrics"]["grr"], 1)
    quoted = [w for w in caught if "does not show" in w]
    assert len(quoted) == 1 and quoted[0].startswith(f"exhibit {AMOUNT}:")
    assert f"{{grr}} ({grr})" in quoted[0]
    assert "exhibit revenue.retention_trend shows it" in quoted[0]


def test_the_signoff_is_shown(runs):
    *_, results, page, _ = runs
    assert results["notes"]["signoff"] == "Reviewed by A. Partner on 1 Oct 2026"
    assert "Reviewed by A. Partner on 1 Oct 2026" in page
    assert 'class="cover-draft"' not in page
