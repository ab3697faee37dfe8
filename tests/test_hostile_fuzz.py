"""Fuzzing the command line with hostile registry files, workbooks and bundles (issue 9).

For every input Hypothesis makes, `spotcheck` ends with exit 1 or 2 and a message naming the
file (and the row, where the input has one), never a traceback, and the database holds
exactly what it held (a digest of every row of every table) — on SQLite and PostgreSQL.

The families: random bytes behind a real file's magic; the good files with one defect (an
invisible character, an odd space, a date in the future or of an absurd year, a value too
long) in UTF-8, UTF-8 with BOM, GB18030 or GBK; the good files damaged byte by byte (cut in a
character, a stray byte, rows of two encodings); hostile workbooks (several sheets with
data, data only on hidden sheets, a defect, a zip bomb, worksheet XML cut short, a flipped
byte); hostile bundles (entries twice, by case or Unicode form, strangers, paths out of the
bundle, manifests too deep or ambiguous, changed entries, flipped bytes, folders with
strangers or links). Every input of every family must be refused: the strategies only make
inputs with a defect, so exit 0 is a failure (a byte flip that leaves a bundle's content
as it was is the one input that may still verify).

Profiles (tests/conftest.py): `ci` runs 25 inputs a family, derandomized (about a minute on
both databases); `fuzz` (HYPOTHESIS_PROFILE=fuzz) runs thousands.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from builders import workbook_bytes
from hostile_inputs import (
    BUNDLE,
    KINDS,
    assert_refused,
    bundle_files,
    crash,
    database_digest,
    good_text,
    load_good_registry,
    run,
    zip_of,
)
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

# The example database is the test's own (db_url), reused by every example: that is the
# point — no refused input may change it.
EXAMPLES = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])

HEADERS = {kind: good_text(kind).splitlines()[0].split(",") for kind in KINDS}
ROWS = {kind: [line.split(",") for line in good_text(kind).splitlines()[1:]] for kind in KINDS}
FREE_TEXT = {"企业名称", "姓名", "回避原因"}  # names and reasons; every other column is a code
DATES = {"执法证有效期", "检查日期"}
LIMITS = {"企业名称": 200, "姓名": 100, "回避原因": 500, "所属部门": 64, "部门": 64}

# Characters nobody sees (Cf, Zl, Zp, Cc but the line ends CSV splits on and NUL, which
# refuses the whole file) and spaces other than the ASCII space.
INVISIBLE = st.one_of(
    st.characters(categories=["Cf"]),
    st.sampled_from(["\u2028", "\u2029", "\x01", "\x1f", "\x7f", "\x85", "\ufffd", "\u3164"]))
ODD_SPACES = st.sampled_from(["\u00a0", "\u3000", "\u2009", "\u202f", "\u2002", "\u1680"])


@dataclass(frozen=True)
class Hostile:
    """One hostile input: the kind of import, the file's name and bytes, and the spreadsheet
    row and column header its message must name (None where the defect is the whole file)."""

    kind: str
    name: str
    data: bytes
    row: int | None = None
    column: str | None = None


def refused_import(url: str, folder: Path, hostile: Hostile, before: str) -> None:
    """Import the hostile file through the CLI: refused, named, and nothing stored changed."""
    path = folder / hostile.name
    path.write_bytes(hostile.data)
    result = run("--db", url, "import", hostile.kind, str(path))
    assert result.exit_code == 1, (hostile, result.output)
    where = [str(path)]
    if hostile.row is not None:
        where.append(f"{path}:{hostile.row}: column {hostile.column!r}")
    assert_refused(result, *where)
    assert database_digest(url) == before


@pytest.fixture
def loaded_url(db_url: str) -> str:
    """A fresh database (SQLite, and PostgreSQL where configured) with the good registry."""
    load_good_registry(db_url)
    return db_url


# ---- random bytes --------------------------------------------------------------------------

MAGIC = st.sampled_from([b"", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
                         b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"%PDF-1.7\n", b"\x89PNG\r\n",
                         "统一社会信用代码,".encode()])


@st.composite
def random_files(draw: st.DrawFn) -> Hostile:
    """Random bytes behind the magic of a real format (or none)."""
    kind = draw(st.sampled_from(KINDS))
    data = draw(MAGIC) + draw(st.binary(max_size=3000))
    return Hostile(kind, draw(st.sampled_from([f"{kind}.csv", f"{kind}.xlsx", kind])), data)


def test_random_bytes_are_refused(loaded_url: str, tmp_path: Path) -> None:
    """Random bytes, under any registry kind: refused naming the file, nothing stored."""
    before = database_digest(loaded_url)

    @EXAMPLES
    @given(hostile=random_files())
    def check(hostile: Hostile) -> None:
        refused_import(loaded_url, tmp_path, hostile, before)

    check()


# ---- the good files, with one defect ----------------------------------------------------------

@st.composite
def defects(draw: st.DrawFn, heading: str, cell: str, *, workbook: bool = False) -> str:
    """Return `cell` with a defect the column must refuse (in a workbook: none of the
    control characters a worksheet cannot hold)."""
    at = draw(st.integers(0, len(cell)))
    choices = ["invisible"]
    if heading not in FREE_TEXT:
        choices.append("space")
    if heading in DATES:
        choices.append("absurd year")
        if heading == "检查日期":
            choices.append("future")
    if heading in LIMITS:
        choices.append("too long")
    defect = draw(st.sampled_from(choices))
    if defect == "invisible":
        unseen = INVISIBLE.filter(lambda c: c >= " ") if workbook else INVISIBLE
        return cell[:at] + draw(unseen) + cell[at:]
    if defect == "space":
        return cell[:max(at, 1)] + draw(ODD_SPACES) + cell[max(at, 1):]
    if defect == "absurd year":
        year = draw(st.one_of(st.integers(1000, 1989), st.integers(2101, 9999)))
        return f"{year}{cell[4:]}"
    if defect == "future":
        return f"{draw(st.integers(date.today().year + 1, 2100))}{cell[4:]}"
    return draw(st.sampled_from("某X")) * draw(st.integers(LIMITS[heading] + 1, 3000))


@dataclass(frozen=True)
class Defective:
    """A good file's rows (header first) with one cell made defective, at `row` (the
    spreadsheet row) under `column` (its header)."""

    kind: str
    rows: list[list[str]]
    row: int
    column: str


@st.composite
def defective_rows(draw: st.DrawFn, *, workbook: bool = False) -> Defective:
    """The rows of a good registry file with one cell made defective."""
    kind = draw(st.sampled_from(KINDS))
    rows = [list(row) for row in ROWS[kind]]
    index = draw(st.integers(0, len(rows) - 1))
    column = draw(st.integers(0, len(HEADERS[kind]) - 1))
    heading = HEADERS[kind][column]
    rows[index][column] = draw(defects(heading, rows[index][column], workbook=workbook))
    return Defective(kind, [HEADERS[kind], *rows], index + 2, heading)


@st.composite
def defective_files(draw: st.DrawFn) -> Hostile:
    """A good registry file with one cell made defective, in an encoding spotcheck reads."""
    defective = draw(defective_rows())
    text = "\n".join(",".join(row) for row in defective.rows) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "gbk"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("gb18030")
    return Hostile(defective.kind, f"{defective.kind}.csv", data, defective.row,
                   defective.column)


def test_one_defect_is_refused_at_its_row_and_column(loaded_url: str, tmp_path: Path) -> None:
    """A good file with one defective cell, in UTF-8, UTF-8 with BOM, GB18030 or GBK: refused
    naming that row and column, nothing stored."""
    before = database_digest(loaded_url)

    @EXAMPLES
    @given(hostile=defective_files())
    def check(hostile: Hostile) -> None:
        refused_import(loaded_url, tmp_path, hostile, before)

    check()


# ---- the good files, damaged byte by byte ------------------------------------------------------

@st.composite
def damaged_files(draw: st.DrawFn) -> Hostile:
    """A good file cut inside a character, with a stray byte, or of two encodings."""
    kind = draw(st.sampled_from(KINDS))
    text = good_text(kind)
    data = text.encode("utf-8")
    damage = draw(st.sampled_from(["cut", "stray", "gbk rows", "utf-8 rows"]))
    if damage == "cut":
        leads = [i for i, byte in enumerate(data) if byte >= 0xE0]
        at = draw(st.sampled_from(leads))
        data = data[:at + draw(st.integers(1, 2))]
    elif damage == "stray":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + bytes([draw(st.sampled_from([0x80, 0xBF, 0xC0, 0xF8, 0xFF]))]) \
            + data[at:]
    else:
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(1, len(lines) - 1))
        first, second = ("utf-8", "gbk") if damage == "gbk rows" else ("gbk", "utf-8")
        # The rows in the second encoding hold Chinese: a department of seven characters.
        pasted = "".join(lines[at:]).replace("SCJG", "市场监督管理局")
        data = "".join(lines[:at]).encode(first) + pasted.encode(second)
        assume(not pasted.isascii())
    return Hostile(kind, f"{kind}.csv", data)


def test_damaged_bytes_are_refused(loaded_url: str, tmp_path: Path) -> None:
    """A file cut in the middle of a character, with a stray byte, or with rows in another
    encoding is refused naming the file — never read as mojibake — and nothing is stored."""
    before = database_digest(loaded_url)

    @EXAMPLES
    @given(hostile=damaged_files())
    def check(hostile: Hostile) -> None:
        refused_import(loaded_url, tmp_path, hostile, before)

    check()


# ---- hostile workbooks ----------------------------------------------------------------------

SHEET_NAMES = st.text(st.characters(categories=["L", "N"], max_codepoint=0x9FFF),
                      min_size=1, max_size=12)


def _rezip(data: bytes, change: dict[str, bytes], extra: int = 0) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts.update(change)
    entries = list(parts.items()) + ([("xl/media/image1.bin", bytes(extra))] if extra else [])
    return zip_of(entries)


@st.composite
def hostile_workbooks(draw: st.DrawFn) -> Hostile:
    """A workbook that could mean two things, holds a defect, inflates a thousand times,
    or is damaged inside a valid zip."""
    kind = draw(st.sampled_from(KINDS))
    good = [HEADERS[kind], *ROWS[kind]]
    names = draw(st.lists(SHEET_NAMES, min_size=2, max_size=4, unique_by=str.casefold))
    shape = draw(st.sampled_from(["visible", "hidden", "defect", "bomb", "cut", "flip"]))
    if shape == "visible":  # two visible sheets with data, the rest anything
        states = ["visible", "visible", *draw(st.lists(st.sampled_from(
            ["visible", "hidden", "veryHidden"]), min_size=len(names) - 2,
            max_size=len(names) - 2))]
        data = workbook_bytes([(n, s, good) for n, s in zip(names, states, strict=True)])
        return Hostile(kind, f"{kind}.xlsx", data)
    if shape == "hidden":  # data only on hidden sheets; visible ones empty
        data = workbook_bytes([(names[0], "visible", []),
                               *((n, "hidden", good) for n in names[1:])])
        return Hostile(kind, f"{kind}.xlsx", data)
    if shape == "defect":
        defective = draw(defective_rows(workbook=True))
        data = workbook_bytes([(names[0], "visible", defective.rows)])
        return Hostile(defective.kind, f"{defective.kind}.xlsx", data, defective.row,
                       defective.column)
    data = workbook_bytes([(names[0], "visible", good)])
    sheet = "xl/worksheets/sheet1.xml"
    if shape == "bomb":
        return Hostile(kind, f"{kind}.xlsx",
                       _rezip(data, {}, extra=draw(st.integers(2, 6)) << 20))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read(sheet)
    if shape == "cut":
        return Hostile(kind, f"{kind}.xlsx",
                       _rezip(data, {sheet: xml[:draw(st.integers(0, len(xml) - 20))]}))
    # A byte of the worksheet's compressed data flipped: its CRC no longer matches.
    rezipped = bytearray(_rezip(data, {}))
    with zipfile.ZipFile(io.BytesIO(bytes(rezipped))) as archive:
        info = archive.getinfo(sheet)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    at = start + draw(st.integers(0, info.compress_size - 1))
    rezipped[at] ^= draw(st.integers(1, 255))
    # A flip in the padding bits after the last deflate block changes nothing read.
    assume(not _reads_as(bytes(rezipped), sheet, xml))
    return Hostile(kind, f"{kind}.xlsx", bytes(rezipped))


def _reads_as(data: bytes, name: str, expected: bytes) -> bool:
    """Return whether the standard library reads entry `name` of a zip as `expected`."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.read(name) == expected
    except Exception:
        return False


def test_hostile_workbooks_are_refused(loaded_url: str, tmp_path: Path) -> None:
    """Several visible sheets with data, data only on hidden sheets, a defective cell, a
    zip bomb, worksheet XML cut short or a flipped byte: refused naming the file (and the
    row of a defect), nothing stored."""
    before = database_digest(loaded_url)

    @EXAMPLES
    @given(hostile=hostile_workbooks())
    def check(hostile: Hostile) -> None:
        refused_import(loaded_url, tmp_path, hostile, before)

    check()


# ---- hostile bundles --------------------------------------------------------------------------

ORIGINAL = bundle_files()
ENTERPRISE = ORIGINAL["draws.csv"].decode().splitlines()[1].split(",")[3]  # one drawn
VALUES = st.one_of(st.binary(max_size=200),
                   st.sampled_from([b"[" * 50_000, b'{"seed": 1, "seed": 2}', b'{"a": NaN}',
                                    b"{}", b"[]", b"\xff\xfe"]))


@st.composite
def hostile_zips(draw: st.DrawFn) -> tuple[bytes, bool]:
    """The real bundle as a zip made to mean something else; and whether the zip may still
    hold exactly the real bundle's files (only a flipped byte can leave them so)."""
    entries = list(ORIGINAL.items())
    names = list(ORIGINAL)
    change = draw(st.sampled_from(["twice", "case", "unicode", "stranger", "path", "replace",
                                   "cell", "forged", "flip", "drop"]))
    if change in ("cell", "forged"):  # one value of a CSV changed: the forger's finest tool
        name = draw(st.sampled_from([n for n in names if n.endswith(".csv")]))
        rows = [line.split(",") for line in ORIGINAL[name].decode().splitlines()]
        row = draw(st.integers(1, len(rows) - 1)) if len(rows) > 1 else 0
        column = draw(st.integers(0, len(rows[row]) - 1))
        cell = draw(st.text(st.characters(exclude_characters=',"\r\n', codec="utf-8"),
                            max_size=20))
        assume(cell != rows[row][column])
        rows[row][column] = cell
        changed = ("\n".join(",".join(r) for r in rows) + "\n").encode()
        entries = [(n, changed if n == name else d) for n, d in entries]
        if change == "forged":  # and its digest in manifest.json, so verify reads it all
            manifest = json.loads(ORIGINAL["manifest.json"])
            for part in ("inputs", "outputs"):
                if name in manifest.get(part, {}):
                    manifest[part][name] = hashlib.sha256(changed).hexdigest()
            entries = [(n, json.dumps(manifest).encode() if n == "manifest.json" else d)
                       for n, d in entries]
    elif change == "twice":
        entries.insert(draw(st.integers(0, len(entries))),
                       (draw(st.sampled_from(names)), draw(VALUES)))
    elif change == "case":
        name = draw(st.sampled_from(names))
        entries.append((name.upper() if name != name.upper() else name.lower(), draw(VALUES)))
    elif change == "unicode":
        entries += [(unicodedata.normalize(form, "inputs/café.csv"), b"x")
                    for form in ("NFC", "NFD")]
    elif change == "stranger":
        entries.append((draw(st.text(st.characters(codec="utf-8", exclude_characters="\x00"),
                                     min_size=1, max_size=30).filter(
            lambda n: n not in ORIGINAL and not n.endswith("/"))), draw(VALUES)))
    elif change == "path":
        entries.append((draw(st.sampled_from(["../draws.csv", "/tmp/x.csv", "inputs/../x",
                                              "C:\\evil.csv", "inputs//x.csv", "./draws.csv"])),
                        b"x"))
    elif change == "replace":
        name = draw(st.sampled_from(names))
        value = draw(VALUES)
        assume(value != ORIGINAL[name])
        entries = [(n, value if n == name else d) for n, d in entries]
    elif change == "drop":
        drop = draw(st.sampled_from(names))
        entries = [(n, d) for n, d in entries if n != drop]
    data = bytearray(zip_of(entries))
    if change != "flip":
        return bytes(data), False
    at = draw(st.integers(0, len(data) - 1))
    data[at] ^= draw(st.integers(1, 255))
    return bytes(data), True


def _same_files(data: bytes) -> bool:
    """Return whether the standard library reads exactly the real bundle's files."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            read = {info.filename: archive.read(info) for info in infos}
    except Exception:
        return False
    return len(infos) == len(ORIGINAL) and read == ORIGINAL


def test_hostile_bundle_zips_are_refused(tmp_path: Path) -> None:
    """The real bundle with an entry twice, by case or Unicode form, a stranger, a path out
    of the bundle, an entry changed or dropped, a value changed (and its digest forged), or
    a byte flipped: verify says NOT VERIFIED (or refuses) naming the bundle, exit 1 — unless
    the flip left every file as it was — and explain and publish end in a message or their
    output, never a crash."""
    assert run("verify", str(BUNDLE)).exit_code == 0

    @EXAMPLES
    @given(hostile=hostile_zips())
    def check(hostile: tuple[bytes, bool]) -> None:
        data, may_be_same = hostile
        path = tmp_path / "plan.zip"
        path.write_bytes(data)
        result = run("verify", str(path))
        if may_be_same and _same_files(data):
            # The files are intact; the zip's directory may still lie (a size) and be refused.
            assert result.exit_code in (0, 1) and not crash(result), (result.output,
                                                                       crash(result))
            return
        assert result.exit_code == 1, result.output
        assert_refused(result, str(path))
        # explain and publish trust the bundle (they check no digest): never a crash
        (tmp_path / "published").mkdir(exist_ok=True)
        for trusting in (["explain", str(path), ENTERPRISE],
                         ["publish", "plan", str(path), "--out", str(tmp_path / "public")],
                         ["verify", str(path), "--public", str(tmp_path / "published")]):
            shutil.rmtree(tmp_path / "public", ignore_errors=True)
            trusted = run(*trusting)
            assert trusted.exit_code in (0, 1) and not crash(trusted), (trusted.output,
                                                                          crash(trusted))

    check()


@st.composite
def hostile_folders(draw: st.DrawFn) -> dict[str, bytes | str]:
    """The real bundle as a folder with a stranger file, a symbolic link or a file
    changed: path → bytes, or → str for a link's target."""
    files: dict[str, bytes | str] = dict(ORIGINAL)
    change = draw(st.sampled_from(["stranger", "link", "replace"]))
    if change == "stranger":
        name = draw(st.sampled_from([".DS_Store", "bureau.key", "inputs/extra.csv",
                                     "Draws.csv", "notes/readme.txt"]))
        files[name] = draw(VALUES)
    elif change == "link":
        files[draw(st.sampled_from(list(ORIGINAL)))] = draw(st.sampled_from(
            ["/etc/hostname", "/dev/zero", "../../outside.csv", "draws.csv"]))
    else:
        name = draw(st.sampled_from(list(ORIGINAL)))
        value = draw(VALUES)
        assume(value != ORIGINAL[name])
        files[name] = value
    return files


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="symbolic links are a POSIX feature")
def test_hostile_bundle_folders_are_refused(tmp_path: Path) -> None:
    """A bundle folder with a stranger (a private key, .DS_Store), a link (even to
    /dev/zero) or a changed file: NOT VERIFIED naming the folder, exit 1, at once."""
    counter = iter(range(1_000_000))

    @EXAMPLES
    @given(files=hostile_folders())
    def check(files: dict[str, bytes | str]) -> None:
        root = tmp_path / f"plan{next(counter)}"
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.symlink_to(content)
            else:
                path.write_bytes(content)
        result = run("verify", str(root))
        assert result.exit_code == 1, result.output
        assert_refused(result, str(root))

    check()
