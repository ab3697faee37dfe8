"""The `spotcheck` command line: one click group; each command parses, calls the service
layer (`spotcheck.service`) and prints."""

from __future__ import annotations

import click

from spotcheck.cli import audit, ceremony, planning, publishing, registry, report
from spotcheck.cli.context import Group


@click.group(cls=Group)
@click.option("--db", "db_url", envvar="SPOTCHECK_DB", default=None, metavar="URL",
              help="Database URL (default sqlite:///spotcheck.db; env SPOTCHECK_DB).")
@click.option("--actor", envvar="SPOTCHECK_ACTOR", default=None, metavar="NAME",
              help="Who is acting, recorded in the event log (env SPOTCHECK_ACTOR; "
                   "default: the OS user).")
@click.option("--quiet", "-q", is_flag=True,
              help="No progress bars and no summaries: only errors, warnings, verdicts and "
                   "fingerprints to publish. (Progress shows only when stderr is a terminal.)")
@click.version_option(package_name="spotcheck")
@click.pass_context
def main(ctx: click.Context, db_url: str | None, actor: str | None, quiet: bool) -> None:
    """spotcheck — credit-tiered double-random (双随机) inspection plans with audit bundles."""
    ctx.obj = {"db_url": db_url, "actor": actor, "quiet": quiet}


for _module in (registry, ceremony, planning, audit, publishing, report):
    for _command in _module.COMMANDS:
        main.add_command(_command)
