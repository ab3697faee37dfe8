"""Experts (专家) on top of a visit's officers, when its tasks ask for them (policy `experts`).

A visit needs the most experts any of its tasks asks for, each holding every
`expert_qualification` of those tasks; the lawful experts are `StaffingRules.expert_pool`'s.
Experts never count toward team_size and never decide whether a visit is admitted: a visit
whose experts cannot be found keeps its officers, and the gap is recorded (expert_gaps.csv).

Which experts go where follows the plan's assign rule, as the officers' teams do, priced the
same way (cost(enterprise, expert)): the most expert places that capacity allows are filled
(a maximum flow: source → visit, its need; visit → lawful expert, 1; expert → sink, its
capacity), and of all such fillings the one of minimum total cost. With 40-bit random costs
it is unique with overwhelming probability. OR-Tools finds it; `certify` proves it without
a solver: no augmenting path (maximum) and no negative cycle in the residual network
(cheapest among maximum flows).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from spotcheck.errors import SpotcheckError
from spotcheck.models.policy import Policy
from spotcheck.models.registry import Registry
from spotcheck.scheduler.costs import PairCosts
from spotcheck.scheduler.optimality import has_negative_cycle
from spotcheck.scheduler.staffing import StaffingRules


@dataclass(frozen=True, slots=True, order=True)
class ExpertGapRow:
    """A visit that got fewer experts than its tasks ask for (expert_gaps.csv)."""

    enterprise_id: str
    department: str
    needed: int
    drawn: int
    reason: str


@dataclass(frozen=True, eq=False)
class ExpertNetwork:
    """The visits needing experts, their lawful experts, and every pair's cost."""

    visits: list[int]             # plan visit index of each visit needing experts
    keys: list[tuple[str, str]]   # their (enterprise_id, department)
    needs: np.ndarray             # experts each needs
    arc_visit: np.ndarray         # index into `visits`
    arc_expert: np.ndarray        # inspector index
    arc_cost: np.ndarray
    capacity: np.ndarray          # per inspector (experts only matter)
    lawful: list[np.ndarray]      # per visit

    def nodes(self) -> tuple[int, int, np.ndarray]:
        """Return the node count, the sink, and each inspector's node (source 0, visits
        1..V, then the experts used by any arc)."""
        experts = np.unique(self.arc_expert)
        node = np.full(len(self.capacity), -1, dtype=np.int64)
        node[experts] = 1 + len(self.visits) + np.arange(len(experts))
        sink = 1 + len(self.visits) + len(experts)
        return sink + 1, sink, node


def expert_needs(policy: Policy, tasks: list[str]) -> tuple[int, frozenset[str]]:
    """Return how many experts a visit of these tasks needs and the qualifications each
    must hold."""
    asking = [policy.task(t) for t in tasks if policy.task(t).experts]
    return (max((t.experts for t in asking), default=0),
            frozenset(t.expert_qualification for t in asking if t.expert_qualification))


def network(registry: Registry, policy: Policy, rules: StaffingRules,
            visits: list[tuple[int, str, list[str]]], pricing: PairCosts) -> ExpertNetwork:
    """Return the expert network of the plan's visits ((row, department, tasks) each);
    `pricing` prices (visit index, inspector index) pairs by the plan's assign rule."""
    chosen, needs, lawful = [], [], []
    for v, (row, department, tasks) in enumerate(visits):
        need, quals = expert_needs(policy, tasks)
        if need:
            chosen.append(v)
            needs.append(need)
            lawful.append(rules.expert_pool(row, department, quals))
    sizes = np.array([len(p) for p in lawful], dtype=np.int64)
    arc_visit = np.repeat(np.arange(len(chosen), dtype=np.int64), sizes)
    arc_expert = np.concatenate(lawful) if lawful else np.zeros(0, dtype=np.int64)
    plan_visit = np.array(chosen, dtype=np.int64)[arc_visit] if len(arc_visit) else arc_visit
    costs = pricing.pairs(plan_visit, arc_expert) if len(arc_visit) else \
        np.zeros(0, dtype=np.int64)
    capacity = np.array([o.capacity for o in registry.inspectors], dtype=np.int64)
    ids = registry.enterprises.ids
    keys = [(ids[visits[v][0]].decode(), visits[v][1]) for v in chosen]
    return ExpertNetwork(chosen, keys, np.array(needs, dtype=np.int64), arc_visit, arc_expert,
                         np.asarray(costs, dtype=np.int64), capacity, lawful)


def solve(net: ExpertNetwork) -> np.ndarray:
    """Return the 0/1 flow per arc filling the most expert places at the least cost."""
    from ortools.graph.python import min_cost_flow

    flows = np.zeros(len(net.arc_visit), dtype=np.int64)
    if len(flows) == 0:
        return flows
    _, sink, node = net.nodes()
    experts = np.unique(net.arc_expert)
    visit_node = 1 + np.arange(len(net.visits), dtype=np.int64)
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([visit_node[net.arc_visit], np.zeros(len(net.visits), np.int64),
                        node[experts]]),
        np.concatenate([node[net.arc_expert], visit_node, np.full(len(experts), sink)]),
        np.concatenate([np.ones(len(flows), np.int64), net.needs, net.capacity[experts]]),
        np.concatenate([net.arc_cost, np.zeros(len(net.visits) + len(experts), np.int64)]))
    total = int(net.needs.sum())
    solver.set_nodes_supplies(np.array([0, sink]), np.array([total, -total]))
    status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise SpotcheckError(f"the expert solver ended with status {status.name}")
    flows[:] = solver.flows(np.arange(len(flows)))
    return flows


def certify(net: ExpertNetwork, flows: np.ndarray) -> str | None:
    """Return why the flow is not the cheapest maximum filling of expert places, or None.

    The flow must respect every capacity; then it is a maximum flow exactly when the sink
    cannot be reached from the source in its residual network, and the cheapest of the
    maximum flows exactly when that residual network has no cycle of negative cost.
    """
    n_nodes, sink, node = net.nodes()
    per_visit = np.bincount(net.arc_visit, weights=flows, minlength=len(net.visits))
    load = np.bincount(net.arc_expert, weights=flows, minlength=len(net.capacity))
    if ((flows < 0) | (flows > 1)).any() or (per_visit > net.needs).any() \
            or (load > net.capacity).any():
        return "the experts exceed a visit's need, an expert's capacity or a pair's one place"
    visit_node = 1 + np.arange(len(net.visits), dtype=np.int64)
    used = flows > 0
    experts = np.unique(net.arc_expert)
    room = experts[load[experts] < net.capacity[experts]]
    busy = experts[load[experts] > 0]
    short = np.flatnonzero(per_visit < net.needs)
    served = np.flatnonzero(per_visit > 0)
    tails = np.concatenate([visit_node[net.arc_visit[~used]], node[net.arc_expert[used]],
                            np.zeros(len(short), np.int64), visit_node[served],
                            node[room], np.full(len(busy), sink)]).astype(np.int64)
    heads = np.concatenate([node[net.arc_expert[~used]], visit_node[net.arc_visit[used]],
                            visit_node[short], np.zeros(len(served), np.int64),
                            np.full(len(room), sink), node[busy]]).astype(np.int64)
    weights = np.concatenate([net.arc_cost[~used], -net.arc_cost[used],
                              np.zeros(len(short) + len(served) + len(room) + len(busy),
                                       np.int64)]).astype(np.int64)
    if _reaches(n_nodes, tails, heads, 0, sink):
        return "more expert places could be filled (an augmenting path exists)"
    if has_negative_cycle(n_nodes, tails, heads, weights):
        return "a cheaper choice of experts fills as many places (a negative cycle exists)"
    return None


def _reaches(n_nodes: int, tails: np.ndarray, heads: np.ndarray, start: int,
             goal: int) -> bool:
    """Return whether `goal` is reachable from `start` along the arcs."""
    out: list[list[int]] = [[] for _ in range(n_nodes)]
    for tail, head in zip(tails.tolist(), heads.tolist(), strict=True):
        out[tail].append(head)
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in out[queue.popleft()]:
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return False


def gaps(registry: Registry, rules: StaffingRules, net: ExpertNetwork, flows: np.ndarray,
         visits: list[tuple[int, str, list[str]]], policy: Policy) -> list[ExpertGapRow]:
    """Return a line for each visit given fewer experts than it needs, with the reason."""
    per_visit = np.bincount(net.arc_visit, weights=flows, minlength=len(net.visits))
    ids = registry.enterprises.ids
    found = []
    for k, v in enumerate(net.visits):
        got, need = int(per_visit[k]), int(net.needs[k])
        if got >= need:
            continue
        row, department, tasks = visits[v]
        _, quals = expert_needs(policy, tasks)
        place = registry.enterprises.jurisdictions[row].decode()
        held = f" holding {'+'.join(sorted(quals))}" if quals else ""
        pool = net.lawful[k]
        if len(pool) < need:
            why = (f"only {len(pool)} lawful expert(s) (专家) of department {department}{held} "
                   f"serve {place}")
        else:
            why = (f"the {len(pool)} lawful expert(s) (专家) of department {department}{held} "
                   f"for {place} ({rules.describe_pool(pool.tolist())}) are fully booked")
        found.append(ExpertGapRow(ids[row].decode(), department, need, got, why))
    return sorted(found)
