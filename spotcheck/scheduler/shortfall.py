"""A shortfall a director can act on: which officer groups ran out, and how many more
officer-visits each needs for every stratum capacity cut to reach its target.

The wanted visits W are the ones alloc-v1 admits when no officer's capacity binds (the same
draws, skips, joint visits and annual-cap decisions, in the same turn order: every stratum
draws its target). Staffing W is the maximum-flow network of docs/ALLOCATION.md (source →
visit: team_size; visit → lawful officer: 1; officer → sink: capacity), here with visits of
the same lawful officers merged into one node, which has the same maximum flow
(`capacity`). If its maximum flow falls D units short of team_size · |W|:

- no fewer than D extra officer-visits can do: one more on an officer's capacity raises the
  maximum flow by at most one;
- D always suffice, added one at a time, each to an officer on the source side of the
  minimum cut closest to the source (those the source still reaches in the residual
  network: saturated, and lawful for a visit short of officers) — each such unit opens an
  augmenting path. Which officer gets each unit is fixed, so the answer is unique: the one
  of them with the fewest units added so far, then the first by certificate number; the
  source side is recomputed after each unit (it only shrinks).

With those units added to the officers' capacities, re-running alloc-v1 admits exactly W:
the turn order only depends on which candidates are admitted, and every set of visits on
the way is part of W, which can be staffed. The officer groups (department × jurisdiction ×
qualifications) with an officer on the first minimum cut's source side are the saturated
ones; `GroupAdvice` gives each its units (shortfall_groups.csv, the plan summary, explain).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, maximum_flow

from spotcheck.models.domain import Inspector
from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.allocation import allocate
from spotcheck.scheduler.draw import Ordering, Target
from spotcheck.scheduler.eligibility import AnnualCap, Stratum
from spotcheck.scheduler.staffing import StaffingRules
from spotcheck.scheduler.workload import serving_officers


@dataclass(frozen=True, slots=True, order=True)
class GroupAdvice:
    """One saturated officer group and the officer-visits to add to it (shortfall_groups.csv)."""

    department: str
    jurisdiction: str
    qualifications: str  # ';'-joined, sorted
    officers: int        # officers of the group who can serve this quarter
    capacity: int        # their quarterly capacity together
    saturated: int       # of them, on the source side of the minimum cut
    extra: int           # officer-visits to add to the group
    added: str           # to whom: "INS-0001+2;INS-0005+1"


def group_of(officer: Inspector) -> tuple[str, str, str]:
    """Return an officer's group: department, jurisdiction, qualifications (';'-joined)."""
    return officer.department, officer.jurisdiction, ";".join(officer.qualifications)


class _PoolNetwork:
    """The merged staffing network of a set of visits, whose maximum flow is found for
    given extra units on the officers' capacities."""

    def __init__(self, eligible: Sequence[np.ndarray], team_size: int,
                 capacity: Sequence[int]) -> None:
        pools: dict[int, int] = {}
        members: list[np.ndarray] = []
        visits: list[int] = []
        for lawful in eligible:
            k = pools.setdefault(id(lawful), len(members))
            if k == len(members):
                members.append(lawful)
                visits.append(0)
            visits[k] += 1
        sizes = np.array([len(m) for m in members], dtype=np.int64)
        pair_officer = np.concatenate(members) if members else np.zeros(0, np.int64)
        self.officers = np.unique(pair_officer)
        n_pools, n_officers = len(members), len(self.officers)
        self.sink = 1 + n_pools + n_officers
        per_pool = np.array(visits, dtype=np.int64)
        officer_node = 1 + n_pools + np.arange(n_officers, dtype=np.int64)
        # source → pool (team_size per visit), pool → member (its visits), officer → sink.
        self.tails = np.concatenate([np.zeros(n_pools, np.int64),
                                     1 + np.repeat(np.arange(n_pools), sizes), officer_node])
        self.heads = np.concatenate([1 + np.arange(n_pools, dtype=np.int64),
                                     1 + n_pools + np.searchsorted(self.officers, pair_officer),
                                     np.full(n_officers, self.sink, np.int64)])
        self.caps = np.concatenate([team_size * per_pool, np.repeat(per_pool, sizes),
                                    np.asarray(capacity, dtype=np.int64)[self.officers]])
        self.officer_arcs = slice(len(self.caps) - n_officers, len(self.caps))
        self.demand = int(team_size * per_pool.sum())

    def solve(self, added: np.ndarray) -> tuple[int, np.ndarray]:
        """Return the maximum flow's value with `added` units on the officers' capacities,
        and which officers the source reaches in its residual network (the source side of
        the minimum cut closest to the source)."""
        if not len(self.officers):
            return 0, np.zeros(0, dtype=bool)
        caps = self.caps.copy()
        caps[self.officer_arcs] += added
        shape = (self.sink + 1, self.sink + 1)
        graph = csr_matrix((caps.astype(np.int32), (self.tails, self.heads)), shape=shape)
        found = maximum_flow(graph, 0, self.sink, method="dinic")
        # The flow matrix holds f on each arc and -f on its reverse, so graph - flow is the
        # residual capacity of every arc and of every reverse arc.
        residual = (graph - found.flow).tocsr()
        residual.data[residual.data < 0] = 0
        residual.eliminate_zeros()
        reached = breadth_first_order(residual, 0, directed=True, return_predecessors=False)
        side = np.zeros(self.sink + 1, dtype=bool)
        side[reached] = True
        return int(found.flow_value), side[self.sink - len(self.officers):self.sink]


def _units_in_turn(side: np.ndarray, added: np.ndarray, count: int) -> np.ndarray:
    """Return the officers (positions) that the next `count` units go to while the source
    side stays `side`: each to the officer there with the fewest units added so far, then
    the first."""
    members = np.flatnonzero(side)
    level = added[members]
    order: list[np.ndarray] = []
    total, height = 0, int(level.min())
    while total < count:
        # At this height every member that started at or below it takes one unit, in
        # officer order.
        turn = members[level <= height]
        order.append(turn)
        total += len(turn)
        height += 1
    return np.concatenate(order)[:count]


def _run(net: _PoolNetwork, added: np.ndarray, side: np.ndarray,
         turn: np.ndarray) -> tuple[int, int, np.ndarray]:
    """Return how many of the units `turn` lists to add in one run, and the maximum flow and
    source side after them: all of them if the side is then still `side`, else the longest
    prefix after which it is (found by bisection, as the side only shrinks) and one more
    unit, which that side still chose."""
    tried: dict[int, tuple[int, np.ndarray]] = {}

    def solve(units: int) -> tuple[int, np.ndarray]:
        if units not in tried:
            tried[units] = net.solve(added + np.bincount(turn[:units], minlength=len(added)))
        return tried[units]

    stable, unstable = 0, len(turn)
    if np.array_equal(solve(unstable)[1], side):
        return (unstable, *solve(unstable))
    while unstable - stable > 1:
        middle = (stable + unstable) // 2
        if np.array_equal(solve(middle)[1], side):
            stable = middle
        else:
            unstable = middle
    return (stable + 1, *solve(stable + 1))


def extra_capacity(eligible: Sequence[np.ndarray], team_size: int,
                   capacity: Sequence[int]) -> tuple[dict[int, int], list[int]]:
    """Return the fewest officer-visits to add (officer → units) for these visits to be
    staffed, by the rule of this module, and the officers on the source side of the first
    minimum cut (the saturated ones).

    The source side stays put for long runs of units, so units are added a run at a time
    (`_run`), each unit going where the rule, recomputing the side after every unit, puts it.
    """
    net = _PoolNetwork(eligible, team_size, capacity)
    added = np.zeros(len(net.officers), dtype=np.int64)
    value, side = net.solve(added)
    saturated = net.officers[side].tolist() if net.demand > value else []
    while net.demand > value:
        if not side.any():
            raise ValueError("a visit short of officers has no lawful officer to add to")
        turn = _units_in_turn(side, added, net.demand - value)
        units, value, side_after = _run(net, added, side, turn)
        added += np.bincount(turn[:units], minlength=len(added))
        side = side_after
    extra = {int(net.officers[k]): int(added[k]) for k in np.flatnonzero(added).tolist()}
    return extra, saturated


def group_advice(inspectors: Sequence[Inspector], quarter: Quarter, extra: dict[int, int],
                 saturated: list[int]) -> list[GroupAdvice]:
    """Return a line per officer group with a saturated officer or units to add."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for i in serving_officers(inspectors, quarter):
        groups.setdefault(group_of(inspectors[i]), []).append(i)
    cut = set(saturated)
    marked = cut | set(extra)
    rows = []
    for key, members in sorted(groups.items()):
        if not marked.intersection(members):
            continue
        added = [(inspectors[i].inspector_id, extra[i]) for i in members if extra.get(i)]
        rows.append(GroupAdvice(
            *key, len(members), sum(inspectors[i].capacity for i in members),
            sum(1 for i in members if i in cut), sum(n for _, n in added),
            ";".join(f"{o}+{n}" for o, n in sorted(added))))
    return rows


def advise(registry: Registry, policy: Policy, rules: StaffingRules,
           strata: list[tuple[Stratum, Target, Ordering]], cap: AnnualCap | None,
           quarter: Quarter) -> list[GroupAdvice]:
    """Return the saturated officer groups and the officer-visits each needs for every
    stratum to reach its target (the rule of this module), from the quarter's strata, their
    targets and full draw orders."""
    wanted = allocate(registry, policy, rules, strata, cap=cap, unlimited=True)
    extra, saturated = extra_capacity(wanted.eligible, policy.team_size, rules.capacity)
    return group_advice(registry.inspectors, quarter, extra, saturated)
