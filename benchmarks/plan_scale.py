"""Plan a synthetic city of N enterprises; time and measure each stage; check the result.

The baseline is the bare cost of the draw: the same draw-v1 tickets, over the same
(task, enterprise) pairs the draw stage hashes, computed with hashlib in a plain Python
loop in the same run. The ratio draw stage / bare loop says how much the stage adds on
top of the hashing an auditor's script would do anyway.
"""

from __future__ import annotations

import hashlib
import heapq
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from spotcheck.audit.verify import verify_bundle
from spotcheck.demo import DEMO_QUARTER, DEMO_SEED, officer_count, synthetic_city
from spotcheck.formats.bundle import build_bundle, write_bundle
from spotcheck.models.policy import Policy, load_policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.eligibility import strata_for_quarter
from spotcheck.scheduler.hashes import seed_hash
from spotcheck.scheduler.plan import Plan, plan_quarter

STAGES = ("eligibility", "draw", "allocation", "assignment")


class BenchmarkFailure(AssertionError):
    """The benchmark's plan is wrong: a check of the result failed."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkFailure(message)


def peak_rss_mb() -> float:
    """Return this process's peak resident set size so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes vs KiB


@dataclass(frozen=True, slots=True)
class StageFigure:
    """Wall time of one stage, the peak RSS once it ended, and how much the peak grew in it."""

    stage: str
    seconds: float
    peak_mb: float
    growth_mb: float


@dataclass
class Result:
    """Everything one benchmark run measured."""

    enterprises: int
    officers: int
    stages: list[StageFigure] = field(default_factory=list)
    plan_seconds: float = 0.0
    bare_pairs: int = 0
    bare_seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    cut_strata: list[str] = field(default_factory=list)
    bundle_seconds: float = 0.0
    verify_seconds: float = 0.0
    verify_peak_mb: float = 0.0

    @property
    def draw_seconds(self) -> float:
        """Return the wall time of the draw stage."""
        return next(s.seconds for s in self.stages if s.stage == "draw")

    @property
    def ratio(self) -> float:
        """Return draw stage / bare loop."""
        return self.draw_seconds / self.bare_seconds if self.bare_seconds else float("nan")


class StageClock:
    """An `on_stage` hook that records wall time and running peak RSS at each stage start."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float, float]] = []

    def __call__(self, stage: str) -> None:
        self.marks.append((stage, time.perf_counter(), peak_rss_mb()))

    def figures(self, before_mb: float) -> list[StageFigure]:
        """Return one figure per stage, from consecutive marks."""
        out, previous = [], before_mb
        for (stage, start, _), (_, stop, peak) in zip(self.marks, self.marks[1:], strict=False):
            out.append(StageFigure(stage, stop - start, peak, peak - previous))
            previous = peak
        return out


def bare_draw_loop(registry: Registry, policy: Policy, quarter: str,
                   seed: str) -> tuple[dict[tuple[str, str, str], list[tuple[str, str]]], float]:
    """Return each stratum's (ticket, enterprise_id) pairs, and the seconds the hashing took.

    The pairs are the ones the draw stage hashes: every eligible enterprise of every stratum
    with a round, once per task. Only the plain loop is timed, not finding the pairs.
    """
    digest = seed_hash(seed)
    ids = registry.enterprises.ids.astype("U18").tolist()
    strata = [(s.key, [ids[row] for row in s.eligible.tolist()])
              for s in strata_for_quarter(registry, policy, Quarter.parse(quarter))]
    sha = hashlib.sha256
    tickets: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
    start = time.perf_counter()
    for key, members in strata:
        task = key[0]
        tickets[key] = [(sha(f"draw-v1:{digest}:{quarter}:{task}:{eid}".encode()).hexdigest(), eid)
                        for eid in members]
    return tickets, time.perf_counter() - start


def check_draws(plan: Plan, registry: Registry,
                bare: dict[tuple[str, str, str], list[tuple[str, str]]]) -> None:
    """Raise unless each stratum drew exactly its lowest bare-loop tickets, apart from skips."""
    place = dict(zip(registry.enterprises.ids.astype("U18").tolist(),
                     zip(registry.enterprises.tiers.astype("U16").tolist(),
                         registry.enterprises.jurisdictions.astype("U6").tolist(),
                         strict=True), strict=True))
    draws: dict[tuple[str, str, str], list[tuple[int, str, str]]] = defaultdict(list)
    for d in plan.draws:
        draws[d.task, d.tier, d.jurisdiction].append((d.rank, d.enterprise_id, d.ticket))
    skips: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for k in plan.skipped:
        skips[(k.task, *place[k.enterprise_id])].add(k.enterprise_id)
    _check(sorted(bare) == sorted((s.task, s.tier, s.jurisdiction) for s in plan.strata),
           "the plan's strata are not the strata with a round")
    _check(set(draws) <= set(bare) and set(skips) <= set(bare), "draws outside the strata")
    for row in plan.strata:
        key = (row.task, row.tier, row.jurisdiction)
        pairs, drawn, skipped = bare[key], sorted(draws[key]), skips[key]
        _check(len(pairs) == row.eligible, f"{key}: eligible {row.eligible} != {len(pairs)}")
        _check(len(drawn) == row.drawn <= row.target, f"{key}: drawn {row.drawn} over target")
        _check(row.drawn == row.target or bool(row.reason), f"{key}: cut without a reason")
        lowest = heapq.nsmallest(len(drawn) + len(skipped), pairs)
        _check({e for _, e in lowest} == {e for _, e, _ in drawn} | skipped,
               f"{key}: drawn enterprises are not the lowest tickets apart from skips")
        rank = {e: i + 1 for i, (_, e) in enumerate(lowest)}
        ticket = dict((e, t) for t, e in lowest)
        for r, e, t in drawn:
            _check(rank[e] == r and ticket[e] == t, f"{key}: {e} has a wrong rank or ticket")


def check_teams(plan: Plan, registry: Registry, policy: Policy) -> None:
    """Raise unless every visit has team_size distinct lawful officers within capacity."""
    officers = {o.inspector_id: o for o in registry.inspectors}
    conflicts = {(c.inspector_id, c.enterprise_id) for c in registry.conflicts}
    ids = registry.enterprises.ids.astype("U18").tolist()
    jurisdiction = dict(zip(ids, registry.enterprises.jurisdictions.astype("U6").tolist(),
                            strict=True))
    needs = {t.code: t.qualification for t in policy.tasks}
    end = Quarter.parse(plan.quarter).end
    teams: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in plan.assignments:
        teams[a.enterprise_id, a.department].append(a.inspector_id)
    _check(set(teams) == {(v.enterprise_id, v.department) for v in plan.visits},
           "assignments and visits do not match")
    for visit in plan.visits:
        team = teams[visit.enterprise_id, visit.department]
        _check(len(team) == len(set(team)) == policy.team_size,
               f"visit {visit.enterprise_id}/{visit.department}: team {team}")
        required = {needs[t] for t in visit.tasks} - {""}
        for inspector_id in team:
            o = officers[inspector_id]
            _check(o.department == visit.department
                   and jurisdiction[visit.enterprise_id].startswith(o.jurisdiction)
                   and required <= set(o.qualifications) and o.certificate_expiry >= end
                   and (inspector_id, visit.enterprise_id) not in conflicts,
                   f"{inspector_id} may not inspect {visit.enterprise_id}")
    load = Counter(a.inspector_id for a in plan.assignments)
    over = [i for i, n in load.items() if n > officers[i].capacity]
    _check(not over, f"inspectors over capacity: {over[:5]}")
    department = {t.code: t.department for t in policy.tasks}
    visited = {(v.enterprise_id, v.department): set(v.tasks) for v in plan.visits}
    for d in plan.draws:
        _check(d.task in visited.get((d.enterprise_id, department[d.task]), set()),
               f"draw {d.task}/{d.enterprise_id} has no visit")


def run(enterprises: int, seed: str = DEMO_SEED, quarter: str = DEMO_QUARTER,
        log: bool = True) -> Result:
    """Build the city, plan it stage by stage, run the bare loop, check; return the figures."""
    def say(text: str) -> None:
        if log:
            print(text, file=sys.stderr, flush=True)

    policy, _ = load_policy()
    result = Result(enterprises, officer_count(enterprises))
    before = peak_rss_mb()
    say(f"building a city of {enterprises:,} enterprises, {result.officers:,} officers ...")
    start = time.perf_counter()
    registry = synthetic_city(enterprises)
    city = StageFigure("city", time.perf_counter() - start, peak_rss_mb(), 0.0)
    result.stages.append(StageFigure("city", city.seconds, city.peak_mb, city.peak_mb - before))

    clock = StageClock()

    def on_stage(stage: str) -> None:
        clock(stage)
        say(f"  {stage}")

    say("planning ...")
    start = time.perf_counter()
    plan = plan_quarter(registry, policy, quarter, seed, on_stage=on_stage)
    result.plan_seconds = time.perf_counter() - start
    result.stages += clock.figures(city.peak_mb)

    say("bare draw-v1 loop ...")
    bare, result.bare_seconds = bare_draw_loop(registry, policy, quarter, seed)
    result.bare_pairs = sum(len(p) for p in bare.values())
    say("checking the plan ...")
    check_draws(plan, registry, bare)
    check_teams(plan, registry, policy)
    result.counts = {"strata": len(plan.strata), "draws": len(plan.draws),
                     "skipped": len(plan.skipped), "visits": len(plan.visits),
                     "lawful pairs hashed": sum(len(a) for a in plan.staffing.lawful),
                     "solver arcs": len(plan.staffing.arc_visit),
                     "assignments": len(plan.assignments)}
    result.cut_strata = [f"{s.task}/{s.tier}/{s.jurisdiction} {s.drawn}/{s.target}"
                         for s in plan.strata if s.drawn < s.target]

    say("writing the bundle and verifying it from the files alone ...")
    policy_bytes = load_policy()[1]
    with tempfile.TemporaryDirectory(prefix="spotcheck-bench-") as folder:
        start = time.perf_counter()
        path = write_bundle(build_bundle(plan, registry, policy_bytes,
                                         created_at="2026-10-01T00:00:00Z"),
                            Path(folder) / "bundle")
        result.bundle_seconds = time.perf_counter() - start
        del plan
        start = time.perf_counter()
        report = verify_bundle(path)
        result.verify_seconds = time.perf_counter() - start
    _check(report.ok, "verify rejected the benchmark's own bundle: "
           + "; ".join(report.mismatches[:3]))
    result.verify_peak_mb = peak_rss_mb()
    return result


def report(result: Result) -> str:
    """Return the result as a small text table."""
    lines = [f"plan 2026Q4, default policy: {result.enterprises:,} enterprises, "
             f"{result.officers:,} officers",
             f"{'stage':<12} {'wall s':>9} {'peak RSS MiB':>13} {'growth MiB':>11}"]
    for s in result.stages:
        lines.append(f"{s.stage:<12} {s.seconds:>9.2f} {s.peak_mb:>13.0f} {s.growth_mb:>11.0f}")
    lines.append(f"{'plan total':<12} {result.plan_seconds:>9.2f}")
    lines.append(f"bare draw-v1 loop: {result.bare_pairs:,} tickets in {result.bare_seconds:.2f} s;"
                 f" draw stage / bare loop = {result.ratio:.2f}")
    lines.append("counts: " + ", ".join(f"{k} {v:,}" for k, v in result.counts.items()))
    lines.append("strata cut by capacity: " + ("; ".join(result.cut_strata) or "none"))
    lines.append(f"bundle write {result.bundle_seconds:.2f} s; verify (recompute everything, "
                 f"check every rule, certify optimality) {result.verify_seconds:.2f} s, "
                 f"VERIFIED; peak RSS after verify {result.verify_peak_mb:.0f} MiB")
    lines.append("checks passed: lowest tickets apart from skips, teams distinct and lawful, "
                 "capacity respected")
    return "\n".join(lines)
