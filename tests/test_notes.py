"""The consultant's notes (issue 23): validation, placeholders, stale edits, hidden exhibits,
pinned headlines, interview themes, escaping, and the pre-filled notes file.

These tests build small reports by hand (exhibits from :class:`ExhibitBook`, the combined
notebook, the template's exhibit numbering); the re-run with changed data is in
tests/test_notes_rerun.py."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from playbook.errors import ParamsError, ScaffoldError
from playbook.exhibits import ExhibitBook, ExhibitSpec, notebook_id
from playbook.notes import ClientNotes, Unresolved, fill_placeholders, parse_notes
from playbook.notes_apply import (
    SIGNOFF_KEY,
    SUMMARY,
    apply_to_notebook,
    apply_to_results,
    what_we_heard_html,
)
from playbook.notes_template import notes_text, write_notes_template
from playbook.portfolio import index_html
from playbook.render_combine import combine_notebooks
from playbook.render_preprocessors import ExhibitNumbers
from playbook.summary import headlines, headlines_html

GOLDEN = Path(__file__).parent / "fixtures" / "demo_results.json"
ORDER = ["01-revenue", "02-renewal-drivers"]


# --------------------------------------------------------------------------- a small report


def retention_bridge(title: str) -> ExhibitSpec:
    """A findings function: its name is the exhibit's key."""
    return ExhibitSpec(pd.DataFrame({"a": [1]}), title, "sub", "mrr", 10)


def churn_reasons(title: str) -> ExhibitSpec:
    return ExhibitSpec(pd.DataFrame({"a": [2]}), title, "sub", "churn_events", 10)


#: Per notebook: (findings function, title, headline).
EXHIBITS = {
    "01-revenue": [(retention_bridge, "GRR was 88.6%", True),
                   (churn_reasons, "Price leads the churn reasons", False),
                   (retention_bridge, "NRR was 98.5%", True)],
    "02-renewal-drivers": [(churn_reasons, "55 renewals are at risk", True),
                           (retention_bridge, "Usage decline drives risk", False)],
}


def small_report() -> tuple[dict, list[nbformat.NotebookNode]]:
    """results.json and the executed notebooks of a two-notebook report (no summary yet)."""
    results: dict = {"meta": {"currency": "USD"}}
    executed = []
    for stem, specs in EXHIBITS.items():
        book = ExhibitBook(prefix=notebook_id(stem))
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# Section {stem}")]
        for make, title, head in specs:
            spec = make(title)
            cell = nbformat.v4.new_code_cell("")
            markup = book.html(spec.content, title=spec.title, subtitle=spec.subtitle,
                               source=spec.source, n=spec.n, headline=head, key=spec.key)
            cell.outputs = [nbformat.v4.new_output("display_data",
                                                   data={"text/html": markup})]
            nb.cells.append(cell)
        results[stem] = {"findings": {}, "exhibits": book.titles()}
        executed.append(nb)
    return results, executed


def build(results: dict, executed: list, notes: ClientNotes | None
          ) -> tuple[str, dict, nbformat.NotebookNode]:
    """Apply the notes as the render path does; the report's HTML body (exhibits numbered
    by the template's preprocessor) and the applied record."""
    applied = apply_to_results(results, notes, ORDER)
    summary = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data={"text/html": headlines_html(headlines(results, ORDER))})]
    summary.cells = [nbformat.v4.new_markdown_cell("# Executive summary"), cell]
    combined = apply_to_notebook(combine_notebooks([summary, *executed]), applied,
                                 [SUMMARY, *ORDER])
    combined, _ = ExhibitNumbers().preprocess(combined, {})
    parts = []
    for c in combined.cells:
        parts.append(c.source if c.cell_type == "markdown" else "")
        parts += [o.get("data", {}).get("text/html", "") for o in c.get("outputs", [])]
    return "\n".join(parts), (applied.record if applied else {}), combined


def bullets_and_titles(page: str) -> tuple[list[tuple[str, str]], dict[str, str]]:
    block = re.search(r'<ol class="headlines">(.*?)</ol>', page, re.S).group(1)
    bullets = re.findall(r"<li>(.*?) <span class=\"ref\">\(Exhibit (\d+)\)</span></li>", block)
    titles = dict(re.findall(r'class="exhibit-no">(\d+)</span></div><h3 class="action-title">'
                             r"(.*?)</h3>", page))
    return bullets, titles


# --------------------------------------------------------------------------- ids


def test_exhibit_ids_are_notebook_and_findings_function_numbered_only_on_repeats():
    results, _ = small_report()
    ids = [e["id"] for e in results["01-revenue"]["exhibits"]]
    assert ids == ["revenue.retention_bridge", "revenue.churn_reasons",
                   "revenue.retention_bridge-2"]
    assert [e["id"] for e in results["02-renewal-drivers"]["exhibits"]] == [
        "renewal-drivers.churn_reasons", "renewal-drivers.retention_bridge"]
    assert notebook_id("custom/90-extra") == "extra"


# --------------------------------------------------------------------------- validation


def test_unknown_key_is_refused_with_file_key_and_fix():
    with pytest.raises(ParamsError) as err:
        parse_notes({"exhibits": {"revenue.retention_bridge": {"titel": "x"}}},
                    "params/acme.notes.yaml")
    text = str(err.value)
    assert "params/acme.notes.yaml" in text
    assert "exhibits.revenue.retention_bridge.titel" in text
    assert "did you mean 'title'" in text
    assert "docs/notes.md" in text


def test_unknown_placeholder_and_unsigned_review_are_refused():
    with pytest.raises(ParamsError, match=r"unknown placeholder \{gr\}.*did you mean \{grr\}"):
        parse_notes({"exhibits": {"a.b": {"title": "kept {gr}"}}}, "n.yaml")
    with pytest.raises(ParamsError, match="status 'final' needs reviewer and date"):
        parse_notes({"status": "final", "reviewer": "A. Partner"}, "n.yaml")
    with pytest.raises(ParamsError, match="exactly one of quote or paraphrase"):
        parse_notes({"interviews": [{"role": "CFO", "date": "2026-09-01",
                                     "findings": [{"theme": "t"}]}]}, "n.yaml")


# --------------------------------------------------------------------------- placeholders


def test_placeholders_resolve_to_results_json_values_formatted_as_the_report():
    results = json.loads(GOLDEN.read_text(encoding="utf-8"))
    facts = results["summary"]["facts"]
    hm = results["01-revenue"]["findings"]["headline_metrics"]
    text = ("GRR {grr}, NRR {nrr}, MRR {mrr}, {churned_accounts} churned, "
            "logo churn {01-revenue.findings.headline_metrics.logo_churn|pct}; {not a name}")
    expected = (f"GRR {hm['grr'] * 100:.1f}%, NRR {hm['nrr'] * 100:.1f}%, "
                f"MRR ${facts['mrr'] / 1e6:.1f}M, {int(facts['churned_accounts']):,} churned, "
                f"logo churn {hm['logo_churn'] * 100:.1f}%; {{not a name}}")
    assert fill_placeholders(text, results, facts) == expected
    assert expected.startswith("GRR 88.7%, NRR 99.9%, MRR $6.3M, 148 churned")  # by hand


def test_a_placeholder_without_a_value_is_not_shown_and_is_named():
    results, executed = small_report()
    notes = parse_notes({"exhibits": {"revenue.churn_reasons": {
        "title": "GRR stood at {grr}", "generated": "Price leads the churn reasons"}}}, "n")
    with pytest.raises(Unresolved):
        fill_placeholders("{grr}", results, {"grr": None})
    page, record, _ = build(results, executed, notes)
    assert "Price leads the churn reasons" in page and "GRR stood at" not in page
    assert any("title of exhibit revenue.churn_reasons" in w and "{grr}" in w
               for w in record["warnings"])


# --------------------------------------------------------------------------- stale edits


def test_a_stale_edit_is_warned_about_by_name_and_a_current_one_is_not():
    results, executed = small_report()
    notes = parse_notes({"exhibits": {
        "revenue.retention_bridge": {"title": "Retention is the issue",
                                     "generated": "GRR was 91.0%"},  # the data changed
        "revenue.churn_reasons": {"title": "Price, then product gaps",
                                  "generated": "Price leads the churn reasons"},
    }}, "params/acme.notes.yaml")
    page, record, _ = build(results, executed, notes)
    stale = [w for w in record["warnings"] if w.startswith("Stale edit")]
    assert len(stale) == 1
    assert "revenue.retention_bridge" in stale[0]
    assert "'GRR was 91.0%'" in stale[0] and "'GRR was 88.6%'" in stale[0]
    assert "params/acme.notes.yaml" in stale[0]
    assert [e["stale"] for e in record["edited"]] == [True, False]
    assert "Retention is the issue" in page and "Price, then product gaps" in page
    # the appendix-style list for the team says what the generated titles were
    assert [(e["id"], e["generated_title"]) for e in record["edited"]] == [
        ("revenue.retention_bridge", "GRR was 88.6%"),
        ("revenue.churn_reasons", "Price leads the churn reasons")]


def test_an_edited_title_quoting_a_figure_its_exhibit_does_not_show_is_warned_about():
    # the demo's notes once put the trailing 12-month GRR on the quarter's MRR bridge: the
    # summary then cited the bridge for a figure only the retention exhibit shows
    results, executed = small_report()
    results["01-revenue"]["findings"] = {"grr": 0.886, "reasons": 3}
    notes = parse_notes({"exhibits": {
        "revenue.churn_reasons": {"title": "Customers kept {01-revenue.findings.grr|pct}",
                                  "generated": "Price leads the churn reasons"},
        "revenue.retention_bridge": {"title": "Retention: {01-revenue.findings.grr|pct} "
                                              "kept, as of {as_of}",
                                     "generated": "GRR was 88.6%"},
    }}, "params/acme.notes.yaml")
    page, record, _ = build(results, executed, notes)
    quoted = [w for w in record["warnings"] if "does not show" in w]
    assert len(quoted) == 1  # the bridge shows 88.6% in its own title; dates are not figures
    assert quoted[0].startswith("exhibit revenue.churn_reasons:")
    assert "{01-revenue.findings.grr|pct} (88.6%)" in quoted[0]
    assert "exhibit revenue.retention_bridge shows it" in quoted[0]
    assert "params/acme.notes.yaml" in quoted[0]
    # a warning, not a veto: the consultant's title is shown
    assert "Customers kept 88.6%" in page


def test_an_edited_title_quoting_only_its_own_exhibits_figures_is_not_warned_about():
    results, executed = small_report()
    results["02-renewal-drivers"]["findings"] = {"at_risk": 55}
    notes = parse_notes({"exhibits": {"renewal-drivers.churn_reasons": {
        "title": "{02-renewal-drivers.findings.at_risk|count} renewals need an owner",
        "generated": "55 renewals are at risk"}}}, "n")
    _, record, _ = build(results, executed, notes)
    assert record["edited"][0]["title"] == "55 renewals need an owner"
    assert not [w for w in record["warnings"] if "does not show" in w]


# --------------------------------------------------------------------------- hiding


def test_hidden_exhibits_keep_numbering_consistent_and_bullets_equal_shown_titles():
    results, executed = small_report()
    notes = parse_notes({"exhibits": {
        "revenue.churn_reasons": {"hide": True},
        "revenue.retention_bridge-2": {"title": "Net retention fell short of 100%",
                                       "generated": "NRR was 98.5%"},
    }}, "n")
    page, record, _ = build(results, executed, notes)
    bullets, titles = bullets_and_titles(page)
    assert 'data-exhibit-id="revenue.churn_reasons"' not in page  # (the appendix names it)
    # 5 exhibits, one hidden: 1..4 without a gap, in document order
    numbers = [int(n) for n in re.findall(r'class="exhibit-no">(\d+)<', page)]
    assert numbers == [1, 2, 3, 4]
    assert titles == {"1": "GRR was 88.6%", "2": "Net retention fell short of 100%",
                      "3": "55 renewals are at risk", "4": "Usage decline drives risk"}
    for text, number in bullets:
        assert titles[number] == text
    assert [n for _, n in bullets] == ["1", "2", "3"]
    assert record["hidden"] == [{"id": "revenue.churn_reasons",
                                 "title": "Price leads the churn reasons"}]
    assert [e["number"] for e in results["01-revenue"]["exhibits"]] == [1, 2]


def test_hidden_headline_and_edited_headline_in_the_summary():
    results, executed = small_report()
    notes = parse_notes({"exhibits": {
        "revenue.retention_bridge": {"hide": True},
        "renewal-drivers.churn_reasons": {"title": "Renewals at risk need owners",
                                          "generated": "55 renewals are at risk"},
    }}, "n")
    page, record, _ = build(results, executed, notes)
    bullets, titles = bullets_and_titles(page)
    assert bullets == [("NRR was 98.5%", "2"), ("Renewals at risk need owners", "3")]
    assert titles["2"] == "NRR was 98.5%" and titles["3"] == "Renewals at risk need owners"
    assert "GRR was 88.6%" not in titles.values()  # hidden: no exhibit, no bullet


# --------------------------------------------------------------------------- pinned order


def test_pinned_headlines_come_first_in_the_notes_order():
    results, executed = small_report()
    notes = parse_notes({"headlines": ["renewal-drivers.churn_reasons",
                                       "revenue.churn_reasons"]}, "n")
    page, record, _ = build(results, executed, notes)
    bullets, titles = bullets_and_titles(page)
    assert bullets == [("55 renewals are at risk", "4"),
                       ("Price leads the churn reasons", "2"),  # promoted by the pin
                       ("GRR was 88.6%", "1"), ("NRR was 98.5%", "3")]
    assert record["headlines"] == ["renewal-drivers.churn_reasons", "revenue.churn_reasons"]


# --------------------------------------------------------------------------- interviews


INTERVIEWS = [
    {"role": "VP Customer Success", "date": "2026-09-01",
     "findings": [{"theme": "Onboarding is slow", "quote": "It takes months"},
                  {"theme": "Price", "paraphrase": "Renewal uplifts surprise buyers"}]},
    {"role": "CSM", "date": "2026-09-03",
     "findings": [{"theme": "Onboarding is slow", "quote": "Kick-off slips"},
                  {"theme": "Onboarding is slow", "quote": "Twice in one call"}]},
    {"role": "CFO", "date": "2026-09-05",
     "findings": [{"theme": "Price", "quote": "We discount too much"}]},
]


def test_themes_count_interviews_and_support_an_exhibit():
    results, executed = small_report()
    notes = parse_notes({"interviews": INTERVIEWS, "exhibits": {
        "revenue.churn_reasons": {"theme": "Price"},
        "revenue.retention_bridge": {"theme": "Nobody said this"}}}, "n")
    # by hand: onboarding in interviews 1 and 2 (twice in 2: counted once); price in 1 and 3
    assert notes.themes() == {"Onboarding is slow": 2, "Price": 2}
    page, record, combined = build(results, executed, notes)
    assert "Consistent with 2 of 3 interviews (Price)." in page
    assert any("Nobody said this" in w and "revenue.retention_bridge" in w
               for w in record["warnings"])
    headings = [c.source for c in combined.cells if c.cell_type == "markdown"]
    # after the last section (no appendix in this report)
    assert headings.index("# What we heard") > headings.index("# Section 02-renewal-drivers")
    heard = what_we_heard_html(notes)
    assert "3 interviews, 1 Sep 2026 to 5 Sep 2026: VP Customer Success; CSM; CFO." in heard
    assert heard.count('class="heard-theme"') == 2
    assert "2 of 3 interviews" in heard


def test_what_we_heard_comes_before_a_sections_own_appendix():
    """A section notebook that ends with its own appendix (the account plan's "Accounts to
    act on first"): the interviews go before that appendix, not after it."""
    results, executed = small_report()
    executed[-1].cells.append(nbformat.v4.new_markdown_cell("# Appendix: accounts to act on"))
    notes = parse_notes({"interviews": INTERVIEWS}, "n")
    _, _, combined = build(results, executed, notes)
    headings = [c.source for c in combined.cells if c.cell_type == "markdown"]
    assert (headings.index("# Section 02-renewal-drivers") < headings.index("# What we heard")
            < headings.index("# Appendix: accounts to act on"))


def test_nothing_is_shown_without_notes():
    results, executed = small_report()
    before = copy.deepcopy(results)
    page, record, combined = build(results, executed, None)
    assert results == before and record == {}
    assert SIGNOFF_KEY not in combined.metadata and "What we heard" not in page


def test_signoff_and_section_commentary():
    results, executed = small_report()
    notes = parse_notes({"status": "reviewed", "reviewer": "A. Partner",
                         "date": "2026-10-02",
                         "sections": {"revenue": {"commentary": "Read with *care*."},
                                      "nowhere": {"commentary": "x"}}}, "n")
    page, record, combined = build(results, executed, notes)
    assert combined.metadata[SIGNOFF_KEY] == {"status": "reviewed",
                                              "text": "Reviewed by A. Partner on 2 Oct 2026"}
    assert '<div class="commentary"><p>Read with <em>care</em>.</p>' in page
    assert page.index("# Section 01-revenue") < page.index("Read with") \
        < page.index('<h3 class="action-title">GRR was 88.6%')
    assert any("section nowhere" in w for w in record["warnings"])


# --------------------------------------------------------------------------- escaping


def test_hostile_text_in_notes_is_escaped():
    results, executed = small_report()
    hostile = "<script>alert(1)</script>"
    notes = parse_notes({
        "status": "draft", "reviewer": "<b>x</b>",
        "exhibits": {
            "revenue.retention_bridge": {"title": f"T {hostile}", "generated": "GRR was 88.6%",
                                         "commentary": "<img src=x onerror=alert(1)> "
                                                       "[y](javascript:alert(1))",
                                         "theme": "<i>t</i>"},
            "revenue.churn_reasons": {"title": "A & B \"q\"",
                                      "generated": "Price leads the churn reasons"}},
        "interviews": [{"role": "<b>CFO</b>", "date": "2026-09-01",
                        "findings": [{"theme": "<i>t</i>", "quote": f"</li>{hostile}"}]}],
    }, "n")
    page, record, _ = build(results, executed, notes)
    assert "<script" not in page and "<img" not in page and "<b>" not in page
    assert "<i>t</i>" not in page and "javascript:" not in page
    assert "T &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "A &amp; B &quot;q&quot;" in page
    bullets, titles = bullets_and_titles(page)
    assert ("T &lt;script&gt;alert(1)&lt;/script&gt;", "1") in bullets  # bullet = title


# --------------------------------------------------------------------------- make notes


def test_the_prefilled_notes_file_lists_every_exhibit_and_uncomments_cleanly():
    results, _ = small_report()
    results["01-revenue"]["exhibits"][0]["title"] = 'GRR: "88.6%" {x}'
    text = notes_text("acme", results, "reports/acme/2026-Q3/results.json")
    assert parse_notes(yaml.safe_load(text), "n").exhibits == {}  # all commented: valid
    for stem in EXHIBITS:
        for ex in results[stem]["exhibits"]:
            assert f"  # {ex['id']}:" in text
    # uncomment the first exhibit's id, generated and title lines
    lines = text.splitlines()
    at = lines.index("  # revenue.retention_bridge:")
    for i in range(at, at + 3):
        lines[i] = lines[i].replace("  # ", "  ", 1).replace("#   ", "  ", 1)
    notes = parse_notes(yaml.safe_load("\n".join(lines)), "n")
    note = notes.exhibits["revenue.retention_bridge"]
    assert note.generated == 'GRR: "88.6%" {x}' and note.title == 'GRR: "88.6%" {{x}}'
    assert fill_placeholders(note.title, results, {}) == note.generated  # braces as text


def test_the_portfolio_page_shows_each_clients_signoff(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path))
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    golden.pop("notes", None)  # (the demo has notes)
    for client, notes in (("a", {"signoff": "Draft"}), ("b", None),
                          ("c", {"signoff": "Final, signed off by <b>X</b> on 2 Oct 2026"})):
        results = dict(golden, **({"notes": notes} if notes else {}))
        (tmp_path / client / "2026-Q3").mkdir(parents=True)
        (tmp_path / client / "2026-Q3" / "results.json").write_text(json.dumps(results))
    page = index_html(["a", "b", "c"])
    rows = re.findall(r"<tr><td>.*?</tr>", page, re.S)
    assert '<div class="sub signoff">Draft</div>' in rows[0]
    assert "no sign-off (no notes file)" in rows[1]
    assert "Final, signed off by &lt;b&gt;X&lt;/b&gt; on 2 Oct 2026" in rows[2]


def test_the_teams_list_of_edits_is_left_out_of_the_final_report():
    edits = {"revenue.churn_reasons": {"title": "Price first",
                                       "generated": "Price leads the churn reasons"}}
    pages = {}
    for status in ("reviewed", "final"):
        results, executed = small_report()
        notes = parse_notes({"status": status, "reviewer": "A. Partner",
                             "date": "2026-10-02", "exhibits": edits}, "n")
        pages[status], record, _ = build(results, executed, notes)
        assert record["edited"][0]["generated_title"] == "Price leads the churn reasons"
    assert "Edited by the consultant" in pages["reviewed"]
    assert "Edited by the consultant" not in pages["final"]
    assert "Price leads the churn reasons" not in pages["final"]  # only the title shown


def test_make_notes_writes_once_from_the_last_run(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYBOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("PLAYBOOK_REPORTS", str(tmp_path / "reports"))
    (tmp_path / "params").mkdir()
    with pytest.raises(ScaffoldError, match="no report yet"):
        write_notes_template("acme")
    results, _ = small_report()
    for as_of, title in (("2026-06-30", "An earlier title"), ("2026-09-30", "GRR was 88.6%")):
        folder = tmp_path / "reports" / "acme" / as_of
        folder.mkdir(parents=True)
        results["meta"]["as_of"] = as_of
        results["01-revenue"]["exhibits"][0]["title"] = title
        (folder / "results.json").write_text(json.dumps(results))
    path = write_notes_template("acme")
    assert path == tmp_path / "params" / "acme.notes.yaml"
    text = path.read_text(encoding="utf-8")
    assert 'generated: "GRR was 88.6%"' in text and "An earlier title" not in text
    assert "reports/acme/2026-09-30/results.json" in text
    with pytest.raises(ScaffoldError, match="already exists"):
        write_notes_template("acme")
