"""Eligibility and draw-v1 order computed in PostgreSQL, where the registry lives (DESIGN §9).

Returns exactly what `scheduler.eligibility.strata_for_quarter` and
`scheduler.draw.order_strata` compute from the loaded registry: the same strata and, per
stratum, its eligible enterprises in (ticket, enterprise_id) order. Tickets are hashed by
the server (`encode(sha256(convert_to(…, 'UTF8')), 'hex')`, as in docs/AUDIT.md) and sorted
byte-wise (`COLLATE "C"`), so the server's language setting cannot change the order.
round-v1 targets stay in Python: they need exact fractions.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from spotcheck.errors import SpotcheckError
from spotcheck.models.policy import Policy, TaskPolicy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import PlannedVisit, Registry
from spotcheck.scheduler.draw import Ordering
from spotcheck.scheduler.eligibility import Cooldown, Stratum, check_tiers
from spotcheck.scheduler.hashes import DRAW
from spotcheck.scheduler.plan import Draws
from spotcheck.store.snapshot import registry_for
from spotcheck.store.transactions import reading

# One task's population: in scope, of a tier with a round this quarter. An enterprise is
# cooled when the tier has a cooldown and the history shows an inspection on or after the
# tier's threshold (of any task, or of this task, per cooldown_scope): the cooldown rule of
# scheduler.eligibility.Cooldown, which gives the thresholds and which task counts. Only
# eligible enterprises are hashed; the rows come out grouped by stratum, each in draw order.
# With an annual cap (scheduler.eligibility.AnnualCap) an enterprise is also cooled when its
# distinct (department, quarter) pairs of the year — from the history and from the year's
# other active plans (given as arrays) — reach its tier's cap.
_ANNUAL_CAP = """
         OR (r.cap IS NOT NULL AND (
           SELECT count(*) FROM (
             SELECT h.department, CAST(extract(quarter FROM h.inspected_on) AS integer)
             FROM inspection_history h
             WHERE h.enterprise_id = e.enterprise_id
               AND h.inspected_on >= CAST(:year_start AS date)
               AND h.inspected_on < CAST(:year_end AS date)
             UNION
             SELECT p.department, p.quarter FROM planned p
             WHERE p.enterprise_id = e.enterprise_id) AS pairs) >= r.cap)"""
_TASK_QUERY_TEXT = f"""
WITH rounds(tier, threshold, cap) AS (
  SELECT * FROM unnest(CAST(:tiers AS text[]), CAST(:thresholds AS date[]),
                       CAST(:caps AS integer[]))),
planned(enterprise_id, department, quarter) AS (
  SELECT * FROM unnest(CAST(:planned_ids AS text[]), CAST(:planned_departments AS text[]),
                       CAST(:planned_quarters AS integer[]))),
population AS MATERIALIZED (
  SELECT e.enterprise_id, e.tier, e.jurisdiction,
         (r.threshold IS NOT NULL AND EXISTS (
           SELECT 1 FROM inspection_history h
           WHERE h.enterprise_id = e.enterprise_id AND h.inspected_on >= r.threshold
             AND (:any_task OR h.task = :task))){{annual_cap}} AS cooled
  FROM enterprise e JOIN rounds r ON r.tier = e.tier
  WHERE (cardinality(CAST(:jurisdictions AS text[])) = 0
         OR EXISTS (SELECT 1 FROM unnest(CAST(:jurisdictions AS text[])) AS j(prefix)
                    WHERE starts_with(e.jurisdiction, j.prefix)))
    AND (cardinality(CAST(:industries AS text[])) = 0
         OR EXISTS (SELECT 1 FROM unnest(CAST(:industries AS text[])) AS i(prefix)
                    WHERE starts_with(coalesce(e.industry, ''), i.prefix)))),
hashed AS MATERIALIZED (
  SELECT p.tier, p.jurisdiction, p.enterprise_id, p.cooled,
         CASE WHEN p.cooled THEN NULL
              ELSE encode(sha256(convert_to('{DRAW}:' || :seed_hash || ':' || :quarter || ':'
                                            || :task || ':' || p.enterprise_id, 'UTF8')), 'hex')
         END AS ticket
  FROM population p)
SELECT tier, jurisdiction, enterprise_id, cooled, ticket
FROM hashed
ORDER BY tier COLLATE "C", jurisdiction COLLATE "C", cooled,
         ticket COLLATE "C", enterprise_id COLLATE "C"
"""
_TASK_QUERY = text(_TASK_QUERY_TEXT.format(annual_cap=""))
_TASK_QUERY_CAPPED = text(_TASK_QUERY_TEXT.format(annual_cap=_ANNUAL_CAP))


def _task_rows(conn: Connection, policy: Policy, quarter: Quarter, seed_hash: str,
               task: TaskPolicy, rounds: Sequence[str],
               planned: Sequence[PlannedVisit]) -> list[Any]:
    """Return the task's population rows (tier, jurisdiction, id, cooled, ticket) in order;
    `planned` are the year's other active plans' visits (for the annual cap)."""
    cooldowns = [Cooldown.of(policy, task.code, t, quarter) for t in rounds]
    caps = policy.annual_caps
    this_year = [p for p in planned if p.quarter.startswith(f"{quarter.year}Q")]
    return list(conn.execute(_TASK_QUERY_CAPPED if caps else _TASK_QUERY, {
        "tiers": list(rounds), "thresholds": [c.since for c in cooldowns],
        "caps": [caps.get(t) for t in rounds],
        "planned_ids": [p.enterprise_id for p in this_year],
        "planned_departments": [p.department for p in this_year],
        "planned_quarters": [int(p.quarter[-1]) for p in this_year],
        **({"year_start": date(quarter.year, 1, 1), "year_end": date(quarter.year + 1, 1, 1)}
           if caps else {}),
        # which task's inspections count depends on the task alone, not on the tier
        "any_task": cooldowns[0].task is None, "task": task.code,
        "jurisdictions": list(task.jurisdictions), "industries": list(task.industries),
        "seed_hash": seed_hash, "quarter": str(quarter)}).all())


def _task_strata(registry: Registry, task: str, rows: list[Any]
                 ) -> list[tuple[Stratum, Ordering]]:
    """Return the task's strata and their draw orders from its ordered population rows."""
    if not rows:
        return []
    tiers, jurisdictions, ids, cooled, tickets = zip(*rows, strict=True)
    found = registry.enterprises.index_of(np.array([i.encode() for i in ids], dtype="S18"))
    if (found < 0).any():
        raise SpotcheckError("the database changed while planning: an enterprise the SQL "
                             "draw found is not in the loaded registry")
    cooled_mask = np.array(cooled, dtype=bool)
    keys = list(zip(tiers, jurisdictions, strict=True))
    bounds = [0, *(i for i in range(1, len(keys)) if keys[i] != keys[i - 1]), len(keys)]
    result: list[tuple[Stratum, Ordering]] = []
    for start, stop in itertools.pairwise(bounds):
        members = found[start:stop]
        out = cooled_mask[start:stop]
        ordered = members[~out]  # eligible rows come first, already in draw order
        raw = bytes.fromhex("".join(t for t in tickets[start:stop] if t is not None))
        ordering = Ordering(ordered.astype(np.int64),
                            np.frombuffer(raw, dtype="S32").copy() if raw else
                            np.zeros(0, dtype="S32"))
        tier, jurisdiction = keys[start]
        stratum = Stratum(task, tier, jurisdiction, stop - start,
                          np.sort(ordered).astype(np.int64),
                          np.sort(members[out]).astype(np.int64))
        result.append((stratum, ordering))
    return result


def draws_in(conn: Connection, registry: Registry, policy: Policy, quarter: str | Quarter,
             seed_hash: str) -> Draws:
    """Return every stratum and its draw order, computed by PostgreSQL on `conn`.

    `registry` must be what the same transaction holds (see `load_registry_and_draws`): it
    maps enterprise ids to the rows the scheduler uses.
    """
    if conn.dialect.name != "postgresql":
        raise SpotcheckError(f"the SQL draw engine needs PostgreSQL, not {conn.dialect.name}")
    check_tiers(registry, policy)
    # compiling these per-row hashes costs the JIT more than it saves (~0.2 s a task)
    conn.exec_driver_sql("SET LOCAL jit = off")
    q = quarter if isinstance(quarter, Quarter) else Quarter.parse(quarter)
    rounds = [t for t in sorted(policy.tiers) if q.number in policy.tiers[t].quarters]
    found: list[tuple[Stratum, Ordering]] = []
    if rounds:
        for task in sorted(policy.tasks, key=lambda t: t.code):
            found += _task_strata(registry, task.code,
                                  _task_rows(conn, policy, q, seed_hash, task, rounds,
                                             registry.planned))
    # the Python path's order: task, tier (str order), jurisdiction (byte order)
    found.sort(key=lambda pair: (pair[0].task, pair[0].tier,
                                 pair[0].jurisdiction.encode()))
    return [s for s, _ in found], {s.key: o for s, o in found}


def load_registry_and_draws(engine: Engine, policy: Policy, quarter: str | Quarter,
                            seed_hash: str) -> tuple[Registry, Draws]:
    """Return the stored registry and its SQL-computed draws, read in one snapshot."""
    if engine.dialect.name != "postgresql":
        raise SpotcheckError("--engine sql needs a PostgreSQL database (this one is "
                             f"{engine.dialect.name}); use --engine python")
    with reading(engine) as conn:
        registry = registry_for(conn, policy, quarter)
        return registry, draws_in(conn, registry, policy, quarter, seed_hash)
