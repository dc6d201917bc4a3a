"""Many clients at once: run every client's report and write the portfolio page.

``make reports`` runs each client in ``params/`` (one process per client, as many at once
as there are cores) and writes ``reports/index.html``: one row per client linking its
latest report, with its key figures. A failing client is listed with its error and does
not stop the others.
"""

from __future__ import annotations

import html
import json
import os
import uuid
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playbook import paths
from playbook import textfmt as tf
from playbook.config import CLIENT_NAME
from playbook.errors import PlaybookError
from playbook.facts import facts_from_results
from playbook.render import render_report
from playbook.render_publish import XLSX_NAME
from playbook.sanitize import CSP_META, sanitize_html
from playbook.storage import write_text


def clients_with_params() -> list[str]:
    """Client names that have a ``params/<client>.yaml`` (valid folder names only)."""
    folder = paths.project_root() / "params"
    return sorted(p.stem for p in folder.glob("*.yaml") if CLIENT_NAME.match(p.stem))


@dataclass
class ClientRun:
    client: str
    ok: bool
    message: str


def _run_one(client: str, period: str | None) -> ClientRun:
    try:
        result = render_report(client, period=period, progress=False)
    except PlaybookError as exc:
        return ClientRun(client, False, str(exc).splitlines()[0])
    return ClientRun(client, True, str(result.out_dir))


def _run_one_remote(client: str, period: str | None, root: str, reports: str) -> ClientRun:
    """:func:`_run_one` on a Dask worker, with the submitting machine's project paths
    (:func:`playbook.paths.project_folders`: the worker's environment is left alone).

    The paths must be reachable from the worker (a shared file system, or one machine)."""
    with paths.project_folders(root, reports):
        return _run_one(client, period)


def run_reports_dask(clients: list[str], scheduler: Any, *, period: str | None = None
                     ) -> list[ClientRun]:
    """Run each client's report as one task on a Dask cluster.

    ``scheduler`` is a scheduler address (``tcp://host:8786``) or a ``distributed.Client``.
    Every worker renders with the same project root and reports folder as this process
    (``PLAYBOOK_ROOT``/``PLAYBOOK_REPORTS``); each task uses its worker's cores for the
    notebooks, so run one task per worker (``--nthreads 1``) on real clusters.
    """
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - distributed is pinned
        raise PlaybookError("A Dask scheduler was given but 'distributed' is not installed.",
                            fix="pip install -r requirements.txt") from exc
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        root, reports = str(paths.project_root()), str(paths.reports_dir())
        futures = [client.submit(_run_one_remote, c, period, root, reports, pure=False,
                                 key=f"report-{c}-{uuid.uuid4().hex[:8]}") for c in clients]
        runs = client.gather(futures)
    finally:
        if own:
            client.close()
    return sorted(runs, key=lambda r: r.client)


def run_reports(clients: list[str], *, period: str | None = None,
                workers: int | None = None, scheduler: Any = None) -> list[ClientRun]:
    """Render each client's report in its own process; returns one result per client.

    With ``scheduler`` (a Dask scheduler address or client) each report is a task on that
    cluster instead (:func:`run_reports_dask`)."""
    if scheduler:
        return run_reports_dask(clients, scheduler, period=period)
    workers = max(1, min(workers or os.cpu_count() or 1, len(clients) or 1))
    if workers == 1:
        return [_run_one(c, period) for c in clients]
    runs = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_run_one, c, period): c for c in clients}
        for future in as_completed(futures):
            runs.append(future.result())
    return sorted(runs, key=lambda r: r.client)


def latest_results(client: str) -> tuple[Path, dict] | None:
    """The client's most recent report (by as-of date) and its results."""
    best = None
    for file in (paths.reports_dir() / client).glob("*/results.json"):
        try:
            results = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        key = str(results.get("meta", {}).get("as_of") or "")
        if best is None or key > best[0]:
            best = (key, file.parent, results)
    return (best[1], best[2]) if best else None


def prize_cells(results: dict[str, Any], currency: str) -> str:
    """The client's prize a year (mid, its range under it) and top decision, from its
    report's ``executive.so_what`` (dashes for a report written before the executive layer
    or one whose data size no lever)."""
    so_what = ((results.get("executive") or {}).get("so_what") or {})
    prize = so_what.get("prize") or {}
    decisions = so_what.get("decisions") or []
    mid = tf.money(prize.get("mid"), currency, missing=tf.ABSENT)
    span = ("" if prize.get("mid") is None else html.escape(
        tf.span(prize.get("low"), prize.get("high"), lambda v: tf.money(v, currency))))
    span = f'<div class="sub">{span}</div>' if span else ""
    top = html.escape(str(decisions[0].get("text") or "")) if decisions else tf.ABSENT
    return f"<td class=num>{html.escape(mid)}{span}</td><td class=decision>{top}</td>"


def index_html(clients: list[str], runs: list[ClientRun] | None = None) -> str:
    """The portfolio page: self-contained HTML, no script, no external resource.

    Every text from a results.json (the client's name, period, currency) is escaped; the
    page carries the Content-Security-Policy of :mod:`playbook.sanitize` and goes through
    its :func:`~playbook.sanitize.sanitize_html`."""

    def money(value: float | None, currency: str) -> str:
        return html.escape(tf.money(value, currency))

    failed = {r.client: r.message for r in runs or [] if not r.ok}
    rows = []
    for client in clients:
        found = latest_results(client)
        if found is None:
            note = failed.get(client, "no report yet")
            rows.append(f"<tr><td>{html.escape(client)}</td><td colspan=9 class=err>"
                        f"{html.escape(note)}</td></tr>")
            continue
        folder, results = found
        f = facts_from_results(results)
        base = folder.relative_to(paths.reports_dir()).as_posix()
        link = f"{base}/report.html"
        pdf = (f' <a class="pdf" href="{html.escape(base)}/report.pdf">PDF</a>'
               if (folder / "report.pdf").is_file() else "")
        pdf += (f' <a class="pdf" href="{html.escape(base)}/{XLSX_NAME}">accounts</a>'
                if (folder / XLSX_NAME).is_file() else "")  # the account workbook (#19)
        as_of = results.get("meta", {}).get("as_of") or ""
        when = f'<div class="sub">as of {html.escape(str(as_of))}</div>' if as_of else ""
        signoff = (results.get("notes") or {}).get("signoff")  # the consultant's (#23)
        when += (f'<div class="sub signoff">{html.escape(str(signoff))}</div>' if signoff
                 else '<div class="sub signoff">no sign-off (no notes file)</div>')
        err = (f'<div class="err">last run failed: {html.escape(failed[client])}</div>'
               if client in failed else "")
        if f.contradictions:
            err += (f'<div class="err">the data contradict themselves in '
                    f"{tf.count(f.contradictions)} ways: read with care</div>")
        rows.append(
            f'<tr><td><a href="{html.escape(link)}">{html.escape(f.client_name or client)}'
            f"</a>{pdf}{err}</td><td class=period>{html.escape(f.period_label)}{when}</td>"
            f"<td class=num>{money(f.mrr, f.currency)}</td>"
            f"<td class=num>{tf.pct(f.grr, 1)}</td><td class=num>{tf.pct(f.nrr, 1)}</td>"
            f"<td class=num>{tf.pct(f.logo_churn, 1)}</td>"
            f"<td class=num>{money(f.mrr_at_risk, f.currency)}</td>"
            f"<td class=num>{tf.pct(f.unknown_reason_share, 0)}</td>"
            f"{prize_cells(results, f.currency)}</tr>")
    head = ("<tr><th>Client</th><th>Period</th><th class=num>MRR</th><th class=num>GRR</th>"
            "<th class=num>NRR</th><th class=num>Logo churn</th><th class=num>MRR at risk</th>"
            "<th class=num>Churn without a reason</th><th class=num>Prize a year</th>"
            "<th>Top decision</th></tr>")
    return sanitize_html(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">{CSP_META}<title>Client portfolio</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; color: #262626; margin: 2em auto;
       max-width: 76em; }}
h1 {{ color: #1f4e79; font-size: 1.5em; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ padding: .4em .6em; border-bottom: 1px solid #e3e3e3; text-align: left; }}
th {{ border-bottom: 1.5px solid #262626; font-size: .85em; }}
td.num, th.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
td.period {{ white-space: nowrap; }}
td.decision {{ font-size: .85em; min-width: 16em; }}
.sub {{ color: #595959; font-size: .8em; }}
a.pdf {{ font-size: .8em; margin-left: .4em; }}
.err {{ color: #a23b3b; font-size: .85em; }}
a {{ color: #1f4e79; }}
</style></head><body>
<h1>Client portfolio</h1>
<p>Latest report of each client; figures from each report's results.json (trailing 12
months).</p>
<table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>
</body></html>
""")


def write_index(clients: list[str], runs: list[ClientRun] | None = None) -> Path:
    """Write ``reports/index.html`` (atomic; a full disk is a clear error)."""
    return write_text(paths.reports_dir() / "index.html", index_html(clients, runs),
                      "the portfolio page")
