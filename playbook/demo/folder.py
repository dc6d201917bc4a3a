"""Writing the demo folder: only where nothing can be lost.

The generator writes into ``data/demo``, or into a folder that is empty or does not exist
yet; never into another folder with files in it (a client's exports), even with
``--force``. It leaves a marker, :data:`MARKER`, that records the generator's version, its
settings and the SHA-256 of every file it wrote, and regenerates ``data/demo`` only when
every file there is still as generated. Files are written to a temporary folder first and
moved into place, so a full disk leaves the previous files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from playbook import paths
from playbook.checksums import file_sha256
from playbook.demo.export import FILES
from playbook.errors import GeneratedFolderError
from playbook.storage import write_text, writing

#: The marker the generator leaves in every folder it wrote (JSON, see :func:`_marker`).
MARKER = ".generated"
#: Bumped when the marker's layout changes (an older marker counts as none).
MARKER_FORMAT = 1
#: Prefix of the generator's own temporary folder inside the target.
_WORK = ".generating-"
#: Names listed in a refusal before "and N more".
_LISTED = 8


@dataclass(frozen=True)
class FolderState:
    """What a folder holds, as the generator sees it.

    ``names``: every entry but the marker and the generator's temporary folders;
    ``marker``: the parsed marker (None when there is none, or an older one without
    checksums); ``edited``: entries the marker lists whose bytes changed since;
    ``unknown``: entries the marker does not list.
    """

    folder: Path
    names: list[str] = field(default_factory=list)
    marker: dict | None = None
    edited: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def unedited(self) -> bool:
        """Generated, and nothing changed or added since."""
        return self.marker is not None and not self.edited and not self.unknown


def generator_version() -> str:
    """SHA-256 over the sources of the generator's modules (``playbook/demo/*.py``, by name):
    another version may write other bytes."""
    sources = sorted(Path(__file__).parent.glob("*.py"))
    listing = "".join(f"{p.name} {file_sha256(p)}\n" for p in sources)
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()


def read_marker(folder: Path) -> dict | None:
    """The marker in ``folder`` (None when missing, unreadable or of an older format)."""
    try:
        marker = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # (the older marker is one line, "seed=... accounts=...")
        return None
    if (not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT
            or not isinstance(marker.get("files"), dict)):
        return None
    return marker


def folder_state(folder: Path) -> FolderState:
    """Compare what ``folder`` holds with its marker (checksums of every recorded file)."""
    folder = Path(folder)
    if not folder.is_dir():
        return FolderState(folder)
    names = sorted(p.name for p in folder.iterdir()
                   if p.name != MARKER and not p.name.startswith(_WORK))
    marker = read_marker(folder)
    recorded = marker["files"] if marker else {}
    edited = [n for n in names if n in recorded and not _same_file(folder / n, recorded[n])]
    unknown = [n for n in names if n not in recorded]
    return FolderState(folder, names, marker, edited, unknown)


def _same_file(path: Path, sha256: object) -> bool:
    return path.is_file() and file_sha256(path) == sha256


def is_demo_folder(folder: Path) -> bool:
    """Whether ``folder`` is the demo client's ``data/demo`` (after resolving links)."""
    return os.path.realpath(folder) == os.path.realpath(paths.data_dir("demo"))


def check_writable(folder: Path, *, force: bool = False) -> FolderState:
    """The state of ``folder`` if the generator may write into it, else raise.

    Allowed: a folder that does not exist or is empty; ``data/demo`` when every file in it
    is as generated (by its marker), or when ``force``. Files in ``data/demo`` without a
    checksum that carry a generator file name (no marker, an older marker, or a run
    interrupted while moving files) are compared with the new files before anything is
    replaced (:func:`write_folder`).

    Raises
    ------
    GeneratedFolderError
        ``folder`` has files and is not ``data/demo`` (``--force`` does not change this), or
        ``data/demo`` has files the generator did not write, and not ``force``.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise GeneratedFolderError(
            f"{folder} is a file, not a folder: the demo data is not written there.",
            fix="Pass --out with a new or empty folder.", kind="not-demo")
    state = folder_state(folder)
    if not state.names:
        return state
    if not is_demo_folder(folder):
        listed = _names(state.names)
        raise GeneratedFolderError(
            f"Refusing to write the demo data into {folder}: it is not data/demo and it "
            f"already has {len(state.names)} file(s) ({listed}). The generator writes only "
            "into data/demo or into a new or empty folder, so that a client's files are "
            "never overwritten; --force does not change this.",
            fix="Pass --out with a new or empty folder (or delete this one yourself if it "
            "holds only demo data you generated), or leave --out out to write data/demo.",
            kind="not-demo")
    generated_names = set(FILES.values())
    foreign = [n for n in state.unknown if n not in generated_names]
    if foreign and not force:
        raise _edited_error(folder, state.edited, foreign)
    return state


def write_folder(out_dir: Path, tables: dict[str, pd.DataFrame], settings: dict[str, object],
                 state: FolderState, *, force: bool) -> dict[str, Path]:
    """Write ``tables`` into a temporary folder inside ``out_dir``, check that nothing
    edited would be lost, move the files into place and write the marker last."""
    created = not out_dir.exists()
    work = out_dir / f"{_WORK}{os.getpid()}"
    unchecked = [n for n in state.edited + state.unknown if n in FILES.values()]
    try:
        with writing(out_dir, "the demo data",
                     hint="The files already in that folder were left as they were."):
            out_dir.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            for table, frame in tables.items():
                frame.to_csv(work / FILES[table], index=False, encoding="utf-8",
                             lineterminator="\n")
            checksums = {FILES[t]: file_sha256(work / FILES[t]) for t in tables}
            lost = [n for n in unchecked if not _same_file(out_dir / n, checksums.get(n))]
            if lost and not force:
                raise _edited_error(out_dir, lost, [])
            for name in checksums:
                os.replace(work / name, out_dir / name)
        write_text(out_dir / MARKER, _marker(settings, checksums), "the demo data's marker")
    except BaseException:
        if created:
            shutil.rmtree(out_dir, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {t: out_dir / FILES[t] for t in tables}


def _marker(settings: dict[str, object], checksums: dict[str, str]) -> str:
    """The marker's text: what wrote the folder, with which settings, and each file's
    SHA-256 (the generator replaces the files only while they still match)."""
    return json.dumps({
        "format": MARKER_FORMAT,
        "written_by": "playbook demo (playbook/demo/); do not edit the files listed here "
                      "(copy them to another client folder to change them)",
        "generator": generator_version(),
        "settings": settings,
        "files": checksums,
    }, indent=2) + "\n"


def _edited_error(folder: Path, edited: list[str], foreign: list[str]) -> GeneratedFolderError:
    parts = []
    if edited:
        parts.append(f"files changed since they were generated (or with no checksum to tell): "
                     f"{_names(edited)}")
    if foreign:
        parts.append(f"files the generator did not write: {_names(foreign)}")
    return GeneratedFolderError(
        f"Refusing to regenerate the demo data in {folder}: " + "; ".join(parts) + ". The "
        "generator rewrites it only while every file there is as it wrote it, so that no "
        "edit is lost.",
        fix="To keep them, copy the folder to a new client (data/<name>/ with "
        "params/<name>.yaml) and edit there. To throw the edits away, run `playbook demo "
        "--force` (files the generator did not write are left as they are).",
        kind="edited")


def _names(names: list[str]) -> str:
    """Up to :data:`_LISTED` names, then "and N more"."""
    shown = ", ".join(names[:_LISTED])
    return shown + (f" and {len(names) - _LISTED} more" if len(names) > _LISTED else "")


def settings_of(seed: int, n_accounts: int, end_month: str = "2026-09",
                months: int = 36) -> dict[str, object]:
    """The generator's settings as the marker records them."""
    return {"seed": seed, "n_accounts": n_accounts, "end_month": end_month, "months": months}


def up_to_date(folder: Path, settings: dict[str, object]) -> bool:
    """Whether ``folder`` holds, unedited, every file this generator writes for
    ``settings`` (then generating again would write the same bytes)."""
    state = folder_state(folder)
    marker = state.marker
    return (state.unedited and marker is not None and marker.get("settings") == settings
            and marker.get("generator") == generator_version()
            and set(marker["files"]) == set(FILES.values()) <= set(state.names))
