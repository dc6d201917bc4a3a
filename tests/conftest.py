"""Shared fixtures: a throw-away project root with one small client written by the test."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from playbook import paths
from playbook.config import load_params
from playbook.demo import generate_demo
from playbook.loader import load_client

ACCOUNTS_CSV = """\
Account ID,Account Name,Industry,Customer Since,ARR (USD),Status,Owner
A1,Alpha,Retail,2024-01-15,12000,Active,Kim
A2,Beta,Retail,2024-02-01,24000,Churned,Kim
A3,Gamma,Health,2024-03-10,6000,Active,Lee
"""

MRR_CSV = """\
account_id,month,mrr
A1,2024-01-01,1000
A1,2024-02-01,1000
A2,2024-02-01,2000
A2,2024-03-01,2000
A3,2024-03-01,500
"""

BASE_PARAMS = {
    "client": {"name": "Test Co"},
    "period": {"period": "2024-Q1"},
    "tables": {
        "accounts": {
            "file": "accounts.csv",
            "columns": {"account_id": "Account ID", "name": "Account Name",
                        "start_date": "Customer Since", "arr": "ARR (USD)", "owner": "Owner",
                        "status": "Status"},
            "codes": {"status": {"Active": "active", "Churned": "churned"}},
        },
        "mrr": {"file": "mrr.csv"},
    },
}


class ClientFactory:
    """Writes ``data/<client>/`` files and ``params/<client>.yaml`` under a temporary root."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, client: str = "t", files: dict[str, str | bytes] | None = None,
              params: dict | None = None, params_text: str | None = None) -> str:
        data = self.root / "data" / client
        data.mkdir(parents=True, exist_ok=True)
        for name, content in (files if files is not None else
                              {"accounts.csv": ACCOUNTS_CSV, "mrr.csv": MRR_CSV}).items():
            target = data / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(textwrap.dedent(content), encoding="utf-8")
        (self.root / "params").mkdir(exist_ok=True)
        text = params_text if params_text is not None else yaml.safe_dump(
            params if params is not None else BASE_PARAMS, sort_keys=False)
        (self.root / "params" / f"{client}.yaml").write_text(text, encoding="utf-8")
        return client


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away project root (params/, data/, reports/ under ``tmp_path``)."""
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path / "reports"))
    return tmp_path


@pytest.fixture
def client_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClientFactory:
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path / "reports"))
    return ClientFactory(tmp_path)


@pytest.fixture(scope="session")
def small_demo_run(tmp_path_factory: pytest.TempPathFactory):
    """A small demo client (300 accounts) as a run loads it: its params and validated
    tables (``ClientData``), generated and loaded once for every module that needs a real
    client. Shared: read it, never change its tables in place."""
    root = tmp_path_factory.mktemp("small-demo")
    generate_demo(root / "data" / "demo", n_accounts=300)
    (root / "params").mkdir()
    (root / "params" / "demo.yaml").write_bytes(paths.params_file("demo").read_bytes())
    mp = pytest.MonkeyPatch()
    mp.setenv("PLAYBOOK_ROOT", str(root))
    try:
        params = load_params("demo")
        data = load_client(params)
    finally:
        mp.undo()
    return params, data


@pytest.fixture(scope="module")
def demo_context():
    """The demo client's analysis context (``data/demo``, the full demo), built once per
    module that compares an analysis with its previous implementation on real data. Read
    it, never change its tables in place."""
    from playbook.context import AnalysisContext

    params = load_params("demo")
    data = load_client(params)
    return AnalysisContext(params, data.tables)
