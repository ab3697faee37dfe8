"""The teams of minimum total random cost (assign-v1 or assign-v2), by exact min-cost flow.

Every lawful (visit, officer) pair has a cost by the plan's assign rule, and all of them
are priced (`costs`); but only each visit's few cheapest pairs go into the solver
(OR-Tools). The solution is then proven optimal for the whole network by reduced costs:
with node potentials from the pruned solution's residual network, no left-out pair could
lower the total (it costs at least the visit's cheapest left-out cost). Where that proof
fails for a visit, its pairs are all added and the network is solved again. The answer is
the exact optimum of the full network either way; pruning only keeps the solver's network
small.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from spotcheck.errors import SpotcheckError
from spotcheck.scheduler.costs import PairCosts
from spotcheck.scheduler.fasthash import cheapest_pairs, keep_cheapest, native
from spotcheck.scheduler.hashes import ASSIGN_V1
from spotcheck.scheduler.network import NO_ARC_LEFT_OUT, StaffingProblem, contains
from spotcheck.scheduler.optimality import certify

PARALLEL_MIN_PAIRS = 2_000_000  # below this, forking costs more than it saves


def visit_costs(seed_digest: str, quarter: str, enterprise_id: str,
                officer_ids: Sequence[bytes], *, assign: str) -> np.ndarray:
    """Return the cost by `assign` of each officer (ids as bytes) on one enterprise's visit."""
    pricing = PairCosts.build(assign, seed_digest, quarter,
                              np.array([enterprise_id.encode()], dtype="S18"),
                              np.array(officer_ids, dtype="S32"))
    return pricing.pairs(np.zeros(len(officer_ids), dtype=np.int64),
                         np.arange(len(officer_ids), dtype=np.int64))


@dataclass(frozen=True, eq=False)
class _HashJob:
    prefix: bytes
    visit_ids: np.ndarray    # 'S18'
    eligible: list[np.ndarray]
    officer_ids: np.ndarray  # 'S32'
    keep: int


_JOB: _HashJob | None = None  # read by forked workers (copy-on-write, never pickled)


def _hash_range(bounds: tuple[int, int]) -> tuple[np.ndarray, ...]:
    """Return kept officers, costs, per-visit counts and left-out costs of visits [a, b)."""
    job = _JOB
    assert job is not None
    a, b = bounds
    return cheapest_pairs(job.prefix, job.visit_ids[a:b], job.eligible[a:b], job.officer_ids,
                          job.keep)


def _hash_all(job: _HashJob, workers: int) -> tuple[np.ndarray, ...]:
    """Hash every visit's pairs: native threads, or forked processes over hashlib."""
    global _JOB
    if native():
        return cheapest_pairs(job.prefix, job.visit_ids, job.eligible, job.officer_ids,
                              job.keep, workers=workers)
    pairs = sum(len(e) for e in job.eligible)
    n = len(job.visit_ids)
    _JOB = job
    try:
        if workers <= 1 or pairs < PARALLEL_MIN_PAIRS or "fork" not in mp.get_all_start_methods():
            return _hash_range((0, n))
        edges = np.linspace(0, n, 4 * workers + 1).astype(int).tolist()
        with warnings.catch_warnings():
            # Python 3.12+ warns when forking beside native threads (numpy's BLAS pool);
            # the workers only hash and slice arrays, never calling into BLAS.
            warnings.filterwarnings("ignore", "This process .* is multi-threaded",
                                    DeprecationWarning)
            with mp.get_context("fork").Pool(workers) as pool:
                pieces = pool.map(_hash_range, list(itertools.pairwise(edges)))
    finally:
        _JOB = None
    return tuple(np.concatenate([piece[k] for piece in pieces]) for k in range(4))


def _with_teams(pricing: PairCosts, arcs: tuple[np.ndarray, np.ndarray, np.ndarray],
                teams: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, ...]:
    """Return the arcs plus the team pairs not among them, sorted by (visit, officer).

    The arcs come sorted by (visit, officer), so the few team pairs are merged in at their
    places (searchsorted) rather than all arcs sorted again: at province scale that sort of
    ~29M arcs was most of building the network.
    """
    arc_visit, arc_officer, arc_cost = arcs
    width = max(1, len(pricing.officer_ids))
    team_visit, team_officer = teams
    keys = arc_visit * width + arc_officer
    team_keys = team_visit * width + team_officer
    extra = ~contains(keys, team_keys)
    if not extra.any():
        return arcs
    team_visit, team_officer, team_keys = team_visit[extra], team_officer[extra], \
        team_keys[extra]
    team_cost = pricing.pairs(team_visit, team_officer)
    if len(keys) and not bool(np.all(keys[1:] > keys[:-1])):  # pragma: no cover - defensive
        visit = np.concatenate([arc_visit, team_visit])
        officer = np.concatenate([arc_officer, team_officer])
        order = np.lexsort((officer, visit))
        return visit[order], officer[order], np.concatenate([arc_cost, team_cost])[order]
    own = np.argsort(team_keys, kind="stable")
    # each team pair's place in the merged arcs: its place among the arcs, plus the team
    # pairs before it
    placed = np.searchsorted(keys, team_keys[own]) + np.arange(len(own), dtype=np.int64)
    kept = np.ones(len(keys) + len(own), dtype=bool)
    kept[placed] = False

    def merged(old: np.ndarray, new: np.ndarray) -> np.ndarray:
        out = np.empty(len(kept), dtype=old.dtype)
        out[kept] = old
        out[placed] = new[own]
        return out

    return merged(arc_visit, team_visit), merged(arc_officer, team_officer), \
        merged(arc_cost, team_cost)


def build_problem(seed_digest: str, quarter: str, team_size: int, visit_ids: list[str],
                  eligible: list[np.ndarray], inspector_ids: list[str],
                  capacity: list[int], *, assign: str, keep: int | None = None,
                  complete: frozenset[int] = frozenset(),
                  previous: StaffingProblem | None = None,
                  teams: tuple[np.ndarray, np.ndarray] | None = None,
                  workers: int = 1) -> StaffingProblem:
    """Return the staffing network priced by the rule `assign`, each visit keeping its
    `keep` cheapest pairs.

    Visits in `complete` keep every pair; `keep=None` keeps every pair of every visit.
    `teams` (visit, officer) are pairs kept besides: a staffing within capacity, so the
    pruned network is never infeasible. The left-out bound stays the cheapest pair not
    among the `keep` cheapest, which is at most the cheapest pair actually left out.
    With `previous` (the same visits, pruned before), only visits newly in `complete`
    are hashed again. `workers` threads or processes share the hashing; the result is the same.
    """
    if previous is not None and previous.costs is not None \
            and previous.costs.assign == assign:
        pricing = previous.costs
    else:
        pricing = PairCosts.build(assign, seed_digest, quarter,
                                  np.array([v.encode() for v in visit_ids], dtype="S18"),
                                  np.array([i.encode() for i in inspector_ids], dtype="S32"),
                                  workers=workers)
    if previous is None and not complete:
        limit = keep if keep is not None else max(1, max(map(len, eligible), default=1))
        if assign == ASSIGN_V1:
            job = _HashJob(pricing.prefix, pricing.visit_ids, eligible, pricing.officer_ids,
                           limit)
            officers, costs, sizes, left = _hash_all(job, workers)
        else:
            officers, costs, sizes, left = pricing.cheapest(eligible, limit, workers=workers)
        arc_visit = np.repeat(np.arange(len(visit_ids), dtype=np.int64), sizes)
        if teams is not None:
            arc_visit, officers, costs = _with_teams(pricing, (arc_visit, officers, costs),
                                                     teams)
        return StaffingProblem(
            team_size, visit_ids, inspector_ids, np.asarray(capacity, dtype=np.int64),
            arc_visit, officers, costs, eligible, left, pricing)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    left_out = np.full(len(visit_ids), NO_ARC_LEFT_OUT, dtype=np.int64)
    if previous is not None:
        bounds = np.searchsorted(previous.arc_visit, np.arange(len(visit_ids) + 1))
    for v, officers in enumerate(eligible):
        if previous is not None and (v not in complete
                                     or previous.left_out_cost[v] == NO_ARC_LEFT_OUT):
            lo, hi = bounds[v], bounds[v + 1]
            parts.append((previous.arc_inspector[lo:hi], previous.arc_cost[lo:hi]))
            left_out[v] = previous.left_out_cost[v]
            continue
        costs = pricing.pairs(np.full(len(officers), v, dtype=np.int64), officers)
        limit = len(officers) if keep is None or v in complete else keep
        kept, kept_costs, left_out[v] = keep_cheapest(officers, costs, limit)
        parts.append((kept, kept_costs))
    sizes = np.array([len(p[0]) for p in parts], dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    return StaffingProblem(
        team_size, visit_ids, inspector_ids, np.asarray(capacity, dtype=np.int64),
        np.repeat(np.arange(len(parts), dtype=np.int64), sizes),
        np.concatenate([p[0] for p in parts]) if parts else empty,
        np.concatenate([p[1] for p in parts]) if parts else empty,
        eligible, left_out, pricing)


def solve_min_cost(problem: StaffingProblem, workers: int = 1) -> np.ndarray:
    """Return a 0/1 flow per arc that staffs every visit at minimum total cost.

    Visits and officers that share no arc, even through others, are independent: each
    connected part of the network is solved on its own (at province scale the three
    departments at least), which keeps the solver's memory to the largest part; with
    `workers` > 1 the parts are solved in that many forked processes, largest first.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n_visits, n_inspectors = problem.visits, len(problem.inspector_ids)
    flows = np.zeros(len(problem.arc_visit), dtype=np.int64)
    if n_visits == 0:
        return flows
    nodes = n_visits + n_inspectors
    graph = coo_matrix((np.ones(len(problem.arc_visit), dtype=np.int8),
                        (problem.arc_visit, n_visits + problem.arc_inspector)),
                       shape=(nodes, nodes))
    _, part = connected_components(graph, directed=False)
    arc_part = part[problem.arc_visit]
    arc_order = np.argsort(arc_part, kind="stable")
    arc_bounds = np.searchsorted(arc_part[arc_order], np.arange(part.max() + 2))
    labels = np.unique(part[:n_visits]).tolist()
    # Largest parts first, so forked workers finish together.
    labels.sort(key=lambda label: (-(arc_bounds[label + 1] - arc_bounds[label]), label))
    global _PARTS
    _PARTS = (problem, part, arc_order, arc_bounds)
    try:
        if workers > 1 and len(labels) > 1 and len(problem.arc_visit) >= PARALLEL_MIN_PAIRS \
                and "fork" in mp.get_all_start_methods():
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "This process .* is multi-threaded",
                                        DeprecationWarning)
                with mp.get_context("fork").Pool(min(workers, len(labels))) as pool:
                    solved = pool.map(_solve_label, labels, chunksize=1)
        else:
            solved = [_solve_label(label) for label in labels]
    finally:
        _PARTS = None
    for label, part_flows in zip(labels, solved, strict=True):
        flows[arc_order[arc_bounds[label]:arc_bounds[label + 1]]] = part_flows
    return flows


_PARTS: tuple[StaffingProblem, np.ndarray, np.ndarray, np.ndarray] | None = None


def _solve_label(label: int) -> np.ndarray:
    """Return the flow on the arcs of one connected part (run in a worker or in place)."""
    assert _PARTS is not None
    problem, part, arc_order, arc_bounds = _PARTS
    arcs = arc_order[arc_bounds[label]:arc_bounds[label + 1]]
    visits = np.flatnonzero(part[:problem.visits] == label)
    officers = np.flatnonzero(part[problem.visits:] == label)
    return _solve_part(problem.team_size, len(visits), problem.capacity[officers],
                       np.searchsorted(visits, problem.arc_visit[arcs]),
                       np.searchsorted(officers, problem.arc_inspector[arcs]),
                       problem.arc_cost[arcs])


def _solve_part(team_size: int, n_visits: int, capacity: np.ndarray, arc_visit: np.ndarray,
                arc_inspector: np.ndarray, arc_cost: np.ndarray) -> np.ndarray:
    """Return the min-cost 0/1 flow per arc of one connected part (OR-Tools)."""
    from ortools.graph.python import min_cost_flow

    n_inspectors = len(capacity)
    source, sink = 0, 1 + n_visits + n_inspectors
    visit_node = 1 + np.arange(n_visits, dtype=np.int64)
    inspector_node = 1 + n_visits + np.arange(n_inspectors, dtype=np.int64)
    solver = min_cost_flow.SimpleMinCostFlow()
    n_arcs = len(arc_visit)
    solver.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(n_visits, source), visit_node[arc_visit], inspector_node]),
        np.concatenate([visit_node, inspector_node[arc_inspector],
                        np.full(n_inspectors, sink)]),
        np.concatenate([np.full(n_visits, team_size), np.ones(n_arcs, np.int64), capacity]),
        np.concatenate([np.zeros(n_visits, np.int64), arc_cost,
                        np.zeros(n_inspectors, np.int64)]),
    )
    demand = team_size * n_visits
    solver.set_nodes_supplies(np.array([source, sink]), np.array([demand, -demand]))
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise SpotcheckError(f"the staffing solver ended with status {status.name}; "
                             "allocation admitted visits it could not staff")
    return np.asarray(solver.flows(np.arange(n_visits, n_visits + n_arcs)), dtype=np.int64)


def pruned_keep(team_size: int) -> int:
    """Return how many of each visit's cheapest pairs the solver is first given."""
    return 12 * team_size


def staff(seed_digest: str, quarter: str, team_size: int, visit_ids: list[str],
          eligible: list[np.ndarray], inspector_ids: list[str],
          capacity: list[int], *, assign: str,
          teams: tuple[np.ndarray, np.ndarray] | None = None,
          workers: int = 1) -> tuple[StaffingProblem, np.ndarray]:
    """Return the staffing network priced by the rule `assign` and the optimal 0/1 flow
    per arc, proven optimal.

    `teams` is a staffing within capacity (allocation's proof); without it a pruned
    network may be infeasible where many officers are fully booked. After the first solve,
    visits the proof cannot clear get all their pairs and the same teams are proven again;
    only when a cheaper exchange really exists are those visits re-solved locally (with
    their officers' other visits, everything else held), and failing that the whole
    network. Every answer is certified, so these steps save time and never change it.
    """

    complete: frozenset[int] = frozenset()
    keep = pruned_keep(team_size)
    problem: StaffingProblem | None = None
    flows = np.zeros(0, dtype=np.int64)
    while True:
        previous, previous_flows = problem, flows
        problem = build_problem(seed_digest, quarter, team_size, visit_ids, eligible,
                                inspector_ids, capacity, assign=assign, keep=keep,
                                complete=complete, previous=problem, teams=teams,
                                workers=workers)
        flows = np.zeros(0, dtype=np.int64)
        if previous is not None:
            # Often the teams were optimal all along and only the potentials could not
            # show it: with the widened visits' pairs in the network, prove it again.
            flows = _carried_flows(previous, previous_flows, problem)
            del previous, previous_flows
            verdict = certify(problem, flows > 0)
            if not verdict.optimal and not verdict.unproven:  # a cheaper exchange exists
                flows = _resolve_locally(problem, flows, sorted(complete))
                if len(flows):
                    verdict = certify(problem, flows > 0)
                    if not verdict.optimal and not verdict.unproven:
                        flows = np.zeros(0, dtype=np.int64)  # it runs beyond the part
        if len(flows) == 0:
            flows = solve_min_cost(problem, workers)
            verdict = certify(problem, flows > 0)
        if verdict.optimal:
            return problem, flows
        if not verdict.unproven:
            raise SpotcheckError("the staffing solver returned teams that are not optimal")
        complete = complete | frozenset(verdict.unproven)


def _carried_flows(previous: StaffingProblem, flows: np.ndarray,
                   problem: StaffingProblem) -> np.ndarray:
    """Return the previous flow on the arcs of a widened network (new arcs carry none)."""
    width = max(1, len(problem.inspector_ids))
    used = previous.arc_visit[flows > 0] * width + previous.arc_inspector[flows > 0]
    return contains(used, problem.arc_visit * width + problem.arc_inspector).astype(np.int64)


def _resolve_locally(problem: StaffingProblem, flows: np.ndarray,
                     visits: list[int]) -> np.ndarray:
    """Return the flow with the given visits, and every visit sharing an officer with them,
    solved again at minimum cost while all other visits keep their teams; an empty array
    when that would be most of the network."""
    officers = np.unique(np.concatenate([problem.lawful[v] for v in visits]))
    touching = contains(officers, problem.arc_inspector)
    local_visits = np.union1d(np.unique(problem.arc_visit[touching]),
                              np.array(visits, dtype=np.int64))
    if 2 * len(local_visits) > problem.visits:
        return np.zeros(0, dtype=np.int64)  # hardly local: solving everything costs the same
    local = contains(local_visits, problem.arc_visit)
    held = np.bincount(problem.arc_inspector[~local & (flows > 0)],
                       minlength=len(problem.inspector_ids))
    arcs = np.flatnonzero(local)
    local_officers = np.unique(problem.arc_inspector[arcs])
    result = flows.copy()
    result[arcs] = _solve_part(
        problem.team_size, len(local_visits),
        problem.capacity[local_officers] - held[local_officers],
        np.searchsorted(local_visits, problem.arc_visit[arcs]),
        np.searchsorted(local_officers, problem.arc_inspector[arcs]), problem.arc_cost[arcs])
    return result


def certify_teams(seed_digest: str, quarter: str, team_size: int, visit_ids: list[str],
                  eligible: list[np.ndarray], inspector_ids: list[str], capacity: list[int],
                  teams: tuple[np.ndarray, np.ndarray], *, assign: str,
                  workers: int = 1) -> tuple[StaffingProblem, np.ndarray] | None:
    """Return the staffing network and flow of the given teams if they are the optimum
    under the rule `assign`.

    `teams` (visit, officer) must already be lawful, within capacity and team_size per
    visit. No solver runs: the teams are optimal exactly when the full network's residual
    has no negative cycle, which Bellman–Ford decides on each visit's cheapest pairs plus
    the teams, widening visits the reduced-cost bound cannot clear. Returns None when a
    cheaper staffing exists.
    """

    complete: frozenset[int] = frozenset()
    problem: StaffingProblem | None = None
    while True:
        problem = build_problem(seed_digest, quarter, team_size, visit_ids, eligible,
                                inspector_ids, capacity, assign=assign,
                                keep=pruned_keep(team_size), complete=complete,
                                previous=problem, teams=teams, workers=workers)
        width = max(1, len(inspector_ids))
        used = contains(teams[0] * width + teams[1],
                        problem.arc_visit * width + problem.arc_inspector)
        verdict = certify(problem, used)
        if verdict.optimal:
            return problem, used.astype(np.int64)
        if not verdict.unproven:
            return None
        complete = complete | frozenset(verdict.unproven)
