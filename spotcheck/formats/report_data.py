"""The outcome report as plain data: what the workbook and the HTML page show (DESIGN §11).

The service layer fills an `OutcomeReport` from the database; `formats.workbook` and
`formats.report_html` turn it into files, and its `--json` form is the report's JSON
(the long per-enterprise tables are left out of the JSON: `metadata={"json": False}`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from spotcheck.outcomes.advice import Advice
from spotcheck.outcomes.disturbance import Disturbance
from spotcheck.outcomes.tables import OutcomeRow

ROWS = {"json": False}  # a per-enterprise table: in the files, not in the JSON

# A result's deadline status (DESIGN §10), as the workbook and report name it.
STATUS_LABELS = {"published": "已公示", "due": "待公示", "overdue": "已逾期",
                 "unknown": "期限未知", "missing": "未录入"}


@dataclass(frozen=True)
class PlanSummary:
    """One active plan the report covers."""

    plan_id: str
    quarter: str
    seed: str
    tasks: tuple[str, ...]


@dataclass(frozen=True)
class TierInfo:
    """A tier as the policy of the report's quarter sets it."""

    tier: str
    label: str
    ratio: float
    min_ratio: float
    rounds: int
    priority: int


@dataclass(frozen=True)
class StratumEntry:
    """One stratum of a plan, as drawn (抽查计划): the plan and quarter, then the fields of
    its strata.csv line (`scheduler.plan.StratumRow`, by name)."""

    plan_id: str
    quarter: str
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


@dataclass(frozen=True)
class DrawnEntry:
    """One drawn (task, enterprise) (抽查名单)."""

    plan_id: str
    quarter: str
    task: str
    enterprise_id: str
    name: str
    tier: str
    jurisdiction: str
    rank: int
    ticket: str


@dataclass(frozen=True)
class TeamEntry:
    """One visit and its team now (检查组), substitutes applied."""

    plan_id: str
    quarter: str
    enterprise_id: str
    name: str
    department: str
    tasks: tuple[str, ...]
    inspectors: tuple[str, ...]
    inspector_names: tuple[str, ...]
    substitutions: tuple[str, ...]  # "replaced→substitute"


@dataclass(frozen=True)
class WorkloadEntry:
    """One officer's visits in one quarter against the capacity (执法人员工作量)."""

    quarter: str
    inspector_id: str
    name: str
    department: str
    jurisdiction: str
    capacity: int
    visits: int

    @property
    def utilisation(self) -> float | None:
        """Return visits / capacity (None for a capacity of 0)."""
        return self.visits / self.capacity if self.capacity else None


@dataclass(frozen=True)
class ResultEntry:
    """A drawn (task, enterprise) with its current result and deadline, or none yet."""

    plan_id: str
    quarter: str
    task: str
    task_name: str
    authority: str
    enterprise_id: str
    name: str
    tier: str
    completed_on: date | None
    codes: tuple[str, ...]
    labels: str
    finding: bool | None
    remarks: str
    inspectors: tuple[str, ...]
    version: int
    published_on: date | None
    due_on: date | None
    status: str  # a key of STATUS_LABELS


@dataclass(frozen=True)
class DeadlineSummary:
    """One task's results against the publication deadline (DESIGN §10)."""

    plan_id: str
    task: str
    drawn: int
    with_result: int
    published: int
    due: int
    overdue: int
    unknown: int      # deadline in a year whose holiday schedule is not known yet
    missing: int
    unknown_years: tuple[int, ...]


@dataclass(frozen=True)
class OutcomeReport:
    """The outcome loop of some quarters: statistics, disturbance, advice and the plan."""

    quarter: str
    quarters: tuple[str, ...]
    today: date
    policy_name: str
    plans: tuple[PlanSummary, ...]
    tiers: tuple[TierInfo, ...]
    tasks: dict[str, str]            # task code → name
    statements: dict[str, str]
    estimates: tuple[OutcomeRow, ...]
    disturbance: tuple[Disturbance, ...]
    window: tuple[date, date]        # the disturbance window's first and last day
    advice: Advice
    deadlines: tuple[DeadlineSummary, ...]
    shortfalls: tuple[StratumEntry, ...]
    notes: tuple[str, ...]
    strata: tuple[StratumEntry, ...] = field(default=(), metadata=ROWS)
    drawn: tuple[DrawnEntry, ...] = field(default=(), metadata=ROWS)
    teams: tuple[TeamEntry, ...] = field(default=(), metadata=ROWS)
    workload: tuple[WorkloadEntry, ...] = field(default=(), metadata=ROWS)
    results: tuple[ResultEntry, ...] = field(default=(), metadata=ROWS)

    def tier_label(self, tier: str) -> str:
        """Return the tier's label (信用风险低 …), or "" for a tier the policy lacks."""
        return next((t.label for t in self.tiers if t.tier == tier), "")

    def rows(self, level: str) -> Sequence[OutcomeRow]:
        """Return the estimate rows of one level ("overall", "tier", "task", …)."""
        return [r for r in self.estimates if r.level == level]
