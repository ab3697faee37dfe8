"""assign-v1: the teams of minimum total random cost, by exact min-cost flow (OR-Tools)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from .errors import SpotcheckError
from .hashes import ASSIGN


@dataclass(frozen=True, eq=False)
class StaffingProblem:
    """The min-cost staffing network: visits, their lawful inspectors, costs and capacities."""

    team_size: int
    visit_ids: list[str]          # enterprise_id of each visit
    inspector_ids: list[str]
    capacity: np.ndarray          # int64 per inspector
    arc_visit: np.ndarray         # int64 per arc
    arc_inspector: np.ndarray     # int64 per arc
    arc_cost: np.ndarray          # int64 per arc

    @property
    def visits(self) -> int:
        """Return the number of visits."""
        return len(self.visit_ids)


def arc_costs(seed_digest: str, quarter: str, enterprise_ids: list[str],
              inspector_ids: list[str], arc_visit: np.ndarray,
              arc_inspector: np.ndarray) -> np.ndarray:
    """Return the assign-v1 cost of every (visit, inspector) arc."""
    prefix = f"{ASSIGN}:{seed_digest}:{quarter}:".encode()
    ent = [prefix + e.encode() + b":" for e in enterprise_ids]
    ins = [i.encode() for i in inspector_ids]
    sha = hashlib.sha256
    return np.array([int.from_bytes(sha(ent[v] + ins[i]).digest()[:5], "big")
                     for v, i in zip(arc_visit.tolist(), arc_inspector.tolist(), strict=True)],
                    dtype=np.int64)


def build_problem(seed_digest: str, quarter: str, team_size: int, visit_ids: list[str],
                  eligible: list[np.ndarray], inspector_ids: list[str],
                  capacity: list[int]) -> StaffingProblem:
    """Return the staffing network of the given visits."""
    sizes = np.array([len(e) for e in eligible], dtype=np.int64)
    arc_visit = np.repeat(np.arange(len(eligible), dtype=np.int64), sizes)
    arc_inspector = (np.concatenate(eligible).astype(np.int64) if eligible
                     else np.zeros(0, dtype=np.int64))
    costs = arc_costs(seed_digest, quarter, visit_ids, inspector_ids, arc_visit, arc_inspector)
    return StaffingProblem(team_size, visit_ids, inspector_ids,
                           np.asarray(capacity, dtype=np.int64), arc_visit, arc_inspector, costs)


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
