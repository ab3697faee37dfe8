"""The bundle's inputs/ files: a registry snapshot written in canonical form, checked
against it a batch at a time, and read back.

Enterprises and history are written and read a batch of columns at a time, so a province's
snapshot is never held as one Python string per value.

Added since the first release, each only when used, so that a snapshot and policy without
them give the same files as before: the `role` column of inputs/inspectors.csv and the
`inspectors` column of inputs/history.csv, when some row holds a value other than the
default (officer; none recorded); inputs/planned.csv, the year's other active plans' visits,
when the policy sets an annual cap.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any, TypeVar

import numpy as np
from pydantic import ValidationError

from spotcheck.errors import SpotcheckError
from spotcheck.formats.archive import INPUT_FILES, Bundle
from spotcheck.formats.tables import (
    CSV_BATCH,
    EXTENDED_HEADERS,
    HEADERS,
    csv_bytes,
    csv_pieces,
    header_of,
    read_table,
    table_cells,
    table_columns,
)
from spotcheck.models.byte_columns import utf8
from spotcheck.models.domain import Conflict, Inspector
from spotcheck.models.policy import Policy
from spotcheck.models.registry import EnterpriseColumns, HistoryColumns, PlannedVisit, Registry

PLANNED_FILE = "inputs/planned.csv"

_Record = TypeVar("_Record")


def _enterprise_batches(enterprises: EnterpriseColumns
                        ) -> Iterator[list[np.ndarray | list[str]]]:
    """Yield the enterprises as batches of 'S' columns of UTF-8 text, CSV_BATCH rows at a
    time (names as lists of str in a batch where one holds a line feed)."""
    for start in range(0, len(enterprises), CSV_BATCH):
        part = slice(start, start + CSV_BATCH)
        names = enterprises.names[part]
        yield [enterprises.ids[part], _utf8_or_text(names), enterprises.jurisdictions[part],
               enterprises.industries[part], enterprises.tiers[part]]


def _history_batches(history: HistoryColumns, extended: bool
                     ) -> Iterator[list[np.ndarray | list[str]]]:
    """Yield the past inspections as batches of 'S' columns of UTF-8 text, CSV_BATCH rows at
    a time (as lists of str in a batch where a value holds a line feed)."""
    for start in range(0, len(history), CSV_BATCH):
        part = slice(start, start + CSV_BATCH)
        yield [history.enterprise_ids[part], _utf8_or_text(history.tasks[part]),
               _utf8_or_text(history.departments[part]),
               history.dates[part].astype("S10"),
               *([_utf8_or_text(history.who[part])] if extended else [])]


def _utf8_or_text(values: np.ndarray) -> np.ndarray | list[str]:
    """Return text values as an 'S' column of UTF-8, or as a list of str if one holds a line
    feed or a NUL (which the csv module then quotes)."""
    column = utf8(values)
    return values.tolist() if column is None else column


def _header(registry: Registry, name: str) -> tuple[str, ...]:
    """Return the header an input table of this registry is written with: the extended one
    only when a row holds a value other than an added column's default."""
    if name == "inputs/inspectors.csv" and any(o.role != "officer" for o in registry.inspectors):
        return EXTENDED_HEADERS[name]
    if name == "inputs/history.csv" and bool((registry.history.who != "").any()):
        return EXTENDED_HEADERS[name]
    return HEADERS[name]


def input_names(policy: Policy | None) -> tuple[str, ...]:
    """Return the input files of a bundle whose plan follows this policy: INPUT_FILES, and
    inputs/planned.csv when the policy sets an annual cap."""
    return (*INPUT_FILES, PLANNED_FILE) if policy is not None and policy.annual_caps else \
        INPUT_FILES


def input_files(registry: Registry, policy_bytes: bytes,
                policy: Policy | None = None) -> dict[str, bytes]:
    """Return the canonical input files of a registry snapshot and policy (`policy`: the
    parsed policy_bytes, which decides whether inputs/planned.csv is one of them)."""
    files = {"policy.toml": policy_bytes}
    for name in input_names(policy)[1:]:
        out = io.BytesIO()
        for piece in _input_pieces(registry, name):
            out.write(piece)
        files[name] = out.getvalue()  # BytesIO hands over its buffer: no second copy
    return files


def noncanonical_inputs(registry: Registry, files: dict[str, bytes],
                        policy: Policy | None = None) -> list[str]:
    """Return the names of the inputs/ files that differ from what input_files writes for
    this registry, comparing a batch at a time rather than writing a second copy."""
    differ = []
    for name in input_names(policy)[1:]:
        data, at = memoryview(files.get(name, b"")), 0
        for piece in _input_pieces(registry, name):
            if data[at:at + len(piece)] != piece:
                break
            at += len(piece)
        else:
            if at == len(data):
                continue
        differ.append(name)
    return differ


def _input_pieces(registry: Registry, name: str) -> Iterator[bytes]:
    """Yield one of the canonical input files (inputs/...) of a registry a piece at a time."""
    header = _header(registry, name)
    if name == "inputs/enterprises.csv":
        return csv_pieces(name, _enterprise_batches(registry.enterprises))
    if name == "inputs/history.csv":
        return csv_pieces(name, _history_batches(registry.history, header != HEADERS[name]),
                          header)
    if name == "inputs/inspectors.csv":
        return iter([csv_bytes(name, table_cells(name, registry.inspectors, header), header)])
    if name == PLANNED_FILE:
        return iter([csv_bytes(name, table_cells(name, registry.planned))])
    return iter([csv_bytes(name, table_cells(name, registry.conflicts))])


def registry_from_bundle(bundle: Bundle) -> Registry:
    """Return the registry snapshot recorded in a bundle's inputs/ files (with the year's
    other active plans' visits when it has inputs/planned.csv)."""
    files = bundle.files
    missing = [n for n in INPUT_FILES if n not in files]
    if missing:
        raise SpotcheckError(f"the bundle lacks {', '.join(missing)}")
    name = "inputs/enterprises.csv"
    data = files[name]
    enterprises = EnterpriseColumns.from_chunks(table_columns(name, data, as_bytes=True),
                                                source=name,
                                                rows=max(data.count(b"\n") - 1, 0))
    inspectors = _records(files, "inputs/inspectors.csv", _inspector)
    conflicts = _records(files, "inputs/conflicts.csv", lambda cells: Conflict(**cells))
    name = "inputs/history.csv"
    data = files[name]
    history = HistoryColumns.from_chunks(table_columns(name, data, as_bytes=True),
                                         source=name, rows=max(data.count(b"\n") - 1, 0))
    planned = _records(files, PLANNED_FILE, lambda cells: PlannedVisit(**cells)) \
        if PLANNED_FILE in files else []
    return Registry.build(enterprises, inspectors, conflicts, history, planned)


def _records(files: Mapping[str, bytes], name: str,
             make: Callable[[dict[str, str]], _Record]) -> list[_Record]:
    """Return the rows of a small inputs/ table made into records; raise naming the first
    row no record can be made of (a forged bundle must get a message, not a crash)."""
    records = []
    for row, cells in enumerate(_named_rows(files, name), start=2):
        try:
            records.append(make(cells))
        except ValidationError as exc:
            reasons = "; ".join(str(error["msg"]) for error in exc.errors())
            raise SpotcheckError(f"{name}:{row}: {reasons}") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise SpotcheckError(f"{name}:{row}: {exc}") from None
    return records


def _named_rows(files: Mapping[str, bytes], name: str) -> Iterator[dict[str, str]]:
    """Yield the rows of a small inputs/ table as dicts by column name (the record's fields)."""
    header = header_of(name, files[name])
    return (dict(zip(header, row, strict=True)) for row in read_table(name, files[name]))


def _inspector(cells: dict[str, str]) -> Inspector:
    """Return the officer of one row of inputs/inspectors.csv."""
    values: dict[str, Any] = dict(cells)
    values["qualifications"] = tuple(q for q in cells["qualifications"].split(";") if q)
    values["capacity"] = int(cells["capacity"])
    values["certificate_expiry"] = date.fromisoformat(cells["certificate_expiry"])
    return Inspector(**values)
