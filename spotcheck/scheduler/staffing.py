"""Who may lawfully inspect whom: department, jurisdiction, qualification, certificate, recusal.

These are the fixed rules of DESIGN §6; capacity is left to allocation and assignment.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from spotcheck.models.domain import Inspector
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry


def officer_problem(officer: Inspector, department: str, place: str,
                    qualifications: frozenset[str], quarter: Quarter,
                    recusal: str | None) -> str | None:
    """Return the first fixed rule that keeps an officer off a visit, or None if lawful.

    `recusal` is the recorded reason when the officer must recuse from the enterprise.
    """
    if officer.department != department:
        return f"belongs to department {officer.department}"
    if not place.startswith(officer.jurisdiction):
        return f"serves {officer.jurisdiction}, not {place}"
    end = quarter.end
    if officer.certificate_expiry < end:
        return (f"certificate (执法证) expires {officer.certificate_expiry.isoformat()}, before "
                f"the quarter ends {end.isoformat()}")
    if officer.capacity == 0:
        return "capacity 0"
    missing = sorted(qualifications - set(officer.qualifications))
    if missing:
        return f"lacks qualification {'+'.join(missing)}"
    if recusal is not None:
        return f"recusal (回避): {recusal or 'no reason recorded'}"
    return None


class StaffingRules:
    """Answers which inspectors may form a team for an enterprise's visit."""

    def __init__(self, registry: Registry, team_size: int, quarter: Quarter) -> None:
        self.registry = registry
        self.team_size = team_size
        self.quarter = quarter
        self.inspectors: tuple[Inspector, ...] = registry.inspectors
        self.capacity = [o.capacity for o in self.inspectors]
        index = {o.inspector_id: i for i, o in enumerate(self.inspectors)}
        self.recusals: dict[bytes, frozenset[int]] = {}
        grouped: dict[bytes, set[int]] = {}
        for conflict in registry.conflicts:
            grouped.setdefault(conflict.enterprise_id.encode(), set()).add(
                index[conflict.inspector_id])
        self.recusals = {k: frozenset(v) for k, v in grouped.items()}
        rows = registry.enterprises.index_of(np.array(list(self.recusals), dtype="S18")) \
            if self.recusals else np.zeros(0, dtype=np.int64)
        self._recused_at: dict[int, frozenset[int]] = {
            int(row): officers for row, officers in zip(rows.tolist(), self.recusals.values(),
                                                        strict=True) if row >= 0}
        end = quarter.end
        self._by_prefix: dict[tuple[str, str], list[int]] = {}
        for i, officer in enumerate(self.inspectors):
            if officer.certificate_expiry >= end and officer.capacity > 0:
                self._by_prefix.setdefault((officer.department, officer.jurisdiction), []).append(i)
        self._by_place: dict[tuple[str, bytes], list[int]] = {}
        self._by_quals: dict[tuple[str, bytes, frozenset[str]], np.ndarray] = {}
        self._steps: dict[tuple[str, bytes, frozenset[str]], tuple[list[str], list[int]]] = {}

    def serving(self, department: str, jurisdiction: bytes) -> list[int]:
        """Return certified officers of `department` with capacity who serve `jurisdiction`."""
        key = (department, jurisdiction)
        found = self._by_place.get(key)
        if found is None:
            place = jurisdiction.decode()
            found = sorted(i for n in range(1, len(place) + 1)
                           for i in self._by_prefix.get((department, place[:n]), ()))
            self._by_place[key] = found
        return found

    def qualified(self, department: str, jurisdiction: bytes,
                  qualifications: frozenset[str]) -> np.ndarray:
        """Return `serving` narrowed to officers holding every qualification."""
        key = (department, jurisdiction, qualifications)
        found = self._by_quals.get(key)
        if found is None:
            found = np.array([i for i in self.serving(department, jurisdiction)
                              if qualifications.issubset(self.inspectors[i].qualifications)],
                             dtype=np.int64)
            self._by_quals[key] = found
        return found

    def lawful(self, row: int, department: str, qualifications: frozenset[str]) -> np.ndarray:
        """Return the inspectors (ascending) who may serve on this enterprise's visit."""
        candidates = self.qualified(department, self.registry.enterprises.jurisdictions[row],
                                    qualifications)
        recused = self._recused_at.get(row)
        if recused:
            candidates = np.array([i for i in candidates if i not in recused], dtype=np.int64)
        return candidates

    def why_no_team(self, row: int, department: str, qualifications: frozenset[str]) -> str:
        """Return a planner-readable reason why fewer than team_size officers are lawful."""
        ent = self.registry.enterprises
        place = ent.jurisdictions[row].decode()
        steps, qualified = self._pool_steps(department, place, qualifications)
        recused = self.recusals.get(ent.ids[row], frozenset())
        lawful = [i for i in qualified if i not in recused]
        if len(lawful) < len(qualified):
            steps = [*steps, f"{len(qualified) - len(lawful)} must recuse (回避)"]
        return (f"no lawful team: {len(lawful)} of {self.team_size} officers needed ("
                + "; ".join(steps) + ")")

    def _pool_steps(self, department: str, place: str,
                    qualifications: frozenset[str]) -> tuple[list[str], list[int]]:
        """Return how the officers serving a place narrow down, and who remains qualified."""
        key = (department, place.encode(), qualifications)
        cached = self._steps.get(key)
        if cached is not None:
            return cached
        serving = [i for i, o in enumerate(self.inspectors)
                   if o.department == department and place.startswith(o.jurisdiction)]
        certified = [i for i in serving
                     if self.inspectors[i].certificate_expiry >= self.quarter.end]
        available = [i for i in certified if self.inspectors[i].capacity > 0]
        qualified = [i for i in available
                     if qualifications.issubset(self.inspectors[i].qualifications)]
        steps = [f"{len(serving)} officer(s) of department {department} serve {place}"]
        if len(certified) < len(serving):
            steps.append(f"{len(serving) - len(certified)} certificate(s) (执法证) expire before "
                         f"{self.quarter.end.isoformat()}")
        if len(available) < len(certified):
            steps.append(f"{len(certified) - len(available)} with capacity 0")
        if len(qualified) < len(available):
            steps.append(f"{len(available) - len(qualified)} lack qualification "
                         f"{'+'.join(sorted(qualifications))}")
        self._steps[key] = (steps, qualified)
        return steps, qualified

    def describe_pool(self, members: Iterable[int]) -> str:
        """Return up to five certificate numbers of a pool, for messages."""
        ids = sorted(self.inspectors[i].inspector_id for i in members)
        shown = ", ".join(ids[:5])
        return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
