"""An import file opened as rows of text cells: CSV in UTF-8 (with or without a BOM) or
GB18030/GBK, told apart by its bytes (`formats.text_encoding`), or one worksheet of an XLSX
workbook.

A workbook must have exactly one visible sheet with data, or the caller names the sheet;
anything else is refused listing the sheets found. Sizes are bounded (`spotcheck.limits`):
an .xlsx is judged from its zip directory before anything is inflated, a CSV row may hold
at most CSV_ROW_CHARACTERS, and a worksheet at most Excel's 1,048,576 rows.
"""

from __future__ import annotations

import csv
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from spotcheck.errors import shown_value
from spotcheck.formats.text_encoding import csv_encoding, file_refused
from spotcheck.formats.zip_limits import ZIP_ERRORS, zip_problem
from spotcheck.limits import (
    CSV_ROW_CHARACTERS,
    XLSX_ENTRIES,
    XLSX_SHARED_STRINGS_BYTES,
    XLSX_UNCOMPRESSED_BYTES,
)

EXCEL_ROWS = 1_048_576  # rows of an Excel worksheet; a workbook claiming more is forged


class UnreadableRow(Exception):
    """The next row of a file cannot be read, nor anything after it: why, and the 0-based
    column where reading stopped (None when no column can be named)."""

    def __init__(self, reason: str, column: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.column = reason, column


@contextmanager
def open_rows(path: str | Path, *, sheet: str | None = None
              ) -> Iterator[tuple[Iterator[list[str]], bool]]:
    """Yield the rows of an import file as cells of text, and whether it is a workbook, while
    the file is open. `sheet`: the worksheet to read (workbooks only). Raise refusing a file
    that cannot be read; the rows raise UnreadableRow where reading has to stop."""
    name = str(path)
    with ExitStack() as stack:
        try:
            stream = stack.enter_context(open(path, "rb"))
        except OSError as exc:
            raise file_refused(name, f"cannot open the file: {exc.strerror}") from exc
        magic = stream.read(8)
        stream.seek(0)
        if magic.startswith(b"PK\x03\x04"):
            yield _xlsx_rows(stack, stream, name, sheet), True
            return
        if sheet is not None:
            raise file_refused(name, "--sheet names a worksheet, but the file is not an .xlsx "
                               "workbook")
        if magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise file_refused(name, "an Excel 97-2003 .xls workbook, or a workbook with a "
                               "password, cannot be read; save it as .xlsx without a password "
                               "or as CSV UTF-8")
        if magic.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):
            raise file_refused(name, "UTF-16 text (Excel's 'Unicode text') cannot be read; "
                               "save it as CSV UTF-8 or as .xlsx")
        text = stack.enter_context(open(path, encoding=csv_encoding(path, name), newline=""))
        yield _csv_rows(text), False


def line_ends(path: str | Path) -> int:
    """Return how many line feeds a file has."""
    count = 0
    with open(path, "rb") as stream:
        while block := stream.read(1 << 20):
            count += block.count(b"\n")
    return count


# ---- CSV text: rows, bounded ------------------------------------------------------------

class _Lines:
    """The lines of a text file for csv.reader, each read with a bound, keeping the lines of
    the row being read so that a row too long can name its column."""

    def __init__(self, text: TextIO) -> None:
        self.readline = text.readline
        self.row: list[str] = []
        self.size = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.readline(CSV_ROW_CHARACTERS + 1)
        if not line:
            raise StopIteration
        self.row.append(line)
        self.size += len(line)
        if self.size > CSV_ROW_CHARACTERS:
            raise UnreadableRow(_too_long(), _column_at("".join(self.row)))
        return line

    def next_row(self) -> None:
        """Forget the lines of the row just read."""
        self.row.clear()
        self.size = 0


def _too_long() -> str:
    return (f"the row is longer than {CSV_ROW_CHARACTERS:,} characters (no value of a "
            "registry file is anywhere near as long): not a registry file, or a damaged one")


def _column_at(text: str) -> int:
    """Return the 0-based column being read at the end of `text`, the start of a CSV row."""
    column, at, quoted = 0, 0, False
    while True:
        if quoted:  # a doubled quote "" closes and reopens: the column is the same
            end = text.find('"', at)
            if end < 0:
                return column
            at, quoted = end + 1, False
            continue
        comma, quote = text.find(",", at), text.find('"', at)
        if comma < 0 and quote < 0:
            return column
        if quote >= 0 and (comma < 0 or quote < comma):
            at, quoted = quote + 1, True
        else:
            at, column = comma + 1, column + 1


def _csv_rows(text: TextIO) -> Iterator[list[str]]:
    """Yield the rows of CSV text; raise UnreadableRow at a row that cannot be read."""
    # csv's own cap (131,072 by default) would stop a long value without its column; the
    # rows are bounded by _Lines instead. Process-wide, and only ever raised.
    if csv.field_size_limit() < CSV_ROW_CHARACTERS:
        csv.field_size_limit(CSV_ROW_CHARACTERS)
    lines = _Lines(text)
    reader = csv.reader(lines)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = _column_at("".join(lines.row))
            if "field larger" in str(exc):
                raise UnreadableRow(_too_long(), where) from None
            raise UnreadableRow(f"the CSV text cannot be read from here on: {exc}",
                                where) from None
        lines.next_row()
        yield row


# ---- XLSX workbooks ---------------------------------------------------------------------

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


def _xlsx_rows(stack: ExitStack, stream: BinaryIO, name: str,
               sheet: str | None) -> Iterator[list[str]]:
    """Return the rows of the workbook's one sheet with data (or the sheet named), cells as
    text, after judging the workbook's size from its zip directory."""
    try:
        with zipfile.ZipFile(stream) as archive:
            problem = zip_problem(archive.infolist(), total=XLSX_UNCOMPRESSED_BYTES,
                                  count=XLSX_ENTRIES, limit_of=_xlsx_part_limit)
    except ZIP_ERRORS as exc:
        raise file_refused(name, f"not a readable .xlsx workbook ({exc})") from exc
    if problem:
        raise file_refused(name, f"the .xlsx workbook is refused: {problem}")
    stream.seek(0)
    import openpyxl

    # Given a file object, not a path: openpyxl would refuse a workbook named .csv by its name.
    # Any exception of openpyxl's on a damaged or hostile workbook means it cannot be read;
    # its warnings (features it drops) say nothing about the cell values read here.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as exc:
        raise file_refused(name, f"not a readable .xlsx workbook ({exc!r:.200})") from exc
    stack.callback(workbook.close)  # read-only workbooks keep the file open until closed
    return _sheet_rows(_chosen_sheet(workbook, name, sheet))


def _xlsx_part_limit(name: str) -> int:
    """Return the most bytes one part of a workbook may inflate to."""
    if name.lower().endswith("sharedstrings.xml"):
        return XLSX_SHARED_STRINGS_BYTES
    return XLSX_UNCOMPRESSED_BYTES


def _has_data(worksheet: Any) -> bool:
    """Return whether any cell of a worksheet holds something other than spaces."""
    return any(value is not None and _cell_text(value).strip()
               for values in _bounded(worksheet) for value in values)


def _bounded(worksheet: Any) -> Iterator[tuple[Any, ...]]:
    """Yield a worksheet's rows of values, raising UnreadableRow where it cannot be read."""
    worksheet.reset_dimensions()  # a forged dimension (A1:XFD1048576) would pad every row
    rows = worksheet.iter_rows(min_row=1, values_only=True)
    for number in range(1, EXCEL_ROWS + 2):
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # damaged XML, a bad cell reference or number: see above
            raise UnreadableRow(f"the worksheet cannot be read from here on ({exc!r:.200})") \
                from exc
        if number > EXCEL_ROWS:
            raise UnreadableRow(f"the worksheet has more than {EXCEL_ROWS:,} rows, more "
                                "than Excel allows: the workbook was not written by Excel")
        yield values


def _chosen_sheet(workbook: Any, name: str, wanted: str | None) -> Any:
    """Return the worksheet to read: the one named, or the one visible sheet with data."""
    sheets = workbook.worksheets
    if wanted is not None:
        for worksheet in sheets:
            if worksheet.title == wanted:
                return worksheet
        listing = ", ".join(shown_value(w.title) for w in sheets)
        raise file_refused(name, f"the workbook has no sheet named {shown_value(wanted)}; its "
                           f"sheets are {listing or 'none'}")
    try:
        found = [(w, w.sheet_state == "visible", _has_data(w)) for w in sheets]
    except UnreadableRow as exc:
        raise file_refused(name, exc.reason) from exc
    with_data = [w for w, visible, data in found if visible and data]
    if len(with_data) == 1:
        return with_data[0]
    if not with_data and not any(data for _, _, data in found) and sheets:
        return sheets[0]  # nothing anywhere: the table reader says the file is empty
    listing = "; ".join(f"{shown_value(w.title)} ({'visible' if visible else 'hidden'}, "
                        f"{'with data' if data else 'empty'})" for w, visible, data in found)
    if not sheets:
        raise file_refused(name, "the workbook has no worksheet")
    why = (f"{len(with_data)} visible sheets have data" if with_data else
           "no visible sheet has data")
    raise file_refused(name, f"{why} — the workbook has {listing}; name the sheet to import "
                       "with --sheet")


def _sheet_rows(worksheet: Any) -> Iterator[list[str]]:
    """Yield the rows of a worksheet, cells as text."""
    for values in _bounded(worksheet):
        yield [_cell_text(value) for value in values]
