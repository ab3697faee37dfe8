"""Hypothesis properties of whole plans, checked against an oracle written from DESIGN §6.

The oracle below recomputes strata, tickets, targets and every team rule with hashlib,
Fraction and plain Python, and decides "can these visits be staffed" with scipy's max flow,
so no expected value comes from the code under test.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from builders import (
    MIXED_TEMPLATE,
    RATIOS,
    TASK_TEMPLATES,
    PolicySpec,
    Scenario,
    TierSpec,
    enterprise,
    inspector,
    scenarios,
)
from hypothesis import assume, event, given
from hypothesis import strategies as st
from pydantic import ValidationError
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_flow

import spotcheck
from spotcheck import Conflict, Enterprise, Registry
from spotcheck.scheduler.optimality import certify

Key = tuple[str, str, str]


def sha(text: str) -> str:
    """Return the hex SHA-256 of the UTF-8 bytes of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def quarter_end(quarter: str) -> date:
    """Return the last day of a YYYYQn quarter."""
    year, number = int(quarter[:4]), int(quarter[5])
    return {1: date(year, 3, 31), 2: date(year, 6, 30), 3: date(year, 9, 30),
            4: date(year, 12, 31)}[number]


def cooldown_start(quarter: str, months: int) -> date:
    """Return quarter start minus `months` calendar months."""
    year, month = int(quarter[:4]), 3 * int(quarter[5]) - 2
    for _ in range(months):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return date(year, month, 1)


@dataclass
class Expected:
    """A stratum as DESIGN §6 defines it."""

    population: int
    order: list[str]        # eligible ids by (ticket, id)
    tickets: dict[str, str]
    target: int
    floor: int
    priority: int
    department: str


class Oracle:
    """DESIGN §6 recomputed for one scenario."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.policy = sc.policy
        self.seed_hash = sha(sc.seed)
        self.end = quarter_end(sc.quarter)
        self.by_id: dict[str, Enterprise] = {e.enterprise_id: e for e in sc.enterprises}
        self.conflicts = {(c.inspector_id, c.enterprise_id) for c in sc.conflicts}
        self.tasks = {t.code: t for t in self.policy.tasks}

    def strata(self) -> dict[Key, Expected]:
        """Return every stratum with a round this quarter and at least one member."""
        number = int(self.sc.quarter[5])
        found: dict[Key, Expected] = {}
        for task in self.policy.tasks:
            for tier_name, tier in self.policy.tiers.items():
                if number not in tier.quarters:
                    continue
                since = cooldown_start(self.sc.quarter, tier.cooldown_months)
                cooled = {h.enterprise_id for h in self.sc.history
                          if tier.cooldown_months > 0 and h.inspected_on >= since
                          and (self.policy.cooldown_scope == "any" or h.task == task.code)}
                members: dict[str, list[str]] = defaultdict(list)
                for e in self.sc.enterprises:
                    if e.tier == tier_name and task.in_scope(e.jurisdiction, e.industry):
                        members[e.jurisdiction].append(e.enterprise_id)
                for place, ids in members.items():
                    tickets = {i: sha(f"draw-v1:{self.seed_hash}:{self.sc.quarter}:"
                                      f"{task.code}:{i}") for i in ids}
                    order = sorted((i for i in ids if i not in cooled),
                                   key=lambda i: (tickets[i], i))
                    digest = sha(f"round-v1:{self.seed_hash}:{self.sc.quarter}:{task.code}:"
                                 f"{tier_name}:{place}")
                    v = Fraction(int(digest[:16], 16), 2**64)
                    target = min(len(order), math.floor(Fraction(repr(tier.ratio)) * len(ids) + v))
                    floor = min(target, math.floor(Fraction(repr(tier.min_ratio)) * len(ids) + v))
                    found[(task.code, tier_name, place)] = Expected(
                        len(ids), order, tickets, target, floor, tier.priority, task.department)
        return found

    def lawful(self, enterprise_id: str, department: str, quals: frozenset[str]) -> list[str]:
        """Return the officers who may serve on this visit (capacity aside)."""
        place = self.by_id[enterprise_id].jurisdiction
        return [o.inspector_id for o in self.sc.inspectors
                if o.department == department and place.startswith(o.jurisdiction)
                and quals <= set(o.qualifications) and o.certificate_expiry >= self.end
                and o.capacity > 0 and (o.inspector_id, enterprise_id) not in self.conflicts]

    def quals(self, tasks: set[str]) -> frozenset[str]:
        """Return the qualifications a visit carrying these tasks needs."""
        return frozenset(self.tasks[t].qualification for t in tasks
                         if self.tasks[t].qualification)

    def cost(self, enterprise_id: str, inspector_id: str) -> int:
        """Return the cost by the rule the policy names (assign-v2 when it names none)."""
        head = f"{self.seed_hash}:{self.sc.quarter}"
        if self.sc.spec.assign == "assign-v1":
            return int(sha(f"assign-v1:{head}:{enterprise_id}:{inspector_id}")[:10], 16)
        z = int(sha(f"assign-v2:{head}:E:{enterprise_id}")[:16], 16) ^ \
            int(sha(f"assign-v2:{head}:I:{inspector_id}")[:16], 16)
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64
        return (z ^ (z >> 31)) >> 24

    def staffable(self, visits: dict[tuple[str, str], set[str]]) -> bool:
        """Return whether every visit can get team_size lawful officers within capacity."""
        officers = {o.inspector_id: n for n, o in enumerate(self.sc.inspectors)}
        n_visits, team = len(visits), self.policy.team_size
        sink = 1 + n_visits + len(officers)
        arcs: list[tuple[int, int, int]] = []  # (tail, head, capacity)
        for v, ((enterprise_id, department), tasks) in enumerate(sorted(visits.items()), 1):
            arcs.append((0, v, team))
            arcs += [(v, 1 + n_visits + officers[officer], 1)
                     for officer in self.lawful(enterprise_id, department, self.quals(tasks))]
        arcs += [(1 + n_visits + n, sink, min(self.sc.inspectors[n].capacity, team * n_visits))
                 for n in officers.values()]
        tails, heads, caps = zip(*arcs, strict=True)
        graph = csr_array((np.array(caps, dtype=np.int32), (tails, heads)),
                          shape=(sink + 1, sink + 1))
        return bool(maximum_flow(graph, 0, sink).flow_value == team * n_visits)


def plan_visits(plan: spotcheck.Plan) -> dict[tuple[str, str], set[str]]:
    """Return the plan's visits as (enterprise, department) → tasks."""
    return {(v.enterprise_id, v.department): set(v.tasks) for v in plan.visits}


def draws_by_stratum(plan: spotcheck.Plan) -> dict[Key, list[str]]:
    """Return each stratum's drawn ids in rank order."""
    found: dict[Key, list[str]] = defaultdict(list)
    for d in sorted(plan.draws, key=lambda d: (d.task, d.tier, d.jurisdiction, d.rank)):
        found[(d.task, d.tier, d.jurisdiction)].append(d.enterprise_id)
    return found


def skips_by_stratum(plan: spotcheck.Plan, oracle: Oracle) -> dict[Key, set[str]]:
    """Return each stratum's skipped ids."""
    found: dict[Key, set[str]] = defaultdict(set)
    for k in plan.skipped:
        e = oracle.by_id[k.enterprise_id]
        found[(k.task, e.tier, e.jurisdiction)].add(k.enterprise_id)
    return found


def files(sc: Scenario, registry: Registry | None = None) -> dict[str, bytes]:
    """Return the scenario's bundle files with fixed time and software fields."""
    return sc.bundle(registry).files


@given(sc=scenarios(), data=st.data())
def test_row_order_never_changes_the_bundle(sc: Scenario, data: st.DataObject) -> None:
    """Shuffling every input table's rows gives a byte-identical bundle."""
    shuffled = Registry.build(data.draw(st.permutations(sc.enterprises)),
                              data.draw(st.permutations(sc.inspectors)),
                              data.draw(st.permutations(sc.conflicts)),
                              data.draw(st.permutations(sc.history)))
    assert files(sc, shuffled) == files(sc)


@given(sc=scenarios())
def test_same_inputs_and_seed_give_the_same_bundle(sc: Scenario) -> None:
    """Planning twice from freshly built inputs gives the same bytes in every file."""
    first = files(sc)
    rebuilt = Registry.build(list(sc.enterprises), list(sc.inspectors), list(sc.conflicts),
                             list(sc.history))
    assert files(sc, rebuilt) == first
    manifest = json.loads(first["manifest.json"])
    assert (manifest["seed"], manifest["seed_hash"]) == (sc.seed, sha(sc.seed))


def test_bundle_bytes_do_not_depend_on_the_process(city_scenario: Scenario) -> None:
    """Two fresh interpreters with different string-hash seeds write the same bundle bytes."""
    script = ("import hashlib, json, sys; sys.path.insert(0, sys.argv[1]); "
              "from builders import city; "
              "print(json.dumps({n: hashlib.sha256(b).hexdigest() "
              "for n, b in city().bundle().files.items()}))")
    ours = {n: hashlib.sha256(b).hexdigest() for n, b in city_scenario.bundle().files.items()}
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)],
                              capture_output=True, text=True, env=env, check=True)
        assert json.loads(done.stdout) == ours


@given(sc=scenarios(capacity=1000, mixed=False), data=st.data())
def test_larger_allocation_extends_the_smaller_sample(sc: Scenario,
                                                      data: st.DataObject) -> None:
    """Raising one tier's ratio (ample capacity) keeps every stratum's old draw as a prefix.

    Policies here never join two tasks needing different qualifications in one visit: such a
    joint visit can need a team nobody forms, which makes one task's draw depend on another's.
    """
    tiers = sc.spec.tiers  # ascending priority, so ascending ratio
    index = data.draw(st.integers(0, len(tiers) - 1))
    ceiling = tiers[index + 1].ratio if index + 1 < len(tiers) else 1.0
    higher = [r for r in RATIOS if tiers[index].ratio < r <= ceiling]
    assume(higher)
    raised = data.draw(st.sampled_from(higher))
    larger = Scenario(sc.spec.with_ratio(tiers[index].name, raised), *(
        getattr(sc, f) for f in ("enterprises", "inspectors", "conflicts", "history",
                                 "quarter", "seed")))
    small, big = draws_by_stratum(sc.plan), draws_by_stratum(larger.plan)
    old_targets = {(s.task, s.tier, s.jurisdiction): s.target for s in sc.plan.strata}
    new_targets = {(s.task, s.tier, s.jurisdiction): s.target for s in larger.plan.strata}
    assert old_targets.keys() == new_targets.keys()
    for key, target in old_targets.items():
        assert new_targets[key] >= target
        assert big[key][: len(small[key])] == small[key], key
    event(f"more draws: {len(larger.plan.draws) > len(sc.plan.draws)}")


def test_larger_allocation_extends_the_sample_across_joint_visits() -> None:
    """A larger ratio extends each task's sample even when two tasks' joint visit is unstaffable."""
    # Twelve food shops (both tasks) and eight offices (DT-SY only); no officer holds both
    # 食品安全 and 特种设备, so a shop drawn by both tasks can be staffed for one task only.
    enterprises = tuple(enterprise(i, "330102", "A", "F5211" if i <= 12 else "L7212")
                        for i in range(1, 21))
    officers = (inspector(1, qualifications=("食品安全",)),
                inspector(2, qualifications=("食品安全",)),
                inspector(3, qualifications=("特种设备",)),
                inspector(4, qualifications=("特种设备",)))

    def plan(ratio: float) -> dict[Key, list[str]]:
        spec = PolicySpec(2, "any", (TierSpec("A", ratio, 0.05, (4,), 0, 1),),
                          ((*TASK_TEMPLATES[1], ()), (*MIXED_TEMPLATE, ())))
        return draws_by_stratum(Scenario(spec, enterprises, officers, (), (), "2026Q4",
                                         "s0").plan)

    small, big = plan(0.15), plan(0.3)
    for key, sample in small.items():
        assert big[key][: len(sample)] == sample, (key, sample, big[key])


@given(sc=scenarios())
def test_no_inspector_is_over_capacity(sc: Scenario) -> None:
    """No officer is assigned more visits than their quarterly capacity."""
    capacity = {o.inspector_id: o.capacity for o in sc.inspectors}
    load = Counter(a.inspector_id for a in sc.plan.assignments)
    assert all(load[i] <= capacity[i] for i in load), load
    assert len(sc.plan.assignments) == sc.policy.team_size * len(sc.plan.visits)


@given(sc=scenarios())
def test_every_team_is_lawful(sc: Scenario) -> None:
    """Each visit has exactly team_size distinct officers, each meeting every staffing rule."""
    oracle, plan = Oracle(sc), sc.plan
    teams: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in plan.assignments:
        teams[(a.enterprise_id, a.department)].append(a.inspector_id)
        assert a.cost == oracle.cost(a.enterprise_id, a.inspector_id)
    visits = plan_visits(plan)
    assert teams.keys() == visits.keys()
    drawn = {(d.enterprise_id, oracle.tasks[d.task].department, d.task) for d in plan.draws}
    assert drawn == {(e, dept, t) for (e, dept), tasks in visits.items() for t in tasks}
    officers = {o.inspector_id: o for o in sc.inspectors}
    for (enterprise_id, department), members in teams.items():
        assert len(members) == len(set(members)) == sc.policy.team_size
        needed = oracle.quals(visits[(enterprise_id, department)])
        place = oracle.by_id[enterprise_id].jurisdiction
        for member in members:
            officer = officers[member]
            assert officer.department == department
            assert place.startswith(officer.jurisdiction)
            assert needed <= set(officer.qualifications)
            assert officer.certificate_expiry >= oracle.end
            assert (member, enterprise_id) not in oracle.conflicts
    event(f"visits: {min(len(visits), 20) // 5 * 5}+")


@given(sc=scenarios(), data=st.data())
def test_recusal_and_certificate_expiry_bind_an_assigned_officer(sc: Scenario,
                                                                  data: st.DataObject) -> None:
    """Recusing an assigned officer, or a certificate lapsing a day early, removes them."""
    assume(sc.plan.assignments)
    chosen = data.draw(st.sampled_from(sc.plan.assignments))
    conflict = Conflict(inspector_id=chosen.inspector_id, enterprise_id=chosen.enterprise_id)
    recused = replace(sc, conflicts=(*sc.conflicts, conflict))
    assert (chosen.enterprise_id, chosen.inspector_id) not in {
        (a.enterprise_id, a.inspector_id) for a in recused.plan.assignments}

    def expiring(day: date) -> Scenario:
        return replace(sc, inspectors=tuple(
            o.model_copy(update={"certificate_expiry": day})
            if o.inspector_id == chosen.inspector_id else o for o in sc.inspectors))

    end = quarter_end(sc.quarter)
    lapsed = expiring(end - timedelta(days=1))
    assert chosen.inspector_id not in {a.inspector_id for a in lapsed.plan.assignments}
    # valid through the quarter's last day: exactly as lawful as before
    exact = expiring(end)
    assert (exact.plan.strata, exact.plan.draws, exact.plan.skipped, exact.plan.visits,
            exact.plan.assignments) == (sc.plan.strata, sc.plan.draws, sc.plan.skipped,
                                        sc.plan.visits, sc.plan.assignments)


def skip_is_justified(oracle: Oracle, expected: dict[Key, Expected], enterprise_id: str,
                      task: str) -> bool:
    """Whether ALLOCATION.md rule 1 skips the enterprise for the task: no lawful team for
    the task alone, or none for a joint visit with the department's earlier-coded tasks it
    is eligible for (the chain kept in task-code order)."""
    department = oracle.tasks[task].department
    team_size = oracle.policy.team_size
    if len(oracle.lawful(enterprise_id, department, oracle.quals({task}))) < team_size:
        return True
    eligible_for = {k[0] for k, want in expected.items() if enterprise_id in want.order}
    chain: frozenset[str] = frozenset()
    for peer in sorted(t for t in oracle.tasks if oracle.tasks[t].department == department):
        if peer not in eligible_for:
            continue
        wanted = chain | oracle.quals({peer})
        if len(oracle.lawful(enterprise_id, department, wanted)) >= team_size:
            chain = wanted
            if peer == task:
                return False
        elif peer == task:
            return True
    return False


@given(sc=scenarios())
def test_draws_are_the_lowest_tickets_apart_from_skips(sc: Scenario) -> None:
    """Each stratum's draws and skips are exactly its first eligible ids by (ticket, id)."""
    oracle, plan = Oracle(sc), sc.plan
    expected = oracle.strata()
    rows = {(s.task, s.tier, s.jurisdiction): s for s in plan.strata}
    assert rows.keys() == expected.keys()
    assert [(s.task, s.tier, s.jurisdiction) for s in plan.strata] == sorted(rows)
    assert list(plan.draws) == sorted(plan.draws, key=lambda d: (d.task, d.tier,
                                                                 d.jurisdiction, d.rank))
    draws, skips = draws_by_stratum(plan), skips_by_stratum(plan, oracle)
    assert set(draws) | set(skips) <= set(expected)
    for key, want in expected.items():
        row, drawn, skipped = rows[key], draws[key], skips[key]
        assert (row.population, row.eligible, row.target, row.floor) == (
            want.population, len(want.order), want.target, want.floor), key
        assert row.drawn == len(drawn) <= row.target
        assert row.shortfall == max(0, row.floor - row.drawn)
        seen = want.order[: len(drawn) + len(skipped)]
        assert set(seen) == set(drawn) | skipped and not set(drawn) & skipped
        assert drawn == [e for e in seen if e not in skipped]
        for d in plan.draws:
            if (d.task, d.tier, d.jurisdiction) == key:
                assert d.ticket == want.tickets[d.enterprise_id]
                assert d.rank == want.order.index(d.enterprise_id) + 1
        for enterprise_id in skipped:
            # a skip needs a reason the registry alone gives (docs/ALLOCATION.md rule 1)
            assert skip_is_justified(oracle, expected, enterprise_id, key[0]), \
                (key, enterprise_id)
        exhausted = len(seen) == len(want.order)
        if row.drawn < row.target and not exhausted:
            assert row.reason.startswith("capacity"), row
            assert row.allocated == row.drawn
        else:
            assert row.allocated == row.target
    for k in plan.skipped:
        assert k.ticket == sha(f"draw-v1:{oracle.seed_hash}:{sc.quarter}:{k.task}:"
                               f"{k.enterprise_id}")
        assert k.reason


@given(sc=scenarios(capacity=1000))
def test_ample_capacity_meets_every_target(sc: Scenario) -> None:
    """With capacity 1000 each, every stratum draws its target unless skips exhaust it."""
    oracle, plan = Oracle(sc), sc.plan
    expected, skips = oracle.strata(), skips_by_stratum(plan, oracle)
    for row in plan.strata:
        key = (row.task, row.tier, row.jurisdiction)
        if row.drawn < row.target:
            assert row.drawn + len(skips[key]) == len(expected[key].order), row
        assert row.allocated == row.target
        assert not row.reason.startswith("capacity")
    event(f"short by skips: {any(r.drawn < r.target for r in plan.strata)}")


def check_priority_cuts(sc: Scenario) -> int:
    """Assert the capacity-cut rules of alloc-v1 by exchange arguments; return checks made.

    For a stratum H cut by capacity, c is its next candidate. Then (1) the final visits plus c
    cannot be staffed; (2) for every lower-priority stratum L holding a draw l that alloc-v1
    must have admitted after c was refused (any draw if H is below its floor, else a draw
    above L's floor), the final visits minus l plus c cannot be staffed either: L never kept
    a place H needed.
    """
    oracle, plan = Oracle(sc), sc.plan
    expected, skips = oracle.strata(), skips_by_stratum(plan, oracle)
    draws = draws_by_stratum(plan)
    visits = plan_visits(plan)
    checks = 0

    def with_changes(add: tuple[str, str, str], remove: tuple[str, str, str] | None
                     ) -> dict[tuple[str, str], set[str]]:
        changed = {k: set(v) for k, v in visits.items()}
        if remove is not None:
            enterprise_id, department, task = remove
            changed[(enterprise_id, department)].discard(task)
            if not changed[(enterprise_id, department)]:
                del changed[(enterprise_id, department)]
        enterprise_id, department, task = add
        changed.setdefault((enterprise_id, department), set()).add(task)
        return changed

    for h_key, h in expected.items():
        h_row = next(r for r in plan.strata if (r.task, r.tier, r.jurisdiction) == h_key)
        recorded = len(draws[h_key]) + len(skips[h_key])
        if h_row.drawn >= h_row.target or recorded == len(h.order):
            continue
        candidate = (h.order[recorded], h.department, h_key[0])
        assert not oracle.staffable(with_changes(candidate, None)), (h_key, candidate)
        checks += 1
        for l_key, low in expected.items():
            if low.priority >= h.priority:
                continue
            bar = 0 if h_row.drawn < h_row.floor else low.floor
            if len(draws[l_key]) <= bar:
                continue
            removed = (draws[l_key][-1], low.department, l_key[0])
            assert not oracle.staffable(with_changes(candidate, removed)), (h_key, l_key)
            checks += 1
    return checks


@given(sc=scenarios())
def test_capacity_cuts_follow_priority_and_floors(sc: Scenario) -> None:
    """A cut stratum could not grow, and no lower-priority stratum holds a place it needed."""
    event(f"cut checks: {min(check_priority_cuts(sc), 3)}")


def test_capacity_cuts_in_the_city_scenario(city_scenario: Scenario) -> None:
    """The fixed tight-capacity city has cuts, and they follow priority and floors."""
    assert any(r.reason.startswith("capacity") for r in city_scenario.plan.strata)
    assert check_priority_cuts(city_scenario) >= 5


@given(sc=scenarios())
def test_teams_have_minimum_total_cost(sc: Scenario) -> None:
    """No staffing of the plan's visits is cheaper (checked by an independent MILP)."""
    oracle, plan = Oracle(sc), sc.plan
    visits = sorted(plan_visits(plan).items())
    if not visits:
        return
    officers = {o.inspector_id: o for o in sc.inspectors}
    arcs = [(v, officer) for v, ((enterprise_id, department), tasks) in enumerate(visits)
            for officer in oracle.lawful(enterprise_id, department, oracle.quals(tasks))]
    costs = np.array([oracle.cost(visits[v][0][0], o) for v, o in arcs], dtype=float)
    by_visit = np.zeros((len(visits), len(arcs)))
    names = sorted(officers)
    by_officer = np.zeros((len(names), len(arcs)))
    for a, (v, o) in enumerate(arcs):
        by_visit[v, a] = 1
        by_officer[names.index(o), a] = 1
    team = sc.policy.team_size
    result = milp(costs, integrality=np.ones(len(arcs)), bounds=Bounds(0, 1), constraints=[
        LinearConstraint(by_visit, team, team),
        LinearConstraint(by_officer, 0, [officers[n].capacity for n in names])])
    assert result.success
    chosen = [arcs[a] for a in np.flatnonzero(np.round(result.x) == 1)]
    assert Counter(v for v, _ in chosen) == dict.fromkeys(range(len(visits)), team)
    best = sum(oracle.cost(visits[v][0][0], o) for v, o in chosen)
    ours = sum(oracle.cost(a.enterprise_id, a.inspector_id) for a in plan.assignments)
    assert ours == plan.total_cost
    assert ours <= best


def used_arcs(plan: spotcheck.Plan) -> np.ndarray:
    """Return the staffing problem's arcs the plan's teams use."""
    problem = plan.staffing
    chosen = {(a.enterprise_id, a.inspector_id) for a in plan.assignments}
    return np.array([(problem.visit_ids[v], problem.inspector_ids[i]) in chosen
                     for v, i in zip(problem.arc_visit.tolist(), problem.arc_inspector.tolist(),
                                     strict=True)], dtype=bool)


def test_certify_accepts_teams_and_rejects_a_costlier_swap(city_scenario: Scenario) -> None:
    """certify accepts the plan's teams and rejects each swap for a costlier spare officer."""
    plan = city_scenario.plan
    problem, used = plan.staffing, used_arcs(plan)
    assert used.sum() == len(plan.assignments) > 0
    assert certify(problem, used).optimal
    load = np.bincount(problem.arc_inspector[used], minlength=len(problem.inspector_ids))
    swaps = 0
    for member_arc in np.flatnonzero(used):
        visit = problem.arc_visit[member_arc]
        for spare_arc in np.flatnonzero((problem.arc_visit == visit) & ~used):
            spare = problem.arc_inspector[spare_arc]
            extra = int(problem.arc_cost[spare_arc] - problem.arc_cost[member_arc])
            if load[spare] >= problem.capacity[spare] or extra <= 0:
                continue
            swapped = used.copy()
            swapped[member_arc], swapped[spare_arc] = False, True
            verdict = certify(problem, swapped)
            assert not verdict.optimal
            assert 0 < verdict.improvement <= extra
            swaps += 1
    assert swaps >= 10


@given(sc=scenarios())
def test_verify_accepts_every_plan_it_produced(sc: Scenario) -> None:
    """A written bundle, folder or zip, verifies."""
    with tempfile.TemporaryDirectory() as tmp:
        bundle = spotcheck.build_bundle(sc.plan, sc.registry, sc.policy_bytes)
        for name in ("bundle", "bundle.zip"):
            path = spotcheck.write_bundle(bundle, Path(tmp) / name)
            report = spotcheck.verify_bundle(path)
            assert report.ok, report.mismatches


# --- tampering -------------------------------------------------------------------------------


def edit_csv(path: Path, edit: Callable[[list[str]], list[str]]) -> None:
    """Rewrite a CSV file's data lines (header kept) through `edit`."""
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([header, *edit(lines)]) + "\n", encoding="utf-8")


def edit_manifest(path: Path, edit: Callable[[dict], object]) -> None:
    """Rewrite manifest.json through `edit` (which changes it in place or returns a new one)."""
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    manifest = edit(manifest) or manifest
    (path / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n",
                                        encoding="utf-8")


def refresh_digest(path: Path, name: str) -> None:
    """Forge the manifest's digest of one file so it matches the tampered file."""
    section = "inputs" if name.startswith("inputs/") or name == "policy.toml" else "outputs"
    value = hashlib.sha256((path / name).read_bytes()).hexdigest()
    edit_manifest(path, lambda m: m[section].__setitem__(name, value))


# Each tamper edits a written bundle in place and returns the fragments verify must report.


def drop_last_draw(path: Path, sc: Scenario) -> list[str]:
    """Delete the last row of draws.csv."""
    last = (path / "draws.csv").read_text().splitlines()[-1].split(",")[3]
    edit_csv(path / "draws.csv", lambda lines: lines[:-1])
    return [f"enterprise_id={last}", "the seed draws it but the bundle does not list it"]


def swap_drawn_enterprise(path: Path, sc: Scenario) -> list[str]:
    """Put an undrawn enterprise of the same stratum in the first draw row."""
    drawn = {d.enterprise_id for d in sc.plan.draws}
    first = sc.plan.draws[0]
    other = next(e.enterprise_id for e in sc.enterprises
                 if (e.tier, e.jurisdiction) == (first.tier, first.jurisdiction)
                 and e.enterprise_id not in drawn)
    edit_csv(path / "draws.csv",
             lambda lines: [lines[0].replace(first.enterprise_id, other), *lines[1:]])
    return [f"enterprise_id={other}", "is recorded as drawn but the seed does not draw it",
            "is not sha256 of its draw-v1 string"]


def swap_team_member(path: Path, sc: Scenario) -> list[str]:
    """Put another officer of the department on the first team."""
    first = sc.plan.assignments[0]
    team = {a.inspector_id for a in sc.plan.assignments
            if (a.enterprise_id, a.department) == (first.enterprise_id, first.department)}
    other = next(o.inspector_id for o in sc.inspectors
                 if o.department == first.department and o.inspector_id not in team)
    edit_csv(path / "assignments.csv", lambda lines: [
        lines[0].replace(f",{first.inspector_id},", f",{other},"), *lines[1:]])
    return [f"assignments.csv: the team for enterprise {first.enterprise_id}", other]


def change_seed(path: Path, sc: Scenario) -> list[str]:
    """Change the seed in manifest.json."""
    edit_manifest(path, lambda m: m.__setitem__("seed", sc.seed + "1"))
    return ["seed_hash is not sha256 of the seed"]


def change_seed_and_hash(path: Path, sc: Scenario) -> list[str]:
    """Change the seed and, consistently, its seed_hash."""
    def edit(manifest: dict) -> None:
        manifest["seed"] = sc.seed + "1"
        manifest["seed_hash"] = sha(sc.seed + "1")
    edit_manifest(path, edit)
    return ["plan_id", "does not follow from the inputs and seed",
            "the seed draws it but the bundle does not list it"]


def change_tier(path: Path, sc: Scenario) -> list[str]:
    """Change the first enterprise's tier in inputs/enterprises.csv."""
    edit_csv(path / "inputs/enterprises.csv",
             lambda lines: [lines[0][:-1] + ("C" if lines[0].endswith("D") else "D"),
                            *lines[1:]])
    return ["inputs/enterprises.csv does not match the digest recorded in manifest.json"]


def change_tier_and_digest(path: Path, sc: Scenario) -> list[str]:
    """Change a tier and forge the input digest to match."""
    change_tier(path, sc)
    refresh_digest(path, "inputs/enterprises.csv")
    return ["plan_id", "does not follow from the inputs and seed", "strata.csv"]


def change_ratio(path: Path, sc: Scenario) -> list[str]:
    """Change tier D's ratio in policy.toml."""
    text = (path / "policy.toml").read_text(encoding="utf-8")
    assert text.count("ratio = 0.6\n") == 1
    (path / "policy.toml").write_text(text.replace("ratio = 0.6\n", "ratio = 0.65\n"),
                                      encoding="utf-8")
    return ["policy.toml does not match the digest recorded in manifest.json",
            "the parsed policy recorded there differs from policy.toml"]


def change_ratio_and_digest(path: Path, sc: Scenario) -> list[str]:
    """Change a ratio and forge the policy digest to match."""
    change_ratio(path, sc)
    refresh_digest(path, "policy.toml")
    return ["the parsed policy recorded there differs from policy.toml", "plan_id"]


def drop_draw_and_digest(path: Path, sc: Scenario) -> list[str]:
    """Delete a draw and forge the output digest to match."""
    found = drop_last_draw(path, sc)
    refresh_digest(path, "draws.csv")
    return found


def swap_member_and_digest(path: Path, sc: Scenario) -> list[str]:
    """Swap a team member and forge the output digest to match."""
    found = swap_team_member(path, sc)
    refresh_digest(path, "assignments.csv")
    return found


TAMPERS = [drop_last_draw, swap_drawn_enterprise, swap_team_member, change_seed,
           change_seed_and_hash, change_tier, change_tier_and_digest, change_ratio,
           change_ratio_and_digest, drop_draw_and_digest, swap_member_and_digest]


@pytest.fixture(scope="module")
def city_bundle(city_scenario: Scenario) -> spotcheck.Bundle:
    """The city scenario's bundle, built once."""
    return city_scenario.bundle()


def test_untampered_city_bundle_verifies(city_bundle: spotcheck.Bundle, tmp_path: Path) -> None:
    """The bundle the tamper tests start from verifies as written."""
    report = spotcheck.verify_bundle(spotcheck.write_bundle(city_bundle, tmp_path / "b"))
    assert report.ok, report.mismatches


@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.__name__ for t in TAMPERS])
def test_verify_rejects_a_single_tamper(tamper: Callable[[Path, Scenario], list[str]],
                                        city_bundle: spotcheck.Bundle,
                                        city_scenario: Scenario, tmp_path: Path) -> None:
    """Verify refuses a bundle after one edit and names what does not reproduce."""
    path = spotcheck.write_bundle(city_bundle, tmp_path / "b")
    fragments = tamper(path, city_scenario)
    report = spotcheck.verify_bundle(path)
    assert not report.ok
    text = "\n".join(report.mismatches)
    for fragment in fragments:
        assert fragment in text, (fragment, text)


@given(sc=scenarios(min_enterprises=30), data=st.data())
def test_verify_rejects_a_random_edit(sc: Scenario, data: st.DataObject) -> None:
    """Changing a cell, or deleting or repeating a row, of any bundle CSV is detected."""
    bundle = sc.bundle()
    name = data.draw(st.sampled_from(sorted(n for n, b in bundle.files.items()
                                            if n.endswith(".csv") and b.count(b"\n") > 1)))
    header, *rows = csv.reader(io.StringIO(bundle.files[name].decode("utf-8"), newline=""))
    row = data.draw(st.integers(0, len(rows) - 1))
    kind = data.draw(st.sampled_from(("cell", "delete", "repeat")))
    if kind == "cell":
        column = data.draw(st.integers(0, len(header) - 1))
        rows[row][column] += data.draw(st.sampled_from("0X9"))
    elif kind == "delete":
        del rows[row]
    else:
        rows.insert(row, rows[row])
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    with tempfile.TemporaryDirectory() as tmp:
        path = spotcheck.write_bundle(bundle, Path(tmp) / "b")
        (path / name).write_bytes(out.getvalue().encode("utf-8"))
        report = spotcheck.verify_bundle(path)
    assert not report.ok
    assert any(name in m for m in report.mismatches), report.mismatches


# --- verify must report, never raise, on malformed bundles --------------------------------

MALFORMED_ROWS = [
    pytest.param("draws.csv", "drop", id="draws-row-missing-a-field"),
    pytest.param("strata.csv", "add", id="strata-row-with-an-extra-field"),
    pytest.param("assignments.csv", "drop", id="assignments-row-missing-a-field"),
    pytest.param("assignments.csv", "add", id="assignments-row-with-an-extra-field"),
    pytest.param("visits.csv", "drop", id="visits-row-missing-a-field"),
]


@pytest.mark.parametrize(("name", "change"), MALFORMED_ROWS)
def test_verify_reports_a_row_with_a_wrong_field_count(name: str, change: str,
                                                       city_bundle: spotcheck.Bundle,
                                                       tmp_path: Path) -> None:
    """A result row with a field missing or added is reported as a mismatch, not raised."""
    path = spotcheck.write_bundle(city_bundle, tmp_path / "b")
    edit_csv(path / name, lambda lines: [
        lines[0].rsplit(",", 1)[0] if change == "drop" else lines[0] + ",x", *lines[1:]])
    report = spotcheck.verify_bundle(path)
    assert not report.ok
    assert any(name in m for m in report.mismatches), report.mismatches


def bad_manifest(edit: Callable[[dict], object], fault: type[Exception] | None,
                 where: str) -> tuple[Callable[[dict], object], type[Exception] | None, str]:
    """Bundle one manifest tamper with the exception it currently raises (None: reported)."""
    return edit, fault, where


MALFORMED_MANIFESTS = {
    "seed-is-a-number": bad_manifest(lambda m: m.__setitem__("seed", 20261001), None, ""),
    "quarter-is-missing": bad_manifest(lambda m: m.__delitem__("quarter"), None, ""),
    "manifest-is-a-list": bad_manifest(lambda m: sorted(m), AttributeError, "verify.py:89 "
                                       "calls manifest.get on whatever JSON value it holds"),
    "inputs-is-a-list": bad_manifest(lambda m: m.__setitem__("inputs", list(m["inputs"])),
                                     AttributeError, "verify.py:111 calls recorded.get"),
    "outputs-is-null": bad_manifest(lambda m: m.__setitem__("outputs", None),
                                    AttributeError, "verify.py:146 calls .get on outputs"),
    "counts-is-a-list": bad_manifest(lambda m: m.__setitem__("counts", []),
                                     AttributeError, "verify.py:159 calls counts.get"),
    "seed-is-a-lone-surrogate": bad_manifest(
        lambda m: m.__setitem__("seed", "2026\udcff"), UnicodeEncodeError,
        "verify.py:103 hashes the seed; normalise_seed (hashes.py:27) lets a lone "
        "surrogate through and UTF-8 encoding raises"),
}


@pytest.mark.parametrize("tamper", [
    pytest.param(key, id=key) for key in MALFORMED_MANIFESTS])
def test_verify_reports_a_malformed_manifest(tamper: str, city_bundle: spotcheck.Bundle,
                                             tmp_path: Path) -> None:
    """A manifest of the wrong shape is reported as a mismatch naming manifest.json."""
    path = spotcheck.write_bundle(city_bundle, tmp_path / "b")
    edit_manifest(path, MALFORMED_MANIFESTS[tamper][0])
    report = spotcheck.verify_bundle(path)
    assert not report.ok
    assert any("manifest.json" in m for m in report.mismatches), report.mismatches


def test_a_carriage_return_in_text_is_refused(ample_city_scenario: Scenario) -> None:
    """Control characters in names and reasons are refused, so bundle CSVs stay one line a row."""
    sc = ample_city_scenario
    with pytest.raises(ValidationError, match="control characters"):
        spotcheck.Enterprise(**{**sc.enterprises[0].model_dump(), "name": "企业\r分店"})
    with pytest.raises(ValidationError, match="control characters"):
        spotcheck.Conflict(**{**sc.conflicts[0].model_dump(), "reason": "亲属\r关系"})
    unchecked = (sc.enterprises[0].model_copy(update={"name": "企业\r分店"}),
                 *sc.enterprises[1:])
    with pytest.raises(spotcheck.InvalidInputError, match="control characters"):
        spotcheck.Registry.build(unchecked, sc.inspectors, sc.conflicts, sc.history)
