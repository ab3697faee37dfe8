"""Stored plans: one transaction per plan, --replace supersedes, re-runs are recognised."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from spotcheck.audit.ceremony import quarter_log
from spotcheck.errors import InfeasiblePlanError
from spotcheck.models.events import Event
from spotcheck.models.tables import (
    PLAN_ACTIVE,
    PLAN_SUPERSEDED,
    active_key,
)
from spotcheck.scheduler.plan import Plan
from spotcheck.store.eventlog import EVENT, append_event, checked_events, record_policy
from spotcheck.store.sql import (
    PLAN,
    PLAN_PARTS,
    execute_chunks,
)
from spotcheck.store.transactions import reading, writing

# --- plans ---------------------------------------------------------------------------------


def _plan_rows(plan: Plan) -> dict[str, list[tuple[Any, ...]]]:
    """Return each plan part's rows as tuples in the column order of its table, sorted."""
    return {attr: sorted(map(attrgetter(*(f.name for f in fields(kind))), getattr(plan, attr)))
            for _, attr, kind in PLAN_PARTS}


def _insert_rows(conn: Connection, table: Table, names: list[str], plan_id: str,
                 rows: list[tuple[Any, ...]]) -> None:
    """Insert a plan part's rows (tuples of these columns) under the plan id, in order."""
    execute_chunks(conn, insert(table),
                   [{"plan_id": plan_id, **dict(zip(names, row, strict=True))} for row in rows])


def _stored_plan_rows(conn: Connection, plan_id: str) -> dict[str, list[tuple[Any, ...]]]:
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table, attr, kind in PLAN_PARTS:
        columns = [table.c[f.name] for f in fields(kind)]
        out[attr] = sorted(tuple(r) for r in conn.execute(
            select(*columns).where(table.c.plan_id == plan_id)))
    return out


def _active_plan(conn: Connection, key: str) -> str | None:
    """Return the id of the active plan with this active_key, if any."""
    return conn.execute(select(PLAN.c.plan_id).where(PLAN.c.active_key == key)
                        ).scalar_one_or_none()


def _refuse_overlap(conn: Connection, quarter: str, key: str, tasks: str) -> None:
    """Refuse a plan sharing a task with another active plan of the quarter's other task sets.

    A task is drawn once a quarter: two active plans drawing the same task would inspect
    its strata twice, so only plans for disjoint task sets may be active side by side.
    """
    mine = set(tasks.split(","))
    others = conn.execute(select(PLAN.c.plan_id, PLAN.c.tasks).where(
        PLAN.c.quarter == quarter, PLAN.c.active_key.is_not(None),
        PLAN.c.active_key != key).order_by(PLAN.c.plan_id)).all()
    for other_id, other_tasks in others:
        shared = sorted(mine & set(other_tasks.split(",")))
        if shared:
            raise InfeasiblePlanError(
                f"plan {other_id} (tasks {other_tasks}) is active for quarter {quarter} and "
                f"already draws task(s) {', '.join(shared)}; nothing was stored. A task is "
                "drawn once a quarter: plan the same task set with --replace, or plan only "
                "tasks no active plan draws.")


def _set_status(conn: Connection, plan_id: str, key: str | None,
                superseded_by: str | None) -> None:
    conn.execute(update(PLAN).where(PLAN.c.plan_id == plan_id).values(
        status=PLAN_ACTIVE if key else PLAN_SUPERSEDED, active_key=key,
        superseded_by=superseded_by))


ManifestSource = str | Callable[[list[Event]], str]


@dataclass(frozen=True)
class PlanEvidence:
    """What a plan's event records beyond the plan: its file digests, freeze and seed event."""

    inputs: Mapping[str, str] = field(default_factory=dict)  # file name → sha256
    outputs: Mapping[str, str] = field(default_factory=dict)
    freeze: int | None = None  # seq of the freeze event the plan's inputs match
    seed_event: int | None = None  # seq of the ceremony's seed event the plan uses


def store_plan(engine: Engine, plan: Plan, plan_id: str, manifest_json: ManifestSource, *,
               replace: bool, evidence: PlanEvidence | None = None,
               actor: str | None = None,
               before_commit: Callable[[], object] | None = None) -> str | None:
    """Store the plan as the active plan of its quarter and task set, with its "plan" event;
    return the plan id it superseded, or None.

    `manifest_json` is the manifest text, or a function called inside the transaction with
    the event chain up to and including the plan's event: it writes the bundle (or begins
    to, and `before_commit`, called last inside the transaction, waits for the writing to
    end) and returns its manifest. If either raises, or the commit fails, nothing is stored.

    The plan must use the quarter's latest freeze and ceremony seed as `evidence` says (the
    command line checked them; they are checked again under the write lock, in case the
    quarter was frozen again meanwhile).

    At most one plan is active per (quarter, task set); plans for disjoint task sets
    coexist, and a plan sharing a task with another active plan of the quarter is refused.
    If one is active already, this raises InfeasiblePlanError naming it, unless `replace`:
    then the old plan is marked superseded (superseded_by = this plan_id) and kept with all
    its rows, for audit. Storing a plan_id that is already stored:

    - with the same content and active: nothing to do (the identical command was re-run,
      say to write the bundle again); returns None and keeps the stored manifest;
    - with the same content but superseded: it is reinstated as the active plan only with
      `replace` (the plan active now is superseded by it), otherwise InfeasiblePlanError;
    - with different content (other draws or teams under the same id): InfeasiblePlanError,
      since a stored plan is never rewritten.

    Two writers storing at the same moment: they take turns (write lock), and the UNIQUE
    active_key is the last guard: a clash is reported as InfeasiblePlanError, never stored.
    """
    evidence = evidence or PlanEvidence()
    tasks = ",".join(sorted(t.code for t in plan.policy.tasks))
    key = active_key(plan.quarter, tasks)
    what = f"quarter {plan.quarter}, tasks {tasks}"
    try:
        with writing(engine, PLAN, EVENT) as conn:
            events = checked_events(conn)
            _check_evidence(events, plan, evidence)
            active = _active_plan(conn, key)
            _refuse_overlap(conn, plan.quarter, key, tasks)
            recording = _Recording(events, manifest_json, evidence, actor, tasks)
            stored = conn.execute(select(PLAN).where(PLAN.c.plan_id == plan_id)).first()
            if stored is not None:
                superseded = _store_again(conn, plan, plan_id, stored._mapping, active,
                                          replace, key, recording)
            elif active is not None and not replace:
                raise InfeasiblePlanError(
                    f"plan {active} is already the active plan (有效计划) for {what}; "
                    "nothing was stored. Pass --replace to supersede it (it stays on record "
                    "as superseded).")
            else:
                _store_new(conn, plan, plan_id, active, key, recording)
                superseded = active
            if before_commit is not None:
                before_commit()
            return superseded
    except IntegrityError as exc:
        text = str(exc.orig)
        if "active_key" in text or "plan.plan_id" in text or "plan_pkey" in text:
            raise InfeasiblePlanError(
                f"another plan for {what} was stored at the same time; nothing was stored. "
                "Run the plan again to see which plan is active (pass --replace to "
                "supersede it)."
            ) from exc
        raise


def _store_new(conn: Connection, plan: Plan, plan_id: str, active: str | None, key: str,
               recording: _Recording) -> None:
    """Store a plan_id not stored before, superseding the plan `active` (if not None)."""
    manifest = recording.record(conn, plan, plan_id, active)
    if active is not None:
        _set_status(conn, active, None, None)
    conn.execute(insert(PLAN).values(
        plan_id=plan_id, quarter=plan.quarter, tasks=recording.tasks, seed=plan.seed,
        seed_hash=plan.seed_hash, status=PLAN_ACTIVE, superseded_by=None,
        active_key=key, manifest=manifest,
        stored_at=datetime.now(UTC).isoformat(timespec="seconds")))
    if active is not None:
        _set_status(conn, active, None, plan_id)
    for (table, _, kind), rows in zip(PLAN_PARTS, _plan_rows(plan).values(), strict=True):
        _insert_rows(conn, table, [f.name for f in fields(kind)], plan_id, rows)


def _check_evidence(events: list[Event], plan: Plan, evidence: PlanEvidence) -> None:
    """Refuse a plan whose freeze or seed is no longer the quarter's latest."""
    ceremony = quarter_log(events, plan.quarter).latest
    latest_freeze = None if ceremony is None else ceremony.freeze.seq
    latest_seed = None if ceremony is None or ceremony.seed is None else ceremony.seed.seq
    frozen = {} if ceremony is None else ceremony.inputs
    if (evidence.freeze, evidence.seed_event) != (latest_freeze, latest_seed) or (
            ceremony is not None and (dict(evidence.inputs) != frozen or (
                ceremony.seed is not None and ceremony.seed_value != plan.seed))):
        raise InfeasiblePlanError(
            f"the plan does not use the latest freeze and ceremony seed of {plan.quarter} "
            f"(freeze #{latest_freeze}, seed event #{latest_seed}); the quarter was frozen "
            "again or its seed drawn while planning. Nothing was stored: plan again")


@dataclass(frozen=True)
class _Recording:
    """How store_plan records a plan: the log read under the lock and the bundle writer."""

    events: list[Event]
    manifest_json: ManifestSource
    evidence: PlanEvidence
    actor: str | None
    tasks: str

    def record(self, conn: Connection, plan: Plan, plan_id: str, supersedes: str | None
               ) -> str:
        """Append the plan's event (and a policy event if the policy is new to the log);
        return the manifest, written with the chain through the plan event."""
        appended: list[Event] = []
        policy_digest = self.evidence.inputs.get("policy.toml")
        if policy_digest:
            used = record_policy(conn, self.events, policy_digest, plan.policy.name, self.actor)
            appended += [used] if used else []
        so_far = [*self.events, *appended]
        previous = so_far[-1] if so_far else None
        payload = {"quarter": plan.quarter, "plan_id": plan_id, "tasks": self.tasks,
                   "seed": plan.seed, "seed_hash": plan.seed_hash,
                   "freeze": self.evidence.freeze, "seed_event": self.evidence.seed_event,
                   "inputs": dict(self.evidence.inputs),
                   "outputs": dict(self.evidence.outputs), "supersedes": supersedes}
        event = append_event(conn, "plan", payload, self.actor, previous)
        chain = [*self.events, *appended, event]
        return self.publish(chain)

    def publish(self, chain: list[Event]) -> str:
        """Return the manifest for this chain (writing the bundle when given a writer)."""
        if isinstance(self.manifest_json, str):
            return self.manifest_json
        return self.manifest_json(chain)

    def again(self, conn: Connection, plan: Plan, plan_id: str) -> None:
        """Write the bundle of an identical re-run with the chain through the plan's event,
        appending a new plan event only if the recorded one names another freeze or seed."""
        for event in reversed(self.events):
            if event.kind == "plan" and event.payload.get("plan_id") == plan_id:
                if (event.payload.get("freeze"), event.payload.get("seed_event")) == (
                        self.evidence.freeze, self.evidence.seed_event):
                    self.publish(self.events[:event.seq])
                    return
                break
        self.record(conn, plan, plan_id, None)


def _store_again(conn: Connection, plan: Plan, plan_id: str, stored: Any, active: str | None,
                 replace: bool, key: str, recording: _Recording) -> str | None:
    """Handle a plan_id that is already stored (see store_plan); return what it superseded."""
    same = (stored["quarter"] == plan.quarter and stored["seed_hash"] == plan.seed_hash
            and active_key(stored["quarter"], stored["tasks"]) == key
            and _stored_plan_rows(conn, plan_id) == _plan_rows(plan))
    if not same:
        raise InfeasiblePlanError(
            f"plan id {plan_id} is already stored with different content; a stored plan is "
            "never rewritten, so nothing was stored")
    if stored["status"] == PLAN_ACTIVE:
        recording.again(conn, plan, plan_id)
        return None
    if active is not None and not replace:
        raise InfeasiblePlanError(
            f"plan {plan_id} is stored but was superseded; plan {active} is the active plan "
            f"(有效计划) for quarter {plan.quarter}, tasks {stored['tasks']}. Pass --replace to "
            "make this plan active again.")
    recording.record(conn, plan, plan_id, active)
    if active is not None:
        _set_status(conn, active, None, plan_id)
    _set_status(conn, plan_id, key, None)
    return active


def list_plans(engine: Engine) -> list[dict[str, Any]]:
    """Return every stored plan (active and superseded) as a dict of its plan columns,
    without the internal active_key, ordered by quarter, tasks and time stored."""
    columns = [c for c in PLAN.columns if c.name != "active_key"]
    with reading(engine) as conn:
        rows = conn.execute(select(*columns).order_by(
            PLAN.c.quarter, PLAN.c.tasks, PLAN.c.stored_at, PLAN.c.plan_id)).mappings()
        return [dict(r) for r in rows]
