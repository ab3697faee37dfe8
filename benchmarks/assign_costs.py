"""Price every lawful (visit, officer) pair by assign-v1 and by assign-v2; time and check both.

Part one is the pricing alone, as `assignment.build_problem` runs it: N visits, each with a
pool of P lawful officers (pools shared by many visits, as a district's officers are), each
visit keeping its `keep` cheapest pairs. The baseline is assign-v1 in the same run (one
SHA-256 per pair, the native loop on every core); assign-v2 hashes each visit and officer
once and mixes the keys (native loop, and numpy where no extension was built). Part two
plans a synthetic city by both rules and times the assignment stage.

Checks: assign-v2's native and numpy paths keep the same pairs; a sample of kept pairs costs
what `hashes.cost` gives one pair at a time, under each rule; each plan verifies.
"""

from __future__ import annotations

import itertools
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spotcheck.audit.verify import verify_bundle
from spotcheck.demo import DEMO_QUARTER, DEMO_SEED, synthetic_city
from spotcheck.formats.bundle import build_bundle, write_bundle
from spotcheck.models.policy import load_policy
from spotcheck.scheduler import fasthash
from spotcheck.scheduler.costs import PairCosts
from spotcheck.scheduler.hashes import ASSIGN_V1, ASSIGN_V2, cost, seed_hash
from spotcheck.scheduler.plan import plan_quarter


class BenchmarkFailure(AssertionError):
    """A result is wrong: a check failed."""


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkFailure(message)


@dataclass
class Result:
    """The figures of one run (seconds)."""

    visits: int
    pool: int
    keep: int
    workers: int
    native: bool
    v1: float = 0.0
    v2: float = 0.0
    v2_keys: float = 0.0
    v2_numpy: float = 0.0
    city: int = 0
    plan: dict[str, dict[str, float]] = field(default_factory=dict)


def pricing_case(visits: int, pool: int) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Return visit enterprise ids, officer ids and each visit's lawful officers: 100 pools
    of `pool` officers, visits spread over them in turn."""
    visit_ids = np.array([f"9133{v:014d}".encode() for v in range(visits)], dtype="S18")
    officer_ids = np.array([f"INS-{i:06d}".encode() for i in range(100 * pool)], dtype="S32")
    pools = [np.arange(p * pool, (p + 1) * pool, dtype=np.int64) for p in range(100)]
    return visit_ids, officer_ids, [pools[v % 100] for v in range(visits)]


def _sample_agrees(rule: str, digest: str, visit_ids: np.ndarray, officer_ids: np.ndarray,
                   kept: tuple[np.ndarray, ...]) -> None:
    """Raise unless the first kept pairs of some visits cost what hashes.cost gives."""
    officers, costs, sizes, _ = kept
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for v in np.linspace(0, len(visit_ids) - 1, 50).astype(int).tolist():
        if sizes[v]:
            at = int(starts[v])
            want = cost(digest, DEMO_QUARTER, visit_ids[v].decode(),
                        officer_ids[officers[at]].decode(), rule)
            _check(int(costs[at]) == want, f"{rule}: visit {v} costs {costs[at]}, not {want}")


def run_pricing(result: Result, log: bool = True) -> None:
    """Time assign-v1 and assign-v2 pricing of the same pairs, and check them."""
    digest = seed_hash(DEMO_SEED)
    visit_ids, officer_ids, lawful = pricing_case(result.visits, result.pool)
    workers = result.workers
    start = time.perf_counter()
    v1 = fasthash.cheapest_pairs(f"{ASSIGN_V1}:{digest}:{DEMO_QUARTER}:".encode(), visit_ids,
                                 lawful, officer_ids, result.keep, workers=workers)
    result.v1 = time.perf_counter() - start
    start = time.perf_counter()
    pricing = PairCosts.build(ASSIGN_V2, digest, DEMO_QUARTER, visit_ids, officer_ids,
                              workers=workers)
    result.v2_keys = time.perf_counter() - start
    v2 = pricing.cheapest(lawful, result.keep, workers=workers)
    result.v2 = time.perf_counter() - start
    start = time.perf_counter()
    v2_numpy = pricing.cheapest_numpy(lawful, result.keep)
    result.v2_numpy = time.perf_counter() - start
    _check(all(np.array_equal(a, b) for a, b in zip(v2, v2_numpy, strict=True)),
           "assign-v2: the native loop and numpy keep different pairs")
    _sample_agrees(ASSIGN_V1, digest, visit_ids, officer_ids, v1)
    _sample_agrees(ASSIGN_V2, digest, visit_ids, officer_ids, v2)


def run_city(result: Result, log: bool = True) -> None:
    """Plan a synthetic city by each rule, timing its stages; each plan must verify."""
    registry = synthetic_city(result.city)
    policy, policy_bytes = load_policy()
    plan_quarter(synthetic_city(1000), policy, DEMO_QUARTER, DEMO_SEED)  # warm up: imports
    for rule in (ASSIGN_V1, ASSIGN_V2):
        marks: list[tuple[str, float]] = []

        def mark(stage: str, marks: list[tuple[str, float]] = marks) -> None:
            marks.append((stage, time.perf_counter()))

        plan = plan_quarter(registry, policy, DEMO_QUARTER, DEMO_SEED, assign=rule,
                            on_stage=mark)
        stages = {a: t2 - t1 for (a, t1), (_, t2) in itertools.pairwise(marks)}
        with tempfile.TemporaryDirectory() as folder:
            path = write_bundle(build_bundle(plan, registry, policy_bytes),
                                Path(folder) / "b.zip")
            start = time.perf_counter()
            report = verify_bundle(path)
            stages["verify"] = time.perf_counter() - start
        _check(report.ok, f"{rule}: the plan does not verify: {report.mismatches[:3]}")
        stages["pairs"] = float(sum(len(e) for e in plan.staffing.lawful))
        result.plan[rule] = stages


def report(result: Result) -> str:
    """Return the figures as a table, with assign-v2 over assign-v1."""
    pairs = result.visits * result.pool
    lines = [f"pricing {result.visits:,} visits x {result.pool} lawful officers = {pairs:,} "
             f"pairs, keeping {result.keep} a visit; {result.workers} thread(s); native "
             f"loops {'built' if result.native else 'NOT built'}",
             f"  {'assign-v1, SHA-256 per pair':<34} {result.v1:8.2f} s  baseline",
             f"  {'assign-v2, native (keys included)':<34} {result.v2:8.2f} s  "
             f"{result.v2 / result.v1:.3f} x assign-v1 (keys {result.v2_keys:.2f} s)",
             f"  {'assign-v2, numpy path':<34} {result.v2_numpy:8.2f} s  "
             f"{result.v2_numpy / result.v1:.3f} x assign-v1"]
    if result.plan:
        v1, v2 = result.plan[ASSIGN_V1], result.plan[ASSIGN_V2]
        lines.append(f"synthetic city of {result.city:,} enterprises "
                     f"({int(v1['pairs']):,} lawful pairs)")
        for stage in ("assignment", "verify"):
            lines.append(f"  {stage:<10} assign-v1 {v1[stage]:7.2f} s   assign-v2 "
                         f"{v2[stage]:7.2f} s   {v2[stage] / v1[stage]:.3f} x")
    lines.append("checks passed")
    return "\n".join(lines)


def run(visits: int, pool: int = 24, keep: int = 24, city: int = 0,
        workers: int | None = None, log: bool = True) -> Result:
    """Run the benchmark and return its figures; raise BenchmarkFailure when wrong."""
    if workers is None:
        workers = fasthash.cpus()
    result = Result(visits, pool, keep, workers, fasthash.native(), city=city)
    run_pricing(result, log)
    if city:
        run_city(result, log)
    return result
