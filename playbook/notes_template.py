"""``make notes CLIENT=x``: a notes file pre-filled from the client's last run.

Every exhibit of the last report (its ``results.json``) is listed by its stable id with its
current generated title, all as comments, so the consultant edits by uncommenting: the
``generated:`` line then records the title the edit was written against, and a later run
warns when the data change it (:mod:`playbook.notes_apply`). Hidden exhibits of the last
run are listed too (with the title they had). Keys: docs/notes.md.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from playbook import paths
from playbook.errors import ScaffoldError
from playbook.notes import PLACEHOLDERS, notes_file
from playbook.portfolio import latest_results
from playbook.storage import write_text


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text, ensure_ascii=False)


def _exhibits(results: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(notebook stem, id, generated title) of every exhibit, in report order, the hidden
    ones of that run included (their recorded titles)."""
    order = [s for s in results if isinstance(results[s], dict) and "exhibits" in results[s]]
    out = []
    for stem in sorted(order):
        for ex in results[stem]["exhibits"]:
            out.append((stem, str(ex.get("id") or ""),
                        str(ex.get("generated_title") or ex.get("title") or "")))
    for hidden in (results.get("notes") or {}).get("hidden", []):
        out.append(("(hidden in the last run)", str(hidden["id"]), str(hidden["title"])))
    return [e for e in out if e[1]]


def notes_text(client: str, results: Mapping[str, Any], source: str) -> str:
    """The pre-filled notes file for ``client`` from one run's ``results`` (read from
    ``source``, named in the header)."""
    lines = [
        f"# The consultant's notes for {client} (docs/notes.md), pre-filled from {source}.",
        "# Uncomment what you change. Quote every text (\"...\"): a title starting with {",
        "# would not be read as text. Numbers: placeholders, never typed by hand:",
        *textwrap.wrap(" ".join(f"{{{n}}}" for n in sorted(PLACEHOLDERS)), 88,
                       initial_indent="#   ", subsequent_indent="#   "),
        "# A title quotes its own exhibit's figures: the summary cites the exhibit for them.",
        "",
        "status: draft          # draft | reviewed | final (reviewed and final need both below)",
        "# reviewer: \"A. Partner\"",
        "# date: 2026-10-15",
        "",
        "exhibits:",
    ]
    stem_before = None
    for stem, ex_id, title in _exhibits(results):
        if stem != stem_before:
            lines += ["", f"  # --- {stem}"]
            stem_before = stem
        lines += [
            f"  # {ex_id}:",
            f"  #   generated: {_quoted(title)}",
            f"  #   title: {_quoted(title.replace('{', '{{').replace('}', '}}'))}",
            "  #   commentary: \"\"",
            "  #   hide: true",
            "  #   theme: \"\"",
        ]
    lines += [
        "",
        "# sections:             # commentary under a section's heading: summary or a "
        "notebook id",
        "#   revenue:",
        "#     commentary: \"\"",
        "",
        "# interviews:           # shown grouped by theme in \"What we heard\"",
        "#   - role: \"VP Customer Success\"      # a role, never a name",
        "#     date: 2026-09-12",
        "#     findings:",
        "#       - theme: \"Onboarding takes too long\"",
        "#         quote: \"...\"                  # or paraphrase: \"...\"",
        "",
        "# headlines: []         # exhibit ids pinned first among the summary's bullets",
        "",
    ]
    return "\n".join(lines)


def write_notes_template(client: str, *, force: bool = False) -> Path:
    """Write ``params/<client>.notes.yaml`` from the client's last run.

    Raises
    ------
    ScaffoldError
        The client has no report yet, or the file exists (without ``force``).
    """
    target = notes_file(client)
    if target.exists() and not force:
        raise ScaffoldError(f"{target} already exists; it is not overwritten.",
                            fix="Edit it, or pass FORCE=1 to replace it (its edits are lost).")
    found = latest_results(client)  # the portfolio page's: the latest as-of date
    if found is None:
        raise ScaffoldError(f"{client} has no report yet: the notes list the exhibits of the "
                            "last run.", fix=f"Run `make report CLIENT={client}` first.")
    folder, results = found
    try:
        source = str((folder / "results.json").relative_to(paths.project_root()))
    except ValueError:
        source = str(folder / "results.json")
    return write_text(target, notes_text(client, results, source), "the notes file")
