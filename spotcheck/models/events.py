"""The hash-chained event log (event-v1): canonical JSON, event hashes and the chain check.

Every state change of a spotcheck database (an import, a policy in use, a freeze, a seed
commitment or reveal, a seed, a plan) appends one event. An event's `hash` is
sha256(canonical JSON of `actor`, `at`, `kind`, `payload_digest`, `prev`, `seq`), where
`payload_digest` is sha256(canonical JSON of the payload) and `prev` is the previous event's
hash (GENESIS for the first). Changing, removing or reordering any event breaks every link
after it. docs/CEREMONY.md gives the exact format for auditors.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from spotcheck.errors import SpotcheckError
from spotcheck.limits import EVENTS_BYTES, load_json, size_text

GENESIS = "0" * 64
KINDS = ("import", "policy", "freeze", "commit", "close", "reveal", "seed", "plan", "results",
         "substitute", "publish")
_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """Return value as canonical JSON: sorted keys, no spaces, UTF-8 text, no floats.

    Floats are refused because their text form is not canonical across languages; every
    number in an event is an integer.
    """
    _refuse_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("event payloads hold integers, strings, lists and objects only")
    if isinstance(value, Mapping):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)


def payload_digest(payload: Mapping[str, Any]) -> str:
    """Return sha256 of the payload's canonical JSON."""
    return _sha256_hex(canonical_json(payload))


def event_hash(seq: int, at: str, actor: str, kind: str, digest: str, prev: str) -> str:
    """Return an event's hash: sha256 of the canonical JSON of its other fields."""
    return _sha256_hex(canonical_json({"actor": actor, "at": at, "kind": kind,
                                      "payload_digest": digest, "prev": prev, "seq": seq}))


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the log, as stored and as one line of a bundle's events.jsonl."""

    seq: int
    at: str  # UTC, ISO 8601 to the second, never earlier than the previous event's
    actor: str
    kind: str
    payload: dict[str, Any]
    payload_digest: str
    prev: str
    hash: str

    @property
    def quarter(self) -> str | None:
        """Return the quarter the event concerns, if any."""
        value = self.payload.get("quarter")
        return value if isinstance(value, str) else None

    def as_json(self) -> dict[str, Any]:
        """Return the event as the object written on one line of events.jsonl."""
        return {"seq": self.seq, "at": self.at, "actor": self.actor, "kind": self.kind,
                "payload": self.payload, "payload_digest": self.payload_digest,
                "prev": self.prev, "hash": self.hash}

    def label(self) -> str:
        """Return "event #n (kind)" for messages."""
        return f"event #{self.seq} ({self.kind})"


def next_event(previous: Event | None, at: str, actor: str, kind: str,
               payload: Mapping[str, Any]) -> Event:
    """Return the event that follows `previous` (None: the first event of a log).

    `at` is moved forward to the previous event's time if the clock is behind it, so the
    times of a log never decrease and an out-of-order time always means tampering.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r}")
    seq = 1 if previous is None else previous.seq + 1
    prev = GENESIS if previous is None else previous.hash
    at = at if previous is None else max(at, previous.at)
    body = dict(payload)
    digest = payload_digest(body)
    return Event(seq, at, actor, kind, body, digest, prev,
                 event_hash(seq, at, actor, kind, digest, prev))


def first_broken_link(events: Sequence[Event]) -> str | None:
    """Return a message naming the first event that breaks the chain, or None if it holds.

    Checked per event, in order: its sequence number, its time, its payload digest, its
    own hash, and that `prev` is the hash of the event before it.
    """
    previous: Event | None = None
    for position, event in enumerate(events):
        expected = position + 1
        if event.seq != expected:
            later = [e.seq for e in events[position + 1:]]
            if expected in later:
                return (f"event #{expected} is out of order: event #{event.seq} comes before "
                        "it — events were reordered")
            after = f"#{previous.seq}" if previous else "the start"
            return (f"event #{expected} is missing: the log jumps from {after} to "
                    f"#{event.seq} — an event was deleted")
        if not _AT.fullmatch(event.at):
            return f"{event.label()}: its time {event.at!r} is not YYYY-MM-DDTHH:MM:SSZ"
        if previous is not None and event.at < previous.at:
            return (f"{event.label()} is dated {event.at}, before {previous.label()} at "
                    f"{previous.at} — events were reordered or their times edited")
        if payload_digest(event.payload) != event.payload_digest:
            return (f"{event.label()}: payload_digest is not sha256 of its payload — the "
                    "payload was edited")
        if event_hash(event.seq, event.at, event.actor, event.kind, event.payload_digest,
                      event.prev) != event.hash:
            return (f"{event.label()}: its hash is not sha256 of its fields — the event "
                    "was edited")
        wanted = GENESIS if previous is None else previous.hash
        if event.prev != wanted:
            before = "the genesis value 000…0" if previous is None else \
                f"the hash of event #{previous.seq}"
            return (f"{event.label()}: prev is not {before} — the event before it was "
                    "changed, removed or reordered")
        previous = event
    return None


def events_jsonl(events: Iterable[Event]) -> bytes:
    """Return events.jsonl: one event per line as canonical JSON, `\\n` line ends."""
    return "".join(canonical_json(e.as_json()) + "\n" for e in events).encode("utf-8")


def parse_events_jsonl(data: bytes, name: str = "events.jsonl") -> list[Event]:
    """Return the events of an events.jsonl file, refusing a line that is not an event (each
    read by the bounded JSON reader) and a file over EVENTS_BYTES."""
    if len(data) > EVENTS_BYTES:
        raise SpotcheckError(f"{name} is larger than {size_text(EVENTS_BYTES)}, the most "
                             "spotcheck reads")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpotcheckError(f"{name} is not UTF-8: {exc}") from exc
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        obj = load_json(line, f"{name}:{number}", limit=EVENTS_BYTES)
        try:
            events.append(event_from_json(obj))
        except (ValueError, TypeError, KeyError) as exc:
            raise SpotcheckError(f"{name}:{number}: not an event ({exc})") from exc
    return events


def event_from_json(obj: Any) -> Event:
    """Return the event written as a JSON object (one line of events.jsonl)."""
    if not isinstance(obj, dict) or not isinstance(obj.get("payload"), dict):
        raise ValueError("expected an object with a payload object")
    seq = obj["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise ValueError("seq is not an integer")
    fields = {k: obj[k] for k in ("at", "actor", "kind", "payload_digest", "prev", "hash")}
    if not all(isinstance(v, str) for v in fields.values()):
        raise ValueError("at, actor, kind, payload_digest, prev and hash must be strings")
    return Event(seq=seq, payload=obj["payload"], **fields)


def is_digest(value: object) -> bool:
    """Return whether value is 64 lower-case hex digits."""
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def describe(event: Event) -> str:
    """Return a one-line summary of what the event recorded."""
    p = event.payload
    quarter = p.get("quarter", "")
    if event.kind == "import":
        counts = ", ".join(f"{k} {p[k]}" for k in ("added", "removed", "changed", "unchanged",
                                                   "ignored") if k in p)
        source = p.get("source") or {}
        named = f" from {source.get('file')}" if source.get("file") else ""
        return f"{p.get('registry')}{named}: {p.get('rows')} row(s); {counts}"
    if event.kind == "policy":
        return f"policy {p.get('sha256', '')[:16]}… {p.get('name', '')}"
    if event.kind == "freeze":
        again = " (restart: earlier ceremony abandoned)" if p.get("restart") else ""
        return f"{quarter} frozen, fingerprint {p.get('fingerprint')}{again}"
    if event.kind == "commit":
        return f"{quarter} commitment of {p.get('party')}: {str(p.get('commitment'))[:16]}…"
    if event.kind == "close":
        return f"{quarter} commitments closed: {', '.join(p.get('parties', []))}"
    if event.kind == "reveal":
        return f"{quarter} reveal of {p.get('party')}"
    if event.kind == "seed":
        return f"{quarter} seed ({p.get('method')}): {p.get('seed')}"
    if event.kind == "plan":
        more = f", supersedes {p['supersedes']}" if p.get("supersedes") else ""
        frozen = f"freeze #{p['freeze']}" if p.get("freeze") else "no freeze"
        return f"{quarter} plan {p.get('plan_id')} ({frozen}{more})"
    if event.kind == "results":
        source = p.get("source") or {}
        return (f"{quarter} results from {source.get('file')}: {p.get('rows')} row(s), "
                f"{p.get('corrections', 0)} correction(s)")
    if event.kind == "substitute":
        return (f"{quarter} {p.get('enterprise_id')} {p.get('department')}: "
                f"{p.get('replaced')} → {p.get('substitute')} ({p.get('reason')})")
    if event.kind == "publish":
        return f"{quarter} results published on {p.get('published_on')}: {p.get('rows')} row(s)"
    return canonical_json(p)[:80]
