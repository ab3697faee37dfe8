"""What the outcome report reads: the quarters' stored plans, results, teams and officers.

One read transaction gives one consistent picture (`outcome_records`). Teams are the plan's
assignments with the substitutes recorded since applied in order; officers and enterprise
names are the registry as it is now.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

from sqlalchemy import Connection, Engine, select

from spotcheck.models.tables import PlanStratumRow
from spotcheck.scheduler.plan import DrawRow, StratumRow
from spotcheck.store.results import (
    ASSIGNMENT,
    DRAW,
    SUBSTITUTE,
    CurrentResult,
    StoredPlan,
    current_results,
    stored_plans,
)
from spotcheck.store.sql import ENTERPRISE, INSPECTOR, PLAN_PARTS
from spotcheck.store.transactions import reading

STRATUM = PlanStratumRow.__table__  # type: ignore[attr-defined]
SKIP = next(table for table, attribute, _ in PLAN_PARTS if attribute == "skipped")
_IN_CHUNK = 500


@dataclass(frozen=True, order=True)
class StoredStratum:
    """One stratum of a stored plan: its line of strata.csv, with the shortfall reason."""

    plan_id: str
    row: StratumRow


@dataclass(frozen=True)
class StoredDraw:
    """One drawn (task, enterprise) of a stored plan."""

    plan_id: str
    task: str
    tier: str
    jurisdiction: str
    enterprise_id: str
    ticket: str
    rank: int


@dataclass(frozen=True)
class StoredTeam:
    """A visit's team now: the plan's officers with the substitutes since applied."""

    plan_id: str
    enterprise_id: str
    department: str
    inspectors: tuple[str, ...]                     # sorted
    substitutions: tuple[tuple[str, str], ...]      # (replaced, substitute), in order


@dataclass(frozen=True, order=True)
class Officer:
    """An officer of the registry as stored now."""

    inspector_id: str
    name: str
    department: str
    jurisdiction: str
    capacity: int


@dataclass(frozen=True)
class OutcomeRecords:
    """Everything the report reads about the active plans of some quarters."""

    plans: dict[str, StoredPlan]
    strata: tuple[StoredStratum, ...]
    draws: tuple[StoredDraw, ...]
    results: tuple[CurrentResult, ...]
    teams: tuple[StoredTeam, ...]
    skipped: dict[tuple[str, str], int]  # (plan, task) → enterprises passed over
    officers: tuple[Officer, ...]
    names: dict[str, str]                # enterprise id → name, for the drawn


def _strata(conn: Connection, plan_ids: Sequence[str]) -> tuple[StoredStratum, ...]:
    """Return the plans' strata, sorted."""
    names = ["plan_id", *(f.name for f in fields(StratumRow))]
    rows = conn.execute(select(*(STRATUM.c[n] for n in names))
                        .where(STRATUM.c.plan_id.in_(plan_ids)))
    return tuple(sorted(StoredStratum(row[0], StratumRow(*row[1:])) for row in rows))


def _draws(conn: Connection, plan_ids: Sequence[str]) -> tuple[StoredDraw, ...]:
    """Return the plans' draws, by plan, task, tier, jurisdiction and rank."""
    names = ["plan_id", *(f.name for f in fields(DrawRow))]
    rows = conn.execute(select(*(DRAW.c[n] for n in names)).where(DRAW.c.plan_id.in_(plan_ids)))
    return tuple(sorted((StoredDraw(*row) for row in rows),
                        key=lambda d: (d.plan_id, d.task, d.tier, d.jurisdiction, d.rank)))


def teams_of(conn: Connection, plan_ids: Sequence[str]) -> tuple[StoredTeam, ...]:
    """Return every visit's team of these plans, substitutes applied in event order."""
    teams: dict[tuple[str, str, str], set[str]] = {}
    for plan_id, enterprise, department, officer in conn.execute(
            select(ASSIGNMENT.c.plan_id, ASSIGNMENT.c.enterprise_id, ASSIGNMENT.c.department,
                   ASSIGNMENT.c.inspector_id).where(ASSIGNMENT.c.plan_id.in_(plan_ids))):
        teams.setdefault((plan_id, enterprise, department), set()).add(officer)
    swaps: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    for plan_id, enterprise, department, replaced, substitute in conn.execute(
            select(SUBSTITUTE.c.plan_id, SUBSTITUTE.c.enterprise_id, SUBSTITUTE.c.department,
                   SUBSTITUTE.c.replaced, SUBSTITUTE.c.substitute)
            .where(SUBSTITUTE.c.plan_id.in_(plan_ids)).order_by(SUBSTITUTE.c.event_seq)):
        key = (plan_id, enterprise, department)
        team = teams.setdefault(key, set())
        team.discard(replaced)
        team.add(substitute)
        swaps.setdefault(key, []).append((replaced, substitute))
    return tuple(StoredTeam(*key, tuple(sorted(team)), tuple(swaps.get(key, ())))
                 for key, team in sorted(teams.items()))


def enterprise_names(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    """Return the registered names of these enterprises (those still registered)."""
    wanted = sorted(set(ids))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[start:start + _IN_CHUNK]
        names.update((str(i), str(n)) for i, n in conn.execute(
            select(ENTERPRISE.c.enterprise_id, ENTERPRISE.c.name)
            .where(ENTERPRISE.c.enterprise_id.in_(chunk))))
    return names


def outcome_records(engine: Engine, quarters: Sequence[str]) -> OutcomeRecords:
    """Return the active plans of these quarters with their strata, draws, results and teams."""
    with reading(engine) as conn:
        plans = {plan_id: plan for quarter in quarters
                 for plan_id, plan in stored_plans(conn, quarter).items() if plan.active}
        ids = sorted(plans)
        draws = _draws(conn, ids)
        skipped: dict[tuple[str, str], int] = {}
        for plan_id, task in conn.execute(select(SKIP.c.plan_id, SKIP.c.task)
                                          .where(SKIP.c.plan_id.in_(ids))):
            skipped[(plan_id, task)] = skipped.get((plan_id, task), 0) + 1
        officers = tuple(sorted(Officer(r.inspector_id, r.name, r.department, r.jurisdiction,
                                        r.capacity) for r in conn.execute(select(INSPECTOR))))
        return OutcomeRecords(plans, _strata(conn, ids), draws,
                              tuple(current_results(conn, ids)), teams_of(conn, ids),
                              skipped, officers,
                              enterprise_names(conn, [d.enterprise_id for d in draws]))
