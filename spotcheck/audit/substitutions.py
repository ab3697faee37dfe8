"""Checking substitutes (替补) recorded after a plan, from its bundle and the event log.

Each "substitute" event names the officer replaced, the substitute, the cost under the
plan's assign rule, and every officer of the visit's department and place who costs less,
with why each was passed over (`store.substitutes`). Against the bundle this checks: the log
is one unbroken chain that contains the bundle's own events; every cost recomputes; the
substitute may lawfully serve the visit by the bundle's registry (or is an officer the
bundle does not know, which is said); and every officer of the bundle's registry who serves
that place and costs less than the substitute is accounted for in the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spotcheck.formats.bundle import Bundle, registry_from_bundle
from spotcheck.models.events import Event, first_broken_link
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.hashes import cost
from spotcheck.scheduler.staffing import officer_problem, rotated


@dataclass
class SubstitutionCheck:
    """The substitutions of one plan found in a log, and what does not hold about them."""

    substitutions: list[dict[str, Any]] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def plan_substitutions(events: list[Event], plan_id: str) -> list[dict[str, Any]]:
    """Return the payloads of the plan's substitute events, in log order, with their seq."""
    return [{**e.payload, "seq": e.seq} for e in events
            if e.kind == "substitute" and e.payload.get("plan_id") == plan_id]


def _visit_needs(manifest: dict[str, Any], department: str) -> frozenset[str]:
    tasks = manifest["policy"]["tasks"]
    return frozenset(t["qualification"] for t in tasks
                     if t["department"] == department and t.get("qualification"))


def _check_one(sub: dict[str, Any], manifest: dict[str, Any], registry: Registry,
               report: SubstitutionCheck) -> None:
    label = f"substitute event #{sub['seq']} ({sub['enterprise_id']} {sub['department']})"
    seed_hash, quarter, rule = manifest["seed_hash"], manifest["quarter"], sub["rule"]
    enterprise, department = sub["enterprise_id"], sub["department"]
    if rule != manifest["algorithms"]["assign"]:
        report.mismatches.append(f"{label}: rule {rule} is not the plan's "
                                 f"{manifest['algorithms']['assign']}")
        return
    if cost(seed_hash, quarter, enterprise, sub["substitute"], rule) != sub["cost"]:
        report.mismatches.append(f"{label}: the cost of {sub['substitute']} does not recompute")
    listed = {p["inspector_id"]: p for p in sub.get("passed_over", [])}
    for officer_id, entry in sorted(listed.items()):
        if cost(seed_hash, quarter, enterprise, officer_id, rule) != entry["cost"]:
            report.mismatches.append(f"{label}: the cost of passed-over {officer_id} does not "
                                     "recompute")
    row = int(registry.enterprises.index_of(np.array([enterprise], dtype="S18"))[0])
    if row < 0:
        report.mismatches.append(f"{label}: {enterprise} is not in the bundle's registry")
        return
    place = registry.enterprises.jurisdictions[row].decode()
    officers = {o.inspector_id: o for o in registry.inspectors}
    chosen = officers.get(sub["substitute"])
    recusals = {c.inspector_id: c.reason for c in registry.conflicts
                if c.enterprise_id == enterprise}
    needs, q = _visit_needs(manifest, department), Quarter.parse(quarter)
    if chosen is None:
        report.notes.append(f"{label}: {sub['substitute']} joined the registry after the plan; "
                            "checked by the event's own record")
    else:
        months = int(manifest["policy"].get("officer_cooldown_months", 0))
        problem = officer_problem(chosen, department, place, needs, q,
                                  recusals.get(chosen.inspector_id),
                                  rotated(registry, q, months).get(enterprise.encode(), {}).get(
                                      chosen.inspector_id))
        if problem is not None:
            report.mismatches.append(f"{label}: {sub['substitute']} may not serve: {problem}")
    key = (sub["cost"], sub["substitute"])
    for officer in officers.values():
        if officer.department != department or not place.startswith(officer.jurisdiction):
            continue
        price = cost(seed_hash, quarter, enterprise, officer.inspector_id, rule)
        if (price, officer.inspector_id) < key and officer.inspector_id not in listed:
            report.mismatches.append(f"{label}: {officer.inspector_id} costs less than "
                                     f"{sub['substitute']} and the event does not say why it "
                                     "was passed over")


def check_substitutions(bundle: Bundle, events: list[Event]) -> SubstitutionCheck:
    """Return the plan's substitutions in a log and every way they do not hold."""
    report = SubstitutionCheck()
    broken = first_broken_link(events)
    if broken:
        report.mismatches.append(f"event log: {broken}")
        return report
    manifest = bundle.manifest
    head = (manifest.get("events") or {}).get("head")
    if head and head not in {e.hash for e in events}:
        report.mismatches.append("event log: it does not contain the bundle's events "
                                 f"(head {head[:16]}…): it is another database's log")
        return report
    report.substitutions = plan_substitutions(events, str(manifest["plan_id"]))
    if report.substitutions:
        registry = registry_from_bundle(bundle)
        for sub in report.substitutions:
            _check_one(sub, manifest, registry, report)
    return report
