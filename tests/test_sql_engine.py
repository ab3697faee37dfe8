"""The SQL draw engine (`plan --engine sql`): PostgreSQL computes the same plan, byte for byte.

`store.sql_draw` writes eligibility (scope, the cooldown rule) and the draw-v1 order a second
time, in SQL, on purpose (DESIGN §9). Two kinds of test tie it to the pipeline:

- `draws_in` against `scheduler.eligibility.strata_for_quarter` + `scheduler.draw.order_strata`
  on random small registries (history at the cooldown edges, both cooldown scopes, tiers
  without a round, scoped tasks) and on a fixed cooldown edge. These run by default on DuckDB
  (a test dependency, no server) and, with SPOTCHECK_TEST_PG set, on PostgreSQL too. DuckDB
  runs sql_draw's query text as written, through a thin shim: three macros for PostgreSQL
  spellings it lacks (convert_to(…, 'UTF8'), encode(…, 'hex'), unnest of three arrays in FROM)
  and `$name` for `:name` parameters; the cooldown predicate, the scope prefixes, the
  COLLATE "C" order are the query's own. A skip without a server would leave the second
  implementation unchecked on most runs; the shim is small enough to read in full below.
- Whole plans through the stored schema and `plan --engine sql`, which need PostgreSQL: they
  run with SPOTCHECK_TEST_PG set to a PostgreSQL URL of a role that may create databases;
  without it they are skipped, unless CI is set, where they fail instead (as the PostgreSQL
  case of the `draws_in` tests does).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest
from builders import (
    CITY_POLICY,
    TASK_TEMPLATES,
    PolicySpec,
    Scenario,
    TierSpec,
    city,
    cooldown_scenarios,
    enterprise,
    lawful_scenarios,
    store_scenario,
)
from click.testing import CliRunner
from conftest import _fresh_postgres_database, postgres_server
from hypothesis import assume, given
from sqlalchemy import TextClause
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import spotcheck
from spotcheck import store
from spotcheck.cli.main import main
from spotcheck.demo import synthetic_city
from spotcheck.models.policy import Policy, load_policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.draw import Ordering, order_strata
from spotcheck.scheduler.eligibility import Stratum, strata_for_quarter
from spotcheck.store.database import open_database
from spotcheck.store.sql_draw import draws_in, load_registry_and_draws

CREATED_AT = "2026-01-01T00:00:00Z"
SOFTWARE = {"spotcheck": "test"}


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database, or a skip (a failure under CI) without SPOTCHECK_TEST_PG."""
    yield from _fresh_postgres_database(postgres_server())


def _store_registry(url: str, registry: Registry) -> None:
    engine = open_database(url)
    store.import_enterprises(engine, registry.enterprises)
    store.import_inspectors(engine, list(registry.inspectors))
    store.import_conflicts(engine, list(registry.conflicts))
    store.import_history(engine, registry.history.records())
    engine.dispose()


def _assert_same_bundles(url: str, policy: Policy, policy_bytes: bytes, quarter: str,
                         seed: str) -> None:
    """Plan from the stored registry with both engines; every bundle file must be equal."""
    engine = open_database(url)
    try:
        registry, draws = load_registry_and_draws(engine, policy, quarter,
                                                  spotcheck.seed_hash(seed))
    finally:
        engine.dispose()
    python_plan = spotcheck.plan_quarter(registry, policy, quarter, seed)
    sql_plan = spotcheck.plan_quarter(registry, policy, quarter, seed, draws=draws)
    python_files = spotcheck.build_bundle(python_plan, registry, policy_bytes,
                                          created_at=CREATED_AT, software=SOFTWARE).files
    sql_files = spotcheck.build_bundle(sql_plan, registry, policy_bytes,
                                       created_at=CREATED_AT, software=SOFTWARE).files
    assert sorted(sql_files) == sorted(python_files)
    for name, data in python_files.items():
        assert sql_files[name] == data, name
    assert python_plan.draws, "the comparison must cover a non-empty draw"


def _scoped(sc: Scenario, cooldown_scope: str) -> Scenario:
    """Return the city with GS-QY limited to 330105 and SP-JY to one industry prefix."""
    tasks = list(CITY_POLICY.tasks)
    tasks[0] = (*tasks[0][:5], ("330105",))
    tasks[1] = (*tasks[1][:3], ("F52",), *tasks[1][4:])
    spec = dataclasses.replace(CITY_POLICY, cooldown_scope=cooldown_scope, tasks=tuple(tasks))
    return dataclasses.replace(sc, spec=spec)


@pytest.mark.parametrize("variant", ["city", "task-scope", "scoped-any", "scoped-task"])
def test_city_bundles_identical(pg_url: str, variant: str) -> None:
    """The fixed city's bundle is byte-identical from the SQL and Python engines."""
    sc = city()
    if variant == "task-scope":
        sc = dataclasses.replace(sc, spec=dataclasses.replace(CITY_POLICY,
                                                              cooldown_scope="task"))
    elif variant.startswith("scoped"):
        sc = _scoped(sc, variant.removeprefix("scoped-"))
    store_scenario(pg_url, sc)
    _assert_same_bundles(pg_url, sc.policy, sc.policy_bytes, sc.quarter, sc.seed)


@pytest.mark.parametrize("variant", ["shipped", "scoped-task"])
def test_synthetic_city_bundles_identical(pg_url: str, variant: str) -> None:
    """A 5,000-enterprise synthetic city plans identically on both engines, all quarters' rules."""
    _, policy_bytes = load_policy()
    if variant == "scoped-task":
        text = policy_bytes.decode()
        text = text.replace('cooldown_scope = "any"', 'cooldown_scope = "task"', 1)
        text = text.replace("jurisdictions = []", 'jurisdictions = ["330106", "33011"]', 1)
        assert text != policy_bytes.decode()
        policy_bytes = text.encode()
    policy = spotcheck.parse_policy(policy_bytes.decode())
    _store_registry(pg_url, synthetic_city(5000))
    for quarter in ("2026Q3", "2026Q4"):
        _assert_same_bundles(pg_url, policy, policy_bytes, quarter,
                             "20261001-0394857261-5520183746")


def test_cli_plan_engine_sql_matches_python(pg_url: str, tmp_path: Path) -> None:
    """`plan --engine sql` on PostgreSQL writes the same draws, skips and teams as python."""
    store_scenario(pg_url, city())
    policy = tmp_path / "policy.toml"
    policy.write_bytes(city().policy_bytes)
    outputs = {}
    for engine in ("python", "sql"):
        out = tmp_path / engine
        result = CliRunner().invoke(main, [
            "--db", pg_url, "-q", "plan", "--quarter", "2026Q4", "--seed",
            city().seed, "--policy", str(policy), "--out", str(out), "--replace",
            "--engine", engine])
        assert result.exit_code == 0, result.output
        outputs[engine] = {name: (out / name).read_bytes() for name in
                           ("strata.csv", "draws.csv", "skipped.csv", "visits.csv",
                            "assignments.csv") if (out / name).exists()}
    assert outputs["sql"] == outputs["python"]
    assert "draws.csv" in outputs["sql"]


def test_cli_engine_sql_refuses_sqlite(tmp_path: Path) -> None:
    """`plan --engine sql` on SQLite exits 1 and says PostgreSQL is needed."""
    result = CliRunner().invoke(main, [
        "--db", f"sqlite:///{tmp_path / 'spotcheck.db'}", "plan", "--quarter", "2026Q4",
        "--seed", "20261001-0394857261-5520183746", "--out", str(tmp_path / "out"),
        "--engine", "sql"])
    assert result.exit_code == 1
    assert "PostgreSQL" in result.output
    assert not (tmp_path / "out").exists()


# -- draws_in against the pipeline, on DuckDB and PostgreSQL ----------------------------------

Opener = Callable[[Registry], AbstractContextManager[Any]]

# The dialect shim: what PostgreSQL spells differently, as DuckDB macros.
_DUCKDB_SHIM = (
    # DuckDB's sha256 hashes a string's UTF-8 bytes and returns lower-case hex itself.
    "CREATE MACRO convert_to(value, encoding) AS CASE WHEN encoding = 'UTF8' THEN value "
    "ELSE error('the shim converts to UTF8 only') END",
    "CREATE MACRO encode(digest, format) AS CASE WHEN format = 'hex' THEN digest "
    "ELSE error('the shim encodes hex only') END",
    # PostgreSQL's unnest(a, b, c) in FROM: the arrays' elements side by side.
    "CREATE MACRO unnest(first, second := NULL, third := NULL) AS TABLE "
    "SELECT unnest(first), unnest(second), unnest(third)",
)
# The columns of the `enterprise` and `inspection_history` tables the query reads.
_DUCKDB_TABLES = (
    "CREATE TABLE enterprise (enterprise_id VARCHAR PRIMARY KEY, name VARCHAR, "
    "jurisdiction VARCHAR, industry VARCHAR, tier VARCHAR)",
    "CREATE TABLE inspection_history (enterprise_id VARCHAR, task VARCHAR, "
    "department VARCHAR, inspected_on DATE, inspectors VARCHAR)",
)


def _registry_rows(registry: Registry) -> dict[str, list[dict[str, Any]]]:
    """Return the registry's enterprise and inspection_history table rows, by table."""
    ent = registry.enterprises
    return {"enterprise": [ent.record(i).model_dump() for i in range(len(ent))],
            "inspection_history": [{**h.model_dump(), "inspectors": ";".join(h.inspectors)}
                                   for h in registry.history.records()]}


class _Rows:
    """A query result, as much of it as draws_in reads."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self._rows = rows

    def all(self) -> list[tuple[Any, ...]]:
        """Return every row."""
        return self._rows


class DuckDBConnection:
    """Just enough of a SQLAlchemy Connection for `sql_draw.draws_in`, over in-memory DuckDB."""

    dialect = SimpleNamespace(name="postgresql")  # spoken, for this query, through the shim

    def __init__(self, registry: Registry) -> None:
        self.db = duckdb.connect()
        for statement in _DUCKDB_TABLES:
            self.db.execute(statement)
        for table, rows in _registry_rows(registry).items():
            if rows:  # one statement per table: each column a list parameter, unnested
                columns = list(rows[0])
                lists = ", ".join(f"unnest(${k})" for k in range(1, len(columns) + 1))
                self.db.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {lists}",
                                [[row[c] for row in rows] for c in columns])
        for statement in _DUCKDB_SHIM:  # after loading: the shim's unnest shadows DuckDB's
            self.db.execute(statement)

    def exec_driver_sql(self, statement: str) -> None:
        """Accept PostgreSQL's JIT setting, the one statement draws_in sends as is."""
        assert statement == "SET LOCAL jit = off", statement

    def execute(self, clause: TextClause, parameters: dict[str, Any]) -> _Rows:
        """Run the query with DuckDB's `$name` for each `:name` parameter."""
        query = re.sub(r"(?<![:\w]):(\w+)", r"$\1", clause.text)
        return _Rows(self.db.execute(query, parameters).fetchall())


@contextmanager
def _duckdb_connection(registry: Registry) -> Iterator[DuckDBConnection]:
    """Yield a fresh in-memory DuckDB holding the registry."""
    conn = DuckDBConnection(registry)
    try:
        yield conn
    finally:
        conn.db.close()


@contextmanager
def _postgres_connection(engine: Engine, registry: Registry) -> Iterator[Connection]:
    """Yield a connection to spotcheck's PostgreSQL tables holding the registry, in a
    transaction rolled back afterwards."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            for table, rows in _registry_rows(registry).items():
                if rows:
                    conn.execute(SQLModel.metadata.tables[table].insert(), rows)
            yield conn
        finally:
            transaction.rollback()


@pytest.fixture(scope="module", params=["duckdb", "postgresql"])
def sql_database(request: pytest.FixtureRequest) -> Iterator[Opener]:
    """Open a connection holding a registry: DuckDB, or a fresh PostgreSQL database (skipped
    without SPOTCHECK_TEST_PG, a failure under CI)."""
    if request.param == "duckdb":
        yield _duckdb_connection
        return
    databases = _fresh_postgres_database(postgres_server())
    engine = open_database(next(databases))
    try:
        yield functools.partial(_postgres_connection, engine)
    finally:
        engine.dispose()
        databases.close()


def _stratum_fields(stratum: Stratum) -> tuple[Any, ...]:
    return (stratum.key, stratum.population, stratum.eligible.tolist(),
            stratum.excluded.tolist())


def _order_fields(ordering: Ordering) -> tuple[list[int], list[bytes]]:
    return ordering.rows.tolist(), ordering.tickets.tolist()


def _assert_draws_in_is_the_pipeline(conn: Any, registry: Registry, policy: Policy,
                                     quarter: str, seed: str) -> list[Stratum]:
    """Assert draws_in gives strata_for_quarter's strata and order_strata's draw orders;
    return the strata."""
    digest = spotcheck.seed_hash(seed)
    strata, orderings = draws_in(conn, registry, policy, quarter, digest)
    expected = strata_for_quarter(registry, policy, Quarter.parse(quarter))
    assert [_stratum_fields(s) for s in strata] == [_stratum_fields(s) for s in expected]
    expected_orders = order_strata(registry, expected, digest, quarter)
    assert {k: _order_fields(o) for k, o in orderings.items()} == {
        k: _order_fields(o) for k, o in expected_orders.items()}
    return strata


@given(sc=cooldown_scenarios())
def test_draws_in_is_the_pipeline_on_generated_registries(sql_database: Opener,
                                                          sc: Scenario) -> None:
    """SQL eligibility and draw order equal the pipeline's, history at the cooldown edges."""
    with sql_database(sc.registry) as conn:
        _assert_draws_in_is_the_pipeline(conn, sc.registry, sc.policy, sc.quarter, sc.seed)


@given(sc=lawful_scenarios())
def test_draws_in_is_the_pipeline_with_annual_caps(sql_database: Opener, sc: Scenario) -> None:
    """SQL eligibility equals the pipeline's under annual caps, counting the year's history
    and the other active plans' visits, and so does the draw order."""
    assume(sc.spec.annual_caps)
    with sql_database(sc.registry) as conn:
        _assert_draws_in_is_the_pipeline(conn, sc.registry, sc.policy, sc.quarter, sc.seed)


@pytest.mark.parametrize("scope", ["any", "task"])
def test_draws_in_cooldown_edges(sql_database: Opener, scope: str) -> None:
    """On the cooldown's first day an inspection excludes, the day before it does not, another
    task's only under scope "any", and cooldown_months = 0 excludes nobody, in SQL as in Python."""
    spec = PolicySpec(2, scope, (TierSpec("A", 0.5, 0.0, (4,), 6, 1),     # since 2026-04-01
                                 TierSpec("B", 0.5, 0.0, (1,), 6, 2),     # no round in Q4
                                 TierSpec("C", 0.5, 0.0, (4,), 0, 3)),    # no cooldown
                      (TASK_TEMPLATES[0] + ((),),))
    rows = [enterprise(i, "330102", "ABC"[i // 5]) for i in range(1, 15)]
    inspected = {1: ("GS-QY", date(2026, 4, 1)), 2: ("GS-QY", date(2026, 3, 31)),
                 3: ("OLD-2019", date(2026, 4, 1)), 6: ("GS-QY", date(2026, 9, 30)),
                 11: ("GS-QY", date(2026, 9, 30))}
    history = [spotcheck.HistoryRecord(enterprise_id=rows[i - 1].enterprise_id, task=task,
                                       department="SCJG", inspected_on=day)
               for i, (task, day) in inspected.items()]
    registry = Registry.build(rows, (), (), history)
    policy = spotcheck.parse_policy(spec.text())
    with sql_database(registry) as conn:
        strata = _assert_draws_in_is_the_pipeline(conn, registry, policy, "2026Q4", "edge")
    ids = registry.enterprises.ids
    excluded = {s.tier: sorted(ids[s.excluded].astype(str).tolist()) for s in strata}
    cooled = [1, 3] if scope == "any" else [1]
    assert excluded == {"A": [rows[i - 1].enterprise_id for i in cooled], "C": []}
