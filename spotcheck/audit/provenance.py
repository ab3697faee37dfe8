"""A plan's provenance in its bundle: the event chain, and freeze → seed → plan in order.

`verify` reproduces the draws from the inputs and the seed; this module shows where the
inputs and the seed came from. From events.jsonl alone it checks that the chain is whole,
that it ends at this plan's event, that the inputs are those frozen before the seed existed,
and that the seed is the one the ceremony after that freeze derived.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spotcheck.audit.ceremony import Ceremony, QuarterLog, quarter_log
from spotcheck.errors import SpotcheckError
from spotcheck.formats.bundle import EVENTS_FILE, INPUT_FILES, Bundle, digest
from spotcheck.models.events import Event, first_broken_link, parse_events_jsonl

NOT_FROZEN = ("manifest.json: \"freeze\" is null — the registry and policy were not frozen "
              "before the seed was drawn, so the draw cannot be shown unsteerable")


@dataclass
class Findings:
    """What the provenance check found: problems (verification fails) and warnings."""

    mismatches: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check_provenance(bundle: Bundle, manifest: dict[str, Any], quarter: str,
                     seed: str) -> Findings:
    """Return the findings on the bundle's event chain and its freeze → seed → plan order."""
    found = Findings()
    events = _chain(bundle, manifest, found)
    if events is None:
        if manifest.get("freeze") is None:
            found.warnings.append(NOT_FROZEN)
        return found
    plan = _plan_event(events, manifest, quarter, found)
    if plan is None:
        return found
    log = quarter_log(events[:plan.seq], quarter)
    found.mismatches += log.problems
    freeze = _freeze(events, manifest, plan, log, found)
    if freeze is not None:
        ceremony = next(c for c in log.ceremonies if c.freeze.seq == freeze.seq)
        _seed(manifest, seed, plan, freeze, ceremony, log, found)
    return found


def _chain(bundle: Bundle, manifest: dict[str, Any], found: Findings) -> list[Event] | None:
    """Return the bundle's events if the chain holds and matches the manifest, else None."""
    meta = manifest.get("events")
    data = bundle.files.get(EVENTS_FILE)
    if meta is None and data is None:
        if manifest.get("freeze") is not None:
            found.mismatches.append("manifest.json names a freeze, but the bundle has no "
                                    f"{EVENTS_FILE} to show it")
        return None
    if not isinstance(meta, dict) or data is None:
        found.mismatches.append(f"{EVENTS_FILE} is missing from the bundle" if data is None
                                else f"manifest.json: \"events\" is missing, but the bundle "
                                f"has {EVENTS_FILE}")
        return None
    if digest(data) != meta.get("sha256"):
        found.mismatches.append(f"{EVENTS_FILE} does not match the digest recorded in "
                                "manifest.json: an event was added, removed or edited")
    try:
        events = parse_events_jsonl(data)
    except SpotcheckError as exc:
        found.mismatches.append(str(exc))
        return None
    broken = first_broken_link(events)
    if broken:
        found.mismatches.append(f"{EVENTS_FILE}: {broken}")
        return None
    if not events or meta.get("head") != events[-1].hash or meta.get("count") != len(events):
        found.mismatches.append(f"manifest.json: events.head and events.count are not the hash "
                                f"and number of the events in {EVENTS_FILE}")
    return events or None


def _plan_event(events: list[Event], manifest: dict[str, Any], quarter: str,
                found: Findings) -> Event | None:
    """Return this plan's event, checking it records what the manifest says."""
    plan_id = manifest.get("plan_id")
    plans = [e for e in events if e.kind == "plan" and e.payload.get("plan_id") == plan_id]
    if not plans:
        found.mismatches.append(f"{EVENTS_FILE} has no plan event for plan {plan_id}")
        return None
    plan = plans[-1]
    if plan.seq != len(events):
        found.mismatches.append(f"{EVENTS_FILE} goes on after the plan's {plan.label()}: the "
                                "chain must end at the plan event")
    payload = plan.payload
    wanted = {"quarter": quarter, "seed_hash": manifest.get("seed_hash"),
              "inputs": manifest.get("inputs"), "outputs": manifest.get("outputs")}
    for key, value in wanted.items():
        if payload.get(key) != value:
            found.mismatches.append(f"{plan.label()} records another {key} than "
                                    "manifest.json: the plan was changed after it was logged")
    return plan


def _freeze(events: list[Event], manifest: dict[str, Any], plan: Event, log: QuarterLog,
            found: Findings) -> Event | None:
    """Return the freeze the plan used, checking it came first and froze these inputs."""
    meta = manifest.get("freeze")
    if meta is None:
        found.warnings.append(NOT_FROZEN)
        if plan.payload.get("freeze") is not None:
            found.mismatches.append(f"{plan.label()} names freeze #{plan.payload['freeze']}, "
                                    "but manifest.json says \"freeze\": null")
        elif log.latest is not None:
            found.mismatches.append(f"{log.quarter} was frozen ({log.latest.freeze.label()}) "
                                    f"before the plan, but the plan does not use the freeze")
        return None
    seq = meta.get("event") if isinstance(meta, dict) else None
    if not isinstance(seq, int) or seq < 1:
        found.mismatches.append("manifest.json: freeze.event is not an event number")
        return None
    if plan.payload.get("freeze") != seq:
        found.mismatches.append(f"{plan.label()} names freeze #{plan.payload.get('freeze')}, "
                                f"but manifest.json names #{seq}")
    if seq >= plan.seq:
        found.mismatches.append(f"the freeze named by manifest.json (event #{seq}) comes after "
                                f"the plan ({plan.label()}): the plan was made before its "
                                "freeze")
        return None
    freeze = events[seq - 1]
    if freeze.kind != "freeze" or freeze.quarter != log.quarter:
        found.mismatches.append(f"event #{seq}, named as the freeze by manifest.json, is not a "
                                f"freeze of {log.quarter}")
        return None
    if {k: meta.get(k) for k in ("digest", "fingerprint")} != {
            k: freeze.payload.get(k) for k in ("digest", "fingerprint")}:
        found.mismatches.append(f"manifest.json: the freeze digest or fingerprint is not the one "
                                f"recorded in {freeze.label()}")
    frozen = freeze.payload.get("inputs") or {}
    inputs = manifest.get("inputs") or {}
    for name in sorted(set(INPUT_FILES) | set(frozen)):
        if frozen.get(name) != inputs.get(name):
            what = "the policy" if name == "policy.toml" else "the input file"
            found.mismatches.append(f"{name} differs from the digest frozen in {freeze.label()}: "
                                    f"{what} was changed after the freeze")
    latest = log.latest
    if latest is not None and latest.freeze.seq != seq:
        found.mismatches.append(f"{latest.freeze.label()} froze {log.quarter} again before the "
                                f"plan: the plan does not use the latest freeze")
    return freeze


def _seed(manifest: dict[str, Any], seed: str, plan: Event, freeze: Event, ceremony: Ceremony,
          log: QuarterLog, found: Findings) -> None:
    """Check the seed is the one the ceremony after the freeze derived."""
    drawn = ceremony.seed
    named = manifest.get("ceremony")
    if drawn is None:
        earlier = [e for e in log.seed_events() if e.payload.get("seed") == seed]
        used = [e for e in log.plans
                if e.seq < freeze.seq and e.payload.get("seed_hash") == manifest.get("seed_hash")]
        if earlier or used:
            first = (earlier + used)[0]
            how = "recorded" if earlier else "used"
            found.mismatches.append(f"the seed in manifest.json was {how} in {first.label()}, "
                                    f"before the freeze ({freeze.label()}): it was known before "
                                    "the registry and policy were fixed")
        elif named is not None:
            found.mismatches.append(f"manifest.json names ceremony event #{named.get('event')}, "
                                    f"but no seed was drawn after {freeze.label()}")
        else:
            found.warnings.append(f"the seed was given with --seed, not drawn by a ceremony "
                                  f"after the freeze ({freeze.label()}), so the draw cannot be "
                                  "shown unsteerable")
        return
    if drawn.payload.get("seed") != seed:
        found.mismatches.append(f"the seed in manifest.json ({seed}) is not the ceremony seed "
                                f"recorded in {drawn.label()} ({drawn.payload.get('seed')})")
    if named != {"event": drawn.seq, "method": drawn.payload.get("method")}:
        found.mismatches.append(f"manifest.json: \"ceremony\" does not name the seed event "
                                f"{drawn.label()}")
    if plan.payload.get("seed_event") != drawn.seq:
        found.mismatches.append(f"{plan.label()} does not name the seed event {drawn.label()}")
    for other in log.ceremonies:
        if other.seed is not None and other is not ceremony:
            found.warnings.append(f"{log.quarter} had a seed drawn before ({other.seed.label()}: "
                                  f"{other.seed_value}) whose ceremony a later freeze "
                                  "abandoned: the seed was drawn more than once")
