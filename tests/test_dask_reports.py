"""make reports DASK=...: each client's report as a task on a Dask cluster gives the same
results as the local path (results.json byte-identical once meta.generated_at is removed:
it is the minute the report was made)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from playbook import portfolio

FIXTURES = Path(__file__).parent / "fixtures" / "render"


def results_without_timestamp(reports: Path, client: str) -> bytes:
    (file,) = (reports / client).glob("*/results.json")
    data = json.loads(file.read_text(encoding="utf-8"))
    del data["meta"]["generated_at"]
    return json.dumps(data, indent=2, ensure_ascii=False).encode()


def test_dask_cluster_gives_the_same_results_as_local_processes(client_factory, monkeypatch,
                                                                tmp_path):
    distributed = pytest.importorskip("distributed")
    (tmp_path / "notebooks").mkdir()
    for name in ("01-alpha", "02-beta"):
        shutil.copy(FIXTURES / f"{name}.ipynb", tmp_path / "notebooks" / f"{name}.ipynb")
    for client in ("acme", "beta"):
        client_factory.write(client=client)
        file = tmp_path / "params" / f"{client}.yaml"
        params = yaml.safe_load(file.read_text())
        params["report"] = {"notebooks": ["01-alpha", "02-beta"]}
        file.write_text(yaml.safe_dump(params))
    clients = ["acme", "beta"]
    monkeypatch.setenv("PLAYBOOK_NOTEBOOK_JOBS", "1")  # two reports at once already

    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path / "local"))
    local = portfolio.run_reports(clients, workers=2)
    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path / "dask"))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = portfolio.run_reports(clients, scheduler=cluster.scheduler_address)

    assert [(r.client, r.ok) for r in local] == [(r.client, r.ok) for r in remote] == [
        ("acme", True), ("beta", True)]
    for client in clients:
        assert (results_without_timestamp(tmp_path / "local", client)
                == results_without_timestamp(tmp_path / "dask", client))
    assert all(str(tmp_path / "dask") in r.message for r in remote)
