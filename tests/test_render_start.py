"""A report run begins before the render code is imported (issue 22: importing the charts,
the workbook, the slide deck and the PDF engine took about 4 CPU seconds before the data
started loading): the start imports only what loading and the kernels need, and the
command line has the loading child running while it imports :mod:`playbook.render`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: What the render process imports for rendering only (charts, workbook, deck, PDF, HTML).
RENDER_ONLY = ("playbook.render", "playbook.findings", "playbook.analyses", "matplotlib",
               "seaborn", "statsmodels", "weasyprint", "openpyxl", "xlsxwriter", "pptx",
               "nbconvert")


def _python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=REPO, env={**os.environ, **(env or {})},
                          timeout=300)


def _loaded_after(imports: str, names: tuple[str, ...]) -> list[str]:
    """Of ``names`` (packages or modules), those a fresh interpreter holds after running
    ``imports``."""
    run = _python(f"""
        import json, sys
        {imports}
        names = {names!r}
        print(json.dumps([n for n in names if any(m == n or m.startswith(n + ".")
                                                  for m in sys.modules)]))
        """)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_starting_a_run_imports_nothing_only_the_render_needs():
    assert _loaded_after("import playbook.render_start", RENDER_ONLY) == []


#: What only the kernels' analyses need: the render process draws the summary's bars and
#: waterfalls and writes files, and never fits a model or draws a heatmap.
KERNEL_ONLY = ("seaborn", "statsmodels", "scipy.stats", "sklearn")


def test_the_render_code_imports_no_modelling_library():
    """Importing seaborn, and statsmodels through the account plan's analyses, cost the
    render process about a second of CPU during the data load and 115 MB for the whole run
    (issue 22): the heatmaps import seaborn when they draw, and the workbook reads its
    columns from playbook.plan_columns."""
    assert _loaded_after("import playbook.render_start, playbook.render", KERNEL_ONLY) == []


def test_the_loading_child_is_forked_before_what_drives_the_kernels_is_imported():
    """jupyter_client and papermill (about 0.4 CPU s) are imported by started_run once the
    loading child is forked: the child starts loading that much earlier (issue 22)."""
    assert _loaded_after("import playbook.render_start",
                         ("jupyter_client", "papermill", "playbook.kernels")) == []


def test_the_kernels_warm_up_imports_only_the_statsmodels_modules_used():
    """statsmodels.api imports every model, its datasets and distributions: 0.25 CPU s more
    per kernel while the data load (issue 22); the analyses import the modules they use."""
    from playbook.render_start import KERNEL_PRELOAD

    loaded = _loaded_after("import " + ", ".join(KERNEL_PRELOAD),
                           ("statsmodels.api", "statsmodels.discrete", "statsmodels.datasets"))
    assert loaded == ["statsmodels.discrete"]


def test_the_kernels_worker_processes_import_no_pandas():
    """A worker process (spawned: a fresh interpreter) imports playbook.kernels, the task's
    module and papermill; pandas through playbook.textfmt cost each about 0.5 CPU s during
    the data load and 35 MB for the whole run (issue 22)."""
    assert _loaded_after("import playbook.kernels, playbook.render_execute, papermill",
                         ("pandas",)) == []


def test_the_command_line_loads_the_data_while_it_imports_the_render_code(client_factory,
                                                                          tmp_path):
    client = client_factory.write()
    # An import hook: when playbook.render is imported, record the children running and
    # stop the run there (the run's clean-up then stops the loading child and kernels).
    run = _python(f"""
        import json, multiprocessing, sys
        from importlib.abc import MetaPathFinder

        class Watch(MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "playbook.render":
                    names = sorted(p.name for p in multiprocessing.active_children())
                    print("CHILDREN", json.dumps(names), flush=True)
                    raise SystemExit(3)
                return None

        sys.meta_path.insert(0, Watch())
        # the child loads a few rows in a blink: make it take a while, so that it still
        # runs when the render code is imported, however fast this machine is
        import time
        import playbook.loading as loading
        real = loading.load_and_store
        loading.load_and_store = lambda *a, **k: (time.sleep(5), real(*a, **k))[1]
        from playbook.cli import main
        main(["report", {client!r}])
        """, env={"PLAYBOOK_ROOT": str(client_factory.root),
                          "PLAYBOOK_REPORTS": str(tmp_path / "reports")})
    assert run.returncode == 3, run.stdout + run.stderr
    line = next(x for x in run.stdout.splitlines() if x.startswith("CHILDREN"))
    assert "playbook-forked" in json.loads(line.split(" ", 1)[1])  # the loading child
    leftovers = list((tmp_path / "reports").rglob(".loading-*"))
    assert leftovers == []  # stopped and removed on the way out
