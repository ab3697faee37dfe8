"""The shortfall advice adds its units a run at a time exactly as one at a time would."""

from __future__ import annotations

from collections import deque

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from spotcheck.scheduler.shortfall import extra_capacity


def source_side(eligible: list[np.ndarray], team: int,
                capacity: list[int]) -> tuple[int, list[int]]:
    """Return the merged network's maximum flow and the officers the source reaches in its
    residual network, by a breadth-first search over the arcs one by one."""
    pools: dict[int, list[int]] = {}
    for v, lawful in enumerate(eligible):
        pools.setdefault(id(lawful), []).append(v)
    groups = list(pools.values())
    officers = sorted({o for lawful in eligible for o in lawful.tolist()})
    node = {o: 1 + len(groups) + k for k, o in enumerate(officers)}
    sink = 1 + len(groups) + len(officers)
    arcs: list[tuple[int, int, int]] = []
    for k, visits in enumerate(groups):
        arcs.append((0, 1 + k, team * len(visits)))
        arcs += [(1 + k, node[o], len(visits)) for o in eligible[visits[0]].tolist()]
    arcs += [(node[o], sink, capacity[o]) for o in officers]
    tails, heads, caps = (np.array(column, dtype=np.int32) for column in zip(*arcs, strict=True))
    graph = csr_matrix((caps, (tails, heads)), shape=(sink + 1, sink + 1))
    found = maximum_flow(graph, 0, sink)
    flow = found.flow.toarray()
    residual = {(t, h): c - flow[t, h] for t, h, c in arcs}
    residual.update({(h, t): int(flow[t, h]) for t, h, _ in arcs})
    reached, queue = {0}, deque([0])
    while queue:
        tail = queue.popleft()
        for (t, h), room in residual.items():
            if t == tail and room > 0 and h not in reached:
                reached.add(h)
                queue.append(h)
    return int(found.flow_value), [o for o in officers if node[o] in reached]


def one_unit_at_a_time(eligible: list[np.ndarray], team: int,
                       capacity: list[int]) -> tuple[dict[int, int], list[int]]:
    """Return the advice by the rule as written: one unit at a time, each to the officer of
    the current source side with the fewest units added, then the first."""
    extra: dict[int, int] = {}
    saturated: list[int] | None = None
    while True:
        value, side = source_side(eligible, team,
                                  [c + extra.get(o, 0) for o, c in enumerate(capacity)])
        if value == team * len(eligible):
            return extra, saturated or []
        if saturated is None:
            saturated = side
        chosen = min(side, key=lambda o: (extra.get(o, 0), o))
        extra[chosen] = extra.get(chosen, 0) + 1


@st.composite
def short_networks(draw: st.DrawFn) -> tuple[list[np.ndarray], int, list[int]]:
    team = draw(st.integers(1, 3))
    n_officers = draw(st.integers(team, 8))
    capacity = draw(st.lists(st.integers(0, 3), min_size=n_officers, max_size=n_officers))
    officer = st.integers(0, n_officers - 1)
    pools = [np.array(sorted(draw(st.sets(officer, min_size=team))), dtype=np.int64)
             for _ in range(draw(st.integers(1, 4)))]
    eligible = []
    for pool, fresh in draw(st.lists(st.tuples(st.integers(0, len(pools) - 1), st.booleans()),
                                     min_size=1, max_size=14)):
        # A fresh copy is a visit of its own pool, as a recused visit is.
        eligible.append(pools[pool].copy() if fresh else pools[pool])
    return eligible, team, capacity


@given(short_networks())
def test_extra_capacity_matches_one_unit_at_a_time(case: tuple) -> None:
    """Runs of units give the same officer-visits and the same saturated officers as
    recomputing the source side after every unit."""
    eligible, team, capacity = case
    assert extra_capacity(eligible, team, capacity) == one_unit_at_a_time(eligible, team,
                                                                          capacity)
