"""A reader's check of a published report's deck (``report.pptx``) against the report itself,
written independently of :mod:`playbook.slides_source`: the exhibits are read from
``report.html`` with regular expressions, the recommendations from ``results.json``.

:func:`deck_problems` returns one line per problem (empty: the deck follows the report).
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE

EXHIBIT = re.compile(r'<figure class="exhibit"[^>]*><div class="exhibit-label">Exhibit '
                     r'<span class="exhibit-no">(\d+)</span></div><h3 class="action-title">'
                     r'(.*?)</h3>.*?<div class="exhibit-body">(.*?)</div><figcaption', re.S)
MONEY = re.compile(r"^\$(\d+(?:\.\d+)?)([KM]?)$")
#: Characters no slide can hold (XML 1.0): the deck drops them.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def shown(text: str) -> str:
    """A text as a slide can show it."""
    return CONTROL.sub("", text)


def html_exhibits(page: str) -> list[tuple[int, str, str]]:
    """(number, title as printed, "chart" | "table" | "text") of each exhibit, in order."""
    out = []
    for number, title, body in EXHIBIT.findall(page):
        kind = "chart" if "<svg" in body else "table" if "<table" in body else "text"
        out.append((int(number), shown(html.unescape(title)), kind))
    return out


def money_value(text: str) -> float | None:
    """"$506K" -> 506000.0; "–" -> None."""
    match = MONEY.match(text.strip())
    if not match:
        return None
    return float(match.group(1)) * {"": 1, "K": 1e3, "M": 1e6}[match.group(2)]


def close(printed: float | None, value: float | None) -> bool:
    """A compact money figure equals a value to its printed precision (3 significant
    figures at most: within 0.6%, or $500 below $100K)."""
    if value is None or printed is None:
        return printed is None and (value is None or value == 0)
    return abs(printed - value) <= max(abs(value) * 0.006, 500)


def deck_problems(folder: Path) -> list[str]:
    """What in ``folder/report.pptx`` does not follow ``report.html`` and ``results.json``."""
    problems: list[str] = []
    page = (folder / "report.html").read_text(encoding="utf-8")
    results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    deck = Presentation(str(folder / "report.pptx"))
    if abs(deck.slide_width / deck.slide_height - 16 / 9) > 0.01:
        problems.append("the deck is not 16:9")
    slides = list(deck.slides)
    if slides[0].shapes.title.text != results["meta"]["title"]:
        problems.append("the first slide is not the title slide")
    on_slides = []
    for slide in slides:
        labels = [s for s in slide.shapes if s.name == "exhibit-label"]
        if not labels:
            continue
        match = re.match(r"Exhibit (\d+)", labels[0].text_frame.text)
        kinds = {"chart" if s.shape_type == MSO_SHAPE_TYPE.PICTURE else "table"
                 for s in slide.shapes if s.shape_type == MSO_SHAPE_TYPE.PICTURE or s.has_table}
        on_slides.append((int(match.group(1)), slide.shapes.title.text, kinds))
    expected = html_exhibits(page)
    if [(n, t) for n, t, _ in expected] != [(n, t) for n, t, _ in on_slides]:
        problems.append(f"exhibit slides {[(n, t[:30]) for n, t, _ in on_slides]} are not the "
                        f"report's exhibits {[(n, t[:30]) for n, t, _ in expected]}")
    for (number, _, kind), (_, _, kinds) in zip(expected, on_slides, strict=False):
        if kind in ("chart", "table") and kind not in kinds:
            problems.append(f"exhibit {number} is a {kind} in the report but not on its slide")
    recs = results["summary"]["recommendations"]
    rec_slides = [s for s in slides if s.shapes.title is not None
                  and s.shapes.title.text == "Recommendations"]
    tables = [s for s in rec_slides[0].shapes if s.has_table] if rec_slides else []
    if recs and not tables:
        problems.append("no native recommendations table")
    elif recs:
        table = tables[0].table
        rows = [[table.cell(r, c).text for c in range(len(table.columns))]
                for r in range(1, len(table.rows))]
        if len(rows) != len(recs):
            problems.append(f"{len(rows)} recommendation rows, results.json has {len(recs)}")
        for row, rec in zip(rows, recs, strict=False):
            cited = ""
            if rec["exhibits"]:
                word = "Exhibit" if len(rec["exhibits"]) == 1 else "Exhibits"
                cited = f" ({word} {', '.join(str(n) for n in rec['exhibits'])})"
            want = [str(rec["number"]), shown(rec["action"]) + cited, rec["owner"],
                    rec["priority"]]
            if row[:4] != want or row[6] != rec["timing"]:
                problems.append(f"recommendation row {row} differs from results.json {want}")
            if not close(money_value(row[4]), rec["mrr_at_stake"]):
                problems.append(f"expected loss {row[4]} is not {rec['mrr_at_stake']}")
            if not close(money_value(row[5]), rec["mrr_exposed"]):
                problems.append(f"MRR exposed {row[5]} is not {rec['mrr_exposed']}")
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file():
        outputs = {o["name"]: o for o in json.loads(manifest_path.read_text())["outputs"]}
        digest = hashlib.sha256((folder / "report.pptx").read_bytes()).hexdigest()
        if outputs.get("report.pptx", {}).get("sha256") != digest:
            problems.append("manifest.json does not list report.pptx with its sha256")
    return problems
