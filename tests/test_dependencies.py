"""pyproject.toml declares every package the playbook imports (issue 17): a fresh install
from it alone has what a run needs."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from playbook import paths


def canonical(name: str) -> str:
    """A distribution name as pip compares them (``PyYAML`` = ``pyyaml``, ``_`` = ``-``)."""
    return re.sub(r"[-_.]+", "-", re.split(r"[<>=!~\[; ]", name, maxsplit=1)[0]).lower()


def imported_top_level_names() -> set[str]:
    """Top-level names of every module imported anywhere in playbook/ (inside functions
    too), other than the standard library's and the playbook's own."""
    names: set[str] = set()
    for file in paths.PACKAGE_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "playbook"}


def test_pyproject_declares_every_imported_package():
    pyproject = tomllib.loads((paths.CHECKOUT_DIR / "pyproject.toml").read_text("utf-8"))
    declared = {canonical(d) for d in pyproject["project"]["dependencies"]}
    providers = metadata.packages_distributions()
    missing = {name: providers.get(name, ["?"]) for name in imported_top_level_names()
               if not declared & {canonical(d) for d in providers.get(name, [name])}}
    assert not missing, f"add to pyproject.toml dependencies: {missing}"


def test_requirements_pin_every_declared_package():
    pyproject = tomllib.loads((paths.CHECKOUT_DIR / "pyproject.toml").read_text("utf-8"))
    lines = (Path(paths.CHECKOUT_DIR) / "requirements.txt").read_text("utf-8").splitlines()
    pinned = {canonical(line) for line in lines if "==" in line}
    unpinned = {d for d in pyproject["project"]["dependencies"] if canonical(d) not in pinned}
    assert not unpinned, f"pin in requirements.txt: {sorted(unpinned)}"
