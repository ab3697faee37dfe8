"""What the service functions return: typed results, each with its `--json` form.

Every result is a frozen dataclass. `as_json()` gives the document `--json` prints: the
dataclass's fields in declaration order, with Paths as strings, events as their
events.jsonl objects and nested results as objects. A field declared with
`field(metadata=INTERNAL)` (a whole plan or registry, kept for a caller in the same
process) is left out. docs/JSON.md lists every document.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any

from spotcheck.audit.ceremony import Ceremony
from spotcheck.audit.verify import VerificationReport
from spotcheck.models.events import Event, describe
from spotcheck.models.registry import Registry
from spotcheck.scheduler.plan import Plan
from spotcheck.scheduler.shortfall import GroupAdvice
from spotcheck.scheduler.workload import Comparison
from spotcheck.store.imports import ImportReport

INTERNAL = {"json": False}


def json_value(value: Any) -> Any:
    """Return `value` as plain JSON data (dicts, lists, str, int, bool, None)."""
    if isinstance(value, Event):
        return value.as_json()
    if isinstance(value, VerificationReport):
        return {"path": value.path, "ok": value.ok, "plan_id": value.plan_id,
                "strict": value.strict, "counts": dict(value.counts),
                "mismatches": list(value.mismatches), "warnings": list(value.warnings),
                "notes": list(value.notes)}
    if is_dataclass(value) and not isinstance(value, type):
        data = {f.name: json_value(getattr(value, f.name)) for f in fields(value)
                if f.metadata.get("json", True)}
        if isinstance(getattr(type(value), "ok", None), property):
            verdict: Any = value  # a verdict (report) says whether it is ok first
            data = {"ok": bool(verdict.ok), **data}
        return data
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


class JsonResult:
    """Mixin of the result dataclasses: `as_json()` is the `--json` document."""

    def as_json(self) -> dict[str, Any]:
        """Return this result as the JSON object `--json` prints."""
        data = json_value(self)
        assert isinstance(data, dict)
        return data


@dataclass(frozen=True)
class DatabaseReady(JsonResult):
    """`init`: the database, its tables created."""

    url: str  # password hidden


@dataclass(frozen=True)
class ImportResult(JsonResult):
    """`import KIND FILE`: what the file changed in the registry."""

    kind: str
    file: Path
    sha256: str
    report: ImportReport

    def lines(self) -> list[str]:
        """Return the planner's summary of the import."""
        return [f"imported {self.kind} from {self.file}",
                *(f"  {line}" for line in self.report.lines())]


@dataclass(frozen=True)
class ResultsImported(JsonResult):
    """`results import FILE`: the inspection results stored, and the event recording them."""

    file: Path
    sha256: str
    rows: int
    corrections: int  # rows that correct a result stored before (a new version)
    event: int


@dataclass(frozen=True)
class FreezeResult(JsonResult):
    """`freeze`: the digests of the frozen registry and policy and the fingerprint to announce."""

    quarter: str
    recorded: bool  # False: the same freeze was already the latest
    event: Event
    inputs: dict[str, str]
    fingerprint: str
    digest: str


@dataclass(frozen=True)
class SeedStep(JsonResult):
    """One step of the seed ceremony (dice, commit, close, reveal): its recorded event."""

    quarter: str
    step: str
    event: Event
    seed: str | None  # set once the step produced the quarter's seed


@dataclass(frozen=True)
class CommitmentStatus(JsonResult):
    """One party's commitment in `seed show`."""

    party: str
    commitment: str
    event: int
    revealed: bool


@dataclass(frozen=True)
class CeremonyStatus(JsonResult):
    """`seed show`: a quarter's latest freeze, the ceremony's progress and its seed."""

    quarter: str
    frozen: bool
    freeze: Event | None = None
    fingerprint: str | None = None
    status: str | None = None
    commitments: tuple[CommitmentStatus, ...] = ()
    seed: str | None = None
    abandoned: tuple[str, ...] = ()  # labels of earlier freezes whose ceremony was abandoned

    @classmethod
    def of(cls, quarter: str, ceremonies: list[Ceremony]) -> CeremonyStatus:
        """Return the status of a quarter given its ceremonies, oldest first."""
        if not ceremonies:
            return cls(quarter, frozen=False)
        latest = ceremonies[-1]
        commitments = tuple(
            CommitmentStatus(party, value, event.seq, party in latest.reveals)
            for party, (value, event) in sorted(latest.commitments.items()))
        return cls(quarter, True, latest.freeze, latest.freeze.payload.get("fingerprint"),
                   latest.status(), commitments, latest.seed_value,
                   tuple(c.freeze.label() for c in ceremonies[:-1] if c.started))


@dataclass(frozen=True)
class CapacityReview(JsonResult):
    """What the plan summary says about capacity beyond the strata: the officers'
    utilisation spread with and without `workload = "balanced"` on the same visits, and
    where capacity cut strata, the saturated officer groups and the officer-visits each
    needs for every stratum to reach its target (docs/ALLOCATION.md)."""

    workload: Comparison | None  # None: a large plan with minimum-cost workload (not compared)
    shortfall_advice: tuple[GroupAdvice, ...]
    capped: int       # enterprises the annual cap left out of every stratum
    expert_gaps: int  # visits given fewer experts (专家) than their tasks ask for


@dataclass(frozen=True)
class PlanResult(JsonResult):
    """`plan`: the stored plan, where its bundle is, and what to publish."""

    plan_id: str
    quarter: str
    seed: str
    seed_hash: str
    out: Path
    fingerprint: str  # SHA-256 of the bundle (.zip) or of its deterministic .zip
    counts: dict[str, int]
    algorithms: dict[str, str]  # the reproducible rules used, as in manifest.json
    superseded: str | None
    freeze: Event | None
    seed_event: Event | None
    warning: str | None
    signer: str | None  # key fingerprint
    plan: Plan = field(repr=False, metadata=INTERNAL)
    registry: Registry = field(repr=False, metadata=INTERNAL)
    capacity: CapacityReview | None = None


@dataclass(frozen=True)
class DemoOutcomes(JsonResult):
    """`demo --with-results`: the database, the results simulated and stored, what to run next."""

    database: str
    plan_id: str
    today: date
    results: int
    published: int
    missing: int
    files: tuple[Path, ...]
    report_command: str


@dataclass(frozen=True)
class DemoResult(JsonResult):
    """`demo`: the synthetic city's plan, its bundle and the verdict on it."""

    enterprises: int
    quarter: str
    seed: str
    out: Path
    public: Path  # the plan notice and drawn list (一公开)
    verification: VerificationReport
    plan: Plan = field(repr=False, metadata=INTERNAL)
    registry: Registry = field(repr=False, metadata=INTERNAL)
    outcomes: DemoOutcomes | None = None  # with --with-results
    capacity: CapacityReview | None = None


@dataclass(frozen=True)
class Explanation(JsonResult):
    """`explain`: why an enterprise was drawn or not, or an officer's visits, in words."""

    bundle: Path
    subject: str  # "enterprise" or "inspector"
    id: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class LoggedEvent(JsonResult):
    """One event of `log`, with its one-line description."""

    event: Event
    description: str

    @classmethod
    def of(cls, event: Event) -> LoggedEvent:
        """Return the event with its description."""
        return cls(event, describe(event))


@dataclass(frozen=True)
class EventLog(JsonResult):
    """`log`: the hash-chained events, oldest first."""

    quarter: str | None
    events: tuple[LoggedEvent, ...]


@dataclass(frozen=True)
class LogCheck(JsonResult):
    """`log verify`: whether every link of the chain holds."""

    ok: bool
    events: int
    head: str | None
    broken: str | None


@dataclass(frozen=True)
class KeyPair(JsonResult):
    """`keys init`: the bureau's new key files and the public key's fingerprint."""

    private: Path
    public: Path
    fingerprint: str


@dataclass(frozen=True)
class ZippedBundle(JsonResult):
    """`bundle zip`: the deterministic .zip written and its SHA-256."""

    path: Path
    sha256: str
