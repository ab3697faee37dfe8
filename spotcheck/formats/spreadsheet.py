"""Files for people: CSV that Excel opens (UTF-8 with BOM) and XLSX, both formula-safe and
byte-reproducible.

A value that begins with `=`, `+`, `-`, `@`, a tab or a carriage return would be taken for a
formula by a spreadsheet (CSV injection: `=HYPERLINK(…)`, `=cmd|' /C calc'!A0`). In CSV such
a value is written with a leading apostrophe, which Excel and WPS show as text and hide;
`restore_cell` takes it off again when spotcheck reads its own public files back. In XLSX the
cell is a string cell marked quote-prefixed, so the value is kept exactly and never
evaluated. Audit bundles are not written here: they keep the exact bytes, for machines.

The XLSX has fixed document times and zip entry times, so the same rows give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from spotcheck.errors import InvalidInputError

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
_FIXED_TIME = dt.datetime(2000, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def neutralise_cell(value: str) -> str:
    """Return `value` as a CSV cell no spreadsheet evaluates: a leading apostrophe if needed
    (also before a value that already begins with apostrophes and then a formula sign, so
    that `restore_cell` gives back exactly what was written)."""
    return f"'{value}" if value.lstrip("'").startswith(FORMULA_STARTS) else value


def restore_cell(value: str) -> str:
    """Return the value `neutralise_cell` was given."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value


def csv_for_people(header: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """Return a CSV file (UTF-8 with BOM, CRLF, every cell formula-safe)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([neutralise_cell(h) for h in header])
    writer.writerows([neutralise_cell(str(c)) for c in row] for row in rows)
    return (BOM + text.getvalue()).encode("utf-8")


def read_csv_for_people(data: bytes) -> list[list[str]]:
    """Return the rows (header first) of a file `csv_for_people` wrote, cells restored."""
    text = data.decode("utf-8-sig")
    return [[restore_cell(c) for c in row] for row in csv.reader(io.StringIO(text))]


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name, header, rows and column widths (characters)."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    widths: Sequence[int] = ()
    number_formats: dict[int, str] | None = None  # column index → Excel number format


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """Return an .xlsx of these sheets: header row bold and frozen, text cells never formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils.exceptions import IllegalCharacterError
    from openpyxl.writer.excel import ExcelWriter

    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        page = book.create_sheet(sheet.title)
        page.append([str(h) for h in sheet.header])
        for cell in page[1]:
            cell.font = Font(bold=True)
        for number, row in enumerate(sheet.rows, start=2):
            try:
                page.append(list(row))
            except IllegalCharacterError as exc:  # a control character, from a forged input
                raise InvalidInputError(f"{sheet.title}, row {number}: {exc} (a control "
                                        "character no worksheet can hold)") from None
        for row_cells in page.iter_rows(min_row=1):
            for cell in row_cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text begins with
                    if cell.value.startswith(FORMULA_STARTS):
                        cell.alignment = Alignment(horizontal="left")
                        cell.quotePrefix = True
        for index, fmt in (sheet.number_formats or {}).items():
            for (cell,) in page.iter_rows(min_row=2, min_col=index + 1, max_col=index + 1):
                cell.number_format = fmt
        for index, width in enumerate(sheet.widths):
            page.column_dimensions[page.cell(1, index + 1).column_letter].width = width
        page.freeze_panes = "A2"
    book.properties.created = book.properties.modified = _FIXED_TIME
    book.properties.creator = "spotcheck"
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).save()
    return _fixed_zip_times(raw.getvalue())


def _fixed_zip_times(data: bytes) -> bytes:
    """Return the same zip with every entry dated 1980-01-01, in the same order."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, _ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def read_xlsx_rows(data: bytes) -> list[list[str]]:
    """Return the first sheet's rows of an .xlsx spotcheck wrote, as text (header first)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        page = book.worksheets[0]
        return [["" if v is None else str(v) for v in row]
                for row in page.iter_rows(values_only=True)]
    finally:
        book.close()
