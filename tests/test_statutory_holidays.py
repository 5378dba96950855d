"""The statutory holidays by law (《全国年节及纪念日放假办法》 as revised by 国务院令第795号), counted
for a year whose 放假安排 nobody has entered: checked against the lunar calendar itself, and
against the chinesecalendar package's own data for every year it knows under that law."""
from datetime import date, timedelta

import chinese_calendar
import pytest
from lunardate import LunarDate

from engine.statutory_holidays import IN_FORCE_SINCE, days_off_by_law, holiday_by_law
from engine.workdays import package_knows

NAMES = ("元旦", "春节", "清明", "劳动节", "端午", "中秋", "国庆节")


def _by_name(year: int) -> dict[str, list[date]]:
    days: dict[str, list[date]] = {}
    for day, (zh, _en) in days_off_by_law(year).items():
        days.setdefault(zh, []).append(day)
    return days


def test_2027_has_the_eleven_days_the_law_gives_in_seven_holidays():
    assert _by_name(2027) == {
        "元旦": [date(2027, 1, 1)],
        "春节": [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)],
        "清明": [date(2027, 4, 5)],
        "劳动节": [date(2027, 5, 1), date(2027, 5, 2)],
        "端午": [date(2027, 6, 9)],
        "中秋": [date(2027, 9, 15)],
        "国庆节": [date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)],
    }
    assert sum(map(len, _by_name(2027).values())) == 13  # 13 days a year since 2025 (11 before)


@pytest.mark.parametrize("year", range(2027, 2100))
def test_the_lunar_holidays_fall_on_their_lunar_dates(year):
    days = _by_name(year)
    new_year = LunarDate(year, 1, 1).to_solar_date()
    assert days["春节"] == [new_year - timedelta(days=1), new_year, new_year + timedelta(days=1),
                          new_year + timedelta(days=2)]
    assert LunarDate.from_solar_date(*days["春节"][0].timetuple()[:3]).month == 12  # 除夕: the old year's last day
    assert days["端午"] == [LunarDate(year, 5, 5).to_solar_date()]
    assert days["中秋"] == [LunarDate(year, 8, 15).to_solar_date()]
    assert days["清明"][0].month == 4 and 4 <= days["清明"][0].day <= 6
    assert set(days) == set(NAMES)


@pytest.mark.parametrize("year", [y for y in range(IN_FORCE_SINCE, 2100) if package_knows(y)])
def test_every_day_off_by_law_is_a_holiday_in_the_packages_own_data(year):
    """2025 and 2026 (chinesecalendar 1.11.0): the State Council's schedules the package carries
    give every day the law gives, and name it the same."""
    assert days_off_by_law(year)
    for day, (zh, _en) in days_off_by_law(year).items():
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        assert on_holiday, day
        assert chinese_calendar.Holiday(name).chinese == zh, day


def test_the_package_knows_2025_and_2026_under_the_law():
    assert [y for y in (2025, 2026) if package_knows(y)] == [2025, 2026]


def test_the_law_is_not_applied_before_it_was_in_force():
    assert days_off_by_law(2024) == {} and holiday_by_law(date(2003, 1, 1)) is None


def test_a_year_past_the_lunar_tables_keeps_the_days_it_can_place():
    assert set(_by_name(2100)) == {"元旦", "清明", "劳动节", "国庆节"}  # lunardate stops at lunar 2099
    assert set(_by_name(2101)) == {"元旦", "劳动节", "国庆节"}  # and the solar-term formula at 2100
    assert holiday_by_law(date(2027, 10, 2)) == ("国庆节", "National Day")
