"""Assignment: pruned solving is exact, and sharing the hashing never changes a plan."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spotcheck
from spotcheck.demo import synthetic_city
from spotcheck.scheduler import assignment
from spotcheck.scheduler.hashes import cost
from spotcheck.scheduler.network import StaffingProblem
from spotcheck.scheduler.optimality import certify

SEED = "assignment-test-seed"


@pytest.fixture(scope="module")
def city() -> spotcheck.Registry:
    """A small synthetic city."""
    return synthetic_city(4000)


def test_pruned_teams_equal_full_network_optimum(city: spotcheck.Registry) -> None:
    """Solving each visit's cheapest pairs gives the same teams as solving every pair."""
    policy, _ = spotcheck.load_policy()
    plan = spotcheck.plan_quarter(city, policy, "2026Q4", SEED, workers=1)
    problem = plan.staffing
    full = assignment.build_problem(plan.seed_hash, plan.quarter, problem.team_size,
                                    problem.visit_ids, problem.lawful, problem.inspector_ids,
                                    problem.capacity.tolist(), assign=plan.assign)
    assert len(full.arc_cost) > len(problem.arc_cost)
    flows = assignment.solve_min_cost(full)
    chosen = np.flatnonzero(flows > 0)
    teams = sorted((full.visit_ids[v], full.inspector_ids[i]) for v, i in
                   zip(full.arc_visit[chosen].tolist(), full.arc_inspector[chosen].tolist(),
                       strict=True))
    assert teams == sorted((a.enterprise_id, a.inspector_id) for a in plan.assignments)


@pytest.mark.parametrize("assign", ["assign-v1", "assign-v2"])
def test_visit_costs_match_the_rule(city: spotcheck.Registry, assign: str) -> None:
    """The batched per-visit costs equal the rule's cost computed one pair at a time."""
    digest = spotcheck.seed_hash(SEED)
    officers = [o.inspector_id for o in city.inspectors[:50]]
    enterprise = city.enterprises.ids[7].decode()
    batched = assignment.visit_costs(digest, "2026Q4", enterprise,
                                     [o.encode() for o in officers], assign=assign)
    assert batched.tolist() == [cost(digest, "2026Q4", enterprise, o, assign) for o in officers]


@pytest.mark.parametrize("assign", ["assign-v1", "assign-v2"])
@pytest.mark.parametrize("keep", [1, 2, 3])
def test_tiny_pruning_still_gives_the_optimum(keep: int, assign: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Keeping fewer pairs than a team needs stays feasible (allocation's teams are always
    given) and still ends at the full network's optimum, under tight capacity and either
    assign rule."""
    city = synthetic_city(6000)
    tight = spotcheck.Registry.build(
        city.enterprises, [o.model_copy(update={"capacity": max(1, o.capacity // 20)})
                           for o in city.inspectors], city.conflicts, city.history)
    policy, _ = spotcheck.load_policy()
    usual = spotcheck.plan_quarter(tight, policy, "2026Q4", SEED, workers=1, assign=assign)
    assert any(s.drawn < s.target for s in usual.strata)  # capacity binds
    monkeypatch.setattr(assignment, "pruned_keep", lambda team_size: keep)
    pruned = spotcheck.plan_quarter(tight, policy, "2026Q4", SEED, workers=1, assign=assign)
    assert pruned.assignments == usual.assignments


@pytest.fixture(scope="module")
def tight_city() -> spotcheck.Registry:
    """A small city whose officers have a twentieth of their capacity."""
    city = synthetic_city(6000)
    return spotcheck.Registry.build(
        city.enterprises, [o.model_copy(update={"capacity": max(1, o.capacity // 20)})
                           for o in city.inspectors], city.conflicts, city.history)


def _teams(plan: spotcheck.Plan) -> dict[tuple[str, str], list[str]]:
    teams: dict[tuple[str, str], list[str]] = {}
    for a in plan.assignments:
        teams.setdefault((a.enterprise_id, a.department), []).append(a.inspector_id)
    return teams


def test_optimal_teams_are_certified_without_a_solver(tight_city: spotcheck.Registry,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the optimal teams, the plan is rebuilt and proven without running the solver."""
    policy, _ = spotcheck.load_policy()
    plan = spotcheck.plan_quarter(tight_city, policy, "2026Q4", SEED, workers=1)

    def no_solver(problem: StaffingProblem, workers: int = 1) -> np.ndarray:
        raise AssertionError("the solver ran")

    monkeypatch.setattr(assignment, "solve_min_cost", no_solver)
    checked = spotcheck.plan_quarter(tight_city, policy, "2026Q4", SEED, workers=1,
                                     teams=_teams(plan))
    assert (checked.draws, checked.visits, checked.assignments) == \
        (plan.draws, plan.visits, plan.assignments)


def test_lawful_but_costlier_teams_are_refused(tight_city: spotcheck.Registry) -> None:
    """Swapping one officer for another lawful one with room gives teams that are refused."""
    policy, _ = spotcheck.load_policy()
    plan = spotcheck.plan_quarter(tight_city, policy, "2026Q4", SEED, workers=1)
    teams = _teams(plan)
    load: dict[str, int] = {}
    for a in plan.assignments:
        load[a.inspector_id] = load.get(a.inspector_id, 0) + 1
    capacity = {o.inspector_id: o.capacity for o in tight_city.inspectors}
    problem = plan.staffing
    index = {o: i for i, o in enumerate(problem.inspector_ids)}
    for v, enterprise in enumerate(problem.visit_ids):
        lawful = problem.lawful[v].tolist()
        key = next(k for k in teams if k[0] == enterprise and index[teams[k][0]] in lawful)
        members = teams[key]
        spare = [problem.inspector_ids[i] for i in lawful
                 if problem.inspector_ids[i] not in members
                 and load.get(problem.inspector_ids[i], 0) < capacity[problem.inspector_ids[i]]]
        if spare:
            teams[key] = [spare[0], members[1]]
            break
    else:
        pytest.fail("no officer with room to swap in")
    with pytest.raises(spotcheck.scheduler.plan.TeamsNotOptimal, match="cheaper"):
        spotcheck.plan_quarter(tight_city, policy, "2026Q4", SEED, workers=1, teams=teams)


def test_unlawful_or_missing_teams_are_refused(tight_city: spotcheck.Registry) -> None:
    """A team with an officer from elsewhere, or a visit without a team, is refused."""
    policy, _ = spotcheck.load_policy()
    plan = spotcheck.plan_quarter(tight_city, policy, "2026Q4", SEED, workers=1)
    teams = _teams(plan)
    key = next(iter(teams))
    stranger = next(o.inspector_id for o in tight_city.inspectors
                    if o.department != key[1])
    with pytest.raises(spotcheck.scheduler.plan.TeamsNotOptimal, match="lawful"):
        spotcheck.plan_quarter(tight_city, policy, "2026Q4", SEED, workers=1,
                               teams={**teams, key: [stranger, teams[key][1]]})
    del teams[key]
    with pytest.raises(spotcheck.scheduler.plan.TeamsNotOptimal, match="visits"):
        spotcheck.plan_quarter(tight_city, policy, "2026Q4", SEED, workers=1, teams=teams)


@st.composite
def contested_networks(draw: st.DrawFn) -> dict:
    """Draw a staffing network where officers are scarce: visits with 12–40 lawful officers
    (more than the first network keeps), a lawful staffing within capacity, and capacities
    that leave little slack, so optimal teams reach beyond each visit's cheapest pairs."""
    n_officers = draw(st.integers(14, 45))
    n_visits = draw(st.integers(1, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    pools = [np.sort(rng.choice(n_officers, size=int(rng.integers(12, min(40, n_officers) + 1)),
                                replace=False)).astype(np.int64) for _ in range(4)]
    lawful = [pools[int(rng.integers(0, 4))] for _ in range(n_visits)]
    load = np.zeros(n_officers, dtype=np.int64)
    team_visit, team_officer = [], []
    for v, members in enumerate(lawful):
        chosen = rng.choice(members, size=2, replace=False)
        load[chosen] += 1
        team_visit += [v, v]
        team_officer += chosen.tolist()
    slack = draw(st.integers(0, 2))
    return {
        "visit_ids": [f"913301020{v:09d}" for v in range(n_visits)],
        "inspector_ids": [f"INS-{o:04d}" for o in range(n_officers)],
        "eligible": lawful,
        "capacity": (load + rng.integers(0, slack + 1, size=n_officers)).tolist(),
        "teams": (np.array(team_visit, dtype=np.int64), np.array(team_officer, dtype=np.int64)),
        "seed": draw(st.text("0123456789", min_size=4, max_size=8)),
    }


@settings(max_examples=60, deadline=None)
@given(contested_networks(), st.sampled_from(["assign-v1", "assign-v2"]),
       st.sampled_from([(1, 2), (2, 3), (10, 12)]))
def test_staffing_equals_the_full_network_optimum(network: dict, assign: str,
                                                  keeps: tuple[int, int]) -> None:
    """On random contested networks, `staff` (pruned, then priced by the first solution's
    potentials, then widened) ends at OR-Tools' optimum of the whole network, its flow is
    certified, and `certify_teams` accepts exactly that staffing. Small first and priced
    networks make every step happen."""
    digest = spotcheck.seed_hash(network["seed"])
    args = (digest, "2026Q4", 2, network["visit_ids"], network["eligible"],
            network["inspector_ids"], network["capacity"])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(assignment, "pruned_keep", lambda team_size: keeps[0])
        patch.setattr(assignment, "priced_keep", lambda team_size: keeps[1])
        problem, flows = assignment.staff(*args, assign=assign, teams=network["teams"])
    full = assignment.build_problem(*args, assign=assign)
    best = assignment.solve_min_cost(full)
    assert int((problem.arc_cost * flows).sum()) == int((full.arc_cost * best).sum())
    used = flows > 0
    width = len(network["inspector_ids"])
    on_full = np.isin(full.arc_visit * width + full.arc_inspector,
                      problem.arc_visit[used] * width + problem.arc_inspector[used])
    assert certify(full, on_full).optimal  # on every lawful pair: nothing left out
    assert assignment.certify_teams(*args, (problem.arc_visit[used], problem.arc_inspector[used]),
                                    assign=assign) is not None
    optimum = set((problem.arc_visit[used] * width + problem.arc_inspector[used]).tolist())
    given_teams = set((network["teams"][0] * width + network["teams"][1]).tolist())
    if given_teams != optimum and int((full.arc_cost * best).sum()) < int(
            full.arc_cost[np.isin(full.arc_visit * width + full.arc_inspector,
                                  list(given_teams))].sum()):
        assert assignment.certify_teams(*args, network["teams"], assign=assign) is None


def test_priced_round_is_taken_where_officers_are_scarce(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where officers are scarce the first network leaves visits unproven; the second is
    then chosen by officer prices, and the teams are still the full network's optimum."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.province import PROVINCE_POLICY, province_registry

    priced: list[bool] = []
    build = assignment.build_problem

    def recording(*args: object, **kwargs: object) -> StaffingProblem:
        priced.append(kwargs.get("prices") is not None)
        return build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(assignment, "build_problem", recording)
    policy, _ = spotcheck.load_policy(PROVINCE_POLICY)
    province = province_registry(30_000)
    scarce = spotcheck.Registry.build(  # a fifth of each officer's capacity
        province.enterprises, [o.model_copy(update={"capacity": max(1, o.capacity // 5)})
                               for o in province.inspectors], province.conflicts,
        province.history)
    plan = spotcheck.plan_quarter(scarce, policy, "2026Q4", SEED, workers=1)
    assert priced[0] is False and any(priced)
    problem = plan.staffing
    full = build(plan.seed_hash, plan.quarter, problem.team_size, problem.visit_ids,
                 problem.lawful, problem.inspector_ids, problem.capacity.tolist(),
                 assign=plan.assign)
    best = np.flatnonzero(assignment.solve_min_cost(full) > 0)
    assert sorted((full.visit_ids[v], full.inspector_ids[i]) for v, i in zip(
        full.arc_visit[best].tolist(), full.arc_inspector[best].tolist(), strict=True)) == \
        sorted((a.enterprise_id, a.inspector_id) for a in plan.assignments)


def test_parts_solved_in_forked_workers_equal_one_process(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Solving the network's connected parts in two processes gives the one-process flow."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.province import PROVINCE_POLICY, province_registry

    policy, _ = spotcheck.load_policy(PROVINCE_POLICY)
    plan = spotcheck.plan_quarter(province_registry(30_000), policy, "2026Q4", SEED, workers=1)
    monkeypatch.setattr(assignment, "PARALLEL_MIN_PAIRS", 0)
    alone = assignment.solve_min_cost(plan.staffing, workers=1)
    shared = assignment.solve_min_cost(plan.staffing, workers=2)
    assert np.array_equal(alone, shared)
    assert int(alone.sum()) == 2 * plan.staffing.visits


def test_team_pairs_are_merged_in_arc_order() -> None:
    """Allocation's team pairs merged into sorted arcs give what sorting all of them gives."""
    from spotcheck.scheduler.costs import PairCosts

    rng = np.random.default_rng(13)
    n_visits, n_officers = 40, 25
    pricing = PairCosts.build("assign-v2", spotcheck.seed_hash(SEED), "2026Q4",
                              np.array([f"E{v}".encode() for v in range(n_visits)], "S18"),
                              np.array([f"I{o}".encode() for o in range(n_officers)], "S32"))
    keys = np.unique(rng.integers(0, n_visits * n_officers, size=300))
    arc_visit, arc_officer = keys // n_officers, keys % n_officers
    arc_cost = pricing.pairs(arc_visit, arc_officer)
    team = rng.permutation(np.unique(rng.integers(0, n_visits * n_officers, size=60)))
    merged = assignment._with_teams(pricing, (arc_visit, arc_officer, arc_cost),
                                    (team // n_officers, team % n_officers))
    every = np.union1d(keys, team)
    expected = (every // n_officers, every % n_officers,
                pricing.pairs(every // n_officers, every % n_officers))
    assert all(np.array_equal(got, want) for got, want in zip(merged, expected, strict=True))
