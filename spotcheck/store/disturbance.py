"""What disturbance (干扰) reads: tier sizes, task scopes and the visits of a window.

A visit is one door opened (outcomes.disturbance): (enterprise, department, day) from the
inspection history, and from the active plans of the window's quarters (enterprise,
department of the task, completion day of its result — or, with no result entered yet, the
plan's quarter). The same inspection recorded in both the history and a result has the same
key, so it counts once. Enterprises are counted by the tier they have in the registry now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

import numpy as np
from sqlalchemy import Connection, Engine, and_, func, or_, select

from spotcheck.models.policy import Policy
from spotcheck.models.registry import fixed_width
from spotcheck.outcomes.disturbance import TierVisits
from spotcheck.store.results import DRAW, current_results, stored_plans
from spotcheck.store.sql import ENTERPRISE, HISTORY, as_text, stream_columns
from spotcheck.store.transactions import reading


def scope_counts(conn: Connection, policy: Policy) -> dict[tuple[str, str], int]:
    """Return, per (task, tier), how many registered enterprises the task's scope holds."""
    counts: dict[tuple[str, str], int] = {}
    for task in policy.tasks:
        conditions = []
        if task.jurisdictions:
            conditions.append(or_(*(ENTERPRISE.c.jurisdiction.startswith(p, autoescape=True)
                                    for p in task.jurisdictions)))
        if task.industries:
            conditions.append(or_(*(ENTERPRISE.c.industry.startswith(p, autoescape=True)
                                    for p in task.industries)))
        query = select(ENTERPRISE.c.tier, func.count()).group_by(ENTERPRISE.c.tier)
        if conditions:
            query = query.where(and_(*conditions))
        for tier, count in conn.execute(query):
            counts[(task.code, str(tier))] = int(count)
    return counts


def _visits(conn: Connection, start: date, end: date, quarters: Sequence[str]
            ) -> set[tuple[str, str, str]]:
    """Return the window's visits as (enterprise, department, day or quarter) keys."""
    visits = {(str(e), str(d), str(day)) for e, d, day in conn.execute(
        select(HISTORY.c.enterprise_id, HISTORY.c.department, HISTORY.c.inspected_on)
        .where(HISTORY.c.inspected_on >= start, HISTORY.c.inspected_on <= end))}
    plans = {plan_id: plan for quarter in quarters
             for plan_id, plan in stored_plans(conn, quarter).items() if plan.active}
    if not plans:
        return visits
    done = {(r.plan_id, r.task, r.enterprise_id): r.completed_on
            for r in current_results(conn, sorted(plans))}
    for plan_id, task, enterprise in conn.execute(
            select(DRAW.c.plan_id, DRAW.c.task, DRAW.c.enterprise_id)
            .where(DRAW.c.plan_id.in_(sorted(plans)))):
        plan = plans[plan_id]
        day = done.get((plan_id, task, enterprise))
        visits.add((enterprise, plan.policy.task(task).department,
                    str(day) if day is not None else f"planned {plan.quarter}"))
    return visits


def tier_visits(engine: Engine, start: date, end: date, quarters: Sequence[str],
                policy: Policy) -> tuple[list[TierVisits], dict[tuple[str, str], int]]:
    """Return each tier's enterprises, those visited in [start, end] and their visits, and
    the policy's task scopes per (task, tier); `quarters` are the window's quarters."""
    with reading(engine) as conn:
        ids_parts: list[np.ndarray] = []
        tier_parts: list[np.ndarray] = []
        for id_chunk, tier_chunk in stream_columns(conn, ENTERPRISE, ("enterprise_id", "tier")):
            ids_parts.append(fixed_width(id_chunk, 18)[0])
            tier_parts.append(fixed_width(tier_chunk, 16)[0])
        visits = _visits(conn, start, end, quarters)
        scope = scope_counts(conn, policy)
    stored = np.concatenate(ids_parts) if ids_parts else np.empty(0, "S18")
    order = np.argsort(stored, kind="stable")
    ids = stored[order]
    tiers = (np.concatenate(tier_parts) if tier_parts else np.empty(0, "S16"))[order]
    per_enterprise = Counter(e for e, _, _ in visits)
    visited = np.array(sorted(per_enterprise), dtype="S18")
    at = np.searchsorted(ids, visited)
    known = (at < len(ids)) & (ids[np.minimum(at, max(len(ids) - 1, 0))] == visited) \
        if len(ids) else np.zeros(len(visited), bool)
    counts = np.array([per_enterprise[e] for e in as_text(visited)], dtype=np.int64)
    names, size = np.unique(tiers, return_counts=True)
    rows = []
    for name, n in zip(names.tolist(), size.tolist(), strict=True):
        mine = known.copy()
        mine[known] = tiers[at[known]] == name
        rows.append(TierVisits(name.decode(), int(n), int(mine.sum()), int(counts[mine].sum())))
    return rows, scope
