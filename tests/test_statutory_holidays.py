"""The statutory holidays by law (《全国年节及纪念日放假办法》 as revised by 国务院令第795号), counted
for a year whose 放假安排 nobody has entered: checked against published lunar dates, against the
law's make-up rule (第六条), and against the chinesecalendar package's own data for every year it
knows under that law."""
from datetime import date, timedelta

import chinese_calendar
import pytest

from engine.statutory_holidays import IN_FORCE_SINCE, days_off_by_law, holiday_by_law
from engine.workdays import package_knows

NAMES = ("元旦", "春节", "清明", "劳动节", "端午", "中秋", "国庆节")

# 正月初一, 端午 and 中秋 as the almanacs print them (Hong Kong Observatory's tables agree)
PUBLISHED = {
    2027: ("2027-02-06", "2027-06-09", "2027-09-15"), 2028: ("2028-01-26", "2028-05-28", "2028-10-03"),
    2029: ("2029-02-13", "2029-06-16", "2029-09-22"), 2030: ("2030-02-03", "2030-06-05", "2030-09-12"),
    2031: ("2031-01-23", "2031-06-24", "2031-10-01"), 2032: ("2032-02-11", "2032-06-12", "2032-09-19"),
    2033: ("2033-01-31", "2033-06-01", "2033-09-08"), 2034: ("2034-02-19", "2034-06-20", "2034-09-27"),
    2035: ("2035-02-08", "2035-06-10", "2035-09-16"),
}


def _by_name(year: int) -> dict[str, list[date]]:
    """The days each holiday names (a day where two meet under both), make-up days apart."""
    days: dict[str, list[date]] = {}
    for day, (zh, _en) in days_off_by_law(year).items():
        for name in zh.split("、"):
            days.setdefault(name, []).append(day)
    return days


def test_2027_has_the_thirteen_days_of_seven_holidays_and_the_weekend_ones_made_up():
    assert _by_name(2027) == {
        "元旦": [date(2027, 1, 1)],
        "春节": [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)],
        "春节补假": [date(2027, 2, 9), date(2027, 2, 10)],  # 初一 and 初二 are a Saturday and a Sunday
        "清明": [date(2027, 4, 5)],
        "劳动节": [date(2027, 5, 1), date(2027, 5, 2)],
        "劳动节补假": [date(2027, 5, 3), date(2027, 5, 4)],
        "端午": [date(2027, 6, 9)],
        "中秋": [date(2027, 9, 15)],
        "国庆节": [date(2027, 10, 1), date(2027, 10, 2), date(2027, 10, 3)],
        "国庆节补假": [date(2027, 10, 4), date(2027, 10, 5)],
    }
    assert sum(len(days) for name, days in _by_name(2027).items() if name in NAMES) == 13
    assert holiday_by_law(date(2027, 10, 4)) == ("国庆节补假", "National Day, made up")


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_the_lunar_holidays_fall_on_the_published_dates(year):
    new_year, dragon_boat, mid_autumn = map(date.fromisoformat, PUBLISHED[year])
    days = _by_name(year)
    assert days["春节"] == [new_year + timedelta(days=n) for n in range(-1, 3)]  # 除夕 to 初三
    assert days["端午"] == [dragon_boat] and days["中秋"] == [mid_autumn]
    assert days["清明"][0].month == 4 and 4 <= days["清明"][0].day <= 6


def test_two_holidays_on_one_day_keep_both_names_and_the_day_is_made_up():
    """2028: 中秋 is 3 October, a 国庆节 day, and 1 October a Sunday: two days owed, 4 and 5 October."""
    assert holiday_by_law(date(2028, 10, 3)) == ("中秋、国庆节", "Mid-autumn Festival, National Day")
    assert [d.day for d, (zh, _) in days_off_by_law(2028).items() if zh == "国庆节补假"] == [4, 5]


@pytest.mark.parametrize("year", range(2027, 2100))
def test_every_holiday_on_a_weekend_or_on_another_is_made_up_on_a_weekday_of_its_own(year):
    days = days_off_by_law(year)
    held = [(day, name) for day, (zh, _) in days.items() if not zh.endswith("补假") for name in zh.split("、")]
    on_weekdays = {day for day, _ in held if day.weekday() < 5}
    made_up = [day for day, (zh, _) in days.items() if zh.endswith("补假")]
    assert len(made_up) == len(held) - len(on_weekdays)  # a weekday holds one holiday, the rest are owed
    assert all(day.weekday() < 5 for day in made_up)
    assert set(_by_name(year)) >= set(NAMES)


@pytest.mark.parametrize("year", [y for y in range(IN_FORCE_SINCE, 2100) if package_knows(y)])
def test_every_day_off_by_law_is_a_holiday_in_the_packages_own_data(year):
    """2025 and 2026 (chinesecalendar 1.11.0): the State Council's schedules the package carries
    give every day the law gives, under the same name, and every day this module makes up."""
    assert days_off_by_law(year)
    for day, (zh, _en) in days_off_by_law(year).items():
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        assert on_holiday, day
        assert chinese_calendar.Holiday(name).chinese == zh.removesuffix("补假"), day


def test_the_package_knows_2025_and_2026_under_the_law():
    assert [y for y in (2025, 2026) if package_knows(y)] == [2025, 2026]


def test_the_law_is_not_applied_before_it_was_in_force():
    assert days_off_by_law(2024) == {} and holiday_by_law(date(2003, 1, 1)) is None


def test_a_year_past_the_solar_term_formula_keeps_the_days_it_can_place():
    assert set(_by_name(2100)) >= set(NAMES)
    assert set(_by_name(2101)) >= set(NAMES) - {"清明"}  # chinesecalendar's formula stops at 2100
    assert holiday_by_law(date(2027, 10, 2)) == ("国庆节", "National Day")
