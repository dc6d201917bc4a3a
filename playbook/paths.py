"""Every path the playbook uses, derived from one root.

The root is the repository (the folder that holds ``params/`` and ``notebooks/``). It can be
moved with the environment variable ``PLAYBOOK_ROOT`` (tests use this to work on a
temporary copy).
"""

from __future__ import annotations

import os
from pathlib import Path

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
