"""The event log in the database: appended inside the writer's own transaction, read, checked.

The format and the chain rule are in `scheduler.events`; this module is the adapter. `at`
is the wall clock of the machine that appends (an edge value, never part of a draw) and
`actor` who ran the command: --actor, else $SPOTCHECK_ACTOR, else the OS user name.
"""

from __future__ import annotations

import getpass
import json
import os
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, insert, select

from spotcheck.errors import InvalidInputError, SpotcheckError
from spotcheck.models.events import Event, canonical_json, first_broken_link, next_event
from spotcheck.models.tables import EventRow
from spotcheck.store.transactions import reading

EVENT: Table = EventRow.__table__  # type: ignore[attr-defined]
ACTOR_ENV = "SPOTCHECK_ACTOR"


def default_actor(actor: str | None = None) -> str:
    """Return who is acting: `actor`, else $SPOTCHECK_ACTOR, else the OS user name."""
    name = actor or os.environ.get(ACTOR_ENV) or ""
    if not name:
        try:
            name = getpass.getuser()
        except (OSError, KeyError, ImportError):
            name = "unknown"
    if len(name) > 200 or any(unicodedata.category(c)[0] == "C" for c in name):
        raise InvalidInputError(f"actor {name!r}: at most 200 characters, no control characters")
    return name


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _event(row: Any) -> Event:
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = None
    if not isinstance(payload, dict):  # an edited row: the chain check reports it
        payload = {"unreadable payload": str(row.payload)}
    return Event(seq=row.seq, at=row.at, actor=row.actor, kind=row.kind, payload=payload,
                 payload_digest=row.payload_digest, prev=row.prev, hash=row.hash)


def load_events(conn: Connection) -> list[Event]:
    """Return every stored event in sequence order, as stored (unchecked)."""
    return [_event(r) for r in conn.execute(select(EVENT).order_by(EVENT.c.seq))]


def checked_events(conn: Connection) -> list[Event]:
    """Return every stored event, refusing to go on if the chain is broken."""
    events = load_events(conn)
    broken = first_broken_link(events)
    if broken:
        raise SpotcheckError(f"the event log is broken — {broken}. Nothing was changed; "
                             "`spotcheck log verify` names the first broken link")
    return events


def append_event(conn: Connection, kind: str, payload: dict[str, Any],
                 actor: str | None = None, previous: Event | None = None) -> Event:
    """Append one event in the caller's transaction (which must hold the event_log lock).

    `previous` is the head when the caller already read the log; otherwise it is read here.
    """
    if previous is None:
        row = conn.execute(select(EVENT).order_by(EVENT.c.seq.desc()).limit(1)).first()
        previous = None if row is None else _event(row)
    event = next_event(previous, _now(), default_actor(actor), kind, payload)
    conn.execute(insert(EVENT).values(
        seq=event.seq, at=event.at, actor=event.actor, kind=event.kind,
        payload=canonical_json(event.payload), payload_digest=event.payload_digest,
        prev=event.prev, hash=event.hash))
    return event


def record_policy(conn: Connection, events: list[Event], digest: str, name: str,
                  actor: str | None = None) -> Event | None:
    """Append a "policy" event when this policy (by sha256) is not the last one recorded."""
    last = next((e for e in reversed(events) if e.kind == "policy"), None)
    if last is not None and last.payload.get("sha256") == digest:
        return None
    return append_event(conn, "policy", {"sha256": digest, "name": name}, actor,
                        events[-1] if events else None)


def list_events(engine: Engine) -> list[Event]:
    """Return every stored event in sequence order (unchecked: see first_broken_link)."""
    with reading(engine) as conn:
        return load_events(conn)


def check_log(engine: Engine) -> tuple[list[Event], str | None]:
    """Return the stored events and the first broken link (None if the chain holds)."""
    events = list_events(engine)
    return events, first_broken_link(events)
