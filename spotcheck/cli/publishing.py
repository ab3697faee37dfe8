"""Commands of 一公开: publish a plan's notice and drawn list (results follow the inspections)."""

from __future__ import annotations

from pathlib import Path

import click

from spotcheck.cli.context import emit, json_option, progress, workspace
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


@publish.command("results")
@click.option("--quarter", required=True, help="The quarter whose results to publish.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for results_QUARTER_DATE.csv/.xlsx (抽查结果公示).")
@json_option
@click.pass_context
def publish_results_command(ctx: click.Context, quarter: str, out: Path) -> None:
    """Write the results not yet published (§10 fields) and record today's publication."""
    done = workspace(ctx).publish_results(quarter, out)
    emit(ctx, done, [f"published {done.rows} result(s) of {done.quarter} on "
                     f"{done.published_on.isoformat()} ({done.corrections} correction(s)); "
                     f"event #{done.event}", *(f"  wrote {path}" for path in done.files)])


@click.group()
def results() -> None:
    """Inspection results (检查结果): import them, and watch the publication deadlines."""


@results.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--quarter", help="Only pairs drawn in this quarter (when task codes repeat).")
@click.option("--sheet", metavar="NAME",
              help="The worksheet of an .xlsx to import (needed when several have data).")
@json_option
@click.pass_context
def results_import(ctx: click.Context, file: Path, quarter: str | None,
                   sheet: str | None) -> None:
    """Import a results file (CSV in UTF-8/GBK, or XLSX; Chinese or English headers); atomic."""
    done = workspace(ctx).results_import(file, quarter=quarter, sheet=sheet,
                                         progress=progress(ctx, "results import"))
    emit(ctx, done, [f"imported {done.rows} result(s) from {file} ({done.corrections} "
                     f"correction(s) of earlier results); event #{done.event}"])


@results.command("status")
@click.option("--quarter", required=True, help="The quarter, e.g. 2026Q4.")
@click.option("--calendar", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The bureau's holiday calendar (TOML) for years the package lacks.")
@json_option
@click.pass_context
def results_status(ctx: click.Context, quarter: str, calendar: Path | None) -> None:
    """Per task: drawn, results, published, deadlines; exit 1 when anything is overdue."""
    status = workspace(ctx).results_status(quarter, calendar=calendar)
    emit(ctx, status, status.lines(), ok=status.ok)


@click.command("substitute")
@click.option("--quarter", required=True, help="The quarter of the plan.")
@click.argument("enterprise_id")
@click.argument("department")
@click.option("--replace", "replaced", required=True, metavar="INSPECTOR_ID",
              help="The officer who cannot inspect (ill, or a new 回避).")
@click.option("--reason", required=True, help="Why, recorded in the event log.")
@json_option
@click.pass_context
def substitute_command(ctx: click.Context, quarter: str, enterprise_id: str, department: str,
                       replaced: str, reason: str) -> None:
    """Replace an officer on a visit by the lowest-cost lawful officer (nobody picks by hand)."""
    done = workspace(ctx).substitute(quarter, enterprise_id, department, replaced, reason)
    emit(ctx, done, [f"{done.replaced} → {done.substitute} on {done.enterprise_id} "
                     f"({done.department}, plan {done.plan_id}): the cheapest of "
                     f"{done.candidates} lawful officer(s) with capacity left, cost {done.cost}; "
                     f"event #{done.event}"])


COMMANDS = (publish, results, substitute_command)
