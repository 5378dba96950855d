"""A year of the working-day calendar as people read it (`reformflow calendar show YEAR` and the
web page /calendar/YEAR): the days that differ from Monday-Friday, or that the reform office
entered, each with where it comes from — the chinesecalendar package (with the holiday's name),
the law's statutory holidays for a year neither the package nor the office knows
(engine/statutory_holidays.py, with the holiday's name) or the office's entry (with its note) —
and whether the year is known at all."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import chinese_calendar
from sqlalchemy import select

from models import CalendarOverride

from .statutory_holidays import holiday_by_law
from .workdays import WorkCalendar, gap_warning, package_knows, unlogged, years_in_reach


def entries(session) -> dict[date, tuple[bool, str]]:
    """Every day the office entered: {day: (working, note)}."""
    return {o.day: (o.is_working_day, o.note or "")
            for o in session.execute(select(CalendarOverride)).scalars()}


def work_calendar(entered: dict[date, tuple[bool, str]]) -> WorkCalendar:
    """The working-day calendar deadlines see, from the days `entries` read."""
    return WorkCalendar({day: working for day, (working, _note) in entered.items()})


def year_days(entered: dict[date, tuple[bool, str]], year: int) -> dict:
    """{"year", "covered", "days": [{"day", "working", "override", "by_law", "made_up", "note", "holiday"}], "warnings"}:
    `note` is the office's, `holiday` the package's name of the holiday (Chinese, English) or None;
    `by_law` says a day off only because the law makes it a statutory holiday, in a year the
    package does not know (its 调休 not entered, or only part of it), `made_up` that it is the
    weekday the law's rule guesses for a holiday on a weekend (补假), not a holiday itself."""
    cal = work_calendar(entered)
    day, days = date(year, 1, 1), []
    with unlogged():  # the warning below says it, with the command that mends it
        while day.year == year:
            # every entry too, even one the same as Monday-Friday: it still makes the year count as entered
            if cal.is_working_day(day) != (day.weekday() < 5) or day in entered:
                days.append(_day_row(cal, entered, day))
            day += timedelta(days=1)
    covered = cal.covered(year)
    return {"year": year, "covered": covered, "days": days, "warnings": [] if covered else [gap_warning(year)]}


def days_now(entered: dict[date, tuple[bool, str]], days: Iterable[date]) -> dict[date, dict]:
    """What each of `days` counts as now, as a row of `year_days` says it (whether or not that
    lists the day): for the calendar page's import confirmation, which shows each day a file
    changes as it stands before the file is entered — a statutory holiday by law or a guessed
    make-up day, not "nothing entered"."""
    cal = work_calendar(entered)
    with unlogged():  # the page warns of the year itself
        return {day: _day_row(cal, entered, day) for day in days}


def _day_row(cal: WorkCalendar, entered: dict[date, tuple[bool, str]], day: date) -> dict:
    # make-up days are guessed only until the year's notice is entered (any day of it)
    guessing = not any(d.year == day.year for d in entered)
    law = None if day in entered or package_knows(day.year) else holiday_by_law(day, guessing)
    return {"day": day.isoformat(), "working": cal.is_working_day(day), "override": day in entered,
            "by_law": law is not None, "made_up": law is not None and law[0].endswith("补假"),
            "note": entered[day][1] if day in entered else None,
            "holiday": list(law) if law is not None else _holiday(day)}


def missing_in_reach(calendar: WorkCalendar, today: date, also: Iterable[int] = ()) -> list[int]:
    """This year, the year deadlines set today may reach (engine/workdays.py `years_in_reach`) and
    the years `also` (where open deadlines fall), in order, those `calendar` does not cover: nobody
    entered their holidays and the package does not know them. What `init`, the worker and
    `calendar show` warn of, the calendar page of another year and the 工作台 show."""
    return [year for year in sorted({*years_in_reach(today), *also}) if not calendar.covered(year)]


def _holiday(day: date) -> list[str] | None:
    """The package's holiday (or the holiday a swapped working day makes up for), if it knows the day."""
    try:
        _on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # a year the package does not know
        return None
    try:
        holiday = chinese_calendar.Holiday(name) if name else None
    except ValueError:
        return None
    return [holiday.chinese, holiday.value] if holiday is not None else None
