"""The pooled feasibility flow admits exactly the visit sets a per-visit max-flow can staff."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from spotcheck.scheduler.capacity import StaffingFlow


def staffable(visits: list[np.ndarray], capacity: list[int], team: int) -> bool:
    """Return whether every visit gets `team` distinct lawful officers within capacity."""
    n_visits, n_officers = len(visits), len(capacity)
    source, sink = 0, 1 + n_visits + n_officers
    arcs: list[tuple[int, int, int]] = []  # (tail, head, capacity)
    for v, lawful in enumerate(visits):
        arcs.append((source, 1 + v, team))
        arcs += [(1 + v, 1 + n_visits + officer, 1) for officer in lawful.tolist()]
    arcs += [(1 + n_visits + officer, sink, room) for officer, room in enumerate(capacity)]
    tails, heads, caps = np.array(arcs, dtype=np.int32).T
    graph = csr_matrix((caps, (tails, heads)), shape=(sink + 1,) * 2)
    return int(maximum_flow(graph, source, sink).flow_value) == team * n_visits


@st.composite
def workloads(draw: st.DrawFn) -> tuple[list[int], int, list[np.ndarray], list[tuple]]:
    n_officers = draw(st.integers(2, 9))
    capacity = draw(st.lists(st.integers(0, 4), min_size=n_officers, max_size=n_officers))
    team = draw(st.integers(1, 3))
    pools = [np.array(sorted(draw(st.sets(st.integers(0, n_officers - 1), min_size=1))),
                      dtype=np.int64) for _ in range(draw(st.integers(1, 4)))]
    steps = draw(st.lists(st.tuples(st.sampled_from(["add", "restrict", "fresh"]),
                                    st.integers(0, len(pools) - 1), st.integers(0, 30)),
                          max_size=25))
    return capacity, team, pools, steps


@given(workloads())
def test_admissions_match_a_per_visit_max_flow(case: tuple) -> None:
    """Every add and narrowing is admitted exactly when the whole set stays staffable."""
    capacity, team, pools, steps = case
    flow = StaffingFlow(list(capacity), team)
    admitted: list[np.ndarray] = []
    for kind, pool, pick in steps:
        lawful = pools[pool]
        if kind == "fresh":  # a recused visit: its own array, a pool of one
            lawful = lawful[lawful != lawful[pick % len(lawful)]].copy()
        if kind == "restrict" and admitted:
            visit = pick % len(admitted)
            narrower = np.intersect1d(admitted[visit], lawful)
            expected = staffable([*admitted[:visit], narrower, *admitted[visit + 1:]],
                                 capacity, team)
            assert flow.restrict_visit(visit, narrower) == expected
            if expected:
                admitted[visit] = narrower
            continue
        expected = staffable([*admitted, lawful], capacity, team)
        index = flow.add_visit(lawful)
        assert (index is not None) == expected
        if expected:
            assert index == len(admitted)
            admitted.append(lawful)
        assert flow.eligible == admitted
        assert all(0 <= load <= cap for load, cap in zip(flow.load, capacity, strict=True))


@given(workloads())
def test_teams_staff_every_admitted_visit_within_capacity(case: tuple) -> None:
    """The dealt-out teams give each visit team_size distinct lawful officers within capacity."""
    capacity, team, pools, steps = case
    flow = StaffingFlow(list(capacity), team)
    for kind, pool, pick in steps:
        lawful = pools[pool]
        if kind == "fresh":
            lawful = lawful[lawful != lawful[pick % len(lawful)]].copy()
        if kind == "restrict" and flow.eligible:
            visit = pick % len(flow.eligible)
            flow.restrict_visit(visit, np.intersect1d(flow.eligible[visit], lawful))
        else:
            flow.add_visit(lawful)
    visit, officer = flow.teams()
    assert np.array_equal(np.bincount(visit, minlength=len(flow.eligible)),
                          np.full(len(flow.eligible), team))
    for v, lawful in enumerate(flow.eligible):
        members = officer[visit == v]
        assert len(set(members.tolist())) == team
        assert set(members.tolist()) <= set(lawful.tolist())
    assert all(np.bincount(officer, minlength=len(capacity)) <= capacity)
