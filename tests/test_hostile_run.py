"""Hostile runs: a full disk, demo data that must not be overwritten, terminal escapes from
client files, and a report whose renewal model falls back to its penalised fit.

A full disk is simulated: the write of one named file (through ``open``, pandas or
``shutil.copyfile``) writes part of its bytes, then fails with ``ENOSPC``, as a real full
disk does. Every such run must end in one message (exit code 2, no traceback) that says
what could not be written and where, the space free, and what to do; and leave nothing
half written: no partial file, no temporary file, the previous report and files untouched.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from test_broken_clients import Client, base_frames, csv, report_client, write

from playbook import cache, paths
from playbook.cli import main

ROOT = paths.PACKAGE_DIR.parent
ENOSPC = OSError(errno.ENOSPC, "No space left on device")




def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too) with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    """Temporary, staging and backup files or folders a failed write may leave."""
    marks = (".tmp-", ".staging-", ".previous-", ".generating-")
    return [str(p.relative_to(folder)) for p in folder.rglob("*")
            if any(m in p.name for m in marks)]


# --------------------------------------------------------------------------- a full disk


class _FillingFile:
    """A file object whose writes stop after ``room`` bytes with ENOSPC (a disk filling up)."""

    def __init__(self, handle, room: int) -> None:
        self._handle, self._room = handle, room

    def write(self, data):
        if len(data) > self._room:
            self._handle.write(data[: self._room])
            self._handle.flush()
            self._room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._handle.write(data)

    def __getattr__(self, name: str):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()

    def __iter__(self):
        return iter(self._handle)


def full_disk(monkeypatch: pytest.MonkeyPatch, hit: Callable[[Path], bool],
              room: int = 200) -> None:
    """Make every file opened for writing whose path satisfies ``hit`` fail with ENOSPC
    after ``room`` bytes (``open`` and ``io.open``: pathlib, zipfile and the json module
    all write through them)."""
    real = io.open

    def fake_open(file, mode="r", *args, **kwargs):
        handle = real(file, mode, *args, **kwargs)
        writing = any(m in mode for m in "wax+")
        if writing and not isinstance(file, int) and hit(Path(os.fsdecode(file))):
            return _FillingFile(handle, room)
        return handle

    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(builtins, "open", fake_open)


def assert_one_clear_message(result, *phrases: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "the disk is full" in result.output and "free on that disk" in result.output
    assert "How to fix: Free space on the disk" in result.output
    for phrase in phrases:
        assert phrase in result.output, result.output


def previous_report(root: Path, client: str = "t") -> Path:
    """A published report of ``client`` for 2024-Q1 that a failed run must not touch."""
    folder = root / "reports" / client / "2024-Q1"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<p>the previous report</p>", encoding="utf-8")
    (folder / "report.pdf").write_bytes(b"%PDF-previous")
    (folder / "results.json").write_text('{"previous": true}', encoding="utf-8")
    return folder


FAILING_NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "p",
         "metadata": {"tags": ["parameters"]}, "outputs": [],
         "source": 'client: str = "t"  # client\nperiod: str = ""  # period\n'
                   'as_of: str = ""  # as of\nrun_dir: str = ""  # run folder'},
        {"cell_type": "code", "execution_count": None, "id": "f", "metadata": {},
         "outputs": [], "source": "print('x' * 5000)\nraise ValueError('boom')"},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


def test_a_full_disk_while_caching_the_data_stops_cleanly(root, monkeypatch):
    report_client(root, "t", ["90-data-quality"])
    before = snapshot(previous_report(root))

    def filling(frame, path):
        Path(path).write_bytes(b"ARROW1" + b"\0" * 100)  # part of the file, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    # (the loading child is a fork of this process: it writes through the patched function)
    monkeypatch.setattr(cache, "write_table", filling)
    result = CliRunner().invoke(main, ["report", "t", "--quiet"])
    assert_one_clear_message(result, "Could not write the run's data cache",
                             "the previous report is untouched")
    assert snapshot(root / "reports" / "t" / "2024-Q1") == before
    assert leftovers(root / "reports") == []


def test_a_full_disk_while_keeping_a_failed_notebook_leaves_no_partial_copy(root, monkeypatch):
    report_client(root, "t", ["zz-fail"])
    (root / "notebooks" / "zz-fail.ipynb").write_text(json.dumps(FAILING_NOTEBOOK))
    monkeypatch.setenv("PLAYBOOK_NOTEBOOK_JOBS", "1")  # the copy is made in this process
    before = snapshot(previous_report(root))
    real = shutil.copyfile

    def filling(src, dst, *args, **kwargs):
        if "_failed" not in str(dst):
            return real(src, dst, *args, **kwargs)
        Path(dst).write_bytes(Path(src).read_bytes()[:300])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", filling)
    result = CliRunner().invoke(main, ["report", "t", "--quiet"])
    assert_one_clear_message(result, "Notebook zz-fail.ipynb failed in cell 2: ValueError: boom",
                             "could not be kept: Could not write the partly executed notebook")
    failed = root / "reports" / "t" / "_failed"
    assert not failed.exists() or [p for p in failed.rglob("*")] == []
    assert snapshot(root / "reports" / "t" / "2024-Q1") == before
    assert leftovers(root / "reports") == []


def test_a_full_disk_while_writing_the_report_stops_cleanly(root, monkeypatch):
    report_client(root, "t", ["90-data-quality"])
    before = snapshot(previous_report(root))
    full_disk(monkeypatch, lambda p: p.name == "report.html" and ".staging-" in str(p))
    result = CliRunner().invoke(main, ["report", "t", "--quiet"])
    assert_one_clear_message(result, "Could not write the new report to",
                             "the previous report (if any) is untouched")
    assert snapshot(root / "reports" / "t" / "2024-Q1") == before
    assert leftovers(root / "reports") == []


# (a workbook's ZipFile left open by the failed save tries again when it is collected)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("case", ["params", "contract-doc", "data-request-html",
                                  "data-request-xlsx"])
def test_a_full_disk_leaves_every_other_written_file_whole(root, monkeypatch, case):
    """The scaffold's params file, the contract doc and the data request: the previous file
    stays whole, nothing half written is left, and the message says what and where."""
    write(root, Client.base())
    folder = root / "reports" / "t" / "data-request"
    target, args, what = {
        "params": (root / "params" / "t.yaml", ["client", "t", "--force"],
                   "Could not write the params file to"),
        "contract-doc": (root / "contract.md", ["contract-doc", "--out",
                                                str(root / "contract.md")],
                         "Could not write the data-contract documentation to"),
        "data-request-html": (folder / "data-request-t.html",
                              ["data-request", "t", "--no-pdf"],
                              "Could not write the data request (HTML) to"),
        "data-request-xlsx": (folder / "data-request-t.xlsx",
                              ["data-request", "t", "--no-pdf"],
                              "Could not write the data-request workbook to"),
    }[case]
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = target.read_bytes() if target.exists() else b"the previous version\n"
    target.write_bytes(previous)
    full_disk(monkeypatch, lambda p: target.name in p.name)
    result = CliRunner().invoke(main, args)
    assert_one_clear_message(result, what)
    assert target.read_bytes() == previous
    assert leftovers(target.parent) == []


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_the_portfolio_page_is_replaced_whole_or_not_at_all(root, monkeypatch):
    from playbook.errors import StorageError
    from playbook.portfolio import write_index

    page = root / "reports" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text("<p>previous portfolio</p>", encoding="utf-8")
    full_disk(monkeypatch, lambda p: "index.html" in p.name, room=10)
    with pytest.raises(StorageError, match="Could not write the portfolio page to .*disk is full"):
        write_index(["a", "b"])
    assert page.read_text(encoding="utf-8") == "<p>previous portfolio</p>"
    assert leftovers(page.parent) == []


# --------------------------------------------------------------------------- demo data


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def demo(*args: str):
    return CliRunner().invoke(main, ["demo", "--accounts", "60", *args])


def test_demo_never_writes_into_a_client_folder(root):
    write(root, Client.base())
    client = root / "data" / "t"
    before = snapshot(client)
    for force in ([], ["--force"]):
        result = demo("--out", str(client), *force)
        assert result.exit_code == 2, result.output
        assert "Refusing to write the demo data into" in result.output
        assert "--force does not change this" in result.output
        assert "Traceback" not in result.output
        assert snapshot(client) == before


def test_demo_writes_a_new_or_empty_folder_and_records_every_checksum(root):
    empty = root / "elsewhere"
    empty.mkdir()
    for folder in (root / "new" / "demo", empty):
        result = demo("--out", str(folder))
        assert result.exit_code == 0, result.output
        marker = json.loads((folder / ".generated").read_text())
        files = sorted(p.name for p in folder.iterdir() if p.name != ".generated")
        assert sorted(marker["files"]) == files and len(files) == 13  # 11 + outcomes, triggers
        assert all(marker["files"][n] == sha256(folder / n) for n in files)
        assert marker["settings"]["seed"] == 20260930 and marker["settings"]["n_accounts"] == 60


def test_edited_demo_data_is_never_regenerated_without_force(root):
    folder = root / "data" / "demo"
    assert demo().exit_code == 0
    (folder / "accounts.csv").write_text("my edit\n")
    for args in ([], ["--seed", "7"]):
        result = demo(*args)
        assert result.exit_code == 2, result.output
        assert "Refusing to regenerate the demo data" in result.output
        assert "changed since they were generated" in result.output
        assert "accounts.csv" in result.output and "--force" in result.output
        assert (folder / "accounts.csv").read_text() == "my edit\n"
    kept = demo("--seed", "7", "--keep-edited")  # what make runs: say so, go on
    assert kept.exit_code == 0 and "Kept the demo data" in kept.output
    assert (folder / "accounts.csv").read_text() == "my edit\n"
    forced = demo("--seed", "7", "--force")
    assert forced.exit_code == 0, forced.output
    marker = json.loads((folder / ".generated").read_text())
    assert marker["settings"]["seed"] == 7
    assert marker["files"]["accounts.csv"] == sha256(folder / "accounts.csv")
    assert (folder / "accounts.csv").read_text() != "my edit\n"


def test_a_file_the_generator_did_not_write_blocks_regeneration(root):
    folder = root / "data" / "demo"
    assert demo().exit_code == 0
    (folder / "notes.txt").write_text("mine")
    result = demo("--seed", "7")
    assert result.exit_code == 2 and "did not write: notes.txt" in result.output
    assert json.loads((folder / ".generated").read_text())["settings"]["seed"] == 20260930
    assert demo("--seed", "7", "--force").exit_code == 0
    assert (folder / "notes.txt").read_text() == "mine"  # --force leaves it alone


def test_unedited_demo_data_is_skipped_or_regenerated(root):
    folder = root / "data" / "demo"
    assert demo().exit_code == 0
    stamps = {p.name: p.stat().st_mtime_ns for p in folder.iterdir() if p.name != ".generated"}
    again = demo()
    assert again.exit_code == 0 and "skipped" in again.output
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()
            if p.name != ".generated"} == stamps
    other = demo("--seed", "7")  # unedited: another seed needs no --force
    assert other.exit_code == 0 and "Wrote 13 demo files" in other.output
    assert json.loads((folder / ".generated").read_text())["settings"]["seed"] == 7


def test_demo_data_without_checksums_is_taken_over_only_when_identical(root):
    from playbook.demo import generate_demo

    folder = root / "data" / "demo"
    generate_demo(folder, n_accounts=60)
    (folder / ".generated").write_text("seed=20260930 accounts=60\n")  # the older marker
    result = demo()
    assert result.exit_code == 0, result.output
    assert json.loads((folder / ".generated").read_text())["format"] == 1
    (folder / ".generated").write_text("seed=20260930 accounts=60\n")
    (folder / "renewals.csv").write_text("edited\n")
    refused = demo()
    assert refused.exit_code == 2 and "renewals.csv" in refused.output
    assert (folder / "renewals.csv").read_text() == "edited\n"


def test_a_full_disk_while_generating_demo_data_keeps_the_previous_files(root, monkeypatch):
    folder = root / "data" / "demo"
    assert demo().exit_code == 0
    before = snapshot(folder)

    def filling(self, path, *args, **kwargs):
        Path(path).write_text("Account ID,partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", filling)
    result = demo("--seed", "7")
    assert_one_clear_message(result, "Could not write the demo data to")
    assert snapshot(folder) == before
    assert leftovers(root) == []


def test_make_regenerates_demo_data_only_when_missing_or_the_generator_changed(tmp_path):
    """Not because the virtual environment's stamp is newer (make -n: what would run)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    for name in ("requirements.txt", "pyproject.toml", "playbook/demo/generate.py",
                 ".venv/.installed", "data/demo/.generated"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    now = time.time()

    def age(name: str, minutes: float) -> None:
        os.utime(tmp_path / name, (now - 60 * minutes, now - 60 * minutes))

    def would_run() -> str:
        done = subprocess.run(["make", "-n", "data/demo/.generated"], cwd=tmp_path,
                              capture_output=True, text=True, check=True)
        return done.stdout

    for name in ("requirements.txt", "pyproject.toml"):
        age(name, 50)
    age("playbook/demo/generate.py", 40)
    age("data/demo/.generated", 30)
    age(".venv/.installed", 1)  # the venv was just rebuilt: newer than the demo data
    assert "playbook.cli demo" not in would_run()
    age("playbook/demo/generate.py", 10)  # the generator changed
    assert "playbook.cli demo --keep-edited" in would_run()
    assert "--force" not in would_run()
    (tmp_path / "data/demo/.generated").unlink()  # the data is missing
    assert "playbook.cli demo" in would_run()


# --------------------------------------------------------------------------- terminal


HOSTILE = ("\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x1b]8;;http://x\x07link\x1b]8;;\x07 "
           "back\x08\x08 cr\rX \x9b31m nel\x85 rlo\u202eevil")
#: (the loader reads a header up to the first line end: \r and NEL end it)
HEADER_SAFE_HOSTILE = HOSTILE.replace("\r", "").replace("\x85", "")
CONTROLS = ["\x1b", "\x07", "\x08", "\r", "\x9b", "\x85", "\u202e"]


def hostile_client() -> Client:
    def poison(frame: pd.DataFrame) -> pd.DataFrame:
        frame["Industry"] = "Retail" + HOSTILE
        frame["Account Name"] = frame["Account Name"] + HOSTILE
        frame["Notes" + HEADER_SAFE_HOSTILE] = "x"
        return frame

    frames = base_frames()
    frames["accounts"] = poison(frames["accounts"])
    client = Client.base(**frames)
    client.files["accounts.csv"] = csv(frames["accounts"], quoting=1)  # QUOTE_ALL: \r in fields
    return client


def assert_no_controls(text: str) -> None:
    found = [repr(c) for c in CONTROLS if c in text]
    assert not found, f"raw control characters printed: {found}"


def test_check_shows_control_characters_from_the_data_escaped(root):
    write(root, hostile_client())
    result = CliRunner().invoke(main, ["check", "t"])
    assert result.exit_code == 0, result.output
    assert_no_controls(result.output)
    assert "Notes\\x1b[31mred" in result.output  # a visible substitute, not nothing


def test_an_error_message_shows_control_characters_escaped(root):
    client = hostile_client()
    client.params["tables"]["accounts"]["columns"]["start_date"] = "Since" + HOSTILE
    write(root, client)
    result = CliRunner().invoke(main, ["check", "t"])
    assert result.exit_code == 2, result.output
    assert_no_controls(result.output)
    assert "Since\\x1b[31mred" in result.output and "Traceback" not in result.output


def test_render_progress_lines_show_control_characters_escaped(capsys):
    from playbook.render_execute import Reporter

    Reporter(True).say(f"[1/1] {HOSTILE}.ipynb done")
    err = capsys.readouterr().err
    assert_no_controls(err)
    assert "\\x1b]0;pwned\\x07" in err and "\\r" in err and "\\u202e" in err


def test_safe_keeps_lines_and_tabs_and_escapes_every_other_control():
    from playbook.terminal import safe

    controls = "".join(chr(c) for c in [*range(0x20), 0x7f, *range(0x80, 0xa0)]
                       if chr(c) not in "\n\t")
    shown = safe(f"a\tb\n{controls}\u2066\u2069")
    assert shown.startswith("a\tb\n")
    assert all(ord(c) >= 0x20 and not 0x7f <= ord(c) < 0xa0 for c in shown[4:])
    assert "\u2066" not in shown and "\\u2066" in shown


# --------------------------------------------------------------------------- appendix


def separated_client(root: Path) -> None:
    """A demo-like client whose Enterprise accounts always renew: the renewal model's
    segment term separates the outcome perfectly, so it falls back to its penalised fit."""
    from playbook.demo import generate_demo

    folder = root / "data" / "sep"
    generate_demo(folder, n_accounts=300)
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False)
    renewals = pd.read_csv(folder / "renewals.csv", dtype=str, keep_default_na=False)
    enterprise = renewals["Account ID"].map(accounts.set_index("Account ID")["Segment"]) \
        == "Enterprise"
    renewals.loc[enterprise, "Outcome"] = "Renewed"
    renewals.loc[enterprise, "ARR After (USD)"] = renewals.loc[enterprise, "ARR Before (USD)"]
    renewals.to_csv(folder / "renewals.csv", index=False)
    params = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text(encoding="utf-8"))
    params["client"]["name"] = "Separated Co"
    params["report"] = {"notebooks": ["02-renewal-drivers", "95-appendix"]}
    (root / "params").mkdir(exist_ok=True)
    (root / "params" / "sep.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


class _Text(HTMLParser):
    """The visible text of an HTML document, and the rows of its tables."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.rows: list[list[str]] = []
        self._hidden = 0
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("style", "script"):
            self._hidden += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.rows[-1].append("")
            self._in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script"):
            self._hidden -= 1
        elif tag in ("td", "th", "tr", "table"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.parts.append(data)
        if self._in_cell:
            self.rows[-1][-1] += data.strip()


def test_a_penalised_renewal_model_renders_the_appendix_with_absent_figures(root):
    separated_client(root)
    result = CliRunner().invoke(main, ["report", "sep", "--quiet"])
    assert result.exit_code == 0, result.output
    results = json.loads((root / "reports" / "sep" / "2026-Q3" / "results.json").read_text())
    assert results["02-renewal-drivers"]["findings"]["model"]["method"] == "l1"
    page = _Text()
    page.feed((root / "reports" / "sep" / "2026-Q3" / "report.html").read_text())
    text = " ".join(" ".join(page.parts).split())
    header = ["driver", "odds ratio", "95% interval", "log-odds", "std. error", "p"]
    start = page.rows.index(header)
    body = []
    for row in page.rows[start + 1:]:
        if len(row) != len(header):
            break
        body.append(dict(zip(header, row, strict=True)))
    assert body and any(r["driver"].startswith("Segment: Enterprise") for r in body)
    for row in body:
        assert row["95% interval"] == row["std. error"] == row["p"] == "–", row
        assert float(row["odds ratio"]) > 0 and row["log-odds"] not in ("", "–")
    assert "Logistic regression (penalised L1 fit)" in text
    assert "fitted with a penalty (L1)" in text and "no standard errors, intervals or p-values" \
        in text
    for word in ("None", "nan", "NaN"):
        assert f" {word} " not in f" {text} ".replace(".", " ").replace(",", " "), word
