"""Planning against the database: snapshot, freeze check, ceremony seed, plan, stored bundle.

`plan_and_store` is the whole of `spotcheck plan`. The order matters and is the point of
keeping it in one place:

1. one read transaction loads the registry, checks it against the freeze, picks the
   ceremony's seed, and (with the SQL engine) draws in PostgreSQL from that same snapshot;
2. the pure pipeline plans;
3. the bundle is written inside the storing transaction, but only staged in a hidden folder
   beside `out`, and moved there once the plan is committed: a process killed before the
   commit (kill -9, power cut) leaves no bundle that verifies for a plan never stored.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from spotcheck.audit.ceremony import PlanSeed
from spotcheck.audit.signing import Signer
from spotcheck.errors import SpotcheckError
from spotcheck.formats.bundle import (
    Provenance,
    begin_writing,
    build_bundle,
    bundle_files,
    digest,
    input_files,
    output_names,
    plan_identifier,
)
from spotcheck.models.events import Event
from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.hashes import seed_hash
from spotcheck.scheduler.plan import Draws, Plan, plan_quarter
from spotcheck.scheduler.workload import compare
from spotcheck.service.progress import Progress
from spotcheck.service.results import CapacityReview, PlanResult
from spotcheck.store.ceremony import quarter_state
from spotcheck.store.plans import PlanEvidence, store_plan
from spotcheck.store.snapshot import registry_for, require_registry
from spotcheck.store.transactions import reading


def created_at_now() -> str:
    """Return the bundle timestamp: SOURCE_DATE_EPOCH when set (reproducible), else now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and not (epoch.isascii() and epoch.isdigit() and len(epoch) <= 11):
        raise SpotcheckError(f"SOURCE_DATE_EPOCH={epoch[:40]!r}: not a number of seconds since "
                             "1970-01-01 UTC (e.g. 1790000000); fix or unset it")
    moment = datetime.fromtimestamp(int(epoch), UTC) if epoch else datetime.now(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


# Staffing the same visits the other way, only to show the spread beside the plan's, costs a
# search for the balance caps and a second min-cost flow (12 s of a 30 s plan for a city of
# 113,000 visits): above this many visits it is done only when the policy balances.
COMPARE_MAX_VISITS = 50_000


def review(plan: Plan, registry: Registry) -> CapacityReview:
    """Return what the plan summary says about capacity: the utilisation spread with and
    without balancing, and the shortfall advice (the plan must be made with
    advise_shortfall=True for it to be there)."""
    index = {o.inspector_id: i for i, o in enumerate(registry.inspectors)}
    load = [0] * len(registry.inspectors)
    for a in plan.assignments:
        load[index[a.inspector_id]] += 1
    balanced = plan.balance_caps is not None
    spread = None
    if balanced or len(plan.staffing.visit_ids) <= COMPARE_MAX_VISITS:
        spread = compare(plan.staffing, plan.assign, plan.seed_hash,
                         Quarter.parse(plan.quarter), registry.inspectors, load, balanced)
    return CapacityReview(spread, plan.advice, len(plan.capped), len(plan.expert_gaps))


@dataclass(frozen=True)
class PlanRequest:
    """Everything `plan_and_store` needs, parsed and checked by the caller."""

    quarter: str
    out: Path
    seed: str | None
    policy: Policy
    policy_bytes: bytes
    replace: bool = False
    signer: Signer | None = None
    sql_draw: bool = False
    created_at: str | None = None
    actor: str | None = None


@dataclass(frozen=True)
class _Snapshot:
    registry: Registry
    inputs: dict[str, bytes]
    digests: dict[str, str]
    chosen: PlanSeed
    draws: Draws | None


def check_out(out: Path) -> None:
    """Refuse an --out that exists (other than an empty folder) or cannot be made there."""
    if out.exists() and not out.is_dir():
        raise SpotcheckError(f"--out {out}: already exists and is not a folder; choose a new "
                             "folder or .zip name")
    if out.is_dir() and any(out.iterdir()):
        raise SpotcheckError(f"--out {out}: already exists and is not empty; choose another")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise SpotcheckError(f"--out {out}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SpotcheckError(f"--out {out}: the folder {parent} is not writable")


def _snapshot(engine: Engine, request: PlanRequest, progress: Progress) -> _Snapshot:
    """Read the registry, check the freeze and pick the seed in one read transaction."""
    progress.stage("load registry")
    with reading(engine) as conn:
        registry = registry_for(conn, request.policy, request.quarter)
        require_registry(registry)
        inputs = input_files(registry, request.policy_bytes, request.policy)
        digests = {file: digest(data) for file, data in inputs.items()}
        chosen = quarter_state(engine, request.quarter).seed_for_plan(request.seed, digests)
        draws = None
        if request.sql_draw:
            from spotcheck.store.sql_draw import draws_in

            progress.stage("SQL draw")
            draws = draws_in(conn, registry, request.policy, request.quarter,
                             seed_hash(chosen.seed))
    return _Snapshot(registry, inputs, digests, chosen, draws)


def plan_and_store(engine: Engine, request: PlanRequest, progress: Progress) -> PlanResult:
    """Plan the quarter from the stored registry, store the plan, write its bundle."""
    check_out(request.out)
    created_at = request.created_at or created_at_now()
    if request.sql_draw and engine.dialect.name != "postgresql":
        raise SpotcheckError(f"--engine sql needs a PostgreSQL database (--db is "
                             f"{engine.dialect.name}); use --engine python")
    snap = _snapshot(engine, request, progress)
    plan = plan_quarter(snap.registry, request.policy, request.quarter, snap.chosen.seed,
                        on_stage=progress.stage, draws=snap.draws, advise_shortfall=True)
    progress.stage("bundle")
    files = bundle_files(plan, snap.registry, request.policy_bytes, snap.inputs)
    plan_id = plan_identifier(plan.quarter, plan.seed_hash, snap.digests, plan.assign)
    evidence = PlanEvidence(
        inputs=snap.digests,
        outputs={file: digest(files[file]) for file in output_names(plan.policy)},
        freeze=snap.chosen.freeze.seq if snap.chosen.freeze else None,
        seed_event=snap.chosen.seed_event.seq if snap.chosen.seed_event else None)
    progress.stage("store and write")
    try:
        superseded, fingerprint = _store_and_write(engine, request, snap, plan, plan_id, files,
                                                   evidence, created_at)
    except OSError as exc:
        raise SpotcheckError(f"--out {request.out}: the bundle cannot be written there "
                             f"({exc.strerror}); nothing was stored") from None
    progress.finish()
    return PlanResult(
        plan_id=plan_id, quarter=plan.quarter, seed=plan.seed, seed_hash=plan.seed_hash,
        out=request.out, fingerprint=fingerprint,
        counts={"strata": len(plan.strata), "draws": len(plan.draws),
                "skipped": len(plan.skipped), "assignments": len(plan.assignments)},
        algorithms=dict(plan.algorithms), superseded=superseded, freeze=snap.chosen.freeze,
        seed_event=snap.chosen.seed_event,
        warning=snap.chosen.warning,
        signer=request.signer.fingerprint if request.signer else None,
        plan=plan, registry=snap.registry, capacity=review(plan, snap.registry))


def _store_and_write(engine: Engine, request: PlanRequest, snap: _Snapshot, plan: Plan,
                     plan_id: str, files: dict[str, bytes], evidence: PlanEvidence,
                     created_at: str) -> tuple[str | None, str]:
    """Store the plan; its bundle is staged inside the transaction and moved to `out` after.
    Return the plan id it superseded (or None) and the bundle's fingerprint.

    The bundle is written, and zipped for its fingerprint, by two worker threads while the
    plan's rows are stored; the transaction commits once they have finished.
    """
    out = request.out
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    staged = staging / out.name
    digests = {**evidence.inputs, **evidence.outputs}
    writing: list[Callable[[], str]] = []
    fingerprint: list[str] = []

    def publish(chain: list[Event]) -> str:
        provenance = Provenance(tuple(chain), snap.chosen.freeze, snap.chosen.seed_event)
        bundle = build_bundle(plan, snap.registry, request.policy_bytes,
                              created_at=created_at, files=files, signer=request.signer,
                              provenance=provenance, digests=digests)
        writing.append(begin_writing(bundle, staged, workers))
        return bundle.files["manifest.json"].decode()

    def finish() -> None:
        fingerprint.extend(written() for written in writing)

    try:
        with ThreadPoolExecutor(max_workers=2) as workers:
            superseded = store_plan(engine, plan, plan_id, publish, replace=request.replace,
                                    evidence=evidence, actor=request.actor,
                                    before_commit=finish)
        _move(staged, out, plan_id)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return superseded, fingerprint[0]


def _move(staged: Path, out: Path, plan_id: str) -> None:
    try:
        if out.is_dir():
            out.rmdir()  # the empty folder --out named (a non-empty one was refused)
        os.replace(staged, out)
    except OSError as exc:
        raise SpotcheckError(
            f"plan {plan_id} is stored, but its bundle could not be moved to {out} "
            f"({exc}); run the same command with another --out to write it") from exc

