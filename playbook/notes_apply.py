"""The consultant's notes applied in the render path, to results.json and the combined notebook.

Two steps, both in :func:`playbook.render._publish_report`, once every notebook ran:

1. :func:`apply_to_results`, before the executive summary is built: an edited exhibit's
   ``title`` becomes the title shown (placeholders filled from this run's results) and the
   generated one is kept as ``generated_title``; a hidden exhibit leaves its notebook's
   ``exhibits`` and the others are numbered 1..k again, so the summary's bullets (exhibit
   titles, by report-wide number) equal the titles shown, and the notes' record goes to
   ``results["notes"]``.
2. :func:`apply_to_notebook`, on the combined notebook: the exhibits' titles, commentary,
   interview support and hiding, section commentary, the "What we heard" section, the
   appendix's list of edits (for the team's review, until the status is final) and the
   sign-off in the notebook's metadata (``playbook_signoff``, read by the template: "Draft"
   on the cover and in the footer of every page).

Anything later built from results.json and the combined notebook (the HTML, the PDF, a
slide deck) sees the titles shown and never a hidden exhibit. Every text of the notes is
escaped (titles, roles, quotes) or rendered as safe markdown
(:func:`playbook.sanitize.markdown_html`: commentary).

Warnings (a stale edit, an unknown id, a placeholder with no value) are named, recorded in
``results["notes"]["warnings"]`` and listed in the appendix; the run says them on stderr.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import nbformat

from playbook import textfmt as tf
from playbook.exhibits import notebook_id
from playbook.facts import facts_from_results
from playbook.notes import (
    PLACEHOLDER,
    ClientNotes,
    Unresolved,
    fill_placeholders,
    placeholder_value,
)
from playbook.render_preprocessors import PART_KEY, source_part
from playbook.sanitize import markdown_html

#: Metadata key of the combined notebook holding the sign-off the template shows.
SIGNOFF_KEY = "playbook_signoff"
#: Section id of the executive summary (the other sections are notebook ids).
SUMMARY = "summary"
#: The notebook whose method section lists the edits for the consultant.
APPENDIX = "appendix"
#: Quotes shown per theme in "What we heard" (the page budget: about one page).
QUOTES_PER_THEME = 3

_FIGURE = re.compile(r'<figure class="exhibit" data-exhibit-id="([^"]*)">.*?</figure>', re.S)
_TITLE = re.compile(r'(<h3 class="action-title">)(.*?)(</h3>)', re.S)


@dataclass
class AppliedNotes:
    """What :func:`apply_to_results` decided, for :func:`apply_to_notebook`."""

    notes: ClientNotes
    titles: dict[str, str] = field(default_factory=dict)       # id -> title shown (edited)
    hidden: set[str] = field(default_factory=set)
    commentary: dict[str, str] = field(default_factory=dict)   # id -> safe HTML
    support: dict[str, str] = field(default_factory=dict)      # id -> "Consistent with ..."
    sections: dict[str, str] = field(default_factory=dict)     # section id -> safe HTML
    record: dict[str, Any] = field(default_factory=dict)       # results["notes"]

    @property
    def warnings(self) -> list[str]:
        return list(self.record.get("warnings", []))


def signoff_text(notes: ClientNotes) -> str:
    """"Draft", "Reviewed by A. Partner on 10 Oct 2026", "Final, signed off by ..."."""
    if notes.status == "draft":
        return "Draft" + (f", reviewer {notes.reviewer}" if notes.reviewer else "")
    who = f"{notes.reviewer} on {tf.date(notes.date)}"
    return f"Reviewed by {who}" if notes.status == "reviewed" else f"Final, signed off by {who}"


def _filled(text: str, results: Mapping[str, Any], facts: Mapping[str, Any], what: str,
            warnings: list[str]) -> str | None:
    """``text`` with its placeholders filled, or None (and a warning naming ``what``)."""
    try:
        return fill_placeholders(text, results, facts)
    except Unresolved as exc:
        warnings.append(f"{what}: {exc}; it is not shown (the generated text stands).")
        return None


def _support_line(theme: str, notes: ClientNotes) -> str | None:
    """"Consistent with 7 of 9 interviews (theme)." or None when no interview raised it."""
    raised = notes.themes().get(theme)
    if not raised:
        return None
    return (f"Consistent with {raised} of {tf.plural(len(notes.interviews), 'interview')} "
            f"({theme}).")


def apply_to_results(results: dict[str, Any], notes: ClientNotes | None,
                     order: Sequence[str]) -> AppliedNotes | None:
    """Apply the notes to results.json's exhibits (in place) and record them.

    ``order``: the notebook stems in report order. Returns None (and changes nothing)
    without notes. Warnings name the notes' file (:attr:`ClientNotes.source`).

    Stale edit: an edited title whose ``generated`` (the generated title it was written
    against) differs from the title this run generated: the data changed under it. The
    edited title is still shown, and the warning names the exhibit, both titles and the
    fix, in the run's output and the appendix.
    """
    if notes is None:
        return None
    applied = AppliedNotes(notes)
    source = notes.source
    warnings: list[str] = []
    facts = vars(facts_from_results(results))
    seen: set[str] = set()
    edited: list[dict[str, Any]] = []
    hidden: list[dict[str, str]] = []
    for stem in order:
        section = results.get(stem)
        if not isinstance(section, dict) or not isinstance(section.get("exhibits"), list):
            continue
        kept = []
        for ex in section["exhibits"]:
            ex_id = str(ex.get("id") or "")
            note = notes.exhibits.get(ex_id)
            seen.add(ex_id)
            if note is None:
                kept.append(ex)
                continue
            if note.hide:
                hidden.append({"id": ex_id, "title": ex["title"]})
                applied.hidden.add(ex_id)
                continue
            if note.title is not None:
                _edit_title(ex, ex_id, note.title, note.generated, results, facts, source,
                            applied, edited, warnings)
            if note.commentary:
                text = _filled(note.commentary, results, facts,
                               f"commentary of exhibit {ex_id}", warnings)
                if text:
                    applied.commentary[ex_id] = markdown_html(text)
            if note.theme:
                line = _support_line(note.theme, notes)
                if line is None:
                    warnings.append(f"exhibit {ex_id}: theme '{note.theme}' is raised in no "
                                    f"interview of {source}; the support line is not shown.")
                else:
                    applied.support[ex_id] = line
            kept.append(ex)
        for number, ex in enumerate(kept, start=1):
            ex["number"] = number  # numbered without the hidden ones, as the report prints
        section["exhibits"] = kept
    for ex_id in notes.exhibits:
        if ex_id not in seen:
            warnings.append(f"exhibit {ex_id} of {source} is not in this report (renamed, or "
                            "left out by the data or report.detail); its edit is not used.")
    sections = {notebook_id(s) for s in order} | {SUMMARY}
    for key, sec in notes.sections.items():
        if key not in sections:
            warnings.append(f"section {key} of {source} is not in this report (sections: "
                            f"{', '.join(sorted(sections))}); its commentary is not used.")
            continue
        text = _filled(sec.commentary, results, facts, f"commentary of section {key}",
                       warnings)
        if text:
            applied.sections[key] = markdown_html(text)
    pinned = [h for h in notes.headlines if h in seen and h not in applied.hidden]
    for h in notes.headlines:
        if h not in pinned:
            warnings.append(f"headline {h} of {source} is not an exhibit shown in this "
                            "report; it is not pinned.")
    applied.record = {
        "status": notes.status,
        "reviewer": notes.reviewer,
        "date": notes.date.isoformat() if notes.date else None,
        "signoff": signoff_text(notes),
        "edited": edited,
        "hidden": hidden,
        "headlines": pinned,
        "interviews": len(notes.interviews),
        "themes": notes.themes(),
        "warnings": warnings,
    }
    results["notes"] = applied.record
    return applied


def _edit_title(ex: dict[str, Any], ex_id: str, title: str, generated: str | None,
                results: Mapping[str, Any], facts: Mapping[str, Any], source: str,
                applied: AppliedNotes, edited: list[dict[str, Any]],
                warnings: list[str]) -> None:
    """Replace an exhibit's title by the edited one (placeholders filled), with the checks."""
    now = str(ex["title"])
    stale = generated is not None and generated.strip() != now.strip()
    if generated is None:
        warnings.append(f"exhibit {ex_id}: the edited title records no generated title, so a "
                        "change of the data under it cannot be seen; add `generated:` (the "
                        f"title the run generates: `make notes` lists it) in {source}.")
    elif stale:
        warnings.append(f"Stale edit: exhibit {ex_id} was edited when its generated title "
                        f"read '{generated}'; this run generates '{now}'. Check the edited "
                        f"title's figures, then set `generated:` to the new title in {source}.")
    shown = _filled(title, results, facts, f"title of exhibit {ex_id}", warnings)
    if shown is None:
        return
    for name, text in figures_not_shown(title, ex, results, facts):
        elsewhere = exhibit_showing(text, results, ex_id)
        hint = f"; exhibit {elsewhere} shows it" if elsewhere else ""
        warnings.append(f"exhibit {ex_id}: the edited title quotes {name} ({text}), a figure "
                        "this exhibit does not show (not in its generated title, subtitle or "
                        f"notes){hint}. The executive summary cites exhibit {ex_id} for what "
                        "its title says: quote this exhibit's own figures, or edit the title "
                        f"of the exhibit that shows it, in {source}.")
    ex["generated_title"] = now
    ex["title"] = shown
    applied.titles[ex_id] = shown
    edited.append({"id": ex_id, "title": shown, "generated_title": now, "stale": stale})


def own_text(ex: Mapping[str, Any]) -> str:
    """What an exhibit's record says of its own figures: its generated title (the title
    before any edit), subtitle and notes, joined."""
    title = ex.get("generated_title") or ex.get("title")
    return " ".join(str(part or "") for part in (title, ex.get("subtitle"), ex.get("notes")))


def figures_not_shown(title: str, ex: Mapping[str, Any], results: Mapping[str, Any],
                      facts: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The placeholders of the edited ``title`` (``{grr}``, ``{dotted.path|money}``) whose
    figure, as the report writes it, is nowhere in the exhibit's own text: its generated
    title, subtitle and notes (:func:`own_text`). Dates are left out (an as-of date
    frames a title, it is not a finding). Each as ``(placeholder, figure)``, in order.

    The executive summary cites an exhibit for its title's figures: a title quoting the
    trailing 12-month GRR over a quarter's MRR bridge would cite a chart that does not show
    it. A figure the exhibit shows only in its chart or table is not seen here (the
    warning that follows says where it was looked for). Called once ``title`` was filled
    (every placeholder has a value)."""
    own = own_text(ex)
    missing = []
    for match in PLACEHOLDER.finditer(title):
        name, fmt = match.groups()
        if name is None or fmt == "date" or name == "as_of":
            continue
        text = placeholder_value(match, results, facts)  # (the title was filled: it has one)
        if text not in own:
            missing.append((match.group(0), text))
    return missing


def exhibit_showing(text: str, results: Mapping[str, Any], other_than: str) -> str | None:
    """The id of the first exhibit (results.json order) other than ``other_than`` whose own
    text (:func:`own_text`) holds ``text``; None when none does."""
    for section in results.values():
        exhibits = section.get("exhibits") if isinstance(section, Mapping) else None
        for ex in exhibits if isinstance(exhibits, list) else []:
            if ex.get("id") != other_than and text in own_text(ex):
                return str(ex.get("id"))
    return None


# --------------------------------------------------------------------------- notebook


def _html_cell(markup: str, part: int) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"text/html": markup})]
    cell.metadata[PART_KEY] = {"part": part}
    return cell


def _markdown_cell(text: str, part: int) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text)
    cell.metadata[PART_KEY] = {"part": part}
    return cell


def _opens_with(cell: nbformat.NotebookNode, heading: str) -> bool:
    """A markdown cell whose text opens with a heading (``"# "`` or ``"## "``)."""
    return (cell.get("cell_type") == "markdown"
            and str(cell.get("source", "")).lstrip().startswith(heading))


def _edit_figure(match: re.Match[str], applied: AppliedNotes) -> str:
    ex_id = html.unescape(match.group(1))
    figure = match.group(0)
    if ex_id in applied.hidden:
        return ""
    if ex_id in applied.titles:
        new = html.escape(applied.titles[ex_id])
        figure = _TITLE.sub(lambda m: f"{m.group(1)}{new}{m.group(3)}", figure, count=1)
    if ex_id in applied.support:
        figure = figure.replace(
            "</figure>", f'<p class="interview-support">{html.escape(applied.support[ex_id])}'
                         "</p></figure>")
    if ex_id in applied.commentary:
        figure += f'<div class="commentary">{applied.commentary[ex_id]}</div>'
    return figure


def _edit_exhibits(nb: nbformat.NotebookNode, applied: AppliedNotes) -> None:
    """Titles, support lines, commentary and hiding, on the exhibits' HTML outputs."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = data.get("text/html")
            if isinstance(text, str) and "data-exhibit-id=" in text:
                text = _FIGURE.sub(lambda m: _edit_figure(m, applied), text)
                if not text.strip():
                    continue  # the output held only a hidden exhibit
                data["text/html"] = text
            kept.append(output)
        cell.outputs = kept


def _section_commentary(nb: nbformat.NotebookNode, applied: AppliedNotes,
                        names: Sequence[str]) -> None:
    """Each section's commentary right after the cell of its ``#`` heading (and intro)."""
    ids = [SUMMARY if n == SUMMARY else notebook_id(n) for n in names]
    cells = list(nb.cells)
    out = []
    placed: set[int] = set()
    for cell in cells:
        out.append(cell)
        part = source_part(cell)
        key = ids[part] if part < len(ids) else ""
        if key in applied.sections and part not in placed and _opens_with(cell, "# "):
            out.append(_html_cell(f'<div class="commentary">{applied.sections[key]}</div>',
                                  part))
            placed.add(part)
    nb.cells = out


def what_we_heard_html(notes: ClientNotes) -> str:
    """The "What we heard" section's body: themes by the interviews that raised them, up to
    :data:`QUOTES_PER_THEME` quotes or paraphrases each (with role and date), escaped."""
    n = len(notes.interviews)
    dates = sorted(i.date for i in notes.interviews)
    roles = "; ".join(dict.fromkeys(i.role for i in notes.interviews))  # roles hold commas
    span = (tf.date(dates[0]) if dates[0] == dates[-1]
            else f"{tf.date(dates[0])} to {tf.date(dates[-1])}")
    parts = [f'<p class="heard-intro">{html.escape(tf.plural(n, "interview"))}, {span}: '
             f"{html.escape(roles)}. Grouped by theme, the most often raised first; quotes "
             "are the interviewee's words, paraphrases ours.</p>"]
    for theme, raised in notes.themes().items():
        items = [(i, f) for i in notes.interviews for f in i.findings if f.theme == theme]
        lis = []
        for interview, finding in items[:QUOTES_PER_THEME]:
            said = (f"“{html.escape(finding.quote)}”" if finding.quote is not None
                    else html.escape(str(finding.paraphrase)))
            lis.append(f'<li>{said} <span class="heard-source">— {html.escape(interview.role)}'
                       f", {html.escape(tf.date(interview.date))}</span></li>")
        parts.append(f'<div class="heard-theme"><p class="heard-title">{html.escape(theme)}'
                     f' <span class="heard-count">{raised} of {n} interviews</span></p>'
                     f'<ul>{"".join(lis)}</ul></div>')
    return f'<div class="what-we-heard">{"".join(parts)}</div>'


def _what_we_heard(nb: nbformat.NotebookNode, applied: AppliedNotes,
                   names: Sequence[str]) -> None:
    """"What we heard" after the last analysis section, before the first appendix (a
    notebook starting with 9, or a section's own "# Appendix" cell such as the account
    plan's); none without interviews."""
    if not applied.notes.interviews:
        return
    first_appendix = next((p for p, n in enumerate(names)
                           if n != SUMMARY and n.rsplit("/", 1)[-1].startswith("9")),
                          len(names))
    cells = list(nb.cells)
    at = next((i for i, c in enumerate(cells) if source_part(c) >= first_appendix
               or (c.cell_type == "markdown" and c.source.lstrip().lower()
                   .startswith("# appendix"))), len(cells))  # a section's own appendix too
    part = source_part(cells[at - 1]) if at else 0
    new = [_markdown_cell("# What we heard", part),
           _html_cell(what_we_heard_html(applied.notes), part)]
    nb.cells = cells[:at] + new + cells[at:]


def edits_html(applied: AppliedNotes) -> str:
    """The appendix's list of the consultant's edits (for the team's review): sign-off,
    each edited title beside the generated one, hidden exhibits, warnings."""
    rec = applied.record
    rows = "".join(
        f"<tr><td>{html.escape(e['id'])}{' (stale)' if e['stale'] else ''}</td>"
        f"<td>{html.escape(e['title'])}</td><td>{html.escape(e['generated_title'])}</td></tr>"
        for e in rec["edited"])
    parts = ['<p class="notes-edits-title"><strong>Edited by the consultant</strong> (for '
             "the team's review: left out of the final report)</p>",
             f"<p>Sign-off: {html.escape(rec['signoff'])}. Titles edited: "
             f"{len(rec['edited'])}; exhibits hidden: {len(rec['hidden'])}; commentary "
             f"paragraphs: {len(applied.commentary) + len(applied.sections)}.</p>"]
    if rows:
        parts.append('<table class="data"><thead><tr><th>Exhibit</th><th>Title shown</th>'
                     f"<th>Generated title</th></tr></thead><tbody>{rows}</tbody></table>")
    if rec["hidden"]:
        parts.append("<p>Hidden: " + "; ".join(
            f"{html.escape(h['id'])} ({html.escape(h['title'])})" for h in rec["hidden"])
            + ".</p>")
    for warning in rec["warnings"]:
        parts.append(f'<div class="callout note">{html.escape(warning)}</div>')
    return f'<div class="plain-table notes-edits">{"".join(parts)}</div>'




def _appendix_edits(nb: nbformat.NotebookNode, applied: AppliedNotes,
                    names: Sequence[str]) -> None:
    """"Edited by the consultant" at the end of the appendix (method and definitions), for
    the team; at the report's end without an appendix. Left out once the status is final
    (the client's copy): results.json keeps the record. Not in the contents (no heading of
    its own), set small: it costs the page budget as little as it can."""
    rec = applied.record
    if applied.notes.status == "final" or not (
            rec["edited"] or rec["hidden"] or rec["warnings"] or applied.commentary
            or applied.sections):
        return
    part = next((p for p, n in enumerate(names) if n != SUMMARY
                 and notebook_id(n) == APPENDIX), None)
    cells = list(nb.cells)
    inside = [i for i, c in enumerate(cells) if part is not None and source_part(c) == part]
    at = inside[-1] + 1 if inside else len(cells)
    own = part if part is not None else (source_part(cells[-1]) if cells else 0)
    nb.cells = cells[:at] + [_html_cell(edits_html(applied), own)] + cells[at:]


def apply_to_notebook(nb: nbformat.NotebookNode, applied: AppliedNotes | None,
                      names: Sequence[str]) -> nbformat.NotebookNode:
    """Apply the notes to the combined notebook (in place; returned for chaining).

    ``names``: what each part of the notebook is (:data:`SUMMARY` for the executive summary,
    then the notebook stems), as :func:`playbook.render_combine.combine_notebooks` numbered
    them. Nothing changes without notes. New cells get ids after the others'."""
    if applied is None:
        return nb
    nb.metadata[SIGNOFF_KEY] = {"status": applied.notes.status,
                                "text": signoff_text(applied.notes)}
    _edit_exhibits(nb, applied)
    _section_commentary(nb, applied, names)
    _what_we_heard(nb, applied, names)
    _appendix_edits(nb, applied, names)
    for index, cell in enumerate(nb.cells, start=1):
        cell["id"] = f"cell-{index:04d}"
    return nb
