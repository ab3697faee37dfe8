"""Tests of writing a bundle fast: result tables made column by column, the .zip laid out
from files deflated side by side, and the fingerprint taken while the bundle is written,
each byte for byte as the simple writers (kept here as the reference) make them."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spotcheck.formats import tables
from spotcheck.formats.archive import Bundle, begin_writing, bundle_fingerprint, write_bundle
from spotcheck.formats.reproducible_zip import zip_bytes


def reference_table(header: tuple[str, ...], listed: str | None, rows: Sequence[object]) -> bytes:
    """Return a table as one csv writer writes it, row by row (the list column ';'-joined)."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([";".join(getattr(row, h)) if h == listed else getattr(row, h)
                         for h in header])
    return text.getvalue().encode("utf-8")


def reference_zip(files: dict[str, bytes]) -> bytes:
    """Return the .zip of the files as zipfile writes it, one file after another."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


@dataclass(frozen=True)
class Row:
    """A row of a table with every kind of cell a bundle table holds, and a list column."""

    name: object
    count: object
    tasks: tuple[str, ...]


TEXT = st.text(st.sampled_from('ab,"\n\r \t;甲\u2028'), max_size=6)
CELL = st.one_of(TEXT, st.integers(-10**12, 10**12), st.none(), st.booleans(),
                 st.floats(allow_nan=False))
ROWS = st.lists(st.builds(Row, CELL, CELL, st.lists(TEXT.filter(lambda t: t), max_size=3)
                          .map(tuple)), max_size=30)


@given(ROWS, st.integers(1, 8))
def test_tables_made_by_column_are_the_csv_module_rows(rows: list[Row], batch: int) -> None:
    """table_bytes, a batch of columns at a time (joined directly unless a value may need
    quotes), writes what one csv writer writes row by row, for any cells."""
    header = ("name", "count", "tasks")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tables, "CSV_BATCH", batch)
        patch.setitem(tables.HEADERS, "rows.csv", header)
        patch.setitem(tables.LIST_COLUMN, "rows.csv", "tasks")
        made = tables.table_bytes("rows.csv", rows)
    assert made == reference_table(header, "tasks", rows)


FILES = st.dictionaries(
    st.sampled_from(["manifest.json", "draws.csv", "inputs/enterprises.csv", "inputs/é.csv",
                     "events.jsonl", "a", "Z.csv"]),
    st.one_of(st.binary(max_size=3000), st.text("ab,\n甲", max_size=3000).map(str.encode)),
    max_size=7)


@given(FILES)
def test_zip_is_the_one_zipfile_writes(files: dict[str, bytes]) -> None:
    """The .zip laid out from files deflated apart is byte for byte zipfile's."""
    assert zip_bytes(files) == reference_zip(files)


@given(FILES)
def test_zip64_archives_are_left_to_zipfile(files: dict[str, bytes]) -> None:
    """Where zipfile would write ZIP64 records (a limit lowered to see it), the .zip is
    still zipfile's own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zipfile, "ZIP64_LIMIT", 1500)
        assert zip_bytes(files) == reference_zip(files)


@pytest.mark.parametrize("name", ["bundle", "bundle.zip"])
def test_fingerprint_taken_while_writing(tmp_path: Path, name: str) -> None:
    """begin_writing writes what write_bundle writes and gives the fingerprint
    bundle_fingerprint reads from it."""
    files = {"manifest.json": b"{}\n", "draws.csv": b"task,rank\nA,1\n" * 500,
             "inputs/enterprises.csv": bytes(range(256)) * 40}
    with ThreadPoolExecutor(max_workers=2) as workers:
        fingerprint = begin_writing(Bundle(files), tmp_path / "fast" / name, workers)()
    write_bundle(Bundle(files), tmp_path / "simple" / name)
    assert fingerprint == bundle_fingerprint(tmp_path / "fast" / name) \
        == bundle_fingerprint(tmp_path / "simple" / name)
    fast, simple = tmp_path / "fast" / name, tmp_path / "simple" / name
    if name.endswith(".zip"):
        assert fast.read_bytes() == simple.read_bytes() == reference_zip(files)
    else:
        assert {p.relative_to(fast): p.read_bytes() for p in fast.rglob("*") if p.is_file()} \
            == {p.relative_to(simple): p.read_bytes() for p in simple.rglob("*") if p.is_file()}
