"""An import file opened as a table: its header mapped to the kind's columns (English names
or Chinese aliases), its data rows as stripped text cells, and every problem found on the way.

A file is read whole or refused whole: the problems are collected and one InvalidInputError
lists them all as `FILE:ROW: column 'X' value 'V': reason`, where ROW is the spreadsheet row
(the header is row 1) and X is the header as the planner wrote it. A row that cannot be
read at all (too long, damaged) ends the reading, named by its row and, where known, column.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import methodcaller
from pathlib import Path
from typing import Any

from spotcheck.errors import InvalidInputError, RowProblem, shown_value
from spotcheck.formats.file_rows import UnreadableRow, line_ends, open_rows
from spotcheck.formats.registry_values import COLUMNS
from spotcheck.formats.text_encoding import file_refused

# What is stripped from the ends of a cell: the spaces a keyboard types. Any other space or
# invisible character stays, to be judged by the column's rule (a code refuses it).
ASCII_SPACE = " \t\r\n\x0b\x0c"


def _letter(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass
class ImportTable:
    """An opened import file: its header mapped to columns, its rows, the problems found."""

    name: str                           # the path as the user gave it, for messages
    kind: str
    header: list[str]                   # column headers as written, trailing empties dropped
    index: dict[str, int]               # column name → position in a row
    raw_rows: Iterator[list[Any]]       # rows after the header, cells as text
    pads_short_rows: bool               # Excel stores no empty trailing cells; CSV must be exact
    rows_hint: int = 0                  # about how many rows follow the header (0: unknown)
    problems: list[RowProblem] = field(default_factory=list)
    data_rows: int = 0

    def heading(self, column: str) -> str:
        """Return the header text of a column as the file writes it."""
        return self.header[self.index[column]]

    def add(self, row: int, column: str | None, value: str | None, reason: str) -> None:
        """Record one bad value (column given by name) or one bad row (column None)."""
        heading = None if column is None else self.heading(column)
        self.problems.append(RowProblem(self.name, row, heading, value, reason))

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield (spreadsheet row, stripped cells) of each data row; record malformed rows."""
        for numbers, cells in self.chunks(1024):
            yield from zip(numbers, cells, strict=True)

    def chunks(self, size: int) -> Iterator[tuple[array[int], list[list[str]]]]:
        """Yield the data rows `size` at a time: their spreadsheet rows and stripped cells;
        record malformed rows."""
        width = len(self.header)
        strip = methodcaller("strip", ASCII_SPACE)
        blanks: list[int] = []
        numbers: array[int] = array("I")
        chunk: list[list[str]] = []
        row = 1
        try:
            for raw in self.raw_rows:
                row += 1
                cells = list(map(strip, raw))
                if not any(cells):
                    # Blank rows after the last data row are Excel's formatted empties: ignored.
                    blanks.append(row)
                    continue
                if blanks:
                    self.problems += [RowProblem(
                        self.name, blank, None, None,
                        "the row is blank but rows with data follow it; delete the row")
                        for blank in blanks]
                    blanks.clear()
                if len(cells) != width:
                    if len(cells) > width and not any(cells[width:]):
                        del cells[width:]
                    elif len(cells) < width and self.pads_short_rows:
                        cells += [""] * (width - len(cells))
                    else:
                        self.problems.append(RowProblem(
                            self.name, row, None, None,
                            f"the row has {len(cells)} values but the header has {width} columns"))
                        continue
                numbers.append(row)
                chunk.append(cells)
                if len(chunk) == size:
                    self.data_rows += size
                    yield numbers, chunk
                    numbers, chunk = array("I"), []
        except UnreadableRow as exc:
            # The row that failed is the one after the last row read; nothing after it counts.
            self.problems.append(self._unreadable(row + 1, exc))
        if chunk:
            self.data_rows += len(chunk)
            yield numbers, chunk

    def _unreadable(self, row: int, exc: UnreadableRow) -> RowProblem:
        """Return the problem of a row that cannot be read, naming its column if known."""
        if exc.column is None:
            return RowProblem(self.name, row, None, None, exc.reason)
        if exc.column < len(self.header):
            return RowProblem(self.name, row, self.header[exc.column], None, exc.reason)
        return RowProblem(self.name, row, None, None,
                          f"column {_letter(exc.column)}: {exc.reason}")

    def rejection(self) -> InvalidInputError | None:
        """Return one error listing every problem found (sorted), or None if there is none."""
        if not self.problems and self.data_rows == 0:
            self.problems.append(RowProblem(self.name, 2, None, None,
                                            "the file has no data rows (only the header row)"))
        if not self.problems:
            return None
        position = {heading: i for i, heading in enumerate(self.header)}
        self.problems.sort(key=lambda p: (p.row or 0, position.get(p.column or "", -1)))
        return InvalidInputError(
            self.problems,
            headline=f"{self.name}: {len(self.problems)} problem(s); the file is rejected whole")

    def check(self) -> None:
        """Raise one error listing every problem found, if any."""
        rejection = self.rejection()
        if rejection is not None:
            raise rejection


_SEPARATORS = {";": "';'", "\t": "tabs", "|": "'|'", "，": "full-width commas '，'"}


def _other_separator(cells: list[str], by_alias: dict[str, Any]) -> str | None:
    """Return how a one-cell header separates known column names if not by commas (a CSV
    saved with semicolons by a European Excel, a tab-separated text file), else None."""
    if len(cells) != 1:
        return None
    for separator, said in _SEPARATORS.items():
        parts = [part.strip().casefold() for part in cells[0].split(separator)]
        if len(parts) > 1 and any(part in by_alias for part in parts):
            return said
    return None


def map_header(name: str, kind: str, cells: list[str]) -> tuple[list[str], dict[str, int]]:
    """Return the header (trailing empties dropped) and column positions; raise if unusable."""
    while cells and not cells[-1]:
        cells = cells[:-1]
    if cells and cells[0].startswith("\ufeff"):  # a GB18030 byte-order mark decodes to U+FEFF
        cells[0] = cells[0][1:].strip()
    columns = COLUMNS[kind]
    by_alias = {alias.casefold(): c for c in columns for alias in (c.name, *c.aliases)}
    listing = ", ".join(f"{c.name} ({'/'.join(c.aliases)})" for c in columns)
    separator = _other_separator(cells, by_alias)
    if separator:
        raise file_refused(name, f"the header is one cell with the columns separated by "
                           f"{separator}, not by commas: save the file as 'CSV UTF-8 (逗号分隔)' "
                           "(comma-separated) or as .xlsx", row=1)
    problems: list[RowProblem] = []
    index: dict[str, int] = {}
    for i, heading in enumerate(cells):
        column = by_alias.get(heading.casefold())
        if column is None:
            reason = (f"column {_letter(i)} has no header" if not heading else
                      f"unknown column; a {kind} file has the columns {listing}")
            problems.append(RowProblem(name, 1, heading, None, reason))
        elif column.name in index:
            first = index[column.name]
            problems.append(RowProblem(
                name, 1, heading, None, f"column {_letter(i)} repeats column {_letter(first)} "
                f"({cells[first]!r}): both are {column.name} ({'/'.join(column.aliases)})"))
        else:
            index[column.name] = i
    # Name a missing column in the language the rest of the header is written in.
    chinese = any(not heading.isascii() for heading in cells)
    for column in columns:
        if column.required and column.name not in index:
            problems.append(RowProblem(
                name, 1, column.aliases[0] if chinese else column.name, None,
                f"the required column is missing; name it {column.name} or "
                f"{' or '.join(column.aliases)}"))
    if problems:
        if not any(cells):
            problems = [RowProblem(name, 1, None, None, "the first row must be the header row "
                                   "(the column names), but it is blank")]
        elif not index:
            # Not one column name: a title row above the header, or a file of another kind.
            shown = ", ".join(shown_value(cell) for cell in cells[:4] if cell)
            problems = [RowProblem(name, 1, None, None, (
                f"the first row must be the header row, but none of its cells ({shown}"
                f"{', ...' if len(cells) > 4 else ''}) is a column of a {kind} file "
                f"({listing}): is there a title row above the header, or is it a file of "
                "another kind?"))]
        raise InvalidInputError(problems, headline=f"{name}: the header row is not usable")
    return cells, index


@contextmanager
def open_table(path: str | Path, kind: str, *, sheet: str | None = None) -> Iterator[ImportTable]:
    """Yield the file opened as a table of text cells with its header checked (`sheet`: the
    worksheet of a workbook to read)."""
    name = str(path)
    with open_rows(path, sheet=sheet) as (rows, is_xlsx):
        try:
            first = next(rows, None)
        except UnreadableRow as exc:
            where = "" if exc.column is None else f"column {_letter(exc.column)}: "
            raise file_refused(name, f"the header row cannot be read: {where}{exc.reason}",
                               row=1) from exc
        if first is None:
            raise file_refused(name, "the file has no data rows (it is empty)", row=1)
        header, index = map_header(name, kind, [str(cell).strip() for cell in first])
        # enterprises fill columns sized up front: a CSV has at least as many line feeds
        hint = line_ends(path) if kind == "enterprises" and not is_xlsx else 0
        yield ImportTable(name, kind, header, index, rows, pads_short_rows=is_xlsx,
                          rows_hint=hint)
