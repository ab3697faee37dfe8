"""The registry snapshot: enterprises, inspectors, conflicts and history as validated columns.

Enterprises and history are held as numpy columns (no Python object per row in the hot
path) so a province of ten million fits; inspectors and conflicts are few and stay records.
Rows are put in canonical order on construction, so the order of input rows never matters.
Enterprise names are a StringDType column: their UTF-8 text sits in one arena rather than in
ten million Python strings.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from spotcheck.errors import InvalidInputError, RowProblem
from spotcheck.models.byte_columns import NUL
from spotcheck.models.domain import Conflict, Enterprise, HistoryRecord, Inspector
from spotcheck.models.identifiers import (
    CONTROL,
    ENTERPRISE_JURISDICTION,
    INDUSTRY_CODE,
    INSPECTOR_ID,
    TASK_CODE,
    TIER_NAME,
    uscc_problem,
    uscc_valid_mask,
)

TEXT = np.dtypes.StringDType()  # the dtype of enterprise names
# Rows validated and converted at a time: big enough for numpy to pay, small enough that the
# Python strings of one chunk stay a small part of the columns they become.
CHUNK_ROWS = 250_000
NAME_LENGTH = 200
# A column of a chunk of rows: its values as text, or as an 'S' column of their UTF-8 bytes
# (no value holding a NUL), as the columnar readers give them.
ChunkColumn = Sequence[Any] | np.ndarray
# Five columns, one per column of an enterprises file, in its column order
# (models.columns): ids, names, jurisdictions, industries, tiers.
EnterpriseChunk = Sequence[ChunkColumn]


def as_columns(rows: Sequence[Sequence[str]], width: int) -> list[list[str]]:
    """Return rows of `width` values as `width` columns (five times faster than zip(*rows))."""
    return [list(map(operator.itemgetter(k), rows)) for k in range(width)]


def text_column(values: Sequence[str] | np.ndarray) -> np.ndarray:
    """Return free text (enterprise names) as a StringDType column."""
    if isinstance(values, np.ndarray) and isinstance(values.dtype, np.dtypes.StringDType):
        return values
    if isinstance(values, np.ndarray):
        return values.astype(TEXT)
    return np.array(values, dtype=TEXT) if len(values) else np.empty(0, dtype=TEXT)


def fixed_width(values: Sequence[str], width: int) -> tuple[np.ndarray, list[int]]:
    """Return ASCII text as an 'S{width}' column, and the positions of values that are not
    ASCII or are longer than `width` (left blank in the column, never cut short)."""
    try:
        # one byte wider than the column: a value too long shows as a last byte in use
        wide = np.array(values, dtype=f"S{width + 1}").reshape(len(values))
        if not wide.view(np.uint8).reshape(len(values), width + 1)[:, width].any():
            return wide.astype(f"S{width}"), []
    except UnicodeEncodeError:
        pass
    odd = [i for i, v in enumerate(values) if not v.isascii() or len(v) > width]
    clean = list(values)
    for i in odd:
        clean[i] = ""
    return np.array(clean, dtype=f"S{width}").reshape(len(values)), odd


def _refused(values: Sequence[str], reason: Callable[[str], str | None]
             ) -> Iterator[tuple[int, str, str]]:
    """Yield (position, value, reason) of each value refused, checking each distinct one once."""
    refused = {v: why for v in set(values) if (why := reason(v)) is not None}
    if refused:
        for i, value in enumerate(values):
            if value in refused:
                yield i, value, refused[value]


def _jurisdiction_problem(text: str) -> str | None:
    if ENTERPRISE_JURISDICTION.fullmatch(text):
        return None
    return "an enterprise's jurisdiction is a 6-digit GB/T 2260 code"


def _industry_problem(text: str) -> str | None:
    return None if INDUSTRY_CODE.fullmatch(text) else "an industry code is up to 8 letters/digits"


def _tier_problem(text: str) -> str | None:
    if not text:
        return "tier is empty"
    return None if TIER_NAME.fullmatch(text) else "a tier is a letter such as A, B, C or D"


def _name_problem(text: str) -> str | None:
    if not text:
        return "name is empty"
    if CONTROL.search(text):
        return "control characters and line breaks are not allowed"
    if len(text) > NAME_LENGTH:
        return f"name is longer than {NAME_LENGTH} characters"
    return None


def _chunk_columns(chunk: EnterpriseChunk, first: int, source: str
                   ) -> tuple[tuple[np.ndarray, ...], list[RowProblem]]:
    """Return one chunk of rows as columns, and its bad values (rows numbered from first + 1).
    A chunk of 'S' columns (UTF-8, no NUL) is checked as bytes; only one with a doubtful
    value is turned into text, to find and word its problems."""
    arrays = _arrays(chunk)
    if arrays is not None and len(arrays) == 5:
        valid = _valid_byte_columns(*arrays)
        if valid is not None:
            return valid, []
    ids, names, jurisdictions, industries, tiers = _text(chunk)
    n = len(ids)
    if not (len(names) == len(jurisdictions) == len(industries) == len(tiers) == n):
        raise InvalidInputError(f"{source}: columns have different lengths")
    problems: list[RowProblem] = []

    def refuse(found: Iterable[tuple[int, str, str]], column: str) -> None:
        problems.extend(RowProblem(source, first + i + 1, column, value, reason)
                        for i, value, reason in found)

    id_column = fixed_width(ids, 18)[0]
    bad = ~uscc_valid_mask(id_column)  # a blanked odd code is invalid too
    refuse(((i, ids[i], uscc_problem(ids[i]) or "invalid code")
            for i in np.flatnonzero(bad).tolist()), "enterprise_id")
    refuse(_refused(jurisdictions, _jurisdiction_problem), "jurisdiction")
    refuse(_refused(industries, _industry_problem), "industry")
    refuse(_refused(tiers, _tier_problem), "tier")
    # One regular-expression pass over the chunk's names joined, instead of one per name.
    if ("" in names or max(map(len, names), default=0) > NAME_LENGTH
            or CONTROL.search("|".join(names))):
        refuse(((i, v, why) for i, v in enumerate(names)
                if (why := _name_problem(v)) is not None), "name")
    if problems:
        return (id_column,), problems  # only the ids are still needed: to report repeats
    return (id_column, text_column(names), fixed_width(jurisdictions, 6)[0],
            fixed_width(industries, 8)[0], fixed_width(tiers, 16)[0]), problems


def as_str(column: np.ndarray) -> list[str]:
    """Return an 'S' column of UTF-8 text as a list of str."""
    return column.astype(TEXT).tolist()


def _arrays(chunk: Sequence[ChunkColumn]) -> list[np.ndarray] | None:
    """Return a chunk's columns if every one is an 'S' column, else None."""
    arrays = [column for column in chunk if isinstance(column, np.ndarray)]
    return arrays if len(arrays) == len(chunk) else None


def _text(chunk: Sequence[ChunkColumn]) -> list[Sequence[Any]]:
    """Return a chunk's columns as text (an 'S' column decoded)."""
    return [as_str(column) if isinstance(column, np.ndarray) else column for column in chunk]


_DIGITS = np.zeros(256, bool)
_DIGITS[np.frombuffer(b"0123456789", np.uint8)] = True
_LETTERS = np.zeros(256, bool)
_LETTERS[np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", np.uint8)] = True
_ALNUM = _DIGITS | _LETTERS
_TIER_TAIL = _ALNUM.copy()
_TIER_TAIL[ord("_")] = True


def _octets(column: np.ndarray) -> np.ndarray:
    """Return an 'S' column as a (rows, width) uint8 matrix."""
    return np.ascontiguousarray(column).view(np.uint8).reshape(len(column),
                                                               column.dtype.itemsize)


def _fits(column: np.ndarray, allowed: np.ndarray, width: int, least: int) -> bool:
    """Return whether every value of an 'S' column is `least` to `width` bytes, each byte
    one `allowed` (a NUL past the value's end being padding)."""
    if column.dtype.itemsize > width:
        return False
    octets = _octets(column)
    padding = octets == NUL
    return bool((allowed[octets] | padding).all()
                and (least == 0 or not padding[:, :least].any()))


def _plain_names(names: np.ndarray) -> bool:
    """Return whether no name of an 'S' column (UTF-8) breaks _name_problem's rules: none
    empty, none longer than NAME_LENGTH characters, none holding a CONTROL character."""
    octets = _octets(names)
    if len(names) and not octets[:, 0].all():
        return False
    if names.dtype.itemsize > NAME_LENGTH:  # count characters: bytes that start one
        starts = (octets & 0xC0) != 0x80
        if int(np.count_nonzero(starts & (octets != NUL), axis=1).max()) > NAME_LENGTH:
            return False
    # A CONTROL character in UTF-8 is a byte below 0x20 or 0x7F, or U+0080-U+009F (C2 80-9F)
    # or U+2028/9 (E2 80 A8/A9). Comparisons, not a table look-up: three times faster.
    if bool((((octets - 1) < 0x1F) | (octets == 0x7F)).any()):  # a NUL (padding) wraps
        return False
    if not bool(((octets == 0xC2) | (octets == 0xE2)).any()):
        return True
    lead, follow = octets[:, :-1], octets[:, 1:]
    if bool(((lead == 0xC2) & (follow >= 0x80) & (follow < 0xA0)).any()):
        return False
    return not bool(((octets[:, :-2] == 0xE2) & (octets[:, 1:-1] == 0x80)
                     & ((octets[:, 2:] == 0xA8) | (octets[:, 2:] == 0xA9))).any())


def _valid_byte_columns(ids: np.ndarray, names: np.ndarray, jurisdictions: np.ndarray,
                        industries: np.ndarray, tiers: np.ndarray
                        ) -> tuple[np.ndarray, ...] | None:
    """Return a chunk of 'S' columns as _chunk_columns's columns if every value is plainly
    valid, else None (the caller then finds the problems from text)."""
    if not (len(names) == len(jurisdictions) == len(industries) == len(tiers) == len(ids)):
        return None
    if not (ids.dtype.itemsize <= 18 and jurisdictions.dtype.itemsize == 6
            and _fits(jurisdictions, _DIGITS, 6, 6) and _fits(industries, _ALNUM, 8, 0)
            and _fits(tiers, _TIER_TAIL, 16, 1) and bool(_LETTERS[_octets(tiers)[:, 0]].all())
            and _plain_names(names)):
        return None
    id_column = ids if ids.dtype == np.dtype("S18") else ids.astype("S18")
    if not bool(uscc_valid_mask(id_column).all()):
        return None
    try:
        text = names.astype(TEXT)
    except UnicodeDecodeError:
        return None
    return (id_column, text, jurisdictions, industries.astype("S8"), tiers.astype("S16"))


def id_keys(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return an 'S18' column as three integer columns (most significant first) sorting as
    the codes do: np.lexsort sorts integers three times faster than 18-byte strings."""
    octets = ids.view(np.uint8).reshape(len(ids), 18)
    return (np.ascontiguousarray(octets[:, :8]).view(">u8").ravel(),
            np.ascontiguousarray(octets[:, 8:16]).view(">u8").ravel(),
            np.ascontiguousarray(octets[:, 16:]).view(">u2").ravel())


def in_order(*keys: np.ndarray) -> np.ndarray:
    """Return, for each row after the first, whether it is not before the row above it, the
    rows compared key by key (most significant key first)."""
    ahead = np.zeros(max(len(keys[0]) - 1, 0), dtype=bool)
    tied = np.ones(len(ahead), dtype=bool)
    for key in keys:
        ahead |= tied & (key[:-1] < key[1:])
        tied &= key[:-1] == key[1:]
    return ahead | tied


def id_order(ids: np.ndarray) -> np.ndarray | None:
    """Return the stable order sorting an 'S18' column, or None if it is sorted already."""
    if len(ids) < 2 or bool(np.all(ids[1:] >= ids[:-1])):
        return None
    hi, mid, lo = id_keys(np.ascontiguousarray(ids))
    return np.lexsort((lo, mid, hi))


def repeats(ids: np.ndarray, order: np.ndarray | None) -> list[tuple[int, int]]:
    """Return (first, later) positions of each id seen before, for non-blank ids; `order` is
    what id_order(ids) returns. `first` is where the id occurs first."""
    ranked = ids if order is None else ids[order]
    again = np.flatnonzero((ranked[1:] == ranked[:-1]) & (ranked[1:] != b"")) + 1
    # a stable order puts each id's first occurrence at the start of its run
    starts = np.searchsorted(ranked, ranked[again], side="left")
    if order is not None:
        again, starts = order[again], order[starts]
    return list(zip(starts.tolist(), again.tolist(), strict=True))


class ColumnChunks:
    """Columns filled a chunk at a time, then put in order.

    The columns are allocated for `rows` rows up front (and grown if more come), so each row
    is copied once into its final place: chunks kept apart and joined at the end would hold
    every row twice, and the allocator seldom gives the chunks' memory back.
    """

    def __init__(self, dtypes: Sequence[np.dtype[Any]], rows: int = 0) -> None:
        self._columns = [np.empty(rows, dtype=dtype) for dtype in dtypes]
        self._size = 0

    def add(self, *columns: np.ndarray) -> None:
        """Add one chunk: its columns in order (the first ones only, if the rest are moot)."""
        start, end = self._size, self._size + len(columns[0])
        if end > len(self._columns[0]):
            capacity = max(end, 2 * len(self._columns[0]))
            for k, column in enumerate(self._columns):
                wider = np.empty(capacity, dtype=column.dtype)
                wider[:start] = column[:start]
                self._columns[k] = wider
        for k, column in enumerate(columns):
            self._columns[k][start:end] = column
        self._size = end

    def first(self) -> np.ndarray:
        """Return the first column as added so far."""
        return self._columns[0][:self._size]

    def columns(self, order: np.ndarray | None) -> list[np.ndarray]:
        """Return the columns with their rows in `order` (None: as added), using up this
        object."""
        columns, self._columns = self._columns, []
        for k, column in enumerate(columns):  # one column at a time: one copy at a time
            if order is not None:
                columns[k] = column[order]
            elif len(column) != self._size:
                columns[k] = column[:self._size].copy()
        return columns


ENTERPRISE_DTYPES = (np.dtype("S18"), np.dtype(TEXT), np.dtype("S6"), np.dtype("S8"),
                     np.dtype("S16"))  # the dtype of each column, in EnterpriseChunk order


@dataclass(frozen=True, eq=False)
class EnterpriseColumns:
    """Enterprises as parallel columns, sorted by enterprise_id."""

    ids: np.ndarray            # 'S18' unified social credit codes
    names: np.ndarray          # StringDType text (an object array given is converted)
    jurisdictions: np.ndarray  # 'S6'
    industries: np.ndarray     # 'S8'
    tiers: np.ndarray          # 'S16'

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", text_column(self.names))

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_lists(cls, ids: Sequence[str], names: Sequence[str], jurisdictions: Sequence[str],
                   industries: Sequence[str], tiers: Sequence[str],
                   source: str = "enterprises") -> EnterpriseColumns:
        """Return validated, id-sorted columns; raise listing every bad row (1-based)."""
        n = len(ids)
        if not (len(names) == len(jurisdictions) == len(industries) == len(tiers) == n):
            raise InvalidInputError(f"{source}: columns have different lengths")
        size = CHUNK_ROWS
        return cls.from_chunks(
            ([column[start:start + size] for column in
              (ids, names, jurisdictions, industries, tiers)] for start in range(0, n, size)),
            source=source, rows=n)

    @classmethod
    def from_chunks(cls, chunks: Iterable[EnterpriseChunk], source: str = "enterprises",
                    rows: int = 0) -> EnterpriseColumns:
        """Return validated, id-sorted columns from consecutive chunks of rows (each five
        columns, EnterpriseChunk); raise listing every bad row, rows numbered from 1
        across the chunks. Only one chunk's Python strings are held at a time; `rows`, the
        number of rows expected, saves growing the columns as chunks come."""
        chunked = ColumnChunks(ENTERPRISE_DTYPES, rows)
        problems: list[RowProblem] = []
        first = 0
        for chunk in chunks:
            columns, found = _chunk_columns(chunk, first, source)
            problems += found
            chunked.add(*(columns[:1] if problems else columns))
            first += len(columns[0])
        ids = chunked.first()
        order = id_order(ids)
        for earlier, later in repeats(ids, order):
            problems.append(RowProblem(source, later + 1, "enterprise_id", ids[later].decode(),
                                       f"duplicate of row {earlier + 1}"))
        if problems:
            problems.sort(key=lambda p: (p.row or 0, p.column or ""))
            raise InvalidInputError(problems, headline=f"{source}: {len(problems)} bad value(s)")
        del ids
        return cls(*chunked.columns(order))

    @classmethod
    def from_records(cls, records: Iterable[Enterprise]) -> EnterpriseColumns:
        """Return columns built from validated Enterprise records."""
        rows = list(records)
        return cls.from_lists([r.enterprise_id for r in rows], [r.name for r in rows],
                              [r.jurisdiction for r in rows], [r.industry for r in rows],
                              [r.tier for r in rows])

    def record(self, index: int) -> Enterprise:
        """Return one enterprise as a record."""
        return Enterprise(enterprise_id=self.ids[index].decode(), name=self.names[index],
                          jurisdiction=self.jurisdictions[index].decode(),
                          industry=self.industries[index].decode(),
                          tier=self.tiers[index].decode())

    def index_of(self, enterprise_ids: np.ndarray) -> np.ndarray:
        """Return the row of each id ('S18' array), or -1 where the id is unknown."""
        pos = np.searchsorted(self.ids, enterprise_ids)
        pos = np.minimum(pos, max(len(self.ids) - 1, 0))
        found = (len(self.ids) > 0) & (self.ids[pos] == enterprise_ids) if len(self.ids) else \
            np.zeros(len(enterprise_ids), dtype=bool)
        return np.where(found, pos, -1)


@dataclass(frozen=True, eq=False)
class HistoryColumns:
    """Past inspections as columns, sorted by (enterprise_id, task, department, date,
    inspectors)."""

    enterprise_ids: np.ndarray  # 'S18'
    tasks: np.ndarray           # object array of str
    departments: np.ndarray     # object array of str
    dates: np.ndarray           # datetime64[D]
    # object array of str: who inspected (实际检查人员), ';'-joined, sorted; "" if not recorded
    inspectors: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.inspectors is None:
            object.__setattr__(self, "inspectors", _objects([""] * len(self.enterprise_ids)))

    def __len__(self) -> int:
        return len(self.enterprise_ids)

    @property
    def who(self) -> np.ndarray:
        """Return the inspectors column (';'-joined certificate numbers per row)."""
        assert self.inspectors is not None  # set on construction
        return self.inspectors

    @classmethod
    def from_records(cls, records: Iterable[HistoryRecord]) -> HistoryColumns:
        """Return sorted, de-duplicated history columns (one row per enterprise, task,
        department and day: the inspectors its records name, together)."""
        named: dict[tuple[str, str, str, date], set[str]] = {}
        for r in records:
            named.setdefault((r.enterprise_id, r.task, r.department, r.inspected_on),
                             set()).update(r.inspectors)
        rows = sorted(named)
        return cls(np.array([r[0].encode() for r in rows], dtype="S18"),
                   _objects([r[1] for r in rows]), _objects([r[2] for r in rows]),
                   np.array([r[3] for r in rows], dtype="datetime64[D]"),
                   _objects([";".join(sorted(named[r])) for r in rows]))

    @classmethod
    def from_chunks(cls, chunks: Iterable[Sequence[ChunkColumn]], source: str = "history",
                    rows: int = 0) -> HistoryColumns:
        """Return validated history columns in canonical order, repeats dropped, from
        consecutive chunks of rows (each four sequences: enterprise ids, tasks, departments
        and days as ISO text or dates, and optionally a fifth: the inspectors, ';'-joined);
        raise listing every bad row (numbered from 1).

        Tasks, departments and inspector lists are kept as one str object per distinct
        value, shared.
        """
        code = np.dtype(np.int64)
        chunked = ColumnChunks((np.dtype("S18"), code, code, code, code), rows)
        coders: list[dict[Any, int]] = [{}, {}, {}, {}]  # task, department, day, inspectors
        problems: list[RowProblem] = []
        for chunk in chunks:
            found, columns = _history_chunk(chunk, len(chunked.first()), source, coders)
            problems += found
            chunked.add(*columns)
        if problems:
            problems.sort(key=lambda p: (p.row or 0, p.column or ""))
            raise InvalidInputError(problems, headline=f"{source}: {len(problems)} bad value(s)")
        ids, *codes = chunked.columns(None)
        size = len(ids)
        # codes turned into ranks among the sorted values, so that they sort as the values do
        task_values, tasks = _ranked(coders[0], codes[0], str)
        department_values, departments = _ranked(coders[1], codes[1], str)
        day_values, days = _ranked(coders[2], codes[2], _day_number)
        who_values, who = _ranked(coders[3], codes[3], str)
        del codes
        keys: tuple[np.ndarray, ...] = (ids, tasks, departments, days, who)
        if not bool(in_order(*keys).all()):
            order = np.lexsort((who, days, departments, tasks, *id_keys(ids)[::-1]))
            keys = tuple(key[order] for key in keys)
        who_column = _objects(who_values)[keys[4]]
        if size:  # one row per inspection, as from_records gives: its inspectors together
            same = _same_as_above(*keys[:4])
            for first in np.flatnonzero(np.r_[same, False] & ~np.r_[False, same]).tolist():
                last = first + 1
                while last < len(same) and same[last]:
                    last += 1
                who_column[first] = ";".join(sorted(
                    {i for w in who_column[first:last + 1] for i in w.split(";") if i}))
            keep = np.concatenate([[True], ~same])
            keys = tuple(key[keep] for key in keys)
            who_column = who_column[keep]
        ids, tasks, departments, days, _ = keys
        day_numbers = np.array([_day_number(v) for v in day_values], dtype=np.int64)
        return cls(ids, _objects(task_values)[tasks], _objects(department_values)[departments],
                   day_numbers[days].astype("datetime64[D]"), who_column)

    def records(self) -> list[HistoryRecord]:
        """Return the history as records, in canonical order."""
        return [HistoryRecord(enterprise_id=e.decode(), task=t, department=d,
                              inspected_on=date.fromisoformat(str(day)),
                              inspectors=tuple(i for i in w.split(";") if i))
                for e, t, d, day, w in zip(self.enterprise_ids, self.tasks, self.departments,
                                           self.dates, self.who, strict=True)]


_EPOCH = date(1970, 1, 1)


def _task_problem(text: str) -> str | None:
    return None if TASK_CODE.fullmatch(text) else "a task code is 1-32 of A-Z a-z 0-9 _ . -"


def _department_problem(text: str) -> str | None:
    if CONTROL.search(text):
        return "control characters and line breaks are not allowed"
    return None


def _day_problem(value: str | date) -> str | None:
    if isinstance(value, date):
        return None
    try:
        date.fromisoformat(value)
    except ValueError:
        return "not a date written as YYYY-MM-DD"
    return None


def _inspector_list_problem(text: str) -> str | None:
    items = text.split(";")
    if text and (not all(INSPECTOR_ID.fullmatch(i) for i in items) or items != sorted(set(items))):
        return "inspectors are certificate numbers (执法证号), ';'-joined, sorted, distinct"
    return None


def _history_chunk(chunk: Sequence[ChunkColumn], first: int, source: str,
                   coders: list[dict[Any, int]]
                   ) -> tuple[list[RowProblem], tuple[np.ndarray, ...]]:
    """Return the bad values of a chunk of history rows (rows numbered from first + 1), and
    the chunk as codes: 'S18' ids, then task, department, day and inspector-list codes from
    `coders`. A chunk of four columns has no inspectors recorded. A chunk of 'S' columns
    (UTF-8, no NUL) is coded by its distinct values; only one with a doubtful value is
    turned into text, to find and word its problems."""
    arrays = _arrays(chunk)
    if arrays is not None:
        codes = _coded_byte_columns(arrays, coders)
        if codes is not None:
            return [], codes
    text = _text(chunk)
    ids, tasks, departments, days = text[:4]
    n = len(ids)
    who: Sequence[str] = text[4] if len(text) > 4 else [""] * n
    if not (len(tasks) == len(departments) == len(days) == len(who) == n):
        raise InvalidInputError(f"{source}: columns have different lengths")
    problems: list[RowProblem] = []

    def refuse(found: Iterable[tuple[int, str, str]], column: str) -> None:
        problems.extend(RowProblem(source, first + i + 1, column, str(value), reason)
                        for i, value, reason in found)

    id_column = fixed_width(ids, 18)[0]
    refuse(((i, ids[i], uscc_problem(ids[i]) or "invalid code")
            for i in np.flatnonzero(~uscc_valid_mask(id_column)).tolist()), "enterprise_id")
    refuse(_refused(tasks, _task_problem), "task")
    refuse(_refused(departments, _department_problem), "department")
    refuse(_refused(days, _day_problem), "inspected_on")
    refuse(_refused(who, _inspector_list_problem), "inspectors")
    coded = []
    for coder, column in zip(coders, (tasks, departments, days, who), strict=True):
        for value in set(column):
            coder.setdefault(value, len(coder))
        coded.append(np.fromiter(map(coder.__getitem__, column), np.int64, n))
    return problems, (id_column, *coded)


_HISTORY_RULES = (_task_problem, _department_problem, _day_problem, _inspector_list_problem)


def _coded_byte_columns(chunk: Sequence[np.ndarray], coders: list[dict[Any, int]]
                        ) -> tuple[np.ndarray, ...] | None:
    """Return a chunk of history as 'S18' ids and codes (as _history_chunk does) if every
    value is valid, else None."""
    ids, n = chunk[0], len(chunk[0])
    rest = [*chunk[1:5], *([] if len(chunk) > 4 else [np.zeros(n, "S1")])]
    if ids.dtype.itemsize > 18 or any(len(column) != n for column in rest):
        return None
    id_column = ids if ids.dtype == np.dtype("S18") else ids.astype("S18")
    if not bool(uscc_valid_mask(id_column).all()):
        return None
    coded = []
    for coder, column, problem in zip(coders, rest, _HISTORY_RULES, strict=True):
        distinct, rows = _distinct(column)
        values = as_str(distinct)
        if any(problem(value) is not None for value in values):
            return None
        codes = np.array([coder.setdefault(value, len(coder)) for value in values], np.int64)
        coded.append(codes[rows])
    return (id_column, *coded)


def _distinct(column: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return an 'S' column's distinct values and each row's place among them, as np.unique
    does; values of up to 8 bytes are sorted as big-endian integers (NUL-padded, they sort
    as the bytes do), several times faster than as strings."""
    width = column.dtype.itemsize
    if width > 8:
        values, rows = np.unique(column, return_inverse=True)
        return values, rows.reshape(len(column))
    octets = np.zeros((len(column), 8), np.uint8)
    octets[:, :width] = _octets(column)
    keys, rows = np.unique(octets.view(">u8").reshape(len(column)), return_inverse=True)
    return np.ascontiguousarray(keys, dtype=">u8").view("S8"), rows.reshape(len(column))


def _ranked(coder: dict[Any, int], codes: np.ndarray, key: Callable[[Any], Any]
            ) -> tuple[list[Any], np.ndarray]:
    """Return a coded column's distinct values sorted by `key`, and each row's rank among
    them."""
    values = sorted(coder, key=key)
    rank = np.zeros(len(coder), dtype=np.int64)
    rank[[coder[v] for v in values]] = np.arange(len(values))
    return values, rank[codes]


def _objects(values: list[Any]) -> np.ndarray:
    """Return the values as a numpy object array."""
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def _day_number(value: str | date) -> int:
    """Return the days since 1970-01-01 of a date, or of one written in ISO form."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return (day - _EPOCH).days


def _same_as_above(*keys: np.ndarray) -> np.ndarray:
    """Return, for each row after the first, whether every key equals the row above."""
    same = np.ones(max(len(keys[0]) - 1, 0), dtype=bool)
    for key in keys:
        same &= key[:-1] == key[1:]
    return same


@dataclass(frozen=True, slots=True, order=True)
class PlannedVisit:
    """A visit of another active plan of the same calendar year: what the annual cap
    (policy tiers.X.annual_cap) counts besides the history (inputs/planned.csv)."""

    enterprise_id: str
    department: str
    quarter: str  # YYYYQn of that plan

    def __post_init__(self) -> None:
        problem = uscc_problem(self.enterprise_id)
        if problem is not None:
            raise ValueError(f"planned visit of {self.enterprise_id!r}: {problem}")
        if not self.department or CONTROL.search(self.department):
            raise ValueError(f"planned visit of {self.enterprise_id}: bad department")
        if not (len(self.quarter) == 6 and self.quarter[:4].isdigit()
                and self.quarter[4] == "Q" and self.quarter[5] in "1234"):
            raise ValueError(f"planned visit of {self.enterprise_id}: quarter "
                             f"{self.quarter!r} is not YYYYQn")


@dataclass(frozen=True, eq=False)
class Registry:
    """A frozen snapshot of the four registries, in canonical order, cross-checked; with the
    visits of the year's other active plans when a policy's annual cap needs them."""

    enterprises: EnterpriseColumns
    inspectors: tuple[Inspector, ...]
    conflicts: tuple[Conflict, ...]
    history: HistoryColumns
    planned: tuple[PlannedVisit, ...] = ()  # sorted, distinct

    @classmethod
    def build(cls, enterprises: EnterpriseColumns | Iterable[Enterprise],
              inspectors: Iterable[Inspector], conflicts: Iterable[Conflict] = (),
              history: HistoryColumns | Iterable[HistoryRecord] = (),
              planned: Iterable[PlannedVisit] = ()) -> Registry:
        """Return a snapshot; raise if ids repeat or a conflict names an unknown party."""
        if not isinstance(enterprises, EnterpriseColumns):
            enterprises = EnterpriseColumns.from_records(enterprises)
        if not isinstance(history, HistoryColumns):
            history = HistoryColumns.from_records(history)
        officers = sorted(inspectors, key=lambda r: r.inspector_id)
        problems: list[RowProblem] = []
        for a, b in itertools.pairwise(officers):
            if a.inspector_id == b.inspector_id:
                problems.append(RowProblem("inspectors", None, "inspector_id", a.inspector_id,
                                           "the same certificate number appears twice"))
        known = {o.inspector_id for o in officers}
        unique_conflicts = sorted(set(conflicts),
                                  key=lambda c: (c.inspector_id, c.enterprise_id, c.reason))
        if unique_conflicts:
            ids = np.array([c.enterprise_id.encode() for c in unique_conflicts], dtype="S18")
            rows = enterprises.index_of(ids)
            for conflict, row in zip(unique_conflicts, rows, strict=True):
                if conflict.inspector_id not in known:
                    problems.append(RowProblem("conflicts", None, "inspector_id",
                                               conflict.inspector_id, "unknown inspector"))
                if row < 0:
                    problems.append(RowProblem("conflicts", None, "enterprise_id",
                                               conflict.enterprise_id, "unknown enterprise"))
        if problems:
            raise InvalidInputError(problems, headline="the registry snapshot is inconsistent")
        return cls(enterprises, tuple(officers), tuple(unique_conflicts), history,
                   tuple(sorted(set(planned))))
