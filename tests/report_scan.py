"""A reader's scan of a rendered report's HTML for raw values and craft defects (issue 24,
items 5, 11 and 12), written independently of the playbook's formatters.

:func:`report_defects` returns one line per defect found (empty: the report is clean):

* raw reprs in the visible text: ``None`` (not "None of ..."), ``nan``, ``null``, ``(s)``,
  Python/JSON quoting (``''``, ``['``, ``["``, ``{'``), floats with six or more decimals,
  a hyphen-minus before a number ("-4.0" instead of "−4.0"), an ISO date ("2026-09-30"
  where the report writes "30 Sep 2026"), money of $100,000 or more in full dollars
  ("$2,967,895" where the report writes "$3.0M");
* "n/a" in an action title, a one-line finding, a summary bullet or a key figure;
* a money column of a table without its currency symbol, or a header that still names the
  currency code ("MRR (USD)");
* an exhibit footer without its n.
"""

from __future__ import annotations

import html
import re

RAW_PATTERNS = {
    "None": re.compile(r"\bNone\b(?!\s+of\b|:)"),
    "nan": re.compile(r"\bnan\b", re.I),
    "null": re.compile(r"\bnull\b"),
    "(s)": re.compile(r"\w\(s\)"),
    "quoted repr": re.compile(r"''|\['|\[\"|\{'|'\]|\"\]"),
    "long float": re.compile(r"\d\.\d{6,}"),
    "hyphen before a number": re.compile(r"(?<![\w.,/\-\u2013])-\d"),
    "ISO date": re.compile(r"\b(19|20)\d\d-[01]\d-[0-3]\d\b"),
    # money from $100,000 up reads compact ($840K, $2.97M), never in full dollars
    "money not compact": re.compile(r"[$€£]\d{1,3}(,\d{3}){2,}|[$€£][1-9]\d{2},\d{3}(?![\d,])"
                                    r"|[$€£]\d{4,}"),
}
TITLE_PATTERNS = [
    re.compile(r'<h3 class="action-title">(.*?)</h3>', re.S),
    re.compile(r'<p class="detail-finding">(.*?)</p>', re.S),
    re.compile(r'<ol class="headlines">(.*?)</ol>', re.S),
    re.compile(r'<div class="kf-value">(.*?)</div>', re.S),
]
#: Headers of money columns (a share or a count of them is not money).
MONEY_HEADER = re.compile(r"MRR|ARR|ARPA|CLV|cost|loss|revenue", re.I)
NOT_MONEY = re.compile(r"%|share|accounts|months|days|\bn\b|#", re.I)
CODE_HEADER = re.compile(r"\((USD|EUR|GBP|CHF|CAD|AUD|JPY)\b")
SYMBOLS = "$€£¥"
CODE_SUFFIX = re.compile(r"\d[KMBT]? [A-Z]{3}$")  # "1.50M CHF": a currency without a symbol
FIGURE = re.compile(r"\d")


def visible_text(markup: str) -> str:
    """The text a reader sees: no style, script or SVG metadata, no tags, entities resolved."""
    markup = re.sub(r"<(style|script|metadata)\b.*?</\1>", " ", markup, flags=re.S | re.I)
    markup = re.sub(r"<[^>]+>", " ", markup)
    return html.unescape(markup)


def _context(text: str, match: re.Match[str]) -> str:
    return " ".join(text[max(0, match.start() - 40):match.end() + 40].split())


def raw_defects(text: str) -> list[str]:
    """Raw reprs in visible text."""
    return [f"{name}: ...{_context(text, m)}..."
            for name, pattern in RAW_PATTERNS.items() for m in pattern.finditer(text)]


def title_defects(markup: str) -> list[str]:
    """'n/a' in titles, findings, summary bullets and key figures."""
    return [f"n/a in a title: {visible_text(t).strip()[:120]}"
            for pattern in TITLE_PATTERNS for t in pattern.findall(markup)
            if "n/a" in visible_text(t).lower()]


def _cells(row: str, tag: str) -> list[str]:
    return [visible_text(c).strip()
            for c in re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", row, re.S)]


def table_defects(markup: str) -> list[str]:
    """Money columns without a symbol; headers naming the currency code."""
    found = []
    for table in re.findall(r'<table class="data[^"]*">(.*?)</table>', markup, re.S):
        head = re.search(r"<thead>(.*?)</thead>", table, re.S)
        headers = _cells(head.group(1), "th") if head else []
        found += [f"currency code in a header: {h}" for h in headers if CODE_HEADER.search(h)]
        money = [i for i, h in enumerate(headers)
                 if MONEY_HEADER.search(h) and not NOT_MONEY.search(h)]
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[-1], re.S):
            cells = _cells(row, "th") + _cells(row, "td") if "<th" in row else _cells(row, "td")
            for i in money:
                if i < len(cells) and FIGURE.search(cells[i]) and not any(
                        s in cells[i] for s in SYMBOLS) and not CODE_SUFFIX.search(cells[i]):
                    found.append(f"money without its symbol in '{headers[i]}': {cells[i]}")
    return found


def footer_defects(markup: str) -> list[str]:
    """Exhibit footers without their n."""
    return [f"exhibit footer without n: {visible_text(f).strip()[:100]}"
            for f in re.findall(r'<figcaption class="source">(.*?)</figcaption>', markup, re.S)
            if not re.search(r"\bn = \d", visible_text(f))]


def report_defects(markup: str) -> list[str]:
    """Every defect of a rendered report's HTML (empty: none)."""
    return (raw_defects(visible_text(markup)) + title_defects(markup)
            + table_defects(markup) + footer_defects(markup))
