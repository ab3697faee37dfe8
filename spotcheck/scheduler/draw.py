"""round-v1 targets and floors, and draw-v1 tickets in bottom-k order (DESIGN §6)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spotcheck.models.policy import Policy
from spotcheck.models.registry import Registry
from spotcheck.scheduler.eligibility import Stratum
from spotcheck.scheduler.fasthash import digests
from spotcheck.scheduler.hashes import round_offset, ticket_prefix


@dataclass(frozen=True, slots=True)
class Target:
    """round-v1's target and floor of one stratum."""

    target: int
    floor: int


def stratum_target(stratum: Stratum, policy: Policy, seed_digest: str, quarter: str) -> Target:
    """Return round-v1's target and floor, computed in exact fractions."""
    tier = policy.tiers[stratum.tier]
    v = round_offset(seed_digest, quarter, stratum.task, stratum.tier, stratum.jurisdiction)
    eligible = len(stratum.eligible)
    target = min(eligible, math.floor(tier.exact_ratio * stratum.population + v))
    floor = min(target, math.floor(tier.exact_min_ratio * stratum.population + v))
    return Target(target, floor)


def task_tickets(registry: Registry, rows: np.ndarray, seed_digest: str, quarter: str,
                 task: str, *, workers: int = 1) -> np.ndarray:
    """Return the raw 32-byte draw-v1 tickets ('S32') of the given enterprise rows."""
    prefix = ticket_prefix(seed_digest, quarter, task)
    return digests(prefix, registry.enterprises.ids[rows], workers=workers)


def ticket_hex(tickets: np.ndarray) -> list[str]:
    """Return 'S32' tickets as 64-digit hex strings (trailing zero bytes kept)."""
    raw = np.ascontiguousarray(tickets, dtype="S32").view(np.uint8).reshape(-1, 32)
    return [bytes(row).hex() for row in raw]


@dataclass(frozen=True, eq=False)
class Ordering:
    """A stratum's eligible enterprises in draw order: smallest (ticket, enterprise_id) first."""

    rows: np.ndarray     # enterprise rows
    tickets: np.ndarray  # 'S32', aligned with rows


def draw_order(ids: np.ndarray, tickets: np.ndarray) -> np.ndarray:
    """Return the permutation sorting enterprises by (ticket, enterprise_id).

    `ids` must be ascending (rows of the id-sorted registry). The tickets' first eight
    bytes, read as a big-endian integer, order almost every pair; a stable sort keeps
    equal ones in id order, and runs sharing those eight bytes are then sorted by the whole
    ticket, so the result is exactly the string order draw-v1 defines.
    """
    raw = np.ascontiguousarray(tickets, dtype="S32").view(np.uint8).reshape(-1, 32)
    head = raw[:, :8].copy().view(">u8").ravel()
    order = np.argsort(head, kind="stable")
    same = np.flatnonzero(head[order][1:] == head[order][:-1])
    if len(same):
        starts = same[np.r_[True, np.diff(same) > 1]]
        for start in starts.tolist():
            stop = start + 1
            while stop < len(order) and head[order[stop]] == head[order[start]]:
                stop += 1
            run = order[start:stop].tolist()
            run.sort(key=lambda r: (bytes(raw[r]), bytes(ids[r])))
            order[start:stop] = run
    return order


def order_stratum(registry: Registry, stratum: Stratum,
                  tickets: np.ndarray) -> Ordering:
    """Return the stratum's eligible rows sorted by (ticket, enterprise_id)."""
    order = draw_order(registry.enterprises.ids[stratum.eligible], tickets)
    return Ordering(stratum.eligible[order], tickets[order])


def order_strata(registry: Registry, strata: list[Stratum], seed_digest: str,
                 quarter: str, *, workers: int = 1) -> dict[tuple[str, str, str], Ordering]:
    """Return each stratum's draw order, hashing each (task, enterprise) once."""
    orderings: dict[tuple[str, str, str], Ordering] = {}
    by_task: dict[str, list[Stratum]] = {}
    for stratum in strata:
        by_task.setdefault(stratum.task, []).append(stratum)
    for task in sorted(by_task):
        group = by_task[task]
        rows = np.concatenate([s.eligible for s in group]) if group else np.zeros(0, np.int64)
        tickets = task_tickets(registry, rows, seed_digest, quarter, task, workers=workers)
        start = 0
        for stratum in group:
            stop = start + len(stratum.eligible)
            orderings[stratum.key] = order_stratum(registry, stratum, tickets[start:stop])
            start = stop
    return orderings
