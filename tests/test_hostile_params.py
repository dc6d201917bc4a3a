"""Hostile YAML and hostile text on its way into YAML (issue 15, classes 2, 5 and 6).

* ``make client`` writes client text (headers, cell values, file and sheet names) into
  ``params/<client>.yaml`` only as quoted values or one-line comments: no header can end a
  comment and start a key of its own.
* Every YAML file the playbook reads goes through :mod:`playbook.yamlsafe`: a key written
  twice, aliases that multiply ("billion laughs"), nesting deeper than the limit and a file
  larger than the limit are each one clear :class:`ParamsError` naming the file, never a
  silent choice, a hang or a ``RecursionError``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from playbook import paths
from playbook.cli import main
from playbook.config import Params, load_params
from playbook.config_tables import TableParams
from playbook.errors import ParamsError

INJECTED = "report: {title: PWNED}"

#: Text that would end a YAML comment or value and start a key, or that YAML cannot hold raw.
HOSTILE = [
    "Notes\nreport:\n  title: PWNED\n#",
    f"Notes\r{INJECTED}",
    f"Notes\r\n{INJECTED}",
    f"Notes\x85{INJECTED}",  # NEL: a line break to YAML 1.1
    f"Notes\u2028{INJECTED}",  # line separator
    f"Notes\u2029{INJECTED}",  # paragraph separator
    f"Notes\n---\n{INJECTED}",  # a second document
    f"Notes\n...\n{INJECTED}",
    "Notes\x0bvt\x0cff\x7fdel\x1b[31mred\x00nul",  # characters YAML refuses anywhere
    "# not: a comment \"double\" 'single' &anchor *alias !!python/object:os.system",
    "\ufeffbom \u202eevil",
]
#: Headers that still match contract columns once punctuation is ignored.
MAPPED = {"account_id": "Account\x85ID", "arr": "ARR\u2029(USD)", "name": "Account\nName"}


def hostile_folder(folder: Path, hostile: list[str], mapped: dict[str, str]
                   ) -> dict[str, dict[str, list[str]]]:
    """Write a client whose headers, values, file and sheet names are the ``hostile`` texts
    (``mapped``: headers of contract columns).

    Returns ``{file name: {sheet or "": headers}}`` of what was written.
    """
    folder.mkdir(parents=True)
    n = 6
    accounts = pd.DataFrame({
        mapped["account_id"]: [f"A{i}" for i in range(n)],
        mapped["name"]: [f"Acme {i}" for i in range(n)],
        "Customer Since": ["2024-01-15"] * n,
        mapped["arr"]: ["1200"] * n,
        "Status": (["Active", "Churned", *hostile] * n)[:n],
        **{h: ["x"] * n for h in hostile},
    })
    accounts.to_parquet(folder / "accounts.parquet")
    written = {"accounts.parquet": {"": list(accounts.columns)}}
    mrr = pd.DataFrame({"Account": [f"A{i}" for i in range(n)], "Month": ["2024-01-01"] * n,
                        "MRR": ["100"] * n})
    sheet = "MRR\x85report\u2028 title\u2029 #PWNED ---" if len(hostile) > 1 else "MRR"
    with pd.ExcelWriter(folder / "subscriptions.xlsx") as xl:
        mrr.to_excel(xl, sheet_name=sheet, index=False)
    written["subscriptions.xlsx"] = {sheet: list(mrr.columns)}
    for i, h in enumerate(h for h in hostile if "\x00" not in h):
        name = f"extra{i}{h}.csv".replace("/", "")
        (folder / name).write_text("foo,bar\n1,2\n", encoding="utf-8")
        written[name] = {"": ["foo", "bar"]}
        (folder / f"notes{i}{h}.pdf".replace("/", "")).write_bytes(b"%PDF")
    return written


PLAIN = {"account_id": "Account ID", "arr": "ARR (USD)", "name": "Account Name"}


@pytest.mark.parametrize("hostile, mapped", [
    (HOSTILE[:1], PLAIN),  # the example: one header with newlines
    (HOSTILE, MAPPED),
], ids=["newline-header", "every-kind"])
def test_hostile_headers_values_and_names_stay_values_in_the_scaffolded_params(
        tmp_path, monkeypatch, hostile, mapped):
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    written = hostile_folder(tmp_path / "data" / "evil", hostile, mapped)

    result = CliRunner().invoke(main, ["client", "evil"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "params" / "evil.yaml").read_text(encoding="utf-8")

    parsed = yaml.safe_load(text)  # what any YAML reader sees
    assert set(parsed) == {"client", "period", "tables"}
    assert set(parsed["client"]) == {"name", "currency"} and set(parsed["period"]) == {"period"}
    assert set(parsed["tables"]) == {"accounts", "mrr"}
    for name, spec in parsed["tables"].items():
        assert set(spec) <= set(TableParams.model_fields), name
        sheets = written[spec["file"]]  # the exact file name read back
        headers = sheets[spec.get("sheet", "")]  # the exact sheet name read back
        assert set(spec["columns"].values()) <= set(headers), name
    columns = parsed["tables"]["accounts"]["columns"]
    assert {c: columns[c] for c in mapped} == mapped  # hostile headers, exact, as values
    assert set(parsed["tables"]["accounts"]["codes"]["status"]) <= {"Active", "Churned",
                                                                   *hostile}
    for line in text.splitlines():  # one comment or one key per line, as any editor shows
        assert "PWNED" not in line or line.lstrip().startswith("#") or '"' in line, line

    params = load_params("evil", period="2024-Q1")
    defaults = yaml.safe_load(paths.defaults_file().read_text(encoding="utf-8"))
    assert params.report.title == defaults["report"]["title"]
    settings = {k: v for k, v in params.as_dict().items() if k != "tables"}
    assert "PWNED" not in json.dumps(settings)


def test_a_hostile_mapped_header_and_notes_round_trip_through_render_yaml(
        tmp_path, monkeypatch):
    """Every header the scaffold maps, and every note it writes, whatever they hold."""
    from playbook.scaffold import one_line, q, scaffold_client

    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    folder = tmp_path / "data" / "evil"
    folder.mkdir(parents=True)
    (folder / "accounts.csv").write_text("Account ID,Status\nA1,Active\nA2,Churned\n")
    proposal = scaffold_client("evil")
    acc = proposal.tables["accounts"]
    for i, hostile in enumerate([*HOSTILE, "\ud800 lone surrogate"]):
        acc.columns["account_id"].header = hostile
        acc.columns["account_id"].note = hostile
        acc.reasons = [hostile]
        proposal.currency_note = proposal.period_note = hostile
        proposal.skipped = [hostile]
        parsed = yaml.safe_load(proposal.yaml_text())
        assert set(parsed) == {"client", "period", "tables"}, i
        assert parsed["tables"]["accounts"]["columns"]["account_id"] == hostile, i
        assert yaml.safe_load(f"k: {q(hostile)}") == {"k": hostile}, i
        assert len(f"# {one_line(hostile)}".splitlines()) == 1, i


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.one_of(st.characters(exclude_categories=()),
                                  st.sampled_from("\n\r\x85\u2028\u2029\ufeff\u202e\x00\x7f\ud800"
                                                  "\"'#:-&*!{}[]|>\\")), max_size=40))
def test_any_text_is_one_line_and_reads_back_exactly_as_a_value_or_a_comment(text):
    """Fuzz: whatever a cell or header holds, q() reads back as itself, one_line() and q()
    give one line, and a comment of it hides nothing after it."""
    from playbook.scaffold import one_line, q
    from playbook.yamlsafe import parse_yaml

    value, comment = q(text), one_line(text)
    assert len(value.splitlines()) == 1 and len(f"# {comment}".splitlines()) == 1
    assert parse_yaml(f"k: {value}  # {comment}\nafter: 1\n", "fuzz") == {"k": text,
                                                                          "after": 1}


# --------------------------------------------------------------------------- duplicate keys


BASE = """\
client:
  name: Test Co
period:
  period: 2024-Q1
tables:
  accounts:
    file: accounts.csv
    columns: {account_id: Account ID, name: Account Name, start_date: Customer Since,
              arr: ARR (USD), owner: Owner, status: Status}
    codes:
      status: {Active: active, Churned: churned}
"""


@pytest.mark.parametrize("extra, key, first, second", [
    ("client:\n  name: Other Co\n", "'client'", 1, 12),  # top level
    ("    file: other.csv\n", "'tables.accounts.file'", 7, 12),  # nested
], ids=["top", "nested"])
def test_a_key_set_twice_names_both_lines(client_factory, extra, key, first, second):
    client = client_factory.write(params_text=BASE + extra)
    with pytest.raises(ParamsError) as err:
        load_params(client)
    message = str(err.value)
    assert "params/t.yaml" in message and key in message
    assert f"line {first}" in message and f"line {second}" in message
    assert "How to fix" in message

    result = CliRunner().invoke(main, ["check", client])  # one clear message, exit 2
    assert result.exit_code == 2 and key in result.output
    assert "Traceback" not in result.output


def test_a_code_mapped_twice_in_a_nested_mapping_is_an_error(client_factory):
    text = BASE.replace("{Active: active, Churned: churned}",
                        "\n        Active: active\n        Churned: churned\n"
                        "        Active: churned")
    client = client_factory.write(params_text=text)
    with pytest.raises(ParamsError, match=r"tables\.accounts\.codes\.status\.Active.*"
                                          r"line 12.*line 14"):
        load_params(client)


def test_a_key_set_twice_in_the_shared_defaults_is_an_error(client_factory, tmp_path,
                                                             monkeypatch):
    defaults = tmp_path / "defaults.yaml"
    shipped = paths.defaults_file().read_text(encoding="utf-8")
    defaults.write_text(shipped + "report:\n  title: Second\n", encoding="utf-8")
    monkeypatch.setattr(paths, "defaults_file", lambda: defaults)
    client = client_factory.write(params_text=BASE)
    with pytest.raises(ParamsError) as err:
        load_params(client)
    first = 1 + next(i for i, ln in enumerate(shipped.splitlines()) if ln.startswith("report:"))
    assert "defaults.yaml: key 'report' is set twice" in str(err.value)
    assert f"line {first}" in str(err.value)
    assert f"line {len(shipped.splitlines()) + 1}" in str(err.value)


# --------------------------------------------------------------------------- limits


def laughs(levels: int) -> str:
    """A client name made of aliases of aliases: 10 ** levels strings once expanded."""
    rows = ['    - &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    rows += [f"    - &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return BASE.replace("  name: Test Co", "  name:\n" + "\n".join(rows))


def test_aliases_that_multiply_are_refused_fast_by_every_reader(client_factory, tmp_path):
    from playbook.data_request import write_data_request

    client = client_factory.write(params_text=laughs(2))  # 100 values: a repeat is fine
    with pytest.raises(ParamsError, match="client.name"):  # ...and the type still checked
        load_params(client)

    client = client_factory.write(params_text=laughs(9))  # a billion "lol"
    for read in (lambda: load_params(client),
                 lambda: write_data_request(client, out=tmp_path / "req", pdf=False)):
        with pytest.raises(ParamsError) as err:
            read()
        assert "params/t.yaml" in str(err.value)
        assert "aliases" in str(err.value) and "10,000 values" in str(err.value)
    result = CliRunner().invoke(main, ["data-request", client, "--no-pdf",
                                       "--out", str(tmp_path / "req")])
    assert result.exit_code == 2 and "aliases" in result.output
    assert not (tmp_path / "req").exists()


def test_an_alias_inside_its_own_block_is_refused(client_factory):
    client = client_factory.write(params_text=BASE.replace(
        "  name: Test Co", "  name: &self [a, *self]"))
    with pytest.raises(ParamsError, match=r"alias \*self on line 2 is inside the block"):
        load_params(client)


@pytest.mark.parametrize("nesting", [
    "[" * 100_000 + "]" * 100_000,
    "{a: " * 100_000 + "}" * 100_000,
], ids=["lists", "mappings"])
def test_deep_nesting_is_one_clear_error_not_a_recursion_error(client_factory, nesting):
    client = client_factory.write(params_text=BASE.replace("Test Co", nesting))
    with pytest.raises(ParamsError, match=r"params/t\.yaml: .*nested more than 32 levels "
                                          r"deep \(line 2\)"):
        load_params(client)
    result = CliRunner().invoke(main, ["check", client])
    assert result.exit_code == 2 and "nested more than 32 levels" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_params_file_over_one_mib_is_not_read(client_factory):
    padding = "# " + "x" * 1000 + "\n"
    client = client_factory.write(params_text=BASE + padding * 1100)
    with pytest.raises(ParamsError, match=r"params/t\.yaml is larger than 1,024 KiB"):
        load_params(client)


def test_the_committed_params_still_load_through_the_safe_reader():
    """The limits leave every committed YAML file readable (guards limits set too low)."""
    from playbook.yamlsafe import load_yaml_file

    repo = paths.PACKAGE_DIR.parent
    for path in [paths.defaults_file(), *sorted((repo / "params").glob("*.yaml"))]:
        assert load_yaml_file(path) == yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(load_params("demo", params_path=repo / "params" / "demo.yaml"), Params)
