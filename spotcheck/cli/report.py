"""The outcome loop's command: report (statistics, workbook, HTML report, advice)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from spotcheck.cli.context import emit, json_option, workspace


def _day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    """Return --as-of as a date, or None."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date YYYY-MM-DD") from None


@click.command()
@click.option("--quarter", required=True, help="The quarter to report on, e.g. 2026Q4.")
@click.option("--quarters", type=click.IntRange(1, 20), default=1, show_default=True,
              help="Pool the statistics over this many quarters ending with --quarter.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.html, workbook.xlsx and report.json (files of an "
                   "earlier report there are replaced).")
@click.option("--public", is_flag=True,
              help="Write only workbook-public.xlsx: the plan notice, drawn list and published "
                   "results, nothing DESIGN §10 forbids (no tier, no per-tier count); a "
                   "folder holding the internal report is refused.")
@click.option("--suggest-policy", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the advice as a policy TOML to review (never applied by itself; an "
                   "existing file is refused).")
@click.option("--objective", type=click.Choice(["findings", "precision"]), default="findings",
              show_default=True,
              help="Which advice --suggest-policy writes: the most findings, or the most "
                   "precise overall rate (Neyman).")
@click.option("--calendar", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The bureau's holiday calendar (TOML) for years the package lacks.")
@click.option("--as-of", "as_of", callback=_day, metavar="YYYY-MM-DD",
              help="The day publication deadlines are judged on (default: today).")
@json_option
@click.pass_context
def report(ctx: click.Context, quarter: str, quarters: int, out: Path, public: bool,
           suggest_policy: Path | None, objective: str, calendar: Path | None,
           as_of: date | None) -> None:
    """What the draws found per tier, how often each tier was disturbed, and what to change.

    Stratified (Horvitz–Thompson) finding rates with exact and Wilson 95 % intervals, missing
    results counted apart; disturbance over the last four quarters; per-tier ratios for the
    next period that find the most problems or estimate the overall rate most precisely.
    """
    done = workspace(ctx).report(quarter, out, quarters=quarters, today=as_of,
                                 calendar=calendar, public=public,
                                 suggest_policy=suggest_policy, objective=objective)
    emit(ctx, done, done.lines())


COMMANDS = (report,)
