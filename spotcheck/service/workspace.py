"""The database workflows a bureau runs, as one class a platform and the CLI share.

`Workspace(url)` opens (and creates) the database; each method is one command of the
command line — import, freeze, the seed ceremony, plan, the event log — with the same
checks and the same transactions, and returns a typed result (`spotcheck.service.results`).
A platform that keeps spotcheck's tables in its own database passes its engine instead of a
URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from spotcheck.audit.ceremony import commitment_of
from spotcheck.audit.signing import load_signer
from spotcheck.errors import SpotcheckError
from spotcheck.formats.registry_files import (
    read_conflicts,
    read_enterprises,
    read_history,
    read_inspectors,
    read_results,
)
from spotcheck.models.calendar import WorkCalendar
from spotcheck.models.columns import REGISTRY_KINDS
from spotcheck.models.policy import load_policy
from spotcheck.models.quarter import Quarter
from spotcheck.service.outcomes import (
    PublishedResults,
    ResultsStatus,
    publish_results,
    results_status,
)
from spotcheck.service.planning import PlanRequest, plan_and_store
from spotcheck.service.progress import Progress
from spotcheck.service.report import ReportResult, write_report
from spotcheck.service.results import (
    CeremonyStatus,
    DatabaseReady,
    EventLog,
    FreezeResult,
    ImportResult,
    LogCheck,
    LoggedEvent,
    PlanResult,
    ResultsImported,
    SeedStep,
)
from spotcheck.store import ceremony, eventlog
from spotcheck.store.database import database_url, open_database, shown_url
from spotcheck.store.imports import (
    ImportReport,
    import_conflicts,
    import_enterprises,
    import_history,
    import_inspectors,
)
from spotcheck.store.results import import_results
from spotcheck.store.snapshot import known_ids
from spotcheck.store.substitutes import Substitution, substitute

KINDS = REGISTRY_KINDS
PathLike = str | Path


@dataclass(frozen=True)
class _FileChoice:
    """What an import is read with besides the file: the policy's tiers, the worksheet of a
    workbook, and the day of the import."""

    policy: PathLike | None
    sheet: str | None
    today: date


def file_sha256(file: Path, progress: Progress | None = None) -> str:
    """Return the SHA-256 of a file, read in 1 MiB chunks counted on the progress bar."""
    progress = progress or Progress()
    sha = hashlib.sha256()
    with file.open("rb") as handle, progress.tally("checksum", file.stat().st_size,
                                                   "B") as tally:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
            tally.advance(len(chunk))
    return sha.hexdigest()


def check_input_file(path: Path) -> None:
    """Refuse a path that is missing or not a regular file (a folder, a pipe, a device)."""
    if not path.exists():
        raise SpotcheckError(f"{path}: no such file")
    if not path.is_file():
        raise SpotcheckError(f"{path}: not a regular file (a folder, pipe or device); save "
                             "the data to a file and import that")


class Workspace:
    """A spotcheck database: its registry, the seed ceremony, plans and the event log.

    `db`: a database URL (default `$SPOTCHECK_DB`, else `sqlite:///spotcheck.db`) or an
    SQLAlchemy engine. `actor`: who is acting, recorded in every event (default: the OS
    user). Tables are created on first use.
    """

    def __init__(self, db: str | Engine | None = None, *, actor: str | None = None) -> None:
        if isinstance(db, Engine):
            from spotcheck.store.database import create_db_and_tables

            create_db_and_tables(db)
            self.engine, self.url = db, db.url.render_as_string(hide_password=True)
        else:
            self.engine, self.url = open_database(db), shown_url(database_url(db))
        self.actor = actor

    def ready(self) -> DatabaseReady:
        """Return where the database is (its tables exist once the workspace is open)."""
        return DatabaseReady(self.url)

    # --- registry ------------------------------------------------------------------------

    def import_file(self, kind: str, file: PathLike, *, policy: PathLike | None = None,
                    sheet: str | None = None, today: date | None = None,
                    progress: Progress | None = None) -> ImportResult:
        """Import one registry file (CSV in UTF-8/GB18030, or XLSX; English or Chinese headers).

        Enterprises and inspectors files are full snapshots that replace the registry;
        conflicts and history are appended. `policy` names the tiers enterprises may use
        (default: the shipped policy). `sheet`: the worksheet of a workbook to import
        (needed when it has more than one visible sheet with data). `today`: the day of the
        import (default: today); a history date after it is refused. The file is refused
        whole, with every bad row named, or stored whole in one transaction with its
        "import" event.
        """
        if kind not in KINDS:
            raise SpotcheckError(f"unknown registry {kind!r}: one of {', '.join(KINDS)}")
        path, progress = Path(file), progress or Progress()
        check_input_file(path)
        source = {"file": path.name, "sha256": file_sha256(path, progress)}
        progress.stage("read and validate")  # the readers check each row as they read it
        report = self._import(kind, path, _FileChoice(policy, sheet, today or date.today()),
                              progress, {"actor": self.actor, "source": source})
        progress.finish()
        return ImportResult(kind, path, source["sha256"], report)

    def _import(self, kind: str, path: Path, choice: _FileChoice, progress: Progress,
                logged: dict[str, Any]) -> ImportReport:
        store: Callable[..., ImportReport]
        sheet = choice.sheet
        if kind == "enterprises":
            parsed, _ = load_policy(choice.policy)
            rows: Any = read_enterprises(path, tiers=sorted(parsed.tiers), sheet=sheet)
            store = import_enterprises
        elif kind == "inspectors":
            rows, store = read_inspectors(path, sheet=sheet), import_inspectors
        elif kind == "conflicts":
            enterprise_ids, inspector_ids = known_ids(self.engine)
            rows = read_conflicts(path, inspector_ids=inspector_ids,
                                  enterprise_ids=enterprise_ids, sheet=sheet)
            store = import_conflicts
        else:
            rows = read_history(path, today=choice.today, sheet=sheet)
            store = import_history
        progress.stage("store")
        return store(self.engine, rows, **logged)

    # --- freeze and seed ceremony ----------------------------------------------------------

    def freeze(self, quarter: str, *, policy: PathLike | None = None,
               restart: bool = False) -> FreezeResult:
        """Fix the registry and policy before the seed exists; return the fingerprint.

        `restart` freezes again over a ceremony already under way (the abandoned one stays
        in the log).
        """
        _, policy_bytes = load_policy(policy)
        frozen = ceremony.freeze(self.engine, quarter, policy_bytes, restart=restart,
                                 actor=self.actor)
        event = frozen.event
        return FreezeResult(str(event.quarter), frozen.recorded, event, frozen.inputs,
                            frozen.fingerprint, frozen.digest)

    def seed_dice(self, quarter: str, digits: str) -> SeedStep:
        """Record the seed dice-v1-DIGITS from at least 20 decimal digits rolled in public."""
        event = ceremony.record_dice(self.engine, quarter, digits, self.actor)
        return SeedStep(str(event.quarter), "dice", event, event.payload["seed"])

    def seed_commit(self, quarter: str, party: str, *, secret: str | None = None,
                    commitment: str | None = None) -> SeedStep:
        """Record a party's commitment: its own sha256 of the secret, or the secret's."""
        if (secret is None) == (commitment is None):
            raise SpotcheckError("give exactly one of a secret and a commitment")
        value = commitment if commitment is not None else commitment_of(str(secret))
        event = ceremony.record_commitment(self.engine, quarter, party, value, self.actor)
        return SeedStep(str(event.quarter), "commit", event, None)

    def seed_close(self, quarter: str) -> SeedStep:
        """Close the commitments (at least two parties); reveals may follow."""
        event = ceremony.close_commitments(self.engine, quarter, self.actor)
        return SeedStep(str(event.quarter), "close", event, None)

    def seed_reveal(self, quarter: str, party: str, secret: str) -> SeedStep:
        """Reveal a party's secret; after the last reveal the seed is derived and recorded."""
        event = ceremony.record_reveal(self.engine, quarter, party, secret, self.actor)
        seed = event.payload["seed"] if event.kind == "seed" else None
        return SeedStep(str(event.quarter), "reveal", event, seed)

    def seed_show(self, quarter: str) -> CeremonyStatus:
        """Return the quarter's freeze, ceremony status and seed."""
        state = ceremony.quarter_state(self.engine, quarter)
        return CeremonyStatus.of(state.quarter, state.ceremonies)

    # --- plan ------------------------------------------------------------------------------

    def plan(self, quarter: str, out: PathLike, *, seed: str | None = None,
             policy: PathLike | None = None, replace: bool = False,
             key: PathLike | None = None, engine: str = "python",
             created_at: str | None = None, progress: Progress | None = None) -> PlanResult:
        """Draw the quarter's enterprises and teams, store the plan, write its audit bundle.

        `seed`: default the seed the quarter's ceremony drew (another is refused after a
        freeze). `replace`: supersede the active plan of the same tasks. `key`: an Ed25519
        private key that signs manifest.json. `engine="sql"`: eligibility, tickets and
        draw order computed by the PostgreSQL server (the same plan, byte for byte).
        `created_at`: the manifest's timestamp (default: SOURCE_DATE_EPOCH, else now).
        The bundle appears at `out` only once the plan is committed.
        """
        if engine not in ("python", "sql"):
            raise SpotcheckError(f"unknown draw engine {engine!r}: python or sql")
        parsed, policy_bytes = load_policy(policy)
        request = PlanRequest(
            quarter=str(Quarter.parse(quarter)), out=Path(out), seed=seed, policy=parsed,
            policy_bytes=policy_bytes, replace=replace,
            signer=load_signer(key) if key else None, sql_draw=engine == "sql",
            created_at=created_at, actor=self.actor)
        return plan_and_store(self.engine, request, progress or Progress())

    # --- after the draw: results, substitutes, deadlines, publication (一公开) ----------------

    def results_import(self, file: PathLike, *, quarter: str | None = None,
                       today: date | None = None, sheet: str | None = None,
                       progress: Progress | None = None) -> ResultsImported:
        """Import inspection results (CSV in UTF-8/GB18030, or XLSX; Chinese or English headers).

        Refused whole, every bad row named, when a row names a pair no active plan drew (or
        only a superseded one), an unknown result code, `1` with another code, a date before
        the quarter or after `today`, an inspector neither on the team nor a recorded
        substitute, or a pair twice. `quarter` settles a task code used in several quarters.
        `sheet`: the worksheet of a workbook to import.
        """
        path, progress = Path(file), progress or Progress()
        check_input_file(path)
        source = {"file": path.name, "sha256": file_sha256(path, progress)}
        progress.stage("read and validate")
        records = read_results(path, sheet=sheet)
        progress.stage("store")
        stored = import_results(self.engine, records, file=str(path),
                                today=today or date.today(),
                                quarter=str(Quarter.parse(quarter)) if quarter else None,
                                actor=self.actor, source=source)
        progress.finish()
        return ResultsImported(path, source["sha256"], stored["rows"], stored["corrections"],
                               stored["event"])

    def results_status(self, quarter: str, *, calendar: PathLike | None = None,
                       today: date | None = None) -> ResultsStatus:
        """Return per task: drawn, results, published, due dates; `.ok` False when overdue."""
        return results_status(self.engine, quarter, WorkCalendar.from_file(calendar),
                              today or date.today())

    def publish_results(self, quarter: str, out: PathLike, *,
                        today: date | None = None) -> PublishedResults:
        """Write the quarter's unpublished results (CSV with BOM, XLSX) and record the date."""
        return publish_results(self.engine, quarter, Path(out), today or date.today(),
                               self.actor)

    def substitute(self, quarter: str, enterprise_id: str, department: str, replaced: str,
                   reason: str) -> Substitution:
        """Replace an officer of a visit's team by the lowest-cost lawful officer; log it."""
        return substitute(self.engine, quarter, enterprise_id, department, replaced, reason,
                          self.actor)

    # --- the outcome loop (DESIGN §11) --------------------------------------------------------

    def report(self, quarter: str, out: PathLike, *, quarters: int = 1,
               today: date | None = None, calendar: PathLike | None = None,
               public: bool = False, suggest_policy: PathLike | None = None,
               objective: str = "findings") -> ReportResult:
        """Write the quarter's outcome report: report.html, workbook.xlsx and report.json.

        Statistics pool the `quarters` ending with `quarter`; disturbance looks at the last
        four. `today` is the day deadlines are judged on (default: today). `public` writes
        only workbook-public.xlsx (DESIGN §10's columns). `suggest_policy` writes the advice
        of `objective` ("findings" or "precision") as a policy file to review.
        """
        return write_report(self.engine, quarter, Path(out), quarters=quarters,
                            today=today or date.today(),
                            calendar=WorkCalendar.from_file(calendar), public=public,
                            suggest_policy=Path(suggest_policy) if suggest_policy else None,
                            objective=objective)

    # --- the event log ---------------------------------------------------------------------

    def log(self, quarter: str | None = None) -> EventLog:
        """Return the hash-chained event log, or one quarter's events, oldest first."""
        events = eventlog.list_events(self.engine)
        name = str(Quarter.parse(quarter)) if quarter is not None else None
        if name is not None:
            events = [e for e in events if e.quarter == name]
        return EventLog(name, tuple(LoggedEvent.of(e) for e in events))

    def log_verify(self) -> LogCheck:
        """Check every link of the event log; name the first broken one."""
        events, broken = eventlog.check_log(self.engine)
        head = events[-1].hash if events else None
        return LogCheck(not broken, len(events), head, broken or None)
