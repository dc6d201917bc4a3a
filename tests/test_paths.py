"""Paths derived from the project root, and a relative root made absolute for kernels."""

from __future__ import annotations

import os

from playbook import paths


def test_a_relative_root_is_made_absolute_before_kernels_start(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PLAYBOOK_ROOT", "bench/out/root")
    monkeypatch.setenv("PLAYBOOK_REPORTS", "out/reports")
    paths.make_environment_absolute()
    assert os.environ["PLAYBOOK_ROOT"] == str(tmp_path / "bench" / "out" / "root")
    assert os.environ["PLAYBOOK_REPORTS"] == str(tmp_path / "out" / "reports")
    monkeypatch.chdir(tmp_path / "..")           # as a kernel in another folder sees it
    assert paths.params_file("acme") == tmp_path / "bench/out/root/params/acme.yaml"
    assert paths.reports_dir() == tmp_path / "out" / "reports"


def test_an_unset_root_stays_unset(monkeypatch):
    monkeypatch.delenv("PLAYBOOK_ROOT", raising=False)
    monkeypatch.delenv("PLAYBOOK_REPORTS", raising=False)
    paths.make_environment_absolute()
    assert "PLAYBOOK_ROOT" not in os.environ and "PLAYBOOK_REPORTS" not in os.environ
