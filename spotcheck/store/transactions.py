"""Transactions for readers and writers: one consistent snapshot, or the write lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.exc import OperationalError

from spotcheck.errors import SpotcheckError
from spotcheck.store.database import WRITE_LOCK

# PostgreSQL takes table locks in this order, whatever order a writer names them in, so
# two writers never wait on each other in a cycle; the event log is always locked last.
_LAST = "event_log"


@contextmanager
def writing(engine: Engine, *tables: Table) -> Iterator[Connection]:
    """Yield a connection in a transaction that holds the write lock on `tables`.

    What a writer reads first (the rows it diffs against, the active plan, the head of the
    event log) cannot change before it commits: SQLite takes its write lock at BEGIN
    IMMEDIATE; PostgreSQL locks the tables in SHARE ROW EXCLUSIVE mode (readers go on,
    other writers wait their turn).
    """
    ordered = sorted(set(tables), key=lambda t: (t.name == _LAST, t.name))
    try:
        with engine.connect() as conn:
            conn.execution_options(**{WRITE_LOCK: True})
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    names = ", ".join(conn.dialect.identifier_preparer.format_table(t)
                                      for t in ordered)
                    conn.exec_driver_sql(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
                yield conn
    except OperationalError as exc:
        if "locked" in str(exc.orig) or "busy" in str(exc.orig):
            raise SpotcheckError("the database is busy with another import or plan; "
                                 "nothing was changed, try again in a moment") from exc
        raise


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """Yield a connection whose reads all see one consistent state of the database."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():  # SQLite: one read transaction is one snapshot
            yield conn
