"""The package's import graph (issue 17): no cycle between modules, none dodged by an import
inside a function, and every module imports on its own.

The graph is read from the source (``ast``), so it sees imports a run would only reach late;
then each module is imported alone in a fresh interpreter state (every ``playbook`` module
dropped from ``sys.modules`` first), which fails if it only works after another module was
imported.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "playbook"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def playbook_imports(path: Path, *, nested: bool) -> set[str]:
    """Playbook modules imported at the top of ``path`` (``nested``: inside functions)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: list[tuple[bool, str]] = []

    class Imports(ast.NodeVisitor):
        depth = 0

        def visit_FunctionDef(self, node: ast.AST) -> None:
            self.depth += 1
            self.generic_visit(node)
            self.depth -= 1

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_Import(self, node: ast.Import) -> None:
            found.extend((self.depth > 0, a.name) for a in node.names)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found.append((self.depth > 0, base))
            found.extend((self.depth > 0, f"{base}.{a.name}") for a in node.names)

    Imports().visit(ast.parse(path.read_text(encoding="utf-8")))
    out = set()
    for inside, name in found:
        if inside != nested:
            continue
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != me and name.startswith("playbook"):
            out.add(name)
    return out


#: modules allowed to import inside functions, and why
LAZY = {"playbook.cli": "each command loads only what it needs (start-up time of make check)",
        "playbook.render_start": "the loading child is forked before what drives the kernels "
                                 "is imported (issue 22: it starts loading 0.4 CPU s earlier)",
        "playbook.loading": "the loader (pandas, pyarrow: about 110 MB) is imported by the "
                            "loading child, not by the render process that forks it (issue 22)",
        "playbook.render": "what only the steps after the notebooks use is imported once a "
                           "kernel is idle or at publish, not while the kernels hold the "
                           "run's memory peak (issue 22)",
        "playbook.workbook_pending": "the workbook's code is imported by the child writing it, "
                                     "not by the render process asking whether one is left "
                                     "(issue 22)",
        "playbook.ahead": "the render process reads what to compute ahead; only the kernel "
                          "computing it imports the session and the analyses (issue 22)"}


def test_no_import_inside_a_function_reaches_another_playbook_module():
    hidden = {m: sorted(playbook_imports(p, nested=True)) for m, p in MODULES.items()
              if m not in LAZY}
    hidden = {m: v for m, v in hidden.items() if v}
    assert not hidden, f"imports inside functions (a dodged cycle or a hidden channel): {hidden}"


def test_the_import_graph_has_no_cycle():
    graph = {m: playbook_imports(p, nested=False) for m, p in MODULES.items()}
    # a package's __init__ may re-export its own submodules: not a cycle
    graph = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (cycle := visit(d)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (cycle := visit(m)):
            raise AssertionError(" -> ".join(cycle))


def test_every_module_imports_alone():
    script = (
        "import importlib, sys\n"
        f"names = {sorted(MODULES)!r}\n"
        "bad = []\n"
        "for name in names:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] == 'playbook']:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
