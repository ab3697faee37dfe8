"""Working days (工作日) by the State Council's holiday schedule, with 调休 make-up days.

A result must be published within N working days of its inspection (DESIGN §10). Which days
are working days is fixed each year by the General Office of the State Council: public
holidays, and weekend days made working days (调休) to bridge them. spotcheck takes the
schedule from the `chinesecalendar` package, which carries exactly those notices year by year
and refuses a year it has no notice for; a bureau can supply a calendar file for a year the
package lacks (or to correct one), which then replaces the package for that year.

`holidays` (python-holidays) was compared and not chosen: for a year without a published
notice it silently projects the holidays and omits the make-up working days, so a deadline
computed from it can be wrong by several days without any sign. Here a date in a year that
neither the package nor the calendar file knows is an error naming the year, never a guess.

Calendar file (TOML), one table per year; a year listed here is complete — its days not
listed are working days Monday to Friday and rest days at weekends::

    [2027]
    source = "国务院办公厅关于2027年部分节假日安排的通知"
    holidays = ["2027-01-01", "2027-02-06", …]   # rest days that fall Monday to Friday
    workdays = ["2027-02-14", …]                 # 调休: weekend days that are working days
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from spotcheck.errors import InvalidInputError, SpotcheckError
from spotcheck.limits import POLICY_BYTES, read_bounded

MAX_WORKING_DAYS = 366


class UnknownYearError(SpotcheckError):
    """No holiday schedule is known for a year a deadline reaches into."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"the State Council holiday schedule of {year} is not known to spotcheck (the "
            f"chinesecalendar package has no {year} notice): supply it with --calendar FILE "
            f"(a [{year}] table of holidays and 调休 workdays, see docs/PUBLISH.md)")


@dataclass(frozen=True)
class YearSchedule:
    """One year's rest days on weekdays and working days at weekends."""

    holidays: frozenset[date]
    workdays: frozenset[date]

    def is_working_day(self, day: date) -> bool:
        """Return whether `day` (of this year) is a working day."""
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays


def _package_is_working_day(day: date) -> bool:
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise UnknownYearError(day.year) from None


@dataclass(frozen=True)
class WorkCalendar:
    """Working days: the bureau's calendar file where it has the year, else the package."""

    years: Mapping[int, YearSchedule]

    @classmethod
    def default(cls) -> WorkCalendar:
        """Return the calendar of the package alone."""
        return cls({})

    @classmethod
    def from_file(cls, path: str | Path | None) -> WorkCalendar:
        """Return the calendar with a bureau's calendar file (None: the package alone)."""
        if path is None:
            return cls.default()
        return cls(read_calendar_file(Path(path)))

    def is_working_day(self, day: date) -> bool:
        """Return whether `day` is a working day; UnknownYearError if its year is unknown."""
        schedule = self.years.get(day.year)
        if schedule is not None:
            return schedule.is_working_day(day)
        return _package_is_working_day(day)

    def add_working_days(self, start: date, count: int) -> date:
        """Return the `count`-th working day after `start` (`start` itself never counts)."""
        if not 0 < count <= MAX_WORKING_DAYS:
            raise InvalidInputError(f"working days: {count} is not within 1-{MAX_WORKING_DAYS}")
        day, left = start, count
        while left:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day


def _dates(name: str, year: int, key: str, values: object) -> frozenset[date]:
    if not isinstance(values, list):
        raise InvalidInputError(f"{name}: [{year}] {key} must be a list of dates")
    days: set[date] = set()
    for value in values:
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            raise InvalidInputError(f"{name}: [{year}] {key}: {str(value)[:40]!r} is not a "
                                    "date (YYYY-MM-DD)") from None
        if day.year != year:
            raise InvalidInputError(f"{name}: [{year}] {key}: {day} is not in {year}")
        days.add(day)
    return frozenset(days)


def read_calendar_file(path: Path) -> dict[int, YearSchedule]:
    """Return the year schedules of a calendar file, refusing anything it cannot mean."""
    data = read_bounded(path, POLICY_BYTES, "calendar file", InvalidInputError)
    try:
        raw = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        raise InvalidInputError(f"{path}: not a readable calendar file (TOML): "
                                f"{'nested too deeply' if isinstance(exc, RecursionError) else exc}"
                                ) from None
    years: dict[int, YearSchedule] = {}
    for key, table in sorted(raw.items()):
        if not (key.isascii() and key.isdigit() and len(key) == 4) or not isinstance(table,
                                                                                      dict):
            raise InvalidInputError(f"{path}: [{key}] is not a year table such as [2027]")
        unknown = sorted(set(table) - {"source", "holidays", "workdays"})
        if unknown:
            raise InvalidInputError(f"{path}: [{key}] has unknown key(s) {unknown}")
        year = int(key)
        holidays = _dates(path.name, year, "holidays", table.get("holidays", []))
        workdays = _dates(path.name, year, "workdays", table.get("workdays", []))
        both = sorted(holidays & workdays)
        if both:
            raise InvalidInputError(f"{path}: [{key}] lists {both[0]} as holiday and workday")
        years[year] = YearSchedule(holidays, workdays)
    return years
