"""The registry snapshot: enterprises, inspectors, conflicts and history as validated columns.

Enterprises and history are held as numpy columns (no Python object per row in the hot
path) so a province of ten million fits; inspectors and conflicts are few and stay records.
Rows are put in canonical order on construction, so the order of input rows never matters.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from models.domain import Conflict, Enterprise, HistoryRecord, Inspector
from models.identifiers import CONTROL, uscc_problem, uscc_valid_mask

from .errors import InvalidInputError, RowProblem


def _ascii_column(values: Sequence[str], width: int, what: str) -> np.ndarray:
    try:
        return np.array([v.encode("ascii") for v in values], dtype=f"S{width}")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(f"{what}: only ASCII letters and digits are allowed") from exc


@dataclass(frozen=True, eq=False)
class EnterpriseColumns:
    """Enterprises as parallel columns, sorted by enterprise_id."""

    ids: np.ndarray            # 'S18' unified social credit codes
    names: np.ndarray          # object array of str
    jurisdictions: np.ndarray  # 'S6'
    industries: np.ndarray     # 'S8'
    tiers: np.ndarray          # 'S16'

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_lists(cls, ids: Sequence[str], names: Sequence[str], jurisdictions: Sequence[str],
                   industries: Sequence[str], tiers: Sequence[str],
                   source: str = "enterprises") -> EnterpriseColumns:
        """Return validated, id-sorted columns; raise listing every bad row (1-based)."""
        n = len(ids)
        if not (len(names) == len(jurisdictions) == len(industries) == len(tiers) == n):
            raise InvalidInputError(f"{source}: columns have different lengths")
        id_arr = _ascii_column(ids, 18, f"{source} enterprise_id")
        problems: list[RowProblem] = []
        lengths = np.char.str_len(id_arr)
        for i in np.flatnonzero((lengths != 18) | ~uscc_valid_mask(id_arr)):
            problems.append(RowProblem(source, int(i) + 1, "enterprise_id", ids[int(i)],
                                       uscc_problem(ids[int(i)]) or "invalid code"))
        jur = _ascii_column(jurisdictions, 6, f"{source} jurisdiction")
        bad_jur = (np.char.str_len(jur) != 6) | ~np.char.isdigit(jur)
        problems += [RowProblem(source, int(i) + 1, "jurisdiction", jurisdictions[int(i)],
                                "an enterprise's jurisdiction is a 6-digit GB/T 2260 code")
                     for i in np.flatnonzero(bad_jur)]
        ind = _ascii_column(industries, 8, f"{source} industry")
        tier = _ascii_column(tiers, 16, f"{source} tier")
        problems += [RowProblem(source, int(i) + 1, "tier", tiers[int(i)], "tier is empty")
                     for i in np.flatnonzero(np.char.str_len(tier) == 0)]
        problems += [RowProblem(source, i + 1, "name", v,
                                "name is empty" if not v else
                                "control characters and line breaks are not allowed")
                     for i, v in enumerate(names) if not v or CONTROL.search(v)]
        order = np.argsort(id_arr, kind="stable")
        sorted_ids = id_arr[order]
        dup = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
        for d in dup:
            first, second = sorted(int(x) for x in order[d:d + 2])
            problems.append(RowProblem(source, second + 1, "enterprise_id", ids[second],
                                       f"duplicate of row {first + 1}"))
        if problems:
            problems.sort(key=lambda p: (p.row or 0, p.column or ""))
            raise InvalidInputError(problems, headline=f"{source}: {len(problems)} bad value(s)")
        name_arr = np.empty(n, dtype=object)
        name_arr[:] = list(names)
        return cls(sorted_ids, name_arr[order], jur[order], ind[order], tier[order])

    @classmethod
    def from_records(cls, records: Iterable[Enterprise]) -> EnterpriseColumns:
        """Return columns built from validated Enterprise records."""
        rows = list(records)
        return cls.from_lists([r.enterprise_id for r in rows], [r.name for r in rows],
                              [r.jurisdiction for r in rows], [r.industry for r in rows],
                              [r.tier for r in rows])

    def record(self, index: int) -> Enterprise:
        """Return one enterprise as a record."""
        return Enterprise(enterprise_id=self.ids[index].decode(), name=self.names[index],
                          jurisdiction=self.jurisdictions[index].decode(),
                          industry=self.industries[index].decode(),
                          tier=self.tiers[index].decode())

    def index_of(self, enterprise_ids: np.ndarray) -> np.ndarray:
        """Return the row of each id ('S18' array), or -1 where the id is unknown."""
        pos = np.searchsorted(self.ids, enterprise_ids)
        pos = np.minimum(pos, max(len(self.ids) - 1, 0))
        found = (len(self.ids) > 0) & (self.ids[pos] == enterprise_ids) if len(self.ids) else \
            np.zeros(len(enterprise_ids), dtype=bool)
        return np.where(found, pos, -1)


@dataclass(frozen=True, eq=False)
class HistoryColumns:
    """Past inspections as columns, sorted by (enterprise_id, task, department, date)."""

    enterprise_ids: np.ndarray  # 'S18'
    tasks: np.ndarray           # object array of str
    departments: np.ndarray     # object array of str
    dates: np.ndarray           # datetime64[D]

    def __len__(self) -> int:
        return len(self.enterprise_ids)

    @classmethod
    def from_records(cls, records: Iterable[HistoryRecord]) -> HistoryColumns:
        """Return sorted, de-duplicated history columns."""
        rows = sorted({(r.enterprise_id, r.task, r.department, r.inspected_on) for r in records})
        tasks = np.empty(len(rows), dtype=object)
        tasks[:] = [r[1] for r in rows]
        departments = np.empty(len(rows), dtype=object)
        departments[:] = [r[2] for r in rows]
        return cls(np.array([r[0].encode() for r in rows], dtype="S18"), tasks, departments,
                   np.array([r[3] for r in rows], dtype="datetime64[D]"))

    def records(self) -> list[HistoryRecord]:
        """Return the history as records, in canonical order."""
        return [HistoryRecord(enterprise_id=e.decode(), task=t, department=d,
                              inspected_on=date.fromisoformat(str(day)))
                for e, t, d, day in zip(self.enterprise_ids, self.tasks, self.departments,
                                        self.dates, strict=True)]


@dataclass(frozen=True, eq=False)
class Registry:
    """A frozen snapshot of the four registries, in canonical order, cross-checked."""

    enterprises: EnterpriseColumns
    inspectors: tuple[Inspector, ...]
    conflicts: tuple[Conflict, ...]
    history: HistoryColumns

    @classmethod
    def build(cls, enterprises: EnterpriseColumns | Iterable[Enterprise],
              inspectors: Iterable[Inspector], conflicts: Iterable[Conflict] = (),
              history: HistoryColumns | Iterable[HistoryRecord] = ()) -> Registry:
        """Return a snapshot; raise if ids repeat or a conflict names an unknown party."""
        if not isinstance(enterprises, EnterpriseColumns):
            enterprises = EnterpriseColumns.from_records(enterprises)
        if not isinstance(history, HistoryColumns):
            history = HistoryColumns.from_records(history)
        officers = sorted(inspectors, key=lambda r: r.inspector_id)
        problems: list[RowProblem] = []
        for a, b in itertools.pairwise(officers):
            if a.inspector_id == b.inspector_id:
                problems.append(RowProblem("inspectors", None, "inspector_id", a.inspector_id,
                                           "the same certificate number appears twice"))
        known = {o.inspector_id for o in officers}
        unique_conflicts = sorted(set(conflicts),
                                  key=lambda c: (c.inspector_id, c.enterprise_id, c.reason))
        if unique_conflicts:
            ids = np.array([c.enterprise_id.encode() for c in unique_conflicts], dtype="S18")
            rows = enterprises.index_of(ids)
            for conflict, row in zip(unique_conflicts, rows, strict=True):
                if conflict.inspector_id not in known:
                    problems.append(RowProblem("conflicts", None, "inspector_id",
                                               conflict.inspector_id, "unknown inspector"))
                if row < 0:
                    problems.append(RowProblem("conflicts", None, "enterprise_id",
                                               conflict.enterprise_id, "unknown enterprise"))
        if problems:
            raise InvalidInputError(problems, headline="the registry snapshot is inconsistent")
        return cls(enterprises, tuple(officers), tuple(unique_conflicts), history)
