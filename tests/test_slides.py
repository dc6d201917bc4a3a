"""The slide deck (issue 21, point 5): built from the finished report, it has the report's
exhibits in order with their action titles, charts as pictures, tables and the
recommendations as native tables whose cells are the results, the "so what" slide when the
results hold one, the appendix as backup, and nothing from client text that can run.

The report here is a small one made with the playbook's own exhibit and summary markup
(:class:`~playbook.exhibits.ExhibitBook`, :func:`~playbook.recommendations.recommendations_html`);
what a deck must show is read back independently (``tests/slides_checks.py``: regular
expressions on the HTML, the recommendations from results.json). The demo's deck is checked
the same way by ``tests/test_report_e2e.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import io
import re
import zipfile
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from lxml import etree
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from slides_checks import deck_problems

from playbook import charts
from playbook import slides_style as st
from playbook.config import load_params
from playbook.exhibits import ExhibitBook
from playbook.recommendations import Recommendation, recommendations_html
from playbook.render_manifest import ReportMeta, output_records, write_json
from playbook.slides import (
    _only_inline_images,
    chart_png,
    column_widths,
    rebuild_slides,
    write_slides,
)
from playbook.slides_source import Table, read_report, svg_xml
from playbook.slides_template import build_template

HOSTILE = "=HYPERLINK(\"http://evil.example\",\"x\")\x07 <script>alert(1)</script> & co"
META = ReportMeta(client="t", client_name="Acme <b>Corp</b>", period_label="2026-Q3",
                  as_of="2026-09-30", title="Customer-success assessment", version="v1")


def bar_chart() -> plt.Figure:
    fig, ax = plt.subplots()
    ax.barh(["a", "b", "c"], [3, 2, 1], color=charts.ACCENT)
    return fig


def recommendations() -> list[Recommendation]:
    return [
        Recommendation(1, "Launch an executive-sponsor programme for 610 accounts", "VP CS",
                       "High", 506_426.5, "60 days", "r1", mrr_exposed=2_967_895.0,
                       exhibits=[2]),
        Recommendation(2, f"Fix reason capture {HOSTILE}", "CS operations", "Medium", None,
                       "30 days", "r2"),
    ]


def report_html(front: str = "") -> tuple[str, list[tuple[str, str]]]:
    """A small report (``front``, summary, two sections, an appendix) and its exhibits'
    (title, kind)."""
    book = ExhibitBook()
    table = pd.DataFrame({"tier": ["high", "low"], "accounts": [114, 686],
                          "MRR (USD)": [3_100_000.0, 450_000.0]})
    exhibits = [
        (book.html(bar_chart(), title="Three reasons explain 60% of lost MRR",
                   subtitle="Lost MRR by reason", source="churn_events", n=143), "chart"),
        (book.html(table, title=f"The top tier holds most MRR {HOSTILE}",
                   subtitle="Accounts and MRR by tier", source="accounts, mrr", n=800,
                   notes="Tiers by value score."), "table"),
        (book.html(bar_chart(), title="Renewal rate rises with health", subtitle="By band",
                   source="renewals", n=1666, n_of="renewal decisions"), "chart"),
    ]
    page = f"""<html><body><main>{front}
<h1 id="sec-1">Executive summary</h1>
<p class="sca">Acme billed $6.2M of MRR. The answer: act.</p>
<div class="key-figures"><div class="kf"><div class="kf-value">$6.2M</div>
<div class="kf-label">MRR</div><div class="kf-note">at 30 Sep 2026</div></div></div>
<h2>What the data says</h2>
<ol class="headlines"><li>Three reasons explain 60% of lost MRR <span class="ref">(Exhibit 1)
</span></li></ol>
<h2>Recommendations</h2>
{recommendations_html(recommendations(), "USD")}
<h1 id="sec-2">1 Why customers leave</h1>
<p>One sentence a supporting exhibit left.</p>
{exhibits[0][0]}
<h2>Value</h2>
{exhibits[1][0]}
<h1 id="sec-3">2 Where to act</h1>
<div class="callout note">This section needs the usage table.</div>
<h1 id="sec-4">Appendix: method and definitions</h1>
<h2>Full regression table</h2>
<table class="data"><thead><tr><th>driver</th><th>odds ratio</th></tr></thead>
<tbody><tr><td>Usage</td><td class="num">0.38</td></tr></tbody></table>
{exhibits[2][0]}
</main></body></html>"""
    titles = [(t, kind) for t, kind in zip(
        ["Three reasons explain 60% of lost MRR", f"The top tier holds most MRR {HOSTILE}",
         "Renewal rate rises with health"], [k for _, k in exhibits], strict=True)]
    return page, titles


def publish(folder: Path, results_extra: dict | None = None, front: str = "") -> Path:
    """A published report folder: report.html, results.json, manifest.json."""
    page, _ = report_html(front)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.html").write_text(page, encoding="utf-8")
    results = {"meta": dataclasses.asdict(META),
               "summary": {"recommendations": [vars(r) for r in recommendations()]},
               **(results_extra or {})}
    write_json(folder / "results.json", results)
    write_json(folder / "manifest.json", {"outputs": output_records(folder)})
    return folder


def titles(path: Path) -> list[str]:
    return [s.shapes.title.text for s in Presentation(str(path)).slides]


def test_deck_follows_the_report(tmp_path):
    folder = publish(tmp_path / "r")
    deck_path = rebuild_slides(folder)
    assert deck_problems(folder) == []
    clean = HOSTILE.replace("\x07", "")  # a control character cannot be kept, the rest is
    assert titles(deck_path) == [
        "Customer-success assessment", "Executive summary", "What the data says",
        "Recommendations", "1 Why customers leave", "Three reasons explain 60% of lost MRR",
        f"The top tier holds most MRR {clean}", "2 Where to act", "Backup",
        "Full regression table", "Renewal rate rises with health"]
    slides = list(Presentation(str(deck_path)).slides)
    # the table exhibit is a native table with the cells as the report prints them
    table = next(s for s in slides[6].shapes if s.has_table).table
    cells = [table.cell(r, c).text for r in range(3) for c in range(3)]
    page, _ = report_html()
    printed = re.search(r"The top tier holds.*?(<table.*?</table>)", page, re.S).group(1)
    cell = re.compile(r"<t[hd](?:\s[^>]*)?>(.*?)</t[hd]>")
    assert cells == [html.unescape(t) for t in cell.findall(printed)]
    assert cells[:4] == ["tier", "accounts", "MRR", "high"]
    # source and n in the footer; the notes beside it; the n's unit kept
    footer = next(s for s in slides[6].shapes if s.name == "source").text_frame.text
    assert footer == "Source: accounts, mrr; n = 800. Tiers by value score"
    footer = next(s for s in slides[10].shapes if s.name == "source").text_frame.text
    assert footer == "Source: renewals; n = 1,666 renewal decisions"
    # the backup exhibit is labelled as such; a section without exhibits shows its note
    labels = [s.text_frame.text for s in slides[10].shapes if s.name == "exhibit-label"]
    assert labels == ["Exhibit 3  ·  Backup"]
    assert "This section needs the usage table." in "".join(
        s.text_frame.text for s in slides[7].shapes if s.has_text_frame)
    # prose a slide leaves out is in the speaker notes
    assert "One sentence a supporting exhibit left." in slides[4].notes_slide.notes_text_frame.text


def test_deck_problems_are_found(tmp_path):
    """The reader's check fails a deck whose title, picture or table differs."""
    folder = publish(tmp_path / "r")
    deck_path = rebuild_slides(folder)
    prs = Presentation(str(deck_path))
    slides = list(prs.slides)
    slides[5].shapes.title.text_frame.text = "Churn reasons"  # a label, not the title
    picture = next(s for s in slides[10].shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE)
    picture._element.getparent().remove(picture._element)
    table = next(s for s in slides[3].shapes if s.has_table).table
    table.cell(1, 2).text_frame.text = "CFO"
    prs.save(str(deck_path))
    problems = " | ".join(deck_problems(folder))
    assert "not the report's exhibits" in problems
    assert "exhibit 3 is a chart" in problems
    assert "recommendation row" in problems
    assert "manifest.json does not list report.pptx" in problems


def test_so_what_slide_only_when_results_hold_one(tmp_path):
    so_what = {"messages": [{"text": "Churn costs $1.9M a year."}, "Fix onboarding."],
               "prize": {"text": "$1.2M a year (range $0.8M to $1.6M)"},
               "decisions": ["Fund the sponsor programme", {"decision": "Hire 2 CSMs"}]}
    with_it = rebuild_slides(publish(tmp_path / "a", {"executive": {"so_what": so_what}}))
    without = rebuild_slides(publish(tmp_path / "b"))
    assert titles(with_it)[1] == "The so what: the prize and the decisions asked"
    assert titles(with_it)[2:] == titles(without)[1:]
    texts = " ".join(s.text_frame.text for s in list(Presentation(str(with_it)).slides)[1].shapes
                     if s.has_text_frame)
    for text in ("1. Churn costs $1.9M a year.", "2. Fix onboarding.",
                 "$1.2M a year (range $0.8M to $1.6M)", "1. Fund the sponsor programme",
                 "2. Hire 2 CSMs"):
        assert text in texts
    # an empty record (no message) gives no slide rather than an empty one
    empty = rebuild_slides(publish(tmp_path / "c", {"executive": {"so_what": {"messages": []}}}))
    assert titles(empty) == titles(without)


def test_a_page_before_the_summary_stays_before_it(tmp_path):
    """The report's own "so what" page (printed before the executive summary) keeps its
    place; the deck's so-what slide replaces it when results.json records one."""
    front = '<h1 id="sec-0">The so what</h1><p>Act on three things.</p>'
    plain_deck = titles(rebuild_slides(publish(tmp_path / "a", front=front)))
    assert plain_deck[:3] == ["Customer-success assessment", "The so what", "Executive summary"]
    so_what = {"messages": ["Churn costs $1.9M a year."]}
    replaced = titles(rebuild_slides(publish(tmp_path / "b", {"executive": {"so_what": so_what}},
                                             front=front)))
    assert replaced[1:3] == ["The so what: the prize and the decisions asked",
                             "Executive summary"]
    assert "The so what" not in replaced


def test_client_text_stays_plain_text(tmp_path):
    """No link, field (other than the slide number), macro, external target or control
    character comes from client text; the cover's client name is shown as text."""
    folder = publish(tmp_path / "r")
    deck = rebuild_slides(folder)
    with zipfile.ZipFile(deck) as z:
        names = z.namelist()
        parts = {n: z.read(n) for n in names if n.endswith((".xml", ".rels"))}
    assert not [n for n in names if "vba" in n.lower() or n.endswith(".bin")
                and "printerSettings" not in n]
    for name, xml in parts.items():
        assert b"hlinkClick" not in xml and b'TargetMode="External"' not in xml, name
        assert b"\x07" not in xml and b"_x0007_" not in xml, name
        root = etree.fromstring(xml)
        fields = root.findall(".//{http://schemas.openxmlformats.org/drawingml/2006/main}fld")
        if name.startswith("ppt/slides/slide"):  # (the layouts keep their date fields)
            assert [f.get("type") for f in fields] in ([], ["slidenum"]), name
    slides = list(Presentation(str(deck)).slides)
    assert "Acme <b>Corp</b>" in slides[0].placeholders[1].text_frame.text
    assert any('=HYPERLINK("http://evil.example","x")' in s.shapes.title.text for s in slides)


def test_charts_are_drawn_at_slide_size_and_load_nothing():
    fig = bar_chart()
    fig.set_size_inches(4, 2)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.find("<svg"):]
    # a report page's HTML writes SVG names in lower case; the deck restores them
    lowered = svg.replace("viewBox", "viewbox").replace("clipPath", "clippath")
    assert svg_xml(lowered) == svg
    image = Image.open(io.BytesIO(chart_png(svg_xml(lowered), width_in=8, dpi=50)))
    assert image.size == (400, 200)
    # the bars reach the right half of the picture: the drawing is scaled, not cropped
    right = image.convert("L").crop((200, 0, 400, 200))
    assert right.getextrema()[0] < 128
    # nothing is fetched but inline images
    png = base64.b64encode(b"\x89PNG...").decode()
    assert _only_inline_images(f"data:image/png;base64,{png}", "image/png") == b"\x89PNG..."
    for url in ("file:///etc/hostname", "http://127.0.0.1/x.png", "data:text/html;base64,PGI+"):
        assert _only_inline_images(url, "image/png").startswith(b"<svg")


def test_columns_fit_their_longest_word():
    table = Table(["#", "Action", "Owner"],
                  [["1", "Launch an executive-sponsor programme " * 3, "VP Customer Success"]],
                  [True, False, False])
    widths = column_widths(table, 12.0, 12)
    assert sum(widths) == pytest.approx(12.0)
    # "executive-sponsor" (17 characters) fits its column at 12 pt (0.62 em a character)
    assert widths[1] >= 18 * 12 * 0.62 / 72
    assert widths[1] > widths[2] > widths[0]


def test_template_is_the_house_style(tmp_path):
    """The committed template is 16:9 in the report's font and accent; regenerating it from
    the style module gives the same; the style's colours are the charts'."""
    assert (st.ACCENT, st.GREY, st.LIGHT_GREY, st.FONT) == (
        charts.ACCENT, charts.GREY, charts.LIGHT_GREY, charts.FONT)
    fresh = build_template(tmp_path / "house.pptx")
    for path in (st.template_path(), fresh):
        prs = Presentation(str(path))
        assert prs.slide_width / prs.slide_height == pytest.approx(16 / 9, abs=0.01)
        assert {layout.name for layout in prs.slide_layouts} >= {st.TITLE_LAYOUT,
                                                                   st.CONTENT_LAYOUT}
        with zipfile.ZipFile(path) as z:
            theme = z.read("ppt/theme/theme1.xml").decode()
        assert f'typeface="{st.FONT_FAMILY}"' in theme
        assert f'<a:accent1><a:srgbClr val="{st.ACCENT_HEX}"/>' in theme


def test_the_report_writes_the_deck_by_default(tmp_path):
    assert load_params("demo").report.slides is True
    page, _ = report_html()
    (tmp_path / "report.html").write_text(page, encoding="utf-8")
    out = write_slides(tmp_path / "report.html", {}, META, tmp_path / "report.pptx")
    # written whole (no partial file left beside it), without results it has no so-what
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.pptx"]
    assert titles(out)[1] == "Executive summary"
    assert read_report(page).exhibits()[1].table.numeric == [False, True, True]


@pytest.mark.parametrize("status", ["draft", "reviewed", None])
def test_a_draft_report_has_draft_on_every_slide(tmp_path, status):
    """The notes' sign-off (#23): a draft deck says DRAFT on every slide, as the PDF does
    on every page; a reviewed deck, or one without notes, does not."""
    extra = {"notes": {"status": status, "signoff": "x"}} if status else {}
    deck = rebuild_slides(publish(tmp_path / "r", results_extra=extra))
    stamps = [[sh.text_frame.text for sh in slide.shapes if sh.name == "draft"]
              for slide in Presentation(str(deck)).slides]
    assert len(stamps) > 5
    assert stamps == [["DRAFT"]] * len(stamps) if status == "draft" else not any(stamps)


def test_a_table_of_blank_cells_gets_equal_columns():
    """A table whose cells are all blank (a client without values) is still laid out: no
    division by zero, the columns share the width."""
    from playbook.slides import column_widths

    table = Table(header=["", ""], rows=[["", ""], ["", ""]], numeric=[False, False])
    widths = column_widths(table, 6.0, 12)
    assert widths == pytest.approx([3.0, 3.0])
    # no column at all (a roadmap with nothing planned): one blank column of the full width
    assert column_widths(Table(header=[], rows=[], numeric=[]), 6.0, 12) == [6.0]


def test_summary_tables_and_a_section_of_text_reach_the_deck(tmp_path):
    """The business cases and peer benchmarks under their ``###`` headings in the summary
    become slides with native tables equal to the page; a section without exhibits (What
    we heard) shows its own text on its slide."""
    front = ""
    page, _ = report_html(front)
    extra = ("<h3>Peer benchmarks</h3><table><thead><tr><th>Metric</th><th>Client</th>"
             "<th>Peers</th></tr></thead><tbody><tr><td>Net revenue retention</td>"
             '<td class="num">99.9%</td><td class="num">105%</td></tr></tbody></table>'
             "<p>Source: SaaS Capital, 2023; n = 1,500 companies.</p>")
    heard = ('<h1 id="sec-9">What we heard</h1><div class="what-we-heard"><p>3 interviews.</p>'
             "<ul><li>“Kick-off slips.” — CSM</li></ul></div>")
    page = page.replace('<h1 id="sec-2">', extra + heard + '<h1 id="sec-2">', 1)
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "report.html").write_text(page, encoding="utf-8")
    results = {"meta": dataclasses.asdict(META),
               "summary": {"recommendations": [vars(r) for r in recommendations()]}}
    write_json(folder / "results.json", results)
    write_json(folder / "manifest.json", {"outputs": output_records(folder)})
    slides = list(Presentation(str(rebuild_slides(folder))).slides)
    bench = next(s for s in slides if s.shapes.title.text == "Peer benchmarks")
    table = next(sh for sh in bench.shapes if sh.has_table).table
    assert [table.cell(1, c).text for c in range(3)] == ["Net revenue retention", "99.9%",
                                                          "105%"]
    footer = next(sh for sh in bench.shapes if sh.name == "source").text_frame.text
    assert footer == "Source: SaaS Capital, 2023; n = 1,500 companies."  # cited on the slide
    heard_slide = next(s for s in slides if s.shapes.title.text == "What we heard")
    text = " ".join(sh.text_frame.text for sh in heard_slide.shapes if sh.name == "storyline")
    assert "3 interviews." in text and "Kick-off slips." in text

