"""Every path the playbook uses, derived from one root.

The root is the repository (the folder that holds ``params/`` and ``notebooks/``). It can be
moved with the environment variable ``PLAYBOOK_ROOT`` (tests use this to work on a
temporary copy), and the reports folder with ``PLAYBOOK_REPORTS``; inside
:func:`project_folders` both are given explicitly instead (a Dask worker rendering for the
machine that submitted the task).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from playbook.errors import ParamsError

PACKAGE_DIR = Path(__file__).resolve().parent
#: The checkout the package lives in: the shipped notebooks and template, and the git
#: state a report records (:mod:`playbook.provenance`).
CHECKOUT_DIR = PACKAGE_DIR.parent
#: Environment variables naming the project root and the reports folder.
ROOT_ENV = ("PLAYBOOK_ROOT", "PLAYBOOK_REPORTS")
#: (root, reports) set by :func:`project_folders` for the calls inside it.
_FOLDERS: ContextVar[tuple[Path, Path] | None] = ContextVar("playbook_folders", default=None)


def project_root() -> Path:
    """Return the project root: the one :func:`project_folders` set, ``$PLAYBOOK_ROOT``, or
    the checkout the package lives in."""
    chosen = _FOLDERS.get()
    if chosen is not None:
        return chosen[0]
    env = os.environ.get("PLAYBOOK_ROOT")
    return Path(env).resolve() if env else CHECKOUT_DIR


@contextlib.contextmanager
def project_folders(root: Path | str, reports: Path | str) -> Iterator[None]:
    """Use ``root`` as the project root and ``reports`` as the reports folder for the calls
    inside (in this thread or task; the environment is left alone)."""
    token = _FOLDERS.set((Path(root).resolve(), Path(reports).resolve()))
    try:
        yield
    finally:
        _FOLDERS.reset(token)


def root_environment() -> dict[str, str]:
    """``PLAYBOOK_ROOT`` and ``PLAYBOOK_REPORTS`` as absolute paths, for a process that
    runs in another folder (a kernel runs in the notebooks' folder, where a relative root
    such as ``PLAYBOOK_ROOT=bench/out/root`` would point elsewhere). Only the variables
    that are set, or both inside :func:`project_folders`."""
    chosen = _FOLDERS.get()
    if chosen is not None:
        return dict(zip(ROOT_ENV, map(str, chosen), strict=True))
    return {name: str(Path(os.environ[name]).resolve()) for name in ROOT_ENV
            if os.environ.get(name)}


def data_dir(client: str) -> Path:
    """Folder holding a client's raw exports: ``data/<client>/`` (never written to)."""
    return project_root() / "data" / client


def client_files(folder: Path) -> list[Path]:
    """Every file the loader may read from a client's data ``folder``: its non-hidden
    files, sorted (a link leading out of it is never read: left out, :func:`inside_folder`);
    none when the folder is missing."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if not p.name.startswith(".")
                  and inside_folder(p, folder) is not None and p.is_file())


def inside_folder(path: Path, folder: Path) -> Path | None:
    """``path`` with every link followed, when it lies inside ``folder`` (or is it); else None.

    The one check of every path the playbook reads a client's files from (the loader, the
    usage events, the unused-file listing, the profile, the scaffold and ``client.data_dir``):
    ``folder`` is resolved first (``data/<client>`` may itself be a link to another disk),
    then ``path``; a ``..`` or a link leading anywhere else (``/etc/passwd``, another
    client's folder) gives None. A link loop gives None too.
    """
    try:
        base, real = folder.resolve(), path.resolve()
    except (OSError, RuntimeError):  # a link loop
        return None
    return real if real == base or base in real.parents else None


def client_data_folder(client: str, subfolder: str = "") -> Path:
    """The folder a client's exports are read from: ``data/<client>/``, or ``subfolder``
    (``client.data_dir``, relative to the project root) when it lies inside it.

    Raises
    ------
    ParamsError
        When ``subfolder`` leads outside ``data/<client>/`` (an absolute path such as
        ``/etc``, ``..``, another client's folder, or a link out).
    """
    base = data_dir(client)
    if not subfolder:
        return base
    wanted = project_root() / subfolder
    if inside_folder(wanted, base) is None:
        raise ParamsError(
            f"client.data_dir ('{subfolder}') leads outside the client's folder "
            f"data/{client}/: a client's files are read only from data/{client}/ or a "
            "folder inside it.",
            fix=f"Remove client.data_dir from the params file (the files are then read from "
            f"data/{client}/), or name a folder inside it, e.g. data/{client}/2024-04; copy "
            "the files there (copies, not links).")
    return wanted


def params_file(client: str) -> Path:
    """The client's parameters file: ``params/<client>.yaml``."""
    return project_root() / "params" / f"{client}.yaml"


def defaults_file() -> Path:
    """Shared defaults, the first layer of parameters (shipped inside the package)."""
    return PACKAGE_DIR / "defaults.yaml"


def notebooks_dir() -> Path:
    """The report notebooks: ``<root>/notebooks``, or the checkout's when the root (a test's
    temporary project) has none."""
    folder = project_root() / "notebooks"
    return folder if folder.is_dir() else CHECKOUT_DIR / "notebooks"


#: The report's nbconvert template: ``templates/<name>/`` (conf.json, index.html.j2, static/).
TEMPLATE_NAME = "playbook"


def templates_dir() -> Path:
    """The folder that holds the report's template (:data:`TEMPLATE_NAME`): the root's
    ``templates/``, or the checkout's when the root (a test's temporary project) has none."""
    folder = project_root() / "templates"
    if (folder / TEMPLATE_NAME / "conf.json").is_file():
        return folder
    return CHECKOUT_DIR / "templates"


def reports_dir() -> Path:
    """Root of all outputs (ignored by git): the one :func:`project_folders` set,
    ``$PLAYBOOK_REPORTS``, or ``<root>/reports``."""
    chosen = _FOLDERS.get()
    if chosen is not None:
        return chosen[1]
    env = os.environ.get("PLAYBOOK_REPORTS")
    return Path(env).resolve() if env else project_root() / "reports"


def report_dir(client: str, period_label: str) -> Path:
    """Published outputs of one run: ``reports/<client>/<period>/``."""
    return reports_dir() / client / period_label
