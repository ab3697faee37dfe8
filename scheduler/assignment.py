"""assign-v1: the teams of minimum total random cost, by exact min-cost flow (OR-Tools).

Every lawful (visit, officer) pair has a cost, and all of them are hashed; but only each
visit's few cheapest pairs go into the solver. The solution is then proven optimal for
the whole network by reduced costs: with node potentials from the pruned solution's
residual network, no left-out pair could lower the total (it costs at least the visit's
cheapest left-out cost). Where that proof fails for a visit, its pairs are all added and
the network is solved again. The answer is the exact optimum of the full network either
way; pruning only keeps the solver's network small.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .errors import SpotcheckError
from .hashes import ASSIGN

NO_ARC_LEFT_OUT = 2**40  # above every 40-bit cost
_BYTE_WEIGHTS = np.array([2**32, 2**24, 2**16, 2**8, 1], dtype=np.int64)


@dataclass(frozen=True, eq=False)
class StaffingProblem:
    """The min-cost staffing network: visits, lawful officers, costs and capacities.

    `arc_*` hold the pairs given to the solver; `lawful[v]` lists every lawful officer of
    visit v and `left_out_cost[v]` is the cheapest cost among v's pairs not in `arc_*`.
    """

    team_size: int
    visit_ids: list[str]          # enterprise_id of each visit
    inspector_ids: list[str]
    capacity: np.ndarray          # int64 per inspector
    arc_visit: np.ndarray         # int64 per arc
    arc_inspector: np.ndarray     # int64 per arc
    arc_cost: np.ndarray          # int64 per arc
    lawful: list[np.ndarray]
    left_out_cost: np.ndarray     # int64 per visit

    @property
    def visits(self) -> int:
        """Return the number of visits."""
        return len(self.visit_ids)


def visit_costs(seed_digest: str, quarter: str, enterprise_id: str,
                officer_ids: Sequence[bytes]) -> np.ndarray:
    """Return the assign-v1 cost of each officer (ids as bytes) on one enterprise's visit."""
    if not officer_ids:
        return np.zeros(0, dtype=np.int64)
    # The message prefix is hashed once per visit and copied per officer.
    start = hashlib.sha256(f"{ASSIGN}:{seed_digest}:{quarter}:{enterprise_id}:".encode())
    fresh = start.copy

    def digest(officer: bytes) -> bytes:
        state = fresh()
        state.update(officer)
        return state.digest()

    raw = np.frombuffer(b"".join(map(digest, officer_ids)), dtype=np.uint8)
    return raw.reshape(-1, 32)[:, :5].astype(np.int64) @ _BYTE_WEIGHTS


def build_problem(seed_digest: str, quarter: str, team_size: int, visit_ids: list[str],
                  eligible: list[np.ndarray], inspector_ids: list[str],
                  capacity: list[int], *, keep: int | None = None,
                  complete: frozenset[int] = frozenset()) -> StaffingProblem:
    """Return the staffing network, each visit keeping its `keep` cheapest pairs.

    Visits in `complete` keep every pair; `keep=None` keeps every pair of every visit.
    """
    encoded = [i.encode() for i in inspector_ids]
    arc_visit: list[np.ndarray] = []
    arc_inspector: list[np.ndarray] = []
    arc_cost: list[np.ndarray] = []
    left_out = np.full(len(visit_ids), NO_ARC_LEFT_OUT, dtype=np.int64)
    for v, (enterprise, officers) in enumerate(zip(visit_ids, eligible, strict=True)):
        costs = visit_costs(seed_digest, quarter, enterprise, [encoded[i] for i in officers])
        chosen = np.arange(len(officers))
        if keep is not None and v not in complete and len(officers) > keep:
            order = np.argpartition(costs, keep)
            chosen, dropped = order[:keep], order[keep:]
            left_out[v] = costs[dropped].min()
        arc_visit.append(np.full(len(chosen), v, dtype=np.int64))
        arc_inspector.append(officers[chosen].astype(np.int64))
        arc_cost.append(costs[chosen])
    empty = np.zeros(0, dtype=np.int64)
    return StaffingProblem(
        team_size, visit_ids, inspector_ids, np.asarray(capacity, dtype=np.int64),
        np.concatenate(arc_visit) if arc_visit else empty,
        np.concatenate(arc_inspector) if arc_inspector else empty,
        np.concatenate(arc_cost) if arc_cost else empty,
        eligible, left_out)


def solve_min_cost(problem: StaffingProblem) -> np.ndarray:
    """Return a 0/1 flow per arc that staffs every visit at minimum total cost."""
    from ortools.graph.python import min_cost_flow

    n_visits, n_inspectors = problem.visits, len(problem.inspector_ids)
    if n_visits == 0:
        return np.zeros(0, dtype=np.int64)
    source, sink = 0, 1 + n_visits + n_inspectors
    visit_node = 1 + np.arange(n_visits, dtype=np.int64)
    inspector_node = 1 + n_visits + np.arange(n_inspectors, dtype=np.int64)
    solver = min_cost_flow.SimpleMinCostFlow()
    n_arcs = len(problem.arc_visit)
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(n_visits, source), visit_node[problem.arc_visit],
                        inspector_node]),
        np.concatenate([visit_node, inspector_node[problem.arc_inspector],
                        np.full(n_inspectors, sink)]),
        np.concatenate([np.full(n_visits, problem.team_size), np.ones(n_arcs, np.int64),
                        problem.capacity]),
        np.concatenate([np.zeros(n_visits, np.int64), problem.arc_cost,
                        np.zeros(n_inspectors, np.int64)]),
    )
    demand = problem.team_size * n_visits
    solver.set_nodes_supplies(np.array([source, sink]), np.array([demand, -demand]))
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise SpotcheckError(f"the staffing solver ended with status {status.name}; "
                             "allocation admitted visits it could not staff")
    flows = solver.flows(np.arange(n_visits, n_visits + n_arcs))
    return np.asarray(flows, dtype=np.int64)


def staff(seed_digest: str, quarter: str, team_size: int, visit_ids: list[str],
          eligible: list[np.ndarray], inspector_ids: list[str],
          capacity: list[int]) -> tuple[StaffingProblem, np.ndarray]:
    """Return the staffing network and the optimal 0/1 flow per arc, proven optimal."""
    from .optimality import certify

    complete: frozenset[int] = frozenset()
    keep = 4 * team_size + 4
    while True:
        problem = build_problem(seed_digest, quarter, team_size, visit_ids, eligible,
                                inspector_ids, capacity, keep=keep, complete=complete)
        flows = solve_min_cost(problem)
        verdict = certify(problem, flows > 0)
        if verdict.optimal:
            return problem, flows
        if not verdict.unproven:
            raise SpotcheckError("the staffing solver returned teams that are not optimal")
        complete = complete | frozenset(verdict.unproven)
