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
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from spotcheck.errors import SpotcheckError
from spotcheck.models.policy import Policy, TaskPolicy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.draw import Ordering
from spotcheck.scheduler.eligibility import Cooldown, Stratum, check_tiers
from spotcheck.scheduler.hashes import DRAW
from spotcheck.scheduler.plan import Draws
from spotcheck.store.snapshot import registry_in
from spotcheck.store.transactions import reading

# One task's population: in scope, of a tier with a round this quarter. An enterprise is
# cooled when the tier has a cooldown and the history shows an inspection on or after the
# tier's threshold (of any task, or of this task, per cooldown_scope): the cooldown rule of
# scheduler.eligibility.Cooldown, which gives the thresholds and which task counts. Only
# eligible enterprises are hashed; the rows come out grouped by stratum, each in draw order.
_TASK_QUERY = text(f"""
WITH rounds(tier, threshold) AS (
  SELECT * FROM unnest(CAST(:tiers AS text[]), CAST(:thresholds AS date[]))),
population AS MATERIALIZED (
  SELECT e.enterprise_id, e.tier, e.jurisdiction,
         r.threshold IS NOT NULL AND EXISTS (
           SELECT 1 FROM inspection_history h
           WHERE h.enterprise_id = e.enterprise_id AND h.inspected_on >= r.threshold
             AND (:any_task OR h.task = :task)) AS cooled
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
""")


def _task_rows(conn: Connection, policy: Policy, quarter: Quarter, seed_hash: str,
               task: TaskPolicy, rounds: Sequence[str]) -> list[Any]:
    """Return the task's population rows (tier, jurisdiction, id, cooled, ticket) in order."""
    cooldowns = [Cooldown.of(policy, task.code, t, quarter) for t in rounds]
    return list(conn.execute(_TASK_QUERY, {
        "tiers": list(rounds), "thresholds": [c.since for c in cooldowns],
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
                                  _task_rows(conn, policy, q, seed_hash, task, rounds))
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
        registry = registry_in(conn)
        return registry, draws_in(conn, registry, policy, quarter, seed_hash)
