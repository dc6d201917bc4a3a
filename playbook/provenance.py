"""What produced a report: Python's and the main packages' versions, and the code's commit.

One source for the two places that state it: the run's ``manifest.json``
(:func:`playbook.render_manifest.run_manifest`) and the appendix's reproducibility line
(:func:`playbook.appendix.software_line`).
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata

from playbook import paths

#: Packages whose versions a report records, in the order it lists them.
PACKAGES = ("pandas", "numpy", "statsmodels", "scipy", "matplotlib", "seaborn", "papermill",
            "nbconvert", "weasyprint", "pandera", "pydantic")


@dataclass(frozen=True)
class Provenance:
    """The software and code state of a run.

    Attributes
    ----------
    python : str
        Python's version, e.g. ``3.11.7``.
    packages : dict of str to (str or None)
        Installed version of each of :data:`PACKAGES` (None when it is not installed).
    commit : str or None
        The full commit hash of the checkout the package runs from (None when unknown: no
        git, or not a checkout).
    dirty : bool or None
        Whether tracked files differ from that commit (None when unknown).
    """

    python: str
    packages: dict[str, str | None]
    commit: str | None
    dirty: bool | None

    @property
    def short_commit(self) -> str | None:
        """The first 7 characters of :attr:`commit` (as ``git log --oneline`` shows it)."""
        return self.commit[:7] if self.commit else None


def package_versions() -> dict[str, str | None]:
    """Installed version of each of :data:`PACKAGES` (None when it is not installed)."""
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _git(*args: str) -> str | None:
    """Output of ``git <args>`` in the checkout (None when git fails or is missing)."""
    try:
        done = subprocess.run(["git", *args], cwd=paths.CHECKOUT_DIR, capture_output=True,
                              text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip()


def provenance() -> Provenance:
    """The versions and git state of this run (about 20 ms: two git calls)."""
    commit = _git("rev-parse", "HEAD") or None
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return Provenance(python=platform.python_version(), packages=package_versions(),
                      commit=commit, dirty=None if status is None else bool(status))
