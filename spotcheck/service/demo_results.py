"""`spotcheck demo --with-results`: the synthetic city through a whole quarter, in a database.

The synthetic city is imported, planned and stored like a bureau's registry; inspection
results are then simulated from planted per-tier finding rates and go through the same
`results import` and `publish results` a bureau runs, so `spotcheck report` has a quarter to
show. Everything is fixed: the city, the seed, the planted rates, and the days (results are
entered as of DEMO_TODAY, a first batch published on DEMO_PUBLISHED); each random choice is
a SHA-256 of what it decides (`outcomes.simulation`), never numpy's Generator.

The demo refuses a database holding anything it did not put there itself.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np

from spotcheck.audit.verify import verify_bundle
from spotcheck.demo import DEMO_QUARTER, DEMO_SEED, synthetic_city
from spotcheck.errors import SpotcheckError
from spotcheck.formats.bundle import read_bundle
from spotcheck.formats.public import public_plan, write_public
from spotcheck.formats.spreadsheet import csv_for_people
from spotcheck.outcomes.simulation import planted, uniform_words
from spotcheck.scheduler.plan import Plan
from spotcheck.service.outcomes import publish_results
from spotcheck.service.progress import Progress
from spotcheck.service.results import DemoOutcomes, DemoResult
from spotcheck.service.workspace import Workspace
from spotcheck.store.eventlog import list_events
from spotcheck.store.imports import (
    import_conflicts,
    import_enterprises,
    import_history,
    import_inspectors,
)
from spotcheck.store.results import current_results
from spotcheck.store.transactions import reading

DEMO_ACTOR = "spotcheck-demo"
DEMO_TODAY = date(2026, 12, 4)        # results entered up to this day
DEMO_FIRST_BATCH = date(2026, 11, 10)  # the first results file, entered on this day
DEMO_PUBLISHED = date(2026, 11, 13)    # ... and published on this one
FIRST_DAY, LAST_DAY = date(2026, 10, 9), date(2026, 12, 3)  # inspections, Monday to Friday
# Planted finding rates: what an inspection of a tier would find, before the factors below.
PLANTED_RATES = {"A": "0.04", "B": "0.09", "C": "0.20", "D": "0.38"}
TASK_FACTORS = {"GS-QY": Fraction(1), "SP-JY": Fraction(5, 4), "TZ-SB": Fraction(4, 5)}
DISTRICT_FACTORS = {"330114": Fraction(3, 2)}  # 钱塘: grew fast, and it shows
ENTERED, LATE = Fraction(9, 10), Fraction(1, 25)  # share entered; share entered late
FINDING_CODES = (("A", 40), ("E", 25), ("B", 15), ("6", 10), ("C", 5), ("8", 5))
CLEAN_CODES = (("1", 88), ("F", 6), ("7", 4), ("9", 2))
HEADER = ("统一社会信用代码", "抽查任务编号", "检查完成日期", "检查结果", "备注", "实际检查人员")


def planted_rate(task: str, tier: str, jurisdiction: str) -> float:
    """Return the planted finding rate of a task, tier and district (at most 0.95)."""
    rate = (Fraction(PLANTED_RATES.get(tier, "0.1")) * TASK_FACTORS.get(task, Fraction(1))
            * DISTRICT_FACTORS.get(jurisdiction, Fraction(1)))
    return float(min(rate, Fraction(19, 20)))


def _require_demo_database(ws: Workspace) -> None:
    """Refuse a database with events by anyone but the demo."""
    strangers = sorted({e.actor for e in list_events(ws.engine) if e.actor != DEMO_ACTOR})
    if strangers:
        raise SpotcheckError(
            f"{ws.url} holds data the demo did not put there (events by "
            f"{', '.join(strangers[:3])}); --with-results imports a synthetic city, so give "
            "it a database of its own, e.g. --db sqlite:///spotcheck-demo.db")


def _store_city(ws: Workspace, enterprises: int) -> None:
    """Import the synthetic city as the demo (snapshots replace, appends append)."""
    registry = synthetic_city(enterprises)
    source = {"file": f"synthetic city of {enterprises:,} enterprises (spotcheck demo)"}
    import_enterprises(ws.engine, registry.enterprises, actor=DEMO_ACTOR, source=source)
    import_inspectors(ws.engine, registry.inspectors, actor=DEMO_ACTOR, source=source)
    import_conflicts(ws.engine, registry.conflicts, actor=DEMO_ACTOR, source=source)
    import_history(ws.engine, registry.history.records(), actor=DEMO_ACTOR, source=source)


def _pick(words: np.ndarray, table: tuple[tuple[str, int], ...]) -> list[str]:
    """Return, per 64-bit word, the code its weighted share falls in."""
    total = sum(w for _, w in table)
    bounds = np.cumsum([w for _, w in table]) * ((1 << 64) // total)
    return [table[min(i, len(table) - 1)][0]
            for i in np.searchsorted(bounds, words, side="right").tolist()]


def simulated_rows(plan: Plan) -> dict[date, list[tuple[str, ...]]]:
    """Return the simulated results rows of a plan, by the day each batch is entered.

    A visit (enterprise, department) is done on one weekday and entered whole or not at all;
    each task of it finds a problem at its planted rate.
    """
    department = {t.code: t.department for t in plan.policy.tasks}
    teams: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in plan.assignments:
        teams[(a.enterprise_id, a.department)].append(a.inspector_id)
    days = [FIRST_DAY + timedelta(d) for d in range((LAST_DAY - FIRST_DAY).days + 1)
            if (FIRST_DAY + timedelta(d)).weekday() < 5]
    draws = sorted(plan.draws, key=lambda d: (d.task, d.enterprise_id))
    visits = [f"{d.enterprise_id}:{department[d.task]}" for d in draws]
    keys = [f"{d.task}:{d.enterprise_id}" for d in draws]
    day_of = uniform_words(f"demo-day:{plan.seed_hash}", visits) % np.uint64(len(days))
    entered = uniform_words(f"demo-entered:{plan.seed_hash}", visits)
    found = planted(f"demo-finding:{plan.seed_hash}", keys,
                    [planted_rate(d.task, d.tier, d.jurisdiction) for d in draws])
    codes = uniform_words(f"demo-code:{plan.seed_hash}", keys)
    finding_codes, clean_codes = _pick(codes, FINDING_CODES), _pick(codes, CLEAN_CODES)
    batches: dict[date, list[tuple[str, ...]]] = defaultdict(list)
    for i, d in enumerate(draws):
        share = Fraction(int(entered[i]), 1 << 64)
        if share >= ENTERED:
            continue  # not entered yet: a missing result
        day = days[int(day_of[i])]
        batch = DEMO_FIRST_BATCH if day < DEMO_FIRST_BATCH - timedelta(3) and \
            share >= LATE else DEMO_TODAY
        code = finding_codes[i] if found[i] else clean_codes[i]
        remark = "责令限期改正" if code == "A" else ""
        team = ";".join(sorted(teams[(d.enterprise_id, department[d.task])]))
        batches[batch].append((d.enterprise_id, d.task, day.isoformat(), code, remark, team))
    return dict(sorted(batches.items()))


def simulate_results(ws: Workspace, plan: Plan, plan_id: str, folder: Path,
                     public: Path) -> tuple[int, int, tuple[Path, ...]]:
    """Import the simulated results batch by batch, publish the first; return how many
    results were stored and published, and the results files written."""
    with reading(ws.engine) as conn:
        if current_results(conn, [plan_id]):
            return 0, 0, ()  # the demo ran on this database before: keep what is there
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    stored, published, files = 0, 0, []
    for day, rows in simulated_rows(plan).items():
        file = folder / f"results-{day.isoformat()}.csv"
        file.write_bytes(csv_for_people(HEADER, rows))
        files.append(file)
        stored += ws.results_import(file, quarter=DEMO_QUARTER, today=day).rows
        if day == DEMO_FIRST_BATCH:
            published += publish_results(ws.engine, DEMO_QUARTER, public, DEMO_PUBLISHED,
                                         DEMO_ACTOR).rows
    return stored, published, tuple(files)


def demo_notice(bundle: Path) -> Path:
    """Write the plan notice and drawn list of the demo's bundle into BUNDLE-public (replaced:
    it is the demo's own notice of its last run); return the folder."""
    public = bundle.with_name(f"{bundle.name}-public")
    shutil.rmtree(public, ignore_errors=True)
    write_public(public_plan(read_bundle(bundle), bundle).files(), public)
    return public


def demo_with_results(out: Path, enterprises: int, db: str | None,
                      progress: Progress) -> DemoResult:
    """Store the synthetic city in `db`, plan and verify the demo quarter there, publish its
    notice, and simulate, import and partly publish its results."""
    ws = Workspace(db, actor=DEMO_ACTOR)
    _require_demo_database(ws)
    progress.stage("synthetic city")
    _store_city(ws, enterprises)
    if out.exists() and (out / "manifest.json").exists():
        shutil.rmtree(out)
    planned = ws.plan(DEMO_QUARTER, out, seed=DEMO_SEED, replace=True, progress=progress)
    verification = verify_bundle(planned.out, on_stage=progress.stages("verify"))
    public = demo_notice(planned.out)
    progress.stage("results")
    stored, published, files = simulate_results(ws, planned.plan, planned.plan_id,
                                                out.with_name(f"{out.name}-results"), public)
    with reading(ws.engine) as conn:
        entered = len(current_results(conn, [planned.plan_id]))
    progress.finish()
    command = (f"spotcheck --db {ws.url} report --quarter {DEMO_QUARTER} --as-of "
               f"{DEMO_TODAY.isoformat()} --out {out.name}-report")
    outcomes = DemoOutcomes(ws.url, planned.plan_id, DEMO_TODAY, stored, published,
                            len(planned.plan.draws) - entered, files, command)
    return DemoResult(enterprises, DEMO_QUARTER, DEMO_SEED, planned.out, public, verification,
                      planned.plan, planned.registry, outcomes, capacity=planned.capacity)
