"""Page layout of the PDF: the running header names the section whose content is on the page,
and a cell's closing sentence never starts a page alone. Rendered through the report's own
template (templates/playbook) on a small notebook; pages read back with pypdf."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from pypdf import PdfReader

from playbook.render_export import notebook_to_html
from playbook.render_manifest import ReportMeta
from playbook.render_pdf import html_to_pdf

FIRST, SECOND = "Appendix: data sources and quality", "Appendix: method and definitions"
QUALITY_NOTES = 24
FILLER = ("Quality note {i}: rows set aside, blank values and thin data, with the findings "
          "each one weakens, written out at some length so the paragraph wraps over several "
          "lines of the page.")


def meta() -> ReportMeta:
    return ReportMeta(client="layout", client_name="Layout Client Ltd", period_label="2026-Q3",
                      as_of="2026-09-30", title="Customer-success assessment",
                      version="v1", paper="A4", confidential=True)


def html_output(markup: str) -> nbformat.NotebookNode:
    return new_output("display_data", data={"text/html": markup})


def render(nb: nbformat.NotebookNode, tmp_path) -> list[str]:
    page = tmp_path / "report.html"
    page.write_text(notebook_to_html(nb, meta()), encoding="utf-8")
    return [p.extract_text() for p in PdfReader(html_to_pdf(page, tmp_path / "r.pdf")).pages]


def header(page: str) -> str:
    """The running header: the text after the client's name on the page's first line."""
    first = next(line for line in page.splitlines() if "Layout Client Ltd" in line)
    return first.split("Layout Client Ltd", 1)[1].strip()


@pytest.fixture(scope="module")
def appendix_pages(tmp_path_factory) -> list[str]:
    """The data-quality appendix fills a page and part of the next; the method appendix
    (which follows on the same page, class "continued") starts on that second page, under
    the last data-quality notes, and runs onto the next."""
    quality = "\n\n".join(FILLER.format(i=i) for i in range(QUALITY_NOTES))
    method = "\n\n".join(FILLER.format(i=i).replace("Quality", "Method") for i in range(40))
    nb = new_notebook(cells=[new_markdown_cell(f"# {FIRST}\n\n{quality}"),
                             new_markdown_cell(f"# {SECOND}\n\n{method}")])
    return render(nb, tmp_path_factory.mktemp("layout"))


def test_header_of_a_page_follows_the_section_at_its_top(appendix_pages):
    content = [p for p in appendix_pages if "Quality note" in p or "Method note" in p]
    shared = next(p for p in content if f"Quality note {QUALITY_NOTES - 1}" in p)
    assert "Method note 0" in shared, "fixture: the method appendix must start mid-page"
    assert "Quality note 0" not in shared, "fixture: the data-quality notes began earlier"
    assert header(shared) == FIRST      # the page's content starts with data quality
    after = next(p for p in content if "Method note 39" in p)
    assert after is not shared
    assert header(after) == SECOND     # the next page runs on in the method appendix


@pytest.mark.parametrize("height_mm", [176, 182, 185, 188, 194])
def test_a_closing_sentence_goes_with_the_exhibit_before_it(tmp_path, height_mm):
    """A tall block then a one-line sentence in one cell; at some heights only the block fits
    on the section's first page (182-188 mm here): the sentence then goes over with the
    block, never alone on the next page."""
    intro = "\n\n".join(FILLER.format(i=i) for i in range(5))
    block = f'<div style="height: {height_mm}mm; border: 1pt solid #ccc">exhibit body</div>'
    sentence = "<p>Closing sentence of the exhibit, under the chart it explains.</p>"
    cell = new_code_cell("", outputs=[html_output(block), html_output(sentence)])
    nb = new_notebook(cells=[new_markdown_cell(f"# Section\n\n{intro}"), cell])
    pages = render(nb, tmp_path)
    with_sentence = next(p for p in pages if "Closing sentence" in p)
    assert "exhibit body" in with_sentence


def test_a_long_exhibit_table_starts_under_its_heading(tmp_path):
    """A 50-row exhibit table after a heading low on a page: the exhibit starts under the
    heading (its long table breaks across pages), never leaving the heading alone."""
    import pandas as pd

    from playbook.exhibits import ExhibitBook

    intro = "\n\n".join(FILLER.format(i=i) for i in range(8))
    frame = pd.DataFrame({"account": [f"Account {i}" for i in range(50)],
                          "MRR": [1000.0 + i for i in range(50)]})
    exhibit = ExhibitBook().html(frame, title="Fifty renewals carry the largest expected loss",
                                 subtitle="Renewals due", source="renewals", n=50)
    nb = new_notebook(cells=[new_markdown_cell(f"# Section\n\n{intro}"),
                             new_markdown_cell("## Renewals due by expected loss"),
                             new_code_cell("", outputs=[html_output(exhibit)])])
    pages = render(nb, tmp_path)
    heading = next(p for p in pages[2:] if "Renewals due by expected loss" in p)
    assert "Fifty renewals carry the largest expected loss" in heading
    assert "Account 0" in heading


def test_only_the_first_numbered_section_and_the_first_appendix_start_a_page():
    """The executive summary and section 1 start a page; every section after section 1 (a
    custom notebook's, the appendices) follows on (class "continued"), so no section ends
    on a half-empty page."""
    from playbook.render_preprocessors import anchor_headings

    toc: list = []
    markdown = "\n\n".join(f"# {t}" for t in (
        "Executive summary", "1 Retention baseline", "2 Why customers leave",
        "10 Custom", "Our own analysis", FIRST, SECOND))
    html_out = anchor_headings(markdown, toc)
    continued = [e.title for e in toc if f'id="{e.anchor}" class="continued"' in html_out]
    assert continued == ["2 Why customers leave", "10 Custom", "Our own analysis", FIRST,
                         SECOND]


def _ten_row_table(css_class: str) -> str:
    rows = "".join(f"<tr><td>{i}</td><td>Action {i}: a line of text long enough to wrap "
                   f"over two lines of its narrow column</td><td>Row end {i}</td></tr>"
                   for i in range(1, 11))
    return (f'<table class="{css_class}" data-long="1"><thead><tr><th>#</th><th>Action</th>'
            f"<th>End</th></tr></thead><tbody>{rows}</tbody></table>")


@pytest.mark.parametrize("css_class, whole", [("data business-cases", True), ("data", False)])
def test_the_business_cases_stay_whole_where_a_long_table_would_break(tmp_path, css_class,
                                                                      whole):
    """Below a page's worth of text less a few lines, a ten-row long table breaks across
    pages (its header repeated); the business cases, set as tight, go whole to the next
    page (report.md: no table split across pages)."""
    intro = "\n\n".join(FILLER.format(i=i) for i in range(17))
    cell = new_code_cell("", outputs=[html_output(_ten_row_table(css_class))])
    pages = render(new_notebook(cells=[new_markdown_cell(f"# Section\n\n{intro}"), cell]),
                   tmp_path)
    first = next(p for p in pages if "Row end 1" in p)
    assert ("Row end 10" in first) is whole
