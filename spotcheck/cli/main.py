"""The `spotcheck` command line: a thin shell that parses, calls the API and prints."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from spotcheck.cli.ceremony import COMMANDS
from spotcheck.errors import SpotcheckError
from spotcheck.service.progress import Progress, progress_for


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


for _command in COMMANDS:
    main.add_command(_command)


def _engine(ctx: click.Context) -> Any:
    from spotcheck.store.database import open_database

    return open_database(ctx.obj["db_url"])


def _quiet(ctx: click.Context) -> bool:
    return bool((ctx.obj or {}).get("quiet"))


def _say(ctx: click.Context, text: str) -> None:
    """Print information a planner may skip: silent with --quiet."""
    if not _quiet(ctx):
        click.echo(text)


def _progress(ctx: click.Context, command: str) -> Progress:
    """Return the command's progress reporter, its open line ended if the command fails."""
    return ctx.with_resource(progress_for(command, quiet=_quiet(ctx)))


def _file_sha256(file: Path, progress: Progress) -> str:
    """Return the SHA-256 of a file, read in 1 MiB chunks counted on the progress bar."""
    import hashlib

    sha = hashlib.sha256()
    with file.open("rb") as handle, progress.tally("checksum", file.stat().st_size,
                                                   "B") as tally:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
            tally.advance(len(chunk))
    return sha.hexdigest()


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database tables (also done on first use)."""
    from spotcheck.store.database import database_url

    _engine(ctx)
    _say(ctx, f"database ready: {database_url(ctx.obj['db_url'])}")


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
    from spotcheck import store
    from spotcheck.formats.registry_files import (
        read_conflicts,
        read_enterprises,
        read_history,
        read_inspectors,
    )
    from spotcheck.models.policy import load_policy

    if not file.exists():
        raise click.BadParameter(f"{file} does not exist", param_hint="FILE")
    engine = _engine(ctx)
    progress = _progress(ctx, "import")
    source = {"file": file.name, "sha256": _file_sha256(file, progress)}
    logged: dict[str, Any] = {"actor": ctx.obj["actor"], "source": source}
    # The readers check each row as they read it: reading and validating are one stage.
    progress.stage("read and validate")
    if kind == "enterprises":
        policy, _ = load_policy(policy_path)
        enterprises = read_enterprises(file, tiers=sorted(policy.tiers))
        progress.stage("store")
        report = store.import_enterprises(engine, enterprises, **logged)
    elif kind == "inspectors":
        inspectors = read_inspectors(file)
        progress.stage("store")
        report = store.import_inspectors(engine, inspectors, **logged)
    elif kind == "conflicts":
        enterprise_ids, inspector_ids = store.known_ids(engine)
        conflicts = read_conflicts(file, inspector_ids=inspector_ids,
                                   enterprise_ids=enterprise_ids)
        progress.stage("store")
        report = store.import_conflicts(engine, conflicts, **logged)
    else:
        history = read_history(file)
        progress.stage("store")
        report = store.import_history(engine, history, **logged)
    progress.finish()
    _say(ctx, f"imported {kind} from {file}")
    for line in report.lines():
        _say(ctx, f"  {line}")


def _print_plan(plan: Any, registry: Any) -> None:
    from spotcheck.scheduler.summary import shortfall_summary, strata_summary, utilisation_summary

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
@click.option("--seed", default=None,
              help="The public seed (no ':' or surrounding spaces). Default: the seed the "
                   "quarter's ceremony drew (`spotcheck seed`); another seed is refused.")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy TOML (default: the shipped config/policy.toml).")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Folder (or .zip) for the audit bundle; must not exist yet.")
@click.option("--replace", is_flag=True,
              help="Supersede an existing plan for the same quarter and tasks.")
@click.option("--key", "key_path", envvar="SPOTCHECK_KEY",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Ed25519 private key (PEM) that signs manifest.json (env SPOTCHECK_KEY; "
                   "make one with `spotcheck keys init`).")
@click.option("--engine", "draw_engine", type=click.Choice(["python", "sql"]),
              default="python", show_default=True,
              help="Where eligibility, tickets and draw order are computed: here, or by the "
                   "PostgreSQL server that holds the registry (same plan, byte for byte).")
@click.pass_context
def plan(ctx: click.Context, quarter: str, seed: str | None, policy_path: Path | None,
         out: Path, replace: bool, key_path: Path | None, draw_engine: str) -> None:
    """Draw the quarter's enterprises and teams; store the plan and write its audit bundle.

    With a freeze (`spotcheck freeze`), the registry and policy must be the frozen ones and
    the seed is the ceremony's; the bundle carries the event log that shows it.
    """
    from spotcheck import store
    from spotcheck.audit.signing import load_signer
    from spotcheck.formats.bundle import (
        OUTPUT_FILES,
        Provenance,
        build_bundle,
        bundle_files,
        bundle_fingerprint,
        digest,
        input_files,
        plan_identifier,
        write_bundle,
    )
    from spotcheck.models.policy import load_policy
    from spotcheck.models.quarter import Quarter
    from spotcheck.scheduler.hashes import seed_hash
    from spotcheck.scheduler.plan import plan_quarter
    from spotcheck.store.ceremony import quarter_state
    from spotcheck.store.transactions import reading

    policy, policy_bytes = load_policy(policy_path)
    name = str(Quarter.parse(quarter))
    if out.exists() and (out.is_file() or any(out.iterdir())):
        raise SpotcheckError(f"{out}: already exists and is not empty; choose another --out")
    signer = load_signer(key_path) if key_path else None
    engine = _engine(ctx)
    if draw_engine == "sql" and engine.dialect.name != "postgresql":
        raise SpotcheckError(f"--engine sql needs a PostgreSQL database (--db is "
                             f"{engine.dialect.name}); use --engine python")
    progress = _progress(ctx, "plan")
    progress.stage("load registry")
    # one snapshot: the SQL draw must read the very registry the plan is made from
    with reading(engine) as conn:
        registry = store.registry_in(conn)
        store.require_registry(registry)
        inputs = input_files(registry, policy_bytes)
        digests = {file: digest(data) for file, data in inputs.items()}
        chosen = quarter_state(engine, name).seed_for_plan(seed, digests)
        draws = None
        if draw_engine == "sql":
            from spotcheck.store.sql_draw import draws_in

            progress.stage("SQL draw")
            draws = draws_in(conn, registry, policy, name, seed_hash(chosen.seed))
    result = plan_quarter(registry, policy, name, chosen.seed, on_stage=progress.stage,
                          draws=draws)
    progress.stage("bundle")
    files = bundle_files(result, registry, policy_bytes, inputs)
    plan_id = plan_identifier(result.quarter, result.seed_hash, digests)
    evidence = store.PlanEvidence(
        inputs=digests, outputs={file: digest(files[file]) for file in OUTPUT_FILES},
        freeze=chosen.freeze.seq if chosen.freeze else None,
        seed_event=chosen.seed_event.seq if chosen.seed_event else None)
    created_at = _created_at()
    # The bundle is written inside the storing transaction but only staged, in a hidden
    # folder beside --out, and moved to --out once the plan is committed: a process killed
    # before the commit (kill -9, power cut) must not leave a bundle that verifies for a
    # plan the database never stored. Killed after it, the same command writes it again.
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staged = staging / out.name

    def publish(chain: list[Any]) -> str:
        bundle = build_bundle(result, registry, policy_bytes, created_at=created_at,
                              files=files, signer=signer,
                              provenance=Provenance(tuple(chain), chosen.freeze,
                                                    chosen.seed_event))
        write_bundle(bundle, staged)
        return bundle.files["manifest.json"].decode()

    progress.stage("store and write")
    try:
        superseded = store.store_plan(engine, result, plan_id, publish, replace=replace,
                                      evidence=evidence, actor=ctx.obj["actor"])
        try:
            if out.is_dir():
                out.rmdir()  # the empty folder --out named (a non-empty one was refused)
            os.replace(staged, out)
        except OSError as exc:
            raise SpotcheckError(
                f"plan {plan_id} is stored, but its bundle could not be moved to {out} "
                f"({exc}); run the same command with another --out to write it") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    progress.finish()
    if not _quiet(ctx):
        _print_plan(result, registry)
    _say(ctx, f"\nplan {plan_id} stored; audit bundle written to {out}")
    if superseded:
        _say(ctx, f"plan {superseded} is now marked superseded")
    if chosen.freeze is not None:
        _say(ctx, f"freeze: {chosen.freeze.label()}, fingerprint "
                  f"{chosen.freeze.payload.get('fingerprint')}")
    if chosen.seed_event is not None:
        _say(ctx, f"seed: {chosen.seed} ({chosen.seed_event.payload.get('method')}, "
                  f"{chosen.seed_event.label()})")
    if chosen.warning:
        click.echo(f"WARNING: {chosen.warning}")
    if signer is not None:
        _say(ctx, f"signed: manifest.sig (key {signer.fingerprint[:16]}…)")
    how = "" if out.suffix.lower() == ".zip" else \
        " (of its deterministic .zip: `spotcheck bundle zip`)"
    click.echo(f"bundle SHA-256{how} — publish this fingerprint: {bundle_fingerprint(out)}")


@main.command()
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True,
              help="Fail on warnings too: no freeze, a seed not drawn by a ceremony, files "
                   "the manifest does not cover.")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The bureau's Ed25519 public key (PEM): manifest.sig must verify with it.")
@click.option("--sha256", "published", metavar="HEX",
              help="The bundle's published SHA-256: the bundle must have exactly this one.")
@click.pass_context
def verify(ctx: click.Context, bundle: Path, strict: bool, pubkey: Path | None,
           published: str | None) -> None:
    """Reproduce a plan from its audit bundle alone; exit 0 only if everything matches."""
    from spotcheck.audit.verify import verify_bundle

    progress = _progress(ctx, "verify")
    report = verify_bundle(bundle, strict=strict, pubkey=pubkey, sha256=published,
                           on_stage=progress.stage)
    progress.finish()
    _print_verdict(report)


def _print_verdict(report: Any) -> None:
    """Print a verification report; exit 1 unless it verified."""
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("spotcheck-demo"),
              show_default=True, help="Folder for the demo's audit bundle (replaced if a bundle).")
@click.option("--enterprises", type=click.IntRange(1_000, 5_000_000), default=200_000,
              show_default=True, help="Size of the synthetic city.")
@click.pass_context
def demo(ctx: click.Context, out: Path, enterprises: int) -> None:
    """Plan a quarter for a synthetic city, write its bundle and verify it; no set-up needed."""
    from spotcheck.audit.verify import verify_bundle
    from spotcheck.demo import DEMO_QUARTER, DEMO_SEED, synthetic_city
    from spotcheck.formats.bundle import build_bundle, write_bundle
    from spotcheck.models.policy import load_policy
    from spotcheck.scheduler.plan import plan_quarter

    if out.exists() and (out / "manifest.json").exists():
        shutil.rmtree(out)
    policy, policy_bytes = load_policy()
    progress = _progress(ctx, "demo")
    _say(ctx, f"generating a synthetic city of {enterprises:,} enterprises ...")
    progress.stage("synthetic city")
    registry = synthetic_city(enterprises)
    progress.stage("done")
    _say(ctx, f"planning {DEMO_QUARTER} with seed {DEMO_SEED} and the shipped policy ...")
    result = plan_quarter(registry, policy, DEMO_QUARTER, DEMO_SEED,
                          on_stage=progress.stages("plan"))
    progress.stage("bundle")
    bundle = build_bundle(result, registry, policy_bytes, created_at=_created_at())
    written = write_bundle(bundle, out)
    progress.stage("done")
    if not _quiet(ctx):
        _print_plan(result, registry)
    _say(ctx, f"\naudit bundle written to {written}; verifying it from the files alone ...")
    report = verify_bundle(written, on_stage=progress.stages("verify"))
    progress.finish()
    _print_verdict(report)


@main.command()
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.argument("enterprise_id", required=False)
@click.option("--inspector", "inspector_id", metavar="ID",
              help="Explain one officer's visits and utilisation instead.")
def explain(bundle: Path, enterprise_id: str | None, inspector_id: str | None) -> None:
    """Say why an enterprise was or was not drawn, and why its team is who it is."""
    from spotcheck.audit.explain import explain_enterprise, explain_inspector

    if (enterprise_id is None) == (inspector_id is None):
        raise click.UsageError("give either ENTERPRISE_ID or --inspector ID")
    lines = (explain_inspector(bundle, inspector_id) if inspector_id is not None
             else explain_enterprise(bundle, enterprise_id or ""))
    for line in lines:
        click.echo(line)
