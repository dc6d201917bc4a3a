"""Client data never enters git (developers' guide): a client's files and params, the run's
outputs and any data-cache entry, wherever a mistyped folder put it (a cache entry of the
bench client was once committed under ``1/``), are ignored; the demo's shipped params are
not."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

IGNORED = ["data/acme/accounts.csv", "params/acme.yaml", "reports/acme/2026-Q3/report.pdf",
           "bench/out/root/data/bench-1000/mrr.csv", "1/22d58cf8/accounts.parquet",
           "1/22d58cf8/meta.pickle", "cache/abc/usage.arrow", "notebooks/x/shared/model.pickle"]
KEPT = ["params/demo.yaml", "params/churnsim.yaml", "data/README.md", "playbook/cache.py"]


def ignored(paths: list[str]) -> set[str]:
    done = subprocess.run(["git", "check-ignore", "--no-index", *paths], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return set(done.stdout.split())


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="needs a git checkout")
def test_client_data_and_run_caches_are_ignored_shipped_files_are_not():
    assert ignored(IGNORED) == set(IGNORED)
    assert ignored(KEPT) == set()
