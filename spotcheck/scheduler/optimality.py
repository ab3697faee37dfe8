"""An exact optimality certificate for staffing, independent of any solver.

A feasible flow is of minimum cost exactly when its residual network has no cycle of
negative cost. This module looks for one with Bellman–Ford in integer arithmetic over the
residual network of the teams as written, so a verdict never depends on OR-Tools (or any
LP solver's tolerances) and is the same on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spotcheck.scheduler import fasthash
from spotcheck.scheduler.costs import PairCosts
from spotcheck.scheduler.hashes import ASSIGN_V2
from spotcheck.scheduler.network import NO_ARC_LEFT_OUT, StaffingProblem, contains

PRICE_LIMIT = 2**42  # officer prices lie in [0, PRICE_LIMIT) (PairCosts.cheapest)


@dataclass(frozen=True, slots=True)
class Certificate:
    """The outcome: optimal, or the cost of a cheaper exchange found, or visits unproven."""

    optimal: bool
    iterations: int
    improvement: int = 0  # how much a negative cycle would save, when not optimal
    unproven: tuple[int, ...] = ()  # visits whose left-out pairs the bound cannot rule out
    # the shortest distances found (visits, officers, sink) when there was no negative cycle
    potentials: np.ndarray | None = field(default=None, compare=False, repr=False)


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


def certify(problem: StaffingProblem, used: np.ndarray,
            start: np.ndarray | None = None) -> Certificate:
    """Return whether the teams marked `used` (one flag per arc) have minimum total cost.

    First no negative cycle may exist among the arcs given; the shortest distances found
    then serve as node potentials, and every visit's left-out pairs (each costing at least
    `left_out_cost`) must have a non-negative reduced cost against them. `start` (one value
    per node: visits, officers, sink) is where the distances start from, e.g. the
    potentials of an earlier proof: the verdict on cycles is the same from anywhere, but
    potentials near good officer prices clear far more left-out pairs.
    """
    verdict, distance = _no_negative_cycle(problem, used, start)
    if not verdict.optimal:
        return verdict
    unproven = _left_out_unproven(problem, distance)
    return Certificate(not unproven, verdict.iterations, 0, unproven, distance)


def officer_prices(problem: StaffingProblem, potentials: np.ndarray) -> np.ndarray:
    """Return a price per officer from a certificate's potentials: how far below the highest
    officer's distance each one's lies (int64 in [0, 2^42)). An officer the network values
    (one whose visits would pay to keep it) gets a high price; chosen by cost + price, each
    visit's few cheapest pairs are then nearly always where its optimal team is."""
    distance = potentials[problem.visits:problem.visits + len(problem.inspector_ids)]
    if len(distance) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.minimum(distance.max() - distance, PRICE_LIMIT - 1).astype(np.int64)


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
    # a left-out pair's reduced cost, cost + d[v] - d[o], is (cost + price) + d[v] minus
    # (d[o] + price): at least left_out_cost + d[v] minus the highest d[o] + price
    priced = officer_distance if problem.officer_price is None else \
        officer_distance + problem.officer_price
    highest: dict[int, int] = {}
    bound = np.empty(len(pruned), dtype=np.int64)
    for k, v in enumerate(pruned.tolist()):
        lawful = problem.lawful[v]
        key = id(lawful)
        if key not in highest:
            highest[key] = int(priced[lawful].max())
        bound[k] = highest[key]
    slack = problem.left_out_cost[pruned] + distance[pruned] - bound
    loose = pruned[slack < 0]
    if len(loose) == 0 or problem.costs is None:
        return tuple(loose.tolist())
    found: tuple[int, ...] = ()
    if problem.costs.assign == ASSIGN_V2:
        negative, loose = _screened(problem, problem.costs, distance, officer_distance, loose)
        found = tuple(negative.tolist())
    if len(loose):
        found += _exactly_unproven(problem, problem.costs, distance, officer_distance, loose)
    return tuple(sorted(found))


SCREENED_PAIRS = 32  # pairs per visit `_screened` ranks by reduced cost


def _screened(problem: StaffingProblem, pricing: PairCosts, distance: np.ndarray,
              officer_distance: np.ndarray,
              visits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the visits with a left-out pair of negative reduced cost, and those still
    undecided, by ranking each visit's pairs by reduced cost (assign-v2's native loop).

    Against potentials d, pair (v, o) has reduced cost cost + d[v] - d[o], which is
    cost + q[o] + d[v] - top with q[o] = top - d[o] (top the highest d[o]; q is capped, which
    only lowers it). Each visit's SCREENED_PAIRS smallest cost + q are checked exactly; every
    other pair's reduced cost is at least the next smallest cost + q, plus d[v] - top, and
    only visits where that bound falls below zero are left undecided.
    """
    top = int(officer_distance.max())
    lawful = [problem.lawful[v] for v in visits.tolist()]
    officers, costs, sizes, beyond = pricing.of_visits(visits).cheapest(
        lawful, SCREENED_PAIRS, prices=officer_prices(problem, distance),
        workers=fasthash.cpus())
    pair_visit = np.repeat(visits, sizes)
    reduced = costs + distance[pair_visit] - officer_distance[officers]
    width = max(1, len(problem.inspector_ids))
    in_network = contains(problem.arc_visit * width + problem.arc_inspector,
                          pair_visit * width + officers)
    negative = np.unique(pair_visit[(reduced < 0) & ~in_network])
    undecided = visits[beyond + distance[visits] - top < 0]
    return negative, np.setdiff1d(undecided, negative)


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


def _no_negative_cycle(problem: StaffingProblem, used: np.ndarray,
                       start: np.ndarray | None = None) -> tuple[Certificate, np.ndarray]:
    n_nodes = problem.visits + len(problem.inspector_ids) + 1
    tails, heads, weights = _residual(problem, used.astype(bool))
    if start is not None and len(start) != n_nodes:
        raise ValueError("start: one value per node (visits, officers, sink) expected")
    native = fasthash.native_module()
    if native is not None:
        distance = np.zeros(n_nodes, dtype=np.int64) if start is None else \
            np.array(start, dtype=np.int64)
        cycle, scans = native.shortest(n_nodes, tails, heads, weights, distance,
                                       start is not None)
        return Certificate(cycle == 0, scans, -cycle), distance
    return _rounds(n_nodes, tails, heads, weights, start)


def _rounds(n_nodes: int, tails: np.ndarray, heads: np.ndarray, weights: np.ndarray,
            start: np.ndarray | None = None) -> tuple[Certificate, np.ndarray]:
    """Bellman–Ford in numpy rounds, where the native loop was not built."""
    order = np.argsort(heads, kind="stable")
    tails, heads, weights = tails[order], heads[order], weights[order]
    starts = np.flatnonzero(np.r_[True, heads[1:] != heads[:-1]]) if len(heads) else \
        np.zeros(0, dtype=np.int64)
    targets = heads[starts]
    distance = np.zeros(n_nodes, dtype=np.int64) if start is None else \
        np.array(start, dtype=np.int64)
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
            for node in np.flatnonzero(ancestor >= 0)[:1].tolist():
                cost = _cycle_cost(node, parent, parent_weight)
                if cost is not None and cost < 0:
                    return Certificate(False, iteration, -cost), distance
    return Certificate(False, n_nodes + 1), distance
