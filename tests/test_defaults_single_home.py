"""One home for defaults (issue 17): every default value of a parameter is in
``playbook/defaults.yaml``, and only there.

* the parameters models (``playbook/config.py``, ``playbook/config_tables.py``) declare types
  and ranges, no default value: a field the YAML does not give is required;
* the YAML and the models hold the same keys, both ways (the entries of a mapping or list of
  parameters take their left-out keys from ``entry_defaults``);
* no analysis or finding function has a keyword default named like a parameter: the value
  comes from the params, passed by the caller.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from playbook import config, config_tables
from playbook.config import ENTRY_DEFAULTS, Params, load_params
from playbook.config_tables import EntryModel
from playbook.paths import defaults_file

PACKAGE = Path(__file__).resolve().parents[1] / "playbook"
DEFAULTS = yaml.safe_load(defaults_file().read_text(encoding="utf-8"))

#: Fields whose ``None`` means "not given" rather than a value: the keys of a rule that takes
#: exactly one of them (documented in the models' docstrings).
NONE_MEANS_NOT_GIVEN = {
    "RowFilter": {"equals", "in_", "not_in", "is_blank"},
    "DeriveParams": {"months_before", "constant_date", "copy", "from_table"},
}
#: Keys an entry must give itself (no default in ``entry_defaults``).
ENTRY_REQUIRED = {
    "tables": {"file"},
    "join": {"file", "on"},
    "variables": {"column", "kind"},
    "tiers": {"accounts_per_csm", "touches"},
}
#: Keyword names that are not parameters although a params key has the name: ``as_of`` in a
#: signature is the date a function measures at (None: no cut-off), not the text key
#: ``period.as_of``.
NOT_PARAMETERS = {"as_of"}
#: Parameters some functions take under a shorter name (``thresholds.small_group_n`` as
#: ``small_n``, ...): none of these may have a keyword default either.
RENAMED = {"small_n", "folds", "at_risk_below", "contact_cap", "horizon_days", "healthy_bands",
           "exec_days", "user_days", "strong_exec_enterprise", "strong_exec_smb", "no_answer",
           "shares", "point", "days", "rows", "method", "bands", "weights", "cap_days",
           "lookback_days", "low_nps", "final_step"}


def models() -> list[type[BaseModel]]:
    found = []
    for module in (config, config_tables):
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, BaseModel)
                    and value.__module__ == module.__name__):
                found.append(value)
    return found


def test_no_model_field_has_a_default_value():
    literal = []
    for model in models():
        for name, field in model.model_fields.items():
            if field.exclude:  # derived by load_params after validation, not a parameter
                continue
            if field.default is PydanticUndefined and field.default_factory is None:
                continue
            if field.default is None and name in NONE_MEANS_NOT_GIVEN.get(model.__name__, ()):
                continue
            literal.append(f"{model.__name__}.{name}")
    assert not literal, f"defaults outside defaults.yaml: {literal}"


def _model_in(annotation: typing.Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _entry_model(annotation: typing.Any) -> type[BaseModel] | None:
    """The model of the values of a ``dict[str, Model]`` or items of a ``list[Model]``."""
    origin = typing.get_origin(annotation)
    if origin is dict:
        return _model_in(typing.get_args(annotation)[1])
    if origin is list:
        return _model_in(typing.get_args(annotation)[0])
    return None


def _mismatches(data: dict, model: type[BaseModel], where: str) -> list[str]:
    settable = {k for k, f in model.model_fields.items() if not f.exclude}
    out = [f"{where}{k}: in defaults.yaml, not a field of {model.__name__}"
           for k in sorted(set(data) - settable)]
    out += [f"{where}{k}: a field of {model.__name__}, not in defaults.yaml"
            for k in sorted(settable - set(data))]
    for key in sorted(set(data) & settable):
        annotation = model.model_fields[key].annotation
        sub, entry = _model_in(annotation), _entry_model(annotation)
        if sub is not None and isinstance(data[key], dict):
            out += _mismatches(data[key], sub, f"{where}{key}.")
        elif entry is not None and not issubclass(entry, EntryModel):
            values = data[key].values() if isinstance(data[key], dict) else data[key]
            for i, value in enumerate(values):
                out += _mismatches(value, entry, f"{where}{key}[{i}].")
    return out


def test_every_key_of_defaults_yaml_is_a_field_and_every_field_a_key():
    sections = {k: v for k, v in DEFAULTS.items() if k != ENTRY_DEFAULTS}
    assert _mismatches(sections, Params, "") == []


def entry_models() -> dict[str, type[EntryModel]]:
    return {m.entry_section: m for m in models() if issubclass(m, EntryModel)
            and m is not EntryModel}


def test_entry_defaults_cover_every_entry_field_but_the_required_ones():
    entries = DEFAULTS[ENTRY_DEFAULTS]
    assert set(entries) == set(entry_models()) == set(ENTRY_REQUIRED)
    for section, model in entry_models().items():
        given = set(entries[section])
        assert not given & ENTRY_REQUIRED[section], section
        assert given | ENTRY_REQUIRED[section] == set(model.model_fields), section


def test_a_client_entry_takes_the_left_out_keys_from_entry_defaults(client_factory):
    client_factory.write("t", {"accounts.csv": "id\n1\n"}, params={
        "period": {"period": "2024-Q1"},
        "tables": {"accounts": {"file": "accounts.csv", "decimal": ","}},
        "touch_model": {"tiers": {"extra": {"accounts_per_csm": [1, 2], "touches": {}}}},
        "variables": {"plan": {"column": "Plan", "kind": "categorical"}}})
    p = load_params("t")
    entries = DEFAULTS[ENTRY_DEFAULTS]
    table = p.tables["accounts"].model_dump(by_alias=True)
    assert table == {**entries["tables"], "file": "accounts.csv", "decimal": ","}
    assert p.touch_model.tiers["extra"].role == entries["tiers"]["role"]
    assert p.touch_model.tiers["high"].role == DEFAULTS["touch_model"]["tiers"]["high"]["role"]
    plan = p.variables["plan"].model_dump()
    assert {k: plan[k] for k in ("table", "reference", "unit", "scale")} == {
        k: entries["variables"][k] for k in ("table", "reference", "unit", "scale")}


def parameter_names() -> set[str]:
    """Every key of defaults.yaml's sections, at any depth of the models (not the data keys of
    a mapping parameter such as ``health.weights``, nor ``entry_defaults``)."""
    names: set[str] = set()

    def walk(model: type[BaseModel]) -> None:
        for key, field in model.model_fields.items():
            if field.exclude:
                continue
            names.add(key)
            if (sub := _model_in(field.annotation)) is not None:
                walk(sub)

    for section, field in Params.model_fields.items():
        if (sub := _model_in(field.annotation)) is not None:
            walk(sub)
        elif not field.exclude:
            names.add(section)
    return names


def keyword_defaults(path: Path) -> list[tuple[int, str, str, str]]:
    """``(line, function, argument, default)`` of every keyword default in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            args = node.args
            positional = args.posonlyargs + args.args
            pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults,
                             strict=True))
            pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
                      if d is not None]
            found += [(node.lineno, node.name, a.arg, ast.unparse(d)) for a, d in pairs]
    return found


@pytest.mark.parametrize("folder", ["analyses", "findings"])
def test_no_analysis_or_finding_has_a_default_for_a_parameter(folder):
    banned = (parameter_names() | RENAMED) - NOT_PARAMETERS
    assert {"contact_days_cap", "account_growth", "small_group_n", "ticket_window_days"} <= banned
    found = [f"{path.relative_to(PACKAGE)}:{line} {function}({arg}={default})"
             for path in sorted((PACKAGE / folder).rglob("*.py"))
             for line, function, arg, default in keyword_defaults(path) if arg in banned]
    assert not found, ("keyword defaults duplicating defaults.yaml (make them required and "
                       f"pass the params' value): {found}")
