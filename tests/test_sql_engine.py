"""The SQL draw engine (`plan --engine sql`): PostgreSQL computes the same plan, byte for byte.

Runs with SPOTCHECK_TEST_PG set to a PostgreSQL URL of a role that may create databases;
without it these tests are skipped, unless CI is set, where they fail instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from builders import CITY_POLICY, Scenario, city, store_scenario
from click.testing import CliRunner
from conftest import _fresh_postgres_database, postgres_server

import spotcheck
from spotcheck import store
from spotcheck.cli.main import main
from spotcheck.demo import synthetic_city
from spotcheck.models.policy import Policy, load_policy
from spotcheck.models.registry import Registry
from spotcheck.store.database import open_database
from spotcheck.store.sql_draw import load_registry_and_draws

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
