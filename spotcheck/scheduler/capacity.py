"""An incremental feasibility check for staffing visits under inspector capacity.

Per visit the network is source → visit (team_size) → inspector (1 per lawful pair) → sink
(capacity), and a set of visits can be staffed exactly when its maximum flow saturates
every visit. Visits with the same lawful officers (one place, department and set of
qualifications, no recusal) are interchangeable, so they are merged into one node, a
*pool*: source → pool (team_size per visit) → inspector (as many as the pool has visits) →
sink (capacity). The two networks have the same maximum flow: a pool's flow splits into
teams of distinct officers by dealing its units out to its visits in turn, because no
officer carries more units than the pool has visits. The merged network has a few
thousand nodes at province scale instead of a million.

This class keeps a maximum flow of the merged network and grows it one visit at a time
by augmenting paths (Ford–Fulkerson, exact). "Can this set be staffed" is a property of
the set, so the particular flow kept here never shows in a plan: teams come from
assignment.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import islice

import numpy as np

# One unit moved along an augmenting path: (pool, officer, +1 or -1).
_Move = tuple[int, int, int]


@dataclass
class StaffingFlow:
    """A maximum flow that staffs every admitted visit, grown by augmenting paths."""

    capacity: list[int]
    team_size: int
    eligible: list[np.ndarray] = field(init=False, default_factory=list)  # per visit
    load: list[int] = field(init=False)
    _visit_pool: list[int] = field(init=False, default_factory=list)
    # Pools, by the id() of their lawful-officer array (each pool holds its array, so the
    # id cannot be reused while the pool exists).
    _pool_of_array: dict[int, int] = field(init=False, default_factory=dict)
    _arrays: list[np.ndarray] = field(init=False, default_factory=list)
    _members: list[list[int]] = field(init=False, default_factory=list)
    _visits: list[int] = field(init=False, default_factory=list)        # visits per pool
    _units: list[dict[int, int]] = field(init=False, default_factory=list)  # pool → officer → units
    _room: list[set[int]] = field(init=False, default_factory=list)     # members with room
    _pools_with: list[list[int]] = field(init=False)   # officer → pools listing them
    _serving: list[set[int]] = field(init=False)       # officer → pools with units on them
    _dead_pool: bytearray = field(init=False, default_factory=bytearray)
    _dead_officer: bytearray = field(init=False)

    def __post_init__(self) -> None:
        self.load = [0] * len(self.capacity)
        self._pools_with = [[] for _ in self.capacity]
        self._serving = [set() for _ in self.capacity]
        self._dead_officer = bytearray(len(self.capacity))

    def _pool(self, array: np.ndarray) -> int:
        found = self._pool_of_array.get(id(array))
        if found is None:
            found = self._pool_of_array[id(array)] = len(self._arrays)
            members = array.tolist()
            self._arrays.append(array)
            self._members.append(members)
            self._visits.append(0)
            self._units.append({})
            self._room.append({o for o in members if self.load[o] < self.capacity[o]})
            self._dead_pool.append(0)
            for officer in members:
                self._pools_with[officer].append(found)
        return found

    def add_visit(self, eligible: np.ndarray) -> int | None:
        """Return the new visit's index if it can be staffed with all others, else None."""
        pool = self._pool(eligible)
        if not self._grow(pool):
            return None
        self.eligible.append(eligible)
        self._visit_pool.append(pool)
        return len(self._visit_pool) - 1

    def teams(self) -> tuple[np.ndarray, np.ndarray]:
        """Return a lawful team for every visit within capacity, as (visit, officer) arrays
        sorted by visit: each pool's units, in officer order, dealt out to its visits in turn.
        """
        visits_of: dict[int, list[int]] = {}
        for visit, pool in enumerate(self._visit_pool):
            visits_of.setdefault(pool, []).append(visit)
        team_visit, team_officer = [], []
        for pool in sorted(visits_of):
            visits = np.array(visits_of[pool], dtype=np.int64)
            units = self._units[pool]
            officers = np.array(sorted(units), dtype=np.int64)
            dealt = np.repeat(officers, [units[o] for o in officers.tolist()])
            team_visit.append(visits[np.arange(len(dealt)) % len(visits)])
            team_officer.append(dealt)
        if not team_visit:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        visits_dealt, officers_dealt = np.concatenate(team_visit), np.concatenate(team_officer)
        order = np.lexsort((officers_dealt, visits_dealt))
        return visits_dealt[order], officers_dealt[order]

    def restrict_visit(self, visit: int, eligible: np.ndarray) -> bool:
        """Narrow a visit's lawful inspectors; return False (and change nothing) if unstaffable."""
        old, new = self._visit_pool[visit], self._pool(eligible)
        if old == new:
            return True
        released = self._shrink(old)
        if self._grow(new):
            self.eligible[visit] = eligible
            self._visit_pool[visit] = new
            return True
        self._visits[old] += 1
        for officer in released:
            self._move(old, officer, +1)
        return False

    def _grow(self, pool: int) -> bool:
        """Add one visit to the pool and route its team_size units, or change nothing."""
        self._visits[pool] += 1
        room = self._room[pool]
        if len(room) >= self.team_size:
            # No member has as many units as the pool now has visits, so any team_size
            # members with room staff the new visit: most visits are admitted so (this is
            # `_move` by +1, unrolled).
            units, load, capacity = self._units[pool], self.load, self.capacity
            for officer in list(islice(room, self.team_size)):
                units[officer] = units.get(officer, 0) + 1
                self._serving[officer].add(pool)
                load[officer] += 1
                if load[officer] == capacity[officer]:
                    for other in self._pools_with[officer]:
                        self._room[other].discard(officer)
            if self._dead_pool[pool]:
                self._revive()
            return True
        journal: list[_Move] = []
        for unit in range(self.team_size):
            if not self._augment(pool, journal, mark_dead=unit == 0):
                # Back to the flow before this visit, in which the nodes written off
                # earlier are still cut off from the sink: no revival.
                for tail, officer, delta in reversed(journal):
                    self._move(tail, officer, -delta, revive=False)
                self._visits[pool] -= 1
                return False
        return True

    def _shrink(self, pool: int) -> list[int]:
        """Take one visit out of the pool, releasing team_size units; return their officers."""
        units = self._units[pool]
        self._visits[pool] -= 1
        left = self._visits[pool]
        # No officer may keep more units than the pool has visits: at most team_size of
        # them are at the old count, and they give up a unit first.
        released = sorted(o for o, n in units.items() if n > left)
        for officer in sorted(units, key=lambda o: (-units[o], o)):
            if len(released) == self.team_size:
                break
            if officer not in released:
                released.append(officer)
        for officer in released:
            self._move(pool, officer, -1)
        return released

    def _move(self, pool: int, officer: int, delta: int, revive: bool = True) -> None:
        """Change the units the pool puts on the officer, and the officer's load."""
        units = self._units[pool]
        count = units.get(officer, 0) + delta
        if count:
            units[officer] = count
            self._serving[officer].add(pool)
        else:
            del units[officer]
            self._serving[officer].discard(pool)
        before = self.load[officer] < self.capacity[officer]
        self.load[officer] += delta
        after = self.load[officer] < self.capacity[officer]
        if before and not after:
            for other in self._pools_with[officer]:
                self._room[other].discard(officer)
        elif after and not before:
            for other in self._pools_with[officer]:
                self._room[other].add(officer)
            if revive:
                self._revive()

    def _revive(self) -> None:
        # Freed capacity can open paths from nodes a failed search had written off.
        if any(self._dead_pool):
            self._dead_pool = bytearray(len(self._dead_pool))
            self._dead_officer = bytearray(len(self.capacity))

    def _free_officer(self, pool: int, skip: dict[int, int] | None = None) -> int:
        """Return a member with room the pool can still put a unit on, or -1."""
        units, visits = self._units[pool], self._visits[pool]
        for officer in self._room[pool]:
            if units.get(officer, 0) < visits and (skip is None or officer not in skip):
                return officer
        return -1

    def _augment(self, root: int, journal: list[_Move], mark_dead: bool) -> bool:
        """Route one more unit out of `root`, rerouting other pools' units if need be.

        Only the first unit of a visit marks what a failed search reached as cut off:
        a later unit's failure is undone together with the units before it.
        """
        was_dead = self._dead_pool[root]
        free = self._free_officer(root)
        if free >= 0:
            self._move(root, free, +1)
            journal.append((root, free, +1))
            if was_dead:
                self._revive()
            return True
        dead_pool, dead_officer = self._dead_pool, self._dead_officer
        reached: dict[int, int] = {}             # officer → pool that would take it
        entered: dict[int, int] = {root: -1}     # pool → officer it would give up
        queue = deque([root])
        while queue:
            pool = queue.popleft()
            units, visits = self._units[pool], self._visits[pool]
            for officer in self._members[pool]:
                if officer in reached or dead_officer[officer] \
                        or units.get(officer, 0) >= visits:
                    continue
                reached[officer] = pool
                for other in self._serving[officer]:
                    if other in entered or dead_pool[other]:
                        continue
                    entered[other] = officer
                    free = self._free_officer(other, reached)
                    if free >= 0:
                        reached[free] = other
                        self._apply(free, reached, entered, journal)
                        if was_dead:
                            self._revive()
                        return True
                    queue.append(other)
        if mark_dead:
            # Nothing reached can route a unit to the sink until capacity is freed; the
            # root may still grow (its next visit adds arcs), so a search from it skips
            # no node of its own and revives the rest if it succeeds.
            for officer in reached:
                dead_officer[officer] = 1
            for pool in entered:
                dead_pool[pool] = 1
        return False

    def _apply(self, free: int, reached: dict[int, int], entered: dict[int, int],
               journal: list[_Move]) -> None:
        """Move one unit along the path ending at `free`: gains first, then give-ups, so
        officers in the middle never look as if they had room."""
        gains, give_ups = [], []
        officer = free
        while officer >= 0:
            pool = reached[officer]
            gains.append((pool, officer, +1))
            officer = entered[pool]
            if officer >= 0:
                give_ups.append((pool, officer, -1))
        for move in gains + give_ups:
            self._move(*move)
            journal.append(move)


@dataclass
class Unbounded:
    """Visits staffed as if no officer's capacity bound (`StaffingFlow`'s interface): a set
    of visits can then be staffed exactly when each has team_size lawful officers."""

    team_size: int
    eligible: list[np.ndarray] = field(init=False, default_factory=list)  # per visit

    def add_visit(self, eligible: np.ndarray) -> int | None:
        """Return the new visit's index if it has team_size lawful officers, else None."""
        if len(eligible) < self.team_size:
            return None
        self.eligible.append(eligible)
        return len(self.eligible) - 1

    def restrict_visit(self, visit: int, eligible: np.ndarray) -> bool:
        """Narrow a visit's lawful officers; return False (and change nothing) if too few."""
        if len(eligible) < self.team_size:
            return False
        self.eligible[visit] = eligible
        return True

    def teams(self) -> tuple[np.ndarray, np.ndarray]:
        """Return no teams: capacity that never binds gives no staffing to keep."""
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
