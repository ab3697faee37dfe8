"""Balanced workload (policy `workload = "balanced"`) and the utilisation spread of a plan.

Minimum random cost alone fills the officers who happen to be cheap up to their capacity
and leaves others idle. With `workload = "balanced"` the teams are chosen in two steps:

1. the balance cap: the smallest utilisation u, in steps of 1 % (u = p/100, p = 1 … 100),
   such that every admitted visit can still be staffed when each officer takes at most
   ⌈u · capacity⌉ visits — decided exactly, by maximum flow (`capacity.StaffingFlow`, the
   check allocation uses). Feasibility only grows with p and p = 100 is the capacity
   allocation admitted the visits under, so the smallest p is found by bisection. It is
   found for each part of the staffing network on its own — the visits and officers linked
   by lawful pairs, so at least one part per department — since parts share no officer:
   a department whose districts are all fully booked does not hold another's cap at 100 %;
2. the teams of minimum total cost (the plan's assign rule) under those caps.

So randomness and the proof are kept: the teams are still the cheapest lawful ones, only
within smaller caps, and `verify` checks both that the teams keep within ⌈p · capacity / 100⌉
and that, part by part, p − 1 cannot staff every visit of the part.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spotcheck.models.domain import Inspector
from spotcheck.models.quarter import Quarter
from spotcheck.scheduler.assignment import staff
from spotcheck.scheduler.capacity import StaffingFlow
from spotcheck.scheduler.network import StaffingProblem

BALANCED = "balanced"


def caps_at(capacity: Sequence[int], percent: int) -> list[int]:
    """Return each officer's cap ⌈percent · capacity / 100⌉, in exact integers."""
    return [(percent * c + 99) // 100 for c in capacity]


def staffable(capacity: Sequence[int], team_size: int,
              eligible: Sequence[np.ndarray]) -> StaffingFlow | None:
    """Return a flow staffing every visit (its lawful officers given) within these
    capacities, or None when none exists (exact maximum flow)."""
    flow = StaffingFlow(list(capacity), team_size)
    for lawful in eligible:
        if flow.add_visit(lawful) is None:
            return None
    return flow


@dataclass(frozen=True, slots=True)
class Part:
    """A part of the staffing network: visits and officers linked by lawful pairs."""

    visits: np.ndarray    # plan visit indices, ascending
    officers: np.ndarray  # inspector indices, ascending


@dataclass(frozen=True, slots=True)
class BalanceCap:
    """One part's balance cap, as the manifest records it (`workload.caps`)."""

    first_officer: str  # the part's first officer by certificate number
    officers: int
    percent: int


def parts(eligible: Sequence[np.ndarray], officers: int) -> list[Part]:
    """Return the parts of the staffing network of these visits, by first officer."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    sizes = np.array([len(e) for e in eligible], dtype=np.int64)
    pair_visit = np.repeat(np.arange(len(eligible), dtype=np.int64), sizes)
    pair_officer = np.concatenate(eligible) if len(eligible) else np.zeros(0, np.int64)
    nodes = len(eligible) + officers
    graph = coo_matrix((np.ones(len(pair_visit), dtype=np.int8),
                        (pair_visit, len(eligible) + pair_officer)), shape=(nodes, nodes))
    _, label = connected_components(graph, directed=False)
    found = []
    for part in np.unique(label[:len(eligible)]).tolist():
        members = np.flatnonzero(label[len(eligible):] == part)
        found.append(Part(np.flatnonzero(label[:len(eligible)] == part), members))
    return sorted(found, key=lambda p: int(p.officers[0]))


def smallest_percent(capacity: Sequence[int], team_size: int,
                     eligible: Sequence[np.ndarray]) -> tuple[int, StaffingFlow]:
    """Return the smallest p for which these visits are staffable within each officer's
    ⌈p · capacity / 100⌉, and a staffing within it (they must be staffable at p = 100)."""
    best = staffable(capacity, team_size, eligible)
    if best is None:
        raise ValueError("the visits cannot be staffed within the full capacity")
    low, high = 0, 100  # p = low is infeasible (or 0), p = high is feasible
    while high - low > 1:
        middle = (low + high) // 2
        flow = staffable(caps_at(capacity, middle), team_size, eligible)
        if flow is None:
            low = middle
        else:
            high, best = middle, flow
    return high, best


def part_caps(capacity: Sequence[int], found: Sequence[Part],
              percents: Sequence[int]) -> list[int]:
    """Return each officer's cap: ⌈p · capacity / 100⌉ with the p of its part (officers in
    no part keep their capacity: no visit can use them)."""
    caps = list(capacity)
    for part, percent in zip(found, percents, strict=True):
        for officer in part.officers.tolist():
            caps[officer] = caps_at([capacity[officer]], percent)[0]
    return caps


def balance(capacity: Sequence[int], team_size: int, eligible: Sequence[np.ndarray],
            ids: Sequence[str]) -> tuple[list[BalanceCap], list[int],
                                         tuple[np.ndarray, np.ndarray]]:
    """Return each part's balance cap, every officer's cap and a staffing within the caps as
    (visit, officer) arrays. The visits must be staffable within full capacity."""
    found = parts(eligible, len(capacity))
    percents, team_visit, team_officer = [], [], []
    for part in found:
        percent, flow = smallest_percent(capacity, team_size,
                                         [eligible[v] for v in part.visits.tolist()])
        percents.append(percent)
        visit, officer = flow.teams()
        team_visit.append(part.visits[visit])
        team_officer.append(officer)
    caps = part_caps(capacity, found, percents)
    empty = np.zeros(0, dtype=np.int64)
    visits = np.concatenate(team_visit) if team_visit else empty
    officers = np.concatenate(team_officer) if team_officer else empty
    order = np.lexsort((officers, visits))
    return ([BalanceCap(ids[int(p.officers[0])], len(p.officers), percent)
             for p, percent in zip(found, percents, strict=True)],
            caps, (visits[order], officers[order]))


@dataclass(frozen=True, slots=True)
class Spread:
    """The utilisation of one department's officers: lowest, median and highest, in percent
    of each officer's quarterly capacity."""

    department: str
    officers: int
    lowest: float
    median: float
    highest: float


def serving_officers(inspectors: Sequence[Inspector], quarter: Quarter) -> list[int]:
    """Return the officers who could be on a team this quarter: role officer, certificate
    valid through the quarter, capacity above 0."""
    return [i for i, o in enumerate(inspectors) if o.role == "officer" and o.capacity > 0
            and o.certificate_expiry >= quarter.end]


def spread(inspectors: Sequence[Inspector], quarter: Quarter,
           load: Sequence[int]) -> list[Spread]:
    """Return each department's utilisation spread for these loads (visits per inspector)."""
    shares: dict[str, list[float]] = {}
    for i in serving_officers(inspectors, quarter):
        shares.setdefault(inspectors[i].department, []).append(
            100 * load[i] / inspectors[i].capacity)
    return [Spread(d, len(v), min(v), statistics.median(v), max(v))
            for d, v in sorted(shares.items())]


@dataclass(frozen=True)
class Comparison:
    """The utilisation spread of the same visits staffed both ways: at minimum cost within
    full capacity, and balanced (minimum cost within the balance cap)."""

    caps: tuple[BalanceCap, ...]  # each part's balance cap
    minimum_cost: list[Spread]
    balanced: list[Spread]


def compare(problem: StaffingProblem, assign: str, seed_digest: str, quarter: Quarter,
            inspectors: Sequence[Inspector], load: Sequence[int],
            balanced: bool) -> Comparison:
    """Return the spread of a plan's teams (`load` per inspector; `balanced`: whether they
    were balanced) beside the spread of the same visits staffed the other way."""
    full = [o.capacity for o in inspectors]
    ids = [o.inspector_id for o in inspectors]
    caps_found, caps, teams = balance(full, problem.team_size, problem.lawful, ids)
    if balanced:
        caps = full
        staffing = staffable(full, problem.team_size, problem.lawful)
        assert staffing is not None  # the plan staffs them within smaller caps
        teams = staffing.teams()
    other, flows = staff(seed_digest, str(quarter), problem.team_size, problem.visit_ids,
                         problem.lawful, problem.inspector_ids, caps, assign=assign,
                         teams=teams)
    other_load = np.bincount(other.arc_inspector[flows > 0],
                             minlength=len(inspectors)).tolist()
    own, alternative = spread(inspectors, quarter, load), spread(inspectors, quarter, other_load)
    return Comparison(tuple(caps_found), alternative if balanced else own,
                      own if balanced else alternative)
