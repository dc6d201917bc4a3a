"""Paths derived from the project root; a relative root is given to kernels as an absolute
path, and a Dask worker's folders are set without touching its environment."""

from __future__ import annotations

import os

from playbook import paths


def test_a_relative_root_is_made_absolute_for_kernels(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_ROOT", "bench/out/root")
    monkeypatch.setenv("PLAYBOOK_REPORTS", "out/reports")
    env = paths.root_environment()
    assert env["PLAYBOOK_ROOT"] == str(tmp_path / "bench" / "out" / "root")
    assert env["PLAYBOOK_REPORTS"] == str(tmp_path / "out" / "reports")
    assert os.environ["PLAYBOOK_ROOT"] == "bench/out/root"  # this process's: left alone
    monkeypatch.setattr(os, "environ", {**os.environ, **env})
    monkeypatch.chdir(tmp_path / "..")           # as a kernel in another folder sees it
    assert paths.params_file("acme") == tmp_path / "bench/out/root/params/acme.yaml"
    assert paths.reports_dir() == tmp_path / "out" / "reports"


def test_an_unset_root_stays_unset(monkeypatch):
    monkeypatch.delenv("PLAYBOOK_ROOT", raising=False)
    monkeypatch.delenv("PLAYBOOK_REPORTS", raising=False)
    assert paths.root_environment() == {}
    assert "PLAYBOOK_ROOT" not in os.environ and "PLAYBOOK_REPORTS" not in os.environ


def test_project_folders_hold_for_the_calls_inside_only(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path / "here"))
    monkeypatch.delenv("PLAYBOOK_REPORTS", raising=False)
    with paths.project_folders(tmp_path / "there", tmp_path / "out"):
        assert paths.project_root() == tmp_path / "there"
        assert paths.report_dir("acme", "2026-Q3") == tmp_path / "out" / "acme" / "2026-Q3"
        assert paths.root_environment() == {"PLAYBOOK_ROOT": str(tmp_path / "there"),
                                            "PLAYBOOK_REPORTS": str(tmp_path / "out")}
        assert os.environ["PLAYBOOK_ROOT"] == str(tmp_path / "here")
    assert paths.project_root() == tmp_path / "here"
    assert paths.reports_dir() == tmp_path / "here" / "reports"
