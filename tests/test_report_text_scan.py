"""Read the rendered demo report as its reader would: no raw value, no "(s)", no "n/a" in a
title, money in tables with its symbol, an n under every exhibit (issue 24, items 5, 11, 12;
issue 18, point 6). The scanner (tests/report_scan.py) is checked on small examples first,
so a clean report means the rules ran, not that they match nothing.
"""

from __future__ import annotations

import pytest
from report_scan import footer_defects, raw_defects, report_defects, table_defects, title_defects

from playbook import paths
from playbook.render import render_report

DEMO = paths.PACKAGE_DIR.parent / "data" / "demo"


# --------------------------------------------------------------------------- the scanner
@pytest.mark.parametrize(("text", "rule"), [
    ("value None here", "None"), ("AUC nan", "nan"), ("default null", "null"),
    ("2 warning(s) weaken", "(s)"), ("Reasons '', 'other'", "quoted repr"),
    ('["cheaper", "price"]', "quoted repr"), ("rate 0.1234567", "long float"),
    ("CSM gap -4.0", "hyphen before a number"), ("net churn was -11.0%", "hyphen before a number"),
    ("as of 2026-09-30", "ISO date"), ("holding $2,967,895 of MRR", "money not compact"),
    ("a gap of $153,291", "money not compact"), ("worth $1234567", "money not compact"),
])
def test_scanner_finds_each_raw_value(text, rule):
    assert [d for d in raw_defects(text) if d.startswith(rule)], (text, rule)


@pytest.mark.parametrize("text", [
    "None of the 458 accounts has an owner", "None: no row meets the rule",
    "a 95% interval 1.57-3.56", "6-12 months", "scored 0-100", "trailing-12-month GRR",
    "SHA-256", "2026-Q3", "CSM gap \u22124.0 FTE", "as of 30 Sep 2026", "the client's data",
    "gap to close (needed - delivered)", "$94,710 of MRR", "$2.97M and $840K", "$8,886",
])
def test_scanner_leaves_ordinary_prose_alone(text):
    assert raw_defects(text) == []


def test_scanner_reads_titles_tables_and_footers():
    page = ('<h3 class="action-title">279 lost, n/a of MRR</h3>'
            '<table class="data"><thead><tr><th>tier</th><th>MRR (USD)</th><th>% MRR</th>'
            '<th>expected loss</th></tr></thead><tbody><tr><td>high</td>'
            '<td class="num">2,967,895</td><td class="num">48%</td>'
            '<td class="num">$1.2M</td></tr></tbody></table>'
            '<figure class="exhibit"><figcaption class="source">Source: mrr</figcaption>'
            '</figure><figcaption class="source">Source: mrr; n = 1,089</figcaption>')
    assert len(title_defects(page)) == 1
    assert table_defects(page) == ["currency code in a header: MRR (USD)",
                                   "money without its symbol in 'MRR (USD)': 2,967,895"]
    assert footer_defects(page) == ["exhibit footer without n: Source: mrr"]


# --------------------------------------------------------------------------- the demo
@pytest.fixture(scope="module")
def demo_html(tmp_path_factory) -> str:
    if not (DEMO / "accounts.csv").is_file():
        pytest.fail("data/demo is missing: run `make demo` (make test does it first)")
    mp = pytest.MonkeyPatch()
    mp.setenv("PLAYBOOK_REPORTS", str(tmp_path_factory.mktemp("reports")))
    try:
        result = render_report("demo", progress=False)
    finally:
        mp.undo()
    return result.html.read_text(encoding="utf-8")


def test_demo_report_has_no_raw_value_and_every_exhibit_its_n(demo_html):
    assert demo_html.count('<figcaption class="source">') >= 20  # the exhibits were read
    assert '<table class="data' in demo_html
    defects = report_defects(demo_html)
    assert defects == [], "\n".join(defects)
