"""Tests of the columnar read and write paths (spotcheck.models.byte_columns and its users):
registry chunks given as 'S' columns of UTF-8 bytes build the same columns, and raise the
same problems, as the same chunks given as text; bundle tables cut as bytes read as the text
path reads them; numpy-joined CSV lines are the csv module's bytes; SQLite's joined columns
give the rows the driver's rows give."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import numpy as np
import pytest
from builders import enterprise_id
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, insert

from spotcheck.errors import InvalidInputError
from spotcheck.formats import tables
from spotcheck.models.byte_columns import cut, lines, split, utf8
from spotcheck.models.registry import EnterpriseColumns, HistoryColumns, as_str
from spotcheck.store import sql
from spotcheck.store.database import create_db_and_tables, get_engine
from spotcheck.store.transactions import reading

# Values that pass or fail each rule, with the bytes the byte path checks for: control
# characters as UTF-8 (C2 85, E2 80 A8), a name of 200 characters and of 201, commas, quotes.
NAMES = ("杭州甲有限公司", "Plain Name", "名,称", 'a "quoted" name', "", "a\x85b", "a\u2028b",
         "a\u2027b", "\u00a0x", "é" * 200, "é" * 201, "x" * 201, "tab\there", "del\x7f",
         "“引号”", "𠮷野家")
IDS = (enterprise_id("330102", 1), enterprise_id("330105", 7), enterprise_id("330106", 3),
       "913301020000000018", "ABC", enterprise_id("330102", 2) + "9", "９" * 18)
PLACES = ("330102", "330105", "33010", "3301021", "３３０１０２", "abcdef")
INDUSTRIES = ("F5211", "", "C", "F52110000", "F-52", "Ｆ5211")
TIERS = ("A", "B", "Z_9", "", "9A", "B" * 16, "B" * 17, "Б")
TASKS = ("GS-QY", "SP-JY", "T.1", "T 1", "")
DEPARTMENTS = ("SCJG", "市场监管局", "", "a,b", "a\tb")
DAYS = ("2026-01-05", "2025-12-31", "2026-02-30", "20260105")
WHO = ("", "ZJ001", "ZJ001;ZJ002", "ZJ002;ZJ001", "bad id")


def as_bytes(column: list[str]) -> np.ndarray:
    """Return text values as an 'S' column of UTF-8, as the readers give it."""
    made = utf8(column)
    assert made is not None
    return made


def outcome(build: Any, chunks: list[list[Any]]) -> Any:
    """Return the columns built from chunks, or the problems raised."""
    try:
        built = build(chunks, source="f", rows=3)
    except InvalidInputError as exc:
        return [(p.row, p.column, p.value, p.reason) for p in exc.problems]
    return [np.asarray(column).tolist() for column in vars(built).values()]


def chunked(columns: list[list[str]], size: int) -> list[list[list[str]]]:
    """Return columns cut into chunks of `size` rows."""
    n = len(columns[0])
    return [[column[start:start + size] for column in columns]
            for start in range(0, max(n, 1), size)] if n else []


@given(st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(NAMES), st.sampled_from(PLACES),
                          st.sampled_from(INDUSTRIES), st.sampled_from(TIERS)), max_size=12),
       st.integers(1, 5))
def test_enterprise_byte_chunks_build_what_text_chunks_build(
        rows: list[tuple[str, ...]], size: int) -> None:
    """Enterprises given as 'S' columns give the same columns, or the same problems, row for
    row, as the same values given as text."""
    columns = [[row[k] for row in rows] for k in range(5)]
    text = chunked(columns, size)
    byte = [[as_bytes(column) for column in chunk] for chunk in text]
    assert outcome(EnterpriseColumns.from_chunks, byte) == \
        outcome(EnterpriseColumns.from_chunks, text)


@given(st.lists(st.tuples(st.sampled_from(IDS[:4]), st.sampled_from(TASKS),
                          st.sampled_from(DEPARTMENTS), st.sampled_from(DAYS),
                          st.sampled_from(WHO)), max_size=12),
       st.integers(1, 5), st.booleans())
def test_history_byte_chunks_build_what_text_chunks_build(
        rows: list[tuple[str, ...]], size: int, who: bool) -> None:
    """History given as 'S' columns (with or without the inspectors column) gives the same
    columns, or the same problems, as the same values given as text."""
    columns = [[row[k] for row in rows] for k in range(5 if who else 4)]
    text = chunked(columns, size)
    byte = [[as_bytes(column) for column in chunk] for chunk in text]
    assert outcome(HistoryColumns.from_chunks, byte) == outcome(HistoryColumns.from_chunks, text)


VALUES = st.text(st.characters(codec="utf-8", exclude_characters="\0\n"), max_size=6)


@given(st.lists(VALUES, max_size=20))
def test_split_and_cut_give_the_values_back(values: list[str]) -> None:
    """Values joined by a separator come back one per row, however wide; a NUL or a missing
    separator gives None."""
    column = as_bytes(values)
    assert as_str(column) == values
    joined = "\n".join(values).encode()
    assert split(joined, ord("\n"), len(values) + 2) is None
    assert split(joined + b"\0", ord("\n"), len(values)) is None
    raw = np.frombuffer(b"abc,de,,f", np.uint8)
    assert cut(raw, np.array([0, 4, 7, 8]), np.array([3, 6, 7, 9])).tolist() == \
        [b"abc", b"de", b"", b"f"]


@given(st.lists(st.tuples(VALUES, VALUES, VALUES), max_size=15))
def test_joined_lines_are_what_the_csv_module_writes(rows: list[tuple[str, str, str]]) -> None:
    """Rows of 'S' columns joined by numpy are the csv module's bytes, a value to quote or
    not; lines() alone writes rows with nothing to quote."""
    name = "inputs/planned.csv"
    batch = [as_bytes([row[k] for row in rows]) for k in range(3)]
    written = b"".join(tables.csv_pieces(name, [batch]))
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows([tables.HEADERS[name], *rows])
    assert written == expected.getvalue().encode()
    if not any(mark in value for row in rows for value in row for mark in ',"\r'):
        assert lines(batch) == expected.getvalue().encode().split(b"\n", 1)[1] if rows else True


PRINTED = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=6)


@given(st.lists(st.tuples(PRINTED, PRINTED, PRINTED), min_size=1, max_size=15))
def test_tables_read_as_bytes_read_as_text(rows: list[tuple[str, str, str]]) -> None:
    """A bundle table read as 'S' columns holds, decoded, what it holds read as text."""
    name = "inputs/planned.csv"
    data = tables.csv_bytes(name, rows)
    text = list(tables.table_columns(name, data))
    as_read = [[as_str(c) if isinstance(c, np.ndarray) else c for c in chunk]
               for chunk in tables.table_columns(name, data, as_bytes=True)]
    assert as_read == text


@pytest.fixture(params=["file", "memory"])
def sqlite_engine(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    """An engine on a fresh SQLite database with every table created: in a file (whose
    chunks are read ahead in a thread) or in memory (read in this thread)."""
    made = get_engine(f"sqlite:///{tmp_path / 'joined.db'}" if request.param == "file"
                      else "sqlite://")
    create_db_and_tables(made)
    yield made
    made.dispose()


def stored(engine: Engine, rows: list[dict[str, Any]], removed: int) -> None:
    """Store history rows, then delete every `removed`-th, leaving gaps in the rowids."""
    with engine.begin() as conn:
        conn.execute(insert(sql.HISTORY), rows)
        if removed:
            conn.exec_driver_sql(f"DELETE FROM {sql.HISTORY.name} WHERE rowid % {removed} = 0")


@pytest.mark.parametrize("removed", [0, 2, 5])
def test_sqlite_joined_columns_are_the_driver_rows(
        sqlite_engine: Engine, monkeypatch: pytest.MonkeyPatch, removed: int) -> None:
    """SQLite's columns joined in the database and cut by numpy hold the rows the driver
    fetches, chunk by chunk across gaps in the rowids; a chunk holding the separator is
    read row by row."""
    monkeypatch.setattr(sql, "JOINED_ROWS", 4)
    departments = ["SCJG", "市场监管局", "", "a\x1fb", "a,b"]
    rows = [{"enterprise_id": enterprise_id("330102", i), "task": f"T{i % 3}",
             "department": departments[i % 5] if i < 10 else "SCJG",
             "inspected_on": date(2026, 1, 1 + i % 28), "inspectors": "ZJ001" * (i % 2)}
            for i in range(1, 30)]
    stored(sqlite_engine, rows, removed)
    with reading(sqlite_engine) as conn:
        chunks = list(sql.column_chunks(conn, sql.HISTORY, sql.HISTORY_COLUMNS,
                                        sql.HISTORY_WIDTHS))
        driver = [tuple(row) for chunk in sql.stream_columns(conn, sql.HISTORY,
                                                               sql.HISTORY_COLUMNS)
                  for row in zip(*chunk, strict=True)]
    kinds = [isinstance(chunk[0], np.ndarray) for chunk in chunks]
    assert False in kinds and True in kinds  # the separator's chunk only is read by rows
    joined = [tuple(row) for chunk in chunks
              for row in zip(*(as_str(c) if isinstance(c, np.ndarray) else c for c in chunk),
                             strict=True)]
    assert joined == driver
