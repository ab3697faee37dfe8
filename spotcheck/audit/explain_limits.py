"""The parts of `explain` for the rules of lawful teams II: the annual cap, experts (专家),
rotation (轮岗) and the shortfall advice, each recomputed from the bundle by the pipeline's
own rule (`scheduler.eligibility.AnnualCap`, `scheduler.staffing`, `scheduler.shortfall`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from spotcheck.models.policy import Policy
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry
from spotcheck.scheduler.eligibility import AnnualCap
from spotcheck.scheduler.plan import shortfall_advice
from spotcheck.scheduler.shortfall import GroupAdvice, group_of
from spotcheck.scheduler.staffing import StaffingRules
from spotcheck.scheduler.workload import part_caps, parts

Row = dict[str, str]


def cap_line(registry: Registry, policy: Policy, quarter: Quarter, row: int) -> str | None:
    """Return the line saying how much of its annual cap an enterprise has used and by which
    inspections (history and the year's other active plans), or None without a cap."""
    cap = AnnualCap.of(registry, policy, quarter)
    if cap is None or int(cap.caps[row]) < 0:
        return None
    ent, history = registry.enterprises, registry.history
    eid = ent.ids[row]
    year = str(quarter.year)
    mine = np.flatnonzero(history.enterprise_ids == eid)
    sources = [f"{history.dates[i]} task {history.tasks[i]} department "
               f"{history.departments[i] or '(none)'} (history)"
               for i in mine.tolist() if str(history.dates[i]).startswith(year)]
    sources += [f"{p.quarter} department {p.department} (another active plan)"
                for p in registry.planned
                if p.enterprise_id == eid.decode() and p.quarter.startswith(year)]
    used, limit = int(cap.used[row]), int(cap.caps[row])
    pairs = ", ".join(f"{d} {q}" for d, q in cap.pairs(row)) or "none"
    verdict = "EXCLUDED by the annual cap" if used >= limit else "annual cap not reached"
    return (f"  {verdict} (年度抽查上限 {limit} a year for tier {ent.tiers[row].decode()}): "
            f"{used} inspection(s) counted in {year} as (department, quarter) — {pairs}"
            + (f"; from {'; '.join(sources)}" if sources else ""))


def expert_lines(table: Callable[[str], list[Row]], files: Sequence[str], enterprise_id: str,
                 department: str) -> list[str]:
    """Return the lines naming a visit's experts (专家) and the places left unfilled."""
    if "experts.csv" not in files:
        return []
    lines = []
    experts = [r for r in table("experts.csv")
               if (r["enterprise_id"], r["department"]) == (enterprise_id, department)]
    if experts:
        lines.append("  experts (专家), on top of the officers: " + ", ".join(
            f"{r['inspector_id']} (cost {r['cost']})" for r in experts))
    gap = next((r for r in table("expert_gaps.csv")
                if (r["enterprise_id"], r["department"]) == (enterprise_id, department)), None)
    if gap is not None:
        lines.append(f"  experts short: {gap['drawn']} of {gap['needed']} — {gap['reason']} "
                     "(the visit keeps its officers)")
    return lines


class Advice:
    """The shortfall advice of a bundle: read from shortfall_groups.csv when the bundle has
    it, else recomputed from its inputs and seed (scheduler.plan.shortfall_advice)."""

    def __init__(self, registry: Registry, policy: Policy, quarter: Quarter, seed: str,
                 table: Callable[[str], list[Row]], files: Sequence[str]) -> None:
        self._args = (registry, policy, quarter, seed)
        self._table, self._files = table, files
        self._found: list[Row] | None = None

    def rows(self) -> list[Row]:
        """Return the advice as shortfall_groups.csv rows."""
        if self._found is None:
            if "shortfall_groups.csv" in self._files:
                self._found = self._table("shortfall_groups.csv")
            else:
                self._found = [_as_row(a) for a in shortfall_advice(*self._args)]
        return self._found

    def lines(self) -> list[str]:
        """Return the advice as lines under a stratum that fell short for capacity."""
        rows = self.rows()
        if not rows:
            return []
        total = sum(int(r["extra"]) for r in rows)
        return [f"  to staff every stratum cut by capacity: {total} more officer-visit(s), at "
                "least — " + "; ".join(
                    f"{r['department']} {r['jurisdiction']} "
                    f"{r['qualifications'] or '(no qualification)'} +{r['extra']}"
                    for r in rows if int(r["extra"]))]

    def officer_line(self, registry: Registry, inspector: int) -> str | None:
        """Return the line saying whether an officer's group ran out, and what it needs."""
        officer = registry.inspectors[inspector]
        key = group_of(officer)
        row = next((r for r in self.rows()
                    if (r["department"], r["jurisdiction"], r["qualifications"]) == key), None)
        if row is None:
            return None
        mine = next((item.rsplit("+", 1)[1] for item in row["added"].split(";")
                     if item.rsplit("+", 1)[0] == officer.inspector_id), "0")
        return (f"capacity ran out for their group (department {key[0]}, jurisdiction "
                f"{key[1]}, qualifications {key[2] or 'none'}): {row['saturated']} of "
                f"{row['officers']} officer(s) saturated; +{row['extra']} officer-visit(s) "
                f"recommended for the group, +{mine} of them on this officer")


def _as_row(advice: GroupAdvice) -> Row:
    """Return a GroupAdvice as a shortfall_groups.csv row of text."""
    return {k: str(getattr(advice, k)) for k in GroupAdvice.__dataclass_fields__}


def officer_caps(registry: Registry, policy: Policy, quarter: Quarter, visits: list[Row],
                 recorded: object) -> list[int]:
    """Return each inspector's limit this quarter: their capacity, or with workload =
    "balanced" the balance cap the manifest records for their part of the staffing network
    (the parts recomputed from visits.csv, as `verify` does)."""
    capacity = [o.capacity for o in registry.inspectors]
    caps = recorded.get("caps") if isinstance(recorded, dict) else None
    if not isinstance(caps, list):
        return capacity
    rules = StaffingRules(registry, policy.team_size, quarter, policy.officer_cooldown_months)
    ent = registry.enterprises
    rows = ent.index_of(np.array([v["enterprise_id"].encode() for v in visits], dtype="S18"))
    eligible = [rules.lawful(int(row), v["department"], frozenset(
        q for q in (policy.task(t).qualification for t in v["tasks"].split(";")
                    if t in {x.code for x in policy.tasks}) if q))
        for v, row in zip(visits, rows.tolist(), strict=True) if row >= 0]
    percent = {c.get("first_officer"): c.get("percent") for c in caps if isinstance(c, dict)}
    found = parts(eligible, len(capacity))
    levels = [percent.get(registry.inspectors[int(p.officers[0])].inspector_id) for p in found]
    if not all(isinstance(p, int) for p in levels):
        return capacity
    return part_caps(capacity, found, [int(p) for p in levels if isinstance(p, int)])
