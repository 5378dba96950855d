"""Chinese working days (工作日) and calendar-month arithmetic.

A working day is decided, in this order, by

1. the admin override table (``True`` = working day, ``False`` = day off),
   which always wins -- it is how a newly announced State Council holiday
   schedule (放假安排) is entered before the ``chinesecalendar`` package
   ships it, or how a local extra day off is recorded;
2. the ``chinesecalendar`` package (statutory holidays and the swapped
   working weekends, 调休);
3. for a year neither of them knows: Monday-Friday less the statutory
   holidays the law fixes in advance (engine/statutory_holidays.py: 元旦,
   春节's four days, 清明, 劳动节, 端午, 中秋, 国庆节), and for a holiday on a
   weekend the next weekday off (补假, as the law's 第六条 demands).  That is
   still a guess -- the swapped working weekends, bridging days and the
   make-up days chosen (调休, 补假) are announced each year -- so a :class:`CalendarWarning` is
   recorded once per year and logged, and deadlines counted so are marked
   暂定 (engine/provisional.py); but nothing raises, because a workflow
   must never crash on a deadline in next year.

Override table and whole years: once *any* override exists for a year,
:meth:`WorkCalendar.covered` reports that year as covered and no fallback
warning is emitted for it, but days not in the table still fall back to
rule 3, without its guessed make-up days (the notice names its own).  An admin entering a year the package does not know must
therefore enter the **full** schedule for that year: every holiday
weekday as ``False`` (the statutory ones too: harmless) and every swapped
working weekend day as ``True``.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from functools import lru_cache
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Mapping, NamedTuple, TypeVar

import chinese_calendar
from dateutil.relativedelta import relativedelta

from .clock import TZ
from .clock import today as local_today
from .statutory_holidays import holiday_by_law

__all__ = ["CalendarWarning", "WorkCalendar", "add_months", "as_local_date"]

log = logging.getLogger(__name__)

_ONE_DAY = timedelta(days=1)
D = TypeVar("D", date, datetime)


class CalendarWarning(NamedTuple):
    """A year whose working days were guessed: statutory holidays and weekends, no 调休."""

    year: int
    message: str


def as_local_date(d: date | datetime) -> date:
    """The business (Asia/Shanghai) date of ``d``.

    A ``datetime`` is a different calendar day in UTC and in Beijing for
    eight hours of every day, so aware values are converted to
    Asia/Shanghai first; naive values are taken as Asia/Shanghai already.
    """
    if isinstance(d, datetime):
        if d.tzinfo is not None and d.tzinfo.utcoffset(d) is not None:
            d = d.astimezone(TZ)
        return d.date()
    if isinstance(d, date):
        return d
    raise TypeError(f"expected a date, got {type(d).__name__}: {d!r}")


def _check_int(n: object, what: str = "n") -> int:
    """Reject bools and floats early: ``True`` working days is a bug."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an integer, got {type(n).__name__}: {n!r}")
    return n


def add_months(d: D, n: int) -> D:
    """``d`` plus ``n`` calendar months, clamped to the month's last day.

    2026-01-31 + 1 month is 2026-02-28 (2024: 02-29), as a civil servant
    reads "一个月内".  Time of day and tzinfo of a datetime are kept.
    """
    if not isinstance(d, date):
        raise TypeError(f"expected a date or datetime, got {type(d).__name__}: {d!r}")
    return d + relativedelta(months=_check_int(n))


# How far ahead people are warned of a year with no holidays entered (`init`, `worker`, 工作台):
# the package gets a new year each November, and deadlines reach months ahead.
CALENDAR_LOOKAHEAD = timedelta(days=90)


def years_in_reach(today: date) -> list[int]:
    """This year and the year `CALENDAR_LOOKAHEAD` on (from 3 October, next year): the years whose
    holidays must be known by `today`, and which people are warned of if nobody entered them."""
    return sorted({today.year, (today + CALENDAR_LOOKAHEAD).year})


def gap_warning(year: int) -> str:
    """What people are told when a deadline reaches a year nobody has entered holidays for (the
    audit trail, the log, and `init`, `worker` and `calendar show` say the same)."""
    return (f"尚无 {year} 年节假日安排，涉及该年的工作日期限暂按法定节假日和周末计算，调休未录入；请用 reformflow calendar import FILE "
            f"--as USER 录入国务院公布的 {year} 年放假和调休安排，或用 reformflow calendar set 逐日录入 (no holiday calendar for {year}: working-day deadlines "
            f"reaching it count the statutory holidays and weekends only, no swapped days; enter the State Council's {year} schedule with "
            f"`reformflow calendar import FILE --as USER`, or day by day with `reformflow calendar set`)")


@contextmanager
def unlogged():
    """Counting without the log's English line for a year nobody entered, where the caller says it
    to people itself, once, in Chinese and English with the command that mends it (`calendar
    show`, `stats`)."""
    was_disabled, log.disabled = log.disabled, True
    try:
        yield
    finally:
        log.disabled = was_disabled


# The log line of a year nobody entered, once a day per process: every command builds its own
# calendar, and `init --demo` on 31 December or a web process in December wrote it once per
# command; the trail still records it on each deadline, and the worker says it daily.
_logged_on: dict[int, date] = {}
_logged_lock = threading.Lock()


def _log_once_a_day(year: int, message: str) -> None:
    if log.disabled or not log.isEnabledFor(logging.WARNING):  # unlogged(): a count whose caller says it itself
        return
    today = local_today()
    with _logged_lock:
        if _logged_on.get(year) == today:
            return
        _logged_on[year] = today
    log.warning(message)


WEEKDAYS_ZH = "一二三四五六日"


@lru_cache(maxsize=8192)
def _package_says(d: date) -> bool | None:
    """The package's answer for ``d``, None for a year it does not know. Cached for the process:
    the package's tables never change while it runs, and one lookup costs ~20 µs, which a
    statistics page counting working days over hundreds of steps paid thousands of times."""
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:
        return None


@lru_cache(maxsize=256)
def package_knows(year: int) -> bool:
    """Whether the chinesecalendar package has ``year``'s holidays (its tables never change while
    the process runs)."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except (NotImplementedError, ValueError):
        return False
    return True


def by_law(d: date, entered: bool = False) -> bool:
    """Whether ``d`` is a working day by the law alone: Monday-Friday less the statutory holidays
    and, in a year nobody ``entered``, the make-up days of those on a weekend (rule 3 of the
    module docstring; an entered notice names its own make-up days)."""
    return d.weekday() < 5 and holiday_by_law(d, made_up=not entered) is None


def before_entries(d: date, entered: bool = False) -> bool:
    """Whether ``d`` is a working day with nothing entered for it: the package's answer, else
    `by_law`, its guessed make-up days only while nothing of the year is ``entered`` (no warning:
    this is what an entry is compared with, not a deadline)."""
    known = _package_says(d)
    return by_law(d, entered) if known is None else known


def pointless_entry(d: date, working: bool) -> tuple[str, str] | None:
    """Why entering ``d`` as a working day is a mistyped date, in Chinese and English, or None.
    上班 on a Monday changes nothing (a notice only ever swaps weekends), and it would still make
    its year count as entered; 上班 on a statutory holiday is what no notice says (the law gives
    every citizen the day off). A day off on a weekend is what a notice says of a holiday's
    weekend (1月1日至3日放假): harmless, and accepted."""
    if not working:
        return None
    if (holiday := holiday_by_law(d, made_up=False)) is not None:
        return (f"{d} 是法定节假日（{holiday[0]}），放假安排不会把它调为上班；请核对日期",
                f"{d} is a statutory holiday ({holiday[1]}): no notice makes it a working day; check the date")
    if not before_entries(d):
        return None
    return (f"{d}（星期{WEEKDAYS_ZH[d.weekday()]}）本来就是工作日，无需录入为上班；请核对日期",
            f"{d} ({d:%A}) is a working day already: check the date")


class WorkCalendar:
    """Decides working days; see the module docstring for the rules."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self._overrides: dict[date, bool] = self._validated(overrides or {})
        self._override_years = frozenset(d.year for d in self._overrides)
        self.warnings: list[CalendarWarning] = []

    @staticmethod
    def _validated(overrides: Mapping[date, bool]) -> dict[date, bool]:
        """Copy the table, refusing datetimes (they would never match a day)
        and non-bool values (``"false"`` is truthy)."""
        table: dict[date, bool] = {}
        for day, working in overrides.items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"override key must be a date, got {day!r}")
            if not isinstance(working, bool):
                raise TypeError(f"override for {day} must be True/False, got {working!r}")
            table[day] = working
        return table

    @property
    def overrides(self) -> Mapping[date, bool]:
        """Read-only view of the admin override table."""
        return MappingProxyType(self._overrides)

    # -- single days ---------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """True if ``d`` is a working day.  Never raises for unknown years."""
        d = as_local_date(d)
        if d in self._overrides:
            return self._overrides[d]
        known = _package_says(d)
        if known is not None:
            return known
        entered = d.year in self._override_years
        if not entered:
            self._warn(d.year)
        return by_law(d, entered)

    def _warn(self, year: int) -> None:
        """Record (once per year) that working days are only a guess."""
        if any(w.year == year for w in self.warnings):
            return
        message = gap_warning(year)
        self.warnings.append(CalendarWarning(year, message))
        _log_once_a_day(year, message)

    def covered(self, year: int) -> bool:
        """True if the package or the override table knows ``year``.

        Overrides count as soon as one entry falls in ``year`` -- an admin
        must enter the year's full holiday and swapped-day schedule.
        """
        return year in self._override_years or package_knows(year)

    # -- counting ------------------------------------------------------

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` not counted).

        ``n == 0`` gives ``start`` if it is a working day, else the next
        working day (a deadline "today" on a holiday rolls forward).
        Negative ``n`` counts backwards, e.g. a reminder 3 working days
        before a deadline.
        """
        day = as_local_date(start)
        n = _check_int(n)
        if n == 0:
            while not self.is_working_day(day):
                day += _ONE_DAY
            return day
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negative if ``end < start``.

        So ``add_working_days(s, k)`` and ``working_days_between(s, that)``
        agree: counting from a date never includes that date itself.
        """
        start, end = as_local_date(start), as_local_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += _ONE_DAY
            count += self.is_working_day(day)
        return count
