"""The registry and plan tables as SQLAlchemy handles, chunked writes and streamed reads.

Every store module reads and writes through these: CHUNK rows at a time, SELECTs
streamed from the driver's own cursor, so a province's registry is never held twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import (
    Connection,
    Insert,
    Table,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from spotcheck.errors import SpotcheckError
from spotcheck.models.columns import column_names
from spotcheck.models.registry import as_columns
from spotcheck.models.tables import (
    ConflictRow,
    EnterpriseRow,
    HistoryRow,
    InspectorRow,
    PlanAssignmentRow,
    PlanDrawRow,
    PlanRow,
    PlanSkipRow,
    PlanStratumRow,
)
from spotcheck.scheduler.plan import AssignmentRow, DrawRow, SkipRow, StratumRow

CHUNK = 50_000  # rows written, or read from the database, at a time
ENTERPRISE_COLUMNS = column_names("enterprises")
HISTORY_COLUMNS = column_names("history")

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


def insert_ignoring_duplicates(conn: Connection, table: Table) -> Insert:
    """Return an INSERT that skips rows whose primary key is already stored."""
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    raise SpotcheckError(f"the {conn.dialect.name} database is not supported; "
                         "use SQLite or PostgreSQL")


def execute_chunks(conn: Connection, statement: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Execute `statement` over `rows`, CHUNK rows per round trip."""
    for start in range(0, len(rows), CHUNK):
        conn.execute(statement, list(rows[start:start + CHUNK]))


def count_rows(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def as_text(column: np.ndarray) -> list[str]:
    """Return a bytes ('S') column as a list of str."""
    return column.astype(f"U{column.dtype.itemsize}").tolist()  # 2.5x np.char.decode


def bytes_column(values: Sequence[str], width: int) -> np.ndarray:
    return np.array(values, dtype=f"S{width}") if len(values) else np.empty(0, f"S{width}")


def stream_columns(conn: Connection, table: Table, columns: Sequence[str],
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


def enterprise_rows(conn: Connection) -> Iterator[list[list[Any]]]:
    """Return the stored enterprises as chunks of five columns in ENTERPRISE_COLUMNS order
    (rows in no particular order), streamed from one SELECT."""
    return stream_columns(conn, ENTERPRISE, ENTERPRISE_COLUMNS)
