"""The rules an import file's values must follow (DESIGN §4, §10), column by column.

Each parser returns the value or raises ValueError with the reason a planner reads. Before
it, every cell passes one character rule (`models.identifiers`): a code — an id, department,
jurisdiction, task, qualification, industry, tier, result code, date or number — may hold no
invisible character and no space but the ASCII one; free text (names, reasons, remarks) no
control or invisible character. Dates are of the years FIRST_YEAR-LAST_YEAR
(`spotcheck.limits`), and a date recording something that happened is not after the day of
the import (`past_date_parser`: the service passes today). The columns themselves (names,
Chinese aliases, required or not) are declared once in `models.columns`; `COLUMNS` pairs each
with its rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from spotcheck.limits import FIRST_YEAR, LAST_YEAR
from spotcheck.models.columns import IMPORT_COLUMNS
from spotcheck.models.identifiers import (
    ENTERPRISE_JURISDICTION,
    INDUSTRY_CODE,
    INSPECTOR_ID,
    JURISDICTION_PREFIX,
    QUALIFICATION,
    TASK_CODE,
    TIER_NAME,
    code_problem,
    text_problem,
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
    """Return the day written in one of the forms planners type, in a plausible year."""
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            if not FIRST_YEAR <= year <= LAST_YEAR:
                raise ValueError(f"the year {year} is not plausible (a typo?): dates are of the "
                                 f"years {FIRST_YEAR}-{LAST_YEAR}")
            try:
                return date(year, month, day)
            except ValueError:
                raise ValueError(f"{text} is not a day of the calendar") from None
    raise ValueError("not a date; write it as 2028-12-31, 2028/12/31, 20281231 or 2028年12月31日")


def past_date_parser(today: date) -> Callable[[str], date]:
    """Return a parser of the day something happened: not after `today`, the day of the
    import (a date in the future would count as a recent inspection and steer the draw)."""
    def parse(text: str) -> date:
        day = _date(text)
        if day > today:
            raise ValueError(f"{day.isoformat()} is after today ({today.isoformat()}): a "
                             "past inspection cannot be dated in the future (a typo?)")
        return day
    return parse


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


_ROLES = {"officer": "officer", "执法人员": "officer", "expert": "expert", "专家": "expert",
          "auxiliary": "auxiliary", "辅助人员": "auxiliary"}


def _role(text: str) -> str:
    """Return an inspector's role (角色): officer 执法人员, expert 专家 or auxiliary 辅助人员."""
    role = _ROLES.get(text.strip().lower())
    if role is None:
        raise ValueError("a role (角色) is officer (执法人员), expert (专家) or auxiliary "
                         "(辅助人员)")
    return role


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


# Columns of free text; every other column holds codes, dates or numbers.
FREE_TEXT = frozenset(("name", "reason", "remarks"))


@dataclass(frozen=True)
class RuledColumn:
    """A column of an import file (models.columns) with the rule its values follow."""

    name: str
    aliases: tuple[str, ...]
    required: bool  # present and non-empty on every row
    parse: Parser

    def value(self, text: str) -> Any:
        """Return the value of a non-empty cell; raise ValueError saying why it is refused."""
        problem = (text_problem if self.name in FREE_TEXT else code_problem)(text)
        if problem is not None:
            raise ValueError(problem)
        return self.parse(text)


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
        "role": _role,
    },
    "conflicts": {"inspector_id": _INSPECTOR_ID, "enterprise_id": _uscc,
                  "reason": _longest(500, "the reason (回避原因)")},
    "history": {
        "enterprise_id": _uscc,
        "task": _matching(TASK_CODE, "a task code (抽查任务) is 1-32 of A-Z a-z 0-9 _ . -"),
        "department": _longest(64, "the department (部门)"),
        "inspected_on": _date,
        "inspectors": _inspector_list,
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
    try:
        column.value(text)
    except ValueError as exc:
        return str(exc)
    return None
