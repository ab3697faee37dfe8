"""Quarters (YYYYQn) and the calendar arithmetic the cooldown rule needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from spotcheck.errors import InvalidInputError

_QUARTER = re.compile(r"([0-9]{4})Q([1-4])")


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    """A calendar quarter such as 2026Q4."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Return the quarter written as YYYYQn, or raise naming the value."""
        match = _QUARTER.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None or int(match.group(1)) < 1900:
            raise InvalidInputError(f"quarter {text!r}: expected YYYYQn with n in 1-4, e.g. 2026Q4")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def start(self) -> date:
        """Return the first day of the quarter."""
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        """Return the last day of the quarter."""
        if self.number == 4:
            return date(self.year, 12, 31)
        return date(self.year, 3 * self.number + 1, 1) - timedelta(days=1)

    def months_before_start(self, months: int) -> date:
        """Return the first day of the month `months` months before the quarter starts."""
        index = self.year * 12 + (3 * self.number - 3) - months
        return date(index // 12, index % 12 + 1, 1)
