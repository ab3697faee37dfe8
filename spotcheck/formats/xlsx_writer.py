"""Large XLSX workbooks written as SpreadsheetML text: a province's planner workbook (several
hundred thousand cells) in a second or two, where openpyxl takes half a minute.

The same promises as `formats.spreadsheet.xlsx_bytes`, for the same `Sheet`s: a bold header
row, frozen; column widths; number formats per column; text in inline-string cells, which a
spreadsheet never evaluates, marked quote-prefixed when it looks like a formula; fixed zip
entry times and order, so the same sheets give the same bytes. Characters XML 1.0 cannot
carry (control characters) are written as SpreadsheetML's `_xHHHH_` escapes.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Sequence
from html import escape

from spotcheck.formats.spreadsheet import FORMULA_STARTS, Sheet

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
# cellXfs: 0 default, 1 bold header, 2 text quote-prefixed; number formats from 3 on
_HEADER, _QUOTED, _FIRST_FORMAT = 1, 2, 3


def column_name(index: int) -> str:
    """Return the spreadsheet column letters of a 0-based column index (0 → A, 26 → AA)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _text(value: str) -> str:
    """Return text for a <t> element: XML-escaped, control characters as _xHHHH_."""
    escaped = _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return escape(escaped, quote=False)


def _cell(ref: str, value: object, style: int, header: bool = False) -> str:
    """Return one cell: a number in `style`'s format, or text (bold in the header)."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return ""
        shown = f' s="{style}"' if style else ""
        return f'<c r="{ref}"{shown}><v>{value!r}</v></c>'
    text = str(value)
    chosen = _QUOTED if text.startswith(FORMULA_STARTS) else _HEADER if header else 0
    shown = f' s="{chosen}"' if chosen else ""
    return (f'<c r="{ref}" t="inlineStr"{shown}><is><t xml:space="preserve">{_text(text)}'
            "</t></is></c>")


def _sheet_xml(sheet: Sheet, styles: dict[str, int]) -> str:
    """Return a worksheet part: frozen header, widths, the rows."""
    columns = [column_name(i) for i in range(max(len(sheet.header),
                                                 max((len(r) for r in sheet.rows), default=0)))]
    formats = {i: styles[f] for i, f in (sheet.number_formats or {}).items()}
    parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">'
             f'<dimension ref="A1:{columns[-1] if columns else "A"}{len(sheet.rows) + 1}"/>'
             '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
             'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
             'activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
             '<sheetFormatPr defaultRowHeight="15"/>']
    if sheet.widths:
        parts.append("<cols>" + "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>'
            for i, w in enumerate(sheet.widths)) + "</cols>")
    parts.append('<sheetData><row r="1">')
    parts += [_cell(f"{columns[i]}1", str(h), 0, header=True)
              for i, h in enumerate(sheet.header)]
    parts.append("</row>")
    for number, row in enumerate(sheet.rows, start=2):
        parts.append(f'<row r="{number}">')
        parts += [_cell(f"{columns[i]}{number}", value, formats.get(i, 0))
                  for i, value in enumerate(row)]
        parts.append("</row>")
    parts.append('</sheetData><pageMargins left="0.75" right="0.75" top="1" bottom="1" '
                 'header="0.5" footer="0.5"/></worksheet>')
    return "".join(parts)


def _styles_xml(formats: Sequence[str]) -> str:
    """Return the styles part: default, bold header, quote-prefixed text, formats."""
    numbers = "".join(f'<numFmt numFmtId="{164 + i}" formatCode="{escape(f)}"/>'
                      for i, f in enumerate(formats))
    xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
           '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
           '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" '
           'applyAlignment="1"><alignment horizontal="left"/></xf>']
    xfs += [f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
            'applyNumberFormat="1"/>' for i in range(len(formats))]
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{_MAIN}">'
            + (f'<numFmts count="{len(formats)}">{numbers}</numFmts>' if formats else "")
            + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            f'borderId="0"/></cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}'
            '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>")


def _package(sheets: Sequence[Sheet]) -> dict[str, str]:
    """Return the package parts other than the worksheets and styles."""
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(sheets) + 1))
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return {
        "[Content_Types].xml": head + '<Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="rels" ContentType="application/'
        'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
        'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
        f'officedocument.spreadsheetml.styles+xml"/>{overrides}</Types>',
        "_rels/.rels": head + f'<Relationships xmlns="{_PACKAGE}"><Relationship Id="rId1" '
        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": head + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
        + "".join(f'<sheet name="{escape(s.title)}" sheetId="{i}" r:id="rId{i}"/>'
                  for i, s in enumerate(sheets, start=1)) + "</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": head + f'<Relationships xmlns="{_PACKAGE}">'
        + "".join(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" '
                  f'Target="worksheets/sheet{i}.xml"/>' for i in range(1, len(sheets) + 1))
        + f'<Relationship Id="rId{len(sheets) + 1}" Type="{_REL}/styles" '
        'Target="styles.xml"/></Relationships>',
    }


def large_xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """Return an .xlsx of these sheets (see the module docstring), the same bytes each time."""
    formats = sorted({f for s in sheets for f in (s.number_formats or {}).values()})
    styles = {f: _FIRST_FORMAT + i for i, f in enumerate(formats)}
    parts = _package(sheets)
    parts["xl/styles.xml"] = _styles_xml(formats)
    for i, sheet in enumerate(sheets, start=1):
        parts[f"xl/worksheets/sheet{i}.xml"] = _sheet_xml(sheet, styles)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            entry = zipfile.ZipInfo(name, _ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, text.encode("utf-8"))
    return out.getvalue()
