"""Substitutes (替补): an officer of a team replaced after the plan, picked reproducibly.

When an officer falls ill or a new conflict (回避) surfaces at the door, nobody picks the
replacement by hand: it is the officer who may lawfully serve the visit (department,
jurisdiction, every qualification of the visit's tasks, certificate valid through the
quarter, no recorded conflict — `scheduler.staffing.officer_problem`, as for the plan), is
not on the team, has capacity left in the quarter across its active plans and earlier
substitutions, and has the lowest cost under the plan's assign rule (ties by inspector id).
The pick and the reason are one "substitute" event in the log, which also lists every
officer of the visit's department and place who costs less, with why each was passed over:
`verify BUNDLE --events FILE` recomputes the costs and checks that list.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, Engine, insert, select

from spotcheck.errors import InfeasiblePlanError, InvalidInputError
from spotcheck.models.quarter import Quarter
from spotcheck.scheduler.hashes import cost
from spotcheck.scheduler.staffing import officer_problem, rotated
from spotcheck.store.eventlog import EVENT, append_event
from spotcheck.store.results import ASSIGNMENT, SUBSTITUTE, StoredPlan, stored_plans, team_of
from spotcheck.store.snapshot import registry_in
from spotcheck.store.transactions import writing


@dataclass(frozen=True)
class Substitution:
    """The recorded substitution."""

    plan_id: str
    quarter: str
    enterprise_id: str
    department: str
    replaced: str
    substitute: str
    cost: int
    reason: str
    candidates: int  # lawful officers with capacity left, not on the team
    event: int


def _plan_with_visit(plans: dict[str, StoredPlan], conn: Connection, enterprise_id: str,
                     department: str) -> StoredPlan:
    for plan in sorted(plans.values(), key=lambda p: p.plan_id):
        found = conn.execute(select(ASSIGNMENT.c.inspector_id).where(
            ASSIGNMENT.c.plan_id == plan.plan_id, ASSIGNMENT.c.enterprise_id == enterprise_id,
            ASSIGNMENT.c.department == department).limit(1)).first()
        if found is not None and plan.active:
            return plan
    raise InvalidInputError(f"no active plan has a visit to {enterprise_id} by department "
                            f"{department}")


def substitute(engine: Engine, quarter: str, enterprise_id: str, department: str,
               replaced: str, reason: str, actor: str | None = None) -> Substitution:
    """Replace `replaced` on the visit by the lowest-cost lawful officer; record the event."""
    name = str(Quarter.parse(quarter))
    if not reason.strip():
        raise InvalidInputError("substitute: give the reason (--reason), e.g. 病假 or 回避")
    with writing(engine, SUBSTITUTE, EVENT) as conn:
        plans = {k: v for k, v in stored_plans(conn, name).items() if v.active}
        plan = _plan_with_visit(plans, conn, enterprise_id, department)
        team = team_of(conn, plan.plan_id, enterprise_id, department)
        if replaced not in team:
            raise InvalidInputError(f"{replaced} is not on the team of {enterprise_id} "
                                    f"({department}): {', '.join(sorted(team))}")
        registry = registry_in(conn)
        load = Counter(conn.execute(select(ASSIGNMENT.c.inspector_id)
                                    .where(ASSIGNMENT.c.plan_id.in_(sorted(plans)))).scalars())
        for gone, came in conn.execute(select(SUBSTITUTE.c.replaced, SUBSTITUTE.c.substitute)
                                       .where(SUBSTITUTE.c.plan_id.in_(sorted(plans)))):
            load[gone] -= 1
            load[came] += 1
        row = int(registry.enterprises.index_of(np.array([enterprise_id], dtype="S18"))[0])
        if row < 0:
            raise InvalidInputError(f"{enterprise_id} is no longer in the enterprise registry")
        place = registry.enterprises.jurisdictions[row].decode()
        tasks = [t for t in plan.policy.tasks if t.department == department]
        needs = frozenset(t.qualification for t in tasks if t.qualification)
        recusals = {c.inspector_id: c.reason for c in registry.conflicts
                    if c.enterprise_id == enterprise_id}
        q, rule = Quarter.parse(name), str(plan.manifest["algorithms"]["assign"])
        rotation = rotated(registry, q, plan.policy.officer_cooldown_months).get(
            enterprise_id.encode(), {})
        why_not: dict[str, str] = {}
        priced: list[tuple[int, str]] = []
        for officer in registry.inspectors:
            if officer.department != department or not place.startswith(officer.jurisdiction):
                continue  # never lawful here: not of the visit's department or place
            officer_id = officer.inspector_id
            price = cost(plan.manifest["seed_hash"], name, enterprise_id, officer_id, rule)
            priced.append((price, officer_id))
            problem = officer_problem(officer, department, place, needs, q,
                                      recusals.get(officer_id), rotation.get(officer_id))
            if officer_id == replaced:
                problem = "the officer replaced"
            elif officer_id in team:
                problem = "already on the team"
            elif problem is None and load[officer_id] >= officer.capacity:
                problem = f"no capacity left ({load[officer_id]} of {officer.capacity} visits)"
            if problem is not None:
                why_not[officer_id] = problem
        candidates = sorted(p for p in priced if p[1] not in why_not)
        if not candidates:
            raise InfeasiblePlanError(f"no lawful officer of {department} with capacity left "
                                      f"can replace {replaced} on {enterprise_id}")
        lowest, chosen = candidates[0]
        passed_over = [{"inspector_id": i, "cost": c, "why": why_not[i]}
                       for c, i in sorted(priced) if (c, i) < (lowest, chosen)]
        payload = {"quarter": name, "plan_id": plan.plan_id, "enterprise_id": enterprise_id,
                   "department": department, "replaced": replaced, "substitute": chosen,
                   "cost": lowest, "rule": rule, "reason": reason, "passed_over": passed_over}
        event = append_event(conn, "substitute", payload, actor)
        conn.execute(insert(SUBSTITUTE).values(
            plan_id=plan.plan_id, enterprise_id=enterprise_id, department=department,
            replaced=replaced, substitute=chosen, cost=lowest, reason=reason,
            event_seq=event.seq))
    return Substitution(plan.plan_id, name, enterprise_id, department, replaced, chosen, lowest,
                        reason, len(candidates), event.seq)
