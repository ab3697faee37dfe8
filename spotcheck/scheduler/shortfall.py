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

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from spotcheck.models.domain import Inspector
from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.allocation import allocate
from spotcheck.scheduler.draw import Ordering, Target
from spotcheck.scheduler.eligibility import AnnualCap, Stratum
from spotcheck.scheduler.staffing import StaffingRules
from spotcheck.scheduler.workload import serving_officers

UNLIMITED = 1 << 30  # a capacity no officer reaches: every target is staffed


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
    """The merged staffing network of a set of visits, with a maximum flow kept in it."""

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
        officers = np.unique(np.concatenate(members)) if members else np.zeros(0, np.int64)
        self.officers = officers.tolist()
        self.node_of = {o: 1 + len(members) + k for k, o in enumerate(self.officers)}
        self.sink = 1 + len(members) + len(self.officers)
        tails, heads, caps = [], [], []
        for k, (lawful, n) in enumerate(zip(members, visits, strict=True)):
            tails.append(0)
            heads.append(1 + k)
            caps.append(team_size * n)
            for o in lawful.tolist():
                tails.append(1 + k)
                heads.append(self.node_of[o])
                caps.append(n)
        self.officer_arc: dict[int, int] = {}
        for o in self.officers:
            self.officer_arc[o] = len(tails)
            tails.append(self.node_of[o])
            heads.append(self.sink)
            caps.append(int(capacity[o]))
        self.tails, self.heads, self.caps = tails, heads, caps
        self.demand = sum(team_size * n for n in visits)
        self.flow = self._maximum_flow()
        self.out: list[list[int]] = [[] for _ in range(self.sink + 1)]
        self.into: list[list[int]] = [[] for _ in range(self.sink + 1)]
        for arc, (tail, head) in enumerate(zip(tails, heads, strict=True)):
            self.out[tail].append(arc)
            self.into[head].append(arc)

    def _maximum_flow(self) -> list[int]:
        """Return a maximum flow per arc (scipy's exact integer Dinic)."""
        n = self.sink + 1
        if not self.tails:
            return []
        graph = csr_matrix((np.array(self.caps, dtype=np.int32),
                            (np.array(self.tails), np.array(self.heads))), shape=(n, n))
        found = maximum_flow(graph, 0, self.sink, method="dinic").flow.tocoo()
        flows = {(t, h): int(f) for t, h, f in zip(found.row.tolist(), found.col.tolist(),
                                                    found.data.tolist(), strict=True)}
        return [max(0, flows.get((t, h), 0))
                for t, h in zip(self.tails, self.heads, strict=True)]

    @property
    def value(self) -> int:
        """Return the flow's value."""
        return sum(self.flow[arc] for arc in self.out[0])

    def reached(self) -> dict[int, tuple[int, int]]:
        """Return the nodes the source reaches in the residual network, each with the arc and
        direction (+1 forward, -1 backward) it was reached by."""
        parent: dict[int, tuple[int, int]] = {0: (-1, 0)}
        queue = deque([0])
        while queue:
            node = queue.popleft()
            for arc in self.out[node]:
                head = self.heads[arc]
                if head not in parent and self.flow[arc] < self.caps[arc]:
                    parent[head] = (arc, +1)
                    queue.append(head)
            for arc in self.into[node]:
                tail = self.tails[arc]
                if tail not in parent and self.flow[arc] > 0:
                    parent[tail] = (arc, -1)
                    queue.append(tail)
        return parent

    def add_unit(self, officer: int, parent: dict[int, tuple[int, int]]) -> None:
        """Give the officer one more unit of capacity and route one unit to it along the
        residual path `parent` found."""
        arc = self.officer_arc[officer]
        self.caps[arc] += 1
        self.flow[arc] += 1
        node = self.node_of[officer]
        while node != 0:
            step, direction = parent[node]
            self.flow[step] += direction
            node = self.tails[step] if direction > 0 else self.heads[step]


def extra_capacity(eligible: Sequence[np.ndarray], team_size: int,
                   capacity: Sequence[int]) -> tuple[dict[int, int], list[int]]:
    """Return the fewest officer-visits to add (officer → units) for these visits to be
    staffed, by the rule of this module, and the officers on the source side of the first
    minimum cut (the saturated ones)."""
    net = _PoolNetwork(eligible, team_size, capacity)
    deficit = net.demand - net.value
    extra: dict[int, int] = {}
    saturated: list[int] = []
    first = True
    while deficit > 0:
        parent = net.reached()
        side = [o for o in net.officers if net.node_of[o] in parent]
        if first:
            saturated, first = side, False
        if not side:
            raise ValueError("a visit short of officers has no lawful officer to add to")
        chosen = min(side, key=lambda o: (extra.get(o, 0), o))
        extra[chosen] = extra.get(chosen, 0) + 1
        net.add_unit(chosen, parent)
        deficit -= 1
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
    unlimited = [UNLIMITED if c > 0 else 0 for c in rules.capacity]
    wanted = allocate(registry, policy, rules, strata, cap=cap, capacity=unlimited)
    extra, saturated = extra_capacity(wanted.eligible, policy.team_size, rules.capacity)
    return group_advice(registry.inspectors, quarter, extra, saturated)
