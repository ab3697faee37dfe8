"""Real processes against one database: two plans racing for a quarter, and kill -9 in the
middle of an import or a plan. Run on SQLite and, with SPOTCHECK_TEST_PG, PostgreSQL.

The commands run as the `spotcheck` console script, as a bureau runs them (`python -m
spotcheck` is the same entry point). PostgreSQL children get `lock_timeout` through PGOPTIONS,
so a lock left behind by a killed writer fails a test instead of hanging it.
"""

from __future__ import annotations

import csv
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from spotcheck import store
from spotcheck.demo import synthetic_city
from spotcheck.models.events import Event
from spotcheck.store.database import get_engine, open_database
from spotcheck.store.eventlog import EVENT, check_log
from spotcheck.store.transactions import reading, writing

pytestmark = pytest.mark.skipif(sys.platform != "linux",
                                reason="uses SIGKILL and /proc to watch the processes")

SPOTCHECK = Path(sys.executable).with_name("spotcheck")
QUARTER = "2026Q4"
CHILD_ENV = {**os.environ, "PGOPTIONS": "-c lock_timeout=30s"}
DEADLINE = 120.0  # seconds any one command may take before the test gives up on it
# the stored plan tables and the bundle file holding the same rows
PLAN_FILES = {"plan_stratum": "strata.csv", "plan_draw": "draws.csv",
              "plan_skip": "skipped.csv", "plan_assignment": "assignments.csv"}


# --- set-up ----------------------------------------------------------------------------


@pytest.fixture()
def spawn() -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """Start `spotcheck ARGS…` in its own process; any still running at the end is killed."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        process = subprocess.Popen([str(SPOTCHECK), *args], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def spotcheck(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `spotcheck ARGS…` to completion."""
    return subprocess.run([str(SPOTCHECK), *args], capture_output=True, text=True,
                          env=CHILD_ENV, timeout=DEADLINE, check=False)


def load_city(url: str, enterprises: int) -> None:
    """Store a synthetic city's four registries, as four imports."""
    city = synthetic_city(enterprises)
    engine = open_database(url)
    try:
        store.import_enterprises(engine, city.enterprises, actor="test")
        store.import_inspectors(engine, city.inspectors, actor="test")
        store.import_conflicts(engine, city.conflicts, actor="test")
        store.import_history(engine, city.history.records(), actor="test")
    finally:
        engine.dispose()


def write_enterprises_csv(path: Path, enterprises: int) -> Path:
    """Write a synthetic city's enterprises as an import file."""
    columns = synthetic_city(enterprises).enterprises
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(store.sql.ENTERPRISE_COLUMNS)
        out.writerows(zip((i.decode() for i in columns.ids), columns.names.tolist(),
                          (j.decode() for j in columns.jurisdictions),
                          (i.decode() for i in columns.industries),
                          (t.decode() for t in columns.tiers), strict=True))
    return path


@pytest.fixture(scope="module")
def big_enterprises(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An enterprises file of 300,000 rows: its import writes for about a second."""
    return write_enterprises_csv(tmp_path_factory.mktemp("files") / "enterprises.csv",
                                 300_000)


# --- looking at the database and the processes -------------------------------------------


def contents(url: str) -> dict[str, tuple[int, str]]:
    """Return each table's row count and the SHA-256 of all its rows in key order."""
    engine = get_engine(url)
    try:
        with reading(engine) as conn:
            tables = {}
            for table in SQLModel.metadata.sorted_tables:
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
                tables[table.name] = (len(rows), digest)
            return tables
    finally:
        engine.dispose()


def event_log(url: str) -> list[Event]:
    """Return the stored event log, failing if a link is broken."""
    engine = get_engine(url)
    try:
        events, broken = check_log(engine)
    finally:
        engine.dispose()
    assert not broken, broken
    return events


def assert_log_verifies(url: str, events: int) -> None:
    """`spotcheck log verify` passes and counts this many events."""
    result = spotcheck("--db", url, "log", "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"event log intact: {events} event(s)" in result.stdout


def other_sessions(url: str) -> int:
    """Return how many other PostgreSQL sessions are connected to this database."""
    engine = get_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one())
    finally:
        engine.dispose()


def assert_no_writer_left(url: str) -> None:
    """Nothing holds the write lock: a killed writer left no lock and no open transaction."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(make_url(url).database or "", timeout=0,
                                     isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")  # "database is locked" if a lock remains
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    # the server ends a dead client's session (and rolls it back) once it reads EOF
    waited = time.monotonic() + 10
    while other_sessions(url) and time.monotonic() < waited:
        time.sleep(0.05)
    assert other_sessions(url) == 0, "the killed writer's session is still open"


def cpu_seconds(pid: int) -> float:
    """Return the CPU time (user + system) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def waiting_for_lock(url: str, processes: list[subprocess.Popen[str]]) -> bool:
    """Return whether every process is alive and waiting for the write lock.

    PostgreSQL says so (wait_event_type 'Lock'); on SQLite a waiter sleeps in the busy
    handler, so its CPU time stands still while planning would use a whole core.
    """
    if any(p.poll() is not None for p in processes):
        return False
    if url.startswith("postgresql"):
        engine = get_engine(url)
        try:
            with engine.connect() as conn:
                waiting = conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'")).scalar_one()
        finally:
            engine.dispose()
        return int(waiting) == len(processes)
    before = [cpu_seconds(p.pid) for p in processes]
    time.sleep(0.3)
    return all(p.poll() is None for p in processes) and \
        [cpu_seconds(p.pid) for p in processes] == before and min(before) > 0.5


def wait_until(condition: Callable[[], bool], what: str, interval: float = 0.002) -> None:
    """Poll until the condition holds, failing after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(interval)


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    """Wait for the process; return its exit code, stdout and stderr."""
    out, err = process.communicate(timeout=DEADLINE)
    return process.returncode, out, err


def kill(process: subprocess.Popen[str]) -> None:
    """Kill -9 the process, which must still have been running."""
    assert process.poll() is None, "the command finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    assert finish(process)[0] == -signal.SIGKILL


def stored_plans(url: str) -> tuple[list[tuple[str, str]], dict[str, dict[str, int]]]:
    """Return the stored plans as (plan_id, status), and each plan table's rows by plan_id."""
    engine = get_engine(url)
    try:
        with reading(engine) as conn:
            plans = [(r.plan_id, r.status) for r in conn.execute(select(store.PLAN))]
            parts = {}
            for table, _, _ in store.PLAN_PARTS:
                parts[table.name] = {plan_id: n for plan_id, n in conn.execute(
                    select(table.c.plan_id, func.count()).group_by(table.c.plan_id))}
            return plans, parts
    finally:
        engine.dispose()


def csv_rows(path: Path) -> int:
    """Return the number of data rows (after the header) of a bundle CSV file."""
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


# --- two plans at once ------------------------------------------------------------------


@pytest.mark.parametrize("barrier", [True, False], ids=["both-wait-for-lock", "free-start"])
def test_two_plans_at_once_store_exactly_one(db_url: str, tmp_path: Path, spawn: Callable[
        ..., subprocess.Popen[str]], barrier: bool) -> None:
    """Two simultaneous plans of a quarter: one stores plan and bundle, the other exits 1
    saying so and leaves no row, event or bundle behind."""
    load_city(db_url, 20_000)
    before = event_log(db_url)
    outs = [tmp_path / "planner-a" / "bundle", tmp_path / "planner-b" / "bundle"]
    engine = get_engine(db_url)
    try:
        # With the barrier the test holds the write lock until both commands have planned
        # and wait to store, so both have read "no active plan" and race for the lock.
        with writing(engine, store.PLAN, EVENT) if barrier else nullcontext():
            runs = [spawn("--db", db_url, "plan", "--quarter", QUARTER, "--seed", seed,
                          "--out", str(out)) for seed, out in zip(("S1", "S2"), outs,
                                                                  strict=True)]
            if barrier:
                wait_until(lambda: waiting_for_lock(db_url, runs),
                           "both plans wait for the write lock", interval=0.05)
    finally:
        engine.dispose()
    results = [finish(run) for run in runs]

    assert sorted(code for code, _, _ in results) == [0, 1], results
    winner = next(i for i, (code, _, _) in enumerate(results) if code == 0)
    loser = 1 - winner
    message = results[loser][2]
    assert message.startswith("spotcheck: ") and "nothing was stored" in message
    assert "already the active plan" in message or "at the same time" in message
    assert not outs[loser].exists()
    assert list(outs[loser].parent.iterdir()) == []  # not even a hidden staging folder
    assert [p.name for p in outs[winner].parent.iterdir()] == [outs[winner].name]

    plans, parts = stored_plans(db_url)
    assert len(plans) == 1 and plans[0][1] == "active"
    plan_id = plans[0][0]
    for table, rows_by_plan in parts.items():
        assert set(rows_by_plan) <= {plan_id}, f"{table} holds rows of another plan"
        assert rows_by_plan.get(plan_id, 0) == csv_rows(outs[winner] / PLAN_FILES[table])
    assert parts["plan_draw"][plan_id] > 0 and parts["plan_assignment"][plan_id] > 0
    engine = get_engine(db_url)
    try:
        with reading(engine) as conn:
            manifest = conn.execute(select(store.PLAN.c.manifest)).scalar_one()
    finally:
        engine.dispose()
    assert (outs[winner] / "manifest.json").read_text(encoding="utf-8") == manifest

    events = event_log(db_url)
    assert events[:len(before)] == before
    added = events[len(before):]  # the plan's event, after a policy event on first use
    assert [e.kind for e in added] in (["plan"], ["policy", "plan"])
    assert added[-1].payload["plan_id"] == plan_id
    assert_log_verifies(db_url, len(events))


# --- kill -9 ----------------------------------------------------------------------------


def test_kill_during_import_leaves_the_database_as_it_was(
        db_url: str, tmp_path: Path, big_enterprises: Path,
        spawn: Callable[..., subprocess.Popen[str]]) -> None:
    """kill -9 while an import writes its rows leaves every table and the event log exactly
    as before, no lock behind, and the same import then succeeds."""
    load_city(db_url, 2_000)
    before, events = contents(db_url), event_log(db_url)
    assert before["enterprise"][0] == 2_000
    wal = Path(f"{make_url(db_url).database}-wal")
    wal_before = wal.stat().st_size if wal.exists() else 0

    watcher = get_engine(db_url)

    def writing_rows() -> bool:
        """Whether the import is inside its transaction, part-way through its rows."""
        if db_url.startswith("sqlite"):
            # uncommitted pages spill into the WAL; the whole import writes ~30 MB there
            return wal.exists() and wal.stat().st_size > wal_before + (4 << 20)
        with watcher.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND query LIKE 'COPY enterprise%'")).scalar_one())

    run = spawn("--db", db_url, "import", "enterprises", str(big_enterprises))
    try:
        wait_until(writing_rows, "the import writes rows")
    finally:
        watcher.dispose()
    kill(run)

    assert contents(db_url) == before
    assert event_log(db_url) == events
    assert_no_writer_left(db_url)
    assert_log_verifies(db_url, len(events))
    again = spotcheck("--db", db_url, "import", "enterprises", str(big_enterprises))
    assert again.returncode == 0, again.stderr
    assert contents(db_url)["enterprise"][0] == 300_000
    assert_log_verifies(db_url, len(events) + 1)


def test_kill_during_plan_storage_leaves_no_plan_and_no_bundle(
        db_url: str, tmp_path: Path, spawn: Callable[..., subprocess.Popen[str]]) -> None:
    """kill -9 after the bundle is written but before the plan commits leaves no plan rows,
    no plan event and nothing at --out; the same command then stores the plan."""
    load_city(db_url, 50_000)
    before, events = contents(db_url), event_log(db_url)
    out = tmp_path / "bundles" / "plan-2026Q4"
    command = ("--db", db_url, "plan", "--quarter", QUARTER, "--seed", "S1", "--out", str(out))

    def bundle_written() -> bool:
        """Whether the whole bundle is written, in place or staged: the store has begun."""
        try:
            return out.parent.exists() and any(
                path.parent.name == out.name for path in out.parent.rglob("manifest.json"))
        except FileNotFoundError:  # a staging folder was renamed while we looked
            return False

    run = spawn(*command)
    wait_until(bundle_written, "the plan's bundle is written")
    kill(run)

    assert contents(db_url) == before  # no plan, plan rows or event: as before the plan
    assert event_log(db_url) == events
    assert not out.exists()  # a hidden staging folder beside it may remain
    assert all(p.name.startswith(".") for p in out.parent.iterdir())
    assert_no_writer_left(db_url)
    assert_log_verifies(db_url, len(events))

    again = spotcheck(*command)
    assert again.returncode == 0, again.stderr
    assert (out / "manifest.json").exists()
    plans, _ = stored_plans(db_url)
    assert [status for _, status in plans] == ["active"]
    after = event_log(db_url)
    assert [e.kind for e in after[len(events):]] in (["plan"], ["policy", "plan"])
    assert_log_verifies(db_url, len(after))
