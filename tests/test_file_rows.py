"""formats/file_rows.py and formats/text_encoding.py: the decoding rule (never a reading
that works only by accident), the choice of a workbook's sheet, bounded workbooks and rows,
and messages that name the right row and column."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from builders import workbook_bytes
from hypothesis import given
from hypothesis import strategies as st

from spotcheck.errors import InvalidInputError
from spotcheck.formats.file_rows import open_rows
from spotcheck.formats.registry_files import read_history, read_inspectors
from spotcheck.formats.text_encoding import csv_encoding
from spotcheck.limits import CSV_ROW_CHARACTERS

GOOD = Path(__file__).parent / "data" / "good"
HISTORY = (GOOD / "history.csv").read_text(encoding="utf-8")
INSPECTORS = (GOOD / "inspectors.csv").read_text(encoding="utf-8")
TODAY = date(2026, 12, 31)  # the day of the imports


def refusal(path: Path) -> str:
    """Return the message of reading a file's rows, which must be refused."""
    with pytest.raises(InvalidInputError) as excinfo, open_rows(path) as (rows, _):
        list(rows)
    return str(excinfo.value)


# ---- the decoding rule ------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_real_encodings_read_the_same(tmp_path: Path, encoding: str) -> None:
    """The good inspectors file in UTF-8 (with or without BOM), GBK or GB18030 reads the same."""
    path = tmp_path / "inspectors.csv"
    path.write_bytes(INSPECTORS.encode(encoding))
    assert read_inspectors(path) == read_inspectors(GOOD / "inspectors.csv")


@pytest.mark.parametrize(("data", "reason"), [
    (INSPECTORS.encode()[:-20] + "王".encode()[:2], "UTF-8 text cut short: it ends in the "
                                                   "middle of a character (byte"),
    (b"a,b\n1,x" + "王".encode()[:2], "the encoding is ambiguous: the file's only characters"),
    (INSPECTORS.encode()[:300] + b"\xff" + INSPECTORS.encode()[300:],
     "the file is UTF-8 text, but byte 300 (line 5) is not UTF-8"),
    (INSPECTORS.encode()[:200] + INSPECTORS.encode("gbk")[200:400],
     "rows pasted in from a file in another encoding (GBK?)"),
    (INSPECTORS.encode("gbk") + "33010100099,王五,SCJG,3301,食品安全,1,2028-12-31\n".encode(),
     "the file is GB18030 (GBK) text, but byte 941 (line 18) begins Chinese written as UTF-8"),
    ("a,b\n1,José Müller\n".encode(), "the encoding is ambiguous: read as UTF-8 its first "
                                      "characters outside ASCII are 'éü'"),
    ("a,b\n1,统一\n".encode("gbk"), "read as GB18030 '统一'"),
    ("a,b\n1,Müller\n".encode("latin-1"), "cannot tell the file's encoding: tried UTF-8"),
    (INSPECTORS.encode("big5", "replace"), "too few of its characters are common Chinese"),
    ("a,b\n".encode("utf-16-le"), "the file has NUL bytes"),
    (b"\x00\x00\xfe\xffa", "UTF-16 text"),
])
def test_accidental_decodings_are_refused(tmp_path: Path, data: bytes, reason: str) -> None:
    """Cut in a character, damaged, mixed, ambiguous, Latin-1, Big5, UTF-16/32 without
    BOM: each refused saying why, naming the file, never read as mojibake."""
    path = tmp_path / "input.csv"
    path.write_bytes(data)
    message = refusal(path)
    assert f"{path}: " in message and reason in message


def test_a_utf8_bom_settles_the_encoding(tmp_path: Path) -> None:
    """With Excel's 'CSV UTF-8' byte-order mark, accented Latin names are UTF-8 for certain."""
    path = tmp_path / "input.csv"
    path.write_bytes("a,b\n1,José Müller\n".encode("utf-8-sig"))
    assert csv_encoding(path, "input.csv") == "utf-8-sig"


HANZI = st.characters(codec="gb2312", min_codepoint=0x4E00, max_codepoint=0x9FFF)
NAMES = st.lists(st.text(st.one_of(HANZI, HANZI, st.sampled_from("éüöñçàè·ab ")),
                         min_size=1, max_size=8), min_size=1, max_size=4)


@given(names=NAMES, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk", "gb18030"]),
       cut=st.integers(0, 3))
def test_a_file_reads_as_written_or_is_refused(tmp_path_factory: pytest.TempPathFactory,
                                               names: list[str], encoding: str,
                                               cut: int) -> None:
    """Names in UTF-8 or GBK, the file sometimes cut short by a few bytes: the rows read
    are the rows written, or the file is refused — never read as other characters."""
    text = "id,name\n" + "".join(f"{i},{name}\n" for i, name in enumerate(names))
    data = text.encode(encoding, "replace")
    data = data[:len(data) - cut]
    path = tmp_path_factory.mktemp("enc") / "input.csv"
    path.write_bytes(data)
    try:
        with open_rows(path) as (rows, _):
            read = list(rows)
    except InvalidInputError as exc:
        assert str(path) in str(exc)
        return
    written = [line.split(",") for line in data.decode(encoding).splitlines()]
    written[0][0] = written[0][0].removeprefix("\ufeff")
    assert read == written


@given(names=NAMES, encoding=st.sampled_from(["big5", "shift_jis", "latin-1", "cp1252",
                                              "euc-kr", "utf-16-le", "utf-32"]))
def test_other_encodings_are_refused(tmp_path_factory: pytest.TempPathFactory,
                                     names: list[str], encoding: str) -> None:
    """A registry file (its Chinese header, then names) in an encoding spotcheck does not
    read — Big5, Shift-JIS, Latin-1, Windows-1252, EUC-KR, UTF-16/32 — is refused."""
    header = INSPECTORS.splitlines()[0]
    text = header + "\n" + "".join(f"3301{i:07d},{name}\n" for i, name in enumerate(names))
    path = tmp_path_factory.mktemp("enc") / "inspectors.csv"
    path.write_bytes(text.encode(encoding, "replace"))
    with pytest.raises(InvalidInputError) as excinfo:
        read_inspectors(path)
    assert str(path) in str(excinfo.value)


# ---- rows too long, and where they are ----------------------------------------------------

@pytest.mark.parametrize(("cell", "reason"), [
    ("X" * 200_000, "the department (部门) is longer than 64 characters"),
    ("X" * (CSV_ROW_CHARACTERS + 10), "the row is longer than 1,048,576 characters"),
    ('"' + "Y\n" * (CSV_ROW_CHARACTERS // 2 + 10) + '"', "the row is longer than"),
])
def test_a_long_value_is_named_by_its_row_and_column(tmp_path: Path, cell: str,
                                                     reason: str) -> None:
    """A value too long — within the CSV cell bound, past it, or spread over many lines of
    a quoted cell — is reported on its own row (not the one before) and its column."""
    lines = HISTORY.splitlines()
    fields = lines[3].split(",")
    fields[2] = cell
    lines[3] = ",".join(fields)
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InvalidInputError) as excinfo:
        read_history(path, today=TODAY)
    [problem] = excinfo.value.problems
    assert (problem.row, problem.column) == (4, "部门") and reason in problem.reason
    assert len(str(excinfo.value)) < 1000


# ---- workbooks ----------------------------------------------------------------------------

def workbook(tmp_path: Path, sheets: list[tuple[str, str, list[list[str]]]]) -> Path:
    """Write a workbook of (title, state, rows) sheets and return its path."""
    path = tmp_path / "history.xlsx"
    path.write_bytes(workbook_bytes(sheets))
    return path


ROWS = [line.split(",") for line in HISTORY.splitlines()]


def test_the_one_visible_sheet_with_data_is_read(tmp_path: Path) -> None:
    """A hidden old sheet before the visible one, and an empty visible sheet: the visible
    sheet with data is the one read (not the first)."""
    path = workbook(tmp_path, [("old", "hidden", ROWS[:2]), ("new", "visible", ROWS),
                               ("notes", "visible", [])])
    assert len(read_history(path, today=TODAY)) == 6


@pytest.mark.parametrize(("sheets", "reason"), [
    ([("a", "visible", ROWS), ("b", "visible", ROWS[:3])],
     "2 visible sheets have data — the workbook has 'a' (visible, with data); 'b' (visible, "
     "with data); name the sheet to import with --sheet"),
    ([("Sheet1", "visible", []), ("data", "hidden", ROWS)],
     "no visible sheet has data — the workbook has 'Sheet1' (visible, empty); 'data' "
     "(hidden, with data)"),
])
def test_a_workbook_that_could_mean_two_things_is_refused(
        tmp_path: Path, sheets: list[tuple[str, str, list[list[str]]]], reason: str) -> None:
    """Two visible sheets with data, or data only on a hidden sheet: refused, listing what
    was found; naming the sheet reads it."""
    path = workbook(tmp_path, sheets)
    assert reason in refusal(path)
    with open_rows(path, sheet=sheets[-1][0]) as (rows, _):
        assert list(rows)[:len(sheets[-1][2])] == sheets[-1][2]


def test_a_sheet_that_is_not_there_is_refused(tmp_path: Path) -> None:
    """--sheet naming no sheet of the workbook lists the sheets it has."""
    path = workbook(tmp_path, [("历史", "visible", ROWS)])
    with pytest.raises(InvalidInputError, match="no sheet named 'history'; its sheets are '历史'"):
        read_history(path, today=TODAY, sheet="history")


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _rezip(parts: dict[str, bytes], path: Path, padding: int = 0) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        if padding:
            archive.writestr("xl/media/padding.bin", bytes(padding))
    path.write_bytes(buffer.getvalue())
    return path


def test_a_workbook_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    """A small workbook whose entry inflates 150 MiB (over a thousand times) is refused
    from its zip directory, naming the entry and the ratio."""
    parts = _parts(workbook(tmp_path, [("s", "visible", ROWS)]))
    path = _rezip(parts, tmp_path / "bomb.xlsx", padding=150 << 20)
    assert path.stat().st_size < 400_000
    assert "'xl/media/padding.bin' inflates" in refusal(path)


@pytest.mark.parametrize(("old", "new", "row", "reason"), [
    ("</sheetData>", "", 8, "the worksheet cannot be read"),
    ('<row r="7"', '<row r="2000000"', 1_048_577, "more than 1,048,576 rows"),
])
def test_a_damaged_worksheet_is_refused(tmp_path: Path, old: str, new: str, row: int,
                                        reason: str) -> None:
    """Broken worksheet XML inside a valid zip (after its last row), or a row past Excel's
    last: refused at the row where reading stopped."""
    parts = _parts(workbook(tmp_path, [("s", "visible", ROWS)]))
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    assert old in sheet
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(old, new).encode()
    path = _rezip(parts, tmp_path / "damaged.xlsx")
    with pytest.raises(InvalidInputError) as excinfo:
        read_history(path, today=TODAY)
    [problem] = excinfo.value.problems
    assert problem.file == str(path) and problem.row == row and reason in problem.reason


def test_a_forged_dimension_does_not_pad_every_row(tmp_path: Path) -> None:
    """A worksheet claiming A1:XFD1048576 is read by its rows as written, at once, and its
    rows have the header's width."""
    parts = _parts(workbook(tmp_path, [("s", "visible", ROWS)]))
    sheet = parts["xl/worksheets/sheet1.xml"].decode()
    parts["xl/worksheets/sheet1.xml"] = re.sub(
        r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', sheet).encode()
    assert 'ref="A1:XFD1048576"' in parts["xl/worksheets/sheet1.xml"].decode()
    path = _rezip(parts, tmp_path / "forged.xlsx")
    with open_rows(path) as (rows, is_xlsx):
        read = list(rows)
    assert is_xlsx and read == ROWS
