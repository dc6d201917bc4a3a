"""How a text file is written: its encoding and its delimiter, one answer for every reader.

The loader, ``make client`` (scaffold) and ``make check`` (profile) all call these, so a
file is never read one way by the check and another by the report.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from pathlib import Path

ENCODING_SAMPLE = 1 << 20  # bytes read to tell the encoding
SNIFF_CHARS = 8 * 1024  # sample in which csv.Sniffer looks for the delimiter
DELIMITERS = ",;\t|"


def detect_encoding(path: Path) -> str:
    """The file's text encoding: UTF-8 (with or without BOM), else cp1252, else latin-1.

    Judged on the first MiB. The sample is decoded incrementally, so a character cut in two
    by the end of the sample (and not by the end of the file) does not count against UTF-8.
    """
    with path.open("rb") as fh:
        head = fh.read(ENCODING_SAMPLE)
        whole = not fh.read(1)
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            codecs.getincrementaldecoder(enc)().decode(head, final=whole)
            return enc
        except UnicodeDecodeError:
            continue
    return "latin-1"


def detect_delimiter(path: Path, encoding: str) -> str:
    """The delimiter of a CSV file (a ``.tsv`` file: tab; a comma when nothing tells).

    Each candidate (``, ; tab |``) splits the first 50 non-blank whole lines of the first
    8 KiB with the csv module (quotes respected); the winner is the one whose most common
    number of fields is highest, weighted by the share of lines that have it. A title line
    above the header or a comma inside a quoted name therefore does not decide. Linear in
    the sample (``csv.Sniffer``'s quote search is quadratic: 30 s on 64 KiB of ``,"``).
    """
    if path.suffix.lower() == ".tsv":
        return "\t"
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        sample = fh.read(SNIFF_CHARS)
        more = bool(fh.read(1))
    cut = max(sample.rfind("\n"), sample.rfind("\r")) if more else len(sample)
    text = sample[:cut] if cut > 0 else sample
    lines = [ln for ln in text.splitlines() if ln.strip()][:50]
    best, best_score = ",", 0.0
    for sep in DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=sep)]
        if not widths:
            continue
        modal, seen = Counter(widths).most_common(1)[0]
        score = (modal - 1) * seen / len(widths)
        if score > best_score:
            best, best_score = sep, score
    return best
