"""A client's own notebook joins the report through params alone: `report: notebooks:` lists
`custom/<name>`, which resolves to notebooks/custom/<name>.ipynb; its exhibits are numbered
after the shared ones, and a shared section left out of the list is switched off.

Tiny fixture notebooks (tests/fixtures/render) stand in for the shared sections so the test
runs in seconds; the custom one is written by the test into a temporary project root."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from playbook import paths
from playbook.config import load_params
from playbook.render import render_notebooks
from playbook.render_execute import declared_parameters
from playbook.render_manifest import ReportMeta

FIXTURES = Path(__file__).parent / "fixtures" / "render"

EXHIBIT_HELPER = '''from IPython.display import HTML, display

def exhibit(no, title, body):
    return HTML(f'<figure class="exhibit"><figcaption><span class="exhibit-label">Exhibit '
                f'<span class="exhibit-no">{no}</span></span><span class="action-title">'
                f'{title}</span></figcaption>{body}<p class="source">Source: fixture</p>'
                '</figure>')'''


def custom_notebook() -> nbformat.NotebookNode:
    """What an analyst writes for one client: the standard parameters cell, a section."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell(
        'client: str = "acme"  # client folder under data/ and params/\n'
        'period: str = ""  # reporting period, e.g. 2026-Q3\n'
        'as_of: str = ""  # as-of date YYYY-MM-DD\n'
        'run_dir: str = ""  # folder for the findings of this run')
    params.metadata["tags"] = ["parameters"]
    setup = nbformat.v4.new_code_cell(EXHIBIT_HELPER)
    setup.metadata["tags"] = ["remove_cell"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Onboarding at Acme\n\nThe client's own section."),
        params,
        setup,
        nbformat.v4.new_code_cell(
            "display(exhibit(1, 'Go-live takes 41 days at the median', '<p>chart</p>'))\n"
            "display(exhibit(2, 'Accounts that skip training churn twice as often', "
            "'<p>chart</p>'))"),
        nbformat.v4.new_markdown_cell(
            'As Exhibit <span class="exhibit-no">2</span> shows, training matters.'),
    ]
    return nb


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    shared = root / "notebooks"
    (shared / "custom").mkdir(parents=True)
    for name in ("01-alpha", "02-beta"):
        shutil.copy(FIXTURES / f"{name}.ipynb", shared / f"{name}.ipynb")
    nbformat.write(custom_notebook(), shared / "custom" / "acme-onboarding.ipynb")
    (root / "params").mkdir()
    (root / "params" / "acme.yaml").write_text(yaml.safe_dump({
        "client": {"name": "Acme Analytics"},
        "period": {"period": "2026-Q3"},
        # 02-beta is left out (switched off); the client's own notebook comes last.
        "report": {"notebooks": ["01-alpha", "custom/acme-onboarding"]},
    }, sort_keys=False))
    return root


@pytest.fixture(scope="module")
def report(project: Path):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PLAYBOOK_ROOT", str(project))
        params = load_params("acme")
        # The rule render_report applies: a name resolves to notebooks/<name>.ipynb.
        notebooks = [paths.notebooks_dir() / f"{n}.ipynb" for n in params.report.notebooks]
        meta = ReportMeta(client="acme", client_name=params.display_name,
                          period_label=params.period_label, as_of=params.as_of.isoformat())
        out = render_notebooks(notebooks, {"client": "acme", "period": params.period_label,
                                           "as_of": params.as_of.isoformat()},
                               project / "reports" / "acme" / params.period_label, meta,
                               progress=False)
    return out, notebooks


def test_params_list_resolves_custom_notebooks(report, project):
    _, notebooks = report
    assert notebooks == [project / "notebooks" / "01-alpha.ipynb",
                         project / "notebooks" / "custom" / "acme-onboarding.ipynb"]
    # The custom notebook declares the standard parameters (papermill --help-notebook).
    assert declared_parameters(notebooks[1]) == {"client", "period", "as_of", "run_dir"}


def test_custom_notebook_is_in_the_report_after_the_shared_ones(report):
    out, _ = report
    assert sorted(p.name for p in out.notebooks.iterdir()) == ["01-alpha.ipynb",
                                                               "acme-onboarding.ipynb"]
    html = out.html.read_text(encoding="utf-8")
    assert html.index("Retention baseline") < html.index("Onboarding at Acme")
    toc = re.search(r'<nav[^>]*class="toc".*?</nav>', html, re.S).group(0)
    assert "Onboarding at Acme" in toc


def test_exhibits_are_numbered_in_sequence_across_shared_and_custom(report):
    out, _ = report
    html = out.html.read_text(encoding="utf-8")
    figures = re.findall(r'<span class="exhibit-no">(\d+)</span></span>'
                         r'<span class="action-title">([^<]+)</span>', html)
    assert [int(n) for n, _ in figures] == [1, 2, 3, 4]
    assert figures[2][1] == "Go-live takes 41 days at the median"
    assert figures[3][1] == "Accounts that skip training churn twice as often"
    # The custom notebook's own reference to its Exhibit 2 follows the renumbering.
    assert 'As Exhibit <span class="exhibit-no">4</span> shows' in html


def test_a_section_left_out_of_the_list_is_switched_off(report):
    out, _ = report
    html = out.html.read_text(encoding="utf-8")
    assert "Why customers leave" not in html  # 02-beta exists but is not listed
    assert "Three reasons explain 72% of lost MRR" not in html


def test_readme_lists_every_notebook_and_its_parameters():
    """Each notebook's parameters cell (name, type, default, comment) is in the README."""
    import papermill

    readme = (paths.CHECKOUT_DIR / "README.md").read_text(encoding="utf-8")
    notebooks = sorted(paths.notebooks_dir().glob("*.ipynb"))
    assert notebooks
    for nb in notebooks:
        declared = papermill.inspect_notebook(str(nb))
        listed = ", ".join(f"`{name}`" for name in declared)
        assert f"| `{nb.stem}` | {listed} |" in readme, f"README: list {nb.stem}'s parameters"
        for name, p in declared.items():
            assert p["help"], f"{nb.name}: parameter {name} has no comment"
            row = f"| `{name}` | `{p['inferred_type_name']}` | `{p['default']}` | {p['help']} |"
            assert row in readme, f"README: document {nb.stem}'s parameter: {row}"
