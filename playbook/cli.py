"""Command line: the only place that turns playbook errors into messages and exit codes.

    playbook report CLIENT [--period 2026-Q3] [--as-of 2026-09-30]
    playbook demo [--out data/demo] [--seed N] [--accounts N]
    playbook check CLIENT [--period ...]
    playbook contract-doc [--out docs/data-contract.md]
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from playbook.errors import PlaybookError


def _fail(exc: PlaybookError) -> None:
    click.secho("\nThe run stopped:", fg="red", bold=True, err=True)
    click.echo(str(exc), err=True)
    sys.exit(exc.exit_code)


@click.group()
def main() -> None:
    """cs-playbook: customer-success assessment reports from CRM and CS exports."""


@main.command()
@click.argument("client")
@click.option("--period", default="", help="Reporting period: 2026-Q3, 2026-H2, 2026-09, 2026.")
@click.option("--as-of", "as_of", default="", help="As-of date YYYY-MM-DD.")
@click.option("--quiet", is_flag=True, help="No progress output.")
def report(client: str, period: str, as_of: str, quiet: bool) -> None:
    """Run the notebooks for CLIENT and publish reports/<client>/<period>/."""
    from playbook.render import render_report

    try:
        render_report(client, period=period or None, as_of=as_of or None, progress=not quiet)
    except PlaybookError as exc:
        _fail(exc)


@main.command()
@click.option("--out", default="", help="Output folder (default data/demo).")
@click.option("--seed", default=20260930, show_default=True, type=int)
@click.option("--accounts", default=1500, show_default=True, type=int)
@click.option("--force", is_flag=True, help="Regenerate even if the folder has the files.")
def demo(out: str, seed: int, accounts: int, force: bool) -> None:
    """Generate the demo client's raw exports (deterministic for a seed)."""
    from playbook import paths
    from playbook.demo import generate_demo

    target = Path(out) if out else paths.data_dir("demo")
    stamp = target / ".generated"
    wanted = f"seed={seed} accounts={accounts}\n"
    if not force and stamp.is_file() and stamp.read_text() == wanted:
        click.echo(f"Demo data already in {target} ({wanted.strip()}); skipped.")
        return
    files = generate_demo(target, seed=seed, n_accounts=accounts)
    stamp.write_text(wanted)
    click.echo(f"Wrote {len(files)} demo files to {target}.")


@main.command()
@click.argument("client")
@click.option("--period", default="")
@click.option("--as-of", "as_of", default="")
def check(client: str, period: str, as_of: str) -> None:
    """Validate CLIENT's params and data without running the analyses."""
    from playbook.config import load_params
    from playbook.loader import load_client

    try:
        params = load_params(client, period=period or None, as_of=as_of or None)
        data = load_client(params)
    except PlaybookError as exc:
        _fail(exc)
    click.echo(f"{client}: parameters valid; period {params.period_label} "
               f"({params.period_start} to {params.as_of}).")
    click.echo(data.quality.loads_frame().to_string(index=False))
    notes = data.quality.notes_frame()
    if len(notes):
        click.echo("\nData-quality notes:")
        click.echo(notes.to_string(index=False, max_colwidth=90))


@main.command("contract-doc")
@click.option("--out", default="", help="Write here instead of printing.")
def contract_doc(out: str) -> None:
    """Print (or write) the data-contract documentation generated from playbook.contract."""
    from playbook.contract_doc import contract_markdown

    text = contract_markdown()
    if out:
        Path(out).write_text(text, encoding="utf-8")
    else:
        click.echo(text)


if __name__ == "__main__":
    main()
