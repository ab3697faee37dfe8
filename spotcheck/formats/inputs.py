"""The bundle's inputs/ files: a registry snapshot written in canonical form, checked
against it a batch at a time, and read back.

Enterprises and history are written and read a batch of columns at a time, so a province's
snapshot is never held as one Python string per value.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from spotcheck.errors import SpotcheckError
from spotcheck.formats.archive import INPUT_FILES, Bundle
from spotcheck.formats.tables import (
    CSV_BATCH,
    HEADERS,
    csv_bytes,
    csv_pieces,
    read_table,
    table_cells,
    table_columns,
)
from spotcheck.models.domain import Conflict, Inspector
from spotcheck.models.registry import EnterpriseColumns, HistoryColumns, Registry


def _enterprise_batches(enterprises: EnterpriseColumns) -> Iterator[list[list[str]]]:
    """Yield the enterprises as batches of text columns, CSV_BATCH rows at a time."""
    for start in range(0, len(enterprises), CSV_BATCH):
        part = slice(start, start + CSV_BATCH)
        yield [enterprises.ids[part].astype("U18").tolist(), enterprises.names[part].tolist(),
               enterprises.jurisdictions[part].astype("U6").tolist(),
               enterprises.industries[part].astype("U8").tolist(),
               enterprises.tiers[part].astype("U16").tolist()]


def _history_batches(history: HistoryColumns) -> Iterator[list[list[str]]]:
    """Yield the past inspections as batches of text columns, CSV_BATCH rows at a time."""
    for start in range(0, len(history), CSV_BATCH):
        part = slice(start, start + CSV_BATCH)
        yield [history.enterprise_ids[part].astype("U18").tolist(),
               history.tasks[part].tolist(), history.departments[part].tolist(),
               history.dates[part].astype(str).tolist()]


def input_files(registry: Registry, policy_bytes: bytes) -> dict[str, bytes]:
    """Return the canonical input files of a registry snapshot and policy."""
    files = {"policy.toml": policy_bytes}
    for name in INPUT_FILES[1:]:
        out = io.BytesIO()
        for piece in _input_pieces(registry, name):
            out.write(piece)
        files[name] = out.getvalue()  # BytesIO hands over its buffer: no second copy
    return files


def noncanonical_inputs(registry: Registry, files: dict[str, bytes]) -> list[str]:
    """Return the names of the inputs/ files that differ from what input_files writes for
    this registry, comparing a batch at a time rather than writing a second copy."""
    differ = []
    for name in INPUT_FILES[1:]:
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
    if name == "inputs/enterprises.csv":
        return csv_pieces(name, _enterprise_batches(registry.enterprises))
    if name == "inputs/history.csv":
        return csv_pieces(name, _history_batches(registry.history))
    if name == "inputs/inspectors.csv":
        return iter([csv_bytes(name, table_cells(name, registry.inspectors))])
    return iter([csv_bytes(name, table_cells(name, registry.conflicts))])


def registry_from_bundle(bundle: Bundle) -> Registry:
    """Return the registry snapshot recorded in a bundle's inputs/ files."""
    files = bundle.files
    missing = [n for n in INPUT_FILES if n not in files]
    if missing:
        raise SpotcheckError(f"the bundle lacks {', '.join(missing)}")
    name = "inputs/enterprises.csv"
    data = files[name]
    enterprises = EnterpriseColumns.from_chunks(table_columns(name, data), source=name,
                                                rows=max(data.count(b"\n") - 1, 0))
    inspectors = [_inspector(cells) for cells in _named_rows(files, "inputs/inspectors.csv")]
    conflicts = [Conflict(**cells) for cells in _named_rows(files, "inputs/conflicts.csv")]
    name = "inputs/history.csv"
    data = files[name]
    history = HistoryColumns.from_chunks(table_columns(name, data), source=name,
                                         rows=max(data.count(b"\n") - 1, 0))
    return Registry.build(enterprises, inspectors, conflicts, history)


def _named_rows(files: Mapping[str, bytes], name: str) -> Iterator[dict[str, str]]:
    """Yield the rows of a small inputs/ table as dicts by column name (the record's fields)."""
    header = HEADERS[name]
    return (dict(zip(header, row, strict=True)) for row in read_table(name, files[name]))


def _inspector(cells: dict[str, str]) -> Inspector:
    """Return the officer of one row of inputs/inspectors.csv."""
    values: dict[str, Any] = dict(cells)
    values["qualifications"] = tuple(q for q in cells["qualifications"].split(";") if q)
    values["capacity"] = int(cells["capacity"])
    values["certificate_expiry"] = date.fromisoformat(cells["certificate_expiry"])
    return Inspector(**values)
