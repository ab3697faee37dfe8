"""An import file opened as rows of text cells: CSV in UTF-8 (with or without a BOM) or
GB18030/GBK, told apart by its bytes, or the first worksheet of an XLSX workbook.

What cannot be read (an .xls workbook, UTF-16 text, bytes of neither encoding) is refused
with the reason and what to save the file as instead.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import BinaryIO

from spotcheck.errors import InvalidInputError, RowProblem


def file_refused(name: str, reason: str, row: int | None = None) -> InvalidInputError:
    """Return the error refusing a whole file for one reason."""
    return InvalidInputError([RowProblem(name, row, None, None, reason)],
                             headline=f"{name}: the file is rejected")


@contextmanager
def open_rows(path: str | Path) -> Iterator[tuple[Iterator[list[str]], bool]]:
    """Yield the rows of an import file as cells of text, and whether it is a workbook, while
    the file is open. Raise refusing a file that cannot be read."""
    name = str(path)
    with ExitStack() as stack:
        try:
            stream = stack.enter_context(open(path, "rb"))
        except OSError as exc:
            raise file_refused(name, f"cannot open the file: {exc.strerror}") from exc
        magic = stream.read(8)
        stream.seek(0)
        if magic.startswith(b"PK\x03\x04"):
            yield _xlsx_rows(stack, stream, name), True
            return
        if magic.startswith(b"\xd0\xcf\x11\xe0"):
            raise file_refused(name, "an Excel 97-2003 .xls workbook cannot be read; "
                               "save it as .xlsx or as CSV UTF-8")
        if magic.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise file_refused(name, "UTF-16 text (Excel's 'Unicode text') cannot be read; "
                               "save it as CSV UTF-8 or as .xlsx")
        text = stack.enter_context(open(path, encoding=csv_encoding(path, name), newline=""))
        yield csv.reader(text), False


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


def csv_encoding(path: str | Path, name: str) -> str:
    """Return the text encoding of a CSV file, detected from its bytes; raise if neither fits."""
    bad = _first_bad_byte(path, "utf-8")
    if bad is None:
        return "utf-8-sig"
    before = _prefix(path, bad)
    if len(before.translate(None, bytes(range(0xC0)))) >= _UTF8_EVIDENCE:
        # Plenty of valid UTF-8 before one bad byte (a count of lead bytes): reading it as
        # GB18030 would turn every name into mojibake without an error, so refuse instead.
        line = before.count(b"\n") + 1
        raise file_refused(name, f"the file is UTF-8 text, but line {line} has bytes that are not "
                       "UTF-8 (a damaged file?); save it again as CSV UTF-8")
    bad = _first_bad_byte(path, "gb18030")
    if bad is None:
        return "gb18030"
    line = _prefix(path, bad).count(b"\n") + 1
    raise file_refused(name, f"the file is neither UTF-8 nor GB18030/GBK text (line {line} cannot "
                   "be read); save it from Excel as 'CSV UTF-8 (逗号分隔)' or as .xlsx")


def line_ends(path: str | Path) -> int:
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
        raise file_refused(name, f"not a readable .xlsx workbook ({exc})") from exc
    stack.callback(workbook.close)  # read-only workbooks keep the file open until closed
    sheet = workbook.worksheets[0]
    # min_row=1: a sheet's stored dimension may start lower, and row numbers must stay true.
    return ([_cell_text(value) for value in values]
            for values in sheet.iter_rows(min_row=1, values_only=True))
