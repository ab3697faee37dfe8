"""Eligibility: strata of each task, their populations, and who the cooldown rule excludes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from spotcheck.errors import InvalidInputError, RowProblem
from spotcheck.models.policy import Policy, TaskPolicy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry


@dataclass(frozen=True, eq=False)
class Stratum:
    """One (task, tier, jurisdiction) stratum with a round in the quarter."""

    task: str
    tier: str
    jurisdiction: str
    population: int
    eligible: np.ndarray         # enterprise rows, ascending
    excluded: np.ndarray         # enterprise rows the cooldown rule excludes, ascending

    @property
    def key(self) -> tuple[str, str, str]:
        """Return (task, tier, jurisdiction)."""
        return (self.task, self.tier, self.jurisdiction)


def check_tiers(registry: Registry, policy: Policy) -> None:
    """Raise naming the enterprises whose tier the policy does not define."""
    tiers = registry.enterprises.tiers
    known = np.array([t.encode() for t in policy.tiers], dtype="S16")
    unknown = np.flatnonzero(~np.isin(tiers, known))
    if len(unknown):
        problems = [RowProblem("enterprises", None, "tier", tiers[i].decode(),
                               f"enterprise {registry.enterprises.ids[i].decode()} has a tier "
                               f"the policy does not define (policy tiers: "
                               f"{', '.join(sorted(policy.tiers))})")
                    for i in unknown[:50]]
        raise InvalidInputError(problems, headline=f"{len(unknown)} enterprise(s) have an "
                                "undefined tier")


def scope_mask(registry: Registry, task: TaskPolicy) -> np.ndarray:
    """Return which enterprises are in the task's jurisdiction and industry scope."""
    ent = registry.enterprises
    mask = np.ones(len(ent), dtype=bool)
    if task.jurisdictions:
        jur = np.zeros(len(ent), dtype=bool)
        for prefix in task.jurisdictions:
            jur |= np.char.startswith(ent.jurisdictions, prefix.encode())
        mask &= jur
    if task.industries:
        ind = np.zeros(len(ent), dtype=bool)
        for prefix in task.industries:
            ind |= np.char.startswith(ent.industries, prefix.encode())
        mask &= ind
    return mask


def last_inspected(registry: Registry, task: str | None) -> np.ndarray:
    """Return, per enterprise row, its latest recorded inspection (of `task` if given), or NaT."""
    history = registry.history
    latest = np.full(len(registry.enterprises), np.datetime64("NaT"), dtype="datetime64[D]")
    if len(history) == 0:
        return latest
    select = np.ones(len(history), dtype=bool) if task is None else history.tasks == task
    rows = registry.enterprises.index_of(history.enterprise_ids[select])
    dates = history.dates[select]
    known = rows >= 0
    rows, dates = rows[known], dates[known]
    order = np.lexsort((dates, rows))
    rows, dates = rows[order], dates[order]
    last = np.r_[rows[1:] != rows[:-1], True] if len(rows) else np.zeros(0, dtype=bool)
    latest[rows[last]] = dates[last]
    return latest


def _place_codes(jurisdictions: np.ndarray) -> np.ndarray:
    """Return each 6-digit jurisdiction as an integer (same order as the strings)."""
    digits = np.ascontiguousarray(jurisdictions, dtype="S6").view(np.uint8).reshape(-1, 6)
    return (digits.astype(np.int64) - ord("0")) @ (10 ** np.arange(5, -1, -1, dtype=np.int64))


def strata_for_quarter(registry: Registry, policy: Policy, quarter: Quarter) -> list[Stratum]:
    """Return every stratum with a round this quarter, sorted by (task, tier, jurisdiction)."""
    check_tiers(registry, policy)
    ent = registry.enterprises
    rounds = [t for t in sorted(policy.tiers) if quarter.number in policy.tiers[t].quarters]
    any_latest = last_inspected(registry, None) if policy.cooldown_scope == "any" else None
    # One integer per enterprise orders it by (tier, jurisdiction): the tier's rank among
    # the tiers with a round (-1 for the others), then the 6-digit code as a number.
    tier_rank = np.full(len(ent), -1, dtype=np.int64)
    for rank, tier in enumerate(rounds):
        tier_rank[ent.tiers == tier.encode()] = rank
    stratum_code = tier_rank * 1_000_000 + _place_codes(ent.jurisdictions)
    thresholds = {tier: np.datetime64(quarter.months_before_start(
        policy.tiers[tier].cooldown_months), "D") for tier in rounds
        if policy.tiers[tier].cooldown_months > 0}
    strata: list[Stratum] = []
    for task in sorted(policy.tasks, key=lambda t: t.code):
        latest = any_latest if any_latest is not None else last_inspected(registry, task.code)
        rows = np.flatnonzero(scope_mask(registry, task) & (tier_rank >= 0))
        if len(rows) == 0:
            continue
        codes = stratum_code[rows]
        order = np.argsort(codes, kind="stable")  # rows stay ascending within a stratum
        rows, codes = rows[order], codes[order]
        bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
        for start, stop in itertools.pairwise(bounds.tolist()):
            members = rows[start:stop]
            tier = rounds[int(codes[start]) // 1_000_000]
            if tier in thresholds:
                out = latest[members] >= thresholds[tier]  # NaT compares False
            else:
                out = np.zeros(len(members), dtype=bool)
            strata.append(Stratum(task.code, tier, ent.jurisdictions[members[0]].decode(),
                                  len(members), members[~out], members[out]))
    return strata
