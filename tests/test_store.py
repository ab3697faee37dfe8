"""The database adapter: snapshot imports and their reports, appends, the registry, plans.

Runs on SQLite in a temporary folder; set SPOTCHECK_TEST_PG to a PostgreSQL URL of a role
that may create databases (e.g. postgresql://postgres:postgres@localhost/postgres) to run
every database test there as well, each in a fresh database (the `db_url` fixture of
conftest.py).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from builders import city, enterprise, enterprise_id, inspector
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import Engine, Table, select

from spotcheck import store
from spotcheck.errors import InfeasiblePlanError, InvalidInputError, SpotcheckError
from spotcheck.models import Conflict, Enterprise, HistoryRecord
from spotcheck.models.policy import load_policy
from spotcheck.models.registry import EnterpriseColumns, Registry
from spotcheck.scheduler.plan import Plan, plan_quarter
from spotcheck.store.database import create_db_and_tables, database_url, get_engine

Row = tuple[Any, ...]


# --- fixtures and helpers --------------------------------------------------------------


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database with every table created."""
    made = get_engine(db_url)
    create_db_and_tables(made)
    yield made
    made.dispose()


def columns(records: list[Enterprise]) -> EnterpriseColumns:
    """Return enterprise columns as an import file gives them."""
    return EnterpriseColumns.from_records(records)


def rows_of(engine: Engine, table: Table, where: Any = None) -> list[Row]:
    """Return a table's rows (optionally filtered) as sorted tuples."""
    query = select(table) if where is None else select(table).where(where)
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(query))


def as_rows(records: list[Enterprise]) -> list[Row]:
    """Return enterprise records as the sorted rows they are stored as."""
    return sorted((e.enterprise_id, e.name, e.jurisdiction, e.industry, e.tier)
                  for e in records)


def retier(record: Enterprise, tier: str) -> Enterprise:
    """Return the enterprise with another tier."""
    return record.model_copy(update={"tier": tier})


# a name with what CSV (PostgreSQL COPY) must quote, and an empty industry (not NULL)
BASE = [enterprise(1, tier="B").model_copy(update={"name": '甲,"乙"、丙公司'}),
        enterprise(2, tier="B", industry=""),
        *(enterprise(i, tier="B") for i in range(3, 11))]


# --- enterprise snapshots --------------------------------------------------------------


def test_first_import_adds_every_enterprise(engine: Engine) -> None:
    """A first snapshot reports every row as added and stores exactly the file."""
    report = store.import_enterprises(engine, columns(BASE))
    assert (report.added, report.removed, report.changed, report.unchanged) == (10, 0, 0, 0)
    assert report.tier_changes == ()
    assert rows_of(engine, store.ENTERPRISE) == as_rows(BASE)


@pytest.mark.parametrize("share", [0.0, 1.0], ids=["reload", "diff"])
def test_reimport_replaces_snapshot_and_reports_the_diff(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, share: float) -> None:
    """A re-import leaves exactly the new file and counts added, removed, changed, tier moves."""
    monkeypatch.setattr(store.imports, "DIFF_APPLY_SHARE", share)
    store.import_enterprises(engine, columns(BASE))
    renamed = BASE[4].model_copy(update={"name": "新名称有限公司"})
    new = [retier(BASE[2], "C"), retier(BASE[3], "C"), renamed, retier(BASE[5], "A"),
           *BASE[6:], enterprise(11), enterprise(12)]
    report = store.import_enterprises(engine, columns(new))
    assert (report.added, report.removed, report.changed, report.unchanged) == (2, 2, 4, 4)
    assert [(c.old, c.new, c.count) for c in report.tier_changes] == [("B", "C", 2),
                                                                      ("B", "A", 1)]
    assert report.tier_changes[0].examples == (BASE[2].enterprise_id, BASE[3].enterprise_id)
    assert rows_of(engine, store.ENTERPRISE) == as_rows(new)
    assert "added 2, removed 2, changed 4, unchanged 4" in report.lines()[0]
    assert f"B→C 2 ({BASE[2].enterprise_id}, {BASE[3].enterprise_id})" in report.lines()[2]


def test_tier_change_examples_are_the_first_twenty_ids(engine: Engine) -> None:
    """A tier move lists its full count but at most 20 example ids, in ascending order."""
    many = [enterprise(i, tier="B") for i in range(1, 31)]
    store.import_enterprises(engine, columns(many))
    report = store.import_enterprises(engine, columns([retier(e, "D") for e in many]))
    (change,) = report.tier_changes
    assert (change.old, change.new, change.count) == ("B", "D", 30)
    assert change.examples == tuple(sorted(e.enterprise_id for e in many))[:20]
    assert "… 25 more" in report.lines()[2]


def test_unsorted_or_repeating_columns_are_refused(engine: Engine) -> None:
    """Columns not built by from_lists (unsorted, repeated ids) are refused before writing."""
    store.import_enterprises(engine, columns(BASE))
    good = columns(BASE[:3])
    backwards = EnterpriseColumns(good.ids[::-1], good.names[::-1], good.jurisdictions[::-1],
                                  good.industries[::-1], good.tiers[::-1])
    with pytest.raises(InvalidInputError, match="sorted by id without repeats"):
        store.import_enterprises(engine, backwards)
    assert rows_of(engine, store.ENTERPRISE) == as_rows(BASE)


@pytest.mark.parametrize("share", [0.0, 1.0], ids=["reload", "diff"])
def test_import_failing_midway_leaves_previous_snapshot(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, share: float) -> None:
    """An import that fails after writing some rows changes nothing that was stored."""
    store.import_enterprises(engine, columns(BASE))
    monkeypatch.setattr(store.imports, "DIFF_APPLY_SHARE", share)
    for module in (store.sql, store.imports, store.snapshot):
        monkeypatch.setattr(module, "CHUNK", 2)
    real = store.imports._enterprise_chunks

    def failing(*args: Any) -> Iterator[list[tuple[str, str, str, str, str]]]:
        for number, chunk in enumerate(real(*args)):
            if number == 1:
                raise RuntimeError("disk full")
            yield chunk

    monkeypatch.setattr(store.imports, "_enterprise_chunks", failing)
    new = [retier(e, "D") for e in BASE[:6]] + [enterprise(i) for i in range(20, 26)]
    with pytest.raises(RuntimeError, match="disk full"):
        store.import_enterprises(engine, columns(new))
    assert rows_of(engine, store.ENTERPRISE) == as_rows(BASE)


class EnterpriseSnapshots(RuleBasedStateMachine):
    """Any sequence of snapshot imports: the database always equals the last file."""

    def __init__(self) -> None:
        super().__init__()
        self.engine = get_engine("sqlite://")
        create_db_and_tables(self.engine)
        self.model: dict[str, Enterprise] = {}

    @rule(rows=st.dictionaries(st.integers(1, 40), st.tuples(
        st.sampled_from("ABCD"), st.sampled_from(("", "新")),
        st.sampled_from(("330102", "330105")))))
    def import_snapshot(self, rows: dict[int, tuple[str, str, str]]) -> None:
        records = [Enterprise(enterprise_id=enterprise_id("330102", serial),
                              name=f"企业{serial}{suffix}", jurisdiction=jurisdiction,
                              industry="F5211", tier=tier)
                   for serial, (tier, suffix, jurisdiction) in rows.items()]
        new = {r.enterprise_id: r for r in records}
        report = store.import_enterprises(self.engine, columns(records))
        kept = new.keys() & self.model.keys()
        changed = {k for k in kept if new[k] != self.model[k]}
        moves: dict[tuple[str, str], int] = {}
        for k in changed:
            pair = (self.model[k].tier, new[k].tier)
            if pair[0] != pair[1]:
                moves[pair] = moves.get(pair, 0) + 1
        assert (report.added, report.removed, report.changed, report.unchanged) == (
            len(new) - len(kept), len(self.model) - len(kept), len(changed),
            len(kept) - len(changed))
        assert {(c.old, c.new): c.count for c in report.tier_changes} == moves
        self.model = new

    @invariant()
    def database_equals_last_snapshot(self) -> None:
        assert rows_of(self.engine, store.ENTERPRISE) == as_rows(list(self.model.values()))

    def teardown(self) -> None:
        self.engine.dispose()


TestEnterpriseSnapshots = EnterpriseSnapshots.TestCase
TestEnterpriseSnapshots.settings = settings(stateful_step_count=8, deadline=None)


# --- inspectors, conflicts, history ----------------------------------------------------


def test_inspector_snapshot_reports_added_removed_changed(engine: Engine) -> None:
    """An inspectors re-import replaces the list and counts each kind of change."""
    first = [inspector(1, qualifications=("食品安全", "特种设备")), inspector(2), inspector(3)]
    report = store.import_inspectors(engine, first)
    assert (report.added, report.removed, report.changed, report.unchanged) == (3, 0, 0, 0)
    second = [first[0], inspector(2, capacity=5), inspector(4)]
    report = store.import_inspectors(engine, second)
    assert (report.added, report.removed, report.changed, report.unchanged) == (1, 1, 1, 1)
    assert "全量更新" in report.lines()[0]
    store.import_enterprises(engine, columns(BASE))
    assert store.load_registry(engine).inspectors == tuple(second)


def test_inspectors_file_repeating_a_certificate_is_refused(engine: Engine) -> None:
    """Two rows with one certificate number are refused and the stored list is kept."""
    store.import_inspectors(engine, [inspector(1)])
    with pytest.raises(InvalidInputError, match="appears twice"):
        store.import_inspectors(engine, [inspector(2), inspector(2, capacity=3)])
    assert [r[0] for r in rows_of(engine, store.INSPECTOR)] == ["INS-0001"]


def test_conflicts_append_ignoring_exact_duplicates(engine: Engine) -> None:
    """Conflicts are appended; rows already stored or repeated in the file are ignored."""
    a, b, c = (Conflict(inspector_id="INS-0001", enterprise_id=BASE[i].enterprise_id,
                        reason="亲属") for i in range(3))
    other_reason = a.model_copy(update={"reason": "曾任职"})
    report = store.import_conflicts(engine, [a, a, b])
    assert (report.added, report.ignored) == (2, 1)
    report = store.import_conflicts(engine, [b, c, other_reason])
    assert (report.added, report.ignored) == (2, 1)
    assert len(rows_of(engine, store.CONFLICT)) == 4
    assert report.lines() == ["conflicts (回避): 3 row(s) appended (追加): added 2, ignored 1 "
                              "duplicate(s) already stored or repeated in the file"]


def test_history_append_ignoring_exact_duplicates(engine: Engine) -> None:
    """History is appended; an identical inspection record is stored once."""
    def visit(i: int, day: date) -> HistoryRecord:
        return HistoryRecord(enterprise_id=BASE[i].enterprise_id, task="GS-QY",
                             department="SCJG", inspected_on=day)

    report = store.import_history(engine, [visit(0, date(2026, 1, 5)), visit(1, date(2026, 1, 5))])
    assert (report.added, report.ignored) == (2, 0)
    report = store.import_history(engine, [visit(0, date(2026, 1, 5)), visit(0, date(2026, 2, 5)),
                                           visit(0, date(2026, 2, 5))])
    assert (report.added, report.ignored) == (1, 2)
    assert len(rows_of(engine, store.HISTORY)) == 3


def test_known_ids_returns_stored_enterprises_and_inspectors(engine: Engine) -> None:
    """known_ids gives the ids a conflicts file may name."""
    store.import_enterprises(engine, columns(BASE[:2]))
    store.import_inspectors(engine, [inspector(7)])
    assert store.known_ids(engine) == ({e.enterprise_id for e in BASE[:2]}, {"INS-0007"})


# --- the registry snapshot -------------------------------------------------------------


def test_load_registry_round_trips_and_plans_identically(engine: Engine) -> None:
    """The registry read back equals the one imported, so it plans the identical quarter."""
    scenario = city()
    store.import_enterprises(engine, columns(list(scenario.enterprises)))
    store.import_inspectors(engine, list(scenario.inspectors))
    store.import_conflicts(engine, list(scenario.conflicts))
    store.import_history(engine, list(scenario.history))
    loaded, expected = store.load_registry(engine), scenario.registry
    for name in ("ids", "names", "jurisdictions", "industries", "tiers"):
        assert np.array_equal(getattr(loaded.enterprises, name),
                              getattr(expected.enterprises, name)), name
    assert loaded.inspectors == expected.inspectors
    assert loaded.conflicts == expected.conflicts
    assert loaded.history.records() == expected.history.records()
    mine = plan_quarter(loaded, scenario.policy, scenario.quarter, scenario.seed)
    assert (mine.draws, mine.assignments) == (scenario.plan.draws, scenario.plan.assignments)


def test_load_registry_streams_in_chunks(engine: Engine, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """Read three rows at a time, the registry is the one imported: names (four-byte
    characters, commas, quotes) exact in a StringDType column, history in canonical order
    whatever order it was stored in."""
    for module in (store.sql, store.imports, store.snapshot):
        monkeypatch.setattr(module, "CHUNK", 3)
    scenario = city()
    named = [e.model_copy(update={"name": name}) for e, name in zip(
        scenario.enterprises, ["杭州𠮷野家餐饮有限公司", '甲,"乙"、丙公司', "  空格  "] * 30,
        strict=False)]
    store.import_enterprises(engine, columns(named))
    store.import_history(engine, sorted(scenario.history, key=lambda h: h.inspected_on,
                                        reverse=True))
    loaded = store.load_registry(engine)
    expected = columns(named)
    assert isinstance(loaded.enterprises.names.dtype, np.dtypes.StringDType)
    for name in ("ids", "names", "jurisdictions", "industries", "tiers"):
        assert np.array_equal(getattr(loaded.enterprises, name), getattr(expected, name)), name
    assert loaded.history.records() == scenario.registry.history.records()


def test_known_enterprise_ids_are_a_set_of_codes(engine: Engine) -> None:
    """known_ids' enterprise ids answer membership for any text, and iterate as codes."""
    store.import_enterprises(engine, columns(BASE))
    ids, _ = store.known_ids(engine)
    stored = {e.enterprise_id for e in BASE}
    assert ids == stored and len(ids) == 10 and set(ids) == stored
    assert BASE[3].enterprise_id in ids
    assert all(other not in ids for other in (enterprise(99).enterprise_id, "", "中" * 18,
                                              BASE[3].enterprise_id.lower(), 7))


def test_load_registry_drops_dangling_conflicts_but_keeps_them(engine: Engine) -> None:
    """A conflict whose enterprise left the snapshot is not loaded, and returns with it."""
    store.import_enterprises(engine, columns(BASE))
    store.import_inspectors(engine, [inspector(1)])
    store.import_conflicts(engine, [Conflict(inspector_id="INS-0001",
                                             enterprise_id=BASE[0].enterprise_id)])
    store.import_enterprises(engine, columns(BASE[1:]))
    assert store.load_registry(engine).conflicts == ()
    assert len(rows_of(engine, store.CONFLICT)) == 1
    store.import_enterprises(engine, columns(BASE))
    assert len(store.load_registry(engine).conflicts) == 1


def test_empty_database_loads_an_empty_registry(engine: Engine) -> None:
    """An empty database gives an empty registry, not an error."""
    registry = store.load_registry(engine)
    assert (len(registry.enterprises), registry.inspectors, len(registry.history)) == (0, (), 0)


# --- plans -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry() -> Registry:
    """A small registry with ample capacity."""
    return city(capacity=1000).registry


@pytest.fixture(scope="module")
def plans(registry: Registry) -> dict[str, Plan]:
    """Plans of 2026Q4: two seeds over all tasks, and one over the first task only."""
    policy, _ = load_policy()
    first_task = policy.model_copy(update={"tasks": policy.tasks[:1]})
    other_tasks = policy.model_copy(update={"tasks": policy.tasks[1:]})
    return {"seed-1": plan_quarter(registry, policy, "2026Q4", "seed-1"),
            "seed-2": plan_quarter(registry, policy, "2026Q4", "seed-2"),
            "GS only": plan_quarter(registry, first_task, "2026Q4", "seed-1"),
            "not GS": plan_quarter(registry, other_tasks, "2026Q4", "seed-1")}


def statuses(engine: Engine) -> dict[str, tuple[str, str | None]]:
    """Return plan id → (status, superseded_by)."""
    return {p["plan_id"]: (p["status"], p["superseded_by"]) for p in store.list_plans(engine)}


def test_stored_plan_rows_equal_the_plan(engine: Engine, plans: dict[str, Plan]) -> None:
    """Every stratum, draw, skip and assignment is stored under the plan id."""
    plan = plans["seed-1"]
    assert store.store_plan(engine, plan, "P1", '{"format": 1}', replace=False) is None
    for table, attr, _ in store.PLAN_PARTS:
        stored = [r[1:] for r in rows_of(engine, table)]
        assert sorted(stored) == sorted(_fields(r, table) for r in getattr(plan, attr))
    (listed,) = store.list_plans(engine)
    assert (listed["quarter"], listed["tasks"], listed["status"], listed["manifest"]) == (
        "2026Q4", "GS-QY,SP-JY,TZ-SB", "active", '{"format": 1}')
    assert "active_key" not in listed


def _fields(row: Any, table: Table) -> Row:
    return tuple(getattr(row, c.name) for c in table.columns if c.name != "plan_id")


def test_second_active_plan_for_same_quarter_and_tasks_is_refused(
        engine: Engine, plans: dict[str, Plan]) -> None:
    """Without replace, a second plan for the quarter and task set is refused, naming the first."""
    store.store_plan(engine, plans["seed-1"], "P1", "{}", replace=False)
    with pytest.raises(InfeasiblePlanError, match=r"plan P1 .*--replace"):
        store.store_plan(engine, plans["seed-2"], "P2", "{}", replace=False)
    assert statuses(engine) == {"P1": ("active", None)}
    assert rows_of(engine, store.PLAN_PARTS[1][0], store.PLAN_PARTS[1][0].c.plan_id == "P2") == []


def test_replace_supersedes_and_keeps_the_old_plan(engine: Engine,
                                                   plans: dict[str, Plan]) -> None:
    """With replace, the old plan becomes superseded by the new one and keeps all its rows."""
    store.store_plan(engine, plans["seed-1"], "P1", "{}", replace=False)
    draws = store.PLAN_PARTS[1][0]
    before = rows_of(engine, draws, draws.c.plan_id == "P1")
    assert store.store_plan(engine, plans["seed-2"], "P2", "{}", replace=True) == "P1"
    assert statuses(engine) == {"P1": ("superseded", "P2"), "P2": ("active", None)}
    assert rows_of(engine, draws, draws.c.plan_id == "P1") == before
    assert len(rows_of(engine, draws, draws.c.plan_id == "P2")) == len(plans["seed-2"].draws)


def test_plans_for_disjoint_task_sets_coexist(engine: Engine, plans: dict[str, Plan]) -> None:
    """Plans of the same quarter for task sets sharing no task are both active."""
    store.store_plan(engine, plans["GS only"], "P3", "{}", replace=False)
    assert store.store_plan(engine, plans["not GS"], "P4", "{}", replace=False) is None
    assert statuses(engine) == {"P3": ("active", None), "P4": ("active", None)}


def test_plan_sharing_a_task_with_an_active_plan_is_refused(
        engine: Engine, plans: dict[str, Plan]) -> None:
    """A plan that would draw a task another active plan already draws is refused, even with
    replace, and nothing of it is stored."""
    store.store_plan(engine, plans["seed-1"], "P1", "{}", replace=False)
    for replace in (False, True):
        with pytest.raises(InfeasiblePlanError, match=r"plan P1 .*already draws task\(s\) GS-QY"):
            store.store_plan(engine, plans["GS only"], "P3", "{}", replace=replace)
    assert statuses(engine) == {"P1": ("active", None)}


def test_identical_rerun_is_already_stored(engine: Engine, plans: dict[str, Plan]) -> None:
    """Re-storing an identical plan under its id changes nothing, with or without replace."""
    store.store_plan(engine, plans["seed-1"], "P1", '{"run": 1}', replace=False)
    assert store.store_plan(engine, plans["seed-1"], "P1", '{"run": 2}', replace=False) is None
    assert store.store_plan(engine, plans["seed-1"], "P1", '{"run": 3}', replace=True) is None
    (listed,) = store.list_plans(engine)
    assert (listed["status"], listed["manifest"]) == ("active", '{"run": 1}')


def test_same_plan_id_with_other_content_is_refused(engine: Engine,
                                                    plans: dict[str, Plan]) -> None:
    """Another plan under a stored plan's id is refused, even with replace."""
    store.store_plan(engine, plans["seed-1"], "P1", "{}", replace=False)
    with pytest.raises(InfeasiblePlanError, match="different content"):
        store.store_plan(engine, plans["seed-2"], "P1", "{}", replace=True)
    assert statuses(engine) == {"P1": ("active", None)}


def test_superseded_plan_is_reinstated_only_with_replace(engine: Engine,
                                                         plans: dict[str, Plan]) -> None:
    """Re-storing a superseded plan needs replace, and then supersedes the active one."""
    store.store_plan(engine, plans["seed-1"], "P1", "{}", replace=False)
    store.store_plan(engine, plans["seed-2"], "P2", "{}", replace=True)
    with pytest.raises(InfeasiblePlanError, match=r"P1 is stored but was superseded.*P2"):
        store.store_plan(engine, plans["seed-1"], "P1", "{}", replace=False)
    assert store.store_plan(engine, plans["seed-1"], "P1", "{}", replace=True) == "P2"
    assert statuses(engine) == {"P1": ("active", None), "P2": ("superseded", "P1")}


def test_writer_racing_past_the_check_fails_cleanly(
        engine: Engine, plans: dict[str, Plan], monkeypatch: pytest.MonkeyPatch) -> None:
    """If another active plan appears after the check, the unique key refuses the insert."""
    store.store_plan(engine, plans["seed-1"], "P1", "{}", replace=False)
    monkeypatch.setattr(store.plans, "_active_plan", lambda conn, key: None)  # the check missed P1
    with pytest.raises(InfeasiblePlanError, match="at the same time"):
        store.store_plan(engine, plans["seed-2"], "P2", "{}", replace=False)
    assert statuses(engine) == {"P1": ("active", None)}
    assert rows_of(engine, store.PLAN_PARTS[0][0], store.PLAN_PARTS[0][0].c.plan_id == "P2") == []


def test_two_simultaneous_writers_store_exactly_one_plan(engine: Engine,
                                                         plans: dict[str, Plan]) -> None:
    """Two threads storing plans for the same quarter at once: one wins, one is refused."""
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def write(plan_id: str, plan: Plan) -> None:
        start.wait()
        try:
            store.store_plan(engine, plan, plan_id, "{}", replace=False)
            outcomes[plan_id] = "stored"
        except SpotcheckError as exc:
            outcomes[plan_id] = type(exc).__name__

    threads = [threading.Thread(target=write, args=(f"P{k}", plans[f"seed-{k}"]))
               for k in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["InfeasiblePlanError", "stored"]
    winner = next(k for k, v in outcomes.items() if v == "stored")
    assert statuses(engine) == {winner: ("active", None)}


# --- the engine ------------------------------------------------------------------------


def test_database_url_prefers_argument_then_environment(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    """An explicit URL wins over SPOTCHECK_DB, which wins over ./spotcheck.db."""
    monkeypatch.delenv("SPOTCHECK_DB", raising=False)
    assert database_url(None) == "sqlite:///spotcheck.db"
    monkeypatch.setenv("SPOTCHECK_DB", "sqlite:///env.db")
    assert database_url(None) == "sqlite:///env.db"
    assert database_url("sqlite:///arg.db") == "sqlite:///arg.db"


def test_sqlite_engine_enforces_foreign_keys_in_wal_mode(tmp_path: Path) -> None:
    """SQLite connections have foreign keys on and the WAL journal."""
    made = get_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with made.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    made.dispose()


def test_missing_postgres_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without psycopg2, a PostgreSQL URL raises ImportError saying what to install."""
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ImportError, match=r"pip install 'spotcheck\[postgres\]'"):
        get_engine("postgresql://planner@localhost/spotcheck")
