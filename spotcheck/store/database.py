"""The database engine and `create_db_and_tables()` (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import SQLModel, create_engine

from spotcheck.errors import DatabaseError
from spotcheck.models import tables as tables  # registers every table on SQLModel.metadata

DEFAULT_URL = "sqlite:///spotcheck.db"
ENV_VAR = "SPOTCHECK_DB"

# Execution option a writer sets before beginning, so that on SQLite its transaction takes
# the write lock at BEGIN (BEGIN IMMEDIATE) and it reads what it is about to change under
# that lock; other writers wait (up to SQLITE_BUSY_SECONDS) instead of failing mid-way.
WRITE_LOCK = "spotcheck_write_lock"
SQLITE_BUSY_SECONDS = 60.0
POSTGRES_HINT = ("PostgreSQL support needs the psycopg2 driver: "
                 "pip install 'spotcheck[postgres]'")


def database_url(url: str | None = None) -> str:
    """Return the database URL: `url` if given, else $SPOTCHECK_DB, else ./spotcheck.db."""
    if url:
        return url
    return os.environ.get(ENV_VAR) or DEFAULT_URL


def get_engine(url: str | None = None) -> Engine:
    """Return an engine for the URL (see `database_url`), ready for spotcheck's transactions.

    SQLite gets foreign keys, WAL journalling and real transactions (SQLAlchemy emits BEGIN,
    so a SELECT and the writes after it are one transaction). PostgreSQL needs psycopg2:
    a missing driver raises ImportError naming the extra to install.
    """
    parsed = make_url(database_url(url))
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.drivername == "postgresql":
        # SQLAlchemy 2.1 defaults to psycopg 3; the [postgres] extra installs psycopg2
        parsed = parsed.set(drivername=f"postgresql+{_postgres_driver()}")
    options: dict[str, Any] = {}
    if parsed.drivername == "postgresql+psycopg2":
        # batch UPDATE/DELETE executemany too, and send inserts in larger VALUES pages
        options = {"executemany_mode": "values_plus_batch",
                   "insertmanyvalues_page_size": 5000, "executemany_batch_page_size": 500}
    try:
        return create_engine(parsed, **options)
    except ImportError as exc:
        if parsed.get_backend_name() == "postgresql":
            raise ImportError(f"{POSTGRES_HINT} ({exc})") from exc
        raise


def _postgres_driver() -> str:
    """Return the name of an installed PostgreSQL driver, psycopg2 preferred."""
    for module in ("psycopg2", "psycopg"):
        try:
            __import__(module)
        except ImportError:
            continue
        return module
    raise ImportError(POSTGRES_HINT)


def create_db_and_tables(engine: Engine) -> None:
    """Create every spotcheck table and index that does not exist yet, and add the columns
    added since a table's first release (tables.ADDED_COLUMNS) to a database made before."""
    SQLModel.metadata.create_all(engine)
    existing = set(inspect(engine).get_table_names())
    for table, added in tables.ADDED_COLUMNS.items():
        if table not in existing:
            continue
        found = {column["name"] for column in inspect(engine).get_columns(table)}
        missing = [(name, ddl) for name, ddl in added if name not in found]
        if missing:
            with engine.begin() as conn:
                for name, ddl in missing:
                    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}"))


def shown_url(url: str) -> str:
    """Return a database URL fit to print: its password hidden (the text as given if the URL
    cannot be parsed)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def open_database(url: str | None = None) -> Engine:
    """Return an engine for the URL (see `database_url`) with every table created.

    A URL that cannot be parsed, a database kind spotcheck does not support, a database
    that cannot be opened or reached: a DatabaseError naming the URL (password hidden)
    and the reason, in one line.
    """
    given = database_url(url)
    try:
        backend = make_url(given).get_backend_name()
    except ArgumentError:
        raise DatabaseError(f"--db {given!r} is not a database URL; write e.g. "
                            "sqlite:///spotcheck.db or postgresql://user@host/db") from None
    if backend not in ("sqlite", "postgresql"):
        raise DatabaseError(f"--db {shown_url(given)}: the {backend} database is not "
                            "supported; use SQLite or PostgreSQL")
    try:
        engine = get_engine(given)
        _check_schema(engine, shown_url(given))
        create_db_and_tables(engine)
    except DBAPIError as exc:
        reason = " ".join(str(exc.orig).split()) if exc.orig is not None else str(exc)
        raise DatabaseError(f"--db {shown_url(given)}: cannot open the database: "
                            f"{reason}") from None
    except ImportError as exc:
        raise DatabaseError(f"--db {shown_url(given)}: {exc}") from None
    return engine


def _check_schema(engine: Engine, shown: str) -> None:
    """Refuse a database whose tables of spotcheck's names lack spotcheck's columns (another
    application's database, or a damaged one): spotcheck would fail in the middle of a write."""
    existing = set(inspect(engine).get_table_names())
    for table in SQLModel.metadata.sorted_tables:
        if table.name not in existing:
            continue
        found = {column["name"] for column in inspect(engine).get_columns(table.name)}
        added = {name for name, _ in tables.ADDED_COLUMNS.get(table.name, ())}
        missing = sorted(c.name for c in table.columns if c.name not in found | added)
        if missing:
            raise DatabaseError(f"--db {shown}: its table {table.name!r} lacks the column(s) "
                                f"{', '.join(missing)}: this is not a spotcheck database (or "
                                "not one of this version); use another database")


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Take transaction control away from the sqlite3 module (which never BEGINs before
        # a SELECT); SQLAlchemy's "begin" event below emits BEGIN instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE_LOCK, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
