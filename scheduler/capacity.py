"""An incremental feasibility check for staffing visits under inspector capacity.

The network is source → visit (team_size) → inspector (1 per lawful pair) → sink (capacity).
A set of visits can be staffed exactly when its maximum flow saturates every visit; this
class keeps such a flow and grows it one visit at a time by augmenting paths, which is
exact (Ford–Fulkerson). The answer "can this set be staffed" is a property of the set,
so the particular flow kept here never shows in a plan: teams come from assignment.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass(slots=True)
class _Change:
    visit: int
    gained: int
    released: int  # -1 when the visit only gained
    sink: int      # the inspector whose load grew, on the first change of a path


@dataclass
class StaffingFlow:
    """A maximum flow that staffs every admitted visit, grown by augmenting paths."""

    capacity: list[int]
    team_size: int
    load: list[int] = field(init=False)
    users: list[set[int]] = field(init=False)
    eligible: list[np.ndarray] = field(init=False, default_factory=list)
    team: list[set[int]] = field(init=False, default_factory=list)
    _dead_inspector: bytearray = field(init=False)
    _dead_visit: bytearray = field(init=False, default_factory=bytearray)
    # Lawful-officer arrays are shared by every visit of one (department, place, skills):
    # each is a "pool", kept as a list with the set of its officers that have room left.
    # A pool holds its array, so the array's id() cannot be reused while the pool exists.
    _pools: dict[int, tuple[np.ndarray, list[int], set[int]]] = field(init=False,
                                                                      default_factory=dict)
    _pools_of: list[list[set[int]]] = field(init=False)

    def __post_init__(self) -> None:
        self.load = [0] * len(self.capacity)
        self.users = [set() for _ in self.capacity]
        self._dead_inspector = bytearray(len(self.capacity))
        self._pools_of = [[] for _ in self.capacity]

    def _pool(self, array: np.ndarray) -> tuple[np.ndarray, list[int], set[int]]:
        found = self._pools.get(id(array))
        if found is None:
            officers = array.tolist()
            room = {i for i in officers if self.load[i] < self.capacity[i]}
            found = self._pools[id(array)] = (array, officers, room)
            for officer in officers:
                self._pools_of[officer].append(room)
        return found

    def _change_load(self, officer: int, delta: int) -> None:
        before = self.load[officer] < self.capacity[officer]
        self.load[officer] += delta
        after = self.load[officer] < self.capacity[officer]
        if before and not after:
            for room in self._pools_of[officer]:
                room.discard(officer)
        elif after and not before:
            for room in self._pools_of[officer]:
                room.add(officer)

    def _free_officer(self, visit: int) -> int:
        """Return a lawful officer with room who is not on the visit's team, or -1."""
        team = self.team[visit]
        for officer in self._pool(self.eligible[visit])[2]:
            if officer not in team:
                return officer
        return -1

    def add_visit(self, eligible: np.ndarray) -> int | None:
        """Return the new visit's index if it can be staffed with all others, else None."""
        visit = len(self.team)
        self.eligible.append(eligible)
        self.team.append(set())
        self._dead_visit.append(0)
        if self._staff(visit):
            return visit
        self.eligible.pop()
        self.team.pop()
        self._dead_visit.pop()
        return None

    def restrict_visit(self, visit: int, eligible: np.ndarray) -> bool:
        """Narrow a visit's lawful inspectors; return False (and change nothing) if unstaffable."""
        old_team, old_eligible = set(self.team[visit]), self.eligible[visit]
        self._release(visit)
        self.eligible[visit] = eligible
        if self._staff(visit, mark_dead=False):
            return True
        self.eligible[visit] = old_eligible
        for inspector in old_team:
            self.team[visit].add(inspector)
            self.users[inspector].add(visit)
            self._change_load(inspector, +1)
        self._revive()
        return False

    def _release(self, visit: int) -> None:
        for inspector in self.team[visit]:
            self._change_load(inspector, -1)
            self.users[inspector].discard(visit)
        self.team[visit].clear()
        self._revive()

    def _revive(self) -> None:
        # Freed capacity can open paths from nodes a failed search had written off.
        self._dead_inspector = bytearray(len(self.capacity))
        self._dead_visit = bytearray(len(self.team))

    def _staff(self, visit: int, mark_dead: bool = True) -> bool:
        journal: list[list[_Change]] = []
        for unit in range(self.team_size):
            path = self._augment(visit, mark_dead=mark_dead and unit == 0)
            if path is None:
                for done in reversed(journal):
                    self._undo(done)
                return False
            journal.append(path)
        return True

    def _undo(self, path: list[_Change]) -> None:
        for change in reversed(path):
            self.team[change.visit].discard(change.gained)
            self.users[change.gained].discard(change.visit)
            if change.released >= 0:
                self.team[change.visit].add(change.released)
                self.users[change.released].add(change.visit)
        self._change_load(path[0].sink, -1)

    def _augment(self, root: int, mark_dead: bool) -> list[_Change] | None:
        """Find and apply one augmenting path from `root` (breadth-first search)."""
        free = self._free_officer(root)
        if free >= 0:
            return self._apply(free, {free: root}, {root: -1})
        team, users = self.team, self.users
        dead_i, dead_v = self._dead_inspector, self._dead_visit
        reached_from: dict[int, int] = {}        # officer -> visit that reached it
        entered_by: dict[int, int] = {root: -1}  # visit -> officer it would give up
        # Visits of one pool share its officer list: scan it once per search, and keep
        # the officers a visit passed over only because they were on its own team.
        cursor: dict[int, int] = {}
        deferred: dict[int, list[int]] = {}
        queue = deque([root])
        while queue:
            visit = queue.popleft()
            members = team[visit]
            array = self.eligible[visit]
            pool, officers = id(array), self._pool(array)[1]
            candidates = [o for o in deferred.get(pool, ())
                          if o not in members and o not in reached_from]
            position = cursor.get(pool, 0)
            while position < len(officers):
                officer = officers[position]
                position += 1
                if officer in reached_from or dead_i[officer]:
                    continue
                if officer in members:
                    deferred.setdefault(pool, []).append(officer)
                    continue
                candidates.append(officer)
            cursor[pool] = position
            for officer in candidates:
                if officer in reached_from:
                    continue
                reached_from[officer] = visit
                for other in users[officer]:
                    if other in entered_by or dead_v[other]:
                        continue
                    entered_by[other] = officer
                    free = self._free_officer(other)
                    if free >= 0:
                        reached_from[free] = other
                        return self._apply(free, reached_from, entered_by)
                    queue.append(other)
        if mark_dead:
            for inspector in reached_from:
                dead_i[inspector] = 1
            for visit in entered_by:
                if visit != root:
                    dead_v[visit] = 1
        return None

    def _apply(self, free: int, reached_from: dict[int, int],
               entered_by: dict[int, int]) -> list[_Change]:
        changes: list[_Change] = []
        gained = free
        visit = reached_from[gained]
        while True:
            released = entered_by[visit]
            self.team[visit].add(gained)
            self.users[gained].add(visit)
            if released >= 0:
                self.team[visit].discard(released)
                self.users[released].discard(visit)
            changes.append(_Change(visit, gained, released, free))
            if released < 0:
                break
            gained = released
            visit = reached_from[gained]
        self._change_load(free, +1)
        return changes
