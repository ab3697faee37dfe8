"""Every limit on what spotcheck reads, each with the reason for its number, and the two
bounded readers that hold to them: a small file's bytes, and JSON (manifest.json, each line
of events.jsonl).

A limit is far above anything a bureau's real files reach and far below what would exhaust
a machine: past it the input is refused with a message naming the file and the limit, never
read whole first. docs/ARCHITECTURE.md ("Limits") lists them for readers of the docs.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from spotcheck.errors import SpotcheckError

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30

# ---- registry and results files (CSV, XLSX) ---------------------------------------------

# Characters in one CSV row, all its lines (so in any one cell too). The longest value any
# column allows is 2,000 characters (remarks, 备注), a whole row a few thousand; 1 Mi
# characters leaves room for any careless paste yet bounds the memory one row can take. A
# longer row is refused naming its row and the column where it passed the bound.
CSV_ROW_CHARACTERS = MIB

# Bytes looked at to tell UTF-8 from GB18030: enough text for thousands of characters, read
# once whatever the file's size.
ENCODING_SAMPLE_BYTES = MIB

# An .xlsx is a zip of XML parts. A full Excel sheet (1,048,576 rows) of the widest import
# (inspectors, 7 columns) is ~430 MiB of worksheet XML as openpyxl writes it; 1 GiB in all
# parts leaves room for Excel's styling and shared strings, and stops a "zip bomb" (a 152 KB
# file inflating to 150 MiB, or to terabytes) before anything is inflated.
XLSX_UNCOMPRESSED_BYTES = GIB

# The shared strings part is held in memory whole (openpyxl reads it before any row): a
# million distinct names and ids are ~100 MiB of it; 256 MiB bounds that memory.
XLSX_SHARED_STRINGS_BYTES = 256 * MIB

# Parts of one .xlsx: a one-sheet workbook has about ten; 10,000 bounds the zip directory.
XLSX_ENTRIES = 10_000

# ---- any zip (XLSX workbooks, audit bundles) --------------------------------------------

# Uncompressed ÷ compressed size of one entry. Worksheet XML compresses ~16:1 and bundle
# CSVs 2-7:1; Apache POI refuses workbooks past 100:1 (ZipSecureFile's minimum inflate ratio
# 0.01), and so does spotcheck. Entries smaller than ZIP_RATIO_GRACE_BYTES are exempt: a
# tiny part of repeated tags may compress better and cannot hurt.
ZIP_RATIO = 100
ZIP_RATIO_GRACE_BYTES = MIB

# ---- audit bundles (DESIGN §7) ----------------------------------------------------------

# manifest.json is a few kilobytes (the parsed policy, digests, counts); policy.toml about
# one. 1 MiB is hundreds of times either, and bounds what a forged file can make verify
# parse. The same cap holds for a policy file given with --policy and a calendar file.
MANIFEST_BYTES = MIB
POLICY_BYTES = MIB
# manifest.sig is one Ed25519 signature (under 200 bytes as written); a PEM key under 1 KiB.
SIGNATURE_BYTES = 64 * KIB
KEY_BYTES = 64 * KIB
# events.jsonl holds every event from the first import to the plan, ~1 KB each: 256 MiB is
# a quarter of a million events, decades of a bureau's imports, freezes and plans.
EVENTS_BYTES = 256 * MIB
# One CSV of a bundle, and all of them: a 10-million-enterprise province's
# inputs/enterprises.csv is ~0.9 GB (about 90 bytes a row) and its whole bundle ~1.3 GB.
BUNDLE_FILE_BYTES = 2 * GIB
BUNDLE_BYTES = 4 * GIB

# Nesting of JSON objects and arrays. A manifest nests 5 deep (the manifest → policy → tiers
# → A → quarters); 32 is ample, and the C parser would fail near 1,000 with a RecursionError
# instead of a message.
JSON_DEPTH = 32

# ---- values ------------------------------------------------------------------------------

# Years a date of any import may have. Inspections recorded by this system begin long after
# 1990 (双随机 since 2015) and no certificate is valid past 2100: a year outside is a typo.
FIRST_YEAR, LAST_YEAR = 1990, 2100


def size_text(count: int) -> str:
    """Return a byte count as people read it (1 GiB, 256 MiB, 64 KiB, 12 bytes)."""
    for unit, size in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if count >= size and count % size == 0:
            return f"{count // size:,} {unit}"
    return f"{count:,} bytes"


def read_bounded(path: str | Path, limit: int, what: str,
                 error: type[SpotcheckError] = SpotcheckError) -> bytes:
    """Return the bytes of a small file (a policy, key, calendar or event log), raising
    `error` for a file that is missing, not a regular file (a pipe would block, a device
    never end) or over `limit` bytes."""
    source = Path(path)
    try:
        with open(source, "rb", opener=_nonblocking) as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise error(f"{source}: the {what} is not a regular file (a folder, pipe or "
                            "device)")
            data = stream.read(limit + 1)
    except OSError as exc:
        raise error(f"{source}: cannot read the {what}: {exc.strerror}") from None
    if len(data) > limit:
        raise error(f"{source}: the {what} is larger than {size_text(limit)}, the most "
                    "spotcheck reads; it is not a file of that kind")
    return data


def _nonblocking(path: str, flags: int) -> int:
    """Open without blocking: opening a FIFO nobody writes to would otherwise wait forever."""
    return os.open(path, flags | getattr(os, "O_NONBLOCK", 0))


def load_json(data: bytes | str, name: str, *, limit: int = MANIFEST_BYTES) -> Any:
    """Return the JSON value of `data`, refusing (SpotcheckError naming `name`) what is over
    `limit` bytes, not UTF-8, not JSON, nested deeper than JSON_DEPTH, an object naming a key
    twice (two readers could take different values) or NaN/Infinity (not JSON at all)."""
    if len(data) > limit:
        raise SpotcheckError(f"{name} is larger than {size_text(limit)}, the most spotcheck "
                             "reads: it was not written by spotcheck")
    try:
        text = data if isinstance(data, str) else data.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except RecursionError:
        raise SpotcheckError(f"{name} is not valid JSON: nested more than {JSON_DEPTH} "
                             "deep") from None
    except ValueError as exc:  # also UnicodeDecodeError and a repeated key
        raise SpotcheckError(f"{name} is not valid JSON: {exc}") from None
    if _depth(value) > JSON_DEPTH:
        raise SpotcheckError(f"{name} is not valid JSON: nested more than {JSON_DEPTH} deep")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Return a JSON object's dict, refusing a key written twice."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"the key {key!r} appears twice in one object")
        obj[key] = value
    return obj


def _constant(word: str) -> Any:
    raise ValueError(f"{word} is not a JSON number")


def _depth(value: Any) -> int:
    """Return how deeply objects and arrays nest in a parsed value (0 for a scalar)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item \
            if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level <= JSON_DEPTH:
            stack.extend((child, level + 1) for child in children)
    return deepest
