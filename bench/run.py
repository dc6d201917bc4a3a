"""Benchmark: demo-like clients of growing size, wall time per stage, peak memory, the floor.

For each size in ``$BENCH_SIZES`` (accounts; default ``1000,10000``; ``make bench
BENCH_SIZES=1000,10000,100000`` adds the large client, about 10 more minutes) a demo-like
client is generated once and cached under ``bench/out/`` (ignored by git): the demo's
files at that size, with product usage as an event log (``usage_events.parquet``, about
``$BENCH_EVENTS`` events per account-month, default 6: 12M+ events at 100,000 accounts)
mapped with ``tables.usage.layout: events``.

Each client's report is rendered in a child process exactly as ``make report`` does
(stages from the run manifest: load and validate, each notebook, HTML, PDF); peak memory
is the largest sum of proportional set sizes (PSS) over that process and all its
descendants (notebook workers and their kernels), sampled every 0.1 s with psutil, with
the sum of resident sizes beside it (which counts pages the processes share once per
process). The resident sizes are read each time (cheap); the PSS, which the kernel counts
page by page, only when their sum exceeds the PSS peak so far: a process's PSS never
exceeds its resident size, so no other moment can hold a higher PSS sum. CPU seconds are
the user and system time of the same process tree (``getrusage`` of the finished children), which a
busy shared machine disturbs less than wall time.

The floor is the same analysis work with no papermill, nbconvert or kernel, also in a
child process: its interpreter start and imports, the data loaded and validated once,
each notebook's code run as plain Python on a copy of it (outputs discarded), plus one
kernel start and one PDF engine start. Report / floor is the pipeline's overhead as a
ratio: the report's wall time (its process's start-up and imports included) over the sum
of the floor's stages.

The second anchor is the analyst's alternative: ``bench/headline.sql``, plain DuckDB SQL
computing the same headline figures from the same raw files (:mod:`bench.sql_anchor`); each
client's table ends with report / SQL script for the stages both do.

From 1,000,000 accounts each size is generated twice, its usage events as Parquet
(``bench-N``) and as CSV (``bench-N-csv``); ``$BENCH_FORMATS`` (``parquet,csv``) chooses
at any size. The floor is measured below 1,000,000 accounts (``$BENCH_FLOOR=1`` or ``0``
decides). The closing table gives seconds per 1,000 accounts and per million events of
each client, so that growth worse than linear shows.

Results are appended to bench/results.md with the machine's core count and the commit.
``python bench/run.py --profile CLIENT NOTEBOOK`` profiles one notebook's code in-process
with pyinstrument (text report on stdout); ``--profile CLIENT load,01-revenue`` profiles
loading and validating, then each notebook named, the data loaded once;
``BENCH_DATA_CACHE=FOLDER`` keeps the validated tables there (:mod:`playbook.cache`) and
reads them back in later profiles of notebooks (not of ``load``). Memory:
``pip install -r bench/requirements.txt`` (memray), then
``python -m memray run -o out.bin bench/run.py --profile CLIENT NOTEBOOK`` and
``python -m memray stats out.bin``.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
BENCH_ROOT = OUT / "root"  # PLAYBOOK_ROOT of the benchmark clients (data/, params/)
SEED = 20260930
STARTUP = "start-up and imports"  # from the process's creation to its first stage
sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- clients


#: Event files written for a size when ``$BENCH_FORMATS`` is not set: Parquet, and from
#: :data:`CSV_FROM` accounts also CSV (a second client, ``bench-N-csv``).
CSV_FROM = 1_000_000


def client_name(accounts: int, fmt: str = "parquet") -> str:
    """``bench-N`` (usage events as Parquet) or ``bench-N-csv`` (as CSV)."""
    return f"bench-{accounts}" + ("" if fmt == "parquet" else f"-{fmt}")


def formats_for(accounts: int) -> list[str]:
    """The event-file formats benchmarked at this size (``$BENCH_FORMATS``, e.g.
    ``parquet,csv``; default Parquet, plus CSV from :data:`CSV_FROM` accounts)."""
    given = os.environ.get("BENCH_FORMATS", "")
    if given:
        return [f for f in given.split(",") if f]
    return ["parquet", "csv"] if accounts >= CSV_FROM else ["parquet"]


def ensure_client(accounts: int, events_mean: float, fmt: str = "parquet",
                  root: Path = BENCH_ROOT) -> dict:
    """Generate the benchmark client of this size and event-file format (``parquet`` or
    ``csv``) under the project root ``root`` unless it is already there."""
    import yaml

    from bench.events import write_usage_events
    from playbook.demo import generate_demo

    name = client_name(accounts, fmt)
    folder = root / "data" / name
    stamp = folder / ".generated"
    wanted = {"seed": SEED, "accounts": accounts, "events_mean": events_mean, "format": 2,
              "events_file": fmt}
    if stamp.is_file() and json.loads(stamp.read_text()).get("wanted") == wanted:
        return json.loads(stamp.read_text())
    if fmt != "parquet":  # the Parquet client's files, its event log rewritten as CSV
        ensure_client(accounts, events_mean, "parquet", root)
    print(f"Generating {name} ...", file=sys.stderr, flush=True)
    tick = time.perf_counter()
    # (the generator writes only into a new or empty folder, or data/demo: this is
    # the benchmark's own client, generated and changed by this function alone)
    shutil.rmtree(folder, ignore_errors=True)
    if fmt == "parquet":
        generate_demo(folder, seed=SEED, n_accounts=accounts)
        _, events = write_usage_events(folder, mean=events_mean, fmt=fmt)
        (folder / "usage_monthly.csv").unlink()
    else:
        events = copy_as_csv_client(root / "data" / client_name(accounts), folder)
    params = yaml.safe_load((ROOT / "params" / "demo.yaml").read_text())
    params["client"]["name"] = f"Benchmark client ({accounts:,} accounts)"
    params["tables"]["usage"] = {
        "file": f"usage_events.{fmt}", "layout": "events",
        "columns": {"account_id": "Account ID", "month": "Event Time", "user_id": "User ID",
                    "licensed_seats": "Licensed Seats"}}
    (root / "params").mkdir(parents=True, exist_ok=True)
    (root / "params" / f"{name}.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    info = {"wanted": wanted, "events": events,
            "bytes": sum(p.stat().st_size for p in folder.iterdir()),
            "generate_seconds": round(time.perf_counter() - tick, 1)}
    stamp.write_text(json.dumps(info))
    return info


def copy_as_csv_client(parquet_client: Path, folder: Path) -> int:
    """Copy the client ``parquet_client`` into ``folder`` with its usage events as CSV
    (:func:`bench.events.parquet_events_as_csv`: the same events); returns their count."""
    from bench.events import parquet_events_as_csv

    folder.mkdir(parents=True)
    for file in parquet_client.iterdir():
        if file.suffix == ".csv":
            shutil.copyfile(file, folder / file.name)
    return parquet_events_as_csv(parquet_client / "usage_events.parquet",
                                 folder / "usage_events.csv")


# --------------------------------------------------------------------------- measuring


def run_measured(cmd: list[str], env: dict[str, str]) -> dict:
    """Run ``cmd``; return its wall seconds, peak MB and CPU seconds (process tree), stdout.

    Keys: ``wall``, ``peak_mb``, ``peak_rss_mb``, ``cpu_s`` and ``stdout``. ``peak_mb`` is
    the largest sum of proportional set sizes (PSS: a page shared by n processes counts
    1/n in each) over the process tree: the memory the run takes from the machine.
    ``peak_rss_mb`` is the largest sum of resident sizes, which counts a shared page once
    per process (the notebook workers are forked from the render process and share its
    pages; every kernel maps the same libraries), so it overstates the tree's memory.
    """
    import resource

    import psutil

    peak = peak_rss = 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    tick = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    root = psutil.Process(proc.pid)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_rss
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            rss = 0
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    rss += p.memory_info().rss  # (Linux: /proc/<pid>/statm, cheap)
            peak_rss = max(peak_rss, rss)
            if rss > peak:  # a process's PSS never exceeds its RSS: only now can PSS beat peak
                pss = 0
                for p in procs:
                    with contextlib.suppress(psutil.Error):
                        full = p.memory_full_info()  # (Linux: /proc/<pid>/smaps_rollup)
                        pss += getattr(full, "pss", full.rss)
                peak = max(peak, pss)
            stop.wait(0.1)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    out, _ = proc.communicate()
    wall = time.perf_counter() - tick
    stop.set()
    watcher.join()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode})")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # every descendant that was waited for
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "peak_mb": peak / 2**20, "peak_rss_mb": peak_rss / 2**20,
            "cpu_s": cpu, "stdout": out}


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PLAYBOOK_ROOT"] = str(BENCH_ROOT)
    env["PLAYBOOK_REPORTS"] = str(OUT / "reports")
    env.pop("PLAYBOOK_DATA_CACHE", None)
    return env


def time_report(client: str) -> dict:
    """Render the client's report in a child process; seconds per stage, wall, peak MB."""
    # as the command line does (playbook.cli report): the run begun, then the render code
    # imported while the data load
    code = ("import json, time, psutil\n"
            "from playbook.render_start import started_run\n"
            "up = time.time() - psutil.Process().create_time()\n"
            f"with started_run({client!r}) as run:\n"
            "    from playbook.render import render_report\n"
            f"    p = render_report({client!r}, progress=False, started=run)\n"
            "s = json.loads(p.manifest.read_text())['run']['seconds']\n"
            f"s[{STARTUP!r}] = round(up, 2)\n"
            "print('BENCH-JSON', json.dumps(s))\n")
    measured = run_measured([sys.executable, "-c", code], bench_env())
    stages = marked_json(measured.pop("stdout"))
    return {**measured, **stages}


def marked_json(out: str) -> dict:
    """The JSON a child printed after ``BENCH-JSON`` (libraries may print too, even on the
    same line: DuckDB's progress bar ends without a newline)."""
    start = out.rindex("BENCH-JSON ") + len("BENCH-JSON ")
    return json.loads(out[start:].splitlines()[0])


def time_floor(client: str) -> dict:
    measured = run_measured([sys.executable, __file__, "--floor", client], bench_env())
    stages = marked_json(measured.pop("stdout"))
    return {**measured, **stages}


def notebook_code(nb_path: Path, client: str, run_dir: str) -> str:
    """A notebook's code cells as one script, its parameters set for ``client``."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        parts.append(cell.source)
        if "parameters" in cell.metadata.get("tags", []):
            parts.append(f"client = {client!r}\nperiod = ''\nas_of = ''\nrun_dir = {run_dir!r}")
    return "\n".join(parts)


def floor_in_process(client: str) -> dict:
    """The floor, measured in this process (run as ``bench/run.py --floor CLIENT``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import psutil

    from playbook import session
    from playbook.config import load_params
    from playbook.loader import load_client

    # plain Python pays its interpreter start and imports too (as the report process does)
    seconds: dict[str, float] = {STARTUP: time.time() - psutil.Process().create_time()}
    params = load_params(client)
    tick = time.perf_counter()
    data = load_client(params)
    seconds["load and validate"] = time.perf_counter() - tick
    session.load_client = lambda _params: copy.deepcopy(data)  # loaded once, as in a run
    with tempfile.TemporaryDirectory() as run_dir:
        for name in params.report.notebooks:
            code = notebook_code(ROOT / "notebooks" / f"{name}.ipynb", client, run_dir)
            tick = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, name, "exec"), {"__name__": "__bench__"})  # noqa: S102
            seconds[name] = time.perf_counter() - tick
            plt.close("all")
    tick = time.perf_counter()
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    seconds["kernel start"] = time.perf_counter() - tick
    tick = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import weasyprint; weasyprint.HTML(string='<p>x')"
                    ".write_pdf()"], check=True, stderr=subprocess.DEVNULL)
    seconds["PDF engine start"] = time.perf_counter() - tick
    return {k: round(v, 2) for k, v in seconds.items()}


def profile_notebook(client: str, notebook: str) -> None:
    """pyinstrument profiles of ``notebook``: comma-separated stages, ``load`` (loading and
    validating) and notebook names, each notebook's code run after loading the data once.
    Each profile is printed under a ``## stage`` line, with the process's CPU seconds."""
    import matplotlib

    matplotlib.use("Agg")
    from pyinstrument import Profiler

    from playbook import cache, session
    from playbook.config import load_params
    from playbook.loader import load_client

    def show(stage: str, profiler: Profiler, cpu: float) -> None:
        print(f"## {stage} (CPU {time.process_time() - cpu:.1f} s)", flush=True)
        print(profiler.output_text(unicode=False, color=False, show_all=False), flush=True)

    stages = [s for s in notebook.split(",") if s]
    params = load_params(client)
    kept = os.environ.get("BENCH_DATA_CACHE", "")
    if kept and "load" not in stages:  # the validated tables of an earlier profile, if any
        data = cache.lookup(params, Path(kept))
        if data is None:
            data = load_client(params)
            cache.store(params, data, Path(kept))
    else:
        profiler, cpu = Profiler(interval=0.005), time.process_time()
        with profiler:
            data = load_client(params)
        if "load" in stages:
            show("load and validate", profiler, cpu)
    if kept and "load" not in stages:
        # each notebook reads the stored tables afresh, as a kernel does (read-only tables:
        # playbook.read_only), rather than a deep copy, which analyses would not recognise
        session.load_client = lambda _params: cache.lookup(params, Path(kept))
    else:
        session.load_client = lambda _params: copy.deepcopy(data)
    for name in (s for s in stages if s != "load"):
        with tempfile.TemporaryDirectory() as run_dir:
            code = notebook_code(ROOT / "notebooks" / f"{name}.ipynb", client, run_dir)
            profiler, cpu = Profiler(interval=0.005), time.process_time()
            with profiler, contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, name, "exec"), {"__name__": "__bench__"})  # noqa: S102
        show(name, profiler, cpu)


# --------------------------------------------------------------------------- report


#: Keys of :func:`run_measured`'s result that are not stages.
MEASURED = ("wall", "peak_mb", "peak_rss_mb", "cpu_s")


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def table_for(accounts: int, info: dict, report: dict, floor: dict | None,
              notebooks: list[str], sql: dict[str, float] | None = None,
              client: str = "") -> list[str]:
    """The markdown table of one client: report and floor seconds per stage, then the
    report against the SQL script (:mod:`bench.sql_anchor`) on the stages both do."""
    floor = floor or {}
    floor_total = sum(v for k, v in floor.items() if k not in MEASURED)
    name = f" ({client})" if client else ""
    lines = [f"\n### {accounts:,} accounts · {info['events']:,} usage events · "
             f"{info['bytes'] / 2**20:,.0f} MB of input{name}\n",
             "| stage | report (s) | floor (s) |", "|---|---|---|",
             f"| {STARTUP} | {fmt(report.get(STARTUP))} | {fmt(floor.get(STARTUP))} |",
             f"| load and validate (once) | {fmt(report.get('load and validate'))} | "
             f"{fmt(floor.get('load and validate'))} |",
             f"| cache for the kernels | {fmt(report.get('prepare'))} | – |"]
    for key in notebooks:
        lines.append(f"| {key} | {fmt(report.get(key))} | {fmt(floor.get(key))} |")
    lines += [f"| HTML | {fmt(report.get('html'))} | – |",
              f"| PDF | {fmt(report.get('pdf'))} | {fmt(floor.get('PDF engine start'))} "
              "(engine start) |",
              f"| kernel start | – | {fmt(floor.get('kernel start'))} |",
              f"| **wall** | **{report['wall']:.2f}** | **{fmt(floor_total or None)}** |",
              f"| peak memory (MB, process tree, PSS) | {report['peak_mb']:,.0f} | "
              f"{fmt_mb(floor.get('peak_mb'))} |",
              f"| peak memory (MB, sum of RSS) | {report['peak_rss_mb']:,.0f} | "
              f"{fmt_mb(floor.get('peak_rss_mb'))} |",
              f"| CPU (s, process tree) | {report['cpu_s']:.1f} | "
              f"{fmt(floor.get('cpu_s'))} |"]
    if floor_total:
        lines.append(f"\nReport / floor = **{report['wall'] / floor_total:.2f}**. Notebooks "
                     "run in parallel, so their seconds add up to more than the wall time.\n")
    else:
        lines.append("\nNo floor measured at this size (`BENCH_FLOOR=1` to measure it).\n")
    if sql is not None:
        from bench.sql_anchor import shared_stages

        lines += ["| shared stage | report (s) | SQL script (s) | report / SQL |",
                  "|---|---|---|---|"]
        for stage, mine, theirs in shared_stages(report, sql):
            ratio = f"{mine / theirs:.1f}" if theirs > 0 else "–"
            lines.append(f"| {stage} | {mine:.2f} | {theirs:.2f} | {ratio} |")
        lines.append("\nSQL script: bench/headline.sql (load = reading the raw files and "
                     "aggregating the usage events; 01-revenue = MRR movements, trailing "
                     "window, logo churn, churn by industry).\n")
    return lines


def fmt_mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def scaling_table(walls: list[tuple[str, int, int, float, float, float]]) -> list[str]:
    """Cost per unit of size: wall seconds per 1,000 accounts and per million events, and
    the same for CPU seconds of the process tree (steadier on a shared machine)."""
    lines = ["| client | accounts | events | report (s) | s per 1,000 accounts | "
             "s per million events | CPU s per 1,000 accounts | CPU s per million events | "
             "peak MB (PSS) |", "|---|---|---|---|---|---|---|---|---|"]
    for client, accounts, events, wall, cpu, peak in walls:
        lines.append(f"| {client} | {accounts:,} | {events:,} | {wall:.1f} | "
                     f"{wall / accounts * 1000:.3f} | {wall / events * 1e6:.2f} | "
                     f"{cpu / accounts * 1000:.3f} | {cpu / events * 1e6:.2f} | {peak:,.0f} |")
    return [*lines, ""]


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "1000,10000").split(",") if s]
    events_mean = float(os.environ.get("BENCH_EVENTS", "6"))
    from bench.sql_anchor import run_for_client
    from playbook.config import load_params

    os.environ.update({"PLAYBOOK_ROOT": str(BENCH_ROOT)})
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                           text=True).stdout.strip()
    lines = [f"\n## {dt.datetime.now():%Y-%m-%d %H:%M} · commit {commit}"
             f"{' + uncommitted changes' if dirty else ''} · {os.cpu_count()} cores · "
             f"Python {sys.version.split()[0]}\n"]
    walls = []
    for accounts in sizes:
        for fmt_ in formats_for(accounts):
            info = ensure_client(accounts, events_mean, fmt_)
            client = client_name(accounts, fmt_)
            notebooks = load_params(client).report.notebooks
            print(f"Report for {client} ...", file=sys.stderr, flush=True)
            report = time_report(client)
            floor = None
            if os.environ.get("BENCH_FLOOR", "1" if accounts < CSV_FROM else "0") == "1":
                print(f"Floor for {client} ...", file=sys.stderr, flush=True)
                floor = time_floor(client)
            print(f"SQL script for {client} ...", file=sys.stderr, flush=True)
            _, sql = run_for_client(client, BENCH_ROOT)
            lines += table_for(accounts, info, report, floor, notebooks, sql, client)
            walls.append((client, accounts, info["events"], report["wall"], report["cpu_s"],
                          report["peak_mb"]))
            print("\n".join(lines), file=sys.stderr, flush=True)
    lines += scaling_table(walls)
    text = "\n".join(lines)
    results = ROOT / "bench" / "results.md"
    if not results.exists():
        results.write_text("# Benchmark results\n\nAppended by `make bench` (bench/run.py).\n")
    with results.open("a") as fh:
        fh.write(text)
    print(text)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--floor":
        print("BENCH-JSON", json.dumps(floor_in_process(sys.argv[2])))
    elif len(sys.argv) == 4 and sys.argv[1] == "--profile":
        os.environ.setdefault("PLAYBOOK_ROOT", str(BENCH_ROOT))
        profile_notebook(sys.argv[2], sys.argv[3])
    else:
        main()
