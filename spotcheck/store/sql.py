"""The registry and plan tables as SQLAlchemy handles, chunked writes and streamed reads.

Every store module reads and writes through these: CHUNK rows at a time, SELECTs
streamed from the driver's own cursor, so a province's registry is never held twice. The
snapshot's two large tables are read as columns (`column_chunks`): on SQLite joined in the
database and cut by numpy, with no Python object per value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

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
from spotcheck.models.byte_columns import split
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


# Joined in SQLite between the values of a column: the ASCII unit separator, a control
# character, which no stored value may hold (a chunk where one does is read row by row).
SEPARATOR = 0x1F
JOINED_ROWS = 250_000  # rowids read at a time, their values joined into one text per column
LAST_ROWID = (1 << 63) - 1
# Columns whose every valid value has this many characters, joined with no separator.
ENTERPRISE_WIDTHS = {"enterprise_id": 18, "jurisdiction": 6}
HISTORY_WIDTHS = {"enterprise_id": 18, "inspected_on": 10}


def column_chunks(conn: Connection, table: Table, columns: Sequence[str],
                  widths: Mapping[str, int]) -> Iterator[list[np.ndarray] | list[list[Any]]]:
    """Yield the rows of a table a chunk at a time as columns (rows in no particular order).

    On SQLite the values of each column of a chunk are joined into one text in the database
    (by SEPARATOR, or nothing for a column of `widths`) and cut by numpy into an 'S' column
    of UTF-8 bytes: no Python object per value. Elsewhere, and for a chunk one value of
    which cannot be cut so (it holds the separator or a NUL, or is not of its width), the
    chunk is columns of values as stream_columns gives.
    """
    if conn.dialect.name != "sqlite":
        yield from stream_columns(conn, table, columns)
        return
    joined = ", ".join(f"group_concat({c}, '')" if c in widths
                       else f"group_concat({c}, char({SEPARATOR}))" for c in columns)
    odd = " + ".join(f"(length({c}) != {w})" for c, w in widths.items()) or "0"
    where = f"FROM {table.name} WHERE rowid BETWEEN ? AND ?"
    query = f"SELECT count(*), sum({odd}), {joined} {where}"
    raw = conn.connection.dbapi_connection
    assert raw is not None  # a connection inside a transaction is checked out
    cursor: Any = raw.cursor()

    def read(first: int) -> tuple[list[np.ndarray] | list[list[Any]], int | None]:
        """Return the chunk of rowids from `first`, and the first rowid after it (or None)."""
        last = min(first + JOINED_ROWS - 1, LAST_ROWID)
        count, odd_values, *texts = cursor.execute(query, (first, last)).fetchone()
        cut: list[np.ndarray] | list[list[Any]] = [
            column for name, text in zip(columns, texts, strict=True)
            if (column := _joined_column(text, widths.get(name), count)) is not None]
        if odd_values or len(cut) < len(columns):
            rows = cursor.execute(f"SELECT {', '.join(columns)} {where}", (first, last))
            cut = as_columns(rows.fetchall(), len(columns))
        if last == LAST_ROWID:
            return cut, None
        after = f"SELECT min(rowid) FROM {table.name} WHERE rowid > ?"
        return cut, cursor.execute(after, (last,)).fetchone()[0]

    # A file database's connection may be used from another thread: the next chunk is read
    # there while the caller checks this one (SQLite and numpy both let go of the GIL).
    file = conn.engine.url.database not in (None, "", ":memory:")
    pool = ThreadPoolExecutor(1) if file else None
    try:
        (first,) = cursor.execute(f"SELECT min(rowid) FROM {table.name}").fetchone()
        pending = _start(pool, read, first) if first is not None else None
        while pending is not None:
            chunk, first = pending.result()
            pending = _start(pool, read, first) if first is not None else None
            yield chunk
    finally:
        if pool is not None:
            pool.shutdown(wait=True)  # a read still running, when the caller stops early
        cursor.close()


_Read = TypeVar("_Read")


def _start(pool: ThreadPoolExecutor | None, read: Callable[[int], _Read], first: int
           ) -> Future[_Read]:
    """Return read(first) as a future: running in the pool, or done already without one."""
    if pool is not None:
        return pool.submit(read, first)
    done: Future[_Read] = Future()
    done.set_result(read(first))
    return done


def _joined_column(text: str | None, width: int | None, count: int) -> np.ndarray | None:
    """Return `count` values joined by SEPARATOR (or, `width` given, each of that many ASCII
    characters, joined by nothing) as an 'S' column; None if they cannot be told apart (or
    were NULL, which group_concat leaves out)."""
    if text is None:
        return None
    data = text.encode("utf-8")
    if width is None:
        return split(data, SEPARATOR, count)
    if len(data) != width * count or b"\0" in data:
        return None
    return np.frombuffer(data, f"S{width}")


def enterprise_rows(conn: Connection) -> Iterator[list[list[Any]]]:
    """Return the stored enterprises as chunks of five columns in ENTERPRISE_COLUMNS order
    (rows in no particular order), streamed from one SELECT."""
    return stream_columns(conn, ENTERPRISE, ENTERPRISE_COLUMNS)
