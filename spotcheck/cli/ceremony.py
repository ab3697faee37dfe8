"""Commands for a draw nobody can steer: freeze, then the seed ceremony (dice or commit–reveal)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from spotcheck.cli.context import emit, json_option, workspace
from spotcheck.service.results import CeremonyStatus, FreezeResult, SeedStep

QUARTER = click.option("--quarter", required=True, help="The quarter, e.g. 2026Q4.")


def _secret(value: str) -> str:
    """Return the secret, reading one line of standard input for '-'."""
    if value == "-":
        return sys.stdin.readline().strip()
    return value


def _freeze_lines(frozen: FreezeResult) -> list[str]:
    event = frozen.event
    done = "frozen" if frozen.recorded else "already frozen with exactly these digests"
    return [f"{frozen.quarter} {done} ({event.label()}, {event.at}, by {event.actor})",
            *(f"  {name:<24} {value}" for name, value in sorted(frozen.inputs.items())),
            f"freeze fingerprint: {frozen.fingerprint}",
            f"freeze digest:      {frozen.digest}",
            "Announce the fingerprint before the seed is drawn; then draw it with "
            f"`spotcheck seed dice --quarter {frozen.quarter} DIGITS` or the commit–reveal "
            "ceremony (`spotcheck seed commit`)."]


@click.command()
@QUARTER
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Policy TOML the plan will use (default: the shipped "
                   "spotcheck/config/policy.toml).")
@click.option("--restart", is_flag=True,
              help="Freeze again over a ceremony already under way, abandoning it (the "
                   "abandoned ceremony stays in the log for auditors to see).")
@json_option
@click.pass_context
def freeze(ctx: click.Context, quarter: str, policy_path: Path | None, restart: bool) -> None:
    """Fix the registry and policy before the seed exists; print the fingerprint to announce."""
    frozen = workspace(ctx).freeze(quarter, policy=policy_path, restart=restart)
    emit(ctx, frozen, _freeze_lines(frozen))


@click.group()
def seed() -> None:
    """The seed ceremony after the freeze: dice rolled in public, or commit–reveal."""


@seed.command("dice")
@QUARTER
@click.argument("digits")
@json_option
@click.pass_context
def dice(ctx: click.Context, quarter: str, digits: str) -> None:
    """Record the seed dice-v1-DIGITS from at least 20 decimal digits rolled in public."""
    step = workspace(ctx).seed_dice(quarter, digits)
    emit(ctx, step, [f"seed of {step.quarter} recorded ({step.event.label()}): {step.seed}"])


@seed.command("commit")
@QUARTER
@click.option("--party", required=True, help="The committing party, e.g. notary-office.")
@click.option("--secret", help="The party's secret ('-': read it from standard input); only "
                                "its sha256 is recorded now.")
@click.option("--commitment", metavar="SHA256",
              help="sha256 of the secret, computed by the party itself (preferred: the secret "
                   "then stays with the party until the reveal).")
@json_option
@click.pass_context
def commit(ctx: click.Context, quarter: str, party: str, secret: str | None,
           commitment: str | None) -> None:
    """Record a party's commitment to its secret; reveals wait for `seed close`."""
    if (secret is None) == (commitment is None):
        raise click.UsageError("give exactly one of --secret and --commitment")
    step = workspace(ctx).seed_commit(
        quarter, party, secret=None if secret is None else _secret(secret),
        commitment=commitment)
    payload = step.event.payload
    lines = [f"commitment of {payload['party']} for {step.quarter} recorded "
             f"({step.event.label()}): {payload['commitment']}"]
    if secret is not None:
        lines.append("keep the secret: it is needed for the reveal and is not stored until then")
    emit(ctx, step, lines)


@seed.command("close")
@QUARTER
@json_option
@click.pass_context
def close(ctx: click.Context, quarter: str) -> None:
    """Close the commitments once every party has committed (at least two); reveals follow."""
    step = workspace(ctx).seed_close(quarter)
    emit(ctx, step, [f"commitments for {step.quarter} closed ({step.event.label()}): "
                     f"{', '.join(step.event.payload['parties'])}; the parties may now reveal"])


@seed.command("reveal")
@QUARTER
@click.option("--party", required=True, help="The revealing party.")
@click.option("--secret", required=True, help="The secret committed to ('-': read stdin).")
@json_option
@click.pass_context
def reveal(ctx: click.Context, quarter: str, party: str, secret: str) -> None:
    """Reveal a party's secret; after the last reveal the seed is derived and recorded."""
    step: SeedStep = workspace(ctx).seed_reveal(quarter, party, _secret(secret))
    line = (f"every party revealed; seed of {step.quarter} recorded ({step.event.label()}): "
            f"{step.seed}" if step.seed is not None else
            f"reveal of {step.event.payload['party']} recorded ({step.event.label()})")
    emit(ctx, step, [line])


def _status_lines(state: CeremonyStatus) -> list[str]:
    if not state.frozen or state.freeze is None:
        return [f"{state.quarter} has no freeze yet: run `spotcheck freeze --quarter "
                f"{state.quarter}`"]
    frozen = state.freeze
    lines = [f"{state.quarter}: frozen in {frozen.label()} at {frozen.at} by {frozen.actor}, "
             f"fingerprint {state.fingerprint}", f"ceremony: {state.status}"]
    lines += [f"  {c.party}: commitment {c.commitment[:16]}… (event #{c.event} (commit)), "
              f"{'revealed' if c.revealed else 'not revealed'}" for c in state.commitments]
    if state.seed is not None:
        lines.append(f"seed: {state.seed}")
    if state.abandoned:
        lines.append(f"abandoned ceremonies (kept in the log): {', '.join(state.abandoned)}")
    return lines


@seed.command("show")
@QUARTER
@json_option
@click.pass_context
def show(ctx: click.Context, quarter: str) -> None:
    """Show the quarter's freeze, ceremony status and seed."""
    state = workspace(ctx).seed_show(quarter)
    emit(ctx, state, _status_lines(state))


COMMANDS = (freeze, seed)
