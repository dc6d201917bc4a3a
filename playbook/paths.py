"""Every path the playbook uses, derived from one root.

The root is the repository (the folder that holds ``params/`` and ``notebooks/``). It can be
moved with the environment variable ``PLAYBOOK_ROOT`` (tests use this to work on a
temporary copy).
"""

from __future__ import annotations

import os
from pathlib import Path

from playbook.errors import ParamsError

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """Return the project root: ``$PLAYBOOK_ROOT`` or the checkout the package lives in."""
    env = os.environ.get("PLAYBOOK_ROOT")
    return Path(env).resolve() if env else PACKAGE_DIR.parent


ROOT_ENV = ("PLAYBOOK_ROOT", "PLAYBOOK_REPORTS")


def make_environment_absolute() -> None:
    """Rewrite ``$PLAYBOOK_ROOT`` and ``$PLAYBOOK_REPORTS`` as absolute paths.

    Kernels inherit the environment but run in the notebooks' folder, where a relative
    root (``PLAYBOOK_ROOT=bench/out/root``) would point elsewhere; a run calls this before
    it starts them."""
    for name in ROOT_ENV:
        if os.environ.get(name):
            os.environ[name] = str(Path(os.environ[name]).resolve())


def data_dir(client: str) -> Path:
    """Folder holding a client's raw exports: ``data/<client>/`` (never written to)."""
    return project_root() / "data" / client


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
    return folder if folder.is_dir() else PACKAGE_DIR.parent / "notebooks"


def templates_dir() -> Path:
    return project_root() / "templates"


def reports_dir() -> Path:
    """Root of all outputs (ignored by git); override with ``$PLAYBOOK_REPORTS``."""
    env = os.environ.get("PLAYBOOK_REPORTS")
    return Path(env).resolve() if env else project_root() / "reports"


def report_dir(client: str, period_label: str) -> Path:
    """Published outputs of one run: ``reports/<client>/<period>/``."""
    return reports_dir() / client / period_label
