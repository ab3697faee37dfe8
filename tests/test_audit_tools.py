"""The auditor's tools of docs/AUDIT.md: verify_draws.py and the SQL queries reproduce draws.

Each tool is used as an auditor would use it: the script as a subprocess on bundles that
spotcheck wrote, the queries as extracted from docs/AUDIT.md with the values the page says to
type in. Tampered bundles have their manifest digests forged, so the check that catches them
is the one that recomputes, not the digest comparison.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import uuid
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pytest
from builders import (
    MIXED_TEMPLATE,
    QUALIFICATIONS,
    TASK_TEMPLATES,
    PolicySpec,
    Scenario,
    TierSpec,
    city,
    cooldown_scenarios,
    enterprise,
    inspector,
    lawful_scenarios,
    scenarios,
)
from conftest import postgres_server
from hypothesis import given

import spotcheck
from spotcheck import HistoryRecord
from spotcheck.demo import DEMO_QUARTER, DEMO_SEED, synthetic_city
from spotcheck.formats.archive import (
    FORMAT,
    INPUT_FILES,
    OPTIONAL_INPUT_FILES,
    OPTIONAL_OUTPUT_FILES,
    OUTPUT_FILES,
)
from spotcheck.formats.tables import EXTENDED_HEADERS, HEADERS
from spotcheck.models.quarter import Quarter
from spotcheck.scheduler.eligibility import strata_for_quarter

DOCS = Path(__file__).resolve().parents[1] / "docs"
ASSIGN_V1_FIXTURE = Path(__file__).resolve().parent / "data/bundles/assign-v1/city-2026Q4.zip"
SCRIPT = DOCS / "verify_draws.py"
AUDIT_MD = DOCS / "AUDIT.md"
FINDING_COLUMNS = ("verdict", "source", "task", "tier", "jurisdiction", "enterprise_id", "rank",
                   "position", "recorded", "recomputed")


# -- bundles ------------------------------------------------------------------------------------


def joint_scenario() -> Scenario:
    """Return a scenario whose SCJG tasks need 食品安全 and 特种设备, rarely held together.

    DT-SY keeps the enterprises both tasks draw where no officer holds both qualifications
    (SP-JY skips them "for a joint visit"); in 330105 two officers hold both, so the tasks
    share visits there. Cooldown is per task, with history of both tasks.
    """
    spec = PolicySpec(2, "task", (TierSpec("A", 0.5, 0.2, (4,), 6, 1),
                                  TierSpec("B", 0.8, 0.3, (3, 4), 3, 2)),
                      (TASK_TEMPLATES[1] + ((),), (*MIXED_TEMPLATE, ("330102", "330105"))))
    enterprises = tuple(enterprise(i, ("330102", "330105", "330106")[i % 3], "AB"[i % 2],
                                   ("F5211", "L7212", "H6210")[i % 3 if i % 5 else 0])
                        for i in range(1, 61))
    inspectors = tuple(inspector(k, "SCJG", "3301", (QUALIFICATIONS[k % 2],), 30)
                       for k in range(1, 7))
    inspectors += (inspector(7, "SCJG", "330105", QUALIFICATIONS, 30),
                   inspector(8, "SCJG", "330105", QUALIFICATIONS, 30))
    history = tuple(HistoryRecord(enterprise_id=e.enterprise_id, task=("SP-JY", "DT-SY")[i % 2],
                                  department="SCJG", inspected_on=date(2026, 5 + i % 5, 1))
                    for i, e in enumerate(enterprises[::4]))
    return Scenario(spec, enterprises, inspectors, (), history, "2026Q4", "联合检查-2026Q4")


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Bundle folders spotcheck wrote: the 5,000-enterprise demo (also as .zip), the tight
    city (skips and capacity cuts) and the joint-visit scenario."""
    out = tmp_path_factory.mktemp("bundles")
    registry = synthetic_city(5000)
    policy, policy_bytes = spotcheck.load_policy()
    plan = spotcheck.plan_quarter(registry, policy, DEMO_QUARTER, DEMO_SEED)
    demo = spotcheck.build_bundle(plan, registry, policy_bytes, created_at="2026-10-01T00:00:00Z")
    return {"demo": spotcheck.write_bundle(demo, out / "demo"),
            "demo.zip": spotcheck.write_bundle(demo, out / "demo.zip"),
            "city": spotcheck.write_bundle(city().bundle(), out / "city"),
            "joint": spotcheck.write_bundle(joint_scenario().bundle(), out / "joint")}


def rows(bundle: Path, name: str) -> list[tuple[str, ...]]:
    """Return the rows of a CSV of a bundle folder or .zip, header left out."""
    if bundle.is_file():
        with zipfile.ZipFile(bundle) as archive:
            data = archive.read(name)
    else:
        data = (bundle / name).read_bytes()
    return [tuple(row) for row in csv.reader(io.StringIO(data.decode("utf-8"), newline=""))][1:]


def edit_csv(bundle: Path, name: str, change: Callable[[list[list[str]]], None]) -> None:
    """Rewrite a bundle CSV after `change` edits its rows (header first) in place."""
    with (bundle / name).open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    change(table)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    (bundle / name).write_bytes(buffer.getvalue().encode("utf-8"))


def forge_digests(bundle: Path) -> None:
    """Rewrite manifest.json's digests to match the files, as a forger would."""
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    for part in ("inputs", "outputs"):
        for name in manifest[part]:
            manifest[part][name] = hashlib.sha256((bundle / name).read_bytes()).hexdigest()
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    (bundle / "manifest.json").write_text(text, encoding="utf-8")


def first_draw(bundle: Path) -> list[str]:
    """Return the rank-1 draw of the first stratum that drew at least two enterprises."""
    draws = rows(bundle, "draws.csv")
    return next(list(d) for d in draws if d[5] == "1"
                and sum(1 for other in draws if other[:3] == d[:3]) >= 2)


# -- tampers: each changes one thing an insider might change to steer a draw -------------------


def remove_draw(bundle: Path) -> None:
    victim = first_draw(bundle)
    edit_csv(bundle, "draws.csv", lambda table: table.remove(victim))


def edit_ticket(bundle: Path) -> None:
    victim = first_draw(bundle)

    def change(table: list[list[str]]) -> None:
        row = table[table.index(victim)]
        row[4] = row[4][:-1] + ("0" if row[4][-1] != "0" else "1")
    edit_csv(bundle, "draws.csv", change)


def change_tier(bundle: Path) -> None:
    victim = first_draw(bundle)

    def change(table: list[list[str]]) -> None:
        row = next(r for r in table if r[0] == victim[3])
        row[4] = "D" if row[4] != "D" else "C"
    edit_csv(bundle, "inputs/enterprises.csv", change)


def edit_cost(bundle: Path) -> None:
    def change(table: list[list[str]]) -> None:
        table[1][3] = str(int(table[1][3]) + 1)
    edit_csv(bundle, "assignments.csv", change)


def skip_a_draw(bundle: Path) -> None:
    victim = first_draw(bundle)
    edit_csv(bundle, "draws.csv", lambda table: table.remove(victim))
    edit_csv(bundle, "skipped.csv", lambda table: table.append(
        [victim[0], victim[3], victim[4], "no lawful team"]))


def change_seed(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    manifest["seed"] += "0"
    (bundle / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False),
                                          encoding="utf-8")


TAMPERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "a draw removed": (remove_draw, "draws"),
    "a ticket edited": (edit_ticket, "tickets"),
    "a tier changed in inputs/enterprises.csv": (change_tier, "eligibility"),
    "a cost edited": (edit_cost, "assign-v2"),  # the bundles are new plans: assign-v2
    "a draw recorded as a skip": (skip_a_draw, "draws"),
    "the seed changed": (change_seed, "seed"),
}


def tampered(bundles: dict[str, Path], tmp_path: Path, tamper: str, forge: bool = True) -> Path:
    """Return a copy of the city bundle with one tamper applied (and digests forged)."""
    copy = Path(shutil.copytree(bundles["city"], tmp_path / "bundle"))
    TAMPERS[tamper][0](copy)
    if forge:
        forge_digests(copy)
    return copy


# -- the script ---------------------------------------------------------------------------------


def run_script(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run docs/verify_draws.py as an auditor would, in a fresh interpreter."""
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, encoding="utf-8", check=False, timeout=120,
                          env={**os.environ, "PYTHONUTF8": "1"})


@functools.cache
def script_module() -> ModuleType:
    """Return docs/verify_draws.py imported as a module, to read what it recomputed."""
    spec = importlib.util.spec_from_file_location("verify_draws", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["verify_draws"] = module
    spec.loader.exec_module(module)
    return module


def failed_checks(stdout: str) -> set[str]:
    """Return the names of the checks the script reported as FAIL."""
    return set(re.findall(r"^FAIL  ([^:]+):", stdout, flags=re.MULTILINE))


def assert_script_reproduces(bundle: Path) -> None:
    """Assert the script passes the bundle and recomputes its draws.csv and skipped.csv."""
    result = run_script(bundle)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("ALL DRAWS REPRODUCE")
    assert not failed_checks(result.stdout)
    module = script_module()
    audit = module.Audit(module.read_bundle(bundle), say=lambda line: None)
    assert audit.run()
    assert sorted(audit.expected_draws) == sorted(rows(bundle, "draws.csv"))
    assert audit.expected_skips == sorted(row[:3] for row in rows(bundle, "skipped.csv"))


@pytest.mark.parametrize("name", ["demo", "demo.zip", "city", "joint"])
def test_script_reproduces_bundles_spotcheck_wrote(bundles: dict[str, Path], name: str) -> None:
    """verify_draws.py passes the demo (folder and .zip), tight and joint-visit bundles."""
    assert_script_reproduces(bundles[name])


def test_script_reproduces_the_assign_v1_fixture() -> None:
    """verify_draws.py checks a bundle written before assign-v2 by assign-v1, as it names."""
    result = run_script(ASSIGN_V1_FIXTURE)
    assert result.returncode == 0, result.stdout
    assert "ok    assign-v1: 52 costs in assignments.csv reproduce" in result.stdout


def test_fixed_bundles_exercise_skips_cuts_and_joint_visits(bundles: dict[str, Path]) -> None:
    """The fixed bundles contain skips, capacity cuts, joint skips and shared visits."""
    assert any(r[7].startswith("capacity") for r in rows(bundles["city"], "shortfalls.csv"))
    assert rows(bundles["city"], "skipped.csv")
    assert any("joint visit" in r[3] for r in rows(bundles["joint"], "skipped.csv"))
    assert any(";" in r[2] for r in rows(bundles["joint"], "visits.csv"))


@given(scenarios())
def test_script_reproduces_generated_bundles(scenario: Scenario) -> None:
    """verify_draws.py passes every bundle spotcheck writes for generated registries."""
    with tempfile.TemporaryDirectory() as folder:
        bundle = spotcheck.write_bundle(scenario.bundle(), Path(folder) / "bundle")
        assert_script_reproduces(bundle)


def test_script_reads_the_files_spotcheck_writes() -> None:
    """verify_draws.py's format, file lists and table headers are the bundle's declarations."""
    module = script_module()
    assert (module.FORMAT, module.INPUT_FILES, module.OUTPUT_FILES) == (FORMAT, INPUT_FILES,
                                                                       OUTPUT_FILES)
    assert (module.OPTIONAL_INPUT_FILES, module.OPTIONAL_OUTPUT_FILES) == (
        OPTIONAL_INPUT_FILES, OPTIONAL_OUTPUT_FILES)
    assert module.HEADERS == HEADERS
    assert module.EXTENDED_HEADERS == EXTENDED_HEADERS


@given(cooldown_scenarios())
def test_script_eligibility_and_draws_are_the_pipelines(scenario: Scenario) -> None:
    """verify_draws.py's cooldown, strata and draws equal plan_quarter's, at cooldown edges."""
    assert_script_is_the_pipeline(scenario)


@given(lawful_scenarios())
def test_script_annual_cap_and_draws_are_the_pipelines(scenario: Scenario) -> None:
    """verify_draws.py's annual cap (history of the year, other plans' visits, the plan's own
    visits of other departments), strata and draws equal plan_quarter's."""
    assert_script_is_the_pipeline(scenario)


def assert_script_is_the_pipeline(scenario: Scenario) -> None:
    """Assert the script's strata, eligible sets, draws and skips are the pipeline's."""
    files = scenario.bundle().files
    plan = scenario.plan
    module = script_module()
    audit = module.Audit(files, say=lambda line: None)
    audit.run()  # the teams and their costs are the business of the tests above
    assert not {"bundle", "eligibility", "round-v1", "tickets", "draws"} & set(audit.failed)
    # The script's eligibility, recomputed from the bundle's inputs alone: every stratum's
    # population and eligible enterprises (not only their counts) must be the pipeline's.
    policy = module.Policy.parse(tomllib.loads(files["policy.toml"].decode("utf-8")))
    enterprises = {r["enterprise_id"]: r for r in audit.table("inputs/enterprises.csv")}
    recorded = {(r["task"], r["tier"], r["jurisdiction"]): r for r in audit.table("strata.csv")}
    script = audit._check_eligibility(policy, module.Quarter.parse(scenario.quarter),
                                      enterprises, recorded)
    ids = scenario.registry.enterprises.ids
    pipeline = {s.key: (s.population, sorted(ids[s.eligible].astype(str).tolist()))
                for s in strata_for_quarter(scenario.registry, scenario.policy,
                                            Quarter.parse(scenario.quarter))}
    assert {k: (s.population, sorted(s.eligible)) for k, s in script.items()} == pipeline
    assert {(s.task, s.tier, s.jurisdiction): (s.population, s.eligible)
            for s in plan.strata} == {k: (p, len(e)) for k, (p, e) in pipeline.items()}
    assert sorted(audit.expected_draws) == sorted(
        (d.task, d.tier, d.jurisdiction, d.enterprise_id, d.ticket, str(d.rank))
        for d in plan.draws)
    assert audit.expected_skips == sorted((k.task, k.enterprise_id, k.ticket)
                                          for k in plan.skipped)


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_script_rejects_tampered_bundles(bundles: dict[str, Path], tmp_path: Path,
                                         tamper: str) -> None:
    """verify_draws.py exits 1 on a tamper even when the manifest's digests are forged."""
    result = run_script(tampered(bundles, tmp_path, tamper))
    assert result.returncode == 1, result.stdout
    assert TAMPERS[tamper][1] in failed_checks(result.stdout), result.stdout
    assert "input digests" not in failed_checks(result.stdout)
    assert "DRAWS DO NOT REPRODUCE" in result.stdout


def test_script_notices_files_changed_after_the_plan(bundles: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """Without forged digests, an edited result file fails the output digest check."""
    result = run_script(tampered(bundles, tmp_path, "a ticket edited", forge=False))
    assert result.returncode == 1
    assert {"output digests", "tickets"} <= failed_checks(result.stdout)


@pytest.mark.parametrize("args", [(), ("a", "b"), ("no-such-bundle",)])
def test_script_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    """A missing, extra or non-existent argument is a usage error (exit 2)."""
    result = run_script(*args)
    assert result.returncode == 2
    assert "usage" in result.stderr


# -- the SQL of docs/AUDIT.md ---------------------------------------------------------------------


def audit_sql(marker: str) -> str:
    """Return the ```sql block of docs/AUDIT.md whose first line is `marker`."""
    blocks = re.findall(r"```sql\n(.*?)```", AUDIT_MD.read_text("utf-8"), flags=re.DOTALL)
    found = [b for b in blocks if b.splitlines()[0] == marker]
    assert len(found) == 1, f"docs/AUDIT.md needs exactly one sql block starting {marker!r}"
    return found[0]


def literal(row: tuple[str | int, ...]) -> str:
    """Return a row of SQL literals."""
    return "(" + ", ".join(str(v) if isinstance(v, int) else "'" + v.replace("'", "''") + "'"
                           for v in row) + ")"


def typed_in(sql: str, bundle: Path) -> str:
    """Return the query with the values AUDIT.md says to type in, read from the bundle.

    The seed_hash and quarter come from manifest.json, the rest from policy.toml; each goes
    on the one line under its header, as the page tells auditors.
    """
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    policy = tomllib.loads((bundle / "policy.toml").read_text("utf-8"))
    number = int(manifest["quarter"][-1])
    rounds = [(name, tier.get("cooldown_months", 0)) for name, tier in policy["tiers"].items()
              if number in tier.get("quarters", (1, 2, 3, 4))]
    values: dict[str, list[tuple[str | int, ...]]] = {
        "params(": [(manifest["seed_hash"], manifest["quarter"],
                     policy.get("cooldown_scope", "any"))],
        # With no round this quarter, a tier name no enterprise has keeps VALUES non-empty.
        "tier_rounds(": sorted(rounds) or [("", 0)],
        "task_jurisdictions(": [(t["code"], p) for t in policy["tasks"]
                                for p in t.get("jurisdictions") or [""]],
        "task_industries(": [(t["code"], p) for t in policy["tasks"]
                             for p in t.get("industries") or [""]],
    }
    lines = sql.splitlines()
    for header, given_rows in values.items():
        at = next(i for i, line in enumerate(lines) if line.startswith(header))
        lines[at + 1] = "  " + ", ".join(literal(row) for row in given_rows) + "),"
    return "\n".join(lines) + "\n"


def duckdb_findings(bundle: Path) -> list[dict[str, Any]]:
    """Return the rows of the DuckDB query of docs/AUDIT.md run on a bundle folder."""
    connection = duckdb.connect()
    try:
        connection.execute(f"SET file_search_path = '{bundle}'")
        result = connection.execute(typed_in(audit_sql("-- duckdb: draws"), bundle)).fetchall()
    finally:
        connection.close()
    return [dict(zip(FINDING_COLUMNS, row, strict=True)) for row in result]


def assert_query_reproduces(findings: list[dict[str, Any]], bundle: Path) -> None:
    """Assert the query found nothing wrong and recomputed every ticket of the bundle."""
    wrong = [f for f in findings if f["verdict"] != "ok"]
    assert not wrong, wrong[:5]
    drawn = sorted((f["task"], f["tier"], f["jurisdiction"], f["enterprise_id"],
                    f["recomputed"], str(f["rank"])) for f in findings
                   if f["source"] == "draws.csv")
    assert drawn == sorted(rows(bundle, "draws.csv"))
    skipped = sorted((f["task"], f["enterprise_id"], f["recomputed"]) for f in findings
                     if f["source"] == "skipped.csv")
    assert skipped == sorted(row[:3] for row in rows(bundle, "skipped.csv"))
    assert sum(f["source"] == "strata.csv" for f in findings) == len(rows(bundle, "strata.csv"))


def test_audit_md_query_values_are_the_demo_bundles(bundles: dict[str, Path]) -> None:
    """The values printed in AUDIT.md's queries are those of the demo bundle it describes."""
    for marker in ("-- duckdb: draws", "-- postgres: draws"):
        assert typed_in(audit_sql(marker), bundles["demo"]) == audit_sql(marker)


def test_audit_md_worked_numbers_are_right() -> None:
    """Every hash and number worked out by hand in AUDIT.md section A is spotcheck's."""
    text = AUDIT_MD.read_text("utf-8")
    digest = spotcheck.seed_hash(DEMO_SEED)
    v = spotcheck.round_offset(digest, "2026Q4", "GS-QY", "A", "330102")
    expected = [digest, spotcheck.ticket(digest, "2026Q4", "GS-QY", "91330102829127804B"),
                spotcheck.ticket(digest, "2026Q4", "T01", "91330102000000007U")[:8],
                str(spotcheck.cost(digest, "2026Q4", "913301020000000019", "INS-0001")),
                str(spotcheck.cost(digest, "2026Q4", "913301020000000019", "INS-0001",
                                   assign="assign-v2")),
                "55aefc66f1196667", "65d00cf1934d3aaa", "6238072747940578789",
                f"{v.numerator * 2**64 // v.denominator:016x}",
                str(v.numerator * 2**64 // v.denominator)]
    assert [value for value in expected if value not in text] == []


def test_audit_md_assign_v2_one_liners_give_the_cost() -> None:
    """Each Python one-liner AUDIT.md gives for an assign-v2 cost prints DESIGN's 1629257641."""
    import shlex

    digest = spotcheck.seed_hash(DEMO_SEED)
    commands = [line for line in AUDIT_MD.read_text("utf-8").splitlines()
                if line.startswith("python3 -c ") and "0x94D049BB133111EB" in line]
    assert len(commands) == 2
    for command in commands:
        _, _, code, *args = shlex.split(command.replace('"$seed_hash"', digest))
        result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                                text=True, check=True, timeout=60)
        assert result.stdout.strip() == "1629257641", command


@pytest.mark.parametrize("name", ["demo", "city", "joint"])
def test_duckdb_query_reproduces_bundles_spotcheck_wrote(bundles: dict[str, Path],
                                                         name: str) -> None:
    """AUDIT.md's DuckDB query finds no discrepancy and recomputes every ticket."""
    assert_query_reproduces(duckdb_findings(bundles[name]), bundles[name])


@given(scenarios())
def test_duckdb_query_reproduces_generated_bundles(scenario: Scenario) -> None:
    """AUDIT.md's DuckDB query passes bundles of generated registries and policies."""
    with tempfile.TemporaryDirectory() as folder:
        bundle = spotcheck.write_bundle(scenario.bundle(), Path(folder) / "bundle")
        assert_query_reproduces(duckdb_findings(bundle), bundle)


@pytest.mark.parametrize("tamper", ["a draw removed", "a ticket edited",
                                    "a tier changed in inputs/enterprises.csv"])
def test_duckdb_query_reports_tampered_bundles(bundles: dict[str, Path], tmp_path: Path,
                                               tamper: str) -> None:
    """AUDIT.md's DuckDB query reports at least one discrepancy on a tampered bundle."""
    findings = duckdb_findings(tampered(bundles, tmp_path, tamper))
    assert [f for f in findings if f["verdict"] != "ok"]


# -- PostgreSQL -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_url() -> str:
    """The PostgreSQL server of SPOTCHECK_TEST_PG; CI must provide one."""
    return postgres_server()


def postgres_findings(url: str, bundle: Path) -> list[dict[str, Any]]:
    """Return the rows of AUDIT.md's PostgreSQL query, after its load steps, in a fresh schema.

    The psql `\\copy` lines become psycopg2 COPY … FROM STDIN; everything is rolled back.
    """
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        schema = f"spotcheck_audit_{uuid.uuid4().hex[:12]}"
        cursor.execute(f"CREATE SCHEMA {schema}; SET LOCAL search_path TO {schema}")
        statements: list[str] = []
        for line in audit_sql("-- postgres: load").splitlines():
            copy = re.fullmatch(r"\\copy (\w+) FROM '([^']+)' (WITH \(.*\))", line)
            if copy is None:
                statements.append(line)
                continue
            if statements:
                cursor.execute("\n".join(statements))
                statements = []
            with (bundle / copy.group(2)).open("rb") as handle:
                cursor.copy_expert(f"COPY {copy.group(1)} FROM STDIN {copy.group(3)}", handle)
        cursor.execute("\n".join(statements))
        cursor.execute(typed_in(audit_sql("-- postgres: draws"), bundle))
        result = cursor.fetchall()
    finally:
        connection.rollback()
        connection.close()
    return [dict(zip(FINDING_COLUMNS, row, strict=True)) for row in result]


@pytest.mark.parametrize("name", ["demo", "city", "joint"])
def test_postgres_query_reproduces_bundles_spotcheck_wrote(postgres_url: str,
                                                           bundles: dict[str, Path],
                                                           name: str) -> None:
    """AUDIT.md's PostgreSQL query finds no discrepancy and recomputes every ticket."""
    assert_query_reproduces(postgres_findings(postgres_url, bundles[name]), bundles[name])


@pytest.mark.parametrize("tamper", ["a draw removed", "a ticket edited",
                                    "a tier changed in inputs/enterprises.csv"])
def test_postgres_query_reports_tampered_bundles(postgres_url: str, bundles: dict[str, Path],
                                                 tmp_path: Path, tamper: str) -> None:
    """AUDIT.md's PostgreSQL query reports at least one discrepancy on a tampered bundle."""
    findings = postgres_findings(postgres_url, tampered(bundles, tmp_path, tamper))
    assert [f for f in findings if f["verdict"] != "ok"]
