"""Allocation under capacity (alloc-v1): which drawn enterprises can be staffed, in what order.

The rule, documented for auditors in docs/ALLOCATION.md:

1. Each stratum's candidates are its eligible enterprises in draw-v1 order. A candidate for
   whom no lawful team exists at all (fewer than team_size officers pass department,
   jurisdiction, qualification, certificate and recusal) is skipped, recorded with the
   reason, and the next ticket takes its place. Tasks of one department share a visit
   whose team must hold all their qualifications; where no such team exists, the
   enterprise stays with the tasks that come first in task-code order (among those it is
   eligible for) and is skipped for the others — decided statically, never by which task
   reached it first.
2. Floors first: tier priorities from highest to lowest; within one priority, strata take
   turns so that each fills its floor at the same pace: the j-th candidate of a stratum
   with floor f comes at position j/f, ties by (task, tier, jurisdiction).
3. Then the part above the floor, the same way: priorities from highest to lowest, the
   j-th candidate above the floor at (j - f)/(target - f).
4. A candidate is admitted when all admitted visits plus its visit can still be staffed
   within every inspector's capacity (an exact max-flow check). The first candidate of a
   stratum that cannot be admitted closes the stratum: its draw stays a prefix of the
   ticket order, and its shortfall is recorded with the officers that ran out.

So a stratum is cut only when everything of higher priority that competes for the same
officers has been admitted, and lower-priority strata keep their floors before any
higher-priority stratum grows past its own.

With an annual cap (eligibility.AnnualCap), a candidate whose admission would open a visit
of one more department to an enterprise that has used its cap is skipped like one without
a team ("annual cap ..."), and the next ticket takes its place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spotcheck.models.policy import Policy
from spotcheck.models.registry import Registry
from spotcheck.scheduler.capacity import StaffingFlow, Unbounded
from spotcheck.scheduler.draw import Ordering, Target
from spotcheck.scheduler.eligibility import AnnualCap, Stratum
from spotcheck.scheduler.staffing import StaffingRules


@dataclass
class StratumOutcome:
    """What allocation did for one stratum."""

    stratum: Stratum
    target: Target
    ordering: Ordering
    priority: int
    drawn: list[int] = field(default_factory=list)      # positions in ordering, admitted
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (position, reason)
    cursor: int = 0
    closed_reason: str | None = None

    @property
    def allocated(self) -> int:
        """Return the draws capacity allowed: the target unless capacity closed the stratum."""
        return len(self.drawn) if self.closed_reason else self.target.target

    @property
    def shortfall(self) -> int:
        """Return how many draws the stratum's floor misses."""
        return max(0, self.target.floor - len(self.drawn))


@dataclass(slots=True)
class Visit:
    """One (enterprise, department) visit and the tasks that share it."""

    row: int
    department: str
    tasks: list[str]
    qualifications: frozenset[str]
    flow_index: int


@dataclass
class Allocation:
    """The outcome of allocation: per-stratum draws and skips, and the visits to staff."""

    outcomes: list[StratumOutcome]
    visits: list[Visit]
    eligible: list[np.ndarray]  # lawful inspectors per visit, aligned with visits
    # One team per visit that capacity allows, as (visit, officer) arrays: proof that the
    # visits can be staffed, and arcs the staffing solver is always given.
    teams: tuple[np.ndarray, np.ndarray]


def _turns(outcomes: list[StratumOutcome], level: int, above_floor: bool,
           rank: dict[tuple[str, str, str], int]) -> list[int]:
    """Return the strata of one priority in turn order: the j-th of n turns at j/n.

    A stratum's turns are fixed in advance (each one admits a candidate or closes the
    stratum), so the whole order is one sort by (j/n, stratum). j/n is compared as a
    float64: IEEE division rounds correctly, so equal fractions give equal floats, and
    distinct ones with n below 2^26 differ by more than the rounding and keep their order.
    """
    positions, strata, keys = [], [], []
    for index, outcome in enumerate(outcomes):
        if outcome.priority != level or outcome.closed_reason:
            continue
        start, stop = (outcome.target.floor, outcome.target.target) if above_floor \
            else (0, outcome.target.floor)
        if len(outcome.drawn) != start or stop <= start:
            continue
        n = stop - start
        if n >= 2**26:
            raise ValueError("a stratum's target is too large for the turn order")
        positions.append(np.arange(1, n + 1, dtype=np.float64) / n)
        strata.append(np.full(n, index, dtype=np.int64))
        keys.append(np.full(n, rank[outcome.stratum.key], dtype=np.int64))
    if not positions:
        return []
    order = np.lexsort((np.concatenate(keys), np.concatenate(positions)))
    return np.concatenate(strata)[order].tolist()


class _Admissions:
    """alloc-v1 in progress: the strata's cursors, the visits opened, the flow staffing them."""

    def __init__(self, registry: Registry, policy: Policy, rules: StaffingRules,
                 outcomes: list[StratumOutcome], cap: AnnualCap | None,
                 flow: StaffingFlow | Unbounded) -> None:
        self.registry, self.rules, self.cap, self.flow = registry, rules, cap, flow
        self.team_size = policy.team_size
        self.tasks = {t.code: t for t in policy.tasks}
        # Enterprise row → departments of its visits, for the annual cap.
        self.visiting: dict[int, set[str]] = {}
        self.visits: dict[tuple[int, str], Visit] = {}
        self.admitted: list[Visit] = []
        self.eligible_for: dict[str, np.ndarray] = {}
        for outcome in outcomes:
            mask = self.eligible_for.setdefault(
                outcome.stratum.task, np.zeros(len(registry.enterprises), dtype=bool))
            mask[outcome.stratum.eligible] = True
        self.peers: dict[str, list[str]] = {}
        for code in sorted(self.tasks):
            self.peers.setdefault(self.tasks[code].department, []).append(code)
        # Departments whose tasks ask for two qualifications or more: only there can a
        # joint visit lack a team.
        self.joint = {d for d, group in self.peers.items()
                      if len({self.tasks[c].qualification for c in group
                              if self.tasks[c].qualification}) >= 2}
        self._candidates: dict[tuple[str, str, str],
                               tuple[str, frozenset[str], np.ndarray]] = {}

    def own_qualifications(self, code: str) -> frozenset[str]:
        """Return the qualification a task itself requires, as a set."""
        qualification = self.tasks[code].qualification
        return frozenset([qualification]) if qualification else frozenset()

    def joint_conflict(self, row: int, code: str) -> str | None:
        """Return why this task may not share the enterprise's visit, decided statically.

        Tasks of one department share a visit, whose team must hold every qualification
        of its tasks. Whether such a team exists is settled here in task-code order over
        the tasks for which the enterprise is eligible, never by which task happened to
        draw the enterprise first, so a larger sample always extends a smaller one.
        """
        department = self.tasks[code].department
        chain: frozenset[str] = frozenset()
        kept: list[str] = []
        for peer in self.peers[department]:
            mask = self.eligible_for.get(peer)
            if mask is None or not mask[row]:
                continue
            wanted = chain | self.own_qualifications(peer)
            if len(self.rules.lawful(row, department, wanted)) >= self.team_size:
                chain, kept = wanted, [*kept, peer]
                if peer == code:
                    return None
            elif peer == code:
                return (self.rules.why_no_team(row, department, wanted)
                        + f" for a joint visit (进一次门) with task(s) {', '.join(kept)}")
        return None

    def candidates(self, stratum: Stratum) -> tuple[str, frozenset[str], np.ndarray]:
        """Return a stratum's department, its task's own qualifications, and the officers
        lawful for its enterprises unless recusal or rotation keep some off."""
        found = self._candidates.get(stratum.key)
        if found is None:
            department = self.tasks[stratum.task].department
            own = self.own_qualifications(stratum.task)
            # Every enterprise of a stratum is in its jurisdiction: one pool serves them all.
            found = self._candidates[stratum.key] = (
                department, own,
                self.rules.qualified(department, stratum.jurisdiction.encode(), own))
        return found

    def try_next(self, outcome: StratumOutcome) -> bool:
        """Admit the stratum's next candidate; return False once it is closed or exhausted."""
        rules, team_size, code = self.rules, self.team_size, outcome.stratum.task
        department, own, common = self.candidates(outcome.stratum)
        kept_off = rules.kept_off_mask
        joint = department in self.joint
        rows = outcome.ordering.rows
        while outcome.cursor < len(rows):
            position = outcome.cursor
            outcome.cursor += 1
            row = int(rows[position])
            lawful = rules.lawful(row, department, own) if kept_off[row] else common
            if len(lawful) < team_size:
                outcome.skipped.append((position, rules.why_no_team(row, department, own)))
                continue
            conflict = self.joint_conflict(row, code) if joint else None
            if conflict:
                outcome.skipped.append((position, conflict))
                continue
            visit = self.visits.get((row, department))
            if visit is None and self.cap is not None:
                blocked = self.cap.blocks(row, department, self.visiting.get(row, set()))
                if blocked:
                    outcome.skipped.append((position, blocked))
                    continue
            if not self.admit(outcome, visit, row, department, code, own, lawful):
                return False
            outcome.drawn.append(position)
            return True
        return False

    def admit(self, outcome: StratumOutcome, visit: Visit | None, row: int, department: str,
              code: str, own: frozenset[str], lawful: np.ndarray) -> bool:
        """Open the candidate's visit or join the one open; return False, closing the
        stratum, when the visits admitted so far leave no room for it."""
        if visit is None:
            index = self.flow.add_visit(lawful)
            if index is None:
                self.close(outcome, lawful, department, row)
                return False
            visit = Visit(row, department, [code], own, index)
            self.visits[row, department] = visit
            self.admitted.append(visit)
            if self.cap is not None:
                self.visiting.setdefault(row, set()).add(department)
            return True
        quals = visit.qualifications | own
        if quals != visit.qualifications:
            narrower = self.rules.lawful(row, department, quals)
            if not self.flow.restrict_visit(visit.flow_index, narrower):
                self.close(outcome, narrower, department, row)
                return False
            visit.qualifications = quals
        visit.tasks.append(code)
        return True

    def close(self, outcome: StratumOutcome, lawful: np.ndarray, department: str,
              row: int) -> None:
        """Close the stratum: its candidate cannot be staffed with the visits admitted."""
        place = self.registry.enterprises.jurisdictions[row].decode()
        outcome.closed_reason = (
            f"capacity: the {len(lawful)} lawful officer(s) of department {department} for "
            f"{place} ({self.rules.describe_pool(lawful.tolist())}) and those they could "
            "trade visits with are fully booked")


def allocate(registry: Registry, policy: Policy, rules: StaffingRules,
             strata: list[tuple[Stratum, Target, Ordering]], *, cap: AnnualCap | None = None,
             unlimited: bool = False) -> Allocation:
    """Return the admitted draws and visits under the alloc-v1 rule; with `unlimited`, as if
    no officer's capacity bound (every target staffed; `teams` is then empty)."""
    outcomes = [StratumOutcome(s, t, o, policy.tiers[s.tier].priority) for s, t, o in strata]
    flow = (Unbounded(policy.team_size) if unlimited
            else StaffingFlow(list(rules.capacity), policy.team_size))
    state = _Admissions(registry, policy, rules, outcomes, cap, flow)
    levels = sorted({o.priority for o in outcomes}, reverse=True)
    rank = {key: r for r, key in enumerate(sorted(o.stratum.key for o in outcomes))}
    for above_floor in (False, True):
        for level in levels:
            stopped: set[int] = set()
            for index in _turns(outcomes, level, above_floor, rank):
                if index in stopped:
                    continue
                if not state.try_next(outcomes[index]):
                    stopped.add(index)
    ordered = sorted(state.admitted, key=lambda v: v.flow_index)
    for visit in ordered:
        visit.tasks.sort()
    # Only the positions a stratum reached are ever read again: drop the rest of each
    # draw order (at province scale most of the tickets) before staffing needs the memory.
    for outcome in outcomes:
        outcome.ordering = Ordering(outcome.ordering.rows[:outcome.cursor].copy(),
                                    outcome.ordering.tickets[:outcome.cursor].copy())
    # Visits join the flow in admission order, so flow_index is each one's position.
    return Allocation(outcomes, ordered, list(flow.eligible), flow.teams())
