"""The inputs of the hostile-input corpus (tests/hostile/cases.toml), built on demand.

A case writes its input into a folder either from `text` (UTF-8, or `encoding`, with `{today}`
and `{tomorrow}` filled in) or by a `recipe`: one of the functions below, given the folder and
the case (whose other keys are the recipe's parameters). Inputs too large or too binary to
keep in git — a zip bomb, a workbook with a hidden sheet — are made here instead.
"""

from __future__ import annotations

import io
import os
import unicodedata
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
from hostile_inputs import BUNDLE, bundle_files, good_text, zip_of

Case = dict[str, Any]


def fill(text: str) -> str:
    """Return case text with {today} and {tomorrow} as the CLI's day of import sees them."""
    today = date.today()
    return text.replace("{today}", today.isoformat()).replace(
        "{tomorrow}", (today + timedelta(days=1)).isoformat())


def _target(folder: Path, case: Case) -> Path:
    return folder / case.get("file", "input.csv")


def text(folder: Path, case: Case) -> None:
    """Write `text` in `encoding` (default UTF-8), between the bytes of `prefix_hex` and
    `suffix_hex` if given."""
    data = fill(case["text"]).encode(case.get("encoding", "utf-8"))
    _target(folder, case).write_bytes(bytes.fromhex(case.get("prefix_hex", "")) + data
                                      + bytes.fromhex(case.get("suffix_hex", "")))


def many_rows(folder: Path, case: Case) -> None:
    """Write the good file of `kind` with its first data row `count` times, then `last`."""
    header, first = good_text(case["kind"]).splitlines()[:2]
    with _target(folder, case).open("w", encoding="utf-8") as out:
        out.write(header + "\n" + (first + "\n") * case["count"] + case["last"] + "\n")


def two_encodings(folder: Path, case: Case) -> None:
    """Write `text` in `encoding`, then `more` in `more_encoding` (rows pasted in from a
    file in another encoding)."""
    _target(folder, case).write_bytes(fill(case["text"]).encode(case["encoding"])
                                      + fill(case["more"]).encode(case["more_encoding"]))


def nothing(folder: Path, case: Case) -> None:
    """Write nothing: the case names a file that does not exist."""


def hex_bytes(folder: Path, case: Case) -> None:
    """Write the bytes of `hex`."""
    _target(folder, case).write_bytes(bytes.fromhex(case["hex"]))


def good_encoded(folder: Path, case: Case) -> None:
    """Write the good file of `kind` in `encoding` (characters it lacks become '?')."""
    data = good_text(case["kind"]).encode(case["encoding"], "replace")
    _target(folder, case).write_bytes(data)


def good_cut(folder: Path, case: Case) -> None:
    """Write the good file of `kind` cut `back` bytes inside its last character outside
    ASCII (a copy that stopped in the middle of a character)."""
    data = good_text(case["kind"]).encode("utf-8")
    end = len(data) - 1
    while data[end] < 0xC0:  # back to the lead byte of the last multi-byte character
        end -= 1
    _target(folder, case).write_bytes(data[:end + case.get("back", 1)])


def good_damaged(folder: Path, case: Case) -> None:
    """Write the good file of `kind` with the bytes of `hex` put at the start of line
    `line` (1-based)."""
    lines = good_text(case["kind"]).encode("utf-8").split(b"\n")
    lines[case["line"] - 1] = bytes.fromhex(case["hex"]) + lines[case["line"] - 1]
    _target(folder, case).write_bytes(b"\n".join(lines))


def good_with_cell(folder: Path, case: Case) -> None:
    """Write the good file of `kind` with the cell at (`row`, `column`) — spreadsheet row,
    0-based column — replaced by `value`, or by `repeat` times `value`."""
    rows = [line.split(",") for line in good_text(case["kind"]).splitlines()]
    value = case["value"] * case.get("repeat", 1)
    rows[case["row"] - 1][case["column"]] = fill(value)
    _target(folder, case).write_text("\n".join(",".join(r) for r in rows) + "\n",
                                     encoding="utf-8")


def _sheet_rows(kind: str, content: str) -> list[list[str]]:
    rows = [line.split(",") for line in good_text(kind).splitlines()]
    return {"good": rows, "header": rows[:1], "empty": [], "old": rows[:2],
            "titled": [["2026年检查对象名录库"], *rows]}[content]


def xlsx(folder: Path, case: Case) -> None:
    """Write a workbook of `sheets`: each [title, state, content], content one of good (the
    good file of `kind`), old (its first row only), header, empty, titled (a title row above
    the good file)."""
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, state, content in case["sheets"]:
        sheet = workbook.create_sheet(title)
        for row in _sheet_rows(case["kind"], content):
            sheet.append(row)
        sheet.sheet_state = state
    workbook.save(_target(folder, case))


def _good_workbook(kind: str) -> dict[str, bytes]:
    """Return the parts of a one-sheet workbook of the good file of a kind."""
    workbook = openpyxl.Workbook()
    for row in _sheet_rows(kind, "good"):
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


SHEET = "xl/worksheets/sheet1.xml"


def xlsx_parts(folder: Path, case: Case) -> None:
    """Write the good workbook of `kind` with its worksheet XML changed: `cut` (keep that
    share of it), `replace` ([old, new] text), or with a `padding` entry of that many zero
    bytes (a zip bomb: it compresses a thousand times)."""
    parts = _good_workbook(case["kind"])
    sheet = parts[SHEET].decode("utf-8")
    if "cut" in case:
        sheet = sheet[:int(len(sheet) * case["cut"])]
    if "replace" in case:
        old, new = case["replace"]
        assert old in sheet, old
        sheet = sheet.replace(old, new)
    parts[SHEET] = sheet.encode("utf-8")
    with zipfile.ZipFile(_target(folder, case), "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
        if "padding" in case:
            _zeros(archive, case.get("padding_name", "xl/media/padding.bin"), case["padding"])


def _zeros(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """Write an entry of `size` zero bytes, streamed (never held in memory)."""
    block = bytes(1 << 20)
    with archive.open(name, "w", force_zip64=True) as entry:
        for start in range(0, size, len(block)):
            entry.write(block[:min(len(block), size - start)])


def truncated(folder: Path, case: Case) -> None:
    """Write the good workbook of `kind` (or the real bundle) cut to `keep` of its bytes."""
    if case.get("source") == "bundle":
        data = BUNDLE.read_bytes()
    else:
        data = zip_of(list(_good_workbook(case["kind"]).items()))
    _target(folder, case).write_bytes(data[:int(len(data) * case["keep"])])


def bundle_zip(folder: Path, case: Case) -> None:
    """Write the real bundle as a zip, changed: `drop` names, `replace` {name: text},
    `add` [[name, text]] (after the real entries; a name may repeat one), `nfd` (add the
    NFD form of a name), `zeros` {name: size} (an entry of zero bytes), `encrypted` (set an
    entry's encryption flag)."""
    files = bundle_files()
    entries = [(name, data) for name, data in files.items() if name not in case.get("drop", [])]
    replace = {name: fill(value).encode("utf-8") for name, value in
               case.get("replace", {}).items()}
    entries = [(name, replace.get(name, data)) for name, data in entries]
    for name, value in case.get("replace_hex", {}).items():
        entries = [(n, bytes.fromhex(value) if n == name else d) for n, d in entries]
    entries += [(name, fill(value).encode("utf-8")) for name, value in case.get("add", [])]
    if "deep" in case:
        entries = [(n, b"[" * case["deep"] + b"]" * case["deep"] if n == "manifest.json" else d)
                   for n, d in entries]
    target = _target(folder, case)
    target.write_bytes(zip_of(entries))
    if "nfd" in case or "zeros" in case or "encrypted" in case:
        with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as archive:
            if "nfd" in case:
                archive.writestr(unicodedata.normalize("NFD", case["nfd"]), b"forged")
            for name, size in case.get("zeros", {}).items():
                _zeros(archive, name, size)
            if "encrypted" in case:
                archive.writestr(case["encrypted"], b"not really encrypted")
    if "encrypted" in case:
        target.write_bytes(_flag_encrypted(target.read_bytes(), case["encrypted"]))


def _flag_encrypted(data: bytes, name: str) -> bytes:
    """Return a zip with the "encrypted" flag set on the entry `name` (zipfile cannot write
    encrypted entries): bit 0 of the flags of its local and central directory headers."""
    raw, wanted = bytearray(data), name.encode("utf-8")
    for signature, flags, name_length, name_at in ((b"PK\x03\x04", 6, 26, 30),
                                                   (b"PK\x01\x02", 8, 28, 46)):
        at = raw.find(signature)
        while at >= 0:
            length = int.from_bytes(raw[at + name_length:at + name_length + 2], "little")
            if raw[at + name_at:at + name_at + length] == wanted:
                raw[at + flags] |= 0x1
            at = raw.find(signature, at + 4)
    return bytes(raw)


def bundle_folder(folder: Path, case: Case) -> None:
    """Write the real bundle as a folder `file`, with `add` [[path, text]] files, a
    `symlink` [path, target] and a `fifo` path."""
    root = _target(folder, case)
    for name, data in bundle_files().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for name, value in case.get("add", []):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value, encoding="utf-8")
    if "symlink" in case:
        name, target = case["symlink"]
        (root / name).unlink(missing_ok=True)
        (root / name).symlink_to(target)
    if "fifo" in case:
        (root / case["fifo"]).unlink(missing_ok=True)
        os.mkfifo(root / case["fifo"])


def nested_toml(folder: Path, case: Case) -> None:
    """Write a policy whose first key holds arrays nested `depth` deep."""
    depth = case["depth"]
    _target(folder, case).write_text(f"schema = {'[' * depth}1{']' * depth}\n", encoding="utf-8")


def sized(folder: Path, case: Case) -> None:
    """Write `size` bytes of `fill_text` repeated (a file far larger than its kind can be)."""
    unit = case["fill_text"].encode("utf-8")
    with _target(folder, case).open("wb") as out:
        out.write(unit * (case["size"] // len(unit) + 1))


def fifo(folder: Path, case: Case) -> None:
    """Make a named pipe nobody writes to."""
    os.mkfifo(_target(folder, case))


def folder_input(folder: Path, case: Case) -> None:
    """Make a folder where a file is expected."""
    _target(folder, case).mkdir()


RECIPES: dict[str, Callable[[Path, Case], None]] = {
    "text": text, "hex": hex_bytes, "good_encoded": good_encoded, "good_cut": good_cut,
    "good_damaged": good_damaged, "good_with_cell": good_with_cell, "xlsx": xlsx,
    "xlsx_parts": xlsx_parts, "truncated": truncated, "bundle_zip": bundle_zip,
    "bundle_folder": bundle_folder, "nested_toml": nested_toml, "sized": sized, "fifo": fifo,
    "folder": folder_input, "many_rows": many_rows, "nothing": nothing,
    "two_encodings": two_encodings,
}


def build(folder: Path, case: Case) -> None:
    """Write the input of a case into `folder`."""
    RECIPES[case.get("recipe", "text")](folder, case)
