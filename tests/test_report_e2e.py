"""End to end: render the demo client's report and check it as a reader would.

Figures are computed here straight from the raw demo files with plain pandas, not with the
playbook's analyses, and must appear in the HTML and in the PDF's text.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re

import openpyxl
import pandas as pd
import pytest
from pypdf import PdfReader
from slides_checks import deck_problems

from playbook import paths
from playbook import textfmt as tf
from playbook.render import render_report

DEMO = paths.PACKAGE_DIR.parent / "data" / "demo"


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    if not (DEMO / "accounts.csv").is_file():
        pytest.fail("data/demo is missing: run `make demo` (make test does it first)")
    out = tmp_path_factory.mktemp("reports")
    mp = pytest.MonkeyPatch()
    mp.setenv("PLAYBOOK_REPORTS", str(out))
    try:
        # An earlier period first, so the 2026-Q3 report compares itself with it.
        render_report("demo", period="2026-Q2", progress=False)
        result = render_report("demo", progress=False)
    finally:
        mp.undo()
    html = result.html.read_text(encoding="utf-8")
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(result.pdf).pages)
    return result, html, pdf_text


def raw_mrr_by_month() -> pd.Series:
    raw = pd.read_csv(DEMO / "mrr_history.csv")
    return raw.groupby(raw["Month"].str[:7])["MRR (USD)"].sum()


def test_period_mrr_figures_appear_in_html_and_pdf(report):
    _, html, pdf_text = report
    by_month = raw_mrr_by_month()
    start, end = by_month["2026-06"], by_month["2026-09"]   # 2026-Q3: June's end -> Sept
    sentence = f"MRR moved from {tf.money(start)} to {tf.money(end)}"
    assert sentence in html
    assert sentence in " ".join(pdf_text.split())


def test_churn_reason_counts_appear(report):
    _, html, pdf_text = report
    events = pd.read_csv(DEMO / "churn_events.csv", keep_default_na=False)
    dates = pd.to_datetime(events["Cancellation Date"])
    window = events[(dates >= "2025-09-30") & (dates <= "2026-09-30")]
    code = window["Reason Code"].str.strip().str.lower()
    uninformative = code.isin(["", "other", "unknown", "n/a", "none"]).sum()
    text = f"({uninformative} of {len(window)})"
    assert text in html
    assert text in " ".join(pdf_text.split())


def test_html_is_self_contained_and_has_no_code(report):
    _, html, _ = report
    for bad in ("<script src=http", "<link href=http", "@import url(http", "<script"):
        assert bad not in html.lower()
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "session.start(" not in html           # code of the notebooks' cells
    assert 'class="highlight' not in html and 'class="jp-InputPrompt' not in html
    assert "injected-parameters" not in html and 'run_dir = "' not in html
    assert "<svg" in html                          # charts are inline


def test_pdf_is_paged_with_contents_and_numbered_exhibits(report):
    result, html, pdf_text = report
    pages = PdfReader(result.pdf).pages
    assert 15 <= len(pages) <= 30  # the deliverable's length (report.md: 15-30 pages)
    assert "Northwind Analytics (demo)" in pdf_text and "Confidential".upper() in pdf_text
    assert f"Page 2 of {len(pages)}" in pdf_text
    assert re.search(r"1 Retention baseline\s*\.*\s*\d+", pdf_text)
    numbers = [int(n) for n in re.findall(r'class="exhibit-no">(\d+)<', html)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 20
    assert "nan" not in re.sub(r"<[^>]+>", " ", html).lower().split()


def test_results_and_manifest(report):
    result, _, _ = report
    results = json.loads(result.results.read_text())
    period = results["01-revenue"]["findings"]["period"]
    by_month = raw_mrr_by_month()
    assert period["start_mrr"] == pytest.approx(by_month["2026-06"], abs=0.01)
    assert period["end_mrr"] == pytest.approx(by_month["2026-09"], abs=0.01)
    manifest = json.loads(result.manifest.read_text())
    text = json.dumps(manifest)
    assert "accounts.csv" in text and "pandas" in text


def test_summary_bullets_are_the_exhibit_titles_in_order(report):
    _, page, _ = report
    block = re.search(r'<ol class="headlines">(.*?)</ol>', page, re.S).group(1)
    bullets = re.findall(r"<li>(.*?) <span class=\"ref\">\(Exhibit (\d+)\)</span></li>", block)
    assert 4 <= len(bullets) <= 6
    titles = dict(re.findall(r'class="exhibit-no">(\d+)</span></div><h3 class="action-title">'
                             r"(.*?)</h3>", page))
    for text, number in bullets:
        assert titles[number] == text                 # word for word
    numbers = [int(n) for _, n in bullets]
    assert numbers == sorted(numbers)                 # in the order of the exhibits


def test_summary_numbers_come_from_results(report):
    result, page, _ = report
    results = json.loads(result.results.read_text())
    facts = results["summary"]["facts"]
    period = results["01-revenue"]["findings"]["period"]
    assert facts["mrr"] == period["end_mrr"]
    assert facts["grr"] == results["01-revenue"]["findings"]["headline_metrics"]["grr"]
    shown = {k["label"]: k["value"] for k in results["summary"]["key_figures"]}
    assert shown["MRR"] == tf.money(facts["mrr"]) and shown["MRR"] in page
    assert shown["Gross revenue retention"] == tf.pct(facts["grr"], 1)
    assert shown["Renewals at risk"] == tf.count(facts["at_risk_accounts"])
    assert results["summary"]["sca"] in html.unescape(page)
    assert results["summary"]["recommendations"], "the demo triggers recommendations"
    first = results["summary"]["recommendations"][0]
    assert html.escape(first["action"]) in page


def test_manifest_checksums_match_the_input_files(report):
    result, page, _ = report
    manifest = json.loads(result.manifest.read_text())
    recorded = {item["name"]: item["sha256"] for item in manifest["inputs"]}
    for file in DEMO.glob("*.csv"):
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        assert recorded[file.name] == digest
        assert f'<td class="hash">{digest}</td>' in page  # the appendix prints it whole


def test_second_period_compares_with_the_earlier_one(report):
    result, page, _ = report
    summary = json.loads(result.results.read_text())["summary"]
    assert summary["compared_with"] == "2026-Q2"
    assert summary["changes"] and all(c["verdict"] in ("better", "worse", "unchanged")
                                      for c in summary["changes"])
    assert "Since 2026-Q2" in page
    # the earlier run saw the renewals then ahead (its as-of date is before the export)
    before = {c["label"]: c["before"] for c in summary["changes"]}
    assert before["renewals at risk"] > 0 and before["MRR at risk"] > 0


GOLDEN = paths.PACKAGE_DIR.parent / "tests" / "fixtures" / "demo_results.json"


def test_results_equal_the_golden_copy_but_for_the_time_of_the_run(report):
    """Refactoring guard (issue 17): the demo's results.json, every figure, title and
    sentence, equals the committed copy except ``meta.generated_at``. A change that means to
    move a figure regenerates the copy in the same commit and says why:
    tests/fixtures/demo_results.json is written by rendering 2026-Q2 then 2026-Q3 (as the
    fixture above) and dropping meta.generated_at."""
    result, _, _ = report
    got = json.loads(result.results.read_text(encoding="utf-8"))
    got["meta"].pop("generated_at")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    differing = sorted(k for k in set(got) | set(want)
                       if not same_but_last_bits(got.get(k), want.get(k)))
    assert not differing, f"results.json sections that changed: {differing}"
    assert same_but_last_bits(got, want)


#: How far apart two floats of the golden copy may be: the last bits of what the CPU sums
#: (numpy's vector kernels and OpenBLAS pick their instructions by CPU, and so the order in
#: which they add): on an AMD EPYC machine 684 of the demo's floats (p-values, standard
#: errors, Cox coefficients) differed from the copy made on an earlier machine by up to
#: 1.2e-12 of their size, no text and no shown figure. A figure that truly moves moves by
#: far more.
GOLDEN_REL = 1e-9


def same_but_last_bits(got: object, want: object) -> bool:
    """``got == want``, but floats only within :data:`GOLDEN_REL` of each other (every key,
    list item, text, integer and null exactly)."""
    if isinstance(got, dict) and isinstance(want, dict):
        return got.keys() == want.keys() and all(
            same_but_last_bits(got[k], want[k]) for k in got)
    if isinstance(got, list) and isinstance(want, list):
        return len(got) == len(want) and all(
            same_but_last_bits(a, b) for a, b in zip(got, want, strict=True))
    if type(got) is float and type(want) is float:
        return (math.isclose(got, want, rel_tol=GOLDEN_REL)
                or (math.isnan(got) and math.isnan(want)))
    return type(got) is type(want) and got == want


def test_the_golden_comparison_tells_last_bits_from_a_moved_figure():
    want = {"a": [1.0, 0.004145559366022812, "GRR 88.7%"], "n": 3, "x": None}
    assert same_but_last_bits(
        {"a": [1.0, 0.0041455593660179825, "GRR 88.7%"], "n": 3, "x": None}, want)
    for moved in ({"a": [1.0, 0.00415, "GRR 88.7%"], "n": 3, "x": None},  # a figure
                  {"a": [1.0, 0.004145559366022812, "GRR 88.8%"], "n": 3, "x": None},
                  {"a": [1.0, 0.004145559366022812, "GRR 88.7%"], "n": 3.0, "x": None},
                  {"a": [1.0, 0.004145559366022812], "n": 3, "x": None},
                  {"a": [1.0, 0.004145559366022812, "GRR 88.7%"], "n": 3}):
        assert not same_but_last_bits(moved, want)


# ---------------------------------------------------------------- one figure per metric

#: How the report labels each headline rate (in prose, titles, chart labels and key figures),
#: and the key of ``headline_metrics`` it must equal.
METRIC_LABELS = {
    "grr": r"gross revenue retention|gross retention|GRR",
    "nrr": r"net revenue retention|net retention|NRR",
    "logo_churn": r"logo churn",
    "gross_revenue_churn": r"gross revenue churn",
}


def report_text_blocks(page: str) -> list[str]:
    """The report's text, one string per block (paragraph, heading, table cell, chart
    label), tags dropped: a figure and a label in two cells are never read together."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"</?(p|div|li|td|th|tr|h\d|text|tspan|figcaption|br)\b[^>]*>", "\n", page,
                  flags=re.I)
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return [" ".join(b.split()) for b in text.split("\n") if b.strip()]


def labelled_figures(blocks: list[str], label: str) -> list[tuple[str, int]]:
    """Every percentage printed right after ``label`` (within a few words, nothing but
    words between), as (figure, decimals)."""
    found = []
    for block in blocks:
        for m in re.finditer(rf"\b(?:{label})\b(?: \([^)]*\))?(?: (?:of|was|is|at|to|ran at|"
                             rf"improved to|declined to|held steady at))? ?:? ?(−?\d+(?:\.(\d))?)%",
                             block, flags=re.I):
            found.append((m.group(1), 1 if m.group(2) else 0))
    return found


def demo_headline_rates() -> dict[str, float]:
    """GRR, NRR and logo churn of the accounts paying in Sep 2025, followed to Sep 2026,
    from the raw demo file with plain pandas (the demo's churn recognition changes no
    month-end MRR: every cancellation ends its billing in the same month)."""
    raw = pd.read_csv(DEMO / "mrr_history.csv")
    by = raw.pivot_table(index="Account ID", columns=raw["Month"].str[:7],
                         values="MRR (USD)", aggfunc="sum", fill_value=0)
    then, now = by["2025-09"], by["2026-09"]
    base = then > 0
    grr = now[base].clip(upper=then[base]).sum() / then[base].sum()
    nrr = now[base].sum() / then[base].sum()
    return {"grr": grr, "nrr": nrr, "logo_churn": float((now[base] == 0).mean()),
            "gross_revenue_churn": 1 - grr}


def test_every_figure_labelled_as_a_headline_rate_is_that_rate(report):
    result, page, _ = report
    results = json.loads(result.results.read_text(encoding="utf-8"))
    head = results["01-revenue"]["findings"]["headline_metrics"]
    want = demo_headline_rates()
    blocks = report_text_blocks(page)
    for key, label in METRIC_LABELS.items():
        assert head[key] == pytest.approx(want[key], abs=1e-9), key
        found = labelled_figures(blocks, label)
        assert found, f"no figure labelled {key} in the report"
        for figure, decimals in found:
            assert figure == f"{want[key] * 100:.{decimals}f}", (key, figure, found)
    tiles = dict(re.findall(r'class="kf-value">([^<]*)</div><div class="kf-label">([^<]*)<',
                            page))
    tiles = {label: value for value, label in tiles.items()}
    assert tiles["Gross revenue retention"] == f"{want['grr']:.1%}"
    assert tiles["Net revenue retention"] == f"{want['nrr']:.1%}"
    assert tiles["Logo churn"] == f"{want['logo_churn']:.1%}"
    # a chart of logo churn by group marks the overall rate: the same logo churn
    for exhibit in page.split('<figure class="exhibit"')[1:]:
        subtitle = re.search(r'class="subtitle">([^<]*)<', exhibit)
        if subtitle and subtitle.group(1).lower().startswith("logo churn"):
            for overall in re.findall(r"overall (\d+)%", html.unescape(exhibit)):
                assert overall == f"{want['logo_churn'] * 100:.0f}", subtitle.group(1)
    assert head["label"] == "trailing 12 months" and head["withheld"] == {}


def test_the_account_workbook_is_published_beside_the_report_and_matches_results(report):
    """#19: accounts.xlsx and accounts.csv land in the report folder with report.pdf, are
    listed in the manifest with their checksums, and hold the figures results.json records
    (accounts, MRR and expected loss by next action); no cell is a formula."""
    result = report[0]
    folder = result.out_dir
    xlsx, csv = folder / "accounts.xlsx", folder / "accounts.csv"
    assert xlsx.is_file() and csv.is_file() and result.pdf.parent == folder
    manifest = json.loads(result.manifest.read_text(encoding="utf-8"))
    listed = {o["name"]: o for o in manifest["outputs"]}
    assert {"accounts.xlsx", "accounts.csv", "report.pdf", "results.json"} <= set(listed)
    assert listed["accounts.xlsx"]["sha256"] == hashlib.sha256(xlsx.read_bytes()).hexdigest()
    recorded = json.loads(result.results.read_text(encoding="utf-8"))
    book = recorded["05-account-plan"]["findings"]["workbook"]
    plan = pd.read_csv(csv, dtype={"account_id": str})
    assert book["accounts"] == len(plan)
    by_action = plan.groupby("next_action").agg(accounts=("account_id", "size"),
                                                mrr=("mrr", "sum"),
                                                expected_loss=("expected_loss", "sum"))
    for row in book["by_action"]:
        got = by_action.reindex([row["next_action"]]).fillna(0).iloc[0]
        assert row["accounts"] == got["accounts"], row["next_action"]
        assert row["mrr"] == pytest.approx(got["mrr"], abs=0.01)
        assert row["expected_loss"] == pytest.approx(got["expected_loss"], abs=0.01)
    assert sum(r["accounts"] for r in book["by_action"]) == len(plan)
    wb = openpyxl.load_workbook(xlsx)
    summary = {r[0]: r for r in wb["Summary"].iter_rows(values_only=True) if r and r[0]}
    for row in book["by_action"]:
        assert summary[row["next_action"]][1] == row["accounts"]
    assert all(c.data_type != "f" for s in wb.worksheets for r in s.iter_rows() for c in r)
    # the "where to act" totals add up from the same plan
    where = {r["value_tier"]: r for r in
             recorded["05-account-plan"]["findings"]["where_by_tier"]}
    assert where["total"]["accounts"] == len(plan)
    assert where["total"]["expansion"] == pytest.approx(
        plan["expansion_potential_mrr"].sum() * 12, rel=1e-9)


def test_slides_follow_the_report(report):
    """report.pptx (issue 21): the exhibits' action titles in the report's order, each chart
    a picture, each table and the recommendations native tables equal to the report and
    results.json; listed in the manifest (tests/slides_checks.py reads them independently)."""
    result, _, _ = report
    assert result.pptx.is_file()
    assert deck_problems(result.out_dir) == []

