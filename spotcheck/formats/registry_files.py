"""Registry import files (DESIGN §4): a planner's CSV or XLSX turned into validated registry data.

A file is read whole or refused whole (`formats.import_table`): every bad row is collected
and one InvalidInputError lists them all. Enterprises are checked and turned into numpy
columns a chunk of rows at a time (no pydantic object per row, no list of every row's text)
so a province of ten million rows fits; inspectors, conflicts, history and results are small
files of one validated record per row. Encodings and workbooks: `formats.file_rows`; the
value rules: `formats.registry_values`.
"""

from __future__ import annotations

import dataclasses
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence, Set
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from spotcheck.errors import InvalidInputError
from spotcheck.formats.import_table import ImportTable, open_table
from spotcheck.formats.registry_values import (
    COLUMNS,
    EMPTY,
    RuledColumn,
    past_date_parser,
    reason,
    tier_parser,
)
from spotcheck.models.columns import REGISTRY_KINDS
from spotcheck.models.domain import Conflict, HistoryRecord, Inspector
from spotcheck.models.identifiers import UNSEEN, uscc_valid_mask
from spotcheck.models.registry import (
    CHUNK_ROWS,
    ENTERPRISE_DTYPES,
    NAME_LENGTH,
    ColumnChunks,
    EnterpriseColumns,
    as_columns,
    fixed_width,
    id_order,
    repeats,
    text_column,
)
from spotcheck.models.results import ResultRecord

KINDS = REGISTRY_KINDS
RegistryData = EnterpriseColumns | list[Inspector] | list[Conflict] | list[HistoryRecord]
_Record = TypeVar("_Record", bound=BaseModel)


# ---- enterprises: streamed into columns, validated without a Python object per row ----

def read_enterprises(path: str | Path, *, tiers: Collection[str] | None = None,
                     sheet: str | None = None) -> EnterpriseColumns:
    """Return the enterprises of a file as id-sorted columns; raise listing every bad row.

    `tiers`, when given, are the tiers the policy defines; any other tier is refused.
    `sheet`: the worksheet of a workbook to read (see `formats.file_rows.open_rows`).
    Rows are checked and turned into numpy columns a chunk at a time, so only one chunk's
    Python strings are held at once.
    """
    columns = {c.name: c for c in COLUMNS["enterprises"]}
    columns["tier"] = dataclasses.replace(columns["tier"], parse=tier_parser(tiers))
    with open_table(path, "enterprises", sheet=sheet) as table:
        chunked = ColumnChunks(ENTERPRISE_DTYPES, table.rows_hint)
        file_rows: list[np.ndarray] = []  # spreadsheet row of each enterprise, by chunk
        for rows, cells_of in table.chunks(CHUNK_ROWS):
            file_rows.append(_checked_chunk(table, columns, rows, cells_of, chunked))
        row_of = np.concatenate(file_rows) if file_rows else np.empty(0, np.uintc)
        del file_rows
        ids = chunked.first()
        order = id_order(ids)
        for first, later in repeats(ids, order):
            table.add(int(row_of[later]), "enterprise_id", ids[later].decode(),
                      f"the same code (统一社会信用代码) is already on row {row_of[first]}")
        table.check()
        del ids, row_of
        return EnterpriseColumns(*chunked.columns(order))


def _checked_chunk(table: ImportTable, columns: dict[str, RuledColumn], rows: array[int],
                   cells_of: list[list[str]], chunked: ColumnChunks) -> np.ndarray:
    """Record the bad values of a chunk of rows and add its codes (blank where a code is bad)
    to `chunked`, and, while the file has no problem, its other columns; return its rows."""
    by_column = as_columns(cells_of, len(table.header))  # every row has the header's width
    ids, names, jurisdictions, tiers = (
        by_column[table.index[name]] for name in ("enterprise_id", "name", "jurisdiction", "tier"))
    at_industry = table.index.get("industry")
    industries = ("",) * len(ids) if at_industry is None else by_column[at_industry]
    del by_column
    # Coded columns repeat a few values many times: each distinct value is checked once.
    _check_column(table, rows, columns["jurisdiction"], jurisdictions, set(jurisdictions))
    _check_column(table, rows, columns["tier"], tiers, set(tiers))
    _check_column(table, rows, columns["industry"], industries, set(industries))
    # One regular-expression pass over all names joined, instead of one per row.
    if ("" in names or max(map(len, names), default=0) > NAME_LENGTH
            or UNSEEN.search("|".join(names))):
        _check_column(table, rows, columns["name"], names,
                      {name for name in names
                       if not name or len(name) > NAME_LENGTH or UNSEEN.search(name)})
    # Codes of the wrong length or alphabet cannot go into numpy's 'S18': report them here.
    shaped: Sequence[str] = ids
    if set(map(len, ids)) - {18} or not all(map(str.isascii, ids)):
        misshapen = {c for c in ids if len(c) != 18 or not c.isascii()}
        _check_column(table, rows, columns["enterprise_id"], ids, misshapen)
        shaped = ["" if c in misshapen else c for c in ids]
    id_column = np.array(shaped, dtype="S18").reshape(len(ids))
    valid = uscc_valid_mask(id_column)
    for i in np.flatnonzero(~valid & (id_column != b"")).tolist():
        table.add(rows[i], "enterprise_id", ids[i],
                  reason(columns["enterprise_id"], ids[i]) or "invalid")
    id_column[~valid] = b""  # a bad code is not also reported as a repeat
    if table.problems:
        chunked.add(id_column)
    else:  # every value was accepted above, so each fits its column exactly
        chunked.add(id_column, text_column(names), fixed_width(jurisdictions, 6)[0],
                    fixed_width(industries, 8)[0], fixed_width(tiers, 16)[0])
    return np.frombuffer(rows, dtype=np.uintc).copy()


def _check_column(table: ImportTable, rows: array[int], column: RuledColumn,
                  values: Sequence[str], distinct: Iterable[str]) -> None:
    """Record each row whose value in `column` is refused, checking each distinct value once."""
    refused = {text: why for text in distinct if (why := reason(column, text))}
    if refused:
        for i, text in enumerate(values):
            if text in refused:
                table.add(rows[i], column.name, text, refused[text])


# ---- inspectors, conflicts and history: small files, one validated record per row ----

def _records(table: ImportTable, model: type[_Record],
             columns: Sequence[RuledColumn] | None = None) -> Iterator[tuple[int, _Record]]:
    """Yield (spreadsheet row, record) for each data row whose values are all accepted
    (by `columns`, default the kind's)."""
    present = [(c, table.index[c.name]) for c in columns or COLUMNS[table.kind]
               if c.name in table.index]
    for row, cells in table.rows():
        values: dict[str, Any] = {}
        accepted = True
        for column, at in present:
            text = cells[at]
            if not text:
                if column.required:
                    table.add(row, column.name, text, EMPTY)
                    accepted = False
                continue  # an optional column's empty cell takes the model's default
            try:
                values[column.name] = column.value(text)
            except ValueError as exc:
                table.add(row, column.name, text, str(exc))
                accepted = False
        if not accepted:
            continue
        try:
            yield row, model(**values)
        except ValidationError as exc:
            # The parsers above mirror the model's rules; this keeps any rule they miss.
            for error in exc.errors():
                column_name = str(error["loc"][0]) if error["loc"] else ""
                position = table.index.get(column_name)
                cause = error.get("ctx", {}).get("error")
                table.add(row, None if position is None else column_name,
                          None if position is None else cells[position],
                          error["msg"] if cause is None else str(cause))


def read_inspectors(path: str | Path, *, sheet: str | None = None) -> list[Inspector]:
    """Return the inspectors of a file in file order; raise listing every bad row."""
    with open_table(path, "inspectors", sheet=sheet) as table:
        inspectors: list[Inspector] = []
        first_row: dict[str, int] = {}
        for row, inspector in _records(table, Inspector):
            earlier = first_row.setdefault(inspector.inspector_id, row)
            if earlier != row:
                table.add(row, "inspector_id", inspector.inspector_id,
                          f"the same certificate number (执法证号) is already on row {earlier}")
            inspectors.append(inspector)
        table.check()
    return inspectors


def _lookup(ids: Collection[str] | None) -> Collection[str] | None:
    """Return the ids as a collection with fast membership tests."""
    # A list of ten million ids would make each membership test a scan.
    return ids if ids is None or isinstance(ids, Set | dict) else frozenset(ids)


def read_conflicts(path: str | Path, *, inspector_ids: Collection[str] | None = None,
                   enterprise_ids: Collection[str] | None = None,
                   sheet: str | None = None) -> list[Conflict]:
    """Return the distinct conflicts (回避) of a file; raise listing every bad row.

    When `inspector_ids` / `enterprise_ids` are given, a row naming an id outside them is bad.
    """
    known_inspectors, known_enterprises = _lookup(inspector_ids), _lookup(enterprise_ids)
    with open_table(path, "conflicts", sheet=sheet) as table:
        conflicts: dict[Conflict, None] = {}  # exact duplicate rows are ignored, order kept
        for row, conflict in _records(table, Conflict):
            known = True
            if known_inspectors is not None and conflict.inspector_id not in known_inspectors:
                known = False
                table.add(row, "inspector_id", conflict.inspector_id,
                          "no inspector with this certificate number (执法证号) is registered")
            if known_enterprises is not None and conflict.enterprise_id not in known_enterprises:
                known = False
                table.add(row, "enterprise_id", conflict.enterprise_id,
                          "no enterprise with this code (统一社会信用代码) is registered")
            if known:
                conflicts[conflict] = None
        table.check()
    return list(conflicts)


def read_history(path: str | Path, *, today: date,
                 sheet: str | None = None) -> list[HistoryRecord]:
    """Return the distinct past inspections of a file; raise listing every bad row.

    `today` is the day of the import: an inspection dated after it is refused.
    """
    columns = [dataclasses.replace(c, parse=past_date_parser(today))
               if c.name == "inspected_on" else c for c in COLUMNS["history"]]
    with open_table(path, "history", sheet=sheet) as table:
        history = dict.fromkeys(record for _, record in _records(table, HistoryRecord, columns))
        table.check()
    return list(history)


def read_registry_file(kind: str, path: str | Path, **options: Any) -> RegistryData:
    """Return the registry data of a file of the given kind (see the read_* functions)."""
    readers: dict[str, Callable[..., RegistryData]] = {
        "enterprises": read_enterprises, "inspectors": read_inspectors,
        "conflicts": read_conflicts, "history": read_history}
    if kind not in readers:
        raise InvalidInputError(f"unknown registry file kind {kind!r}; "
                                f"expected one of {', '.join(KINDS)}")
    return readers[kind](path, **options)


def read_results(path: str | Path, *, sheet: str | None = None) -> list[ResultRecord]:
    """Return the inspection results of a file in file order; raise listing every bad row.

    The result codes are checked against the plan's code list, and the dates against the
    quarter and the day of the import, when the results are stored (`store.results`), where
    the plan of each row is known.
    """
    with open_table(path, "results", sheet=sheet) as table:
        present = [(c, table.index[c.name]) for c in COLUMNS["results"]
                   if c.name in table.index]
        results: list[ResultRecord] = []
        for row, cells in table.rows():
            values: dict[str, Any] = {}
            for column, at in present:
                text = cells[at]
                if not text:
                    if column.required:
                        table.add(row, column.name, text, EMPTY)
                    continue
                try:
                    values[column.name] = column.value(text)
                except ValueError as exc:
                    table.add(row, column.name, text, str(exc))
            if all(c.name in values for c, _ in present if c.required):
                values["codes"] = values.pop("result")
                results.append(ResultRecord(row=row, **values))
        table.check()
    return results
