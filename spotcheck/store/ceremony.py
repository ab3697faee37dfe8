"""The freeze and the seed ceremony in the database: each step is one event of the log.

The rules live in `scheduler.ceremony`; here each step reads the log under the write lock,
asks the rules, and appends its event in the same transaction. The ceremony has no table of
its own: its state is the log, so `spotcheck log verify` covers every step of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from spotcheck.audit.ceremony import (
    QuarterLog,
    check_commitment,
    check_secret,
    commit_reveal_seed,
    dice_seed,
    fingerprint,
    freeze_digest,
    party_name,
    quarter_log,
)
from spotcheck.formats.bundle import digest, input_files
from spotcheck.models.events import Event
from spotcheck.models.policy import parse_policy
from spotcheck.models.quarter import Quarter
from spotcheck.store.eventlog import EVENT, append_event, checked_events, record_policy
from spotcheck.store.snapshot import registry_for, require_registry
from spotcheck.store.sql import (
    CONFLICT,
    ENTERPRISE,
    HISTORY,
    INSPECTOR,
)
from spotcheck.store.transactions import reading, writing


@dataclass(frozen=True)
class Freeze:
    """A quarter's freeze: its event and whether this call recorded it."""

    event: Event
    recorded: bool

    @property
    def inputs(self) -> dict[str, str]:
        """Return the frozen digests (file name → sha256)."""
        return dict(self.event.payload["inputs"])

    @property
    def digest(self) -> str:
        """Return the freeze-v1 digest."""
        return str(self.event.payload["digest"])

    @property
    def fingerprint(self) -> str:
        """Return the fingerprint to announce before the seed is drawn."""
        return str(self.event.payload["fingerprint"])


def quarter_state(engine: Engine, quarter: str) -> QuarterLog:
    """Return the quarter's freezes, ceremonies and plans, refusing a broken log."""
    name = str(Quarter.parse(quarter))
    with reading(engine) as conn:
        return quarter_log(checked_events(conn), name)


def freeze(engine: Engine, quarter: str, policy_bytes: bytes, *, restart: bool = False,
           actor: str | None = None) -> Freeze:
    """Record the digests of the registry snapshot and policy as the quarter's freeze.

    The digests are those of the bundle's input files (DESIGN §7) as a plan would write
    them now. Freezing the same data again records nothing and returns the latest freeze;
    freezing over a ceremony already under way needs `restart` (which abandons it).
    """
    name = str(Quarter.parse(quarter))
    policy = parse_policy(policy_bytes.decode("utf-8-sig"), "policy")
    with writing(engine, ENTERPRISE, INSPECTOR, CONFLICT, HISTORY, EVENT) as conn:
        registry = registry_for(conn, policy, name)
        require_registry(registry)
        inputs = {n: digest(data)
                  for n, data in input_files(registry, policy_bytes, policy).items()}
        events = checked_events(conn)
        frozen = freeze_digest(name, inputs)
        same = quarter_log(events, name).check_freeze(frozen, restart)
        if same is not None:
            return Freeze(same.freeze, recorded=False)
        used = record_policy(conn, events, inputs["policy.toml"], policy.name, actor)
        payload = {"quarter": name, "algorithm": "freeze-v1", "inputs": inputs,
                   "digest": frozen, "fingerprint": fingerprint(frozen), "restart": restart,
                   "counts": {"enterprises": len(registry.enterprises),
                              "inspectors": len(registry.inspectors),
                              "conflicts": len(registry.conflicts),
                              "history": len(registry.history)}}
        previous = used or (events[-1] if events else None)
        return Freeze(append_event(conn, "freeze", payload, actor, previous), recorded=True)


def _step(engine: Engine, quarter: str, kind: str, payload: Mapping[str, object],
          actor: str | None) -> Event:
    """Append one ceremony event for the quarter's latest freeze, if the rules allow it;
    return the last event appended (after the last reveal: the seed event)."""
    name = str(Quarter.parse(quarter))
    with writing(engine, EVENT) as conn:
        events = checked_events(conn)
        log = quarter_log(events, name)
        ceremony = log.require_freeze()
        body = {"quarter": name, "freeze": ceremony.freeze.seq, **payload}
        if kind == "close":  # read under the lock: no commitment slips in unlisted
            body["parties"] = sorted(ceremony.commitments)
        log.refuse(kind, body)
        event = append_event(conn, kind, body, actor, events[-1])
        if kind == "reveal":
            log = quarter_log([*events, event], name)
            event = _seed_when_all_revealed(conn, log, event, actor) or event
        return event


def _seed_when_all_revealed(conn: Connection, log: QuarterLog, last: Event,
                            actor: str | None) -> Event | None:
    """Append the commit–reveal seed once every committed party has revealed."""
    ceremony = log.require_freeze()
    if set(ceremony.reveals) != set(ceremony.commitments):
        return None
    seed = commit_reveal_seed({p: s for p, (s, _) in ceremony.reveals.items()})
    payload = {"quarter": log.quarter, "freeze": ceremony.freeze.seq,
               "method": "commit-reveal", "parties": sorted(ceremony.reveals), "seed": seed}
    log.refuse("seed", payload)
    return append_event(conn, "seed", payload, actor, last)


def record_dice(engine: Engine, quarter: str, digits: str, actor: str | None = None) -> Event:
    """Record the seed "dice-v1-<digits>" from dice rolled in public; return its event."""
    seed = dice_seed(digits)
    return _step(engine, quarter, "seed",
                 {"method": "dice", "digits": digits, "seed": seed}, actor)


def record_commitment(engine: Engine, quarter: str, party: str, commitment: str,
                      actor: str | None = None) -> Event:
    """Record a party's commitment sha256(secret); return its event."""
    return _step(engine, quarter, "commit", {"party": party_name(party),
                                              "commitment": check_commitment(commitment)},
                 actor)


def close_commitments(engine: Engine, quarter: str, actor: str | None = None) -> Event:
    """Close the commitment phase (at least two parties); reveals may follow."""
    return _step(engine, quarter, "close", {}, actor)


def record_reveal(engine: Engine, quarter: str, party: str, secret: str,
                  actor: str | None = None) -> Event:
    """Record a party's secret, checked against its commitment; return the last event
    appended: the seed event when this was the last reveal, else the reveal."""
    return _step(engine, quarter, "reveal", {"party": party_name(party),
                                              "secret": check_secret(secret)}, actor)
