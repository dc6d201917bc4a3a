"""The run's records: what the report says about itself (:class:`ReportMeta`),
``results.json`` (the findings every notebook recorded) and ``manifest.json`` (what went
into the run: inputs, parameters, settings, versions, commit, timings), so that a reader
can reproduce or check a report.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from playbook import paths
from playbook.checksums import file_sha256
from playbook.errors import RenderError
from playbook.provenance import provenance

PAPERS = ("A4", "Letter")


@dataclass(frozen=True)
class ReportMeta:
    """What the cover page, the running header and ``results.json`` say about the report.

    Attributes
    ----------
    client : str
        Client folder name (``data/<client>``).
    client_name : str
        Display name on the cover and in the running header.
    period_label : str
        Period of the assessment, e.g. ``2026-Q3``.
    as_of : str
        As-of date, ``YYYY-MM-DD``.
    title : str
        Report title on the cover.
    version : str
        Version label on the cover, e.g. ``v1.0 draft``.
    paper : str
        ``"A4"`` or ``"Letter"``.
    confidential : bool
        Print "Confidential" on the cover and in the footer.
    generated_at : str
        When the report was produced (ISO timestamp, minutes); defaults to now.
    currency : str
        ISO code of the client's currency (money in results and the summary).
    """

    client: str
    client_name: str
    period_label: str
    as_of: str
    title: str = "Customer-success assessment"
    version: str = ""
    paper: str = "A4"
    confidential: bool = True
    currency: str = "USD"
    generated_at: str = field(
        default_factory=lambda: dt.datetime.now().isoformat(sep=" ", timespec="minutes")
    )

    def __post_init__(self) -> None:
        if self.paper not in PAPERS:
            raise RenderError(
                f"Unknown paper size {self.paper!r}.", fix=f"Use one of {', '.join(PAPERS)}."
            )


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON."""
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n",
                    encoding="utf-8")
    return path


def merged_findings(folder: Path, meta: ReportMeta) -> dict[str, Any]:
    """``{"meta": ..., "<notebook-stem>": findings}`` from ``<folder>/*.json``."""
    results: dict[str, Any] = {"meta": asdict(meta)}
    for file in sorted(folder.glob("*.json")):
        try:
            results[file.stem] = json.loads(file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise RenderError(f"Findings file {file.name} is not valid JSON: {exc}",
                              fix="Record findings with json.dumps in the notebook.") from exc
    return results


def file_record(path: Path) -> dict[str, Any]:
    """Name, path, size in bytes and sha256 of one input file."""
    return {"name": path.name, "path": str(path), "bytes": path.stat().st_size,
            "sha256": file_sha256(path)}


def files_under(folder: Path) -> list[Path]:
    """Every file below ``folder`` in name order (none when it does not exist); a link
    leading out of ``folder`` is left out (never read: :func:`playbook.paths.inside_folder`)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if not p.name.startswith(".")
                  and paths.inside_folder(p, folder) is not None and p.is_file())


def output_records(folder: Path) -> list[dict[str, Any]]:
    """Name, size in bytes and sha256 of each file the run publishes at the top of its report
    folder (``report.pdf``, ``results.json``, the account workbook ``accounts.xlsx`` and
    ``accounts.csv`` ...), by name; the manifest itself is not listed."""
    return [{"name": p.name, "bytes": p.stat().st_size, "sha256": file_sha256(p)}
            for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".") and p.name != "manifest.json"]


def run_manifest(
    sources: Sequence[Path],
    parameters: Mapping[str, Any],
    meta: ReportMeta,
    inputs: Iterable[Path],
    settings: Mapping[str, Any] | None,
    started_at: dt.datetime,
    timings: Mapping[str, float],
    outputs: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """What went into the run and what it wrote, so a reader can reproduce or check it.

    ``timings`` are seconds per step; ``outputs`` the files the run publishes
    (:func:`output_records`); the versions and the commit come from
    :func:`playbook.provenance.provenance` (as the appendix states them).
    """
    finished_at = dt.datetime.now().astimezone()
    found = provenance()
    return {
        "report": asdict(meta),
        "run": {
            "started": started_at.isoformat(timespec="seconds"),
            "finished": finished_at.isoformat(timespec="seconds"),
            "duration_seconds": round((finished_at - started_at).total_seconds(), 2),
            "seconds": dict(timings),
        },
        "parameters": dict(parameters),
        "settings": dict(settings) if settings is not None else None,
        "notebooks": [file_record(nb) for nb in sources],
        "inputs": [file_record(Path(p)) for p in inputs],
        "outputs": [dict(o) for o in outputs],
        "packages": found.packages,
        "python": found.python,
        "git": {"commit": found.commit, "dirty": found.dirty},
    }
