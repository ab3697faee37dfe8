"""The rules an import file's values must follow (DESIGN §4, §10), column by column.

Each parser returns the value or raises ValueError with the reason a planner reads. The
columns themselves (names, Chinese aliases, required or not) are declared once in
`models.columns`; `COLUMNS` pairs each with its rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from spotcheck.models.columns import IMPORT_COLUMNS
from spotcheck.models.identifiers import (
    CONTROL,
    ENTERPRISE_JURISDICTION,
    INDUSTRY_CODE,
    INSPECTOR_ID,
    JURISDICTION_PREFIX,
    QUALIFICATION,
    TASK_CODE,
    TIER_NAME,
    uscc_problem,
)
from spotcheck.models.policy import RESULT_CODE

Parser = Callable[[str], Any]


def _uscc(text: str) -> str:
    """Return a valid unified social credit code unchanged; raise saying why it is not."""
    problem = uscc_problem(text)
    if problem is None:
        return text
    if uscc_problem(text.upper()) is None:
        # DESIGN §4: an invalid code is rejected, never "fixed" — but say what is wrong.
        problem += "; codes are written in upper case"
    raise ValueError(problem)


def _matching(pattern: re.Pattern[str], reason: str) -> Callable[[str], str]:
    """Return a parser accepting text that fully matches `pattern`, refusing with `reason`."""
    def parse(text: str) -> str:
        if not pattern.fullmatch(text):
            raise ValueError(reason)
        return text
    return parse


def _longest(limit: int, what: str) -> Callable[[str], str]:
    """Return a parser accepting text of at most `limit` characters."""
    def parse(text: str) -> str:
        if len(text) > limit:
            raise ValueError(f"{what} is longer than {limit} characters")
        return text
    return parse


def _capacity(text: str) -> int:
    """Return a quarterly capacity (季度检查上限) as a non-negative whole number."""
    if not re.fullmatch(r"-?[0-9]+", text):
        raise ValueError("capacity (季度检查上限) must be a whole number of visits, such as 12")
    value = int(text)
    if value < 0:
        raise ValueError("capacity must be 0 or more")
    if value > 100_000:
        raise ValueError("capacity must be at most 100000")
    return value


_DATE_FORMS = tuple(re.compile(form) for form in (
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})",
    r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})",   # how Excel in a Chinese locale writes dates
    r"([0-9]{4})([0-9]{2})([0-9]{2})",
    r"([0-9]{4})年([0-9]{1,2})月([0-9]{1,2})日",
))


def _date(text: str) -> date:
    """Return the day written in one of the forms planners type."""
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise ValueError(f"{text} is not a day of the calendar") from None
    raise ValueError("not a date; write it as 2028-12-31, 2028/12/31, 20281231 or 2028年12月31日")


_QUALIFICATION_SEPARATORS = re.compile(r"[;,、；，]")


def _qualifications(text: str) -> tuple[str, ...]:
    """Return the qualifications (执法领域) listed in one cell."""
    items = tuple(item.strip() for item in _QUALIFICATION_SEPARATORS.split(text))
    for item in items:
        if item and not QUALIFICATION.fullmatch(item):
            raise ValueError(f"qualification {item!r} has a space or is over 64 characters; "
                             "separate qualifications (执法领域) with ; 、 or ,")
    # An empty item comes from a trailing or doubled separator, which planners type freely.
    return tuple(item for item in items if item)


def _result_codes(text: str) -> tuple[str, ...]:
    """Return the result codes (检查结果) of one cell, sorted and distinct."""
    codes = [item.strip() for item in _QUALIFICATION_SEPARATORS.split(text)]
    bad = [c for c in codes if c and not RESULT_CODE.fullmatch(c)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a result code (1-8 letters or digits; separate "
                         "codes with ; 、 or ,)")
    found = tuple(sorted({c for c in codes if c}))
    if not found:
        raise ValueError("no result code; write one such as 1 (未发现问题) or A")
    return found


def _inspector_list(text: str) -> tuple[str, ...]:
    """Return the inspectors (实际检查人员) of one cell: certificate numbers, sorted, distinct."""
    items = [item.strip() for item in _QUALIFICATION_SEPARATORS.split(text)]
    bad = [i for i in items if i and not INSPECTOR_ID.fullmatch(i)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a certificate number (执法证号: 1-32 letters, "
                         "digits or '-'); separate them with ; 、 or ,")
    return tuple(sorted({i for i in items if i}))


def tier_parser(tiers: Collection[str] | None) -> Callable[[str], str]:
    """Return a parser accepting the policy's tiers, or any tier name when none are given."""
    if tiers is None:
        return _matching(TIER_NAME, "a tier (信用风险分类) is a letter such as A, B, C or D")
    defined = frozenset(tiers)
    listing = ", ".join(sorted(defined))

    def parse(text: str) -> str:
        if text not in defined:
            raise ValueError(f"tier {text!r} is not defined in the policy, which defines {listing}")
        return text
    return parse


@dataclass(frozen=True)
class RuledColumn:
    """A column of an import file (models.columns) with the rule its values follow."""

    name: str
    aliases: tuple[str, ...]
    required: bool  # present and non-empty on every row
    parse: Parser


_INSPECTOR_ID = _matching(INSPECTOR_ID, "a certificate number (执法证号) is 1-32 letters, "
                          "digits or '-'")

# Each kind's value rules, by column name.
VALUE_RULES: dict[str, dict[str, Parser]] = {
    "enterprises": {
        "enterprise_id": _uscc,
        "name": _longest(200, "the name (企业名称)"),
        "jurisdiction": _matching(ENTERPRISE_JURISDICTION, "an enterprise's jurisdiction "
                                  "(行政区划代码) is a 6-digit GB/T 2260 code such as 330102"),
        "industry": _matching(INDUSTRY_CODE, "an industry code (行业代码) is up to 8 letters "
                              "and digits, such as C3411"),
        "tier": tier_parser(None),
    },
    "inspectors": {
        "inspector_id": _INSPECTOR_ID,
        "name": _longest(100, "the name (姓名)"),
        "department": _longest(64, "the department (部门)"),
        "jurisdiction": _matching(JURISDICTION_PREFIX, "an inspector's jurisdiction (管辖区划) "
                                  "is a GB/T 2260 prefix of 1-6 digits, such as 3301"),
        "qualifications": _qualifications,
        "capacity": _capacity,
        "certificate_expiry": _date,
    },
    "conflicts": {"inspector_id": _INSPECTOR_ID, "enterprise_id": _uscc, "reason": str},
    "history": {
        "enterprise_id": _uscc,
        "task": _matching(TASK_CODE, "a task code (抽查任务) is 1-32 of A-Z a-z 0-9 _ . -"),
        "department": str,
        "inspected_on": _date,
    },
    "results": {
        "enterprise_id": _uscc,
        "task": _matching(TASK_CODE, "a task code (抽查任务编号) is 1-32 of A-Z a-z 0-9 _ . -"),
        "completed_on": _date,
        "result": _result_codes,
        "remarks": _longest(2000, "the remarks (备注)"),
        "inspectors": _inspector_list,
    },
}

COLUMNS: dict[str, tuple[RuledColumn, ...]] = {
    kind: tuple(RuledColumn(c.name, c.aliases, c.required, VALUE_RULES[kind][c.name])
                for c in columns)
    for kind, columns in IMPORT_COLUMNS.items()}

EMPTY = "the value is empty; this column is required"


def reason(column: RuledColumn, text: str) -> str | None:
    """Return why `text` is refused in `column`, or None if it is accepted."""
    if not text:
        return EMPTY if column.required else None
    if CONTROL.search(text):
        return "control characters and line breaks (Alt+Enter in Excel) are not allowed"
    try:
        column.parse(text)
    except ValueError as exc:
        return str(exc)
    return None
