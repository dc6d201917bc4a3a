"""The render path on tiny fixture notebooks: papermill → combined notebook → HTML → PDF."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

from playbook.errors import NotebookError, UnknownParameterError
from playbook.render import render_notebooks
from playbook.render_combine import combine_notebooks
from playbook.render_export import notebook_to_html
from playbook.render_manifest import ReportMeta
from playbook.render_pdf import html_to_pdf
from playbook.render_preprocessors import HeadingAnchors, anchor_headings, mark_numeric_cells

FIXTURES = Path(__file__).parent / "fixtures" / "render"
ALPHA, BETA, FAIL = (FIXTURES / f"{n}.ipynb" for n in ("01-alpha", "02-beta", "03-fail"))
CLIENT = "acme-zq917"  # distinctive: passed as a parameter, must never show up as code
PARAMS = {"client": CLIENT, "period": "2026-Q3", "as_of": "2026-09-30"}


def meta(**changes: object) -> ReportMeta:
    values = dict(client=CLIENT, client_name="Acme Analytics GmbH", period_label="2026-Q3",
                  as_of="2026-09-30", title="Customer-success assessment",
                  version="v1.0 draft", paper="A4", confidential=True)
    values.update(changes)
    return ReportMeta(**values)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("render")
    data = root / "data.csv"
    data.write_bytes(b"account,mrr\nA1,100\n")
    out = render_notebooks([ALPHA, BETA], PARAMS, root / "reports" / "acme" / "2026-Q3",
                           meta(), inputs=[data], progress=False,
                           timings={"load and validate": 50.0})  # done before the call
    return out, data


@pytest.fixture(scope="module")
def html(report) -> str:
    return report[0].html.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pdf_pages(report) -> list[str]:
    return [page.extract_text() for page in PdfReader(report[0].pdf).pages]


# --------------------------------------------------------------------------- HTML


def test_publishes_every_file_and_no_staging_left(report):
    paths, _ = report
    for file in (paths.html, paths.pdf, paths.results, paths.manifest):
        assert file.is_file() and file.stat().st_size > 0
    assert sorted(p.name for p in paths.notebooks.iterdir()) == ["01-alpha.ipynb", "02-beta.ipynb"]
    assert [p.name for p in paths.out_dir.parent.iterdir()] == ["2026-Q3"]


def test_html_has_cover_and_contents_linking_to_headings(html):
    cover = html.split('<section class="cover">')[1].split("</section>")[0]
    for text in ("Acme Analytics GmbH", "Customer-success assessment", "2026-Q3",
                 "30 Sep 2026", "v1.0 draft", "Confidential"):
        assert text in cover
    toc = re.search(r'<nav[^>]*class="toc".*?</nav>', html, re.S).group(0)
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', toc)
    assert [t for _, t in links] == ["Retention baseline", "Retention by cohort",
                                     "Why customers leave", "Reasons for churn"]
    for anchor, title in links:
        assert re.search(rf'<h[12] id="{anchor}">{title}</h[12]>', html)


def test_exhibits_are_numbered_across_notebooks_in_order(html):
    shown = re.findall(r'Exhibit <span class="exhibit-no">(\d+)</span></span>'
                       r'<span class="action-title">([^<]+)', html)
    assert shown == [("1", "Gross retention fell to 62% in the last quarter"),
                     ("2", "Younger cohorts keep less revenue"),
                     ("3", "Three reasons explain 72% of lost MRR")]
    # markdown citations follow their notebook's renumbering
    assert 'The bridge in Exhibit <span class="exhibit-no">2</span> shows' in html
    assert 'Exhibit <span class="exhibit-no">3</span> ranks the reasons' in html


def test_html_is_self_contained_and_loads_nothing(html):
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"@import", html, re.I)
    assert "<link" not in html.lower()
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html)  # the fixture's PNG
    assert "<svg" in html  # the fixture's inline SVG exhibit


def test_html_shows_no_code_prompts_or_parameters(html):
    assert "alpha_code_marker_5813" not in html  # a line of code in 01-alpha
    assert "def exhibit" not in html
    assert CLIENT not in html  # value of the injected parameters cell
    assert "injected-parameters" not in html
    assert "run_dir" not in html
    assert "In&nbsp;[" not in html and "Out[" not in html


def test_numbers_are_right_aligned(html):
    assert '<th class="num">Accounts</th>' in html
    assert '<td class="num">12</td>' in html
    assert "<td>2025-Q1</td>" in html


# --------------------------------------------------------------------------- PDF


def test_pdf_has_cover_contents_sections_and_page_numbers(pdf_pages):
    pages = len(pdf_pages)
    assert pages == 4  # cover, contents, one page per level-1 section
    assert "Customer-success assessment" in pdf_pages[0]
    assert "Page" not in pdf_pages[0]  # the cover carries no header or footer
    for number, text in enumerate(pdf_pages[1:], start=2):
        assert f"Page {number} of {pages}" in text
        assert "Acme Analytics GmbH" in text  # running header
    assert "Retention baseline" in pdf_pages[2]
    assert "Why customers leave" in pdf_pages[3]


def test_pdf_contents_give_the_page_of_each_section(pdf_pages):
    contents = pdf_pages[1]
    for title in ("Retention baseline", "Why customers leave", "Reasons for churn"):
        match = re.search(rf"{title}[ .…]*?(\d+)\s*$", contents, re.M)
        assert match, f"no page number for {title!r} in:\n{contents}"
        page = int(match.group(1))
        assert title in pdf_pages[page - 1]
    assert re.search(r"Why customers leave[ .…]*?4\s*$", contents, re.M)


def test_letter_paper(report, tmp_path):
    executed = [nbformat.read(p, as_version=4) for p in sorted(report[0].notebooks.iterdir())]
    combined = combine_notebooks(executed)
    page = tmp_path / "letter.html"
    page.write_text(notebook_to_html(combined, meta(paper="Letter")), encoding="utf-8")
    box = PdfReader(html_to_pdf(page, tmp_path / "letter.pdf")).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


# --------------------------------------------------------------------------- records


def test_results_merge_the_findings(report):
    results = json.loads(report[0].results.read_text())
    assert results["02-beta"] == {"top3_share": 0.72, "client": CLIENT, "period": "2026-Q3"}
    assert results["meta"]["client_name"] == "Acme Analytics GmbH"
    assert "01-alpha" not in results  # it recorded nothing


def test_manifest_records_inputs_parameters_and_versions(report):
    paths, data = report
    manifest = json.loads(paths.manifest.read_text())
    (entry,) = manifest["inputs"]
    assert entry["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert entry["bytes"] == data.stat().st_size and entry["name"] == "data.csv"
    assert manifest["parameters"] == PARAMS
    assert set(manifest["packages"]) >= {"pandas", "numpy", "statsmodels", "papermill",
                                         "nbconvert", "weasyprint", "matplotlib"}
    assert manifest["packages"]["papermill"]
    # the run's time counts the steps done before the notebooks (loading the data)
    assert manifest["run"]["seconds"]["load and validate"] == 50.0
    assert 50 < manifest["run"]["duration_seconds"] < 50 + 600
    assert set(manifest["run"]["seconds"]) >= {"01-alpha", "02-beta", "html", "pdf"}
    assert "commit" in manifest["git"]


# --------------------------------------------------------------------------- failures


def test_failing_notebook_is_kept_and_previous_report_untouched(tmp_path):
    out = tmp_path / "reports" / "acme" / "2026-Q3"
    out.mkdir(parents=True)
    (out / "report.html").write_text("<p>previous report</p>")
    (out / "report.pdf").write_bytes(b"%PDF-previous")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    with pytest.raises(NotebookError) as caught:
        render_notebooks([ALPHA, FAIL], PARAMS, out, meta(), progress=False)

    error = caught.value
    assert error.notebook == "03-fail.ipynb" and error.cell == 3
    assert "ValueError: fixture failure in cell three" in error.error
    assert "03-fail.ipynb" in str(error) and "cell 3" in str(error)
    kept = Path(error.kept_at)
    assert kept.is_file() and kept.parent.parent == out.parent / "_failed"
    assert kept.parent.name.startswith("2026-Q3-")
    assert "fixture failure in cell three" in kept.read_text()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["2026-Q3", "_failed"]


def test_undeclared_parameter_is_rejected_before_running(tmp_path):
    out = tmp_path / "acme" / "2026-Q3"
    with pytest.raises(UnknownParameterError) as caught:
        render_notebooks([ALPHA, BETA], {**PARAMS, "colour": "blue"}, out, meta(),
                         progress=False)
    assert "'colour'" in str(caught.value) and "01-alpha.ipynb" in str(caught.value)
    assert not (tmp_path / "acme").exists()


def test_run_dir_cannot_be_passed(tmp_path):
    with pytest.raises(UnknownParameterError, match="run_dir"):
        render_notebooks([ALPHA], {**PARAMS, "run_dir": "/elsewhere"}, tmp_path / "o", meta(),
                         progress=False)


def test_unknown_paper_is_rejected():
    with pytest.raises(Exception, match="paper"):
        meta(paper="A5")


# --------------------------------------------------------------------------- units


def test_combine_drops_tagged_cells_and_gives_unique_ids():
    def nb(*cells):
        return nbformat.v4.new_notebook(cells=list(cells))

    def tagged(cell, tag):
        cell.metadata["tags"] = [tag]
        return cell

    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    first = nb(tagged(code("a = 1"), "parameters"), tagged(code("a = 2"), "injected-parameters"),
               md("# One"), tagged(md("secret"), "remove_cell"))
    second = nb(md("# One"), md("text"))
    for cell in first.cells + second.cells:
        cell["id"] = "same"
    combined = combine_notebooks([first, second])
    # the template's preprocessor (conf.json) anchors the headings and lists the contents
    combined, resources = HeadingAnchors(enabled=True)(combined, {})
    toc = resources["toc"]
    assert [c.source for c in combined.cells][1:] == [
        '\n<h1 id="sec-2-one">One</h1>\n', "text"]
    assert len({c.id for c in combined.cells}) == len(combined.cells) == 3
    assert [t["anchor"] for t in toc] == ["sec-1-one", "sec-2-one"]  # same title, distinct ids


def test_anchor_headings_ignores_code_fences_and_level_three():
    toc: list = []
    text = anchor_headings("```\n# not a heading\n```\n### Detail\n## Real *one*", toc)
    assert [(t.level, t.title) for t in toc] == [(2, "Real one")]
    assert "# not a heading" in text and "### Detail" in text
    assert "<h2 id=\"sec-1-real-one\">Real <em>one</em></h2>" in text


def test_mark_numeric_cells_leaves_text_columns_alone():
    table = ("<table><thead><tr><th>Owner</th><th>MRR</th></tr></thead><tbody>"
             "<tr><td>Ann</td><td>$1,200</td></tr><tr><td>Bo</td><td>-3.5%</td></tr>"
             "</tbody></table>")
    marked = mark_numeric_cells(table)
    assert '<th class="num">MRR</th>' in marked and '<td class="num">-3.5%</td>' in marked
    assert "<td>Ann</td>" in marked and "<th>Owner</th>" in marked
