"""The account workbook left by the plan's notebook and written by the render step beside the
PDF (playbook.workbook_pending, issue 22): the same files as the notebook writing them
itself, published with the report by another process, and a workbook that fails fails the
run and keeps the previous report."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from playbook import render, workbook_pending
from playbook import workbook as wb
from playbook.errors import RenderError
from playbook.kernels import KernelWorkers
from playbook.render_manifest import ReportMeta
from playbook.render_publish import CSV_NAME, XLSX_NAME
from tests.test_findings_account_plan import where_to_act_notebook
from tests.test_sheet_rows import same_bytes_but_creation_time
from tests.test_workbook import AS_OF, plan

PARAMS = {"client": "acme", "period": "2026-Q3", "as_of": "2026-09-30"}


def meta() -> ReportMeta:
    return ReportMeta(client="acme", client_name="Acme", period_label="2026-Q3",
                      as_of="2026-09-30", title="t", version="v1", paper="A4",
                      confidential=False)


def test_the_deferred_workbook_is_the_one_written_directly(tmp_path):
    direct, deferred = tmp_path / "direct", tmp_path / "deferred"
    direct.mkdir()
    deferred.mkdir()
    settings = {"currency": "EUR", "as_of": AS_OF, "title": "=Acme",
                "owner_sheets_max_accounts": 5}
    wb.write_workbook(plan(), direct / XLSX_NAME, direct / CSV_NAME, **settings)
    left = workbook_pending.defer_workbook(plan(), deferred, **settings)
    assert left.is_file() and not (deferred / XLSX_NAME).exists()
    assert workbook_pending.has_deferred(deferred)
    seconds = workbook_pending.write_deferred(deferred)
    assert seconds is not None and seconds >= 0
    assert not left.exists() and not workbook_pending.has_deferred(deferred)
    assert sorted(p.name for p in deferred.iterdir()) == [CSV_NAME, XLSX_NAME]
    assert (deferred / CSV_NAME).read_bytes() == (direct / CSV_NAME).read_bytes()
    same_bytes_but_creation_time(deferred / XLSX_NAME, direct / XLSX_NAME)


def test_nothing_left_writes_nothing(tmp_path):
    assert workbook_pending.write_deferred(tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_a_plan_without_the_workbook_s_columns_fails_in_the_notebook(tmp_path):
    with pytest.raises(ValueError, match="lacks column"):
        workbook_pending.defer_workbook(plan().drop(columns=["owner"]), tmp_path,
                                        currency="USD", as_of=AS_OF, title="t")
    assert list(tmp_path.iterdir()) == []


def deferring_notebook(folder: Path, title: str) -> Path:
    """A notebook that leaves the test plan for the workbook, as 05-account-plan does."""
    plan().to_pickle(folder / "plan.pickle")
    return where_to_act_notebook(folder / "05-deferring.ipynb", (
        "from pathlib import Path\nimport pandas as pd\n"
        "from playbook import workbook_pending\n"
        f"plan = pd.read_pickle({str(folder / 'plan.pickle')!r})\n"
        "workbook_pending.defer_workbook(plan, Path(run_dir), currency='USD', "
        f"as_of='2026-09-30', title={title!r})"))


def test_the_render_step_writes_it_in_another_process_and_publishes_it(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    real = wb.write_workbook

    def writing(*args, **kwargs):
        with pids.open("a") as fh:
            fh.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(wb, "write_workbook", writing)
    out = tmp_path / "reports" / "acme" / "2026-Q3"
    paths = render.render_notebooks([deferring_notebook(tmp_path, "Acme")], PARAMS, out,
                                    meta(), progress=False)
    assert int(pids.read_text()) != os.getpid()  # the forked child wrote it
    assert (out / XLSX_NAME).is_file() and (out / CSV_NAME).is_file()
    assert not any(p.name == workbook_pending.PENDING_NAME for p in out.rglob("*"))
    expected = tmp_path / "expected"
    expected.mkdir()
    wb.write_workbook(plan(), expected / XLSX_NAME, expected / CSV_NAME,
                      currency="USD", as_of="2026-09-30", title="Acme")
    assert (out / CSV_NAME).read_bytes() == (expected / CSV_NAME).read_bytes()
    manifest = json.loads(paths.manifest.read_text())
    assert {XLSX_NAME, CSV_NAME} <= {o["name"] for o in manifest["outputs"]}
    assert manifest["run"]["seconds"]["workbook"] >= 0


def test_the_workbook_is_written_while_the_other_notebooks_still_run(tmp_path):
    """With the kernels in worker processes, the workbook's child starts as soon as the
    plan's notebook is done (a core the last notebooks leave idle writes it), not once
    every notebook ran: a notebook running beside it sees the files appear."""
    waiting = where_to_act_notebook(tmp_path / "06-waiting.ipynb", (
        "import time\nfrom pathlib import Path\n"
        f"done = Path(run_dir) / {CSV_NAME!r}\n"
        "deadline = time.monotonic() + 60\n"
        "while not done.exists() and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n"
        "(Path(run_dir) / 'seen.txt').write_text(str(done.exists()))"))
    out = tmp_path / "reports" / "acme" / "2026-Q3"
    with KernelWorkers(2) as workers:
        assert not workers.in_this_process
        render.render_notebooks([deferring_notebook(tmp_path, "Acme"), waiting], PARAMS,
                                out, meta(), progress=False, workers=workers)
    assert (out / "seen.txt").read_text() == "True"
    expected = tmp_path / "expected"
    expected.mkdir()
    wb.write_workbook(plan(), expected / XLSX_NAME, expected / CSV_NAME,
                      currency="USD", as_of="2026-09-30", title="Acme")
    assert (out / CSV_NAME).read_bytes() == (expected / CSV_NAME).read_bytes()
    assert not any(p.name == workbook_pending.PENDING_NAME for p in out.rglob("*"))


def test_a_workbook_that_fails_fails_the_run_and_keeps_the_previous_report(tmp_path,
                                                                          monkeypatch):
    out = tmp_path / "reports" / "acme" / "2026-Q3"
    out.mkdir(parents=True)
    (out / "report.pdf").write_bytes(b"%PDF-previous")

    def broken(*_args, **_kwargs):
        raise RenderError("the disk refused the workbook", fix="free some space")

    monkeypatch.setattr(wb, "write_workbook", broken)
    with pytest.raises(RenderError, match="refused the workbook"):
        render.render_notebooks([deferring_notebook(tmp_path, "Acme")], PARAMS, out, meta(),
                                progress=False)
    assert [p.name for p in out.iterdir()] == ["report.pdf"]
    assert (out / "report.pdf").read_bytes() == b"%PDF-previous"
    assert sorted(p.name for p in out.parent.iterdir()) == ["2026-Q3"]
