"""Shared test set-up: Hypothesis profiles, the fixed scenarios most tests start from, and
the database every database test runs on.

Profiles: `ci` is deterministic (derandomized, ~25 examples); `dev` explores ~100 random
examples; `fuzz` thousands (the long run of the hostile-input harness). `HYPOTHESIS_PROFILE`
picks one; otherwise `ci` when `CI` is set, else `dev`.

Databases: SQLite in a temporary folder; with SPOTCHECK_TEST_PG set to a PostgreSQL URL of
a role that may create databases (e.g. postgresql://postgres:postgres@localhost/postgres),
every test using `db_url` runs there as well, each in a fresh database. With `CI` set, the
PostgreSQL case always runs, and fails if SPOTCHECK_TEST_PG is not set: in CI a test that
needs a server fails, it never disappears.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from builders import Scenario, city
from hostile_inputs import load_good_registry, plan_good_registry

from spotcheck.store.database import get_engine

PG_URL = os.environ.get("SPOTCHECK_TEST_PG")
IN_CI = bool(os.environ.get("CI"))

settings.register_profile(
    "ci", derandomize=True, database=None, max_examples=25, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "dev", max_examples=100, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# The long run of the fuzzing harness (tests/test_hostile_fuzz.py) and every other property:
# random, thousands of examples each, kept in the example database to replay failures.
settings.register_profile(
    "fuzz", max_examples=5_000, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if IN_CI else "dev"))


@pytest.fixture(scope="session")
def city_scenario() -> Scenario:
    """The fixed 90-enterprise scenario with tight capacity, a skip and a cooldown."""
    return city()


@pytest.fixture(scope="session")
def ample_city_scenario() -> Scenario:
    """The fixed scenario with capacity 1000 for every officer."""
    return city(capacity=1000)


def postgres_server() -> str:
    """Return SPOTCHECK_TEST_PG; without it, fail under CI and skip elsewhere."""
    if PG_URL:
        return PG_URL
    if IN_CI:
        pytest.fail("CI=true but SPOTCHECK_TEST_PG is not set: .ci/run starts PostgreSQL")
    pytest.skip("set SPOTCHECK_TEST_PG=postgresql://… to run the PostgreSQL tests")


def _fresh_postgres_database(admin_url: str) -> Generator[str, None, None]:
    name = f"spotcheck_test_{uuid.uuid4().hex[:12]}"
    base = get_engine(admin_url)
    admin = base.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        base.dispose()


@pytest.fixture(params=["sqlite", *(["postgresql"] if PG_URL or IN_CI else [])])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: SQLite in tmp_path, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'spotcheck.db'}"
    else:
        yield from _fresh_postgres_database(postgres_server())


BACKENDS = ["sqlite", *(["postgresql"] if PG_URL or IN_CI else [])]


@pytest.fixture(scope="session")
def loaded_database(tmp_path_factory: pytest.TempPathFactory
                    ) -> Iterator[Callable[[str], str]]:
    """A function giving, per backend ("sqlite", "postgresql"), the URL of one database made
    once a session: the good registry (tests/data/good) and a plan of 2026Q4. For tests that
    must leave it unchanged (refused inputs)."""
    made: dict[str, str] = {}
    servers: list[Generator[str, None, None]] = []

    def loaded(backend: str) -> str:
        if backend not in made:
            if backend == "sqlite":
                url = f"sqlite:///{tmp_path_factory.mktemp('loaded') / 'spotcheck.db'}"
            else:
                servers.append(_fresh_postgres_database(postgres_server()))
                url = next(servers[-1])
            load_good_registry(url)
            plan_good_registry(url, tmp_path_factory.mktemp("plan") / "plan")
            made[backend] = url
        return made[backend]

    yield loaded
    for server in servers:
        next(server, None)  # drops the database
