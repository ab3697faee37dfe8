"""Builds the outcome report's data from the database (DESIGN §11).

`collect_report` reads the active plans of the report's quarters, counts each stratum's
results and findings, estimates (spotcheck.outcomes), measures disturbance over the last
four quarters, works out the advice, and gathers the plan's tables for the workbook.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, replace
from datetime import date

from sqlalchemy import Engine

from spotcheck.errors import SpotcheckError
from spotcheck.formats.public import authority
from spotcheck.formats.report_data import (
    DeadlineSummary,
    DrawnEntry,
    OutcomeReport,
    PlanSummary,
    ResultEntry,
    StratumEntry,
    TeamEntry,
    TierInfo,
    WorkloadEntry,
)
from spotcheck.models.calendar import UnknownYearError, WorkCalendar
from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.results import labels
from spotcheck.outcomes.advice import AdviceCell, advise
from spotcheck.outcomes.disturbance import disturbance
from spotcheck.outcomes.estimates import StratumCounts
from spotcheck.outcomes.tables import (
    STATEMENTS,
    OutcomeRow,
    StratumOutcome,
    outcome_rows,
    row_of,
)
from spotcheck.store.disturbance import tier_visits
from spotcheck.store.outcomes import OutcomeRecords, outcome_records

WINDOW_QUARTERS = 4  # disturbance: the last four quarters (DESIGN §11)


def quarters_back(quarter: str, count: int) -> tuple[str, ...]:
    """Return the `count` quarters ending with `quarter`, oldest first."""
    q = Quarter.parse(quarter)
    index = q.year * 4 + q.number - 1
    return tuple(str(Quarter(i // 4, i % 4 + 1)) for i in range(index - count + 1, index + 1))


def _finding(policy: Policy, codes: tuple[str, ...]) -> bool:
    """Return whether any of the codes is a finding under the policy."""
    return any(policy.results[c].finding for c in codes if c in policy.results)


def _strata_outcomes(records: OutcomeRecords) -> list[StratumOutcome]:
    """Return every stratum with its drawn, results and findings counted from the draws."""
    results = {(r.plan_id, r.task, r.enterprise_id): r for r in records.results}
    tally: dict[tuple[str, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for d in records.draws:
        counts = tally[(d.plan_id, d.task, d.tier, d.jurisdiction)]
        counts[0] += 1
        result = results.get((d.plan_id, d.task, d.enterprise_id))
        if result is not None:
            counts[1] += 1
            counts[2] += _finding(records.plans[d.plan_id].policy, result.codes)
    outcomes = []
    for stored in records.strata:
        s = stored.row
        drawn, answered, found = tally.get((stored.plan_id, s.task, s.tier, s.jurisdiction),
                                           [0, 0, 0])
        outcomes.append(StratumOutcome(records.plans[stored.plan_id].quarter, s.task, s.tier,
                                       s.jurisdiction,
                                       StratumCounts(max(s.eligible, drawn), drawn, answered,
                                                     found)))
    return outcomes


def _results(records: OutcomeRecords, calendar: WorkCalendar, today: date
             ) -> tuple[list[ResultEntry], list[DeadlineSummary]]:
    """Return every drawn pair with its result and deadline status, and per task counts."""
    results = {(r.plan_id, r.task, r.enterprise_id): r for r in records.results}
    entries: list[ResultEntry] = []
    deadlines: dict[tuple[date, int], date | UnknownYearError] = {}

    def deadline(day: date, days: int) -> date:
        """Return the publication deadline (few distinct days: each is worked out once)."""
        if (day, days) not in deadlines:
            try:
                deadlines[(day, days)] = calendar.add_working_days(day, days)
            except UnknownYearError as exc:
                deadlines[(day, days)] = exc
        found = deadlines[(day, days)]
        if isinstance(found, UnknownYearError):
            raise found
        return found

    for d in sorted(records.draws, key=lambda d: (d.plan_id, d.task, d.enterprise_id)):
        plan = records.plans[d.plan_id]
        task = plan.policy.task(d.task)
        r = results.get((d.plan_id, d.task, d.enterprise_id))
        name = records.names.get(d.enterprise_id, "")
        if r is None:
            entries.append(ResultEntry(d.plan_id, plan.quarter, d.task, task.name,
                                       authority(plan.policy, task), d.enterprise_id, name,
                                       d.tier, None, (), "", None, "", (), 0, None, None,
                                       "missing"))
            continue
        due, status = None, "published"
        if r.published_on is None:
            try:
                due = deadline(r.completed_on, plan.policy.publish_within_working_days)
                status = "overdue" if due < today else "due"
            except UnknownYearError as exc:
                status = f"unknown:{exc.year}"
        entries.append(ResultEntry(
            d.plan_id, plan.quarter, d.task, task.name, authority(plan.policy, task),
            d.enterprise_id, name, d.tier, r.completed_on, r.codes,
            labels(r.codes, plan.policy.results), _finding(plan.policy, r.codes), r.remarks,
            r.inspectors, r.version, r.published_on, due, status))
    summaries = []
    for (plan_id, task_code), group in sorted(_by_task(entries).items()):
        counts = Counter(e.status.split(":")[0] for e in group)
        years = sorted({int(e.status.split(":")[1]) for e in group
                        if e.status.startswith("unknown:")})
        summaries.append(DeadlineSummary(
            plan_id, task_code, len(group), len(group) - counts["missing"],
            counts["published"], counts["due"], counts["overdue"], counts["unknown"],
            counts["missing"], tuple(years)))
    plain = [replace(e, status="unknown") if e.status.startswith("unknown:") else e
             for e in entries]
    return plain, summaries


def _by_task(entries: list[ResultEntry]) -> dict[tuple[str, str], list[ResultEntry]]:
    """Return the entries grouped by (plan, task)."""
    groups: dict[tuple[str, str], list[ResultEntry]] = defaultdict(list)
    for e in entries:
        groups[(e.plan_id, e.task)].append(e)
    return groups


def _plan_tables(records: OutcomeRecords) -> tuple[list[StratumEntry], list[DrawnEntry],
                                                   list[TeamEntry], list[WorkloadEntry]]:
    """Return the plan's strata, draws, teams and workload as the workbook's rows."""
    quarter_of = {p: plan.quarter for p, plan in records.plans.items()}
    strata = [StratumEntry(s.plan_id, quarter_of[s.plan_id], **asdict(s.row))
              for s in records.strata]
    drawn = [DrawnEntry(d.plan_id, quarter_of[d.plan_id], d.task, d.enterprise_id,
                        records.names.get(d.enterprise_id, ""), d.tier, d.jurisdiction, d.rank,
                        d.ticket) for d in records.draws]
    tasks_of: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for d in records.draws:
        department = records.plans[d.plan_id].policy.task(d.task).department
        tasks_of[(d.plan_id, d.enterprise_id, department)].append(d.task)
    officers = {o.inspector_id: o for o in records.officers}
    teams = [TeamEntry(t.plan_id, quarter_of[t.plan_id], t.enterprise_id,
                       records.names.get(t.enterprise_id, ""), t.department,
                       tuple(sorted(tasks_of[(t.plan_id, t.enterprise_id, t.department)])),
                       t.inspectors,
                       tuple(officers[i].name if i in officers else "" for i in t.inspectors),
                       tuple(f"{a}→{b}" for a, b in t.substitutions))
             for t in records.teams]
    load = Counter((quarter_of[t.plan_id], i) for t in records.teams for i in t.inspectors)
    workload = [WorkloadEntry(q, o.inspector_id, o.name, o.department, o.jurisdiction,
                              o.capacity, load.get((q, o.inspector_id), 0))
                for q in sorted(set(quarter_of.values())) for o in records.officers]
    return strata, drawn, teams, workload


def _advice_cells(records: OutcomeRecords, quarter: str, policy: Policy,
                  rows: tuple[OutcomeRow, ...]) -> list[AdviceCell]:
    """Return the quarter's task × tier cells with their pooled estimates."""
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for stored in records.strata:
        if records.plans[stored.plan_id].quarter == quarter:
            s = stored.row
            cell = sums[(s.task, s.tier)]
            cell[0] += s.population
            cell[1] += s.eligible
            cell[2] += s.drawn
    cells = []
    for (task, tier), (population, eligible, drawn) in sorted(sums.items()):
        row = row_of(rows, "task_tier", task=task, tier=tier)
        estimate = row.estimate if row else None
        rate = estimate.rate if estimate else None
        se = estimate.se if estimate else None
        cells.append(AdviceCell(task, policy.task(task).department, tier, population,
                                eligible, drawn, estimate.with_result if estimate else 0, rate,
                                se * se if se is not None else None))
    return cells


def collect_report(engine: Engine, quarter: str, quarters: int, calendar: WorkCalendar,
                   today: date) -> OutcomeReport:
    """Return the outcome report of `quarter` (statistics over the `quarters` ending with it)."""
    name = str(Quarter.parse(quarter))
    if quarters < 1:
        raise SpotcheckError("--quarters: at least 1")
    covered = quarters_back(name, quarters)
    records = outcome_records(engine, covered)
    mine = sorted(p for p, plan in records.plans.items() if plan.quarter == name)
    if not mine:
        raise SpotcheckError(f"{name} has no active plan: run `spotcheck plan --quarter {name}`")
    policy = records.plans[mine[0]].policy
    notes: list[str] = []
    if any(records.plans[p].policy != policy for p in mine):
        notes.append(f"the plans of {name} use different policies; tiers and advice follow "
                     f"plan {mine[0]}'s")
    tier_order = sorted(policy.tiers, key=lambda t: policy.tiers[t].priority)
    rows = outcome_rows(_strata_outcomes(records), tier_order)
    window = quarters_back(name, WINDOW_QUARTERS)
    start, end = Quarter.parse(window[0]).start, Quarter.parse(name).end
    visits, scope = tier_visits(engine, start, end, window, policy)
    results, deadlines = _results(records, calendar, today)
    strata, drawn, teams, workload = _plan_tables(records)
    enterprises = {v.tier: v.enterprises for v in visits}
    advice = advise(policy, _advice_cells(records, name, policy, rows), scope, enterprises)
    tasks = {t.code: t.name for p in records.plans.values() for t in p.policy.tasks}
    return OutcomeReport(
        quarter=name, quarters=covered, today=today, policy_name=policy.name,
        plans=tuple(PlanSummary(p, records.plans[p].quarter,
                                str(records.plans[p].manifest.get("seed", "")),
                                tuple(sorted(t.code for t in records.plans[p].policy.tasks)))
                    for p in sorted(records.plans)),
        tiers=tuple(TierInfo(t, policy.tiers[t].label, policy.tiers[t].ratio,
                             policy.tiers[t].min_ratio, len(policy.tiers[t].quarters),
                             policy.tiers[t].priority) for t in tier_order),
        tasks=dict(sorted(tasks.items())), statements=dict(STATEMENTS), estimates=rows,
        disturbance=disturbance(policy, visits, scope), window=(start, end), advice=advice,
        deadlines=tuple(deadlines),
        shortfalls=tuple(s for s in strata if s.drawn < s.target), notes=tuple(notes),
        strata=tuple(strata), drawn=tuple(drawn), teams=tuple(teams),
        workload=tuple(workload), results=tuple(results))
