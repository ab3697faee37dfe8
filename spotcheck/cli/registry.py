"""Commands that set up the database and fill the registry: init, import."""

from __future__ import annotations

from pathlib import Path

import click

from spotcheck.cli.context import emit, json_option, progress, workspace
from spotcheck.service.workspace import KINDS


@click.command()
@json_option
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database tables (also done on first use)."""
    ready = workspace(ctx).ready()
    emit(ctx, ready, [] if ctx.obj["quiet"] else [f"database ready: {ready.url}"])


@click.command("import")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy whose tiers enterprises must use (default: the shipped policy).")
@click.option("--sheet", metavar="NAME",
              help="The worksheet of an .xlsx to import (needed when several have data).")
@json_option
@click.pass_context
def import_(ctx: click.Context, kind: str, file: Path, policy_path: Path | None,
            sheet: str | None) -> None:
    """Import a registry file (CSV in UTF-8/GBK, or XLSX; English or Chinese headers).

    Enterprises and inspectors files are full snapshots that replace the registry;
    conflicts and history are appended, ignoring exact duplicates.
    """
    if not file.exists():
        raise click.BadParameter(f"{file} does not exist", param_hint="FILE")
    ws = workspace(ctx)
    result = ws.import_file(kind, file, policy=policy_path, sheet=sheet,
                            progress=progress(ctx, "import"))
    emit(ctx, result, [] if ctx.obj["quiet"] else result.lines())


COMMANDS = (init, import_)
