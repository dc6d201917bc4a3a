"""The external-shapes corpus (tests/fixtures/exports/<shape>/: raw export files and the
params a consultant would write) copied into a project root, for the tests that load each
shape."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXPORTS = REPO / "tests" / "fixtures" / "exports"
#: The file types a shape's raw exports come as.
EXPORT_SUFFIXES = (".csv", ".xlsx", ".parquet")


def copy_shape(shape: str, root: Path) -> Path:
    """Copy ``shape``'s export files into ``root/data/<shape>/`` and its params (the
    ``params.yaml`` beside the files, else ``params/<shape>.yaml`` of the repository) into
    ``root/params/<shape>.yaml``; returns the data folder."""
    data = root / "data" / shape
    data.mkdir(parents=True)
    for f in (EXPORTS / shape).iterdir():
        if f.suffix in EXPORT_SUFFIXES:
            shutil.copy(f, data / f.name)
    (root / "params").mkdir(exist_ok=True)
    beside = EXPORTS / shape / "params.yaml"
    shutil.copy(beside if beside.exists() else REPO / "params" / f"{shape}.yaml",
                root / "params" / f"{shape}.yaml")
    return data
