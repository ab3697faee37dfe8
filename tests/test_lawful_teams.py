"""Lawful teams II: the annual cap, roles and experts, rotation, balanced workload and the
shortfall advice — each rule stated as a property, and `verify` refusing a bundle that
breaks it; plus the pin that a plan with none of the new keys is unchanged, byte for byte.

The properties recompute each rule here from the scenario's rows (history, planned visits,
roles, capacities), with scipy's maximum flow for what needs one, never with the module
under test.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import importlib.util
import json
import math
import sqlite3
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from builders import (
    CITY_POLICY,
    EXPERT_QUALIFICATION,
    Scenario,
    city,
    lawful_scenarios,
    months_before,
    registry_fingerprint,
    store_scenario,
)
from click.testing import CliRunner, Result
from hypothesis import assume, given
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

import spotcheck
from spotcheck import HistoryRecord, Inspector
from spotcheck.cli.main import main
from spotcheck.formats.bundle import input_files, read_bundle, registry_from_bundle, zip_bytes
from spotcheck.models.registry import HistoryColumns, PlannedVisit
from spotcheck.store.database import open_database
from spotcheck.store.snapshot import load_registry

# -- scenarios ---------------------------------------------------------------------------------


def quarter_of(day: date) -> str:
    """Return the quarter YYYYQn of a day."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def lawful_city() -> Scenario:
    """The tight city with every new key: tiers A, B and D capped at one inspection a year,
    experts on TZ-SB, balanced workload, rotation and shortfall advice, two experts and one
    auxiliary, inspectors recorded on past visits and visits of another active plan."""
    sc = city()
    spec = dataclasses.replace(
        CITY_POLICY, annual_caps=(("A", 1), ("B", 1), ("D", 1)),
        experts=(("TZ-SB", 1, EXPERT_QUALIFICATION),), workload="balanced",
        officer_cooldown_months=12, shortfall_advice=True)
    extra = tuple(Inspector(inspector_id=f"EXP-{k}", name=f"专家{k}", department="TZSB",
                            jurisdiction="3301", qualifications=(EXPERT_QUALIFICATION,),
                            capacity=1, certificate_expiry=date(2020, 1, 1), role="expert")
                  for k in (1, 2))
    extra += (Inspector(inspector_id="AUX-1", name="辅助1", department="SCJG", jurisdiction="3301",
                        capacity=9, certificate_expiry=date(2030, 1, 1), role="auxiliary"),)
    history = (*sc.history, *(HistoryRecord(
        enterprise_id=e.enterprise_id, task="GS-QY", department="SCJG",
        inspected_on=date(2026, 3, 2), inspectors=("INS-0002", "INS-0006"))
        for e in sc.enterprises[1:40:3]))
    planned = tuple(PlannedVisit(e.enterprise_id, "TZSB", "2026Q2")
                    for e in sc.enterprises if e.tier == "B")[:6]
    return dataclasses.replace(sc, spec=spec, inspectors=(*sc.inspectors, *extra),
                               history=history, planned=planned)


# -- independent recomputations ------------------------------------------------------------------


def year_pairs(sc: Scenario) -> dict[str, set[tuple[str, str]]]:
    """Return each enterprise's (department, quarter) pairs of the plan's year so far."""
    year = sc.quarter[:4]
    pairs: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for h in sc.history:
        if str(h.inspected_on.year) == year:
            pairs[h.enterprise_id].add((h.department, quarter_of(h.inspected_on)))
    for p in sc.planned:
        if p.quarter.startswith(year):
            pairs[p.enterprise_id].add((p.department, p.quarter))
    return pairs


def flow_value(lawful: list[list[int]], team_size: int, capacity: list[int]) -> int:
    """Return the maximum flow of source → visit (team_size) → lawful officer (1) → officer
    (capacity) → sink, by scipy."""
    visits, officers = len(lawful), len(capacity)
    sink = 1 + visits + officers
    tails, heads, caps = [], [], []
    for v, members in enumerate(lawful):
        tails.append(0)
        heads.append(1 + v)
        caps.append(team_size)
        for o in members:
            tails.append(1 + v)
            heads.append(1 + visits + o)
            caps.append(1)
    for o in range(officers):
        tails.append(1 + visits + o)
        heads.append(sink)
        caps.append(capacity[o])
    if not tails:
        return 0
    graph = csr_matrix((np.array(caps, dtype=np.int32), (tails, heads)),
                       shape=(sink + 1, sink + 1))
    return int(maximum_flow(graph, 0, sink).flow_value)


def lawful_sets(plan: spotcheck.Plan) -> list[list[int]]:
    """Return each visit's lawful officers as the plan's staffing network lists them."""
    return [members.tolist() for members in plan.staffing.lawful]


def with_capacity(sc: Scenario, extra: dict[str, int]) -> Scenario:
    """Return the scenario with these officer-visits added to the officers' capacities."""
    return dataclasses.replace(sc, inspectors=tuple(
        o.model_copy(update={"capacity": o.capacity + extra.get(o.inspector_id, 0)})
        for o in sc.inspectors))


def added(advice: tuple[spotcheck.scheduler.shortfall.GroupAdvice, ...]) -> dict[str, int]:
    """Return the officer-visits the advice adds, by officer (its `added` column)."""
    found: dict[str, int] = {}
    for group in advice:
        for item in filter(None, group.added.split(";")):
            officer, units = item.rsplit("+", 1)
            found[officer] = found.get(officer, 0) + int(units)
    return found


# -- the rules as properties ---------------------------------------------------------------------


@given(sc=lawful_scenarios())
def test_no_enterprise_passes_its_annual_cap(sc: Scenario) -> None:
    """No enterprise ends the plan with more (department, quarter) inspections in the year
    than its tier's cap, counting history and other plans; one at its cap is never drawn and
    is listed in capped.csv; every cap skip is of an enterprise whose cap the plan used."""
    plan, caps = sc.plan, dict(sc.spec.annual_caps)
    pairs = year_pairs(sc)
    tier = {e.enterprise_id: e.tier for e in sc.enterprises}
    visiting: dict[str, set[str]] = defaultdict(set)
    for visit in plan.visits:
        visiting[visit.enterprise_id].add(visit.department)
    for eid, departments in visiting.items():
        if tier[eid] in caps:
            total = pairs[eid] | {(d, sc.quarter) for d in departments}
            assert len(total) <= caps[tier[eid]], (eid, total)
    for d in plan.draws:
        assert d.tier not in caps or len(pairs[d.enterprise_id]) < caps[d.tier]
    in_scope = {s.enterprise_id for s in plan.draws} | {k.enterprise_id for k in plan.skipped}
    listed = {c.enterprise_id for c in plan.capped}
    assert not listed & in_scope
    assert all(len(pairs[c.enterprise_id]) >= caps[c.tier] == c.cap for c in plan.capped)
    department = {t[0]: t[2] for t in sc.spec.tasks}
    for skip in plan.skipped:
        if skip.reason.startswith("annual cap"):
            own = department[skip.task]
            now = {d for d, q in pairs[skip.enterprise_id] if q == sc.quarter}
            assert own not in visiting[skip.enterprise_id] | now
            assert len(pairs[skip.enterprise_id]) + len(visiting[skip.enterprise_id] - now) \
                >= caps[tier[skip.enterprise_id]]


@given(sc=lawful_scenarios())
def test_only_officers_make_teams_and_experts_come_on_top(sc: Scenario) -> None:
    """Teams are officers only; experts are lawful experts on visits whose tasks ask for
    them, no more than asked, within capacity; auxiliary staff are never drawn; every visit
    short of experts is recorded with what it got."""
    plan = sc.plan
    staff = {o.inspector_id: o for o in sc.inspectors}
    assert all(staff[a.inspector_id].role == "officer" for a in plan.assignments)
    asked = {code: (n, q) for code, n, q in sc.spec.experts}
    need = {(v.enterprise_id, v.department): (
        max(asked[t][0] for t in v.tasks if t in asked),
        {asked[t][1] for t in v.tasks if t in asked} - {""})
        for v in plan.visits if any(t in asked for t in v.tasks)}
    place = {e.enterprise_id: e.jurisdiction for e in sc.enterprises}
    got: Counter[tuple[str, str]] = Counter()
    load: Counter[str] = Counter()
    for row in plan.experts:
        key = (row.enterprise_id, row.department)
        expert = staff[row.inspector_id]
        assert expert.role == "expert" and key in need
        assert expert.department == row.department
        assert place[row.enterprise_id].startswith(expert.jurisdiction)
        assert need[key][1] <= set(expert.qualifications)
        got[key] += 1
        load[row.inspector_id] += 1
    assert all(load[o] <= staff[o].capacity for o in load)
    assert all(got[key] <= n for key, (n, _) in need.items())
    short = {(g.enterprise_id, g.department): (g.needed, g.drawn) for g in plan.expert_gaps}
    assert short == {key: (n, got[key]) for key, (n, _) in need.items() if got[key] < n}


@given(sc=lawful_scenarios())
def test_rotation_keeps_officers_off_enterprises_they_inspected(sc: Scenario) -> None:
    """No officer or expert is sent to an enterprise the history says they inspected on or
    after the first day of the month officer_cooldown_months before the quarter."""
    months = sc.spec.officer_cooldown_months or 0
    assume(months > 0)
    since = months_before(sc.quarter, months)
    barred = {(h.enterprise_id, i) for h in sc.history if h.inspected_on >= since
              for i in h.inspectors}
    plan = sc.plan
    assert not {(a.enterprise_id, a.inspector_id)
                for a in (*plan.assignments, *plan.experts)} & barred


@given(sc=lawful_scenarios())
def test_balanced_teams_keep_the_smallest_cap_of_their_part(sc: Scenario) -> None:
    """With workload = "balanced", every officer keeps within ⌈p · capacity / 100⌉ of their
    part's cap p, and no part can be staffed at p − 1 (scipy's maximum flow)."""
    assume(sc.spec.workload == "balanced")
    plan = sc.plan
    assert plan.balance_caps is not None
    capacity = [o.capacity for o in sc.registry.inspectors]
    index = {o.inspector_id: i for i, o in enumerate(sc.registry.inspectors)}
    load = Counter(index[a.inspector_id] for a in plan.assignments)
    lawful = lawful_sets(plan)
    # the parts, by union-find over lawful pairs
    parent = list(range(len(capacity)))

    def root(o: int) -> int:
        while parent[o] != o:
            parent[o] = parent[parent[o]]
            o = parent[o]
        return o

    for members in lawful:
        for o in members[1:]:
            parent[root(o)] = root(members[0])
    groups: dict[int, list[int]] = defaultdict(list)
    for v, members in enumerate(lawful):
        groups[root(members[0])].append(v)
    officers = {r: sorted({o for v in vs for o in lawful[v]}) for r, vs in groups.items()}
    parts = sorted(groups, key=lambda r: officers[r][0])
    assert [(sc.registry.inspectors[officers[r][0]].inspector_id, len(officers[r]))
            for r in parts] == [(c.first_officer, c.officers) for c in plan.balance_caps]
    for r, cap in zip(parts, plan.balance_caps, strict=True):
        limit = {o: math.ceil(cap.percent * capacity[o] / 100) for o in officers[r]}
        assert all(load[o] <= limit[o] for o in officers[r])
        if cap.percent > 1:
            lower = [math.ceil((cap.percent - 1) * c / 100) for c in capacity]
            visits = [lawful[v] for v in groups[r]]
            assert flow_value(visits, plan.staffing.team_size, lower) < \
                plan.staffing.team_size * len(visits)


@given(sc=lawful_scenarios())
def test_shortfall_advice_is_the_least_that_staffs_every_target(sc: Scenario) -> None:
    """The advice adds exactly the deficit of the wanted visits' maximum flow (no fewer can
    do), and re-running alloc-v1 with it added lets every stratum reach its target."""
    plan = spotcheck.plan_quarter(sc.registry, sc.policy, sc.quarter, sc.seed,
                                  advise_shortfall=True)
    assume(any(s.allocated < s.target for s in plan.strata))
    extra = added(plan.advice)
    again = with_capacity(sc, extra)
    rerun = spotcheck.plan_quarter(again.registry, again.policy, again.quarter, again.seed)
    assert all(s.allocated == s.target for s in rerun.strata)
    team_size = rerun.staffing.team_size
    capacity = [o.capacity for o in sc.registry.inspectors]
    deficit = team_size * rerun.staffing.visits - flow_value(lawful_sets(rerun), team_size,
                                                              capacity)
    assert sum(extra.values()) == deficit > 0


def test_city_shortfall_advice_is_tight() -> None:
    """On the capacity-tight city, the advice (10 officer-visits in six SCJG groups) staffs
    every target, and taking one unit from any officer it names leaves a stratum cut."""
    sc = city()
    plan = spotcheck.plan_quarter(sc.registry, sc.policy, sc.quarter, sc.seed,
                                  advise_shortfall=True)
    extra = added(plan.advice)
    assert sum(extra.values()) == 10
    assert {(a.department, a.jurisdiction, a.qualifications, a.extra) for a in plan.advice} == {
        ("SCJG", "3301", "", 3), ("SCJG", "3301", "食品安全", 3), ("SCJG", "330102", "", 1),
        ("SCJG", "330102", "食品安全", 1), ("SCJG", "330105", "", 1),
        ("SCJG", "330105", "食品安全", 1)}

    def reaches_every_target(units: dict[str, int]) -> bool:
        again = with_capacity(sc, units)
        rerun = spotcheck.plan_quarter(again.registry, again.policy, again.quarter, again.seed)
        return all(s.allocated == s.target for s in rerun.strata)

    assert reaches_every_target(extra)
    for officer in extra:
        assert not reaches_every_target({**extra, officer: extra[officer] - 1}), officer


@given(sc=lawful_scenarios())
def test_verify_accepts_every_plan_with_the_new_keys(sc: Scenario) -> None:
    """Every bundle made with the new keys verifies, and docs/verify_draws.py passes it."""
    bundle = sc.bundle()
    with tempfile.TemporaryDirectory() as folder:
        path = spotcheck.write_bundle(bundle, Path(folder) / "bundle.zip")
        report = spotcheck.verify_bundle(path)
        assert report.ok, report.mismatches
    audit = script().Audit(bundle.files, say=lambda line: None)
    assert audit.run(), audit.failed


@functools.cache
def script() -> ModuleType:
    """Return docs/verify_draws.py imported as a module."""
    spec = importlib.util.spec_from_file_location(
        "verify_draws_lawful", Path(__file__).resolve().parents[1] / "docs/verify_draws.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["verify_draws_lawful"] = module
    spec.loader.exec_module(module)
    return module


# -- verify refuses a bundle that breaks a rule ------------------------------------------------


@pytest.fixture(scope="module")
def lawful_bundle() -> spotcheck.Bundle:
    """The lawful city's bundle: every new key, capacity cut, experts short, a cap used."""
    sc = lawful_city()
    plan = sc.plan
    assert plan.capped and plan.experts and plan.expert_gaps and plan.advice
    assert plan.balance_caps is not None
    assert any(k.reason.startswith("annual cap") for k in plan.skipped)
    return sc.bundle()


def forged(files: dict[str, bytes], name: str, data: bytes | None) -> dict[str, bytes]:
    """Return the files with one replaced (None: removed) and the manifest's digests, input
    or output, forged to match."""
    manifest = json.loads(files["manifest.json"])
    changed = {**files}
    part = "inputs" if name.startswith("inputs/") else "outputs"
    if data is None:
        del changed[name]
        manifest[part].pop(name, None)
    else:
        changed[name] = data
        manifest[part][name] = hashlib.sha256(data).hexdigest()
    changed["manifest.json"] = json.dumps(manifest).encode()
    return changed


def edited(files: dict[str, bytes], name: str, change: Callable[[list[str]], object]) -> bytes:
    """Return a CSV with `change` applied to its lines (header first)."""
    lines = files[name].decode("utf-8").splitlines()
    change(lines)
    return ("\n".join(lines) + "\n").encode("utf-8")


def mismatches(files: dict[str, bytes]) -> str:
    """Return verify's mismatches of the files as one text ("" when it verifies)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bundle.zip"
        path.write_bytes(zip_bytes(files))
        report = spotcheck.verify_bundle(path)
    return "" if report.ok else "\n".join(report.mismatches)


def test_lawful_bundle_verifies(lawful_bundle: spotcheck.Bundle) -> None:
    """The untampered lawful city verifies before any tamper below."""
    assert mismatches(lawful_bundle.files) == ""


def _drop_line(match: str) -> Callable[[list[str]], None]:
    def change(lines: list[str]) -> None:
        lines.remove(next(line for line in lines[1:] if match in line))
    return change


def test_verify_refuses_a_capped_enterprise_dropped_from_the_record(
        lawful_bundle: spotcheck.Bundle) -> None:
    """Deleting a line of capped.csv, or the year's other plans (inputs/planned.csv), is
    refused: the annual cap is recomputed."""
    files = lawful_bundle.files
    assert "capped.csv" in mismatches(forged(files, "capped.csv", edited(
        files, "capped.csv", lambda lines: lines.pop())))
    assert "inputs/planned.csv" in mismatches(forged(files, "inputs/planned.csv", None))


def test_verify_refuses_an_enterprise_drawn_past_its_cap(lawful_bundle: spotcheck.Bundle) -> None:
    """An enterprise skipped for its annual cap, written into draws.csv instead, is refused
    by verify, and by docs/verify_draws.py once its visit is written too."""
    files = lawful_bundle.files
    skip = next(line.split(",") for line in files["skipped.csv"].decode().splitlines()[1:]
                if ",annual cap" in line)
    task, enterprise, ticket = skip[:3]
    tier, place = _stratum_of(files, enterprise)
    drawn = edited(files, "draws.csv", lambda lines: lines.append(
        ",".join((task, tier, place, enterprise, ticket, "99"))))
    assert "draws.csv" in mismatches(forged(files, "draws.csv", drawn))
    department = {"GS-QY": "SCJG", "SP-JY": "SCJG", "TZ-SB": "TZSB"}[task]
    visited = forged(forged(files, "draws.csv", drawn), "visits.csv", edited(
        files, "visits.csv", lambda lines: lines.append(f"{enterprise},{department},{task}")))
    audit = script().Audit(visited, say=lambda line: None)
    assert not audit.run() and "annual cap" in audit.failed


def _stratum_of(files: dict[str, bytes], enterprise: str) -> tuple[str, str]:
    """Return an enterprise's tier and jurisdiction from the bundle's inputs."""
    for line in files["inputs/enterprises.csv"].decode().splitlines()[1:]:
        cells = line.split(",")
        if cells[0] == enterprise:
            return cells[-1], cells[2]
    raise AssertionError(enterprise)


def test_verify_refuses_an_expert_or_auxiliary_on_a_team(lawful_bundle: spotcheck.Bundle) -> None:
    """An expert, or auxiliary staff, written into a team in place of an officer is named."""
    files = lawful_bundle.files
    for stranger, why in (("EXP-1", "is an expert"), ("AUX-1", "auxiliary")):
        def swap(lines: list[str], who: str = stranger) -> None:
            at = next(i for i, line in enumerate(lines)
                      if i and (",TZSB," in line if who.startswith("EXP") else ",SCJG," in line))
            enterprise, department, _, cost = lines[at].split(",")
            lines[at] = ",".join((enterprise, department, who, cost))
        assert why in mismatches(forged(files, "assignments.csv",
                                        edited(files, "assignments.csv", swap)))


def test_verify_refuses_other_experts(lawful_bundle: spotcheck.Bundle) -> None:
    """Moving an expert to a visit left short, or dropping one, is refused."""
    files = lawful_bundle.files
    gap = files["expert_gaps.csv"].decode().splitlines()[1].split(",")
    moved = edited(files, "experts.csv", lambda lines: lines.__setitem__(
        1, ",".join((gap[0], gap[1], *lines[1].split(",")[2:]))))
    assert "experts.csv" in mismatches(forged(files, "experts.csv", moved))
    assert "experts.csv" in mismatches(forged(files, "experts.csv", edited(
        files, "experts.csv", lambda lines: lines.pop())))


def test_verify_refuses_a_rotated_officer(lawful_bundle: spotcheck.Bundle) -> None:
    """An officer the rotation rule keeps off an enterprise, swapped onto its team, is named
    with the rule."""
    files = lawful_bundle.files
    registry = registry_from_bundle(read_bundle_files(files))
    barred = {h.enterprise_id for h in registry.history.records() if "INS-0002" in h.inspectors}
    teams = [line.split(",") for line in files["assignments.csv"].decode().splitlines()[1:]]
    target = next(t for t in teams if t[0] in barred and t[2] != "INS-0002"
                  and t[1] == "SCJG")

    def swap(lines: list[str]) -> None:
        at = lines.index(",".join(target))
        lines[at] = ",".join((target[0], target[1], "INS-0002", target[3]))
    assert "rotation (轮岗)" in mismatches(forged(files, "assignments.csv",
                                                 edited(files, "assignments.csv", swap)))


def read_bundle_files(files: dict[str, bytes]) -> spotcheck.Bundle:
    """Return the files as a Bundle."""
    return spotcheck.Bundle(dict(files))


def test_verify_refuses_a_balance_cap_that_is_not_the_smallest(
        lawful_bundle: spotcheck.Bundle) -> None:
    """A manifest raising a part's balance cap is refused as not the smallest; lowering it,
    the teams are over the cap; dropping it, the policy's balancing is missing."""
    files = lawful_bundle.files
    manifest = json.loads(files["manifest.json"])
    for delta, why in ((+1, "not the smallest"), (-1, "above the balance cap")):
        changed = json.loads(files["manifest.json"])
        changed["workload"]["caps"][0]["percent"] += delta
        found = mismatches({**files, "manifest.json": json.dumps(changed).encode()})
        assert why in found, found
    del manifest["workload"]
    assert "workload" in mismatches({**files, "manifest.json": json.dumps(manifest).encode()})


def test_verify_refuses_edited_shortfall_advice(lawful_bundle: spotcheck.Bundle) -> None:
    """One officer-visit fewer (or more) in shortfall_groups.csv is refused."""
    files = lawful_bundle.files

    def fewer(lines: list[str]) -> None:
        cells = lines[1].split(",")
        cells[6] = str(int(cells[6]) - 1)
        lines[1] = ",".join(cells)
    assert "shortfall_groups.csv" in mismatches(forged(files, "shortfall_groups.csv",
                                                       edited(files, "shortfall_groups.csv",
                                                              fewer)))


def test_verify_refuses_files_of_keys_the_policy_does_not_set() -> None:
    """A new-key file added to a bundle whose policy does not set the key is refused."""
    files = city().bundle().files
    found = mismatches(forged(files, "capped.csv", b"enterprise_id,tier,cap,used,inspections\n"))
    assert "capped.csv is in the bundle, but policy.toml sets no key" in found


# -- compatibility ---------------------------------------------------------------------------

# The SHA-256 of the city scenario's bundle (.zip; created_at and software fixed) as the code
# before lawful teams II wrote it (commit 327f265), with the policy by default (assign-v2) and
# with assign = "assign-v1": a plan with the old keys only is the same, byte for byte.
OLD_KEYS_PINS = {
    None: "3b31d73eb58d742cd764499fe80f7a23e404c273c8b7cb43fe0fc78f0b76bc6f",
    "assign-v1": "f9858e3fcf3a831aafb63244d26ac0aa55418ee0cf44698ec207fa59c389cb20",
}
# The same for the 5,000-enterprise synthetic city and the shipped policy, quarter and seed
# of the demo.
SYNTHETIC_PIN = "2bb1c0cee1362ee689023606a9efd43eff3a25a337b7629256a14d96a7ec7bfa"


@pytest.mark.parametrize("assign", [None, "assign-v1"])
def test_plan_with_the_old_keys_is_byte_identical(assign: str | None) -> None:
    """The tight city planned with the old policy keys only gives the bundle the code before
    the new keys gave, byte for byte (and no file of a new key)."""
    sc = dataclasses.replace(city(), spec=dataclasses.replace(CITY_POLICY, assign=assign))
    files = sc.bundle().files
    assert sorted(files) == ["assignments.csv", "draws.csv", "inputs/conflicts.csv",
                             "inputs/enterprises.csv", "inputs/history.csv",
                             "inputs/inspectors.csv", "manifest.json", "policy.toml",
                             "shortfalls.csv", "skipped.csv", "strata.csv", "visits.csv"]
    assert hashlib.sha256(zip_bytes(files)).hexdigest() == OLD_KEYS_PINS[assign]


def test_synthetic_city_with_the_shipped_policy_is_byte_identical() -> None:
    """The demo's synthetic city (5,000 enterprises) under the shipped policy gives the
    bundle the code before the new keys gave, byte for byte."""
    from spotcheck.demo import DEMO_QUARTER, DEMO_SEED, synthetic_city

    registry = synthetic_city(5000)
    policy, policy_bytes = spotcheck.load_policy()
    plan = spotcheck.plan_quarter(registry, policy, DEMO_QUARTER, DEMO_SEED)
    bundle = spotcheck.build_bundle(plan, registry, policy_bytes,
                                    created_at="2026-10-01T00:00:00Z", software={"x": "1"})
    assert hashlib.sha256(zip_bytes(bundle.files)).hexdigest() == SYNTHETIC_PIN


def test_old_bundle_reads_and_rebuilds_with_defaults() -> None:
    """The assign-v1 fixture (written before roles and history inspectors) reads every
    inspector as an officer and no inspectors recorded, and its inputs are rewritten to the
    same bytes (no new column appears)."""
    bundle = read_bundle(Path(__file__).parent / "data/bundles/assign-v1/city-2026Q4.zip")
    registry = registry_from_bundle(bundle)
    assert {o.role for o in registry.inspectors} == {"officer"}
    assert set(registry.history.who.tolist()) == {""}
    assert registry.planned == ()
    rewritten = input_files(registry, bundle.files["policy.toml"])
    assert all(rewritten[name] == bundle.files[name] for name in rewritten)


def test_new_columns_appear_only_when_used() -> None:
    """A role other than officer adds the role column to inputs/inspectors.csv, and a history
    row naming inspectors adds the inspectors column; reading them back gives the same
    registry."""
    sc = lawful_city()
    files = input_files(sc.registry, sc.policy_bytes, sc.policy)
    assert files["inputs/inspectors.csv"].startswith(
        b"inspector_id,name,department,jurisdiction,qualifications,capacity,"
        b"certificate_expiry,role\n")
    assert files["inputs/history.csv"].startswith(
        b"enterprise_id,task,department,inspected_on,inspectors\n")
    assert files["inputs/planned.csv"].startswith(b"enterprise_id,department,quarter\n")
    back = registry_from_bundle(spotcheck.Bundle({**files, "manifest.json": b"{}"}))
    assert back.inspectors == sc.registry.inspectors
    assert back.history.records() == sc.registry.history.records()
    assert back.planned == sc.registry.planned


# -- through the database and the command line -----------------------------------------------


def cli(url: str, *args: str) -> Result:
    """Run spotcheck on the database at `url`, standard error kept apart."""
    return CliRunner().invoke(main, ["--db", url, "--actor", "tester", *args])


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """Write a UTF-8 CSV import file."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_roles_and_inspectors_are_imported_and_stored(db_url: str, tmp_path: Path) -> None:
    """An inspectors file with 角色 (Chinese or English values) and a history file with
    实际检查人员 are imported, stored and read back into the snapshot; a bad role is refused
    naming the row."""
    sc = lawful_city()
    store_scenario(db_url, dataclasses.replace(sc, inspectors=sc.inspectors[:12], history=()))
    head = ["执法证号", "姓名", "所属部门", "管辖区划", "执法领域", "季度检查上限",
            "执法证有效期", "角色"]
    rows = [[o.inspector_id, o.name, o.department, o.jurisdiction, ";".join(o.qualifications),
             str(o.capacity), o.certificate_expiry.isoformat(),
             {"officer": "执法人员", "expert": "专家", "auxiliary": "auxiliary"}[o.role]]
            for o in sc.inspectors]
    assert cli(db_url, "import", "inspectors",
               str(write_rows(tmp_path / "i.csv", head, rows))).exit_code == 0
    history = [[h.enterprise_id, h.task, h.department, h.inspected_on.isoformat(),
                "、".join(h.inspectors)] for h in sc.history]
    assert cli(db_url, "import", "history", str(write_rows(
        tmp_path / "h.csv", ["统一社会信用代码", "抽查任务", "部门", "检查日期", "实际检查人员"],
        history))).exit_code == 0
    engine = open_database(db_url)
    try:
        stored = load_registry(engine)
    finally:
        engine.dispose()
    assert stored.inspectors == sc.registry.inspectors
    assert stored.history.records() == HistoryColumns.from_records(sc.history).records()
    bad = cli(db_url, "import", "inspectors", str(write_rows(
        tmp_path / "bad.csv", head, [[*rows[0][:7], "队长"]])))
    assert bad.exit_code == 1 and ":2:" in bad.output and "role (角色)" in bad.output


def test_a_database_made_before_the_new_columns_is_brought_up_to_date(tmp_path: Path) -> None:
    """A database whose inspector and history tables lack role and inspectors gets them on
    opening, the stored rows taking the defaults."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store_scenario(url, city())
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute("ALTER TABLE inspector DROP COLUMN role")
        conn.execute("ALTER TABLE inspection_history DROP COLUMN inspectors")
    engine = open_database(url)
    try:
        registry = load_registry(engine)
    finally:
        engine.dispose()
    assert {o.role for o in registry.inspectors} == {"officer"}
    assert registry_fingerprint(registry) == registry_fingerprint(city().registry)


def test_annual_cap_counts_the_years_other_active_plans(db_url: str, tmp_path: Path) -> None:
    """A quarter planned under an annual cap records the year's earlier active plan's visits
    (inputs/planned.csv): its enterprises are left out (capped.csv), the bundle verifies,
    and the freeze covers the planned visits."""
    sc = city(capacity=1000)
    policy = tmp_path / "policy.toml"
    policy.write_text(dataclasses.replace(CITY_POLICY, annual_caps=(("C", 1), ("D", 1))).text())
    store_scenario(db_url, sc)
    earlier = cli(db_url, "-q", "plan", "--quarter", "2026Q3", "--seed", sc.seed, "--policy",
                  str(policy), "--out", str(tmp_path / "q3"))
    assert earlier.exit_code == 0, earlier.output
    q3 = {(line.split(",")[0], line.split(",")[1])
          for line in (tmp_path / "q3/visits.csv").read_text().splitlines()[1:]}
    assert cli(db_url, "freeze", "--quarter", "2026Q4", "--policy", str(policy)).exit_code == 0
    assert cli(db_url, "seed", "dice", "--quarter", "2026Q4", "27182818284590452353602874"
               ).exit_code == 0
    later = cli(db_url, "-q", "plan", "--quarter", "2026Q4", "--policy", str(policy),
                "--out", str(tmp_path / "q4"))
    assert later.exit_code == 0, later.output
    planned = (tmp_path / "q4/inputs/planned.csv").read_text().splitlines()
    assert {tuple(line.split(",")[:2]) for line in planned[1:]} == q3
    assert all(line.endswith(",2026Q3") for line in planned[1:])
    capped = {line.split(",")[0] for line in (tmp_path / "q4/capped.csv").read_text()
              .splitlines()[1:]}
    tiers = {e.enterprise_id: e.tier for e in sc.enterprises}
    assert {e for e, _ in q3 if tiers[e] in "CD"} <= capped
    assert cli(db_url, "verify", str(tmp_path / "q4"), "--strict").exit_code == 0


def test_plan_summary_json_and_explain_show_the_new_reasons(tmp_path: Path) -> None:
    """The plan summary shows the utilisation spread both ways and the shortfall advice;
    plan --json carries them; explain --json names the annual cap, experts and advice."""
    url = f"sqlite:///{tmp_path / 'spotcheck.db'}"
    sc = lawful_city()
    store_scenario(url, sc)
    policy = tmp_path / "policy.toml"
    policy.write_bytes(sc.policy_bytes)
    text = cli(url, "plan", "--quarter", sc.quarter, "--seed", sc.seed, "--policy",
               str(policy), "--out", str(tmp_path / "plan"))
    assert text.exit_code == 0, text.output
    for phrase in ("utilisation spread per department", "minimum cost", "balanced (this plan)",
                   "officer groups that ran out (min cut)", "more officer-visit(s) in these "
                   "groups would let every stratum cut by capacity reach its target",
                   "annual cap (年度抽查上限)", "experts (专家)"):
        assert phrase in text.output, phrase
    made = json.loads(cli(url, "plan", "--quarter", sc.quarter, "--seed", sc.seed, "--policy",
                          str(policy), "--out", str(tmp_path / "again"), "--replace",
                          "--json").stdout)
    capacity = made["capacity"]
    assert [g["extra"] for g in capacity["shortfall_advice"]] == [
        a.extra for a in sc.plan.advice]
    assert {s["department"] for s in capacity["workload"]["balanced"]} == {"SCJG", "TZSB"}
    assert [c["percent"] for c in capacity["workload"]["caps"]] == [
        c.percent for c in sc.plan.balance_caps or ()]
    capped = sc.plan.capped[0].enterprise_id
    short = next(s for s in sc.plan.strata if s.allocated < s.target)
    task = sc.policy.task(short.task)
    victim = next(e.enterprise_id for e in sc.enterprises
                  if (e.tier, e.jurisdiction) == (short.tier, short.jurisdiction)
                  and task.in_scope(e.jurisdiction, e.industry)
                  and e.enterprise_id not in {c.enterprise_id for c in sc.plan.capped})
    gap = sc.plan.expert_gaps[0].enterprise_id
    lines = "\n".join(
        line for eid in (capped, victim, gap)
        for line in json.loads(cli(url, "explain", str(tmp_path / "plan"), eid,
                                   "--json").stdout)["lines"])
    assert "EXCLUDED by the annual cap" in lines
    assert "to staff every stratum cut by capacity" in lines
    assert "experts short" in lines
    officer = json.loads(cli(url, "explain", str(tmp_path / "plan"), "--json", "--inspector",
                             "INS-0002").stdout)["lines"]
    assert any("balance caps" in line for line in officer)
    assert any("capacity ran out for their group" in line for line in officer)
