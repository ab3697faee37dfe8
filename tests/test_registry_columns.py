"""Tests of spotcheck.models.registry's columns built a chunk at a time: validation with true
row numbers, names as StringDType text, history in canonical order."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from builders import enterprise_id
from hypothesis import given
from hypothesis import strategies as st

from spotcheck.errors import InvalidInputError
from spotcheck.models import HistoryRecord, registry
from spotcheck.models.registry import EnterpriseColumns, HistoryColumns

FIELDS = ("ids", "names", "jurisdictions", "industries", "tiers")


def code(serial: int) -> str:
    """Return a valid unified social credit code."""
    return enterprise_id("330102", serial)


def five(n: int) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """Return n valid enterprises as five columns."""
    return ([code(i) for i in range(1, n + 1)], [f"杭州企业{i}" for i in range(1, n + 1)],
            ["330102"] * n, ["F5211"] * n, ["B"] * n)


def problems(excinfo: pytest.ExceptionInfo[InvalidInputError]) -> list[tuple[object, ...]]:
    """Return (row, column, value) of each problem an error lists."""
    return [(p.row, p.column, p.value) for p in excinfo.value.problems]


def same(a: EnterpriseColumns, b: EnterpriseColumns) -> bool:
    """Return whether two column sets hold the same rows."""
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in FIELDS)


@pytest.fixture
def chunks_of_three(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lists validated three rows at a time."""
    monkeypatch.setattr(registry, "CHUNK_ROWS", 3)


def test_rows_are_numbered_across_chunks(chunks_of_three: None) -> None:
    """A bad value in a later chunk, and a repeat of an earlier chunk's code, are reported
    at their rows in the whole list."""
    ids, names, places, industries, tiers = five(8)
    places[4] = "33010"
    ids[6] = ids[1]
    names[7] = "甲\n乙"
    with pytest.raises(InvalidInputError) as excinfo:
        EnterpriseColumns.from_lists(ids, names, places, industries, tiers, source="f")
    assert problems(excinfo) == [(5, "jurisdiction", "33010"), (7, "enterprise_id", code(2)),
                                 (8, "name", "甲\n乙")]
    assert excinfo.value.problems[1].reason == "duplicate of row 2"


def test_values_too_long_for_their_column_are_refused_not_cut(chunks_of_three: None) -> None:
    """A value longer than its column (or not ASCII) is reported, never silently cut short
    to fit numpy's fixed width."""
    ids, names, places, industries, tiers = five(5)
    ids[0] += "9"
    places[1] = "3301021"
    industries[2] = "F52110000"
    tiers[3] = "B" * 17
    industries[4] = "Ｆ5211"
    with pytest.raises(InvalidInputError) as excinfo:
        EnterpriseColumns.from_lists(ids, names, places, industries, tiers)
    assert problems(excinfo) == [(1, "enterprise_id", ids[0]), (2, "jurisdiction", "3301021"),
                                 (3, "industry", "F52110000"), (4, "tier", "B" * 17),
                                 (5, "industry", "Ｆ5211")]


def test_names_are_string_dtype_text() -> None:
    """Names are a StringDType column; object arrays given to the constructor are turned
    into one, and a record gets its name back as str."""
    columns = EnterpriseColumns.from_lists(*five(3))
    assert isinstance(columns.names.dtype, np.dtypes.StringDType)
    names = np.empty(3, dtype=object)
    names[:] = ["杭州𠮷野家餐饮有限公司", "乙", "丙"]
    direct = EnterpriseColumns(columns.ids, names, columns.jurisdictions, columns.industries,
                               columns.tiers)
    assert isinstance(direct.names.dtype, np.dtypes.StringDType)
    assert direct.record(0).name == "杭州𠮷野家餐饮有限公司"
    assert direct.names.tolist() == names.tolist()


@pytest.mark.parametrize("rows", [0, 2, 7, 100])
def test_any_expected_size_gives_the_same_columns(rows: int) -> None:
    """The number of rows announced only sizes the columns: too few or too many, the result
    is the same."""
    ids, names, places, industries, tiers = five(7)
    order = [3, 0, 6, 2, 5, 1, 4]
    chunks = [[[column[i] for i in order[start:start + 3]]
               for column in (ids, names, places, industries, tiers)]
              for start in range(0, 7, 3)]
    built = EnterpriseColumns.from_chunks(chunks, rows=rows)
    assert same(built, EnterpriseColumns.from_lists(ids, names, places, industries, tiers))
    assert built.ids.tolist() == sorted(c.encode() for c in ids)


DAYS = st.dates(date(2024, 1, 1), date(2026, 12, 31))
HISTORY = st.lists(st.builds(
    HistoryRecord, enterprise_id=st.integers(1, 12).map(code),
    task=st.sampled_from(["GS-QY", "SP-JY", "A", "a", "T.1"]),
    department=st.sampled_from(["", "SCJG", "TZSB", "市场监管局", "Z"]), inspected_on=DAYS),
    max_size=60)


@given(HISTORY, st.integers(1, 9), st.booleans())
def test_history_from_chunks_equals_history_from_records(
        records: list[HistoryRecord], size: int, iso: bool) -> None:
    """History built from chunks of text (or dates), in any order with repeats, equals the
    records' canonical, de-duplicated columns."""
    rows = [(r.enterprise_id, r.task, r.department,
             r.inspected_on.isoformat() if iso else r.inspected_on) for r in records]
    chunks = [[[row[k] for row in rows[start:start + size]] for k in range(4)]
              for start in range(0, len(rows), size)]
    built = HistoryColumns.from_chunks(chunks, rows=len(rows) // 2)
    expected = HistoryColumns.from_records(records)
    assert built.records() == expected.records()
    assert built.dates.dtype == np.dtype("datetime64[D]")
    assert built.tasks.dtype == object


def test_bad_history_rows_are_listed() -> None:
    """Every bad history value is reported at its row."""
    chunk = [[code(1), "x", code(2)], ["T1", "T1", "T 1"], ["SCJG", "a\tb", ""],
             ["2026-01-05", "2026-02-30", "2026-03-01"]]
    with pytest.raises(InvalidInputError) as excinfo:
        HistoryColumns.from_chunks([chunk], source="h")
    assert problems(excinfo) == [(2, "department", "a\tb"), (2, "enterprise_id", "x"),
                                 (2, "inspected_on", "2026-02-30"), (3, "task", "T 1")]
