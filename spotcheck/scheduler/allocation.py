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
from spotcheck.scheduler.capacity import StaffingFlow
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


@dataclass
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


def allocate(registry: Registry, policy: Policy, rules: StaffingRules,
             strata: list[tuple[Stratum, Target, Ordering]], *, cap: AnnualCap | None = None,
             capacity: list[int] | None = None) -> Allocation:
    """Return the admitted draws and visits under the alloc-v1 rule; `capacity` (default the
    officers' own) is what each officer may take, e.g. far more to see every target staffed."""
    outcomes = [StratumOutcome(s, t, o, policy.tiers[s.tier].priority) for s, t, o in strata]
    flow = StaffingFlow(list(rules.capacity if capacity is None else capacity),
                        policy.team_size)
    visiting: dict[int, set[str]] = {}  # enterprise row → departments of its visits
    visits: dict[tuple[int, str], Visit] = {}
    admitted: list[Visit] = []
    tasks = {t.code: t for t in policy.tasks}

    def own_qualifications(code: str) -> frozenset[str]:
        qualification = tasks[code].qualification
        return frozenset([qualification]) if qualification else frozenset()

    eligible_for: dict[str, np.ndarray] = {}
    for stratum, _, _ in strata:
        mask = eligible_for.setdefault(stratum.task,
                                       np.zeros(len(registry.enterprises), dtype=bool))
        mask[stratum.eligible] = True
    peers: dict[str, list[str]] = {}
    for code in sorted(tasks):
        peers.setdefault(tasks[code].department, []).append(code)

    def joint_conflict(row: int, code: str) -> str | None:
        """Return why this task may not share the enterprise's visit, decided statically.

        Tasks of one department share a visit, whose team must hold every qualification
        of its tasks. Whether such a team exists is settled here in task-code order over
        the tasks for which the enterprise is eligible, never by which task happened to
        draw the enterprise first, so a larger sample always extends a smaller one.
        """
        department = tasks[code].department
        group = peers[department]
        if len({tasks[c].qualification for c in group if tasks[c].qualification}) < 2:
            return None
        chain: frozenset[str] = frozenset()
        kept: list[str] = []
        for peer in group:
            mask = eligible_for.get(peer)
            if mask is None or not mask[row]:
                continue
            wanted = chain | own_qualifications(peer)
            if len(rules.lawful(row, department, wanted)) >= policy.team_size:
                chain, kept = wanted, [*kept, peer]
                if peer == code:
                    return None
            elif peer == code:
                return (rules.why_no_team(row, department, wanted)
                        + f" for a joint visit (进一次门) with task(s) {', '.join(kept)}")
        return None

    def try_next(outcome: StratumOutcome) -> bool:
        """Admit the stratum's next candidate; return False once it is closed or exhausted."""
        task = tasks[outcome.stratum.task]
        own = own_qualifications(task.code)
        rows = outcome.ordering.rows
        while outcome.cursor < len(rows):
            position = outcome.cursor
            outcome.cursor += 1
            row = int(rows[position])
            lawful = rules.lawful(row, task.department, own)
            if len(lawful) < policy.team_size:
                outcome.skipped.append((position, rules.why_no_team(row, task.department, own)))
                continue
            conflict = joint_conflict(row, task.code)
            if conflict:
                outcome.skipped.append((position, conflict))
                continue
            key = (row, task.department)
            visit = visits.get(key)
            if visit is None and cap is not None:
                blocked = cap.blocks(row, task.department, visiting.get(row, set()))
                if blocked:
                    outcome.skipped.append((position, blocked))
                    continue
            quals = own if visit is None else visit.qualifications | own
            if quals != own:
                lawful = rules.lawful(row, task.department, quals)
            if visit is None:
                index = flow.add_visit(lawful)
                if index is None:
                    close(outcome, lawful, task.department, row)
                    return False
                visit = Visit(row, task.department, [task.code], quals, index)
                visits[key] = visit
                admitted.append(visit)
                visiting.setdefault(row, set()).add(task.department)
            elif quals != visit.qualifications:
                if not flow.restrict_visit(visit.flow_index, lawful):
                    close(outcome, lawful, task.department, row)
                    return False
                visit.qualifications = quals
                visit.tasks.append(task.code)
            else:
                visit.tasks.append(task.code)
            outcome.drawn.append(position)
            return True
        return False

    def close(outcome: StratumOutcome, lawful: np.ndarray, department: str, row: int) -> None:
        place = registry.enterprises.jurisdictions[row].decode()
        outcome.closed_reason = (
            f"capacity: the {len(lawful)} lawful officer(s) of department {department} for "
            f"{place} ({rules.describe_pool(lawful.tolist())}) and those they could trade "
            "visits with are fully booked")

    levels = sorted({o.priority for o in outcomes}, reverse=True)
    rank = {key: r for r, key in enumerate(sorted(o.stratum.key for o in outcomes))}
    for above_floor in (False, True):
        for level in levels:
            stopped: set[int] = set()
            for index in _turns(outcomes, level, above_floor, rank):
                if index in stopped:
                    continue
                if not try_next(outcomes[index]):
                    stopped.add(index)
    ordered = sorted(admitted, key=lambda v: v.flow_index)
    for visit in ordered:
        visit.tasks.sort()
    # Only the positions a stratum reached are ever read again: drop the rest of each
    # draw order (at province scale most of the tickets) before staffing needs the memory.
    for outcome in outcomes:
        outcome.ordering = Ordering(outcome.ordering.rows[:outcome.cursor].copy(),
                                    outcome.ordering.tickets[:outcome.cursor].copy())
    # Visits join the flow in admission order, so flow_index is each one's position.
    return Allocation(outcomes, ordered, [flow.eligible[v.flow_index] for v in ordered],
                      flow.teams())
