"""The bundle's CSV tables: each one's header, declared once, and the canonical CSV form.

A result table's header is the field names of the plan's row type (`scheduler.plan`), less
the fields the file leaves out; an input table's is the registry file's columns
(`models.columns`). `table_cells` takes each row's cells by those names, so no column list
is written twice. The canonical form (DESIGN §7): UTF-8 without BOM, `\\n` line ends, a
header row, quoting only where the csv module quotes; the same rows always give the same
bytes, and reading refuses a wrong header or row width.

An input table may carry columns added after the first release (models.columns
OPTIONAL_INPUT_COLUMNS: an inspector's role, a past inspection's inspectors): HEADERS gives
the header without them, EXTENDED_HEADERS the one with them, and a file is written with them
only when some row holds a value other than the default, so a snapshot that has none is the
same bytes as before they existed. Reading accepts either header (`header_of`).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NoReturn

import numpy as np

from spotcheck.errors import SpotcheckError
from spotcheck.models.byte_columns import cut, holds, lines
from spotcheck.models.columns import (
    OPTIONAL_INPUT_COLUMNS,
    REGISTRY_KINDS,
    base_column_names,
    column_names,
)
from spotcheck.models.registry import CHUNK_ROWS, PlannedVisit, as_columns, as_str
from spotcheck.scheduler.plan import (
    AssignmentRow,
    CapRow,
    DrawRow,
    ExpertGapRow,
    GroupAdvice,
    SkipRow,
    StratumRow,
    VisitRow,
)

CSV_BATCH = 50_000  # rows formatted into CSV text at a time


def fields_of(row_type: type[Any], *, leaving_out: Sequence[str] = ()) -> tuple[str, ...]:
    """Return the field names of a row dataclass, in order, less those left out."""
    names = tuple(f.name for f in dataclasses.fields(row_type))
    unknown = set(leaving_out) - set(names)
    if unknown:
        raise ValueError(f"{row_type.__name__} has no field {', '.join(sorted(unknown))}")
    return tuple(name for name in names if name not in leaving_out)


HEADERS: dict[str, tuple[str, ...]] = {
    **{f"inputs/{kind}.csv": base_column_names(kind) for kind in REGISTRY_KINDS},
    # the year's other active plans' visits, which the annual cap counts
    "inputs/planned.csv": fields_of(PlannedVisit),
    # a stratum's shortfall reason is in shortfalls.csv only
    "strata.csv": fields_of(StratumRow, leaving_out=("reason",)),
    "draws.csv": fields_of(DrawRow),
    "skipped.csv": fields_of(SkipRow),
    "assignments.csv": fields_of(AssignmentRow),
    "visits.csv": fields_of(VisitRow),
    # the strata drawn below their target, with the binding reason
    "shortfalls.csv": fields_of(StratumRow, leaving_out=("population", "eligible", "floor")),
    # the enterprises the annual cap leaves out, with the inspections that used it
    "capped.csv": fields_of(CapRow),
    # the experts (专家) on each visit, and the visits that got fewer than they need
    "experts.csv": fields_of(AssignmentRow),
    "expert_gaps.csv": fields_of(ExpertGapRow),
    # the saturated officer groups and the officer-visits each needs
    "shortfall_groups.csv": fields_of(GroupAdvice),
}
# The input tables with the columns added since the first release.
EXTENDED_HEADERS: dict[str, tuple[str, ...]] = {
    f"inputs/{kind}.csv": column_names(kind) for kind in OPTIONAL_INPUT_COLUMNS}


def header_of(name: str, data: bytes) -> tuple[str, ...]:
    """Return the header a bundle table is written with: EXTENDED_HEADERS[name] when its
    first line is that header, else HEADERS[name]."""
    extended = EXTENDED_HEADERS.get(name)
    if extended is not None:
        first = data[:data.find(b"\n") + 1] if b"\n" in data else data
        if first.rstrip(b"\r\n") == ",".join(extended).encode():
            return extended
    return HEADERS[name]
# The column of a table that holds a list of values, written ';'-joined in one cell.
LIST_COLUMN: dict[str, str] = {"inputs/inspectors.csv": "qualifications", "visits.csv": "tasks"}


def table_cells(name: str, rows: Iterable[Any],
                header: Sequence[str] | None = None) -> Iterator[Sequence[object]]:
    """Return each row object's cells for a table: its attributes named by the header (by
    default HEADERS[name]), in order, the list column ';'-joined."""
    header = HEADERS[name] if header is None else tuple(header)
    listed = LIST_COLUMN.get(name)
    if listed is None:
        return map(operator.attrgetter(*header), rows)
    at = header.index(listed)
    before, after = _attributes(header[:at]), _attributes(header[at + 1:])
    items, join = operator.attrgetter(listed), ";".join
    return ((*before(row), join(items(row)), *after(row)) for row in rows)


def table_bytes(name: str, rows: Sequence[Any], header: Sequence[str] | None = None) -> bytes:
    """Return a table's canonical CSV file made from row objects: what
    csv_bytes(name, table_cells(name, rows, header), header) writes, made column by column
    (each attribute read for a batch of rows at once, the text joined directly where no value
    needs quotes)."""
    header = HEADERS[name] if header is None else tuple(header)
    listed = LIST_COLUMN.get(name)
    batches = ([_column_text(rows[start:start + CSV_BATCH], column, column == listed)
                for column in header] for start in range(0, len(rows), CSV_BATCH))
    out = io.BytesIO()
    for piece in csv_pieces(name, batches, header):
        out.write(piece)
    return out.getvalue()


def _column_text(rows: Sequence[Any], column: str, listed: bool) -> list[str]:
    """Return the cells of one column as the csv module writes them: a str as it is, None as
    "", a float by repr, anything else by str; the list column ';'-joined."""
    values = list(map(operator.attrgetter(column), rows))
    if listed:
        return list(map(";".join, values))
    kinds = set(map(type, values))
    if kinds <= {str}:
        return values
    if kinds <= {str, int}:
        return list(map(str, values))
    return list(map(_cell_text, values))


def _cell_text(value: object) -> str:
    """Return one cell as the csv module writes it."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _attributes(names: Sequence[str]) -> Callable[[Any], tuple[Any, ...]]:
    """Return a function giving an object's attributes of these names, as a tuple."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    return lambda row: tuple(getattr(row, name) for name in names)


def csv_bytes(name: str, rows: Iterable[Sequence[object]],
              header: Sequence[str] | None = None) -> bytes:
    """Return a canonical CSV file: header (by default HEADERS[name]), rows as given, UTF-8,
    `\\n` line ends."""
    out = io.BytesIO()
    rows = itertools.chain([HEADERS[name] if header is None else tuple(header)], rows)
    # formatted a batch at a time: the text of the whole file is never held as str
    while batch := list(itertools.islice(rows, CSV_BATCH)):
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(batch)
        out.write(text.getvalue().encode("utf-8"))
    return out.getvalue()  # BytesIO hands over its buffer: no second copy


def columns_csv_bytes(name: str, batches: Iterable[Sequence[list[str] | np.ndarray]]
                      ) -> bytes:
    """Return a canonical CSV file (as csv_bytes writes it) of text given as batches of
    columns (as csv_pieces takes them)."""
    out = io.BytesIO()
    for piece in csv_pieces(name, batches):
        out.write(piece)
    return out.getvalue()


def csv_pieces(name: str, batches: Iterable[Sequence[list[str] | np.ndarray]],
               header: Sequence[str] | None = None) -> Iterator[bytes]:
    """Yield a canonical CSV file a batch at a time: the header line, then each batch of
    columns as text (lists of str, or 'S' columns of UTF-8 bytes without a NUL). A batch
    with no value to quote (no comma, quote, line break or NUL) is joined by commas
    directly: as bytes by numpy when its columns are, else as str at twice the csv module's
    speed."""
    yield csv_bytes(name, (), header)
    for batch in batches:
        arrays = [column for column in batch if isinstance(column, np.ndarray)]
        if len(arrays) == len(batch) and not any(holds(c, _QUOTED_BYTES) for c in arrays):
            if len(arrays[0]):
                yield lines(arrays)
            continue
        columns = [as_str(c) if isinstance(c, np.ndarray) else c for c in batch]
        values = "".join(itertools.chain.from_iterable(columns))
        if any(mark in values for mark in _QUOTED):
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(zip(*columns, strict=True))
            yield text.getvalue().encode("utf-8")
        elif columns[0]:
            yield ("\n".join(map(",".join, zip(*columns, strict=True))) + "\n").encode("utf-8")


_QUOTED = (",", '"', "\r", "\n", "\0")  # a value holding one may be written quoted
_QUOTED_BYTES = b',"\r\n'  # the same marks in an 'S' column, which never holds a NUL


def read_table(name: str, data: bytes) -> list[tuple[str, ...]]:
    """Return the rows of one of a bundle's CSV files, refusing a wrong header or row width."""
    return [row for columns in table_columns(name, data) for row in zip(*columns, strict=True)]


def table_columns(name: str, data: bytes, *, as_bytes: bool = False
                  ) -> Iterator[list[list[str]] | list[np.ndarray]]:
    """Yield the data rows of one of a bundle's CSV files a chunk at a time, as columns;
    refuse it as read_table does (possibly after yielding some chunks).

    The canonical form is read without the csv module where it cannot differ from it:
    every line one record (no carriage return or NUL anywhere, each line holding a quote
    written exactly as csv writes that row), so a quote-free line is its fields joined by
    commas and the text can be cut into chunks at any line end. `as_bytes`: a chunk of such
    lines comes as 'S' columns of UTF-8 bytes (no Python object per value); others as lists
    of str.
    """
    columns = header_of(name, data)
    width = len(columns)
    header = (",".join(columns) + "\n").encode()
    if not (data.startswith(header) and data.endswith(b"\n") and b"\r" not in data
            and b"\0" not in data and _quoted_lines_are_records(data, width)):
        yield from _csv_columns(name, data, width)
        return
    start = len(header)
    while start < len(data):
        end = data.rfind(b"\n", start, start + _CHUNK_BYTES) + 1
        if end <= start:  # one line longer than a chunk
            end = data.find(b"\n", start) + 1
        yield _line_columns(name, data, start, end, width, as_bytes)
        start = end


_CHUNK_BYTES = 1 << 24  # bytes of a bundle table read at a time


def _quoted_lines_are_records(data: bytes, width: int) -> bool:
    """Return whether each line holding a quote is a row exactly as csv writes it."""
    at = data.find(b'"')
    while at >= 0:
        start, end = data.rfind(b"\n", 0, at) + 1, data.find(b"\n", at) + 1
        try:
            line = data[start:end].decode("utf-8")
            rows = list(csv.reader([line]))
        except (UnicodeDecodeError, csv.Error):
            return False
        if len(rows) != 1 or len(rows[0]) != width:
            return False
        written = io.StringIO()
        csv.writer(written, lineterminator="\n").writerow(rows[0])
        if written.getvalue() != line:
            return False
        at = data.find(b'"', end)
    return True


def _line_columns(name: str, data: bytes, start: int, end: int, width: int,
                  as_bytes: bool = False) -> list[list[str]] | list[np.ndarray]:
    """Return the lines data[start:end] (whole lines, each one record) as columns: 'S'
    columns if `as_bytes` and no line holds a quote, else lists of str."""
    try:
        text = str(memoryview(data)[start:end], "utf-8")
    except UnicodeDecodeError:
        _refuse_table(name, data)
    # the bytes after the lines too: cut() takes a value's padding from them, not a copy
    whole = np.frombuffer(data, np.uint8, offset=start)
    raw = whole[:end - start]
    newline = raw == ord("\n")
    ends = np.flatnonzero(newline)
    if (data.find(b'"', start, end) >= 0
            or int(np.diff(ends, prepend=-1).max()) > csv.field_size_limit()):
        try:
            rows = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            _refuse_table(name, data)
        if any(len(row) != width for row in rows):
            _refuse_table(name, data)
        return as_columns(rows, width)
    if as_bytes:
        # each row's fields end at a comma, its last at the line end
        found = np.flatnonzero(newline | (raw == ord(",")))
        if len(found) != len(ends) * width or not bool(
                (found[width - 1::width] == ends).all()):
            _refuse_table(name, data)
        stops = found.reshape(len(ends), width)
        starts = np.empty_like(stops)
        starts[:, 1:] = stops[:, :-1] + 1
        starts[0, 0], starts[1:, 0] = 0, stops[:-1, -1] + 1
        return [cut(whole, starts[:, k], stops[:, k]) for k in range(width)]
    commas = np.searchsorted(np.flatnonzero(raw == ord(",")), ends)
    if bool((np.diff(commas, prepend=0) != width - 1).any()):
        _refuse_table(name, data)
    fields = text.replace("\n", ",").split(",")  # one empty field after the last line end
    return [fields[k:-1:width] for k in range(width)]


def _csv_columns(name: str, data: bytes, width: int) -> Iterator[list[list[str]]]:
    """Yield the data rows of a bundle table read by the csv module, decoding as it goes."""
    try:
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""))
        if tuple(next(reader, ())) != header_of(name, data):
            raise _Malformed
        while batch := list(itertools.islice(reader, CHUNK_ROWS)):
            if any(len(row) != width for row in batch):
                raise _Malformed
            yield as_columns(batch, width)
    except (UnicodeDecodeError, csv.Error, _Malformed):
        _refuse_table(name, data)


class _Malformed(Exception):
    """A bundle table's header or a row's width is wrong (_refuse_table says which)."""


def _refuse_table(name: str, data: bytes) -> NoReturn:
    """Raise the first problem of a bundle table as reading its whole text finds it: a bad
    byte or quote anywhere comes before a wrong header or row width."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SpotcheckError(f"{name} cannot be read: {exc}") from exc
    header = header_of(name, data)
    if not rows or tuple(rows[0]) != header:
        raise SpotcheckError(f"{name}: the header is not {','.join(header)}")
    width = len(header)
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise SpotcheckError(f"{name}:{number}: the row has {len(row)} field(s), "
                                 f"expected {width}")
    raise SpotcheckError(f"{name} cannot be read")  # not reached: the caller found a problem
