"""The committed data-contract document is the one generated from playbook/contract.py."""

from playbook import paths
from playbook.contract import TABLES
from playbook.contract_doc import contract_markdown


def test_committed_contract_doc_is_current():
    committed = (paths.PACKAGE_DIR.parent / "docs" / "data-contract.md").read_text()
    assert committed == contract_markdown(), "run `make contract-doc` and commit the result"


def test_every_table_and_column_is_documented():
    text = contract_markdown()
    for name, spec in TABLES.items():
        assert f"## `{name}` ({'required' if spec.required else 'optional'})" in text
        for col in spec.columns:
            assert f"| `{col.name}` |" in text
