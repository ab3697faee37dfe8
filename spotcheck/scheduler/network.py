"""The staffing network that assignment solves and the optimality proof certifies.

Both `assignment` (which builds and solves it) and `optimality` (which proves a solution
of it minimal) read this one description, so neither imports the other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spotcheck.scheduler.costs import PairCosts
from spotcheck.scheduler.fasthash import NO_PAIR_LEFT_OUT

NO_ARC_LEFT_OUT = NO_PAIR_LEFT_OUT  # left_out_cost of a visit whose lawful pairs are all arcs


@dataclass(frozen=True, eq=False)
class StaffingProblem:
    """The min-cost staffing network: visits, lawful officers, costs and capacities.

    `arc_*` hold the pairs given to the solver; `lawful[v]` lists every lawful officer of
    visit v and `left_out_cost[v]` is the cheapest cost among v's pairs not in `arc_*` —
    with `officer_price` (int64 per officer, when the arcs were chosen by cost + price) the
    cheapest cost + price among them.
    """

    team_size: int
    visit_ids: list[str]          # enterprise_id of each visit
    inspector_ids: list[str]
    capacity: np.ndarray          # int64 per inspector
    arc_visit: np.ndarray         # int64 per arc
    arc_inspector: np.ndarray     # int64 per arc
    arc_cost: np.ndarray          # int64 per arc
    lawful: list[np.ndarray]
    left_out_cost: np.ndarray     # int64 per visit
    costs: PairCosts | None = None  # the plan's assign rule and keys, to recompute any cost
    officer_price: np.ndarray | None = None  # int64 per officer, when arcs were chosen by it
    # the potentials (visits, officers, sink) that proved the flow found on it optimal
    potentials: np.ndarray | None = None

    @property
    def visits(self) -> int:
        """Return the number of visits."""
        return len(self.visit_ids)


def contains(members: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Return, per wanted integer, whether it is among `members`, by binary search (the
    arc keys this is used on come sorted, so usually nothing is sorted here)."""
    if len(members) == 0:
        return np.zeros(len(wanted), dtype=bool)
    ordered = members if np.all(members[1:] >= members[:-1]) else np.sort(members)
    return ordered[np.minimum(np.searchsorted(ordered, wanted), len(ordered) - 1)] == wanted
