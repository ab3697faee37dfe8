"""After the draw (一公开): results in, their deadlines, and their publication.

`results_status` says per task what was drawn, what has a result, what is published, and
when each unpublished result is due: `publish_within_working_days` (default 20) working days
after its completion date, by the State Council's schedule with 调休 make-up days
(`models.calendar`). `publish_results` writes the results due for publication in DESIGN
§10's fields and records the date; a correction published later is a new publication.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select

from spotcheck.errors import SpotcheckError
from spotcheck.formats.public import RESULT_COLUMNS, authority
from spotcheck.formats.spreadsheet import Sheet, csv_for_people, xlsx_bytes
from spotcheck.models.calendar import WorkCalendar
from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.results import labels
from spotcheck.service.results import JsonResult
from spotcheck.store.results import (
    CurrentResult,
    StoredPlan,
    current_results,
    drawn_pairs,
    quarter_plans,
    record_publication,
)
from spotcheck.store.sql import ENTERPRISE
from spotcheck.store.transactions import reading


@dataclass(frozen=True)
class DueResult(JsonResult):
    """An entered result not yet published, and its deadline."""

    task: str
    enterprise_id: str
    completed_on: date
    due_on: date
    overdue: bool


@dataclass(frozen=True)
class TaskStatus(JsonResult):
    """One task's progress from draw to publication."""

    plan_id: str
    task: str
    drawn: int
    with_result: int
    published: int
    unpublished: tuple[DueResult, ...]  # overdue first, then by due date
    missing_after_quarter: tuple[str, ...]  # drawn, no result, and the quarter has ended


@dataclass(frozen=True)
class ResultsStatus(JsonResult):
    """`results status`: every task of the quarter's active plans; ok unless overdue."""

    quarter: str
    today: date
    tasks: tuple[TaskStatus, ...]

    @property
    def ok(self) -> bool:
        """Return False when any result is past its publication deadline."""
        return not any(d.overdue for t in self.tasks for d in t.unpublished)

    def lines(self) -> list[str]:
        """Return the status for a planner, task by task, overdue results first."""
        lines = [f"results of {self.quarter} on {self.today.isoformat()}"]
        for t in self.tasks:
            lines.append(f"  {t.task} (plan {t.plan_id}): drawn {t.drawn}, results "
                         f"{t.with_result}, published {t.published}")
            lines += [f"    {'OVERDUE' if d.overdue else 'due'} {d.due_on.isoformat()}: "
                      f"{d.enterprise_id} (completed {d.completed_on.isoformat()})"
                      for d in t.unpublished]
            missing = t.missing_after_quarter
            if missing:
                more = ", …" if len(missing) > 5 else ""
                lines.append(f"    no result after the quarter ended: {len(missing)} "
                             f"({', '.join(missing[:5])}{more})")
        overdue = sum(d.overdue for t in self.tasks for d in t.unpublished)
        lines.append(f"OVERDUE: {overdue} result(s) past the publication deadline" if overdue
                     else "nothing overdue")
        return lines


def _active_plans(engine: Engine, quarter: str) -> tuple[str, dict[str, StoredPlan]]:
    """Return the quarter's name and its active plans, refusing a quarter with none."""
    name = str(Quarter.parse(quarter))
    plans = quarter_plans(engine, name)
    if not plans:
        raise SpotcheckError(f"{name} has no active plan: run `spotcheck plan --quarter {name}`")
    return name, plans


def results_status(engine: Engine, quarter: str, calendar: WorkCalendar,
                   today: date) -> ResultsStatus:
    """Return the quarter's results status: drawn, entered, published, due and overdue."""
    name, plans = _active_plans(engine, quarter)
    with reading(engine) as conn:
        pairs = drawn_pairs(conn, sorted(plans))
        results = current_results(conn, sorted(plans))
    by_pair = {(r.plan_id, r.task, r.enterprise_id): r for r in results}
    ended = today > Quarter.parse(name).end
    tasks = []
    for plan_id, task in sorted({(p, t) for p, t, _ in pairs}):
        within = [e for p, t, e in pairs if (p, t) == (plan_id, task)]
        entered = [by_pair[(plan_id, task, e)] for e in within if (plan_id, task, e) in by_pair]
        days = plans[plan_id].policy.publish_within_working_days
        due = [DueResult(r.task, r.enterprise_id, r.completed_on,
                         calendar.add_working_days(r.completed_on, days), False)
               for r in entered if r.published_on is None]
        due = sorted((DueResult(d.task, d.enterprise_id, d.completed_on, d.due_on,
                                d.due_on < today) for d in due),
                     key=lambda d: (not d.overdue, d.due_on, d.enterprise_id))
        missing = tuple(e for e in within if (plan_id, task, e) not in by_pair) if ended else ()
        tasks.append(TaskStatus(plan_id, task, len(within), len(entered),
                                sum(r.published_on is not None for r in entered), tuple(due),
                                missing))
    return ResultsStatus(name, today, tuple(tasks))


@dataclass(frozen=True)
class PublishedResults(JsonResult):
    """`publish results`: the files written and the rows they publish."""

    quarter: str
    published_on: date
    out: Path
    files: tuple[Path, ...]
    rows: int
    corrections: int
    event: int


def publish_results(engine: Engine, quarter: str, out: Path, today: date,
                    actor: str | None) -> PublishedResults:
    """Write the quarter's results not yet published (§10 fields) and record the publication."""
    name, plans = _active_plans(engine, quarter)
    with reading(engine) as conn:
        results = current_results(conn, sorted(plans))
        due = [r for r in results if r.published_on is None]
        ids = sorted({r.enterprise_id for r in due})
        names = {str(i): str(n) for i, n in conn.execute(
            select(ENTERPRISE.c.enterprise_id, ENTERPRISE.c.name)
            .where(ENTERPRISE.c.enterprise_id.in_(ids)))}
    if not due:
        raise SpotcheckError(f"{name}: no result is waiting to be published")
    rows = [_published_row(r, plans[r.plan_id].policy, names) for r in due]
    stem = f"results_{name}_{today.isoformat()}"
    files = {f"{stem}.csv": csv_for_people(RESULT_COLUMNS, rows),
             f"{stem}.xlsx": xlsx_bytes([Sheet("抽查结果公示", RESULT_COLUMNS, rows,
                                               (22, 14, 24, 24, 22, 36, 14, 30, 40))])}
    out.mkdir(parents=True, exist_ok=True)
    clashes = sorted(f for f in files if (out / f).exists())
    if clashes:
        raise SpotcheckError(f"{out}: already holds {', '.join(clashes)}; a publication is "
                             "never overwritten (publish corrections on another day or folder)")
    # Files first, then the record: a failed record takes the files back, so a result is
    # never marked published without its file, nor a file left that was never recorded.
    for file, data in files.items():
        (out / file).write_bytes(data)
    try:
        event = record_publication(engine, name, today, due, actor)
    except BaseException:
        for file in files:
            (out / file).unlink(missing_ok=True)
        raise
    corrections = Counter(r.version > 1 for r in due)[True]
    return PublishedResults(name, today, out, tuple(out / f for f in sorted(files)), len(rows),
                            corrections, event)


def _published_row(result: CurrentResult, policy: Policy, names: dict[str, str]
                   ) -> tuple[str, ...]:
    task = policy.task(result.task)
    return (result.plan_id, task.code, task.name, authority(policy, task), result.enterprise_id,
            names.get(result.enterprise_id, ""), result.completed_on.isoformat(),
            labels(result.codes, policy.results), result.remarks)
