"""An exact optimality certificate for staffing, independent of any solver.

A feasible flow is of minimum cost exactly when its residual network has no cycle of
negative cost. This module looks for one with Bellman–Ford in integer arithmetic over the
residual network of the teams as written, so a verdict never depends on OR-Tools (or any
LP solver's tolerances) and is the same on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spotcheck.scheduler import fasthash
from spotcheck.scheduler.costs import PairCosts
from spotcheck.scheduler.network import NO_ARC_LEFT_OUT, StaffingProblem, contains


@dataclass(frozen=True, slots=True)
class Certificate:
    """The outcome: optimal, or the cost of a cheaper exchange found, or visits unproven."""

    optimal: bool
    iterations: int
    improvement: int = 0  # how much a negative cycle would save, when not optimal
    unproven: tuple[int, ...] = ()  # visits whose left-out pairs the bound cannot rule out


def _residual(problem: StaffingProblem, used: np.ndarray) -> tuple[np.ndarray, ...]:
    n_visits, n_inspectors = problem.visits, len(problem.inspector_ids)
    inspector_node = n_visits + problem.arc_inspector
    sink = n_visits + n_inspectors
    load = np.bincount(problem.arc_inspector[used], minlength=n_inspectors)
    spare = np.flatnonzero(load < problem.capacity)
    busy = np.flatnonzero(load > 0)
    tails = np.concatenate([problem.arc_visit[~used], inspector_node[used],
                            n_visits + spare, np.full(len(busy), sink)])
    heads = np.concatenate([inspector_node[~used], problem.arc_visit[used],
                            np.full(len(spare), sink), n_visits + busy])
    weights = np.concatenate([problem.arc_cost[~used], -problem.arc_cost[used],
                              np.zeros(len(spare) + len(busy), dtype=np.int64)])
    return tails.astype(np.int64), heads.astype(np.int64), weights.astype(np.int64)


def _cycle_cost(start: int, parent: np.ndarray, parent_weight: np.ndarray) -> int | None:
    seen: dict[int, int] = {}
    node, step = start, 0
    while node >= 0 and node not in seen:
        seen[node] = step
        node, step = int(parent[node]), step + 1
    if node < 0:
        return None
    total, current = 0, node
    while True:
        total += int(parent_weight[current])
        current = int(parent[current])
        if current == node:
            return total


def certify(problem: StaffingProblem, used: np.ndarray) -> Certificate:
    """Return whether the teams marked `used` (one flag per arc) have minimum total cost.

    First no negative cycle may exist among the arcs given; the shortest distances found
    then serve as node potentials, and every visit's left-out pairs (each costing at least
    `left_out_cost`) must have a non-negative reduced cost against them.
    """
    verdict, distance = _no_negative_cycle(problem, used)
    if not verdict.optimal:
        return verdict
    unproven = _left_out_unproven(problem, distance)
    if unproven:
        return Certificate(False, verdict.iterations, 0, unproven)
    return verdict


def _left_out_unproven(problem: StaffingProblem, distance: np.ndarray) -> tuple[int, ...]:
    """Return the visits whose left-out pairs the potentials cannot be shown to price out.

    First a bound per visit: every left-out pair costs at least `left_out_cost`, and no
    officer's potential exceeds the highest among the visit's lawful officers. Visits that
    bound does not clear have each left-out pair's exact cost recomputed and checked.
    """
    pruned = np.flatnonzero(problem.left_out_cost < NO_ARC_LEFT_OUT)
    if len(pruned) == 0:
        return ()
    officer_distance = distance[problem.visits:problem.visits + len(problem.inspector_ids)]
    highest: dict[int, int] = {}
    bound = np.empty(len(pruned), dtype=np.int64)
    for k, v in enumerate(pruned.tolist()):
        lawful = problem.lawful[v]
        key = id(lawful)
        if key not in highest:
            highest[key] = int(officer_distance[lawful].max())
        bound[k] = highest[key]
    slack = problem.left_out_cost[pruned] + distance[pruned] - bound
    loose = pruned[slack < 0]
    if len(loose) == 0 or problem.costs is None:
        return tuple(loose.tolist())
    return _exactly_unproven(problem, problem.costs, distance, officer_distance, loose)


def _exactly_unproven(problem: StaffingProblem, pricing: PairCosts, distance: np.ndarray,
                      officer_distance: np.ndarray, visits: np.ndarray) -> tuple[int, ...]:
    """Return the visits with a left-out pair of negative reduced cost, by exact costs."""
    sizes = np.array([len(problem.lawful[v]) for v in visits.tolist()], dtype=np.int64)
    pair_visit = np.repeat(visits, sizes)
    pair_officer = np.concatenate([problem.lawful[v] for v in visits.tolist()])
    costs = pricing.pairs(pair_visit, pair_officer)
    reduced = costs + distance[pair_visit] - officer_distance[pair_officer]
    width = max(1, len(problem.inspector_ids))
    in_network = contains(problem.arc_visit * width + problem.arc_inspector,
                          pair_visit * width + pair_officer)
    return tuple(np.unique(pair_visit[(reduced < 0) & ~in_network]).tolist())


def has_negative_cycle(n_nodes: int, tails: np.ndarray, heads: np.ndarray,
                       weights: np.ndarray) -> bool:
    """Return whether the graph of these arcs (int64 tails, heads, weights) has a cycle of
    negative total weight, by Bellman–Ford in exact integers (natively when built)."""
    native = fasthash.native_module()
    tails, heads, weights = (np.ascontiguousarray(a, dtype=np.int64)
                             for a in (tails, heads, weights))
    if native is not None:
        distance = np.zeros(n_nodes, dtype=np.int64)
        cycle, _ = native.shortest(n_nodes, tails, heads, weights, distance)
        return bool(cycle != 0)
    return not _rounds(n_nodes, tails, heads, weights)[0].optimal


def _no_negative_cycle(problem: StaffingProblem,
                       used: np.ndarray) -> tuple[Certificate, np.ndarray]:
    n_nodes = problem.visits + len(problem.inspector_ids) + 1
    tails, heads, weights = _residual(problem, used.astype(bool))
    native = fasthash.native_module()
    if native is not None:
        distance = np.zeros(n_nodes, dtype=np.int64)
        cycle, scans = native.shortest(n_nodes, tails, heads, weights, distance)
        return Certificate(cycle == 0, scans, -cycle), distance
    return _rounds(n_nodes, tails, heads, weights)


def _rounds(n_nodes: int, tails: np.ndarray, heads: np.ndarray,
            weights: np.ndarray) -> tuple[Certificate, np.ndarray]:
    """Bellman–Ford in numpy rounds, where the native loop was not built."""
    order = np.argsort(heads, kind="stable")
    tails, heads, weights = tails[order], heads[order], weights[order]
    starts = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]]) if len(heads) else \
        np.zeros(0, dtype=np.int64)
    targets = heads[starts]
    distance = np.zeros(n_nodes, dtype=np.int64)
    parent = np.full(n_nodes, -1, dtype=np.int64)
    parent_weight = np.zeros(n_nodes, dtype=np.int64)
    jumps = max(1, math.ceil(math.log2(n_nodes + 1)) + 1)
    for iteration in range(1, n_nodes + 2):
        if len(heads) == 0:
            return Certificate(True, iteration), distance
        candidate = distance[tails] + weights
        best = np.minimum.reduceat(candidate, starts)
        improved = best < distance[targets]
        if not improved.any():
            return Certificate(True, iteration), distance
        nodes = targets[improved]
        # the arc achieving the minimum, for the predecessor graph
        group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(heads)]))
        hit = candidate == best[group]
        first = np.full(len(starts), len(heads), dtype=np.int64)
        np.minimum.at(first, group[hit], np.flatnonzero(hit))
        arcs = first[improved]
        distance[nodes] = best[improved]
        parent[nodes] = tails[arcs]
        parent_weight[nodes] = weights[arcs]
        if iteration % 8 == 0:
            ancestor = parent.copy()
            for _ in range(jumps):
                ancestor = np.where(ancestor >= 0, ancestor[np.maximum(ancestor, 0)], -1)
            for start in np.flatnonzero(ancestor >= 0)[:1].tolist():
                cost = _cycle_cost(start, parent, parent_weight)
                if cost is not None and cost < 0:
                    return Certificate(False, iteration, -cost), distance
    return Certificate(False, n_nodes + 1), distance
