"""The freeze and the seed ceremony: their digests, seed derivations and rules.

A quarter's draw is shown unsteerable in three steps, each an event of the log: the
registry and policy are frozen (freeze-v1 digest, announced as a fingerprint); then a seed
is drawn in public by dice (dice-v1) or by several parties with commit–reveal (cr-v1); then
the plan is made from exactly the frozen inputs and that seed. `quarter_log` replays a
quarter's events under these rules: the command line refuses an event that breaks one, and
`verify` reports any such event found in a bundle. docs/CEREMONY.md is the auditor's copy.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spotcheck.errors import InvalidInputError, SpotcheckError
from spotcheck.models.events import Event, is_digest
from spotcheck.scheduler.hashes import normalise_seed, sha256_hex

FREEZE = "freeze-v1"
DICE = "dice-v1"
COMMIT_REVEAL = "cr-v1"
METHODS = {"dice": DICE, "commit-reveal": COMMIT_REVEAL}
MIN_DICE_DIGITS = 20
MAX_DICE_DIGITS = 200
MIN_PARTIES = 2
FINGERPRINT_LENGTH = 16
_SECRET = re.compile(r"[!-~]{16,256}")  # printable ASCII, no space


# --- digests and seed derivations ----------------------------------------------------------


def freeze_digest(quarter: str, inputs: Mapping[str, str]) -> str:
    """Return sha256("freeze-v1:" + quarter + ":" + the sorted "name=digest" pairs ':'-joined)."""
    parts = ":".join(f"{name}={inputs[name]}" for name in sorted(inputs))
    return sha256_hex(f"{FREEZE}:{quarter}:{parts}")


def fingerprint(digest: str) -> str:
    """Return the freeze fingerprint to announce: the digest's first 16 hex digits."""
    return digest[:FINGERPRINT_LENGTH]


def dice_seed(digits: str) -> str:
    """Return the seed "dice-v1-" + digits for 20 to 200 decimal digits rolled in public."""
    if not isinstance(digits, str) or not digits.isascii() or not digits.isdigit():
        raise InvalidInputError(f"dice: {digits!r} is not a string of decimal digits 0-9 "
                                "(write the rolls without spaces or separators)")
    if not MIN_DICE_DIGITS <= len(digits) <= MAX_DICE_DIGITS:
        raise InvalidInputError(f"dice: {len(digits)} digit(s); roll at least "
                                f"{MIN_DICE_DIGITS} (at most {MAX_DICE_DIGITS}) so that the "
                                "seed cannot be guessed")
    return normalise_seed(f"{DICE}-{digits}")


def party_name(name: str) -> str:
    """Return a commit–reveal party name, refusing '=', white space, controls and > 64 chars.

    '=' and line ends never occur in a name, so the cr-v1 message splits back unambiguously.
    """
    nfc = unicodedata.normalize("NFC", name) if isinstance(name, str) else ""
    bad = [c for c in nfc if c == "=" or c.isspace() or unicodedata.category(c)[0] in "CZ"]
    if not nfc or len(nfc) > 64 or bad:
        raise InvalidInputError(f"party {name!r}: a party name is 1-64 characters without "
                                "'=', white space or control characters (e.g. notary-office)")
    return nfc


def check_secret(secret: str) -> str:
    """Return the secret if it is 16-256 printable ASCII characters without spaces."""
    if not isinstance(secret, str) or not _SECRET.fullmatch(secret):
        raise InvalidInputError("secret: use 16-256 printable ASCII characters without spaces, "
                                "e.g. the output of `openssl rand -hex 32`")
    return secret


def commitment_of(secret: str) -> str:
    """Return a party's commitment: sha256 of its secret's bytes, as hex."""
    return sha256_hex(check_secret(secret))


def check_commitment(value: str) -> str:
    """Return a commitment given as hex, lower-cased, refusing anything but 64 hex digits."""
    lowered = value.strip().lower() if isinstance(value, str) else ""
    if not is_digest(lowered):
        raise InvalidInputError(f"commitment {value!r}: expected the 64 hex digits of "
                                "sha256(secret), e.g. from `printf '%s' \"$SECRET\" | sha256sum`")
    return lowered


def commit_reveal_seed(reveals: Mapping[str, str]) -> str:
    """Return "cr-v1-" + sha256 of "party=secret" lines, sorted by party, joined by "\\n"."""
    message = "\n".join(f"{party}={reveals[party]}" for party in sorted(reveals))
    return normalise_seed(f"{COMMIT_REVEAL}-{sha256_hex(message)}")


# --- a quarter's ceremony, replayed from its events -----------------------------------------


@dataclass
class Ceremony:
    """The seed ceremony that follows one freeze of a quarter."""

    freeze: Event
    commitments: dict[str, tuple[str, Event]] = field(default_factory=dict)
    closed: Event | None = None
    reveals: dict[str, tuple[str, Event]] = field(default_factory=dict)
    seed: Event | None = None

    @property
    def inputs(self) -> dict[str, str]:
        """Return the frozen input digests (file name → sha256)."""
        return dict(self.freeze.payload.get("inputs") or {})

    @property
    def started(self) -> bool:
        """Return whether any party committed or a seed was drawn."""
        return bool(self.commitments) or self.seed is not None

    @property
    def seed_value(self) -> str | None:
        """Return the seed drawn, if any."""
        return None if self.seed is None else str(self.seed.payload.get("seed"))

    def status(self) -> str:
        """Return the ceremony's state in words."""
        if self.seed is not None:
            return f"seed drawn ({self.seed.payload.get('method')}, {self.seed.label()})"
        if self.closed is not None:
            waiting = sorted(set(self.commitments) - set(self.reveals))
            return f"commitments closed; waiting for the reveal of {', '.join(waiting)}"
        if self.commitments:
            return (f"{len(self.commitments)} commitment(s) in; open until "
                    "`spotcheck seed close`")
        return "frozen; no seed yet (`spotcheck seed dice` or `spotcheck seed commit`)"


@dataclass(frozen=True)
class PlanSeed:
    """The seed a plan uses and where it came from."""

    seed: str
    freeze: Event | None
    seed_event: Event | None
    warning: str | None = None


@dataclass
class QuarterLog:
    """A quarter's freezes, ceremonies and plans as its events recorded them."""

    quarter: str
    ceremonies: list[Ceremony] = field(default_factory=list)  # one per freeze, oldest first
    problems: list[str] = field(default_factory=list)  # events breaking a ceremony rule
    stray_seeds: list[Event] = field(default_factory=list)  # seeds with no freeze before
    plans: list[Event] = field(default_factory=list)

    @property
    def latest(self) -> Ceremony | None:
        """Return the ceremony of the quarter's latest freeze."""
        return self.ceremonies[-1] if self.ceremonies else None

    def require_freeze(self) -> Ceremony:
        """Return the latest freeze's ceremony, or refuse: the ceremony needs a freeze."""
        if self.latest is None:
            raise SpotcheckError(f"{self.quarter} has no freeze: the seed ceremony starts only "
                                 f"after `spotcheck freeze --quarter {self.quarter}` has fixed "
                                 "the registry and policy")
        return self.latest

    def refuse(self, kind: str, payload: Mapping[str, Any]) -> None:
        """Raise with the reason if appending this event would break a ceremony rule."""
        ceremony = self.require_freeze()
        problem = _apply(ceremony, kind, payload, None)
        if problem:
            raise SpotcheckError(f"refused: {problem}")

    def check_freeze(self, digest: str, restart: bool) -> Ceremony | None:
        """Return the latest freeze if it has the same digest and no restart is asked;
        refuse freezing again over a started ceremony unless `restart`."""
        latest = self.latest
        if latest is None:
            return None
        if latest.freeze.payload.get("digest") == digest and not restart:
            return latest
        if latest.started and not restart:
            raise SpotcheckError(
                f"{self.quarter} already has a seed ceremony on its freeze "
                f"({latest.freeze.label()}: {latest.status()}). Freezing again abandons it: "
                "pass --restart to do so (the abandoned ceremony stays in the log, and "
                "auditors see it)")
        return None

    def seed_for_plan(self, explicit: str | None, inputs: Mapping[str, str]) -> PlanSeed:
        """Return the seed a plan of these inputs must use, or refuse with the reason.

        With a freeze, the inputs must be the frozen ones, and the ceremony's seed is used;
        `explicit` (--seed) must then equal it. Without any freeze, --seed is required and
        the plan records that it was not frozen.
        """
        seed = normalise_seed(explicit) if explicit is not None else None
        ceremony = self.latest
        if ceremony is None:
            if seed is None:
                raise SpotcheckError(
                    f"{self.quarter} has no freeze and no ceremony seed: give --seed, or run "
                    f"`spotcheck freeze --quarter {self.quarter}` and a seed ceremony first")
            return PlanSeed(seed, None, None, f"{self.quarter} was never frozen: the plan "
                            "records \"freeze\": null and cannot be shown unsteerable")
        self._check_inputs(ceremony, inputs)
        if ceremony.seed is not None:
            drawn = str(ceremony.seed_value)
            if seed is not None and seed != drawn:
                raise SpotcheckError(
                    f"--seed {seed!r} differs from the ceremony seed of {self.quarter} "
                    f"recorded in {ceremony.seed.label()}: {drawn}. Omit --seed to use it")
            return PlanSeed(drawn, ceremony.freeze, ceremony.seed)
        if seed is None:
            raise SpotcheckError(
                f"{self.quarter} is frozen ({ceremony.freeze.label()}) but has no seed yet: "
                f"{ceremony.status()}")
        earlier = [e for e in self.seed_events() if e.payload.get("seed") == seed]
        if earlier:
            raise SpotcheckError(
                f"--seed {seed!r} was drawn in {earlier[0].label()}, before the freeze the "
                f"plan would use ({ceremony.freeze.label()}): a seed known before the freeze "
                "is refused")
        return PlanSeed(seed, ceremony.freeze, None, "the seed was given with --seed, not "
                        f"drawn by a ceremony after the freeze ({ceremony.freeze.label()})")

    def _check_inputs(self, ceremony: Ceremony, inputs: Mapping[str, str]) -> None:
        frozen = ceremony.inputs
        changed = [n for n in sorted(set(frozen) | set(inputs)) if frozen.get(n) != inputs.get(n)]
        if not changed:
            return
        again = " --restart" if ceremony.started else ""
        raise SpotcheckError(
            f"the registry or policy changed since {self.quarter} was frozen "
            f"({ceremony.freeze.label()}, fingerprint {ceremony.freeze.payload.get('fingerprint')}"
            f"): {', '.join(changed)} differ(s) from the frozen digest. Restore the frozen "
            f"data and policy, or freeze again (`spotcheck freeze --quarter {self.quarter}"
            f"{again}`) and draw a new seed")

    def seed_events(self) -> list[Event]:
        """Return every seed event of the quarter, in log order."""
        found = [c.seed for c in self.ceremonies if c.seed is not None]
        return sorted(found + self.stray_seeds, key=lambda e: e.seq)


def quarter_log(events: Sequence[Event], quarter: str) -> QuarterLog:
    """Replay the events of one quarter under the ceremony rules."""
    log = QuarterLog(quarter)
    for event in events:
        if event.quarter != quarter:
            continue
        if event.kind == "freeze":
            _freeze(log, event)
        elif event.kind in ("commit", "close", "reveal", "seed"):
            ceremony = log.latest
            if ceremony is None:
                log.problems.append(f"{event.label()} comes before any freeze of {quarter}: "
                                    "it was recorded before the registry and policy were fixed")
                if event.kind == "seed":
                    log.stray_seeds.append(event)
                continue
            problem = _apply(ceremony, event.kind, event.payload, event)
            if problem:
                log.problems.append(f"{event.label()}: {problem}")
        elif event.kind == "plan":
            log.plans.append(event)
    return log


def _freeze(log: QuarterLog, event: Event) -> None:
    payload = event.payload
    inputs = payload.get("inputs")
    if not isinstance(inputs, dict) or payload.get("digest") != freeze_digest(log.quarter,
                                                                              inputs):
        log.problems.append(f"{event.label()}: its digest is not the freeze-v1 digest of the "
                            "input digests it records")
    elif payload.get("fingerprint") != fingerprint(str(payload.get("digest"))):
        log.problems.append(f"{event.label()}: its fingerprint is not the digest's first "
                            f"{FINGERPRINT_LENGTH} hex digits")
    previous = log.latest
    if previous is not None and previous.started and not payload.get("restart"):
        log.problems.append(f"{event.label()} abandons the ceremony on "
                            f"{previous.freeze.label()} without saying restart")
    log.ceremonies.append(Ceremony(event))


def _apply(ceremony: Ceremony, kind: str, payload: Mapping[str, Any],
           event: Event | None) -> str | None:
    """Record the event in the ceremony (when `event` is given) or only test it;
    return the rule it breaks, if any."""
    quarter = ceremony.freeze.quarter
    if payload.get("freeze") != ceremony.freeze.seq:
        return (f"it names freeze #{payload.get('freeze')}, but the latest freeze of "
                f"{quarter} is {ceremony.freeze.label()}")
    drawn = ceremony.seed
    if kind in ("commit", "close") and drawn is not None:
        return f"the seed of {quarter} was already drawn ({drawn.label()})"
    party = str(payload.get("party", ""))
    if kind == "commit":
        if ceremony.closed is not None:
            return (f"commitments for {quarter} were closed in {ceremony.closed.label()}: a "
                    "commitment after the close (and so after any reveal) is refused")
        if party in ceremony.commitments:
            return (f"party {party} already committed "
                    f"({ceremony.commitments[party][1].label()}); a party commits once")
        if event is not None:
            ceremony.commitments[party] = (str(payload.get("commitment")), event)
        return None
    if kind == "close":
        if ceremony.closed is not None:
            return f"commitments were already closed in {ceremony.closed.label()}"
        if len(ceremony.commitments) < MIN_PARTIES:
            return (f"only {len(ceremony.commitments)} commitment(s): at least {MIN_PARTIES} "
                    "parties must commit, so that no single party controls the seed")
        if sorted(payload.get("parties") or []) != sorted(ceremony.commitments):
            return "the parties it lists are not the parties that committed"
        if event is not None:
            ceremony.closed = event
        return None
    if kind == "reveal":
        return _reveal(ceremony, party, str(payload.get("secret", "")), event)
    if kind == "seed":
        return _seed(ceremony, payload, event)
    return f"unknown ceremony event kind {kind!r}"


def _reveal(ceremony: Ceremony, party: str, secret: str, event: Event | None) -> str | None:
    quarter = ceremony.freeze.quarter
    if ceremony.closed is None:
        return (f"commitments for {quarter} are still open: a reveal waits until every party "
                f"has committed and the coordinator ran `spotcheck seed close --quarter "
                f"{quarter}`")
    if party not in ceremony.commitments:
        return f"party {party} made no commitment for {quarter}"
    if party in ceremony.reveals:
        return f"party {party} already revealed ({ceremony.reveals[party][1].label()})"
    committed, commit_event = ceremony.commitments[party]
    if sha256_hex(secret) != committed:
        return (f"the secret of party {party} does not match its commitment "
                f"({commit_event.label()}): sha256 of the secret is {sha256_hex(secret)[:16]}…, "
                f"the commitment is {committed[:16]}…")
    if event is not None:
        ceremony.reveals[party] = (secret, event)
    return None


def _seed(ceremony: Ceremony, payload: Mapping[str, Any], event: Event | None) -> str | None:
    if ceremony.seed is not None:
        return f"a seed was already drawn ({ceremony.seed.label()})"
    method = payload.get("method")
    try:
        if method == "dice":
            if ceremony.commitments:
                return "a commit–reveal ceremony is under way: dice cannot replace it"
            expected = dice_seed(str(payload.get("digits", "")))
        elif method == "commit-reveal":
            missing = sorted(set(ceremony.commitments) - set(ceremony.reveals))
            if ceremony.closed is None or missing:
                return f"not every party has revealed (waiting for {', '.join(missing)})"
            expected = commit_reveal_seed({p: s for p, (s, _) in ceremony.reveals.items()})
        else:
            return f"unknown seed method {method!r}"
    except SpotcheckError as exc:
        return str(exc)
    if payload.get("seed") != expected:
        return f"the seed it records is not the {method} derivation ({expected})"
    if event is not None:
        ceremony.seed = event
    return None
