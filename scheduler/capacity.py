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
    # Lawful-officer arrays are shared by every visit of one (department, place, skills);
    # keep each as a list once, and where its leading officers are known to be full.
    # The cache holds each array too, so its id() cannot be reused by another array.
    _lists: dict[int, tuple[np.ndarray, list[int]]] = field(init=False, default_factory=dict)
    _full_prefix: dict[int, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.load = [0] * len(self.capacity)
        self.users = [set() for _ in self.capacity]
        self._dead_inspector = bytearray(len(self.capacity))

    def _officers(self, visit: int) -> list[int]:
        array = self.eligible[visit]
        found = self._lists.get(id(array))
        if found is None:
            found = self._lists[id(array)] = (array, array.tolist())
        return found[1]

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
            self.load[inspector] += 1
        self._revive()
        return False

    def _release(self, visit: int) -> None:
        for inspector in self.team[visit]:
            self.load[inspector] -= 1
            self.users[inspector].discard(visit)
        self.team[visit].clear()
        self._revive()

    def _revive(self) -> None:
        # Freed capacity can open paths from nodes a failed search had written off, and
        # officers known to be full may have room again.
        self._dead_inspector = bytearray(len(self.capacity))
        self._dead_visit = bytearray(len(self.team))
        self._full_prefix.clear()

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
        self.load[path[0].sink] -= 1

    def _augment(self, root: int, mark_dead: bool) -> list[_Change] | None:
        team, load, capacity = self.team, self.load, self.capacity
        root_team = team[root]
        officers = self._officers(root)
        key = id(self.eligible[root])
        start = self._full_prefix.get(key, 0)
        while start < len(officers) and load[officers[start]] >= capacity[officers[start]]:
            start += 1
        self._full_prefix[key] = start
        for position in range(start, len(officers)):
            inspector = officers[position]
            if inspector not in root_team and load[inspector] < capacity[inspector]:
                root_team.add(inspector)
                self.users[inspector].add(root)
                load[inspector] += 1
                return [_Change(root, inspector, -1, inspector)]
        dead_i, dead_v = self._dead_inspector, self._dead_visit
        reached_from: dict[int, int] = {}   # inspector -> visit that reached it
        entered_by: dict[int, int] = {root: -1}  # visit -> inspector it would give up
        queue = deque([root])
        while queue:
            visit = queue.popleft()
            for inspector in self._officers(visit):
                if inspector in team[visit] or inspector in reached_from or dead_i[inspector]:
                    continue
                reached_from[inspector] = visit
                if load[inspector] < capacity[inspector]:
                    return self._apply(inspector, reached_from, entered_by)
                for other in self.users[inspector]:
                    if other not in entered_by and not dead_v[other]:
                        entered_by[other] = inspector
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
        self.load[free] += 1
        return changes
