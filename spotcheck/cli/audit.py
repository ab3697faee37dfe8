"""Commands for auditors: verify, explain, the event log, signing keys and bundle zips."""

from __future__ import annotations

from pathlib import Path

import click

from spotcheck.cli.context import emit, json_option, progress, wants_json, workspace
from spotcheck.models.events import events_jsonl
from spotcheck.service import bundles
from spotcheck.service.publishing import verify_public

EVENTS = click.option(
    "--events", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The event log (`spotcheck log --jsonl > events.jsonl`): substitutes recorded since "
         "the plan are checked and shown too.")


@click.command()
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.option("--strict", is_flag=True,
              help="Fail on warnings too: no freeze, a seed not drawn by a ceremony, files "
                   "the manifest does not cover.")
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The bureau's Ed25519 public key (PEM): manifest.sig must verify with it.")
@click.option("--sha256", "published", metavar="HEX",
              help="The bundle's published SHA-256: the bundle must have exactly this one.")
@click.option("--public", "public_dir", type=click.Path(exists=True, file_okay=False,
                                                        path_type=Path),
              help="Also check a folder of public files (`spotcheck publish plan`) against "
                   "the bundle: every drawn enterprise listed once, nothing added or withheld.")
@EVENTS
@json_option
@click.pass_context
def verify(ctx: click.Context, bundle: Path, strict: bool, pubkey: Path | None,
           published: str | None, public_dir: Path | None, events: Path | None) -> None:
    """Reproduce a plan from its audit bundle alone; exit 0 only if everything matches."""
    report = bundles.verify(bundle, strict=strict, pubkey=pubkey, sha256=published,
                            events=events, progress=progress(ctx, "verify"))
    if public_dir is None:
        emit(ctx, report, report.lines(), ok=report.ok)
        return
    public = verify_public(bundle, public_dir)
    emit(ctx, {"ok": report.ok and public.ok, "bundle": report, "public": public},
         [*report.lines(), *public.lines()], ok=report.ok and public.ok)


@click.command()
@click.argument("bundle", type=click.Path(exists=True, path_type=Path))
@click.argument("enterprise_id", required=False)
@click.option("--inspector", "inspector_id", metavar="ID",
              help="Explain one officer's visits and utilisation instead.")
@EVENTS
@json_option
@click.pass_context
def explain(ctx: click.Context, bundle: Path, enterprise_id: str | None,
            inspector_id: str | None, events: Path | None) -> None:
    """Say why an enterprise was or was not drawn, and why its team is who it is."""
    if (enterprise_id is None) == (inspector_id is None):
        raise click.UsageError("give either ENTERPRISE_ID or --inspector ID")
    result = bundles.explain(bundle, enterprise_id=enterprise_id, inspector_id=inspector_id,
                             events=events)
    emit(ctx, result, result.lines)


@click.group(invoke_without_command=True)
@click.option("--quarter", help="Only the events of this quarter.")
@click.option("--jsonl", is_flag=True,
              help="Print the events as lines of events.jsonl (the bundle's format).")
@json_option
@click.pass_context
def log(ctx: click.Context, quarter: str | None, jsonl: bool) -> None:
    """List the hash-chained event log; `spotcheck log verify` checks the chain."""
    if ctx.invoked_subcommand is not None:
        return
    listed = workspace(ctx).log(quarter)
    if jsonl and not wants_json(ctx):
        click.echo(events_jsonl([e.event for e in listed.events]).decode("utf-8"), nl=False)
        return
    emit(ctx, listed, [f"#{e.event.seq:<5} {e.event.at} {e.event.actor:<12} "
                       f"{e.event.kind:<7} {e.description}  [{e.event.hash[:12]}]"
                       for e in listed.events])


@log.command("verify")
@json_option
@click.pass_context
def log_verify(ctx: click.Context) -> None:
    """Check every link of the event log; exit 1 naming the first broken one."""
    check = workspace(ctx).log_verify()
    line = (f"BROKEN event log: {check.broken}" if not check.ok else
            f"event log intact: {check.events} event(s), head {check.head or '(empty)'}")
    emit(ctx, check, [line], ok=check.ok)


@click.group()
def keys() -> None:
    """The bureau's Ed25519 key pair that signs audit bundles."""


@keys.command("init")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder for NAME.key (private) and NAME.pub (public).")
@click.option("--name", default="bureau", show_default=True, help="File name of the pair.")
@json_option
@click.pass_context
def keys_init(ctx: click.Context, out: Path, name: str) -> None:
    """Make a key pair: a private key (mode 0600, never in a bundle) and a public key."""
    pair = bundles.make_keys(out, name)
    emit(ctx, pair, [
        f"private key: {pair.private} (mode 0600; keep it secret, never publish it)",
        f"public key:  {pair.public} (publish it; auditors pass it to verify --pubkey)",
        f"key fingerprint: {pair.fingerprint}",
        f"sign plans with `spotcheck plan --key {pair.private} …` or "
        f"SPOTCHECK_KEY={pair.private}"])


@click.group("bundle")
def bundle() -> None:
    """Audit bundle files."""


@bundle.command("zip")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out", required=False, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@click.pass_context
def bundle_zip(ctx: click.Context, folder: Path, out: Path | None) -> None:
    """Zip a bundle folder byte-reproducibly (as plan --out X.zip does); print its SHA-256."""
    zipped = bundles.zip_bundle(folder, out)
    emit(ctx, zipped, [f"wrote {zipped.path}",
                       f"SHA-256 (publish this fingerprint): {zipped.sha256}"])


COMMANDS = (verify, explain, log, keys, bundle)
