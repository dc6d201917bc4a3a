"""Benchmark of the demo report: wall time per stage, and the floor.

Stages come from the run manifest (each notebook through papermill, HTML, PDF). The floor
is the same analysis work with no papermill, nbconvert or kernel: each notebook's code run
as plain Python in this process (outputs discarded), plus one kernel start and one PDF
engine start, so the pipeline's overhead is a ratio, not a guess.

Results are appended to bench/results.md with the machine's core count and the commit.
Run with `make bench`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def time_report(out: Path) -> dict:
    """Render the demo report into ``out``; return the manifest's seconds per stage."""
    os.environ["PLAYBOOK_REPORTS"] = str(out)
    from playbook.render import render_report

    start = time.perf_counter()
    paths = render_report("demo", progress=False)
    wall = time.perf_counter() - start
    manifest = json.loads(paths.manifest.read_text())
    return {"wall": wall, **manifest["run"]["seconds"]}


def time_floor() -> dict:
    """Run each notebook's code cells in-process (no kernel, no papermill)."""
    import matplotlib

    matplotlib.use("Agg")
    from playbook.config import load_params
    from playbook.loader import load_client

    seconds = {}
    t0 = time.perf_counter()
    load_client(load_params("demo"))
    seconds["load and validate"] = time.perf_counter() - t0
    for nb_path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(code, str(nb_path), "exec"), {"__name__": "__bench__"})  # noqa: S102
        seconds[nb_path.stem] = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import ipykernel.kernelapp"], check=True)
    seconds["kernel start (import)"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import weasyprint; weasyprint.HTML(string='<p>x')"
                    ".write_pdf()"], check=True)
    seconds["PDF engine start"] = time.perf_counter() - t0
    return seconds


def main() -> None:
    os.chdir(ROOT / "notebooks")
    with tempfile.TemporaryDirectory() as tmp:
        report = time_report(Path(tmp))
    floor = time_floor()
    floor_total = sum(floor.values())
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    lines = [f"\n## {dt.datetime.now():%Y-%m-%d %H:%M} · commit {commit} · "
             f"{os.cpu_count()} cores · demo client (1,500 accounts)\n",
             "| stage | report (s) | floor (s) |", "|---|---|---|"]
    for key in ("01-revenue", "02-renewal-drivers", "03-segments-health", "04-capacity"):
        lines.append(f"| {key} | {report.get(key, float('nan')):.2f} | "
                     f"{floor.get(key, float('nan')):.2f} |")
    lines.append(f"| load and validate (in each notebook) | – | {floor['load and validate']:.2f} |")
    lines.append(f"| HTML | {report.get('html', float('nan')):.2f} | – |")
    lines.append(f"| PDF | {report.get('pdf', float('nan')):.2f} | "
                 f"{floor['PDF engine start']:.2f} (engine start) |")
    lines.append(f"| kernel start | – | {floor['kernel start (import)']:.2f} |")
    lines.append(f"| **total** | **{report['wall']:.2f}** | **{floor_total:.2f}** |")
    lines.append(f"\nReport / floor = {report['wall'] / floor_total:.2f}.\n")
    text = "\n".join(lines)
    results = ROOT / "bench" / "results.md"
    if not results.exists():
        results.write_text("# Benchmark results\n\nAppended by `make bench` (bench/run.py).\n")
    with results.open("a") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    main()
