"""The stored registry read back as one consistent snapshot for planning."""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Set as AbstractSet

import numpy as np
from sqlalchemy import (
    Connection,
    Engine,
    select,
)

from spotcheck.errors import SpotcheckError
from spotcheck.models.domain import Conflict, Inspector
from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import (
    EnterpriseColumns,
    HistoryColumns,
    PlannedVisit,
    Registry,
    fixed_width,
)
from spotcheck.models.tables import active_key
from spotcheck.store.sql import (
    CHUNK,
    CONFLICT,
    ENTERPRISE,
    ENTERPRISE_COLUMNS,
    ENTERPRISE_WIDTHS,
    HISTORY,
    HISTORY_COLUMNS,
    HISTORY_WIDTHS,
    INSPECTOR,
    PLAN,
    PLAN_PARTS,
    as_text,
    bytes_column,
    column_chunks,
    count_rows,
    stream_columns,
)
from spotcheck.store.transactions import reading

# --- reading the registry ------------------------------------------------------------------


def known_ids(engine: Engine) -> tuple[StoredIds, set[str]]:
    """Return the stored enterprise ids and inspector ids (to validate a conflicts file)."""
    with reading(engine) as conn:
        chunks = [fixed_width(ids, 18)[0]
                  for (ids,) in stream_columns(conn, ENTERPRISE, ("enterprise_id",))]
        enterprises = StoredIds(np.concatenate(chunks) if chunks else np.empty(0, "S18"))
        inspectors = set(conn.execute(select(INSPECTOR.c.inspector_id)).scalars())
    return enterprises, inspectors


class StoredIds(AbstractSet[str]):
    """A set of enterprise ids held as one sorted 'S18' column: a province's ten million ids
    cost 180 MB here, against a gigabyte as Python strings."""

    def __init__(self, ids: np.ndarray) -> None:
        self._ids = np.sort(ids)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str) or len(value) != 18 or not value.isascii():
            return False
        key = value.encode()
        at = int(np.searchsorted(self._ids, key))
        return at < len(self._ids) and bytes(self._ids[at]) == key

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self._ids), CHUNK):
            yield from as_text(self._ids[start:start + CHUNK])

    def __len__(self) -> int:
        return len(self._ids)


def load_registry(engine: Engine) -> Registry:
    """Return the stored registries as one consistent snapshot for planning.

    Conflicts naming an enterprise or inspector that the latest snapshot import removed are
    left out here (they stay stored, and apply again if that party returns).
    """
    with reading(engine) as conn:
        return registry_in(conn)


def registry_in(conn: Connection) -> Registry:
    """Return the stored registries as the transaction of `conn` sees them (see load_registry)."""
    enterprises = EnterpriseColumns.from_chunks(
        column_chunks(conn, ENTERPRISE, ENTERPRISE_COLUMNS, ENTERPRISE_WIDTHS),
        source="stored enterprises", rows=count_rows(conn, ENTERPRISE))
    inspectors = [
        Inspector(inspector_id=r.inspector_id, name=r.name, department=r.department,
                  jurisdiction=r.jurisdiction,
                  qualifications=tuple(q for q in r.qualifications.split(";") if q),
                  capacity=r.capacity, certificate_expiry=r.certificate_expiry, role=r.role)
        for r in conn.execute(select(INSPECTOR))]
    stored_conflicts = conn.execute(select(CONFLICT)).all()
    history = HistoryColumns.from_chunks(
        column_chunks(conn, HISTORY, HISTORY_COLUMNS, HISTORY_WIDTHS),
        source="stored inspection history", rows=count_rows(conn, HISTORY))
    officers = {o.inspector_id for o in inspectors}
    conflicts: list[Conflict] = []
    if stored_conflicts:
        rows = enterprises.index_of(bytes_column([c.enterprise_id for c in stored_conflicts],
                                                  18))
        conflicts = [Conflict(inspector_id=c.inspector_id, enterprise_id=c.enterprise_id,
                              reason=c.reason)
                     for c, row in zip(stored_conflicts, rows, strict=True)
                     if row >= 0 and c.inspector_id in officers]
    return Registry.build(enterprises, inspectors, conflicts, history)


def planned_visits(conn: Connection, quarter: str | Quarter, tasks: str) -> list[PlannedVisit]:
    """Return the visits of every active plan of the quarter's calendar year other than the
    one a plan of these tasks (comma-joined codes) would replace: what the annual cap counts
    besides the history."""
    q = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    teams = PLAN_PARTS[3][0]
    rows = conn.execute(
        select(teams.c.enterprise_id, teams.c.department, PLAN.c.quarter).distinct()
        .join(PLAN, PLAN.c.plan_id == teams.c.plan_id)
        .where(PLAN.c.active_key.is_not(None), PLAN.c.quarter.like(f"{q.year}Q_"),
               PLAN.c.active_key != active_key(str(q), tasks))).all()
    return [PlannedVisit(e, d, qq) for e, d, qq in rows]


def registry_for(conn: Connection, policy: Policy, quarter: str | Quarter) -> Registry:
    """Return the stored registries as `conn` sees them (registry_in), with the year's other
    active plans' visits when the policy sets an annual cap (they count toward it)."""
    registry = registry_in(conn)
    if not policy.annual_caps:
        return registry
    tasks = ",".join(sorted(t.code for t in policy.tasks))
    return Registry.build(registry.enterprises, registry.inspectors, registry.conflicts,
                          registry.history, planned_visits(conn, quarter, tasks))


def require_registry(registry: Registry) -> None:
    """Refuse an empty registry, saying which import to run first."""
    if len(registry.enterprises) == 0:
        raise SpotcheckError("no enterprises in the database: run "
                             "`spotcheck import enterprises FILE` first")
    if not registry.inspectors:
        raise SpotcheckError("no inspectors in the database: run "
                             "`spotcheck import inspectors FILE` first")
