"""The `spotcheck` command line: a thin shell that parses, calls the API and prints."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from .errors import SpotcheckError


def _fail(exc: SpotcheckError) -> NoReturn:
    click.echo(f"spotcheck: {exc}", err=True)
    sys.exit(1)


def _created_at() -> str:
    """Return the bundle timestamp: SOURCE_DATE_EPOCH when set (reproducible), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


class _Group(click.Group):
    """Turns every expected failure into a message and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SpotcheckError as exc:
            _fail(exc)


@click.group(cls=_Group)
@click.option("--db", "db_url", envvar="SPOTCHECK_DB", default=None, metavar="URL",
              help="Database URL (default sqlite:///spotcheck.db; env SPOTCHECK_DB).")
@click.version_option(package_name="spotcheck")
@click.pass_context
def main(ctx: click.Context, db_url: str | None) -> None:
    """spotcheck — credit-tiered double-random (双随机) inspection plans with audit bundles."""
    ctx.obj = {"db_url": db_url}


def _engine(ctx: click.Context) -> Any:
    from models.database import create_db_and_tables, database_url, get_engine

    engine = get_engine(database_url(ctx.obj["db_url"]))
    create_db_and_tables(engine)
    return engine


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database tables (also done on first use)."""
    from models.database import database_url

    _engine(ctx)
    click.echo(f"database ready: {database_url(ctx.obj['db_url'])}")


@main.command("import")
@click.argument("kind", type=click.Choice(["enterprises", "inspectors", "conflicts", "history"]))
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy whose tiers enterprises must use (default: the shipped policy).")
@click.pass_context
def import_(ctx: click.Context, kind: str, file: Path, policy_path: Path | None) -> None:
    """Import a registry file (CSV in UTF-8/GBK, or XLSX; English or Chinese headers).

    Enterprises and inspectors files are full snapshots that replace the registry;
    conflicts and history are appended, ignoring exact duplicates.
    """
    from models import store

    from . import registry_files
    from .policy import load_policy

    if not file.exists():
        raise click.BadParameter(f"{file} does not exist", param_hint="FILE")
    engine = _engine(ctx)
    if kind == "enterprises":
        policy, _ = load_policy(policy_path)
        report = store.import_enterprises(
            engine, registry_files.read_enterprises(file, tiers=sorted(policy.tiers)))
    elif kind == "inspectors":
        report = store.import_inspectors(engine, registry_files.read_inspectors(file))
    elif kind == "conflicts":
        enterprise_ids, inspector_ids = store.known_ids(engine)
        report = store.import_conflicts(engine, registry_files.read_conflicts(
            file, inspector_ids=inspector_ids, enterprise_ids=enterprise_ids))
    else:
        report = store.import_history(engine, registry_files.read_history(file))
    click.echo(f"imported {kind} from {file}")
    for line in report.lines():
        click.echo(f"  {line}")


def _print_plan(plan: Any, registry: Any) -> None:
    from .summary import shortfall_summary, strata_summary, utilisation_summary

    click.echo(f"\nplan for {plan.quarter} — strata by task and tier (分层抽取)")
    for line in strata_summary(plan):
        click.echo("  " + line)
    shortfalls = shortfall_summary(plan)
    if shortfalls:
        click.echo("\nstrata drawn below target")
        for line in shortfalls:
            click.echo("  " + line)
    click.echo("\ninspector utilisation (执法人员) by department and jurisdiction")
    for line in utilisation_summary(plan, registry):
        click.echo("  " + line)


@main.command()
@click.option("--quarter", required=True, help="Quarter to plan, e.g. 2026Q4.")
@click.option("--seed", required=True, help="The public seed (no ':' or surrounding spaces).")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy TOML (default: the shipped config/policy.toml).")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Folder (or .zip) for the audit bundle; must not exist yet.")
@click.option("--replace", is_flag=True,
              help="Supersede an existing plan for the same quarter and tasks.")
@click.pass_context
def plan(ctx: click.Context, quarter: str, seed: str, policy_path: Path | None, out: Path,
         replace: bool) -> None:
    """Draw the quarter's enterprises and teams; store the plan and write its audit bundle."""
    from models import store

    from .bundle import build_bundle, write_bundle
    from .plan import plan_quarter
    from .policy import load_policy

    policy, policy_bytes = load_policy(policy_path)
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise SpotcheckError(f"{out}: already exists and is not empty; choose another --out")
    engine = _engine(ctx)
    registry = store.load_registry(engine)
    if len(registry.enterprises) == 0:
        raise SpotcheckError("no enterprises in the database: run "
                             "`spotcheck import enterprises FILE` first")
    if not registry.inspectors:
        raise SpotcheckError("no inspectors in the database: run "
                             "`spotcheck import inspectors FILE` first")
    result = plan_quarter(registry, policy, quarter, seed)
    bundle = build_bundle(result, registry, policy_bytes, created_at=_created_at())
    manifest = bundle.manifest
    written = write_bundle(bundle, out)
    try:
        superseded = store.store_plan(engine, result, manifest["plan_id"],
                                      bundle.files["manifest.json"].decode(), replace=replace)
    except BaseException:
        if written.is_dir():
            shutil.rmtree(written)
        else:
            written.unlink(missing_ok=True)
        raise
    _print_plan(result, registry)
    click.echo(f"\nplan {manifest['plan_id']} stored; audit bundle written to {written}")
    if superseded:
        click.echo(f"plan {superseded} is now marked superseded")


@main.command()
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
def verify(bundle: Path) -> None:
    """Reproduce a plan from its audit bundle alone; exit 0 only if everything matches."""
    from .verify import verify_bundle

    report = verify_bundle(bundle)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("spotcheck-demo"),
              show_default=True, help="Folder for the demo's audit bundle (replaced if a bundle).")
@click.option("--enterprises", type=click.IntRange(1_000, 5_000_000), default=200_000,
              show_default=True, help="Size of the synthetic city.")
def demo(out: Path, enterprises: int) -> None:
    """Plan a quarter for a synthetic city, write its bundle and verify it; no set-up needed."""
    from .bundle import build_bundle, write_bundle
    from .demo import DEMO_QUARTER, DEMO_SEED, synthetic_city
    from .plan import plan_quarter
    from .policy import load_policy
    from .verify import verify_bundle

    if out.exists() and (out / "manifest.json").exists():
        shutil.rmtree(out)
    policy, policy_bytes = load_policy()
    click.echo(f"generating a synthetic city of {enterprises:,} enterprises ...")
    registry = synthetic_city(enterprises)
    click.echo(f"planning {DEMO_QUARTER} with seed {DEMO_SEED} and the shipped policy ...")
    result = plan_quarter(registry, policy, DEMO_QUARTER, DEMO_SEED)
    bundle = build_bundle(result, registry, policy_bytes, created_at=_created_at())
    written = write_bundle(bundle, out)
    _print_plan(result, registry)
    click.echo(f"\naudit bundle written to {written}; verifying it from the files alone ...")
    report = verify_bundle(written)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)
