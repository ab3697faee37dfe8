"""The database adapter: registry imports with a change report, the registry snapshot, plans.

Enterprises and inspectors are imported as full snapshots (the file replaces what is
stored); conflicts and history are appended, ignoring exact duplicates. Every import and
every stored plan is one transaction: it happens whole or not at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from spotcheck.audit.ceremony import quarter_log
from spotcheck.errors import InfeasiblePlanError, InvalidInputError, RowProblem, SpotcheckError
from spotcheck.models.domain import Conflict, HistoryRecord, Inspector
from spotcheck.models.events import Event
from spotcheck.models.registry import (
    EnterpriseColumns,
    HistoryColumns,
    Registry,
    as_columns,
    fixed_width,
    text_column,
)
from spotcheck.models.tables import (
    PLAN_ACTIVE,
    PLAN_SUPERSEDED,
    ConflictRow,
    EnterpriseRow,
    HistoryRow,
    InspectorRow,
    PlanAssignmentRow,
    PlanDrawRow,
    PlanRow,
    PlanSkipRow,
    PlanStratumRow,
    active_key,
)
from spotcheck.scheduler.plan import AssignmentRow, DrawRow, Plan, SkipRow, StratumRow
from spotcheck.store.eventlog import EVENT, append_event, checked_events, record_policy
from spotcheck.store.transactions import reading, writing

CHUNK = 50_000  # rows written, or read from the database, at a time
# A re-import touching fewer rows than this share of the table is applied as a diff
# (delete, update, insert only what changed) rather than by emptying and reloading the
# table. Both leave exactly the snapshot; the diff is far faster for monthly re-tiering.
DIFF_APPLY_SHARE = 0.25
TIER_CHANGE_EXAMPLES = 20
ENTERPRISE_COLUMNS = ("enterprise_id", "name", "jurisdiction", "industry", "tier")
HISTORY_COLUMNS = ("enterprise_id", "task", "department", "inspected_on")

ENTERPRISE: Table = EnterpriseRow.__table__  # type: ignore[attr-defined]
INSPECTOR: Table = InspectorRow.__table__  # type: ignore[attr-defined]
CONFLICT: Table = ConflictRow.__table__  # type: ignore[attr-defined]
HISTORY: Table = HistoryRow.__table__  # type: ignore[attr-defined]
PLAN: Table = PlanRow.__table__  # type: ignore[attr-defined]
# each stored plan part: its table and the Plan attribute holding its rows
PLAN_PARTS: tuple[tuple[Table, str, type], ...] = (
    (PlanStratumRow.__table__, "strata", StratumRow),  # type: ignore[attr-defined]
    (PlanDrawRow.__table__, "draws", DrawRow),  # type: ignore[attr-defined]
    (PlanSkipRow.__table__, "skipped", SkipRow),  # type: ignore[attr-defined]
    (PlanAssignmentRow.__table__, "assignments", AssignmentRow),  # type: ignore[attr-defined]
)

_LABELS = {"enterprises": "enterprises (检查对象名录库)",
           "inspectors": "inspectors (执法检查人员名录库)",
           "conflicts": "conflicts (回避)", "history": "inspection history (检查记录)"}


# --- the report ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierChange:
    """Enterprises whose credit-risk tier moved from `old` to `new` in a re-import."""

    old: str
    new: str
    count: int
    examples: tuple[str, ...]  # up to TIER_CHANGE_EXAMPLES enterprise ids, ascending


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import changed. Snapshots fill added/removed/changed/unchanged; appends
    fill added/ignored (exact duplicates, already stored or repeated in the file)."""

    registry: str  # "enterprises", "inspectors", "conflicts" or "history"
    rows_in_file: int
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0
    ignored: int = 0
    tier_changes: tuple[TierChange, ...] = ()

    @property
    def snapshot(self) -> bool:
        """Return whether this import replaced the registry (rather than appended to it)."""
        return self.registry in ("enterprises", "inspectors")

    def lines(self) -> list[str]:
        """Return a planner-readable summary, one line per item."""
        label = _LABELS.get(self.registry, self.registry)
        if not self.snapshot:
            return [f"{label}: {self.rows_in_file:,} row(s) appended (追加): added "
                    f"{self.added:,}, ignored {self.ignored:,} duplicate(s) already stored "
                    "or repeated in the file"]
        lines = [f"{label}: the file's {self.rows_in_file:,} row(s) replace the stored list "
                 f"(全量更新): added {self.added:,}, removed {self.removed:,}, "
                 f"changed {self.changed:,}, unchanged {self.unchanged:,}"]
        if self.registry == "enterprises":
            moved = sum(c.count for c in self.tier_changes)
            lines.append(f"tier changes (风险分类调整): {moved:,}" if moved else
                         "tier changes (风险分类调整): none")
            for c in self.tier_changes:
                shown = ", ".join(c.examples[:5])
                more = f", … {c.count - 5:,} more" if c.count > 5 else ""
                lines.append(f"  {c.old}→{c.new} {c.count:,} ({shown}{more})")
        return lines


def _tier_changes(old: np.ndarray, new: np.ndarray, ids: np.ndarray) -> tuple[TierChange, ...]:
    """Return the tier moves among these (old tier, new tier, id) rows, largest first."""
    moved = np.flatnonzero(old != new)
    names, codes = np.unique(np.concatenate([old[moved], new[moved]]), return_inverse=True)
    pair = codes[:len(moved)] * len(names) + codes[len(moved):]
    kinds, counts = np.unique(pair, return_counts=True)
    changes = [TierChange(names[k // len(names)].decode(), names[k % len(names)].decode(),
                          int(n), tuple(_text(ids[moved[pair == k][:TIER_CHANGE_EXAMPLES]])))
               for k, n in zip(kinds.tolist(), counts.tolist(), strict=True)]
    return tuple(sorted(changes, key=lambda c: (-c.count, c.old, c.new)))


# --- transactions ----------------------------------------------------------------------


def _insert_ignoring_duplicates(conn: Connection, table: Table) -> Insert:
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    raise SpotcheckError(f"the {conn.dialect.name} database is not supported; "
                         "use SQLite or PostgreSQL")


def _execute_chunks(conn: Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        conn.execute(statement, list(rows[start:start + CHUNK]))


def _count(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _text(column: np.ndarray) -> list[str]:
    """Return a bytes ('S') column as a list of str."""
    return column.astype(f"U{column.dtype.itemsize}").tolist()  # 2.5x np.char.decode


def _bytes_column(values: Sequence[str], width: int) -> np.ndarray:
    return np.array(values, dtype=f"S{width}") if len(values) else np.empty(0, f"S{width}")


# --- enterprises -----------------------------------------------------------------------


def _enterprise_rows(conn: Connection) -> Iterator[list[list[Any]]]:
    """Return the stored enterprises as chunks of five columns in ENTERPRISE_COLUMNS order
    (rows in no particular order), streamed from one SELECT."""
    return _stream(conn, ENTERPRISE, ENTERPRISE_COLUMNS)


def _stream(conn: Connection, table: Table, columns: Sequence[str],
            order_by: str = "") -> Iterator[list[list[Any]]]:
    """Yield the rows of one SELECT of these columns a chunk at a time, as columns."""
    query = f"SELECT {', '.join(columns)} FROM {table.name}{order_by}"
    width, size = len(columns), CHUNK
    if conn.dialect.name == "sqlite" or conn.dialect.driver == "psycopg2":
        # The driver's own cursor, in the same transaction: SQLAlchemy's rows would double
        # the time. On PostgreSQL a named (server-side) cursor: the client never holds
        # the whole table.
        raw = conn.connection.dbapi_connection
        assert raw is not None  # a connection inside a transaction is checked out
        named = conn.dialect.name == "postgresql"
        cursor: Any = raw.cursor(f"spotcheck_{table.name}") if named else raw.cursor()
        try:
            if named:
                cursor.itersize = size
            cursor.execute(query)
            while rows := cursor.fetchmany(size):
                yield as_columns(rows, width)
        finally:
            cursor.close()
        return
    result = conn.exec_driver_sql(query, execution_options={"stream_results": True,
                                                             "max_row_buffer": size})
    for rows in result.partitions(size):
        yield as_columns(rows, width)


def _enterprise_chunks(columns: EnterpriseColumns, rows: np.ndarray
                       ) -> Iterator[list[tuple[str, str, str, str, str]]]:
    """Yield these rows as tuples in ENTERPRISE_COLUMNS order, CHUNK rows at a time."""
    for start in range(0, len(rows), CHUNK):
        pick = rows[start:start + CHUNK]
        yield list(zip(_text(columns.ids[pick]), columns.names[pick].tolist(),
                       _text(columns.jurisdictions[pick]), _text(columns.industries[pick]),
                       _text(columns.tiers[pick]), strict=True))


def import_enterprises(engine: Engine, columns: EnterpriseColumns, *, actor: str | None = None,
                       source: Mapping[str, str] | None = None) -> ImportReport:
    """Replace the stored enterprises with this full snapshot; return what changed.

    One transaction, with its "import" event: if anything fails, the stored enterprises
    stay as they were. Conflicts and history naming an enterprise no longer in the snapshot
    are kept (see load_registry). `source` (file name and sha256) goes into the event.
    """
    new = columns
    if len(new) > 1 and not bool(np.all(new.ids[1:] > new.ids[:-1])):
        raise InvalidInputError("enterprises: columns must be sorted by id without repeats "
                                "(build them with EnterpriseColumns.from_lists)")
    with writing(engine, ENTERPRISE, EVENT) as conn:
        change = _EnterpriseChange.of(_enterprise_rows(conn), new)
        unchanged = len(new) - len(change.added) - len(change.changed)
        report = ImportReport(
            "enterprises", len(new), added=len(change.added), removed=len(change.removed),
            changed=len(change.changed), unchanged=unchanged,
            tier_changes=change.tier_changes)
        touched = len(change.added) + len(change.removed) + len(change.changed)
        if change.stored and touched < DIFF_APPLY_SHARE * max(change.stored, len(new)):
            _apply_enterprise_diff(conn, new, _text(change.removed), change.changed,
                                   change.added)
        else:
            conn.execute(delete(ENTERPRISE))
            _insert_enterprises(conn, new, np.arange(len(new)))
        _record_import(conn, report, actor, source)
    return report


@dataclass(frozen=True)
class _EnterpriseChange:
    """How a new enterprise snapshot differs from the stored one."""

    stored: int               # enterprises stored before
    added: np.ndarray         # rows of the new snapshot whose id is not stored
    removed: np.ndarray       # stored ids ('S18', ascending) the new snapshot lacks
    changed: np.ndarray       # rows of the new snapshot stored with other values, ascending
    tier_changes: tuple[TierChange, ...]

    @classmethod
    def of(cls, stored: Iterable[Sequence[Sequence[str]]], new: EnterpriseColumns
           ) -> _EnterpriseChange:
        """Return the change from the stored rows (chunks of five columns, any order) to
        `new`; only one chunk of the stored rows is held at a time."""
        seen = np.zeros(len(new), dtype=bool)  # rows of `new` whose id is stored
        count = 0
        removed: list[np.ndarray] = []
        changed: list[np.ndarray] = []
        old_tiers: list[np.ndarray] = []
        for ids, names, jurisdictions, industries, tiers in stored:
            id_column = fixed_width(ids, 18)[0]
            count += len(id_column)
            if len(new):
                pos = np.minimum(np.searchsorted(new.ids, id_column), len(new) - 1)
                found = new.ids[pos] == id_column
            else:
                pos, found = np.zeros(len(id_column), np.intp), np.zeros(len(id_column), bool)
            removed.append(id_column[~found])
            kept = np.flatnonzero(found)
            rows = pos[kept]
            seen[rows] = True
            tier_column = fixed_width(tiers, 16)[0][kept]
            differs = ((new.names[rows] != text_column(names)[kept])
                       | (new.jurisdictions[rows] != fixed_width(jurisdictions, 6)[0][kept])
                       | (new.industries[rows] != fixed_width(industries, 8)[0][kept])
                       | (new.tiers[rows] != tier_column))
            changed.append(rows[differs])
            old_tiers.append(tier_column[differs])
        moved = np.concatenate(changed) if changed else np.empty(0, np.intp)
        ascending = np.argsort(moved)
        moved = moved[ascending]
        was = np.concatenate(old_tiers)[ascending] if old_tiers else np.empty(0, "S16")
        gone = np.sort(np.concatenate(removed)) if removed else np.empty(0, "S18")
        return cls(count, np.flatnonzero(~seen), gone, moved,
                   _tier_changes(was, new.tiers[moved], new.ids[moved]))


def _apply_enterprise_diff(conn: Connection, new: EnterpriseColumns, removed: list[str],
                           changed: np.ndarray, added: np.ndarray) -> None:
    t = ENTERPRISE
    _execute_chunks(conn, delete(t).where(t.c.enterprise_id == bindparam("key")),
                    [{"key": k} for k in removed])
    revise = update(t).where(t.c.enterprise_id == bindparam("key")).values(
        name=bindparam("new_name"), jurisdiction=bindparam("new_jurisdiction"),
        industry=bindparam("new_industry"), tier=bindparam("new_tier"))
    for chunk in _enterprise_chunks(new, changed):
        conn.execute(revise, [{"key": key, "new_name": name, "new_jurisdiction": jurisdiction,
                               "new_industry": industry, "new_tier": tier}
                              for key, name, jurisdiction, industry, tier in chunk])
    _insert_enterprises(conn, new, added)


def _insert_enterprises(conn: Connection, columns: EnterpriseColumns, rows: np.ndarray) -> None:
    """Insert these rows of the columns by the fastest route the driver offers.

    SQLite: the driver's executemany of tuples (about half the time of Core's dicts);
    psycopg2: COPY (about five times its batched INSERT); otherwise a Core insert().
    """
    names = ", ".join(ENTERPRISE_COLUMNS)
    if conn.dialect.name == "sqlite":
        statement = f"INSERT INTO {ENTERPRISE.name} ({names}) VALUES (?, ?, ?, ?, ?)"
        for chunk in _enterprise_chunks(columns, rows):
            conn.exec_driver_sql(statement, chunk)
    elif conn.dialect.driver == "psycopg2":
        raw = conn.connection.dbapi_connection
        assert raw is not None  # a connection inside a transaction is checked out
        cursor: Any = raw.cursor()
        # One COPY fed as the text is made: the server stores a piece while the next is
        # formatted, instead of waiting for each piece's COPY to end.
        stream = _TextStream(_copy_text(columns, rows))
        try:
            cursor.copy_expert(f"COPY {ENTERPRISE.name} ({names}) FROM STDIN (FORMAT csv)",
                               stream, size=1 << 16)
        except Exception:
            if stream.failure is not None:  # raise the cause, not psycopg2's report of it
                raise stream.failure from None
            raise
    else:
        for chunk in _enterprise_chunks(columns, rows):
            conn.execute(insert(ENTERPRISE),
                         [dict(zip(ENTERPRISE_COLUMNS, row, strict=True)) for row in chunk])


def _copy_text(columns: EnterpriseColumns, rows: np.ndarray) -> Iterator[str]:
    """Yield these rows as COPY's CSV text, CHUNK rows at a time."""
    for chunk in _enterprise_chunks(columns, rows):
        buffer = io.StringIO()
        # every field quoted: in COPY's CSV an unquoted empty field would be NULL
        csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(chunk)
        yield buffer.getvalue()


class _TextStream:
    """A readable file of text made a piece at a time (what psycopg2's COPY reads from)."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self._pieces = pieces
        self._piece = ""
        self._at = 0
        self.failure: BaseException | None = None  # what making a piece raised

    def _next(self) -> str:
        try:
            return next(self._pieces, "")
        except BaseException as exc:
            self.failure = exc
            raise

    def read(self, size: int = -1) -> str:
        """Return up to `size` characters (all that is left if size < 0); "" at the end."""
        if size < 0:
            rest = [self._piece[self._at:]]
            while piece := self._next():
                rest.append(piece)
            self._piece, self._at = "", 0
            return "".join(rest)
        while self._at >= len(self._piece):
            self._piece, self._at = self._next(), 0
            if not self._piece:
                return ""
        text = self._piece[self._at:self._at + size]
        self._at += len(text)
        return text


# --- inspectors, conflicts, history --------------------------------------------------------


def _inspector_row(r: Inspector) -> dict[str, Any]:
    return {"inspector_id": r.inspector_id, "name": r.name, "department": r.department,
            "jurisdiction": r.jurisdiction, "qualifications": ";".join(sorted(r.qualifications)),
            "capacity": r.capacity, "certificate_expiry": r.certificate_expiry}


def import_inspectors(engine: Engine, inspectors: Sequence[Inspector], *,
                      actor: str | None = None,
                      source: Mapping[str, str] | None = None) -> ImportReport:
    """Replace the stored inspectors with this full snapshot; return what changed."""
    new: dict[str, dict[str, Any]] = {}
    problems: list[RowProblem] = []
    for row, record in enumerate(inspectors, start=1):
        if record.inspector_id in new:
            problems.append(RowProblem("inspectors", row, "inspector_id", record.inspector_id,
                                       "the same certificate number (执法证号) appears twice"))
        new[record.inspector_id] = _inspector_row(record)
    if problems:
        raise InvalidInputError(problems, headline="inspectors: the file is refused")
    with writing(engine, INSPECTOR, EVENT) as conn:
        old = {r["inspector_id"]: dict(r) for r in conn.execute(select(INSPECTOR)).mappings()}
        same = sum(1 for key, row in new.items() if old.get(key) == row)
        kept = len(new.keys() & old.keys())
        conn.execute(delete(INSPECTOR))
        _execute_chunks(conn, insert(INSPECTOR), list(new.values()))
        report = ImportReport("inspectors", len(inspectors), added=len(new) - kept,
                              removed=len(old) - kept, changed=kept - same, unchanged=same)
        _record_import(conn, report, actor, source)
    return report


def _append(engine: Engine, table: Table, registry: str, rows: list[dict[str, Any]],
            actor: str | None, source: Mapping[str, str] | None) -> ImportReport:
    """Append rows, ignoring those already stored or repeated; return added and ignored."""
    keys = [c.name for c in table.primary_key.columns]
    unique = list({tuple(r[k] for k in keys): r for r in rows}.values())
    with writing(engine, table, EVENT) as conn:
        before = _count(conn, table)
        _execute_chunks(conn, _insert_ignoring_duplicates(conn, table), unique)
        added = _count(conn, table) - before
        report = ImportReport(registry, len(rows), added=added, ignored=len(rows) - added)
        _record_import(conn, report, actor, source)
    return report


def import_conflicts(engine: Engine, conflicts: Sequence[Conflict], *, actor: str | None = None,
                     source: Mapping[str, str] | None = None) -> ImportReport:
    """Append recusal records (回避); exact duplicates are ignored and counted."""
    return _append(engine, CONFLICT, "conflicts", [c.model_dump() for c in conflicts],
                   actor, source)


def import_history(engine: Engine, records: Sequence[HistoryRecord], *,
                   actor: str | None = None,
                   source: Mapping[str, str] | None = None) -> ImportReport:
    """Append past inspections; exact duplicates are ignored and counted."""
    return _append(engine, HISTORY, "history", [r.model_dump() for r in records], actor,
                   source)


def _record_import(conn: Connection, report: ImportReport, actor: str | None,
                   source: Mapping[str, str] | None) -> None:
    """Append the import's event (counts only: no enterprise, and never a tier, is named)."""
    counts = ("added", "removed", "changed", "unchanged") if report.snapshot else \
        ("added", "ignored")
    payload: dict[str, Any] = {"registry": report.registry, "rows": report.rows_in_file,
                               **{name: getattr(report, name) for name in counts}}
    if source:
        payload["source"] = dict(source)
    append_event(conn, "import", payload, actor)


# --- reading the registry ------------------------------------------------------------------


def known_ids(engine: Engine) -> tuple[StoredIds, set[str]]:
    """Return the stored enterprise ids and inspector ids (to validate a conflicts file)."""
    with reading(engine) as conn:
        chunks = [fixed_width(ids, 18)[0]
                  for (ids,) in _stream(conn, ENTERPRISE, ("enterprise_id",))]
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
            yield from _text(self._ids[start:start + CHUNK])

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
    enterprises = EnterpriseColumns.from_chunks(_enterprise_rows(conn),
                                                source="stored enterprises",
                                                rows=_count(conn, ENTERPRISE))
    inspectors = [
        Inspector(inspector_id=r.inspector_id, name=r.name, department=r.department,
                  jurisdiction=r.jurisdiction,
                  qualifications=tuple(q for q in r.qualifications.split(";") if q),
                  capacity=r.capacity, certificate_expiry=r.certificate_expiry)
        for r in conn.execute(select(INSPECTOR))]
    stored_conflicts = conn.execute(select(CONFLICT)).all()
    keys = [c.name for c in HISTORY.primary_key.columns]
    # SQLite reads its primary-key index in key order: the canonical order, no sort needed
    ordered = f" ORDER BY {', '.join(keys)}" if conn.dialect.name == "sqlite" else ""
    history = HistoryColumns.from_chunks(
        _stream(conn, HISTORY, HISTORY_COLUMNS, ordered),
        source="stored inspection history", rows=_count(conn, HISTORY))
    officers = {o.inspector_id for o in inspectors}
    conflicts: list[Conflict] = []
    if stored_conflicts:
        rows = enterprises.index_of(_bytes_column([c.enterprise_id for c in stored_conflicts],
                                                  18))
        conflicts = [Conflict(inspector_id=c.inspector_id, enterprise_id=c.enterprise_id,
                              reason=c.reason)
                     for c, row in zip(stored_conflicts, rows, strict=True)
                     if row >= 0 and c.inspector_id in officers]
    return Registry.build(enterprises, inspectors, conflicts, history)


def require_registry(registry: Registry) -> None:
    """Refuse an empty registry, saying which import to run first."""
    if len(registry.enterprises) == 0:
        raise SpotcheckError("no enterprises in the database: run "
                             "`spotcheck import enterprises FILE` first")
    if not registry.inspectors:
        raise SpotcheckError("no inspectors in the database: run "
                             "`spotcheck import inspectors FILE` first")


# --- plans ---------------------------------------------------------------------------------


def _plan_rows(plan: Plan) -> dict[str, list[tuple[Any, ...]]]:
    """Return each plan part's rows as tuples in the column order of its table."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for _, attr, kind in PLAN_PARTS:
        names = [f.name for f in fields(kind)]
        out[attr] = sorted(tuple(getattr(r, n) for n in names) for r in getattr(plan, attr))
    return out


def _stored_plan_rows(conn: Connection, plan_id: str) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table, attr, kind in PLAN_PARTS:
        columns = [table.c[f.name] for f in fields(kind)]
        out[attr] = sorted(tuple(r) for r in conn.execute(
            select(*columns).where(table.c.plan_id == plan_id)))
    return out


def _active_plan(conn: Connection, key: str) -> str | None:
    """Return the id of the active plan with this active_key, if any."""
    return conn.execute(select(PLAN.c.plan_id).where(PLAN.c.active_key == key)
                        ).scalar_one_or_none()


def _refuse_overlap(conn: Connection, quarter: str, key: str, tasks: str) -> None:
    """Refuse a plan sharing a task with another active plan of the quarter's other task sets.

    A task is drawn once a quarter: two active plans drawing the same task would inspect
    its strata twice, so only plans for disjoint task sets may be active side by side.
    """
    mine = set(tasks.split(","))
    others = conn.execute(select(PLAN.c.plan_id, PLAN.c.tasks).where(
        PLAN.c.quarter == quarter, PLAN.c.active_key.is_not(None),
        PLAN.c.active_key != key).order_by(PLAN.c.plan_id)).all()
    for other_id, other_tasks in others:
        shared = sorted(mine & set(other_tasks.split(",")))
        if shared:
            raise InfeasiblePlanError(
                f"plan {other_id} (tasks {other_tasks}) is active for quarter {quarter} and "
                f"already draws task(s) {', '.join(shared)}; nothing was stored. A task is "
                "drawn once a quarter: plan the same task set with --replace, or plan only "
                "tasks no active plan draws.")


def _set_status(conn: Connection, plan_id: str, key: str | None,
                superseded_by: str | None) -> None:
    conn.execute(update(PLAN).where(PLAN.c.plan_id == plan_id).values(
        status=PLAN_ACTIVE if key else PLAN_SUPERSEDED, active_key=key,
        superseded_by=superseded_by))


ManifestSource = str | Callable[[list[Event]], str]


@dataclass(frozen=True)
class PlanEvidence:
    """What a plan's event records beyond the plan: its file digests, freeze and seed event."""

    inputs: Mapping[str, str] = field(default_factory=dict)  # file name → sha256
    outputs: Mapping[str, str] = field(default_factory=dict)
    freeze: int | None = None  # seq of the freeze event the plan's inputs match
    seed_event: int | None = None  # seq of the ceremony's seed event the plan uses


def store_plan(engine: Engine, plan: Plan, plan_id: str, manifest_json: ManifestSource, *,
               replace: bool, evidence: PlanEvidence | None = None,
               actor: str | None = None) -> str | None:
    """Store the plan as the active plan of its quarter and task set, with its "plan" event;
    return the plan id it superseded, or None.

    `manifest_json` is the manifest text, or a function called inside the transaction with
    the event chain up to and including the plan's event: it writes the bundle and returns
    its manifest. If it raises, or the commit fails, nothing is stored.

    The plan must use the quarter's latest freeze and ceremony seed as `evidence` says (the
    command line checked them; they are checked again under the write lock, in case the
    quarter was frozen again meanwhile).

    At most one plan is active per (quarter, task set); plans for disjoint task sets
    coexist, and a plan sharing a task with another active plan of the quarter is refused.
    If one is active already, this raises InfeasiblePlanError naming it, unless `replace`:
    then the old plan is marked superseded (superseded_by = this plan_id) and kept with all
    its rows, for audit. Storing a plan_id that is already stored:

    - with the same content and active: nothing to do (the identical command was re-run,
      say to write the bundle again); returns None and keeps the stored manifest;
    - with the same content but superseded: it is reinstated as the active plan only with
      `replace` (the plan active now is superseded by it), otherwise InfeasiblePlanError;
    - with different content (other draws or teams under the same id): InfeasiblePlanError,
      since a stored plan is never rewritten.

    Two writers storing at the same moment: they take turns (write lock), and the UNIQUE
    active_key is the last guard: a clash is reported as InfeasiblePlanError, never stored.
    """
    evidence = evidence or PlanEvidence()
    tasks = ",".join(sorted(t.code for t in plan.policy.tasks))
    key = active_key(plan.quarter, tasks)
    what = f"quarter {plan.quarter}, tasks {tasks}"
    try:
        with writing(engine, PLAN, EVENT) as conn:
            events = checked_events(conn)
            _check_evidence(events, plan, evidence)
            active = _active_plan(conn, key)
            _refuse_overlap(conn, plan.quarter, key, tasks)
            stored = conn.execute(select(PLAN).where(PLAN.c.plan_id == plan_id)).first()
            if stored is not None:
                return _store_again(conn, plan, plan_id, stored._mapping, active, replace, key,
                                    _Recording(events, manifest_json, evidence, actor, tasks))
            if active is not None and not replace:
                raise InfeasiblePlanError(
                    f"plan {active} is already the active plan (有效计划) for {what}; "
                    "nothing was stored. Pass --replace to supersede it (it stays on record "
                    "as superseded).")
            manifest = _Recording(events, manifest_json, evidence, actor, tasks).record(
                conn, plan, plan_id, active)
            if active is not None:
                _set_status(conn, active, None, None)
            conn.execute(insert(PLAN).values(
                plan_id=plan_id, quarter=plan.quarter, tasks=tasks, seed=plan.seed,
                seed_hash=plan.seed_hash, status=PLAN_ACTIVE, superseded_by=None,
                active_key=key, manifest=manifest,
                stored_at=datetime.now(UTC).isoformat(timespec="seconds")))
            if active is not None:
                _set_status(conn, active, None, plan_id)
            for (table, _, kind), rows in zip(PLAN_PARTS, _plan_rows(plan).values(),
                                              strict=True):
                names = [f.name for f in fields(kind)]
                _execute_chunks(conn, insert(table),
                                [{"plan_id": plan_id, **dict(zip(names, r, strict=True))}
                                 for r in rows])
            return active
    except IntegrityError as exc:
        text = str(exc.orig)
        if "active_key" in text or "plan.plan_id" in text or "plan_pkey" in text:
            raise InfeasiblePlanError(
                f"another plan for {what} was stored at the same time; nothing was stored. "
                "Run the plan again to see which plan is active (pass --replace to "
                "supersede it)."
            ) from exc
        raise


def _check_evidence(events: list[Event], plan: Plan, evidence: PlanEvidence) -> None:
    """Refuse a plan whose freeze or seed is no longer the quarter's latest."""
    ceremony = quarter_log(events, plan.quarter).latest
    latest_freeze = None if ceremony is None else ceremony.freeze.seq
    latest_seed = None if ceremony is None or ceremony.seed is None else ceremony.seed.seq
    frozen = {} if ceremony is None else ceremony.inputs
    if (evidence.freeze, evidence.seed_event) != (latest_freeze, latest_seed) or (
            ceremony is not None and (dict(evidence.inputs) != frozen or (
                ceremony.seed is not None and ceremony.seed_value != plan.seed))):
        raise InfeasiblePlanError(
            f"the plan does not use the latest freeze and ceremony seed of {plan.quarter} "
            f"(freeze #{latest_freeze}, seed event #{latest_seed}); the quarter was frozen "
            "again or its seed drawn while planning. Nothing was stored: plan again")


@dataclass(frozen=True)
class _Recording:
    """How store_plan records a plan: the log read under the lock and the bundle writer."""

    events: list[Event]
    manifest_json: ManifestSource
    evidence: PlanEvidence
    actor: str | None
    tasks: str

    def record(self, conn: Connection, plan: Plan, plan_id: str, supersedes: str | None
               ) -> str:
        """Append the plan's event (and a policy event if the policy is new to the log);
        return the manifest, written with the chain through the plan event."""
        appended: list[Event] = []
        policy_digest = self.evidence.inputs.get("policy.toml")
        if policy_digest:
            used = record_policy(conn, self.events, policy_digest, plan.policy.name, self.actor)
            appended += [used] if used else []
        so_far = [*self.events, *appended]
        previous = so_far[-1] if so_far else None
        payload = {"quarter": plan.quarter, "plan_id": plan_id, "tasks": self.tasks,
                   "seed": plan.seed, "seed_hash": plan.seed_hash,
                   "freeze": self.evidence.freeze, "seed_event": self.evidence.seed_event,
                   "inputs": dict(self.evidence.inputs),
                   "outputs": dict(self.evidence.outputs), "supersedes": supersedes}
        event = append_event(conn, "plan", payload, self.actor, previous)
        chain = [*self.events, *appended, event]
        return self.publish(chain)

    def publish(self, chain: list[Event]) -> str:
        """Return the manifest for this chain (writing the bundle when given a writer)."""
        if isinstance(self.manifest_json, str):
            return self.manifest_json
        return self.manifest_json(chain)

    def again(self, conn: Connection, plan: Plan, plan_id: str) -> None:
        """Write the bundle of an identical re-run with the chain through the plan's event,
        appending a new plan event only if the recorded one names another freeze or seed."""
        for event in reversed(self.events):
            if event.kind == "plan" and event.payload.get("plan_id") == plan_id:
                if (event.payload.get("freeze"), event.payload.get("seed_event")) == (
                        self.evidence.freeze, self.evidence.seed_event):
                    self.publish(self.events[:event.seq])
                    return
                break
        self.record(conn, plan, plan_id, None)


def _store_again(conn: Connection, plan: Plan, plan_id: str, stored: Any, active: str | None,
                 replace: bool, key: str, recording: _Recording) -> str | None:
    """Handle a plan_id that is already stored (see store_plan); return what it superseded."""
    same = (stored["quarter"] == plan.quarter and stored["seed_hash"] == plan.seed_hash
            and active_key(stored["quarter"], stored["tasks"]) == key
            and _stored_plan_rows(conn, plan_id) == _plan_rows(plan))
    if not same:
        raise InfeasiblePlanError(
            f"plan id {plan_id} is already stored with different content; a stored plan is "
            "never rewritten, so nothing was stored")
    if stored["status"] == PLAN_ACTIVE:
        recording.again(conn, plan, plan_id)
        return None
    if active is not None and not replace:
        raise InfeasiblePlanError(
            f"plan {plan_id} is stored but was superseded; plan {active} is the active plan "
            f"(有效计划) for quarter {plan.quarter}, tasks {stored['tasks']}. Pass --replace to "
            "make this plan active again.")
    recording.record(conn, plan, plan_id, active)
    if active is not None:
        _set_status(conn, active, None, plan_id)
    _set_status(conn, plan_id, key, None)
    return active


def list_plans(engine: Engine) -> list[dict[str, Any]]:
    """Return every stored plan (active and superseded) as a dict of its plan columns,
    without the internal active_key, ordered by quarter, tasks and time stored."""
    columns = [c for c in PLAN.columns if c.name != "active_key"]
    with reading(engine) as conn:
        rows = conn.execute(select(*columns).order_by(
            PLAN.c.quarter, PLAN.c.tasks, PLAN.c.stored_at, PLAN.c.plan_id)).mappings()
        return [dict(r) for r in rows]

