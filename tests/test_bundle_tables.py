"""Tests of the bundle's registry files at scale: inputs/*.csv written and read in chunks,
byte for byte and error for error as the csv module reads and writes them whole."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

import numpy as np
import pytest
from builders import Scenario
from hypothesis import given
from hypothesis import strategies as st

from spotcheck.errors import SpotcheckError
from spotcheck.formats import inputs, tables
from spotcheck.formats.archive import Bundle
from spotcheck.formats.bundle import output_files
from spotcheck.formats.tables import HEADERS, csv_bytes, read_table
from spotcheck.models.identifiers import uscc_check_character
from spotcheck.models.registry import EnterpriseColumns

NAME = "inputs/enterprises.csv"


def code(serial: int) -> str:
    """Return a valid unified social credit code."""
    body = f"91330102{serial:09d}"
    return body + uscc_check_character(body)


def whole_file_rows(name: str, data: bytes) -> list[tuple[str, ...]] | str:
    """Return the rows as the csv module reads the whole text, or the error read_table gives."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    except (UnicodeDecodeError, csv.Error) as exc:
        return f"{name} cannot be read: {exc}"
    if not rows or tuple(rows[0]) != HEADERS[name]:
        return f"{name}: the header is not {','.join(HEADERS[name])}"
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(HEADERS[name]):
            return (f"{name}:{number}: the row has {len(row)} field(s), "
                    f"expected {len(HEADERS[name])}")
    return [tuple(r) for r in rows[1:]]


def read_or_error(name: str, data: bytes) -> list[tuple[str, ...]] | str:
    """Return read_table's rows, or its error message."""
    try:
        return read_table(name, data)
    except SpotcheckError as exc:
        return str(exc)


def canonical(rows: Iterable[Iterable[str]]) -> bytes:
    """Return the enterprises file as csv writes it whole."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADERS[NAME])
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


ROWS = [(code(i), f"杭州第{i}贸易有限公司", "330102", "F5213" if i % 2 else "", "ABCD"[i % 4])
        for i in range(1, 40)]
ODD_NAMES = ['杭州"老字号"商行', "Smith, Jones & Co", '"', ",", " 前后空格 ", "a\tb",
             "\u2028分隔", '甲,"乙"', "𠮷野家"]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few lines, so that every test crosses chunk boundaries."""
    monkeypatch.setattr(tables, "_CHUNK_BYTES", 200)
    monkeypatch.setattr(tables, "CSV_BATCH", 7)
    monkeypatch.setattr(inputs, "CSV_BATCH", 7)
    monkeypatch.setattr(tables, "CHUNK_ROWS", 5)


def test_canonical_file_reads_as_the_csv_module_reads_it() -> None:
    """A canonical file, quoted names included, reads row for row as csv reads it whole."""
    rows = [(r[0], ODD_NAMES[i % len(ODD_NAMES)] if i % 3 == 0 else r[1], *r[2:])
            for i, r in enumerate(ROWS)]
    data = canonical(rows)
    assert read_table(NAME, data) == rows == whole_file_rows(NAME, data)


def test_writers_give_the_bytes_csv_gives_whole() -> None:
    """csv_bytes and columns_csv_bytes, writing a batch at a time (joined directly when no
    value needs quotes), write what one csv writer writes for the whole file."""
    rows = [(r[0], ODD_NAMES[i % len(ODD_NAMES)] if i % 9 == 0 else r[1], *r[2:])
            for i, r in enumerate(ROWS)]
    batches = [[list(column) for column in zip(*rows[start:start + 7], strict=True)]
               for start in range(0, len(rows), 7)]
    assert csv_bytes(NAME, rows) == canonical(rows)
    assert tables.columns_csv_bytes(NAME, batches) == canonical(rows)
    assert tables.columns_csv_bytes(NAME, []) == canonical([])


def test_enterprises_round_trip_through_the_bundle_file() -> None:
    """Registry columns written to inputs/enterprises.csv read back to the same columns."""
    valid = [n for n in ODD_NAMES if n.isprintable()]
    names = [valid[i % len(valid)] + "有限公司" for i in range(len(ROWS))]
    columns = EnterpriseColumns.from_lists([r[0] for r in ROWS], names,
                                           [r[2] for r in ROWS], [r[3] for r in ROWS],
                                           [r[4] for r in ROWS])
    data = tables.columns_csv_bytes(NAME, inputs._enterprise_batches(columns))
    text = [columns.ids.astype("U18").tolist(), columns.names.tolist(),
            columns.jurisdictions.astype("U6").tolist(),
            columns.industries.astype("U8").tolist(), columns.tiers.astype("U16").tolist()]
    assert data == canonical(zip(*text, strict=True))
    back = EnterpriseColumns.from_chunks(tables.table_columns(NAME, data), source=NAME)
    for field in ("ids", "names", "jurisdictions", "industries", "tiers"):
        assert np.array_equal(getattr(back, field), getattr(columns, field))
    assert sorted(back.names.tolist()) == sorted(names)


@pytest.mark.parametrize("damage", [
    (b"\n", b"\r\n"), (b"\n", b"\n\n"), (b"\xe6\x9d\xad", b"\xff"), (b",F5213,", b",F5213,,"),
    (b",330102,", b',"330102",'), (b",330102,", b',33"0102,'), (b"\xe6\x9d\xad", b"\x00"),
    (b"enterprise_id", b'"enterprise_id"'), (b"tier\n", b"tier"),
])
def test_damaged_files_fail_as_a_whole_reading_fails(damage: tuple[bytes, bytes]) -> None:
    """A damaged file is refused with the message reading its whole text gives (a bad byte
    late in the file before a bad row width early), or read the same when still valid."""
    old, new = damage
    data = canonical(ROWS)
    for count in (1, 2, -1):
        changed = data.replace(old, new, count) if count > 0 else data.replace(old, new)
        last = changed.rfind(old)
        if last >= 0 and count == 2:  # damage the last occurrence too
            changed = changed[:last] + new + changed[last + len(old):]
        assert read_or_error(NAME, changed) == whole_file_rows(NAME, changed)


@given(st.lists(st.tuples(st.integers(0, 5000), st.sampled_from(
    [b",", b'"', b"\n", b"\r", b"\x00", b"a", "中".encode(), b"\xff", b'""', b'",'])),
    max_size=4))
def test_any_edit_reads_as_the_csv_module_reads_it(edits: list[tuple[int, bytes]]) -> None:
    """Whatever bytes are inserted, read_table gives csv's rows or read_table's old error."""
    data = canonical([(r[0], ODD_NAMES[i % len(ODD_NAMES)], *r[2:])
                      for i, r in enumerate(ROWS)])
    for at, text in edits:
        at %= len(data) + 1
        data = data[:at] + text + data[at:]
    assert read_or_error(NAME, data) == whole_file_rows(NAME, data)


def test_registry_round_trips_through_its_input_files(city_scenario: Scenario) -> None:
    """A registry written as a bundle's input files, a few rows at a time, reads back as the
    same registry (history included) and writes the same bytes again."""
    files = inputs.input_files(city_scenario.registry, b"")
    back = inputs.registry_from_bundle(Bundle(files))
    assert inputs.input_files(back, b"") == files
    assert back.history.records() == city_scenario.registry.history.records()
    assert back.enterprises.names.tolist() == city_scenario.registry.enterprises.names.tolist()


def test_noncanonical_inputs_names_exactly_the_files_input_files_would_change(
        city_scenario: Scenario) -> None:
    """Compared a batch at a time, the inputs found non-canonical are those whose bytes
    differ from what input_files writes: an edit anywhere, a cut, an added line."""
    registry = city_scenario.registry
    files = inputs.input_files(registry, b"")
    assert inputs.noncanonical_inputs(registry, files) == []
    history = files["inputs/history.csv"]
    for edited in (history[:-1], history + b"x", history.replace(b"SCJG", b"SCJH", 1),
                   history[:40] + history[41:]):
        changed = {**files, "inputs/history.csv": edited}
        assert inputs.noncanonical_inputs(registry, changed) == ["inputs/history.csv"]
    changed = {**files, "inputs/enterprises.csv": files["inputs/enterprises.csv"] + b"\n",
               "inputs/conflicts.csv": b""}
    assert inputs.noncanonical_inputs(registry, changed) == ["inputs/enterprises.csv",
                                                             "inputs/conflicts.csv"]


def test_result_tables_hold_each_rows_fields_by_name(city_scenario: Scenario) -> None:
    """Every result file, read back under its header, gives each plan row's fields of those
    names (a list ';'-joined): the header and the cells follow the row type."""
    plan = city_scenario.plan
    files = output_files(plan)
    short = [s for s in plan.strata if s.drawn < s.target]
    tables = {"strata.csv": plan.strata, "draws.csv": plan.draws, "skipped.csv": plan.skipped,
              "assignments.csv": plan.assignments, "visits.csv": plan.visits,
              "shortfalls.csv": short}
    assert all(tables.values()), "the city fills every result file"
    for name, rows in tables.items():
        written = [dict(zip(HEADERS[name], r, strict=True)) for r in read_table(name, files[name])]
        assert written == [{k: ";".join(v) if isinstance(v, tuple) else str(v)
                            for k in HEADERS[name] for v in [getattr(row, k)]} for row in rows]

