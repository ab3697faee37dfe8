"""Inspection results in the database: import (atomic, every bad row named), status, publish.

A result names a (task, enterprise) that an active plan drew; its inspectors, when given,
must be that visit's team or a recorded substitute; it is dated within the quarter and not
after the day of the import. A correction is a new version of the pair's result; a version
once published stays as it was (DESIGN §10: never an overwrite).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select

from spotcheck.errors import InvalidInputError, RowProblem
from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.results import ResultRecord, code_problems
from spotcheck.models.tables import (
    PLAN_ACTIVE,
    PublicationRow,
    ResultRow,
    SubstituteRow,
)
from spotcheck.store.eventlog import EVENT, append_event
from spotcheck.store.sql import PLAN, PLAN_PARTS
from spotcheck.store.transactions import reading, writing

RESULT: Table = ResultRow.__table__  # type: ignore[attr-defined]
SUBSTITUTE: Table = SubstituteRow.__table__  # type: ignore[attr-defined]
PUBLICATION: Table = PublicationRow.__table__  # type: ignore[attr-defined]
DRAW: Table = next(table for table, attribute, _ in PLAN_PARTS if attribute == "draws")
ASSIGNMENT: Table = next(table for table, attribute, _ in PLAN_PARTS
                         if attribute == "assignments")


@dataclass(frozen=True)
class StoredPlan:
    """What results need of a stored plan: its id, quarter, status and parsed policy."""

    plan_id: str
    quarter: str
    active: bool
    policy: Policy
    manifest: dict[str, Any]


def stored_plans(conn: Connection, quarter: str | None = None) -> dict[str, StoredPlan]:
    """Return the stored plans (of one quarter, or all) by plan id."""
    query = select(PLAN.c.plan_id, PLAN.c.quarter, PLAN.c.status, PLAN.c.manifest)
    if quarter is not None:
        query = query.where(PLAN.c.quarter == quarter)
    plans = {}
    for plan_id, plan_quarter, status, manifest_text in conn.execute(query):
        manifest = json.loads(manifest_text)
        plans[plan_id] = StoredPlan(plan_id, plan_quarter, status == PLAN_ACTIVE,
                                    Policy.model_validate(manifest["policy"]), manifest)
    return plans


def drawn_by(conn: Connection, plans: Mapping[str, StoredPlan],
             pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """Return, per (task, enterprise), the ids of the given plans that drew it."""
    wanted = sorted(set(pairs))
    found: dict[tuple[str, str], list[str]] = {}
    enterprises = sorted({e for _, e in wanted})
    for start in range(0, len(enterprises), 500):
        chunk = enterprises[start:start + 500]
        rows = conn.execute(select(DRAW.c.plan_id, DRAW.c.task, DRAW.c.enterprise_id)
                            .where(DRAW.c.enterprise_id.in_(chunk)))
        for plan_id, task, enterprise in rows:
            if plan_id in plans:
                found.setdefault((task, enterprise), []).append(plan_id)
    return {pair: sorted(found[pair]) for pair in wanted if pair in found}


def team_of(conn: Connection, plan_id: str, enterprise_id: str, department: str) -> set[str]:
    """Return the visit's team: its assigned officers and any substitutes recorded since."""
    team = set(conn.execute(select(ASSIGNMENT.c.inspector_id).where(
        ASSIGNMENT.c.plan_id == plan_id, ASSIGNMENT.c.enterprise_id == enterprise_id,
        ASSIGNMENT.c.department == department)).scalars())
    for replaced, substitute in conn.execute(
            select(SUBSTITUTE.c.replaced, SUBSTITUTE.c.substitute)
            .where(SUBSTITUTE.c.plan_id == plan_id, SUBSTITUTE.c.enterprise_id == enterprise_id,
                   SUBSTITUTE.c.department == department)
            .order_by(SUBSTITUTE.c.event_seq)):
        team.discard(replaced)
        team.add(substitute)
    return team


def _served_by_visit(conn: Connection, plan_id: str) -> dict[tuple[str, str], set[str]]:
    """Return, per (enterprise, department) visit of a plan, everyone who may have inspected
    it: its assigned officers, every substitute recorded since and everyone they replaced.
    One read per plan, so a results file of a whole quarter is checked in one pass."""
    served: dict[tuple[str, str], set[str]] = defaultdict(set)
    for enterprise, department, officer in conn.execute(
            select(ASSIGNMENT.c.enterprise_id, ASSIGNMENT.c.department,
                   ASSIGNMENT.c.inspector_id).where(ASSIGNMENT.c.plan_id == plan_id)):
        served[(enterprise, department)].add(officer)
    for enterprise, department, replaced, substitute in conn.execute(
            select(SUBSTITUTE.c.enterprise_id, SUBSTITUTE.c.department, SUBSTITUTE.c.replaced,
                   SUBSTITUTE.c.substitute).where(SUBSTITUTE.c.plan_id == plan_id)):
        served[(enterprise, department)] |= {replaced, substitute}
    return served


class _Check:
    """Collects the problems of one results file, row by row."""

    def __init__(self, file: str, conn: Connection, today: date, quarter: str | None) -> None:
        self.file, self.conn, self.today = file, conn, today
        self.plans = stored_plans(conn, quarter)
        self.problems: list[RowProblem] = []
        self.served: dict[str, dict[tuple[str, str], set[str]]] = {}  # by plan, when needed

    def refuse(self, record: ResultRecord, column: str, value: str, reason: str) -> None:
        self.problems.append(RowProblem(self.file, record.row, column, value, reason))

    def plan_of(self, record: ResultRecord, drawn: Sequence[str]) -> StoredPlan | None:
        active = [self.plans[p] for p in drawn if self.plans[p].active]
        pair = f"{record.task} {record.enterprise_id}"
        if not drawn:
            self.refuse(record, "enterprise_id", record.enterprise_id,
                        f"no plan drew this enterprise for task {record.task}")
        elif not active:
            self.refuse(record, "task", record.task,
                        f"{pair} was drawn only by superseded plan(s) {', '.join(drawn)}; "
                        "results belong to the active plan")
        elif len(active) > 1:
            self.refuse(record, "task", record.task,
                        f"{pair} was drawn by active plans of several quarters "
                        f"({', '.join(p.quarter for p in active)}); give --quarter")
        else:
            return active[0]
        return None

    def record(self, record: ResultRecord, plan: StoredPlan) -> None:
        self.problems += code_problems(self.file, record, plan.policy.results)
        first = Quarter.parse(plan.quarter).start
        day = record.completed_on.isoformat()
        if record.completed_on < first:
            self.refuse(record, "completed_on", day,
                        f"before the quarter {plan.quarter} began ({first.isoformat()})")
        if record.completed_on > self.today:
            self.refuse(record, "completed_on", day,
                        f"after today ({self.today.isoformat()}): a result is entered once "
                        "the inspection is done")
        if record.inspectors:
            department = plan.policy.task(record.task).department
            if plan.plan_id not in self.served:
                self.served[plan.plan_id] = _served_by_visit(self.conn, plan.plan_id)
            served = self.served[plan.plan_id].get((record.enterprise_id, department), set())
            for officer in record.inspectors:
                if officer not in served:
                    self.refuse(record, "inspectors", officer,
                                f"not on the team of this visit ({', '.join(sorted(served))}) "
                                "nor a recorded substitute (`spotcheck substitute`)")


def import_results(engine: Engine, records: Sequence[ResultRecord], *, file: str,
                   today: date, quarter: str | None = None, actor: str | None = None,
                   source: Mapping[str, str] | None = None) -> dict[str, int]:
    """Store the results of a file whole, or refuse it naming every bad row; return counts."""
    problems: list[RowProblem] = []
    seen: dict[tuple[str, str], int] = {}
    for record in records:
        key = (record.task, record.enterprise_id)
        if key in seen:
            problems.append(RowProblem(file, record.row, "enterprise_id", record.enterprise_id,
                                       f"task {record.task} already has a result in row "
                                       f"{seen[key]} of this file"))
        seen.setdefault(key, record.row)
    with writing(engine, RESULT, EVENT) as conn:
        check = _Check(file, conn, today, quarter)
        drawn = drawn_by(conn, check.plans, seen)
        chosen: list[tuple[ResultRecord, StoredPlan]] = []
        for record in records:
            plan = check.plan_of(record, drawn.get((record.task, record.enterprise_id), []))
            if plan is not None:
                check.record(record, plan)
                chosen.append((record, plan))
        problems += check.problems
        if problems:
            problems.sort(key=lambda p: (p.row or 0, p.column or ""))
            raise InvalidInputError(problems, headline=f"{file}: the results file is refused "
                                                       "(nothing was stored)")
        return _store(conn, chosen, actor, source)


def _store(conn: Connection, chosen: Sequence[tuple[ResultRecord, StoredPlan]],
           actor: str | None, source: Mapping[str, str] | None) -> dict[str, int]:
    versions = {(p, t, e): v for p, t, e, v in conn.execute(
        select(RESULT.c.plan_id, RESULT.c.task, RESULT.c.enterprise_id,
               func.max(RESULT.c.version))
        .group_by(RESULT.c.plan_id, RESULT.c.task, RESULT.c.enterprise_id))}
    quarters = sorted({plan.quarter for _, plan in chosen})
    payload: dict[str, Any] = {"rows": len(chosen), "corrections": sum(
        1 for r, p in chosen if (p.plan_id, r.task, r.enterprise_id) in versions)}
    if len(quarters) == 1:
        payload["quarter"] = quarters[0]
    if source:
        payload["source"] = dict(source)
    event = append_event(conn, "results", payload, actor)
    rows = [{"plan_id": plan.plan_id, "task": r.task, "enterprise_id": r.enterprise_id,
             "version": versions.get((plan.plan_id, r.task, r.enterprise_id), 0) + 1,
             "completed_on": r.completed_on, "result": ";".join(r.codes),
             "remarks": r.remarks, "inspectors": ";".join(r.inspectors),
             "event_seq": event.seq} for r, plan in chosen]
    if rows:
        conn.execute(insert(RESULT), rows)
    return {"rows": len(rows), "corrections": payload["corrections"], "event": event.seq}


@dataclass(frozen=True)
class CurrentResult:
    """A pair's latest result version, and whether that version was published."""

    plan_id: str
    task: str
    enterprise_id: str
    version: int
    completed_on: date
    codes: tuple[str, ...]
    remarks: str
    published_on: date | None
    inspectors: tuple[str, ...] = ()  # who inspected, as the file named them (sorted)


def current_results(conn: Connection, plan_ids: Sequence[str]) -> list[CurrentResult]:
    """Return the latest result of every pair of these plans, sorted by plan, task, id."""
    published = {(p, t, e, v): d for p, t, e, v, d in conn.execute(
        select(PUBLICATION.c.plan_id, PUBLICATION.c.task, PUBLICATION.c.enterprise_id,
               PUBLICATION.c.version, PUBLICATION.c.published_on)
        .where(PUBLICATION.c.plan_id.in_(plan_ids)))}
    latest: dict[tuple[str, str, str], Any] = {}
    for row in conn.execute(select(RESULT).where(RESULT.c.plan_id.in_(plan_ids))):
        key = (row.plan_id, row.task, row.enterprise_id)
        if key not in latest or row.version > latest[key].version:
            latest[key] = row
    return [CurrentResult(p, t, e, row.version, row.completed_on,
                          tuple(c for c in row.result.split(";") if c), row.remarks,
                          published.get((p, t, e, row.version)),
                          tuple(i for i in row.inspectors.split(";") if i))
            for (p, t, e), row in sorted(latest.items())]


def drawn_pairs(conn: Connection, plan_ids: Sequence[str]) -> list[tuple[str, str, str]]:
    """Return the (plan, task, enterprise) pairs these plans drew, sorted."""
    return sorted(conn.execute(select(DRAW.c.plan_id, DRAW.c.task, DRAW.c.enterprise_id)
                               .where(DRAW.c.plan_id.in_(plan_ids))))


def record_publication(engine: Engine, quarter: str, published_on: date,
                       due: Sequence[CurrentResult], actor: str | None) -> int:
    """Record these result versions as published on `published_on`; return the event seq."""
    with writing(engine, PUBLICATION, EVENT) as conn:
        already = {(p, t, e, v) for p, t, e, v in conn.execute(
            select(PUBLICATION.c.plan_id, PUBLICATION.c.task, PUBLICATION.c.enterprise_id,
                   PUBLICATION.c.version))}
        fresh = [r for r in due if (r.plan_id, r.task, r.enterprise_id, r.version)
                 not in already]
        event = append_event(conn, "publish", {"quarter": quarter, "rows": len(fresh),
                                               "published_on": published_on.isoformat()},
                             actor)
        if fresh:
            conn.execute(insert(PUBLICATION), [
                {"plan_id": r.plan_id, "task": r.task, "enterprise_id": r.enterprise_id,
                 "version": r.version, "published_on": published_on, "event_seq": event.seq}
                for r in fresh])
        return event.seq


def quarter_plans(engine: Engine, quarter: str) -> dict[str, StoredPlan]:
    """Return the active plans of a quarter by id."""
    with reading(engine) as conn:
        return {k: v for k, v in stored_plans(conn, quarter).items() if v.active}
