"""Commands of 一公开: publish a plan's notice and drawn list (results follow the inspections)."""

from __future__ import annotations

from pathlib import Path

import click

from spotcheck.cli.context import emit, json_option
from spotcheck.service.publishing import publish_plan


@click.group()
def publish() -> None:
    """Write the public files of 一公开 (never a tier, stratum or rank)."""


@publish.command("plan")
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for plan_notice.csv/.xlsx and drawn_list.csv/.xlsx.")
@json_option
@click.pass_context
def publish_plan_command(ctx: click.Context, bundle: Path, out: Path) -> None:
    """Write the plan notice (抽查计划公示) and drawn list (抽查名单) from the bundle alone."""
    published = publish_plan(bundle, out)
    emit(ctx, published, [
        f"plan notice: {published.tasks} task(s); drawn list: {published.drawn} enterprise(s)",
        *(f"  wrote {path}" for path in published.files),
        f"check it before publishing: spotcheck verify {bundle} --public {out}"])


COMMANDS = (publish,)
