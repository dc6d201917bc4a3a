"""Repository rules that must hold on every commit."""

import json
import subprocess

from playbook import paths

ROOT = paths.PACKAGE_DIR.parent


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((ROOT / "notebooks").rglob("*.ipynb"))
    notebooks = [p for p in notebooks if ".ipynb_checkpoints" not in p.parts]
    assert notebooks, "no notebooks found"
    dirty = []
    for path in notebooks:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(path.name)
                break
    assert not dirty, f"strip outputs before committing: {dirty}"


def test_client_data_and_reports_are_ignored_by_git():
    probe = ["data/acme/accounts.csv", "params/acme.yaml", "reports/demo/2026-Q3/report.pdf",
             "data/demo/accounts.csv"]
    out = subprocess.run(["git", "check-ignore", *probe], cwd=ROOT, capture_output=True,
                         text=True)
    assert sorted(out.stdout.split()) == sorted(probe)
    kept = subprocess.run(["git", "check-ignore", "params/demo.yaml"], cwd=ROOT,
                          capture_output=True, text=True)
    assert kept.returncode == 1  # not ignored


def test_requirements_are_all_pinned():
    lines = [ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines and all("==" in ln for ln in lines), [ln for ln in lines if "==" not in ln]


def test_every_notebook_is_paired_with_an_identical_percent_script():
    import jupytext

    for ipynb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        script = ipynb.with_suffix(".py")
        assert script.is_file(), f"{script.name} missing: run `make notebooks`"
        a = [(c.cell_type, c.source.strip()) for c in jupytext.read(ipynb).cells]
        b = [(c.cell_type, c.source.strip()) for c in jupytext.read(script).cells]
        assert a == b, f"{ipynb.name} and {script.name} differ: run `make notebooks`"
