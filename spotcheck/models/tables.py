"""Database tables (SQLModel, `table=True`): the registries, the stored plans, the event log.

These are storage rows only; the validated records the scheduler receives live in
`spotcheck.models.domain`, and `spotcheck.store` converts between the two. Registry tables carry no
foreign keys to each other on purpose: an enterprise snapshot re-import may remove an
enterprise that a stored conflict or past inspection still names, and those rows are kept.
"""

from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

PLAN_ACTIVE = "active"
PLAN_SUPERSEDED = "superseded"


def active_key(quarter: str, tasks: str) -> str:
    """Return the value of `PlanRow.active_key` for an active plan of this quarter and tasks."""
    return f"{quarter}|{tasks}"


# --- registries ------------------------------------------------------------------------


class EnterpriseRow(SQLModel, table=True):
    """One enterprise of the object pool (检查对象名录库), replaced by each snapshot import."""

    __tablename__ = "enterprise"

    enterprise_id: str = Field(primary_key=True, max_length=18)
    name: str = Field(max_length=200)
    jurisdiction: str = Field(max_length=6)
    industry: str = Field(default="", max_length=8)
    tier: str = Field(max_length=16)


class InspectorRow(SQLModel, table=True):
    """One officer of the inspector pool (执法检查人员名录库), replaced by each snapshot import."""

    __tablename__ = "inspector"

    inspector_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=100)
    department: str = Field(max_length=64)
    jurisdiction: str = Field(max_length=6)
    qualifications: str = ""  # ';'-joined, sorted
    capacity: int
    certificate_expiry: date
    # 角色 (added after the first schema: create_db_and_tables adds it to an older table)
    role: str = Field(default="officer", max_length=16)


class ConflictRow(SQLModel, table=True):
    """A recorded interest requiring an officer to recuse (回避); imports append."""

    __tablename__ = "conflict"
    __table_args__ = (Index("ix_conflict_enterprise_id", "enterprise_id"),)

    inspector_id: str = Field(primary_key=True, max_length=32)
    enterprise_id: str = Field(primary_key=True, max_length=18)
    reason: str = Field(default="", primary_key=True)


class HistoryRow(SQLModel, table=True):
    """A past inspection (used by the cooldown rule); imports append."""

    __tablename__ = "inspection_history"

    enterprise_id: str = Field(primary_key=True, max_length=18)
    task: str = Field(primary_key=True, max_length=32)
    department: str = Field(default="", primary_key=True, max_length=64)
    inspected_on: date = Field(primary_key=True)
    # 实际检查人员, ';'-joined, sorted (added after the first schema, like InspectorRow.role)
    inspectors: str = Field(default="", sa_type=Text)


# Columns added to a table after its first release, with the DDL that adds each one to a
# database made before (`store.database`): name → (column, type and default).
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "inspector": (("role", "VARCHAR(16) NOT NULL DEFAULT 'officer'"),),
    "inspection_history": (("inspectors", "TEXT NOT NULL DEFAULT ''"),),
}


# --- plans -----------------------------------------------------------------------------


class PlanRow(SQLModel, table=True):
    """A stored quarterly plan (季度抽查计划); superseded plans are kept for audit.

    `active_key` is `active_key(quarter, tasks)` while the plan is active and NULL once it
    is superseded. Its UNIQUE constraint (NULLs never collide, on SQLite and PostgreSQL)
    guarantees at most one active plan per quarter and task set, even for two writers
    storing at the same moment.
    """

    __tablename__ = "plan"
    __table_args__ = (
        UniqueConstraint("active_key", name="uq_plan_active_key"),
        CheckConstraint(f"status IN ('{PLAN_ACTIVE}', '{PLAN_SUPERSEDED}')",
                        name="ck_plan_status"),
        CheckConstraint(f"(status = '{PLAN_ACTIVE}') = (active_key IS NOT NULL)",
                        name="ck_plan_active_key"),
        Index("ix_plan_quarter", "quarter"),
    )

    plan_id: str = Field(primary_key=True, max_length=128)
    quarter: str = Field(max_length=6)
    tasks: str  # comma-joined, sorted task codes
    seed: str
    seed_hash: str = Field(max_length=64)
    status: str = Field(default=PLAN_ACTIVE, max_length=16)
    superseded_by: str | None = Field(default=None, foreign_key="plan.plan_id",
                                      max_length=128)
    active_key: str | None = Field(default=None)
    stored_at: str = Field(max_length=32)  # UTC, ISO 8601, when this database stored it
    manifest: str = Field(sa_type=Text)  # manifest.json of the audit bundle


class PlanStratumRow(SQLModel, table=True):
    """One line of a stored plan's strata.csv, with the shortfall reason."""

    __tablename__ = "plan_stratum"

    plan_id: str = Field(primary_key=True, foreign_key="plan.plan_id", max_length=128)
    task: str = Field(primary_key=True, max_length=32)
    tier: str = Field(primary_key=True, max_length=16)
    jurisdiction: str = Field(primary_key=True, max_length=6)
    population: int
    eligible: int
    target: int
    floor: int
    allocated: int
    drawn: int
    shortfall: int
    reason: str = ""


class PlanDrawRow(SQLModel, table=True):
    """One line of a stored plan's draws.csv."""

    __tablename__ = "plan_draw"
    # "was this enterprise drawn, and when?" is asked by enterprise id
    __table_args__ = (Index("ix_plan_draw_enterprise_id", "enterprise_id"),)

    plan_id: str = Field(primary_key=True, foreign_key="plan.plan_id", max_length=128)
    task: str = Field(primary_key=True, max_length=32)
    tier: str = Field(max_length=16)
    jurisdiction: str = Field(max_length=6)
    enterprise_id: str = Field(primary_key=True, max_length=18)
    ticket: str = Field(max_length=64)
    rank: int


class PlanSkipRow(SQLModel, table=True):
    """One line of a stored plan's skipped.csv."""

    __tablename__ = "plan_skip"

    plan_id: str = Field(primary_key=True, foreign_key="plan.plan_id", max_length=128)
    task: str = Field(primary_key=True, max_length=32)
    enterprise_id: str = Field(primary_key=True, max_length=18)
    ticket: str = Field(max_length=64)
    reason: str = ""


class PlanAssignmentRow(SQLModel, table=True):
    """One officer on one visit of a stored plan (assignments.csv)."""

    __tablename__ = "plan_assignment"
    # an officer's workload across plans is asked by inspector id
    __table_args__ = (Index("ix_plan_assignment_inspector_id", "inspector_id"),)

    plan_id: str = Field(primary_key=True, foreign_key="plan.plan_id", max_length=128)
    enterprise_id: str = Field(primary_key=True, max_length=18)
    department: str = Field(primary_key=True, max_length=64)
    inspector_id: str = Field(primary_key=True, max_length=32)
    cost: int = Field(sa_type=BigInteger)  # 40-bit cost by the plan's assign rule


# --- the event log ---------------------------------------------------------------------


class EventRow(SQLModel, table=True):
    """One event of the hash-chained log (spotcheck.models.events): appended, never updated.

    `seq` numbers the events from 1 without gaps; `prev` is the hash of event seq - 1, so
    its UNIQUE constraint refuses a fork even if two writers raced past the write lock.
    `payload` is the canonical JSON whose sha256 is `payload_digest`.
    """

    __tablename__ = "event_log"
    __table_args__ = (UniqueConstraint("prev", name="uq_event_log_prev"),
                      UniqueConstraint("hash", name="uq_event_log_hash"))

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: str = Field(max_length=20)  # UTC, ISO 8601 to the second
    actor: str = Field(max_length=200)
    kind: str = Field(max_length=16)
    payload: str = Field(sa_type=Text)
    payload_digest: str = Field(max_length=64)
    prev: str = Field(max_length=64)
    hash: str = Field(max_length=64)


# --- 一公开: results, substitutes, publications (DESIGN §10) -----------------------------


class ResultRow(SQLModel, table=True):
    """One inspection result (检查结果) of a drawn (task, enterprise), as imported.

    A correction is a new version, never an overwrite: the highest `version` of a pair is
    its result, and the versions before stay for audit. `event_seq` is the "results" event
    of the import that stored it.
    """

    __tablename__ = "inspection_result"
    __table_args__ = (Index("ix_inspection_result_plan_task", "plan_id", "task"),)

    plan_id: str = Field(primary_key=True, foreign_key="plan.plan_id", max_length=128)
    task: str = Field(primary_key=True, max_length=32)
    enterprise_id: str = Field(primary_key=True, max_length=18)
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    completed_on: date
    result: str = Field(max_length=128)  # ';'-joined result codes, sorted
    remarks: str = Field(default="", sa_type=Text)
    inspectors: str = ""  # ';'-joined inspector ids, sorted ("" when the file named none)
    event_seq: int


class SubstituteRow(SQLModel, table=True):
    """An officer replaced on a visit's team after the plan (illness, a new 回避)."""

    __tablename__ = "substitute"

    plan_id: str = Field(primary_key=True, foreign_key="plan.plan_id", max_length=128)
    enterprise_id: str = Field(primary_key=True, max_length=18)
    department: str = Field(primary_key=True, max_length=64)
    replaced: str = Field(primary_key=True, max_length=32)
    substitute: str = Field(max_length=32)
    cost: int = Field(sa_type=BigInteger)
    reason: str = Field(sa_type=Text)
    event_seq: int


class PublicationRow(SQLModel, table=True):
    """One result version published (抽查结果公示) on a date, by one publication event."""

    __tablename__ = "publication"

    plan_id: str = Field(primary_key=True, foreign_key="plan.plan_id", max_length=128)
    task: str = Field(primary_key=True, max_length=32)
    enterprise_id: str = Field(primary_key=True, max_length=18)
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    published_on: date
    event_seq: int
