"""Inspection results (检查结果) as records: one per row of a results file (DESIGN §10)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from spotcheck.errors import RowProblem
from spotcheck.models.policy import ResultCode


@dataclass(frozen=True)
class ResultRecord:
    """One row of a results file: a drawn (task, enterprise) and what its inspection found."""

    row: int  # the row of the file, for messages
    enterprise_id: str
    task: str
    completed_on: date
    codes: tuple[str, ...]  # sorted, distinct
    remarks: str = ""
    inspectors: tuple[str, ...] = ()  # sorted, distinct; () when the file names none


def code_problems(file: str, record: ResultRecord,
                  codes: dict[str, ResultCode]) -> list[RowProblem]:
    """Return why the record's result codes are refused under the plan's code list."""
    shown = ";".join(record.codes)
    unknown = [c for c in record.codes if c not in codes]
    if unknown:
        known = ", ".join(f"{c} {codes[c].label}" for c in codes)
        return [RowProblem(file, record.row, "result", shown,
                           f"unknown result code {unknown[0]!r} (the plan's codes: {known})")]
    exclusive = [c for c in record.codes if codes[c].exclusive]
    if exclusive and len(record.codes) > 1:
        return [RowProblem(file, record.row, "result", shown,
                           f"{exclusive[0]} ({codes[exclusive[0]].label}) excludes every other "
                           "code")]
    return []


def labels(codes: tuple[str, ...], table: dict[str, ResultCode]) -> str:
    """Return the result as published: the codes' labels, '；'-joined."""
    return "；".join(table[c].label if c in table else c for c in codes)
