"""The data request a consultant sends the client, generated from the data contract.

``playbook data-request acme`` (``make data-request CLIENT=acme``) writes to
``reports/<client>/data-request/``:

* ``data-request-<client>.html`` and ``.pdf``: which tables and columns to export from the
  CRM, billing and customer-success tools, which are required and which optional, what each
  enables in the report, the export format, and the questions that come with the data;
  the PDF is laid out by the report's own engine (:func:`playbook.render_pdf.html_to_pdf`);
* ``data-request-<client>.xlsx``: a blank workbook with a "Read me" sheet and one sheet per
  table whose header row holds the contract's column names (required ones marked, each
  header commented with its meaning and format, code columns with a drop-down), for clients
  who prefer to paste their data into a template. Files named after the tables and with
  these headers are recognised by ``make client`` without any mapping.

Everything comes from :mod:`playbook.contract`, so a new column in the contract shows up in
the request without editing this module.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from playbook import paths
from playbook.config import check_client_name, read_yaml
from playbook.contract import TABLES, ColumnSpec, TableSpec
from playbook.contract_doc import ANALYSES
from playbook.render_pdf import html_to_pdf
from playbook.sanitize import CSP_META, sanitize_html
from playbook.scaffold import SYNONYMS
from playbook.storage import atomic_path, write_text

#: Where a table usually comes from in the client's systems.
SOURCES: dict[str, str] = {
    "accounts": "CRM account or company list (Salesforce Accounts, HubSpot Companies) or the "
                "CS platform's account list (Gainsight, ChurnZero)",
    "mrr": "billing or subscription system (Stripe, Chargebee, Zuora, Recurly), or CRM "
           "subscription / contract line items",
    "churn_events": "CRM closed-lost renewals or cancellation records, CS platform churn "
                    "records (Gainsight, ChurnZero)",
    "renewals": "CRM renewal opportunities (Salesforce Opportunities of type Renewal, HubSpot "
                "Deals)",
    "usage": "product analytics or the CS platform's usage data (Pendo, Mixpanel, Amplitude, "
             "Gainsight, ChurnZero), aggregated per account and month",
    "tickets": "support desk (Zendesk, Freshdesk, Intercom, Salesforce Service Cloud cases)",
    "surveys": "survey tool (Delighted, Qualtrics, SurveyMonkey, Gainsight, Zendesk CSAT)",
    "contacts": "CRM contacts with job title and role (Salesforce Contacts, HubSpot Contacts)",
    "touches": "CRM activities or the CS platform timeline (calls, emails, meetings, QBRs)",
    "csm_inputs": "the CS platform's scorecard fields, or a spreadsheet the customer-success "
                  "managers fill in (one row per account)",
    "onboarding": "CS platform success plans or the onboarding project tool (Gainsight, "
                  "Rocketlane, Asana)",
    "outcomes": "CS platform success plans with their measured outcomes (Gainsight Success "
                "Plans, ChurnZero Goals, Vitally Goals), or a spreadsheet: outcome, metric, "
                "baseline, target and each measurement",
    "triggers": "the CRM or CS platform timeline of account events (Gainsight Timeline, "
                "ChurnZero Alerts, Salesforce or HubSpot champion-change fields, LinkedIn "
                "Sales Navigator job-change alerts, funding news)",
}

#: What each table lets the report show, in the client's words.
WHY: dict[str, str] = {
    "accounts": "Every section: the list every other file is tied to, and the variables churn "
                "is compared across (industry, size, owner, segment, tenure).",
    "mrr": "The revenue baseline: MRR bridge (new, expansion, contraction, churn), gross and "
           "net revenue retention, cohort retention, churn-impact scenarios, value tiers.",
    "churn_events": "Why customers leave: churn reasons by count and by lost revenue, and how "
                    "often the reason is missing or 'Other'.",
    "renewals": "What predicts renewal: the renewal-driver model and surprise non-renewals.",
    "usage": "Adoption in the health score, the renewal model and the lifecycle stages.",
    "tickets": "Support load in the health score and the renewal model.",
    "surveys": "NPS and CSAT in the health score and the renewal model.",
    "contacts": "Relationship-risk flags (single-threaded accounts, no executive sponsor) and "
                "the renewal model.",
    "touches": "Days since the last executive and user contact, the touch model and the "
               "headcount it takes.",
    "csm_inputs": "The subjective half of the health scorecard and the value pyramid "
                  "(reference value).",
    "onboarding": "Time to complete onboarding, accounts stuck in onboarding, lifecycle stage.",
    "outcomes": "How many accounts have agreed success outcomes, how much of the target each "
                "has realised, and whether realised value predicts renewal.",
    "triggers": "Which events (champion left, reorganisation, budget cut, funding) come "
                "before churn or expansion, by how much, and which accounts had one with no "
                "follow-up since.",
}

KIND_FORMAT = {
    "id": "text identifier, identical in every file",
    "text": "text",
    "date": "date, preferably YYYY-MM-DD",
    "month": "any date in the month, e.g. YYYY-MM-01",
    "money": "amount in your currency, no currency sign needed",
    "number": "number",
    "count": "whole number",
    "bool": "true / false",
    "code": "your values; tell us what each means",
}

#: Questions that come with the data (the data alone cannot answer them).
QUESTIONS = [
    "Which currency are the amounts in, and are they monthly (MRR) or annual (ARR)?",
    "Which period should the assessment cover, and up to which date is the export complete?",
    "What does the churn date record: the day the customer gave notice, or the end of the "
    "paid period?",
    "How are segments or tiers defined today, and who owns each account?",
    "Which onboarding steps does every successful customer go through?",
    "How do your customers define success with your product, and which measurements prove "
    "they get value?",
    "Which events tend to come before a purchase, an expansion or a renewal?",
]

CSS = """
@page { size: A4; margin: 18mm 16mm 18mm 16mm;
        @bottom-right { content: "Page " counter(page) " of " counter(pages);
                        font-size: 8pt; color: #666; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #222;
       line-height: 1.4; max-width: 60em; margin: 2em auto; }
h1 { font-size: 18pt; margin: 0 0 0.2em 0; color: #1f4e79; }
h2 { font-size: 13pt; margin: 1.4em 0 0.4em 0; color: #1f4e79; break-after: avoid; }
h3 { font-size: 11pt; margin: 1.2em 0 0.3em 0; break-after: avoid; }
p.meta { color: #666; margin: 0 0 1.5em 0; }
table { border-collapse: collapse; width: 100%; margin: 0.4em 0 0.8em 0;
        break-inside: auto; }
tr { break-inside: avoid; }
th, td { text-align: left; vertical-align: top; padding: 3px 6px;
         border-bottom: 0.5pt solid #ccc; }
th { border-bottom: 1pt solid #1f4e79; font-weight: bold; }
td.req { font-weight: bold; color: #1f4e79; white-space: nowrap; }
code { font-family: "DejaVu Sans Mono", monospace; font-size: 8.5pt; }
.muted { color: #666; }
section.table { break-inside: avoid-page; }
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def column_format(col: ColumnSpec) -> str:
    """The column's expected content, in the client's words."""
    text = KIND_FORMAT[col.kind]
    if col.min is not None and col.max is not None:
        text += f" from {col.min:g} to {col.max:g}"
    if col.codes:
        text += f" (we use: {', '.join(col.codes)})"
    return text


def typical_headers(table: str, column: str, n: int = 3) -> list[str]:
    """Field names the column often has in CRM and CS-platform exports."""
    names = [*SYNONYMS["*"].get(column, []), *SYNONYMS.get(table, {}).get(column, [])]
    seen: list[str] = []
    keys = {column.replace("_", "")}
    for name in names:
        key = "".join(ch for ch in name.lower() if ch.isalnum())
        if key not in keys:
            keys.add(key)
            seen.append(name)
    return seen[:n]


def enables(spec: TableSpec) -> str:
    """The report's analyses a table feeds (from the contract's ``used_by``)."""
    return "; ".join(ANALYSES[u] for u in spec.used_by if u in ANALYSES)


def _client_name(client: str | None) -> str:
    """The client's name from ``params/<client>.yaml``, else one made from the folder name.

    The file is read by the one safe YAML reader: a params file it refuses (too large,
    nested too deep, aliases that multiply, a key set twice) is a ParamsError, not a
    silently ignored name.
    """
    if not client:
        return ""
    path = paths.params_file(client)
    if path.exists():
        section = read_yaml(path).get("client")
        name = section.get("name") if isinstance(section, dict) else None
        if isinstance(name, str) and name.strip():
            return name
    return client.replace("-", " ").replace("_", " ").title()


def request_html(client_name: str = "", *, today: dt.date | None = None) -> str:
    """The data request as one self-contained HTML document (the client's name escaped; the
    Content-Security-Policy and the last pass of :mod:`playbook.sanitize`)."""
    today = today or dt.date.today()
    who = f" from {_e(client_name)}" if client_name else ""
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="en"><head><meta charset="utf-8">{CSP_META}',
        f"<title>Data request{_e(' - ' + client_name) if client_name else ''}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>Data request{': ' + _e(client_name) if client_name else ''}</h1>",
        f'<p class="meta">Customer-success assessment &middot; {today:%d %B %Y}</p>',
        "<h2>What we ask for, and why</h2>",
        f"<p>To assess how much revenue leaks, why customers leave, what predicts renewal, "
        f"who matters most and what coverage it takes, we need a few exports{who}. Only the "
        "account list is required; every other file adds sections to the report. A file "
        "that is missing does not stop the work: the report says what it would have shown.</p>",
        "<h2>How to export</h2><ul>",
        "<li>One file per table, as CSV (UTF-8) or Excel; keep your own column names: we map "
        "them. The blank workbook sent with this request has one sheet per table if you "
        "prefer to paste into it.</li>",
        "<li>The full history you have, at least 24 to 36 months, including customers who "
        "have left.</li>",
        "<li>One header line, then one row per record; no totals, subtotals or merged "
        "cells.</li>",
        "<li>The same account identifier in every file (the CRM account ID is best).</li>",
        "<li>Dates as YYYY-MM-DD if the tool allows; otherwise tell us whether day or month "
        "comes first.</li>",
        "<li>Leave a value blank when it is not known; do not type 0 or 'n/a'.</li>",
        "</ul>",
        "<h2>The tables at a glance</h2>",
        "<table><thead><tr><th>table</th><th>needed</th><th>usually from</th>"
        "<th>what it enables in the report</th></tr></thead><tbody>",
    ]
    for name, spec in TABLES.items():
        need = '<td class="req">required</td>' if spec.required else "<td>optional</td>"
        parts.append(f"<tr><td><code>{_e(name)}</code></td>{need}<td>{_e(SOURCES[name])}</td>"
                     f"<td>{_e(WHY[name])}</td></tr>")
    parts.append("</tbody></table>")
    parts.append("<h2>Columns per table</h2>")
    parts.append('<p class="muted">Required columns are marked; a file without them cannot '
                 "be used. The last column lists names the field often has in CRM and "
                 "customer-success tools.</p>")
    for name, spec in TABLES.items():
        status = "required" if spec.required else "optional"
        parts.append(f'<section class="table"><h3><code>{_e(name)}</code> ({status}): '
                     f"{_e(spec.description)}</h3>")
        parts.append(f'<p class="muted">From: {_e(SOURCES[name])}. Feeds: {_e(enables(spec))}.'
                     + (f" One row per {_e(' and '.join(spec.key))}." if spec.key else "")
                     + "</p>")
        if name == "mrr":
            parts.append("<p>Either one row per account and month (account, month, MRR), or "
                         "one row per subscription line (account, start date, end date blank "
                         "while open, MRR).</p>")
        parts.append('<table><colgroup><col style="width:19%"><col style="width:9%">'
                     '<col style="width:28%"><col style="width:22%"><col style="width:22%">'
                     "</colgroup><thead><tr><th>column</th><th></th><th>what</th>"
                     "<th>format</th><th>often called</th></tr></thead><tbody>")
        for col in spec.columns:
            req = '<td class="req">required</td>' if col.required else "<td></td>"
            what = col.description or col.name.replace("_", " ").capitalize() + "."
            parts.append(f"<tr><td><code>{_e(col.name)}</code></td>{req}<td>{_e(what)}</td>"
                         f"<td>{_e(column_format(col))}</td>"
                         f"<td>{_e(', '.join(typical_headers(name, col.name)))}</td></tr>")
        parts.append("</tbody></table></section>")
    parts.append("<h2>Questions that come with the data</h2>")
    parts.append("<p>The data cannot answer these; a short note or a call is enough.</p><ol>")
    parts += [f"<li>{_e(q)}</li>" for q in QUESTIONS]
    parts.append("</ol></body></html>")
    return sanitize_html("\n".join(parts))


def request_workbook(path: Path, client_name: str = "") -> Path:
    """Write the blank workbook: a read-me sheet and one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    readme = book.active
    readme.title = "Read me"
    rows = [
        [f"Data request{': ' + client_name if client_name else ''}"],
        ["One sheet per table. Paste your export under the header row, or send your own "
         "files with your own column names: both work."],
        ["Headers in blue are required; hover over a header for what it means. Keep dates "
         "as dates (or YYYY-MM-DD) and leave unknown values blank."],
        [],
        ["table", "needed", "usually from", "what it enables"],
    ]
    rows += [[name, "required" if spec.required else "optional", SOURCES[name], WHY[name]]
             for name, spec in TABLES.items()]
    for row in rows:
        readme.append(row)
    readme["A1"].font = Font(bold=True, size=14)
    for cell in readme[5]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCD", (16, 10, 60, 80), strict=True):
        readme.column_dimensions[letter].width = width
    for row in readme.iter_rows(min_row=6):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    required_fill = PatternFill("solid", fgColor="DCE6F1")
    for name, spec in TABLES.items():
        sheet = book.create_sheet(name[:31])
        sheet.append([c.name for c in spec.columns])
        for idx, col in enumerate(spec.columns, start=1):
            cell = sheet.cell(row=1, column=idx)
            cell.font = Font(bold=True, color="1F4E79" if col.required else "000000")
            if col.required:
                cell.fill = required_fill
            note = (("Required. " if col.required else "Optional. ")
                    + (col.description or col.name.replace("_", " ").capitalize() + ".")
                    + f"\nFormat: {column_format(col)}")
            often = typical_headers(name, col.name)
            if often:
                note += f"\nOften called: {', '.join(often)}"
            cell.comment = Comment(note, "cs-playbook", width=300, height=120)
            letter = cell.column_letter
            sheet.column_dimensions[letter].width = max(14, len(col.name) + 4)
            if col.codes:
                rule = DataValidation(type="list", formula1=f'"{",".join(col.codes)}"',
                                      allow_blank=True, showErrorMessage=False)
                rule.add(f"{letter}2:{letter}100000")
                sheet.add_data_validation(rule)
        sheet.freeze_panes = "A2"
    with atomic_path(path, "the data-request workbook") as tmp:  # no half workbook
        book.save(tmp)
    return path


def write_data_request(client: str | None = None, *, out: Path | None = None,
                       pdf: bool = True) -> dict[str, Path]:
    """Write the HTML, PDF and XLSX data request; returns ``{"html": ..., "pdf": ...,
    "xlsx": ...}``. Default folder: ``reports/<client or 'template'>/data-request/``."""
    if client:
        check_client_name(client)
    stem = client or "template"
    folder = out or paths.reports_dir() / stem / "data-request"
    name = _client_name(client)  # a params file it refuses stops before anything is written
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["html"] = folder / f"data-request-{stem}.html"
    write_text(files["html"], request_html(name), "the data request (HTML)")
    if pdf:
        target = folder / f"data-request-{stem}.pdf"
        with atomic_path(target, "the data request (PDF)") as tmp:
            html_to_pdf(files["html"], tmp)
        files["pdf"] = target
    files["xlsx"] = request_workbook(folder / f"data-request-{stem}.xlsx", name)
    return files
