"""The teams of minimum total random cost (assign-v1 or assign-v2), by exact min-cost flow.

Every lawful (visit, officer) pair has a cost by the plan's assign rule, and all of them
are priced (`costs`); but only each visit's few cheapest pairs go into the solver
(OR-Tools). The solution is then proven optimal for the whole network by reduced costs:
with node potentials from the pruned solution's residual network, no left-out pair could
lower the total. Where officers are scarce the proof fails for some visits; the
potentials then price each officer, and the next network keeps each visit's cheapest
pairs by cost + price, where its optimal team nearly always is. Visits the proof still
cannot clear get all their pairs. The answer is the exact optimum of the full network
either way; pruning only keeps the solver's network small.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from spotcheck.errors import SpotcheckError
from spotcheck.scheduler.costs import PairCosts
from spotcheck.scheduler.fasthash import cheapest_pairs, keep_cheapest, native
from spotcheck.scheduler.hashes import ASSIGN_V1
from spotcheck.scheduler.network import NO_ARC_LEFT_OUT, StaffingProblem, contains
from spotcheck.scheduler.optimality import Certificate, certify, officer_prices

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
                  workers: int = 1, prices: np.ndarray | None = None) -> StaffingProblem:
    """Return the staffing network priced by the rule `assign`, each visit keeping its
    `keep` cheapest pairs (by cost + officer price with `prices`, assign-v2 only).

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
            if prices is not None:
                raise ValueError("officer prices choose assign-v2 pairs only")
            job = _HashJob(pricing.prefix, pricing.visit_ids, eligible, pricing.officer_ids,
                           limit)
            officers, costs, sizes, left = _hash_all(job, workers)
        else:
            officers, costs, sizes, left = pricing.cheapest(eligible, limit, workers=workers,
                                                            prices=prices)
        arc_visit = np.repeat(np.arange(len(visit_ids), dtype=np.int64), sizes)
        if teams is not None:
            arc_visit, officers, costs = _with_teams(pricing, (arc_visit, officers, costs),
                                                     teams)
        return StaffingProblem(
            team_size, visit_ids, inspector_ids, np.asarray(capacity, dtype=np.int64),
            arc_visit, officers, costs, eligible, left, pricing, prices)
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
        eligible, left_out, pricing,
        previous.officer_price if previous is not None else None)


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
    return 5 * team_size


def priced_keep(team_size: int) -> int:
    """Return how many pairs each visit keeps when they are chosen by cost + officer price."""
    return 10 * team_size


def staff(seed_digest: str, quarter: str, team_size: int, visit_ids: list[str],
          eligible: list[np.ndarray], inspector_ids: list[str],
          capacity: list[int], *, assign: str,
          teams: tuple[np.ndarray, np.ndarray] | None = None,
          workers: int = 1) -> tuple[StaffingProblem, np.ndarray]:
    """Return the staffing network priced by the rule `assign` and the optimal 0/1 flow
    per arc, proven optimal.

    `teams` is a staffing within capacity (allocation's proof); without it a pruned
    network may be infeasible where many officers are fully booked. The first network
    keeps each visit's few cheapest pairs. Where many officers are fully booked, optimal
    teams reach far down each visit's list and the proof cannot clear some visits. When
    those visits' pairs are few, they are all added and the same teams proven again.
    Otherwise, or when a cheaper exchange really exists, the solution's potentials price
    every officer and (under assign-v2) the next network keeps each visit's cheapest pairs
    by cost + price, plus the teams so far: with prices, a visit's optimal team is nearly
    always among its first few. Each proof starts from the last potentials. Every answer
    is certified, so these steps save time and never change it.
    """
    width = max(1, len(inspector_ids))

    def network(carried: tuple[np.ndarray, np.ndarray] | None, prices: np.ndarray | None,
                complete: frozenset[int]) -> StaffingProblem:
        if complete:  # these visits keep every lawful pair
            chosen = sorted(complete)
            sizes = np.array([len(eligible[v]) for v in chosen], dtype=np.int64)
            every = (np.repeat(np.array(chosen, dtype=np.int64), sizes),
                     np.concatenate([eligible[v] for v in chosen]).astype(np.int64))
            carried = _union_pairs(carried, every, width)
        problem = build_problem(seed_digest, quarter, team_size, visit_ids, eligible,
                                inspector_ids, capacity, assign=assign,
                                keep=pruned_keep(team_size) if prices is None
                                else priced_keep(team_size),
                                teams=carried, workers=workers, prices=prices)
        if not complete:
            return problem
        left_out = problem.left_out_cost.copy()
        left_out[sorted(complete)] = NO_ARC_LEFT_OUT
        return replace(problem, left_out_cost=left_out)

    complete: frozenset[int] = frozenset()
    problem = network(teams, None, complete)
    flows = solve_min_cost(problem, workers)
    verdict = certify(problem, flows > 0)
    total, stalled = _total(problem, flows), False
    while not verdict.optimal:
        if not verdict.unproven:
            raise SpotcheckError("the staffing solver returned teams that are not optimal")
        potentials = verdict.potentials
        # Widen when few pairs are at stake; always without prices (assign-v1) and when the
        # last priced network found nothing cheaper, so every round makes progress.
        if assign == ASSIGN_V1 or stalled or potentials is None \
                or _few_at_stake(problem, verdict.unproven):
            # Often the teams are optimal and only the potentials cannot show it: with the
            # unproven visits' pairs all in the network, prove the same teams again.
            complete = complete | frozenset(verdict.unproven)
            widened = build_problem(seed_digest, quarter, team_size, visit_ids, eligible,
                                    inspector_ids, capacity, assign=assign,
                                    keep=pruned_keep(team_size), complete=complete,
                                    previous=problem, workers=workers)
            carried = _carried_flows(problem, flows, widened)
            check = certify(widened, carried > 0, potentials)
            if check.optimal or check.unproven:
                problem, flows, verdict = widened, carried, check
                continue
            del widened, carried, check  # a cheaper exchange exists: solve again
        used = flows > 0
        pairs = _union_pairs(teams, (problem.arc_visit[used], problem.arc_inspector[used]),
                             width)
        prices = officer_prices(problem, potentials) \
            if potentials is not None and assign != ASSIGN_V1 else None
        del problem, flows, verdict, used
        problem = network(pairs, prices, complete)
        flows = solve_min_cost(problem, workers)
        verdict = certify(problem, flows > 0, potentials)
        latest = _total(problem, flows)
        stalled, total = latest >= total, latest
    return replace(problem, potentials=verdict.potentials), flows


def _few_at_stake(problem: StaffingProblem, unproven: tuple[int, ...]) -> bool:
    """Return whether the unproven visits' lawful pairs are few beside the network's arcs
    (so widening them to every pair is cheaper than choosing the network again)."""
    return sum(len(problem.lawful[v]) for v in unproven) <= len(problem.arc_visit) // 4


def _total(problem: StaffingProblem, flows: np.ndarray) -> int:
    """Return the total cost of a flow (exact: Python integers)."""
    return int(problem.arc_cost[flows > 0].astype(object).sum())


def _union_pairs(first: tuple[np.ndarray, np.ndarray] | None,
                 second: tuple[np.ndarray, np.ndarray], width: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Return the distinct (visit, officer) pairs of both, sorted."""
    visits, officers = second if first is None else (
        np.concatenate([first[0], second[0]]), np.concatenate([first[1], second[1]]))
    keys = np.unique(np.asarray(visits, dtype=np.int64) * width
                     + np.asarray(officers, dtype=np.int64))
    return keys // width, keys % width


def _carried_flows(previous: StaffingProblem, flows: np.ndarray,
                   problem: StaffingProblem) -> np.ndarray:
    """Return the previous flow on the arcs of a widened network (new arcs carry none)."""
    width = max(1, len(problem.inspector_ids))
    used = previous.arc_visit[flows > 0] * width + previous.arc_inspector[flows > 0]
    return contains(used, problem.arc_visit * width + problem.arc_inspector).astype(np.int64)


PRICED_CHECKS = 3  # how often certify_teams may choose the pairs again by officer prices


def certify_teams(seed_digest: str, quarter: str, team_size: int, visit_ids: list[str],
                  eligible: list[np.ndarray], inspector_ids: list[str], capacity: list[int],
                  teams: tuple[np.ndarray, np.ndarray], *, assign: str,
                  workers: int = 1) -> tuple[StaffingProblem, np.ndarray] | None:
    """Return the staffing network and flow of the given teams if they are the optimum
    under the rule `assign`.

    `teams` (visit, officer) must already be lawful, within capacity and team_size per
    visit. No solver runs: the teams are optimal exactly when the full network's residual
    has no negative cycle, which Bellman–Ford decides on each visit's cheapest pairs plus
    the teams, widening visits the reduced-cost bound cannot clear. As in `staff`, under
    assign-v2, while many visits are unproven, the pairs are chosen again by cost + officer
    price (the last potentials, which the next proof starts from) before any visit is
    widened. Returns None when a cheaper staffing exists.
    """
    width = max(1, len(inspector_ids))
    team_keys = teams[0] * width + teams[1]

    def check(problem: StaffingProblem,
              start: np.ndarray | None = None) -> tuple[Certificate, np.ndarray]:
        used = contains(team_keys, problem.arc_visit * width + problem.arc_inspector)
        return certify(problem, used, start), used

    problem = build_problem(seed_digest, quarter, team_size, visit_ids, eligible,
                            inspector_ids, capacity, assign=assign,
                            keep=pruned_keep(team_size), teams=teams, workers=workers)
    verdict, used = check(problem)
    complete: frozenset[int] = frozenset()
    repriced = 0
    while not verdict.optimal:
        if not verdict.unproven:
            return None
        if not complete and repriced < PRICED_CHECKS and assign != ASSIGN_V1 \
                and verdict.potentials is not None \
                and not _few_at_stake(problem, verdict.unproven):
            potentials = verdict.potentials
            prices = officer_prices(problem, potentials)
            del problem, used, verdict
            problem = build_problem(seed_digest, quarter, team_size, visit_ids, eligible,
                                    inspector_ids, capacity, assign=assign,
                                    keep=priced_keep(team_size), teams=teams,
                                    workers=workers, prices=prices)
            verdict, used = check(problem, potentials)
            repriced += 1
            continue
        complete = complete | frozenset(verdict.unproven)
        problem = build_problem(seed_digest, quarter, team_size, visit_ids, eligible,
                                inspector_ids, capacity, assign=assign,
                                keep=pruned_keep(team_size), complete=complete,
                                previous=problem, teams=teams, workers=workers)
        verdict, used = check(problem, verdict.potentials)
    return replace(problem, potentials=verdict.potentials), used.astype(np.int64)
