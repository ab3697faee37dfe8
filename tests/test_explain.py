"""explain: per-enterprise and per-officer explanations read from an audit bundle alone.

Expected values come from the bundle's recorded CSV files, from the scenario's own rows, or
from plain hashlib arithmetic (DESIGN §6), never from the code under test.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from builders import Scenario, cooldown_scenarios, enterprise, inspector
from hypothesis import given

import spotcheck
from spotcheck import Conflict, Registry
from spotcheck.audit.explain import explain_enterprise, explain_inspector
from spotcheck.demo import synthetic_city

QUARTER = "2026Q4"


def sha(text: str) -> str:
    """Return the hex SHA-256 of the UTF-8 bytes of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def draw_ticket(seed: str, task: str, enterprise_id: str) -> str:
    """Return the draw-v1 ticket by DESIGN §6."""
    return sha(f"draw-v1:{sha(seed)}:{QUARTER}:{task}:{enterprise_id}")


def assign_cost(seed: str, enterprise_id: str, inspector_id: str) -> int:
    """Return the assign-v2 cost (the default rule of new plans) by DESIGN §6."""
    def key(kind: str, value: str) -> int:
        return int(sha(f"assign-v2:{sha(seed)}:{QUARTER}:{kind}:{value}")[:16], 16)

    z = key("E", enterprise_id) ^ key("I", inspector_id)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
    return (z ^ (z >> 31)) >> 24


def rows(bundle: spotcheck.Bundle, name: str) -> list[dict[str, str]]:
    """Return a bundle CSV file's rows as dicts."""
    return list(csv.DictReader(io.StringIO(bundle.files[name].decode("utf-8"))))


def task_block(lines: list[str], task: str) -> list[str]:
    """Return the lines of one task's section of an enterprise explanation."""
    start = next(i for i, line in enumerate(lines) if line.startswith(f"Task (抽查任务) {task} "))
    stop = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")),
                len(lines))
    return lines[start:stop]


def team_costs(lines: list[str]) -> set[tuple[str, str, int]]:
    """Return (department, inspector, cost) of every team member printed."""
    found: set[tuple[str, str, int]] = set()
    department = ""
    in_team = False
    for line in lines:
        if line.startswith("Visit "):
            department = line.split("of department ")[1].split(":")[0]
        elif line.startswith("  "):
            in_team = line.startswith("  team") or (in_team and line.startswith("    "))
            match = re.fullmatch(r"    (\S+) \S+: cost (\d+) \(.*", line)
            if in_team and match:
                found.add((department, match.group(1), int(match.group(2))))
    return found


@pytest.fixture(scope="module")
def city_bundle(city_scenario: Scenario) -> spotcheck.Bundle:
    """The fixed city scenario's audit bundle."""
    return city_scenario.bundle()


def test_drawn_enterprise_shows_ticket_rank_and_cut_off(city_scenario: Scenario,
                                                        city_bundle: spotcheck.Bundle) -> None:
    """A drawn enterprise shows its draw-v1 ticket, its draws.csv rank and the stratum cut-off."""
    draw = rows(city_bundle, "draws.csv")[0]
    lines = explain_enterprise(city_bundle, draw["enterprise_id"])
    block = "\n".join(task_block(lines, draw["task"]))
    assert f"ticket {draw_ticket(city_scenario.seed, draw['task'], draw['enterprise_id'])}" \
        in block
    assert f"DRAWN at rank {draw['rank']}" in block
    stratum = [d for d in rows(city_bundle, "draws.csv")
               if (d["task"], d["tier"], d["jurisdiction"]) ==
               (draw["task"], draw["tier"], draw["jurisdiction"])]
    last = max(stratum, key=lambda d: int(d["rank"]))
    assert f"the largest drawn rank is {last['rank']} (ticket {last['ticket']})" in block
    assert f"stratum ({draw['task']}, {draw['tier']}, {draw['jurisdiction']})" in block
    assert "note:" not in "\n".join(lines)


def test_undrawn_enterprise_is_beyond_the_cut_off(city_scenario: Scenario,
                                                  city_bundle: spotcheck.Bundle) -> None:
    """An eligible, undrawn enterprise ranks (by hashlib) past the stratum's last drawn rank."""
    # GS-QY has no scope limits and tier D no cooldown: every tier-D enterprise of 330102
    # is eligible in the stratum (GS-QY, D, 330102).
    members = [e.enterprise_id for e in city_scenario.enterprises
               if e.tier == "D" and e.jurisdiction == "330102"]
    drawn = {d["enterprise_id"]: int(d["rank"]) for d in rows(city_bundle, "draws.csv")
             if (d["task"], d["tier"], d["jurisdiction"]) == ("GS-QY", "D", "330102")}
    assert drawn and len(drawn) < len(members)
    order = [e for _, e in sorted((draw_ticket(city_scenario.seed, "GS-QY", e), e)
                                  for e in members)]
    undrawn = next(e for e in reversed(order) if e not in drawn)
    rank = order.index(undrawn) + 1
    block = "\n".join(task_block(explain_enterprise(city_bundle, undrawn), "GS-QY"))
    assert f"rank {rank} of {len(members)} eligible" in block
    assert f"not drawn: rank {rank} is beyond the cut-off (rank {max(drawn.values())}" in block
    assert "DRAWN" not in block


def test_out_of_scope_names_the_industry_prefixes(city_scenario: Scenario,
                                                  city_bundle: spotcheck.Bundle) -> None:
    """An enterprise outside SP-JY's industries (F52, H62) is out of scope, naming both."""
    outsider = next(e for e in city_scenario.enterprises if e.industry == "C3411")
    block = task_block(explain_enterprise(city_bundle, outsider.enterprise_id), "SP-JY")
    assert len(block) == 2
    assert "out of scope" in block[1]
    assert "industry C3411" in block[1]
    assert "F52, H62" in block[1]


def test_cooled_down_enterprise_names_date_task_and_threshold(
        city_scenario: Scenario, city_bundle: spotcheck.Bundle) -> None:
    """A tier-A enterprise inspected 2026-08-01 is excluded with the date, task and threshold."""
    record = next(h for h in city_scenario.history
                  if next(e for e in city_scenario.enterprises
                          if e.enterprise_id == h.enterprise_id).tier == "A")
    block = "\n".join(task_block(explain_enterprise(city_bundle, record.enterprise_id),
                                 "GS-QY"))
    # Tier A: 12 months before 2026-10-01.
    assert "EXCLUDED by cooldown" in block
    assert "inspected on 2026-08-01 (task GS-QY, department SCJG)" in block
    assert "threshold 2025-10-01" in block
    assert "not ranked, as it is not eligible" in block
    assert "DRAWN" not in block


def test_skipped_enterprise_gives_the_skip_reason(city_bundle: spotcheck.Bundle) -> None:
    """A skipped enterprise's task section carries the reason written in skipped.csv."""
    skip = rows(city_bundle, "skipped.csv")[0]
    block = "\n".join(task_block(explain_enterprise(city_bundle, skip["enterprise_id"]),
                                 skip["task"]))
    assert f"SKIPPED (passed over, the next ticket took its place): {skip['reason']}" in block
    assert "no lawful team" in block


def test_team_costs_match_assignments(city_bundle: spotcheck.Bundle) -> None:
    """Every visit's printed team and costs equal its assignments.csv rows."""
    assignments = rows(city_bundle, "assignments.csv")
    for enterprise_id in sorted({a["enterprise_id"] for a in assignments}):
        expected = {(a["department"], a["inspector_id"], int(a["cost"]))
                    for a in assignments if a["enterprise_id"] == enterprise_id}
        assert team_costs(explain_enterprise(city_bundle, enterprise_id)) == expected


def test_every_task_outcome_matches_the_recorded_draws(city_scenario: Scenario,
                                                       city_bundle: spotcheck.Bundle) -> None:
    """For every enterprise and task, DRAWN and SKIPPED appear exactly as the CSV files say."""
    drawn = {(d["task"], d["enterprise_id"]) for d in rows(city_bundle, "draws.csv")}
    skipped = {(k["task"], k["enterprise_id"]) for k in rows(city_bundle, "skipped.csv")}
    for record in city_scenario.enterprises:
        lines = explain_enterprise(city_bundle, record.enterprise_id)
        assert not any("note:" in line for line in lines)
        for task in ("GS-QY", "SP-JY", "TZ-SB"):
            block = "\n".join(task_block(lines, task))
            assert ("DRAWN at rank" in block) == ((task, record.enterprise_id) in drawn)
            assert ("SKIPPED" in block) == ((task, record.enterprise_id) in skipped)


def test_inspector_utilisation_matches_assignments(city_scenario: Scenario,
                                                   city_bundle: spotcheck.Bundle) -> None:
    """Each officer's utilisation and listed visits equal their assignments.csv rows."""
    assignments = rows(city_bundle, "assignments.csv")
    for officer in city_scenario.inspectors:
        mine = [a for a in assignments if a["inspector_id"] == officer.inspector_id]
        lines = explain_inspector(city_bundle, officer.inspector_id)
        assert f"utilisation: {len(mine)} of {officer.capacity} visits" in "\n".join(lines)
        for a in mine:
            assert any(line.startswith(f"  {a['enterprise_id']} ") and f"cost {a['cost']};" in
                       line for line in lines)
        assert sum(line.startswith("  9") for line in lines) == len(mine)


def test_inspector_certificate_validity(city_bundle: spotcheck.Bundle) -> None:
    """INS-0003's certificate lapses on 2026-12-30, so it may not inspect in 2026Q4."""
    lapsed = "\n".join(explain_inspector(city_bundle, "INS-0003"))
    assert "执法证 expires 2026-12-30, before the quarter ends 2026-12-31" in lapsed
    assert "utilisation: 0 of" in lapsed
    valid = "\n".join(explain_inspector(city_bundle, "INS-0001"))
    assert "执法证 valid through 2030-01-01" in valid
    assert "recusals (回避): 6 enterprise(s)" in valid


def test_unknown_ids_are_refused(city_bundle: spotcheck.Bundle) -> None:
    """An enterprise or officer not in the bundle raises InvalidInputError naming it."""
    with pytest.raises(spotcheck.InvalidInputError, match="913301029999999999"):
        explain_enterprise(city_bundle, "913301029999999999")
    with pytest.raises(spotcheck.InvalidInputError, match="not an id"):
        explain_enterprise(city_bundle, "not an id")
    with pytest.raises(spotcheck.InvalidInputError, match="INS-9999"):
        explain_inspector(city_bundle, "INS-9999")


# A hand-built case where every reason an officer is passed over shows. The task needs
# 食品安全; E1 (330102) may be staffed only by L1 and L2. F serves the whole city with
# capacity 1, and E2 (330105) can be staffed only by F and G, so F is full. E3 (330108) has
# one lawful officer (F) and is skipped. E4's tier has no round in the fourth quarter.
FOOD = ("食品安全",)
OFFICERS = {
    "INS-0001": inspector(1, jurisdiction="330102", qualifications=FOOD),   # L1
    "INS-0002": inspector(2, jurisdiction="330102", qualifications=FOOD),   # L2
    "INS-0003": inspector(3, jurisdiction="3301", qualifications=FOOD, capacity=1),  # F
    "INS-0004": inspector(4, jurisdiction="330105", qualifications=FOOD),   # G
    "INS-0005": inspector(5, jurisdiction="330102", qualifications=FOOD),   # recuses from E1
    "INS-0006": inspector(6, jurisdiction="3301", qualifications=FOOD,
                          expiry=date(2026, 12, 30)),
    "INS-0007": inspector(7, jurisdiction="3301", qualifications=FOOD, capacity=0),
    "INS-0008": inspector(8, jurisdiction="3301"),                          # no 食品安全
    "INS-0009": inspector(9, jurisdiction="330106", qualifications=FOOD),
}
REASONS = {
    "INS-0003": "capacity full (1 visits, capacity 1)",
    "INS-0005": "recusal (回避): 近亲属在该企业任职",
    "INS-0006": "certificate (执法证) expires 2026-12-30",
    "INS-0007": "capacity 0",
    "INS-0008": "lacks qualification 食品安全",
}
POLICY = """schema = 1
team_size = 2

[tiers.A]
ratio = 1.0
quarters = [4]
priority = 1

[tiers.B]
ratio = 1.0
quarters = [2]
priority = 2

[[tasks]]
code = "SP"
name = "食品经营者监督检查"
department = "SCJG"
qualification = "食品安全"
"""


def passed_over_seed(e1: str) -> str:
    """Return a seed under which every non-team officer costs less on E1 than its dearest member."""
    for n in range(500):
        seed = f"explain-{n}"
        ceiling = max(assign_cost(seed, e1, o) for o in ("INS-0001", "INS-0002"))
        if all(assign_cost(seed, e1, o) < ceiling for o in OFFICERS if o not in
               ("INS-0001", "INS-0002")):
            return seed
    raise AssertionError("no seed found")


@pytest.fixture(scope="module")
def passed_over(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The hand-built bundle written to disk, and E1..E4's ids."""
    records = [enterprise(1, "330102"), enterprise(2, "330105"), enterprise(3, "330108"),
               enterprise(4, "330102", tier="B")]
    ids = [e.enterprise_id for e in records]
    registry = Registry.build(records, OFFICERS.values(), [Conflict(
        inspector_id="INS-0005", enterprise_id=ids[0], reason="近亲属在该企业任职")])
    policy = spotcheck.parse_policy(POLICY)
    plan = spotcheck.plan_quarter(registry, policy, QUARTER, passed_over_seed(ids[0]))
    bundle = spotcheck.build_bundle(plan, registry, POLICY.encode(),
                                    created_at="2026-10-01T00:00:00Z")
    path = spotcheck.write_bundle(bundle, tmp_path_factory.mktemp("explain") / "b.zip")
    return path, ids


def test_every_cheaper_officer_has_its_reason(passed_over: tuple[Path, list[str]]) -> None:
    """Each officer cheaper than E1's dearest member is listed once with the reason that binds."""
    path, ids = passed_over
    lines = explain_enterprise(path, ids[0])
    assert team_costs(lines) == {("SCJG", "INS-0001", assign_cost(
        spotcheck.read_bundle(path).manifest["seed"], ids[0], "INS-0001")),
        ("SCJG", "INS-0002", assign_cost(
            spotcheck.read_bundle(path).manifest["seed"], ids[0], "INS-0002"))}
    assert "not chosen: 7" in "\n".join(lines)
    for officer, reason in REASONS.items():
        [line] = [line for line in lines if line.startswith(f"    {officer} ")]
        assert reason in line
    assert "the cheapest total over all visits (assign-v2)" in "\n".join(lines)
    assert any("serve jurisdiction 330105, not 330102: INS-0004" in line for line in lines)
    assert any("serve jurisdiction 330106, not 330102: INS-0009" in line for line in lines)
    assert not any("had room" in line for line in lines)


def test_hand_built_skip_and_no_round(passed_over: tuple[Path, list[str]]) -> None:
    """E3 has one lawful officer and is skipped; E4's tier B has no round in Q4."""
    path, ids = passed_over
    skipped = "\n".join(explain_enterprise(path, ids[2]))
    assert "SKIPPED" in skipped
    assert "no lawful team: 1 of 2 officers needed" in skipped
    no_round = "\n".join(explain_enterprise(path, ids[3]))
    assert "tier B has no round in Q4 (its rounds: Q2)" in no_round
    full = "\n".join(explain_inspector(path, "INS-0003"))
    assert "utilisation: 1 of 1 visits (100%)" in full
    assert f"  {ids[1]} " in full
    assert "team-mates INS-0004" in full


def test_task_cooldown_scope_counts_only_the_same_task() -> None:
    """With cooldown_scope "task", another task's recent inspection does not exclude."""
    records = [enterprise(1, "330102"), enterprise(2, "330102")]
    ids = [e.enterprise_id for e in records]
    history = [spotcheck.HistoryRecord(enterprise_id=ids[0], task="OTHER", department="SCJG",
                                       inspected_on=date(2026, 9, 1)),
               spotcheck.HistoryRecord(enterprise_id=ids[0], task="SP", department="SCJG",
                                       inspected_on=date(2026, 6, 30)),
               spotcheck.HistoryRecord(enterprise_id=ids[1], task="SP", department="SCJG",
                                       inspected_on=date(2026, 7, 1))]
    text = POLICY.replace("team_size = 2", 'team_size = 2\ncooldown_scope = "task"').replace(
        "quarters = [4]", "quarters = [4]\ncooldown_months = 3")
    registry = Registry.build(records, OFFICERS.values(), (), history)
    plan = spotcheck.plan_quarter(registry, spotcheck.parse_policy(text), QUARTER, "s")
    bundle = spotcheck.build_bundle(plan, registry, text.encode(), created_at=None)
    kept = "\n".join(explain_enterprise(bundle, ids[0]))
    assert "eligible: last inspected on 2026-06-30 (task SP, department SCJG), before the " \
        "threshold 2026-07-01" in kept
    assert "only inspections for task SP count" in kept
    assert "DRAWN at rank 1" in kept
    cooled = "\n".join(explain_enterprise(bundle, ids[1]))
    assert "EXCLUDED by cooldown: inspected on 2026-07-01 (task SP" in cooled


@given(cooldown_scenarios(max_enterprises=15))
def test_explain_excludes_exactly_the_enterprises_the_plan_left_out(sc: Scenario) -> None:
    """With history at the cooldown edges, explain excludes as many enterprises from each
    stratum as strata.csv counts out of it, and never disagrees with its eligible count."""
    bundle = sc.bundle()
    table = list(csv.reader(io.StringIO(bundle.files["strata.csv"].decode("utf-8"))))[1:]
    left_out = {f"({task}, {tier}, {place})": int(population) - int(eligible)
                for task, tier, place, population, eligible, *_ in table}
    excluded: Counter[str] = Counter()
    for e in sc.enterprises:
        stratum = ""
        for line in explain_enterprise(bundle, e.enterprise_id):
            assert not line.startswith("  note: strata.csv records"), line
            found = re.match(r"  stratum (\(.*?\)): tier \S+ has a round", line)
            stratum = found.group(1) if found else stratum
            excluded[stratum] += line.startswith("  EXCLUDED by cooldown")
    assert +excluded == {key: n for key, n in left_out.items() if n}


def test_explain_command_prints_the_enterprise_and_inspector_views(tmp_path: Path) -> None:
    """`spotcheck explain` prints both views from a bundle and refuses unknown ids."""
    from click.testing import CliRunner

    from spotcheck.cli.main import main

    registry = synthetic_city(3000)
    policy, policy_bytes = spotcheck.load_policy()
    plan = spotcheck.plan_quarter(registry, policy, "2026Q4", "explain-cli")
    path = spotcheck.write_bundle(spotcheck.build_bundle(
        plan, registry, policy_bytes, created_at="2026-10-01T00:00:00Z"), tmp_path / "b")
    drawn = plan.draws[0].enterprise_id
    runner = CliRunner()
    result = runner.invoke(main, ["explain", str(path), drawn])
    assert result.exit_code == 0, result.output
    assert drawn in result.output and "DRAWN" in result.output
    officer = plan.assignments[0].inspector_id
    result = runner.invoke(main, ["explain", str(path), "--inspector", officer])
    assert result.exit_code == 0, result.output
    assert officer in result.output and "utilisation" in result.output
    assert runner.invoke(main, ["explain", str(path), "913301029999999999"]).exit_code == 1
    assert runner.invoke(main, ["explain", str(path)]).exit_code == 2
