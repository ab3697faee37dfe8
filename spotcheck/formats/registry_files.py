"""Registry import files (DESIGN §4): a planner's CSV or XLSX turned into validated registry data.

A file is read whole or refused whole: every bad row is collected and one InvalidInputError
lists them all as `FILE:ROW: column 'X' value 'V': reason`, where ROW is the spreadsheet row
(the header is row 1) and X is the header as the planner wrote it. Enterprises are checked
and turned into numpy columns a chunk of rows at a time (no pydantic object per row, no list
of every row's text) so a province of ten million rows fits.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence, Set
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

from spotcheck.errors import InvalidInputError, RowProblem
from spotcheck.models.domain import Conflict, HistoryRecord, Inspector
from spotcheck.models.identifiers import (
    CONTROL,
    ENTERPRISE_JURISDICTION,
    INDUSTRY_CODE,
    INSPECTOR_ID,
    JURISDICTION_PREFIX,
    QUALIFICATION,
    TASK_CODE,
    TIER_NAME,
    uscc_problem,
    uscc_valid_mask,
)
from spotcheck.models.policy import RESULT_CODE
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

KINDS = ("enterprises", "inspectors", "conflicts", "history")
RegistryData = EnterpriseColumns | list[Inspector] | list[Conflict] | list[HistoryRecord]
_Record = TypeVar("_Record", bound=BaseModel)


# ---- values: each parser returns the value or raises ValueError with the planner's reason ----

def _uscc(text: str) -> str:
    """Return a valid unified social credit code unchanged; raise saying why it is not."""
    problem = uscc_problem(text)
    if problem is None:
        return text
    if uscc_problem(text.upper()) is None:
        # DESIGN §4: an invalid code is rejected, never "fixed" — but say what is wrong.
        problem += "; codes are written in upper case"
    raise ValueError(problem)


def _matching(pattern: re.Pattern[str], reason: str) -> Callable[[str], str]:
    """Return a parser accepting text that fully matches `pattern`, refusing with `reason`."""
    def parse(text: str) -> str:
        if not pattern.fullmatch(text):
            raise ValueError(reason)
        return text
    return parse


def _longest(limit: int, what: str) -> Callable[[str], str]:
    """Return a parser accepting text of at most `limit` characters."""
    def parse(text: str) -> str:
        if len(text) > limit:
            raise ValueError(f"{what} is longer than {limit} characters")
        return text
    return parse


def _capacity(text: str) -> int:
    """Return a quarterly capacity (季度检查上限) as a non-negative whole number."""
    if not re.fullmatch(r"-?[0-9]+", text):
        raise ValueError("capacity (季度检查上限) must be a whole number of visits, such as 12")
    value = int(text)
    if value < 0:
        raise ValueError("capacity must be 0 or more")
    if value > 100_000:
        raise ValueError("capacity must be at most 100000")
    return value


_DATE_FORMS = tuple(re.compile(form) for form in (
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})",
    r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})",   # how Excel in a Chinese locale writes dates
    r"([0-9]{4})([0-9]{2})([0-9]{2})",
    r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日",
))


def _date(text: str) -> date:
    """Return the day written in one of the forms planners type."""
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise ValueError(f"{text} is not a day of the calendar") from None
    raise ValueError("not a date; write it as 2028-12-31, 2028/12/31, 20281231 or 2028年12月31日")


_QUALIFICATION_SEPARATORS = re.compile(r"[;,、；，]")


def _qualifications(text: str) -> tuple[str, ...]:
    """Return the qualifications (执法领域) listed in one cell."""
    items = tuple(item.strip() for item in _QUALIFICATION_SEPARATORS.split(text))
    for item in items:
        if item and not QUALIFICATION.fullmatch(item):
            raise ValueError(f"qualification {item!r} has a space or is over 64 characters; "
                             "separate qualifications (执法领域) with ; 、 or ,")
    # An empty item comes from a trailing or doubled separator, which planners type freely.
    return tuple(item for item in items if item)


def _result_codes(text: str) -> tuple[str, ...]:
    """Return the result codes (检查结果) of one cell, sorted and distinct."""
    codes = [item.strip() for item in _QUALIFICATION_SEPARATORS.split(text)]
    bad = [c for c in codes if c and not RESULT_CODE.fullmatch(c)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a result code (1-8 letters or digits; separate "
                         "codes with ; 、 or ,)")
    found = tuple(sorted({c for c in codes if c}))
    if not found:
        raise ValueError("no result code; write one such as 1 (未发现问题) or A")
    return found


def _inspector_list(text: str) -> tuple[str, ...]:
    """Return the inspectors (实际检查人员) of one cell: certificate numbers, sorted, distinct."""
    items = [item.strip() for item in _QUALIFICATION_SEPARATORS.split(text)]
    bad = [i for i in items if i and not INSPECTOR_ID.fullmatch(i)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a certificate number (执法证号: 1-32 letters, "
                         "digits or '-'); separate them with ; 、 or ,")
    return tuple(sorted({i for i in items if i}))


def _tier_parser(tiers: Collection[str] | None) -> Callable[[str], str]:
    """Return a parser accepting the policy's tiers, or any tier name when none are given."""
    if tiers is None:
        return _matching(TIER_NAME, "a tier (信用风险分类) is a letter such as A, B, C or D")
    defined = frozenset(tiers)
    listing = ", ".join(sorted(defined))

    def parse(text: str) -> str:
        if text not in defined:
            raise ValueError(f"tier {text!r} is not defined in the policy, which defines {listing}")
        return text
    return parse


# ---- columns of each file kind (DESIGN §4 table) ----

@dataclass(frozen=True)
class _Column:
    """A column an import file may have: English name, Chinese aliases and value parser."""

    name: str
    aliases: tuple[str, ...]
    parse: Callable[[str], Any]
    required: bool = True  # a required column must be present and non-empty on every row


_ENTERPRISE_ID = _Column("enterprise_id", ("统一社会信用代码",), _uscc)
_INSPECTOR_ID = _Column("inspector_id", ("执法证号",), _matching(
    INSPECTOR_ID, "a certificate number (执法证号) is 1-32 letters, digits or '-'"))

_COLUMNS: dict[str, tuple[_Column, ...]] = {
    "enterprises": (
        _ENTERPRISE_ID,
        _Column("name", ("企业名称", "市场主体名称"), _longest(200, "the name (企业名称)")),
        _Column("jurisdiction", ("行政区划代码", "管辖区划"), _matching(
            ENTERPRISE_JURISDICTION, "an enterprise's jurisdiction (行政区划代码) "
            "is a 6-digit GB/T 2260 code such as 330102")),
        _Column("industry", ("行业代码",), _matching(
            INDUSTRY_CODE, "an industry code (行业代码) "
            "is up to 8 letters and digits, such as C3411"), required=False),
        _Column("tier", ("信用风险分类", "风险分类"), _tier_parser(None)),
    ),
    "inspectors": (
        _INSPECTOR_ID,
        _Column("name", ("姓名",), _longest(100, "the name (姓名)")),
        _Column("department", ("部门", "所属部门"), _longest(64, "the department (部门)")),
        _Column("jurisdiction", ("管辖区划",), _matching(
            JURISDICTION_PREFIX, "an inspector's jurisdiction (管辖区划) "
            "is a GB/T 2260 prefix of 1-6 digits, such as 3301")),
        _Column("qualifications", ("执法领域",), _qualifications, required=False),
        _Column("capacity", ("季度检查上限",), _capacity),
        _Column("certificate_expiry", ("执法证有效期",), _date),
    ),
    "conflicts": (
        _INSPECTOR_ID,
        _ENTERPRISE_ID,
        _Column("reason", ("回避原因",), str, required=False),
    ),
    "results": (
        _ENTERPRISE_ID,
        _Column("task", ("抽查任务编号", "抽查任务"), _matching(
            TASK_CODE, "a task code (抽查任务编号) is 1-32 of A-Z a-z 0-9 _ . -")),
        _Column("completed_on", ("检查完成日期",), _date),
        _Column("result", ("检查结果",), _result_codes),
        _Column("remarks", ("备注",), _longest(2000, "the remarks (备注)"), required=False),
        _Column("inspectors", ("实际检查人员",), _inspector_list, required=False),
    ),
    "history": (
        _ENTERPRISE_ID,
        _Column("task", ("抽查任务",), _matching(
            TASK_CODE, "a task code (抽查任务) is 1-32 of A-Z a-z 0-9 _ . -")),
        _Column("department", ("部门",), str, required=False),
        _Column("inspected_on", ("检查日期",), _date),
    ),
}


_EMPTY = "the value is empty; this column is required"


def _reason(column: _Column, text: str) -> str | None:
    """Return why `text` is refused in `column`, or None if it is accepted."""
    if not text:
        return _EMPTY if column.required else None
    if CONTROL.search(text):
        return "control characters and line breaks (Alt+Enter in Excel) are not allowed"
    try:
        column.parse(text)
    except ValueError as exc:
        return str(exc)
    return None


def _letter(index: int) -> str:
    """Return the spreadsheet letter of a 0-based column index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _refused(name: str, reason: str, row: int | None = None) -> InvalidInputError:
    """Return the error refusing a whole file for one reason."""
    return InvalidInputError([RowProblem(name, row, None, None, reason)],
                             headline=f"{name}: the file is rejected")


# ---- the opened file ----

@dataclass
class _Table:
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
        strip = str.strip
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
        except csv.Error as exc:
            self.problems.append(RowProblem(self.name, row, None, None,
                                            f"the CSV text cannot be read from here on: {exc}"))
        if chunk:
            self.data_rows += len(chunk)
            yield numbers, chunk

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


def _map_header(name: str, kind: str, cells: list[str]) -> tuple[list[str], dict[str, int]]:
    """Return the header (trailing empties dropped) and column positions; raise if unusable."""
    while cells and not cells[-1]:
        cells = cells[:-1]
    if cells and cells[0].startswith("\ufeff"):  # a GB18030 byte-order mark decodes to U+FEFF
        cells[0] = cells[0][1:].strip()
    columns = _COLUMNS[kind]
    by_alias = {alias.casefold(): c for c in columns for alias in (c.name, *c.aliases)}
    listing = ", ".join(f"{c.name} ({'/'.join(c.aliases)})" for c in columns)
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
        raise InvalidInputError(problems, headline=f"{name}: the header row is not usable")
    return cells, index


_UTF8_EVIDENCE = 20  # multi-byte UTF-8 characters seen before a bad byte: a damaged UTF-8 file


def _first_bad_byte(path: str | Path, encoding: str) -> int | None:
    """Return the offset of the first byte not decodable as `encoding`, or None if none is."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    offset = 0
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # exc.start counts from bytes the decoder held back (at most 3): near enough.
                return max(0, offset + exc.start)
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset
    return None


def _prefix(path: str | Path, end: int) -> bytes:
    """Return the first `end` bytes of a file."""
    with open(path, "rb") as stream:
        return stream.read(end)


def _csv_encoding(path: str | Path, name: str) -> str:
    """Return the text encoding of a CSV file, detected from its bytes; raise if neither fits."""
    bad = _first_bad_byte(path, "utf-8")
    if bad is None:
        return "utf-8-sig"
    before = _prefix(path, bad)
    if len(before.translate(None, bytes(range(0xC0)))) >= _UTF8_EVIDENCE:
        # Plenty of valid UTF-8 before one bad byte (a count of lead bytes): reading it as
        # GB18030 would turn every name into mojibake without an error, so refuse instead.
        line = before.count(b"\n") + 1
        raise _refused(name, f"the file is UTF-8 text, but line {line} has bytes that are not "
                       "UTF-8 (a damaged file?); save it again as CSV UTF-8")
    bad = _first_bad_byte(path, "gb18030")
    if bad is None:
        return "gb18030"
    line = _prefix(path, bad).count(b"\n") + 1
    raise _refused(name, f"the file is neither UTF-8 nor GB18030/GBK text (line {line} cannot "
                   "be read); save it from Excel as 'CSV UTF-8 (逗号分隔)' or as .xlsx")


def _line_ends(path: str | Path) -> int:
    """Return how many line feeds a file has."""
    count = 0
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            count += block.count(b"\n")
    return count


def _cell_text(value: object) -> str:
    """Return an Excel cell as the text the planner typed (12.0 → '12', a date → ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _xlsx_rows(stack: ExitStack, stream: BinaryIO, name: str) -> Iterator[list[str]]:
    """Return the rows of the first worksheet of a workbook, cells as text."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    # Given a file object, not a path: openpyxl would refuse a workbook named .csv by its name.
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, InvalidFileException) as exc:
        raise _refused(name, f"not a readable .xlsx workbook ({exc})") from exc
    stack.callback(workbook.close)  # read-only workbooks keep the file open until closed
    sheet = workbook.worksheets[0]
    # min_row=1: a sheet's stored dimension may start lower, and row numbers must stay true.
    return ([_cell_text(value) for value in values]
            for values in sheet.iter_rows(min_row=1, values_only=True))


@contextmanager
def _open_table(path: str | Path, kind: str) -> Iterator[_Table]:
    """Yield the file opened as a table of text cells with its header checked."""
    name = str(path)
    with ExitStack() as stack:
        try:
            stream = stack.enter_context(open(path, "rb"))
        except OSError as exc:
            raise _refused(name, f"cannot open the file: {exc.strerror}") from exc
        magic = stream.read(8)
        stream.seek(0)
        rows: Iterator[list[str]]
        is_xlsx = magic.startswith(b"PK\x03\x04")
        if is_xlsx:
            rows = _xlsx_rows(stack, stream, name)
        elif magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise _refused(name, "an Excel 97-2003 .xls workbook cannot be read; "
                           "save it as .xlsx or as CSV UTF-8")
        elif magic.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise _refused(name, "UTF-16 text (Excel's 'Unicode text') cannot be read; "
                           "save it as CSV UTF-8 or as .xlsx")
        else:
            text = stack.enter_context(
                open(path, encoding=_csv_encoding(path, name), newline=""))
            rows = csv.reader(text)
        first = next(rows, None)
        if first is None:
            raise _refused(name, "the file has no data rows (it is empty)", row=1)
        header, index = _map_header(name, kind, [str(cell).strip() for cell in first])
        # enterprises fill columns sized up front: a CSV has at least as many line feeds
        hint = _line_ends(path) if kind == "enterprises" and not is_xlsx else 0
        yield _Table(name, kind, header, index, rows, pads_short_rows=is_xlsx, rows_hint=hint)


# ---- enterprises: streamed into columns, validated without a Python object per row ----

def read_enterprises(path: str | Path, *,
                     tiers: Collection[str] | None = None) -> EnterpriseColumns:
    """Return the enterprises of a file as id-sorted columns; raise listing every bad row.

    `tiers`, when given, are the tiers the policy defines; any other tier is refused.
    Rows are checked and turned into numpy columns a chunk at a time, so only one chunk's
    Python strings are held at once.
    """
    columns = {c.name: c for c in _COLUMNS["enterprises"]}
    columns["tier"] = _Column("tier", columns["tier"].aliases, _tier_parser(tiers))
    with _open_table(path, "enterprises") as table:
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


def _checked_chunk(table: _Table, columns: dict[str, _Column], rows: array[int],
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
            or CONTROL.search("|".join(names))):
        _check_column(table, rows, columns["name"], names,
                      {name for name in names
                       if not name or len(name) > NAME_LENGTH or CONTROL.search(name)})
    # Codes of the wrong length or alphabet cannot go into numpy's 'S18': report them here.
    shaped: Sequence[str] = ids
    if set(map(len, ids)) - {18} or not all(map(str.isascii, ids)):
        misshapen = {c for c in ids if len(c) != 18 or not c.isascii()}
        _check_column(table, rows, columns["enterprise_id"], ids, misshapen)
        shaped = ["" if c in misshapen else c for c in ids]
    id_column = np.array(shaped, dtype="S18").reshape(len(ids))
    valid = uscc_valid_mask(id_column)
    for i in np.flatnonzero(~valid & (id_column != b"")).tolist():
        table.add(rows[i], "enterprise_id", ids[i], _reason(_ENTERPRISE_ID, ids[i]) or "invalid")
    id_column[~valid] = b""  # a bad code is not also reported as a repeat
    if table.problems:
        chunked.add(id_column)
    else:  # every value was accepted above, so each fits its column exactly
        chunked.add(id_column, text_column(names), fixed_width(jurisdictions, 6)[0],
                    fixed_width(industries, 8)[0], fixed_width(tiers, 16)[0])
    return np.frombuffer(rows, dtype=np.uintc).copy()


def _check_column(table: _Table, rows: array[int], column: _Column, values: Sequence[str],
                  distinct: Iterable[str]) -> None:
    """Record each row whose value in `column` is refused, checking each distinct value once."""
    refused = {text: reason for text in distinct if (reason := _reason(column, text))}
    if refused:
        for i, text in enumerate(values):
            if text in refused:
                table.add(rows[i], column.name, text, refused[text])


# ---- inspectors, conflicts and history: small files, one validated record per row ----

def _records(table: _Table, model: type[_Record]) -> Iterator[tuple[int, _Record]]:
    """Yield (spreadsheet row, record) for each data row whose values are all accepted."""
    present = [(c, table.index[c.name]) for c in _COLUMNS[table.kind] if c.name in table.index]
    for row, cells in table.rows():
        values: dict[str, Any] = {}
        accepted = True
        for column, at in present:
            text = cells[at]
            if not text:
                if column.required:
                    table.add(row, column.name, text, _EMPTY)
                    accepted = False
                continue  # an optional column's empty cell takes the model's default
            try:
                values[column.name] = column.parse(text)
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


def read_inspectors(path: str | Path) -> list[Inspector]:
    """Return the inspectors of a file in file order; raise listing every bad row."""
    with _open_table(path, "inspectors") as table:
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
                   enterprise_ids: Collection[str] | None = None) -> list[Conflict]:
    """Return the distinct conflicts (回避) of a file; raise listing every bad row.

    When `inspector_ids` / `enterprise_ids` are given, a row naming an id outside them is bad.
    """
    known_inspectors, known_enterprises = _lookup(inspector_ids), _lookup(enterprise_ids)
    with _open_table(path, "conflicts") as table:
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


def read_history(path: str | Path) -> list[HistoryRecord]:
    """Return the distinct past inspections of a file; raise listing every bad row."""
    with _open_table(path, "history") as table:
        history = dict.fromkeys(record for _, record in _records(table, HistoryRecord))
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


def read_results(path: str | Path) -> list[ResultRecord]:
    """Return the inspection results of a file in file order; raise listing every bad row.

    The result codes are checked against the plan's code list when the results are stored
    (`store.results`), where the plan of each row is known.
    """
    with _open_table(path, "results") as table:
        present = [(c, table.index[c.name]) for c in _COLUMNS["results"]
                   if c.name in table.index]
        results: list[ResultRecord] = []
        for row, cells in table.rows():
            values: dict[str, Any] = {}
            for column, at in present:
                reason = _reason(column, cells[at])
                if reason is not None:
                    table.add(row, column.name, cells[at], reason)
                elif cells[at]:
                    values[column.name] = column.parse(cells[at])
            if all(c.name in values for c, _ in present if c.required):
                values["codes"] = values.pop("result")
                results.append(ResultRecord(row=row, **values))
        table.check()
    return results
