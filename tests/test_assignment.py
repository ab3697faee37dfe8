"""Assignment: pruned solving is exact, and sharing the hashing never changes a plan."""

from __future__ import annotations

import numpy as np
import pytest

import scheduler
from scheduler import assignment
from scheduler.demo import synthetic_city
from scheduler.hashes import cost

SEED = "assignment-test-seed"


@pytest.fixture(scope="module")
def city() -> scheduler.Registry:
    """A small synthetic city."""
    return synthetic_city(4000)


def test_pruned_teams_equal_full_network_optimum(city: scheduler.Registry) -> None:
    """Solving each visit's cheapest pairs gives the same teams as solving every pair."""
    policy, _ = scheduler.load_policy()
    plan = scheduler.plan_quarter(city, policy, "2026Q4", SEED, workers=1)
    problem = plan.staffing
    full = assignment.build_problem(plan.seed_hash, plan.quarter, problem.team_size,
                                    problem.visit_ids, problem.lawful, problem.inspector_ids,
                                    problem.capacity.tolist())
    assert len(full.arc_cost) > len(problem.arc_cost)
    flows = assignment.solve_min_cost(full)
    chosen = np.flatnonzero(flows > 0)
    teams = sorted((full.visit_ids[v], full.inspector_ids[i]) for v, i in
                   zip(full.arc_visit[chosen].tolist(), full.arc_inspector[chosen].tolist(),
                       strict=True))
    assert teams == sorted((a.enterprise_id, a.inspector_id) for a in plan.assignments)


def test_visit_costs_match_assign_v1(city: scheduler.Registry) -> None:
    """The batched per-visit hashing equals assign-v1 computed one pair at a time."""
    digest = scheduler.seed_hash(SEED)
    officers = [o.inspector_id for o in city.inspectors[:50]]
    enterprise = city.enterprises.ids[7].decode()
    batched = assignment.visit_costs(digest, "2026Q4", enterprise,
                                     [o.encode() for o in officers])
    assert batched.tolist() == [cost(digest, "2026Q4", enterprise, o) for o in officers]


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_tiny_pruning_still_gives_the_optimum(keep: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keeping fewer pairs than a team needs stays feasible (allocation's teams are always
    given) and still ends at the full network's optimum, under tight capacity."""
    city = synthetic_city(6000)
    tight = scheduler.Registry.build(
        city.enterprises, [o.model_copy(update={"capacity": max(1, o.capacity // 20)})
                           for o in city.inspectors], city.conflicts, city.history)
    policy, _ = scheduler.load_policy()
    usual = scheduler.plan_quarter(tight, policy, "2026Q4", SEED, workers=1)
    assert any(s.drawn < s.target for s in usual.strata)  # capacity binds
    monkeypatch.setattr(assignment, "pruned_keep", lambda team_size: keep)
    pruned = scheduler.plan_quarter(tight, policy, "2026Q4", SEED, workers=1)
    assert pruned.assignments == usual.assignments
