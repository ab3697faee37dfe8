"""plan_quarter: registry + policy + quarter + seed → the quarter's draws and teams."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spotcheck.errors import SpotcheckError
from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler import experts as expert_rule
from spotcheck.scheduler import fasthash
from spotcheck.scheduler.allocation import Allocation, allocate
from spotcheck.scheduler.assignment import certify_teams, staff
from spotcheck.scheduler.draw import Ordering, order_strata, stratum_target, ticket_hex
from spotcheck.scheduler.eligibility import AnnualCap, CapRow, Stratum, strata_for_quarter
from spotcheck.scheduler.experts import ExpertGapRow, ExpertNetwork
from spotcheck.scheduler.hashes import algorithms, assign_rule, normalise_seed, sha256_hex
from spotcheck.scheduler.network import StaffingProblem
from spotcheck.scheduler.shortfall import GroupAdvice, advise
from spotcheck.scheduler.staffing import StaffingRules
from spotcheck.scheduler.workload import BALANCED, BalanceCap, balance

StageHook = Callable[[str], None]
# Every stratum with a round, in (task, tier, jurisdiction) order, and each one's draw order,
# as strata_for_quarter and order_strata return them (or an engine that computes the same).
Draws = tuple[list[Stratum], dict[tuple[str, str, str], Ordering]]


@dataclass(frozen=True, slots=True, order=True)
class StratumRow:
    """One line of strata.csv (plus the reason when the stratum fell short of its target)."""

    task: str
    tier: str
    jurisdiction: str
    population: int
    eligible: int
    target: int
    floor: int
    allocated: int
    drawn: int
    shortfall: int
    reason: str


@dataclass(frozen=True, slots=True, order=True)
class DrawRow:
    """One drawn enterprise: its stratum, ticket and rank among the stratum's eligible."""

    task: str
    tier: str
    jurisdiction: str
    enterprise_id: str
    ticket: str
    rank: int


@dataclass(frozen=True, slots=True, order=True)
class SkipRow:
    """An enterprise passed over because no lawful team could be formed for it."""

    task: str
    enterprise_id: str
    ticket: str
    reason: str


@dataclass(frozen=True, slots=True, order=True)
class AssignmentRow:
    """One officer on one visit, with the cost (by the plan's assign rule) that chose them."""

    enterprise_id: str
    department: str
    inspector_id: str
    cost: int


@dataclass(frozen=True, slots=True, order=True)
class VisitRow:
    """One (enterprise, department) visit and the tasks it carries out (进一次门、查多项事)."""

    enterprise_id: str
    department: str
    tasks: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Plan:
    """A quarter's plan: every stratum, draw, skip, visit and team, in canonical order."""

    quarter: str
    seed: str
    seed_hash: str
    policy: Policy
    strata: tuple[StratumRow, ...]
    draws: tuple[DrawRow, ...]
    skipped: tuple[SkipRow, ...]
    visits: tuple[VisitRow, ...]
    assignments: tuple[AssignmentRow, ...]
    staffing: StaffingProblem
    assign: str  # the rule that priced the teams: "assign-v1" or "assign-v2" (DESIGN §6)
    # What the optional policy keys add (empty, or None, without them):
    capped: tuple[CapRow, ...] = ()              # annual_cap: enterprises it excludes
    experts: tuple[AssignmentRow, ...] = ()      # experts: who joins which visit
    expert_gaps: tuple[ExpertGapRow, ...] = ()   # experts: places that could not be filled
    balance_caps: tuple[BalanceCap, ...] | None = None  # workload = "balanced": each part's
    advice: tuple[GroupAdvice, ...] = ()         # saturated officer groups, units to add
    expert_network: ExpertNetwork | None = None  # the experts' network, for verify

    @property
    def total_cost(self) -> int:
        """Return the summed cost (by the plan's assign rule) of all teams."""
        return sum(a.cost for a in self.assignments)

    @property
    def algorithms(self) -> dict[str, str]:
        """Return the algorithm ids the plan used, as its manifest records them."""
        return algorithms(self.assign)


def _no_hook(stage: str) -> None:
    return None


class TeamsNotOptimal(SpotcheckError):
    """Given teams do not staff the plan's visits lawfully at minimum cost."""


def plan_quarter(registry: Registry, policy: Policy, quarter: str | Quarter, seed: str,
                 *, on_stage: StageHook = _no_hook, workers: int | None = None,
                 draws: Draws | None = None,
                 teams: Mapping[tuple[str, str], Sequence[str]] | None = None,
                 assign: str | None = None, advise_shortfall: bool | None = None) -> Plan:
    """Return the quarter's plan; a pure function of its arguments.

    `on_stage(name)` is called as each stage starts ("eligibility", "draw", "allocation",
    "assignment", "done"), so a caller can time or report progress. `workers` is how many
    processes may share the hashing of large plans (default: the CPUs this process may
    use; 1 never forks); it never changes the result. `draws` are the strata and draw
    orders when already computed for this registry, policy, quarter and seed (e.g. by
    PostgreSQL, `models.sql_draw`); they must equal what this function would compute.
    `teams` ((enterprise_id, department) → inspector ids, e.g. a bundle's assignments) are
    checked instead of solved for: the plan uses them if they give every visit team_size
    distinct lawful officers within capacity and are proven the minimum-cost ones, and
    TeamsNotOptimal is raised otherwise. That proof needs no solver, so checking a plan
    costs less than making it. `assign` is the cost rule of the teams, default the
    policy's (`assign`, assign-v2 when the policy names none); a bundle that names another
    in its manifest is checked by that one. `advise_shortfall` (default: the policy's
    `shortfall_advice`) computes, when capacity cut a stratum, the extra officer-visits per
    saturated officer group that would staff every target (`shortfall`).
    """
    if workers is None:
        workers = fasthash.cpus()
    q = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    quarter_text = str(q)
    seed = normalise_seed(seed)
    digest = sha256_hex(seed)
    rule = assign_rule(assign if assign is not None else policy.assign)

    on_stage("eligibility")
    strata = strata_for_quarter(registry, policy, q) if draws is None else draws[0]
    on_stage("draw")
    targets = [stratum_target(s, policy, digest, quarter_text) for s in strata]
    orderings = (order_strata(registry, strata, digest, quarter_text, workers=workers)
                 if draws is None else draws[1])
    on_stage("allocation")
    rules = StaffingRules(registry, policy.team_size, q, policy.officer_cooldown_months)
    cap = AnnualCap.of(registry, policy, q)
    wanted = [(s, t, orderings[s.key]) for s, t in zip(strata, targets, strict=True)]
    allocation = allocate(registry, policy, rules, wanted, cap=cap)
    advice: tuple[GroupAdvice, ...] = ()
    if (policy.shortfall_advice if advise_shortfall is None else advise_shortfall) and any(
            o.closed_reason for o in allocation.outcomes):
        advice = tuple(advise(registry, policy, rules, wanted, cap, q))
    del orderings, draws, wanted  # allocation kept the part of each draw order it reached
    on_stage("assignment")
    ids = registry.enterprises.ids
    visit_ids = [ids[v.row].decode() for v in allocation.visits]
    officers = [o.inspector_id for o in registry.inspectors]
    capacity, feasible, balanced = rules.capacity, allocation.teams, None
    if policy.workload == BALANCED:
        found, capacity, feasible = balance(rules.capacity, policy.team_size,
                                            allocation.eligible, officers)
        balanced = tuple(found)
    if teams is None:
        problem, flows = staff(digest, quarter_text, policy.team_size, visit_ids,
                               allocation.eligible, officers, capacity, assign=rule,
                               teams=feasible, workers=workers)
    else:
        given = _given_teams(allocation, visit_ids, officers, capacity, policy.team_size, teams)
        certified = certify_teams(digest, quarter_text, policy.team_size, visit_ids,
                                  allocation.eligible, officers, capacity, given,
                                  assign=rule, workers=workers)
        if certified is None:
            raise TeamsNotOptimal("a cheaper lawful staffing of the visits exists")
        problem, flows = certified
    plan = _assemble(registry, policy, quarter_text, seed, digest, allocation, problem, flows,
                     rule)
    experts, gaps, net = _experts(registry, policy, rules, allocation, problem) \
        if policy.expert_tasks else ((), (), None)
    plan = dataclasses.replace(plan, capped=_capped(registry, allocation, cap),
                               balance_caps=balanced, advice=advice, experts=experts,
                               expert_gaps=gaps, expert_network=net)
    on_stage("done")
    return plan


def _capped(registry: Registry, allocation: Allocation,
            cap: AnnualCap | None) -> tuple[CapRow, ...]:
    """Return the capped.csv lines: every enterprise of a stratum the annual cap excludes."""
    if cap is None:
        return ()
    excluded = [o.stratum.excluded for o in allocation.outcomes]
    rows = np.unique(np.concatenate(excluded)) if excluded else np.zeros(0, np.int64)
    ent = registry.enterprises
    return tuple(cap.row_of(row, ent.ids[row].decode(), ent.tiers[row].decode())
                 for row in rows[cap.excludes(rows)].tolist())


def _experts(registry: Registry, policy: Policy, rules: StaffingRules, allocation: Allocation,
             problem: StaffingProblem
             ) -> tuple[tuple[AssignmentRow, ...], tuple[ExpertGapRow, ...], ExpertNetwork]:
    """Return the plan's experts, expert gaps and expert network."""
    assert problem.costs is not None  # build_problem always prices
    visits = [(v.row, v.department, v.tasks) for v in allocation.visits]
    net = expert_rule.network(registry, policy, rules, visits, problem.costs)
    flows = expert_rule.solve(net)
    problem_text = expert_rule.certify(net, flows)
    if problem_text is not None:
        raise SpotcheckError(f"the expert solver's answer is not proven: {problem_text}")
    chosen = np.flatnonzero(flows > 0).tolist()
    ids = registry.enterprises.ids
    rows = sorted(AssignmentRow(ids[visits[net.visits[net.arc_visit[a]]][0]].decode(),
                                visits[net.visits[net.arc_visit[a]]][1],
                                registry.inspectors[net.arc_expert[a]].inspector_id,
                                int(net.arc_cost[a])) for a in chosen)
    return (tuple(rows), tuple(expert_rule.gaps(registry, rules, net, flows, visits, policy)),
            net)


def _given_teams(allocation: Allocation, visit_ids: list[str], officers: list[str],
                 capacity: list[int], team_size: int,
                 teams: Mapping[tuple[str, str], Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Return the teams as (visit, officer) arrays; raise unless they staff exactly the
    allocated visits with team_size distinct lawful officers each, within capacity."""
    index = {o: i for i, o in enumerate(officers)}
    keys = {(e, v.department) for e, v in zip(visit_ids, allocation.visits, strict=True)}
    if set(teams) != keys:
        raise TeamsNotOptimal("the teams are not for exactly the plan's visits")
    team_visit, team_officer = [], []
    pools: dict[int, frozenset[int]] = {}  # lawful arrays are shared by visits of one pool
    for v, (enterprise, visit) in enumerate(zip(visit_ids, allocation.visits, strict=True)):
        written = teams[(enterprise, visit.department)]
        members = sorted({index.get(m, -1) for m in written})
        lawful = pools.get(id(allocation.eligible[v]))
        if lawful is None:
            lawful = pools[id(allocation.eligible[v])] = frozenset(
                allocation.eligible[v].tolist())
        if len(members) != team_size or len(written) != team_size or \
                not lawful.issuperset(members):
            raise TeamsNotOptimal(f"the team for {enterprise} ({visit.department}) is not "
                                  f"{team_size} distinct lawful officers")
        team_visit += [v] * team_size
        team_officer += members
    load = np.bincount(np.array(team_officer, dtype=np.int64), minlength=len(officers))
    if np.any(load > np.asarray(capacity, dtype=np.int64)):
        raise TeamsNotOptimal("an officer is given more visits than their capacity")
    return np.array(team_visit, dtype=np.int64), np.array(team_officer, dtype=np.int64)


def _assemble(registry: Registry, policy: Policy, quarter: str, seed: str, digest: str,
              allocation: Allocation, problem: StaffingProblem, flows: np.ndarray,
              rule: str) -> Plan:
    ids = registry.enterprises.ids
    strata_rows: list[StratumRow] = []
    draws: list[DrawRow] = []
    skipped: list[SkipRow] = []
    for outcome in allocation.outcomes:
        s, order = outcome.stratum, outcome.ordering
        reason = ""
        if outcome.closed_reason:
            short = outcome.target.target - len(outcome.drawn)
            reason = (f"{outcome.closed_reason}; {short} draw(s) short of the target "
                      f"(up to {short * policy.team_size} officer-slots)")
            if outcome.shortfall:
                reason += f", {outcome.shortfall} below the floor"
        elif len(outcome.drawn) < outcome.target.target:
            reason = (f"only {len(outcome.drawn)} eligible enterprise(s) could be given a "
                      "lawful team")
        strata_rows.append(StratumRow(
            s.task, s.tier, s.jurisdiction, s.population, len(s.eligible),
            outcome.target.target, outcome.target.floor, outcome.allocated,
            len(outcome.drawn), outcome.shortfall, reason))
        positions = np.array(outcome.drawn + [p for p, _ in outcome.skipped], dtype=np.int64)
        hexes = ticket_hex(order.tickets[positions]) if len(positions) else []
        n_drawn = len(outcome.drawn)
        for position, ticket in zip(outcome.drawn, hexes[:n_drawn], strict=True):
            draws.append(DrawRow(s.task, s.tier, s.jurisdiction,
                                 ids[order.rows[position]].decode(), ticket, position + 1))
        for (position, why), ticket in zip(outcome.skipped, hexes[n_drawn:], strict=True):
            skipped.append(SkipRow(s.task, ids[order.rows[position]].decode(), ticket, why))
    # Sorting numpy byte strings orders them as Python orders the text: UTF-8 keeps code
    # point order, and text never holds the NUL bytes numpy pads with.
    chosen = np.flatnonzero(flows > 0)
    visit_ids = np.array([i.encode() for i in problem.visit_ids], dtype=np.bytes_)
    departments = np.array([v.department.encode() for v in allocation.visits], dtype=np.bytes_)
    officer_ids = np.array([i.encode() for i in problem.inspector_ids], dtype=np.bytes_)
    arc_visit, arc_officer = problem.arc_visit[chosen], problem.arc_inspector[chosen]
    team_order = np.lexsort((officer_ids[arc_officer], departments[arc_visit],
                             visit_ids[arc_visit]))
    assignments = [AssignmentRow(problem.visit_ids[v], allocation.visits[v].department,
                                 problem.inspector_ids[i], c)
                   for v, i, c in zip(arc_visit[team_order].tolist(),
                                      arc_officer[team_order].tolist(),
                                      problem.arc_cost[chosen][team_order].tolist(), strict=True)]
    # (enterprise, department) names one visit, so it alone orders them.
    visits = [VisitRow(problem.visit_ids[v], allocation.visits[v].department,
                       tuple(allocation.visits[v].tasks))
              for v in np.lexsort((departments, visit_ids)).tolist()]
    return Plan(quarter, seed, digest, policy, tuple(strata_rows),
                tuple(sorted(draws, key=lambda d: (d.task, d.tier, d.jurisdiction, d.rank))),
                tuple(sorted(skipped, key=lambda k: (k.task, k.enterprise_id))),
                tuple(visits), tuple(assignments), problem, rule)


def shortfall_advice(registry: Registry, policy: Policy, quarter: str | Quarter,
                     seed: str) -> tuple[GroupAdvice, ...]:
    """Return the plan's shortfall advice (`shortfall`) without staffing its teams: the
    saturated officer groups and the officer-visits each needs for every stratum capacity
    cut to reach its target (empty when capacity cut none)."""
    q = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    digest = sha256_hex(normalise_seed(seed))
    strata = strata_for_quarter(registry, policy, q)
    orderings = order_strata(registry, strata, digest, str(q))
    wanted = [(s, stratum_target(s, policy, digest, str(q)), orderings[s.key]) for s in strata]
    rules = StaffingRules(registry, policy.team_size, q, policy.officer_cooldown_months)
    cap = AnnualCap.of(registry, policy, q)
    allocation = allocate(registry, policy, rules, wanted, cap=cap)
    if not any(o.closed_reason for o in allocation.outcomes):
        return ()
    return tuple(advise(registry, policy, rules, wanted, cap, q))
