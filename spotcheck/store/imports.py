"""Registry imports with a change report: enterprise and inspector snapshots, appended
conflicts and history.

Enterprises and inspectors are imported as full snapshots (the file replaces what is
stored); conflicts and history are appended, ignoring exact duplicates. Every import is
one transaction with its "import" event: it happens whole or not at all.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)

from spotcheck.errors import InvalidInputError, RowProblem
from spotcheck.models.domain import Conflict, HistoryRecord, Inspector
from spotcheck.models.registry import (
    EnterpriseColumns,
    fixed_width,
    text_column,
)
from spotcheck.store.eventlog import EVENT, append_event
from spotcheck.store.sql import (
    CHUNK,
    CONFLICT,
    ENTERPRISE,
    ENTERPRISE_COLUMNS,
    HISTORY,
    INSPECTOR,
    as_text,
    count_rows,
    enterprise_rows,
    execute_chunks,
    insert_ignoring_duplicates,
)
from spotcheck.store.transactions import writing

# A re-import touching fewer rows than this share of the table is applied as a diff
# (delete, update, insert only what changed) rather than by emptying and reloading the
# table. Both leave exactly the snapshot; the diff is far faster for monthly re-tiering.
DIFF_APPLY_SHARE = 0.25
TIER_CHANGE_EXAMPLES = 20
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
                          int(n), tuple(as_text(ids[moved[pair == k][:TIER_CHANGE_EXAMPLES]])))
               for k, n in zip(kinds.tolist(), counts.tolist(), strict=True)]
    return tuple(sorted(changes, key=lambda c: (-c.count, c.old, c.new)))


# --- enterprises -----------------------------------------------------------------------




def _enterprise_chunks(columns: EnterpriseColumns, rows: np.ndarray
                       ) -> Iterator[list[tuple[str, str, str, str, str]]]:
    """Yield these rows as tuples in ENTERPRISE_COLUMNS order, CHUNK rows at a time."""
    for start in range(0, len(rows), CHUNK):
        pick = rows[start:start + CHUNK]
        yield list(zip(as_text(columns.ids[pick]), columns.names[pick].tolist(),
                       as_text(columns.jurisdictions[pick]), as_text(columns.industries[pick]),
                       as_text(columns.tiers[pick]), strict=True))


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
        change = _EnterpriseChange.of(enterprise_rows(conn), new)
        unchanged = len(new) - len(change.added) - len(change.changed)
        report = ImportReport(
            "enterprises", len(new), added=len(change.added), removed=len(change.removed),
            changed=len(change.changed), unchanged=unchanged,
            tier_changes=change.tier_changes)
        touched = len(change.added) + len(change.removed) + len(change.changed)
        if change.stored and touched < DIFF_APPLY_SHARE * max(change.stored, len(new)):
            _apply_enterprise_diff(conn, new, as_text(change.removed), change.changed,
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
    execute_chunks(conn, delete(t).where(t.c.enterprise_id == bindparam("key")),
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
            "capacity": r.capacity, "certificate_expiry": r.certificate_expiry, "role": r.role}


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
        execute_chunks(conn, insert(INSPECTOR), list(new.values()))
        report = ImportReport("inspectors", len(inspectors), added=len(new) - kept,
                              removed=len(old) - kept, changed=kept - same, unchanged=same)
        _record_import(conn, report, actor, source)
    return report


def _append(engine: Engine, table: Table, registry: str, rows: list[dict[str, Any]],
            actor: str | None, source: Mapping[str, str] | None,
            rows_in_file: int | None = None) -> ImportReport:
    """Append rows, ignoring those already stored or repeated; return added and ignored
    (of `rows_in_file`, by default the rows given)."""
    in_file = len(rows) if rows_in_file is None else rows_in_file
    keys = [c.name for c in table.primary_key.columns]
    unique = list({tuple(r[k] for k in keys): r for r in rows}.values())
    with writing(engine, table, EVENT) as conn:
        before = count_rows(conn, table)
        execute_chunks(conn, insert_ignoring_duplicates(conn, table), unique)
        added = count_rows(conn, table) - before
        report = ImportReport(registry, in_file, added=added, ignored=in_file - added)
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
    # one row per inspection (enterprise, task, department, day): a file naming it twice
    # gives the inspectors of both rows; one already stored keeps what it recorded
    named: dict[tuple[str, str, str, date], set[str]] = {}
    for r in records:
        named.setdefault((r.enterprise_id, r.task, r.department, r.inspected_on),
                         set()).update(r.inspectors)
    rows = [{"enterprise_id": e, "task": t, "department": d, "inspected_on": day,
             "inspectors": ";".join(sorted(named[(e, t, d, day)]))}
            for e, t, d, day in named]
    return _append(engine, HISTORY, "history", rows, actor, source, len(records))


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
