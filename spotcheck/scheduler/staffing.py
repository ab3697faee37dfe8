"""Who may lawfully inspect whom: role, department, jurisdiction, qualification, certificate,
recusal and rotation.

These are the fixed rules of DESIGN §6; capacity is left to allocation and assignment. Only
officers (role `officer`, 执法人员) count toward team_size; experts (专家) are drawn apart, on
top of a visit's officers, by `expert_pool` (no 执法证 needed); auxiliary staff (辅助人员)
never inspect (国办发〔2024〕54号). Rotation (轮岗, policy officer_cooldown_months): an
inspector whom the history names as having inspected the enterprise on or after the first
day of the month that many months before the quarter starts may not inspect it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import numpy as np

from spotcheck.models.domain import Inspector
from spotcheck.models.quarter import Quarter
from spotcheck.models.registry import Registry

ROLE_PROBLEMS = {
    "expert": "is an expert (专家), not an officer: experts join a team only on top of its "
              "officers",
    "auxiliary": "is auxiliary staff (辅助人员), who may not inspect (国办发〔2024〕54号)",
}


def officer_problem(officer: Inspector, department: str, place: str,
                    qualifications: frozenset[str], quarter: Quarter,
                    recusal: str | None, rotation: date | None = None) -> str | None:
    """Return the first fixed rule that keeps an officer off a visit, or None if lawful.

    `recusal` is the recorded reason when the officer must recuse from the enterprise;
    `rotation` the day they last inspected it within officer_cooldown_months.
    """
    if officer.role != "officer":
        return ROLE_PROBLEMS[officer.role]
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
    if rotation is not None:
        return (f"rotation (轮岗): inspected this enterprise on {rotation.isoformat()}, within "
                "officer_cooldown_months")
    return None


def rotation_since(quarter: Quarter, months: int) -> date | None:
    """Return the first day an inspection keeps its inspectors off the enterprise, or None
    when officer_cooldown_months is 0."""
    return quarter.months_before_start(months) if months > 0 else None


def rotated(registry: Registry, quarter: Quarter,
            months: int) -> dict[bytes, dict[str, date]]:
    """Return, per enterprise id, the inspectors the rotation rule keeps off it and the day
    each last inspected it (on or after rotation_since)."""
    since = rotation_since(quarter, months)
    history = registry.history
    found: dict[bytes, dict[str, date]] = {}
    if since is None or len(history) == 0:
        return found
    recent = np.flatnonzero((history.dates >= np.datetime64(since, "D")) & (history.who != ""))
    for i in recent.tolist():
        day = date.fromisoformat(str(history.dates[i]))
        seen = found.setdefault(bytes(history.enterprise_ids[i]), {})
        for inspector in str(history.who[i]).split(";"):
            seen[inspector] = max(seen.get(inspector, day), day)
    return found


class StaffingRules:
    """Answers which inspectors may form a team for an enterprise's visit."""

    def __init__(self, registry: Registry, team_size: int, quarter: Quarter,
                 officer_cooldown_months: int = 0) -> None:
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
        self.rotated = rotated(registry, quarter, officer_cooldown_months)
        self.rotations: dict[bytes, frozenset[int]] = {
            k: frozenset(index[i] for i in v if i in index) for k, v in self.rotated.items()}
        kept_off: dict[bytes, frozenset[int]] = dict(self.recusals)
        for key, officers in self.rotations.items():
            kept_off[key] = kept_off.get(key, frozenset()) | officers
        rows = registry.enterprises.index_of(np.array(list(kept_off), dtype="S18")) \
            if kept_off else np.zeros(0, dtype=np.int64)
        self._recused_at: dict[int, frozenset[int]] = {
            int(row): officers for row, officers in zip(rows.tolist(), kept_off.values(),
                                                        strict=True) if row >= 0 and officers}
        # Per enterprise row: whether recusal or rotation keep any officer off it.
        self.kept_off_mask = np.zeros(len(registry.enterprises), dtype=bool)
        self.kept_off_mask[list(self._recused_at)] = True
        end = quarter.end
        self._by_prefix: dict[tuple[str, str], list[int]] = {}
        self._experts_by_prefix: dict[tuple[str, str], list[int]] = {}
        for i, officer in enumerate(self.inspectors):
            if officer.role == "expert" and officer.capacity > 0:
                self._experts_by_prefix.setdefault(
                    (officer.department, officer.jurisdiction), []).append(i)
            if officer.role == "officer" and officer.certificate_expiry >= end \
                    and officer.capacity > 0:
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

    def kept_off(self, row: int) -> frozenset[int]:
        """Return the inspectors recusal or rotation keep off this enterprise."""
        return self._recused_at.get(row, frozenset())

    def expert_pool(self, row: int, department: str,
                    qualifications: frozenset[str]) -> np.ndarray:
        """Return the experts (ascending) who may join this enterprise's visit: of the
        department, serving its jurisdiction, holding every qualification, with capacity,
        no recusal and no rotation."""
        place = self.registry.enterprises.jurisdictions[row].decode()
        found = sorted(i for n in range(1, len(place) + 1)
                       for i in self._experts_by_prefix.get((department, place[:n]), ())
                       if qualifications.issubset(self.inspectors[i].qualifications)
                       and i not in self.kept_off(row))
        return np.array(found, dtype=np.int64)

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
        rotating = self.rotations.get(ent.ids[row], frozenset()) - recused
        lawful = [i for i in qualified if i not in recused]
        if len(lawful) < len(qualified):
            steps = [*steps, f"{len(qualified) - len(lawful)} must recuse (回避)"]
        kept = [i for i in lawful if i not in rotating]
        if len(kept) < len(lawful):
            steps = [*steps, f"{len(lawful) - len(kept)} inspected it within "
                             "officer_cooldown_months (轮岗)"]
            lawful = kept
        return (f"no lawful team: {len(lawful)} of {self.team_size} officers needed ("
                + "; ".join(steps) + ")")

    def _pool_steps(self, department: str, place: str,
                    qualifications: frozenset[str]) -> tuple[list[str], list[int]]:
        """Return how the officers serving a place narrow down, and who remains qualified."""
        key = (department, place.encode(), qualifications)
        cached = self._steps.get(key)
        if cached is not None:
            return cached
        everyone = [i for i, o in enumerate(self.inspectors)
                    if o.department == department and place.startswith(o.jurisdiction)]
        serving = [i for i in everyone if self.inspectors[i].role == "officer"]
        certified = [i for i in serving
                     if self.inspectors[i].certificate_expiry >= self.quarter.end]
        available = [i for i in certified if self.inspectors[i].capacity > 0]
        qualified = [i for i in available
                     if qualifications.issubset(self.inspectors[i].qualifications)]
        steps = [f"{len(serving)} officer(s) of department {department} serve {place}"]
        if len(serving) < len(everyone):
            steps.append(f"besides {len(everyone) - len(serving)} expert(s) or auxiliary "
                         "staff, who never count toward the team")
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
