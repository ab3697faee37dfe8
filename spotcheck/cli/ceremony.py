"""Commands for a draw nobody can steer: freeze, seed, log, keys and bundle zip.

Each command only parses, calls `models.ceremony`, `models.eventlog`, `scheduler.signing`
or `scheduler.bundle`, and prints; `scheduler.cli` adds them to the `spotcheck` group.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

QUARTER = click.option("--quarter", required=True, help="The quarter, e.g. 2026Q4.")


def _engine(ctx: click.Context) -> Any:
    from spotcheck.store.database import open_database

    return open_database(ctx.obj["db_url"])


def _actor(ctx: click.Context) -> str | None:
    actor: str | None = ctx.obj["actor"]
    return actor


# --- freeze ------------------------------------------------------------------------------


@click.command()
@QUARTER
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy TOML the plan will use (default: the shipped config/policy.toml).")
@click.option("--restart", is_flag=True,
              help="Freeze again over a ceremony already under way, abandoning it (the "
                   "abandoned ceremony stays in the log for auditors to see).")
@click.pass_context
def freeze(ctx: click.Context, quarter: str, policy_path: Path | None, restart: bool) -> None:
    """Fix the registry and policy before the seed exists; print the fingerprint to announce."""
    from spotcheck.models.policy import load_policy
    from spotcheck.store.ceremony import freeze as record_freeze

    _, policy_bytes = load_policy(policy_path)
    frozen = record_freeze(_engine(ctx), quarter, policy_bytes, restart=restart,
                           actor=_actor(ctx))
    event = frozen.event
    done = "frozen" if frozen.recorded else "already frozen with exactly these digests"
    click.echo(f"{event.quarter} {done} ({event.label()}, {event.at}, by {event.actor})")
    for name, value in sorted(frozen.inputs.items()):
        click.echo(f"  {name:<24} {value}")
    click.echo(f"freeze fingerprint: {frozen.fingerprint}")
    click.echo(f"freeze digest:      {frozen.digest}")
    click.echo("Announce the fingerprint before the seed is drawn; then draw it with "
               f"`spotcheck seed dice --quarter {event.quarter} DIGITS` or the commit–reveal "
               "ceremony (`spotcheck seed commit`).")


# --- seed --------------------------------------------------------------------------------


@click.group()
def seed() -> None:
    """The seed ceremony after the freeze: dice rolled in public, or commit–reveal."""


def _secret(value: str) -> str:
    """Return the secret, reading one line of standard input for '-'."""
    if value == "-":
        return sys.stdin.readline().strip()
    return value


@seed.command("dice")
@QUARTER
@click.argument("digits")
@click.pass_context
def dice(ctx: click.Context, quarter: str, digits: str) -> None:
    """Record the seed dice-v1-DIGITS from at least 20 decimal digits rolled in public."""
    from spotcheck.store.ceremony import record_dice

    event = record_dice(_engine(ctx), quarter, digits, _actor(ctx))
    click.echo(f"seed of {event.quarter} recorded ({event.label()}): {event.payload['seed']}")


@seed.command("commit")
@QUARTER
@click.option("--party", required=True, help="The committing party, e.g. notary-office.")
@click.option("--secret", help="The party's secret ('-': read it from standard input); only "
                                "its sha256 is recorded now.")
@click.option("--commitment", metavar="SHA256",
              help="sha256 of the secret, computed by the party itself (preferred: the secret "
                   "then stays with the party until the reveal).")
@click.pass_context
def commit(ctx: click.Context, quarter: str, party: str, secret: str | None,
           commitment: str | None) -> None:
    """Record a party's commitment to its secret; reveals wait for `seed close`."""
    from spotcheck.audit.ceremony import commitment_of
    from spotcheck.store.ceremony import record_commitment

    if (secret is None) == (commitment is None):
        raise click.UsageError("give exactly one of --secret and --commitment")
    value = commitment if commitment is not None else commitment_of(_secret(str(secret)))
    event = record_commitment(_engine(ctx), quarter, party, value, _actor(ctx))
    click.echo(f"commitment of {event.payload['party']} for {event.quarter} recorded "
               f"({event.label()}): {event.payload['commitment']}")
    if secret is not None:
        click.echo("keep the secret: it is needed for the reveal and is not stored until then")


@seed.command("close")
@QUARTER
@click.pass_context
def close(ctx: click.Context, quarter: str) -> None:
    """Close the commitments once every party has committed (at least two); reveals follow."""
    from spotcheck.store.ceremony import close_commitments

    event = close_commitments(_engine(ctx), quarter, _actor(ctx))
    click.echo(f"commitments for {event.quarter} closed ({event.label()}): "
               f"{', '.join(event.payload['parties'])}; the parties may now reveal")


@seed.command("reveal")
@QUARTER
@click.option("--party", required=True, help="The revealing party.")
@click.option("--secret", required=True, help="The secret committed to ('-': read stdin).")
@click.pass_context
def reveal(ctx: click.Context, quarter: str, party: str, secret: str) -> None:
    """Reveal a party's secret; after the last reveal the seed is derived and recorded."""
    from spotcheck.store.ceremony import record_reveal

    event = record_reveal(_engine(ctx), quarter, party, _secret(secret), _actor(ctx))
    if event.kind == "seed":
        click.echo(f"every party revealed; seed of {event.quarter} recorded "
                   f"({event.label()}): {event.payload['seed']}")
    else:
        click.echo(f"reveal of {event.payload['party']} recorded ({event.label()})")


@seed.command("show")
@QUARTER
@click.pass_context
def show(ctx: click.Context, quarter: str) -> None:
    """Show the quarter's freeze, ceremony status and seed."""
    from spotcheck.store.ceremony import quarter_state

    state = quarter_state(_engine(ctx), quarter)
    latest = state.latest
    if latest is None:
        click.echo(f"{state.quarter} has no freeze yet: run `spotcheck freeze --quarter "
                   f"{state.quarter}`")
        return
    frozen = latest.freeze
    click.echo(f"{state.quarter}: frozen in {frozen.label()} at {frozen.at} by {frozen.actor}, "
               f"fingerprint {frozen.payload.get('fingerprint')}")
    click.echo(f"ceremony: {latest.status()}")
    for party, (value, event) in sorted(latest.commitments.items()):
        shown = "revealed" if party in latest.reveals else "not revealed"
        click.echo(f"  {party}: commitment {value[:16]}… ({event.label()}), {shown}")
    if latest.seed is not None:
        click.echo(f"seed: {latest.seed_value}")
    abandoned = [c for c in state.ceremonies[:-1] if c.started]
    if abandoned:
        click.echo(f"abandoned ceremonies (kept in the log): "
                   f"{', '.join(c.freeze.label() for c in abandoned)}")


# --- log ---------------------------------------------------------------------------------


@click.group(invoke_without_command=True)
@click.option("--quarter", help="Only the events of this quarter.")
@click.option("--jsonl", is_flag=True,
              help="Print the events as lines of events.jsonl (the bundle's format).")
@click.pass_context
def log(ctx: click.Context, quarter: str | None, jsonl: bool) -> None:
    """List the hash-chained event log; `spotcheck log verify` checks the chain."""
    if ctx.invoked_subcommand is not None:
        return
    from spotcheck.models.events import describe, events_jsonl
    from spotcheck.models.quarter import Quarter
    from spotcheck.store.eventlog import list_events

    events = list_events(_engine(ctx))
    if quarter is not None:
        name = str(Quarter.parse(quarter))
        events = [e for e in events if e.quarter == name]
    if jsonl:
        click.echo(events_jsonl(events).decode("utf-8"), nl=False)
        return
    for event in events:
        click.echo(f"#{event.seq:<5} {event.at} {event.actor:<12} {event.kind:<7} "
                   f"{describe(event)}  [{event.hash[:12]}]")


@log.command("verify")
@click.pass_context
def log_verify(ctx: click.Context) -> None:
    """Check every link of the event log; exit 1 naming the first broken one."""
    from spotcheck.store.eventlog import check_log

    events, broken = check_log(_engine(ctx))
    if broken:
        click.echo(f"BROKEN event log: {broken}")
        sys.exit(1)
    head = events[-1].hash if events else "(empty)"
    click.echo(f"event log intact: {len(events)} event(s), head {head}")


# --- keys and bundles --------------------------------------------------------------------


@click.group()
def keys() -> None:
    """The bureau's Ed25519 key pair that signs audit bundles."""


@keys.command("init")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder for NAME.key (private) and NAME.pub (public).")
@click.option("--name", default="bureau", show_default=True, help="File name of the pair.")
def keys_init(out: Path, name: str) -> None:
    """Make a key pair: a private key (mode 0600, never in a bundle) and a public key."""
    from spotcheck.audit.signing import generate_keys, key_fingerprint, load_public_key

    private, public = generate_keys(out, name)
    click.echo(f"private key: {private} (mode 0600; keep it secret, never publish it)")
    click.echo(f"public key:  {public} (publish it; auditors pass it to verify --pubkey)")
    click.echo(f"key fingerprint: {key_fingerprint(load_public_key(public))}")
    click.echo(f"sign plans with `spotcheck plan --key {private} …` or SPOTCHECK_KEY={private}")


@click.group("bundle")
def bundle() -> None:
    """Audit bundle files."""


@bundle.command("zip")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("out", required=False, type=click.Path(dir_okay=False, path_type=Path))
def bundle_zip(folder: Path, out: Path | None) -> None:
    """Zip a bundle folder byte-reproducibly (as plan --out X.zip does); print its SHA-256."""
    from spotcheck.formats.bundle import bundle_fingerprint, zip_folder

    target = out or folder.with_name(f"{folder.name}.zip")
    written = zip_folder(folder, target)
    click.echo(f"wrote {written}")
    click.echo(f"SHA-256 (publish this fingerprint): {bundle_fingerprint(written)}")


COMMANDS = (freeze, seed, log, keys, bundle)
