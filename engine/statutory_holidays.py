"""The days off the law fixes in advance, for a year whose 放假安排 nobody has entered yet.

《全国年节及纪念日放假办法》, as revised by 国务院令第795号 (in force since 1 January 2025), gives
every citizen these holidays (全体公民放假的节日):

- 元旦 1 day: 1 January;
- 春节 4 days: 农历除夕, 正月初一, 初二, 初三;
- 清明节 1 day: the day of the 清明 solar term;
- 劳动节 2 days: 1 and 2 May;
- 端午节 1 day: 农历五月初五;
- 中秋节 1 day: 农历八月十五;
- 国庆节 3 days: 1, 2 and 3 October.

and 第六条: a holiday falling on a Saturday or Sunday is made up on a working day (补假). This
module makes it up on the first weekday after the holidays that is not off already (a day where
two holidays meet, 中秋 on 3 October, is made up likewise), which is what the yearly notices do
(2021: 国庆 1–3 October, Friday to Sunday, then 4 and 5 October off).

What the State Council announces each November is the arrangement around them: the swapped
working weekends and bridging days (调休), and the make-up days it chooses. So a year counted by
this rule is still a guess (engine/workdays.py marks its deadlines 暂定), only a far better one
than Monday–Friday: New Year's Day and the Spring Festival are no longer working days.

Lunar dates come from the ``lunar-python`` package (MIT; it agrees with the published tables
from 1901 to 2099), the 清明 term from the ``chinesecalendar`` package's solar-term formula
(1900–2100); a holiday the formula cannot place (清明 past 2100) is left out rather than guessed.
Years before 2025 get nothing: the law then gave other days (one day of 春节 fewer, one of 劳动节),
and the chinesecalendar package knows every year from 2004 to 2026 anyway.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Mapping

import chinese_calendar

__all__ = ["IN_FORCE_SINCE", "days_off_by_law", "holiday_by_law"]

IN_FORCE_SINCE = 2025  # 国务院令第795号

# (Chinese, English) as chinese_calendar.Holiday names them, so both read the same on the calendar page
NEW_YEAR = ("元旦", "New Year's Day")
SPRING_FESTIVAL = ("春节", "Spring Festival")
TOMB_SWEEPING = ("清明", "Tomb-sweeping Day")
LABOUR_DAY = ("劳动节", "Labour Day")
DRAGON_BOAT = ("端午", "Dragon Boat Festival")
MID_AUTUMN = ("中秋", "Mid-autumn Festival")
NATIONAL_DAY = ("国庆节", "National Day")


@lru_cache(maxsize=64)
def days_off_by_law(year: int) -> Mapping[date, tuple[str, str]]:
    """{day: (Chinese name, English name)} of every statutory holiday in ``year``, weekends
    included (the law names days, not working days), and the working days that make up those on
    a weekend (补假); empty before `IN_FORCE_SINCE`."""
    if year < IN_FORCE_SINCE:
        return MappingProxyType({})
    holidays = [(date(year, 1, 1), NEW_YEAR),
                (date(year, 5, 1), LABOUR_DAY), (date(year, 5, 2), LABOUR_DAY),
                (date(year, 10, 1), NATIONAL_DAY), (date(year, 10, 2), NATIONAL_DAY), (date(year, 10, 3), NATIONAL_DAY)]
    new_year = _lunar(year, 1, 1)  # 正月初一 falls 21 Jan–20 Feb: 除夕 is in the same year
    holidays += [(new_year + timedelta(days=n), SPRING_FESTIVAL) for n in range(-1, 3)]
    holidays += [(_lunar(year, 5, 5), DRAGON_BOAT), (_lunar(year, 8, 15), MID_AUTUMN)]
    if (tomb_sweeping := _qingming(year)) is not None:
        holidays.append((tomb_sweeping, TOMB_SWEEPING))
    days: dict[date, tuple[str, str]] = {}
    owed: list[tuple[date, tuple[str, str]]] = []  # holidays on a weekend or on another holiday
    for day, name in sorted(holidays):
        if day in days:
            days[day] = (f"{days[day][0]}、{name[0]}", f"{days[day][1]}, {name[1]}")
            owed.append((day, name))
        else:
            days[day] = name
            if day.weekday() >= 5:
                owed.append((day, name))
    for day, (zh, en) in owed:
        while day in days or day.weekday() >= 5:
            day += timedelta(days=1)
        if day.year == year:  # 30 December's make-up day would be next year's guess to make
            days[day] = (f"{zh}补假", f"{en}, made up")
    return MappingProxyType(dict(sorted(days.items())))


def holiday_by_law(day: date, made_up: bool = True) -> tuple[str, str] | None:
    """The statutory holiday ``day`` is, (Chinese, English), or None; with ``made_up=False`` a
    make-up day (补假) is not one: once the office has entered its year, the notice says which
    days make up, and a day it leaves out is a working day."""
    name = days_off_by_law(day.year).get(day)
    return None if name is None or (not made_up and name[0].endswith("补假")) else name


def _lunar(year: int, month: int, day: int) -> date:
    """The solar date of lunar ``month``/``day`` (not a leap month) of lunar ``year``."""
    from lunar_python import Lunar  # 30 ms to import: only when a year nobody entered is counted
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date | None:
    """The day of the 清明 solar term (4 or 5 April, sometimes 6), or None out of the formula's range."""
    try:
        terms = chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 30))
    except NotImplementedError:
        return None
    return next((day for day, name in terms if name == "清明"), None)
