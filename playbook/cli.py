"""Command line: the only place that turns playbook errors into messages and exit codes.

    playbook report CLIENT [--period 2026-Q3] [--as-of 2026-09-30]
    playbook demo [--out data/demo] [--seed N] [--accounts N] [--end-month YYYY-MM]
                  [--months N] [--force] [--keep-edited]
    playbook check CLIENT [--period ...]
    playbook contract-doc [--out docs/data-contract.md]
    playbook client CLIENT [--force] [--out FILE]
    playbook data-request [CLIENT] [--out DIR]
    playbook notes CLIENT [--force]
    playbook slides CLIENT [--period ...]

Everything printed goes through :func:`_echo`, which shows terminal control characters
from client files (colours, titles, hyperlinks, carriage returns) as visible escapes
(:func:`playbook.terminal.safe`). An :class:`OSError` that no library turned into a
playbook error (a full disk, a read-only folder) still ends in one message, not a
traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from playbook.errors import PlaybookError
from playbook.terminal import safe, safe_warnings


def _echo(text: object = "", *, err: bool = False) -> None:
    """Print one piece of text, control characters shown escaped (the only print path)."""
    click.echo(safe(text), err=err)


def _fail(exc: PlaybookError | OSError) -> None:
    if isinstance(exc, OSError):  # not turned into a playbook error by the library
        from playbook.storage import os_error

        exc = os_error(exc)
    click.secho("\nThe run stopped:", fg="red", bold=True, err=True)
    _echo(str(exc), err=True)
    sys.exit(exc.exit_code)


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """cs-playbook: customer-success assessment reports from CRM and CS exports."""
    ctx.with_resource(safe_warnings())


@main.command()
@click.argument("client")
@click.option("--period", default="", help="Reporting period: 2026-Q3, 2026-H2, 2026-09, 2026.")
@click.option("--as-of", "as_of", default="", help="As-of date YYYY-MM-DD.")
@click.option("--quiet", is_flag=True, help="No progress output.")
def report(client: str, period: str, as_of: str, quiet: bool) -> None:
    """Run the notebooks for CLIENT and publish reports/<client>/<period>/."""
    from playbook.render_start import started_run

    try:
        # the data load in a child and the kernels start while the render code is imported
        with started_run(client, period=period or None, as_of=as_of or None) as run:
            from playbook.render import render_report

            render_report(client, progress=not quiet, started=run)
    except (PlaybookError, OSError) as exc:
        _fail(exc)


@main.command()
@click.option("--period", default="", help="Reporting period for every client.")
@click.option("--jobs", default=0, type=int, help="Clients at once (default: the core count).")
@click.option("--dask", "dask", default="", help="Dask scheduler address (tcp://host:8786): "
              "each client's report runs as a task on that cluster.")
def reports(period: str, jobs: int, dask: str) -> None:
    """Run every client in params/ and write reports/index.html (the portfolio page)."""
    from playbook.portfolio import clients_with_params, run_reports, write_index

    clients = clients_with_params()
    where = f" on the Dask cluster at {dask}" if dask else ""
    _echo(f"Running {len(clients)} client(s){where}: {', '.join(clients)}", err=True)
    try:
        runs = run_reports(clients, period=period or None, workers=jobs or None,
                           scheduler=dask or None)
    except (PlaybookError, OSError) as exc:
        _fail(exc)
    for run in runs:
        _echo(f"  {'ok  ' if run.ok else 'FAIL'} {run.client}: {run.message}", err=True)
    try:
        _echo(f"Portfolio page: {write_index(clients, runs)}", err=True)
    except (PlaybookError, OSError) as exc:
        _fail(exc)
    if not all(r.ok for r in runs):
        sys.exit(2)


@main.command()
@click.option("--out", default="", help="Output folder (default data/demo); any other "
              "folder must be new or empty.")
@click.option("--seed", default=20260930, show_default=True, type=int)
@click.option("--accounts", default=1500, show_default=True, type=int)
@click.option("--end-month", "end_month", default="2026-09", show_default=True,
              help="Last exported month, YYYY-MM.")
@click.option("--months", default=36, show_default=True, type=int, help="Months of history.")
@click.option("--force", is_flag=True, help="Regenerate data/demo even when its files were "
              "edited (never writes into another folder that has files).")
@click.option("--keep-edited", "keep_edited", is_flag=True, help="When data/demo was edited, "
              "say so and keep it as it is instead of stopping (what make uses).")
def demo(out: str, seed: int, accounts: int, end_month: str, months: int, force: bool,
         keep_edited: bool) -> None:
    """Generate the demo client's raw exports (deterministic for a seed).

    Writes data/demo only while every file there is as generated (its .generated marker
    records each file's SHA-256), or into a new or empty folder given with --out. The one
    definition of the command: python -m playbook.demo runs it too.
    """
    from playbook import paths
    from playbook.demo import write_demo
    from playbook.errors import GeneratedFolderError

    target = Path(out) if out else paths.data_dir("demo")
    try:
        files = write_demo(target, seed=seed, n_accounts=accounts, end_month=end_month,
                           months=months, force=force)
    except GeneratedFolderError as exc:
        if keep_edited and exc.kind == "edited":
            _echo(f"Kept the demo data in {target} as it is: {exc.message}\n"
                  f"  To regenerate it: {exc.fix}", err=True)
            return
        _fail(exc)
    except (PlaybookError, OSError) as exc:
        _fail(exc)
    if files is None:
        _echo(f"Demo data already in {target} (seed={seed} accounts={accounts}, unedited); "
              "skipped.")
        return
    _echo(f"Wrote {len(files)} demo files to {target}.")


@main.command()
@click.argument("client")
@click.option("--period", default="")
@click.option("--as-of", "as_of", default="")
def check(client: str, period: str, as_of: str) -> None:
    """Validate CLIENT's params and data without running the analyses."""
    from playbook.config import load_params
    from playbook.loader import load_client
    from playbook.notes import load_notes

    try:
        params = load_params(client, period=period or None, as_of=as_of or None)
        notes = load_notes(client)  # the consultant's notes, when there are any
        data = load_client(params)
    except (PlaybookError, OSError) as exc:
        _fail(exc)
    _echo(f"{client}: parameters valid; period {params.period_label} "
               f"({params.period_start} to {params.as_of}).")
    if notes is not None:
        _echo(f"{notes.source}: valid; status {notes.status}, {len(notes.exhibits)} exhibit "
              f"note(s), {len(notes.interviews)} interview(s).")
    _echo(data.quality.loads_frame().to_string(index=False))
    from playbook.profile import format_profile, profile_client

    _echo("\n" + format_profile(profile_client(data, params),
                                     accounts_total=len(data.tables["accounts"])))
    notes = data.quality.notes_frame()
    if len(notes):
        _echo("\nData-quality notes:")
        _echo(notes.to_string(index=False, max_colwidth=90))


@main.command("contract-doc")
@click.option("--out", default="", help="Write here instead of printing.")
def contract_doc(out: str) -> None:
    """Print (or write) the data-contract documentation generated from playbook.contract."""
    from playbook.contract_doc import contract_markdown

    text = contract_markdown()
    if not out:
        _echo(text)
        return
    from playbook.storage import write_text

    try:
        write_text(Path(out), text, "the data-contract documentation")
    except PlaybookError as exc:
        _fail(exc)


@main.command()
@click.argument("client")
@click.option("--force", is_flag=True, help="Replace an existing params/<client>.yaml.")
@click.option("--out", default="", help="Write the proposal here instead of params/<client>.yaml.")
def client(client: str, force: bool, out: str) -> None:
    """Scaffold params/CLIENT.yaml from the files in data/CLIENT/ (which it only reads)."""
    from playbook.scaffold import write_params

    try:
        path, proposal = write_params(client, force=force, out=Path(out) if out else None)
    except (PlaybookError, OSError) as exc:
        _fail(exc)
    _echo(proposal.summary())
    _echo(f"\nWrote {path}: every guess is commented with how sure it is; fix the TODOs, "
               f"then run: make check CLIENT={client}")


@main.command("data-request")
@click.argument("client", required=False, default="")
@click.option("--out", default="", help="Output folder (default reports/<client>/data-request).")
@click.option("--no-pdf", "no_pdf", is_flag=True, help="Write HTML and XLSX only.")
def data_request(client: str, out: str, no_pdf: bool) -> None:
    """Write the data request for CLIENT (HTML, PDF and a blank XLSX workbook)."""
    from playbook.data_request import write_data_request

    try:
        files = write_data_request(client or None, out=Path(out) if out else None,
                                   pdf=not no_pdf)
    except (PlaybookError, OSError) as exc:
        _fail(exc)
    for label, path in files.items():
        _echo(f"  {label:<5} {path}")


@main.command()
@click.argument("client")
@click.option("--force", is_flag=True, help="Replace an existing params/<client>.notes.yaml.")
def notes(client: str, force: bool) -> None:
    """Write params/CLIENT.notes.yaml pre-filled from the last run: every exhibit id and its
    generated title, as comments to uncomment (docs/notes.md)."""
    from playbook.notes_template import write_notes_template

    try:
        path = write_notes_template(client, force=force)
    except (PlaybookError, OSError) as exc:
        _fail(exc)
    _echo(f"Wrote {path}: uncomment and edit what you change, then run: "
          f"make report CLIENT={client}")


@main.command()
@click.argument("client")
@click.option("--period", default="", help="Period of the published report (default: the "
              "params' period).")
@click.option("--as-of", "as_of", default="", help="As-of date YYYY-MM-DD.")
def slides(client: str, period: str, as_of: str) -> None:
    """Write report.pptx again for CLIENT's published report (no notebook is run)."""
    from playbook.config import load_params
    from playbook.locks import client_lock, report_dir
    from playbook.slides import rebuild_slides

    try:
        params = load_params(client, period=period or None, as_of=as_of or None)
        with client_lock(client):
            path = rebuild_slides(report_dir(client, params.period_label))
    except (PlaybookError, OSError) as exc:
        _fail(exc)
    _echo(f"Slides: {path}")


if __name__ == "__main__":
    main()
