"""Eligibility: strata of each task, their populations, and who the cooldown rule excludes.

The cooldown rule of DESIGN §6 is written here once, for every Python caller (the plan and
`spotcheck explain`): `Cooldown`. An enterprise is not eligible for a task in a quarter when
the history records an inspection of it on or after (quarter start − tier.cooldown_months),
counting any task's inspections when cooldown_scope is "any" and only the same task's when it
is "task"; cooldown_months = 0 excludes nobody. The rule has two other implementations on
purpose, PostgreSQL's (`store.sql_draw`) and the auditor's standard-library script
(docs/verify_draws.py); tests/test_sql_engine.py and tests/test_audit_tools.py check that
both agree with this one.

The annual cap (policy `tiers.X.annual_cap`, 国办发〔2024〕54号) lives here too, beside the
cooldown: `AnnualCap`. An inspection, for the cap, is one department's visit to the
enterprise in one quarter — a (department, quarter) pair — whether the history records it
(by the quarter of its date, within the calendar year of the planned quarter) or another
active plan of that year has it as a visit (the registry's `planned`); the same pair from
both counts once. An enterprise whose pairs already reach its tier's cap is not eligible for
any task (recorded in capped.csv). Within the plan, allocation asks `AnnualCap.blocks` before
opening a visit of a new department (docs/ALLOCATION.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Set
from dataclasses import dataclass
from datetime import date

import numpy as np

from spotcheck.errors import InvalidInputError, RowProblem
from spotcheck.models.policy import Policy, TaskPolicy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import HistoryColumns, Registry


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


def counted(history: HistoryColumns, task: str | None) -> np.ndarray:
    """Return which history rows count toward a cooldown: every row when `task` is None,
    else only that task's."""
    if task is None:
        return np.ones(len(history), dtype=bool)
    return np.asarray(history.tasks == task, dtype=bool)


def last_inspected(registry: Registry, task: str | None) -> np.ndarray:
    """Return, per enterprise row, its latest recorded inspection (of `task` if given), or NaT."""
    history = registry.history
    latest = np.full(len(registry.enterprises), np.datetime64("NaT"), dtype="datetime64[D]")
    if len(history) == 0:
        return latest
    select = counted(history, task)
    rows = registry.enterprises.index_of(history.enterprise_ids[select])
    dates = history.dates[select]
    known = rows >= 0
    rows, dates = rows[known], dates[known]
    order = np.lexsort((dates, rows))
    rows, dates = rows[order], dates[order]
    last = np.r_[rows[1:] != rows[:-1], True] if len(rows) else np.zeros(0, dtype=bool)
    latest[rows[last]] = dates[last]
    return latest


class LatestInspections:
    """Each enterprise's latest counted inspection, computed once per counted task."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._latest: dict[str | None, np.ndarray] = {}

    def of(self, task: str | None) -> np.ndarray:
        """Return last_inspected(registry, task), computing it on first use."""
        if task not in self._latest:
            self._latest[task] = last_inspected(self._registry, task)
        return self._latest[task]


@dataclass(frozen=True, slots=True)
class Cooldown:
    """The cooldown rule (DESIGN §6) for one task and tier in one quarter."""

    months: int             # the tier's cooldown_months
    since: date | None      # quarter start − months; None when months = 0: nobody is excluded
    task: str | None        # whose inspections count: this task's, or None for any task's

    @classmethod
    def of(cls, policy: Policy, task: str, tier: str, quarter: Quarter) -> Cooldown:
        """Return the rule for `task` and `tier` in `quarter` under the policy."""
        months = policy.tiers[tier].cooldown_months
        return cls(months, quarter.months_before_start(months) if months > 0 else None,
                   task if policy.cooldown_scope == "task" else None)

    def excludes(self, rows: np.ndarray, inspected: LatestInspections) -> np.ndarray:
        """Return, per enterprise row, whether it was inspected within the cooldown: a counted
        inspection on or after `since`."""
        if self.since is None:
            return np.zeros(len(rows), dtype=bool)
        return np.asarray(inspected.of(self.task)[rows] >= np.datetime64(self.since, "D"),
                          dtype=bool)  # NaT (never inspected) compares False


@dataclass(frozen=True, slots=True, order=True)
class CapRow:
    """An enterprise the annual cap leaves out of every stratum this quarter (capped.csv)."""

    enterprise_id: str
    tier: str
    cap: int
    used: int
    inspections: str  # the (department quarter) pairs that count, '; '-joined


class AnnualCap:
    """The annual cap (policy tiers.X.annual_cap) in one quarter: each enterprise's
    inspections of the quarter's calendar year so far, as distinct (department, quarter)
    pairs of its history and of the year's other active plans."""

    def __init__(self, registry: Registry, policy: Policy, quarter: Quarter) -> None:
        ent = registry.enterprises
        self.quarter = quarter
        self.caps = np.full(len(ent), -1, dtype=np.int64)  # -1: the tier has no cap
        for tier, cap in policy.annual_caps.items():
            self.caps[ent.tiers == tier.encode()] = cap
        history = registry.history
        year = history.dates.astype("datetime64[Y]").astype(np.int64) + 1970
        months = history.dates.astype("datetime64[M]").astype(np.int64) % 12
        in_year = year == quarter.year
        planned = [p for p in registry.planned if p.quarter.startswith(f"{quarter.year}Q")]
        departments = sorted({*history.departments[in_year].tolist(),
                              *(p.department for p in planned)})
        self._departments = departments
        code = {d: k for k, d in enumerate(departments)}
        width = 4 * max(1, len(departments))
        rows = np.concatenate([
            ent.index_of(history.enterprise_ids[in_year]),
            ent.index_of(np.array([p.enterprise_id.encode() for p in planned], dtype="S18"))])
        kinds = np.concatenate([
            np.array([code[d] for d in history.departments[in_year].tolist()], dtype=np.int64)
            * 4 + months[in_year] // 3,
            np.array([code[p.department] * 4 + int(p.quarter[-1]) - 1 for p in planned],
                     dtype=np.int64)])
        known = rows >= 0
        self._keys = np.unique(rows[known] * width + kinds[known])  # (row, department, q)
        self._width = width
        self.used = np.bincount(self._keys // width, minlength=len(ent)).astype(np.int64)

    @classmethod
    def of(cls, registry: Registry, policy: Policy, quarter: Quarter) -> AnnualCap | None:
        """Return the rule for the quarter, or None when no tier sets annual_cap."""
        return cls(registry, policy, quarter) if policy.annual_caps else None

    def excludes(self, rows: np.ndarray) -> np.ndarray:
        """Return, per enterprise row, whether its inspections this year reach its cap."""
        caps = self.caps[rows]
        return np.asarray((caps >= 0) & (self.used[rows] >= caps), dtype=bool)

    def pairs(self, row: int) -> list[tuple[str, str]]:
        """Return the (department, quarter) pairs counted for an enterprise row, sorted."""
        start, stop = np.searchsorted(self._keys, [row * self._width, (row + 1) * self._width])
        return [(self._departments[k // 4], f"{self.quarter.year}Q{k % 4 + 1}")
                for k in (self._keys[start:stop] % self._width).tolist()]

    def blocks(self, row: int, department: str, visiting: Set[str]) -> str | None:
        """Return why the plan may not open a visit of `department` to the enterprise, given
        the departments whose visits to it the plan has already opened, or None."""
        cap = int(self.caps[row])
        if cap < 0:
            return None
        now = str(self.quarter)
        counted = {d for d, q in self.pairs(row) if q == now}
        if department in counted:
            return None  # the same visit as one already counted: no new inspection
        new = sorted(set(visiting) - counted)
        if int(self.used[row]) + len(new) < cap:
            return None
        return (f"annual cap (年度抽查上限) of {cap} reached: {int(self.used[row])} "
                f"inspection(s) recorded in {self.quarter.year} and this plan's visit(s) of "
                f"department(s) {', '.join(new)}")

    def row_of(self, row: int, enterprise_id: str, tier: str) -> CapRow:
        """Return the capped.csv line of an enterprise row the cap excludes."""
        return CapRow(enterprise_id, tier, int(self.caps[row]), int(self.used[row]),
                      "; ".join(f"{d} {q}" for d, q in self.pairs(row)))


def _place_codes(jurisdictions: np.ndarray) -> np.ndarray:
    """Return each 6-digit jurisdiction as an integer (same order as the strings)."""
    digits = np.ascontiguousarray(jurisdictions, dtype="S6").view(np.uint8).reshape(-1, 6)
    return (digits.astype(np.int64) - ord("0")) @ (10 ** np.arange(5, -1, -1, dtype=np.int64))


def _stratum(task: str, tier: str, jurisdiction: str, members: np.ndarray,
             cooldown: Cooldown, inspected: LatestInspections,
             cap: AnnualCap | None) -> Stratum:
    """Return the stratum of these members (ascending rows), split by the cooldown rule and
    the annual cap."""
    out = cooldown.excludes(members, inspected)
    if cap is not None:
        out |= cap.excludes(members)
    return Stratum(task, tier, jurisdiction, len(members), members[~out], members[out])


def strata_for_quarter(registry: Registry, policy: Policy, quarter: Quarter) -> list[Stratum]:
    """Return every stratum with a round this quarter, sorted by (task, tier, jurisdiction)."""
    check_tiers(registry, policy)
    ent = registry.enterprises
    rounds = [t for t in sorted(policy.tiers) if quarter.number in policy.tiers[t].quarters]
    inspected = LatestInspections(registry)
    cap = AnnualCap.of(registry, policy, quarter)
    # One integer per enterprise orders it by (tier, jurisdiction): the tier's rank among
    # the tiers with a round (-1 for the others), then the 6-digit code as a number.
    tier_rank = np.full(len(ent), -1, dtype=np.int64)
    for rank, tier in enumerate(rounds):
        tier_rank[ent.tiers == tier.encode()] = rank
    stratum_code = tier_rank * 1_000_000 + _place_codes(ent.jurisdictions)
    strata: list[Stratum] = []
    for task in sorted(policy.tasks, key=lambda t: t.code):
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
            strata.append(_stratum(task.code, tier, ent.jurisdictions[members[0]].decode(),
                                   members, Cooldown.of(policy, task.code, tier, quarter),
                                   inspected, cap))
    return strata


def stratum_of(registry: Registry, policy: Policy, quarter: Quarter, task: TaskPolicy,
               tier: str, jurisdiction: str) -> Stratum:
    """Return one stratum as strata_for_quarter gives it (the tier must have a round),
    looking at its own members only: for explaining one enterprise."""
    ent = registry.enterprises
    members = np.flatnonzero(scope_mask(registry, task) & (ent.tiers == tier.encode())
                             & (ent.jurisdictions == jurisdiction.encode()))
    return _stratum(task.code, tier, jurisdiction, members,
                    Cooldown.of(policy, task.code, tier, quarter), LatestInspections(registry),
                    AnnualCap.of(registry, policy, quarter))
